package sagemaker_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

// summary is what the manifest step says of a small labelled set.
func summary() sagemaker.DataSummary {
	return sagemaker.DataSummary{
		NumClasses: 5, NumTrainingSamples: 120, LabelAttribute: "review-photo-category",
		TrainManifest: "s3://b/labels/train.manifest", ValidationManifest: "s3://b/labels/validation.manifest",
	}
}

func tuneOptions(t *testing.T, clock *fakeClock, grids ...string) sagemaker.TuneOptions {
	t.Helper()
	grid, err := sagemaker.ParseGridFlags(grids, []string{"use_pretrained_model=1", "learning_rate=0.01"})
	if err != nil {
		t.Fatal(err)
	}
	return sagemaker.TuneOptions{
		Data:   summary(),
		Spec:   sagemaker.TrainingSpec{RoleARN: "arn:aws:iam::123456789012:role/reviewlens-sagemaker", OutputPath: "s3://b/models/"},
		Grid:   grid,
		Region: "us-east-1",
		Report: "s3://b/reports/tune.html",
		Poll:   sagemaker.Polling{Clock: clock},
		Logger: slog.New(slog.DiscardHandler),
	}
}

// recordCreates wraps an API and keeps the training jobs' create inputs.
type recordCreates struct {
	sagemaker.API
	mu      sync.Mutex
	creates []*sm.CreateTrainingJobInput
}

func (r *recordCreates) CreateTrainingJob(ctx context.Context, in *sm.CreateTrainingJobInput, optFns ...func(*sm.Options)) (*sm.CreateTrainingJobOutput, error) {
	r.mu.Lock()
	r.creates = append(r.creates, in)
	r.mu.Unlock()
	return r.API.CreateTrainingJob(ctx, in, optFns...)
}

// TestTune runs the tune step on a 3×3 grid: nine jobs with the data's
// hyperparameters and channels, runs.parquet with nine rows and the best
// marked, the report, and a rerun that creates nothing.
func TestTune(t *testing.T) {
	fake := sagemakertest.New()
	fake.ScriptFunc(accuracyByLayers)
	files := sagemakertest.NewFiles()
	api := &recordCreates{API: fake}
	var events int
	var mu sync.Mutex
	opts := tuneOptions(t, &fakeClock{}, "num_layers=18,34,50", "epochs=5,10,15")
	opts.OnEvent = func(sagemaker.Event) { mu.Lock(); events++; mu.Unlock() }
	res, err := sagemaker.Tune(context.Background(), api, files, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(api.creates); got != 9 {
		t.Fatalf("CreateTrainingJob calls = %d, want 9", got)
	}
	for _, in := range api.creates {
		hp := in.HyperParameters
		if hp["num_classes"] != "5" || hp["num_training_samples"] != "120" || hp["use_pretrained_model"] != "1" || hp["learning_rate"] != "0.01" {
			t.Errorf("%s: hyperparameters %v", aws.ToString(in.TrainingJobName), hp)
		}
		if got, want := aws.ToString(in.AlgorithmSpecification.TrainingImage), "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"; got != want {
			t.Errorf("image = %s, want %s", got, want)
		}
		s3 := in.InputDataConfig[0].DataSource.S3DataSource
		if s3.S3DataType != types.S3DataTypeAugmentedManifestFile || aws.ToString(s3.S3Uri) != "s3://b/labels/train.manifest" ||
			strings.Join(s3.AttributeNames, ",") != "source-ref,review-photo-category" {
			t.Errorf("train channel = %+v", s3)
		}
	}
	if res.BestJob == "" || res.ByStatus["Completed"] != 9 || res.Jobs != 9 || res.Runs != "s3://b/models/runs.parquet" ||
		res.BestHyperparameters["num_layers"] != "50" || res.BestObjective == nil || res.Objective != "validation:accuracy" {
		t.Errorf("result = %+v, want 9 completed and the best job (num_layers 50)", res)
	}
	if events == 0 {
		t.Errorf("OnEvent never called")
	}
	data, err := files.ReadFile(context.Background(), res.Runs)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := sagemaker.ReadRuns(context.Background(), bytes.NewReader(data), res.Runs)
	if err != nil {
		t.Fatal(err)
	}
	best, ok := sagemaker.BestRun(runs)
	if len(runs) != 9 || !ok || best.JobName != res.BestJob || !strings.HasSuffix(best.ModelArtifact, best.JobName+"/output/model.tar.gz") {
		t.Errorf("runs.parquet: %d rows, best %+v; want 9 and %s", len(runs), best, res.BestJob)
	}
	if report, err := files.ReadFile(context.Background(), res.Report); err != nil || !strings.Contains(string(report), res.BestJob) {
		t.Errorf("report: %v; want it to name the best job", err)
	}

	// Again with the same options: every job is found completed and reused.
	again := &recordCreates{API: fake}
	res2, err := sagemaker.Tune(context.Background(), again, files, tuneOptions(t, &fakeClock{}, "num_layers=18,34,50", "epochs=5,10,15"))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.creates) != 0 || res2.BestJob != res.BestJob {
		t.Errorf("a rerun created %d jobs and chose %s, want 0 and %s", len(again.creates), res2.BestJob, res.BestJob)
	}
}

// TestTuneCancelStopsJobs: jobs that never finish, the context ends (the
// step's timeout): every job started is stopped, the runs seen so far are
// written, reported in progress, and the error is the context's cause.
func TestTuneCancelStopsJobs(t *testing.T) {
	fake := sagemakertest.New()
	fake.DefaultScript(sagemakertest.State{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusTraining})
	files := sagemakertest.NewFiles()
	timeout := errors.New("timeout passed")
	ctx, cancel := context.WithCancelCause(context.Background())
	clock := &fakeClock{}
	clock.hook = func() {
		if fake.Calls("CreateTrainingJob") >= 3 {
			cancel(timeout)
		}
	}
	res, err := sagemaker.Tune(ctx, fake, files, tuneOptions(t, clock, "num_layers=18,34,50", "epochs=5,10"))
	if !errors.Is(err, timeout) {
		t.Fatalf("err = %v, want the timeout", err)
	}
	if diff := cmp.Diff(sorted(fake.CreatedJobs()), sorted(fake.StoppedJobs())); diff != "" || len(fake.CreatedJobs()) != 3 {
		t.Errorf("created %v, stopped (-created +stopped):\n%s; want the 3 jobs of --max-parallel stopped", fake.CreatedJobs(), diff)
	}
	if res == nil || res.ByStatus["InProgress"] != 3 {
		t.Fatalf("result %+v: want the three jobs reported in progress", res)
	}
	if _, err := files.ReadFile(context.Background(), res.Runs); err != nil {
		t.Errorf("runs table not written: %v", err)
	}
}

func TestTuneGridStrategy(t *testing.T) {
	fake := sagemakertest.New()
	fake.ScriptFunc(accuracyByLayers)
	opts := tuneOptions(t, &fakeClock{}, "num_layers=18,34", "epochs=5,10")
	opts.Strategy = sagemaker.StrategyGrid
	res, err := sagemaker.Tune(context.Background(), fake, sagemakertest.NewFiles(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.TuningJob == "" || res.Jobs != 4 || res.BestHyperparameters["num_layers"] != "34" || fake.Calls("CreateHyperParameterTuningJob") != 1 {
		t.Errorf("result %+v: want one tuning job of 4 training jobs, the best num_layers 34", res)
	}
}

// TestTuneBadOptions: what Tune refuses before it calls SageMaker.
func TestTuneBadOptions(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*sagemaker.TuneOptions)
		field  string
	}{
		"strategy":         {func(o *sagemaker.TuneOptions) { o.Strategy = "random" }, "strategy"},
		"direction":        {func(o *sagemaker.TuneOptions) { o.Direction = "Up" }, "objective-type"},
		"one class":        {func(o *sagemaker.TuneOptions) { o.Data.NumClasses = 1 }, "num_classes"},
		"no samples":       {func(o *sagemaker.TuneOptions) { o.Data.NumTrainingSamples = 0 }, "num_training_samples"},
		"lst without lst":  {func(o *sagemaker.TuneOptions) { o.Spec.InputFormat = sagemaker.FormatLst }, "input-format"},
		"no manifest":      {func(o *sagemaker.TuneOptions) { o.Data.ValidationManifest = "" }, "train"},
		"no image":         {func(o *sagemaker.TuneOptions) { o.Region = "" }, "training-image"},
		"unknown region":   {func(o *sagemaker.TuneOptions) { o.Region = "mars-1" }, "region"},
		"bad grid value":   {func(o *sagemaker.TuneOptions) { o.Grid.Axes[0].Values[0] = "19" }, "num_layers"},
		"parallel":         {func(o *sagemaker.TuneOptions) { o.MaxParallel = -3 }, "max-parallel"},
		"poll":             {func(o *sagemaker.TuneOptions) { o.Poll.Interval = -1 }, "poll-interval"},
		"label attribute":  {func(o *sagemaker.TuneOptions) { o.Spec.LabelAttribute = "other" }, "label-attribute"},
		"multi-label spec": {func(o *sagemaker.TuneOptions) { o.Spec.MultiLabel = true }, "multi_label"},
	} {
		t.Run(name, func(t *testing.T) {
			fake := sagemakertest.New()
			opts := tuneOptions(t, &fakeClock{}, "num_layers=18,34")
			tc.change(&opts)
			_, err := sagemaker.Tune(context.Background(), fake, sagemakertest.NewFiles(), opts)
			var se *sagemaker.SpecError
			if !errors.As(err, &se) || se.Field != tc.field {
				t.Errorf("err = %v, want a SpecError of %s", err, tc.field)
			}
			if n := fake.Calls("DescribeTrainingJob") + fake.Calls("CreateHyperParameterTuningJob"); n != 0 {
				t.Errorf("SageMaker called %d times", n)
			}
		})
	}
	var se *sagemaker.SpecError
	if _, err := sagemaker.Tune(context.Background(), sagemakertest.New(), nil, tuneOptions(t, &fakeClock{}, "epochs=5")); !errors.As(err, &se) {
		t.Errorf("no files: %v, want a SpecError", err)
	}
}

func TestTrainingData(t *testing.T) {
	lst := summary()
	lst.TrainLst, lst.ValidationLst = "s3://b/labels/train.lst", "s3://b/labels/validation.lst"
	lst.TrainPhotos, lst.ValidationPhotos = "s3://b/lst/train/", "s3://b/lst/validation/"
	multi := summary()
	multi.MultiLabel = true
	for _, tc := range []struct {
		name string
		data sagemaker.DataSummary
		spec sagemaker.TrainingSpec
		hp   map[string]string
		want sagemaker.TrainingSpec
	}{{
		name: "augmented",
		data: summary(),
		hp:   map[string]string{"num_classes": "5", "num_training_samples": "120"},
		want: sagemaker.TrainingSpec{Train: "s3://b/labels/train.manifest", Validation: "s3://b/labels/validation.manifest", LabelAttribute: "review-photo-category"},
	}, {
		name: "another validation manifest is kept",
		data: summary(),
		spec: sagemaker.TrainingSpec{Validation: "s3://b/other/validation.manifest"},
		hp:   map[string]string{"num_classes": "5", "num_training_samples": "120"},
		want: sagemaker.TrainingSpec{Train: "s3://b/labels/train.manifest", Validation: "s3://b/other/validation.manifest", LabelAttribute: "review-photo-category"},
	}, {
		name: "multi-label",
		data: multi,
		hp:   map[string]string{"num_classes": "5", "num_training_samples": "120", "multi_label": "1"},
		want: sagemaker.TrainingSpec{Train: "s3://b/labels/train.manifest", Validation: "s3://b/labels/validation.manifest", LabelAttribute: "review-photo-category", MultiLabel: true},
	}, {
		name: "lst",
		data: lst,
		spec: sagemaker.TrainingSpec{InputFormat: sagemaker.FormatLst},
		hp:   map[string]string{"num_classes": "5", "num_training_samples": "120"},
		want: sagemaker.TrainingSpec{InputFormat: sagemaker.FormatLst, Train: "s3://b/lst/train/", Validation: "s3://b/lst/validation/",
			TrainLst: "s3://b/labels/train.lst", ValidationLst: "s3://b/labels/validation.lst", LabelAttribute: "review-photo-category"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			hp, spec, err := sagemaker.TrainingData(tc.data, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.hp, hp); diff != "" {
				t.Errorf("hyperparameters (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBestRun(t *testing.T) {
	if _, ok := sagemaker.BestRun(nil); ok {
		t.Errorf("a best run of none")
	}
	runs := []sagemaker.Run{{JobName: "a"}, {JobName: "b", Best: true}, {JobName: "c"}}
	if best, ok := sagemaker.BestRun(runs); !ok || best.JobName != "b" {
		t.Errorf("BestRun = %s, %v; want b", best.JobName, ok)
	}
}
