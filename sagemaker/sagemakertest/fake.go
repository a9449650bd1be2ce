package sagemakertest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	rlsm "github.com/reviewlens/reviewlens/sagemaker"
)

var _ rlsm.API = (*Fake)(nil)

// The fake's account and Region, as in ARNs; moto uses the same account.
const (
	Region  = "us-east-1"
	Account = "123456789012"
)

// Operation names, as FailNext and Calls take them (and as the SDK names
// them in a *smithy.OperationError).
const (
	OpCreateTrainingJob                          = "CreateTrainingJob"
	OpDescribeTrainingJob                        = "DescribeTrainingJob"
	OpStopTrainingJob                            = "StopTrainingJob"
	OpCreateHyperParameterTuningJob              = "CreateHyperParameterTuningJob"
	OpDescribeHyperParameterTuningJob            = "DescribeHyperParameterTuningJob"
	OpStopHyperParameterTuningJob                = "StopHyperParameterTuningJob"
	OpListTrainingJobsForHyperParameterTuningJob = "ListTrainingJobsForHyperParameterTuningJob"
	OpCreateModel                                = "CreateModel"
	OpDescribeModel                              = "DescribeModel"
	OpCreateTransformJob                         = "CreateTransformJob"
	OpDescribeTransformJob                       = "DescribeTransformJob"
	OpStopTransformJob                           = "StopTransformJob"
)

// operations are the operations the fake implements.
var operations = []string{
	OpCreateTrainingJob, OpDescribeTrainingJob, OpStopTrainingJob,
	OpCreateHyperParameterTuningJob, OpDescribeHyperParameterTuningJob, OpStopHyperParameterTuningJob,
	OpListTrainingJobsForHyperParameterTuningJob,
	OpCreateModel, OpDescribeModel,
	OpCreateTransformJob, OpDescribeTransformJob, OpStopTransformJob,
}

// Fake is an in-memory SageMaker that plays scripts. The zero value is
// ready to use, like New's.
type Fake struct {
	// Now is the fake's clock, used for every time it reports (creation,
	// status transitions, start and end). Nil means time.Now. Set it before
	// the first call.
	Now func() time.Time

	// OnTransformEnd, if set, is called once for each transform job, when
	// a DescribeTransformJob call first shows it Completed, Failed or
	// Stopped, with a copy of the job's create input and that status. It
	// is the test's chance to put the job's outputs where the code under
	// test will look for them (see the package documentation). It is
	// called without the Fake locked, before that describe returns; other
	// describes of the job wait until it returns. Set it before the first
	// call.
	OnTransformEnd func(in *sagemaker.CreateTransformJobInput, status types.TransformJobStatus)

	mu            sync.Mutex
	defaultScript []State
	scriptFunc    func(*sagemaker.CreateTrainingJobInput) []State
	scripts       map[string][]State // by training-job name
	jobs          map[string]*trainingJob
	tunings       map[string]*tuningJob // by lower-cased name: tuning names are not case sensitive
	failures      map[string][]error
	calls         map[string]int
	created       []string
	stopped       []string
	running       int // training jobs in progress now
	maxRunning    int
	seq           int // creation sequence of training jobs

	models        map[string]*model
	createdModels []string

	transformDefault    []TransformState
	transformScriptFunc func(*sagemaker.CreateTransformJobInput) []TransformState
	transformScripts    map[string][]TransformState // by transform-job name
	transforms          map[string]*transformJob
	createdTransforms   []string
	stoppedTransforms   []string
}

// New returns an empty Fake with the default script.
func New() *Fake {
	return &Fake{}
}

// lock locks f and makes its maps on first use.
func (f *Fake) lock() {
	f.mu.Lock()
	if f.jobs == nil {
		f.scripts = make(map[string][]State)
		f.jobs = make(map[string]*trainingJob)
		f.tunings = make(map[string]*tuningJob)
		f.failures = make(map[string][]error)
		f.calls = make(map[string]int)
		f.models = make(map[string]*model)
		f.transformScripts = make(map[string][]TransformState)
		f.transforms = make(map[string]*transformJob)
	}
}

func (f *Fake) unlock() { f.mu.Unlock() }

func (f *Fake) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// begin starts a call of op: it counts the call and returns the error the
// call must fail with, if any: the context's, or one queued by FailNext.
// f must be locked.
func (f *Fake) begin(ctx context.Context, op string) error {
	f.calls[op]++
	if err := ctx.Err(); err != nil {
		return operationError(op, &smithy.CanceledError{Err: err})
	}
	if q := f.failures[op]; len(q) > 0 {
		f.failures[op] = q[1:]
		if q[0] != nil {
			return operationError(op, q[0])
		}
	}
	return nil
}

func checkOp(method, op string) {
	if !slices.Contains(operations, op) {
		panic(fmt.Sprintf("sagemakertest: %s: unknown operation %q", method, op))
	}
}

// FailNext queues errs for op (e.g. "CreateTrainingJob", or
// OpCreateTrainingJob): each of the next len(errs) calls of op returns the
// next error before doing anything; a nil error lets its call through, so
// FailNext(op, nil, err) fails the second call. An error not already
// wrapped in a *smithy.OperationError is wrapped in one, as the SDK does.
// Use LimitExceeded, Throttling and InternalError for SageMaker's errors.
// FailNext panics on an unknown operation.
func (f *Fake) FailNext(op string, errs ...error) {
	checkOp("FailNext", op)
	f.lock()
	defer f.unlock()
	f.failures[op] = append(f.failures[op], errs...)
}

// Calls returns how many times op was called, whether or not the call
// succeeded. It panics on an unknown operation, so a misspelt name does
// not pass for zero calls.
func (f *Fake) Calls(op string) int {
	checkOp("Calls", op)
	f.lock()
	defer f.unlock()
	return f.calls[op]
}

// CreatedJobs returns the names of the training jobs created by
// successful CreateTrainingJob calls, in order. Jobs added with AddJob and
// the children of tuning jobs are not listed.
func (f *Fake) CreatedJobs() []string {
	f.lock()
	defer f.unlock()
	return slices.Clone(f.created)
}

// StoppedJobs returns the names given to successful StopTrainingJob
// calls, in order.
func (f *Fake) StoppedJobs() []string {
	f.lock()
	defer f.unlock()
	return slices.Clone(f.stopped)
}

// CreateInput returns a copy of the input the training job was created
// with (for a tuning job's child, the input SageMaker would have used), or
// nil if there is no such job.
func (f *Fake) CreateInput(name string) *sagemaker.CreateTrainingJobInput {
	f.lock()
	defer f.unlock()
	j, ok := f.jobs[name]
	if !ok {
		return nil
	}
	return cloneCreateInput(j.in)
}

// MaxInProgress returns the largest number of training jobs that were in
// progress at once. A job is in progress from its creation (or, for a job
// added with AddJob, from the first describe that shows it running) until
// a describe shows it Completed, Failed or Stopped; Stopping counts as in
// progress. Children of tuning jobs count too.
func (f *Fake) MaxInProgress() int {
	f.lock()
	defer f.unlock()
	return f.maxRunning
}

// Script sets the states the training job called name walks through (see
// the package documentation). For a job that does not exist yet, the
// script is used when it is created; for an existing job, it replaces the
// rest of its script, and the next describe shows states[0]. With no
// states, Script forgets the script set for name.
//
// Script panics if a state follows a terminal one (Completed, Failed,
// Stopped): real jobs never leave those.
func (f *Fake) Script(name string, states ...State) {
	script := normalizeScript("Script", states)
	f.lock()
	defer f.unlock()
	if len(script) == 0 {
		delete(f.scripts, name)
		return
	}
	if j, ok := f.jobs[name]; ok {
		j.setScript(script)
		return
	}
	f.scripts[name] = script
}

// DefaultScript sets the script of training jobs that have neither a
// script of their own nor one from ScriptFunc. With no states it restores
// the initial default: InProgress/Training, then Completed with
// validation:accuracy 0.5 and 60 training and billable seconds.
func (f *Fake) DefaultScript(states ...State) {
	script := normalizeScript("DefaultScript", states)
	f.lock()
	defer f.unlock()
	f.defaultScript = script
}

// ScriptFunc sets a function that picks the script of a new training job
// from its create input (for a tuning job's child, the input SageMaker
// would use), e.g. to make the accuracy depend on the hyperparameters. A
// script set with Script for the job's name wins; a nil or empty result
// means the default script. fn gets a copy of the input, and is called
// with the Fake locked.
func (f *Fake) ScriptFunc(fn func(in *sagemaker.CreateTrainingJobInput) []State) {
	f.lock()
	defer f.unlock()
	f.scriptFunc = fn
}

// scriptFor returns the script of a new training job. f must be locked.
func (f *Fake) scriptFor(in *sagemaker.CreateTrainingJobInput) []State {
	name := deref(in.TrainingJobName)
	if s, ok := f.scripts[name]; ok {
		delete(f.scripts, name)
		return s
	}
	if f.scriptFunc != nil {
		if s := normalizeScript("ScriptFunc", f.scriptFunc(cloneCreateInput(in))); len(s) > 0 {
			return s
		}
	}
	if len(f.defaultScript) > 0 {
		return f.defaultScript
	}
	return defaultScript
}

// jobStarted and jobEnded keep the count of running training jobs. f must
// be locked.
func (f *Fake) jobStarted() {
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
}

func (f *Fake) jobEnded() { f.running-- }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// clone returns a pointer to a shallow copy of *p, or nil.
func clone[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func ptr[T any](v T) *T { return &v }

// cloneCreateInput copies in deeply enough that neither the caller nor
// the fake sees the other change maps, slices or the structures the fake
// echoes. Deeper values (a channel's data source) are shared and must not
// be changed.
func cloneCreateInput(in *sagemaker.CreateTrainingJobInput) *sagemaker.CreateTrainingJobInput {
	if in == nil {
		return nil
	}
	c := *in
	c.HyperParameters = maps.Clone(in.HyperParameters)
	c.Environment = maps.Clone(in.Environment)
	c.InputDataConfig = slices.Clone(in.InputDataConfig)
	c.Tags = slices.Clone(in.Tags)
	c.AlgorithmSpecification = clone(in.AlgorithmSpecification)
	if c.AlgorithmSpecification != nil {
		c.AlgorithmSpecification.MetricDefinitions = slices.Clone(c.AlgorithmSpecification.MetricDefinitions)
	}
	c.OutputDataConfig = clone(in.OutputDataConfig)
	c.ResourceConfig = clone(in.ResourceConfig)
	c.StoppingCondition = clone(in.StoppingCondition)
	c.VpcConfig = cloneVpc(in.VpcConfig)
	c.CheckpointConfig = clone(in.CheckpointConfig)
	c.RetryStrategy = clone(in.RetryStrategy)
	return &c
}

func cloneVpc(v *types.VpcConfig) *types.VpcConfig {
	c := clone(v)
	if c != nil {
		c.SecurityGroupIds = slices.Clone(c.SecurityGroupIds)
		c.Subnets = slices.Clone(c.Subnets)
	}
	return c
}
