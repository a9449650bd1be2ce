package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"golang.org/x/sync/errgroup"

	"github.com/reviewlens/reviewlens/inspect"
	"github.com/reviewlens/reviewlens/internal/convnet"
	sm "github.com/reviewlens/reviewlens/sagemaker"
	"github.com/reviewlens/reviewlens/storage"
)

// modelRecord is a model's record: the artifact it serves.
type modelRecord struct {
	Name     string                      `json:"name"`
	Created  time.Time                   `json:"created"`
	Input    *sagemaker.CreateModelInput `json:"input"`
	Artifact string                      `json:"artifact"`
}

// CreateModel records a model; its artifact is read when a transform job
// uses it.
func (c *Client) CreateModel(ctx context.Context, in *sagemaker.CreateModelInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateModelOutput, error) {
	name := aws.ToString(in.ModelName)
	if !sm.ValidName(name, sm.MaxJobNameLen) {
		return nil, validation("1 validation error detected: Value '%s' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
	}
	if in.PrimaryContainer == nil || aws.ToString(in.PrimaryContainer.ModelDataUrl) == "" {
		return nil, validation("PrimaryContainer.ModelDataUrl is required")
	}
	unlock, err := c.st.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var old modelRecord
	if ok, err := c.st.read(kindModel, name, &old); err != nil {
		return nil, err
	} else if ok {
		return nil, modelExists(arn("model", name))
	}
	rec := &modelRecord{Name: name, Created: c.now(), Input: in, Artifact: aws.ToString(in.PrimaryContainer.ModelDataUrl)}
	if err := c.st.write(kindModel, name, rec); err != nil {
		return nil, err
	}
	return &sagemaker.CreateModelOutput{ModelArn: aws.String(arn("model", name))}, nil
}

// DescribeModel reports a model.
func (c *Client) DescribeModel(ctx context.Context, in *sagemaker.DescribeModelInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribeModelOutput, error) {
	var r modelRecord
	ok, err := c.st.read(kindModel, aws.ToString(in.ModelName), &r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound()
	}
	return &sagemaker.DescribeModelOutput{
		ModelName: aws.String(r.Name), ModelArn: aws.String(arn("model", r.Name)), CreationTime: aws.Time(r.Created),
		PrimaryContainer: r.Input.PrimaryContainer, ExecutionRoleArn: r.Input.ExecutionRoleArn,
	}, nil
}

// transformRecord is a transform job's record.
type transformRecord struct {
	jobState
	Input   *sagemaker.CreateTransformJobInput `json:"input"`
	Outputs []string                           `json:"outputs,omitempty"` // written so far, removed if stopped
}

// CreateTransformJob records the job and starts it in this process.
func (c *Client) CreateTransformJob(ctx context.Context, in *sagemaker.CreateTransformJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateTransformJobOutput, error) {
	name := aws.ToString(in.TransformJobName)
	switch {
	case !sm.ValidName(name, sm.MaxJobNameLen):
		return nil, validation("1 validation error detected: Value '%s' at 'transformJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
	case in.TransformInput == nil || in.TransformInput.DataSource == nil || in.TransformInput.DataSource.S3DataSource == nil:
		return nil, validation("TransformInput.DataSource.S3DataSource is required")
	case in.TransformOutput == nil || aws.ToString(in.TransformOutput.S3OutputPath) == "":
		return nil, validation("TransformOutput.S3OutputPath is required")
	}
	unlock, err := c.st.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var model modelRecord
	if ok, err := c.st.read(kindModel, aws.ToString(in.ModelName), &model); err != nil {
		return nil, err
	} else if !ok {
		return nil, validation("Could not find model %q.", arn("model", aws.ToString(in.ModelName)))
	}
	var old transformRecord
	if ok, err := c.st.read(kindTransform, name, &old); err != nil {
		return nil, err
	} else if ok {
		return nil, inUse("Transform job", name, arn("transform-job", name))
	}
	now := c.now()
	rec := &transformRecord{jobState: jobState{Name: name, Status: "InProgress", Created: now, Modified: now, PID: os.Getpid()}, Input: in}
	if err := c.launch(kindTransform, name, rec, func(ctx context.Context) error { return c.runTransform(ctx, name, model.Artifact) }); err != nil {
		return nil, err
	}
	return &sagemaker.CreateTransformJobOutput{TransformJobArn: aws.String(arn("transform-job", name))}, nil
}

// transformBatch is how many photos are classified together.
const transformBatch = 64

// runTransform classifies every input and writes its output.
func (c *Client) runTransform(ctx context.Context, name, artifact string) error {
	var rec transformRecord
	if _, err := c.st.read(kindTransform, name, &rec); err != nil {
		return err
	}
	in := rec.Input
	log := c.openLog(kindTransform, name)
	defer log.Close()
	var written []string
	end := func(status, reason string) error {
		if status == "Stopped" {
			// A stopped transform stores no output.
			for _, o := range written {
				c.opts.Storage.Delete(context.Background(), o)
			}
			written = nil
		}
		_, err := update(c, kindTransform, name, func(r *transformRecord) {
			r.Status, r.FailureReason = status, reason
			t := c.now()
			r.Ended, r.Modified, r.Outputs = &t, t, written
		})
		return err
	}
	fail := func(err error) error {
		if ctx.Err() != nil {
			return end("Stopped", "")
		}
		log.Logf("%v", err)
		return end("Failed", clipReason(err.Error()))
	}
	select {
	case c.compute <- struct{}{}:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	defer func() { <-c.compute }()
	start := c.now()
	if _, err := update(c, kindTransform, name, func(r *transformRecord) { r.Started, r.Modified = &start, start }); err != nil {
		return err
	}
	data, err := c.opts.Storage.ReadFile(ctx, artifact)
	if err != nil {
		return fail(fmt.Errorf("ClientError: read the model artifact %s: %v", artifact, err))
	}
	model, err := c.engine.Load(ctx, data)
	if err != nil {
		return fail(fmt.Errorf("ClientError: load the model %s: %v", artifact, err))
	}
	inputs, prefix, err := c.transformInputs(ctx, in.TransformInput.DataSource.S3DataSource)
	if err != nil {
		return fail(err)
	}
	out := strings.TrimSuffix(aws.ToString(in.TransformOutput.S3OutputPath), "/") + "/"
	log.Logf("transform %s: %d inputs under %s", name, len(inputs), prefix)
	var failures []string
	for from := 0; from < len(inputs); from += transformBatch {
		keys := inputs[from:min(from+transformBatch, len(inputs))]
		imgs := make([]image.Image, len(keys))
		bad := make([]error, len(keys))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16)
		for i, k := range keys {
			g.Go(func() error {
				b, err := c.opts.Storage.ReadFile(gctx, prefix+k)
				if err != nil {
					if errors.Is(err, storage.ErrNotExist) {
						bad[i] = err
						return nil
					}
					return err
				}
				img, _, err := convnet.DecodeBytes(b, convnet.DecodeOptions{})
				if err != nil {
					bad[i] = err
					return nil
				}
				imgs[i] = img
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return fail(fmt.Errorf("ClientError: %v", err))
		}
		var ok []image.Image
		var okKeys []string
		for i, k := range keys {
			if bad[i] != nil {
				failures = append(failures, fmt.Sprintf("%s: %v", k, bad[i]))
				continue
			}
			ok = append(ok, imgs[i])
			okKeys = append(okKeys, k)
		}
		if len(ok) == 0 {
			continue
		}
		preds, err := model.Classify(ctx, ok)
		if err != nil {
			return fail(err)
		}
		for i, k := range okKeys {
			body, _ := json.Marshal(struct {
				Prediction []float64 `json:"prediction"`
			}{preds[i]})
			uri := out + k + ".out"
			if err := c.opts.Storage.WriteFile(ctx, uri, append(body, '\n')); err != nil {
				return fail(fmt.Errorf("ClientError: write %s: %v", uri, err))
			}
			written = append(written, uri)
		}
		log.Logf("transform %s: %d of %d photos", name, min(from+transformBatch, len(inputs)), len(inputs))
	}
	if len(failures) > 0 {
		reason := fmt.Sprintf("ClientError: %d of %d inputs could not be classified (the image could not be decoded), first: %s", len(failures), len(inputs), failures[0])
		log.Logf("%s", reason)
		return end("Failed", clipReason(reason))
	}
	return end("Completed", "")
}

// transformInputs lists a transform job's inputs: the keys of its
// ManifestFile, relative to the manifest's prefix, or the objects under
// its S3Prefix.
func (c *Client) transformInputs(ctx context.Context, src *types.TransformS3DataSource) (keys []string, prefix string, err error) {
	uri := aws.ToString(src.S3Uri)
	switch src.S3DataType {
	case types.S3DataTypeManifestFile:
		data, err := c.opts.Storage.ReadFile(ctx, uri)
		if err != nil {
			return nil, "", fmt.Errorf("ClientError: read the manifest %s: %v", uri, err)
		}
		prefix, keys, err := inspect.ReadTransformManifest(bytes.NewReader(data))
		if err == nil && prefix == "" {
			err = errors.New(`the prefix is empty, want {"prefix": "s3://bucket/prefix/"} first`)
		}
		if err != nil {
			return nil, "", fmt.Errorf("ClientError: %s: %v", uri, err)
		}
		return keys, prefix, nil
	case types.S3DataTypeS3Prefix:
		for o, err := range c.opts.Storage.List(ctx, uri) {
			if err != nil {
				return nil, "", fmt.Errorf("ClientError: list %s: %v", uri, err)
			}
			keys = append(keys, strings.TrimPrefix(o.URI, uri))
		}
		return keys, uri, nil
	}
	return nil, "", fmt.Errorf("ClientError: S3DataType %s, want ManifestFile or S3Prefix", src.S3DataType)
}

// DescribeTransformJob reports a job; one whose process died is Failed,
// "interrupted".
func (c *Client) DescribeTransformJob(ctx context.Context, in *sagemaker.DescribeTransformJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribeTransformJobOutput, error) {
	name := aws.ToString(in.TransformJobName)
	unlock, err := c.st.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var r transformRecord
	ok, err := c.st.read(kindTransform, name, &r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound()
	}
	if !r.terminal() && !c.st.alive(kindTransform, name) {
		t := c.now()
		if r.Status == "Stopping" {
			r.Status = "Stopped"
		} else {
			r.Status, r.FailureReason = "Failed", "interrupted: the process running the job ended before it did"
		}
		r.Ended, r.Modified = &t, t
		if err := c.st.write(kindTransform, name, &r); err != nil {
			return nil, err
		}
	}
	in2 := r.Input
	out := &sagemaker.DescribeTransformJobOutput{
		TransformJobName: aws.String(r.Name), TransformJobArn: aws.String(arn("transform-job", r.Name)),
		TransformJobStatus: types.TransformJobStatus(r.Status), CreationTime: aws.Time(r.Created),
		TransformStartTime: r.Started, TransformEndTime: r.Ended, ModelName: in2.ModelName,
		TransformInput: in2.TransformInput, TransformOutput: in2.TransformOutput, TransformResources: in2.TransformResources,
		MaxPayloadInMB: in2.MaxPayloadInMB, MaxConcurrentTransforms: in2.MaxConcurrentTransforms, BatchStrategy: in2.BatchStrategy,
		Environment: in2.Environment, ModelClientConfig: in2.ModelClientConfig,
	}
	if r.FailureReason != "" {
		out.FailureReason = aws.String(r.FailureReason)
	}
	return out, nil
}

// StopTransformJob stops a job: Stopping, then Stopped, with its outputs
// removed.
func (c *Client) StopTransformJob(ctx context.Context, in *sagemaker.StopTransformJobInput, _ ...func(*sagemaker.Options)) (*sagemaker.StopTransformJobOutput, error) {
	name := aws.ToString(in.TransformJobName)
	var terminal string
	r, err := update(c, kindTransform, name, func(r *transformRecord) {
		switch {
		case r.terminal():
			terminal = r.Status
		case !c.st.alive(kindTransform, name):
			t := c.now()
			r.Status, r.Ended, r.Modified = "Stopped", &t, t
		default:
			r.Status, r.StopRequested, r.Modified = "Stopping", true, c.now()
		}
	})
	if err != nil {
		return nil, err
	}
	if terminal != "" {
		return nil, validation("The request was rejected because the transform job is in status %s.", terminal)
	}
	if r.Status == "Stopping" {
		c.cancel(kindTransform, name)
	}
	return &sagemaker.StopTransformJobOutput{}, nil
}
