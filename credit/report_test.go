package credit_test

// Tests of the reports the calibrate and credit steps render from a policy
// and a calibration (moved from internal/creditreport with the functions
// that build them).

import (
	"bytes"
	"html"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/credittest"
	"github.com/reviewlens/reviewlens/internal/creditreport"
)

func render(tb testing.TB, d creditreport.Data) string {
	tb.Helper()
	var buf bytes.Buffer
	if err := creditreport.Write(&buf, d); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// plots counts the page's SVG plots.
func plots(page string) int { return strings.Count(page, "<svg") }

// banner is the text of the page's header: its facts and its guarantee.
func banner(tb testing.TB, page string) string {
	tb.Helper()
	start, end := strings.Index(page, "<header>"), strings.Index(page, "</header>")
	if start < 0 || end < start {
		tb.Fatalf("no header in the page")
	}
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page[start:end], " ")
	return strings.Join(strings.Fields(html.UnescapeString(text)), " ")
}

// issueDay is the day of issue 11 item 9: 3,000 one-photo reviews, 1,755
// rejected automatically, the rest to a person.
func issueDay() *creditreport.Day {
	return &creditreport.Day{Day: "2026-12-01", Reviews: 3000, Photos: 3000, Reject: 1755, Manual: 1245, AutomationRate: 0.585,
		ByType: map[string]creditreport.Counts{"product": {Reviews: 1500, Reject: 880, Manual: 620}, "style": {Reviews: 1500, Reject: 875, Manual: 625}}}
}

// TestCreditReportBanner: the credit report states the certificate of the
// policy, as calibrate wrote it, and never contradicts the day's
// decisions below it (issue 11 item 9).
func TestCreditReportBanner(t *testing.T) {
	data, err := os.ReadFile("testdata/policy-partly-certified.yaml")
	if err != nil {
		t.Fatal(err)
	}
	policy, err := credit.ParsePolicy(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	fromPolicy, err := credit.PolicyReport(policy)
	if err != nil {
		t.Fatal(err)
	}
	fromPolicy.Title, fromPolicy.Day = "reviewlens credit: 2026-12-01, 3000 reviews", issueDay()

	tests := []struct {
		name    string
		data    creditreport.Data
		want    []string
		notWant []string
	}{
		{
			name: "a partly certified policy",
			data: fromPolicy,
			want: []string{
				"Guarantee per-review-type",
				"Target accuracy 98% of automatic decisions right",
				"δ 0.05 (the guarantee holds with probability 95%)",
				"Certified families 2 of 4",
				"With probability at least 95% over the calibration set, at least 98% of automatic rejects are right.",
				"Not certified: product reviews · grant; style reviews · grant. Their reviews go to a person.",
			},
			notWant: []string{"no decision families", "not set", "nothing is decided automatically"},
		},
		{
			// What the credit step rendered before: the day, and no
			// families. The banner said "The policy has no decision
			// families, so nothing is decided automatically: every review
			// goes to a person", above 58.5% decided automatically.
			name: "a day decided automatically, no certificate given",
			data: creditreport.Data{Title: "reviewlens credit", Day: issueDay()},
			want: []string{
				"The policy carries no certificate from calibrate, yet 1,755 reviews (58.5%) were decided automatically by its thresholds: those decisions carry no guarantee.",
				"Certified families 0 of 0",
			},
			notWant: []string{"nothing is decided automatically", "every review goes to a person"},
		},
		{
			name: "no family certified, yet decisions",
			data: func() creditreport.Data {
				d := fromPolicy
				d.Families = slices.Clone(d.Families)
				for i := range d.Families {
					d.Families[i].Certified = false
				}
				return d
			}(),
			want:    []string{"No family of the policy's certificate is certified, yet 1,755 reviews (58.5%) were decided automatically by its thresholds: those decisions carry no guarantee."},
			notWant: []string{"nothing is decided automatically"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := banner(t, render(t, tt.data))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("the banner lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("the banner says %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestPolicyReportDecisionScores: a schema 2 certificate, with a target per
// decision and a family not certified: the targets, what more data would
// buy, and the coverage certified beside the day's automation rate.
func TestPolicyReportDecisionScores(t *testing.T) {
	p, err := credit.DefaultPolicyFor([]string{"package", "product", "full-length", "half-length"})
	if err != nil {
		t.Fatal(err)
	}
	p = p.WithThresholds(map[string]credit.Threshold{"product": {Grant: math.Inf(1), Reject: 0.7}, "style": {Grant: math.Inf(1), Reject: 0.7}},
		map[string]any{
			"guarantee": "per-decision", "delta": 0.05,
			"target_accuracy": map[string]any{"grant": 0.99, "reject": 0.97},
			"families": []any{
				map[string]any{"family": "grants (every review type)", "decision": "grant", "certified": false, "photos": 2500, "target_accuracy": 0.99,
					"reason": "too many errors", "more_data": "not certified; with about 3,000 more labelled photos like these, about 73% of the photos likely to qualify would be granted automatically at 99%"},
				map[string]any{"family": "rejects (every review type)", "decision": "reject", "certified": true, "photos": 7500, "target_accuracy": 0.97,
					"threshold": 0.7, "coverage": 0.98, "accuracy": 0.985, "certified_accuracy": 0.9712, "decided": 7350, "wrong": 110},
			},
		})
	d, err := credit.PolicyReport(p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.CertifiedCoverage, 7350.0/10000; got != want {
		t.Errorf("certified coverage %g, want %g", got, want)
	}
	d.Day = issueDay()
	page := render(t, d)
	for _, want := range []string{
		"Target accuracy 99% for grants, 97% for rejects",
		"With probability at least 95% over the calibration set, at least 97% of automatic rejects are right.",
		"Not certified: grants (every review type). Its reviews go to a person.",
	} {
		if got := banner(t, page); !strings.Contains(got, want) {
			t.Errorf("the banner lacks %q:\n%s", want, got)
		}
	}
	for _, want := range []string{
		"Not certified; with about 3,000 more labelled photos like these, about 73% of the photos likely to qualify would be granted automatically at 99%.",
		"certified coverage 73.5% of the calibration set&#39;s decisions",
		"17.5 points below the reference 76%",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// TestCalibrationData: a calibration's report shows each family's curve on
// the decision score, its target, and what more data would buy.
func TestCalibrationData(t *testing.T) {
	w := credittest.Calibrated()
	p, err := credit.DefaultPolicyFor(w.Classes)
	if err != nil {
		t.Fatal(err)
	}
	set := w.LabelledSet(w.Photos(rand.New(rand.NewPCG(1, 1)), 800))
	cal, err := credit.Calibrate(p, set, credit.CalibrateOptions{Targets: map[string]float64{credit.Grant: 0.99, credit.Reject: 0.97}, Delta: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	d := credit.CalibrationReport(cal)
	if got, want := len(d.Families), 2; got != want {
		t.Fatalf("%d families, want %d", got, want)
	}
	for i, f := range d.Families {
		cf := cal.Families[i]
		if f.Name != cf.Name() || f.Target != cf.Target || len(f.Curve) != len(cf.Curve) || f.MoreData != cf.MoreData.Note {
			t.Errorf("family %d: %+v, want %s's", i, f, cf.Name())
		}
	}
	page := render(t, d)
	if got := plots(page); got != 2 {
		t.Errorf("%d plots, want one per family", got)
	}
	for _, want := range []string{"Guarantee per-decision", "Target accuracy 99% for grants, 97% for rejects"} {
		if got := banner(t, page); !strings.Contains(got, want) {
			t.Errorf("the banner lacks %q:\n%s", want, got)
		}
	}
	if note := cal.Families[0].MoreData.Note; note == "" || !strings.Contains(page, html.EscapeString(strings.ToUpper(note[:1])+note[1:])) {
		t.Errorf("the page lacks what more data would buy (%q)", note)
	}
}
