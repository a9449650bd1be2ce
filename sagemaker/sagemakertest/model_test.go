package sagemakertest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

const icImage = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"

func modelInput(name string) *sagemaker.CreateModelInput {
	return &sagemaker.CreateModelInput{
		ModelName:        aws.String(name),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/sm"),
		PrimaryContainer: &types.ContainerDefinition{
			Image:        aws.String(icImage),
			ModelDataUrl: aws.String("s3://b/out/ric-tr-1/output/model.tar.gz"),
			Environment:  map[string]string{"A": "1"},
		},
	}
}

func createModel(tb testing.TB, f *sagemakertest.Fake, name string) {
	tb.Helper()
	if _, err := f.CreateModel(context.Background(), modelInput(name)); err != nil {
		tb.Fatalf("create model %s: %v", name, err)
	}
}

func describeModel(f *sagemakertest.Fake, name string) (*sagemaker.DescribeModelOutput, error) {
	return f.DescribeModel(context.Background(), &sagemaker.DescribeModelInput{ModelName: aws.String(name)})
}

func TestModel(t *testing.T) {
	f, c := newFake(t)
	ctx := context.Background()
	in := modelInput("ric-model-1")
	in.EnableNetworkIsolation = aws.Bool(true)
	in.VpcConfig = &types.VpcConfig{SecurityGroupIds: []string{"sg-1"}, Subnets: []string{"subnet-1"}}
	out, err := f.CreateModel(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:sagemaker:us-east-1:123456789012:model/ric-model-1"
	if got := aws.ToString(out.ModelArn); got != arn {
		t.Errorf("ModelArn = %q, want %q", got, arn)
	}
	in.PrimaryContainer.Environment["A"] = "changed by caller" // the fake keeps its copy
	*in.ModelName = "renamed"

	c.Set(t0.Add(time.Hour))
	got, err := describeModel(f, "ric-model-1")
	if err != nil {
		t.Fatal(err)
	}
	want := &sagemaker.DescribeModelOutput{
		ModelName:        aws.String("ric-model-1"),
		ModelArn:         aws.String(arn),
		CreationTime:     aws.Time(t0),
		ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/sm"),
		PrimaryContainer: &types.ContainerDefinition{
			Image:        aws.String(icImage),
			ModelDataUrl: aws.String("s3://b/out/ric-tr-1/output/model.tar.gz"),
			Environment:  map[string]string{"A": "1"},
		},
		VpcConfig:              &types.VpcConfig{SecurityGroupIds: []string{"sg-1"}, Subnets: []string{"subnet-1"}},
		EnableNetworkIsolation: aws.Bool(true),
	}
	if diff := cmp.Diff(want, got, ignoreUnexported); diff != "" {
		t.Errorf("DescribeModel (-want +got):\n%s", diff)
	}
	got.PrimaryContainer.Environment["A"] = "scribbled" // outputs are the caller's
	got.VpcConfig.Subnets[0] = "scribbled"
	if again, _ := describeModel(f, "ric-model-1"); again.PrimaryContainer.Environment["A"] != "1" || again.VpcConfig.Subnets[0] != "subnet-1" {
		t.Errorf("a changed output reached the fake: %v %v", again.PrimaryContainer.Environment, again.VpcConfig.Subnets)
	}

	// Network isolation defaults to false, as SageMaker reports it.
	createModel(t, f, "ric-model-2")
	if got, _ := describeModel(f, "ric-model-2"); !cmp.Equal(got.EnableNetworkIsolation, aws.Bool(false)) {
		t.Errorf("EnableNetworkIsolation = %v, want false", got.EnableNetworkIsolation)
	}

	if diff := cmp.Diff([]string{"ric-model-1", "ric-model-2"}, f.Models()); diff != "" {
		t.Errorf("Models (-want +got):\n%s", diff)
	}
	ci := f.CreateModelInput("ric-model-1")
	if aws.ToString(ci.ModelName) != "ric-model-1" || ci.PrimaryContainer.Environment["A"] != "1" {
		t.Errorf("CreateModelInput = %+v", ci)
	}
	ci.PrimaryContainer.Environment["A"] = "scribbled"
	if f.CreateModelInput("ric-model-1").PrimaryContainer.Environment["A"] != "1" {
		t.Error("CreateModelInput shares the fake's input")
	}
	if f.CreateModelInput("nope") != nil {
		t.Error("CreateModelInput of a missing model is not nil")
	}
	if got := f.Calls(sagemakertest.OpCreateModel); got != 2 {
		t.Errorf("Calls(CreateModel) = %d, want 2", got)
	}
	if got := f.Calls(sagemakertest.OpDescribeModel); got != 3 {
		t.Errorf("Calls(DescribeModel) = %d, want 3", got)
	}
}

// TestDuplicateModel checks the error real SageMaker gives for a model
// created twice: a ValidationException, which code must recognise by its
// message, not a ResourceInUse.
func TestDuplicateModel(t *testing.T) {
	f, _ := newFake(t)
	createModel(t, f, "ric-model")
	_, err := f.CreateModel(context.Background(), modelInput("ric-model"))
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want a smithy.APIError", err)
	}
	const msg = `Cannot create already existing model "arn:aws:sagemaker:us-east-1:123456789012:model/ric-model".`
	if ae.ErrorCode() != "ValidationException" || ae.ErrorMessage() != msg {
		t.Errorf("code %q, message %q; want ValidationException, %q", ae.ErrorCode(), ae.ErrorMessage(), msg)
	}
	if errors.As(err, new(*types.ResourceInUse)) {
		t.Error("a duplicate model is a ResourceInUse; SageMaker says ValidationException")
	}
	if !strings.HasSuffix(err.Error(), "api error ValidationException: "+msg) {
		t.Errorf("err = %q, want it to read like the SDK's", err)
	}
	if diff := cmp.Diff([]string{"ric-model"}, f.Models()); diff != "" {
		t.Errorf("Models (-want +got):\n%s", diff)
	}
}

func TestModelErrors(t *testing.T) {
	ctx := context.Background()
	with := func(change func(in *sagemaker.CreateModelInput)) func(f *sagemakertest.Fake) error {
		return func(f *sagemakertest.Fake) error {
			in := modelInput("ric-model")
			change(in)
			_, err := f.CreateModel(ctx, in)
			return err
		}
	}
	validation := func(msg string) errorInfo {
		return errorInfo{Op: "CreateModel", Code: "ValidationException", Status: 400, Message: msg}
	}
	tests := []struct {
		name string
		call func(f *sagemakertest.Fake) error
		want errorInfo
	}{{
		name: "describe a missing model",
		call: func(f *sagemakertest.Fake) error {
			_, err := describeModel(f, "nope")
			return err
		},
		want: errorInfo{Op: "DescribeModel", Code: "ValidationException", Status: 400,
			Message: `Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/nope".`},
	}, {
		name: "describe without a name",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.DescribeModel(ctx, &sagemaker.DescribeModelInput{})
			return err
		},
		want: errorInfo{Op: "DescribeModel", Type: "InvalidParams"},
	}, {
		name: "no name",
		call: with(func(in *sagemaker.CreateModelInput) { in.ModelName = nil }),
		want: errorInfo{Op: "CreateModel", Type: "InvalidParams"},
	}, {
		name: "nil input",
		call: func(f *sagemakertest.Fake) error {
			_, err := f.CreateModel(ctx, nil)
			return err
		},
		want: errorInfo{Op: "CreateModel", Type: "InvalidParams"},
	}, {
		name: "VPC without subnets",
		call: with(func(in *sagemaker.CreateModelInput) {
			in.VpcConfig = &types.VpcConfig{SecurityGroupIds: []string{"sg-1"}}
		}),
		want: errorInfo{Op: "CreateModel", Type: "InvalidParams"},
	}, {
		name: "underscore in name",
		call: with(func(in *sagemaker.CreateModelInput) { in.ModelName = aws.String("m_1") }),
		want: validation(`1 validation error detected: Value 'm_1' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?`),
	}, {
		name: "trailing hyphen",
		call: with(func(in *sagemaker.CreateModelInput) { in.ModelName = aws.String("m-") }),
		want: validation(`1 validation error detected: Value 'm-' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?`),
	}, {
		name: "long name",
		call: with(func(in *sagemaker.CreateModelInput) { in.ModelName = aws.String(strings.Repeat("m", 64)) }),
		want: validation("1 validation error detected: Value '" + strings.Repeat("m", 64) + "' at 'modelName' failed to satisfy constraint: Member must have length less than or equal to 63"),
	}, {
		name: "bad role",
		call: with(func(in *sagemaker.CreateModelInput) {
			in.ExecutionRoleArn = aws.String("arn:aws:iam::123:user/someone")
		}),
		want: validation(`1 validation error detected: Value 'arn:aws:iam::123:user/someone' at 'executionRoleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`),
	}, {
		name: "no role",
		call: with(func(in *sagemaker.CreateModelInput) { in.ExecutionRoleArn = nil }),
		want: validation("ExecutionRoleArn is required for model ric-model."),
	}, {
		name: "no container",
		call: with(func(in *sagemaker.CreateModelInput) { in.PrimaryContainer = nil }),
		want: validation("Either PrimaryContainer or Containers must be specified."),
	}, {
		name: "both kinds of container",
		call: with(func(in *sagemaker.CreateModelInput) {
			in.Containers = []types.ContainerDefinition{*in.PrimaryContainer}
		}),
		want: validation("Only one of PrimaryContainer or Containers can be specified."),
	}, {
		name: "no image",
		call: with(func(in *sagemaker.CreateModelInput) { in.PrimaryContainer.Image = nil }),
		want: validation("Image must be specified for a container when ModelPackageName is not."),
	}, {
		name: "bad model data URL",
		call: with(func(in *sagemaker.CreateModelInput) { in.PrimaryContainer.ModelDataUrl = aws.String("b/model.tar.gz") }),
		want: validation(`1 validation error detected: Value 'b/model.tar.gz' at 'primaryContainer.modelDataUrl' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(https|s3)://([^/]+)/?(.*)`),
	}, {
		name: "bad environment key",
		call: with(func(in *sagemaker.CreateModelInput) { in.PrimaryContainer.Environment = map[string]string{"1X": "v"} }),
		want: validation(`1 validation error detected: Value '1X' at 'primaryContainer.environment' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z_][a-zA-Z0-9_]*`),
	}, {
		name: "throttled create",
		call: func(f *sagemakertest.Fake) error {
			f.FailNext(sagemakertest.OpCreateModel, sagemakertest.Throttling())
			_, err := f.CreateModel(ctx, modelInput("ric-model"))
			return err
		},
		want: errorInfo{Op: "CreateModel", Code: "ThrottlingException", Message: "Rate exceeded", Status: 400, Retryable: true},
	}, {
		name: "internal error on describe",
		call: func(f *sagemakertest.Fake) error {
			createModel(t, f, "ric-model")
			f.FailNext(sagemakertest.OpDescribeModel, sagemakertest.InternalError())
			_, err := describeModel(f, "ric-model")
			return err
		},
		want: errorInfo{Op: "DescribeModel", Code: "InternalFailure", Message: "An internal error occurred. Try again.", Status: 500, Retryable: true},
	}, {
		name: "canceled context",
		call: func(f *sagemakertest.Fake) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := f.CreateModel(ctx, modelInput("ric-model"))
			return err
		},
		want: errorInfo{Op: "CreateModel", Type: "Canceled"},
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
			if tt.want.Op == "CreateModel" {
				if _, err := describeModel(f, "ric-model"); err == nil {
					t.Error("the failed create made the model")
				}
			}
		})
	}
}

func TestModelOptionalFields(t *testing.T) {
	f, _ := newFake(t)
	ctx := context.Background()
	// A container may hold its model in the image: ModelDataUrl is
	// optional. Containers may replace PrimaryContainer.
	in := modelInput("ric-model")
	in.PrimaryContainer.ModelDataUrl = nil
	if _, err := f.CreateModel(ctx, in); err != nil {
		t.Errorf("model without ModelDataUrl: %v", err)
	}
	in = modelInput("ric-model-2")
	in.Containers, in.PrimaryContainer = []types.ContainerDefinition{*in.PrimaryContainer}, nil
	if _, err := f.CreateModel(ctx, in); err != nil {
		t.Errorf("model with Containers: %v", err)
	}
	got, err := describeModel(f, "ric-model-2")
	if err != nil || len(got.Containers) != 1 || aws.ToString(got.Containers[0].Image) != icImage {
		t.Errorf("describe ric-model-2: %+v, %v", got, err)
	}
}

func TestAddModel(t *testing.T) {
	f, _ := newFake(t)
	f.AddModel(modelInput("old-model"))
	if got := f.Calls(sagemakertest.OpCreateModel); got != 0 {
		t.Errorf("Calls(CreateModel) = %d, want 0", got)
	}
	if got := f.Models(); len(got) != 0 {
		t.Errorf("Models = %v, want none", got)
	}
	out, err := describeModel(f, "old-model")
	if err != nil || aws.ToString(out.PrimaryContainer.Image) != icImage {
		t.Errorf("describe: %+v, %v", out, err)
	}
	if _, err := f.CreateModel(context.Background(), modelInput("old-model")); inspect(err).Code != "ValidationException" {
		t.Errorf("create old-model again: %v, want ValidationException", err)
	}
	for _, in := range []*sagemaker.CreateModelInput{nil, {}, modelInput("old-model")} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddModel(%+v) did not panic", in)
				}
			}()
			f.AddModel(in)
		}()
	}
}
