// Package monitorcmd is the monitor step's command: the live accuracy of
// the automatic decisions from the audits in the credit ledger, the
// automation rate and the inspection queue, with an HTML report; exit 1 on
// an alarm.
package monitorcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	urfave "github.com/urfave/cli/v2"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/clip"
	"github.com/reviewlens/reviewlens/storage"
)

// Step is the monitor step of reviewlens.
var Step = cli.Step{
	Name:  "monitor",
	Usage: "measure the live accuracy of the automatic decisions from the audits; exit 1 on an alarm",
	Description: `Reads the credit ledger (it never creates one) and reports, for the decisions of
--since to --until (default: the eight ISO weeks up to today):

  - the live accuracy of the automatic grants and rejects per ISO week, from the
    closed audits (the policy's audit_rate sends a random share of the reviews it
    decides alone to a person), with its Clopper–Pearson interval;
  - the automation rate per day, and the open inspection queue: its size and the
    age of its oldest item.

An alarm: a week's grants (or rejects) are less accurate than --target-accuracy.
Each week's grants and rejects with at least --min-audits closed audits are
tested with a sequential test at --delta/2 each, so that the decisions of a week
on target raise a false alarm with probability at most --delta however often
monitor runs (run it every day); an alarm also means the week's Clopper–Pearson
interval lies below the target. The result says how many audits a week needs to
catch a given drop.

Exit codes: 0 no alarm; 1 an alarm (the result JSON, with "alarm": true and the
windows at fault, is still written to stdout and --xcom, and so is the report),
or any other failure (then there is no result); 2 bad input, such as no ledger
at --db. A DAG can branch on the exit code, or on the result's alarm field.

--target-accuracy is the accuracy the business asks of the automatic decisions
(the ledger stores policy versions, not their certificates): one share for both,
or one each, "grant=0.99,reject=0.97".`,
	Flags: []urfave.Flag{
		&urfave.StringFlag{Name: "db", Value: ledger.DefaultDSN, Usage: "the ledger's DSN"},
		&urfave.StringFlag{Name: "since", Usage: "the first day of decisions looked at, `YYYY-MM-DD` (default: the Monday seven weeks before --until's)"},
		&urfave.StringFlag{Name: "until", Usage: "the last day of decisions looked at, `YYYY-MM-DD` (default: today, UTC)"},
		&urfave.StringFlag{Name: "target-accuracy", Value: "0.98", Usage: "the accuracy the automatic decisions must keep: a share, or one a decision, \"grant=0.99,reject=0.97\""},
		&urfave.Float64Flag{Name: "delta", Value: credit.DefaultMonitorDelta, Usage: "the chance that a week's decisions on target ever raise a false alarm"},
		&urfave.IntFlag{Name: "min-audits", Value: credit.DefaultMinAudits, Usage: "the fewest closed audits a week's grants or rejects need to be tested"},
		&urfave.StringFlag{Name: "report", Usage: "write the HTML report here (a path or an s3:// URI)"},
	},
	Action: func(ctx context.Context, c *urfave.Context, env *cli.Env) (any, error) {
		if err := cli.Fraction(c, "delta"); err != nil {
			return nil, err
		}
		if err := cli.Positive(c, "min-audits"); err != nil {
			return nil, err
		}
		target, err := ParseTarget(c.String("target-accuracy"))
		if err != nil {
			return nil, err
		}
		report := c.String("report")
		if report != "" {
			if err := storage.CheckOutFile("--report", report); err != nil {
				return nil, err
			}
		}
		res, err := ledger.Monitor(ctx, ledger.MonitorOptions{
			DB: c.String("db"), Since: c.String("since"), Until: c.String("until"),
			Target: target, Delta: c.Float64("delta"), MinAudits: c.Int("min-audits"), Logger: env.Logger,
		})
		if err != nil {
			return nil, err
		}
		if report != "" {
			store := env.Storage()
			defer store.Close()
			var buf bytes.Buffer
			if err := res.WriteReport(&buf, time.Now()); err != nil {
				return nil, err
			}
			if err := store.WriteFile(ctx, report, buf.Bytes()); err != nil {
				return nil, fmt.Errorf("--report: %w", err)
			}
		}
		if res.Alarm {
			return res, Alarm(res)
		}
		return res, nil
	},
}

// ErrAlarm is the error (wrapped) of a monitor run that raised an alarm:
// exit code 1, with the result written.
var ErrAlarm = errors.New("alarm")

// Alarm is the error the monitor step ends with when res raised an
// alarm: it wraps ErrAlarm and names the windows.
func Alarm(res *ledger.MonitorResult) error {
	return fmt.Errorf("%w: automatic decisions less accurate than their target: %s", ErrAlarm, strings.Join(res.Alarms, "; "))
}

// ParseTarget reads --target-accuracy: one share for grants and rejects
// ("0.98"), or one each ("grant=0.99,reject=0.97"; a decision left out is
// held to 0.98). Each share must be between 0 and 1, both excluded.
func ParseTarget(v string) (map[string]float64, error) {
	bad := func(format string, args ...any) error {
		return cli.BadInputf("--target-accuracy %s: %s", clip.Q(v), fmt.Sprintf(format, args...))
	}
	share := func(s string) (float64, error) {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(x > 0 && x < 1) {
			return 0, bad("%s, want a share between 0 and 1, both excluded, such as 0.98", clip.Q(strings.TrimSpace(s)))
		}
		return x, nil
	}
	if !strings.Contains(v, "=") {
		x, err := share(v)
		if err != nil {
			return nil, err
		}
		return map[string]float64{credit.Grant: x, credit.Reject: x}, nil
	}
	out := map[string]float64{}
	for _, part := range strings.Split(v, ",") {
		k, s, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || (k != credit.Grant && k != credit.Reject) {
			return nil, bad("%s, want grant=SHARE or reject=SHARE, such as grant=0.99,reject=0.97", clip.Q(part))
		}
		if _, dup := out[k]; dup {
			return nil, bad("%s given twice", k)
		}
		x, err := share(s)
		if err != nil {
			return nil, err
		}
		out[k] = x
	}
	return out, nil
}
