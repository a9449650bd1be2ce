package credit

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The draw is fixed: the same (day, review) draws the same on every run,
// in every build. A change here reshuffles which reviews are audited.
func TestAuditDrawFixed(t *testing.T) {
	// From Python: int.from_bytes(sha256(b"reviewlens audit v1|2026-11-28|r-1").digest()[:8], "big") >> 11 / 2**53
	const golden = 0.5140794323491183
	if got := AuditDraw("2026-11-28", "r-1"); got != golden {
		t.Errorf("AuditDraw(2026-11-28, r-1) = %v, want %v: the audit sample changed", got, golden)
	}
	if AuditDraw("2026-11-28", "r-1") == AuditDraw("2026-11-29", "r-1") {
		t.Errorf("the draw does not depend on the day")
	}
}

// About rate of the reviews are audited: within 5 standard deviations of
// the binomial, at several rates, and the draws spread evenly on [0, 1).
func TestAuditedRate(t *testing.T) {
	const n = 200000
	bins := make([]int, 20)
	draws := make([]float64, n)
	for i := range n {
		draws[i] = AuditDraw(fmt.Sprintf("2026-11-%02d", 1+i%28), fmt.Sprintf("r-%07d", i))
		if draws[i] < 0 || draws[i] >= 1 {
			t.Fatalf("draw %v out of [0, 1)", draws[i])
		}
		bins[int(draws[i]*20)]++
	}
	for _, rate := range []float64{0.005, 0.02, 0.1, 0.5} {
		k := 0
		for i := range n {
			audited := draws[i] < rate
			if i%100 == 0 && Audited(fmt.Sprintf("2026-11-%02d", 1+i%28), fmt.Sprintf("r-%07d", i), rate) != audited {
				t.Fatalf("Audited disagrees with AuditDraw on review %d at %g", i, rate)
			}
			if audited {
				k++
			}
		}
		mean, sd := n*rate, math.Sqrt(n*rate*(1-rate))
		if math.Abs(float64(k)-mean) > 5*sd {
			t.Errorf("rate %g: %d of %d audited, want %.0f ± %.0f", rate, k, n, mean, 5*sd)
		}
	}
	// χ² with 19 degrees of freedom: above 43.8 one time in a thousand.
	chi2 := 0.0
	for _, b := range bins {
		d := float64(b) - n/20
		chi2 += d * d / (n / 20)
	}
	if chi2 > 43.8 {
		t.Errorf("draws not uniform: χ² = %.1f over 20 bins", chi2)
	}
	if Audited("2026-11-28", "r-1", 0) || Audited("2026-11-28", "r-1", -1) {
		t.Errorf("audited at a rate of 0 or less")
	}
	if !Audited("2026-11-28", "r-1", 1) {
		t.Errorf("not audited at a rate of 1")
	}
}

func TestAudit(t *testing.T) {
	grant := Decision{ReviewID: "r-1", ReviewType: "style", Decision: Grant, Credit: 1000,
		Reasons: []string{"photo 0: full-length 0.99 ≥ 0.95 (grant threshold): qualifies", "any qualifying photo earns the credit: grant"}}
	got := Audit(grant, "2026-11-28", 1)
	want := grant
	want.Decision, want.Credit, want.Audit, want.AutoDecision = Manual, 0, true, Grant
	want.Reasons = append(append([]string{}, grant.Reasons...),
		"audit: a random 100% of the automatic decisions goes to a person, who decides as for any other review (the policy decided grant): manual")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Audit (-want +got):\n%s", diff)
	}
	if grant.Decision != Grant || len(grant.Reasons) != 2 {
		t.Errorf("Audit changed its argument: %+v", grant)
	}
	// Not picked, not automatic, or audited already: unchanged.
	for name, d := range map[string]Decision{
		"rate 0": grant,
		"manual": {ReviewID: "r-2", Decision: Manual},
		"audit":  got,
	} {
		rate := 1.0
		if name == "rate 0" {
			rate = 0
		}
		if diff := cmp.Diff(d, Audit(d, "2026-11-28", rate)); diff != "" {
			t.Errorf("%s: Audit changed it (-want +got):\n%s", name, diff)
		}
	}
	if got := formatShare(0.02); got != "2%" {
		t.Errorf("formatShare(0.02) = %q", got)
	}
}

func TestPolicyAuditRate(t *testing.T) {
	p := DefaultPolicy()
	p.AuditRate = 0.02
	var b strings.Builder
	if err := p.WriteYAML(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\naudit_rate: 0.02\n") {
		t.Errorf("policy file has no audit_rate: 0.02:\n%s", b.String())
	}
	q, err := ParsePolicy(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if q.AuditRate != 0.02 {
		t.Errorf("audit_rate read back as %v", q.AuditRate)
	}
	if w := q.WithThresholds(nil, nil); w.AuditRate != 0.02 {
		t.Errorf("WithThresholds lost the audit rate: %v", w.AuditRate)
	}
	for _, bad := range []string{"1.5", "-0.1", "lots", ".nan"} {
		_, err := ParsePolicy(strings.NewReader(strings.Replace(b.String(), "audit_rate: 0.02", "audit_rate: "+bad, 1)))
		var pe *PolicyError
		if !errors.As(err, &pe) || pe.Path != "audit_rate" || pe.Line == 0 {
			t.Errorf("audit_rate %s: err = %v, want a *PolicyError on audit_rate with its line", bad, err)
		}
	}
	if got := p.GrantCredit("style"); got != 1000 {
		t.Errorf("GrantCredit(style) = %d, want 1000", got)
	}
	if got := p.GrantCredit("video"); got != -1 {
		t.Errorf("GrantCredit(video) = %d, want -1", got)
	}
}

func TestCheckCalibrationSample(t *testing.T) {
	if err := CheckCalibrationSample(SampleRandom, false); err != nil {
		t.Errorf("random: %v", err)
	}
	for _, s := range []string{SampleQueue, "", "weekly"} {
		err := CheckCalibrationSample(s, false)
		if !errors.Is(err, ErrNotRandomSample) {
			t.Errorf("%q: err = %v, want ErrNotRandomSample", s, err)
		}
		if err := CheckCalibrationSample(s, true); err != nil {
			t.Errorf("%q allowed: %v", s, err)
		}
	}
	m, err := ReadSampleMarker(strings.NewReader(`{"sample":"random","photos":3}`))
	if err != nil || m.Sample != SampleRandom || m.Photos != 3 {
		t.Errorf("ReadSampleMarker = %+v, %v", m, err)
	}
	if _, err := ReadSampleMarker(strings.NewReader(`{}`)); err == nil {
		t.Errorf("ReadSampleMarker of {}: no error")
	}
	if got := SampleMarkerFor("s3://b/labels/calibration.parquet"); got != "s3://b/labels/calibration.sample.json" {
		t.Errorf("SampleMarkerFor = %q", got)
	}
}
