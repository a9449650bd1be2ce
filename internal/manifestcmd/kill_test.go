package manifestcmd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
)

// The test binary doubles as reviewlens-manifest: with childEnv set it
// runs the step with the arguments in it and exits.
const childEnv = "REVIEWLENS_MANIFEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(cli.Run(context.Background(), cli.SingleApp(manifestcmd.Step), append([]string{"reviewlens-manifest"}, argv...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestKilledRunLeavesNoSpool: a manifest step killed with SIGKILL in the
// middle of its work leaves its spool in --out; the next run there removes
// it, and leaves no spool of its own.
func TestKilledRunLeavesNoSpool(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	fifo := filepath.Join(dir, "manifest.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal([]string{"--in", fifo, "--out", out, "--log-format", "json"})
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+string(a))
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	// Opening the pipe waits for the child to open it; the lines written
	// are read, then the child waits for more, its spool open.
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	good, err := os.ReadFile("testdata/bad/multilabel-line.manifest")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(good), "\n")
	for range 2000 {
		if _, err := w.WriteString(lines[0]); err != nil {
			t.Fatal(err)
		}
	}
	// Watch the child's --out until its spool shows.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(time.Minute)
	for len(spoolsIn(t, out)) == 0 {
		select {
		case <-tick.C:
		case <-timeout:
			t.Fatal("the child made no spool in a minute")
		}
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	if n := len(spoolsIn(t, out)); n != 1 {
		t.Fatalf("%d spools after the kill, want the dead run's", n)
	}

	code, _, stderr := run(t, "--in", "testdata/mixed.manifest", "--out", out, "--on-bad-line", "skip")
	if code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	if s := spoolsIn(t, out); len(s) != 0 {
		t.Errorf("spools left after the rerun: %v", s)
	}
}

func spoolsIn(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".reviewlens-spool-") {
			out = append(out, e.Name())
		}
	}
	return out
}
