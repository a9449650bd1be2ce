package sagemaker

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/internal/golden"
	"github.com/reviewlens/reviewlens/internal/htmltest"
)

var nan = math.NaN()

// run is a training job at point (name, value pairs) of a grid search.
func run(name string, attempt int, status string, objective float64, point ...string) Run {
	r := Run{
		JobName:         name,
		BaseName:        strings.TrimSuffix(name, fmt.Sprintf("-a%d", attempt)),
		Attempt:         attempt,
		Hyperparameters: map[string]string{"num_classes": "4", "image_shape": "3,224,224"},
		Status:          status,
		SecondaryStatus: status,
		ObjectiveMetric: "validation:accuracy",
		Objective:       objective,
		InstanceType:    "ml.p3.2xlarge",
		InstanceCount:   1,
		CreatedAt:       time.Date(2026, 5, 4, 9, 0, attempt, 0, time.UTC),
	}
	for i := 0; i+1 < len(point); i += 2 {
		r.Point = append(r.Point, Setting{Name: point[i], Value: point[i+1]})
		r.Hyperparameters[point[i]] = point[i+1]
	}
	switch status {
	case "Completed":
		r.SecondaryStatus = "Completed"
		r.Metrics = map[string]float64{"validation:accuracy": objective, "train:accuracy": objective + 0.05}
		r.TrainingSeconds = 600 + int64(objective*1000)%300
		r.BillableSeconds = r.TrainingSeconds
		r.ModelArtifact = "s3://reviewlens-ml/tune/" + name + "/output/model.tar.gz"
	case "Failed":
		r.SecondaryStatus = "Failed"
		r.FailureReason = "AlgorithmError: CUDA out of memory; try a smaller mini_batch_size"
		r.TrainingSeconds, r.BillableSeconds = 95, 95
	case "InProgress":
		r.SecondaryStatus = "Training"
	}
	return r
}

var (
	numLayers = Axis{Name: "num_layers", Values: []string{"18", "34", "50"}}
	epochs    = Axis{Name: "epochs", Values: []string{"5", "10", "15"}}
	lr        = Axis{Name: "learning_rate", Values: []string{"0.1", "0.01"}}
)

// grid3x3 is a 3×3 grid search: one job failed, one was tried again
// (attempt 2 completed), and the best is num_layers=50, epochs=10.
func grid3x3() reportData {
	runs := []Run{
		run("rl-tune-nl18-e5-3f9a2c", 1, "Completed", 0.712, "num_layers", "18", "epochs", "5"),
		run("rl-tune-nl18-e10-8b41d0", 1, "Completed", 0.755, "num_layers", "18", "epochs", "10"),
		run("rl-tune-nl18-e15-c2e7a1", 1, "Completed", 0.771, "num_layers", "18", "epochs", "15"),
		run("rl-tune-nl34-e5-19dd04", 1, "Completed", 0.744, "num_layers", "34", "epochs", "5"),
		run("rl-tune-nl34-e10-5c1f2a", 1, "Failed", nan, "num_layers", "34", "epochs", "10"),
		run("rl-tune-nl34-e10-5c1f2a-a2", 2, "Completed", 0.802, "num_layers", "34", "epochs", "10"),
		run("rl-tune-nl34-e15-77ab3e", 1, "Completed", 0.815, "num_layers", "34", "epochs", "15"),
		run("rl-tune-nl50-e5-0e6c9b", 1, "Completed", 0.768, "num_layers", "50", "epochs", "5"),
		run("rl-tune-nl50-e10-a4d25f", 1, "Completed", 0.8537, "num_layers", "50", "epochs", "10"),
		run("rl-tune-nl50-e15-f1b803", 1, "Failed", nan, "num_layers", "50", "epochs", "15"),
	}
	runs[4].FailureReason = "CapacityError: Unable to provision requested ML compute capacity"
	MarkBest(runs, Maximize)
	return reportData{
		Title:       "reviewlens tune: 10 training jobs",
		Objective:   "validation:accuracy",
		Direction:   Maximize,
		Axes:        []Axis{numLayers, epochs},
		Runs:        runs,
		GeneratedAt: time.Date(2026, 5, 4, 11, 30, 0, 0, time.FixedZone("CEST", 2*3600)),
		Notes: []string{
			"Strategy: local grid, 9 points, at most 3 jobs at a time",
			"Data: s3://reviewlens-ml/manifests/2026-05-01/train.manifest (12,480 images, 4 classes)",
		},
	}
}

func render(tb testing.TB, d reportData) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := writeReport(&buf, d); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// parseSVG parses the page's <svg> element as XML, strictly.
func parseSVG(tb testing.TB, page string) htmltest.Node {
	tb.Helper()
	svgs := htmltest.SVGs(tb, page)
	if len(svgs) != 1 {
		tb.Fatalf("%d <svg> elements in the page, want one", len(svgs))
	}
	return svgs[0]
}

// shownCell is what a heatmap cell shows: where (from its tooltip), its
// text lines, whether it is hatched and whether it is outlined as the best.
type shownCell struct {
	Where   string
	Text    []string
	Hatched bool
	Best    bool
	Fill    string
}

func cells(tb testing.TB, svg htmltest.Node) []shownCell {
	tb.Helper()
	var outline *htmltest.Node
	var out []shownCell
	var rects []htmltest.Node
	for i, n := range svg.Nodes {
		if n.XMLName.Local == "rect" && n.Attr("stroke") == "#e6550d" {
			outline = &svg.Nodes[i]
		}
		if n.XMLName.Local != "g" || n.Attr("class") != "cells" {
			continue
		}
		for _, g := range n.Nodes {
			var c shownCell
			var rect htmltest.Node
			for _, e := range g.Nodes {
				switch e.XMLName.Local {
				case "title":
					c.Where, _, _ = strings.Cut(e.Text, ":")
				case "rect":
					rect = e
					c.Fill = e.Attr("fill")
					c.Hatched = c.Fill == "url(#tunereport-hatch)"
				case "text":
					c.Text = append(c.Text, e.Text)
				}
			}
			out = append(out, c)
			rects = append(rects, rect)
		}
	}
	if outline != nil {
		n := 0
		for i, r := range rects {
			if atoi(tb, r.Attr("x"))+1 == atoi(tb, outline.Attr("x")) && atoi(tb, r.Attr("y"))+1 == atoi(tb, outline.Attr("y")) {
				out[i].Best = true
				n++
			}
		}
		if n != 1 {
			tb.Errorf("the best outline is on %d cells, want 1", n)
		}
	}
	return out
}

func atoi(tb testing.TB, s string) int {
	tb.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		tb.Fatalf("%q: %v", s, err)
	}
	return n
}

var rowRE = regexp.MustCompile(`(?s)<tr( class="best")?>\n<td class="job"><code>([^<]*)</code>.*?</tr>`)

type tableRow struct {
	Job  string
	Best bool
}

// rows lists the jobs of the runs table in order.
func rows(tb testing.TB, page string) []tableRow {
	tb.Helper()
	_, body, ok := strings.Cut(page, "<tbody>")
	if !ok {
		tb.Fatal("no <tbody>")
	}
	var out []tableRow
	for _, m := range rowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, tableRow{Job: m[2], Best: m[1] != ""})
		if n := strings.Count(m[0], m[2]); n != 1 {
			tb.Errorf("job %s is %d times in its row, want once", m[2], n)
		}
	}
	if got, want := len(out), strings.Count(body, "<tr"); got != want {
		tb.Errorf("matched %d rows of %d", got, want)
	}
	return out
}

func TestWrite(t *testing.T) {
	minimize := grid3x3()
	minimize.Direction = Minimize
	minimize.Objective = "validation:loss"
	for i := range minimize.Runs {
		minimize.Runs[i].ObjectiveMetric = "validation:loss"
		minimize.Runs[i].Objective = 1 - minimize.Runs[i].Objective
	}
	MarkBest(minimize.Runs, Minimize)

	oneAxis := reportData{
		Objective: "validation:accuracy",
		Axes:      []Axis{numLayers},
		Runs: []Run{
			run("rl-nl18", 1, "Completed", 0.70, "num_layers", "18"),
			run("rl-nl34", 1, "InProgress", nan, "num_layers", "34"),
			run("rl-nl50", 1, "Completed", 0.81, "num_layers", "50"),
		},
	}
	MarkBest(oneAxis.Runs, Maximize)

	noAxes := reportData{
		Objective: "validation:accuracy",
		Runs:      []Run{run("rl-only", 1, "Completed", 0.77)},
	}
	MarkBest(noAxes.Runs, Maximize)

	// Three axes: each cell is the best over learning_rate; nl=18, ep=5
	// has one point failed and the other in progress; nl=50, ep=5 is not
	// run yet.
	var three reportData
	three.Objective = "validation:accuracy"
	three.Axes = []Axis{numLayers, {Name: "epochs", Values: []string{"5", "10"}}, lr}
	add := func(status string, obj float64, nl, ep, l string) {
		three.Runs = append(three.Runs, run("rl-nl"+nl+"-e"+ep+"-lr"+l, 1, status, obj, "num_layers", nl, "epochs", ep, "learning_rate", l))
	}
	add("Failed", nan, "18", "5", "0.1")
	add("InProgress", nan, "18", "5", "0.01")
	add("Completed", 0.70, "18", "10", "0.1")
	add("Completed", 0.74, "18", "10", "0.01")
	add("Completed", 0.79, "34", "5", "0.1")
	add("Completed", 0.76, "34", "5", "0.01")
	add("Completed", 0.80, "34", "10", "0.1")
	add("Completed", 0.83, "34", "10", "0.01")
	add("Completed", 0.78, "50", "10", "0.1")
	add("Failed", nan, "50", "10", "0.01")
	MarkBest(three.Runs, Maximize)

	const light, dark = "#deebf7", "#08306b"

	tests := []struct {
		name      string
		data      reportData
		wantCells []shownCell // compared without Fill
		wantRows  []tableRow
		wantFill  map[string]string // where → fill
		contains  []string
	}{
		{
			name: "3x3 grid, one failed, one tried again",
			data: grid3x3(),
			wantCells: []shownCell{
				{Where: "num_layers=18, epochs=5", Text: []string{"0.712"}},
				{Where: "num_layers=34, epochs=5", Text: []string{"0.744"}},
				{Where: "num_layers=50, epochs=5", Text: []string{"0.768"}},
				{Where: "num_layers=18, epochs=10", Text: []string{"0.755"}},
				{Where: "num_layers=34, epochs=10", Text: []string{"0.802"}},
				{Where: "num_layers=50, epochs=10", Text: []string{"0.8537"}, Best: true},
				{Where: "num_layers=18, epochs=15", Text: []string{"0.771"}},
				{Where: "num_layers=34, epochs=15", Text: []string{"0.815"}},
				{Where: "num_layers=50, epochs=15", Text: []string{"Failed"}, Hatched: true},
			},
			wantRows: []tableRow{
				{"rl-tune-nl50-e10-a4d25f", true},
				{"rl-tune-nl34-e15-77ab3e", false},
				{"rl-tune-nl34-e10-5c1f2a-a2", false},
				{"rl-tune-nl18-e15-c2e7a1", false},
				{"rl-tune-nl50-e5-0e6c9b", false},
				{"rl-tune-nl18-e10-8b41d0", false},
				{"rl-tune-nl34-e5-19dd04", false},
				{"rl-tune-nl18-e5-3f9a2c", false},
				{"rl-tune-nl34-e10-5c1f2a", false},
				{"rl-tune-nl50-e15-f1b803", false},
			},
			wantFill: map[string]string{"num_layers=50, epochs=10": dark, "num_layers=18, epochs=5": light},
			contains: []string{
				"Generated 2026-05-04 09:30:00 UTC",
				"<code>validation:accuracy</code> (Maximize)",
				`<li class="completed">8 Completed</li>`,
				`<li class="failed">2 Failed</li>`,
				`<li class="zero">0 Stopped</li>`,
				`<li class="zero">0 InProgress</li>`,
				"<dd><strong>0.8537</strong></dd>",
				"<code>num_layers=50</code>, <code>epochs=10</code>",
				"<code>s3://reviewlens-ml/tune/rl-tune-nl50-e10-a4d25f/output/model.tar.gz</code>",
				"<li>Strategy: local grid, 9 points, at most 3 jobs at a time</li>",
				"CapacityError: Unable to provision",
				"min 0.712", "max 0.8537",
			},
		},
		{
			name: "minimize: lower is better and darker",
			data: minimize,
			wantCells: []shownCell{
				{Where: "num_layers=18, epochs=5", Text: []string{"0.288"}},
				{Where: "num_layers=34, epochs=5", Text: []string{"0.256"}},
				{Where: "num_layers=50, epochs=5", Text: []string{"0.232"}},
				{Where: "num_layers=18, epochs=10", Text: []string{"0.245"}},
				{Where: "num_layers=34, epochs=10", Text: []string{"0.198"}},
				{Where: "num_layers=50, epochs=10", Text: []string{"0.1463"}, Best: true},
				{Where: "num_layers=18, epochs=15", Text: []string{"0.229"}},
				{Where: "num_layers=34, epochs=15", Text: []string{"0.185"}},
				{Where: "num_layers=50, epochs=15", Text: []string{"Failed"}, Hatched: true},
			},
			wantRows: []tableRow{
				{"rl-tune-nl50-e10-a4d25f", true},
				{"rl-tune-nl34-e15-77ab3e", false},
				{"rl-tune-nl34-e10-5c1f2a-a2", false},
				{"rl-tune-nl18-e15-c2e7a1", false},
				{"rl-tune-nl50-e5-0e6c9b", false},
				{"rl-tune-nl18-e10-8b41d0", false},
				{"rl-tune-nl34-e5-19dd04", false},
				{"rl-tune-nl18-e5-3f9a2c", false},
				{"rl-tune-nl34-e10-5c1f2a", false},
				{"rl-tune-nl50-e15-f1b803", false},
			},
			wantFill: map[string]string{"num_layers=50, epochs=10": dark, "num_layers=18, epochs=5": light},
			contains: []string{"<code>validation:loss</code> (Minimize)", "max 0.288", "min 0.1463"},
		},
		{
			name: "one axis: a single row",
			data: oneAxis,
			wantCells: []shownCell{
				{Where: "num_layers=18", Text: []string{"0.7"}},
				{Where: "num_layers=34", Text: []string{"InProgress"}, Hatched: true},
				{Where: "num_layers=50", Text: []string{"0.81"}, Best: true},
			},
			wantRows: []tableRow{{"rl-nl50", true}, {"rl-nl18", false}, {"rl-nl34", false}},
			wantFill: map[string]string{"num_layers=50": dark, "num_layers=18": light},
			contains: []string{"<title>reviewlens tune</title>", `<li class="inprogress">1 InProgress</li>`, "<span class=\"sub\">Training</span>"},
		},
		{
			name:     "no axes: a sentence instead of the heatmap",
			data:     noAxes,
			wantRows: []tableRow{{"rl-only", true}},
			contains: []string{
				"The grid has no axes: every job ran with the same hyperparameters, so there is no heatmap.",
				"<span class=\"none\">the grid has no axes</span>",
			},
		},
		{
			name: "three axes: the best over the third",
			data: three,
			wantCells: []shownCell{
				{Where: "num_layers=18, epochs=5", Text: []string{"InProgress"}, Hatched: true},
				{Where: "num_layers=34, epochs=5, learning_rate=0.1", Text: []string{"0.79", "0.1"}},
				{Where: "num_layers=50, epochs=5", Text: []string{"no job"}, Hatched: true},
				{Where: "num_layers=18, epochs=10, learning_rate=0.01", Text: []string{"0.74", "0.01"}},
				{Where: "num_layers=34, epochs=10, learning_rate=0.01", Text: []string{"0.83", "0.01"}, Best: true},
				{Where: "num_layers=50, epochs=10, learning_rate=0.1", Text: []string{"0.78", "0.1"}},
			},
			wantRows: []tableRow{
				{"rl-nl34-e10-lr0.01", true},
				{"rl-nl34-e10-lr0.1", false},
				{"rl-nl34-e5-lr0.1", false},
				{"rl-nl50-e10-lr0.1", false},
				{"rl-nl34-e5-lr0.01", false},
				{"rl-nl18-e10-lr0.01", false},
				{"rl-nl18-e10-lr0.1", false},
				{"rl-nl18-e5-lr0.01", false},
				{"rl-nl18-e5-lr0.1", false},
				{"rl-nl50-e10-lr0.01", false},
			},
			wantFill: map[string]string{"num_layers=34, epochs=10, learning_rate=0.01": dark, "num_layers=18, epochs=10, learning_rate=0.01": light},
			contains: []string{"<figcaption>The grid has 3 axes: each cell shows the best validation:accuracy over learning_rate;"},
		},
		{
			name: "no run has an objective yet",
			data: reportData{
				Objective: "validation:accuracy",
				Axes:      []Axis{numLayers},
				Runs:      []Run{run("rl-nl18", 1, "InProgress", nan, "num_layers", "18")},
			},
			wantCells: []shownCell{
				{Where: "num_layers=18", Text: []string{"InProgress"}, Hatched: true},
				{Where: "num_layers=34", Text: []string{"no job"}, Hatched: true},
				{Where: "num_layers=50", Text: []string{"no job"}, Hatched: true},
			},
			wantRows: []tableRow{{"rl-nl18", false}},
			contains: []string{"so there is no best job", ">no values</text>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, tt.data)
			htmltest.SelfContained(t, page)
			if diff := cmp.Diff(tt.wantRows, rows(t, page)); diff != "" {
				t.Errorf("table rows (-want +got):\n%s", diff)
			}
			for _, s := range tt.contains {
				if !strings.Contains(page, s) {
					t.Errorf("the page does not contain %q", s)
				}
			}
			if tt.wantCells == nil {
				if strings.Contains(page, "<svg") {
					t.Error("a heatmap, want none")
				}
				return
			}
			got := cells(t, parseSVG(t, page))
			if diff := cmp.Diff(tt.wantCells, got, cmpopts.IgnoreFields(shownCell{}, "Fill")); diff != "" {
				t.Errorf("heatmap cells (-want +got):\n%s", diff)
			}
			for _, c := range got {
				if want, ok := tt.wantFill[c.Where]; ok && c.Fill != want {
					t.Errorf("cell %s is %s, want %s", c.Where, c.Fill, want)
				}
			}
		})
	}
}

func TestWriteEscapes(t *testing.T) {
	d := grid3x3()
	d.Title = `</title><script>alert("title")</script>`
	d.Notes = []string{`<img src=x onerror=alert(1)>`}
	d.Axes = []Axis{{Name: `<b>nl</b>`, Values: []string{`18&"`, "34", "50"}}, epochs}
	for i := range d.Runs {
		for j, s := range d.Runs[i].Point {
			if s.Name == "num_layers" {
				d.Runs[i].Point[j].Name = `<b>nl</b>`
				if s.Value == "18" {
					d.Runs[i].Point[j].Value = `18&"`
				}
			}
		}
	}
	d.Runs[9].FailureReason = `ClientError: <script>alert("reason")</script> & more`
	d.Runs[9].SecondaryStatus = `<i>Failed</i>`
	d.Runs[0].Metrics["<u>odd</u>"] = 1

	page := render(t, d)
	htmltest.SelfContained(t, page)
	for _, bad := range []string{"<b>", "<i>", "<u>", `18&"`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt; &amp; more",
		"<title>&lt;/title&gt;&lt;script&gt;",
		"<li>&lt;img src=x onerror=alert(1)&gt;</li>",
		"<th>&lt;b&gt;nl&lt;/b&gt;</th>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not contain %q", want)
		}
	}
	svg := parseSVG(t, page)
	got := cells(t, svg)
	if got, want := got[0].Where, `<b>nl</b>=18&", epochs=5`; got != want {
		t.Errorf("first cell is at %q, want %q", got, want)
	}
}

func TestWriteDoesNotChangeData(t *testing.T) {
	d := grid3x3()
	want := grid3x3()
	render(t, d)
	if diff := cmp.Diff(want, d, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("Data changed (-before +after):\n%s", diff)
	}
}

type failWriter struct{}

var errFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errFull }

func TestWriteError(t *testing.T) {
	if err := writeReport(failWriter{}, grid3x3()); !errors.Is(err, errFull) {
		t.Errorf("Write = %v, want %v", err, errFull)
	}
}

func TestFormatNum(t *testing.T) {
	tests := []struct {
		v      float64
		digits int
		want   string
	}{
		{0.8537142857, 4, "0.8537"},
		{0.8537142857, 6, "0.853714"},
		{0.7, 4, "0.7"},
		{0.000123456, 4, "0.0001235"},
		{1.5e-7, 4, "1.5e-07"},
		{123456.7, 4, "123457"},
		{-2.5, 4, "-2.5"},
		{nan, 4, "—"},
	}
	for _, tt := range tests {
		if got := formatNum(tt.v, tt.digits); got != tt.want {
			t.Errorf("formatNum(%v, %d) = %q, want %q", tt.v, tt.digits, got, tt.want)
		}
	}
}

func TestTextColor(t *testing.T) {
	for _, tt := range []struct {
		c    rgb
		want string
	}{
		{blues[0], "#1a1a1a"},
		{blues[len(blues)-1], "#ffffff"},
		{scale(0, 1, 0, false), "#1a1a1a"},
		{scale(0, 1, 1, false), "#ffffff"},
	} {
		if got := tt.c.textColor(); got != tt.want {
			t.Errorf("%s: text %s, want %s", tt.c.hex(), got, tt.want)
		}
	}
}

// TestGolden renders a fixed report: go test ./sagemaker -run TestGolden -update
// rewrites testdata/report.golden.html, which a browser shows as it is.
func TestGolden(t *testing.T) {
	golden.Check(t, "report.golden.html", render(t, grid3x3()))
}
