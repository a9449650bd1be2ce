package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/progress"
	"github.com/reviewlens/reviewlens/storage"
)

// FilePredictions is the predictions step's table in its output folder
// (beside summary.json).
const FilePredictions = "predictions.parquet"

// CollectOptions is the predictions step's input.
type CollectOptions struct {
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
	// Progress shows the outputs read as they go; nil means a log line
	// every 30 s.
	Progress progress.Meter
	Logger   *slog.Logger
}

// CollectResult is the step's result JSON, also written to summary.json.
type CollectResult struct {
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

// maxUnmatchedListed bounds the unmatched outputs listed in the result.
const maxUnmatchedListed = 100

// collectBlock is how many photos are fetched before their rows are written: it
// bounds memory whatever the size of the day.
const collectBlock = 4096

// CollectPredictions is the predictions step: it lists the transform
// job's output prefix once, reads each staged photo's <key>.out object,
// Concurrency at a time, and writes predictions.parquet into opts.Out, one
// row per staged photo: ok (the class, its confidence, the margin to the
// second class, every probability), missing (no output: the job failed on
// it, or was stopped) or invalid (the reason), then summary.json. Outputs
// that belong to no staged photo are counted and listed in the result.
// With any photo missing or invalid the table is still written, and an
// error is returned with the result unless AllowIncomplete. A class map
// that fits no output (most outputs holding another number of
// probabilities) is a fault.BadInput error naming it.
func CollectPredictions(ctx context.Context, store *storage.Storage, cfg CollectOptions) (*CollectResult, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	if cfg.Outputs == "" || cfg.Out == "" || cfg.Classes == "" {
		return nil, fault.BadInputf("--outputs, --classes and --out are required")
	}
	if err := storage.CheckOutFolder("--out", cfg.Out); err != nil {
		return nil, err
	}
	staged, err := readStaged(ctx, store, cfg.Staged)
	if err != nil {
		return nil, err
	}
	classes, err := manifest.LoadClasses(ctx, store, "--classes", cfg.Classes, false)
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
	res := &CollectResult{Photos: len(staged), ByStatus: map[string]int{}, ByClass: map[string]int{}}
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
		if len(res.UnmatchedFirst) < maxUnmatchedListed {
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
	pw, err := NewPredictionWriter(f)
	if err != nil {
		return nil, err
	}
	// counts are the probabilities held by outputs of the wrong length,
	// to tell a wrong class map from a few broken outputs.
	counts := map[int]int{}
	read := 0
	task := progress.Or(cfg.Progress, log).Start("reading predictions", len(staged))
	stopProgress := task.Done
	rows := make([]outRow, collectBlock)
	for from := 0; from < len(staged); from += collectBlock {
		part := staged[from:min(from+collectBlock, len(staged))]
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(cfg.Concurrency)
		for i := range part {
			s := &part[i]
			row := &rows[i]
			*row = outRow{PredictionRow: baseRow(s, prefix, cfg)}
			if !exists[s.OutputKey] {
				row.SetFailed(StatusMissing, "no output: the job failed on this photo, or was stopped")
				task.Add(1)
				continue
			}
			g.Go(func() error {
				data, err := store.ReadFile(gctx, row.OutputURI)
				if errors.Is(err, storage.ErrNotExist) {
					row.SetFailed(StatusMissing, "listed, then gone when read")
					task.Add(1)
					return nil
				}
				if err != nil {
					return fmt.Errorf("read %s: %w", row.OutputURI, err)
				}
				fill(row, data, classes)
				task.Add(1)
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
			if rows[i].Status == StatusOK {
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
	if n, c, ok := wrongClasses(counts, read, res.ByStatus[StatusOK]); ok {
		return nil, fault.BadInputf("--classes %s: %d classes, but no output fits it and %d of the %d outputs read hold %d probabilities: is it the classes.json of the model that made them?",
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
	bad := res.ByStatus[StatusMissing] + res.ByStatus[StatusInvalid]
	log.Info("predictions done", "photos", len(staged), "ok", res.ByStatus[StatusOK], "missing", res.ByStatus[StatusMissing],
		"invalid", res.ByStatus[StatusInvalid], "unmatched", res.Unmatched, "elapsed", time.Since(start).Round(time.Millisecond).String())
	if bad > 0 && !cfg.AllowIncomplete {
		return res, fmt.Errorf("%d of %d photos have no usable prediction (%d missing, %d invalid; see %s): rerun with --allow-incomplete to accept",
			bad, len(staged), res.ByStatus[StatusMissing], res.ByStatus[StatusInvalid], res.Predictions)
	}
	return res, nil
}

func baseRow(s *Staged, prefix string, cfg CollectOptions) PredictionRow {
	r := NewPredictionRow(s, prefix+s.OutputKey)
	r.Model, r.TransformJob = cfg.Model, cfg.TransformJob
	return r
}

// outRow is a predictions row and, for an output of the wrong length, the
// number of probabilities it held.
type outRow struct {
	PredictionRow
	count int
}

func rowsOf(rows []outRow) []PredictionRow {
	out := make([]PredictionRow, len(rows))
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
	p, err := ParsePrediction(data, classes.Len())
	var pe *PredictionError
	switch {
	case errors.As(err, &pe):
		row.SetFailed(StatusInvalid, pe.Reason)
		row.count = pe.Count
	case err != nil:
		row.SetFailed(StatusInvalid, err.Error())
	default:
		row.SetOK(p, classes.Name(p.Label)) // Reason: the sum off 1, flagged, or ""
	}
}

func readStaged(ctx context.Context, store *storage.Storage, uri string) ([]Staged, error) {
	if uri == "" {
		return nil, fault.BadInputf("--staged: give the stage step's --out folder")
	}
	staged, file, err := LoadStaged(ctx, store, "--staged", uri)
	if err != nil {
		return nil, err
	}
	if len(staged) == 0 {
		return nil, fault.BadInputf("%s: no photo staged", file)
	}
	// Rows in review order whatever the file's: the table is deterministic.
	slices.SortStableFunc(staged, func(a, b Staged) int {
		if c := strings.Compare(a.ReviewID, b.ReviewID); c != 0 {
			return c
		}
		return a.ImageIndex - b.ImageIndex
	})
	return staged, nil
}
