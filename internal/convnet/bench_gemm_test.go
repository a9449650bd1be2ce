package convnet

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGemm compares the micro-kernel with gonum's Sgemm on the products
// of one shard (8 photos) of a 3,32,32 network: m×n×k.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	shapes := []struct {
		name    string
		m, n, k int
	}{
		{"fwd1_16x8192x27", 16, 8192, 27},
		{"fwd2_32x2048x144", 32, 2048, 144},
		{"fwd3_64x512x288", 64, 512, 288},
		{"dW2_32x144x2048", 32, 144, 2048},
		{"dCol2_144x2048x32", 144, 2048, 32},
	}
	for _, s := range shapes {
		for _, path := range []string{"gonum", "kernel"} {
			if path == "kernel" && !haveKernel {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, path), func(b *testing.B) {
				saved := haveKernel
				haveKernel = path == "kernel"
				defer func() { haveKernel = saved }()
				a, bb := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n)
				c := make([]float32, s.m*s.n)
				for b.Loop() {
					mulNN(s.m, s.n, s.k, a, bb, c, false)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}
