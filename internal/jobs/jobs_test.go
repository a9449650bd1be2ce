package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/internal/testenv"
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

// TestConnectLogs: with --logs, Connect's follower reads CloudWatch Logs
// at --endpoint-url, signed, with the step's region; its waits follow a
// short --poll-interval.
func TestConnectLogs(t *testing.T) {
	testenv.FakeCredentials(t)
	var targets []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		targets = append(targets, r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		if !strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/logs/aws4_request") {
			t.Errorf("Authorization %q: want a signature for logs in eu-west-1", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fmt.Fprint(w, `{"logStreams":[{"logStreamName":"job/algo-1-1"}]}`)
	}))
	defer srv.Close()
	env := &cli.Env{Region: "eu-west-1", EndpointURL: srv.URL}
	c, err := jobs.Connect(t.Context(), env, true, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "eu-west-1" || c.SageMaker == nil || c.Logs == nil {
		t.Fatalf("clients %+v: want the region, a SageMaker client and a log follower", c)
	}
	if c.Logs.Interval != time.Second || c.Logs.Settle != time.Second {
		t.Errorf("interval %s, settle %s: want both 1s (the poll interval)", c.Logs.Interval, c.Logs.Settle)
	}
	names, err := c.Logs.Source.Streams(t.Context(), sagemaker.TrainingLogs, "job/")
	if err != nil || len(names) != 1 || names[0] != "job/algo-1-1" {
		t.Errorf("streams %q, %v: want job/algo-1-1", names, err)
	}
	if len(targets) != 1 || targets[0] != "Logs_20140328.DescribeLogStreams" {
		t.Errorf("requests %q: want one DescribeLogStreams", targets)
	}
	c, err = jobs.Connect(t.Context(), env, false, time.Second)
	if err != nil || c.Logs != nil {
		t.Errorf("without --logs: %+v, %v; want no follower", c, err)
	}
}
