package manifest

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/cespare/xxhash/v2"
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
}

func (o *Options) maxLine() int {
	if o.MaxLineBytes > 0 {
		return o.MaxLineBytes
	}
	return 4 << 20
}

// checker holds the rules that need more than one line: the class map,
// duplicate source-refs, and the filters. Both Reader and Convert pass every
// parsed line through one checker, in line order.
type checker struct {
	opts     Options
	classes  classLearner
	seen     hashSet
	maxIndex int
	jobs     map[string]bool
	// nameBytes caches class names as bytes for the labels table.
	nameBytes [][]byte
}

func newChecker(opts Options) *checker {
	c := &checker{opts: opts, classes: classLearner{given: opts.Classes}, maxIndex: -1}
	if len(opts.JobNames) > 0 {
		c.jobs = make(map[string]bool)
		for _, j := range opts.JobNames {
			c.jobs[strings.TrimPrefix(j, "labeling-job/")] = true
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
	if reason := c.filter(e); reason != "" {
		return &LineError{Line: e.line, Field: attr + "-metadata", Reason: reason, Kind: Filtered}
	}
	if c.seen.add(h) {
		return &LineError{Line: e.line, Field: "source-ref", Reason: fmt.Sprintf("%q is on an earlier line too; the first is kept", e.sourceRef), Kind: Duplicate}
	}
	return nil
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

// hashSet remembers the source-ref hashes seen. It is an open-addressing
// table of bare 64-bit hashes with Robin Hood probing, which stays fast at
// 90% load, and sized by a hint so that it need not grow: at a million
// photos it takes 9 MiB, where a Go map takes over 40, and memory matters in
// a 64 MiB budget. Two different source-refs with the same 64-bit hash would
// be taken for duplicates; at a million lines the odds are about 1 in 30
// million.
type hashSet struct {
	keys []uint64 // 0 = empty; a hash of 0 is stored as 1
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

// add reports whether h was already in the set, and adds it.
func (s *hashSet) add(h uint64) (dup bool) {
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
			s.keys[i] = h
			s.n++
			return false
		}
		if k == h {
			return true
		}
		// Robin Hood: the resident is closer to its home than h is to its
		// own, so h cannot be further on; h takes the slot and the
		// resident moves on.
		if kd := (i + size - s.home(k)) % size; kd < dist {
			s.keys[i] = h
			h, dist = k, kd
		}
		if i++; i == size {
			i = 0
		}
	}
}

func (s *hashSet) resize(size int) {
	old := s.keys
	s.keys, s.n = make([]uint64, size), 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
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
