package sagemaker

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/reviewlens/reviewlens/internal/testenv"
)

// noBackoff makes the retryer try again at once, so the test does not
// sleep.
func noBackoff(o *retry.StandardOptions) {
	o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
}

// TestClientRetries: the SDK's retryer that NewClient configures is what
// retries throttling and server errors (the waiter does not): up to six
// attempts, then an error this package classifies; errors that are not
// transient (a missing job, a quota) are not retried at all.
func TestClientRetries(t *testing.T) {
	testenv.FakeCredentials(t)
	for _, tc := range []struct {
		name     string
		failures int    // answers that fail before one that succeeds
		status   int    // of the failures
		code     string // of the failures
		op       string
		attempts int   // requests the server gets
		want     error // the classified error; nil for success
	}{
		{"throttled then served", 5, 400, "ThrottlingException", "DescribeTrainingJob", 6, nil},
		{"throttled throughout", 100, 400, "ThrottlingException", "DescribeTrainingJob", 6, ErrThrottled},
		{"server errors then served", 2, 500, "InternalFailure", "DescribeTrainingJob", 3, nil},
		{"missing job", 100, 400, "ValidationException", "DescribeTrainingJob", 1, ErrNotFound},
		{"quota", 100, 400, "ResourceLimitExceeded", "CreateTrainingJob", 1, ErrLimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := requests.Add(1)
				if target := r.Header.Get("X-Amz-Target"); target != "SageMaker."+tc.op {
					t.Errorf("X-Amz-Target %q, want SageMaker.%s", target, tc.op)
				}
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				if int(n) <= tc.failures {
					w.WriteHeader(tc.status)
					msg := "Rate exceeded"
					if tc.code == "ValidationException" {
						msg = "Requested resource not found."
					}
					w.Write([]byte(`{"__type":"` + tc.code + `","message":"` + msg + `"}`))
					return
				}
				w.Write([]byte(`{"TrainingJobName":"j","TrainingJobStatus":"Completed","TrainingJobArn":"arn:aws:sagemaker:us-east-1:123456789012:training-job/j"}`))
			}))
			defer srv.Close()
			client, _, err := newClient(context.Background(), ClientOptions{Region: "us-east-1", EndpointURL: srv.URL}, noBackoff)
			if err != nil {
				t.Fatal(err)
			}
			if tc.op == "CreateTrainingJob" {
				_, err = client.CreateTrainingJob(context.Background(), (&TrainingSpec{RoleARN: "arn:aws:iam::123456789012:role/r", Image: "i",
					Train: "s3://b/t", Validation: "s3://b/v", LabelAttribute: "c", OutputPath: "s3://b/m/"}).Request("j", nil))
			} else {
				_, err = client.DescribeTrainingJob(context.Background(), &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("j")})
			}
			if got := int(requests.Load()); got != tc.attempts {
				t.Errorf("requests = %d, want %d", got, tc.attempts)
			}
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want served", err)
				}
				return
			}
			if got := Classify(err); !errors.Is(got, tc.want) {
				t.Errorf("err = %v, classified %v, want %v", err, got, tc.want)
			}
			if tc.want == ErrThrottled && !strings.Contains(err.Error(), "exceeded maximum number of attempts, 6") {
				t.Errorf("err = %v, want the retryer's six attempts named", err)
			}
		})
	}
}
