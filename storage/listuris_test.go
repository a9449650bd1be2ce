package storage_test

import (
	"context"
	"testing"

	"github.com/reviewlens/reviewlens/storage"
)

func TestListURIs(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	f := storage.New(storage.Options{})
	for _, name := range []string{"a/1.out", "a/2.out", "b/3.out"} {
		if err := f.WriteFile(ctx, storage.Join(dir, name), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for uri, err := range f.ListURIs(ctx, storage.Join(dir, "a")+"/") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, uri)
	}
	if len(got) != 2 || got[0] != storage.Join(dir, "a/1.out") || got[1] != storage.Join(dir, "a/2.out") {
		t.Errorf("ListURIs = %v, want the two files under a/", got)
	}
}
