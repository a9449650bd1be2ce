package synth

import (
	"image/color"
	"math"
	"math/rand/v2"
)

// Every class draws its object from the same colour distributions: a main
// colour, a second colour and an accent, each any hue, saturation and
// value; and a "tag" (a light patch with dark lines: a shipping label, a
// brand tag, a printed logo) on every class alike. Only the silhouette and
// the arrangement of the parts tell the classes apart.

func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

func hsv(h, s, v float64) color.RGBA {
	h = math.Mod(h, 360)
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return color.RGBA{uint8(255 * (r + m)), uint8(255 * (g + m)), uint8(255 * (b + m)), 255}
}

// anyColour is the colour of an object, a garment, a background or a piece
// of clutter.
func anyColour(rng *rand.Rand) color.RGBA {
	return hsv(uniform(rng, 0, 360), uniform(rng, 0.05, 0.85), uniform(rng, 0.15, 0.95))
}

// minContrast is the least RGB distance between a subject's main colours
// and the background's.
const minContrast = 100

func distance(a, b color.RGBA) float64 {
	dr, dg, db := float64(a.R)-float64(b.R), float64(a.G)-float64(b.G), float64(a.B)-float64(b.B)
	return math.Sqrt(dr*dr + dg*dg + db*db)
}

// contrasting draws colours until one stands out from all of behind (and
// gives up after a while, keeping the one that stands out most).
func contrasting(rng *rand.Rand, behind []color.RGBA) color.RGBA {
	var best color.RGBA
	bestD := -1.0
	for range 50 {
		c := anyColour(rng)
		d := math.Inf(1)
		for _, b := range behind {
			d = math.Min(d, distance(c, b))
		}
		if d >= minContrast {
			return c
		}
		if d > bestD {
			best, bestD = c, d
		}
	}
	return best
}

func skinColour(rng *rand.Rand) color.RGBA {
	return hsv(uniform(rng, 12, 38), uniform(rng, 0.25, 0.65), uniform(rng, 0.3, 0.95))
}

func shade(c color.RGBA, f float64) color.RGBA {
	s := func(v uint8) uint8 { return uint8(math.Min(255, float64(v)*f)) }
	return color.RGBA{s(c.R), s(c.G), s(c.B), c.A}
}

// palette is the colours of one object.
type palette struct {
	main, second, accent color.RGBA
	tagPaper, tagInk     color.RGBA
	skin                 color.RGBA
}

// newPalette draws an object's colours. The main and second colours stand
// out from the background colours behind (a subject the colour of the
// wall is a photo nobody could classify).
func newPalette(rng *rand.Rand, behind []color.RGBA) palette {
	return palette{
		main:     contrasting(rng, behind),
		second:   contrasting(rng, behind),
		accent:   anyColour(rng),
		tagPaper: hsv(uniform(rng, 0, 360), uniform(rng, 0, 0.2), uniform(rng, 0.75, 1)),
		tagInk:   hsv(uniform(rng, 0, 360), uniform(rng, 0, 0.4), uniform(rng, 0.02, 0.3)),
		skin:     contrastingSkin(rng, behind),
	}
}

// contrastingSkin draws a skin colour that stands out from the background.
// Every class draws one, used or not, so that the background is chosen
// alike for all.
func contrastingSkin(rng *rand.Rand, behind []color.RGBA) color.RGBA {
	var best color.RGBA
	bestD := -1.0
	for range 50 {
		c := skinColour(rng)
		d := math.Inf(1)
		for _, b := range behind {
			d = math.Min(d, distance(c, b))
		}
		if d >= minContrast*0.8 {
			return c
		}
		if d > bestD {
			best, bestD = c, d
		}
	}
	return best
}

// tag is a light patch with a few dark lines (a label, a brand tag, a
// print), centred on (cx, cy) with half sizes (w, h).
func tag(rng *rand.Rand, pal palette, cx, cy, w, h float64) shape {
	var s shape
	s.add(pal.tagPaper, rect(cx-w, cy-h, cx+w, cy+h)...)
	lines := 2 + rng.IntN(3)
	for i := range lines {
		y := cy - h + 2*h*(float64(i)+0.7)/(float64(lines)+0.4)
		lw := w * uniform(rng, 0.4, 0.85)
		s.add(pal.tagInk, rect(cx-w*0.8, y-h*0.09, cx-w*0.8+2*lw, y+h*0.09)...)
	}
	return s
}

// The shapes below are in their own units: about one unit tall, x centred
// on 0, y growing downwards from the top at 0.

// person draws a standing person from the top of the head (y = 0) to the
// soles (y = 1). Half-length and cropped photos clip it.
func person(rng *rand.Rand, pal palette) shape {
	var s shape
	headR := uniform(rng, 0.055, 0.068)
	headCy := headR * 1.2
	neckY := headCy + headR*1.1
	shY := neckY + 0.025
	shW := uniform(rng, 0.1, 0.15)
	waistY := uniform(rng, 0.45, 0.5)
	hipW := shW * uniform(rng, 0.7, 0.9)
	lean := uniform(rng, -0.03, 0.03)
	feetY := 0.97
	legW := uniform(rng, 0.055, 0.08)
	spread := uniform(rng, 0, 0.09)
	top, bottom := pal.main, pal.second

	// Legs (or a skirt and legs), then shoes.
	crotch := waistY + 0.08
	lk := pt{-hipW*0.5 - spread*0.5 + lean, feetY - 0.02}
	rk := pt{hipW*0.5 + spread*0.5 + lean, feetY - 0.02}
	skirt := rng.IntN(3) == 0
	legCol := bottom
	if skirt {
		legCol = pal.skin
	}
	s.add(legCol, capsule(pt{-hipW * 0.5, crotch - 0.04}, lk, legW)...)
	s.add(legCol, capsule(pt{hipW * 0.5, crotch - 0.04}, rk, legW)...)
	if !skirt {
		s.add(bottom, rect(-hipW, waistY, hipW, crotch)...)
	} else {
		hem := uniform(rng, 0.66, 0.76)
		flare := uniform(rng, 0.02, 0.09)
		s.add(bottom, pt{-hipW, waistY}, pt{hipW, waistY}, pt{hipW + flare, hem}, pt{-hipW - flare, hem})
	}
	shoeL := uniform(rng, 0.05, 0.07)
	s.add(pal.accent, ellipse(lk.x-shoeL*0.3, feetY, shoeL, 0.022, 12)...)
	s.add(pal.accent, ellipse(rk.x+shoeL*0.3, feetY, shoeL, 0.022, 12)...)

	// Torso, with long or short sleeves.
	s.add(top, pt{-shW, shY}, pt{shW, shY}, pt{hipW * 1.05, waistY + 0.01}, pt{-hipW * 1.05, waistY + 0.01})
	armL := uniform(rng, 0.3, 0.36)
	for _, side := range []float64{-1, 1} {
		a := uniform(rng, 0.08, 0.6) // outwards from the vertical
		sh := pt{side * shW * 0.9, shY + 0.02}
		hand := pt{sh.x + side*armL*math.Sin(a), sh.y + armL*math.Cos(a)}
		sleeve := uniform(rng, 0.35, 1.0)
		elbow := pt{sh.x + (hand.x-sh.x)*sleeve, sh.y + (hand.y-sh.y)*sleeve}
		s.add(pal.skin, capsule(sh, hand, 0.05)...)
		s.add(top, capsule(sh, elbow, 0.06)...)
		s.add(pal.skin, ellipse(hand.x, hand.y, 0.028, 0.032, 10)...)
	}
	if rng.IntN(2) == 0 {
		s.addAll(tag(rng, pal, lean*0.3, shY+0.1, shW*0.45, 0.045))
	}

	// Neck, head, hair.
	s.add(pal.skin, rect(-0.022, neckY-0.02, 0.022, shY+0.01)...)
	s.add(pal.skin, ellipse(0, headCy, headR, headR*1.2, 16)...)
	hair := shade(pal.accent, uniform(rng, 0.3, 1))
	switch rng.IntN(3) {
	case 0: // short hair: a cap over the top of the head
		cap := ellipse(0, headCy-headR*0.35, headR*1.05, headR*0.95, 16)
		s.add(hair, cap...)
		s.add(pal.skin, ellipse(0, headCy+headR*0.25, headR*0.85, headR*0.85, 14)...)
	case 1: // long hair falling behind the shoulders
		s = append(shape{{pts: rect(-headR*1.2, headCy-headR*0.6, headR*1.2, shY+0.08), col: hair}}, s...)
		s.add(hair, ellipse(0, headCy-headR*0.45, headR*1.1, headR*0.85, 16)...)
	}
	return s
}

func product(rng *rand.Rand, pal palette) shape {
	var s shape
	switch r := rng.IntN(20); {
	case r < 5: // a shirt laid flat
		w := uniform(rng, 0.26, 0.34)
		sl := uniform(rng, 0.15, 0.35)
		s.add(pal.main, pt{-w, 0.05}, pt{-w - sl, 0.05 + sl*0.9}, pt{-w - sl + 0.09, 0.05 + sl*0.9 + 0.08}, pt{-w, 0.3})
		s.add(pal.main, pt{w, 0.05}, pt{w + sl, 0.05 + sl*0.9}, pt{w + sl - 0.09, 0.05 + sl*0.9 + 0.08}, pt{w, 0.3})
		s.add(pal.main, rect(-w, 0.03, w, 1)...)
		s.add(pal.second, ellipse(0, 0.04, w*0.35, 0.06, 14)...)
		if rng.IntN(2) == 0 {
			s.addAll(tag(rng, pal, 0, 0.35, w*0.5, 0.1))
		}
	case r < 9: // trousers laid flat
		w := uniform(rng, 0.22, 0.3)
		gap := uniform(rng, 0.02, 0.08)
		s.add(pal.main, pt{-w, 0.08}, pt{0, 0.08}, pt{0, 0.3}, pt{-gap, 1}, pt{-w - 0.06, 1})
		s.add(pal.main, pt{0, 0.08}, pt{w, 0.08}, pt{w + 0.06, 1}, pt{gap, 1}, pt{0, 0.3})
		s.add(pal.second, rect(-w, 0, w, 0.09)...)
		s.addAll(tag(rng, pal, w*0.4, 0.16, 0.07, 0.05))
	case r < 13: // a pair of shoes seen from the side
		for i, dx := range []float64{-0.55, 0.55} {
			if i == 1 && rng.IntN(3) == 0 {
				break // a single shoe
			}
			var sh shape
			sh.add(pal.main, pt{-0.5, 0.45}, pt{-0.25, 0.1}, pt{0, 0.15}, pt{0.15, 0.45}, pt{0.5, 0.6}, pt{0.5, 0.85}, pt{-0.5, 0.85})
			sh.add(pal.second, rect(-0.52, 0.82, 0.52, 1)...)
			for k := range 3 {
				x := -0.2 + 0.1*float64(k)
				sh.add(pal.accent, capsule(pt{x, 0.2 + 0.1*float64(k)}, pt{x + 0.12, 0.25 + 0.1*float64(k)}, 0.035)...)
			}
			sh.addAll(tag(rng, pal, -0.3, 0.6, 0.1, 0.07))
			for _, p := range sh {
				q := make([]pt, len(p.pts))
				for j, v := range p.pts {
					q[j] = pt{v.x*0.9 + dx, v.y*0.5 + 0.5}
				}
				s.add(p.col, q...)
			}
		}
	case r < 16: // a handbag
		w := uniform(rng, 0.35, 0.5)
		top := uniform(rng, 0.35, 0.45)
		s.add(pal.second, capsule(pt{-w * 0.5, top + 0.02}, pt{-w * 0.3, 0}, 0.08)...)
		s.add(pal.second, capsule(pt{-w * 0.3, 0}, pt{w * 0.3, 0}, 0.08)...)
		s.add(pal.second, capsule(pt{w * 0.3, 0}, pt{w * 0.5, top + 0.02}, 0.08)...)
		s.add(pal.main, pt{-w * 0.8, top}, pt{w * 0.8, top}, pt{w, 1}, pt{-w, 1})
		s.add(shade(pal.main, 0.75), pt{-w * 0.8, top}, pt{w * 0.8, top}, pt{w * 0.7, top + 0.22}, pt{-w * 0.7, top + 0.22})
		s.addAll(tag(rng, pal, 0, top+0.32, 0.1, 0.06))
	default: // a dress laid flat
		w := uniform(rng, 0.16, 0.22)
		hem := uniform(rng, 0.35, 0.5)
		s.add(pal.main, capsule(pt{-w * 0.7, 0.15}, pt{-w * 0.5, 0}, 0.04)...)
		s.add(pal.main, capsule(pt{w * 0.7, 0.15}, pt{w * 0.5, 0}, 0.04)...)
		s.add(pal.main, rect(-w, 0.12, w, 0.45)...)
		s.add(pal.main, pt{-w, 0.44}, pt{w, 0.44}, pt{hem, 1}, pt{-hem, 1})
		s.add(pal.second, rect(-w, 0.4, w, 0.47)...)
		if rng.IntN(2) == 0 {
			s.addAll(tag(rng, pal, 0, 0.25, w*0.6, 0.07))
		}
	}
	return s
}

func parcel(rng *rand.Rand, pal palette) shape {
	var s shape
	tape := pal.second
	switch r := rng.IntN(4); {
	case r == 0: // a box seen from the front, taped both ways
		w := uniform(rng, 0.45, 0.75)
		s.add(pal.main, rect(-w, 0, w, 1)...)
		tw := uniform(rng, 0.05, 0.09)
		s.add(tape, rect(-tw, 0, tw, 1)...)
		s.add(tape, rect(-w, 0.5-tw, w, 0.5+tw)...)
		s.addAll(tag(rng, pal, w*0.5, 0.25, w*0.35, 0.12))
	case r <= 2: // a box seen from above and the side
		w := uniform(rng, 0.35, 0.6)
		d := uniform(rng, 0.2, 0.32)
		h := 1 - d
		s.add(pal.main, rect(-w, d, w, 1)...)                                         // front
		s.add(shade(pal.main, 1.3), pt{-w, d}, pt{-w + d, 0}, pt{w + d, 0}, pt{w, d}) // top
		s.add(shade(pal.main, 0.65), pt{w, d}, pt{w + d, 0}, pt{w + d, h}, pt{w, 1})  // side
		tw := uniform(rng, 0.04, 0.07)
		s.add(tape, pt{-tw, d}, pt{-tw + d, 0}, pt{tw + d, 0}, pt{tw, d}) // tape on top
		s.add(tape, rect(-tw, d, tw, d+uniform(rng, 0.15, 0.3))...)       // and down the front
		s.addAll(tag(rng, pal, -w*0.45, d+(1-d)*0.6, w*0.4, 0.13))
	default: // a mailer bag with its sealed flap
		w := uniform(rng, 0.35, 0.5)
		s.add(pal.main, roundRect(-w, 0, w, 1, 0.06)...)
		s.add(shade(pal.main, 0.75), pt{-w, 0.02}, pt{w, 0.02}, pt{w, 0.12}, pt{0, 0.26}, pt{-w, 0.12})
		s.add(tape, rect(-w, 0.12, w, 0.17)...)
		s.addAll(tag(rng, pal, 0, uniform(rng, 0.5, 0.7), w*0.6, 0.16))
	}
	return s
}
