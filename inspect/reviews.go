package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/reviewlens/reviewlens/internal/arrowcol"
	"github.com/reviewlens/reviewlens/table"
)

// timestampUS is the type of every time column: TIMESTAMP(us, UTC).
var timestampUS = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// ReviewsTable is the reviews table (reviews.parquet): one row per review
// photo.
var ReviewsTable = table.Def{
	Name:    "reviews",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: colReviewID, Type: arrow.BinaryTypes.String},
		{Name: colReviewType, Type: arrow.BinaryTypes.String},
		{Name: colImageURI, Type: arrow.BinaryTypes.String},
		{Name: colImageIndex, Type: arrow.PrimitiveTypes.Int32},
		{Name: colUserID, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: colProductID, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: colCreatedAt, Type: timestampUS, Nullable: true},
	}, nil),
}

// WriteReviews writes reviews as a reviews table. Every row must be valid
// (see the package doc): the first that is not is returned as a *RowError
// and nothing usable is written.
func WriteReviews(w io.Writer, reviews []Review) error {
	check := newRowChecker(ReviewsTable.Name)
	for i, r := range reviews {
		if e := check.check(i+1, r); e != nil {
			return e
		}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, ReviewsTable.Schema)
	defer b.Release()
	id := b.Field(0).(*array.StringBuilder)
	typ := b.Field(1).(*array.StringBuilder)
	uri := b.Field(2).(*array.StringBuilder)
	idx := b.Field(3).(*array.Int32Builder)
	user := b.Field(4).(*array.StringBuilder)
	product := b.Field(5).(*array.StringBuilder)
	created := b.Field(6).(*array.TimestampBuilder)
	for _, r := range reviews {
		id.Append(r.ReviewID)
		typ.Append(r.ReviewType)
		uri.Append(r.ImageURI)
		idx.Append(int32(r.ImageIndex))
		appendNullable(user, r.UserID)
		appendNullable(product, r.ProductID)
		appendTime(created, r.CreatedAt)
	}
	return writeRecord(w, ReviewsTable, b)
}

// ReadReviewsParquet reads a reviews file in Parquet: a reviews table, or a
// plain Parquet file (no reviewlens metadata) with the reviews columns (see
// the package doc). name is used in errors. It returns the valid rows and a
// RowError for each other row, in file order; err is set, alone, when the
// file is not Parquet, is another reviewlens table, or lacks a column.
func ReadReviewsParquet(r parquet.ReaderAtSeeker, name string) (reviews []Review, bad []*RowError, err error) {
	ctx := context.Background() // reading a local file; nothing waits
	tr, err := table.Open(r, name, ReviewsTable)
	var mismatch *table.MismatchError
	switch {
	case err == nil:
		defer tr.Close()
		rd := &reviewsReader{check: newRowChecker(name)}
		if err := tr.Each(ctx, rd.batch); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		return rd.reviews, rd.bad, nil
	case errors.As(err, &mismatch) && mismatch.GotTable == "":
		return readPlainReviews(ctx, r, name)
	}
	return nil, nil, err
}

// readPlainReviews reads a Parquet file written by someone else, finding the
// reviews columns by name.
func readPlainReviews(ctx context.Context, r parquet.ReaderAtSeeker, name string) ([]Review, []*RowError, error) {
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read parquet: %w", name, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	var leaves, missing []string
	var leafIdx []int
	for _, col := range reviewColumns {
		i := sc.FieldIndices(col)
		if len(i) == 0 {
			missing = append(missing, col)
			continue
		}
		if len(i) > 1 {
			return nil, nil, fmt.Errorf("%s: column %s appears %d times", name, col, len(i))
		}
		f := sc.Field(i[0])
		if want := wantType(col, f.Type); want != "" {
			return nil, nil, fmt.Errorf("%s: column %s: type %s, want %s", name, col, f.Type, want)
		}
		sf := fr.Manifest.Fields[i[0]]
		if !sf.IsLeaf() {
			return nil, nil, fmt.Errorf("%s: column %s: type %s is nested, want a plain column", name, col, f.Type)
		}
		leafIdx = append(leafIdx, sf.ColIndex)
		leaves = append(leaves, col)
	}
	if len(missing) > 0 {
		var found []string
		for _, f := range sc.Fields() {
			found = append(found, f.Name)
		}
		return nil, nil, fmt.Errorf("%s: not a reviewlens reviews table, and no column %s (want %s; found %s)",
			name, strings.Join(missing, ", "), strings.Join(reviewColumns, ", "), strings.Join(found, ", "))
	}
	rd := &reviewsReader{check: newRowChecker(name)}
	if pf.NumRows() == 0 {
		return nil, nil, nil
	}
	rr, err := fr.GetRecordReader(ctx, leafIdx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := rd.batch(rr.RecordBatch()); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return rd.reviews, rd.bad, nil
}

// wantType says what type column col should have, or "" when t will do.
func wantType(col string, t arrow.DataType) string {
	switch col {
	case colImageIndex:
		if arrowcol.IsInteger(t) {
			return ""
		}
		return "an integer"
	case colCreatedAt:
		if t.ID() == arrow.TIMESTAMP || arrowcol.IsString(t) {
			return ""
		}
		return "a timestamp, or a string in RFC 3339"
	}
	if arrowcol.IsString(t) {
		return ""
	}
	return "a string (utf8)"
}

// reviewsReader turns record batches of reviews into Reviews.
type reviewsReader struct {
	check   *rowChecker
	row     int
	reviews []Review
	bad     []*RowError
}

func (rd *reviewsReader) batch(rec arrow.RecordBatch) error {
	col := func(name string) arrow.Array {
		i := rec.Schema().FieldIndices(name)
		return rec.Column(i[0])
	}
	id, typ, uri := arrowcol.Strings(col(colReviewID)), arrowcol.Strings(col(colReviewType)), arrowcol.Strings(col(colImageURI))
	user, product := arrowcol.Strings(col(colUserID)), arrowcol.Strings(col(colProductID))
	idx := arrowcol.Ints(col(colImageIndex))
	created, createdText := timesOf(col(colCreatedAt))
	for i := range int(rec.NumRows()) {
		rd.row++
		rv := Review{ImageIndex: -1}
		rv.ReviewID, _ = id(i)
		rv.ReviewType, _ = typ(i)
		rv.ImageURI, _ = uri(i)
		rv.UserID, _ = user(i)
		rv.ProductID, _ = product(i)
		col, reason := "", ""
		n, ok := idx(i)
		switch {
		case !ok:
			col, reason = colImageIndex, "missing (null), want an integer from 0"
		case n < math.MinInt32 || n > maxImageIndex:
			col, reason = colImageIndex, fmt.Sprintf("got %d, want an integer from 0 to %d", n, maxImageIndex)
		default:
			rv.ImageIndex = int(n)
		}
		if c, r := checkReview(&rv); r != "" && (reason == "" || c != colImageIndex) {
			col, reason = c, r
		}
		if reason == "" {
			if created != nil {
				rv.CreatedAt = created(i)
			} else if s, ok := createdText(i); ok {
				rv.CreatedAt, reason = parseTime(strings.TrimSpace(s))
				col = colCreatedAt
			}
		}
		if reason != "" {
			rd.bad = append(rd.bad, &RowError{Name: rd.check.name, Row: rd.row, Column: col, Reason: reason, Review: rv})
			continue
		}
		if e := rd.check.check(rd.row, rv); e != nil {
			rd.bad = append(rd.bad, e)
			continue
		}
		rd.reviews = append(rd.reviews, rv)
	}
	return nil
}

// timesOf reads a created_at column: a timestamp column through times (null
// is the zero Time), or a string column through text.
func timesOf(a arrow.Array) (times func(int) time.Time, text func(int) (string, bool)) {
	ts, ok := a.(*array.Timestamp)
	if !ok {
		return nil, arrowcol.Strings(a)
	}
	unit := ts.DataType().(*arrow.TimestampType).Unit
	return func(i int) time.Time {
		if ts.IsNull(i) {
			return time.Time{}
		}
		// With or without a time zone, the value counts from the epoch in
		// UTC: a zone only says how to show it, and naive times are taken
		// as UTC.
		return toMicros(ts.Value(i).ToTime(unit))
	}, nil
}

// appendNullable appends s, or null for "".
func appendNullable(b *array.StringBuilder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.Append(s)
}

// appendTime appends t in microseconds, or null for the zero Time.
func appendTime(b *array.TimestampBuilder, t time.Time) {
	if t.IsZero() {
		b.AppendNull()
		return
	}
	b.Append(arrow.Timestamp(t.UnixMicro()))
}

// writeRecord writes the builder's rows as one Parquet file of def.
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
