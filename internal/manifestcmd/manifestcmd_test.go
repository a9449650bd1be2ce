package manifestcmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// run runs the manifest step as `reviewlens manifest ARGS` and returns the
// exit code, stdout and stderr.
func run(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	app := cli.App("reviewlens", "test", cli.Command(manifestcmd.Step))
	code := cli.Run(context.Background(), app, append([]string{"reviewlens", "manifest", "--log-format", "json"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func readLabels(tb testing.TB, path string) []manifest.LabelRow {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := manifest.ReadLabels(context.Background(), f, path)
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

func TestSkipBadLines(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, "--in", "testdata/mixed.manifest", "--out", out,
		"--on-bad-line", "skip", "--min-confidence", "0.5", "--validation-fraction", "0.25")
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	var res manifest.Prepared
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the result JSON: %v\n%s", err, stdout)
	}
	if got, want := res.Rows["train"]+res.Rows["validation"], 3; got != want {
		t.Errorf("photos kept = %d, want %d", got, want)
	}
	wantKinds := map[string]int{"invalid": 2, "unlabelled": 1, "duplicate": 1, "filtered": 1, "conflict": 0}
	if diff := cmp.Diff(wantKinds, res.RejectedByKind); diff != "" {
		t.Errorf("rejected by kind (-want +got):\n%s", diff)
	}
	if got, want := res.Lines, 8; got != want {
		t.Errorf("lines = %d, want %d", got, want)
	}
	if got, want := res.BlankLines, 1; got != want {
		t.Errorf("blank lines = %d, want %d", got, want)
	}
	if diff := cmp.Diff([]string{"product", "packaging", "full-length", "half-length"}, res.Classes); diff != "" {
		t.Errorf("classes (-want +got):\n%s", diff)
	}
	if got, want := res.NumTrainingSamples, res.Rows["train"]; got != want {
		t.Errorf("num_training_samples = %d, want the train rows %d", got, want)
	}

	// Every line not used is in rejected.jsonl, with its line number.
	data, err := os.ReadFile(filepath.Join(out, manifest.FileRejected))
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var r struct {
			Line   int
			Kind   string
			Reason string
			Text   string
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("rejected.jsonl line %q: %v", l, err)
		}
		if r.Reason == "" || r.Text == "" {
			t.Errorf("rejected line %d has no reason or text: %+v", r.Line, r)
		}
		lines = append(lines, r.Line)
	}
	if diff := cmp.Diff([]int{4, 5, 7, 8, 9}, lines); diff != "" {
		t.Errorf("rejected line numbers (-want +got):\n%s", diff)
	}

	// The labels table holds the kept photos; the augmented manifests hold
	// them too, split the same way.
	rows := readLabels(t, filepath.Join(out, manifest.FileLabels))
	split := map[string]string{}
	for _, r := range rows {
		split[r.SourceRef] = r.Split
	}
	if diff := cmp.Diff(map[string]string{"s3://photos/a/1.jpg": split["s3://photos/a/1.jpg"], "s3://photos/a/2.jpg": split["s3://photos/a/2.jpg"], "s3://photos/a/3.jpg": split["s3://photos/a/3.jpg"]}, split); diff != "" {
		t.Errorf("labels table photos (-want +got):\n%s", diff)
	}
	for _, name := range []string{manifest.FileTrain, manifest.FileValidation} {
		data, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%s: %q: %v", name, l, err)
			}
			if len(m) != 2 || m["cat"] == nil {
				t.Errorf("%s: line %q, want only source-ref and cat", name, l)
			}
			want := strings.TrimSuffix(name, ".manifest")
			if got := split[m["source-ref"].(string)]; got != want {
				t.Errorf("%s lists %s, which the labels table puts in %q", name, m["source-ref"], got)
			}
		}
	}
	for _, name := range []string{manifest.FileClasses, manifest.FileSummary} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(out, ".reviewlens-spool-*")); len(entries) > 0 {
		t.Errorf("spool left behind: %v", entries)
	}
}

func TestFailOnBadLine(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := run(t, "--in", "testdata/mixed.manifest", "--out", out)
	if code != cli.ExitBadInput {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	for _, want := range []string{"testdata/mixed.manifest", "line 4: cat:", "line 7: source-ref:", "line 9:", "--on-bad-line skip"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(out, manifest.FileLabels)); err == nil {
		t.Errorf("labels.parquet written although the step failed")
	}
}

func TestBadFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"missing input":    {"--in", "testdata/nope.manifest", "--out", t.TempDir()},
		"fraction too big": {"--in", "testdata/mixed.manifest", "--out", t.TempDir(), "--validation-fraction", "1"},
		"unknown bad-line": {"--in", "testdata/mixed.manifest", "--out", t.TempDir(), "--on-bad-line", "ignore"},
		"one class":        {"--in", "testdata/mixed.manifest", "--out", t.TempDir(), "--classes", "product"},
		"local lst prefix": {"--in", "testdata/mixed.manifest", "--out", t.TempDir(), "--lst-prefix", "/tmp/x"},
		"no out":           {"--in", "testdata/mixed.manifest"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := run(t, args...)
			if code != cli.ExitBadInput {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr)
			}
		})
	}
}

func TestClassListConflict(t *testing.T) {
	// The given class list says class 2 is "packaging"; the lines say
	// "full-length": every such line is invalid.
	out := t.TempDir()
	code, _, stderr := run(t, "--in", "testdata/mixed.manifest", "--out", out, "--classes", "product,full-length,packaging,half-length")
	if code != cli.ExitBadInput {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, cli.ExitBadInput, stderr)
	}
	if !strings.Contains(stderr, `class 2 is \"packaging\" in the class list`) && !strings.Contains(stderr, `class 2 is "packaging" in the class list`) {
		t.Errorf("stderr does not explain the class conflict:\n%s", stderr)
	}
}

func TestRerunGivesSameOutputs(t *testing.T) {
	out := t.TempDir()
	args := []string{"--in", "../../examples/groundtruth/output.manifest", "--out", out, "--seed", "7"}
	if code, _, stderr := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := readDir(t, out)
	if code, _, stderr := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	second := readDir(t, out)
	delete(first, manifest.FileSummary) // holds the elapsed time
	delete(second, manifest.FileSummary)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("a rerun changed the outputs (-first +second):\n%s", diff)
	}
}

func readDir(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		m[e.Name()] = string(data)
	}
	return m
}

// TestS3 runs the step with its input and outputs on moto's S3, through the
// real SDK client, and copies the photos for .lst channels.
func TestS3(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t, endpoint)
	ctx := context.Background()
	store := storage.New(testenv.StorageOptions(endpoint))

	manifestData, err := os.ReadFile("testdata/mixed.manifest")
	if err != nil {
		t.Fatal(err)
	}
	// Point the photos at the test bucket and create them.
	manifestData = bytes.ReplaceAll(manifestData, []byte("s3://photos/"), []byte("s3://"+bucket+"/photos/"))
	in := "s3://" + bucket + "/gt/output.manifest"
	if err := store.WriteFile(ctx, in, manifestData); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"1", "2", "3", "4", "6"} {
		if err := store.WriteFile(ctx, "s3://"+bucket+"/photos/a/"+p+".jpg", []byte("jpeg "+p)); err != nil {
			t.Fatal(err)
		}
	}
	out := "s3://" + bucket + "/labels/dt=2026-11-28/"
	lst := "s3://" + bucket + "/channels"
	// The bucket name is random, so is the hash split: keep every photo in
	// train, or a test could find none there.
	code, stdout, stderr := run(t, "--in", in, "--out", out, "--on-bad-line", "skip", "--lst-prefix", lst, "--validation-fraction", "0",
		"--endpoint-url", endpoint, "--region", "us-east-1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res manifest.Prepared
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if got, want := res.PhotosCopied, 4; got != want {
		t.Errorf("photos copied = %d, want %d", got, want)
	}
	// Every output is there, and the labels read back.
	for key, uri := range res.Outputs {
		if _, err := store.Stat(ctx, uri); err != nil {
			t.Errorf("output %s: %v", key, err)
		}
	}
	data, err := store.ReadFile(ctx, res.Outputs["labels"])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := manifest.ReadLabels(ctx, bytes.NewReader(data), res.Outputs["labels"])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rows), 4; got != want {
		t.Errorf("labels rows = %d, want %d", got, want)
	}
	// Each .lst line points at a copy under its channel prefix.
	for _, ch := range []string{"train", "validation"} {
		data, err := store.ReadFile(ctx, res.Outputs[ch+"_lst"])
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if l == "" {
				continue
			}
			f := strings.Split(l, "\t")
			if len(f) != 3 {
				t.Fatalf("%s.lst line %q: want 3 tab-separated fields", ch, l)
			}
			copied, err := store.ReadFile(ctx, storage.Join(lst, ch, f[2]))
			if err != nil {
				t.Errorf("%s.lst line %q: %v", ch, l, err)
				continue
			}
			if !strings.HasPrefix(string(copied), "jpeg ") {
				t.Errorf("copy of %s holds %q", f[2], copied)
			}
		}
	}
}

// TestSampleMarker: the labels carry a marker saying how their photos were
// chosen, which the calibrate step reads beside them: random by default,
// unknown when the user says so, which calibrate then refuses.
func TestSampleMarker(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    string
		refused bool
	}{
		{nil, credit.SampleRandom, false},
		{[]string{"--sample", "unknown"}, credit.SampleUnknown, true},
	} {
		out := t.TempDir()
		args := append([]string{"--in", "../../examples/groundtruth/output.manifest", "--out", out}, tc.args...)
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		var res manifest.Prepared
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		labels := filepath.Join(out, manifest.FileLabels)
		if got := res.Outputs["labels_sample"]; got != credit.SampleMarkerFor(labels) {
			t.Errorf("%v: outputs name the marker %q, want %q", tc.args, got, credit.SampleMarkerFor(labels))
		}
		f, err := os.Open(credit.SampleMarkerFor(labels))
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		m, err := credit.ReadSampleMarker(f)
		f.Close()
		if err != nil || m.Sample != tc.want || m.Photos != res.Rows["train"]+res.Rows["validation"] {
			t.Errorf("%v: marker %+v, %v; want sample %q over %d photos", tc.args, m, err, tc.want, res.Rows["train"]+res.Rows["validation"])
		}
		if err := credit.CheckCalibrationSample(m.Sample, false); (err != nil) != tc.refused {
			t.Errorf("%v: calibrate's check says %v, want refused %v", tc.args, err, tc.refused)
		}
	}
	if code, _, stderr := run(t, "--in", "../../examples/groundtruth/output.manifest", "--out", t.TempDir(), "--sample", "hand-picked"); code != cli.ExitBadInput || !strings.Contains(stderr, "--sample") {
		t.Errorf("--sample hand-picked: exit %d, want %d naming the flag: %s", code, cli.ExitBadInput, stderr)
	}
}
