package credittest_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/credittest"
)

// The calibrated world is what it says: 93% top-1, balanced classes, a
// model whose confidence is its accuracy, and never surer than its floor
// allows.
func TestCalibratedWorld(t *testing.T) {
	w := credittest.Calibrated()
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 60000
	right, conf := 0, 0.0
	counts := make([]int, len(w.Classes))
	ceiling := 1 - w.Floor*float64(len(w.Classes)-1)/float64(len(w.Classes))
	for range n {
		ph := w.Photo(rng)
		sum := 0.0
		for _, p := range ph.Probabilities {
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("probabilities %v sum to %g", ph.Probabilities, sum)
		}
		top := ph.Predicted()
		if ph.Probabilities[top] > ceiling+1e-12 {
			t.Fatalf("top probability %g above the ceiling %g", ph.Probabilities[top], ceiling)
		}
		if top == ph.True {
			right++
		}
		conf += ph.Probabilities[top]
		counts[ph.True]++
	}
	se := math.Sqrt(0.93 * 0.07 / n)
	if got := float64(right) / n; math.Abs(got-0.93) > 4*se+0.002 {
		t.Errorf("top-1 accuracy %.4f, want 0.93", got)
	}
	// Calibrated: the mean confidence is the accuracy.
	if got, acc := conf/n, float64(right)/n; math.Abs(got-acc) > 4*se {
		t.Errorf("mean confidence %.4f, accuracy %.4f: want them equal", got, acc)
	}
	for i, c := range counts {
		if got := float64(c) / n; math.Abs(got-0.25) > 0.01 {
			t.Errorf("class %s: %.3f of the photos, want 0.25", w.Classes[i], got)
		}
	}
}

func TestEvaluateAndHindsight(t *testing.T) {
	w := credittest.Calibrated()
	p, err := credit.DefaultPolicyFor(w.Classes)
	if err != nil {
		t.Fatal(err)
	}
	day := w.Day(rand.New(rand.NewPCG(2, 2)), 3000, []string{"product", "style"})
	// Nothing is certified: every review goes to a person.
	o, err := w.Evaluate(p, day)
	if err != nil {
		t.Fatal(err)
	}
	if o.Reviews != 3000 || o.Manual != 3000 || o.Decided() != 0 || o.Accuracy() != 1 {
		t.Errorf("outcome %+v, want 3000 reviews, all manual", o)
	}
	// A quarter of the reviews qualify.
	if got := float64(o.Qualifying) / 3000; math.Abs(got-0.25) > 0.03 {
		t.Errorf("%.3f of the reviews qualify, want about 0.25", got)
	}
	// Thresholds at 0.9 decide most reviews, mostly right.
	q := p.WithThresholds(map[string]credit.Threshold{"product": {Grant: 0.9, Reject: 0.9}, "style": {Grant: 0.9, Reject: 0.9}}, nil)
	o, err = w.Evaluate(q, day)
	if err != nil {
		t.Fatal(err)
	}
	if o.Coverage() < 0.8 || o.Accuracy() < 0.95 || o.GrantedShare() < 0.7 {
		t.Errorf("at 0.9: coverage %.3f, accuracy %.4f, qualifying granted %.3f", o.Coverage(), o.Accuracy(), o.GrantedShare())
	}
	// The hindsight optimum decides more on decision scores than on the
	// top class's confidence, and most of the day at 98%.
	dec, top := w.Hindsight(p, day, 0.98, true), w.Hindsight(p, day, 0.98, false)
	if !(dec >= top && dec > 0.85 && dec <= 1) {
		t.Errorf("hindsight %.3f on decision scores, %.3f on the top confidence", dec, top)
	}
}
