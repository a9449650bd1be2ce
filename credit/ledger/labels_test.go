package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

const classList = "product,packaging,full-length,half-length,other"

func TestExportLabels(t *testing.T) { forEachBackend(t, testExportLabels) }

// The photos people classified become a Ground Truth output manifest
// (the queue's) that the manifest step reads unchanged, and a calibration
// set (the audits') flagged as a random sample.
func testExportLabels(t *testing.T, dsn string) {
	ctx := context.Background()
	l := open(t, dsn)
	day := "2026-11-28"
	publish(t, l, day, queued("q1", day, 500), queued("q2", day, 1000), queued("q3", day, 500),
		audited("a1", day, credit.Grant), audited("a2", day, credit.Reject), queued("old", day, 500))
	photo := func(i int, review, class string) PhotoLabel {
		return PhotoLabel{Index: i, ImageURI: "s3://photos/" + review + "/" + string(rune('0'+i)) + ".jpg", Class: class}
	}
	// Recorded the day before --since: not exported.
	l.Now = func() time.Time { return time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC) }
	resolve(t, l, answer("old", credit.Grant, photo(0, "old", "product")))
	l.Now = func() time.Time { return time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC) }
	resolve(t, l,
		answer("q1", credit.Grant, photo(0, "q1", "product"), photo(1, "q1", "packaging")),
		answer("q2", credit.Reject, photo(0, "q2", "half-length")),
		answer("q3", credit.Grant, photo(0, "q3", "produkt")), // not a class of the model
		answer("a1", credit.Grant, photo(0, "a1", "product")),
		answer("a2", credit.Grant, photo(0, "a2", "full-length")))

	out := t.TempDir()
	store := storage.New(storage.Options{})
	res, err := ExportLabels(ctx, store, LabelsOptions{DB: dsn, Since: "2026-11-29", Out: out, Classes: classList, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if res.ManifestPhoto != 3 || res.CalibrationPhoto != 2 || res.UnknownClass != 1 || res.Reviews != 4 {
		t.Errorf("result %+v: want 3 photos to train on, 2 to calibrate, 1 of an unknown class, 4 reviews", res)
	}

	// The manifest step reads the output manifest as it is.
	data, err := os.ReadFile(filepath.Join(out, FileOutputManifest))
	if err != nil {
		t.Fatal(err)
	}
	classes, err := manifest.ParseClassList(classList)
	if err != nil {
		t.Fatal(err)
	}
	var labels bytes.Buffer
	sum, err := manifest.Convert(ctx, bytes.NewReader(data), manifest.ConvertOptions{Options: manifest.Options{Classes: classes}}, manifest.Outputs{Labels: &labels})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Attribute != DefaultLabelAttribute || sum.MultiLabel || sum.Train != 3 || sum.Rejected() != 0 {
		t.Errorf("manifest.Convert: %+v; want 3 photos of %s, single-label, none rejected", sum, DefaultLabelAttribute)
	}
	rows, err := manifest.ReadLabels(ctx, bytes.NewReader(labels.Bytes()), "labels.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rows {
		got[r.SourceRef] = r.ClassName
		if r.Human == nil || !*r.Human || r.Confidence != 1 || r.JobName != "labeling-job/"+DefaultJobName {
			t.Errorf("label %+v: want human-annotated, confidence 1, job %s", r, DefaultJobName)
		}
	}
	want := map[string]string{"s3://photos/q1/0.jpg": "product", "s3://photos/q1/1.jpg": "packaging", "s3://photos/q2/0.jpg": "half-length"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("labels of the output manifest (-want +got):\n%s", diff)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	wantLine := `{"source-ref":"s3://photos/q1/0.jpg","review-photo-category":0,"review-photo-category-metadata":{"class-name":"product","confidence":1,"creation-date":"2026-11-29T14:03:00.000000","human-annotated":"yes","job-name":"labeling-job/reviewlens-inspections","type":"groundtruth/image-classification"},"review-id":"q1","image-index":0}`
	if first != wantLine {
		t.Errorf("first line\n got %s\nwant %s", first, wantLine)
	}

	// The calibration set: the audits, flagged random.
	f, err := os.Open(filepath.Join(out, FileCalibration))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cal, err := manifest.ReadLabels(ctx, f, FileCalibration)
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]string{}
	for _, r := range cal {
		got[r.SourceRef] = r.ClassName + " " + r.Split
	}
	want = map[string]string{"s3://photos/a1/0.jpg": "product validation", "s3://photos/a2/0.jpg": "full-length validation"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calibration labels (-want +got):\n%s", diff)
	}
	mf, err := os.Open(filepath.Join(out, credit.SampleMarkerFor(FileCalibration)))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	marker, err := credit.ReadSampleMarker(mf)
	if err != nil || marker.Sample != credit.SampleRandom || marker.Photos != 2 {
		t.Errorf("sample marker %+v, %v; want random, 2 photos", marker, err)
	}
	if err := credit.CheckCalibrationSample(marker.Sample, false); err != nil {
		t.Errorf("calibrate would refuse the audits: %v", err)
	}
	var summary LabelsResult
	sf, err := os.ReadFile(filepath.Join(out, FileSummary))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sf, &summary); err != nil || summary.ManifestPhoto != 3 {
		t.Errorf("summary.json: %+v, %v", summary, err)
	}
}

// A photo given two classes in two answers is left out of both files.
func TestWriteOutputManifestConflicts(t *testing.T) {
	classes, _ := manifest.ParseClassList(classList)
	photos := []LabelledPhoto{{ReviewID: "r1", ImageURI: "s3://b/x.jpg", Class: "product", DecidedAt: decidedAt}}
	var buf bytes.Buffer
	if err := WriteOutputManifest(&buf, photos, ManifestOptions{Classes: classes, Attribute: "category", JobName: "j"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"category":0,"category-metadata":{`) || !strings.Contains(buf.String(), `"job-name":"labeling-job/j"`) {
		t.Errorf("line %s: want attribute category and job j", buf.String())
	}
	photos[0].Class = "produkt"
	if err := WriteOutputManifest(io.Discard, photos, ManifestOptions{Classes: classes}); err == nil {
		t.Errorf("a class not in the class map written")
	}
}
