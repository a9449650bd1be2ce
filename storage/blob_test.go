package storage_test

import (
	"bytes"
	"strings"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/storage"
)

// TestMemBlob runs the contract on a bucket a program opened and passed
// in: Go Cloud's memblob, served as s3://mem.
func TestMemBlob(t *testing.T) {
	testContract(t, func(t *testing.T) (*storage.Storage, string) {
		b := memblob.OpenBucket(nil)
		t.Cleanup(func() { b.Close() })
		return storage.New(storage.Options{Buckets: map[string]*blob.Bucket{"s3://mem": b}}), "s3://mem/base/"
	})
}

// TestUnservedScheme: a URI no bucket and no provider serves is an error
// that says so, not a relative path.
func TestUnservedScheme(t *testing.T) {
	s := storage.New(storage.Options{})
	for _, uri := range []string{"s3://b/k", "gs://b/k"} {
		_, err := s.ReadFile(t.Context(), uri)
		if err == nil || !strings.Contains(err.Error(), "scheme") && !strings.Contains(err.Error(), "no S3 access") {
			t.Errorf("ReadFile(%q): err = %v, want one naming what serves nothing", uri, err)
		}
	}
}

// TestServerSideCopyBetweenBuckets: between two S3 buckets a copy is
// CopyObject (Go Cloud's API copies within a bucket only).
func TestServerSideCopyBetweenBuckets(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	s := storage.New(testenv.StorageOptions(endpoint))
	defer s.Close()
	ctx := t.Context()
	src := "s3://" + testenv.NewBucket(t, endpoint) + "/in/a b+ü.jpg"
	dst := "s3://" + testenv.NewBucket(t, endpoint) + "/out/dt=2026-11-28/r1/0.jpg"
	want := []byte("photo")
	if err := s.WriteFile(ctx, src, want); err != nil {
		t.Fatal(err)
	}
	if err := s.Copy(ctx, dst, src); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadFile(ctx, dst)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile(%q) = %q, %v; want %q", dst, got, err, want)
	}
}

// TestFolder runs the contract on a bucket served from a local folder.
func TestFolder(t *testing.T) {
	testContract(t, func(t *testing.T) (*storage.Storage, string) {
		return storage.New(storage.Options{Folders: map[string]string{"s3://demo": t.TempDir()}}), "s3://demo/base/"
	})
}
