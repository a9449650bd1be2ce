// Package s3 opens S3 buckets for package storage: a storage.Provider of
// s3:// URIs, through Go Cloud's s3blob on one aws-sdk-go-v2 client that
// this package configures — the standard credential chain, the SDK's
// standard retryer, bounded network waits (internal awsnet: a stalled
// server fails a call within its I/O timeout, and the call is retried),
// many idle connections, path-style addressing when an endpoint such as a
// moto_server is given — and server-side copies between buckets
// (CopyObject), which Go Cloud's API leaves out.
//
//	st := storage.New(storage.Options{Schemes: map[string]storage.Provider{
//		"s3": s3.NewProvider(s3.Options{Region: "eu-west-1"}),
//	}})
package s3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/reviewlens/reviewlens/internal/awsnet"
	"github.com/reviewlens/reviewlens/storage"
)

// Options configure a Provider. The zero value uses the standard AWS
// configuration chain.
type Options struct {
	// Region overrides the AWS region. Empty means the standard AWS config
	// chain (AWS_REGION, else the profile's region in ~/.aws/config).
	Region string

	// EndpointURL overrides the S3 endpoint, e.g. "http://127.0.0.1:5055"
	// for moto_server. When set, S3 is addressed path-style
	// ("http://host/bucket/key"), which moto and most S3 look-alikes need.
	EndpointURL string

	// IOTimeout bounds each wait of a call for the network (a connection,
	// the next bytes of a response); 0 means 20 s. A call that stalls is
	// retried by the SDK's retryer, then fails with a timeout error.
	IOTimeout time.Duration

	// Logger receives the SDK's log lines, at debug (warnings at warn).
	// Nil means slog.Default().
	Logger *slog.Logger
}

// A Provider opens S3 buckets on one client, made on first use.
type Provider struct {
	opts Options
	log  *slog.Logger

	mu     sync.Mutex
	client *awss3.Client
}

var (
	_ storage.Provider     = (*Provider)(nil)
	_ storage.ServerCopier = (*Provider)(nil)
)

// NewProvider returns a Provider. It does no I/O.
func NewProvider(opts Options) *Provider {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Provider{opts: opts, log: log}
}

// Client returns the S3 client, creating it on first use. A failure is not
// remembered, so a later call (with a live ctx, say) retries.
func (p *Provider) Client(ctx context.Context) (*awss3.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		return p.client, nil
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return retry.NewStandard() }),
		config.WithLogger(sdkLogger{log: p.log}),
		config.WithHTTPClient(awsnet.NewHTTPClient(p.opts.IOTimeout)),
	}
	if p.opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(p.opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	p.client = awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if p.opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(p.opts.EndpointURL)
			o.UsePathStyle = true
		}
	})
	p.log.Debug("storage: S3 client ready", "region", cfg.Region, "endpoint", p.opts.EndpointURL)
	return p.client, nil
}

// OpenBucket opens the bucket name through s3blob. It does no I/O.
func (p *Provider) OpenBucket(ctx context.Context, name string) (*blob.Bucket, error) {
	c, err := p.Client(ctx)
	if err != nil {
		return nil, err
	}
	return s3blob.OpenBucket(ctx, c, name, nil)
}

// CopyObject copies srcBucket's srcKey to dstBucket's dstKey on the
// server side: no bytes pass through this process (S3 limits a single
// CopyObject to 5 GiB).
func (p *Provider) CopyObject(ctx context.Context, dstBucket, dstKey, srcBucket, srcKey string) error {
	c, err := p.Client(ctx)
	if err != nil {
		return err
	}
	source := escapeCopySource(srcBucket + "/" + srcKey)
	_, err = c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: &dstBucket, Key: &dstKey, CopySource: &source})
	return copyError(err)
}

// copyError makes S3's "no such source" an ErrNotExist, as the rest of
// package storage does.
func copyError(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return notExist{err}
		}
	}
	return err
}

type notExist struct{ err error }

func (e notExist) Error() string        { return e.err.Error() }
func (e notExist) Unwrap() error        { return e.err }
func (e notExist) Is(target error) bool { return target == storage.ErrNotExist }

// escapeCopySource URL-encodes "bucket/key" for CopyObject's CopySource,
// which S3 URL-decodes (the SDK sends it as given). Everything but RFC 3986
// unreserved characters and '/' is percent-encoded, as in SigV4's URI
// encoding: url.PathEscape would leave '+' alone, which some S3
// implementations decode as a space.
func escapeCopySource(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		}
	}
	return b.String()
}

// sdkLogger passes the SDK's log lines to the Provider's logger, so that
// the command's handler and level decide what is shown. Left alone, the
// SDK writes them to stderr (for example a DEBUG line for every GetObject
// response that carries no checksum, as from moto).
type sdkLogger struct {
	log *slog.Logger
	ctx context.Context // nil until WithContext
}

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	ctx := l.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, "aws sdk: "+fmt.Sprintf(format, v...))
	}
}

func (l sdkLogger) WithContext(ctx context.Context) logging.Logger {
	return sdkLogger{log: l.log, ctx: ctx}
}

var _ logging.ContextLogger = sdkLogger{}
