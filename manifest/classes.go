package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/internal/clip"
)

// A ClassMap names the classes of a labelling job: index i is the i-th
// label of its label-category configuration.
type ClassMap struct {
	names []string
}

// NewClassMap returns the class map with the given names in index order.
// Names must be non-empty and distinct.
func NewClassMap(names ...string) (*ClassMap, error) {
	seen := make(map[string]int, len(names))
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("class %d: empty name", i)
		}
		if j, ok := seen[n]; ok {
			return nil, fmt.Errorf("class %d: name %q already used by class %d", i, n, j)
		}
		seen[n] = i
	}
	return &ClassMap{names: append([]string(nil), names...)}, nil
}

// ParseClassList reads a comma-separated list of class names, in index
// order, as given on a command line ("product,packaging,full-length").
func ParseClassList(s string) (*ClassMap, error) {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return NewClassMap(parts...)
}

// labelCategoryConfig is the labelling job's LabelCategoryConfigS3Uri file:
// {"document-version": "2018-11-28", "labels": [{"label": "a"}, ...]}.
type labelCategoryConfig struct {
	DocumentVersion string `json:"document-version,omitempty"`
	Labels          []struct {
		Label *string `json:"label"`
	} `json:"labels"`
}

// ParseLabelCategoryConfig reads a Ground Truth label-category configuration.
// document-version is optional (AWS's own examples omit it); labels is
// required, and label order is class index order.
func ParseLabelCategoryConfig(r io.Reader) (*ClassMap, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, bom)
	dec := json.NewDecoder(bytes.NewReader(data))
	var cfg labelCategoryConfig
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("label category config: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("label category config: data after the object at byte %d", dec.InputOffset())
	}
	if len(cfg.Labels) == 0 {
		return nil, fmt.Errorf("label category config: no \"labels\" list")
	}
	names := make([]string, len(cfg.Labels))
	for i, l := range cfg.Labels {
		if l.Label == nil {
			return nil, fmt.Errorf("label category config: labels[%d]: no \"label\"", i)
		}
		names[i] = *l.Label
	}
	m, err := NewClassMap(names...)
	if err != nil {
		// err is "class <i>: <reason>"; name the entry as the file does.
		i, reason, _ := strings.Cut(strings.TrimPrefix(err.Error(), "class "), ": ")
		return nil, fmt.Errorf("label category config: labels[%s]: %s", i, reason)
	}
	return m, nil
}

// ReadClasses reads a class map from either form a user may hand over: a
// label-category configuration (JSON, as written by WriteJSON) or a
// comma-separated list. A classifier needs two classes at least, so a text
// that gives fewer (a file of something else, names separated by spaces)
// is an error wrapping ErrClassList.
func ReadClasses(r io.Reader) (*ClassMap, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: not UTF-8 text, want a label-category config (JSON) or names separated by commas", ErrClassList)
	}
	t := bytes.TrimSpace(bytes.TrimPrefix(data, bom))
	if len(t) > 0 && t[0] == '{' {
		return ParseLabelCategoryConfig(bytes.NewReader(t))
	}
	m, err := ParseClassList(string(t))
	if err != nil {
		return nil, err
	}
	if m.Len() < 2 {
		return nil, fmt.Errorf("%w: %d class (%s), want a label-category config (JSON) or at least 2 names separated by commas",
			ErrClassList, m.Len(), clip.Q(m.names[0]))
	}
	return m, nil
}

// Len reports the number of classes.
func (m *ClassMap) Len() int { return len(m.names) }

// Name returns the name of class i.
func (m *ClassMap) Name(i int) string { return m.names[i] }

// Names returns the class names in index order.
func (m *ClassMap) Names() []string { return append([]string(nil), m.names...) }

// Index returns the index of the class with the given name.
func (m *ClassMap) Index(name string) (int, bool) {
	for i, n := range m.names {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// WriteJSON writes the class map as a label-category configuration, the
// format Ground Truth takes and ParseLabelCategoryConfig reads back.
func (m *ClassMap) WriteJSON(w io.Writer) error {
	type label struct {
		Label string `json:"label"`
	}
	cfg := struct {
		DocumentVersion string  `json:"document-version"`
		Labels          []label `json:"labels"`
	}{DocumentVersion: "2018-11-28", Labels: make([]label, len(m.names))}
	for i, n := range m.names {
		cfg.Labels[i].Label = n
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(cfg)
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// ErrClassList is returned (wrapped) when the class list cannot be learned
// from a manifest's class-names.
var ErrClassList = errors.New("class list")

// classLearner builds a class map from the class names seen on lines, when
// none was given, and checks names against the given map otherwise.
type classLearner struct {
	given *ClassMap
	names []string // learned: index -> name ("" = not seen yet)
	lines []int    // learned: index -> first line that named it
}

// maxClasses bounds class indices: Ground Truth allows no more than this
// many labels in a console job, and far fewer in practice. It keeps a
// corrupt index from allocating a huge table.
const maxClasses = 1 << 16

// check returns an error when class index (named name, if not empty, on
// line) contradicts what is known, and learns the name otherwise. attr and
// pos (-1 for a single label) name the label's field for the error.
func (c *classLearner) check(line, index int, name []byte, attr string, pos int) *LineError {
	field := func() string { return labelField(attr, pos) }
	if c.given != nil {
		if index >= c.given.Len() {
			return &LineError{Line: line, Field: field(), Reason: fmt.Sprintf("class index %d, want 0..%d (%d classes)", index, c.given.Len()-1, c.given.Len())}
		}
		if want := c.given.names[index]; len(name) > 0 && string(name) != want {
			return &LineError{Line: line, Field: field(), Reason: fmt.Sprintf("class %d is %q in the class list, but the line names it %q", index, want, name)}
		}
		return nil
	}
	if index >= maxClasses {
		return &LineError{Line: line, Field: field(), Reason: fmt.Sprintf("class index %d, want at most %d", index, maxClasses-1)}
	}
	if len(name) == 0 {
		return nil
	}
	if index < len(c.names) && c.names[index] == string(name) {
		return nil // the common case: a class seen before, named the same
	}
	for index >= len(c.names) {
		c.names = append(c.names, "")
		c.lines = append(c.lines, 0)
	}
	switch have := c.names[index]; {
	case have == "":
		for j, n := range c.names {
			if n == string(name) {
				return &LineError{Line: line, Field: field(), Reason: fmt.Sprintf("class name %q is class %d since line %d, not class %d", name, j, c.lines[j], index)}
			}
		}
		c.names[index], c.lines[index] = string(name), line
	default:
		return &LineError{Line: line, Field: field(), Reason: fmt.Sprintf("class %d is %q since line %d, not %q", index, have, c.lines[index], name)}
	}
	return nil
}

// result returns the class map: the given one, or the learned one. Every
// index up to the largest seen must have been named.
func (c *classLearner) result(maxIndex int) (*ClassMap, error) {
	if c.given != nil {
		return c.given, nil
	}
	for len(c.names) <= maxIndex {
		c.names = append(c.names, "")
	}
	var missing []string
	for i, n := range c.names {
		if n == "" {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: class index %s never appears with a class-name, so its name is unknown: give the class list (--classes)", ErrClassList, strings.Join(missing, ", "))
	}
	if len(c.names) < 2 {
		return nil, fmt.Errorf("%w: only %d class seen, want at least 2: give the class list (--classes)", ErrClassList, len(c.names))
	}
	return &ClassMap{names: c.names}, nil
}

// labelField names the field of a label: the attribute, or one element of
// a multi-label attribute.
func labelField(attr string, pos int) string {
	if pos < 0 {
		return attr
	}
	return fmt.Sprintf("%s[%d]", attr, pos)
}
