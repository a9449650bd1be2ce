package runcmd_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/daily"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/demo"
	"github.com/reviewlens/reviewlens/internal/runcmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
	"github.com/reviewlens/reviewlens/synth"
)

// config is a run on the demo's folder, with the local backend.
const config = `# a day on the demo's model and policy
backend: local
local_root: local
buckets:
  reviewlens-demo: bucket
reviews: s3://reviewlens-demo/reviews/dt={day}/reviews.parquet
stage:
  out: s3://reviewlens-demo/staged/dt={day}/
transform:
  output: s3://reviewlens-demo/outputs/dt={day}/
  model_from_runs: s3://reviewlens-demo/models/runs.parquet
predictions:
  out: s3://reviewlens-demo/predictions/dt={day}/
  classes: s3://reviewlens-demo/labels/classes.json
credit:
  policy: s3://reviewlens-demo/policy/policy.yaml
  out: s3://reviewlens-demo/decisions/dt={day}/
  report: reports/day-{day}.html
publish:
  db: sqlite:ledger.db
`

// TestRunLocal: on the data of a small demo, `reviewlens run --backend
// local` runs a new day end to end; run again, it skips every step and
// grants nothing twice.
func TestRunLocal(t *testing.T) {
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := demo.Run(t.Context(), demo.Options{Dir: dir, Photos: 200, Reviews: 20, Seed: 4, Epochs: 1, Grid: []string{"learning_rate=0.1"}, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	reviews, err := synth.WriteDay(t.Context(), filepath.Join(dir, "bucket", "reviews", "dt=2026-11-29"), day, 30, 9, synth.DayOptions{BaseURI: "s3://reviewlens-demo/reviews/dt=2026-11-29/"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := steptest.WriteFile(t, dir, "run.yaml", []byte(config))

	run := func() daily.Result {
		t.Helper()
		code, stdout, stderr := steptest.Run(t, runcmd.Step, "--day", "2026-11-29", "--config", cfg)
		if code != 0 {
			t.Fatalf("run: exit %d: %s", code, steptest.LastLine(stderr))
		}
		var res daily.Result
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := run()
	var steps []string
	for _, s := range first.Steps {
		steps = append(steps, s.Step+":"+s.Status)
	}
	if got, want := strings.Join(steps, " "), "stage:done transform:done predictions:done credit:done publish:done"; got != want {
		t.Fatalf("steps %s, want %s", got, want)
	}
	s := first.Summary
	if first.Backend != "local" || s.Reviews != 30 || s.Photos != reviews.Photos ||
		s.ByDecision[credit.Grant]+s.ByDecision[credit.Reject]+s.ByDecision[credit.Manual] != 30 || s.QueueLength < s.ByDecision[credit.Manual] {
		t.Errorf("summary %+v (backend %s): want 30 reviews of %d photos, all decided, the manual ones queued", s, first.Backend, reviews.Photos)
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "day-2026-11-29.html")); err != nil {
		t.Errorf("the day's report, relative to the config: %v", err)
	}

	second := run()
	for _, st := range second.Steps {
		if st.Status != "skipped" || st.Reason == "" {
			t.Errorf("second run: step %s %s (%q): want skipped, saying why", st.Step, st.Status, st.Reason)
		}
	}
	if len(second.Steps) != 5 || second.Summary.Reviews != 30 || second.Summary.CreditsGranted != s.CreditsGranted || second.Summary.QueueLength != s.QueueLength {
		t.Errorf("second run %+v: want the five steps skipped and the same day", second)
	}
}

// TestConfigErrors: a config error names the key and its line, exit 2.
func TestConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct{ edit, want string }{
		"unknown key":         {"  out: s3://reviewlens-demo/staged/dt={day}/\n", "  out: s3://reviewlens-demo/staged/dt={day}/\n  outt: x\n"},
		"unknown placeholder": {"dt={day}/reviews", "dt={ds}/reviews"},
		"missing key":         {"  classes: s3://reviewlens-demo/labels/classes.json\n", ""},
		"two models":          {"  model_from_runs:", "  model: m\n  model_from_runs:"},
		"bad duration":        {"transform:\n", "transform:\n  poll_interval: soon\n"},
		"role not an ARN":     {"transform:\n", "transform:\n  role: reviewlens\n"},
		"role of a model":     {"  model_from_runs: s3://reviewlens-demo/models/runs.parquet\n", "  model: m\n  role: arn:aws:iam::123456789012:role/t\n"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := strings.Replace(config, tc.edit, tc.want, 1)
			if cfg == config {
				t.Fatal("the edit changed nothing")
			}
			path := steptest.WriteFile(t, dir, "run.yaml", []byte(cfg))
			os.MkdirAll(filepath.Join(dir, "bucket"), 0o755)
			code, _, stderr := steptest.Run(t, runcmd.Step, "--day", "2026-11-29", "--config", path)
			last := steptest.LastLine(stderr)
			if code != cli.ExitBadInput || !strings.Contains(last, "run.yaml") {
				t.Fatalf("exit %d, %q: want %d naming the file", code, last, cli.ExitBadInput)
			}
			want := map[string][]string{
				"unknown key":         {"line 9", "outt"},
				"unknown placeholder": {"line 6", "reviews", "{ds}"},
				"missing key":         {"line 12", "predictions.classes"},
				"two models":          {"line 9", "transform", "exactly one"},
				"bad duration":        {"line 10", "soon"},
				"role not an ARN":     {"line 10", "transform.role", "IAM role ARN"},
				"role of a model":     {"transform.role", "its own role"},
			}[name]
			for _, w := range want {
				if !strings.Contains(last, w) {
					t.Errorf("%q does not say %q", last, w)
				}
			}
		})
	}
}
