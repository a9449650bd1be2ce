package sagemaker

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// heatmap is the geometry of the heatmap's SVG, in user units (pixels at
// full size; the page scales it down on a narrow screen).
type heatmap struct {
	Width, Height int
	// MinWidth is as narrow as the page may shrink the SVG: text no
	// smaller than 2/3 of its size. A narrower screen scrolls the figure.
	MinWidth int
	Desc     string // the SVG's accessible description
	Cells    []cell
	Best     *box // the best job's cell, outlined
	XTicks   []label
	YTicks   []label
	XLabel   label
	YLabel   *label // nil for a one-axis grid
	Legend   legend
	Caption  string // said under the heatmap when the grid has more than two axes
}

type cell struct {
	X, Y, W, H int
	Fill       string // a colour, or "" for a hatched cell without a value
	Text       string // the value, or why there is none
	TextColor  string
	TextX      int
	TextY      int
	Sub        string // the other axes' values at the best, for a grid of more than two axes
	SubY       int
	Tooltip    string
}

type box struct{ X, Y, W, H int }

type label struct {
	X, Y   int
	Anchor string // text-anchor
	Text   string
	Full   string // the whole text when Text is cut short
}

type legend struct {
	X, Y        int // the top left of the colour bar
	BarW, BarH  int
	Stops       []stop
	Worst       label // under the bar's light end
	BestLabel   label // under the bar's dark end
	Says        label // "darker is better"
	HatchX      int
	HatchY      int
	HatchText   label
	OutlineX    int
	OutlineText label
}

type stop struct {
	Offset string
	Color  string
}

// Sizes of the heatmap, in SVG user units.
const (
	cellW    = 96
	cellH    = 56
	pad      = 12
	charW    = 7 // a rough width of a character at the tick labels' 12px
	maxXTick = (cellW - 8) / charW
	maxYTick = 16
	maxSub   = 14
	barW     = 160
	barH     = 12
)

// blues is ColorBrewer's sequential Blues, less its near-white first class
// so the worst cell still stands out from the page: light is worse, dark
// is better.
var blues = []rgb{
	{0xde, 0xeb, 0xf7}, {0xc6, 0xdb, 0xef}, {0x9e, 0xca, 0xe1}, {0x6b, 0xae, 0xd6},
	{0x42, 0x92, 0xc6}, {0x21, 0x71, 0xb5}, {0x08, 0x51, 0x9c}, {0x08, 0x30, 0x6b},
}

// gridPoint is the runs of one grid point, identified by its values of
// every axis.
type gridPoint struct {
	settings []Setting // the axes after the first two
	latest   *Run      // the latest attempt
	valued   *Run      // the latest attempt with an objective
}

func newHeatmap(axes []Axis, runs []Run, objective string, minimize bool) *heatmap {
	xAxis := axes[0]
	yAxis := Axis{Values: []string{""}} // one row for a one-axis grid
	if len(axes) > 1 {
		yAxis = axes[1]
	}
	nx, ny := len(xAxis.Values), len(yAxis.Values)
	xIndex, yIndex := indexOf(xAxis.Values), indexOf(yAxis.Values)

	// The grid points of each cell, in the order first seen.
	cellPoints := make([][]*gridPoint, nx*ny)
	points := map[string]*gridPoint{}
	bestCell := -1
	for i := range runs {
		r := &runs[i]
		xv, _ := pointValue(r.Point, xAxis.Name)
		x, ok := xIndex[xv]
		if !ok {
			continue
		}
		y := 0
		if len(axes) > 1 {
			yv, _ := pointValue(r.Point, yAxis.Name)
			if y, ok = yIndex[yv]; !ok {
				continue
			}
		}
		c := y*nx + x
		if r.Best {
			bestCell = c
		}
		var key strings.Builder
		var rest []Setting
		for j, a := range axes {
			v, _ := pointValue(r.Point, a.Name)
			key.WriteString(v)
			key.WriteByte(0)
			if j >= 2 {
				rest = append(rest, Setting{Name: a.Name, Value: v})
			}
		}
		gp := points[key.String()]
		if gp == nil {
			gp = &gridPoint{settings: rest}
			points[key.String()] = gp
			cellPoints[c] = append(cellPoints[c], gp)
		}
		if gp.latest == nil || later(r, gp.latest) {
			gp.latest = r
		}
		if !math.IsNaN(r.Objective) && (gp.valued == nil || later(r, gp.valued)) {
			gp.valued = r
		}
	}

	// The value of each cell: the best over its grid points.
	shown := make([]*gridPoint, nx*ny)
	lo, hi := math.Inf(1), math.Inf(-1)
	for c, gps := range cellPoints {
		for _, gp := range gps {
			if gp.valued != nil && (shown[c] == nil || betterValue(gp.valued.Objective, shown[c].valued.Objective, minimize)) {
				shown[c] = gp
			}
		}
		if shown[c] != nil {
			lo = min(lo, shown[c].valued.Objective)
			hi = max(hi, shown[c].valued.Objective)
		}
	}

	h := &heatmap{}
	yTickChars := 0
	if len(axes) > 1 {
		for _, v := range yAxis.Values {
			yTickChars = max(yTickChars, min(utf8.RuneCountInString(v), maxYTick))
		}
	}
	left := pad
	if yTickChars > 0 {
		left += yTickChars*charW + 10
	}
	top := pad
	if len(axes) > 1 {
		top += 22 // the y axis's name, above its ticks
	}
	gridW, gridH := nx*cellW, ny*cellH
	bottom := top + gridH

	for c := range cellPoints {
		x, y := c%nx, c/nx
		cl := cell{X: left + x*cellW + 1, Y: top + y*cellH + 1, W: cellW - 2, H: cellH - 2}
		cl.TextX = cl.X + cl.W/2
		where := xAxis.Name + "=" + xAxis.Values[x]
		if len(axes) > 1 {
			where += ", " + yAxis.Name + "=" + yAxis.Values[y]
		}
		if gp := shown[c]; gp != nil {
			r := gp.valued
			cl.Fill = scale(lo, hi, r.Objective, minimize).hex()
			cl.TextColor = scale(lo, hi, r.Objective, minimize).textColor()
			cl.Text = formatNum(r.Objective, 4)
			cl.TextY = cl.Y + cl.H/2 + 5
			if len(gp.settings) > 0 {
				var vs []string
				for _, s := range gp.settings {
					vs = append(vs, s.Value)
				}
				cl.Sub = cut(strings.Join(vs, ", "), maxSub)
				cl.TextY = cl.Y + cl.H/2
				cl.SubY = cl.TextY + 15
				for _, s := range gp.settings {
					where += ", " + s.Name + "=" + s.Value
				}
			}
			cl.Tooltip = fmt.Sprintf("%s: %s %s, %s (attempt %d, %s)",
				where, objective, formatNum(r.Objective, 6), r.JobName, r.Attempt, r.Status)
		} else {
			cl.Text, cl.Tooltip = why(cellPoints[c])
			cl.Text = cut(cl.Text, maxXTick)
			cl.Tooltip = where + ": " + cl.Tooltip
			cl.TextColor = "#222"
			cl.TextY = cl.Y + cl.H/2 + 4
		}
		h.Cells = append(h.Cells, cl)
	}
	if bestCell >= 0 {
		x, y := bestCell%nx, bestCell/nx
		h.Best = &box{X: left + x*cellW + 2, Y: top + y*cellH + 2, W: cellW - 4, H: cellH - 4}
	}

	for i, v := range xAxis.Values {
		h.XTicks = append(h.XTicks, tick(left+i*cellW+cellW/2, bottom+18, "middle", v, maxXTick))
	}
	xName := xAxis.Name + " →"
	h.XLabel = label{X: left + gridW/2, Y: bottom + 40, Anchor: "middle", Text: xName}
	width := left + gridW + pad
	if w := textWidth(xName); w > gridW {
		h.XLabel.X, h.XLabel.Anchor = left, "start"
		width = max(width, left+w+pad)
	}
	if len(axes) > 1 {
		for i, v := range yAxis.Values {
			h.YTicks = append(h.YTicks, tick(left-8, top+i*cellH+cellH/2+4, "end", v, maxYTick))
		}
		h.YLabel = &label{X: pad, Y: top - 9, Anchor: "start", Text: yAxis.Name + " ↓"}
		width = max(width, pad+textWidth(h.YLabel.Text)+pad)
	}

	lg := legend{X: left, Y: bottom + 60, BarW: barW, BarH: barH}
	for i, c := range blues {
		lg.Stops = append(lg.Stops, stop{Offset: fmt.Sprintf("%.3f", float64(i)/float64(len(blues)-1)), Color: c.hex()})
	}
	worst, best := "min", "max"
	worstV, bestV := lo, hi
	if minimize {
		worst, best = best, worst
		worstV, bestV = bestV, worstV
	}
	if math.IsInf(lo, 0) {
		worst, best = "no values", ""
	} else {
		worst += " " + formatNum(worstV, 4)
		best += " " + formatNum(bestV, 4)
	}
	lg.Worst = label{X: lg.X, Y: lg.Y + barH + 14, Anchor: "start", Text: worst}
	lg.BestLabel = label{X: lg.X + barW, Y: lg.Y + barH + 14, Anchor: "end", Text: best}
	lg.Says = label{X: lg.X + barW + 12, Y: lg.Y + barH - 1, Anchor: "start", Text: "darker is better"}
	lg.HatchX, lg.HatchY = lg.X, lg.Y+barH+26
	lg.HatchText = label{X: lg.HatchX + 22, Y: lg.HatchY + 12, Anchor: "start", Text: "no value (status written)"}
	lg.OutlineX = lg.HatchText.X + textWidth(lg.HatchText.Text) + 16
	lg.OutlineText = label{X: lg.OutlineX + 22, Y: lg.HatchY + 12, Anchor: "start", Text: "best job"}
	h.Legend = lg
	width = max(width, lg.Says.X+textWidth(lg.Says.Text)+pad, lg.OutlineText.X+textWidth(lg.OutlineText.Text)+pad)

	h.Width = width
	h.MinWidth = width * 2 / 3
	h.Height = lg.HatchY + 16 + pad
	if len(axes) > 2 {
		var names []string
		for _, a := range axes[2:] {
			names = append(names, a.Name)
		}
		h.Caption = fmt.Sprintf("The grid has %d axes: each cell shows the best %s over %s; the small line gives %s at that best.",
			len(axes), objective, strings.Join(names, ", "), strings.Join(names, ", "))
	}
	h.Desc = fmt.Sprintf("Heatmap of %s over %s", objective, xAxis.Name)
	if len(axes) > 1 {
		h.Desc += " and " + yAxis.Name
	}
	return h
}

// why says why a cell has no value: the status of its grid points' latest
// attempts, the most telling first, and a longer text for its tooltip.
func why(gps []*gridPoint) (short, long string) {
	if len(gps) == 0 {
		return "no job", "no job"
	}
	rank := func(s string) int {
		switch s {
		case "InProgress":
			return 0
		case "Failed":
			return 1
		case "Stopped", "Stopping":
			return 2
		case "Completed":
			return 4 // without a value of the objective
		}
		return 3
	}
	var jobs []string
	pick := gps[0].latest
	for _, gp := range gps {
		if rank(gp.latest.Status) < rank(pick.Status) {
			pick = gp.latest
		}
		jobs = append(jobs, gp.latest.JobName+" "+gp.latest.Status)
	}
	short = pick.Status
	switch {
	case short == "Completed":
		short = "no value"
	case short == "":
		short = "no status"
	}
	long = strings.Join(jobs, "; ")
	if pick.FailureReason != "" {
		long += ": " + pick.FailureReason
	}
	return short, long
}

// later reports whether a is a later attempt than b.
func later(a, b *Run) bool {
	if a.Attempt != b.Attempt {
		return a.Attempt > b.Attempt
	}
	if !a.CreatedAt.Equal(b.CreatedAt) {
		return a.CreatedAt.After(b.CreatedAt)
	}
	return a.JobName > b.JobName
}

func indexOf(values []string) map[string]int {
	m := make(map[string]int, len(values))
	for i, v := range values {
		if _, dup := m[v]; !dup {
			m[v] = i
		}
	}
	return m
}

func tick(x, y int, anchor, text string, maxChars int) label {
	l := label{X: x, Y: y, Anchor: anchor, Text: cut(text, maxChars)}
	if l.Text != text {
		l.Full = text
	}
	return l
}

// cut shortens s to at most n characters, ending in an ellipsis.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func textWidth(s string) int { return utf8.RuneCountInString(s) * charW }

type rgb struct{ r, g, b uint8 }

func (c rgb) hex() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// scale maps v in [lo, hi] to a colour of blues, darker for better.
func scale(lo, hi, v float64, minimize bool) rgb {
	t := 0.5
	if hi > lo {
		t = (v - lo) / (hi - lo)
	}
	if minimize {
		t = 1 - t
	}
	f := t * float64(len(blues)-1)
	i := min(int(f), len(blues)-2)
	f -= float64(i)
	a, b := blues[i], blues[i+1]
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
	if (1.05)/(l+0.05) >= (l+0.05)/(darkL+0.05) {
		return "#ffffff"
	}
	return "#1a1a1a"
}
