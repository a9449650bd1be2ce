package ledger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/internal/arrowcol"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// The columns of an answers file.
const (
	colReviewID   = "review_id"
	colOutcome    = "outcome"
	colInspector  = "inspector"
	colDecidedAt  = "decided_at"
	colImageIndex = "image_index"
	colImageURI   = "image_uri"
	colClassName  = "class_name"
)

// answerColumns are the columns every answers file has; photoColumns
// those of a file that gives photo classes, all three or none.
var (
	answerColumns = []string{colReviewID, colOutcome, colInspector, colDecidedAt}
	photoColumns  = []string{colImageIndex, colImageURI, colClassName}
)

// ReadAnswersOptions say what ReadAnswers accepts.
type ReadAnswersOptions struct {
	// Classes, when not empty, are the class names a photo may be given:
	// the model's class map. Without it any name is taken.
	Classes []string
}

// ReadAnswers reads an answers file: Parquet when data starts and ends
// with the Parquet magic bytes (PAR1), CSV otherwise. name is used in
// errors. It returns the answers, in the order of their first rows, and an
// *AnswerError for each bad row; err is set, alone, when the file cannot
// be read as answers at all (no header, a missing column, a column of the
// wrong type). See the package doc for the format.
//
// A review's answer is refused whole when one of its rows is bad: its
// other rows are bad rows too ("another row of review … is bad"), so the
// review stays open in the queue for a corrected answer.
func ReadAnswers(data []byte, name string, opts ReadAnswersOptions) (answers []Answer, bad []*AnswerError, err error) {
	r := &answerReader{name: name, classes: opts.Classes}
	if storage.IsParquet(data) {
		err = r.readParquet(data)
	} else {
		err = r.readCSV(data)
	}
	if err != nil {
		return nil, nil, err
	}
	answers, bad = r.group()
	return answers, bad, nil
}

// An answerRow is one row of an answers file, checked field by field.
type answerRow struct {
	row                    int
	id, outcome, inspector string
	decidedAt              time.Time
	photo                  bool // the row gives a photo's class
	index                  int
	uri, class             string
	err                    *AnswerError
}

type answerReader struct {
	name    string
	classes []string
	photos  bool // the file has the photo columns
	rows    []*answerRow
}

// fields are a row's values as text: "" and false for a null.
type fields struct {
	id, outcome, inspector, decidedAt, index, uri, class string
	hasIndex                                             bool
	index64                                              int64 // the index, when read as an integer (Parquet)
	indexInt                                             bool
	decidedTime                                          time.Time // decided_at, when read as a timestamp (Parquet)
}

// add checks a row's fields and keeps it.
func (r *answerReader) add(row int, f fields) {
	ar := &answerRow{row: row, id: strings.TrimSpace(f.id)}
	bad := func(col, format string, args ...any) {
		if ar.err == nil {
			ar.err = &AnswerError{Name: r.name, Row: row, Column: col, Reason: fmt.Sprintf(format, args...)}
		}
	}
	text := func(col, v, want string, limit int) string {
		v = strings.TrimSpace(v)
		switch {
		case !utf8.ValidString(v):
			bad(col, "%s is not valid UTF-8", clip.Q(v))
		case v == "":
			bad(col, "missing, want %s", want)
		case len(v) > limit:
			bad(col, "%d bytes, want at most %d", len(v), limit)
		}
		return v
	}
	ar.id = text(colReviewID, f.id, "the review's id", MaxIDBytes)
	switch o := strings.ToLower(strings.TrimSpace(f.outcome)); o {
	case credit.Grant, credit.Reject:
		ar.outcome = o
	case "":
		bad(colOutcome, "missing, want %s or %s", credit.Grant, credit.Reject)
	default:
		bad(colOutcome, "%s, want %s or %s", clip.Q(f.outcome), credit.Grant, credit.Reject)
	}
	ar.inspector = text(colInspector, f.inspector, "who decided", MaxIDBytes)
	if !f.decidedTime.IsZero() {
		ar.decidedAt = f.decidedTime
	} else if s := strings.TrimSpace(f.decidedAt); s == "" {
		bad(colDecidedAt, "missing, want when the person decided, such as 2026-11-29T14:03:00Z")
	} else if t, ok := parseTime(s); ok {
		ar.decidedAt = t
	} else {
		bad(colDecidedAt, "%s, want a time such as 2026-11-29T14:03:00Z (RFC 3339; without a zone, UTC)", clip.Q(s))
	}
	if r.photos && (f.hasIndex || strings.TrimSpace(f.uri) != "" || strings.TrimSpace(f.class) != "") {
		ar.photo = true
		switch {
		case f.indexInt:
			if f.index64 < 0 || f.index64 > math.MaxInt32 {
				bad(colImageIndex, "%d, want an integer from 0 to %d", f.index64, math.MaxInt32)
			}
			ar.index = int(f.index64)
		case !f.hasIndex || strings.TrimSpace(f.index) == "":
			bad(colImageIndex, "missing, want the photo's image_index (with image_uri and class_name, a row gives one photo's class)")
		default:
			n, err := strconv.Atoi(strings.TrimSpace(f.index))
			if err != nil || n < 0 || n > math.MaxInt32 {
				bad(colImageIndex, "%s, want an integer from 0 to %d", clip.Q(f.index), math.MaxInt32)
			}
			ar.index = n
		}
		ar.uri = text(colImageURI, f.uri, "the photo's s3:// URI", MaxImageURIBytes)
		if ar.err == nil {
			if _, _, err := storage.ParseS3(ar.uri); err != nil || !storage.IsS3(ar.uri) {
				bad(colImageURI, "%s, want the photo's s3://bucket/key: a training manifest names photos in S3", clip.Q(ar.uri))
			} else if _, reason := manifest.PhotoType(ar.uri, nil); reason != "" {
				bad(colImageURI, "%s: %s", clip.Q(ar.uri), reason)
			}
		}
		ar.class = text(colClassName, f.class, "the photo's class", MaxIDBytes)
		if ar.err == nil && len(r.classes) > 0 && !slices.Contains(r.classes, ar.class) {
			bad(colClassName, "%s is not a class of the model (classes: %s)", clip.Q(ar.class), strings.Join(r.classes, ", "))
		}
	}
	if ar.err != nil && utf8.ValidString(ar.id) && len(ar.id) <= MaxIDBytes {
		ar.err.ReviewID = ar.id
	}
	r.rows = append(r.rows, ar)
}

// timeLayouts are the forms of decided_at read from text: RFC 3339, with
// a space or a T, and without a zone (UTC).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// group turns the rows into answers, one a review: a review's rows must
// agree on its outcome, inspector and decided_at; a review is answered
// either by one row without a photo or by one row per photo, each photo
// once.
func (r *answerReader) group() ([]Answer, []*AnswerError) {
	type review struct {
		rows []*answerRow
		bad  *AnswerError // the first bad row
	}
	byID := map[string]*review{}
	var order []string
	var bad []*AnswerError
	for _, ar := range r.rows {
		if ar.err != nil && ar.err.ReviewID == "" {
			bad = append(bad, ar.err) // a row that names no review
			continue
		}
		rv := byID[ar.id]
		if rv == nil {
			rv = &review{}
			byID[ar.id] = rv
			order = append(order, ar.id)
		}
		rv.rows = append(rv.rows, ar)
		if ar.err == nil && len(rv.rows) > 1 {
			first := rv.rows[0]
			differs := func(col, got, want string) {
				if ar.err == nil && got != want {
					ar.err = &AnswerError{Name: r.name, Row: ar.row, Column: col, ReviewID: ar.id,
						Reason: fmt.Sprintf("%s differs from row %d's %s: a review has one answer", clip.Q(got), first.row, clip.Q(want))}
				}
			}
			if first.err == nil {
				differs(colOutcome, ar.outcome, first.outcome)
				differs(colInspector, ar.inspector, first.inspector)
				differs(colDecidedAt, ar.decidedAt.Format(time.RFC3339Nano), first.decidedAt.Format(time.RFC3339Nano))
			}
			for _, other := range rv.rows[:len(rv.rows)-1] {
				if ar.err != nil {
					break
				}
				switch {
				case !ar.photo || !other.photo:
					ar.err = &AnswerError{Name: r.name, Row: ar.row, ReviewID: ar.id,
						Reason: fmt.Sprintf("review %s is answered in row %d already: a review is answered by one row, or by one row per photo", clip.Q(ar.id), other.row)}
				case ar.index == other.index:
					ar.err = &AnswerError{Name: r.name, Row: ar.row, Column: colImageIndex, ReviewID: ar.id,
						Reason: fmt.Sprintf("photo %d of review %s is given in row %d already", ar.index, clip.Q(ar.id), other.row)}
				}
			}
		}
		if ar.err != nil && rv.bad == nil {
			rv.bad = ar.err
		}
	}
	var answers []Answer
	for _, id := range order {
		rv := byID[id]
		if rv.bad != nil {
			for _, ar := range rv.rows {
				if ar.err == nil {
					ar.err = &AnswerError{Name: r.name, Row: ar.row, ReviewID: id,
						Reason: fmt.Sprintf("another row of review %s is bad (row %d): the review's answer is left out whole", clip.Q(id), rv.bad.Row)}
				}
				bad = append(bad, ar.err)
			}
			continue
		}
		first := rv.rows[0]
		a := Answer{ReviewID: id, Outcome: first.outcome, Inspector: first.inspector, DecidedAt: first.decidedAt, Row: first.row}
		for _, ar := range rv.rows {
			if ar.photo {
				a.Photos = append(a.Photos, PhotoLabel{Index: ar.index, ImageURI: ar.uri, Class: ar.class})
			}
		}
		answers = append(answers, a)
	}
	slices.SortStableFunc(bad, func(a, b *AnswerError) int { return a.Row - b.Row })
	return answers, bad
}

// findColumns finds the answers columns among names (matched without
// surrounding spaces and case): the index of each, -1 for an optional
// one absent. A missing column, a partial set of photo columns, or a
// column twice is an error.
func (r *answerReader) findColumns(names []string) (map[string]int, error) {
	at := map[string]int{}
	for i, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if !slices.Contains(answerColumns, n) && !slices.Contains(photoColumns, n) {
			continue // other columns are the labelling tool's: left alone
		}
		if _, dup := at[n]; dup {
			return nil, fmt.Errorf("%s: column %s appears twice", r.name, n)
		}
		at[n] = i
	}
	var missing, photos []string
	for _, c := range answerColumns {
		if _, ok := at[c]; !ok {
			missing = append(missing, c)
		}
	}
	for _, c := range photoColumns {
		if _, ok := at[c]; ok {
			photos = append(photos, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: no column %s: an answers file has the columns %s, and optionally %s (a row per photo then)",
			r.name, strings.Join(missing, ", "), strings.Join(answerColumns, ", "), strings.Join(photoColumns, ", "))
	}
	if len(photos) > 0 && len(photos) < len(photoColumns) {
		return nil, fmt.Errorf("%s: column %s without the others: photo classes need all of %s",
			r.name, strings.Join(photos, ", "), strings.Join(photoColumns, ", "))
	}
	r.photos = len(photos) > 0
	for _, c := range photoColumns {
		if _, ok := at[c]; !ok {
			at[c] = -1
		}
	}
	return at, nil
}

func (r *answerReader) readCSV(data []byte) error {
	br := bufio.NewReader(bytes.NewReader(data))
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s: empty file, want a header row naming the columns %s", r.name, strings.Join(answerColumns, ", "))
	case err != nil:
		return fmt.Errorf("%s: header: %w", r.name, err)
	}
	cols, err := r.findColumns(header)
	if err != nil {
		return err
	}
	cr.FieldsPerRecord = len(header)
	get := func(rec []string, col string) (string, bool) {
		if i := cols[col]; i >= 0 && i < len(rec) {
			return rec[i], true
		}
		return "", false
	}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if pe := (*csv.ParseError)(nil); errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				e := &AnswerError{Name: r.name, Row: row, Reason: fmt.Sprintf("%d fields, want %d as in the header", len(rec), len(header))}
				if id, ok := get(rec, colReviewID); ok && utf8.ValidString(id) && len(strings.TrimSpace(id)) <= MaxIDBytes {
					e.ReviewID = strings.TrimSpace(id)
				}
				r.rows = append(r.rows, &answerRow{row: row, id: e.ReviewID, err: e})
				continue
			}
			// Other CSV errors (a stray quote) leave the reader unsure
			// where rows begin: stop.
			return fmt.Errorf("%s: row %d: %w", r.name, row, err)
		}
		var f fields
		f.id, _ = get(rec, colReviewID)
		f.outcome, _ = get(rec, colOutcome)
		f.inspector, _ = get(rec, colInspector)
		f.decidedAt, _ = get(rec, colDecidedAt)
		f.index, _ = get(rec, colImageIndex)
		f.hasIndex = strings.TrimSpace(f.index) != ""
		f.uri, _ = get(rec, colImageURI)
		f.class, _ = get(rec, colClassName)
		r.add(row, f)
	}
}

func (r *answerReader) readParquet(data []byte) error {
	ctx := context.Background() // the file is in memory; nothing waits
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: read parquet: %w", r.name, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	names := make([]string, sc.NumFields())
	for i, f := range sc.Fields() {
		names[i] = f.Name
	}
	cols, err := r.findColumns(names)
	if err != nil {
		return err
	}
	var leaves []int
	pos := map[string]int{} // column -> index in the record batches read
	for _, c := range slices.Concat(answerColumns, photoColumns) {
		i := cols[c]
		if i < 0 {
			continue
		}
		f := sc.Field(i)
		want := "a string (utf8)"
		ok := arrowcol.IsString(f.Type)
		switch c {
		case colImageIndex:
			want, ok = "an integer", arrowcol.IsInteger(f.Type) || arrowcol.IsString(f.Type)
		case colDecidedAt:
			want, ok = "a timestamp, or a string in RFC 3339", f.Type.ID() == arrow.TIMESTAMP || arrowcol.IsString(f.Type)
		}
		if !ok {
			return fmt.Errorf("%s: column %s: type %s, want %s", r.name, c, f.Type, want)
		}
		sf := fr.Manifest.Fields[i]
		if !sf.IsLeaf() {
			return fmt.Errorf("%s: column %s: type %s is nested, want a plain column", r.name, c, f.Type)
		}
		pos[c] = len(leaves)
		leaves = append(leaves, sf.ColIndex)
	}
	if pf.NumRows() == 0 {
		return nil
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	defer rr.Release()
	row := 0
	for rr.Next() {
		rec := rr.RecordBatch()
		str := func(c string) func(int) string {
			i, ok := pos[c]
			if !ok {
				return func(int) string { return "" }
			}
			get := arrowcol.Strings(rec.Column(i))
			return func(j int) string { s, _ := get(j); return s }
		}
		id, outcome, inspector := str(colReviewID), str(colOutcome), str(colInspector)
		uri, class := str(colImageURI), str(colClassName)
		var (
			decidedText func(int) string
			decidedTime func(int) time.Time
		)
		if ts, ok := rec.Column(pos[colDecidedAt]).(*array.Timestamp); ok {
			unit := ts.DataType().(*arrow.TimestampType).Unit
			decidedTime = func(j int) time.Time {
				if ts.IsNull(j) {
					return time.Time{}
				}
				return ts.Value(j).ToTime(unit).UTC()
			}
		} else {
			decidedText = str(colDecidedAt)
		}
		// image_index: an integer column, or text read as the CSV's.
		var (
			indexInt  func(int) (int64, bool)
			indexText func(int) string
		)
		if i, ok := pos[colImageIndex]; ok && arrowcol.IsInteger(rec.Column(i).DataType()) {
			indexInt = arrowcol.Ints(rec.Column(i))
		} else if ok {
			indexText = str(colImageIndex)
		}
		for j := range int(rec.NumRows()) {
			row++
			f := fields{id: id(j), outcome: outcome(j), inspector: inspector(j), uri: uri(j), class: class(j)}
			if decidedTime != nil {
				f.decidedTime = decidedTime(j)
			} else {
				f.decidedAt = decidedText(j)
			}
			switch {
			case indexInt != nil:
				f.index64, f.hasIndex = indexInt(j)
				f.indexInt = f.hasIndex
			case indexText != nil:
				f.index = indexText(j)
				f.hasIndex = strings.TrimSpace(f.index) != ""
			}
			r.add(row, f)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	return nil
}
