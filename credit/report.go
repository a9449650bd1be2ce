package credit

import (
	"fmt"
	"math"
	"slices"

	"github.com/reviewlens/reviewlens/internal/creditreport"
)

// policyReport is the part of a report that a policy's certificate tells,
// as calibrate wrote it: the policy version and classes, the guarantee,
// the targets and δ, the families (their operating points, why those not
// certified are not, what more data would buy; no curves, which only the
// calibration set has) and the coverage they certify. The credit step
// adds its title and Day to it, so that the page's banner states what the
// policy's thresholds guarantee, never less nor more. A policy without a
// certificate gives no families; the page then says that the day's
// automatic decisions carry no guarantee.
func policyReport(p *Policy) (creditreport.Data, error) {
	d := creditreport.Data{PolicyVersion: p.Version, Classes: p.Classes}
	cert, err := p.ReadCertificate()
	if err != nil {
		return d, fmt.Errorf("policy %s: %w", p.Version, err)
	}
	if cert == nil {
		d.Notes = append(d.Notes, "The policy carries no certificate: its thresholds were not set by reviewlens calibrate.")
		return d, nil
	}
	d.Guarantee = cert.Guarantee
	d.Delta = cert.Delta
	d.TargetAccuracy = cert.Targets[Grant]
	if d.TargetAccuracy == 0 {
		d.TargetAccuracy = cert.Targets[Reject]
	}
	decided, photos := 0, 0
	for _, f := range cert.Families {
		fam := creditreport.Family{
			Name: f.Name, Decision: f.Decision, Certified: f.Certified, Reason: f.Reason, Procedure: f.Procedure,
			Target: f.Target, MoreData: f.MoreData, Photos: f.Photos,
		}
		if f.Certified {
			fam.Threshold, fam.N, fam.K = f.Threshold, f.Decided, f.Wrong
			fam.Coverage, fam.Accuracy, fam.CertifiedAccuracy = f.Coverage, f.Accuracy, f.CertifiedAccuracy
			decided += f.Decided
		} else {
			fam.Threshold = math.Inf(1)
		}
		photos += f.Photos
		d.Families = append(d.Families, fam)
	}
	if photos > 0 {
		d.CertifiedCoverage = float64(decided) / float64(photos)
	}
	if cert.Statement != "" {
		d.Notes = append(d.Notes, "The certificate, as calibrate wrote it: "+cert.Statement)
	}
	return d, nil
}

// calibrationReport is the part of a calibration report that a calibration
// tells: the policy version and classes, the guarantee, the targets and δ,
// and a card per family with its operating point, what more data would
// buy and its risk–coverage curve on the decision score. The calibrate
// step adds its title, the confusion matrix, the reliability diagrams and
// notes.
func calibrationReport(cal *Calibration) creditreport.Data {
	d := creditreport.Data{
		PolicyVersion: cal.Policy.Version,
		Classes:       cal.Policy.Classes,
		Guarantee:     cal.Guarantee,
		Delta:         cal.Delta,
	}
	decided, photos := 0, 0
	for _, f := range cal.Families {
		s := f.Selection
		if d.TargetAccuracy == 0 {
			d.TargetAccuracy = f.Target
		}
		fam := creditreport.Family{
			Name: f.Name(), Decision: f.Decision, Certified: s.Certified, Threshold: s.Threshold, N: s.N, K: s.K,
			Coverage: s.Coverage, Accuracy: s.Accuracy, CertifiedAccuracy: s.CertifiedAccuracy, Reason: s.Reason, Procedure: s.Procedure,
			Target: f.Target, MoreData: f.MoreData.Note, Photos: f.Photos,
		}
		for _, p := range f.Curve {
			fam.Curve = append(fam.Curve, creditreport.CurvePoint{Threshold: p.Threshold, Coverage: p.Coverage, Risk: p.Risk, Bound: p.Bound, N: p.N, K: p.K})
		}
		if s.Certified {
			decided += s.N
		}
		photos += f.Photos
		d.Families = append(d.Families, fam)
	}
	if photos > 0 {
		d.CertifiedCoverage = float64(decided) / float64(photos)
	}
	return d
}

// modelReport adds to a calibration report what the calibration set shows
// of the model: the confusion matrix and, per predicted class, the
// reliability of its confidence.
func modelReport(d *creditreport.Data, classes []string, set []Labelled) {
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	k := len(classes)
	d.Confusion = make([][]int, k)
	for i := range d.Confusion {
		d.Confusion[i] = make([]int, k)
	}
	const bins = 10
	type acc struct {
		n, right int
		conf     float64
	}
	rel := make([][bins]acc, k)
	for _, l := range set {
		t, p := index[l.True], index[l.Predicted]
		d.Confusion[t][p]++
		b := min(bins-1, int(l.Confidence*bins))
		a := &rel[p][b]
		a.n++
		a.conf += l.Confidence
		if t == p {
			a.right++
		}
	}
	for ci, class := range classes {
		cr := creditreport.ClassReliability{Class: class}
		total := 0
		for b := range bins {
			total += rel[ci][b].n
		}
		for b := range bins {
			a := rel[ci][b]
			bin := creditreport.Bin{Lo: float64(b) / bins, Hi: float64(b+1) / bins, N: a.n}
			if a.n > 0 {
				bin.Confidence, bin.Accuracy = a.conf/float64(a.n), float64(a.right)/float64(a.n)
				cr.ECE += float64(a.n) / float64(total) * math.Abs(bin.Accuracy-bin.Confidence)
			}
			cr.Bins = append(cr.Bins, bin)
		}
		d.Reliability = append(d.Reliability, cr)
	}
	slices.Sort(d.Notes)
}
