// Package jobs holds what the steps that run SageMaker jobs (tune,
// transform) share: the exit code of a step's error, and their storage as
// the sagemaker package takes it.
package jobs

import (
	"context"
	"errors"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/sagemaker"
)

// ExitError gives an error of the sagemaker package its exit code: a bad
// setting or input, or a name taken by another definition, 2; a failed
// job 3, a stopped one 4; throttling the SDK gave up on 75; the step's
// timeout and cancellation keep theirs.
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
	case errors.As(err, &je) && je.Status == sagemaker.StatusStopped:
		return cli.JobStopped(err)
	case errors.As(err, &je):
		return cli.JobFailed(err)
	case errors.Is(err, sagemaker.ErrThrottled):
		return cli.Transient(err)
	}
	return err
}
