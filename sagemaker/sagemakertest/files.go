package sagemakertest

import (
	"context"
	"fmt"
	"io/fs"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"

	rlsm "github.com/reviewlens/reviewlens/sagemaker"
)

var _ rlsm.Files = (*Files)(nil)

// Files is an in-memory sagemaker.Files: a map from URI to contents, for
// tests of the step functions (Tune, Transform) that need no S3. A test
// puts the step's inputs in it, and, from Fake.OnTransformEnd, a transform
// job's outputs. The zero value is empty and ready to use; a Files is safe
// for use by many goroutines.
type Files struct {
	mu    sync.Mutex
	files map[string][]byte
}

// NewFiles returns an empty Files.
func NewFiles() *Files { return &Files{} }

// ReadFile returns a copy of the file at uri, or an error satisfying
// errors.Is(err, fs.ErrNotExist).
func (f *Files) ReadFile(ctx context.Context, uri string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data, ok := f.files[uri]
	if !ok {
		return nil, fmt.Errorf("read %s: %w", uri, fs.ErrNotExist)
	}
	return slices.Clone(data), nil
}

// WriteFile stores a copy of data at uri.
func (f *Files) WriteFile(ctx context.Context, uri string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.Put(uri, data)
	return nil
}

// ListURIs yields the URIs that start with prefix, sorted.
func (f *Files) ListURIs(ctx context.Context, prefix string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := ctx.Err(); err != nil {
			yield("", err)
			return
		}
		for _, uri := range f.URIs() {
			if strings.HasPrefix(uri, prefix) && !yield(uri, nil) {
				return
			}
		}
	}
}

// Put stores a copy of data at uri, for a test to arrange inputs.
func (f *Files) Put(uri string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.files == nil {
		f.files = map[string][]byte{}
	}
	f.files[uri] = slices.Clone(data)
}

// URIs returns every URI stored, sorted.
func (f *Files) URIs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.files))
}
