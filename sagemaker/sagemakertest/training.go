package sagemakertest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// maxJobNameLen is the longest training-job name SageMaker accepts.
const maxJobNameLen = 63

// trainingJob is one training job and where it is in its script.
type trainingJob struct {
	name, arn string
	in        *sagemaker.CreateTrainingJobInput // never changed after creation
	tuning    *tuningJob                        // the parent tuning job, or nil
	tuned     map[string]string                 // a tuning child's grid point
	seq       int                               // creation order

	script []State
	pos    int   // index in script of the state shown last; -1 before the first
	cur    State // the state shown last, or the initial one

	created, modified time.Time
	start, end        time.Time // zero while unknown
	transitions       []types.SecondaryStatusTransition

	counted     bool // in Fake.running now
	everCounted bool
}

func trainingJobArn(name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:training-job/%s", Region, Account, name)
}

// newJob makes a training job. in must be a copy the fake owns. f must be
// locked.
func (f *Fake) newJob(in *sagemaker.CreateTrainingJobInput, script []State) *trainingJob {
	now := f.now()
	f.seq++
	j := &trainingJob{
		name:     deref(in.TrainingJobName),
		in:       in,
		seq:      f.seq,
		script:   script,
		pos:      -1,
		cur:      State{Status: types.TrainingJobStatusInProgress, Secondary: types.SecondaryStatusStarting},
		created:  now,
		modified: now,
	}
	j.arn = trainingJobArn(j.name)
	f.jobs[j.name] = j
	return j
}

// setScript replaces the rest of the job's script.
func (j *trainingJob) setScript(script []State) {
	j.script = script
	j.pos = -1
}

// step moves the job to the next state of its script. f must be locked.
func (f *Fake) step(j *trainingJob) {
	if j.pos < len(j.script)-1 {
		j.pos++
	}
	f.show(j, j.script[j.pos])
}

// show makes st the job's current state, recording what changed at the
// fake's time. f must be locked.
func (f *Fake) show(j *trainingJob, st State) {
	now := f.now()
	prev := j.cur
	j.cur = st
	if prev.Status != st.Status || prev.Secondary != st.Secondary {
		j.modified = now
	}
	if n := len(j.transitions); n == 0 || j.transitions[n-1].Status != st.Secondary {
		if n > 0 && j.transitions[n-1].EndTime == nil {
			j.transitions[n-1].EndTime = ptr(now)
		}
		j.transitions = append(j.transitions, types.SecondaryStatusTransition{Status: st.Secondary, StartTime: ptr(now)})
	}
	done := terminal(st.Status)
	if done {
		if last := &j.transitions[len(j.transitions)-1]; last.EndTime == nil {
			last.EndTime = ptr(now)
		}
	}
	// The training interval: from when instances were up (downloading or
	// training) to the end. A job that fails before that has neither.
	if j.start.IsZero() {
		switch {
		case done && st.TrainingSeconds > 0:
			j.start = now.Add(-time.Duration(st.TrainingSeconds) * time.Second)
		case !done && trainingSecondary(st.Secondary):
			j.start = now
		}
	}
	if done && j.end.IsZero() && !j.start.IsZero() {
		j.end = now
	}
	switch {
	case !done && !j.everCounted:
		j.everCounted, j.counted = true, true
		f.jobStarted()
	case done && j.counted:
		j.counted = false
		f.jobEnded()
	}
}

// trainingSecondary reports whether a job in secondary status s has its
// instances running.
func trainingSecondary(s types.SecondaryStatus) bool {
	switch s {
	case types.SecondaryStatusDownloading, types.SecondaryStatusDownloadingTrainingImage,
		types.SecondaryStatusTraining, types.SecondaryStatusUploading,
		types.SecondaryStatusInterrupted, types.SecondaryStatusRestarting:
		return true
	}
	return false
}

// stop makes a running job stop: Stopping on the next step, then Stopped.
// It keeps the training and billable seconds shown so far.
func (j *trainingJob) stop() {
	st := State{
		Status:          types.TrainingJobStatusStopping,
		Secondary:       types.SecondaryStatusStopping,
		TrainingSeconds: j.cur.TrainingSeconds,
		BillableSeconds: j.cur.BillableSeconds,
	}
	stopped := st
	stopped.Status, stopped.Secondary = types.TrainingJobStatusStopped, types.SecondaryStatusStopped
	j.setScript([]State{st, stopped})
}

// CreateTrainingJob creates a training job that follows its script. A used
// name gives *types.ResourceInUse; a name SageMaker would refuse gives a
// ValidationException.
func (f *Fake) CreateTrainingJob(ctx context.Context, in *sagemaker.CreateTrainingJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateTrainingJobOutput, error) {
	const op = OpCreateTrainingJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkCreateTrainingJob(in); err != nil {
		return nil, operationError(op, err)
	}
	name := *in.TrainingJobName
	if _, ok := f.jobs[name]; ok {
		return nil, operationError(op, responseError(400, &types.ResourceInUse{Message: aws.String(
			"Training job names must be unique within an AWS account and region, and a training job with this name already exists (" +
				trainingJobArn(name) + ")")}))
	}
	in = cloneCreateInput(in)
	j := f.newJob(in, f.scriptFor(in))
	j.everCounted, j.counted = true, true
	f.jobStarted()
	f.created = append(f.created, name)
	return &sagemaker.CreateTrainingJobOutput{TrainingJobArn: aws.String(j.arn)}, nil
}

// checkCreateTrainingJob validates in as the SDK (required fields) and
// then SageMaker (the name) do.
func checkCreateTrainingJob(in *sagemaker.CreateTrainingJobInput) error {
	if in == nil {
		in = &sagemaker.CreateTrainingJobInput{}
	}
	p := newParams("CreateTrainingJobInput")
	p.require(in.TrainingJobName == nil, "TrainingJobName")
	p.require(in.RoleArn == nil, "RoleArn")
	p.require(in.OutputDataConfig == nil, "OutputDataConfig")
	if in.OutputDataConfig != nil {
		q := newParams("OutputDataConfig")
		q.require(in.OutputDataConfig.S3OutputPath == nil, "S3OutputPath")
		p.nested("OutputDataConfig", q)
	}
	if err := p.err(); err != nil {
		return err
	}
	return checkName(*in.TrainingJobName, "trainingJobName", maxJobNameLen)
}

// AddJob registers a training job as if it had been created before the
// test (by an earlier run), without counting a CreateTrainingJob call. Its
// script is states, or if none are given the one Script, ScriptFunc or the
// default script gives. Until its first describe it is in states[0]. AddJob
// panics if in has no name or the name is taken.
func (f *Fake) AddJob(in *sagemaker.CreateTrainingJobInput, states ...State) {
	if in == nil || in.TrainingJobName == nil {
		panic("sagemakertest: AddJob: no TrainingJobName")
	}
	script := normalizeScript("AddJob", states)
	f.lock()
	defer f.unlock()
	name := *in.TrainingJobName
	if _, ok := f.jobs[name]; ok {
		panic(fmt.Sprintf("sagemakertest: AddJob: training job %s exists", name))
	}
	in = cloneCreateInput(in)
	if len(script) == 0 {
		script = f.scriptFor(in)
	}
	j := f.newJob(in, script)
	j.cur = script[0]
}

// DescribeTrainingJob shows the job's next scripted state (or, for a child
// of a tuning job, its current state). A missing job gives a
// ValidationException "Requested resource not found.".
func (f *Fake) DescribeTrainingJob(ctx context.Context, in *sagemaker.DescribeTrainingJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribeTrainingJobOutput, error) {
	const op = OpDescribeTrainingJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	p := newParams("DescribeTrainingJobInput")
	p.require(in == nil || in.TrainingJobName == nil, "TrainingJobName")
	if err := p.err(); err != nil {
		return nil, operationError(op, err)
	}
	j, ok := f.jobs[*in.TrainingJobName]
	if !ok {
		return nil, operationError(op, trainingNotFound())
	}
	if j.tuning == nil {
		f.step(j)
	}
	return j.describe(), nil
}

// StopTrainingJob stops a running job: the next describe shows Stopping,
// the one after Stopped. Stopping a job that is stopping already does
// nothing; stopping one that ended gives a ValidationException, as does a
// missing job.
func (f *Fake) StopTrainingJob(ctx context.Context, in *sagemaker.StopTrainingJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.StopTrainingJobOutput, error) {
	const op = OpStopTrainingJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	p := newParams("StopTrainingJobInput")
	p.require(in == nil || in.TrainingJobName == nil, "TrainingJobName")
	if err := p.err(); err != nil {
		return nil, operationError(op, err)
	}
	j, ok := f.jobs[*in.TrainingJobName]
	if !ok {
		return nil, operationError(op, trainingNotFound())
	}
	if err := j.stopErr(); err != nil {
		return nil, operationError(op, err)
	}
	if j.cur.Status != types.TrainingJobStatusStopping {
		j.stop()
	}
	f.stopped = append(f.stopped, j.name)
	return &sagemaker.StopTrainingJobOutput{}, nil
}

// stopErr is the error for stopping the job, if it has ended.
func (j *trainingJob) stopErr() error {
	if terminal(j.cur.Status) {
		return validationError("The request was rejected because the training job is in status %s.", j.cur.Status)
	}
	return nil
}

// artifact is where SageMaker puts the job's model.
func (j *trainingJob) artifact() *string {
	if j.in.OutputDataConfig == nil || j.in.OutputDataConfig.S3OutputPath == nil {
		return nil
	}
	return aws.String(strings.TrimRight(*j.in.OutputDataConfig.S3OutputPath, "/") + "/" + j.name + "/output/model.tar.gz")
}

// describe builds the job's DescribeTrainingJob output. Nothing in it is
// shared with the fake.
func (j *trainingJob) describe() *sagemaker.DescribeTrainingJobOutput {
	in := cloneCreateInput(j.in)
	st := j.cur
	out := &sagemaker.DescribeTrainingJobOutput{
		TrainingJobName:            aws.String(j.name),
		TrainingJobArn:             aws.String(j.arn),
		TrainingJobStatus:          st.Status,
		SecondaryStatus:            st.Secondary,
		SecondaryStatusTransitions: cloneTransitions(j.transitions),
		CreationTime:               ptr(j.created),
		LastModifiedTime:           ptr(j.modified),
		ModelArtifacts:             &types.ModelArtifacts{S3ModelArtifacts: j.artifact()},

		HyperParameters:                       in.HyperParameters,
		AlgorithmSpecification:                in.AlgorithmSpecification,
		InputDataConfig:                       in.InputDataConfig,
		OutputDataConfig:                      in.OutputDataConfig,
		ResourceConfig:                        in.ResourceConfig,
		StoppingCondition:                     in.StoppingCondition,
		RoleArn:                               in.RoleArn,
		VpcConfig:                             in.VpcConfig,
		EnableNetworkIsolation:                in.EnableNetworkIsolation,
		EnableInterContainerTrafficEncryption: in.EnableInterContainerTrafficEncryption,
		EnableManagedSpotTraining:             in.EnableManagedSpotTraining,
		CheckpointConfig:                      in.CheckpointConfig,
		Environment:                           in.Environment,
		RetryStrategy:                         in.RetryStrategy,
	}
	if j.tuning != nil {
		out.TuningJobArn = aws.String(j.tuning.arn)
	}
	if st.Status == types.TrainingJobStatusFailed {
		out.FailureReason = aws.String(st.FailureReason)
	}
	if st.Status == types.TrainingJobStatusCompleted {
		out.FinalMetricDataList = j.metrics()
	}
	if st.TrainingSeconds != 0 {
		out.TrainingTimeInSeconds = ptr(st.TrainingSeconds)
	}
	if st.BillableSeconds != 0 {
		out.BillableTimeInSeconds = ptr(st.BillableSeconds)
	}
	if !j.start.IsZero() {
		out.TrainingStartTime = ptr(j.start)
	}
	if !j.end.IsZero() {
		out.TrainingEndTime = ptr(j.end)
	}
	return out
}

// metrics returns the current state's metrics as SageMaker reports them,
// in name order (SageMaker guarantees none).
func (j *trainingJob) metrics() []types.MetricData {
	var ms []types.MetricData
	at := j.modified
	if !j.end.IsZero() {
		at = j.end
	}
	for _, name := range slices.Sorted(maps.Keys(j.cur.Metrics)) {
		ms = append(ms, types.MetricData{
			MetricName: aws.String(name),
			Value:      ptr(float32(j.cur.Metrics[name])),
			Timestamp:  ptr(at),
		})
	}
	return ms
}

func cloneTransitions(ts []types.SecondaryStatusTransition) []types.SecondaryStatusTransition {
	out := make([]types.SecondaryStatusTransition, len(ts))
	for i, t := range ts {
		out[i] = types.SecondaryStatusTransition{
			Status:        t.Status,
			StartTime:     clone(t.StartTime),
			EndTime:       clone(t.EndTime),
			StatusMessage: clone(t.StatusMessage),
		}
	}
	return out
}
