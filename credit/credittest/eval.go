package credittest

import (
	"cmp"
	"slices"

	"github.com/reviewlens/reviewlens/credit"
)

// CreditPhoto is the photo as package credit sees it, as image index:
// the model's probabilities, its most probable class and its confidence.
func (w World) CreditPhoto(index int, ph Photo) credit.Photo {
	top := ph.Predicted()
	return credit.Photo{
		Index: index, Status: "ok",
		Class: w.Classes[top], Confidence: ph.Probabilities[top],
		Probabilities: slices.Clone(ph.Probabilities),
	}
}

// Labelled is the photo as a calibration photo: the model's prediction
// (probabilities, top class and confidence) and the true class.
func (w World) Labelled(ph Photo) credit.Labelled {
	top := ph.Predicted()
	return credit.Labelled{Predicted: w.Classes[top], Confidence: ph.Probabilities[top], True: w.Classes[ph.True],
		Probabilities: slices.Clone(ph.Probabilities)}
}

// LabelledSet is photos as calibration photos.
func (w World) LabelledSet(photos []Photo) []credit.Labelled {
	out := make([]credit.Labelled, len(photos))
	for i, ph := range photos {
		out[i] = w.Labelled(ph)
	}
	return out
}

// An Outcome is what a policy decided on a simulated day, held to the
// truth.
type Outcome struct {
	Reviews, Grant, Reject, Manual int
	// Wrong counts the automatic decisions the truth contradicts: grants
	// of reviews that do not qualify, rejects of reviews that do.
	Wrong int
	// Qualifying counts the reviews that truly earn their credit, and
	// QualifyingGranted those of them granted automatically.
	Qualifying, QualifyingGranted int
}

// Decided is the number of automatic decisions.
func (o Outcome) Decided() int { return o.Grant + o.Reject }

// Coverage is the share of the reviews decided automatically.
func (o Outcome) Coverage() float64 { return ratio(o.Decided(), o.Reviews) }

// Accuracy is the share of the automatic decisions that are right (1 when
// there are none).
func (o Outcome) Accuracy() float64 {
	if o.Decided() == 0 {
		return 1
	}
	return 1 - ratio(o.Wrong, o.Decided())
}

// GrantedShare is the share of the qualifying reviews granted
// automatically.
func (o Outcome) GrantedShare() float64 { return ratio(o.QualifyingGranted, o.Qualifying) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Evaluate decides every review of day with p and holds the decisions to
// the truth.
func (w World) Evaluate(p *credit.Policy, day []Review) (Outcome, error) {
	var o Outcome
	for _, r := range day {
		d, err := p.Decide(r.Review)
		if err != nil {
			return o, err
		}
		q := w.Qualifies(p, r)
		o.Reviews++
		if q {
			o.Qualifying++
		}
		switch d.Decision {
		case credit.Grant:
			o.Grant++
			if q {
				o.QualifyingGranted++
			} else {
				o.Wrong++
			}
		case credit.Reject:
			o.Reject++
			if q {
				o.Wrong++
			}
		default:
			o.Manual++
		}
	}
	return o, nil
}

// Hindsight is the largest share of the day's one-photo reviews that one
// threshold on a score, chosen by looking at the truth, decides with at
// least target of them right: the most any threshold could have done that
// day. With decisionScore, a review's score is the probability that its
// photo qualifies for its type, or that it does not, whichever is larger
// (the decision taken is the more probable one); without, it is the top
// class's confidence (the decision is the one its class implies).
func (w World) Hindsight(p *credit.Policy, day []Review, target float64, decisionScore bool) float64 {
	type scored struct {
		score float64
		wrong bool
	}
	s := make([]scored, 0, len(day))
	for _, r := range day {
		ph := r.Photos[0]
		rule := p.ReviewTypes[r.Type]
		g := 0.0
		for i, c := range w.Classes {
			if slices.Contains(rule.Qualifying, c) {
				g += ph.Probabilities[i]
			}
		}
		grant, score := g > 0.5, max(g, 1-g)
		if !decisionScore {
			top := ph.Predicted()
			grant, score = slices.Contains(rule.Qualifying, w.Classes[top]), ph.Probabilities[top]
		}
		s = append(s, scored{score: score, wrong: grant != w.Qualifies(p, r)})
	}
	slices.SortFunc(s, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	best, wrong := 0, 0
	for i, x := range s {
		if x.wrong {
			wrong++
		}
		n := i + 1
		if i+1 < len(s) && s[i+1].score == x.score {
			continue // a threshold takes ties together
		}
		if float64(n-wrong) >= target*float64(n) {
			best = n
		}
	}
	return ratio(best, len(s))
}
