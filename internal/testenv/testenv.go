// Package testenv connects tests to the throwaway services that
// scripts/test-services.sh starts (today moto_server for S3), and skips
// tests that need a service when it is not running.
//
// Run tests that use it through the script, as `make test` does:
//
//	scripts/test-services.sh go test ./...
//
// # Environment
//
// REVIEWLENS_TEST_MOTO_ENDPOINT holds the moto_server URL
// ("http://127.0.0.1:PORT"). When it is unset, S3Endpoint skips the test, or
// fails it when CI=true, because CI must not pass by skipping.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/reviewlens/reviewlens/storage"
	s3store "github.com/reviewlens/reviewlens/storage/s3"
)

// MotoEndpointEnv names the variable that holds the moto_server URL.
const MotoEndpointEnv = "REVIEWLENS_TEST_MOTO_ENDPOINT"

// Region is the region every test talks to moto in. moto keeps state per
// region (taken from the request's SigV4 credential scope), so helpers and
// code under test must agree on it.
const Region = "us-east-1"

// fakeCreds are the static credentials requests to moto are signed with.
// moto routes unsigned requests to S3 whatever they were meant for, so
// requests are always signed; any key is accepted.
var fakeCreds = map[string]string{
	"AWS_ACCESS_KEY_ID":     "test",
	"AWS_SECRET_ACCESS_KEY": "test",
	"AWS_REGION":            Region,
}

// S3Endpoint returns the moto_server endpoint, or skips tb when moto is not
// running (fails it when CI=true).
//
// Code under test builds its AWS config from the standard chain (see
// StorageOptions), so S3Endpoint also makes sure that chain finds fake
// credentials and a region: any of AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_REGION that is unset is set with tb.Setenv for the test. The
// script exports all three, so under it nothing is set and tests may call
// t.Parallel; without it, call S3Endpoint before t.Parallel (tb.Setenv
// panics in parallel tests).
func S3Endpoint(tb testing.TB) string {
	tb.Helper()
	endpoint := os.Getenv(MotoEndpointEnv)
	if endpoint == "" {
		const msg = "moto_server not running (" + MotoEndpointEnv + " unset); run make test"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	for k, v := range fakeCreds {
		if os.Getenv(k) == "" {
			tb.Setenv(k, v)
		}
	}
	return endpoint
}

// StorageOptions returns storage options that point S3 at the moto endpoint
// in Region. Credentials come from the environment (see S3Endpoint).
func StorageOptions(endpoint string) storage.Options {
	return storage.Options{Schemes: map[string]storage.Provider{
		"s3": s3store.NewProvider(s3store.Options{Region: Region, EndpointURL: endpoint}),
	}}
}

// S3Client returns an S3 client for the moto endpoint, signed with static
// fake credentials, in Region, path style. It reads no environment or
// ~/.aws file. Use it to arrange or inspect state behind the code under
// test.
func S3Client(tb testing.TB, endpoint string) *s3.Client {
	tb.Helper()
	return s3.New(s3.Options{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
	})
}

// NewBucket creates an empty bucket with a unique name on moto and returns
// the name. The name starts with the test's name, for reading moto's log.
// The bucket and its objects are deleted when the test ends.
func NewBucket(tb testing.TB, endpoint string) string {
	tb.Helper()
	c := S3Client(tb, endpoint)
	name := bucketName(tb.Name())
	if _, err := c.CreateBucket(tb.Context(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		tb.Fatalf("create bucket %s on %s: %v", name, endpoint, err)
	}
	tb.Cleanup(func() {
		// tb.Context() is already cancelled here.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := deleteBucket(ctx, c, name); err != nil {
			tb.Logf("delete bucket %s: %v", name, err)
		}
	})
	return name
}

// bucketName makes a valid bucket name (3–63 of [a-z0-9-], starting and
// ending with a letter or digit) from a test name and 8 random hex digits.
func bucketName(testName string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(testName) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	const suffixLen = 1 + 8 // "-" and 8 hex digits
	base := strings.Trim(b.String(), "-")
	if len(base) > 63-suffixLen {
		base = strings.TrimRight(base[:63-suffixLen], "-")
	}
	if base == "" {
		base = "test"
	}
	var r [4]byte
	rand.Read(r[:])
	return base + "-" + hex.EncodeToString(r[:])
}

// deleteBucket empties and deletes a bucket, a thousand objects a request.
func deleteBucket(ctx context.Context, c *s3.Client, name string) error {
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &name})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		if len(page.Contents) == 0 {
			continue
		}
		ids := make([]types.ObjectIdentifier, len(page.Contents))
		for i, o := range page.Contents {
			ids[i] = types.ObjectIdentifier{Key: o.Key}
		}
		if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &name,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}); err != nil {
			return err
		}
	}
	_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name})
	return err
}
