// Package cli holds the conventions every reviewlens step binary follows, so
// that cmd/reviewlens (every step as a subcommand) and cmd/reviewlens-<step>
// (one step alone, for pod images) behave the same and their mains stay a few
// lines:
//
//	func main() { cli.Main(cli.SingleApp(inspect.StageStep())) }
//
//	func main() {
//		cli.Main(cli.App("reviewlens", "inspect customer review photos",
//			cli.Command(inspect.StageStep()), cli.Command(credit.Step())))
//	}
//
// A step is a [Step]: a name, its own flags, and an action that returns a
// result. [Command] makes it a subcommand and [SingleApp] a binary of its
// own; both add what is described below. [Main] runs the binary; [Run] is
// its testable core. The multi-step binary run under the name
// reviewlens-<step> (a link to it, as the container image has) is that
// step alone, with the same flags.
//
// # Flags and environment variables
//
// Every flag can also be set by the environment variable REVIEWLENS_ and the
// flag's name in upper case with dashes turned into underscores:
// --min-confidence is REVIEWLENS_MIN_CONFIDENCE (see [EnvVar]). A flag that
// names its own EnvVars keeps them. Help shows the variable beside the flag.
// A flag on the command line wins over its variable.
//
// Every step also takes the common flags:
//
//	--xcom PATH           also write the result JSON to PATH, creating its folder
//	--log-level LEVEL     debug, info (default), warn or error
//	--log-format FORMAT   auto (default: text on a terminal, JSON otherwise), json or text
//	--timeout DURATION    the step's own deadline; 0 (default) means none
//	--region REGION       the AWS region; empty means the SDK's default chain
//	--endpoint-url URL    the AWS endpoint, e.g. a moto_server; empty means AWS's own
//	--bucket-dir NAME=DIR serve s3://NAME from the local folder DIR (repeatable)
//	--io-timeout DURATION the longest a network call waits for a connection or the
//	                      next bytes of an answer (20s); a stalled call is retried,
//	                      then the step exits 75
//
// The action sees the region, the endpoint and the logger in its [Env]; the
// rest is handled here.
//
// Required flags are checked here rather than by urfave/cli, so that a
// missing one is reported in one line naming its environment variable, with
// no help text on stdout; their help reads "(required)".
//
// # Result
//
// Stdout carries only the step's result: the value the action returns,
// encoded as one compact JSON document and a newline (a nil result on
// success is written as {}). --xcom PATH writes the same bytes to PATH:
// Airflow's KubernetesPodOperator reads /airflow/xcom/return.json, Argo an
// output parameter from a file.
//
// A step may return a result together with an error to report partial work
// (say, the jobs it started before one failed): the result is still written to
// stdout and --xcom, and the exit code is the error's. A step that returns a
// nil result with an error writes nothing to stdout.
//
// # Logging
//
// Logs go to stderr through log/slog: JSON when stderr is not a terminal (a
// pod, a pipe, a file), text when it is, unless --log-format says otherwise.
// Each record carries step=<name>. When a step fails, its error is logged and
// also printed as one plain line, "<binary>: <message>", as the last line
// on stderr.
//
// # Exit codes
//
//	0   ExitOK          done
//	1   ExitFailure     failed; also when interrupted by SIGINT or SIGTERM
//	2   ExitBadInput    bad input or usage: unknown flag or step, missing required flag, bad value
//	3   ExitJobFailed   a SageMaker job failed
//	4   ExitJobStopped  a job was stopped
//	5   ExitTimeout     the step's own --timeout passed
//	75  ExitTransient   a transient error worth a retry: throttling, HTTP 5xx, network
//
// A step chooses a code by returning an [*Error] ([BadInput], [JobFailed],
// [JobStopped], [Transient]); [ExitCode] works out the rest. Usage errors
// (unknown flag, bad flag value, missing required flag, unexpected argument)
// print a hint to run --help. Interruption by a signal exits 1 unless the
// step returned an [*Error] with a code of its own (a step that stops its
// SageMaker job on SIGTERM may well say [JobStopped]). When both a code the
// step chose and the timeout apply, the step's code wins.
package cli
