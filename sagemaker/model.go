package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

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
			return &MismatchError{Kind: "model", Job: name, What: "model artifact " + aws.ToString(d.PrimaryContainer.ModelDataUrl)}
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
