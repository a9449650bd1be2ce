package convnet

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The network is a plain convolutional classifier of four stages:
//
//	[conv 3×3 (pad 1, no bias) → batch norm → ReLU] × n₁ → max pool 2×2
//	[conv 3×3 → batch norm → ReLU] × n₂ → max pool 2×2
//	[conv 3×3 → batch norm → ReLU] × n₃ → max pool 2×2
//	[conv 3×3 → batch norm → ReLU] × n₄ → global average pool → dense → softmax
//
// with w, 2w, 4w and 4w channels. Activations of a shard of s samples are
// stored channel-major ("CNHW"): channel c of every sample is one
// contiguous row of s·H·W values, so a convolution is one matrix product
// (weights × im2col columns), and batch norm and pooling run along rows.

const bnEps = 1e-5

// An arch is the shape of a network.
type arch struct {
	C, H, W int // input channels and size
	Classes int
	Blocks  []block
}

// A block is conv 3×3 → batch norm → ReLU, maybe followed by a 2×2 max
// pool.
type block struct {
	In, Out int // channels
	H, W    int // spatial size of the input (and of the conv output)
	Pool    bool
}

// stages is the number of stages; each but the last ends with a 2×2 max
// pool.
const stages = 4

// stageBlocks spreads depth conv blocks over the stages: one each, then the
// extra ones to the last, third, second and first stage in turn (at
// 3,32,32 and width 16 the first extra block costs 17% more compute, each
// further one about 70%).
func stageBlocks(depth int) [stages]int {
	var n [stages]int
	for i := range n {
		n[i] = 1
	}
	for i := stages; i < depth; i++ {
		n[stages-1-(i-stages)%stages]++
	}
	return n
}

// newArch builds the network of depth conv blocks for c×h×w photos; the
// stages have width, 2·width, 4·width and 4·width channels.
func newArch(c, h, w, classes, depth, width int) arch {
	a := arch{C: c, H: h, W: w, Classes: classes}
	in := c
	for stage, n := range stageBlocks(depth) {
		out := width << min(stage, 2)
		for i := range n {
			last := i == n-1 && stage < stages-1
			a.Blocks = append(a.Blocks, block{In: in, Out: out, H: h, W: w, Pool: last})
			in = out
			if last {
				h, w = h/2, w/2
			}
		}
	}
	return a
}

func (a arch) outChannels() int { return a.Blocks[len(a.Blocks)-1].Out }

// flops is the number of multiply-adds of one forward pass of one sample.
func (a arch) flops() int {
	n := 0
	for _, b := range a.Blocks {
		n += b.H * b.W * b.Out * b.In * 9
	}
	return n + a.outChannels()*a.Classes
}

// layout places every trainable parameter in one flat slice: per block the
// conv weights [Out][In·9], then gamma and beta [Out]; then the dense weights
// [Classes][C] and bias [Classes].
type layout struct {
	conv, gamma, beta []int // offsets per block
	dense, bias       int
	n                 int
	weights           [][2]int // [from, to) of every weight tensor (decayed)
}

func (a arch) layout() layout {
	var l layout
	for _, b := range a.Blocks {
		l.conv = append(l.conv, l.n)
		l.weights = append(l.weights, [2]int{l.n, l.n + b.Out*b.In*9})
		l.n += b.Out * b.In * 9
		l.gamma = append(l.gamma, l.n)
		l.n += b.Out
		l.beta = append(l.beta, l.n)
		l.n += b.Out
	}
	l.dense = l.n
	l.weights = append(l.weights, [2]int{l.n, l.n + a.Classes*a.outChannels()})
	l.n += a.Classes * a.outChannels()
	l.bias = l.n
	l.n += a.Classes
	return l
}

// A net is an arch with its parameters and batch-norm running statistics.
type net struct {
	arch
	lay    layout
	params []float32
	// runMean and runVar are the batch-norm running statistics per block,
	// used for inference.
	runMean, runVar [][]float32
}

func newNet(a arch, rng *rand.Rand) *net {
	n := &net{arch: a, lay: a.layout()}
	n.params = make([]float32, n.lay.n)
	for i, b := range a.Blocks {
		std := math.Sqrt(2 / float64(b.In*9)) // He initialisation
		w := n.params[n.lay.conv[i] : n.lay.conv[i]+b.Out*b.In*9]
		for j := range w {
			w[j] = float32(rng.NormFloat64() * std)
		}
		for j := range b.Out {
			n.params[n.lay.gamma[i]+j] = 1
		}
		n.runMean = append(n.runMean, make([]float32, b.Out))
		v := make([]float32, b.Out)
		for j := range v {
			v[j] = 1
		}
		n.runVar = append(n.runVar, v)
	}
	std := math.Sqrt(1 / float64(a.outChannels()))
	d := n.params[n.lay.dense : n.lay.dense+a.Classes*a.outChannels()]
	for j := range d {
		d[j] = float32(rng.NormFloat64() * std)
	}
	return n
}

// work is one goroutine's buffers for a shard of up to newWork's capacity
// of samples.
type work struct {
	in   []float32   // [C][s·H·W]
	col  [][]float32 // per block: im2col of the block's input [In·9][s·H·W]
	xhat [][]float32 // per block: normalised conv output [Out][s·H·W]
	act  [][]float32 // per block: ReLU output [Out][s·H·W]
	pool [][]float32 // per pooling block: pooled output [Out][s·H/2·W/2]
	arg  [][]int32   // per pooling block: index of each pooled maximum in act
	mean [][]float32 // per block: batch mean and 1/std per channel
	istd [][]float32
	gap  []float32 // [C][s]
	prob []float32 // [s][Classes]
	d1   []float32 // scratch for gradients of activations
	d2   []float32
	dcol []float32
	dgap []float32
	gs   *scratch // buffers of the matrix products
}

func (n *net) newWork(capacity int) *work {
	w := &work{}
	s := capacity
	w.in = make([]float32, n.C*s*n.H*n.W)
	maxAct, maxCol, maxTmp := 0, 0, 0
	for _, b := range n.Blocks {
		hw := b.H * b.W
		w.col = append(w.col, make([]float32, b.In*9*s*hw))
		w.xhat = append(w.xhat, make([]float32, b.Out*s*hw))
		w.act = append(w.act, make([]float32, b.Out*s*hw))
		if b.Pool {
			ph := (b.H / 2) * (b.W / 2)
			w.pool = append(w.pool, make([]float32, b.Out*s*ph))
			w.arg = append(w.arg, make([]int32, b.Out*s*ph))
		} else {
			w.pool = append(w.pool, nil)
			w.arg = append(w.arg, nil)
		}
		w.mean = append(w.mean, make([]float32, b.Out))
		w.istd = append(w.istd, make([]float32, b.Out))
		maxAct = max(maxAct, b.Out*s*hw, b.In*s*hw)
		maxCol = max(maxCol, b.In*9*s*hw)
		maxTmp = max(maxTmp, b.Out*s*hw+b.In*9*b.Out)
	}
	w.gs = &scratch{t: make([]float32, maxTmp)}
	w.gap = make([]float32, n.outChannels()*s)
	w.dgap = make([]float32, n.outChannels()*s)
	w.prob = make([]float32, s*n.Classes)
	w.d1 = make([]float32, maxAct)
	w.d2 = make([]float32, maxAct)
	w.dcol = make([]float32, maxCol)
	return w
}

// forward runs the network on the s samples in w.in and leaves class
// probabilities in w.prob. In training mode batch norm uses the shard's own
// statistics; otherwise the running ones.
func (n *net) forward(w *work, s int, train bool) {
	x := w.in[:n.C*s*n.H*n.W]
	for i, b := range n.Blocks {
		N := s * b.H * b.W
		k := b.In * 9
		col := w.col[i][:k*N]
		im2col(x, b.In, s, b.H, b.W, col)
		z := w.xhat[i][:b.Out*N]
		mulNN(b.Out, N, k, n.params[n.lay.conv[i]:], col, z, false, w.gs)
		gamma := n.params[n.lay.gamma[i] : n.lay.gamma[i]+b.Out]
		beta := n.params[n.lay.beta[i] : n.lay.beta[i]+b.Out]
		act := w.act[i][:b.Out*N]
		for c := range b.Out {
			row := z[c*N : (c+1)*N]
			var mean, istd float32
			if train {
				var sum, sq float64
				for _, v := range row {
					sum += float64(v)
					sq += float64(v) * float64(v)
				}
				m := sum / float64(N)
				variance := max(sq/float64(N)-m*m, 0)
				mean, istd = float32(m), float32(1/math.Sqrt(variance+bnEps))
				w.mean[i][c], w.istd[i][c] = mean, istd
			} else {
				mean, istd = n.runMean[i][c], float32(1/math.Sqrt(float64(n.runVar[i][c])+bnEps))
			}
			g, bb := gamma[c], beta[c]
			out := act[c*N : (c+1)*N]
			out = out[:len(row)]
			for j, v := range row {
				h := (v - mean) * istd
				row[j] = h
				out[j] = relu(g*h + bb)
			}
		}
		x = act
		if b.Pool {
			arg := w.arg[i]
			if !train {
				arg = nil // no backward pass to route gradients for
			}
			x = maxPool(act, b.Out, s, b.H, b.W, w.pool[i], arg)
		}
	}
	// Global average pool, dense, softmax.
	last := n.Blocks[len(n.Blocks)-1]
	C, hw := last.Out, last.H*last.W
	for c := range C {
		for j := range s {
			var sum float32
			for _, v := range x[c*s*hw+j*hw : c*s*hw+(j+1)*hw] {
				sum += v
			}
			w.gap[c*s+j] = sum / float32(hw)
		}
	}
	dense := n.params[n.lay.dense:]
	bias := n.params[n.lay.bias:]
	for j := range s {
		p := w.prob[j*n.Classes : (j+1)*n.Classes]
		mx := float32(math.Inf(-1))
		for k := range n.Classes {
			z := bias[k]
			for c := range C {
				z += dense[k*C+c] * w.gap[c*s+j]
			}
			p[k] = z
			mx = max(mx, z)
		}
		var sum float64
		for k := range p {
			e := math.Exp(float64(p[k] - mx))
			p[k] = float32(e)
			sum += e
		}
		for k := range p {
			p[k] = float32(float64(p[k]) / sum)
		}
	}
}

// backward sets grad to the gradient of the shard's cross-entropy loss,
// summed over its s samples and divided by total (the mini-batch size),
// after forward in training mode.
func (n *net) backward(w *work, s int, labels []int, total int, grad []float32) {
	clear(grad)
	last := n.Blocks[len(n.Blocks)-1]
	C, hw := last.Out, last.H*last.W
	dense := n.params[n.lay.dense:]
	gDense := grad[n.lay.dense:]
	gBias := grad[n.lay.bias:]
	clear(w.dgap[:C*s])
	for j := range s {
		p := w.prob[j*n.Classes : (j+1)*n.Classes]
		for k := range n.Classes {
			d := p[k]
			if k == labels[j] {
				d--
			}
			d /= float32(total)
			gBias[k] += d
			for c := range C {
				gDense[k*C+c] += d * w.gap[c*s+j]
				w.dgap[c*s+j] += d * dense[k*C+c]
			}
		}
	}
	// Gradient of the last block's output: the average pool spreads it.
	dx := w.d1[:C*s*hw]
	for c := range C {
		for j := range s {
			g := w.dgap[c*s+j] / float32(hw)
			row := dx[c*s*hw+j*hw : c*s*hw+(j+1)*hw]
			for t := range row {
				row[t] = g
			}
		}
	}
	for i := len(n.Blocks) - 1; i >= 0; i-- {
		b := n.Blocks[i]
		N := s * b.H * b.W
		k := b.In * 9
		act := w.act[i][:b.Out*N]
		dy := w.d2[:b.Out*N]
		if b.Pool {
			unpool(dx, w.arg[i], b.Out*s*(b.H/2)*(b.W/2), dy)
		} else {
			copy(dy, dx[:b.Out*N])
		}
		// ReLU and batch norm.
		xhat := w.xhat[i][:b.Out*N]
		gamma := n.params[n.lay.gamma[i]:]
		gG := grad[n.lay.gamma[i]:]
		gB := grad[n.lay.beta[i]:]
		for c := range b.Out {
			d := dy[c*N : (c+1)*N]
			a := act[c*N : (c+1)*N][:len(d)]
			h := xhat[c*N : (c+1)*N][:len(d)]
			var sumD, sumDH float64
			for j, v := range d {
				// ReLU: keep the gradient where the output is positive
				// (act ≥ +0, so where its bits are not zero), branch-free.
				ab := math.Float32bits(a[j])
				mask := uint32(int32(ab|-ab) >> 31)
				v = math.Float32frombits(math.Float32bits(v) & mask)
				d[j] = v
				sumD += float64(v)
				sumDH += float64(v * h[j])
			}
			gG[c] += float32(sumDH)
			gB[c] += float32(sumD)
			scale := gamma[c] * w.istd[i][c]
			mD, mDH := float32(sumD/float64(N)), float32(sumDH/float64(N))
			for j := range d {
				d[j] = scale * (d[j] - mD - h[j]*mDH)
			}
		}
		// Convolution.
		mulNT(b.Out, k, N, dy, w.col[i][:k*N], grad[n.lay.conv[i]:], w.gs)
		if i > 0 {
			dcol := w.dcol[:k*N]
			mulTN(k, N, b.Out, n.params[n.lay.conv[i]:], dy, dcol, w.gs)
			col2im(dcol, b.In, s, b.H, b.W, w.d1[:b.In*N])
			dx = w.d1
		}
	}
}

// relu is max(y, 0), branch-free: the sign bit, spread over the word,
// masks a negative y to +0. (The builtin max also orders NaNs and signed
// zeros, and is several times slower here.)
func relu(y float32) float32 {
	b := math.Float32bits(y)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// im2col lays out the 3×3 neighbourhoods (zero padded) of x, [c][s·h·w],
// as col, [c·9][s·h·w]: row c·9+ky·3+kx holds every pixel's neighbour at
// (ky-1, kx-1). Each (row, sample) is one flat copy of the plane shifted by
// (ky-1)·w+kx-1, then the entries that wrapped round a row are zeroed.
func im2col(x []float32, c, s, h, w int, col []float32) {
	hw := h * w
	N := s * hw
	for ch := range c {
		for ky := range 3 {
			for kx := range 3 {
				row := col[(ch*9+ky*3+kx)*N:][:N]
				dy, dx := ky-1, kx-1
				y0, y1 := max(0, -dy), min(h, h-dy) // rows whose neighbour is inside
				from, to := y0*w+max(0, -dx), y1*w-max(0, dx)
				from = min(from, hw)
				to = max(to, from) // a plane of one row or column may have no neighbour inside
				shift := dy*w + dx
				for j := range s {
					src := x[ch*N+j*hw:][:hw]
					dst := row[j*hw:][:hw]
					clear(dst[:from])
					if to > from {
						copy(dst[from:to], src[from+shift:to+shift])
					}
					clear(dst[to:])
					switch dx {
					case -1:
						for y := y0; y < y1; y++ {
							dst[y*w] = 0
						}
					case 1:
						for y := y0; y < y1; y++ {
							dst[y*w+w-1] = 0
						}
					}
				}
			}
		}
	}
}

// col2im is the adjoint of im2col: it sums every column entry back into
// the pixel it came from. It zeroes the entries of col that im2col would
// have padded, then adds each (row, sample) as one flat shifted sum.
func col2im(col []float32, c, s, h, w int, x []float32) {
	hw := h * w
	N := s * hw
	clear(x[:c*N])
	for ch := range c {
		for ky := range 3 {
			for kx := range 3 {
				row := col[(ch*9+ky*3+kx)*N:][:N]
				dy, dx := ky-1, kx-1
				y0, y1 := max(0, -dy), min(h, h-dy)
				from, to := y0*w+max(0, -dx), y1*w-max(0, dx)
				from = min(from, hw)
				to = max(to, from) // a plane of one row or column may have no neighbour inside
				shift := dy*w + dx
				for j := range s {
					src := row[j*hw:][:hw]
					switch dx {
					case -1:
						for y := y0; y < y1; y++ {
							src[y*w] = 0
						}
					case 1:
						for y := y0; y < y1; y++ {
							src[y*w+w-1] = 0
						}
					}
					if to == from {
						continue
					}
					dst := x[ch*N+j*hw+from+shift:][:to-from]
					for t, v := range src[from:to] {
						dst[t] += v
					}
				}
			}
		}
	}
}

// maxPool takes the maximum of each 2×2 square of x, [c][s·h·w] (an odd last
// row or column is dropped), into out, [c][s·(h/2)·(w/2)], and records
// where each maximum came from in arg (unless arg is nil, for inference).
// x is a ReLU output: its values are ≥ +0, whose float bits order like
// integers, so the maximum and its place are found branch-free as the
// largest of four (bits<<2 | position) keys.
func maxPool(x []float32, c, s, h, w int, out []float32, arg []int32) []float32 {
	oh, ow := h/2, w/2
	o := 0
	for p := range c * s {
		base := p * h * w
		for y := range oh {
			r0 := x[base+2*y*w : base+2*y*w+w]
			r1 := x[base+(2*y+1)*w : base+(2*y+1)*w+w]
			for xx := range ow {
				k0 := int64(math.Float32bits(r0[2*xx]))<<2 | 0
				k1 := int64(math.Float32bits(r0[2*xx+1]))<<2 | 1
				k2 := int64(math.Float32bits(r1[2*xx]))<<2 | 2
				k3 := int64(math.Float32bits(r1[2*xx+1]))<<2 | 3
				k := max(max(k0, k1), max(k2, k3))
				out[o] = math.Float32frombits(uint32(k >> 2))
				if arg != nil {
					pos := int(k & 3)
					arg[o] = int32(base + (2*y+pos>>1)*w + 2*xx + pos&1)
				}
				o++
			}
		}
	}
	return out[:o]
}

// unpool routes the gradient of each pooled value to where its maximum
// came from.
func unpool(d []float32, arg []int32, n int, out []float32) {
	clear(out)
	for i, a := range arg[:n] {
		out[a] = d[i]
	}
}

func (n *net) String() string {
	s := fmt.Sprintf("%d×%d×%d", n.C, n.H, n.W)
	for _, b := range n.Blocks {
		s += fmt.Sprintf(" conv%d", b.Out)
		if b.Pool {
			s += " pool"
		}
	}
	return s + fmt.Sprintf(" gap dense%d", n.Classes)
}
