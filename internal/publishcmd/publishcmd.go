// Package publishcmd holds the publish step (a day's decisions into the
// credit ledger) and the queue step (the open inspection queue out of it).
package publishcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/storage"
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
	if !strings.HasSuffix(uri, ".parquet") {
		uri = storage.Join(uri, "decisions.parquet")
	}
	data, err := store.ReadFile(ctx, uri)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, cli.BadInputf("--decisions %s: no such file", uri)
	}
	if err != nil {
		return nil, err
	}
	dr, err := credit.OpenDecisions(bytes.NewReader(data), uri)
	if err != nil {
		return nil, cli.BadInput(err)
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
		return nil, fmt.Errorf("open ledger %s: %w", ledger.Redact(dsn), err)
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
