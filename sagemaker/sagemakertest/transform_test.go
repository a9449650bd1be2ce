package sagemakertest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

func transformInput(name, model string) *sagemaker.CreateTransformJobInput {
	return &sagemaker.CreateTransformJobInput{
		TransformJobName: aws.String(name),
		ModelName:        aws.String(model),
		TransformInput: &types.TransformInput{
			DataSource: &types.TransformDataSource{S3DataSource: &types.TransformS3DataSource{
				S3DataType: types.S3DataTypeS3Prefix,
				S3Uri:      aws.String("s3://b/images/2024-01-01/"),
			}},
			ContentType:     aws.String("application/x-image"),
			SplitType:       types.SplitTypeNone,
			CompressionType: types.CompressionTypeNone,
		},
		TransformOutput: &types.TransformOutput{
			S3OutputPath: aws.String("s3://b/predictions/2024-01-01/"),
			Accept:       aws.String("application/jsonlines"),
		},
		TransformResources: &types.TransformResources{
			InstanceType:  types.TransformInstanceTypeMlM5Large,
			InstanceCount: aws.Int32(1),
		},
		BatchStrategy:           types.BatchStrategySingleRecord,
		MaxConcurrentTransforms: aws.Int32(16),
		MaxPayloadInMB:          aws.Int32(6),
		Environment:             map[string]string{"K": "v"},
	}
}

// newTransformFake returns a Fake on a clock at t0 with the model "m".
func newTransformFake(tb testing.TB) (*sagemakertest.Fake, *clock) {
	tb.Helper()
	f, c := newFake(tb)
	f.AddModel(modelInput("m"))
	return f, c
}

func createTransform(tb testing.TB, f *sagemakertest.Fake, name string) {
	tb.Helper()
	if _, err := f.CreateTransformJob(context.Background(), transformInput(name, "m")); err != nil {
		tb.Fatalf("create transform %s: %v", name, err)
	}
}

func describeTransform(tb testing.TB, f *sagemakertest.Fake, name string) *sagemaker.DescribeTransformJobOutput {
	tb.Helper()
	out, err := f.DescribeTransformJob(context.Background(), &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String(name)})
	if err != nil {
		tb.Fatalf("describe transform %s: %v", name, err)
	}
	return out
}

func stopTransform(f *sagemakertest.Fake, name string) error {
	_, err := f.StopTransformJob(context.Background(), &sagemaker.StopTransformJobInput{TransformJobName: aws.String(name)})
	return err
}

// transformStatuses describes the job n times and returns its status each
// time.
func transformStatuses(tb testing.TB, f *sagemakertest.Fake, name string, n int) []string {
	tb.Helper()
	var got []string
	for range n {
		got = append(got, string(describeTransform(tb, f, name).TransformJobStatus))
	}
	return got
}

var (
	tInProgress = sagemakertest.TransformState{Status: types.TransformJobStatusInProgress}
	tCompleted  = sagemakertest.TransformState{Status: types.TransformJobStatusCompleted}
	tFailed     = sagemakertest.TransformState{Status: types.TransformJobStatusFailed, FailureReason: "ClientError: See job logs for more information"}
	tStopped    = sagemakertest.TransformState{Status: types.TransformJobStatusStopped}
)

func TestTransformScripts(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *sagemakertest.Fake)
		n     int
		want  []string
	}{{
		name: "default",
		n:    3,
		want: []string{"InProgress", "Completed", "Completed"},
	}, {
		name: "script walks and the last state repeats",
		setup: func(f *sagemakertest.Fake) {
			f.ScriptTransform("job", tInProgress, tInProgress, tFailed)
		},
		n:    5,
		want: []string{"InProgress", "InProgress", "Failed", "Failed", "Failed"},
	}, {
		name: "empty status is InProgress",
		setup: func(f *sagemakertest.Fake) {
			f.ScriptTransform("job", sagemakertest.TransformState{}, tCompleted)
		},
		n:    2,
		want: []string{"InProgress", "Completed"},
	}, {
		name: "default script set",
		setup: func(f *sagemakertest.Fake) {
			f.DefaultTransformScript(tInProgress, tInProgress, tInProgress, tCompleted)
		},
		n:    5,
		want: []string{"InProgress", "InProgress", "InProgress", "Completed", "Completed"},
	}, {
		name: "default script restored",
		setup: func(f *sagemakertest.Fake) {
			f.DefaultTransformScript(tFailed)
			f.DefaultTransformScript()
		},
		n:    2,
		want: []string{"InProgress", "Completed"},
	}, {
		name: "script func",
		setup: func(f *sagemakertest.Fake) {
			f.TransformScriptFunc(func(in *sagemaker.CreateTransformJobInput) []sagemakertest.TransformState {
				if *in.TransformResources.InstanceCount == 1 {
					return []sagemakertest.TransformState{tStopped}
				}
				return nil
			})
		},
		n:    1,
		want: []string{"Stopped"},
	}, {
		name: "empty script func result means default",
		setup: func(f *sagemakertest.Fake) {
			f.TransformScriptFunc(func(*sagemaker.CreateTransformJobInput) []sagemakertest.TransformState { return nil })
		},
		n:    2,
		want: []string{"InProgress", "Completed"},
	}, {
		name: "named script beats script func",
		setup: func(f *sagemakertest.Fake) {
			f.TransformScriptFunc(func(*sagemaker.CreateTransformJobInput) []sagemakertest.TransformState {
				return []sagemakertest.TransformState{tFailed}
			})
			f.ScriptTransform("job", tCompleted)
		},
		n:    1,
		want: []string{"Completed"},
	}, {
		name: "script forgotten",
		setup: func(f *sagemakertest.Fake) {
			f.ScriptTransform("job", tFailed)
			f.ScriptTransform("job")
		},
		n:    2,
		want: []string{"InProgress", "Completed"},
	}, {
		name: "training scripts do not apply",
		setup: func(f *sagemakertest.Fake) {
			f.Script("job", failed)
			f.DefaultScript(failed)
		},
		n:    2,
		want: []string{"InProgress", "Completed"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newTransformFake(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			createTransform(t, f, "job")
			if diff := cmp.Diff(tt.want, transformStatuses(t, f, "job", tt.n)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScriptOfExistingTransform(t *testing.T) {
	f, _ := newTransformFake(t)
	f.ScriptTransform("job", tInProgress, tInProgress, tCompleted)
	createTransform(t, f, "job")
	transformStatuses(t, f, "job", 1)
	f.ScriptTransform("job", tFailed)
	if diff := cmp.Diff([]string{"Failed", "Failed"}, transformStatuses(t, f, "job", 2)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestTransformScriptPanicsAfterTerminal(t *testing.T) {
	f, _ := newTransformFake(t)
	for name, fn := range map[string]func(){
		"ScriptTransform":        func() { f.ScriptTransform("job", tCompleted, tInProgress) },
		"DefaultTransformScript": func() { f.DefaultTransformScript(tStopped, tFailed) },
		"AddTransformJob":        func() { f.AddTransformJob(transformInput("job", "m"), tFailed, tCompleted) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic for a state after a terminal one", name)
				}
			}()
			fn()
		}()
	}
}

func TestTransformScriptFuncSeesCopy(t *testing.T) {
	f, _ := newTransformFake(t)
	f.TransformScriptFunc(func(in *sagemaker.CreateTransformJobInput) []sagemakertest.TransformState {
		in.Environment["K"] = "scribbled"
		in.TransformInput.DataSource.S3DataSource.S3Uri = aws.String("s3://elsewhere/")
		return nil
	})
	createTransform(t, f, "job")
	out := describeTransform(t, f, "job")
	if out.Environment["K"] != "v" || aws.ToString(out.TransformInput.DataSource.S3DataSource.S3Uri) != "s3://b/images/2024-01-01/" {
		t.Errorf("the script func changed the job: %v %v", out.Environment, aws.ToString(out.TransformInput.DataSource.S3DataSource.S3Uri))
	}
}

func TestDescribeTransformOutput(t *testing.T) {
	f, c := newTransformFake(t)
	f.ScriptTransform("job", tInProgress, tCompleted)
	in := transformInput("job", "m")
	in.ModelClientConfig = &types.ModelClientConfig{InvocationsTimeoutInSeconds: aws.Int32(600), InvocationsMaxRetries: aws.Int32(1)}
	in.DataProcessing = &types.DataProcessing{JoinSource: types.JoinSourceNone}
	out, err := f.CreateTransformJob(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:sagemaker:us-east-1:123456789012:transform-job/job"
	if got := aws.ToString(out.TransformJobArn); got != arn {
		t.Errorf("TransformJobArn = %q, want %q", got, arn)
	}
	in.Environment["K"] = "changed by caller"
	in.TransformOutput.S3OutputPath = aws.String("s3://elsewhere/")

	want := &sagemaker.DescribeTransformJobOutput{
		TransformJobName:        aws.String("job"),
		TransformJobArn:         aws.String(arn),
		TransformJobStatus:      types.TransformJobStatusInProgress,
		ModelName:               aws.String("m"),
		CreationTime:            aws.Time(t0),
		TransformStartTime:      aws.Time(t0.Add(time.Minute)),
		MaxConcurrentTransforms: aws.Int32(16),
		MaxPayloadInMB:          aws.Int32(6),
		BatchStrategy:           types.BatchStrategySingleRecord,
		Environment:             map[string]string{"K": "v"},
		ModelClientConfig:       &types.ModelClientConfig{InvocationsTimeoutInSeconds: aws.Int32(600), InvocationsMaxRetries: aws.Int32(1)},
		DataProcessing:          &types.DataProcessing{JoinSource: types.JoinSourceNone},
		TransformInput:          transformInput("job", "m").TransformInput,
		TransformOutput:         transformInput("job", "m").TransformOutput,
		TransformResources:      transformInput("job", "m").TransformResources,
	}
	c.Set(t0.Add(time.Minute))
	got := describeTransform(t, f, "job")
	if diff := cmp.Diff(want, got, ignoreUnexported); diff != "" {
		t.Errorf("InProgress (-want +got):\n%s", diff)
	}
	if got.FailureReason != nil {
		t.Errorf("FailureReason = %q while InProgress; SageMaker omits it", *got.FailureReason)
	}
	got.Environment["K"] = "scribbled" // outputs are the caller's
	got.TransformInput.DataSource.S3DataSource.S3Uri = aws.String("s3://scribbled/")

	c.Set(t0.Add(10 * time.Minute))
	want.TransformJobStatus = types.TransformJobStatusCompleted
	want.TransformEndTime = aws.Time(t0.Add(10 * time.Minute))
	if diff := cmp.Diff(want, describeTransform(t, f, "job"), ignoreUnexported); diff != "" {
		t.Errorf("Completed (-want +got):\n%s", diff)
	}
	c.Set(t0.Add(time.Hour)) // the times do not move once the job ended
	if diff := cmp.Diff(want, describeTransform(t, f, "job"), ignoreUnexported); diff != "" {
		t.Errorf("Completed later (-want +got):\n%s", diff)
	}

	if ti := f.TransformInput("job"); ti.Environment["K"] != "v" || aws.ToString(ti.TransformOutput.S3OutputPath) != "s3://b/predictions/2024-01-01/" {
		t.Errorf("TransformInput = %v %v", ti.Environment, aws.ToString(ti.TransformOutput.S3OutputPath))
	}
	if f.TransformInput("nope") != nil {
		t.Error("TransformInput of a missing job is not nil")
	}
	if diff := cmp.Diff([]string{"job"}, f.CreatedTransformJobs()); diff != "" {
		t.Errorf("CreatedTransformJobs (-want +got):\n%s", diff)
	}
}

func TestDescribeFailedTransform(t *testing.T) {
	tests := []struct {
		name      string
		script    []sagemakertest.TransformState
		reason    string
		wantStart bool
	}{{
		name:      "failed while running",
		script:    []sagemakertest.TransformState{tInProgress, tFailed},
		reason:    "ClientError: See job logs for more information",
		wantStart: true,
	}, {
		name:   "failed at once, default reason",
		script: []sagemakertest.TransformState{{Status: types.TransformJobStatusFailed}},
		reason: "AlgorithmError: scripted failure (sagemakertest)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newTransformFake(t)
			f.ScriptTransform("job", tt.script...)
			createTransform(t, f, "job")
			var out *sagemaker.DescribeTransformJobOutput
			for range tt.script {
				c.Set(c.Now().Add(time.Minute))
				out = describeTransform(t, f, "job")
			}
			if out.TransformJobStatus != types.TransformJobStatusFailed || aws.ToString(out.FailureReason) != tt.reason {
				t.Errorf("status %s, reason %q; want Failed, %q", out.TransformJobStatus, aws.ToString(out.FailureReason), tt.reason)
			}
			if got := out.TransformStartTime != nil; got != tt.wantStart {
				t.Errorf("TransformStartTime = %v, want it set: %t", out.TransformStartTime, tt.wantStart)
			}
			if !cmp.Equal(out.TransformEndTime, aws.Time(c.Now())) {
				t.Errorf("TransformEndTime = %v, want %v", out.TransformEndTime, c.Now())
			}
		})
	}
}

func TestTransformValidation(t *testing.T) {
	ctx := context.Background()
	validation := func(msg string) errorInfo {
		return errorInfo{Op: "CreateTransformJob", Code: "ValidationException", Status: 400, Message: msg}
	}
	constraint := func(value, field, rule string) errorInfo {
		return validation("1 validation error detected: Value '" + value + "' at '" + field + "' failed to satisfy constraint: Member must " + rule)
	}
	invalidParams := errorInfo{Op: "CreateTransformJob", Type: "InvalidParams"}
	env := func(n int) map[string]string {
		m := make(map[string]string)
		for i := range n {
			m[fmt.Sprintf("K%d", i)] = "v"
		}
		return m
	}
	tests := []struct {
		name   string
		change func(in *sagemaker.CreateTransformJobInput)
		want   errorInfo // zero: accepted
	}{
		{"valid", func(*sagemaker.CreateTransformJobInput) {}, errorInfo{}},
		{"manifest input", func(in *sagemaker.CreateTransformJobInput) {
			in.TransformInput.DataSource.S3DataSource.S3DataType = types.S3DataTypeManifestFile
		}, errorInfo{}},
		{"100 instances", func(in *sagemaker.CreateTransformJobInput) { in.TransformResources.InstanceCount = aws.Int32(100) }, errorInfo{}},
		{"16 environment entries", func(in *sagemaker.CreateTransformJobInput) { in.Environment = env(16) }, errorInfo{}},
		{"100 MB payload alone", func(in *sagemaker.CreateTransformJobInput) {
			in.MaxPayloadInMB, in.MaxConcurrentTransforms = aws.Int32(100), nil
		}, errorInfo{}},
		{"concurrency times payload at 100", func(in *sagemaker.CreateTransformJobInput) {
			in.MaxPayloadInMB, in.MaxConcurrentTransforms = aws.Int32(10), aws.Int32(10)
		}, errorInfo{}},
		{"optional fields unset", func(in *sagemaker.CreateTransformJobInput) {
			in.MaxPayloadInMB, in.MaxConcurrentTransforms, in.BatchStrategy, in.Environment = nil, nil, "", nil
			in.TransformInput.SplitType, in.TransformInput.CompressionType, in.TransformInput.ContentType = "", "", nil
		}, errorInfo{}},

		{"no name", func(in *sagemaker.CreateTransformJobInput) { in.TransformJobName = nil }, invalidParams},
		{"no model name", func(in *sagemaker.CreateTransformJobInput) { in.ModelName = nil }, invalidParams},
		{"no input", func(in *sagemaker.CreateTransformJobInput) { in.TransformInput = nil }, invalidParams},
		{"no S3 data type", func(in *sagemaker.CreateTransformJobInput) { in.TransformInput.DataSource.S3DataSource.S3DataType = "" }, invalidParams},
		{"no S3 URI", func(in *sagemaker.CreateTransformJobInput) { in.TransformInput.DataSource.S3DataSource.S3Uri = nil }, invalidParams},
		{"no output path", func(in *sagemaker.CreateTransformJobInput) { in.TransformOutput.S3OutputPath = nil }, invalidParams},
		{"no resources", func(in *sagemaker.CreateTransformJobInput) { in.TransformResources = nil }, invalidParams},
		{"no instance count", func(in *sagemaker.CreateTransformJobInput) { in.TransformResources.InstanceCount = nil }, invalidParams},
		{"no instance type", func(in *sagemaker.CreateTransformJobInput) { in.TransformResources.InstanceType = "" }, invalidParams},

		{"bad name", func(in *sagemaker.CreateTransformJobInput) { in.TransformJobName = aws.String("ric_tf") },
			constraint("ric_tf", "transformJobName", "satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")},
		{"long name", func(in *sagemaker.CreateTransformJobInput) { in.TransformJobName = aws.String(strings.Repeat("t", 64)) },
			constraint(strings.Repeat("t", 64), "transformJobName", "have length less than or equal to 63")},
		{"bad model name", func(in *sagemaker.CreateTransformJobInput) { in.ModelName = aws.String("m.1") },
			constraint("m.1", "modelName", `satisfy regular expression pattern: ^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?`)},
		{"augmented manifest", func(in *sagemaker.CreateTransformJobInput) {
			in.TransformInput.DataSource.S3DataSource.S3DataType = types.S3DataTypeAugmentedManifestFile
		}, validation("S3DataType AugmentedManifestFile is not supported for batch transform. Use S3Prefix or ManifestFile.")},
		{"unknown S3 data type", func(in *sagemaker.CreateTransformJobInput) {
			in.TransformInput.DataSource.S3DataSource.S3DataType = "Prefix"
		},
			constraint("Prefix", "transformInput.dataSource.s3DataSource.s3DataType", "satisfy enum value set: [ManifestFile S3Prefix AugmentedManifestFile Converse]")},
		{"bad input URI", func(in *sagemaker.CreateTransformJobInput) {
			in.TransformInput.DataSource.S3DataSource.S3Uri = aws.String("b/images/")
		}, constraint("b/images/", "transformInput.dataSource.s3DataSource.s3Uri", "satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)")},
		{"bad output path", func(in *sagemaker.CreateTransformJobInput) { in.TransformOutput.S3OutputPath = aws.String("s3:/b") },
			constraint("s3:/b", "transformOutput.s3OutputPath", "satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)")},
		{"unknown split type", func(in *sagemaker.CreateTransformJobInput) { in.TransformInput.SplitType = "Lines" },
			constraint("Lines", "transformInput.splitType", "satisfy enum value set: [None Line RecordIO TFRecord]")},
		{"unknown instance type", func(in *sagemaker.CreateTransformJobInput) { in.TransformResources.InstanceType = "ml.t3.micro" }, errorInfo{
			Op: "CreateTransformJob", Code: "ValidationException", Status: 400, Message: "(checked by prefix)"}},
		{"no instances", func(in *sagemaker.CreateTransformJobInput) { in.TransformResources.InstanceCount = aws.Int32(0) },
			constraint("0", "transformResources.instanceCount", "have value greater than or equal to 1")},
		{"101 instances", func(in *sagemaker.CreateTransformJobInput) { in.TransformResources.InstanceCount = aws.Int32(101) },
			constraint("101", "transformResources.instanceCount", "have value less than or equal to 100")},
		{"payload over 100 MB", func(in *sagemaker.CreateTransformJobInput) {
			in.MaxPayloadInMB, in.MaxConcurrentTransforms = aws.Int32(500), nil
		}, constraint("500", "maxPayloadInMB", "have value less than or equal to 100")},
		{"negative payload", func(in *sagemaker.CreateTransformJobInput) { in.MaxPayloadInMB = aws.Int32(-1) },
			constraint("-1", "maxPayloadInMB", "have value greater than or equal to 0")},
		{"concurrency times payload over 100", func(in *sagemaker.CreateTransformJobInput) {
			in.MaxPayloadInMB, in.MaxConcurrentTransforms = aws.Int32(6), aws.Int32(17)
		}, validation("MaxConcurrentTransforms (17) multiplied by MaxPayloadInMB (6) must not exceed 100 MB.")},
		{"concurrency times default payload over 100", func(in *sagemaker.CreateTransformJobInput) {
			in.MaxPayloadInMB, in.MaxConcurrentTransforms = nil, aws.Int32(20)
		}, validation("MaxConcurrentTransforms (20) multiplied by MaxPayloadInMB (6) must not exceed 100 MB.")},
		{"17 environment entries", func(in *sagemaker.CreateTransformJobInput) { in.Environment = env(17) },
			constraint("17", "environment", "have length less than or equal to 16")},
		{"bad environment key", func(in *sagemaker.CreateTransformJobInput) { in.Environment = map[string]string{"A-B": "v"} },
			constraint("A-B", "environment", "satisfy regular expression pattern: ^[a-zA-Z_][a-zA-Z0-9_]{0,1023}")},
		{"unknown batch strategy", func(in *sagemaker.CreateTransformJobInput) { in.BatchStrategy = "Single" },
			constraint("Single", "batchStrategy", "satisfy enum value set: [MultiRecord SingleRecord]")},
		{"invocation timeout too long", func(in *sagemaker.CreateTransformJobInput) {
			in.ModelClientConfig = &types.ModelClientConfig{InvocationsTimeoutInSeconds: aws.Int32(3601)}
		}, constraint("3601", "modelClientConfig.invocationsTimeoutInSeconds", "have value between 1 and 3600")},
		{"too many retries", func(in *sagemaker.CreateTransformJobInput) {
			in.ModelClientConfig = &types.ModelClientConfig{InvocationsMaxRetries: aws.Int32(4)}
		}, constraint("4", "modelClientConfig.invocationsMaxRetries", "have value between 0 and 3")},
		{"missing model", func(in *sagemaker.CreateTransformJobInput) { in.ModelName = aws.String("no-such-model") },
			validation(`Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/no-such-model".`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newTransformFake(t)
			in := transformInput("job", "m")
			tt.change(in)
			_, err := f.CreateTransformJob(ctx, in)
			got := inspect(err)
			if tt.want.Message == "(checked by prefix)" {
				if !strings.HasPrefix(got.Message, "1 validation error detected: Value 'ml.t3.micro' at 'transformResources.instanceType' failed to satisfy constraint: Member must satisfy enum value set: [") {
					t.Errorf("error %v, want an enum constraint", err)
				}
				got.Message = tt.want.Message
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("error %v (-want +got):\n%s", err, diff)
			}
			if created := len(f.CreatedTransformJobs()) == 1; created != (err == nil) {
				t.Errorf("CreatedTransformJobs = %v after err %v", f.CreatedTransformJobs(), err)
			}
		})
	}
}

func TestTransformErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func(f *sagemakertest.Fake) error
		want errorInfo
	}{{
		name: "create under a used name",
		call: func(f *sagemakertest.Fake) error {
			createTransform(t, f, "job")
			_, err := f.CreateTransformJob(ctx, transformInput("job", "m"))
			return err
		},
		want: errorInfo{Op: "CreateTransformJob", Code: "ResourceInUse", Status: 400, Type: "ResourceInUse",
			Message: "Job name must be unique within an AWS account and region, and a job with this name already exists (arn:aws:sagemaker:us-east-1:123456789012:transform-job/job)"},
	}, {
		name: "training job names are another namespace",
		call: func(f *sagemakertest.Fake) error {
			create(t, f, "job")
			createTransform(t, f, "job")
			_, err := f.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String("other")})
			return err
		},
		want: errorInfo{Op: "DescribeTransformJob", Code: "ValidationException", Message: "Requested resource not found.", Status: 400},
	}, {
		name: "describe a missing job",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String("nope")})
			return err
		},
		want: errorInfo{Op: "DescribeTransformJob", Code: "ValidationException", Message: "Requested resource not found.", Status: 400},
	}, {
		name: "describe without a name",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.DescribeTransformJob(ctx, nil)
			return err
		},
		want: errorInfo{Op: "DescribeTransformJob", Type: "InvalidParams"},
	}, {
		name: "stop a missing job",
		call: func(f *sagemakertest.Fake) error { return stopTransform(f, "nope") },
		want: errorInfo{Op: "StopTransformJob", Code: "ValidationException", Message: "Requested resource not found.", Status: 400},
	}, {
		name: "stop without a name",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.StopTransformJob(ctx, &sagemaker.StopTransformJobInput{})
			return err
		},
		want: errorInfo{Op: "StopTransformJob", Type: "InvalidParams"},
	}, {
		name: "stop a completed job",
		call: func(f *sagemakertest.Fake) error {
			f.ScriptTransform("job", tCompleted)
			createTransform(t, f, "job")
			describeTransform(t, f, "job")
			return stopTransform(f, "job")
		},
		want: errorInfo{Op: "StopTransformJob", Code: "ValidationException", Status: 400,
			Message: "The request was rejected because the transform job is in status Completed."},
	}, {
		name: "stop a failed job",
		call: func(f *sagemakertest.Fake) error {
			f.ScriptTransform("job", tFailed)
			createTransform(t, f, "job")
			describeTransform(t, f, "job")
			return stopTransform(f, "job")
		},
		want: errorInfo{Op: "StopTransformJob", Code: "ValidationException", Status: 400,
			Message: "The request was rejected because the transform job is in status Failed."},
	}, {
		name: "limit exceeded",
		call: func(f *sagemakertest.Fake) error {
			f.FailNext(sagemakertest.OpCreateTransformJob, sagemakertest.LimitExceeded())
			_, err := f.CreateTransformJob(ctx, transformInput("job", "m"))
			return err
		},
		want: errorInfo{Op: "CreateTransformJob", Code: "ResourceLimitExceeded", Status: 400, Type: "ResourceLimitExceeded",
			Message: "The account-level service limit 'ml.p3.2xlarge for training job usage' is 1 Instances, with current utilization of 1 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not available, contact AWS support to request an increase for this quota."},
	}, {
		name: "throttled describe",
		call: func(f *sagemakertest.Fake) error {
			f.FailNext(sagemakertest.OpDescribeTransformJob, sagemakertest.Throttling())
			_, err := f.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String("job")})
			return err
		},
		want: errorInfo{Op: "DescribeTransformJob", Code: "ThrottlingException", Message: "Rate exceeded", Status: 400, Retryable: true},
	}, {
		name: "internal error on stop",
		call: func(f *sagemakertest.Fake) error {
			f.FailNext(sagemakertest.OpStopTransformJob, sagemakertest.InternalError())
			return stopTransform(f, "job")
		},
		want: errorInfo{Op: "StopTransformJob", Code: "InternalFailure", Message: "An internal error occurred. Try again.", Status: 500, Retryable: true},
	}, {
		name: "canceled context",
		call: func(f *sagemakertest.Fake) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := f.CreateTransformJob(ctx, transformInput("job", "m"))
			return err
		},
		want: errorInfo{Op: "CreateTransformJob", Type: "Canceled"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newTransformFake(t)
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

func TestStopTransform(t *testing.T) {
	tests := []struct {
		name   string
		script []sagemakertest.TransformState
		before int // describes before the stop
		stops  int
		want   []string
	}{{
		name:   "running job",
		script: []sagemakertest.TransformState{tInProgress, tInProgress, tCompleted},
		before: 1,
		stops:  1,
		want:   []string{"Stopping", "Stopped", "Stopped"},
	}, {
		name:   "before the first describe",
		script: []sagemakertest.TransformState{tCompleted},
		stops:  1,
		want:   []string{"Stopping", "Stopped"},
	}, {
		name:   "stopped twice",
		script: []sagemakertest.TransformState{tInProgress},
		before: 1,
		stops:  2,
		want:   []string{"Stopping", "Stopped"},
	}, {
		name:   "stopped again while stopping",
		script: []sagemakertest.TransformState{tInProgress},
		before: 1,
		stops:  1,
		want:   []string{"Stopping", "Stopped"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newTransformFake(t)
			f.ScriptTransform("job", tt.script...)
			createTransform(t, f, "job")
			transformStatuses(t, f, "job", tt.before)
			for i := range tt.stops {
				if err := stopTransform(f, "job"); err != nil {
					t.Fatalf("stop %d: %v", i+1, err)
				}
			}
			got := transformStatuses(t, f, "job", 1)
			if tt.name == "stopped again while stopping" {
				if err := stopTransform(f, "job"); err != nil {
					t.Fatalf("stop while stopping: %v", err)
				}
				tt.stops++
			}
			got = append(got, transformStatuses(t, f, "job", len(tt.want)-1)...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses after stop (-want +got):\n%s", diff)
			}
			want := slices.Repeat([]string{"job"}, tt.stops)
			if diff := cmp.Diff(want, f.StoppedTransformJobs()); diff != "" {
				t.Errorf("StoppedTransformJobs (-want +got):\n%s", diff)
			}
			if err := stopTransform(f, "job"); inspect(err).Message != "The request was rejected because the transform job is in status Stopped." {
				t.Errorf("stop of a stopped job: %v", err)
			}
			if out := describeTransform(t, f, "job"); out.FailureReason != nil || out.TransformEndTime == nil {
				t.Errorf("stopped job: FailureReason %v, TransformEndTime %v", out.FailureReason, out.TransformEndTime)
			}
			if got := f.StoppedJobs(); len(got) != 0 {
				t.Errorf("StoppedJobs (training) = %v", got)
			}
		})
	}
}

// outputs is a stand-in for S3 that an OnTransformEnd hook writes
// transform outputs into, as Batch Transform would.
type outputs struct {
	dir   string
	mu    sync.Mutex
	calls map[string][]types.TransformJobStatus // by job
}

// inputs are the images under every test job's input prefix.
var inputs = []string{"a.jpg", "b.jpg", "c.jpg", "d.jpg"}

// hook writes <dir>/<job>/<input>.out for every input of a Completed job,
// for the first half of a Failed job's, and for none of a Stopped job's.
// It calls the fake, which it may: it runs with the fake unlocked.
func (o *outputs) hook(f *sagemakertest.Fake) func(*sagemaker.CreateTransformJobInput, types.TransformJobStatus) {
	return func(in *sagemaker.CreateTransformJobInput, status types.TransformJobStatus) {
		name := aws.ToString(in.TransformJobName)
		if f.TransformInput(name) == nil || f.Calls(sagemakertest.OpDescribeTransformJob) == 0 {
			panic("the hook cannot see its job")
		}
		o.mu.Lock()
		o.calls[name] = append(o.calls[name], status)
		o.mu.Unlock()
		var done []string
		switch status {
		case types.TransformJobStatusCompleted:
			done = inputs
		case types.TransformJobStatusFailed:
			done = inputs[:len(inputs)/2]
		}
		dir := filepath.Join(o.dir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		for _, key := range done {
			if err := os.WriteFile(filepath.Join(dir, key+".out"), []byte(`{"prediction":[0.1,0.9]}`), 0o644); err != nil {
				panic(err)
			}
		}
	}
}

// listOutputs lists the job's outputs, as code under test would list
// S3OutputPath.
func (o *outputs) list(t *testing.T, name string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(o.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range ents {
		keys = append(keys, e.Name())
	}
	return keys
}

func TestOnTransformEnd(t *testing.T) {
	f, _ := newTransformFake(t)
	o := &outputs{dir: t.TempDir(), calls: make(map[string][]types.TransformJobStatus)}
	f.OnTransformEnd = o.hook(f)
	f.ScriptTransform("ok", tInProgress, tInProgress, tCompleted)
	f.ScriptTransform("bad", tInProgress, tFailed)
	f.ScriptTransform("stopped", tInProgress, tInProgress, tCompleted)
	f.ScriptTransform("running", tInProgress)
	for _, name := range []string{"ok", "bad", "stopped", "running"} {
		createTransform(t, f, name)
	}
	f.AddTransformJob(transformInput("old", "m"), tCompleted)

	wantOut := map[string][]string{
		"ok":      {"a.jpg.out", "b.jpg.out", "c.jpg.out", "d.jpg.out"},
		"bad":     {"a.jpg.out", "b.jpg.out"},
		"stopped": nil,
		"running": nil,
		"old":     {"a.jpg.out", "b.jpg.out", "c.jpg.out", "d.jpg.out"},
	}
	for _, name := range []string{"ok", "bad", "stopped", "running", "old"} {
		for i := range 5 {
			if name == "stopped" && i == 1 {
				if err := stopTransform(f, name); err != nil {
					t.Fatal(err)
				}
			}
			out := describeTransform(t, f, name)
			// The outputs are there once a describe shows the job ended.
			if transformEnded(out.TransformJobStatus) {
				if diff := cmp.Diff(wantOut[name], o.list(t, name)); diff != "" {
					t.Errorf("%s %s, describe %d: outputs (-want +got):\n%s", name, out.TransformJobStatus, i+1, diff)
				}
			} else if got := o.list(t, name); got != nil {
				t.Errorf("%s %s: outputs %v before the job ended", name, out.TransformJobStatus, got)
			}
		}
	}
	want := map[string][]types.TransformJobStatus{
		"ok":      {types.TransformJobStatusCompleted},
		"bad":     {types.TransformJobStatusFailed},
		"stopped": {types.TransformJobStatusStopped},
		"old":     {types.TransformJobStatusCompleted},
	}
	if diff := cmp.Diff(want, o.calls); diff != "" {
		t.Errorf("OnTransformEnd calls (-want +got):\n%s", diff)
	}
}

func transformEnded(s types.TransformJobStatus) bool {
	return s == types.TransformJobStatusCompleted || s == types.TransformJobStatusFailed || s == types.TransformJobStatusStopped
}

// TestOnTransformEndBeforeOthersSeeEnd checks that no describe shows a job
// ended before its outputs are written: a describe of the job made while
// the hook runs waits for it, while other jobs and calls go on.
func TestOnTransformEndBeforeOthersSeeEnd(t *testing.T) {
	f, _ := newTransformFake(t)
	f.ScriptTransform("job", tCompleted)
	f.ScriptTransform("other", tInProgress)
	createTransform(t, f, "job")
	createTransform(t, f, "other")
	started, release := make(chan struct{}), make(chan struct{})
	var written sync.WaitGroup // stands for the outputs
	written.Add(1)
	f.OnTransformEnd = func(*sagemaker.CreateTransformJobInput, types.TransformJobStatus) {
		close(started)
		<-release
		written.Done()
	}
	first := make(chan types.TransformJobStatus)
	go func() { first <- describeTransform(t, f, "job").TransformJobStatus }()
	<-started

	second := make(chan types.TransformJobStatus)
	go func() { second <- describeTransform(t, f, "job").TransformJobStatus }()
	// Meanwhile the fake is not locked.
	describeTransform(t, f, "other")
	createTransform(t, f, "third")
	select {
	case s := <-second:
		t.Fatalf("a describe returned %s while the hook ran", s)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	for _, c := range []chan types.TransformJobStatus{first, second} {
		if s := <-c; s != types.TransformJobStatusCompleted {
			t.Errorf("status %s, want Completed", s)
		}
	}
	written.Wait()
}

func TestTransformFailNext(t *testing.T) {
	f, _ := newTransformFake(t)
	ctx := context.Background()
	sentinel := errors.New("connection reset")
	f.FailNext(sagemakertest.OpCreateModel, sentinel)
	if _, err := f.CreateModel(ctx, modelInput("m2")); !errors.Is(err, sentinel) || inspect(err).Op != "CreateModel" {
		t.Errorf("create model: %v, want the sentinel in an OperationError", err)
	}
	f.FailNext(sagemakertest.OpDescribeModel, sagemakertest.Throttling())
	if _, err := describeModel(f, "m"); inspect(err).Code != "ThrottlingException" {
		t.Errorf("describe model: %v", err)
	}

	f.FailNext(sagemakertest.OpCreateTransformJob, sagemakertest.Throttling(), nil, sagemakertest.InternalError())
	var errs []error
	for i := range 3 {
		_, err := f.CreateTransformJob(ctx, transformInput(fmt.Sprintf("job-%d", i), "m"))
		errs = append(errs, err)
	}
	if inspect(errs[0]).Code != "ThrottlingException" || errs[1] != nil || inspect(errs[2]).Code != "InternalFailure" {
		t.Errorf("creates: %v", errs)
	}
	if diff := cmp.Diff([]string{"job-1"}, f.CreatedTransformJobs()); diff != "" {
		t.Errorf("CreatedTransformJobs (-want +got):\n%s", diff)
	}

	// A failed describe does not advance the script.
	f.FailNext(sagemakertest.OpDescribeTransformJob, sagemakertest.InternalError())
	if _, err := f.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String("job-1")}); inspect(err).Status != 500 {
		t.Errorf("describe: %v, want a 500", err)
	}
	if got := transformStatuses(t, f, "job-1", 1); got[0] != "InProgress" {
		t.Errorf("a failed describe advanced the script: %v", got)
	}
	// A failed stop does not stop.
	f.FailNext(sagemakertest.OpStopTransformJob, sagemakertest.Throttling())
	if err := stopTransform(f, "job-1"); inspect(err).Code != "ThrottlingException" {
		t.Errorf("stop: %v", err)
	}
	if got := transformStatuses(t, f, "job-1", 1); got[0] != "Completed" {
		t.Errorf("after a failed stop: %v, want Completed", got)
	}
	if len(f.StoppedTransformJobs()) != 0 {
		t.Errorf("StoppedTransformJobs = %v", f.StoppedTransformJobs())
	}

	for op, want := range map[string]int{
		sagemakertest.OpCreateModel:          1,
		sagemakertest.OpDescribeModel:        1,
		sagemakertest.OpCreateTransformJob:   3,
		sagemakertest.OpDescribeTransformJob: 3,
		sagemakertest.OpStopTransformJob:     1,
		sagemakertest.OpDescribeTrainingJob:  0,
	} {
		if got := f.Calls(op); got != want {
			t.Errorf("Calls(%s) = %d, want %d", op, got, want)
		}
	}
}

func TestAddTransformJob(t *testing.T) {
	f, _ := newFake(t) // no model: added jobs need none
	f.AddTransformJob(transformInput("done", "gone"), tCompleted)
	f.AddTransformJob(transformInput("running", "gone"), tInProgress, tInProgress, tFailed)
	f.DefaultTransformScript(tInProgress, tStopped)
	f.AddTransformJob(transformInput("default", "gone"))

	if got := f.Calls(sagemakertest.OpCreateTransformJob); got != 0 {
		t.Errorf("Calls(CreateTransformJob) = %d, want 0", got)
	}
	if got := f.CreatedTransformJobs(); len(got) != 0 {
		t.Errorf("CreatedTransformJobs = %v, want none", got)
	}
	// A completed job cannot be stopped even before it is described.
	if err := stopTransform(f, "done"); inspect(err).Code != "ValidationException" {
		t.Errorf("stop done: %v, want ValidationException", err)
	}
	if out := describeTransform(t, f, "done"); out.TransformJobStatus != types.TransformJobStatusCompleted || aws.ToString(out.ModelName) != "gone" {
		t.Errorf("done: %s %s", out.TransformJobStatus, aws.ToString(out.ModelName))
	}
	f.AddModel(modelInput("gone"))
	if _, err := f.CreateTransformJob(context.Background(), transformInput("done", "gone")); inspect(err).Type != "ResourceInUse" {
		t.Errorf("create done again: %v, want ResourceInUse", err)
	}
	if diff := cmp.Diff([]string{"InProgress", "InProgress", "Failed"}, transformStatuses(t, f, "running", 3)); diff != "" {
		t.Errorf("running (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"InProgress", "Stopped"}, transformStatuses(t, f, "default", 2)); diff != "" {
		t.Errorf("default (-want +got):\n%s", diff)
	}
	for _, in := range []*sagemaker.CreateTransformJobInput{nil, {}, transformInput("done", "m")} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddTransformJob(%v) did not panic", in)
				}
			}()
			f.AddTransformJob(in)
		}()
	}
}

// TestConcurrentTransforms runs many goroutines that create a shared
// model, create, poll and sometimes stop transform jobs, with a hook that
// calls the fake; run it with -race.
func TestConcurrentTransforms(t *testing.T) {
	f := sagemakertest.New()
	f.DefaultTransformScript(tInProgress, tInProgress, tCompleted)
	f.TransformScriptFunc(func(in *sagemaker.CreateTransformJobInput) []sagemakertest.TransformState {
		if in.Environment["I"] == "3" {
			return []sagemakertest.TransformState{tInProgress, tFailed}
		}
		return nil
	})
	var mu sync.Mutex
	ends := make(map[string][]types.TransformJobStatus)
	f.OnTransformEnd = func(in *sagemaker.CreateTransformJobInput, status types.TransformJobStatus) {
		name := aws.ToString(in.TransformJobName)
		_ = f.TransformInput(name)
		mu.Lock()
		defer mu.Unlock()
		ends[name] = append(ends[name], status)
	}
	const n = 64
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			if _, err := f.CreateModel(ctx, modelInput("m")); err != nil && inspect(err).Code != "ValidationException" {
				errs <- fmt.Errorf("create model: %v", err)
			}
			name := fmt.Sprintf("job-%d", i)
			in := transformInput(name, "m")
			in.Environment = map[string]string{"I": fmt.Sprint(i % 4)}
			for {
				_, err := f.CreateTransformJob(ctx, in)
				if err == nil {
					break
				}
				// The model may not exist yet: another goroutine makes it.
				if !strings.HasPrefix(inspect(err).Message, "Could not find model") {
					errs <- err
					return
				}
			}
			for k := 0; ; k++ {
				if i%4 == 1 && k == 1 {
					if err := stopTransform(f, name); err != nil {
						errs <- fmt.Errorf("stop %s: %v", name, err)
					}
				}
				out, err := f.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String(name)})
				if err != nil {
					errs <- err
					return
				}
				out.Environment["I"] = "scribbled" // outputs are the caller's
				if transformEnded(out.TransformJobStatus) {
					break
				}
			}
			// Polling on after the end, from two goroutines at once.
			var inner sync.WaitGroup
			for range 2 {
				inner.Go(func() {
					if _, err := f.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String(name)}); err != nil {
						errs <- err
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if diff := cmp.Diff([]string{"m"}, f.Models()); diff != "" {
		t.Errorf("Models (-want +got):\n%s", diff)
	}
	if got := len(f.CreatedTransformJobs()); got != n {
		t.Errorf("%d transform jobs created, want %d", got, n)
	}
	if got := len(f.StoppedTransformJobs()); got != n/4 {
		t.Errorf("%d transform jobs stopped, want %d", got, n/4)
	}
	for i := range n {
		name := fmt.Sprintf("job-%d", i)
		want := []types.TransformJobStatus{map[int]types.TransformJobStatus{
			0: types.TransformJobStatusCompleted,
			1: types.TransformJobStatusStopped,
			2: types.TransformJobStatusCompleted,
			3: types.TransformJobStatusFailed,
		}[i%4]}
		if diff := cmp.Diff(want, ends[name]); diff != "" {
			t.Errorf("%s: OnTransformEnd calls (-want +got):\n%s", name, diff)
		}
		if got := f.TransformInput(name).Environment["I"]; got != fmt.Sprint(i%4) {
			t.Errorf("%s: environment I = %q", name, got)
		}
	}
}
