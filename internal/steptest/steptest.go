// Package steptest runs step commands in tests the way a user runs them,
// through internal/cli, and holds the table of bad inputs every step's
// tests go through: each case the exit code, the words its message must
// hold, and no output left behind.
package steptest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/internal/cli"
)

// Run runs step as `reviewlens <step> --log-format json ARGS` and returns
// the exit code, stdout and stderr.
func Run(tb testing.TB, step cli.Step, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	return RunContext(context.Background(), tb, step, args...)
}

// RunContext is Run with a context (to stop a step that would hang).
func RunContext(ctx context.Context, tb testing.TB, step cli.Step, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	app := cli.App("reviewlens", "test", cli.Command(step))
	code = cli.Run(ctx, app, append([]string{"reviewlens", step.Name, "--log-format", "json"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// A BadInput is one bad input a step must refuse.
type BadInput struct {
	Name string
	// Args are the step's flags; Setup, when set, runs first and returns
	// them instead (to build files in a temporary folder).
	Args  []string
	Setup func(tb testing.TB, dir string) []string
	// Code is the exit code wanted (2 unless said otherwise).
	Code int
	// Words must all appear in the last line of stderr, the error message
	// for people.
	Words []string
	// NoOutput are paths (relative to dir unless absolute) that must not
	// exist after the run, or must be empty folders: a refused step
	// leaves nothing behind.
	NoOutput []string
}

// CheckBadInputs runs every case against step, each in a new temporary
// folder dir; "{dir}" in an argument is replaced by it.
func CheckBadInputs(t *testing.T, step cli.Step, cases []BadInput) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			dir := t.TempDir()
			args := tc.Args
			if tc.Setup != nil {
				args = tc.Setup(t, dir)
			}
			for i, a := range args {
				args[i] = strings.ReplaceAll(a, "{dir}", dir)
			}
			code, stdout, stderr := Run(t, step, args...)
			want := tc.Code
			if want == 0 {
				want = cli.ExitBadInput
			}
			if code != want {
				t.Fatalf("exit %d, want %d; stdout %q\nstderr:\n%s", code, want, stdout, tail(stderr, 4000))
			}
			msg := LastLine(stderr)
			for _, w := range tc.Words {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", tail(msg, 2000), w)
				}
			}
			for _, p := range tc.NoOutput {
				if !filepath.IsAbs(p) {
					p = filepath.Join(dir, p)
				}
				NoOutput(t, p)
			}
		})
	}
}

// LastLine is the message a failed step prints last on stderr (possibly
// several lines: everything from the last line starting "reviewlens").
func LastLine(stderr string) string {
	s := strings.TrimRight(stderr, "\n")
	if i := strings.LastIndex(s, "\nreviewlens"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// NoOutput fails tb when path exists, unless it is a folder with nothing
// in it (hidden spools included).
func NoOutput(tb testing.TB, path string) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	if !fi.IsDir() {
		tb.Errorf("%s was left behind", path)
		return
	}
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err == nil && p != path {
			tb.Errorf("%s was left behind", p)
		}
		return nil
	})
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// WriteFile writes data to dir/name and returns its path.
func WriteFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}
