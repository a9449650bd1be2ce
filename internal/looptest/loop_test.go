package looptest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
	"github.com/reviewlens/reviewlens/internal/labelscmd"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
	"github.com/reviewlens/reviewlens/internal/monitorcmd"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
	"github.com/reviewlens/reviewlens/internal/resolvecmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/manifest"
)

var classes = []string{"product", "packaging", "full-length", "half-length", "other"}

const classList = "product,packaging,full-length,half-length,other"

// policy decides photos at 95% confidence and audits a fifth of what it
// decides alone (a high rate, for a small day).
const policy = `version: "loop-1"
classes: [product, packaging, full-length, half-length, other]
review_types:
  product: {qualifying: [product], require: any, credit: 500}
  style: {qualifying: [full-length], require: any, credit: 1000}
thresholds:
  product: {grant: 0.95, reject: 0.95}
  packaging: {grant: never, reject: 0.95}
  full-length: {grant: 0.95, reject: 0.95}
  half-length: {grant: never, reject: 0.95}
  other: {grant: never, reject: 0.95}
audit_rate: 0.2
`

// A photo of the simulated world: its review, where it is, what it shows.
type photo struct {
	review, typ, uri string
	truth            int
}

// world writes a day of n one-photo reviews and their predictions into
// dir, from a model that is right with probability right (confident
// either way), and returns the photos.
func world(tb testing.TB, dir, day string, n int, right float64, seed uint64) []photo {
	tb.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	var photos []photo
	var preds []inspect.PredictionRow
	var reviews strings.Builder
	reviews.WriteString("review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n")
	for i := range n {
		p := photo{review: fmt.Sprintf("%s-r%04d", day, i), typ: []string{"product", "style"}[i%2]}
		p.uri = fmt.Sprintf("s3://photos/%s/%s/0.jpg", day, p.review)
		if p.typ == "product" {
			p.truth = []int{0, 0, 0, 1, 1, 4}[r.IntN(6)]
		} else {
			p.truth = []int{2, 2, 2, 3, 3, 4}[r.IntN(6)]
		}
		pred := p.truth
		if r.Float64() > right {
			pred = (p.truth + 1 + r.IntN(len(classes)-1)) % len(classes)
		}
		conf := 0.9 + 0.0999*r.Float64()
		probs := make([]float64, len(classes))
		for j := range probs {
			probs[j] = (1 - conf) / float64(len(classes)-1)
		}
		probs[pred] = conf
		preds = append(preds, inspect.PredictionRow{ReviewID: p.review, ReviewType: p.typ, ImageURI: p.uri, OutputURI: p.uri + ".out",
			Status: inspect.StatusOK, Label: pred, ClassName: classes[pred], Confidence: conf, Margin: conf - probs[(pred+1)%len(classes)],
			Probabilities: probs, Model: "model-1", TransformJob: "job-" + day, Day: day})
		fmt.Fprintf(&reviews, "%s,%s,%s,0,u%d,p%d,%sT10:00:00Z\n", p.review, p.typ, p.uri, i, i, day)
		photos = append(photos, p)
	}
	var buf bytes.Buffer
	pw, err := inspect.NewPredictionWriter(&buf)
	if err != nil {
		tb.Fatal(err)
	}
	if err := pw.Write(preds...); err != nil {
		tb.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		tb.Fatal(err)
	}
	steptest.WriteFile(tb, dir, day+"/predictions.parquet", buf.Bytes())
	steptest.WriteFile(tb, dir, day+"/reviews.csv", []byte(reviews.String()))
	return photos
}

// run runs step and fails tb unless it exits with want; it returns the
// result JSON.
func run(tb testing.TB, want int, step cli.Step, args ...string) map[string]any {
	tb.Helper()
	code, stdout, stderr := steptest.Run(tb, step, args...)
	if code != want {
		tb.Fatalf("%s %s: exit %d, want %d: %s", step.Name, strings.Join(args, " "), code, want, steptest.LastLine(stderr))
	}
	var res map[string]any
	if stdout != "" {
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			tb.Fatalf("%s: result %q: %v", step.Name, stdout, err)
		}
	}
	return res
}

// qualifies is the truth of a review: whether its photo earns the credit.
func (p photo) qualifies() bool {
	return p.typ == "product" && p.truth == 0 || p.typ == "style" && p.truth == 2
}

// answerQueue writes the inspectors' answers to every item of the queue
// exported at queue: the truth, with the photo's class.
func answerQueue(tb testing.TB, queue string, photos map[string]photo, out string) (audits int) {
	tb.Helper()
	f, err := os.Open(queue)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("review_id,outcome,inspector,decided_at,image_index,image_uri,class_name\n")
	for _, row := range rows[1:] {
		p := photos[row[0]]
		if strings.HasPrefix(row[3], "audit:") {
			audits++
			if row[4] != "" {
				tb.Errorf("audit %s shows the model's classes %q: audits are blind", row[0], row[4])
			}
		}
		outcome := credit.Reject
		if p.qualifies() {
			outcome = credit.Grant
		}
		fmt.Fprintf(&b, "%s,%s,inspector-%d,2026-12-01T09:00:00Z,0,%s,%s\n", p.review, outcome, len(p.review)%3, p.uri, classes[p.truth])
	}
	steptest.WriteFile(tb, filepath.Dir(out), filepath.Base(out), []byte(b.String()))
	return audits
}

func TestLoop(t *testing.T) {
	dir := os.Getenv("REVIEWLENS_LOOP_DIR") // to look at the files afterwards
	if dir == "" {
		dir = t.TempDir()
	}
	db := "sqlite:" + filepath.Join(dir, "ledger.db")
	steptest.WriteFile(t, dir, "policy.yaml", []byte(policy))
	photos := map[string]photo{}
	days := []struct {
		day   string
		right float64
	}{
		{"2026-11-23", 0.995}, // week 48: the model as calibrated
		{"2026-11-30", 0.80},  // week 49: the photos changed
	}
	for i, d := range days {
		for _, p := range world(t, dir, d.day, 1000, d.right, uint64(i)) {
			photos[p.review] = p
		}
		res := run(t, cli.ExitOK, creditcmd.CreditStep, "--predictions", filepath.Join(dir, d.day, "predictions.parquet"),
			"--reviews", filepath.Join(dir, d.day, "reviews.csv"), "--policy", filepath.Join(dir, "policy.yaml"), "--out", filepath.Join(dir, d.day, "decisions"))
		// About a fifth of the automatic decisions are audits.
		audits := res["audits"].(float64)
		auto := res["by_decision"].(map[string]any)["grant"].(float64) + res["by_decision"].(map[string]any)["reject"].(float64) + audits
		if sd := math.Sqrt(auto * 0.2 * 0.8); math.Abs(audits-0.2*auto) > 5*sd {
			t.Errorf("%s: %v audits of %v automatic decisions, want 20%% ± %.0f", d.day, audits, auto, 5*sd)
		}
		pub := run(t, cli.ExitOK, publishcmd.PublishStep, "--decisions", filepath.Join(dir, d.day, "decisions"), "--db", db)
		if pub["audits"] != audits {
			t.Errorf("%s: published %v audits, credit made %v", d.day, pub["audits"], audits)
		}
		queue := filepath.Join(dir, d.day, "queue.csv")
		run(t, cli.ExitOK, publishcmd.QueueStep, "--db", db, "--out", queue)
		answers := filepath.Join(dir, d.day, "answers.csv")
		if n := answerQueue(t, queue, photos, answers); float64(n) != audits {
			t.Errorf("%s: %d audits in the queue, want %v", d.day, n, audits)
		}
		res = run(t, cli.ExitOK, resolvecmd.Step, "--db", db, "--answers", answers, "--classes", classList)
		if res["conflicts"].(float64) != 0 || res["audits"] != audits {
			t.Errorf("%s: resolve %v: want no conflicts and the %v audits closed", d.day, res, audits)
		}
		// Again: nothing changes.
		again := run(t, cli.ExitOK, resolvecmd.Step, "--db", db, "--answers", answers)
		if again["applied"].(float64) != 0 || again["unchanged"] != res["applied"] {
			t.Errorf("%s: resolve again %v: want everything unchanged", d.day, again)
		}
	}

	// Week 48 is on target; week 49's grants are not.
	res := run(t, cli.ExitOK, monitorcmd.Step, "--db", db, "--since", "2026-11-23", "--until", "2026-11-29", "--target-accuracy", "0.95")
	if res["alarm"] != false || res["windows_tested"].(float64) != 2 {
		t.Errorf("monitor of week 48: %v; want no alarm, 2 windows tested", res)
	}
	report := filepath.Join(dir, "monitor.html")
	res = run(t, 1, monitorcmd.Step, "--db", db, "--since", "2026-11-23", "--until", "2026-12-06", "--target-accuracy", "0.95", "--report", report)
	if res["alarm"] != true || !strings.Contains(fmt.Sprint(res["alarms"]), "2026-W49") || strings.Contains(fmt.Sprint(res["alarms"]), "2026-W48") {
		t.Errorf("monitor of weeks 48 and 49: alarms %v; want week 49's only", res["alarms"])
	}
	if html, err := os.ReadFile(report); err != nil || !bytes.Contains(html, []byte("<svg")) || !bytes.Contains(html, []byte("Alarm")) {
		t.Errorf("monitor report: %v", err)
	}

	// The labels: the queue's photos to train on, the audits' to calibrate.
	since := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	out := filepath.Join(dir, "labels")
	labels := run(t, cli.ExitOK, labelscmd.Step, "--db", db, "--since", since, "--out", out, "--classes", classList)
	var lr ledger.LabelsResult
	b, _ := json.Marshal(labels)
	json.Unmarshal(b, &lr)
	if lr.ManifestPhoto == 0 || lr.CalibrationPhoto == 0 || lr.UnknownClass != 0 || lr.Conflicting != 0 {
		t.Fatalf("labels: %+v", lr)
	}
	// The manifest step reads the output manifest unchanged.
	prepared := run(t, cli.ExitOK, manifestcmd.Step, "--in", lr.Manifest, "--out", filepath.Join(dir, "training"), "--classes", classList)
	rows := prepared["rows"].(map[string]any)
	if got := rows["train"].(float64) + rows["validation"].(float64); got != float64(lr.ManifestPhoto) || prepared["rejected"].(float64) != 0 {
		t.Errorf("manifest step: %v photos, %v rejected; want the %d of the labels step, none rejected", got, prepared["rejected"], lr.ManifestPhoto)
	}
	// Retraining on the labelling job's manifest and the new labels
	// together: output.manifest holds the base's lines, then the queue's
	// photos, and the manifest step reads them as one.
	baseOnly := run(t, cli.ExitOK, manifestcmd.Step, "--in", "../../examples/groundtruth/output.manifest", "--out", filepath.Join(dir, "base"),
		"--classes", classList, "--on-bad-line", "skip")
	merged := run(t, cli.ExitOK, labelscmd.Step, "--db", db, "--since", since, "--out", filepath.Join(dir, "labels-merged"), "--classes", classList,
		"--base-manifest", "../../examples/groundtruth/output.manifest")
	both := run(t, cli.ExitOK, manifestcmd.Step, "--in", merged["manifest"].(string), "--out", filepath.Join(dir, "training-merged"),
		"--classes", classList, "--on-bad-line", "skip")
	photoCount := func(res map[string]any) float64 {
		rows := res["rows"].(map[string]any)
		return rows["train"].(float64) + rows["validation"].(float64)
	}
	if got, want := photoCount(both), photoCount(baseOnly)+float64(lr.ManifestPhoto); got != want || merged["base_lines"].(float64) != 60 {
		t.Errorf("retraining set: %v photos from %v base lines, want %v: the base's %v and the labels' %d", got, merged["base_lines"], want, photoCount(baseOnly), lr.ManifestPhoto)
	}
	run(t, cli.ExitBadInput, labelscmd.Step, "--db", db, "--since", since, "--out", filepath.Join(dir, "labels-bad"), "--classes", classList,
		"--base-manifest", "../../examples/groundtruth/output.manifest", "--label-attribute", "category")

	// Calibrate reads the audits as a calibration set, with the day's
	// predictions.
	cal := run(t, cli.ExitOK, creditcmd.CalibrateStep, "--predictions", filepath.Join(dir, days[0].day, "predictions.parquet"),
		"--labels", lr.Calibration, "--policy", filepath.Join(dir, "policy.yaml"), "--out", filepath.Join(dir, "calibrated.yaml"))
	if cal["photos"].(float64) == 0 {
		t.Errorf("calibrate on the audits used no photo: %v", cal)
	}
	data, err := os.ReadFile(credit.SampleMarkerFor(lr.Calibration))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := credit.ReadSampleMarker(bytes.NewReader(data)); err != nil || credit.CheckCalibrationSample(m.Sample, false) != nil {
		t.Errorf("sample marker %s: %v", data, err)
	}
	// Every photo is in one file: the audits are out of training.
	mf, err := os.ReadFile(lr.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	calLabels, err := manifest.ReadLabels(t.Context(), bytes.NewReader(mustRead(t, lr.Calibration)), "calibration.parquet")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range calLabels {
		if bytes.Contains(mf, []byte(`"`+l.SourceRef+`"`)) {
			t.Errorf("audited photo %s is in the training manifest", l.SourceRef)
		}
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestStalledDatabase: a PostgreSQL server that accepts the connection and
// never answers fails resolve, monitor and labels as transient (exit 75)
// within their connect timeout, without showing the password.
func TestStalledDatabase(t *testing.T) {
	addr := testenv.BlackHole(t)
	dsn := "postgres://u:secret@" + addr + "/ledger?connect_timeout=1&sslmode=disable"
	dir := t.TempDir()
	answers := steptest.WriteFile(t, dir, "answers.csv", []byte("review_id,outcome,inspector,decided_at\nr1,grant,alice,2026-11-29T10:00:00Z\n"))
	for _, tc := range []struct {
		step cli.Step
		args []string
	}{
		{resolvecmd.Step, []string{"--db", dsn, "--answers", answers}},
		{monitorcmd.Step, []string{"--db", dsn}},
		{labelscmd.Step, []string{"--db", dsn, "--since", "2026-11-29", "--out", filepath.Join(dir, "labels"), "--classes", classList}},
	} {
		t.Run(tc.step.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			code, _, stderr := steptest.RunContext(ctx, t, tc.step, tc.args...)
			if code != cli.ExitTransient {
				t.Fatalf("exit %d, want %d (transient): %s", code, cli.ExitTransient, steptest.LastLine(stderr))
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %s for a 1 s connect timeout", d)
			}
			if msg := steptest.LastLine(stderr); !strings.Contains(msg, "did not answer in time") || strings.Contains(stderr, "secret") {
				t.Errorf("message %q: want it to say the database did not answer, without the password", msg)
			}
		})
	}
}
