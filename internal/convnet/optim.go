package convnet

import "math"

// optimizer updates the parameters from a mini-batch's mean gradient, as
// MXNet's optimizers of the same name do. Weight decay (L2) is added to the
// gradient of the conv and dense weights, not to batch-norm parameters or
// the dense bias.
type optimizer struct {
	kind                            string
	momentum, beta1, beta2, eps, gm float64
	decay                           []float32 // weight_decay for weights, 0 elsewhere
	state, state2                   []float32
	t                               int
}

func newOptimizer(h Hyperparameters, n *net) *optimizer {
	o := &optimizer{kind: h.Optimizer, momentum: h.Momentum, beta1: h.Beta1, beta2: h.Beta2, eps: h.Eps, gm: h.Gamma}
	if o.kind == "" {
		o.kind = "sgd"
	}
	o.decay = make([]float32, len(n.params))
	for _, r := range n.lay.weights {
		for i := r[0]; i < r[1]; i++ {
			o.decay[i] = float32(h.WeightDecay)
		}
	}
	o.state = make([]float32, len(n.params))
	if o.kind == "adam" {
		o.state2 = make([]float32, len(n.params))
	}
	return o
}

func (o *optimizer) step(w, grad []float32, lr float32) {
	o.t++
	mu := float32(o.momentum)
	switch o.kind {
	case "sgd":
		for i, g := range grad {
			g += o.decay[i] * w[i]
			o.state[i] = mu*o.state[i] - lr*g
			w[i] += o.state[i]
		}
	case "nag":
		for i, g := range grad {
			g += o.decay[i] * w[i]
			o.state[i] = mu*o.state[i] + g
			w[i] -= lr * (g + mu*o.state[i])
		}
	case "adam":
		b1, b2 := float32(o.beta1), float32(o.beta2)
		lrt := lr * float32(math.Sqrt(1-math.Pow(o.beta2, float64(o.t)))/(1-math.Pow(o.beta1, float64(o.t))))
		eps := float32(o.eps)
		for i, g := range grad {
			g += o.decay[i] * w[i]
			o.state[i] = b1*o.state[i] + (1-b1)*g
			o.state2[i] = b2*o.state2[i] + (1-b2)*g*g
			w[i] -= lrt * o.state[i] / (float32(math.Sqrt(float64(o.state2[i]))) + eps)
		}
	case "rmsprop":
		gm, eps := float32(o.gm), float32(o.eps)
		for i, g := range grad {
			g += o.decay[i] * w[i]
			o.state[i] = gm*o.state[i] + (1-gm)*g*g
			w[i] -= lr * g / float32(math.Sqrt(float64(o.state[i]+eps)))
		}
	default:
		panic("convnet: unknown optimizer " + o.kind)
	}
}
