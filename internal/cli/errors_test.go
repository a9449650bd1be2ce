package cli

import (
	"github.com/reviewlens/reviewlens/fault"

	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// timeoutError is a net.Error that timed out, as a read past its deadline.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return false }

func httpError(status int) *smithyhttp.ResponseError {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      errors.New("the service said no"),
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("boom"), ExitFailure},
		{"bad input", BadInput(errors.New("line 3: no label")), ExitBadInput},
		{"bad input f", BadInputf("--in %q: not a URI", "x"), ExitBadInput},
		{"job failed", JobFailed(errors.New("AlgorithmError")), ExitJobFailed},
		{"job stopped", JobStopped(errors.New("stopped")), ExitJobStopped},
		{"transient", Transient(io.ErrUnexpectedEOF), ExitTransient},
		{"wrapped *Error", fmt.Errorf("train: %w", JobFailed(errors.New("x"))), ExitJobFailed},
		{"*Error beats throttling", BadInput(&smithy.GenericAPIError{Code: "ThrottlingException"}), ExitBadInput},
		{"timeout", fmt.Errorf("%w: %w", ErrTimeout, context.DeadlineExceeded), ExitTimeout},
		{"canceled", fmt.Errorf("wait: %w", context.Canceled), ExitFailure},
		{"canceled dial", &net.OpError{Op: "dial", Err: fmt.Errorf("x: %w", context.Canceled)}, ExitFailure},
		{"other deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), ExitTransient},
		{"ThrottlingException", &smithy.GenericAPIError{Code: "ThrottlingException"}, ExitTransient},
		{"Throttling", &smithy.GenericAPIError{Code: "Throttling"}, ExitTransient},
		{"TooManyRequestsException", &smithy.GenericAPIError{Code: "TooManyRequestsException"}, ExitTransient},
		{"SlowDown", &smithy.GenericAPIError{Code: "SlowDown"}, ExitTransient},
		{"RequestLimitExceeded", &smithy.GenericAPIError{Code: "RequestLimitExceeded"}, ExitTransient},
		{"wrapped throttling", &smithy.OperationError{ServiceID: "SageMaker", OperationName: "DescribeTrainingJob",
			Err: &smithy.GenericAPIError{Code: "ThrottlingException"}}, ExitTransient},
		{"ValidationException", &smithy.GenericAPIError{Code: "ValidationException"}, ExitFailure},
		{"HTTP 503 (aws)", &awshttp.ResponseError{ResponseError: httpError(503), RequestID: "r"}, ExitTransient},
		{"HTTP 501", httpError(501), ExitTransient},
		{"HTTP 429", httpError(429), ExitTransient},
		{"HTTP 400", httpError(400), ExitFailure},
		{"HTTP 404", httpError(404), ExitFailure},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, ExitTransient},
		{"read", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("broken")}, ExitTransient},
		{"net timeout", fmt.Errorf("get: %w", timeoutError{}), ExitTransient},
		{"no such host", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}}, ExitFailure},
		{"refused", fmt.Errorf("put: %w", syscall.ECONNREFUSED), ExitTransient},
		{"reset", fmt.Errorf("put: %w", syscall.ECONNRESET), ExitTransient},
		{"reset as text", fmt.Errorf("put: %v", "read tcp: connection reset by peer"), ExitTransient},
		{"refused as text", errors.New("dial tcp 127.0.0.1:5000: connect: connection refused"), ExitTransient},
		{"EOF from HTTP", &url.Error{Op: "Get", URL: "http://x", Err: io.ErrUnexpectedEOF}, ExitTransient},
		{"EOF from AWS", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: io.ErrUnexpectedEOF}, ExitTransient},
		{"EOF of a file", fmt.Errorf("read labels.parquet: %w", io.ErrUnexpectedEOF), ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ExitCode(tt.err); got != tt.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestConstructorsKeepNil(t *testing.T) {
	for name, f := range map[string]func(error) error{
		"BadInput": BadInput, "JobFailed": JobFailed, "JobStopped": JobStopped, "Transient": Transient,
	} {
		if err := f(nil); err != nil {
			t.Errorf("%s(nil) = %v, want nil", name, err)
		}
	}
}

func TestErrorUnwraps(t *testing.T) {
	inner := errors.New("job x: AlgorithmError: out of memory")
	err := fmt.Errorf("tune: %w", JobFailed(inner))
	if !errors.Is(err, inner) {
		t.Errorf("errors.Is(%v, inner) = false", err)
	}
	if got, want := err.Error(), "tune: job x: AlgorithmError: out of memory"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if got := fault.KindOf(err); got != fault.JobFailed {
		t.Errorf("fault.KindOf(%v) = %v, want job failed", err, got)
	}
	if got := ExitCode(err); got != ExitJobFailed {
		t.Errorf("ExitCode(%v) = %d, want %d", err, got, ExitJobFailed)
	}
}
