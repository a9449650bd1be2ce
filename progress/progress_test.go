package progress

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// syncBuffer is a bytes.Buffer safe for the logging goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// wrote, if set, gets a value at every write while it has room.
	wrote chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.wrote <- struct{}{}: // nil: never
	default:
	}
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
	// Done waited for the reporter to end: nobody reads the ticker.
	select {
	case tick <- now:
		t.Error("the ticker is read after Done: a report may follow the last")
	default:
	}
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

func TestOr(t *testing.T) {
	if _, ok := Or(nil, nil).(*logMeter); !ok {
		t.Error("Or(nil) is not the logging meter")
	}
	if m := None(); Or(m, nil) != m {
		t.Error("Or(m) is not m")
	}
}

// TestLogReport: each line says the count, the total when known, the rate
// and the time elapsed, and the time left while a known total is not
// reached.
func TestLogReport(t *testing.T) {
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		total   int
		done    int64
		elapsed time.Duration
		state   string
		want    map[string]any // the line's attributes, with its msg
	}{
		{
			name: "known total", total: 100, done: 25, elapsed: 10 * time.Second, state: "progress",
			want: map[string]any{"state": "progress", "done": 25.0, "total": 100.0, "per_second": 2.5, "elapsed": "10s", "left": "30s"},
		},
		{
			name: "unknown total", total: 0, done: 25, elapsed: 10 * time.Second, state: "progress",
			want: map[string]any{"state": "progress", "done": 25.0, "per_second": 2.5, "elapsed": "10s"},
		},
		{
			name: "unknown total given as -1", total: -1, done: 7, elapsed: 2 * time.Second, state: "progress",
			want: map[string]any{"state": "progress", "done": 7.0, "per_second": 3.5, "elapsed": "2s"},
		},
		{
			name: "nothing done yet", total: 100, done: 0, elapsed: 10 * time.Second, state: "progress",
			want: map[string]any{"state": "progress", "done": 0.0, "total": 100.0, "per_second": 0.0, "elapsed": "10s"},
		},
		{
			name: "the rate to a tenth", total: 1000, done: 10, elapsed: 3 * time.Second, state: "progress",
			want: map[string]any{"state": "progress", "done": 10.0, "total": 1000.0, "per_second": 3.3, "elapsed": "3s", "left": "4m57s"},
		},
		{
			name: "at the total", total: 100, done: 100, elapsed: 10 * time.Second, state: "progress",
			want: map[string]any{"state": "progress", "done": 100.0, "total": 100.0, "per_second": 10.0, "elapsed": "10s"},
		},
		{
			name: "more than the total", total: 100, done: 120, elapsed: 10 * time.Second, state: "progress",
			want: map[string]any{"state": "progress", "done": 120.0, "total": 100.0, "per_second": 12.0, "elapsed": "10s"},
		},
		{
			name: "done short of the total", total: 100, done: 60, elapsed: 90 * time.Second, state: "done",
			want: map[string]any{"state": "done", "done": 60.0, "total": 100.0, "per_second": 0.6, "elapsed": "1m30s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuffer
			m := &logMeter{log: slog.New(slog.NewJSONHandler(&buf, nil)), every: time.Hour,
				now: func() time.Time { return start.Add(tt.elapsed) }}
			task := &logTask{m: m, what: "checking photos", total: tt.total, start: start}
			task.done.Store(tt.done)
			task.report(tt.state)
			lines := buf.lines(t)
			if len(lines) != 1 {
				t.Fatalf("%d lines, want 1: %v", len(lines), lines)
			}
			got := lines[0]
			if got["level"] != "INFO" || got["msg"] != "checking photos" {
				t.Errorf("line %v: want an INFO line saying checking photos", got)
			}
			delete(got, "time")
			delete(got, "level")
			delete(got, "msg")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("line (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLogEvery: Log reports on its own ticker, every interval, until the
// task is done; then once more (and never again: see
// TestLogReportsOnTickAndDone).
func TestLogEvery(t *testing.T) {
	buf := syncBuffer{wrote: make(chan struct{}, 100)}
	task := Log(slog.New(slog.NewJSONHandler(&buf, nil)), time.Millisecond).Start("reading outputs", 10)
	task.Add(3)
	// Wait for two reports: no more than a minute, however loaded the
	// machine.
	timeout := time.After(time.Minute)
	for range 2 {
		select {
		case <-buf.wrote:
		case <-timeout:
			t.Fatalf("%d reports after a minute with a 1 ms interval", len(buf.lines(t)))
		}
	}
	task.Add(7)
	task.Done()
	lines := buf.lines(t)
	for _, l := range lines[:len(lines)-1] {
		if l["state"] != "progress" || l["msg"] != "reading outputs" || l["total"] != 10.0 {
			t.Errorf("report %v: want reading outputs in progress, of 10", l)
		}
	}
	if last := lines[len(lines)-1]; last["state"] != "done" || last["done"] != 10.0 {
		t.Errorf("last report %v: want done at 10", last)
	}
	// That none follows Done: TestLogReportsOnTickAndDone.
}

// TestLogDefaults: a nil logger is slog.Default(), an interval of 0 or
// less DefaultEvery.
func TestLogDefaults(t *testing.T) {
	for _, every := range []time.Duration{0, -time.Second} {
		m := Log(nil, every).(*logMeter)
		if m.log != slog.Default() || m.every != DefaultEvery {
			t.Errorf("Log(nil, %v): logger %p every %v, want slog.Default() %p every %v", every, m.log, m.every, slog.Default(), DefaultEvery)
		}
	}
	log := slog.New(slog.DiscardHandler)
	if m := Log(log, time.Minute).(*logMeter); m.log != log || m.every != time.Minute {
		t.Errorf("Log(log, 1m): logger %p every %v, want %p every 1m", m.log, m.every, log)
	}
	if m, ok := Or(nil, log).(*logMeter); !ok || m.log != log || m.every != DefaultEvery {
		t.Errorf("Or(nil, log) = %#v, want a Log meter on log every %v", Or(nil, log), DefaultEvery)
	}
}

// TestTasksConcurrentAdds: a task counts the items of many goroutines,
// whatever the meter.
func TestTasksConcurrentAdds(t *testing.T) {
	const workers, each = 8, 1000
	var buf syncBuffer
	meters := map[string]Meter{
		"log":  Log(slog.New(slog.NewJSONHandler(&buf, nil)), time.Hour),
		"bar":  Bar(io.Discard),
		"none": None(),
	}
	for name, m := range meters {
		t.Run(name, func(t *testing.T) {
			task := m.Start("checking photos", workers*each)
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range each {
						task.Add(1)
					}
				})
			}
			wg.Wait()
			task.Done()
		})
	}
	lines := buf.lines(t)
	if len(lines) != 1 || lines[0]["done"] != float64(workers*each) {
		t.Errorf("log meter lines %v: want one, done at %d", lines, workers*each)
	}
}

// TestBar: on its writer Bar shows the task, the count of the total, the
// rate and the time left; it redraws a few times a second, not on every
// item; Done clears it, once.
func TestBar(t *testing.T) {
	tests := []struct {
		name  string
		total int
		words []string // in the first drawing
	}{
		{name: "known total", total: 1000, words: []string{"checking photos", "(1/1000,", "items/s", "%", "|"}},
		{name: "unknown total", total: 0, words: []string{"checking photos", "(1/-,", "items/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			task := Bar(&buf).Start("checking photos", tt.total)
			for range 999 {
				task.Add(1)
			}
			draws := strings.Split(strings.Trim(buf.String(), "\r"), "\r")
			for _, w := range tt.words {
				if !strings.Contains(draws[0], w) {
					t.Errorf("first drawing %q does not show %q", draws[0], w)
				}
			}
			// 999 items at once: a drawing or two, not one an item.
			if len(draws) > 10 {
				t.Errorf("%d drawings for 999 items added at once, want a few", len(draws))
			}
			task.Done()
			out := buf.String()
			if !strings.HasSuffix(out, "\r") {
				t.Fatalf("output %q does not end in a carriage return", out)
			}
			draws = strings.Split(strings.TrimSuffix(out, "\r"), "\r")
			if last := draws[len(draws)-1]; strings.TrimSpace(last) != "" || len(last) < len(strings.TrimSpace(draws[0])) {
				t.Errorf("after Done the line is %q, want it cleared: blanks over the bar %q", last, draws[0])
			}
			n := buf.Len()
			task.Done()
			if buf.Len() != n {
				t.Errorf("a second Done wrote %q", buf.String()[n:])
			}
		})
	}
}
