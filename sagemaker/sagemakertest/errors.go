package sagemakertest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// serviceID is what the SDK puts in OperationError.ServiceID.
const serviceID = "SageMaker"

// sdkAttempts is how many attempts the SDK's standard retryer, as
// sagemaker.NewClient configures it, makes before it returns a retryable
// error to the caller.
const sdkAttempts = 6

// LimitExceeded returns the error SageMaker gives when an account quota
// (here, training instances of a type) is used up: a
// *types.ResourceLimitExceeded, which the SDK does not retry.
func LimitExceeded() error {
	return responseError(http.StatusBadRequest, &types.ResourceLimitExceeded{Message: aws.String(
		"The account-level service limit 'ml.p3.2xlarge for training job usage' is 1 Instances, " +
			"with current utilization of 1 Instances and a request delta of 1 Instances. " +
			"Please use AWS Service Quotas to request an increase for this quota. " +
			"If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.")})
}

// Throttling returns the error a caller sees when SageMaker throttles it:
// an HTTP 400 ThrottlingException (a smithy.APIError, unmodelled), wrapped
// in the *retry.MaxAttemptsError the SDK's retryer returns once its
// attempts are used up. retry.DefaultRetryables classify it as retryable.
func Throttling() error {
	return &retry.MaxAttemptsError{Attempt: sdkAttempts, Err: responseError(http.StatusBadRequest,
		&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"})}
}

// InternalError returns the error a caller sees when SageMaker keeps
// failing with HTTP 500: an InternalFailure API error in an HTTP 500
// response error, wrapped in the *retry.MaxAttemptsError the SDK's retryer
// returns once its attempts are used up. retry.DefaultRetryables classify
// it as retryable (by its status code).
func InternalError() error {
	return &retry.MaxAttemptsError{Attempt: sdkAttempts, Err: responseError(http.StatusInternalServerError,
		&smithy.GenericAPIError{Code: "InternalFailure", Message: "An internal error occurred. Try again."})}
}

// requestIDs numbers the fake request IDs.
var requestIDs atomic.Uint64

// responseError wraps an API error the way the SDK's deserializers do: an
// *awshttp.ResponseError carrying the HTTP status and the request ID.
func responseError(status int, err error) error {
	id := fmt.Sprintf("5a6c0d1e-0000-4000-8000-%012x", requestIDs.Add(1))
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{
				StatusCode: status,
				Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
				Header:     http.Header{"X-Amzn-Requestid": {id}},
			}},
			Err: err,
		},
		RequestID: id,
	}
}

// operationError wraps err the way the SDK wraps every error an operation
// returns, unless it is wrapped so already.
func operationError(op string, err error) error {
	if _, ok := errors.AsType[*smithy.OperationError](err); ok {
		return err
	}
	return &smithy.OperationError{ServiceID: serviceID, OperationName: op, Err: err}
}

func validationError(format string, args ...any) error {
	return responseError(http.StatusBadRequest,
		&smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...)})
}

// trainingNotFound is what SageMaker says about a missing training job: not
// the modelled ResourceNotFound but a ValidationException.
func trainingNotFound() error {
	return validationError("Requested resource not found.")
}

func tuningNotFound(name string) error {
	return responseError(http.StatusBadRequest, &types.ResourceNotFound{Message: aws.String(
		"Amazon SageMaker can't find a tuning job called " + name + ". Type another name.")})
}

// constraint is the message AWS's request validation gives for a field
// that breaks a constraint of the service model, e.g.
// "1 validation error detected: Value 'a_b' at 'trainingJobName' failed to
// satisfy constraint: Member must satisfy regular expression pattern: ...".
func constraint(value any, field, rule string) error {
	return validationError("1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: Member must %s",
		value, field, rule)
}

// params collects missing required fields the way the SDK's client-side
// validators do, and returns the same smithy.InvalidParamsError.
type params struct {
	smithy.InvalidParamsError
}

func newParams(context string) *params {
	return &params{smithy.InvalidParamsError{Context: context}}
}

// require adds field to the errors if missing is true.
func (p *params) require(missing bool, field string) {
	if missing {
		p.Add(smithy.NewErrParamRequired(field))
	}
}

// nested adds the errors of a nested structure's check.
func (p *params) nested(field string, q *params) {
	if q.Len() > 0 {
		p.AddNested(field, q.InvalidParamsError)
	}
}

func (p *params) err() error {
	if p.Len() == 0 {
		return nil
	}
	return p.InvalidParamsError
}

// isValidName reports whether name matches SageMaker's job-name pattern
// [a-zA-Z0-9](-*[a-zA-Z0-9])* (no leading, trailing or other characters).
func isValidName(name string) bool {
	if name == "" || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") {
		return false
	}
	for _, r := range name {
		if !(r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// checkName validates a job name as SageMaker does, field being the
// request member in camel case (trainingJobName).
func checkName(name, field string, maxLen int) error {
	pattern := fmt.Sprintf("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,%d}", maxLen-1)
	switch {
	case len(name) > maxLen:
		return constraint(name, field, fmt.Sprintf("have length less than or equal to %d", maxLen))
	case !isValidName(name):
		return constraint(name, field, "satisfy regular expression pattern: "+pattern)
	}
	return nil
}
