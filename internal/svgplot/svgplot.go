// Package svgplot holds the pieces the HTML reports' inline SVG plots share:
// coordinates written short, text labels, axis ticks and the formats of
// their numbers.
package svgplot

import (
	"math"
	"strconv"
	"strings"
)

// Coord is an SVG coordinate, written with at most one decimal.
type Coord float64

func (c Coord) String() string {
	return strconv.FormatFloat(math.Round(float64(c)*10)/10, 'f', -1, 64)
}

// Label is a piece of SVG text.
type Label struct {
	X, Y   Coord
	Anchor string // text-anchor
	Text   string
}

// Tick is a tick of an axis: its position along the axis and its label.
type Tick struct {
	At    Coord
	Label Label
}

// PctTick formats an axis tick as a percentage with at most one decimal.
func PctTick(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + "%"
}

// Count formats n with thousands separators: 1234567 is "1,234,567".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
