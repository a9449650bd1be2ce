package consolidate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/storage"
)

// Output file names in the --out folder, in publishing order, and their
// keys in StepResult.Outputs.
var (
	stepFiles = []string{"output.manifest", "workers.parquet", "disagreements.parquet", "rejected.jsonl", "summary.json"}
	stepKeys  = []string{"manifest", "workers", "disagreements", "rejected", "summary"}
)

// StepOptions is the consolidate step's input: its flags.
type StepOptions struct {
	// Responses is a labelling job's output folder (its
	// annotations/worker-response files), or an answers table (CSV or
	// Parquet); InputManifest maps the worker responses' object ids to
	// photos when the job has no consolidation requests. Classes is the
	// label-category config, Trust the optional trust file, Out the output
	// folder. All are URIs.
	Responses, InputManifest, Classes, Trust, Out string
	Options                                       RunOptions
	Logger                                        *slog.Logger
}

// StepResult is the step's result JSON, also written to summary.json.
type StepResult struct {
	Outputs map[string]string `json:"outputs"`
	*Summary
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// RunStep is the consolidate step: it reads inspectors' answers (a Ground
// Truth job's worker responses, or an answers table) through store, labels
// every photo with Run, and publishes into cfg.Out output.manifest (a
// Ground Truth output manifest the manifest step reads unchanged),
// workers.parquet, disagreements.parquet, rejected.jsonl and, last,
// summary.json. Bad input is a fault.BadInput error naming the file, row
// or field.
func RunStep(ctx context.Context, store *storage.Storage, cfg StepOptions) (*StepResult, error) {
	start, log := time.Now(), cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := CheckLabelAttribute(cfg.Options.LabelAttribute); err != nil {
		return nil, fault.BadInputf("--label-attribute: %v", err)
	}
	if p := cfg.Options.MinPosterior; !(p > 0 && p <= 1) {
		return nil, fault.BadInputf("--min-posterior %g: want a number in (0, 1]", p)
	}
	classes, err := manifest.LoadClasses(ctx, store, "--classes", cfg.Classes, false)
	if err != nil {
		return nil, err
	}
	if cfg.Trust != "" {
		data, _, err := store.ReadInput(ctx, "--trust", cfg.Trust, "")
		if err != nil {
			return nil, err
		}
		if cfg.Options.Trust, err = ReadTrust(bytes.NewReader(data), cfg.Trust, classes.Len()); err != nil {
			return nil, fault.BadInputf("--trust: %w", err)
		}
	}
	log.Info("reading answers", "responses", cfg.Responses)
	answers, err := readAnswers(ctx, store, cfg, classes)
	if err != nil {
		return nil, inputError("--responses", cfg.Responses, err)
	}
	if err := storage.CheckOutFolder("--out", cfg.Out); err != nil {
		return nil, err
	}
	spool, err := storage.NewSpool(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer spool.Discard()
	var w [4]io.Writer
	for i := range w {
		if w[i], err = spool.Create(stepFiles[i]); err != nil {
			return nil, err
		}
	}
	log.Info("consolidating", "method", cfg.Options.Method, "answers", answers.Len(), "photos", answers.Photos(), "inspectors", answers.Inspectors())
	sum, err := Run(ctx, answers, cfg.Options, Outputs{Manifest: w[0], Workers: w[1], Disagreements: w[2], Rejected: w[3]})
	if err != nil {
		return nil, inputError("--responses", cfg.Responses, err)
	}
	if err := spool.CloseFiles(); err != nil {
		return nil, err
	}
	if sum.Superseded > 0 {
		log.Warn("answers superseded by the same inspector's later answer", "answers", sum.Superseded, "file", storage.Join(cfg.Out, stepFiles[3]))
	}
	if len(sum.TrustUnmatched) > 0 {
		log.Warn("trusted inspectors who answered nothing", "inspectors", sum.TrustUnmatched, "trust", cfg.Trust)
	}
	if sum.Method == DawidSkene && !sum.Converged {
		log.Warn("EM stopped before converging", "iterations", sum.Iterations)
	}
	res := &StepResult{Outputs: map[string]string{}, Summary: sum}
	for i, f := range stepFiles {
		res.Outputs[stepKeys[i]] = storage.Join(cfg.Out, f)
	}
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := spool.WriteFile(stepFiles[4], func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, stepFiles...); err != nil {
		return nil, err
	}
	log.Info("consolidate done", "photos", res.Photos, "disagreements", res.Disagreements, "mean_confidence", res.MeanConfidence)
	return res, nil
}

// readAnswers reads --responses: an answers table when it is a file, else
// a labelling job's output folder.
func readAnswers(ctx context.Context, store *storage.Storage, cfg StepOptions, classes *manifest.ClassMap) (*Answers, error) {
	if _, err := store.Stat(ctx, cfg.Responses); err == nil {
		if !storage.IsS3(cfg.Responses) {
			f, err := os.Open(strings.TrimPrefix(cfg.Responses, "file://"))
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return ReadAnswers(ctx, f, cfg.Responses, classes)
		}
		data, err := store.ReadFile(ctx, cfg.Responses)
		if err != nil {
			return nil, err
		}
		return ReadAnswers(ctx, bytes.NewReader(data), cfg.Responses, classes)
	} else if !errors.Is(err, storage.ErrNotExist) {
		return nil, err
	}
	fsys, err := store.FS(ctx, cfg.Responses, "annotations")
	if err != nil {
		return nil, err
	}
	opts := ResponsesOptions{Classes: classes, Name: strings.TrimSuffix(cfg.Responses, "/"), InputManifestName: cfg.InputManifest}
	if cfg.InputManifest != "" {
		in, err := store.Open(ctx, cfg.InputManifest)
		if err != nil {
			return nil, inputError("--input-manifest", cfg.InputManifest, err)
		}
		defer in.Close()
		opts.InputManifest = in
	}
	return ReadWorkerResponses(ctx, fsys, opts)
}

// inputError makes bad input exit 2, prefixed with the flag (an
// *InputError names the file itself).
func inputError(flag, uri string, err error) error {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		return fault.New(fault.BadInput, fmt.Errorf("%s: %w", flag, err))
	case errors.Is(err, ErrNoAnswers):
		return fault.New(fault.BadInput, fmt.Errorf("%s %s: %w", flag, clip.S(uri), err))
	case errors.Is(err, storage.ErrNotExist):
		return fault.BadInputf("%s %s: no such file", flag, clip.S(uri))
	}
	return err
}
