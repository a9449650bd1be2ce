package table

import (
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// A ColumnWriter writes a table straight from Go slices into Parquet
// column chunks, with no Arrow arrays in between: for the hot paths that
// write millions of rows, where building Arrow arrays first would copy every
// value twice. The file has the same Parquet schema Writer gives the table,
// and reads back through Open as the same Arrow schema (strings, UTC
// timestamps and plain scalars need no stored Arrow schema to round-trip).
//
// Write each column's values for a set of rows with the typed writer
// from Column, then call EndRows.
type ColumnWriter struct {
	def     Def
	fw      *file.Writer
	rgw     file.BufferedRowGroupWriter
	maxRows int
	rgRows  int
}

// NewColumnWriter starts a Parquet file of table def on w. Only flat tables
// of scalar columns are supported.
func NewColumnWriter(w io.Writer, def Def, opts WriterOptions) (*ColumnWriter, error) {
	props := writerProps(opts)
	sc, err := pqarrow.ToParquet(def.Schema, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("%s table: %w", def.Name, err)
	}
	for i := range sc.NumColumns() {
		if sc.Column(i).MaxRepetitionLevel() > 0 {
			return nil, fmt.Errorf("%s table: column %s is nested; use Writer", def.Name, sc.Column(i).ColumnPath()[0])
		}
	}
	meta := metadata.KeyValueMetadata{}
	meta.Append(KeyTable, def.Name)
	meta.Append(KeyVersion, strconv.Itoa(def.Version))
	fw, err := file.NewParquetWriterWithError(nopCloser{w}, sc.Root(), file.WithWriterProps(props), file.WithWriteMetadata(meta))
	if err != nil {
		return nil, fmt.Errorf("%s table: %w", def.Name, err)
	}
	return &ColumnWriter{def: def, fw: fw, maxRows: int(props.MaxRowGroupLength())}, nil
}

// Column returns the writer of column i of the current row group: a
// *file.ByteArrayColumnChunkWriter for strings, *file.Int32ColumnChunkWriter,
// *file.Int64ColumnChunkWriter (timestamps: microseconds), and so on.
// Nullable columns take definition levels: 1 for a value, 0 for null.
func (cw *ColumnWriter) Column(i int) (file.ColumnChunkWriter, error) {
	if cw.rgw == nil {
		// Row groups start with their first rows, so none is left empty.
		var err error
		if cw.rgw, err = cw.fw.AppendBufferedRowGroupChecked(); err != nil {
			return nil, fmt.Errorf("%s table: %w", cw.def.Name, err)
		}
	}
	return cw.rgw.Column(i)
}

// EndRows records that every column has been given n more rows, and ends
// the row group once it holds RowGroupRows rows or more (rows given in one
// go are not split).
func (cw *ColumnWriter) EndRows(n int) error {
	cw.rgRows += n
	if cw.rgRows < cw.maxRows || cw.rgw == nil {
		return nil
	}
	err := cw.rgw.Close()
	cw.rgw, cw.rgRows = nil, 0
	if err != nil {
		return fmt.Errorf("%s table: %w", cw.def.Name, err)
	}
	return nil
}

// Close writes the last row group and the footer.
func (cw *ColumnWriter) Close() error {
	if cw.rgw != nil {
		if err := cw.rgw.Close(); err != nil {
			return fmt.Errorf("%s table: %w", cw.def.Name, err)
		}
	}
	if err := cw.fw.Close(); err != nil {
		return fmt.Errorf("%s table: %w", cw.def.Name, err)
	}
	return nil
}

// ByteArrays views strings as Parquet byte arrays without copying.
func ByteArrays(dst []parquet.ByteArray, s ...string) []parquet.ByteArray {
	for _, v := range s {
		dst = append(dst, parquet.ByteArray(v))
	}
	return dst
}
