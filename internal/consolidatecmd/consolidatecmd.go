// Package consolidatecmd is the consolidate step: it reads inspectors'
// answers (a Ground Truth job's worker responses, or an answers table) from
// S3 or local paths, has package consolidate label every photo, and
// publishes output.manifest, workers.parquet, disagreements.parquet,
// rejected.jsonl and, last, summary.json.
package consolidatecmd

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

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/storage"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/manifest/consolidate"
)

// Output file names in the --out folder, in publishing order, and their
// keys in Result.Outputs.
var (
	files = []string{"output.manifest", "workers.parquet", "disagreements.parquet", "rejected.jsonl", "summary.json"}
	keys  = []string{"manifest", "workers", "disagreements", "rejected", "summary"}
)

// Config is the consolidate step's input: its flags.
type Config struct {
	Responses, InputManifest, Classes, Trust, Out string // URIs
	Options                                       consolidate.RunOptions
	Logger                                        *slog.Logger
}

// Result is the step's result JSON, also written to summary.json.
type Result struct {
	Outputs map[string]string `json:"outputs"`
	*consolidate.Summary
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

// Run does the step.
func Run(ctx context.Context, store *storage.Storage, cfg Config) (*Result, error) {
	start, log := time.Now(), cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := consolidate.CheckLabelAttribute(cfg.Options.LabelAttribute); err != nil {
		return nil, cli.BadInputf("--label-attribute: %v", err)
	}
	if p := cfg.Options.MinPosterior; !(p > 0 && p <= 1) {
		return nil, cli.BadInputf("--min-posterior %g: want a number in (0, 1]", p)
	}
	data, err := store.ReadFile(ctx, cfg.Classes)
	if err != nil {
		return nil, inputError("--classes", cfg.Classes, err)
	}
	classes, err := manifest.ReadClasses(bytes.NewReader(data))
	if err != nil {
		return nil, cli.BadInputf("--classes %s: %v", cfg.Classes, err)
	}
	if cfg.Trust != "" {
		data, err := store.ReadFile(ctx, cfg.Trust)
		if err != nil {
			return nil, inputError("--trust", cfg.Trust, err)
		}
		if cfg.Options.Trust, err = consolidate.ReadTrust(bytes.NewReader(data), cfg.Trust, classes.Len()); err != nil {
			return nil, cli.BadInputf("--trust: %w", err)
		}
	}
	log.Info("reading answers", "responses", cfg.Responses)
	answers, err := readAnswers(ctx, store, cfg, classes)
	if err != nil {
		return nil, inputError("--responses", cfg.Responses, err)
	}
	spool, err := storage.NewSpool(cfg.Out)
	if err != nil {
		return nil, err
	}
	defer spool.Discard()
	var w [4]io.Writer
	for i := range w {
		if w[i], err = spool.Create(files[i]); err != nil {
			return nil, err
		}
	}
	log.Info("consolidating", "method", cfg.Options.Method, "answers", answers.Len(), "photos", answers.Photos(), "inspectors", answers.Inspectors())
	sum, err := consolidate.Run(ctx, answers, cfg.Options, consolidate.Outputs{Manifest: w[0], Workers: w[1], Disagreements: w[2], Rejected: w[3]})
	if err != nil {
		return nil, inputError("--responses", cfg.Responses, err)
	}
	if err := spool.CloseFiles(); err != nil {
		return nil, err
	}
	if sum.Superseded > 0 {
		log.Warn("answers superseded by the same inspector's later answer", "answers", sum.Superseded, "file", storage.Join(cfg.Out, files[3]))
	}
	if len(sum.TrustUnmatched) > 0 {
		log.Warn("trusted inspectors who answered nothing", "inspectors", sum.TrustUnmatched, "trust", cfg.Trust)
	}
	if sum.Method == consolidate.DawidSkene && !sum.Converged {
		log.Warn("EM stopped before converging", "iterations", sum.Iterations)
	}
	res := &Result{Outputs: map[string]string{}, Summary: sum}
	for i, f := range files {
		res.Outputs[keys[i]] = storage.Join(cfg.Out, f)
	}
	res.ElapsedSeconds = time.Since(start).Seconds()
	if err := spool.WriteFile(files[4], func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}); err != nil {
		return nil, err
	}
	if err := spool.Publish(ctx, store, files...); err != nil {
		return nil, err
	}
	log.Info("consolidate done", "photos", res.Photos, "disagreements", res.Disagreements, "mean_confidence", res.MeanConfidence)
	return res, nil
}

// readAnswers reads --responses: an answers table when it is a file, else
// a labelling job's output folder.
func readAnswers(ctx context.Context, store *storage.Storage, cfg Config, classes *manifest.ClassMap) (*consolidate.Answers, error) {
	if _, err := store.Stat(ctx, cfg.Responses); err == nil {
		if !storage.IsS3(cfg.Responses) {
			f, err := os.Open(strings.TrimPrefix(cfg.Responses, "file://"))
			if err != nil {
				return nil, err
			}
			defer f.Close()
			return consolidate.ReadAnswers(ctx, f, cfg.Responses, classes)
		}
		data, err := store.ReadFile(ctx, cfg.Responses)
		if err != nil {
			return nil, err
		}
		return consolidate.ReadAnswers(ctx, bytes.NewReader(data), cfg.Responses, classes)
	} else if !errors.Is(err, storage.ErrNotExist) {
		return nil, err
	}
	fsys, err := store.FS(ctx, cfg.Responses, "annotations")
	if err != nil {
		return nil, err
	}
	opts := consolidate.ResponsesOptions{Classes: classes, Name: strings.TrimSuffix(cfg.Responses, "/"), InputManifestName: cfg.InputManifest}
	if cfg.InputManifest != "" {
		in, err := store.Open(ctx, cfg.InputManifest)
		if err != nil {
			return nil, inputError("--input-manifest", cfg.InputManifest, err)
		}
		defer in.Close()
		opts.InputManifest = in
	}
	return consolidate.ReadWorkerResponses(ctx, fsys, opts)
}

// inputError makes bad input exit 2, prefixed with the flag (an
// *InputError names the file itself).
func inputError(flag, uri string, err error) error {
	var ie *consolidate.InputError
	switch {
	case errors.As(err, &ie):
		return cli.BadInput(fmt.Errorf("%s: %w", flag, err))
	case errors.Is(err, consolidate.ErrNoAnswers):
		return cli.BadInput(fmt.Errorf("%s %s: %w", flag, uri, err))
	case errors.Is(err, storage.ErrNotExist):
		return cli.BadInputf("%s %s: no such file", flag, uri)
	}
	return err
}
