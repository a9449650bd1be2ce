package inspect

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/internal/clip"
)

// Review types: what a review's photos must show to earn credits.
const (
	// ProductReview photos must show a full shot of the product.
	ProductReview = "product"
	// StyleReview photos must show a full-length shot of a person wearing it.
	StyleReview = "style"
)

// A Review is one photo of a customer review: a review with three photos is
// three Reviews with the same ReviewID and ImageIndex 0, 1 and 2.
type Review struct {
	ReviewID   string
	ReviewType string // ProductReview or StyleReview
	ImageURI   string // s3://bucket/key or a local path
	ImageIndex int    // the photo's place in its review, from 0
	UserID     string // "" = null
	ProductID  string // "" = null
	CreatedAt  time.Time
}

// Column names shared by the reviews and staged tables and the CSV header.
const (
	colReviewID   = "review_id"
	colReviewType = "review_type"
	colImageURI   = "image_uri"
	colImageIndex = "image_index"
	colUserID     = "user_id"
	colProductID  = "product_id"
	colCreatedAt  = "created_at"
)

// reviewColumns are the columns a reviews file must have, in table order.
var reviewColumns = []string{colReviewID, colReviewType, colImageURI, colImageIndex, colUserID, colProductID, colCreatedAt}

// A RowError is a row of a reviews file that cannot be used.
type RowError struct {
	Name   string // the file, as the caller named it
	Row    int    // 1-based data row; a CSV header is not counted
	Column string // the column at fault; "" for the whole row
	Reason string // what was wrong and what was expected
	// Duplicate is set when the row repeats an earlier row's (review_id,
	// image_index); the earlier row is kept.
	Duplicate bool
	// Review holds the row's values as far as they could be read, for a
	// rejected file: an unreadable image_index is -1.
	Review Review
}

// Identified reports whether the row names its review: its review_id was
// read and is valid, so the review can be decided (by a person) even if
// this row cannot be used.
func (e *RowError) Identified() bool {
	if e.Column == colReviewID || !utf8.ValidString(e.Review.ReviewID) {
		return false
	}
	_, reason := checkReviewID(e.Review.ReviewID)
	return reason == ""
}

func (e *RowError) Error() string {
	var b strings.Builder
	if e.Name != "" {
		b.WriteString(e.Name)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "row %d: ", e.Row)
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// maxImageIndex is the largest image_index: the tables store it as int32.
const maxImageIndex = math.MaxInt32

// Size limits of a row's values. An image_uri is at most 1,024 bytes, the
// limit of an S3 key and of the S3Uri a SageMaker job is given; an ID
// (review_id, user_id, product_id) at most 256 bytes, four times the
// longest ID seen in practice (a UUID with a prefix), so that a value
// gone wrong (a whole file pasted into a cell) is refused, not carried
// into every table and log.
const (
	MaxImageURIBytes = 1024
	MaxIDBytes       = 256
)

// checkReview reports the first thing wrong with r, as a column and a
// reason; "" when r is valid. Duplicates are the caller's (see rowChecker).
func checkReview(r *Review) (column, reason string) {
	for _, f := range []struct{ col, v string }{
		{colReviewID, r.ReviewID}, {colReviewType, r.ReviewType}, {colImageURI, r.ImageURI},
		{colUserID, r.UserID}, {colProductID, r.ProductID},
	} {
		if !utf8.ValidString(f.v) {
			return f.col, fmt.Sprintf("%s is not valid UTF-8", clip.Q(f.v))
		}
	}
	if col, reason := checkReviewID(r.ReviewID); reason != "" {
		return col, reason
	}
	for _, f := range []struct{ col, v string }{{colUserID, r.UserID}, {colProductID, r.ProductID}} {
		if len(f.v) > MaxIDBytes {
			return f.col, fmt.Sprintf("%d bytes, want at most %d", len(f.v), MaxIDBytes)
		}
	}
	switch r.ReviewType {
	case ProductReview, StyleReview:
	case "":
		return colReviewType, fmt.Sprintf("missing, want %s or %s", ProductReview, StyleReview)
	default:
		return colReviewType, fmt.Sprintf("got %s, want %s or %s", clip.Q(r.ReviewType), ProductReview, StyleReview)
	}
	if reason := checkImageURI(r.ImageURI); reason != "" {
		return colImageURI, reason
	}
	if r.ImageIndex < 0 || r.ImageIndex > maxImageIndex {
		return colImageIndex, fmt.Sprintf("got %d, want an integer from 0 to %d", r.ImageIndex, maxImageIndex)
	}
	return "", ""
}

// checkReviewID refuses review IDs that cannot name a folder: the stage
// step copies photos to <prefix>/<review_id>/<image_index>.jpg.
func checkReviewID(id string) (column, reason string) {
	switch {
	case id == "":
		return colReviewID, "missing"
	case len(id) > MaxIDBytes:
		return colReviewID, fmt.Sprintf("%d bytes, want at most %d", len(id), MaxIDBytes)
	case id == "." || id == "..":
		return colReviewID, fmt.Sprintf("got %q, want an ID that can name a folder", id)
	case strings.ContainsAny(id, `/\`):
		return colReviewID, fmt.Sprintf("got %s, want no '/' or '\\'", clip.Q(id))
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return colReviewID, fmt.Sprintf("got %s, want no control characters", clip.Q(id))
	}
	return "", ""
}

// checkImageURI reports what is wrong with an image URI, or "".
func checkImageURI(uri string) string {
	if uri == "" {
		return "missing, want s3://bucket/key or a local path"
	}
	if len(uri) > MaxImageURIBytes {
		return fmt.Sprintf("%s is %d bytes, want at most %d (the S3 key and SageMaker S3Uri limit)", clip.Q(uri), len(uri), MaxImageURIBytes)
	}
	if rest, ok := strings.CutPrefix(uri, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		switch {
		case bucket == "":
			return fmt.Sprintf("%s has no bucket, want s3://bucket/key", clip.Q(uri))
		case key == "":
			return fmt.Sprintf("%s has no key, want s3://bucket/key", clip.Q(uri))
		case strings.HasSuffix(key, "/"):
			return fmt.Sprintf("%s ends in '/', want a photo, not a folder", clip.Q(uri))
		}
		return ""
	}
	if scheme, _, ok := strings.Cut(uri, "://"); ok {
		return fmt.Sprintf("%s: scheme %s, want s3://bucket/key or a local path", clip.Q(uri), clip.Q(scheme+"://"))
	}
	if strings.HasSuffix(uri, "/") {
		return fmt.Sprintf("%s ends in '/', want a photo, not a folder", clip.Q(uri))
	}
	if strings.IndexFunc(uri, unicode.IsControl) >= 0 {
		return fmt.Sprintf("%s holds control characters", clip.Q(uri))
	}
	return ""
}

// photoKey identifies a photo of a review.
type photoKey struct {
	reviewID string
	index    int
}

// rowChecker validates rows in file order and remembers the photos seen, to
// refuse a later row that repeats one.
type rowChecker struct {
	name  string
	seen  map[photoKey]int // -> the row that has it
	types map[string]typeRow
}

// typeRow is a review's type and the first row that gave it.
type typeRow struct {
	typ string
	row int
}

func newRowChecker(name string) *rowChecker {
	return &rowChecker{name: name, seen: map[photoKey]int{}, types: map[string]typeRow{}}
}

// check returns the RowError for row, or nil when the row is valid (and now
// seen).
func (c *rowChecker) check(row int, r Review) *RowError {
	if col, reason := checkReview(&r); reason != "" {
		return &RowError{Name: c.name, Row: row, Column: col, Reason: reason, Review: r}
	}
	k := photoKey{r.ReviewID, r.ImageIndex}
	if first, ok := c.seen[k]; ok {
		return &RowError{Name: c.name, Row: row, Reason: fmt.Sprintf("review %s photo %d is also on row %d", clip.Q(r.ReviewID), r.ImageIndex, first),
			Duplicate: true, Review: r}
	}
	if t, ok := c.types[r.ReviewID]; ok && t.typ != r.ReviewType {
		return &RowError{Name: c.name, Row: row, Column: colReviewType, Review: r,
			Reason: fmt.Sprintf("got %s, but row %d makes review %s a %s review: a review has one type", r.ReviewType, t.row, clip.Q(r.ReviewID), t.typ)}
	} else if !ok {
		c.types[r.ReviewID] = typeRow{r.ReviewType, row}
	}
	c.seen[k] = row
	return nil
}

// timeLayouts are the spellings of created_at accepted in text: RFC 3339
// (the Z or offset required), or a UTC time with a space. Fractional seconds
// are accepted by both.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999"}

// parseTime reads a created_at value; "" is null (the zero Time).
func parseTime(s string) (time.Time, string) {
	if s == "" {
		return time.Time{}, ""
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return toMicros(t), ""
		}
	}
	return time.Time{}, fmt.Sprintf("got %s, want RFC 3339 (2026-11-28T09:30:00Z) or 2006-01-02 15:04:05 in UTC", clip.Q(s))
}

// toMicros gives t in UTC to the microsecond, as the tables store it.
func toMicros(t time.Time) time.Time {
	return time.UnixMicro(t.UnixMicro()).UTC()
}
