package ledger_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
	"github.com/reviewlens/reviewlens/internal/testenv"
)

// The test binary doubles as the publish binary: with this variable set it
// runs `reviewlens-publish` (the command around PublishFile) with the
// arguments in it and exits, so a test can start publishers as processes
// and kill them.
const childEnv = "REVIEWLENS_PUBLISH_CHILD_ARGS"

// With pauseEnv set to a row number, the child publisher stops reading at
// that row, says pausedMarker on stderr and waits to be killed; its loader
// goes on loading the chunks read before, in its open transaction.
const (
	pauseEnv     = "REVIEWLENS_PUBLISH_CHILD_PAUSE_AT"
	pausedMarker = "paused in the middle of the load"
)

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if at, err := strconv.Atoi(os.Getenv(pauseEnv)); err == nil {
			ledger.SetRowHook(func(n int) {
				if n == at {
					fmt.Fprintln(os.Stderr, pausedMarker)
					select {}
				}
			})
		}
		os.Exit(cli.Run(context.Background(), cli.SingleApp(publishcmd.PublishStep), append([]string{"reviewlens-publish"}, argv...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func publisher(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	a, _ := json.Marshal(append(args, "--log-format", "json", "--log-level", "info"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(a))
	return cmd
}

// waitForOpenLoad waits until one PostgreSQL transaction is open whose
// last statement ended the load of a chunk of decisions, and fails t when
// none is after a minute.
func waitForOpenLoad(t *testing.T, dsn string) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle in transaction'
			AND query = 'RELEASE SAVEPOINT ledger_chunk'`).Scan(&n); err != nil {
			t.Fatalf("no transaction loading decisions: %v", err)
		}
		if n == 1 {
			return
		}
		if n > 1 {
			t.Fatalf("%d transactions loading decisions, want 1", n)
		}
		select {
		case <-ctx.Done():
			t.Fatal("no transaction loading decisions after a minute")
		case <-tick.C:
		}
	}
}

// bigDay writes a day of n decisions, every third one a grant.
func bigDay(t *testing.T, dir string, n int) (path string, grants int) {
	t.Helper()
	rows := make([]credit.DecisionRow, n)
	for i := range rows {
		d := credit.Decision{ReviewID: fmt.Sprintf("r-%07d", i), ReviewType: "style", Decision: credit.Reject,
			Reasons: []string{"photo 0: half-length 0.97 ≥ 0.90 (reject threshold): does not qualify", "every photo does not qualify: reject"},
			Classes: []string{"half-length"}, Confidences: []float64{0.97}}
		switch i % 3 {
		case 0:
			d.Decision, d.Credit = credit.Grant, 1000
			grants++
		case 1:
			d.Decision = credit.Manual
		}
		rows[i] = credit.DecisionRow{Decision: d, PolicyVersion: "v1", Day: "2026-11-28"}
	}
	var buf bytes.Buffer
	if err := credit.WriteDecisions(&buf, rows); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "decisions.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, grants
}

// ledgerCounts reads what the ledger holds for the day.
func ledgerCounts(t *testing.T, dsn string) (decisions, grants, maxGrantsPerReview int) {
	t.Helper()
	driver, source := "pgx", dsn
	if rest, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, source = "sqlite", rest
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := func(query string) int {
		var n sql.NullInt64
		if err := db.QueryRow(query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return int(n.Int64)
	}
	return q(`SELECT count(*) FROM decisions WHERE day = '2026-11-28'`),
		q(`SELECT count(*) FROM grants`),
		q(`SELECT max(n) FROM (SELECT count(*) AS n FROM grants GROUP BY review_id) AS g`)
}

func backends(t *testing.T, dir string) map[string]string {
	return map[string]string{
		"sqlite":   "sqlite:" + filepath.Join(dir, "ledger.db"),
		"postgres": "",
	}
}

// TestKilledPublishThenAgain kills a publisher in the middle of loading a
// large day, publishes again, and finds the day exactly once with each
// credit granted once; then two publishers of the same day at once do the
// same.
func TestKilledPublishThenAgain(t *testing.T) {
	const n = 40_000
	for name, dsn := range backends(t, t.TempDir()) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if dsn == "" {
				dsn = testenv.PostgresDSN(t)
			}
			day, grants := bigDay(t, dir, n)

			// Start, wait until it is half way through loading, kill it.
			cmd := publisher(t, "--decisions", day, "--db", dsn)
			cmd.Env = append(cmd.Env, pauseEnv+"="+strconv.Itoa(n/2))
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() }) // it waits to be killed
			lines := bufio.NewScanner(stderr)
			paused := false
			for lines.Scan() {
				if strings.Contains(lines.Text(), pausedMarker) {
					paused = true
					break
				}
			}
			if !paused {
				cmd.Wait()
				t.Fatal("the publisher ended before it was half way through its load")
			}
			if name == "postgres" {
				// Kill it once the load is under way: its transaction open,
				// a chunk of decisions loaded (its savepoint released).
				waitForOpenLoad(t, dsn)
			}
			cmd.Process.Kill()
			go io.Copy(io.Discard, stderr)
			cmd.Wait()
			// Killed before its commit, it left nothing of the day.
			if d, g, _ := ledgerCounts(t, dsn); d != 0 || g != 0 {
				t.Fatalf("after the kill the ledger holds %d decisions and %d grants: want none", d, g)
			}

			// Again, to the end.
			var out bytes.Buffer
			cmd = publisher(t, "--decisions", day, "--db", dsn)
			cmd.Stdout = &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("publish again: %v", err)
			}
			if d, g, most := ledgerCounts(t, dsn); d != n || g != grants || most != 1 {
				t.Errorf("after publishing again: %d decisions, %d grants, at most %d grants a review; want %d, %d, 1", d, g, most, n, grants)
			}

			// Two publishers of the same day at once: nothing new, nothing twice.
			a := publisher(t, "--decisions", day, "--db", dsn)
			b := publisher(t, "--decisions", day, "--db", dsn)
			var aout, bout bytes.Buffer
			a.Stdout, b.Stdout = &aout, &bout
			if err := a.Start(); err != nil {
				t.Fatal(err)
			}
			if err := b.Start(); err != nil {
				t.Fatal(err)
			}
			errA, errB := a.Wait(), b.Wait()
			if errA != nil || errB != nil {
				t.Fatalf("concurrent publishers: %v, %v", errA, errB)
			}
			for _, o := range []*bytes.Buffer{&aout, &bout} {
				var res ledger.PublishFileResult
				if err := json.Unmarshal(o.Bytes(), &res); err != nil {
					t.Fatalf("result %q: %v", o.String(), err)
				}
				if res.Inserted != 0 || res.Unchanged != n || res.CreditsGranted != 0 {
					t.Errorf("a concurrent republish %+v: want all unchanged", res)
				}
			}
			if d, g, most := ledgerCounts(t, dsn); d != n || g != grants || most != 1 {
				t.Errorf("after concurrent publishers: %d decisions, %d grants, at most %d a review", d, g, most)
			}
		})
	}
}
