package daily

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/progress"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// Result is the run's result JSON: what each step did, and the day.
type Result struct {
	Day string `json:"day"`
	// Backend is where the transform ran: "aws" or "local" (set by the
	// caller, which chose the API).
	Backend string       `json:"backend"`
	Steps   []StepResult `json:"steps"`
	Summary DaySummary   `json:"summary"`
	// ElapsedSeconds is the whole run's wall time.
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// StepResult is one step of a run.
type StepResult struct {
	Step string `json:"step"`
	// Status is StatusDone, or StatusSkipped when an earlier run had finished it
	// (Reason says how that is known); Result is then that run's result.
	Status  string  `json:"status"`
	Reason  string  `json:"reason,omitempty"`
	Seconds float64 `json:"seconds"`
	Result  any     `json:"result,omitempty"`
}

// DaySummary is the day in a few numbers.
type DaySummary struct {
	Reviews        int            `json:"reviews"`
	Photos         int            `json:"photos"`
	ByDecision     map[string]int `json:"by_decision"`
	AutomationRate float64        `json:"automation_rate"`
	// CreditsGranted is what the day's automatic grants pay.
	CreditsGranted int64 `json:"credits_granted"`
	// QueueLength is the open inspection queue after the run, all days.
	QueueLength int `json:"queue_length"`
}

// Step statuses.
const (
	StatusDone    = "done"
	StatusSkipped = "skipped"
)

// Options are what a run takes besides its config.
type Options struct {
	// Day is the day run, YYYY-MM-DD: the one the config was parsed for.
	Day string
	// Poll says how often the transform job is looked at; the zero value
	// is the defaults.
	Poll sagemaker.Polling
	// Logs, if set, follows the transform job's log while the run waits.
	Logs *sagemaker.LogFollower
	// Progress shows the long steps as they go; nil means a log line every
	// 30 s.
	Progress progress.Meter
	// Logger gets each step's start, end or skip; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Run runs one day's inspection from cfg: stage → transform → predictions
// → credit → publish, through the step functions of inspect, sagemaker,
// credit and credit/ledger, with the transform job on api (SageMaker, or
// the local backend). It is the run step: its result is the step's result
// JSON, returned with the error when a step fails (the steps before it are
// in it).
//
// Run again for the same day, it skips what an earlier run completed: a
// step whose output folder holds its summary.json (the steps write it
// last), every step before a complete one, and publish when the ledger
// holds the day's decisions as the credit step made them. A transform job
// in flight is attached to, and the ledger grants nothing twice.
func Run(ctx context.Context, store *storage.Storage, api sagemaker.API, cfg *Config, opts Options) (*Result, error) {
	start := time.Now()
	if _, err := time.Parse(time.DateOnly, opts.Day); err != nil {
		return nil, fmt.Errorf("day %q: want YYYY-MM-DD", opts.Day)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	r := &runner{cfg: cfg, day: opts.Day, store: store, api: api, opts: opts, log: log, res: &Result{Day: opts.Day}}
	err := r.run(ctx)
	r.res.ElapsedSeconds = time.Since(start).Seconds()
	return r.res, err
}

// runner runs one day.
type runner struct {
	cfg   *Config
	day   string
	store *storage.Storage
	api   sagemaker.API
	opts  Options
	log   *slog.Logger
	res   *Result
}

// run runs the day's steps; see Run.
func (r *runner) run(ctx context.Context) error {
	c := r.cfg
	// What is complete, from the end.
	creditDone, err := readSummary[credit.DayResult](ctx, r.store, storage.Join(c.Credit.Out, credit.FileSummary))
	if err != nil {
		return err
	}
	predsDone, err := readSummary[inspect.CollectResult](ctx, r.store, storage.Join(c.Predictions.Out, inspect.FileSummary))
	if err != nil {
		return err
	}
	stageDone, err := readSummary[inspect.StageResult](ctx, r.store, storage.Join(c.Stage.Out, inspect.FileSummary))
	if err != nil {
		return err
	}
	later := creditDone != nil

	// stage
	var staged *inspect.StageResult
	switch {
	case stageDone != nil:
		staged = stageDone
		r.skip("stage", "its output folder holds summary.json", staged)
	case later || predsDone != nil:
		r.skip("stage", "a later step's output is complete", nil)
	default:
		if err := r.step("stage", func() (any, error) {
			staged, err = inspect.Stage(ctx, r.store, inspect.StageOptions{
				Reviews: c.Reviews, Day: r.day, Out: c.Stage.Out, InputPrefix: c.Stage.InputPrefix, Copy: c.Stage.Copy,
				OnBadRow: c.Stage.OnBadRow, AllowEmpty: c.Stage.AllowEmpty, MaxPayloadMB: c.Stage.MaxPayloadMB,
				Progress: r.opts.Progress, Logger: r.log,
			})
			return staged, err
		}); err != nil {
			return err
		}
	}
	if staged != nil {
		r.res.Summary.Photos = staged.Photos
	}
	if staged != nil && staged.Staged == 0 && creditDone == nil {
		// A day with no photo: nothing to classify.
		return r.emptyDay(ctx)
	}

	// transform
	var tr *sagemaker.TransformResult
	if later || predsDone != nil {
		r.skip("transform", "the predictions step's output is complete", nil)
	} else if err := r.step("transform", func() (any, error) {
		tr, err = sagemaker.Transform(ctx, r.api, r.store, sagemaker.TransformOptions{
			Spec: sagemaker.TransformSpec{
				Model: c.Transform.Model, Input: staged.ManifestURI, InputType: sagemaker.InputManifestFile, Output: c.Transform.Output,
				Day: r.day, InstanceType: c.Transform.InstanceType, InstanceCount: c.Transform.InstanceCount, Tags: c.Transform.Tags,
				MaxPayloadMB: staged.MaxPayloadMB,
			},
			ModelFromTrainingJob: c.Transform.ModelFromTrainingJob,
			ModelFromRuns:        c.Transform.ModelFromRuns,
			ModelRoleARN:         c.Transform.Role,
			MaxAttempts:          c.Transform.MaxAttempts,
			Poll:                 r.opts.Poll,
			Logs:                 r.opts.Logs,
			Logger:               r.log,
		})
		return tr, err
	}); err != nil {
		return err
	}

	// predictions
	switch {
	case predsDone != nil:
		r.skip("predictions", "its output folder holds summary.json", predsDone)
	case later:
		r.skip("predictions", "a later step's output is complete", nil)
	default:
		if err := r.step("predictions", func() (any, error) {
			return inspect.CollectPredictions(ctx, r.store, inspect.CollectOptions{
				Staged: c.Stage.Out, Outputs: c.Transform.Output, Classes: c.Predictions.Classes, Out: c.Predictions.Out,
				AllowIncomplete: c.Predictions.AllowIncomplete, Model: tr.Model, TransformJob: tr.Job,
				Progress: r.opts.Progress, Logger: r.log,
			})
		}); err != nil {
			return err
		}
	}

	// credit
	day := creditDone
	if day != nil {
		r.skip("credit", "its output folder holds summary.json", day)
	} else if err := r.step("credit", func() (any, error) {
		day, err = credit.DecideDay(ctx, r.store, credit.DayOptions{
			Predictions: c.Predictions.Out, Reviews: c.Reviews, Policy: c.Credit.Policy, Out: c.Credit.Out, Report: c.Credit.Report,
			OnBadRow: c.Credit.OnBadRow, AllowEmpty: c.Stage.AllowEmpty, Logger: r.log,
		})
		return day, err
	}); err != nil {
		return err
	}
	return r.publish(ctx, day)
}

// publish stores the day's decisions in the ledger, unless it holds them
// already, and reads the queue's length.
func (r *runner) publish(ctx context.Context, day *credit.DayResult) error {
	dsn := r.dsn()
	s := &r.res.Summary
	s.Reviews, s.ByDecision, s.AutomationRate, s.CreditsGranted = day.Reviews, day.ByDecision, day.AutomationRate, day.CreditsGranted
	if l, err := ledger.OpenStep(ctx, dsn, ledger.OpenExisting); err == nil {
		counts, err := l.DayCounts(ctx, r.day, r.day)
		l.Close()
		if err != nil {
			return err
		}
		if len(counts) == 1 && counts[0].Reviews == day.Reviews && counts[0].Grant == day.ByDecision[credit.Grant] &&
			counts[0].Reject == day.ByDecision[credit.Reject] {
			r.skip("publish", "the ledger holds the day's decisions", counts[0])
			return r.queueLength(ctx, dsn)
		}
	} else if !errors.Is(err, ledger.ErrNoLedger) {
		return err
	}
	if err := r.step("publish", func() (any, error) {
		return ledger.PublishFile(ctx, r.store, ledger.PublishOptions{Decisions: r.cfg.Credit.Out, DB: dsn, Logger: r.log})
	}); err != nil {
		return err
	}
	return r.queueLength(ctx, dsn)
}

// emptyDay ends a run whose day has no photo: no transform, and nothing
// decided, but the steps are said skipped.
func (r *runner) emptyDay(ctx context.Context) error {
	for _, s := range []string{"transform", "predictions", "credit", "publish"} {
		r.skip(s, "no photo was staged", nil)
	}
	return r.queueLength(ctx, r.dsn())
}

func (r *runner) queueLength(ctx context.Context, dsn string) error {
	l, err := ledger.OpenStep(ctx, dsn, ledger.OpenExisting)
	if errors.Is(err, ledger.ErrNoLedger) {
		return nil
	}
	if err != nil {
		return err
	}
	defer l.Close()
	q, err := l.QueueStats(ctx)
	if err != nil {
		return err
	}
	r.res.Summary.QueueLength = q.Open
	return nil
}

func (r *runner) dsn() string {
	return cmp.Or(r.cfg.Publish.DB, ledger.DefaultDSN)
}

// step runs fn as the step name and records its result.
func (r *runner) step(name string, fn func() (any, error)) error {
	r.log.Info("step starting", "run_step", name, "day", r.day)
	start := time.Now()
	res, err := fn()
	sr := StepResult{Step: name, Status: StatusDone, Seconds: time.Since(start).Seconds()}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	sr.Result = res
	r.res.Steps = append(r.res.Steps, sr)
	r.log.Info("step done", "run_step", name, "seconds", sr.Seconds)
	return nil
}

// skip records a step skipped.
func (r *runner) skip(name, reason string, res any) {
	r.log.Info("step skipped", "run_step", name, "reason", reason)
	r.res.Steps = append(r.res.Steps, StepResult{Step: name, Status: StatusSkipped, Reason: reason, Result: res})
}

// readSummary reads a step's summary.json, nil when there is none.
func readSummary[T any](ctx context.Context, store *storage.Storage, uri string) (*T, error) {
	data, err := store.ReadFile(ctx, uri)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %v (an earlier run's result: remove it to run the step again)", uri, err)
	}
	return &v, nil
}
