package monitorcmd_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/monitorcmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
)

// newLedger makes an empty SQLite ledger in dir: a day with one decision.
func newLedger(tb testing.TB, dir string) string {
	tb.Helper()
	dsn := "sqlite:" + filepath.Join(dir, "ledger.db")
	l, err := ledger.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Publish(context.Background(), "2026-11-28", []credit.DecisionRow{{Decision: credit.Decision{ReviewID: "g1", ReviewType: "product",
		Decision: credit.Grant, Credit: 500, Reasons: []string{"…: grant"}}, PolicyVersion: "v1", Day: "2026-11-28"}}); err != nil {
		tb.Fatal(err)
	}
	return dsn
}

func TestMonitorBadInputs(t *testing.T) {
	with := func(more ...string) func(testing.TB, string) []string {
		return func(tb testing.TB, dir string) []string { return append([]string{"--db", newLedger(tb, dir)}, more...) }
	}
	steptest.CheckBadInputs(t, monitorcmd.Step, []steptest.BadInput{
		{Name: "no ledger at the path", Args: []string{"--db", "sqlite:{dir}/ledgr.db"},
			Words: []string{"--db sqlite:", "ledgr.db", "no ledger", "no such file"}, NoOutput: []string{"ledgr.db"}},
		{Name: "a database that is not supported", Args: []string{"--db", "mysql://u:secret@db/l"}, Words: []string{"mysql://u:xxxxx@db/l", "sqlite:PATH"}},
		{Name: "target above 1", Setup: with("--target-accuracy", "1.2"), Words: []string{"--target-accuracy", `"1.2"`, "between 0 and 1"}},
		{Name: "target of no decision", Setup: with("--target-accuracy", "manual=0.9"), Words: []string{"--target-accuracy", "want grant=SHARE or reject=SHARE"}},
		{Name: "target twice", Setup: with("--target-accuracy", "grant=0.9,grant=0.95"), Words: []string{"grant given twice"}},
		{Name: "delta 0", Setup: with("--delta", "0"), Words: []string{"--delta 0", "between 0 and 1"}},
		{Name: "min audits 0", Setup: with("--min-audits", "0"), Words: []string{"--min-audits 0"}},
		{Name: "a bad day", Setup: with("--since", "28/11/2026"), Words: []string{"--since", "want a day, YYYY-MM-DD"}},
		{Name: "since after until", Setup: with("--since", "2026-11-30", "--until", "2026-11-01"), Words: []string{"--since 2026-11-30 is after --until 2026-11-01"}},
		{Name: "report a directory", Setup: with("--report", "{dir}"), Words: []string{"--report", "is a directory"}},
	})
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]map[string]float64{
		"0.98":                   {credit.Grant: 0.98, credit.Reject: 0.98},
		"grant=0.99,reject=0.97": {credit.Grant: 0.99, credit.Reject: 0.97},
		" reject = 0.9 ":         {credit.Reject: 0.9},
	} {
		got, err := monitorcmd.ParseTarget(in)
		if err != nil {
			t.Errorf("ParseTarget(%q): %v", in, err)
		} else if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParseTarget(%q) (-want +got):\n%s", in, diff)
		}
	}
}

// The report escapes what it shows and draws a band per kind of decision.
func TestWriteReport(t *testing.T) {
	acc, acc2 := 0.75, 0.99
	res := &ledger.MonitorResult{DB: "postgres://u:xxxxx@h/<db>", Since: "2026-11-16", Until: "2026-11-29", Alarm: true,
		Alarms: []string{"2026-W48 grants: <b>50</b> of 200 audits wrong"}, Statement: "a statement",
		Target: map[string]float64{credit.Grant: 0.98, credit.Reject: 0.98}, Delta: 0.01, MinAudits: 30, Tested: 4, Level: 0.005,
		Weeks: []ledger.WeekAccuracy{
			{Week: "2026-W47", Decision: credit.Grant, Audits: 300, Accuracy: &acc2, Lower: 0.97, Upper: 0.998, Target: 0.98, Tested: true, Status: credit.StatusInconclusive},
			{Week: "2026-W48", Decision: credit.Grant, Audits: 200, Wrong: 50, Accuracy: &acc, Lower: 0.66, Upper: 0.83, Target: 0.98, Tested: true, Status: credit.StatusAlarm},
		},
		Days:  []ledger.DayCount{{Day: "2026-11-16", Reviews: 100, Grant: 40, Reject: 30, Manual: 30, Audits: 2, AutomationRate: 0.7, PolicyRate: 0.72}},
		Queue: ledger.QueueStats{Open: 3, Audits: 1, Oldest: time.Date(2026, 11, 16, 6, 0, 0, 0, time.UTC), OldestDay: "2026-11-16", AgeHours: 80, ByDay: []ledger.DayOpen{{Day: "2026-11-16", Open: 3, Audits: 1}}},
	}
	var b strings.Builder
	if err := res.WriteReport(&b, time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	for _, want := range []string{"Alarm: automatic decisions are less accurate", "&lt;b&gt;50&lt;/b&gt;", "&lt;db&gt;", `class="band"`, `class="dot alarm"`,
		"target 98%", "reference 76%", "3.3 days", `<tr class="alarm">`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "<b>50</b>") {
		t.Errorf("report does not escape an alarm's text")
	}
}
