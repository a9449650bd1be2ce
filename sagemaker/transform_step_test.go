package sagemaker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

const day = "2026-11-28"

// day is a day's staged photos (the stage step's input.manifest) and a
// tuning run whose best job the scripted fake knows.
type dayWorld struct {
	fake     *sagemakertest.Fake
	files    *sagemakertest.Files
	manifest string
	runs     string
	output   string
	keys     []string
	bestJob  string
}

func newDayWorld(t *testing.T, photos int) *dayWorld {
	t.Helper()
	w := &dayWorld{fake: sagemakertest.New(), files: sagemakertest.NewFiles(),
		manifest: "s3://b/staged/dt=" + day + "/input.manifest", runs: "s3://b/models/runs.parquet",
		output: "s3://b/predictions/dt=" + day + "/"}
	items := []string{`{"prefix":"s3://b/photos/"}`}
	for i := range photos {
		key := fmt.Sprintf("r-%03d/0.jpg", i)
		w.keys = append(w.keys, key)
		items = append(items, `"`+key+`"`)
	}
	w.files.Put(w.manifest, []byte("["+strings.Join(items, ",")+"]"))
	w.bestJob = "rl-ic-nl50-e10-0123abcd"
	w.fake.AddJob(&sm.CreateTrainingJobInput{
		TrainingJobName:        aws.String(w.bestJob),
		RoleArn:                aws.String("arn:aws:iam::123456789012:role/sagemaker"),
		AlgorithmSpecification: &types.AlgorithmSpecification{TrainingImage: aws.String("811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"), TrainingInputMode: types.TrainingInputModePipe},
		OutputDataConfig:       &types.OutputDataConfig{S3OutputPath: aws.String("s3://b/models/")},
		ResourceConfig:         &types.ResourceConfig{InstanceType: types.TrainingInstanceTypeMlP32xlarge, InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(50)},
		StoppingCondition:      &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(3600)},
	}, sagemakertest.State{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": 0.93}})
	var buf bytes.Buffer
	err := sagemaker.WriteRuns(&buf, []sagemaker.Run{
		{JobName: w.bestJob, BaseName: w.bestJob, Attempt: 1, Status: "Completed", Best: true, Objective: 0.93, ObjectiveMetric: "validation:accuracy", InstanceType: "ml.p3.2xlarge", InstanceCount: 1},
		{JobName: "rl-ic-nl18-e10-0123abce", BaseName: "rl-ic-nl18-e10-0123abce", Attempt: 1, Status: "Completed", Objective: 0.81, ObjectiveMetric: "validation:accuracy", InstanceType: "ml.p3.2xlarge", InstanceCount: 1},
		{JobName: "rl-ic-nl34-e10-0123abcf", BaseName: "rl-ic-nl34-e10-0123abcf", Attempt: 1, Status: "Failed", Objective: math.NaN(), ObjectiveMetric: "validation:accuracy", InstanceType: "ml.p3.2xlarge", InstanceCount: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.files.Put(w.runs, buf.Bytes())
	return w
}

// writeOutputs makes the fake's transform jobs leave an output for the
// first n photos (all when n < 0) when they end Completed or Failed.
func (w *dayWorld) writeOutputs(n int) {
	w.fake.OnTransformEnd = func(in *sm.CreateTransformJobInput, status types.TransformJobStatus) {
		if status == types.TransformJobStatusStopped {
			return // a stopped transform keeps no output
		}
		for i, k := range w.keys {
			if n >= 0 && i >= n {
				break
			}
			w.files.Put(aws.ToString(in.TransformOutput.S3OutputPath)+k+".out", []byte(`{"prediction":[0.9,0.05,0.05]}`))
		}
	}
}

func (w *dayWorld) options(clock *fakeClock) sagemaker.TransformOptions {
	return sagemaker.TransformOptions{
		Spec:          sagemaker.TransformSpec{Input: w.manifest, Output: w.output, Day: day},
		ModelFromRuns: w.runs,
		Poll:          sagemaker.Polling{Clock: clock},
		Logger:        slog.New(slog.DiscardHandler),
	}
}

func TestTransformStep(t *testing.T) {
	w := newDayWorld(t, 5)
	w.writeOutputs(-1)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusCompleted})
	ctx := context.Background()
	res, err := sagemaker.Transform(ctx, w.fake, w.files, w.options(&fakeClock{}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "Completed" || res.Photos != 5 || res.Outputs == nil || *res.Outputs != 5 || res.Day != day || !res.ModelCreated ||
		res.Input != w.manifest || res.Output != w.output || res.Attempt != 1 {
		t.Errorf("result %+v: want completed, 5 photos with 5 outputs, a new model", res)
	}
	model := w.fake.CreateModelInput(res.Model)
	if got := aws.ToString(model.PrimaryContainer.ModelDataUrl); got != "s3://b/models/"+w.bestJob+"/output/model.tar.gz" {
		t.Errorf("model artifact = %s, want the best run's", got)
	}
	in := w.fake.TransformInput(res.Job)
	if got := aws.ToString(in.TransformInput.DataSource.S3DataSource.S3Uri); got != w.manifest {
		t.Errorf("input = %s, want %s", got, w.manifest)
	}
	// Again: the same model and job, nothing created.
	res2, err := sagemaker.Transform(ctx, w.fake, w.files, w.options(&fakeClock{}))
	if err != nil || res2.Job != res.Job || res2.ModelCreated || w.fake.Calls("CreateTransformJob") != 1 || w.fake.Calls("CreateModel") != 1 {
		t.Errorf("rerun %+v, %v: want the same job reused and nothing created", res2, err)
	}
}

// A role given for the model replaces the training job's, and names
// another model: the one made with the training job's role is not reused
// under a role it does not have.
func TestTransformStepModelRole(t *testing.T) {
	w := newDayWorld(t, 3)
	w.writeOutputs(-1)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusCompleted})
	ctx := context.Background()
	own, err := sagemaker.Transform(ctx, w.fake, w.files, w.options(&fakeClock{}))
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(w.fake.CreateModelInput(own.Model).ExecutionRoleArn); got != "arn:aws:iam::123456789012:role/sagemaker" {
		t.Errorf("model role = %s, want the training job's", got)
	}
	opts := w.options(&fakeClock{})
	opts.ModelRoleARN = "arn:aws:iam::123456789012:role/transform"
	res, err := sagemaker.Transform(ctx, w.fake, w.files, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model == own.Model || !res.ModelCreated {
		t.Errorf("model %s (created %v) with another role: want a new model, not %s", res.Model, res.ModelCreated, own.Model)
	}
	if got := aws.ToString(w.fake.CreateModelInput(res.Model).ExecutionRoleArn); got != opts.ModelRoleARN {
		t.Errorf("model role = %s, want %s", got, opts.ModelRoleARN)
	}
}

func TestTransformStepFailedWithOutputs(t *testing.T) {
	w := newDayWorld(t, 6)
	w.writeOutputs(4)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusFailed, FailureReason: "ClientError: See job logs for more information"})
	res, err := sagemaker.Transform(context.Background(), w.fake, w.files, w.options(&fakeClock{}))
	var je *sagemaker.JobError
	if !errors.As(err, &je) || je.Status != "Failed" {
		t.Fatalf("err = %v, want a JobError", err)
	}
	if res == nil || res.Outputs == nil || *res.Outputs != 4 || res.FailureReason == "" {
		t.Fatalf("result %+v: want the failure reason and 4 outputs of 6", res)
	}
	if want := "4 of 6 photos have an output"; !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want it to say %q", err, want)
	}
}

// TestTransformStepStopped: a job stopped while waited on keeps no output:
// none is counted, and it is a JobError with status Stopped.
func TestTransformStepStopped(t *testing.T) {
	w := newDayWorld(t, 3)
	w.writeOutputs(-1)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusStopped})
	res, err := sagemaker.Transform(context.Background(), w.fake, w.files, w.options(&fakeClock{}))
	var je *sagemaker.JobError
	if !errors.As(err, &je) || je.Status != "Stopped" || res == nil || res.Outputs != nil || res.Status != "Stopped" {
		t.Errorf("result %+v, err %v: want Stopped, no outputs counted", res, err)
	}
}

func TestTransformStepCancelStops(t *testing.T) {
	w := newDayWorld(t, 3)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress})
	timeout := errors.New("timeout passed")
	ctx, cancel := context.WithCancelCause(context.Background())
	clock := &fakeClock{hook: func() { cancel(timeout) }}
	res, err := sagemaker.Transform(ctx, w.fake, w.files, w.options(clock))
	if !errors.Is(err, timeout) {
		t.Fatalf("err = %v, want the timeout", err)
	}
	if got := w.fake.StoppedTransformJobs(); len(got) != 1 || res == nil || got[0] != res.Job || res.Outputs != nil {
		t.Errorf("stopped %v, result %+v: want the job stopped", got, res)
	}
}

func TestTransformStepS3Prefix(t *testing.T) {
	w := newDayWorld(t, 0)
	w.writeOutputs(-1)
	for _, k := range []string{"a/0.jpg", "b/1.jpg"} {
		w.keys = append(w.keys, k)
		w.files.Put("s3://b/photos/"+day+"/"+k, []byte("jpeg"))
	}
	opts := w.options(&fakeClock{})
	opts.Spec.InputType, opts.Spec.Input = sagemaker.InputS3Prefix, "s3://b/photos/"+day+"/"
	res, err := sagemaker.Transform(context.Background(), w.fake, w.files, opts)
	if err != nil || res.Photos != 2 || res.Outputs == nil || *res.Outputs != 2 {
		t.Errorf("result %+v, %v: want 2 photos with 2 outputs", res, err)
	}
}

// TestTransformStepBadInput: what Transform refuses before it creates a
// model or a job.
func TestTransformStepBadInput(t *testing.T) {
	w := newDayWorld(t, 2)
	w.files.Put("s3://b/empty.manifest", []byte(`[{"prefix":"s3://b/photos/"}]`))
	w.files.Put("s3://b/bad.manifest", []byte(`{"source-ref":"s3://b/x.jpg"}`))
	w.files.Put("s3://b/models/nobest.parquet", func() []byte {
		var buf bytes.Buffer
		if err := sagemaker.WriteRuns(&buf, []sagemaker.Run{{JobName: "x", Status: "Failed", Objective: math.NaN()}}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}())
	w.files.Put("s3://b/models/notruns.parquet", []byte("job_name\nx\n"))
	for name, tc := range map[string]struct {
		change func(*sagemaker.TransformOptions)
		field  string
	}{
		"two models":       {func(o *sagemaker.TransformOptions) { o.Spec.Model = "rl-model-x" }, "model"},
		"no model":         {func(o *sagemaker.TransformOptions) { o.ModelFromRuns = "" }, "model"},
		"missing job":      {func(o *sagemaker.TransformOptions) { o.ModelFromRuns, o.ModelFromTrainingJob = "", "no-such-job" }, "model-from-training-job"},
		"missing runs":     {func(o *sagemaker.TransformOptions) { o.ModelFromRuns = "s3://b/models/none.parquet" }, "model-from-runs"},
		"runs not a table": {func(o *sagemaker.TransformOptions) { o.ModelFromRuns = "s3://b/models/notruns.parquet" }, "model-from-runs"},
		"no best run":      {func(o *sagemaker.TransformOptions) { o.ModelFromRuns = "s3://b/models/nobest.parquet" }, "model-from-runs"},
		"payload limits":   {func(o *sagemaker.TransformOptions) { o.Spec.MaxPayloadMB, o.Spec.MaxConcurrent = 50, 3 }, "max-concurrent-transforms"},
		"local output":     {func(o *sagemaker.TransformOptions) { o.Spec.Output = "/tmp/predictions/" }, "output"},
		"missing input":    {func(o *sagemaker.TransformOptions) { o.Spec.Input = "s3://b/none.manifest" }, "input"},
		"empty input":      {func(o *sagemaker.TransformOptions) { o.Spec.Input = "s3://b/empty.manifest" }, "input"},
		"not a manifest":   {func(o *sagemaker.TransformOptions) { o.Spec.Input = "s3://b/bad.manifest" }, "input"},
		"attempts":         {func(o *sagemaker.TransformOptions) { o.MaxAttempts = -1 }, "max-attempts"},
		"role not an ARN":  {func(o *sagemaker.TransformOptions) { o.ModelRoleARN = "transform-role" }, "model-role-arn"},
		"role of a model": {func(o *sagemaker.TransformOptions) {
			o.ModelFromRuns, o.Spec.Model, o.ModelRoleARN = "", "rl-model-x", "arn:aws:iam::123456789012:role/transform"
		}, "model-role-arn"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := w.options(&fakeClock{})
			tc.change(&opts)
			_, err := sagemaker.Transform(context.Background(), w.fake, w.files, opts)
			var se *sagemaker.SpecError
			if !errors.As(err, &se) || se.Field != tc.field {
				t.Errorf("err = %v, want a SpecError of %s", err, tc.field)
			}
		})
	}
	if got := w.fake.Calls("CreateTransformJob") + w.fake.Calls("CreateModel"); got != 0 {
		t.Errorf("%d models and jobs created from bad input", got)
	}
}
