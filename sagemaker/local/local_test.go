package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/apitest"
	"github.com/reviewlens/reviewlens/sagemaker/local"
	"github.com/reviewlens/reviewlens/storage"
)

// fakeEngine learns nothing: its classifier answers class 0 for every
// photo; train blocks, when set, until the job's context ends.
type fakeEngine struct {
	block   bool
	started chan struct{}
}

func (e *fakeEngine) Train(ctx context.Context, in local.TrainInput) (*local.TrainOutput, error) {
	if e.started != nil {
		close(e.started)
	}
	if e.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	n, _ := strconv.Atoi(in.Hyperparameters["num_classes"])
	for i := range in.Train.Len() {
		if _, _, err := in.Train.Load(ctx, i); err != nil {
			return nil, err
		}
	}
	val := 0
	if in.Validation != nil {
		val = in.Validation.Len()
	}
	in.Logf("Epoch[0] Train-accuracy=0.500")
	art, _ := json.Marshal(map[string]int{"classes": n, "train": in.Train.Len(), "validation": val})
	return &local.TrainOutput{Artifact: art, TrainAccuracy: 0.5, ValidationAccuracy: 0.25}, nil
}

func (e *fakeEngine) Load(ctx context.Context, artifact []byte) (local.Classifier, error) {
	var m map[string]int
	if err := json.Unmarshal(artifact, &m); err != nil {
		return nil, err
	}
	return firstClass(m["classes"]), nil
}

type firstClass int

func (c firstClass) NumClasses() int { return int(c) }
func (c firstClass) Classify(ctx context.Context, imgs []image.Image) ([][]float64, error) {
	out := make([][]float64, len(imgs))
	for i := range out {
		out[i] = make([]float64, int(c))
		out[i][0] = 1
	}
	return out, nil
}

// world is a root, a bucket served from a folder, and photos in it.
type world struct {
	dir    string
	st     *storage.Storage
	client *local.Client
}

func pngBytes(tb testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func newWorld(tb testing.TB, e local.Engine) *world {
	tb.Helper()
	dir := tb.TempDir()
	w := &world{dir: dir, st: storage.New(storage.Options{Folders: map[string]string{"s3://bkt": filepath.Join(dir, "bkt")}})}
	ctx := context.Background()
	var lines []string
	for i := range 6 {
		uri := fmt.Sprintf("s3://bkt/photos/%d.png", i)
		if err := w.st.WriteFile(ctx, uri, pngBytes(tb)); err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf(`{"source-ref":%q,"category":%d}`, uri, i%2))
	}
	w.st.WriteFile(ctx, "s3://bkt/labels/train.manifest", []byte(strings.Join(lines[:4], "\n")+"\n"))
	w.st.WriteFile(ctx, "s3://bkt/labels/validation.manifest", []byte(strings.Join(lines[4:], "\n")+"\n"))
	c, err := local.New(local.Options{Root: filepath.Join(dir, "root"), Storage: w.st, Engine: e})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	w.client = c
	return w
}

func trainingInput(name string) *awssm.CreateTrainingJobInput {
	ch := func(n, uri string) types.Channel {
		return types.Channel{ChannelName: aws.String(n), DataSource: &types.DataSource{S3DataSource: &types.S3DataSource{
			S3DataType: types.S3DataTypeAugmentedManifestFile, S3Uri: aws.String(uri), AttributeNames: []string{"source-ref", "category"}}}}
	}
	return &awssm.CreateTrainingJobInput{
		TrainingJobName:   aws.String(name),
		RoleArn:           aws.String("arn:aws:iam::123456789012:role/r"),
		HyperParameters:   map[string]string{"num_classes": "2", "num_training_samples": "4", "epochs": "1", "image_shape": "3,8,8"},
		InputDataConfig:   []types.Channel{ch("train", "s3://bkt/labels/train.manifest"), ch("validation", "s3://bkt/labels/validation.manifest")},
		OutputDataConfig:  &types.OutputDataConfig{S3OutputPath: aws.String("s3://bkt/models/")},
		StoppingCondition: &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(3600)},
	}
}

// waitJobs waits for the client's jobs to end, a minute at most.
func waitJobs(tb testing.TB, c *local.Client) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Wait(ctx); err != nil {
		tb.Fatalf("the local jobs have not ended after a minute: %v", err)
	}
}

// waitTraining waits for a job to end and describes it.
func waitTraining(tb testing.TB, c *local.Client, name string) *awssm.DescribeTrainingJobOutput {
	tb.Helper()
	waitJobs(tb, c)
	out, err := c.DescribeTrainingJob(context.Background(), &awssm.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return ""
}

func TestTrainingJob(t *testing.T) {
	w := newWorld(t, &fakeEngine{})
	ctx := context.Background()
	if _, err := w.client.CreateTrainingJob(ctx, trainingInput("job-1")); err != nil {
		t.Fatal(err)
	}
	out := waitTraining(t, w.client, "job-1")
	if out.TrainingJobStatus != types.TrainingJobStatusCompleted || out.SecondaryStatus != types.SecondaryStatusCompleted {
		t.Fatalf("status %s / %s (%s), want Completed", out.TrainingJobStatus, out.SecondaryStatus, aws.ToString(out.FailureReason))
	}
	metrics := map[string]float32{}
	for _, m := range out.FinalMetricDataList {
		metrics[aws.ToString(m.MetricName)] = aws.ToFloat32(m.Value)
	}
	if metrics["train:accuracy"] != 0.5 || metrics["validation:accuracy"] != 0.25 {
		t.Errorf("final metrics %v, want train 0.5 and validation 0.25", metrics)
	}
	if got, want := aws.ToString(out.ModelArtifacts.S3ModelArtifacts), "s3://bkt/models/job-1/output/model.tar.gz"; got != want {
		t.Errorf("artifact %s, want %s", got, want)
	}
	art, err := w.st.ReadFile(ctx, "s3://bkt/models/job-1/output/model.tar.gz")
	if err != nil || !strings.Contains(string(art), `"train":4`) || !strings.Contains(string(art), `"validation":2`) {
		t.Errorf("artifact %s (%v): want the engine's, trained on 4 and validated on 2 photos", art, err)
	}
	var seen []string
	for _, tr := range out.SecondaryStatusTransitions {
		seen = append(seen, string(tr.Status))
	}
	if got, want := strings.Join(seen, ","), "Starting,Downloading,Training,Uploading,Completed"; got != want {
		t.Errorf("transitions %s, want %s", got, want)
	}
	if out.TrainingTimeInSeconds == nil || out.BillableTimeInSeconds == nil {
		t.Errorf("no training seconds")
	}
	log, err := os.ReadFile(w.client.LogPath("training", "job-1"))
	if err != nil || !strings.Contains(string(log), "Epoch[0] Train-accuracy=0.500") {
		t.Errorf("job log %q (%v): want the engine's epochs", log, err)
	}
}

func TestNames(t *testing.T) {
	w := newWorld(t, &fakeEngine{})
	ctx := context.Background()
	if _, err := w.client.CreateTrainingJob(ctx, trainingInput("dup")); err != nil {
		t.Fatal(err)
	}
	_, err := w.client.CreateTrainingJob(ctx, trainingInput("dup"))
	var inUse *types.ResourceInUse
	if !errors.As(err, &inUse) {
		t.Errorf("second job of the same name: %v, want ResourceInUse", err)
	}
	if _, err := w.client.CreateTrainingJob(ctx, trainingInput("bad_name")); !strings.HasPrefix(apiCode(err), "ValidationException") {
		t.Errorf("a name with '_': %v, want ValidationException", err)
	}
	_, err = w.client.DescribeTrainingJob(ctx, &awssm.DescribeTrainingJobInput{TrainingJobName: aws.String("nope")})
	if got, want := apiCode(err), "ValidationException: Requested resource not found."; got != want {
		t.Errorf("describe a missing job: %q, want %q", got, want)
	}
	// Names are unique for ever: another client on the same root sees it.
	other, err := local.New(local.Options{Root: w.client.Root(), Storage: w.st, Engine: &fakeEngine{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CreateTrainingJob(ctx, trainingInput("dup")); !errors.As(err, &inUse) {
		t.Errorf("same name from another client on the root: %v, want ResourceInUse", err)
	}
}

func TestStopTraining(t *testing.T) {
	e := &fakeEngine{block: true, started: make(chan struct{})}
	w := newWorld(t, e)
	ctx := context.Background()
	if _, err := w.client.CreateTrainingJob(ctx, trainingInput("long")); err != nil {
		t.Fatal(err)
	}
	<-e.started
	if _, err := w.client.StopTrainingJob(ctx, &awssm.StopTrainingJobInput{TrainingJobName: aws.String("long")}); err != nil {
		t.Fatal(err)
	}
	out := waitTraining(t, w.client, "long")
	if out.TrainingJobStatus != types.TrainingJobStatusStopped {
		t.Fatalf("status %s, want Stopped", out.TrainingJobStatus)
	}
	var seen []string
	for _, tr := range out.SecondaryStatusTransitions {
		seen = append(seen, string(tr.Status))
	}
	if s := strings.Join(seen, ","); !strings.Contains(s, "Stopping,Stopped") {
		t.Errorf("transitions %s, want Stopping then Stopped", s)
	}
	if _, err := w.client.StopTrainingJob(ctx, &awssm.StopTrainingJobInput{TrainingJobName: aws.String("long")}); !strings.Contains(apiCode(err), "in status Stopped") {
		t.Errorf("stopping a stopped job: %v, want the ValidationException SageMaker gives", err)
	}
}

// The test binary doubles as a process that starts a training job on a
// root and blocks until killed.
const childEnv = "REVIEWLENS_LOCAL_CHILD_ROOT"

func TestMain(m *testing.M) {
	if root := os.Getenv(childEnv); root != "" {
		st := storage.New(storage.Options{Folders: map[string]string{"s3://bkt": filepath.Join(filepath.Dir(root), "bkt")}})
		e := &fakeEngine{block: true, started: make(chan struct{})}
		c, err := local.New(local.Options{Root: root, Storage: st, Engine: e})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if _, err := c.CreateTrainingJob(context.Background(), trainingInput("orphan")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		<-e.started
		fmt.Println("training")
		select {}
	}
	os.Exit(m.Run())
}

// TestInterrupted: a job whose process was killed is Failed, interrupted.
func TestInterrupted(t *testing.T) {
	w := newWorld(t, &fakeEngine{})
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+w.client.Root())
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9)
	if _, err := stdout.Read(buf); err != nil || string(buf[:8]) != "training" {
		child.Process.Kill()
		t.Fatalf("child: %q, %v", buf, err)
	}
	ctx := context.Background()
	out, err := w.client.DescribeTrainingJob(ctx, &awssm.DescribeTrainingJobInput{TrainingJobName: aws.String("orphan")})
	if err != nil || out.TrainingJobStatus != types.TrainingJobStatusInProgress {
		t.Fatalf("while its process lives: %v, %v; want InProgress", out, err)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	out, err = w.client.DescribeTrainingJob(ctx, &awssm.DescribeTrainingJobInput{TrainingJobName: aws.String("orphan")})
	if err != nil {
		t.Fatal(err)
	}
	if out.TrainingJobStatus != types.TrainingJobStatusFailed || !strings.HasPrefix(aws.ToString(out.FailureReason), "interrupted") {
		t.Errorf("after its process died: %s %q, want Failed, interrupted", out.TrainingJobStatus, aws.ToString(out.FailureReason))
	}
}

func TestTransform(t *testing.T) {
	w := newWorld(t, &fakeEngine{})
	ctx := context.Background()
	if _, err := w.client.CreateTrainingJob(ctx, trainingInput("t")); err != nil {
		t.Fatal(err)
	}
	waitTraining(t, w.client, "t")
	if _, err := w.client.CreateModel(ctx, &awssm.CreateModelInput{ModelName: aws.String("m"),
		PrimaryContainer: &types.ContainerDefinition{ModelDataUrl: aws.String("s3://bkt/models/t/output/model.tar.gz")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.CreateModel(ctx, &awssm.CreateModelInput{ModelName: aws.String("m"),
		PrimaryContainer: &types.ContainerDefinition{ModelDataUrl: aws.String("s3://bkt/x")}}); !strings.Contains(apiCode(err), "Cannot create already existing model") {
		t.Errorf("second model of the same name: %v", err)
	}
	run := func(name string, keys ...string) *awssm.DescribeTransformJobOutput {
		b, _ := json.Marshal(append([]any{map[string]string{"prefix": "s3://bkt/photos/"}}, anyOf(keys)...))
		manifest := "s3://bkt/staged/" + name + ".manifest"
		w.st.WriteFile(ctx, manifest, b)
		_, err := w.client.CreateTransformJob(ctx, &awssm.CreateTransformJobInput{TransformJobName: aws.String(name), ModelName: aws.String("m"),
			TransformInput:  &types.TransformInput{DataSource: &types.TransformDataSource{S3DataSource: &types.TransformS3DataSource{S3DataType: types.S3DataTypeManifestFile, S3Uri: aws.String(manifest)}}},
			TransformOutput: &types.TransformOutput{S3OutputPath: aws.String("s3://bkt/out/" + name + "/")}})
		if err != nil {
			t.Fatal(err)
		}
		waitJobs(t, w.client)
		out, err := w.client.DescribeTransformJob(ctx, &awssm.DescribeTransformJobInput{TransformJobName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := run("ok", "0.png", "1.png")
	if out.TransformJobStatus != types.TransformJobStatusCompleted {
		t.Fatalf("status %s (%s)", out.TransformJobStatus, aws.ToString(out.FailureReason))
	}
	got, err := w.st.ReadFile(ctx, "s3://bkt/out/ok/1.png.out")
	if err != nil || strings.TrimSpace(string(got)) != `{"prediction":[1,0]}` {
		t.Errorf("output %q (%v), want the built-in algorithm's format", got, err)
	}
	w.st.WriteFile(ctx, "s3://bkt/photos/broken.png", []byte("not a photo"))
	out = run("bad", "0.png", "broken.png")
	if out.TransformJobStatus != types.TransformJobStatusFailed || !strings.Contains(aws.ToString(out.FailureReason), "broken.png") {
		t.Errorf("a photo that does not decode: %s %q, want Failed naming it", out.TransformJobStatus, aws.ToString(out.FailureReason))
	}
	if _, err := w.st.ReadFile(ctx, "s3://bkt/out/bad/0.png.out"); err != nil {
		t.Errorf("the good photo of a failed job has no output: %v", err)
	}
	if _, err := w.st.ReadFile(ctx, "s3://bkt/out/bad/broken.png.out"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("the broken photo has an output: %v", err)
	}
	_, err = w.client.CreateTransformJob(ctx, &awssm.CreateTransformJobInput{TransformJobName: aws.String("ok"), ModelName: aws.String("m"),
		TransformInput:  &types.TransformInput{DataSource: &types.TransformDataSource{S3DataSource: &types.TransformS3DataSource{S3DataType: types.S3DataTypeS3Prefix, S3Uri: aws.String("s3://bkt/photos/")}}},
		TransformOutput: &types.TransformOutput{S3OutputPath: aws.String("s3://bkt/out/x/")}})
	var inUse *types.ResourceInUse
	if !errors.As(err, &inUse) {
		t.Errorf("a transform job name used twice: %v, want ResourceInUse", err)
	}
}

func anyOf(s []string) []any {
	out := make([]any, len(s))
	for i := range s {
		out[i] = s[i]
	}
	return out
}

var _ = time.Second

// TestContract holds the local backend to the contract of sagemaker.API,
// with the fake engine (the contract is about jobs, not learning).
func TestContract(t *testing.T) {
	dir := t.TempDir()
	st := storage.New(storage.Options{Folders: map[string]string{"s3://bkt": filepath.Join(dir, "bkt")}})
	ctx := context.Background()
	var lines, keys []string
	for i := range 12 {
		uri := fmt.Sprintf("s3://bkt/apitest/photos/%d.png", i)
		if err := st.WriteFile(ctx, uri, pngBytes(t)); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, fmt.Sprintf(`{"source-ref":%q,"category":%d}`, uri, i%2))
		keys = append(keys, fmt.Sprintf("%d.png", i))
	}
	input, _ := json.Marshal(append([]any{map[string]string{"prefix": "s3://bkt/apitest/photos/"}}, anyOf(keys)...))
	for uri, data := range map[string]string{
		"s3://bkt/apitest/labels/train.manifest":      strings.Join(lines[:10], "\n") + "\n",
		"s3://bkt/apitest/labels/validation.manifest": strings.Join(lines[10:], "\n") + "\n",
		"s3://bkt/apitest/staged/input.manifest":      string(input),
	} {
		if err := st.WriteFile(ctx, uri, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := local.New(local.Options{Root: filepath.Join(dir, "root"), Storage: st, Engine: &fakeEngine{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	apitest.Run(t, func(t *testing.T) sagemaker.API { return c }, apitest.Capabilities{
		Root: "s3://bkt/apitest/",
		Missing: map[apitest.Capability]string{
			apitest.Tuning:         "the local backend runs no tuning job: the tuner's default strategy, one training job a grid point, runs on it",
			apitest.TuningChildren: "no tuning jobs",
		},
		// Between two looks at a job, wait for the jobs to end (its
		// status is recorded by then), 30 s at most.
		Tick: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c.Wait(ctx)
		},
		Artifact: func(t *testing.T, uri string) {
			if err := st.WriteFile(ctx, uri, []byte(`{"classes":2}`)); err != nil {
				t.Fatal(err)
			}
		},
		MaxLooks: 4,
	})
}
