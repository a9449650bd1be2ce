package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Prediction statuses, the status column of the predictions table.
const (
	StatusOK      = "ok"      // the output object was read and is a prediction
	StatusMissing = "missing" // the transform job left no output object
	StatusInvalid = "invalid" // the output object is not a prediction (see PredictionError)
)

// SumTolerance is how far the probabilities of a prediction may sum from 1
// before the prediction is flagged (Prediction.SumOff).
const SumTolerance = 1e-3

// A Prediction is what the built-in image-classification algorithm said of
// one photo.
type Prediction struct {
	Probabilities []float64 // one per class, in class-index order
	Label         int       // argmax (ties: lowest index)
	Confidence    float64   // Probabilities[Label]
	Margin        float64   // Confidence minus the second highest (0 with one class)
	// Sum is the sum of the probabilities: 1 up to rounding for the
	// softmax output of a single-label model.
	Sum float64
	// SumOff is set when Sum is more than SumTolerance from 1. The
	// prediction is still returned: flagged, not refused (see Warning).
	SumOff bool
}

// Warning says what is odd about an accepted prediction, for the reason
// column of an ok row: "" when nothing is.
func (p *Prediction) Warning() string {
	if !p.SumOff {
		return ""
	}
	return fmt.Sprintf("probabilities sum to %.6g, want 1 (within %g)", p.Sum, SumTolerance)
}

// A PredictionError says why an output object is not a prediction. Reason
// is for people, names what was expected, and is what the predictions
// table keeps in its reason column.
type PredictionError struct {
	Reason string
	// Count, when the output holds the wrong number of probabilities, is
	// how many it holds (0 otherwise): every output of a day holding
	// another count than the class map's says the class map is not the
	// model's.
	Count int
}

func (e *PredictionError) Error() string { return "invalid prediction: " + e.Reason }

// ParsePrediction reads one Batch Transform output object (X.jpg.out) of
// the built-in image-classification algorithm. numClasses is the class
// map's length.
//
// Three shapes are accepted, after a UTF-8 byte-order mark and surrounding
// whitespace are trimmed:
//
//   - {"prediction": [p0, p1, ...]}, Batch Transform's body with Accept
//     application/jsonlines; other keys are ignored, and keys are matched
//     exactly, after unescaping: "Prediction" is another key, and a second
//     "prediction" is refused;
//   - [p0, p1, ...], a real-time endpoint's answer with Accept
//     application/json;
//   - JSON Lines holding exactly one such record (one line; blank lines
//     after it are whitespace).
//
// The probabilities must be JSON numbers in [0, 1] (not strings, not
// NaN), one per class. They need not sum to 1: a sum more than
// SumTolerance off is flagged in SumOff, not refused.
//
// An object that is not a prediction gives a *PredictionError. Its Reason
// names the first fault found: the index and value of a probability, the
// count, the record count of JSON Lines, or, for what is not JSON, the
// byte (counted from 1, the byte-order mark included) and encoding/json's
// description of it. Any other error is the caller's: numClasses below 1.
//
// # Why encoding/json
//
// ParsePrediction was a hand-written scanner of about 500 lines (one
// allocation a prediction), kept if it paid for itself end to end. It did
// not. Both parsers side by side are at commit d558927, where every
// prediction test ran on both and -tags predictionjson built the step on
// encoding/json. On a 2-core machine shared with other work (medians):
//
//	go test ./inspect -run '^$' -bench ParsePrediction -count 14
//	                        scanner                  encoding/json
//	5 classes (49 bytes)    0.23 µs, 1 alloc, 48 B   2.3 µs, 16 allocs, 1.1 KiB
//	1000 classes (24 KB)    97 µs, 1 alloc, 8 KiB    320 µs, 21 allocs, 71 KiB
//
//	SEQUENTIAL=0 [CLASSES=1000] PREDICTIONS_BIN=<step> bench/predictions.sh 5
//	the step's whole process on that day (20,000 outputs, 1000 classes in
//	about 10 KB, S3 20 ms late), 5 runs of each binary, the two in turn:
//	                        wall     CPU      peak RSS
//	5 classes     scanner   8.13 s   3.23 s   106 MiB
//	              json      8.70 s   3.27 s   102 MiB   wall ×1.03 (0.99–1.10)
//	1000 classes  scanner   9.05 s   5.12 s   612 MiB
//	              json      9.36 s   7.06 s   611 MiB   wall ×1.00 (0.58–1.10)
//
// The wall ratios are pair by pair, median (min–max); 9 more runs of each
// at 5 classes gave ×1.02 (0.82–1.33), CPU ×1.02. The step waits on S3,
// 64 GETs at a time: on the project's 5-class model the parser's 2 µs an
// output is 0.04 s of CPU a day, and even at 1000 classes its extra CPU
// (1.9 s) does not show in the wall time.
//
// What encoding/json changes: a syntax error is worded by encoding/json
// (what it found, not what was expected; a byte above 0x7F shows as a
// Latin-1 character), NaN and Infinity are named without their index, and
// a syntax error among the probabilities is named before a wrong value.
func ParsePrediction(data []byte, numClasses int) (Prediction, error) {
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
		return Prediction{}, malformed(data, off, nil)
	}
	if err != nil {
		return Prediction{}, err
	}
	if rest := data[off+int(r.dec.InputOffset()):]; len(bytes.TrimLeft(rest, jsonSpace)) > 0 {
		return Prediction{}, malformed(data, off, nil)
	}
	p.summarize()
	return p, nil
}

// summarize sets the fields derived from the probabilities.
func (p *Prediction) summarize() {
	probs := p.Probabilities
	best, sum := 0, 0.0
	for i, v := range probs {
		sum += v
		if v > probs[best] {
			best = i
		}
	}
	second := math.Inf(-1)
	for i, v := range probs {
		if i != best && v > second {
			second = v
		}
	}
	p.Label, p.Confidence, p.Sum = best, probs[best], sum
	if len(probs) > 1 {
		p.Margin = probs[best] - second
	}
	p.SumOff = math.Abs(sum-1) > SumTolerance
}

func invalid(format string, args ...any) *PredictionError {
	return &PredictionError{Reason: fmt.Sprintf(format, args...)}
}

func wrongCount(got, want int) *PredictionError {
	noun := "probabilities"
	if got == 1 {
		noun = "probability"
	}
	e := invalid("got %d %s, want %d (one per class)", got, noun, want)
	e.Count = got
	return e
}

var utf8BOM = []byte("\xEF\xBB\xBF")

const jsonSpace = " \t\r\n"

// record reads the JSON value at data[off:] with dec.
type record struct {
	data []byte
	off  int
	dec  *json.Decoder
}

// object reads {"prediction": [...], ...}.
func (r *record) object(n int) ([]float64, *PredictionError) {
	if _, err := r.dec.Token(); err != nil { // {
		return nil, malformed(r.data, r.off, err)
	}
	var probs []float64
	keys, found := 0, false
	for r.dec.More() {
		key, err := r.dec.Token() // unescaped
		if err != nil {
			return nil, malformed(r.data, r.off, err)
		}
		keys++
		if key != "prediction" {
			if err := r.dec.Decode(&skip{}); err != nil {
				return nil, malformed(r.data, r.off, err)
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
		return nil, malformed(r.data, r.off, err)
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
	value := bytes.TrimLeft(r.data[r.off+int(r.dec.InputOffset()):], jsonSpace)
	value = bytes.TrimLeft(bytes.TrimPrefix(value, []byte(":")), jsonSpace) // after a key
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
		return nil, malformed(r.data, r.off, err)
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

// malformed says why data[off:] is not one JSON value, where walkErr (or
// data after the record, when nil) stopped reading it: it is not JSON, or
// the JSON is cut short, or more follows the record.
func malformed(data []byte, off int, walkErr error) *PredictionError {
	// A Decoder reports the offset of a syntax error right in the first
	// value of its stream only: a new one reads the record again.
	dec := json.NewDecoder(bytes.NewReader(data[off:]))
	var syntaxErr *json.SyntaxError
	switch err := dec.Decode(new(json.RawMessage)); {
	case errors.As(err, &syntaxErr):
		at := off + int(syntaxErr.Offset) - 1 // the bad byte
		if start, w := valueWord(data, at); w != "" {
			return invalid("not JSON at byte %d: %s is not a JSON value", start+1, w)
		}
		return invalid("not JSON at byte %d: %v", at+1, err)
	case err != nil:
		return invalid("truncated: the JSON ends after byte %d", len(data))
	}
	end := off + int(dec.InputOffset())
	next := len(data) - len(bytes.TrimLeft(data[end:], jsonSpace))
	switch {
	case next == len(data): // the record alone decodes
		return invalid("not JSON: %v", walkErr)
	case bytes.IndexByte(data[end:next], '\n') < 0:
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

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
