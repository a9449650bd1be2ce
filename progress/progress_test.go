package progress

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the logging goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(tb testing.TB) []map[string]any {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLogReportsOnTickAndDone(t *testing.T) {
	var buf syncBuffer
	tick := make(chan time.Time)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	m := &logMeter{log: slog.New(slog.NewJSONHandler(&buf, nil)), every: time.Hour, tick: tick,
		now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	task := m.Start("checking photos", 100)
	task.Add(25)
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	tick <- now // the reporter takes it, then reports
	tick <- now // a second tick: the first report is written by now
	task.Add(75)
	task.Done()
	task.Done() // once
	lines := buf.lines(t)
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 2 progress reports and 1 done:\n%v", len(lines), lines)
	}
	first, last := lines[0], lines[2]
	if first["msg"] != "checking photos" || first["state"] != "progress" || first["done"] != 25.0 || first["total"] != 100.0 {
		t.Errorf("first report %v, want 25 of 100 in progress", first)
	}
	if first["per_second"] != 2.5 || first["left"] != "30s" {
		t.Errorf("first report %v, want 2.5 a second and 30s left", first)
	}
	if last["state"] != "done" || last["done"] != 100.0 {
		t.Errorf("last report %v, want done at 100", last)
	}
}

func TestBarDraws(t *testing.T) {
	var buf bytes.Buffer
	task := Bar(&buf).Start("reading outputs", 10)
	task.Add(4)
	task.Add(6)
	task.Done()
	if !strings.Contains(buf.String(), "reading outputs") {
		t.Errorf("bar output %q does not show the task", buf.String())
	}
}

func TestOr(t *testing.T) {
	if _, ok := Or(nil, nil).(*logMeter); !ok {
		t.Error("Or(nil) is not the logging meter")
	}
	if m := None(); Or(m, nil) != m {
		t.Error("Or(m) is not m")
	}
}
