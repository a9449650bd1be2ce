package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// tempPrefix starts the name of every temporary file that localBucket.put
// writes. List skips such files.
const tempPrefix = ".reviewlens-tmp-"

// localBucket stores objects as files. Keys are paths, used as given
// (relative to the working directory unless absolute).
type localBucket struct {
	scheme string // "" for plain paths, "file://" when the URI used it
}

func (l localBucket) open(ctx context.Context, path string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, pathErr(err, path)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, pathErr(err, path)
	}
	if fi.IsDir() {
		f.Close()
		return nil, errIsDir
	}
	return f, nil
}

// errIsDir reports a directory where an object was asked for. Like S3, which
// has no directories, it counts as "not found".
var errIsDir = fmt.Errorf("is a directory: %w", ErrNotExist)

func (l localBucket) put(ctx context.Context, path string, r io.Reader) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if base == "" {
		return errors.New("path ends in a separator")
	}
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return err
	}
	// CreateTemp makes the file 0600; objects are world-readable like
	// other files, 0644.
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: some
// filesystems and platforms cannot sync a directory, and the rename itself
// has already happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

func (l localBucket) stat(ctx context.Context, path string) (Object, error) {
	if err := ctx.Err(); err != nil {
		return Object{}, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Object{}, pathErr(err, path)
	}
	if fi.IsDir() {
		return Object{}, errIsDir
	}
	return Object{URI: l.scheme + path, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// list walks the directory part of prefix (everything up to its last
// separator) and keeps the files whose path starts with prefix. Paths are
// built as that directory part, verbatim, plus the path below it, so that a
// prefix like "./out/a" yields "./out/a1" rather than a cleaned "out/a1".
func (l localBucket) list(ctx context.Context, prefix string) iter.Seq2[Object, error] {
	return func(yield func(Object, error) bool) {
		dirPart := prefix[:strings.LastIndexByte(prefix, filepath.Separator)+1]
		root := dirPart
		if root == "" {
			root = "."
		}
		var objs []Object
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root && errors.Is(err, fs.ErrNotExist) {
					return fs.SkipAll // nothing under a missing directory
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			if rel == "." {
				return nil
			}
			name := dirPart + rel
			if d.IsDir() {
				// Descend only where the prefix can still match.
				dname := name + string(filepath.Separator)
				if strings.HasPrefix(dname, prefix) || strings.HasPrefix(prefix, dname) {
					return nil
				}
				return fs.SkipDir
			}
			if !strings.HasPrefix(name, prefix) || strings.HasPrefix(d.Name(), tempPrefix) {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed since the directory was read
				}
				return pathErr(err, p)
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				// A symlink counts if it points at a file.
				if fi, err = os.Stat(p); err != nil {
					return nil
				}
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
			objs = append(objs, Object{URI: l.scheme + name, Size: fi.Size(), ModTime: fi.ModTime()})
			return nil
		})
		if err != nil {
			yield(Object{}, err)
			return
		}
		// WalkDir's order is not URI order ("a/b" is walked before "a-c"
		// although '-' sorts before '/'); S3 lists in byte order, so do we.
		slices.SortFunc(objs, func(a, b Object) int { return cmp.Compare(a.URI, b.URI) })
		for _, o := range objs {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func (l localBucket) delete(ctx context.Context, path string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return pathErr(err, path)
	}
	if fi.IsDir() {
		return errIsDir
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pathErr(err, path)
	}
	return nil
}

// pathErr drops the *fs.PathError wrapper when its path is the object's
// own, whose operation and path would repeat what Storage's wrapping says
// ("open x: open x: ..."). An error about another path (a parent directory,
// a temporary file) keeps it.
func pathErr(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err
	}
	return err
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
