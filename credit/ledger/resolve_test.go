package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/credit"
)

// queued is a manual decision whose grant pays gc.
func queued(id, day string, gc int64) credit.DecisionRow {
	r := manual(id, day)
	r.GrantCredit = gc
	return r
}

// audited is an audit of an automatic decision auto, whose grant pays 500.
func audited(id, day, auto string) credit.DecisionRow {
	r := row(id, auto, 0, day)
	if auto == credit.Grant {
		r.Credit = 500
	}
	a := credit.Audit(r.Decision, day, 1)
	r.Decision, r.GrantCredit = a, 500
	return r
}

var decidedAt = time.Date(2026, 11, 29, 14, 3, 0, 0, time.UTC)

func answer(id, outcome string, photos ...PhotoLabel) Answer {
	return Answer{ReviewID: id, Outcome: outcome, Inspector: "alice", DecidedAt: decidedAt, Photos: photos}
}

func resolve(tb testing.TB, l *Ledger, answers ...Answer) ResolveResult {
	tb.Helper()
	res, err := l.Resolve(context.Background(), "answers.csv", answers)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// grantsOf returns each review's grants as "review credit by", in order,
// and fails tb when a review has more than one.
func grantsOf(tb testing.TB, l *Ledger) []string {
	tb.Helper()
	rows, err := l.db.Query(`SELECT review_id, credit, granted_by FROM grants ORDER BY review_id, granted_by`)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var out []string
	seen := map[string]bool{}
	for rows.Next() {
		var (
			id, by string
			c      int64
		)
		if err := rows.Scan(&id, &c, &by); err != nil {
			tb.Fatal(err)
		}
		if seen[id] {
			tb.Errorf("review %s granted twice", id)
		}
		seen[id] = true
		out = append(out, fmt.Sprintf("%s %d %s", id, c, by))
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestResolveGrantsOnce(t *testing.T) { forEachBackend(t, testResolveGrantsOnce) }

// A person's grant is a grant in the same view as the policy's, once:
// answers on reviews decided automatically, unknown or closed otherwise
// are conflicts, recorded once; the same answers again change nothing.
func testResolveGrantsOnce(t *testing.T, dsn string) {
	l := open(t, dsn)
	day := "2026-11-28"
	pub := publish(t, l, day, row("auto", credit.Grant, 500, day), row("rej", credit.Reject, 0, day),
		queued("m1", day, 500), queued("m2", day, 1000), audited("a1", day, credit.Grant), audited("a2", day, credit.Reject))
	if diff := cmp.Diff(Result{Inserted: 6, Queued: 4, Audits: 2, CreditsGranted: 500}, pub); diff != "" {
		t.Errorf("publish (-want +got):\n%s", diff)
	}
	answers := []Answer{
		answer("m1", credit.Grant), answer("m2", credit.Reject),
		answer("a1", credit.Reject), // the policy's grant overturned
		answer("a2", credit.Grant),  // and its reject
		answer("auto", credit.Grant), answer("rej", credit.Grant), answer("nobody", credit.Grant),
	}
	want := ResolveResult{Answers: 7, Applied: 4, Conflicts: 3, Grants: 2, Rejects: 2, CreditsGranted: 1000, Audits: 2, Overturned: 2}
	if diff := cmp.Diff(want, resolve(t, l, answers...)); diff != "" {
		t.Errorf("resolve (-want +got):\n%s", diff)
	}
	wantGrants := []string{"a2 500 inspector", "auto 500 policy", "m1 500 inspector"}
	if diff := cmp.Diff(wantGrants, grantsOf(t, l)); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"inspection_queue": 0, "inspections": 4, "answer_conflicts": 3})

	// The same file again: nothing changes, the conflicts are counted
	// again and recorded once.
	if diff := cmp.Diff(ResolveResult{Answers: 7, Unchanged: 4, Conflicts: 3}, resolve(t, l, answers...)); diff != "" {
		t.Errorf("resolve again (-want +got):\n%s", diff)
	}
	// Another answer on a closed review: a conflict, the first answer
	// stands.
	other := answer("m1", credit.Reject)
	other.Inspector = "bob"
	if diff := cmp.Diff(ResolveResult{Answers: 1, Conflicts: 1}, resolve(t, l, other)); diff != "" {
		t.Errorf("resolve m1 otherwise (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantGrants, grantsOf(t, l)); diff != "" {
		t.Errorf("grants at the end (-want +got):\n%s", diff)
	}
	var details []string
	rows, err := l.db.Query(`SELECT review_id || ' ' || ledger || ': ' || detail FROM answer_conflicts ORDER BY review_id`)
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
	rows.Close()
	wantDetails := []string{
		"auto grant: decided automatically on 2026-11-28: grant (credit 500)",
		"m1 closed: grant: already closed on 2026-11-29 by alice: grant",
		"nobody unknown: no decision of this review in the ledger: an unknown review, or its day is not published yet",
		"rej reject: decided automatically on 2026-11-28: reject",
	}
	if diff := cmp.Diff(wantDetails, details); diff != "" {
		t.Errorf("answer_conflicts (-want +got):\n%s", diff)
	}
	// Publishing the day again changes nothing either.
	if got := publish(t, l, day, row("auto", credit.Grant, 500, day), row("rej", credit.Reject, 0, day),
		queued("m1", day, 500), queued("m2", day, 1000), audited("a1", day, credit.Grant), audited("a2", day, credit.Reject)); got.Unchanged != 6 {
		t.Errorf("publish again: %+v, want 6 unchanged", got)
	}
	wantCounts(t, l, map[string]int{"inspection_queue": 0})
}

func TestDatabaseGrantsOnce(t *testing.T) { forEachBackend(t, testDatabaseGrantsOnce) }

// The database itself keeps a review to one grant, whatever the Go code
// does: an inspection of a review decided automatically is refused, and a
// decision a person closed cannot change.
func testDatabaseGrantsOnce(t *testing.T, dsn string) {
	l := open(t, dsn)
	day := "2026-11-28"
	publish(t, l, day, row("auto", credit.Grant, 500, day), queued("m1", day, 500))
	resolve(t, l, answer("m1", credit.Grant))
	_, err := l.db.Exec(`INSERT INTO inspections (review_id, outcome, credit, inspector, closed_at) VALUES ('auto', 'grant', 500, 'mallory', 'x')`)
	if err == nil || !strings.Contains(err.Error(), "manual decisions only") {
		t.Errorf("inspection of an automatic grant inserted directly: err = %v, want the trigger's refusal", err)
	}
	_, err = l.db.Exec(`UPDATE decisions SET decision = 'grant', credit = 500 WHERE review_id = 'm1'`)
	if err == nil || !strings.Contains(err.Error(), "keeps its manual decision") {
		t.Errorf("closed decision turned into a grant: err = %v, want the trigger's refusal", err)
	}
	_, err = l.db.Exec(`INSERT INTO inspections (review_id, outcome, credit, inspector, closed_at) VALUES ('m1', 'grant', 500, 'mallory', 'x')`)
	if err == nil {
		t.Errorf("second inspection of m1 inserted directly")
	}
	_, err = l.db.Exec(`INSERT INTO decisions (day, review_id, review_type, decision, credit, publication, classes, confidences, reasons)
		VALUES ('2026-11-30', 'm1', 'product', 'grant', 500, 1, '[]', '[]', '[]')`)
	if err == nil {
		t.Errorf("automatic grant of m1 inserted directly")
	}
	if diff := cmp.Diff([]string{"auto 500 policy", "m1 500 inspector"}, grantsOf(t, l)); diff != "" {
		t.Errorf("grants (-want +got):\n%s", diff)
	}
}

func TestResolvePhotoLabels(t *testing.T) { forEachBackend(t, testResolvePhotoLabels) }

func testResolvePhotoLabels(t *testing.T, dsn string) {
	l := open(t, dsn)
	day := "2026-11-28"
	publish(t, l, day, queued("m1", day, 500), queued("m2", day, 500))
	photos := []PhotoLabel{{Index: 1, ImageURI: "s3://photos/m1/1.jpg", Class: "packaging"}, {Index: 0, ImageURI: "s3://photos/m1/0.jpg", Class: "product"}}
	if got := resolve(t, l, answer("m1", credit.Grant, photos...)); got.Applied != 1 || got.PhotoLabels != 2 {
		t.Errorf("resolve: %+v, want 1 applied with 2 photo labels", got)
	}
	// The same classes in another order: unchanged.
	if got := resolve(t, l, answer("m1", credit.Grant, photos[1], photos[0])); got.Unchanged != 1 {
		t.Errorf("resolve again: %+v, want 1 unchanged", got)
	}
	// Other classes: a conflict.
	if got := resolve(t, l, answer("m1", credit.Grant, photos[1])); got.Conflicts != 1 {
		t.Errorf("resolve with other classes: %+v, want 1 conflict", got)
	}
	wantCounts(t, l, map[string]int{"inspection_photos": 2})
	// An answer that breaks the rules fails whole.
	_, err := l.Resolve(context.Background(), "", []Answer{answer("m2", credit.Grant), answer("m2", credit.Reject)})
	var ae *AnswerError
	if !errors.As(err, &ae) || ae.Row != 2 || ae.Column != "review_id" {
		t.Errorf("m2 answered twice: err = %v, want an *AnswerError on row 2, review_id", err)
	}
	_, err = l.Resolve(context.Background(), "", []Answer{answer("m2", "maybe")})
	if !errors.As(err, &ae) || ae.Column != "outcome" {
		t.Errorf("outcome maybe: err = %v, want an *AnswerError on outcome", err)
	}
	wantCounts(t, l, map[string]int{"inspections": 1, "inspection_queue": 1})
}

func TestResolveUnknownGrantCredit(t *testing.T) { forEachBackend(t, testResolveUnknownGrantCredit) }

// A manual decision published without what its grant pays can be
// rejected by a person, not granted.
func testResolveUnknownGrantCredit(t *testing.T, dsn string) {
	l := open(t, dsn)
	day := "2026-11-28"
	publish(t, l, day, queued("m1", day, -1), queued("m2", day, -1))
	got := resolve(t, l, answer("m1", credit.Grant), answer("m2", credit.Reject))
	if diff := cmp.Diff(ResolveResult{Answers: 2, Applied: 1, Rejects: 1, Conflicts: 1}, got); diff != "" {
		t.Errorf("resolve (-want +got):\n%s", diff)
	}
	wantCounts(t, l, map[string]int{"grants": 0, "inspection_queue": 1})
}

func TestAuditQueuedBlind(t *testing.T) { forEachBackend(t, testAuditQueuedBlind) }

// An audit waits in the queue without the model's view.
func testAuditQueuedBlind(t *testing.T, dsn string) {
	l := open(t, dsn)
	day := "2026-11-28"
	publish(t, l, day, audited("a1", day, credit.Grant))
	q, err := l.Queue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || !q[0].Audit || len(q[0].Classes) != 0 || len(q[0].Confidences) != 0 || !strings.HasPrefix(q[0].Reason, "audit:") {
		t.Errorf("queue = %+v, want a1 as a blind audit", q)
	}
	var auto string
	if err := l.db.QueryRow(`SELECT auto_decision FROM decisions WHERE review_id = 'a1'`).Scan(&auto); err != nil || auto != credit.Grant {
		t.Errorf("a1's automatic decision = %q, %v; want grant", auto, err)
	}
	// A row that says it is an audit must be one.
	bad := audited("a2", day, credit.Grant)
	bad.AutoDecision = ""
	if _, err := l.Publish(context.Background(), day, []credit.DecisionRow{bad}); err == nil {
		t.Errorf("publish of an audit without its automatic decision: no error")
	}
}

func TestResolveRacesPublish(t *testing.T) { forEachBackend(t, testResolveRacesPublish) }

// A resolve and a publish at once, on ledgers of their own: each credit is
// granted once whichever goes first.
func testResolveRacesPublish(t *testing.T, dsn string) {
	const n = 60
	for round := range 4 {
		l, other := open(t, dsn), open(t, dsn)
		day1 := fmt.Sprintf("2026-11-%02d", 1+2*round)
		day2 := fmt.Sprintf("2026-11-%02d", 2+2*round)
		var day1Rows, day2Rows []credit.DecisionRow
		var answers []Answer
		for i := range n {
			id := fmt.Sprintf("r%d-%03d", round, i)
			day1Rows = append(day1Rows, queued(id, day1, 500))
			// The next day decides the same reviews as grants: conflicts.
			day2Rows = append(day2Rows, row(id, credit.Grant, 500, day2))
			answers = append(answers, answer(id, credit.Grant))
		}
		day2Rows = append(day2Rows, row(fmt.Sprintf("r%d-new", round), credit.Grant, 700, day2))

		// Race 1: the day is published while its answers arrive.
		var (
			wg        sync.WaitGroup
			res       ResolveResult
			pub       Result
			rErr, pEr error
		)
		wg.Go(func() { pub, pEr = other.Publish(context.Background(), day1, day1Rows) })
		wg.Go(func() { res, rErr = l.Resolve(context.Background(), "answers.csv", answers) })
		wg.Wait()
		if rErr != nil || pEr != nil {
			t.Fatalf("round %d: resolve: %v; publish: %v", round, rErr, pEr)
		}
		if pub.Inserted != n {
			t.Errorf("round %d: publish %+v, want %d inserted", round, pub, n)
		}
		t.Logf("round %d: answers applied %d, conflicts %d (the publish went %s)", round, res.Applied, res.Conflicts, map[bool]string{true: "first", false: "second"}[res.Applied == n])
		// The answers came all before the day (conflicts: unknown
		// reviews) or all after it (applied): one transaction each.
		if !(res.Applied == n && res.Conflicts == 0) && !(res.Applied == 0 && res.Conflicts == n) {
			t.Errorf("round %d: resolve %+v, want all %d applied or all conflicts", round, res, n)
		}
		// Race 2: the next day grants the same reviews while the answers
		// are resolved again.
		wg.Go(func() { pub, pEr = other.Publish(context.Background(), day2, day2Rows) })
		wg.Go(func() { res, rErr = l.Resolve(context.Background(), "answers.csv", answers) })
		wg.Wait()
		if rErr != nil || pEr != nil {
			t.Fatalf("round %d: resolve: %v; publish: %v", round, rErr, pEr)
		}
		if pub.Conflicts != n || pub.Inserted != 1 {
			t.Errorf("round %d: second day %+v, want %d conflicts and 1 inserted", round, pub, n)
		}
		if res.Applied+res.Unchanged != n {
			t.Errorf("round %d: resolve again %+v, want %d applied or unchanged", round, res, n)
		}
	}
	// Every review granted once: by the person for the queued ones, by
	// the policy for the new ones.
	l := open(t, dsn)
	grants := grantsOf(t, l)
	var people, policy int
	for _, g := range grants {
		if strings.HasSuffix(g, " inspector") {
			people++
		} else {
			policy++
		}
	}
	if people != 4*n || policy != 4 {
		t.Errorf("%d grants by people and %d by the policy, want %d and 4", people, policy, 4*n)
	}
	var credits int64
	if err := l.db.QueryRow(`SELECT SUM(credit) FROM grants`).Scan(&credits); err != nil {
		t.Fatal(err)
	}
	if want := int64(4*n*500 + 4*700); credits != want {
		t.Errorf("credits granted %d, want %d", credits, want)
	}
}

func TestMigrateGrantCredit(t *testing.T) { forEachBackend(t, testMigrateGrantCredit) }

// Migration 0003 fills in what a grant of a manual decision published
// before pays, from the grants of its review type under its policy.
func testMigrateGrantCredit(t *testing.T, dsn string) {
	ctx := context.Background()
	old, err := openTo(ctx, dsn, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	const at = "2026-11-27T06:00:00.000000000Z"
	for _, q := range []string{
		`INSERT INTO publications VALUES (1, '2026-11-27', 'p1', NULL, NULL, '` + at + `', 5)`,
		`INSERT INTO publications VALUES (2, '2026-11-27', 'p2', NULL, NULL, '` + at + `', 1)`,
		`INSERT INTO decisions VALUES ('g1', '2026-11-27', 'product', 'grant', 500, 1, '[]', '[]', '[]')`,
		`INSERT INTO decisions VALUES ('g2', '2026-11-27', 'style', 'grant', 1000, 1, '[]', '[]', '[]')`,
		`INSERT INTO decisions VALUES ('m1', '2026-11-27', 'product', 'manual', 0, 1, '[]', '[]', '[]')`,
		`INSERT INTO decisions VALUES ('m2', '2026-11-27', 'style', 'manual', 0, 1, '[]', '[]', '[]')`,
		`INSERT INTO decisions VALUES ('j1', '2026-11-27', 'product', 'reject', 0, 1, '[]', '[]', '[]')`,
		`INSERT INTO decisions VALUES ('m3', '2026-11-27', 'product', 'manual', 0, 2, '[]', '[]', '[]')`, // no grant under p2
	} {
		if _, err := old.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()
	l := open(t, dsn)
	got := map[string]string{}
	rows, err := l.db.Query(`SELECT review_id, COALESCE(CAST(grant_credit AS TEXT), 'null') FROM decisions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, gc string
		if err := rows.Scan(&id, &gc); err != nil {
			t.Fatal(err)
		}
		got[id] = gc
	}
	rows.Close()
	want := map[string]string{"g1": "500", "g2": "1000", "m1": "500", "m2": "1000", "j1": "null", "m3": "null"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("grant_credit after migration (-want +got):\n%s", diff)
	}
	// The day published again from its old decisions file (no grant
	// credits): nothing changes.
	old1 := func(id, decision, typ string, c int64) credit.DecisionRow {
		return credit.DecisionRow{Decision: credit.Decision{ReviewID: id, ReviewType: typ, Decision: decision, Credit: c},
			PolicyVersion: "p1", Day: "2026-11-27", GrantCredit: -1}
	}
	if got := publish(t, l, "2026-11-27", old1("g1", credit.Grant, "product", 500), old1("g2", credit.Grant, "style", 1000),
		old1("m1", credit.Manual, "product", 0), old1("j1", credit.Reject, "product", 0)); got.Unchanged != 4 {
		t.Errorf("the old day published again: %+v, want 4 unchanged", got)
	}
	if res := resolve(t, l, answer("m1", credit.Grant), answer("m3", credit.Grant)); res.Applied != 1 || res.Conflicts != 1 || res.CreditsGranted != 500 {
		t.Errorf("resolve after migration: %+v, want m1 granted 500, m3 a conflict", res)
	}
}
