package consolidate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultTrustStrength is the strength of a trust entry that gives none:
// the prior counts as 20 answers per true class.
const DefaultTrustStrength = 20

// Trust is what a team believes of one inspector before looking at the
// answers.
type Trust struct {
	// Accuracy is the prior probability that the inspector answers the true
	// class, in (0, 1).
	Accuracy float64
	// Strength is how many answers per true class the prior is worth
	// against the inspector's actual answers; 0 means
	// DefaultTrustStrength. A large strength (1e6) pins the accuracy.
	Strength float64
}

// Weight is the vote weight of an inspector of accuracy acc among k
// classes: the log-odds ln((k-1)·acc/(1-acc)) that makes a weighted vote
// the Bayes decision of the one-coin model (every wrong class equally
// likely). An inspector at chance (1/k) weighs 0.
func Weight(acc float64, k int) float64 {
	return math.Log(float64(k-1) * acc / (1 - acc))
}

// accuracyOfWeight inverts Weight.
func accuracyOfWeight(w float64, k int) float64 {
	e := math.Exp(w)
	return e / (float64(k-1) + e)
}

// ReadTrust reads a trust file: CSV with a header row naming the columns
// inspector_id, then accuracy or weight, and optionally strength (see the
// package doc). k is the number of classes, which turns a weight into an
// accuracy. name is used in errors.
func ReadTrust(r io.Reader, name string, k int) (map[string]Trust, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comment = '#'
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, &InputError{File: name, Reason: "empty file, want a header row: inspector_id,accuracy[,strength] or inspector_id,weight[,strength]"}
	case err != nil:
		return nil, &InputError{File: name, Field: "header", Reason: err.Error()}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; dup {
			return nil, &InputError{File: name, Field: h, Reason: "column appears twice"}
		}
		col[h] = i
	}
	idCol, okID := col[ColInspector]
	accCol, okAcc := col["accuracy"]
	wCol, okW := col["weight"]
	strCol, okStr := col["strength"]
	switch {
	case !okID:
		return nil, &InputError{File: name, Reason: "no column inspector_id in the header"}
	case okAcc == okW:
		return nil, &InputError{File: name, Reason: "want exactly one of the columns accuracy and weight"}
	}
	cr.FieldsPerRecord = len(header)
	trust := map[string]Trust{}
	rowOf := map[string]int{}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return trust, nil
		}
		if err != nil {
			return nil, &InputError{File: name, Row: row, Reason: err.Error()}
		}
		bad := func(field, format string, args ...any) error {
			return &InputError{File: name, Row: row, Field: field, Reason: fmt.Sprintf(format, args...)}
		}
		id := strings.TrimSpace(rec[idCol])
		switch {
		case !utf8.ValidString(id):
			return nil, bad(ColInspector, "not valid UTF-8")
		case id == "":
			return nil, bad(ColInspector, "empty, want the inspector's id")
		}
		if first, dup := rowOf[id]; dup {
			return nil, bad(ColInspector, "%q is on row %d too", id, first)
		}
		rowOf[id] = row
		var t Trust
		if okAcc {
			s := strings.TrimSpace(rec[accCol])
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || !(v > 0 && v < 1) {
				return nil, bad("accuracy", "got %q, want a number strictly between 0 and 1", s)
			}
			t.Accuracy = v
		} else {
			s := strings.TrimSpace(rec[wCol])
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) > 30 {
				return nil, bad("weight", "got %q, want a number (a vote weight, the log-odds of being right; 0 is chance, within ±30)", s)
			}
			t.Accuracy = accuracyOfWeight(v, k)
		}
		if okStr {
			if s := strings.TrimSpace(rec[strCol]); s != "" {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil || !(v > 0) || math.IsInf(v, 0) {
					return nil, bad("strength", "got %q, want a positive number of answers, or nothing for %d", s, DefaultTrustStrength)
				}
				t.Strength = v
			}
		}
		trust[id] = t
	}
}
