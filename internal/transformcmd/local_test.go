package transformcmd_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
	"github.com/reviewlens/reviewlens/internal/predictionscmd"
	"github.com/reviewlens/reviewlens/internal/stagecmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/transformcmd"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/synth"
)

// TestLocalBackend chains manifest, tune and transform with --backend
// local and a bucket served from a folder (--bucket-dir): no AWS account,
// real training (one epoch), real predictions; run again, tune and
// transform start no job.
func TestLocalBackend(t *testing.T) {
	dir := t.TempDir()
	bucketDir := filepath.Join(dir, "bucket")
	ctx := t.Context()
	if _, err := synth.WriteLabelled(ctx, filepath.Join(bucketDir, "labelled"), 120, 5, synth.LabelledOptions{BaseURI: "s3://lab/labelled/"}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	reviews, err := synth.WriteDay(ctx, filepath.Join(bucketDir, "reviews"), day, 10, 6, synth.DayOptions{BaseURI: "s3://lab/reviews/"})
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"--bucket-dir", "lab=" + bucketDir}
	local := append([]string{"--backend", "local", "--local-root", filepath.Join(dir, "jobs")}, common...)
	step := func(s func() (int, string, string), what string, v any) {
		t.Helper()
		code, stdout, stderr := s()
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", what, code, steptest.LastLine(stderr))
		}
		if err := json.Unmarshal([]byte(stdout), v); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var prep map[string]any
	step(func() (int, string, string) {
		return steptest.Run(t, manifestcmd.Step, append([]string{"--in", "s3://lab/labelled/output.manifest", "--out", "s3://lab/labels/",
			"--classes", "s3://lab/labelled/label-categories.json"}, common...)...)
	}, "manifest", &prep)
	tuneArgs := append([]string{"--train", "s3://lab/labels/", "--output", "s3://lab/models/", "--grid", "learning_rate=0.05,0.1",
		"--set", "epochs=1", "--set", "image_shape=3,32,32", "--logs"}, local...)
	var tune sagemaker.TuneResult
	step(func() (int, string, string) { return steptest.Run(t, tunecmd.Step, tuneArgs...) }, "tune", &tune)
	if tune.Jobs != 2 || tune.ByStatus[sagemaker.StatusCompleted] != 2 || tune.BestJob == "" || tune.BestObjective == nil {
		t.Fatalf("tune %+v: want two completed local jobs and a best one", tune)
	}
	var staged inspect.StageResult
	step(func() (int, string, string) {
		return steptest.Run(t, stagecmd.Step, append([]string{"--reviews", "s3://lab/reviews/" + synth.ReviewsParquet, "--day", "2026-11-28",
			"--out", "s3://lab/staged/"}, common...)...)
	}, "stage", &staged)
	transformArgs := append([]string{"--staged", "s3://lab/staged/", "--output", "s3://lab/outputs/", "--model-from-runs", tune.Runs}, local...)
	var tr sagemaker.TransformResult
	step(func() (int, string, string) { return steptest.Run(t, transformcmd.Step, transformArgs...) }, "transform", &tr)
	if tr.Status != sagemaker.StatusCompleted || tr.Outputs == nil || *tr.Outputs != reviews.Photos || !tr.ModelCreated {
		t.Fatalf("transform %+v: want Completed with %d outputs and the model created", tr, reviews.Photos)
	}
	var preds inspect.CollectResult
	step(func() (int, string, string) {
		return steptest.Run(t, predictionscmd.Step, append([]string{"--staged", "s3://lab/staged/", "--outputs", "s3://lab/outputs/",
			"--classes", "s3://lab/labels/classes.json", "--out", "s3://lab/predictions/"}, common...)...)
	}, "predictions", &preds)
	if preds.Photos != reviews.Photos || preds.ByStatus[inspect.StatusOK] != reviews.Photos {
		t.Errorf("predictions %+v: want all %d photos ok", preds, reviews.Photos)
	}
	if _, err := os.Stat(filepath.Join(bucketDir, "predictions", inspect.FilePredictions)); err != nil {
		t.Errorf("predictions.parquet is not in the bucket's folder: %v", err)
	}

	// Again: the jobs are found, nothing is started.
	jobs, _ := filepath.Glob(filepath.Join(dir, "jobs", "*", "*"))
	var tune2 sagemaker.TuneResult
	step(func() (int, string, string) { return steptest.Run(t, tunecmd.Step, tuneArgs...) }, "tune again", &tune2)
	var tr2 sagemaker.TransformResult
	step(func() (int, string, string) { return steptest.Run(t, transformcmd.Step, transformArgs...) }, "transform again", &tr2)
	again, _ := filepath.Glob(filepath.Join(dir, "jobs", "*", "*"))
	if tune2.BestJob != tune.BestJob || tr2.Job != tr.Job || tr2.ModelCreated || len(again) != len(jobs) {
		t.Errorf("a rerun: tune %s (was %s), transform %s (was %s), model created %v, %d job files (were %d); want all reused",
			tune2.BestJob, tune.BestJob, tr2.Job, tr.Job, tr2.ModelCreated, len(again), len(jobs))
	}
}
