// Package publishcmd holds the publish step (a day's decisions into the
// credit ledger) and the queue step (the open inspection queue out of it).
package publishcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/storage"
)

// DefaultDB is the embedded ledger used when no --db is given.
const DefaultDB = "sqlite:reviewlens.db"

// PublishResult is the publish step's result JSON.
type PublishResult struct {
	ledger.Result
	DB        string  `json:"db"` // redacted
	Day       string  `json:"day"`
	Decisions int     `json:"decisions"`
	Elapsed   float64 `json:"elapsed_seconds"`
}

// OpenError gives an error opening the ledger at dsn its exit code: a DSN
// that names no database, or no ledger where one must exist, is exit 2; a
// server that does not answer in time is transient (exit 75).
func OpenError(ctx context.Context, dsn string, err error) error {
	switch {
	case errors.Is(err, ledger.ErrDSN):
		return cli.BadInputf("--db %s: %v", ledger.Redact(dsn), err)
	case errors.Is(err, ledger.ErrNoLedger):
		return cli.BadInputf("--db %s: %v", ledger.Redact(dsn), err)
	case ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || isTimeout(err)):
		return cli.Transient(fmt.Errorf("--db %s: the database did not answer in time: %w", ledger.Redact(dsn), err))
	}
	return err
}

// isTimeout reports a network timeout anywhere in err's chain.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// rowHook, when set, is called with the number of each row read, before
// the ledger takes it. Tests use it to stop a publisher in the middle of
// its load.
var rowHook func(n int)

// Publish writes the decisions table at uri into the ledger at dsn.
func Publish(ctx context.Context, store *storage.Storage, uri, dsn string, log *slog.Logger) (*PublishResult, error) {
	start := time.Now()
	if log == nil {
		log = slog.Default()
	}
	data, uri, err := store.ReadParquetInput(ctx, "--decisions", uri, "decisions.parquet", "the credit step's decisions.parquet")
	if err != nil {
		return nil, err
	}
	dr, err := credit.OpenDecisions(bytes.NewReader(data), uri)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("--decisions: %w", err))
	}
	defer dr.Close()
	n := int(dr.NumRows())
	if n == 0 {
		return nil, cli.BadInputf("%s: no decision to publish", uri)
	}
	// The rows are read as they are loaded. An error reading them is bad
	// input, as is a row the ledger refuses.
	var readErr error
	rows := func(yield func(credit.DecisionRow, error) bool) {
		n := 0
		for r, err := range dr.All(ctx) {
			if err != nil {
				readErr = err
			}
			if n++; rowHook != nil {
				rowHook(n)
			}
			if !yield(r, err) {
				return
			}
		}
	}
	day, err := dr.Day(ctx)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	if day == "" {
		return nil, cli.BadInputf("%s: row 1: no day", uri)
	}
	l, err := ledger.Open(ctx, dsn)
	if err != nil {
		return nil, OpenError(ctx, dsn, err)
	}
	defer l.Close()
	log.Info("publishing", "day", day, "decisions", n, "db", ledger.Redact(dsn))
	res, err := l.PublishSeq(ctx, day, rows)
	var rowErr *ledger.RowError
	switch {
	case err == nil:
	case readErr != nil && ctx.Err() == nil:
		return nil, cli.BadInput(fmt.Errorf("%s: %w", uri, readErr))
	case errors.As(err, &rowErr):
		return nil, cli.BadInput(fmt.Errorf("%s: %w", uri, rowErr))
	default:
		return nil, fmt.Errorf("publish %s to %s: %w", uri, ledger.Redact(dsn), err)
	}
	log.Info("published", "day", day, "db", ledger.Redact(dsn), "inserted", res.Inserted, "unchanged", res.Unchanged,
		"conflicts", res.Conflicts, "queued", res.Queued, "credits_granted", res.CreditsGranted)
	return &PublishResult{Result: res, DB: ledger.Redact(dsn), Day: day, Decisions: n, Elapsed: time.Since(start).Seconds()}, nil
}
