package creditcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/manifest"
)

// dayPredictions are the predictions of a day of three one-photo reviews.
func dayPredictions() []inspect.PredictionRow {
	return []inspect.PredictionRow{
		{ReviewID: "r-1", ReviewType: "style", ImageIndex: 0, ImageURI: "s3://p/r-1/0.jpg", OutputURI: "s3://o/r-1/0.jpg.out", Status: "ok", Label: 2, ClassName: "full-length", Confidence: 0.999, Margin: 0.99, Probabilities: probs(2, 0.999), Day: "2026-11-28"},
		{ReviewID: "r-2", ReviewType: "product", ImageIndex: 0, ImageURI: "s3://p/r-2/0.jpg", OutputURI: "s3://o/r-2/0.jpg.out", Status: "ok", Label: 0, ClassName: "package", Confidence: 0.99, Margin: 0.98, Probabilities: probs(0, 0.99), Day: "2026-11-28"},
		{ReviewID: "r-3", ReviewType: "product", ImageIndex: 0, ImageURI: "s3://p/r-3/0.jpg", OutputURI: "s3://o/r-3/0.jpg.out", Status: "ok", Label: 1, ClassName: "product", Confidence: 0.999, Margin: 0.99, Probabilities: probs(1, 0.999), Day: "2026-11-28"},
	}
}

// dayArgs writes the day's predictions into dir and returns the credit
// step's flags for reviews.
func dayArgs(tb testing.TB, dir, reviews string, more ...string) []string {
	tb.Helper()
	writePredictions(tb, filepath.Join(dir, "predictions.parquet"), dayPredictions())
	return append([]string{"--predictions", filepath.Join(dir, "predictions.parquet"), "--reviews", reviews,
		"--policy", "testdata/policy.yaml", "--out", filepath.Join(dir, "out")}, more...)
}

func TestCreditBadInputs(t *testing.T) {
	day := func(reviews string, more ...string) func(testing.TB, string) []string {
		return func(tb testing.TB, dir string) []string { return dayArgs(tb, dir, reviews, more...) }
	}
	steptest.CheckBadInputs(t, creditcmd.CreditStep, []steptest.BadInput{
		{Name: "a row that names no review", Setup: day("testdata/no-review-id.csv"),
			Words: []string{"row 2: review_id: missing", "names no review", "--on-bad-row skip"}, NoOutput: []string{"out"}},
		{Name: "a review id that is not UTF-8", Setup: day("testdata/nonutf8-id.csv"),
			Words: []string{"row 2: review_id", "not valid UTF-8"}, NoOutput: []string{"out"}},
		{Name: "no rows", Setup: day("testdata/empty-reviews.csv"),
			Words: []string{"--reviews", "no rows", "--allow-empty"}, NoOutput: []string{"out"}},
		{Name: "reviews file missing", Setup: day("testdata/nope.csv"),
			Words: []string{"--reviews", "nope.csv", "no such file"}, NoOutput: []string{"out"}},
		{Name: "reviews file is a directory", Setup: day("testdata"),
			Words: []string{"--reviews", "is a directory"}, NoOutput: []string{"out"}},
		{Name: "reviews file named .parquet that is not", Setup: day("testdata/not-parquet.parquet"),
			Words: []string{"--reviews", "not a Parquet file"}, NoOutput: []string{"out"}},
		{Name: "reviews with columns missing", Setup: day("testdata/wrong-columns.csv"),
			Words: []string{"--reviews", "no column image_index, user_id, product_id, created_at"}, NoOutput: []string{"out"}},
		{
			Name: "predictions not Parquet",
			Setup: func(tb testing.TB, dir string) []string {
				args := dayArgs(tb, dir, "testdata/two-types.csv")
				args[1] = "testdata/policy.yaml"
				return args
			},
			Words: []string{"--predictions", "policy.yaml", "not a Parquet file", "text"}, NoOutput: []string{"out"},
		},
		{
			Name: "predictions folder without the table",
			Setup: func(tb testing.TB, dir string) []string {
				args := dayArgs(tb, dir, "testdata/two-types.csv")
				args[1] = "testdata"
				return args
			},
			Words: []string{"--predictions", "is a directory with no predictions.parquet"}, NoOutput: []string{"out"},
		},
		{
			Name: "predictions of the wrong table",
			Setup: func(tb testing.TB, dir string) []string {
				args := dayArgs(tb, dir, "testdata/two-types.csv")
				var buf bytes.Buffer
				if err := manifest.WriteLabels(&buf, []manifest.LabelRow{{SourceRef: "s3://b/k.jpg", ClassName: "product", Split: "train"}}); err != nil {
					tb.Fatal(err)
				}
				args[1] = steptest.WriteFile(tb, dir, "labels.parquet", buf.Bytes())
				return args
			},
			Words: []string{"--predictions", `"labels" table, want "predictions"`}, NoOutput: []string{"out"},
		},
		{
			Name: "truncated predictions",
			Setup: func(tb testing.TB, dir string) []string {
				args := dayArgs(tb, dir, "testdata/two-types.csv")
				data, err := os.ReadFile(args[1])
				if err != nil {
					tb.Fatal(err)
				}
				args[1] = steptest.WriteFile(tb, dir, "cut.parquet", data[:len(data)/2])
				return args
			},
			Words: []string{"--predictions", "not a Parquet file", "cut short"}, NoOutput: []string{"out"},
		},
		{Name: "policy missing", Setup: func(tb testing.TB, dir string) []string {
			args := dayArgs(tb, dir, "testdata/two-types.csv")
			args[5] = "testdata/polcy.yaml"
			return args
		}, Words: []string{"--policy", "polcy.yaml", "no such file"}, NoOutput: []string{"out"}},
		{Name: "out is a file", Setup: func(tb testing.TB, dir string) []string {
			args := dayArgs(tb, dir, "testdata/two-types.csv")
			args[7] = steptest.WriteFile(tb, dir, "out-file", []byte("x"))
			return args
		}, Words: []string{"--out", "is a file, want a folder"}},
		{Name: "report is a directory", Setup: day("testdata/two-types.csv", "--report", "testdata"),
			Words: []string{"--report", "is a directory"}, NoOutput: []string{"out"}},
		{Name: "on-bad-row unknown", Setup: day("testdata/two-types.csv", "--on-bad-row", "ignore"),
			Words: []string{"--on-bad-row", "want fail or skip"}, NoOutput: []string{"out"}},
	})
}

// creditDay runs the credit step on the day with reviews and returns its
// result and decisions by review.
func creditDay(t *testing.T, reviews string, more ...string) (credit.DayResult, map[string]credit.DecisionRow, string, string) {
	t.Helper()
	dir := t.TempDir()
	code, stdout, stderr := steptest.Run(t, creditcmd.CreditStep, dayArgs(t, dir, reviews, more...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res credit.DayResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "out", credit.FileDecisions))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := credit.ReadDecisions(context.Background(), bytes.NewReader(data), "decisions.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]credit.DecisionRow{}
	for _, r := range rows {
		got[r.ReviewID] = r
	}
	return res, got, stderr, filepath.Join(dir, "out")
}

// TestCreditDecidesOnTheClassifiedPhotoOnly: a review whose photo is not
// the one staged and classified is never decided on that prediction.
func TestCreditDecidesOnTheClassifiedPhotoOnly(t *testing.T) {
	res, got, stderr, _ := creditDay(t, "testdata/elsewhere.csv")
	if got, want := res.Mismatched, 1; got != want {
		t.Errorf("mismatched_photos = %d, want %d", got, want)
	}
	d := got["r-1"]
	if d.Decision.Decision != credit.Manual {
		t.Fatalf("r-1 decided %s on another photo's prediction: %v", d.Decision.Decision, d.Reasons)
	}
	if reasons := strings.Join(d.Reasons, "\n"); !strings.Contains(reasons, "s3://p/r-1/0.jpg") || !strings.Contains(reasons, "s3://photos/elsewhere/x.jpg") {
		t.Errorf("r-1 reasons do not name both photos:\n%s", reasons)
	}
	if got["r-3"].Decision.Decision != credit.Grant {
		t.Errorf("r-3 = %s, want grant (its photo is the classified one)", got["r-3"].Decision.Decision)
	}
	if got, want := res.ManualReasons["a photo's prediction is of another photo"], 1; got != want {
		t.Errorf("manual reasons %v, want the mismatch counted once", res.ManualReasons)
	}
	if !strings.Contains(stderr, `"first_reviews":["r-1"]`) {
		t.Errorf("no warning naming r-1 in the log:\n%s", stderr)
	}
}

// TestCreditBadRowsGoToAPerson: every review a row names gets a decision;
// a bad row sends its review to a person, saying why.
func TestCreditBadRowsGoToAPerson(t *testing.T) {
	tests := []struct {
		name, reviews, id, reason string
		reviewsN, badRows         int
	}{
		{"short row", "testdata/short-row.csv", "r-2", "2 fields, want 7", 3, 1},
		{"rows disagree on the type", "testdata/two-types.csv", "r-3", "a review has one type", 2, 1},
		{"image_uri not UTF-8", "testdata/nonutf8-uri.csv", "r-3", "not valid UTF-8", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, got, stderr, _ := creditDay(t, tt.reviews)
			if res.Reviews != tt.reviewsN || res.BadRows != tt.badRows {
				t.Errorf("reviews %d, bad rows %d; want %d and %d", res.Reviews, res.BadRows, tt.reviewsN, tt.badRows)
			}
			d, ok := got[tt.id]
			if !ok {
				t.Fatalf("%s has no decision", tt.id)
			}
			if d.Decision.Decision != credit.Manual || !strings.Contains(strings.Join(d.Reasons, "\n"), tt.reason) {
				t.Errorf("%s = %s %v, want manual saying %q", tt.id, d.Decision.Decision, d.Reasons, tt.reason)
			}
			if !strings.Contains(stderr, "reviews with a bad row") {
				t.Errorf("no warning about the bad row:\n%s", stderr)
			}
		})
	}
}

func TestCreditSkipsRowsThatNameNoReview(t *testing.T) {
	res, got, _, out := creditDay(t, "testdata/no-review-id.csv", "--on-bad-row", "skip")
	if res.Rejected != 1 || len(got) != 2 {
		t.Errorf("rejected %d, decisions %d; want 1 and 2", res.Rejected, len(got))
	}
	data, err := os.ReadFile(filepath.Join(out, credit.FileRejected))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"row":2,"column":"review_id"`) {
		t.Errorf("rejected.jsonl = %s, want row 2 named", data)
	}
}

func TestCreditAllowEmpty(t *testing.T) {
	res, got, _, _ := creditDay(t, "testdata/empty-reviews.csv", "--allow-empty")
	if res.Reviews != 0 || len(got) != 0 {
		t.Errorf("reviews %d, decisions %d; want none", res.Reviews, len(got))
	}
}

func TestCalibrateBadInputs(t *testing.T) {
	cal := func(more ...string) func(testing.TB, string) []string {
		return func(tb testing.TB, dir string) []string {
			preds := append(dayPredictions(), dayPredictions()...)
			writePredictions(tb, filepath.Join(dir, "predictions.parquet"), preds)
			var buf bytes.Buffer
			if err := manifest.WriteLabels(&buf, []manifest.LabelRow{{SourceRef: "s3://p/r-1/0.jpg", ClassName: "full-length", Split: "validation"}}); err != nil {
				tb.Fatal(err)
			}
			steptest.WriteFile(tb, dir, "labels.parquet", buf.Bytes())
			return append([]string{"--predictions", filepath.Join(dir, "predictions.parquet"), "--labels", filepath.Join(dir, "labels.parquet"),
				"--out", filepath.Join(dir, "policy.yaml")}, more...)
		}
	}
	steptest.CheckBadInputs(t, creditcmd.CalibrateStep, []steptest.BadInput{
		{Name: "delta 0 is not unset", Setup: cal("--delta", "0"), Words: []string{"--delta 0", "between 0 and 1"}, NoOutput: []string{"policy.yaml"}},
		{Name: "target accuracy 0 is not unset", Setup: cal("--target-accuracy", "0"), Words: []string{"--target-accuracy 0"}, NoOutput: []string{"policy.yaml"}},
		{Name: "target accuracy 1", Setup: cal("--target-accuracy", "1"), Words: []string{"--target-accuracy 1"}, NoOutput: []string{"policy.yaml"}},
		{Name: "the training split", Setup: cal("--split", "train"), Words: []string{"--split train", "trained on those photos", "validation"}, NoOutput: []string{"policy.yaml"}},
		{Name: "an unknown split", Setup: cal("--split", "test"), Words: []string{"--split", "want validation or all"}, NoOutput: []string{"policy.yaml"}},
		{Name: "labels not Parquet", Setup: func(tb testing.TB, dir string) []string {
			args := cal()(tb, dir)
			args[3] = "testdata/two-types.csv"
			return args
		}, Words: []string{"--labels", "not a Parquet file"}, NoOutput: []string{"policy.yaml"}},
		{Name: "out is a directory", Setup: func(tb testing.TB, dir string) []string {
			args := cal()(tb, dir)
			args[5] = dir
			return args
		}, Words: []string{"--out", "is a directory"}},
	})
}
