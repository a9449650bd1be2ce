// Package progress shows how far the long steps of reviewlens are (photos
// checked, outputs read, rows loaded): a live bar with counts, rate and
// time left on a terminal, a log line every 30 seconds or so otherwise
// (a pod, a pipe), nothing when nobody is watching. A step's options take a
// Meter; the binaries choose it, a Go program passes its own or none.
package progress

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// A Meter starts tasks whose progress it shows.
type Meter interface {
	// Start begins a task of total items (0 or less: unknown) described by
	// what ("checking photos"). End it with its Done.
	Start(what string, total int) Task
}

// A Task counts the items done of one piece of work. It is safe for
// concurrent use.
type Task interface {
	// Add counts n more items done.
	Add(n int)
	// Done ends the task; it shows the final count once.
	Done()
}

// Or returns m, or a Meter logging to log every 30 s when m is nil: the
// default of every step.
func Or(m Meter, log *slog.Logger) Meter {
	if m != nil {
		return m
	}
	return Log(log, DefaultEvery)
}

// DefaultEvery is how often Log reports by default.
const DefaultEvery = 30 * time.Second

// None is a Meter that shows nothing.
func None() Meter { return none{} }

type none struct{}

func (none) Start(string, int) Task { return noneTask{} }

type noneTask struct{}

func (noneTask) Add(int) {}
func (noneTask) Done()   {}

// Log is a Meter that logs a task's count every interval at info level
// (0: DefaultEvery) — done, total, rate and elapsed time — and once when
// the task is done. A nil log means slog.Default().
func Log(log *slog.Logger, every time.Duration) Meter {
	if log == nil {
		log = slog.Default()
	}
	if every <= 0 {
		every = DefaultEvery
	}
	return &logMeter{log: log, every: every, now: time.Now}
}

type logMeter struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time
	// tick, when set, replaces the ticker (tests).
	tick <-chan time.Time
}

func (m *logMeter) Start(what string, total int) Task {
	ctx, cancel := context.WithCancel(context.Background())
	t := &logTask{m: m, what: what, total: total, start: m.now(), cancel: cancel, finished: make(chan struct{})}
	tick := m.tick
	var ticker *time.Ticker
	if tick == nil {
		ticker = time.NewTicker(m.every)
		tick = ticker.C
	}
	go func() {
		defer close(t.finished)
		if ticker != nil {
			defer ticker.Stop()
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick:
				t.report("progress")
			}
		}
	}()
	return t
}

type logTask struct {
	m        *logMeter
	what     string
	total    int
	start    time.Time
	done     atomic.Int64
	cancel   context.CancelFunc
	finished chan struct{}
	once     sync.Once
}

func (t *logTask) Add(n int) { t.done.Add(int64(n)) }

func (t *logTask) Done() {
	t.once.Do(func() {
		t.cancel()
		<-t.finished
		t.report("done")
	})
}

func (t *logTask) report(state string) {
	elapsed := t.m.now().Sub(t.start)
	done := t.done.Load()
	attrs := []any{"state", state, "done", done}
	if t.total > 0 {
		attrs = append(attrs, "total", t.total)
	}
	if s := elapsed.Seconds(); s > 0 {
		attrs = append(attrs, "per_second", float64(int(float64(done)/s*10))/10)
	}
	attrs = append(attrs, "elapsed", elapsed.Round(time.Second).String())
	if t.total > 0 && done > 0 && int(done) < t.total && state == "progress" {
		left := time.Duration(float64(elapsed) / float64(done) * float64(int64(t.total)-done))
		attrs = append(attrs, "left", left.Round(time.Second).String())
	}
	t.m.log.Info(t.what, attrs...)
}

// Bar is a Meter that draws a live bar on w, a terminal: counts, rate and
// time left, redrawn a few times a second, and cleared when the task is
// done.
func Bar(w io.Writer) Meter { return barMeter{w: w} }

type barMeter struct{ w io.Writer }

func (m barMeter) Start(what string, total int) Task {
	max := int64(total)
	if total <= 0 {
		max = -1
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(m.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("items"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	return &barTask{bar: bar}
}

type barTask struct {
	bar  *progressbar.ProgressBar
	once sync.Once
}

func (t *barTask) Add(n int) { t.bar.Add(n) }

func (t *barTask) Done() { t.once.Do(func() { t.bar.Finish() }) }
