package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// outcome is what became of a manifest: the labels rows and the rejected
// lines, as Convert writes them or as the Reader returns them.
type outcome struct {
	Rows     []LabelRow
	Rejected []LineError
	Fatal    string
}

// readerOutcome reads a manifest with Reader and lays the records out as
// the labels table would hold them. Photos found in conflict are read
// again with Options.Conflicts, as a caller of Convert does.
func readerOutcome(data []byte, opts ConvertOptions) outcome {
	r := NewReader(bytes.NewReader(data), opts.Options)
	for {
		if _, err := r.Read(); err != nil && !errors.As(err, new(*LineError)) {
			break
		}
	}
	if cs := r.Conflicts(); len(cs) > 0 {
		opts.Conflicts = cs
	}
	return readerPass(data, opts)
}

func readerPass(data []byte, opts ConvertOptions) outcome {
	var o outcome
	r := NewReader(bytes.NewReader(data), opts.Options)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			o.Rejected = append(o.Rejected, *le)
			continue
		}
		if err != nil {
			o.Fatal = err.Error()
			break
		}
		split := SplitTrain
		if inValidation(sourceHash([]byte(rec.SourceRef)), opts.Seed, opts.ValidationFraction) {
			split = SplitValidation
		}
		for _, l := range rec.Labels {
			row := LabelRow{SourceRef: rec.SourceRef, Label: l.Index, ClassName: l.Name, Confidence: l.Confidence,
				JobName: rec.JobName, AnnotatedAt: rec.CreatedAt, Split: split}
			if rec.HumanKnown {
				h := rec.Human
				row.Human = &h
			}
			o.Rows = append(o.Rows, row)
		}
	}
	if o.Fatal == "" {
		if _, err := r.Classes(); err != nil {
			o.Fatal = err.Error()
		}
	}
	if o.Fatal != "" {
		// Convert writes nothing usable then: compare the error alone.
		return outcome{Fatal: o.Fatal}
	}
	return o
}

// convertAll runs Convert and reads back what it wrote.
func convertAll(tb testing.TB, data []byte, opts ConvertOptions) (outcome, *Summary, map[string]string) {
	tb.Helper()
	var labels, train, val, rejected bytes.Buffer
	sum, err := Convert(context.Background(), bytes.NewReader(data), opts,
		Outputs{Labels: &labels, Train: &train, Validation: &val, Rejected: &rejected})
	if ce := (*ConflictError)(nil); errors.As(err, &ce) {
		labels.Reset()
		train.Reset()
		val.Reset()
		rejected.Reset()
		opts.Conflicts = ce.Conflicts
		sum, err = Convert(context.Background(), bytes.NewReader(data), opts,
			Outputs{Labels: &labels, Train: &train, Validation: &val, Rejected: &rejected})
	}
	var o outcome
	if err != nil {
		o.Fatal = err.Error()
		return o, sum, nil
	}
	rows, err := ReadLabels(context.Background(), bytes.NewReader(labels.Bytes()), "labels.parquet")
	if err != nil {
		tb.Fatalf("read back labels: %v", err)
	}
	o.Rows = rows
	dec := json.NewDecoder(&rejected)
	for dec.More() {
		var r rejectedLine
		if err := dec.Decode(&r); err != nil {
			tb.Fatalf("rejected.jsonl: %v", err)
		}
		le := LineError{Line: r.Line, Field: r.Field, Reason: r.Reason, Lines: r.Lines}
		for k := Invalid; k <= Conflicting; k++ {
			if k.String() == r.Kind {
				le.Kind = k
			}
		}
		o.Rejected = append(o.Rejected, le)
	}
	return o, sum, map[string]string{"train": train.String(), "validation": val.String()}
}

var cmpOutcome = []cmp.Option{
	cmpopts.EquateNaNs(),
	cmpopts.EquateEmpty(),
}

// fixtures lists the manifests under testdata.
func convertFixtures(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob("testdata/*.manifest")
	if err != nil {
		tb.Fatal(err)
	}
	m := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		m[filepath.Base(p)] = data
	}
	m["generated"] = generateManifest(2000, 1)
	return m
}

// generate makes a manifest of n lines with every kind of line mixed in:
// good lines of two shapes, duplicates, blank lines, CRLF endings,
// unlabelled and broken lines.
func generateManifest(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 42))
	classes := []string{"product", "packaging", "full-length"}
	var b bytes.Buffer
	for i := range n {
		c := rng.IntN(len(classes))
		src := fmt.Sprintf("s3://bkt/p/%d.jpg", rng.IntN(n*9/10))
		switch k := rng.IntN(20); {
		case k == 0:
			b.WriteString("\n")
		case k == 1:
			fmt.Fprintf(&b, `{"source-ref":%q}`+"\n", src)
		case k == 2:
			fmt.Fprintf(&b, `{"source-ref":%q,"cat":%d,"cat-metadata":{"confidence":"%.2f","class-name":%q,"type":"groundtruth/image-classification"}}`+"\n", src, c, rng.Float64(), classes[c])
		case k == 3:
			fmt.Fprintf(&b, `{"source-ref":%q,"cat":%d,"cat-metadata":{"confidence":1.5}}`+"\n", src, c)
		case k == 4:
			fmt.Fprintf(&b, `{"source-ref":"s3://bkt/esc\u00e9\\"%d.jpg","cat":%d,"cat-metadata":{"class-name":%q}}`+"\r\n", i, c, classes[c])
		default:
			fmt.Fprintf(&b, `{"source-ref":%q,"cat":%d,"cat-metadata":{"confidence":%.2f,"job-name":"labeling-job/cat","class-name":%q,"human-annotated":"%s","creation-date":"2026-11-%02dT10:00:00.%06d","type":"groundtruth/image-classification"},"x":[1,{"y":null}]}`+"\n",
				src, c, rng.Float64(), classes[c], []string{"yes", "no"}[rng.IntN(2)], 1+rng.IntN(28), rng.IntN(1e6))
		}
	}
	return b.Bytes()
}

// TestConvertMatchesReader holds the parallel converter to the sequential
// Reader: the same rows in the same order, the same rejected lines, however
// the input is cut into chunks and however many parsers run.
func TestConvertMatchesReader(t *testing.T) {
	defer func(n int) { chunkBytes = n }(chunkBytes)
	optsList := map[string]ConvertOptions{
		"default":     {ValidationFraction: 0.3},
		"filters":     {ValidationFraction: 0.5, Seed: 3, Options: Options{MinConfidence: 0.5, HumanOnly: true, JobNames: []string{"cat"}}},
		"short lines": {Options: Options{MaxLineBytes: 200}},
	}
	for name, data := range convertFixtures(t) {
		for oname, opts := range optsList {
			want := readerOutcome(data, opts)
			for _, chunk := range []int{64, 1000, 512 << 10} {
				for _, workers := range []int{1, 3} {
					t.Run(fmt.Sprintf("%s/%s/chunk=%d/workers=%d", name, oname, chunk, workers), func(t *testing.T) {
						chunkBytes = chunk
						opts := opts
						opts.Workers = workers
						got, _, _ := convertAll(t, data, opts)
						if diff := cmp.Diff(want, got, cmpOutcome...); diff != "" {
							t.Errorf("Convert and Reader differ (-reader +convert):\n%s", diff)
						}
					})
				}
			}
		}
	}
}

func TestConvertSummary(t *testing.T) {
	data := generateManifest(5000, 9)
	opts := ConvertOptions{ValidationFraction: 0.2}
	want := readerOutcome(data, opts)
	got, sum, texts := convertAll(t, data, opts)
	if diff := cmp.Diff(want, got, cmpOutcome...); diff != "" {
		t.Fatalf("Convert and Reader differ (-reader +convert):\n%s", diff)
	}
	kinds := map[Kind]int{}
	for _, r := range want.Rejected {
		kinds[r.Kind]++
	}
	if got, want := sum.Invalid, kinds[Invalid]; got != want {
		t.Errorf("Invalid = %d, want %d", got, want)
	}
	if got, want := sum.Duplicate, kinds[Duplicate]; got != want {
		t.Errorf("Duplicate = %d, want %d", got, want)
	}
	if got, want := sum.Unlabelled, kinds[Unlabelled]; got != want {
		t.Errorf("Unlabelled = %d, want %d", got, want)
	}
	if got, want := sum.Train+sum.Validation, len(want.Rows); got != want {
		t.Errorf("Train+Validation = %d, want %d rows", got, want)
	}
	if got, want := sum.Lines+sum.Blank, strings.Count(string(data), "\n"); got != want {
		t.Errorf("Lines+Blank = %d, want %d", got, want)
	}
	if sum.LenientConfidence == 0 {
		t.Errorf("LenientConfidence = 0, want the string confidences counted")
	}
	// The augmented manifests hold exactly the rows of each split, in order,
	// with only source-ref and the label attribute.
	for _, split := range []string{SplitTrain, SplitValidation} {
		var wantLines []string
		for _, r := range got.Rows {
			if r.Split == split {
				b, _ := json.Marshal(r.SourceRef)
				wantLines = append(wantLines, fmt.Sprintf(`{"source-ref":%s,"cat":%d}`, b, r.Label))
			}
		}
		gotLines := strings.Split(strings.TrimSuffix(texts[split], "\n"), "\n")
		if diff := cmp.Diff(wantLines, gotLines); diff != "" {
			t.Errorf("%s.manifest (-want +got):\n%s", split, diff)
		}
		for _, l := range gotLines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%s.manifest line %q: %v", split, l, err)
			}
		}
	}
	var counted int
	for _, n := range sum.TrainByClass {
		counted += n
	}
	if counted != sum.Train {
		t.Errorf("TrainByClass adds up to %d, want %d", counted, sum.Train)
	}
}

func TestConvertMaxBad(t *testing.T) {
	data := generateManifest(3000, 5)
	_, _, _ = convertAll(t, data, ConvertOptions{})
	var labels bytes.Buffer
	_, err := Convert(context.Background(), bytes.NewReader(data), ConvertOptions{MaxBad: 5}, Outputs{Labels: &labels})
	var bad *BadLinesError
	if !errors.As(err, &bad) {
		t.Fatalf("err = %v, want a *BadLinesError", err)
	}
	if got, want := len(bad.Lines), 5; got != want {
		t.Errorf("bad lines listed = %d, want %d", got, want)
	}
	if !bad.More {
		t.Errorf("More = false, want true: the manifest has more bad lines")
	}
	for i := 1; i < len(bad.Lines); i++ {
		if bad.Lines[i].Line <= bad.Lines[i-1].Line {
			t.Errorf("bad lines out of order: %d after %d", bad.Lines[i].Line, bad.Lines[i-1].Line)
		}
	}
}

func TestConvertAttributeDetection(t *testing.T) {
	single := `{"source-ref":"s3://b/1.jpg","a":0,"a-metadata":{"class-name":"x","type":"groundtruth/image-classification"}}` + "\n" +
		`{"source-ref":"s3://b/2.jpg","a":1,"a-metadata":{"class-name":"y","type":"groundtruth/image-classification"}}` + "\n"
	two := `{"source-ref":"s3://b/1.jpg","a":0,"a-metadata":{"class-name":"x","type":"groundtruth/image-classification"},"b":1,"b-metadata":{"class-name":"y","type":"groundtruth/image-classification"}}` + "\n"
	for name, tt := range map[string]struct {
		data    string
		wantErr error
		attr    string
	}{
		"only attribute":        {data: single, attr: "a"},
		"after unlabelled line": {data: `{"source-ref":"s3://b/0.jpg"}` + "\n" + single, attr: "a"},
		"two attributes":        {data: two, wantErr: ErrAmbiguousAttribute},
		"no attribute":          {data: `{"source-ref":"s3://b/0.jpg"}` + "\n", wantErr: ErrNoAttribute},
	} {
		t.Run(name, func(t *testing.T) {
			var labels bytes.Buffer
			sum, err := Convert(context.Background(), strings.NewReader(tt.data), ConvertOptions{}, Outputs{Labels: &labels})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && sum.Attribute != tt.attr {
				t.Errorf("Attribute = %q, want %q", sum.Attribute, tt.attr)
			}
		})
	}
}

func TestConvertCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var labels bytes.Buffer
	_, err := Convert(ctx, bytes.NewReader(generateManifest(20000, 2)), ConvertOptions{}, Outputs{Labels: &labels})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// FuzzConvert holds Convert to the Reader on any input, with the input cut
// into small chunks.
func FuzzConvert(f *testing.F) {
	for _, data := range convertFixtures(f) {
		if len(data) < 4096 {
			f.Add(data)
		}
	}
	defer func(n int) { chunkBytes = n }(chunkBytes)
	chunkBytes = 37
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := ConvertOptions{ValidationFraction: 0.5, Options: Options{MaxLineBytes: 300}}
		want := readerOutcome(data, opts)
		got, _, _ := convertAll(t, data, opts)
		if diff := cmp.Diff(want, got, cmpOutcome...); diff != "" {
			t.Errorf("Convert and Reader differ (-reader +convert):\n%s", diff)
		}
	})
}

func TestSpecial8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'"', '\\', 0, 0x1f, 0x20, 0x21, 'a', 0x7f, 0x80, 0xff, 0x5b, 0x5d}
	for range 200000 {
		var b [8]byte
		want := false
		for i := range b {
			if rng.IntN(3) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = byte(rng.IntN(256))
			}
			want = want || b[i] == '"' || b[i] == '\\' || b[i] < 0x20
		}
		x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if got := special8(x) != 0; got != want {
			t.Fatalf("special8(% x) = %v, want %v", b, got, want)
		}
	}
}

func TestExactDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []string{"0", "1", "-0", "0.5", "0.94", "0.1", "0.30000000000000004", "123456789012345", "1234567890123456", "1e3", "", "-", ".", "1.", ".5", "0.000000000000001"}
	for range 100000 {
		cases = append(cases, strconv.FormatFloat(rng.Float64(), 'f', rng.IntN(16), 64))
	}
	for _, c := range cases {
		got, ok := exactDecimal([]byte(c))
		if !ok {
			continue
		}
		want, err := strconv.ParseFloat(c, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("exactDecimal(%q) = %v, ParseFloat gives %v, %v", c, got, want, err)
		}
	}
}
