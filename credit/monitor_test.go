package credit

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLowerBound(t *testing.T) {
	// The two-sided 95% Clopper–Pearson interval of 1 in 10 is
	// [0.00253, 0.44502] (any statistics package).
	if got := LowerBound(1, 10, 0.025); math.Abs(got-0.0025286) > 1e-6 {
		t.Errorf("LowerBound(1, 10, 0.025) = %.7f, want 0.0025286", got)
	}
	if got := UpperBound(1, 10, 0.025); math.Abs(got-0.4450161) > 1e-6 {
		t.Errorf("UpperBound(1, 10, 0.025) = %.7f, want 0.4450161", got)
	}
	for _, tc := range []struct {
		k, n  int
		delta float64
	}{{1, 10, 0.05}, {5, 300, 0.001}, {30, 300, 0.0125}, {299, 300, 0.05}, {300, 300, 0.05}} {
		lb := LowerBound(tc.k, tc.n, tc.delta)
		// The bound is where k or more errors have probability delta.
		if got := tailAtLeast(tc.k, tc.n, lb); math.Abs(got-tc.delta) > 1e-9 {
			t.Errorf("LowerBound(%d, %d, %g) = %g: P[≥k] there is %g, want delta", tc.k, tc.n, tc.delta, lb, got)
		}
		// And it mirrors UpperBound.
		if got, want := lb, 1-UpperBound(tc.n-tc.k, tc.n, tc.delta); math.Abs(got-want) > 1e-9 {
			t.Errorf("LowerBound(%d, %d, %g) = %g, want 1 − UpperBound(n−k) = %g", tc.k, tc.n, tc.delta, got, want)
		}
	}
	for _, tc := range []struct {
		k, n  int
		delta float64
	}{{0, 10, 0.05}, {3, 0, 0.05}, {3, 10, 1}, {3, 10, 0}} {
		if got := LowerBound(tc.k, tc.n, tc.delta); got != 0 {
			t.Errorf("LowerBound(%d, %d, %g) = %g, want 0", tc.k, tc.n, tc.delta, got)
		}
	}
}

func TestISOWeek(t *testing.T) {
	for day, want := range map[string]string{
		"2026-11-28": "2026-W48", // a Saturday
		"2026-11-30": "2026-W49", // the Monday after
		"2027-01-01": "2026-W53", // a Friday: its Thursday is in 2026
		"2024-12-30": "2025-W01", // a Monday: its Thursday is in 2025
	} {
		if got, err := ISOWeek(day); err != nil || got != want {
			t.Errorf("ISOWeek(%s) = %q, %v; want %s", day, got, err, want)
		}
	}
	if _, err := ISOWeek("28/11/2026"); err == nil {
		t.Errorf("ISOWeek(28/11/2026): no error")
	}
}

func TestLiveAccuracy(t *testing.T) {
	tallies := []AuditTally{
		{Day: "2026-11-23", Decision: Grant, Audits: 150, Wrong: 0},
		{Day: "2026-11-24", Decision: Grant, Audits: 150, Wrong: 0},   // week 48: 300, none wrong: ok
		{Day: "2026-11-23", Decision: Reject, Audits: 300, Wrong: 30}, // 90% right for 97%: alarm
		{Day: "2026-11-30", Decision: Grant, Audits: 10, Wrong: 1},    // week 49: too few
		{Day: "2026-12-01", Decision: Reject, Audits: 100, Wrong: 3},  // 97%: inconclusive
		{Day: "2026-12-07", Decision: Grant, Audits: 300, Wrong: 13},  // week 50: 95.7%: watch
	}
	live, err := LiveAccuracy(tallies, LiveOptions{Delta: 0.05, Target: map[string]float64{Reject: 0.97, Grant: 0.98}})
	if err != nil {
		t.Fatal(err)
	}
	if !live.Alarm || live.Tested != 4 || live.Level != 0.025 || live.MinAudits != DefaultMinAudits {
		t.Errorf("live = alarm %v, %d tested at %g (min %d); want an alarm, 4 tested at 0.025", live.Alarm, live.Tested, live.Level, live.MinAudits)
	}
	var got []string
	for _, w := range live.Windows {
		got = append(got, w.Week+" "+w.Decision+" "+w.Status)
		if w.Lower > w.Accuracy || w.Accuracy > w.Upper {
			t.Errorf("%s %s: accuracy %g outside its interval [%g, %g]", w.Week, w.Decision, w.Accuracy, w.Lower, w.Upper)
		}
		if w.Tested == math.IsNaN(w.PValue) || w.Tested == math.IsNaN(w.Evidence) {
			t.Errorf("%s %s: tested %v with p-value %g and evidence %g", w.Week, w.Decision, w.Tested, w.PValue, w.Evidence)
		}
		// An alarm is an interval below the target, and so is a watch.
		if below := w.Tested && w.Upper < w.Target; below != (w.Status == StatusAlarm || w.Status == StatusWatch) {
			t.Errorf("%s %s: status %s with interval [%g, %g] and target %g", w.Week, w.Decision, w.Status, w.Lower, w.Upper, w.Target)
		}
		if w.Status == StatusAlarm && w.Evidence < 1/live.Level {
			t.Errorf("%s %s: alarm with evidence %g < %g", w.Week, w.Decision, w.Evidence, 1/live.Level)
		}
	}
	want := "2026-W48 grant ok|2026-W48 reject alarm|2026-W48 all pooled|" +
		"2026-W49 grant too few audits|2026-W49 reject inconclusive|2026-W49 all pooled|" +
		"2026-W50 grant watch|2026-W50 all pooled"
	if g := strings.Join(got, "|"); g != want {
		t.Errorf("windows\n got %s\nwant %s", g, want)
	}

	for name, tc := range map[string]struct {
		tallies []AuditTally
		opts    LiveOptions
	}{
		"bad day":      {[]AuditTally{{Day: "yesterday", Decision: Grant, Audits: 1}}, LiveOptions{}},
		"bad decision": {[]AuditTally{{Day: "2026-11-28", Decision: Manual, Audits: 1}}, LiveOptions{}},
		"wrong > all":  {[]AuditTally{{Day: "2026-11-28", Decision: Grant, Audits: 1, Wrong: 2}}, LiveOptions{}},
		"delta":        {nil, LiveOptions{Delta: 1}},
		"target":       {nil, LiveOptions{Target: map[string]float64{Grant: 1}}},
		"target kind":  {nil, LiveOptions{Target: map[string]float64{"all": 0.9}}},
	} {
		if _, err := LiveAccuracy(tc.tallies, tc.opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The alarm needs at least the errors the fixed-sample test at the same
// level needs: an alarm is always an interval below the target.
func TestAlarmAfterInterval(t *testing.T) {
	for _, risk := range []float64{0.01, 0.02, 0.05} {
		for _, level := range []float64{0.005, 0.025} {
			for n := 1; n <= 3000; n += 1 + n/50 {
				k := AlarmAt(n, risk, level)
				if k <= n && tailAtLeast(k, n, risk) > level {
					t.Fatalf("risk %g, level %g: %d wrong of %d alarm, but their p-value is %g", risk, level, k, n, tailAtLeast(k, n, risk))
				}
			}
		}
	}
}

func TestAuditsToDetect(t *testing.T) {
	const risk, level, power = 0.02, 0.005, 0.9
	n := AuditsToDetect(risk, 3*risk, level, power)
	if n <= 0 {
		t.Fatalf("AuditsToDetect = %d", n)
	}
	for m := n; m <= 2*n; m++ {
		if p := tailAtLeast(AlarmAt(m, risk, level), m, 3*risk); p < power {
			t.Fatalf("at %d audits (from %d) the alarm's chance is %.3f, want ≥ %g", m, n, p, power)
		}
	}
	k := AlarmAt(n, risk, level)
	if tst := newAlarmTest(risk, level); !tst.alarms(k, n) || tst.alarms(k-1, n) {
		t.Errorf("AlarmAt(%d) = %d is not the fewest errors that alarm", n, k)
	}
	if got := AuditsToDetect(risk, risk, level, power); got != 0 {
		t.Errorf("AuditsToDetect with nothing to detect = %d, want 0", got)
	}
	t.Logf("at 98%%, level %g: %d audits to detect 94%% (%d errors alarm), %d to detect 96%%", level, n, k,
		AuditsToDetect(risk, 2*risk, level, power))
}

// The simulated world of the monitor tests: eight ISO weeks from Monday
// 2026-10-05; each day, simPerDay automatic decisions of each kind are
// audited, and their audits close over three days (half the same day, 30%
// the next, 20% the day after), as a queue does. Target 98%.
const (
	simWeeks  = 8
	simPerDay = 150 // audits a day of each kind: about 20,000 reviews a day, 3/4 automatic, 2% audited
	simRisk   = 0.02
)

var simStart = time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)

// A simulated history: the audits drawn so far, released day by day as
// they close, and the windows (ISO week, kind) they make. Days and weeks
// are indices from simStart, kinds 0 (grant) and 1 (reject).
type simHistory struct {
	r       *rand.Rand
	pending [][]simAudits // by closing day
	days    [][2][2]int   // by decision day and kind: closed audits, wrong
	windows [][2][2]int   // by week and kind: closed audits, wrong
}

// simAudits are audits of one decision day and kind that close together.
type simAudits struct{ day, kind, n, wrong int }

var simKinds = [2]string{Grant, Reject}

func newSim(seed uint64) *simHistory {
	const days = 7*simWeeks + 3
	return &simHistory{r: rand.New(rand.NewPCG(seed, 7)), pending: make([][]simAudits, days),
		days: make([][2][2]int, days), windows: make([][2][2]int, simWeeks)}
}

// decide draws day's audits, each wrong with probability errRate(kind),
// closing over the next days.
func (h *simHistory) decide(day int, errRate func(kind string) float64) {
	for kind, name := range simKinds {
		p := errRate(name)
		var by [3]simAudits // by days to close
		for range simPerDay {
			late := 0
			if u := h.r.Float64(); u > 0.8 {
				late = 2
			} else if u > 0.5 {
				late = 1
			}
			by[late].n++
			if h.r.Float64() < p {
				by[late].wrong++
			}
		}
		for late, a := range by {
			a.day, a.kind = day, kind
			h.pending[day+late] = append(h.pending[day+late], a)
		}
	}
}

// close closes the audits due on day and returns the windows they
// changed, as [week, kind].
func (h *simHistory) close(day int) [][2]int {
	var changed [][2]int
	for _, a := range h.pending[day] {
		h.days[a.day][a.kind][0] += a.n
		h.days[a.day][a.kind][1] += a.wrong
		w := [2]int{a.day / 7, a.kind}
		h.windows[w[0]][w[1]][0] += a.n
		h.windows[w[0]][w[1]][1] += a.wrong
		if !slices.Contains(changed, w) {
			changed = append(changed, w)
		}
	}
	return changed
}

// week names week index i.
func simWeek(i int) string {
	w, _ := ISOWeek(simStart.AddDate(0, 0, 7*i).Format(time.DateOnly))
	return w
}

// alarms runs the day's monitor on the windows that changed (the others
// say what they said the day before): the test of LiveAccuracy, and the
// fixed-sample one at the same level for comparison. It returns the
// windows that alarm under each.
func (h *simHistory) alarms(changed [][2]int, test alarmTest) (seq, fixed [][2]int) {
	for _, w := range changed {
		n, k := h.windows[w[0]][w[1]][0], h.windows[w[0]][w[1]][1]
		if n < DefaultMinAudits {
			continue
		}
		if test.alarms(k, n) {
			seq = append(seq, w)
		}
		if tailAtLeast(k, n, test.risk) <= test.level {
			fixed = append(fixed, w)
		}
	}
	return seq, fixed
}

// checkLive checks that LiveAccuracy, on the history's tallies, alarms on
// the windows the simulation's test says.
func (h *simHistory) checkLive(tb testing.TB, delta float64) {
	tb.Helper()
	var tallies []AuditTally
	for day, kinds := range h.days {
		for kind, c := range kinds {
			if c[0] > 0 {
				tallies = append(tallies, AuditTally{Day: simStart.AddDate(0, 0, day).Format(time.DateOnly), Decision: simKinds[kind], Audits: c[0], Wrong: c[1]})
			}
		}
	}
	live, err := LiveAccuracy(tallies, LiveOptions{Delta: delta})
	if err != nil {
		tb.Fatal(err)
	}
	var all [][2]int
	for week := range h.windows {
		all = append(all, [2]int{week, 0}, [2]int{week, 1})
	}
	seq, _ := h.alarms(all, newAlarmTest(simRisk, delta/2))
	want := map[string]bool{}
	for _, w := range seq {
		want[simWeek(w[0])+" "+simKinds[w[1]]] = true
	}
	for _, w := range live.Windows {
		if w.Decision != DecisionAll && (w.Status == StatusAlarm) != want[w.Week+" "+w.Decision] {
			tb.Fatalf("LiveAccuracy says %s for %s %s; the simulation's test says alarm %v", w.Status, w.Week, w.Decision, want[w.Week+" "+w.Decision])
		}
	}
}

// TestMonitorFalseAlarms: the monitor run every day over eight weeks (and
// two days more, for the last audits to close) on decisions exactly on
// target, the worst case the guarantee covers. The share of weeks whose
// decisions ever alarm, in any run, stays within δ; the fixed-sample
// Clopper–Pearson test at the same level, looked at as often, is measured
// beside it (the reason for the sequential test). On decisions better
// than target nothing alarms. The measured rates are logged.
func TestMonitorFalseAlarms(t *testing.T) {
	const sims = 500
	for _, tc := range []struct {
		name    string
		delta   float64
		errRate float64
		max     float64
	}{
		// δ plus three standard errors of the estimate over sims × weeks.
		{"on target, δ = 0.01", 0.01, simRisk, 0.01 + 3*math.Sqrt(0.01*0.99/(sims*simWeeks))},
		{"on target, δ = 0.05", 0.05, simRisk, 0.05 + 3*math.Sqrt(0.05*0.95/(sims*simWeeks))},
		{"better than target, δ = 0.01", 0.01, simRisk / 2, 0.002},
	} {
		test := newAlarmTest(simRisk, tc.delta/2)
		alarmed, fixed := 0, 0
		for s := range sims {
			h := newSim(uint64(s))
			weeks, fixedWeeks := map[int]bool{}, map[int]bool{}
			for day := range 7*simWeeks + 2 {
				if day < 7*simWeeks {
					h.decide(day, func(string) float64 { return tc.errRate })
				}
				seq, fix := h.alarms(h.close(day), test)
				for _, w := range seq {
					weeks[w[0]] = true
				}
				for _, w := range fix {
					fixedWeeks[w[0]] = true
				}
			}
			if s%100 == 0 {
				h.checkLive(t, tc.delta)
			}
			alarmed += len(weeks)
			fixed += len(fixedWeeks)
		}
		rate := float64(alarmed) / (sims * simWeeks)
		t.Logf("%s: false alarms in %d of %d weeks (%.2f%%); the fixed-sample test at the same level, looked at daily: %.2f%%",
			tc.name, alarmed, sims*simWeeks, 100*rate, 100*float64(fixed)/(sims*simWeeks))
		if rate > tc.max {
			t.Errorf("%s: false alarms in %.2f%% of weeks, want at most %.2f%%", tc.name, 100*rate, 100*tc.max)
		}
	}
}

// TestMonitorDetectsDrift: from the Monday of week 6 the grants get worse
// (94% right, three times the allowed error rate). Run every day, the
// monitor alarms on that week's grants by the first run that has seen
// AuditsToDetect(2%, 6%, δ/2, 0.9) of its grant audits closed, in at
// least 90% of the histories; nothing alarms before the drift in more than
// δ of the weeks.
func TestMonitorDetectsDrift(t *testing.T) {
	const (
		sims      = 1000
		delta     = DefaultMonitorDelta
		driftWeek = 5 // 0-based: the sixth week
		worse     = 3 * simRisk
	)
	stated := AuditsToDetect(simRisk, worse, delta/2, 0.9)
	test := newAlarmTest(simRisk, delta/2)
	detected, early := 0, 0
	var delays []int
	for s := range sims {
		h := newSim(1000 + uint64(s))
		found := false
		earlyWeeks := map[int]bool{}
		for day := 0; day < 7*(driftWeek+1)+2 && !found; day++ {
			if day < 7*(driftWeek+1) {
				h.decide(day, func(kind string) float64 {
					if kind == Grant && day >= 7*driftWeek {
						return worse
					}
					return simRisk
				})
			}
			seq, _ := h.alarms(h.close(day), test)
			for _, w := range seq {
				switch {
				case w == [2]int{driftWeek, 0}:
					n := h.windows[driftWeek][0][0]
					delays = append(delays, n)
					if n < stated+simPerDay {
						detected++ // by the first run with at least the stated audits
					}
					found = true
				case w[0] < driftWeek:
					earlyWeeks[w[0]] = true
				}
			}
		}
		early += len(earlyWeeks)
	}
	slices.Sort(delays)
	median := 0
	if len(delays) > 0 {
		median = delays[len(delays)/2]
	}
	t.Logf("drift to %.0f%% right, δ = %g: stated delay %d audits; alarmed within it in %d of %d histories, within the week in %d (median %d audits); false alarms in %d of %d weeks before the drift",
		100*(1-worse), delta, stated, detected, sims, len(delays), median, early, sims*driftWeek)
	if share := float64(detected) / sims; share < 0.9-3*math.Sqrt(0.09/sims) {
		t.Errorf("alarmed within %d audits in %.1f%% of histories, want at least 90%%", stated, 100*share)
	}
	if share := float64(early) / (sims * driftWeek); share > delta+3*math.Sqrt(delta/(sims*driftWeek)) {
		t.Errorf("false alarms before the drift in %.2f%% of weeks, want at most δ", 100*share)
	}
}
