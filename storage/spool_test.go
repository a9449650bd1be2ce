package storage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/storage"
)

func spools(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".reviewlens-spool-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestDeadSpoolsRemoved: a new spool removes the spools of runs that died
// (their lock is free, or they have none and are old), not those of live
// runs.
func TestDeadSpoolsRemoved(t *testing.T) {
	out := t.TempDir()
	live, err := storage.NewSpool(out)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Discard()
	// A run killed after taking its lock: the lock file is there, nobody
	// holds it.
	killed := filepath.Join(out, ".reviewlens-spool-111")
	if err := os.MkdirAll(killed, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(killed, ".lock"), nil, 0o600)
	os.WriteFile(filepath.Join(killed, "labels.parquet"), make([]byte, 1<<20), 0o644)
	// An old spool from before locks, and a new one without a lock yet.
	old := filepath.Join(out, ".reviewlens-spool-222")
	young := filepath.Join(out, ".reviewlens-spool-333")
	for _, d := range []string{old, young} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-time.Hour)
	os.Chtimes(old, hourAgo, hourAgo)

	next, err := storage.NewSpool(out)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Discard()
	got := spools(t, out)
	want := map[string]bool{filepath.Base(live.Path("")): true, filepath.Base(next.Path("")): true, ".reviewlens-spool-333": true}
	if len(got) != len(want) {
		t.Fatalf("spools left %v, want the two live ones and the young one", got)
	}
	for _, g := range got {
		if !want[g] {
			t.Errorf("spool %s left behind", g)
		}
	}
	// Once the live run is over its spool is gone too.
	live.Discard()
	if _, err := os.Stat(live.Path("")); !os.IsNotExist(err) {
		t.Errorf("a discarded spool is still there")
	}
}
