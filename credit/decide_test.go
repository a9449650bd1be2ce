package credit_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/credit"
)

// decidePolicy is a schema 1 policy (per-class thresholds on the top
// class's confidence), as old policy files are, with a rule of each kind:
// product and style (require any) and set (require all, two qualifying
// classes, one of them never granted automatically).
func decidePolicy() *credit.Policy {
	never := math.Inf(1)
	return &credit.Policy{
		Schema:  credit.SchemaConfidence,
		Version: "test",
		Classes: []string{"product", "packaging", "full-length", "half-length", "other"},
		ReviewTypes: map[string]credit.Rule{
			"product": {Qualifying: []string{"product"}, Require: credit.RequireAny, Credit: 500},
			"style":   {Qualifying: []string{"full-length"}, Credit: 1000}, // Require "" is any
			"set":     {Qualifying: []string{"product", "other"}, Require: credit.RequireAll, Credit: 800},
		},
		Thresholds: map[string]credit.Threshold{
			"product":     {Grant: 0.95, Reject: 0.97},
			"packaging":   {Grant: never, Reject: 0.9},
			"full-length": {Grant: 0.95, Reject: 0.97},
			"half-length": {Grant: never, Reject: 0.9},
			// other: no entry, so never and never.
		},
	}
}

func ok(index int, class string, confidence float64) credit.Photo {
	return credit.Photo{Index: index, Status: "ok", Class: class, Confidence: confidence}
}

func TestDecide(t *testing.T) {
	nan := math.NaN()
	missing := credit.Photo{Index: 1, Status: "missing", Reason: "no output object s3://out/r1-1.jpg.out"}
	invalid := credit.Photo{Index: 1, Status: "invalid", Reason: "probabilities: want 5, got 4"}
	for _, tc := range []struct {
		name        string
		review      credit.Review
		decision    string
		credit      int64
		reasons     []string
		classes     []string
		confidences []float64
	}{
		// product reviews: require any.
		{
			name:     "product: a full shot of the product",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "product", 0.97)}},
			decision: credit.Grant, credit: 500,
			reasons: []string{
				"photo 0: product 0.97 ≥ 0.95 (grant threshold): qualifies",
				"any qualifying photo earns the credit: grant",
			},
			classes: []string{"product"}, confidences: []float64{0.97},
		},
		{
			name:     "product: tie at the grant threshold grants",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "product", 0.95)}},
			decision: credit.Grant, credit: 500,
			reasons: []string{
				"photo 0: product 0.95 ≥ 0.95 (grant threshold): qualifies",
				"any qualifying photo earns the credit: grant",
			},
		},
		{
			name:     "product: just under the grant threshold",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "product", 0.9499)}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: product 0.9499 < 0.9500 (grant threshold): uncertain",
				"photo 0 is uncertain and no photo qualifies: manual",
			},
		},
		{
			name:     "product: packaging is rejected",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "packaging", 0.93)}},
			decision: credit.Reject,
			reasons: []string{
				"photo 0: packaging 0.93 ≥ 0.90 (reject threshold): does not qualify",
				"no photo qualifies: reject",
			},
		},
		{
			name:     "product: tie at the reject threshold rejects",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "packaging", 0.9), ok(1, "half-length", 0.9)}},
			decision: credit.Reject,
			reasons: []string{
				"photo 0: packaging 0.90 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1: half-length 0.90 ≥ 0.90 (reject threshold): does not qualify",
				"no photo qualifies: reject",
			},
		},
		{
			name:     "product: one qualifying photo is enough",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "packaging", 0.99), ok(1, "half-length", 0.4), ok(2, "product", 0.99)}},
			decision: credit.Grant, credit: 500,
			reasons: []string{
				"photo 0: packaging 0.99 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1: half-length 0.40 < 0.90 (reject threshold): uncertain",
				"photo 2: product 0.99 ≥ 0.95 (grant threshold): qualifies",
				"any qualifying photo earns the credit: grant",
			},
		},
		{
			name:     "product: one uncertain photo and none qualifying",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "packaging", 0.95), ok(1, "half-length", 0.62), ok(2, "product", 0.5)}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: packaging 0.95 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1: half-length 0.62 < 0.90 (reject threshold): uncertain",
				"photo 2: product 0.50 < 0.95 (grant threshold): uncertain",
				"photos 1 and 2 are uncertain and no photo qualifies: manual",
			},
		},
		{
			name:     "product: a full-length shot does not qualify",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "full-length", 0.98)}},
			decision: credit.Reject,
			reasons: []string{
				"photo 0: full-length 0.98 ≥ 0.97 (reject threshold): does not qualify",
				"no photo qualifies: reject",
			},
		},
		{
			name:     "product: a class with no thresholds is never decided",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "other", 0.999)}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: other 0.999 (reject threshold never): uncertain",
				"photo 0 is uncertain and no photo qualifies: manual",
			},
		},
		{
			name:     "product: a missing prediction goes to a person even beside a qualifying photo",
			review:   credit.Review{ID: "r1", Type: "product", Photos: []credit.Photo{ok(0, "product", 0.99), missing}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: product 0.99 ≥ 0.95 (grant threshold): qualifies",
				"photo 1: no prediction (missing: no output object s3://out/r1-1.jpg.out)",
				"photo 1 has no prediction: manual",
			},
			classes: []string{"product", ""}, confidences: []float64{0.99, nan},
		},
		{
			name:     "product: an invalid prediction goes to a person",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "packaging", 0.99), invalid}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: packaging 0.99 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1: no prediction (invalid: probabilities: want 5, got 4)",
				"photo 1 has no prediction: manual",
			},
			classes: []string{"packaging", ""}, confidences: []float64{0.99, nan},
		},
		{
			name: "product: several without a prediction, one with an unknown status",
			review: credit.Review{Type: "product", Photos: []credit.Photo{
				{Index: 0, Status: "missing"}, {Index: 1, Status: "invalid", Reason: "not JSON"}, {Index: 2, Status: "lost"},
			}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: no prediction (missing)",
				"photo 1: no prediction (invalid: not JSON)",
				`photo 2: no prediction (status "lost")`,
				"photos 0, 1 and 2 have no prediction: manual",
			},
			classes: []string{"", "", ""}, confidences: []float64{nan, nan, nan},
		},
		{
			name:     "product: no photos",
			review:   credit.Review{ID: "r9", Type: "product"},
			decision: credit.Manual,
			reasons:  []string{"the review has no photos: manual"},
			classes:  []string{}, confidences: []float64{},
		},
		{
			name:     "product: a class the policy does not know",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "selfie", 0.99)}},
			decision: credit.Manual,
			reasons: []string{
				`photo 0: class "selfie" is not in the policy: uncertain`,
				"photo 0 is uncertain and no photo qualifies: manual",
			},
		},
		{
			name:     "product: an ok photo without a confidence",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(0, "product", nan)}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: product with no confidence: uncertain",
				"photo 0 is uncertain and no photo qualifies: manual",
			},
		},
		{
			name:     "product: photos in index order whatever their order in the review",
			review:   credit.Review{Type: "product", Photos: []credit.Photo{ok(2, "packaging", 0.91), ok(0, "half-length", 0.92)}},
			decision: credit.Reject,
			reasons: []string{
				"photo 0: half-length 0.92 ≥ 0.90 (reject threshold): does not qualify",
				"photo 2: packaging 0.91 ≥ 0.90 (reject threshold): does not qualify",
				"no photo qualifies: reject",
			},
			classes: []string{"half-length", "packaging"}, confidences: []float64{0.92, 0.91},
		},
		// style reviews: require any (as Require "").
		{
			name:     "style: a full-length shot",
			review:   credit.Review{Type: "style", Photos: []credit.Photo{ok(0, "half-length", 0.62), ok(1, "full-length", 0.97)}},
			decision: credit.Grant, credit: 1000,
			reasons: []string{
				"photo 0: half-length 0.62 < 0.90 (reject threshold): uncertain",
				"photo 1: full-length 0.97 ≥ 0.95 (grant threshold): qualifies",
				"any qualifying photo earns the credit: grant",
			},
		},
		{
			name:     "style: a half-length shot is not enough",
			review:   credit.Review{Type: "style", Photos: []credit.Photo{ok(0, "half-length", 0.96)}},
			decision: credit.Reject,
			reasons: []string{
				"photo 0: half-length 0.96 ≥ 0.90 (reject threshold): does not qualify",
				"no photo qualifies: reject",
			},
		},
		{
			name:     "style: a photo of the product alone does not qualify",
			review:   credit.Review{Type: "style", Photos: []credit.Photo{ok(0, "product", 0.96)}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: product 0.96 < 0.97 (reject threshold): uncertain",
				"photo 0 is uncertain and no photo qualifies: manual",
			},
		},
		{
			name:     "style: a confidence just over the threshold shows enough digits",
			review:   credit.Review{Type: "style", Photos: []credit.Photo{ok(0, "full-length", 0.9500001)}},
			decision: credit.Grant, credit: 1000,
			reasons: []string{
				"photo 0: full-length 0.9500001 ≥ 0.9500000 (grant threshold): qualifies",
				"any qualifying photo earns the credit: grant",
			},
		},
		// set reviews: require all.
		{
			name:     "set: every photo qualifies",
			review:   credit.Review{Type: "set", Photos: []credit.Photo{ok(0, "product", 0.96), ok(1, "product", 0.95)}},
			decision: credit.Grant, credit: 800,
			reasons: []string{
				"photo 0: product 0.96 ≥ 0.95 (grant threshold): qualifies",
				"photo 1: product 0.95 ≥ 0.95 (grant threshold): qualifies",
				"every photo qualifies: grant",
			},
		},
		{
			name:     "set: one photo that does not qualify loses the credit",
			review:   credit.Review{Type: "set", Photos: []credit.Photo{ok(0, "product", 0.99), ok(1, "packaging", 0.95)}},
			decision: credit.Reject,
			reasons: []string{
				"photo 0: product 0.99 ≥ 0.95 (grant threshold): qualifies",
				"photo 1: packaging 0.95 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1 does not qualify and every photo must: reject",
			},
		},
		{
			name:     "set: a sure reject beats an uncertain photo",
			review:   credit.Review{Type: "set", Photos: []credit.Photo{ok(0, "packaging", 0.91), ok(1, "product", 0.5), ok(2, "half-length", 0.99)}},
			decision: credit.Reject,
			reasons: []string{
				"photo 0: packaging 0.91 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1: product 0.50 < 0.95 (grant threshold): uncertain",
				"photo 2: half-length 0.99 ≥ 0.90 (reject threshold): does not qualify",
				"photos 0 and 2 do not qualify and every photo must: reject",
			},
		},
		{
			name:     "set: an uncertain photo goes to a person",
			review:   credit.Review{Type: "set", Photos: []credit.Photo{ok(0, "product", 0.99), ok(1, "product", 0.7)}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: product 0.99 ≥ 0.95 (grant threshold): qualifies",
				"photo 1: product 0.70 < 0.95 (grant threshold): uncertain",
				"photo 1 is uncertain and every photo must qualify: manual",
			},
		},
		{
			name:     "set: a qualifying class whose grant is never",
			review:   credit.Review{Type: "set", Photos: []credit.Photo{ok(0, "product", 0.99), ok(1, "other", 0.99)}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: product 0.99 ≥ 0.95 (grant threshold): qualifies",
				"photo 1: other 0.99 (grant threshold never): uncertain",
				"photo 1 is uncertain and every photo must qualify: manual",
			},
		},
		{
			name:     "set: a missing prediction goes to a person even beside a sure reject",
			review:   credit.Review{Type: "set", Photos: []credit.Photo{ok(0, "packaging", 0.99), missing}},
			decision: credit.Manual,
			reasons: []string{
				"photo 0: packaging 0.99 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1: no prediction (missing: no output object s3://out/r1-1.jpg.out)",
				"photo 1 has no prediction: manual",
			},
			classes: []string{"packaging", ""}, confidences: []float64{0.99, nan},
		},
		{
			name:     "set: no photos",
			review:   credit.Review{Type: "set", Photos: []credit.Photo{}},
			decision: credit.Manual,
			reasons:  []string{"the review has no photos: manual"},
			classes:  []string{}, confidences: []float64{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decidePolicy().Decide(tc.review)
			if err != nil {
				t.Fatal(err)
			}
			want := credit.Decision{
				ReviewID: tc.review.ID, ReviewType: tc.review.Type, Decision: tc.decision, Credit: tc.credit,
				Reasons: tc.reasons, Classes: tc.classes, Confidences: tc.confidences,
			}
			if want.Classes == nil { // every photo ok, in order
				for _, p := range tc.review.Photos {
					want.Classes = append(want.Classes, p.Class)
					want.Confidences = append(want.Confidences, p.Confidence)
				}
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecideUnknownType(t *testing.T) {
	r := credit.Review{ID: "r7", Type: "video", Photos: []credit.Photo{ok(0, "product", 0.99), {Index: 1, Status: "missing", Reason: "gone"}}}
	got, err := decidePolicy().Decide(r)
	if !errors.Is(err, credit.ErrNoRule) {
		t.Fatalf("error %v, want one wrapping ErrNoRule", err)
	}
	if got, want := err.Error(), `review type "video" has no rule in the policy (rules for product, set, style)`; got != want {
		t.Errorf("error\n got %s\nwant %s", got, want)
	}
	want := credit.Decision{
		ReviewID: "r7", ReviewType: "video", Decision: credit.Manual,
		Reasons:     []string{`review type "video" has no rule in the policy (rules for product, set, style): manual`},
		Classes:     []string{"product", ""},
		Confidences: []float64{0.99, math.NaN()},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("Decide (-want +got):\n%s", diff)
	}
}

// TestDecideDoesNotChangeReview: Decide sorts a copy of the photos.
func TestDecideDoesNotChangeReview(t *testing.T) {
	photos := []credit.Photo{ok(1, "product", 0.99), ok(0, "packaging", 0.99)}
	if _, err := decidePolicy().Decide(credit.Review{Type: "product", Photos: photos}); err != nil {
		t.Fatal(err)
	}
	if photos[0].Index != 1 {
		t.Errorf("the review's photos were reordered: %+v", photos)
	}
}

// ExamplePolicy_Decide reads a policy and decides three reviews.
func ExamplePolicy_Decide() {
	const policyFile = `
version: "2026-11-28.1"
classes: [product, packaging, full-length, half-length, other]
review_types:
  product: {qualifying: [product], require: any, credit: 500}
  style: {qualifying: [full-length], require: any, credit: 1000}
thresholds:
  product: {grant: 0.95, reject: 0.97}
  packaging: {grant: never, reject: 0.9}
  full-length: {grant: 0.95, reject: 0.97}
  half-length: {grant: never, reject: 0.9}
`
	policy, err := credit.ParsePolicy(strings.NewReader(policyFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range []credit.Review{
		{ID: "r1", Type: "style", Photos: []credit.Photo{
			{Index: 0, Status: "ok", Class: "half-length", Confidence: 0.62},
			{Index: 1, Status: "ok", Class: "full-length", Confidence: 0.97},
		}},
		{ID: "r2", Type: "product", Photos: []credit.Photo{
			{Index: 0, Status: "ok", Class: "packaging", Confidence: 0.98},
		}},
		{ID: "r3", Type: "product", Photos: []credit.Photo{
			{Index: 0, Status: "ok", Class: "product", Confidence: 0.99},
			{Index: 1, Status: "missing", Reason: "no output object"},
		}},
	} {
		d, err := policy.Decide(r)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s %d\n", d.ReviewID, d.Decision, d.Credit)
		for _, reason := range d.Reasons {
			fmt.Println("  " + reason)
		}
	}
	// Output:
	// r1: grant 1000
	//   photo 0: half-length 0.62 < 0.90 (reject threshold): uncertain
	//   photo 1: full-length 0.97 ≥ 0.95 (grant threshold): qualifies
	//   any qualifying photo earns the credit: grant
	// r2: reject 0
	//   photo 0: packaging 0.98 ≥ 0.90 (reject threshold): does not qualify
	//   no photo qualifies: reject
	// r3: manual 0
	//   photo 0: product 0.99 ≥ 0.95 (grant threshold): qualifies
	//   photo 1: no prediction (missing: no output object)
	//   photo 1 has no prediction: manual
}

// scorePolicy is a schema 2 policy: thresholds per review type on the
// decision score.
func scorePolicy() *credit.Policy {
	never := math.Inf(1)
	return &credit.Policy{
		Schema:  credit.SchemaDecision,
		Version: "test-2",
		Classes: []string{"product", "packaging", "full-length", "half-length", "other"},
		ReviewTypes: map[string]credit.Rule{
			"product": {Qualifying: []string{"product"}, Require: credit.RequireAny, Credit: 500},
			"style":   {Qualifying: []string{"full-length"}, Credit: 1000},
			"set":     {Qualifying: []string{"product", "other"}, Require: credit.RequireAll, Credit: 800},
		},
		Guarantee: credit.PerDecision,
		Thresholds: map[string]credit.Threshold{
			"product": {Grant: 0.95, Reject: 0.97},
			"style":   {Grant: 0.95, Reject: never},
			"set":     {Grant: 0.9, Reject: 0.9},
		},
	}
}

// probs makes a photo from its probabilities, in the class order of
// scorePolicy.
func probs(index int, p ...float64) credit.Photo {
	classes := scorePolicy().Classes
	top := 0
	for i, v := range p {
		if v > p[top] {
			top = i
		}
	}
	ph := credit.Photo{Index: index, Status: "ok", Probabilities: p}
	if len(p) > 0 {
		ph.Class, ph.Confidence = classes[top], p[top]
	}
	return ph
}

func TestDecideScore(t *testing.T) {
	missing := credit.Photo{Index: 1, Status: "missing", Reason: "no output object s3://out/r1-1.jpg.out"}
	tests := []struct {
		name     string
		typ      string
		photos   []credit.Photo
		decision string
		credit   int64
		reasons  []string
	}{
		{"a full-length shot earns a style credit", "style", []credit.Photo{probs(0, 0.01, 0.01, 0.97, 0.01, 0)},
			credit.Grant, 1000, []string{
				"photo 0: P(qualifies for style) 0.97 ≥ 0.95 (grant threshold): qualifies",
				"any qualifying photo earns the credit: grant"}},
		{"half packaging, half half-length: a sure reject, though no class is sure", "product", []credit.Photo{probs(0, 0.02, 0.5, 0, 0.48, 0)},
			credit.Reject, 0, []string{
				"photo 0: P(qualifies for product) 0.02, P(does not) 0.98 ≥ 0.97 (reject threshold): does not qualify",
				"no photo qualifies: reject"}},
		{"a reject that is never automatic", "style", []credit.Photo{probs(0, 0.99, 0, 0.01, 0, 0)},
			credit.Manual, 0, []string{
				"photo 0: P(qualifies for style) 0.01, P(does not) 0.99 (reject threshold never): uncertain",
				"photo 0 is uncertain and no photo qualifies: manual"}},
		{"a likely grant below its threshold", "product", []credit.Photo{probs(0, 0.6, 0.4, 0, 0, 0)},
			credit.Manual, 0, []string{
				"photo 0: P(qualifies for product) 0.60 (0.60 < 0.95 grant threshold): uncertain",
				"photo 0 is uncertain and no photo qualifies: manual"}},
		{"a likely reject below its threshold", "product", []credit.Photo{probs(0, 0.04, 0.96, 0, 0, 0)},
			credit.Manual, 0, []string{
				"photo 0: P(qualifies for product) 0.04, P(does not) 0.96 (0.96 < 0.97 reject threshold): uncertain",
				"photo 0 is uncertain and no photo qualifies: manual"}},
		{"a tie at the grant threshold grants", "product", []credit.Photo{probs(0, 0.95, 0.05, 0, 0, 0)},
			credit.Grant, 500, []string{
				"photo 0: P(qualifies for product) 0.95 ≥ 0.95 (grant threshold): qualifies",
				"any qualifying photo earns the credit: grant"}},
		{"just under shows enough digits", "product", []credit.Photo{probs(0, 0.9499, 0.0501, 0, 0, 0)},
			credit.Manual, 0, []string{
				"photo 0: P(qualifies for product) 0.95 (0.9499 < 0.9500 grant threshold): uncertain",
				"photo 0 is uncertain and no photo qualifies: manual"}},
		{"the qualifying classes add up", "set", []credit.Photo{probs(0, 0.5, 0.05, 0, 0, 0.45), probs(1, 0.95, 0, 0, 0, 0.05)},
			credit.Grant, 800, []string{
				"photo 0: P(qualifies for set) 0.95 ≥ 0.90 (grant threshold): qualifies",
				"photo 1: P(qualifies for set) 1.00 ≥ 0.90 (grant threshold): qualifies",
				"every photo qualifies: grant"}},
		{"require all: one sure reject loses the credit", "set", []credit.Photo{probs(0, 0.99, 0, 0, 0, 0.01), probs(1, 0.02, 0.9, 0.08, 0, 0)},
			credit.Reject, 0, []string{
				"photo 0: P(qualifies for set) 1.00 ≥ 0.90 (grant threshold): qualifies",
				"photo 1: P(qualifies for set) 0.02, P(does not) 0.98 ≥ 0.90 (reject threshold): does not qualify",
				"photo 1 does not qualify and every photo must: reject"}},
		{"no probabilities: a person decides", "product", []credit.Photo{{Index: 0, Status: "ok", Class: "product", Confidence: 0.99}},
			credit.Manual, 0, []string{
				"photo 0: no usable prediction (want a probability in [0, 1] for each of the policy's 5 classes, got 0 values)",
				"photo 0 has no prediction: manual"}},
		{"probabilities of another class map", "product", []credit.Photo{probs(0, 0.99, 0.01)},
			credit.Manual, 0, []string{
				"photo 0: no usable prediction (want a probability in [0, 1] for each of the policy's 5 classes, got 2 values)",
				"photo 0 has no prediction: manual"}},
		{"a missing photo beside a qualifying one", "product", []credit.Photo{probs(0, 0.99, 0.01, 0, 0, 0), missing},
			credit.Manual, 0, []string{
				"photo 0: P(qualifies for product) 0.99 ≥ 0.95 (grant threshold): qualifies",
				"photo 1: no prediction (missing: no output object s3://out/r1-1.jpg.out)",
				"photo 1 has no prediction: manual"}},
	}
	p := scorePolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := p.Decide(credit.Review{ID: "r1", Type: tt.typ, Photos: tt.photos})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := d.Decision, tt.decision; got != want {
				t.Errorf("decision %s, want %s", got, want)
			}
			if got, want := d.Credit, tt.credit; got != want {
				t.Errorf("credit %d, want %d", got, want)
			}
			if diff := cmp.Diff(tt.reasons, d.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideOldPolicyFile: a schema 1 policy file (testdata/policy.yaml,
// written before decision scores) still decides on the top class's
// confidence, as before, whatever the probabilities say.
func TestDecideOldPolicyFile(t *testing.T) {
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := credit.ParsePolicy(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Schema, credit.SchemaConfidence; got != want {
		t.Fatalf("schema %d, want %d", got, want)
	}
	photo := credit.Photo{Index: 0, Status: "ok", Class: "product", Confidence: 0.96,
		Probabilities: []float64{0.5, 0, 0, 0, 0.5}} // P(qualifies for product) only 0.5
	d, err := p.Decide(credit.Review{ID: "r1", Type: "product", Photos: []credit.Photo{photo}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"photo 0: product 0.96 ≥ 0.95 (grant threshold): qualifies", "any qualifying photo earns the credit: grant"}
	if diff := cmp.Diff(want, d.Reasons); diff != "" || d.Decision != credit.Grant {
		t.Errorf("decision %s (-want +got reasons):\n%s", d.Decision, diff)
	}
}

// ExamplePolicy_Decide_score decides on decision scores (schema 2): a
// photo half packaging and half half-length is a sure reject for a
// product review, though the model is sure of no class.
func ExamplePolicy_Decide_score() {
	const policyFile = `
schema: 2
version: "2026-12-04.1"
classes: [product, packaging, full-length, half-length, other]
review_types:
  product: {qualifying: [product], require: any, credit: 500}
  style: {qualifying: [full-length], require: any, credit: 1000}
guarantee: per-decision
thresholds:
  product: {grant: 0.93, reject: 0.97}
  style: {grant: 0.93, reject: 0.97}
`
	policy, err := credit.ParsePolicy(strings.NewReader(policyFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range []credit.Review{
		{ID: "r1", Type: "style", Photos: []credit.Photo{
			{Index: 0, Status: "ok", Probabilities: []float64{0, 0.01, 0.3, 0.69, 0}},
			{Index: 1, Status: "ok", Probabilities: []float64{0, 0, 0.97, 0.03, 0}},
		}},
		{ID: "r2", Type: "product", Photos: []credit.Photo{
			{Index: 0, Status: "ok", Probabilities: []float64{0.01, 0.5, 0, 0.49, 0}},
		}},
	} {
		d, err := policy.Decide(r)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s %d\n", d.ReviewID, d.Decision, d.Credit)
		for _, reason := range d.Reasons {
			fmt.Println("  " + reason)
		}
	}
	// Output:
	// r1: grant 1000
	//   photo 0: P(qualifies for style) 0.30, P(does not) 0.70 (0.70 < 0.97 reject threshold): uncertain
	//   photo 1: P(qualifies for style) 0.97 ≥ 0.93 (grant threshold): qualifies
	//   any qualifying photo earns the credit: grant
	// r2: reject 0
	//   photo 0: P(qualifies for product) 0.01, P(does not) 0.99 ≥ 0.97 (reject threshold): does not qualify
	//   no photo qualifies: reject
}
