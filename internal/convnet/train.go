package convnet

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultWidth is the number of channels of the first stage (the second
// and third have twice and four times as many).
const DefaultWidth = 16

// shardSize is the number of photos of a mini-batch one goroutine
// processes at a time. Shards are fixed by the mini-batch, not by the
// number of goroutines: batch norm uses each shard's statistics ("ghost
// batch norm") and the shards' gradients are summed in order, so training
// is bit-exact for a seed whatever GOMAXPROCS or Workers.
const shardSize = 8

// TrainOptions are local training's settings beyond the hyperparameters.
// The zero value is ready to use.
type TrainOptions struct {
	// Seed makes training repeatable: the initial weights, the order of
	// the photos in each epoch and their augmentation.
	Seed int64
	// Workers is the number of goroutines that process the shards of a
	// mini-batch (and the validation photos); 0 means GOMAXPROCS. It does
	// not change the result.
	Workers int
	// Width is the number of channels of the first stage; 0 means
	// DefaultWidth.
	Width int
	// Log receives the training log, one line per call, in the MXNet
	// style the built-in algorithm writes and SageMaker's metric regexes
	// read: "Epoch[3] Train-accuracy=0.912000",
	// "Epoch[3] Validation-accuracy=0.905000". Nil discards it.
	Log func(line string)
	// Logger receives warnings (also written to Log); nil means
	// slog.Default().
	Logger *slog.Logger
	// Epoch, when set, is called after every epoch with its result (for a
	// progress display).
	Epoch func(EpochResult)
}

// An EpochResult is what one epoch did.
type EpochResult struct {
	Epoch              int // from 0, as MXNet counts
	TrainAccuracy      float64
	ValidationAccuracy float64
	TrainLoss          float64 // mean cross-entropy over the epoch's mini-batches
	LearningRate       float64
	Duration           time.Duration
}

// A Result is what training did.
type Result struct {
	Epochs []EpochResult
	// Best is the index in Epochs of the epoch whose weights the model
	// holds: the one with the best validation accuracy (the later one on a
	// tie), as the built-in algorithm keeps without checkpoint_frequency.
	Best int
	// TrainAccuracy and ValidationAccuracy are the kept epoch's: the job's
	// final metrics train:accuracy and validation:accuracy.
	TrainAccuracy      float64
	ValidationAccuracy float64
	// EarlyStopped says early_stopping ended training before epochs.
	EarlyStopped bool
	Duration     time.Duration
	// Warnings are the settings accepted but not followed, and the cost
	// of a large image_shape.
	Warnings []string
}

// Train fits a classifier to the train photos and reports its accuracy on
// the validation photos after every epoch. Both datasets must be scaled to
// h.ImageShape; the train set must hold exactly h.NumTrainingSamples
// photos and every label must be below h.NumClasses.
//
// The network has Depth(h.NumLayers) conv blocks. Its cost grows with the
// image's area: the built-in default image_shape 3,224,224 is honoured but
// costs 49 times 3,32,32 and draws a warning; pass a small image_shape
// (3,32,32 trains a few thousand photos in seconds) unless the photos need
// more.
//
// Train stops with ctx's error, between mini-batches, when ctx is done.
func Train(ctx context.Context, h Hyperparameters, train, validation *Dataset, opts TrainOptions) (*Model, *Result, error) {
	start := time.Now()
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logf := func(format string, args ...any) {
		if opts.Log != nil {
			opts.Log(fmt.Sprintf(format, args...))
		}
	}
	res := &Result{}
	warn := func(msg string) {
		res.Warnings = append(res.Warnings, msg)
		logger.Warn(msg)
		logf("WARNING: %s", msg)
	}
	if h.NumClasses < 2 {
		return nil, nil, &HyperparameterError{Name: "num_classes", Value: fmt.Sprint(h.NumClasses), Reason: "want at least 2"}
	}
	depth := Depth(h.NumLayers)
	if depth == 0 {
		return nil, nil, &HyperparameterError{Name: "num_layers", Value: fmt.Sprint(h.NumLayers), Reason: "want one of 18, 34, 50, 101, 152, 200, 20, 32, 44, 56, 110"}
	}
	if h.Epochs < 1 {
		return nil, nil, &HyperparameterError{Name: "epochs", Value: fmt.Sprint(h.Epochs), Reason: "want a positive integer"}
	}
	if h.MiniBatchSize < 1 {
		return nil, nil, &HyperparameterError{Name: "mini_batch_size", Value: fmt.Sprint(h.MiniBatchSize), Reason: "want a positive integer"}
	}
	if !slices.Contains([]string{"", "sgd", "nag", "adam", "rmsprop"}, h.Optimizer) {
		return nil, nil, &HyperparameterError{Name: "optimizer", Value: h.Optimizer, Reason: "want sgd, nag, adam or rmsprop"}
	}
	if !slices.Contains([]string{"", "crop", "crop_color", "crop_color_transform"}, h.Augmentation) {
		return nil, nil, &HyperparameterError{Name: "augmentation_type", Value: h.Augmentation, Reason: "want crop, crop_color or crop_color_transform"}
	}
	if err := checkDataset("train", train, h); err != nil {
		return nil, nil, err
	}
	if err := checkDataset("validation", validation, h); err != nil {
		return nil, nil, err
	}
	if h.NumTrainingSamples != train.Len() {
		return nil, nil, &HyperparameterError{Name: "num_training_samples", Value: fmt.Sprint(h.NumTrainingSamples),
			Reason: fmt.Sprintf("the train channel holds %d photos; set num_training_samples=%d", train.Len(), train.Len())}
	}
	if h.UsePretrainedModel {
		warn("use_pretrained_model=1: no pretrained weights here, local training starts from scratch")
	}
	if px := h.ImageShape.H * h.ImageShape.W; px > 64*64 {
		warn(fmt.Sprintf("image_shape %v: local training on CPU costs %.0f times what it costs at 3,32,32; consider a smaller image_shape", h.ImageShape, float64(px)/(32*32)))
	}
	width := opts.Width
	if width <= 0 {
		width = DefaultWidth
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	seed := uint64(opts.Seed)
	a := newArch(h.ImageShape.C, h.ImageShape.H, h.ImageShape.W, h.NumClasses, depth, width)
	n := newNet(a, rand.New(rand.NewPCG(seed, 0x1e17)))
	logf("local training: %v, %d parameters, %.1f MFLOP a photo forward, %d train and %d validation photos, %d goroutines",
		n, n.lay.n, 2*float64(a.flops())/1e6, train.Len(), validation.Len(), workers)

	batch := min(h.MiniBatchSize, train.Len())
	maxShards := (batch + shardSize - 1) / shardSize
	works := make([]*work, workers)
	for i := range works {
		works[i] = n.newWork(min(shardSize, batch))
	}
	shards := make([]shardResult, maxShards)
	for i := range shards {
		shards[i].grad = make([]float32, n.lay.n)
		for _, b := range a.Blocks {
			shards[i].mean = append(shards[i].mean, make([]float32, b.Out))
			shards[i].istd = append(shards[i].istd, make([]float32, b.Out))
		}
	}
	opt := newOptimizer(h, n)
	grad := make([]float32, n.lay.n)
	eval := newEvaluator(n, workers)

	lr := h.LearningRate
	best := math.Inf(-1)
	var bestParams []float32
	var bestMean, bestVar [][]float32
	sinceImproved := 0
	perSample := train.shape.size()
	for epoch := range h.Epochs {
		epochStart := time.Now()
		if slices.Contains(h.LRSchedulerStep, epoch) {
			lr *= h.LRSchedulerFactor
		}
		order := rand.New(rand.NewPCG(seed, 0xe90c<<32|uint64(epoch))).Perm(train.Len())
		correct, lossSum, batches := 0, 0.0, 0
		for from := 0; from < len(order); from += batch {
			if err := ctx.Err(); err != nil {
				return nil, nil, fmt.Errorf("train: epoch %d: %w", epoch, err)
			}
			idx := order[from:min(from+batch, len(order))]
			nShards := (len(idx) + shardSize - 1) / shardSize
			var next atomic.Int64
			var wg sync.WaitGroup
			for _, w := range works[:min(workers, nShards)] {
				wg.Go(func() {
					labels := make([]int, shardSize)
					for {
						si := int(next.Add(1) - 1)
						if si >= nShards {
							return
						}
						part := idx[si*shardSize : min((si+1)*shardSize, len(idx))]
						s := len(part)
						for j, p := range part {
							arng := rand.New(rand.NewPCG(seed^uint64(epoch+1)<<40, uint64(p)))
							newAugmentation(h.Augmentation, train.shape, arng).apply(train.x[p*perSample:(p+1)*perSample], train.shape, w.in, j, s)
							labels[j] = train.y[p]
						}
						n.forward(w, s, true)
						out := &shards[si]
						out.correct, out.loss = 0, 0
						for j := range s {
							p := w.prob[j*n.Classes : (j+1)*n.Classes]
							if argmax(p) == labels[j] {
								out.correct++
							}
							out.loss -= math.Log(math.Max(float64(p[labels[j]]), 1e-30))
						}
						for b := range n.Blocks {
							copy(out.mean[b], w.mean[b])
							copy(out.istd[b], w.istd[b])
						}
						n.backward(w, s, labels[:s], len(idx), out.grad)
					}
				})
			}
			wg.Wait()

			clear(grad)
			var batchLoss float64
			for si := range nShards {
				for i, g := range shards[si].grad {
					grad[i] += g
				}
				correct += shards[si].correct
				batchLoss += shards[si].loss
			}
			lossSum += batchLoss / float64(len(idx))
			batches++
			opt.step(n.params, grad, float32(lr))
			n.updateRunning(shards[:nShards])
		}
		trainAcc := float64(correct) / float64(train.Len())
		if math.IsNaN(lossSum) || math.IsInf(lossSum, 0) {
			return nil, nil, fmt.Errorf("train: epoch %d: the loss diverged (learning_rate=%g is too high?)", epoch, h.LearningRate)
		}
		valAcc, err := eval.accuracy(ctx, validation)
		if err != nil {
			return nil, nil, fmt.Errorf("train: epoch %d: validation: %w", epoch, err)
		}
		e := EpochResult{Epoch: epoch, TrainAccuracy: trainAcc, ValidationAccuracy: valAcc,
			TrainLoss: lossSum / float64(batches), LearningRate: lr, Duration: time.Since(epochStart)}
		res.Epochs = append(res.Epochs, e)
		logf("Epoch[%d] Train-accuracy=%f", epoch, trainAcc)
		logf("Epoch[%d] Time cost=%.3f", epoch, e.Duration.Seconds())
		logf("Epoch[%d] Validation-accuracy=%f", epoch, valAcc)
		if opts.Epoch != nil {
			opts.Epoch(e)
		}

		improved := best <= 0 || (valAcc-best)/best > h.EarlyStoppingTolerance
		if valAcc >= best {
			best = valAcc
			res.Best = len(res.Epochs) - 1
			bestParams = append(bestParams[:0], n.params...)
			bestMean, bestVar = cloneRows(n.runMean), cloneRows(n.runVar)
		}
		if improved {
			sinceImproved = 0
		} else {
			sinceImproved++
		}
		if h.EarlyStopping && epoch+1 >= h.EarlyStoppingMinEpochs && sinceImproved >= h.EarlyStoppingPatience && epoch+1 < h.Epochs {
			logf("Epoch[%d] early stopping: validation accuracy has not improved for %d epochs", epoch, sinceImproved)
			res.EarlyStopped = true
			break
		}
	}
	copy(n.params, bestParams)
	n.runMean, n.runVar = bestMean, bestVar
	kept := res.Epochs[res.Best]
	res.TrainAccuracy, res.ValidationAccuracy = kept.TrainAccuracy, kept.ValidationAccuracy
	res.Duration = time.Since(start)
	logf("Final train:accuracy=%f validation:accuracy=%f (epoch %d kept)", res.TrainAccuracy, res.ValidationAccuracy, kept.Epoch)
	m := &Model{net: n, hp: h, width: width, result: *res}
	return m, res, nil
}

func cloneRows(rows [][]float32) [][]float32 {
	out := make([][]float32, len(rows))
	for i, r := range rows {
		out[i] = slices.Clone(r)
	}
	return out
}

func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// shardResult is what one shard of a mini-batch gives back.
type shardResult struct {
	grad       []float32
	mean, istd [][]float32 // batch-norm statistics per block and channel
	correct    int
	loss       float64
}

// updateRunning moves the batch-norm running statistics towards the
// mini-batch's (the mean of its shards', in shard order), with MXNet's
// momentum of 0.9.
func (n *net) updateRunning(shards []shardResult) {
	const momentum = 0.9
	for b := range n.Blocks {
		for c := range n.runMean[b] {
			var m, v float64
			for _, s := range shards {
				m += float64(s.mean[b][c])
				is := float64(s.istd[b][c])
				v += 1/(is*is) - bnEps
			}
			m /= float64(len(shards))
			v /= float64(len(shards))
			n.runMean[b][c] = float32(momentum*float64(n.runMean[b][c]) + (1-momentum)*m)
			n.runVar[b][c] = float32(momentum*float64(n.runVar[b][c]) + (1-momentum)*v)
		}
	}
}
