package inspect

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadReviewsCSV reads a reviews file in CSV (see the package doc). name is
// used in errors. It returns the valid rows and a RowError for each other
// row, in file order; err is set, alone, when the file cannot be read as a
// reviews CSV at all.
func ReadReviewsCSV(r io.Reader, name string) (reviews []Review, bad []*RowError, err error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, nil, fmt.Errorf("%s: empty file, want a header row naming the columns %s", name, strings.Join(reviewColumns, ", "))
	case err != nil:
		return nil, nil, fmt.Errorf("%s: header: %w", name, err)
	}
	cols, err := csvColumns(header)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", name, err)
	}
	cr.FieldsPerRecord = len(header)

	check := newRowChecker(name)
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return reviews, bad, nil
		}
		if err != nil {
			if pe := (*csv.ParseError)(nil); errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
				// The review_id, when the row reaches it, still tells
				// whose row it is: that review goes to a person.
				rv := Review{ImageIndex: -1}
				if cols[0] < len(rec) {
					rv.ReviewID = strings.TrimSpace(rec[cols[0]])
				}
				if cols[1] < len(rec) {
					rv.ReviewType = strings.TrimSpace(rec[cols[1]])
				}
				bad = append(bad, &RowError{Name: name, Row: row,
					Reason: fmt.Sprintf("%d fields, want %d as in the header", len(rec), len(header)), Review: rv})
				continue
			}
			// Other CSV errors (a stray quote) leave the reader unsure
			// where rows begin: stop.
			return nil, nil, fmt.Errorf("%s: row %d: %w", name, row, err)
		}
		rv, col, reason := csvReview(rec, cols)
		if reason != "" {
			bad = append(bad, &RowError{Name: name, Row: row, Column: col, Reason: reason, Review: rv})
			continue
		}
		if e := check.check(row, rv); e != nil {
			bad = append(bad, e)
			continue
		}
		reviews = append(reviews, rv)
	}
}

// csvColumns finds each column of reviewColumns in a header: the field
// index, by the column's place in reviewColumns. Names are matched without
// surrounding spaces and case.
func csvColumns(header []string) ([]int, error) {
	cols := make([]int, len(reviewColumns))
	for i := range cols {
		cols[i] = -1
	}
	for j, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for i, c := range reviewColumns {
			if h != c {
				continue
			}
			if cols[i] >= 0 {
				return nil, fmt.Errorf("column %s appears twice (fields %d and %d)", c, cols[i]+1, j+1)
			}
			cols[i] = j
		}
	}
	var missing []string
	for i, c := range reviewColumns {
		if cols[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no column %s (want %s, in any order; found %s)",
			strings.Join(missing, ", "), strings.Join(reviewColumns, ", "), strings.Join(header, ", "))
	}
	return cols, nil
}

// csvReview reads one record; a reason is set for the first column, in
// table order, whose value cannot be used. Duplicates are the caller's.
func csvReview(rec []string, cols []int) (rv Review, column, reason string) {
	get := func(i int) string { return strings.TrimSpace(rec[cols[i]]) }
	rv = Review{
		ReviewID:   get(0),
		ReviewType: get(1),
		ImageURI:   get(2),
		UserID:     get(4),
		ProductID:  get(5),
	}
	idx, idxReason := get(3), ""
	n, err := strconv.ParseInt(idx, 10, 64)
	switch {
	case idx == "":
		idxReason = "missing, want an integer from 0"
	case err != nil && errors.Is(err, strconv.ErrRange), err == nil && n > maxImageIndex:
		idxReason = fmt.Sprintf("got %s, want an integer from 0 to %d", idx, maxImageIndex)
	case err != nil:
		idxReason = fmt.Sprintf("got %q, want an integer from 0", idx)
	default:
		rv.ImageIndex = int(n)
	}
	col, reason := checkReview(&rv)
	if idxReason != "" {
		rv.ImageIndex = -1
		if reason == "" || col == colImageIndex {
			return rv, colImageIndex, idxReason
		}
	}
	if reason != "" {
		return rv, col, reason
	}
	t, reason := parseTime(get(6))
	if reason != "" {
		return rv, colCreatedAt, reason
	}
	rv.CreatedAt = t
	return rv, "", ""
}
