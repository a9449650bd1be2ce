package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	urfave "github.com/urfave/cli/v2"
)

// No test here runs in parallel: urfave/cli's global help flag is written
// by every app run.

// outcome is what a binary did.
type outcome struct {
	code           int
	stdout, stderr string
}

// run runs app with args as Run does and returns what it did.
func run(tb testing.TB, ctx context.Context, app *urfave.App, args ...string) outcome {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(ctx, app, args, &stdout, &stderr)
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// returning is a step whose action returns result and err.
func returning(result any, err error) Step {
	return Step{
		Name: "t",
		Action: func(context.Context, *urfave.Context, *Env) (any, error) {
			return result, err
		},
	}
}

// mode is a Generic flag value.
type mode string

func (m *mode) Set(s string) error {
	if s != "fast" && s != "careful" {
		return fmt.Errorf("want fast or careful")
	}
	*m = mode(s)
	return nil
}

func (m *mode) String() string { return string(*m) }

func TestEnvVarName(t *testing.T) {
	for name, want := range map[string]string{
		"min-confidence": "REVIEWLENS_MIN_CONFIDENCE",
		"in":             "REVIEWLENS_IN",
		"endpoint-url":   "REVIEWLENS_ENDPOINT_URL",
	} {
		if got := EnvVar(name); got != want {
			t.Errorf("EnvVar(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestFlagsFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		flag     urfave.Flag
		env, val string // the variable and its value
		get      func(c *urfave.Context) any
		want     any
	}{
		{"string", &urfave.StringFlag{Name: "in"}, "REVIEWLENS_IN", "s3://b/reviews.parquet",
			func(c *urfave.Context) any { return c.String("in") }, "s3://b/reviews.parquet"},
		{"bool", &urfave.BoolFlag{Name: "dry-run"}, "REVIEWLENS_DRY_RUN", "true",
			func(c *urfave.Context) any { return c.Bool("dry-run") }, true},
		{"int", &urfave.IntFlag{Name: "workers"}, "REVIEWLENS_WORKERS", "8",
			func(c *urfave.Context) any { return c.Int("workers") }, 8},
		{"int64", &urfave.Int64Flag{Name: "max-bytes"}, "REVIEWLENS_MAX_BYTES", "5000000000",
			func(c *urfave.Context) any { return c.Int64("max-bytes") }, int64(5000000000)},
		{"uint", &urfave.UintFlag{Name: "batch"}, "REVIEWLENS_BATCH", "64",
			func(c *urfave.Context) any { return c.Uint("batch") }, uint(64)},
		{"float64", &urfave.Float64Flag{Name: "min-confidence", Value: 0.5}, "REVIEWLENS_MIN_CONFIDENCE", "0.98",
			func(c *urfave.Context) any { return c.Float64("min-confidence") }, 0.98},
		{"duration", &urfave.DurationFlag{Name: "poll"}, "REVIEWLENS_POLL", "30s",
			func(c *urfave.Context) any { return c.Duration("poll") }, 30 * time.Second},
		{"string slice", &urfave.StringSliceFlag{Name: "class"}, "REVIEWLENS_CLASS", "product,style",
			func(c *urfave.Context) any { return c.StringSlice("class") }, []string{"product", "style"}},
		{"path", &urfave.PathFlag{Name: "cache-dir"}, "REVIEWLENS_CACHE_DIR", "/tmp/cache",
			func(c *urfave.Context) any { return c.Path("cache-dir") }, "/tmp/cache"},
		{"generic", &urfave.GenericFlag{Name: "mode", Value: new(mode)}, "REVIEWLENS_MODE", "careful",
			func(c *urfave.Context) any { return c.Generic("mode").(*mode).String() }, "careful"},
		{"own env var", &urfave.StringFlag{Name: "bucket", EnvVars: []string{"BUCKET"}}, "BUCKET", "photos",
			func(c *urfave.Context) any { return c.String("bucket") }, "photos"},
		{"required, from env", &urfave.StringFlag{Name: "out", Required: true}, "REVIEWLENS_OUT", "s3://b/out/",
			func(c *urfave.Context) any { return c.String("out") }, "s3://b/out/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(tt.env, tt.val)
			var got any
			app := SingleApp(Step{
				Name:  "t",
				Flags: []urfave.Flag{tt.flag},
				Action: func(_ context.Context, c *urfave.Context, _ *Env) (any, error) {
					got = tt.get(c)
					return nil, nil
				},
			})
			out := run(t, t.Context(), app, "reviewlens-t")
			if out.code != ExitOK {
				t.Fatalf("exit code %d, stderr:\n%s", out.code, out.stderr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOwnEnvVarsKept(t *testing.T) {
	t.Setenv("REVIEWLENS_BUCKET", "ours")
	var got string
	app := SingleApp(Step{
		Name:  "t",
		Flags: []urfave.Flag{&urfave.StringFlag{Name: "bucket", EnvVars: []string{"BUCKET"}}},
		Action: func(_ context.Context, c *urfave.Context, _ *Env) (any, error) {
			got = c.String("bucket")
			return nil, nil
		},
	})
	if out := run(t, t.Context(), app, "reviewlens-t"); out.code != ExitOK {
		t.Fatalf("exit code %d, stderr:\n%s", out.code, out.stderr)
	}
	if got != "" {
		t.Errorf("bucket = %q, want empty: the flag names its own variable", got)
	}
}

func TestCommandLineBeatsEnv(t *testing.T) {
	t.Setenv("REVIEWLENS_IN", "from-env")
	var got string
	app := SingleApp(Step{
		Name:  "t",
		Flags: []urfave.Flag{&urfave.StringFlag{Name: "in"}},
		Action: func(_ context.Context, c *urfave.Context, _ *Env) (any, error) {
			got = c.String("in")
			return nil, nil
		},
	})
	run(t, t.Context(), app, "reviewlens-t", "--in", "from-flag")
	if got != "from-flag" {
		t.Errorf("in = %q, want from-flag", got)
	}
}

func TestCommonFlagsReachEnv(t *testing.T) {
	t.Setenv("REVIEWLENS_ENDPOINT_URL", "http://127.0.0.1:5000")
	var got Env
	app := SingleApp(Step{
		Name: "t",
		Action: func(_ context.Context, _ *urfave.Context, env *Env) (any, error) {
			got = *env
			return nil, nil
		},
	})
	out := run(t, t.Context(), app, "reviewlens-t", "--region", "eu-west-1")
	if out.code != ExitOK {
		t.Fatalf("exit code %d, stderr:\n%s", out.code, out.stderr)
	}
	if got.Region != "eu-west-1" || got.EndpointURL != "http://127.0.0.1:5000" {
		t.Errorf("Region, EndpointURL = %q, %q; want eu-west-1, http://127.0.0.1:5000", got.Region, got.EndpointURL)
	}
	if got.Logger == nil || got.Stdout == nil || got.Stderr == nil || got.Terminal {
		t.Errorf("env = %+v, want a logger, writers, and no terminal", got)
	}
}

func TestHelpShowsEnvVars(t *testing.T) {
	step := func() Step {
		return Step{
			Name:  "stage",
			Usage: "stage the day's images",
			Flags: []urfave.Flag{
				&urfave.Float64Flag{Name: "min-confidence", Usage: "lowest confidence"},
				&urfave.StringFlag{Name: "in", Required: true, Usage: "reviews `URI`"},
			},
			Action: func(context.Context, *urfave.Context, *Env) (any, error) { return nil, nil },
		}
	}
	tests := []struct {
		name string
		app  *urfave.App
		args []string
	}{
		{"single", SingleApp(step()), []string{"reviewlens-stage", "--help"}},
		{"subcommand", App("reviewlens", "u", Command(step())), []string{"reviewlens", "stage", "--help"}},
		{"help command", App("reviewlens", "u", Command(step())), []string{"reviewlens", "help", "stage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, t.Context(), tt.app, tt.args...)
			if out.code != ExitOK {
				t.Fatalf("exit code %d, stderr:\n%s", out.code, out.stderr)
			}
			for _, want := range []string{
				"$REVIEWLENS_MIN_CONFIDENCE", "$REVIEWLENS_IN", "reviews URI (required)",
				"$REVIEWLENS_XCOM", "$REVIEWLENS_LOG_LEVEL", "$REVIEWLENS_LOG_FORMAT",
				"$REVIEWLENS_TIMEOUT", "$REVIEWLENS_REGION", "$REVIEWLENS_ENDPOINT_URL",
			} {
				if !strings.Contains(out.stdout, want) {
					t.Errorf("help lacks %q:\n%s", want, out.stdout)
				}
			}
		})
	}
}

func TestStepFlagsNotChanged(t *testing.T) {
	in := &urfave.StringFlag{Name: "in", Required: true}
	s := returning(nil, nil)
	s.Flags = []urfave.Flag{in}
	Command(s)
	SingleApp(s)
	if in.EnvVars != nil || !in.Required || in.Usage != "" {
		t.Errorf("the step's flag changed: %+v", in)
	}
}

func TestCommandPanics(t *testing.T) {
	tests := []struct {
		name string
		step Step
	}{
		{"common flag again", Step{Name: "t", Action: returning(nil, nil).Action,
			Flags: []urfave.Flag{&urfave.StringFlag{Name: "region"}}}},
		{"same env var", Step{Name: "t", Action: returning(nil, nil).Action,
			Flags: []urfave.Flag{&urfave.StringFlag{Name: "a-b"}, &urfave.StringFlag{Name: "a_b"}}}},
		{"no action", Step{Name: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Command did not panic")
				}
			}()
			Command(tt.step)
		})
	}
}

func TestApp(t *testing.T) {
	newApp := func(ran *[]string) *urfave.App {
		step := func(name string) Step {
			return Step{
				Name:  name,
				Flags: []urfave.Flag{&urfave.IntFlag{Name: "n", Required: true}},
				Action: func(_ context.Context, c *urfave.Context, _ *Env) (any, error) {
					*ran = append(*ran, fmt.Sprintf("%s %d", name, c.Int("n")))
					return map[string]int{"n": c.Int("n")}, nil
				},
			}
		}
		return App("reviewlens", "inspect review photos", Command(step("stage")), Command(step("credit")))
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantRan    []string
		wantStdout string
		wantStderr string // a substring
	}{
		{"stage", []string{"stage", "--n", "1"}, ExitOK, []string{"stage 1"}, `{"n":1}` + "\n", ""},
		{"credit", []string{"credit", "--n", "2", "--log-level", "warn"}, ExitOK, []string{"credit 2"}, `{"n":2}` + "\n", ""},
		{"unknown step", []string{"publish"}, ExitBadInput, nil, "", `reviewlens: unknown step "publish"`},
		{"no step", nil, ExitBadInput, nil, "", "Run 'reviewlens --help' for usage."},
		{"unknown help topic", []string{"help", "publish"}, ExitBadInput, nil, "", "publish"},
		{"missing flag", []string{"credit"}, ExitBadInput, nil, "",
			"reviewlens credit: missing required flag --n (or $REVIEWLENS_N)\nRun 'reviewlens credit --help' for usage.\n"},
		{"unknown flag", []string{"stage", "--nn", "1"}, ExitBadInput, nil, "", "Run 'reviewlens stage --help' for usage."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran []string
			out := run(t, t.Context(), newApp(&ran), append([]string{"reviewlens"}, tt.args...)...)
			if out.code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", out.code, tt.wantCode, out.stderr)
			}
			if diff := cmp.Diff(tt.wantRan, ran); diff != "" {
				t.Errorf("steps run (-want +got):\n%s", diff)
			}
			if out.stdout != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", out.stdout, tt.wantStdout)
			}
			if !strings.Contains(out.stderr, tt.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantStderr, out.stderr)
			}
		})
	}
}

func TestSingleAppRunsStep(t *testing.T) {
	s := returning(map[string]string{"ok": "yes"}, nil)
	s.Flags = []urfave.Flag{&urfave.BoolFlag{Name: "dry-run"}}
	out := run(t, t.Context(), SingleApp(s), "reviewlens-t", "--dry-run")
	if out.code != ExitOK || out.stdout != `{"ok":"yes"}`+"\n" {
		t.Errorf("got %d, %q; want 0, {\"ok\":\"yes\"}; stderr:\n%s", out.code, out.stdout, out.stderr)
	}
}

// waitForDone is an action that waits for its context to end.
func waitForDone(ctx context.Context, _ *urfave.Context, _ *Env) (any, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("wait for job: %w", ctx.Err())
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		step   Step
		args   []string
		want   int
		stderr string // a substring
		hint   bool   // whether stderr shows the hint to --help
	}{
		{"done", returning(nil, nil), nil, ExitOK, "", false},
		{"plain error", returning(nil, errors.New("boom")), nil, ExitFailure, "reviewlens-t: boom\n", false},
		{"bad input", returning(nil, BadInputf("labels.csv line 3: label %q unknown", "x")), nil, ExitBadInput,
			`reviewlens-t: labels.csv line 3: label "x" unknown` + "\n", false},
		{"job failed", returning(nil, JobFailed(errors.New("job j: AlgorithmError"))), nil, ExitJobFailed, "AlgorithmError", false},
		{"job stopped", returning(nil, JobStopped(errors.New("job j stopped"))), nil, ExitJobStopped, "stopped", false},
		{"transient", returning(nil, Transient(errors.New("flaky"))), nil, ExitTransient, "flaky", false},
		{"throttled", returning(nil, fmt.Errorf("describe job j: %w", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})),
			nil, ExitTransient, "Rate exceeded", false},
		{"wrapped *Error", returning(nil, fmt.Errorf("tune: %w", JobFailed(errors.New("x")))), nil, ExitJobFailed, "tune: x", false},
		{"timeout", Step{Name: "t", Action: waitForDone}, []string{"--timeout", "10ms"}, ExitTimeout,
			"reviewlens-t: timeout passed (--timeout 10ms): wait for job: context deadline exceeded\n", false},
		{"unknown flag", returning(nil, nil), []string{"--nope"}, ExitBadInput, "flag provided but not defined: -nope", true},
		{"bad flag value", Step{Name: "t", Action: returning(nil, nil).Action,
			Flags: []urfave.Flag{&urfave.IntFlag{Name: "n"}}}, []string{"--n", "many"}, ExitBadInput, "invalid value", true},
		{"missing required", Step{Name: "t", Action: returning(nil, nil).Action,
			Flags: []urfave.Flag{&urfave.StringFlag{Name: "in", Required: true}, &urfave.StringFlag{Name: "out", Required: true}}},
			nil, ExitBadInput, "missing required flags --in (or $REVIEWLENS_IN), --out (or $REVIEWLENS_OUT)", true},
		{"argument", returning(nil, nil), []string{"s3://b/k"}, ExitBadInput, `unexpected argument "s3://b/k"`, true},
		{"bad log level", returning(nil, nil), []string{"--log-level", "loud"}, ExitBadInput, `--log-level "loud"`, true},
		{"bad log format", returning(nil, nil), []string{"--log-format", "xml"}, ExitBadInput, `--log-format "xml"`, true},
		{"negative timeout", returning(nil, nil), []string{"--timeout", "-1s"}, ExitBadInput, "must not be negative", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, t.Context(), SingleApp(tt.step), append([]string{"reviewlens-t"}, tt.args...)...)
			if out.code != tt.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", out.code, tt.want, out.stderr)
			}
			if !strings.Contains(out.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, out.stderr)
			}
			if got := strings.Contains(out.stderr, "Run 'reviewlens-t --help' for usage."); got != tt.hint {
				t.Errorf("hint to --help shown: %v, want %v; stderr:\n%s", got, tt.hint, out.stderr)
			}
			if tt.want != ExitOK && out.stdout != "" {
				t.Errorf("stdout = %q, want nothing", out.stdout)
			}
		})
	}
}

func TestInterrupted(t *testing.T) {
	signal := errors.New("interrupt signal received")
	tests := []struct {
		name   string
		err    func(ctx context.Context) error // what the action returns once interrupted
		want   int
		stderr string
	}{
		{"context error", func(ctx context.Context) error { return ctx.Err() }, ExitFailure,
			"reviewlens-t: interrupt signal received: context canceled\n"},
		{"as a network error", func(context.Context) error {
			return &net.OpError{Op: "read", Net: "tcp", Err: errors.New("use of closed network connection")}
		}, ExitFailure, "interrupt signal received"},
		{"the step's own code", func(context.Context) error { return JobStopped(errors.New("stopped job j")) },
			ExitJobStopped, "reviewlens-t: stopped job j\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			app := SingleApp(Step{
				Name: "t",
				Action: func(ctx context.Context, _ *urfave.Context, _ *Env) (any, error) {
					cancel(signal) // as signal.NotifyContext does on SIGINT
					<-ctx.Done()
					return nil, tt.err(ctx)
				},
			})
			out := run(t, ctx, app, "reviewlens-t")
			if out.code != tt.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", out.code, tt.want, out.stderr)
			}
			if !strings.Contains(out.stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, out.stderr)
			}
		})
	}
}
