package convnet

import (
	"math"
	"math/rand/v2"
	"testing"
)

// loss is the shard's mean cross-entropy after a training-mode forward pass.
func (n *net) loss(w *work, s int, labels []int) float64 {
	n.forward(w, s, true)
	var l float64
	for j := range s {
		l -= math.Log(float64(w.prob[j*n.Classes+labels[j]]))
	}
	return l / float64(s)
}

// The analytic gradient matches central differences on a tiny network,
// through every kind of layer: convolutions, batch norm (with the shard's
// statistics), ReLU, max pooling, the average pool and the dense layer.
func TestGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := newArch(3, 16, 16, 3, 5, 2)
	n := newNet(a, rng)
	// Make the batch-norm and dense parameters non-trivial.
	for i := range n.params {
		n.params[i] += float32(rng.NormFloat64() * 0.1)
	}
	const s = 3
	w := n.newWork(s)
	for i := range w.in {
		w.in[i] = float32(rng.NormFloat64())
	}
	labels := []int{0, 2, 1}
	n.forward(w, s, true)
	grad := make([]float32, len(n.params))
	n.backward(w, s, labels, s, grad)

	// float64 would be more exact, but the network is float32: step and
	// tolerance are chosen for it.
	const h = 1e-3
	checked, bad := 0, 0
	worst := 0.0
	for i := range n.params {
		old := n.params[i]
		n.params[i] = old + h
		lp := n.loss(w, s, labels)
		n.params[i] = old - h
		lm := n.loss(w, s, labels)
		n.params[i] = old
		num := (lp - lm) / (2 * h)
		an := float64(grad[i])
		diff := math.Abs(num - an)
		rel := diff / math.Max(math.Abs(num)+math.Abs(an), 1e-2)
		checked++
		if rel > 1e-2 {
			bad++
			t.Logf("param %d: analytic %.6f, numerical %.6f", i, an, num)
		}
		worst = math.Max(worst, rel)
	}
	t.Logf("%d parameters, %d off by more than 1%%; worst relative error %.4f", checked, bad, worst)
	// A step across a ReLU kink or a change of max-pool winner spoils a
	// finite difference now and then; anything more is a bug.
	if bad > checked/100 {
		t.Errorf("%d of %d gradients differ from central differences by more than 1%%", bad, checked)
	}
}
