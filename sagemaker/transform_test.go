package sagemaker_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

func transformSpec(model string) sagemaker.TransformSpec {
	return sagemaker.TransformSpec{
		Model:  model,
		Input:  "s3://b/staged/dt=2026-11-28/input.manifest",
		Output: "s3://b/predictions/dt=2026-11-28/",
		Day:    "2026-11-28",
	}
}

func transformer(api sagemaker.API, clock *fakeClock) *sagemaker.Transformer {
	return &sagemaker.Transformer{API: api, Poll: sagemaker.Polling{Interval: 30 * time.Second, Clock: clock}, Logger: slog.New(slog.DiscardHandler)}
}

// completedTrainingJob registers a finished training job with its model.
func completedTrainingJob(t *testing.T, fake *sagemakertest.Fake) string {
	t.Helper()
	jobs := plan(t, "num_layers=18")
	in := *jobs[0].Request
	in.TrainingJobName = aws.String(jobs[0].BaseName)
	fake.AddJob(&in, sagemakertest.State{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": 0.9}})
	return jobs[0].BaseName
}

func TestEnsureModel(t *testing.T) {
	fake := sagemakertest.New()
	job := completedTrainingJob(t, fake)
	spec, err := sagemaker.ModelFromTrainingJob(context.Background(), fake, job)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(spec.ArtifactURI, job+"/output/model.tar.gz") || !strings.Contains(spec.Image, "image-classification") {
		t.Errorf("model spec %+v: want the job's artifact and image", spec)
	}
	name, created, err := sagemaker.EnsureModel(context.Background(), fake, spec)
	if err != nil || !created {
		t.Fatalf("EnsureModel = %s, %v, %v; want a new model", name, created, err)
	}
	again, created, err := sagemaker.EnsureModel(context.Background(), fake, spec)
	if err != nil || created || again != name {
		t.Errorf("EnsureModel again = %s, %v, %v; want %s found", again, created, err, name)
	}
	if got := fake.Calls("CreateModel"); got != 1 {
		t.Errorf("CreateModel calls = %d, want 1", got)
	}
	// A model of the given name made earlier is found; one that serves
	// another artifact is refused.
	other := sagemakertest.New()
	spec.Name = "rl-model-fixed"
	other.AddModel(&sm.CreateModelInput{ModelName: aws.String("rl-model-fixed"), ExecutionRoleArn: aws.String(spec.RoleARN),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String(spec.Image), ModelDataUrl: aws.String(spec.ArtifactURI)}})
	if name, created, err := sagemaker.EnsureModel(context.Background(), other, spec); err != nil || created || name != "rl-model-fixed" {
		t.Errorf("EnsureModel of an existing model = %s, %v, %v", name, created, err)
	}
	spec.ArtifactURI = "s3://b/models/other/output/model.tar.gz"
	var me *sagemaker.MismatchError
	if _, _, err := sagemaker.EnsureModel(context.Background(), other, spec); !errors.As(err, &me) {
		t.Errorf("a model of the same name with another artifact: %v, want a MismatchError", err)
	}
	if _, err := sagemaker.ModelFromTrainingJob(context.Background(), fake, "no-such-job"); !errors.Is(err, sagemaker.ErrNotFound) {
		t.Errorf("model of a missing job: %v, want ErrNotFound", err)
	}
}

func TestTransformer(t *testing.T) {
	ctx := context.Background()
	fake := sagemakertest.New()
	fake.AddModel(&sm.CreateModelInput{ModelName: aws.String("rl-model-x"),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String("img"), ModelDataUrl: aws.String("s3://b/m.tar.gz")}})
	fake.DefaultTransformScript(
		sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusCompleted})
	var ended []string
	fake.OnTransformEnd = func(in *sm.CreateTransformJobInput, status types.TransformJobStatus) {
		ended = append(ended, aws.ToString(in.TransformJobName)+":"+string(status))
	}
	spec := transformSpec("rl-model-x")
	run, err := transformer(fake, &fakeClock{}).Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "Completed" || !run.Created || run.Job != spec.TransformName() {
		t.Errorf("run = %+v, want a created, completed %s", run, spec.TransformName())
	}
	in := fake.TransformInput(run.Job)
	if in.TransformInput.DataSource.S3DataSource.S3DataType != types.S3DataTypeManifestFile ||
		aws.ToString(in.TransformInput.ContentType) != "application/x-image" || in.TransformInput.SplitType != types.SplitTypeNone ||
		aws.ToInt32(in.MaxPayloadInMB) != 6 || aws.ToString(in.TransformOutput.Accept) != "application/jsonlines" {
		t.Errorf("request %+v: want a ManifestFile of images, no split, 6 MB payloads, JSON Lines out", in)
	}
	// A rerun reuses the completed job.
	again, err := transformer(fake, &fakeClock{}).Run(ctx, spec)
	if err != nil || again.Job != run.Job || again.Created || fake.Calls("CreateTransformJob") != 1 {
		t.Errorf("rerun = %+v, %v, creates %d; want the same job reused", again, err, fake.Calls("CreateTransformJob"))
	}
	if len(ended) != 1 {
		t.Errorf("jobs ended: %v, want one", ended)
	}
}

func TestTransformerFailures(t *testing.T) {
	ctx := context.Background()
	model := &sm.CreateModelInput{ModelName: aws.String("rl-model-x"),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String("img"), ModelDataUrl: aws.String("s3://b/m.tar.gz")}}
	spec := transformSpec("rl-model-x")

	t.Run("failed with partial outputs", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.AddModel(model)
		fake.ScriptTransform(spec.TransformName(), sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
			sagemakertest.TransformState{Status: types.TransformJobStatusFailed, FailureReason: "ClientError: See job logs for more information"})
		run, err := transformer(fake, &fakeClock{}).Run(ctx, spec)
		var je *sagemaker.JobError
		if !errors.As(err, &je) || je.Status != "Failed" || run == nil || run.FailureReason == "" {
			t.Fatalf("run %+v, err %v: want a failed run and a JobError", run, err)
		}
		// A rerun finds it failed and starts attempt 2.
		fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusCompleted})
		run2, err := transformer(fake, &fakeClock{}).Run(ctx, spec)
		if err != nil || run2.Job != spec.TransformName()+"-a2" || run2.Attempt != 2 {
			t.Errorf("rerun = %+v, %v; want attempt 2 completed", run2, err)
		}
	})
	t.Run("resource limit waited out", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.AddModel(model)
		fake.FailNext("CreateTransformJob", sagemakertest.LimitExceeded())
		clock := &fakeClock{}
		run, err := transformer(fake, clock).Run(ctx, spec)
		if err != nil || run.Status != "Completed" {
			t.Fatalf("run %+v, %v: want completed after waiting out the limit", run, err)
		}
		if got := fake.Calls("CreateTransformJob"); got != 2 {
			t.Errorf("creates = %d, want 2 (limit, done)", got)
		}
		if len(clock.waits) == 0 || clock.waits[0] < 54*time.Second || clock.waits[0] > 66*time.Second {
			t.Errorf("waits %v, want 1 min first (less jitter)", clock.waits)
		}
	})
	t.Run("throttling left to the SDK", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.AddModel(model)
		fake.FailNext("CreateTransformJob", sagemakertest.Throttling())
		_, err := transformer(fake, &fakeClock{}).Run(ctx, spec)
		if !errors.Is(err, sagemaker.ErrThrottled) || fake.Calls("CreateTransformJob") != 1 {
			t.Errorf("err = %v after %d creates, want ErrThrottled after 1: the SDK retried already", err, fake.Calls("CreateTransformJob"))
		}
		fake.FailNext("DescribeTransformJob", nil, sagemakertest.InternalError())
		run, err := transformer(fake, &fakeClock{}).Run(ctx, spec)
		if err == nil || run == nil || !run.Created || run.Status != "InProgress" {
			t.Errorf("run %+v, %v: want the created job reported in progress with the error", run, err)
		}
		if got := fake.StoppedTransformJobs(); len(got) != 0 {
			t.Errorf("stopped %v: only an ended context stops the job", got)
		}
	})
	t.Run("stopped while waiting", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.AddModel(model)
		fake.ScriptTransform(spec.TransformName(), sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
			sagemakertest.TransformState{Status: types.TransformJobStatusStopped})
		run, err := transformer(fake, &fakeClock{}).Run(ctx, spec)
		var je *sagemaker.JobError
		if !errors.As(err, &je) || je.Status != "Stopped" || je.Kind != "transform job" || run == nil || run.Status != "Stopped" {
			t.Fatalf("run %+v, err %v: want a stopped run and a JobError", run, err)
		}
		if !strings.HasPrefix(err.Error(), "transform job ") {
			t.Errorf("err = %q, want it to say transform job", err)
		}
		if got := fake.CreatedTransformJobs(); len(got) != 1 {
			t.Errorf("created %v: a job stopped while waited on gets no next attempt", got)
		}
	})
	t.Run("attached job stopped on timeout", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.AddModel(model)
		fake.AddTransformJob(spec.Request(spec.TransformName()), sagemakertest.TransformState{Status: types.TransformJobStatusInProgress})
		ctx, cancel := context.WithCancelCause(ctx)
		clock := &fakeClock{hook: func() { cancel(errors.New("timeout passed")) }}
		run, err := transformer(fake, clock).Run(ctx, spec)
		if err == nil || run == nil || run.Created {
			t.Fatalf("run %+v, %v: want the attached run and the timeout", run, err)
		}
		if got := fake.StoppedTransformJobs(); len(got) != 1 || got[0] != spec.TransformName() {
			t.Errorf("stopped %v, want the attached job", got)
		}
	})
	t.Run("timeout stops the job", func(t *testing.T) {
		fake := sagemakertest.New()
		fake.AddModel(model)
		fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress})
		ctx, cancel := context.WithCancelCause(ctx)
		clock := &fakeClock{}
		clock.hook = func() {
			if clock.Now().Sub(time.Time{}) > 10*time.Minute {
				cancel(errors.New("timeout passed"))
			}
		}
		run, err := transformer(fake, clock).Run(ctx, spec)
		if err == nil || !strings.Contains(err.Error(), "timeout passed") {
			t.Fatalf("err = %v, want the timeout", err)
		}
		if got := fake.StoppedTransformJobs(); len(got) != 1 || got[0] != run.Job {
			t.Errorf("stopped %v, want %s", got, run.Job)
		}
	})
	t.Run("bad spec", func(t *testing.T) {
		bad := spec
		bad.MaxPayloadMB, bad.MaxConcurrent = 10, 20
		var se *sagemaker.SpecError
		if _, err := transformer(sagemakertest.New(), &fakeClock{}).Run(ctx, bad); !errors.As(err, &se) || se.Field != "max-concurrent-transforms" {
			t.Errorf("err = %v, want the payload × concurrency limit", err)
		}
		prefix := spec
		prefix.InputType, prefix.Input = sagemaker.InputS3Prefix, "s3://b/in/2026-11-28"
		if err := prefix.Validate(); err == nil {
			t.Errorf("an S3Prefix without a trailing slash was accepted")
		}
	})
}

// TestTransformNameStable: the job's name does not depend on how a spec
// says "nothing" (a nil or an empty environment or tag map), so a Go
// program and the command find the same job.
func TestTransformNameStable(t *testing.T) {
	a := transformSpec("rl-model-x")
	b := a
	b.Environment, b.Tags = map[string]string{}, map[string]string{}
	if a.TransformName() != b.TransformName() {
		t.Errorf("names %s and %s for the same job", a.TransformName(), b.TransformName())
	}
	c := a
	c.Environment = map[string]string{"K": "v"}
	if a.TransformName() == c.TransformName() {
		t.Errorf("the same name %s for another environment", a.TransformName())
	}
}
