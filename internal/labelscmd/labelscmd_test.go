package labelscmd_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/labelscmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
)

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

func TestLabelsBadInputs(t *testing.T) {
	with := func(more ...string) func(testing.TB, string) []string {
		return func(tb testing.TB, dir string) []string { return append([]string{"--db", newLedger(tb, dir)}, more...) }
	}
	steptest.CheckBadInputs(t, labelscmd.Step, []steptest.BadInput{
		{Name: "no ledger at the path", Args: []string{"--db", "sqlite:{dir}/ledgr.db", "--since", "2026-11-29", "--out", "{dir}/out", "--classes", "a,b"},
			Words: []string{"--db sqlite:", "ledgr.db", "no ledger", "no such file"}, NoOutput: []string{"ledgr.db", "out"}},
		{Name: "no since", Setup: with("--out", "{dir}/out", "--classes", "a,b"), Words: []string{"--since"}, NoOutput: []string{"out"}},
		{Name: "a bad since", Setup: with("--since", "yesterday", "--out", "{dir}/out", "--classes", "a,b"), Words: []string{"--since", "want a day"}, NoOutput: []string{"out"}},
		{Name: "classes missing", Setup: with("--since", "2026-11-29", "--out", "{dir}/out", "--classes", "{dir}/classes.json"),
			Words: []string{"--classes", "classes.json", "no such file"}, NoOutput: []string{"out"}},
		{Name: "classes not a class list", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", newLedger(tb, dir), "--since", "2026-11-29", "--out", dir + "/out", "--classes", steptest.WriteFile(tb, dir, "c.json", []byte("{nope"))}
		}, Words: []string{"--classes", "not a class list"}, NoOutput: []string{"out"}},
		{Name: "out a file", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", newLedger(tb, dir), "--since", "2026-11-29", "--out", steptest.WriteFile(tb, dir, "out", nil), "--classes", "a,b"}
		}, Words: []string{"--out", "is a file, want a folder"}},
	})
}
