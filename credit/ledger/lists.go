package ledger

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/credit"
)

// EncodeLists writes a decision's lists as JSON arrays: a photo without a
// prediction has a null class and a null confidence (JSON has no NaN). The
// encoding is deterministic, and the same as encoding/json's, so equal
// lists are equal text.
func EncodeLists(d credit.Decision) (classes, confs, reasons string, err error) {
	b, c, f, err := appendLists(nil, d)
	if err != nil {
		return "", "", "", err
	}
	s := string(b)
	return s[:c], s[c:f], s[f:], nil
}

// appendLists appends the classes, confidences and reasons arrays of d to
// dst, one after the other, and tells where the second and third start.
func appendLists(dst []byte, d credit.Decision) (b []byte, confsAt, reasonsAt int, err error) {
	start := len(dst)
	b = append(dst, '[')
	for i, c := range d.Classes {
		if i > 0 {
			b = append(b, ',')
		}
		if c == "" {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, c)
		}
	}
	b = append(b, ']')
	confsAt = len(b) - start
	b = append(b, '[')
	for i, c := range d.Confidences {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsNaN(c):
			b = append(b, "null"...)
		case math.IsInf(c, 0):
			return dst, 0, 0, fmt.Errorf("confidence %d is %v", i, c)
		default:
			b = appendJSONFloat(b, c)
		}
	}
	b = append(b, ']')
	reasonsAt = len(b) - start
	b = append(b, '[')
	for i, r := range d.Reasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, r)
	}
	return append(b, ']'), confsAt, reasonsAt, nil
}

// appendJSONString appends s as encoding/json writes it, HTML-safe: <, >
// and & escaped, as in the reasons' "0.41 < 0.90". Text with a control
// character, invalid UTF-8 or a line or paragraph separator, which reasons
// do not have, goes through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	start := len(b)
	b = append(b, '"')
	done := 0 // s[:done] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
				return appendMarshal(b[:start], s)
			}
			i += n
			continue
		}
		var esc string
		switch c {
		case '"':
			esc = `\"`
		case '\\':
			esc = `\\`
		case '<':
			esc = `\u003c`
		case '>':
			esc = `\u003e`
		case '&':
			esc = `\u0026`
		default:
			if c < 0x20 {
				return appendMarshal(b[:start], s)
			}
			i++
			continue
		}
		b = append(b, s[done:i]...)
		b = append(b, esc...)
		i++
		done = i
	}
	b = append(b, s[done:]...)
	return append(b, '"')
}

// appendJSONFloat appends a finite f as encoding/json writes a float64.
func appendJSONFloat(b []byte, f float64) []byte {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return appendMarshal(b, f)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendMarshal(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("ledger: encode %v: %v", v, err)) // strings and finite floats always encode
	}
	return append(b, j...)
}

// decodeLists reads what EncodeLists wrote into it.
func decodeLists(it *QueueItem, classes, confs, reasons string) error {
	var (
		cs []*string
		fs []*float64
	)
	if err := json.Unmarshal([]byte(classes), &cs); err != nil {
		return fmt.Errorf("classes: %w", err)
	}
	if err := json.Unmarshal([]byte(confs), &fs); err != nil {
		return fmt.Errorf("confidences: %w", err)
	}
	if err := json.Unmarshal([]byte(reasons), &it.Reasons); err != nil {
		return fmt.Errorf("reasons: %w", err)
	}
	it.Classes = make([]string, len(cs))
	for i, c := range cs {
		if c != nil {
			it.Classes[i] = *c
		}
	}
	it.Confidences = make([]float64, len(fs))
	for i, f := range fs {
		it.Confidences[i] = math.NaN()
		if f != nil {
			it.Confidences[i] = *f
		}
	}
	return nil
}
