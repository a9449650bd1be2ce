package manifestcmd_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/internal/manifestcmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/manifest"
)

const bad = "testdata/bad/"

// TestBadInputs is the manifest step's table of bad inputs: each is
// refused with exit 2, a message naming what is wrong, and nothing in
// --out.
func TestBadInputs(t *testing.T) {
	steptest.CheckBadInputs(t, manifestcmd.Step, []steptest.BadInput{
		{
			Name:  "one multi-label line in a single-label attribute",
			Args:  []string{"--in", bad + "multilabel-line.manifest", "--out", "{dir}/out"},
			Words: []string{"line 5", "cat-metadata.type", "single-label (from line 1)"}, NoOutput: []string{"out"},
		},
		{
			Name:  "a list label with no type in a single-label attribute",
			Args:  []string{"--in", bad + "multilabel-notype.manifest", "--out", "{dir}/out"},
			Words: []string{"line 5", "cat: got an array of class indices, want one class index"}, NoOutput: []string{"out"},
		},
		{
			Name:  "photos the algorithm cannot read",
			Args:  []string{"--in", bad + "webp.manifest", "--out", "{dir}/out"},
			Words: []string{"line 4", ".webp photo", "JPEG or PNG", "line 5", "no extension"}, NoOutput: []string{"out"},
		},
		{
			Name:  "a photo labelled twice differently",
			Args:  []string{"--in", bad + "conflict.manifest", "--out", "{dir}/out"},
			Words: []string{"line 8", "labelled 2 (full-length) here and 0 (product) on line 1", "rejected on both lines"}, NoOutput: []string{"out"},
		},
		{
			Name:  "empty manifest",
			Args:  []string{"--in", bad + "empty.manifest", "--out", "{dir}/out"},
			Words: []string{"empty manifest"}, NoOutput: []string{"out"},
		},
		{
			Name:  "blank lines only",
			Args:  []string{"--in", bad + "blank.manifest", "--out", "{dir}/out"},
			Words: []string{"empty manifest", "3 blank lines"}, NoOutput: []string{"out"},
		},
		{
			Name:  "truncated last line",
			Args:  []string{"--in", bad + "truncated.manifest", "--out", "{dir}/out"},
			Words: []string{"line 9", "invalid JSON"}, NoOutput: []string{"out"},
		},
		{
			Name:  "invalid UTF-8",
			Args:  []string{"--in", bad + "nonutf8.manifest", "--out", "{dir}/out"},
			Words: []string{"line 4", "UTF-8"}, NoOutput: []string{"out"},
		},
		{
			Name: "oversized line",
			Setup: func(tb testing.TB, dir string) []string {
				good, err := os.ReadFile(bad + "multilabel-line.manifest")
				if err != nil {
					tb.Fatal(err)
				}
				line := `{"source-ref":"s3://photos/` + strings.Repeat("a", 5<<20) + `.jpg","cat":0}` + "\n"
				p := steptest.WriteFile(tb, dir, "huge.manifest", append([]byte(line), good...))
				return []string{"--in", p, "--out", dir + "/out"}
			},
			Words: []string{"line 1", "longer than"}, NoOutput: []string{"out"},
		},
		{
			Name:  "missing manifest",
			Args:  []string{"--in", bad + "nope.manifest", "--out", "{dir}/out"},
			Words: []string{"--in", "nope.manifest", "no such file"}, NoOutput: []string{"out"},
		},
		{
			Name:  "manifest is a directory",
			Args:  []string{"--in", bad, "--out", "{dir}/out"},
			Words: []string{"--in", "is a directory"}, NoOutput: []string{"out"},
		},
		{
			Name: "out is a file",
			Setup: func(tb testing.TB, dir string) []string {
				p := steptest.WriteFile(tb, dir, "out", []byte("x"))
				return []string{"--in", "testdata/mixed.manifest", "--out", p}
			},
			Words: []string{"--out", "is a file, want a folder"},
		},
		{
			Name:  "classes path with a typo",
			Args:  []string{"--in", bad + "conflict.manifest", "--classes", bad + "clases.json", "--out", "{dir}/out"},
			Words: []string{"--classes", "clases.json", "no such file"}, NoOutput: []string{"out"},
		},
		{
			Name:  "classes file that is not JSON",
			Args:  []string{"--in", bad + "conflict.manifest", "--classes", bad + "not-json.classes", "--out", "{dir}/out"},
			Words: []string{"--classes", "not-json.classes", "not a class list"}, NoOutput: []string{"out"},
		},
		{
			Name:  "classes given as a directory",
			Args:  []string{"--in", bad + "conflict.manifest", "--classes", bad, "--out", "{dir}/out"},
			Words: []string{"--classes", "is a directory"}, NoOutput: []string{"out"},
		},
		{
			Name: "an S3 endpoint that never answers",
			Setup: func(tb testing.TB, dir string) []string {
				testenv.FakeCredentials(tb)
				return []string{"--endpoint-url", "http://" + testenv.BlackHole(tb), "--io-timeout", "200ms",
					"--in", "s3://labels/output.manifest", "--out", dir + "/out"}
			},
			Code: 75, NoOutput: []string{"out"},
		},
		{
			Name:  "a zero flag value is the user's, not a default",
			Args:  []string{"--in", bad + "conflict.manifest", "--copy-concurrency", "0", "--out", "{dir}/out"},
			Words: []string{"--copy-concurrency 0"}, NoOutput: []string{"out"},
		},
	})
}

// rejectedLines reads a rejected.jsonl.
func rejectedLines(tb testing.TB, path string) []map[string]any {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// TestSkipKeepsTheTaskType: in skip mode a stray multi-label line is
// rejected and the dataset stays single-label.
func TestSkipKeepsTheTaskType(t *testing.T) {
	for _, in := range []string{"multilabel-line.manifest", "multilabel-notype.manifest"} {
		t.Run(in, func(t *testing.T) {
			out := t.TempDir()
			code, stdout, stderr := run(t, "--in", bad+in, "--out", out, "--on-bad-line", "skip")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var res manifest.Prepared
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatal(err)
			}
			if res.MultiLabel {
				t.Errorf("multi_label = true, want false")
			}
			if got, want := res.RejectedByKind["invalid"], 1; got != want {
				t.Errorf("invalid = %d, want %d", got, want)
			}
			train, err := os.ReadFile(filepath.Join(out, manifest.FileTrain))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(train), "[") {
				t.Errorf("train.manifest holds a list label:\n%s", train)
			}
		})
	}
}

// TestSkipRejectsBothConflictingLines: both lines of a photo labelled
// differently are rejected as conflicts naming each other; an identical
// repeat is a duplicate whose first line is kept.
func TestSkipRejectsBothConflictingLines(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, "--in", bad+"conflict.manifest", "--out", out, "--on-bad-line", "skip")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res manifest.Prepared
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"conflict": 3, "duplicate": 0, "invalid": 0, "unlabelled": 0, "filtered": 0}, res.RejectedByKind); diff != "" {
		t.Errorf("rejected by kind (-want +got):\n%s", diff)
	}
	var conflicts []float64
	for _, r := range rejectedLines(t, filepath.Join(out, manifest.FileRejected)) {
		if r["kind"] != "conflict" {
			t.Errorf("rejected %v, want only conflicts", r)
			continue
		}
		conflicts = append(conflicts, r["line"].(float64))
		if got := r["lines"]; !cmp.Equal(got, []any{1.0, 3.0, 8.0}) {
			t.Errorf("line %v: lines %v, want [1 3 8]", r["line"], got)
		}
	}
	if diff := cmp.Diff([]float64{1, 3, 8}, conflicts); diff != "" {
		t.Errorf("conflicting lines rejected (-want +got):\n%s", diff)
	}
	for _, row := range readLabels(t, filepath.Join(out, manifest.FileLabels)) {
		if row.SourceRef == "s3://photos/train/0000.jpg" {
			t.Errorf("labels.parquet holds the conflicting photo: %+v", row)
		}
	}
	if got, want := res.Rows["train"]+res.Rows["validation"], 7; got != want {
		t.Errorf("photos kept = %d, want %d", got, want)
	}
}
