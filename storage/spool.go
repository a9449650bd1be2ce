package storage

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
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
	lock   *os.File // held while the spool lives: see RemoveDeadSpools
}

// spoolPrefix starts the name of every spool folder, and lockName is the
// file in it that its run holds locked.
const (
	spoolPrefix = ".reviewlens-spool-"
	lockName    = ".lock"
)

// spoolGrace is how old a spool without a lock must be to be taken for
// dead: a live run creates its lock right after its folder.
const spoolGrace = time.Minute

// A SpoolFile is a buffered file of a Spool.
type SpoolFile struct {
	f *os.File
	*bufio.Writer
}

// NewSpool starts a spool for the output folder out (a URI). It first
// removes the spools that runs which died (killed, out of memory) left
// where this one goes: in out when it is local, in the temporary folder
// otherwise.
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
	RemoveDeadSpools(cmp.Or(parent, os.TempDir()))
	dir, err := os.MkdirTemp(parent, spoolPrefix)
	if err != nil {
		return nil, err
	}
	sp.dir = dir
	lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if ok, err := lockFile(lock); !ok && !errors.Is(err, errors.ErrUnsupported) {
		lock.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lock spool %s: %v", dir, err)
	}
	sp.lock = lock
	return sp, nil
}

// RemoveDeadSpools removes the spool folders in dir whose run is over: no
// process holds its lock (the lock dies with its process, however it
// dies), or it has no lock and is older than a minute. Spools of live
// runs are left alone. It is best effort: what cannot be removed stays.
func RemoveDeadSpools(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if spoolDead(path) {
			os.RemoveAll(path)
		}
	}
}

func spoolDead(path string) bool {
	f, err := os.OpenFile(filepath.Join(path, lockName), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		fi, err := os.Stat(path)
		return err == nil && time.Since(fi.ModTime()) > spoolGrace
	}
	if err != nil {
		return false
	}
	defer f.Close() // releases the lock taken below
	ok, _ := lockFile(f)
	return ok
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
	if sp.lock != nil {
		sp.lock.Close()
		sp.lock = nil
	}
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
