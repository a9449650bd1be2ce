package manifest

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/reviewlens/reviewlens/internal/clip"
)

// Options choose what a Reader or Convert keeps. The zero value reads the
// only image-classification attribute and keeps every labelled line.
type Options struct {
	// LabelAttribute names the label attribute to read. Empty means the one
	// image-classification attribute on the first labelled line; a line with
	// several is then an error (ErrAmbiguousAttribute).
	LabelAttribute string
	// Classes is the class list (from the labelling job's label-category
	// configuration). Nil means learning it from the lines' class-names;
	// either way a contradiction is an Invalid line.
	Classes *ClassMap
	// MinConfidence filters out labels below it (and, when above 0, labels
	// with no confidence). A multi-label line keeps its labels at or above
	// it and is filtered when none is left.
	MinConfidence float64
	// HumanOnly filters out lines whose human-annotated is not "yes".
	HumanOnly bool
	// JobNames, when not empty, keeps only lines whose job-name is one of
	// them; "labeling-job/x" and "x" name the same job.
	JobNames []string
	// MaxLineBytes bounds one line; 0 means 4 MiB (Ground Truth allows
	// 100,000 characters a line, up to 400 KB of UTF-8).
	MaxLineBytes int
	// Conflicts names photos known to be labelled differently on
	// different lines (from a *ConflictError): every line of them is
	// rejected as Conflicting.
	Conflicts []Conflict
}

func (o *Options) maxLine() int {
	if o.MaxLineBytes > 0 {
		return o.MaxLineBytes
	}
	return 4 << 20
}

// checker holds the rules that need more than one line: the class map,
// the attribute's task type, duplicate and conflicting source-refs, and
// the filters. Both Reader and Convert pass every parsed line through one
// checker, in line order.
type checker struct {
	opts     Options
	classes  classLearner
	seen     hashSet
	maxIndex int
	jobs     map[string]bool
	// nameBytes caches class names as bytes for the labels table.
	nameBytes [][]byte
	// task is the attribute's task type, TypeSingleLabel or
	// TypeMultiLabel, from the first line checked (its metadata type, or
	// its shape when it has none); taskLine is that line.
	task     string
	taskLine int
	// known are the conflicts named in Options; found those found while
	// reading, by source-ref hash, in the order found.
	known map[uint64]*Conflict
	found map[uint64]*Conflict
	order []uint64
	// dups holds the later lines of photos repeated with the same label,
	// so that a conflict found after them names them too.
	dups map[uint64][]int
}

func newChecker(opts Options) *checker {
	c := &checker{opts: opts, classes: classLearner{given: opts.Classes}, maxIndex: -1}
	if len(opts.JobNames) > 0 {
		c.jobs = make(map[string]bool)
		for _, j := range opts.JobNames {
			c.jobs[strings.TrimPrefix(j, "labeling-job/")] = true
		}
	}
	if len(opts.Conflicts) > 0 {
		c.known = make(map[uint64]*Conflict, len(opts.Conflicts))
		for i := range opts.Conflicts {
			c.known[sourceHash([]byte(opts.Conflicts[i].SourceRef))] = &opts.Conflicts[i]
		}
	}
	return c
}

// check applies the rules to a parsed line whose source-ref hashes to h.
func (c *checker) check(e *entry, attr string, h uint64) *LineError {
	for i := range e.labels {
		l := &e.labels[i]
		pos := -1
		if e.multi {
			pos = i
		}
		if err := c.classes.check(e.line, l.index, l.name, attr, pos); err != nil {
			return err
		}
		if l.index > c.maxIndex {
			c.maxIndex = l.index
		}
	}
	if err := c.checkTask(e, attr); err != nil {
		return err
	}
	if _, reason := PhotoType(unsafeString(e.sourceRef), nil); reason != "" {
		return &LineError{Line: e.line, Field: "source-ref", Reason: clip.Q(string(e.sourceRef)) + ": " + reason, Kind: Invalid}
	}
	if k, ok := c.known[h]; ok && k.SourceRef == string(e.sourceRef) {
		return &LineError{Line: e.line, Field: attr, Kind: Conflicting, Lines: k.Lines,
			Reason: fmt.Sprintf("%s is labelled differently on lines %s: every line of it is rejected", clip.Q(k.SourceRef), lineList(k.Lines))}
	}
	if reason := c.filter(e); reason != "" {
		return &LineError{Line: e.line, Field: attr + "-metadata", Reason: reason, Kind: Filtered}
	}
	sig := labelSignature(e)
	dup, old := c.seen.add(h, uint64(sig)<<32|uint64(uint32(e.line)))
	if !dup {
		return nil
	}
	oldSig, oldLine := uint32(old>>32), int(uint32(old))
	switch {
	case oldSig == conflicted:
		cf := c.found[h]
		cf.Lines = append(cf.Lines, e.line)
		return &LineError{Line: e.line, Field: attr, Kind: Conflicting, Lines: slices.Clone(cf.Lines),
			Reason: fmt.Sprintf("%s is labelled differently on lines %s: every line of it is rejected", clip.Q(string(e.sourceRef)), lineList(cf.Lines))}
	case oldSig == sig:
		if c.dups == nil {
			c.dups = map[uint64][]int{}
		}
		c.dups[h] = append(c.dups[h], e.line)
		return &LineError{Line: e.line, Field: "source-ref", Reason: fmt.Sprintf("%s is on line %d too, with the same label; the first is kept", clip.Q(string(e.sourceRef)), oldLine), Kind: Duplicate}
	}
	c.seen.set(h, uint64(conflicted)<<32|uint64(uint32(oldLine)))
	if c.found == nil {
		c.found = map[uint64]*Conflict{}
	}
	cf := &Conflict{SourceRef: string(e.sourceRef), Lines: slices.Concat([]int{oldLine}, c.dups[h], []int{e.line})}
	delete(c.dups, h)
	c.found[h] = cf
	c.order = append(c.order, h)
	return &LineError{Line: e.line, Field: attr, Kind: Conflicting, Lines: slices.Clone(cf.Lines),
		Reason: fmt.Sprintf("%s is labelled %s here and %s on line %d: a photo with two labels is rejected on both lines",
			clip.Q(string(e.sourceRef)), c.describeSig(sig), c.describeSig(oldSig), oldLine)}
}

// conflicted marks a photo whose lines disagree, in the hash set.
const conflicted = math.MaxUint32

// labelSignature sums up a line's labels in 32 bits: the class index + 1
// for a single label, a hash of the sorted indices (top bit set) for
// several.
func labelSignature(e *entry) uint32 {
	if !e.multi {
		return uint32(e.labels[0].index + 1)
	}
	idx := make([]int, len(e.labels))
	for i, l := range e.labels {
		idx[i] = l.index
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	d := xxhash.New()
	var b [8]byte
	for _, i := range idx {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		d.Write(b[:])
	}
	return uint32(d.Sum64())&0x7fffffff | 0x80000000
}

// describeSig names the label a signature stands for, for messages.
func (c *checker) describeSig(sig uint32) string {
	if sig&0x80000000 != 0 {
		return "with another set of classes"
	}
	i := int(sig) - 1
	if n := c.className(i); n != "" {
		return fmt.Sprintf("%d (%s)", i, n)
	}
	return strconv.Itoa(i)
}

// checkTask holds every line to the attribute's task type: single-label
// or multi-label, as the metadata type of the first line says (or, when it
// has none, its shape). A line of the other type, or of the other shape,
// is invalid: one stray multi-label line must not make a single-label
// dataset multi-label.
func (c *checker) checkTask(e *entry, attr string) *LineError {
	shape := TypeSingleLabel
	if e.multi {
		shape = TypeMultiLabel
	}
	if c.task == "" {
		c.task, c.taskLine = shape, e.line
		if len(e.typ) > 0 {
			c.task = string(e.typ)
		}
		return nil
	}
	if len(e.typ) > 0 && string(e.typ) != c.task {
		return &LineError{Line: e.line, Field: attr + "-metadata.type", Kind: Invalid,
			Reason: fmt.Sprintf("got %q, want %q: the attribute %s is %s (from line %d)", e.typ, c.task, attr, taskName(c.task), c.taskLine)}
	}
	if shape != c.task {
		got, want := "an array of class indices", "one class index"
		if !e.multi {
			got, want = "one class index", "an array of class indices"
		}
		return &LineError{Line: e.line, Field: attr, Kind: Invalid,
			Reason: fmt.Sprintf("got %s, want %s: the attribute %s is %s (from line %d)", got, want, attr, taskName(c.task), c.taskLine)}
	}
	return nil
}

func taskName(t string) string {
	if t == TypeMultiLabel {
		return "multi-label"
	}
	return "single-label"
}

// lateConflicts returns the conflicts found whose first line was not known
// to be in conflict when it was read.
func (c *checker) lateConflicts() []Conflict {
	var out []Conflict
	for _, h := range c.order {
		out = append(out, *c.found[h])
	}
	return out
}

// filter applies the caller's filters, dropping low-confidence labels of a
// multi-label line, and says why a line is left out.
func (c *checker) filter(e *entry) string {
	if c.opts.HumanOnly && e.human != 1 {
		if e.human == 0 {
			return "human-annotated is \"no\" (automated labelling), and only human labels are kept"
		}
		return "no human-annotated field, and only human labels are kept"
	}
	if c.jobs != nil && !c.jobs[strings.TrimPrefix(unsafeString(e.jobName), "labeling-job/")] {
		return fmt.Sprintf("job-name %q is not one of the jobs kept", e.jobName)
	}
	if min := c.opts.MinConfidence; min > 0 {
		kept := e.labels[:0:0]
		for _, l := range e.labels {
			if !math.IsNaN(l.conf) && l.conf >= min {
				kept = append(kept, l)
			}
		}
		if len(kept) == 0 {
			if math.IsNaN(e.labels[0].conf) {
				return fmt.Sprintf("no confidence, and the minimum is %g", min)
			}
			return fmt.Sprintf("confidence %g is below the minimum %g", e.labels[0].conf, min)
		}
		if len(kept) < len(e.labels) {
			e.labels = kept
		}
	}
	return ""
}

// sourceHash keys duplicate detection and the split.
func sourceHash(src []byte) uint64 { return xxhash.Sum64(src) }

// inValidation decides a line's split from its source-ref hash alone, so
// that a line never changes split when others are added or removed. Each
// line of every class goes to validation with probability fraction, which
// stratifies every class in expectation.
func inValidation(h uint64, seed int64, fraction float64) bool {
	x := h ^ (uint64(seed) * 0x9E3779B97F4A7C15)
	// splitmix64 finaliser: spreads the seed into every bit.
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < fraction
}

// hashSet remembers the source-ref hashes seen, each with a 64-bit value
// (a label signature and a line number). It is an open-addressing table of
// bare 64-bit hashes with Robin Hood probing, which stays fast at 90% load,
// and sized by a hint so that it need not grow: at a million photos it
// takes 18 MiB, where a Go map takes over 40, and memory matters in a 64
// MiB budget. Two different source-refs with the same 64-bit hash would
// be taken for one photo; at a million lines the odds are about 1 in 30
// million.
type hashSet struct {
	keys []uint64 // 0 = empty; a hash of 0 is stored as 1
	vals []uint64
	n    int
}

// maxLoad is the share of slots used before the table grows.
const maxLoad = 0.9

// reserve sizes the table for n hashes.
func (s *hashSet) reserve(n int) {
	if want := int(float64(n)/maxLoad) + 64; want > len(s.keys) {
		s.resize(want)
	}
}

// home is the slot a hash starts probing from (Lemire's fast range).
func (s *hashSet) home(h uint64) uint64 {
	hi, _ := bits.Mul64(h, uint64(len(s.keys)))
	return hi
}

// add reports whether h was already in the set, with its value then;
// otherwise it adds h with val.
func (s *hashSet) add(h, val uint64) (dup bool, old uint64) {
	if h == 0 {
		h = 1
	}
	if float64(s.n+1) > maxLoad*float64(len(s.keys)) {
		s.resize(max(1024, len(s.keys)+len(s.keys)/2))
	}
	size := uint64(len(s.keys))
	i := s.home(h)
	for dist := uint64(0); ; dist++ {
		k := s.keys[i]
		if k == 0 {
			s.keys[i], s.vals[i] = h, val
			s.n++
			return false, 0
		}
		if k == h {
			return true, s.vals[i]
		}
		// Robin Hood: the resident is closer to its home than h is to its
		// own, so h cannot be further on; h takes the slot and the
		// resident moves on.
		if kd := (i + size - s.home(k)) % size; kd < dist {
			s.keys[i], h = h, k
			s.vals[i], val = val, s.vals[i]
			dist = kd
		}
		if i++; i == size {
			i = 0
		}
	}
}

// set replaces the value of h, which must be in the set.
func (s *hashSet) set(h, val uint64) {
	if h == 0 {
		h = 1
	}
	size := uint64(len(s.keys))
	for i := s.home(h); ; {
		if s.keys[i] == h {
			s.vals[i] = val
			return
		}
		if i++; i == size {
			i = 0
		}
	}
}

func (s *hashSet) resize(size int) {
	oldKeys, oldVals := s.keys, s.vals
	s.keys, s.vals, s.n = make([]uint64, size), make([]uint64, size), 0
	for i, h := range oldKeys {
		if h != 0 {
			s.add(h, oldVals[i])
		}
	}
}

// prefetch touches the table slot of every row's hash before the rows are
// checked one by one. The loads are independent, so the processor overlaps
// their cache misses; the lookups that follow then hit the cache. On a
// million photos this halves the time spent finding duplicates.
func (s *hashSet) prefetch(rows []row) {
	if len(s.keys) == 0 {
		return
	}
	var sink uint64
	for i := range rows {
		sink += s.keys[s.home(rows[i].hash)]
	}
	prefetchSink = sink
}

var prefetchSink uint64
