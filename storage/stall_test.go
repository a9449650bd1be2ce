package storage_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/storage"
	s3store "github.com/reviewlens/reviewlens/storage/s3"
)

// TestStalledServerTimesOut: an S3 server that never answers, or stops in
// the middle of a body, fails the call with a timeout error within the
// I/O timeout times the SDK's attempts, instead of hanging.
func TestStalledServerTimesOut(t *testing.T) {
	testenv.FakeCredentials(t)
	release := make(chan struct{})
	midBody := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer midBody.Close()
	defer close(release) // before Close, which waits for the handlers
	tests := []struct {
		name, endpoint string
		op             func(ctx context.Context, s *storage.Storage) error
	}{
		{"no answer", "http://" + testenv.BlackHole(t), func(ctx context.Context, s *storage.Storage) error {
			_, err := s.Stat(ctx, "s3://b/k.jpg")
			return err
		}},
		{"a body that stops", midBody.URL, func(ctx context.Context, s *storage.Storage) error {
			_, err := s.ReadFile(ctx, "s3://b/k.jpg")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storage.New(storage.Options{Schemes: map[string]storage.Provider{
				"s3": s3store.NewProvider(s3store.Options{Region: "us-east-1", EndpointURL: tt.endpoint, IOTimeout: 200 * time.Millisecond}),
			}})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			err := tt.op(ctx, s)
			if err == nil {
				t.Fatal("no error from a stalled server")
			}
			var te interface{ Timeout() bool }
			if !errors.As(err, &te) || !te.Timeout() {
				t.Errorf("error %v is not a timeout", err)
			}
			if ctx.Err() != nil {
				t.Fatalf("the call ran until the test's own deadline: %v", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %s with a 200 ms I/O timeout", d)
			}
		})
	}
}
