package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/reviewlens/reviewlens/internal/awsnet"
)

// s3API lists the S3 operations this package calls. *s3.Client satisfies it.
type s3API interface {
	manager.UploadAPIClient
	s3.ListObjectsV2APIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	CopyObject(context.Context, *s3.CopyObjectInput, ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ s3API = (*s3.Client)(nil)

// s3Client is the S3 client and uploader shared by every bucket of a Storage.
type s3Client struct {
	api      s3API
	uploader *manager.Uploader
}

// client returns the Storage's S3 client, creating it on first use. A
// failure is not remembered, so a later call (with a live ctx, say) retries.
func (s *Storage) client(ctx context.Context) (*s3Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s3 != nil {
		return s.s3, nil
	}
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return retry.NewStandard() }),
		config.WithLogger(sdkLogger{log: s.log}),
		// Bounded waits, and many idle connections kept (see awsnet).
		config.WithHTTPClient(awsnet.NewHTTPClient(s.opts.IOTimeout)),
	}
	if s.opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(s.opts.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	api := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if s.opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(s.opts.EndpointURL)
			o.UsePathStyle = true
		}
	})
	s.s3 = &s3Client{
		api:      api,
		uploader: manager.NewUploader(abortDespiteCancel{api, s.log}),
	}
	s.log.Debug("storage: S3 client ready", "region", cfg.Region, "endpoint", s.opts.EndpointURL)
	return s.s3, nil
}

// abortDespiteCancel makes the uploader's AbortMultipartUpload outlive the
// upload's context. The uploader aborts with the context it was given, so
// when an upload fails because that context was cancelled the abort fails
// too, and the parts already sent stay stored (and billed) until a
// lifecycle rule removes them. The object never appears either way.
type abortDespiteCancel struct {
	manager.UploadAPIClient
	log *slog.Logger
}

// abortTimeout bounds the abort of a failed multipart upload.
const abortTimeout = 30 * time.Second

func (c abortDespiteCancel) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, opts ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	out, err := c.UploadAPIClient.AbortMultipartUpload(ctx, in, opts...)
	if err != nil {
		// The uploader drops this error; say it here.
		c.log.Warn("storage: abort multipart upload failed; its parts stay stored until removed",
			"bucket", aws.ToString(in.Bucket), "key", aws.ToString(in.Key),
			"upload_id", aws.ToString(in.UploadId), "err", err)
	}
	return out, err
}

// sdkLogger passes the SDK's log lines to the Storage's logger, so that the
// command's handler and level decide what is shown. Left alone, the SDK
// writes them to stderr (for example a DEBUG line for every GetObject
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

// s3Bucket is one S3 bucket. It is cheap: Storage makes one per call.
type s3Bucket struct {
	c    *s3Client
	name string
}

func (b *s3Bucket) uri(key string) string { return s3Scheme + b.name + "/" + key }

func (b *s3Bucket) open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := b.c.api.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		return nil, s3Error(err)
	}
	return out.Body, nil
}

// put uploads r to key; see Storage.Put for why no temporary key is used.
func (b *s3Bucket) put(ctx context.Context, key string, r io.Reader) error {
	_, err := b.c.uploader.Upload(ctx, &s3.PutObjectInput{Bucket: &b.name, Key: &key, Body: r})
	if err != nil {
		return s3Error(err)
	}
	return nil
}

func (b *s3Bucket) stat(ctx context.Context, key string) (Object, error) {
	out, err := b.c.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		return Object{}, s3Error(err)
	}
	return Object{
		URI:     b.uri(key),
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: aws.ToTime(out.LastModified),
		ETag:    aws.ToString(out.ETag),
	}, nil
}

func (b *s3Bucket) list(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		p := s3.NewListObjectsV2Paginator(b.c.api, &s3.ListObjectsV2Input{Bucket: &b.name, Prefix: &prefix})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield(Object{}, s3Error(err))
				return
			}
			for _, o := range page.Contents {
				obj := Object{
					URI:     b.uri(aws.ToString(o.Key)),
					Size:    aws.ToInt64(o.Size),
					ModTime: aws.ToTime(o.LastModified),
					ETag:    aws.ToString(o.ETag),
				}
				if !yield(obj, nil) {
					return
				}
			}
		}
	}
}

// copyFrom copies src's srcKey to key in b on the server side.
func (b *s3Bucket) copyFrom(ctx context.Context, key string, src *s3Bucket, srcKey string) error {
	source := escapeCopySource(src.name + "/" + srcKey)
	_, err := b.c.api.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b.name, Key: &key, CopySource: &source})
	if err != nil {
		return s3Error(err)
	}
	return nil
}

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

func (b *s3Bucket) delete(ctx context.Context, key string) error {
	_, err := b.c.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		return s3Error(err)
	}
	return nil
}

// s3Error translates S3's ways of saying "not found" to ErrNotExist, keeping
// the SDK's message (operation, status, request ID) for people. GetObject
// says NoSuchKey; HeadObject, whose response has no body, says NotFound.
// A missing bucket (NoSuchBucket) is not translated: it is a configuration
// mistake, not a missing object. HeadObject cannot tell the two apart.
func s3Error(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return notExistError{err}
		}
	}
	return err
}

// notExistError is an S3 error that means "not found".
type notExistError struct{ err error }

func (e notExistError) Error() string        { return e.err.Error() }
func (e notExistError) Unwrap() error        { return e.err }
func (e notExistError) Is(target error) bool { return target == ErrNotExist }
