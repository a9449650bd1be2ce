package sagemaker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// A JobError says a job did not complete: it ended Failed or Stopped.
type JobError struct {
	Kind    string // "training job", "transform job" or "tuning job"; "" reads as training job
	Job     string // the last attempt's name
	Status  string // Failed or Stopped
	Reason  string // SageMaker's failure reason
	Attempt int
}

func (e *JobError) Error() string {
	kind := cmp.Or(e.Kind, "training job")
	if e.Reason == "" {
		return fmt.Sprintf("%s %s: %s", kind, e.Job, e.Status)
	}
	return fmt.Sprintf("%s %s: %s: %s", kind, e.Job, e.Status, e.Reason)
}

// A MismatchError says a job (or model) of the name derived from a
// definition already exists but was made from another definition.
type MismatchError struct {
	Kind string // "training job" or "model"; "" reads as training job
	Job  string
	What string // which part differs
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s %s exists with another definition (%s): refusing to reuse it", cmp.Or(e.Kind, "training job"), e.Job, e.What)
}

// An Event reports a change in a job's status, for progress displays.
type Event struct {
	Kind      string // "training job", "transform job" or "tuning job"
	Job       string
	Point     []Setting // a training job's grid point
	Attempt   int
	Status    string // InProgress, Completed, Failed, Stopping, Stopped
	Secondary string // SageMaker's secondary status (Starting, Training, ...), or a tuning job's counts
	Elapsed   time.Duration
	Action    string // created, attached, reused, next attempt, waiting for capacity, ...
}

// A Tuner runs a grid of training jobs, at most MaxParallel at once, and
// survives being run again: it attaches to jobs in progress and reuses
// completed ones. The zero value of every field but API is usable; a
// negative number is an error.
type Tuner struct {
	API    API
	Logger *slog.Logger // nil: slog.Default()
	// MaxParallel bounds the training jobs in progress at once; 0 means 3.
	MaxParallel int
	// MaxAttempts bounds the training jobs of one grid point; 0 means 3.
	// A job that failed for want of capacity (CapacityError) or was
	// stopped while the tuner waited on it gets another attempt (a spot
	// job resumes from its checkpoints), and so does one a rerun finds
	// failed or stopped.
	MaxAttempts int
	// Poll says how often jobs are looked at and how long account quotas
	// are waited out; the zero value is the defaults.
	Poll Polling
	// Objective and Direction choose the best run; "" means
	// validation:accuracy, Maximize.
	Objective, Direction string
	// KeepJobsOnExit leaves the jobs the tuner waits on running when its
	// context ends; by default they are stopped.
	KeepJobsOnExit bool
	// OnEvent is called on every change of a job's status; nil means
	// none. It is called from many goroutines at once.
	OnEvent func(Event)
}

// settings checks t and returns it with its defaults, and its waiter.
func (t *Tuner) settings() (Tuner, *waiter, error) {
	c := *t
	switch {
	case c.API == nil:
		return c, nil, &SpecError{Field: "api", Reason: "no SageMaker API given"}
	case c.MaxParallel < 0:
		return c, nil, &SpecError{Field: "max-parallel", Value: fmt.Sprint(c.MaxParallel), Reason: "want at least 1 (0 means 3)"}
	case c.MaxAttempts < 0:
		return c, nil, &SpecError{Field: "max-attempts", Value: fmt.Sprint(c.MaxAttempts), Reason: "want at least 1 (0 means 3)"}
	case c.Direction != "" && c.Direction != Maximize && c.Direction != Minimize:
		return c, nil, &SpecError{Field: "objective-type", Value: c.Direction, Reason: "want Maximize or Minimize"}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxParallel == 0 {
		c.MaxParallel = 3
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.Objective == "" {
		c.Objective = DefaultObjective
	}
	if c.Direction == "" {
		c.Direction = Maximize
	}
	w, err := newWaiter(c.Poll, c.Logger, c.OnEvent)
	if err != nil {
		return c, nil, err
	}
	c.Poll = w.Polling
	return c, w, nil
}

// Run trains every job and returns a run per training job (attempts
// included) in the order of jobs, the best marked. It returns an error
// when a job failed (*JobError, joined), when a name was taken by another
// definition (*MismatchError), when an option is invalid (*SpecError), or
// when ctx ended; the runs are returned then too, with the last status
// seen. When ctx ends, the jobs Run waits on are stopped unless
// KeepJobsOnExit.
func (t *Tuner) Run(ctx context.Context, jobs []Job) ([]Run, error) {
	c, w, err := t.settings()
	if err != nil {
		return nil, err
	}
	gate := make(chan struct{}, c.MaxParallel)
	results := make([][]Run, len(jobs))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() {
			atts, err := runAttempts(ctx, w, trainingOps(c.API, job, gate), job.BaseName, c.MaxAttempts)
			for _, a := range atts {
				d := a.last
				if d == nil { // created, never seen
					d = &sagemaker.DescribeTrainingJobOutput{TrainingJobName: aws.String(a.name), TrainingJobStatus: types.TrainingJobStatusInProgress}
				}
				results[i] = append(results[i], runOf(job, a.n, d, c.Objective))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	w.stopLive(ctx, c.KeepJobsOnExit, "training job")
	var runs []Run
	for _, rs := range results {
		runs = append(runs, rs...)
	}
	MarkBest(runs, c.Direction)
	return runs, errors.Join(errs...)
}

// trainingOps is job as the waiter sees it; gate bounds the jobs in
// progress.
func trainingOps(api API, job Job, gate chan struct{}) *jobOps[sagemaker.DescribeTrainingJobOutput] {
	return &jobOps[sagemaker.DescribeTrainingJobOutput]{
		noun:    "training job",
		maxName: MaxJobNameLen,
		point:   job.Point,
		gate:    gate,
		create: func(ctx context.Context, name string) error {
			in := *job.Request
			in.TrainingJobName = aws.String(name)
			_, err := api.CreateTrainingJob(ctx, &in)
			return err
		},
		describe: func(ctx context.Context, name string) (*sagemaker.DescribeTrainingJobOutput, error) {
			return api.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
		},
		stop: func(ctx context.Context, name string) error {
			_, err := api.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(name)})
			return err
		},
		state: func(d *sagemaker.DescribeTrainingJobOutput) jobState {
			return jobState{Status: string(d.TrainingJobStatus), Secondary: string(d.SecondaryStatus), Reason: aws.ToString(d.FailureReason)}
		},
		check: func(d *sagemaker.DescribeTrainingJobOutput) error {
			if what := differs(d, job.Request); what != "" {
				return &MismatchError{Kind: "training job", Job: aws.ToString(d.TrainingJobName), What: what}
			}
			return nil
		},
		retry: func(st jobState) bool {
			return st.Status == StatusStopped || st.Status == StatusFailed && retryable(st.Reason)
		},
	}
}

// retryable reports failures worth another attempt: SageMaker had no
// capacity for the instance type.
func retryable(reason string) bool { return strings.HasPrefix(reason, "CapacityError") }

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

// runOf turns a training job's description into a run.
func runOf(job Job, attempt int, d *sagemaker.DescribeTrainingJobOutput, objective string) Run {
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
		ObjectiveMetric: objective,
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
	if v, ok := run.Metrics[objective]; ok {
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
