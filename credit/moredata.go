package credit

import (
	"fmt"
	"math"
	"strconv"
)

// MoreData is what more labelled photos like those of the calibration set
// would buy a family that is not certified, or that covers much less than
// its error curve allows.
//
// The estimate is simple, and rough: the family's observed error curve is
// taken as the truth, and the same procedure is run on it as if every
// photo counted (m + A)/m times, m being the calibration photos and A the
// photos added (so its candidates and their errors grow in proportion,
// the errors rounded). A is taken from 500, 1,000, 2,000, 3,000, 5,000,
// 10,000, 20,000 and 50,000, and the first that certifies the family (or,
// for a certified family, that adds 10 points of coverage) is reported,
// with the coverage it would certify. It says nothing of a family whose
// error curve never reaches the target: more photos like these cannot
// certify what they show to be wrong too often.
type MoreData struct {
	// Photos is the number of labelled photos to add: 0 when no estimate
	// is made (none is needed, or none helps).
	Photos int
	// Coverage is the share of the family's candidates that would then be
	// decided automatically, roughly.
	Coverage float64
	// Note says it for people, "" when there is nothing to say.
	Note string
}

// moreDataSizes are the numbers of photos added that MoreData tries.
var moreDataSizes = []int{500, 1000, 2000, 3000, 5000, 10000, 20000, 50000}

// moreData estimates what more data would buy the family data, of
// decision ("" for both), whose selection with opts is sel; photos is the
// number of calibration photos.
func moreData(data []Scored, decision string, opts SelectOptions, sel Selection, photos int) MoreData {
	risk := 1 - opts.TargetAccuracy
	l := newLadder(data)
	if photos == 0 || l.photos() == 0 || !(risk > 0 && risk < 1) || !(opts.Delta > 0 && opts.Delta < 1) {
		return MoreData{}
	}
	p := opts.procedure()
	project := func(added int) (float64, bool) {
		f := float64(photos+added) / float64(photos)
		pl := &ladder{score: l.score, n: make([]int, len(l.n)), k: make([]int, len(l.k)), total: int(math.Round(float64(l.total) * f))}
		for i := range l.n {
			pl.n[i] = int(math.Round(float64(l.n[i]) * f))
			pl.k[i] = int(math.Round(float64(l.k[i]) * f))
		}
		c, ok := p.choose(pl, risk, opts.Delta)
		if !ok {
			return 0, false
		}
		return float64(pl.n[c.step]) / float64(pl.total), true
	}
	target := percent(opts.TargetAccuracy)
	if !sel.Certified {
		for _, a := range moreDataSizes {
			if cov, ok := project(a); ok && cov > 0 {
				return MoreData{Photos: a, Coverage: cov, Note: fmt.Sprintf("not certified; with about %s more labelled photos like these, about %s of %s at %s",
					thousands(a), percent(roundTo(cov, 2)), what(decision), target)}
			}
		}
		return MoreData{Note: fmt.Sprintf("not certified, and %s more labelled photos like these would not certify it either: too many of its most confident photos are wrong for %s",
			thousands(moreDataSizes[len(moreDataSizes)-1]), target)}
	}
	for _, a := range moreDataSizes {
		if cov, ok := project(a); ok && cov >= sel.Coverage+0.1 {
			return MoreData{Photos: a, Coverage: cov, Note: fmt.Sprintf("covers %s; with about %s more labelled photos like these, about %s of %s at %s",
				percent(roundTo(sel.Coverage, 3)), thousands(a), percent(roundTo(cov, 2)), what(decision), target)}
		}
	}
	return MoreData{}
}

// what says what a family of decision's candidates would be, for
// MoreData's note.
func what(decision string) string {
	switch decision {
	case Grant:
		return "the photos likely to qualify would be granted automatically"
	case Reject:
		return "the photos likely not to qualify would be rejected automatically"
	}
	return "the photos would be decided automatically"
}

// thousands writes n with thousands separators: 4000 is "4,000".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
