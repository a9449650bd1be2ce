// Package sagemakertest provides a scripted, in-memory fake of
// sagemaker.API for tests, the way net/http/httptest fakes a server: a test
// says what each training job will do, runs the code under test against the
// fake, and then checks which calls were made.
//
// moto, the fake AWS that the wire-level tests use, cannot stand in for
// SageMaker's state machines: it creates training jobs already Completed,
// reports no algorithm metrics (only train:progress), overwrites a job
// created twice instead of refusing it, creates no training jobs for a
// tuning job, and answers StopTrainingJob, StopHyperParameterTuningJob and
// ListTrainingJobsForHyperParameterTuningJob with an HTTP 500. Polling,
// failed jobs, stopping, duplicate names, quotas, throttling and grid
// search are tested here instead.
//
// # Scripts
//
// A training job walks through a script of States, one per
// DescribeTrainingJob call: the first call shows the first state, the
// second call the second, and the last state repeats. Until its first
// describe a new job is InProgress/Starting. The script of a job is, in
// order of preference, the one given to Fake.Script for its name, the one
// returned by Fake.ScriptFunc for its create input, or the default script
// (Fake.DefaultScript; initially InProgress/Training, then Completed with
// validation:accuracy 0.5 and 60 billable seconds).
//
// StopTrainingJob replaces what is left of a running job's script: the
// next describe shows Stopping, the one after Stopped.
//
// # Hyperparameter tuning
//
// Only the Grid strategy is faked. CreateHyperParameterTuningJob validates
// the request as SageMaker does for Grid, then launches one child training
// job per combination of the categorical values, at most
// MaxParallelTrainingJobs at a time. Children not yet launched do not exist
// (SageMaker launches them as slots free up, and lists only launched ones).
// A tuning job moves only when it is described: each
// DescribeHyperParameterTuningJob call advances every running child by one
// step of its script, then launches waiting children into free slots.
// Describing a child with DescribeTrainingJob shows its state without
// advancing it.
//
// # Errors
//
// Errors have the types and codes real SageMaker gives, wrapped the way the
// SDK wraps them (*smithy.OperationError around an HTTP response error
// around the API error), so code under test classifies them with
// errors.As exactly as it would in production:
//
//   - creating a training job under a used name: *types.ResourceInUse;
//   - describing or stopping a missing training job: ValidationException
//     "Requested resource not found." (a smithy.APIError, not the modelled
//     ResourceNotFound);
//   - stopping a job that already ended: ValidationException "The request
//     was rejected because the training job is in status Completed.";
//   - a missing tuning job: *types.ResourceNotFound; a used tuning-job
//     name: *types.ResourceInUse;
//   - a bad name or Grid setting: ValidationException;
//   - a missing required field: smithy.InvalidParamsError, as the SDK's
//     client-side validation returns it.
//
// Fake.FailNext makes the next calls of an operation fail with given
// errors before doing anything; LimitExceeded, Throttling and InternalError
// build the errors a quota, throttling and a server fault produce.
//
// # Concurrency
//
// A Fake is safe for use by many goroutines. Its Now field and the
// functions given to it are called with the Fake locked, so they must not
// call the Fake.
package sagemakertest
