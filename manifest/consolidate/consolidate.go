package consolidate

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"github.com/reviewlens/reviewlens/manifest"
)

// A Method consolidates the answers of several inspectors into one label a
// photo.
type Method string

// Methods.
const (
	// DawidSkene estimates every inspector's confusion matrix and the class
	// priors by EM, and labels each photo with its most probable class.
	DawidSkene Method = "dawid-skene"
	// Majority is a weighted majority vote: each inspector's vote weighs
	// the log-odds of their accuracy (see Weight), taken from the trust
	// or estimated from how often they agree with the others.
	Majority Method = "majority"
	// PlainMajority counts every vote once; the confidence is the share of
	// votes for the chosen class.
	PlainMajority Method = "plain-majority"
)

// Methods lists the methods, for a flag's help.
var Methods = []Method{DawidSkene, Majority, PlainMajority}

// Defaults of Options.
const (
	DefaultPriorAccuracy = 0.7
	DefaultPriorStrength = 2
	DefaultMaxIterations = 100
	DefaultTolerance     = 1e-6
)

// Options choose the method and tune it. The zero value runs Dawid–Skene
// with the defaults above.
type Options struct {
	// Method is DawidSkene (the default when empty), Majority or
	// PlainMajority.
	Method Method
	// Trust gives some inspectors, by id, a prior accuracy: the Dirichlet
	// prior of their confusion matrix under DawidSkene, their vote weight
	// under Majority. PlainMajority ignores it.
	Trust map[string]Trust
	// PriorAccuracy is the prior accuracy of every inspector the trust
	// does not name; 0 means DefaultPriorAccuracy (Ground Truth's EM starts
	// from 0.7 too).
	PriorAccuracy float64
	// PriorStrength is how many answers per true class that prior is
	// worth; 0 means DefaultPriorStrength, negative means no prior. It
	// smooths the confusion matrices of inspectors with few answers, who
	// would otherwise be judged on a handful of photos.
	PriorStrength float64
	// MaxIterations caps the EM iterations; 0 means DefaultMaxIterations.
	MaxIterations int
	// Tolerance stops EM once the log-likelihood grows by less than this
	// per answer in one iteration; 0 means DefaultTolerance.
	Tolerance float64
	// Workers is the number of goroutines of the E-step; 0 means
	// GOMAXPROCS. The result does not depend on it.
	Workers int
}

// A Result is the consolidated label of every photo and what was learned of
// every inspector.
type Result struct {
	Method  Method
	Classes *manifest.ClassMap
	// Photos are the photos' URIs, sorted; Label, Confidence and Posterior
	// follow the same order.
	Photos []string
	// Label is the chosen class of each photo: the most probable one, ties
	// going to the lowest class index.
	Label []int
	// Posterior holds each photo's probability of every class, K values a
	// photo (Posterior[i*K+c]).
	Posterior []float64
	// Priors are the class priors (Dawid–Skene), or the share of photos
	// labelled with each class (majority methods).
	Priors []float64
	// Workers describes every inspector, sorted by id.
	Workers []WorkerRow
	// Iterations is the number of EM iterations (0 for majority methods);
	// Converged says whether the tolerance was met before MaxIterations.
	Iterations int
	Converged  bool
	// LogLikelihood is the log-likelihood of the answers under the final
	// Dawid–Skene model; NaN for majority methods.
	LogLikelihood float64
	// Answers counts the answers consolidated; Superseded lists the answers
	// left out because the same inspector answered the same photo again
	// later (the later answer counts).
	Answers    int
	Superseded []Answer

	a *Answers
	d *dense
}

// Confidence returns the posterior of photo i's chosen class.
func (r *Result) Confidence(i int) float64 {
	k := r.Classes.Len()
	return r.Posterior[i*k+r.Label[i]]
}

// Consolidate labels every photo from its answers. It is deterministic:
// the same answers and options give the same result on any machine.
func Consolidate(ctx context.Context, a *Answers, opts Options) (*Result, error) {
	k := a.classes.Len()
	if k < 2 {
		return nil, fmt.Errorf("consolidate: %d classes, want at least 2", k)
	}
	if a.Len() == 0 {
		return nil, fmt.Errorf("consolidate: %w", ErrNoAnswers)
	}
	method := opts.Method
	if method == "" {
		method = DawidSkene
	}
	switch method {
	case DawidSkene, Majority, PlainMajority:
	default:
		return nil, fmt.Errorf("consolidate: method %q, want one of %v", opts.Method, Methods)
	}
	for id, t := range opts.Trust {
		if !(t.Accuracy > 0 && t.Accuracy < 1) || t.Strength < 0 {
			return nil, fmt.Errorf("consolidate: trust of %q: accuracy %g, strength %g: want an accuracy in (0, 1) and a strength >= 0", id, t.Accuracy, t.Strength)
		}
	}
	d := a.layout()
	res := &Result{
		Method:        method,
		Classes:       a.classes,
		Photos:        d.photos,
		Label:         make([]int, len(d.photos)),
		Answers:       len(d.insp),
		LogLikelihood: math.NaN(),
		a:             a,
		d:             d,
	}
	for _, i := range d.superseded {
		res.Superseded = append(res.Superseded, a.answer(int(i)))
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	m := newModel(d, priorCounts(d, opts), workers)
	trustAcc := trustAccuracies(d, opts)
	var weights []float64
	switch method {
	case DawidSkene:
		if err := dawidSkene(ctx, m, opts, res); err != nil {
			return nil, err
		}
	case Majority:
		weights = voteWeights(d, trustAcc, opts)
		majority(m, weights, true)
	case PlainMajority:
		weights = make([]float64, len(d.inspectors))
		for j := range weights {
			weights[j] = 1
		}
		majority(m, weights, false)
	}
	res.Posterior = m.post
	for i := range d.photos {
		res.Label[i] = argmax(m.post[i*k : i*k+k])
	}
	if method != DawidSkene {
		// The confusion matrices the votes imply.
		m.run(m.accumulate)
		m.mstep()
		res.Priors = make([]float64, k)
		for _, l := range res.Label {
			res.Priors[l]++
		}
		for c := range res.Priors {
			res.Priors[c] /= float64(len(d.photos))
		}
	} else {
		res.Priors = make([]float64, k)
		for c, lp := range m.logPi {
			res.Priors[c] = math.Exp(lp)
		}
	}
	res.Workers = workerRows(m, res, trustAcc, weights)
	return res, nil
}

// dawidSkene runs EM from a majority-vote start until the log-likelihood
// settles.
func dawidSkene(ctx context.Context, m *model, opts Options, res *Result) error {
	maxIter := opts.MaxIterations
	if maxIter <= 0 {
		maxIter = DefaultMaxIterations
	}
	tol := opts.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	votes := make([]float64, len(m.d.inspectors))
	for j := range votes {
		votes[j] = 1
	}
	majority(m, votes, false)
	m.run(m.accumulate)
	m.mstep()
	prev := math.Inf(-1)
	n := float64(len(m.d.insp))
	for it := 1; it <= maxIter; it++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		m.run(m.estep)
		ll := m.loglik()
		res.Iterations, res.LogLikelihood = it, ll
		m.mstep()
		if math.Abs(ll-prev) < tol*n {
			res.Converged = true
			break
		}
		prev = ll
	}
	return nil
}

// majority sets every photo's posterior from weighted votes: the softmax
// of the summed weights when softmax (the one-coin posterior under
// uniform class priors), else the weighted share of votes.
func majority(m *model, weights []float64, softmax bool) {
	d, k := m.d, m.k
	for i := range d.photos {
		t := m.post[i*k : i*k+k]
		clear(t)
		for a := d.start[i]; a < d.start[i+1]; a++ {
			t[d.label[a]] += weights[d.insp[a]]
		}
		if softmax {
			mx := t[0]
			for _, v := range t[1:] {
				mx = max(mx, v)
			}
			for c, v := range t {
				t[c] = math.Exp(v - mx)
			}
		}
		sum := 0.0
		for _, v := range t {
			sum += v
		}
		for c := range t {
			if sum > 0 {
				t[c] /= sum
			} else {
				t[c] = 1 / float64(k)
			}
		}
	}
}

// minWeight is the vote weight of an inspector no better than chance: not
// zero, so that their votes still break ties between inspectors who are.
const minWeight = 1e-3

// voteWeights gives each inspector the log-odds weight of their accuracy:
// the trusted one, or else the share of their answers that agree with the
// plurality of the other inspectors on the same photo, smoothed by the
// prior (a tie among the others shares the credit).
func voteWeights(d *dense, trustAcc []float64, opts Options) []float64 {
	k := d.k
	a0, m0 := priorOf(opts)
	agree := make([]float64, len(d.inspectors))
	seen := make([]float64, len(d.inspectors))
	votes := make([]int32, k)
	for i := range d.photos {
		clear(votes)
		for a := d.start[i]; a < d.start[i+1]; a++ {
			votes[d.label[a]]++
		}
		for a := d.start[i]; a < d.start[i+1]; a++ {
			l := d.label[a]
			votes[l]--
			best, ties := int32(0), 0
			for _, v := range votes {
				switch {
				case v > best:
					best, ties = v, 1
				case v == best && v > 0:
					ties++
				}
			}
			if best > 0 {
				j := d.insp[a]
				seen[j]++
				if votes[l] == best {
					agree[j] += 1 / float64(ties)
				}
			}
			votes[l]++
		}
	}
	w := make([]float64, len(d.inspectors))
	for j := range w {
		acc := trustAcc[j]
		if math.IsNaN(acc) {
			acc = (agree[j] + a0*m0) / (seen[j] + m0)
			acc = min(max(acc, minProb), 1-1e-6)
		}
		w[j] = max(Weight(acc, k), minWeight)
	}
	return w
}

// priorOf returns the prior accuracy and strength of inspectors the trust
// does not name.
func priorOf(opts Options) (acc, strength float64) {
	acc, strength = opts.PriorAccuracy, opts.PriorStrength
	if acc <= 0 || acc >= 1 {
		acc = DefaultPriorAccuracy
	}
	switch {
	case strength == 0:
		strength = DefaultPriorStrength
	case strength < 0:
		strength = 0
	}
	return acc, strength
}

// trustAccuracies returns each inspector's trusted accuracy, NaN for none.
func trustAccuracies(d *dense, opts Options) []float64 {
	out := make([]float64, len(d.inspectors))
	for j, id := range d.inspectors {
		out[j] = math.NaN()
		if t, ok := opts.Trust[id]; ok {
			out[j] = t.Accuracy
		}
	}
	return out
}

// priorCounts returns the Dirichlet pseudo-counts of every confusion
// matrix (layout of model.logTheta): each true class's row is a one-coin
// row of the inspector's prior accuracy, worth its strength in answers.
func priorCounts(d *dense, opts Options) []float64 {
	k := d.k
	a0, m0 := priorOf(opts)
	alpha := make([]float64, len(d.inspectors)*k*k)
	for j, id := range d.inspectors {
		acc, strength := a0, m0
		if t, ok := opts.Trust[id]; ok {
			acc, strength = t.Accuracy, t.Strength
			if strength == 0 {
				strength = DefaultTrustStrength
			}
		}
		for l := range k {
			for c := range k {
				p := (1 - acc) / float64(k-1)
				if l == c {
					p = acc
				}
				alpha[(j*k+l)*k+c] = strength * p
			}
		}
	}
	return alpha
}

// argmax returns the index of the largest value, the lowest on a tie.
func argmax(v []float64) int {
	best := 0
	for c := 1; c < len(v); c++ {
		if v[c] > v[best] {
			best = c
		}
	}
	return best
}

// workerRows describes every inspector: answers, estimated accuracy (the
// mean posterior of the classes they answered), agreement with the
// consolidated labels, confusion matrix, trust and weight.
func workerRows(m *model, res *Result, trustAcc, weights []float64) []WorkerRow {
	d, k := m.d, m.k
	rows := make([]WorkerRow, len(d.inspectors))
	acc := make([]float64, len(d.inspectors))
	agree := make([]float64, len(d.inspectors))
	for i := range d.photos {
		for a := d.start[i]; a < d.start[i+1]; a++ {
			j, l := d.insp[a], d.label[a]
			rows[j].Labels++
			acc[j] += m.post[i*k+int(l)]
			if int(l) == res.Label[i] {
				agree[j]++
			}
		}
	}
	for j, id := range d.inspectors {
		r := &rows[j]
		r.InspectorID = id
		n := float64(r.Labels)
		r.Accuracy = acc[j] / n
		r.Agreement = agree[j] / n
		r.TrustAccuracy = trustAcc[j]
		r.Confusion = m.confusion(j)
		if weights != nil {
			r.Weight = weights[j]
		} else {
			r.Weight = Weight(min(max(r.Accuracy, minProb), 1-1e-6), k)
		}
	}
	return rows
}
