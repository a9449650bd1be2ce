package storage_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/storage"
)

func TestLocal(t *testing.T) {
	testContract(t, func(t *testing.T) (*storage.Storage, string) {
		return storage.New(storage.Options{}), t.TempDir() + string(filepath.Separator)
	})
}

// TestLocalPutFailureLeavesNothing checks the directory itself, where List
// would hide a leftover temporary file.
func TestLocalPutFailureLeavesNothing(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"fails at once", iotest.ErrReader(errors.New("boom"))},
		{"fails midway", io.MultiReader(strings.NewReader("half an object"), iotest.ErrReader(errors.New("boom")))},
		{"times out midway", iotest.TimeoutReader(strings.NewReader(strings.Repeat("x", 1<<20)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := storage.New(storage.Options{})
			uri := filepath.Join(dir, "out.bin")
			if err := s.Put(t.Context(), uri, tt.r); err == nil {
				t.Fatal("Put with a failing reader succeeded")
			}
			if got := dirNames(t, dir); len(got) != 0 {
				t.Errorf("directory after failed Put holds %q, want nothing", got)
			}
		})
	}

	t.Run("keeps the old object", func(t *testing.T) {
		dir := t.TempDir()
		s := storage.New(storage.Options{})
		uri := filepath.Join(dir, "out.bin")
		if err := s.WriteFile(t.Context(), uri, []byte("old")); err != nil {
			t.Fatal(err)
		}
		r := io.MultiReader(strings.NewReader("new but"), iotest.ErrReader(errors.New("boom")))
		if err := s.Put(t.Context(), uri, r); err == nil {
			t.Fatal("Put with a failing reader succeeded")
		}
		got, err := os.ReadFile(uri)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(got), "old"; got != want {
			t.Errorf("file after failed Put = %q, want %q", got, want)
		}
		if diff := cmp.Diff([]string{"out.bin"}, dirNames(t, dir)); diff != "" {
			t.Errorf("directory after failed Put mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestLocalPutCreatesParents(t *testing.T) {
	dir := t.TempDir()
	s := storage.New(storage.Options{})
	uri := filepath.Join(dir, "a", "b", "c.txt")
	if err := s.WriteFile(t.Context(), uri, []byte("x")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(uri)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), os.FileMode(0o644); got != want {
		t.Errorf("mode of %s = %v, want %v", uri, got, want)
	}
}

func TestLocalRelativePaths(t *testing.T) {
	t.Chdir(t.TempDir())
	s := storage.New(storage.Options{})
	ctx := t.Context()
	for _, uri := range []string{"top.txt", "out/a1.txt", "./out/a2.txt", "out/b.txt"} {
		if err := s.WriteFile(ctx, uri, []byte(uri)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"out/a", []string{"out/a1.txt", "out/a2.txt"}},
		{"./out/a", []string{"./out/a1.txt", "./out/a2.txt"}},
		{"t", []string{"top.txt"}},
		{"", []string{"out/a1.txt", "out/a2.txt", "out/b.txt", "top.txt"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, listURIs(t, s, tt.prefix)); diff != "" {
			t.Errorf("List(%q) mismatch (-want +got):\n%s", tt.prefix, diff)
		}
	}
	got, err := s.ReadFile(ctx, "./out/a1.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(got), "out/a1.txt"; got != want {
		t.Errorf("ReadFile(./out/a1.txt) = %q, want %q", got, want)
	}
}

func TestLocalFileURI(t *testing.T) {
	dir := t.TempDir()
	s := storage.New(storage.Options{})
	ctx := t.Context()
	uri := "file://" + filepath.Join(dir, "x y.txt")
	if err := s.WriteFile(ctx, uri, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "x y.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(got), "hello"; got != want {
		t.Errorf("file written through %s = %q, want %q", uri, got, want)
	}
	if diff := cmp.Diff([]string{uri}, listURIs(t, s, "file://"+dir+"/")); diff != "" {
		t.Errorf("List of file URIs mismatch (-want +got):\n%s", diff)
	}
	o, err := s.Stat(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.URI, uri; got != want {
		t.Errorf("Stat(%q).URI = %q", want, got)
	}
	if got, want := storage.Join("file://"+dir, "a", "b"), "file://"+filepath.Join(dir, "a", "b"); got != want {
		t.Errorf("Join of a file URI = %q, want %q", got, want)
	}
}

func TestBadURIs(t *testing.T) {
	s := storage.New(storage.Options{})
	for _, uri := range []string{"", "gs://bucket/key", "https://example.com/x", "file://relative/x", "s3://", "s3:///key", "s3://bucket", "s3://bucket/"} {
		if _, err := s.ReadFile(t.Context(), uri); err == nil {
			t.Errorf("ReadFile(%q) succeeded, want an error", uri)
		} else if errors.Is(err, storage.ErrNotExist) {
			t.Errorf("ReadFile(%q): err = %v, want a usage error, not ErrNotExist", uri, err)
		}
	}
}

func TestParseS3(t *testing.T) {
	tests := []struct {
		uri, bucket, key string
		wantErr          bool
	}{
		{uri: "s3://b/k", bucket: "b", key: "k"},
		{uri: "s3://b/dir/sub/x.jpg", bucket: "b", key: "dir/sub/x.jpg"},
		{uri: "s3://b/dir/", bucket: "b", key: "dir/"},
		{uri: "s3://b/", bucket: "b", key: ""},
		{uri: "s3://b", bucket: "b", key: ""},
		{uri: "s3://b/with space.jpg", bucket: "b", key: "with space.jpg"},
		{uri: "s3://b/a+b.jpg", bucket: "b", key: "a+b.jpg"},
		{uri: "s3://b/100%25%20x.jpg", bucket: "b", key: "100%25%20x.jpg"}, // not decoded
		{uri: "s3://b/ünï/日本語 🙂.jpg", bucket: "b", key: "ünï/日本語 🙂.jpg"},
		{uri: "s3://b//double//slash", bucket: "b", key: "/double//slash"},
		{uri: "s3://b/k?versionId=1#frag", bucket: "b", key: "k?versionId=1#frag"},
		{uri: "s3:///k", wantErr: true},
		{uri: "s3://", wantErr: true},
		{uri: "S3://b/k", wantErr: true},
		{uri: "/local/path", wantErr: true},
		{uri: "https://b.s3.amazonaws.com/k", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			bucket, key, err := storage.ParseS3(tt.uri)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseS3(%q) = %q, %q, want an error", tt.uri, bucket, key)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseS3(%q): %v", tt.uri, err)
			}
			if bucket != tt.bucket || key != tt.key {
				t.Errorf("ParseS3(%q) = %q, %q, want %q, %q", tt.uri, bucket, key, tt.bucket, tt.key)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	tests := []struct {
		name string
		base string
		elem []string
		want string
	}{
		{"s3 trailing slash", "s3://b/p/", []string{"x", "y.jpg"}, "s3://b/p/x/y.jpg"},
		{"s3 no trailing slash", "s3://b/p", []string{"x", "y.jpg"}, "s3://b/p/x/y.jpg"},
		{"s3 bucket only", "s3://b", []string{"k"}, "s3://b/k"},
		{"s3 bucket slash", "s3://b/", []string{"k"}, "s3://b/k"},
		{"s3 no elements", "s3://b/p/", nil, "s3://b/p/"},
		{"s3 slashes trimmed", "s3://b/p/", []string{"/x/", "/y"}, "s3://b/p/x/y"},
		{"s3 keeps final slash", "s3://b/p", []string{"dir/"}, "s3://b/p/dir/"},
		{"s3 empty elements", "s3://b/p", []string{"", "x", ""}, "s3://b/p/x"},
		{"s3 awkward names", "s3://b/in put", []string{"a+b", "100%.jpg", "日本 🙂.jpg"}, "s3://b/in put/a+b/100%.jpg/日本 🙂.jpg"},
		{"s3 not cleaned", "s3://b/p", []string{"../x", "./y"}, "s3://b/p/../x/./y"},
		{"local", "out", []string{"x", "y.jpg"}, filepath.Join("out", "x", "y.jpg")},
		{"local absolute", "/data/out/", []string{"x", "y.jpg"}, "/data/out/x/y.jpg"},
		{"local cleaned", "/data/out/", []string{"../x"}, "/data/x"},
		{"local awkward", "/data", []string{"a b+c", "ü%.jpg"}, "/data/a b+c/ü%.jpg"},
		{"file URI", "file:///data/", []string{"x"}, "file:///data/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := storage.Join(tt.base, tt.elem...); got != tt.want {
				t.Errorf("Join(%q, %q) = %q, want %q", tt.base, tt.elem, got, tt.want)
			}
		})
	}
}

func TestIsS3(t *testing.T) {
	for uri, want := range map[string]bool{
		"s3://b/k": true, "s3://": true, "S3://b/k": false, "/s3://x": false, "s3:/b": false, "out/s3": false, "": false,
	} {
		if got := storage.IsS3(uri); got != want {
			t.Errorf("IsS3(%q) = %v, want %v", uri, got, want)
		}
	}
}

// dirNames returns the names of everything under dir, recursively, relative
// to dir.
func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, rel)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return names
}
