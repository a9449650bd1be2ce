// Package stagecmd is the stage step's command: flags in, inspect.Stage
// called, result out.
package stagecmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/cli"
)

// Step is the stage step of reviewlens.
var Step = cli.Step{
	Name:  "stage",
	Usage: "check the day's review photos and list them for a Batch Transform job",
	Description: `Reads the day's reviews (--reviews: Parquet or CSV, one row per photo) and
checks every photo before anything is submitted: one HEAD each, concurrently. A
photo must exist, be no larger than --max-payload-mb (the transform job's
MaxPayloadInMB; MB = 10^6 bytes), and be JPEG or PNG (.jpg, .jpeg, .png, or by
its first bytes when the extension says nothing).

Writes, into --out: staged.parquet (the photos that passed, by review_id then
image_index, with the key each is read from and the key of its output),
input.manifest (a Batch Transform ManifestFile: use it as the job's S3Uri with
S3DataType ManifestFile), rejected.jsonl (every photo not staged, with its
reason) and summary.json (the result, written last).

When the photos that passed share a prefix they are listed where they are.
When they do not (different buckets), or with --copy, each is copied
(server-side on S3) to <input-prefix>/dt=<day>/<review_id>/<image_index><ext>
and listed there.

With --on-bad-row fail (the default) a bad row, or a photo that fails its
checks, stops the step with exit 2, listing the first 20; with skip they go to
rejected.jsonl, are counted by reason, and the rest is staged.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "reviews", Usage: "the day's reviews, Parquet or CSV (s3:// URI or path)", Required: true},
		&urfave.StringFlag{Name: "day", Usage: "the inspection day, `YYYY-MM-DD`", Required: true},
		&urfave.StringFlag{Name: "out", Usage: "the output folder (s3:// URI or path)", Required: true},
		&urfave.StringFlag{Name: "input-prefix", Usage: "where photos are copied when they must be: <input-prefix>/dt=<day>/ (s3:// URI or path)"},
		&urfave.BoolFlag{Name: "copy", Usage: "copy every photo under --input-prefix, even when they share a prefix"},
		&urfave.IntFlag{Name: "max-payload-mb", Value: inspect.DefaultMaxPayloadMB, Usage: "the transform job's MaxPayloadInMB: a larger photo is refused"},
		&urfave.IntFlag{Name: "concurrency", Value: inspect.DefaultStageConcurrency, Usage: "concurrent HEADs and copies"},
		&urfave.StringFlag{Name: "on-bad-row", Value: "fail", Usage: "fail: stop with exit 2 on a bad row or photo; skip: write it to rejected.jsonl and go on"},
		&urfave.BoolFlag{Name: "allow-empty", Usage: "accept a reviews file with no rows (a day with no reviews): nothing is staged"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if c.Int("max-payload-mb") == 0 {
			// Config reads 0 as the default; on the command line it is
			// SageMaker's chunked encoding, which built-ins do not support.
			return nil, cli.BadInputf("--max-payload-mb 0: want 1 to 100 (0, chunked encoding, does not work with built-in algorithms)")
		}
		if err := cli.Positive(c, "concurrency"); err != nil {
			return nil, err
		}
		store := env.Storage()
		defer store.Close()
		res, err := inspect.Stage(ctx, store, inspect.StageOptions{
			Reviews:      c.String("reviews"),
			Day:          c.String("day"),
			Out:          c.String("out"),
			InputPrefix:  c.String("input-prefix"),
			Copy:         c.Bool("copy"),
			MaxPayloadMB: c.Int("max-payload-mb"),
			Concurrency:  c.Int("concurrency"),
			OnBadRow:     c.String("on-bad-row"),
			AllowEmpty:   c.Bool("allow-empty"),
			Progress:     env.Progress(),
			Logger:       env.Logger,
		})
		if err != nil {
			return nil, err // not a typed nil: no result on stdout
		}
		return res, nil
	},
}
