package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/storage"
)

// DefaultDSN is the ledger the steps use when given none: the embedded
// SQLite database reviewlens.db in the working directory.
const DefaultDSN = "sqlite:reviewlens.db"

// PublishOptions are the publish step's input.
type PublishOptions struct {
	// Decisions is the credit step's decisions.parquet, or the folder
	// that holds it: a path or an s3:// URI.
	Decisions string
	// DB is the ledger's DSN; "" means DefaultDSN. The step creates the
	// ledger when there is none.
	DB     string
	Logger *slog.Logger // nil means slog.Default()
}

// PublishFileResult is the publish step's result JSON: what the ledger
// did (Result), where, and with what.
type PublishFileResult struct {
	Result
	DB        string  `json:"db"` // redacted
	Day       string  `json:"day"`
	Decisions int     `json:"decisions"` // the rows of the decisions file
	Elapsed   float64 `json:"elapsed_seconds"`
}

// rowHook, when set, is called with the number of each row PublishFile
// reads, before the ledger takes it. Tests use it to stop a publisher in
// the middle of its load.
var rowHook func(n int)

// PublishFile is the publish step: it reads the decisions table at
// opts.Decisions (credit.OpenDecisions) and publishes it into the ledger
// at opts.DB (Ledger.PublishSeq), creating the ledger when there is none.
// The rows are read as they are loaded, so a day of a million decisions
// is never held in memory.
//
// A missing or unreadable decisions file, one with no rows, or a row the
// ledger refuses (a RowError) is fault.BadInput and publishes nothing; so
// is a DSN that names no database. A database that does not answer in
// time is fault.Transient.
func PublishFile(ctx context.Context, store *storage.Storage, opts PublishOptions) (*PublishFileResult, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	dsn := opts.DB
	if dsn == "" {
		dsn = DefaultDSN
	}
	data, uri, err := store.ReadParquetInput(ctx, "--decisions", opts.Decisions, "decisions.parquet", "the credit step's decisions.parquet")
	if err != nil {
		return nil, err
	}
	dr, err := credit.OpenDecisions(bytes.NewReader(data), uri)
	if err != nil {
		return nil, fault.BadInputf("--decisions: %w", err)
	}
	defer dr.Close()
	n := int(dr.NumRows())
	if n == 0 {
		return nil, fault.BadInputf("%s: no decision to publish", uri)
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
		return nil, fault.New(fault.BadInput, err)
	}
	if day == "" {
		return nil, fault.BadInputf("%s: row 1: no day", uri)
	}
	l, err := OpenStep(ctx, dsn, Open)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	log.Info("publishing", "day", day, "decisions", n, "db", Redact(dsn))
	res, err := l.PublishSeq(ctx, day, rows)
	var rowErr *RowError
	switch {
	case err == nil:
	case readErr != nil && ctx.Err() == nil:
		return nil, fault.BadInputf("%s: %w", uri, readErr)
	case errors.As(err, &rowErr):
		return nil, fault.BadInputf("%s: %w", uri, rowErr)
	default:
		return nil, fmt.Errorf("publish %s to %s: %w", uri, Redact(dsn), err)
	}
	log.Info("published", "day", day, "db", Redact(dsn), "inserted", res.Inserted, "unchanged", res.Unchanged,
		"conflicts", res.Conflicts, "queued", res.Queued, "credits_granted", res.CreditsGranted)
	return &PublishFileResult{Result: res, DB: Redact(dsn), Day: day, Decisions: n, Elapsed: time.Since(start).Seconds()}, nil
}

// OpenStep opens the ledger at dsn for a step, with open: Open for the
// publish step, the one step that creates a ledger where there is none,
// and OpenExisting for every other, so that a typo in a DSN is not a new,
// empty ledger. Its errors are fault kinds: a DSN that names no database,
// or no ledger where it points, is fault.BadInput naming --db (wrapping
// ErrDSN or ErrNoLedger); a database that does not answer in time is
// fault.Transient.
func OpenStep(ctx context.Context, dsn string, open func(ctx context.Context, dsn string) (*Ledger, error)) (*Ledger, error) {
	l, err := open(ctx, dsn)
	if err == nil {
		return l, nil
	}
	switch {
	case errors.Is(err, ErrDSN), errors.Is(err, ErrNoLedger):
		return nil, fault.BadInputf("--db %s: %w", Redact(dsn), err)
	case ctx.Err() == nil && isTimeout(err):
		return nil, fault.New(fault.Transient, fmt.Errorf("--db %s: the database did not answer in time: %w", Redact(dsn), err))
	}
	return nil, err
}

// isTimeout reports a network timeout anywhere in err's chain, or a
// deadline passed.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
