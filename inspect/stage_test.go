package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/progress"
	"github.com/reviewlens/reviewlens/storage"
)

// countingMeter is a progress.Meter that keeps the tasks started and what
// each counted.
type countingMeter struct {
	mu    sync.Mutex
	tasks []*countingTask
}

func (m *countingMeter) Start(what string, total int) progress.Task {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := &countingTask{what: what, total: total}
	m.tasks = append(m.tasks, t)
	return t
}

// A countingTask counts the items added, the Done calls, and the items
// added after the first Done (none should be).
type countingTask struct {
	what  string
	total int
	done  atomic.Int64
	ended atomic.Int64
	late  atomic.Int64
}

func (t *countingTask) Add(n int) {
	if t.ended.Load() > 0 {
		t.late.Add(int64(n))
	}
	t.done.Add(int64(n))
}

func (t *countingTask) Done() { t.ended.Add(1) }

// taskCount is what a countingTask saw, to compare.
type taskCount struct {
	What        string
	Total, Done int
	Ended       int // Done calls
	Late        int // items added after Done
}

func (m *countingMeter) counts() []taskCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []taskCount
	for _, t := range m.tasks {
		out = append(out, taskCount{What: t.what, Total: t.total, Done: int(t.done.Load()), Ended: int(t.ended.Load()), Late: int(t.late.Load())})
	}
	return out
}

// stageDay writes a day of reviews with local photos into dir: good
// photos that pass their checks, one missing and one empty. It returns the
// reviews file and the number of rows.
func stageDay(tb testing.TB, dir string, good int) (reviews string, rows int) {
	tb.Helper()
	photos := filepath.Join(dir, "photos")
	if err := os.MkdirAll(photos, 0o755); err != nil {
		tb.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n")
	jpeg := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	for i := range good {
		p := filepath.Join(photos, fmt.Sprintf("r%d-0.jpg", i))
		if err := os.WriteFile(p, jpeg, 0o644); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(&b, "r%d,product,%s,0,u%d,p%d,2026-11-28T09:30:00Z\n", i, p, i, i)
	}
	empty := filepath.Join(photos, "empty.jpg")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(&b, "r-empty,style,%s,0,u,p,2026-11-28T09:30:00Z\n", empty)
	fmt.Fprintf(&b, "r-missing,style,%s,0,u,p,2026-11-28T09:30:00Z\n", filepath.Join(photos, "missing.jpg"))
	reviews = filepath.Join(dir, "reviews.csv")
	if err := os.WriteFile(reviews, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return reviews, good + 2
}

// TestStageProgress: Stage counts every photo it checks, and every photo
// it copies, to the Meter of its options: each task started with its
// total, counted to it, and ended once.
func TestStageProgress(t *testing.T) {
	const good = 40
	tests := []struct {
		name string
		copy bool
		want func(rows int) []taskCount
	}{
		{
			name: "photos staged where they are",
			want: func(rows int) []taskCount {
				return []taskCount{{What: "checking photos", Total: rows, Done: rows, Ended: 1}}
			},
		},
		{
			name: "photos copied",
			copy: true,
			want: func(rows int) []taskCount {
				return []taskCount{
					{What: "checking photos", Total: rows, Done: rows, Ended: 1},
					{What: "copying photos", Total: good, Done: good, Ended: 1},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			reviews, rows := stageDay(t, dir, good)
			m := &countingMeter{}
			opts := inspect.StageOptions{
				Reviews: reviews, Day: "2026-11-28", Out: filepath.Join(dir, "out"), OnBadRow: "skip",
				Concurrency: 4, Progress: m, Logger: slog.New(slog.DiscardHandler),
			}
			if tt.copy {
				opts.Copy, opts.InputPrefix = true, filepath.Join(dir, "input")
			}
			res, err := inspect.Stage(context.Background(), storage.New(storage.Options{}), opts)
			if err != nil {
				t.Fatalf("Stage: %v", err)
			}
			if res.Photos != rows || res.Staged != good || res.Rejected != 2 {
				t.Fatalf("result: %d photos, %d staged, %d rejected; want %d, %d, 2", res.Photos, res.Staged, res.Rejected, rows, good)
			}
			if diff := cmp.Diff(tt.want(rows), m.counts()); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStageProgressDefault: without a Meter, Stage logs its progress
// through its Logger, ending with the count of photos checked.
func TestStageProgressDefault(t *testing.T) {
	dir := t.TempDir()
	reviews, rows := stageDay(t, dir, 5)
	var buf bytes.Buffer
	opts := inspect.StageOptions{
		Reviews: reviews, Day: "2026-11-28", Out: filepath.Join(dir, "out"), OnBadRow: "skip",
		Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
	}
	if _, err := inspect.Stage(context.Background(), storage.New(storage.Options{}), opts); err != nil {
		t.Fatalf("Stage: %v", err)
	}
	var done []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == "checking photos" && m["state"] == "done" {
			done = append(done, m)
		}
	}
	if len(done) != 1 {
		t.Fatalf("%d log lines of the checks done, want 1; the log:\n%s", len(done), buf.String())
	}
	if got, want := done[0]["done"], float64(rows); got != want {
		t.Errorf("checks done = %v, want %v", got, want)
	}
	if got, want := done[0]["total"], float64(rows); got != want {
		t.Errorf("checks total = %v, want %v", got, want)
	}
}
