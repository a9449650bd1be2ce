// Package demo runs a whole inspection day on this machine with no AWS
// account: synthetic photos (package synth) labelled as a Ground Truth job
// leaves them, then manifest → tune (a 2×2 grid on the local backend) →
// stage → transform → predictions → calibrate → credit → publish (SQLite),
// through the same public step functions as the step binaries, and scores
// what was decided against the truth kept aside.
//
// Everything lives in one folder: the bucket s3://reviewlens-demo is
// served from <dir>/bucket, the local backend's jobs live in <dir>/local,
// the reports in <dir>/reports and the ledger is <dir>/ledger.db. Run
// again on the same folder, it reuses what the first run made: the photos
// are not drawn again, and the training and transform jobs, named from
// their inputs, are found Completed.
package demo

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/backend"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/progress"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/local"
	"github.com/reviewlens/reviewlens/storage"
	"github.com/reviewlens/reviewlens/synth"
)

// Steps is the number of steps Run times (Options.Step is told of each).
const Steps = 13

// Bucket is the demo's bucket, served from <dir>/bucket.
const Bucket = "s3://reviewlens-demo"

// Options are the demo's settings: its flags.
type Options struct {
	// Dir holds everything the demo makes; "" means ./reviewlens-demo.
	Dir string
	// Photos is the size of the labelled set the models learn from (80%
	// train, 20% validation, which picks the epoch and the grid point); 0
	// means 4,000.
	Photos int
	// CalibrationPhotos is the size of a second labelled set, a random
	// sample labelled apart that no training job and no model choice has
	// seen: the calibration set; 0 means a quarter of Photos.
	CalibrationPhotos int
	// Reviews is the day's reviews (one to three photos each); 0 means
	// 2,000.
	Reviews int
	// Seed draws the photos; the same seed gives the same demo.
	Seed int64
	// Day is the inspection day, YYYY-MM-DD; "" means 2026-11-28.
	Day string
	// Epochs overrides the training epochs of every job (a quick run for
	// tests); 0 means the recommended 15.
	Epochs int
	// Grid is the tuned hyperparameters, name=v1,v2 each; nil means
	// num_layers=18,34 and learning_rate=0.05,0.1.
	Grid []string
	// Logs follows the training and transform jobs' logs (epochs and
	// accuracy) into Logger at info level.
	Logs bool
	// Progress shows the long steps as they go; nil means log lines.
	Progress progress.Meter
	// Step, if set, is told when each step starts and ends (err nil), for
	// a display.
	Step   func(name string, done bool, elapsed time.Duration)
	Logger *slog.Logger
}

// Summary is what the demo did: its result JSON.
type Summary struct {
	Dir   string     `json:"dir"`
	Day   string     `json:"day"`
	Steps []StepTime `json:"steps"`
	// Labelled is the labelled set's photos and Calibration the
	// calibration set's; Reviews and Photos the day's.
	Labelled    int `json:"labelled_photos"`
	Calibration int `json:"calibration_photos"`
	Reviews     int `json:"reviews"`
	Photos      int `json:"photos"`
	// Jobs is the training jobs of the grid; BestJob the one kept and
	// BestValidationAccuracy its validation:accuracy.
	Jobs                   int               `json:"training_jobs"`
	BestJob                string            `json:"best_job"`
	BestHyperparameters    map[string]string `json:"best_hyperparameters"`
	BestValidationAccuracy float64           `json:"best_validation_accuracy"`
	// HeldOutAccuracy is the model's top-1 accuracy on the day's photos,
	// which it never saw, against their true classes.
	HeldOutAccuracy float64 `json:"held_out_accuracy"`
	// Grants, Rejects and Manual count the day's decisions; AutomationRate
	// is the share decided without a person, and AutomaticAccuracy the
	// share of those right against the truth (Wrong of them are not).
	Grants            int     `json:"grants"`
	Rejects           int     `json:"rejects"`
	Manual            int     `json:"manual"`
	AutomationRate    float64 `json:"automation_rate"`
	AutomaticAccuracy float64 `json:"automatic_accuracy"`
	Wrong             int     `json:"wrong_automatic_decisions"`
	// QualifyingGranted is the share of the reviews that earn their credit
	// that were granted it automatically.
	QualifyingGranted float64 `json:"qualifying_granted_automatically"`
	// CreditsGranted is what the day's automatic grants pay; Published
	// the decisions this run stored in the ledger (none when an earlier
	// run stored them: each credit is granted once).
	CreditsGranted int64 `json:"credits_granted"`
	Published      int   `json:"published"`
	// TargetAccuracy is what the policy's thresholds guarantee (with 95%
	// confidence) for each family of automatic decisions.
	TargetAccuracy float64           `json:"target_accuracy"`
	Paths          map[string]string `json:"paths"`
	ElapsedSeconds float64           `json:"elapsed_seconds"`
}

// StepTime is how long a step took.
type StepTime struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// Defaults of Options.
const (
	DefaultDir     = "reviewlens-demo"
	DefaultPhotos  = 4000
	DefaultReviews = 2000
	DefaultDay     = "2026-11-28"
	DefaultEpochs  = 15
)

// DefaultGrid is the tuned hyperparameters when Options.Grid is nil.
var DefaultGrid = []string{"num_layers=18,34", "learning_rate=0.05,0.1"}

// fixed are the hyperparameters every job shares: small photos, light
// augmentation and a stepped learning rate, which train the network of
// sagemaker/local to about 96% in seconds a job.
var fixed = []string{"image_shape=3,32,32", "mini_batch_size=16", "augmentation_type=crop", "lr_scheduler_step=9,13", "lr_scheduler_factor=0.1"}

// Run runs the demo.
func Run(ctx context.Context, o Options) (*Summary, error) {
	start := time.Now()
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	o.Photos = cmp.Or(o.Photos, DefaultPhotos)
	o.Reviews = cmp.Or(o.Reviews, DefaultReviews)
	o.CalibrationPhotos = cmp.Or(o.CalibrationPhotos, o.Photos/4)
	o.Epochs = cmp.Or(o.Epochs, DefaultEpochs)
	if o.Day == "" {
		o.Day = DefaultDay
	}
	if o.Grid == nil {
		o.Grid = DefaultGrid
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	day, err := time.Parse(time.DateOnly, o.Day)
	if err != nil {
		return nil, fmt.Errorf("day %q: want YYYY-MM-DD", o.Day)
	}
	if o.Photos < 100 || o.CalibrationPhotos < 20 || o.Reviews < 1 {
		return nil, fmt.Errorf("%d photos, %d calibration photos and %d reviews: want at least 100 labelled photos, 20 to calibrate on and a review",
			o.Photos, o.CalibrationPhotos, o.Reviews)
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	bucketDir := filepath.Join(dir, "bucket")
	reports := filepath.Join(dir, "reports")
	for _, d := range []string{bucketDir, reports} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	store := storage.New(storage.Options{Folders: map[string]string{Bucket: bucketDir}, Logger: o.Logger})
	defer store.Close()
	sm, err := local.New(local.Options{Root: filepath.Join(dir, "local"), Storage: store, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	defer sm.Close()

	d := &run{o: o, dir: dir, store: store, sum: &Summary{Dir: dir, Day: o.Day, Paths: map[string]string{}}}
	uri := func(p string) string { return Bucket + "/" + p }
	dayPrefix := "dt=" + o.Day + "/"
	poll := backend.LocalPolling
	var logs *sagemaker.LogFollower
	if o.Logs {
		logs = backend.LocalLogs(sm)
	}

	// The data: a labelled set to learn from and a calibration set, as
	// two Ground Truth jobs leave them, and a day's reviews, each with the
	// truth kept aside.
	var labelled, calibration *synth.Labelled
	var reviews *synth.Day
	if err := d.step("photos", func() error {
		labelled, err = d.labelled(filepath.Join(bucketDir, "labelled"), uri("labelled/"), o.Photos, o.Seed, "")
		if err != nil {
			return err
		}
		calibration, err = d.labelled(filepath.Join(bucketDir, "calibration", "labelled"), uri("calibration/labelled/"), o.CalibrationPhotos, o.Seed+2, "reviewlens-demo-calibration")
		if err != nil {
			return err
		}
		reviews, err = d.day(filepath.Join(bucketDir, "reviews", dayPrefix), uri("reviews/"+dayPrefix), day)
		return err
	}); err != nil {
		return nil, err
	}
	d.sum.Labelled, d.sum.Calibration, d.sum.Reviews, d.sum.Photos = labelled.Photos, calibration.Photos, reviews.ReviewCount, reviews.Photos

	labels := uri("labels/")
	var prepared *manifest.Prepared
	if err := d.step("manifest", func() error {
		prepared, err = manifest.Prepare(ctx, store, manifest.PrepareOptions{
			In: uri("labelled/" + synth.ManifestFile), Out: labels, Classes: uri("labelled/" + synth.CategoriesFile),
			ValidationFraction: 0.2, Seed: o.Seed, Progress: o.Progress, Logger: o.Logger,
		})
		return err
	}); err != nil {
		return nil, err
	}

	runs := uri("models/runs.parquet")
	if err := d.step("tune", func() error {
		grid, err := sagemaker.ParseGridFlags(o.Grid, append(slices.Clone(fixed), "epochs="+strconv.Itoa(o.Epochs)))
		if err != nil {
			return err
		}
		res, err := sagemaker.Tune(ctx, sm, store, sagemaker.TuneOptions{
			Data:   sagemaker.DataFrom(prepared, labels),
			Spec:   sagemaker.TrainingSpec{RoleARN: backend.LocalRole, Image: backend.LocalImage, OutputPath: uri("models/")},
			Grid:   grid,
			Region: backend.LocalRegion, JobPrefix: "demo", Runs: runs, Report: filepath.Join(reports, "tune.html"),
			Poll: poll, Logs: logs, Logger: o.Logger,
		})
		if err != nil {
			return err
		}
		d.sum.Jobs, d.sum.BestJob, d.sum.BestHyperparameters = res.Jobs, res.BestJob, res.BestHyperparameters
		if res.BestObjective != nil {
			d.sum.BestValidationAccuracy = *res.BestObjective
		}
		return nil
	}); err != nil {
		return nil, err
	}

	// The calibration set: photos of a second labelling job, which neither
	// trained a model nor chose one (the validation split did both, so its
	// accuracy is optimistic), classified as a day's photos are.
	calLabels := uri("calibration/labels/")
	calReviews := uri("calibration/reviews.parquet")
	calPredictions := uri("calibration/predictions/")
	if err := d.step("calibration set", func() error {
		_, err := manifest.Prepare(ctx, store, manifest.PrepareOptions{
			In: uri("calibration/labelled/" + synth.ManifestFile), Out: calLabels, Classes: uri("calibration/labelled/" + synth.CategoriesFile),
			Logger: o.Logger,
		})
		if err != nil {
			return err
		}
		return d.calibrationReviews(ctx, calLabels, calReviews)
	}); err != nil {
		return nil, err
	}
	if err := d.classify(ctx, "calibration ", sm, poll, logs, runs, calReviews, uri("calibration/staged/"), uri("calibration/outputs/"), calPredictions, labels); err != nil {
		return nil, err
	}
	policy := uri("policy/policy.yaml")
	if err := d.step("calibrate", func() error {
		res, err := credit.CalibratePolicy(ctx, store, credit.CalibratePolicyOptions{
			CalibrationSetOptions: credit.CalibrationSetOptions{Predictions: calPredictions, Labels: calLabels, Split: credit.SplitAll},
			Calibrate:             credit.CalibrateOptions{TargetAccuracy: 0.98, Delta: 0.05, Guarantee: credit.PerDecision},
			Out:                   policy, Report: filepath.Join(reports, "calibration.html"), Logger: o.Logger,
		})
		if err != nil {
			return err
		}
		d.sum.TargetAccuracy = res.Targets[credit.Grant]
		return nil
	}); err != nil {
		return nil, err
	}

	// The day.
	predictions := uri("predictions/" + dayPrefix)
	if err := d.classify(ctx, "", sm, poll, logs, runs, uri("reviews/"+dayPrefix+synth.ReviewsParquet), uri("staged/"+dayPrefix), uri("outputs/"+dayPrefix), predictions, labels); err != nil {
		return nil, err
	}
	decisions := uri("decisions/" + dayPrefix)
	if err := d.step("credit", func() error {
		res, err := credit.DecideDay(ctx, store, credit.DayOptions{
			Predictions: predictions, Reviews: uri("reviews/" + dayPrefix + synth.ReviewsParquet), Policy: policy,
			Out: decisions, Report: filepath.Join(reports, "day-"+o.Day+".html"), Logger: o.Logger,
		})
		if err != nil {
			return err
		}
		d.sum.CreditsGranted = res.CreditsGranted
		return nil
	}); err != nil {
		return nil, err
	}
	dsn := "sqlite:" + filepath.Join(dir, "ledger.db")
	if err := d.step("publish", func() error {
		res, err := ledger.PublishFile(ctx, store, ledger.PublishOptions{Decisions: decisions, DB: dsn, Logger: o.Logger})
		if err != nil {
			return err
		}
		d.sum.Published = res.Inserted
		return nil
	}); err != nil {
		return nil, err
	}
	if err := d.score(ctx, reviews, predictions, decisions, policy); err != nil {
		return nil, err
	}
	for k, v := range map[string]string{
		"labelled": labelled.Dir, "labels": labels, "calibration_labels": calLabels, "runs": runs, "policy": policy, "predictions": predictions + inspect.FilePredictions,
		"decisions": decisions + credit.FileDecisions, "tune_report": filepath.Join(reports, "tune.html"),
		"calibration_report": filepath.Join(reports, "calibration.html"), "day_report": filepath.Join(reports, "day-"+o.Day+".html"),
		"ledger": dsn, "local_jobs": sm.Root(),
	} {
		d.sum.Paths[k] = d.local(v)
	}
	d.sum.ElapsedSeconds = time.Since(start).Seconds()
	return d.sum, nil
}

// run is one demo run.
type run struct {
	o     Options
	dir   string
	store *storage.Storage
	sum   *Summary
}

// step runs fn as the step name, timing it.
func (d *run) step(name string, fn func() error) error {
	if d.o.Step != nil {
		d.o.Step(name, false, 0)
	}
	start := time.Now()
	if err := fn(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	el := time.Since(start)
	d.sum.Steps = append(d.sum.Steps, StepTime{Step: name, Seconds: el.Seconds()})
	if d.o.Step != nil {
		d.o.Step(name, true, el)
	}
	return nil
}

// local is uri as a path of this machine when it is in the bucket.
func (d *run) local(uri string) string {
	if rest, ok := strings.CutPrefix(uri, Bucket+"/"); ok {
		return filepath.Join(d.dir, "bucket", filepath.FromSlash(rest))
	}
	return uri
}

// labelled writes n labelled photos as the labelling job named job (""
// means synth's default) leaves them, unless an earlier run did.
func (d *run) labelled(dir, base string, n int, seed int64, job string) (*synth.Labelled, error) {
	opts := synth.LabelledOptions{BaseURI: base, JobName: job}
	if l, ok := readSet[synth.Labelled](dir, n, seed); ok {
		return l, nil
	}
	l, err := synth.WriteLabelled(context.Background(), dir, n, seed, opts)
	if err != nil {
		return nil, err
	}
	return l, writeSet(dir, l, n, seed)
}

// day writes the day's reviews, unless an earlier run did.
func (d *run) day(dir, base string, day time.Time) (*synth.Day, error) {
	if r, ok := readSet[synth.Day](dir, d.o.Reviews, d.o.Seed); ok {
		return r, nil
	}
	r, err := synth.WriteDay(context.Background(), dir, day, d.o.Reviews, d.o.Seed+1, synth.DayOptions{BaseURI: base})
	if err != nil {
		return nil, err
	}
	return r, writeSet(dir, r, d.o.Reviews, d.o.Seed)
}

// calibrationReviews writes the photos of the calibration set's labels as
// a reviews table, one product review a photo, so that they go through
// stage, transform and predictions as a day's photos do.
func (d *run) calibrationReviews(ctx context.Context, labels, out string) error {
	data, err := d.store.ReadFile(ctx, storage.Join(labels, manifest.FileLabels))
	if err != nil {
		return err
	}
	rows, err := manifest.ReadLabels(ctx, bytes.NewReader(data), manifest.FileLabels)
	if err != nil {
		return err
	}
	var reviews []inspect.Review
	for _, r := range rows {
		reviews = append(reviews, inspect.Review{
			ReviewID: fmt.Sprintf("cal-%06d", len(reviews)), ReviewType: inspect.ProductReview, ImageURI: r.SourceRef,
			CreatedAt: r.AnnotatedAt,
		})
	}
	var buf bytes.Buffer
	if err := inspect.WriteReviews(&buf, reviews); err != nil {
		return err
	}
	return d.store.WriteFile(ctx, out, buf.Bytes())
}

// classify stages the photos of a reviews table, runs the transform job
// of the best model over them and collects the predictions: three steps,
// their names started with prefix.
func (d *run) classify(ctx context.Context, prefix string, api sagemaker.API, poll sagemaker.Polling, logs *sagemaker.LogFollower, runs, reviews, staged, outputs, predictions, labels string) error {
	var st *inspect.StageResult
	var tr *sagemaker.TransformResult
	var err error
	if err := d.step(prefix+"stage", func() error {
		st, err = inspect.Stage(ctx, d.store, inspect.StageOptions{Reviews: reviews, Day: d.o.Day, Out: staged, Progress: d.o.Progress, Logger: d.o.Logger})
		return err
	}); err != nil {
		return err
	}
	if err := d.step(prefix+"transform", func() error {
		tr, err = sagemaker.Transform(ctx, api, d.store, sagemaker.TransformOptions{
			Spec:          sagemaker.TransformSpec{Input: st.ManifestURI, InputType: sagemaker.InputManifestFile, Output: outputs, Day: st.Day},
			ModelFromRuns: runs, Poll: poll, Logs: logs, Logger: d.o.Logger,
		})
		return err
	}); err != nil {
		return err
	}
	return d.step(prefix+"predictions", func() error {
		_, err := inspect.CollectPredictions(ctx, d.store, inspect.CollectOptions{
			Staged: staged, Outputs: outputs, Classes: storage.Join(labels, manifest.FileClasses), Out: predictions,
			Model: tr.Model, TransformJob: tr.Job, Progress: d.o.Progress, Logger: d.o.Logger,
		})
		return err
	})
}
