package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/credit"
)

// quiet is a logger for the steps run in tests.
var quiet = slog.New(slog.DiscardHandler)

// auditDay publishes a day of n audits of each kind and answers them:
// wrongGrants of the audited grants rejected by the person, wrongRejects
// of the rejects granted. It also publishes autos automatic decisions of
// each kind and one manual decision left open.
func auditDay(tb testing.TB, l *Ledger, day string, n, wrongGrants, wrongRejects, autos int) {
	tb.Helper()
	var rows []credit.DecisionRow
	var answers []Answer
	for i := range n {
		for _, kind := range []string{credit.Grant, credit.Reject} {
			id := fmt.Sprintf("%s-%s-audit-%03d", day, kind, i)
			rows = append(rows, audited(id, day, kind))
			outcome := kind
			if kind == credit.Grant && i < wrongGrants || kind == credit.Reject && i < wrongRejects {
				outcome = map[string]string{credit.Grant: credit.Reject, credit.Reject: credit.Grant}[kind]
			}
			answers = append(answers, answer(id, outcome))
		}
	}
	for i := range autos {
		rows = append(rows, row(fmt.Sprintf("%s-g-%03d", day, i), credit.Grant, 500, day), row(fmt.Sprintf("%s-r-%03d", day, i), credit.Reject, 0, day))
	}
	rows = append(rows, queued(day+"-open", day, 500))
	publish(tb, l, day, rows...)
	resolve(tb, l, answers...)
}

func TestMonitorQueries(t *testing.T) { forEachBackend(t, testMonitorQueries) }

func testMonitorQueries(t *testing.T, dsn string) {
	l := open(t, dsn)
	ctx := context.Background()
	auditDay(t, l, "2026-11-23", 3, 1, 0, 5)
	l.Now = func() time.Time { return t0.Add(24 * time.Hour) }
	auditDay(t, l, "2026-11-24", 2, 0, 2, 3)
	// An audit still open counts for the queue, not the accuracy.
	publish(t, l, "2026-11-25", audited("open-audit", "2026-11-25", credit.Grant))

	tallies, err := l.AuditTallies(ctx, "2026-11-23", "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	want := []credit.AuditTally{
		{Day: "2026-11-23", Decision: credit.Grant, Audits: 3, Wrong: 1},
		{Day: "2026-11-23", Decision: credit.Reject, Audits: 3, Wrong: 0},
		{Day: "2026-11-24", Decision: credit.Grant, Audits: 2, Wrong: 0},
		{Day: "2026-11-24", Decision: credit.Reject, Audits: 2, Wrong: 2},
	}
	if diff := cmp.Diff(want, tallies); diff != "" {
		t.Errorf("AuditTallies (-want +got):\n%s", diff)
	}
	if got, err := l.AuditTallies(ctx, "2026-11-24", ""); err != nil || len(got) != 2 {
		t.Errorf("AuditTallies from 2026-11-24: %v, %v; want the 2 tallies of that day", got, err)
	}

	days, err := l.DayCounts(ctx, "", "2026-11-24")
	if err != nil {
		t.Fatal(err)
	}
	wantDays := []DayCount{
		{Day: "2026-11-23", Reviews: 17, Grant: 5, Reject: 5, Manual: 7, Audits: 6, AutomationRate: 10.0 / 17, PolicyRate: 16.0 / 17},
		{Day: "2026-11-24", Reviews: 11, Grant: 3, Reject: 3, Manual: 5, Audits: 4, AutomationRate: 6.0 / 11, PolicyRate: 10.0 / 11},
	}
	if diff := cmp.Diff(wantDays, days); diff != "" {
		t.Errorf("DayCounts (-want +got):\n%s", diff)
	}

	l.Now = func() time.Time { return t0.Add(50 * time.Hour) }
	qs, err := l.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantQueue := QueueStats{Open: 3, Audits: 1, Oldest: t0, OldestDay: "2026-11-23", AgeHours: 50,
		ByDay: []DayOpen{{"2026-11-23", 1, 0}, {"2026-11-24", 1, 0}, {"2026-11-25", 1, 1}}}
	if diff := cmp.Diff(wantQueue, qs); diff != "" {
		t.Errorf("QueueStats (-want +got):\n%s", diff)
	}
}

func TestMonitor(t *testing.T) { forEachBackend(t, testMonitor) }

// Monitor on a ledger: a healthy week, then a week whose grants are
// wrong a quarter of the time: an alarm on that week's grants only.
func testMonitor(t *testing.T, dsn string) {
	l := open(t, dsn)
	for d := 16; d <= 20; d++ { // week 47: healthy
		auditDay(t, l, fmt.Sprintf("2026-11-%02d", d), 60, 0, 0, 1)
	}
	for d := 23; d <= 27; d++ { // week 48: grants 75% right
		auditDay(t, l, fmt.Sprintf("2026-11-%02d", d), 60, 15, 0, 1)
	}
	now := func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	res, err := Monitor(context.Background(), MonitorOptions{DB: dsn, Now: now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Alarm || len(res.Alarms) != 1 || res.Until != "2026-11-29" || res.Since != "2026-10-05" {
		t.Fatalf("Monitor: alarm %v %q from %s to %s; want one alarm, on 2026-W48 grants, from 2026-10-05 to 2026-11-29", res.Alarm, res.Alarms, res.Since, res.Until)
	}
	var statuses []string
	for _, w := range res.Weeks {
		statuses = append(statuses, w.Week+" "+w.Decision+" "+w.Status)
	}
	want := []string{"2026-W47 grant ok", "2026-W47 reject ok", "2026-W47 all pooled",
		"2026-W48 grant alarm", "2026-W48 reject ok", "2026-W48 all pooled"}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("weeks (-want +got):\n%s", diff)
	}
	if len(res.Days) != 10 || res.Queue.Open != 10 || len(res.Detection) != 4 || res.Detection[0].AuditsPerWeek != 300 {
		t.Errorf("days %d, queue %+v, detection %+v; want 10 days, 10 open, 4 detection delays at 300 audits a week", len(res.Days), res.Queue, res.Detection)
	}
	// The healthy week alone: quiet.
	res, err = Monitor(context.Background(), MonitorOptions{DB: dsn, Since: "2026-11-16", Until: "2026-11-22", Now: now, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if res.Alarm || res.Tested != 2 {
		t.Errorf("Monitor of week 47: alarm %v with %d windows tested; want quiet with 2", res.Alarm, res.Tested)
	}
}
