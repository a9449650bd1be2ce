package credittest

import (
	"cmp"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/reviewlens/reviewlens/credit"
)

// A Population is a large sample of the world's photos, each scored for
// every review type of a policy: the truth a calibration is held to. The
// world's model is calibrated, so a candidate decision's chance of being
// wrong is known exactly (1 − P(qualifies) for a grant, P(qualifies) for
// a reject) and the true risk of a family is the mean of those chances
// over its candidates above a threshold, review types in equal shares.
type Population struct {
	families map[[2]string]*sortedFamily // {review type or "", decision or ""}
}

type sortedFamily struct {
	scores []float64 // highest first
	wrong  []float64 // running sum of the chances of being wrong
}

// Population draws n photos and scores them for p's review types.
func (w World) Population(rng *rand.Rand, n int, p *credit.Policy) *Population {
	type cand struct {
		score, wrong float64
	}
	raw := map[[2]string][]cand{}
	types := slices.Sorted(maps.Keys(p.ReviewTypes))
	for range n {
		ph := w.Photo(rng)
		for _, t := range types {
			q, ok := p.QualifyingProbability(p.ReviewTypes[t], ph.Probabilities)
			if !ok || q == 0.5 {
				continue
			}
			c, d := cand{score: q, wrong: 1 - q}, credit.Grant
			if q < 0.5 {
				c, d = cand{score: 1 - q, wrong: q}, credit.Reject
			}
			for _, key := range [][2]string{{t, d}, {"", d}, {"", ""}} {
				raw[key] = append(raw[key], c)
			}
		}
	}
	pop := &Population{families: map[[2]string]*sortedFamily{}}
	for key, cs := range raw {
		slices.SortFunc(cs, func(a, b cand) int { return cmp.Compare(b.score, a.score) })
		f := &sortedFamily{scores: make([]float64, len(cs)), wrong: make([]float64, len(cs))}
		sum := 0.0
		for i, c := range cs {
			sum += c.wrong
			f.scores[i], f.wrong[i] = c.score, sum
		}
		pop.families[key] = f
	}
	return pop
}

// Risk is the true share of wrong decisions among a family's automatic
// decisions at threshold lambda (those with a decision score ≥ lambda),
// and their share of the family's candidates: the family of reviewType
// ("" for every type) and decision ("" for both). A threshold no
// candidate reaches has risk 0 and coverage 0.
func (pop *Population) Risk(reviewType, decision string, lambda float64) (risk, coverage float64) {
	f := pop.families[[2]string{reviewType, decision}]
	if f == nil {
		return 0, 0
	}
	n := sort.Search(len(f.scores), func(i int) bool { return f.scores[i] < lambda })
	if n == 0 {
		return 0, 0
	}
	return f.wrong[n-1] / float64(n), float64(n) / float64(len(f.scores))
}
