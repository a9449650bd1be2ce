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
	rows, err := credit.ReadDecisions(ctx, bytes.NewReader(data), uri)
	if err != nil {
		return nil, cli.BadInput(err)
	}
	if len(rows) == 0 {
		return nil, cli.BadInputf("%s: no decision to publish", uri)
	}
	day := rows[0].Day
	l, err := ledger.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", ledger.Redact(dsn), err)
	}
	defer l.Close()
	log.Info("publishing", "day", day, "decisions", len(rows), "db", ledger.Redact(dsn))
	res, err := l.Publish(ctx, day, rows)
	if err != nil {
		return nil, fmt.Errorf("publish %s to %s: %w", uri, ledger.Redact(dsn), err)
	}
	log.Info("published", "day", day, "db", ledger.Redact(dsn), "inserted", res.Inserted, "unchanged", res.Unchanged,
		"conflicts", res.Conflicts, "queued", res.Queued, "credits_granted", res.CreditsGranted)
	return &PublishResult{Result: res, DB: ledger.Redact(dsn), Day: day, Decisions: len(rows), Elapsed: time.Since(start).Seconds()}, nil
}
