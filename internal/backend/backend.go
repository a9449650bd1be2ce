// Package backend opens what a step runs its SageMaker jobs on, from the
// flags every job step shares: --backend aws (the SDK's client, on
// --region and --endpoint-url) or --backend local (sagemaker/local: the
// jobs run in this process, their state under --local-root).
package backend

import (
	"context"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/local"
	"github.com/reviewlens/reviewlens/storage"
)

// The backends, the values of --backend.
const (
	AWS   = "aws"
	Local = "local"
)

// LocalRegion is the region the local backend's jobs are said to run in.
const LocalRegion = "local"

// LocalImage is the training and inference image named in the local
// backend's jobs and models: the built-in algorithm run by package
// sagemaker/local.
const LocalImage = "reviewlens/local-image-classification:1"

// LocalPollInterval is the first wait between looks at a local job when
// --poll-interval is not given: local jobs take seconds, not minutes.
const LocalPollInterval = 250 * time.Millisecond

// LocalPolling is the polling of a local job when --poll-interval is not
// given.
var LocalPolling = sagemaker.Polling{Interval: LocalPollInterval, Max: 2 * time.Second}

// LocalLogs follows the logs of the local client c's jobs.
func LocalLogs(c *local.Client) *sagemaker.LogFollower {
	return &sagemaker.LogFollower{Source: c.Logs(), Interval: time.Second, Settle: 100 * time.Millisecond}
}

// Flags are --backend and --local-root.
func Flags() []urfave.Flag {
	return []urfave.Flag{
		&urfave.StringFlag{Name: "backend", Value: AWS, Usage: "aws (SageMaker) or local (train and classify on this machine, no AWS account)"},
		&urfave.StringFlag{Name: "local-root", Usage: "with --backend local: the folder its jobs and models live in (default: <user cache dir>/reviewlens/local)"},
	}
}

// A Backend is the SageMaker API a step runs its jobs on.
type Backend struct {
	API sagemaker.API
	// Name is AWS or Local.
	Name string
	// Region is where the jobs run: the AWS region, or LocalRegion.
	Region string
	// Local is the local client, when Name is Local.
	Local *local.Client
	// Logs follows the jobs' logs (CloudWatch Logs, or the local jobs'
	// log files) when --logs is given; nil otherwise.
	Logs *sagemaker.LogFollower
}

// Options say which backend to open.
type Options struct {
	Backend   string // AWS ("" means it) or Local
	LocalRoot string // Local only: its root; "" means local.DefaultRoot
	// Storage is what local jobs read their channels and photos with and
	// write their artifacts and outputs to: the step's own.
	Storage *storage.Storage
	// Logs makes a LogFollower of the jobs' logs, read every Poll at
	// most.
	Logs bool
	Poll time.Duration
}

// Open opens the backend the step's flags name: --backend, --local-root,
// --logs and --poll-interval.
func Open(ctx context.Context, c *urfave.Context, env *cli.Env, store *storage.Storage) (*Backend, error) {
	return OpenWith(ctx, env, Options{Backend: c.String("backend"), LocalRoot: c.String("local-root"), Storage: store,
		Logs: c.Bool("logs"), Poll: c.Duration("poll-interval")})
}

// OpenWith opens a backend.
func OpenWith(ctx context.Context, env *cli.Env, o Options) (*Backend, error) {
	switch o.Backend {
	case "", AWS:
		if o.LocalRoot != "" {
			return nil, cli.BadInputf("--local-root %s: only with --backend local", o.LocalRoot)
		}
		clients, err := jobs.Connect(ctx, env, o.Logs, o.Poll)
		if err != nil {
			return nil, err
		}
		return &Backend{API: clients.SageMaker, Name: AWS, Region: clients.Region, Logs: clients.Logs}, nil
	case Local:
		c, err := local.New(local.Options{Root: o.LocalRoot, Storage: o.Storage, Logger: env.Logger})
		if err != nil {
			return nil, cli.BadInputf("--local-root: %v", err)
		}
		b := &Backend{API: c, Name: Local, Region: LocalRegion, Local: c}
		if o.Logs {
			b.Logs = LocalLogs(c)
		}
		return b, nil
	}
	return nil, cli.BadInputf("--backend %q: want aws or local", o.Backend)
}

// Close stops the local jobs this process still runs (they end Stopped)
// and waits for them; on AWS it does nothing.
func (b *Backend) Close() error {
	if b.Local != nil {
		return b.Local.Close()
	}
	return nil
}

// Poll is the polling of a job step: --poll-interval, or for local jobs
// LocalPollInterval when the flag is not given.
func (b *Backend) Poll(c *urfave.Context, flag string) sagemaker.Polling {
	if b.Local != nil && !c.IsSet(flag) {
		return LocalPolling
	}
	return sagemaker.Polling{Interval: c.Duration(flag)}
}

// LocalRole is the execution role named in the local backend's jobs when
// none is given: it assumes nothing.
const LocalRole = "arn:aws:iam::000000000000:role/reviewlens-local"
