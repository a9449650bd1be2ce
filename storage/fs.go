package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// FS lists the objects under the folder dir (a URI: an S3 prefix or a local
// folder) once, and returns them as a read-only fs.FS for code that reads
// files from an fs.FS and knows nothing of S3: names are the objects' keys
// relative to dir, with '/' between elements, and "folders" are the key
// prefixes. With under, only the objects below dir/under[i]/ are listed (a
// large folder need not be listed whole).
//
// The listing is a snapshot: objects added later are not seen. A file is
// fetched when it is first read, under ctx; the FS is safe for concurrent
// use. A key that is not a valid fs.FS name (empty elements, "." or "..")
// cannot be opened and is left out.
func (s *Storage) FS(ctx context.Context, dir string, under ...string) (fs.FS, error) {
	dir = strings.TrimSuffix(dir, "/")
	if len(under) == 0 {
		under = []string{""}
	}
	lf := &listFS{ctx: ctx, s: s, dir: dir}
	for _, u := range under {
		prefix := Join(dir, u) + "/"
		if u == "" {
			prefix = dir + "/"
		}
		for o, err := range s.List(ctx, prefix) {
			if err != nil {
				return nil, err
			}
			name := strings.TrimPrefix(o.URI, dir+"/")
			if !fs.ValidPath(name) || name == "." {
				continue
			}
			lf.files = append(lf.files, listed{name: name, size: o.Size, mod: o.ModTime, uri: o.URI})
		}
	}
	slices.SortFunc(lf.files, func(a, b listed) int { return strings.Compare(a.name, b.name) })
	lf.files = slices.CompactFunc(lf.files, func(a, b listed) bool { return a.name == b.name })
	return lf, nil
}

type listed struct {
	name, uri string
	size      int64
	mod       time.Time
}

// listFS is the fs.FS of a listing: files sorted by name.
type listFS struct {
	ctx   context.Context
	s     *Storage
	dir   string
	files []listed
}

var (
	_ fs.ReadDirFS  = (*listFS)(nil)
	_ fs.ReadFileFS = (*listFS)(nil)
	_ fs.StatFS     = (*listFS)(nil)
)

// find returns the file called name, or whether name is a folder (a prefix
// of some file's name).
func (f *listFS) find(name string) (file *listed, isDir bool) {
	if name == "." {
		return nil, true
	}
	i, ok := slices.BinarySearchFunc(f.files, name, func(l listed, n string) int { return strings.Compare(l.name, n) })
	if ok {
		return &f.files[i], false
	}
	j, _ := slices.BinarySearchFunc(f.files, name+"/", func(l listed, n string) int { return strings.Compare(l.name, n) })
	return nil, j < len(f.files) && strings.HasPrefix(f.files[j].name, name+"/")
}

func (f *listFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	file, isDir := f.find(name)
	switch {
	case file != nil:
		return &listFile{fs: f, l: file}, nil
	case isDir:
		entries, err := f.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &listDir{name: name, entries: entries}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func (f *listFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	file, isDir := f.find(name)
	switch {
	case file != nil:
		return fileInfo{l: file}, nil
	case isDir:
		return dirInfo(path.Base(name)), nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (f *listFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	file, isDir := f.find(name)
	switch {
	case file != nil:
		return f.s.ReadFile(f.ctx, file.uri)
	case isDir:
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
}

// ReadDir lists a folder in name order, like os.ReadDir.
func (f *listFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	prefix := name + "/"
	if name == "." {
		prefix = ""
	}
	i, _ := slices.BinarySearchFunc(f.files, prefix, func(l listed, n string) int { return strings.Compare(l.name, n) })
	var out []fs.DirEntry
	for ; i < len(f.files) && strings.HasPrefix(f.files[i].name, prefix); i++ {
		rest := f.files[i].name[len(prefix):]
		if sub, _, ok := strings.Cut(rest, "/"); ok {
			if n := len(out); n == 0 || out[n-1].Name() != sub {
				out = append(out, fs.FileInfoToDirEntry(dirInfo(sub)))
			}
			continue
		}
		out = append(out, fs.FileInfoToDirEntry(fileInfo{l: &f.files[i]}))
	}
	if out == nil {
		if file, isDir := f.find(name); file != nil || !isDir {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
		}
	}
	// Keys sort "a-b/x" before "a/x" but a folder's entries sort by name
	// ("a" before "a-b"), as os.ReadDir does.
	slices.SortStableFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	out = slices.CompactFunc(out, func(a, b fs.DirEntry) bool { return a.Name() == b.Name() && a.IsDir() && b.IsDir() })
	return out, nil
}

type fileInfo struct{ l *listed }

func (fi fileInfo) Name() string       { return path.Base(fi.l.name) }
func (fi fileInfo) Size() int64        { return fi.l.size }
func (fi fileInfo) Mode() fs.FileMode  { return 0o444 }
func (fi fileInfo) ModTime() time.Time { return fi.l.mod }
func (fi fileInfo) IsDir() bool        { return false }
func (fi fileInfo) Sys() any           { return nil }

type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o555 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }

// listFile is an object opened from a listFS, fetched on its first Read.
type listFile struct {
	fs *listFS
	l  *listed
	rc io.ReadCloser
}

func (lf *listFile) Stat() (fs.FileInfo, error) { return fileInfo{l: lf.l}, nil }

func (lf *listFile) Read(p []byte) (int, error) {
	if lf.rc == nil {
		rc, err := lf.fs.s.Open(lf.fs.ctx, lf.l.uri)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", lf.l.name, err)
		}
		lf.rc = rc
	}
	return lf.rc.Read(p)
}

func (lf *listFile) Close() error {
	if lf.rc == nil {
		return nil
	}
	return lf.rc.Close()
}

// listDir is a folder opened from a listFS.
type listDir struct {
	name    string
	entries []fs.DirEntry
	off     int
}

func (d *listDir) Stat() (fs.FileInfo, error) { return dirInfo(path.Base(d.name)), nil }
func (d *listDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}
func (d *listDir) Close() error { return nil }

func (d *listDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.off += n
	return rest[:n], nil
}
