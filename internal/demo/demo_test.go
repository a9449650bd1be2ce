package demo_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/demo"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/sagemaker"
)

// TestSmallDemo runs the whole demo at a small size (200 labelled photos,
// a day of 40 reviews, two training jobs of one epoch), checks that every
// table has the rows it should, then runs it again on the same folder: it
// reuses the jobs and the photos, decides the same and grants nothing
// twice.
func TestSmallDemo(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := demo.Options{Dir: dir, Photos: 200, Reviews: 40, Seed: 3, Epochs: 1,
		Grid: []string{"learning_rate=0.05,0.1"}, Logs: true, Logger: quiet}
	first, err := demo.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Steps) != demo.Steps {
		t.Errorf("%d steps timed, want %d: %+v", len(first.Steps), demo.Steps, first.Steps)
	}
	if first.Labelled != 200 || first.Calibration != 50 || first.Reviews != 40 || first.Photos < 40 || first.Photos > 120 {
		t.Errorf("labelled %d, calibration %d, reviews %d, photos %d: want 200, 50, 40 and one to three photos a review",
			first.Labelled, first.Calibration, first.Reviews, first.Photos)
	}
	if first.Jobs != 2 || first.BestJob == "" {
		t.Errorf("%d training jobs, best %q: want 2 and a best one", first.Jobs, first.BestJob)
	}

	ctx := context.Background()
	open := func(path string) *os.File {
		t.Helper()
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	bucket := filepath.Join(dir, "bucket")

	labels, err := manifest.ReadLabels(ctx, open(filepath.Join(first.Paths["labels"], manifest.FileLabels)), "labels")
	if err != nil {
		t.Fatal(err)
	}
	validation := 0
	for _, l := range labels {
		if l.Split == manifest.SplitValidation {
			validation++
		}
	}
	if len(labels) != 200 || validation < 20 || validation > 60 {
		t.Errorf("labels: %d rows, %d in validation; want 200, about 40", len(labels), validation)
	}
	// The calibration set is a second labelling job's: none of its photos
	// trained a model or picked one.
	calLabels, err := manifest.ReadLabels(ctx, open(filepath.Join(first.Paths["calibration_labels"], manifest.FileLabels)), "calibration labels")
	if err != nil {
		t.Fatal(err)
	}
	learnt := map[string]bool{}
	for _, l := range labels {
		learnt[l.SourceRef] = true
	}
	for _, l := range calLabels {
		if learnt[l.SourceRef] {
			t.Errorf("calibration photo %s is in the labelled set the models learnt from", l.SourceRef)
		}
	}
	if len(calLabels) != 50 {
		t.Errorf("calibration labels: %d rows, want 50", len(calLabels))
	}
	runs, err := sagemaker.ReadRuns(ctx, open(first.Paths["runs"]), "runs")
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for _, r := range runs {
		if r.Status != sagemaker.StatusCompleted || r.ModelArtifact == "" {
			t.Errorf("run %+v: want Completed with a model", r)
		}
		if r.Best {
			best++
		}
	}
	if len(runs) != 2 || best != 1 {
		t.Errorf("runs: %d rows, %d best; want 2, 1", len(runs), best)
	}
	staged, err := inspect.ReadStaged(open(filepath.Join(bucket, "staged", "dt="+demo.DefaultDay, inspect.FileStaged)), "staged")
	if err != nil || len(staged) != first.Photos {
		t.Errorf("staged: %d rows, %v; want one a photo, %d", len(staged), err, first.Photos)
	}
	for name, want := range map[string]int{
		first.Paths["predictions"]: first.Photos,
		filepath.Join(bucket, "calibration", "predictions", inspect.FilePredictions): len(calLabels),
	} {
		preds, err := inspect.ReadPredictions(open(name), name)
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for _, p := range preds {
			if p.Status == inspect.StatusOK && len(p.Probabilities) == 4 {
				ok++
			}
		}
		if len(preds) != want || ok != want {
			t.Errorf("%s: %d rows, %d ok with 4 probabilities; want %d", name, len(preds), ok, want)
		}
	}
	decisions, err := credit.ReadDecisions(ctx, open(first.Paths["decisions"]), "decisions")
	if err != nil {
		t.Fatal(err)
	}
	if len(decisions) != 40 || first.Grants+first.Rejects+first.Manual != 40 {
		t.Errorf("decisions: %d rows, summary %d+%d+%d; want 40", len(decisions), first.Grants, first.Rejects, first.Manual)
	}
	for _, p := range []string{"policy", "tune_report", "calibration_report", "day_report"} {
		if fi, err := os.Stat(first.Paths[p]); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v, want a file", p, err)
		}
	}
	count := func() (rows int, credits int64) {
		t.Helper()
		db, err := sql.Open("sqlite", first.Paths["ledger"][len("sqlite:"):])
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow("SELECT count(*), coalesce(sum(credit), 0) FROM decisions").Scan(&rows, &credits); err != nil {
			t.Fatal(err)
		}
		return rows, credits
	}
	if rows, credits := count(); rows != 40 || credits != first.CreditsGranted {
		t.Errorf("ledger: %d decisions granting %d; want 40 granting %d", rows, credits, first.CreditsGranted)
	}

	// Again, on the same folder: nothing new is trained, the same is
	// decided, and nothing is granted twice.
	jobsBefore, _ := filepath.Glob(filepath.Join(dir, "local", "*", "*"))
	second, err := demo.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	jobsAfter, _ := filepath.Glob(filepath.Join(dir, "local", "*", "*"))
	if len(jobsAfter) != len(jobsBefore) {
		t.Errorf("the second run made %d new job files: want the first run's jobs reused", len(jobsAfter)-len(jobsBefore))
	}
	if second.BestJob != first.BestJob || second.Grants != first.Grants || second.Rejects != first.Rejects || second.HeldOutAccuracy != first.HeldOutAccuracy {
		t.Errorf("second run %+v\nfirst run %+v: want the same model and decisions", second, first)
	}
	if first.Published != 40 || second.Published != 0 {
		t.Errorf("published %d then %d: want 40, then none", first.Published, second.Published)
	}
	if rows, credits := count(); rows != 40 || credits != first.CreditsGranted {
		t.Errorf("ledger after the second run: %d decisions granting %d; want 40 granting %d", rows, credits, first.CreditsGranted)
	}
}
