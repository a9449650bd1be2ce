package apitest_test

import (
	"testing"

	"github.com/reviewlens/reviewlens/internal/testenv"
	"github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/sagemaker/apitest"
	"github.com/reviewlens/reviewlens/sagemaker/sagemakertest"
)

// TestFake holds the scripted fake to the contract: it lacks nothing.
func TestFake(t *testing.T) {
	apitest.Run(t, func(t *testing.T) sagemaker.API { return sagemakertest.New() }, apitest.Capabilities{})
}

// TestMoto holds moto_server, through the SDK's client over HTTP, to the
// contract, less its known gaps (moto 5.2.1; ../shared/spec/sagemaker.md
// §4).
func TestMoto(t *testing.T) {
	endpoint := testenv.S3Endpoint(t)
	client, _, err := sagemaker.NewClient(t.Context(), sagemaker.ClientOptions{Region: testenv.Region, EndpointURL: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	apitest.Run(t, func(t *testing.T) sagemaker.API { return client }, apitest.Capabilities{
		Missing: map[apitest.Capability]string{
			apitest.InProgress:     "moto creates training, transform and tuning jobs already Completed",
			apitest.UniqueNames:    "moto overwrites a training job, transform job or model created twice",
			apitest.Stop:           "moto answers StopTrainingJob, StopTransformJob and StopHyperParameterTuningJob with HTTP 500 (NotImplementedError)",
			apitest.TuningChildren: "moto creates no training jobs for a tuning job and answers ListTrainingJobsForHyperParameterTuningJob with HTTP 500",
			apitest.ModelRequired:  "moto accepts a transform job whose model does not exist",
			apitest.Validation:     "moto accepts names SageMaker refuses",
		},
	})
}
