package convnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// im2col matches its definition, and col2im is its adjoint:
// <im2col(x), y> = <x, col2im(y)>.
func TestIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][4]int{{1, 1, 1, 1}, {2, 3, 1, 5}, {3, 2, 4, 4}, {2, 2, 7, 3}, {1, 1, 2, 1}} {
		c, n, h, w := s[0], s[1], s[2], s[3]
		t.Run(fmt.Sprintf("c%d_s%d_%dx%d", c, n, h, w), func(t *testing.T) {
			hw, N := h*w, n*h*w
			x := randSlice(rng, c*N)
			col := make([]float32, c*9*N)
			im2col(x, c, n, h, w, col)
			for ch := range c {
				for ky := range 3 {
					for kx := range 3 {
						for j := range n {
							for y := range h {
								for xx := range w {
									var want float32
									sy, sx := y+ky-1, xx+kx-1
									if sy >= 0 && sy < h && sx >= 0 && sx < w {
										want = x[ch*N+j*hw+sy*w+sx]
									}
									if got := col[(ch*9+ky*3+kx)*N+j*hw+y*w+xx]; got != want {
										t.Fatalf("col[%d,%d,%d][%d,%d,%d] = %v, want %v", ch, ky, kx, j, y, xx, got, want)
									}
								}
							}
						}
					}
				}
			}
			y := randSlice(rng, c*9*N)
			var lhs float64
			for i := range y {
				lhs += float64(col[i]) * float64(y[i])
			}
			back := make([]float32, c*N)
			col2im(y, c, n, h, w, back)
			var rhs float64
			for i := range x {
				rhs += float64(x[i]) * float64(back[i])
			}
			if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
				t.Errorf("<im2col(x), y> = %v, <x, col2im(y)> = %v", lhs, rhs)
			}
		})
	}
}

func TestMaxPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c, n, h, w := 2, 3, 5, 6
	x := randSlice(rng, c*n*h*w)
	for i := range x {
		x[i] = max(x[i], 0) // a ReLU output
	}
	out := make([]float32, c*n*(h/2)*(w/2))
	arg := make([]int32, len(out))
	maxPool(x, c, n, h, w, out, arg)
	o := 0
	for p := range c * n {
		for y := range h / 2 {
			for xx := range w / 2 {
				base := p*h*w + 2*y*w + 2*xx
				want := max(x[base], x[base+1], x[base+w], x[base+w+1])
				if out[o] != want || x[arg[o]] != want {
					t.Fatalf("pooled %d = %v from %d (%v), want %v", o, out[o], arg[o], x[arg[o]], want)
				}
				if a := int(arg[o]); a != base && a != base+1 && a != base+w && a != base+w+1 {
					t.Fatalf("pooled %d from %d, outside its square at %d", o, a, base)
				}
				o++
			}
		}
	}
}

// A crop-and-mirror augmentation (the integer-shift fast path) gives what
// the general bilinear warp gives.
func TestAugmentCrop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sh := Shape{3, 12, 10}
	x := randSlice(rng, sh.size())
	for range 50 {
		a := newAugmentation("crop", sh, rng)
		got := make([]float32, 2*sh.size())
		a.apply(x, sh, got, 1, 2)
		cx := float32(sh.W-1) / 2
		hw := sh.H * sh.W
		for c := range sh.C {
			for y := range sh.H {
				for xx := range sh.W {
					ix := a.m00*(float32(xx)-cx) + cx + a.tx
					iy := float32(y) + a.ty
					want := bilinear(x[c*hw:(c+1)*hw], sh.W, sh.H, ix, iy)
					if g := got[c*2*hw+hw+y*sh.W+xx]; g != want {
						t.Fatalf("%+v: channel %d (%d, %d) = %v, want %v", a, c, xx, y, g, want)
					}
				}
			}
		}
	}
}

// crop_color turns the hue as the built-in does, up to ±72°, about the
// grey axis: a third of a turn takes red to green, greys stay grey, and
// every pixel keeps its mean of R, G and B.
func TestAugmentHue(t *testing.T) {
	third := hueMatrix(2 * math.Pi / 3)
	red := [3]float32{1, 0, 0}
	for c, want := range []float32{0, 1, 0} {
		got := third[c][0]*red[0] + third[c][1]*red[1] + third[c][2]*red[2]
		if math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("red turned a third: channel %d = %v, want %v", c, got, want)
		}
	}

	rng := rand.New(rand.NewPCG(5, 6))
	sh := Shape{3, 6, 6}
	hw := sh.H * sh.W
	x := randSlice(rng, sh.size())
	for c := range sh.C { // pixel 0 grey, 0.3 in pixel units
		x[c*hw] = (0.3 - pixelMean) / pixelStd
	}
	turned := 0
	for range 200 {
		a := newAugmentation("crop_color", sh, rng)
		if math.Abs(float64(a.hue)) > maxHue {
			t.Fatalf("hue %v rad, want within ±%v", a.hue, maxHue)
		}
		if a.hue != 0 {
			turned++
		}
		// The hue alone: no crop, no other jitter.
		a = augmentation{m00: 1, m11: 1, bright: 1, contrast: 1, sat: 1, hue: a.hue}
		got := make([]float32, sh.size())
		a.apply(x, sh, got, 0, 1)
		for p := range hw {
			var in, out float32
			for c := range sh.C {
				in += x[c*hw+p]
				out += got[c*hw+p]
			}
			if math.Abs(float64(in-out)) > 1e-4 {
				t.Fatalf("hue %v: pixel %d mean %v, want %v", a.hue, p, out/3, in/3)
			}
		}
		for c := range sh.C {
			if g := got[c*hw]*pixelStd + pixelMean; math.Abs(float64(g-0.3)) > 1e-5 {
				t.Fatalf("hue %v: the grey pixel's channel %d = %v, want 0.3", a.hue, c, g)
			}
		}
	}
	if turned < 190 {
		t.Errorf("crop_color turned the hue of %d photos of 200, want nearly all", turned)
	}
	if a := newAugmentation("crop", sh, rng); a.hue != 0 {
		t.Errorf("crop turned the hue by %v, want 0", a.hue)
	}
}
