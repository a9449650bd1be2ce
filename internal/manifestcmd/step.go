// Package manifestcmd is the manifest step's command: flags in,
// manifest.Prepare called, result out.
package manifestcmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/manifest"
)

// Step is the manifest step of reviewlens.
var Step = cli.Step{
	Name:  "manifest",
	Usage: "turn a Ground Truth output manifest into labels.parquet and training inputs",
	Description: `Reads a SageMaker Ground Truth output manifest (JSON Lines) and writes, into --out:
labels.parquet (one row per labelled photo), train.manifest and validation.manifest
(augmented manifests for Pipe-mode training: the photos stay where they are),
classes.json (the class list, as a label-category config), rejected.jsonl (every
line not used, with its line number and reason) and summary.json (the result,
written last). With --lst-prefix it also copies the photos under that prefix and
writes train.lst and validation.lst for File-mode training.

With --on-bad-line fail (the default) a bad line stops the step with exit 2,
listing the first 20; with skip they go to rejected.jsonl and are counted.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "in", Usage: "the Ground Truth output manifest (s3:// URI or path)", Required: true},
		&urfave.StringFlag{Name: "out", Usage: "the output folder (s3:// URI or path)", Required: true},
		&urfave.StringFlag{Name: "label-attribute", Usage: "the label attribute to read (default: the only image-classification attribute)"},
		&urfave.StringFlag{Name: "classes", Usage: "the class list: a label-category config file, or names in index order \"a,b,c\" (default: from the lines' class-names)"},
		&urfave.Float64Flag{Name: "min-confidence", Usage: "leave out labels whose confidence is below this"},
		&urfave.BoolFlag{Name: "human-only", Usage: "keep only human-annotated labels (not automated labelling)"},
		&urfave.StringSliceFlag{Name: "job-name", Usage: "keep only labels made by this labelling job (repeatable)"},
		&urfave.Float64Flag{Name: "validation-fraction", Value: 0.2, Usage: "share of photos in the validation split"},
		&urfave.Int64Flag{Name: "seed", Usage: "seed of the train/validation split"},
		&urfave.StringFlag{Name: "on-bad-line", Value: "fail", Usage: "fail: stop with exit 2 on a bad line; skip: write it to rejected.jsonl and go on"},
		&urfave.StringFlag{Name: "lst-prefix", Usage: "copy the photos under this s3:// prefix and write train.lst and validation.lst (File mode)"},
		&urfave.IntFlag{Name: "copy-concurrency", Value: 32, Usage: "concurrent photo copies for --lst-prefix"},
		&urfave.StringFlag{Name: "sample", Value: "random", Usage: "how the labelling job's photos were chosen: random (calibrate trusts its validation split) or unknown"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Positive(c, "copy-concurrency"); err != nil {
			return nil, err
		}
		store := env.Storage()
		defer store.Close()
		res, err := manifest.Prepare(ctx, store, manifest.PrepareOptions{
			In:                 c.String("in"),
			Out:                c.String("out"),
			LabelAttribute:     c.String("label-attribute"),
			Classes:            c.String("classes"),
			MinConfidence:      c.Float64("min-confidence"),
			HumanOnly:          c.Bool("human-only"),
			JobNames:           c.StringSlice("job-name"),
			ValidationFraction: c.Float64("validation-fraction"),
			Seed:               c.Int64("seed"),
			OnBadLine:          c.String("on-bad-line"),
			LstPrefix:          c.String("lst-prefix"),
			CopyConcurrency:    c.Int("copy-concurrency"),
			Sample:             c.String("sample"),
			Progress:           env.Progress(),
			Logger:             env.Logger,
		})
		if err != nil {
			return nil, err // not a typed nil: no result on stdout
		}
		return res, nil
	},
}
