package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// A ModelSpec defines a SageMaker model: the image that serves it and the
// artifact it loads.
type ModelSpec struct {
	Name        string // "" = derived from the rest
	Image       string
	ArtifactURI string // s3://.../model.tar.gz
	RoleARN     string
	// VPC and network isolation carry over from the training job: a
	// transform job runs in the model's network settings.
	Subnets, SecurityGroups []string
	NetworkIsolation        bool
	Environment             map[string]string
	Tags                    map[string]string
}

// ModelFromTrainingJob reads the model a completed training job made.
func ModelFromTrainingJob(ctx context.Context, api API, job string) (ModelSpec, error) {
	d, err := api.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(job)})
	if err != nil {
		return ModelSpec{}, wrap("describe training job "+job, err)
	}
	if d.TrainingJobStatus != types.TrainingJobStatusCompleted || d.ModelArtifacts == nil {
		return ModelSpec{}, &SpecError{Field: "training job", Value: job, Reason: fmt.Sprintf("is %s, want a Completed job with a model artifact", d.TrainingJobStatus)}
	}
	m := ModelSpec{
		ArtifactURI:      aws.ToString(d.ModelArtifacts.S3ModelArtifacts),
		RoleARN:          aws.ToString(d.RoleArn),
		NetworkIsolation: aws.ToBool(d.EnableNetworkIsolation),
	}
	if d.AlgorithmSpecification != nil {
		m.Image = aws.ToString(d.AlgorithmSpecification.TrainingImage)
	}
	if d.VpcConfig != nil {
		m.Subnets, m.SecurityGroups = d.VpcConfig.Subnets, d.VpcConfig.SecurityGroupIds
	}
	return m, nil
}

func (m ModelSpec) request(name string) *sagemaker.CreateModelInput {
	in := &sagemaker.CreateModelInput{
		ModelName:        aws.String(name),
		ExecutionRoleArn: aws.String(m.RoleARN),
		PrimaryContainer: &types.ContainerDefinition{
			Image:        aws.String(m.Image),
			ModelDataUrl: aws.String(m.ArtifactURI),
			Environment:  m.Environment,
		},
		EnableNetworkIsolation: aws.Bool(m.NetworkIsolation),
	}
	if len(m.Subnets) > 0 {
		in.VpcConfig = &types.VpcConfig{Subnets: m.Subnets, SecurityGroupIds: m.SecurityGroups}
	}
	for _, k := range slices.Sorted(maps.Keys(m.Tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(m.Tags[k])})
	}
	return in
}

// EnsureModel creates the model unless it exists: a rerun finds the model
// its first run made (SageMaker says "Cannot create already existing
// model" for a duplicate, which is taken as found). A model of that name
// serving another artifact is an error. It returns the model's name.
func EnsureModel(ctx context.Context, api API, m ModelSpec) (string, bool, error) {
	if m.Image == "" || m.ArtifactURI == "" {
		return "", false, &SpecError{Field: "model", Reason: "needs an image and a model artifact"}
	}
	name := m.Name
	if name == "" {
		key := m.Image + "|" + m.ArtifactURI + "|" + m.RoleARN + "|" + strings.Join(m.Subnets, ",") + "|" + strings.Join(m.SecurityGroups, ",") + fmt.Sprint("|", m.NetworkIsolation, "|", m.Environment)
		name = JobName(MaxJobNameLen, key, "rl-model")
	}
	if !ValidName(name, MaxJobNameLen) {
		return "", false, &SpecError{Field: "model", Value: name, Reason: "want letters, digits and single hyphens, at most 63"}
	}
	check := func(d *sagemaker.DescribeModelOutput) error {
		if d.PrimaryContainer != nil && aws.ToString(d.PrimaryContainer.ModelDataUrl) != m.ArtifactURI {
			return &MismatchError{Job: name, What: "model artifact " + aws.ToString(d.PrimaryContainer.ModelDataUrl)}
		}
		return nil
	}
	d, err := api.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String(name)})
	if err == nil {
		return name, false, check(d)
	}
	if err = wrap("describe model "+name, err); !errors.Is(err, ErrNotFound) {
		return "", false, err
	}
	if _, err := api.CreateModel(ctx, m.request(name)); err != nil {
		if err = wrap("create model "+name, err); !errors.Is(err, ErrInUse) {
			return "", false, err
		}
		d, err := api.DescribeModel(ctx, &sagemaker.DescribeModelInput{ModelName: aws.String(name)})
		if err != nil {
			return "", false, wrap("describe model "+name, err)
		}
		return name, false, check(d)
	}
	return name, true, nil
}

// Input types of a transform job.
const (
	InputManifestFile = "ManifestFile"
	InputS3Prefix     = "S3Prefix"
)

// TransformSpec defines a Batch Transform job over a day's photos.
type TransformSpec struct {
	Model     string // the SageMaker model
	Input     string // the ManifestFile (or, with InputType S3Prefix, a prefix ending in "/")
	InputType string // InputManifestFile (default) or InputS3Prefix
	Output    string // S3 prefix of the <photo>.out objects
	Day       string // the day, part of the job's name

	InstanceType  string // default ml.m5.xlarge
	InstanceCount int    // default 1, at most 100
	// MaxPayloadMB bounds one photo (default 6, at most 100; the
	// built-in algorithm takes no chunked 0). MaxConcurrent is requests
	// per instance (0: SageMaker asks the container); with it,
	// MaxConcurrent × MaxPayloadMB must stay within 100.
	MaxPayloadMB  int
	MaxConcurrent int
	BatchStrategy string // SingleRecord or MultiRecord; "" = unset
	Accept        string // default application/jsonlines: {"prediction": [...]}
	OutputKMSKey  string
	VolumeKMSKey  string
	Environment   map[string]string // at most 16
	Tags          map[string]string
	// InvocationsTimeout (1 s–1 h) and InvocationsMaxRetries (0–3) tune
	// ModelClientConfig; zero values leave SageMaker's defaults (600 s, 3).
	InvocationsTimeout    time.Duration
	InvocationsMaxRetries *int
}

// Defaults of TransformSpec.
const (
	DefaultTransformInstance = "ml.m5.xlarge"
	DefaultMaxPayloadMB      = 6
	DefaultAccept            = "application/jsonlines"
)

func (s TransformSpec) withDefaults() TransformSpec {
	if s.InputType == "" {
		s.InputType = InputManifestFile
	}
	if s.InstanceType == "" {
		s.InstanceType = DefaultTransformInstance
	}
	if s.InstanceCount == 0 {
		s.InstanceCount = 1
	}
	if s.MaxPayloadMB == 0 {
		s.MaxPayloadMB = DefaultMaxPayloadMB
	}
	if s.Accept == "" {
		s.Accept = DefaultAccept
	}
	return s
}

// Validate checks the spec against Batch Transform's documented limits.
func (s TransformSpec) Validate() error {
	s = s.withDefaults()
	bad := func(field, value, reason string) error { return &SpecError{Field: field, Value: value, Reason: reason} }
	switch {
	case !ValidName(s.Model, MaxJobNameLen):
		return bad("model", s.Model, "want a model name")
	case s.InputType != InputManifestFile && s.InputType != InputS3Prefix:
		return bad("input-type", s.InputType, "want ManifestFile or S3Prefix")
	case !s3URIPattern.MatchString(s.Input) || len(s.Input) > 1024:
		return bad("input", s.Input, "want an s3:// URI")
	case s.InputType == InputS3Prefix && !strings.HasSuffix(s.Input, "/"):
		return bad("input", s.Input, "an S3Prefix input must end with \"/\": s3://b/in/day also matches s3://b/in/day-extra/")
	case !s3URIPattern.MatchString(s.Output) || len(s.Output) > 1024:
		return bad("output", s.Output, "want an s3:// URI")
	case s.InputType == InputS3Prefix && strings.HasPrefix(s.Output, s.Input):
		return bad("output", s.Output, "inside the input prefix: the outputs would be read back as inputs")
	case !slices.Contains(types.TransformInstanceType("").Values(), types.TransformInstanceType(s.InstanceType)):
		return bad("instance-type", s.InstanceType, "not a Batch Transform instance type (e.g. ml.m5.xlarge, ml.c5.xlarge, ml.p3.2xlarge)")
	case s.InstanceCount < 1 || s.InstanceCount > 100:
		return bad("instance-count", fmt.Sprint(s.InstanceCount), "want 1 to 100")
	case s.MaxPayloadMB < 1 || s.MaxPayloadMB > 100:
		return bad("max-payload-mb", fmt.Sprint(s.MaxPayloadMB), "want 1 to 100 (the built-in algorithm takes no chunked 0)")
	case s.MaxConcurrent < 0 || s.MaxConcurrent*s.MaxPayloadMB > 100:
		return bad("max-concurrent-transforms", fmt.Sprint(s.MaxConcurrent), fmt.Sprintf("want max-concurrent-transforms × max-payload-mb (%d) at most 100", s.MaxPayloadMB))
	case s.BatchStrategy != "" && s.BatchStrategy != "SingleRecord" && s.BatchStrategy != "MultiRecord":
		return bad("batch-strategy", s.BatchStrategy, "want SingleRecord or MultiRecord")
	case len(s.Environment) > 16:
		return bad("environment", fmt.Sprint(len(s.Environment)), "at most 16 variables")
	case s.InvocationsTimeout != 0 && (s.InvocationsTimeout < time.Second || s.InvocationsTimeout > time.Hour):
		return bad("invocations-timeout", s.InvocationsTimeout.String(), "want 1s to 1h")
	case s.InvocationsMaxRetries != nil && (*s.InvocationsMaxRetries < 0 || *s.InvocationsMaxRetries > 3):
		return bad("invocations-max-retries", fmt.Sprint(*s.InvocationsMaxRetries), "want 0 to 3")
	case s.Day != "" && !dayPattern.MatchString(s.Day):
		return bad("day", s.Day, "want YYYY-MM-DD")
	}
	for _, k := range []struct{ name, v string }{{"output-kms-key", s.OutputKMSKey}, {"volume-kms-key", s.VolumeKMSKey}} {
		if len(k.v) > 2048 || !kmsPattern.MatchString(k.v) {
			return bad(k.name, k.v, "want a KMS key id, key ARN, alias/name or alias ARN")
		}
	}
	return nil
}

// Request returns the CreateTransformJob request of job name.
func (s TransformSpec) Request(name string) *sagemaker.CreateTransformJobInput {
	s = s.withDefaults()
	in := &sagemaker.CreateTransformJobInput{
		TransformJobName: aws.String(name),
		ModelName:        aws.String(s.Model),
		TransformInput: &types.TransformInput{
			DataSource: &types.TransformDataSource{S3DataSource: &types.TransformS3DataSource{
				S3DataType: types.S3DataType(s.InputType),
				S3Uri:      aws.String(s.Input),
			}},
			ContentType:     aws.String("application/x-image"),
			SplitType:       types.SplitTypeNone,
			CompressionType: types.CompressionTypeNone,
		},
		TransformOutput: &types.TransformOutput{
			S3OutputPath: aws.String(s.Output),
			Accept:       aws.String(s.Accept),
			AssembleWith: types.AssemblyTypeNone,
		},
		TransformResources: &types.TransformResources{
			InstanceType:  types.TransformInstanceType(s.InstanceType),
			InstanceCount: aws.Int32(int32(s.InstanceCount)),
		},
		MaxPayloadInMB: aws.Int32(int32(s.MaxPayloadMB)),
		Environment:    s.Environment,
	}
	if s.MaxConcurrent > 0 {
		in.MaxConcurrentTransforms = aws.Int32(int32(s.MaxConcurrent))
	}
	if s.BatchStrategy != "" {
		in.BatchStrategy = types.BatchStrategy(s.BatchStrategy)
	}
	if s.OutputKMSKey != "" {
		in.TransformOutput.KmsKeyId = aws.String(s.OutputKMSKey)
	}
	if s.VolumeKMSKey != "" {
		in.TransformResources.VolumeKmsKeyId = aws.String(s.VolumeKMSKey)
	}
	if s.InvocationsTimeout != 0 || s.InvocationsMaxRetries != nil {
		in.ModelClientConfig = &types.ModelClientConfig{}
		if s.InvocationsTimeout != 0 {
			in.ModelClientConfig.InvocationsTimeoutInSeconds = aws.Int32(int32(s.InvocationsTimeout / time.Second))
		}
		if s.InvocationsMaxRetries != nil {
			in.ModelClientConfig.InvocationsMaxRetries = aws.Int32(int32(*s.InvocationsMaxRetries))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(s.Tags[k])})
	}
	return in
}

// TransformName is the job's name: derived from the model, the input and
// the day (and every other setting), so a rerun finds it.
func (s TransformSpec) TransformName() string {
	req := *s.Request("")
	req.TransformJobName = nil
	key := keyOf(struct {
		Request *sagemaker.CreateTransformJobInput
		Day     string
	}{&req, s.Day})
	return JobName(MaxJobNameLen-attemptRoom, key, "rl-tf", s.Day)
}

// A TransformRun is what became of a transform job.
type TransformRun struct {
	Job           string
	Attempt       int
	Status        string // Completed, Failed, Stopped, InProgress
	FailureReason string
	Output        string
	Start, End    time.Time // SageMaker's TransformStartTime and TransformEndTime
	Created       bool      // this run created the job (not attached or reused)
}

// A Transformer runs a Batch Transform job, attaching to it or reusing it
// when a rerun finds it, as Tuner does for training jobs.
type Transformer struct {
	API    API
	Logger *slog.Logger
	// MaxAttempts bounds the jobs of one spec: a rerun that finds the job
	// failed or stopped starts the next attempt; 0 means 3.
	MaxAttempts      int
	PollMin, PollMax time.Duration // 0: 30 s and 5 min
	LimitWait        time.Duration // 0: 1 min
	// KeepJobOnExit leaves the job running when ctx ends; by default it is
	// stopped (a transform has no maximum runtime of its own).
	KeepJobOnExit bool
	Clock         Clock
	OnEvent       func(Event)
}

// Run brings the transform job of spec to an end and reports it. A job
// that ends Failed is returned with a *JobError (it may still have written
// outputs for most photos); when ctx ends the job is stopped, unless
// KeepJobOnExit, and ctx's error returned.
func (t *Transformer) Run(ctx context.Context, spec TransformSpec) (*TransformRun, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	tu := (&Tuner{API: t.API, Logger: t.Logger, MaxAttempts: t.MaxAttempts, PollMin: t.PollMin, PollMax: t.PollMax,
		LimitWait: t.LimitWait, Clock: t.Clock, OnEvent: t.OnEvent}).defaults()
	base := spec.TransformName()
	for attempt := 1; attempt <= tu.MaxAttempts; attempt++ {
		name := AttemptName(base, attempt, MaxJobNameLen)
		d, err := describeTransform(ctx, &tu, name)
		created := false
		if errors.Is(err, ErrNotFound) {
			if err = createTransform(ctx, &tu, spec.Request(name)); errors.Is(err, ErrInUse) {
				d, err = describeTransform(ctx, &tu, name)
			} else if err == nil {
				created = true
				tu.OnEvent(Event{Job: name, Attempt: attempt, Status: "InProgress", Action: "created"})
			}
		}
		if err != nil {
			return nil, err
		}
		if d != nil {
			switch d.TransformJobStatus {
			case types.TransformJobStatusCompleted:
				tu.OnEvent(Event{Job: name, Attempt: attempt, Status: string(d.TransformJobStatus), Action: "reused"})
				return transformRun(d, attempt, false), nil
			case types.TransformJobStatusFailed, types.TransformJobStatusStopped:
				tu.OnEvent(Event{Job: name, Attempt: attempt, Status: string(d.TransformJobStatus), Action: "found ended earlier; next attempt"})
				if attempt == tu.MaxAttempts {
					r := transformRun(d, attempt, false)
					return r, &JobError{Job: name, Status: r.Status, Reason: r.FailureReason, Attempt: attempt}
				}
				continue
			}
			tu.OnEvent(Event{Job: name, Attempt: attempt, Status: string(d.TransformJobStatus), Action: "attached"})
		}
		d, err = waitTransform(ctx, &tu, name, attempt)
		if err != nil {
			if ctx.Err() != nil && !t.KeepJobOnExit {
				stopTransform(&tu, name)
			}
			run := &TransformRun{Job: name, Attempt: attempt, Status: "InProgress", Output: spec.Output, Created: created}
			if d != nil {
				run = transformRun(d, attempt, created)
			}
			return run, err
		}
		r := transformRun(d, attempt, created)
		if r.Status != string(types.TransformJobStatusCompleted) {
			return r, &JobError{Job: name, Status: r.Status, Reason: r.FailureReason, Attempt: attempt}
		}
		return r, nil
	}
	return nil, fmt.Errorf("transform job %s: no attempt left", base)
}

func transformRun(d *sagemaker.DescribeTransformJobOutput, attempt int, created bool) *TransformRun {
	r := &TransformRun{
		Job:           aws.ToString(d.TransformJobName),
		Attempt:       attempt,
		Status:        string(d.TransformJobStatus),
		FailureReason: aws.ToString(d.FailureReason), // moto says "" when there is none
		Start:         aws.ToTime(d.TransformStartTime),
		End:           aws.ToTime(d.TransformEndTime),
		Created:       created,
	}
	if d.TransformOutput != nil {
		r.Output = aws.ToString(d.TransformOutput.S3OutputPath)
	}
	return r
}

func describeTransform(ctx context.Context, t *Tuner, name string) (*sagemaker.DescribeTransformJobOutput, error) {
	wait := time.Second
	for try := 1; ; try++ {
		d, err := t.API.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String(name)})
		if err == nil {
			return d, nil
		}
		err = ended(ctx, wrap("describe transform job "+name, err))
		if !transient(err) || try == 8 || ctx.Err() != nil {
			return nil, err
		}
		if err := t.Clock.Sleep(ctx, jitter(wait)); err != nil {
			return nil, err
		}
		wait = min(2*wait, t.PollMax)
	}
}

func createTransform(ctx context.Context, t *Tuner, in *sagemaker.CreateTransformJobInput) error {
	name := aws.ToString(in.TransformJobName)
	wait := t.LimitWait
	for {
		_, err := t.API.CreateTransformJob(ctx, in)
		if err == nil {
			return nil
		}
		err = ended(ctx, wrap("create transform job "+name, err))
		if !errors.Is(err, ErrLimit) && !transient(err) {
			return err
		}
		t.Logger.Warn("cannot create the transform job yet; waiting", "job", name, "wait", wait, "err", err)
		t.OnEvent(Event{Job: name, Action: "waiting: " + err.Error()})
		if err := t.Clock.Sleep(ctx, jitter(wait)); err != nil {
			return err
		}
		wait = min(2*wait, t.PollMax)
	}
}

func waitTransform(ctx context.Context, t *Tuner, name string, attempt int) (*sagemaker.DescribeTransformJobOutput, error) {
	start := t.Clock.Now()
	interval := t.PollMin
	var last *sagemaker.DescribeTransformJobOutput
	for {
		d, err := describeTransform(ctx, t, name)
		if err != nil {
			return last, err
		}
		if last == nil || d.TransformJobStatus != last.TransformJobStatus {
			t.OnEvent(Event{Job: name, Attempt: attempt, Status: string(d.TransformJobStatus), Elapsed: t.Clock.Now().Sub(start)})
		}
		last = d
		switch d.TransformJobStatus {
		case types.TransformJobStatusCompleted, types.TransformJobStatusFailed, types.TransformJobStatusStopped:
			return d, nil
		}
		if err := t.Clock.Sleep(ctx, jitter(interval)); err != nil {
			return last, err
		}
		interval = min(2*interval, t.PollMax)
	}
}

func stopTransform(t *Tuner, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := t.API.StopTransformJob(ctx, &sagemaker.StopTransformJobInput{TransformJobName: aws.String(name)}); err != nil {
		t.Logger.Error("could not stop transform job", "job", name, "err", wrap("stop transform job "+name, err))
		return
	}
	t.Logger.Info("stopped transform job: a stopped transform keeps no output", "job", name)
	t.OnEvent(Event{Job: name, Status: "Stopping", Action: "stopped on exit"})
}
