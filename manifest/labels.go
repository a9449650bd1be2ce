package manifest

import (
	"context"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/reviewlens/reviewlens/internal/table"
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

// labelsBuilder appends rows to Arrow builders and hands out record batches.
type labelsBuilder struct {
	b                      *array.RecordBuilder
	src, class, job, split *array.StringBuilder
	label                  *array.Int32Builder
	conf                   *array.Float64Builder
	human                  *array.BooleanBuilder
	at                     *array.TimestampBuilder
}

func newLabelsBuilder(mem memory.Allocator) *labelsBuilder {
	b := array.NewRecordBuilder(mem, LabelsTable.Schema)
	return &labelsBuilder{
		b:     b,
		src:   b.Field(0).(*array.StringBuilder),
		label: b.Field(1).(*array.Int32Builder),
		class: b.Field(2).(*array.StringBuilder),
		conf:  b.Field(3).(*array.Float64Builder),
		human: b.Field(4).(*array.BooleanBuilder),
		job:   b.Field(5).(*array.StringBuilder),
		at:    b.Field(6).(*array.TimestampBuilder),
		split: b.Field(7).(*array.StringBuilder),
	}
}

// appendEntry adds a row for every label of e; className names a class
// ("" when unknown).
func (lb *labelsBuilder) appendEntry(e *entry, validation bool, className func(int) string) {
	for _, l := range e.labels {
		lb.src.Append(unsafeString(e.sourceRef))
		lb.label.Append(int32(l.index))
		switch {
		case len(l.name) > 0:
			lb.class.Append(unsafeString(l.name))
		case className(l.index) != "":
			lb.class.Append(className(l.index))
		default:
			lb.class.AppendNull()
		}
		if math.IsNaN(l.conf) {
			lb.conf.AppendNull()
		} else {
			lb.conf.Append(l.conf)
		}
		if e.human < 0 {
			lb.human.AppendNull()
		} else {
			lb.human.Append(e.human == 1)
		}
		if e.jobName == nil {
			lb.job.AppendNull()
		} else {
			lb.job.Append(unsafeString(e.jobName))
		}
		if e.createdOK {
			lb.at.Append(arrow.Timestamp(e.createdAt))
		} else {
			lb.at.AppendNull()
		}
		if validation {
			lb.split.Append(SplitValidation)
		} else {
			lb.split.Append(SplitTrain)
		}
	}
}

func (lb *labelsBuilder) len() int { return lb.src.Len() }

func (lb *labelsBuilder) batch() arrow.RecordBatch { return lb.b.NewRecordBatch() }

func (lb *labelsBuilder) release() { lb.b.Release() }

// WriteLabels writes rows as a labels table; for small tables and tests.
func WriteLabels(w interface{ Write([]byte) (int, error) }, rows []LabelRow) error {
	tw, err := table.NewWriter(w, LabelsTable, table.WriterOptions{})
	if err != nil {
		return err
	}
	lb := newLabelsBuilder(memory.DefaultAllocator)
	defer lb.release()
	for _, r := range rows {
		lb.src.Append(r.SourceRef)
		lb.label.Append(int32(r.Label))
		appendNullString(lb.class, r.ClassName)
		if math.IsNaN(r.Confidence) {
			lb.conf.AppendNull()
		} else {
			lb.conf.Append(r.Confidence)
		}
		if r.Human == nil {
			lb.human.AppendNull()
		} else {
			lb.human.Append(*r.Human)
		}
		appendNullString(lb.job, r.JobName)
		if r.AnnotatedAt.IsZero() {
			lb.at.AppendNull()
		} else {
			lb.at.Append(arrow.Timestamp(r.AnnotatedAt.UnixMicro()))
		}
		lb.split.Append(r.Split)
	}
	rec := lb.batch()
	defer rec.Release()
	if err := tw.Write(rec); err != nil {
		return err
	}
	return tw.Close()
}

func appendNullString(b *array.StringBuilder, s string) {
	if s == "" {
		b.AppendNull()
	} else {
		b.Append(s)
	}
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
