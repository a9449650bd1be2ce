package sagemaker

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Polling says how this package waits on SageMaker: how often it looks at
// a job, and how long it waits before trying again to create one that an
// account quota refused. The zero value is the defaults; a negative
// duration is an error.
//
// Throttling, server errors and timeouts are not waited out here: the
// SDK's retryer (see NewClient) retries them, and an error it gives up on
// ends the wait.
type Polling struct {
	// Interval is the first wait between two looks at a job; it doubles
	// after every look, up to Max. 0 means 30 s.
	Interval time.Duration
	// Max bounds the wait between two looks at a job and between two tries
	// to create one. 0 means 5 min, or Interval when that is longer; a Max
	// set below Interval is an error.
	Max time.Duration
	// LimitWait is the first wait after SageMaker refused to create a job
	// because an account quota is used up (ResourceLimitExceeded, e.g.
	// instances of a type); it doubles up to Max. 0 means 1 min.
	LimitWait time.Duration
	// Clock is the time the waits are made on; nil means real time. Tests
	// give one that does not sleep.
	Clock Clock
}

// Defaults of Polling.
const (
	DefaultPollInterval = 30 * time.Second
	DefaultPollMax      = 5 * time.Minute
	DefaultLimitWait    = time.Minute
)

// withDefaults checks p and fills its zero fields.
func (p Polling) withDefaults() (Polling, error) {
	bad := func(field string, d time.Duration, reason string) error {
		return &SpecError{Field: field, Value: d.String(), Reason: reason}
	}
	switch {
	case p.Interval < 0:
		return p, bad("poll-interval", p.Interval, "want a positive duration (0 means 30s)")
	case p.Max < 0:
		return p, bad("poll-max", p.Max, "want a positive duration (0 means 5m)")
	case p.LimitWait < 0:
		return p, bad("limit-wait", p.LimitWait, "want a positive duration (0 means 1m)")
	case p.Max > 0 && p.Interval > p.Max:
		return p, bad("poll-max", p.Max, "want at least the poll interval ("+p.Interval.String()+")")
	}
	if p.Interval == 0 {
		p.Interval = DefaultPollInterval
	}
	if p.Max == 0 {
		p.Max = max(DefaultPollMax, p.Interval)
	}
	if p.LimitWait == 0 {
		p.LimitWait = DefaultLimitWait
	}
	if p.Clock == nil {
		p.Clock = realClock{}
	}
	return p, nil
}

// Clock is the time this package waits on; tests give one that does not
// sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends (then it returns ctx's cause).
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// jitter spreads waits by ±10% so parallel jobs do not poll in step.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// Statuses of SageMaker jobs (training, transform and tuning jobs share
// these names).
const (
	StatusInProgress = "InProgress"
	StatusCompleted  = "Completed"
	StatusFailed     = "Failed"
	StatusStopping   = "Stopping"
	StatusStopped    = "Stopped"
)

// jobState is what the waiter reads from a job's description.
type jobState struct {
	Status    string
	Secondary string // the secondary status, or a tuning job's counts: shown in events
	Reason    string // the failure reason
}

func (s jobState) ended() bool {
	return s.Status == StatusCompleted || s.Status == StatusFailed || s.Status == StatusStopped
}

// jobOps is one job as the waiter sees it: how to create, describe and
// stop it, and how to read its description D. Errors are the SDK's; the
// waiter wraps them.
type jobOps[D any] struct {
	noun     string // "training job": messages, events, JobError.Kind
	maxName  int    // longest name of the kind (for attempt suffixes)
	point    []Setting
	create   func(ctx context.Context, name string) error
	describe func(ctx context.Context, name string) (*D, error)
	stop     func(ctx context.Context, name string) error
	state    func(*D) jobState
	// check, if set, refuses a job found under the name that was not made
	// from this definition (a *MismatchError).
	check func(*D) error
	// retry reports whether an attempt this run saw end so earns another:
	// a CapacityError for training and tuning jobs. An attempt found ended
	// before this run looked (a rerun) always earns another.
	retry func(jobState) bool
	// gate, if set, bounds the jobs in progress at once: a slot is taken
	// before a job is created or attached to, and given back when the wait
	// on it ends.
	gate chan struct{}
}

// attempt is what became of one attempt at a job.
type attempt[D any] struct {
	name    string
	n       int
	last    *D // the last description; nil when the job was never described
	state   jobState
	created bool // this run created it
	found   bool // it had ended before this run looked at it
}

// waiter is the one way this package waits on SageMaker jobs: look at the
// job by its name; create it when missing, waiting out account quotas;
// attach to it when in progress, or reuse it when completed; poll it until
// it ends; and try the next attempt (name-a2, ...) when the attempt ended
// in a way its kind retries, or a rerun found it failed or stopped. It
// keeps the jobs it waits on so that stopLive can stop them when the
// caller gives up.
type waiter struct {
	Polling
	log  *slog.Logger
	emit func(Event)

	mu   sync.Mutex
	live map[string]func(context.Context) error // name -> stop, for jobs waited on and not seen ended
}

func newWaiter(p Polling, log *slog.Logger, emit func(Event)) (*waiter, error) {
	p, err := p.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if emit == nil {
		emit = func(Event) {}
	}
	return &waiter{Polling: p, log: log, emit: emit, live: map[string]func(context.Context) error{}}, nil
}

// call wraps err from operation op of a job: the operation and the job's
// name, the classified error, and ctx's cause when ctx ended.
func call(ctx context.Context, op, noun, name string, err error) error {
	return ended(ctx, wrap(op+" "+noun+" "+name, err))
}

// runAttempts brings the job base to an end, attempt after attempt while
// maxAttempts allows and the last attempt earns another. It returns every
// attempt it described or created, in order, and a *JobError when the
// last one did not complete.
func runAttempts[D any](ctx context.Context, w *waiter, j *jobOps[D], base string, maxAttempts int) ([]attempt[D], error) {
	var out []attempt[D]
	for n := 1; ; n++ {
		a, err := bring(ctx, w, j, AttemptName(base, n, j.maxName), n)
		if a.last != nil || a.created {
			out = append(out, a)
		}
		if err != nil {
			return out, err
		}
		st := a.state
		if st.Status == StatusCompleted {
			return out, nil
		}
		again := a.found || (j.retry != nil && j.retry(st))
		if !again || n >= maxAttempts {
			return out, &JobError{Kind: j.noun, Job: a.name, Status: st.Status, Reason: st.Reason, Attempt: n}
		}
		action := "next attempt: found " + st.Status + " by a rerun"
		if !a.found {
			action = "next attempt: " + cmp.Or(st.Reason, st.Status)
		}
		w.emit(Event{Kind: j.noun, Job: a.name, Point: j.point, Attempt: n, Status: st.Status, Action: action})
	}
}

// bring brings one attempt to an end: it describes the job; creates it if
// missing (a name taken meanwhile is looked at again), or checks that the
// one found is this job's; and waits on it unless it had ended.
func bring[D any](ctx context.Context, w *waiter, j *jobOps[D], name string, n int) (attempt[D], error) {
	a := attempt[D]{name: name, n: n}
	for try := 1; ; try++ {
		d, err := j.describe(ctx, name)
		err = call(ctx, "describe", j.noun, name, err)
		if errors.Is(err, ErrNotFound) {
			if err := acquire(ctx, j.gate); err != nil {
				return a, err
			}
			err := create(ctx, w, j, name, n)
			if errors.Is(err, ErrInUse) && try < 3 {
				release(j.gate) // created meanwhile by another run: look again
				continue
			}
			if err != nil {
				release(j.gate)
				return a, err
			}
			a.created = true
			err = poll(ctx, w, j, &a)
			release(j.gate)
			return a, err
		}
		if err != nil {
			return a, err
		}
		if j.check != nil {
			if err := j.check(d); err != nil {
				return a, err
			}
		}
		a.last, a.state = d, j.state(d)
		ev := Event{Kind: j.noun, Job: name, Point: j.point, Attempt: n, Status: a.state.Status, Secondary: a.state.Secondary}
		if a.state.ended() {
			a.found = true
			ev.Action = "found ended earlier"
			if a.state.Status == StatusCompleted {
				ev.Action = "reused"
			}
			w.emit(ev)
			return a, nil
		}
		if err := acquire(ctx, j.gate); err != nil {
			return a, err
		}
		ev.Action = "attached"
		w.emit(ev)
		err = poll(ctx, w, j, &a)
		release(j.gate)
		return a, err
	}
}

func acquire(ctx context.Context, gate chan struct{}) error {
	if gate == nil {
		return nil
	}
	select {
	case gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func release(gate chan struct{}) {
	if gate != nil {
		<-gate
	}
}

// create creates the job, waiting out account quotas
// (ResourceLimitExceeded) and nothing else.
func create[D any](ctx context.Context, w *waiter, j *jobOps[D], name string, n int) error {
	wait := w.LimitWait
	for {
		err := call(ctx, "create", j.noun, name, j.create(ctx, name))
		if err == nil {
			w.emit(Event{Kind: j.noun, Job: name, Point: j.point, Attempt: n, Status: StatusInProgress, Action: "created"})
			return nil
		}
		if !errors.Is(err, ErrLimit) {
			return err
		}
		w.log.Warn("account quota reached; waiting to create the job", "job", name, "wait", wait, "err", err)
		w.emit(Event{Kind: j.noun, Job: name, Point: j.point, Attempt: n, Action: "waiting for capacity: resource limit exceeded"})
		if err := w.Clock.Sleep(ctx, jitter(wait)); err != nil {
			return err
		}
		wait = min(2*wait, w.Max)
	}
}

// poll describes the job until it ends, the wait between two looks
// doubling from Interval to Max, and reports every change of state. It
// keeps the job among the live ones until it is seen ended.
func poll[D any](ctx context.Context, w *waiter, j *jobOps[D], a *attempt[D]) error {
	w.track(a.name, j.stop)
	start := w.Clock.Now()
	interval := w.Interval
	var prev jobState
	for looked := false; ; looked = true {
		d, err := j.describe(ctx, a.name)
		if err != nil {
			return call(ctx, "describe", j.noun, a.name, err)
		}
		st := j.state(d)
		a.last, a.state = d, st
		if !looked || st != prev {
			w.emit(Event{Kind: j.noun, Job: a.name, Point: j.point, Attempt: a.n, Status: st.Status, Secondary: st.Secondary,
				Elapsed: w.Clock.Now().Sub(start)})
			prev = st
		}
		if st.ended() {
			w.untrack(a.name)
			return nil
		}
		if err := w.Clock.Sleep(ctx, jitter(interval)); err != nil {
			return err
		}
		interval = min(2*interval, w.Max)
	}
}

func (w *waiter) track(name string, stop func(context.Context, string) error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live[name] = func(ctx context.Context) error { return stop(ctx, name) }
}

func (w *waiter) untrack(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.live, name)
}

// stopLive stops the jobs waited on and not seen ended, when ctx ended and
// keep is false: a step that gives up waiting leaves nothing running that
// it started or attached to, unless told to. noun names them in logs.
func (w *waiter) stopLive(ctx context.Context, keep bool, noun string) {
	if ctx.Err() == nil || keep {
		return
	}
	w.mu.Lock()
	names := slices.Sorted(maps.Keys(w.live))
	stops := maps.Clone(w.live)
	w.mu.Unlock()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	for _, name := range names {
		if err := stops[name](sctx); err != nil {
			w.log.Error("could not stop the "+noun, "job", name, "err", call(sctx, "stop", noun, name, err))
			continue
		}
		w.untrack(name)
		w.log.Info("stopped the "+noun, "job", name)
		w.emit(Event{Kind: noun, Job: name, Status: StatusStopping, Action: "stopped on exit"})
	}
}

// logEvent logs a job's event: its status, secondary status, time in that
// state and what was done.
func logEvent(log *slog.Logger, e Event) {
	attrs := []any{"job", e.Job, "status", e.Status}
	if e.Attempt > 0 {
		attrs = append(attrs, "attempt", e.Attempt)
	}
	if len(e.Point) > 0 {
		attrs = append(attrs, "point", pointString(e.Point))
	}
	if e.Secondary != "" {
		attrs = append(attrs, "secondary", e.Secondary)
	}
	if e.Elapsed > 0 {
		attrs = append(attrs, "elapsed", e.Elapsed.Round(time.Second).String())
	}
	if e.Action != "" {
		attrs = append(attrs, "action", e.Action)
	}
	log.Info(cmp.Or(e.Kind, "job"), attrs...)
}
