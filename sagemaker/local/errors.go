package local

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
)

// The errors SageMaker answers with, as the SDK surfaces them, so that
// package sagemaker classifies the local backend's exactly as AWS's.

// notFound is how SageMaker reports a missing training job, transform job
// or model: a ValidationException, not the modelled ResourceNotFound.
func notFound() error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: "Requested resource not found.", Fault: smithy.FaultClient}
}

// validation is a ValidationException with a message.
func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// inUse is a name taken for ever (training and transform jobs are never
// deleted).
func inUse(kind, name, arn string) error {
	msg := fmt.Sprintf("%s names must be unique within an AWS account and region, and a %s with this name already exists (%s)", kind, kind, arn)
	return &types.ResourceInUse{Message: &msg}
}

// modelExists is SageMaker's answer to CreateModel with a name taken.
func modelExists(arn string) error {
	return validation("Cannot create already existing model %q", arn)
}

// notSupported is an operation the local backend does not run.
func notSupported(op, why string) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: op + " is not supported by the local backend: " + why, Fault: smithy.FaultClient}
}
