package inspect

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/reviewlens/reviewlens/table"
)

// OutputSuffix is what Batch Transform appends to an input's key to name its
// output.
const OutputSuffix = ".out"

// StagedTable is the staged table (staged.parquet): the photos of a day
// that passed their checks, one row per review photo, and where a transform
// job reads each and leaves its prediction.
var StagedTable = table.Def{
	Name:    "staged",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: colReviewID, Type: arrow.BinaryTypes.String},
		{Name: colReviewType, Type: arrow.BinaryTypes.String},
		{Name: colImageIndex, Type: arrow.PrimitiveTypes.Int32},
		{Name: colImageURI, Type: arrow.BinaryTypes.String},
		{Name: "input_uri", Type: arrow.BinaryTypes.String},
		{Name: "input_key", Type: arrow.BinaryTypes.String},
		{Name: "output_key", Type: arrow.BinaryTypes.String},
		{Name: "size_bytes", Type: arrow.PrimitiveTypes.Int64},
		{Name: "content_type", Type: arrow.BinaryTypes.String},
		{Name: colUserID, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: colProductID, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: colCreatedAt, Type: timestampUS, Nullable: true},
		{Name: "day", Type: arrow.BinaryTypes.String},
	}, nil),
}

// Staged is one row of the staged table: a review photo ready for a
// transform job.
type Staged struct {
	ReviewID   string
	ReviewType string
	ImageIndex int
	ImageURI   string // the photo as the review gave it
	// InputURI is the object the transform job reads: ImageURI, or a copy
	// of it under the stage step's input prefix.
	InputURI string
	// InputKey is InputURI relative to the ManifestFile's prefix.
	InputKey string
	// OutputKey is InputKey + OutputSuffix: the job's output for this
	// photo, relative to its output path (S3OutputPath).
	OutputKey   string
	SizeBytes   int64
	ContentType string // image/jpeg or image/png
	UserID      string // "" = null
	ProductID   string // "" = null
	CreatedAt   time.Time
	Day         string // the inspection day, YYYY-MM-DD
}

// Review gives back the review photo s was staged from.
func (s *Staged) Review() Review {
	return Review{
		ReviewID: s.ReviewID, ReviewType: s.ReviewType, ImageURI: s.ImageURI, ImageIndex: s.ImageIndex,
		UserID: s.UserID, ProductID: s.ProductID, CreatedAt: s.CreatedAt,
	}
}

// WriteStaged writes rows as a staged table.
func WriteStaged(w io.Writer, rows []Staged) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, StagedTable.Schema)
	defer b.Release()
	str := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	for i, s := range rows {
		if s.ImageIndex < 0 || s.ImageIndex > maxImageIndex {
			return fmt.Errorf("staged row %d: image_index %d out of range", i+1, s.ImageIndex)
		}
		str(0).Append(s.ReviewID)
		str(1).Append(s.ReviewType)
		b.Field(2).(*array.Int32Builder).Append(int32(s.ImageIndex))
		str(3).Append(s.ImageURI)
		str(4).Append(s.InputURI)
		str(5).Append(s.InputKey)
		str(6).Append(s.OutputKey)
		b.Field(7).(*array.Int64Builder).Append(s.SizeBytes)
		str(8).Append(s.ContentType)
		appendNullable(str(9), s.UserID)
		appendNullable(str(10), s.ProductID)
		appendTime(b.Field(11).(*array.TimestampBuilder), s.CreatedAt)
		str(12).Append(s.Day)
	}
	return writeRecord(w, StagedTable, b)
}

// ReadStaged reads a whole staged table; name is used in errors.
func ReadStaged(r parquet.ReaderAtSeeker, name string) ([]Staged, error) {
	tr, err := table.Open(r, name, StagedTable)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	rows := make([]Staged, 0, tr.NumRows())
	err = tr.Each(context.Background(), func(rec arrow.RecordBatch) error {
		str := func(i int) *array.String { return rec.Column(i).(*array.String) }
		idx := rec.Column(2).(*array.Int32)
		size := rec.Column(7).(*array.Int64)
		created := rec.Column(11).(*array.Timestamp)
		for i := range int(rec.NumRows()) {
			s := Staged{
				ReviewID:    str(0).Value(i),
				ReviewType:  str(1).Value(i),
				ImageIndex:  int(idx.Value(i)),
				ImageURI:    str(3).Value(i),
				InputURI:    str(4).Value(i),
				InputKey:    str(5).Value(i),
				OutputKey:   str(6).Value(i),
				SizeBytes:   size.Value(i),
				ContentType: str(8).Value(i),
				UserID:      str(9).Value(i),
				ProductID:   str(10).Value(i),
				Day:         str(12).Value(i),
			}
			if created.IsValid(i) {
				s.CreatedAt = time.UnixMicro(int64(created.Value(i))).UTC()
			}
			rows = append(rows, s)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}
