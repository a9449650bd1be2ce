// Package tunecmd is the tune step's command: its flags, turned into
// sagemaker.TuneOptions, and sagemaker.Tune's result and exit code.
package tunecmd

import (
	"cmp"
	"context"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/internal/backend"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// Step is the tune step of reviewlens.
var Step = cli.Step{
	Name:  "tune",
	Usage: "grid-search the built-in image classifier on SageMaker; write runs.parquet and the best model",
	Description: `Trains SageMaker's built-in image-classification algorithm on the manifest step's
outputs for every point of a grid of hyperparameters, at most --max-parallel jobs at
once, and writes runs.parquet (one row per training job, the best marked) and an HTML
report. num_classes and num_training_samples come from the manifest step's summary.json.

Run it again with the same inputs and it starts nothing new: job names derive from
the inputs, so it attaches to jobs in progress and reuses completed ones.

  reviewlens tune --train s3://b/labels/ --grid num_layers=18,34,50 --grid epochs=5,10,15 \
    --set use_pretrained_model=1 --role-arn arn:aws:iam::123456789012:role/sm --output s3://b/models/`,
	Flags: append(backend.Flags(),
		&urfave.StringFlag{Name: "train", Usage: "the manifest step's --out folder (or its train.manifest)", Required: true},
		&urfave.StringFlag{Name: "validation", Usage: "the validation manifest or folder (default: beside --train)"},
		&urfave.StringSliceFlag{Name: "grid", Usage: "a varied hyperparameter: name=v1,v2,... (repeatable)"},
		&urfave.StringSliceFlag{Name: "set", Usage: "a fixed hyperparameter: name=value (repeatable)"},
		&urfave.StringFlag{Name: "grid-file", Usage: "a YAML or JSON file with grid: and set: mappings (flags add to it)"},
		&urfave.StringFlag{Name: "role-arn", Usage: "the IAM role SageMaker assumes (required with --backend aws)"},
		&urfave.StringFlag{Name: "output", Usage: "s3:// prefix of the model artifacts", Required: true},
		&urfave.StringFlag{Name: "runs", Usage: "where runs.parquet goes (default: <output>/runs.parquet)"},
		&urfave.StringFlag{Name: "report", Usage: "where the HTML report goes (default: none)"},
		&urfave.StringFlag{Name: "input-format", Value: sagemaker.FormatAugmented, Usage: "augmented (Pipe mode, photos where they are) or lst (File mode, photos copied by the manifest step's --lst-prefix)"},
		&urfave.StringFlag{Name: "training-image", Usage: "the training image URI (default: the built-in image-classification image of the region)"},
		&urfave.StringFlag{Name: "instance-type", Value: sagemaker.DefaultInstanceType},
		&urfave.IntFlag{Name: "instance-count", Value: 1},
		&urfave.IntFlag{Name: "volume-gb", Value: sagemaker.DefaultVolumeGB},
		&urfave.DurationFlag{Name: "max-runtime", Value: sagemaker.DefaultMaxRuntime, Usage: "per training job"},
		&urfave.BoolFlag{Name: "spot", Usage: "managed spot training"},
		&urfave.DurationFlag{Name: "max-wait", Usage: "with --spot: the wait for capacity plus the runtime (default 2 × --max-runtime)"},
		&urfave.IntFlag{Name: "max-parallel", Value: 3, Usage: "training jobs in progress at once"},
		&urfave.IntFlag{Name: "max-attempts", Value: 3, Usage: "jobs per grid point (CapacityError failures are retried; a rerun retries failed and stopped jobs)"},
		&urfave.StringFlag{Name: "strategy", Value: sagemaker.StrategyTuner, Usage: "tuner (parallel training jobs) or sagemaker-grid (one Grid tuning job)"},
		&urfave.StringFlag{Name: "objective", Value: sagemaker.DefaultObjective, Usage: "the metric that picks the best job"},
		&urfave.StringFlag{Name: "objective-type", Value: sagemaker.Maximize, Usage: "Maximize or Minimize"},
		&urfave.StringFlag{Name: "job-prefix", Value: "rl-ic", Usage: "readable start of the job names"},
		&urfave.BoolFlag{Name: "keep-jobs-on-exit", Usage: "leave the jobs running when the step is stopped or times out"},
		&urfave.DurationFlag{Name: "poll-interval", Value: 30 * time.Second, Usage: "the first wait between looks at a job (doubling to 5 min)"},
		&urfave.StringSliceFlag{Name: "subnet", Usage: "VPC subnet id (repeatable; with --security-group)"},
		&urfave.StringSliceFlag{Name: "security-group", Usage: "VPC security group id (repeatable)"},
		&urfave.BoolFlag{Name: "network-isolation", Usage: "no network access for the training container"},
		&urfave.BoolFlag{Name: "inter-container-encryption", Usage: "encrypt traffic between training instances"},
		&urfave.StringFlag{Name: "volume-kms-key", Usage: "KMS key for the training volumes"},
		&urfave.StringFlag{Name: "output-kms-key", Usage: "KMS key for the model artifacts"},
		&urfave.StringFlag{Name: "checkpoint-uri", Usage: "s3:// prefix for checkpoints (spot training resumes from them)"},
		&urfave.StringSliceFlag{Name: "tag", Usage: "a tag key=value on every job (repeatable)"},
		&urfave.BoolFlag{Name: "logs", Usage: "follow the training jobs' CloudWatch logs (/aws/sagemaker/TrainingJobs) into the step's log while waiting"},
	),
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Positive(c, "instance-count", "volume-gb", "max-runtime", "max-parallel", "max-attempts", "poll-interval"); err != nil {
			return nil, err
		}
		store := env.Storage()
		defer store.Close()
		opts, err := options(c, store, env)
		if err != nil {
			return nil, err
		}
		b, err := backend.Open(ctx, c, env, store)
		if err != nil {
			return nil, err
		}
		defer b.Close()
		opts.Region, opts.Poll, opts.Logs = b.Region, b.Poll(c, "poll-interval"), b.Logs
		switch {
		case b.Local != nil:
			opts.Spec.RoleARN = cmp.Or(opts.Spec.RoleARN, backend.LocalRole)
			opts.Spec.Image = cmp.Or(opts.Spec.Image, backend.LocalImage)
		case opts.Spec.RoleARN == "":
			return nil, cli.BadInputf("--role-arn: required with --backend aws: the IAM role SageMaker assumes to run the training jobs")
		}
		res, err := sagemaker.Tune(ctx, b.API, store, opts)
		if res == nil {
			return nil, jobs.ExitError(err)
		}
		return res, jobs.ExitError(err)
	},
}

// options turns the flags into the step's options.
func options(c *urfave.Context, store *storage.Storage, env *cli.Env) (sagemaker.TuneOptions, error) {
	grid, err := sagemaker.ParseGridFlags(assignments(c.StringSlice("grid")), assignments(c.StringSlice("set")))
	if err != nil {
		return sagemaker.TuneOptions{}, cli.BadInput(err)
	}
	if f := c.String("grid-file"); f != "" {
		data, _, err := store.ReadInput(c.Context, "--grid-file", f, "")
		if err != nil {
			return sagemaker.TuneOptions{}, err
		}
		fileGrid, err := sagemaker.ParseGridFile(data)
		if err != nil {
			return sagemaker.TuneOptions{}, cli.BadInputf("--grid-file %s: %v", f, err)
		}
		if grid, err = fileGrid.Merge(grid); err != nil {
			return sagemaker.TuneOptions{}, cli.BadInput(err)
		}
	}
	tags := map[string]string{}
	for _, t := range assignments(c.StringSlice("tag")) {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			return sagemaker.TuneOptions{}, cli.BadInputf("--tag %q: want key=value", t)
		}
		tags[k] = v
	}
	data, err := readSummary(c.Context, store, c.String("train"), c.String("validation"))
	if err != nil {
		return sagemaker.TuneOptions{}, err
	}
	return sagemaker.TuneOptions{
		Data: data,
		Grid: grid,
		Spec: sagemaker.TrainingSpec{
			RoleARN:                  c.String("role-arn"),
			Image:                    c.String("training-image"),
			InputFormat:              c.String("input-format"),
			OutputPath:               c.String("output"),
			InstanceType:             c.String("instance-type"),
			InstanceCount:            c.Int("instance-count"),
			VolumeGB:                 c.Int("volume-gb"),
			MaxRuntime:               c.Duration("max-runtime"),
			Spot:                     c.Bool("spot"),
			MaxWait:                  c.Duration("max-wait"),
			VolumeKMSKey:             c.String("volume-kms-key"),
			OutputKMSKey:             c.String("output-kms-key"),
			Subnets:                  c.StringSlice("subnet"),
			SecurityGroups:           c.StringSlice("security-group"),
			NetworkIsolation:         c.Bool("network-isolation"),
			InterContainerEncryption: c.Bool("inter-container-encryption"),
			CheckpointURI:            c.String("checkpoint-uri"),
			Tags:                     tags,
		},
		JobPrefix:      c.String("job-prefix"),
		Strategy:       c.String("strategy"),
		Objective:      c.String("objective"),
		Direction:      c.String("objective-type"),
		Runs:           c.String("runs"),
		Report:         c.String("report"),
		MaxParallel:    c.Int("max-parallel"),
		MaxAttempts:    c.Int("max-attempts"),
		KeepJobsOnExit: c.Bool("keep-jobs-on-exit"),
		Poll:           sagemaker.Polling{Interval: c.Duration("poll-interval")},
		Logger:         env.Logger,
	}, nil
}

// readSummary reads the manifest step's summary.json in the folder of
// --train (or beside its train.manifest): the data tune trains on.
func readSummary(ctx context.Context, store *storage.Storage, train, validation string) (sagemaker.DataSummary, error) {
	sum, folder, err := manifest.LoadPrepared(ctx, store, "--train", train)
	if err != nil {
		return sagemaker.DataSummary{}, err
	}
	d := sagemaker.DataFrom(sum, folder)
	if strings.HasSuffix(train, ".manifest") {
		d.TrainManifest = train
	}
	if validation != "" {
		d.ValidationManifest = validation
		if !strings.HasSuffix(validation, ".manifest") {
			d.ValidationManifest = storage.Join(validation, manifest.FileValidation)
		}
	}
	return d, nil
}

// assignments puts back together name=value items that the flag parser cut
// at commas: it splits repeated flags' values at commas, so
// --grid num_layers=18,34 arrives as "num_layers=18", "34". A piece
// without "=" belongs to the item before it. The same makes
// REVIEWLENS_GRID="num_layers=18,34,epochs=5,10" two axes.
func assignments(items []string) []string {
	var out []string
	for _, it := range items {
		if !strings.Contains(it, "=") && len(out) > 0 {
			out[len(out)-1] += "," + it
			continue
		}
		out = append(out, it)
	}
	return out
}
