// Package labelscmd is the labels step's command: the photos inspectors
// classified, out of the credit ledger, for retraining and calibration.
package labelscmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
)

// Step is the labels step of reviewlens.
var Step = cli.Step{
	Name:  "labels",
	Usage: "write the photos inspectors classified as a Ground Truth output manifest, and the audits' as a calibration set",
	Description: `Reads the photo classes recorded by resolve from --since to --until (the days the
answers were recorded, UTC; a weekly run from the day after the last one gets
every label once) and writes, into --out:

  output.manifest          the photos of the inspection queue, as a Ground Truth
                           output manifest of a single-label image-classification
                           job (label attribute --label-attribute, job-name
                           labeling-job/<--job-name>, confidence 1, human-annotated
                           yes): the manifest step reads it as it is, to retrain;
  calibration.parquet      the photos of the audits, as a labels table in the
                           validation split, for calibrate;
  calibration.sample.json  its marker: "sample": "random";
  summary.json             the result, written last.

Why two files: only audits are a random sample of what the model decides (a hash
of day and review picks them, whatever the photos show). The queue's photos are
the ones the model was unsure of: good to learn from, but a calibration on them
would describe the hard cases, not the decisions. So a photo goes to one file,
never both: the audits are kept out of training, so that the model trained on
the manifest can be calibrated on them. A photo given two classes, or a class
not in --classes, is left out and counted.

The step never creates a ledger: no ledger at --db is exit 2.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "db", Value: ledger.DefaultDSN, Usage: "the ledger's DSN"},
		&urfave.StringFlag{Name: "since", Usage: "the first day of answers exported, `YYYY-MM-DD` (UTC)", Required: true},
		&urfave.StringFlag{Name: "until", Usage: "the last day of answers exported, `YYYY-MM-DD` (default: no bound)"},
		&urfave.StringFlag{Name: "out", Usage: "the output folder (a path or an s3:// URI)", Required: true},
		&urfave.StringFlag{Name: "classes", Usage: "the model's class list: the manifest step's classes.json, a label-category config, or names \"a,b,c\"", Required: true},
		&urfave.StringFlag{Name: "label-attribute", Value: ledger.DefaultLabelAttribute, Usage: "the label attribute of the output manifest"},
		&urfave.StringFlag{Name: "job-name", Value: ledger.DefaultJobName, Usage: "the labelling job named in the labels' metadata"},
		&urfave.StringFlag{Name: "base-manifest", Usage: "a Ground Truth output manifest to retrain on with the new labels (the labelling job's, with the same --label-attribute): output.manifest holds its lines, then the new ones"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := env.Storage()
		defer store.Close()
		res, err := ledger.ExportLabels(ctx, store, ledger.LabelsOptions{
			DB: c.String("db"), Since: c.String("since"), Until: c.String("until"), Out: c.String("out"),
			Classes: c.String("classes"), Attribute: c.String("label-attribute"), JobName: c.String("job-name"),
			Base: c.String("base-manifest"), Logger: env.Logger,
		})
		if err != nil {
			return nil, err // not a typed nil: no result on stdout
		}
		return res, nil
	},
}
