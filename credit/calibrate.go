package credit

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// A Labelled photo has a prediction and a known true class: the
// calibration set (the validation split joined to its labels).
type Labelled struct {
	Predicted  string
	Confidence float64
	True       string
}

// CalibrateOptions set what the thresholds must guarantee.
type CalibrateOptions struct {
	// TargetAccuracy is the accuracy the automatic decisions of each
	// family must have (default 0.98).
	TargetAccuracy float64
	// Delta is the chance, over the draw of the calibration set, that the
	// guarantee fails (default 0.05); it is shared out equally among the
	// families (Bonferroni).
	Delta float64
	// CurvePoints is the size of the risk–coverage curves kept for the
	// report; 0 means 60.
	CurvePoints int
}

// A Family is one kind of automatic decision calibrated on its own: the
// grants, or the rejects, of one review type.
type Family struct {
	ReviewType string
	Decision   string // Grant or Reject
	Delta      float64
	Selection  Selection
	Curve      []CurvePoint
	Photos     int // calibration photos in the family
}

// Name is the family's name for people: "style reviews · grant".
func (f *Family) Name() string { return f.ReviewType + " reviews · " + f.Decision }

// A Calibration is the result of Calibrate: the policy with its
// thresholds, and what each family certifies.
type Calibration struct {
	Policy   *Policy
	Families []Family
}

// Calibrate chooses the policy's thresholds from labelled photos: for each
// review type, the grants (photos predicted a qualifying class: wrong when
// the true class does not qualify) and the rejects (predicted a class that
// does not qualify: wrong when the true one does) are calibrated as
// separate families, each to TargetAccuracy with confidence 1 − Delta/F
// over F families, so that all the guarantees hold together with
// probability at least 1 − Delta.
//
// A class's threshold is the highest of those of the families it belongs
// to, and "never" unless every one of them was certified: the selection
// certifies every threshold above the one it chooses, so the highest keeps
// each family's guarantee. A family that cannot be certified (too few
// photos, too many errors) decides nothing automatically.
func Calibrate(p *Policy, data []Labelled, opts CalibrateOptions) (*Calibration, error) {
	if opts.TargetAccuracy == 0 {
		opts.TargetAccuracy = 0.98
	}
	if opts.Delta == 0 {
		opts.Delta = 0.05
	}
	if opts.CurvePoints <= 0 {
		opts.CurvePoints = 60
	}
	if !(opts.TargetAccuracy > 0 && opts.TargetAccuracy < 1) {
		return nil, fmt.Errorf("target accuracy %g, want a number in (0, 1)", opts.TargetAccuracy)
	}
	if !(opts.Delta > 0 && opts.Delta < 1) {
		return nil, fmt.Errorf("delta %g, want a number in (0, 1)", opts.Delta)
	}
	known := map[string]bool{}
	for _, c := range p.Classes {
		known[c] = true
	}
	for i, l := range data {
		if !known[l.Predicted] || !known[l.True] {
			return nil, fmt.Errorf("calibration photo %d: classes %q and %q, want classes of the policy (%v)", i, l.Predicted, l.True, p.Classes)
		}
	}
	types := slices.Sorted(maps.Keys(p.ReviewTypes))
	delta := opts.Delta / float64(2*len(types))
	c := &Calibration{}
	grant := map[string][]float64{}  // class -> thresholds of the grant families it is in
	reject := map[string][]float64{} // class -> thresholds of the reject families it is in
	for _, t := range types {
		rule := p.ReviewTypes[t]
		qualifies := map[string]bool{}
		for _, q := range rule.Qualifying {
			qualifies[q] = true
		}
		for _, decision := range []string{Grant, Reject} {
			var fam []Scored
			for _, l := range data {
				if qualifies[l.Predicted] != (decision == Grant) {
					continue
				}
				fam = append(fam, Scored{Score: l.Confidence, Wrong: qualifies[l.True] != qualifies[l.Predicted]})
			}
			sel := Select(fam, SelectOptions{TargetAccuracy: opts.TargetAccuracy, Delta: delta})
			c.Families = append(c.Families, Family{
				ReviewType: t, Decision: decision, Delta: delta, Selection: sel,
				Curve: RiskCoverage(fam, delta, opts.CurvePoints), Photos: len(fam),
			})
			th := sel.Threshold
			if !sel.Certified {
				th = math.Inf(1)
			}
			for _, class := range p.Classes {
				if qualifies[class] == (decision == Grant) {
					if decision == Grant {
						grant[class] = append(grant[class], th)
					} else {
						reject[class] = append(reject[class], th)
					}
				}
			}
		}
	}
	thresholds := map[string]Threshold{}
	highest := func(ts []float64) float64 {
		if len(ts) == 0 {
			return math.Inf(1)
		}
		return slices.Max(ts) // +Inf (not certified) wins
	}
	for _, class := range p.Classes {
		thresholds[class] = Threshold{Grant: highest(grant[class]), Reject: highest(reject[class])}
	}
	c.Policy = p.WithThresholds(thresholds, c.certificate(opts))
	return c, nil
}

// certificate says, in the policy file, what the thresholds guarantee.
func (c *Calibration) certificate(opts CalibrateOptions) map[string]any {
	fams := make([]any, 0, len(c.Families))
	for _, f := range c.Families {
		s := f.Selection
		m := map[string]any{
			"family":    f.Name(),
			"certified": s.Certified,
			"photos":    f.Photos,
			"delta":     roundTo(f.Delta, 6),
			"procedure": s.Procedure,
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
		fams = append(fams, m)
	}
	return map[string]any{
		"target_accuracy": opts.TargetAccuracy,
		"delta":           opts.Delta,
		"statement": fmt.Sprintf("With probability at least %g over the calibration set, each certified family's automatic decisions are right at least %g of the time (at the thresholds below or higher).",
			1-opts.Delta, opts.TargetAccuracy),
		"families": fams,
	}
}

func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
