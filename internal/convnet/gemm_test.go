package convnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func naive(m, n, k int, a []float32, lda int, b []float32, ldb int) []float64 {
	c := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				s += float64(a[i*lda+p]) * float64(b[p*ldb+j])
			}
			c[i*n+j] = s
		}
	}
	return c
}

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// withPath runs f with the products on one path: "gonum", "avx2" or
// "avx512". It reports false if the CPU cannot run that path.
func withPath(path string, f func()) bool {
	k, k512 := haveKernel, haveKernel512
	defer func() { haveKernel, haveKernel512 = k, k512 }()
	switch path {
	case "gonum":
		haveKernel, haveKernel512 = false, false
	case "avx2":
		if !k {
			return false
		}
		haveKernel512 = false
	case "avx512":
		if !k512 {
			return false
		}
	}
	f()
	return true
}

// The products agree with a float64 reference on every path and shape,
// including edges that are not multiples of the kernels' blocks and k
// longer than one k-block; the two kernels give the same bits.
func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{1, 1, 1}, {6, 16, 5}, {8, 32, 5}, {7, 17, 3}, {9, 33, 300}, {16, 27, 100}, {13, 40, 600}, {64, 8, 576}, {5, 3, 2}, {12, 32, 0}, {16, 96, 27}} {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(rng, m*k+1), randSlice(rng, k*n+1)
		want := naive(m, n, k, a, k, b, n)
		results := map[string][]float32{}
		for _, path := range []string{"gonum", "avx2", "avx512"} {
			t.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, path), func(t *testing.T) {
				ran := withPath(path, func() {
					check := func(name string, got []float32, add float64) {
						t.Helper()
						for i, w := range want {
							if d := math.Abs(float64(got[i]) - add - w); d > 1e-4*math.Sqrt(float64(k)+1)*(1+math.Abs(w)) {
								t.Fatalf("%s: element %d = %v, want %v", name, i, got[i], w+add)
							}
						}
					}
					c := make([]float32, m*n)
					for i := range c {
						c[i] = 7
					}
					mulNN(m, n, k, a, b, c, false, nil)
					check("mulNN", c, 0)
					results[path] = slices.Clone(c)
					mulNN(m, n, k, a, b, c, true, nil)
					for i := range c {
						c[i] -= float32(want[i])
					}
					check("mulNN add", c, 0)

					// mulNT(m, n, k, a, bt) with bt = bᵀ gives a·b too.
					bt := make([]float32, n*k)
					transpose(b, k, n, bt)
					c2 := make([]float32, m*n)
					for i := range c2 {
						c2[i] = 1
					}
					mulNT(m, n, k, a, bt, c2, nil)
					check("mulNT", c2, 1)

					// mulTN(m, n, k, at, b) with at = aᵀ gives a·b too.
					at := make([]float32, k*m)
					transpose(a, m, k, at)
					c3 := make([]float32, m*n)
					mulTN(m, n, k, at, b, c3, nil)
					check("mulTN", c3, 0)
				})
				if !ran {
					t.Logf("this CPU has no %s kernel", path)
				}
			})
		}
		if x, y := results["avx2"], results["avx512"]; x != nil && y != nil && !equalBits(x, y) {
			t.Errorf("%dx%dx%d: the AVX2 and AVX-512 kernels give different bits", m, n, k)
		}
	}
}
