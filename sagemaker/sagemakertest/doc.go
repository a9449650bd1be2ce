// Package sagemakertest provides a scripted, in-memory fake of
// sagemaker.API for tests, the way net/http/httptest fakes a server: a test
// says what each training or transform job will do, runs the code under
// test against the fake, and then checks which calls were made.
//
// The contract every sagemaker.API is held to is the suite in
// sagemaker/apitest; the fake lacks nothing it checks.
//
// moto, the fake AWS that the wire-level tests use, cannot stand in for
// SageMaker's state machines: it creates training and transform jobs
// already Completed, reports no algorithm metrics (only train:progress),
// writes no transform outputs, overwrites a job or model created twice
// instead of refusing it, accepts a transform job whose model does not
// exist, reports an empty FailureReason for every transform job, creates
// no training jobs for a tuning job, and answers StopTrainingJob,
// StopTransformJob, StopHyperParameterTuningJob and
// ListTrainingJobsForHyperParameterTuningJob with an HTTP 500. Polling,
// failed jobs, stopping, duplicate names, quotas, throttling, grid search
// and batch transform are tested here instead.
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
// # Models
//
// CreateModel checks the request (the name, the role ARN, a primary
// container or containers, each with an image) and stores the model;
// DescribeModel echoes it. Fake.AddModel registers a model made before the
// test. A transform job needs its model to exist.
//
// # Batch transform
//
// A transform job walks through a script of TransformStates the way a
// training job does: one state per DescribeTransformJob call, the last
// repeating, InProgress until the first describe. Its script is the one
// given to Fake.ScriptTransform for its name, else the one returned by
// Fake.TransformScriptFunc, else the default (Fake.DefaultTransformScript;
// initially InProgress, then Completed). FailureReason is reported only
// while the job is Failed, as SageMaker does (moto reports "" always).
// StopTransformJob replaces what is left of a running job's script: the
// next describe shows Stopping, the one after Stopped.
//
// The fake cannot know where the code under test reads outputs from, so
// the test writes them: Fake.OnTransformEnd is called once per job, when
// a describe first shows it Completed, Failed or Stopped, with the job's
// create input and that status, before that describe returns (other
// describes of the job wait for it). To behave like Batch Transform it
// should write <S3OutputPath>/<input key relative to the input
// prefix>.out for every input when the job Completed; for some of them
// when it Failed (Batch Transform keeps going after a failed object and
// keeps the outputs of the objects that succeeded); and none when it was
// Stopped (a stopped transform stores no output). It may call the fake,
// but not DescribeTransformJob for the same job, which would wait for it.
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
//   - creating a model under a used name: ValidationException "Cannot
//     create already existing model "arn:aws:sagemaker:...:model/<name>"."
//     (not ResourceInUse); describing a missing model, or creating a
//     transform job for one: ValidationException "Could not find model
//     "<arn>".";
//   - creating a transform job under a used name: *types.ResourceInUse;
//     describing or stopping a missing transform job: ValidationException
//     "Requested resource not found." (SageMaker models ResourceNotFound
//     for these operations, but answers with a ValidationException, as for
//     training jobs); stopping one that ended: ValidationException "The
//     request was rejected because the transform job is in status
//     Completed.";
//   - AugmentedManifestFile transform input, more than 100 instances or
//     MB of payload, MaxConcurrentTransforms × MaxPayloadInMB over 100, or
//     more than 16 environment entries: ValidationException;
//   - a bad name or Grid setting: ValidationException;
//   - a missing required field: smithy.InvalidParamsError, as the SDK's
//     client-side validation returns it.
//
// Fake.FailNext makes the next calls of an operation fail with given
// errors before doing anything; LimitExceeded, Throttling and InternalError
// build the errors a quota, throttling and a server fault produce. The
// fake has no retryer: Throttling and InternalError are what reaches the
// caller once the SDK's retryer has given up on them.
//
// # CloudWatch Logs
//
// Logs is an in-memory fake of the two CloudWatch Logs calls that
// sagemaker.CloudWatchLogs makes (DescribeLogStreams, GetLogEvents), paged
// and tokened as CloudWatch does: the test writes a job's lines with
// Logs.Put, as SageMaker would, and makes calls fail with Logs.FailNext
// (Throttling, say), to test a sagemaker.LogFollower.
//
// # Storage
//
// Files is an in-memory sagemaker.Files for the step functions (Tune,
// Transform): the test puts their inputs in it (and, from OnTransformEnd,
// a transform's outputs) and reads their outputs back.
//
// # Concurrency
//
// A Fake is safe for use by many goroutines. Its Now field and the
// functions given to it are called with the Fake locked, so they must not
// call the Fake; OnTransformEnd is the exception (see above).
package sagemakertest
