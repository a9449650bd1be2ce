package tunecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// counting wraps an API and counts the calls that start jobs.
type counting struct {
	sagemaker.API
	mu      sync.Mutex
	creates []*sm.CreateTrainingJobInput
}

func (c *counting) CreateTrainingJob(ctx context.Context, in *sm.CreateTrainingJobInput, optFns ...func(*sm.Options)) (*sm.CreateTrainingJobOutput, error) {
	c.mu.Lock()
	c.creates = append(c.creates, in)
	c.mu.Unlock()
	return c.API.CreateTrainingJob(ctx, in, optFns...)
}

// stageLabels runs the manifest step onto moto's S3 and returns its folder.
func stageLabels(t *testing.T, endpoint, bucket string) string {
	t.Helper()
	ctx := context.Background()
	store := storage.New(testenv.StorageOptions(endpoint))
	data, err := os.ReadFile("../../examples/groundtruth/output.manifest")
	if err != nil {
		t.Fatal(err)
	}
	in := "s3://" + bucket + "/gt/output.manifest"
	if err := store.WriteFile(ctx, in, data); err != nil {
		t.Fatal(err)
	}
	out := "s3://" + bucket + "/labels/"
	if _, err := manifest.Prepare(ctx, store, manifest.PrepareOptions{In: in, Out: out, ValidationFraction: 0.2}); err != nil {
		t.Fatal(err)
	}
	return out
}

func tuneOptions(t *testing.T, train, bucket string) sagemaker.TuneOptions {
	t.Helper()
	grid, err := sagemaker.ParseGridFlags([]string{"num_layers=18,34,50", "epochs=5,10,15"}, []string{"use_pretrained_model=1", "learning_rate=0.01"})
	if err != nil {
		t.Fatal(err)
	}
	return sagemaker.TuneOptions{
		Data: sagemaker.DataSummary{NumClasses: 5, NumTrainingSamples: 1, LabelAttribute: "review-photo-category",
			TrainManifest: train + "train.manifest", ValidationManifest: train + "validation.manifest"},
		Grid:   grid,
		Region: "us-east-1",
		Spec: sagemaker.TrainingSpec{
			RoleARN:    "arn:aws:iam::123456789012:role/reviewlens-sagemaker",
			OutputPath: "s3://" + bucket + "/models/",
		},
		// moto reports only train:progress, never validation:accuracy.
		Objective: "train:progress",
		Logger:    slog.New(slog.DiscardHandler),
	}
}

// TestTuneOnMoto runs the tune command on a 3×3 grid against moto_server
// through the real SDK client and storage: nine jobs with the right
// requests and the summary's data, runs.parquet with nine rows and a best,
// the report; then again, through sagemaker.Tune, creating nothing.
func TestTuneOnMoto(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t, endpoint)
	ctx := context.Background()
	store := storage.New(testenv.StorageOptions(endpoint))
	train := stageLabels(t, endpoint, bucket)
	code, stdout, stderr := steptest.Run(t, tunecmd.Step, "--region", "us-east-1", "--endpoint-url", endpoint,
		"--train", train, "--grid", "num_layers=18,34,50", "--grid", "epochs=5,10,15", "--set", "use_pretrained_model=1", "--set", "learning_rate=0.01",
		"--role-arn", "arn:aws:iam::123456789012:role/reviewlens-sagemaker", "--output", "s3://"+bucket+"/models/",
		"--objective", "train:progress", "--report", "s3://"+bucket+"/reports/tune.html")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	var res sagemaker.TuneResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("result %q: %v", stdout, err)
	}
	if res.BestJob == "" || res.ByStatus["Completed"] != 9 || res.Runs != "s3://"+bucket+"/models/runs.parquet" {
		t.Errorf("result = %+v, want 9 completed and a best job", res)
	}
	data, err := store.ReadFile(ctx, res.Runs)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := sagemaker.ReadRuns(ctx, bytes.NewReader(data), res.Runs)
	if err != nil {
		t.Fatal(err)
	}
	best, ok := sagemaker.BestRun(runs)
	if len(runs) != 9 || !ok || best.JobName != res.BestJob || !strings.HasSuffix(best.ModelArtifact, best.JobName+"/output/model.tar.gz") {
		t.Errorf("runs.parquet: %d rows, best %+v; want 9 and %s", len(runs), best, res.BestJob)
	}
	if report, err := store.ReadFile(ctx, res.Report); err != nil || !strings.Contains(string(report), res.BestJob) {
		t.Errorf("report: %v; want it to name the best job", err)
	}
	summaryData, err := store.ReadFile(ctx, train+"summary.json")
	if err != nil {
		t.Fatal(err)
	}
	var summary manifest.Prepared
	if err := json.Unmarshal(summaryData, &summary); err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		hp := r.Hyperparameters
		if hp["num_training_samples"] != strconv.Itoa(summary.NumTrainingSamples) || hp["num_classes"] != "5" || hp["use_pretrained_model"] != "1" {
			t.Errorf("%s: hyperparameters %v, want the summary's data", r.JobName, hp)
		}
	}

	// Again with the same inputs, through the library: every job is found
	// completed and reused.
	client, _, err := sagemaker.NewClient(ctx, sagemaker.ClientOptions{Region: "us-east-1", EndpointURL: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	api := &counting{API: client}
	opts := tuneOptions(t, train, bucket)
	opts.Data.NumTrainingSamples = summary.NumTrainingSamples
	res2, err := sagemaker.Tune(ctx, api, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(api.creates); got != 0 {
		t.Errorf("a rerun created %d jobs, want 0", got)
	}
	if res2.BestJob != res.BestJob {
		t.Errorf("a rerun chose %s, want %s", res2.BestJob, res.BestJob)
	}
}

// TestTuneCommandBadInput checks the exit code of bad hyperparameters and
// missing inputs, before anything reaches SageMaker.
func TestTuneCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"bad grid value": {"--train", dir, "--grid", "num_layers=19", "--role-arn", "arn:aws:iam::123456789012:role/x", "--output", "s3://b/m/"},
		"unknown name":   {"--train", dir, "--set", "layers=18", "--role-arn", "arn:aws:iam::123456789012:role/x", "--output", "s3://b/m/"},
		"no summary":     {"--train", dir, "--grid", "epochs=5,10", "--role-arn", "arn:aws:iam::123456789012:role/x", "--output", "s3://b/m/"},
		"bad strategy":   {"--train", dir, "--strategy", "random", "--role-arn", "arn:aws:iam::123456789012:role/x", "--output", "s3://b/m/"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			app := cli.App("reviewlens", "test", cli.Command(tunecmd.Step))
			code := cli.Run(context.Background(), app, append([]string{"reviewlens", "tune", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:1"}, args...), &stdout, &stderr)
			if code != cli.ExitBadInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr.String())
			}
		})
	}
}

func TestAssignments(t *testing.T) {
	got := tunecmd.Assignments([]string{"num_layers=18", "34", "50", "epochs=5", "lr_scheduler_step=10", "20"})
	want := []string{"num_layers=18,34,50", "epochs=5", "lr_scheduler_step=10,20"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("assignments = %q, want %q", got, want)
	}
}
