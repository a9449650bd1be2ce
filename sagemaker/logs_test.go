package sagemaker_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

const (
	trainingGroup  = "/aws/sagemaker/TrainingJobs"
	transformGroup = "/aws/sagemaker/TransformJobs"
)

// captured is a slog handler that keeps every record, for reading the
// lines a LogFollower logged.
type captured struct {
	mu   sync.Mutex
	recs []record
}

type record struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (c *captured) Enabled(context.Context, slog.Level) bool { return true }
func (c *captured) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *captured) WithGroup(string) slog.Handler            { return c }
func (c *captured) Handle(_ context.Context, r slog.Record) error {
	rec := record{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.String(); return true })
	c.mu.Lock()
	c.recs = append(c.recs, rec)
	c.mu.Unlock()
	return nil
}

// lines returns the jobs' lines logged so far, as "job stream: line"
// ("tuning job/job stream: line" for a tuning job's).
func (c *captured) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.recs {
		if s, ok := r.attrs["stream"]; ok {
			job := r.attrs["job"]
			if tj := r.attrs["tuning_job"]; tj != "" {
				job = tj + "/" + job
			}
			out = append(out, job+" "+s+": "+r.msg)
		}
	}
	return out
}

// warnings returns the messages logged at warn level.
func (c *captured) warnings() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.recs {
		if r.level == slog.LevelWarn {
			out = append(out, r.msg)
		}
	}
	return out
}

// stepClock is a Clock the test drives: Sleep reports its wait on slept,
// then returns when the test calls tick, or when its ctx ends.
type stepClock struct {
	slept chan time.Duration
	wake  chan struct{}
}

func newStepClock() *stepClock {
	return &stepClock{slept: make(chan time.Duration), wake: make(chan struct{})}
}

func (c *stepClock) Now() time.Time { return time.Time{} }

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	select {
	case c.slept <- d:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	select {
	case <-c.wake:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// waitSleep waits for the follower to finish a round and sleep, and
// returns the wait it asked for.
func (c *stepClock) waitSleep(tb testing.TB) time.Duration {
	tb.Helper()
	select {
	case d := <-c.slept:
		return d
	case <-time.After(30 * time.Second):
		tb.Fatal("the follower did not sleep within 30 s")
		return 0
	}
}

// tick ends the sleep in progress.
func (c *stepClock) tick(tb testing.TB) {
	tb.Helper()
	select {
	case c.wake <- struct{}{}:
	case <-time.After(30 * time.Second):
		tb.Fatal("the follower was not sleeping")
	}
}

func inProgress(kind, job string) sagemaker.Event {
	return sagemaker.Event{Kind: kind, Job: job, Status: sagemaker.StatusInProgress, Action: "created"}
}

func ended(kind, job, status string) sagemaker.Event {
	return sagemaker.Event{Kind: kind, Job: job, Status: status}
}

// startFollowing starts a follower on source with the step clock.
func startFollowing(t *testing.T, source sagemaker.LogSource, clock sagemaker.Clock, maxJobs int) (*sagemaker.Following, *captured) {
	t.Helper()
	logs := &captured{}
	lf := &sagemaker.LogFollower{Source: source, Interval: 10 * time.Second, Settle: 5 * time.Second, MaxJobs: maxJobs, Clock: clock}
	f, err := lf.Start(slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	return f, logs
}

func checkLines(t *testing.T, logs *captured, want []string) {
	t.Helper()
	if diff := cmp.Diff(want, logs.lines()); diff != "" {
		t.Errorf("lines logged (-want +got):\n%s", diff)
	}
}

// TestFollowLines: the lines of a job's streams are logged once each, in
// the order written, across reads; a stream that appears late is
// followed from its first line; the lines written after the job ended
// are read after Settle; and following stops then.
func TestFollowLines(t *testing.T) {
	fake := sagemakertest.NewLogs()
	fake.PageSize = 2 // several reads a round
	clock := newStepClock()
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: fake}, clock, 0)
	const job = "rl-ic-n18-0123456789"

	// No log group yet: the job has just been created.
	f.Event(inProgress("training job", job))
	if d := clock.waitSleep(t); d < 9*time.Second || d > 11*time.Second {
		t.Errorf("first wait %s, want about the 10s interval", d)
	}
	checkLines(t, logs, nil)

	fake.Put(trainingGroup, job+"/algo-1-1700000000", "a1", "a2", "a3")
	fake.Put(trainingGroup, "rl-ic-n18-0123456789-a2/algo-1-1700000000", "another attempt's")
	clock.tick(t)
	clock.waitSleep(t)
	checkLines(t, logs, []string{
		job + " " + job + "/algo-1-1700000000: a1",
		job + " " + job + "/algo-1-1700000000: a2",
		job + " " + job + "/algo-1-1700000000: a3",
	})

	// A second instance's stream appears and both streams grow: the lines
	// of one read are logged in the order written.
	fake.Put(trainingGroup, job+"/algo-1-1700000000", "a4")
	fake.Put(trainingGroup, job+"/algo-2-1700000000", "b1")
	fake.Put(trainingGroup, job+"/algo-1-1700000000", "a5")
	fake.Put(trainingGroup, job+"/algo-2-1700000000", "b2")
	clock.tick(t) // round 3: algo-1 read on; algo-2 not looked up yet
	clock.waitSleep(t)
	clock.tick(t) // round 4: nothing new for algo-1
	clock.waitSleep(t)

	f.Event(ended("training job", job, sagemaker.StatusCompleted))
	if d := clock.waitSleep(t); d != 5*time.Second {
		t.Errorf("wait after the end %s, want Settle 5s", d)
	}
	fake.Put(trainingGroup, job+"/algo-2-1700000000", "b3 (late)")
	clock.tick(t)
	f.Close(context.Background())

	want := []string{
		job + " " + job + "/algo-1-1700000000: a1",
		job + " " + job + "/algo-1-1700000000: a2",
		job + " " + job + "/algo-1-1700000000: a3",
		job + " " + job + "/algo-1-1700000000: a4",
		job + " " + job + "/algo-1-1700000000: a5",
		job + " " + job + "/algo-2-1700000000: b1",
		job + " " + job + "/algo-2-1700000000: b2",
		job + " " + job + "/algo-2-1700000000: b3 (late)",
	}
	checkLines(t, logs, want)
	calls := fake.Calls("GetLogEvents") + fake.Calls("DescribeLogStreams")
	fake.Put(trainingGroup, job+"/algo-1-1700000000", "after close")
	f.Event(inProgress("training job", "rl-ic-other"))
	f.Close(context.Background())
	if got := fake.Calls("GetLogEvents") + fake.Calls("DescribeLogStreams"); got != calls {
		t.Errorf("%d calls after Close, want none", got-calls)
	}
	checkLines(t, logs, want)
	if w := logs.warnings(); len(w) > 0 {
		t.Errorf("warnings: %q", w)
	}
}

// TestFollowMergesStreams: lines read from several streams in one read are
// logged in the order they were written, not stream after stream.
func TestFollowMergesStreams(t *testing.T) {
	fake := sagemakertest.NewLogs()
	const job = "rl-tf-2026-11-28-0123456789"
	fake.Put(transformGroup, job+"/i-1", "1")
	fake.Put(transformGroup, job+"/i-0", "2")
	fake.Put(transformGroup, job+"/i-1", "3")
	fake.Put(transformGroup, job+"/i-0", "4")
	clock := newStepClock()
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: fake}, clock, 0)
	f.Event(inProgress("transform job", job))
	clock.waitSleep(t)
	f.Event(ended("transform job", job, sagemaker.StatusFailed))
	clock.waitSleep(t) // settle
	clock.tick(t)
	f.Close(context.Background())
	checkLines(t, logs, []string{job + " " + job + "/i-1: 1", job + " " + job + "/i-0: 2", job + " " + job + "/i-1: 3", job + " " + job + "/i-0: 4"})
}

// TestFollowThrottled: a throttled read is tried again later, the wait
// doubling while it lasts and back to the interval after; no line is lost
// or logged twice.
func TestFollowThrottled(t *testing.T) {
	fake := sagemakertest.NewLogs()
	const job = "rl-ic-n34-0123456789"
	fake.Put(trainingGroup, job+"/algo-1-1", "one", "two")
	fake.FailNext("GetLogEvents", sagemakertest.Throttling(), sagemakertest.Throttling())
	fake.FailNext("DescribeLogStreams", sagemakertest.Throttling())
	clock := newStepClock()
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: fake}, clock, 0)
	f.Event(inProgress("training job", job))
	var waits []time.Duration
	for range 4 {
		waits = append(waits, clock.waitSleep(t))
		if len(logs.lines()) == 0 {
			fake.Put(trainingGroup, job+"/algo-1-1", "more "+strconv.Itoa(len(waits)))
		}
		clock.tick(t)
	}
	// Throttled three times (a lookup, two reads), then served.
	near := func(d, want time.Duration) bool { return d >= want*85/100 && d <= want*115/100 }
	for i, want := range []time.Duration{20 * time.Second, 40 * time.Second, 80 * time.Second, 10 * time.Second} {
		if !near(waits[i], want) {
			t.Errorf("wait %d = %s, want about %s (all: %v)", i, waits[i], want, waits)
		}
	}
	f.Event(ended("training job", job, sagemaker.StatusCompleted))
	clock.waitSleep(t)
	clock.tick(t)
	f.Close(context.Background())
	checkLines(t, logs, []string{
		job + " " + job + "/algo-1-1: one", job + " " + job + "/algo-1-1: two",
		job + " " + job + "/algo-1-1: more 1", job + " " + job + "/algo-1-1: more 2", job + " " + job + "/algo-1-1: more 3",
	})
	if w := logs.warnings(); len(w) > 0 {
		t.Errorf("warnings for throttling: %q", w)
	}
}

// TestFollowGivesUp: a log that cannot be read (no permission, say) is
// tried a few times, then no longer followed, with a warning; the step is
// not failed and Close returns.
func TestFollowGivesUp(t *testing.T) {
	fake := sagemakertest.NewLogs()
	const job = "rl-ic-n50-0123456789"
	fake.Put(trainingGroup, job+"/algo-1-1", "unread")
	var errs []error
	for range 10 {
		errs = append(errs, errors.New("AccessDeniedException: not authorized to perform logs:DescribeLogStreams"))
	}
	fake.FailNext("DescribeLogStreams", errs...)
	clock := newStepClock()
	described := make(chan struct{}, 10)
	api := hookedLogs{CloudWatchLogsAPI: fake, describe: func() { described <- struct{}{} }}
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: api}, clock, 0)
	f.Event(inProgress("training job", job))
	for range 4 {
		clock.waitSleep(t)
		clock.tick(t)
	}
	for range 5 {
		<-described
	}
	f.Close(context.Background()) // the fifth failure ended it, without a sleep
	if got := fake.Calls("DescribeLogStreams"); got != 5 {
		t.Errorf("DescribeLogStreams called %d times, want 5", got)
	}
	checkLines(t, logs, nil)
	w := logs.warnings()
	if len(w) != 2 || !strings.Contains(w[1], "no longer following") {
		t.Errorf("warnings %q, want a first failure and the giving up", w)
	}
}

// hookedLogs calls describe after every DescribeLogStreams.
type hookedLogs struct {
	sagemaker.CloudWatchLogsAPI
	describe func()
}

func (h hookedLogs) DescribeLogStreams(ctx context.Context, in *cloudwatchlogs.DescribeLogStreamsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogStreamsOutput, error) {
	defer h.describe()
	return h.CloudWatchLogsAPI.DescribeLogStreams(ctx, in, o...)
}

// TestFollowTuningJob: a tuning job's log is its training jobs' streams,
// each line attributed to its training job; a later attempt's training
// jobs are not among them.
func TestFollowTuningJob(t *testing.T) {
	fake := sagemakertest.NewLogs()
	const tj = "rl-ic-grid-0123456789"
	fake.Put(trainingGroup, tj+"-001-aaaaaaaa/algo-1-1", "first")
	fake.Put(trainingGroup, tj+"-a2-001-cccccccc/algo-1-1", "a later attempt's")
	fake.Put(trainingGroup, tj+"-002-bbbbbbbb/algo-1-1", "second")
	clock := newStepClock()
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: fake}, clock, 0)
	f.Event(inProgress("tuning job", tj))
	clock.waitSleep(t)
	f.Event(ended("tuning job", tj, sagemaker.StatusCompleted))
	clock.waitSleep(t)
	clock.tick(t)
	f.Close(context.Background())
	checkLines(t, logs, []string{
		tj + "/" + tj + "-001-aaaaaaaa " + tj + "-001-aaaaaaaa/algo-1-1: first",
		tj + "/" + tj + "-002-bbbbbbbb " + tj + "-002-bbbbbbbb/algo-1-1: second",
	})
}

// TestFollowMaxJobs: beyond MaxJobs, a job waits its turn and is followed
// from its first line when another ends; a job seen only ended (reused by
// a rerun) is not followed.
func TestFollowMaxJobs(t *testing.T) {
	fake := sagemakertest.NewLogs()
	fake.Put(trainingGroup, "job-a/algo-1-1", "a1")
	fake.Put(trainingGroup, "job-b/algo-1-1", "b1")
	fake.Put(trainingGroup, "job-c/algo-1-1", "c1")
	clock := newStepClock()
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: fake}, clock, 1)
	f.Event(ended("training job", "job-c", sagemaker.StatusCompleted)) // reused
	f.Event(inProgress("training job", "job-a"))
	f.Event(inProgress("training job", "job-b")) // waits its turn
	clock.waitSleep(t)
	checkLines(t, logs, []string{"job-a job-a/algo-1-1: a1"})
	fake.Put(trainingGroup, "job-b/algo-1-1", "b2")
	f.Event(ended("training job", "job-b", sagemaker.StatusCompleted)) // ends while waiting
	f.Event(ended("training job", "job-a", sagemaker.StatusCompleted))
	clock.waitSleep(t) // job-a settles
	clock.tick(t)
	clock.waitSleep(t) // job-b: its turn, ended already: settle, then all of it
	clock.tick(t)
	f.Close(context.Background())
	checkLines(t, logs, []string{"job-a job-a/algo-1-1: a1", "job-b job-b/algo-1-1: b1", "job-b job-b/algo-1-1: b2"})
}

// TestFollowCloseCancelled: when the step was cancelled, Close does not
// wait Settle: it reads what is there once and returns.
func TestFollowCloseCancelled(t *testing.T) {
	fake := sagemakertest.NewLogs()
	fake.Put(transformGroup, "job/i-1", "1")
	clock := newStepClock()
	f, logs := startFollowing(t, sagemaker.CloudWatchLogs{API: fake}, clock, 0)
	f.Event(inProgress("transform job", "job"))
	clock.waitSleep(t)
	fake.Put(transformGroup, "job/i-1", "2")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Close(ctx) // no tick: the follower must not sleep
	checkLines(t, logs, []string{"job job/i-1: 1", "job job/i-1: 2"})
}

func TestLogFollowerSettings(t *testing.T) {
	var none *sagemaker.LogFollower
	if f, err := none.Start(nil); f != nil || err != nil {
		t.Errorf("nil LogFollower: %v, %v; want nil, nil", f, err)
	}
	var f *sagemaker.Following
	f.Event(inProgress("training job", "x")) // safe on nil
	f.Close(context.Background())
	for _, lf := range []sagemaker.LogFollower{
		{},
		{Source: sagemaker.CloudWatchLogs{}, Interval: -1},
		{Source: sagemaker.CloudWatchLogs{}, Settle: -1},
		{Source: sagemaker.CloudWatchLogs{}, MaxJobs: -1},
	} {
		var se *sagemaker.SpecError
		if _, err := lf.Start(nil); !errors.As(err, &se) {
			t.Errorf("%+v: error %v, want a *SpecError", lf, err)
		}
	}
}

// fileLogs is a LogSource on log files, one a job, as the local backend
// writes them (<root>/logs/<kind>/<job>.log): it shows the interface
// fits a source that is not CloudWatch. A job's one stream is
// "<job>/log"; the token is the byte offset read up to, and a line is
// returned once it is whole.
type fileLogs struct{ root string }

func (s fileLogs) Streams(_ context.Context, kind sagemaker.LogKind, prefix string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "logs", string(kind)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	var out []string
	for _, e := range entries {
		if job, ok := strings.CutSuffix(e.Name(), ".log"); ok && strings.HasPrefix(job+"/log", prefix) {
			out = append(out, job+"/log")
		}
	}
	return out, err
}

func (s fileLogs) Events(_ context.Context, kind sagemaker.LogKind, stream, token string) ([]sagemaker.LogEvent, string, error) {
	job, _, _ := strings.Cut(stream, "/")
	data, err := os.ReadFile(filepath.Join(s.root, "logs", string(kind), job+".log"))
	if err != nil {
		return nil, token, err
	}
	off, _ := strconv.Atoi(token)
	whole := strings.LastIndexByte(string(data[off:]), '\n') + 1
	var events []sagemaker.LogEvent
	for line := range strings.Lines(string(data[off : off+whole])) {
		events = append(events, sagemaker.LogEvent{Message: line})
	}
	return events, strconv.Itoa(off + whole), nil
}

func TestFollowFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "logs", "training")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "local-job.log")
	appendTo := func(s string) {
		t.Helper()
		fh, err := os.OpenFile(file, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		if _, err := fh.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	appendTo("epoch 1 accuracy 0.61\nepoch 2 accu")
	clock := newStepClock()
	f, logs := startFollowing(t, fileLogs{root}, clock, 0)
	f.Event(inProgress("training job", "local-job"))
	clock.waitSleep(t)
	appendTo("racy 0.74\n")
	f.Event(ended("training job", "local-job", sagemaker.StatusCompleted))
	clock.waitSleep(t)
	clock.tick(t)
	f.Close(context.Background())
	checkLines(t, logs, []string{"local-job local-job/log: epoch 1 accuracy 0.61", "local-job local-job/log: epoch 2 accuracy 0.74"})
}

// TestTransformLogs: Transform with Logs follows its job's log while it
// waits, through the step's logger.
func TestTransformLogs(t *testing.T) {
	w := newDayWorld(t, 3)
	w.writeOutputs(-1)
	fake := sagemakertest.NewLogs()
	var job string
	w.fake.TransformScriptFunc(func(in *sm.CreateTransformJobInput) []sagemakertest.TransformState {
		job = aws.ToString(in.TransformJobName)
		fake.Put(transformGroup, job+"/i-0123", "Started transform", "Done 3 photos")
		return []sagemakertest.TransformState{{}, {}, {}, {Status: types.TransformJobStatusCompleted}}
	})
	logs := &captured{}
	opts := w.options(&fakeClock{})
	opts.Logger = slog.New(logs)
	opts.Logs = &sagemaker.LogFollower{Source: sagemaker.CloudWatchLogs{API: fake}, Clock: quickClock{}}
	if _, err := sagemaker.Transform(context.Background(), w.fake, w.files, opts); err != nil {
		t.Fatal(err)
	}
	checkLines(t, logs, []string{job + " " + job + "/i-0123: Started transform", job + " " + job + "/i-0123: Done 3 photos"})
}

// quickClock waits a millisecond whatever it is asked.
type quickClock struct{}

func (quickClock) Now() time.Time { return time.Now() }
func (quickClock) Sleep(ctx context.Context, _ time.Duration) error {
	t := time.NewTimer(time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
