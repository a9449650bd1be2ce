// Package transformcmd is the transform step's command: its flags and the
// stage step's folder, turned into sagemaker.TransformOptions, and
// sagemaker.Transform's result and exit code.
package transformcmd

import (
	"context"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/backend"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/jobs"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// Step is the transform step of reviewlens.
var Step = cli.Step{
	Name:  "transform",
	Usage: "classify the staged photos with SageMaker Batch Transform",
	Description: `Runs a SageMaker Batch Transform job over the photos the stage step staged (its
input.manifest, a ManifestFile), with the model of a training job: --model-from-runs
takes the best row of the tune step's runs.parquet. Each photo's prediction lands at
<output>/<its key>.out.

The model and the job are named from their inputs, so a rerun attaches to the job in
progress or reuses the completed one. A transform has no maximum runtime in SageMaker:
when the step's --timeout passes, it stops the job (exit 5). A job that ends Failed
may still have written outputs for most photos: the step says how many (exit 3).`,
	Flags: append(backend.Flags(),
		&urfave.StringFlag{Name: "staged", Usage: "the stage step's --out folder", Required: true},
		&urfave.StringFlag{Name: "output", Usage: "s3:// prefix for the <photo>.out predictions", Required: true},
		&urfave.StringFlag{Name: "model", Usage: "an existing SageMaker model"},
		&urfave.StringFlag{Name: "model-from-training-job", Usage: "create (or reuse) the model of this completed training job"},
		&urfave.StringFlag{Name: "model-from-runs", Usage: "the tune step's runs.parquet: use its best job's model"},
		&urfave.StringFlag{Name: "model-role-arn", Usage: "the execution role of the model made from a training job (default: the training job's role)"},
		&urfave.StringFlag{Name: "instance-type", Value: sagemaker.DefaultTransformInstance},
		&urfave.IntFlag{Name: "instance-count", Value: 1},
		&urfave.IntFlag{Name: "max-payload-mb", Value: sagemaker.DefaultMaxPayloadMB, Usage: "the largest photo, in MB (at most 100)"},
		&urfave.IntFlag{Name: "max-concurrent-transforms", Usage: "requests per instance (0: SageMaker asks the container); × max-payload-mb ≤ 100"},
		&urfave.StringFlag{Name: "batch-strategy", Usage: "SingleRecord or MultiRecord (no effect on whole photos)"},
		&urfave.StringFlag{Name: "accept", Value: sagemaker.DefaultAccept, Usage: "output format"},
		&urfave.StringFlag{Name: "output-kms-key", Usage: "KMS key for the outputs"},
		&urfave.StringFlag{Name: "volume-kms-key", Usage: "KMS key for the instances' volumes"},
		&urfave.StringSliceFlag{Name: "env", Usage: "an environment variable of the model container, KEY=value (repeatable, at most 16)"},
		&urfave.StringSliceFlag{Name: "tag", Usage: "a tag key=value on the job (repeatable)"},
		&urfave.DurationFlag{Name: "invocations-timeout", Usage: "per photo request (1s to 1h; default SageMaker's 600s)"},
		&urfave.IntFlag{Name: "invocations-max-retries", Value: -1, Usage: "retries per photo request, 0 to 3 (default SageMaker's 3)"},
		&urfave.IntFlag{Name: "max-attempts", Value: 3, Usage: "jobs of the same inputs (a rerun retries a failed or stopped job)"},
		&urfave.BoolFlag{Name: "keep-job-on-exit", Usage: "leave the job running when the step is stopped or times out"},
		&urfave.DurationFlag{Name: "poll-interval", Value: 30 * time.Second, Usage: "the first wait between looks at the job (doubling to 5 min)"},
		&urfave.BoolFlag{Name: "logs", Usage: "follow the transform job's CloudWatch logs (/aws/sagemaker/TransformJobs) into the step's log while waiting"},
	),
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Positive(c, "instance-count", "max-payload-mb", "max-attempts", "poll-interval"); err != nil {
			return nil, err
		}
		pairs := func(flag string) (map[string]string, error) {
			m := map[string]string{}
			for _, kv := range c.StringSlice(flag) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return nil, cli.BadInputf("--%s %q: want KEY=value", flag, kv)
				}
				m[k] = v
			}
			return m, nil
		}
		envVars, err := pairs("env")
		if err != nil {
			return nil, err
		}
		tags, err := pairs("tag")
		if err != nil {
			return nil, err
		}
		spec := sagemaker.TransformSpec{
			Output:             c.String("output"),
			InstanceType:       c.String("instance-type"),
			InstanceCount:      c.Int("instance-count"),
			MaxPayloadMB:       c.Int("max-payload-mb"),
			MaxConcurrent:      c.Int("max-concurrent-transforms"),
			BatchStrategy:      c.String("batch-strategy"),
			Accept:             c.String("accept"),
			OutputKMSKey:       c.String("output-kms-key"),
			VolumeKMSKey:       c.String("volume-kms-key"),
			Environment:        envVars,
			Tags:               tags,
			InvocationsTimeout: c.Duration("invocations-timeout"),
		}
		if r := c.Int("invocations-max-retries"); r >= 0 {
			spec.InvocationsMaxRetries = &r
		}
		store := env.Storage()
		defer store.Close()
		day, folder, err := readStaged(ctx, store, c.String("staged"))
		if err != nil {
			return nil, err
		}
		spec.Model, spec.Input, spec.InputType, spec.Day = c.String("model"), storage.Join(folder, inspect.FileTransformManifest), sagemaker.InputManifestFile, day
		b, err := backend.Open(ctx, c, env, store)
		if err != nil {
			return nil, err
		}
		defer b.Close()
		res, err := sagemaker.Transform(ctx, b.API, store, sagemaker.TransformOptions{
			Spec:                 spec,
			ModelFromTrainingJob: c.String("model-from-training-job"),
			ModelFromRuns:        c.String("model-from-runs"),
			ModelRoleARN:         c.String("model-role-arn"),
			MaxAttempts:          c.Int("max-attempts"),
			KeepJobOnExit:        c.Bool("keep-job-on-exit"),
			Poll:                 b.Poll(c, "poll-interval"),
			Logger:               env.Logger,
			Logs:                 b.Logs,
		})
		if res == nil {
			return nil, jobs.ExitError(err)
		}
		return res, jobs.ExitError(err)
	},
}

// readStaged reads the stage step's staged.parquet: the day of the photos,
// and the folder of the input.manifest beside it.
func readStaged(ctx context.Context, store *storage.Storage, uri string) (day, folder string, err error) {
	staged, file, err := inspect.LoadStaged(ctx, store, "--staged", uri)
	if err != nil {
		return "", "", err
	}
	if len(staged) == 0 {
		return "", "", cli.BadInputf("%s: no photo staged: nothing to transform", file)
	}
	return staged[0].Day, file[:strings.LastIndexAny(file, "/")+1], nil
}
