package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// ResolveOptions are the resolve step's input.
type ResolveOptions struct {
	DB      string // the ledger's DSN; it must exist
	Answers string // the answers file, CSV or Parquet, a URI
	// OnBadRow says what to do with bad rows: "fail" (the default: exit 2,
	// nothing applied) or "skip" (to Rejected, the rest applied).
	OnBadRow string
	// Rejected is where skipped rows go, as JSON Lines; "" means beside
	// the answers: <answers without its extension>.rejected.jsonl.
	Rejected string
	// Classes, when set, is the model's class list (a class map file or
	// "a,b,c"): a photo's class_name must be one of them.
	Classes string
	// AllowEmpty accepts an answers file with no rows.
	AllowEmpty bool
	// Now tells the time recorded with the answers; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// ResolveFileResult is the resolve step's result JSON.
type ResolveFileResult struct {
	ResolveResult
	DB      string `json:"db"` // redacted
	Answers string `json:"answers_file"`
	Rows    int    `json:"rows"`
	// BadRows counts the rows refused (--on-bad-row skip), written to
	// RejectedURI with their row, column and reason.
	BadRows     int     `json:"bad_rows"`
	RejectedURI string  `json:"rejected_uri,omitempty"`
	Elapsed     float64 `json:"elapsed_seconds"`
}

// maxListed is how many bad rows a failing step lists.
const maxListed = 20

// ResolveFile is the resolve step: it reads the answers file opts.Answers
// (ReadAnswers) and records its answers in the ledger at opts.DB
// (Ledger.Resolve). A bad row fails the step (fault.BadInput, nothing
// applied, the first 20 listed with their row and column) unless
// OnBadRow is "skip": then the bad rows go to opts.Rejected and the rest
// is applied. A file with no rows is bad input unless AllowEmpty. The
// step never creates a ledger.
func ResolveFile(ctx context.Context, store *storage.Storage, opts ResolveOptions) (*ResolveFileResult, error) {
	start := time.Now()
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	switch opts.OnBadRow {
	case "", "fail", "skip":
	default:
		return nil, fault.BadInputf("--on-bad-row %s: want fail or skip", clip.Q(opts.OnBadRow))
	}
	rejected := opts.Rejected
	if rejected == "" {
		rejected = strings.TrimSuffix(opts.Answers, path.Ext(opts.Answers)) + ".rejected.jsonl"
	}
	if opts.OnBadRow == "skip" {
		if err := storage.CheckOutFile("--rejected", rejected); err != nil {
			return nil, err
		}
	}
	data, file, err := store.ReadInput(ctx, "--answers", opts.Answers, "")
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(path.Ext(file), ".parquet") && !storage.IsParquet(data) {
		return nil, fault.BadInputf("--answers %s: not a Parquet file (%s), want inspectors' answers", clip.S(file), storage.Describe(data))
	}
	var ro ReadAnswersOptions
	if opts.Classes != "" {
		m, err := manifest.LoadClasses(ctx, store, "--classes", opts.Classes, true)
		if err != nil {
			return nil, err
		}
		ro.Classes = m.Names()
	}
	answers, bad, err := ReadAnswers(data, file, ro)
	if err != nil {
		return nil, fault.BadInputf("--answers: %w", err)
	}
	rows := len(bad)
	for _, a := range answers {
		rows += max(1, len(a.Photos))
	}
	if rows == 0 && !opts.AllowEmpty {
		return nil, fault.BadInputf("--answers %s: no rows: no answers to record? (--allow-empty accepts it)", clip.S(file))
	}
	if len(bad) > 0 && opts.OnBadRow != "skip" {
		return nil, badRowsError(file, bad)
	}

	l, err := OpenStep(ctx, opts.DB, OpenExisting)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	if opts.Now != nil {
		l.Now = opts.Now
	}
	res := &ResolveFileResult{DB: Redact(opts.DB), Answers: file, Rows: rows, BadRows: len(bad)}
	if len(bad) > 0 {
		// Written before anything is applied: if it cannot be, nothing is.
		var b strings.Builder
		if err := writeRejected(&b, bad); err != nil {
			return nil, err
		}
		if err := store.WriteFile(ctx, rejected, []byte(b.String())); err != nil {
			return nil, fmt.Errorf("--rejected: %w", err)
		}
		res.RejectedURI = rejected
		log.Warn("bad rows were left out", "rows", len(bad), "file", rejected)
	}
	log.Info("resolving", "answers", len(answers), "db", Redact(opts.DB))
	if res.ResolveResult, err = l.Resolve(ctx, file, answers); err != nil {
		var ae *AnswerError
		if errors.As(err, &ae) {
			return nil, fault.New(fault.BadInput, err)
		}
		return nil, fmt.Errorf("resolve %s in %s: %w", clip.S(file), Redact(opts.DB), err)
	}
	res.Elapsed = time.Since(start).Seconds()
	log.Info("resolved", "applied", res.Applied, "unchanged", res.Unchanged, "conflicts", res.Conflicts,
		"grants", res.Grants, "rejects", res.Rejects, "credits_granted", res.CreditsGranted, "audits", res.Audits)
	if res.Conflicts > 0 {
		log.Warn("answers not applied were recorded in answer_conflicts", "conflicts", res.Conflicts)
	}
	return res, nil
}

// badRowsError lists the first bad rows of an answers file.
func badRowsError(file string, bad []*AnswerError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "--answers %s: %d bad %s, nothing recorded", clip.S(file), len(bad), map[bool]string{true: "row", false: "rows"}[len(bad) == 1])
	for i, e := range bad {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  … and %d more", len(bad)-maxListed)
			break
		}
		c := *e
		c.Name = "" // said once above
		b.WriteString("\n  " + c.Error())
	}
	b.WriteString("\n(fix them, or rerun with --on-bad-row skip to record the other answers and write these to a rejected.jsonl)")
	return fault.New(fault.BadInput, errors.New(b.String()))
}

// rejectedRow is a line of the rejected rows' file.
type rejectedRow struct {
	Row      int    `json:"row"`
	Column   string `json:"column,omitempty"`
	Reason   string `json:"reason"`
	ReviewID string `json:"review_id,omitempty"`
}

func writeRejected(w io.Writer, bad []*AnswerError) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range bad {
		if err := enc.Encode(rejectedRow{Row: e.Row, Column: e.Column, Reason: e.Reason, ReviewID: clip.S(e.ReviewID)}); err != nil {
			return err
		}
	}
	return nil
}
