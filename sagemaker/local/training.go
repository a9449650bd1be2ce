package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/reviewlens/reviewlens/internal/convnet"
	sm "github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// trainingRecord is a training job's record.
type trainingRecord struct {
	jobState
	Input         *sagemaker.CreateTrainingJobInput `json:"input"`
	TrainAccuracy *float64                          `json:"train_accuracy,omitempty"`
	ValAccuracy   *float64                          `json:"validation_accuracy,omitempty"`
	Artifact      string                            `json:"artifact"`
	TrainSeconds  int32                             `json:"train_seconds,omitempty"`
}

// CreateTrainingJob records the job and starts it in this process.
func (c *Client) CreateTrainingJob(ctx context.Context, in *sagemaker.CreateTrainingJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateTrainingJobOutput, error) {
	name := aws.ToString(in.TrainingJobName)
	switch {
	case !sm.ValidName(name, sm.MaxJobNameLen):
		return nil, validation("1 validation error detected: Value '%s' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
	case in.OutputDataConfig == nil || aws.ToString(in.OutputDataConfig.S3OutputPath) == "":
		return nil, validation("OutputDataConfig.S3OutputPath is required")
	case len(in.InputDataConfig) == 0:
		return nil, validation("InputDataConfig: the built-in image-classification algorithm needs a train channel")
	}
	if _, _, err := convnet.ParseHyperparameters(in.HyperParameters); err != nil {
		return nil, validation("HyperParameters: %v", err)
	}
	unlock, err := c.st.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var old trainingRecord
	if ok, err := c.st.read(kindTraining, name, &old); err != nil {
		return nil, err
	} else if ok {
		return nil, inUse("Training job", name, arn("training-job", name))
	}
	now := c.now()
	rec := &trainingRecord{jobState: jobState{Name: name, Status: "InProgress", Created: now, Modified: now, PID: os.Getpid()}, Input: in}
	rec.Artifact = strings.TrimSuffix(aws.ToString(in.OutputDataConfig.S3OutputPath), "/") + "/" + name + "/output/model.tar.gz"
	rec.enter("Starting", "Preparing the instances for training", now)
	if err := c.launch(kindTraining, name, rec, func(ctx context.Context) error { return c.runTraining(ctx, name) }); err != nil {
		return nil, err
	}
	return &sagemaker.CreateTrainingJobOutput{TrainingJobArn: aws.String(arn("training-job", name))}, nil
}

// jobLog writes a job's log lines to its log file and the client's log.
type jobLog struct {
	f    *os.File
	c    *Client
	name string
}

func (c *Client) openLog(kind, name string) *jobLog {
	p := c.st.logPath(kind, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	f, _ := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	return &jobLog{f: f, c: c, name: name}
}

func (l *jobLog) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if l.f != nil {
		fmt.Fprintf(l.f, "%s %s\n", l.c.now().Format(time.RFC3339Nano), line)
	}
	// The lines are the job's log: a step shows them with --logs
	// (Client.Logs), as it shows a SageMaker job's.
	l.c.log.Debug(line, "job", l.name)
}

func (l *jobLog) Close() {
	if l.f != nil {
		l.f.Close()
	}
}

// runTraining runs a training job to its end.
func (c *Client) runTraining(ctx context.Context, name string) error {
	var rec trainingRecord
	if _, err := c.st.read(kindTraining, name, &rec); err != nil {
		return err
	}
	in := rec.Input
	log := c.openLog(kindTraining, name)
	defer log.Close()
	if s := in.StoppingCondition; s != nil && aws.ToInt32(s.MaxRuntimeInSeconds) > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, time.Duration(aws.ToInt32(s.MaxRuntimeInSeconds))*time.Second, errMaxRuntime)
		defer cancel()
	}
	end := func(status, secondary, reason string) error {
		_, err := update(c, kindTraining, name, func(r *trainingRecord) {
			r.finish(status, reason, c.now())
			if secondary != status {
				r.Secondary = secondary
				r.Transitions[len(r.Transitions)-1].Status = secondary
			}
		})
		return err
	}
	failed := func(err error) error {
		if ctx.Err() != nil {
			if errors.Is(context.Cause(ctx), errMaxRuntime) {
				return end("Stopped", "MaxRuntimeExceeded", "")
			}
			return end("Stopped", "Stopped", "")
		}
		reason := err.Error()
		if !strings.HasPrefix(reason, "ClientError") && !strings.HasPrefix(reason, "AlgorithmError") {
			reason = "AlgorithmError: " + reason
		}
		log.Logf("%s", reason)
		return end("Failed", "Failed", clipReason(reason))
	}

	// One job at a time uses the cores.
	select {
	case c.compute <- struct{}{}:
	case <-ctx.Done():
		return failed(ctx.Err())
	}
	defer func() { <-c.compute }()

	start := c.now()
	if _, err := update(c, kindTraining, name, func(r *trainingRecord) {
		r.Started = &start
		r.enter("Downloading", "Downloading input data", start)
	}); err != nil {
		return err
	}
	train, val, err := c.readChannels(ctx, in.InputDataConfig, log)
	if err != nil {
		return failed(err)
	}
	if _, err := update(c, kindTraining, name, func(r *trainingRecord) {
		r.enter("Training", "Training image download completed. Training in progress.", c.now())
	}); err != nil {
		return err
	}
	ti := TrainInput{Hyperparameters: in.HyperParameters, Train: train, Logf: log.Logf}
	if val != nil {
		ti.Validation = val
	}
	out, err := c.engine.Train(ctx, ti)
	if err != nil {
		return failed(err)
	}
	for _, w := range out.Warnings {
		log.Logf("warning: %s", w)
	}
	trained := c.now()
	if _, err := update(c, kindTraining, name, func(r *trainingRecord) {
		r.enter("Uploading", "Uploading generated training model", trained)
	}); err != nil {
		return err
	}
	if err := c.opts.Storage.WriteFile(ctx, rec.Artifact, out.Artifact); err != nil {
		return failed(fmt.Errorf("ClientError: write the model artifact %s: %v", rec.Artifact, err))
	}
	_, err = update(c, kindTraining, name, func(r *trainingRecord) {
		ta, va := out.TrainAccuracy, out.ValidationAccuracy
		r.TrainAccuracy = &ta
		if !math.IsNaN(va) {
			r.ValAccuracy = &va
		}
		r.TrainSeconds = int32(max(1, math.Round(trained.Sub(start).Seconds())))
		r.finish("Completed", "", c.now())
	})
	log.Logf("training job %s completed: train:accuracy %.4f, validation:accuracy %.4f", name, out.TrainAccuracy, out.ValidationAccuracy)
	return err
}

var errMaxRuntime = errors.New("MaxRuntimeInSeconds passed")

// clipReason keeps a failure reason within SageMaker's 1,024 characters.
func clipReason(s string) string {
	if len(s) <= 1024 {
		return s
	}
	return s[:1021] + "..."
}

// readChannels reads the train and validation channels: augmented
// manifests (S3DataType AugmentedManifestFile), or image prefixes with
// their .lst files (channels train, validation, train_lst,
// validation_lst), and decodes their photos.
func (c *Client) readChannels(ctx context.Context, channels []types.Channel, log *jobLog) (train, val *photoList, err error) {
	byName := map[string]types.Channel{}
	for _, ch := range channels {
		byName[aws.ToString(ch.ChannelName)] = ch
	}
	read := func(channel string) (*photoList, error) {
		ch, ok := byName[channel]
		if !ok {
			return nil, nil
		}
		src := ch.DataSource
		if src == nil || src.S3DataSource == nil {
			return nil, fmt.Errorf("ClientError: channel %s has no S3 data source", channel)
		}
		uri := aws.ToString(src.S3DataSource.S3Uri)
		var refs []photoRef
		switch src.S3DataSource.S3DataType {
		case types.S3DataTypeAugmentedManifestFile:
			attrs := src.S3DataSource.AttributeNames
			if len(attrs) != 2 {
				return nil, fmt.Errorf("ClientError: channel %s: AttributeNames %v, want the image attribute then the label", channel, attrs)
			}
			refs, err = c.readAugmented(ctx, uri, attrs[0], attrs[1])
		case types.S3DataTypeS3Prefix:
			lst, ok := byName[channel+"_lst"]
			if !ok || lst.DataSource == nil || lst.DataSource.S3DataSource == nil {
				return nil, fmt.Errorf("ClientError: channel %s is an image prefix: a %s_lst channel with its .lst file is needed", channel, channel)
			}
			refs, err = c.readLst(ctx, aws.ToString(lst.DataSource.S3DataSource.S3Uri), uri)
		default:
			return nil, fmt.Errorf("ClientError: channel %s: S3DataType %s, want AugmentedManifestFile or S3Prefix", channel, src.S3DataSource.S3DataType)
		}
		if err != nil {
			return nil, err
		}
		log.Logf("channel %s: %d photos from %s", channel, len(refs), uri)
		return &photoList{c: c, channel: channel, refs: refs}, nil
	}
	if train, err = read("train"); err != nil {
		return nil, nil, err
	}
	if train == nil || train.Len() == 0 {
		return nil, nil, errors.New("ClientError: no photo in the train channel")
	}
	if val, err = read("validation"); err != nil {
		return nil, nil, err
	}
	return train, val, nil
}

// photoRef is a labelled photo to load.
type photoRef struct {
	uri   string
	label int
	line  int
}

// readAugmented reads an augmented manifest: JSON lines with the image
// attribute (an s3:// URI, or a path) and the label attribute (a class
// index, as a number or a digit string).
func (c *Client) readAugmented(ctx context.Context, uri, imageAttr, labelAttr string) ([]photoRef, error) {
	data, err := c.opts.Storage.ReadFile(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("ClientError: Data download failed: %v", err)
	}
	var refs []photoRef
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("ClientError: %s line %d: %v", uri, n, err)
		}
		var ref string
		if err := json.Unmarshal(m[imageAttr], &ref); err != nil || ref == "" {
			return nil, fmt.Errorf("ClientError: %s line %d: no %s (check AttributeNames matches the attribute names in the augmented manifest)", uri, n, imageAttr)
		}
		label, err := classIndex(m[labelAttr])
		if err != nil {
			return nil, fmt.Errorf("ClientError: %s line %d: %s: %v", uri, n, labelAttr, err)
		}
		refs = append(refs, photoRef{uri: ref, label: label, line: n})
	}
	return refs, sc.Err()
}

// classIndex reads a label: 3 or "3" (3.0 too, as im2rec writes).
func classIndex(raw json.RawMessage) (int, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if s == "" || s == "null" {
		return 0, errors.New("missing")
	}
	if strings.HasPrefix(s, "[") {
		return 0, errors.New("a multi-label list: the local backend trains single-label classifiers")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f != math.Trunc(f) {
		return 0, fmt.Errorf("%s is not a class index", s)
	}
	return int(f), nil
}

// readLst reads a .lst file (index, label, path relative to the channel
// prefix, tab-separated) from the one object under lstPrefix.
func (c *Client) readLst(ctx context.Context, lstPrefix, imagePrefix string) ([]photoRef, error) {
	var lst string
	for o, err := range c.opts.Storage.List(ctx, lstPrefix) {
		if err != nil {
			return nil, fmt.Errorf("ClientError: Data download failed: %v", err)
		}
		if strings.HasSuffix(o.URI, ".lst") {
			if lst != "" {
				return nil, fmt.Errorf("ClientError: more than one .lst file under %s", lstPrefix)
			}
			lst = o.URI
		}
	}
	if lst == "" {
		return nil, fmt.Errorf("ClientError: no .lst file under %s", lstPrefix)
	}
	data, err := c.opts.Storage.ReadFile(ctx, lst)
	if err != nil {
		return nil, fmt.Errorf("ClientError: Data download failed: %v", err)
	}
	var refs []photoRef
	for n, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		if len(f) < 3 {
			return nil, fmt.Errorf("ClientError: %s line %d: want index, label and path separated by tabs", lst, n+1)
		}
		label, err := classIndex(json.RawMessage(f[1]))
		if err != nil {
			return nil, fmt.Errorf("ClientError: %s line %d: %v", lst, n+1, err)
		}
		refs = append(refs, photoRef{uri: storage.Join(imagePrefix, f[len(f)-1]), label: label, line: n + 1})
	}
	return refs, nil
}

// photoList is a channel's photos, read through the client's storage
// and decoded (guarded against decompression bombs) when loaded.
type photoList struct {
	c       *Client
	channel string
	refs    []photoRef
}

func (p *photoList) Len() int { return len(p.refs) }

func (p *photoList) Load(ctx context.Context, i int) (image.Image, int, error) {
	r := p.refs[i]
	data, err := p.c.opts.Storage.ReadFile(ctx, r.uri)
	if err != nil {
		return nil, 0, fmt.Errorf("ClientError: Data download failed: channel %s line %d: %v", p.channel, r.line, err)
	}
	img, _, err := convnet.DecodeBytes(data, convnet.DecodeOptions{})
	if err != nil {
		return nil, 0, fmt.Errorf("ClientError: channel %s line %d: %s: %v", p.channel, r.line, r.uri, err)
	}
	return img, r.label, nil
}

// DescribeTrainingJob reports a job; one whose process died is Failed,
// "interrupted".
func (c *Client) DescribeTrainingJob(ctx context.Context, in *sagemaker.DescribeTrainingJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribeTrainingJobOutput, error) {
	name := aws.ToString(in.TrainingJobName)
	unlock, err := c.st.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var r trainingRecord
	ok, err := c.st.read(kindTraining, name, &r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound()
	}
	if !r.terminal() && !c.st.alive(kindTraining, name) {
		if r.Status == "Stopping" {
			r.finish("Stopped", "", c.now())
		} else {
			r.finish("Failed", "interrupted: the process running the job ended before it did", c.now())
		}
		if err := c.st.write(kindTraining, name, &r); err != nil {
			return nil, err
		}
	}
	return r.describe(), nil
}

func (r *trainingRecord) describe() *sagemaker.DescribeTrainingJobOutput {
	in := r.Input
	out := &sagemaker.DescribeTrainingJobOutput{
		TrainingJobName:        aws.String(r.Name),
		TrainingJobArn:         aws.String(arn("training-job", r.Name)),
		TrainingJobStatus:      types.TrainingJobStatus(r.Status),
		SecondaryStatus:        types.SecondaryStatus(r.Secondary),
		CreationTime:           aws.Time(r.Created),
		LastModifiedTime:       aws.Time(r.Modified),
		TrainingStartTime:      r.Started,
		TrainingEndTime:        r.Ended,
		ModelArtifacts:         &types.ModelArtifacts{S3ModelArtifacts: aws.String(r.Artifact)},
		AlgorithmSpecification: in.AlgorithmSpecification,
		HyperParameters:        in.HyperParameters,
		InputDataConfig:        in.InputDataConfig,
		OutputDataConfig:       in.OutputDataConfig,
		ResourceConfig:         in.ResourceConfig,
		RoleArn:                in.RoleArn,
		StoppingCondition:      in.StoppingCondition,
	}
	if r.FailureReason != "" {
		out.FailureReason = aws.String(r.FailureReason)
	}
	if r.TrainSeconds > 0 {
		out.TrainingTimeInSeconds = aws.Int32(r.TrainSeconds)
		out.BillableTimeInSeconds = aws.Int32(r.TrainSeconds)
	}
	for _, t := range r.Transitions {
		st := types.SecondaryStatusTransition{Status: types.SecondaryStatus(t.Status), StartTime: aws.Time(t.Start), EndTime: t.End}
		if t.Message != "" {
			st.StatusMessage = aws.String(t.Message)
		}
		out.SecondaryStatusTransitions = append(out.SecondaryStatusTransitions, st)
	}
	if r.Status == "Completed" && r.Ended != nil {
		if r.TrainAccuracy != nil {
			out.FinalMetricDataList = append(out.FinalMetricDataList, types.MetricData{MetricName: aws.String("train:accuracy"), Value: aws.Float32(float32(*r.TrainAccuracy)), Timestamp: r.Ended})
		}
		if r.ValAccuracy != nil {
			out.FinalMetricDataList = append(out.FinalMetricDataList, types.MetricData{MetricName: aws.String("validation:accuracy"), Value: aws.Float32(float32(*r.ValAccuracy)), Timestamp: r.Ended})
		}
	}
	return out
}

// StopTrainingJob stops a job: Stopping, then Stopped once it has.
func (c *Client) StopTrainingJob(ctx context.Context, in *sagemaker.StopTrainingJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.StopTrainingJobOutput, error) {
	name := aws.ToString(in.TrainingJobName)
	var terminal string
	r, err := update(c, kindTraining, name, func(r *trainingRecord) {
		switch {
		case r.terminal():
			terminal = r.Status
		case !c.st.alive(kindTraining, name):
			r.finish("Stopped", "", c.now())
		default:
			r.Status, r.StopRequested = "Stopping", true
			r.enter("Stopping", "Stopping the training job", c.now())
		}
	})
	if err != nil {
		return nil, err
	}
	if terminal != "" {
		return nil, validation("The request was rejected because the training job is in status %s.", terminal)
	}
	if r.Status == "Stopping" && !c.cancel(kindTraining, name) {
		// Run by another process sharing the root: it sees the request
		// when it next writes the record.
		c.log.Info("stop requested of a job another process runs", "job", name)
	}
	return &sagemaker.StopTrainingJobOutput{}, nil
}
