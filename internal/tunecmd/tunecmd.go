// Package tunecmd is the tune step: a grid search of SageMaker's built-in
// image-classification algorithm over the manifest step's outputs, as
// parallel training jobs (or one SageMaker Grid tuning job), written to
// runs.parquet with the best job marked, and an HTML report.
package tunecmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/internal/tunereport"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// Strategies of the grid search.
const (
	StrategyTuner = "tuner"          // reviewlens's own: parallel training jobs
	StrategyGrid  = "sagemaker-grid" // one hyperparameter tuning job, Grid strategy
)

// Config is the tune step's input.
type Config struct {
	Train      string // the manifest step's output folder, or its train.manifest
	Validation string // "" = validation.manifest beside Train
	Grid       sagemaker.Grid
	Spec       sagemaker.TrainingSpec // channels and data are filled from Train
	Region     string                 // for the default training image
	JobPrefix  string                 // readable start of job names
	Strategy   string
	Objective  string
	Direction  string
	Runs       string // where runs.parquet goes; "" = <Spec.OutputPath>/runs.parquet
	Report     string // where the HTML report goes; "" = none
	Tuner      sagemaker.Tuner
	Logger     *slog.Logger
}

// Result is the step's result JSON.
type Result struct {
	BestJob             string            `json:"best_job,omitempty"`
	BestObjective       *float64          `json:"best_objective,omitempty"`
	Objective           string            `json:"objective"`
	BestModelArtifact   string            `json:"best_model_artifact,omitempty"`
	BestHyperparameters map[string]string `json:"best_hyperparameters,omitempty"`
	Jobs                int               `json:"jobs"`
	ByStatus            map[string]int    `json:"by_status"`
	Runs                string            `json:"runs"`
	Report              string            `json:"report,omitempty"`
	TuningJob           string            `json:"tuning_job,omitempty"`
	ElapsedSeconds      float64           `json:"elapsed_seconds"`
}

// Run does the step.
func Run(ctx context.Context, store *storage.Storage, api sagemaker.API, cfg Config) (*Result, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Objective == "" {
		cfg.Objective = sagemaker.DefaultObjective
	}
	if cfg.Direction == "" {
		cfg.Direction = sagemaker.Maximize
	}
	if cfg.Direction != sagemaker.Maximize && cfg.Direction != sagemaker.Minimize {
		return nil, cli.BadInputf("--objective-type %q: want Maximize or Minimize", cfg.Direction)
	}
	if cfg.Strategy == "" {
		cfg.Strategy = StrategyTuner
	}
	if cfg.Strategy != StrategyTuner && cfg.Strategy != StrategyGrid {
		return nil, cli.BadInputf("--strategy %q: want %s or %s", cfg.Strategy, StrategyTuner, StrategyGrid)
	}
	data, err := readData(ctx, store, &cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Spec.Image == "" {
		if cfg.Spec.Image, err = sagemaker.ImageURI(cfg.Region); err != nil {
			return nil, cli.BadInput(err)
		}
	}
	if cfg.Runs == "" {
		cfg.Runs = storage.Join(cfg.Spec.OutputPath, "runs.parquet")
	}
	if cfg.JobPrefix == "" {
		cfg.JobPrefix = "rl-ic"
	}

	tuner := cfg.Tuner
	tuner.API, tuner.Logger = api, log
	tuner.Objective, tuner.Direction = cfg.Objective, cfg.Direction
	progress := newProgress(log)
	tuner.OnEvent = progress.event

	var runs []sagemaker.Run
	var tuningJob string
	var runErr error
	switch cfg.Strategy {
	case StrategyTuner:
		planned, err := sagemaker.Plan(cfg.Spec, cfg.Grid, data, cfg.JobPrefix)
		if err != nil {
			return nil, jobs.ExitError(err)
		}
		progress.total = len(planned)
		log.Info("tuning", "jobs", len(planned), "max_parallel", tuner.MaxParallel, "objective", cfg.Objective)
		runs, runErr = tuner.Run(ctx, planned)
	case StrategyGrid:
		hpo, err := sagemaker.PlanGrid(cfg.Spec, cfg.Grid, data, cfg.JobPrefix, sagemaker.GridOptions{
			MaxParallel: tuner.MaxParallel, Objective: cfg.Objective, Direction: cfg.Direction,
		})
		if err != nil {
			return nil, jobs.ExitError(err)
		}
		tuningJob = hpo.Name
		progress.total = cfg.Grid.Size()
		log.Info("tuning with a SageMaker Grid tuning job", "tuning_job", hpo.Name, "jobs", progress.total)
		runs, runErr = tuner.RunGrid(ctx, hpo)
	}
	res := summarize(runs, cfg)
	res.TuningJob = tuningJob
	if len(runs) > 0 {
		// Written even when the step was stopped or timed out: the runs
		// seen so far are what a person looks at then.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := writeOutputs(wctx, store, cfg, runs, res); err != nil {
			return nil, errors.Join(runErr, err)
		}
	}
	res.ElapsedSeconds = time.Since(start).Seconds()
	if runErr != nil {
		return res, jobs.ExitError(runErr)
	}
	log.Info("tune done", "best", res.BestJob, "objective", cfg.Objective, "jobs", len(runs))
	return res, nil
}

// readData reads the manifest step's summary.json for the data's
// hyperparameters and fills the spec's channels.
func readData(ctx context.Context, store *storage.Storage, cfg *Config) (map[string]string, error) {
	if cfg.Train == "" {
		return nil, cli.BadInputf("--train: no training data given (the manifest step's --out folder)")
	}
	sum, folder, err := manifest.LoadPrepared(ctx, store, "--train", cfg.Train)
	if err != nil {
		return nil, err
	}
	data := map[string]string{
		"num_classes":          strconv.Itoa(sum.NumClasses),
		"num_training_samples": strconv.Itoa(sum.NumTrainingSamples),
	}
	if sum.MultiLabel {
		data["multi_label"] = "1"
	}
	spec := &cfg.Spec
	spec.LabelAttribute, spec.MultiLabel = sum.LabelAttribute, sum.MultiLabel
	switch spec.InputFormat {
	case "", sagemaker.FormatAugmented:
		spec.Train = storage.Join(folder, manifest.FileTrain)
		if strings.HasSuffix(cfg.Train, ".manifest") {
			spec.Train = cfg.Train
		}
		spec.Validation = storage.Join(folder, manifest.FileValidation)
		if cfg.Validation != "" {
			spec.Validation = cfg.Validation
			if !strings.HasSuffix(cfg.Validation, ".manifest") {
				spec.Validation = storage.Join(cfg.Validation, manifest.FileValidation)
			}
		}
	case sagemaker.FormatLst:
		if sum.LstPrefix == "" {
			return nil, cli.BadInputf("--input-format lst: %s has no lst_prefix: run the manifest step with --lst-prefix", storage.Join(folder, manifest.FileSummary))
		}
		spec.Train = storage.Join(sum.LstPrefix, "train") + "/"
		spec.Validation = storage.Join(sum.LstPrefix, "validation") + "/"
		spec.TrainLst = storage.Join(folder, manifest.FileTrainLst)
		spec.ValidationLst = storage.Join(folder, manifest.FileValidationLst)
	}
	return data, nil
}

func summarize(runs []sagemaker.Run, cfg Config) *Result {
	res := &Result{Objective: cfg.Objective, Jobs: len(runs), ByStatus: map[string]int{}, Runs: cfg.Runs, Report: cfg.Report}
	for _, r := range runs {
		res.ByStatus[r.Status]++
		if r.Best {
			v := r.Objective
			res.BestJob, res.BestObjective, res.BestModelArtifact = r.JobName, &v, r.ModelArtifact
			res.BestHyperparameters = r.Hyperparameters
		}
	}
	return res
}

func writeOutputs(ctx context.Context, store *storage.Storage, cfg Config, runs []sagemaker.Run, res *Result) error {
	var buf bytes.Buffer
	if err := sagemaker.WriteRuns(&buf, runs); err != nil {
		return err
	}
	if err := store.WriteFile(ctx, cfg.Runs, buf.Bytes()); err != nil {
		return err
	}
	if cfg.Report == "" {
		return nil
	}
	buf.Reset()
	counts := make([]string, 0, len(res.ByStatus))
	for _, s := range slices.Sorted(maps.Keys(res.ByStatus)) {
		counts = append(counts, fmt.Sprintf("%d %s", res.ByStatus[s], s))
	}
	notes := []string{
		"Strategy: " + cfg.Strategy,
		"Training data: " + cfg.Spec.Train + " (validation: " + cfg.Spec.Validation + ")",
		"Instances: " + cfg.Spec.InstanceType,
	}
	if res.TuningJob != "" {
		notes = append(notes, "Tuning job: "+res.TuningJob)
	}
	err := tunereport.Write(&buf, tunereport.Data{
		Title:       fmt.Sprintf("reviewlens tune: %d training jobs (%s)", len(runs), strings.Join(counts, ", ")),
		Objective:   cfg.Objective,
		Direction:   cfg.Direction,
		Axes:        cfg.Grid.Axes,
		Runs:        runs,
		GeneratedAt: time.Now().UTC(),
		Notes:       notes,
	})
	if err != nil {
		return err
	}
	return store.WriteFile(ctx, cfg.Report, buf.Bytes())
}

// progress logs each job's status changes and, every 30 s at most, a
// summary of the whole grid.
type progress struct {
	log   *slog.Logger
	mu    sync.Mutex
	total int
	state map[string]string // job -> status
	last  time.Time
}

func newProgress(log *slog.Logger) *progress {
	return &progress{log: log, state: map[string]string{}}
}

func (p *progress) event(e sagemaker.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	jobs.LogEvent(p.log, "training job", e)
	if e.Status != "" {
		p.state[e.Job] = e.Status
	}
	if now := time.Now(); now.Sub(p.last) >= 30*time.Second || done(p.state) == p.total {
		p.last = now
		counts := map[string]int{}
		for _, s := range p.state {
			counts[s]++
		}
		p.log.Info("tuning progress", "done", done(p.state), "total", p.total, "in_progress", counts["InProgress"],
			"completed", counts["Completed"], "failed", counts["Failed"], "stopped", counts["Stopped"], "bar", bar(done(p.state), p.total))
	}
}

func done(state map[string]string) int {
	n := 0
	for _, s := range state {
		if s == "Completed" || s == "Failed" || s == "Stopped" {
			n++
		}
	}
	return n
}

// bar draws done/total as [#####-----].
func bar(done, total int) string {
	const width = 20
	if total <= 0 {
		return ""
	}
	n := min(width, done*width/total)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}
