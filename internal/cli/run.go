package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/table"
	urfave "github.com/urfave/cli/v2"
)

// Main runs app with os.Args and exits with its code. SIGINT and SIGTERM
// cancel the step's context (the step should stop its work and return); a
// second signal ends the process at once.
func Main(app *urfave.App) {
	table.UseFastSnappy()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore the default: the next signal kills
	}()
	code := Run(ctx, app, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Run runs app with args (args[0] is the program) and returns the exit code,
// writing the result and help to stdout, logs and errors to stderr. It sets
// app's Writer, ErrWriter and ExitErrHandler. Like urfave/cli apps, an app
// runs once: its flags keep the values they parsed.
//
// A multi-step app ([App]) run under the name <app>-<step> runs that step,
// with the same flags as the step's own binary ([SingleApp]): the container
// image ships reviewlens alone, with reviewlens-<step> as links to it.
func Run(ctx context.Context, app *urfave.App, args []string, stdout, stderr io.Writer) int {
	args = multiCall(app, args)
	app.Writer, app.ErrWriter = stdout, stderr
	app.ExitErrHandler = ignoreExit
	err := app.RunContext(ctx, args)
	if err == nil {
		return ExitOK
	}
	var se *stepError
	fromStep := errors.As(err, &se)
	if !fromStep && !coded(err) {
		// urfave/cli's own, such as "No help topic for x", or a flag's
		// Action rejecting its value.
		err = BadInput(err)
	}
	code := ExitCode(err)
	name := commandPath(app, args)
	// The message is printed as it is: a step listing bad lines puts one on
	// each line, for people to read. Each line is cut to a few KB, a last
	// guard against a value quoted whole.
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = clip.Line(l, maxMessageLine)
	}
	fmt.Fprintf(stderr, "%s: %s\n", name, strings.Join(lines, "\n"))
	if code == ExitBadInput && !fromStep {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", name)
	}
	return code
}

// multiCall turns "reviewlens-stage ARGS" into "reviewlens-stage stage ARGS"
// for the multi-step app reviewlens; other args are returned as they are.
func multiCall(app *urfave.App, args []string) []string {
	if len(app.Commands) == 0 || len(args) == 0 {
		return args
	}
	step, ok := strings.CutPrefix(filepath.Base(args[0]), app.Name+"-")
	if !ok || app.Command(step) == nil {
		return args
	}
	return append([]string{args[0], step}, args[1:]...)
}

// commandPath returns "reviewlens stage" or "reviewlens-stage" for messages.
func commandPath(app *urfave.App, args []string) string {
	if len(app.Commands) > 0 && len(args) > 1 {
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "-") {
				continue
			}
			if cmd := app.Command(a); cmd != nil {
				return app.Name + " " + cmd.Name
			}
			break
		}
	}
	return app.Name
}

// stepError marks an error as the step's own (its action's, or writing its
// result), as opposed to a usage error found before the action ran.
type stepError struct{ err error }

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// runStep is the urfave action of every step: check usage, set up logging and
// the timeout, call the action, write its result.
func runStep(c *urfave.Context, s Step, required []requiredFlag) error {
	if err := checkUsage(c, s, required); err != nil {
		return err
	}
	stdout, stderr := c.App.Writer, c.App.ErrWriter
	terminal := isTerminal(stderr)
	logger, err := newLogger(stderr, terminal, c.String(flagLogLevel), c.String(flagLogFormat))
	if err != nil {
		return err
	}
	logger = logger.With("step", s.Name)

	ctx := c.Context
	timeout := c.Duration(flagTimeout)
	switch {
	case timeout < 0:
		return BadInputf("--%s %s: must not be negative", flagTimeout, timeout)
	case timeout > 0:
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, ErrTimeout)
		defer cancel()
	}
	c.Context = ctx

	if d := c.Duration(flagIOTimeout); d <= 0 {
		return BadInputf("--%s %s: want a duration above 0", flagIOTimeout, d)
	}
	buckets, err := bucketDirs(c.StringSlice(flagBucketDir))
	if err != nil {
		return err
	}
	env := &Env{
		BucketDirs:  buckets,
		Logger:      logger,
		Region:      c.String(flagRegion),
		EndpointURL: c.String(flagEndpointURL),
		IOTimeout:   c.Duration(flagIOTimeout),
		Stdout:      stdout,
		Stderr:      stderr,
		Terminal:    terminal,
	}
	start := time.Now()
	logger.Debug("step starting")
	result, err := s.Action(ctx, c, env)
	err = explain(ctx, timeout, err)

	if result != nil || err == nil {
		if werr := writeResult(stdout, c.Path(flagXCom), result); werr != nil {
			if err == nil {
				err = werr
			} else {
				logger.Error("write result", "err", werr)
			}
		}
	}
	if err != nil {
		logger.Error("step failed", "err", err, "exit_code", ExitCode(err), "elapsed", since(start))
		return &stepError{err}
	}
	logger.Info("step done", "elapsed", since(start))
	return nil
}

// checkUsage rejects positional arguments the step does not take and reports
// missing required flags, naming their environment variables.
func checkUsage(c *urfave.Context, s Step, required []requiredFlag) error {
	if s.ArgsUsage == "" && c.Args().Present() {
		return BadInputf("unexpected argument %q: inputs and outputs are flags, and flags go before arguments", c.Args().First())
	}
	var missing []string
	for _, f := range required {
		if !c.IsSet(f.name) {
			missing = append(missing, fmt.Sprintf("--%s (or $%s)", f.name, strings.Join(f.env, ", $")))
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return BadInputf("missing required flag %s", missing[0])
	default:
		return BadInputf("missing required flags %s", strings.Join(missing, ", "))
	}
}

// explain labels an error that came with the end of ctx: the step's own
// timeout (exit 5) or an interruption (exit 1). An error with a code the step
// chose keeps it.
func explain(ctx context.Context, timeout time.Duration, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if coded(err) {
		return err
	}
	cause := context.Cause(ctx)
	if errors.Is(cause, ErrTimeout) {
		if errors.Is(err, ErrTimeout) {
			return err
		}
		return fmt.Errorf("%w (--%s %s): %w", ErrTimeout, flagTimeout, timeout, err)
	}
	// Interrupted, as by SIGINT or SIGTERM ("interrupt signal received"):
	// exit 1, even when the cancellation surfaced as a network error.
	if !errors.Is(err, cause) {
		err = fmt.Errorf("%w: %w", cause, err)
	}
	return &Error{Code: ExitFailure, Err: err}
}

// writeResult writes result as one compact JSON document and a newline to
// stdout and, when xcom is not empty, to the file xcom.
func writeResult(stdout io.Writer, xcom string, result any) error {
	if result == nil {
		result = struct{}{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // URIs keep their & as is
	if err := enc.Encode(result); err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if _, err := stdout.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write result to stdout: %w", err)
	}
	if xcom == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(xcom), 0o755); err != nil {
		return fmt.Errorf("write --%s: %w", flagXCom, err)
	}
	if err := os.WriteFile(xcom, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write --%s: %w", flagXCom, err)
	}
	return nil
}

// newLogger returns the logger for --log-level and --log-format, writing to w.
func newLogger(w io.Writer, terminal bool, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	switch strings.ToLower(level) {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return nil, BadInputf("--%s %q: want debug, info, warn or error", flagLogLevel, level)
	}
	opts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: clipAttr}
	switch strings.ToLower(format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "auto":
		if terminal {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, BadInputf("--%s %q: want auto, json or text", flagLogFormat, format)
	}
}

// maxMessageLine bounds a line of the final message, and maxLogValue a
// string or error value in a log record: the values a step quotes are cut
// to clip.MaxBytes already, and these catch any that is not.
const (
	maxMessageLine = 4 << 10
	maxLogValue    = 16 << 10
)

// clipAttr cuts long strings and errors in log records.
func clipAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); len(s) > maxLogValue {
			return slog.String(a.Key, clip.Line(s, maxLogValue))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			if s := err.Error(); len(s) > maxLogValue {
				return slog.String(a.Key, clip.Line(s, maxLogValue))
			}
		}
	}
	return a
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// since returns the time since start for logs, as "1.234s" rather than
// slog's nanoseconds.
func since(start time.Time) string {
	return time.Since(start).Round(time.Millisecond).String()
}

// bucketDirs reads --bucket-dir: NAME=DIR pairs, one a flag (the flag
// parser cuts values at commas, so a folder whose name holds one cannot be
// given).
func bucketDirs(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, p := range pairs {
		name, dir, ok := strings.Cut(p, "=")
		name = strings.TrimSuffix(strings.TrimPrefix(name, "s3://"), "/")
		if !ok || name == "" || dir == "" || strings.Contains(name, "/") {
			return nil, BadInputf("--%s %q: want NAME=DIR, a bucket name and a local folder", flagBucketDir, p)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, BadInputf("--%s %q: %v", flagBucketDir, p, err)
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return nil, BadInputf("--%s %q: %s is not a folder", flagBucketDir, p, abs)
		}
		m["s3://"+name] = abs
	}
	return m, nil
}
