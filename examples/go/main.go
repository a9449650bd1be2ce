// Command example runs one inspection day through reviewlens's public API
// alone, on local folders: it stages the day's reviews, collects the
// predictions a Batch Transform job left as .out files, calibrates the
// policy's thresholds on labelled photos, decides every review and
// publishes the decisions to an SQLite ledger.
//
//	go run ./examples/go -data DIR
//
// DIR holds reviews.csv and outputs/ (the day's photos and their .out
// files), calibration/reviews.csv and calibration/outputs/ (labelled
// photos, classified the same way) and labels/ (the manifest step's
// labels.parquet, classes.json and labels.sample.json). Everything it
// writes goes to DIR/out.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/storage"
)

func main() {
	data := flag.String("data", "", "the data folder")
	day := flag.String("day", "2026-11-28", "the inspection day")
	flag.Parse()
	if *data == "" {
		log.Fatal("usage: example -data DIR")
	}
	if err := run(context.Background(), *data, *day); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, data, day string) error {
	store := storage.New(storage.Options{}) // local paths; a program may pass its own buckets
	defer store.Close()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	in := func(p ...string) string { return filepath.Join(append([]string{data}, p...)...) }
	out := func(p ...string) string { return filepath.Join(append([]string{data, "out"}, p...)...) }

	// The predictions of a set of photos: staged, then their .out files
	// matched to them.
	predict := func(name, reviews, outputs string) error {
		if _, err := inspect.Stage(ctx, store, inspect.StageOptions{Reviews: reviews, Day: day, Out: out(name, "staged"), Logger: quiet}); err != nil {
			return err
		}
		res, err := inspect.CollectPredictions(ctx, store, inspect.CollectOptions{
			Staged: out(name, "staged"), Outputs: outputs, Classes: in("labels", "classes.json"), Out: out(name, "predictions"), Logger: quiet,
		})
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d photos classified\n", name, res.ByStatus[inspect.StatusOK])
		return nil
	}
	if err := predict("calibration", in("calibration", "reviews.csv"), in("calibration", "outputs")); err != nil {
		return err
	}
	cal, err := credit.CalibratePolicy(ctx, store, credit.CalibratePolicyOptions{
		CalibrationSetOptions: credit.CalibrationSetOptions{Predictions: out("calibration", "predictions"), Labels: in("labels")},
		Calibrate:             credit.CalibrateOptions{TargetAccuracy: 0.98, Delta: 0.05},
		Out:                   out("policy.yaml"), Logger: quiet,
	})
	if err != nil {
		return err
	}
	fmt.Printf("calibrated on %d photos: every family certified: %v\n", cal.Photos, cal.Certified)

	if err := predict("day", in("reviews.csv"), in("outputs")); err != nil {
		return err
	}
	res, err := credit.DecideDay(ctx, store, credit.DayOptions{
		Predictions: out("day", "predictions"), Reviews: in("reviews.csv"), Policy: cal.Policy,
		Out: out("decisions"), Report: out("day.html"), Logger: quiet,
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d reviews, %d granted, %d rejected, %d to a person (%.1f%% automatic)\n", res.Day, res.Reviews,
		res.ByDecision[credit.Grant], res.ByDecision[credit.Reject], res.ByDecision[credit.Manual], 100*res.AutomationRate)

	pub, err := ledger.PublishFile(ctx, store, ledger.PublishOptions{Decisions: out("decisions"), DB: "sqlite:" + out("ledger.db"), Logger: quiet})
	if err != nil {
		return err
	}
	fmt.Printf("ledger: %d decisions stored, %d unchanged, %d credits granted\n", pub.Inserted, pub.Unchanged, pub.CreditsGranted)
	return nil
}
