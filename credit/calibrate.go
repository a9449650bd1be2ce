package credit

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// A Labelled photo has a prediction and a known true class: the
// calibration set (the validation split joined to its labels).
type Labelled struct {
	// Predicted and Confidence are the model's top class and its
	// probability: kept for the report (confusion matrix, reliability).
	Predicted  string
	Confidence float64
	// Probabilities are the model's probabilities of every class, in the
	// policy's class order: what Calibrate calibrates on.
	Probabilities []float64
	// True is the photo's class, as labelled.
	True string
}

// CalibrateOptions set what the thresholds must guarantee. A value that
// is set is used as it is, or refused: nothing is replaced by a default
// (the command's flags carry the defaults, 0.98 and 0.05).
type CalibrateOptions struct {
	// TargetAccuracy is the accuracy each family of automatic decisions
	// must have, in (0, 1). It may be 0 only when Targets sets both
	// decisions.
	TargetAccuracy float64
	// Targets sets a decision's own target, by decision (Grant, Reject),
	// in (0, 1), in place of TargetAccuracy: a business that fears wrong
	// payments more asks {Grant: 0.99, Reject: 0.97}. Not with Overall,
	// whose one family has one target.
	Targets map[string]float64
	// Delta is the chance, over the draw of the calibration set, that the
	// guarantee fails, in (0, 1); it is shared out equally among the
	// families (Bonferroni).
	Delta float64
	// Guarantee is PerDecision, Overall or PerReviewType: which automatic
	// decisions are bounded together. "" means the policy's own (its
	// guarantee key), or PerDecision when it has none.
	Guarantee string
	// Method is the selection procedure; the zero value is the default.
	Method Method
	// CurvePoints is the size of the risk–coverage curves kept for the
	// report; 0 means 60.
	CurvePoints int
}

// A Family is one kind of automatic decision calibrated on its own: under
// PerReviewType the grants, or the rejects, of one review type; under
// PerDecision the grants, or the rejects, of every review type; under
// Overall every automatic decision.
type Family struct {
	// ReviewType is the family's review type; "" when it pools them.
	ReviewType string
	// Decision is Grant or Reject; "" when the family holds both.
	Decision string
	// Target is the accuracy the family must have, and Delta the chance
	// its guarantee fails.
	Target, Delta float64
	Selection     Selection
	// Curve is its risk–coverage curve on the decision score.
	Curve []CurvePoint
	// Photos is the number of calibration decisions in the family: a
	// photo counts once per review type it is scored for.
	Photos int
	// MoreData says what more labelled photos would buy, when the family
	// is not certified or covers much less than its error curve allows.
	MoreData MoreData
}

// Name is the family's name for people: "style reviews · grant", "grants
// (every review type)", "every automatic decision".
func (f *Family) Name() string {
	switch {
	case f.ReviewType != "":
		return f.ReviewType + " reviews · " + f.Decision
	case f.Decision != "":
		return f.Decision + "s (every review type)"
	}
	return "every automatic decision"
}

// A Calibration is the result of Calibrate: the policy with its
// thresholds, and what each family certifies.
type Calibration struct {
	Policy    *Policy
	Guarantee string
	Delta     float64
	Families  []Family
}

// Calibrate chooses the policy's thresholds from labelled photos, on the
// decision score (see Policy.Decide): for each photo and review type, the
// probability that the photo qualifies for that type, P(qualifies). A
// photo with P(qualifies) above 0.5 is a candidate grant, scored
// P(qualifies), wrong when its true class does not qualify; below 0.5 a
// candidate reject, scored 1 − P(qualifies), wrong when its true class
// qualifies (at exactly 0.5 it is never decided). The returned policy is
// a SchemaDecision policy, with the rules of p.
//
// # Families
//
// The candidates fall into the families of the guarantee asked for, each
// calibrated by Select to its target at delta/F (F families), so that all
// the guarantees hold together with probability at least 1 − Delta:
//
//   - PerReviewType: the grants, and the rejects, of each review type: 2
//     families a type. Every photo is scored for every type; each family
//     holds one candidate a photo at most, so its candidates are
//     independent. Each type gets its own thresholds.
//   - PerDecision: the grants of every type, and the rejects of every
//     type: 2 families, each with one threshold for every type. The
//     guarantee is on the share of wrong grants (and of wrong rejects)
//     over the day's automatic decisions, review types pooled.
//   - Overall: every candidate, grant or reject, in one family, scored by
//     the probability of the decision it would take; one threshold,
//     the same for grants and rejects. The guarantee is on the share of
//     wrong decisions among all automatic decisions: the figure a team
//     quotes ("98% of automatic decisions are right"), which lets the
//     grants be less sure than 98% where the rejects are surer.
//
// # Why pooling keeps the guarantee
//
// A pooled family's risk is the share of wrong decisions among the
// automatic decisions of a day whose review types come in equal shares
// (each photo scored for every type counts each type once). Select's
// argument needs the candidates above a threshold to be independent
// draws; pooling breaks that only through candidates of the same photo.
// When the review types' qualifying classes do not overlap (the rule of
// the business: product and full-length), a photo has more than 0.5 on
// the qualifying classes of one type at most, so it is a candidate grant
// for one type at most: the grants of different photos are independent.
// It may be a candidate reject for several types, but it can be wrong for
// one of them at most (its true class qualifies for one type at most), so
// its errors count 0 or 1: the errors are a sum of independent Bernoulli
// variables, one a photo, whose mean is the family's risk times its
// candidates. Below its mean, such a sum is less likely to be small than a
// binomial of as many trials and the same mean (Hoeffding 1956, Theorem
// 4): the Clopper–Pearson test at each threshold keeps its level, and the
// walk's argument goes through. When the qualifying classes overlap, or
// under Overall (a photo's grant for one type and reject for another can
// both be wrong), each photo is instead scored for one review type only,
// drawn at random with equal chances (a fixed seed, never looking at the
// labels): the family is then a sample of independent (photo, review
// type) pairs, as Select assumes, from half (a third, …) of the data.
//
// Thresholds could differ per decision within the Overall family only if
// they were walked down together along a path fixed before the labels are
// seen; one threshold on one score is such a path, and the one used.
//
// A family that cannot be certified (too few photos, too many errors)
// decides nothing automatically; its MoreData says what more labelled
// photos would buy.
func Calibrate(p *Policy, data []Labelled, opts CalibrateOptions) (*Calibration, error) {
	guarantee := cmp.Or(opts.Guarantee, p.Guarantee, PerDecision)
	if !slices.Contains(Guarantees, guarantee) {
		return nil, fmt.Errorf("guarantee %q, want %s", guarantee, orList(Guarantees))
	}
	if !(opts.Delta > 0 && opts.Delta < 1) {
		return nil, fmt.Errorf("delta %g, want a number between 0 and 1, both excluded", opts.Delta)
	}
	targets := map[string]float64{}
	for _, d := range slices.Sorted(maps.Keys(opts.Targets)) {
		t := opts.Targets[d]
		if d != Grant && d != Reject {
			return nil, fmt.Errorf("target for %q, want a target for %s or %s", d, Grant, Reject)
		}
		if !(t > 0 && t < 1) {
			return nil, fmt.Errorf("target accuracy %g for %ss, want a number between 0 and 1, both excluded", t, d)
		}
		targets[d] = t
	}
	for _, d := range []string{Grant, Reject} {
		if _, ok := targets[d]; ok {
			continue
		}
		if !(opts.TargetAccuracy > 0 && opts.TargetAccuracy < 1) {
			return nil, fmt.Errorf("target accuracy %g, want a number between 0 and 1, both excluded", opts.TargetAccuracy)
		}
		targets[d] = opts.TargetAccuracy
	}
	if guarantee == Overall && targets[Grant] != targets[Reject] {
		return nil, fmt.Errorf("targets %g for grants and %g for rejects: the %s guarantee has one target for every automatic decision; want one target, or the %s guarantee", targets[Grant], targets[Reject], Overall, PerDecision)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cands, err := candidates(p, data)
	if err != nil {
		return nil, err
	}
	points := opts.CurvePoints
	if points <= 0 {
		points = 60
	}

	types := slices.Sorted(maps.Keys(p.ReviewTypes))
	var fams []Family
	var members [][]Scored
	add := func(typ, decision string, target float64, scored []Scored) {
		fams = append(fams, Family{ReviewType: typ, Decision: decision, Target: target, Photos: len(scored)})
		members = append(members, scored)
	}
	switch guarantee {
	case PerReviewType:
		for _, t := range types {
			for _, d := range []string{Grant, Reject} {
				add(t, d, targets[d], cands.family(func(c candidate) bool { return c.typ == t && c.decision == d }))
			}
		}
	case PerDecision:
		keep := cands.all
		if overlap(p) {
			keep = cands.assigned
		}
		for _, d := range []string{Grant, Reject} {
			add("", d, targets[d], cands.family(func(c candidate) bool { return keep(c) && c.decision == d }))
		}
	case Overall:
		add("", "", targets[Grant], cands.family(cands.assigned))
	}
	delta := opts.Delta / float64(len(fams))
	thresholds := map[string]Threshold{}
	for _, t := range types {
		thresholds[t] = neverThreshold
	}
	for i := range fams {
		f := &fams[i]
		f.Delta = delta
		sopts := SelectOptions{TargetAccuracy: f.Target, Delta: delta, Method: opts.Method}
		f.Selection = Select(members[i], sopts)
		f.Curve = RiskCoverage(members[i], delta, points)
		f.MoreData = moreData(members[i], f.Decision, sopts, f.Selection, len(data))
		th := f.Selection.Threshold // +Inf when not certified
		for _, t := range types {
			if f.ReviewType != "" && f.ReviewType != t {
				continue
			}
			x := thresholds[t]
			if f.Decision != Reject {
				x.Grant = th
			}
			if f.Decision != Grant {
				x.Reject = th
			}
			thresholds[t] = x
		}
	}
	c := &Calibration{Guarantee: guarantee, Delta: opts.Delta, Families: fams}
	q := *p
	q.Schema, q.Guarantee = SchemaDecision, guarantee
	c.Policy = q.WithThresholds(thresholds, c.certificate(targets))
	return c, nil
}

// overlap says whether two review types share a qualifying class.
func overlap(p *Policy) bool {
	seen := map[string]bool{}
	for _, r := range p.ReviewTypes {
		for _, q := range r.Qualifying {
			if seen[q] {
				return true
			}
			seen[q] = true
		}
	}
	return false
}

// A candidate is one automatic decision a calibration photo could get:
// under one review type, a grant or a reject, with its decision score.
type candidate struct {
	typ      string
	decision string // Grant or Reject
	score    float64
	wrong    bool
	assigned bool // typ is the review type drawn for the photo
}

type candidateSet struct{ list []candidate }

func (s candidateSet) all(candidate) bool        { return true }
func (s candidateSet) assigned(c candidate) bool { return c.assigned }

func (s candidateSet) family(keep func(candidate) bool) []Scored {
	var out []Scored
	for _, c := range s.list {
		if keep(c) {
			out = append(out, Scored{Score: c.score, Wrong: c.wrong})
		}
	}
	return out
}

// assignSeed seeds the draw of one review type per photo: fixed, so that
// a calibration is reproducible, and independent of the data.
const assignSeed = 0x5eed_c0de

// candidates scores every photo for every review type.
func candidates(p *Policy, data []Labelled) (candidateSet, error) {
	known := map[string]bool{}
	for _, c := range p.Classes {
		known[c] = true
	}
	types := slices.Sorted(maps.Keys(p.ReviewTypes))
	rng := rand.New(rand.NewPCG(assignSeed, uint64(len(types))))
	var s candidateSet
	for i, l := range data {
		if !known[l.True] {
			return s, fmt.Errorf("calibration photo %d: true class %q, want a class of the policy (%s)", i, l.True, strings.Join(p.Classes, ", "))
		}
		drawn := types[rng.IntN(len(types))]
		for _, t := range types {
			rule := p.ReviewTypes[t]
			q, ok := p.QualifyingProbability(rule, l.Probabilities)
			if !ok {
				return s, fmt.Errorf("calibration photo %d: %w", i, errProbabilities(len(p.Classes), len(l.Probabilities)))
			}
			c := candidate{typ: t, assigned: t == drawn}
			trulyQualifies := slices.Contains(rule.Qualifying, l.True)
			switch {
			case q > 0.5:
				c.decision, c.score, c.wrong = Grant, q, !trulyQualifies
			case q < 0.5:
				c.decision, c.score, c.wrong = Reject, 1-q, trulyQualifies
			default: // never decided; counted in the grants
				c.decision, c.score, c.wrong = Grant, math.NaN(), !trulyQualifies
			}
			s.list = append(s.list, c)
		}
	}
	return s, nil
}

func errProbabilities(classes, got int) error {
	return fmt.Errorf("%w: want a probability in [0, 1] for each of the policy's %d classes, in its class order, got %d values", ErrNoProbabilities, classes, got)
}

// ErrNoProbabilities is returned (wrapped) by Calibrate for a calibration
// photo without a probability per class of the policy.
var ErrNoProbabilities = errors.New("no usable probabilities")

// certificate says, in the policy file, what the thresholds guarantee.
func (c *Calibration) certificate(targets map[string]float64) map[string]any {
	fams := make([]any, 0, len(c.Families))
	for _, f := range c.Families {
		s := f.Selection
		m := map[string]any{
			"family":          f.Name(),
			"certified":       s.Certified,
			"photos":          f.Photos,
			"delta":           roundTo(f.Delta, 6),
			"target_accuracy": f.Target,
			"procedure":       s.Procedure,
		}
		if f.ReviewType != "" {
			m["review_type"] = f.ReviewType
		}
		if f.Decision != "" {
			m["decision"] = f.Decision
		}
		if s.Certified {
			m["threshold"] = roundTo(s.Threshold, 6)
			m["coverage"] = roundTo(s.Coverage, 4)
			m["accuracy"] = roundTo(s.Accuracy, 4)
			m["certified_accuracy"] = roundTo(s.CertifiedAccuracy, 4)
			m["decided"] = s.N
			m["wrong"] = s.K
		} else {
			m["reason"] = s.Reason
		}
		if f.MoreData.Note != "" {
			m["more_data"] = f.MoreData.Note
		}
		fams = append(fams, m)
	}
	cert := map[string]any{
		"guarantee": c.Guarantee,
		"delta":     c.Delta,
		"statement": c.statement(targets),
		"families":  fams,
		"score":     "decision score: P(qualifies) for grants, 1 − P(qualifies) for rejects",
	}
	if targets[Grant] == targets[Reject] {
		cert["target_accuracy"] = targets[Grant]
	} else {
		cert["target_accuracy"] = map[string]any{Grant: targets[Grant], Reject: targets[Reject]}
	}
	return cert
}

// statement is the certificate's plain sentence.
func (c *Calibration) statement(targets map[string]float64) string {
	conf := fmt.Sprintf("With probability at least %g over the calibration set", roundTo(1-c.Delta, 10))
	switch c.Guarantee {
	case Overall:
		return fmt.Sprintf("%s, if the family is certified, at least %s of all automatic decisions are right (at the threshold below or higher; review types in equal shares).", conf, percent(targets[Grant]))
	case PerDecision:
		return fmt.Sprintf("%s, at least %s of automatic grants are right if the grants are certified, and at least %s of automatic rejects if the rejects are (at the thresholds below or higher; review types pooled in equal shares).", conf, percent(targets[Grant]), percent(targets[Reject]))
	}
	return fmt.Sprintf("%s, each certified family's automatic decisions are right at least %s of the time for grants and %s for rejects (at the thresholds below or higher).", conf, percent(targets[Grant]), percent(targets[Reject]))
}

func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// ParseTargets reads target accuracies as a command line writes them:
// one for every decision ("0.98"), one per decision
// ("grant=0.99,reject=0.97"), or both ("0.98,grant=0.99": grants 0.99,
// rejects 0.98). Each is a number between 0 and 1, both excluded; all is 0
// when only per-decision targets are given. They go into CalibrateOptions'
// TargetAccuracy and Targets.
func ParseTargets(s string) (all float64, byDecision map[string]float64, err error) {
	parse := func(v, what string) (float64, error) {
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(x > 0 && x < 1) {
			return 0, fmt.Errorf("%s %q: want a number between 0 and 1, both excluded, such as 0.98", what, strings.TrimSpace(v))
		}
		return x, nil
	}
	if strings.TrimSpace(s) == "" {
		return 0, nil, fmt.Errorf("no target accuracy: want 0.98, or grant=0.99,reject=0.97")
	}
	seenAll := false
	for _, part := range strings.Split(s, ",") {
		key, v, named := strings.Cut(part, "=")
		if !named {
			if seenAll {
				return 0, nil, fmt.Errorf("target accuracy %q: two targets for every decision", s)
			}
			seenAll = true
			if all, err = parse(part, "target accuracy"); err != nil {
				return 0, nil, err
			}
			continue
		}
		key = strings.TrimSpace(key)
		if key != Grant && key != Reject {
			return 0, nil, fmt.Errorf("target accuracy %q: %q, want grant or reject", s, key)
		}
		if _, dup := byDecision[key]; dup {
			return 0, nil, fmt.Errorf("target accuracy %q: two targets for %s", s, key)
		}
		x, err := parse(v, "target accuracy for "+key)
		if err != nil {
			return 0, nil, err
		}
		if byDecision == nil {
			byDecision = map[string]float64{}
		}
		byDecision[key] = x
	}
	if !seenAll && len(byDecision) < 2 {
		return 0, nil, fmt.Errorf("target accuracy %q: a target for grants and one for rejects, or one for both (such as 0.98,grant=0.99)", s)
	}
	return all, byDecision, nil
}
