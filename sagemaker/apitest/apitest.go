// Package apitest is the contract of sagemaker.API, written once and run
// against every implementation (as Go Cloud's drivertest is for blob
// drivers): the scripted fake in sagemakertest, a moto_server through the
// SDK's client, and the local backend when it comes. It checks what the
// sagemaker package relies on: jobs and models echo their definitions,
// reach an end when looked at, are found by name, are refused under a name
// taken, are stopped, and fail with errors that sagemaker.Classify reads
// as SageMaker's.
//
// A backend that does not do everything SageMaker does says so in
// Capabilities, with a reason: the checks that need what it lacks are
// skipped with that reason, never silently.
//
//	func TestContract(t *testing.T) {
//		apitest.Run(t, func(t *testing.T) sagemaker.API { return sagemakertest.New() }, apitest.Capabilities{})
//	}
package apitest

import (
	"context"
	"crypto/rand"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/sagemaker"
)

// A Capability is something SageMaker does that a backend may not.
type Capability string

// The capabilities the suite checks apart.
const (
	// InProgress: a new job is seen InProgress before it ends (and can be
	// stopped then).
	InProgress Capability = "jobs seen in progress"
	// UniqueNames: a training job, transform job or model cannot be created
	// twice under one name (tuning jobs are always checked).
	UniqueNames Capability = "unique names"
	// Stop: StopTrainingJob, StopTransformJob and
	// StopHyperParameterTuningJob stop a job in progress.
	Stop Capability = "stopping jobs"
	// TuningChildren: a tuning job runs one training job per grid point
	// and lists them (ListTrainingJobsForHyperParameterTuningJob).
	TuningChildren Capability = "tuning jobs run training jobs"
	// ModelRequired: a transform job is refused when its model does not
	// exist.
	ModelRequired Capability = "transform jobs need their model"
	// Validation: names SageMaker refuses (bad characters, too long) are
	// refused.
	Validation Capability = "request validation"
	// Tuning: hyperparameter tuning jobs are run at all.
	Tuning Capability = "tuning jobs"
)

// capabilities lists every Capability.
var capabilities = []Capability{InProgress, UniqueNames, Stop, TuningChildren, ModelRequired, Validation, Tuning}

// Capabilities says how a backend differs from SageMaker. The zero value
// is a backend that does all the suite checks.
type Capabilities struct {
	// Missing maps each capability the backend lacks to why (a version, a
	// known gap); the checks that need it are skipped with that reason.
	Missing map[Capability]string
	// Tick, if set, is called between two looks at a job that has not
	// ended, for a backend whose jobs move with time; nil means jobs move
	// as they are looked at.
	Tick func()
	// MaxLooks bounds the looks at a job before the suite stops waiting
	// for it to end; 0 means 20.
	MaxLooks int
	// Root is the S3 prefix the suite's jobs read from and write to; ""
	// means s3://reviewlens-apitest/. Nothing needs to exist there but
	// for a backend that really runs the jobs: its channels
	// (Root/labels/train.manifest and validation.manifest, ten photos to
	// train on, classes 0 and 1 in attribute "category") and the transform
	// input (the ManifestFile Root/staged/input.manifest).
	Root string
	// Artifact, if set, is called with a model's artifact URI before the
	// suite creates the model, for a backend that really runs transform
	// jobs to put a model there.
	Artifact func(t *testing.T, uri string)
}

// Run runs the contract against the backend newAPI returns; it is called
// once per subtest. Names are unique per run, so a backend that keeps
// state between tests (a moto_server) can be shared.
func Run(t *testing.T, newAPI func(t *testing.T) sagemaker.API, caps Capabilities) {
	for c, why := range caps.Missing {
		if !slices.Contains(capabilities, c) || why == "" {
			t.Fatalf("Capabilities.Missing[%q] = %q: want one of %q, each with a reason", c, why, capabilities)
		}
	}
	if caps.MaxLooks == 0 {
		caps.MaxLooks = 20
	}
	if caps.Root == "" {
		caps.Root = "s3://reviewlens-apitest/"
	}
	s := &suite{caps: caps, newAPI: newAPI, run: "ct" + strings.ToLower(rand.Text()[:8])}
	t.Run("TrainingJob", func(t *testing.T) {
		t.Run("CreateDescribe", s.trainingCreateDescribe)
		t.Run("NotFound", s.trainingNotFound)
		t.Run("NameTaken", s.trainingNameTaken)
		t.Run("Stop", s.trainingStop)
		t.Run("InvalidName", s.trainingInvalidName)
	})
	t.Run("Model", func(t *testing.T) {
		t.Run("CreateDescribe", s.modelCreateDescribe)
		t.Run("NotFound", s.modelNotFound)
		t.Run("NameTaken", s.modelNameTaken)
	})
	t.Run("TransformJob", func(t *testing.T) {
		t.Run("CreateDescribe", s.transformCreateDescribe)
		t.Run("NotFound", s.transformNotFound)
		t.Run("NameTaken", s.transformNameTaken)
		t.Run("MissingModel", s.transformMissingModel)
		t.Run("Stop", s.transformStop)
	})
	t.Run("TuningJob", func(t *testing.T) {
		s.need(t, Tuning)
		t.Run("CreateDescribe", s.tuningCreateDescribe)
		t.Run("TrainingJobs", s.tuningTrainingJobs)
		t.Run("NotFound", s.tuningNotFound)
		t.Run("NameTaken", s.tuningNameTaken)
		t.Run("Stop", s.tuningStop)
	})
	t.Run("Waiter", func(t *testing.T) {
		t.Run("Tuner", s.tuner)
		t.Run("Transformer", s.transformer)
	})
}

type suite struct {
	caps   Capabilities
	newAPI func(t *testing.T) sagemaker.API
	run    string // unique per Run: starts every name
}

// need skips t unless the backend has every capability of cs.
func (s *suite) need(t *testing.T, cs ...Capability) {
	t.Helper()
	for _, c := range cs {
		if why, missing := s.caps.Missing[c]; missing {
			t.Skipf("backend lacks %s: %s", c, why)
		}
	}
}

// name is a job name unique to this run and test.
func (s *suite) name(t *testing.T, kind string) string {
	return s.run + "-" + kind + "-" + strings.ToLower(rand.Text()[:6])
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

const (
	role  = "arn:aws:iam::123456789012:role/reviewlens-apitest"
	image = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
)

func (s *suite) trainingSpec() sagemaker.TrainingSpec {
	return sagemaker.TrainingSpec{
		RoleARN: role, Image: image,
		Train: s.caps.Root + "labels/train.manifest", Validation: s.caps.Root + "labels/validation.manifest",
		LabelAttribute: "category", OutputPath: s.caps.Root + "models/",
		InstanceType: "ml.m5.xlarge", MaxRuntime: time.Hour,
	}
}

func hyperparameters(layers string) map[string]string {
	return map[string]string{"num_classes": "2", "num_training_samples": "10", "num_layers": layers, "epochs": "1"}
}

func (s *suite) trainingRequest(name, layers string) *sm.CreateTrainingJobInput {
	return s.trainingSpec().Request(name, hyperparameters(layers))
}

// is fails t unless err classifies as want.
func is(t *testing.T, what string, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %v", what, want)
	}
	if got := sagemaker.Classify(err); got != want {
		t.Fatalf("%s: %v classified as %v, want %v", what, err, got, want)
	}
}

// ended reports whether a job in status s has ended.
func ended(s string) bool {
	return s == sagemaker.StatusCompleted || s == sagemaker.StatusFailed || s == sagemaker.StatusStopped
}

// await looks at a job until it ends, calling Tick between looks, and
// returns the last status and every status seen.
func (s *suite) await(t *testing.T, look func() (string, error)) (string, []string) {
	t.Helper()
	var seen []string
	for i := 0; i < s.caps.MaxLooks; i++ {
		st, err := look()
		if err != nil {
			t.Fatalf("look %d: %v", i+1, err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if ended(st) {
			return st, seen
		}
		if s.caps.Tick != nil {
			s.caps.Tick()
		}
	}
	t.Fatalf("not ended after %d looks: %v", s.caps.MaxLooks, seen)
	return "", nil
}

func (s *suite) trainingCreateDescribe(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	name := s.name(t, "tr")
	in := s.trainingRequest(name, "18")
	out, err := api.CreateTrainingJob(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(out.TrainingJobArn); !strings.HasSuffix(arn, ":training-job/"+name) {
		t.Errorf("TrainingJobArn = %q, want arn:...:training-job/%s", arn, name)
	}
	d, err := api.DescribeTrainingJob(ctx, &sm.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.TrainingJobName) != name || aws.ToString(d.TrainingJobArn) != aws.ToString(out.TrainingJobArn) || d.CreationTime == nil {
		t.Errorf("describe: name %q, ARN %q, created %v; want %s, the create's ARN and a time", aws.ToString(d.TrainingJobName), aws.ToString(d.TrainingJobArn), d.CreationTime, name)
	}
	if _, ok := s.caps.Missing[InProgress]; !ok && d.TrainingJobStatus != types.TrainingJobStatusInProgress {
		t.Errorf("first status %s, want InProgress", d.TrainingJobStatus)
	}
	// What the tuner compares to find a job of its own definition.
	if !maps.Equal(d.HyperParameters, in.HyperParameters) {
		t.Errorf("HyperParameters = %v, want %v", d.HyperParameters, in.HyperParameters)
	}
	if d.AlgorithmSpecification == nil || aws.ToString(d.AlgorithmSpecification.TrainingImage) != image {
		t.Errorf("AlgorithmSpecification = %+v, want the image %s", d.AlgorithmSpecification, image)
	}
	if got, want := channels(d.InputDataConfig), channels(in.InputDataConfig); !slices.Equal(got, want) {
		t.Errorf("InputDataConfig = %v, want %v", got, want)
	}
	if d.ResourceConfig == nil || d.ResourceConfig.InstanceType != in.ResourceConfig.InstanceType || aws.ToInt32(d.ResourceConfig.InstanceCount) != 1 {
		t.Errorf("ResourceConfig = %+v, want %s × 1", d.ResourceConfig, in.ResourceConfig.InstanceType)
	}
	if d.OutputDataConfig == nil || aws.ToString(d.OutputDataConfig.S3OutputPath) != aws.ToString(in.OutputDataConfig.S3OutputPath) {
		t.Errorf("OutputDataConfig = %+v, want %s", d.OutputDataConfig, aws.ToString(in.OutputDataConfig.S3OutputPath))
	}
	if aws.ToString(d.RoleArn) != role {
		t.Errorf("RoleArn = %q, want %s", aws.ToString(d.RoleArn), role)
	}
	var last *sm.DescribeTrainingJobOutput
	status, seen := s.await(t, func() (string, error) {
		d, err := api.DescribeTrainingJob(ctx, &sm.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
		if err == nil {
			last = d
			if d.SecondaryStatus == "" {
				t.Errorf("status %s without a secondary status", d.TrainingJobStatus)
			}
		}
		return string(d.TrainingJobStatus), err
	})
	if status != sagemaker.StatusCompleted {
		t.Fatalf("statuses %v, reason %q: want Completed", seen, aws.ToString(last.FailureReason))
	}
	want := aws.ToString(in.OutputDataConfig.S3OutputPath) + name + "/output/model.tar.gz"
	if last.ModelArtifacts == nil || aws.ToString(last.ModelArtifacts.S3ModelArtifacts) != want {
		t.Errorf("ModelArtifacts = %+v, want %s", last.ModelArtifacts, want)
	}
	for _, m := range last.FinalMetricDataList {
		if aws.ToString(m.MetricName) == "" || m.Value == nil {
			t.Errorf("metric %+v without a name or value", m)
		}
	}
}

// channels lists a request's channels as name=uri.
func channels(chs []types.Channel) []string {
	var out []string
	for _, c := range chs {
		uri := ""
		if c.DataSource != nil && c.DataSource.S3DataSource != nil {
			uri = aws.ToString(c.DataSource.S3DataSource.S3Uri)
		}
		out = append(out, aws.ToString(c.ChannelName)+"="+uri)
	}
	return out
}

func (s *suite) trainingNotFound(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	_, err := api.DescribeTrainingJob(ctx, &sm.DescribeTrainingJobInput{TrainingJobName: aws.String(s.name(t, "none"))})
	is(t, "describe a missing training job", err, sagemaker.ErrNotFound)
}

func (s *suite) trainingNameTaken(t *testing.T) {
	s.need(t, UniqueNames)
	api, ctx := s.newAPI(t), s.ctx(t)
	name := s.name(t, "tr")
	if _, err := api.CreateTrainingJob(ctx, s.trainingRequest(name, "18")); err != nil {
		t.Fatal(err)
	}
	_, err := api.CreateTrainingJob(ctx, s.trainingRequest(name, "34"))
	is(t, "create a training job twice", err, sagemaker.ErrInUse)
	d, err := api.DescribeTrainingJob(ctx, &sm.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.HyperParameters["num_layers"]; got != "18" {
		t.Errorf("num_layers = %s after a refused create, want the first job's 18", got)
	}
}

func (s *suite) trainingStop(t *testing.T) {
	s.need(t, InProgress, Stop)
	api, ctx := s.newAPI(t), s.ctx(t)
	name := s.name(t, "tr")
	if _, err := api.CreateTrainingJob(ctx, s.trainingRequest(name, "18")); err != nil {
		t.Fatal(err)
	}
	describe := func() (string, error) {
		d, err := api.DescribeTrainingJob(ctx, &sm.DescribeTrainingJobInput{TrainingJobName: aws.String(name)})
		if err != nil {
			return "", err
		}
		return string(d.TrainingJobStatus), nil
	}
	if st, err := describe(); err != nil || st != sagemaker.StatusInProgress {
		t.Fatalf("status %s, %v; want InProgress", st, err)
	}
	if _, err := api.StopTrainingJob(ctx, &sm.StopTrainingJobInput{TrainingJobName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if st, seen := s.await(t, describe); st != sagemaker.StatusStopped {
		t.Errorf("statuses after stop %v, want Stopped", seen)
	}
	if _, err := api.StopTrainingJob(ctx, &sm.StopTrainingJobInput{TrainingJobName: aws.String(name)}); err == nil || sagemaker.Classify(err) == sagemaker.ErrNotFound {
		t.Errorf("stop a stopped job: %v, want an error other than not found", err)
	}
	_, err := api.StopTrainingJob(ctx, &sm.StopTrainingJobInput{TrainingJobName: aws.String(s.name(t, "none"))})
	is(t, "stop a missing training job", err, sagemaker.ErrNotFound)
}

func (s *suite) trainingInvalidName(t *testing.T) {
	s.need(t, Validation)
	api, ctx := s.newAPI(t), s.ctx(t)
	for _, name := range []string{"bad_name", "-leading", "trailing-", strings.Repeat("x", 64)} {
		if _, err := api.CreateTrainingJob(ctx, s.trainingRequest(name, "18")); err == nil {
			t.Errorf("training job %q created, want it refused", name)
		}
	}
}

func (s *suite) modelRequest(name string) *sm.CreateModelInput {
	return &sm.CreateModelInput{
		ModelName:        aws.String(name),
		ExecutionRoleArn: aws.String(role),
		PrimaryContainer: &types.ContainerDefinition{Image: aws.String(image), ModelDataUrl: aws.String(s.caps.Root + "models/" + name + "/output/model.tar.gz")},
	}
}

func (s *suite) modelCreateDescribe(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	name := s.name(t, "m")
	in := s.modelRequest(name)
	out, err := api.CreateModel(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(out.ModelArn); !strings.HasSuffix(arn, ":model/"+name) {
		t.Errorf("ModelArn = %q, want arn:...:model/%s", arn, name)
	}
	d, err := api.DescribeModel(ctx, &sm.DescribeModelInput{ModelName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.ModelName) != name || d.PrimaryContainer == nil ||
		aws.ToString(d.PrimaryContainer.ModelDataUrl) != aws.ToString(in.PrimaryContainer.ModelDataUrl) || aws.ToString(d.PrimaryContainer.Image) != image {
		t.Errorf("describe = %+v, want the model's name, image and artifact", d)
	}
}

func (s *suite) modelNotFound(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	_, err := api.DescribeModel(ctx, &sm.DescribeModelInput{ModelName: aws.String(s.name(t, "none"))})
	is(t, "describe a missing model", err, sagemaker.ErrNotFound)
}

func (s *suite) modelNameTaken(t *testing.T) {
	s.need(t, UniqueNames)
	api, ctx := s.newAPI(t), s.ctx(t)
	name := s.name(t, "m")
	if _, err := api.CreateModel(ctx, s.modelRequest(name)); err != nil {
		t.Fatal(err)
	}
	_, err := api.CreateModel(ctx, s.modelRequest(name))
	is(t, "create a model twice", err, sagemaker.ErrInUse)
}

// transformSpec is a transform job of model over the suite's input.
func (s *suite) transformSpec(model, name string) sagemaker.TransformSpec {
	return sagemaker.TransformSpec{Model: model, Input: s.caps.Root + "staged/input.manifest", Output: s.caps.Root + "predictions/" + name + "/",
		InstanceType: "ml.m5.xlarge"}
}

// newModel creates a model for transform jobs and returns its name.
func (s *suite) newModel(t *testing.T, api sagemaker.API) string {
	t.Helper()
	name := s.name(t, "m")
	in := s.modelRequest(name)
	if s.caps.Artifact != nil {
		s.caps.Artifact(t, aws.ToString(in.PrimaryContainer.ModelDataUrl))
	}
	if _, err := api.CreateModel(s.ctx(t), in); err != nil {
		t.Fatal(err)
	}
	return name
}

func (s *suite) transformCreateDescribe(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	model := s.newModel(t, api)
	name := s.name(t, "tf")
	spec := s.transformSpec(model, name)
	out, err := api.CreateTransformJob(ctx, spec.Request(name))
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(out.TransformJobArn); !strings.HasSuffix(arn, ":transform-job/"+name) {
		t.Errorf("TransformJobArn = %q, want arn:...:transform-job/%s", arn, name)
	}
	var last *sm.DescribeTransformJobOutput
	status, seen := s.await(t, func() (string, error) {
		d, err := api.DescribeTransformJob(ctx, &sm.DescribeTransformJobInput{TransformJobName: aws.String(name)})
		if err != nil {
			return "", err
		}
		last = d
		return string(d.TransformJobStatus), nil
	})
	if _, ok := s.caps.Missing[InProgress]; !ok && seen[0] != sagemaker.StatusInProgress {
		t.Errorf("statuses %v, want InProgress first", seen)
	}
	if status != sagemaker.StatusCompleted {
		t.Fatalf("statuses %v, reason %q: want Completed", seen, aws.ToString(last.FailureReason))
	}
	if aws.ToString(last.FailureReason) != "" {
		t.Errorf("FailureReason %q of a completed job", aws.ToString(last.FailureReason))
	}
	if aws.ToString(last.TransformJobName) != name || aws.ToString(last.ModelName) != model ||
		last.TransformOutput == nil || aws.ToString(last.TransformOutput.S3OutputPath) != spec.Output ||
		last.TransformInput == nil || last.TransformInput.DataSource == nil || last.TransformInput.DataSource.S3DataSource == nil ||
		aws.ToString(last.TransformInput.DataSource.S3DataSource.S3Uri) != spec.Input {
		t.Errorf("describe = %+v, want the job's name, model, input and output", last)
	}
}

func (s *suite) transformNotFound(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	_, err := api.DescribeTransformJob(ctx, &sm.DescribeTransformJobInput{TransformJobName: aws.String(s.name(t, "none"))})
	is(t, "describe a missing transform job", err, sagemaker.ErrNotFound)
}

func (s *suite) transformNameTaken(t *testing.T) {
	s.need(t, UniqueNames)
	api, ctx := s.newAPI(t), s.ctx(t)
	model := s.newModel(t, api)
	name := s.name(t, "tf")
	if _, err := api.CreateTransformJob(ctx, s.transformSpec(model, name).Request(name)); err != nil {
		t.Fatal(err)
	}
	_, err := api.CreateTransformJob(ctx, s.transformSpec(model, name).Request(name))
	is(t, "create a transform job twice", err, sagemaker.ErrInUse)
}

func (s *suite) transformMissingModel(t *testing.T) {
	s.need(t, ModelRequired)
	api, ctx := s.newAPI(t), s.ctx(t)
	name := s.name(t, "tf")
	if _, err := api.CreateTransformJob(ctx, s.transformSpec(s.name(t, "none"), name).Request(name)); err == nil {
		t.Errorf("a transform job of a missing model was created")
	}
}

func (s *suite) transformStop(t *testing.T) {
	s.need(t, InProgress, Stop)
	api, ctx := s.newAPI(t), s.ctx(t)
	model := s.newModel(t, api)
	name := s.name(t, "tf")
	if _, err := api.CreateTransformJob(ctx, s.transformSpec(model, name).Request(name)); err != nil {
		t.Fatal(err)
	}
	describe := func() (string, error) {
		d, err := api.DescribeTransformJob(ctx, &sm.DescribeTransformJobInput{TransformJobName: aws.String(name)})
		if err != nil {
			return "", err
		}
		return string(d.TransformJobStatus), nil
	}
	if st, err := describe(); err != nil || st != sagemaker.StatusInProgress {
		t.Fatalf("status %s, %v; want InProgress", st, err)
	}
	if _, err := api.StopTransformJob(ctx, &sm.StopTransformJobInput{TransformJobName: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if st, seen := s.await(t, describe); st != sagemaker.StatusStopped {
		t.Errorf("statuses after stop %v, want Stopped", seen)
	}
	_, err := api.StopTransformJob(ctx, &sm.StopTransformJobInput{TransformJobName: aws.String(s.name(t, "none"))})
	is(t, "stop a missing transform job", err, sagemaker.ErrNotFound)
}

// tuningJob plans a Grid tuning job of two points under a unique name.
func (s *suite) tuningJob(t *testing.T) *sagemaker.TuningJob {
	t.Helper()
	g, err := sagemaker.ParseGridFlags([]string{"num_layers=18,34"}, []string{"epochs=1"})
	if err != nil {
		t.Fatal(err)
	}
	hpo, err := sagemaker.PlanGrid(s.trainingSpec(), g, map[string]string{"num_classes": "2", "num_training_samples": "10"}, s.run, sagemaker.GridOptions{MaxParallel: 2})
	if err != nil {
		t.Fatal(err)
	}
	name := s.run + "-" + strings.ToLower(rand.Text()[:8]) // ≤ 32
	hpo.Name = name
	hpo.Request.HyperParameterTuningJobName = aws.String(name)
	return hpo
}

// runTuning creates a Grid tuning job and waits for it to end.
func (s *suite) runTuning(t *testing.T, api sagemaker.API) (*sagemaker.TuningJob, *sm.DescribeHyperParameterTuningJobOutput) {
	t.Helper()
	ctx := s.ctx(t)
	hpo := s.tuningJob(t)
	if _, err := api.CreateHyperParameterTuningJob(ctx, hpo.Request); err != nil {
		t.Fatal(err)
	}
	var last *sm.DescribeHyperParameterTuningJobOutput
	status, seen := s.await(t, func() (string, error) {
		d, err := api.DescribeHyperParameterTuningJob(ctx, &sm.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(hpo.Name)})
		if err != nil {
			return "", err
		}
		last = d
		return string(d.HyperParameterTuningJobStatus), nil
	})
	if status != sagemaker.StatusCompleted {
		t.Fatalf("statuses %v, reason %q: want Completed", seen, aws.ToString(last.FailureReason))
	}
	return hpo, last
}

func (s *suite) tuningCreateDescribe(t *testing.T) {
	_, d := s.runTuning(t, s.newAPI(t))
	cfg := d.HyperParameterTuningJobConfig
	if cfg == nil || cfg.Strategy != types.HyperParameterTuningJobStrategyTypeGrid || cfg.ParameterRanges == nil ||
		len(cfg.ParameterRanges.CategoricalParameterRanges) != 1 || !slices.Equal(cfg.ParameterRanges.CategoricalParameterRanges[0].Values, []string{"18", "34"}) {
		t.Errorf("HyperParameterTuningJobConfig = %+v, want the Grid of num_layers 18, 34", cfg)
	}
}

// tuningTrainingJobs: a completed Grid tuning job lists one training job
// per grid point, each with its point's hyperparameters, and a best one.
func (s *suite) tuningTrainingJobs(t *testing.T) {
	s.need(t, TuningChildren)
	api, ctx := s.newAPI(t), s.ctx(t)
	hpo, d := s.runTuning(t, api)
	p := sm.NewListTrainingJobsForHyperParameterTuningJobPaginator(api, &sm.ListTrainingJobsForHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(hpo.Name)})
	var layers []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.TrainingJobSummaries {
			d, err := api.DescribeTrainingJob(ctx, &sm.DescribeTrainingJobInput{TrainingJobName: c.TrainingJobName})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := d.HyperParameters["num_layers"], c.TunedHyperParameters["num_layers"]; got != want {
				t.Errorf("training job %s: num_layers %s, tuned %s", aws.ToString(c.TrainingJobName), got, want)
			}
			layers = append(layers, c.TunedHyperParameters["num_layers"])
		}
	}
	slices.Sort(layers)
	if !slices.Equal(layers, []string{"18", "34"}) {
		t.Errorf("training jobs of the grid: num_layers %v, want 18 and 34", layers)
	}
	if d.BestTrainingJob == nil {
		t.Errorf("no BestTrainingJob")
	}
}

func (s *suite) tuningNotFound(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	_, err := api.DescribeHyperParameterTuningJob(ctx, &sm.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(s.name(t, "n"))})
	is(t, "describe a missing tuning job", err, sagemaker.ErrNotFound)
}

func (s *suite) tuningNameTaken(t *testing.T) {
	api, ctx := s.newAPI(t), s.ctx(t)
	hpo := s.tuningJob(t)
	if _, err := api.CreateHyperParameterTuningJob(ctx, hpo.Request); err != nil {
		t.Fatal(err)
	}
	_, err := api.CreateHyperParameterTuningJob(ctx, hpo.Request)
	is(t, "create a tuning job twice", err, sagemaker.ErrInUse)
}

func (s *suite) tuningStop(t *testing.T) {
	s.need(t, InProgress, Stop)
	api, ctx := s.newAPI(t), s.ctx(t)
	hpo := s.tuningJob(t)
	if _, err := api.CreateHyperParameterTuningJob(ctx, hpo.Request); err != nil {
		t.Fatal(err)
	}
	describe := func() (string, error) {
		d, err := api.DescribeHyperParameterTuningJob(ctx, &sm.DescribeHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(hpo.Name)})
		if err != nil {
			return "", err
		}
		return string(d.HyperParameterTuningJobStatus), nil
	}
	if st, err := describe(); err != nil || st != sagemaker.StatusInProgress {
		t.Fatalf("status %s, %v; want InProgress", st, err)
	}
	if _, err := api.StopHyperParameterTuningJob(ctx, &sm.StopHyperParameterTuningJobInput{HyperParameterTuningJobName: aws.String(hpo.Name)}); err != nil {
		t.Fatal(err)
	}
	if st, seen := s.await(t, describe); st != sagemaker.StatusStopped {
		t.Errorf("statuses after stop %v, want Stopped", seen)
	}
}

// tickClock is the waiter's clock for the suite: no sleeping; a wait is a
// Tick of the backend.
type tickClock struct{ tick func() }

func (c tickClock) Now() time.Time { return time.Now() }
func (c tickClock) Sleep(ctx context.Context, _ time.Duration) error {
	if c.tick != nil {
		c.tick()
	}
	return context.Cause(ctx)
}

// counting counts the calls that create jobs.
type counting struct {
	sagemaker.API
	creates int
}

func (c *counting) CreateTrainingJob(ctx context.Context, in *sm.CreateTrainingJobInput, optFns ...func(*sm.Options)) (*sm.CreateTrainingJobOutput, error) {
	c.creates++
	return c.API.CreateTrainingJob(ctx, in, optFns...)
}

func (c *counting) CreateTransformJob(ctx context.Context, in *sm.CreateTransformJobInput, optFns ...func(*sm.Options)) (*sm.CreateTransformJobOutput, error) {
	c.creates++
	return c.API.CreateTransformJob(ctx, in, optFns...)
}

// tuner: the sagemaker package's Tuner on the backend trains a grid
// point, then, run again, finds the job and creates nothing.
func (s *suite) tuner(t *testing.T) {
	api, ctx := &counting{API: s.newAPI(t)}, s.ctx(t)
	g, err := sagemaker.ParseGridFlags([]string{"num_layers=18"}, []string{"epochs=1"})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := sagemaker.Plan(s.trainingSpec(), g, map[string]string{"num_classes": "2", "num_training_samples": "10"}, s.run+"-"+strings.ToLower(rand.Text()[:6]))
	if err != nil {
		t.Fatal(err)
	}
	tuner := sagemaker.Tuner{API: api, Poll: sagemaker.Polling{Clock: tickClock{s.caps.Tick}}}
	runs, err := tuner.Run(ctx, jobs)
	if err != nil || len(runs) != 1 || runs[0].Status != sagemaker.StatusCompleted || runs[0].ModelArtifact == "" || api.creates != 1 {
		t.Fatalf("runs %+v, %v, %d creates: want one completed run with a model", runs, err, api.creates)
	}
	again, err := tuner.Run(ctx, jobs)
	if err != nil || len(again) != 1 || again[0].JobName != runs[0].JobName || api.creates != 1 {
		t.Errorf("rerun: %+v, %v, %d creates in all; want the job reused", again, err, api.creates)
	}
}

// transformer: the sagemaker package's Transformer on the backend runs a
// transform job, then, run again, reuses it.
func (s *suite) transformer(t *testing.T) {
	api, ctx := &counting{API: s.newAPI(t)}, s.ctx(t)
	model := s.newModel(t, api)
	spec := s.transformSpec(model, s.name(t, "p"))
	tr := sagemaker.Transformer{API: api, Poll: sagemaker.Polling{Clock: tickClock{s.caps.Tick}}}
	run, err := tr.Run(ctx, spec)
	if err != nil || run.Status != sagemaker.StatusCompleted || !run.Created || api.creates != 1 {
		t.Fatalf("run %+v, %v, %d creates: want one completed job", run, err, api.creates)
	}
	again, err := tr.Run(ctx, spec)
	if err != nil || again.Job != run.Job || again.Created || api.creates != 1 {
		t.Errorf("rerun: %+v, %v, %d creates in all; want the job reused", again, err, api.creates)
	}
}
