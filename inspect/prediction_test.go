package inspect_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/inspect"
)

// readOutput reads a Batch Transform output object from
// testdata/predictions.
func readOutput(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "predictions", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// okPrediction is ok.jpg.out's prediction.
var okPrediction = inspect.Prediction{
	Label: 1, Confidence: 0.97, Margin: 0.97 - 0.01, Sum: 0.01 + 0.97 + 0.01 + 0.005 + 0.005,
	Probabilities: []float64{0.01, 0.97, 0.01, 0.005, 0.005},
}

// TestParsePredictionFiles reads every output object in
// testdata/predictions, for a model of five classes.
func TestParsePredictionFiles(t *testing.T) {
	tests := []struct {
		file   string
		want   inspect.Prediction // when reason is ""
		reason string
	}{
		{file: "ok.jpg.out", want: okPrediction},
		{file: "bare.jpg.out", want: inspect.Prediction{
			Label: 2, Confidence: 0.9711999893188477, Margin: 0.9711999893188477 - 0.013399999588727951, Sum: 0.9999999885912985,
			Probabilities: []float64{0.002099999925121665, 0.013399999588727951, 0.9711999893188477, 0.008899999782443047, 0.004399999976158142},
		}},
		{file: "jsonl.jpg.out", want: okPrediction},
		{file: "bom-crlf.jpg.out", want: okPrediction},
		{file: "pretty.jpg.out", want: okPrediction},
		{file: "extra-keys.jpg.out", want: inspect.Prediction{
			Label: 0, Confidence: 0.2, Margin: 0, Sum: 0.2 + 0.2 + 0.2 + 0.2 + 0.2,
			Probabilities: []float64{0.2, 0.2, 0.2, 0.2, 0.2},
		}},
		{file: "tie.jpg.out", want: inspect.Prediction{
			Label: 1, Confidence: 0.4, Margin: 0, Sum: 0.1 + 0.4 + 0.4 + 0.05 + 0.05,
			Probabilities: []float64{0.1, 0.4, 0.4, 0.05, 0.05},
		}},
		{file: "exponent.jpg.out", want: inspect.Prediction{
			Label: 1, Confidence: 0.99997, Margin: 0.99997 - 1.2e-05, Sum: 1.2e-05 + 0.99997 + 6e-6 + 0 + 1.2e-5,
			Probabilities: []float64{1.2e-05, 0.99997, 6e-6, 0, 1.2e-5},
		}},
		{file: "sumoff.jpg.out", want: inspect.Prediction{
			Label: 1, Confidence: 0.87, Margin: 0.87 - 0.01, Sum: 0.01 + 0.87 + 0.01 + 0.005 + 0.005, SumOff: true,
			Probabilities: []float64{0.01, 0.87, 0.01, 0.005, 0.005},
		}},
		{file: "short.jpg.out", reason: "got 4 probabilities, want 5 (one per class)"},
		{file: "truncated.jpg.out", reason: "truncated: the JSON ends after byte 31"},
		{file: "nan.jpg.out", reason: "not JSON at byte 23: NaN is not a JSON value"},
		{file: "big.jpg.out", reason: "probability 2 is 1.7, want [0, 1]"},
		{file: "two-records.jpg.out", reason: "2 records (lines), want 1 per photo"},
		{file: "empty.jpg.out", reason: `empty output, want {"prediction": [p0, p1, ...]}`},
		{file: "empty-object.jpg.out", reason: `empty object {}, want {"prediction": [p0, p1, ...]}`},
		{file: "no-key.jpg.out", reason: `no "prediction" key, want {"prediction": [p0, p1, ...]}`},
		{file: "strings.jpg.out", reason: "probability 0 is a string, want a number in [0, 1]"},
		{file: "not-array.jpg.out", reason: `"prediction" is a number, want an array of 5 probabilities`},
		{file: "error-body.jpg.out", reason: "not JSON at byte 1: invalid character '<' looking for beginning of value"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			got, err := inspect.ParsePrediction(readOutput(t, tt.file), 5)
			if tt.reason != "" {
				var pe *inspect.PredictionError
				if !errors.As(err, &pe) {
					t.Fatalf("ParsePrediction = %+v, %v; want a *PredictionError %q", got, err, tt.reason)
				}
				if pe.Reason != tt.reason {
					t.Errorf("reason = %q, want %q", pe.Reason, tt.reason)
				}
				if got, want := err.Error(), "invalid prediction: "+tt.reason; got != want {
					t.Errorf("Error() = %q, want %q", got, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrediction: %v", err)
			}
			// Margin and Sum are within rounding of the exact values: the
			// wants are constant expressions, which Go computes exactly.
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateApprox(0, 1e-15)); diff != "" {
				t.Errorf("prediction (-want +got):\n%s", diff)
			}
		})
	}
	// Every fixture is checked here: a new one needs a case.
	files, err := filepath.Glob(filepath.Join("testdata", "predictions", "*.out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no case in TestParsePredictionFiles", f)
		}
	}
}

// TestParsePrediction pins the edges of the format and the messages.
func TestParsePrediction(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		classes int
		probs   []float64 // when reason is ""
		reason  string
	}{
		{name: "one class", data: "[1]", classes: 1, probs: []float64{1}},
		{name: "one class, object", data: `{"prediction":[0.25]}`, classes: 1, probs: []float64{0.25}},
		{name: "no whitespace", data: `{"prediction":[0,1]}`, classes: 2, probs: []float64{0, 1}},
		{name: "surrounding whitespace", data: " \t\r\n [0.5 , 0.5] \r\n\t ", classes: 2, probs: []float64{0.5, 0.5}},
		{name: "blank lines after the record", data: "[0.5,0.5]\n\n  \n\r\n", classes: 2, probs: []float64{0.5, 0.5}},
		{name: "bom", data: "\xEF\xBB\xBF[0.5,0.5]", classes: 2, probs: []float64{0.5, 0.5}},
		{name: "negative zero", data: "[-0, 1, -0.0e5]", classes: 3, probs: []float64{0, 1, 0}},
		{name: "exponents", data: "[1E0, 0e+3, 5e-1, 5.0E-0001]", classes: 4, probs: []float64{1, 0, 0.5, 0.5}},
		{name: "escaped key", data: `{"predict\u0069on": [0.5, 0.5]}`, classes: 2, probs: []float64{0.5, 0.5}},
		{name: "escapes in other keys and values", data: `{"a\"b\\c\/\b\f\n\r\t\ud83d\ude00": "\u00e9\"", "prediction": [0.5, 0.5]}`, classes: 2, probs: []float64{0.5, 0.5}},
		{name: "nested values in other keys", data: `{"x": [[], {}, [{"a": [1, -2.5e3, true, false, null]}]], "prediction": [0.5, 0.5], "y": {"z": {}}}`, classes: 2, probs: []float64{0.5, 0.5}},
		{name: "key prediction as a value elsewhere", data: `{"key": "prediction", "prediction": [0.5, 0.5]}`, classes: 2, probs: []float64{0.5, 0.5}},
		{name: "long number", data: "[0.50000000000000000000000000000000000000000001, 0.5]", classes: 2, probs: []float64{0.5, 0.5}},
		{name: "underflow", data: "[1e-400, 1]", classes: 2, probs: []float64{0, 1}},

		{name: "blank", data: " \n\t\r\n", classes: 2, reason: `empty output, want {"prediction": [p0, p1, ...]}`},
		{name: "bom only", data: "\xEF\xBB\xBF", classes: 2, reason: `empty output, want {"prediction": [p0, p1, ...]}`},
		{name: "empty array", data: "[]", classes: 2, reason: "got 0 probabilities, want 2 (one per class)"},
		{name: "one value", data: "[1]", classes: 2, reason: "got 1 probability, want 2 (one per class)"},
		{name: "too many", data: "[0.1, 0.2, 0.3, 0.4]", classes: 2, reason: "got 4 probabilities, want 2 (one per class)"},
		{name: "above 1", data: "[0.5, 1.0000001]", classes: 2, reason: "probability 1 is 1.0000001, want [0, 1]"},
		{name: "below 0", data: "[-0.1, 1]", classes: 2, reason: "probability 0 is -0.1, want [0, 1]"},
		{name: "overflow", data: "[1e400, 0]", classes: 2, reason: "probability 0 is 1e400, want [0, 1]"},
		{name: "Infinity", data: "[Infinity, 0]", classes: 2, reason: "not JSON at byte 2: Infinity is not a JSON value"},
		{name: "-Infinity", data: "[0, -Infinity]", classes: 2, reason: "not JSON at byte 5: -Infinity is not a JSON value"},
		{name: "null", data: "[0, null]", classes: 2, reason: "probability 1 is null, want a number in [0, 1]"},
		{name: "boolean", data: "[true, 0]", classes: 2, reason: "probability 0 is a boolean, want a number in [0, 1]"},
		{name: "nested array", data: "[[0.5, 0.5]]", classes: 2, reason: "probability 0 is an array, want a number in [0, 1]"},
		{name: "object in array", data: "[{}, 1]", classes: 2, reason: "probability 0 is an object, want a number in [0, 1]"},
		{name: "leading zero", data: "[01, 0]", classes: 2, reason: "not JSON at byte 3: invalid character '1' after array element"},
		{name: "leading dot", data: "[.5, 0.5]", classes: 2, reason: "not JSON at byte 2: invalid character '.' looking for beginning of value"},
		{name: "plus sign", data: "[+0.5, 0.5]", classes: 2, reason: "not JSON at byte 2: invalid character '+' looking for beginning of value"},
		{name: "trailing dot", data: "[1., 0]", classes: 2, reason: "not JSON at byte 4: invalid character ',' after decimal point in numeric literal"},
		{name: "empty exponent", data: "[1e, 0]", classes: 2, reason: "not JSON at byte 4: invalid character ',' in exponent of numeric literal"},
		{name: "minus alone", data: "[-, 0]", classes: 2, reason: "not JSON at byte 3: invalid character ',' in numeric literal"},
		{name: "trailing comma", data: "[0.5, 0.5,]", classes: 2, reason: "not JSON at byte 11: invalid character ']' looking for beginning of value"},
		{name: "missing comma", data: "[0.5 0.5]", classes: 2, reason: "not JSON at byte 6: invalid character '0' after array element"},
		{name: "unclosed", data: "[0.5, 0.5", classes: 2, reason: "truncated: the JSON ends after byte 9"},
		{name: "cut after comma", data: `{"prediction": [0.5,`, classes: 2, reason: "truncated: the JSON ends after byte 20"},
		{name: "cut in key", data: `{"predic`, classes: 2, reason: "truncated: the JSON ends after byte 8"},
		{name: "cut after key", data: `{"prediction"`, classes: 2, reason: "truncated: the JSON ends after byte 13"},
		{name: "cut after colon", data: `{"prediction": `, classes: 2, reason: "truncated: the JSON ends after byte 15"},
		{name: "object not closed", data: `{"prediction": [0.5, 0.5]`, classes: 2, reason: "truncated: the JSON ends after byte 25"},
		{name: "cut in other value", data: `{"a": {"b": [1, `, classes: 2, reason: "truncated: the JSON ends after byte 16"},
		{name: "key not a string", data: `{prediction: [0.5, 0.5]}`, classes: 2, reason: "not JSON at byte 2: invalid character 'p' looking for beginning of object key string"},
		{name: "trailing comma in object", data: `{"prediction": [0.5, 0.5],}`, classes: 2, reason: "not JSON at byte 27: invalid character '}' looking for beginning of object key string"},
		{name: "duplicate key", data: `{"prediction": [0.5, 0.5], "prediction": [0.5, 0.5]}`, classes: 2, reason: `"prediction" appears twice, want it once`},
		{name: "key in another case", data: `{"Prediction": [0.5, 0.5]}`, classes: 2, reason: `no "prediction" key, want {"prediction": [p0, p1, ...]}`},
		{name: "prediction is an object", data: `{"prediction": {"0": 1}}`, classes: 2, reason: `"prediction" is an object, want an array of 2 probabilities`},
		{name: "prediction is null", data: `{"prediction": null}`, classes: 2, reason: `"prediction" is null, want an array of 2 probabilities`},
		{name: "prediction is not JSON", data: `{"prediction": (1)}`, classes: 2, reason: "not JSON at byte 16: invalid character '(' looking for beginning of value"},
		{name: "bad literal elsewhere", data: `{"a": nul, "prediction": [0.5, 0.5]}`, classes: 2, reason: "not JSON at byte 10: invalid character ',' in literal null (expecting 'l')"},
		{name: "bad escape", data: `{"a\x": 1}`, classes: 2, reason: "not JSON at byte 5: invalid character 'x' in string escape code"},
		{name: "bad unicode escape", data: `{"\u12G4": 1}`, classes: 2, reason: "not JSON at byte 7: invalid character 'G' in \\u hexadecimal character escape"},
		{name: "control character in a string", data: "{\"a\tb\": 1}", classes: 2, reason: "not JSON at byte 4: invalid character '\\t' in string literal"},
		{name: "a string", data: `"[0.5, 0.5]"`, classes: 2, reason: `the output is a string, want {"prediction": [p0, p1, ...]} or [p0, p1, ...]`},
		{name: "a number", data: `0.5`, classes: 2, reason: `the output is a number, want {"prediction": [p0, p1, ...]} or [p0, p1, ...]`},
		{name: "NaN alone", data: `NaN`, classes: 2, reason: `the output is NaN (not JSON), want {"prediction": [p0, p1, ...]} or [p0, p1, ...]`},
		{name: "binary", data: "\x89PNG\r\n", classes: 2, reason: "not JSON at byte 1: invalid character '\\u0089' looking for beginning of value"},
		{name: "bom after whitespace", data: " \xEF\xBB\xBF[0.5, 0.5]", classes: 2, reason: "not JSON at byte 2: invalid character 'ï' looking for beginning of value"},
		{name: "data after the record", data: "[0.5, 0.5]]", classes: 2, reason: "not JSON at byte 11: ']' after the record, want the end of the output"},
		{name: "two records on a line", data: "[0.5, 0.5] [0.5, 0.5]", classes: 2, reason: "not JSON at byte 12: '[' after the record, want the end of the output"},
		{name: "three records with blank lines", data: "[0.5, 0.5]\n\n[0.5, 0.5]\r\n  \n x\n", classes: 2, reason: "3 records (lines), want 1 per photo"},
		{name: "array of records", data: `[{"prediction": [0.5, 0.5]}]`, classes: 2, reason: "probability 0 is an object, want a number in [0, 1]"},
		// With two faults, the array's syntax is checked before its values.
		{name: "a string, then cut", data: `["0.5", 0.5`, classes: 2, reason: "truncated: the JSON ends after byte 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := inspect.ParsePrediction([]byte(tt.data), tt.classes)
			if tt.reason != "" {
				var pe *inspect.PredictionError
				if !errors.As(err, &pe) {
					t.Fatalf("ParsePrediction(%q) = %+v, %v; want a *PredictionError %q", tt.data, got, err, tt.reason)
				}
				if pe.Reason != tt.reason {
					t.Errorf("ParsePrediction(%q): reason\n got %s\nwant %s", tt.data, pe.Reason, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrediction(%q): %v", tt.data, err)
			}
			if diff := cmp.Diff(tt.probs, got.Probabilities); diff != "" {
				t.Errorf("ParsePrediction(%q) probabilities (-want +got):\n%s", tt.data, diff)
			}
			for i, v := range got.Probabilities {
				if math.Signbit(v) {
					t.Errorf("probability %d is -0, want 0", i)
				}
			}
			checkPrediction(t, got, tt.classes)
		})
	}
}

// TestParsePredictionDepth holds the nesting of values under other keys to
// encoding/json's bound.
func TestParsePredictionDepth(t *testing.T) {
	nested := func(depth int) []byte {
		return []byte(`{"a": ` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `, "prediction": [0.5, 0.5]}`)
	}
	if _, err := inspect.ParsePrediction(nested(10000), 2); err != nil {
		t.Errorf("a value nested 10,000 deep: %v", err)
	}
	_, err := inspect.ParsePrediction(nested(10001), 2)
	if got, want := fmt.Sprint(err), "invalid prediction: not JSON at byte 10006: invalid character '[' exceeded max depth"; got != want {
		t.Errorf("a value nested 10,001 deep: %s, want %s", got, want)
	}
}

func TestParsePredictionClasses(t *testing.T) {
	for _, n := range []int{0, -1} {
		_, err := inspect.ParsePrediction([]byte("[1]"), n)
		var pe *inspect.PredictionError
		if err == nil || errors.As(err, &pe) {
			t.Errorf("ParsePrediction with %d classes: error %v, want a plain error (the caller's)", n, err)
		}
	}
	// A corrupt class count does not make the parser allocate for it (a
	// slice of MaxInt floats would panic).
	_, err := inspect.ParsePrediction([]byte("[1]"), math.MaxInt)
	if got, want := fmt.Sprint(err), "invalid prediction: got 1 probability, want 9223372036854775807 (one per class)"; got != want {
		t.Errorf("ParsePrediction with MaxInt classes: %s, want %s", got, want)
	}
}

func TestPredictionLabelAndMargin(t *testing.T) {
	tests := []struct {
		data   string
		label  int
		second int // the runner-up; -1 for a margin of 0
	}{
		{"[1]", 0, -1},
		{"[0]", 0, -1},
		{"[0, 0, 0]", 0, -1},
		{"[0.2, 0.8]", 1, 0},
		{"[0.8, 0.2]", 0, 1},
		{"[0.3, 0.3, 0.4]", 2, 0},
		{"[0.4, 0.2, 0.4]", 0, -1},
		{"[0.1, 0.5, 0.1, 0.3]", 1, 3},
	}
	for _, tt := range tests {
		n := strings.Count(tt.data, ",") + 1
		p, err := inspect.ParsePrediction([]byte(tt.data), n)
		if err != nil {
			t.Errorf("ParsePrediction(%s): %v", tt.data, err)
			continue
		}
		margin := 0.0
		if tt.second >= 0 {
			margin = p.Probabilities[tt.label] - p.Probabilities[tt.second]
		}
		if p.Label != tt.label || p.Margin != margin || p.Confidence != p.Probabilities[tt.label] {
			t.Errorf("ParsePrediction(%s): label %d confidence %v margin %v, want label %d confidence %v margin %v",
				tt.data, p.Label, p.Confidence, p.Margin, tt.label, p.Probabilities[tt.label], margin)
		}
	}
}

func TestPredictionWarning(t *testing.T) {
	p, err := inspect.ParsePrediction(readOutput(t, "sumoff.jpg.out"), 5)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Warning(), "probabilities sum to 0.9, want 1 (within 0.001)"; got != want {
		t.Errorf("Warning() = %q, want %q", got, want)
	}
	// Just inside and just outside the tolerance.
	for data, off := range map[string]bool{
		"[0.5, 0.4991]": false, "[0.5, 0.5009]": false,
		"[0.5, 0.4989]": true, "[0.5, 0.5011]": true,
	} {
		p, err := inspect.ParsePrediction([]byte(data), 2)
		if err != nil {
			t.Fatal(err)
		}
		if p.SumOff != off || (p.Warning() != "") != off {
			t.Errorf("%s: SumOff %v, Warning %q; want SumOff %v", data, p.SumOff, p.Warning(), off)
		}
	}
}

// checkPrediction fails tb unless p is a well-formed prediction of n
// classes.
func checkPrediction(tb testing.TB, p inspect.Prediction, n int) {
	tb.Helper()
	if len(p.Probabilities) != n {
		tb.Fatalf("%d probabilities, want %d", len(p.Probabilities), n)
	}
	sum, second := 0.0, math.Inf(-1)
	for i, v := range p.Probabilities {
		if math.IsNaN(v) || v < 0 || v > 1 {
			tb.Errorf("probability %d is %v, want [0, 1]", i, v)
		}
		sum += v
		switch {
		case v > p.Probabilities[p.Label] || v == p.Probabilities[p.Label] && i < p.Label:
			tb.Errorf("label %d (%v), but probability %d is %v", p.Label, p.Probabilities[p.Label], i, v)
		case i != p.Label:
			second = max(second, v)
		}
	}
	if p.Confidence != p.Probabilities[p.Label] {
		tb.Errorf("confidence %v, want probability %d, %v", p.Confidence, p.Label, p.Probabilities[p.Label])
	}
	wantMargin := 0.0
	if n > 1 {
		wantMargin = p.Confidence - second
	}
	if p.Margin != wantMargin || p.Margin < 0 || math.Signbit(p.Margin) && p.Margin != 0 {
		tb.Errorf("margin %v, want %v", p.Margin, wantMargin)
	}
	if p.Sum != sum || p.SumOff != (math.Abs(sum-1) > inspect.SumTolerance) {
		tb.Errorf("sum %v off %v, want sum %v", p.Sum, p.SumOff, sum)
	}
}

// oracle parses data with encoding/json when it is one JSON value (after
// the BOM and whitespace are trimmed): ok says whether it is a prediction of
// n classes, and probs are its values. known is false for anything else
// (JSON Lines, not JSON), where the parser's answer is not checked.
func oracle(data []byte, n int) (probs []float64, ok, known bool) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	data = bytes.Trim(data, " \t\r\n")
	if !json.Valid(data) {
		return nil, false, false
	}
	var arr json.RawMessage
	switch data[0] {
	case '[':
		arr = data
	case '{':
		dec := json.NewDecoder(bytes.NewReader(data))
		if _, err := dec.Token(); err != nil {
			panic(err) // valid JSON
		}
		found := 0
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				panic(err)
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				panic(err)
			}
			if key == "prediction" {
				found++
				arr = v
			}
		}
		if found != 1 || arr[0] != '[' {
			return nil, false, true
		}
	default:
		return nil, false, true
	}
	var values []any
	dec := json.NewDecoder(bytes.NewReader(arr))
	dec.UseNumber()
	if err := dec.Decode(&values); err != nil {
		panic(err)
	}
	if len(values) != n {
		return nil, false, true
	}
	for _, v := range values {
		num, isNum := v.(json.Number)
		if !isNum {
			return nil, false, true
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || f < 0 || f > 1 {
			return nil, false, true
		}
		probs = append(probs, f)
	}
	return probs, true, true
}

func FuzzParsePrediction(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "predictions", "*.out"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(5))
		f.Add(data, uint8(4))
	}
	f.Add([]byte("[1]"), uint8(1))
	f.Add([]byte(`{"predict\u0069on": [0.5, 0.5], "x": {"y": [true, null, "\ud83d\ude00"]}}`), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, classes uint8) {
		n := int(classes)%16 + 1
		p, err := inspect.ParsePrediction(data, n)
		want, wantOK, known := oracle(data, n)
		if err != nil {
			var pe *inspect.PredictionError
			if !errors.As(err, &pe) || pe.Reason == "" {
				t.Fatalf("error %v, want a *PredictionError with a reason", err)
			}
			if known && wantOK {
				t.Fatalf("ParsePrediction(%q, %d): %v; encoding/json reads %v", data, n, err, want)
			}
			return
		}
		checkPrediction(t, p, n)
		trimmed := bytes.Trim(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")), " \t\r\n")
		if !json.Valid(trimmed) {
			t.Fatalf("ParsePrediction(%q, %d) accepted what is not one JSON value", data, n)
		}
		if known {
			if !wantOK {
				t.Fatalf("ParsePrediction(%q, %d) = %v; encoding/json refuses it", data, n, p.Probabilities)
			}
			if !cmp.Equal(want, p.Probabilities) {
				t.Fatalf("ParsePrediction(%q, %d) = %v; encoding/json reads %v", data, n, p.Probabilities, want)
			}
		}
	})
}

// BenchmarkParsePrediction parses outputs as the predictions step does,
// 20,000 or more a day.
func BenchmarkParsePrediction(b *testing.B) {
	cases := []struct {
		name string
		data []byte
		n    int
	}{
		{"jsonlines-5", readOutput(b, "jsonl.jpg.out"), 5},
		{"bare-5", readOutput(b, "bare.jpg.out"), 5},
		{"jsonlines-257", algorithmOutput(257), 257}, // the AWS example's Caltech-256 model
		{"jsonlines-1000", algorithmOutput(1000), 1000},
		{"invalid-5", readOutput(b, "big.jpg.out"), 5},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				_, _ = inspect.ParsePrediction(c.data, c.n)
			}
		})
	}
}

// algorithmOutput is an output of n classes as the algorithm writes it:
// float32 probabilities printed as Python prints floats, one class at 0.9.
func algorithmOutput(n int) []byte {
	probs := make([]string, n)
	weights := 0
	for i := range n {
		weights += i%13 + 1
	}
	for i := range probs {
		p := 0.1 * float64(i%13+1) / float64(weights)
		if i == n/3 {
			p += 0.9
		}
		probs[i] = strconv.FormatFloat(float64(float32(p)), 'g', -1, 64)
	}
	return []byte(`{"prediction": [` + strings.Join(probs, ", ") + "]}\n")
}

// A Batch Transform output object, as the job leaves it next to each
// photo, read for a model of three classes.
func ExampleParsePrediction() {
	out := []byte(`{"prediction": [0.015, 0.9, 0.085]}` + "\n")
	p, err := inspect.ParsePrediction(out, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("class %d, confidence %.3f, margin %.3f\n", p.Label, p.Confidence, p.Margin)

	_, err = inspect.ParsePrediction([]byte(`{"prediction": [0.1, 0.9]}`), 3)
	fmt.Println(err)
	// Output:
	// class 1, confidence 0.900, margin 0.815
	// invalid prediction: got 2 probabilities, want 3 (one per class)
}
