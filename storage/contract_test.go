package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/storage"
)

// harness gives one test a Storage and a fresh, empty base URI to work
// under: a directory for local storage, "s3://<new bucket>/" for S3. Every
// object a test makes is named storage.Join(base, name).
type harness func(t *testing.T) (s *storage.Storage, base string)

// testContract checks what every backend of storage.Storage must do, in the
// manner of Go Cloud's blob/drivertest: written once, run against the local
// filesystem and against S3 (moto) by the tests that call it.
func testContract(t *testing.T, h harness) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, h) })
	t.Run("PutReplaces", func(t *testing.T) { testPutReplaces(t, h) })
	t.Run("PutFile", func(t *testing.T) { testPutFile(t, h) })
	t.Run("PutAtomic", func(t *testing.T) { testPutAtomic(t, h) })
	t.Run("PutCancelled", func(t *testing.T) { testPutCancelled(t, h) })
	t.Run("PutLargeUnknownLength", func(t *testing.T) { testPutLarge(t, h) })
	t.Run("Stat", func(t *testing.T) { testStat(t, h) })
	t.Run("NotExist", func(t *testing.T) { testNotExist(t, h) })
	t.Run("List", func(t *testing.T) { testList(t, h) })
	t.Run("ListMany", func(t *testing.T) { testListMany(t, h) })
	t.Run("ListStopsEarly", func(t *testing.T) { testListStopsEarly(t, h) })
	t.Run("Copy", func(t *testing.T) { testCopy(t, h) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, h) })
}

// awkwardNames are object names that break naive URL handling.
var awkwardNames = []string{
	"plain.txt",
	"nested/deep/x.jpg",
	"with space.jpg",
	"plus+sign.jpg",
	"percent%20not-a-space.jpg",
	"ünïcødé/日本語 🙂.jpg",
	"mixed dir+/a b+c%2Fd ü.jpg",
}

func testRoundTrip(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	for i, name := range awkwardNames {
		t.Run(name, func(t *testing.T) {
			uri := storage.Join(base, name)
			want := []byte(fmt.Sprintf("object %d: %s", i, name))
			if err := s.WriteFile(ctx, uri, want); err != nil {
				t.Fatal(err)
			}
			got, err := s.ReadFile(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadFile(%q) mismatch (-want +got):\n%s", uri, diff)
			}

			rc, err := s.Open(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Open(%q) mismatch (-want +got):\n%s", uri, diff)
			}
		})
	}

	t.Run("empty object", func(t *testing.T) {
		uri := storage.Join(base, "empty")
		if err := s.Put(ctx, uri, strings.NewReader("")); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadFile(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("ReadFile(%q) = %q, want empty", uri, got)
		}
	})
}

func testPutReplaces(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	uri := storage.Join(base, "x.txt")
	for _, data := range []string{"first, longer version", "second"} {
		if err := s.WriteFile(ctx, uri, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadFile(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(got), data; got != want {
			t.Errorf("ReadFile after WriteFile(%q) = %q", want, got)
		}
	}
}

func testPutFile(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	want := randomBytes(1, 100<<10)
	local := filepath.Join(t.TempDir(), "spool.bin")
	if err := os.WriteFile(local, want, 0o644); err != nil {
		t.Fatal(err)
	}
	uri := storage.Join(base, "out", "spooled.bin")
	if err := s.PutFile(ctx, uri, local); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadFile(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("ReadFile after PutFile: got %d bytes, want the %d bytes of %s", len(got), len(want), local)
	}

	err = s.PutFile(ctx, storage.Join(base, "missing.bin"), filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("PutFile of a missing local file: err = %v, want ErrNotExist", err)
	}
}

// testPutAtomic stalls a Put partway through its input and checks that
// nothing is visible, then lets it fail or finish.
func testPutAtomic(t *testing.T, h harness) {
	tests := []struct {
		name    string
		before  int   // bytes read before the stall
		fail    error // error the reader returns after the stall; nil = EOF
		wantObj bool
	}{
		{name: "small fails", before: 100, fail: errors.New("disk on fire")},
		{name: "small completes", before: 100},
		// Past the first 5 MiB part, so S3 is midway through a multipart upload.
		{name: "multipart fails", before: 6 << 20, fail: errors.New("disk on fire")},
		{name: "multipart completes", before: 6 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := h(t)
			ctx := t.Context()
			uri := storage.Join(base, "dir", "atomic.bin")
			data := randomBytes(2, tt.before)
			r := &stallingReader{data: data, stalled: make(chan struct{}), resume: make(chan error)}
			putErr := make(chan error, 1)
			go func() { putErr <- s.Put(ctx, uri, r) }()

			select {
			case <-r.stalled:
			case err := <-putErr:
				t.Fatalf("Put returned before reading its input: %v", err)
			}
			if _, err := s.Stat(ctx, uri); !errors.Is(err, storage.ErrNotExist) {
				t.Errorf("Stat during Put: err = %v, want ErrNotExist", err)
			}
			if got := listURIs(t, s, base); len(got) != 0 {
				t.Errorf("List during Put = %q, want nothing", got)
			}

			r.resume <- tt.fail
			err := <-putErr
			if tt.fail != nil {
				if err == nil {
					t.Fatal("Put with a failing reader succeeded")
				}
				if _, err := s.Stat(ctx, uri); !errors.Is(err, storage.ErrNotExist) {
					t.Errorf("Stat after failed Put: err = %v, want ErrNotExist", err)
				}
				if got := listURIs(t, s, base); len(got) != 0 {
					t.Errorf("List after failed Put = %q, want nothing", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.ReadFile(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("ReadFile after Put: got %d bytes, want %d", len(got), len(data))
			}
		})
	}
}

// testPutCancelled cancels the context while Put is reading its input.
func testPutCancelled(t *testing.T, h harness) {
	tests := []struct {
		name        string
		size, after int // input size; bytes read when the context is cancelled
	}{
		{name: "small", size: 1000, after: 10},
		{name: "multipart", size: 7 << 20, after: 6 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, base := h(t)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			uri := storage.Join(base, "cancelled.bin")
			r := &cancellingReader{r: bytes.NewReader(randomBytes(3, tt.size)), after: tt.after, cancel: cancel}
			err := s.Put(ctx, uri, struct{ io.Reader }{r})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Put with cancelled context: err = %v, want context.Canceled", err)
			}
			if _, err := s.Stat(t.Context(), uri); !errors.Is(err, storage.ErrNotExist) {
				t.Errorf("Stat after cancelled Put: err = %v, want ErrNotExist", err)
			}
			if got := listURIs(t, s, base); len(got) != 0 {
				t.Errorf("List after cancelled Put = %q, want nothing", got)
			}
		})
	}

	t.Run("before start", func(t *testing.T) {
		s, base := h(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		uri := storage.Join(base, "never.bin")
		if err := s.WriteFile(ctx, uri, []byte("x")); !errors.Is(err, context.Canceled) {
			t.Errorf("WriteFile with cancelled context: err = %v, want context.Canceled", err)
		}
		if _, err := s.Stat(t.Context(), uri); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Stat after cancelled WriteFile: err = %v, want ErrNotExist", err)
		}
	})
}

// testPutLarge streams 12 MiB of unknown length: on S3 a multipart upload
// of three parts.
func testPutLarge(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	want := randomBytes(4, 12<<20)
	uri := storage.Join(base, "large", "stream.bin")
	// Hide bytes.Reader's Seek, ReadAt and Len: the length is unknown.
	if err := s.Put(ctx, uri, struct{ io.Reader }{bytes.NewReader(want)}); err != nil {
		t.Fatal(err)
	}
	o, err := s.Stat(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.Size, int64(len(want)); got != want {
		t.Errorf("Stat(%q).Size = %d, want %d", uri, got, want)
	}
	got, err := s.ReadFile(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("ReadFile(%q): got %d bytes, not the %d written", uri, len(got), len(want))
	}
}

func testStat(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	uri := storage.Join(base, "a dir", "stat+me.txt")
	start := time.Now()
	if err := s.WriteFile(ctx, uri, []byte("12345")); err != nil {
		t.Fatal(err)
	}
	o, err := s.Stat(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.URI, uri; got != want {
		t.Errorf("Stat(%q).URI = %q", want, got)
	}
	if got, want := o.Size, int64(5); got != want {
		t.Errorf("Stat(%q).Size = %d, want %d", uri, got, want)
	}
	// S3 times have one-second resolution; allow for it and small clock skew.
	if d := o.ModTime.Sub(start); d < -2*time.Second || d > time.Minute {
		t.Errorf("Stat(%q).ModTime = %v, want close to %v", uri, o.ModTime, start)
	}
}

func testNotExist(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	// A "directory" with an object below it is not an object either.
	if err := s.WriteFile(ctx, storage.Join(base, "dir", "x"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"missing.txt", "no/such/dir/x", "dir", "with space+ü.txt"} {
		uri := storage.Join(base, name)
		ops := []struct {
			op  string
			err error
		}{
			{"Open", func() error {
				rc, err := s.Open(ctx, uri)
				if err == nil {
					rc.Close()
				}
				return err
			}()},
			{"ReadFile", func() error { _, err := s.ReadFile(ctx, uri); return err }()},
			{"Stat", func() error { _, err := s.Stat(ctx, uri); return err }()},
			{"Copy", s.Copy(ctx, storage.Join(base, "copy-dst"), uri)},
		}
		for _, o := range ops {
			if !errors.Is(o.err, storage.ErrNotExist) {
				t.Errorf("%s(%q): err = %v, want ErrNotExist", o.op, uri, o.err)
			} else if !strings.Contains(o.err.Error(), uri) {
				t.Errorf("%s(%q): error %q does not name the URI", o.op, uri, o.err)
			}
		}
	}
	if _, err := s.Stat(ctx, storage.Join(base, "copy-dst")); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Copy from a missing object created its destination (Stat err = %v)", err)
	}
}

func testList(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	names := []string{
		"in/2024-01-01/a.jpg",
		"in/2024-01-01/b/c.jpg",
		"in/2024-01-01-extra/d.jpg",
		"in/2024-01-02/e f+g.jpg",
		"in/a/b",
		"in/a-c",
		"other.txt",
	}
	for i, name := range names {
		if err := s.WriteFile(ctx, storage.Join(base, name), bytes.Repeat([]byte("x"), i)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		prefix string // appended to base as is
		want   []string
	}{
		{
			name:   "everything",
			prefix: "",
			want: []string{
				"in/2024-01-01-extra/d.jpg", "in/2024-01-01/a.jpg", "in/2024-01-01/b/c.jpg",
				"in/2024-01-02/e f+g.jpg", "in/a-c", "in/a/b", "other.txt",
			},
		},
		{
			// S3 prefix semantics: a day also matches the day "-extra".
			name:   "string prefix",
			prefix: "in/2024-01-01",
			want:   []string{"in/2024-01-01-extra/d.jpg", "in/2024-01-01/a.jpg", "in/2024-01-01/b/c.jpg"},
		},
		{
			name:   "directory prefix",
			prefix: "in/2024-01-01/",
			want:   []string{"in/2024-01-01/a.jpg", "in/2024-01-01/b/c.jpg"},
		},
		{
			// Byte order: '-' sorts before '/', whatever the directory walk does.
			name:   "sorted by URI",
			prefix: "in/a",
			want:   []string{"in/a-c", "in/a/b"},
		},
		{name: "partial name", prefix: "oth", want: []string{"other.txt"}},
		{name: "exact name", prefix: "other.txt", want: []string{"other.txt"}},
		{name: "no match", prefix: "in/2025", want: nil},
		{name: "missing directory", prefix: "nowhere/at/all/", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, n := range tt.want {
				want = append(want, storage.Join(base, n))
			}
			got := listURIs(t, s, base+tt.prefix)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List(%q) mismatch (-want +got):\n%s", base+tt.prefix, diff)
			}
		})
	}

	t.Run("sizes", func(t *testing.T) {
		for o, err := range s.List(ctx, base) {
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(o.URI, base)
			i := indexOf(names, filepath.ToSlash(name))
			if got, want := o.Size, int64(i); got != want {
				t.Errorf("List: %s has Size %d, want %d", o.URI, got, want)
			}
			if o.ModTime.IsZero() {
				t.Errorf("List: %s has no ModTime", o.URI)
			}
		}
	})
}

// testListMany lists more than one S3 page (1000 keys).
func testListMany(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	const n = 1100
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	var want []string
	for i := range n {
		uri := storage.Join(base, "many", fmt.Sprintf("%04d.txt", i))
		want = append(want, uri)
		g.Go(func() error { return s.WriteFile(gctx, uri, []byte(uri)) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	got := listURIs(t, s, storage.Join(base, "many")+"/")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List of %d objects mismatch (-want +got):\n%s", n, diff)
	}
}

func testListStopsEarly(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	for _, name := range []string{"a", "b", "c"} {
		if err := s.WriteFile(ctx, storage.Join(base, name), []byte(name)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for o, err := range s.List(ctx, base) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.URI)
		break // must not make the iterator panic
	}
	if diff := cmp.Diff([]string{storage.Join(base, "a")}, got); diff != "" {
		t.Errorf("List with break mismatch (-want +got):\n%s", diff)
	}
}

func testCopy(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	tests := []struct{ src, dst string }{
		{"src.txt", "dst.txt"},
		{"with space/ü+ñ 日本 %41.jpg", "copied/ä b+c%20d.jpg"},
		{"plus+sign.jpg", "same dir+/plus+sign.jpg"},
		{"a.txt", "a copy.txt"},
	}
	for i, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			src, dst := storage.Join(base, tt.src), storage.Join(base, tt.dst)
			want := []byte(fmt.Sprintf("copy %d", i))
			if err := s.WriteFile(ctx, src, want); err != nil {
				t.Fatal(err)
			}
			if err := s.Copy(ctx, dst, src); err != nil {
				t.Fatal(err)
			}
			for _, uri := range []string{dst, src} {
				got, err := s.ReadFile(ctx, uri)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("ReadFile(%q) after Copy mismatch (-want +got):\n%s", uri, diff)
				}
			}
		})
	}

	t.Run("onto itself", func(t *testing.T) {
		uri := storage.Join(base, "self copy+ü.txt")
		if err := s.WriteFile(ctx, uri, []byte("self")); err != nil {
			t.Fatal(err)
		}
		if err := s.Copy(ctx, uri, uri); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadFile(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(got), "self"; got != want {
			t.Errorf("ReadFile(%q) after Copy onto itself = %q, want %q", uri, got, want)
		}
		missing := storage.Join(base, "missing")
		if err := s.Copy(ctx, missing, missing); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Copy of a missing object onto itself: err = %v, want ErrNotExist", err)
		}
	})

	t.Run("replaces", func(t *testing.T) {
		src, dst := storage.Join(base, "new"), storage.Join(base, "old")
		if err := s.WriteFile(ctx, src, []byte("new")); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteFile(ctx, dst, []byte("old, longer")); err != nil {
			t.Fatal(err)
		}
		if err := s.Copy(ctx, dst, src); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReadFile(ctx, dst)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(got), "new"; got != want {
			t.Errorf("ReadFile(%q) after Copy over it = %q, want %q", dst, got, want)
		}
	})
}

func testDelete(t *testing.T, h harness) {
	s, base := h(t)
	ctx := t.Context()
	keep, del := storage.Join(base, "d", "keep"), storage.Join(base, "d", "delete me+ü")
	for _, uri := range []string{keep, del} {
		if err := s.WriteFile(ctx, uri, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, del); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, del); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Stat after Delete: err = %v, want ErrNotExist", err)
	}
	if diff := cmp.Diff([]string{keep}, listURIs(t, s, base)); diff != "" {
		t.Errorf("List after Delete mismatch (-want +got):\n%s", diff)
	}
	if err := s.Delete(ctx, del); err != nil {
		t.Errorf("Delete of a missing object: %v, want nil", err)
	}
}

// listURIs returns the URIs List yields for prefix, failing t on error.
func listURIs(tb testing.TB, s *storage.Storage, prefix string) []string {
	tb.Helper()
	var uris []string
	for o, err := range s.List(tb.Context(), prefix) {
		if err != nil {
			tb.Fatal(err)
		}
		uris = append(uris, o.URI)
	}
	return uris
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed byte, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// stallingReader returns data, then signals stalled and blocks until a
// value arrives on resume, which it then returns as its error (nil: EOF).
type stallingReader struct {
	data    []byte
	stalled chan struct{}
	resume  chan error
	err     error // after the stall
	resumed bool
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if len(r.data) > 0 {
		n := copy(p, r.data)
		r.data = r.data[n:]
		return n, nil
	}
	if !r.resumed {
		close(r.stalled)
		r.err = <-r.resume
		if r.err == nil {
			r.err = io.EOF
		}
		r.resumed = true
	}
	return 0, r.err
}

// cancellingReader calls cancel once after bytes have been read, and goes on
// reading.
type cancellingReader struct {
	r      io.Reader
	after  int
	read   int
	cancel context.CancelFunc
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.read += n
	if r.read >= r.after {
		r.cancel()
	}
	return n, err
}
