package transformcmd_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/internal/transformcmd"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
	"github.com/reviewlens/reviewlens/storage"
)

const day = "2026-11-28"

// world is a day's staged photos on moto's S3 and a tuning run whose best
// job the scripted fake knows.
type world struct {
	store  *storage.Storage
	bucket string
	staged string // the stage step's folder
	runs   string // runs.parquet
	output string
	photos []inspect.Staged
	fake   *sagemakertest.Fake
}

func newWorld(t *testing.T, photos int) *world {
	t.Helper()
	endpoint := testenv.S3Endpoint(t)
	w := &world{store: storage.New(testenv.StorageOptions(endpoint)), bucket: testenv.NewBucket(t, endpoint), fake: sagemakertest.New()}
	ctx := context.Background()
	w.staged = "s3://" + w.bucket + "/staged/dt=" + day + "/"
	w.output = "s3://" + w.bucket + "/predictions/dt=" + day + "/"
	var keys []string
	for i := range photos {
		key := fmt.Sprintf("r-%03d/0.jpg", i)
		keys = append(keys, key)
		w.photos = append(w.photos, inspect.Staged{ReviewID: fmt.Sprintf("r-%03d", i), ReviewType: "product",
			ImageURI: "s3://" + w.bucket + "/photos/" + key, InputURI: "s3://" + w.bucket + "/photos/" + key,
			InputKey: key, OutputKey: key + ".out", SizeBytes: 1000, ContentType: "image/jpeg", Day: day})
	}
	var buf bytes.Buffer
	if err := inspect.WriteStaged(&buf, w.photos); err != nil {
		t.Fatal(err)
	}
	if err := w.store.WriteFile(ctx, w.staged+"staged.parquet", buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := inspect.WriteTransformManifest(&buf, "s3://"+w.bucket+"/photos/", keys); err != nil {
		t.Fatal(err)
	}
	if err := w.store.WriteFile(ctx, w.staged+"input.manifest", buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	// The tuning run: a completed training job, marked best.
	job := "rl-ic-nl50-e10-0123abcd"
	w.fake.AddJob(&sm.CreateTrainingJobInput{
		TrainingJobName:        aws.String(job),
		RoleArn:                aws.String("arn:aws:iam::123456789012:role/sagemaker"),
		AlgorithmSpecification: &types.AlgorithmSpecification{TrainingImage: aws.String("811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"), TrainingInputMode: types.TrainingInputModePipe},
		OutputDataConfig:       &types.OutputDataConfig{S3OutputPath: aws.String("s3://" + w.bucket + "/models/")},
		ResourceConfig:         &types.ResourceConfig{InstanceType: types.TrainingInstanceTypeMlP32xlarge, InstanceCount: aws.Int32(1), VolumeSizeInGB: aws.Int32(50)},
		StoppingCondition:      &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(3600)},
	}, sagemakertest.State{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": 0.93}})
	buf.Reset()
	err := sagemaker.WriteRuns(&buf, []sagemaker.Run{
		{JobName: job, BaseName: job, Attempt: 1, Status: "Completed", Best: true, Objective: 0.93, ObjectiveMetric: "validation:accuracy", InstanceType: "ml.p3.2xlarge", InstanceCount: 1},
		{JobName: "rl-ic-nl18-e10-0123abce", BaseName: "rl-ic-nl18-e10-0123abce", Attempt: 1, Status: "Completed", Objective: 0.81, ObjectiveMetric: "validation:accuracy", InstanceType: "ml.p3.2xlarge", InstanceCount: 1},
		{JobName: "rl-ic-nl34-e10-0123abcf", BaseName: "rl-ic-nl34-e10-0123abcf", Attempt: 1, Status: "Failed", Objective: math.NaN(), ObjectiveMetric: "validation:accuracy", InstanceType: "ml.p3.2xlarge", InstanceCount: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.runs = "s3://" + w.bucket + "/models/runs.parquet"
	if err := w.store.WriteFile(ctx, w.runs, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return w
}

// writeOutputs makes the fake's transform jobs leave an output for the
// first n photos (all when n < 0) when they end Completed or Failed.
func (w *world) writeOutputs(t *testing.T, n int) {
	w.fake.OnTransformEnd = func(in *sm.CreateTransformJobInput, status types.TransformJobStatus) {
		if status == types.TransformJobStatusStopped {
			return // a stopped transform keeps no output
		}
		for i, p := range w.photos {
			if n >= 0 && i >= n {
				break
			}
			uri := storage.Join(aws.ToString(in.TransformOutput.S3OutputPath), p.OutputKey)
			if err := w.store.WriteFile(context.Background(), uri, []byte(`{"prediction":[0.9,0.05,0.05]}`)); err != nil {
				t.Errorf("write %s: %v", uri, err)
			}
		}
	}
}

func (w *world) config() transformcmd.Config {
	return transformcmd.Config{
		Staged:        w.staged,
		ModelFromRuns: w.runs,
		Spec:          sagemaker.TransformSpec{Output: w.output},
		Transformer:   sagemaker.Transformer{PollMin: time.Millisecond, PollMax: time.Millisecond},
		Logger:        slog.New(slog.DiscardHandler),
	}
}

func TestTransformFromRuns(t *testing.T) {
	w := newWorld(t, 5)
	w.writeOutputs(t, -1)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusCompleted})
	ctx := context.Background()
	res, err := transformcmd.Run(ctx, w.store, w.fake, w.config())
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "Completed" || res.Photos != 5 || res.Outputs == nil || *res.Outputs != 5 || res.Day != day || !res.ModelCreated {
		t.Errorf("result %+v: want completed, 5 photos with 5 outputs, a new model", res)
	}
	model := w.fake.CreateModelInput(res.Model)
	if got := aws.ToString(model.PrimaryContainer.ModelDataUrl); got != "s3://"+w.bucket+"/models/rl-ic-nl50-e10-0123abcd/output/model.tar.gz" {
		t.Errorf("model artifact = %s, want the best run's", got)
	}
	in := w.fake.TransformInput(res.Job)
	if got, want := aws.ToString(in.TransformInput.DataSource.S3DataSource.S3Uri), w.staged+"input.manifest"; got != want {
		t.Errorf("input = %s, want %s", got, want)
	}
	// Again: the same model and job, nothing created.
	res2, err := transformcmd.Run(ctx, w.store, w.fake, w.config())
	if err != nil || res2.Job != res.Job || res2.ModelCreated || w.fake.Calls("CreateTransformJob") != 1 || w.fake.Calls("CreateModel") != 1 {
		t.Errorf("rerun %+v, %v: want the same job reused and nothing created", res2, err)
	}
}

func TestTransformFailedWithOutputs(t *testing.T) {
	w := newWorld(t, 6)
	w.writeOutputs(t, 4)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusFailed, FailureReason: "ClientError: See job logs for more information"})
	res, err := transformcmd.Run(context.Background(), w.store, w.fake, w.config())
	if got, want := cli.ExitCode(err), cli.ExitJobFailed; got != want {
		t.Fatalf("exit code %d (%v), want %d", got, err, want)
	}
	if res == nil || res.Outputs == nil || *res.Outputs != 4 || res.FailureReason == "" {
		t.Fatalf("result %+v: want the failure reason and 4 outputs of 6", res)
	}
	if want := "4 of 6 photos have an output"; !bytes.Contains([]byte(err.Error()), []byte(want)) {
		t.Errorf("err = %v, want it to say %q", err, want)
	}
}

func TestTransformTimeoutStops(t *testing.T) {
	w := newWorld(t, 3)
	w.fake.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusInProgress})
	ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, cli.ErrTimeout)
	defer cancel()
	res, err := transformcmd.Run(ctx, w.store, w.fake, w.config())
	if got, want := cli.ExitCode(err), cli.ExitTimeout; got != want {
		t.Fatalf("exit code %d (%v), want %d", got, err, want)
	}
	if got := w.fake.StoppedTransformJobs(); len(got) != 1 || res == nil || got[0] != res.Job {
		t.Errorf("stopped %v, result %+v: want the job stopped", got, res)
	}
}

func TestTransformBadInput(t *testing.T) {
	w := newWorld(t, 2)
	for name, mutate := range map[string]func(*transformcmd.Config){
		"two models":     func(c *transformcmd.Config) { c.Model = "rl-model-x" },
		"no model":       func(c *transformcmd.Config) { c.ModelFromRuns = "" },
		"missing job":    func(c *transformcmd.Config) { c.ModelFromRuns, c.ModelFromTrainingJob = "", "no-such-job" },
		"no staged":      func(c *transformcmd.Config) { c.Staged = "s3://" + w.bucket + "/nothing/" },
		"payload limits": func(c *transformcmd.Config) { c.Spec.MaxPayloadMB, c.Spec.MaxConcurrent = 50, 3 },
		"local output":   func(c *transformcmd.Config) { c.Spec.Output = "/tmp/predictions/" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := w.config()
			mutate(&cfg)
			_, err := transformcmd.Run(context.Background(), w.store, w.fake, cfg)
			if got := cli.ExitCode(err); got != cli.ExitBadInput {
				t.Errorf("exit code %d (%v), want %d", got, err, cli.ExitBadInput)
			}
		})
	}
	if got := w.fake.Calls("CreateTransformJob"); got != 0 {
		t.Errorf("%d transform jobs created from bad input", got)
	}
}
