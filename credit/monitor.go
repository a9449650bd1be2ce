package credit

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/mathext"
)

// LowerBound is the one-sided Clopper–Pearson lower bound on an error rate
// from k errors in n decisions, at confidence 1 − delta: the smallest rate
// b for which seeing k or more errors still has probability delta,
//
//	P[Binomial(n, b) ≥ k] = delta,
//
// so that a true rate below the bound would show k errors or more less
// than a delta of the time. It is the Beta(k, n−k+1) quantile at delta,
// and 0 when k is 0 (or n is 0, or delta is 1 or more). It is the mirror
// of UpperBound: together, at delta each, they make the two-sided
// interval of confidence 1 − 2·delta.
func LowerBound(k, n int, delta float64) float64 {
	switch {
	case n <= 0 || k <= 0 || delta >= 1:
		return 0
	case delta <= 0:
		return 0
	case k > n:
		k = n
	}
	return mathext.InvRegIncBeta(float64(k), float64(n-k+1), delta)
}

// tailAtLeast is P[Binomial(n, p) ≥ k]: the p-value of k errors or more
// in n decisions against a true error rate p.
func tailAtLeast(k, n int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	return 1 - binomialCDF(k-1, n, p)
}

// ISOWeek returns the ISO 8601 week of a day "YYYY-MM-DD", as "2026-W48":
// weeks run Monday to Sunday and belong to the year of their Thursday.
func ISOWeek(day string) (string, error) {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return "", fmt.Errorf("day %q, want YYYY-MM-DD", day)
	}
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w), nil
}

// An AuditTally counts the closed audits of the automatic decisions of
// one day and one kind: how many a person decided, and in how many the
// person decided otherwise than the policy.
type AuditTally struct {
	Day      string // the day of the decisions audited, YYYY-MM-DD
	Decision string // what the policy decided: Grant or Reject
	Audits   int    // audits closed by a person
	Wrong    int    // of those, the ones the person decided otherwise
}

// DefaultMinAudits is the fewest closed audits a window needs to be
// tested (see LiveOptions.MinAudits).
const DefaultMinAudits = 30

// DefaultMonitorDelta is the default chance of a false alarm about one
// week's decisions (LiveOptions.Delta).
const DefaultMonitorDelta = 0.01

// LiveOptions say what LiveAccuracy holds the automatic decisions to.
type LiveOptions struct {
	// Target is the accuracy each kind of automatic decision must keep,
	// by decision (Grant, Reject); a kind left out, or a nil map, is held
	// to 0.98.
	Target map[string]float64
	// Delta bounds the chance that the decisions of one ISO week, on
	// target, ever raise an alarm, however many times and whenever they
	// are looked at; it is shared equally by the week's grants and
	// rejects. 0 means DefaultMonitorDelta.
	Delta float64
	// MinAudits is the fewest closed audits a window needs to be tested;
	// a window with fewer is shown but does not alarm. 0 means
	// DefaultMinAudits.
	MinAudits int
}

// The statuses of a Window.
const (
	// StatusAlarm: the window's decisions are less accurate than their
	// target: the sequential test (see LiveAccuracy) says so at Live.Level.
	StatusAlarm = "alarm"
	// StatusWatch: the window's Clopper–Pearson interval lies below the
	// target, but the evidence is not yet enough for an alarm that holds
	// under repeated looks. An early warning, with no guarantee.
	StatusWatch = "watch"
	// StatusOK: the interval lies above the target.
	StatusOK = "ok"
	// StatusInconclusive: the interval holds the target.
	StatusInconclusive = "inconclusive"
	// StatusTooFew: fewer audits than LiveOptions.MinAudits; not tested.
	StatusTooFew = "too few audits"
	// StatusPooled: grants and rejects together, shown for reading, not
	// tested (each kind is).
	StatusPooled = "pooled"
)

// DecisionAll names the window of a week's audits of both kinds.
const DecisionAll = "all"

// A Window is the live accuracy of one kind of automatic decision (or of
// both, DecisionAll) over the audits of the decisions of one ISO week.
type Window struct {
	Week     string // "2026-W48"
	Decision string // Grant, Reject or DecisionAll
	Audits   int
	Wrong    int
	// Accuracy is 1 − Wrong/Audits, NaN without audits. Lower and Upper
	// bound it: the two-sided Clopper–Pearson interval at confidence
	// 1 − 2·Live.Level (Live.Level a side), from 0 to 1 without audits.
	Accuracy, Lower, Upper float64
	Target                 float64 // the window's target accuracy; 0 for DecisionAll
	Tested                 bool    // tested for an alarm (enough audits, one kind)
	// Evidence is the likelihood ratio of the sequential test against an
	// accuracy on target: the window alarms when it reaches 1/Live.Level.
	// PValue is the fixed-sample p-value, P[Binomial(Audits, 1 − Target)
	// ≥ Wrong], for reading. Both NaN when not tested.
	Evidence, PValue float64
	Status           string // StatusAlarm, StatusWatch, …
}

// Live is what the audits say of the automatic decisions: see LiveAccuracy.
type Live struct {
	Windows []Window // by week, then Grant, Reject, DecisionAll
	// Target is the accuracy each decision was tested against: the
	// options', 0.98 where they give none.
	Target    map[string]float64
	Delta     float64
	MinAudits int
	Tested    int     // the windows tested
	Level     float64 // δ/2: the level of each window's test
	Alarm     bool    // some window alarms
}

// LiveAccuracy measures the accuracy of the automatic decisions from the
// closed audits, per ISO week of the decisions and per kind (grant,
// reject), and tests each window for an alarm.
//
// The audits are a random sample of the automatic decisions (see
// Audited), so a window's share of wrong audits estimates the error rate
// of its automatic decisions; Lower and Upper are its Clopper–Pearson
// interval.
//
// A window of one kind with at least MinAudits audits is tested with a
// sequential test, one that may be looked at as often as wished: the
// monitor runs every day on a week whose audits keep coming, and a
// fixed-sample test looked at that often would alarm far more often than
// its level (TestMonitorFalseAlarms: a Clopper–Pearson test at 0.5% a
// window alarmed in 3.1% of weeks on target when run daily, at 2.5% in
// 14.5%; this test, 0.15% and 1.0%). The window alarms when the likelihood
// ratio of its k wrong
// audits among n, mixed over error rates q above the allowed one r = 1 −
// target with a Beta prior centred on 2r (concentration 100, truncated to
// [r, 1]), against the rate r,
//
//	∫ (q/r)^k ((1−q)/(1−r))^(n−k) dπ(q),
//
// reaches 1/level, level = δ/2. Under any error rate up to r this ratio is
// a nonnegative supermartingale starting at 1, so by Ville's inequality it
// ever reaches 1/level with probability at most level, however many looks
// are taken: the decisions of a week on target raise a false alarm with
// probability at most δ, over all runs. An alarm also means the window's
// Clopper–Pearson interval at level a side lies below the target (its
// fixed-sample test rejects first); that alone, without the alarm, is a
// watch. The guarantee assumes the order audits close in does not depend
// on whether the policy was right.
func LiveAccuracy(tallies []AuditTally, opts LiveOptions) (*Live, error) {
	if opts.Delta == 0 {
		opts.Delta = DefaultMonitorDelta
	}
	if !(opts.Delta > 0 && opts.Delta < 1) {
		return nil, fmt.Errorf("delta %g, want a number in (0, 1)", opts.Delta)
	}
	if opts.MinAudits == 0 {
		opts.MinAudits = DefaultMinAudits
	}
	if opts.MinAudits < 0 {
		return nil, fmt.Errorf("min audits %d, want a number ≥ 0", opts.MinAudits)
	}
	target := map[string]float64{Grant: 0.98, Reject: 0.98}
	for d, t := range opts.Target {
		if d != Grant && d != Reject {
			return nil, fmt.Errorf("target for %q, want one for %s or %s", d, Grant, Reject)
		}
		if !(t > 0 && t < 1) {
			return nil, fmt.Errorf("target accuracy %g for %s, want a number in (0, 1)", t, d)
		}
		target[d] = t
	}

	type key struct{ week, decision string }
	sums := map[key]*Window{}
	for _, t := range tallies {
		week, err := ISOWeek(t.Day)
		if err != nil {
			return nil, fmt.Errorf("audit tally: %w", err)
		}
		if t.Decision != Grant && t.Decision != Reject {
			return nil, fmt.Errorf("audit tally of %s: decision %q, want %s or %s", t.Day, t.Decision, Grant, Reject)
		}
		if t.Audits < 0 || t.Wrong < 0 || t.Wrong > t.Audits {
			return nil, fmt.Errorf("audit tally of %s, %s: %d wrong of %d audits, want 0 ≤ wrong ≤ audits", t.Day, t.Decision, t.Wrong, t.Audits)
		}
		for _, d := range []string{t.Decision, DecisionAll} {
			w := sums[key{week, d}]
			if w == nil {
				w = &Window{Week: week, Decision: d}
				sums[key{week, d}] = w
			}
			w.Audits += t.Audits
			w.Wrong += t.Wrong
		}
	}
	live := &Live{Target: target, Delta: opts.Delta, MinAudits: opts.MinAudits, Level: opts.Delta / 2}
	tests := map[string]alarmTest{}
	for d, t := range target {
		tests[d] = newAlarmTest(1-t, live.Level)
	}
	order := map[string]int{Grant: 0, Reject: 1, DecisionAll: 2}
	for _, w := range sums {
		w.Accuracy, w.PValue, w.Evidence = math.NaN(), math.NaN(), math.NaN()
		if w.Audits > 0 {
			w.Accuracy = 1 - float64(w.Wrong)/float64(w.Audits)
		}
		w.Lower = 1 - UpperBound(w.Wrong, w.Audits, live.Level)
		w.Upper = 1 - LowerBound(w.Wrong, w.Audits, live.Level)
		switch {
		case w.Decision == DecisionAll:
			w.Status = StatusPooled
		case w.Audits < opts.MinAudits:
			w.Target, w.Status = target[w.Decision], StatusTooFew
		default:
			live.Tested++
			w.Target, w.Tested = target[w.Decision], true
			test, risk := tests[w.Decision], 1-w.Target
			w.PValue = tailAtLeast(w.Wrong, w.Audits, risk)
			w.Evidence = math.Exp(test.logRatio(w.Wrong, w.Audits))
			switch {
			case test.alarms(w.Wrong, w.Audits):
				w.Status = StatusAlarm
				live.Alarm = true
			case w.PValue <= live.Level:
				w.Status = StatusWatch
			case UpperBound(w.Wrong, w.Audits, live.Level) <= risk:
				w.Status = StatusOK
			default:
				w.Status = StatusInconclusive
			}
		}
		live.Windows = append(live.Windows, *w)
	}
	slices.SortFunc(live.Windows, func(a, b Window) int {
		return cmp.Or(cmp.Compare(a.Week, b.Week), cmp.Compare(order[a.Decision], order[b.Decision]))
	})
	return live, nil
}

// alarmTest is the sequential test of LiveAccuracy against an allowed
// error rate risk, at level.
type alarmTest struct {
	risk, level float64
	a, b        float64 // the prior: Beta(a, b) truncated to [risk, 1]
	logZ        float64 // the log of its normalizing integral
}

// alarmPrior is the concentration a + b of the test's prior.
const alarmPrior = 100

func newAlarmTest(risk, level float64) alarmTest {
	mean := min(2*risk, (1+risk)/2) // centred on twice the allowed rate
	t := alarmTest{risk: risk, level: level, a: mean * alarmPrior, b: (1 - mean) * alarmPrior}
	t.logZ = logBeta(t.a, t.b) + math.Log(mathext.RegIncBeta(t.b, t.a, 1-risk))
	return t
}

func logBeta(a, b float64) float64 {
	x, _ := math.Lgamma(a)
	y, _ := math.Lgamma(b)
	z, _ := math.Lgamma(a + b)
	return x + y - z
}

// logRatio is the log of the mixture likelihood ratio of k wrong among n
// against the allowed rate.
func (t alarmTest) logRatio(k, n int) float64 {
	kf, rest := float64(k), float64(n-k)
	// ∫_r^1 q^(a+k−1) (1−q)^(b+n−k−1) dq = B(a+k, b+n−k) · I_{1−r}(b+n−k, a+k)
	upper := logBeta(t.a+kf, t.b+rest) + math.Log(mathext.RegIncBeta(t.b+rest, t.a+kf, 1-t.risk))
	return upper - t.logZ - kf*math.Log(t.risk) - rest*math.Log1p(-t.risk)
}

func (t alarmTest) alarms(k, n int) bool {
	return n > 0 && t.logRatio(k, n) >= -math.Log(t.level)
}

// AlarmAt is the fewest wrong audits among n that make a window alarm,
// at level, against an allowed error rate risk (see LiveAccuracy); n + 1
// when even n wrong do not.
func AlarmAt(n int, risk, level float64) int {
	t := newAlarmTest(risk, level)
	k := int(math.Floor(float64(n) * risk))
	for k <= n && !t.alarms(k, n) {
		k++
	}
	return k
}

// AuditsToDetect is the detection delay of the alarm of LiveAccuracy, in
// audits: how many audits of one window make the alarm at level likely
// with probability at least power when the true error rate is errorRate,
// the allowed one being risk. It is the smallest n from which the chance
// that the n-th audit's look alarms, P[Binomial(n, errorRate) ≥ AlarmAt(n,
// risk, level)], stays at least power up to 2n (the counts are whole, so
// the chance zigzags with n); earlier looks only add to it. 0 when
// errorRate ≤ risk (there is nothing to detect) or nothing up to a
// million audits does.
func AuditsToDetect(risk, errorRate, level, power float64) int {
	if !(errorRate > risk) || !(risk > 0 && risk < 1) || !(level > 0 && level < 1) || !(power > 0 && power < 1) || errorRate >= 1 {
		return 0
	}
	const limit = 1 << 20
	t := newAlarmTest(risk, level)
	holds := func(n int) bool {
		// AlarmAt only grows with n: walk it along.
		k := AlarmAt(n, risk, level)
		for m := n; m <= 2*n; m++ {
			for k <= m && !t.alarms(k, m) {
				k++
			}
			if tailAtLeast(k, m, errorRate) < power {
				return false
			}
		}
		return true
	}
	// Gallop to an n that holds, then bisect: past the first zigzags,
	// holding is monotone.
	n := 16
	for !holds(n) {
		if n *= 2; n > limit {
			return 0
		}
	}
	lo, hi := n/2, n
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if holds(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
