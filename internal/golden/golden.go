// Package golden compares test output with golden files in testdata/, and
// rewrites them when the tests run with -update:
//
//	go test ./manifest -run Golden -update
//
// Every package's tests use this one flag and this one comparison.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// Update reports whether the tests run with -update.
func Update() bool { return *update }

// Check compares got with testdata/name, or writes it there with -update.
func Check[T ~string | ~[]byte](tb testing.TB, name string, got T) {
	tb.Helper()
	want := Read(tb, name, got)
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		tb.Errorf("%s (-want +got):\n%s", filepath.Join("testdata", name), diff)
	}
}

// Read returns the golden file testdata/name, first writing got there with
// -update; for tests that compare in a way of their own.
func Read[T ~string | ~[]byte](tb testing.TB, name string, got T) []byte {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run with -update to create it)", err)
	}
	return want
}
