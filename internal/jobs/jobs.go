// Package jobs holds what the steps that run SageMaker jobs (tune,
// transform) share: their clients (SageMaker, and CloudWatch Logs for
// --logs), the exit code of a step's error, and their storage as the
// sagemaker package takes it.
package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/sagemaker"
)

// Clients are what a step that runs SageMaker jobs talks to.
type Clients struct {
	SageMaker sagemaker.API
	Region    string // the region resolved
	// Logs follows the jobs' CloudWatch logs; nil unless asked for.
	Logs *sagemaker.LogFollower
}

// Connect makes the step's SageMaker client for its --region,
// --endpoint-url and --io-timeout and, when logs (--logs), a LogFollower
// on a CloudWatch Logs client made from the same configuration (the same
// retryer and bounded network waits). The follower reads a job's log every
// 10 s, or every poll (the step's --poll-interval) when that is shorter,
// and a last time 5 s (or poll) after the job ended.
func Connect(ctx context.Context, env *cli.Env, logs bool, poll time.Duration) (Clients, error) {
	opts := sagemaker.ClientOptions{Region: env.Region, EndpointURL: env.EndpointURL, IOTimeout: env.IOTimeout}
	cfg, err := sagemaker.Config(ctx, opts)
	if err != nil {
		return Clients{}, ExitError(err)
	}
	c := Clients{SageMaker: sagemaker.NewClientFromConfig(cfg, opts), Region: cfg.Region}
	if logs {
		api := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
			if opts.EndpointURL != "" {
				o.BaseEndpoint = aws.String(opts.EndpointURL)
			}
		})
		c.Logs = &sagemaker.LogFollower{Source: sagemaker.CloudWatchLogs{API: api}, Interval: sagemaker.DefaultLogInterval, Settle: sagemaker.DefaultLogSettle}
		if poll > 0 {
			c.Logs.Interval, c.Logs.Settle = min(c.Logs.Interval, poll), min(c.Logs.Settle, poll)
		}
	}
	return c, nil
}

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
