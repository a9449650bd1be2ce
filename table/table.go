// Package table reads and writes the Parquet files that reviewlens steps
// exchange.
//
// Every table is defined once, by the package that owns it, as an Arrow
// schema plus a name and a schema version. This package writes record batches
// of that schema to Parquet with the key-value metadata
// reviewlens.table and reviewlens.schema_version, and checks both when a file
// is read back, so a step that is handed the wrong file says which file it got
// instead of failing on a missing column.
//
// # Format
//
// Files are written so that DuckDB, pandas, Spark and Athena read them without
// options: UTF-8 strings, timestamps as TIMESTAMP(us, UTC), standard LIST
// encoding, snappy compression, the Arrow schema stored alongside.
//
// # Errors
//
// A file with another table's name, or with a schema version this build does
// not know, is a *MismatchError.
package table

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Metadata keys written into every reviewlens Parquet file.
const (
	KeyTable   = "reviewlens.table"
	KeyVersion = "reviewlens.schema_version"
)

// Def names a table and the version of its schema.
type Def struct {
	Name    string        // e.g. "labels"
	Version int           // bumped on every incompatible change
	Schema  *arrow.Schema // the Arrow schema the owner writes
}

// WriterOptions tune a Writer. The zero value is what steps use.
type WriterOptions struct {
	// RowGroupRows caps the rows in one row group; 0 means 128Ki rows.
	RowGroupRows int64
	// Dictionary lists columns (top-level names) to dictionary-encode. By
	// default no column is: hashing every value costs more time than it
	// saves space once pages are compressed.
	Dictionary []string
	// NoStats lists columns written without min/max statistics: long,
	// mostly distinct strings such as URIs, where comparing every value
	// costs time and the bounds prune little.
	NoStats []string
	// Allocator is used for the Parquet encoders; nil means the Go allocator.
	Allocator memory.Allocator
}

func writerProps(opts WriterOptions) *parquet.WriterProperties {
	rows := opts.RowGroupRows
	if rows <= 0 {
		rows = 128 << 10
	}
	alloc := opts.Allocator
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	props := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(rows),
		parquet.WithAllocator(alloc),
		parquet.WithCreatedBy("reviewlens"),
		parquet.WithDictionaryDefault(false),
		// Pages of 256 KiB rather than 1 MiB: every column of a buffered
		// row group holds a page buffer, and readers lose nothing.
		parquet.WithDataPageSize(256 << 10),
	}
	for _, c := range opts.Dictionary {
		props = append(props, parquet.WithDictionaryFor(c, true))
	}
	for _, c := range opts.NoStats {
		props = append(props, parquet.WithStatsFor(c, false))
	}
	return parquet.NewWriterProperties(props...)
}

// Writer writes record batches of one table to a Parquet stream.
type Writer struct {
	def  Def
	fw   *pqarrow.FileWriter
	rows int
}

// NewWriter starts a Parquet file of table def on w. Close must be called to
// write the footer; it does not close w.
func NewWriter(w io.Writer, def Def, opts WriterOptions) (*Writer, error) {
	props := writerProps(opts)
	md := arrow.NewMetadata(
		[]string{KeyTable, KeyVersion},
		[]string{def.Name, strconv.Itoa(def.Version)},
	)
	schema := arrow.NewSchema(def.Schema.Fields(), &md)
	fw, err := pqarrow.NewFileWriter(schema, nopCloser{w}, props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(props.Allocator())))
	if err != nil {
		return nil, fmt.Errorf("%s table: %w", def.Name, err)
	}
	return &Writer{def: def, fw: fw}, nil
}

// Write appends a record batch; its schema must be the table's.
func (w *Writer) Write(rec arrow.RecordBatch) error {
	// Names, types and nullability, not field metadata: batches read back
	// from a table carry Parquet field ids and must write again.
	if !sameFields(rec.Schema(), w.def.Schema) {
		return fmt.Errorf("%s table: record batch schema %s, want %s", w.def.Name, fieldList(rec.Schema()), fieldList(w.def.Schema))
	}
	if !rec.Schema().Equal(w.def.Schema) {
		rec = array.NewRecordBatch(w.def.Schema, rec.Columns(), rec.NumRows())
		defer rec.Release()
	}
	if err := w.fw.Write(rec); err != nil {
		return fmt.Errorf("%s table: %w", w.def.Name, err)
	}
	w.rows += int(rec.NumRows())
	return nil
}

// Rows reports the rows written so far.
func (w *Writer) Rows() int { return w.rows }

// Close writes the footer.
func (w *Writer) Close() error {
	if err := w.fw.Close(); err != nil {
		return fmt.Errorf("%s table: %w", w.def.Name, err)
	}
	return nil
}

// nopCloser keeps pqarrow from closing the caller's writer.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// MismatchError says a Parquet file is not the table, or not the version,
// the reader expected.
type MismatchError struct {
	Name         string // file name or URI, when the caller gave one
	WantTable    string
	GotTable     string // "" when the file has no reviewlens metadata
	WantVersion  int
	GotVersion   string
	SchemaReason string // set when the metadata matches but the columns do not
}

func (e *MismatchError) Error() string {
	name := e.Name
	if name == "" {
		name = "parquet file"
	}
	switch {
	case e.GotTable == "":
		return fmt.Sprintf("%s: not a reviewlens %s table (no %s metadata)", name, e.WantTable, KeyTable)
	case e.GotTable != e.WantTable:
		return fmt.Sprintf("%s: is a reviewlens %q table, want %q", name, e.GotTable, e.WantTable)
	case e.SchemaReason != "":
		return fmt.Sprintf("%s: %s table version %s: %s", name, e.WantTable, e.GotVersion, e.SchemaReason)
	default:
		return fmt.Sprintf("%s: %s table schema version %s, this build reads version %d", name, e.WantTable, e.GotVersion, e.WantVersion)
	}
}

// Reader reads record batches of one table from a Parquet file.
type Reader struct {
	pf  *file.Reader
	fr  *pqarrow.FileReader
	def Def
}

// Open checks that r holds table def (by its metadata and columns) and
// prepares to read it. name is used in error messages.
func Open(r parquet.ReaderAtSeeker, name string, def Def) (*Reader, error) {
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: read parquet: %w", name, err)
	}
	kv := pf.MetaData().KeyValueMetadata()
	mm := &MismatchError{Name: name, WantTable: def.Name, WantVersion: def.Version}
	if v := kv.FindValue(KeyTable); v != nil {
		mm.GotTable = *v
	}
	if v := kv.FindValue(KeyVersion); v != nil {
		mm.GotVersion = *v
	}
	if mm.GotTable != def.Name || mm.GotVersion != strconv.Itoa(def.Version) {
		pf.Close()
		return nil, mm
	}
	// Batches of 16Ki rows: a reader that streams, such as publish, has
	// its first rows sooner, and nothing reads faster with larger ones.
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 16 << 10}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !sameFields(sc, def.Schema) {
		pf.Close()
		mm.SchemaReason = fmt.Sprintf("columns %s, want %s", fieldList(sc), fieldList(def.Schema))
		return nil, mm
	}
	return &Reader{pf: pf, fr: fr, def: def}, nil
}

// NumRows reports the rows in the file.
func (r *Reader) NumRows() int64 { return r.pf.NumRows() }

// Each calls fn with every record batch in file order. The batch is released
// after fn returns; retain it to keep it.
func (r *Reader) Each(ctx context.Context, fn func(arrow.RecordBatch) error) error {
	rr, err := r.fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("%s table: %w", r.def.Name, err)
	}
	defer rr.Release()
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec := rr.RecordBatch()
		var own arrow.RecordBatch
		if !rec.Schema().Equal(r.def.Schema) {
			// Give the table's own schema, without the Parquet field ids
			// the reader adds, so batches can be written again.
			own = array.NewRecordBatch(r.def.Schema, rec.Columns(), rec.NumRows())
			rec = own
		}
		err := fn(rec)
		if own != nil {
			own.Release()
		}
		if err != nil {
			return err
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s table: %w", r.def.Name, err)
	}
	return nil
}

// FirstString returns the value in the first row of the string column at
// Parquet leaf column index col (a list column has one leaf), reading that
// column's first page only; "" and false when the table has no row or the
// value is null.
func (r *Reader) FirstString(ctx context.Context, col int) (string, bool, error) {
	if r.pf.NumRowGroups() == 0 || r.pf.NumRows() == 0 {
		return "", false, nil
	}
	cr, err := r.fr.GetColumn(ctx, col)
	if err != nil {
		return "", false, fmt.Errorf("%s table: %w", r.def.Name, err)
	}
	defer cr.Release()
	chunked, err := cr.NextBatch(1)
	if err != nil {
		return "", false, fmt.Errorf("%s table: column %d: %w", r.def.Name, col, err)
	}
	defer chunked.Release()
	for _, a := range chunked.Chunks() {
		if a.Len() == 0 {
			continue
		}
		s, ok := a.(*array.String)
		if !ok {
			return "", false, fmt.Errorf("%s table: column %d is %s, not a string", r.def.Name, col, a.DataType())
		}
		if s.IsNull(0) {
			return "", false, nil
		}
		return strings.Clone(s.Value(0)), true, nil
	}
	return "", false, nil
}

// Close releases the file.
func (r *Reader) Close() error { return r.pf.Close() }

func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Nullable != fb.Nullable || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

func fieldList(s *arrow.Schema) string {
	out := ""
	for i, f := range s.Fields() {
		if i > 0 {
			out += ", "
		}
		out += f.Name + " " + f.Type.String()
	}
	return "(" + out + ")"
}
