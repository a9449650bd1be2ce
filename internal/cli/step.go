package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/internal/awsnet"
	"github.com/reviewlens/reviewlens/progress"
	"github.com/reviewlens/reviewlens/storage"
	"github.com/reviewlens/reviewlens/storage/s3"
)

// EnvPrefix starts the environment variable of every flag.
const EnvPrefix = "REVIEWLENS_"

// Names of the common flags every step takes.
const (
	flagXCom        = "xcom"
	flagLogLevel    = "log-level"
	flagLogFormat   = "log-format"
	flagTimeout     = "timeout"
	flagRegion      = "region"
	flagEndpointURL = "endpoint-url"
	flagIOTimeout   = "io-timeout"
	flagBucketDir   = "bucket-dir"
)

// commonCategory heads the common flags in help.
const commonCategory = "Common to every step:"

// Env is what a step's action gets besides its flags.
type Env struct {
	// Logger writes to stderr at --log-level in --log-format, with the
	// step's name attached. Pass it to the libraries the step calls.
	Logger *slog.Logger

	// Region is --region; empty means the AWS SDK's default chain
	// (AWS_REGION, the shared config).
	Region string

	// EndpointURL is --endpoint-url, e.g. a moto_server; empty means AWS's
	// own endpoints.
	EndpointURL string

	// IOTimeout is --io-timeout: how long a network call may wait for a
	// connection or for the next bytes of an answer before it is retried.
	IOTimeout time.Duration

	// BucketDirs is --bucket-dir: buckets served from local folders
	// instead of S3, by URI ("s3://name").
	BucketDirs map[string]string

	// Stdout is where the result goes. A step returns its result rather than
	// writing here.
	Stdout io.Writer

	// Stderr is for people: progress bars when Terminal, nothing else.
	// Logs go through Logger.
	Stderr io.Writer

	// Terminal reports whether Stderr is a terminal: draw progress there;
	// otherwise log progress every 30 s or so.
	Terminal bool
}

// Storage returns the storage the step reads and writes through: local
// paths, and s3:// URIs through package storage/s3 with the step's
// --region, --endpoint-url and --io-timeout. Close it when done.
func (e *Env) Storage() *storage.Storage {
	return storage.New(storage.Options{
		Logger:  e.Logger,
		Folders: e.BucketDirs,
		Schemes: map[string]storage.Provider{
			"s3": s3.NewProvider(s3.Options{Region: e.Region, EndpointURL: e.EndpointURL, IOTimeout: e.IOTimeout, Logger: e.Logger}),
		},
	})
}

// Progress returns how a long step shows its progress: a live bar on
// Stderr when it is a terminal, a log line every 30 s otherwise.
func (e *Env) Progress() progress.Meter {
	if e.Terminal {
		return progress.Bar(e.Stderr)
	}
	return progress.Log(e.Logger, progress.DefaultEvery)
}

// Step is one step of the workflow, the same as a subcommand of reviewlens
// and as the binary reviewlens-<Name>.
type Step struct {
	// Name is the subcommand, "stage"; the binary is "reviewlens-stage".
	Name        string
	Usage       string // one line for the list of steps
	Description string // the longer help

	// ArgsUsage describes positional arguments in help. Empty means the step
	// takes none (inputs and outputs are flags), and any given is a usage
	// error: it is often a flag value that lost its flag.
	ArgsUsage string

	// Flags are the step's own flags; the common ones are added. Each gets
	// its environment variable unless it names its own EnvVars. Command
	// works on copies, so a Step can make more than one command.
	Flags []urfave.Flag

	// Action does the step. ctx carries --timeout and signals (c.Context is
	// the same ctx). result, when not nil, is written as JSON to stdout and
	// --xcom even when err is not nil, to report partial work; err decides
	// the exit code (see ExitCode).
	Action func(ctx context.Context, c *urfave.Context, env *Env) (result any, err error)
}

// Command returns s as a subcommand, for [App]. It panics if s has no name
// or action, if two flags share a name or environment variable, or if a flag
// has no EnvVars field: mistakes of the program, found by its first test.
func Command(s Step) *urfave.Command {
	if s.Name == "" || s.Action == nil {
		panic(fmt.Sprintf("cli: step %q needs a name and an action", s.Name))
	}
	flags, required := conformFlags(s.Name, slices.Concat(s.Flags, commonFlags()))
	return &urfave.Command{
		Name:            s.Name,
		Usage:           s.Usage,
		Description:     s.Description,
		ArgsUsage:       s.ArgsUsage,
		Flags:           flags,
		HideHelpCommand: true,
		OnUsageError:    usageError,
		Action: func(c *urfave.Context) error {
			return runStep(c, s, required)
		},
	}
}

// App returns the multi-step binary: each of cmds (from [Command]) as a
// subcommand. Run it with [Main].
func App(name, usage string, cmds ...*urfave.Command) *urfave.App {
	return &urfave.App{
		Name:           name,
		Usage:          usage,
		Commands:       cmds,
		OnUsageError:   usageError,
		ExitErrHandler: ignoreExit,
		Action: func(c *urfave.Context) error {
			if c.Args().Present() {
				return BadInputf("unknown step %q", c.Args().First())
			}
			return BadInputf("no step given")
		},
	}
}

// SingleApp returns the binary reviewlens-<s.Name>: the step alone, its flags
// at the top level, the same as in [Command]. Run it with [Main].
func SingleApp(s Step) *urfave.App {
	cmd := Command(s)
	return &urfave.App{
		Name:            "reviewlens-" + s.Name,
		Usage:           s.Usage,
		Description:     s.Description,
		ArgsUsage:       s.ArgsUsage,
		Flags:           cmd.Flags,
		HideHelpCommand: true,
		OnUsageError:    usageError,
		ExitErrHandler:  ignoreExit,
		Action:          cmd.Action,
	}
}

// EnvVar returns the environment variable of the flag named name:
// "min-confidence" gives "REVIEWLENS_MIN_CONFIDENCE".
func EnvVar(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// commonFlags returns new common flags: urfave flags keep state when parsed,
// so no two commands may share one.
func commonFlags() []urfave.Flag {
	return []urfave.Flag{
		&urfave.PathFlag{Name: flagXCom, Category: commonCategory,
			Usage: "also write the result JSON to `PATH`, creating its folder (Airflow reads /airflow/xcom/return.json)"},
		&urfave.StringFlag{Name: flagLogLevel, Category: commonCategory, Value: "info",
			Usage: "log `LEVEL`: debug, info, warn or error"},
		&urfave.StringFlag{Name: flagLogFormat, Category: commonCategory, Value: "auto",
			Usage: "log `FORMAT`: json, text, or auto (text on a terminal, JSON otherwise)"},
		&urfave.DurationFlag{Name: flagTimeout, Category: commonCategory,
			Usage: "give up after `DURATION` and exit 5; 0 means no limit"},
		&urfave.StringFlag{Name: flagRegion, Category: commonCategory,
			Usage: "the AWS `REGION` (default: the SDK's, from AWS_REGION or the shared config)"},
		&urfave.StringFlag{Name: flagEndpointURL, Category: commonCategory,
			Usage: "the AWS endpoint `URL`, e.g. a moto_server (default: AWS's own)"},
		&urfave.StringSliceFlag{Name: flagBucketDir, Category: commonCategory,
			Usage: "serve the bucket `NAME=DIR` from the local folder DIR instead of S3: s3://NAME/key is DIR/key (repeatable; with --backend local, a day runs with no AWS account)"},
		&urfave.DurationFlag{Name: flagIOTimeout, Category: commonCategory, Value: awsnet.DefaultIOTimeout,
			Usage: "the longest a network call waits for a connection or for the next bytes of an answer; a stalled call is retried, then the step exits 75"},
	}
}

// requiredFlag is a flag the step requires, checked by checkUsage.
type requiredFlag struct {
	name string
	env  []string
}

// conformFlags returns copies of flags with their environment variables set
// and Required moved from urfave/cli to the returned list (urfave would print
// the whole help to stdout for a missing flag).
func conformFlags(step string, flags []urfave.Flag) ([]urfave.Flag, []requiredFlag) {
	seen := make(map[string]bool)
	out := make([]urfave.Flag, 0, len(flags))
	var required []requiredFlag
	for _, f := range flags {
		f, env, req := conformFlag(step, f)
		for _, key := range append(f.Names(), env...) {
			if seen[key] {
				panic(fmt.Sprintf("cli: step %s: %q is used by two flags", step, key))
			}
			seen[key] = true
		}
		if req {
			required = append(required, requiredFlag{name: f.Names()[0], env: env})
		}
		out = append(out, f)
	}
	return out, required
}

var stringsType = reflect.TypeFor[[]string]()

// conformFlag returns a copy of f with EnvVars set when empty, Required
// cleared and "(required)" added to its usage; and its environment variables
// and whether it was required.
//
// Reflection rather than a type switch: every urfave/cli v2 flag type
// (String, Bool, Int, Int64, Uint, Float64, Duration, Path, Generic,
// Timestamp and the slices) is a pointer to a struct with the exported
// fields EnvVars, Required and Usage, and a switch would miss the types a
// step adds later.
func conformFlag(step string, f urfave.Flag) (urfave.Flag, []string, bool) {
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("cli: step %s: flag %v (%T) is not a pointer to a struct", step, f.Names(), f))
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	fields := c.Elem()

	envField := fields.FieldByName("EnvVars")
	if !envField.IsValid() || envField.Type() != stringsType {
		panic(fmt.Sprintf("cli: step %s: flag %v (%T) has no EnvVars []string field", step, f.Names(), f))
	}
	if envField.Len() == 0 {
		envField.Set(reflect.ValueOf([]string{EnvVar(f.Names()[0])}))
	}
	env := envField.Interface().([]string)

	req := false
	if r := fields.FieldByName("Required"); r.IsValid() && r.Kind() == reflect.Bool && r.Bool() {
		req = true
		r.SetBool(false)
		if u := fields.FieldByName("Usage"); u.IsValid() && u.Kind() == reflect.String {
			u.SetString(strings.TrimSpace(u.String() + " (required)"))
		}
	}
	return c.Interface().(urfave.Flag), env, req
}

// usageError is the OnUsageError of every app and command: flag parsing
// errors (unknown flag, bad value, bad environment variable) exit 2.
func usageError(_ *urfave.Context, err error, _ bool) error {
	return BadInput(err)
}

// ignoreExit keeps urfave/cli from calling os.Exit; Run decides.
func ignoreExit(*urfave.Context, error) {}

// Positive refuses any of the named flags set to zero or less, as exit 2.
// A flag's zero is the user's: a step never reads it as "unset" and puts a
// default in its place, so a flag whose zero means nothing useful is
// checked here. Flags of type int, int64, float64 and duration.
func Positive(c *urfave.Context, names ...string) error {
	for _, n := range names {
		switch v := c.Value(n).(type) {
		case int:
			if v <= 0 {
				return BadInputf("--%s %d: want a number above 0", n, v)
			}
		case int64:
			if v <= 0 {
				return BadInputf("--%s %d: want a number above 0", n, v)
			}
		case float64:
			if !(v > 0) {
				return BadInputf("--%s %g: want a number above 0", n, v)
			}
		case time.Duration:
			if v <= 0 {
				return BadInputf("--%s %s: want a duration above 0", n, v)
			}
		default:
			panic(fmt.Sprintf("cli: Positive: flag --%s is a %T", n, v))
		}
	}
	return nil
}

// Fraction refuses any of the named float64 flags outside the open
// interval (0, 1), as exit 2.
func Fraction(c *urfave.Context, names ...string) error {
	for _, n := range names {
		v := c.Float64(n)
		if !(v > 0 && v < 1) {
			return BadInputf("--%s %g: want a number between 0 and 1, both excluded", n, v)
		}
	}
	return nil
}
