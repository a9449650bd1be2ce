package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	// MaxParallel bounds the training jobs the tuning job runs at once;
	// 0 means 3, at most 100 (the default quota is 10).
	MaxParallel int
	// Objective and Direction are the metric SageMaker picks the best job
	// by; "" means validation:accuracy, Maximize.
	Objective, Direction string
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
	switch {
	case opts.MaxParallel < 0:
		return nil, &SpecError{Field: "max-parallel", Value: fmt.Sprint(opts.MaxParallel), Reason: "want at least 1 (0 means 3)"}
	case opts.Direction != "" && opts.Direction != Maximize && opts.Direction != Minimize:
		return nil, &SpecError{Field: "objective-type", Value: opts.Direction, Reason: "want Maximize or Minimize"}
	}
	if opts.MaxParallel == 0 {
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
// rerun finds it, and reads its training jobs back as runs, the best
// marked. A tuning job that failed for want of capacity, or that a rerun
// finds failed or stopped, is tried again (up to MaxAttempts); one that
// completed with failed training jobs returns them as *JobError, joined.
// When ctx ends, the tuning job is stopped unless KeepJobsOnExit, and the
// training jobs it had run are returned.
func (t *Tuner) RunGrid(ctx context.Context, hpo *TuningJob) ([]Run, error) {
	c, w, err := t.settings()
	if err != nil {
		return nil, err
	}
	atts, err := runAttempts(ctx, w, tuningOps(c.API, hpo), hpo.Name, c.MaxAttempts)
	w.stopLive(ctx, c.KeepJobsOnExit, "tuning job")
	if len(atts) == 0 {
		return nil, err
	}
	// The runs of the last attempt, also when ctx ended: they are what a
	// person looks at then.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	runs, lerr := tuningRuns(lctx, c.API, hpo, atts[len(atts)-1].name, c.Objective)
	MarkBest(runs, c.Direction)
	if err == nil {
		err = lerr
	}
	if err == nil {
		err = childErrors(runs)
	}
	return runs, err
}

// tuningOps is the tuning job as the waiter sees it.
func tuningOps(api API, hpo *TuningJob) *jobOps[sagemaker.DescribeHyperParameterTuningJobOutput] {
	return &jobOps[sagemaker.DescribeHyperParameterTuningJobOutput]{
		noun:    "tuning job",
		maxName: MaxTuningNameLen,
		create: func(ctx context.Context, name string) error {
			in := *hpo.Request
			in.HyperParameterTuningJobName = aws.String(name)
			_, err := api.CreateHyperParameterTuningJob(ctx, &in)
			return err
		},
		describe: func(ctx context.Context, name string) (*sagemaker.DescribeHyperParameterTuningJobOutput, error) {
			return api.DescribeHyperParameterTuningJob(ctx, &sagemaker.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
		},
		stop: func(ctx context.Context, name string) error {
			_, err := api.StopHyperParameterTuningJob(ctx, &sagemaker.StopHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
			return err
		},
		state: func(d *sagemaker.DescribeHyperParameterTuningJobOutput) jobState {
			st := jobState{Status: string(d.HyperParameterTuningJobStatus), Reason: aws.ToString(d.FailureReason)}
			if n := d.TrainingJobStatusCounters; n != nil {
				st.Secondary = fmt.Sprintf("%d completed, %d in progress, %d failed, %d stopped", aws.ToInt32(n.Completed),
					aws.ToInt32(n.InProgress), aws.ToInt32(n.NonRetryableError)+aws.ToInt32(n.RetryableError), aws.ToInt32(n.Stopped))
			}
			return st
		},
		retry: func(st jobState) bool { return st.Status == StatusFailed && retryable(st.Reason) },
	}
}

// childErrors reports the failed training jobs of a completed tuning job.
func childErrors(runs []Run) error {
	var errs []error
	for _, r := range runs {
		if r.Status == StatusFailed {
			errs = append(errs, &JobError{Kind: "training job", Job: r.JobName, Status: r.Status, Reason: r.FailureReason, Attempt: r.Attempt})
		}
	}
	return errors.Join(errs...)
}

// tuningRuns reads the training jobs of tuning job name back as runs.
func tuningRuns(ctx context.Context, api API, hpo *TuningJob, name, objective string) ([]Run, error) {
	p := sagemaker.NewListTrainingJobsForHyperParameterTuningJobPaginator(api,
		&sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name), MaxResults: aws.Int32(100)})
	var runs []Run
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return runs, call(ctx, "list training jobs of", "tuning job", name, err)
		}
		for _, s := range page.TrainingJobSummaries {
			child := aws.ToString(s.TrainingJobName)
			d, err := api.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(child)})
			if err != nil {
				return runs, call(ctx, "describe", "training job", child, err)
			}
			var point []Setting
			for _, a := range hpo.Axes {
				point = append(point, Setting{a.Name, s.TunedHyperParameters[a.Name]})
			}
			job := Job{BaseName: child, Point: point, Request: &sagemaker.CreateTrainingJobInput{
				HyperParameters: d.HyperParameters, ResourceConfig: hpo.Request.TrainingJobDefinition.ResourceConfig,
			}}
			run := runOf(job, 1, d, objective)
			run.TuningJob = name
			runs = append(runs, run)
		}
	}
	slices.SortFunc(runs, func(a, b Run) int { return strings.Compare(a.JobName, b.JobName) })
	return runs, nil
}
