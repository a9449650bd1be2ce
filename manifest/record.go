package manifest

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/internal/clip"
)

// Task types of the image-classification label attributes.
const (
	TypeSingleLabel = "groundtruth/image-classification"
	TypeMultiLabel  = "groundtruth/image-classification-multilabel"
)

// A Record is one labelled photo read from a manifest.
type Record struct {
	Line      int    // 1-based line number in the manifest
	SourceRef string // the photo's s3:// URI, exactly as written
	// Labels holds the chosen class for a single-label attribute, or every
	// chosen class of a multi-label attribute in file order.
	Labels     []Label
	MultiLabel bool
	// Human is true for "human-annotated": "yes", false for "no"
	// (automated labelling); HumanKnown is false when the field is absent.
	Human      bool
	HumanKnown bool
	JobName    string    // metadata job-name, verbatim ("" if absent)
	Created    string    // metadata creation-date, verbatim
	CreatedAt  time.Time // Created parsed as UTC; zero if it does not parse
	Type       string    // metadata type ("" if absent)
}

// A Label is one class chosen for a photo.
type Label struct {
	Index int    // class index, 0-based, in label-category order
	Name  string // class-name (or class-map entry); "" if absent
	// Confidence is in [0, 1], or NaN when the manifest gives none.
	Confidence float64
}

// HasConfidence reports whether the manifest gave a confidence.
func (l Label) HasConfidence() bool { return !math.IsNaN(l.Confidence) }

// Kind classifies why a line was not turned into a Record.
type Kind int

const (
	// Invalid: the line is malformed or breaks a rule (bad JSON, a field of
	// the wrong type or out of range, an unknown class).
	Invalid Kind = iota
	// Unlabelled: the line has no value for the label attribute. Ground
	// Truth writes such lines for objects that were never labelled.
	Unlabelled
	// Duplicate: the line repeats an earlier line's source-ref.
	Duplicate
	// Filtered: the line is valid but left out by a filter the caller set
	// (minimum confidence, human-annotated only, job name).
	Filtered
	// Conflicting: the line gives its photo a label that another line
	// contradicts. Every line of such a photo is rejected: which one is
	// right is for a person to say.
	Conflicting
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case Unlabelled:
		return "unlabelled"
	case Duplicate:
		return "duplicate"
	case Filtered:
		return "filtered"
	case Conflicting:
		return "conflict"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// A LineError says why one line of a manifest was not used.
type LineError struct {
	Line   int    // 1-based line number
	Field  string // the JSON field at fault, e.g. "category-metadata.confidence"; "" for the whole line
	Reason string // what was wrong and what was expected
	Kind   Kind
	// Lines, for a Conflicting line, are the lines that label the photo, this one
	// included, as far as they are known when the line is read.
	Lines []int
}

func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Reason)
}

// A Conflict is a photo that lines of a manifest label differently.
type Conflict struct {
	SourceRef string
	Lines     []int // every line that labels the photo, in order
}

// A ConflictError is returned by Convert when a photo already written to
// the outputs is labelled differently by a later line: the outputs then
// hold a label that must not be used. Convert streams, so it cannot take
// back what it wrote; run it again on the same manifest with
// Options.Conflicts set to Conflicts, and every line of those photos is
// rejected as Conflicting from the start.
type ConflictError struct {
	Conflicts []Conflict
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d photos labelled differently on different lines, found after their first line was written; convert again with them named in Options.Conflicts", len(e.Conflicts))
	for i, c := range e.Conflicts {
		if i == 5 {
			b.WriteString("; …")
			break
		}
		fmt.Fprintf(&b, "; %s on lines %s", clip.Q(c.SourceRef), lineList(c.Lines))
	}
	return b.String()
}

// lineList writes line numbers as "3, 9 and 12".
func lineList(lines []int) string {
	s := make([]string, len(lines))
	for i, l := range lines {
		s[i] = strconv.Itoa(l)
	}
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// ErrEmpty is returned (wrapped) by Convert for a manifest with no line
// that is not blank.
var ErrEmpty = errors.New("empty manifest")

// ErrAmbiguousAttribute is returned (wrapped) when no label attribute was
// named and a line carries several image-classification attributes.
var ErrAmbiguousAttribute = errors.New("several image-classification label attributes")

// ErrNoAttribute is returned (wrapped) when no label attribute was named and
// no line carries an image-classification attribute.
var ErrNoAttribute = errors.New("no image-classification label attribute")

// createdLayouts are the creation-date spellings seen in real manifests.
var createdLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
}

// parseCreated reads a creation-date leniently: the format is not specified
// by Ground Truth, so a date that does not parse is kept as text only.
func parseCreated(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range createdLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
