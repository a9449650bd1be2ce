package credit

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// A Scored photo is one calibration photo of a family: the model's
// confidence, and whether deciding it automatically would be wrong.
type Scored struct {
	Score float64
	Wrong bool
}

// SelectOptions set what a threshold must guarantee for one family.
type SelectOptions struct {
	// TargetAccuracy is the accuracy the automatic decisions must have,
	// in (0, 1): 0.98 allows at most 2% of them wrong.
	TargetAccuracy float64
	// Delta is the chance, over the draw of the calibration set, that the
	// guarantee fails for this family, in (0, 1). Sharing a delta among
	// families is the caller's business.
	Delta float64
	// Method is the procedure; the zero value is the default,
	// MethodAllowance.
	Method Method
	// Steps is the grid size of MethodFixedSequence (1000) and
	// MethodQuantiles (50); 0 means the default in brackets.
	Steps int
}

// A Method is a procedure that chooses the threshold. All of them keep the
// guarantee of Select; they differ in how much coverage they leave.
type Method int

const (
	// MethodDefault is MethodAllowance.
	MethodDefault Method = iota
	// MethodAllowance walks down the thresholds at which the number of
	// errors the bound allows grows by one, twice: from a deep start (at
	// most half the photos, 32 errors allowed) at 0.8·delta, and from
	// near the top (at most an eighth, 8 errors allowed) at 0.2·delta,
	// keeping the lower threshold. It is the default; see Select for why.
	MethodAllowance
	// MethodFixedSequence is the plain Learn-then-Test walk of policy.md
	// §1.4: thresholds 1, 1−1/Steps, …, 0, skipping those with fewer than
	// MinCertifiable photos, each tested at delta, stopping at the first
	// that fails. For scores in [0, 1].
	MethodFixedSequence
	// MethodQuantiles is the same walk on the thresholds that take the top
	// 1/Steps, 2/Steps, … of the photos.
	MethodQuantiles
	// MethodSGR is Selection with Guaranteed Risk (Geifman and El-Yaniv
	// 2017): a binary search over the sorted scores whose ⌈log₂ m⌉ probes
	// are each tested at delta/⌈log₂ m⌉, keeping the passing probe with the
	// largest coverage.
	MethodSGR
	// MethodAllowanceTop is the walk from near the top alone, at delta:
	// the default before the deep start was added.
	MethodAllowanceTop
)

// A Selection is the threshold chosen for one family and what it
// certifies.
type Selection struct {
	// Certified is false when the data cannot certify the target: then
	// nothing is decided automatically.
	Certified bool
	// Threshold: photos with Score >= Threshold are decided automatically
	// (+Inf when not Certified).
	Threshold float64
	// N is the number of calibration photos at or above the threshold,
	// and K the wrong ones among them.
	N, K int
	// Coverage is N over all the calibration photos.
	Coverage float64
	// Accuracy is the empirical accuracy 1 − K/N.
	Accuracy float64
	// CertifiedAccuracy is 1 − UpperBound(K, N, Level): at least
	// TargetAccuracy when Certified. The guarantee is TargetAccuracy; this
	// says how much room the threshold has.
	CertifiedAccuracy float64
	// Level is the level the threshold was tested at: Delta, or the share
	// of it its walk was given (0.8·Delta or 0.2·Delta for the default,
	// Delta/⌈log₂ m⌉ for MethodSGR).
	Level float64
	// Reason says, for people, why the target was not certified.
	Reason string
	// Procedure names the procedure and its parameters, for the report.
	Procedure string
}

// Select chooses the lowest threshold on the score whose automatic
// decisions it can certify: with probability at least 1 − Delta over the
// draw of the calibration data, the error rate of the photos with
// Score >= Threshold is at most 1 − TargetAccuracy. When the data cannot
// certify the target (too few photos, too many errors) Select says why in
// Reason and automates nothing rather than guess.
//
// The data must be a random sample of the photos the threshold will be
// applied to, never used to train or calibrate the model. The guarantee
// assumes that the chance of a wrong decision does not rise with the
// score, the premise of thresholding a confidence at all; then every
// threshold above the chosen one is certified too, so a caller may raise
// it (to the highest of several families' thresholds, say) and keep the
// guarantee.
//
// # The default procedure
//
// Every procedure here tests thresholds from the top down with the
// Clopper–Pearson bound and keeps the last that passes before the first
// that fails (Learn-then-Test fixed sequence: stopping at the first
// failure is what spares a correction for the number of tests). They
// differ in where they test. The plain walk (MethodFixedSequence) tests
// every threshold from the first with MinCertifiable photos (149 at 98%,
// delta 0.05), where none may be wrong: one early error, from label noise
// say, ends it near the top. And along the way a threshold is hardest to
// pass just before the errors allowed grow by one and easiest just after
// (at 98%: 0 errors among 149 to 235 photos, 1 among 236 to 312, 2 among
// 313 to 385, …): testing the hard points too stops the walk at noise that
// testing only the easy ones rides out.
//
// So an allowance walk tests only the thresholds that take need[j]
// photos, need[j] being the fewest that certify with j errors, from a
// start that already allows some. Where a step is wider than an eighth of
// the photos (small sets, high targets) it walks photo by photo, so that
// the threshold is not coarse. All of this depends on counts alone, never
// on the labels, which keeps the guarantee (see the comment on the
// procedures).
//
// Where it starts decides what it certifies, at the sizes a real
// calibration set gives a family (hundreds to a few thousand photos). A
// model's most confident photos are not all right: labels are wrong now
// and then, and a calibrated model trained with label smoothing is never
// surer than 99%, so even the top of a family has errors (0.92% of the
// most confident grants of the calibrated world of issue 13). A start
// that allows few errors mostly stops there: in that world, the previous
// default (from the highest need[j] within the top eighth, j ≤ 8) covered
// 15% of the pooled grants of 5,000 photos on average, where 83% could be.
// Starting deep has the opposite fault: a family whose certifiable part
// is smaller than the start (a weak model) certifies nothing.
//
// So MethodAllowance walks twice, and keeps the lower threshold either
// certifies. The first walk starts deep, at the highest need[j] within
// half the photos with j ≤ 32 (in a family of 3,000 at 98%: 1,479 photos,
// 20 errors allowed), tested at 0.8·delta; the second is the previous
// default, from near the top, tested at 0.2·delta. The chance that
// either certifies a threshold of risk above the target is at most
// 0.8·delta + 0.2·delta = delta (Bonferroni), whichever is kept.
//
// On simulated families with a known answer (study_test.go: go test
// ./credit -run Study -v -study), 1000 calibration sets per row, at delta
// 0.05 or at the family's share of it, mean true coverage, against the
// most a threshold of true risk within the target could cover ("best"):
//
//	family       target photos delta  best  plain previous  deep  default  2 walks δ/2  SGR
//	world grants   98%   2500  0.025  0.829 0.631  0.152    0.640  0.617    0.261      0.347
//	world grants   98%   1250  0.0125 0.829 0.280  0.064    0.300  0.284    0.064      0.053
//	world rejects  98%   7500  0.025  0.992 0.983  0.980    0.980  0.980    0.979      0.979
//	steep          98%   1000  0.05   0.731 0.438  0.502    0.502  0.502    0.502      0.162
//	steep          95%    300  0.05   0.952 0.665  0.715    0.746  0.732    0.715      0.502
//	floor          98%   3000  0.05   0.632 0.067  0.231    0.279  0.259    0.289      0.137
//	floor          98%  10000  0.05   0.632 0.072  0.471    0.553  0.548    0.536      0.480
//	floor          95%    300  0.05   0.938 0.334  0.399    0.563  0.534    0.399      0.242
//	floor          95%   1000  0.05   0.938 0.388  0.766    0.836  0.829    0.800      0.756
//	linear         98%   3000  0.05   0.419 0.134  0.215    0.003  0.119    0.190      0.064
//	linear         95%   1000  0.05   0.841 0.453  0.628    0.626  0.622    0.591      0.475
//	weak           98%  10000  0.05   0.154 0.050  0.083    0.000  0.039    0.052      0.031
//	weak           95%   1000  0.05   0.361 0.092  0.152    0.000  0.057    0.120      0.035
//	weak           95%   3000  0.05   0.361 0.187  0.267    0.150  0.231    0.230      0.196
//
// (plain: MethodFixedSequence; previous: MethodAllowanceTop; deep: the
// first walk alone, at delta; 2 walks δ/2: from the top and from a
// quarter of the photos. The world rows are the families of 5,000
// calibration photos of the calibrated world, pooled as under
// PerDecision (2,500 grants, 7,500 rejects) or per review type (1,250).)
// The default covers four times as much of the world's grants as the
// previous default, and gains wherever the top is noisy (floor); it pays
// where only the top of a family can be certified (linear 98%, weak),
// whose walk from the top now runs at 0.2·delta: at most 0.1 of coverage
// in any row. The deep walk alone pays far more there (nothing certified
// in weak families). The plain walk's 1000-value grid does well on the
// world's grants only because their scores bunch just under 0.991 (the
// model's ceiling), where one grid step takes them all at once.
//
// Its guarantee held: at most 3.7% of the sets broke it in any row (37 of
// 1000), and at most 0.5% in the world's rows.
func Select(data []Scored, opts SelectOptions) Selection {
	risk := 1 - opts.TargetAccuracy
	l := newLadder(data)
	p := opts.procedure()
	sel := Selection{Threshold: math.Inf(1)}
	if !(risk > 0 && risk < 1) {
		sel.Reason = fmt.Sprintf("target accuracy %g is not a number between 0 and 1", opts.TargetAccuracy)
		return sel
	}
	if !(opts.Delta > 0 && opts.Delta < 1) {
		sel.Reason = fmt.Sprintf("delta %g is not a number between 0 and 1", opts.Delta)
		return sel
	}
	sel.Procedure = p.describe(l, risk, opts.Delta)
	c, ok := p.choose(l, risk, opts.Delta)
	if !ok {
		sel.Reason = l.whyNot(risk, cmp.Or(c.delta, opts.Delta), c)
		return sel
	}
	n, k := l.n[c.step], l.k[c.step]
	sel.Certified = true
	sel.Threshold = c.threshold
	sel.N, sel.K = n, k
	sel.Coverage = float64(n) / float64(l.total)
	sel.Accuracy = 1 - float64(k)/float64(n)
	sel.CertifiedAccuracy = 1 - UpperBound(k, n, c.delta)
	sel.Level = c.delta
	return sel
}

func (o SelectOptions) procedure() procedure {
	switch o.Method {
	case MethodFixedSequence:
		return valueSequence{steps: cmp.Or(o.Steps, 1000)}
	case MethodQuantiles:
		return rankSequence{steps: cmp.Or(o.Steps, 50)}
	case MethodSGR:
		return sgr{}
	case MethodAllowanceTop:
		return topAllowance
	default:
		return defaultProcedure
	}
}

// A ladder is the calibration data sorted from the highest score down,
// one rung per distinct score, with running counts: every threshold a
// procedure can choose cuts the data at a rung, so photos with equal
// scores are all in or all out.
type ladder struct {
	score []float64 // distinct scores, highest first
	n, k  []int     // photos with Score >= score[i], and the wrong ones among them
	total int       // all the photos, those with a NaN score (never decided) included
}

func newLadder(data []Scored) *ladder {
	s := make([]Scored, 0, len(data))
	for _, d := range data {
		if !math.IsNaN(d.Score) {
			s = append(s, d)
		}
	}
	slices.SortFunc(s, func(a, b Scored) int { return cmp.Compare(b.Score, a.Score) })
	l := &ladder{total: len(data)}
	n, k := 0, 0
	for i, d := range s {
		n++
		if d.Wrong {
			k++
		}
		if i+1 < len(s) && s[i+1].Score == d.Score {
			continue
		}
		l.score = append(l.score, d.Score)
		l.n = append(l.n, n)
		l.k = append(l.k, k)
	}
	return l
}

// photos is the number of photos with a score.
func (l *ladder) photos() int {
	if len(l.n) == 0 {
		return 0
	}
	return l.n[len(l.n)-1]
}

// atLeast is the rung a threshold cuts at (the lowest score >= lambda), or
// -1 when no photo is at or above it.
func (l *ladder) atLeast(lambda float64) int {
	return sort.Search(len(l.score), func(i int) bool { return l.score[i] < lambda }) - 1
}

// rank is the rung of the z-th highest photo (1 ≤ z ≤ photos).
func (l *ladder) rank(z int) int {
	return sort.Search(len(l.n), func(i int) bool { return l.n[i] >= z })
}

// A cut is a candidate threshold: decide at Score >= threshold, which
// takes the photos down to rung step; delta is the level it is tested at.
type cut struct {
	threshold float64
	step      int
	delta     float64
}

// passes says whether the photos down to the cut certify the risk, need
// being the allowance table for the risk at the cut's delta.
func (l *ladder) passes(c cut, need []int) bool {
	return c.step >= 0 && certifies(l.k[c.step], l.n[c.step], need)
}

// fixedSequence walks the cuts in order (thresholds falling), skipping
// those with fewer than from photos, testing each against need, and
// returns the last that passes before the first that fails. The second
// result is false when none passes; the cut returned then is the first
// one tested (step -1 when none was).
func (l *ladder) fixedSequence(cuts []cut, need []int, from int) (cut, bool) {
	var best cut
	first := cut{step: -1}
	found := false
	for _, c := range cuts {
		if c.step < 0 || l.n[c.step] < from {
			continue
		}
		if first.step < 0 {
			first = c
		}
		if !l.passes(c, need) {
			break
		}
		best, found = c, true
	}
	if !found {
		return first, false
	}
	return best, true
}

// whyNot says why nothing was certified; first is the first cut the
// procedure tested (step -1 when none was), at level delta.
func (l *ladder) whyNot(risk, delta float64, first cut) string {
	target := percent(1 - risk)
	need := MinCertifiable(1-risk, delta)
	m := l.photos()
	switch {
	case l.total == 0:
		return fmt.Sprintf("no calibration photos; at least %d are needed to certify %s even with no error", need, target)
	case m == 0:
		return fmt.Sprintf("none of the %d calibration photos has a score; at least %d are needed to certify %s even with no error", l.total, need, target)
	case m < need:
		return fmt.Sprintf("only %d calibration photos; at least %d are needed to certify %s even with no error", m, need, target)
	case first.step < 0:
		return fmt.Sprintf("no threshold has the %d photos at or above it needed to certify %s", need, target)
	}
	n, k := l.n[first.step], l.k[first.step]
	allowed := sort.SearchInts(allowance(risk, first.delta, n), n+1) - 1
	return fmt.Sprintf("too many errors: %d wrong among the %d photos with the highest scores (%s right), where certifying %s allows at most %d",
		k, n, percent(1-float64(k)/float64(n)), target, allowed)
}

// num shows a parameter such as a delta with at most 6 digits: 0.04, not
// 0.04000000000000001.
func num(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }

// percent shows a share as "98%" or "97.22%".
func percent(x float64) string {
	return strconv.FormatFloat(100*x, 'g', 4, 64) + "%"
}

// A procedure chooses a cut from a ladder.
type procedure interface {
	// choose returns the chosen cut, or false and the first cut it tested
	// (step -1 when none).
	choose(l *ladder, risk, delta float64) (cut, bool)
	// describe names the procedure and its parameters for the report.
	describe(l *ladder, risk, delta float64) string
}

// Why the walks keep the guarantee. Say the chance of a wrong decision
// falls as the score rises, and let λ* be the lowest threshold whose true
// risk is at most r (exactly r, for continuous scores), m* the number of
// photos at or above it. A walk errs only if it passes the first threshold
// it tests below λ*; call it T. Each walk here places its thresholds at
// fixed values or at counts of photos (ranks), and skips or starts by
// counts, so T and the number n_T of photos at or above it depend only on
// m* and on the scores below λ*. Given those, the m* photos above λ* are a
// random sample of that region, whose error rate is r, and each of the
// n_T − m* photos between T and λ* is wrong with a chance of at least r
// (its score is lower than all of the region's), so the errors above T
// are at least Binomial(n_T, r), and the test at T passes with
// probability at most delta. A grid or a start chosen by looking at the
// labels would break this. SGR's probes do look at the labels (each
// depends on the last result); it rests on its union bound over the
// ⌈log₂ m⌉ probes, as in the paper.

// valueSequence is MethodFixedSequence.
type valueSequence struct{ steps int }

func (p valueSequence) choose(l *ladder, risk, delta float64) (cut, bool) {
	cuts := make([]cut, 0, p.steps+1)
	for t := 0; t <= p.steps; t++ {
		lambda := 1 - float64(t)/float64(p.steps)
		cuts = append(cuts, cut{threshold: lambda, step: l.atLeast(lambda), delta: delta})
	}
	need := allowance(risk, delta, l.photos())
	return l.fixedSequence(cuts, need, need[0])
}

func (p valueSequence) describe(_ *ladder, risk, delta float64) string {
	return fmt.Sprintf("Learn-then-Test fixed sequence, Clopper–Pearson bound at delta %s: thresholds 1, 1−1/%d, …, 0 from the top, from the first with %d photos, until the first that fails",
		num(delta), p.steps, MinCertifiable(1-risk, delta))
}

// rankSequence is MethodQuantiles.
type rankSequence struct{ steps int }

// quantileCuts are the cuts at the scores of the ⌈t·m/steps⌉-th highest
// photos, t = 1…steps, ties merged.
func quantileCuts(l *ladder, steps int, delta float64) []cut {
	m := l.photos()
	cuts := make([]cut, 0, steps)
	for t := 1; t <= steps && m > 0; t++ {
		z := (t*m + steps - 1) / steps
		step := l.rank(z)
		if len(cuts) > 0 && cuts[len(cuts)-1].step == step {
			continue
		}
		cuts = append(cuts, cut{threshold: l.score[step], step: step, delta: delta})
	}
	return cuts
}

func (p rankSequence) choose(l *ladder, risk, delta float64) (cut, bool) {
	need := allowance(risk, delta, l.photos())
	return l.fixedSequence(quantileCuts(l, p.steps, delta), need, need[0])
}

func (p rankSequence) describe(_ *ladder, risk, delta float64) string {
	return fmt.Sprintf("Learn-then-Test fixed sequence, Clopper–Pearson bound at delta %s: thresholds taking the top 1/%d, 2/%d, … of the photos, from the first with %d photos, until the first that fails",
		num(delta), p.steps, p.steps, MinCertifiable(1-risk, delta))
}

// allowanceSequence is MethodAllowance: the thresholds that take need[j]
// photos, the fewest that certify with j errors. It starts at the largest
// need[j] with j ≤ startErrors (when set) that is at most startShare of
// the photos, need[0] at least. With fineWide, a step wider than an eighth
// of the photos (the last running to all of them) is walked photo by
// photo: on small sets the steps are too coarse a choice of threshold.
type allowanceSequence struct {
	startShare  float64
	startErrors int
	fineWide    bool
}

// topAllowance is the walk from near the top: MethodAllowanceTop, and
// the second walk of the default.
var topAllowance = allowanceSequence{startShare: 1.0 / 8, startErrors: 8, fineWide: true}

// deepAllowance is the first walk of the default.
var deepAllowance = allowanceSequence{startShare: 1.0 / 2, startErrors: 32, fineWide: true}

// defaultProcedure is the default procedure; Select says why.
var defaultProcedure = splitWalks{deep: deepAllowance, top: topAllowance, deepShare: 0.8}

// splitWalks runs two walks, deep at deepShare·delta and top at the rest
// of delta, and keeps the threshold that decides more photos: the chance
// that either walk certifies a threshold whose risk is above the target
// is at most deepShare·delta + (1 − deepShare)·delta = delta (Bonferroni),
// whichever is kept.
type splitWalks struct {
	deep, top allowanceSequence
	deepShare float64
}

func (p splitWalks) choose(l *ladder, risk, delta float64) (cut, bool) {
	a, okA := p.deep.choose(l, risk, p.deepShare*delta)
	b, okB := p.top.choose(l, risk, (1-p.deepShare)*delta)
	switch {
	case okA && (!okB || l.n[a.step] >= l.n[b.step]):
		return a, true
	case okB:
		return b, true
	case a.step < 0:
		return b, false
	}
	return a, false
}

func (p splitWalks) describe(l *ladder, risk, delta float64) string {
	return fmt.Sprintf("two walks, keeping the lower threshold they certify: %s; and %s",
		p.deep.describe(l, risk, p.deepShare*delta), p.top.describe(l, risk, (1-p.deepShare)*delta))
}

// counts are the numbers of photos the walk's thresholds take.
func (p allowanceSequence) counts(need []int, m int) []int {
	var counts []int
	for j := 0; j < len(need) && need[j] <= m; j++ {
		next := m + 1
		if j+1 < len(need) {
			next = min(next, need[j+1])
		}
		counts = append(counts, need[j])
		if p.fineWide && 8*(next-need[j]) > m {
			for c := need[j] + 1; c < next; c++ {
				counts = append(counts, c)
			}
		}
	}
	return counts
}

func (p allowanceSequence) cuts(l *ladder, need []int, delta float64) []cut {
	var cuts []cut
	for _, c := range p.counts(need, l.photos()) {
		step := l.rank(c)
		if len(cuts) > 0 && cuts[len(cuts)-1].step == step {
			continue
		}
		cuts = append(cuts, cut{threshold: l.score[step], step: step, delta: delta})
	}
	return cuts
}

// start is the fewest photos the first tested threshold takes, and the
// errors it allows.
func (p allowanceSequence) start(need []int, m int) (from, allowed int) {
	from = need[0]
	for j, n := range need {
		if float64(n) > p.startShare*float64(m) || (p.startErrors > 0 && j > p.startErrors) {
			break
		}
		from, allowed = n, j
	}
	return from, allowed
}

func (p allowanceSequence) choose(l *ladder, risk, delta float64) (cut, bool) {
	need := allowance(risk, delta, l.photos())
	from, _ := p.start(need, l.photos())
	return l.fixedSequence(p.cuts(l, need, delta), need, from)
}

func (p allowanceSequence) describe(l *ladder, risk, delta float64) string {
	m := l.photos()
	need := allowance(risk, delta, max(m, 1))
	from, allowed := p.start(need, m)
	return fmt.Sprintf("Learn-then-Test fixed sequence, Clopper–Pearson bound at delta %s: thresholds at the counts of photos where the errors allowed grow by one (%s), from the first with %d photos (%d errors allowed), until the first that fails",
		num(delta), countList(need, m), from, allowed)
}

// countList shows the first counts of need up to m: "149, 236, 313, 386, …".
func countList(need []int, m int) string {
	var b strings.Builder
	for i, c := range need {
		if c > m {
			break
		}
		if i == 4 {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(c))
	}
	return b.String()
}

// sgr is MethodSGR.
type sgr struct{}

func sgrProbes(m int) int {
	probes := 1
	for 1<<probes < m {
		probes++
	}
	return probes
}

func (sgr) choose(l *ladder, risk, delta float64) (cut, bool) {
	m := l.photos()
	if m == 0 {
		return cut{step: -1}, false
	}
	d := delta / float64(sgrProbes(m))
	need := allowance(risk, d, m)
	lo, hi := 1, m
	var best cut
	first := cut{step: -1}
	found := false
	for range sgrProbes(m) {
		z := (lo + hi + 1) / 2
		step := l.rank(z)
		c := cut{threshold: l.score[step], step: step, delta: d}
		if first.step < 0 {
			first = c
		}
		if l.passes(c, need) {
			if !found || l.n[step] > l.n[best.step] {
				best, found = c, true
			}
			lo = z
		} else {
			hi = z
		}
	}
	if !found {
		return first, false
	}
	return best, true
}

func (sgr) describe(l *ladder, _, delta float64) string {
	probes := sgrProbes(max(l.photos(), 1))
	return fmt.Sprintf("SGR (Geifman and El-Yaniv 2017): binary search over the sorted scores, %d probes each tested at delta %s/%d with the Clopper–Pearson bound, keeping the passing probe with the most photos",
		probes, num(delta), probes)
}

// A CurvePoint is one point of a risk–coverage curve.
type CurvePoint struct {
	// Threshold: the photos with Score >= Threshold.
	Threshold float64
	// Coverage is their share of all the photos, Risk the share of them
	// that are wrong, and Bound the Clopper–Pearson upper bound on that
	// risk.
	Coverage, Risk, Bound float64
	// N is their number and K the wrong ones.
	N, K int
}

// RiskCoverage is the empirical risk–coverage curve for the report: about
// points thresholds at evenly spaced coverages (at every distinct score
// when points is 0 or less), highest threshold first, each with its
// empirical risk and its upper bound at level delta. The bound at each
// point holds for that point alone: the curve is a picture, not a
// certificate.
func RiskCoverage(data []Scored, delta float64, points int) []CurvePoint {
	l := newLadder(data)
	var cuts []cut
	if points > 0 {
		cuts = quantileCuts(l, points, delta)
	} else {
		for i, s := range l.score {
			cuts = append(cuts, cut{threshold: s, step: i, delta: delta})
		}
	}
	curve := make([]CurvePoint, 0, len(cuts))
	for _, c := range cuts {
		n, k := l.n[c.step], l.k[c.step]
		curve = append(curve, CurvePoint{
			Threshold: c.threshold,
			Coverage:  float64(n) / float64(l.total),
			Risk:      float64(k) / float64(n),
			Bound:     UpperBound(k, n, delta),
			N:         n,
			K:         k,
		})
	}
	return curve
}
