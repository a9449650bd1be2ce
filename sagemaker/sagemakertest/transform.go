package sagemakertest

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Limits SageMaker sets on transform jobs.
const (
	maxTransformInstances = 100 // TransformResources.InstanceCount
	maxPayloadInMB        = 100 // MaxPayloadInMB, and MaxConcurrentTransforms × MaxPayloadInMB
	defaultPayloadInMB    = 6
	maxTransformEnv       = 16 // entries of Environment
	maxTransformEnvKeyLen = 1024
	maxTransformEnvValLen = 10240
	transformEnvKeyRegexp = `^[a-zA-Z_][a-zA-Z0-9_]{0,1023}`
	maxContentTypeLen     = 256
	maxInvocationsTimeout = 3600
	maxInvocationsRetries = 3
	maxJSONPathLen        = 63
)

// transformEnvKeyRE matches transformEnvKeyRegexp but for the length,
// which is checked apart (Go's regexp allows at most 1000 repeats).
var transformEnvKeyRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// TransformState is what DescribeTransformJob shows for a job at one step
// of its script.
type TransformState struct {
	// Status is the job's status. Empty means InProgress.
	Status types.TransformJobStatus
	// FailureReason is reported when Status is Failed (and only then, as
	// SageMaker does). Empty means
	// "AlgorithmError: scripted failure (sagemakertest)".
	FailureReason string
}

// defaultTransformScript is the script of transform jobs nobody scripted.
var defaultTransformScript = []TransformState{
	{Status: types.TransformJobStatusInProgress},
	{Status: types.TransformJobStatusCompleted},
}

// transformTerminal reports whether a transform job in status s has ended.
func transformTerminal(s types.TransformJobStatus) bool {
	switch s {
	case types.TransformJobStatusCompleted, types.TransformJobStatusFailed, types.TransformJobStatusStopped:
		return true
	}
	return false
}

func (s TransformState) normalize() TransformState {
	if s.Status == "" {
		s.Status = types.TransformJobStatusInProgress
	}
	if s.Status == types.TransformJobStatusFailed && s.FailureReason == "" {
		s.FailureReason = defaultFailureReason
	}
	return s
}

// normalizeTransformScript normalizes states and panics, naming method,
// if one follows a terminal state.
func normalizeTransformScript(method string, states []TransformState) []TransformState {
	script := make([]TransformState, len(states))
	for i, s := range states {
		script[i] = s.normalize()
		if i > 0 && transformTerminal(script[i-1].Status) {
			panic(fmt.Sprintf("sagemakertest: %s: state %d (%s) follows terminal state %s",
				method, i, script[i].Status, script[i-1].Status))
		}
	}
	return script
}

// transformJob is one batch transform job and where it is in its script.
type transformJob struct {
	name, arn string
	in        *sagemaker.CreateTransformJobInput // never changed after creation

	script []TransformState
	pos    int            // index in script of the state shown last; -1 before the first
	cur    TransformState // the state shown last, or the initial one

	created    time.Time
	start, end time.Time // zero while unknown

	ended    bool          // a describe has shown it ended; OnTransformEnd called or skipped
	hookDone chan struct{} // closed when OnTransformEnd returns; nil if not called
}

func transformJobArn(name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:transform-job/%s", Region, Account, name)
}

// transformNotFound is what SageMaker says about a missing transform job:
// as for training jobs, a ValidationException rather than the modelled
// ResourceNotFound.
func transformNotFound() error {
	return validationError("Requested resource not found.")
}

// ScriptTransform sets the states the transform job called name walks
// through, one per DescribeTransformJob call, the last repeating. For a
// job that does not exist yet, the script is used when it is created; for
// an existing job, it replaces the rest of its script, and the next
// describe shows states[0]. With no states, ScriptTransform forgets the
// script set for name.
//
// ScriptTransform panics if a state follows a terminal one (Completed,
// Failed, Stopped).
func (f *Fake) ScriptTransform(name string, states ...TransformState) {
	script := normalizeTransformScript("ScriptTransform", states)
	f.lock()
	defer f.unlock()
	if len(script) == 0 {
		delete(f.transformScripts, name)
		return
	}
	if j, ok := f.transforms[name]; ok {
		j.setScript(script)
		return
	}
	f.transformScripts[name] = script
}

// DefaultTransformScript sets the script of transform jobs that have
// neither a script of their own nor one from TransformScriptFunc. With no
// states it restores the initial default: InProgress, then Completed.
func (f *Fake) DefaultTransformScript(states ...TransformState) {
	script := normalizeTransformScript("DefaultTransformScript", states)
	f.lock()
	defer f.unlock()
	f.transformDefault = script
}

// TransformScriptFunc sets a function that picks the script of a new
// transform job from its create input. A script set with ScriptTransform
// for the job's name wins; a nil or empty result means the default script.
// fn gets a copy of the input, and is called with the Fake locked.
func (f *Fake) TransformScriptFunc(fn func(in *sagemaker.CreateTransformJobInput) []TransformState) {
	f.lock()
	defer f.unlock()
	f.transformScriptFunc = fn
}

// transformScriptFor returns the script of a new transform job. f must be
// locked.
func (f *Fake) transformScriptFor(in *sagemaker.CreateTransformJobInput) []TransformState {
	name := deref(in.TransformJobName)
	if s, ok := f.transformScripts[name]; ok {
		delete(f.transformScripts, name)
		return s
	}
	if f.transformScriptFunc != nil {
		if s := normalizeTransformScript("TransformScriptFunc", f.transformScriptFunc(cloneTransformInput(in))); len(s) > 0 {
			return s
		}
	}
	if len(f.transformDefault) > 0 {
		return f.transformDefault
	}
	return defaultTransformScript
}

// newTransformJob makes a transform job. in must be a copy the fake owns.
// f must be locked.
func (f *Fake) newTransformJob(in *sagemaker.CreateTransformJobInput, script []TransformState) *transformJob {
	name := deref(in.TransformJobName)
	j := &transformJob{
		name:    name,
		arn:     transformJobArn(name),
		in:      in,
		script:  script,
		pos:     -1,
		cur:     TransformState{Status: types.TransformJobStatusInProgress},
		created: f.now(),
	}
	f.transforms[name] = j
	return j
}

func (j *transformJob) setScript(script []TransformState) {
	j.script = script
	j.pos = -1
}

// step moves the job to the next state of its script and records the
// times that go with it. f must be locked.
func (f *Fake) stepTransform(j *transformJob) {
	if j.pos < len(j.script)-1 {
		j.pos++
	}
	j.cur = j.script[j.pos]
	now := f.now()
	// A job seen running (or done) has started; one that fails before
	// anyone sees it running never started on instances.
	if j.start.IsZero() && j.cur.Status != types.TransformJobStatusFailed {
		j.start = now
	}
	if transformTerminal(j.cur.Status) && j.end.IsZero() {
		j.end = now
	}
}

// stop makes a running job stop: Stopping on the next step, then Stopped.
func (j *transformJob) stop() {
	j.setScript([]TransformState{
		{Status: types.TransformJobStatusStopping},
		{Status: types.TransformJobStatusStopped},
	})
}

// CreateTransformJob creates a batch transform job that follows its
// script. It checks the request as SageMaker does: names, S3 URIs, the
// S3 data type (only S3Prefix and ManifestFile), the instance count
// (1–100), MaxPayloadInMB (at most 100, and at most 100 times
// MaxConcurrentTransforms, counting an unset MaxPayloadInMB as its
// default 6), the environment (at most 16 entries), and that the model
// exists ("Could not find model ..."). Bad requests give a
// ValidationException; a used name gives *types.ResourceInUse.
func (f *Fake) CreateTransformJob(ctx context.Context, in *sagemaker.CreateTransformJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateTransformJobOutput, error) {
	const op = OpCreateTransformJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkCreateTransformJob(in); err != nil {
		return nil, operationError(op, err)
	}
	name := *in.TransformJobName
	if _, ok := f.transforms[name]; ok {
		return nil, operationError(op, responseError(400, &types.ResourceInUse{Message: aws.String(
			"Job name must be unique within an AWS account and region, and a job with this name already exists (" +
				transformJobArn(name) + ")")}))
	}
	if _, ok := f.models[*in.ModelName]; !ok {
		return nil, operationError(op, modelNotFound(*in.ModelName))
	}
	in = cloneTransformInput(in)
	j := f.newTransformJob(in, f.transformScriptFor(in))
	f.createdTransforms = append(f.createdTransforms, name)
	return &sagemaker.CreateTransformJobOutput{TransformJobArn: aws.String(j.arn)}, nil
}

// checkCreateTransformJob validates in as the SDK (required fields) and
// then SageMaker do. It does not look up the model.
func checkCreateTransformJob(in *sagemaker.CreateTransformJobInput) error {
	if in == nil {
		in = &sagemaker.CreateTransformJobInput{}
	}
	if err := checkTransformParams(in); err != nil {
		return err
	}
	if err := checkName(*in.TransformJobName, "transformJobName", maxJobNameLen); err != nil {
		return err
	}
	if err := checkModelName(*in.ModelName, "modelName"); err != nil {
		return err
	}

	ti := in.TransformInput
	src := ti.DataSource.S3DataSource
	if !slices.Contains(src.S3DataType.Values(), src.S3DataType) {
		return enumConstraint(src.S3DataType, "transformInput.dataSource.s3DataSource.s3DataType", src.S3DataType.Values())
	}
	if err := checkS3Uri(*src.S3Uri, "transformInput.dataSource.s3DataSource.s3Uri"); err != nil {
		return err
	}
	if ct := deref(ti.ContentType); len(ct) > maxContentTypeLen {
		return constraint(ct, "transformInput.contentType", fmt.Sprintf("have length less than or equal to %d", maxContentTypeLen))
	}
	if c := ti.CompressionType; c != "" && !slices.Contains(c.Values(), c) {
		return enumConstraint(c, "transformInput.compressionType", c.Values())
	}
	if s := ti.SplitType; s != "" && !slices.Contains(s.Values(), s) {
		return enumConstraint(s, "transformInput.splitType", s.Values())
	}

	to := in.TransformOutput
	if err := checkS3Uri(*to.S3OutputPath, "transformOutput.s3OutputPath"); err != nil {
		return err
	}
	if a := deref(to.Accept); len(a) > maxContentTypeLen {
		return constraint(a, "transformOutput.accept", fmt.Sprintf("have length less than or equal to %d", maxContentTypeLen))
	}
	if a := to.AssembleWith; a != "" && !slices.Contains(a.Values(), a) {
		return enumConstraint(a, "transformOutput.assembleWith", a.Values())
	}

	tr := in.TransformResources
	if it := tr.InstanceType; !slices.Contains(it.Values(), it) {
		return enumConstraint(it, "transformResources.instanceType", it.Values())
	}
	if n := *tr.InstanceCount; n < 1 {
		return constraint(n, "transformResources.instanceCount", "have value greater than or equal to 1")
	}

	if n := in.MaxConcurrentTransforms; n != nil && *n < 0 {
		return constraint(*n, "maxConcurrentTransforms", "have value greater than or equal to 0")
	}
	if n := in.MaxPayloadInMB; n != nil && *n < 0 {
		return constraint(*n, "maxPayloadInMB", "have value greater than or equal to 0")
	}
	if b := in.BatchStrategy; b != "" && !slices.Contains(b.Values(), b) {
		return enumConstraint(b, "batchStrategy", b.Values())
	}
	if err := checkTransformEnv(in.Environment); err != nil {
		return err
	}
	if c := in.ModelClientConfig; c != nil {
		if t := c.InvocationsTimeoutInSeconds; t != nil && (*t < 1 || *t > maxInvocationsTimeout) {
			return constraint(*t, "modelClientConfig.invocationsTimeoutInSeconds",
				fmt.Sprintf("have value between 1 and %d", maxInvocationsTimeout))
		}
		if r := c.InvocationsMaxRetries; r != nil && (*r < 0 || *r > maxInvocationsRetries) {
			return constraint(*r, "modelClientConfig.invocationsMaxRetries",
				fmt.Sprintf("have value between 0 and %d", maxInvocationsRetries))
		}
	}
	if d := in.DataProcessing; d != nil {
		if s := deref(d.InputFilter); len(s) > maxJSONPathLen {
			return constraint(s, "dataProcessing.inputFilter", fmt.Sprintf("have length less than or equal to %d", maxJSONPathLen))
		}
		if s := deref(d.OutputFilter); len(s) > maxJSONPathLen {
			return constraint(s, "dataProcessing.outputFilter", fmt.Sprintf("have length less than or equal to %d", maxJSONPathLen))
		}
		if s := d.JoinSource; s != "" && !slices.Contains(s.Values(), s) {
			return enumConstraint(s, "dataProcessing.joinSource", s.Values())
		}
	}
	if d := in.DataCaptureConfig; d != nil {
		if err := checkS3Uri(*d.DestinationS3Uri, "dataCaptureConfig.destinationS3Uri"); err != nil {
			return err
		}
	}
	if len(in.Tags) > maxTags {
		return constraint(fmt.Sprint(len(in.Tags)), "tags", fmt.Sprintf("have length less than or equal to %d", maxTags))
	}

	// What SageMaker checks beyond the service model.
	switch src.S3DataType {
	case types.S3DataTypeS3Prefix, types.S3DataTypeManifestFile:
	default:
		return validationError("S3DataType %s is not supported for batch transform. Use S3Prefix or ManifestFile.", src.S3DataType)
	}
	if n := *tr.InstanceCount; n > maxTransformInstances {
		return constraint(n, "transformResources.instanceCount", fmt.Sprintf("have value less than or equal to %d", maxTransformInstances))
	}
	payload := int32(defaultPayloadInMB)
	if in.MaxPayloadInMB != nil {
		payload = *in.MaxPayloadInMB
	}
	if payload > maxPayloadInMB {
		return constraint(payload, "maxPayloadInMB", fmt.Sprintf("have value less than or equal to %d", maxPayloadInMB))
	}
	if n := deref(in.MaxConcurrentTransforms); int64(n)*int64(payload) > maxPayloadInMB {
		return validationError("MaxConcurrentTransforms (%d) multiplied by MaxPayloadInMB (%d) must not exceed %d MB.", n, payload, maxPayloadInMB)
	}
	return nil
}

// checkTransformParams checks the fields the SDK requires.
func checkTransformParams(in *sagemaker.CreateTransformJobInput) error {
	p := newParams("CreateTransformJobInput")
	p.require(in.TransformJobName == nil, "TransformJobName")
	p.require(in.ModelName == nil, "ModelName")
	p.require(in.TransformInput == nil, "TransformInput")
	if ti := in.TransformInput; ti != nil {
		q := newParams("TransformInput")
		q.require(ti.DataSource == nil, "DataSource")
		if ds := ti.DataSource; ds != nil {
			r := newParams("TransformDataSource")
			r.require(ds.S3DataSource == nil, "S3DataSource")
			if s := ds.S3DataSource; s != nil {
				t := newParams("TransformS3DataSource")
				t.require(s.S3DataType == "", "S3DataType")
				t.require(s.S3Uri == nil, "S3Uri")
				r.nested("S3DataSource", t)
			}
			q.nested("DataSource", r)
		}
		p.nested("TransformInput", q)
	}
	p.require(in.TransformOutput == nil, "TransformOutput")
	if to := in.TransformOutput; to != nil {
		q := newParams("TransformOutput")
		q.require(to.S3OutputPath == nil, "S3OutputPath")
		p.nested("TransformOutput", q)
	}
	if d := in.DataCaptureConfig; d != nil {
		q := newParams("BatchDataCaptureConfig")
		q.require(d.DestinationS3Uri == nil, "DestinationS3Uri")
		p.nested("DataCaptureConfig", q)
	}
	p.require(in.TransformResources == nil, "TransformResources")
	if tr := in.TransformResources; tr != nil {
		q := newParams("TransformResources")
		q.require(tr.InstanceType == "", "InstanceType")
		q.require(tr.InstanceCount == nil, "InstanceCount")
		p.nested("TransformResources", q)
	}
	if in.Tags != nil {
		p.nested("Tags", checkTagParams(in.Tags))
	}
	return p.err()
}

func checkTransformEnv(env map[string]string) error {
	if len(env) > maxTransformEnv {
		return constraint(fmt.Sprint(len(env)), "environment", fmt.Sprintf("have length less than or equal to %d", maxTransformEnv))
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := env[k]
		switch {
		case len(k) > maxTransformEnvKeyLen:
			return constraint(k, "environment", fmt.Sprintf("have length less than or equal to %d", maxTransformEnvKeyLen))
		case !transformEnvKeyRE.MatchString(k):
			return constraint(k, "environment", "satisfy regular expression pattern: "+transformEnvKeyRegexp)
		case len(v) > maxTransformEnvValLen:
			return constraint(v, "environment", fmt.Sprintf("have length less than or equal to %d", maxTransformEnvValLen))
		}
	}
	return nil
}

// enumConstraint is the constraint error for a value outside an enum.
func enumConstraint[E ~string](v E, field string, values []E) error {
	return constraint(v, field, fmt.Sprintf("satisfy enum value set: %v", values))
}

// AddTransformJob registers a transform job as if it had been created
// before the test (by an earlier run), without counting a
// CreateTransformJob call or checking the input (its model need not
// exist). Its script is states, or if none are given the one
// ScriptTransform, TransformScriptFunc or the default script gives. Until
// its first describe it is in states[0]. OnTransformEnd is called for it
// too, when a describe first shows it ended. AddTransformJob panics if in
// has no name or the name is taken.
func (f *Fake) AddTransformJob(in *sagemaker.CreateTransformJobInput, states ...TransformState) {
	if in == nil || in.TransformJobName == nil {
		panic("sagemakertest: AddTransformJob: no TransformJobName")
	}
	script := normalizeTransformScript("AddTransformJob", states)
	f.lock()
	defer f.unlock()
	name := *in.TransformJobName
	if _, ok := f.transforms[name]; ok {
		panic(fmt.Sprintf("sagemakertest: AddTransformJob: transform job %s exists", name))
	}
	in = cloneTransformInput(in)
	if len(script) == 0 {
		script = f.transformScriptFor(in)
	}
	j := f.newTransformJob(in, script)
	j.cur = script[0]
}

// DescribeTransformJob shows the job's next scripted state. The describe
// that first shows the job Completed, Failed or Stopped calls
// OnTransformEnd before it returns. A missing job gives a
// ValidationException "Requested resource not found.".
func (f *Fake) DescribeTransformJob(ctx context.Context, in *sagemaker.DescribeTransformJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribeTransformJobOutput, error) {
	const op = OpDescribeTransformJob
	f.lock()
	if err := f.begin(ctx, op); err != nil {
		f.unlock()
		return nil, err
	}
	p := newParams("DescribeTransformJobInput")
	p.require(in == nil || in.TransformJobName == nil, "TransformJobName")
	if err := p.err(); err != nil {
		f.unlock()
		return nil, operationError(op, err)
	}
	j, ok := f.transforms[*in.TransformJobName]
	if !ok {
		f.unlock()
		return nil, operationError(op, transformNotFound())
	}
	f.stepTransform(j)
	out := j.describe()
	var hook func()
	if transformTerminal(j.cur.Status) && !j.ended {
		j.ended = true
		if fn := f.OnTransformEnd; fn != nil {
			done := make(chan struct{})
			j.hookDone = done
			in, status := cloneTransformInput(j.in), j.cur.Status
			hook = func() {
				defer close(done)
				fn(in, status)
			}
		}
	}
	wait := j.hookDone
	f.unlock()
	// The outputs exist before anyone sees the job ended: this describe
	// writes them, and the others wait for it.
	if hook != nil {
		hook()
	} else if wait != nil {
		<-wait
	}
	return out, nil
}

// StopTransformJob stops a running job: the next describe shows Stopping,
// the one after Stopped (and a stopped job stores no output). Stopping a
// job that is stopping already does nothing; stopping one that ended
// gives a ValidationException "The request was rejected because the
// transform job is in status Completed.", and a missing job a
// ValidationException "Requested resource not found." (SageMaker models
// ResourceNotFound for this operation but, as for training jobs, answers
// with a ValidationException).
func (f *Fake) StopTransformJob(ctx context.Context, in *sagemaker.StopTransformJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.StopTransformJobOutput, error) {
	const op = OpStopTransformJob
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	p := newParams("StopTransformJobInput")
	p.require(in == nil || in.TransformJobName == nil, "TransformJobName")
	if err := p.err(); err != nil {
		return nil, operationError(op, err)
	}
	j, ok := f.transforms[*in.TransformJobName]
	if !ok {
		return nil, operationError(op, transformNotFound())
	}
	if transformTerminal(j.cur.Status) {
		return nil, operationError(op, validationError(
			"The request was rejected because the transform job is in status %s.", j.cur.Status))
	}
	if j.cur.Status != types.TransformJobStatusStopping {
		j.stop()
	}
	f.stoppedTransforms = append(f.stoppedTransforms, j.name)
	return &sagemaker.StopTransformJobOutput{}, nil
}

// CreatedTransformJobs returns the names of the transform jobs created by
// successful CreateTransformJob calls, in order. Jobs added with
// AddTransformJob are not listed.
func (f *Fake) CreatedTransformJobs() []string {
	f.lock()
	defer f.unlock()
	return slices.Clone(f.createdTransforms)
}

// StoppedTransformJobs returns the names given to successful
// StopTransformJob calls, in order.
func (f *Fake) StoppedTransformJobs() []string {
	f.lock()
	defer f.unlock()
	return slices.Clone(f.stoppedTransforms)
}

// TransformInput returns a copy of the input the transform job was
// created (or added) with, or nil if there is no such job.
func (f *Fake) TransformInput(name string) *sagemaker.CreateTransformJobInput {
	f.lock()
	defer f.unlock()
	j, ok := f.transforms[name]
	if !ok {
		return nil
	}
	return cloneTransformInput(j.in)
}

// describe builds the job's DescribeTransformJob output. Nothing in it is
// shared with the fake.
func (j *transformJob) describe() *sagemaker.DescribeTransformJobOutput {
	in := cloneTransformInput(j.in)
	out := &sagemaker.DescribeTransformJobOutput{
		TransformJobName:        aws.String(j.name),
		TransformJobArn:         aws.String(j.arn),
		TransformJobStatus:      j.cur.Status,
		ModelName:               in.ModelName,
		CreationTime:            ptr(j.created),
		MaxConcurrentTransforms: in.MaxConcurrentTransforms,
		MaxPayloadInMB:          in.MaxPayloadInMB,
		BatchStrategy:           in.BatchStrategy,
		Environment:             in.Environment,
		ModelClientConfig:       in.ModelClientConfig,
		TransformInput:          in.TransformInput,
		TransformOutput:         in.TransformOutput,
		TransformResources:      in.TransformResources,
		DataProcessing:          in.DataProcessing,
		DataCaptureConfig:       in.DataCaptureConfig,
		ExperimentConfig:        in.ExperimentConfig,
	}
	if j.cur.Status == types.TransformJobStatusFailed {
		out.FailureReason = aws.String(j.cur.FailureReason)
	}
	if !j.start.IsZero() {
		out.TransformStartTime = ptr(j.start)
	}
	if !j.end.IsZero() {
		out.TransformEndTime = ptr(j.end)
	}
	return out
}

// cloneTransformInput copies in deeply enough that neither the caller nor
// the fake sees the other change maps, slices or the structures the fake
// echoes. Deeper values are shared and must not be changed.
func cloneTransformInput(in *sagemaker.CreateTransformJobInput) *sagemaker.CreateTransformJobInput {
	if in == nil {
		return nil
	}
	c := *in
	c.TransformJobName = clone(in.TransformJobName)
	c.ModelName = clone(in.ModelName)
	c.MaxConcurrentTransforms = clone(in.MaxConcurrentTransforms)
	c.MaxPayloadInMB = clone(in.MaxPayloadInMB)
	c.Environment = maps.Clone(in.Environment)
	c.Tags = slices.Clone(in.Tags)
	c.TransformInput = clone(in.TransformInput)
	if ti := c.TransformInput; ti != nil {
		ti.DataSource = clone(ti.DataSource)
		if ti.DataSource != nil {
			ti.DataSource.S3DataSource = clone(ti.DataSource.S3DataSource)
		}
	}
	c.TransformOutput = clone(in.TransformOutput)
	c.TransformResources = clone(in.TransformResources)
	c.DataProcessing = clone(in.DataProcessing)
	c.ModelClientConfig = clone(in.ModelClientConfig)
	c.DataCaptureConfig = clone(in.DataCaptureConfig)
	c.ExperimentConfig = clone(in.ExperimentConfig)
	return &c
}
