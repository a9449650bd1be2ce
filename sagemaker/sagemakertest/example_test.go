package sagemakertest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

// A test scripts a job that fails while training and a throttled
// describe, runs the code under test (here a polling loop), and checks
// what it saw and which calls it made.
func Example() {
	f := sagemakertest.New()
	f.Script("ric-tr-1",
		sagemakertest.State{Secondary: types.SecondaryStatusDownloading},
		sagemakertest.State{Secondary: types.SecondaryStatusTraining},
		sagemakertest.State{Status: types.TrainingJobStatusFailed, FailureReason: "AlgorithmError: CUDA out of memory"},
	)
	f.FailNext("DescribeTrainingJob", sagemakertest.Throttling())

	ctx := context.Background()
	_, err := f.CreateTrainingJob(ctx, &sagemaker.CreateTrainingJobInput{
		TrainingJobName:  aws.String("ric-tr-1"),
		RoleArn:          aws.String("arn:aws:iam::123456789012:role/sm"),
		OutputDataConfig: &types.OutputDataConfig{S3OutputPath: aws.String("s3://bucket/models/")},
	})
	if err != nil {
		panic(err)
	}
	for {
		out, err := f.DescribeTrainingJob(ctx, &sagemaker.DescribeTrainingJobInput{TrainingJobName: aws.String("ric-tr-1")})
		if ae, ok := errors.AsType[smithy.APIError](err); ok {
			fmt.Println("error:", ae.ErrorCode())
			continue // a real caller would back off
		}
		fmt.Println(out.TrainingJobStatus, out.SecondaryStatus)
		if out.TrainingJobStatus == types.TrainingJobStatusFailed {
			fmt.Println(aws.ToString(out.FailureReason))
			break
		}
	}
	fmt.Println("describes:", f.Calls("DescribeTrainingJob"))
	// Output:
	// error: ThrottlingException
	// InProgress Downloading
	// InProgress Training
	// Failed Failed
	// AlgorithmError: CUDA out of memory
	// describes: 4
}

// A grid tuning job launches one training job per combination; ScriptFunc
// makes each one's accuracy depend on its hyperparameters.
func ExampleFake_CreateHyperParameterTuningJob() {
	f := sagemakertest.New()
	accuracy := map[string]float64{"18": 0.71, "50": 0.83, "152": 0.79}
	f.ScriptFunc(func(in *sagemaker.CreateTrainingJobInput) []sagemakertest.State {
		return []sagemakertest.State{{
			Status:  types.TrainingJobStatusCompleted,
			Metrics: map[string]float64{"validation:accuracy": accuracy[in.HyperParameters["num_layers"]]},
		}}
	})

	ctx := context.Background()
	_, err := f.CreateHyperParameterTuningJob(ctx, &sagemaker.CreateHyperParameterTuningJobInput{
		HyperParameterTuningJobName: aws.String("ric-hpo-1"),
		HyperParameterTuningJobConfig: &types.HyperParameterTuningJobConfig{
			Strategy: types.HyperParameterTuningJobStrategyTypeGrid,
			HyperParameterTuningJobObjective: &types.HyperParameterTuningJobObjective{
				Type: types.HyperParameterTuningJobObjectiveTypeMaximize, MetricName: aws.String("validation:accuracy"),
			},
			ResourceLimits: &types.ResourceLimits{MaxParallelTrainingJobs: aws.Int32(2)},
			ParameterRanges: &types.ParameterRanges{CategoricalParameterRanges: []types.CategoricalParameterRange{
				{Name: aws.String("num_layers"), Values: []string{"18", "50", "152"}},
			}},
		},
		TrainingJobDefinition: &types.HyperParameterTrainingJobDefinition{
			AlgorithmSpecification: &types.HyperParameterAlgorithmSpecification{
				TrainingImage:     aws.String("811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"),
				TrainingInputMode: types.TrainingInputModeFile,
			},
			RoleArn:               aws.String("arn:aws:iam::123456789012:role/sm"),
			OutputDataConfig:      &types.OutputDataConfig{S3OutputPath: aws.String("s3://bucket/models/")},
			StaticHyperParameters: map[string]string{"num_classes": "2"},
		},
	})
	if err != nil {
		panic(err)
	}
	for {
		out, err := f.DescribeHyperParameterTuningJob(ctx, &sagemaker.DescribeHyperParameterTuningJobInput{
			HyperParameterTuningJobName: aws.String("ric-hpo-1"),
		})
		if err != nil {
			panic(err)
		}
		c := out.TrainingJobStatusCounters
		fmt.Printf("%s: %d completed, %d in progress\n", out.HyperParameterTuningJobStatus, *c.Completed, *c.InProgress)
		if out.HyperParameterTuningJobStatus == types.HyperParameterTuningJobStatusCompleted {
			best := out.BestTrainingJob
			fmt.Println("best num_layers:", best.TunedHyperParameters["num_layers"], *best.FinalHyperParameterTuningJobObjectiveMetric.Value)
			break
		}
	}
	list, err := f.ListTrainingJobsForHyperParameterTuningJob(ctx, &sagemaker.ListTrainingJobsForHyperParameterTuningJobInput{
		HyperParameterTuningJobName: aws.String("ric-hpo-1"),
	})
	if err != nil {
		panic(err)
	}
	var names []string
	for _, j := range list.TrainingJobSummaries {
		names = append(names, aws.ToString(j.TrainingJobName)[:len("ric-hpo-1-001")])
	}
	fmt.Println(slices.Sorted(slices.Values(names)), "at most", f.MaxInProgress(), "at once")
	// Output:
	// InProgress: 2 completed, 1 in progress
	// Completed: 3 completed, 0 in progress
	// best num_layers: 50 0.83
	// [ric-hpo-1-001 ric-hpo-1-002 ric-hpo-1-003] at most 2 at once
}

// A batch transform over a day's images fails part-way; OnTransformEnd
// writes the outputs Batch Transform would have kept (here into a map
// standing in for S3), and the code under test finds which images were
// not processed.
func ExampleFake_CreateTransformJob() {
	const prefix = "s3://bucket/images/2024-01-01/"
	images := []string{"a.jpg", "b.jpg", "c.jpg"}
	s3 := map[string]string{} // key → body

	f := sagemakertest.New()
	f.AddModel(&sagemaker.CreateModelInput{ModelName: aws.String("ric-model-1")})
	f.ScriptTransform("ric-tf-1",
		sagemakertest.TransformState{Status: types.TransformJobStatusInProgress},
		sagemakertest.TransformState{Status: types.TransformJobStatusFailed, FailureReason: "ClientError: See job logs for more information"},
	)
	f.OnTransformEnd = func(in *sagemaker.CreateTransformJobInput, status types.TransformJobStatus) {
		done := images
		switch status {
		case types.TransformJobStatusFailed:
			done = images[:2] // c.jpg failed
		case types.TransformJobStatusStopped:
			done = nil
		}
		for _, img := range done {
			s3[*in.TransformOutput.S3OutputPath+img+".out"] = `{"prediction":[0.2,0.8]}`
		}
	}

	ctx := context.Background()
	_, err := f.CreateTransformJob(ctx, &sagemaker.CreateTransformJobInput{
		TransformJobName: aws.String("ric-tf-1"),
		ModelName:        aws.String("ric-model-1"),
		TransformInput: &types.TransformInput{
			DataSource: &types.TransformDataSource{S3DataSource: &types.TransformS3DataSource{
				S3DataType: types.S3DataTypeS3Prefix, S3Uri: aws.String(prefix),
			}},
			ContentType: aws.String("application/x-image"),
		},
		TransformOutput:    &types.TransformOutput{S3OutputPath: aws.String("s3://bucket/predictions/2024-01-01/")},
		TransformResources: &types.TransformResources{InstanceType: types.TransformInstanceTypeMlM5Large, InstanceCount: aws.Int32(1)},
	})
	if err != nil {
		panic(err)
	}
	for {
		out, err := f.DescribeTransformJob(ctx, &sagemaker.DescribeTransformJobInput{TransformJobName: aws.String("ric-tf-1")})
		if err != nil {
			panic(err)
		}
		if out.FailureReason != nil { // only when Failed
			fmt.Println(out.TransformJobStatus, *out.FailureReason)
		} else {
			fmt.Println(out.TransformJobStatus)
		}
		if out.TransformEndTime != nil {
			break
		}
	}
	for _, img := range images {
		if _, ok := s3["s3://bucket/predictions/2024-01-01/"+img+".out"]; !ok {
			fmt.Println("not processed:", img)
		}
	}
	// Output:
	// InProgress
	// Failed ClientError: See job logs for more information
	// not processed: c.jpg
}
