package credit

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The decisions on a review.
const (
	Grant  = "grant"  // the review earns its credit, decided without a person
	Reject = "reject" // the review earns nothing, decided without a person
	Manual = "manual" // a person decides
)

// The statuses of a photo's prediction, as package inspect writes them in
// the predictions table.
const (
	statusOK      = "ok"
	statusMissing = "missing"
	statusInvalid = "invalid"
)

// A Photo is one photo of a review and what the model predicted for it.
type Photo struct {
	Index      int     // the photo's image_index in the review
	Status     string  // "ok", "missing" or "invalid": the predictions table's status
	Class      string  // the predicted class (ok photos)
	Confidence float64 // the model's confidence in Class (ok photos)
	// Probabilities are the model's probabilities of every class, in the
	// policy's class order (ok photos): what a SchemaDecision policy
	// decides on. The predictions table holds them.
	Probabilities []float64
	Reason        string // why there is no prediction (missing and invalid photos)
}

// A Review is a review to decide: its type and its photos.
type Review struct {
	ID, Type string
	Photos   []Photo
}

// A Decision is what Decide concluded about a review, and why.
type Decision struct {
	ReviewID   string
	ReviewType string
	Decision   string // Grant, Reject or Manual
	Credit     int64  // the rule's credit on Grant, else 0
	// Reasons says, for a person, what each photo showed (one line per
	// photo in index order) and then the conclusion.
	Reasons []string
	// Classes and Confidences are the predictions of the photos, in index
	// order: "" and NaN for a photo without a prediction.
	Classes     []string
	Confidences []float64
	// Audit marks a review the policy decided alone that the audit sample
	// sent to a person instead (see Audit): Decision is then Manual and
	// AutoDecision the Grant or Reject it would have taken ("" otherwise).
	Audit        bool
	AutoDecision string
}

// What one photo shows, for its review's rule.
type verdict int

const (
	uncertain verdict = iota // a person must look
	qualifies                // sure that it qualifies
	fails                    // sure that it does not qualify
	unusable                 // no prediction
)

// Decide decides a review from its photos' predictions.
//
// Under SchemaDecision, a photo's decision score is the probability that
// it qualifies for the review's type: the sum of the probabilities of the
// rule's qualifying classes, P(qualifies). The photo surely qualifies
// when P(qualifies) is at least the review type's grant threshold, surely
// does not when 1 − P(qualifies) is at least its reject threshold, and is
// uncertain otherwise. A photo without a probability per class of the
// policy has no usable prediction. The reasons say it in those words:
//
//	photo 1: P(qualifies for style) 0.97 ≥ 0.95 (grant threshold): qualifies
//
// Under SchemaConfidence (old policy files), a photo qualifies when its
// class is one of the rule's qualifying classes and the confidence is at
// least the class's grant threshold; it does not qualify when its class is
// not one of them and the confidence is at least the class's reject
// threshold; otherwise it is uncertain (so is a class the policy does not
// know).
//
// Then, under either schema: under require any, the review is granted when
// a photo qualifies, rejected when no photo does, and sent to a person
// otherwise; under require all, granted when every photo qualifies,
// rejected when a photo does not, and sent to a person otherwise. A review
// with a photo that has no prediction (missing or invalid), or with no
// photos at all, always goes to a person.
//
// The only error is a review type the policy has no rule for (it wraps
// ErrNoRule); the decision returned with it sends the review to a person,
// so a caller may keep it or stop.
//
// What calibration guarantees is the share of wrong photo decisions (sure
// to qualify, sure not to). A review's automatic decision is wrong only
// if one of its photos' is: a grant under any needs a photo surely
// qualifying, a reject every photo surely not, and the mirror under all.
func (p *Policy) Decide(r Review) (Decision, error) {
	photos := slices.Clone(r.Photos)
	slices.SortStableFunc(photos, func(a, b Photo) int { return cmp.Compare(a.Index, b.Index) })
	d := Decision{
		ReviewID: r.ID, ReviewType: r.Type, Decision: Manual,
		Classes: make([]string, len(photos)), Confidences: make([]float64, len(photos)),
	}
	for i, ph := range photos {
		if ph.Status == statusOK {
			d.Classes[i], d.Confidences[i] = ph.Class, ph.Confidence
		} else {
			d.Confidences[i] = math.NaN()
		}
	}
	rule, err := p.RuleFor(r.Type)
	if err != nil {
		d.Reasons = []string{err.Error() + ": " + Manual}
		return d, err
	}

	byVerdict := map[verdict][]int{} // photo indices
	d.Reasons = make([]string, 0, len(photos)+1)
	judge := p.judge
	if p.decides() {
		judge = func(rule Rule, ph Photo) (verdict, string) { return p.judgeScore(r.Type, rule, ph) }
	}
	for _, ph := range photos {
		v, reason := judge(rule, ph)
		byVerdict[v] = append(byVerdict[v], ph.Index)
		d.Reasons = append(d.Reasons, fmt.Sprintf("photo %d: %s", ph.Index, reason))
	}
	n := len(photos)
	q, f, u, bad := byVerdict[qualifies], byVerdict[fails], byVerdict[uncertain], byVerdict[unusable]
	var conclusion string
	switch all := rule.Require == RequireAll; {
	case n == 0:
		conclusion = "the review has no photos"
	case len(bad) > 0:
		conclusion = photoList(bad) + " " + verb(bad, "has", "have") + " no prediction"
	case !all && len(q) > 0:
		d.Decision, conclusion = Grant, "any qualifying photo earns the credit"
	case !all && len(f) == n:
		d.Decision, conclusion = Reject, "no photo qualifies"
	case !all:
		conclusion = photoList(u) + " " + verb(u, "is", "are") + " uncertain and no photo qualifies"
	case len(f) > 0:
		d.Decision, conclusion = Reject, photoList(f)+" "+verb(f, "does", "do")+" not qualify and every photo must"
	case len(q) == n:
		d.Decision, conclusion = Grant, "every photo qualifies"
	default:
		conclusion = photoList(u) + " " + verb(u, "is", "are") + " uncertain and every photo must qualify"
	}
	d.Reasons = append(d.Reasons, conclusion+": "+d.Decision)
	if d.Decision == Grant {
		d.Credit = rule.Credit
	}
	return d, nil
}

// unusableReason says why a photo whose status is not ok has no usable
// prediction; "" for an ok photo.
func unusableReason(ph Photo) string {
	switch ph.Status {
	case statusOK:
		return ""
	case statusMissing, statusInvalid:
		if ph.Reason == "" {
			return fmt.Sprintf("no prediction (%s)", ph.Status)
		}
		return fmt.Sprintf("no prediction (%s: %s)", ph.Status, ph.Reason)
	default:
		if ph.Reason == "" {
			return fmt.Sprintf("no prediction (status %q)", ph.Status)
		}
		return fmt.Sprintf("no prediction (status %q: %s)", ph.Status, ph.Reason)
	}
}

// QualifyingProbability is P(qualifies): the sum of the probabilities of
// the rule's qualifying classes, probabilities being in the policy's
// class order. ok is false when they are not one finite probability in
// [0, 1] per class (a tolerance of 1e-6 allowed for rounding): such a
// photo has no decision score.
func (p *Policy) QualifyingProbability(rule Rule, probabilities []float64) (prob float64, ok bool) {
	if len(probabilities) != len(p.Classes) {
		return math.NaN(), false
	}
	for i, c := range p.Classes {
		v := probabilities[i]
		if !(v >= 0 && v <= 1) {
			return math.NaN(), false
		}
		if slices.Contains(rule.Qualifying, c) {
			prob += v
		}
	}
	if prob > 1+1e-6 {
		return math.NaN(), false
	}
	return min(prob, 1), true
}

// judgeScore says what one photo shows under the rule of reviewType, on
// its decision score, and why, for a person.
func (p *Policy) judgeScore(reviewType string, rule Rule, ph Photo) (verdict, string) {
	if why := unusableReason(ph); why != "" {
		return unusable, why
	}
	q, ok := p.QualifyingProbability(rule, ph.Probabilities)
	if !ok {
		return unusable, fmt.Sprintf("no usable prediction (want a probability in [0, 1] for each of the policy's %d classes, got %d values)", len(p.Classes), len(ph.Probabilities))
	}
	t, has := p.Thresholds[reviewType]
	if !has {
		t = neverThreshold
	}
	what := "P(qualifies for " + reviewType + ")"
	if q >= t.Grant {
		qs, ts := formatPair(q, t.Grant)
		return qualifies, fmt.Sprintf("%s %s ≥ %s (grant threshold): qualifies", what, qs, ts)
	}
	if not := 1 - q; not >= t.Reject {
		ns, ts := formatPair(not, t.Reject)
		return fails, fmt.Sprintf("%s %s, P(does not) %s ≥ %s (reject threshold): does not qualify", what, formatConfidence(q), ns, ts)
	}
	below := func(x, th float64, which string) string {
		if math.IsInf(th, 1) {
			return which + " never"
		}
		xs, ts := formatPair(x, th)
		return fmt.Sprintf("%s < %s %s", xs, ts, which)
	}
	if q >= 0.5 {
		return uncertain, fmt.Sprintf("%s %s (%s): uncertain", what, formatConfidence(q), below(q, t.Grant, "grant threshold"))
	}
	return uncertain, fmt.Sprintf("%s %s, P(does not) %s (%s): uncertain", what, formatConfidence(q), formatConfidence(1-q), below(1-q, t.Reject, "reject threshold"))
}

// judge says what one photo shows under rule (SchemaConfidence), and why,
// for a person.
func (p *Policy) judge(rule Rule, ph Photo) (verdict, string) {
	if why := unusableReason(ph); why != "" {
		return unusable, why
	}
	if !slices.Contains(p.Classes, ph.Class) {
		return uncertain, fmt.Sprintf("class %q is not in the policy: uncertain", ph.Class)
	}
	t, ok := p.Thresholds[ph.Class]
	if !ok {
		t = neverThreshold
	}
	th, which, sure, outcome := t.Reject, "reject threshold", fails, "does not qualify"
	if slices.Contains(rule.Qualifying, ph.Class) {
		th, which, sure, outcome = t.Grant, "grant threshold", qualifies, "qualifies"
	}
	c := ph.Confidence
	switch {
	case math.IsNaN(c):
		return uncertain, fmt.Sprintf("%s with no confidence: uncertain", ph.Class)
	case math.IsInf(th, 1):
		return uncertain, fmt.Sprintf("%s %s (%s never): uncertain", ph.Class, formatConfidence(c), which)
	case c >= th:
		cs, ts := formatPair(c, th)
		return sure, fmt.Sprintf("%s %s ≥ %s (%s): %s", ph.Class, cs, ts, which, outcome)
	default:
		cs, ts := formatPair(c, th)
		return uncertain, fmt.Sprintf("%s %s < %s (%s): uncertain", ph.Class, cs, ts, which)
	}
}

// formatConfidence writes a confidence with two decimals, or more when two
// would round it up to 1.00.
func formatConfidence(c float64) string {
	s, _ := formatPair(c, 1)
	return s
}

// formatPair writes a confidence and a threshold with two decimals, or as
// many more as it takes to show them equal only when they are: 0.949 <
// 0.950, not 0.95 < 0.95.
func formatPair(c, t float64) (string, string) {
	for digits := 2; digits <= 17; digits++ {
		cs, ts := strconv.FormatFloat(c, 'f', digits, 64), strconv.FormatFloat(t, 'f', digits, 64)
		if (cs == ts) == (c == t) {
			return cs, ts
		}
	}
	return strconv.FormatFloat(c, 'g', -1, 64), strconv.FormatFloat(t, 'g', -1, 64)
}

// photoList names photos by index: "photo 2", "photos 1 and 3", "photos 1,
// 2 and 4".
func photoList(indices []int) string {
	s := make([]string, len(indices))
	for i, x := range indices {
		s[i] = strconv.Itoa(x)
	}
	if len(s) == 1 {
		return "photo " + s[0]
	}
	return "photos " + strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// verb picks the form of a verb that agrees with photoList(indices).
func verb(indices []int, one, many string) string {
	if len(indices) == 1 {
		return one
	}
	return many
}
