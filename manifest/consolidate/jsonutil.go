package consolidate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// checkJSON reports the first syntax error, trailing data, or repeated
// object key in data, with the JSON path where it is. encoding/json keeps
// the last of repeated keys silently; a response that says two things must
// not be read as one of them.
func checkJSON(data []byte) (path, reason string) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object  bool
		keys    map[string]bool
		key     string // object: the current key; array: ""
		index   int    // array: the current element
		wantKey bool
	}
	var stack []frame
	where := func() string {
		p := ""
		for _, f := range stack {
			switch {
			case !f.object:
				p += "[" + strconv.Itoa(f.index) + "]"
			case f.key != "":
				if p != "" {
					p += "."
				}
				p += f.key
			}
		}
		return p
	}
	// next moves an array frame on to its next element once a value ends.
	next := func() {
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if top.object {
				top.wantKey = true
			} else {
				top.index++
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return where(), "invalid JSON: unexpected end of file"
			}
			return "", ""
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return where(), fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, err)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return where(), "invalid JSON: unexpected end of file"
			}
			return where(), fmt.Sprintf("invalid JSON: %v", err)
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			if key, ok := tok.(string); ok && top.object && top.wantKey {
				if top.keys[key] {
					top.key = key
					top.wantKey = false
					return where(), "appears twice in one object"
				}
				top.keys[key] = true
				top.key = key
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, keys: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		next()
		if len(stack) == 0 {
			if _, err := dec.Token(); err != io.EOF {
				return "", fmt.Sprintf("invalid JSON at byte %d: data after the value", dec.InputOffset())
			}
			return "", ""
		}
	}
}

// jsonKind names the kind of a JSON value for error messages, quoting
// short scalars.
func jsonKind(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	kind := "a number"
	switch v[0] {
	case '"':
		kind = "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		kind = "a boolean"
	case 'n':
		return "null"
	}
	if len(v) <= 40 {
		return kind + " " + string(v)
	}
	return kind
}

// object decodes v as a JSON object, keys matched exactly.
func object(v json.RawMessage) (map[string]json.RawMessage, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '{' {
		return nil, false
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(v, &m) == nil
}

// str decodes v as a JSON string.
func str(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(v, &s) == nil
}

// timeLayouts are the spellings of a worker response's times: documented
// as 2020-12-28T18:59:15.191Z; AWS's own notebook parses them without the
// fraction; a time without a zone is taken as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"}

// parseTime reads a time in one of timeLayouts.
func parseTime(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
