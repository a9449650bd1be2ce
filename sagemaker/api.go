package sagemaker

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
)

// API is the part of the SageMaker API that reviewlens calls: the few
// operations this package uses, as the SDK declares them. The SDK's
// *sagemaker.Client satisfies it (NewClient makes one, for AWS or a
// moto_server); so do the local backend, sagemaker/local, which runs the
// jobs on this machine, and the scripted fake in sagemakertest. The
// contract every implementation is held to is the suite in
// sagemaker/apitest.
type API interface {
	CreateTrainingJob(ctx context.Context, in *sagemaker.CreateTrainingJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateTrainingJobOutput, error)
	DescribeTrainingJob(ctx context.Context, in *sagemaker.DescribeTrainingJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeTrainingJobOutput, error)
	StopTrainingJob(ctx context.Context, in *sagemaker.StopTrainingJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.StopTrainingJobOutput, error)

	CreateHyperParameterTuningJob(ctx context.Context, in *sagemaker.CreateHyperParameterTuningJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateHyperParameterTuningJobOutput, error)
	DescribeHyperParameterTuningJob(ctx context.Context, in *sagemaker.DescribeHyperParameterTuningJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeHyperParameterTuningJobOutput, error)
	StopHyperParameterTuningJob(ctx context.Context, in *sagemaker.StopHyperParameterTuningJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.StopHyperParameterTuningJobOutput, error)
	ListTrainingJobsForHyperParameterTuningJob(ctx context.Context, in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListTrainingJobsForHyperParameterTuningJobOutput, error)

	CreateModel(ctx context.Context, in *sagemaker.CreateModelInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateModelOutput, error)
	DescribeModel(ctx context.Context, in *sagemaker.DescribeModelInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeModelOutput, error)
	CreateTransformJob(ctx context.Context, in *sagemaker.CreateTransformJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateTransformJobOutput, error)
	DescribeTransformJob(ctx context.Context, in *sagemaker.DescribeTransformJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeTransformJobOutput, error)
	StopTransformJob(ctx context.Context, in *sagemaker.StopTransformJobInput, optFns ...func(*sagemaker.Options)) (*sagemaker.StopTransformJobOutput, error)
}

var _ API = (*sagemaker.Client)(nil)

// Errors callers branch on. SageMaker's own errors are translated to these
// at the package edge (see Classify); the original stays wrapped.
var (
	// ErrNotFound: the job (or model) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLimit: an account quota is reached (ResourceLimitExceeded); wait
	// for running jobs to finish and try again.
	ErrLimit = errors.New("resource limit exceeded")
	// ErrThrottled: the API is throttling calls; back off and retry.
	ErrThrottled = errors.New("throttled")
	// ErrInUse: the name is taken (ResourceInUse).
	ErrInUse = errors.New("resource in use")
)

// Classify says which of ErrNotFound, ErrLimit, ErrThrottled and ErrInUse
// an error of an API call is, or nil. It is how this package reads
// SageMaker's errors, and what another implementation of API is held to
// (see sagemaker/apitest): SageMaker reports a missing training or
// transform job as a ValidationException ("Requested resource not found",
// moto's "Could not find ..."), not as the modelled ResourceNotFound,
// which only tuning jobs use; a model created twice as a
// ValidationException "Cannot create already existing model".
//
// Errors returned by this package's functions satisfy errors.Is with the
// classified error already.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var rnf *types.ResourceNotFound
	var rle *types.ResourceLimitExceeded
	var riu *types.ResourceInUse
	switch {
	case errors.As(err, &rnf):
		return ErrNotFound
	case errors.As(err, &rle):
		return ErrLimit
	case errors.As(err, &riu):
		return ErrInUse
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return nil
	}
	msg := ae.ErrorMessage()
	switch ae.ErrorCode() {
	case "ValidationException":
		if strings.Contains(msg, "not found") || strings.Contains(msg, "Could not find") || strings.Contains(msg, "does not exist") {
			return ErrNotFound
		}
		if strings.Contains(msg, "Cannot create already existing") {
			return ErrInUse
		}
	case "ResourceNotFound", "ResourceNotFoundException": // the second: CloudWatch Logs'
		return ErrNotFound
	case "ResourceLimitExceeded":
		return ErrLimit
	case "ResourceInUse":
		return ErrInUse
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
		return ErrThrottled
	}
	return nil
}

// apiError wraps err from a SageMaker call so that errors.Is finds the
// classified error as well as the SDK's.
type apiError struct {
	kind error
	err  error
}

func (e *apiError) Error() string   { return e.err.Error() }
func (e *apiError) Unwrap() []error { return []error{e.kind, e.err} }

// wrap adds the operation and, when it is one, the classified error.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if kind := Classify(err); kind != nil {
		err = &apiError{kind: kind, err: err}
	}
	return &opError{op: op, err: err}
}

type opError struct {
	op  string
	err error
}

func (e *opError) Error() string { return e.op + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

// ended gives the reason ctx ended (its cause: the step's timeout, a
// signal) when a call failed because of it, rather than the call's bare
// "context deadline exceeded", so callers can tell a timeout from a fault.
func ended(ctx context.Context, err error) error {
	if ctx.Err() == nil || err == nil {
		return err
	}
	cause := context.Cause(ctx)
	if errors.Is(err, cause) {
		return err
	}
	return &causeError{cause: cause, err: err}
}

type causeError struct{ cause, err error }

func (e *causeError) Error() string   { return e.cause.Error() + ": " + e.err.Error() }
func (e *causeError) Unwrap() []error { return []error{e.cause, e.err} }
