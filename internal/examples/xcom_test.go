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

// stepResults are the result JSON of the steps the DAGs and workflows
// chain, by task name: their Go result types marshalled, the manifest
// step's from a real (tiny) run for its outputs.
func stepResults(t *testing.T) map[string]map[string]any {
	return map[string]map[string]any{
		"stage":       asJSON(t, inspect.StageResult{}),
		"transform":   asJSON(t, sagemaker.TransformResult{}),
		"predictions": asJSON(t, inspect.CollectResult{}),
		"credit":      asJSON(t, credit.DayResult{}),
		"publish":     asJSON(t, ledger.PublishFileResult{}),
		"labels":      asJSON(t, ledger.LabelsResult{}),
		"manifest":    asJSON(t, tinyManifestStep(t)),
		"tune":        asJSON(t, sagemaker.TuneResult{}),
	}
}

// A match is where re matched a line of an example file.
type match struct {
	where string // file:line
	sub   []string
}

// findInExamples is every match of re in the lines of the files of glob
// (relative to the module's root), comment lines left out; none is fatal.
func findInExamples(t *testing.T, glob string, re *regexp.Regexp) []match {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root(t), glob))
	var found []match
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				found = append(found, match{filepath.Base(f) + ":" + strconv.Itoa(i+1), m})
			}
		}
	}
	if len(found) == 0 {
		t.Fatalf("%s: nothing matches %s", glob, re)
	}
	return found
}

// Every key the Airflow DAGs read from a task's XCom is in the result JSON
// its step writes.
func TestAirflowXComKeys(t *testing.T) {
	results := stepResults(t)
	for _, m := range findInExamples(t, "examples/airflow/*.py", xcomPull) {
		task, path := m.sub[1], m.sub[2]
		var v any = results[task]
		if results[task] == nil {
			t.Errorf("%s: xcom_pull of task %s, which this test does not know: add its result type", m.where, task)
			continue
		}
		for _, k := range xcomKey.FindAllStringSubmatch(path, -1) {
			obj, ok := v.(map[string]any)
			if !ok {
				t.Errorf("%s: task %s: %s reads %s of %v, which is no object", m.where, task, path, k[1], v)
				break
			}
			if v, ok = obj[k[1]]; !ok {
				t.Errorf("%s: task %s: %s: its result JSON has no key %s", m.where, task, path, k[1])
				break
			}
		}
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

// tinyManifestStep runs the manifest step on a Ground Truth manifest of
// two photos, for its result's outputs.
func tinyManifestStep(t *testing.T) *manifest.Prepared {
	t.Helper()
	dir := t.TempDir()
	line := func(photo string, class int, name string) string {
		return `{"source-ref":"s3://photos/` + photo + `","category":` + strconv.Itoa(class) + `,"category-metadata":{"class-name":"` + name +
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
