package storage

import (
	"context"
	"errors"
	"io"
	"iter"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// blobBucket is a Go Cloud bucket: one a program opened (Options.Buckets)
// or one a Provider opened.
type blobBucket struct {
	b    *blob.Bucket
	root string // "s3://name/": what a key is appended to, to make a URI
	// provider and name are set when a Provider opened the bucket, for
	// server-side copies between its buckets.
	provider Provider
	name     string
}

func (b *blobBucket) uri(key string) string { return b.root + key }

func (b *blobBucket) open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := b.b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, blobError(err)
	}
	return blobReader{r}, nil
}

// blobReader translates the errors of a reader's body too.
type blobReader struct{ r *blob.Reader }

func (r blobReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = blobError(err)
	}
	return n, err
}

func (r blobReader) Close() error { return r.r.Close() }

// put writes r to key: the object appears when the writer closes, and a
// write that fails is aborted (its context cancelled before Close), so
// nothing appears.
func (b *blobBucket) put(ctx context.Context, key string, r io.Reader) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.b.NewWriter(wctx, key, &blob.WriterOptions{
		ContentType: "application/octet-stream",
		// Streams of unknown length go up in parts of 5 MiB, a few at a
		// time: memory stays bounded (S3 allows 10,000 parts, so about
		// 48 GiB a stream).
		BufferSize:     5 << 20,
		MaxConcurrency: 5,
	})
	if err != nil {
		return blobError(err)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		w.Close()
		return blobError(err)
	}
	if err := w.Close(); err != nil {
		return blobError(err)
	}
	return nil
}

func (b *blobBucket) stat(ctx context.Context, key string) (Object, error) {
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return Object{}, blobError(err)
	}
	return Object{URI: b.uri(key), Size: a.Size, ModTime: a.ModTime, ETag: a.ETag}, nil
}

func (b *blobBucket) list(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		it := b.b.List(&blob.ListOptions{Prefix: prefix})
		for {
			o, err := it.Next(ctx)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Object{}, blobError(err))
				return
			}
			if o.IsDir {
				continue
			}
			if !yield(Object{URI: b.uri(o.Key), Size: o.Size, ModTime: o.ModTime}, nil) {
				return
			}
		}
	}
}

func (b *blobBucket) delete(ctx context.Context, key string) error {
	err := b.b.Delete(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil
	}
	return blobError(err)
}

// copyFrom copies src's srcKey to key in b without the bytes passing
// through this process, when it can: within one bucket (the bucket's own
// copy), or between two buckets of a Provider that is a ServerCopier. It
// reports false when it cannot, for the caller to stream the object.
func (b *blobBucket) copyFrom(ctx context.Context, key string, src *blobBucket, srcKey string) (bool, error) {
	// The provider's own copy first: s3blob's Copy escapes the source key
	// with url.QueryEscape, which S3 reads back wrong for a key with '+'
	// or a space.
	if sc, ok := b.provider.(ServerCopier); ok && src.provider == b.provider {
		return true, blobError(sc.CopyObject(ctx, b.name, key, src.name, srcKey))
	}
	if src.b == b.b {
		return true, blobError(b.b.Copy(ctx, key, srcKey, nil))
	}
	return false, nil
}

// blobError translates a bucket's "not found" to ErrNotExist, keeping the
// bucket's message (for S3: operation, status, request ID) for people.
func blobError(err error) error {
	if err == nil {
		return nil
	}
	// A missing bucket is a mistake of configuration, not a missing
	// object, though Go Cloud calls both NotFound.
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && coded.ErrorCode() == "NoSuchBucket" {
		return err
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return notExistError{err}
	}
	return err
}

// notExistError is a bucket's error that means "not found".
type notExistError struct{ err error }

func (e notExistError) Error() string        { return e.err.Error() }
func (e notExistError) Unwrap() error        { return e.err }
func (e notExistError) Is(target error) bool { return target == ErrNotExist }
