package consolidate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/reviewlens/reviewlens/internal/arrowcol"
	"github.com/reviewlens/reviewlens/manifest"
)

// Columns of an answers table.
const (
	ColPhoto      = "image_uri"    // the photo: s3://bucket/key
	ColInspector  = "inspector_id" // who answered
	ColLabel      = "label"        // the class name answered
	ColAnsweredAt = "answered_at"  // when (optional column; empty or null = unknown)
)

var requiredColumns = []string{ColPhoto, ColInspector, ColLabel}

// tableTimeLayouts are the spellings of answered_at in text: RFC 3339, or
// a UTC time with a 'T' or a space and no zone; fractional seconds allowed.
var tableTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

// ReadAnswers reads an answers table in CSV or Parquet, told apart by the
// Parquet magic bytes "PAR1" at the start of the file, not by its name.
// name is used in errors. The first bad row is an *InputError naming the
// row, the column and what was expected.
func ReadAnswers(ctx context.Context, r parquet.ReaderAtSeeker, name string, classes *manifest.ClassMap) (*Answers, error) {
	var magic [4]byte
	n, err := r.ReadAt(magic[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if string(magic[:n]) == "PAR1" {
		return ReadAnswersParquet(ctx, r, name, classes)
	}
	size, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return ReadAnswersCSV(ctx, io.NewSectionReader(r, 0, size), name, classes)
}

// ReadAnswersCSV reads an answers table in CSV with a header row naming
// the columns (see the package doc).
func ReadAnswersCSV(ctx context.Context, r io.Reader, name string, classes *manifest.ClassMap) (*Answers, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, &InputError{File: name, Reason: fmt.Sprintf("empty file, want a header row naming the columns %s, %s, %s[, %s]", ColPhoto, ColInspector, ColLabel, ColAnsweredAt)}
	case err != nil:
		return nil, &InputError{File: name, Field: "header", Reason: err.Error()}
	}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.ToLower(strings.TrimSpace(h))
	}
	cols, err := findColumns(names, name)
	if err != nil {
		return nil, err
	}
	cr.FieldsPerRecord = len(header)
	a := NewAnswers(classes)
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return a, nil
		}
		if err != nil {
			if pe := (*csv.ParseError)(nil); errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				return nil, &InputError{File: name, Row: row, Reason: fmt.Sprintf("%d fields, want %d as in the header", len(rec), len(header))}
			}
			return nil, &InputError{File: name, Row: row, Reason: err.Error()}
		}
		if row%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		at := int64(noTime)
		if cols[3] >= 0 {
			s := strings.TrimSpace(rec[cols[3]])
			if s != "" {
				t, ok := parseTableTime(s)
				if !ok {
					return nil, &InputError{File: name, Row: row, Field: ColAnsweredAt, Reason: fmt.Sprintf("got %q, want a time in RFC 3339 (2026-11-28T09:30:00Z) or 2026-11-28 09:30:00 (UTC), or nothing", s)}
				}
				at = t.UnixMicro()
			}
		}
		if err := a.add(strings.TrimSpace(rec[cols[0]]), strings.TrimSpace(rec[cols[1]]), strings.TrimSpace(rec[cols[2]]), at, name, row, tableFields); err != nil {
			return nil, err
		}
	}
}

// findColumns finds image_uri, inspector_id, label and answered_at among
// the column names (answered_at: -1 when absent).
func findColumns(names []string, file string) ([4]int, error) {
	cols := [4]int{-1, -1, -1, -1}
	for j, n := range names {
		for i, c := range []string{ColPhoto, ColInspector, ColLabel, ColAnsweredAt} {
			if n != c {
				continue
			}
			if cols[i] >= 0 {
				return cols, &InputError{File: file, Field: c, Reason: "column appears twice"}
			}
			cols[i] = j
		}
	}
	var missing []string
	for i, c := range requiredColumns {
		if cols[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return cols, &InputError{File: file, Reason: fmt.Sprintf("no column %s (want %s, %s, %s and optionally %s; found %s)",
			strings.Join(missing, ", "), ColPhoto, ColInspector, ColLabel, ColAnsweredAt, strings.Join(names, ", "))}
	}
	return cols, nil
}

func parseTableTime(s string) (time.Time, bool) {
	for _, l := range tableTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ReadAnswersParquet reads an answers table in Parquet: any Parquet file
// with the columns of the package doc (strings may be utf8, large_utf8 or
// dictionary-encoded; answered_at a timestamp of any unit, or a string).
func ReadAnswersParquet(ctx context.Context, r parquet.ReaderAtSeeker, name string, classes *manifest.ClassMap) (*Answers, error) {
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, &InputError{File: name, Reason: fmt.Sprintf("not a readable Parquet file: %v", err)}
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	names := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = strings.ToLower(f.Name)
	}
	cols, err := findColumns(names, name)
	if err != nil {
		return nil, err
	}
	var leaves []int
	for i, c := range cols {
		if c < 0 {
			continue
		}
		f := sc.Field(c)
		ok := arrowcol.IsString(f.Type) || (i == 3 && f.Type.ID() == arrow.TIMESTAMP)
		sf := fr.Manifest.Fields[c]
		if !ok || !sf.IsLeaf() {
			want := "a string (utf8)"
			if i == 3 {
				want = "a timestamp, or a string in RFC 3339"
			}
			return nil, &InputError{File: name, Field: f.Name, Reason: fmt.Sprintf("type %s, want %s", f.Type, want)}
		}
		leaves = append(leaves, sf.ColIndex)
	}
	a := NewAnswers(classes)
	if pf.NumRows() == 0 {
		return a, nil
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer rr.Release()
	row := 0
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec := rr.RecordBatch()
		get := make([]func(int) (string, bool), 3)
		for i := range get {
			get[i] = arrowcol.Strings(rec.Column(i))
		}
		var at func(int) (int64, string)
		if cols[3] >= 0 {
			at = timesOf(rec.Column(3))
		}
		for i := range int(rec.NumRows()) {
			row++
			var v [3]string
			for c := range v {
				s, ok := get[c](i)
				if !ok {
					return nil, &InputError{File: name, Row: row, Field: requiredColumns[c], Reason: "null, want a value"}
				}
				v[c] = s
			}
			t := int64(noTime)
			if at != nil {
				var bad string
				if t, bad = at(i); bad != "" {
					return nil, &InputError{File: name, Row: row, Field: ColAnsweredAt, Reason: bad}
				}
			}
			if err := a.add(v[0], v[1], v[2], t, name, row, tableFields); err != nil {
				return nil, err
			}
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return a, nil
}

// timesOf returns a getter of answered_at as Unix microseconds (noTime for
// a null or empty value), or what is wrong with a value.
func timesOf(col arrow.Array) func(int) (int64, string) {
	if ts, ok := col.(*array.Timestamp); ok {
		unit := ts.DataType().(*arrow.TimestampType).Unit
		return func(i int) (int64, string) {
			if ts.IsNull(i) {
				return noTime, ""
			}
			return ts.Value(i).ToTime(unit).UnixMicro(), ""
		}
	}
	get := arrowcol.Strings(col)
	return func(i int) (int64, string) {
		s, ok := get(i)
		if s = strings.TrimSpace(s); !ok || s == "" {
			return noTime, ""
		}
		t, ok := parseTableTime(s)
		if !ok {
			return 0, fmt.Sprintf("got %q, want a time in RFC 3339 (2026-11-28T09:30:00Z) or 2026-11-28 09:30:00 (UTC), or null", s)
		}
		return t.UnixMicro(), ""
	}
}
