// Package predictionscmd is the predictions step: it reads the <photo>.out
// objects a Batch Transform job wrote, concurrently, and turns them into
// predictions.parquet, one row per staged photo.
package predictionscmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/internal/stepio"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// Output files.
const (
	FilePredictions = "predictions.parquet"
	FileSummary     = "summary.json"
	fileStaged      = "staged.parquet"
)

// Config is the predictions step's input.
type Config struct {
	Staged  string // the stage step's --out folder, or its staged.parquet
	Outputs string // the transform job's output prefix
	Classes string // the manifest step's classes.json
	Out     string // the output folder
	// Concurrency bounds the objects fetched at once; 0 means 64.
	Concurrency int
	// AllowIncomplete makes missing or invalid outputs no failure: the
	// table is written either way.
	AllowIncomplete bool
	// Model and TransformJob label the rows; optional.
	Model, TransformJob string
	// ProgressEvery is how often progress is logged; 0 means 30 s.
	ProgressEvery time.Duration
	Logger        *slog.Logger
}

// Result is the step's result JSON, also written to summary.json.
type Result struct {
	Predictions string         `json:"predictions"`
	Photos      int            `json:"photos"`
	ByStatus    map[string]int `json:"by_status"`
	ByClass     map[string]int `json:"by_class"`
	SumOff      int            `json:"sum_off"` // ok outputs whose probabilities do not sum to 1 (±1e-3)
	// Unmatched are objects under the output prefix that belong to no
	// staged photo: counted, and the first 100 listed.
	Unmatched      int      `json:"unmatched"`
	UnmatchedFirst []string `json:"unmatched_first,omitempty"`
	ElapsedSeconds float64  `json:"elapsed_seconds"`
}

// maxListed bounds the unmatched outputs listed in the result.
const maxListed = 100

// block is how many photos are fetched before their rows are written: it
// bounds memory whatever the size of the day.
const block = 4096

// Run does the step.
func Run(ctx context.Context, store *storage.Storage, cfg Config) (*Result, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 30 * time.Second
	}
	if cfg.Outputs == "" || cfg.Out == "" || cfg.Classes == "" {
		return nil, cli.BadInputf("--outputs, --classes and --out are required")
	}
	if err := stepio.OutFolder("--out", cfg.Out); err != nil {
		return nil, err
	}
	staged, err := readStaged(ctx, store, cfg.Staged)
	if err != nil {
		return nil, err
	}
	classes, err := stepio.ReadClasses(ctx, store, "--classes", cfg.Classes, false)
	if err != nil {
		return nil, err
	}

	// Which outputs exist: one listing of the prefix, not a HEAD a photo.
	prefix := strings.TrimSuffix(cfg.Outputs, "/") + "/"
	want := make(map[string]bool, len(staged))
	for _, s := range staged {
		want[s.OutputKey] = true
	}
	exists := make(map[string]bool, len(staged))
	res := &Result{Photos: len(staged), ByStatus: map[string]int{}, ByClass: map[string]int{}}
	for obj, err := range store.List(ctx, prefix) {
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		key := strings.TrimPrefix(obj.URI, prefix)
		if want[key] {
			exists[key] = true
			continue
		}
		res.Unmatched++
		if len(res.UnmatchedFirst) < maxListed {
			res.UnmatchedFirst = append(res.UnmatchedFirst, obj.URI)
		}
	}
	log.Info("reading predictions", "photos", len(staged), "outputs", len(exists), "unmatched", res.Unmatched, "prefix", prefix)

	spool, err := storage.NewSpool(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer spool.Discard()
	f, err := spool.Create(FilePredictions)
	if err != nil {
		return nil, err
	}
	pw, err := inspect.NewPredictionWriter(f)
	if err != nil {
		return nil, err
	}
	var done atomic.Int64
	// counts are the probabilities held by outputs of the wrong length,
	// to tell a wrong class map from a few broken outputs.
	counts := map[int]int{}
	read := 0
	stopProgress := progress(ctx, log, cfg.ProgressEvery, &done, len(staged))
	rows := make([]outRow, block)
	for from := 0; from < len(staged); from += block {
		part := staged[from:min(from+block, len(staged))]
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(cfg.Concurrency)
		for i := range part {
			s := &part[i]
			row := &rows[i]
			*row = outRow{PredictionRow: baseRow(s, prefix, cfg)}
			if !exists[s.OutputKey] {
				row.Status, row.Reason = inspect.StatusMissing, "no output: the job failed on this photo, or was stopped"
				done.Add(1)
				continue
			}
			g.Go(func() error {
				data, err := store.ReadFile(gctx, row.OutputURI)
				if errors.Is(err, storage.ErrNotExist) {
					row.Status, row.Reason = inspect.StatusMissing, "listed, then gone when read"
					done.Add(1)
					return nil
				}
				if err != nil {
					return fmt.Errorf("read %s: %w", row.OutputURI, err)
				}
				fill(row, data, classes)
				done.Add(1)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			stopProgress()
			return nil, err
		}
		for i := range part {
			if exists[part[i].OutputKey] {
				read++
				if n := rows[i].count; n > 0 {
					counts[n]++
				}
			}
			res.ByStatus[rows[i].Status]++
			if rows[i].Status == inspect.StatusOK {
				res.ByClass[rows[i].ClassName]++
				if rows[i].Reason != "" {
					res.SumOff++
				}
			}
		}
		if err := pw.Write(rowsOf(rows[:len(part)])...); err != nil {
			stopProgress()
			return nil, err
		}
	}
	stopProgress()
	if n, c, ok := wrongClasses(counts, read, res.ByStatus[inspect.StatusOK]); ok {
		return nil, cli.BadInputf("--classes %s: %d classes, but no output fits it and %d of the %d outputs read hold %d probabilities: is it the classes.json of the model that made them?",
			clip.S(cfg.Classes), classes.Len(), c, read, n)
	}
	if err := pw.Close(); err != nil {
		return nil, err
	}
	if err := spool.CloseFiles(); err != nil {
		return nil, err
	}
	res.Predictions = storage.Join(cfg.Out, FilePredictions)
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := spool.WriteFile(FileSummary, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, FilePredictions, FileSummary); err != nil {
		return nil, err
	}
	bad := res.ByStatus[inspect.StatusMissing] + res.ByStatus[inspect.StatusInvalid]
	log.Info("predictions done", "photos", len(staged), "ok", res.ByStatus[inspect.StatusOK], "missing", res.ByStatus[inspect.StatusMissing],
		"invalid", res.ByStatus[inspect.StatusInvalid], "unmatched", res.Unmatched, "elapsed", time.Since(start).Round(time.Millisecond).String())
	if bad > 0 && !cfg.AllowIncomplete {
		return res, fmt.Errorf("%d of %d photos have no usable prediction (%d missing, %d invalid; see %s): rerun with --allow-incomplete to accept",
			bad, len(staged), res.ByStatus[inspect.StatusMissing], res.ByStatus[inspect.StatusInvalid], res.Predictions)
	}
	return res, nil
}

func baseRow(s *inspect.Staged, prefix string, cfg Config) inspect.PredictionRow {
	return inspect.PredictionRow{
		ReviewID: s.ReviewID, ReviewType: s.ReviewType, ImageIndex: s.ImageIndex, ImageURI: s.ImageURI,
		OutputURI: prefix + s.OutputKey, Label: -1, Confidence: nan, Margin: nan,
		Model: cfg.Model, TransformJob: cfg.TransformJob, Day: s.Day,
	}
}

// outRow is a predictions row and, for an output of the wrong length, the
// number of probabilities it held.
type outRow struct {
	inspect.PredictionRow
	count int
}

func rowsOf(rows []outRow) []inspect.PredictionRow {
	out := make([]inspect.PredictionRow, len(rows))
	for i := range rows {
		out[i] = rows[i].PredictionRow
	}
	return out
}

// wrongClasses says whether the class map, rather than the outputs, is
// wrong: no output fits it, and most of those read share another length
// (returned, with how many have it).
func wrongClasses(counts map[int]int, read, ok int) (length, outputs int, wrong bool) {
	if ok > 0 || read == 0 {
		return 0, 0, false
	}
	for n, c := range counts {
		if c > outputs {
			length, outputs = n, c
		}
	}
	return length, outputs, 2*outputs >= read
}

// fill parses an output into row.
func fill(row *outRow, data []byte, classes *manifest.ClassMap) {
	p, err := inspect.ParsePrediction(data, classes.Len())
	var pe *inspect.PredictionError
	switch {
	case errors.As(err, &pe):
		row.Status, row.Reason, row.count = inspect.StatusInvalid, pe.Reason, pe.Count
	case err != nil:
		row.Status, row.Reason = inspect.StatusInvalid, err.Error()
	default:
		row.Status = inspect.StatusOK
		row.Label, row.ClassName = p.Label, classes.Name(p.Label)
		row.Confidence, row.Margin, row.Probabilities = p.Confidence, p.Margin, p.Probabilities
		row.Reason = p.Warning() // the sum off 1, flagged, or ""
	}
}

// progress logs how many photos are done every so often; the function it
// returns stops it and waits until it has.
func progress(ctx context.Context, log *slog.Logger, every time.Duration, done *atomic.Int64, total int) func() {
	ctx, cancel := context.WithCancel(ctx)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				log.Info("reading predictions", "done", done.Load(), "total", total)
			}
		}
	}()
	return func() {
		cancel()
		<-finished
	}
}

func readStaged(ctx context.Context, store *storage.Storage, uri string) ([]inspect.Staged, error) {
	if uri == "" {
		return nil, cli.BadInputf("--staged: give the stage step's --out folder")
	}
	data, file, err := stepio.ReadParquet(ctx, store, "--staged", uri, fileStaged, "the stage step's staged.parquet")
	if err != nil {
		return nil, err
	}
	staged, err := inspect.ReadStaged(bytes.NewReader(data), file)
	if err != nil {
		return nil, cli.BadInput(fmt.Errorf("--staged: %w", err))
	}
	if len(staged) == 0 {
		return nil, cli.BadInputf("%s: no photo staged", file)
	}
	// Rows in review order whatever the file's: the table is deterministic.
	slices.SortStableFunc(staged, func(a, b inspect.Staged) int {
		if c := strings.Compare(a.ReviewID, b.ReviewID); c != 0 {
			return c
		}
		return a.ImageIndex - b.ImageIndex
	})
	return staged, nil
}
