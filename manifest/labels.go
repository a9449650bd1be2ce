package manifest

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/reviewlens/reviewlens/table"
)

// Splits of the labels table.
const (
	SplitTrain      = "train"
	SplitValidation = "validation"
)

// LabelsTable is the labels table (labels.parquet): one row per labelled
// photo and class (a multi-label photo has a row for each of its classes).
var LabelsTable = table.Def{
	Name:    "labels",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "source_ref", Type: arrow.BinaryTypes.String},
		{Name: "label", Type: arrow.PrimitiveTypes.Int32},
		{Name: "class_name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "confidence", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "human_annotated", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "job_name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "annotated_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "split", Type: arrow.BinaryTypes.String},
	}, nil),
}

// A LabelRow is one row of the labels table.
type LabelRow struct {
	SourceRef string
	Label     int
	ClassName string // "" = null: the class was not named by then
	// Confidence is NaN when the manifest gave none.
	Confidence  float64
	Human       *bool     // nil when the manifest did not say
	JobName     string    // "" = null
	AnnotatedAt time.Time // zero = null
	Split       string
}

// labelColumns gathers the values of a run of label rows as Parquet column
// slices, ready for a table.ColumnWriter. Byte arrays point into the
// callers' buffers: write before those are reused.
type labelColumns struct {
	src, class, job, split                     []parquet.ByteArray
	classDef, confDef, humanDef, jobDef, atDef []int16
	label                                      []int32
	conf                                       []float64
	human                                      []bool
	at                                         []int64
	rows                                       int
}

var (
	splitTrain      = parquet.ByteArray(SplitTrain)
	splitValidation = parquet.ByteArray(SplitValidation)
)

func (lc *labelColumns) reset() {
	*lc = labelColumns{
		src: lc.src[:0], class: lc.class[:0], job: lc.job[:0], split: lc.split[:0],
		classDef: lc.classDef[:0], confDef: lc.confDef[:0], humanDef: lc.humanDef[:0], jobDef: lc.jobDef[:0], atDef: lc.atDef[:0],
		label: lc.label[:0], conf: lc.conf[:0], human: lc.human[:0], at: lc.at[:0],
	}
}

// add appends one row. A nil className or job, a NaN conf, a negative human
// and !atOK are nulls.
func (lc *labelColumns) add(src []byte, label int, className []byte, conf float64, human int8, job []byte, at int64, atOK, validation bool) {
	lc.rows++
	lc.src = append(lc.src, src)
	lc.label = append(lc.label, int32(label))
	lc.classDef = appendBytes(&lc.class, lc.classDef, className)
	if math.IsNaN(conf) {
		lc.confDef = append(lc.confDef, 0)
	} else {
		lc.confDef = append(lc.confDef, 1)
		lc.conf = append(lc.conf, conf)
	}
	if human < 0 {
		lc.humanDef = append(lc.humanDef, 0)
	} else {
		lc.humanDef = append(lc.humanDef, 1)
		lc.human = append(lc.human, human == 1)
	}
	lc.jobDef = appendBytes(&lc.job, lc.jobDef, job)
	if atOK {
		lc.atDef = append(lc.atDef, 1)
		lc.at = append(lc.at, at)
	} else {
		lc.atDef = append(lc.atDef, 0)
	}
	if validation {
		lc.split = append(lc.split, splitValidation)
	} else {
		lc.split = append(lc.split, splitTrain)
	}
}

func appendBytes(vals *[]parquet.ByteArray, def []int16, b []byte) []int16 {
	if b == nil {
		return append(def, 0)
	}
	*vals = append(*vals, b)
	return append(def, 1)
}

// write hands the gathered rows to cw, in the column order of LabelsTable.
func (lc *labelColumns) write(cw *table.ColumnWriter) error {
	if lc.rows == 0 {
		return nil
	}
	bytesCol := func(v []parquet.ByteArray, def []int16) func(file.ColumnChunkWriter) error {
		return func(w file.ColumnChunkWriter) error {
			_, err := w.(*file.ByteArrayColumnChunkWriter).WriteBatch(v, def, nil)
			return err
		}
	}
	cols := []func(file.ColumnChunkWriter) error{
		bytesCol(lc.src, nil),
		func(w file.ColumnChunkWriter) error {
			_, err := w.(*file.Int32ColumnChunkWriter).WriteBatch(lc.label, nil, nil)
			return err
		},
		bytesCol(lc.class, lc.classDef),
		func(w file.ColumnChunkWriter) error {
			_, err := w.(*file.Float64ColumnChunkWriter).WriteBatch(lc.conf, lc.confDef, nil)
			return err
		},
		func(w file.ColumnChunkWriter) error {
			_, err := w.(*file.BooleanColumnChunkWriter).WriteBatch(lc.human, lc.humanDef, nil)
			return err
		},
		bytesCol(lc.job, lc.jobDef),
		func(w file.ColumnChunkWriter) error {
			_, err := w.(*file.Int64ColumnChunkWriter).WriteBatch(lc.at, lc.atDef, nil)
			return err
		},
		bytesCol(lc.split, nil),
	}
	for i, write := range cols {
		w, err := cw.Column(i)
		if err != nil {
			return err
		}
		if err := write(w); err != nil {
			return fmt.Errorf("labels table: column %s: %w", LabelsTable.Schema.Field(i).Name, err)
		}
	}
	return cw.EndRows(lc.rows)
}

// WriteLabels writes rows as a labels table; for small tables and tests.
func WriteLabels(w io.Writer, rows []LabelRow) error {
	cw, err := table.NewColumnWriter(w, LabelsTable, table.WriterOptions{})
	if err != nil {
		return err
	}
	var lc labelColumns
	for i, r := range rows {
		if r.Split != SplitTrain && r.Split != SplitValidation {
			return fmt.Errorf("labels row %d: split %q, want %q or %q", i, r.Split, SplitTrain, SplitValidation)
		}
		var class, job []byte
		if r.ClassName != "" {
			class = []byte(r.ClassName)
		}
		if r.JobName != "" {
			job = []byte(r.JobName)
		}
		human := int8(-1)
		if r.Human != nil {
			human = 0
			if *r.Human {
				human = 1
			}
		}
		lc.add([]byte(r.SourceRef), r.Label, class, r.Confidence, human, job,
			r.AnnotatedAt.UnixMicro(), !r.AnnotatedAt.IsZero(), r.Split == SplitValidation)
	}
	if err := lc.write(cw); err != nil {
		return err
	}
	return cw.Close()
}

// ReadLabels reads a whole labels table; name is used in error messages.
func ReadLabels(ctx context.Context, r parquet.ReaderAtSeeker, name string) ([]LabelRow, error) {
	tr, err := table.Open(r, name, LabelsTable)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	rows := make([]LabelRow, 0, tr.NumRows())
	err = tr.Each(ctx, func(rec arrow.RecordBatch) error {
		src := rec.Column(0).(*array.String)
		label := rec.Column(1).(*array.Int32)
		class := rec.Column(2).(*array.String)
		conf := rec.Column(3).(*array.Float64)
		human := rec.Column(4).(*array.Boolean)
		job := rec.Column(5).(*array.String)
		at := rec.Column(6).(*array.Timestamp)
		split := rec.Column(7).(*array.String)
		for i := range int(rec.NumRows()) {
			row := LabelRow{
				SourceRef:  src.Value(i),
				Label:      int(label.Value(i)),
				ClassName:  class.Value(i),
				Confidence: math.NaN(),
				JobName:    job.Value(i),
				Split:      split.Value(i),
			}
			if conf.IsValid(i) {
				row.Confidence = conf.Value(i)
			}
			if human.IsValid(i) {
				h := human.Value(i)
				row.Human = &h
			}
			if at.IsValid(i) {
				row.AnnotatedAt = time.UnixMicro(int64(at.Value(i))).UTC()
			}
			rows = append(rows, row)
		}
		return nil
	})
	return rows, err
}
