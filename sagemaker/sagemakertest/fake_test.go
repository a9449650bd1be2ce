package sagemakertest_test

import (
	"context"
	"errors"
	"fmt"
	"go/token"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

// ignoreUnexported skips the SDK types' unexported fields (and
// ResultMetadata's), which cmp cannot look into.
var ignoreUnexported = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	return ok && !token.IsExported(sf.Name())
}, cmp.Ignore())

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time for Fake.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newFake returns a Fake on a clock standing at t0.
func newFake(tb testing.TB) (*sagemakertest.Fake, *clock) {
	tb.Helper()
	c := &clock{t: t0}
	f := sagemakertest.New()
	f.Now = c.Now
	return f, c
}

func trainingInput(name string, hp map[string]string) *sagemaker.CreateTrainingJobInput {
	return &sagemaker.CreateTrainingJobInput{
		TrainingJobName: aws.String(name),
		RoleArn:         aws.String("arn:aws:iam::123456789012:role/sm"),
		HyperParameters: hp,
		AlgorithmSpecification: &types.AlgorithmSpecification{
			TrainingImage:     aws.String("811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"),
			TrainingInputMode: types.TrainingInputModeFile,
		},
		InputDataConfig: []types.Channel{{
			ChannelName: aws.String("train"),
			DataSource: &types.DataSource{S3DataSource: &types.S3DataSource{
				S3DataType: types.S3DataTypeS3Prefix,
				S3Uri:      aws.String("s3://b/train/"),
			}},
		}},
		OutputDataConfig: &types.OutputDataConfig{S3OutputPath: aws.String("s3://b/out/")},
		ResourceConfig: &types.ResourceConfig{
			InstanceType:   types.TrainingInstanceTypeMlP32xlarge,
			InstanceCount:  aws.Int32(1),
			VolumeSizeInGB: aws.Int32(50),
		},
		StoppingCondition: &types.StoppingCondition{MaxRuntimeInSeconds: aws.Int32(3600)},
	}
}

func create(tb testing.TB, f *sagemakertest.Fake, name string) {
	tb.Helper()
	if _, err := f.CreateTrainingJob(context.Background(), trainingInput(name, nil)); err != nil {
		tb.Fatalf("create %s: %v", name, err)
	}
}

func describe(tb testing.TB, f *sagemakertest.Fake, name string) *sagemaker.DescribeTrainingJobOutput {
	tb.Helper()
	out, err := f.DescribeTrainingJob(context.Background(), &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
	if err != nil {
		tb.Fatalf("describe %s: %v", name, err)
	}
	return out
}

func stop(f *sagemakertest.Fake, name string) error {
	_, err := f.StopTrainingJob(context.Background(), &sagemaker.StopTrainingJobInput{TrainingJobName: aws.String(name)})
	return err
}

// statuses describes the job n times and returns "Status/Secondary" each
// time.
func statuses(tb testing.TB, f *sagemakertest.Fake, name string, n int) []string {
	tb.Helper()
	var got []string
	for range n {
		out := describe(tb, f, name)
		got = append(got, string(out.TrainingJobStatus)+"/"+string(out.SecondaryStatus))
	}
	return got
}

var (
	inProgress = sagemakertest.State{Status: types.TrainingJobStatusInProgress}
	completed  = sagemakertest.State{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": 0.9}}
	failed     = sagemakertest.State{Status: types.TrainingJobStatusFailed, FailureReason: "ClientError: Data download failed"}
)

func TestScripts(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *sagemakertest.Fake)
		n     int
		want  []string
	}{{
		name: "default",
		n:    3,
		want: []string{"InProgress/Training", "Completed/Completed", "Completed/Completed"},
	}, {
		name: "script walks and the last state repeats",
		setup: func(f *sagemakertest.Fake) {
			f.Script("job",
				sagemakertest.State{Secondary: types.SecondaryStatusStarting},
				sagemakertest.State{Secondary: types.SecondaryStatusDownloading},
				inProgress, failed)
		},
		n:    6,
		want: []string{"InProgress/Starting", "InProgress/Downloading", "InProgress/Training", "Failed/Failed", "Failed/Failed", "Failed/Failed"},
	}, {
		name: "default script set",
		setup: func(f *sagemakertest.Fake) {
			f.DefaultScript(inProgress, inProgress, completed)
		},
		n:    4,
		want: []string{"InProgress/Training", "InProgress/Training", "Completed/Completed", "Completed/Completed"},
	}, {
		name: "default script restored",
		setup: func(f *sagemakertest.Fake) {
			f.DefaultScript(failed)
			f.DefaultScript()
		},
		n:    2,
		want: []string{"InProgress/Training", "Completed/Completed"},
	}, {
		name: "script func",
		setup: func(f *sagemakertest.Fake) {
			f.ScriptFunc(func(in *sagemaker.CreateTrainingJobInput) []sagemakertest.State {
				return []sagemakertest.State{{Status: types.TrainingJobStatusStopped, Secondary: types.SecondaryStatusMaxRuntimeExceeded}}
			})
		},
		n:    1,
		want: []string{"Stopped/MaxRuntimeExceeded"},
	}, {
		name: "empty script func result means default",
		setup: func(f *sagemakertest.Fake) {
			f.ScriptFunc(func(*sagemaker.CreateTrainingJobInput) []sagemakertest.State { return nil })
		},
		n:    2,
		want: []string{"InProgress/Training", "Completed/Completed"},
	}, {
		name: "named script beats script func",
		setup: func(f *sagemakertest.Fake) {
			f.ScriptFunc(func(*sagemaker.CreateTrainingJobInput) []sagemakertest.State {
				return []sagemakertest.State{failed}
			})
			f.Script("job", completed)
		},
		n:    1,
		want: []string{"Completed/Completed"},
	}, {
		name: "script forgotten",
		setup: func(f *sagemakertest.Fake) {
			f.Script("job", failed)
			f.Script("job")
		},
		n:    2,
		want: []string{"InProgress/Training", "Completed/Completed"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFake(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			create(t, f, "job")
			if diff := cmp.Diff(tt.want, statuses(t, f, "job", tt.n)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScriptOfExistingJob(t *testing.T) {
	f, _ := newFake(t)
	f.Script("job", inProgress)
	create(t, f, "job")
	statuses(t, f, "job", 2)
	f.Script("job", sagemakertest.State{Secondary: types.SecondaryStatusUploading}, completed)
	want := []string{"InProgress/Uploading", "Completed/Completed"}
	if diff := cmp.Diff(want, statuses(t, f, "job", 2)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestScriptPanicsAfterTerminal(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Script did not panic on a state after Completed")
		}
	}()
	sagemakertest.New().Script("job", completed, inProgress)
}

func TestScriptFuncSeesInput(t *testing.T) {
	f, _ := newFake(t)
	f.ScriptFunc(func(in *sagemaker.CreateTrainingJobInput) []sagemakertest.State {
		var layers float64
		fmt.Sscan(in.HyperParameters["num_layers"], &layers)
		in.HyperParameters["num_layers"] = "mutated" // must not reach the fake's copy
		return []sagemakertest.State{{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": layers / 200}}}
	})
	for _, layers := range []string{"18", "50", "152"} {
		name := "job-" + layers
		if _, err := f.CreateTrainingJob(context.Background(), trainingInput(name, map[string]string{"num_layers": layers})); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]float32{}
	for _, layers := range []string{"18", "50", "152"} {
		out := describe(t, f, "job-"+layers)
		if v := out.HyperParameters["num_layers"]; v != layers {
			t.Errorf("job-%s: num_layers = %q, want %q", layers, v, layers)
		}
		got[layers] = *out.FinalMetricDataList[0].Value
	}
	want := map[string]float32{"18": 0.09, "50": 0.25, "152": 0.76}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("accuracy by num_layers (-want +got):\n%s", diff)
	}
}

func TestDescribeOutput(t *testing.T) {
	f, clk := newFake(t)
	in := trainingInput("job", map[string]string{"num_layers": "50"})
	in.OutputDataConfig.S3OutputPath = aws.String("s3://b/out//") // trailing slashes are dropped
	in.EnableNetworkIsolation = aws.Bool(true)
	in.CheckpointConfig = &types.CheckpointConfig{S3Uri: aws.String("s3://b/ckpt/")}
	in.VpcConfig = &types.VpcConfig{SecurityGroupIds: []string{"sg-1"}, Subnets: []string{"subnet-1"}}
	f.Script("job",
		sagemakertest.State{Secondary: types.SecondaryStatusStarting},
		sagemakertest.State{Secondary: types.SecondaryStatusTraining},
		sagemakertest.State{
			Status:          types.TrainingJobStatusCompleted,
			Metrics:         map[string]float64{"validation:accuracy": 0.75, "train:accuracy": 0.5},
			TrainingSeconds: 600,
			BillableSeconds: 240,
		})
	if _, err := f.CreateTrainingJob(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	in.HyperParameters["num_layers"] = "changed after the call"
	t1, t2, t3 := t0.Add(time.Minute), t0.Add(2*time.Minute), t0.Add(12*time.Minute)
	for _, at := range []time.Time{t1, t2, t3} {
		clk.Set(at)
		describe(t, f, "job")
	}
	got := describe(t, f, "job") // repeats the last state: nothing changes

	want := &sagemaker.DescribeTrainingJobOutput{
		TrainingJobName:   aws.String("job"),
		TrainingJobArn:    aws.String("arn:aws:sagemaker:us-east-1:123456789012:training-job/job"),
		TrainingJobStatus: types.TrainingJobStatusCompleted,
		SecondaryStatus:   types.SecondaryStatusCompleted,
		SecondaryStatusTransitions: []types.SecondaryStatusTransition{
			{Status: types.SecondaryStatusStarting, StartTime: &t1, EndTime: &t2},
			{Status: types.SecondaryStatusTraining, StartTime: &t2, EndTime: &t3},
			{Status: types.SecondaryStatusCompleted, StartTime: &t3, EndTime: &t3},
		},
		CreationTime:      &t0,
		LastModifiedTime:  &t3,
		TrainingStartTime: &t2,
		TrainingEndTime:   &t3,
		ModelArtifacts:    &types.ModelArtifacts{S3ModelArtifacts: aws.String("s3://b/out/job/output/model.tar.gz")},
		FinalMetricDataList: []types.MetricData{
			{MetricName: aws.String("train:accuracy"), Value: aws.Float32(0.5), Timestamp: &t3},
			{MetricName: aws.String("validation:accuracy"), Value: aws.Float32(0.75), Timestamp: &t3},
		},
		TrainingTimeInSeconds:  aws.Int32(600),
		BillableTimeInSeconds:  aws.Int32(240),
		HyperParameters:        map[string]string{"num_layers": "50"},
		AlgorithmSpecification: in.AlgorithmSpecification,
		InputDataConfig:        in.InputDataConfig,
		OutputDataConfig:       in.OutputDataConfig,
		ResourceConfig:         in.ResourceConfig,
		StoppingCondition:      in.StoppingCondition,
		RoleArn:                in.RoleArn,
		VpcConfig:              in.VpcConfig,
		EnableNetworkIsolation: aws.Bool(true),
		CheckpointConfig:       in.CheckpointConfig,
	}
	if diff := cmp.Diff(want, got, ignoreUnexported); diff != "" {
		t.Errorf("DescribeTrainingJob (-want +got):\n%s", diff)
	}

	// The output is the caller's: changing it changes nothing in the fake.
	got.HyperParameters["num_layers"] = "x"
	got.SecondaryStatusTransitions[0].Status = "x"
	if again := describe(t, f, "job"); again.HyperParameters["num_layers"] != "50" || again.SecondaryStatusTransitions[0].Status != types.SecondaryStatusStarting {
		t.Errorf("changing an output changed the fake")
	}
	if got := f.CreateInput("job").HyperParameters["num_layers"]; got != "50" {
		t.Errorf("CreateInput num_layers = %q, want 50", got)
	}
}

func TestDescribeFailedOrRunning(t *testing.T) {
	tests := []struct {
		name   string
		script []sagemakertest.State
		n      int
		check  func(t *testing.T, out *sagemaker.DescribeTrainingJobOutput)
	}{{
		name:   "failed before training has no times",
		script: []sagemakertest.State{{Secondary: types.SecondaryStatusStarting}, failed},
		n:      2,
		check: func(t *testing.T, out *sagemaker.DescribeTrainingJobOutput) {
			if got, want := aws.ToString(out.FailureReason), failed.FailureReason; got != want {
				t.Errorf("FailureReason = %q, want %q", got, want)
			}
			if out.TrainingTimeInSeconds != nil || out.BillableTimeInSeconds != nil || out.TrainingStartTime != nil || out.TrainingEndTime != nil {
				t.Errorf("times = %v %v %v %v, want all nil", out.TrainingTimeInSeconds, out.BillableTimeInSeconds, out.TrainingStartTime, out.TrainingEndTime)
			}
			if out.FinalMetricDataList != nil {
				t.Errorf("FinalMetricDataList = %v, want none", out.FinalMetricDataList)
			}
		},
	}, {
		name:   "failed without a reason gets one",
		script: []sagemakertest.State{{Status: types.TrainingJobStatusFailed}},
		n:      1,
		check: func(t *testing.T, out *sagemaker.DescribeTrainingJobOutput) {
			if !strings.HasPrefix(aws.ToString(out.FailureReason), "AlgorithmError: ") {
				t.Errorf("FailureReason = %q, want an AlgorithmError", aws.ToString(out.FailureReason))
			}
		},
	}, {
		name:   "running has no failure reason or metrics",
		script: []sagemakertest.State{{Metrics: map[string]float64{"validation:accuracy": 0.1}, FailureReason: "not yet"}},
		n:      1,
		check: func(t *testing.T, out *sagemaker.DescribeTrainingJobOutput) {
			if out.FailureReason != nil || out.FinalMetricDataList != nil || out.TrainingEndTime != nil {
				t.Errorf("FailureReason %v, FinalMetricDataList %v, TrainingEndTime %v; want none", out.FailureReason, out.FinalMetricDataList, out.TrainingEndTime)
			}
			if out.TrainingStartTime == nil {
				t.Error("no TrainingStartTime while Training")
			}
		},
	}, {
		name:   "never described is InProgress/Starting",
		script: []sagemakertest.State{completed},
		n:      0,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFake(t)
			f.Script("job", tt.script...)
			create(t, f, "job")
			statuses(t, f, "job", tt.n)
			if tt.check != nil {
				out, err := f.DescribeTrainingJob(context.Background(), &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("job")})
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, out)
			}
		})
	}
}

// errorInfo is what code under test can learn from an error.
type errorInfo struct {
	Op        string // from *smithy.OperationError
	Code      string // smithy.APIError code
	Message   string
	Status    int  // HTTP status
	Retryable bool // by the SDK's default retryables
	Type      string
}

func inspect(err error) errorInfo {
	var info errorInfo
	if oe, ok := errors.AsType[*smithy.OperationError](err); ok {
		info.Op = oe.Operation()
	}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		info.Code, info.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	var he interface{ HTTPStatusCode() int }
	if errors.As(err, &he) {
		info.Status = he.HTTPStatusCode()
	}
	info.Retryable = retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
	switch {
	case errors.As(err, new(*types.ResourceInUse)):
		info.Type = "ResourceInUse"
	case errors.As(err, new(*types.ResourceNotFound)):
		info.Type = "ResourceNotFound"
	case errors.As(err, new(*types.ResourceLimitExceeded)):
		info.Type = "ResourceLimitExceeded"
	case errors.As(err, new(smithy.InvalidParamsError)):
		info.Type = "InvalidParams"
	case errors.As(err, new(*smithy.CanceledError)):
		info.Type = "Canceled"
	}
	return info
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(f *sagemakertest.Fake) error
		want errorInfo
	}{{
		name: "create under a used name",
		call: func(f *sagemakertest.Fake) error {
			create(t, f, "job")
			_, err := f.CreateTrainingJob(ctx, trainingInput("job", nil))
			return err
		},
		want: errorInfo{Op: "CreateTrainingJob", Code: "ResourceInUse", Status: 400, Type: "ResourceInUse",
			Message: "Training job names must be unique within an AWS account and region, and a training job with this name already exists (arn:aws:sagemaker:us-east-1:123456789012:training-job/job)"},
	}, {
		name: "describe a missing job",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("nope")})
			return err
		},
		want: errorInfo{Op: "DescribeTrainingJob", Code: "ValidationException", Message: "Requested resource not found.", Status: 400},
	}, {
		name: "stop a missing job",
		call: func(f *sagemakertest.Fake) error { return stop(f, "nope") },
		want: errorInfo{Op: "StopTrainingJob", Code: "ValidationException", Message: "Requested resource not found.", Status: 400},
	}, {
		name: "stop a completed job",
		call: func(f *sagemakertest.Fake) error {
			f.Script("job", completed)
			create(t, f, "job")
			describe(t, f, "job")
			return stop(f, "job")
		},
		want: errorInfo{Op: "StopTrainingJob", Code: "ValidationException", Status: 400,
			Message: "The request was rejected because the training job is in status Completed."},
	}, {
		name: "stop a failed job",
		call: func(f *sagemakertest.Fake) error {
			f.Script("job", failed)
			create(t, f, "job")
			describe(t, f, "job")
			return stop(f, "job")
		},
		want: errorInfo{Op: "StopTrainingJob", Code: "ValidationException", Status: 400,
			Message: "The request was rejected because the training job is in status Failed."},
	}, {
		name: "bad name",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.CreateTrainingJob(ctx, trainingInput("bad_name", nil))
			return err
		},
		want: errorInfo{Op: "CreateTrainingJob", Code: "ValidationException", Status: 400,
			Message: "1 validation error detected: Value 'bad_name' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"},
	}, {
		name: "long name",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.CreateTrainingJob(ctx, trainingInput(strings.Repeat("a", 64), nil))
			return err
		},
		want: errorInfo{Op: "CreateTrainingJob", Code: "ValidationException", Status: 400,
			Message: "1 validation error detected: Value '" + strings.Repeat("a", 64) + "' at 'trainingJobName' failed to satisfy constraint: Member must have length less than or equal to 63"},
	}, {
		name: "missing required fields",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.CreateTrainingJob(ctx, &sagemaker.CreateTrainingJobInput{TrainingJobName: aws.String("job")})
			return err
		},
		want: errorInfo{Op: "CreateTrainingJob", Type: "InvalidParams"},
	}, {
		name: "limit exceeded",
		call: func(f *sagemakertest.Fake) error {
			f.FailNext("CreateTrainingJob", sagemakertest.LimitExceeded())
			_, err := f.CreateTrainingJob(ctx, trainingInput("job", nil))
			return err
		},
		want: errorInfo{Op: "CreateTrainingJob", Code: "ResourceLimitExceeded", Status: 400, Type: "ResourceLimitExceeded",
			Message: "The account-level service limit 'ml.p3.2xlarge for training job usage' is 1 Instances, with current utilization of 1 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota."},
	}, {
		name: "throttled",
		call: func(f *sagemakertest.Fake) error {
			f.FailNext("DescribeTrainingJob", sagemakertest.Throttling())
			_, err := f.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("job")})
			return err
		},
		want: errorInfo{Op: "DescribeTrainingJob", Code: "ThrottlingException", Message: "Rate exceeded", Status: 400, Retryable: true},
	}, {
		name: "internal error",
		call: func(f *sagemakertest.Fake) error {
			f.FailNext("StopTrainingJob", sagemakertest.InternalError())
			return stop(f, "job")
		},
		want: errorInfo{Op: "StopTrainingJob", Code: "InternalFailure", Message: "An internal error occurred. Try again.", Status: 500, Retryable: true},
	}, {
		name: "canceled context",
		call: func(f *sagemakertest.Fake) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := f.CreateTrainingJob(ctx, trainingInput("job", nil))
			return err
		},
		want: errorInfo{Op: "CreateTrainingJob", Type: "Canceled"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFake(t)
			err := tt.call(f)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tt.want, inspect(err)); diff != "" {
				t.Errorf("error %v (-want +got):\n%s", err, diff)
			}
		})
	}
}

func TestCanceledIsContextError(t *testing.T) {
	f, _ := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("job")})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestErrorMessageLikeSDK(t *testing.T) {
	f, _ := newFake(t)
	_, err := f.DescribeTrainingJob(context.Background(), &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("nope")})
	const want = "operation error SageMaker: DescribeTrainingJob, https response error StatusCode: 400, RequestID: "
	if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), ", api error ValidationException: Requested resource not found.") {
		t.Errorf("err = %q, want it to read like the SDK's", err)
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name    string
		script  []sagemakertest.State
		before  int // describes before the stop
		stops   int
		want    []string
		billing *int32
	}{{
		name:   "running job",
		script: []sagemakertest.State{inProgress, inProgress, completed},
		before: 1,
		stops:  1,
		want:   []string{"Stopping/Stopping", "Stopped/Stopped", "Stopped/Stopped"},
	}, {
		name:   "before the first describe",
		script: []sagemakertest.State{completed},
		stops:  1,
		want:   []string{"Stopping/Stopping", "Stopped/Stopped"},
	}, {
		name:   "stopped twice",
		script: []sagemakertest.State{inProgress},
		before: 1,
		stops:  2,
		want:   []string{"Stopping/Stopping", "Stopped/Stopped"},
	}, {
		name:    "keeps the seconds run so far",
		script:  []sagemakertest.State{{TrainingSeconds: 100, BillableSeconds: 100}},
		before:  1,
		stops:   1,
		want:    []string{"Stopping/Stopping", "Stopped/Stopped"},
		billing: aws.Int32(100),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFake(t)
			f.Script("job", tt.script...)
			create(t, f, "job")
			statuses(t, f, "job", tt.before)
			for i := range tt.stops {
				if err := stop(f, "job"); err != nil {
					t.Fatalf("stop %d: %v", i+1, err)
				}
			}
			if diff := cmp.Diff(tt.want, statuses(t, f, "job", len(tt.want))); diff != "" {
				t.Errorf("statuses after stop (-want +got):\n%s", diff)
			}
			if got := describe(t, f, "job").BillableTimeInSeconds; !cmp.Equal(got, tt.billing) {
				t.Errorf("BillableTimeInSeconds = %v, want %v", aws.ToInt32(got), aws.ToInt32(tt.billing))
			}
			want := make([]string, tt.stops)
			for i := range want {
				want[i] = "job"
			}
			if diff := cmp.Diff(want, f.StoppedJobs()); diff != "" {
				t.Errorf("StoppedJobs (-want +got):\n%s", diff)
			}
			if err := stop(f, "job"); inspect(err).Message != "The request was rejected because the training job is in status Stopped." {
				t.Errorf("stop of a stopped job: %v", err)
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	f, _ := newFake(t)
	ctx := context.Background()
	sentinel := errors.New("connection reset")
	f.FailNext("CreateTrainingJob", sagemakertest.Throttling(), sentinel)
	var errs []error
	for range 3 {
		_, err := f.CreateTrainingJob(ctx, trainingInput("job", nil))
		errs = append(errs, err)
	}
	if got := inspect(errs[0]).Code; got != "ThrottlingException" {
		t.Errorf("call 1: code %q, want ThrottlingException (err %v)", got, errs[0])
	}
	if !errors.Is(errs[1], sentinel) || inspect(errs[1]).Op != "CreateTrainingJob" {
		t.Errorf("call 2: err %v, want the sentinel in an OperationError", errs[1])
	}
	if errs[2] != nil {
		t.Errorf("call 3: %v", errs[2])
	}
	if got, want := f.Calls("CreateTrainingJob"), 3; got != want {
		t.Errorf("Calls(CreateTrainingJob) = %d, want %d", got, want)
	}
	if diff := cmp.Diff([]string{"job"}, f.CreatedJobs()); diff != "" {
		t.Errorf("CreatedJobs (-want +got):\n%s", diff)
	}
	if got := f.Calls("DescribeTrainingJob"); got != 0 {
		t.Errorf("Calls(DescribeTrainingJob) = %d, want 0", got)
	}

	// Failures are per operation and come before anything else.
	f.FailNext("DescribeTrainingJob", sagemakertest.InternalError())
	if _, err := f.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("job")}); inspect(err).Status != http.StatusInternalServerError {
		t.Errorf("describe: %v, want a 500", err)
	}
	if got := statuses(t, f, "job", 1); got[0] != "InProgress/Training" {
		t.Errorf("a failed describe advanced the script: %v", got)
	}

	// A nil error lets its call through.
	f.FailNext("StopTrainingJob", nil, sagemakertest.InternalError())
	if err := stop(f, "job"); err != nil {
		t.Errorf("stop 1: %v, want it let through", err)
	}
	if err := stop(f, "job"); inspect(err).Code != "InternalFailure" {
		t.Errorf("stop 2: %v, want InternalFailure", err)
	}

	for _, fn := range []func(){
		func() { f.FailNext("CreateTrainingJobs", sentinel) },
		func() { f.Calls("Describe") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic on an unknown operation")
				}
			}()
			fn()
		}()
	}
}

func TestAddJob(t *testing.T) {
	f, _ := newFake(t)
	f.AddJob(trainingInput("done", map[string]string{"epochs": "3"}), completed)
	f.AddJob(trainingInput("running", nil), inProgress, inProgress, completed)
	f.AddJob(trainingInput("default", nil))

	if got := f.Calls("CreateTrainingJob"); got != 0 {
		t.Errorf("Calls(CreateTrainingJob) = %d, want 0", got)
	}
	if got := f.CreatedJobs(); len(got) != 0 {
		t.Errorf("CreatedJobs = %v, want none", got)
	}
	if got := f.MaxInProgress(); got != 0 {
		t.Errorf("MaxInProgress before any describe = %d, want 0", got)
	}
	// A completed job cannot be stopped even before it is described.
	if err := stop(f, "done"); inspect(err).Code != "ValidationException" {
		t.Errorf("stop done: %v, want ValidationException", err)
	}
	out := describe(t, f, "done")
	if out.TrainingJobStatus != types.TrainingJobStatusCompleted || out.HyperParameters["epochs"] != "3" {
		t.Errorf("done: %s %v", out.TrainingJobStatus, out.HyperParameters)
	}
	if _, err := f.CreateTrainingJob(context.Background(), trainingInput("done", nil)); inspect(err).Type != "ResourceInUse" {
		t.Errorf("create done again: %v, want ResourceInUse", err)
	}
	if diff := cmp.Diff([]string{"InProgress/Training", "InProgress/Training", "Completed/Completed"}, statuses(t, f, "running", 3)); diff != "" {
		t.Errorf("running (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"InProgress/Training", "Completed/Completed"}, statuses(t, f, "default", 2)); diff != "" {
		t.Errorf("default (-want +got):\n%s", diff)
	}
	if got, want := f.MaxInProgress(), 1; got != want {
		t.Errorf("MaxInProgress = %d, want %d", got, want)
	}

	defer func() {
		if recover() == nil {
			t.Error("AddJob of a used name did not panic")
		}
	}()
	f.AddJob(trainingInput("done", nil))
}

func TestMaxInProgress(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, f *sagemakertest.Fake)
		want int
	}{{
		name: "none",
		run:  func(*testing.T, *sagemakertest.Fake) {},
		want: 0,
	}, {
		name: "one after another",
		run: func(t *testing.T, f *sagemakertest.Fake) {
			for _, name := range []string{"a", "b", "c"} {
				create(t, f, name)
				statuses(t, f, name, 2)
			}
		},
		want: 1,
	}, {
		name: "all at once",
		run: func(t *testing.T, f *sagemakertest.Fake) {
			for _, name := range []string{"a", "b", "c"} {
				create(t, f, name)
			}
		},
		want: 3,
	}, {
		name: "two at a time",
		run: func(t *testing.T, f *sagemakertest.Fake) {
			create(t, f, "a")
			create(t, f, "b")
			statuses(t, f, "a", 2) // a ends
			create(t, f, "c")
			statuses(t, f, "b", 2)
			statuses(t, f, "c", 2)
			create(t, f, "d")
		},
		want: 2,
	}, {
		name: "a stopping job is still running",
		run: func(t *testing.T, f *sagemakertest.Fake) {
			create(t, f, "a")
			if err := stop(f, "a"); err != nil {
				t.Fatal(err)
			}
			statuses(t, f, "a", 1)
			create(t, f, "b")
		},
		want: 2,
	}, {
		name: "failed creates do not count",
		run: func(t *testing.T, f *sagemakertest.Fake) {
			f.FailNext("CreateTrainingJob", sagemakertest.LimitExceeded())
			f.CreateTrainingJob(context.Background(), trainingInput("a", nil))
			create(t, f, "b")
		},
		want: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFake(t)
			tt.run(t, f)
			if got := f.MaxInProgress(); got != tt.want {
				t.Errorf("MaxInProgress = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestConcurrent runs many goroutines creating and polling jobs, as the
// tuner does; run it with -race.
func TestConcurrent(t *testing.T) {
	f := sagemakertest.New()
	f.DefaultScript(inProgress, inProgress, completed)
	const n = 64
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("job-%d", i)
			if _, err := f.CreateTrainingJob(ctx, trainingInput(name, map[string]string{"i": fmt.Sprint(i)})); err != nil {
				errs <- err
				return
			}
			for {
				out, err := f.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
				if err != nil {
					errs <- err
					return
				}
				out.HyperParameters["i"] = "scribbled" // outputs are the caller's
				if out.TrainingJobStatus == types.TrainingJobStatusCompleted {
					break
				}
			}
			if i%2 == 0 {
				_, err := f.CreateTrainingJob(ctx, trainingInput(name, nil))
				if !errors.As(err, new(*types.ResourceInUse)) {
					errs <- fmt.Errorf("second create of %s: %v", name, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := len(f.CreatedJobs()); got != n {
		t.Errorf("%d jobs created, want %d", got, n)
	}
	if got, want := f.Calls("CreateTrainingJob"), n+n/2; got != want {
		t.Errorf("Calls(CreateTrainingJob) = %d, want %d", got, want)
	}
	if got, want := f.Calls("DescribeTrainingJob"), 3*n; got != want {
		t.Errorf("Calls(DescribeTrainingJob) = %d, want %d", got, want)
	}
	if got := f.MaxInProgress(); got < 1 || got > n {
		t.Errorf("MaxInProgress = %d, want 1..%d", got, n)
	}
	for i := range n {
		name := fmt.Sprintf("job-%d", i)
		if got := f.CreateInput(name).HyperParameters["i"]; got != fmt.Sprint(i) {
			t.Errorf("%s: hyperparameter i = %q", name, got)
		}
	}
}
