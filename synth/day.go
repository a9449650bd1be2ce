package synth

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/reviewlens/reviewlens/inspect"
)

// Files WriteDay writes in its folder (with TruthFile and PhotosDir).
const (
	ReviewsParquet = "reviews.parquet"
	ReviewsCSV     = "reviews.csv"
)

// DayOptions choose how WriteDay draws a day's reviews. The zero value
// writes reviews.parquet with photos named by their absolute local paths,
// half the reviews qualifying.
type DayOptions struct {
	Options
	// BaseURI, when set, is the prefix of every image_uri: a photo written
	// to <dir>/photos/r-20261128-000042-0.jpg is BaseURI +
	// "photos/r-20261128-000042-0.jpg". Empty means the photo's absolute
	// local path.
	BaseURI string
	// CSV writes reviews.csv instead of reviews.parquet.
	CSV bool
	// Qualifying is the share of reviews with a photo that earns the
	// credit (a product photo for a product review, a full-length one for
	// a style review); 0 means 0.5.
	Qualifying float64
	// Workers draws photos in parallel; 0 means GOMAXPROCS. The output does
	// not depend on it.
	Workers int
}

// A Day is what WriteDay wrote.
type Day struct {
	Dir     string
	Reviews string // <dir>/reviews.parquet or reviews.csv
	Truth   string // <dir>/truth.csv: each photo's class and difficulty
	// ReviewCount is the number of reviews, Photos their photos (one to
	// three a review), Qualifying the reviews that earn their credit.
	ReviewCount, Photos, Qualifying int
	ByClass                         [NumClasses]int
	Hard                            int
}

// WriteDay writes a day's reviews to dir: the photos under dir/photos, the
// reviews table (one row a photo, as inspect reads it) and the truth kept
// aside for scoring (truth.csv). Half the reviews are product reviews, half
// style reviews; a review has one photo (60%), two (30%) or three (10%). A
// qualifying review has one photo of its qualifying class and the others
// of any class; the photos of the others are of classes that do not
// qualify: packages (half), half-length and full-length shots for a product
// review, half-length shots (half), products and packages for a style
// review. review_id is "r-<yyyymmdd>-<n>", created_at falls within the day
// (UTC), user_id and product_id are drawn from a few thousand.
//
// The same day, seed and options give the same bytes. The reviews table is
// written last, atomically.
func WriteDay(ctx context.Context, dir string, day time.Time, reviews int, seed int64, opts DayOptions) (*Day, error) {
	if reviews < 0 {
		return nil, fmt.Errorf("write day: %d reviews", reviews)
	}
	qualifying := opts.Qualifying
	if qualifying <= 0 {
		qualifying = 0.5
	}
	photos := filepath.Join(dir, PhotosDir)
	if err := os.MkdirAll(photos, 0o755); err != nil {
		return nil, fmt.Errorf("write day: %w", err)
	}
	base := opts.BaseURI
	if base == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("write day: %w", err)
		}
		base = filepath.ToSlash(abs) + "/"
	}
	y, m, d := day.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	stamp := start.Format("20060102")
	// Each day has its own stream of photos.
	daySeed := seed ^ int64(start.Unix()/86400)<<20

	plan := planRNG(daySeed, streamDay)
	res := &Day{Dir: dir, Truth: filepath.Join(dir, TruthFile), ReviewCount: reviews}
	var rows []inspect.Review
	var truth []Truth
	var jobs []job
	for r := range reviews {
		id := fmt.Sprintf("r-%s-%06d", stamp, r+1)
		typ, want := inspect.ProductReview, Product
		if plan.IntN(2) == 1 {
			typ, want = inspect.StyleReview, FullLength
		}
		count := 1
		switch u := plan.Float64(); {
		case u >= 0.9:
			count = 3
		case u >= 0.6:
			count = 2
		}
		qualifies := plan.Float64() < qualifying
		hit := plan.IntN(count)
		user := fmt.Sprintf("u-%05d", plan.IntN(5000))
		product := fmt.Sprintf("p-%04d", plan.IntN(2000))
		created := start.Add(time.Duration(plan.Int64N(int64(24 * time.Hour))).Truncate(time.Microsecond))
		if qualifies {
			res.Qualifying++
		}
		for i := range count {
			var class Class
			switch {
			case qualifies && i == hit:
				class = want
			case qualifies:
				class = Class(plan.IntN(NumClasses))
			default:
				class = nonQualifying(want, plan.Float64())
			}
			name := fmt.Sprintf("%s-%d.jpg", id, i)
			uri := base + PhotosDir + "/" + name
			jobs = append(jobs, job{path: filepath.Join(photos, name), class: class, opts: opts.Options, rng: photoRNG(daySeed, streamDay, len(jobs))})
			rows = append(rows, inspect.Review{ReviewID: id, ReviewType: typ, ImageURI: uri, ImageIndex: i, UserID: user, ProductID: product, CreatedAt: created})
			truth = append(truth, Truth{ImageURI: uri, ReviewID: id, ImageIndex: i, Class: class})
		}
	}
	infos, err := writePhotos(ctx, jobs, opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("write day: %w", err)
	}
	for i, info := range infos {
		truth[i].Difficulty = info.Difficulty
		res.ByClass[info.Class]++
		if info.Difficulty != Easy {
			res.Hard++
		}
	}
	res.Photos = len(rows)
	if err := writeAtomic(res.Truth, func(w io.Writer) error { return WriteTruth(w, truth) }); err != nil {
		return nil, err
	}
	res.Reviews = filepath.Join(dir, ReviewsParquet)
	write := func(w io.Writer) error { return inspect.WriteReviews(w, rows) }
	if opts.CSV {
		res.Reviews = filepath.Join(dir, ReviewsCSV)
		write = func(w io.Writer) error { return writeReviewsCSV(w, rows) }
	}
	if err := writeAtomic(res.Reviews, write); err != nil {
		return nil, err
	}
	return res, nil
}

// nonQualifying draws the class of a photo that does not earn a review's
// credit, from u uniform in [0, 1).
func nonQualifying(want Class, u float64) Class {
	if want == Product {
		switch {
		case u < 0.5:
			return Package
		case u < 0.75:
			return HalfLength
		}
		return FullLength
	}
	switch {
	case u < 0.5:
		return HalfLength
	case u < 0.8:
		return Product
	}
	return Package
}

// writeReviewsCSV writes reviews in the CSV layout inspect.ReadReviewsCSV
// reads.
func writeReviewsCSV(w io.Writer, rows []inspect.Review) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"review_id", "review_type", "image_uri", "image_index", "user_id", "product_id", "created_at"})
	for _, r := range rows {
		cw.Write([]string{r.ReviewID, r.ReviewType, r.ImageURI, strconv.Itoa(r.ImageIndex), r.UserID, r.ProductID, r.CreatedAt.UTC().Format(time.RFC3339Nano)})
	}
	cw.Flush()
	return cw.Error()
}
