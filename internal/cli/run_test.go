package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	urfave "github.com/urfave/cli/v2"
)

// logging is a step that logs at every level and returns a result.
func logging(result any, err error) Step {
	return Step{
		Name: "t",
		Action: func(ctx context.Context, _ *urfave.Context, env *Env) (any, error) {
			env.Logger.Debug("looking", "n", 1)
			env.Logger.Info("copied", "n", 2)
			env.Logger.Warn("slow", "n", 3)
			return result, err
		},
	}
}

type staged struct {
	Prefix string `json:"prefix"`
	Images int    `json:"images"`
}

func TestResult(t *testing.T) {
	tests := []struct {
		name   string
		step   Step
		want   int
		result string // on stdout and in --xcom; empty for none
	}{
		{"result", logging(staged{Prefix: "s3://b/in/?a=1&b=2", Images: 3}, nil), ExitOK,
			`{"prefix":"s3://b/in/?a=1&b=2","images":3}` + "\n"},
		{"nil result", logging(nil, nil), ExitOK, "{}\n"},
		{"partial result", logging(staged{Prefix: "s3://b/in/", Images: 1}, JobFailed(errors.New("job j: AlgorithmError"))),
			ExitJobFailed, `{"prefix":"s3://b/in/","images":1}` + "\n"},
		{"failed", logging(nil, errors.New("boom")), ExitFailure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xcom := filepath.Join(t.TempDir(), "airflow", "xcom", "return.json")
			out := run(t, t.Context(), SingleApp(tt.step), "reviewlens-t", "--xcom", xcom)
			if out.code != tt.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", out.code, tt.want, out.stderr)
			}
			if out.stdout != tt.result {
				t.Errorf("stdout = %q, want %q", out.stdout, tt.result)
			}
			b, err := os.ReadFile(xcom)
			switch {
			case tt.result == "" && !errors.Is(err, os.ErrNotExist):
				t.Errorf("--xcom file: %q, %v; want none", b, err)
			case tt.result != "" && err != nil:
				t.Errorf("--xcom file: %v", err)
			case tt.result != "" && string(b) != tt.result:
				t.Errorf("--xcom file = %q, want %q", b, tt.result)
			}
		})
	}
}

func TestXComFromEnv(t *testing.T) {
	xcom := filepath.Join(t.TempDir(), "return.json")
	t.Setenv("REVIEWLENS_XCOM", xcom)
	out := run(t, t.Context(), SingleApp(returning(map[string]int{"n": 1}, nil)), "reviewlens-t")
	if b, err := os.ReadFile(xcom); err != nil || string(b) != out.stdout {
		t.Errorf("--xcom file = %q, %v; want %q", b, err, out.stdout)
	}
}

func TestUnencodableResult(t *testing.T) {
	out := run(t, t.Context(), SingleApp(returning(func() {}, nil)), "reviewlens-t")
	if out.code != ExitFailure || out.stdout != "" || !strings.Contains(out.stderr, "encode result") {
		t.Errorf("got %d, stdout %q, stderr:\n%s\nwant 1, nothing, encode result", out.code, out.stdout, out.stderr)
	}
}

// record is one JSON log record, the fields the tests look at.
type record struct {
	Level, Msg, Step string
	N                int
	ExitCode         *int `json:"exit_code"`
}

// decodeLog decodes each line of stderr as a JSON log record.
func decodeLog(tb testing.TB, stderr string) []record {
	tb.Helper()
	var recs []record
	for line := range strings.Lines(stderr) {
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			tb.Fatalf("stderr line %q is not JSON: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestJSONLogs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []record
	}{
		{"default", nil, []record{
			{Level: "INFO", Msg: "copied", Step: "t", N: 2},
			{Level: "WARN", Msg: "slow", Step: "t", N: 3},
			{Level: "INFO", Msg: "step done", Step: "t"},
		}},
		{"debug", []string{"--log-level", "debug", "--log-format", "json"}, []record{
			{Level: "DEBUG", Msg: "step starting", Step: "t"},
			{Level: "DEBUG", Msg: "looking", Step: "t", N: 1},
			{Level: "INFO", Msg: "copied", Step: "t", N: 2},
			{Level: "WARN", Msg: "slow", Step: "t", N: 3},
			{Level: "INFO", Msg: "step done", Step: "t"},
		}},
		{"warn", []string{"--log-level", "warn"}, []record{
			{Level: "WARN", Msg: "slow", Step: "t", N: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, t.Context(), SingleApp(logging(map[string]int{"n": 1}, nil)), append([]string{"reviewlens-t"}, tt.args...)...)
			if out.code != ExitOK {
				t.Fatalf("exit code %d; stderr:\n%s", out.code, out.stderr)
			}
			if diff := cmp.Diff(tt.want, decodeLog(t, out.stderr)); diff != "" {
				t.Errorf("log (-want +got):\n%s", diff)
			}
			if out.stdout != `{"n":1}`+"\n" {
				t.Errorf("stdout = %q, want the result alone", out.stdout)
			}
		})
	}
}

func TestFailureLogged(t *testing.T) {
	out := run(t, t.Context(), SingleApp(logging(nil, Transient(errors.New("flaky")))), "reviewlens-t", "--log-level", "error")
	lines := strings.SplitAfter(out.stderr, "\n")
	if len(lines) != 3 || lines[2] != "" {
		t.Fatalf("stderr = %q, want a log record and a line", out.stderr)
	}
	code := ExitTransient
	if diff := cmp.Diff([]record{{Level: "ERROR", Msg: "step failed", Step: "t", ExitCode: &code}}, decodeLog(t, lines[0])); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if got, want := lines[1], "reviewlens-t: flaky\n"; got != want {
		t.Errorf("last line = %q, want %q", got, want)
	}
}

func TestTextLogs(t *testing.T) {
	out := run(t, t.Context(), SingleApp(logging(nil, nil)), "reviewlens-t", "--log-format", "text")
	for line := range strings.Lines(out.stderr) {
		if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " step=t") {
			t.Errorf("stderr line %q is not a text record of step t", line)
		}
	}
	if !strings.Contains(out.stderr, `msg=copied step=t n=2`) {
		t.Errorf("stderr lacks the info record:\n%s", out.stderr)
	}
	if out.stdout != "{}\n" {
		t.Errorf("stdout = %q, want {}", out.stdout)
	}
}

func TestTimeoutReachesAction(t *testing.T) {
	var cause error
	app := SingleApp(Step{
		Name: "t",
		Action: func(ctx context.Context, c *urfave.Context, _ *Env) (any, error) {
			if c.Context != ctx {
				return nil, fmt.Errorf("c.Context is not ctx")
			}
			if _, ok := ctx.Deadline(); !ok {
				return nil, fmt.Errorf("no deadline")
			}
			<-ctx.Done()
			cause = context.Cause(ctx)
			return map[string]string{"done": "partly"}, ctx.Err()
		},
	})
	out := run(t, t.Context(), app, "reviewlens-t", "--timeout", "10ms")
	if out.code != ExitTimeout || !errors.Is(cause, ErrTimeout) {
		t.Errorf("exit code %d, cause %v; want %d, ErrTimeout; stderr:\n%s", out.code, cause, ExitTimeout, out.stderr)
	}
	if out.stdout != `{"done":"partly"}`+"\n" {
		t.Errorf("stdout = %q, want the partial result", out.stdout)
	}
}

// TestHugeValuesAreCut: a value of many MB quoted whole in an error or a
// log line costs a few KB of stderr, not the value twice over.
func TestHugeValuesAreCut(t *testing.T) {
	huge := strings.Repeat("x", 50<<20)
	step := Step{
		Name: "t",
		Action: func(ctx context.Context, _ *urfave.Context, env *Env) (any, error) {
			env.Logger.Warn("bad row", "image_uri", huge, "err", errors.New("row 3: "+huge))
			return nil, BadInputf("row 3: image_uri %s: too long", huge)
		},
	}
	out := run(t, t.Context(), SingleApp(step), "reviewlens-t")
	if out.code != ExitBadInput {
		t.Fatalf("exit %d, want %d", out.code, ExitBadInput)
	}
	if n := len(out.stderr); n > 128<<10 {
		t.Errorf("stderr is %d bytes for a 50 MB value, want a few KB", n)
	}
	if !strings.Contains(out.stderr, "(52428800 bytes)") && !strings.Contains(out.stderr, "bytes)") {
		t.Errorf("stderr does not give the full length of the value cut")
	}
}

// TestMultiCall: the multi-step app run as <app>-<step> (a link, as in
// the container image) runs the step with its flags; under another name
// it is itself.
func TestMultiCall(t *testing.T) {
	xcom := filepath.Join(t.TempDir(), "return.json")
	app := App("reviewlens", "", Command(returning(staged{Prefix: "s3://b/", Images: 2}, nil)))
	out := run(t, t.Context(), app, "/usr/local/bin/reviewlens-t", "--xcom", xcom)
	if out.code != ExitOK || out.stdout != `{"prefix":"s3://b/","images":2}`+"\n" {
		t.Errorf("as reviewlens-t: exit %d, stdout %q; stderr:\n%s", out.code, out.stdout, out.stderr)
	}
	if _, err := os.Stat(xcom); err != nil {
		t.Errorf("--xcom: %v", err)
	}
	for _, name := range []string{"reviewlens-nope", "other-t"} {
		out = run(t, t.Context(), App("reviewlens", "", Command(returning(nil, nil))), name, "--xcom", xcom)
		if out.code != ExitBadInput {
			t.Errorf("as %s: exit %d, want %d (not a step's name)", name, out.code, ExitBadInput)
		}
	}
}
