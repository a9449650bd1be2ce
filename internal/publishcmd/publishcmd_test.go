package publishcmd_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
	"github.com/reviewlens/reviewlens/internal/steptest"
)

func run(t *testing.T, step cli.Step, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	app := cli.App("reviewlens", "test", cli.Command(step))
	code := cli.Run(context.Background(), app, append([]string{"reviewlens", step.Name, "--log-format", "json"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestPublishTwiceAndQueue(t *testing.T) {
	dir := t.TempDir()
	rows := []credit.DecisionRow{
		{Decision: credit.Decision{ReviewID: "r-1", ReviewType: "style", Decision: credit.Grant, Credit: 1000,
			Reasons: []string{"photo 0: full-length 0.99 ≥ 0.95 (grant threshold): qualifies"}, Classes: []string{"full-length"}, Confidences: []float64{0.99}},
			PolicyVersion: "v1", Day: "2026-11-28"},
		{Decision: credit.Decision{ReviewID: "r-2", ReviewType: "product", Decision: credit.Manual,
			Reasons: []string{"photo 0: no prediction (missing)"}, Classes: []string{""}, Confidences: []float64{math.NaN()}},
			PolicyVersion: "v1", Day: "2026-11-28"},
		{Decision: credit.Decision{ReviewID: "r-3", ReviewType: "product", Decision: credit.Reject,
			Reasons: []string{"photo 0: packaging 0.97 ≥ 0.90 (reject threshold): does not qualify"}, Classes: []string{"packaging"}, Confidences: []float64{0.97}},
			PolicyVersion: "v1", Day: "2026-11-28"},
	}
	var buf bytes.Buffer
	if err := credit.WriteDecisions(&buf, rows); err != nil {
		t.Fatal(err)
	}
	decisions := filepath.Join(dir, "decisions.parquet")
	os.WriteFile(decisions, buf.Bytes(), 0o644)
	db := "sqlite:" + filepath.Join(dir, "ledger.db")

	var first, second ledger.PublishFileResult
	for i, res := range []*ledger.PublishFileResult{&first, &second} {
		code, stdout, stderr := run(t, publishcmd.PublishStep, "--decisions", decisions, "--db", db)
		if code != 0 {
			t.Fatalf("publish %d: exit %d: %s", i+1, code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), res); err != nil {
			t.Fatal(err)
		}
	}
	if first.Inserted != 3 || first.CreditsGranted != 1000 || first.Queued != 1 {
		t.Errorf("first publish %+v: want 3 inserted, 1000 credits, 1 queued", first)
	}
	if second.Inserted != 0 || second.Unchanged != 3 || second.CreditsGranted != 0 || second.Queued != 0 {
		t.Errorf("second publish %+v: want nothing new", second)
	}
	out := filepath.Join(dir, "queue.csv")
	if code, _, stderr := run(t, publishcmd.QueueStep, "--db", db, "--out", out); code != 0 {
		t.Fatalf("queue: exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "r-2,product,2026-11-28,") {
		t.Errorf("queue.csv = %q, want the header and r-2", data)
	}
	if code, _, _ := run(t, publishcmd.PublishStep, "--decisions", filepath.Join(dir, "none.parquet"), "--db", db); code != cli.ExitBadInput {
		t.Errorf("publish of a missing file: exit %d, want %d", code, cli.ExitBadInput)
	}
}

// TestQueueStep: the flags reach ExportQueue, and a bad --format or --out
// is exit 2 naming --format.
func TestQueueStep(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	rows := []credit.DecisionRow{
		{Decision: credit.Decision{ReviewID: "r-1", ReviewType: "style", Decision: credit.Grant, Credit: 1000,
			Reasons: []string{"photo 0: qualifies"}, Classes: []string{"full-length"}, Confidences: []float64{0.99}},
			PolicyVersion: "v1", Day: "2026-11-28"},
		{Decision: credit.Decision{ReviewID: "r-2", ReviewType: "product", Decision: credit.Manual,
			Reasons: []string{"photo 0: no prediction (missing)"}, Classes: []string{""}, Confidences: []float64{math.NaN()}},
			PolicyVersion: "v1", Day: "2026-11-28"},
	}
	if err := credit.WriteDecisions(&buf, rows); err != nil {
		t.Fatal(err)
	}
	db := "sqlite:" + filepath.Join(dir, "ledger.db")
	if code, _, stderr := run(t, publishcmd.PublishStep, "--decisions", steptest.WriteFile(t, dir, "decisions.parquet", buf.Bytes()), "--db", db); code != 0 {
		t.Fatalf("publish: exit %d: %s", code, stderr)
	}

	tests := []struct {
		name       string
		out        string
		format     []string // the --format argument, if any
		wantCode   int
		wantFormat string // of the result, when wantCode is 0
	}{
		{name: "format parquet, extension .out", out: "queue.out", format: []string{"--format", "parquet"}, wantFormat: "parquet"},
		{name: "csv by extension", out: "queue.csv", wantFormat: "csv"},
		{name: "unknown extension", out: "queue.txt", wantCode: cli.ExitBadInput},
		{name: "unknown format", out: "queue.csv", format: []string{"--format", "tsv"}, wantCode: cli.ExitBadInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tt.out)
			code, stdout, stderr := run(t, publishcmd.QueueStep, append([]string{"--db", db, "--out", out}, tt.format...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if code != 0 {
				if !strings.Contains(steptest.LastLine(stderr), "--format") {
					t.Errorf("message %q does not name --format", steptest.LastLine(stderr))
				}
				return
			}
			var res ledger.QueueFileResult
			if err := json.Unmarshal([]byte(stdout), &res); err != nil {
				t.Fatalf("result %q: %v", stdout, err)
			}
			if diff := cmp.Diff(ledger.QueueFileResult{DB: db, Out: out, Format: tt.wantFormat, Items: 1}, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			var ids []string
			f, err := os.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if tt.wantFormat == "parquet" {
				items, err := ledger.ReadQueue(context.Background(), f, out)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range items {
					ids = append(ids, it.ReviewID)
				}
			} else {
				records, err := csv.NewReader(f).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range records[1:] {
					ids = append(ids, r[0])
				}
			}
			if diff := cmp.Diff([]string{"r-2"}, ids); diff != "" {
				t.Errorf("review ids in %s (-want +got):\n%s", tt.out, diff)
			}
		})
	}
}
