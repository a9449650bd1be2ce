// Package transformcmd is the transform step: SageMaker Batch Transform
// over the photos the stage step staged, with the model a tuning run chose.
package transformcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/internal/stepio"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// Files of the stage step's output folder that this step reads.
const (
	FileStaged   = "staged.parquet"
	FileManifest = "input.manifest"
)

// Config is the transform step's input.
type Config struct {
	Staged string // the stage step's --out folder, or its staged.parquet
	// One of these names the model.
	Model                string                  // an existing SageMaker model
	ModelFromTrainingJob string                  // a completed training job
	ModelFromRuns        string                  // runs.parquet: its best run
	Spec                 sagemaker.TransformSpec // Model, Input, Day are filled in
	Transformer          sagemaker.Transformer
	Logger               *slog.Logger
}

// Result is the step's result JSON.
type Result struct {
	Job            string  `json:"job"`
	Attempt        int     `json:"attempt"`
	Status         string  `json:"status"`
	FailureReason  string  `json:"failure_reason,omitempty"`
	Model          string  `json:"model"`
	ModelCreated   bool    `json:"model_created"`
	Input          string  `json:"input"`
	Output         string  `json:"output"`
	Day            string  `json:"day"`
	Photos         int     `json:"photos"`
	Outputs        *int    `json:"outputs,omitempty"` // .out objects found for staged photos, when the job ended
	ElapsedSeconds float64 `json:"elapsed_seconds"`
	// JobSeconds is SageMaker's start to end of the job: what it billed,
	// near enough (times the instance count).
	JobSeconds float64 `json:"job_seconds,omitempty"`
}

// Run does the step.
func Run(ctx context.Context, store *storage.Storage, api sagemaker.API, cfg Config) (*Result, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	staged, folder, err := readStaged(ctx, store, cfg.Staged)
	if err != nil {
		return nil, err
	}
	model, created, err := resolveModel(ctx, store, api, cfg)
	if err != nil {
		return nil, err
	}
	spec := cfg.Spec
	spec.Model, spec.Input, spec.InputType = model, storage.Join(folder, FileManifest), sagemaker.InputManifestFile
	spec.Day = staged[0].Day
	if err := spec.Validate(); err != nil {
		return nil, cli.BadInput(err)
	}
	tr := cfg.Transformer
	tr.API, tr.Logger = api, log
	tr.OnEvent = func(e sagemaker.Event) { jobs.LogEvent(log, "transform job", e) }
	log.Info("transforming", "model", model, "photos", len(staged), "input", spec.Input, "output", spec.Output, "day", spec.Day)
	run, runErr := tr.Run(ctx, spec)
	if run == nil {
		return nil, jobs.ExitError(runErr)
	}
	res := &Result{
		Job: run.Job, Attempt: run.Attempt, Status: run.Status, FailureReason: run.FailureReason,
		Model: model, ModelCreated: created, Input: spec.Input, Output: spec.Output, Day: spec.Day, Photos: len(staged),
	}
	if !run.Start.IsZero() && !run.End.IsZero() {
		res.JobSeconds = run.End.Sub(run.Start).Seconds()
	}
	if run.Status == "Completed" || run.Status == "Failed" {
		// A failed transform keeps the outputs of the photos that went
		// through: say how many there are.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		n, err := countOutputs(cctx, store, spec.Output, staged)
		cancel()
		if err != nil {
			log.Warn("could not count the outputs", "output", spec.Output, "err", err)
		} else {
			res.Outputs = &n
		}
	}
	res.ElapsedSeconds = time.Since(start).Seconds()
	if runErr != nil {
		if res.Outputs != nil {
			runErr = fmt.Errorf("%w (%d of %d photos have an output under %s)", runErr, *res.Outputs, len(staged), spec.Output)
		}
		return res, jobs.ExitError(runErr)
	}
	log.Info("transform done", "job", run.Job, "status", run.Status, "photos", len(staged))
	return res, nil
}

func readStaged(ctx context.Context, store *storage.Storage, uri string) ([]inspect.Staged, string, error) {
	if uri == "" {
		return nil, "", cli.BadInputf("--staged: give the stage step's --out folder")
	}
	data, file, err := stepio.ReadParquet(ctx, store, "--staged", uri, FileStaged, "the stage step's staged.parquet")
	if err != nil {
		return nil, "", err
	}
	folder := file[:strings.LastIndexAny(file, "/")+1]
	staged, err := inspect.ReadStaged(bytes.NewReader(data), file)
	if err != nil {
		return nil, "", cli.BadInput(fmt.Errorf("--staged: %w", err))
	}
	if len(staged) == 0 {
		return nil, "", cli.BadInputf("%s: no photo staged: nothing to transform", file)
	}
	return staged, folder, nil
}

// resolveModel finds or creates the SageMaker model to transform with.
func resolveModel(ctx context.Context, store *storage.Storage, api sagemaker.API, cfg Config) (string, bool, error) {
	given := 0
	for _, v := range []string{cfg.Model, cfg.ModelFromTrainingJob, cfg.ModelFromRuns} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return "", false, cli.BadInputf("give exactly one of --model, --model-from-training-job, --model-from-runs")
	}
	if cfg.Model != "" {
		return cfg.Model, false, nil
	}
	job := cfg.ModelFromTrainingJob
	if cfg.ModelFromRuns != "" {
		data, file, err := stepio.ReadParquet(ctx, store, "--model-from-runs", cfg.ModelFromRuns, "runs.parquet", "the tune step's runs.parquet")
		if err != nil {
			return "", false, err
		}
		runs, err := sagemaker.ReadRuns(ctx, bytes.NewReader(data), file)
		if err != nil {
			return "", false, cli.BadInput(fmt.Errorf("--model-from-runs: %w", err))
		}
		for _, r := range runs {
			if r.Best {
				job = r.JobName
			}
		}
		if job == "" {
			return "", false, cli.BadInputf("--model-from-runs %s: no run is marked best (no job completed with the objective)", cfg.ModelFromRuns)
		}
	}
	spec, err := sagemaker.ModelFromTrainingJob(ctx, api, job)
	if err != nil {
		var se *sagemaker.SpecError
		if errors.As(err, &se) || errors.Is(err, sagemaker.ErrNotFound) {
			return "", false, cli.BadInput(err)
		}
		return "", false, err
	}
	name, created, err := sagemaker.EnsureModel(ctx, api, spec)
	if err != nil {
		var me *sagemaker.MismatchError
		if errors.As(err, &me) {
			return "", false, cli.BadInput(err)
		}
		return "", false, err
	}
	return name, created, nil
}

// countOutputs counts the staged photos whose .out object exists.
func countOutputs(ctx context.Context, store *storage.Storage, output string, staged []inspect.Staged) (int, error) {
	prefix := strings.TrimSuffix(output, "/") + "/"
	found := map[string]bool{}
	for obj, err := range store.List(ctx, prefix) {
		if err != nil {
			return 0, err
		}
		found[strings.TrimPrefix(obj.URI, prefix)] = true
	}
	n := 0
	for _, s := range staged {
		if found[s.OutputKey] {
			n++
		}
	}
	return n, nil
}
