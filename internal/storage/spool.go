package storage

import (
	"bufio"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A Spool holds the files of an output folder until they are all written,
// then publishes them, each atomically, in the order given: a step writes
// its files there and publishes its summary last, so that a folder with a
// summary is complete. For a local folder the spool is a hidden folder
// inside it and publishing is a rename; for S3 it is a local temporary
// folder and publishing uploads.
type Spool struct {
	dir    string
	local  string // the local output folder, or ""
	remote string // the S3 output folder, or ""
	open   map[string]*SpoolFile
}

// A SpoolFile is a buffered file of a Spool.
type SpoolFile struct {
	f *os.File
	*bufio.Writer
}

// NewSpool starts a spool for the output folder out (a URI).
func NewSpool(out string) (*Spool, error) {
	sp := &Spool{open: map[string]*SpoolFile{}}
	parent := ""
	if IsS3(out) {
		sp.remote = out
	} else {
		local := strings.TrimPrefix(out, "file://")
		if err := os.MkdirAll(local, 0o755); err != nil {
			return nil, err
		}
		sp.local, parent = local, local
	}
	dir, err := os.MkdirTemp(parent, ".reviewlens-spool-")
	if err != nil {
		return nil, err
	}
	sp.dir = dir
	return sp, nil
}

// Path is the local path of the spooled file name.
func (sp *Spool) Path(name string) string { return filepath.Join(sp.dir, name) }

// Create opens the spooled file name for writing; CloseFiles closes it.
func (sp *Spool) Create(name string) (*SpoolFile, error) {
	f, err := os.Create(sp.Path(name))
	if err != nil {
		return nil, err
	}
	sf := &SpoolFile{f: f, Writer: bufio.NewWriterSize(f, 256<<10)}
	sp.open[name] = sf
	return sf, nil
}

// CloseFiles flushes and closes every file opened with Create.
func (sp *Spool) CloseFiles() error {
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(sp.open)) {
		sf := sp.open[n]
		errs = append(errs, sf.Flush(), sf.f.Close())
	}
	sp.open = map[string]*SpoolFile{}
	return errors.Join(errs...)
}

// WriteFile writes the spooled file name with write.
func (sp *Spool) WriteFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(sp.Path(name))
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Publish moves the spooled files into the output folder, in the order
// given, each whole or not at all.
func (sp *Spool) Publish(ctx context.Context, store *Storage, names ...string) error {
	for _, n := range names {
		if sp.local != "" {
			if err := syncFile(sp.Path(n)); err != nil {
				return err
			}
			if err := os.Rename(sp.Path(n), filepath.Join(sp.local, n)); err != nil {
				return err
			}
			continue
		}
		if err := store.PutFile(ctx, Join(sp.remote, n), sp.Path(n)); err != nil {
			return err
		}
	}
	return nil
}

// Discard removes the spool and whatever was not published.
func (sp *Spool) Discard() {
	for _, sf := range sp.open {
		sf.f.Close()
	}
	os.RemoveAll(sp.dir)
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
