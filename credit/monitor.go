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

// LiveOptions say what LiveAccuracy holds the automatic decisions to.
type LiveOptions struct {
	// Target is the accuracy each kind of automatic decision must keep,
	// by decision (Grant, Reject); a kind left out, or a nil map, is held
	// to 0.98.
	Target map[string]float64
	// Delta bounds the chance that a run raises a false alarm: that some
	// window alarms while every window's accuracy is on target. 0 means
	// 0.05.
	Delta float64
	// MinAudits is the fewest closed audits a window needs to be tested;
	// a window with fewer is shown but neither alarms nor counts among
	// the windows δ is shared by. 0 means DefaultMinAudits.
	MinAudits int
}

// The statuses of a Window.
const (
	// StatusAlarm: the window's accuracy is below its target, with
	// confidence 1 − Live.Level (its interval lies below the target).
	StatusAlarm = "alarm"
	// StatusOK: the window's accuracy is at its target or above, with the
	// same confidence (its interval lies above the target).
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
	// 1 − 2·Live.Level, from 0 to 1 without audits.
	Accuracy, Lower, Upper float64
	Target                 float64 // the window's target accuracy; 0 for DecisionAll
	Tested                 bool    // tested for an alarm (enough audits, one kind)
	// PValue is P[Binomial(Audits, 1 − Target) ≥ Wrong]: how likely so
	// many errors are at an accuracy just on target. The window alarms when
	// it is at most Live.Level. NaN when not tested.
	PValue float64
	Status string // StatusAlarm, StatusOK, …
}

// Live is what the audits say of the automatic decisions: see LiveAccuracy.
type Live struct {
	Windows   []Window // by week, then Grant, Reject, DecisionAll
	Delta     float64
	MinAudits int
	Tested    int     // m: the windows tested
	Level     float64 // δ/m, the level of each window's test (δ when none is tested)
	Alarm     bool    // some window alarms
}

// LiveAccuracy measures the accuracy of the automatic decisions from the
// closed audits, per ISO week of the decisions and per kind (grant,
// reject), and tests each window for an alarm.
//
// The audits are a random sample of the automatic decisions (see
// Audited), so a window's share of wrong audits estimates the error rate
// of its automatic decisions. A window of one kind with at least MinAudits
// audits is tested: it alarms when so many errors would have a chance of
// at most δ/m at an error rate of 1 − target, m being the number of
// windows tested (Bonferroni). Equivalently, it alarms when its
// Clopper–Pearson interval at level δ/m a side lies entirely below the
// target accuracy. So when every window's accuracy is at its target or
// above, a run alarms with probability at most δ, however many windows it
// tests; the looks of later runs at the same weeks are tests of their own
// (see the monitor step's documentation for repeated runs).
func LiveAccuracy(tallies []AuditTally, opts LiveOptions) (*Live, error) {
	if opts.Delta == 0 {
		opts.Delta = 0.05
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
	live := &Live{Delta: opts.Delta, MinAudits: opts.MinAudits}
	for _, w := range sums {
		if w.Decision != DecisionAll && w.Audits >= opts.MinAudits {
			live.Tested++
		}
	}
	live.Level = opts.Delta / float64(max(live.Tested, 1))
	order := map[string]int{Grant: 0, Reject: 1, DecisionAll: 2}
	for _, w := range sums {
		w.Accuracy, w.PValue = math.NaN(), math.NaN()
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
			w.Target, w.Tested = target[w.Decision], true
			risk := 1 - w.Target
			w.PValue = tailAtLeast(w.Wrong, w.Audits, risk)
			switch {
			case w.PValue <= live.Level:
				w.Status = StatusAlarm
				live.Alarm = true
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

// AlarmAt is the fewest wrong audits among n that make a window alarm at
// level against an allowed error rate risk: the smallest k with
// P[Binomial(n, risk) ≥ k] ≤ level; n + 1 when even n wrong do not.
func AlarmAt(n int, risk, level float64) int {
	k := int(math.Floor(float64(n) * risk))
	for k <= n && tailAtLeast(k, n, risk) > level {
		k++
	}
	return k
}

// AuditsToDetect is the detection delay of the test of LiveAccuracy, in
// audits: how many audits one window needs for the test at level to alarm
// with probability at least power when the true error rate is errorRate,
// the allowed one being risk. It is the smallest n from which that
// probability, P[Binomial(n, errorRate) ≥ AlarmAt(n, risk, level)], stays
// at least power up to 2n: the chance of an alarm zigzags with n (the
// counts are whole), so the first n that reaches power may be followed by
// a few that do not. 0 when errorRate ≤ risk (there is nothing to detect)
// or nothing up to a million audits does.
func AuditsToDetect(risk, errorRate, level, power float64) int {
	if !(errorRate > risk) || !(risk > 0 && risk < 1) || !(level > 0 && level < 1) || !(power > 0 && power < 1) || errorRate >= 1 {
		return 0
	}
	const limit = 1 << 20
	reached := func(n int) bool { return tailAtLeast(AlarmAt(n, risk, level), n, errorRate) >= power }
	// Gallop to an n that reaches power, then walk down to the first n of
	// the run that holds up to twice itself.
	n := 1
	for !reached(n) {
		if n *= 2; n > limit {
			return 0
		}
	}
	holds := func(n int) bool {
		// AlarmAt only grows with n: walk it along.
		for m, k := n, AlarmAt(n, risk, level); m <= 2*n; m++ {
			for k <= m && tailAtLeast(k, m, risk) > level {
				k++
			}
			if tailAtLeast(k, m, errorRate) < power {
				return false
			}
		}
		return true
	}
	for !holds(n) {
		if n *= 2; n > limit {
			return 0
		}
	}
	lo, hi := n/2, n // holds(hi); find the smallest that holds, assuming holding is monotone past the first zigzags
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
