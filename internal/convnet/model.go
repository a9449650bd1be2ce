package convnet

import (
	"context"
	"fmt"
	"image"
	"runtime"
	"sync"
	"sync/atomic"
)

// evalChunk is the number of photos one goroutine classifies at a time.
const evalChunk = 8

// A Model is a trained classifier. Its methods may be called concurrently.
type Model struct {
	net    *net
	hp     Hyperparameters
	width  int
	result Result

	pool sync.Pool // *work of evalChunk photos
}

// Shape is the image shape photos are scaled to.
func (m *Model) Shape() Shape { return m.hp.ImageShape }

// NumClasses is the number of classes, the length of every prediction.
func (m *Model) NumClasses() int { return m.net.Classes }

// Hyperparameters are those the model was trained with.
func (m *Model) Hyperparameters() Hyperparameters { return m.hp }

// Result is the training result recorded with the model.
func (m *Model) Result() Result { return m.result }

// Architecture describes the network, e.g.
// "3×32×32 conv16 pool conv32 pool conv64 gap dense4".
func (m *Model) Architecture() string { return m.net.String() }

func (m *Model) getWork() *work {
	if w, ok := m.pool.Get().(*work); ok {
		return w
	}
	return m.net.newWork(evalChunk)
}

// Predict returns the class probabilities of one photo (the softmax of the
// network's output: non-negative, summing to 1 up to float32 rounding).
// The photo is scaled as in training.
func (m *Model) Predict(img image.Image) []float32 {
	w := m.getWork()
	defer m.pool.Put(w)
	sh := m.hp.ImageShape
	preprocess(img, sh, m.hp.Resize, w.in[:sh.size()])
	m.net.forward(w, 1, false)
	out := make([]float32, m.net.Classes)
	copy(out, w.prob)
	return out
}

// PredictBatch classifies photos on every core (GOMAXPROCS goroutines).
// A photo's prediction does not depend on the others in the batch: it is
// bit-identical to Predict's.
func (m *Model) PredictBatch(ctx context.Context, imgs []image.Image) ([][]float32, error) {
	sh := m.hp.ImageShape
	return m.predict(ctx, len(imgs), func(i int, dst []float32, j, s int) {
		one := make([]float32, sh.size())
		preprocess(imgs[i], sh, m.hp.Resize, one)
		putSample(one, sh, dst, j, s)
	})
}

// PredictDataset classifies the photos of a dataset scaled to the model's
// shape, on every core.
func (m *Model) PredictDataset(ctx context.Context, d *Dataset) ([][]float32, error) {
	if d.shape != m.hp.ImageShape {
		return nil, fmt.Errorf("predict: dataset scaled to %v, model wants %v", d.shape, m.hp.ImageShape)
	}
	n := d.shape.size()
	return m.predict(ctx, d.Len(), func(i int, dst []float32, j, s int) {
		putSample(d.x[i*n:(i+1)*n], d.shape, dst, j, s)
	})
}

func (m *Model) predict(ctx context.Context, count int, fill func(i int, dst []float32, j, s int)) ([][]float32, error) {
	probs := make([]float32, count*m.net.Classes)
	err := runChunks(ctx, count, runtime.GOMAXPROCS(0), func(from, to int) {
		w := m.getWork()
		defer m.pool.Put(w)
		s := to - from
		for i := from; i < to; i++ {
			fill(i, w.in, i-from, s)
		}
		m.net.forward(w, s, false)
		copy(probs[from*m.net.Classes:], w.prob[:s*m.net.Classes])
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float32, count)
	for i := range out {
		out[i] = probs[i*m.net.Classes : (i+1)*m.net.Classes : (i+1)*m.net.Classes]
	}
	return out, nil
}

// putSample copies one photo, [C][H·W], to sample j of a CNHW buffer of s
// samples.
func putSample(x []float32, sh Shape, dst []float32, j, s int) {
	hw := sh.H * sh.W
	for c := range sh.C {
		copy(dst[c*s*hw+j*hw:][:hw], x[c*hw:(c+1)*hw])
	}
}

// runChunks calls f on [from, to) chunks of up to evalChunk items, on
// workers goroutines, until all are done or ctx is.
func runChunks(ctx context.Context, count, workers int, f func(from, to int)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	chunks := (count + evalChunk - 1) / evalChunk
	for range min(workers, chunks) {
		wg.Go(func() {
			for ctx.Err() == nil {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				f(c*evalChunk, min((c+1)*evalChunk, count))
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

// evaluator measures accuracy during training, with its own buffers.
type evaluator struct {
	n       *net
	workers int
	works   chan *work
}

func newEvaluator(n *net, workers int) *evaluator {
	e := &evaluator{n: n, workers: workers, works: make(chan *work, workers)}
	for range workers {
		e.works <- n.newWork(evalChunk)
	}
	return e
}

func (e *evaluator) accuracy(ctx context.Context, d *Dataset) (float64, error) {
	var right atomic.Int64
	size := d.shape.size()
	err := runChunks(ctx, d.Len(), e.workers, func(from, to int) {
		w := <-e.works
		defer func() { e.works <- w }()
		s := to - from
		for i := from; i < to; i++ {
			putSample(d.x[i*size:(i+1)*size], d.shape, w.in, i-from, s)
		}
		e.n.forward(w, s, false)
		r := 0
		for j := range s {
			if argmax(w.prob[j*e.n.Classes:(j+1)*e.n.Classes]) == d.y[from+j] {
				r++
			}
		}
		right.Add(int64(r))
	})
	if err != nil {
		return 0, err
	}
	return float64(right.Load()) / float64(d.Len()), nil
}
