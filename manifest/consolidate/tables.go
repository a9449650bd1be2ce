package consolidate

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/reviewlens/reviewlens/table"
)

// WorkersTable is the workers table (workers.parquet): one row per
// inspector, sorted by inspector_id. confusion[c][l] is the probability
// that the inspector answers class l when the photo is of class c, class
// indices in the class list's order.
var WorkersTable = table.Def{
	Name:    "workers",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "inspector_id", Type: arrow.BinaryTypes.String},
		{Name: "labels", Type: arrow.PrimitiveTypes.Int64},
		{Name: "accuracy", Type: arrow.PrimitiveTypes.Float64},
		{Name: "agreement", Type: arrow.PrimitiveTypes.Float64},
		{Name: "weight", Type: arrow.PrimitiveTypes.Float64},
		{Name: "trust_accuracy", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "confusion", Type: arrow.ListOfNonNullable(arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float64))},
	}, nil),
}

// A WorkerRow is one row of the workers table: what was learned of one
// inspector.
type WorkerRow struct {
	InspectorID string
	Labels      int // answers consolidated
	// Accuracy is the estimated share of the inspector's answers that are
	// right: the mean posterior of the classes they answered.
	Accuracy float64
	// Agreement is the share of their answers equal to the consolidated
	// label.
	Agreement float64
	// Weight is the vote weight: the one used (Majority, PlainMajority), or
	// the log-odds of Accuracy (DawidSkene), a value a trust file can take.
	Weight float64
	// TrustAccuracy is the accuracy the trust gave; NaN (null) for none.
	TrustAccuracy float64
	// Confusion is [true class][answered class] → probability.
	Confusion [][]float64
}

// DisagreementsTable is the disagreements table (disagreements.parquet):
// one row per photo whose chosen class has a posterior below the
// threshold, lowest confidence first, for a second look. inspectors and
// answers are parallel lists: who answered, and which class name.
var DisagreementsTable = table.Def{
	Name:    "disagreements",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "source_ref", Type: arrow.BinaryTypes.String},
		{Name: "label", Type: arrow.PrimitiveTypes.Int32},
		{Name: "class_name", Type: arrow.BinaryTypes.String},
		{Name: "confidence", Type: arrow.PrimitiveTypes.Float64},
		{Name: "posterior", Type: arrow.ListOfNonNullable(arrow.PrimitiveTypes.Float64)},
		{Name: "inspectors", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String)},
		{Name: "answers", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String)},
	}, nil),
}

// A DisagreementRow is one row of the disagreements table.
type DisagreementRow struct {
	SourceRef  string
	Label      int
	ClassName  string
	Confidence float64
	Posterior  []float64 // every class, in class index order
	Inspectors []string  // who answered, by inspector id
	Answers    []string  // the class name each answered
}

// WriteWorkers writes rows as a workers table.
func WriteWorkers(w io.Writer, rows []WorkerRow) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, WorkersTable.Schema)
	defer b.Release()
	id := b.Field(0).(*array.StringBuilder)
	labels := b.Field(1).(*array.Int64Builder)
	acc := b.Field(2).(*array.Float64Builder)
	agree := b.Field(3).(*array.Float64Builder)
	weight := b.Field(4).(*array.Float64Builder)
	trust := b.Field(5).(*array.Float64Builder)
	conf := b.Field(6).(*array.ListBuilder)
	confRow := conf.ValueBuilder().(*array.ListBuilder)
	for _, r := range rows {
		id.Append(r.InspectorID)
		labels.Append(int64(r.Labels))
		acc.Append(r.Accuracy)
		agree.Append(r.Agreement)
		weight.Append(r.Weight)
		if math.IsNaN(r.TrustAccuracy) {
			trust.AppendNull()
		} else {
			trust.Append(r.TrustAccuracy)
		}
		conf.Append(true)
		for _, row := range r.Confusion {
			confRow.Append(true)
			confRow.ValueBuilder().(*array.Float64Builder).AppendValues(row, nil)
		}
	}
	return writeRecord(w, WorkersTable, b)
}

// ReadWorkers reads a whole workers table; name is used in errors.
func ReadWorkers(ctx context.Context, r parquet.ReaderAtSeeker, name string) ([]WorkerRow, error) {
	tr, err := table.Open(r, name, WorkersTable)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	var rows []WorkerRow
	err = tr.Each(ctx, func(rec arrow.RecordBatch) error {
		id := rec.Column(0).(*array.String)
		labels := rec.Column(1).(*array.Int64)
		acc := rec.Column(2).(*array.Float64)
		agree := rec.Column(3).(*array.Float64)
		weight := rec.Column(4).(*array.Float64)
		trust := rec.Column(5).(*array.Float64)
		conf := rec.Column(6).(*array.List)
		inner := conf.ListValues().(*array.List)
		for i := range int(rec.NumRows()) {
			r := WorkerRow{
				InspectorID:   id.Value(i),
				Labels:        int(labels.Value(i)),
				Accuracy:      acc.Value(i),
				Agreement:     agree.Value(i),
				Weight:        weight.Value(i),
				TrustAccuracy: math.NaN(),
			}
			if trust.IsValid(i) {
				r.TrustAccuracy = trust.Value(i)
			}
			start, end := conf.ValueOffsets(i)
			for j := start; j < end; j++ {
				r.Confusion = append(r.Confusion, table.FloatsAt(inner, int(j)))
			}
			rows = append(rows, r)
		}
		return nil
	})
	return rows, err
}

// WriteDisagreements writes rows as a disagreements table.
func WriteDisagreements(w io.Writer, rows []DisagreementRow) error {
	tw, err := table.NewWriter(w, DisagreementsTable, table.WriterOptions{NoStats: []string{"source_ref"}})
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, DisagreementsTable.Schema)
	defer b.Release()
	src := b.Field(0).(*array.StringBuilder)
	label := b.Field(1).(*array.Int32Builder)
	class := b.Field(2).(*array.StringBuilder)
	conf := b.Field(3).(*array.Float64Builder)
	post := b.Field(4).(*array.ListBuilder)
	insp := b.Field(5).(*array.ListBuilder)
	ans := b.Field(6).(*array.ListBuilder)
	postV := post.ValueBuilder().(*array.Float64Builder)
	inspV := insp.ValueBuilder().(*array.StringBuilder)
	ansV := ans.ValueBuilder().(*array.StringBuilder)
	flush := func() error {
		rec := b.NewRecordBatch()
		defer rec.Release()
		return tw.Write(rec)
	}
	for i, r := range rows {
		if len(r.Inspectors) != len(r.Answers) {
			return fmt.Errorf("disagreements row %s: %d inspectors, %d answers: want as many", r.SourceRef, len(r.Inspectors), len(r.Answers))
		}
		src.Append(r.SourceRef)
		label.Append(int32(r.Label))
		class.Append(r.ClassName)
		conf.Append(r.Confidence)
		post.Append(true)
		postV.AppendValues(r.Posterior, nil)
		insp.Append(true)
		ans.Append(true)
		for j := range r.Inspectors {
			// One at a time: AppendValues reserves exactly what it adds,
			// which grows the buffer once a row.
			inspV.Append(r.Inspectors[j])
			ansV.Append(r.Answers[j])
		}
		if (i+1)%(64<<10) == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if b.Field(0).Len() > 0 || len(rows) == 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	return tw.Close()
}

// ReadDisagreements reads a whole disagreements table; name is used in
// errors.
func ReadDisagreements(ctx context.Context, r parquet.ReaderAtSeeker, name string) ([]DisagreementRow, error) {
	tr, err := table.Open(r, name, DisagreementsTable)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	var rows []DisagreementRow
	err = tr.Each(ctx, func(rec arrow.RecordBatch) error {
		src := rec.Column(0).(*array.String)
		label := rec.Column(1).(*array.Int32)
		class := rec.Column(2).(*array.String)
		conf := rec.Column(3).(*array.Float64)
		post := rec.Column(4).(*array.List)
		insp := rec.Column(5).(*array.List)
		ans := rec.Column(6).(*array.List)
		for i := range int(rec.NumRows()) {
			rows = append(rows, DisagreementRow{
				SourceRef:  src.Value(i),
				Label:      int(label.Value(i)),
				ClassName:  class.Value(i),
				Confidence: conf.Value(i),
				Posterior:  table.FloatsAt(post, i),
				Inspectors: table.StringsAt(insp, i),
				Answers:    table.StringsAt(ans, i),
			})
		}
		return nil
	})
	return rows, err
}

func writeRecord(w io.Writer, def table.Def, b *array.RecordBuilder) error {
	rec := b.NewRecordBatch()
	defer rec.Release()
	tw, err := table.NewWriter(w, def, table.WriterOptions{})
	if err != nil {
		return err
	}
	if err := tw.Write(rec); err != nil {
		return err
	}
	return tw.Close()
}
