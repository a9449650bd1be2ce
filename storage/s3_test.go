package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/storage"
)

// TestS3 runs the contract against moto_server through the real SDK client,
// with a new bucket for every test.
func TestS3(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	testContract(t, func(t *testing.T) (*storage.Storage, string) {
		return storage.New(testenv.StorageOptions(endpoint)), "s3://" + testenv.NewBucket(t, endpoint) + "/"
	})
}

func TestS3MultipartETag(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	s := storage.New(testenv.StorageOptions(endpoint))
	uri := "s3://" + testenv.NewBucket(t, endpoint) + "/big.bin"
	data := randomBytes(5, 20<<20)
	if err := s.Put(t.Context(), uri, struct{ io.Reader }{bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
	o, err := s.Stat(t.Context(), uri)
	if err != nil {
		t.Fatal(err)
	}
	// A stream of unknown length above the transfer manager's 16 MiB
	// threshold goes up in 5 MiB parts, so memory stays bounded; a
	// multipart ETag is "<md5 of part md5s>-<parts>": 20 MiB is 4 parts.
	if !strings.HasSuffix(o.ETag, `-4"`) {
		t.Errorf("Stat(%q).ETag = %s, want a 4-part multipart ETag", uri, o.ETag)
	}
}

// TestS3CancelledPutAbortsUpload checks that a multipart upload cut short by
// a cancelled context is aborted, not left holding parts.
func TestS3CancelledPutAbortsUpload(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	s := storage.New(testenv.StorageOptions(endpoint))
	bucket := testenv.NewBucket(t, endpoint)
	uri := "s3://" + bucket + "/cancelled.bin"

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := &cancellingReader{r: bytes.NewReader(randomBytes(6, 12<<20)), after: 7 << 20, cancel: cancel}
	if err := s.Put(ctx, uri, struct{ io.Reader }{r}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with cancelled context: err = %v, want context.Canceled", err)
	}

	c := testenv.S3Client(t, endpoint)
	out, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range out.Uploads {
		t.Errorf("multipart upload of %s (id %s) left in progress", *u.Key, *u.UploadId)
	}
	if _, err := s.Stat(t.Context(), uri); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Stat after cancelled Put: err = %v, want ErrNotExist", err)
	}
}

// TestCopyBetweenBackends copies local → S3 → local, which streams rather
// than using CopyObject.
func TestCopyBetweenBackends(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	s := storage.New(testenv.StorageOptions(endpoint))
	ctx := t.Context()
	dir := t.TempDir()
	local, remote, back := filepath.Join(dir, "a b+ü.txt"), "s3://"+testenv.NewBucket(t, endpoint)+"/x y+ü/c.txt", filepath.Join(dir, "back", "c.txt")
	want := []byte("across backends")
	if err := s.WriteFile(ctx, local, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Copy(ctx, remote, local); err != nil {
		t.Fatal(err)
	}
	if err := s.Copy(ctx, back, remote); err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{remote, back} {
		got, err := s.ReadFile(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%q) = %q, want %q", uri, got, want)
		}
	}
}

// TestS3MissingBucket checks that a missing bucket is reported as itself,
// not as a missing object: it is a configuration mistake.
func TestS3MissingBucket(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	s := storage.New(testenv.StorageOptions(endpoint))
	uri := "s3://no-such-bucket-reviewlens/k"
	_, err := s.ReadFile(t.Context(), uri)
	if err == nil {
		t.Fatalf("ReadFile(%q) succeeded", uri)
	}
	if errors.Is(err, storage.ErrNotExist) {
		t.Errorf("ReadFile(%q): err = %v, want not ErrNotExist", uri, err)
	}
	if !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("ReadFile(%q): err = %v, want it to say NoSuchBucket", uri, err)
	}
}
