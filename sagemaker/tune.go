package sagemaker

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reviewlens/reviewlens/manifest"
)

// Files is the storage the step functions read their inputs from and
// write their outputs to, by URI (s3://bucket/key, or whatever else the
// implementation serves). reviewlens's storage satisfies it; so does
// sagemakertest.Files, in memory.
type Files interface {
	// ReadFile returns the whole file at uri, or an error satisfying
	// errors.Is(err, fs.ErrNotExist) when there is none.
	ReadFile(ctx context.Context, uri string) ([]byte, error)
	// WriteFile writes data as the whole file at uri, atomically: a reader
	// sees the old file or the new one, never a part.
	WriteFile(ctx context.Context, uri string, data []byte) error
	// ListURIs yields the URI of every file whose URI starts with prefix,
	// in any order; an error ends the sequence.
	ListURIs(ctx context.Context, prefix string) iter.Seq2[string, error]
}

// A DataSummary is what a grid search needs to know of its labelled data:
// the values the manifest step's summary gives. See TrainingData.
type DataSummary struct {
	NumClasses         int    // classes: at least 2
	NumTrainingSamples int    // photos of the training channel: at least 1
	MultiLabel         bool   // each photo is labelled with a list of classes
	LabelAttribute     string // the label attribute of the augmented manifests
	// TrainManifest and ValidationManifest are the augmented manifests
	// (FormatAugmented).
	TrainManifest, ValidationManifest string
	// TrainLst and ValidationLst are the .lst files, and TrainPhotos and
	// ValidationPhotos the prefixes of the photos they list (FormatLst);
	// "" when the manifest step made none.
	TrainLst, ValidationLst       string
	TrainPhotos, ValidationPhotos string
}

// DataFrom is the DataSummary of the manifest step's result p, whose
// files are in folder: manifest.LoadPrepared reads both from the step's
// output folder.
func DataFrom(p *manifest.Prepared, folder string) DataSummary {
	d := DataSummary{
		NumClasses: p.NumClasses, NumTrainingSamples: p.NumTrainingSamples, MultiLabel: p.MultiLabel, LabelAttribute: p.LabelAttribute,
		TrainManifest:      joinURI(folder, manifest.FileTrain),
		ValidationManifest: joinURI(folder, manifest.FileValidation),
	}
	if p.LstPrefix != "" {
		d.TrainLst, d.ValidationLst = joinURI(folder, manifest.FileTrainLst), joinURI(folder, manifest.FileValidationLst)
		d.TrainPhotos, d.ValidationPhotos = joinURI(p.LstPrefix, "train")+"/", joinURI(p.LstPrefix, "validation")+"/"
	}
	return d
}

// TrainingData returns what the data fixes in a training job: the
// hyperparameters num_classes, num_training_samples (and multi_label=1
// for multi-label data), and spec with its channels, LabelAttribute and
// MultiLabel taken from s for spec's InputFormat. A channel already set in
// spec is kept (another validation manifest, say). A summary that does not
// describe data to train on, a channel the summary lacks, or a label
// attribute or MultiLabel set in spec that s contradicts is a *SpecError.
func TrainingData(s DataSummary, spec TrainingSpec) (map[string]string, TrainingSpec, error) {
	switch {
	case s.NumClasses < 2:
		return nil, spec, &SpecError{Field: "num_classes", Value: strconv.Itoa(s.NumClasses), Reason: "want at least 2 classes in the data"}
	case s.NumTrainingSamples < 1:
		return nil, spec, &SpecError{Field: "num_training_samples", Value: strconv.Itoa(s.NumTrainingSamples), Reason: "want at least 1 training photo"}
	case spec.LabelAttribute != "" && s.LabelAttribute != "" && spec.LabelAttribute != s.LabelAttribute:
		return nil, spec, &SpecError{Field: "label-attribute", Value: spec.LabelAttribute, Reason: "the data's label attribute is " + s.LabelAttribute}
	case spec.MultiLabel && !s.MultiLabel:
		return nil, spec, &SpecError{Field: "multi_label", Value: "1", Reason: "the data is single-label"}
	}
	hp := map[string]string{
		"num_classes":          strconv.Itoa(s.NumClasses),
		"num_training_samples": strconv.Itoa(s.NumTrainingSamples),
	}
	if s.MultiLabel {
		hp["multi_label"] = "1"
	}
	spec.LabelAttribute = cmp.Or(spec.LabelAttribute, s.LabelAttribute)
	spec.MultiLabel = s.MultiLabel
	var missing []string
	fill := func(field *string, v, name string) {
		if *field == "" {
			*field = v
		}
		if *field == "" {
			missing = append(missing, name)
		}
	}
	switch spec.InputFormat {
	case "", FormatAugmented:
		fill(&spec.Train, s.TrainManifest, "train manifest")
		fill(&spec.Validation, s.ValidationManifest, "validation manifest")
	case FormatLst:
		fill(&spec.TrainLst, s.TrainLst, "train .lst")
		fill(&spec.ValidationLst, s.ValidationLst, "validation .lst")
		fill(&spec.Train, s.TrainPhotos, "train photos")
		fill(&spec.Validation, s.ValidationPhotos, "validation photos")
		if len(missing) > 0 {
			return nil, spec, &SpecError{Field: "input-format", Value: FormatLst, Reason: "the data has no " + strings.Join(missing, ", ") +
				": run the manifest step with --lst-prefix"}
		}
	default:
		return nil, spec, &SpecError{Field: "input-format", Value: spec.InputFormat, Reason: "want augmented or lst"}
	}
	if len(missing) > 0 {
		return nil, spec, &SpecError{Field: "train", Reason: "the data has no " + strings.Join(missing, ", ")}
	}
	return hp, spec, nil
}

// BestRun returns the run marked best (see MarkBest) and whether there is
// one. A runs table written by Tune marks one when any job completed with
// a value of the objective.
func BestRun(runs []Run) (Run, bool) {
	for _, r := range runs {
		if r.Best {
			return r, true
		}
	}
	return Run{}, false
}

// Strategies of Tune's grid search.
const (
	StrategyTuner = "tuner"          // this package's Tuner: parallel training jobs
	StrategyGrid  = "sagemaker-grid" // one SageMaker hyperparameter tuning job, Grid strategy
)

// TuneOptions are the tune step's settings: its flags. The zero value of
// every field but Data, Spec and Grid is usable.
type TuneOptions struct {
	// Data is the labelled data: the manifest step's summary.
	Data DataSummary
	// Spec is the training job but for its data: the channels it leaves
	// empty come from Data (see TrainingData); an empty Image is the
	// built-in algorithm's image in Region.
	Spec TrainingSpec
	// Grid is the hyperparameters: the varied ones and the fixed ones.
	Grid Grid
	// Region is where the jobs run; it picks the training image when
	// Spec.Image is empty (one of the two is needed).
	Region string
	// Strategy is StrategyTuner ("" means it) or StrategyGrid.
	Strategy string
	// Objective and Direction choose the best job; "" means
	// validation:accuracy, Maximize.
	Objective, Direction string
	// JobPrefix starts the job names; "" means "rl-ic".
	JobPrefix string
	// Runs is where runs.parquet is written; "" means
	// <Spec.OutputPath>/runs.parquet.
	Runs string
	// Report is where the HTML report is written; "" means none.
	Report string
	// MaxParallel bounds the training jobs in progress at once; 0 means 3.
	MaxParallel int
	// MaxAttempts bounds the training jobs of one grid point (the tuning
	// jobs, with StrategyGrid); 0 means 3. See Tuner.MaxAttempts.
	MaxAttempts int
	// KeepJobsOnExit leaves the jobs running when ctx ends; by default
	// they are stopped.
	KeepJobsOnExit bool
	// Poll says how often jobs are looked at; the zero value is the
	// defaults. Its Clock also times the step.
	Poll Polling
	// Logger gets the step's progress: every job's changes of status, and
	// the grid's counts at most every 30 s; nil means slog.Default().
	Logger *slog.Logger
	// OnEvent, if set, is also called on every change of a job's status.
	OnEvent func(Event)
	// Logs, if set, follows the training jobs' logs into Logger (or its
	// own Logger) while the step waits on them: each training job's, or
	// with StrategyGrid the tuning job's training jobs'. Nil means they
	// are not followed.
	Logs *LogFollower
}

// TuneResult is what the tune step reports: its result JSON.
type TuneResult struct {
	BestJob             string            `json:"best_job,omitempty"`
	BestObjective       *float64          `json:"best_objective,omitempty"`
	Objective           string            `json:"objective"`
	BestModelArtifact   string            `json:"best_model_artifact,omitempty"`
	BestHyperparameters map[string]string `json:"best_hyperparameters,omitempty"`
	Jobs                int               `json:"jobs"`
	ByStatus            map[string]int    `json:"by_status"`
	Runs                string            `json:"runs"` // the runs table's URI
	Report              string            `json:"report,omitempty"`
	TuningJob           string            `json:"tuning_job,omitempty"`
	ElapsedSeconds      float64           `json:"elapsed_seconds"`
	// TrainingRuns are the rows written to Runs.
	TrainingRuns []Run `json:"-"`
}

// Tune is the tune step: a grid search of the built-in image-classification
// algorithm over the labelled data, as parallel training jobs (or one
// SageMaker Grid tuning job). It writes the runs table (one row per
// training job, attempts included, the best marked) and the HTML report to
// files, and returns the step's result.
//
// Run again with the same options, it starts nothing new: job names derive
// from the definitions, so it attaches to jobs in progress and reuses
// completed ones. The runs table is written also when jobs failed or ctx
// ended (the jobs seen so far); the result is returned then too, with the
// error: *JobError for failed or stopped jobs, *SpecError for bad options
// or data (before anything is sent), *MismatchError for a name taken by
// another definition, or ctx's cause.
func Tune(ctx context.Context, api API, files Files, opts TuneOptions) (*TuneResult, error) {
	o := opts
	clock := o.Poll.Clock
	if clock == nil {
		clock = realClock{}
	}
	start := clock.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	o.Strategy = cmp.Or(o.Strategy, StrategyTuner)
	o.Objective = cmp.Or(o.Objective, DefaultObjective)
	o.Direction = cmp.Or(o.Direction, Maximize)
	o.JobPrefix = cmp.Or(o.JobPrefix, "rl-ic")
	switch {
	case files == nil:
		return nil, &SpecError{Field: "files", Reason: "no storage given for the runs table"}
	case o.Strategy != StrategyTuner && o.Strategy != StrategyGrid:
		return nil, &SpecError{Field: "strategy", Value: o.Strategy, Reason: "want " + StrategyTuner + " or " + StrategyGrid}
	}
	data, spec, err := TrainingData(o.Data, o.Spec)
	if err != nil {
		return nil, err
	}
	if spec.Image == "" {
		if o.Region == "" {
			return nil, &SpecError{Field: "training-image", Reason: "give a training image, or a region for the built-in one"}
		}
		if spec.Image, err = ImageURI(o.Region); err != nil {
			return nil, err
		}
	}
	o.Spec = spec
	if o.Runs == "" {
		o.Runs = joinURI(spec.OutputPath, "runs.parquet")
	}
	follow, err := o.Logs.Start(log)
	if err != nil {
		return nil, err
	}
	defer follow.Close(ctx)
	progress := &tuneProgress{log: log, clock: clock, state: map[string]string{}}
	tuner := Tuner{
		API: api, Logger: log, MaxParallel: o.MaxParallel, MaxAttempts: o.MaxAttempts, Poll: o.Poll,
		Objective: o.Objective, Direction: o.Direction, KeepJobsOnExit: o.KeepJobsOnExit,
		OnEvent: func(e Event) {
			progress.event(e)
			follow.Event(e)
			if opts.OnEvent != nil {
				opts.OnEvent(e)
			}
		},
	}
	tc, _, err := tuner.settings()
	if err != nil {
		return nil, err
	}

	var runs []Run
	var tuningJob string
	var runErr error
	switch o.Strategy {
	case StrategyTuner:
		planned, err := Plan(spec, o.Grid, data, o.JobPrefix)
		if err != nil {
			return nil, err
		}
		progress.total = len(planned)
		log.Info("tuning", "jobs", len(planned), "max_parallel", tc.MaxParallel, "objective", o.Objective)
		runs, runErr = tuner.Run(ctx, planned)
	case StrategyGrid:
		hpo, err := PlanGrid(spec, o.Grid, data, o.JobPrefix, GridOptions{MaxParallel: o.MaxParallel, Objective: o.Objective, Direction: o.Direction})
		if err != nil {
			return nil, err
		}
		tuningJob = hpo.Name
		progress.total = 1
		log.Info("tuning with a SageMaker Grid tuning job", "tuning_job", hpo.Name, "jobs", hpo.Jobs)
		runs, runErr = tuner.RunGrid(ctx, hpo)
	}
	follow.Close(ctx) // the jobs' last lines before the step's
	res := summarize(runs, o)
	res.TuningJob = tuningJob
	if len(runs) > 0 {
		// Written even when the step was stopped or timed out: the runs
		// seen so far are what a person looks at then.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := writeTuneOutputs(wctx, files, o, res, clock.Now()); err != nil {
			if runErr != nil {
				return res, fmt.Errorf("%w; and %w", runErr, err)
			}
			return res, err
		}
	}
	res.ElapsedSeconds = clock.Now().Sub(start).Seconds()
	if runErr != nil {
		return res, runErr
	}
	log.Info("tune done", "best", res.BestJob, "objective", o.Objective, "jobs", len(runs))
	return res, nil
}

func summarize(runs []Run, o TuneOptions) *TuneResult {
	res := &TuneResult{Objective: o.Objective, Jobs: len(runs), ByStatus: map[string]int{}, Runs: o.Runs, Report: o.Report, TrainingRuns: runs}
	for _, r := range runs {
		res.ByStatus[r.Status]++
	}
	if best, ok := BestRun(runs); ok {
		v := best.Objective
		res.BestJob, res.BestObjective, res.BestModelArtifact = best.JobName, &v, best.ModelArtifact
		res.BestHyperparameters = best.Hyperparameters
	}
	return res
}

// writeTuneOutputs writes the runs table and, if asked for, the report.
func writeTuneOutputs(ctx context.Context, files Files, o TuneOptions, res *TuneResult, now time.Time) error {
	var buf bytes.Buffer
	if err := WriteRuns(&buf, res.TrainingRuns); err != nil {
		return fmt.Errorf("runs table: %w", err)
	}
	if err := files.WriteFile(ctx, o.Runs, buf.Bytes()); err != nil {
		return fmt.Errorf("write runs table %s: %w", o.Runs, err)
	}
	if o.Report == "" {
		return nil
	}
	buf.Reset()
	counts := make([]string, 0, len(res.ByStatus))
	for _, s := range slices.Sorted(maps.Keys(res.ByStatus)) {
		counts = append(counts, fmt.Sprintf("%d %s", res.ByStatus[s], s))
	}
	notes := []string{
		"Strategy: " + o.Strategy,
		"Training data: " + o.Spec.Train + " (validation: " + o.Spec.Validation + ")",
		"Instances: " + cmp.Or(o.Spec.InstanceType, DefaultInstanceType),
	}
	if res.TuningJob != "" {
		notes = append(notes, "Tuning job: "+res.TuningJob)
	}
	err := writeReport(&buf, reportData{
		Title:       fmt.Sprintf("reviewlens tune: %d training jobs (%s)", len(res.TrainingRuns), strings.Join(counts, ", ")),
		Objective:   o.Objective,
		Direction:   o.Direction,
		Axes:        o.Grid.Axes,
		Runs:        res.TrainingRuns,
		GeneratedAt: now.UTC(),
		Notes:       notes,
	})
	if err != nil {
		return err
	}
	if err := files.WriteFile(ctx, o.Report, buf.Bytes()); err != nil {
		return fmt.Errorf("write report %s: %w", o.Report, err)
	}
	return nil
}

// joinURI adds name to the folder base.
func joinURI(base, name string) string {
	return strings.TrimSuffix(base, "/") + "/" + name
}

// tuneProgress logs each job's changes and, every 30 s at most, the
// counts of the whole grid.
type tuneProgress struct {
	log   *slog.Logger
	clock Clock
	mu    sync.Mutex
	total int
	state map[string]string // job -> status
	last  time.Time
}

func (p *tuneProgress) event(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	logEvent(p.log, e)
	if e.Status != "" {
		p.state[e.Job] = e.Status
	}
	counts := map[string]int{}
	for _, s := range p.state {
		counts[s]++
	}
	done := counts[StatusCompleted] + counts[StatusFailed] + counts[StatusStopped]
	if now := p.clock.Now(); now.Sub(p.last) >= 30*time.Second || done == p.total {
		p.last = now
		p.log.Info("tuning progress", "done", done, "total", p.total, "in_progress", counts[StatusInProgress],
			"completed", counts[StatusCompleted], "failed", counts[StatusFailed], "stopped", counts[StatusStopped], "bar", bar(done, p.total))
	}
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
