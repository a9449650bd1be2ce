package ledger

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/credit"
)

var t0 = time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)

// tempDSN is a SQLite ledger in a test's temporary directory.
func tempDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "ledger.db")
}

// postgresDSNEnv names the variable that holds the DSN of a PostgreSQL
// database the tests may use (scripts/test-services.sh exports it). Each
// test gets a schema of its own in it, dropped at the end.
const postgresDSNEnv = "REVIEWLENS_TEST_POSTGRES_DSN"

// backends are the databases every ledger test runs against, by name.
var backends = []struct {
	name string
	dsn  func(testing.TB) string // a fresh, empty ledger
}{
	{"sqlite", tempDSN},
	{"postgres", postgresDSN},
}

// forEachBackend runs f as a subtest for each backend, with the DSN of a
// fresh, empty ledger.
func forEachBackend(t *testing.T, f func(t *testing.T, dsn string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.dsn(t)) })
	}
}

// postgresDSN creates a schema test_<random> in the database that
// REVIEWLENS_TEST_POSTGRES_DSN names, drops it when tb ends, and returns a
// DSN whose search_path is that schema. Without the variable it skips tb,
// or fails it when CI=true, because CI must not pass by skipping.
func postgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(postgresDSNEnv)
	if base == "" {
		const msg = "PostgreSQL not running (" + postgresDSNEnv + " unset); run make test"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", postgresDSNEnv, err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("%s: %v", Redact(base), err)
	}
	tb.Cleanup(func() { db.Close() })
	schema := "test_" + rand.Text()
	schema = strings.ToLower(schema)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
		tb.Fatalf("%s: create schema: %v", Redact(base), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(tb testing.TB, dsn string) *Ledger {
	tb.Helper()
	l, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	l.Now = func() time.Time { return t0 }
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Error(err)
		}
	})
	return l
}

func publish(tb testing.TB, l *Ledger, day string, rows ...credit.DecisionRow) Result {
	tb.Helper()
	res, err := l.Publish(context.Background(), day, rows)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func count(tb testing.TB, l *Ledger, table string) int {
	tb.Helper()
	var n int
	if err := l.db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func row(id, decision string, credits int64, day string) credit.DecisionRow {
	return credit.DecisionRow{
		Decision: credit.Decision{
			ReviewID: id, ReviewType: "product", Decision: decision, Credit: credits,
			Classes: []string{"product"}, Confidences: []float64{0.99},
			Reasons: []string{"photo 0: product 0.99 ≥ 0.95 (grant threshold): qualifies", "any qualifying photo earns the credit: " + decision},
		},
		PolicyVersion: "2026-11-28.1", Model: "model-1", Day: day,
	}
}

func manual(id, day string) credit.DecisionRow {
	r := row(id, credit.Manual, 0, day)
	r.Classes = []string{"product", ""}
	r.Confidences = []float64{0.5, math.NaN()}
	r.Reasons = []string{
		"photo 0: product 0.50 < 0.95 (grant threshold): uncertain",
		"photo 1: no prediction (missing: not found)",
		"photo 1 has no prediction: manual",
	}
	r.TransformJob = ""
	return r
}

func wantCounts(tb testing.TB, l *Ledger, want map[string]int) {
	tb.Helper()
	for table, n := range want {
		if got := count(tb, l, table); got != n {
			tb.Errorf("%s has %d rows, want %d", table, got, n)
		}
	}
}

func TestPublishDayTwice(t *testing.T) { forEachBackend(t, testPublishDayTwice) }

func testPublishDayTwice(t *testing.T, dsn string) {
	l := open(t, dsn)
	rows := []credit.DecisionRow{
		row("r1", credit.Grant, 500, "2026-11-28"),
		row("r2", credit.Reject, 0, "2026-11-28"),
		manual("r3", "2026-11-28"),
	}
	if diff := cmp.Diff(Result{Inserted: 3, Queued: 1, CreditsGranted: 500}, publish(t, l, "2026-11-28", rows...)); diff != "" {
		t.Errorf("first publish (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Result{Unchanged: 3}, publish(t, l, "2026-11-28", rows...)); diff != "" {
		t.Errorf("second publish (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"decisions": 3, "grants": 1, "inspection_queue": 1, "conflicts": 0})
}

func TestGrantOnceAcrossDays(t *testing.T) { forEachBackend(t, testGrantOnceAcrossDays) }

func testGrantOnceAcrossDays(t *testing.T, dsn string) {
	l := open(t, dsn)
	publish(t, l, "2026-11-27", row("r1", credit.Grant, 500, "2026-11-27"))

	// Granted again on another day: a conflict, not a second grant. The
	// second time, the conflict is counted again but recorded once.
	day2 := []credit.DecisionRow{row("r1", credit.Grant, 500, "2026-11-28"), row("r2", credit.Grant, 1000, "2026-11-28")}
	if diff := cmp.Diff(Result{Inserted: 1, Conflicts: 1, CreditsGranted: 1000}, publish(t, l, "2026-11-28", day2...)); diff != "" {
		t.Errorf("grant on a second day (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Result{Unchanged: 1, Conflicts: 1}, publish(t, l, "2026-11-28", day2...)); diff != "" {
		t.Errorf("second day again (-want +got):\n%s", diff)
	}
	// Rejected on a third day: a conflict too.
	if diff := cmp.Diff(Result{Conflicts: 1}, publish(t, l, "2026-11-29", row("r1", credit.Reject, 0, "2026-11-29"))); diff != "" {
		t.Errorf("reject after grant (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"decisions": 2, "grants": 2, "conflicts": 2})
	var day string
	if err := l.db.QueryRow(`SELECT day FROM grants WHERE review_id = 'r1'`).Scan(&day); err != nil {
		t.Fatal(err)
	}
	if day != "2026-11-27" {
		t.Errorf("r1 granted on %s, want 2026-11-27", day)
	}
	var detail string
	if err := l.db.QueryRow(`SELECT detail FROM conflicts WHERE day = '2026-11-29'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if want := "already granted on 2026-11-27 (credit 500, policy 2026-11-28.1)"; detail != want {
		t.Errorf("detail = %q, want %q", detail, want)
	}

	// The database itself refuses a second grant, whatever the Go code does.
	_, err := l.db.Exec(`INSERT INTO decisions (day, review_id, review_type, decision, credit, publication, classes, confidences, reasons)
		VALUES ('2026-11-30', 'r1', 'product', 'grant', 500, 1, '[]', '[]', '[]')`)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unique") {
		t.Errorf("second grant inserted directly: err = %v, want a UNIQUE constraint error", err)
	}
}

func TestChangedDecision(t *testing.T) { forEachBackend(t, testChangedDecision) }

func testChangedDecision(t *testing.T, dsn string) {
	l := open(t, dsn)
	publish(t, l, "2026-11-28", row("r1", credit.Reject, 0, "2026-11-28"))
	if diff := cmp.Diff(Result{Conflicts: 1}, publish(t, l, "2026-11-28", row("r1", credit.Grant, 500, "2026-11-28"))); diff != "" {
		t.Errorf("publish (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"decisions": 1, "grants": 0, "conflicts": 1})
	var decision string
	if err := l.db.QueryRow(`SELECT decision FROM decisions WHERE review_id = 'r1'`).Scan(&decision); err != nil {
		t.Fatal(err)
	}
	if decision != credit.Reject {
		t.Errorf("stored decision %q, want the old %q", decision, credit.Reject)
	}
	var prev, next, detail string
	if err := l.db.QueryRow(`SELECT previous_decision, new_decision, detail FROM conflicts`).Scan(&prev, &next, &detail); err != nil {
		t.Fatal(err)
	}
	if got, want := prev+" "+next, "reject grant"; got != want {
		t.Errorf("conflict %q, want %q", got, want)
	}
	if want := "published again with a different decision (reject → grant) credit (0 → 500) reasons"; detail != want {
		t.Errorf("detail = %q, want %q", detail, want)
	}
}

func TestManualQueuedOnce(t *testing.T) { forEachBackend(t, testManualQueuedOnce) }

func testManualQueuedOnce(t *testing.T, dsn string) {
	l := open(t, dsn)
	r := manual("r1", "2026-11-28")
	if got := publish(t, l, "2026-11-28", r); got.Queued != 1 {
		t.Errorf("first publish queued %d, want 1", got.Queued)
	}
	if got := publish(t, l, "2026-11-28", r); got.Queued != 0 {
		t.Errorf("second publish queued %d, want 0", got.Queued)
	}
	q, err := l.Queue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []QueueItem{{
		ReviewID: "r1", ReviewType: "product", Day: "2026-11-28",
		Reason:      "photo 1 has no prediction: manual",
		Classes:     []string{"product", ""},
		Confidences: []float64{0.5, math.NaN()},
		Reasons:     r.Reasons,
		QueuedAt:    t0,
	}}
	if diff := cmp.Diff(want, q, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("Queue (-want +got):\n%s", diff)
	}
}

func TestQueueOldestFirst(t *testing.T) { forEachBackend(t, testQueueOldestFirst) }

func testQueueOldestFirst(t *testing.T, dsn string) {
	l := open(t, dsn)
	l.Now = func() time.Time { return t0.Add(time.Hour) }
	publish(t, l, "2026-11-28", manual("late", "2026-11-28"))
	l.Now = func() time.Time { return t0.Add(500 * time.Millisecond) }
	publish(t, l, "2026-11-27", manual("early", "2026-11-27"))
	l.Now = func() time.Time { return t0 }
	publish(t, l, "2026-11-26", manual("earliest", "2026-11-26"))
	q, err := l.Queue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range q {
		ids = append(ids, it.ReviewID)
	}
	if diff := cmp.Diff([]string{"earliest", "early", "late"}, ids); diff != "" {
		t.Errorf("queue order (-want +got):\n%s", diff)
	}
}

func TestPublishBadRows(t *testing.T) { forEachBackend(t, testPublishBadRows) }

func testPublishBadRows(t *testing.T, dsn string) {
	l := open(t, dsn)
	for name, rows := range map[string][]credit.DecisionRow{
		"other day":  {row("r1", credit.Grant, 500, "2026-11-27")},
		"duplicate":  {row("r1", credit.Grant, 500, "2026-11-28"), row("r1", credit.Reject, 0, "2026-11-28")},
		"no id":      {row("", credit.Grant, 500, "2026-11-28")},
		"bad choice": {row("r1", "maybe", 0, "2026-11-28")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := l.Publish(context.Background(), "2026-11-28", rows)
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("Publish: err = %v, want a *RowError", err)
			}
			if want := len(rows); re.Row != want {
				t.Errorf("RowError %q names row %d, want %d", re, re.Row, want)
			}
		})
	}
	wantCounts(t, l, map[string]int{"decisions": 0})
}

func TestPublishCanceledLeavesNothing(t *testing.T) {
	forEachBackend(t, testPublishCanceledLeavesNothing)
}

func testPublishCanceledLeavesNothing(t *testing.T, dsn string) {
	l := open(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Publish(ctx, "2026-11-28", []credit.DecisionRow{row("r1", credit.Grant, 500, "")}); err == nil {
		t.Fatal("Publish with a canceled context: no error")
	}
	wantCounts(t, l, map[string]int{"decisions": 0, "grants": 0})
}

func TestFailedPublishLeavesNothing(t *testing.T) { forEachBackend(t, testFailedPublishLeavesNothing) }

func testFailedPublishLeavesNothing(t *testing.T, dsn string) {
	// One connection, so the next publish also shows that the staging
	// table did not outlive the failed one.
	l := open(t, dsn)
	l.db.SetMaxOpenConns(1)
	rows := []credit.DecisionRow{row("r1", credit.Grant, 500, ""), manual("r2", "")}
	boom := errors.New("boom")
	l.beforeCommit = func() error { return boom }
	if _, err := l.Publish(context.Background(), "2026-11-28", rows); !errors.Is(err, boom) {
		t.Fatalf("Publish: err = %v, want %v", err, boom)
	}
	wantCounts(t, l, map[string]int{"decisions": 0, "grants": 0, "inspection_queue": 0, "conflicts": 0})
	l.beforeCommit = nil
	if diff := cmp.Diff(Result{Inserted: 2, Queued: 1, CreditsGranted: 500}, publish(t, l, "2026-11-28", rows...)); diff != "" {
		t.Errorf("publish after the failed one (-want +got):\n%s", diff)
	}
}

func TestMigrateTwice(t *testing.T) { forEachBackend(t, testMigrateTwice) }

func testMigrateTwice(t *testing.T, dsn string) {
	ms, err := migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		l := open(t, dsn)
		wantCounts(t, l, map[string]int{"schema_migrations": len(ms)})
	}
}

func TestMigrateConcurrently(t *testing.T) { forEachBackend(t, testMigrateConcurrently) }

func testMigrateConcurrently(t *testing.T, dsn string) {
	ms, err := migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ledgers := make([]*Ledger, 4)
	errs := make([]error, len(ledgers))
	for i := range ledgers {
		wg.Go(func() { ledgers[i], errs[i] = Open(context.Background(), dsn) })
	}
	wg.Wait()
	for i, l := range ledgers {
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		t.Cleanup(func() { l.Close() })
	}
	wantCounts(t, ledgers[0], map[string]int{"schema_migrations": len(ms)})
}

func TestConcurrentPublishers(t *testing.T) { forEachBackend(t, testConcurrentPublishers) }

func testConcurrentPublishers(t *testing.T, dsn string) {
	a, b := open(t, dsn), open(t, dsn)
	const n = 1234 // more than two batches
	var rows []credit.DecisionRow
	var credits int64
	for i := range n {
		id := fmt.Sprintf("r%04d", i)
		switch i % 3 {
		case 0:
			rows = append(rows, row(id, credit.Grant, 500, "2026-11-28"))
			credits += 500
		case 1:
			rows = append(rows, row(id, credit.Reject, 0, "2026-11-28"))
		default:
			rows = append(rows, manual(id, "2026-11-28"))
		}
	}
	var wg sync.WaitGroup
	results := make([]Result, 2)
	errs := make([]error, 2)
	for i, l := range []*Ledger{a, b} {
		wg.Go(func() { results[i], errs[i] = l.Publish(context.Background(), "2026-11-28", rows) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sum := Result{
		Inserted:       results[0].Inserted + results[1].Inserted,
		Unchanged:      results[0].Unchanged + results[1].Unchanged,
		Conflicts:      results[0].Conflicts + results[1].Conflicts,
		Queued:         results[0].Queued + results[1].Queued,
		CreditsGranted: results[0].CreditsGranted + results[1].CreditsGranted,
	}
	want := Result{Inserted: n, Unchanged: n, Queued: n / 3, CreditsGranted: credits}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("both publishes together (-want +got):\n%s\nresults: %+v", diff, results)
	}
	wantCounts(t, a, map[string]int{"decisions": n, "grants": (n + 2) / 3, "inspection_queue": n / 3, "conflicts": 0})
}

func TestOpenErrors(t *testing.T) {
	// Nothing listens on port 1: the error must not show the password.
	_, err := Open(context.Background(), "postgres://user:secret@127.0.0.1:1/ledger?connect_timeout=5")
	if err == nil {
		t.Error("Open postgres on a closed port: no error")
	} else if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
	if _, err := Open(context.Background(), "mysql://x"); err == nil {
		t.Error("Open mysql: no error")
	}
	if _, err := Open(context.Background(), "sqlite:"); err == nil {
		t.Error("Open sqlite without a path: no error")
	}
}

func TestOpenMemory(t *testing.T) {
	l := open(t, "sqlite::memory:")
	publish(t, l, "2026-11-28", row("r1", credit.Grant, 500, "2026-11-28"), manual("r2", "2026-11-28"))
	wantCounts(t, l, map[string]int{"decisions": 2, "grants": 1, "inspection_queue": 1})
}

func TestDollarPlaceholders(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                               "SELECT 1",
		"INSERT INTO t VALUES (?, ?), (?, ?)":    "INSERT INTO t VALUES ($1, $2), ($3, $4)",
		"SELECT '?', \"a?\", ? WHERE x = '?''?'": "SELECT '?', \"a?\", $1 WHERE x = '?''?'",
	} {
		if got := dollarPlaceholders(in); got != want {
			t.Errorf("dollarPlaceholders(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ name, dsn, want string }{
		{"url password", "postgres://user:secret@host/db", "postgres://user:xxxxx@host/db"},
		{"postgresql scheme", "postgresql://user:secret@host:5432/db?sslmode=require", "postgresql://user:xxxxx@host:5432/db?sslmode=require"},
		{"no password", "postgres://user@host/db", "postgres://user@host/db"},
		{"query password", "postgres://host/db?password=secret&user=u", "postgres://host/db?password=xxxxx&user=u"},
		{"keyword dsn", "host=db user=u password=secret dbname=ledger", "host=db user=u password=xxxxx dbname=ledger"},
		{"keyword quoted", "host=db password='se cret' dbname=ledger", "host=db password=xxxxx dbname=ledger"},
		{"sqlite file", "sqlite:reviewlens.db", "sqlite:reviewlens.db"},
		{"sqlite path", "sqlite:/var/lib/reviewlens/ledger.db", "sqlite:/var/lib/reviewlens/ledger.db"},
		{"sqlite memory", "sqlite::memory:", "sqlite::memory:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.dsn); got != tc.want {
				t.Errorf("Redact(%q) = %q, want %q", tc.dsn, got, tc.want)
			}
		})
	}
}

func TestDecidedOnceAcrossDays(t *testing.T) { forEachBackend(t, testDecidedOnceAcrossDays) }

func testDecidedOnceAcrossDays(t *testing.T, dsn string) {
	l := open(t, dsn)
	publish(t, l, "2026-11-27", row("r1", credit.Reject, 0, "2026-11-27"), manual("r2", "2026-11-27"))
	// Decided again on a later day, even as a grant: a conflict for a
	// person, not a grant.
	day2 := []credit.DecisionRow{row("r1", credit.Grant, 500, "2026-11-28"), row("r2", credit.Grant, 500, "2026-11-28"),
		row("r3", credit.Grant, 500, "2026-11-28")}
	if diff := cmp.Diff(Result{Inserted: 1, Conflicts: 2, CreditsGranted: 500}, publish(t, l, "2026-11-28", day2...)); diff != "" {
		t.Errorf("publish (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"decisions": 3, "grants": 1, "inspection_queue": 1, "conflicts": 2})
	var details []string
	rows, err := l.db.Query(`SELECT previous_decision || ' ' || new_decision || ': ' || detail FROM conflicts ORDER BY review_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		details = append(details, d)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"reject grant: already decided on 2026-11-27: reject (policy 2026-11-28.1)",
		"manual grant: already decided on 2026-11-27: manual (policy 2026-11-28.1)",
	}
	if diff := cmp.Diff(want, details); diff != "" {
		t.Errorf("conflicts (-want +got):\n%s", diff)
	}
}

// bigDay is n decisions of day: a third each grants of 500, rejects and
// manual decisions, ids r00000, r00001, ….
func bigDay(n int, day string) (rows []credit.DecisionRow, credits int64) {
	for i := range n {
		id := fmt.Sprintf("r%05d", i)
		switch i % 3 {
		case 0:
			rows = append(rows, row(id, credit.Grant, 500, day))
			credits += 500
		case 1:
			rows = append(rows, row(id, credit.Reject, 0, day))
		default:
			rows = append(rows, manual(id, day))
		}
	}
	return rows, credits
}

func TestNewDayMeetsDecidedReviews(t *testing.T) { forEachBackend(t, testNewDayMeetsDecidedReviews) }

// A new day loads in chunks; reviews decided on another day, in a chunk
// past the first, are taken out of it and recorded.
func testNewDayMeetsDecidedReviews(t *testing.T, dsn string) {
	l := open(t, dsn)
	// r09000 (a grant in the big day) and r09001 (a reject) were granted
	// the day before; r09002 (manual) was rejected.
	publish(t, l, "2026-11-27", row("r09000", credit.Grant, 500, "2026-11-27"),
		row("r09001", credit.Grant, 500, "2026-11-27"), row("r09002", credit.Reject, 0, "2026-11-27"))
	const n = 3 * firstChunkRows
	rows, credits := bigDay(n, "2026-11-28")
	want := Result{Inserted: n - 3, Conflicts: 3, Queued: n/3 - 1, CreditsGranted: credits - 500}
	if diff := cmp.Diff(want, publish(t, l, "2026-11-28", rows...)); diff != "" {
		t.Errorf("publish (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"decisions": n, "grants": n/3 + 1, "inspection_queue": n/3 - 1, "conflicts": 3})
	// Again: everything stored is unchanged, the three are conflicts again,
	// recorded once.
	if diff := cmp.Diff(Result{Unchanged: n - 3, Conflicts: 3}, publish(t, l, "2026-11-28", rows...)); diff != "" {
		t.Errorf("publish again (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"decisions": n, "conflicts": 3})
}

func TestPublishDayAgainChanged(t *testing.T) { forEachBackend(t, testPublishDayAgainChanged) }

// A day published before is merged: unchanged, changed, decided on
// another day and new rows at once.
func testPublishDayAgainChanged(t *testing.T, dsn string) {
	l := open(t, dsn)
	publish(t, l, "2026-11-27", row("old", credit.Grant, 500, "2026-11-27"))
	publish(t, l, "2026-11-28", row("same", credit.Reject, 0, "2026-11-28"), row("changed", credit.Reject, 0, "2026-11-28"))
	changed := row("changed", credit.Reject, 0, "2026-11-28")
	changed.Reasons = []string{"another reason"}
	res := publish(t, l, "2026-11-28", row("same", credit.Reject, 0, "2026-11-28"), changed,
		row("old", credit.Reject, 0, "2026-11-28"), row("new", credit.Grant, 300, "2026-11-28"), manual("new2", "2026-11-28"))
	if diff := cmp.Diff(Result{Inserted: 2, Unchanged: 1, Conflicts: 2, Queued: 1, CreditsGranted: 300}, res); diff != "" {
		t.Errorf("publish (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"decisions": 5, "grants": 2, "inspection_queue": 1, "conflicts": 2})
	var detail string
	if err := l.db.QueryRow(`SELECT detail FROM conflicts WHERE review_id = 'old'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if want := "already granted on 2026-11-27 (credit 500, policy 2026-11-28.1)"; detail != want {
		t.Errorf("detail = %q, want %q", detail, want)
	}
	if err := l.db.QueryRow(`SELECT detail FROM conflicts WHERE review_id = 'changed'`).Scan(&detail); err != nil {
		t.Fatal(err)
	}
	if want := "published again with a different reasons"; detail != want {
		t.Errorf("detail = %q, want %q", detail, want)
	}
	// The publications record what each publish stored.
	var pubs, stored int
	if err := l.db.QueryRow(`SELECT COUNT(*), SUM(decisions) FROM publications`).Scan(&pubs, &stored); err != nil {
		t.Fatal(err)
	}
	if pubs != 3 || stored != 5 {
		t.Errorf("%d publications of %d decisions, want 3 of 5", pubs, stored)
	}
}

func TestPublishDuplicateReview(t *testing.T) { forEachBackend(t, testPublishDuplicateReview) }

func testPublishDuplicateReview(t *testing.T, dsn string) {
	l := open(t, dsn)
	rows, _ := bigDay(2*firstChunkRows, "2026-11-28")
	for name, tc := range map[string]struct {
		dup, of int // rows[dup] repeats rows[of]
	}{
		"same chunk":     {dup: 10, of: 3},
		"later chunk":    {dup: firstChunkRows + 5, of: 7},
		"first and last": {dup: len(rows) - 1, of: 0},
	} {
		t.Run(name, func(t *testing.T) {
			rs := slices.Clone(rows)
			rs[tc.dup].ReviewID = rs[tc.of].ReviewID
			_, err := l.Publish(context.Background(), "2026-11-28", rs)
			var re *RowError
			if !errors.As(err, &re) {
				t.Fatalf("Publish: err = %v, want a *RowError", err)
			}
			want := &RowError{Row: tc.dup + 1, ReviewID: rs[tc.of].ReviewID,
				Reason: fmt.Sprintf("already in row %d: a review is decided once a day", tc.of+1)}
			if diff := cmp.Diff(want, re); diff != "" {
				t.Errorf("RowError (-want +got):\n%s", diff)
			}
		})
	}
	// Also on a day published before (the staging table's key).
	publish(t, l, "2026-11-28", row("r1", credit.Grant, 500, "2026-11-28"))
	_, err := l.Publish(context.Background(), "2026-11-28", []credit.DecisionRow{
		row("r2", credit.Grant, 500, "2026-11-28"), row("r3", credit.Grant, 500, "2026-11-28"), row("r2", credit.Reject, 0, "2026-11-28")})
	var re *RowError
	if !errors.As(err, &re) || re.Row != 3 || re.ReviewID != "r2" {
		t.Errorf("Publish of a day published before, r2 twice: err = %v, want row 3, review r2", err)
	}
	wantCounts(t, l, map[string]int{"decisions": 1})
}

func TestMigrateFromSchema1(t *testing.T) { forEachBackend(t, testMigrateFromSchema1) }

// Schema 1 kept a review's decisions of several days, the grants and the
// queue as tables of their own; migration 0002 keeps one decision a
// review (its grant, else its first) and makes the rest conflicts.
func testMigrateFromSchema1(t *testing.T, dsn string) {
	ctx := context.Background()
	old, err := openTo(ctx, dsn, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	const (
		t1 = "2026-11-27T06:00:00.000000000Z"
		t2 = "2026-11-28T06:00:00.000000000Z"
	)
	for _, q := range []string{
		`INSERT INTO decisions VALUES ('r1', '2026-11-27', 'product', 'reject', 0, 'p1', 'm1', NULL, '["product"]', '[0.2]', '["low"]', '` + t1 + `')`,
		`INSERT INTO decisions VALUES ('r1', '2026-11-28', 'product', 'grant', 500, 'p1', 'm1', NULL, '["product"]', '[0.99]', '["high"]', '` + t2 + `')`,
		`INSERT INTO grants VALUES ('r1', '2026-11-28', 500, 'p1', '` + t2 + `')`,
		`INSERT INTO decisions VALUES ('r2', '2026-11-27', 'product', 'manual', 0, 'p1', 'm1', NULL, '[null]', '[null]', '["none"]', '` + t1 + `')`,
		`INSERT INTO inspection_queue VALUES ('r2', '2026-11-27', 'product', 'none', '[null]', '[null]', '["none"]', '` + t1 + `', '` + t2 + `')`,
		`INSERT INTO decisions VALUES ('r3', '2026-11-27', 'product', 'manual', 0, 'p1', 'm1', NULL, '["product"]', '[0.5]', '["maybe"]', '` + t1 + `')`,
		`INSERT INTO inspection_queue VALUES ('r3', '2026-11-27', 'product', 'maybe', '["product"]', '[0.5]', '["maybe"]', '` + t1 + `', NULL)`,
	} {
		if _, err := old.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	l := open(t, dsn)
	wantCounts(t, l, map[string]int{"decisions": 3, "grants": 1, "publications": 2, "inspections": 1, "conflicts": 1})
	var day, decision string
	if err := l.db.QueryRow(`SELECT day, decision FROM decisions WHERE review_id = 'r1'`).Scan(&day, &decision); err != nil {
		t.Fatal(err)
	}
	if day != "2026-11-28" || decision != credit.Grant {
		t.Errorf("r1 kept %s of %s, want the grant of 2026-11-28", decision, day)
	}
	var conflict string
	if err := l.db.QueryRow(`SELECT day || ' ' || previous_decision || ' ' || new_decision || ': ' || detail FROM conflicts`).Scan(&conflict); err != nil {
		t.Fatal(err)
	}
	if want := "2026-11-27 grant reject: already decided on 2026-11-28 (kept by migration 0002)"; conflict != want {
		t.Errorf("conflict %q, want %q", conflict, want)
	}
	q, err := l.Queue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].ReviewID != "r3" || q[0].Reason != "maybe" || !q[0].QueuedAt.Equal(time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("queue after migration: %+v, want r3 alone, queued at %s", q, t1)
	}
	// The migrated ledger publishes on: r1 is decided already.
	if diff := cmp.Diff(Result{Inserted: 1, Conflicts: 1, CreditsGranted: 500}, publish(t, l, "2026-11-29",
		row("r1", credit.Grant, 500, "2026-11-29"), row("r4", credit.Grant, 500, "2026-11-29"))); diff != "" {
		t.Errorf("publish after migration (-want +got):\n%s", diff)
	}
}

func TestWithConnectTimeout(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:p@h/db", "postgres://u:p@h/db?connect_timeout=15"},
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?connect_timeout=15&sslmode=disable"},
		{"postgresql://h/db?connect_timeout=3", "postgresql://h/db?connect_timeout=3"},
	}
	for _, tt := range tests {
		if got := withConnectTimeout(tt.in); got != tt.want {
			t.Errorf("withConnectTimeout(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
