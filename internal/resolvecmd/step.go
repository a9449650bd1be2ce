// Package resolvecmd is the resolve step's command: inspectors' answers on
// the inspection queue into the credit ledger.
package resolvecmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
)

// Step is the resolve step of reviewlens.
var Step = cli.Step{
	Name:  "resolve",
	Usage: "record inspectors' answers on the inspection queue in the credit ledger, each credit granted once",
	Description: `Reads --answers, CSV or Parquet (told apart by the file's bytes: Parquet starts
and ends with PAR1), and records each answer on an open item of the inspection
queue, in one transaction. The columns, by name in any order and case:

  review_id    the review answered
  outcome      grant or reject
  inspector    who decided
  decided_at   when, RFC 3339 ("2026-11-29T14:03:00Z"; without a zone, UTC)

and optionally, all three together, the class the person gave each photo (for
retraining: see the labels step):

  image_index  the photo's image_index in its review
  image_uri    the photo, s3://bucket/key (.jpg, .jpeg or .png)
  class_name   its class (one of --classes, when given)

With the photo columns, a review has one row per photo it classifies, and all
its rows give the same outcome, inspector and decided_at; a review answered
without photo classes has one row with the three left empty. Other columns are
ignored.

A person's grant grants the review's credit (what its rule pays) in the ledger's
grants, beside the policy's, once, ever: the database holds a review to one
decision, one answer, and answers on manual decisions only. An answer on a
review that is not open in the queue (decided automatically, unknown to the
ledger or its day not published yet, or answered otherwise before) is a
conflict: recorded once in the ledger's answer_conflicts and not applied. The
same file again changes nothing (its answers count as unchanged). On an audit,
the person's decision is the one that counts.

A bad row (its row, column and what was expected are named) stops the step
with exit 2 before anything is recorded, or with --on-bad-row skip goes to
--rejected (JSON Lines) with its review's other rows, and the rest is recorded.
The step never creates a ledger: no ledger at --db is exit 2.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "db", Value: ledger.DefaultDSN, Usage: "the ledger's DSN"},
		&urfave.StringFlag{Name: "answers", Usage: "the inspectors' answers, CSV or Parquet (a path or an s3:// URI)", Required: true},
		&urfave.StringFlag{Name: "on-bad-row", Value: "fail", Usage: "fail: stop with exit 2 on a bad row, recording nothing; skip: write it to --rejected and record the rest"},
		&urfave.StringFlag{Name: "rejected", Usage: "where --on-bad-row skip writes bad rows (default: beside --answers, <name>.rejected.jsonl)"},
		&urfave.StringFlag{Name: "classes", Usage: "the model's class list, to check class_name: a class map file (classes.json) or names \"a,b,c\""},
		&urfave.BoolFlag{Name: "allow-empty", Usage: "accept an answers file with no rows"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := env.Storage()
		defer store.Close()
		res, err := ledger.ResolveFile(ctx, store, ledger.ResolveOptions{
			DB: c.String("db"), Answers: c.String("answers"), OnBadRow: c.String("on-bad-row"), Rejected: c.String("rejected"),
			Classes: c.String("classes"), AllowEmpty: c.Bool("allow-empty"), Logger: env.Logger,
		})
		if err != nil {
			return nil, err // not a typed nil: no result on stdout
		}
		return res, nil
	},
}
