package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

// TestExitError: the exit code of every kind of error the sagemaker
// package's steps return, as the step binaries exit with it.
func TestExitError(t *testing.T) {
	failed := &sagemaker.JobError{Kind: "transform job", Job: "j", Status: "Failed", Reason: "ClientError: x"}
	timeout, cancel := context.WithCancelCause(context.Background())
	cancel(cli.ErrTimeout)
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"none", nil, cli.ExitOK},
		{"bad setting", &sagemaker.SpecError{Field: "max-payload-mb", Value: "500", Reason: "want 1 to 100"}, cli.ExitBadInput},
		{"taken name", &sagemaker.MismatchError{Job: "j", What: "hyperparameters"}, cli.ExitBadInput},
		{"failed", failed, cli.ExitJobFailed},
		{"failed with a count", fmt.Errorf("%w (4 of 6 photos have an output under s3://b/p/)", failed), cli.ExitJobFailed},
		{"stopped", &sagemaker.JobError{Job: "j", Status: "Stopped"}, cli.ExitJobStopped},
		{"failed and stopped", errors.Join(failed, &sagemaker.JobError{Job: "k", Status: "Stopped"}), cli.ExitJobFailed},
		{"timeout", context.Cause(timeout), cli.ExitTimeout},
		{"timeout while jobs failed", fmt.Errorf("wait: %w", errors.Join(context.Cause(timeout), failed)), cli.ExitTimeout},
		{"throttled", sagemakerError(t, sagemakertest.Throttling()), cli.ExitTransient},
		{"server error", sagemakerError(t, sagemakertest.InternalError()), cli.ExitTransient},
		{"quota", sagemakerError(t, sagemakertest.LimitExceeded()), cli.ExitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cli.ExitCode(jobs.ExitError(tc.err)); got != tc.code {
				t.Errorf("exit %d for %v, want %d", got, tc.err, tc.code)
			}
		})
	}
}

// sagemakerError returns err as the sagemaker package returns it from a
// call that failed with it (after the SDK's retries).
func sagemakerError(t *testing.T, err error) error {
	t.Helper()
	fake := sagemakertest.New()
	fake.FailNext("DescribeModel", err)
	_, _, got := sagemaker.EnsureModel(context.Background(), fake, sagemaker.ModelSpec{Name: "m", Image: "i", ArtifactURI: "s3://b/m.tar.gz"})
	if got == nil {
		t.Fatal("no error")
	}
	return got
}
