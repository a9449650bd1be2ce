package stagecmd

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// recordHandler hands every log record to a channel.
type recordHandler struct{ records chan slog.Record }

func (h recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.records <- r:
	default:
	}
	return nil
}
func (h recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordHandler) WithGroup(string) slog.Handler      { return h }

// TestProgress checks that long work logs how far it got, and that stop
// ends the logging.
func TestProgress(t *testing.T) {
	h := recordHandler{records: make(chan slog.Record, 100)}
	var done atomic.Int64
	done.Store(7)
	stop := progress(slog.New(h), time.Millisecond, "checking photos", &done, 20)
	var r slog.Record
	select {
	case r = <-h.records:
	case <-time.After(10 * time.Second):
		t.Fatal("no progress logged")
	}
	stop()
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	if r.Message != "checking photos" || attrs["done"] != "7" || attrs["total"] != "20" || attrs["elapsed"] == "" {
		t.Errorf("logged %q %v, want checking photos with done 7, total 20 and elapsed", r.Message, attrs)
	}
	for len(h.records) > 0 {
		<-h.records
	}
	// stop waits for the ticker's goroutine to end: nothing can be logged
	// from now on, however long the test waits.
	if n := len(h.records); n > 0 {
		t.Errorf("%d records logged after stop", n)
	}
}
