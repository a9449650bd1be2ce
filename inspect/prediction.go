package inspect

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
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

// maxDepth bounds the nesting of JSON values skipped under keys other than
// "prediction", as encoding/json does.
const maxDepth = 10000

// ParsePrediction reads one Batch Transform output object (X.jpg.out) of
// the built-in image-classification algorithm. numClasses is the class
// map's length.
//
// Three shapes are accepted, after a UTF-8 byte-order mark and surrounding
// whitespace are trimmed:
//
//   - {"prediction": [p0, p1, ...]}, Batch Transform's body with Accept
//     application/jsonlines; other keys are ignored;
//   - [p0, p1, ...], a real-time endpoint's answer with Accept
//     application/json;
//   - JSON Lines holding exactly one such record (one line; blank lines
//     after it are whitespace).
//
// The probabilities must be JSON numbers in [0, 1], one per class. They
// need not sum to 1: a sum more than SumTolerance off is flagged in
// SumOff, not refused.
//
// An object that is not a prediction gives a *PredictionError. Any other
// error is the caller's: numClasses below 1.
func ParsePrediction(data []byte, numClasses int) (Prediction, error) {
	return parsePrediction(data, numClasses)
}

// scanPrediction is ParsePrediction on the hand-written scanner.
func scanPrediction(data []byte, numClasses int) (Prediction, error) {
	if numClasses < 1 {
		return Prediction{}, fmt.Errorf("parse prediction: %d classes, want at least 1", numClasses)
	}
	s := scanner{data: data}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		s.pos = 3
	}
	s.skipSpace()
	if s.eof() {
		return Prediction{}, invalid(`empty output, want {"prediction": [p0, p1, ...]}`)
	}
	var (
		p   Prediction
		err *PredictionError
	)
	switch c := s.data[s.pos]; c {
	case '{':
		p.Probabilities, err = s.object(numClasses)
	case '[':
		p.Probabilities, err = s.probabilities(numClasses)
	default:
		if kind := s.kind(); kind != "" {
			return Prediction{}, invalid(`the output is %s, want {"prediction": [p0, p1, ...]} or [p0, p1, ...]`, kind)
		}
		return Prediction{}, s.syntax(`{"prediction": [p0, p1, ...]}`)
	}
	if err != nil {
		return Prediction{}, err
	}
	if err := s.end(); err != nil {
		return Prediction{}, err
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

// scanner reads JSON from data by hand: a prediction is parsed with one
// allocation, its probabilities, where encoding/json would allocate for
// every value.
type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) eof() bool { return s.pos >= len(s.data) }

// skipSpace skips JSON whitespace and reports whether it held a newline.
func (s *scanner) skipSpace() (newline bool) {
	for ; s.pos < len(s.data); s.pos++ {
		switch s.data[s.pos] {
		case '\n':
			newline = true
		case ' ', '\t', '\r':
		default:
			return newline
		}
	}
	return newline
}

// syntax reports that the data is not JSON at s.pos, where want was
// expected. Bytes are counted from 1, the byte-order mark included.
func (s *scanner) syntax(want string) *PredictionError {
	if s.eof() {
		return invalid("truncated: the JSON ends after byte %d, want %s", len(s.data), want)
	}
	c := s.data[s.pos]
	got := fmt.Sprintf("byte 0x%02X", c)
	if c >= 0x20 && c < 0x7F {
		got = fmt.Sprintf("%q", rune(c))
	}
	return invalid("not JSON: %s at byte %d, want %s", got, s.pos+1, want)
}

// kind names the JSON value starting at s.pos (see kindOf).
func (s *scanner) kind() string { return kindOf(s.data[s.pos:]) }

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// end checks what follows the record: nothing but whitespace, or, for
// JSON Lines, more records, which are refused.
func (s *scanner) end() *PredictionError {
	start := s.pos
	newline := s.skipSpace()
	if s.eof() {
		return nil
	}
	if !newline {
		return s.syntax("the end of the output after the record")
	}
	records := 1
	for i, blank := start, true; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '\n':
			blank = true
		case blank && c != ' ' && c != '\t' && c != '\r':
			blank = false
			records++
		}
	}
	return invalid("%d records (lines), want 1 per photo", records)
}

// object reads {"prediction": [...], ...} at s.pos.
func (s *scanner) object(n int) ([]float64, *PredictionError) {
	s.pos++ // {
	s.skipSpace()
	if !s.eof() && s.data[s.pos] == '}' {
		return nil, invalid(`empty object {}, want {"prediction": [p0, p1, ...]}`)
	}
	var probs []float64
	found := false
	for {
		if s.eof() || s.data[s.pos] != '"' {
			return nil, s.syntax(`a key in quotes ("prediction")`)
		}
		key, escaped, err := s.str()
		if err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.eof() || s.data[s.pos] != ':' {
			return nil, s.syntax("':' after the key")
		}
		s.pos++
		s.skipSpace()
		if keyIs(key, escaped, "prediction") {
			if found {
				return nil, invalid(`"prediction" appears twice, want it once`)
			}
			found = true
			if s.eof() {
				return nil, s.syntax(fmt.Sprintf("an array of %d probabilities", n))
			}
			if s.data[s.pos] != '[' {
				if kind := s.kind(); kind != "" {
					return nil, invalid(`"prediction" is %s, want an array of %d probabilities`, kind, n)
				}
				return nil, s.syntax(fmt.Sprintf("an array of %d probabilities", n))
			}
			if probs, err = s.probabilities(n); err != nil {
				return nil, err
			}
		} else if err := s.skipValue(1); err != nil {
			return nil, err
		}
		s.skipSpace()
		if s.eof() {
			return nil, s.syntax("',' or '}'")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
			continue
		case '}':
			s.pos++
		default:
			return nil, s.syntax("',' or '}'")
		}
		break
	}
	if !found {
		return nil, invalid(`no "prediction" key, want {"prediction": [p0, p1, ...]}`)
	}
	return probs, nil
}

// probabilities reads the array [p0, p1, ...] at s.pos: n numbers in
// [0, 1].
func (s *scanner) probabilities(n int) ([]float64, *PredictionError) {
	s.pos++ // [
	// Every value takes at least two bytes ("0,"): a file too short for n
	// values does not get n allocated.
	probs := make([]float64, 0, min(n, (len(s.data)-s.pos+1)/2))
	count := 0
	s.skipSpace()
	if !s.eof() && s.data[s.pos] == ']' {
		s.pos++
		return nil, wrongCount(0, n)
	}
	for {
		if s.eof() {
			return nil, s.syntax("a probability")
		}
		if c := s.data[s.pos]; c != '-' && !isDigit(c) || c == '-' && s.pos+1 < len(s.data) && isLetter(s.data[s.pos+1]) {
			if kind := s.kind(); kind != "" {
				return nil, invalid("probability %d is %s, want a number in [0, 1]", count, kind)
			}
			return nil, s.syntax("a probability")
		}
		start := s.pos
		if err := s.number(); err != nil {
			return nil, err
		}
		raw := s.data[start:s.pos]
		// string(raw) does not escape: for numbers of up to 32 bytes it
		// is built on the stack.
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || v < 0 || v > 1 {
			// err can only be ErrRange: the syntax was checked.
			return nil, invalid("probability %d is %s, want [0, 1]", count, raw)
		}
		if count < n {
			probs = append(probs, v+0) // +0 turns -0 into 0
		}
		count++
		s.skipSpace()
		if s.eof() {
			return nil, s.syntax("',' or ']'")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
			continue
		case ']':
			s.pos++
		default:
			return nil, s.syntax("',' or ']'")
		}
		break
	}
	if count != n {
		return nil, wrongCount(count, n)
	}
	return probs, nil
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

// number moves past the JSON number at s.pos, checking its syntax:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() *PredictionError {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	if s.eof() {
		return s.syntax("a digit")
	}
	switch c := s.data[s.pos]; {
	case c == '0':
		s.pos++
	case isDigit(c):
		s.digits()
	default:
		return s.syntax("a digit")
	}
	if !s.eof() && s.data[s.pos] == '.' {
		s.pos++
		if s.eof() || !isDigit(s.data[s.pos]) {
			return s.syntax("a digit after '.'")
		}
		s.digits()
	}
	if !s.eof() && s.data[s.pos]|0x20 == 'e' {
		s.pos++
		if !s.eof() && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.eof() || !isDigit(s.data[s.pos]) {
			return s.syntax("a digit in the exponent")
		}
		s.digits()
	}
	return nil
}

func (s *scanner) digits() {
	for s.pos < len(s.data) && isDigit(s.data[s.pos]) {
		s.pos++
	}
}

// str moves past the JSON string at s.pos and returns its contents, raw,
// and whether they hold escapes.
func (s *scanner) str() (raw []byte, escaped bool, err *PredictionError) {
	start := s.pos + 1
	s.pos = start
	for !s.eof() {
		switch c := s.data[s.pos]; {
		case c == '"':
			s.pos++
			return s.data[start : s.pos-1], escaped, nil
		case c == '\\':
			escaped = true
			s.pos++
			if s.eof() {
				return nil, false, s.syntax("an escape")
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for range 4 {
					if s.eof() || !isHex(s.data[s.pos]) {
						return nil, false, s.syntax(`four hex digits after \u`)
					}
					s.pos++
				}
			default:
				return nil, false, s.syntax(`an escape (\" \\ \/ \b \f \n \r \t \uXXXX)`)
			}
		case c < 0x20:
			return nil, false, s.syntax("'\"' or a character that is not a control character")
		default:
			s.pos++
		}
	}
	return nil, false, s.syntax(`'"' to end the string`)
}

func isHex(c byte) bool { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

// skipValue moves past the JSON value at s.pos, checking its syntax.
func (s *scanner) skipValue(depth int) *PredictionError {
	if depth > maxDepth {
		return invalid("not JSON: nested more than %d deep at byte %d", maxDepth, s.pos+1)
	}
	if s.eof() {
		return s.syntax("a value")
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, _, err := s.str()
		return err
	case c == '-' || isDigit(c):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '{', c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.pos++
		s.skipSpace()
		if !s.eof() && s.data[s.pos] == end {
			s.pos++
			return nil
		}
		for {
			if end == '}' {
				if s.eof() || s.data[s.pos] != '"' {
					return s.syntax("a key in quotes")
				}
				if _, _, err := s.str(); err != nil {
					return err
				}
				s.skipSpace()
				if s.eof() || s.data[s.pos] != ':' {
					return s.syntax("':' after the key")
				}
				s.pos++
				s.skipSpace()
			}
			if err := s.skipValue(depth + 1); err != nil {
				return err
			}
			s.skipSpace()
			if s.eof() {
				return s.syntax(fmt.Sprintf("',' or '%c'", end))
			}
			switch s.data[s.pos] {
			case ',':
				s.pos++
				s.skipSpace()
				continue
			case end:
				s.pos++
				return nil
			}
			return s.syntax(fmt.Sprintf("',' or '%c'", end))
		}
	}
	return s.syntax("a value")
}

// literal moves past the literal lit (true, false or null) at s.pos.
func (s *scanner) literal(lit string) *PredictionError {
	for i := range len(lit) {
		if s.eof() || s.data[s.pos] != lit[i] {
			return s.syntax(strconv.Quote(lit))
		}
		s.pos++
	}
	return nil
}

// keyIs reports whether the raw contents of a JSON string are want once
// unescaped.
func keyIs(raw []byte, escaped bool, want string) bool {
	if !escaped {
		return string(raw) == want
	}
	var buf [16]byte
	got := buf[:0]
	for i := 0; i < len(raw); {
		if len(got) > len(want) {
			return false
		}
		c := raw[i]
		if c != '\\' {
			got = append(got, c)
			i++
			continue
		}
		switch raw[i+1] { // str checked every escape
		case 'u':
			r := rune(hex4(raw[i+2:]))
			i += 6
			if utf16IsHigh(r) && i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
				if lo := rune(hex4(raw[i+2:])); utf16IsLow(lo) {
					r = (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000
					i += 6
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				r = utf8.RuneError
			}
			got = utf8.AppendRune(got, r)
			continue
		case 'b':
			got = append(got, '\b')
		case 'f':
			got = append(got, '\f')
		case 'n':
			got = append(got, '\n')
		case 'r':
			got = append(got, '\r')
		case 't':
			got = append(got, '\t')
		default: // " \ /
			got = append(got, raw[i+1])
		}
		i += 2
	}
	return string(got) == want
}

func hex4(b []byte) int {
	n := 0
	for _, c := range b[:4] {
		switch {
		case isDigit(c):
			n = n<<4 | int(c-'0')
		default:
			n = n<<4 | int(c|0x20-'a'+10)
		}
	}
	return n
}

func utf16IsHigh(r rune) bool { return r >= 0xD800 && r < 0xDC00 }
func utf16IsLow(r rune) bool  { return r >= 0xDC00 && r < 0xE000 }
