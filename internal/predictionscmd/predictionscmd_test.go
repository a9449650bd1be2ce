package predictionscmd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/predictionscmd"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/storage"
)

const classesJSON = `{"document-version":"2018-11-28","labels":[{"label":"product"},{"label":"packaging"},{"label":"full-length"},{"label":"half-length"},{"label":"other"}]}`

// outputs of the photos of a day: what each staged photo's .out holds
// ("" = no object).
var outputs = map[string]string{
	"r-1/0.jpg": `{"prediction": [0.01, 0.02, 0.95, 0.01, 0.01]}`,
	"r-1/1.jpg": "[0.9, 0.05, 0.03, 0.01, 0.01]\n",
	"r-2/0.jpg": `{"prediction": [0.2, 0.2]}`, // wrong length
	"r-3/0.jpg": "",                           // the job failed on it
	"r-4/0.jpg": `{"prediction": [0.5, 0.5, 0.0, 0.0, 0.0`,
	"r-5/0.png": `{"prediction": [0.1, 0.1, 0.1, 0.1, 0.5]}`, // sums to 0.9: flagged, still ok
}

// day lays out a day on store under base: staged.parquet, classes.json and
// the outputs, plus one output no staged photo has.
func day(t testing.TB, store *storage.Storage, base string) (staged, outs, classes string) {
	t.Helper()
	ctx := context.Background()
	var rows []inspect.Staged
	for key := range outputs {
		id, idx, _ := strings.Cut(key, "/")
		n := 0
		fmt.Sscanf(idx, "%d", &n)
		rows = append(rows, inspect.Staged{ReviewID: id, ReviewType: "style", ImageIndex: n, ImageURI: "s3://photos/" + key,
			InputURI: "s3://photos/" + key, InputKey: key, OutputKey: key + ".out", SizeBytes: 10, ContentType: "image/jpeg", Day: "2026-11-28"})
	}
	var buf bytes.Buffer
	if err := inspect.WriteStaged(&buf, rows); err != nil {
		t.Fatal(err)
	}
	staged = storage.Join(base, "staged")
	outs = storage.Join(base, "predictions-out")
	classes = storage.Join(base, "labels", "classes.json")
	write := func(uri, data string) {
		if err := store.WriteFile(ctx, uri, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	write(storage.Join(staged, "staged.parquet"), buf.String())
	write(classes, classesJSON)
	for key, body := range outputs {
		if body != "" {
			write(storage.Join(outs, key+".out"), body)
		}
	}
	write(storage.Join(outs, "stray/9.jpg.out"), `{"prediction": [1, 0, 0, 0, 0]}`)
	return staged, outs, classes
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := cli.App("reviewlens", "test", cli.Command(predictionscmd.Step))
	code := cli.Run(context.Background(), app, append([]string{"reviewlens", "predictions", "--log-format", "json"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func check(t *testing.T, store *storage.Storage, res inspect.CollectResult, outs string) {
	t.Helper()
	if diff := cmp.Diff(map[string]int{"ok": 3, "missing": 1, "invalid": 2}, res.ByStatus); diff != "" {
		t.Errorf("by status (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"full-length": 1, "product": 1, "other": 1}, res.ByClass); diff != "" {
		t.Errorf("by class (-want +got):\n%s", diff)
	}
	if res.Unmatched != 1 || len(res.UnmatchedFirst) != 1 || !strings.HasSuffix(res.UnmatchedFirst[0], "stray/9.jpg.out") {
		t.Errorf("unmatched %d %v, want the stray output", res.Unmatched, res.UnmatchedFirst)
	}
	if res.SumOff != 1 {
		t.Errorf("sum off = %d, want 1", res.SumOff)
	}
	data, err := store.ReadFile(context.Background(), res.Predictions)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := inspect.ReadPredictions(bytes.NewReader(data), res.Predictions)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(outputs) {
		t.Fatalf("%d rows, want one per staged photo (%d)", len(rows), len(outputs))
	}
	got := map[string]string{}
	for _, r := range rows {
		key := fmt.Sprintf("%s/%d", r.ReviewID, r.ImageIndex)
		got[key] = r.Status
		if r.Status == "ok" && (r.Label < 0 || len(r.Probabilities) != 5 || r.ClassName == "" || !(r.Margin >= 0)) {
			t.Errorf("%s: ok row without its prediction: %+v", key, r)
		}
		if r.Status != "ok" && r.Reason == "" {
			t.Errorf("%s: %s without a reason", key, r.Status)
		}
		if !strings.HasPrefix(r.OutputURI, strings.TrimSuffix(outs, "/")+"/") {
			t.Errorf("%s: output URI %s", key, r.OutputURI)
		}
	}
	want := map[string]string{"r-1/0": "ok", "r-1/1": "ok", "r-2/0": "invalid", "r-3/0": "missing", "r-4/0": "invalid", "r-5/0": "ok"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i-1].ReviewID > rows[i].ReviewID {
			t.Errorf("rows not in review order: %s after %s", rows[i].ReviewID, rows[i-1].ReviewID)
		}
	}
}

func TestLocalFolder(t *testing.T) {
	dir := t.TempDir()
	store := storage.New(storage.Options{})
	staged, outs, classes := day(t, store, dir)
	out := filepath.Join(dir, "predictions")
	code, stdout, stderr := run(t, "--staged", staged, "--outputs", outs, "--classes", classes, "--out", out, "--concurrency", "3")
	if code != cli.ExitFailure {
		t.Fatalf("exit %d, want %d (missing and invalid photos); stderr:\n%s", code, cli.ExitFailure, stderr)
	}
	var res inspect.CollectResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("result: %v\n%s", err, stdout)
	}
	check(t, store, res, outs)
	if !strings.Contains(stderr, "--allow-incomplete") {
		t.Errorf("stderr does not say how to accept: %s", stderr)
	}
	code, _, stderr = run(t, "--staged", staged, "--outputs", outs, "--classes", classes, "--out", out, "--allow-incomplete")
	if code != 0 {
		t.Errorf("with --allow-incomplete: exit %d; %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "summary.json")); err != nil {
		t.Error(err)
	}
}

func TestS3(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	bucket := testenv.NewBucket(t, endpoint)
	store := storage.New(testenv.StorageOptions(endpoint))
	staged, outs, classes := day(t, store, "s3://"+bucket+"/day")
	res, err := inspect.CollectPredictions(context.Background(), store, inspect.CollectOptions{
		Staged: staged, Outputs: outs, Classes: classes, Out: "s3://" + bucket + "/day/predictions/", AllowIncomplete: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	check(t, store, *res, outs)
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	store := storage.New(storage.Options{})
	staged, outs, classes := day(t, store, dir)
	for name, args := range map[string][]string{
		"no staged":  {"--staged", filepath.Join(dir, "nope"), "--outputs", outs, "--classes", classes, "--out", dir},
		"no classes": {"--staged", staged, "--outputs", outs, "--classes", filepath.Join(dir, "nope.json"), "--out", dir},
		"no out":     {"--staged", staged, "--outputs", outs, "--classes", classes},
	} {
		t.Run(name, func(t *testing.T) {
			if code, _, stderr := run(t, args...); code != cli.ExitBadInput {
				t.Errorf("exit %d, want %d; %s", code, cli.ExitBadInput, stderr)
			}
		})
	}
}
