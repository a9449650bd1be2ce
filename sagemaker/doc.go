// Package sagemaker runs reviewlens's work on Amazon SageMaker: the built-in
// image-classification algorithm's training jobs, a grid search over its
// hyperparameters, and (later) models and Batch Transform jobs. It is the
// only package, with sagemaker/local, that sees the SageMaker SDK's types.
//
// # Jobs that survive retries
//
// Job names are derived from everything that defines the job (data, grid
// point, image, settings), so a step that is run again finds the jobs it
// started before: one in progress is attached to, one completed is reused,
// one failed or stopped is tried again under the same name plus an attempt
// suffix. A job of the same name but another definition is an error.
//
// # Errors
//
// Errors from SageMaker keep the SDK's error and also satisfy errors.Is
// with ErrNotFound, ErrLimit, ErrThrottled or ErrInUse when they are one of
// those. A bad hyperparameter or setting is a *SpecError before anything is
// sent. A job that ends Failed is a *JobError with SageMaker's failure reason.
package sagemaker
