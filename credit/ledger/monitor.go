package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/fault"
)

// dayBounds turns days since and until (inclusive; "" for no bound) into
// the bounds of a day column.
func dayBounds(since, until string) (string, string) {
	if until == "" {
		until = "9999-12-31"
	}
	return since, until
}

// AuditTallies counts the closed audits of the decisions of the days from
// since to until (YYYY-MM-DD, inclusive; "" for no bound), by day and by
// the automatic decision audited, with the ones the person decided
// otherwise.
func (l *Ledger) AuditTallies(ctx context.Context, since, until string) ([]credit.AuditTally, error) {
	lo, hi := dayBounds(since, until)
	rows, err := l.db.QueryContext(ctx, l.d.rebind(`SELECT d.day, d.auto_decision, COUNT(*),
			CAST(SUM(CASE WHEN i.outcome <> d.auto_decision THEN 1 ELSE 0 END) AS BIGINT)
		FROM decisions d JOIN inspections i ON i.review_id = d.review_id
		WHERE d.auto_decision IS NOT NULL AND i.outcome IS NOT NULL AND d.day >= ? AND d.day <= ?
		GROUP BY d.day, d.auto_decision ORDER BY d.day, d.auto_decision`), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("read audits: %w", err)
	}
	defer rows.Close()
	var out []credit.AuditTally
	for rows.Next() {
		var t credit.AuditTally
		if err := rows.Scan(&t.Day, &t.Decision, &t.Audits, &t.Wrong); err != nil {
			return nil, fmt.Errorf("read audits: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audits: %w", err)
	}
	return out, nil
}

// A DayCount is what was decided on one day.
type DayCount struct {
	Day     string `json:"day"`
	Reviews int    `json:"reviews"`
	Grant   int    `json:"grant"`  // automatic grants
	Reject  int    `json:"reject"` // automatic rejects
	Manual  int    `json:"manual"` // sent to a person, audits included
	Audits  int    `json:"audits"` // decided by the policy, sent to a person as audits
	// AutomationRate is (Grant+Reject)/Reviews: the share decided without
	// a person. PolicyRate adds the audits: the share the policy decided.
	AutomationRate float64 `json:"automation_rate"`
	PolicyRate     float64 `json:"policy_rate"`
}

// DayCounts counts the decisions of the days from since to until
// (inclusive; "" for no bound), by day.
func (l *Ledger) DayCounts(ctx context.Context, since, until string) ([]DayCount, error) {
	lo, hi := dayBounds(since, until)
	rows, err := l.db.QueryContext(ctx, l.d.rebind(`SELECT day, COUNT(*),
			CAST(SUM(CASE WHEN decision = 'grant' THEN 1 ELSE 0 END) AS BIGINT),
			CAST(SUM(CASE WHEN decision = 'reject' THEN 1 ELSE 0 END) AS BIGINT),
			CAST(SUM(CASE WHEN decision = 'manual' THEN 1 ELSE 0 END) AS BIGINT),
			CAST(SUM(CASE WHEN auto_decision IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT)
		FROM decisions WHERE day >= ? AND day <= ? GROUP BY day ORDER BY day`), lo, hi)
	if err != nil {
		return nil, fmt.Errorf("count decisions: %w", err)
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var c DayCount
		if err := rows.Scan(&c.Day, &c.Reviews, &c.Grant, &c.Reject, &c.Manual, &c.Audits); err != nil {
			return nil, fmt.Errorf("count decisions: %w", err)
		}
		if c.Reviews > 0 {
			c.AutomationRate = float64(c.Grant+c.Reject) / float64(c.Reviews)
			c.PolicyRate = float64(c.Grant+c.Reject+c.Audits) / float64(c.Reviews)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count decisions: %w", err)
	}
	return out, nil
}

// QueueStats are the size and age of the open inspection queue.
type QueueStats struct {
	Open   int `json:"open"`   // items waiting for a person
	Audits int `json:"audits"` // of those, audits
	// Oldest is when the oldest open item was queued (zero when none);
	// OldestDay its day.
	Oldest    time.Time `json:"oldest_queued_at,omitzero"`
	OldestDay string    `json:"oldest_day,omitempty"`
	// AgeHours is how long the oldest has waited, at the time of asking.
	AgeHours float64 `json:"oldest_age_hours"`
	// ByDay counts the open items by the day of their decision.
	ByDay []DayOpen `json:"by_day,omitempty"`
}

// DayOpen is the open items of the queue of one day.
type DayOpen struct {
	Day    string `json:"day"`
	Open   int    `json:"open"`
	Audits int    `json:"audits"`
}

// QueueStats measures the open inspection queue.
func (l *Ledger) QueueStats(ctx context.Context) (QueueStats, error) {
	var qs QueueStats
	rows, err := l.db.QueryContext(ctx, `SELECT day, COUNT(*), CAST(SUM(CASE WHEN audit THEN 1 ELSE 0 END) AS BIGINT), MIN(queued_at)
		FROM inspection_queue GROUP BY day ORDER BY day`)
	if err != nil {
		return qs, fmt.Errorf("measure the inspection queue: %w", err)
	}
	defer rows.Close()
	oldest := ""
	for rows.Next() {
		var (
			d  DayOpen
			at string
		)
		if err := rows.Scan(&d.Day, &d.Open, &d.Audits, &at); err != nil {
			return qs, fmt.Errorf("measure the inspection queue: %w", err)
		}
		qs.ByDay = append(qs.ByDay, d)
		qs.Open += d.Open
		qs.Audits += d.Audits
		if oldest == "" || at < oldest {
			oldest, qs.OldestDay = at, d.Day
		}
	}
	if err := rows.Err(); err != nil {
		return qs, fmt.Errorf("measure the inspection queue: %w", err)
	}
	if oldest != "" {
		if qs.Oldest, err = time.Parse(timeFormat, oldest); err != nil {
			return qs, fmt.Errorf("measure the inspection queue: queued_at %q: %w", oldest, err)
		}
		qs.AgeHours = math.Max(0, l.now().Sub(qs.Oldest).Hours())
	}
	return qs, nil
}

// MonitorOptions are the monitor step's input.
type MonitorOptions struct {
	DB string // the ledger's DSN; it must exist
	// Since and Until bound the days of the decisions looked at
	// (YYYY-MM-DD, inclusive). Until "" means today (UTC); Since "" means
	// the Monday seven weeks before Until's: eight ISO weeks.
	Since, Until string
	// Target is the accuracy each kind of automatic decision must keep,
	// by decision (credit.Grant, credit.Reject); nil means 0.98 each.
	Target map[string]float64
	// Delta bounds the chance that the decisions of one ISO week, on
	// target, ever raise an alarm, however often the monitor runs; 0 means
	// credit.DefaultMonitorDelta.
	Delta float64
	// MinAudits is the fewest closed audits a week needs to be tested; 0
	// means credit.DefaultMinAudits.
	MinAudits int
	// Now tells the time (the queue's age, the default Until); nil means
	// time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// MonitorResult is the monitor step's result JSON.
type MonitorResult struct {
	DB    string `json:"db"` // redacted
	Since string `json:"since"`
	Until string `json:"until"`
	// Alarm: a week's automatic decisions of one kind are less accurate
	// than their target, with the confidence Statement gives. Alarms says
	// which.
	Alarm     bool     `json:"alarm"`
	Alarms    []string `json:"alarms,omitempty"`
	Statement string   `json:"statement"`
	// Target, Delta, MinAudits and Level (δ/2, each window's) are the
	// test's settings, Tested the windows tested: see credit.LiveAccuracy.
	Target    map[string]float64 `json:"target_accuracy"`
	Delta     float64            `json:"delta"`
	MinAudits int                `json:"min_audits"`
	Tested    int                `json:"windows_tested"`
	Level     float64            `json:"level"`
	// Weeks is the live accuracy per ISO week and kind of decision.
	Weeks []WeekAccuracy `json:"weeks"`
	// Detection says how many audits a week needs to alarm on a given
	// drop in accuracy, at this run's level.
	Detection []Detection `json:"detection"`
	Days      []DayCount  `json:"days"`
	Queue     QueueStats  `json:"queue"`
}

// WeekAccuracy is a credit.Window as JSON: the accuracy of one kind of
// automatic decision (grant, reject, or all) over the audits of one ISO
// week's decisions.
type WeekAccuracy struct {
	Week     string `json:"week"`
	Decision string `json:"decision"`
	Audits   int    `json:"audits"`
	Wrong    int    `json:"wrong"`
	// Accuracy is 1 − wrong/audits, absent without audits; Lower and
	// Upper its Clopper–Pearson interval at confidence 1 − 2·level.
	Accuracy *float64 `json:"accuracy,omitempty"`
	Lower    float64  `json:"lower"`
	Upper    float64  `json:"upper"`
	Target   float64  `json:"target,omitempty"`
	Tested   bool     `json:"tested"`
	// Evidence is the sequential test's likelihood ratio (an alarm at
	// 1/level); PValue the fixed-sample p-value, for reading.
	Evidence *float64 `json:"evidence,omitempty"`
	PValue   *float64 `json:"p_value,omitempty"`
	Status   string   `json:"status"`
}

// Detection is the detection delay of the alarm, in audits, for one kind
// of decision.
type Detection struct {
	Decision string  `json:"decision"`
	Accuracy float64 `json:"accuracy"` // a drop of the accuracy to this
	// Audits is how many audits one week needs for the alarm to be raised
	// with probability Power at that accuracy (credit.AuditsToDetect).
	Audits int     `json:"audits"`
	Power  float64 `json:"power"`
	// AuditsPerWeek is the pace of closed audits: their mean over the
	// weeks that have some.
	AuditsPerWeek float64 `json:"audits_per_week"`
}

// detectionPower is the chance of an alarm the detection delays are
// stated at.
const detectionPower = 0.9

// Monitor measures the live accuracy of the automatic decisions from the
// closed audits of the ledger at opts.DB (credit.LiveAccuracy), the
// automation rate of each day and the inspection queue. It does not fail
// on an alarm: the result says so (Alarm), and the monitor step turns it
// into exit code 1. A DSN with no ledger is fault.BadInput.
func Monitor(ctx context.Context, opts MonitorOptions) (*MonitorResult, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	until := opts.Until
	if until == "" {
		until = now().UTC().Format(time.DateOnly)
	}
	u, err := time.Parse(time.DateOnly, until)
	if err != nil {
		return nil, fault.BadInputf("--until %q: want a day, YYYY-MM-DD", until)
	}
	since := opts.Since
	if since == "" {
		monday := u.AddDate(0, 0, -((int(u.Weekday()) + 6) % 7))
		since = monday.AddDate(0, 0, -7*7).Format(time.DateOnly)
	} else if _, err := time.Parse(time.DateOnly, since); err != nil {
		return nil, fault.BadInputf("--since %q: want a day, YYYY-MM-DD", since)
	}
	if since > until {
		return nil, fault.BadInputf("--since %s is after --until %s", since, until)
	}
	l, err := OpenStep(ctx, opts.DB, OpenExisting)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	l.Now = now

	tallies, err := l.AuditTallies(ctx, since, until)
	if err != nil {
		return nil, err
	}
	live, err := credit.LiveAccuracy(tallies, credit.LiveOptions{Target: opts.Target, Delta: opts.Delta, MinAudits: opts.MinAudits})
	if err != nil {
		return nil, fault.New(fault.BadInput, err)
	}
	res := &MonitorResult{DB: Redact(opts.DB), Since: since, Until: until, Alarm: live.Alarm,
		Target: live.Target, Delta: live.Delta, MinAudits: live.MinAudits, Tested: live.Tested, Level: live.Level}
	perWeek := map[string]map[string]bool{} // decision -> weeks with audits
	audits := map[string]int{}
	for _, w := range live.Windows {
		wa := WeekAccuracy{Week: w.Week, Decision: w.Decision, Audits: w.Audits, Wrong: w.Wrong, Lower: w.Lower, Upper: w.Upper,
			Target: w.Target, Tested: w.Tested, Status: w.Status}
		if !math.IsNaN(w.Accuracy) {
			wa.Accuracy = &w.Accuracy
		}
		if !math.IsNaN(w.PValue) {
			wa.PValue = &w.PValue
		}
		if !math.IsNaN(w.Evidence) {
			wa.Evidence = &w.Evidence
		}
		res.Weeks = append(res.Weeks, wa)
		if w.Status == credit.StatusAlarm {
			res.Alarms = append(res.Alarms, fmt.Sprintf("%s %ss: %d of %d audits wrong (%s right, at most %s with confidence %s), target %s",
				w.Week, w.Decision, w.Wrong, w.Audits, pct(w.Accuracy), pct(w.Upper), pct(1-2*live.Level), pct(w.Target)))
		}
		if w.Decision != credit.DecisionAll && w.Audits > 0 {
			if perWeek[w.Decision] == nil {
				perWeek[w.Decision] = map[string]bool{}
			}
			perWeek[w.Decision][w.Week] = true
			audits[w.Decision] += w.Audits
		}
	}
	for _, d := range []string{credit.Grant, credit.Reject} {
		risk := 1 - res.Target[d]
		pace := 0.0
		if n := len(perWeek[d]); n > 0 {
			pace = float64(audits[d]) / float64(n)
		}
		for _, factor := range []float64{2, 3} {
			if factor*risk >= 1 {
				continue
			}
			res.Detection = append(res.Detection, Detection{Decision: d, Accuracy: math.Round((1-factor*risk)*1e6) / 1e6,
				Audits: credit.AuditsToDetect(risk, factor*risk, live.Level, detectionPower), Power: detectionPower, AuditsPerWeek: pace})
		}
	}
	res.Statement = fmt.Sprintf("Each ISO week's grants and rejects with at least %d closed audits are tested (%d here) by a sequential test at %g each, "+
		"so that the automatic decisions of a week on target raise a false alarm with probability at most δ = %g, however often monitor runs; "+
		"an alarm also means the week's %s Clopper–Pearson interval lies below the target.",
		live.MinAudits, live.Tested, live.Level, live.Delta, pct(1-2*live.Level))
	if res.Days, err = l.DayCounts(ctx, since, until); err != nil {
		return nil, err
	}
	if res.Queue, err = l.QueueStats(ctx); err != nil {
		return nil, err
	}
	log.Info("monitored", "since", since, "until", until, "windows_tested", live.Tested, "alarm", live.Alarm,
		"queue_open", res.Queue.Open, "queue_oldest_hours", math.Round(res.Queue.AgeHours))
	for _, a := range res.Alarms {
		log.Warn("alarm: automatic decisions less accurate than their target", "window", a)
	}
	return res, nil
}

// pct writes a share as a percentage with one decimal, rounding toward
// 50% so that 0.9996 reads 99.9%, not 100.0%.
func pct(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	v := math.Floor(x*1000) / 10
	if x < 0.5 {
		v = math.Ceil(x*1000) / 10
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0") + "%"
}
