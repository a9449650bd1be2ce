package resolvecmd_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/resolvecmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
)

// newLedger makes a SQLite ledger in dir with a day of two reviews in the
// queue (m1, m2: a grant pays 500) and one granted automatically (g1).
func newLedger(tb testing.TB, dir string) string {
	tb.Helper()
	dsn := "sqlite:" + filepath.Join(dir, "ledger.db")
	l, err := ledger.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	day := "2026-11-28"
	mk := func(id, decision string, c int64) credit.DecisionRow {
		return credit.DecisionRow{Decision: credit.Decision{ReviewID: id, ReviewType: "product", Decision: decision, Credit: c,
			Reasons: []string{"photo 0: …", "…: " + decision}, Classes: []string{"product"}, Confidences: []float64{0.9}},
			PolicyVersion: "v1", Day: day, GrantCredit: 500}
	}
	if _, err := l.Publish(context.Background(), day, []credit.DecisionRow{
		mk("m1", credit.Manual, 0), mk("m2", credit.Manual, 0), mk("g1", credit.Grant, 500)}); err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// count counts the rows of a table of the ledger at dsn.
func count(tb testing.TB, dsn, table string) int {
	tb.Helper()
	db, err := sql.Open("sqlite", strings.TrimPrefix(dsn, "sqlite:"))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

const header = "review_id,outcome,inspector,decided_at,image_index,image_uri,class_name\n"

func TestResolveBadInputs(t *testing.T) {
	with := func(answers string, more ...string) func(testing.TB, string) []string {
		return func(tb testing.TB, dir string) []string {
			return append([]string{"--db", newLedger(tb, dir), "--answers", steptest.WriteFile(tb, dir, "answers.csv", []byte(answers))}, more...)
		}
	}
	steptest.CheckBadInputs(t, resolvecmd.Step, []steptest.BadInput{
		{Name: "no ledger at the path", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", "sqlite:" + dir + "/ledgr.db", "--answers", steptest.WriteFile(tb, dir, "a.csv", []byte(header+"m1,grant,alice,2026-11-29T10:00:00Z,,,\n"))}
		}, Words: []string{"--db sqlite:", "ledgr.db", "no ledger", "no such file"}, NoOutput: []string{"ledgr.db"}},
		{Name: "a database that is not supported", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", "mysql://u:secret@db/l", "--answers", steptest.WriteFile(tb, dir, "a.csv", []byte(header+"m1,grant,alice,2026-11-29T10:00:00Z,,,\n"))}
		}, Words: []string{"--db mysql://u:xxxxx@db/l", "sqlite:PATH", "postgres://"}},
		{Name: "answers missing", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", newLedger(tb, dir), "--answers", dir + "/none.csv"}
		}, Words: []string{"--answers", "none.csv", "no such file"}},
		{Name: "answers a directory", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", newLedger(tb, dir), "--answers", dir}
		}, Words: []string{"--answers", "is a directory"}},
		{Name: "answers named .parquet, not Parquet", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", newLedger(tb, dir), "--answers", steptest.WriteFile(tb, dir, "a.parquet", []byte(header))}
		}, Words: []string{"--answers", "not a Parquet file", "text"}},
		{Name: "empty file", Setup: with(""), Words: []string{"empty file, want a header row"}},
		{Name: "no rows", Setup: with(header), Words: []string{"no rows", "--allow-empty"}},
		{Name: "a column missing", Setup: with("review_id,inspector,decided_at\nm1,alice,2026-11-29T10:00:00Z\n"), Words: []string{"no column outcome"}},
		{Name: "a bad outcome", Setup: with(header + "m1,grant,alice,2026-11-29T10:00:00Z,,,\nm2,maybe,alice,2026-11-29T10:00:00Z,,,\n"),
			Words: []string{"1 bad row, nothing recorded", "row 2: outcome: \"maybe\", want grant or reject", "--on-bad-row skip"}},
		{Name: "a bad time", Setup: with(header + "m1,grant,alice,29/11/2026,,,\n"),
			Words: []string{"row 1: decided_at", "want a time such as 2026-11-29T14:03:00Z"}},
		{Name: "rows of a review disagree", Setup: with(header +
			"m1,grant,alice,2026-11-29T10:00:00Z,0,s3://p/m1/0.jpg,product\nm1,reject,alice,2026-11-29T10:00:00Z,1,s3://p/m1/1.jpg,product\n"),
			Words: []string{"2 bad rows", "row 2: outcome", "differs from row 1", "row 1: another row of review \"m1\" is bad"}},
		{Name: "a class not of the model", Setup: with(header+"m1,grant,alice,2026-11-29T10:00:00Z,0,s3://p/m1/0.jpg,produkt\n", "--classes", "product,packaging"),
			Words: []string{"row 1: class_name", `"produkt" is not a class of the model`}},
		{Name: "on-bad-row", Setup: with(header+"m1,grant,alice,2026-11-29T10:00:00Z,,,\n", "--on-bad-row", "ignore"), Words: []string{"--on-bad-row", "want fail or skip"}},
	})
	// A refused file records nothing.
	dir := t.TempDir()
	dsn := newLedger(t, dir)
	answers := steptest.WriteFile(t, dir, "a.csv", []byte(header+"m1,grant,alice,2026-11-29T10:00:00Z,,,\nm2,maybe,alice,2026-11-29T10:00:00Z,,,\n"))
	if code, _, _ := steptest.Run(t, resolvecmd.Step, "--db", dsn, "--answers", answers); code != cli.ExitBadInput {
		t.Fatalf("exit %d, want 2", code)
	}
	if n := count(t, dsn, "inspections"); n != 0 {
		t.Errorf("a refused file recorded %d answers", n)
	}
}

func TestResolveSkipBadRows(t *testing.T) {
	dir := t.TempDir()
	dsn := newLedger(t, dir)
	answers := steptest.WriteFile(t, dir, "answers/2026-11-29.csv", []byte(header+
		"m1,grant,alice,2026-11-29T10:00:00Z,0,s3://p/m1/0.jpg,product\n"+
		"m2,maybe,alice,2026-11-29T10:00:00Z,,,\n"+
		"g1,grant,alice,2026-11-29T10:00:00Z,,,\n"+ // decided automatically: a conflict
		"x9,grant,alice,2026-11-29T10:00:00Z,,,\n")) // unknown: a conflict
	run := func() ledger.ResolveFileResult {
		t.Helper()
		code, stdout, stderr := steptest.Run(t, resolvecmd.Step, "--db", dsn, "--answers", answers, "--on-bad-row", "skip")
		if code != cli.ExitOK {
			t.Fatalf("exit %d: %s", code, steptest.LastLine(stderr))
		}
		var res ledger.ResolveFileResult
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("result %q: %v", stdout, err)
		}
		return res
	}
	res := run()
	if res.Applied != 1 || res.Conflicts != 2 || res.BadRows != 1 || res.Grants != 1 || res.CreditsGranted != 500 || res.Rows != 4 || res.PhotoLabels != 1 {
		t.Errorf("result %+v: want 4 rows, 1 bad, 1 applied (a grant of 500 with a photo class), 2 conflicts", res)
	}
	want := filepath.Join(dir, "answers", "2026-11-29.rejected.jsonl")
	if res.RejectedURI != want {
		t.Errorf("rejected rows in %s, want %s", res.RejectedURI, want)
	}
	data, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	var line struct {
		Row                      int
		Column, Reason, ReviewID string `json:",omitempty"`
	}
	if err := json.Unmarshal(data, &line); err != nil || line.Row != 2 || line.Column != "outcome" {
		t.Errorf("rejected.jsonl %s: want row 2, column outcome", data)
	}
	// The same file again changes nothing.
	res = run()
	if res.Applied != 0 || res.Unchanged != 1 || res.Conflicts != 2 {
		t.Errorf("again: %+v, want 1 unchanged and the 2 conflicts", res)
	}
	if n := count(t, dsn, "answer_conflicts"); n != 2 {
		t.Errorf("%d conflicts recorded, want 2", n)
	}
	if n := count(t, dsn, "grants"); n != 2 {
		t.Errorf("%d grants, want 2 (g1 by the policy, m1 by alice)", n)
	}
}
