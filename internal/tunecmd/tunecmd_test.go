package tunecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
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

func gridConfig(t *testing.T, train, bucket string) tunecmd.Config {
	t.Helper()
	grid, err := sagemaker.ParseGridFlags([]string{"num_layers=18,34,50", "epochs=5,10,15"}, []string{"use_pretrained_model=1", "learning_rate=0.01"})
	if err != nil {
		t.Fatal(err)
	}
	return tunecmd.Config{
		Train:  train,
		Grid:   grid,
		Region: "us-east-1",
		Spec: sagemaker.TrainingSpec{
			RoleARN:    "arn:aws:iam::123456789012:role/reviewlens-sagemaker",
			OutputPath: "s3://" + bucket + "/models/",
		},
		// moto reports only train:progress, never validation:accuracy.
		Objective: "train:progress",
		Report:    "s3://" + bucket + "/reports/tune.html",
		Tuner:     sagemaker.Tuner{MaxParallel: 3, PollMin: 1, PollMax: 1},
		Logger:    slog.New(slog.DiscardHandler),
	}
}

// TestTuneOnMoto runs a 3×3 grid against moto_server through the real SDK
// client: nine jobs with the right requests, runs.parquet with nine rows and
// a best, and a rerun that creates nothing.
func TestTuneOnMoto(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t, endpoint)
	ctx := context.Background()
	store := storage.New(testenv.StorageOptions(endpoint))
	train := stageLabels(t, endpoint, bucket)
	client, region, err := sagemaker.NewClient(ctx, sagemaker.ClientOptions{Region: "us-east-1", EndpointURL: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if region != "us-east-1" {
		t.Fatalf("region = %s", region)
	}
	api := &counting{API: client}
	res, err := tunecmd.Run(ctx, store, api, gridConfig(t, train, bucket))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(api.creates), 9; got != want {
		t.Fatalf("CreateTrainingJob calls = %d, want %d", got, want)
	}
	summaryData, err := store.ReadFile(ctx, train+"summary.json")
	if err != nil {
		t.Fatal(err)
	}
	var summary manifest.Prepared
	if err := json.Unmarshal(summaryData, &summary); err != nil {
		t.Fatal(err)
	}
	layers := map[string]bool{}
	for _, in := range api.creates {
		hp := in.HyperParameters
		layers[hp["num_layers"]+"/"+hp["epochs"]] = true
		if got, want := hp["num_training_samples"], strconv.Itoa(summary.NumTrainingSamples); got != want {
			t.Errorf("%s: num_training_samples = %s, want %s (from summary.json)", aws.ToString(in.TrainingJobName), got, want)
		}
		if hp["num_classes"] != "5" || hp["use_pretrained_model"] != "1" || hp["learning_rate"] != "0.01" {
			t.Errorf("%s: hyperparameters %v", aws.ToString(in.TrainingJobName), hp)
		}
		if got, want := aws.ToString(in.AlgorithmSpecification.TrainingImage), "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"; got != want {
			t.Errorf("image = %s, want %s", got, want)
		}
		s3 := in.InputDataConfig[0].DataSource.S3DataSource
		if s3.S3DataType != types.S3DataTypeAugmentedManifestFile || aws.ToString(s3.S3Uri) != train+"train.manifest" ||
			strings.Join(s3.AttributeNames, ",") != "source-ref,review-photo-category" {
			t.Errorf("train channel = %+v", s3)
		}
		if !sagemaker.ValidName(aws.ToString(in.TrainingJobName), sagemaker.MaxJobNameLen) {
			t.Errorf("invalid job name %q", aws.ToString(in.TrainingJobName))
		}
	}
	if len(layers) != 9 {
		t.Errorf("grid points created: %v, want all 9", layers)
	}
	if res.BestJob == "" || res.ByStatus["Completed"] != 9 {
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
	best := 0
	for _, r := range runs {
		if r.Best {
			best++
			if r.JobName != res.BestJob || !strings.HasSuffix(r.ModelArtifact, r.JobName+"/output/model.tar.gz") {
				t.Errorf("best run %+v does not match the result %s", r, res.BestJob)
			}
		}
	}
	if len(runs) != 9 || best != 1 {
		t.Errorf("runs.parquet: %d rows, %d best; want 9 and 1", len(runs), best)
	}
	if report, err := store.ReadFile(ctx, res.Report); err != nil || !strings.Contains(string(report), res.BestJob) {
		t.Errorf("report: %v; want it to name the best job", err)
	}

	// Again with the same inputs: every job is found completed and reused.
	again := &counting{API: client}
	res2, err := tunecmd.Run(ctx, store, again, gridConfig(t, train, bucket))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(again.creates); got != 0 {
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

// TestTuneTimeoutStopsJobs runs the step with the scripted fake as
// SageMaker (jobs that never finish) and its input on moto's S3: the
// step's --timeout passes, it stops every job it started and exits 5.
func TestTuneTimeoutStopsJobs(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t, endpoint)
	store := storage.New(testenv.StorageOptions(endpoint))
	train := stageLabels(t, endpoint, bucket)
	fake := sagemakertest.New()
	fake.DefaultScript(sagemakertest.State{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusTraining})
	ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, cli.ErrTimeout)
	defer cancel()
	cfg := gridConfig(t, train, bucket)
	cfg.Tuner.PollMin, cfg.Tuner.PollMax = 10*time.Millisecond, 10*time.Millisecond
	res, err := tunecmd.Run(ctx, store, fake, cfg)
	if got, want := cli.ExitCode(err), cli.ExitTimeout; got != want {
		t.Fatalf("exit code %d (err %v), want %d", got, err, want)
	}
	created, stopped := fake.CreatedJobs(), fake.StoppedJobs()
	if len(created) != 3 {
		t.Errorf("created %d jobs, want 3 (--max-parallel) before the timeout", len(created))
	}
	if strings.Join(sortedCopy(created), ",") != strings.Join(sortedCopy(stopped), ",") {
		t.Errorf("stopped %v, want every created job %v", stopped, created)
	}
	if res == nil || res.ByStatus["InProgress"] != 3 {
		t.Errorf("result %+v: want the three jobs reported in progress", res)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
