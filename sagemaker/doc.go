// Package sagemaker runs reviewlens's work on Amazon SageMaker: it trains
// the built-in image-classification algorithm over a grid of
// hyperparameters and keeps the best model (the tune step), and classifies
// a day's photos with that model in a Batch Transform job (the transform
// step). It is the only package of reviewlens, with its subpackages, that
// sees the SageMaker SDK's types.
//
// # The steps
//
// Each step is one function: options in (the step's flags), the step's
// result out, SageMaker and storage passed in.
//
//	client, region, err := sagemaker.NewClient(ctx, sagemaker.ClientOptions{})
//	store := storage.New(storage.Options{})     // or buckets a program opened
//	prepared, folder, err := manifest.LoadPrepared(ctx, store, "labels", "s3://b/labels/")
//	tuned, err := sagemaker.Tune(ctx, client, store, sagemaker.TuneOptions{
//		Data:   sagemaker.DataFrom(prepared, folder), // classes, samples, manifests
//		Spec:   sagemaker.TrainingSpec{RoleARN: role, OutputPath: "s3://b/models/"},
//		Grid:   grid,    // ParseGridFlags, ParseGridFile
//		Region: region,
//	})
//	day, err := sagemaker.Transform(ctx, client, store, sagemaker.TransformOptions{
//		Spec:          sagemaker.TransformSpec{Input: "s3://b/staged/dt=2026-11-28/input.manifest", Output: "s3://b/predictions/dt=2026-11-28/", Day: "2026-11-28"},
//		ModelFromRuns: tuned.Runs, // the best run's model
//	})
//
// Tune writes runs.parquet (RunsTable: one row per training job, the best
// marked; BestRun finds it) and an HTML report; Transform resolves the
// model (a given one, a training job's, or the best run's), runs the job
// and counts the <photo>.out outputs. Files is the storage they use
// (*storage.Storage is one). DataFrom reads the manifest step's summary,
// and TrainingData turns it into the data's hyperparameters and channels.
//
// Below the steps are their parts, for programs that need another shape:
// Plan and Tuner.Run (parallel training jobs), PlanGrid and Tuner.RunGrid
// (one SageMaker Grid tuning job), ModelFromTrainingJob and EnsureModel,
// TransformSpec and Transformer.Run.
//
// # Jobs that survive retries
//
// Job names are derived from everything that defines the job (data, grid
// point, image, settings), so a step that is run again finds the jobs it
// started before: one in progress is attached to, one completed is reused,
// one failed or stopped is tried again under the same name plus an attempt
// suffix (-a2, -a3, up to MaxAttempts). A job of the same name but another
// definition is an error. When the caller's context ends (a signal, the
// step's timeout) the jobs being waited on are stopped, unless the options
// say to keep them.
//
// # Waiting
//
// Every job is waited on the same way (see Polling): described every
// Interval, the wait doubling up to Max; created again after LimitWait
// when an account quota refused it (ResourceLimitExceeded); and given a
// next attempt when it failed for want of capacity (training and tuning
// jobs; a training job also when it was stopped, as spot jobs are). A
// transform job that ends Stopped keeps no output and is not tried again.
// Throttling, server errors and timeouts are retried by the SDK's retryer
// (NewClient), never here as well: an error it gives up on ends the step,
// which a rerun resumes.
//
// # Errors
//
// Errors from SageMaker keep the SDK's error and also satisfy errors.Is
// with ErrNotFound, ErrLimit, ErrThrottled or ErrInUse when they are one of
// those (Classify). A bad option, hyperparameter or input is a *SpecError
// before anything is sent. A job that ends Failed or Stopped is a
// *JobError with SageMaker's failure reason; a name taken by another
// definition is a *MismatchError.
//
// # Logs
//
// A LogFollower in TuneOptions.Logs or TransformOptions.Logs follows the
// logs of the jobs the step waits on into its own log while it waits, each
// line with the job and the stream it came from, none twice. It reads a
// LogSource: CloudWatchLogs on AWS (the groups /aws/sagemaker/TrainingJobs
// and /aws/sagemaker/TransformJobs, streams named <job>/..., read with
// DescribeLogStreams and GetLogEvents through the small CloudWatchLogsAPI),
// or the local backend's log files. Following never delays the wait and
// never fails the step.
//
// # Backends
//
// API is the few SageMaker operations used. The SDK's client satisfies it,
// for AWS or a moto_server; sagemaker/local runs the jobs on this machine
// (real training of a small network, real predictions, no AWS account);
// sagemakertest is a scripted fake of it for tests; apitest is the
// contract every implementation is held to.
package sagemaker
