// Package creditcmd is the calibrate and credit steps' commands: flags in,
// credit.CalibratePolicy or credit.DecideDay called, result out.
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
manifest step's labels.parquet) to their labels, scores each photo as each review type
would decide it (the probability that it qualifies), and calibrates the thresholds of
the automatic decisions: with --guarantee per-decision (the default) the grants and the
rejects each reach --target-accuracy with probability 1 - --delta/2 over the
calibration set; overall bounds every automatic decision together; per-review-type
each type's grants and rejects (Clopper-Pearson bound, fixed-sequence testing). A
family the data cannot certify is never decided automatically, and the result says
how many more labelled photos would certify it. Without --policy the rule of the
business is built for the labels' classes (product and full-length qualify). Writes
the policy with its certificate to --out and an HTML report to --report.`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "predictions", Usage: "predictions.parquet of labelled photos", Required: true},
		&urfave.StringFlag{Name: "labels", Usage: "the manifest step's labels.parquet (or its folder)", Required: true},
		&urfave.StringFlag{Name: "classes", Usage: "the class list, classes.json (default: the one beside --labels)"},
		&urfave.StringFlag{Name: "policy", Usage: "the policy to calibrate (default: the rule of the business for the labels' classes)"},
		&urfave.StringFlag{Name: "split", Value: "validation", Usage: "the labels' split to calibrate on: validation (held out of training) or all (when every photo was held out); never train"},
		&urfave.StringFlag{Name: "target-accuracy", Value: "0.98", Usage: "accuracy the automatic decisions must reach: 0.98, or per decision grant=0.99,reject=0.97"},
		&urfave.Float64Flag{Name: "delta", Value: 0.05, Usage: "chance the guarantee fails, over the draw of the calibration set"},
		&urfave.StringFlag{Name: "guarantee", Usage: "per-decision, overall or per-review-type (default: the policy's, else per-decision)"},
		&urfave.BoolFlag{Name: "allow-biased-sample", Usage: "calibrate on labels not marked as a random sample (the guarantee then holds for photos like them only)"},
		&urfave.StringFlag{Name: "out", Usage: "where the calibrated policy (YAML) goes", Required: true},
		&urfave.StringFlag{Name: "report", Usage: "where the HTML report goes"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Fraction(c, "delta"); err != nil {
			return nil, err
		}
		all, byDecision, err := credit.ParseTargets(c.String("target-accuracy"))
		if err != nil {
			return nil, cli.BadInputf("--target-accuracy %s: %v", c.String("target-accuracy"), err)
		}
		store := env.Storage()
		defer store.Close()
		res, err := credit.CalibratePolicy(ctx, store, credit.CalibratePolicyOptions{
			CalibrationSetOptions: credit.CalibrationSetOptions{
				Predictions: c.String("predictions"), Labels: c.String("labels"), Split: c.String("split"),
				AllowBiasedSample: c.Bool("allow-biased-sample"),
			},
			Policy: c.String("policy"), Classes: c.String("classes"), Out: c.String("out"), Report: c.String("report"),
			Calibrate: credit.CalibrateOptions{TargetAccuracy: all, Targets: byDecision, Delta: c.Float64("delta"), Guarantee: c.String("guarantee")},
			Logger:    env.Logger,
		})
		if err != nil {
			return nil, err
		}
		return res, nil
	},
}

// CreditStep is the credit step of reviewlens.
var CreditStep = cli.Step{
	Name:  "credit",
	Usage: "decide each review of the day: grant, reject or send to a person",
	Description: `Decides every review of --reviews from its photos' predictions and the policy:
grant (with the rule's credit), reject, or manual (a person looks). A photo without a
usable prediction, or whose prediction is of another photo, sends its review to a
person; so does a bad row of the review. The policy's audit_rate sends that share of
the automatic decisions to a person, the automatic decision kept beside. Writes
decisions.parquet (one row per review: the decision, the credit, each photo's class
and confidence, and the reasons, line by line) and summary.json into --out, and an
HTML report to --report.`,
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
		res, err := credit.DecideDay(ctx, store, credit.DayOptions{
			Predictions: c.String("predictions"), Reviews: c.String("reviews"), Policy: c.String("policy"),
			Out: c.String("out"), Report: c.String("report"), OnBadRow: c.String("on-bad-row"), AllowEmpty: c.Bool("allow-empty"),
			Logger: env.Logger,
		})
		if err != nil {
			return nil, err
		}
		return res, nil
	},
}
