package synth

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// features are the cheap statistics a lazy classifier would use: mean and
// spread of each channel, a brightness histogram, edge densities, mean
// gradient and saturation.
func features(img *image.RGBA) []float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := float64(w * h)
	var sum, sq [3]float64
	var hist [8]float64
	var sat float64
	lum := make([]float64, w*h)
	for y := range h {
		for x := range w {
			p := img.Pix[y*img.Stride+4*x:]
			mx, mn := 0.0, 255.0
			for c := range 3 {
				v := float64(p[c])
				sum[c] += v
				sq[c] += v * v
				mx, mn = math.Max(mx, v), math.Min(mn, v)
			}
			if mx > 0 {
				sat += (mx - mn) / mx
			}
			l := 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
			lum[y*w+x] = l
			hist[min(int(l/32), 7)]++
		}
	}
	var f []float64
	for c := range 3 {
		m := sum[c] / n
		f = append(f, m, math.Sqrt(math.Max(sq[c]/n-m*m, 0)))
	}
	for _, v := range hist {
		f = append(f, v/n)
	}
	var e1, e2, e3, g float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			gx := lum[y*w+x+1] - lum[y*w+x-1]
			gy := lum[(y+1)*w+x] - lum[(y-1)*w+x]
			m := math.Hypot(gx, gy)
			g += m
			if m > 10 {
				e1++
			}
			if m > 30 {
				e2++
			}
			if m > 60 {
				e3++
			}
		}
	}
	return append(f, e1/n, e2/n, e3/n, g/n, sat/n)
}

// cheapAccuracy trains nearest-centroid and logistic-regression classifiers
// on the cheap features of train photos and returns their accuracy on test
// photos.
func cheapAccuracy(t testing.TB, trainX, testX [][]float64, trainY, testY []int) (centroid, logistic float64) {
	t.Helper()
	d := len(trainX[0])
	mean, sd := make([]float64, d), make([]float64, d)
	for _, x := range trainX {
		for j, v := range x {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(trainX))
	}
	for _, x := range trainX {
		for j, v := range x {
			sd[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j]/float64(len(trainX))) + 1e-9
	}
	std := func(xs [][]float64) [][]float64 {
		out := make([][]float64, len(xs))
		for i, x := range xs {
			out[i] = make([]float64, d)
			for j, v := range x {
				out[i][j] = (v - mean[j]) / sd[j]
			}
		}
		return out
	}
	tr, te := std(trainX), std(testX)

	var cent [NumClasses][]float64
	var count [NumClasses]float64
	for k := range cent {
		cent[k] = make([]float64, d)
	}
	for i, x := range tr {
		count[trainY[i]]++
		for j, v := range x {
			cent[trainY[i]][j] += v
		}
	}
	for k := range cent {
		for j := range cent[k] {
			cent[k][j] /= count[k]
		}
	}
	right := 0
	for i, x := range te {
		best, bestD := 0, math.Inf(1)
		for k := range cent {
			var dist float64
			for j, v := range x {
				dist += (v - cent[k][j]) * (v - cent[k][j])
			}
			if dist < bestD {
				best, bestD = k, dist
			}
		}
		if best == testY[i] {
			right++
		}
	}
	centroid = float64(right) / float64(len(te))

	// Multinomial logistic regression by full-batch gradient descent.
	w := make([][]float64, NumClasses)
	for k := range w {
		w[k] = make([]float64, d+1)
	}
	p := make([]float64, NumClasses)
	predict := func(x []float64) {
		mx := math.Inf(-1)
		for k := range w {
			z := w[k][d]
			for j, v := range x {
				z += w[k][j] * v
			}
			p[k] = z
			mx = math.Max(mx, z)
		}
		var s float64
		for k := range p {
			p[k] = math.Exp(p[k] - mx)
			s += p[k]
		}
		for k := range p {
			p[k] /= s
		}
	}
	for range 500 {
		grad := make([][]float64, NumClasses)
		for k := range grad {
			grad[k] = make([]float64, d+1)
		}
		for i, x := range tr {
			predict(x)
			for k := range w {
				e := p[k]
				if k == trainY[i] {
					e--
				}
				for j, v := range x {
					grad[k][j] += e * v
				}
				grad[k][d] += e
			}
		}
		for k := range w {
			for j := range w[k] {
				w[k][j] -= 0.5 * (grad[k][j]/float64(len(tr)) + 1e-3*w[k][j])
			}
		}
	}
	right = 0
	for i, x := range te {
		predict(x)
		best := 0
		for k := range p {
			if p[k] > p[best] {
				best = k
			}
		}
		if best == testY[i] {
			right++
		}
	}
	return centroid, float64(right) / float64(len(te))
}

// No cheap statistic gives the class away: classifiers on colour, spread,
// brightness and edges stay near chance (25%) on four balanced classes.
func TestNoCheapCue(t *testing.T) {
	const nTrain, nTest = 1600, 800
	var trainX, testX [][]float64
	var trainY, testY []int
	for i := range nTrain + nTest {
		class := i % NumClasses
		rng := rand.New(rand.NewPCG(7, uint64(i)))
		img, _ := Photo(rng, Class(class), Options{})
		if i < nTrain {
			trainX, trainY = append(trainX, features(img)), append(trainY, class)
		} else {
			testX, testY = append(testX, features(img)), append(testY, class)
		}
	}
	centroid, logistic := cheapAccuracy(t, trainX, testX, trainY, testY)
	t.Logf("cheap-feature accuracy on %d test photos: nearest centroid %.3f, logistic regression %.3f", nTest, centroid, logistic)
	if centroid >= 0.4 || logistic >= 0.4 {
		t.Errorf("a classifier on cheap image statistics reaches %.3f (nearest centroid) and %.3f (logistic regression), want both below 0.40", centroid, logistic)
	}
}
