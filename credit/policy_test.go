package credit

import (
	"github.com/reviewlens/reviewlens/internal/golden"

	"bufio"
	"bytes"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func parsePolicyFile(tb testing.TB, name string) *Policy {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := ParsePolicy(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return p
}

func writePolicy(tb testing.TB, p *Policy) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := p.WriteYAML(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestParsePolicy(t *testing.T) {
	got := parsePolicyFile(t, "policy.yaml")
	want := &Policy{
		Schema:  SchemaConfidence, // a file with no schema key
		Version: "2026.1128",
		Classes: []string{"product", "packaging", "full-length", "half-length", "other"},
		ReviewTypes: map[string]Rule{
			"product": {Qualifying: []string{"product"}, Require: RequireAny, Credit: 500},
			"style":   {Qualifying: []string{"full-length"}, Require: RequireAny, Credit: 1000},
			"set":     {Qualifying: []string{"product"}, Require: RequireAll, Credit: 800},
		},
		Thresholds: map[string]Threshold{
			"product":     {Grant: 0.95, Reject: 0.97},
			"packaging":   {Grant: math.Inf(1), Reject: 0.9},
			"full-length": {Grant: 0.95, Reject: math.Inf(1)},
			"half-length": {Grant: math.Inf(1), Reject: 1},
			"other":       {Grant: math.Inf(1), Reject: math.Inf(1)},
		},
		Certificate: map[string]any{
			"target_accuracy": 0.98,
			"delta":           0.05,
			"statement":       "With probability at least 0.95 over the calibration set, each certified family's automatic decisions are right at least 0.98 of the time.",
			"families": []any{
				map[string]any{"family": "product reviews · grant", "certified": true, "threshold": 0.95, "coverage": 1.0, "decided": 412, "wrong": 3},
				map[string]any{"family": "style reviews · reject", "certified": false, "reason": "too few photos"},
			},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParsePolicy (-want +got):\n%s", diff)
	}
}

// TestParsePolicyVersion: the version is text, whatever YAML makes of it.
func TestParsePolicyVersion(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"string", `"2026-11-28.1"`, "2026-11-28.1"},
		{"plain string", `2026-11-28.1`, "2026-11-28.1"},
		{"integer", `3`, "3"},
		{"float kept as written", `1.10`, "1.10"},
		{"date", `2026-11-28`, "2026-11-28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := "version: " + tc.yaml + "\nclasses: [a, b]\nreview_types: {x: {qualifying: [a], credit: 1}}\n"
			p, err := ParsePolicy(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Version, tc.want; got != want {
				t.Errorf("version %q, want %q", got, want)
			}
		})
	}
}

// TestParsePolicyErrors reads every testdata/policy-bad-*.yaml; its first
// line says the error it must give: "# want: line 7: thresholds.produkt: ...".
func TestParsePolicyErrors(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "policy-bad-*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("%d bad policies in testdata, want every kind of error", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "policy-bad-"), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("%s: first line %q, want \"# want: <error>\"", path, first)
			}
			p, err := ParsePolicy(bytes.NewReader(data))
			if err == nil {
				t.Fatalf("ParsePolicy = %+v, want error %q", p, want)
			}
			if got := err.Error(); got != want {
				t.Errorf("error\n got %s\nwant %s", got, want)
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Errorf("error %T, want *PolicyError", err)
			}
		})
	}
}

func TestParsePolicyReadError(t *testing.T) {
	boom := errors.New("boom")
	_, err := ParsePolicy(iotest.ErrReader(boom))
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want one wrapping %v", err, boom)
	}
}

// TestPolicyGolden pins what WriteYAML writes for testdata/policy.yaml,
// and that the golden file reads back to the same policy and writes the
// same bytes. Refresh with go test ./credit -run TestPolicyGolden -update.
func TestPolicyGolden(t *testing.T) {
	for _, name := range []string{"policy", "policy-v2"} {
		t.Run(name, func(t *testing.T) { testPolicyGolden(t, name) })
	}
}

// testPolicyGolden reads testdata/NAME.yaml and writes it as
// testdata/NAME.golden.yaml, which reads back the same.
func testPolicyGolden(t *testing.T, name string) {
	p := parsePolicyFile(t, name+".yaml")
	out := writePolicy(t, p)
	golden.Check(t, name+".golden.yaml", out)

	back, err := ParsePolicy(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, out)
	}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("read back (-written +read):\n%s", diff)
	}
	if again := writePolicy(t, back); !bytes.Equal(again, out) {
		t.Errorf("written twice, differs:\n%s\nthen\n%s", out, again)
	}
}

// TestPolicyRoundTrip writes policies made in Go and reads them back.
func TestPolicyRoundTrip(t *testing.T) {
	cert := map[string]any{
		"target_accuracy": 0.98,
		"whole":           1.0, // a float64 stays one
		"count":           7,
		"none":            nil,
		"note":            "a: colon, and \"quotes\"",
		"families": []any{
			map[string]any{"family": "style reviews · grant", "certified": true, "threshold": 0.953125, "coverage": 0.0},
		},
		"by_index": map[any]any{1: 2.0, "two": []any{3.0, 4}},
	}
	for _, tc := range []struct {
		name string
		p    *Policy
	}{
		{"default", DefaultPolicy()},
		{"calibrated", DefaultPolicy().WithThresholds(map[string]Threshold{
			"product": {Grant: 0.953125, Reject: 1},
			"style":   {Grant: math.Inf(1), Reject: 0.5 + 1e-7},
		}, cert)},
		{"overall", func() *Policy {
			p := DefaultPolicy()
			p.Guarantee = Overall
			return p.WithThresholds(map[string]Threshold{"product": {Grant: 0.9, Reject: 0.9}}, nil)
		}()},
		{"schema 1, calibrated", confidencePolicy().WithThresholds(map[string]Threshold{
			"product":     {Grant: 0.953125, Reject: 1},
			"full-length": {Grant: 0, Reject: 0.1 + 0.2},
			"packaging":   {Grant: math.Inf(1), Reject: 1e-7},
		}, cert)},
		{"names that look like other things", &Policy{
			Schema:      SchemaConfidence,
			Version:     "2026",
			Classes:     []string{"true", "1", "null", "never", "a: b", "#hash"},
			ReviewTypes: map[string]Rule{"yes": {Qualifying: []string{"1", "null"}, Require: RequireAll, Credit: 0}},
			Thresholds:  map[string]Threshold{"never": {Grant: 0.5, Reject: 0.5}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := writePolicy(t, tc.p)
			back, err := ParsePolicy(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("reading back: %v\n%s", err, out)
			}
			want := tc.p.WithThresholds(tc.p.Thresholds, tc.p.Certificate) // every class has a threshold
			for name, r := range want.ReviewTypes {
				if r.Require == "" {
					r.Require = RequireAny
					want.ReviewTypes[name] = r
				}
			}
			if diff := cmp.Diff(want, back); diff != "" {
				t.Errorf("read back (-written +read):\n%s\n%s", diff, out)
			}
		})
	}
}

// confidencePolicy is the default rule as a schema 1 policy: per-class
// thresholds, every one never.
func confidencePolicy() *Policy {
	p := DefaultPolicy()
	p.Schema, p.Guarantee = SchemaConfidence, ""
	p.Thresholds = map[string]Threshold{}
	for _, c := range p.Classes {
		p.Thresholds[c] = neverThreshold
	}
	return p
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Schema != SchemaDecision || p.Guarantee != PerDecision {
		t.Errorf("schema %d, guarantee %q: want %d and %s", p.Schema, p.Guarantee, SchemaDecision, PerDecision)
	}
	if got, want := slices.Sorted(maps.Keys(p.Thresholds)), []string{"product", "style"}; !slices.Equal(got, want) {
		t.Errorf("thresholds for %v, want for the review types %v", got, want)
	}
	for c, got := range p.Thresholds {
		if !math.IsInf(got.Grant, 1) || !math.IsInf(got.Reject, 1) {
			t.Errorf("thresholds of %s: %+v, want never and never", c, got)
		}
	}
	for typ, want := range map[string]Rule{
		"product": {Qualifying: []string{"product"}, Require: RequireAny, Credit: 500},
		"style":   {Qualifying: []string{"full-length"}, Require: RequireAny, Credit: 1000},
	} {
		got, err := p.RuleFor(typ)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("rule of %s (-want +got):\n%s", typ, diff)
		}
	}
	// Each call is a new policy.
	p.Classes[0] = "changed"
	if DefaultPolicy().Classes[0] != "product" {
		t.Error("DefaultPolicy shares its classes between calls")
	}
}

func TestPolicyCheckClasses(t *testing.T) {
	p := DefaultPolicy() // product, packaging, full-length, half-length, other
	for _, tc := range []struct {
		name    string
		classes []string
		want    string // "" = no error
	}{
		{"same", []string{"product", "packaging", "full-length", "half-length", "other"}, ""},
		{"order differs", []string{"product", "packaging", "half-length", "full-length", "other"},
			`the policy's classes differ from the model's: class 2 is "full-length" in the policy and "half-length" in the model (policy: product, packaging, full-length, half-length, other; model: product, packaging, half-length, full-length, other)`},
		{"model has fewer", []string{"product", "packaging", "full-length", "half-length"},
			`the policy's classes differ from the model's: class 4 is "other" in the policy and missing in the model (policy: product, packaging, full-length, half-length, other; model: product, packaging, full-length, half-length)`},
		{"model has more", []string{"product", "packaging", "full-length", "half-length", "other", "selfie"},
			`the policy's classes differ from the model's: class 5 is missing in the policy and "selfie" in the model (policy: product, packaging, full-length, half-length, other; model: product, packaging, full-length, half-length, other, selfie)`},
		{"none", nil,
			`the policy's classes differ from the model's: class 0 is "product" in the policy and missing in the model (policy: product, packaging, full-length, half-length, other; model: )`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.CheckClasses(tc.classes)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
			if !errors.Is(err, ErrClassMismatch) {
				t.Errorf("error %v does not wrap ErrClassMismatch", err)
			}
		})
	}
}

func TestPolicyRuleFor(t *testing.T) {
	p := DefaultPolicy()
	r, err := p.RuleFor("style")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Credit, int64(1000); got != want {
		t.Errorf("style credit %d, want %d", got, want)
	}
	_, err = p.RuleFor("video")
	if got, want := err.Error(), `review type "video" has no rule in the policy (rules for product, style)`; got != want {
		t.Errorf("error\n got %s\nwant %s", got, want)
	}
	if !errors.Is(err, ErrNoRule) {
		t.Errorf("error %v does not wrap ErrNoRule", err)
	}
}

func TestPolicyWithThresholds(t *testing.T) {
	p := parsePolicyFile(t, "policy.yaml")
	before := writePolicy(t, p)
	thresholds := map[string]Threshold{"product": {Grant: 0.9, Reject: 0.8}}
	cert := map[string]any{"families": []any{map[string]any{"certified": true}}}
	q := p.WithThresholds(thresholds, cert)

	want := map[string]Threshold{
		"product":     {Grant: 0.9, Reject: 0.8},
		"packaging":   {Grant: math.Inf(1), Reject: math.Inf(1)},
		"full-length": {Grant: math.Inf(1), Reject: math.Inf(1)},
		"half-length": {Grant: math.Inf(1), Reject: math.Inf(1)},
		"other":       {Grant: math.Inf(1), Reject: math.Inf(1)},
	}
	if diff := cmp.Diff(want, q.Thresholds); diff != "" {
		t.Errorf("thresholds (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(cert, q.Certificate); diff != "" {
		t.Errorf("certificate (-want +got):\n%s", diff)
	}
	if q.Version != p.Version || !cmp.Equal(q.ReviewTypes, p.ReviewTypes) || !cmp.Equal(q.Classes, p.Classes) {
		t.Errorf("WithThresholds changed more than thresholds and certificate: %+v", q)
	}

	// The copy shares nothing: changing it, or what it was made from,
	// changes nothing else.
	thresholds["product"] = Threshold{}
	cert["families"].([]any)[0].(map[string]any)["certified"] = false
	q.Classes[0] = "changed"
	q.ReviewTypes["product"].Qualifying[0] = "changed"
	q.Certificate["families"].([]any)[0] = nil
	if got := q.Thresholds["product"]; got != (Threshold{Grant: 0.9, Reject: 0.8}) {
		t.Errorf("thresholds changed with the map given: %+v", got)
	}
	if got := writePolicy(t, p); !bytes.Equal(got, before) {
		t.Errorf("the policy changed with its copy:\n%s\nthen\n%s", before, got)
	}

	if q := p.WithThresholds(nil, nil); q.Certificate != nil {
		t.Errorf("certificate %v, want nil", q.Certificate)
	}
}

// TestPolicyValidate: a policy made in Go is checked before it is written.
func TestPolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(p *Policy)
		want   string
	}{
		{"no version", func(p *Policy) { p.Version = "" }, `version: missing, want a string such as "2026-11-28.1"`},
		{"empty class", func(p *Policy) { p.Classes[3] = "" }, `classes[3]: empty, want a class name`},
		{"no review types", func(p *Policy) { p.ReviewTypes = nil }, `review_types: missing, want a rule per review type, such as product: {qualifying: [product], credit: 500}`},
		{"review type without a name", func(p *Policy) { p.ReviewTypes[""] = p.ReviewTypes["style"] }, `review_types: a review type with no name`},
		{"unknown qualifying class", func(p *Policy) {
			p.ReviewTypes["style"] = Rule{Qualifying: []string{"full-length", "selfie"}, Credit: 1}
		}, `review_types.style.qualifying[1]: unknown class "selfie" (classes: product, packaging, full-length, half-length, other)`},
		{"require", func(p *Policy) { p.ReviewTypes["style"] = Rule{Qualifying: []string{"full-length"}, Require: "ANY"} }, `review_types.style.require: "ANY", want any or all`},
		{"credit", func(p *Policy) { p.ReviewTypes["style"] = Rule{Qualifying: []string{"full-length"}, Credit: -1} }, `review_types.style.credit: -1, want a whole number ≥ 0`},
		{"threshold of an unknown review type", func(p *Policy) { p.Thresholds["selfie"] = Threshold{Grant: 0.9, Reject: 0.9} }, `thresholds.selfie: unknown review type (review types: product, style)`},
		{"a class threshold in schema 2", func(p *Policy) { p.Thresholds["packaging"] = Threshold{Grant: 0.9, Reject: 0.9} }, `thresholds.packaging: a class, but schema 2 thresholds are per review type (review types: product, style); per-class thresholds are schema 1`},
		{"decision threshold of 0.5", func(p *Policy) { p.Thresholds["style"] = Threshold{Grant: 0.5, Reject: 0.9} }, `thresholds.style.grant: 0.5, want a number above 0.5 and at most 1, or never (a threshold at or below 0.5 would both grant and reject a photo)`},
		{"decision threshold NaN", func(p *Policy) { p.Thresholds["style"] = Threshold{Grant: 0.9, Reject: math.NaN()} }, `thresholds.style.reject: NaN, want a number above 0.5 and at most 1, or never (a threshold at or below 0.5 would both grant and reject a photo)`},
		{"unknown guarantee", func(p *Policy) { p.Guarantee = "per-class" }, `guarantee: "per-class", want per-decision, overall or per-review-type`},
		{"unknown schema", func(p *Policy) { p.Schema = 3 }, `schema: 3, want 2 (thresholds on the decision score) or 1 (per-class thresholds on the top class's confidence)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy()
			tc.change(p)
			err := p.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name   string
		change func(p *Policy)
		want   string
	}{
		{"schema 1: threshold of an unknown class", func(p *Policy) { p.Thresholds["selfie"] = Threshold{} }, `thresholds.selfie: unknown class (classes: product, packaging, full-length, half-length, other)`},
		{"schema 1: NaN", func(p *Policy) { p.Thresholds["other"] = Threshold{Grant: math.NaN()} }, `thresholds.other.grant: NaN, want a number in [0, 1] or never`},
		{"schema 1: minus infinity", func(p *Policy) { p.Thresholds["other"] = Threshold{Reject: math.Inf(-1)} }, `thresholds.other.reject: -Inf, want a number in [0, 1] or never`},
		{"schema 1: above one", func(p *Policy) { p.Thresholds["other"] = Threshold{Reject: 1.25} }, `thresholds.other.reject: 1.25, want a number in [0, 1] or never`},
		{"schema 1: a guarantee", func(p *Policy) { p.Guarantee = Overall }, `guarantee: "overall" in a schema 1 policy, whose thresholds are per class: want none, or schema: 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := confidencePolicy()
			tc.change(p)
			err := p.Validate()
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got %s\nwant %s", got, tc.want)
			}
			var buf bytes.Buffer
			if err := p.WriteYAML(&buf); err == nil || buf.Len() > 0 {
				t.Errorf("WriteYAML wrote %d bytes, error %v: want nothing written and an error", buf.Len(), err)
			}
		})
	}
}

// FuzzParsePolicy: any input is refused or read; what is read writes a
// file that reads back to the same policy and writes the same bytes.
func FuzzParsePolicy(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := ParsePolicy(bytes.NewReader(in))
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *PolicyError", err, err)
			}
			return
		}
		var out bytes.Buffer
		if err := p.WriteYAML(&out); err != nil {
			t.Fatalf("WriteYAML of a policy ParsePolicy read: %v", err)
		}
		back, err := ParsePolicy(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, out.Bytes())
		}
		if diff := cmp.Diff(p, back, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Certificate" }, cmp.Ignore())); diff != "" {
			t.Fatalf("read back (-written +read):\n%s", diff)
		}
		var again bytes.Buffer
		if err := back.WriteYAML(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatalf("written twice, differs:\n%s\nthen\n%s", out.Bytes(), again.Bytes())
		}
	})
}

func TestDefaultPolicyFor(t *testing.T) {
	p, err := DefaultPolicyFor([]string{"package", "product", "full-length", "half-length"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Classes, []string{"package", "product", "full-length", "half-length"}; !slices.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if got := p.ReviewTypes["style"].Qualifying; !slices.Equal(got, []string{"full-length"}) {
		t.Errorf("style qualifying %v, want [full-length]", got)
	}

	shop := []string{"box", "item: worn", "outfit", "true"}
	_, err = DefaultPolicyFor(shop)
	if !errors.Is(err, ErrNoDefaultRule) {
		t.Fatalf("error %v, want it to wrap ErrNoDefaultRule", err)
	}
	for _, want := range []string{`no class named "product" or "full-length" among "box", "item: worn", "outfit", "true"`, ExamplePolicy(shop)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The example reads as a policy, for those classes.
	ex, err := ParsePolicy(strings.NewReader(ExamplePolicy(shop)))
	if err != nil {
		t.Fatalf("the example does not read: %v\n%s", err, ExamplePolicy(shop))
	}
	if !slices.Equal(ex.Classes, shop) || ex.Schema != SchemaDecision {
		t.Errorf("example: classes %v, schema %d", ex.Classes, ex.Schema)
	}
}

// The shipped example policy reads, and is a schema 2 policy.
func TestExamplePolicyFile(t *testing.T) {
	p := parsePolicyFile(t, "../../examples/policy.yaml")
	if p.Schema != SchemaDecision || p.Guarantee == "" || len(p.ReviewTypes) == 0 {
		t.Errorf("examples/policy.yaml: %+v", p)
	}
}
