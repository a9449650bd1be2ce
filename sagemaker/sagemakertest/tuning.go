package sagemakertest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Limits SageMaker sets on tuning jobs.
const (
	maxTuningNameLen  = 32
	maxGridJobs       = 750 // training jobs of a Grid tuning job
	maxTunedParams    = 30  // hyperparameters searched
	maxCategoryValues = 30  // values of one categorical hyperparameter
	defaultListSize   = 10  // ListTrainingJobsForHyperParameterTuningJob's MaxResults
	maxListSize       = 100
)

// objectiveParam is the hyperparameter SageMaker adds to a tuning job's
// static hyperparameters and its children's hyperparameters.
const objectiveParam = "_tuning_objective_metric"

// tuningJob is a Grid hyperparameter tuning job.
type tuningJob struct {
	name, arn   string
	in          *sagemaker.CreateHyperParameterTuningJobInput // as echoed; never changed
	def         *types.HyperParameterTrainingJobDefinition    // in's only definition
	objective   types.HyperParameterTuningJobObjective
	grid        []map[string]string // the combinations, in launch order
	children    []*trainingJob      // launched, in launch order
	maxParallel int

	status            types.HyperParameterTuningJobStatus
	failureReason     string
	created, modified time.Time
	end               time.Time
}

func tuningJobArn(name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:hyper-parameter-tuning-job/%s", Region, Account, strings.ToLower(name))
}

// CreateHyperParameterTuningJob validates a Grid tuning job as SageMaker
// does and launches its first MaxParallelTrainingJobs children. The
// children are named <tuning name>-<NNN>-<8 hex digits>, NNN counting the
// combinations from 001 in the order where the first categorical range
// varies slowest and the last fastest, the hex digits a hash of the
// combination. The tuning job's ARN has its name in lower case, as
// SageMaker's tuning-job ARNs do. A used name (tuning names are not case
// sensitive) gives *types.ResourceInUse; a bad request a
// ValidationException. Strategies
// other than Grid, and more than one training-job definition, are not
// faked and give a ValidationException naming the fake.
func (f *Fake) CreateHyperParameterTuningJob(ctx context.Context, in *sagemaker.CreateHyperParameterTuningJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateHyperParameterTuningJobOutput, error) {
	const op = OpCreateHyperParameterTuningJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkTuningParams(in); err != nil {
		return nil, operationError(op, err)
	}
	t, err := newTuningJob(in)
	if err != nil {
		return nil, operationError(op, err)
	}
	key := strings.ToLower(t.name)
	if _, ok := f.tunings[key]; ok {
		return nil, operationError(op, responseError(400, &types.ResourceInUse{Message: aws.String(
			"A hyperparameter tuning job with the name, " + t.name + ", already exists. Choose a different name.")}))
	}
	now := f.now()
	t.created, t.modified = now, now
	t.status = types.HyperParameterTuningJobStatusInProgress
	f.tunings[key] = t
	f.launch(t)
	return &sagemaker.CreateHyperParameterTuningJobOutput{HyperParameterTuningJobArn: aws.String(t.arn)}, nil
}

// checkTuningParams checks the fields the SDK requires.
func checkTuningParams(in *sagemaker.CreateHyperParameterTuningJobInput) error {
	if in == nil {
		in = &sagemaker.CreateHyperParameterTuningJobInput{}
	}
	p := newParams("CreateHyperParameterTuningJobInput")
	p.require(in.HyperParameterTuningJobName == nil, "HyperParameterTuningJobName")
	p.require(in.HyperParameterTuningJobConfig == nil, "HyperParameterTuningJobConfig")
	if c := in.HyperParameterTuningJobConfig; c != nil {
		q := newParams("HyperParameterTuningJobConfig")
		q.require(c.Strategy == "", "Strategy")
		q.require(c.ResourceLimits == nil, "ResourceLimits")
		if c.ResourceLimits != nil {
			r := newParams("ResourceLimits")
			r.require(c.ResourceLimits.MaxParallelTrainingJobs == nil, "MaxParallelTrainingJobs")
			q.nested("ResourceLimits", r)
		}
		if o := c.HyperParameterTuningJobObjective; o != nil {
			r := newParams("HyperParameterTuningJobObjective")
			r.require(o.Type == "", "Type")
			r.require(o.MetricName == nil, "MetricName")
			q.nested("HyperParameterTuningJobObjective", r)
		}
		if c.ParameterRanges != nil {
			q.nested("ParameterRanges", checkRangeParams(c.ParameterRanges))
		}
		p.nested("HyperParameterTuningJobConfig", q)
	}
	if d := in.TrainingJobDefinition; d != nil {
		q := newParams("HyperParameterTrainingJobDefinition")
		q.require(d.AlgorithmSpecification == nil, "AlgorithmSpecification")
		if d.AlgorithmSpecification != nil {
			r := newParams("HyperParameterAlgorithmSpecification")
			r.require(d.AlgorithmSpecification.TrainingInputMode == "", "TrainingInputMode")
			q.nested("AlgorithmSpecification", r)
		}
		q.require(d.RoleArn == nil, "RoleArn")
		q.require(d.OutputDataConfig == nil, "OutputDataConfig")
		if d.OutputDataConfig != nil {
			r := newParams("OutputDataConfig")
			r.require(d.OutputDataConfig.S3OutputPath == nil, "S3OutputPath")
			q.nested("OutputDataConfig", r)
		}
		if d.HyperParameterRanges != nil {
			q.nested("HyperParameterRanges", checkRangeParams(d.HyperParameterRanges))
		}
		p.nested("TrainingJobDefinition", q)
	}
	return p.err()
}

func checkRangeParams(r *types.ParameterRanges) *params {
	p := newParams("ParameterRanges")
	for i, c := range r.CategoricalParameterRanges {
		q := newParams("CategoricalParameterRange")
		q.require(c.Name == nil, "Name")
		q.require(c.Values == nil, "Values")
		p.nested(fmt.Sprintf("CategoricalParameterRanges[%d]", i), q)
	}
	return p
}

// newTuningJob validates in as SageMaker does for the Grid strategy and
// makes the tuning job with its grid.
func newTuningJob(in *sagemaker.CreateHyperParameterTuningJobInput) (*tuningJob, error) {
	name := *in.HyperParameterTuningJobName
	if err := checkName(name, "hyperParameterTuningJobName", maxTuningNameLen); err != nil {
		return nil, err
	}
	cfg := in.HyperParameterTuningJobConfig
	if cfg.Strategy != types.HyperParameterTuningJobStrategyTypeGrid {
		return nil, validationError("sagemakertest fakes only the Grid strategy, not %s", cfg.Strategy)
	}
	def := in.TrainingJobDefinition
	switch {
	case def == nil && len(in.TrainingJobDefinitions) == 0:
		return nil, validationError("Either TrainingJobDefinition or TrainingJobDefinitions must be specified.")
	case def != nil && len(in.TrainingJobDefinitions) > 0:
		return nil, validationError("Specify either TrainingJobDefinition or TrainingJobDefinitions, not both.")
	case len(in.TrainingJobDefinitions) > 1:
		return nil, validationError("sagemakertest fakes tuning jobs with one training-job definition, not %d", len(in.TrainingJobDefinitions))
	case def == nil:
		def = &in.TrainingJobDefinitions[0]
	}
	maxParallel := *cfg.ResourceLimits.MaxParallelTrainingJobs
	if maxParallel < 1 {
		return nil, constraint(maxParallel, "hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs",
			"have value greater than or equal to 1")
	}
	objective := cfg.HyperParameterTuningJobObjective
	if objective == nil {
		objective = def.TuningObjective
	}
	if objective == nil {
		return nil, validationError("The Grid strategy needs a HyperParameterTuningJobObjective: the metric to rank training jobs by.")
	}
	if objective.Type != types.HyperParameterTuningJobObjectiveTypeMaximize && objective.Type != types.HyperParameterTuningJobObjectiveTypeMinimize {
		return nil, constraint(objective.Type, "hyperParameterTuningJobConfig.hyperParameterTuningJobObjective.type",
			"satisfy enum value set: [Maximize, Minimize]")
	}
	ranges := cfg.ParameterRanges
	if ranges == nil {
		ranges = def.HyperParameterRanges
	}
	grid, err := expandGrid(ranges, def.StaticHyperParameters)
	if err != nil {
		return nil, err
	}
	if limit := cfg.ResourceLimits.MaxNumberOfTrainingJobs; limit != nil && int(*limit) != len(grid) {
		return nil, validationError(
			"For the Grid strategy, MaxNumberOfTrainingJobs (%d) must equal the number of combinations of the categorical parameter ranges (%d), or be left out.",
			*limit, len(grid))
	}

	// What DescribeHyperParameterTuningJob echoes. SageMaker adds the
	// objective to the static hyperparameters.
	echo := *in
	echo.HyperParameterTuningJobConfig = clone(cfg)
	echo.TrainingJobDefinitions = slices.Clone(in.TrainingJobDefinitions)
	var echoDef *types.HyperParameterTrainingJobDefinition
	if in.TrainingJobDefinition != nil {
		echo.TrainingJobDefinition = clone(in.TrainingJobDefinition)
		echoDef = echo.TrainingJobDefinition
	} else {
		echoDef = &echo.TrainingJobDefinitions[0]
	}
	echoDef.StaticHyperParameters = maps.Clone(def.StaticHyperParameters)
	if echoDef.StaticHyperParameters == nil {
		echoDef.StaticHyperParameters = map[string]string{}
	}
	echoDef.StaticHyperParameters[objectiveParam] = aws.ToString(objective.MetricName)

	return &tuningJob{
		name:        name,
		arn:         tuningJobArn(name),
		in:          &echo,
		def:         echoDef,
		objective:   *objective,
		grid:        grid,
		maxParallel: int(maxParallel),
	}, nil
}

// expandGrid checks the ranges as SageMaker does for Grid and returns
// every combination of the categorical values, the first range varying
// slowest.
func expandGrid(r *types.ParameterRanges, static map[string]string) ([]map[string]string, error) {
	if r == nil {
		r = &types.ParameterRanges{}
	}
	if n := len(r.IntegerParameterRanges) + len(r.ContinuousParameterRanges) + len(r.AutoParameters); n > 0 {
		return nil, validationError("The Grid strategy supports only categorical parameter ranges, but %d integer, continuous or auto ranges were given.", n)
	}
	cats := r.CategoricalParameterRanges
	switch {
	case len(cats) == 0:
		return nil, validationError("The Grid strategy needs at least one categorical parameter range.")
	case len(cats) > maxTunedParams:
		return nil, validationError("At most %d hyperparameters can be tuned; %d were given.", maxTunedParams, len(cats))
	}
	seen := make(map[string]bool)
	total := 1
	for _, c := range cats {
		name := *c.Name
		switch {
		case seen[name]:
			return nil, validationError("The hyperparameter %s has more than one range.", name)
		case len(c.Values) < 1 || len(c.Values) > maxCategoryValues:
			return nil, validationError("The categorical hyperparameter %s has %d values; it must have 1 to %d.", name, len(c.Values), maxCategoryValues)
		}
		if _, ok := static[name]; ok {
			return nil, validationError("The hyperparameter %s is both static and tuned.", name)
		}
		seen[name] = true
		total *= len(c.Values)
		if total > maxGridJobs {
			return nil, validationError("The Grid strategy can launch at most %d training jobs; the categorical parameter ranges have more combinations.", maxGridJobs)
		}
	}
	grid := make([]map[string]string, total)
	for i := range grid {
		combo := make(map[string]string, len(cats))
		k := i
		for c := len(cats) - 1; c >= 0; c-- {
			vals := cats[c].Values
			combo[*cats[c].Name] = vals[k%len(vals)]
			k /= len(vals)
		}
		grid[i] = combo
	}
	return grid, nil
}

// childName names the training job for the i-th combination (from 0).
func childName(tuning string, i int, combo map[string]string) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(combo)) {
		fmt.Fprintf(h, "%s=%s\n", k, combo[k])
	}
	return fmt.Sprintf("%s-%03d-%s", tuning, i+1, hex.EncodeToString(h.Sum(nil))[:8])
}

// childInput is the CreateTrainingJobInput SageMaker makes for a child.
func (t *tuningJob) childInput(name string, combo map[string]string) *sagemaker.CreateTrainingJobInput {
	d := t.def
	hp := maps.Clone(d.StaticHyperParameters) // has objectiveParam
	maps.Copy(hp, combo)
	in := &sagemaker.CreateTrainingJobInput{
		TrainingJobName:                       aws.String(name),
		HyperParameters:                       hp,
		RoleArn:                               d.RoleArn,
		InputDataConfig:                       d.InputDataConfig,
		OutputDataConfig:                      d.OutputDataConfig,
		ResourceConfig:                        d.ResourceConfig,
		StoppingCondition:                     d.StoppingCondition,
		VpcConfig:                             d.VpcConfig,
		EnableNetworkIsolation:                d.EnableNetworkIsolation,
		EnableInterContainerTrafficEncryption: d.EnableInterContainerTrafficEncryption,
		EnableManagedSpotTraining:             d.EnableManagedSpotTraining,
		CheckpointConfig:                      d.CheckpointConfig,
		Environment:                           d.Environment,
		RetryStrategy:                         d.RetryStrategy,
	}
	if a := d.AlgorithmSpecification; a != nil {
		in.AlgorithmSpecification = &types.AlgorithmSpecification{
			TrainingImage:     a.TrainingImage,
			AlgorithmName:     a.AlgorithmName,
			TrainingInputMode: a.TrainingInputMode,
			MetricDefinitions: a.MetricDefinitions,
		}
	}
	if in.ResourceConfig == nil && d.HyperParameterTuningResourceConfig != nil {
		r := d.HyperParameterTuningResourceConfig
		in.ResourceConfig = &types.ResourceConfig{
			InstanceType:   r.InstanceType,
			InstanceCount:  r.InstanceCount,
			VolumeSizeInGB: r.VolumeSizeInGB,
			VolumeKmsKeyId: r.VolumeKmsKeyId,
		}
	}
	return cloneCreateInput(in)
}

// launch starts waiting children while the tuning job has free slots. f
// must be locked.
func (f *Fake) launch(t *tuningJob) {
	for len(t.children) < len(t.grid) && t.running() < t.maxParallel {
		i := len(t.children)
		name := childName(t.name, i, t.grid[i])
		in := t.childInput(name, t.grid[i])
		j := f.newJob(in, f.scriptFor(in))
		j.tuning = t
		j.tuned = maps.Clone(t.grid[i])
		j.everCounted, j.counted = true, true
		f.jobStarted()
		t.children = append(t.children, j)
	}
}

// running counts the children that have not ended.
func (t *tuningJob) running() int {
	n := 0
	for _, c := range t.children {
		if !terminal(c.cur.Status) {
			n++
		}
	}
	return n
}

// tick advances the tuning job by one step: every running child moves on
// in its script, then waiting children fill free slots, and the tuning job
// ends when all its children have. f must be locked.
func (f *Fake) tick(t *tuningJob) {
	if t.ended() {
		return
	}
	for _, c := range t.children {
		if !terminal(c.cur.Status) {
			f.step(c)
		}
	}
	if t.status == types.HyperParameterTuningJobStatusInProgress {
		f.launch(t)
	}
	if t.running() > 0 || t.status == types.HyperParameterTuningJobStatusInProgress && len(t.children) < len(t.grid) {
		return
	}
	now := f.now()
	t.modified, t.end = now, now
	switch {
	case t.status == types.HyperParameterTuningJobStatusStopping:
		t.status = types.HyperParameterTuningJobStatusStopped
	case slices.ContainsFunc(t.children, func(c *trainingJob) bool { return c.cur.Status == types.TrainingJobStatusCompleted }):
		t.status = types.HyperParameterTuningJobStatusCompleted
	default:
		t.status = types.HyperParameterTuningJobStatusFailed
		t.failureReason = fmt.Sprintf("No training job succeeded after %d attempts. Please take a look at the training job failures to get more details.", len(t.children))
	}
}

func (t *tuningJob) ended() bool {
	switch t.status {
	case types.HyperParameterTuningJobStatusCompleted, types.HyperParameterTuningJobStatusFailed, types.HyperParameterTuningJobStatusStopped:
		return true
	}
	return false
}

// lookupTuning finds a tuning job; tuning names are not case sensitive. f
// must be locked.
func (f *Fake) lookupTuning(name *string) (*tuningJob, error) {
	t, ok := f.tunings[strings.ToLower(aws.ToString(name))]
	if !ok {
		return nil, tuningNotFound(aws.ToString(name))
	}
	return t, nil
}

// DescribeHyperParameterTuningJob advances the tuning job by one step (see
// the package documentation) and describes it: InProgress until every
// child has ended, then Completed (Failed if no child completed, Stopped
// if it was stopped). A missing job gives *types.ResourceNotFound.
func (f *Fake) DescribeHyperParameterTuningJob(ctx context.Context, in *sagemaker.DescribeHyperParameterTuningJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribeHyperParameterTuningJobOutput, error) {
	const op = OpDescribeHyperParameterTuningJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	p := newParams("DescribeHyperParameterTuningJobInput")
	p.require(in == nil || in.HyperParameterTuningJobName == nil, "HyperParameterTuningJobName")
	if err := p.err(); err != nil {
		return nil, operationError(op, err)
	}
	t, err := f.lookupTuning(in.HyperParameterTuningJobName)
	if err != nil {
		return nil, operationError(op, err)
	}
	f.tick(t)
	return t.describe(), nil
}

func (t *tuningJob) describe() *sagemaker.DescribeHyperParameterTuningJobOutput {
	echo := *t.in
	out := &sagemaker.DescribeHyperParameterTuningJobOutput{
		HyperParameterTuningJobName:   aws.String(t.name),
		HyperParameterTuningJobArn:    aws.String(t.arn),
		HyperParameterTuningJobStatus: t.status,
		HyperParameterTuningJobConfig: clone(echo.HyperParameterTuningJobConfig),
		TrainingJobDefinition:         clone(echo.TrainingJobDefinition),
		TrainingJobDefinitions:        slices.Clone(echo.TrainingJobDefinitions),
		WarmStartConfig:               clone(echo.WarmStartConfig),
		Autotune:                      clone(echo.Autotune),
		CreationTime:                  ptr(t.created),
		LastModifiedTime:              ptr(t.modified),
	}
	if d := out.TrainingJobDefinition; d != nil {
		d.StaticHyperParameters = maps.Clone(d.StaticHyperParameters)
	}
	for i := range out.TrainingJobDefinitions {
		d := &out.TrainingJobDefinitions[i]
		d.StaticHyperParameters = maps.Clone(d.StaticHyperParameters)
	}
	if t.failureReason != "" {
		out.FailureReason = aws.String(t.failureReason)
	}
	if !t.end.IsZero() {
		out.HyperParameterTuningEndTime = ptr(t.end)
	}
	var jobs types.TrainingJobStatusCounters
	var objectives types.ObjectiveStatusCounters
	var n struct{ completed, inProgress, retryable, nonRetryable, stopped, succeeded, pending, failed int32 }
	var best *trainingJob
	for _, c := range t.children {
		switch c.cur.Status {
		case types.TrainingJobStatusCompleted:
			n.completed++
		case types.TrainingJobStatusFailed:
			if strings.HasPrefix(c.cur.FailureReason, "InternalServerError") {
				n.retryable++
			} else {
				n.nonRetryable++
			}
		case types.TrainingJobStatusStopped:
			n.stopped++
		default:
			n.inProgress++
		}
		switch t.objectiveStatus(c) {
		case types.ObjectiveStatusSucceeded:
			n.succeeded++
			if best == nil || t.better(c, best) {
				best = c
			}
		case types.ObjectiveStatusPending:
			n.pending++
		default:
			n.failed++
		}
	}
	jobs.Completed, jobs.InProgress, jobs.Stopped = ptr(n.completed), ptr(n.inProgress), ptr(n.stopped)
	jobs.RetryableError, jobs.NonRetryableError = ptr(n.retryable), ptr(n.nonRetryable)
	objectives.Succeeded, objectives.Pending, objectives.Failed = ptr(n.succeeded), ptr(n.pending), ptr(n.failed)
	out.TrainingJobStatusCounters = &jobs
	out.ObjectiveStatusCounters = &objectives
	if best != nil {
		out.BestTrainingJob = t.summary(best)
	}
	return out
}

// objectiveValue returns the child's objective metric, if it completed with one.
func (t *tuningJob) objectiveValue(c *trainingJob) (float32, bool) {
	if c.cur.Status != types.TrainingJobStatusCompleted {
		return 0, false
	}
	v, ok := c.cur.Metrics[aws.ToString(t.objective.MetricName)]
	return float32(v), ok
}

func (t *tuningJob) objectiveStatus(c *trainingJob) types.ObjectiveStatus {
	if _, ok := t.objectiveValue(c); ok {
		return types.ObjectiveStatusSucceeded
	}
	if terminal(c.cur.Status) {
		return types.ObjectiveStatusFailed
	}
	return types.ObjectiveStatusPending
}

// better reports whether child a beats child b on the objective. Both
// must have succeeded.
func (t *tuningJob) better(a, b *trainingJob) bool {
	va, _ := t.objectiveValue(a)
	vb, _ := t.objectiveValue(b)
	if t.objective.Type == types.HyperParameterTuningJobObjectiveTypeMinimize {
		return va < vb
	}
	return va > vb
}

// summary describes a child as ListTrainingJobsForHyperParameterTuningJob
// and BestTrainingJob do.
func (t *tuningJob) summary(c *trainingJob) *types.HyperParameterTrainingJobSummary {
	s := &types.HyperParameterTrainingJobSummary{
		TrainingJobName:      aws.String(c.name),
		TrainingJobArn:       aws.String(c.arn),
		TuningJobName:        aws.String(t.name),
		CreationTime:         ptr(c.created),
		TrainingJobStatus:    c.cur.Status,
		TunedHyperParameters: maps.Clone(c.tuned),
		ObjectiveStatus:      t.objectiveStatus(c),
	}
	if !c.start.IsZero() {
		s.TrainingStartTime = ptr(c.start)
	}
	if !c.end.IsZero() {
		s.TrainingEndTime = ptr(c.end)
	}
	if c.cur.Status == types.TrainingJobStatusFailed {
		s.FailureReason = aws.String(c.cur.FailureReason)
	}
	if v, ok := t.objectiveValue(c); ok {
		s.FinalHyperParameterTuningJobObjectiveMetric = &types.FinalHyperParameterTuningJobObjectiveMetric{
			Type:       t.objective.Type,
			MetricName: aws.String(aws.ToString(t.objective.MetricName)),
			Value:      ptr(v),
		}
	}
	return s
}

// StopHyperParameterTuningJob stops the tuning job: every running child
// stops (Stopping on the next describe of the tuning job, then Stopped),
// no more are launched, and the tuning job is Stopping until they have
// stopped, then Stopped. Stopping a job that is stopping does nothing; one
// that ended gives a ValidationException; a missing one
// *types.ResourceNotFound.
func (f *Fake) StopHyperParameterTuningJob(ctx context.Context, in *sagemaker.StopHyperParameterTuningJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.StopHyperParameterTuningJobOutput, error) {
	const op = OpStopHyperParameterTuningJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	p := newParams("StopHyperParameterTuningJobInput")
	p.require(in == nil || in.HyperParameterTuningJobName == nil, "HyperParameterTuningJobName")
	if err := p.err(); err != nil {
		return nil, operationError(op, err)
	}
	t, err := f.lookupTuning(in.HyperParameterTuningJobName)
	if err != nil {
		return nil, operationError(op, err)
	}
	if t.ended() {
		// SageMaker's wording here is a guess modelled on StopTrainingJob's.
		return nil, operationError(op, validationError(
			"The request was rejected because the hyperparameter tuning job is in status %s.", t.status))
	}
	if t.status == types.HyperParameterTuningJobStatusStopping {
		return &sagemaker.StopHyperParameterTuningJobOutput{}, nil
	}
	t.status = types.HyperParameterTuningJobStatusStopping
	t.modified = f.now()
	for _, c := range t.children {
		if !terminal(c.cur.Status) && c.cur.Status != types.TrainingJobStatusStopping {
			c.stop()
		}
	}
	return &sagemaker.StopHyperParameterTuningJobOutput{}, nil
}

// ListTrainingJobsForHyperParameterTuningJob lists the tuning job's
// launched children, filtered by StatusEquals and sorted by SortBy (Name
// by default) and SortOrder (Ascending by default), MaxResults (default
// 10, at most 100) at a time. It does not advance the tuning job.
func (f *Fake) ListTrainingJobsForHyperParameterTuningJob(ctx context.Context, in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.ListTrainingJobsForHyperParameterTuningJobOutput, error) {
	const op = OpListTrainingJobsForHyperParameterTuningJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	p := newParams("ListTrainingJobsForHyperParameterTuningJobInput")
	p.require(in == nil || in.HyperParameterTuningJobName == nil, "HyperParameterTuningJobName")
	if err := p.err(); err != nil {
		return nil, operationError(op, err)
	}
	size := defaultListSize
	if in.MaxResults != nil {
		switch n := *in.MaxResults; {
		case n < 1:
			return nil, operationError(op, constraint(n, "maxResults", "have value greater than or equal to 1"))
		case n > maxListSize:
			return nil, operationError(op, constraint(n, "maxResults", "have value less than or equal to 100"))
		default:
			size = int(n)
		}
	}
	t, err := f.lookupTuning(in.HyperParameterTuningJobName)
	if err != nil {
		return nil, operationError(op, err)
	}

	var jobs []*trainingJob
	for _, c := range t.children {
		if in.StatusEquals != "" && c.cur.Status != in.StatusEquals {
			continue
		}
		if _, ok := t.objectiveValue(c); !ok && in.SortBy == types.TrainingJobSortByOptionsFinalObjectiveMetricValue {
			continue
		}
		jobs = append(jobs, c)
	}
	slices.SortStableFunc(jobs, func(a, b *trainingJob) int {
		var c int
		switch in.SortBy {
		case types.TrainingJobSortByOptionsCreationTime:
			c = cmp.Or(a.created.Compare(b.created), cmp.Compare(a.seq, b.seq))
		case types.TrainingJobSortByOptionsStatus:
			c = cmp.Compare(a.cur.Status, b.cur.Status)
		case types.TrainingJobSortByOptionsFinalObjectiveMetricValue:
			va, _ := t.objectiveValue(a)
			vb, _ := t.objectiveValue(b)
			c = cmp.Compare(va, vb)
		}
		c = cmp.Or(c, strings.Compare(a.name, b.name))
		if in.SortOrder == types.SortOrderDescending {
			c = -c
		}
		return c
	})

	start := 0
	if tok := aws.ToString(in.NextToken); tok != "" {
		start = parseToken(tok, t.name)
		if start < 0 || start > len(jobs) {
			return nil, operationError(op, validationError("Invalid pagination token %s.", tok))
		}
	}
	end := min(start+size, len(jobs))
	out := &sagemaker.ListTrainingJobsForHyperParameterTuningJobOutput{
		TrainingJobSummaries: []types.HyperParameterTrainingJobSummary{},
	}
	for _, c := range jobs[start:end] {
		out.TrainingJobSummaries = append(out.TrainingJobSummaries, *t.summary(c))
	}
	if end < len(jobs) {
		out.NextToken = aws.String(makeToken(end, t.name))
	}
	return out, nil
}

// A pagination token is opaque to callers; the fake's holds the offset and
// the tuning job's name, so a token of another listing is refused.
func makeToken(offset int, tuning string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset) + "/" + strings.ToLower(tuning)))
}

// parseToken returns the token's offset, or -1 if it is not a token of
// the tuning job's listing.
func parseToken(tok, tuning string) int {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return -1
	}
	offset, name, ok := strings.Cut(string(b), "/")
	if !ok || name != strings.ToLower(tuning) {
		return -1
	}
	n, err := strconv.Atoi(offset)
	if err != nil {
		return -1
	}
	return n
}
