package examples_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// xcomPull matches a DAG's read of a task's result, ti.xcom_pull(
// task_ids='X')['a']['b'].
var xcomPull = regexp.MustCompile(`xcom_pull\(task_ids=['"]([\w-]+)['"]\)((?:\[['"][\w-]+['"]\])+)`)

var xcomKey = regexp.MustCompile(`\[['"]([\w-]+)['"]\]`)

// Every key the Airflow DAGs read from a task's XCom is in the result JSON
// its step writes: the Go result types, marshalled, with the manifest
// step's outputs from a real (tiny) run.
func TestAirflowXComKeys(t *testing.T) {
	results := map[string]map[string]any{
		"stage":       asJSON(t, inspect.StageResult{}),
		"transform":   asJSON(t, sagemaker.TransformResult{}),
		"predictions": asJSON(t, inspect.CollectResult{}),
		"credit":      asJSON(t, credit.DayResult{}),
		"publish":     asJSON(t, ledger.PublishFileResult{}),
		"labels":      asJSON(t, ledger.LabelsResult{}),
		"manifest":    asJSON(t, tinyManifestStep(t)),
		"tune":        asJSON(t, sagemaker.TuneResult{}),
	}
	files, _ := filepath.Glob(filepath.Join(root(t), "examples", "airflow", "*.py"))
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range xcomPull.FindAllStringSubmatch(line, -1) {
				n++
				where := filepath.Base(f) + ":" + itoa(i+1)
				var v any = results[m[1]]
				if results[m[1]] == nil {
					t.Errorf("%s: xcom_pull of task %s, which this test does not know: add its result type", where, m[1])
					continue
				}
				for _, k := range xcomKey.FindAllStringSubmatch(m[2], -1) {
					obj, ok := v.(map[string]any)
					if !ok {
						t.Errorf("%s: task %s: %s reads %s of %v, which is no object", where, m[1], m[2], k[1], v)
						break
					}
					if v, ok = obj[k[1]]; !ok {
						t.Errorf("%s: task %s: %s: its result JSON has no key %s", where, m[1], m[2], k[1])
						break
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no xcom_pull in examples/airflow")
	}
}

func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func itoa(i int) string { return strconv.Itoa(i) }

// tinyManifestStep runs the manifest step on a Ground Truth manifest of
// two photos, for its result's outputs.
func tinyManifestStep(t *testing.T) *manifest.Prepared {
	t.Helper()
	dir := t.TempDir()
	line := func(photo string, class int, name string) string {
		return `{"source-ref":"s3://photos/` + photo + `","category":` + itoa(class) + `,"category-metadata":{"class-name":"` + name +
			`","confidence":0.9,"type":"groundtruth/image-classification","job-name":"labeling-job/tiny","human-annotated":"yes","creation-date":"2026-11-01T00:00:00.000000"}}`
	}
	in := filepath.Join(dir, "output.manifest")
	if err := os.WriteFile(in, []byte(line("a.jpg", 0, "package")+"\n"+line("b.jpg", 1, "product")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := storage.New(storage.Options{})
	defer store.Close()
	p, err := manifest.Prepare(context.Background(), store, manifest.PrepareOptions{In: in, Out: filepath.Join(dir, "out") + "/", ValidationFraction: 0.5,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
