package publishcmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/manifest"
)

func writeDecisions(tb testing.TB, dir string) string {
	tb.Helper()
	var buf bytes.Buffer
	rows := []credit.DecisionRow{{Decision: credit.Decision{ReviewID: "r-1", ReviewType: "style", Decision: credit.Grant, Credit: 1000,
		Reasons: []string{"photo 0: qualifies"}, Classes: []string{"full-length"}, Confidences: []float64{0.99}}, PolicyVersion: "v1", Day: "2026-11-28"}}
	if err := credit.WriteDecisions(&buf, rows); err != nil {
		tb.Fatal(err)
	}
	return steptest.WriteFile(tb, dir, "decisions.parquet", buf.Bytes())
}

func TestPublishBadInputs(t *testing.T) {
	pub := func(more ...string) func(testing.TB, string) []string {
		return func(tb testing.TB, dir string) []string {
			return append([]string{"--decisions", writeDecisions(tb, dir)}, more...)
		}
	}
	steptest.CheckBadInputs(t, publishcmd.PublishStep, []steptest.BadInput{
		{Name: "a database that is not supported", Setup: pub("--db", "mysql://u:secret@db/ledger"),
			Words: []string{"--db mysql://u:xxxxx@db/ledger", `"mysql"`, "sqlite:PATH", "postgres://"}},
		{Name: "decisions missing", Args: []string{"--decisions", "{dir}/none.parquet", "--db", "sqlite:{dir}/l.db"},
			Words: []string{"--decisions", "no such file"}, NoOutput: []string{"l.db"}},
		{Name: "decisions in a folder without them", Args: []string{"--decisions", "{dir}", "--db", "sqlite:{dir}/l.db"},
			Words: []string{"--decisions", "is a directory with no decisions.parquet"}, NoOutput: []string{"l.db"}},
		{Name: "decisions not Parquet (no .parquet name)", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--decisions", steptest.WriteFile(tb, dir, "decisions", []byte("review_id,decision\n")), "--db", "sqlite:" + dir + "/l.db"}
		}, Words: []string{"--decisions", "not a Parquet file", "text"}, NoOutput: []string{"l.db"}},
		{Name: "decisions of another table", Setup: func(tb testing.TB, dir string) []string {
			var buf bytes.Buffer
			if err := manifest.WriteLabels(&buf, []manifest.LabelRow{{SourceRef: "s3://b/k.jpg", ClassName: "product", Split: "train"}}); err != nil {
				tb.Fatal(err)
			}
			return []string{"--decisions", steptest.WriteFile(tb, dir, "d.parquet", buf.Bytes()), "--db", "sqlite:" + dir + "/l.db"}
		}, Words: []string{"--decisions", `"labels" table, want "decisions"`}, NoOutput: []string{"l.db"}},
	})
}

func TestQueueBadInputs(t *testing.T) {
	steptest.CheckBadInputs(t, publishcmd.QueueStep, []steptest.BadInput{
		{Name: "no ledger at the path", Args: []string{"--db", "sqlite:{dir}/ledgr.db", "--out", "{dir}/q.csv"},
			Words: []string{"--db sqlite:", "ledgr.db", "no ledger", "no such file"}, NoOutput: []string{"ledgr.db", "q.csv"}},
		{Name: "an empty file", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", "sqlite:" + steptest.WriteFile(tb, dir, "empty.db", nil), "--out", dir + "/q.csv"}
		}, Words: []string{"no ledger", "an empty file"}, NoOutput: []string{"q.csv"}},
		{Name: "a file that is not a database", Setup: func(tb testing.TB, dir string) []string {
			return []string{"--db", "sqlite:" + steptest.WriteFile(tb, dir, "notes.txt", []byte("hello\n")), "--out", dir + "/q.csv"}
		}, Words: []string{"no ledger", "not a SQLite database"}, NoOutput: []string{"q.csv"}},
		{Name: "a database that is not supported", Args: []string{"--db", "mysql://db/ledger", "--out", "{dir}/q.csv"},
			Words: []string{"sqlite:PATH", "postgres://"}, NoOutput: []string{"q.csv"}},
		{Name: "out is a directory", Args: []string{"--db", "sqlite:{dir}/l.db", "--out", "{dir}"},
			Words: []string{"--out"}},
	})
	// The queue step created nothing above.
	dir := t.TempDir()
	if code, _, _ := steptest.Run(t, publishcmd.QueueStep, "--db", "sqlite:"+filepath.Join(dir, "typo.db"), "--out", filepath.Join(dir, "q.csv")); code != cli.ExitBadInput {
		t.Fatalf("queue on a missing ledger: exit %d, want 2", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); err == nil {
		t.Errorf("queue created a ledger at a mistyped path")
	}
}

// TestStalledDatabase: a PostgreSQL server that accepts the connection and
// never answers fails the step as transient (exit 75) within its connect
// timeout, for publish and queue alike.
func TestStalledDatabase(t *testing.T) {
	addr := testenv.BlackHole(t)
	dsn := "postgres://u:secret@" + addr + "/ledger?connect_timeout=1&sslmode=disable"
	for _, tc := range []struct {
		step cli.Step
		args []string
	}{
		{publishcmd.PublishStep, []string{"--decisions", writeDecisions(t, t.TempDir()), "--db", dsn}},
		{publishcmd.QueueStep, []string{"--db", dsn, "--out", filepath.Join(t.TempDir(), "q.csv")}},
	} {
		t.Run(tc.step.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			code, _, stderr := steptest.RunContext(ctx, t, tc.step, tc.args...)
			if code != cli.ExitTransient {
				t.Fatalf("exit %d, want %d (transient): %s", code, cli.ExitTransient, steptest.LastLine(stderr))
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %s for a 1 s connect timeout", d)
			}
			if msg := steptest.LastLine(stderr); !bytes.Contains([]byte(msg), []byte("did not answer in time")) || bytes.Contains([]byte(stderr), []byte("secret")) {
				t.Errorf("message %q: want it to say the database did not answer, without the password", msg)
			}
		})
	}
}
