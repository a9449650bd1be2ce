package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/errgroup"
)

// These tests check the benchmark harness, not reviewlens: that the fake S3
// speaks enough S3 to the SDK, configured as internal/storage configures it
// (path style, SigV4, the SDK's default checksum behaviour), and that its
// delay is paid per request but concurrently. They use the real clock; the
// delay is what they measure.

const testDelay = 20 * time.Millisecond

// newClient returns an S3 client for endpoint as internal/storage makes one
// for an --endpoint-url: path style, signed, the checksum settings that
// config.LoadDefaultConfig gives (s3.New alone would leave them unset), and
// enough idle connections for 64 requests at once.
func newClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = 256
			t.MaxIdleConnsPerHost = 256
		}),
	})
}

// noDelay asks the server to skip its delay (honoured for PUT only).
func noDelay(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(NoDelayHeader, "1"))
}

func startServer(t *testing.T) (*handler, *s3.Client) {
	t.Helper()
	h := newHandler(testDelay)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := newClient(srv.URL)
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("bench")}, noDelay); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return h, c
}

func TestS3(t *testing.T) {
	h, c := startServer(t)
	ctx := t.Context()
	bucket := aws.String("bench")

	// More than one list page: S3 and gofakes3 give 1000 keys a page.
	const n = 1001
	key := func(i int) string { return fmt.Sprintf("transform/dt=2026-11-28/r-%06d/0.jpg.out", i) }
	body := func(i int) []byte { return fmt.Appendf(nil, `{"prediction": [%d]}`, i) }
	var g errgroup.Group
	g.SetLimit(64)
	for i := range n {
		g.Go(func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key(i)), Body: bytes.NewReader(body(i))}, noDelay)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("put: %v", err)
	}
	if got, want := h.skipped.Load(), int64(n+1); got != want {
		t.Errorf("%d requests skipped the delay, want %d (the bucket and the puts)", got, want)
	}

	var keys []string
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("transform/dt=2026-11-28/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("list page %d: %v", pages+1, err)
		}
		pages++
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
			if got, want := aws.ToInt64(o.Size), int64(len(body(len(keys)-1))); got != want {
				t.Errorf("list: %s has size %d, want %d", aws.ToString(o.Key), got, want)
			}
		}
	}
	if got, want := pages, 2; got != want {
		t.Errorf("listing %d keys took %d pages, want %d", n, got, want)
	}
	if len(keys) != n {
		t.Fatalf("listed %d keys, want %d", len(keys), n)
	}
	for i, k := range keys {
		if k != key(i) {
			t.Fatalf("listed key %d is %q, want %q", i, k, key(i))
		}
	}

	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key(7))})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if want := body(7); !bytes.Equal(got, want) {
		t.Errorf("get %s = %q, want %q", key(7), got, want)
	}
	// The SDK sent a CRC32 with the PUT; gofakes3 gives it back and the SDK
	// checked it against the body.
	if out.ChecksumCRC32 == nil {
		t.Errorf("get %s: no CRC32 came back, so the SDK validated nothing", key(7))
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(key(7))})
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	if got, want := aws.ToInt64(head.ContentLength), int64(len(body(7))); got != want {
		t.Errorf("head %s: size %d, want %d", key(7), got, want)
	}

	// internal/storage maps these two codes to ErrNotExist.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("missing")})
	if code := errorCode(err); code != "NoSuchKey" {
		t.Errorf("get missing: err = %v, want NoSuchKey", err)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("missing")})
	if code := errorCode(err); code != "NotFound" {
		t.Errorf("head missing: err = %v, want NotFound", err)
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestDelayIsConcurrent checks that every read waits the delay and that 64
// at once wait it together: the whole batch takes about one delay, not 64.
func TestDelayIsConcurrent(t *testing.T) {
	h, c := startServer(t)
	ctx := t.Context()
	bucket, key := aws.String("bench"), aws.String("x.out")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader([]byte("x"))}, noDelay); err != nil {
		t.Fatal(err)
	}
	get := func() error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: key})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		_, err = io.Copy(io.Discard, out.Body)
		return err
	}

	start := time.Now()
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < testDelay {
		t.Errorf("one GET took %v, want at least the %v delay", d, testDelay)
	}

	// 64 GETs at once must wait their delays together: count the requests
	// waiting at the same moment rather than time the batch, which a loaded
	// machine would make flaky. Serial, at most one would be waiting.
	const concurrent = 64
	var g errgroup.Group
	for range concurrent {
		g.Go(get)
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := h.mostWaiting.Load(); got < 8 {
		t.Errorf("at most %d of %d concurrent GETs were waiting their delay at once, want them waiting together", got, concurrent)
	}
}

// TestOnlyPutSkipsDelay checks that the no-delay header does not speed up
// reads.
func TestOnlyPutSkipsDelay(t *testing.T) {
	h, c := startServer(t)
	ctx := t.Context()
	before := h.skipped.Load()
	start := time.Now()
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bench"), Key: aws.String("missing")}, noDelay)
	if code := errorCode(err); code != "NotFound" {
		t.Errorf("head missing: err = %v, want NotFound", err)
	}
	if d := time.Since(start); d < testDelay {
		t.Errorf("HEAD with %s took %v, want at least the %v delay", NoDelayHeader, d, testDelay)
	}
	if got := h.skipped.Load(); got != before {
		t.Errorf("a HEAD skipped the delay")
	}
}
