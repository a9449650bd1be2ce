package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/reviewlens/reviewlens/table"
)

// PredictionsTable is the predictions table (predictions.parquet): one row
// per staged photo, saying what the transform job predicted for it, or why
// there is no prediction.
//
// The prediction columns (label, class_name, confidence, margin,
// probabilities) are set on ok rows only. probabilities holds one value per
// class in class-index order; its elements are never null.
var PredictionsTable = table.Def{
	Name:    "predictions",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: colReviewID, Type: arrow.BinaryTypes.String},
		{Name: colReviewType, Type: arrow.BinaryTypes.String},
		{Name: colImageIndex, Type: arrow.PrimitiveTypes.Int32},
		{Name: colImageURI, Type: arrow.BinaryTypes.String},
		{Name: "output_uri", Type: arrow.BinaryTypes.String},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "reason", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "label", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "class_name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "confidence", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "margin", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "probabilities", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "model", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "transform_job", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "day", Type: arrow.BinaryTypes.String},
	}, nil),
}

// Column indices of PredictionsTable.
const (
	predReviewID = iota
	predReviewType
	predImageIndex
	predImageURI
	predOutputURI
	predStatus
	predReason
	predLabel
	predClassName
	predConfidence
	predMargin
	predProbabilities
	predModel
	predTransformJob
	predDay
)

// A PredictionRow is one row of the predictions table: one staged photo.
//
// Status decides the prediction columns: on a row that is not ok they are
// written null whatever the row holds, and read back as -1, "", NaN, NaN
// and nil. On an ok row each is written as given, with its own null.
type PredictionRow struct {
	ReviewID   string
	ReviewType string
	ImageIndex int
	ImageURI   string
	OutputURI  string // where the .out object is (or was expected)
	Status     string // StatusOK, StatusMissing or StatusInvalid
	// Reason says why the row is missing or invalid (required then). On an
	// ok row it is "" (null), or a warning about an accepted prediction:
	// Prediction.Warning, when the probabilities do not sum to 1.
	Reason        string
	Label         int       // -1 = null (not ok)
	ClassName     string    // "" = null
	Confidence    float64   // NaN = null
	Margin        float64   // NaN = null
	Probabilities []float64 // nil = null; empty is an empty list
	Model         string    // the SageMaker model ("" = null)
	TransformJob  string    // the transform job ("" = null)
	Day           string    // the inspection day, YYYY-MM-DD
}

// NewPredictionRow starts the row of staged photo s, whose output is (or
// was expected) at outputURI: the photo's columns set and the prediction's
// null. Status is left to SetOK or SetFailed.
func NewPredictionRow(s *Staged, outputURI string) PredictionRow {
	return PredictionRow{
		ReviewID: s.ReviewID, ReviewType: s.ReviewType, ImageIndex: s.ImageIndex, ImageURI: s.ImageURI,
		OutputURI: outputURI, Day: s.Day,
		Label: -1, Confidence: math.NaN(), Margin: math.NaN(),
	}
}

// SetOK makes r an ok row holding p; className is the name of class
// p.Label ("" = null). Reason is p.Warning().
func (r *PredictionRow) SetOK(p Prediction, className string) {
	r.Status, r.Reason = StatusOK, p.Warning()
	r.Label, r.ClassName, r.Confidence, r.Margin = p.Label, className, p.Confidence, p.Margin
	r.Probabilities = p.Probabilities
}

// SetFailed makes r a row with no prediction: status is StatusMissing or
// StatusInvalid, and reason says why (for an invalid output, the
// PredictionError's Reason).
func (r *PredictionRow) SetFailed(status, reason string) {
	r.Status, r.Reason = status, reason
	r.Label, r.ClassName, r.Confidence, r.Margin, r.Probabilities = -1, "", math.NaN(), math.NaN(), nil
}

// check reports what is wrong with r for the table, or "".
func (r *PredictionRow) check() string {
	if r.ImageIndex < 0 || r.ImageIndex > maxImageIndex {
		return fmt.Sprintf("image_index %d, want 0 to %d", r.ImageIndex, maxImageIndex)
	}
	switch r.Status {
	case StatusOK:
		if r.Label < 0 || r.Label > math.MaxInt32 {
			return fmt.Sprintf("status ok with label %d, want a class index from 0", r.Label)
		}
	case StatusMissing, StatusInvalid:
		if r.Reason == "" {
			return fmt.Sprintf("status %s with no reason, want one", r.Status)
		}
	default:
		return fmt.Sprintf("status %q, want %s, %s or %s", r.Status, StatusOK, StatusMissing, StatusInvalid)
	}
	return ""
}

// predictionBatchRows is the rows a PredictionWriter gathers before it
// writes them, as one Parquet row group: its memory does not grow with the
// day.
const predictionBatchRows = 16 << 10

// A PredictionWriter streams rows into a predictions table in batches of
// bounded size (never the whole day). Each batch is a row group.
type PredictionWriter struct {
	tw     *table.Writer
	b      *array.RecordBuilder
	rows   int // rows given to Write, for messages
	closed bool
	err    error // the first write error: the file is broken after it

	str                [predDay + 1]*array.StringBuilder // string columns by index
	index, label       *array.Int32Builder
	confidence, margin *array.Float64Builder
	probabilities      *array.ListBuilder
	probabilityValues  *array.Float64Builder
}

// NewPredictionWriter starts a predictions table on w. Close must be called
// to write the rest of the rows and the footer; it does not close w.
func NewPredictionWriter(w io.Writer) (*PredictionWriter, error) {
	return newPredictionWriter(w, memory.DefaultAllocator)
}

func newPredictionWriter(w io.Writer, mem memory.Allocator) (*PredictionWriter, error) {
	tw, err := table.NewWriter(w, PredictionsTable, table.WriterOptions{
		Allocator: mem,
		// Long, mostly distinct strings: bounds would prune little.
		NoStats: []string{colImageURI, "output_uri", "reason"},
	})
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(mem, PredictionsTable.Schema)
	pw := &PredictionWriter{tw: tw, b: b}
	for i, f := range PredictionsTable.Schema.Fields() {
		if f.Type.ID() == arrow.STRING {
			pw.str[i] = b.Field(i).(*array.StringBuilder)
		}
	}
	pw.index = b.Field(predImageIndex).(*array.Int32Builder)
	pw.label = b.Field(predLabel).(*array.Int32Builder)
	pw.confidence = b.Field(predConfidence).(*array.Float64Builder)
	pw.margin = b.Field(predMargin).(*array.Float64Builder)
	pw.probabilities = b.Field(predProbabilities).(*array.ListBuilder)
	pw.probabilityValues = pw.probabilities.ValueBuilder().(*array.Float64Builder)
	return pw, nil
}

// Write adds rows to the table. Rows are checked first: when one cannot be
// written (a status other than ok, missing or invalid; a missing or
// invalid row without a reason; an ok row without a label; an image_index
// out of range) none of them is, and the error names the row, counted from
// 1 over all calls.
func (pw *PredictionWriter) Write(rows ...PredictionRow) error {
	if pw.closed {
		return errors.New("predictions table: write after close")
	}
	if pw.err != nil {
		return pw.err
	}
	for i := range rows {
		if reason := rows[i].check(); reason != "" {
			return fmt.Errorf("predictions row %d: %s", pw.rows+i+1, reason)
		}
	}
	for i := range rows {
		pw.append(&rows[i])
		pw.rows++
		if pw.b.Field(0).Len() >= predictionBatchRows {
			if err := pw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// append adds r, checked, to the batch being built.
func (pw *PredictionWriter) append(r *PredictionRow) {
	pw.str[predReviewID].Append(r.ReviewID)
	pw.str[predReviewType].Append(r.ReviewType)
	pw.index.Append(int32(r.ImageIndex))
	pw.str[predImageURI].Append(r.ImageURI)
	pw.str[predOutputURI].Append(r.OutputURI)
	pw.str[predStatus].Append(r.Status)
	appendNullable(pw.str[predReason], r.Reason)
	if r.Status == StatusOK {
		pw.label.Append(int32(r.Label))
		appendNullable(pw.str[predClassName], r.ClassName)
		appendFloat(pw.confidence, r.Confidence)
		appendFloat(pw.margin, r.Margin)
		if r.Probabilities == nil {
			pw.probabilities.AppendNull()
		} else {
			pw.probabilities.Append(true)
			pw.probabilityValues.AppendValues(r.Probabilities, nil)
		}
	} else {
		pw.label.AppendNull()
		pw.str[predClassName].AppendNull()
		pw.confidence.AppendNull()
		pw.margin.AppendNull()
		pw.probabilities.AppendNull()
	}
	appendNullable(pw.str[predModel], r.Model)
	appendNullable(pw.str[predTransformJob], r.TransformJob)
	pw.str[predDay].Append(r.Day)
}

// appendFloat appends v, or null for NaN.
func appendFloat(b *array.Float64Builder, v float64) {
	if math.IsNaN(v) {
		b.AppendNull()
		return
	}
	b.Append(v)
}

// flush writes the batch being built, if any.
func (pw *PredictionWriter) flush() error {
	if pw.b.Field(0).Len() == 0 {
		return nil
	}
	rec := pw.b.NewRecordBatch()
	defer rec.Release()
	if err := pw.tw.Write(rec); err != nil {
		pw.err = err
		return err
	}
	return nil
}

// Close writes the rows not yet written and the footer, and releases the
// writer's memory.
func (pw *PredictionWriter) Close() error {
	if pw.closed {
		return errors.New("predictions table: closed twice")
	}
	pw.closed = true
	defer pw.b.Release()
	err := pw.err
	if err == nil {
		err = pw.flush()
	}
	if cerr := pw.tw.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadPredictions reads a whole predictions table; name is used in errors.
func ReadPredictions(r parquet.ReaderAtSeeker, name string) ([]PredictionRow, error) {
	tr, err := table.Open(r, name, PredictionsTable)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	rows := make([]PredictionRow, 0, tr.NumRows())
	err = tr.Each(context.Background(), func(rec arrow.RecordBatch) error {
		if rec.NumRows() == 0 {
			return nil
		}
		str := func(i int) *array.String { return rec.Column(i).(*array.String) }
		index := rec.Column(predImageIndex).(*array.Int32)
		label := rec.Column(predLabel).(*array.Int32)
		confidence := rec.Column(predConfidence).(*array.Float64)
		margin := rec.Column(predMargin).(*array.Float64)
		lists := rec.Column(predProbabilities).(*array.List)
		values := lists.ListValues().(*array.Float64)
		// One backing array for the batch's probabilities; each row gets
		// its own capped slice of it.
		start, _ := lists.ValueOffsets(0)
		_, end := lists.ValueOffsets(lists.Len() - 1)
		probs := make([]float64, end-start)
		copy(probs, values.Float64Values()[start:end])
		float := func(a *array.Float64, i int) float64 {
			if a.IsNull(i) {
				return math.NaN()
			}
			return a.Value(i)
		}
		for i := range int(rec.NumRows()) {
			row := PredictionRow{
				ReviewID:     str(predReviewID).Value(i),
				ReviewType:   str(predReviewType).Value(i),
				ImageIndex:   int(index.Value(i)),
				ImageURI:     str(predImageURI).Value(i),
				OutputURI:    str(predOutputURI).Value(i),
				Status:       str(predStatus).Value(i),
				Reason:       str(predReason).Value(i),
				Label:        -1,
				ClassName:    str(predClassName).Value(i),
				Confidence:   float(confidence, i),
				Margin:       float(margin, i),
				Model:        str(predModel).Value(i),
				TransformJob: str(predTransformJob).Value(i),
				Day:          str(predDay).Value(i),
			}
			if label.IsValid(i) {
				row.Label = int(label.Value(i))
			}
			if lists.IsValid(i) {
				s, e := lists.ValueOffsets(i)
				row.Probabilities = probs[s-start : e-start : e-start]
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}
