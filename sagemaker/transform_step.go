package sagemaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/inspect"
)

// TransformOptions are the transform step's settings: its flags. The zero
// value of every field but Spec is usable.
type TransformOptions struct {
	// Spec is the transform job: its input (the stage step's
	// input.manifest, a ManifestFile, or a prefix of photos), output, day
	// and instances. Spec.Model names an existing model; leave it empty
	// when ModelFromTrainingJob or ModelFromRuns names the model. Exactly
	// one of the three is given.
	Spec TransformSpec
	// ModelFromTrainingJob is a completed training job: the step creates
	// its model (or finds the one an earlier run created).
	ModelFromTrainingJob string
	// ModelFromRuns is the URI of a runs table (Tune's runs.parquet): the
	// model of its best run, as for ModelFromTrainingJob.
	ModelFromRuns string
	// ModelRoleARN is the execution role of the model the step creates
	// from a training job (ModelFromTrainingJob or ModelFromRuns); ""
	// means the training job's own role. Set it when transforms run under
	// another role than training did (another account's pipeline, a
	// narrower role). An existing model (Spec.Model) keeps its role.
	ModelRoleARN string
	// MaxAttempts bounds the jobs of the same inputs: a rerun that finds
	// the job failed or stopped starts the next attempt; 0 means 3.
	MaxAttempts int
	// KeepJobOnExit leaves the job running when ctx ends; by default it
	// is stopped (a transform has no maximum runtime of its own).
	KeepJobOnExit bool
	// Poll says how often the job is looked at; the zero value is the
	// defaults. Its Clock also times the step.
	Poll Polling
	// Logger gets the step's progress: the job's changes of status; nil
	// means slog.Default().
	Logger *slog.Logger
	// OnEvent, if set, is also called on every change of the job's
	// status.
	OnEvent func(Event)
	// Logs, if set, follows the transform job's log into Logger (or its
	// own Logger) while the step waits on it; nil means it is not
	// followed.
	Logs *LogFollower
}

// TransformResult is what the transform step reports: its result JSON.
type TransformResult struct {
	Job           string `json:"job"`
	Attempt       int    `json:"attempt"`
	Status        string `json:"status"`
	FailureReason string `json:"failure_reason,omitempty"`
	Model         string `json:"model"`
	ModelCreated  bool   `json:"model_created"`
	Input         string `json:"input"`
	Output        string `json:"output"`
	Day           string `json:"day"`
	// Photos is how many photos the input holds.
	Photos int `json:"photos"`
	// Outputs is how many of them have a .out object under Output, when
	// the job ended Completed or Failed (a failed job keeps the outputs
	// of the photos that went through; a stopped one keeps none).
	Outputs        *int    `json:"outputs,omitempty"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// JobSeconds is SageMaker's start to end of the job: what it billed,
	// near enough (times the instance count).
	JobSeconds float64 `json:"job_seconds,omitempty"`
}

// Transform is the transform step: a Batch Transform job over the photos
// of opts.Spec.Input with the model opts names, each photo's prediction
// landing at <Spec.Output>/<its key>.out. It resolves the model (an
// existing one, a training job's, or the best run's of a runs table,
// created once and found by reruns), runs the job (see Transformer), then
// counts the outputs, and returns the step's result.
//
// Run again with the same options, it starts nothing new: the model and
// the job are named from their inputs, so it attaches to the job in
// progress or reuses the completed one. Bad options or inputs are a
// *SpecError before any job is created; a job that ends Failed or
// Stopped is a *JobError (its message says how many photos have an
// output), returned with the result; when ctx ends the job is stopped
// unless KeepJobOnExit.
func Transform(ctx context.Context, api API, files Files, opts TransformOptions) (*TransformResult, error) {
	clock := opts.Poll.Clock
	if clock == nil {
		clock = realClock{}
	}
	start := clock.Now()
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if files == nil {
		return nil, &SpecError{Field: "files", Reason: "no storage given for the input and the outputs"}
	}
	spec := opts.Spec
	given := 0
	for _, v := range []string{spec.Model, opts.ModelFromTrainingJob, opts.ModelFromRuns} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return nil, &SpecError{Field: "model", Reason: "give exactly one of a model, a training job (--model-from-training-job) or a runs table (--model-from-runs)"}
	}
	if opts.ModelRoleARN != "" {
		switch {
		case spec.Model != "":
			return nil, &SpecError{Field: "model-role-arn", Value: opts.ModelRoleARN, Reason: "an existing model (--model) keeps its own role; give a role with --model-from-training-job or --model-from-runs"}
		case !roleARNPattern.MatchString(opts.ModelRoleARN):
			return nil, &SpecError{Field: "model-role-arn", Value: opts.ModelRoleARN, Reason: "want an IAM role ARN, arn:aws:iam::<12 digits>:role/<name>"}
		}
	}
	// The spec is checked before a model is made for it.
	check := spec
	if check.Model == "" {
		check.Model = "model"
	}
	if err := check.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxAttempts < 0 {
		return nil, &SpecError{Field: "max-attempts", Value: fmt.Sprint(opts.MaxAttempts), Reason: "want at least 1 (0 means 3)"}
	}
	if _, err := opts.Poll.withDefaults(); err != nil {
		return nil, err
	}
	follow, err := opts.Logs.Start(log)
	if err != nil {
		return nil, err
	}
	defer follow.Close(ctx)
	photos, err := transformInputs(ctx, files, spec.withDefaults())
	if err != nil {
		return nil, err
	}
	model, created, err := resolveModel(ctx, api, files, opts)
	if err != nil {
		return nil, err
	}
	spec.Model = model
	tr := Transformer{
		API: api, Logger: log, MaxAttempts: opts.MaxAttempts, Poll: opts.Poll, KeepJobOnExit: opts.KeepJobOnExit,
		OnEvent: func(e Event) {
			logEvent(log, e)
			follow.Event(e)
			if opts.OnEvent != nil {
				opts.OnEvent(e)
			}
		},
	}
	log.Info("transforming", "model", model, "photos", len(photos), "input", spec.Input, "output", spec.Output, "day", spec.Day)
	run, runErr := tr.Run(ctx, spec)
	follow.Close(ctx) // the job's last lines before the step's
	if run == nil {
		return nil, runErr
	}
	res := &TransformResult{
		Job: run.Job, Attempt: run.Attempt, Status: run.Status, FailureReason: run.FailureReason,
		Model: model, ModelCreated: created, Input: spec.Input, Output: spec.Output, Day: spec.Day, Photos: len(photos),
	}
	if !run.Start.IsZero() && !run.End.IsZero() {
		res.JobSeconds = run.End.Sub(run.Start).Seconds()
	}
	if run.Status == StatusCompleted || run.Status == StatusFailed {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		n, err := countOutputs(cctx, files, spec.Output, photos)
		cancel()
		if err != nil {
			log.Warn("could not count the outputs", "output", spec.Output, "err", err)
		} else {
			res.Outputs = &n
		}
	}
	res.ElapsedSeconds = clock.Now().Sub(start).Seconds()
	if runErr != nil {
		if res.Outputs != nil {
			runErr = fmt.Errorf("%w (%d of %d photos have an output under %s)", runErr, *res.Outputs, len(photos), spec.Output)
		}
		return res, runErr
	}
	log.Info("transform done", "job", run.Job, "status", run.Status, "photos", len(photos), "outputs", res.Outputs)
	return res, nil
}

// resolveModel finds or creates the SageMaker model opts names.
func resolveModel(ctx context.Context, api API, files Files, opts TransformOptions) (string, bool, error) {
	if opts.Spec.Model != "" {
		return opts.Spec.Model, false, nil
	}
	job := opts.ModelFromTrainingJob
	field := "model-from-training-job"
	if uri := opts.ModelFromRuns; uri != "" {
		field = "model-from-runs"
		data, err := files.ReadFile(ctx, uri)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", false, &SpecError{Field: field, Value: uri, Reason: "no such file", Err: err}
		case err != nil:
			return "", false, fmt.Errorf("%s %s: %w", field, uri, err)
		}
		runs, err := ReadRuns(ctx, bytes.NewReader(data), uri)
		if err != nil {
			return "", false, &SpecError{Field: field, Value: uri, Reason: "not a runs table: " + err.Error(), Err: err}
		}
		best, ok := BestRun(runs)
		if !ok {
			return "", false, &SpecError{Field: field, Value: uri, Reason: "no run is marked best (no job completed with a value of the objective)"}
		}
		job = best.JobName
	}
	m, err := ModelFromTrainingJob(ctx, api, job)
	if errors.Is(err, ErrNotFound) {
		return "", false, &SpecError{Field: field, Value: job, Reason: "no such training job", Err: err}
	}
	if err != nil {
		return "", false, err
	}
	if opts.ModelRoleARN != "" {
		m.RoleARN = opts.ModelRoleARN
	}
	return EnsureModel(ctx, api, m)
}

// transformInputs lists the photos of spec's input, as keys relative to
// its prefix: their outputs are <Output>/<key>.out. A ManifestFile is read
// (a JSON array: {"prefix": ...} then the keys); an S3Prefix is listed.
func transformInputs(ctx context.Context, files Files, spec TransformSpec) ([]string, error) {
	bad := func(reason string, err error) error {
		return &SpecError{Field: "input", Value: spec.Input, Reason: reason, Err: err}
	}
	var keys []string
	if spec.InputType == InputS3Prefix {
		for uri, err := range files.ListURIs(ctx, spec.Input) {
			if err != nil {
				return nil, fmt.Errorf("list input %s: %w", spec.Input, err)
			}
			keys = append(keys, strings.TrimPrefix(uri, spec.Input))
		}
	} else {
		data, err := files.ReadFile(ctx, spec.Input)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, bad("no such file", err)
		case err != nil:
			return nil, fmt.Errorf("read input %s: %w", spec.Input, err)
		}
		var prefix string
		prefix, keys, err = inspect.ReadTransformManifest(bytes.NewReader(data))
		switch {
		case err != nil:
			return nil, bad("not a ManifestFile: "+err.Error(), err)
		case prefix == "":
			return nil, bad(`not a ManifestFile: the prefix is empty, want {"prefix": "s3://bucket/prefix/"} first`, nil)
		case slices.Contains(keys, ""):
			return nil, bad("not a ManifestFile: an empty key", nil)
		}
	}
	if len(keys) == 0 {
		return nil, bad("no photo in it: nothing to transform", nil)
	}
	return keys, nil
}

// countOutputs counts the photos whose .out object is under output.
func countOutputs(ctx context.Context, files Files, output string, photos []string) (int, error) {
	prefix := strings.TrimSuffix(output, "/") + "/"
	found := map[string]bool{}
	for uri, err := range files.ListURIs(ctx, prefix) {
		if err != nil {
			return 0, err
		}
		found[strings.TrimPrefix(uri, prefix)] = true
	}
	n := 0
	for _, k := range photos {
		if found[k+".out"] {
			n++
		}
	}
	return n, nil
}
