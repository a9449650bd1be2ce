package creditcmd

import (
	"context"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/internal/cli"
)

// CalibrateStep is the calibrate step of reviewlens.
var CalibrateStep = cli.Step{
	Name:  "calibrate",
	Usage: "choose the policy's thresholds so automatic decisions reach a guaranteed accuracy",
	Description: `Joins the predictions of photos whose class is known (the validation split of the
manifest step's labels.parquet) to their labels, and for each review type calibrates
the automatic grants and the automatic rejects separately: each gets the lowest
confidence threshold at which their accuracy is at least --target-accuracy with
probability 1 - --delta over the calibration set (Clopper-Pearson bound, fixed-
sequence testing, delta shared among the families). A family the data cannot certify
(too few photos: about 150 decided photos are needed for 98% even with no error) is
never decided automatically. Writes the policy with its thresholds and a certificate
of what they guarantee to --out, and an HTML report to --report.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "predictions", Usage: "predictions.parquet of labelled photos", Required: true},
		&urfave.StringFlag{Name: "labels", Usage: "the manifest step's labels.parquet", Required: true},
		&urfave.StringFlag{Name: "policy", Usage: "the policy to calibrate (default: the built-in rule, nothing automatic)"},
		&urfave.StringFlag{Name: "split", Value: "validation", Usage: "the labels' split to calibrate on: validation (held out of training) or all (when every photo was held out); never train"},
		&urfave.Float64Flag{Name: "target-accuracy", Value: 0.98, Usage: "accuracy each family of automatic decisions must reach"},
		&urfave.Float64Flag{Name: "delta", Value: 0.05, Usage: "chance the guarantee fails, over the draw of the calibration set"},
		&urfave.StringFlag{Name: "out", Usage: "where the calibrated policy (YAML) goes", Required: true},
		&urfave.StringFlag{Name: "report", Usage: "where the HTML report goes"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Fraction(c, "target-accuracy", "delta"); err != nil {
			return nil, err
		}
		store := env.Storage()
		defer store.Close()
		res, err := Calibrate(ctx, store, CalibrateConfig{
			Predictions: c.String("predictions"), Labels: c.String("labels"), Policy: c.String("policy"),
			Split: c.String("split"), Out: c.String("out"), Report: c.String("report"),
			Options: credit.CalibrateOptions{TargetAccuracy: c.Float64("target-accuracy"), Delta: c.Float64("delta")},
			Logger:  env.Logger,
		})
		if res == nil {
			return nil, err
		}
		return res, err
	},
}

// CreditStep is the credit step of reviewlens.
var CreditStep = cli.Step{
	Name:  "credit",
	Usage: "decide each review of the day: grant, reject or send to a person",
	Description: `Decides every review of --reviews from its photos' predictions and the policy:
grant (with the rule's credit), reject, or manual (a person looks). A photo without a
usable prediction always sends its review to a person. Writes decisions.parquet (one
row per review: the decision, the credit, each photo's class and confidence, and the
reasons, line by line) and summary.json into --out, and an HTML report to --report.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "predictions", Usage: "the predictions step's predictions.parquet", Required: true},
		&urfave.StringFlag{Name: "reviews", Usage: "the day's reviews (Parquet or CSV)", Required: true},
		&urfave.StringFlag{Name: "policy", Usage: "the calibrated policy (YAML)", Required: true},
		&urfave.StringFlag{Name: "out", Usage: "the output folder", Required: true},
		&urfave.StringFlag{Name: "report", Usage: "where the HTML report goes"},
		&urfave.StringFlag{Name: "on-bad-row", Value: "fail", Usage: "a row that names no review: fail (exit 2) or skip (to rejected.jsonl); a bad row that names its review sends it to a person either way"},
		&urfave.BoolFlag{Name: "allow-empty", Usage: "accept a reviews file with no rows (a day with no reviews)"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		store := env.Storage()
		defer store.Close()
		res, err := Credit(ctx, store, CreditConfig{
			Predictions: c.String("predictions"), Reviews: c.String("reviews"), Policy: c.String("policy"),
			Out: c.String("out"), Report: c.String("report"), OnBadRow: c.String("on-bad-row"), AllowEmpty: c.Bool("allow-empty"),
			Logger: env.Logger,
		})
		if res == nil {
			return nil, err
		}
		return res, err
	},
}
