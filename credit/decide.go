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
	Reason     string  // why there is no prediction (missing and invalid photos)
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
// A photo qualifies when its class is one of the rule's qualifying classes
// and the confidence is at least the class's grant threshold; it does not
// qualify when its class is not one of them and the confidence is at least
// the class's reject threshold; otherwise it is uncertain (so is a class
// the policy does not know). Under require any, the review is granted when
// a photo qualifies, rejected when no photo does, and sent to a person
// otherwise; under require all, granted when every photo qualifies,
// rejected when a photo does not, and sent to a person otherwise. A review
// with a photo that has no prediction (missing or invalid), or with no
// photos at all, always goes to a person.
//
// The only error is a review type the policy has no rule for (it wraps
// ErrNoRule); the decision returned with it sends the review to a person,
// so a caller may keep it or stop.
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
	for _, ph := range photos {
		v, reason := p.judge(rule, ph)
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

// judge says what one photo shows under rule, and why, for a person.
func (p *Policy) judge(rule Rule, ph Photo) (verdict, string) {
	switch ph.Status {
	case statusOK:
	case statusMissing, statusInvalid:
		if ph.Reason == "" {
			return unusable, fmt.Sprintf("no prediction (%s)", ph.Status)
		}
		return unusable, fmt.Sprintf("no prediction (%s: %s)", ph.Status, ph.Reason)
	default:
		if ph.Reason == "" {
			return unusable, fmt.Sprintf("no prediction (status %q)", ph.Status)
		}
		return unusable, fmt.Sprintf("no prediction (status %q: %s)", ph.Status, ph.Reason)
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
