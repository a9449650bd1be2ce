package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// parseGeneric parses one line with encoding/json. It handles every variant
// the package knows and produces every error message; the fast parser only
// takes lines it can prove it reads the same way.
func parseGeneric(line []byte, lineNo int, attr string, e *entry) *LineError {
	e.reset(lineNo)
	bad := func(field, format string, args ...any) *LineError {
		return &LineError{Line: lineNo, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if !utf8.Valid(line) {
		return bad("", "not valid UTF-8")
	}
	if err := checkJSON(line); err != nil {
		return bad("", "%v", err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil || top == nil { // null decodes to a nil map
		return bad("", "want a JSON object, got %s", jsonKind(bytes.TrimSpace(line)))
	}

	raw, ok := top["source-ref"]
	if !ok {
		return bad("source-ref", "missing")
	}
	var src string
	if json.Unmarshal(raw, &src) != nil {
		return bad("source-ref", "got %s, want a string", jsonKind(raw))
	}
	if reason := checkSourceRef(src); reason != "" {
		return bad("source-ref", "%s", reason)
	}
	e.sourceRef = []byte(src)

	value, ok := top[attr]
	if !ok || string(value) == "null" {
		return &LineError{Line: lineNo, Field: attr, Reason: "no label (the object was not labelled)", Kind: Unlabelled}
	}
	mfield := attr + "-metadata"
	mraw, ok := top[mfield]
	if !ok {
		return bad(mfield, "missing")
	}
	var meta map[string]json.RawMessage
	if mraw[0] != '{' || json.Unmarshal(mraw, &meta) != nil {
		return bad(mfield, "got %s, want an object", jsonKind(mraw))
	}
	str := func(key string) ([]byte, *LineError) {
		v, ok := meta[key]
		if !ok || string(v) == "null" {
			return nil, nil
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, bad(mfield+"."+key, "got %s, want a string", jsonKind(v))
		}
		return []byte(s), nil
	}
	var lerr *LineError
	if e.typ, lerr = str("type"); lerr != nil {
		return lerr
	}
	if e.typ != nil && !isClassificationType(e.typ) {
		return bad(mfield+".type", "got %q, want %q or %q", e.typ, TypeSingleLabel, TypeMultiLabel)
	}
	if e.jobName, lerr = str("job-name"); lerr != nil {
		return lerr
	}
	created, lerr := str("creation-date")
	if lerr != nil {
		return lerr
	}
	e.setCreated(created)
	human, lerr := str("human-annotated")
	if lerr != nil {
		return lerr
	}
	if human != nil {
		h, reason := humanFrom(human)
		if reason != "" {
			return bad(mfield+".human-annotated", "%s", reason)
		}
		e.human = h
	}

	if value[0] == '[' {
		return parseGenericMulti(value, meta, attr, e, bad)
	}
	if string(e.typ) == TypeMultiLabel {
		return bad(attr, "got %s, want an array of class indices (type is %s)", jsonKind(value), TypeMultiLabel)
	}
	idx, ok := indexValue(value)
	if !ok {
		return bad(attr, "got %s, %s", jsonKind(value), wantIndex)
	}
	l := rawLabel{index: idx}
	if l.name, lerr = str("class-name"); lerr != nil {
		return lerr
	}
	l.conf, lerr = confidenceValue(meta["confidence"], mfield+".confidence", e, bad)
	if lerr != nil {
		return lerr
	}
	e.one[0] = l
	e.labels = e.one[:1]
	return nil
}

func parseGenericMulti(value json.RawMessage, meta map[string]json.RawMessage, attr string, e *entry,
	bad func(field, format string, args ...any) *LineError) *LineError {
	mfield := attr + "-metadata"
	if e.typ != nil && string(e.typ) != TypeMultiLabel {
		return bad(attr, "got an array, want one class index (type is %s)", e.typ)
	}
	var items []json.RawMessage
	if json.Unmarshal(value, &items) != nil || len(items) == 0 {
		return bad(attr, "got an empty array, want at least one class index")
	}
	var names, confs map[string]json.RawMessage
	if v, ok := meta["class-map"]; ok && string(v) != "null" {
		if v[0] != '{' || json.Unmarshal(v, &names) != nil {
			return bad(mfield+".class-map", "got %s, want an object of class names by index", jsonKind(v))
		}
	}
	if v, ok := meta["confidence-map"]; ok && string(v) != "null" {
		if v[0] != '{' || json.Unmarshal(v, &confs) != nil {
			return bad(mfield+".confidence-map", "got %s, want an object of confidences by index", jsonKind(v))
		}
	}
	e.multi = true
	e.labels = make([]rawLabel, 0, len(items))
	for i, it := range items {
		idx, ok := indexValue(it)
		if !ok {
			return bad(fmt.Sprintf("%s[%d]", attr, i), "got %s, %s", jsonKind(it), wantIndex)
		}
		for _, prev := range e.labels {
			if prev.index == idx {
				return bad(fmt.Sprintf("%s[%d]", attr, i), "class index %d listed twice", idx)
			}
		}
		key := fmt.Sprint(idx)
		l := rawLabel{index: idx}
		if v, ok := names[key]; ok && string(v) != "null" {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return bad(mfield+".class-map."+key, "got %s, want a string", jsonKind(v))
			}
			l.name = []byte(s)
		}
		var lerr *LineError
		if l.conf, lerr = confidenceValue(confs[key], mfield+".confidence-map."+key, e, bad); lerr != nil {
			return lerr
		}
		e.labels = append(e.labels, l)
	}
	return nil
}

// confidenceValue reads a confidence: a number in [0, 1], a number in a
// string (accepted, and flagged), or absent/null (NaN).
func confidenceValue(v json.RawMessage, field string, e *entry, bad func(field, format string, args ...any) *LineError) (float64, *LineError) {
	if len(v) == 0 || string(v) == "null" {
		return nan, nil
	}
	lit := []byte(v)
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 0, bad(field, "got %s, want a number in [0, 1]", jsonKind(v))
		}
		lit = []byte(strings.TrimSpace(s))
		// The text must still be a JSON number: no hex, no "+", no ".5".
		if sc := (scanner{b: lit}); !func() bool { _, ok := sc.number(); return ok && sc.i == len(lit) }() {
			return 0, bad(field, "got %q, want a number in [0, 1]", lit)
		}
		e.lenientConfidence = true
	} else if !isNumberStart(v[0]) {
		return 0, bad(field, "got %s, want a number in [0, 1]", jsonKind(v))
	}
	f, reason := confidenceFrom(lit)
	if reason != "" {
		return 0, bad(field, "%s", reason)
	}
	return f, nil
}

// indexValue reads a class index from a JSON number or string value.
func indexValue(v json.RawMessage) (int, bool) {
	if len(v) > 0 && v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return 0, false
		}
		return indexFromDigits([]byte(s))
	}
	return indexFromDigits(v)
}

func isNumberStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// checkSourceRef accepts s3://bucket/key with a non-empty bucket and key.
func checkSourceRef(s string) string {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return fmt.Sprintf("got %q, want an s3://bucket/key URI", s)
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" || key == "" {
		return fmt.Sprintf("got %q, want an s3://bucket/key URI", s)
	}
	return ""
}

// jsonKind names the kind of a JSON value for error messages, quoting short
// values.
func jsonKind(v []byte) string {
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

// checkJSON reports the first syntax error, trailing data, or duplicate
// object key in data. encoding/json silently keeps the last of duplicate
// keys and accepts keys in any case; a label file that says two things must
// not be read as one of them.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		object  bool
		keys    map[string]bool
		wantKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return errors.New("invalid JSON: unexpected end of line")
			}
			return nil
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return fmt.Errorf("invalid JSON at byte %d: %v", se.Offset, err)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return errors.New("invalid JSON: unexpected end of line")
			}
			return fmt.Errorf("invalid JSON: %v", err)
		}
		if len(stack) == 0 && tok != json.Delim('{') && tok != json.Delim('[') {
			// A scalar at the top: the decoder accepts it; the caller
			// reports that it is not an object. Refuse trailing data.
			if dec.More() {
				return fmt.Errorf("invalid JSON at byte %d: data after the value", dec.InputOffset())
			}
			continue
		}
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if key, ok := tok.(string); ok && top.object && top.wantKey {
				if top.keys[key] {
					return fmt.Errorf("key %q appears twice in one object", key)
				}
				top.keys[key] = true
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
		if len(stack) == 0 {
			if _, err := dec.Token(); err != io.EOF {
				return fmt.Errorf("invalid JSON at byte %d: data after the object", dec.InputOffset())
			}
			return nil
		}
		if top := &stack[len(stack)-1]; top.object {
			top.wantKey = true
		}
	}
}

// classificationAttributes lists the keys K of a line whose K-metadata
// object has an image-classification type, in sorted order. It is used to
// find the label attribute when none was named.
func classificationAttributes(line []byte) []string {
	var top map[string]json.RawMessage
	if json.Unmarshal(line, &top) != nil {
		return nil
	}
	var attrs []string
	for k, v := range top {
		base, ok := strings.CutSuffix(k, "-metadata")
		if !ok {
			continue
		}
		if _, ok := top[base]; !ok {
			continue
		}
		// A map, not a struct: struct fields match keys in any case, and
		// "Type" is not "type".
		var meta map[string]json.RawMessage
		var typ string
		if json.Unmarshal(v, &meta) == nil && json.Unmarshal(meta["type"], &typ) == nil && isClassificationType([]byte(typ)) {
			attrs = append(attrs, base)
		}
	}
	sort.Strings(attrs)
	return attrs
}
