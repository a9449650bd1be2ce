package storage

import (
	"context"
	"errors"
	"io"
	"iter"
	"path/filepath"
	"strings"
)

// folderBucket serves a bucket URI prefix ("s3://demo") from a local
// folder, through the local files' own atomic writes: for a run on one
// machine (the local backend, the demo) that uses the same s3:// URIs as
// production. Keys are paths under the folder; a key that would leave it
// ("..") is refused.
type folderBucket struct {
	dir  string // the folder, absolute and clean
	root string // "s3://demo/"
}

var _ bucket = folderBucket{}

func (f folderBucket) path(key string) (string, error) {
	p := filepath.Join(f.dir, filepath.FromSlash(key))
	if p != f.dir && !strings.HasPrefix(p, f.dir+string(filepath.Separator)) {
		return "", errors.New("the key leaves the bucket's folder")
	}
	return p, nil
}

func (f folderBucket) open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := f.path(key)
	if err != nil {
		return nil, err
	}
	return localBucket{}.open(ctx, p)
}

func (f folderBucket) put(ctx context.Context, key string, r io.Reader) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	return localBucket{}.put(ctx, p, r)
}

func (f folderBucket) stat(ctx context.Context, key string) (Object, error) {
	p, err := f.path(key)
	if err != nil {
		return Object{}, err
	}
	o, err := localBucket{}.stat(ctx, p)
	o.URI = f.root + key
	return o, err
}

func (f folderBucket) delete(ctx context.Context, key string) error {
	p, err := f.path(key)
	if err != nil {
		return err
	}
	return localBucket{}.delete(ctx, p)
}

func (f folderBucket) list(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		p := f.dir + string(filepath.Separator) + filepath.FromSlash(prefix)
		for o, err := range (localBucket{}).list(ctx, p) {
			if err != nil {
				yield(Object{}, err)
				return
			}
			rel := strings.TrimPrefix(o.URI, f.dir+string(filepath.Separator))
			o.URI = f.root + filepath.ToSlash(rel)
			if !yield(o, nil) {
				return
			}
		}
	}
}
