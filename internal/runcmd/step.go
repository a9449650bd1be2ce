// Package runcmd is reviewlens run: the flags, the backend and the storage
// of daily.Run, which runs one day's inspection from one YAML config.
package runcmd

import (
	"context"
	"maps"
	"os"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/daily"
	"github.com/reviewlens/reviewlens/internal/backend"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/sagemaker"
)

// Step is reviewlens run.
var Step = cli.Step{
	Name:  "run",
	Usage: "run one day's inspection (stage, transform, predictions, credit, publish) from a YAML config",
	Description: `Runs the day's steps in order from one config file, whose values may hold {day}:

  reviews: s3://shop/exports/dt={day}/reviews.parquet
  stage:       {out: s3://rl/staged/dt={day}/}
  transform:   {output: s3://rl/outputs/dt={day}/, model_from_runs: s3://rl/models/runs.parquet}
  predictions: {out: s3://rl/predictions/dt={day}/, classes: s3://rl/labels/classes.json}
  credit:      {policy: s3://rl/policy/policy.yaml, out: s3://rl/decisions/dt={day}/}
  publish:     {db: "postgres://reviewlens@ledger/reviewlens"}

(examples/run/daily.yaml has every key.) Run it again and it skips what is done: a step
whose output folder holds its summary.json, every step before one, and publish when the
ledger holds the day's decisions; a transform job in flight is attached to, and nothing
is granted twice. The result holds every step's result and the day's numbers. With
--backend local (or backend: local), the transform runs on this machine.`,
	Flags: append(backend.Flags(),
		&urfave.StringFlag{Name: "day", Usage: "the day to run, YYYY-MM-DD", Required: true},
		&urfave.StringFlag{Name: "config", Usage: "the run's YAML config (a path or an s3:// URI)", Required: true},
		&urfave.BoolFlag{Name: "logs", Usage: "follow the transform job's logs into the run's log (also: logs: true)"},
		&urfave.DurationFlag{Name: "poll-interval", Value: 30 * time.Second, Usage: "the first wait between looks at the transform job (also: transform.poll_interval)"},
	),
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		start := time.Now()
		day := c.String("day")
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			return nil, cli.BadInputf("--day %s: want YYYY-MM-DD", clip.Q(day))
		}
		if err := cli.Positive(c, "poll-interval"); err != nil {
			return nil, err
		}
		store := env.Storage()
		data, file, err := store.ReadInput(ctx, "--config", c.String("config"), "")
		store.Close()
		if err != nil {
			return nil, err
		}
		cfg, err := daily.ParseConfig(data, file, day)
		if err != nil {
			return nil, cli.BadInputf("--config %v", err)
		}
		// The config's settings, unless the flags say otherwise.
		if len(cfg.Buckets) > 0 {
			dirs := map[string]string{}
			for b, d := range cfg.Buckets {
				if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
					return nil, cli.BadInputf("--config %s: buckets: %s: %s is not a folder", file, b, d)
				}
				dirs["s3://"+strings.TrimPrefix(b, "s3://")] = d
			}
			maps.Copy(dirs, env.BucketDirs) // --bucket-dir wins
			env.BucketDirs = dirs
		}
		if env.Region == "" {
			env.Region = cfg.Region
		}
		opts := backend.Options{Backend: cfg.Backend, LocalRoot: cfg.LocalRoot, Logs: cfg.Logs || c.Bool("logs"), Poll: c.Duration("poll-interval")}
		if c.IsSet("backend") {
			opts.Backend = c.String("backend")
		}
		if c.IsSet("local-root") {
			opts.LocalRoot = c.String("local-root")
		}
		if cfg.Transform.PollInterval > 0 && !c.IsSet("poll-interval") {
			opts.Poll = cfg.Transform.PollInterval
		}
		store = env.Storage()
		defer store.Close()
		opts.Storage = store
		b, err := backend.OpenWith(ctx, env, opts)
		if err != nil {
			return nil, err
		}
		defer b.Close()
		poll := sagemaker.Polling{Interval: opts.Poll}
		if b.Local != nil && !c.IsSet("poll-interval") && cfg.Transform.PollInterval == 0 {
			poll = backend.LocalPolling
		}
		res, err := daily.Run(ctx, store, b.API, cfg, daily.Options{Day: day, Poll: poll, Logs: b.Logs, Progress: env.Progress(), Logger: env.Logger})
		if res == nil {
			return nil, err // not a typed nil: no result on stdout
		}
		res.Backend = b.Name
		res.ElapsedSeconds = time.Since(start).Seconds()
		return res, jobs.ExitError(err)
	},
}
