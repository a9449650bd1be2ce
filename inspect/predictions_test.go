package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/internal/golden"
	"github.com/reviewlens/reviewlens/table"
)

// checkedAllocator returns an allocator that fails tb if anything
// allocated from it is still held when the test ends.
func checkedAllocator(tb testing.TB) *memory.CheckedAllocator {
	tb.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	tb.Cleanup(func() { mem.AssertSize(tb, 0) })
	return mem
}

// writePredictions writes rows with a PredictionWriter, in calls of at
// most chunk rows, and returns the file.
func writePredictions(tb testing.TB, mem memory.Allocator, rows []PredictionRow, chunk int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	pw, err := newPredictionWriter(&buf, mem)
	if err != nil {
		tb.Fatal(err)
	}
	for len(rows) > 0 {
		n := min(chunk, len(rows))
		if err := pw.Write(rows[:n]...); err != nil {
			tb.Fatalf("Write: %v", err)
		}
		rows = rows[n:]
	}
	if err := pw.Close(); err != nil {
		tb.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

func readPredictions(tb testing.TB, data []byte) []PredictionRow {
	tb.Helper()
	rows, err := ReadPredictions(bytes.NewReader(data), "predictions.parquet")
	if err != nil {
		tb.Fatalf("ReadPredictions: %v", err)
	}
	return rows
}

// okRow is an ok row with every column set.
func okRow(id string) PredictionRow {
	return PredictionRow{
		ReviewID: id, ReviewType: ProductReview, ImageIndex: 2, ImageURI: "s3://photos/2026/11/28/" + id + "-2.jpg",
		OutputURI: "s3://out/2026-11-28/" + id + "-2.jpg.out", Status: StatusOK,
		Label: 1, ClassName: "product", Confidence: 0.97, Margin: 0.96, Probabilities: []float64{0.01, 0.97, 0.01, 0.005, 0.005},
		Model: "ic-2026-11-20", TransformJob: "reviewlens-2026-11-28", Day: "2026-11-28",
	}
}

// nulls returns row changed by set.
func nulls(row PredictionRow, set func(*PredictionRow)) PredictionRow {
	set(&row)
	return row
}

// notOK is row made missing or invalid, the prediction columns null.
func notOK(row PredictionRow, status, reason string) PredictionRow {
	row.SetFailed(status, reason)
	return row
}

var cmpPredictions = cmpopts.EquateNaNs()

// The predictions table's schemas are the contract other languages read:
// the Arrow schema the Go code writes and the Parquet schema in the file.
func TestPredictionsTableGolden(t *testing.T) {
	if got, want := PredictionsTable.Name, "predictions"; got != want {
		t.Errorf("PredictionsTable.Name = %q, want %q", got, want)
	}
	golden.Check(t, "predictions.arrow.golden", PredictionsTable.Schema.String()+"\n")

	data := writePredictions(t, checkedAllocator(t), []PredictionRow{okRow("r1")}, 1)
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	var buf bytes.Buffer
	schema.PrintSchema(pf.MetaData().Schema.Root(), &buf, 2)
	golden.Check(t, "predictions.parquet-schema.golden", buf.String())

	kv := pf.MetaData().KeyValueMetadata()
	for key, want := range map[string]string{
		table.KeyTable:   PredictionsTable.Name,
		table.KeyVersion: fmt.Sprint(PredictionsTable.Version),
	} {
		if v := kv.FindValue(key); v == nil || *v != want {
			t.Errorf("%s metadata = %v, want %q", key, v, want)
		}
	}
}

func TestPredictionsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rows []PredictionRow
		want []PredictionRow // nil: rows
	}{
		{name: "no rows", want: []PredictionRow{}},
		{name: "every value set", rows: []PredictionRow{
			okRow("r1"),
			nulls(okRow("r2"), func(r *PredictionRow) {
				r.ReviewType, r.ImageIndex, r.Reason = StyleReview, 0, "probabilities sum to 0.9, want 1 (within 0.001)"
				r.Label, r.ClassName, r.Confidence, r.Margin = 0, "packaging", 0, 0
				r.Probabilities = []float64{0, 0, 0}
			}),
			nulls(okRow("r3"), func(r *PredictionRow) { r.ImageIndex = math.MaxInt32 }),
		}},
		{name: "each nullable column null alone", rows: []PredictionRow{
			nulls(okRow("reason"), func(r *PredictionRow) { r.Reason = "" }),
			nulls(okRow("class"), func(r *PredictionRow) { r.ClassName = "" }),
			nulls(okRow("confidence"), func(r *PredictionRow) { r.Confidence = math.NaN() }),
			nulls(okRow("margin"), func(r *PredictionRow) { r.Margin = math.NaN() }),
			nulls(okRow("probabilities"), func(r *PredictionRow) { r.Probabilities = nil }),
			nulls(okRow("empty list"), func(r *PredictionRow) { r.Probabilities = []float64{} }),
			nulls(okRow("model"), func(r *PredictionRow) { r.Model = "" }),
			nulls(okRow("job"), func(r *PredictionRow) { r.TransformJob = "" }),
			notOK(okRow("label"), StatusMissing, "no output object"),
		}},
		{name: "every nullable column null", rows: []PredictionRow{
			notOK(nulls(okRow("r1"), func(r *PredictionRow) { r.Model, r.TransformJob = "", "" }), StatusInvalid, "got 4 probabilities, want 5 (one per class)"),
		}},
		{
			name: "rows not ok have no prediction, whatever they hold",
			rows: []PredictionRow{
				nulls(okRow("r1"), func(r *PredictionRow) { r.Status, r.Reason = StatusMissing, "no output object" }),
				nulls(okRow("r2"), func(r *PredictionRow) { r.Status, r.Reason = StatusInvalid, "probability 2 is 1.7, want [0, 1]" }),
			},
			want: []PredictionRow{
				notOK(okRow("r1"), StatusMissing, "no output object"),
				notOK(okRow("r2"), StatusInvalid, "probability 2 is 1.7, want [0, 1]"),
			},
		},
		{name: "unicode and odd values", rows: []PredictionRow{
			nulls(okRow("фото-猫"), func(r *PredictionRow) {
				r.ImageURI, r.OutputURI = "s3://bücket/🐈‍⬛ 1.jpg", "s3://out/quote\"tab\tnewline\n.jpg.out"
				r.ClassName, r.Label = "half-length 👗", math.MaxInt32
				r.Probabilities = []float64{math.SmallestNonzeroFloat64, 1, math.Inf(1), math.NaN()}
				r.Confidence, r.Margin = math.Inf(-1), -0.5
			}),
			{ImageURI: "", Status: StatusMissing, Reason: " ", Label: 7, Confidence: 3, Margin: 4}, // every string empty
		}, want: []PredictionRow{
			nulls(okRow("фото-猫"), func(r *PredictionRow) {
				r.ImageURI, r.OutputURI = "s3://bücket/🐈‍⬛ 1.jpg", "s3://out/quote\"tab\tnewline\n.jpg.out"
				r.ClassName, r.Label = "half-length 👗", math.MaxInt32
				r.Probabilities = []float64{math.SmallestNonzeroFloat64, 1, math.Inf(1), math.NaN()}
				r.Confidence, r.Margin = math.Inf(-1), -0.5
			}),
			{Status: StatusMissing, Reason: " ", Label: -1, Confidence: math.NaN(), Margin: math.NaN()},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == nil {
				want = tt.rows
			}
			got := readPredictions(t, writePredictions(t, checkedAllocator(t), tt.rows, 2))
			if diff := cmp.Diff(want, got, cmpPredictions); diff != "" {
				t.Errorf("rows read back (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPredictionWriterBatches writes more rows than a batch holds: they are
// written batch by batch, as row groups, with the writer's memory bounded
// by a batch, not the day.
func TestPredictionWriterBatches(t *testing.T) {
	const n = 3*predictionBatchRows + 123
	mem := checkedAllocator(t)
	var buf bytes.Buffer
	pw, err := newPredictionWriter(&buf, mem)
	if err != nil {
		t.Fatal(err)
	}
	var firstPeak, peak int
	for i := range n {
		row := okRow(fmt.Sprintf("r%06d", i))
		if i%7 == 0 {
			row.SetFailed(StatusMissing, "no output object")
		}
		if err := pw.Write(row); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 0 {
			peak = max(peak, mem.CurrentAlloc())
			if i < 2*predictionBatchRows {
				firstPeak = peak
			}
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("peak %d, first two batches %d", peak, firstPeak)
	if peak > firstPeak*3/2 {
		t.Errorf("memory held: %d bytes at most over the first two batches, %d over %d batches: it grows with the rows", firstPeak, peak, n/predictionBatchRows+1)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pf.NumRowGroups(), 4; got != want {
		t.Errorf("%d row groups, want %d (one per batch)", got, want)
	}
	pf.Close()
	rows := readPredictions(t, buf.Bytes())
	if len(rows) != n {
		t.Fatalf("read %d rows, want %d", len(rows), n)
	}
	for i, r := range rows {
		id := fmt.Sprintf("r%06d", i)
		if r.ReviewID != id || (r.Status == StatusOK) != (i%7 != 0) {
			t.Fatalf("row %d: review %s status %s, want review %s", i, r.ReviewID, r.Status, id)
		}
		if i%1000 != 0 && i%7 != 0 {
			continue // cmp is slow: compare a sample in full
		}
		want := okRow(id)
		if i%7 == 0 {
			want.SetFailed(StatusMissing, "no output object")
		}
		if diff := cmp.Diff(want, r, cmpPredictions); diff != "" {
			t.Fatalf("row %d (-want +got):\n%s", i, diff)
		}
	}
	// Each row has its own slice of probabilities: appending to one does
	// not write into the next.
	_ = append(rows[1].Probabilities, 1)
	if got := rows[2].Probabilities[0]; got != 0.01 {
		t.Errorf("row 2 probability 0 = %v after appending to row 1's, want 0.01", got)
	}
}

func TestPredictionWriterRefuses(t *testing.T) {
	tests := []struct {
		name string
		row  PredictionRow
		want string
	}{
		{name: "unknown status", row: nulls(okRow("r1"), func(r *PredictionRow) { r.Status = "OK" }),
			want: `predictions row 3: status "OK", want ok, missing or invalid`},
		{name: "no status", row: nulls(okRow("r1"), func(r *PredictionRow) { r.Status = "" }),
			want: `predictions row 3: status "", want ok, missing or invalid`},
		{name: "missing without a reason", row: notOK(okRow("r1"), StatusMissing, ""),
			want: "predictions row 3: status missing with no reason, want one"},
		{name: "invalid without a reason", row: notOK(okRow("r1"), StatusInvalid, ""),
			want: "predictions row 3: status invalid with no reason, want one"},
		{name: "ok without a label", row: nulls(okRow("r1"), func(r *PredictionRow) { r.Label = -1 }),
			want: "predictions row 3: status ok with label -1, want a class index from 0"},
		{name: "label too big", row: nulls(okRow("r1"), func(r *PredictionRow) { r.Label = math.MaxInt32 + 1 }),
			want: "predictions row 3: status ok with label 2147483648, want a class index from 0"},
		{name: "negative image index", row: nulls(okRow("r1"), func(r *PredictionRow) { r.ImageIndex = -1 }),
			want: "predictions row 3: image_index -1, want 0 to 2147483647"},
		{name: "image index too big", row: nulls(okRow("r1"), func(r *PredictionRow) { r.ImageIndex = math.MaxInt32 + 1 }),
			want: "predictions row 3: image_index 2147483648, want 0 to 2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			pw, err := newPredictionWriter(&buf, checkedAllocator(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := pw.Write(okRow("r0")); err != nil {
				t.Fatal(err)
			}
			// The bad row is the third given, the second of its call: the
			// first of the call is not written either.
			err = pw.Write(okRow("before"), tt.row)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Write: %v, want %s", err, tt.want)
			}
			if err := pw.Write(okRow("after")); err != nil {
				t.Errorf("Write after a refused row: %v", err)
			}
			if err := pw.Close(); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range readPredictions(t, buf.Bytes()) {
				ids = append(ids, r.ReviewID)
			}
			if diff := cmp.Diff([]string{"r0", "after"}, ids); diff != "" {
				t.Errorf("rows written (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPredictionWriterClosed(t *testing.T) {
	var buf bytes.Buffer
	pw, err := newPredictionWriter(&buf, checkedAllocator(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pw.Write(okRow("r1")); err == nil || !strings.Contains(err.Error(), "write after close") {
		t.Errorf("Write after Close: %v, want write after close", err)
	}
	if err := pw.Close(); err == nil {
		t.Error("second Close succeeded")
	}
	if rows := readPredictions(t, buf.Bytes()); len(rows) != 0 {
		t.Errorf("read %d rows, want 0", len(rows))
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestPredictionWriterWriteError(t *testing.T) {
	// Not a checked allocator: when its sink fails mid-row-group, pqarrow
	// (arrow-go v18.8.0) keeps references to the batch's arrays, which only
	// the garbage collector frees.
	pw, err := newPredictionWriter(&failingWriter{n: 4}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]PredictionRow, predictionBatchRows)
	for i := range rows {
		rows[i] = okRow("r1")
	}
	err = pw.Write(rows...)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write of a full batch to a failing writer: %v, want disk full", err)
	}
	if err := pw.Write(okRow("r2")); err == nil {
		t.Error("Write after a failed write succeeded")
	}
	if err := pw.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close: %v, want the write error", err)
	}
}

func TestReadPredictionsOtherTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteStaged(&buf, []Staged{{ReviewID: "r1", ReviewType: ProductReview, Day: "2026-11-28"}}); err != nil {
		t.Fatal(err)
	}
	_, err := ReadPredictions(bytes.NewReader(buf.Bytes()), "in/staged.parquet")
	var mm *table.MismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("ReadPredictions of a staged table: %v, want a *table.MismatchError", err)
	}
	if got, want := err.Error(), `in/staged.parquet: is a reviewlens "staged" table, want "predictions"`; got != want {
		t.Errorf("error %q, want %q", got, want)
	}
	_, err = ReadPredictions(bytes.NewReader([]byte("not parquet")), "x.parquet")
	if err == nil || !strings.HasPrefix(err.Error(), "x.parquet: ") {
		t.Errorf("ReadPredictions of a non-Parquet file: %v, want an error naming x.parquet", err)
	}
}

// The predictions step's core: a row per staged photo, from its output
// object or its absence.
func TestPredictionRowFromOutput(t *testing.T) {
	s := &Staged{
		ReviewID: "r1", ReviewType: StyleReview, ImageIndex: 3, ImageURI: "s3://photos/r1-3.jpg",
		InputURI: "s3://in/r1/3.jpg", InputKey: "r1/3.jpg", OutputKey: "r1/3.jpg.out", Day: "2026-11-28",
	}
	base := NewPredictionRow(s, "s3://out/2026-11-28/r1/3.jpg.out")
	classes := []string{"product", "packaging", "full-length", "half-length", "other"}
	outputs := map[string]PredictionRow{}
	for _, name := range []string{"ok.jpg.out", "sumoff.jpg.out", "big.jpg.out"} {
		data, err := os.ReadFile(filepath.Join("testdata", "predictions", name))
		if err != nil {
			t.Fatal(err)
		}
		row := base
		p, err := ParsePrediction(data, len(classes))
		var pe *PredictionError
		switch {
		case err == nil:
			row.SetOK(p, classes[p.Label])
		case errors.As(err, &pe):
			row.SetFailed(StatusInvalid, pe.Reason)
		default:
			t.Fatal(err)
		}
		outputs[name] = row
	}
	missing := base
	missing.SetFailed(StatusMissing, "no output object")
	outputs["none"] = missing

	common := PredictionRow{
		ReviewID: "r1", ReviewType: StyleReview, ImageIndex: 3, ImageURI: "s3://photos/r1-3.jpg",
		OutputURI: "s3://out/2026-11-28/r1/3.jpg.out", Day: "2026-11-28",
	}
	with := func(set func(*PredictionRow)) PredictionRow { return nulls(common, set) }
	want := map[string]PredictionRow{
		"ok.jpg.out": with(func(r *PredictionRow) {
			r.Status, r.Label, r.ClassName, r.Confidence, r.Margin = StatusOK, 1, "packaging", 0.97, 0.97-0.01
			r.Probabilities = []float64{0.01, 0.97, 0.01, 0.005, 0.005}
		}),
		"sumoff.jpg.out": with(func(r *PredictionRow) {
			r.Status, r.Reason = StatusOK, "probabilities sum to 0.9, want 1 (within 0.001)"
			r.Label, r.ClassName, r.Confidence, r.Margin = 1, "packaging", 0.87, 0.87-0.01
			r.Probabilities = []float64{0.01, 0.87, 0.01, 0.005, 0.005}
		}),
		"big.jpg.out": with(func(r *PredictionRow) {
			r.Status, r.Reason = StatusInvalid, "probability 2 is 1.7, want [0, 1]"
			r.Label, r.Confidence, r.Margin = -1, math.NaN(), math.NaN()
		}),
		"none": with(func(r *PredictionRow) {
			r.Status, r.Reason = StatusMissing, "no output object"
			r.Label, r.Confidence, r.Margin = -1, math.NaN(), math.NaN()
		}),
	}
	if diff := cmp.Diff(want, outputs, cmpPredictions); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	var rows []PredictionRow
	for _, name := range []string{"ok.jpg.out", "sumoff.jpg.out", "big.jpg.out", "none"} {
		rows = append(rows, outputs[name])
	}
	got := readPredictions(t, writePredictions(t, checkedAllocator(t), rows, len(rows)))
	if diff := cmp.Diff(rows, got, cmpPredictions); diff != "" {
		t.Errorf("rows read back (-want +got):\n%s", diff)
	}
}
