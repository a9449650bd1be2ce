package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// decodePrediction is ParsePrediction on encoding/json.
func decodePrediction(data []byte, numClasses int) (Prediction, error) {
	if numClasses < 1 {
		return Prediction{}, fmt.Errorf("parse prediction: %d classes, want at least 1", numClasses)
	}
	off := 0
	if bytes.HasPrefix(data, utf8BOM) {
		off = len(utf8BOM)
	}
	text := bytes.TrimLeft(data[off:], jsonSpace)
	if len(text) == 0 {
		return Prediction{}, invalid(`empty output, want {"prediction": [p0, p1, ...]}`)
	}
	r := record{data: data, off: off, dec: json.NewDecoder(bytes.NewReader(data[off:]))}
	var (
		p   Prediction
		err *PredictionError
	)
	switch text[0] {
	case '[':
		p.Probabilities, err = r.probabilities(numClasses)
	case '{':
		p.Probabilities, err = r.object(numClasses)
	default:
		if kind := kindOf(text); kind != "" {
			return Prediction{}, invalid(`the output is %s, want {"prediction": [p0, p1, ...]} or [p0, p1, ...]`, kind)
		}
		return Prediction{}, malformed(data, off)
	}
	if err != nil {
		return Prediction{}, err
	}
	if rest := data[off+int(r.dec.InputOffset()):]; len(bytes.TrimLeft(rest, jsonSpace)) > 0 {
		return Prediction{}, malformed(data, off)
	}
	p.summarize()
	return p, nil
}

var utf8BOM = []byte("\xEF\xBB\xBF")

const jsonSpace = " \t\r\n"

// record reads the JSON value at data[off:] with dec.
type record struct {
	data []byte
	off  int
	dec  *json.Decoder
}

// object reads {"prediction": [...], ...}. Token unescapes keys, and they
// are matched exactly: "Prediction" is another key, and a second
// "prediction" is seen.
func (r *record) object(n int) ([]float64, *PredictionError) {
	if _, err := r.dec.Token(); err != nil { // {
		return nil, malformed(r.data, r.off)
	}
	var probs []float64
	keys, found := 0, false
	for r.dec.More() {
		key, err := r.dec.Token()
		if err != nil {
			return nil, malformed(r.data, r.off)
		}
		keys++
		if key != "prediction" {
			if err := r.dec.Decode(&skip{}); err != nil {
				return nil, malformed(r.data, r.off)
			}
			continue
		}
		if found {
			return nil, invalid(`"prediction" appears twice, want it once`)
		}
		found = true
		var perr *PredictionError
		if probs, perr = r.probabilities(n); perr != nil {
			return nil, perr
		}
	}
	if _, err := r.dec.Token(); err != nil { // }
		return nil, malformed(r.data, r.off)
	}
	switch {
	case keys == 0:
		return nil, invalid(`empty object {}, want {"prediction": [p0, p1, ...]}`)
	case !found:
		return nil, invalid(`no "prediction" key, want {"prediction": [p0, p1, ...]}`)
	}
	return probs, nil
}

// skip is a JSON value decoded for nothing.
type skip struct{}

func (*skip) UnmarshalJSON([]byte) error { return nil }

// probabilities reads the array [p0, p1, ...] that is the next value: n
// numbers in [0, 1].
func (r *record) probabilities(n int) ([]float64, *PredictionError) {
	value := bytes.TrimLeft(r.data[r.off+int(r.dec.InputOffset()):], jsonSpace+":")
	if len(value) > 0 && value[0] != '[' {
		if kind := kindOf(value); kind != "" {
			return nil, invalid(`"prediction" is %s, want an array of %d probabilities`, kind, n)
		}
	}
	start := len(r.data) - len(value)
	// A file too short for n values does not get n allocated.
	probs := make([]float64, 0, min(n, len(value)/2))
	err := r.dec.Decode(&probs)
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &typeErr) {
		return nil, malformed(r.data, r.off)
	}
	arr := r.data[start : r.off+int(r.dec.InputOffset())]
	// Into a float64, encoding/json decodes a number and refuses any other
	// value but null, which it skips: in an array that decoded, "null" is
	// one of the values.
	if err != nil || bytes.Contains(arr, []byte("null")) {
		return nil, notProbability(arr)
	}
	for i, v := range probs {
		if v < 0 || v > 1 {
			return nil, notProbability(arr)
		}
		probs[i] = v + 0 // -0 is 0
	}
	if len(probs) != n {
		return nil, wrongCount(len(probs), n)
	}
	return probs, nil
}

// notProbability says which value of the JSON array arr is not a number
// in [0, 1], and why.
func notProbability(arr []byte) *PredictionError {
	var values []any
	dec := json.NewDecoder(bytes.NewReader(arr))
	dec.UseNumber()
	_ = dec.Decode(&values) // arr decoded once already
	for i, v := range values {
		kind := ""
		switch v := v.(type) {
		case json.Number:
			if f, err := strconv.ParseFloat(string(v), 64); err != nil || f < 0 || f > 1 {
				return invalid("probability %d is %s, want [0, 1]", i, v)
			}
			continue
		case string:
			kind = "a string"
		case bool:
			kind = "a boolean"
		case nil:
			kind = "null"
		case []any:
			kind = "an array"
		case map[string]any:
			kind = "an object"
		}
		return invalid("probability %d is %s, want a number in [0, 1]", i, kind)
	}
	return invalid("the probabilities %s are not numbers in [0, 1]", arr)
}

// malformed says why data[off:] is not one JSON value: it is not JSON, or
// the JSON is cut short, or more follows the record. Bytes are counted
// from 1, the byte-order mark included.
func malformed(data []byte, off int) *PredictionError {
	dec := json.NewDecoder(bytes.NewReader(data[off:]))
	var syntaxErr *json.SyntaxError
	switch err := dec.Decode(new(json.RawMessage)); {
	case errors.As(err, &syntaxErr):
		// Offset counts the bytes read up to the bad one (right in the
		// first value of a stream only).
		at := off + int(syntaxErr.Offset) - 1
		if start, w := valueWord(data, at); w != "" {
			return invalid("not JSON at byte %d: %s is not a JSON value", start+1, w)
		}
		return invalid("not JSON at byte %d: %v", at+1, err)
	case err != nil:
		return invalid("truncated: the JSON ends after byte %d", len(data))
	}
	end := off + int(dec.InputOffset())
	next := len(data) - len(bytes.TrimLeft(data[end:], jsonSpace))
	if bytes.IndexByte(data[end:next], '\n') < 0 {
		return invalid("not JSON at byte %d: %s after the record, want the end of the output", next+1, strconv.QuoteRune(rune(data[next])))
	}
	records := 1
	for line := range bytes.Lines(data[next:]) {
		if len(bytes.Trim(line, jsonSpace)) > 0 {
			records++
		}
	}
	return invalid("%d records (lines), want 1 per photo", records)
}

// valueWord returns the bare word at data[at] where a value starts (NaN,
// Infinity or -Infinity, as Python writes them), and the index of its
// first byte; "" when none is there.
func valueWord(data []byte, at int) (int, string) {
	if !isLetter(data[at]) {
		return 0, ""
	}
	start := at
	if start > 0 && data[start-1] == '-' {
		start--
	}
	if start > 0 && strings.IndexByte(jsonSpace+",:[", data[start-1]) < 0 {
		return 0, ""
	}
	return start, word(data[start:])
}

// kindOf names the JSON value that b starts with, for messages ("a
// string"), or "" when none does. A bare word that is not a JSON literal
// (NaN, Infinity, -Infinity, as Python writes them) is named with "(not
// JSON)".
func kindOf(b []byte) string {
	switch c := b[0]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == '-' && len(b) > 1 && isLetter(b[1]), isLetter(c):
		switch w := word(b); w {
		case "true", "false":
			return "a boolean"
		case "null":
			return "null"
		default:
			return w + " (not JSON)"
		}
	case c == '-', isDigit(c):
		return "a number"
	}
	return ""
}

// word returns the run of letters (after a minus sign) that b starts with,
// capped for messages.
func word(b []byte) string {
	i := 0
	if b[0] == '-' {
		i++
	}
	for i < len(b) && isLetter(b[i]) && i < 32 {
		i++
	}
	return string(b[:i])
}
