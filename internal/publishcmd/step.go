package publishcmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/storage"
)

// PublishStep is the publish step of reviewlens.
var PublishStep = cli.Step{
	Name:  "publish",
	Usage: "store a day's decisions in the credit ledger, each credit granted once",
	Description: `Publishes decisions.parquet into the ledger in one transaction: a review is
granted at most once, ever (a unique constraint); publishing the same day again
changes nothing; a review whose decision changed since it was granted is recorded as
a conflict for a person and not applied; manual decisions join the inspection queue.
The ledger is PostgreSQL ("postgres://...", loaded with COPY) or the embedded
SQLite ("sqlite:PATH", the default sqlite:reviewlens.db). The database password never
appears in logs or the result.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "decisions", Usage: "the credit step's decisions.parquet (or its folder)", Required: true},
		&urfave.StringFlag{Name: "db", Value: DefaultDB, Usage: "the ledger's DSN"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := storage.New(storage.Options{Region: env.Region, EndpointURL: env.EndpointURL, Logger: env.Logger})
		res, err := Publish(ctx, store, c.String("decisions"), c.String("db"), env.Logger)
		if err != nil {
			return nil, err
		}
		return res, nil
	},
}

// QueueStep is the queue step of reviewlens.
var QueueStep = cli.Step{
	Name:  "queue",
	Usage: "export the open inspection queue of the credit ledger",
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "db", Value: DefaultDB, Usage: "the ledger's DSN"},
		&urfave.StringFlag{Name: "out", Usage: "where the queue goes: .csv, else JSON Lines", Required: true},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := storage.New(storage.Options{Region: env.Region, EndpointURL: env.EndpointURL, Logger: env.Logger})
		res, err := ExportQueue(ctx, store, c.String("db"), c.String("out"))
		if err != nil {
			return nil, err
		}
		return res, nil
	},
}
