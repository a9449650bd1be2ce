package synth

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkPhoto(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; b.Loop(); i++ {
		Photo(rng, Class(i%NumClasses), Options{})
	}
}

func BenchmarkJPEG(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; b.Loop(); i++ {
		if _, _, err := JPEG(rng, Class(i%NumClasses), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
