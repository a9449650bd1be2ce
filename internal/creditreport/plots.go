package creditreport

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/internal/svgplot"
)

// The plots' coordinates, text and ticks, shared with the monitor report.
type (
	coord = svgplot.Coord
	label = svgplot.Label
	tick  = svgplot.Tick
)

// pctTick formats an axis tick as a percentage with at most one decimal.
var pctTick = svgplot.PctTick

// rcPlot is the geometry of a family's risk–coverage plot.
type rcPlot struct {
	ID             string // prefix of the SVG's ids, unique in the page
	Width, Height  int
	X0, X1, Y0, Y1 coord // the plot area
	Desc           string
	XTicks, YTicks []tick
	XLabel, YLabel label
	Empirical      string // polyline points
	Bound          string
	TargetY        coord
	HasTarget      bool
	Clip           box // the plot area and a little more, for the curves
	Chosen         *chosenPoint
	Empty          *label // said in an empty plot
	Legend         []legendItem
	Caption        string
}

type box struct{ X, Y, W, H coord }

type chosenPoint struct {
	X, YEmp, YBound coord
	Label           label
}

// legendItem is a swatch and its text; Kind picks the swatch's drawing.
type legendItem struct {
	Kind     string // empirical, bound, target, chosen
	X, X2, Y coord  // the swatch's ends, on the text's middle
	Label    label
}

// Sizes of the risk–coverage plot, in SVG user units.
const (
	rcWidth   = 520
	rcLeft    = 58
	rcRight   = 16
	rcTop     = 14
	rcPlotH   = 224
	rcCharW   = 6.2 // a rough width of a character at 11px
	minStable = 30  // accepted photos from which the empirical risk sets the y axis
)

func newRCPlot(f Family, i int, targetRisk float64, target string) *rcPlot {
	p := &rcPlot{
		ID:     fmt.Sprintf("creditreport-rc-%d", i),
		Width:  rcWidth,
		X0:     rcLeft,
		X1:     rcWidth - rcRight,
		Y0:     rcTop,
		Y1:     rcTop + rcPlotH,
		XLabel: label{Anchor: "middle", Text: "coverage (share decided automatically)"},
	}
	w, h := float64(p.X1-p.X0), float64(p.Y1-p.Y0)
	p.Clip = box{X: p.X0 - 2, Y: p.Y0 - 1, W: p.X1 - p.X0 + 4, H: p.Y1 - p.Y0 + 3}

	var pts []CurvePoint
	for _, c := range f.Curve {
		if c.N > 0 && finite(c.Coverage) && finite(c.Risk) && finite(c.Bound) {
			pts = append(pts, c)
		}
	}

	// The y axis shows the target risk twice over and the empirical risk
	// once enough photos are accepted; the noisy start of the curves and
	// the bound near 1 at tiny N are cut at the top.
	top := 0.0
	if !math.IsNaN(targetRisk) {
		top = 2 * targetRisk
	}
	stable := false
	for _, c := range pts {
		if c.N >= minStable {
			top = max(top, 1.15*c.Risk)
			stable = true
		}
	}
	if !stable {
		for _, c := range pts {
			top = max(top, 1.15*c.Risk)
		}
	}
	// The lowest stretch of the bound is in view too: it is what certifies
	// or fails to.
	lowest := math.Inf(1)
	for _, c := range pts {
		if c.N >= minStable || !stable {
			lowest = min(lowest, c.Bound)
		}
	}
	if finite(lowest) {
		top = max(top, 1.15*lowest)
	}
	if f.Certified && finite(f.CertifiedAccuracy) {
		top = max(top, 1.3*(1-f.CertifiedAccuracy))
	}
	yMax, step := niceScale(top)

	xs := func(v float64) coord { return p.X0 + coord(min(max(v, 0), 1)*w) }
	ys := func(v float64) coord { return p.Y1 - coord(v/yMax*h) }

	for t := 0; t <= 5; t++ {
		v := float64(t) / 5
		p.XTicks = append(p.XTicks, tick{At: xs(v), Label: label{X: xs(v), Y: p.Y1 + 16, Anchor: "middle", Text: pctTick(v)}})
	}
	for t := 0; ; t++ {
		v := float64(t) * step
		if v > yMax*(1+1e-9) {
			break
		}
		p.YTicks = append(p.YTicks, tick{At: ys(v), Label: label{X: p.X0 - 6, Y: ys(v) + 4, Anchor: "end", Text: pctTick(v)}})
	}
	p.XLabel.X, p.XLabel.Y = (p.X0+p.X1)/2, p.Y1+34
	p.YLabel = label{X: 14, Y: (p.Y0 + p.Y1) / 2, Anchor: "middle", Text: "selective risk (share wrong)"}

	var emp, bound []string
	for _, c := range pts {
		emp = appendPoint(emp, xs(c.Coverage), ys(c.Risk))
		bound = appendPoint(bound, xs(c.Coverage), ys(c.Bound))
	}
	p.Empirical, p.Bound = strings.Join(emp, " "), strings.Join(bound, " ")
	if len(pts) == 0 {
		p.Empty = &label{X: (p.X0 + p.X1) / 2, Y: (p.Y0+p.Y1)/2 + 4, Anchor: "middle", Text: "no calibration photos on this curve"}
	}

	if !math.IsNaN(targetRisk) {
		p.HasTarget = true
		p.TargetY = ys(targetRisk)
	}
	if f.Certified && finite(f.Coverage) {
		c := &chosenPoint{X: xs(f.Coverage), YEmp: ys(1 - f.Accuracy), YBound: ys(1 - f.CertifiedAccuracy)}
		text := "λ = " + formatNum(f.Threshold, 4) + ", coverage " + pct(f.Coverage)
		c.Label = label{X: c.X + 6, Y: p.Y0 + 14, Anchor: "start", Text: text}
		if float64(c.X)+6+textWidth(text) > float64(p.X1) {
			c.Label.X, c.Label.Anchor = c.X-6, "end"
		}
		p.Chosen = c
	}

	// The legend, two items a row under the x axis's label.
	y := p.Y1 + 56
	items := []legendItem{
		{Kind: "empirical", Label: label{Text: "empirical risk K/N"}},
		{Kind: "bound", Label: label{Text: "upper bound (Clopper–Pearson)"}},
	}
	if p.HasTarget {
		items = append(items, legendItem{Kind: "target", Label: label{Text: "target risk " + pctAsSet(targetRisk) + " (accuracy " + target + ")"}})
	}
	if p.Chosen != nil {
		items = append(items, legendItem{Kind: "chosen", Label: label{Text: "chosen threshold"}})
	}
	for j := range items {
		it := &items[j]
		it.X = p.X0 + coord(j%2)*230
		it.X2 = it.X + 20
		it.Y = y + coord(j/2)*18
		it.Label.X, it.Label.Y, it.Label.Anchor = it.X+26, it.Y+4, "start"
	}
	p.Legend = items
	p.Height = int(y) + 18*((len(items)+1)/2) + 2

	p.Desc = fmt.Sprintf("Risk–coverage curve of %s: selective risk against coverage, %d thresholds", f.Name, len(pts))
	switch {
	case f.Certified:
		p.Desc += fmt.Sprintf("; chosen threshold %s at coverage %s, empirical risk %s, upper bound %s",
			formatNum(f.Threshold, 4), pct(f.Coverage), pct(1-f.Accuracy), pct(1-f.CertifiedAccuracy))
		p.Caption = fmt.Sprintf("At the chosen threshold λ = %s the policy decides %s of the family's calibration photos; %s of them were wrong (upper bound %s).",
			formatNum(f.Threshold, 4), pct(f.Coverage), pct(1-f.Accuracy), pctUp(1-f.CertifiedAccuracy))
	case len(pts) > 0:
		p.Caption = "The upper bound never gets under the target risk with enough photos, so there is no operating point."
		if math.IsNaN(targetRisk) {
			p.Caption = "No target risk is set, so there is no operating point."
		}
	}
	cut := false
	for _, c := range pts {
		cut = cut || c.Risk > yMax || c.Bound > yMax
	}
	if cut {
		p.Caption = strings.TrimSpace(p.Caption + " The y axis stops at " + pctTick(yMax) + ": the curves are cut off above it.")
	}
	return p
}

// appendPoint adds x,y to a polyline's points unless it is where the last
// one is.
func appendPoint(pts []string, x, y coord) []string {
	s := x.String() + "," + y.String()
	if len(pts) > 0 && pts[len(pts)-1] == s {
		return pts
	}
	return append(pts, s)
}

// niceScale returns the top of an axis from 0 that shows v, and its tick
// step: a step of 1, 2 or 5 times a power of ten, at most five steps,
// never above 100%.
func niceScale(v float64) (top, step float64) {
	if !(v > 0) {
		v = 0.05
	}
	if v >= 1 {
		return 1, 0.2
	}
	for e := -3; e <= 0; e++ {
		for _, m := range []float64{1, 2, 5} {
			step = m * math.Pow10(e)
			if n := math.Ceil(v/step - 1e-9); n <= 5 {
				return min(n*step, 1), step
			}
		}
	}
	return 1, 0.2
}

// pctUp is pct rounded up, for upper bounds of a risk.
func pctUp(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	f := math.Ceil(v*1000-1e-9) / 10
	if v < 1 && f >= 100 {
		return ">99.9%"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + "%"
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * rcCharW }

// reliability is the geometry of a class's reliability diagram.
type reliability struct {
	ID             string
	Class          string
	Width, Height  int
	X0, X1, Y0, Y1 coord
	Desc           string
	XTicks, YTicks []tick
	Bars           []relBar
	Empty          *label
	CountsY        coord // top of the row of bin counts
	CountsLabel    label
	XLabel, YLabel label
	ECE            string
	N              string
}

type relBar struct {
	X, W        coord
	HasAccuracy bool
	YAcc, H     coord // top and height of the accuracy bar
	HasGap      bool
	GapY, GapH  coord // from the accuracy to the mean confidence
	Count       label // rotated a quarter turn back
	Title       string
}

// Sizes of a reliability diagram.
const (
	relLeft  = 44
	relPlot  = 190
	relRight = 16
	relTop   = 10
)

func newReliability(r ClassReliability, i int) *reliability {
	v := &reliability{
		ID:    fmt.Sprintf("creditreport-rel-%d", i),
		Class: r.Class,
		Width: relLeft + relPlot + relRight,
		X0:    relLeft,
		X1:    relLeft + relPlot,
		Y0:    relTop,
		Y1:    relTop + relPlot,
		ECE:   pct(r.ECE),
	}
	if v.Class == "" {
		v.Class = fmt.Sprintf("class %d", i)
	}
	xs := func(c float64) coord { return v.X0 + coord(min(max(c, 0), 1)*relPlot) }
	ys := func(a float64) coord { return v.Y1 - coord(min(max(a, 0), 1)*relPlot) }
	for t := 0; t <= 4; t++ {
		a := float64(t) / 4
		v.XTicks = append(v.XTicks, tick{At: xs(a), Label: label{X: xs(a), Y: v.Y1 + 50, Anchor: "middle", Text: pctTick(a)}})
		v.YTicks = append(v.YTicks, tick{At: ys(a), Label: label{X: v.X0 - 5, Y: ys(a) + 3.5, Anchor: "end", Text: pctTick(a)}})
	}
	v.CountsY = v.Y1 + 5
	v.CountsLabel = label{X: v.X0 - 5, Y: v.Y1 + 16, Anchor: "end", Text: "n"}
	v.XLabel = label{X: (v.X0 + v.X1) / 2, Y: v.Y1 + 66, Anchor: "middle", Text: "confidence"}
	v.YLabel = label{X: 12, Y: (v.Y0 + v.Y1) / 2, Anchor: "middle", Text: "accuracy"}
	v.Height = int(v.Y1) + 74

	var n int64
	for _, b := range r.Bins {
		if b.N <= 0 || !finite(b.Lo) || !finite(b.Hi) || b.Hi <= b.Lo {
			continue
		}
		n += int64(b.N)
		x0, x1 := xs(b.Lo), xs(b.Hi)
		bar := relBar{X: x0 + 0.5, W: max(x1-x0-1, 0.5)}
		cx := (x0 + x1) / 2
		// Rotated a quarter turn back, the count reads upwards and ends
		// at the top of its row; its baseline is right of the bin's middle.
		bar.Count = label{X: cx + 3, Y: v.CountsY, Anchor: "end", Text: compact(int64(b.N))}
		bar.Title = fmt.Sprintf("confidence %s–%s: %s photos, mean confidence %s, accuracy %s",
			pctTick(b.Lo), pctTick(b.Hi), count(int64(b.N)), pct(b.Confidence), pct(b.Accuracy))
		if finite(b.Accuracy) {
			bar.HasAccuracy = true
			bar.YAcc = ys(b.Accuracy)
			bar.H = v.Y1 - bar.YAcc
		}
		if conf := ys(b.Confidence); bar.HasAccuracy && finite(b.Confidence) && conf != bar.YAcc {
			bar.HasGap = true
			bar.GapY, bar.GapH = min(conf, bar.YAcc), coord(math.Abs(float64(conf-bar.YAcc)))
		}
		v.Bars = append(v.Bars, bar)
	}
	v.N = count(n)
	if len(v.Bars) == 0 {
		v.Empty = &label{X: (v.X0 + v.X1) / 2, Y: (v.Y0+v.Y1)/2 + 4, Anchor: "middle", Text: "no photos"}
	}
	v.Desc = fmt.Sprintf("Reliability diagram of photos predicted %s: accuracy against confidence in %d bins, %s photos, ECE %s",
		v.Class, len(v.Bars), v.N, v.ECE)
	return v
}

// compact formats a bin's count in at most five characters.
func compact(n int64) string {
	switch {
	case n < 10000:
		return strconv.FormatInt(n, 10)
	case n < 1e6:
		return strconv.FormatInt(n/1000, 10) + "k"
	}
	return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + "M"
}

type rgb struct{ r, g, b uint8 }

func (c rgb) hex() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// ramp is a sequential colour scale from white.
type ramp []rgb

// ColorBrewer's sequential Blues (right: the diagonal) and Oranges
// (wrong: off it).
var (
	blues   = ramp{{0xf7, 0xfb, 0xff}, {0xde, 0xeb, 0xf7}, {0xc6, 0xdb, 0xef}, {0x9e, 0xca, 0xe1}, {0x6b, 0xae, 0xd6}, {0x42, 0x92, 0xc6}, {0x21, 0x71, 0xb5}, {0x08, 0x51, 0x9c}, {0x08, 0x30, 0x6b}}
	oranges = ramp{{0xff, 0xf5, 0xeb}, {0xfe, 0xe6, 0xce}, {0xfd, 0xd0, 0xa2}, {0xfd, 0xae, 0x6b}, {0xfd, 0x8d, 0x3c}, {0xf1, 0x69, 0x13}, {0xd9, 0x48, 0x01}, {0xa6, 0x36, 0x03}, {0x7f, 0x27, 0x04}}
)

// at is the colour at t in [0, 1].
func (r ramp) at(t float64) rgb {
	if math.IsNaN(t) {
		t = 0
	}
	t = min(max(t, 0), 1)
	f := t * float64(len(r)-1)
	i := min(int(f), len(r)-2)
	f -= float64(i)
	a, b := r[i], r[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + f*(float64(y)-float64(x)))) }
	return rgb{mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)}
}

// textColor is white or near-black, whichever contrasts more with c
// (WCAG's contrast ratio).
func (c rgb) textColor() string {
	lin := func(u uint8) float64 {
		s := float64(u) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
	const darkL = 0.0103 // #1a1a1a
	if 1.05/(l+0.05) >= (l+0.05)/(darkL+0.05) {
		return "#ffffff"
	}
	return "#1a1a1a"
}
