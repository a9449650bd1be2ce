package credit

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

func TestUpperBound(t *testing.T) {
	// From policy.md §0 and §1.4, reproduced by check_bounds.py.
	tests := []struct {
		name  string
		k, n  int
		delta float64
		want  float64
	}{
		{"no error in 150", 0, 150, 0.05, 0.0198},
		{"no error in 300", 0, 300, 0.05, 0.0099},
		{"7 in 760", 7, 760, 0.05, 0.0172},
		{"15 in 1520", 15, 1520, 0.05, 0.0152},
		{"10 in 1000", 10, 1000, 0.05, 0.0169},
		{"10 in 1000 at 0.001", 10, 1000, 0.001, 0.0240},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UpperBound(tt.k, tt.n, tt.delta); math.Abs(got-tt.want) > 0.00005 {
				t.Errorf("UpperBound(%d, %d, %g) = %.6f, want %.4f", tt.k, tt.n, tt.delta, got, tt.want)
			}
		})
	}
}

func TestUpperBoundEdges(t *testing.T) {
	tests := []struct {
		name  string
		k, n  int
		delta float64
		want  float64
	}{
		{"no decisions", 0, 0, 0.05, 1},
		{"all wrong", 5, 5, 0.05, 1},
		{"more wrong than decided", 6, 5, 0.05, 1},
		{"one right", 0, 1, 0.05, 0.95},
		{"negative k counts as 0", -3, 150, 0.05, UpperBound(0, 150, 0.05)},
		{"delta 0", 3, 100, 0, 1},
		{"delta 1", 3, 100, 1, 0},
		{"huge n keeps its digits", 0, 1e9, 0.05, 2.9957322e-9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UpperBound(tt.k, tt.n, tt.delta); math.Abs(got-tt.want) > 1e-9*max(1, tt.want) && math.Abs(got/tt.want-1) > 1e-7 {
				t.Errorf("UpperBound(%d, %d, %g) = %g, want %g", tt.k, tt.n, tt.delta, got, tt.want)
			}
		})
	}
}

// maxAllowed is the most errors n decisions may hold with an upper bound
// still at most risk (-1: not even none), found with UpperBound alone.
func maxAllowed(n int, risk, delta float64) int {
	k := -1
	for k+1 < n && UpperBound(k+1, n, delta) <= risk {
		k++
	}
	return k
}

// The table of policy.md §1.4: the most errors allowed at 98%.
func TestMaxErrorsAt98(t *testing.T) {
	deltas := []float64{0.10, 0.05, 0.01, 0.001 / 11}
	tests := []struct {
		n    int
		want []int // per delta; -1 for "—"; -2 for not in the table
	}{
		{150, []int{0, 0, -1, -1}},
		{500, []int{5, 4, 3, 0}},
		{1000, []int{13, 12, 9, 5}},
		{2000, []int{31, 29, 25, 18}},
		{3800, []int{64, 61, 56, -2}},
		{7600, []int{135, 131, 123, 107}},
	}
	for _, tt := range tests {
		for i, delta := range deltas {
			want := tt.want[i]
			if want == -2 {
				continue
			}
			if got := maxAllowed(tt.n, 0.02, delta); got != want {
				t.Errorf("n=%d, delta %g: most errors allowed %d, want %d", tt.n, delta, got, want)
			}
			// The allowance table that the procedures walk agrees.
			if got := sort.SearchInts(allowance(0.02, delta, tt.n), tt.n+1) - 1; got != want {
				t.Errorf("n=%d, delta %g: the allowance table allows %d errors, want %d", tt.n, delta, got, want)
			}
		}
	}
}

func TestUpperBoundMonotone(t *testing.T) {
	for _, n := range []int{1, 2, 10, 149, 150, 1000, 7600} {
		for _, delta := range []float64{0.001, 0.05, 0.2} {
			prev := -1.0
			for k := 0; k <= n && k <= 300; k++ {
				u := UpperBound(k, n, delta)
				if u <= prev {
					t.Fatalf("UpperBound(%d, %d, %g) = %g, not above UpperBound(%d, ...) = %g", k, n, delta, u, k-1, prev)
				}
				if u < float64(k)/float64(n) {
					t.Fatalf("UpperBound(%d, %d, %g) = %g, below the empirical rate", k, n, delta, u)
				}
				if k < n {
					if more := UpperBound(k, n+1, delta); more >= u {
						t.Fatalf("UpperBound(%d, %d, %g) = %g, not below UpperBound(%d, %d) = %g", k, n+1, delta, more, k, n, u)
					}
					if surer := UpperBound(k, n, delta/2); surer <= u {
						t.Fatalf("UpperBound(%d, %d, %g) = %g, not above the bound at delta %g, %g", k, n, delta/2, surer, delta, u)
					}
				}
				prev = u
			}
		}
	}
}

// binomialCDFBySum is P[Bin(n, p) ≤ k] summed in log space, as
// check_bounds.py does: independent of gonum.
func binomialCDFBySum(k, n int, p float64) float64 {
	if k >= n {
		return 1
	}
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	terms := make([]float64, k+1)
	top := math.Inf(-1)
	for j := 0; j <= k; j++ {
		terms[j] = lg(n) - lg(j) - lg(n-j) + float64(j)*math.Log(p) + float64(n-j)*math.Log1p(-p)
		top = max(top, terms[j])
	}
	sum := 0.0
	for _, x := range terms {
		sum += math.Exp(x - top)
	}
	return min(1, math.Exp(top)*sum)
}

// boundByBisection is the bound as check_bounds.py finds it: the root of
// P[Bin(n, b) ≤ k] = delta by bisection on [k/n, 1] (64 halvings: below a float's precision).
func boundByBisection(k, n int, delta float64) float64 {
	if k >= n {
		return 1
	}
	lo, hi := float64(k)/float64(n), 1.0
	for range 64 {
		mid := (lo + hi) / 2
		if binomialCDFBySum(k, n, mid) > delta {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

func TestUpperBoundMatchesBisection(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(6, 1))
	for range 150 {
		n := 1 + rng.IntN(5000)
		k := rng.IntN(min(n, 250) + 1)
		delta := math.Exp(-1 - 8*rng.Float64()) // 0.37 down to 0.00012
		got, want := UpperBound(k, n, delta), boundByBisection(k, n, delta)
		if math.Abs(got-want) > 1e-9+1e-7*want {
			t.Errorf("UpperBound(%d, %d, %g) = %.12f, bisection %.12f", k, n, delta, got, want)
		}
		// The p-value form the procedures test with agrees with the sum.
		p := rng.Float64() * 0.2
		if got, want := binomialCDF(k, n, p), binomialCDFBySum(k, n, p); math.Abs(got-want) > 1e-9 {
			t.Errorf("binomialCDF(%d, %d, %g) = %.12f, sum %.12f", k, n, p, got, want)
		}
	}
}

func TestMinCertifiable(t *testing.T) {
	tests := []struct {
		target, delta float64
		want          int
	}{
		{0.98, 0.05, 149},
		{0.95, 0.05, 59},
		{0.98, 0.01, 228},
		{0.98, 0.1, 114},
		{0.99, 0.05, 299},
		{0.98, 0.05 / 4, 217},
		{1, 0.05, math.MaxInt},
		{0.98, 0, math.MaxInt},
		{0, 0.05, 1},
	}
	for _, tt := range tests {
		got := MinCertifiable(tt.target, tt.delta)
		if got != tt.want {
			t.Errorf("MinCertifiable(%g, %g) = %d, want %d", tt.target, tt.delta, got, tt.want)
		}
		if got == math.MaxInt || tt.target <= 0 {
			continue
		}
		risk := 1 - tt.target
		if UpperBound(0, got, tt.delta) > risk || UpperBound(0, got-1, tt.delta) <= risk {
			t.Errorf("MinCertifiable(%g, %g) = %d, but U(0, %d) = %g and U(0, %d) = %g against %g",
				tt.target, tt.delta, got, got, UpperBound(0, got, tt.delta), got-1, UpperBound(0, got-1, tt.delta), risk)
		}
		if need := allowance(risk, tt.delta, got); need[0] != got {
			t.Errorf("allowance(%g, %g)[0] = %d, want MinCertifiable %d", risk, tt.delta, need[0], got)
		}
	}
}

// need[j] is the fewest decisions whose bound with j errors is within the
// risk, for each j.
func TestAllowance(t *testing.T) {
	for _, risk := range []float64{0.02, 0.05, 0.1} {
		for _, delta := range []float64{0.05, 0.005} {
			need := allowance(risk, delta, 3000)
			if last := need[len(need)-1]; last <= 3000 {
				t.Fatalf("allowance(%g, %g, 3000) ends at %d, want past 3000", risk, delta, last)
			}
			for j, n := range need {
				if j%7 != 0 && j > 5 {
					continue // spot checks keep it quick
				}
				if UpperBound(j, n, delta) > risk*(1+1e-9) || UpperBound(j, n-1, delta) <= risk*(1-1e-9) {
					t.Errorf("allowance(%g, %g)[%d] = %d: U(%d, %d) = %g, U(%d, %d) = %g", risk, delta, j, n,
						j, n, UpperBound(j, n, delta), j, n-1, UpperBound(j, n-1, delta))
				}
			}
		}
	}
	if need := allowance(0, 0.05, 100); need != nil {
		t.Errorf("allowance at risk 0 = %v, want nil (nothing certifies)", need)
	}
}
