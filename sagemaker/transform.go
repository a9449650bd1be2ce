package sagemaker

import (
	"context"
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
	if req.Environment == nil {
		// No environment is an empty one: the same name whether the
		// caller left the map nil or made it empty (as the command does).
		req.Environment = map[string]string{}
	}
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
// when a rerun finds it, as Tuner does for training jobs. The zero value
// of every field but API is usable; a negative number is an error.
type Transformer struct {
	API    API
	Logger *slog.Logger // nil: slog.Default()
	// MaxAttempts bounds the jobs of one spec: a rerun that finds the job
	// failed or stopped starts the next attempt (name-a2, ...); 0 means 3.
	// A job that fails or is stopped while the Transformer waits on it is
	// not tried again: it is a *JobError.
	MaxAttempts int
	// Poll says how often the job is looked at and how long account
	// quotas are waited out; the zero value is the defaults.
	Poll Polling
	// KeepJobOnExit leaves the job running when ctx ends; by default it is
	// stopped (a transform has no maximum runtime of its own).
	KeepJobOnExit bool
	// OnEvent is called on every change of the job's status; nil means
	// none.
	OnEvent func(Event)
}

// Run brings the transform job of spec to an end and reports it. A job
// that ends Failed or Stopped is returned with a *JobError (a failed one
// may still have written outputs for most photos; a stopped one keeps
// none); when ctx ends the job is stopped, unless KeepJobOnExit, and ctx's
// error returned with the run as last seen.
func (t *Transformer) Run(ctx context.Context, spec TransformSpec) (*TransformRun, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	switch {
	case t.API == nil:
		return nil, &SpecError{Field: "api", Reason: "no SageMaker API given"}
	case t.MaxAttempts < 0:
		return nil, &SpecError{Field: "max-attempts", Value: fmt.Sprint(t.MaxAttempts), Reason: "want at least 1 (0 means 3)"}
	}
	maxAttempts := t.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = 3
	}
	w, err := newWaiter(t.Poll, t.Logger, t.OnEvent)
	if err != nil {
		return nil, err
	}
	atts, err := runAttempts(ctx, w, transformOps(t.API, spec), spec.TransformName(), maxAttempts)
	w.stopLive(ctx, t.KeepJobOnExit, "transform job")
	if len(atts) == 0 {
		return nil, err
	}
	a := atts[len(atts)-1]
	if a.last == nil { // created, never seen
		return &TransformRun{Job: a.name, Attempt: a.n, Status: StatusInProgress, Output: spec.Output, Created: a.created}, err
	}
	return transformRun(a.last, a.n, a.created), err
}

// transformOps is the transform job of spec as the waiter sees it.
func transformOps(api API, spec TransformSpec) *jobOps[sagemaker.DescribeTransformJobOutput] {
	return &jobOps[sagemaker.DescribeTransformJobOutput]{
		noun:    "transform job",
		maxName: MaxJobNameLen,
		create: func(ctx context.Context, name string) error {
			_, err := api.CreateTransformJob(ctx, spec.Request(name))
			return err
		},
		describe: func(ctx context.Context, name string) (*sagemaker.DescribeTransformJobOutput, error) {
			return api.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String(name)})
		},
		stop: func(ctx context.Context, name string) error {
			_, err := api.StopTransformJob(ctx, &sagemaker.StopTransformJobInput{TransformJobName: aws.String(name)})
			return err
		},
		state: func(d *sagemaker.DescribeTransformJobOutput) jobState {
			return jobState{Status: string(d.TransformJobStatus), Reason: aws.ToString(d.FailureReason)}
		},
	}
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
