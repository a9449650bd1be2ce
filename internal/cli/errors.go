package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/reviewlens/reviewlens/fault"
)

// Exit codes of every step binary.
const (
	ExitOK         = 0  // done
	ExitFailure    = 1  // failed, or interrupted by a signal
	ExitBadInput   = 2  // bad input or usage
	ExitJobFailed  = 3  // a SageMaker job failed
	ExitJobStopped = 4  // a job was stopped
	ExitTimeout    = 5  // the step's own --timeout passed
	ExitTransient  = 75 // a transient error worth a retry (EX_TEMPFAIL)
)

// ErrTimeout is the cause of the context deadline set by --timeout. An error
// that wraps it exits [ExitTimeout].
var ErrTimeout = errors.New("timeout passed")

// Error is an error that carries the exit code the binary should end with.
type Error struct {
	Code int   // one of the Exit constants
	Err  error // what went wrong, for people
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// The kinds of package fault, which the libraries use, are these exit
// codes; the helpers below make errors of those kinds.

// BadInput marks err as bad input (exit 2, fault.BadInput). The message
// should name the flag, file, line or field and what was expected. A nil
// err returns nil.
func BadInput(err error) error { return fault.New(fault.BadInput, err) }

// BadInputf is [BadInput] of fmt.Errorf(format, args...).
func BadInputf(format string, args ...any) error {
	return BadInput(fmt.Errorf(format, args...))
}

// JobFailed marks err as a failed SageMaker job (exit 3). The message should
// carry the job's failure reason. A nil err returns nil.
func JobFailed(err error) error { return fault.New(fault.JobFailed, err) }

// JobStopped marks err as a stopped job (exit 4). A nil err returns nil.
func JobStopped(err error) error { return fault.New(fault.JobStopped, err) }

// Transient marks err as worth a retry (exit 75), for errors [ExitCode] would
// not recognise itself, such as a bare io.ErrUnexpectedEOF from reading an
// object's body. A nil err returns nil.
func Transient(err error) error { return fault.New(fault.Transient, err) }

// kindCodes are the exit codes of package fault's kinds.
var kindCodes = map[fault.Kind]int{
	fault.BadInput:   ExitBadInput,
	fault.JobFailed:  ExitJobFailed,
	fault.JobStopped: ExitJobStopped,
	fault.Transient:  ExitTransient,
}

// coded reports whether err carries an exit code of its own: an [*Error],
// or a failure of a kind of package fault.
func coded(err error) bool {
	var e *Error
	return errors.As(err, &e) || fault.KindOf(err) != fault.Other
}

// ExitCode returns the exit code for err, the first of:
//
//   - nil: [ExitOK];
//   - an [*Error] anywhere in the chain (errors.As): its Code;
//   - an error of a kind of package fault: its code (bad input 2, job
//     failed 3, job stopped 4, transient 75);
//   - [ErrTimeout] in the chain: [ExitTimeout];
//   - context.Canceled in the chain (an interrupted run): [ExitFailure];
//   - a transient error: [ExitTransient]. That is what the AWS SDK's default
//     retryer would retry (throttling codes such as ThrottlingException,
//     Throttling, TooManyRequestsException, SlowDown, RequestLimitExceeded;
//     HTTP 500, 502, 503, 504; connection errors, net.Error timeouts,
//     including a context deadline other than --timeout), and also any HTTP
//     status from 500 up or 429, any *net.OpError but a host that does not
//     exist, connection refused or reset, and io.ErrUnexpectedEOF inside a
//     *url.Error or an AWS operation error;
//   - anything else: [ExitFailure].
//
// Usage errors reach ExitCode as an [*Error] with [ExitBadInput]: the apps
// built by this package wrap them so.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Code
	case fault.KindOf(err) != fault.Other:
		return kindCodes[fault.KindOf(err)]
	case errors.Is(err, ErrTimeout):
		return ExitTimeout
	case errors.Is(err, context.Canceled):
		return ExitFailure
	case isTransient(err):
		return ExitTransient
	}
	return ExitFailure
}

// sdkRetryables is how the AWS SDK decides an attempt is worth retrying.
var sdkRetryables = retry.IsErrorRetryables(retry.DefaultRetryables)

func isTransient(err error) bool {
	// The SDK's verdict first: it also says no, to a host that does not
	// exist or an error that declares itself not retryable.
	switch sdkRetryables.IsErrorRetryable(err) {
	case aws.TrueTernary:
		return true
	case aws.FalseTernary:
		return false
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		if c := status.HTTPStatusCode(); c >= 500 || c == http.StatusTooManyRequests {
			return true
		}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	if errors.Is(err, io.ErrUnexpectedEOF) && fromNetwork(err) {
		return true
	}
	// Errors flattened to text on their way here (%v rather than %w).
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "connection reset")
}

// fromNetwork reports whether err came from an HTTP request or an AWS call.
// A bare io.ErrUnexpectedEOF may as well be a truncated local file.
func fromNetwork(err error) bool {
	var urlErr *url.Error
	var opErr *smithy.OperationError
	return errors.As(err, &urlErr) || errors.As(err, &opErr)
}
