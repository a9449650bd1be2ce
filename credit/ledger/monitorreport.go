package ledger

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/internal/svgplot"
)

// The report is one self-contained HTML page, in the manner of the credit
// report (internal/creditreport): inline CSS and hand-made SVG, no
// scripts, every string escaped by html/template. It shows, for each kind
// of automatic decision, the live accuracy per ISO week with its
// Clopper–Pearson band and the target; the automation rate per day; the
// open queue by day; and the tables behind them.

//go:embed monitorreport.tmpl
var monitorReportText string

var monitorReportTmpl = template.Must(template.New("monitor").Parse(monitorReportText))

// ReferenceAutomationRate is the automation rate of the reference case
// (spec/policy.md §3.1), drawn beside the days': the credit report's
// (TestReferenceAutomationRate keeps them equal; naming the internal
// constant here would show an internal package in go doc).
const ReferenceAutomationRate = 0.76

// WriteReport writes the monitor report of res as one self-contained HTML
// page; now is when it was made.
func (res *MonitorResult) WriteReport(w io.Writer, now time.Time) error {
	var buf bytes.Buffer
	if err := monitorReportTmpl.Execute(&buf, newPage(res, now)); err != nil {
		return fmt.Errorf("render monitor report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write monitor report: %w", err)
	}
	return nil
}

type page struct {
	Title, Generated, DB, Since, Until string
	Statement                          string
	Alarm                              bool
	Alarms                             []string
	Targets                            string
	Accuracy                           []*plot
	Automation                         *plot
	Queue                              *plot
	Weeks                              []weekRow
	Detection                          []detectionRow
	Days                               []dayRow
	Open, OpenAudits                   string
	Oldest                             string
}

type weekRow struct {
	Week, Decision, Audits, Wrong, Accuracy, Interval, Target, Status string
	Class                                                             string // status class for the row
}

type detectionRow struct{ Decision, Accuracy, Audits, Pace string }

type dayRow struct{ Day, Reviews, Grant, Reject, Manual, Audits, Automation string }

func newPage(res *MonitorResult, now time.Time) *page {
	p := &page{
		Title:     fmt.Sprintf("reviewlens monitor: %s to %s", res.Since, res.Until),
		Generated: now.UTC().Format("2006-01-02 15:04 UTC"),
		DB:        res.DB, Since: res.Since, Until: res.Until,
		Statement: res.Statement, Alarm: res.Alarm, Alarms: res.Alarms,
		Targets: fmt.Sprintf("grants %s, rejects %s; δ = %g a week; tested from %d closed audits",
			pct(res.Target[credit.Grant]), pct(res.Target[credit.Reject]), res.Delta, res.MinAudits),
		Open: countText(res.Queue.Open), OpenAudits: countText(res.Queue.Audits),
	}
	if res.Queue.Open > 0 {
		p.Oldest = fmt.Sprintf("queued %s (day %s), %s ago", res.Queue.Oldest.UTC().Format("2006-01-02 15:04 UTC"), res.Queue.OldestDay, hours(res.Queue.AgeHours))
	}
	for i, d := range []string{credit.Grant, credit.Reject} {
		p.Accuracy = append(p.Accuracy, accuracyPlot(i, d, res))
	}
	for _, w := range res.Weeks {
		r := weekRow{Week: w.Week, Decision: w.Decision, Audits: countText(w.Audits), Wrong: countText(w.Wrong), Status: w.Status,
			Interval: pct(w.Lower) + " – " + pct(w.Upper), Class: strings.ReplaceAll(w.Status, " ", "-")}
		if w.Accuracy != nil {
			r.Accuracy = pct(*w.Accuracy)
		} else {
			r.Accuracy, r.Interval = "—", "—"
		}
		if w.Target > 0 {
			r.Target = pct(w.Target)
		}
		p.Weeks = append(p.Weeks, r)
	}
	for _, d := range res.Detection {
		pace := "no audits yet"
		if d.AuditsPerWeek > 0 {
			pace = fmt.Sprintf("%s a week", countText(int(math.Round(d.AuditsPerWeek))))
		}
		audits := countText(d.Audits)
		if d.Audits == 0 {
			audits = "over a million"
		}
		p.Detection = append(p.Detection, detectionRow{Decision: d.Decision + "s", Accuracy: pct(d.Accuracy), Audits: audits, Pace: pace})
	}
	for _, d := range res.Days {
		p.Days = append(p.Days, dayRow{Day: d.Day, Reviews: countText(d.Reviews), Grant: countText(d.Grant), Reject: countText(d.Reject),
			Manual: countText(d.Manual), Audits: countText(d.Audits), Automation: pct(d.AutomationRate)})
	}
	p.Automation = automationPlot(res.Days)
	p.Queue = queuePlot(res.Queue.ByDay)
	return p
}

// The plots' coordinates, text and ticks, as the credit report's.
type (
	coord = svgplot.Coord
	label = svgplot.Label
	tick  = svgplot.Tick
)

type dot struct {
	X, Y  coord
	Class string // alarm, watch, ok, inconclusive, few
	Title string
}

type bar struct {
	X, Y, W, H coord
	Title      string
}

// plot is the geometry of one chart: axes, ticks, and what is drawn.
type plot struct {
	ID             string
	Title, Desc    string
	Width, Height  int
	X0, X1, Y0, Y1 coord
	XTicks, YTicks []tick
	YLabel         label
	Band           string // polygon points
	Line           string // polyline points
	Line2          string // a second, lighter polyline
	RefY           coord
	HasRef         bool
	RefLabel       label
	Dots           []dot
	Bars           []bar
	Empty          *label
	Caption        string
}

const (
	plotW   = 560
	plotH   = 240
	plotL   = 58
	plotR   = 16
	plotTop = 14
	plotBot = 40
)

func newPlot(id, title string, n int) (*plot, func(i int) coord) {
	p := &plot{ID: id, Title: title, Width: plotW, Height: plotH, X0: plotL, X1: plotW - plotR, Y0: plotTop, Y1: plotH - plotBot}
	step := float64(p.X1-p.X0) / float64(max(n, 1))
	return p, func(i int) coord { return p.X0 + coord((float64(i)+0.5)*step) }
}

// yAxis sets the y ticks for shares from lo to 1 and returns the scale.
func (p *plot) yAxis(lo float64, name string) func(float64) coord {
	step := 0.05
	switch {
	case lo >= 0.9:
		step = 0.02
	case lo < 0.5:
		step = 0.2
	}
	lo = math.Floor(lo/step+1e-9) * step
	ys := func(v float64) coord {
		v = min(max(v, lo), 1)
		return p.Y1 - coord((v-lo)/(1-lo))*(p.Y1-p.Y0)
	}
	for v := lo; v <= 1+1e-9; v += step {
		p.YTicks = append(p.YTicks, tick{At: ys(v), Label: label{X: p.X0 - 6, Y: ys(v) + 4, Anchor: "end", Text: pctTick(v)}})
	}
	p.YLabel = label{X: 14, Y: (p.Y0 + p.Y1) / 2, Anchor: "middle", Text: name}
	return ys
}

// xLabels labels every k-th category so that the labels do not overlap.
func (p *plot) xLabels(names []string, xs func(int) coord, width float64) {
	every := max(1, int(math.Ceil(float64(len(names))*width/float64(p.X1-p.X0))))
	for i, n := range names {
		if i%every == 0 {
			p.XTicks = append(p.XTicks, tick{At: xs(i), Label: label{X: xs(i), Y: p.Y1 + 16, Anchor: "middle", Text: n}})
		}
	}
}

func accuracyPlot(i int, decision string, res *MonitorResult) *plot {
	var weeks []WeekAccuracy
	for _, w := range res.Weeks {
		if w.Decision == decision {
			weeks = append(weeks, w)
		}
	}
	target := res.Target[decision]
	p, xs := newPlot(fmt.Sprintf("monitor-accuracy-%d", i), "Automatic "+decision+"s: live accuracy by week", len(weeks))
	p.Desc = fmt.Sprintf("Share of audited automatic %ss a person confirmed, per ISO week, with its Clopper–Pearson band and the target %s.", decision, pct(target))
	if len(weeks) == 0 {
		p.Empty = &label{X: (p.X0 + p.X1) / 2, Y: (p.Y0 + p.Y1) / 2, Anchor: "middle", Text: "no closed audits in these weeks"}
		p.yAxis(0.9, "accuracy")
		return p
	}
	lo := target - 0.02
	for _, w := range weeks {
		if w.Audits > 0 {
			lo = min(lo, w.Lower)
		}
	}
	ys := p.yAxis(max(lo-0.01, 0), "accuracy (share right)")
	p.RefY, p.HasRef = ys(target), true
	p.RefLabel = label{X: p.X1 - 4, Y: ys(target) - 5, Anchor: "end", Text: "target " + pct(target)}
	var names, upper, lower, line []string
	for j, w := range weeks {
		names = append(names, w.Week)
		if w.Audits == 0 || w.Accuracy == nil {
			continue
		}
		upper = append(upper, xs(j).String()+","+ys(w.Upper).String())
		lower = append([]string{xs(j).String() + "," + ys(w.Lower).String()}, lower...)
		line = append(line, xs(j).String()+","+ys(*w.Accuracy).String())
		class := strings.ReplaceAll(w.Status, " ", "-")
		p.Dots = append(p.Dots, dot{X: xs(j), Y: ys(*w.Accuracy), Class: class,
			Title: fmt.Sprintf("%s: %s right in %s audits (%s – %s), %s", w.Week, pct(*w.Accuracy), countText(w.Audits), pct(w.Lower), pct(w.Upper), w.Status)})
	}
	if len(upper) == 1 { // one week: a band of a little width
		x, _ := strconv.ParseFloat(strings.Split(upper[0], ",")[0], 64)
		yu, yl := strings.Split(upper[0], ",")[1], strings.Split(lower[0], ",")[1]
		upper = []string{coord(x-6).String() + "," + yu, coord(x+6).String() + "," + yu}
		lower = []string{coord(x+6).String() + "," + yl, coord(x-6).String() + "," + yl}
	}
	p.Band = strings.Join(append(upper, lower...), " ")
	p.Line = strings.Join(line, " ")
	p.xLabels(names, xs, 64)
	p.Caption = fmt.Sprintf("Dots: the share of audited %ss a person confirmed; band: its Clopper–Pearson interval at %s; dashed: the target. Red: alarm; orange: watch (the band is below the target, the alarm needs more audits); hollow: too few audits to test.",
		decision, pct(1-2*res.Level))
	return p
}

func automationPlot(days []DayCount) *plot {
	p, xs := newPlot("monitor-automation", "Automation rate by day", len(days))
	p.Desc = "Share of each day's reviews decided without a person, with the reference case's " + pctTick(ReferenceAutomationRate) + "."
	ys := p.yAxis(0, "share of reviews")
	p.RefY, p.HasRef = ys(ReferenceAutomationRate), true
	p.RefLabel = label{X: p.X1 - 4, Y: ys(ReferenceAutomationRate) - 5, Anchor: "end", Text: "reference " + pctTick(ReferenceAutomationRate)}
	if len(days) == 0 {
		p.Empty = &label{X: (p.X0 + p.X1) / 2, Y: (p.Y0 + p.Y1) / 2, Anchor: "middle", Text: "no decisions in these days"}
		return p
	}
	var names, line, line2 []string
	for i, d := range days {
		names = append(names, d.Day[5:])
		line = append(line, xs(i).String()+","+ys(d.AutomationRate).String())
		line2 = append(line2, xs(i).String()+","+ys(d.PolicyRate).String())
		p.Dots = append(p.Dots, dot{X: xs(i), Y: ys(d.AutomationRate), Class: "day",
			Title: fmt.Sprintf("%s: %s of %s reviews decided without a person (%s audited)", d.Day, pct(d.AutomationRate), countText(d.Reviews), countText(d.Audits))})
	}
	p.Line, p.Line2 = strings.Join(line, " "), strings.Join(line2, " ")
	p.xLabels(names, xs, 44)
	p.Caption = "Solid: decided without a person; light: decided by the policy, audits included (the audits go to a person as well)."
	return p
}

func queuePlot(days []DayOpen) *plot {
	p, xs := newPlot("monitor-queue", "Open inspection queue by day of decision", len(days))
	p.Desc = "Reviews waiting for a person, by the day they were decided."
	top := 1
	for _, d := range days {
		top = max(top, d.Open)
	}
	nice := niceCount(top)
	ys := func(v int) coord { return p.Y1 - coord(float64(v)/float64(nice))*(p.Y1-p.Y0) }
	for t := 0; t <= 4; t++ {
		v := nice * t / 4
		p.YTicks = append(p.YTicks, tick{At: ys(v), Label: label{X: p.X0 - 6, Y: ys(v) + 4, Anchor: "end", Text: countText(v)}})
	}
	p.YLabel = label{X: 14, Y: (p.Y0 + p.Y1) / 2, Anchor: "middle", Text: "open reviews"}
	if len(days) == 0 {
		p.Empty = &label{X: (p.X0 + p.X1) / 2, Y: (p.Y0 + p.Y1) / 2, Anchor: "middle", Text: "the queue is empty"}
		return p
	}
	w := coord(float64(p.X1-p.X0)/float64(len(days))) * 0.7
	var names []string
	for i, d := range days {
		names = append(names, d.Day[5:])
		p.Bars = append(p.Bars, bar{X: xs(i) - w/2, Y: ys(d.Open), W: w, H: p.Y1 - ys(d.Open),
			Title: fmt.Sprintf("%s: %s open (%s audits)", d.Day, countText(d.Open), countText(d.Audits))})
	}
	p.xLabels(names, xs, 44)
	return p
}

// niceCount rounds n up to 1, 2 or 5 times a power of ten, times 4 at
// least so that quarter ticks are whole.
func niceCount(n int) int {
	for e := 1; ; e *= 10 {
		for _, m := range []int{1, 2, 5} {
			if v := 4 * m * e; v >= n {
				return v
			}
		}
	}
}

var pctTick = svgplot.PctTick

// countText writes n with thousands separators.
func countText(n int) string { return svgplot.Count(int64(n)) }

func hours(h float64) string {
	switch {
	case h < 1:
		return fmt.Sprintf("%.0f minutes", h*60)
	case h < 48:
		return fmt.Sprintf("%.0f hours", h)
	}
	return fmt.Sprintf("%.1f days", h/24)
}
