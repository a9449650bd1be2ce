package local

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math"

	"github.com/reviewlens/reviewlens/internal/convnet"
)

// An Engine trains classifiers and loads them back to classify photos:
// the part of a training or transform job that is machine learning. The
// default, ConvNet, is a small convolutional network in pure Go; tests
// may pass a trivial one.
type Engine interface {
	// Train fits a classifier to the train photos, with the job's
	// hyperparameters as SageMaker passes them (strings), and returns the
	// model artifact and the final accuracies. It stops with ctx's error
	// when ctx is done.
	Train(ctx context.Context, in TrainInput) (*TrainOutput, error)
	// Load reads a model artifact (model.tar.gz) back.
	Load(ctx context.Context, artifact []byte) (Classifier, error)
}

// TrainInput is a training job's data.
type TrainInput struct {
	Hyperparameters map[string]string
	// Train and Validation are the channels' photos; Validation may be
	// empty.
	Train, Validation Photos
	// Logf writes a line to the job's log (epochs and their accuracy, as
	// the built-in algorithm logs them).
	Logf func(format string, args ...any)
}

// Photos are a channel's labelled photos, read and decoded on demand so
// that a large channel is never held decoded whole.
type Photos interface {
	Len() int
	// Load reads and decodes photo i, and returns its label.
	Load(ctx context.Context, i int) (image.Image, int, error)
}

// TrainOutput is what a training job made.
type TrainOutput struct {
	// Artifact is model.tar.gz, whole.
	Artifact []byte
	// TrainAccuracy and ValidationAccuracy are the final metrics
	// train:accuracy and validation:accuracy (validation: NaN without
	// validation photos).
	TrainAccuracy, ValidationAccuracy float64
	Warnings                          []string
}

// A Classifier classifies decoded photos.
type Classifier interface {
	// NumClasses is the length of every prediction.
	NumClasses() int
	// Classify returns each photo's class probabilities, in order.
	Classify(ctx context.Context, imgs []image.Image) ([][]float64, error)
}

// ConvNet is the default Engine: the convolutional network of package
// internal/convnet, trained by mini-batch SGD on every core. The photos
// are scaled to image_shape as they are read, so a channel takes about
// 12 KB a photo at 3,32,32.
type ConvNet struct {
	// Seed makes training repeatable; 0 is a seed like any other.
	Seed int64
}

// Train fits the network to in.Train.
func (e ConvNet) Train(ctx context.Context, in TrainInput) (*TrainOutput, error) {
	h, warnings, err := convnet.ParseHyperparameters(in.Hyperparameters)
	if err != nil {
		return nil, fmt.Errorf("ClientError: %w", err)
	}
	fill := func(channel string, p Photos) (*convnet.Dataset, error) {
		if p == nil || p.Len() == 0 {
			return nil, nil
		}
		d := convnet.NewDataset(h.ImageShape, h.Resize, p.Len())
		if err := d.Fill(ctx, 0, func(i int) (image.Image, int, error) { return p.Load(ctx, i) }); err != nil {
			return nil, err
		}
		in.Logf("channel %s: %d photos scaled to %s", channel, p.Len(), h.ImageShape)
		return d, nil
	}
	train, err := fill("train", in.Train)
	if err != nil {
		return nil, err
	}
	val, err := fill("validation", in.Validation)
	if err != nil {
		return nil, err
	}
	if train == nil {
		return nil, fmt.Errorf("ClientError: no photo in the train channel")
	}
	if h.NumTrainingSamples != train.Len() {
		return nil, fmt.Errorf("ClientError: num_training_samples is %d but the train channel has %d photos", h.NumTrainingSamples, train.Len())
	}
	model, res, err := convnet.Train(ctx, h, train, val, convnet.TrainOptions{
		Seed: e.Seed,
		Log:  func(line string) { in.Logf("%s", line) },
	})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := model.Save(&buf); err != nil {
		return nil, err
	}
	va := res.ValidationAccuracy
	if val == nil {
		va = math.NaN()
	}
	return &TrainOutput{Artifact: buf.Bytes(), TrainAccuracy: res.TrainAccuracy, ValidationAccuracy: va, Warnings: append(warnings, res.Warnings...)}, nil
}

// Load reads a model.tar.gz that Train wrote.
func (ConvNet) Load(_ context.Context, artifact []byte) (Classifier, error) {
	m, err := convnet.Load(bytes.NewReader(artifact))
	if err != nil {
		return nil, err
	}
	return convClassifier{m}, nil
}

type convClassifier struct{ m *convnet.Model }

func (c convClassifier) NumClasses() int { return c.m.NumClasses() }

func (c convClassifier) Classify(ctx context.Context, imgs []image.Image) ([][]float64, error) {
	p32, err := c.m.PredictBatch(ctx, imgs)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(p32))
	for i, p := range p32 {
		out[i] = make([]float64, len(p))
		for j, v := range p {
			out[i][j] = float64(v)
		}
	}
	return out, nil
}
