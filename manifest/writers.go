package manifest

import (
	"encoding/json"
	"strconv"
)

// appendAugmented appends the augmented-manifest line the built-in
// algorithm trains on: {"source-ref":"s3://...","<attr>":2}, or a list of
// class indices for a multi-label attribute. Only these two attributes are
// written: lines lacking either break a Pipe-mode training job.
func appendAugmented(dst []byte, attrJSON []byte, e *entry) []byte {
	dst = append(dst, `{"source-ref":`...)
	if e.plainSource {
		dst = append(dst, '"')
		dst = append(dst, e.sourceRef...)
		dst = append(dst, '"', ',')
	} else {
		dst = appendJSONString(dst, e.sourceRef)
		dst = append(dst, ',')
	}
	dst = append(dst, attrJSON...)
	dst = append(dst, ':')
	if e.multi {
		dst = append(dst, '[')
		for i, l := range e.labels {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = strconv.AppendInt(dst, int64(l.index), 10)
		}
		dst = append(dst, ']')
	} else {
		dst = strconv.AppendInt(dst, int64(e.labels[0].index), 10)
	}
	return append(dst, "}\n"...)
}

// appendLst appends a .lst line: index, class, path relative to the
// channel prefix, separated by tabs.
func appendLst(dst []byte, index int, class int, path string) []byte {
	dst = strconv.AppendInt(dst, int64(index), 10)
	dst = append(dst, '\t')
	dst = strconv.AppendInt(dst, int64(class), 10)
	dst = append(dst, '\t')
	dst = append(dst, path...)
	return append(dst, '\n')
}

// appendJSONString appends s as a JSON string. s is valid UTF-8 (lines are
// checked before parsing).
func appendJSONString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			const hex = "0123456789abcdef"
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// rejectedLine is one line of rejected.jsonl.
type rejectedLine struct {
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
	// Lines, for a conflict, are every line that labels the photo.
	Lines []int  `json:"lines,omitempty"`
	Text  string `json:"text"`
}

// maxRejectedText bounds the copy of a rejected line kept in rejected.jsonl.
const maxRejectedText = 64 << 10

func appendRejected(dst []byte, le *LineError, text []byte) ([]byte, error) {
	if len(text) > maxRejectedText {
		text = text[:maxRejectedText] // json.Marshal mends a cut rune
	}
	b, err := json.Marshal(rejectedLine{Line: le.Line, Kind: le.Kind.String(), Field: le.Field, Reason: le.Reason, Lines: le.Lines, Text: string(text)})
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}
