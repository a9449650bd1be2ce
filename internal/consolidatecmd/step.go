// Package consolidatecmd is the consolidate step's command: flags in,
// consolidate.RunStep called, result out.
package consolidatecmd

import (
	"context"
	"fmt"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/manifest/consolidate"
)

// Step is the consolidate step of reviewlens.
var Step = cli.Step{
	Name:  "consolidate",
	Usage: "consolidate several inspectors' labels into a Ground Truth output manifest, weighting the reliable ones",
	Description: `Reads inspectors' answers — a Ground Truth labelling job's output folder (worker
responses under annotations/worker-response/), or an answers table in CSV or Parquet
(image_uri, inspector_id, label, answered_at) — labels every photo with Dawid–Skene EM
or a weighted majority vote, and writes into --out: output.manifest (a Ground Truth
output manifest the manifest step reads, confidence = the posterior of the chosen
class), workers.parquet (each inspector's answers, estimated accuracy and confusion
matrix), disagreements.parquet (photos below --min-posterior, with their answers),
rejected.jsonl (answers superseded by the same inspector's later one) and
summary.json (the result, written last).

A bad answer, row or file stops the step with exit 2, naming the file, row or JSON
field and what was expected.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "responses", Usage: "a labelling job's output folder or S3 prefix, or an answers table file (CSV or Parquet)", Required: true},
		&urfave.StringFlag{Name: "input-manifest", Usage: "the job's input manifest, to map datasetObjectIds to photos when no consolidation request does"},
		&urfave.StringFlag{Name: "classes", Usage: "the label-category config JSON (class names in index order)", Required: true},
		&urfave.StringFlag{Name: "method", Value: string(consolidate.DawidSkene), Usage: fmt.Sprintf("one of %v", consolidate.Methods)},
		&urfave.StringFlag{Name: "trust", Usage: "a CSV of inspector_id,accuracy[,strength] (or weight instead of accuracy): what you believe of some inspectors"},
		&urfave.StringFlag{Name: "label-attribute", Value: "category", Usage: "the label attribute of the output manifest"},
		&urfave.StringFlag{Name: "job-name", Usage: "the job-name of the output manifest (default: labeling-job/<label attribute>)"},
		&urfave.Float64Flag{Name: "min-posterior", Value: consolidate.DefaultMinPosterior, Usage: "photos whose chosen class has a lower posterior go to disagreements.parquet"},
		&urfave.StringFlag{Name: "out", Usage: "the output folder (s3:// URI or path)", Required: true},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := env.Storage()
		defer store.Close()
		opts := consolidate.RunOptions{
			Options:         consolidate.Options{Method: consolidate.Method(c.String("method"))},
			ManifestOptions: consolidate.ManifestOptions{LabelAttribute: c.String("label-attribute"), JobName: c.String("job-name")},
			MinPosterior:    c.Float64("min-posterior"),
		}
		switch opts.Method {
		case consolidate.DawidSkene, consolidate.Majority, consolidate.PlainMajority:
		default:
			return nil, cli.BadInputf("--method %q: want one of %v", opts.Method, consolidate.Methods)
		}
		res, err := consolidate.RunStep(ctx, store, consolidate.StepOptions{
			Responses: c.String("responses"), InputManifest: c.String("input-manifest"), Classes: c.String("classes"),
			Trust: c.String("trust"), Out: c.String("out"), Options: opts, Logger: env.Logger,
		})
		if err != nil {
			return nil, err // not a typed nil: no result on stdout
		}
		return res, nil
	},
}
