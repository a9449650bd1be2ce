package consolidate_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/manifest/consolidate"
)

// jobDir is a Ground Truth labelling job's output folder, written after
// the documented layout: two iterations, six photos, three private-
// workforce workers, one photo's answers in two files, and the
// consolidation requests that name the photos.
const jobDir = "testdata/gt-job/review-photo-category"

func testClasses(tb testing.TB) *manifest.ClassMap {
	tb.Helper()
	f, err := os.Open("testdata/label-categories.json")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	m, err := manifest.ReadClasses(f)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// photoN is the photo of datasetObjectId n in the fixtures.
func photoN(n int) string {
	return []string{
		"s3://reviewlens-example-photos/reviews/2026-11-01/review-1000-photo-1.jpg",
		"s3://reviewlens-example-photos/reviews/2026-11-01/review-1001-photo-2.jpg",
		"s3://reviewlens-example-photos/reviews/2026-11-02/review-1002-photo-1.jpg",
		"s3://reviewlens-example-photos/reviews/2026-11-02/review-1003-photo-2.jpg",
		"s3://reviewlens-example-photos/reviews/2026-11-03/review-1004-photo-1.jpg",
		"s3://reviewlens-example-photos/reviews/2026-11-03/review-1005-photo-2.jpg",
	}[n]
}

// wantFixtureLabels is what the fixture's answers say, photo by photo.
var wantFixtureLabels = map[string]string{
	photoN(0): "packaging",   // 3 × packaging
	photoN(1): "full-length", // full, full, half
	photoN(2): "product",     // product, product, packaging
	photoN(3): "full-length", // full, full in one file, half in another
	photoN(4): "other",       // other, other, product
	photoN(5): "half-length", // 3 × half-length
}

// labelsOf consolidates answers and returns the class name of every photo.
func labelsOf(tb testing.TB, a *consolidate.Answers, opts consolidate.Options) map[string]string {
	tb.Helper()
	res, err := consolidate.Consolidate(context.Background(), a, opts)
	if err != nil {
		tb.Fatal(err)
	}
	got := map[string]string{}
	for i, p := range res.Photos {
		got[p] = res.Classes.Name(res.Label[i])
	}
	return got
}

func TestReadWorkerResponsesFixture(t *testing.T) {
	ctx := context.Background()
	classes := testClasses(t)
	a, err := consolidate.ReadWorkerResponses(ctx, os.DirFS(jobDir), consolidate.ResponsesOptions{Classes: classes, Name: jobDir})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Len(), 18; got != want {
		t.Errorf("answers = %d, want %d", got, want)
	}
	if got, want := a.Photos(), 6; got != want {
		t.Errorf("photos = %d, want %d", got, want)
	}
	if got, want := a.Inspectors(), 3; got != want {
		t.Errorf("inspectors = %d, want %d", got, want)
	}
	for _, m := range []consolidate.Method{consolidate.DawidSkene, consolidate.Majority, consolidate.PlainMajority} {
		if diff := cmp.Diff(wantFixtureLabels, labelsOf(t, a, consolidate.Options{Method: m})); diff != "" {
			t.Errorf("%s labels (-want +got):\n%s", m, diff)
		}
	}

	// The first answer read: iteration 1, object 0, ana, with its time.
	first := consolidate.AnswerAt(a, 0)
	want := consolidate.Answer{
		Photo: photoN(0), Inspector: "private.us-east-1.ef7294f850a3d9d1", Label: "packaging",
		At:   time.Date(2026, 11, 28, 9, 31, 2, 191e6, time.UTC),
		File: jobDir + "/annotations/worker-response/iteration-1/0/2026-11-28_09_34_00.json", Row: 1,
	}
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("first answer (-want +got):\n%s", diff)
	}
	// A time without milliseconds (as AWS's demo notebook parses them).
	if got, want := consolidate.AnswerAt(a, 2).At, time.Date(2026, 11, 28, 9, 34, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("third answer at %v, want %v", got, want)
	}
}

// withoutRequests is the fixture folder without its consolidation
// requests, in memory, under Ground Truth's real file names (with colons).
func withoutRequests(tb testing.TB) fstest.MapFS {
	tb.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(jobDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, consolidate.DirConsolidationRequests) {
			return err
		}
		data, err := os.ReadFile(filepath.Join(jobDir, p))
		if err != nil {
			return err
		}
		dir, base := filepath.Split(p)
		// 2026-11-28_09_34_00.json is 2026-11-28_09:34:00.json.
		m[dir+base[:11]+strings.ReplaceAll(base[11:19], "_", ":")+base[19:]] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestReadWorkerResponsesInputManifest(t *testing.T) {
	ctx := context.Background()
	classes := testClasses(t)
	fsys := withoutRequests(t)
	if _, err := fs.Stat(fsys, "annotations/worker-response/iteration-1/0/2026-11-28_09:34:00.json"); err != nil {
		t.Fatalf("the in-memory folder should have Ground Truth's file names: %v", err)
	}

	// Without requests nor an input manifest, the photos are unknown.
	_, err := consolidate.ReadWorkerResponses(ctx, fsys, consolidate.ResponsesOptions{Classes: classes, Name: "s3://b/job"})
	if !errors.Is(err, consolidate.ErrNoPhoto) {
		t.Fatalf("error %v, want ErrNoPhoto", err)
	}
	for _, want := range []string{"s3://b/job/annotations/worker-response/iteration-1/0/", "datasetObjectId 0", "no consolidation requests", "no input manifest"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// The input manifest maps them by line.
	in, err := os.Open("testdata/input.manifest")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	a, err := consolidate.ReadWorkerResponses(ctx, fsys, consolidate.ResponsesOptions{Classes: classes, InputManifest: in, InputManifestName: "input.manifest"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantFixtureLabels, labelsOf(t, a, consolidate.Options{})); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}

	// A manifest with a line too few says so.
	short := "{\"source-ref\":\"" + photoN(0) + "\"}\n\n{\"source-ref\":\"" + photoN(1) + "\"}\n"
	_, err = consolidate.ReadWorkerResponses(ctx, fsys, consolidate.ResponsesOptions{Classes: classes, InputManifest: strings.NewReader(short), InputManifestName: "short.manifest"})
	if !errors.Is(err, consolidate.ErrNoPhoto) || !strings.Contains(err.Error(), "datasetObjectId 2, but the input manifest short.manifest has 2 lines") {
		t.Errorf("short manifest: %v", err)
	}
}

// An input manifest that contradicts the consolidation requests is not
// the job's.
func TestReadWorkerResponsesManifestConflict(t *testing.T) {
	swapped := "{\"source-ref\":\"" + photoN(1) + "\"}\n{\"source-ref\":\"" + photoN(0) + "\"}\n"
	_, err := consolidate.ReadWorkerResponses(context.Background(), os.DirFS(jobDir), consolidate.ResponsesOptions{
		Classes: testClasses(t), InputManifest: strings.NewReader(swapped), InputManifestName: "other.manifest"})
	if err == nil || !strings.Contains(err.Error(), "line 1 of the input manifest other.manifest") {
		t.Errorf("error %v, want the conflict named", err)
	}
}

func TestReadWorkerResponsesBadFolder(t *testing.T) {
	response := func(label string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(`{"answers":[{"answerContent":{"crowd-image-classifier":{"label":"` + label + `"}},"workerId":"w1"}]}`)}
	}
	request := &fstest.MapFile{Data: []byte(`[{"datasetObjectId":"0","dataObject":{"s3Uri":"s3://b/0.jpg"}}]`)}
	tests := []struct {
		name string
		fsys fstest.MapFS
		want string // in the error
	}{
		{name: "not a job folder", fsys: fstest.MapFS{"x.json": response("product")},
			want: "annotations/worker-response/: no such folder"},
		{name: "stray file", fsys: fstest.MapFS{"annotations/worker-response/iteration-1/0.json": response("product")},
			want: "iteration-1/0.json: unexpected file"},
		{name: "not an iteration", fsys: fstest.MapFS{"annotations/worker-response/round-1/0/a.json": response("product")},
			want: "round-1: unexpected"},
		{name: "unknown class", fsys: fstest.MapFS{
			"annotations/worker-response/iteration-1/0/a.json":                             response("dog"),
			"annotations/consolidated-annotation/consolidation-request/iteration-1/r.json": request},
			want: `iteration-1/0/a.json: answers[0].answerContent.crowd-image-classifier.label: "dog" is not one of the classes`},
		{name: "bad request", fsys: fstest.MapFS{
			"annotations/worker-response/iteration-1/0/a.json":                             response("product"),
			"annotations/consolidated-annotation/consolidation-request/iteration-1/r.json": &fstest.MapFile{Data: []byte(`[{"datasetObjectId":"0","dataObject":{"s3Uri":"https://b/0.jpg"}}]`)}},
			want: `r.json: [0].dataObject.s3Uri: got "https://b/0.jpg", want an s3://bucket/key URI`},
		{name: "requests disagree", fsys: fstest.MapFS{
			"annotations/worker-response/iteration-1/0/a.json":                             response("product"),
			"annotations/consolidated-annotation/consolidation-request/iteration-1/r.json": request,
			"annotations/consolidated-annotation/consolidation-request/iteration-2/s.json": &fstest.MapFile{Data: []byte(`[{"datasetObjectId":0,"dataObject":{"s3Uri":"s3://b/1.jpg"}}]`)}},
			want: `s.json: [0]: datasetObjectId 0 is "s3://b/1.jpg", but "s3://b/0.jpg" in annotations/consolidated-annotation/consolidation-request/iteration-1/r.json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := consolidate.ReadWorkerResponses(context.Background(), tt.fsys, consolidate.ResponsesOptions{Classes: testClasses(t)})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// Every malformed worker response is an *InputError naming the JSON path
// at fault and what was expected.
func TestParseWorkerResponseErrors(t *testing.T) {
	const ok = `"answerContent":{"crowd-image-classifier":{"label":"product"}}`
	tests := []struct {
		name, doc   string
		element     string
		field, want string
		is          error
	}{
		{name: "not JSON", doc: `{"answers":[`, field: "answers[0]", want: "invalid JSON: unexpected end of file"},
		{name: "not an object", doc: `[1]`, want: "got an array, want a JSON object"},
		{name: "no answers", doc: `{}`, field: "answers", want: "missing"},
		{name: "answers not an array", doc: `{"answers":{}}`, field: "answers", want: "got an object, want an array"},
		{name: "answer not an object", doc: `{"answers":["x"]}`, field: "answers[0]", want: `got a string "x", want an object`},
		{name: "no workerId", doc: `{"answers":[{` + ok + `}]}`, field: "answers[0].workerId", want: "missing"},
		{name: "workerId a number", doc: `{"answers":[{"workerId":7,` + ok + `}]}`, field: "answers[0].workerId", want: "got a number 7, want a non-empty string"},
		{name: "empty workerId", doc: `{"answers":[{"workerId":"",` + ok + `}]}`, field: "answers[0].workerId", want: "want a non-empty string"},
		{name: "bad submissionTime", doc: `{"answers":[{"workerId":"w","submissionTime":"28/11/2026",` + ok + `}]}`, field: "answers[0].submissionTime", want: "want a time like 2020-12-28T18:59:15.191Z"},
		{name: "bad acceptanceTime", doc: `{"answers":[{"workerId":"w","acceptanceTime":12,` + ok + `}]}`, field: "answers[0].acceptanceTime", want: "got a number 12"},
		{name: "negative time spent", doc: `{"answers":[{"workerId":"w","timeSpentInSeconds":-1,` + ok + `}]}`, field: "answers[0].timeSpentInSeconds", want: "want a number of seconds"},
		{name: "no answerContent", doc: `{"answers":[{"workerId":"w"}]}`, field: "answers[0].answerContent", want: "missing"},
		{name: "two elements", doc: `{"answers":[{"workerId":"w","answerContent":{"b":{"label":"x"},"a":{"label":"y"}}}]}`, field: "answers[0].answerContent", want: `2 elements ("a", "b"), want exactly one`},
		{name: "named element missing", element: "category", doc: `{"answers":[{"workerId":"w",` + ok + `}]}`, field: "answers[0].answerContent.category", want: `missing, want the answer of element "category"`},
		{name: "multi-select", doc: `{"answers":[{"workerId":"w","answerContent":{"crowd-image-classifier":{"labels":["product","packaging"]}}}]}`, field: "answers[0].answerContent.crowd-image-classifier.labels", want: "multi-select", is: consolidate.ErrMultiSelect},
		{name: "no label", doc: `{"answers":[{"workerId":"w","answerContent":{"crowd-image-classifier":{}}}]}`, field: "answers[0].answerContent.crowd-image-classifier.label", want: "missing"},
		{name: "label a list", doc: `{"answers":[{"workerId":"w","answerContent":{"crowd-image-classifier":{"label":["a"]}}}]}`, field: "answers[0].answerContent.crowd-image-classifier.label", want: "got an array, want a class name"},
		{name: "repeated key", doc: `{"answers":[{"workerId":"w","workerId":"v",` + ok + `}]}`, field: "answers[0].workerId", want: "appears twice"},
		{name: "second answer bad", doc: `{"answers":[{"workerId":"w",` + ok + `},{"workerId":"v","answerContent":null}]}`, field: "answers[1].answerContent", want: "got null, want an object"},
		{name: "invalid UTF-8", doc: "{\"answers\":[{\"workerId\":\"w\xff\"," + ok + "}]}", want: "not valid UTF-8"},
		{name: "trailing data", doc: `{"answers":[]} {}`, want: "data after the value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := consolidate.ParseWorkerResponse([]byte(tt.doc), tt.element)
			var ie *consolidate.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want an *InputError", err, err)
			}
			if got, want := ie.Field, tt.field; got != want {
				t.Errorf("field %q, want %q (error %v)", got, want, err)
			}
			if !strings.Contains(ie.Reason, tt.want) {
				t.Errorf("reason %q, want it to contain %q", ie.Reason, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

// FuzzParseWorkerResponse: the parser never panics, and what it accepts
// is a list of answers each with a worker and a label, whose paths point
// into the answers array.
func FuzzParseWorkerResponse(f *testing.F) {
	err := fs.WalkDir(os.DirFS(jobDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasPrefix(p, consolidate.DirWorkerResponses) {
			return err
		}
		data, err := os.ReadFile(filepath.Join(jobDir, p))
		f.Add(data)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"answers":[{"workerId":"w","answerContent":{"e":{"labels":["a"]}}}]}`))
	f.Add([]byte(`{"answers":[{"workerId":"w","submissionTime":"2020-12-28T18:59:15Z","answerContent":{"e":{"label":"a"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		answers, err := consolidate.ParseWorkerResponse(data, "")
		if err != nil {
			var ie *consolidate.InputError
			if !errors.As(err, &ie) || ie.Reason == "" {
				t.Fatalf("error %v (%T): want an *InputError with a reason", err, err)
			}
			return
		}
		for i, a := range answers {
			if a.WorkerID == "" || a.Label == "" || !strings.HasPrefix(a.Path, "answers[") || !strings.HasSuffix(a.Path, ".label") {
				t.Fatalf("answer %d = %+v: want a worker, a label and its path", i, a)
			}
		}
	})
}
