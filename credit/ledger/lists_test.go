package ledger

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
)

// marshalLists is EncodeLists as encoding/json writes the lists: the
// reference the fast encoder must match byte for byte, since the ledger
// compares stored lists as text.
func marshalLists(d credit.Decision) (classes, confs, reasons string, err error) {
	cs := make([]*string, len(d.Classes))
	for i := range d.Classes {
		if d.Classes[i] != "" {
			cs[i] = &d.Classes[i]
		}
	}
	fs := make([]*float64, len(d.Confidences))
	for i, c := range d.Confidences {
		if !math.IsNaN(c) {
			fs[i] = &d.Confidences[i]
		}
	}
	rs := d.Reasons
	if rs == nil {
		rs = []string{}
	}
	var b [3][]byte
	for i, v := range []any{cs, fs, rs} {
		if b[i], err = json.Marshal(v); err != nil {
			return "", "", "", err
		}
	}
	return string(b[0]), string(b[1]), string(b[2]), nil
}

func checkLists(t *testing.T, d credit.Decision) {
	t.Helper()
	c, f, r, err := EncodeLists(d)
	wc, wf, wr, werr := marshalLists(d)
	if (err != nil) != (werr != nil) {
		t.Fatalf("EncodeLists(%+v): err = %v, encoding/json: %v", d, err, werr)
	}
	if err != nil {
		return
	}
	if c != wc || f != wf || r != wr {
		t.Errorf("EncodeLists(%+v)\n got %s %s %s\nwant %s %s %s", d, c, f, r, wc, wf, wr)
	}
}

func TestEncodeListsLikeJSON(t *testing.T) {
	for _, d := range []credit.Decision{
		{},
		{Classes: []string{"product", ""}, Confidences: []float64{0.9876, math.NaN()},
			Reasons: []string{"photo 0: product 0.41 < 0.90 (grant threshold): uncertain", "photo 1 has no prediction: manual"}},
		{Reasons: []string{`quote " backslash \ amp & gt > tab 	 newline
 nul ` + "\x00", "bad utf8 \xff", "separators \u2028 \u2029", "≥ 0.95 ✓"}},
		{Confidences: []float64{0, -0.0, 1, 1e-7, 1e-6, 123456789, 1e21, 1e300, 5e-324, 0.1 + 0.2}},
		{Confidences: []float64{math.Inf(1)}},
	} {
		checkLists(t, d)
	}
}

func FuzzEncodeLists(f *testing.F) {
	f.Add("product", "photo 0: product 0.41 < 0.90", 0.41)
	f.Add("", "a\x00b\"c\\d&e>f\u2028", 1e-9)
	f.Add("\xff", "≥", math.NaN())
	f.Fuzz(func(t *testing.T, class, reason string, conf float64) {
		checkLists(t, credit.Decision{
			Classes:     []string{class, strings.ToUpper(class)},
			Confidences: []float64{conf, -conf},
			Reasons:     []string{reason, reason + reason},
		})
	})
}
