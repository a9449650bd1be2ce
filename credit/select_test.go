package credit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

var allMethods = []struct {
	name   string
	method Method
}{
	{"default", MethodDefault},
	{"allowance", MethodAllowance},
	{"fixed sequence", MethodFixedSequence},
	{"quantiles", MethodQuantiles},
	{"SGR", MethodSGR},
	{"allowance from the top", MethodAllowanceTop},
}

// checkSelection holds a selection to what its fields promise about data.
func checkSelection(tb testing.TB, data []Scored, opts SelectOptions, sel Selection) {
	tb.Helper()
	if sel.Procedure == "" {
		tb.Errorf("no Procedure")
	}
	if !sel.Certified {
		if !math.IsInf(sel.Threshold, 1) || sel.N != 0 || sel.Coverage != 0 {
			tb.Errorf("not certified, but threshold %g, %d photos, coverage %g", sel.Threshold, sel.N, sel.Coverage)
		}
		if sel.Reason == "" {
			tb.Errorf("not certified, and no Reason")
		}
		return
	}
	if sel.Reason != "" {
		tb.Errorf("certified, with Reason %q", sel.Reason)
	}
	n, k := 0, 0
	for _, d := range data {
		if d.Score >= sel.Threshold {
			n++
			if d.Wrong {
				k++
			}
		}
	}
	if sel.N != n || sel.K != k {
		tb.Errorf("threshold %g: N, K = %d, %d; the data have %d photos at or above it, %d wrong", sel.Threshold, sel.N, sel.K, n, k)
	}
	if got, want := sel.Coverage, float64(n)/float64(len(data)); got != want {
		tb.Errorf("Coverage = %g, want %g", got, want)
	}
	if got, want := sel.Accuracy, 1-float64(k)/float64(n); got != want {
		tb.Errorf("Accuracy = %g, want %g", got, want)
	}
	if sel.CertifiedAccuracy < opts.TargetAccuracy-1e-12 || sel.CertifiedAccuracy > sel.Accuracy {
		tb.Errorf("CertifiedAccuracy = %g, want between the target %g and the accuracy %g", sel.CertifiedAccuracy, opts.TargetAccuracy, sel.Accuracy)
	}
	if got, want := sel.CertifiedAccuracy, 1-UpperBound(k, n, sel.Level); got != want {
		tb.Errorf("CertifiedAccuracy = %g, want 1 − UpperBound(%d, %d, %g) = %g", got, k, n, sel.Level, want)
	}
	levels := map[Method][]float64{
		MethodDefault: {0.8 * opts.Delta, 0.2 * opts.Delta}, MethodAllowance: {0.8 * opts.Delta, 0.2 * opts.Delta},
		MethodSGR: {opts.Delta / float64(sgrProbes(len(data)))},
	}[opts.Method]
	if levels == nil {
		levels = []float64{opts.Delta}
	}
	if !slices.ContainsFunc(levels, func(l float64) bool { return math.Abs(l-sel.Level) < 1e-12 }) {
		tb.Errorf("Level = %g, want one of %v", sel.Level, levels)
	}
}

// separable is right photos at distinct scores in (0.5, 1] above wrong
// photos: at distinct scores in [0.1, 0.4], or all at 0.4 when tied.
func separable(right, wrong int, tied bool) []Scored {
	var data []Scored
	for i := range right {
		data = append(data, Scored{Score: 0.5 + 0.5*float64(i+1)/float64(right)})
	}
	for i := range wrong {
		s := 0.4
		if !tied {
			s = 0.4 - 0.3*float64(i)/float64(wrong)
		}
		data = append(data, Scored{Score: s, Wrong: true})
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	return data
}

func TestSelectSeparable(t *testing.T) {
	opts := SelectOptions{TargetAccuracy: 0.98, Delta: 0.05}
	// An allowance walk stops at a count where the errors allowed grow:
	// at the last need[j] within the 1800 right photos, need being the
	// table at its level. The default keeps the lower of its two walks'.
	stepBelow := func(delta float64) int {
		need := allowance(0.02, delta, 2000)
		return need[sort.SearchInts(need, 1801)-1]
	}
	stepDefault := max(stepBelow(0.8*0.05), stepBelow(0.2*0.05))

	t.Run("tied wrong photos", func(t *testing.T) {
		// All wrong photos share a score: they are all in or all out, and
		// all in fails. So every method stops above them.
		data := separable(1800, 200, true)
		for _, m := range allMethods {
			t.Run(m.name, func(t *testing.T) {
				o := opts
				o.Method = m.method
				sel := Select(data, o)
				checkSelection(t, data, o, sel)
				if !sel.Certified || sel.K != 0 || !(sel.Threshold > 0.4) {
					t.Fatalf("Select = %+v, want certified with no wrong photo, threshold above 0.4", sel)
				}
				switch m.method {
				case MethodFixedSequence:
					// The grid point just above the wrong photos.
					if got, want := sel.Threshold, 0.401; math.Abs(got-want) > 1e-9 || sel.N != 1800 {
						t.Errorf("threshold %g with %d photos, want %g with all 1800 right ones", got, sel.N, want)
					}
				case MethodDefault, MethodAllowance:
					if sel.N != stepDefault {
						t.Errorf("%d photos, want %d, the last allowance step within the right ones", sel.N, stepDefault)
					}
				case MethodAllowanceTop:
					if want := stepBelow(0.05); sel.N != want {
						t.Errorf("%d photos, want %d, the last allowance step within the right ones", sel.N, want)
					}
				default:
					if sel.N < 1800*0.95 {
						t.Errorf("%d photos, want nearly all 1800 right ones", sel.N)
					}
				}
			})
		}
	})

	t.Run("wrong photos just below", func(t *testing.T) {
		// With distinct scores the threshold may take in a few of the
		// highest wrong photos, as 98% allows.
		data := separable(1800, 200, false)
		for _, m := range allMethods {
			t.Run(m.name, func(t *testing.T) {
				o := opts
				o.Method = m.method
				sel := Select(data, o)
				checkSelection(t, data, o, sel)
				if !sel.Certified {
					t.Fatalf("not certified: %s", sel.Reason)
				}
				if got := sel.N - sel.K; got < 1800*0.95 && got != stepDefault && got != stepBelow(0.05) {
					t.Errorf("%d right photos decided, want nearly all 1800", got)
				}
				if sel.K > 0 && sel.N-sel.K != 1800 {
					t.Errorf("%d wrong photos decided but only %d of the 1800 right ones", sel.K, sel.N-sel.K)
				}
				if math.Abs(sel.Coverage-0.9) > 0.05 {
					t.Errorf("coverage %.3f, want about 0.9, the share of right photos", sel.Coverage)
				}
			})
		}
	})
}

func TestSelectCannotCertify(t *testing.T) {
	right := func(n int) []Scored {
		data := make([]Scored, n)
		for i := range data {
			data[i] = Scored{Score: float64(i+1) / float64(n)}
		}
		return data
	}
	tenPercent := right(5000)
	for i := range tenPercent {
		tenPercent[i].Wrong = i%10 == 3 // 10% wrong at every score
	}
	nan := right(500)
	for i := range nan {
		nan[i].Score = math.NaN()
	}
	tests := []struct {
		name   string
		data   []Scored
		target float64
		delta  float64
		reason string // its start
	}{
		{"too few photos", right(120), 0.98, 0.05, "only 120 calibration photos; at least 149 are needed to certify 98% even with no error"},
		{"too few at 95%", right(58), 0.95, 0.05, "only 58 calibration photos; at least 59 are needed to certify 95% even with no error"},
		{"empty", nil, 0.98, 0.05, "no calibration photos; at least 149 are needed to certify 98% even with no error"},
		{"no scores", nan, 0.98, 0.05, "none of the 500 calibration photos has a score; at least 149 are needed to certify 98% even with no error"},
		{"10% wrong everywhere", tenPercent, 0.98, 0.05, "too many errors: "},
		{"10% wrong at 95%", tenPercent, 0.95, 0.05, "too many errors: "},
		{"target 1", right(1000), 1, 0.05, "target accuracy 1 is not a number between 0 and 1"},
		{"delta 0", right(1000), 0.98, 0, "delta 0 is not a number between 0 and 1"},
	}
	for _, tt := range tests {
		for _, m := range allMethods {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				opts := SelectOptions{TargetAccuracy: tt.target, Delta: tt.delta, Method: m.method}
				sel := Select(tt.data, opts)
				if sel.Certified || !math.IsInf(sel.Threshold, 1) || sel.N != 0 || sel.Coverage != 0 {
					t.Fatalf("Select = %+v, want not certified, threshold +Inf, nothing decided", sel)
				}
				want := tt.reason
				if m.method == MethodSGR {
					// SGR tests at a share of delta, and needs more photos.
					want, _, _ = strings.Cut(want, ";")
				}
				if !strings.HasPrefix(sel.Reason, want) {
					t.Errorf("Reason = %q, want it to start %q", sel.Reason, want)
				}
			})
		}
	}
}

// The reason for too many errors names what was seen and what was
// allowed.
func TestSelectReasonTooManyErrors(t *testing.T) {
	var data []Scored
	for i := range 1000 {
		data = append(data, Scored{Score: float64(1000-i) / 1000, Wrong: i%10 == 3})
	}
	for _, tc := range []struct {
		method Method
		want   string
	}{
		// 1000 photos: the default's deep walk starts at the top 473 (at
		// most half), 47 of them wrong.
		{MethodDefault, "too many errors: 47 wrong among the 473 photos with the highest scores (90.06% right), where certifying 98% allows at most 4"},
		// The walk from the top starts at the top 149, 15 of them wrong.
		{MethodAllowanceTop, "too many errors: 15 wrong among the 149 photos with the highest scores (89.93% right), where certifying 98% allows at most 0"},
	} {
		sel := Select(data, SelectOptions{TargetAccuracy: 0.98, Delta: 0.05, Method: tc.method})
		if sel.Reason != tc.want {
			t.Errorf("method %d: Reason = %q\nwant      %q", tc.method, sel.Reason, tc.want)
		}
	}
}

// Photos with equal scores are all decided or none is, and every field
// agrees with the data, whatever the method.
func TestSelectTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 40 {
		n := 200 + rng.IntN(3000)
		levels := 2 + rng.IntN(40)
		data := make([]Scored, n)
		for i := range data {
			s := math.Round(math.Sqrt(rng.Float64())*float64(levels)) / float64(levels)
			data[i] = Scored{Score: s, Wrong: rng.Float64() < 0.15*(1-s)}
		}
		for _, target := range []float64{0.98, 0.95} {
			for _, m := range allMethods {
				opts := SelectOptions{TargetAccuracy: target, Delta: 0.05, Method: m.method}
				sel := Select(data, opts)
				t.Run(fmt.Sprintf("%d/%g/%s", trial, target, m.name), func(t *testing.T) {
					checkSelection(t, data, opts, sel)
				})
			}
		}
	}
}

// The guarantee, on simulated calibration sets whose true risk is known:
// the true risk at the chosen threshold is above the target's in at most
// a delta of them, but for binomial noise.
func TestSelectGuarantee(t *testing.T) {
	t.Parallel()
	const delta = 0.05
	reps := 1200
	if testing.Short() {
		reps = 300
	}
	tests := []struct {
		name   string
		model  studyModel
		target float64
		n      int
	}{
		// Errors fall with the score, with a floor: the default often
		// certifies close to the oracle, where a slip would show.
		{"floor", simModels[1], 0.95, 1000},
		// Every photo is wrong 2.05% of the time: no threshold is good, so
		// every certificate breaks the guarantee; the walk starts 1 error
		// in (236 photos of 2000), the sharpest test of its level.
		{"flat", simModel{name: "flat", a: 1, b: 1, floor: 0.0205}, 0.98, 2000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := SelectOptions{TargetAccuracy: tt.target, Delta: delta}
			var mu sync.Mutex
			violations, certified := 0, 0
			var wg sync.WaitGroup
			workers := runtime.GOMAXPROCS(0)
			for w := range workers {
				wg.Go(func() {
					for rep := w; rep < reps; rep += workers {
						rng := rand.New(rand.NewPCG(42, uint64(rep)))
						sel := Select(tt.model.draw(rng, tt.n), opts)
						mu.Lock()
						if sel.Certified {
							certified++
						}
						if violates(tt.model, sel, 1-tt.target) {
							violations++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			most := allowedViolations(reps, delta)
			t.Logf("%d of %d calibration sets certified, %d broke the guarantee (at most %d allowed)", certified, reps, violations, most)
			if violations > most {
				t.Errorf("the guarantee broke in %d of %d calibration sets, want at most %d", violations, reps, most)
			}
		})
	}
}

func TestSelectProcedure(t *testing.T) {
	var data []Scored
	for i := range 3000 {
		data = append(data, Scored{Score: float64(i) / 3000})
	}
	tests := []struct {
		method Method
		want   string
	}{
		{MethodDefault, "two walks, keeping the lower threshold they certify: Learn-then-Test fixed sequence, Clopper–Pearson bound at delta 0.04: thresholds at the counts of photos where the errors allowed grow by one (160, 249, 328, 402, …), from the first with 1479 photos (20 errors allowed), until the first that fails; and Learn-then-Test fixed sequence, Clopper–Pearson bound at delta 0.01: thresholds at the counts of photos where the errors allowed grow by one (228, 330, 418, 499, …), from the first with 330 photos (1 errors allowed), until the first that fails"},
		{MethodAllowanceTop, "Learn-then-Test fixed sequence, Clopper–Pearson bound at delta 0.05: thresholds at the counts of photos where the errors allowed grow by one (149, 236, 313, 386, …), from the first with 313 photos (2 errors allowed), until the first that fails"},
		{MethodFixedSequence, "Learn-then-Test fixed sequence, Clopper–Pearson bound at delta 0.05: thresholds 1, 1−1/1000, …, 0 from the top, from the first with 149 photos, until the first that fails"},
		{MethodQuantiles, "Learn-then-Test fixed sequence, Clopper–Pearson bound at delta 0.05: thresholds taking the top 1/50, 2/50, … of the photos, from the first with 149 photos, until the first that fails"},
		{MethodSGR, "SGR (Geifman and El-Yaniv 2017): binary search over the sorted scores, 12 probes each tested at delta 0.05/12 with the Clopper–Pearson bound, keeping the passing probe with the most photos"},
	}
	for _, tt := range tests {
		sel := Select(data, SelectOptions{TargetAccuracy: 0.98, Delta: 0.05, Method: tt.method})
		if sel.Procedure != tt.want {
			t.Errorf("method %d: Procedure =\n%q\nwant\n%q", tt.method, sel.Procedure, tt.want)
		}
	}
}

func TestRiskCoverage(t *testing.T) {
	var data []Scored
	for i := range 100 {
		data = append(data, Scored{Score: float64(100-i) / 100, Wrong: i%10 == 9})
	}
	data = append(data, Scored{Score: math.NaN()}) // counted, never decided

	curve := RiskCoverage(data, 0.05, 5)
	if len(curve) != 5 {
		t.Fatalf("%d points, want 5", len(curve))
	}
	for i, p := range curve {
		n := 20 * (i + 1)
		want := CurvePoint{
			Threshold: float64(100-n+1) / 100,
			Coverage:  float64(n) / 101,
			Risk:      float64(n/10) / float64(n),
			Bound:     UpperBound(n/10, n, 0.05),
			N:         n,
			K:         n / 10,
		}
		if math.Abs(p.Threshold-want.Threshold) > 1e-12 || p.Coverage != want.Coverage || p.Risk != want.Risk ||
			p.Bound != want.Bound || p.N != want.N || p.K != want.K {
			t.Errorf("point %d = %+v, want %+v", i, p, want)
		}
	}

	if all := RiskCoverage(data, 0.05, 0); len(all) != 100 || all[0].N != 1 || all[99].N != 100 {
		t.Errorf("points 0: %d points from %d to %d photos, want one per score, 1 to 100", len(all), all[0].N, all[len(all)-1].N)
	}
	if got := RiskCoverage(nil, 0.05, 10); len(got) != 0 {
		t.Errorf("no data: %d points, want none", len(got))
	}
	// Ties: 3 distinct scores give 3 points however many are asked for.
	tied := []Scored{{Score: 0.9}, {Score: 0.9}, {Score: 0.8, Wrong: true}, {Score: 0.8}, {Score: 0.1}}
	if got := RiskCoverage(tied, 0.05, 50); len(got) != 3 || got[0].N != 2 || got[1].N != 4 || got[1].K != 1 || got[2].N != 5 {
		t.Errorf("tied: %+v, want points at 2, 4 and 5 photos", got)
	}
}

// A family of 4000 calibration photos whose errors fall with the score.
func ExampleSelect() {
	var data []Scored
	for i := range 4000 {
		score := float64(i+1) / 4000
		every := 5 // below 0.5, one photo in 5 is wrong
		switch {
		case score >= 0.8:
			every = 200
		case score >= 0.5:
			every = 25
		}
		data = append(data, Scored{Score: score, Wrong: i%every == 0})
	}
	sel := Select(data, SelectOptions{TargetAccuracy: 0.98, Delta: 0.05})
	fmt.Printf("certified %v: decide at score >= %.4f\n", sel.Certified, sel.Threshold)
	fmt.Printf("%d photos (%.1f%%), %d wrong: accuracy %.2f%%, certified %.2f%%\n",
		sel.N, 100*sel.Coverage, sel.K, 100*sel.Accuracy, 100*sel.CertifiedAccuracy)

	few := Select(data[:100], SelectOptions{TargetAccuracy: 0.98, Delta: 0.05})
	fmt.Println(few.Certified, few.Reason)
	// Output:
	// certified true: decide at score >= 0.7665
	// 935 photos (23.4%), 9 wrong: accuracy 99.04%, certified 98.00%
	// false only 100 calibration photos; at least 149 are needed to certify 98% even with no error
}
