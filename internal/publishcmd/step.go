// Package publishcmd holds the commands of the publish step (a day's
// decisions into the credit ledger, ledger.PublishFile) and the queue step
// (the open inspection queue out of it, ledger.ExportQueue): flags in, the
// step function called, its result out.
package publishcmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
)

// PublishStep is the publish step of reviewlens.
var PublishStep = cli.Step{
	Name:  "publish",
	Usage: "store a day's decisions in the credit ledger, each credit granted once",
	Description: `Publishes decisions.parquet into the ledger in one transaction. A review is
decided once and granted at most once, ever (the ledger's primary key); publishing
the same day again changes nothing; a decision that differs from the one stored for
its review, or on a review decided on another day, is recorded as a conflict for a
person and not applied; manual decisions join the inspection queue. A bad row
(another day, a review twice, an unknown decision) fails the step with exit code 2.
The ledger is PostgreSQL ("postgres://...", loaded with COPY) or the embedded
SQLite ("sqlite:PATH", the default sqlite:reviewlens.db). The database password never
appears in logs or the result.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "decisions", Usage: "the credit step's decisions.parquet (or its folder)", Required: true},
		&urfave.StringFlag{Name: "db", Value: ledger.DefaultDSN, Usage: "the ledger's DSN"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := env.Storage()
		defer store.Close()
		res, err := ledger.PublishFile(ctx, store, ledger.PublishOptions{
			Decisions: c.String("decisions"), DB: c.String("db"), Logger: env.Logger,
		})
		if err != nil {
			return nil, err // not a typed nil: no result on stdout
		}
		return res, nil
	},
}

// QueueStep is the queue step of reviewlens.
var QueueStep = cli.Step{
	Name:  "queue",
	Usage: "export the open inspection queue of the credit ledger as Parquet, CSV or JSON Lines",
	Description: `Writes the reviews waiting for a person, oldest first, one row each: the
review, its day, why it went to a person, its photos' classes and confidences
(empty for a photo without a prediction), the reasons, and when it was queued.
The format is --format, or else the extension of --out: .parquet (the
inspection_queue table, which DuckDB, pandas, Spark and Athena read as is), .csv,
or .jsonl, .ndjson or .json (JSON Lines), in any case. Any other extension needs
--format. An audit (a review the policy decided alone, sent to a person at
random: see the policy's audit_rate) is shown without the model's classes,
confidences and reasons, its reason starting "audit:", so that the answer
measures the model instead of agreeing with it. The step never creates a ledger.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "db", Value: ledger.DefaultDSN, Usage: "the ledger's DSN"},
		&urfave.StringFlag{Name: "out", Usage: "where the queue goes (a path or an s3:// URI): .parquet, .csv, or .jsonl, .ndjson or .json for JSON Lines", Required: true},
		&urfave.StringFlag{Name: "format", Usage: "parquet, csv or jsonl; empty means the extension of --out tells"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := env.Storage()
		defer store.Close()
		res, err := ledger.ExportQueue(ctx, store, ledger.QueueOptions{
			DB: c.String("db"), Out: c.String("out"), Format: c.String("format"),
		})
		if err != nil {
			return nil, err // not a typed nil: no result on stdout
		}
		return res, nil
	},
}
