package consolidate

import (
	"math"
	"sync"
)

// minProb keeps every probability of a confusion matrix above zero, so that
// one answer never rules a class out for good (crowd-kit clips at the
// same value).
const minProb = 1e-10

// partitions is how many slices of photos the E-step works on. It is fixed,
// not the number of cores, so that sums are added in the same order and the
// result is the same on any machine.
const partitions = 8

// model is the Dawid–Skene model over the dense answers. Confusion
// matrices are stored answered-class-major: the K probabilities
// P(answer l | true class k) for k = 0..K-1 of inspector j sit at
// ((j*K)+l)*K, so that each answer adds one contiguous K-vector.
type model struct {
	d    *dense
	k    int
	off  []int32   // per answer: offset of its (inspector, label) K-vector
	post []float64 // per photo, K posteriors
	// logTheta and alpha use the layout above; counts too, per partition.
	logTheta []float64
	alpha    []float64
	logPi    []float64
	parts    []part
	workers  int
}

// part is one partition's share of an E-step.
type part struct {
	lo, hi int       // photos [lo, hi)
	counts []float64 // expected answer counts, layout of logTheta
	piSum  []float64 // summed posteriors per class
	ll     float64   // log-likelihood of its photos
}

func newModel(d *dense, alpha []float64, workers int) *model {
	k := d.k
	m := &model{
		d:        d,
		k:        k,
		off:      make([]int32, len(d.insp)),
		post:     make([]float64, len(d.photos)*k),
		logTheta: make([]float64, len(d.inspectors)*k*k),
		alpha:    alpha,
		logPi:    make([]float64, k),
		workers:  max(1, min(workers, partitions)),
	}
	for t := range d.insp {
		m.off[t] = (d.insp[t]*int32(k) + d.label[t]) * int32(k)
	}
	n := len(d.photos)
	np := min(partitions, max(1, n))
	for p := range np {
		m.parts = append(m.parts, part{
			lo: p * n / np, hi: (p + 1) * n / np,
			counts: make([]float64, len(m.logTheta)),
			piSum:  make([]float64, k),
		})
	}
	return m
}

// run calls fn on every partition, on m.workers goroutines.
func (m *model) run(fn func(p *part)) {
	if m.workers == 1 {
		for i := range m.parts {
			fn(&m.parts[i])
		}
		return
	}
	var wg sync.WaitGroup
	for w := range m.workers {
		wg.Go(func() {
			for i := w; i < len(m.parts); i += m.workers {
				fn(&m.parts[i])
			}
		})
	}
	wg.Wait()
}

// accumulate adds the expected counts of partition p's answers under the
// current posteriors.
func (m *model) accumulate(p *part) {
	k := m.k
	clear(p.counts)
	clear(p.piSum)
	start := m.d.start
	for i := p.lo; i < p.hi; i++ {
		t := m.post[i*k : i*k+k]
		for c, v := range t {
			p.piSum[c] += v
		}
		for a := start[i]; a < start[i+1]; a++ {
			o := m.off[a]
			cnt := p.counts[o : o+int32(k)]
			for c := range cnt {
				cnt[c] += t[c]
			}
		}
	}
}

// estep computes partition p's posteriors from the current parameters, in
// log space, then accumulates the expected counts for the next M-step.
func (m *model) estep(p *part) {
	k := m.k
	clear(p.counts)
	clear(p.piSum)
	p.ll = 0
	start := m.d.start
	for i := p.lo; i < p.hi; i++ {
		t := m.post[i*k : i*k+k]
		copy(t, m.logPi)
		for a := start[i]; a < start[i+1]; a++ {
			o := m.off[a]
			row := m.logTheta[o : o+int32(k)]
			for c := range t {
				t[c] += row[c]
			}
		}
		mx := t[0]
		for _, v := range t[1:] {
			mx = max(mx, v)
		}
		sum := 0.0
		for c, v := range t {
			e := math.Exp(v - mx)
			t[c] = e
			sum += e
		}
		p.ll += mx + math.Log(sum)
		inv := 1 / sum
		for c := range t {
			t[c] *= inv
			p.piSum[c] += t[c]
		}
		for a := start[i]; a < start[i+1]; a++ {
			o := m.off[a]
			cnt := p.counts[o : o+int32(k)]
			for c := range cnt {
				cnt[c] += t[c]
			}
		}
	}
}

// mstep re-estimates the class priors and every confusion matrix from the
// partitions' counts plus the Dirichlet pseudo-counts alpha.
func (m *model) mstep() {
	k := m.k
	counts := m.parts[0].counts
	pi := m.parts[0].piSum
	for _, p := range m.parts[1:] {
		for i, v := range p.counts {
			counts[i] += v
		}
		for c, v := range p.piSum {
			pi[c] += v
		}
	}
	// Class priors, with one pseudo-photo per class so that a class no
	// photo holds yet keeps a chance.
	n := float64(len(m.d.photos))
	for c := range k {
		m.logPi[c] = math.Log((pi[c] + 1) / (n + float64(k)))
	}
	// Inspector j, true class c: normalise over answered classes l.
	denom := make([]float64, k)
	for j := range len(m.d.inspectors) {
		base := j * k * k
		clear(denom)
		for l := range k {
			row := base + l*k
			for c := range k {
				denom[c] += counts[row+c] + m.alpha[row+c]
			}
		}
		for l := range k {
			row := base + l*k
			for c := range k {
				var p float64
				if denom[c] > 0 {
					p = (counts[row+c] + m.alpha[row+c]) / denom[c]
				} else {
					p = 1 / float64(k)
				}
				m.logTheta[row+c] = math.Log(max(p, minProb))
			}
		}
	}
}

// loglik sums the partitions' log-likelihoods in partition order.
func (m *model) loglik() float64 {
	ll := 0.0
	for _, p := range m.parts {
		ll += p.ll
	}
	return ll
}

// confusion returns inspector j's confusion matrix, [true][answered].
func (m *model) confusion(j int) [][]float64 {
	k := m.k
	out := make([][]float64, k)
	for c := range k {
		out[c] = make([]float64, k)
		for l := range k {
			out[c][l] = math.Exp(m.logTheta[(j*k+l)*k+c])
		}
	}
	return out
}
