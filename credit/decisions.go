package credit

import (
	"context"
	"errors"
	"io"
	"iter"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/reviewlens/reviewlens/table"
)

// DecisionsTable is decisions.parquet: one row per review of a day, with
// what a person needs to audit it line by line.
//
// Version 2 added audit and auto_decision (a review of the audit sample:
// Decision.Audit and Decision.AutoDecision) and grant_credit
// (DecisionRow.GrantCredit). Files of version 1 are still read.
var DecisionsTable = table.Def{
	Name:    "decisions",
	Version: 2,
	Schema:  arrow.NewSchema(append(decisionsV1.Schema.Fields(), decisionsV2Fields...), nil),
}

// decisionsV1 is the decisions table before the audits.
var decisionsV1 = table.Def{
	Name:    "decisions",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "review_id", Type: arrow.BinaryTypes.String},
		{Name: "review_type", Type: arrow.BinaryTypes.String},
		{Name: "decision", Type: arrow.BinaryTypes.String},
		{Name: "credit", Type: arrow.PrimitiveTypes.Int64},
		{Name: "photo_classes", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "photo_confidences", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
		{Name: "reasons", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "policy_version", Type: arrow.BinaryTypes.String},
		{Name: "model", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "transform_job", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "day", Type: arrow.BinaryTypes.String},
	}, nil),
}

// decisionsV2Fields are the columns version 2 added, after the others.
var decisionsV2Fields = []arrow.Field{
	{Name: "audit", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "auto_decision", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "grant_credit", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}

// A DecisionRow is a row of the decisions table: a Decision and where it
// came from.
type DecisionRow struct {
	Decision
	PolicyVersion string
	Model         string // "" = null
	TransformJob  string // "" = null
	Day           string
	// GrantCredit is the credit a grant of the review earns, whoever
	// grants it: the rule's credit for the review's type, so that a
	// person's grant of a manual decision is paid what the policy would
	// have paid. Negative (null in the table) when not known: a review
	// type with no rule, a file of version 1. On a Grant it is Credit.
	GrantCredit int64
}

// WriteDecisions writes rows as a decisions table. A photo's class is null
// ("" in Decision.Classes) and its confidence null (NaN) when it had no
// usable prediction.
func WriteDecisions(w io.Writer, rows []DecisionRow) error {
	tw, err := table.NewWriter(w, DecisionsTable, table.WriterOptions{})
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, DecisionsTable.Schema)
	defer b.Release()
	str := func(i int, s string) { b.Field(i).(*array.StringBuilder).Append(s) }
	nullStr := func(i int, s string) {
		if s == "" {
			b.Field(i).(*array.StringBuilder).AppendNull()
		} else {
			str(i, s)
		}
	}
	flush := func() error {
		rec := b.NewRecordBatch()
		defer rec.Release()
		if rec.NumRows() == 0 {
			return nil
		}
		return tw.Write(rec)
	}
	for i, r := range rows {
		str(0, r.ReviewID)
		str(1, r.ReviewType)
		str(2, r.Decision.Decision)
		b.Field(3).(*array.Int64Builder).Append(r.Credit)
		table.AppendStrings(b.Field(4).(*array.ListBuilder), r.Classes, true)
		table.AppendFloats(b.Field(5).(*array.ListBuilder), r.Confidences)
		table.AppendStrings(b.Field(6).(*array.ListBuilder), r.Reasons, false)
		str(7, r.PolicyVersion)
		nullStr(8, r.Model)
		nullStr(9, r.TransformJob)
		str(10, r.Day)
		b.Field(11).(*array.BooleanBuilder).Append(r.Audit)
		nullStr(12, r.AutoDecision)
		if r.GrantCredit < 0 {
			b.Field(13).(*array.Int64Builder).AppendNull()
		} else {
			b.Field(13).(*array.Int64Builder).Append(r.GrantCredit)
		}
		if (i+1)%16384 == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return tw.Close()
}

// ReadDecisions reads a decisions table; name is used in error messages.
func ReadDecisions(ctx context.Context, r parquet.ReaderAtSeeker, name string) ([]DecisionRow, error) {
	dr, err := OpenDecisions(r, name)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	rows := make([]DecisionRow, 0, dr.NumRows())
	for row, err := range dr.All(ctx) {
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// A DecisionsReader reads a decisions table a record batch at a time, so
// a day of a million decisions need not be held as rows.
type DecisionsReader struct {
	tr *table.Reader
	v1 bool // a file of version 1: no audits, grant credits of grants only
}

// OpenDecisions checks that r holds a decisions table (of this version or
// of version 1) and prepares to read it; name is used in error messages.
func OpenDecisions(r parquet.ReaderAtSeeker, name string) (*DecisionsReader, error) {
	tr, err := table.Open(r, name, DecisionsTable)
	var mm *table.MismatchError
	if errors.As(err, &mm) && mm.GotTable == decisionsV1.Name && mm.GotVersion == strconv.Itoa(decisionsV1.Version) {
		if tr, err = table.Open(r, name, decisionsV1); err == nil {
			return &DecisionsReader{tr: tr, v1: true}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return &DecisionsReader{tr: tr}, nil
}

// NumRows reports the rows in the table.
func (r *DecisionsReader) NumRows() int64 { return r.tr.NumRows() }

// Day returns the day of the first row, reading nothing else; "" when the
// table is empty.
func (r *DecisionsReader) Day(ctx context.Context) (string, error) {
	day, _, err := r.tr.FirstString(ctx, decisionsDayLeaf)
	return day, err
}

// decisionsDayLeaf is the Parquet leaf column of day: the eleventh field,
// after three lists of one leaf each.
const decisionsDayLeaf = 10

// Close releases the file.
func (r *DecisionsReader) Close() error { return r.tr.Close() }

// All yields the rows in file order, then stops, or yields one error and
// stops. It may be run more than once, not concurrently. A row's strings
// and slices are its own: they may be kept.
func (r *DecisionsReader) All(ctx context.Context) iter.Seq2[DecisionRow, error] {
	return func(yield func(DecisionRow, error) bool) {
		stopped := false
		err := r.tr.Each(ctx, func(rec arrow.RecordBatch) error {
			str := func(col, i int) string { return rec.Column(col).(*array.String).Value(i) }
			credits := rec.Column(3).(*array.Int64)
			classes := rec.Column(4).(*array.List)
			confs := rec.Column(5).(*array.List)
			reasons := rec.Column(6).(*array.List)
			for i := range int(rec.NumRows()) {
				d := DecisionRow{
					Decision: Decision{
						ReviewID: str(0, i), ReviewType: str(1, i), Decision: str(2, i),
						Credit: credits.Value(i),
					},
					PolicyVersion: str(7, i), Model: str(8, i), TransformJob: str(9, i), Day: str(10, i),
				}
				d.Classes = table.StringsAt(classes, i)
				d.Confidences = table.FloatsAt(confs, i)
				d.Reasons = table.StringsAt(reasons, i)
				switch {
				case r.v1 && d.Decision.Decision == Grant:
					d.GrantCredit = d.Credit
				case r.v1:
					d.GrantCredit = -1
				default:
					d.Audit = rec.Column(11).(*array.Boolean).Value(i)
					d.AutoDecision = str(12, i)
					if gc := rec.Column(13).(*array.Int64); gc.IsNull(i) {
						d.GrantCredit = -1
					} else {
						d.GrantCredit = gc.Value(i)
					}
				}
				if !yield(d, nil) {
					stopped = true
					return errStop
				}
			}
			return nil
		})
		if err != nil && !stopped {
			yield(DecisionRow{}, err)
		}
	}
}

// errStop ends a table read early: the consumer stopped.
var errStop = errors.New("stop")
