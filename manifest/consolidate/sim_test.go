package consolidate_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/reviewlens/reviewlens/manifest"
	"github.com/reviewlens/reviewlens/manifest/consolidate"
)

// An inspector of a simulation answers the true class with probability
// acc, else one of the other classes at random. A spammer answers any
// class at random, whatever the photo; a lazy one always answers class 0.
type simInspector struct {
	id      string
	acc     float64
	spammer bool
	lazy    bool
	// confuses, when set, is a pair of classes {a, b}: on photos of class
	// a the inspector answers b with probability 0.6.
	confuses []int
}

// simulation is a labelling job with a known truth.
type simulation struct {
	answers *consolidate.Answers
	truth   map[string]int // photo -> true class
	// right and total count each inspector's right and total answers.
	right, total map[string]int
}

var simClasses = []string{"product", "packaging", "full-length", "half-length"}

// simulate makes photos photos of classes drawn from priors, each answered
// by perPhoto inspectors drawn at random (all of them when perPhoto is
// their number).
func simulate(tb testing.TB, seed uint64, photos int, priors []float64, inspectors []simInspector, perPhoto int) *simulation {
	tb.Helper()
	classes, err := manifest.NewClassMap(simClasses[:len(priors)]...)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	k := len(priors)
	sim := &simulation{answers: consolidate.NewAnswers(classes), truth: map[string]int{}, right: map[string]int{}, total: map[string]int{}}
	order := make([]int, len(inspectors))
	for i := range order {
		order[i] = i
	}
	for p := range photos {
		photo := fmt.Sprintf("s3://reviews/photos/%05d.jpg", p)
		u, truth := rng.Float64(), k-1
		for c, pr := range priors {
			if u < pr {
				truth = c
				break
			}
			u -= pr
		}
		sim.truth[photo] = truth
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, j := range order[:perPhoto] {
			in := inspectors[j]
			var label int
			switch {
			case in.spammer:
				label = rng.IntN(k)
			case in.lazy:
				label = 0
			case in.confuses != nil && truth == in.confuses[0] && rng.Float64() < 0.6:
				label = in.confuses[1]
			case rng.Float64() < in.acc:
				label = truth
			default:
				label = (truth + 1 + rng.IntN(k-1)) % k
			}
			if label == truth {
				sim.right[in.id]++
			}
			sim.total[in.id]++
			if err := sim.answers.Add(consolidate.Answer{Photo: photo, Inspector: in.id, Label: simClasses[label], File: "sim"}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return sim
}

// accuracy is the share of photos whose consolidated label is the truth.
func (s *simulation) accuracy(res *consolidate.Result) float64 {
	right := 0
	for i, photo := range res.Photos {
		if res.Label[i] == s.truth[photo] {
			right++
		}
	}
	return float64(right) / float64(len(res.Photos))
}

func consolidateSim(tb testing.TB, s *simulation, opts consolidate.Options) *consolidate.Result {
	tb.Helper()
	res, err := consolidate.Consolidate(context.Background(), s.answers, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// The five inspectors of the issue: accuracies from 0.95 down to 0.6, and a
// spammer.
var fiveInspectors = []simInspector{
	{id: "ana", acc: 0.95}, {id: "ben", acc: 0.85}, {id: "cho", acc: 0.75},
	{id: "dev", acc: 0.6}, {id: "eve", spammer: true},
}

// accuracyTolerance is how far an estimated inspector accuracy may be from
// the share of their answers that were actually right, on 2,000 photos.
const accuracyTolerance = 0.03

func TestDawidSkeneBeatsMajority(t *testing.T) {
	uniform := []float64{0.25, 0.25, 0.25, 0.25}
	skewed := []float64{0.5, 0.25, 0.15, 0.1}
	tests := []struct {
		name       string
		priors     []float64
		inspectors []simInspector
		perPhoto   int
		// strictly: Dawid–Skene must be better than majority vote, not
		// only as good.
		strictly bool
		// slack lets Dawid–Skene fall that much below majority vote: with
		// equally good inspectors it has nothing to learn, and a tie
		// between three different answers is decided by noise in the
		// estimated matrices instead of by class order.
		slack float64
		// overWeighted: Dawid–Skene must also beat the weighted majority
		// vote.
		overWeighted bool
	}{
		{name: "five inspectors, all on every photo", priors: uniform, inspectors: fiveInspectors, perPhoto: 5, strictly: true},
		{name: "five inspectors, three a photo", priors: skewed, inspectors: fiveInspectors, perPhoto: 3, strictly: true},
		{name: "lazy inspector always answers product", priors: skewed, perPhoto: 3, strictly: true, inspectors: []simInspector{
			{id: "ana", acc: 0.9}, {id: "ben", acc: 0.8}, {id: "cho", acc: 0.7}, {id: "lazy", lazy: true}}},
		// Two inspectors take full-length photos for half-length ones: only
		// a confusion matrix per inspector sees that their half-length on a
		// full-length photo means little.
		{name: "two inspectors confuse full-length and half-length", priors: uniform, perPhoto: 3, strictly: true, overWeighted: true, inspectors: []simInspector{
			{id: "ana", acc: 0.95}, {id: "ben", acc: 0.95, confuses: []int{2, 3}}, {id: "cho", acc: 0.95, confuses: []int{2, 3}}}},
		{name: "equally good inspectors", priors: uniform, perPhoto: 3, slack: 0.01, inspectors: []simInspector{
			{id: "a", acc: 0.8}, {id: "b", acc: 0.8}, {id: "c", acc: 0.8}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := simulate(t, 17, 2000, tt.priors, tt.inspectors, tt.perPhoto)
			ds := consolidateSim(t, sim, consolidate.Options{})
			mv := consolidateSim(t, sim, consolidate.Options{Method: consolidate.PlainMajority})
			wmv := consolidateSim(t, sim, consolidate.Options{Method: consolidate.Majority})
			dsAcc, mvAcc, wmvAcc := sim.accuracy(ds), sim.accuracy(mv), sim.accuracy(wmv)
			t.Logf("accuracy: dawid-skene %.4f (%d iterations, converged %v), weighted majority %.4f, majority %.4f",
				dsAcc, ds.Iterations, ds.Converged, wmvAcc, mvAcc)
			switch {
			case tt.strictly && dsAcc <= mvAcc:
				t.Errorf("dawid-skene accuracy %.4f, majority vote %.4f: want dawid-skene better", dsAcc, mvAcc)
			case dsAcc < mvAcc-tt.slack:
				t.Errorf("dawid-skene accuracy %.4f, majority vote %.4f: want dawid-skene at least as good (less %.2f)", dsAcc, mvAcc, tt.slack)
			}
			if tt.overWeighted && dsAcc <= wmvAcc {
				t.Errorf("dawid-skene accuracy %.4f, weighted majority vote %.4f: want dawid-skene better", dsAcc, wmvAcc)
			}
			if !ds.Converged {
				t.Errorf("EM did not converge in %d iterations", ds.Iterations)
			}
			// Every inspector's accuracy is recovered.
			for _, w := range ds.Workers {
				actual := float64(sim.right[w.InspectorID]) / float64(sim.total[w.InspectorID])
				t.Logf("inspector %s: estimated accuracy %.3f, actual %.3f", w.InspectorID, w.Accuracy, actual)
				if got := w.Accuracy; math.Abs(got-actual) > accuracyTolerance {
					t.Errorf("inspector %s: estimated accuracy %.3f, actual %.3f: want within %.2f", w.InspectorID, got, actual, accuracyTolerance)
				}
				if got, want := w.Labels, sim.total[w.InspectorID]; got != want {
					t.Errorf("inspector %s: %d labels, want %d", w.InspectorID, got, want)
				}
			}
		})
	}
}

// The weighted majority vote learns to ignore the spammer too.
func TestWeightedMajorityBeatsPlain(t *testing.T) {
	sim := simulate(t, 5, 2000, []float64{0.25, 0.25, 0.25, 0.25}, fiveInspectors, 5)
	mv := consolidateSim(t, sim, consolidate.Options{Method: consolidate.PlainMajority})
	wmv := consolidateSim(t, sim, consolidate.Options{Method: consolidate.Majority})
	if got, plain := sim.accuracy(wmv), sim.accuracy(mv); got <= plain {
		t.Errorf("weighted majority accuracy %.4f, plain %.4f: want better", got, plain)
	}
	weight := map[string]float64{}
	for _, w := range wmv.Workers {
		weight[w.InspectorID] = w.Weight
	}
	for _, pair := range [][2]string{{"ana", "ben"}, {"ben", "cho"}, {"cho", "dev"}, {"dev", "eve"}} {
		if weight[pair[0]] <= weight[pair[1]] {
			t.Errorf("weight of %s %.3f, of %s %.3f: want the more accurate one heavier", pair[0], weight[pair[0]], pair[1], weight[pair[1]])
		}
	}
}

// The result is the same whatever the number of goroutines and the order
// in which the answers were added.
func TestDeterministic(t *testing.T) {
	sim := simulate(t, 3, 500, []float64{0.4, 0.3, 0.2, 0.1}, fiveInspectors, 3)
	one := consolidateSim(t, sim, consolidate.Options{Workers: 1})
	many := consolidateSim(t, sim, consolidate.Options{Workers: 7})

	// The same answers, added in reverse.
	rev := consolidate.NewAnswers(sim.answers.Classes())
	var all []consolidate.Answer
	for i := range sim.answers.Len() {
		all = append(all, consolidate.AnswerAt(sim.answers, i))
	}
	for i := len(all) - 1; i >= 0; i-- {
		if err := rev.Add(all[i]); err != nil {
			t.Fatal(err)
		}
	}
	reversed := consolidateSim(t, &simulation{answers: rev}, consolidate.Options{})
	for name, other := range map[string]*consolidate.Result{"7 workers": many, "reversed input": reversed} {
		if one.Iterations != other.Iterations || one.LogLikelihood != other.LogLikelihood {
			t.Errorf("%s: %d iterations, log-likelihood %v; want %d, %v", name, other.Iterations, other.LogLikelihood, one.Iterations, one.LogLikelihood)
		}
		for i := range one.Posterior {
			if one.Posterior[i] != other.Posterior[i] {
				t.Fatalf("%s: posterior %d = %v, want %v", name, i, other.Posterior[i], one.Posterior[i])
			}
		}
	}
}
