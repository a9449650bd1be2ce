package sagemaker_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

// The tune step on a grid of two depths. SageMaker is the scripted fake
// here and storage is in memory; a program passes the client NewClient
// returns and its storage.
func ExampleTune() {
	api := sagemakertest.New()
	api.ScriptFunc(func(in *sm.CreateTrainingJobInput) []sagemakertest.State {
		accuracy := map[string]float64{"18": 0.81, "50": 0.93}[in.HyperParameters["num_layers"]]
		return []sagemakertest.State{{Status: types.TrainingJobStatusCompleted, Metrics: map[string]float64{"validation:accuracy": accuracy}}}
	})
	files := sagemakertest.NewFiles()

	grid, err := sagemaker.ParseGridFlags([]string{"num_layers=18,50"}, []string{"use_pretrained_model=1"})
	if err != nil {
		log.Fatal(err)
	}
	res, err := sagemaker.Tune(context.Background(), api, files, sagemaker.TuneOptions{
		Data: sagemaker.DataSummary{NumClasses: 4, NumTrainingSamples: 12480, LabelAttribute: "review-photo-category",
			TrainManifest: "s3://b/labels/train.manifest", ValidationManifest: "s3://b/labels/validation.manifest"},
		Spec:   sagemaker.TrainingSpec{RoleARN: "arn:aws:iam::123456789012:role/sagemaker", OutputPath: "s3://b/models/"},
		Grid:   grid,
		Region: "us-east-1",
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Jobs, "jobs, best num_layers", res.BestHyperparameters["num_layers"], fmt.Sprintf("(%.2f)", *res.BestObjective))
	fmt.Println(res.Runs)
	// Output:
	// 2 jobs, best num_layers 50 (0.93)
	// s3://b/models/runs.parquet
}

// The transform step over a day's three photos with an existing model.
func ExampleTransform() {
	api := sagemakertest.New()
	api.AddModel(&sm.CreateModelInput{ModelName: aws.String("rl-model-best"),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String("image-classification:1"), ModelDataUrl: aws.String("s3://b/models/best/output/model.tar.gz")}})
	api.DefaultTransformScript(sagemakertest.TransformState{Status: types.TransformJobStatusCompleted})
	files := sagemakertest.NewFiles()
	files.Put("s3://b/staged/dt=2026-11-28/input.manifest", []byte(`[{"prefix":"s3://b/photos/"},"r1/0.jpg","r2/0.jpg","r3/0.jpg"]`))
	// Batch Transform writes <output>/<photo>.out; the fake leaves that to
	// the test, here for two photos of three.
	api.OnTransformEnd = func(in *sm.CreateTransformJobInput, _ types.TransformJobStatus) {
		for _, k := range []string{"r1/0.jpg", "r2/0.jpg"} {
			files.Put(aws.ToString(in.TransformOutput.S3OutputPath)+k+".out", []byte(`{"prediction":[0.9,0.1]}`))
		}
	}

	res, err := sagemaker.Transform(context.Background(), api, files, sagemaker.TransformOptions{
		Spec: sagemaker.TransformSpec{Model: "rl-model-best", Day: "2026-11-28",
			Input: "s3://b/staged/dt=2026-11-28/input.manifest", Output: "s3://b/predictions/dt=2026-11-28/"},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.Photos, "photos,", *res.Outputs, "outputs")
	// Output:
	// Completed 3 photos, 2 outputs
}
