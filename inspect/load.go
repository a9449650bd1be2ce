package inspect

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/storage"
)

// LoadReviews reads the day's reviews at uri: Parquet when the file's
// bytes are Parquet, CSV otherwise (a file named .parquet that is not
// Parquet is refused rather than read as CSV): one rule for every step.
// It returns the valid rows and the bad ones, as ReadReviewsCSV and
// ReadReviewsParquet do; a file that cannot be read as reviews at all is a
// fault.BadInput error. name is how the caller names the input in
// messages ("--reviews").
func LoadReviews(ctx context.Context, st *storage.Storage, name, uri string) ([]Review, []*RowError, error) {
	data, file, err := st.ReadInput(ctx, name, uri, "")
	if err != nil {
		return nil, nil, err
	}
	var reviews []Review
	var bad []*RowError
	switch {
	case storage.IsParquet(data):
		reviews, bad, err = ReadReviewsParquet(bytes.NewReader(data), file)
	case strings.EqualFold(path.Ext(file), ".parquet"):
		return nil, nil, fault.BadInputf("%s %s: not a Parquet file (%s), want the day's reviews", name, clip.S(file), storage.Describe(data))
	default:
		reviews, bad, err = ReadReviewsCSV(bytes.NewReader(data), file)
	}
	if err != nil {
		return nil, nil, fault.New(fault.BadInput, fmt.Errorf("%s: %w", name, err))
	}
	return reviews, bad, nil
}

// LoadStaged reads the stage step's staged.parquet at uri, or in the
// folder uri; it returns the file read too.
func LoadStaged(ctx context.Context, st *storage.Storage, name, uri string) ([]Staged, string, error) {
	data, file, err := st.ReadParquetInput(ctx, name, uri, FileStaged, "the stage step's staged.parquet")
	if err != nil {
		return nil, "", err
	}
	staged, err := ReadStaged(bytes.NewReader(data), file)
	if err != nil {
		return nil, "", fault.New(fault.BadInput, fmt.Errorf("%s: %w", name, err))
	}
	return staged, file, nil
}

// LoadPredictions reads the predictions step's predictions.parquet at
// uri, or in the folder uri.
func LoadPredictions(ctx context.Context, st *storage.Storage, name, uri string) ([]PredictionRow, error) {
	data, file, err := st.ReadParquetInput(ctx, name, uri, "predictions.parquet", "the predictions step's predictions.parquet")
	if err != nil {
		return nil, err
	}
	rows, err := ReadPredictions(bytes.NewReader(data), file)
	if err != nil {
		return nil, fault.New(fault.BadInput, fmt.Errorf("%s: %w", name, err))
	}
	return rows, nil
}
