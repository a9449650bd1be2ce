package synth

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// A Class is what a review photo shows. The values are the class indices of
// the Ground Truth label list, in the order of ClassNames.
type Class int

const (
	Package    Class = iota // a parcel: a box or a mailer bag, with tape and a label
	Product                 // the product alone: a garment, shoes or a bag laid flat
	FullLength              // a person from head to feet, wearing the item
	HalfLength              // a person from the waist up
)

// NumClasses is the number of classes.
const NumClasses = 4

// ClassNames are the class names in class-index order, as in the
// label-category configuration WriteLabelled writes.
var ClassNames = []string{"package", "product", "full-length", "half-length"}

func (c Class) String() string {
	if c < 0 || int(c) >= NumClasses {
		return fmt.Sprintf("Class(%d)", int(c))
	}
	return ClassNames[c]
}

// ParseClass returns the class named s.
func ParseClass(s string) (Class, error) {
	for i, n := range ClassNames {
		if n == s {
			return Class(i), nil
		}
	}
	return 0, fmt.Errorf("unknown class %q, want one of package, product, full-length, half-length", s)
}

// Difficulty says whether a photo was made hard on purpose, and how.
type Difficulty int

const (
	// AnyDifficulty, in Options, lets Photo choose: Easy, or hard with
	// probability Options.HardFraction.
	AnyDifficulty Difficulty = iota
	Easy
	Occluded // a large object hides part of the subject
	Cropped  // a person cut off near the line between full-length and half-length
	Blurred  // strongly out of focus
)

var difficultyNames = []string{"any", "easy", "occluded", "cropped", "blurred"}

func (d Difficulty) String() string {
	if d < 0 || int(d) >= len(difficultyNames) {
		return fmt.Sprintf("Difficulty(%d)", int(d))
	}
	return difficultyNames[d]
}

// ParseDifficulty returns the difficulty named s (as String writes it).
func ParseDifficulty(s string) (Difficulty, error) {
	for i, n := range difficultyNames {
		if n == s && i > 0 {
			return Difficulty(i), nil
		}
	}
	return 0, fmt.Errorf("unknown difficulty %q, want easy, occluded, cropped or blurred", s)
}

// CropLine is where, as a share of a standing person's height from the top
// of the head, a Cropped photo changes class: cut below it the photo is
// full-length (only the feet or shins are missing), above it half-length.
const CropLine = 0.75

// Options choose how photos are drawn. The zero value draws 96×96 photos,
// one in ten hard.
type Options struct {
	// Size is the side of the square photo in pixels; 0 means 96. Sizes
	// below 32 are raised to 32.
	Size int
	// HardFraction is the share of photos made hard on purpose (occluded,
	// cropped near the full-length/half-length line, or blurred). 0 means
	// 0.1; a negative value means none.
	HardFraction float64
	// Difficulty, when not AnyDifficulty, makes every photo that hard (or
	// Easy). Cropped applies to people only; other classes draw Occluded
	// instead.
	Difficulty Difficulty
}

func (o Options) size() int {
	switch {
	case o.Size == 0:
		return 96
	case o.Size < 32:
		return 32
	}
	return o.Size
}

func (o Options) hardFraction() float64 {
	switch {
	case o.HardFraction == 0:
		return 0.1
	case o.HardFraction < 0:
		return 0
	}
	return math.Min(o.HardFraction, 1)
}

// Info describes a drawn photo.
type Info struct {
	Class      Class
	Difficulty Difficulty
	// Quality is the JPEG quality the photo is meant to be saved at
	// (50 to 95), part of its randomness.
	Quality int
}

// Photo draws a photo of the class. Everything but the subject's silhouette
// is drawn from the same distributions whatever the class: the subject's
// colours, size (as a share of the frame), position, rotation, the
// background, clutter, shadow, lighting, blur, noise and JPEG quality. The
// same rng state gives the same photo.
func Photo(rng *rand.Rand, class Class, opts Options) (*image.RGBA, Info) {
	if class < 0 || int(class) >= NumClasses {
		panic(fmt.Sprintf("synth: photo of %v", class))
	}
	info := Info{Class: class, Difficulty: opts.Difficulty}
	if info.Difficulty == AnyDifficulty {
		info.Difficulty = Easy
		if rng.Float64() < opts.hardFraction() {
			if class == FullLength || class == HalfLength {
				info.Difficulty = Difficulty(int(Occluded) + rng.IntN(3))
			} else {
				info.Difficulty = []Difficulty{Occluded, Blurred}[rng.IntN(2)]
			}
		}
	}
	if info.Difficulty == Cropped && class != FullLength && class != HalfLength {
		info.Difficulty = Occluded
	}
	info.Quality = 50 + rng.IntN(46)
	s := opts.size()
	fs := float64(s)
	c := newCanvas(s)

	behind := background(rng, c)

	pal := newPalette(rng, behind)
	var obj shape
	bottomAnchored := rng.Float64() < 0.4
	switch class {
	case Package:
		obj = parcel(rng, pal)
	case Product:
		obj = product(rng, pal)
	case FullLength, HalfLength:
		obj = person(rng, pal)
		cut := 1.0
		switch {
		case info.Difficulty == Cropped && class == FullLength:
			cut = uniform(rng, CropLine+0.01, 0.9)
		case info.Difficulty == Cropped:
			cut = uniform(rng, 0.6, CropLine-0.01)
		case class == HalfLength:
			cut = uniform(rng, 0.4, 0.58)
		}
		if cut < 1 {
			obj = obj.clipBelow(cut)
		}
		if info.Difficulty == Cropped {
			bottomAnchored = true // the frame's edge is the cut
		}
	}
	if rng.IntN(2) == 0 { // mirror
		for i := range obj {
			for j := range obj[i].pts {
				obj[i].pts[j].x = -obj[i].pts[j].x
			}
		}
	}

	// Size: the subject covers a share of the frame drawn alike for every
	// class, unless it would not fit; then it is shrunk to fit.
	angle := uniform(rng, -12, 12) * math.Pi / 180
	share := uniform(rng, 0.1, 0.22)
	ref := place(fs/2, angle, fs/2, fs/2)
	scale := fs / 2 * math.Sqrt(share*fs*fs/math.Max(area(obj, ref, s), 1))
	m := place(scale, angle, 0, 0)
	x0, y0, x1, y1 := obj.bounds(m)
	if limit := 0.94 * fs; x1-x0 > limit || y1-y0 > limit {
		scale *= limit / math.Max(x1-x0, y1-y0)
		m = place(scale, angle, 0, 0)
		x0, y0, x1, y1 = obj.bounds(m)
	}
	margin := 0.03 * fs
	tx := uniform(rng, margin-x0, fs-margin-x1)
	var ty float64
	if bottomAnchored {
		off := uniform(rng, -0.04, 0.01) * fs
		if info.Difficulty == Cropped {
			off = uniform(rng, 0.005, 0.02) * fs
		}
		ty = fs + off - y1
	} else {
		ty = uniform(rng, margin-y0, fs-margin-y1)
	}
	m = place(scale, angle, tx, ty)
	x0, y0, x1, y1 = obj.bounds(m)

	if rng.IntN(2) == 0 { // a soft shadow under the subject
		cx, w := (x0+x1)/2+uniform(rng, -0.05, 0.05)*fs, (x1-x0)*uniform(rng, 0.5, 0.7)
		c.fill(ellipse(cx, y1, w, 0.04*fs, 20), affine{a: 1, d: 1}, color.RGBA{0, 0, 0, uint8(40 + rng.IntN(60))})
	}
	c.draw(obj, m)

	if info.Difficulty == Occluded {
		w, h := (x1-x0)*uniform(rng, 0.35, 0.55), (y1-y0)*uniform(rng, 0.35, 0.55)
		cx, cy := uniform(rng, x0+w/2, x1-w/2), uniform(rng, y0+h/2, y1-h/2)
		clutterItem(rng, c, cx, cy, w, h, anyColour(rng))
	}
	if rng.Float64() < 0.2 { // something in the foreground, at an edge
		r := uniform(rng, 0.05, 0.12) * fs
		cx, cy := uniform(rng, 0, fs), fs*float64(rng.IntN(2))
		if rng.IntN(2) == 0 {
			cx, cy = cy, cx
		}
		clutterItem(rng, c, cx, cy, r, r, anyColour(rng))
	}

	light(rng, c.img)
	blur := 0
	switch {
	case info.Difficulty == Blurred:
		blur = int(math.Round(uniform(rng, 2.5, 4) * fs / 96))
	case rng.Float64() < 0.25:
		blur = int(math.Round(fs / 96))
	}
	boxBlur(c.img, blur)
	noise(rng, c.img, uniform(rng, 0, 10))
	return c.img, info
}

// JPEG draws a photo of the class and encodes it at its Info.Quality.
func JPEG(rng *rand.Rand, class Class, opts Options) ([]byte, Info, error) {
	img, info := Photo(rng, class, opts)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: info.Quality}); err != nil {
		return nil, info, fmt.Errorf("encode photo: %w", err)
	}
	return buf.Bytes(), info, nil
}

// background paints the scene behind the subject: a wall, maybe a floor, a
// faint texture, and clutter. It returns the wall's and floor's colours.
func background(rng *rand.Rand, c *canvas) []color.RGBA {
	fs := float64(c.img.Bounds().Dx())
	id := affine{a: 1, d: 1}
	behind := []color.RGBA{anyColour(rng)}
	c.fill(rect(0, 0, fs, fs), id, behind[0])
	if rng.IntN(2) == 0 {
		y := uniform(rng, 0.45, 0.85) * fs
		tilt := uniform(rng, -0.1, 0.1) * fs
		behind = append(behind, anyColour(rng))
		c.fill([]pt{{0, y - tilt}, {fs, y + tilt}, {fs, fs}, {0, fs}}, id, behind[1])
	}
	if rng.Float64() < 0.3 { // stripes: wallpaper, floorboards, a rug
		col := anyColour(rng)
		a := uint8(20 + rng.IntN(50))
		col = color.RGBA{uint8(int(col.R) * int(a) / 255), uint8(int(col.G) * int(a) / 255), uint8(int(col.B) * int(a) / 255), a}
		period := uniform(rng, 0.06, 0.2) * fs
		angle := uniform(rng, 0, math.Pi)
		m := place(1, angle, fs/2, fs/2)
		for x := -fs; x < fs; x += period {
			c.fill(rect(x, -fs, x+period/2, fs), m, col)
		}
	}
	for range rng.IntN(4) {
		w, h := uniform(rng, 0.05, 0.2)*fs, uniform(rng, 0.05, 0.2)*fs
		clutterItem(rng, c, uniform(rng, 0, fs), uniform(rng, 0, fs), w, h, anyColour(rng))
	}
	return behind
}

// clutterItem draws something that belongs to no class: a ball, a book, a
// cable, a ring, a blob.
func clutterItem(rng *rand.Rand, c *canvas, cx, cy, w, h float64, col color.RGBA) {
	m := place(1, uniform(rng, 0, math.Pi), cx, cy)
	switch rng.IntN(5) {
	case 0:
		c.fill(ellipse(0, 0, w/2, h/2, 18), m, col)
	case 1:
		c.fill(rect(-w/2, -h/2, w/2, h/2), m, col)
	case 2:
		c.fill(capsule(pt{-w / 2, 0}, pt{w / 2, 0}, math.Max(1.5, h/6)), m, col)
	case 3:
		c.fill(ellipse(0, 0, w/2, h/2, 18), m, col)
		c.fill(ellipse(0, 0, w/3, h/3, 18), m, shade(col, uniform(rng, 0.4, 1.6)))
	default:
		var pts []pt
		for i := range 7 {
			a := 2 * math.Pi * float64(i) / 7
			r := uniform(rng, 0.6, 1)
			pts = append(pts, pt{w / 2 * r * math.Cos(a), h / 2 * r * math.Sin(a)})
		}
		c.fill(pts, m, col)
	}
}

// light applies the scene's lighting: overall exposure, a gradient across
// the frame, a colour cast and a vignette.
func light(rng *rand.Rand, img *image.RGBA) {
	gain := uniform(rng, 0.75, 1.2)
	dir := uniform(rng, 0, 2*math.Pi)
	grad := uniform(rng, 0, 0.5)
	gx, gy := grad*math.Cos(dir), grad*math.Sin(dir)
	cast := [3]float64{uniform(rng, 0.88, 1.12), uniform(rng, 0.88, 1.12), uniform(rng, 0.88, 1.12)}
	vig := uniform(rng, 0, 0.3)
	b := img.Bounds()
	fs := float64(b.Dx())
	for y := range b.Dy() {
		row := img.Pix[y*img.Stride:]
		v := float64(y)/fs - 0.5
		for x := range b.Dx() {
			u := float64(x)/fs - 0.5
			f := gain * (1 + gx*u + gy*v) * (1 - vig*(u*u+v*v))
			for ch := range 3 {
				p := &row[4*x+ch]
				*p = clamp8(float64(*p) * f * cast[ch])
			}
		}
	}
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// boxBlur blurs img with two passes of a box filter of radius r (close to
// a Gaussian), edges clamped.
func boxBlur(img *image.RGBA, r int) {
	if r <= 0 {
		return
	}
	n := img.Bounds().Dx()
	buf := make([]float64, n)
	line := func(get func(i int) *uint8) {
		for i := range n {
			buf[i] = float64(*get(i))
		}
		for i := range n {
			var sum float64
			for k := -r; k <= r; k++ {
				sum += buf[min(max(i+k, 0), n-1)]
			}
			*get(i) = clamp8(sum / float64(2*r+1))
		}
	}
	for range 2 {
		for ch := range 3 {
			for y := range n {
				line(func(i int) *uint8 { return &img.Pix[y*img.Stride+4*i+ch] })
			}
			for x := range n {
				line(func(i int) *uint8 { return &img.Pix[i*img.Stride+4*x+ch] })
			}
		}
	}
}

// noise adds Gaussian noise of standard deviation sigma to every channel.
func noise(rng *rand.Rand, img *image.RGBA, sigma float64) {
	for i := 0; i < len(img.Pix); i += 4 {
		for ch := range 3 {
			img.Pix[i+ch] = clamp8(float64(img.Pix[i+ch]) + sigma*rng.NormFloat64())
		}
	}
}
