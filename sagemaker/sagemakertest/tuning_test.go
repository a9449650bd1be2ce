package sagemakertest_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

func cat(name string, values ...string) types.CategoricalParameterRange {
	return types.CategoricalParameterRange{Name: aws.String(name), Values: values}
}

func tuningInput(name string, maxParallel int32, ranges ...types.CategoricalParameterRange) *sagemaker.CreateHyperParameterTuningJobInput {
	tr := trainingInput("unused", nil)
	return &sagemaker.CreateHyperParameterTuningJobInput{
		HyperParameterTuningJobName: aws.String(name),
		HyperParameterTuningJobConfig: &types.HyperParameterTuningJobConfig{
			Strategy: types.HyperParameterTuningJobStrategyTypeGrid,
			HyperParameterTuningJobObjective: &types.HyperParameterTuningJobObjective{
				Type:       types.HyperParameterTuningJobObjectiveTypeMaximize,
				MetricName: aws.String("validation:accuracy"),
			},
			ResourceLimits:  &types.ResourceLimits{MaxParallelTrainingJobs: aws.Int32(maxParallel)},
			ParameterRanges: &types.ParameterRanges{CategoricalParameterRanges: ranges},
		},
		TrainingJobDefinition: &types.HyperParameterTrainingJobDefinition{
			AlgorithmSpecification: &types.HyperParameterAlgorithmSpecification{
				TrainingImage:     tr.AlgorithmSpecification.TrainingImage,
				TrainingInputMode: types.TrainingInputModeFile,
			},
			RoleArn:               tr.RoleArn,
			StaticHyperParameters: map[string]string{"num_classes": "2", "epochs": "10"},
			InputDataConfig:       tr.InputDataConfig,
			OutputDataConfig:      tr.OutputDataConfig,
			ResourceConfig:        tr.ResourceConfig,
			StoppingCondition:     tr.StoppingCondition,
		},
	}
}

func createTuning(tb testing.TB, f *sagemakertest.Fake, in *sagemaker.CreateHyperParameterTuningJobInput) {
	tb.Helper()
	if _, err := f.CreateHyperParameterTuningJob(context.Background(), in); err != nil {
		tb.Fatalf("create tuning job: %v", err)
	}
}

func describeTuning(tb testing.TB, f *sagemakertest.Fake, name string) *sagemaker.DescribeHyperParameterTuningJobOutput {
	tb.Helper()
	out, err := f.DescribeHyperParameterTuningJob(context.Background(), &sagemaker.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
	if err != nil {
		tb.Fatalf("describe tuning job %s: %v", name, err)
	}
	return out
}

// listAll pages through the tuning job's training jobs.
func listAll(tb testing.TB, f *sagemakertest.Fake, in sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) (jobs []types.HyperParameterTrainingJobSummary, pages []int) {
	tb.Helper()
	for {
		out, err := f.ListTrainingJobsForHyperParameterTuningJob(context.Background(), &in)
		if err != nil {
			tb.Fatalf("list: %v", err)
		}
		jobs = append(jobs, out.TrainingJobSummaries...)
		pages = append(pages, len(out.TrainingJobSummaries))
		if out.NextToken == nil {
			return jobs, pages
		}
		in.NextToken = out.NextToken
	}
}

func TestGridExpansion(t *testing.T) {
	f, _ := newFake(t)
	createTuning(t, f, tuningInput("grid", 10, cat("num_layers", "18", "50"), cat("optimizer", "sgd", "adam", "nag")))

	jobs, _ := listAll(t, f, sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String("grid")})
	var tuned []string
	name := regexp.MustCompile(`^grid-00[1-6]-[0-9a-f]{8}$`)
	for i, j := range jobs {
		n := aws.ToString(j.TrainingJobName)
		if !name.MatchString(n) || !strings.HasPrefix(n, fmt.Sprintf("grid-%03d-", i+1)) {
			t.Errorf("job %d is named %s", i, n)
		}
		if got, want := aws.ToString(j.TrainingJobArn), "arn:aws:sagemaker:us-east-1:123456789012:training-job/"+n; got != want {
			t.Errorf("%s: ARN %s, want %s", n, got, want)
		}
		if aws.ToString(j.TuningJobName) != "grid" || j.TrainingJobStatus != types.TrainingJobStatusInProgress || j.ObjectiveStatus != types.ObjectiveStatusPending {
			t.Errorf("%s: tuning job %s, status %s, objective %s", n, aws.ToString(j.TuningJobName), j.TrainingJobStatus, j.ObjectiveStatus)
		}
		tuned = append(tuned, j.TunedHyperParameters["num_layers"]+"/"+j.TunedHyperParameters["optimizer"])
	}
	want := []string{"18/sgd", "18/adam", "18/nag", "50/sgd", "50/adam", "50/nag"}
	if diff := cmp.Diff(want, tuned); diff != "" {
		t.Errorf("grid order (-want +got):\n%s", diff)
	}

	first := aws.ToString(jobs[0].TrainingJobName)
	in := f.CreateInput(first)
	wantHP := map[string]string{"num_classes": "2", "epochs": "10", "num_layers": "18", "optimizer": "sgd", "_tuning_objective_metric": "validation:accuracy"}
	if diff := cmp.Diff(wantHP, in.HyperParameters); diff != "" {
		t.Errorf("child hyperparameters (-want +got):\n%s", diff)
	}
	out := describe(t, f, first)
	if got, want := aws.ToString(out.TuningJobArn), "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/grid"; got != want {
		t.Errorf("child TuningJobArn = %s, want %s", got, want)
	}
	if got, want := aws.ToString(out.ModelArtifacts.S3ModelArtifacts), "s3://b/out/"+first+"/output/model.tar.gz"; got != want {
		t.Errorf("child artifact = %s, want %s", got, want)
	}
	if out.ResourceConfig.InstanceType != types.TrainingInstanceTypeMlP32xlarge || out.AlgorithmSpecification.TrainingInputMode != types.TrainingInputModeFile || len(out.InputDataConfig) != 1 {
		t.Errorf("child does not have the definition's resources, algorithm and channels: %+v", out)
	}
	if got := f.CreatedJobs(); len(got) != 0 {
		t.Errorf("CreatedJobs = %v, want none (children are not created by CreateTrainingJob)", got)
	}

	// The same combination gives the same name in another tuning job of the
	// same name, and SageMaker's echo has the objective among the static
	// hyperparameters.
	g, _ := newFake(t)
	createTuning(t, g, tuningInput("grid", 1, cat("num_layers", "18", "50"), cat("optimizer", "sgd", "adam", "nag")))
	if in := g.CreateInput(first); in == nil {
		t.Errorf("another fake named the first child differently from %s", first)
	}
	d := describeTuning(t, f, "grid")
	if got := d.TrainingJobDefinition.StaticHyperParameters["_tuning_objective_metric"]; got != "validation:accuracy" {
		t.Errorf("echoed static hyperparameters lack the objective: %v", d.TrainingJobDefinition.StaticHyperParameters)
	}
	if diff := cmp.Diff(tuningInput("grid", 10, cat("num_layers", "18", "50"), cat("optimizer", "sgd", "adam", "nag")).HyperParameterTuningJobConfig,
		d.HyperParameterTuningJobConfig, ignoreUnexported); diff != "" {
		t.Errorf("echoed config (-want +got):\n%s", diff)
	}
}

func TestTuningValidation(t *testing.T) {
	ranges := []types.CategoricalParameterRange{cat("num_layers", "18", "50"), cat("optimizer", "sgd", "adam", "nag")}
	valid := func() *sagemaker.CreateHyperParameterTuningJobInput { return tuningInput("grid", 2, ranges...) }
	values := func(n int) []string {
		var v []string
		for i := range n {
			v = append(v, strconv.Itoa(i))
		}
		return v
	}
	tests := []struct {
		name   string
		change func(in *sagemaker.CreateHyperParameterTuningJobInput)
		want   errorInfo // zero: no error
		substr string    // in the message
	}{{
		name:   "valid",
		change: func(*sagemaker.CreateHyperParameterTuningJobInput) {},
	}, {
		name: "max jobs equal to the combinations",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs = aws.Int32(6)
		},
	}, {
		name: "one definition in the list",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.TrainingJobDefinitions = []types.HyperParameterTrainingJobDefinition{*in.TrainingJobDefinition}
			in.TrainingJobDefinition = nil
		},
	}, {
		name: "max jobs other than the combinations",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs = aws.Int32(5)
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "MaxNumberOfTrainingJobs (5) must equal the number of combinations of the categorical parameter ranges (6)",
	}, {
		name: "name too long",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobName = aws.String(strings.Repeat("g", 33))
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "at 'hyperParameterTuningJobName' failed to satisfy constraint: Member must have length less than or equal to 32",
	}, {
		name: "bad name",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobName = aws.String("grid_1")
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}",
	}, {
		name: "integer range",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ParameterRanges.IntegerParameterRanges = []types.IntegerParameterRange{
				{Name: aws.String("mini_batch_size"), MinValue: aws.String("8"), MaxValue: aws.String("64")}}
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "supports only categorical parameter ranges",
	}, {
		name: "continuous range",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ParameterRanges.ContinuousParameterRanges = []types.ContinuousParameterRange{
				{Name: aws.String("learning_rate"), MinValue: aws.String("0.01"), MaxValue: aws.String("0.1")}}
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "supports only categorical parameter ranges",
	}, {
		name: "no ranges",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ParameterRanges = nil
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "needs at least one categorical parameter range",
	}, {
		name: "too many values",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges = []types.CategoricalParameterRange{cat("x", values(31)...)}
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "has 31 values; it must have 1 to 30",
	}, {
		name: "too many combinations",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges = []types.CategoricalParameterRange{
				cat("a", values(10)...), cat("b", values(10)...), cat("c", values(10)...)}
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "at most 750 training jobs",
	}, {
		name: "tuned and static",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.TrainingJobDefinition.StaticHyperParameters["optimizer"] = "sgd"
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "optimizer is both static and tuned",
	}, {
		name: "range twice",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			r := in.HyperParameterTuningJobConfig.ParameterRanges
			r.CategoricalParameterRanges = append(r.CategoricalParameterRanges, cat("optimizer", "nag"))
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "optimizer has more than one range",
	}, {
		name: "no objective",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective = nil
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "needs a HyperParameterTuningJobObjective",
	}, {
		name: "no parallel jobs",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs = aws.Int32(0)
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "Member must have value greater than or equal to 1",
	}, {
		name: "other strategy",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.Strategy = types.HyperParameterTuningJobStrategyTypeBayesian
		},
		want:   errorInfo{Code: "ValidationException"},
		substr: "sagemakertest fakes only the Grid strategy, not Bayesian",
	}, {
		name:   "no definition",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) { in.TrainingJobDefinition = nil },
		want:   errorInfo{Code: "ValidationException"},
		substr: "Either TrainingJobDefinition or TrainingJobDefinitions must be specified.",
	}, {
		name: "missing required fields",
		change: func(in *sagemaker.CreateHyperParameterTuningJobInput) {
			in.HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs = nil
			in.TrainingJobDefinition.RoleArn = nil
		},
		want:   errorInfo{Type: "InvalidParams"},
		substr: "HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _ := newFake(t)
			in := valid()
			tt.change(in)
			_, err := f.CreateHyperParameterTuningJob(context.Background(), in)
			if tt.want == (errorInfo{}) {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			got := inspect(err)
			if got.Code != tt.want.Code || got.Type != tt.want.Type || got.Op != "CreateHyperParameterTuningJob" {
				t.Errorf("error %v: code %q type %q op %q, want code %q type %q", err, got.Code, got.Type, got.Op, tt.want.Code, tt.want.Type)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q does not say %q", err, tt.substr)
			}
			if got := describeTuningErr(f, aws.ToString(in.HyperParameterTuningJobName)); got.Type != "ResourceNotFound" {
				t.Errorf("a refused tuning job exists: %+v", got)
			}
		})
	}
}

func describeTuningErr(f *sagemakertest.Fake, name string) errorInfo {
	_, err := f.DescribeHyperParameterTuningJob(context.Background(), &sagemaker.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
	return inspect(err)
}

func TestTuningErrors(t *testing.T) {
	f, _ := newFake(t)
	ctx := context.Background()
	createTuning(t, f, tuningInput("Grid-1", 1, cat("a", "1")))
	_, err := f.CreateHyperParameterTuningJob(ctx, tuningInput("grid-1", 1, cat("a", "1")))
	want := errorInfo{Op: "CreateHyperParameterTuningJob", Code: "ResourceInUse", Status: 400, Type: "ResourceInUse",
		Message: "A hyperparameter tuning job with the name, grid-1, already exists. Choose a different name."}
	if diff := cmp.Diff(want, inspect(err)); diff != "" {
		t.Errorf("tuning names are not case sensitive (-want +got):\n%s", diff)
	}
	describeTuning(t, f, "GRID-1")

	name := aws.String("missing")
	calls := map[string]func() error{
		"DescribeHyperParameterTuningJob": func() error {
			_, err := f.DescribeHyperParameterTuningJob(ctx, &sagemaker.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: name})
			return err
		},
		"StopHyperParameterTuningJob": func() error {
			_, err := f.StopHyperParameterTuningJob(ctx, &sagemaker.StopHyperParameterTuningJobInput{HyperParameterTuningJobName: name})
			return err
		},
		"ListTrainingJobsForHyperParameterTuningJob": func() error {
			_, err := f.ListTrainingJobsForHyperParameterTuningJob(ctx, &sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: name})
			return err
		},
	}
	for _, op := range slices.Sorted(maps.Keys(calls)) {
		want := errorInfo{Op: op, Code: "ResourceNotFound", Status: 400, Type: "ResourceNotFound",
			Message: "Amazon SageMaker can't find a tuning job called missing. Type another name."}
		if diff := cmp.Diff(want, inspect(calls[op]())); diff != "" {
			t.Errorf("%s of a missing tuning job (-want +got):\n%s", op, diff)
		}
		f.FailNext(op, sagemakertest.Throttling())
		if got := inspect(calls[op]()); got.Code != "ThrottlingException" || got.Op != op {
			t.Errorf("%s after FailNext: %+v", op, got)
		}
		wantCalls := 2
		if op == "DescribeHyperParameterTuningJob" {
			wantCalls++ // describeTuning above
		}
		if got := f.Calls(op); got != wantCalls {
			t.Errorf("Calls(%s) = %d, want %d", op, got, wantCalls)
		}
	}
}

// layerScript makes the accuracy grow with num_layers, fails num_layers
// 101, and takes two describes per job.
func layerScript(in *sagemaker.CreateTrainingJobInput) []sagemakertest.State {
	layers, _ := strconv.Atoi(in.HyperParameters["num_layers"])
	if layers == 101 {
		return []sagemakertest.State{inProgress, failed}
	}
	return []sagemakertest.State{inProgress, {
		Status:          types.TrainingJobStatusCompleted,
		Metrics:         map[string]float64{"validation:accuracy": float64(layers) / 200},
		BillableSeconds: 60,
	}}
}

func TestTuningRun(t *testing.T) {
	tests := []struct {
		objective types.HyperParameterTuningJobObjectiveType
		best      string
		value     float32
	}{
		{types.HyperParameterTuningJobObjectiveTypeMaximize, "152", 0.76},
		{types.HyperParameterTuningJobObjectiveTypeMinimize, "18", 0.09},
	}
	for _, tt := range tests {
		t.Run(string(tt.objective), func(t *testing.T) {
			f, _ := newFake(t)
			f.ScriptFunc(layerScript)
			in := tuningInput("layers", 2, cat("num_layers", "18", "34", "50", "101", "152"))
			in.HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.Type = tt.objective
			createTuning(t, f, in)

			// Status, then completed/in progress/failed/stopped children.
			want := []string{
				"InProgress 0/2/0/0", // 18, 34 run
				"InProgress 2/2/0/0", // 18, 34 done; 50, 101 start
				"InProgress 2/2/0/0",
				"InProgress 3/1/1/0", // 50 done, 101 failed; 152 starts
				"InProgress 3/1/1/0",
				"Completed 4/0/1/0",
				"Completed 4/0/1/0",
			}
			var got []string
			var last *sagemaker.DescribeHyperParameterTuningJobOutput
			for range want {
				last = describeTuning(t, f, "layers")
				c := last.TrainingJobStatusCounters
				got = append(got, fmt.Sprintf("%s %d/%d/%d/%d", last.HyperParameterTuningJobStatus,
					*c.Completed, *c.InProgress, *c.NonRetryableError+*c.RetryableError, *c.Stopped))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tuning job over time (-want +got):\n%s", diff)
			}
			if got, want := f.MaxInProgress(), 2; got != want {
				t.Errorf("MaxInProgress = %d, want %d", got, want)
			}
			if diff := cmp.Diff(&types.ObjectiveStatusCounters{Succeeded: aws.Int32(4), Failed: aws.Int32(1), Pending: aws.Int32(0)},
				last.ObjectiveStatusCounters, ignoreUnexported); diff != "" {
				t.Errorf("ObjectiveStatusCounters (-want +got):\n%s", diff)
			}
			if last.HyperParameterTuningEndTime == nil || last.FailureReason != nil {
				t.Errorf("end %v, failure %v; want an end and no failure", last.HyperParameterTuningEndTime, aws.ToString(last.FailureReason))
			}
			best := last.BestTrainingJob
			if best == nil {
				t.Fatal("no BestTrainingJob")
			}
			wantBest := &types.FinalHyperParameterTuningJobObjectiveMetric{
				Type: tt.objective, MetricName: aws.String("validation:accuracy"), Value: aws.Float32(tt.value),
			}
			if diff := cmp.Diff(wantBest, best.FinalHyperParameterTuningJobObjectiveMetric, ignoreUnexported); diff != "" || best.TunedHyperParameters["num_layers"] != tt.best {
				t.Errorf("best is %s with (-want +got):\n%s", best.TunedHyperParameters["num_layers"], diff)
			}
			if best.TrainingJobStatus != types.TrainingJobStatusCompleted || best.ObjectiveStatus != types.ObjectiveStatusSucceeded {
				t.Errorf("best: %s %s", best.TrainingJobStatus, best.ObjectiveStatus)
			}

			jobs, _ := listAll(t, f, sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{
				HyperParameterTuningJobName: aws.String("layers"), StatusEquals: types.TrainingJobStatusFailed})
			if len(jobs) != 1 || jobs[0].TunedHyperParameters["num_layers"] != "101" || aws.ToString(jobs[0].FailureReason) != failed.FailureReason ||
				jobs[0].FinalHyperParameterTuningJobObjectiveMetric != nil || jobs[0].ObjectiveStatus != types.ObjectiveStatusFailed {
				t.Errorf("failed jobs: %+v", jobs)
			}
		})
	}
}

func TestTuningChildNotAdvancedByDescribe(t *testing.T) {
	f, _ := newFake(t)
	createTuning(t, f, tuningInput("grid", 1, cat("a", "1")))
	jobs, _ := listAll(t, f, sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String("grid")})
	child := aws.ToString(jobs[0].TrainingJobName)
	if diff := cmp.Diff([]string{"InProgress/Starting", "InProgress/Starting"}, statuses(t, f, child, 2)); diff != "" {
		t.Errorf("child before the tuning job is described (-want +got):\n%s", diff)
	}
	describeTuning(t, f, "grid")
	if diff := cmp.Diff([]string{"InProgress/Training", "InProgress/Training"}, statuses(t, f, child, 2)); diff != "" {
		t.Errorf("child after one describe of the tuning job (-want +got):\n%s", diff)
	}
	if got := describeTuning(t, f, "grid").HyperParameterTuningJobStatus; got != types.HyperParameterTuningJobStatusCompleted {
		t.Errorf("tuning job %s, want Completed", got)
	}
}

func TestTuningAllFailed(t *testing.T) {
	f, _ := newFake(t)
	f.DefaultScript(failed)
	createTuning(t, f, tuningInput("grid", 3, cat("a", "1", "2")))
	out := describeTuning(t, f, "grid")
	if out.HyperParameterTuningJobStatus != types.HyperParameterTuningJobStatusFailed || out.BestTrainingJob != nil {
		t.Errorf("status %s, best %v; want Failed and no best", out.HyperParameterTuningJobStatus, out.BestTrainingJob)
	}
	if got, want := aws.ToString(out.FailureReason), "No training job succeeded after 2 attempts. Please take a look at the training job failures to get more details."; got != want {
		t.Errorf("FailureReason = %q, want %q", got, want)
	}
}

func TestStopTuning(t *testing.T) {
	for _, before := range []int{0, 1} {
		t.Run(fmt.Sprintf("after %d describes", before), func(t *testing.T) {
			f, _ := newFake(t)
			ctx := context.Background()
			createTuning(t, f, tuningInput("grid", 2, cat("a", "1", "2", "3"), cat("b", "x", "y")))
			for range before {
				describeTuning(t, f, "grid")
			}
			stopIn := &sagemaker.StopHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String("grid")}
			for range 2 { // the second stop does nothing
				if _, err := f.StopHyperParameterTuningJob(ctx, stopIn); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for range 3 {
				out := describeTuning(t, f, "grid")
				got = append(got, fmt.Sprintf("%s %d", out.HyperParameterTuningJobStatus, *out.TrainingJobStatusCounters.Stopped))
			}
			want := []string{"Stopping 0", "Stopped 2", "Stopped 2"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("tuning job after stop (-want +got):\n%s", diff)
			}
			jobs, _ := listAll(t, f, sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String("grid")})
			if len(jobs) != 2 {
				t.Errorf("%d children, want the 2 launched before the stop", len(jobs))
			}
			for _, j := range jobs {
				if j.TrainingJobStatus != types.TrainingJobStatusStopped {
					t.Errorf("%s is %s", aws.ToString(j.TrainingJobName), j.TrainingJobStatus)
				}
			}
			_, err := f.StopHyperParameterTuningJob(ctx, stopIn)
			if got := inspect(err); got.Code != "ValidationException" || !strings.Contains(got.Message, "in status Stopped") {
				t.Errorf("stop of a stopped tuning job: %v", err)
			}
			if got := f.StoppedJobs(); len(got) != 0 {
				t.Errorf("StoppedJobs = %v; want only StopTrainingJob calls", got)
			}
		})
	}
}

func TestListPagination(t *testing.T) {
	f, _ := newFake(t)
	ctx := context.Background()
	digits := []string{"0", "1", "2", "3", "4"}
	f.ScriptFunc(func(in *sagemaker.CreateTrainingJobInput) []sagemakertest.State {
		a, _ := strconv.Atoi(in.HyperParameters["a"])
		b, _ := strconv.Atoi(in.HyperParameters["b"])
		if a == 0 {
			return []sagemakertest.State{failed}
		}
		return []sagemakertest.State{{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": float64(a*5+b) / 100}}}
	})
	createTuning(t, f, tuningInput("grid", 25, cat("a", digits...), cat("b", digits...)))
	base := sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String("grid")}

	tests := []struct {
		name  string
		in    func(in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput)
		pages []int
		first string // a/b of the first job
	}{
		{"default page size", func(*sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) {}, []int{10, 10, 5}, "0/0"},
		{"max results", func(in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) { in.MaxResults = aws.Int32(7) }, []int{7, 7, 7, 4}, "0/0"},
		{"one page", func(in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) { in.MaxResults = aws.Int32(100) }, []int{25}, "0/0"},
		{"name descending", func(in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) {
			in.SortOrder = types.SortOrderDescending
		}, []int{10, 10, 5}, "4/4"},
		{"status", func(in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) {
			in.StatusEquals = types.TrainingJobStatusCompleted
		}, []int{10, 10}, "1/0"},
		{"by objective, best first", func(in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) {
			in.SortBy = types.TrainingJobSortByOptionsFinalObjectiveMetricValue
			in.SortOrder = types.SortOrderDescending
		}, []int{10, 10}, "4/4"},
		{"by objective, worst first", func(in *sagemaker.ListTrainingJobsForHyperParameterTuningJobInput) {
			in.SortBy = types.TrainingJobSortByOptionsFinalObjectiveMetricValue
		}, []int{10, 10}, "1/0"},
	}
	describeTuning(t, f, "grid") // every child ends
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			tt.in(&in)
			jobs, pages := listAll(t, f, in)
			if diff := cmp.Diff(tt.pages, pages); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			names := map[string]bool{}
			for _, j := range jobs {
				names[aws.ToString(j.TrainingJobName)] = true
			}
			if len(names) != len(jobs) {
				t.Errorf("%d distinct jobs in %d", len(names), len(jobs))
			}
			if got := jobs[0].TunedHyperParameters["a"] + "/" + jobs[0].TunedHyperParameters["b"]; got != tt.first {
				t.Errorf("first job %s, want %s", got, tt.first)
			}
		})
	}

	other := tuningInput("other", 1, cat("a", "1"))
	createTuning(t, f, other)
	out, err := f.ListTrainingJobsForHyperParameterTuningJob(ctx, &base)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]*sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{
		"max results 101":         {HyperParameterTuningJobName: aws.String("grid"), MaxResults: aws.Int32(101)},
		"max results 0":           {HyperParameterTuningJobName: aws.String("grid"), MaxResults: aws.Int32(0)},
		"bogus token":             {HyperParameterTuningJobName: aws.String("grid"), NextToken: aws.String("bogus")},
		"another listing's token": {HyperParameterTuningJobName: aws.String("other"), NextToken: out.NextToken},
	} {
		_, err := f.ListTrainingJobsForHyperParameterTuningJob(ctx, in)
		if got := inspect(err).Code; got != "ValidationException" {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
}

// TestConcurrentTuning polls tuning jobs and their children from many
// goroutines; run it with -race.
func TestConcurrentTuning(t *testing.T) {
	f := sagemakertest.New()
	f.ScriptFunc(layerScript)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("grid-%d", i)
			if _, err := f.CreateHyperParameterTuningJob(ctx, tuningInput(name, 2, cat("num_layers", "18", "34", "50", "101", "152"))); err != nil {
				t.Error(err)
				return
			}
			for {
				out, err := f.DescribeHyperParameterTuningJob(ctx, &sagemaker.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
				if err != nil {
					t.Error(err)
					return
				}
				list, err := f.ListTrainingJobsForHyperParameterTuningJob(ctx, &sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(name)})
				if err != nil {
					t.Error(err)
					return
				}
				for _, j := range list.TrainingJobSummaries {
					if _, err := f.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: j.TrainingJobName}); err != nil {
						t.Error(err)
					}
				}
				if out.HyperParameterTuningJobStatus == types.HyperParameterTuningJobStatusCompleted {
					if got := out.BestTrainingJob.TunedHyperParameters["num_layers"]; got != "152" {
						t.Errorf("%s: best num_layers %s, want 152", name, got)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	if got := f.MaxInProgress(); got < 2 || got > 2*n {
		t.Errorf("MaxInProgress = %d, want 2..%d", got, 2*n)
	}
}
