package consolidate

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/manifest"
)

// Errors to branch on, wrapped in an *InputError (errors.Is finds them).
var (
	// ErrMultiSelect: a worker response holds a multi-select answer
	// ("labels"); only single-label classification is consolidated.
	ErrMultiSelect = errors.New("multi-select answer")
	// ErrUnknownClass: an answer names a class that is not in the class
	// list.
	ErrUnknownClass = errors.New("unknown class")
	// ErrNoPhoto: a worker response's datasetObjectId cannot be mapped to a
	// photo (no consolidation request and no input manifest line for it).
	ErrNoPhoto = errors.New("datasetObjectId not mapped to a photo")
	// ErrNoAnswers: there is nothing to consolidate.
	ErrNoAnswers = errors.New("no answers")
)

// An InputError says what is wrong with one answer, row or file of the
// input, and where.
type InputError struct {
	File string // the file, as the caller named it
	// Row is the 1-based data row of an answers table (the CSV header is
	// not counted); 0 for other files.
	Row int
	// Line is the 1-based line of a JSON Lines file (an input manifest); 0
	// for other files.
	Line int
	// Field is the column, or the JSON path within the file
	// ("answers[1].answerContent.crowd-image-classifier.label"); "" for
	// the whole file or row.
	Field  string
	Reason string // what was wrong and what was expected
	Err    error  // one of the sentinel errors above, or nil
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

func (e *InputError) Unwrap() error { return e.Err }

// An Answer is one inspector's label for one photo.
type Answer struct {
	Photo     string    // the photo's s3://bucket/key URI: the output manifest's source-ref
	Inspector string    // the inspector's id, opaque (a Ground Truth workerId)
	Label     string    // the class name answered
	At        time.Time // when it was answered; zero when unknown
	// File and Row say where the answer was read (Row as in InputError;
	// for a worker response, the 1-based place in its answers array).
	File string
	Row  int
}

// Answers holds inspectors' answers with photos, inspectors and classes
// numbered densely, as the consolidation works on them. Build one with
// NewAnswers and Add, or read one with ReadWorkerResponses or ReadAnswers.
// An Answers is not safe for concurrent use.
type Answers struct {
	classes *manifest.ClassMap
	folded  map[string]int // trimmed, case-folded class name -> index, -1 if ambiguous

	photoIdx   map[string]int32
	inspIdx    map[string]int32
	fileIdx    map[string]int32
	photos     []string
	inspectors []string
	files      []string

	// One entry per answer, in the order added.
	photo, insp, label []int32
	at                 []int64 // Unix microseconds; noTime when unknown
	file, row          []int32

	lastFile string
	lastIdx  int32
}

// noTime marks an answer whose time is unknown.
const noTime = math.MinInt64

// NewAnswers returns an empty set of answers to the given classes.
func NewAnswers(classes *manifest.ClassMap) *Answers {
	a := &Answers{
		classes:  classes,
		folded:   map[string]int{},
		photoIdx: map[string]int32{},
		inspIdx:  map[string]int32{},
		fileIdx:  map[string]int32{},
		lastIdx:  -1,
	}
	for i, n := range classes.Names() {
		k := foldClass(n)
		if _, ok := a.folded[k]; ok {
			a.folded[k] = -1
		} else {
			a.folded[k] = i
		}
	}
	return a
}

func foldClass(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Classes returns the class list the answers are read against.
func (a *Answers) Classes() *manifest.ClassMap { return a.classes }

// Len reports the number of answers added.
func (a *Answers) Len() int { return len(a.photo) }

// Photos reports the number of distinct photos.
func (a *Answers) Photos() int { return len(a.photos) }

// Inspectors reports the number of distinct inspectors.
func (a *Answers) Inspectors() int { return len(a.inspectors) }

// ClassIndex finds the class an answer names: the exact name, else the one
// class whose name matches without surrounding spaces and case (Ground
// Truth templates and other tools are not always careful with either).
func (a *Answers) ClassIndex(name string) (int, bool) {
	if i, ok := a.classes.Index(name); ok {
		return i, true
	}
	i, ok := a.folded[foldClass(name)]
	return i, ok && i >= 0
}

// Add adds one answer. It is an *InputError (naming ans.File and ans.Row)
// when the photo is not an s3://bucket/key URI, the inspector is empty, a
// value is not valid UTF-8, or the label is not one of the classes.
func (a *Answers) Add(ans Answer) error {
	at := int64(noTime)
	if !ans.At.IsZero() {
		at = ans.At.UnixMicro()
	}
	return a.add(ans.Photo, ans.Inspector, ans.Label, at, ans.File, ans.Row, tableFields)
}

// fields names the photo, inspector and label of an answer in errors.
type fields struct{ photo, inspector, label string }

var tableFields = &fields{ColPhoto, ColInspector, ColLabel}

// add adds one answer; f names its values in errors.
func (a *Answers) add(photo, inspector, label string, at int64, file string, row int, f *fields) error {
	bad := func(field, reason string, err error) error {
		return &InputError{File: file, Row: row, Field: field, Reason: reason, Err: err}
	}
	for _, v := range []struct{ field, v string }{{f.photo, photo}, {f.inspector, inspector}, {f.label, label}} {
		if !utf8.ValidString(v.v) {
			return bad(v.field, "not valid UTF-8", nil)
		}
	}
	if reason := checkPhotoURI(photo); reason != "" {
		return bad(f.photo, reason, nil)
	}
	if inspector == "" {
		return bad(f.inspector, "empty, want the inspector's id", nil)
	}
	class, ok := a.ClassIndex(label)
	if !ok {
		return bad(f.label, fmt.Sprintf("%q is not one of the classes %s", label, quoteList(a.classes.Names())), ErrUnknownClass)
	}
	a.photo = append(a.photo, intern(a.photoIdx, &a.photos, photo))
	a.insp = append(a.insp, intern(a.inspIdx, &a.inspectors, inspector))
	a.label = append(a.label, int32(class))
	a.at = append(a.at, at)
	if file != a.lastFile || a.lastIdx < 0 {
		a.lastIdx = intern(a.fileIdx, &a.files, file)
		a.lastFile = file
	}
	a.file = append(a.file, a.lastIdx)
	a.row = append(a.row, int32(row))
	return nil
}

func intern(idx map[string]int32, names *[]string, s string) int32 {
	if i, ok := idx[s]; ok {
		return i
	}
	i := int32(len(*names))
	s = strings.Clone(s) // not the reader's buffer
	idx[s] = i
	*names = append(*names, s)
	return i
}

// checkPhotoURI says what is wrong with a photo's URI, or "": the output
// manifest's source-ref must be s3://bucket/key.
func checkPhotoURI(s string) string {
	rest, ok := strings.CutPrefix(s, "s3://")
	bucket, key, _ := strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return fmt.Sprintf("got %q, want an s3://bucket/key URI", s)
	}
	return ""
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// answer returns answer i as added.
func (a *Answers) answer(i int) Answer {
	ans := Answer{
		Photo:     a.photos[a.photo[i]],
		Inspector: a.inspectors[a.insp[i]],
		Label:     a.classes.Name(int(a.label[i])),
		File:      a.files[a.file[i]],
		Row:       int(a.row[i]),
	}
	if a.at[i] != noTime {
		ans.At = time.UnixMicro(a.at[i]).UTC()
	}
	return ans
}

// dense is the answers laid out for consolidation: photos and inspectors
// numbered in sorted order, answers grouped by photo (CSR), one answer kept
// per photo and inspector.
type dense struct {
	k          int
	photos     []string // sorted
	inspectors []string // sorted
	start      []int32  // answers of photo i: [start[i], start[i+1])
	insp       []int32  // per kept answer, in photo then inspector order
	label      []int32
	at         []int64
	orig       []int32 // index of the answer in Answers
	superseded []int32 // indexes in Answers of answers replaced by a later one
}

// layout sorts and groups the answers. When an inspector answered a photo
// more than once, the latest answer is kept (by time; an unknown time is
// older than any known one; then the one added last).
func (a *Answers) layout() *dense {
	d := &dense{k: a.classes.Len()}
	photoRank := sortedRank(a.photos)
	inspRank := sortedRank(a.inspectors)
	d.photos = permuted(a.photos, photoRank)
	d.inspectors = permuted(a.inspectors, inspRank)

	// Counting sort by photo, stable in input order.
	n := len(a.photo)
	count := make([]int32, len(a.photos)+1)
	for _, p := range a.photo {
		count[photoRank[p]+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	order := make([]int32, n)
	next := slices.Clone(count[:len(count)-1])
	for i, p := range a.photo {
		r := photoRank[p]
		order[next[r]] = int32(i)
		next[r]++
	}
	// Within a photo, by inspector, then latest last.
	for p := 0; p < len(a.photos); p++ {
		group := order[count[p]:count[p+1]]
		slices.SortStableFunc(group, func(x, y int32) int {
			if c := cmp.Compare(inspRank[a.insp[x]], inspRank[a.insp[y]]); c != 0 {
				return c
			}
			return cmp.Compare(a.at[x], a.at[y])
		})
	}
	d.start = make([]int32, 0, len(a.photos)+1)
	d.insp = make([]int32, 0, n)
	d.label = make([]int32, 0, n)
	d.at = make([]int64, 0, n)
	d.orig = make([]int32, 0, n)
	for p := 0; p < len(a.photos); p++ {
		d.start = append(d.start, int32(len(d.insp)))
		group := order[count[p]:count[p+1]]
		for j, i := range group {
			if j+1 < len(group) && a.insp[group[j+1]] == a.insp[i] {
				d.superseded = append(d.superseded, i)
				continue
			}
			d.insp = append(d.insp, inspRank[a.insp[i]])
			d.label = append(d.label, a.label[i])
			d.at = append(d.at, a.at[i])
			d.orig = append(d.orig, i)
		}
	}
	d.start = append(d.start, int32(len(d.insp)))
	slices.Sort(d.superseded)
	return d
}

// sortedRank returns, for each name, its place in sorted order.
func sortedRank(names []string) []int32 {
	idx := make([]int32, len(names))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(x, y int32) int { return strings.Compare(names[x], names[y]) })
	rank := make([]int32, len(names))
	for r, i := range idx {
		rank[i] = int32(r)
	}
	return rank
}

func permuted(names []string, rank []int32) []string {
	out := make([]string, len(names))
	for i, r := range rank {
		out[r] = names[i]
	}
	return out
}
