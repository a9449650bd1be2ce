package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// DefaultObjective is the metric the built-in image-classification
// algorithm is tuned on.
const DefaultObjective = "validation:accuracy"

// attemptRoom is left free in base job names for the "-a<n>" suffix.
const attemptRoom = 4

// A Job is one grid point to train.
type Job struct {
	BaseName string    // the name of its first attempt
	Point    []Setting // the varied hyperparameters
	// Request is the CreateTrainingJob request; its name is set per attempt.
	Request *sagemaker.CreateTrainingJobInput
}

// Plan expands a grid into jobs: for each grid point, the fixed
// hyperparameters, the data's (num_classes, num_training_samples) and the
// point's, checked together, and a name derived from the whole request.
func Plan(spec TrainingSpec, grid Grid, data map[string]string, prefix string) ([]Job, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := grid.Validate(); err != nil {
		return nil, err
	}
	var jobs []Job
	names := map[string]bool{}
	for _, point := range grid.Points() {
		hp := maps.Clone(data)
		maps.Copy(hp, grid.Fixed)
		parts := []string{prefix}
		for _, s := range point {
			hp[s.Name] = s.Value
			parts = append(parts, abbrev(s.Name)+s.Value)
		}
		if err := ValidateHyperparameters(hp); err != nil {
			return nil, fmt.Errorf("grid point %s: %w", pointString(point), err)
		}
		req := spec.Request("", hp)
		name := JobName(MaxJobNameLen-attemptRoom, requestKey(req), parts...)
		if names[name] {
			return nil, fmt.Errorf("grid point %s: job name %s twice", pointString(point), name)
		}
		names[name] = true
		if req.CheckpointConfig != nil {
			// One checkpoint folder per grid point, shared by its attempts
			// so that a retried spot job resumes where the last one stopped.
			uri := strings.TrimSuffix(aws.ToString(req.CheckpointConfig.S3Uri), "/") + "/" + name + "/"
			req.CheckpointConfig.S3Uri = aws.String(uri)
		}
		jobs = append(jobs, Job{BaseName: name, Point: point, Request: req})
	}
	return jobs, nil
}

func pointString(point []Setting) string {
	var parts []string
	for _, s := range point {
		parts = append(parts, s.Name+"="+s.Value)
	}
	if len(parts) == 0 {
		return "(no varied hyperparameters)"
	}
	return strings.Join(parts, " ")
}

// A JobError says a training job did not complete.
type JobError struct {
	Job     string // the last attempt's name
	Status  string // Failed or Stopped
	Reason  string // SageMaker's failure reason
	Attempt int
}

func (e *JobError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("training job %s: %s", e.Job, e.Status)
	}
	return fmt.Sprintf("training job %s: %s: %s", e.Job, e.Status, e.Reason)
}

// A MismatchError says a job of the name the tuner derived already exists
// but was created from another definition.
type MismatchError struct {
	Job  string
	What string // which part differs
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("training job %s exists with another definition (%s): refusing to reuse it", e.Job, e.What)
}

// An Event reports a change in a job's status, for progress displays.
type Event struct {
	Job       string
	Point     []Setting
	Attempt   int
	Status    string // InProgress, Completed, Failed, Stopping, Stopped
	Secondary string // SageMaker's secondary status: Starting, Training, ...
	Elapsed   time.Duration
	Action    string // created, attached, reused, retrying, waiting for capacity, ...
}

// Clock is the time the tuner waits on; tests give one that does not sleep.
type Clock interface {
	Now() time.Time
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

// A Tuner runs a grid of training jobs, at most MaxParallel at once, and
// survives being run again: it attaches to jobs in progress and reuses
// completed ones. The zero value of every field but API is usable.
type Tuner struct {
	API    API
	Logger *slog.Logger // nil: slog.Default()
	// MaxParallel bounds the jobs in progress at once; 0 means 3.
	MaxParallel int
	// MaxAttempts bounds the jobs per grid point (failed with a retryable
	// CapacityError, or found failed or stopped by a rerun); 0 means 3.
	MaxAttempts int
	// PollMin and PollMax bound the interval between two looks at a job,
	// which doubles from PollMin to PollMax. 0 means 30 s and 5 min.
	PollMin, PollMax time.Duration
	// LimitWait is the first wait after ResourceLimitExceeded (doubling to
	// PollMax); 0 means 1 min.
	LimitWait time.Duration
	// Objective and Direction choose the best run; "" means
	// validation:accuracy, Maximize.
	Objective, Direction string
	// KeepJobsOnExit leaves the jobs this tuner created running when its
	// context ends; by default they are stopped.
	KeepJobsOnExit bool
	Clock          Clock       // nil: real time
	OnEvent        func(Event) // called on every status change; may be nil
}

func (t *Tuner) defaults() Tuner {
	c := *t
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxParallel <= 0 {
		c.MaxParallel = 3
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
	if c.PollMin <= 0 {
		c.PollMin = 30 * time.Second
	}
	if c.PollMax <= 0 {
		c.PollMax = 5 * time.Minute
	}
	c.PollMax = max(c.PollMax, c.PollMin)
	if c.LimitWait <= 0 {
		c.LimitWait = time.Minute
	}
	if c.Objective == "" {
		c.Objective = DefaultObjective
	}
	if c.Direction == "" {
		c.Direction = Maximize
	}
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.OnEvent == nil {
		c.OnEvent = func(Event) {}
	}
	return c
}

// Run trains every job and returns a run per training job (attempts
// included) in the order of jobs, the best marked. It returns an error
// when a job failed (*JobError, joined), when a name was taken by another
// definition (*MismatchError), or when ctx ended; the runs are returned
// then too, with the last status seen. When ctx ends, the jobs this Run
// created and not finished are stopped unless KeepJobsOnExit.
func (t *Tuner) Run(ctx context.Context, jobs []Job) ([]Run, error) {
	c := t.defaults()
	r := &tuning{Tuner: c, sem: make(chan struct{}, c.MaxParallel), created: map[string]bool{}}
	results := make([][]Run, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() { results[i], errs[i] = r.job(ctx, job) })
	}
	wg.Wait()
	if ctx.Err() != nil && !c.KeepJobsOnExit {
		r.stopCreated()
	}
	var runs []Run
	for _, rs := range results {
		runs = append(runs, rs...)
	}
	MarkBest(runs, c.Direction)
	return runs, errors.Join(errs...)
}

// tuning is one Run's state.
type tuning struct {
	Tuner
	sem     chan struct{}
	mu      sync.Mutex
	created map[string]bool // jobs this run created and has not seen end
}

func (r *tuning) job(ctx context.Context, job Job) ([]Run, error) {
	var runs []Run
	for attempt := 1; attempt <= r.MaxAttempts; attempt++ {
		name := AttemptName(job.BaseName, attempt, MaxJobNameLen)
		d, err := r.runAttempt(ctx, job, name, attempt)
		if d == nil {
			return runs, err
		}
		run := r.runOf(job, attempt, d)
		runs = append(runs, run)
		if err != nil {
			return runs, err
		}
		switch run.Status {
		case string(types.TrainingJobStatusCompleted):
			return runs, nil
		case string(types.TrainingJobStatusFailed):
			if !retryable(run.FailureReason) || attempt == r.MaxAttempts {
				return runs, &JobError{Job: name, Status: run.Status, Reason: run.FailureReason, Attempt: attempt}
			}
			r.OnEvent(Event{Job: name, Point: job.Point, Attempt: attempt, Status: run.Status, Action: "retrying: " + run.FailureReason})
		case string(types.TrainingJobStatusStopped):
			if attempt == r.MaxAttempts {
				return runs, &JobError{Job: name, Status: run.Status, Reason: "stopped", Attempt: attempt}
			}
		}
	}
	return runs, nil
}

// retryable reports failures worth another attempt: SageMaker had no
// capacity for the instance type.
func retryable(reason string) bool { return strings.HasPrefix(reason, "CapacityError") }

// runAttempt brings attempt name of job to an end: created, attached or
// reused. found reports an earlier Failed or Stopped job of that name (a
// rerun goes on to the next attempt).
func (r *tuning) runAttempt(ctx context.Context, job Job, name string, attempt int) (*sagemaker.DescribeTrainingJobOutput, error) {
	for {
		d, err := r.describe(ctx, name)
		if errors.Is(err, ErrNotFound) {
			if err := r.acquire(ctx); err != nil {
				return nil, err
			}
			created, err := r.create(ctx, job, name, attempt)
			if errors.Is(err, ErrInUse) {
				r.release()
				continue // created meanwhile by someone else: look again
			}
			if err != nil {
				r.release()
				return nil, err
			}
			_ = created
			d, err := r.wait(ctx, job, name, attempt)
			r.release()
			return d, err
		}
		if err != nil {
			return nil, err
		}
		if what := differs(d, job.Request); what != "" {
			return nil, &MismatchError{Job: name, What: what}
		}
		switch d.TrainingJobStatus {
		case types.TrainingJobStatusCompleted:
			r.OnEvent(Event{Job: name, Point: job.Point, Attempt: attempt, Status: string(d.TrainingJobStatus), Action: "reused"})
			return d, nil
		case types.TrainingJobStatusFailed, types.TrainingJobStatusStopped:
			r.OnEvent(Event{Job: name, Point: job.Point, Attempt: attempt, Status: string(d.TrainingJobStatus), Action: "found ended earlier"})
			return d, nil
		}
		if err := r.acquire(ctx); err != nil {
			return nil, err
		}
		r.OnEvent(Event{Job: name, Point: job.Point, Attempt: attempt, Status: string(d.TrainingJobStatus), Secondary: string(d.SecondaryStatus), Action: "attached"})
		d, err = r.wait(ctx, job, name, attempt)
		r.release()
		return d, err
	}
}

func (r *tuning) acquire(ctx context.Context) error {
	select {
	case r.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (r *tuning) release() { <-r.sem }

// create submits the job, waiting out account limits and throttling.
func (r *tuning) create(ctx context.Context, job Job, name string, attempt int) (bool, error) {
	in := *job.Request
	in.TrainingJobName = aws.String(name)
	wait := r.LimitWait
	for {
		_, err := r.API.CreateTrainingJob(ctx, &in)
		if err == nil {
			r.mu.Lock()
			r.created[name] = true
			r.mu.Unlock()
			r.OnEvent(Event{Job: name, Point: job.Point, Attempt: attempt, Status: "InProgress", Action: "created"})
			return true, nil
		}
		err = ended(ctx, wrap("create training job "+name, err))
		switch {
		case errors.Is(err, ErrLimit):
			r.OnEvent(Event{Job: name, Point: job.Point, Attempt: attempt, Action: "waiting for capacity: resource limit exceeded"})
			r.Logger.Warn("account limit reached; waiting", "job", name, "wait", wait, "err", err)
		case transient(err):
			r.Logger.Warn("transient error; retrying", "job", name, "wait", wait, "err", err)
		default:
			return false, err
		}
		if err := r.Clock.Sleep(ctx, jitter(wait)); err != nil {
			return false, err
		}
		wait = min(2*wait, r.PollMax)
	}
}

// describe looks at a job, retrying throttling and server errors.
func (r *tuning) describe(ctx context.Context, name string) (*sagemaker.DescribeTrainingJobOutput, error) {
	wait := time.Second
	for try := 1; ; try++ {
		d, err := r.API.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
		if err == nil {
			return d, nil
		}
		err = ended(ctx, wrap("describe training job "+name, err))
		if !transient(err) || try == 8 || ctx.Err() != nil {
			return nil, err
		}
		r.Logger.Warn("transient error; retrying", "job", name, "wait", wait, "err", err)
		if err := r.Clock.Sleep(ctx, jitter(wait)); err != nil {
			return nil, err
		}
		wait = min(2*wait, r.PollMax)
	}
}

// wait polls a job until it ends, reporting each change of status.
func (r *tuning) wait(ctx context.Context, job Job, name string, attempt int) (*sagemaker.DescribeTrainingJobOutput, error) {
	start := r.Clock.Now()
	interval := r.PollMin
	var last *sagemaker.DescribeTrainingJobOutput
	for {
		d, err := r.describe(ctx, name)
		if err != nil {
			return last, err
		}
		if last == nil || d.TrainingJobStatus != last.TrainingJobStatus || d.SecondaryStatus != last.SecondaryStatus {
			r.OnEvent(Event{Job: name, Point: job.Point, Attempt: attempt, Status: string(d.TrainingJobStatus),
				Secondary: string(d.SecondaryStatus), Elapsed: r.Clock.Now().Sub(start)})
		}
		last = d
		switch d.TrainingJobStatus {
		case types.TrainingJobStatusCompleted, types.TrainingJobStatusFailed, types.TrainingJobStatusStopped:
			r.mu.Lock()
			delete(r.created, name)
			r.mu.Unlock()
			return d, nil
		}
		if err := r.Clock.Sleep(ctx, jitter(interval)); err != nil {
			return last, err
		}
		interval = min(2*interval, r.PollMax)
	}
}

// stopCreated stops the jobs this run created that had not ended.
func (r *tuning) stopCreated() {
	r.mu.Lock()
	names := slices.Sorted(maps.Keys(r.created))
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range names {
		_, err := r.API.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(name)})
		if err != nil {
			r.Logger.Error("could not stop training job", "job", name, "err", wrap("stop training job "+name, err))
			continue
		}
		r.Logger.Info("stopped training job", "job", name)
		r.OnEvent(Event{Job: name, Status: string(types.TrainingJobStatusStopping), Action: "stopped on exit"})
	}
}

// transient reports errors worth retrying: throttling, server errors,
// network failures (the SDK's own retryable set).
func transient(err error) bool {
	if errors.Is(err, ErrThrottled) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// jitter spreads waits by ±10% so parallel jobs do not poll in step.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// differs says which part of an existing job's definition is not req's.
func differs(d *sagemaker.DescribeTrainingJobOutput, req *sagemaker.CreateTrainingJobInput) string {
	if !maps.Equal(d.HyperParameters, req.HyperParameters) {
		return "hyperparameters"
	}
	if d.AlgorithmSpecification != nil && aws.ToString(d.AlgorithmSpecification.TrainingImage) != aws.ToString(req.AlgorithmSpecification.TrainingImage) {
		return "training image"
	}
	uris := func(chs []types.Channel) []string {
		var out []string
		for _, c := range chs {
			if c.DataSource != nil && c.DataSource.S3DataSource != nil {
				out = append(out, aws.ToString(c.ChannelName)+"="+aws.ToString(c.DataSource.S3DataSource.S3Uri))
			}
		}
		return out
	}
	if !slices.Equal(uris(d.InputDataConfig), uris(req.InputDataConfig)) {
		return "input channels"
	}
	if d.ResourceConfig != nil && (d.ResourceConfig.InstanceType != req.ResourceConfig.InstanceType ||
		aws.ToInt32(d.ResourceConfig.InstanceCount) != aws.ToInt32(req.ResourceConfig.InstanceCount)) {
		return "instances"
	}
	if d.OutputDataConfig != nil && strings.TrimSuffix(aws.ToString(d.OutputDataConfig.S3OutputPath), "/") != strings.TrimSuffix(aws.ToString(req.OutputDataConfig.S3OutputPath), "/") {
		return "output path"
	}
	return ""
}

// runOf turns a job's description into a run.
func (r *tuning) runOf(job Job, attempt int, d *sagemaker.DescribeTrainingJobOutput) Run {
	run := Run{
		JobName:         aws.ToString(d.TrainingJobName),
		BaseName:        job.BaseName,
		Attempt:         attempt,
		Point:           job.Point,
		Hyperparameters: d.HyperParameters,
		Status:          string(d.TrainingJobStatus),
		SecondaryStatus: string(d.SecondaryStatus),
		FailureReason:   aws.ToString(d.FailureReason),
		Metrics:         map[string]float64{},
		ObjectiveMetric: r.Objective,
		Objective:       math.NaN(),
		TrainingSeconds: int64(aws.ToInt32(d.TrainingTimeInSeconds)),
		BillableSeconds: int64(aws.ToInt32(d.BillableTimeInSeconds)),
		CreatedAt:       aws.ToTime(d.CreationTime),
		EndedAt:         aws.ToTime(d.TrainingEndTime),
	}
	if run.Hyperparameters == nil {
		run.Hyperparameters = job.Request.HyperParameters
	}
	if d.TuningJobArn != nil {
		run.TuningJob = (*d.TuningJobArn)[strings.LastIndexByte(*d.TuningJobArn, '/')+1:]
	}
	for _, m := range d.FinalMetricDataList {
		run.Metrics[aws.ToString(m.MetricName)] = float64(aws.ToFloat32(m.Value))
	}
	if v, ok := run.Metrics[r.Objective]; ok {
		run.Objective = v
	}
	rc := d.ResourceConfig
	if rc == nil {
		rc = job.Request.ResourceConfig
	}
	run.InstanceType, run.InstanceCount = string(rc.InstanceType), int(aws.ToInt32(rc.InstanceCount))
	if d.TrainingJobStatus == types.TrainingJobStatusCompleted && d.ModelArtifacts != nil {
		run.ModelArtifact = aws.ToString(d.ModelArtifacts.S3ModelArtifacts)
	}
	return run
}
