// Package democmd is the demo command: a whole inspection day on this
// machine, with no AWS account (package demo).
package democmd

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/demo"
)

// Step is reviewlens demo.
var Step = cli.Step{
	Name:  "demo",
	Usage: "run a whole inspection day on this machine, no AWS account needed",
	Description: `Draws synthetic review photos of four classes (package, product, full-length,
half-length) with the labels a Ground Truth job would give them, then runs every step
on them: manifest, tune (a 2x2 grid of real training jobs on the local backend), stage,
transform, predictions, calibrate (thresholds that guarantee 98% right automatic
decisions), credit and publish (an SQLite ledger). It ends with a summary: the time of
each step, the best model, the automation rate and the accuracy of the automatic
decisions against the truth the generator kept aside. Run again on the same --dir, it
reuses what the first run made.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "dir", Value: demo.DefaultDir, Usage: "the folder everything goes in"},
		&urfave.IntFlag{Name: "photos", Value: demo.DefaultPhotos, Usage: "labelled photos the models learn from (80% to train, 20% to pick the epoch and the grid point)"},
		&urfave.IntFlag{Name: "calibration-photos", Usage: "labelled photos of a second labelling job, which no model learnt from or was chosen on, to calibrate the thresholds on (default a quarter of --photos)"},
		&urfave.IntFlag{Name: "reviews", Value: demo.DefaultReviews, Usage: "the day's reviews (one to three photos each)"},
		&urfave.Int64Flag{Name: "seed", Value: 1, Usage: "draws the photos: the same seed gives the same demo"},
		&urfave.StringFlag{Name: "day", Value: demo.DefaultDay, Usage: "the inspection day, YYYY-MM-DD"},
		&urfave.IntFlag{Name: "epochs", Value: demo.DefaultEpochs, Usage: "training epochs of every job"},
		&urfave.BoolFlag{Name: "logs", Value: true, Usage: "show the training jobs' logs (epochs and accuracy) as they run"},
		&urfave.StringSliceFlag{Name: "grid", Usage: "a tuned hyperparameter, name=v1,v2 (repeatable; default num_layers=18,34 and learning_rate=0.05,0.1)"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Positive(c, "photos", "reviews", "epochs"); err != nil {
			return nil, err
		}
		if _, err := time.Parse(time.DateOnly, c.String("day")); err != nil {
			return nil, cli.BadInputf("--day %q: want YYYY-MM-DD", c.String("day"))
		}
		if c.Int("photos") < 100 {
			return nil, cli.BadInputf("--photos %d: want at least 100", c.Int("photos"))
		}
		if n := c.Int("calibration-photos"); c.IsSet("calibration-photos") && n < 20 {
			return nil, cli.BadInputf("--calibration-photos %d: want at least 20", n)
		}
		var grid []string
		for _, g := range c.StringSlice("grid") {
			if strings.Contains(g, "=") || len(grid) == 0 {
				grid = append(grid, g)
			} else { // the flag parser cut name=a,b at the comma
				grid[len(grid)-1] += "," + g
			}
		}
		steps := 0
		sum, err := demo.Run(ctx, demo.Options{
			Dir: c.String("dir"), Photos: c.Int("photos"), CalibrationPhotos: c.Int("calibration-photos"), Reviews: c.Int("reviews"), Seed: c.Int64("seed"),
			Day: c.String("day"), Epochs: c.Int("epochs"), Grid: grid, Logs: c.Bool("logs"),
			Progress: env.Progress(), Logger: env.Logger,
			Step: func(name string, done bool, el time.Duration) {
				if !done {
					steps++
					fmt.Fprintf(env.Stderr, "▶ %d/%d %s\n", steps, demo.Steps, name)
					return
				}
				fmt.Fprintf(env.Stderr, "✔ %d/%d %s: %.1f s\n", steps, demo.Steps, name, el.Seconds())
			},
		})
		if err != nil {
			return nil, err
		}
		PrintSummary(env.Stderr, sum)
		return sum, nil
	},
}

// PrintSummary writes the demo's summary for people.
func PrintSummary(w io.Writer, s *demo.Summary) {
	fmt.Fprintf(w, "\nthe day %s: %d reviews (%d photos), all steps in %.0f s\n", s.Day, s.Reviews, s.Photos, s.ElapsedSeconds)
	for _, st := range s.Steps {
		fmt.Fprintf(w, "  %-32s %6.1f s\n", st.Step, st.Seconds)
	}
	fmt.Fprintf(w, "model       %s (of %d jobs): validation accuracy %.1f%%, %.1f%% on the day's photos\n",
		s.BestJob, s.Jobs, 100*s.BestValidationAccuracy, 100*s.HeldOutAccuracy)
	fmt.Fprintf(w, "calibrated  on %d photos of a second labelling job (the models learnt from %d)\n", s.Calibration, s.Labelled)
	fmt.Fprintf(w, "decisions   %d granted, %d rejected, %d to a person: %.1f%% decided automatically\n",
		s.Grants, s.Rejects, s.Manual, 100*s.AutomationRate)
	fmt.Fprintf(w, "truth       %.2f%% of automatic decisions right (%d wrong; the policy guarantees %.0f%%)\n",
		100*s.AutomaticAccuracy, s.Wrong, 100*s.TargetAccuracy)
	fmt.Fprintf(w, "credits     %d granted; %.1f%% of the reviews that earn one got it automatically\n", s.CreditsGranted, 100*s.QualifyingGranted)
	fmt.Fprintf(w, "ledger      %d decisions stored by this run (each credit is granted once: a rerun stores none)\n", s.Published)
	for _, k := range []string{"day_report", "calibration_report", "tune_report", "decisions", "ledger"} {
		fmt.Fprintf(w, "  %-20s %s\n", k, s.Paths[k])
	}
}
