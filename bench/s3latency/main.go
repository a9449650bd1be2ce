// Command s3latency serves an in-memory S3 on 127.0.0.1 that answers every
// request only after a fixed delay, as S3 answers a GET in tens of
// milliseconds. Benchmarks point a step at it to measure what that latency
// costs: bench/predictions.sh reads 20,000 small objects through it.
//
//	go run ./bench/s3latency -addr 127.0.0.1:0 -delay 20ms
//
// The first line on stdout is the endpoint ("http://127.0.0.1:PORT"); then it
// serves until SIGINT or SIGTERM, and on the way out writes to stderr how
// many requests it served, by method, and how many skipped the delay.
//
// # The S3
//
// The S3 is gofakes3 with its in-memory backend (s3mem): path-style
// requests ("http://127.0.0.1:PORT/bucket/key"), ListObjectsV2 a thousand
// keys a page with continuation tokens, GetObject, HeadObject, PutObject
// and CreateBucket. It accepts any credentials (signatures are not
// checked) and forgets everything when it exits.
//
// # The delay
//
// Every request (GET, HEAD, list, PUT, ...) waits -delay before it is
// served. Requests wait concurrently: 64 GETs at once take one delay in
// all, not 64. A request whose client hangs up while it waits is dropped.
//
// A PUT with the header "X-Bench-No-Delay: 1" is served at once, so that a
// generator (bench/genoutputs) fills the bucket quickly. Only PUTs may skip
// the delay: the code under test reads (GET, HEAD, list), and its reads
// always pay it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// NoDelayHeader is the request header that lets a PUT skip the delay.
const NoDelayHeader = "X-Bench-No-Delay"

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (port 0: a free port)")
	delay := flag.Duration("delay", 20*time.Millisecond, "delay added to every request")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("s3latency: ")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	h := newHandler(*delay)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	fmt.Println("http://" + ln.Addr().String())

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		log.Fatal(err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Print(err)
	}
	log.Print(h.stats())
}

// handler is an in-memory S3 behind a fixed delay.
type handler struct {
	delay time.Duration
	s3    http.Handler

	mu       sync.Mutex
	byMethod map[string]int64
	skipped  atomic.Int64 // PUTs served without the delay
	// waiting counts the requests in their delay now; mostWaiting is the
	// most there have been at once (how concurrent the delay is).
	waiting, mostWaiting atomic.Int64
}

func newHandler(delay time.Duration) *handler {
	// gofakes3 refuses requests signed more than 15 minutes from its clock;
	// its clock is the real one, as is the SDK's, so the default is kept.
	fake := gofakes3.New(s3mem.New())
	return &handler{delay: delay, s3: fake.Server(), byMethod: make(map[string]int64)}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.count(r.Method)
	if r.Method == http.MethodPut && r.Header.Get(NoDelayHeader) == "1" {
		h.skipped.Add(1)
	} else if h.delay > 0 {
		n := h.waiting.Add(1)
		for m := h.mostWaiting.Load(); n > m && !h.mostWaiting.CompareAndSwap(m, n); m = h.mostWaiting.Load() {
		}
		t := time.NewTimer(h.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			h.waiting.Add(-1)
			return
		}
		h.waiting.Add(-1)
	}
	h.s3.ServeHTTP(w, r)
}

func (h *handler) count(method string) {
	h.mu.Lock()
	h.byMethod[method]++
	h.mu.Unlock()
}

// stats says how many requests were served, by method.
func (h *handler) stats() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var total int64
	methods := make([]string, 0, len(h.byMethod))
	for m, n := range h.byMethod {
		methods = append(methods, fmt.Sprintf("%s %d", m, n))
		total += n
	}
	sort.Strings(methods)
	return fmt.Sprintf("served %d requests (%s), %d PUTs without the %v delay",
		total, strings.Join(methods, ", "), h.skipped.Load(), h.delay)
}
