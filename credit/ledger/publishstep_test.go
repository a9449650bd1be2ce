package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/storage"
)

// writeDecisionsFile writes rows as decisions.parquet in dir and returns
// its path.
func writeDecisionsFile(tb testing.TB, dir string, rows ...credit.DecisionRow) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := credit.WriteDecisions(&buf, rows); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "decisions.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestPublishFile(t *testing.T) { forEachBackend(t, testPublishFile) }

func testPublishFile(t *testing.T, dsn string) {
	ctx := context.Background()
	const day = "2026-11-28"
	dir := t.TempDir()
	writeDecisionsFile(t, dir, row("r-1", credit.Grant, 1000, day), manual("r-2", day), row("r-3", credit.Reject, 0, day))
	store := storage.New(storage.Options{})

	// The folder of the credit step's output names its decisions.parquet.
	first, err := PublishFile(ctx, store, PublishOptions{Decisions: dir, DB: dsn, Logger: quiet})
	if err != nil {
		t.Fatalf("PublishFile: %v", err)
	}
	ignoreElapsed := cmpopts.IgnoreFields(PublishFileResult{}, "Elapsed")
	want := &PublishFileResult{
		Result: Result{Inserted: 3, Queued: 1, CreditsGranted: 1000},
		DB:     Redact(dsn), Day: day, Decisions: 3,
	}
	if diff := cmp.Diff(want, first, ignoreElapsed); diff != "" {
		t.Errorf("first publish (-want +got):\n%s", diff)
	}
	if first.Elapsed <= 0 {
		t.Errorf("elapsed %v s, want more than 0", first.Elapsed)
	}

	// Again: nothing new, nothing granted twice.
	second, err := PublishFile(ctx, store, PublishOptions{Decisions: filepath.Join(dir, "decisions.parquet"), DB: dsn, Logger: quiet})
	if err != nil {
		t.Fatalf("PublishFile again: %v", err)
	}
	want.Result = Result{Unchanged: 3}
	if diff := cmp.Diff(want, second, ignoreElapsed); diff != "" {
		t.Errorf("second publish (-want +got):\n%s", diff)
	}
	l := open(t, dsn)
	wantCounts(t, l, map[string]int{"decisions": 3, "grants": 1, "inspection_queue": 1, "conflicts": 0})
}

// TestPublishFileDefaultDSN: no DB is the embedded ledger DefaultDSN
// names, made in the working directory.
func TestPublishFileDefaultDSN(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	path := writeDecisionsFile(t, dir, row("r-1", credit.Grant, 1000, "2026-11-28"))
	res, err := PublishFile(context.Background(), storage.New(storage.Options{}), PublishOptions{Decisions: path, Logger: quiet})
	if err != nil {
		t.Fatalf("PublishFile: %v", err)
	}
	if res.DB != DefaultDSN || res.Inserted != 1 {
		t.Errorf("result %+v: want 1 inserted into %s", res, DefaultDSN)
	}
	if _, err := os.Stat(filepath.Join(dir, strings.TrimPrefix(DefaultDSN, "sqlite:"))); err != nil {
		t.Errorf("no ledger where DefaultDSN points: %v", err)
	}
}

func TestPublishFileBadInput(t *testing.T) {
	const day = "2026-11-28"
	tests := []struct {
		name  string
		setup func(tb testing.TB, dir string) PublishOptions
		words []string // in the message
		// noLedger: refused before the ledger was opened, so none made.
		noLedger bool
	}{
		{
			name: "no decisions file",
			setup: func(tb testing.TB, dir string) PublishOptions {
				return PublishOptions{Decisions: filepath.Join(dir, "none.parquet")}
			},
			words: []string{"--decisions", "no such file"}, noLedger: true,
		},
		{
			name: "a folder without decisions.parquet",
			setup: func(tb testing.TB, dir string) PublishOptions {
				sub := filepath.Join(dir, "dt=2026-11-28")
				if err := os.Mkdir(sub, 0o755); err != nil {
					tb.Fatal(err)
				}
				return PublishOptions{Decisions: sub}
			},
			words: []string{"--decisions", "no decisions.parquet"}, noLedger: true,
		},
		{
			name: "not Parquet",
			setup: func(tb testing.TB, dir string) PublishOptions {
				path := filepath.Join(dir, "decisions.parquet")
				if err := os.WriteFile(path, []byte("review_id,decision\n"), 0o644); err != nil {
					tb.Fatal(err)
				}
				return PublishOptions{Decisions: path}
			},
			words: []string{"--decisions", "not a Parquet file"}, noLedger: true,
		},
		{
			name: "no rows",
			setup: func(tb testing.TB, dir string) PublishOptions {
				return PublishOptions{Decisions: writeDecisionsFile(tb, dir)}
			},
			words: []string{"decisions.parquet", "no decision to publish"}, noLedger: true,
		},
		{
			name: "a database that is not supported",
			setup: func(tb testing.TB, dir string) PublishOptions {
				return PublishOptions{Decisions: writeDecisionsFile(tb, dir, row("r-1", credit.Grant, 1000, day)), DB: "mysql://u:secret@db/ledger"}
			},
			words: []string{"--db mysql://u:xxxxx@db/ledger", `"mysql"`, "sqlite:PATH"}, noLedger: true,
		},
		{
			name: "a row of another day",
			setup: func(tb testing.TB, dir string) PublishOptions {
				return PublishOptions{Decisions: writeDecisionsFile(tb, dir, row("r-1", credit.Grant, 1000, day), row("r-2", credit.Grant, 1000, "2026-11-29"))}
			},
			words: []string{"decisions.parquet", "row 2", `"r-2"`, `day "2026-11-29", want "2026-11-28"`},
		},
		{
			name: "a review twice",
			setup: func(tb testing.TB, dir string) PublishOptions {
				return PublishOptions{Decisions: writeDecisionsFile(tb, dir, row("r-1", credit.Grant, 1000, day), row("r-1", credit.Grant, 1000, day))}
			},
			words: []string{"decisions.parquet", "row 2", `"r-1"`, "already in row 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := tt.setup(t, dir)
			db := filepath.Join(dir, "ledger.db")
			opts.Logger = quiet
			if opts.DB == "" {
				opts.DB = "sqlite:" + db
			}
			res, err := PublishFile(context.Background(), storage.New(storage.Options{}), opts)
			if got := fault.KindOf(err); got != fault.BadInput {
				t.Fatalf("PublishFile = %+v, %v: %v, want %v", res, err, got, fault.BadInput)
			}
			for _, w := range tt.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows the password", err)
			}
			if tt.noLedger {
				if _, err := os.Stat(db); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s exists (%v): want no ledger made", db, err)
				}
				return
			}
			// Refused whole: nothing of the day published.
			l := open(t, opts.DB)
			wantCounts(t, l, map[string]int{"decisions": 0, "publications": 0})
		})
	}
}

// TestOpenStep: publish creates a ledger, the other steps do not, and the
// errors of both are fault kinds, without the password.
func TestOpenStep(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := "sqlite:" + filepath.Join(dir, "typo.db")
	if _, err := OpenStep(ctx, missing, OpenExisting); fault.KindOf(err) != fault.BadInput || !errors.Is(err, ErrNoLedger) {
		t.Errorf("OpenStep with OpenExisting of no ledger: %v, want bad input wrapping ErrNoLedger", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenStep with OpenExisting made a ledger (%v)", err)
	}
	l, err := OpenStep(ctx, missing, Open)
	if err != nil {
		t.Fatalf("OpenStep with Open of no ledger: %v", err)
	}
	l.Close()
	for _, open := range []func(context.Context, string) (*Ledger, error){Open, OpenExisting} {
		_, err := OpenStep(ctx, "mysql://u:secret@db/ledger", open)
		if fault.KindOf(err) != fault.BadInput || !errors.Is(err, ErrDSN) || !strings.Contains(err.Error(), "--db mysql://u:xxxxx@db/ledger") {
			t.Errorf("OpenStep of a MySQL DSN: %v, want bad input wrapping ErrDSN naming --db, without the password", err)
		}
	}

	// A server that accepts the connection and never answers.
	stalled := "postgres://u:secret@" + testenv.BlackHole(t) + "/ledger?connect_timeout=1&sslmode=disable"
	for name, open := range map[string]func(context.Context, string) (*Ledger, error){"Open": Open, "OpenExisting": OpenExisting} {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		_, err := OpenStep(ctx, stalled, open)
		cancel()
		if fault.KindOf(err) != fault.Transient || !strings.Contains(err.Error(), "did not answer in time") || strings.Contains(err.Error(), "secret") {
			t.Errorf("OpenStep with %s of a stalled server: %v (%v), want transient, saying it did not answer, without the password", name, err, fault.KindOf(err))
		}
	}
}

// TestStepResultJSON: the result JSON of the publish and queue steps keeps
// its field names; programs and Airflow tasks parse them.
func TestStepResultJSON(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want []string
	}{
		{PublishFileResult{}, []string{"audits", "conflicts", "credits_granted", "day", "db", "decisions", "elapsed_seconds", "inserted", "queued", "unchanged"}},
		{QueueFileResult{}, []string{"db", "format", "items", "out"}},
	} {
		data, err := json.Marshal(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%T fields (-want +got):\n%s", tc.v, diff)
		}
	}
}
