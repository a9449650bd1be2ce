package credit

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/mathext"
)

// UpperBound is the one-sided Clopper–Pearson upper bound on an error rate
// from k errors in n decisions, at confidence 1 − delta: the largest rate b
// for which seeing k or fewer errors still has probability delta,
//
//	P[Binomial(n, b) ≤ k] = delta,
//
// so that a true rate above the bound would show at most k errors less than
// a delta of the time. It is the bound B* of Gascuel and Caraux (1992) that
// SGR uses:
//
//	1                                 if n = 0 or k ≥ n
//	1 − delta^(1/n)                   if k = 0
//	Beta(k+1, n−k) quantile at 1−delta otherwise.
//
// For example 0 errors in 150 bound the rate by 0.0198 at delta = 0.05, and
// 10 in 1,000 by 0.0169. A delta at or below 0 gives 1 (no confidence level
// is reachable); a delta at or above 1 gives 0; a negative k counts as 0.
func UpperBound(k, n int, delta float64) float64 {
	switch {
	case n <= 0 || k >= n || delta <= 0:
		return 1
	case delta >= 1:
		return 0
	case k <= 0:
		// 1 − δ^(1/n), written so that it keeps its digits when n is large.
		return -math.Expm1(math.Log(delta) / float64(n))
	}
	return mathext.InvRegIncBeta(float64(k+1), float64(n-k), 1-delta)
}

// binomialCDF is P[Binomial(n, p) ≤ k], the p-value of k errors in n
// decisions against a true error rate p: UpperBound(k, n, delta) ≤ p
// exactly when binomialCDF(k, n, p) ≤ delta.
func binomialCDF(k, n int, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n || p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	// P[Bin(n, p) ≤ k] = I_{1−p}(n−k, k+1).
	return mathext.RegIncBeta(float64(n-k), float64(k+1), 1-p)
}

// MinCertifiable is the fewest automatic decisions that can certify the
// target accuracy at confidence 1 − delta, reached only when none of them
// is wrong: the smallest n with UpperBound(0, n, delta) ≤ 1 − target, that
// is ⌈ln delta / ln target⌉ (149 for 98% at delta = 0.05, 59 for 95%).
// A target of 1 or more, or a delta of 0 or less, can never be certified:
// MinCertifiable returns math.MaxInt.
func MinCertifiable(target, delta float64) int {
	risk := 1 - target
	switch {
	case risk <= 0 || delta <= 0 || math.IsNaN(target) || math.IsNaN(delta):
		return math.MaxInt
	case risk >= 1 || delta >= 1:
		return 1
	}
	n := int(math.Ceil(math.Log(delta) / math.Log1p(-risk)))
	// The quotient can land a rounding error away from an integer: settle n
	// on the bound itself so that the two never disagree.
	for n > 1 && UpperBound(0, n-1, delta) <= risk {
		n--
	}
	for UpperBound(0, n, delta) > risk {
		n++
	}
	return n
}

// allowance is the table of errors a number of decisions may hold and
// still certify a risk at level delta: need[j] is the fewest decisions
// that certify with j of them wrong, the smallest n with
// P[Binomial(n, risk) ≤ j] ≤ delta (so need[0] is MinCertifiable). The
// table runs until an entry passes upTo, so that certifies answers for
// every n ≤ upTo. Tables are kept, per risk and delta, for the next call.
func allowance(risk, delta float64, upTo int) []int {
	if !(risk > 0 && risk < 1 && delta > 0 && delta < 1) {
		return nil // nothing certifies
	}
	allowances.Lock()
	defer allowances.Unlock()
	if allowances.m == nil || len(allowances.m) > 64 {
		allowances.m = map[[2]float64][]int{}
	}
	key := [2]float64{risk, delta}
	need := allowances.m[key]
	for len(need) == 0 || need[len(need)-1] <= upTo {
		j := len(need)
		lo := j + 1
		if j > 0 {
			lo = max(lo, need[j-1])
		}
		// Gallop to a count that certifies, then bisect.
		hi, step := lo, max(1, int(1/risk))
		for binomialCDF(j, hi, risk) > delta {
			lo, hi, step = hi+1, hi+step, 2*step
		}
		for lo < hi {
			mid := lo + (hi-lo)/2
			if binomialCDF(j, mid, risk) <= delta {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		need = append(need, hi)
	}
	allowances.m[key] = need
	return need
}

var allowances struct {
	sync.Mutex
	m map[[2]float64][]int
}

// certifies says whether k wrong in n decisions certify the risk of an
// allowance table made for at least n.
func certifies(k, n int, need []int) bool {
	return k >= 0 && k < len(need) && need[k] <= n
}
