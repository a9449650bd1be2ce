package cli_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/reviewlens/reviewlens/internal/cli"
	urfave "github.com/urfave/cli/v2"
)

// A step binary: cmd/reviewlens-stage's main is cli.Main(cli.SingleApp(stage)).
func ExampleSingleApp() {
	stage := cli.Step{
		Name:  "stage",
		Usage: "copy the day's review photos under the transform input prefix",
		Flags: []urfave.Flag{
			&urfave.StringFlag{Name: "reviews", Required: true, Usage: "the day's reviews.parquet `URI`"},
			&urfave.IntFlag{Name: "workers", Value: 8, Usage: "copy with `N` workers"},
		},
		Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
			env.Logger.Info("staging", "reviews", c.String("reviews"), "workers", c.Int("workers"))
			return map[string]any{"staged": 3, "prefix": "s3://photos/in/dt=2026-11-28/"}, nil
		},
	}

	os.Setenv("REVIEWLENS_WORKERS", "2") // as a pod spec would
	defer os.Unsetenv("REVIEWLENS_WORKERS")
	args := []string{"reviewlens-stage", "--reviews", "s3://photos/reviews/dt=2026-11-28/reviews.parquet"}
	code := cli.Run(context.Background(), cli.SingleApp(stage), args, os.Stdout, io.Discard)
	fmt.Println("exit code", code) // Main would os.Exit(code)
	// Output:
	// {"prefix":"s3://photos/in/dt=2026-11-28/","staged":3}
	// exit code 0
}
