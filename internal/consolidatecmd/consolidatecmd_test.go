package consolidatecmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/consolidatecmd"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/manifest/consolidate"
	"github.com/reviewlens/reviewlens/storage"
)

const (
	fixtures = "../../manifest/consolidate/testdata"
	jobDir   = fixtures + "/gt-job/review-photo-category"
	classes  = fixtures + "/label-categories.json"
)

// run runs `reviewlens STEP ARGS` with the consolidate and manifest steps
// and returns the exit code, stdout and stderr.
func run(tb testing.TB, step string, args ...string) (int, string, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	app := cli.App("reviewlens", "test", cli.Command(consolidatecmd.Step), cli.Command(manifestcmd.Step))
	code := cli.Run(context.Background(), app, append([]string{"reviewlens", step, "--log-format", "json"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func result(tb testing.TB, stdout string) *consolidate.StepResult {
	tb.Helper()
	var res consolidate.StepResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		tb.Fatalf("stdout is not the result JSON: %v\n%s", err, stdout)
	}
	return &res
}

// The done-when of the issue: a folder of worker responses becomes a
// manifest the manifest step trains on, with an accuracy per inspector.
func TestWorkerResponsesToManifestStep(t *testing.T) {
	out := filepath.Join(t.TempDir(), "consolidated")
	code, stdout, stderr := run(t, "consolidate", "--responses", jobDir, "--classes", classes,
		"--label-attribute", "review-photo-category", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	res := result(t, stdout)
	if got, want := res.Photos, 6; got != want {
		t.Errorf("photos = %d, want %d", got, want)
	}
	if got, want := res.Method, consolidate.DawidSkene; got != want {
		t.Errorf("method = %q, want %q", got, want)
	}
	if got, want := len(res.InspectorAccuracy), 3; got != want {
		t.Errorf("inspectors with an accuracy = %d, want %d", got, want)
	}
	wantFiles := []string{"disagreements.parquet", "output.manifest", "rejected.jsonl", "summary.json", "workers.parquet"}
	if diff := cmp.Diff(wantFiles, dirNames(t, out)); diff != "" {
		t.Errorf("output folder (-want +got):\n%s", diff)
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := result(t, string(summary)); got.Photos != res.Photos || got.Outputs["manifest"] != filepath.Join(out, "output.manifest") {
		t.Errorf("summary.json %+v, want the result", got)
	}

	// The manifest step takes the output manifest as it is.
	labels := filepath.Join(t.TempDir(), "labels")
	code, stdout, stderr = run(t, "manifest", "--in", res.Outputs["manifest"], "--classes", classes, "--out", labels, "--validation-fraction", "0")
	if code != 0 {
		t.Fatalf("manifest step: exit %d, stderr:\n%s", code, stderr)
	}
	var mres manifest.Prepared
	if err := json.Unmarshal([]byte(stdout), &mres); err != nil {
		t.Fatal(err)
	}
	if got, want := mres.NumTrainingSamples, 6; got != want || mres.Rejected != 0 {
		t.Errorf("manifest step: %d training samples, %d rejected; want %d, none", got, mres.Rejected, want)
	}
	if got, want := mres.LabelAttribute, "review-photo-category"; got != want {
		t.Errorf("manifest step read attribute %q, want %q", got, want)
	}
}

// An answers table, a trust file and the weighted vote; a later answer of
// the same inspector supersedes the earlier, which goes to rejected.jsonl.
func TestAnswersTable(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.csv")
	write(t, answers, "image_uri,inspector_id,label,answered_at\n"+
		"s3://b/1.jpg,ana,product,2026-11-28T09:00:00Z\n"+
		"s3://b/1.jpg,ben,packaging,2026-11-28T09:01:00Z\n"+
		"s3://b/2.jpg,ana,other,2026-11-28T09:02:00Z\n"+
		"s3://b/2.jpg,ben,other,2026-11-28T09:03:00Z\n"+
		"s3://b/2.jpg,ben,half-length,2026-11-28T09:04:00Z\n")
	trust := filepath.Join(dir, "trust.csv")
	write(t, trust, "inspector_id,accuracy\nben,0.95\nzoe,0.9\n")
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, "consolidate", "--responses", answers, "--classes", classes, "--trust", trust,
		"--method", "majority", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	res := result(t, stdout)
	if got, want := res.Superseded, 1; got != want {
		t.Errorf("superseded = %d, want %d", got, want)
	}
	if diff := cmp.Diff(map[string]int{"packaging": 1, "half-length": 1}, res.ByClass); diff != "" {
		t.Errorf("by class (-want +got): trusted ben should win both\n%s", diff)
	}
	rejected, err := os.ReadFile(filepath.Join(out, "rejected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rejected), `"row":4`) {
		t.Errorf("rejected.jsonl = %s, want row 4", rejected)
	}
	if !strings.Contains(stderr, "superseded") {
		t.Errorf("no warning about the superseded answer:\n%s", stderr)
	}
	if diff := cmp.Diff([]string{"zoe"}, res.TrustUnmatched); diff != "" || !strings.Contains(stderr, "trusted inspectors who answered nothing") {
		t.Errorf("trusted inspector who answered nothing (-want +got):\n%s\nstderr:\n%s", diff, stderr)
	}
}

// Bad input exits 2 with the file, row or field named, and leaves no
// output.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	badCSV := filepath.Join(dir, "bad.csv")
	write(t, badCSV, "image_uri,inspector_id,label\ns3://b/1.jpg,ana,product\ns3://b/2.jpg,ben,dog\n")
	multi := filepath.Join(dir, "multi")
	write(t, filepath.Join(multi, "annotations/worker-response/iteration-1/0/2026-11-28_09:00:00.json"),
		`{"answers":[{"workerId":"w","answerContent":{"crowd-image-classifier":{"labels":["product"]}}}]}`)
	tests := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{name: "bad row", args: []string{"--responses", badCSV},
			want: []string{"--responses: " + badCSV + ": row 2: label: \\\"dog\\\" is not one of the classes"}},
		{name: "multi-select", args: []string{"--responses", multi},
			want: []string{"iteration-1/0/2026-11-28_09:00:00.json: answers[0].answerContent.crowd-image-classifier.labels: a multi-select answer"}},
		{name: "no mapping", args: []string{"--responses", jobDir + "/../../nowhere"},
			want: []string{"annotations/worker-response/: no such folder"}},
		{name: "missing classes", args: []string{"--responses", jobDir, "--classes", filepath.Join(dir, "nope.json")},
			want: []string{"--classes " + filepath.Join(dir, "nope.json") + ": no such file"}},
		{name: "missing trust", args: []string{"--responses", jobDir, "--trust", filepath.Join(dir, "nope.csv")},
			want: []string{"--trust " + filepath.Join(dir, "nope.csv") + ": no such file"}},
		{name: "unknown method", args: []string{"--responses", jobDir, "--method", "median"},
			want: []string{`--method \"median\": want one of`}},
		{name: "bad label attribute", args: []string{"--responses", jobDir, "--label-attribute", "my_labels"},
			want: []string{"--label-attribute"}},
		{name: "bad min-posterior", args: []string{"--responses", jobDir, "--min-posterior", "1.5"},
			want: []string{"--min-posterior 1.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"--classes", classes, "--out", out}, tt.args...)
			code, stdout, stderr := run(t, "consolidate", args...)
			if code != cli.ExitBadInput {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "summary.json")); err == nil {
				t.Error("summary.json written although the step failed")
			}
		})
	}
}

// TestS3 reads a labelling job's output folder from moto's S3, with the
// input manifest instead of the consolidation requests, and writes the
// outputs there.
func TestS3(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t, endpoint)
	ctx := context.Background()
	store := storage.New(testenv.StorageOptions(endpoint))
	job := "s3://" + bucket + "/groundtruth/review-photo-category"
	err := filepath.WalkDir(jobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "consolidation-request") {
			return err
		}
		rel, _ := filepath.Rel(jobDir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return store.WriteFile(ctx, job+"/"+filepath.ToSlash(rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
	manifestData, err := os.ReadFile(fixtures + "/input.manifest")
	if err != nil {
		t.Fatal(err)
	}
	in := "s3://" + bucket + "/input/dataset.manifest"
	if err := store.WriteFile(ctx, in, manifestData); err != nil {
		t.Fatal(err)
	}
	out := "s3://" + bucket + "/consolidated/"
	code, stdout, stderr := run(t, "consolidate", "--responses", job, "--input-manifest", in, "--classes", classes,
		"--out", out, "--endpoint-url", endpoint, "--region", testenv.Region)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	res := result(t, stdout)
	if got, want := res.Photos, 6; got != want {
		t.Errorf("photos = %d, want %d", got, want)
	}
	data, err := store.ReadFile(ctx, res.Outputs["manifest"])
	if err != nil {
		t.Fatal(err)
	}
	classMap, err := manifest.ParseLabelCategoryConfig(bytes.NewReader(mustRead(t, classes)))
	if err != nil {
		t.Fatal(err)
	}
	r := manifest.NewReader(bytes.NewReader(data), manifest.Options{Classes: classMap})
	n := 0
	for {
		rec, err := r.Read()
		if err != nil {
			break
		}
		if !strings.HasPrefix(rec.SourceRef, "s3://reviewlens-example-photos/") {
			t.Errorf("source-ref %q", rec.SourceRef)
		}
		n++
	}
	if got, want := n, 6; got != want {
		t.Errorf("manifest lines read = %d, want %d", got, want)
	}
	for _, key := range []string{"workers", "disagreements", "rejected", "summary"} {
		if _, err := store.Stat(ctx, res.Outputs[key]); err != nil {
			t.Errorf("output %s: %v", key, err)
		}
	}
}

func write(tb testing.TB, path, data string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func dirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
