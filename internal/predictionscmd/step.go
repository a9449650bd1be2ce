// Package predictionscmd is the predictions step's command: flags in,
// inspect.CollectPredictions called, result out.
package predictionscmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
)

// Step is the predictions step of reviewlens.
var Step = cli.Step{
	Name:  "predictions",
	Usage: "read the Batch Transform outputs into predictions.parquet",
	Description: `Lists the transform job's output prefix once, then reads every staged photo's
<key>.out object, --concurrency at a time, and writes predictions.parquet into --out:
one row per staged photo, ok (the predicted class, its confidence, the margin to the
second class, every probability), missing (no output: the job failed on that photo or
was stopped) or invalid (the reason). Outputs that belong to no staged photo are
counted and listed in the result. Exit 0 when every photo is ok; with any missing or
invalid the table is written and the step exits 1, unless --allow-incomplete.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "staged", Usage: "the stage step's --out folder", Required: true},
		&urfave.StringFlag{Name: "outputs", Usage: "the transform step's --output prefix", Required: true},
		&urfave.StringFlag{Name: "classes", Usage: "the manifest step's classes.json", Required: true},
		&urfave.StringFlag{Name: "out", Usage: "the output folder", Required: true},
		&urfave.IntFlag{Name: "concurrency", Value: 64, Usage: "objects read at once"},
		&urfave.BoolFlag{Name: "allow-incomplete", Usage: "exit 0 even when some photos are missing or invalid"},
		&urfave.StringFlag{Name: "model", Usage: "the SageMaker model, to label the rows"},
		&urfave.StringFlag{Name: "transform-job", Usage: "the transform job, to label the rows"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Positive(c, "concurrency"); err != nil {
			return nil, err
		}
		store := env.Storage()
		defer store.Close()
		res, err := inspect.CollectPredictions(ctx, store, inspect.CollectOptions{
			Staged: c.String("staged"), Outputs: c.String("outputs"), Classes: c.String("classes"), Out: c.String("out"),
			Concurrency: c.Int("concurrency"), AllowIncomplete: c.Bool("allow-incomplete"),
			Model: c.String("model"), TransformJob: c.String("transform-job"), Progress: env.Progress(), Logger: env.Logger,
		})
		if res == nil {
			return nil, err
		}
		return res, err
	},
}
