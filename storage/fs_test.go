package storage_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/storage"
)

// testFS writes a small job folder under base and checks Storage.FS with
// testing/fstest, which opens, reads, stats and lists every file and
// folder.
func testFS(t *testing.T, s *storage.Storage, base string) {
	ctx := t.Context()
	files := map[string]string{
		"job/annotations/worker-response/iteration-1/0/2024-01-02_03:04:05.json": `{"answers":[]}`,
		"job/annotations/worker-response/iteration-1/1/a.json":                   "one",
		"job/annotations/worker-response/iteration-1/10/b.json":                  "ten",
		"job/annotations/worker-response/iteration-1-extra.json":                 "sorts before the folder",
		"job/annotations/a-b/x.json":                                             "dash sorts before slash",
		"job/annotations/a/x.json":                                               "a",
		"job/manifests/output/output.manifest":                                   "not listed with under",
		"other/y.json":                                                           "outside the folder",
	}
	for name, data := range files {
		if err := s.WriteFile(ctx, storage.Join(base, name), []byte(data)); err != nil {
			t.Fatal(err)
		}
	}

	fsys, err := s.FS(ctx, storage.Join(base, "job"), "annotations")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys,
		"annotations/worker-response/iteration-1/0/2024-01-02_03:04:05.json",
		"annotations/worker-response/iteration-1/10/b.json",
		"annotations/a-b/x.json", "annotations/a/x.json"); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"annotations/a/x.json",
		"annotations/a-b/x.json",
		"annotations/worker-response/iteration-1/0/2024-01-02_03:04:05.json",
		"annotations/worker-response/iteration-1/1/a.json",
		"annotations/worker-response/iteration-1/10/b.json",
		"annotations/worker-response/iteration-1-extra.json",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	got, err := fs.ReadFile(fsys, "annotations/worker-response/iteration-1/1/a.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(got), "one"; got != want {
		t.Errorf("ReadFile = %q, want %q", got, want)
	}
	if _, err := fsys.Open("manifests/output/output.manifest"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a file outside under: %v, want fs.ErrNotExist", err)
	}

	whole, err := s.FS(ctx, storage.Join(base, "job")+"/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(whole, "manifests/output/output.manifest"); err != nil {
		t.Errorf("without under: %v", err)
	}
	empty, err := s.FS(ctx, storage.Join(base, "nothing-here"))
	if err != nil {
		t.Fatal(err)
	}
	if entries, err := fs.ReadDir(empty, "."); err != nil || len(entries) != 0 {
		t.Errorf("empty folder: %v, %v; want no entries", entries, err)
	}
}

func TestFSLocal(t *testing.T) {
	testFS(t, storage.New(storage.Options{}), t.TempDir())
}

func TestFSLocalRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	testFS(t, storage.New(storage.Options{}), filepath.Join(".", "base"))
}

func TestFSS3(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	testFS(t, storage.New(testenv.StorageOptions(endpoint)), "s3://"+testenv.NewBucket(t, endpoint))
}
