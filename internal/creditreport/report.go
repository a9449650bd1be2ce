// Package creditreport writes the HTML report of the credit policy: how its
// thresholds were certified on the calibration set and, optionally, what it
// decided on one day. It is the page a person reads before trusting the
// policy with credits, and the one they read the morning after.
//
// # The page
//
// One self-contained HTML file: inline CSS and hand-made SVG, no scripts, no
// fonts or stylesheets from elsewhere, so it can be mailed, archived in S3,
// printed, or read on a phone. It has these parts:
//
//   - a header: the title, when it was made (UTC), the policy version, the
//     guarantee, the target accuracy a* (per decision when they differ)
//     and δ, and in one plain sentence what is guaranteed ("With
//     probability at least 95% over the calibration set, at least 98% of
//     automatic grants are right."). It never contradicts the day below
//     it: a day with automatic decisions and no certified family says
//     that those decisions carry no guarantee;
//   - a card per decision family: the operating point (threshold on the
//     decision score, coverage, empirical and certified accuracy, N and K)
//     or, when the family is not certified, why, and that everything goes
//     to a person; what more labelled photos would buy; and its
//     risk–coverage curve (spec/policy.md §1.1) with the upper bound, the
//     target risk and the chosen point (not in a credit report, whose
//     families come from the policy's certificate);
//   - the confusion matrix of the calibration set, shaded by row;
//   - a reliability diagram per predicted class (§1.6), with its ECE;
//   - for a day's decisions: the automation rate next to the coverage the
//     certificate expects and the reference case's 76%, grants, rejects
//     and manual reviews, the share of them under a certified family, the
//     credits granted, why reviews went to a person, and a table per review
//     type (§3.1);
//   - notes.
//
// # Numbers
//
// Shares are percentages with one decimal ("81.2%"); a share that is not
// 0 or 1 never reads "0.0%" or "100.0%" but "<0.1%" or ">99.9%". Certified
// accuracies are rounded down, so rounding never makes a bound look better
// than it is. The target accuracy and the confidence 1−δ are shown as set
// ("98%", "95%"). Counts have thousands separators.
//
// Every string is escaped (html/template): class names, family names and
// reasons come from files and people.
package creditreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/internal/svgplot"
)

// ReferenceAutomationRate is the automation rate of the reference case
// (MUSINSA: 76% of inspections automated at 98% accuracy, spec/policy.md
// §3.1), shown next to a day's rate.
const ReferenceAutomationRate = 0.76

// Data is what the report shows. Write does not change it.
type Data struct {
	// Title heads the page; empty means "reviewlens credit policy".
	Title string
	// GeneratedAt is shown in UTC; the zero time is left out.
	GeneratedAt time.Time
	// PolicyVersion identifies the policy, e.g. a hash of its thresholds.
	PolicyVersion string
	// TargetAccuracy is a*, the accuracy each certified family guarantees,
	// e.g. 0.98; Delta is δ, the chance the guarantee fails over the draw of
	// the calibration set, e.g. 0.05. Out of (0, 1), the page states no
	// guarantee. A family's own Target, when set, is its a*.
	TargetAccuracy, Delta float64
	// Guarantee names the guarantee ("per-decision", "overall",
	// "per-review-type"); "" leaves it out.
	Guarantee string
	// CertifiedCoverage is the share of the calibration set's candidate
	// decisions the certified families decide automatically: what a day
	// like it should see automated. NaN or 0 leaves it out.
	CertifiedCoverage float64
	// Families are the decision families, one card each, in this order.
	Families []Family
	// Classes are the class names in index order, for Confusion.
	Classes []string
	// Confusion is [true][predicted] counts over the calibration set; nil
	// (or empty) leaves out the confusion matrix.
	Confusion [][]int
	// Reliability is one diagram per predicted class; nil leaves them out.
	Reliability []ClassReliability
	// Day is a day's decisions; nil makes a calibration report only.
	Day *Day
	// Notes are extra lines shown at the end (data, splits, caveats).
	Notes []string
}

// Family is one decision family, certified on its own (spec/policy.md §1.5).
type Family struct {
	// Name names it for people, e.g. "product reviews · grant".
	Name string
	// Decision is "grant" or "reject"; other values are shown as given.
	Decision string
	// Curve is the empirical risk–coverage curve by threshold, highest
	// threshold first.
	Curve []CurvePoint
	// Certified says an operating point was found.
	Certified bool
	// Threshold is the chosen operating point λ (+Inf when not certified).
	Threshold float64
	// N is the number of calibration photos at or above Threshold and K the
	// wrong ones among them.
	N, K int
	// Coverage is N over the family's calibration photos; Accuracy is
	// 1−K/N; CertifiedAccuracy is 1−U(K, N, δ).
	Coverage, Accuracy, CertifiedAccuracy float64
	// Reason says, in plain words, why the family is not certified.
	Reason string
	// Procedure names how the threshold was chosen (algorithm, grid, n_min).
	Procedure string
	// Target is the family's target accuracy, when it is not
	// Data.TargetAccuracy (0).
	Target float64
	// MoreData says what more labelled photos would buy ("" for nothing).
	MoreData string
	// Photos is the number of calibration decisions in the family (0 when
	// not known).
	Photos int
}

// CurvePoint is the curve at one threshold: Coverage = N/n, Risk = K/N the
// empirical selective risk and Bound its Clopper–Pearson upper bound.
// Points with N = 0 are not drawn.
type CurvePoint struct {
	Threshold, Coverage, Risk, Bound float64
	N, K                             int
}

// ClassReliability is the reliability diagram of the photos predicted as
// Class.
type ClassReliability struct {
	Class string
	// Bins are confidence bins in increasing order.
	Bins []Bin
	// ECE is Σ (n_b/n)·|accuracy_b − confidence_b| (spec/policy.md §1.6).
	ECE float64
}

// Bin is the photos predicted as a class with confidence in [Lo, Hi): N of
// them, their mean Confidence and their Accuracy.
type Bin struct {
	Lo, Hi               float64
	N                    int
	Confidence, Accuracy float64
}

// Day is what the policy decided on one day.
type Day struct {
	// Day names it, e.g. "2026-05-04".
	Day string
	// Reviews were decided: Grant and Reject automatically, Manual by a
	// person. Photos is the number of photos in them.
	Reviews, Grant, Reject, Manual int
	Photos                         int
	// AutomationRate is (Grant+Reject)/Reviews.
	AutomationRate float64
	// CreditsGranted is the credits of the day's automatic grants.
	CreditsGranted int64
	// ByType are the counts per review type ("product", "style").
	ByType map[string]Counts
	// ManualReasons count why reviews went to a person (missing
	// prediction, uncertain photo, ...).
	ManualReasons map[string]int
}

// Counts are a day's decisions of one review type.
type Counts struct {
	Reviews, Grant, Reject, Manual int
	Credits                        int64
}

//go:embed report.tmpl
var pageText string

var pageTmpl = template.Must(template.New("report").Parse(pageText))

// Write writes the report of d as an HTML page.
func Write(w io.Writer, d Data) error {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, newPage(d)); err != nil {
		return fmt.Errorf("render credit report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write credit report: %w", err)
	}
	return nil
}

// page is what the template sees: every string already formatted.
type page struct {
	Title         string
	Generated     string
	PolicyVersion string
	Guarantee     string // "per-decision", or ""
	Target        string // "98%", "99% for grants, 97% for rejects", or "" when not set
	Delta         string // "0.05"
	Confidence    string // "95%"
	NCertified    int
	NFamilies     int
	Lead          string // the plain sentence
	Scope         string // what the guarantee is relative to
	ToPerson      string // the families whose reviews all go to a person
	Families      []family
	Confusion     *confusion
	Reliability   []*reliability
	Day           *day
	Notes         []string
}

type family struct {
	Name      string
	Decision  string
	Class     string // CSS class of the decision: grant, reject or other
	Certified bool
	Threshold string
	Coverage  string
	Accuracy  string
	Certif    string
	N, K      string
	Reason    string
	Procedure string
	MoreData  string
	Plot      *rcPlot // nil when the family has no curve
}

func newPage(d Data) *page {
	p := &page{
		Title:         d.Title,
		PolicyVersion: d.PolicyVersion,
		NFamilies:     len(d.Families),
		Notes:         d.Notes,
	}
	if p.Title == "" {
		p.Title = "reviewlens credit policy"
	}
	if !d.GeneratedAt.IsZero() {
		p.Generated = d.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	p.Guarantee = d.Guarantee
	valid := d.TargetAccuracy > 0 && d.TargetAccuracy <= 1 && d.Delta > 0 && d.Delta < 1
	if d.TargetAccuracy > 0 && d.TargetAccuracy <= 1 {
		p.Target = pctAsSet(d.TargetAccuracy)
	}
	if t := familyTargets(d); t != "" {
		p.Target = t
	}
	if d.Delta > 0 && d.Delta < 1 {
		p.Delta = strconv.FormatFloat(d.Delta, 'g', -1, 64)
		p.Confidence = pctAsSet(1 - d.Delta)
	}
	targetRisk := math.NaN()
	if p.Target != "" {
		targetRisk = 1 - d.TargetAccuracy
	}

	var certified []Family
	var toPerson []string
	for i, f := range d.Families {
		risk, target := targetRisk, p.Target
		if f.Target > 0 && f.Target < 1 {
			risk, target = 1-f.Target, pctAsSet(f.Target)
		}
		p.Families = append(p.Families, newFamily(f, i, risk, target))
		if f.Certified {
			certified = append(certified, f)
		} else {
			toPerson = append(toPerson, f.Name)
		}
	}
	p.NCertified = len(certified)
	automatic := 0 // the day's automatic decisions
	if d.Day != nil {
		automatic = d.Day.Grant + d.Day.Reject
	}
	switch {
	case len(certified) == 0 && automatic > 0:
		// The thresholds decided, but no certificate vouches for them: say
		// so rather than contradict the day below.
		why := "The policy carries no certificate from calibrate"
		if len(d.Families) > 0 {
			why = "No family of the policy's certificate is certified"
		}
		p.Lead = fmt.Sprintf("%s, yet %s reviews (%s) were decided automatically by its thresholds: those decisions carry no guarantee.",
			why, count(int64(automatic)), pct(share(int64(automatic), int64(d.Day.Reviews))))
	case len(d.Families) == 0:
		p.Lead = "The policy has no decision families, so nothing is decided automatically: every review goes to a person."
	case len(certified) == 0:
		p.Lead = "No family is certified, so nothing is decided automatically: every review goes to a person."
	case !valid:
		p.Lead = "The target accuracy or δ is not set, so this page states no guarantee."
	default:
		p.Lead = guarantee(certified, d.TargetAccuracy, d.Delta)
		p.Scope = "It holds for photos like those of the calibration set, judged by its labels."
		if len(toPerson) > 0 {
			p.ToPerson = "Not certified: " + strings.Join(toPerson, "; ") + ". Its reviews go to a person."
			if len(toPerson) > 1 {
				p.ToPerson = strings.Replace(p.ToPerson, "Its reviews", "Their reviews", 1)
			}
		}
	}

	if len(d.Confusion) > 0 {
		p.Confusion = newConfusion(d.Classes, d.Confusion)
	}
	for i, r := range d.Reliability {
		p.Reliability = append(p.Reliability, newReliability(r, i))
	}
	if d.Day != nil {
		p.Day = newDay(d.Day, d.CertifiedCoverage)
	}
	return p
}

// guarantee says what the certified families guarantee, grants first, at
// each family's target (target when it has none).
func guarantee(certified []Family, target, delta float64) string {
	type part struct {
		key    string
		target float64
	}
	var parts []part
	seen := map[part]bool{}
	for _, f := range certified {
		pt := part{key: decisionKey(f.Decision), target: target}
		if f.Target > 0 && f.Target < 1 {
			pt.target = f.Target
		}
		if !seen[pt] {
			seen[pt] = true
			parts = append(parts, pt)
		}
	}
	rank := func(k string) int {
		switch k {
		case "grant":
			return 0
		case "reject":
			return 1
		case "":
			return 2
		}
		return 3
	}
	slices.SortStableFunc(parts, func(a, b part) int {
		if ra, rb := rank(a.key), rank(b.key); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.key, b.key)
	})
	var out []string
	for _, pt := range parts {
		var what string
		switch pt.key {
		case "grant":
			what = "automatic grants"
		case "reject":
			what = "automatic rejects"
		case "":
			what = "all automatic decisions"
		default:
			what = "automatic " + strconv.Quote(pt.key) + " decisions"
		}
		out = append(out, "at least "+pctAsSet(pt.target)+" of "+what+" are right")
	}
	return "With probability at least " + pctAsSet(1-delta) + " over the calibration set, " + strings.Join(out, ", and ") + "."
}

// familyTargets shows the families' own targets when they differ from
// one another: "99% for grants, 97% for rejects"; "" when they agree.
func familyTargets(d Data) string {
	byDecision := map[string]float64{}
	var keys []string
	distinct := map[float64]bool{}
	for _, f := range d.Families {
		t := f.Target
		if !(t > 0 && t < 1) {
			t = d.TargetAccuracy
		}
		k := decisionKey(f.Decision)
		if _, ok := byDecision[k]; !ok {
			keys = append(keys, k)
		}
		byDecision[k] = t
		distinct[t] = true
	}
	if len(distinct) < 2 {
		return ""
	}
	var parts []string
	for _, k := range keys {
		name := k + "s"
		if k == "" {
			name = "all decisions"
		}
		parts = append(parts, pctAsSet(byDecision[k])+" for "+name)
	}
	return strings.Join(parts, ", ")
}

func decisionKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// decisionClass maps a decision to a CSS class; the decision itself is
// not trusted as a class name.
func decisionClass(s string) string {
	switch decisionKey(s) {
	case "grant":
		return "grant"
	case "reject":
		return "reject"
	}
	return "other"
}

func newFamily(f Family, i int, targetRisk float64, target string) family {
	v := family{
		Name:      f.Name,
		Decision:  f.Decision,
		Class:     decisionClass(f.Decision),
		Certified: f.Certified,
		Procedure: f.Procedure,
		MoreData:  sentence(f.MoreData),
	}
	if len(f.Curve) > 0 {
		v.Plot = newRCPlot(f, i, targetRisk, target)
	}
	if v.Name == "" {
		v.Name = fmt.Sprintf("family %d", i+1)
	}
	if f.Certified {
		v.Threshold = formatNum(f.Threshold, 4)
		v.Coverage = pct(f.Coverage)
		v.Accuracy = pct(f.Accuracy)
		v.Certif = pctDown(f.CertifiedAccuracy)
		v.N = count(int64(f.N))
		v.K = count(int64(f.K))
		return v
	}
	v.Reason = sentence(f.Reason)
	return v
}

// sentence makes s read as a sentence (a capital first letter, a full
// stop at the end), so the page can follow it with another.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if r, n := utf8.DecodeRuneInString(s); unicode.IsLower(r) {
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}

// pct formats a share as a percentage with one decimal. A share strictly
// between 0 and 1 does not round to 0.0% or 100.0%. NaN and infinities
// are a dash.
func pct(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v > 0 && v < 0.0005:
		return "<0.1%"
	case v < 1 && v >= 0.9995:
		return ">99.9%"
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// pctDown is pct rounded down, for lower bounds: a certified 97.96% reads
// 97.9%, never 98.0%.
func pctDown(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	// The small slack keeps 0.981 (980.9999… per mille) at 98.1%.
	f := math.Floor(v*1000+1e-9) / 10
	if v > 0 && f == 0 {
		return "<0.1%"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + "%"
}

// pctAsSet formats a parameter a person set (a target, a confidence) as a
// percentage without trailing zeros: 0.98 is "98%", 0.975 "97.5%".
func pctAsSet(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e4)/100, 'f', -1, 64) + "%"
}

// points formats a difference of two shares in percentage points.
func points(v float64) string {
	return strconv.FormatFloat(math.Abs(v)*100, 'f', 1, 64)
}

// count formats n with thousands separators: 1234567 is "1,234,567".
var count = svgplot.Count

// formatNum formats v with at most digits significant digits; NaN and
// infinities are a dash.
func formatNum(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// share is n/of, NaN when of is 0.
func share(n, of int64) float64 {
	if of == 0 {
		return math.NaN()
	}
	return float64(n) / float64(of)
}

// confusion is the confusion matrix as the template sees it.
type confusion struct {
	Classes   []string
	Rows      []confusionRow
	ColTotals []string
	Total     string
}

type confusionRow struct {
	Class string
	Cells []confusionCell
	Total string
}

type confusionCell struct {
	Count string
	Share string // of the row
	Style template.CSS
	Diag  bool
	Zero  bool
	Title string
}

// newConfusion lays out m; a ragged matrix, or one larger than classes,
// is padded with zeros and "class i" names.
func newConfusion(classes []string, m [][]int) *confusion {
	n := max(len(classes), len(m))
	for _, row := range m {
		n = max(n, len(row))
	}
	names := make([]string, n)
	for i := range names {
		if i < len(classes) && classes[i] != "" {
			names[i] = classes[i]
		} else {
			names[i] = fmt.Sprintf("class %d", i)
		}
	}
	at := func(t, p int) int64 {
		if t < len(m) && p < len(m[t]) {
			return int64(m[t][p])
		}
		return 0
	}
	c := &confusion{Classes: names}
	cols := make([]int64, n)
	var total int64
	for t := range n {
		var sum int64
		for p := range n {
			sum += at(t, p)
		}
		row := confusionRow{Class: names[t], Total: count(sum)}
		for p := range n {
			k := at(t, p)
			s := share(k, sum)
			cell := confusionCell{
				Count: count(k),
				Share: pct(s),
				Diag:  t == p,
				Zero:  k == 0,
				Title: fmt.Sprintf("true %s, predicted %s: %s of %s (%s of the row)", names[t], names[p], count(k), count(sum), pct(s)),
			}
			if k > 0 {
				ramp := oranges
				if t == p {
					ramp = blues
				}
				bg := ramp.at(math.Sqrt(s))
				cell.Style = template.CSS("background-color: " + bg.hex() + "; color: " + bg.textColor())
			}
			row.Cells = append(row.Cells, cell)
			cols[p] += k
		}
		total += sum
		c.Rows = append(c.Rows, row)
	}
	for _, k := range cols {
		c.ColTotals = append(c.ColTotals, count(k))
	}
	c.Total = count(total)
	return c
}

// day is a day's decisions as the template sees them.
type day struct {
	Day            string
	Reviews        string
	Photos         string
	Rate           string
	RateVsRef      string // "1.7 points below the reference 76%"
	RateClass      string // above / below / equal, for colour
	RateVsCert     string // "the certificate expects 92.1% on a day like the calibration set", or ""
	Reference      string
	Credits        string
	Decisions      []decisionRow
	Bar            []barPart
	Mismatch       string
	Manual         string
	ManualShare    string
	Reasons        []reasonRow
	ReasonsUnknown string
	Types          []typeRow
	TypesTotal     *typeRow
}

type decisionRow struct {
	Name, Class, N, Share string
}

// barPart is a piece of the stacked bar of decisions, in percent of its
// width.
type barPart struct {
	X, W  coord
	Class string
	Title string
}

type reasonRow struct {
	Reason, N, Share string
}

type typeRow struct {
	Type                                   string
	Reviews, Grant, Reject, Manual, Credit string
	Rate                                   string
}

func newDay(d *Day, certified float64) *day {
	v := &day{
		Day:       d.Day,
		Reviews:   count(int64(d.Reviews)),
		Photos:    count(int64(d.Photos)),
		Rate:      pct(d.AutomationRate),
		Reference: pctAsSet(ReferenceAutomationRate),
		Credits:   count(d.CreditsGranted),
	}
	if v.Day == "" {
		v.Day = "the day"
	}
	switch diff := d.AutomationRate - ReferenceAutomationRate; {
	case math.IsNaN(diff) || math.IsInf(diff, 0):
		v.RateVsRef, v.RateClass = "no automation rate", "equal"
	case math.Abs(diff) < 0.0005:
		v.RateVsRef, v.RateClass = "as the reference "+v.Reference, "equal"
	case diff > 0:
		v.RateVsRef, v.RateClass = points(diff)+" points above the reference "+v.Reference, "above"
	default:
		v.RateVsRef, v.RateClass = points(diff)+" points below the reference "+v.Reference, "below"
	}

	if certified > 0 && certified <= 1 {
		v.RateVsCert = "certified coverage " + pct(certified) + " of the calibration set's decisions"
	}

	reviews := int64(d.Reviews)
	x := 0.0
	for _, r := range []struct {
		name, class string
		n           int
	}{{"Granted automatically", "grant", d.Grant}, {"Rejected automatically", "reject", d.Reject}, {"Sent to a person", "manual", d.Manual}} {
		s := share(int64(r.n), reviews)
		v.Decisions = append(v.Decisions, decisionRow{Name: r.name, Class: r.class, N: count(int64(r.n)), Share: pct(s)})
		if r.n > 0 && reviews > 0 {
			w := 100 * s
			v.Bar = append(v.Bar, barPart{X: coord(x), W: coord(w), Class: r.class, Title: fmt.Sprintf("%s: %s (%s)", r.name, count(int64(r.n)), pct(s))})
			x += w
		}
	}
	if sum := d.Grant + d.Reject + d.Manual; sum != d.Reviews {
		v.Mismatch = fmt.Sprintf("Grant, reject and manual add up to %s reviews, not %s: some reviews are counted twice or not at all.", count(int64(sum)), v.Reviews)
	}

	v.Manual = count(int64(d.Manual))
	v.ManualShare = pct(share(int64(d.Manual), reviews))
	reasons := slices.Sorted(maps.Keys(d.ManualReasons))
	slices.SortStableFunc(reasons, func(a, b string) int { return d.ManualReasons[b] - d.ManualReasons[a] })
	var explained int64
	for _, r := range reasons {
		n := int64(d.ManualReasons[r])
		explained += n
		name := r
		if strings.TrimSpace(name) == "" {
			name = "no reason given"
		}
		v.Reasons = append(v.Reasons, reasonRow{Reason: name, N: count(n), Share: pct(share(n, int64(d.Manual)))})
	}
	if rest := int64(d.Manual) - explained; rest > 0 && len(reasons) > 0 {
		v.ReasonsUnknown = fmt.Sprintf("%s manual reviews have no reason recorded.", count(rest))
	}

	if len(d.ByType) > 0 {
		for _, t := range slices.Sorted(maps.Keys(d.ByType)) {
			v.Types = append(v.Types, newTypeRow(t, d.ByType[t]))
		}
		total := newTypeRow("All", Counts{Reviews: d.Reviews, Grant: d.Grant, Reject: d.Reject, Manual: d.Manual, Credits: d.CreditsGranted})
		total.Rate = v.Rate
		v.TypesTotal = &total
	}
	return v
}

func newTypeRow(name string, c Counts) typeRow {
	if strings.TrimSpace(name) == "" {
		name = "no type"
	}
	return typeRow{
		Type:    name,
		Reviews: count(int64(c.Reviews)),
		Grant:   count(int64(c.Grant)),
		Reject:  count(int64(c.Reject)),
		Manual:  count(int64(c.Manual)),
		Credit:  count(c.Credits),
		Rate:    pct(share(int64(c.Grant+c.Reject), int64(c.Reviews))),
	}
}
