package creditreport

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/internal/golden"
	"github.com/reviewlens/reviewlens/internal/htmltest"
)

// upper is the one-sided Clopper–Pearson upper bound U(k, n, δ) of
// spec/policy.md §1.4, by bisection on the binomial CDF: the fixtures'
// curves are made with it so they look like the policy's.
func upper(k, n int, delta float64) float64 {
	switch {
	case n == 0 || k >= n:
		return 1
	case k == 0:
		return 1 - math.Pow(delta, 1/float64(n))
	}
	lchoose := make([]float64, k+1) // ln C(n, j)
	ln, _ := math.Lgamma(float64(n + 1))
	for j := range lchoose {
		l1, _ := math.Lgamma(float64(j + 1))
		l2, _ := math.Lgamma(float64(n - j + 1))
		lchoose[j] = ln - l1 - l2
	}
	cdf := func(b float64) float64 { // P[Bin(n, b) ≤ k]
		lb, l1b := math.Log(b), math.Log1p(-b)
		var s float64
		for j, lc := range lchoose {
			s += math.Exp(lc + float64(j)*lb + float64(n-j)*l1b)
		}
		return s
	}
	lo, hi := float64(k)/float64(n), 1.0
	for range 60 {
		mid := (lo + hi) / 2
		if cdf(mid) > delta {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// makeFamily makes a decision family of n calibration photos whose coverage
// at threshold λ is 1−((λ−0.4)/0.6)^8 and whose selective risk at
// coverage φ is r0 + r1·φ³, certified as Algorithm A of spec/policy.md
// §1.4 would on the grid 1.00, 0.99, …, 0.40.
func makeFamily(name, decision string, n int, r0, r1, target, delta float64) Family {
	f := Family{Name: name, Decision: decision, Threshold: math.Inf(1)}
	rStar := 1 - target
	nMin := int(math.Ceil(math.Log(delta) / math.Log(1-rStar)))
	f.Procedure = fmt.Sprintf("fixed-sequence scan (Learn-then-Test) of 61 thresholds 1.00 … 0.40, N ≥ %d, δ = %g per family", nMin, delta)
	scanning := true
	for t := 0; t <= 60; t++ {
		lambda := float64(100-t) / 100
		phi := 1 - math.Pow((lambda-0.4)/0.6, 8)
		N := int(math.Round(phi * float64(n)))
		c := CurvePoint{Threshold: lambda, Coverage: float64(N) / float64(n), N: N}
		if N > 0 {
			c.K = int(math.Round((r0 + r1*phi*phi*phi) * float64(N)))
			c.Risk = float64(c.K) / float64(N)
		}
		c.Bound = upper(c.K, N, delta)
		f.Curve = append(f.Curve, c)
		if !scanning || N < nMin {
			continue
		}
		if c.Bound > rStar {
			scanning = false
			continue
		}
		f.Certified = true
		f.Threshold, f.N, f.K = lambda, N, c.K
		f.Coverage = c.Coverage
		f.Accuracy = 1 - c.Risk
		f.CertifiedAccuracy = 1 - c.Bound
	}
	if !f.Certified {
		f.Reason = fmt.Sprintf("only %d calibration photos; %d are needed to certify %g%% even with no errors", n, nMin, 100*target)
	}
	return f
}

// makeReliability makes the diagram of a class with n photos in ten bins,
// most of them confident, accuracy off the confidence by miscal.
func makeReliability(class string, n int, miscal float64) ClassReliability {
	r := ClassReliability{Class: class}
	weights := []float64{0, 0, 0, 1, 2, 3, 5, 9, 16, 64}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	total := 0
	for i, w := range weights {
		b := Bin{Lo: float64(i) / 10, Hi: float64(i+1) / 10, N: int(math.Round(w / sum * float64(n)))}
		if b.N > 0 {
			b.Confidence = b.Lo + 0.06
			b.Accuracy = min(max(b.Confidence-miscal*(1-b.Confidence)*4, 0), 1)
			total += b.N
		}
		r.Bins = append(r.Bins, b)
	}
	r.Bins[len(r.Bins)-1].N += n - total // what rounding lost
	total = n
	for _, b := range r.Bins {
		if b.N > 0 {
			r.ECE += float64(b.N) / float64(total) * math.Abs(b.Accuracy-b.Confidence)
		}
	}
	return r
}

// golden is the fixed report: four families, one not certified, and a
// day of decisions.
func goldenData() Data {
	const target, delta = 0.98, 0.05
	return Data{
		Title:          "reviewlens credit policy: calibration and 2026-05-04",
		GeneratedAt:    time.Date(2026, 5, 5, 6, 0, 0, 0, time.UTC),
		PolicyVersion:  "policy-2026-05-01-7c1e9a",
		TargetAccuracy: target,
		Delta:          delta,
		Families: []Family{
			makeFamily("product reviews · grant", "grant", 5200, 0.002, 0.05, target, delta/4),
			makeFamily("product reviews · reject", "reject", 1800, 0.001, 0.03, target, delta/4),
			makeFamily("style reviews · grant", "grant", 3000, 0.001, 0.07, target, delta/4),
			makeFamily("style reviews · reject", "reject", 96, 0.01, 0.05, target, delta/4),
		},
		Classes: []string{"product", "package", "full-length", "other"},
		Confusion: [][]int{
			{2210, 64, 12, 30},
			{51, 880, 3, 14},
			{9, 2, 1402, 41},
			{38, 17, 25, 702},
		},
		Reliability: []ClassReliability{
			makeReliability("product", 2308, 0.02),
			makeReliability("package", 963, 0.06),
			makeReliability("full-length", 1442, -0.01),
			makeReliability("other", 787, 0.1),
		},
		Day: &Day{
			Day:            "2026-05-04",
			Reviews:        20412,
			Grant:          12950,
			Reject:         2341,
			Manual:         5121,
			Photos:         31877,
			AutomationRate: float64(12950+2341) / 20412,
			CreditsGranted: 6475000,
			ByType: map[string]Counts{
				"product": {Reviews: 14102, Grant: 9610, Reject: 1980, Manual: 2512, Credits: 4805000},
				"style":   {Reviews: 6310, Grant: 3340, Reject: 361, Manual: 2609, Credits: 1670000},
			},
			ManualReasons: map[string]int{
				"uncertain photo (under the threshold)":   4410,
				"style reviews · reject is not certified": 512,
				"missing prediction":                      148,
				"review without a photo":                  51,
			},
		},
		Notes: []string{
			"Calibration set: s3://reviewlens-ml/calibration/2026-05-01/labels.parquet (5,000 photos, 3 inspectors each, Dawid–Skene).",
			"δ = 0.05 is split over the 4 families (Bonferroni), 0.0125 each.",
		},
	}
}

func render(tb testing.TB, d Data) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// svgs parses every <svg> element of the page as XML, strictly, each in
// the SVG namespace.
func svgs(tb testing.TB, page string) []htmltest.Node {
	tb.Helper()
	out := htmltest.SVGs(tb, page)
	for _, n := range out {
		if got := n.XMLName.Space; got != "http://www.w3.org/2000/svg" {
			tb.Errorf("svg in namespace %q", got)
		}
	}
	return out
}

// selfContained checks the page loads nothing from elsewhere and runs no
// script, and that its ids are unique.
func selfContained(tb testing.TB, page string) {
	tb.Helper()
	htmltest.SelfContained(tb, page)
	seen := map[string]bool{}
	for _, m := range idRE.FindAllStringSubmatch(page, -1) {
		if seen[m[1]] {
			tb.Errorf("id %q is used twice", m[1])
		}
		seen[m[1]] = true
	}
}

var idRE = regexp.MustCompile(`\sid="([^"]*)"`)

// cards cuts the page into its family cards.
func cards(tb testing.TB, page string) []string {
	tb.Helper()
	parts := strings.Split(page, `<article class="card`)
	var out []string
	for _, p := range parts[1:] {
		card, _, ok := strings.Cut(p, "</article>")
		if !ok {
			tb.Fatal("a card without </article>")
		}
		out = append(out, card)
	}
	return out
}

// TestGolden renders a fixed report: go test ./internal/creditreport -update
// rewrites testdata/report.golden.html, which a browser shows as it is.
func TestGolden(t *testing.T) {
	got := render(t, goldenData())
	if want := golden.Read(t, "report.golden.html", got); string(want) != got {
		t.Errorf("testdata/report.golden.html differs from the rendered page: %s (run with -update and look at the diff)", firstDiff(string(want), got))
	}
}

// firstDiff says where two texts first differ, by line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, w, g)
		}
	}
	return "no difference"
}

func TestWrite(t *testing.T) {
	d := goldenData()
	page := render(t, d)
	selfContained(t, page)

	all := svgs(t, page)
	// A plot per family, a diagram per class, the day's bar.
	if got, want := len(all), len(d.Families)+len(d.Reliability)+1; got != want {
		t.Errorf("%d svgs, want %d", got, want)
	}

	for _, want := range []string{
		"<title>reviewlens credit policy: calibration and 2026-05-04</title>",
		"Generated 2026-05-05 06:00:00 UTC",
		"<code>policy-2026-05-01-7c1e9a</code>",
		"98% of automatic decisions right",
		"0.05 (the guarantee holds with probability 95%)",
		"<dd>3 of 4</dd>",
		"With probability at least 95% over the calibration set, at least 98% of automatic grants are right, and at least 98% of automatic rejects are right.",
		"Not certified: style reviews · reject. Its reviews go to a person.",
		// The day.
		"<h2>Decisions of 2026-05-04</h2>",
		`<span class="value">74.9%</span><span class="what">automation rate</span><span class="vs below">1.1 points below the reference 76%</span>`,
		`<span class="value">6,475,000</span><span class="what">credits granted</span>`,
		"5,121 reviews (25.1%) went to a person.",
		`<td class="reason">uncertain photo (under the threshold)</td><td class="num">4,410</td><td class="num">86.1%</td>`,
		`<tr><td>product</td><td class="num">14,102</td><td class="num">9,610</td><td class="num">1,980</td><td class="num">2,512</td><td class="num">82.2%</td><td class="num">4,805,000</td></tr>`,
		`<tr class="total"><td>All</td><td class="num">20,412</td>`,
		// The confusion matrix: a diagonal cell and a wrong one.
		`<td class="num cell diag" style="background-color: `,
		`<span class="count">2,210</span><span class="share">95.4%</span>`,
		`<span class="count">64</span><span class="share">2.8%</span>`,
		`<th scope="row">full-length</th>`,
		// Reliability.
		"<strong>package</strong> · ECE ",
		"<li>δ = 0.05 is split over the 4 families (Bonferroni), 0.0125 each.</li>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not contain %q", want)
		}
	}
	if strings.Contains(page, "warning") && strings.Contains(page, `<p class="warning">`) {
		t.Error("the golden day has a warning, want none")
	}

	// Every family's plot has both curves and the target line; a
	// certified one has its chosen point, labelled.
	for i, f := range d.Families {
		svg := all[i]
		if got := len(svg.Find("polyline", "empirical")); got != 1 {
			t.Errorf("%s: %d empirical curves, want 1", f.Name, got)
		}
		if got := len(svg.Find("polyline", "bound")); got != 1 {
			t.Errorf("%s: %d bound curves, want 1", f.Name, got)
		}
		if got := len(svg.Find("line", "target")); got != 1 {
			t.Errorf("%s: %d target lines, want 1", f.Name, got)
		}
		chosen := svg.Find("g", "chosen")
		if f.Certified != (len(chosen) == 1) {
			t.Errorf("%s: certified %v, %d chosen points", f.Name, f.Certified, len(chosen))
		}
		if f.Certified {
			want := "λ = " + formatNum(f.Threshold, 4) + ", coverage " + pct(f.Coverage)
			if got := chosen[0].Find("text", "")[0].Text; got != want {
				t.Errorf("%s: chosen point labelled %q, want %q", f.Name, got, want)
			}
		}
	}
}

func TestCertifiedFamily(t *testing.T) {
	d := goldenData()
	f := d.Families[0]
	if !f.Certified {
		t.Fatal("the fixture's first family is not certified")
	}
	card := cards(t, render(t, d))[0]
	for _, want := range []string{
		"<h3>product reviews · grant</h3>",
		`<span class="badge grant">grant</span>`,
		"<dt>Threshold λ</dt><dd>" + formatNum(f.Threshold, 4) + "</dd>",
		"<dt>Coverage</dt><dd>" + pct(f.Coverage) + "</dd>",
		"<dt>Empirical accuracy</dt><dd>" + pct(f.Accuracy) + "</dd>",
		"<dt>Certified accuracy</dt><dd>" + pctDown(f.CertifiedAccuracy) + "</dd>",
		"<dt>Photos at or above λ (N)</dt><dd>" + count(int64(f.N)) + "</dd>",
		"<dt>Wrong among them (K)</dt><dd>" + count(int64(f.K)) + "</dd>",
		"Procedure: fixed-sequence scan",
	} {
		if !strings.Contains(card, want) {
			t.Errorf("the card does not contain %q", want)
		}
	}
	if strings.Contains(card, "Not certified") || strings.Contains(card, "goes to a person") {
		t.Error("a certified card says it is not certified")
	}
}

func TestNotCertifiedFamily(t *testing.T) {
	d := goldenData()
	f := d.Families[3]
	if f.Certified {
		t.Fatal("the fixture's last family is certified")
	}
	page := render(t, d)
	card := cards(t, page)[3]
	want := `<p class="not-certified"><strong>Not certified.</strong> Only 96 calibration photos; 217 are needed to certify 98% even with no errors. Everything goes to a person.</p>`
	if !strings.Contains(card, want) {
		t.Errorf("the card does not contain\n%s\nin\n%s", want, card)
	}
	for _, bad := range []string{"Threshold λ", "Certified accuracy", "(N)", "(K)", `class="chosen"`, "chosen threshold", "+Inf", "Inf"} {
		if strings.Contains(card, bad) {
			t.Errorf("a card not certified contains %q", bad)
		}
	}
	if !strings.Contains(card, `<span class="badge uncertified">not certified</span>`) {
		t.Error("no not-certified badge")
	}
}

func TestNoDay(t *testing.T) {
	d := goldenData()
	d.Day = nil
	page := render(t, d)
	selfContained(t, page)
	for _, bad := range []string{"Decisions of", "automation rate", "credits granted", "Manual workload", `class="stack"`} {
		if strings.Contains(page, bad) {
			t.Errorf("a page without a day contains %q", bad)
		}
	}
	if got, want := len(svgs(t, page)), len(d.Families)+len(d.Reliability); got != want {
		t.Errorf("%d svgs, want %d", got, want)
	}
}

func TestNoCalibrationSections(t *testing.T) {
	d := goldenData()
	d.Confusion, d.Reliability = nil, nil
	page := render(t, d)
	for _, bad := range []string{"Confusion matrix", "Reliability per predicted class"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
}

// TestEmpty renders pages with nothing in them, or curves and diagrams
// without points: they must still be well-formed and say so.
func TestEmpty(t *testing.T) {
	emptyFamily := Family{Name: "empty", Decision: "grant", Threshold: math.Inf(1), Reason: "no calibration photos predicted grant"}
	noPoints := Family{Name: "no points", Decision: "reject", Curve: []CurvePoint{{Threshold: 1, Bound: 1}}, Threshold: math.Inf(1)}
	nanPoints := Family{Name: "not numbers", Decision: "grant", Curve: []CurvePoint{{Threshold: 0.9, Coverage: math.NaN(), Risk: math.NaN(), Bound: math.NaN(), N: 3}}}
	onePoint := Family{Name: "one point", Decision: "grant", Curve: []CurvePoint{{Threshold: 0.9, Coverage: 0.5, Risk: 0.01, Bound: 0.05, N: 300, K: 3}}}
	tests := []struct {
		name     string
		data     Data
		contains []string
	}{
		{
			name:     "zero Data",
			data:     Data{},
			contains: []string{"<title>reviewlens credit policy</title>", "The policy has no decision families", "not given", "not set"},
		},
		{
			name: "families without curves",
			data: Data{TargetAccuracy: 0.98, Delta: 0.05, Families: []Family{emptyFamily, noPoints, nanPoints, onePoint}},
			contains: []string{
				"No family is certified, so nothing is decided automatically: every review goes to a person.",
				"no calibration photos on this curve",
				"<strong>Not certified.</strong> No calibration photos predicted grant. Everything goes to a person.",
				"<strong>Not certified.</strong> Everything goes to a person.",
			},
		},
		{
			name: "no target",
			data: Data{Families: []Family{{Name: "certified without a target", Decision: "grant", Certified: true, Threshold: 0.9, N: 300, K: 3, Coverage: 0.5, Accuracy: 0.99, CertifiedAccuracy: 0.97,
				Curve: []CurvePoint{{Threshold: 0.9, Coverage: 0.5, Risk: 0.01, Bound: 0.03, N: 300, K: 3}}}}},
			contains: []string{"The target accuracy or δ is not set, so this page states no guarantee."},
		},
		{
			name: "reliability without bins",
			data: Data{Classes: []string{"a"}, Confusion: [][]int{{0}}, Reliability: []ClassReliability{{Class: "a"}, {Class: "b", Bins: []Bin{{Lo: 0.5, Hi: 0.5, N: 3}, {Lo: 0.9, Hi: 1, N: 0}}, ECE: math.NaN()}}},
			contains: []string{
				"<strong>a</strong> · ECE 0.0% · 0 photos",
				"<strong>b</strong> · ECE — · 0 photos",
				">no photos</text>",
				`<td class="num cell diag zero" title="true a, predicted a: 0 of 0 (— of the row)"><span class="count">0</span></td>`,
			},
		},
		{
			name: "ragged confusion matrix",
			data: Data{Classes: []string{"a"}, Confusion: [][]int{{5, 1}, {2}}},
			contains: []string{
				`<th class="num">a</th>`,
				`<th class="num">class 1</th>`,
				`<span class="count">5</span><span class="share">83.3%</span>`,
			},
		},
		{
			name: "empty day",
			data: Data{Day: &Day{}},
			contains: []string{
				"<h2>Decisions of the day</h2>",
				`<span class="value">0.0%</span>`,
				"76.0 points below the reference 76%",
				"<p class=\"none\">No reasons recorded.</p>",
			},
		},
		{
			name: "day that does not add up",
			data: Data{Day: &Day{Day: "d", Reviews: 10, Grant: 5, Reject: 1, Manual: 3, AutomationRate: 0.6, ManualReasons: map[string]int{"uncertain": 2}}},
			contains: []string{
				"Grant, reject and manual add up to 9 reviews, not 10",
				"1 manual reviews have no reason recorded.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := render(t, tt.data)
			selfContained(t, page)
			for _, svg := range svgs(t, page) {
				for _, pl := range svg.Find("polyline", "") {
					if strings.Contains(pl.Attr("points"), "NaN") {
						t.Errorf("a polyline has NaN points: %q", pl.Attr("points"))
					}
				}
			}
			if strings.Contains(page, "NaN") || strings.Contains(page, "Inf") {
				t.Error("the page shows NaN or Inf")
			}
			for _, s := range tt.contains {
				if !strings.Contains(page, s) {
					t.Errorf("the page does not contain %q", s)
				}
			}
		})
	}
}

func TestWriteEscapes(t *testing.T) {
	d := goldenData()
	const evil = `<script>alert("x")</script>`
	d.Title = `</title>` + evil
	d.PolicyVersion = evil
	d.Classes[1] = `<script>alert("class")</script>&`
	d.Reliability[1].Class = d.Classes[1]
	d.Families[0].Name = `<b>product</b> · grant`
	d.Families[0].Decision = `grant" onclick="x`
	d.Families[0].Procedure = evil
	d.Families[3].Reason = `<script>alert("reason")</script> & too few photos`
	d.Day.Day = evil
	d.Day.ManualReasons[evil] = 1
	d.Day.ByType[`<i>video</i>`] = Counts{Reviews: 1, Manual: 1}
	d.Notes = append(d.Notes, `<img src=x onerror=alert(1)>`)

	page := render(t, d)
	selfContained(t, page)
	svgs(t, page)
	for _, bad := range []string{"<b>", "<i>", `onclick="x`, `grant" onclick`} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q unescaped", bad)
		}
	}
	for _, want := range []string{
		"<title>&lt;/title&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</title>",
		`<th class="num">&lt;script&gt;alert(&#34;class&#34;)&lt;/script&gt;&amp;</th>`,
		"<strong>&lt;script&gt;alert(&#34;class&#34;)&lt;/script&gt;&amp;</strong> · ECE",
		"<strong>Not certified.</strong> &lt;script&gt;alert(&#34;reason&#34;)&lt;/script&gt; &amp; too few photos. Everything goes to a person.",
		"<h3>&lt;b&gt;product&lt;/b&gt; · grant</h3>",
		`<article class="card other">`,
		"<li>&lt;img src=x onerror=alert(1)&gt;</li>",
		"<td>&lt;i&gt;video&lt;/i&gt;</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not contain %q", want)
		}
	}
	// In the SVGs too: the class name is text of the description, not markup.
	all := svgs(t, page)
	desc := all[len(d.Families)+1].Find("desc", "")[0].Text
	if !strings.Contains(desc, `predicted <script>alert("class")</script>&:`) {
		t.Errorf("the reliability description is %q", desc)
	}
}

func TestGuarantee(t *testing.T) {
	grant := Family{Name: "g", Decision: "grant", Certified: true}
	reject := Family{Name: "r", Decision: "Reject", Certified: true}
	other := Family{Name: "o", Decision: "hold", Certified: true}
	tests := []struct {
		name     string
		families []Family
		want     string
	}{
		{"grants", []Family{grant, grant}, "With probability at least 95% over the calibration set, at least 98% of automatic grants are right."},
		{"rejects first in the data", []Family{reject, grant}, "With probability at least 95% over the calibration set, at least 98% of automatic grants are right, and at least 98% of automatic rejects are right."},
		{"another decision", []Family{other}, `With probability at least 95% over the calibration set, at least 98% of automatic "hold" decisions are right.`},
		{"a target per decision", []Family{{Decision: "grant", Certified: true, Target: 0.99}, {Decision: "reject", Certified: true, Target: 0.97}},
			"With probability at least 95% over the calibration set, at least 99% of automatic grants are right, and at least 97% of automatic rejects are right."},
		{"overall", []Family{{Name: "every automatic decision", Certified: true}},
			"With probability at least 95% over the calibration set, at least 98% of all automatic decisions are right."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := guarantee(tt.families, 0.98, 0.05); got != tt.want {
				t.Errorf("guarantee = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  string
		want string
	}{
		{"pct", pct(0.8123), "81.2%"},
		{"pct whole", pct(0.76), "76.0%"},
		{"pct zero", pct(0), "0.0%"},
		{"pct one", pct(1), "100.0%"},
		{"pct tiny", pct(0.0004), "<0.1%"},
		{"pct nearly all", pct(0.99951), ">99.9%"},
		{"pct NaN", pct(math.NaN()), "—"},
		{"pctDown", pctDown(0.97968), "97.9%"},
		{"pctDown exact", pctDown(0.981), "98.1%"},
		{"pctUp", pctUp(0.02031), "2.1%"},
		{"pctUp exact", pctUp(0.019), "1.9%"},
		{"pctAsSet", pctAsSet(0.98), "98%"},
		{"pctAsSet half", pctAsSet(0.975), "97.5%"},
		{"pctAsSet confidence", pctAsSet(1 - 0.05), "95%"},
		{"pctTick", pctTick(0.005), "0.5%"},
		{"pctTick whole", pctTick(0.04), "4%"},
		{"count", count(1234567), "1,234,567"},
		{"count small", count(999), "999"},
		{"count negative", count(-1234), "-1,234"},
		{"compact", compact(9999), "9999"},
		{"compact k", compact(12345), "12k"},
		{"compact M", compact(2_345_678), "2.3M"},
		{"threshold", formatNum(0.913, 4), "0.913"},
		{"threshold Inf", formatNum(math.Inf(1), 4), "—"},
		{"coord", coord(12.345).String(), "12.3"},
		{"coord whole", coord(12).String(), "12"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestNiceScale(t *testing.T) {
	for _, tt := range []struct {
		v, top, step float64
	}{
		{0.04, 0.04, 0.01},
		{0.046, 0.05, 0.01},
		{0.061, 0.08, 0.02},
		{0.23, 0.25, 0.05},
		{0.9, 1, 0.2},
		{3, 1, 0.2},
		{0, 0.05, 0.01},
		{math.NaN(), 0.05, 0.01},
	} {
		top, step := niceScale(tt.v)
		if math.Abs(top-tt.top) > 1e-12 || math.Abs(step-tt.step) > 1e-12 {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tt.v, top, step, tt.top, tt.step)
		}
	}
}

func TestWriteDoesNotChangeData(t *testing.T) {
	d := goldenData()
	want := goldenData()
	render(t, d)
	if !reflect.DeepEqual(want, d) {
		t.Error("Write changed its Data")
	}
}

type failWriter struct{}

var errFull = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errFull }

func TestWriteError(t *testing.T) {
	if err := Write(failWriter{}, goldenData()); !errors.Is(err, errFull) {
		t.Errorf("Write = %v, want %v", err, errFull)
	}
}

// TestUpper checks the fixtures' bound against spec/policy.md §1.4: at
// δ = 0.05 and r* = 2%, 500 accepted photos certify with at most 4
// errors, 1,000 with at most 12.
func TestUpper(t *testing.T) {
	for _, tt := range []struct{ n, maxK int }{{500, 4}, {1000, 12}, {2000, 29}} {
		if u := upper(tt.maxK, tt.n, 0.05); u > 0.02 {
			t.Errorf("U(%d, %d) = %.5f, want ≤ 0.02", tt.maxK, tt.n, u)
		}
		if u := upper(tt.maxK+1, tt.n, 0.05); u <= 0.02 {
			t.Errorf("U(%d, %d) = %.5f, want > 0.02", tt.maxK+1, tt.n, u)
		}
	}
	if got, want := upper(0, 150, 0.05), 1-math.Pow(0.05, 1.0/150); got != want {
		t.Errorf("U(0, 150) = %v, want %v", got, want)
	}
}
