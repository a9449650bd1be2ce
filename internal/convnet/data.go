package convnet

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/image/draw"
)

// Pixels are fed to the network as (v/255 - pixelMean) / pixelStd.
const (
	pixelMean = 0.5
	pixelStd  = 0.25
)

// A Dataset is labelled photos ready for the network: each scaled to an
// image shape and stored as float32 values (about 12 KB a photo at
// 3,32,32).
type Dataset struct {
	shape  Shape
	resize int
	x      []float32 // [n][C·H·W], channel planes in order
	y      []int
}

// NewDataset makes room for n photos of the shape. resize is the
// resize hyperparameter (0 when unset), which changes how a photo is
// scaled (see Hyperparameters.Resize).
func NewDataset(shape Shape, resize, n int) *Dataset {
	return &Dataset{shape: shape, resize: resize, x: make([]float32, n*shape.size()), y: make([]int, n)}
}

// Len is the number of photos.
func (d *Dataset) Len() int { return len(d.y) }

// Shape is the image shape the photos were scaled to.
func (d *Dataset) Shape() Shape { return d.shape }

// Label is photo i's class.
func (d *Dataset) Label(i int) int { return d.y[i] }

// Set scales img into place i with its class label. Calls with different i
// may run concurrently.
func (d *Dataset) Set(i int, img image.Image, label int) {
	n := d.shape.size()
	preprocess(img, d.shape, d.resize, d.x[i*n:(i+1)*n])
	d.y[i] = label
}

// Fill loads every photo with load, on workers goroutines (0 means
// GOMAXPROCS), and sets it in place. It stops at the first error.
func (d *Dataset) Fill(ctx context.Context, workers int, load func(i int) (image.Image, int, error)) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= d.Len() || ctx.Err() != nil {
					return
				}
				img, label, err := load(i)
				if err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				d.Set(i, img, label)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// preprocess scales img to the shape (see Hyperparameters.Resize) and
// writes its normalised channel planes to dst.
func preprocess(img image.Image, sh Shape, resize int, dst []float32) {
	src := img.Bounds()
	if resize > 0 {
		// Scale so the shorter side is resize (and the shape fits), then
		// keep the centre.
		sw, shh := float64(src.Dx()), float64(src.Dy())
		f := math.Max(float64(resize)/math.Min(sw, shh), math.Max(float64(sh.W)/sw, float64(sh.H)/shh))
		cw, ch := int(math.Round(float64(sh.W)/f)), int(math.Round(float64(sh.H)/f))
		x0 := src.Min.X + (src.Dx()-cw)/2
		y0 := src.Min.Y + (src.Dy()-ch)/2
		src = image.Rect(x0, y0, x0+cw, y0+ch)
	}
	rgba := image.NewRGBA(image.Rect(0, 0, sh.W, sh.H))
	draw.BiLinear.Scale(rgba, rgba.Bounds(), img, src, draw.Src, nil)
	hw := sh.H * sh.W
	for p := range hw {
		px := rgba.Pix[4*p : 4*p+3]
		if sh.C == 1 {
			l := (0.299*float32(px[0]) + 0.587*float32(px[1]) + 0.114*float32(px[2])) / 255
			dst[p] = (l - pixelMean) / pixelStd
			continue
		}
		for c := range 3 {
			dst[c*hw+p] = (float32(px[c])/255 - pixelMean) / pixelStd
		}
	}
}

// augmentation is one photo's random change for a training pass.
type augmentation struct {
	// The inverse map from output pixel (x, y), centred, to input pixel:
	// in = m·out + t.
	m00, m01, m10, m11, tx, ty float32
	bright, contrast, sat      float32 // colour jitter (1, 1, 1 for none)
	hue                        float32 // hue rotation in radians (0 for none)
}

// maxHue is the largest hue rotation of "crop_color": the built-in
// algorithm (MXNet's random_h = 36) adds up to ±36 to the hue of OpenCV's
// 8-bit HLS, whose hue runs 0–180, two degrees a unit: ±72°.
const maxHue = 72 * math.Pi / 180

// hueMatrix is the rotation of RGB about the grey axis by theta: a hue
// shift that keeps each pixel's mean of R, G and B (each row sums to 1),
// so greys stay grey and the photo's lightness does not move.
func hueMatrix(theta float64) [3][3]float32 {
	sin, cos := math.Sincos(theta)
	d := float32(cos + (1-cos)/3)
	p := float32((1-cos)/3 + math.Sqrt(1.0/3)*sin)
	q := float32((1-cos)/3 - math.Sqrt(1.0/3)*sin)
	return [3][3]float32{{d, q, p}, {p, d, q}, {q, p, d}}
}

// newAugmentation draws one photo's augmentation of the given type.
// "crop" is a random crop of up to an eighth of the side (the photo
// padded by repeating its edge) and a mirror image half the time;
// "crop_color" adds colour jitter: a hue rotation of up to ±72° (as the
// built-in's), brightness and contrast ±20%, saturation ±40% (the built-in
// adds up to ±50 of 255 to saturation and lightness; this is the same
// idea, scaled rather than shifted); "crop_color_transform" adds, as the built-in does, a
// rotation of up to 10°, a shear of up to 0.1 and an aspect change of up
// to 25%.
func newAugmentation(kind string, sh Shape, rng *rand.Rand) augmentation {
	a := augmentation{m00: 1, m11: 1, bright: 1, contrast: 1, sat: 1}
	if kind == "" {
		return a
	}
	pad := max(1, sh.H/8)
	a.tx = float32(rng.IntN(2*pad+1) - pad)
	a.ty = float32(rng.IntN(2*pad+1) - pad)
	mirror := rng.IntN(2) == 0
	if kind == "crop_color" || kind == "crop_color_transform" {
		a.bright = 1 + float32(rng.Float64()*0.4-0.2)
		a.contrast = 1 + float32(rng.Float64()*0.4-0.2)
		a.sat = 1 + float32(rng.Float64()*0.8-0.4)
		if sh.C == 3 {
			a.hue = float32((rng.Float64()*2 - 1) * maxHue)
		}
	}
	if kind == "crop_color_transform" {
		rot := (rng.Float64()*20 - 10) * math.Pi / 180
		shear := rng.Float64()*0.2 - 0.1
		aspect := 1 + rng.Float64()*0.5 - 0.25
		sin, cos := math.Sincos(rot)
		sx, sy := math.Sqrt(aspect), 1/math.Sqrt(aspect)
		// in = rotation · scale · shear · out
		a.m00 = float32(cos * sx)
		a.m01 = float32(cos*sx*shear - sin*sy)
		a.m10 = float32(sin * sx)
		a.m11 = float32(sin*sx*shear + cos*sy)
	}
	if mirror { // out's x runs the other way
		a.m00, a.m10 = -a.m00, -a.m10
	}
	return a
}

// apply writes x (one photo, [C][H·W]) augmented into dst, sample j of a
// CNHW buffer of s samples.
func (a augmentation) apply(x []float32, sh Shape, dst []float32, j, s int) {
	hw := sh.H * sh.W
	identity := a.m00 == 1 && a.m01 == 0 && a.m10 == 0 && a.m11 == 1 && a.tx == 0 && a.ty == 0
	cx, cy := float32(sh.W-1)/2, float32(sh.H-1)/2
	// A crop and mirror only: integer shifts, so a copy with the edge
	// repeated.
	shift := a.m01 == 0 && a.m10 == 0 && a.m11 == 1 && (a.m00 == 1 || a.m00 == -1) && a.tx == float32(int(a.tx)) && a.ty == float32(int(a.ty))
	for c := range sh.C {
		out := dst[c*s*hw+j*hw:][:hw]
		in := x[c*hw : (c+1)*hw]
		if identity {
			copy(out, in)
			continue
		}
		if shift {
			w1 := sh.W - 1
			for y := range sh.H {
				sy := min(max(y+int(a.ty), 0), sh.H-1)
				row := in[sy*sh.W : (sy+1)*sh.W]
				o := out[y*sh.W : (y+1)*sh.W]
				for xx := range o {
					ox := xx
					if a.m00 < 0 {
						ox = w1 - xx
					}
					o[xx] = row[min(max(ox+int(a.tx), 0), w1)]
				}
			}
			continue
		}
		for y := range sh.H {
			oy := float32(y) - cy
			for xx := range sh.W {
				ox := float32(xx) - cx
				ix := a.m00*ox + a.m01*oy + cx + a.tx
				iy := a.m10*ox + a.m11*oy + cy + a.ty
				out[y*sh.W+xx] = bilinear(in, sh.W, sh.H, ix, iy)
			}
		}
	}
	if a.bright == 1 && a.contrast == 1 && a.sat == 1 && a.hue == 0 {
		return
	}
	// Colour jitter in pixel units: hue (about the grey axis), saturation
	// (towards the grey value), contrast (around mid-grey), brightness.
	rot := hueMatrix(float64(a.hue))
	for p := range hw {
		var v [3]float32
		var grey float32
		for c := range sh.C {
			v[c] = dst[c*s*hw+j*hw+p]*pixelStd + pixelMean
		}
		if sh.C == 3 && a.hue != 0 {
			v = [3]float32{
				rot[0][0]*v[0] + rot[0][1]*v[1] + rot[0][2]*v[2],
				rot[1][0]*v[0] + rot[1][1]*v[1] + rot[1][2]*v[2],
				rot[2][0]*v[0] + rot[2][1]*v[1] + rot[2][2]*v[2],
			}
		}
		if sh.C == 3 {
			grey = 0.299*v[0] + 0.587*v[1] + 0.114*v[2]
		} else {
			grey = v[0]
		}
		for c := range sh.C {
			u := grey + (v[c]-grey)*a.sat
			u = (u-0.5)*a.contrast + 0.5
			u *= a.bright
			dst[c*s*hw+j*hw+p] = (u - pixelMean) / pixelStd
		}
	}
}

// bilinear samples img (w×h) at (x, y), repeating the edge outside.
func bilinear(img []float32, w, h int, x, y float32) float32 {
	x = min(max(x, 0), float32(w-1))
	y = min(max(y, 0), float32(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := x-float32(x0), y-float32(y0)
	top := img[y0*w+x0]*(1-fx) + img[y0*w+x1]*fx
	bot := img[y1*w+x0]*(1-fx) + img[y1*w+x1]*fx
	return top*(1-fy) + bot*fy
}

func checkDataset(name string, d *Dataset, h Hyperparameters) error {
	if d == nil || d.Len() == 0 {
		return fmt.Errorf("%s channel: no photos", name)
	}
	if d.shape != h.ImageShape {
		return fmt.Errorf("%s channel: photos scaled to %v, want image_shape %v", name, d.shape, h.ImageShape)
	}
	for i, y := range d.y {
		if y < 0 || y >= h.NumClasses {
			return fmt.Errorf("%s channel: photo %d has class %d, want 0 to %d (num_classes=%d)", name, i, y, h.NumClasses-1, h.NumClasses)
		}
	}
	return nil
}
