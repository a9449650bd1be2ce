package sagemakertest

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Limits SageMaker sets on models (from the service model).
const (
	maxModelNameLen   = 63
	maxContainers     = 15
	maxImageLen       = 255
	maxModelEnv       = 100 // entries of a container's Environment
	maxModelEnvLen    = 1024
	maxTags           = 50
	minRoleArnLen     = 20
	maxRoleArnLen     = 2048
	maxS3UriLen       = 1024
	modelNamePattern  = `^[a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?`
	roleArnPattern    = `^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`
	s3UriPattern      = `^(https|s3)://([^/]+)/?(.*)`
	modelEnvKeyRegexp = `^[a-zA-Z_][a-zA-Z0-9_]*`
)

var (
	roleArnRE     = regexp.MustCompile(roleArnPattern + `$`)
	s3UriRE       = regexp.MustCompile(s3UriPattern + `$`)
	modelEnvKeyRE = regexp.MustCompile(modelEnvKeyRegexp + `$`)
	imageRE       = regexp.MustCompile(`^\S+$`)
)

// model is one SageMaker model.
type model struct {
	name, arn string
	in        *sagemaker.CreateModelInput // never changed after creation
	created   time.Time
}

func modelArn(name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:model/%s", Region, Account, name)
}

// modelNotFound is what SageMaker says about a missing model, whether it
// is described or named by a transform job.
func modelNotFound(name string) error {
	return validationError("Could not find model %q.", modelArn(name))
}

// CreateModel creates a model. It checks the request as SageMaker does:
// the name, the role and at least one container with an image. A used
// name gives a ValidationException "Cannot create already existing model
// "<arn>"." (not ResourceInUse, unlike jobs), as SageMaker gives.
func (f *Fake) CreateModel(ctx context.Context, in *sagemaker.CreateModelInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateModelOutput, error) {
	const op = OpCreateModel
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkCreateModel(in); err != nil {
		return nil, operationError(op, err)
	}
	name := *in.ModelName
	if _, ok := f.models[name]; ok {
		return nil, operationError(op, validationError("Cannot create already existing model %q.", modelArn(name)))
	}
	m := f.newModel(cloneModelInput(in))
	f.createdModels = append(f.createdModels, name)
	return &sagemaker.CreateModelOutput{ModelArn: aws.String(m.arn)}, nil
}

// newModel registers a model. in must be a copy the fake owns. f must be
// locked.
func (f *Fake) newModel(in *sagemaker.CreateModelInput) *model {
	name := deref(in.ModelName)
	m := &model{name: name, arn: modelArn(name), in: in, created: f.now()}
	f.models[name] = m
	return m
}

// checkCreateModel validates in as the SDK (required fields) and then
// SageMaker do.
func checkCreateModel(in *sagemaker.CreateModelInput) error {
	if in == nil {
		in = &sagemaker.CreateModelInput{}
	}
	p := newParams("CreateModelInput")
	p.require(in.ModelName == nil, "ModelName")
	if c := in.PrimaryContainer; c != nil {
		p.nested("PrimaryContainer", checkContainerParams(c))
	}
	if in.Containers != nil {
		q := newParams("ContainerDefinitionList")
		for i := range in.Containers {
			q.nested(fmt.Sprintf("[%d]", i), checkContainerParams(&in.Containers[i]))
		}
		p.nested("Containers", q)
	}
	if v := in.VpcConfig; v != nil {
		q := newParams("VpcConfig")
		q.require(v.SecurityGroupIds == nil, "SecurityGroupIds")
		q.require(v.Subnets == nil, "Subnets")
		p.nested("VpcConfig", q)
	}
	if in.Tags != nil {
		p.nested("Tags", checkTagParams(in.Tags))
	}
	if err := p.err(); err != nil {
		return err
	}

	if err := checkModelName(*in.ModelName, "modelName"); err != nil {
		return err
	}
	if r := in.ExecutionRoleArn; r != nil {
		if err := checkRoleArn(*r, "executionRoleArn"); err != nil {
			return err
		}
	}
	if len(in.Containers) > maxContainers {
		return constraint(fmt.Sprint(len(in.Containers)), "containers", fmt.Sprintf("have length less than or equal to %d", maxContainers))
	}
	if c := in.PrimaryContainer; c != nil {
		if err := checkContainer(c, "primaryContainer"); err != nil {
			return err
		}
	}
	for i := range in.Containers {
		if err := checkContainer(&in.Containers[i], fmt.Sprintf("containers.%d.member", i+1)); err != nil {
			return err
		}
	}
	if len(in.Tags) > maxTags {
		return constraint(fmt.Sprint(len(in.Tags)), "tags", fmt.Sprintf("have length less than or equal to %d", maxTags))
	}

	// What SageMaker checks beyond the service model.
	switch {
	case in.PrimaryContainer == nil && len(in.Containers) == 0:
		return validationError("Either PrimaryContainer or Containers must be specified.")
	case in.PrimaryContainer != nil && len(in.Containers) > 0:
		return validationError("Only one of PrimaryContainer or Containers can be specified.")
	case in.ExecutionRoleArn == nil:
		return validationError("ExecutionRoleArn is required for model %s.", *in.ModelName)
	}
	cs := in.Containers
	if in.PrimaryContainer != nil {
		cs = []types.ContainerDefinition{*in.PrimaryContainer}
	}
	for _, c := range cs {
		if c.Image == nil && c.ModelPackageName == nil {
			return validationError("Image must be specified for a container when ModelPackageName is not.")
		}
	}
	return nil
}

// checkContainerParams checks the fields of a container the SDK requires.
func checkContainerParams(c *types.ContainerDefinition) *params {
	p := newParams("ContainerDefinition")
	if c.ImageConfig != nil {
		q := newParams("ImageConfig")
		q.require(c.ImageConfig.RepositoryAccessMode == "", "RepositoryAccessMode")
		p.nested("ImageConfig", q)
	}
	return p
}

func checkTagParams(tags []types.Tag) *params {
	p := newParams("TagList")
	for i, t := range tags {
		q := newParams("Tag")
		q.require(t.Key == nil, "Key")
		q.require(t.Value == nil, "Value")
		p.nested(fmt.Sprintf("[%d]", i), q)
	}
	return p
}

// checkContainer checks a container against the service model's
// constraints; field is its path in the request (primaryContainer).
func checkContainer(c *types.ContainerDefinition, field string) error {
	if c.Image != nil {
		img := *c.Image
		switch {
		case len(img) > maxImageLen:
			return constraint(img, field+".image", fmt.Sprintf("have length less than or equal to %d", maxImageLen))
		case !imageRE.MatchString(img):
			return constraint(img, field+".image", `satisfy regular expression pattern: [\S]+`)
		}
	}
	if u := c.ModelDataUrl; u != nil {
		if err := checkS3Uri(*u, field+".modelDataUrl"); err != nil {
			return err
		}
	}
	if len(c.Environment) > maxModelEnv {
		return constraint(fmt.Sprint(len(c.Environment)), field+".environment", fmt.Sprintf("have length less than or equal to %d", maxModelEnv))
	}
	for _, k := range slices.Sorted(maps.Keys(c.Environment)) {
		v := c.Environment[k]
		switch {
		case len(k) > maxModelEnvLen:
			return constraint(k, field+".environment", fmt.Sprintf("have length less than or equal to %d", maxModelEnvLen))
		case !modelEnvKeyRE.MatchString(k):
			return constraint(k, field+".environment", "satisfy regular expression pattern: "+modelEnvKeyRegexp)
		case len(v) > maxModelEnvLen:
			return constraint(v, field+".environment", fmt.Sprintf("have length less than or equal to %d", maxModelEnvLen))
		}
	}
	return nil
}

// isValidModelName reports whether name matches SageMaker's model-name
// pattern [a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])? — the same names as the
// job-name pattern.
func isValidModelName(name string) bool { return isValidName(name) }

// checkModelName validates a model name as SageMaker does, field being
// the request member in camel case (modelName).
func checkModelName(name, field string) error {
	switch {
	case len(name) > maxModelNameLen:
		return constraint(name, field, fmt.Sprintf("have length less than or equal to %d", maxModelNameLen))
	case !isValidModelName(name):
		return constraint(name, field, "satisfy regular expression pattern: "+modelNamePattern)
	}
	return nil
}

func checkRoleArn(arn, field string) error {
	switch {
	case len(arn) < minRoleArnLen:
		return constraint(arn, field, fmt.Sprintf("have length greater than or equal to %d", minRoleArnLen))
	case len(arn) > maxRoleArnLen:
		return constraint(arn, field, fmt.Sprintf("have length less than or equal to %d", maxRoleArnLen))
	case !roleArnRE.MatchString(arn):
		return constraint(arn, field, "satisfy regular expression pattern: "+roleArnPattern)
	}
	return nil
}

func checkS3Uri(uri, field string) error {
	switch {
	case len(uri) > maxS3UriLen:
		return constraint(uri, field, fmt.Sprintf("have length less than or equal to %d", maxS3UriLen))
	case !s3UriRE.MatchString(uri):
		return constraint(uri, field, "satisfy regular expression pattern: "+s3UriPattern)
	}
	return nil
}

// AddModel registers a model as if it had been created before the test,
// without counting a CreateModel call or checking the input. AddModel
// panics if in has no name or the name is taken.
func (f *Fake) AddModel(in *sagemaker.CreateModelInput) {
	if in == nil || in.ModelName == nil {
		panic("sagemakertest: AddModel: no ModelName")
	}
	f.lock()
	defer f.unlock()
	if _, ok := f.models[*in.ModelName]; ok {
		panic(fmt.Sprintf("sagemakertest: AddModel: model %s exists", *in.ModelName))
	}
	f.newModel(cloneModelInput(in))
}

// Models returns the names of the models created by successful
// CreateModel calls, in order. Models added with AddModel are not listed.
func (f *Fake) Models() []string {
	f.lock()
	defer f.unlock()
	return slices.Clone(f.createdModels)
}

// CreateModelInput returns a copy of the input the model was created (or
// added) with, or nil if there is no such model.
func (f *Fake) CreateModelInput(name string) *sagemaker.CreateModelInput {
	f.lock()
	defer f.unlock()
	m, ok := f.models[name]
	if !ok {
		return nil
	}
	return cloneModelInput(m.in)
}

// DescribeModel echoes what the model was created with. A missing model
// gives a ValidationException "Could not find model "<arn>".".
func (f *Fake) DescribeModel(ctx context.Context, in *sagemaker.DescribeModelInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribeModelOutput, error) {
	const op = OpDescribeModel
	f.lock()
	defer f.unlock()
	if err := f.begin(ctx, op); err != nil {
		return nil, err
	}
	p := newParams("DescribeModelInput")
	p.require(in == nil || in.ModelName == nil, "ModelName")
	if err := p.err(); err != nil {
		return nil, operationError(op, err)
	}
	m, ok := f.models[*in.ModelName]
	if !ok {
		return nil, operationError(op, modelNotFound(*in.ModelName))
	}
	return m.describe(), nil
}

// describe builds the model's DescribeModel output. Nothing in it is
// shared with the fake.
func (m *model) describe() *sagemaker.DescribeModelOutput {
	in := cloneModelInput(m.in)
	isolation := in.EnableNetworkIsolation
	if isolation == nil {
		isolation = aws.Bool(false) // SageMaker reports the default
	}
	return &sagemaker.DescribeModelOutput{
		ModelName:                aws.String(m.name),
		ModelArn:                 aws.String(m.arn),
		CreationTime:             ptr(m.created),
		PrimaryContainer:         in.PrimaryContainer,
		Containers:               in.Containers,
		ExecutionRoleArn:         in.ExecutionRoleArn,
		VpcConfig:                in.VpcConfig,
		EnableNetworkIsolation:   isolation,
		InferenceExecutionConfig: in.InferenceExecutionConfig,
	}
}

// cloneModelInput copies in deeply enough that neither the caller nor the
// fake sees the other change maps, slices or the structures the fake
// echoes. Deeper values are shared and must not be changed.
func cloneModelInput(in *sagemaker.CreateModelInput) *sagemaker.CreateModelInput {
	if in == nil {
		return nil
	}
	c := *in
	c.PrimaryContainer = cloneContainer(in.PrimaryContainer)
	if in.Containers != nil {
		c.Containers = make([]types.ContainerDefinition, len(in.Containers))
		for i := range in.Containers {
			c.Containers[i] = *cloneContainer(&in.Containers[i])
		}
	}
	c.VpcConfig = cloneVpc(in.VpcConfig)
	c.InferenceExecutionConfig = clone(in.InferenceExecutionConfig)
	c.Tags = slices.Clone(in.Tags)
	c.ModelName = clone(in.ModelName)
	c.ExecutionRoleArn = clone(in.ExecutionRoleArn)
	c.EnableNetworkIsolation = clone(in.EnableNetworkIsolation)
	return &c
}

func cloneContainer(c *types.ContainerDefinition) *types.ContainerDefinition {
	c = clone(c)
	if c != nil {
		c.Environment = maps.Clone(c.Environment)
		c.ImageConfig = clone(c.ImageConfig)
		c.Image = clone(c.Image)
		c.ModelDataUrl = clone(c.ModelDataUrl)
		c.ModelDataSource = clone(c.ModelDataSource)
		c.AdditionalModelDataSources = slices.Clone(c.AdditionalModelDataSources)
		c.MultiModelConfig = clone(c.MultiModelConfig)
	}
	return c
}
