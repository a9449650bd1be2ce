package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// LogKind says whose logs: a training job's (the training jobs of a tuning
// job included) or a transform job's.
type LogKind string

// Kinds of logs.
const (
	TrainingLogs  LogKind = "training"
	TransformLogs LogKind = "transform"
)

// LogGroup is the CloudWatch Logs group SageMaker writes logs of kind k to:
// /aws/sagemaker/TrainingJobs or /aws/sagemaker/TransformJobs.
func (k LogKind) LogGroup() string {
	if k == TransformLogs {
		return "/aws/sagemaker/TransformJobs"
	}
	return "/aws/sagemaker/TrainingJobs"
}

// A LogEvent is one line of a job's log.
type LogEvent struct {
	// Time is when the job wrote the line; zero when the source does not
	// know (lines of one read are then kept in the order given).
	Time    time.Time
	Message string
}

// A LogSource reads the logs of SageMaker jobs as they are written:
// CloudWatchLogs on AWS (or a moto_server), or the files the local backend
// writes. Logs come in streams, each named after its job: the job's name,
// a slash, then anything (SageMaker names them <job>/algo-1-1700000000, one
// a training instance). A LogFollower asks for the streams of a job with
// the prefix "<job>/", and for those of a tuning job's training jobs with
// "<tuning job>-" (SageMaker names them <tuning job>-NNN-<8 hex digits>).
//
// A source need not be safe for calls about one stream at once (the
// follower makes none), but must be for calls about different streams.
type LogSource interface {
	// Streams returns the names of the streams of kind whose names start
	// with prefix, in any order. No stream yet, and no log group yet, is
	// not an error: it returns none.
	Streams(ctx context.Context, kind LogKind, prefix string) ([]string, error)
	// Events returns the lines of stream written after the position
	// token, oldest first, and the token to read on from. The token ""
	// is the start of the stream; a token is never "". When nothing new
	// was written it returns no lines and the token it was given; a read
	// may return no lines and a new token while more lines follow. Errors
	// satisfy errors.Is with ErrThrottled when the source asks callers to
	// slow down.
	Events(ctx context.Context, kind LogKind, stream, token string) (events []LogEvent, next string, err error)
}

// A LogFollower follows the logs of the jobs a step waits on into the
// step's log while it waits: a training job's, the training jobs' of a
// tuning job, a transform job's. Set it in TuneOptions.Logs or
// TransformOptions.Logs; nil there means logs are not followed.
//
// Each job is followed by a goroutine of its own, at most MaxJobs at once,
// from when the step creates it or attaches to it until it ends: its
// streams are looked up, then each is read on from where the last read
// stopped, so no line is logged twice, and the lines of one read are
// logged in the order they were written, with the attributes job (the
// job that wrote them) and stream. When the job ends its log is read a last
// time after Settle, for the lines that arrive late. Following never
// delays the wait on a job and never fails the step: a read that fails is
// tried again later (waiting longer when the source throttles), and a job
// whose log cannot be read at all is no longer followed, with a warning.
// A job the step finds already ended (a rerun reusing it) is not followed.
//
// The zero value of every field but Source is usable; a negative one is an
// error.
type LogFollower struct {
	// Source is where the logs are read from: CloudWatchLogs on AWS, or
	// the local backend's log files.
	Source LogSource
	// Logger gets the jobs' lines, at info level; nil means the step's
	// logger.
	Logger *slog.Logger
	// Interval is the wait between two reads of a job's log; 0 means 10 s.
	// Throttling doubles it, up to 2 min, until a read succeeds.
	Interval time.Duration
	// Settle is how long after a job ends its log is read a last time
	// (CloudWatch shows lines some seconds after the job wrote them); 0
	// means 5 s.
	Settle time.Duration
	// MaxJobs bounds the jobs followed at once; 0 means 10. A job started
	// beyond it is followed from its first line when another ends.
	MaxJobs int
	// Clock is the time the waits are made on; nil means real time. Tests
	// give one they drive.
	Clock Clock
}

// Defaults of LogFollower.
const (
	DefaultLogInterval = 10 * time.Second
	DefaultLogSettle   = 5 * time.Second
	DefaultLogMaxJobs  = 10
)

// Limits of the log follower.
const (
	// logMaxWait bounds the wait between reads when the source throttles.
	logMaxWait = 2 * time.Minute
	// logPages bounds the reads of one stream in one round, so that a
	// chatty stream does not starve the others; the final round reads
	// up to logFinalPages.
	logPages      = 10
	logFinalPages = 200
	// logDiscoverEvery: while a job has streams, they are looked up again
	// every this many rounds (a job with several instances gets one a
	// stream, not all at once).
	logDiscoverEvery = 6
	// logMaxFailures consecutive failed rounds end the following of a job.
	logMaxFailures = 5
	// logCloseWait bounds the last reads when the step ends, past Settle;
	// logHurryWait replaces both when the step was cancelled.
	logCloseWait = 30 * time.Second
	logHurryWait = 5 * time.Second
)

// withDefaults checks lf and fills its zero fields; log is the step's
// logger.
func (lf LogFollower) withDefaults(log *slog.Logger) (LogFollower, error) {
	bad := func(field, value, reason string) error {
		return &SpecError{Field: field, Value: value, Reason: reason}
	}
	switch {
	case lf.Source == nil:
		return lf, bad("logs", "", "no log source given")
	case lf.Interval < 0:
		return lf, bad("logs-interval", lf.Interval.String(), "want a positive duration (0 means 10s)")
	case lf.Settle < 0:
		return lf, bad("logs-settle", lf.Settle.String(), "want a positive duration (0 means 5s)")
	case lf.MaxJobs < 0:
		return lf, bad("logs-max-jobs", fmt.Sprint(lf.MaxJobs), "want at least 1 (0 means 10)")
	}
	if lf.Logger == nil {
		lf.Logger = log
	}
	if lf.Logger == nil {
		lf.Logger = slog.Default()
	}
	if lf.Interval == 0 {
		lf.Interval = DefaultLogInterval
	}
	if lf.Settle == 0 {
		lf.Settle = DefaultLogSettle
	}
	if lf.MaxJobs == 0 {
		lf.MaxJobs = DefaultLogMaxJobs
	}
	if lf.Clock == nil {
		lf.Clock = realClock{}
	}
	return lf, nil
}

// A Following is a LogFollower at work for one step (see
// LogFollower.Start): it follows the jobs the step's events name, and
// stops when closed. Its methods are safe for concurrent use, and on a nil
// *Following (they do nothing).
type Following struct {
	LogFollower
	ctx    context.Context // every read; cancelled when close gives up
	cancel context.CancelFunc

	mu      sync.Mutex
	jobs    map[string]*followed // by job name: every job ever followed
	pending []*followed          // waiting for a goroutine
	active  int                  // goroutines
	closed  bool
	queued  bool // the "waiting their turn" note was logged
	wg      sync.WaitGroup
}

// followed is one job being followed.
type followed struct {
	job    string
	kind   LogKind
	prefix string
	tuning bool // a tuning job: the streams are its training jobs'
	// wake is cancelled when the job ended: the wait between reads ends
	// and the last reads begin.
	wake    context.Context
	stop    context.CancelFunc
	streams map[string]string // stream -> token
	order   []string          // streams, in the order found
	rounds  int
	hurry   bool // no settle before the last read (the step was cancelled)
}

// Start returns a Following of lf for a step whose logger is log: give it
// the step's events (a Tuner's or a Transformer's OnEvent) and close it
// when the step is done. Tune and Transform do this themselves with their
// Logs option. On a nil *LogFollower it returns nil: logs are not
// followed. Settings out of range are a *SpecError. It starts nothing
// until an event names a job in progress.
func (lf *LogFollower) Start(log *slog.Logger) (*Following, error) {
	if lf == nil {
		return nil, nil
	}
	c, err := lf.withDefaults(log)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Following{LogFollower: c, ctx: ctx, cancel: cancel, jobs: map[string]*followed{}}, nil
}

// Event follows the job of e from its first event in progress, and lets
// it go when an event shows it ended. It never blocks.
func (f *Following) Event(e Event) {
	if f == nil || e.Status == "" {
		return
	}
	var kind LogKind
	prefix, tuning := e.Job+"/", false
	switch e.Kind {
	case "training job":
		kind = TrainingLogs
	case "transform job":
		kind = TransformLogs
	case "tuning job":
		kind, prefix, tuning = TrainingLogs, e.Job+"-", true
	default:
		return
	}
	if (jobState{Status: e.Status}).ended() {
		f.end(e.Job)
		return
	}
	f.follow(e.Job, kind, prefix, tuning)
}

func (f *Following) follow(job string, kind LogKind, prefix string, tuning bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.jobs[job] != nil {
		return
	}
	j := &followed{job: job, kind: kind, prefix: prefix, tuning: tuning, streams: map[string]string{}}
	j.wake, j.stop = context.WithCancel(f.ctx)
	f.jobs[job] = j
	if f.active >= f.MaxJobs {
		f.pending = append(f.pending, j)
		if !f.queued {
			f.queued = true
			f.Logger.Info("following the logs of at most this many jobs at once; the others wait their turn", "max_jobs", f.MaxJobs)
		}
		return
	}
	f.active++
	f.wg.Add(1)
	go f.run(j)
}

// end lets the job go: its log is read a last time, after Settle.
func (f *Following) end(job string) {
	f.mu.Lock()
	j := f.jobs[job]
	f.mu.Unlock()
	if j != nil {
		j.stop()
	}
}

// Close lets every job go and waits for their last reads: at most Settle
// and 30 s more, or 5 s when ctx (the step's) has ended, after which the
// lines not yet read are given up. No job is followed after it returns;
// closing again does nothing more.
func (f *Following) Close(ctx context.Context) {
	if f == nil {
		return
	}
	hurry := ctx.Err() != nil
	f.mu.Lock()
	f.closed = true
	for _, j := range f.jobs {
		j.hurry = j.hurry || hurry
		j.stop()
	}
	f.mu.Unlock()
	bound := f.Settle + logCloseWait
	if hurry {
		bound = logHurryWait
	}
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		f.Logger.Warn("gave up the last reads of the jobs' logs", "waited", bound.String())
		f.cancel()
		<-done
	}
	f.cancel()
}

// run follows j, then the jobs waiting their turn, one after the other.
func (f *Following) run(j *followed) {
	defer f.wg.Done()
	for j != nil {
		f.tail(j)
		f.mu.Lock()
		j = nil
		if len(f.pending) > 0 {
			j, f.pending = f.pending[0], f.pending[1:]
		} else {
			f.active--
		}
		f.mu.Unlock()
	}
}

// tail reads j's log until j ended, then a last time.
func (f *Following) tail(j *followed) {
	wait := f.Interval
	failures := 0
	for {
		ended := j.wake.Err() != nil
		if ended {
			f.mu.Lock()
			hurry := j.hurry
			f.mu.Unlock()
			if !hurry {
				_ = f.Clock.Sleep(f.ctx, f.Settle)
			}
		}
		err := f.read(j, ended)
		switch {
		case ended:
			if err != nil && f.ctx.Err() == nil {
				f.Logger.Warn("could not read the end of the job's log", "job", j.job, "log_group", j.kind.LogGroup(), "err", err)
			}
			return
		case err == nil:
			wait, failures = f.Interval, 0
		case errors.Is(err, ErrThrottled):
			wait = min(2*wait, max(logMaxWait, f.Interval))
			f.Logger.Debug("reading the job's log is throttled; waiting longer", "job", j.job, "wait", wait.String())
		default:
			failures++
			if failures >= logMaxFailures {
				f.Logger.Warn("could not read the job's log; no longer following it", "job", j.job, "log_group", j.kind.LogGroup(), "failures", failures, "err", err)
				return
			}
			if failures == 1 {
				f.Logger.Warn("could not read the job's log; trying again", "job", j.job, "log_group", j.kind.LogGroup(), "err", err)
			}
		}
		_ = f.Clock.Sleep(j.wake, jitter(wait))
	}
}

// laterAttempt matches the part of a stream's job name after a tuning job's
// name that belongs to a later attempt of the tuning job: "a2-".
var laterAttempt = regexp.MustCompile(`^a[0-9]+-`)

// read does one round: it looks the streams up (the first rounds, every
// few rounds after, and the last), reads each on from its token, and logs
// the lines read, in the order they were written. last reads more pages.
func (f *Following) read(j *followed, last bool) error {
	ctx := f.ctx
	if last || len(j.order) == 0 || j.rounds%logDiscoverEvery == 0 {
		names, err := f.Source.Streams(ctx, j.kind, j.prefix)
		if err != nil {
			return fmt.Errorf("streams of %s %s*: %w", j.kind.LogGroup(), j.prefix, err)
		}
		slices.Sort(names)
		for _, s := range names {
			if _, ok := j.streams[s]; ok || !strings.HasPrefix(s, j.prefix) {
				continue
			}
			if j.tuning && laterAttempt.MatchString(s[len(j.prefix):]) {
				continue // a later attempt's training job: followed on its own
			}
			j.streams[s] = ""
			j.order = append(j.order, s)
		}
	}
	j.rounds++
	type line struct {
		LogEvent
		stream string
	}
	var lines []line
	var errs []error
	pages := logPages
	if last {
		pages = logFinalPages
	}
	for _, s := range j.order {
		token := j.streams[s]
		for page := 0; ; page++ {
			if page == pages {
				f.Logger.Warn("the job's log grows faster than it is read; lines skipped", "job", j.job, "stream", s)
				break
			}
			evs, next, err := f.Source.Events(ctx, j.kind, s, token)
			if err != nil {
				errs = append(errs, fmt.Errorf("events of %s %s: %w", j.kind.LogGroup(), s, err))
				break
			}
			for _, e := range evs {
				lines = append(lines, line{e, s})
			}
			if next == "" || next == token {
				break
			}
			token = next
			j.streams[s] = token
		}
	}
	// Streams are read in name order and each oldest first: a stable sort
	// by time interleaves them as they were written.
	slices.SortStableFunc(lines, func(a, b line) int { return a.Time.Compare(b.Time) })
	for _, l := range lines {
		job, _, _ := strings.Cut(l.stream, "/")
		attrs := []any{"job", job, "stream", l.stream}
		if j.tuning {
			attrs = append(attrs, "tuning_job", j.job)
		}
		if !l.Time.IsZero() {
			attrs = append(attrs, "written", l.Time.UTC().Format(time.RFC3339Nano))
		}
		f.Logger.Info(strings.TrimRight(l.Message, "\r\n"), attrs...)
	}
	return errors.Join(errs...)
}
