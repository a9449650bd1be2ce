package sagemaker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Input formats of the training channels.
const (
	// FormatAugmented trains from augmented manifests in Pipe mode: the
	// photos stay where they are (the manifest step's default output).
	FormatAugmented = "augmented"
	// FormatLst trains from .lst files and photos copied under channel
	// prefixes, in File mode (the manifest step's --lst-prefix).
	FormatLst = "lst"
)

// TrainingSpec is everything that defines a training job of the built-in
// image-classification algorithm except its hyperparameters. The zero
// values of the optional fields are the algorithm's or SageMaker's
// defaults.
type TrainingSpec struct {
	RoleARN string // the execution role SageMaker assumes
	Image   string // training image URI (see ImageURI)

	// InputFormat is FormatAugmented (default) or FormatLst.
	InputFormat string
	// Train and Validation are the channels' data: the augmented manifests
	// (FormatAugmented) or the S3 prefixes of the copied photos (FormatLst).
	Train, Validation string
	// TrainLst and ValidationLst are the .lst files (FormatLst only).
	TrainLst, ValidationLst string
	// LabelAttribute is the label attribute of the augmented manifests;
	// AttributeNames is [source-ref, LabelAttribute].
	LabelAttribute string
	// MultiLabel: the augmented manifests hold lists of class indices.
	MultiLabel bool

	OutputPath    string // S3 prefix of the model artifacts
	InstanceType  string // default ml.p3.2xlarge
	InstanceCount int    // default 1
	VolumeGB      int    // default 50
	MaxRuntime    time.Duration
	// Spot uses managed spot training; MaxWait (at least MaxRuntime)
	// bounds the wait for capacity plus the runtime.
	Spot    bool
	MaxWait time.Duration

	VolumeKMSKey, OutputKMSKey string
	Subnets, SecurityGroups    []string
	NetworkIsolation           bool
	InterContainerEncryption   bool
	CheckpointURI              string
	Tags                       map[string]string
}

// Defaults of TrainingSpec.
const (
	DefaultInstanceType = "ml.p3.2xlarge"
	DefaultVolumeGB     = 50
	DefaultMaxRuntime   = 24 * time.Hour
)

var (
	s3URIPattern   = regexp.MustCompile(`^s3://[^/]+/?.*$`)
	roleARNPattern = regexp.MustCompile(`^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	vpcIDPattern   = regexp.MustCompile(`^[-0-9a-zA-Z]+$`)
	kmsPattern     = regexp.MustCompile(`^[a-zA-Z0-9:/_-]*$`)
	dayPattern     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// withDefaults fills the zero fields.
func (s TrainingSpec) withDefaults() TrainingSpec {
	if s.InputFormat == "" {
		s.InputFormat = FormatAugmented
	}
	if s.InstanceType == "" {
		s.InstanceType = DefaultInstanceType
	}
	if s.InstanceCount == 0 {
		s.InstanceCount = 1
	}
	if s.VolumeGB == 0 {
		s.VolumeGB = DefaultVolumeGB
	}
	if s.MaxRuntime == 0 {
		s.MaxRuntime = DefaultMaxRuntime
	}
	if s.Spot && s.MaxWait == 0 {
		s.MaxWait = 2 * s.MaxRuntime
	}
	return s
}

// Validate checks the spec against SageMaker's documented limits.
func (s TrainingSpec) Validate() error {
	s = s.withDefaults()
	bad := func(field, value, reason string) error { return &SpecError{Field: field, Value: value, Reason: reason} }
	if !roleARNPattern.MatchString(s.RoleARN) {
		return bad("role-arn", s.RoleARN, "want an IAM role ARN, arn:aws:iam::<12 digits>:role/<name>")
	}
	if s.Image == "" || len(s.Image) > 255 {
		return bad("training-image", s.Image, "want an image URI of at most 255 characters")
	}
	uris := map[string]string{"output": s.OutputPath, "train": s.Train, "validation": s.Validation}
	switch s.InputFormat {
	case FormatAugmented:
		if s.LabelAttribute == "" {
			return bad("label-attribute", "", "required for augmented manifests")
		}
	case FormatLst:
		uris["train-lst"], uris["validation-lst"] = s.TrainLst, s.ValidationLst
	default:
		return bad("input-format", s.InputFormat, "want augmented or lst")
	}
	for _, k := range slices.Sorted(maps.Keys(uris)) {
		if v := uris[k]; !s3URIPattern.MatchString(v) || len(v) > 1024 {
			return bad(k, v, "want an s3:// URI of at most 1024 characters")
		}
	}
	if s.CheckpointURI != "" && !s3URIPattern.MatchString(s.CheckpointURI) {
		return bad("checkpoint-uri", s.CheckpointURI, "want an s3:// URI")
	}
	if !slices.Contains(types.TrainingInstanceType("").Values(), types.TrainingInstanceType(s.InstanceType)) {
		return bad("instance-type", s.InstanceType, "not a SageMaker training instance type (e.g. ml.p3.2xlarge, ml.g5.xlarge)")
	}
	if s.InstanceCount < 1 {
		return bad("instance-count", fmt.Sprint(s.InstanceCount), "want at least 1")
	}
	if s.VolumeGB < 1 {
		return bad("volume-gb", fmt.Sprint(s.VolumeGB), "want at least 1")
	}
	if s.MaxRuntime < time.Second || s.MaxRuntime > 28*24*time.Hour {
		return bad("max-runtime", s.MaxRuntime.String(), "want between 1s and 28 days")
	}
	if s.Spot && s.MaxWait < s.MaxRuntime {
		return bad("max-wait", s.MaxWait.String(), "want at least --max-runtime ("+s.MaxRuntime.String()+") with spot training")
	}
	if !s.Spot && s.MaxWait != 0 {
		return bad("max-wait", s.MaxWait.String(), "only with --spot")
	}
	for _, k := range []struct{ name, v string }{{"volume-kms-key", s.VolumeKMSKey}, {"output-kms-key", s.OutputKMSKey}} {
		if len(k.v) > 2048 || !kmsPattern.MatchString(k.v) {
			return bad(k.name, k.v, "want a KMS key id, key ARN, alias/name or alias ARN")
		}
	}
	if (len(s.Subnets) == 0) != (len(s.SecurityGroups) == 0) {
		return bad("subnets", strings.Join(s.Subnets, ","), "subnets and security groups go together")
	}
	if len(s.Subnets) > 16 || len(s.SecurityGroups) > 5 {
		return bad("subnets", strings.Join(s.Subnets, ","), "at most 16 subnets and 5 security groups")
	}
	for _, id := range append(slices.Clone(s.Subnets), s.SecurityGroups...) {
		if len(id) > 32 || !vpcIDPattern.MatchString(id) {
			return bad("subnets", id, "want subnet-... or sg-... ids")
		}
	}
	if len(s.Tags) > 50 {
		return bad("tag", fmt.Sprint(len(s.Tags)), "at most 50 tags")
	}
	tagPattern := regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	for k, v := range s.Tags {
		if k == "" || len(k) > 128 || len(v) > 256 || !tagPattern.MatchString(k) || !tagPattern.MatchString(v) {
			return bad("tag", k+"="+v, "want key (1-128) and value (0-256) of letters, digits, spaces and _.:/=+-@")
		}
	}
	return nil
}

// Request returns the CreateTrainingJob request for job name with the
// given hyperparameters.
func (s TrainingSpec) Request(name string, hp map[string]string) *sagemaker.CreateTrainingJobInput {
	s = s.withDefaults()
	in := &sagemaker.CreateTrainingJobInput{
		TrainingJobName: aws.String(name),
		RoleArn:         aws.String(s.RoleARN),
		AlgorithmSpecification: &types.AlgorithmSpecification{
			TrainingImage: aws.String(s.Image),
		},
		HyperParameters: maps.Clone(hp),
		InputDataConfig: s.channels(),
		OutputDataConfig: &types.OutputDataConfig{
			S3OutputPath: aws.String(s.OutputPath),
		},
		ResourceConfig: &types.ResourceConfig{
			InstanceType:   types.TrainingInstanceType(s.InstanceType),
			InstanceCount:  aws.Int32(int32(s.InstanceCount)),
			VolumeSizeInGB: aws.Int32(int32(s.VolumeGB)),
		},
		StoppingCondition: &types.StoppingCondition{
			MaxRuntimeInSeconds: aws.Int32(int32(s.MaxRuntime / time.Second)),
		},
		EnableNetworkIsolation:                aws.Bool(s.NetworkIsolation),
		EnableInterContainerTrafficEncryption: aws.Bool(s.InterContainerEncryption),
		EnableManagedSpotTraining:             aws.Bool(s.Spot),
	}
	if s.InputFormat == FormatAugmented {
		in.AlgorithmSpecification.TrainingInputMode = types.TrainingInputModePipe
	} else {
		in.AlgorithmSpecification.TrainingInputMode = types.TrainingInputModeFile
	}
	if s.Spot {
		in.StoppingCondition.MaxWaitTimeInSeconds = aws.Int32(int32(s.MaxWait / time.Second))
	}
	if s.OutputKMSKey != "" {
		in.OutputDataConfig.KmsKeyId = aws.String(s.OutputKMSKey)
	}
	if s.VolumeKMSKey != "" {
		in.ResourceConfig.VolumeKmsKeyId = aws.String(s.VolumeKMSKey)
	}
	if len(s.Subnets) > 0 {
		in.VpcConfig = &types.VpcConfig{Subnets: s.Subnets, SecurityGroupIds: s.SecurityGroups}
	}
	if s.CheckpointURI != "" {
		in.CheckpointConfig = &types.CheckpointConfig{S3Uri: aws.String(s.CheckpointURI)}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(s.Tags[k])})
	}
	return in
}

func (s TrainingSpec) channels() []types.Channel {
	if s.InputFormat == FormatLst {
		ch := func(name, uri string) types.Channel {
			return types.Channel{
				ChannelName: aws.String(name),
				ContentType: aws.String("application/x-image"),
				DataSource: &types.DataSource{S3DataSource: &types.S3DataSource{
					S3DataType:             types.S3DataTypeS3Prefix,
					S3Uri:                  aws.String(uri),
					S3DataDistributionType: types.S3DataDistributionFullyReplicated,
				}},
				CompressionType: types.CompressionTypeNone,
			}
		}
		return []types.Channel{ch("train", s.Train), ch("validation", s.Validation), ch("train_lst", s.TrainLst), ch("validation_lst", s.ValidationLst)}
	}
	contentType := "application/x-recordio"
	if s.MultiLabel {
		contentType += "; label-format=class-id"
	}
	ch := func(name, uri string) types.Channel {
		return types.Channel{
			ChannelName: aws.String(name),
			ContentType: aws.String(contentType),
			DataSource: &types.DataSource{S3DataSource: &types.S3DataSource{
				S3DataType:             types.S3DataTypeAugmentedManifestFile,
				S3Uri:                  aws.String(uri),
				S3DataDistributionType: types.S3DataDistributionFullyReplicated,
				AttributeNames:         []string{"source-ref", s.LabelAttribute},
			}},
			CompressionType:   types.CompressionTypeNone,
			RecordWrapperType: types.RecordWrapperRecordio,
			InputMode:         types.TrainingInputModePipe,
		}
	}
	return []types.Channel{ch("train", s.Train), ch("validation", s.Validation)}
}

// requestKey is a canonical text of a request without its name: the input
// of job-name hashes, and what tells one definition from another.
func requestKey(in *sagemaker.CreateTrainingJobInput) string {
	c := *in
	c.TrainingJobName = nil
	return keyOf(c)
}

// keyOf hashes the JSON of v (map keys sorted by encoding/json).
func keyOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain data
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
