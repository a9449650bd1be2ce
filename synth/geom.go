package synth

import (
	"image"
	"image/color"
	"math"

	"golang.org/x/image/vector"
)

// pt is a point in a shape's own coordinates (y grows downwards, as in
// images).
type pt struct{ x, y float64 }

// A part is one filled polygon of a shape, in one colour.
type part struct {
	pts []pt
	col color.RGBA // premultiplied; alpha below 255 lets what is behind show
}

// A shape is a list of parts drawn in order, each over the ones before.
type shape []part

func (s *shape) add(col color.RGBA, pts ...pt) {
	if len(pts) >= 3 {
		*s = append(*s, part{pts: pts, col: col})
	}
}

func (s *shape) addAll(o shape) { *s = append(*s, o...) }

// rect is the axis-aligned rectangle [x0, x1] × [y0, y1].
func rect(x0, y0, x1, y1 float64) []pt {
	return []pt{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}

// ellipse approximates an ellipse by a polygon of n points.
func ellipse(cx, cy, rx, ry float64, n int) []pt {
	pts := make([]pt, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / float64(n)
		pts[i] = pt{cx + rx*math.Cos(a), cy + ry*math.Sin(a)}
	}
	return pts
}

// capsule is a thick segment from p to q of width w with round ends: a limb,
// a strap, a handle.
func capsule(p, q pt, w float64) []pt {
	dx, dy := q.x-p.x, q.y-p.y
	l := math.Hypot(dx, dy)
	if l == 0 {
		return ellipse(p.x, p.y, w/2, w/2, 12)
	}
	a := math.Atan2(dy, dx)
	r := w / 2
	pts := make([]pt, 0, 14)
	for i := 0; i <= 6; i++ { // round end around q
		t := a - math.Pi/2 + math.Pi*float64(i)/6
		pts = append(pts, pt{q.x + r*math.Cos(t), q.y + r*math.Sin(t)})
	}
	for i := 0; i <= 6; i++ { // round end around p
		t := a + math.Pi/2 + math.Pi*float64(i)/6
		pts = append(pts, pt{p.x + r*math.Cos(t), p.y + r*math.Sin(t)})
	}
	return pts
}

// roundRect is a rectangle with corners of radius r.
func roundRect(x0, y0, x1, y1, r float64) []pt {
	r = math.Min(r, math.Min(x1-x0, y1-y0)/2)
	var pts []pt
	corner := func(cx, cy, from float64) {
		for i := 0; i <= 4; i++ {
			t := from + math.Pi/2*float64(i)/4
			pts = append(pts, pt{cx + r*math.Cos(t), cy + r*math.Sin(t)})
		}
	}
	corner(x1-r, y0+r, -math.Pi/2)
	corner(x1-r, y1-r, 0)
	corner(x0+r, y1-r, math.Pi/2)
	corner(x0+r, y0+r, math.Pi)
	return pts
}

// affine maps shape coordinates to image coordinates: scale, rotate, then
// translate.
type affine struct {
	a, b, c, d, tx, ty float64
}

func place(scale, angle, tx, ty float64) affine {
	sin, cos := math.Sincos(angle)
	return affine{a: scale * cos, b: -scale * sin, c: scale * sin, d: scale * cos, tx: tx, ty: ty}
}

func (m affine) apply(p pt) pt {
	return pt{m.a*p.x + m.b*p.y + m.tx, m.c*p.x + m.d*p.y + m.ty}
}

// bounds is the bounding box of s under m.
func (s shape) bounds(m affine) (x0, y0, x1, y1 float64) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, p := range s {
		for _, q := range p.pts {
			q = m.apply(q)
			x0, x1 = math.Min(x0, q.x), math.Max(x1, q.x)
			y0, y1 = math.Min(y0, q.y), math.Max(y1, q.y)
		}
	}
	return x0, y0, x1, y1
}

// clipBelow cuts every part at the line y = cut of the shape's own
// coordinates, keeping what is above it (Sutherland–Hodgman against one
// half-plane).
func (s shape) clipBelow(cut float64) shape {
	var out shape
	for _, p := range s {
		var pts []pt
		n := len(p.pts)
		for i := range n {
			a, b := p.pts[i], p.pts[(i+1)%n]
			ain, bin := a.y <= cut, b.y <= cut
			if ain {
				pts = append(pts, a)
			}
			if ain != bin {
				t := (cut - a.y) / (b.y - a.y)
				pts = append(pts, pt{a.x + t*(b.x-a.x), cut})
			}
		}
		out.add(p.col, pts...)
	}
	return out
}

// canvas draws anti-aliased polygons on an RGBA image.
type canvas struct {
	img *image.RGBA
	z   *vector.Rasterizer
}

func newCanvas(size int) *canvas {
	return &canvas{img: image.NewRGBA(image.Rect(0, 0, size, size)), z: vector.NewRasterizer(size, size)}
}

func (c *canvas) fill(pts []pt, m affine, col color.RGBA) {
	if len(pts) < 3 {
		return
	}
	// Rasterize only the polygon's bounding box, clipped to the image.
	q := make([]pt, len(pts))
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i, p := range pts {
		q[i] = m.apply(p)
		x0, x1 = math.Min(x0, q[i].x), math.Max(x1, q[i].x)
		y0, y1 = math.Min(y0, q[i].y), math.Max(y1, q[i].y)
	}
	r := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1))+1, int(math.Ceil(y1))+1).Intersect(c.img.Bounds())
	if r.Empty() {
		return
	}
	c.z.Reset(r.Dx(), r.Dy())
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	for i, p := range q {
		if i == 0 {
			c.z.MoveTo(float32(p.x-ox), float32(p.y-oy))
		} else {
			c.z.LineTo(float32(p.x-ox), float32(p.y-oy))
		}
	}
	c.z.ClosePath()
	c.z.Draw(c.img, r, image.NewUniform(col), image.Point{})
}

func (c *canvas) draw(s shape, m affine) {
	for _, p := range s {
		c.fill(p.pts, m, p.col)
	}
}

// area is the number of pixels s covers under m, counting overlaps once, as
// measured on a mask of the given size.
func area(s shape, m affine, size int) float64 {
	mask := image.NewAlpha(image.Rect(0, 0, size, size))
	z := vector.NewRasterizer(size, size)
	for _, p := range s {
		z.Reset(size, size)
		for i, q := range p.pts {
			q = m.apply(q)
			if i == 0 {
				z.MoveTo(float32(q.x), float32(q.y))
			} else {
				z.LineTo(float32(q.x), float32(q.y))
			}
		}
		z.ClosePath()
		z.Draw(mask, mask.Bounds(), image.Opaque, image.Point{})
	}
	var sum int
	for _, a := range mask.Pix {
		sum += int(a)
	}
	return float64(sum) / 255
}
