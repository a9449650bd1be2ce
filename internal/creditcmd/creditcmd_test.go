package creditcmd_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

var classes = []string{"product", "packaging", "full-length", "half-length", "other"}

// simulate makes n labelled photos from a classifier that is right with
// probability rising with its confidence.
func simulate(rng *rand.Rand, n int) (preds []inspect.PredictionRow, labels []manifest.LabelRow) {
	for i := range n {
		truth := rng.IntN(len(classes))
		conf := 0.5 + 0.5*math.Sqrt(rng.Float64())
		pred := truth
		if rng.Float64() > conf*conf*conf { // wrong, mostly at low confidence
			pred = (truth + 1 + rng.IntN(len(classes)-1)) % len(classes)
		}
		uri := fmt.Sprintf("s3://photos/val/%06d.jpg", i)
		preds = append(preds, inspect.PredictionRow{ReviewID: fmt.Sprintf("v-%06d", i), ReviewType: "product", ImageURI: uri,
			OutputURI: uri + ".out", Status: inspect.StatusOK, Label: pred, ClassName: classes[pred], Confidence: conf,
			Margin: conf - (1-conf)/4, Probabilities: probs(pred, conf), Day: "2026-11-20"})
		labels = append(labels, manifest.LabelRow{SourceRef: uri, Label: truth, ClassName: classes[truth], Confidence: math.NaN(), Split: manifest.SplitValidation})
	}
	return preds, labels
}

func probs(pred int, conf float64) []float64 {
	p := make([]float64, len(classes))
	for i := range p {
		p[i] = (1 - conf) / float64(len(classes)-1)
	}
	p[pred] = conf
	return p
}

func writePredictions(t testing.TB, path string, rows []inspect.PredictionRow) {
	t.Helper()
	var buf bytes.Buffer
	pw, err := inspect.NewPredictionWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(rows...); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCalibrateThenCredit(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	store := storage.New(storage.Options{})
	quiet := slog.New(slog.DiscardHandler)
	rng := rand.New(rand.NewPCG(7, 8))

	preds, labels := simulate(rng, 20000)
	writePredictions(t, filepath.Join(dir, "val-predictions.parquet"), preds)
	var buf bytes.Buffer
	if err := manifest.WriteLabels(&buf, labels); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "labels.parquet"), buf.Bytes(), 0o644)

	cal, err := creditcmd.Calibrate(ctx, store, creditcmd.CalibrateConfig{
		Predictions: filepath.Join(dir, "val-predictions.parquet"), Labels: filepath.Join(dir, "labels.parquet"),
		Out: filepath.Join(dir, "policy.yaml"), Report: filepath.Join(dir, "calibration.html"), Logger: quiet,
		Options: credit.CalibrateOptions{TargetAccuracy: 0.98, Delta: 0.05},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cal.Photos != 20000 || len(cal.Families) != 2 {
		t.Fatalf("calibrated on %d photos, %d families; want 20000 and 2 (grants and rejects, review types pooled)", cal.Photos, len(cal.Families))
	}
	certified := 0
	for _, f := range cal.Families {
		if f["certified"] == true {
			certified++
			if f["certified_accuracy"].(float64) < 0.98 {
				t.Errorf("family %v certifies less than the target", f)
			}
		}
	}
	t.Logf("families: %v", cal.Families)
	if certified == 0 {
		t.Errorf("no family certified on 20,000 photos of a decent classifier: %v", cal.Families)
	}
	data, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := credit.ParsePolicy(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the calibrated policy does not read back: %v\n%s", err, data)
	}
	if len(policy.Certificate) == 0 {
		t.Errorf("the calibrated policy has no certificate:\n%s", data)
	}
	if html, err := os.ReadFile(filepath.Join(dir, "calibration.html")); err != nil || !strings.Contains(string(html), "<svg") {
		t.Errorf("calibration report: %v", err)
	}

	// A day: three reviews, one with a photo the transform never saw.
	day := []inspect.PredictionRow{
		{ReviewID: "r-1", ReviewType: "style", ImageIndex: 0, ImageURI: "s3://p/r-1/0.jpg", OutputURI: "s3://o/r-1/0.jpg.out", Status: "ok", Label: 2, ClassName: "full-length", Confidence: 0.999, Margin: 0.99, Probabilities: probs(2, 0.999), Day: "2026-11-28"},
		{ReviewID: "r-2", ReviewType: "product", ImageIndex: 0, ImageURI: "s3://p/r-2/0.jpg", OutputURI: "s3://o/r-2/0.jpg.out", Status: "ok", Label: 1, ClassName: "packaging", Confidence: 0.55, Margin: 0.4, Probabilities: probs(1, 0.55), Day: "2026-11-28"},
		{ReviewID: "r-3", ReviewType: "product", ImageIndex: 0, ImageURI: "s3://p/r-3/0.jpg", OutputURI: "s3://o/r-3/0.jpg.out", Status: "ok", Label: 0, ClassName: "product", Confidence: 0.999, Margin: 0.99, Probabilities: probs(0, 0.999), Day: "2026-11-28"},
	}
	writePredictions(t, filepath.Join(dir, "predictions.parquet"), day)
	reviews := "review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n" +
		"r-1,style,s3://p/r-1/0.jpg,0,u1,p1,2026-11-28T10:00:00Z\n" +
		"r-2,product,s3://p/r-2/0.jpg,0,u2,p2,2026-11-28T10:00:00Z\n" +
		"r-3,product,s3://p/r-3/0.jpg,0,u3,p3,2026-11-28T10:00:00Z\n" +
		"r-3,product,s3://p/r-3/1.jpg,1,u3,p3,2026-11-28T10:00:00Z\n" +
		"r-4,video,s3://p/r-4/0.jpg,0,u4,p4,2026-11-28T10:00:00Z\n"
	os.WriteFile(filepath.Join(dir, "reviews.csv"), []byte(reviews), 0o644)
	res, err := creditcmd.Credit(ctx, store, creditcmd.CreditConfig{
		Predictions: filepath.Join(dir, "predictions.parquet"), Reviews: filepath.Join(dir, "reviews.csv"),
		Policy: filepath.Join(dir, "policy.yaml"), Out: filepath.Join(dir, "decisions"), Report: filepath.Join(dir, "day.html"), Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reviews != 4 || res.ByDecision["manual"] < 3 || res.BadRows != 1 {
		t.Errorf("result %+v: want 4 reviews, r-2 (unsure), r-3 (a photo without prediction) and r-4 (a bad row) manual", res)
	}
	data, err = os.ReadFile(filepath.Join(dir, "decisions", creditcmd.FileDecisions))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := credit.ReadDecisions(ctx, bytes.NewReader(data), "decisions.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]credit.DecisionRow{}
	for _, r := range rows {
		got[r.ReviewID] = r
		if len(r.Reasons) == 0 || r.PolicyVersion == "" || r.Day != "2026-11-28" {
			t.Errorf("decision %+v: want reasons, the policy version and the day", r)
		}
	}
	if d := got["r-3"]; d.Decision.Decision != credit.Manual || len(d.Classes) != 2 || !math.IsNaN(d.Confidences[1]) {
		t.Errorf("r-3 = %+v: a photo without prediction sends the review to a person", d)
	}
	if d := got["r-4"]; d.Decision.Decision != credit.Manual || len(d.Reasons) != 1 || !strings.Contains(d.Reasons[0], "review_type") {
		t.Errorf("r-4 = %+v: a review with a bad row goes to a person, saying why", d)
	}
	if d := got["r-1"]; policy.Thresholds["style"].Grant <= 0.999 && d.Decision.Decision != credit.Grant {
		t.Errorf("r-1 = %+v: a photo whose P(qualifies for style) is above the grant threshold %v earns the credit", d, policy.Thresholds["style"].Grant)
	}
}
