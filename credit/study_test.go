package credit

import (
	"cmp"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

var study = flag.Bool("study", false, "run the long simulation study of the selection procedures (TestStudy)")

// A simModel is a family with a known answer: scores drawn from
// Beta(a, b), and a photo with score s wrong with probability
// floor + scale·(1−s)^power, so that the true selective risk R(λ) and
// coverage φ(λ) have closed forms.
type simModel struct {
	name                string
	a, b                float64
	floor, scale, power float64
}

// simModels are the families of the study.
var simModels = []simModel{
	// Errors vanish at the top: the easy case for a walk from the top.
	{name: "steep", a: 4, b: 1, scale: 1, power: 2},
	// 0.8% of even the most confident photos are wrong (label noise, an
	// irreducible confusion): a walk that needs 0 errors among its first
	// 149 photos mostly stops there.
	{name: "floor", a: 4, b: 1, floor: 0.008, scale: 0.9, power: 2},
	// Errors fall slowly with the score: the target leaves little coverage.
	{name: "linear", a: 6, b: 1, scale: 0.5, power: 1},
	// A weak, calibrated model (P(wrong) = 1 − score, 80% right): only the
	// top sixth could be automated at 98%, and little of it certified.
	{name: "weak", a: 4, b: 1, scale: 1, power: 1},
}

func (m simModel) pWrong(s float64) float64 {
	return min(1, m.floor+m.scale*math.Pow(1-s, m.power))
}

// tail is P(S >= λ) for S ~ Beta(a, b), computed from the upper side so
// that it keeps its digits near 1.
func tail(a, b, lambda float64) float64 {
	switch {
	case lambda <= 0:
		return 1
	case lambda >= 1:
		return 0
	}
	return mathext.RegIncBeta(b, a, 1-lambda)
}

// coverage is φ(λ) = P(score >= λ).
func (m simModel) coverage(lambda float64) float64 { return tail(m.a, m.b, lambda) }

// risk is R(λ) = P(wrong | score >= λ), from
// E[(1−S)^γ; S >= λ] = B(a, b+γ)/B(a, b) · P(S' >= λ), S' ~ Beta(a, b+γ).
// It assumes floor + scale ≤ 1.
func (m simModel) risk(lambda float64) float64 {
	lambda = max(lambda, 0)
	if lambda >= 1 {
		return m.pWrong(1)
	}
	ratio := math.Exp(mathext.Lbeta(m.a, m.b+m.power) - mathext.Lbeta(m.a, m.b))
	return m.floor + m.scale*ratio*tail(m.a, m.b+m.power, lambda)/tail(m.a, m.b, lambda)
}

// oracle is the lowest threshold whose true risk is at most r, and its
// coverage: the most any procedure could automate (R falls as λ rises).
func (m simModel) oracle(r float64) (lambda, coverage float64) {
	if m.risk(0) <= r {
		return 0, 1
	}
	if m.risk(1-1e-12) > r {
		return math.Inf(1), 0
	}
	lo, hi := 0.0, 1-1e-12 // risk(lo) > r >= risk(hi)
	for range 100 {
		mid := (lo + hi) / 2
		if m.risk(mid) > r {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, m.coverage(hi)
}

func (m simModel) draw(rng *rand.Rand, n int) []Scored {
	score := distuv.Beta{Alpha: m.a, Beta: m.b, Src: rng}.Rand
	if m.b == 1 {
		// Beta(a, 1) by inversion: its CDF is s^a. Much faster.
		score = func() float64 { return math.Pow(rng.Float64(), 1/m.a) }
	}
	data := make([]Scored, n)
	for i := range data {
		s := score()
		data[i] = Scored{Score: s, Wrong: rng.Float64() < m.pWrong(s)}
	}
	return data
}

func (m simModel) label() string { return m.name }

// A studyModel is a family with a known answer: calibration sets drawn
// from it, and its true risk and coverage at every threshold.
type studyModel interface {
	label() string
	draw(rng *rand.Rand, n int) []Scored
	risk(lambda float64) float64
	coverage(lambda float64) float64
	oracle(r float64) (lambda, coverage float64)
}

// violates says whether a selection breaks the guarantee on the model:
// the true risk at its threshold is above r.
func violates(m studyModel, sel Selection, r float64) bool {
	return sel.Certified && m.risk(sel.Threshold) > r*(1+1e-9)
}

// trueCoverage is the share of the photos a selection automates on the
// model.
func trueCoverage(m studyModel, sel Selection) float64 {
	if !sel.Certified {
		return 0
	}
	return m.coverage(sel.Threshold)
}

// A worldModel is a decision family of a perfectly calibrated classifier
// over four balanced classes, the world of issue 13 (credittest.Calibrated,
// rebuilt here, where that package cannot be imported): probability
// vectors drawn from a symmetric Dirichlet(alpha) mixed with the uniform
// vector (weight floor), a photo's true class drawn from its vector. The
// family is the grants (or rejects) of two review types, one qualifying
// class each, pooled as Calibrate pools them under PerDecision: for each
// type, a photo whose qualifying probability q is above 0.5 is a
// candidate grant with score q, wrong with probability 1 − q; below 0.5 a
// candidate reject with score 1 − q, wrong with probability q. The truth
// comes from a large sample of candidates (their expected errors, which a
// calibrated model knows exactly).
type worldModel struct {
	name         string
	alpha, floor float64
	grant        bool

	once   sync.Once
	scores []float64 // the population's scores, highest first
	errs   []float64 // running sum of their chances of being wrong
}

var worldModels = []*worldModel{
	{name: "world-grant", alpha: 0.0323, floor: 0.0123, grant: true},
	{name: "world-reject", alpha: 0.0323, floor: 0.0123, grant: false},
}

func (m *worldModel) label() string { return m.name }

// candidates scores one photo for both review types (qualifying classes 0
// and 1), appending the family's candidates and their chance of being
// wrong to out.
func (m *worldModel) candidates(rng *rand.Rand, out []Scored, wrongP []float64) ([]Scored, []float64) {
	const k = 4
	var p [k]float64
	top := math.Inf(-1)
	for i := range p {
		p[i] = math.Log(distuv.Gamma{Alpha: m.alpha + 1, Beta: 1, Src: rng}.Rand()) + math.Log(rng.Float64())/m.alpha
		top = max(top, p[i])
	}
	sum := 0.0
	for i := range p {
		p[i] = math.Exp(p[i] - top)
		sum += p[i]
	}
	for i := range p {
		p[i] = (1-m.floor)*p[i]/sum + m.floor/k
	}
	u := rng.Float64()
	truth := k - 1
	for i, v := range p[:k-1] {
		if u -= v; u < 0 {
			truth = i
			break
		}
	}
	for q := range 2 {
		switch {
		case m.grant && p[q] > 0.5:
			out = append(out, Scored{Score: p[q], Wrong: truth != q})
			wrongP = append(wrongP, 1-p[q])
		case !m.grant && p[q] < 0.5:
			out = append(out, Scored{Score: 1 - p[q], Wrong: truth == q})
			wrongP = append(wrongP, p[q])
		}
	}
	return out, wrongP
}

func (m *worldModel) draw(rng *rand.Rand, n int) []Scored {
	out := make([]Scored, 0, n+1)
	for len(out) < n {
		out, _ = m.candidates(rng, out, nil)
	}
	return out[:n]
}

// population builds the truth once: 400,000 photos' candidates.
func (m *worldModel) population() {
	m.once.Do(func() {
		rng := rand.New(rand.NewPCG(77, 77))
		var c []Scored
		var w []float64
		for range 400000 {
			c, w = m.candidates(rng, c, w)
		}
		idx := make([]int, len(c))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(c[b].Score, c[a].Score) })
		m.scores = make([]float64, len(c))
		m.errs = make([]float64, len(c))
		acc := 0.0
		for j, i := range idx {
			acc += w[i]
			m.scores[j], m.errs[j] = c[i].Score, acc
		}
	})
}

// count is the number of the population's candidates with score >= lambda.
func (m *worldModel) count(lambda float64) int {
	m.population()
	return sort.Search(len(m.scores), func(i int) bool { return m.scores[i] < lambda })
}

func (m *worldModel) coverage(lambda float64) float64 {
	return float64(m.count(lambda)) / float64(len(m.scores))
}

func (m *worldModel) risk(lambda float64) float64 {
	n := m.count(lambda)
	if n == 0 {
		return m.errs[0] // the top candidate's
	}
	return m.errs[n-1] / float64(n)
}

func (m *worldModel) oracle(r float64) (lambda, coverage float64) {
	m.population()
	best := -1
	for i := range m.scores {
		if i+1 < len(m.scores) && m.scores[i+1] == m.scores[i] {
			continue
		}
		if m.errs[i]/float64(i+1) <= r {
			best = i
		}
	}
	if best < 0 {
		return math.Inf(1), 0
	}
	return m.scores[best], float64(best+1) / float64(len(m.scores))
}

// A studied procedure, by name.
type studied struct {
	name string
	p    procedure
}

const (
	plainProcedure    = 0 // index in studiedProcedures
	previousProcedure = 4
	chosenProcedure   = 6
)

func studiedProcedures() []studied {
	return []studied{
		{"plain LTT: 1000-grid on [0,1] from 149 photos", valueSequence{steps: 1000}},
		{"LTT on 50 quantiles", rankSequence{steps: 50}},
		{"LTT on 20 quantiles", rankSequence{steps: 20}},
		{"LTT on allowance steps, from the top", allowanceSequence{fineWide: true}},
		{"previous default: allowance steps from <= 8 errors, <= m/8", topAllowance},
		{"allowance steps from <= 32 errors, <= m/2", deepAllowance},
		{"default: from <= m/2 at 0.8δ, and from <= m/8 at 0.2δ", defaultProcedure},
		{"2 walks at δ/2: top, and from m/4", twoWalks{share: 1.0 / 4}},
		{"SGR, δ/⌈log₂ m⌉", sgr{}},
		{"Bonferroni on 10 quantiles, δ/10", bonferroni{steps: 10}},
	}
}

// twoWalks walks the allowance steps at delta/2 from the top and, when the
// data are large enough that a walk from share of the photos would allow
// 2 errors at its start, also from there; it keeps the lower threshold.
type twoWalks struct{ share float64 }

func (p twoWalks) choose(l *ladder, risk, delta float64) (cut, bool) {
	m := l.photos()
	top := allowanceSequence{fineWide: true}
	if need := allowance(risk, delta, m); len(need) <= 2 || float64(need[2]) > p.share*float64(m) {
		return top.choose(l, risk, delta)
	}
	d := delta / 2
	need := allowance(risk, d, m)
	cuts := top.cuts(l, need, d)
	high, ok1 := l.fixedSequence(cuts, need, need[0])
	from, _ := allowanceSequence{startShare: p.share}.start(need, m)
	low, ok2 := l.fixedSequence(cuts, need, from)
	if ok2 && (!ok1 || l.n[low.step] > l.n[high.step]) {
		return low, true
	}
	return high, ok1
}

func (twoWalks) describe(*ladder, float64, float64) string { return "two walks" }

// bonferroni tests every cut of a quantile grid at delta/steps and keeps
// the lowest that passes.
type bonferroni struct{ steps int }

func (p bonferroni) choose(l *ladder, risk, delta float64) (cut, bool) {
	d := delta / float64(p.steps)
	need := allowance(risk, d, l.photos())
	first := cut{step: -1}
	var best cut
	found := false
	for _, c := range quantileCuts(l, p.steps, d) {
		if first.step < 0 {
			first = c
		}
		if l.passes(c, need) {
			best, found = c, true
		}
	}
	if !found {
		return first, false
	}
	return best, true
}

func (bonferroni) describe(*ladder, float64, float64) string { return "Bonferroni" }

// A studyCell is one scenario: a model, a target and a calibration size,
// and the delta of the family when it is not the study's.
type studyCell struct {
	model  studyModel
	target float64
	n      int
	delta  float64
}

func (c studyCell) String() string {
	if c.delta > 0 {
		return fmt.Sprintf("%s %.0f%% %d δ%g", c.model.label(), 100*c.target, c.n, c.delta)
	}
	return fmt.Sprintf("%s %.0f%% %d", c.model.label(), 100*c.target, c.n)
}

// A studyResult sums one procedure's runs on one cell.
type studyResult struct {
	coverage   []float64 // true coverage of each run (0 when not certified)
	violations int
}

func (r studyResult) mean() float64 {
	s := 0.0
	for _, c := range r.coverage {
		s += c
	}
	return s / float64(len(r.coverage))
}

// runStudy runs every procedure on the same reps calibration sets drawn
// for the cell.
func runStudy(cell studyCell, procs []studied, reps int, delta float64, seed uint64) []studyResult {
	res := make([]studyResult, len(procs))
	delta = cmp.Or(cell.delta, delta)
	r := 1 - cell.target
	for rep := range reps {
		rng := rand.New(rand.NewPCG(seed, uint64(rep)))
		l := newLadder(cell.model.draw(rng, cell.n))
		for i, p := range procs {
			sel := selectWith(l, p.p, r, delta)
			res[i].coverage = append(res[i].coverage, trueCoverage(cell.model, sel))
			if violates(cell.model, sel, r) {
				res[i].violations++
			}
		}
	}
	return res
}

// selectWith is the part of Select the study needs, on a ladder already
// built.
func selectWith(l *ladder, p procedure, risk, delta float64) Selection {
	c, ok := p.choose(l, risk, delta)
	if !ok {
		return Selection{Threshold: math.Inf(1)}
	}
	return Selection{Certified: true, Threshold: c.threshold, N: l.n[c.step], K: l.k[c.step]}
}

// TestStudy compares the procedures on simulated families with a known
// answer and logs the table (go test -run Study -v ./credit; add -study
// for the long version behind the numbers on Select). It holds the
// default to never automating less than the plain walk beyond noise, and
// to its guarantee.
func TestStudy(t *testing.T) {
	t.Parallel()
	const delta = 0.05
	reps, sizes := 60, []int{300, 1000, 3000}
	if *study {
		reps, sizes = 1000, []int{300, 1000, 3000, 10000}
	}
	procs := studiedProcedures()
	plain, previous, chosen := plainProcedure, previousProcedure, chosenProcedure
	if !*study {
		// The short version: the plain walk, the previous default, the
		// default.
		all := procs
		procs = []studied{all[plainProcedure], all[previousProcedure], all[chosenProcedure]}
		plain, previous, chosen = 0, 1, 2
	}
	var cells []studyCell
	for _, m := range simModels {
		for _, target := range []float64{0.98, 0.95} {
			for _, n := range sizes {
				cells = append(cells, studyCell{model: m, target: target, n: n})
			}
		}
	}
	// The families of the calibrated world at the sizes, and deltas, a
	// calibration of 5,000 photos gives them: 1,250 grants a review type
	// (per-review-type: delta/4), 2,500 grants and 7,500 rejects pooled
	// (per-decision: delta/2).
	cells = append(cells,
		studyCell{model: worldModels[0], target: 0.98, n: 1250, delta: delta / 4},
		studyCell{model: worldModels[0], target: 0.98, n: 2500, delta: delta / 2},
		studyCell{model: worldModels[1], target: 0.98, n: 7500, delta: delta / 2})
	results := make([][]studyResult, len(cells))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, cell := range cells {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runStudy(cell, procs, reps, delta, uint64(1000+i))
		})
	}
	wg.Wait()
	t.Log(studyTable(cells, procs, results, reps, delta))

	// The default pays for its deep start with a little coverage where
	// only the top can be certified (its walk from the top runs at
	// 0.2·delta), and must gain where the top is noisy.
	const cost = 0.12
	for j, cell := range cells {
		c := results[j][chosen]
		for _, other := range []int{plain, previous} {
			o := results[j][other]
			d, se := pairedDiff(c.coverage, o.coverage)
			if testing.Verbose() {
				t.Logf("%v: default − %s = %+.4f (standard error %.4f)", cell, procs[other].name, d, se)
			}
			if d < -cost-3*se {
				t.Errorf("%v: the default automates %.4f less than %s (standard error %.4f), more than its cost %g", cell, -d, procs[other].name, se, cost)
			}
		}
		if cell.model == studyModel(worldModels[0]) {
			if d, se := pairedDiff(c.coverage, results[j][previous].coverage); d-3*se < 0.1 {
				t.Errorf("%v: the default automates %+.4f more than the previous default (standard error %.4f), want at least 0.1 more beyond noise on the noisy top", cell, d, se)
			}
		}
		if v, most := c.violations, allowedViolations(reps, cmp.Or(cell.delta, delta)); v > most {
			t.Errorf("%v: the default broke the guarantee in %d of %d calibration sets, want at most %d", cell, v, reps, most)
		}
	}
}

// pairedDiff is the mean of a[i] − b[i] and its standard error.
func pairedDiff(a, b []float64) (mean, se float64) {
	n := float64(len(a))
	for i := range a {
		mean += a[i] - b[i]
	}
	mean /= n
	v := 0.0
	for i := range a {
		d := a[i] - b[i] - mean
		v += d * d
	}
	return mean, math.Sqrt(v / (n - 1) / n)
}

// allowedViolations is the most violations in reps calibration sets that
// a procedure failing with probability delta shows but for binomial noise:
// delta·reps plus three standard deviations.
func allowedViolations(reps int, delta float64) int {
	n := float64(reps)
	return int(delta*n + 3*math.Sqrt(delta*(1-delta)*n))
}

// studyTable is one row per scenario and one column per procedure: the
// mean true coverage and, in brackets, the violations.
func studyTable(cells []studyCell, procs []studied, results [][]studyResult, reps int, delta float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d calibration sets per scenario, delta %g: mean true coverage, and in brackets the sets whose true risk at the chosen threshold is above 1 − target\n", reps, delta)
	for i, p := range procs {
		fmt.Fprintf(&b, "  P%d = %s\n", i+1, p.name)
	}
	fmt.Fprintf(&b, "%-17s %6s", "model target n", "oracle")
	for i := range procs {
		fmt.Fprintf(&b, " %11s", fmt.Sprintf("P%d", i+1))
	}
	for j, c := range cells {
		_, oracle := c.model.oracle(1 - c.target)
		fmt.Fprintf(&b, "\n%-17v %6.3f", c, oracle)
		for i := range procs {
			r := results[j][i]
			fmt.Fprintf(&b, " %11s", fmt.Sprintf("%.3f (%d)", r.mean(), r.violations))
		}
	}
	return b.String()
}
