package creditreport

import (
	"fmt"
	"math"

	"github.com/reviewlens/reviewlens/credit"
)

// PolicyData is the part of a report that a policy's certificate tells,
// as calibrate wrote it: the policy version and classes, the guarantee,
// the targets and δ, the families (their operating points, why those not
// certified are not, what more data would buy; no curves, which only the
// calibration set has) and the coverage they certify. The credit step
// adds its title and Day to it, so that the page's banner states what the
// policy's thresholds guarantee, never less nor more. A policy without a
// certificate gives no families; the page then says that the day's
// automatic decisions carry no guarantee.
func PolicyData(p *credit.Policy) (Data, error) {
	d := Data{PolicyVersion: p.Version, Classes: p.Classes}
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
	d.TargetAccuracy = cert.Targets[credit.Grant]
	if d.TargetAccuracy == 0 {
		d.TargetAccuracy = cert.Targets[credit.Reject]
	}
	decided, photos := 0, 0
	for _, f := range cert.Families {
		fam := Family{
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

// CalibrationData is the part of a calibration report that a calibration
// tells: the policy version and classes, the guarantee, the targets and δ,
// and a card per family with its operating point, what more data would
// buy and its risk–coverage curve on the decision score. The calibrate
// step adds its title, the confusion matrix, the reliability diagrams and
// notes.
func CalibrationData(cal *credit.Calibration) Data {
	d := Data{
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
		fam := Family{
			Name: f.Name(), Decision: f.Decision, Certified: s.Certified, Threshold: s.Threshold, N: s.N, K: s.K,
			Coverage: s.Coverage, Accuracy: s.Accuracy, CertifiedAccuracy: s.CertifiedAccuracy, Reason: s.Reason, Procedure: s.Procedure,
			Target: f.Target, MoreData: f.MoreData.Note, Photos: f.Photos,
		}
		for _, p := range f.Curve {
			fam.Curve = append(fam.Curve, CurvePoint{Threshold: p.Threshold, Coverage: p.Coverage, Risk: p.Risk, Bound: p.Bound, N: p.N, K: p.K})
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
