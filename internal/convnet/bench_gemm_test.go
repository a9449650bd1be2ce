package convnet

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemm compares the micro-kernel with gonum's Sgemm on the
// products of one shard (8 photos) of the 3,32,32 network, as the network
// calls them: the forward product (weights × im2col columns), the weight
// gradient (mulNT, through two transposes on the kernel path) and the
// column gradient (mulTN). Names are kind_m×n×k/path.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct {
		kind    string
		m, n, k int
	}{
		{"forward", 16, 8192, 27},  // first block
		{"forward", 32, 2048, 144}, // second block
		{"forward", 64, 512, 288},  // third block
		{"weights", 32, 144, 2048}, // second block: dZ·colᵀ
		{"columns", 144, 2048, 32}, // second block: Wᵀ·dZ
		{"weights", 64, 576, 128},  // fourth block
	}
	for _, s := range shapes {
		for _, path := range []string{"gonum", "avx2", "avx512"} {
			if !withPath(path, func() {}) {
				continue // not on this CPU
			}
			b.Run(fmt.Sprintf("%s_%dx%dx%d/%s", s.kind, s.m, s.n, s.k, path), func(b *testing.B) {
				k, k512 := haveKernel, haveKernel512
				defer func() { haveKernel, haveKernel512 = k, k512 }()
				haveKernel, haveKernel512 = path != "gonum", path == "avx512"
				c := make([]float32, s.m*s.n)
				sc := new(scratch)
				var a, bb []float32
				switch s.kind {
				case "forward":
					a, bb = randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n)
				case "weights": // a m×k, b n×k
					a, bb = randSlice(rng, s.m*s.k), randSlice(rng, s.n*s.k)
				case "columns": // a k×m, b k×n
					a, bb = randSlice(rng, s.k*s.m), randSlice(rng, s.k*s.n)
				}
				for b.Loop() {
					switch s.kind {
					case "forward":
						mulNN(s.m, s.n, s.k, a, bb, c, false, sc)
					case "weights":
						mulNT(s.m, s.n, s.k, a, bb, c, sc)
					case "columns":
						mulTN(s.m, s.n, s.k, a, bb, c, sc)
					}
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}
