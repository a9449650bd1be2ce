package transformcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/internal/transformcmd"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// recording wraps an API and keeps the requests that create things.
type recording struct {
	sagemaker.API
	mu         sync.Mutex
	models     []*sm.CreateModelInput
	transforms []*sm.CreateTransformJobInput
}

func (r *recording) CreateModel(ctx context.Context, in *sm.CreateModelInput, optFns ...func(*sm.Options)) (*sm.CreateModelOutput, error) {
	r.mu.Lock()
	r.models = append(r.models, in)
	r.mu.Unlock()
	return r.API.CreateModel(ctx, in, optFns...)
}

func (r *recording) CreateTransformJob(ctx context.Context, in *sm.CreateTransformJobInput, optFns ...func(*sm.Options)) (*sm.CreateTransformJobOutput, error) {
	r.mu.Lock()
	r.transforms = append(r.transforms, in)
	r.mu.Unlock()
	return r.API.CreateTransformJob(ctx, in, optFns...)
}

// TestStageTransformOnMoto chains manifest, tune, stage and transform
// --model-from-runs against moto_server through the real SDK client: the
// transform job has the right shape, and running stage and transform again
// changes nothing.
func TestStageTransformOnMoto(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t, endpoint)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	store := storage.New(testenv.StorageOptions(endpoint))
	client, _, err := sagemaker.NewClient(ctx, sagemaker.ClientOptions{Region: "us-east-1", EndpointURL: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	base := "s3://" + bucket + "/"

	// Labels and a small grid, as the earlier steps leave them.
	gt := base + "gt/output.manifest"
	if err := store.PutFile(ctx, gt, "../../examples/groundtruth/output.manifest"); err != nil {
		t.Fatal(err)
	}
	if _, err := manifest.Prepare(ctx, store, manifest.PrepareOptions{In: gt, Out: base + "labels/", ValidationFraction: 0.2, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := steptest.Run(t, tunecmd.Step, "--region", "us-east-1", "--endpoint-url", endpoint,
		"--train", base+"labels/", "--grid", "num_layers=18,34", "--set", "use_pretrained_model=1",
		"--role-arn", "arn:aws:iam::123456789012:role/reviewlens", "--output", base+"models/", "--objective", "train:progress",
		"--logs", "--poll-interval", "200ms")
	if code != 0 {
		t.Fatalf("tune: exit %d; stderr:\n%s", code, stderr)
	}
	// --logs follows the jobs on moto's CloudWatch Logs (where they have
	// written nothing) without a failed read.
	if strings.Contains(stderr, "could not read") {
		t.Errorf("tune --logs: a log could not be read; stderr:\n%s", stderr)
	}
	var tune sagemaker.TuneResult
	if err := json.Unmarshal([]byte(stdout), &tune); err != nil {
		t.Fatal(err)
	}

	// The day's reviews and their photos.
	var csv strings.Builder
	csv.WriteString("review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n")
	for i := range 4 {
		photo := fmt.Sprintf("%sphotos/2026-11-28/r-%d/0.jpg", base, i)
		if err := store.WriteFile(ctx, photo, []byte("\xff\xd8\xff\xe0 jpeg")); err != nil {
			t.Fatal(err)
		}
		typ := []string{"product", "style"}[i%2]
		fmt.Fprintf(&csv, "r-%d,%s,%s,0,u-%d,p-%d,2026-11-28T10:00:00Z\n", i, typ, photo, i, i)
	}
	if err := store.WriteFile(ctx, base+"reviews/dt=2026-11-28/reviews.csv", []byte(csv.String())); err != nil {
		t.Fatal(err)
	}
	stageCfg := inspect.StageOptions{Reviews: base + "reviews/dt=2026-11-28/reviews.csv", Day: "2026-11-28", Out: base + "staged/dt=2026-11-28/", Logger: quiet}
	staged, err := inspect.Stage(ctx, store, stageCfg)
	if err != nil {
		t.Fatal(err)
	}
	api := &recording{API: client}
	opts := sagemaker.TransformOptions{
		Spec: sagemaker.TransformSpec{Input: stageCfg.Out + "input.manifest", Output: base + "predictions/dt=2026-11-28/",
			InstanceType: "ml.c5.xlarge", Day: "2026-11-28"},
		ModelFromRuns: tune.Runs,
		Logger:        quiet,
	}
	res, err := sagemaker.Transform(ctx, api, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(api.models) != 1 || len(api.transforms) != 1 {
		t.Fatalf("created %d models and %d transform jobs, want 1 and 1", len(api.models), len(api.transforms))
	}
	model := api.models[0]
	if got, want := aws.ToString(model.PrimaryContainer.ModelDataUrl), tune.BestModelArtifact; got != want {
		t.Errorf("model artifact = %s, want the best run's %s", got, want)
	}
	tj := api.transforms[0]
	src := tj.TransformInput.DataSource.S3DataSource
	if src.S3DataType != types.S3DataTypeManifestFile || aws.ToString(src.S3Uri) != stageCfg.Out+"input.manifest" ||
		aws.ToString(tj.TransformInput.ContentType) != "application/x-image" || tj.TransformInput.SplitType != types.SplitTypeNone ||
		aws.ToString(tj.ModelName) != res.Model || aws.ToInt32(tj.MaxPayloadInMB) != 6 ||
		tj.TransformResources.InstanceType != types.TransformInstanceTypeMlC5Xlarge || aws.ToString(tj.TransformOutput.S3OutputPath) != opts.Spec.Output {
		t.Errorf("transform job request %+v: wrong shape", tj)
	}
	if !sagemaker.ValidName(res.Job, sagemaker.MaxJobNameLen) || !strings.Contains(res.Job, "2026-11-28") {
		t.Errorf("job name %q: want a valid name with the day", res.Job)
	}
	// moto writes no outputs: none of the photos has one.
	if res.Photos != staged.Staged || res.Status != "Completed" || res.Outputs == nil || *res.Outputs != 0 {
		t.Errorf("result %+v: want %d photos, completed, 0 outputs", res, staged.Staged)
	}
	manifestBefore, _ := store.ReadFile(ctx, stageCfg.Out+"input.manifest")
	stagedBefore, _ := store.ReadFile(ctx, stageCfg.Out+"staged.parquet")
	before, err := client.DescribeTransformJob(ctx, &sm.DescribeTransformJobInput{TransformJobName: aws.String(res.Job)})
	if err != nil {
		t.Fatal(err)
	}

	// Both steps again, transform through its command: the same staged
	// files, the same model and job (moto would overwrite a job created
	// again: its creation time tells).
	if _, err := inspect.Stage(ctx, store, stageCfg); err != nil {
		t.Fatal(err)
	}
	manifestAfter, _ := store.ReadFile(ctx, stageCfg.Out+"input.manifest")
	stagedAfter, _ := store.ReadFile(ctx, stageCfg.Out+"staged.parquet")
	if !bytes.Equal(manifestBefore, manifestAfter) || !bytes.Equal(stagedBefore, stagedAfter) {
		t.Errorf("a rerun of stage changed its outputs")
	}
	code, stdout, stderr = steptest.Run(t, transformcmd.Step, "--region", "us-east-1", "--endpoint-url", endpoint,
		"--staged", stageCfg.Out, "--output", opts.Spec.Output, "--instance-type", "ml.c5.xlarge", "--model-from-runs", tune.Runs)
	if code != 0 {
		t.Fatalf("transform: exit %d; stderr:\n%s", code, stderr)
	}
	var res2 sagemaker.TransformResult
	if err := json.Unmarshal([]byte(stdout), &res2); err != nil {
		t.Fatal(err)
	}
	after, err := client.DescribeTransformJob(ctx, &sm.DescribeTransformJobInput{TransformJobName: aws.String(res.Job)})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Job != res.Job || res2.Model != res.Model || res2.ModelCreated || !aws.ToTime(after.CreationTime).Equal(aws.ToTime(before.CreationTime)) {
		t.Errorf("the rerun's result %+v (job created %v, was %v): want the same job and model as %+v, nothing created", res2, after.CreationTime, before.CreationTime, res)
	}
}
