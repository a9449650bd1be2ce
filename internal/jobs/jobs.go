// Package jobs holds what the steps that run SageMaker jobs (tune,
// transform) share: the exit code of a job's end, and the log line of each
// of its events.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/sagemaker"
)

// ExitError gives an error of the sagemaker package its exit code: a bad
// setting or a name taken by another definition 2, a failed job 3, a
// stopped one 4; the step's timeout and cancellation keep theirs.
func ExitError(err error) error {
	var je *sagemaker.JobError
	var se *sagemaker.SpecError
	var me *sagemaker.MismatchError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se), errors.As(err, &me):
		return cli.BadInput(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, cli.ErrTimeout):
		return err
	case errors.As(err, &je) && je.Status == "Stopped":
		return cli.JobStopped(err)
	case errors.As(err, &je):
		return cli.JobFailed(err)
	}
	return err
}

// LogEvent logs a job's event: its status, secondary status, time in that
// state and what the step did.
func LogEvent(log *slog.Logger, kind string, e sagemaker.Event) {
	attrs := []any{"job", e.Job, "status", e.Status}
	if e.Attempt > 0 {
		attrs = append(attrs, "attempt", e.Attempt)
	}
	if e.Secondary != "" {
		attrs = append(attrs, "secondary", e.Secondary)
	}
	if e.Elapsed > 0 {
		attrs = append(attrs, "elapsed", e.Elapsed.Round(time.Second).String())
	}
	if e.Action != "" {
		attrs = append(attrs, "action", e.Action)
	}
	log.Info(kind, attrs...)
}
