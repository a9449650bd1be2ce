package credit

import (
	"fmt"
	"strings"
)

// A Certificate is what a policy's thresholds guarantee, as calibrate
// wrote it in the policy file: Policy.ReadCertificate reads it from
// Policy.Certificate. Certificates written before schema 2 have no
// guarantee, no families' review type and decision keys (they are read
// from the family names, "style reviews · grant") and one target.
type Certificate struct {
	// Guarantee is PerDecision, Overall or PerReviewType ("" in
	// certificates written before schema 2: families per review type).
	Guarantee string
	// Delta is the chance the guarantee fails (0 when not written).
	Delta float64
	// Targets are the target accuracies by decision (Grant, Reject).
	Targets map[string]float64
	// Statement says in one sentence what is guaranteed.
	Statement string
	// Families are the families calibrated, in the file's order.
	Families []CertifiedFamily
}

// A CertifiedFamily is a family of a certificate: its selection, as
// calibrate found it.
type CertifiedFamily struct {
	Name                 string
	ReviewType, Decision string // "" when the family pools them
	Certified            bool
	// Threshold, Coverage, Accuracy and CertifiedAccuracy, and the
	// calibration decisions at or above the threshold (Decided) and the
	// wrong ones among them: set when Certified.
	Threshold, Coverage, Accuracy, CertifiedAccuracy float64
	Decided, Wrong                                   int
	// Photos is the number of calibration decisions in the family.
	Photos        int
	Delta, Target float64
	// Reason says why the family is not certified; MoreData what more
	// labelled photos would buy.
	Reason, MoreData, Procedure string
}

// ReadCertificate reads p's certificate; nil, and no error, when p has
// none. Keys it does not know are left out; a known key of the wrong type
// is an error naming it.
func (p *Policy) ReadCertificate() (*Certificate, error) {
	if len(p.Certificate) == 0 {
		return nil, nil
	}
	r := certReader{}
	m := p.Certificate
	c := &Certificate{
		Guarantee: r.str(m, "guarantee"),
		Delta:     r.num(m, "delta"),
		Statement: r.str(m, "statement"),
		Targets:   map[string]float64{},
	}
	switch t := m["target_accuracy"].(type) {
	case nil:
	case map[string]any:
		for _, d := range []string{Grant, Reject} {
			if x := r.num(t, d); x > 0 {
				c.Targets[d] = x
			}
		}
	default:
		x := r.num(m, "target_accuracy")
		c.Targets[Grant], c.Targets[Reject] = x, x
	}
	if fams, ok := m["families"]; ok && fams != nil {
		list, ok := fams.([]any)
		if !ok {
			return nil, fmt.Errorf("certificate.families: want a list")
		}
		for i, e := range list {
			fm, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("certificate.families[%d]: want a mapping", i)
			}
			f := CertifiedFamily{
				Name: r.str(fm, "family"), ReviewType: r.str(fm, "review_type"), Decision: r.str(fm, "decision"),
				Certified: r.boolean(fm, "certified"),
				Threshold: r.num(fm, "threshold"), Coverage: r.num(fm, "coverage"), Accuracy: r.num(fm, "accuracy"),
				CertifiedAccuracy: r.num(fm, "certified_accuracy"),
				Decided:           int(r.num(fm, "decided")), Wrong: int(r.num(fm, "wrong")), Photos: int(r.num(fm, "photos")),
				Delta: r.num(fm, "delta"), Target: r.num(fm, "target_accuracy"),
				Reason: r.str(fm, "reason"), MoreData: r.str(fm, "more_data"), Procedure: r.str(fm, "procedure"),
			}
			if _, hasType := fm["review_type"]; !hasType && f.Decision == "" {
				// Before schema 2: "style reviews · grant".
				if typ, dec, ok := strings.Cut(f.Name, " reviews · "); ok {
					f.ReviewType, f.Decision = typ, dec
				}
			}
			if f.Target == 0 {
				f.Target = c.Targets[f.Decision]
			}
			if r.err != nil {
				return nil, fmt.Errorf("certificate.families[%d].%w", i, r.err)
			}
			c.Families = append(c.Families, f)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("certificate.%w", r.err)
	}
	if c.Guarantee == "" && len(c.Families) > 0 {
		c.Guarantee = PerReviewType
	}
	return c, nil
}

// certReader reads the values of a free-form mapping, keeping the first
// error.
type certReader struct{ err error }

func (r *certReader) fail(key, want string, v any) {
	if r.err == nil {
		r.err = fmt.Errorf("%s: %v, want %s", key, v, want)
	}
}

func (r *certReader) str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		r.fail(key, "a string", v)
		return ""
	}
}

func (r *certReader) num(m map[string]any, key string) float64 {
	switch v := m[key].(type) {
	case nil:
		return 0
	case float64:
		return v
	case int:
		return float64(v)
	default:
		r.fail(key, "a number", v)
		return 0
	}
}

func (r *certReader) boolean(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case nil:
		return false
	case bool:
		return v
	default:
		r.fail(key, "true or false", v)
		return false
	}
}
