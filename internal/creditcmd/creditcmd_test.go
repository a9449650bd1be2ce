package creditcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/credittest"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/manifest"
)

// world is the calibrated model of issue 13: classes package, product,
// full-length and half-length, right 93% of the time.
var world = credittest.Calibrated()

var classes = world.Classes

// simulate makes n labelled photos from the world's model.
func simulate(rng *rand.Rand, n int) (preds []inspect.PredictionRow, labels []manifest.LabelRow) {
	for i, ph := range world.Photos(rng, n) {
		pred := ph.Predicted()
		conf := ph.Probabilities[pred]
		uri := fmt.Sprintf("s3://photos/val/%06d.jpg", i)
		preds = append(preds, inspect.PredictionRow{ReviewID: fmt.Sprintf("v-%06d", i), ReviewType: "product", ImageURI: uri,
			OutputURI: uri + ".out", Status: inspect.StatusOK, Label: pred, ClassName: classes[pred], Confidence: conf,
			Margin: conf - secondBest(ph.Probabilities, pred), Probabilities: ph.Probabilities, Day: "2026-11-20"})
		labels = append(labels, manifest.LabelRow{SourceRef: uri, Label: ph.True, ClassName: classes[ph.True], Confidence: math.NaN(), Split: manifest.SplitValidation})
	}
	return preds, labels
}

func secondBest(p []float64, top int) float64 {
	second := 0.0
	for i, v := range p {
		if i != top {
			second = max(second, v)
		}
	}
	return second
}

// probs is a probability vector whose class pred has probability conf and
// the rest share what is left.
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
	rng := rand.New(rand.NewPCG(7, 8))

	// A labelling job's outputs, as the manifest step writes them: the
	// labels, their classes and their sample marker.
	preds, labels := simulate(rng, 20000)
	writePredictions(t, filepath.Join(dir, "val-predictions.parquet"), preds)
	var buf bytes.Buffer
	if err := manifest.WriteLabels(&buf, labels); err != nil {
		t.Fatal(err)
	}
	steptest.WriteFile(t, dir, "labels/labels.parquet", buf.Bytes())
	cm, err := manifest.NewClassMap(classes...)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := cm.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	steptest.WriteFile(t, dir, "labels/classes.json", buf.Bytes())
	steptest.WriteFile(t, dir, "labels/labels.sample.json", []byte(`{"sample":"random","photos":20000}`))

	code, stdout, stderr := steptest.Run(t, creditcmd.CalibrateStep, "--predictions", filepath.Join(dir, "val-predictions.parquet"),
		"--labels", filepath.Join(dir, "labels"), "--out", filepath.Join(dir, "policy.yaml"), "--report", filepath.Join(dir, "calibration.html"))
	if code != 0 {
		t.Fatalf("calibrate: exit %d: %s", code, steptest.LastLine(stderr))
	}
	var cal credit.CalibratePolicyResult
	if err := json.Unmarshal([]byte(stdout), &cal); err != nil {
		t.Fatal(err)
	}
	if cal.Photos != 20000 || len(cal.Families) != 2 || cal.Guarantee != credit.PerDecision || cal.Sample != credit.SampleRandom {
		t.Fatalf("calibrated on %d photos (%s sample), %d families, guarantee %s; want 20000 (random), 2 (grants and rejects, review types pooled), per-decision",
			cal.Photos, cal.Sample, len(cal.Families), cal.Guarantee)
	}
	for _, f := range cal.Families {
		if f["certified"] != true || f["certified_accuracy"].(float64) < 0.98 {
			t.Errorf("family %v: want certified at 98%% on 20,000 photos of a decent classifier", f)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	policy, err := credit.ParsePolicy(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the calibrated policy does not read back: %v\n%s", err, data)
	}
	if len(policy.Certificate) == 0 || policy.Schema != credit.SchemaDecision {
		t.Errorf("the calibrated policy has no certificate or the old schema:\n%s", data)
	}
	if html, err := os.ReadFile(filepath.Join(dir, "calibration.html")); err != nil || strings.Count(string(html), "<svg") < 2 {
		t.Errorf("calibration report: %v, want a risk-coverage plot per family", err)
	}
	style, product := policy.Thresholds["style"], policy.Thresholds["product"]
	if !(style.Grant < 0.999) {
		t.Fatalf("style grant threshold %v: want one a photo with P(full-length) 0.999 reaches", style.Grant)
	}

	// A day: four reviews, one with a photo the transform never saw, one
	// with a bad row.
	day := []inspect.PredictionRow{
		{ReviewID: "r-1", ReviewType: "style", ImageIndex: 0, ImageURI: "s3://p/r-1/0.jpg", OutputURI: "s3://o/r-1/0.jpg.out", Status: "ok", Label: 2, ClassName: "full-length", Confidence: 0.999, Margin: 0.99, Probabilities: probs(2, 0.999), Day: "2026-11-28"},
		{ReviewID: "r-2", ReviewType: "product", ImageIndex: 0, ImageURI: "s3://p/r-2/0.jpg", OutputURI: "s3://o/r-2/0.jpg.out", Status: "ok", Label: 0, ClassName: "package", Confidence: 0.55, Margin: 0.4, Probabilities: probs(0, 0.55), Day: "2026-11-28"},
		{ReviewID: "r-3", ReviewType: "product", ImageIndex: 0, ImageURI: "s3://p/r-3/0.jpg", OutputURI: "s3://o/r-3/0.jpg.out", Status: "ok", Label: 1, ClassName: "product", Confidence: 0.999, Margin: 0.99, Probabilities: probs(1, 0.999), Day: "2026-11-28"},
	}
	writePredictions(t, filepath.Join(dir, "predictions.parquet"), day)
	reviews := "review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n" +
		"r-1,style,s3://p/r-1/0.jpg,0,u1,p1,2026-11-28T10:00:00Z\n" +
		"r-2,product,s3://p/r-2/0.jpg,0,u2,p2,2026-11-28T10:00:00Z\n" +
		"r-3,product,s3://p/r-3/0.jpg,0,u3,p3,2026-11-28T10:00:00Z\n" +
		"r-3,product,s3://p/r-3/1.jpg,1,u3,p3,2026-11-28T10:00:00Z\n" +
		"r-4,video,s3://p/r-4/0.jpg,0,u4,p4,2026-11-28T10:00:00Z\n"
	steptest.WriteFile(t, dir, "reviews.csv", []byte(reviews))
	code, stdout, stderr = steptest.Run(t, creditcmd.CreditStep, "--predictions", filepath.Join(dir, "predictions.parquet"),
		"--reviews", filepath.Join(dir, "reviews.csv"), "--policy", filepath.Join(dir, "policy.yaml"),
		"--out", filepath.Join(dir, "decisions"), "--report", filepath.Join(dir, "day.html"))
	if code != 0 {
		t.Fatalf("credit: exit %d: %s", code, steptest.LastLine(stderr))
	}
	var res credit.DayResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	// r-2's photo is a package: P(qualifies for product) is 0.15, so a
	// reject scores 0.85, decided automatically when that reaches the
	// product reject threshold.
	r2 := credit.Manual
	if 1-probs(0, 0.55)[1] >= product.Reject {
		r2 = credit.Reject
	}
	want := map[string]int{credit.Grant: 1, credit.Reject: 0, credit.Manual: 2}
	want[r2]++
	if res.Reviews != 4 || res.BadRows != 1 || !maps.Equal(res.ByDecision, want) {
		t.Errorf("result %+v: want 4 reviews and decisions %v (r-1 granted, r-3 and r-4 to a person, r-2 %s)", res, want, r2)
	}
	data, err = os.ReadFile(filepath.Join(dir, "decisions", credit.FileDecisions))
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
		if len(r.Reasons) == 0 || r.PolicyVersion != policy.Version || r.Day != "2026-11-28" {
			t.Errorf("decision %+v: want reasons, the policy version %s and the day", r, policy.Version)
		}
	}
	if d := got["r-1"]; d.Decision.Decision != credit.Grant || d.Credit != 1000 {
		t.Errorf("r-1 = %+v: a photo whose P(qualifies for style) 0.999 is above the grant threshold %v earns 1000", d, style.Grant)
	}
	if d := got["r-2"]; d.Decision.Decision != r2 {
		t.Errorf("r-2 = %s, want %s (reject threshold %v)", d.Decision.Decision, r2, product.Reject)
	}
	if d := got["r-3"]; d.Decision.Decision != credit.Manual || len(d.Classes) != 2 || !math.IsNaN(d.Confidences[1]) {
		t.Errorf("r-3 = %+v: a photo without prediction sends the review to a person", d)
	}
	if d := got["r-4"]; d.Decision.Decision != credit.Manual || len(d.Reasons) != 1 || !strings.Contains(d.Reasons[0], "review_type") {
		t.Errorf("r-4 = %+v: a review with a bad row goes to a person, saying why", d)
	}
	page, err := os.ReadFile(filepath.Join(dir, "day.html"))
	if err != nil || !strings.Contains(string(page), "<dt>Guarantee</dt>\n<dd>per-decision</dd>") {
		t.Errorf("day report: %v, want it to state the policy's guarantee", err)
	}
}
