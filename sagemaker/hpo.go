package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Limits of a SageMaker hyperparameter tuning job with the Grid strategy.
const (
	maxGridRanges      = 30  // hyperparameters searched
	maxGridValues      = 30  // values of one categorical hyperparameter
	maxGridJobs        = 750 // training jobs of one Grid tuning job
	maxTuningParallel  = 100 // parallel training jobs (the default quota is 10)
	defaultTuningQuota = 10
)

// GridOptions tune PlanGrid.
type GridOptions struct {
	MaxParallel          int    // parallel training jobs; 0 means 3
	Objective, Direction string // "" means validation:accuracy, Maximize
}

// A TuningJob is a SageMaker hyperparameter tuning job running a grid.
type TuningJob struct {
	Name    string // the name of its first attempt
	Request *sagemaker.CreateHyperParameterTuningJobInput
	Axes    []Axis
	Jobs    int // training jobs the grid makes
}

// PlanGrid builds the Grid-strategy tuning job for a grid, checking
// SageMaker's limits before anything is sent: only categorical ranges, at
// most 30 hyperparameters of at most 30 values, at most 750 jobs.
func PlanGrid(spec TrainingSpec, grid Grid, data map[string]string, prefix string, opts GridOptions) (*TuningJob, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := grid.Validate(); err != nil {
		return nil, err
	}
	if opts.MaxParallel <= 0 {
		opts.MaxParallel = 3
	}
	if opts.Objective == "" {
		opts.Objective = DefaultObjective
	}
	if opts.Direction == "" {
		opts.Direction = Maximize
	}
	switch {
	case len(grid.Axes) == 0:
		return nil, &SpecError{Field: "grid", Reason: "a Grid tuning job needs at least one varied hyperparameter"}
	case len(grid.Axes) > maxGridRanges:
		return nil, &SpecError{Field: "grid", Value: fmt.Sprint(len(grid.Axes)), Reason: fmt.Sprintf("at most %d hyperparameters in a tuning job", maxGridRanges)}
	case grid.Size() > maxGridJobs:
		return nil, &SpecError{Field: "grid", Value: fmt.Sprint(grid.Size()), Reason: fmt.Sprintf("a Grid tuning job runs at most %d training jobs", maxGridJobs)}
	case opts.MaxParallel > maxTuningParallel:
		return nil, &SpecError{Field: "max-parallel", Value: fmt.Sprint(opts.MaxParallel), Reason: fmt.Sprintf("a tuning job runs at most %d training jobs at once (the default quota is %d)", maxTuningParallel, defaultTuningQuota)}
	}
	static := maps.Clone(data)
	maps.Copy(static, grid.Fixed)
	var ranges []types.CategoricalParameterRange
	for _, a := range grid.Axes {
		if len(a.Values) > maxGridValues {
			return nil, &SpecError{Field: a.Name, Value: fmt.Sprint(len(a.Values)), Reason: fmt.Sprintf("at most %d values of one hyperparameter", maxGridValues)}
		}
		if _, ok := static[a.Name]; ok {
			return nil, &SpecError{Field: a.Name, Reason: "varied and fixed at once"}
		}
		ranges = append(ranges, types.CategoricalParameterRange{Name: aws.String(a.Name), Values: slices.Clone(a.Values)})
	}
	// Every grid point must be a valid set of hyperparameters.
	for _, point := range grid.Points() {
		hp := maps.Clone(static)
		for _, s := range point {
			hp[s.Name] = s.Value
		}
		if err := ValidateHyperparameters(hp); err != nil {
			return nil, fmt.Errorf("grid point %s: %w", pointString(point), err)
		}
	}
	tr := spec.Request("", static)
	def := &types.HyperParameterTrainingJobDefinition{
		AlgorithmSpecification: &types.HyperParameterAlgorithmSpecification{
			TrainingImage:     tr.AlgorithmSpecification.TrainingImage,
			TrainingInputMode: tr.AlgorithmSpecification.TrainingInputMode,
		},
		RoleArn:                               tr.RoleArn,
		InputDataConfig:                       tr.InputDataConfig,
		OutputDataConfig:                      tr.OutputDataConfig,
		ResourceConfig:                        tr.ResourceConfig,
		StoppingCondition:                     tr.StoppingCondition,
		StaticHyperParameters:                 static,
		VpcConfig:                             tr.VpcConfig,
		EnableNetworkIsolation:                tr.EnableNetworkIsolation,
		EnableInterContainerTrafficEncryption: tr.EnableInterContainerTrafficEncryption,
		EnableManagedSpotTraining:             tr.EnableManagedSpotTraining,
		CheckpointConfig:                      tr.CheckpointConfig,
	}
	in := &sagemaker.CreateHyperParameterTuningJobInput{
		HyperParameterTuningJobConfig: &types.HyperParameterTuningJobConfig{
			Strategy: types.HyperParameterTuningJobStrategyTypeGrid,
			ResourceLimits: &types.ResourceLimits{
				MaxParallelTrainingJobs: aws.Int32(int32(opts.MaxParallel)),
			},
			HyperParameterTuningJobObjective: &types.HyperParameterTuningJobObjective{
				Type:       types.HyperParameterTuningJobObjectiveType(opts.Direction),
				MetricName: aws.String(opts.Objective),
			},
			ParameterRanges:              &types.ParameterRanges{CategoricalParameterRanges: ranges},
			TrainingJobEarlyStoppingType: types.TrainingJobEarlyStoppingTypeOff,
		},
		TrainingJobDefinition: def,
		Tags:                  tr.Tags,
	}
	key := requestKey(&sagemaker.CreateTrainingJobInput{HyperParameters: static, RoleArn: tr.RoleArn, TrainingJobName: aws.String(fmt.Sprintf("%v", ranges))})
	name := JobName(MaxTuningNameLen-attemptRoom, key+"|"+fmt.Sprint(opts), prefix, "grid")
	in.HyperParameterTuningJobName = aws.String(name)
	return &TuningJob{Name: name, Request: in, Axes: grid.Axes, Jobs: grid.Size()}, nil
}

// RunGrid runs a Grid tuning job, or attaches to it or reuses it when a
// rerun finds it, and reads its training jobs back as runs.
func (t *Tuner) RunGrid(ctx context.Context, hpo *TuningJob) ([]Run, error) {
	c := t.defaults()
	r := &tuning{Tuner: c, created: map[string]bool{}}
	for attempt := 1; attempt <= c.MaxAttempts; attempt++ {
		name := AttemptName(hpo.Name, attempt, MaxTuningNameLen)
		d, created, err := r.startTuning(ctx, hpo, name, attempt)
		if err == nil && (created || d.HyperParameterTuningJobStatus == types.HyperParameterTuningJobStatusInProgress) {
			d, err = r.waitTuning(ctx, name, attempt)
		}
		if err != nil {
			if ctx.Err() != nil && created && !c.KeepJobsOnExit {
				r.stopTuning(name)
			}
			runs, _ := r.tuningRuns(context.WithoutCancel(ctx), hpo, name)
			return runs, err
		}
		status := d.HyperParameterTuningJobStatus
		if status == types.HyperParameterTuningJobStatusCompleted {
			runs, err := r.tuningRuns(ctx, hpo, name)
			MarkBest(runs, c.Direction)
			if err == nil {
				err = childErrors(runs)
			}
			return runs, err
		}
		reason := aws.ToString(d.FailureReason)
		switch {
		case attempt < c.MaxAttempts && !created:
			r.OnEvent(Event{Job: name, Attempt: attempt, Status: string(status), Action: "found ended earlier; next attempt"})
			continue
		case attempt < c.MaxAttempts && status == types.HyperParameterTuningJobStatusFailed && retryable(reason):
			r.OnEvent(Event{Job: name, Attempt: attempt, Status: string(status), Action: "retrying: " + reason})
			continue
		}
		runs, _ := r.tuningRuns(ctx, hpo, name)
		MarkBest(runs, c.Direction)
		return runs, &JobError{Job: name, Status: string(status), Reason: reason, Attempt: attempt}
	}
	return nil, fmt.Errorf("tuning job %s: no attempt left", hpo.Name)
}

// childErrors reports the failed training jobs of a completed tuning job.
func childErrors(runs []Run) error {
	var errs []error
	for _, r := range runs {
		if r.Status == string(types.TrainingJobStatusFailed) {
			errs = append(errs, &JobError{Job: r.JobName, Status: r.Status, Reason: r.FailureReason, Attempt: r.Attempt})
		}
	}
	return errors.Join(errs...)
}

func (r *tuning) startTuning(ctx context.Context, hpo *TuningJob, name string, attempt int) (*sagemaker.DescribeHyperParameterTuningJobOutput, bool, error) {
	for {
		d, err := r.describeTuning(ctx, name)
		if err == nil {
			r.OnEvent(Event{Job: name, Attempt: attempt, Status: string(d.HyperParameterTuningJobStatus), Action: "found"})
			return d, false, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, false, err
		}
		in := *hpo.Request
		in.HyperParameterTuningJobName = aws.String(name)
		wait := r.LimitWait
		for {
			_, err = r.API.CreateHyperParameterTuningJob(ctx, &in)
			err = ended(ctx, wrap("create tuning job "+name, err))
			if err == nil || !(errors.Is(err, ErrLimit) || transient(err)) {
				break
			}
			r.Logger.Warn("cannot create the tuning job yet; waiting", "job", name, "wait", wait, "err", err)
			if err := r.Clock.Sleep(ctx, jitter(wait)); err != nil {
				return nil, false, err
			}
			wait = min(2*wait, r.PollMax)
		}
		if errors.Is(err, ErrInUse) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		r.OnEvent(Event{Job: name, Attempt: attempt, Status: "InProgress", Action: "created"})
		return nil, true, nil
	}
}

func (r *tuning) describeTuning(ctx context.Context, name string) (*sagemaker.DescribeHyperParameterTuningJobOutput, error) {
	wait := time.Second
	for try := 1; ; try++ {
		d, err := r.API.DescribeHyperParameterTuningJob(ctx, &sagemaker.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
		if err == nil {
			return d, nil
		}
		err = ended(ctx, wrap("describe tuning job "+name, err))
		if !transient(err) || try == 8 || ctx.Err() != nil {
			return nil, err
		}
		if err := r.Clock.Sleep(ctx, jitter(wait)); err != nil {
			return nil, err
		}
		wait = min(2*wait, r.PollMax)
	}
}

func (r *tuning) waitTuning(ctx context.Context, name string, attempt int) (*sagemaker.DescribeHyperParameterTuningJobOutput, error) {
	start := r.Clock.Now()
	interval := r.PollMin
	var lastKey string
	for {
		d, err := r.describeTuning(ctx, name)
		if err != nil {
			return nil, err
		}
		counts := d.TrainingJobStatusCounters
		key := string(d.HyperParameterTuningJobStatus)
		if counts != nil {
			key += fmt.Sprintf(" %d completed, %d in progress, %d failed, %d stopped", aws.ToInt32(counts.Completed),
				aws.ToInt32(counts.InProgress), aws.ToInt32(counts.NonRetryableError)+aws.ToInt32(counts.RetryableError), aws.ToInt32(counts.Stopped))
		}
		if key != lastKey {
			r.OnEvent(Event{Job: name, Attempt: attempt, Status: string(d.HyperParameterTuningJobStatus), Secondary: key, Elapsed: r.Clock.Now().Sub(start)})
			lastKey = key
		}
		switch d.HyperParameterTuningJobStatus {
		case types.HyperParameterTuningJobStatusCompleted, types.HyperParameterTuningJobStatusFailed, types.HyperParameterTuningJobStatusStopped:
			return d, nil
		}
		if err := r.Clock.Sleep(ctx, jitter(interval)); err != nil {
			return nil, err
		}
		interval = min(2*interval, r.PollMax)
	}
}

func (r *tuning) stopTuning(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := r.API.StopHyperParameterTuningJob(ctx, &sagemaker.StopHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)}); err != nil {
		r.Logger.Error("could not stop tuning job", "job", name, "err", wrap("stop tuning job "+name, err))
		return
	}
	r.Logger.Info("stopped tuning job", "job", name)
}

// tuningRuns reads the training jobs of a tuning job back as runs.
func (r *tuning) tuningRuns(ctx context.Context, hpo *TuningJob, name string) ([]Run, error) {
	p := sagemaker.NewListTrainingJobsForHyperParameterTuningJobPaginator(r.API,
		&sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name), MaxResults: aws.Int32(100)})
	var runs []Run
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return runs, wrap("list training jobs of tuning job "+name, err)
		}
		for _, s := range page.TrainingJobSummaries {
			d, err := r.describe(ctx, aws.ToString(s.TrainingJobName))
			if err != nil {
				return runs, err
			}
			var point []Setting
			for _, a := range hpo.Axes {
				point = append(point, Setting{a.Name, s.TunedHyperParameters[a.Name]})
			}
			job := Job{BaseName: aws.ToString(s.TrainingJobName), Point: point, Request: &sagemaker.CreateTrainingJobInput{
				HyperParameters: d.HyperParameters, ResourceConfig: hpo.Request.TrainingJobDefinition.ResourceConfig,
			}}
			run := r.runOf(job, 1, d)
			run.TuningJob = name
			runs = append(runs, run)
		}
	}
	slices.SortFunc(runs, func(a, b Run) int { return compareStrings(a.JobName, b.JobName) })
	return runs, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
