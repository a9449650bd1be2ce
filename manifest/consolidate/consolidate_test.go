package consolidate_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/internal/golden"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/manifest/consolidate"
	"github.com/reviewlens/reviewlens/table"
)

// addAll adds answers given as "photo inspector label" lines.
func addAll(tb testing.TB, a *consolidate.Answers, lines ...string) {
	tb.Helper()
	for i, l := range lines {
		f := strings.Fields(l)
		if err := a.Add(consolidate.Answer{Photo: "s3://b/" + f[0] + ".jpg", Inspector: f[1], Label: f[2], File: "test", Row: i + 1}); err != nil {
			tb.Fatal(err)
		}
	}
}

// twoInspectors returns 30 photos answered by alice and bob, who agree on
// 20 and disagree on 10 (alice says packaging, bob full-length), and
// carol, who answers a few of the agreed ones.
func twoInspectors(tb testing.TB) *consolidate.Answers {
	tb.Helper()
	a := consolidate.NewAnswers(testClasses(tb))
	for p := range 30 {
		alice, bob := "product", "product"
		if p%3 == 0 {
			alice, bob = "packaging", "full-length"
		}
		addAll(tb, a, fmt.Sprintf("p%02d alice %s", p, alice), fmt.Sprintf("p%02d bob %s", p, bob))
		if p%5 == 1 {
			addAll(tb, a, fmt.Sprintf("p%02d carol product", p))
		}
	}
	return a
}

// Trusting an inspector makes their answers win where the others
// disagree, under both Dawid–Skene and the weighted vote; and it shows in
// the workers table.
func TestTrustDirection(t *testing.T) {
	ctx := context.Background()
	a := twoInspectors(t)
	disputed := func(res *consolidate.Result) map[string]int {
		count := map[string]int{}
		for i, p := range res.Photos {
			var n int
			fmt.Sscanf(strings.TrimPrefix(p, "s3://b/p"), "%d", &n)
			if n%3 == 0 {
				count[res.Classes.Name(res.Label[i])]++
			}
		}
		return count
	}
	for _, method := range []consolidate.Method{consolidate.DawidSkene, consolidate.Majority} {
		t.Run(string(method), func(t *testing.T) {
			for _, tt := range []struct {
				trusted, wins string
			}{{"alice", "packaging"}, {"bob", "full-length"}} {
				res, err := consolidate.Consolidate(ctx, a, consolidate.Options{Method: method,
					Trust: map[string]consolidate.Trust{tt.trusted: {Accuracy: 0.97, Strength: 100}}})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(map[string]int{tt.wins: 10}, disputed(res)); diff != "" {
					t.Errorf("trusting %s, the disputed photos are (-want +got):\n%s", tt.trusted, diff)
				}
				for _, w := range res.Workers {
					if got := !math.IsNaN(w.TrustAccuracy); got != (w.InspectorID == tt.trusted) {
						t.Errorf("trusting %s: %s has trust_accuracy %v", tt.trusted, w.InspectorID, w.TrustAccuracy)
					}
				}
			}
		})
	}

	// Trust raises the trusted inspector's estimated accuracy and lowers
	// the other's.
	base, err := consolidate.Consolidate(ctx, a, consolidate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	trusted, err := consolidate.Consolidate(ctx, a, consolidate.Options{Trust: map[string]consolidate.Trust{"alice": {Accuracy: 0.97}}})
	if err != nil {
		t.Fatal(err)
	}
	acc := func(res *consolidate.Result, id string) float64 {
		for _, w := range res.Workers {
			if w.InspectorID == id {
				return w.Accuracy
			}
		}
		t.Fatalf("no inspector %s", id)
		return 0
	}
	if before, after := acc(base, "alice"), acc(trusted, "alice"); after <= before {
		t.Errorf("alice's accuracy %.3f untrusted, %.3f trusted: want higher", before, after)
	}
	if before, after := acc(base, "bob"), acc(trusted, "bob"); after >= before {
		t.Errorf("bob's accuracy %.3f with alice untrusted, %.3f trusted: want lower", before, after)
	}
}

// An inspector who answered a photo twice counts once, with the later
// answer; the earlier one is listed as superseded.
func TestSupersededAnswers(t *testing.T) {
	a := consolidate.NewAnswers(testClasses(t))
	at := func(min int) time.Time { return time.Date(2026, 11, 28, 9, min, 0, 0, time.UTC) }
	for _, ans := range []consolidate.Answer{
		{Photo: "s3://b/1.jpg", Inspector: "ana", Label: "product", At: at(5), Row: 1},
		{Photo: "s3://b/1.jpg", Inspector: "ana", Label: "packaging", At: at(9), Row: 2},
		{Photo: "s3://b/1.jpg", Inspector: "ana", Label: "other", At: at(1), Row: 3},
		{Photo: "s3://b/1.jpg", Inspector: "ben", Label: "packaging", Row: 4},
		{Photo: "s3://b/2.jpg", Inspector: "ben", Label: "other", Row: 5},
		{Photo: "s3://b/2.jpg", Inspector: "ben", Label: "product", Row: 6}, // no times: the later row
	} {
		ans.File = "answers.csv"
		if err := a.Add(ans); err != nil {
			t.Fatal(err)
		}
	}
	var rejected, manifestBuf bytes.Buffer
	sum, err := consolidate.Run(context.Background(), a, consolidate.RunOptions{ManifestOptions: consolidate.ManifestOptions{LabelAttribute: "category"}},
		consolidate.Outputs{Manifest: &manifestBuf, Rejected: &rejected})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sum.Answers, 3; got != want {
		t.Errorf("answers consolidated = %d, want %d", got, want)
	}
	var rows []int
	for line := range strings.Lines(rejected.String()) {
		var r consolidate.RejectedAnswer
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.File != "answers.csv" || !strings.Contains(r.Reason, "superseded") {
			t.Errorf("rejected %+v: want the file and the reason", r)
		}
		rows = append(rows, r.Row)
	}
	if diff := cmp.Diff([]int{1, 3, 5}, rows); diff != "" {
		t.Errorf("rejected rows (-want +got):\n%s", diff)
	}
	if got := labelsOf(t, a, consolidate.Options{}); got["s3://b/1.jpg"] != "packaging" || got["s3://b/2.jpg"] != "product" {
		t.Errorf("labels %v: want the later answers", got)
	}
}

// The output manifest is what the manifest step reads: Convert takes every
// line, with the chosen class, the posterior as confidence, and the
// metadata of a human-annotated Ground Truth line.
func TestManifestRoundTrip(t *testing.T) {
	ctx := context.Background()
	classes := testClasses(t)
	a, err := consolidate.ReadWorkerResponses(ctx, os.DirFS(jobDir), consolidate.ResponsesOptions{Classes: classes})
	if err != nil {
		t.Fatal(err)
	}
	var out, workers, dis bytes.Buffer
	sum, err := consolidate.Run(ctx, a, consolidate.RunOptions{
		ManifestOptions: consolidate.ManifestOptions{LabelAttribute: "review-photo-category"},
		MinPosterior:    0.99,
	}, consolidate.Outputs{Manifest: &out, Workers: &workers, Disagreements: &dis})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "gt-job.output.manifest", out.String())

	var labels bytes.Buffer
	conv, err := manifest.Convert(ctx, bytes.NewReader(out.Bytes()), manifest.ConvertOptions{
		Options: manifest.Options{Classes: classes, HumanOnly: true, JobNames: []string{"review-photo-category"}},
		MaxBad:  1,
	}, manifest.Outputs{Labels: &labels})
	if err != nil {
		t.Fatalf("manifest.Convert: %v", err)
	}
	if got, want := conv.Train, sum.Photos; got != want || conv.Rejected() != 0 {
		t.Errorf("Convert kept %d photos, rejected %d; want %d, none", got, conv.Rejected(), want)
	}
	rows, err := manifest.ReadLabels(ctx, bytes.NewReader(labels.Bytes()), "labels.parquet")
	if err != nil {
		t.Fatal(err)
	}
	gotLabels := map[string]string{}
	for i, r := range rows {
		gotLabels[r.SourceRef] = r.ClassName
		if got, want := r.Confidence, math.Round(sum.Result.Confidence(i)*1e6)/1e6; got != want {
			t.Errorf("%s: confidence %v, want the posterior %v", r.SourceRef, got, want)
		}
		if r.Human == nil || !*r.Human || r.AnnotatedAt.IsZero() {
			t.Errorf("%s: human %v, annotated at %v: want a human label with its time", r.SourceRef, r.Human, r.AnnotatedAt)
		}
	}
	if diff := cmp.Diff(wantFixtureLabels, gotLabels); diff != "" {
		t.Errorf("labels read back by the manifest step (-want +got):\n%s", diff)
	}

	// The workers and disagreements tables read back.
	ws, err := consolidate.ReadWorkers(ctx, bytes.NewReader(workers.Bytes()), "workers.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sum.Result.Workers, ws, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("workers read back (-written +read):\n%s", diff)
	}
	ds, err := consolidate.ReadDisagreements(ctx, bytes.NewReader(dis.Bytes()), "disagreements.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ds), sum.Disagreements; got != want || got == 0 {
		t.Fatalf("disagreements = %d, want %d (and some)", got, want)
	}
	for i, d := range ds {
		if d.Confidence >= 0.99 || len(d.Answers) != 3 || len(d.Posterior) != classes.Len() {
			t.Errorf("disagreement %+v: want a confidence below 0.99, 3 answers and a posterior per class", d)
		}
		if i > 0 && d.Confidence < ds[i-1].Confidence {
			t.Errorf("disagreements not sorted by confidence: %v after %v", d.Confidence, ds[i-1].Confidence)
		}
	}
}

// A manifest line is valid JSON, whatever a photo's name holds.
func TestWriteManifestEscapes(t *testing.T) {
	a := consolidate.NewAnswers(testClasses(t))
	photo := "s3://b/a \"quoted\" \\ path\twith ünïcode/\u2028.jpg"
	if err := a.Add(consolidate.Answer{Photo: photo, Inspector: "x", Label: "other"}); err != nil {
		t.Fatal(err)
	}
	res, err := consolidate.Consolidate(context.Background(), a, consolidate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	if err := consolidate.WriteManifest(&buf, res, consolidate.ManifestOptions{LabelAttribute: "cat", JobName: "my-job", Now: now}); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	if got := line["source-ref"]; got != photo {
		t.Errorf("source-ref %q, want %q", got, photo)
	}
	meta := line["cat-metadata"].(map[string]any)
	if got, want := meta["creation-date"], "2026-12-01T00:00:00.000000"; got != want {
		t.Errorf("creation-date %v, want %v (no answer time: Now)", got, want)
	}
	if got, want := meta["job-name"], "my-job"; got != want {
		t.Errorf("job-name %v, want %v", got, want)
	}
	for _, bad := range []string{"", "cat_1", "-cat", "cat-metadata", "source", "x-ref"} {
		if err := consolidate.WriteManifest(&buf, res, consolidate.ManifestOptions{LabelAttribute: bad}); err == nil {
			t.Errorf("label attribute %q accepted", bad)
		}
	}
}

// The tables' schemas are the contract other languages read: the Arrow
// schema the Go code writes and the Parquet schema in the file.
func TestTablesGolden(t *testing.T) {
	for _, tt := range []struct {
		def   table.Def
		write func(*bytes.Buffer) error
	}{
		{consolidate.WorkersTable, func(b *bytes.Buffer) error {
			return consolidate.WriteWorkers(b, []consolidate.WorkerRow{{InspectorID: "a", Labels: 1, TrustAccuracy: math.NaN(), Confusion: [][]float64{{1, 0}, {0, 1}}}})
		}},
		{consolidate.DisagreementsTable, func(b *bytes.Buffer) error {
			return consolidate.WriteDisagreements(b, []consolidate.DisagreementRow{{SourceRef: "s3://b/1.jpg", Posterior: []float64{0.5, 0.5}, Inspectors: []string{"a"}, Answers: []string{"x"}}})
		}},
	} {
		golden.Check(t, tt.def.Name+".arrow.golden", tt.def.Schema.String()+"\n")
		var buf bytes.Buffer
		if err := tt.write(&buf); err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		var ps bytes.Buffer
		schema.PrintSchema(pf.MetaData().Schema.Root(), &ps, 2)
		golden.Check(t, tt.def.Name+".parquet-schema.golden", ps.String())
		if v := pf.MetaData().KeyValueMetadata().FindValue(table.KeyTable); v == nil || *v != tt.def.Name {
			t.Errorf("%s metadata = %v, want %q", table.KeyTable, v, tt.def.Name)
		}
		pf.Close()
	}
}

// Like package manifest, this package is a leaf: no AWS SDK, no storage.
func TestLeafPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if p := sc.Text(); strings.Contains(p, "aws-sdk-go") {
			t.Errorf("depends on %s", p)
		}
	}
}

func TestConsolidateErrors(t *testing.T) {
	ctx := context.Background()
	empty := consolidate.NewAnswers(testClasses(t))
	if _, err := consolidate.Consolidate(ctx, empty, consolidate.Options{}); err == nil || !strings.Contains(err.Error(), "no answers") {
		t.Errorf("no answers: %v", err)
	}
	a := twoInspectors(t)
	if _, err := consolidate.Consolidate(ctx, a, consolidate.Options{Method: "median"}); err == nil {
		t.Error("unknown method accepted")
	}
	if _, err := consolidate.Consolidate(ctx, a, consolidate.Options{Trust: map[string]consolidate.Trust{"x": {Accuracy: 1}}}); err == nil {
		t.Error("trust accuracy 1 accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := consolidate.Consolidate(cancelled, a, consolidate.Options{}); err == nil {
		t.Error("cancelled context: no error")
	}
}
