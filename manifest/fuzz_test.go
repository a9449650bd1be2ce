package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixtureSeeds returns every manifest under testdata, and every line of
// them (without line endings, BOM kept).
func fixtureSeeds(tb testing.TB) (files, lines [][]byte) {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.manifest"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(paths) == 0 {
		tb.Fatal("no manifests under testdata")
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		files = append(files, data)
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			lines = append(lines, bytes.TrimSuffix(line, []byte("\r")))
		}
	}
	return files, lines
}

// nearMisses are lines one step away from what the fast parser reads, in
// every direction it must either refuse or read exactly as the generic
// parser does.
var nearMisses = func() []string {
	const (
		src  = `"source-ref":"s3://reviewlens-photos/fuzz/a.jpg"`
		meta = `"confidence":0.94,"job-name":"labeling-job/review-photo-category","class-name":"product","human-annotated":"yes","creation-date":"2026-11-28T09:14:07.518331","type":"groundtruth/image-classification"`
	)
	line := func(label, metadata string, extra ...string) string {
		parts := append([]string{src, `"review-photo-category":` + label, `"review-photo-category-metadata":{` + metadata + `}`}, extra...)
		return "{" + strings.Join(parts, ",") + "}"
	}
	withMeta := func(old, new string) string { return line("0", strings.Replace(meta, old, new, 1)) }
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	many := func(n int, prefix string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `,"%s%d":%d`, prefix, i, i)
		}
		return b.String()[1:]
	}
	return []string{
		line("0", meta),
		line(`"0"`, meta),
		line("3", ""),
		// Escapes: in keys (the same key once decoded), in values.
		`{` + src + `,"review-photo-categor\u0079":0,"review-photo-category-metadata":{` + meta + `}}`,
		`{` + src + `,"review\u002dphoto-category":0,"review-photo-category-metadata":{` + meta + `}}`,
		`{` + src + `,"review-photo-category":0,"review-photo-category\u002dmetadata":{` + meta + `}}`,
		`{"source\u002dref":"s3://reviewlens-photos/fuzz/a.jpg","review-photo-category":0,"review-photo-category-metadata":{` + meta + `}}`,
		`{"source-ref":"s3://reviewlens-photos/fuzz/a\u002ejpg","review-photo-category":0,"review-photo-category-metadata":{` + meta + `}}`,
		`{"source-ref":"s3:\/\/reviewlens-photos\/fuzz\/a.jpg","review-photo-category":0,"review-photo-category-metadata":{` + meta + `}}`,
		withMeta(`"class-name":"product"`, `"class-name":"pro\"duct"`),
		withMeta(`"class-name":"product"`, `"class-name":"\ud800"`),
		withMeta(`"class-name":"product"`, `"class-name":"Ärmel\u2028"`),
		withMeta(`"confidence"`, `"confidenc\u0065"`),
		line(`"\u0030"`, meta),
		// Control characters, raw and escaped.
		withMeta(`"job-name":"labeling-job/review-photo-category"`, "\"job-name\":\"labeling-job/\treview\""),
		withMeta(`"job-name":"labeling-job/review-photo-category"`, `"job-name":"labeling-job/\treview"`),
		line("0", meta) + "\r",
		" \t" + line("0", meta) + " \t\r\n",
		"\xef\xbb\xbf" + line("0", meta),
		// Duplicates at every depth, and keys differing only in case.
		line("0", meta, `"extra":{"a":1,"a":2}`),
		line("0", meta, `"extra":[{"a":1},{"b":{"c":1,"c":1}}]`),
		line("0", meta, `"extra":{"a":1,"A":2}`),
		line("0", meta, `"Source-Ref":"s3://b/other.jpg"`),
		line("0", meta, `"review-photo-category":1`),
		line("0", meta+`,"confidence":0.2`),
		line("0", meta+`,"Confidence":0.2`),
		// Nesting.
		line("0", meta, `"extra":`+deep(31)),
		line("0", meta, `"extra":`+deep(33)),
		line("0", meta, `"extra":`+deep(200)),
		line("0", meta, `"extra":`+deep(10001)),
		line("0", meta+`,"extra":`+deep(40)),
		// Numbers.
		line("-0", meta),
		line("0.0", meta),
		line("1e0", meta),
		line("00", meta),
		line("+1", meta),
		line("999999999", meta),
		line("1000000000", meta),
		line("18446744073709551617", meta),
		withMeta(`"confidence":0.94`, `"confidence":-0`),
		withMeta(`"confidence":0.94`, `"confidence":-0.0`),
		withMeta(`"confidence":0.94`, `"confidence":1e400`),
		withMeta(`"confidence":0.94`, `"confidence":1E-400`),
		withMeta(`"confidence":0.94`, `"confidence":1.0e+0`),
		withMeta(`"confidence":0.94`, `"confidence":1.`),
		withMeta(`"confidence":0.94`, `"confidence":.5`),
		withMeta(`"confidence":0.94`, `"confidence":01`),
		withMeta(`"confidence":0.94`, `"confidence":NaN`),
		withMeta(`"confidence":0.94`, `"confidence":"0.5"`),
		withMeta(`"confidence":0.94`, `"confidence":" 0.5 "`),
		withMeta(`"confidence":0.94`, `"confidence":"0x1p-1"`),
		withMeta(`"confidence":0.94`, `"confidence":true`),
		line("0", meta, `"n":-`),
		line("0", meta, `"n":1e`),
		line("0", meta, `"n":1.5e+07`),
		// Types.
		withMeta(`"type":"groundtruth/image-classification"`, `"type":""`),
		withMeta(`"type":"groundtruth/image-classification"`, `"type":"groundtruth/image-classification-multilabel"`),
		withMeta(`"type":"groundtruth/image-classification"`, `"type":"groundTruth/image-classification"`),
		withMeta(`"type":"groundtruth/image-classification"`, `"type":"groundtruth/object-detection"`),
		withMeta(`"type":"groundtruth/image-classification"`, `"type":1`),
		line("[0]", meta),
		line("[1,0,8]", strings.Replace(meta, "groundtruth/image-classification", "groundtruth/image-classification-multilabel", 1)),
		line("{}", meta),
		// Nulls everywhere.
		line("null", meta),
		withMeta(`"confidence":0.94`, `"confidence":null`),
		withMeta(`"class-name":"product"`, `"class-name":null`),
		withMeta(`"type":"groundtruth/image-classification"`, `"type":null`),
		withMeta(`"human-annotated":"yes"`, `"human-annotated":null`),
		withMeta(`"job-name":"labeling-job/review-photo-category"`, `"job-name":null`),
		withMeta(`"creation-date":"2026-11-28T09:14:07.518331"`, `"creation-date":null`),
		withMeta(`"class-name":"product"`, `"class-name":nullx`),
		withMeta(`"class-name":"product"`, `"class-name":nul`),
		withMeta(`"human-annotated":"yes"`, `"human-annotated":"no"`),
		withMeta(`"human-annotated":"yes"`, `"human-annotated":"Yes"`),
		withMeta(`"human-annotated":"yes"`, `"human-annotated":true`),
		withMeta(`"creation-date":"2026-11-28T09:14:07.518331"`, `"creation-date":"0000-02-29T23:59:59"`),
		withMeta(`"creation-date":"2026-11-28T09:14:07.518331"`, `"creation-date":7`),
		`{"source-ref":null,"review-photo-category":0,"review-photo-category-metadata":{` + meta + `}}`,
		`{` + src + `,"review-photo-category":0,"review-photo-category-metadata":null}`,
		`{` + src + `,"review-photo-category":0}`,
		`{` + src + `}`,
		`{}`, `null`, `[]`, `0`, `""`, ``,
		// Many keys.
		line("0", meta, many(30, "k")),
		line("0", meta+","+many(30, "m")),
		// Structure.
		line("0", meta) + "x",
		line("0", meta) + "{}",
		strings.TrimSuffix(line("0", meta), "}"),
		strings.Replace(line("0", meta), `}}`, `,}}`, 1),
		strings.Replace(line("0", meta), `,"review-photo-category":0`, `,"review-photo-category" : 0 `, 1),
		strings.Replace(line("0", meta), `":`, `"  :  `, -1),
		line("0", meta, `"t":true`, `"f":false`, `"z":null`, `"s":"x"`, `"a":[1,"2",{"3":[]}]`),
		line("0", meta, `"t":tru`),
		line("0", meta, "\"bad\":\"\xff\""),
		`{"source-ref":"s3://reviewlens-photos","review-photo-category":0,"review-photo-category-metadata":{` + meta + `}}`,
		`{"source-ref":"s3:///a.jpg","review-photo-category":0,"review-photo-category-metadata":{` + meta + `}}`,
		`{"source-ref":"S3://b/a.jpg","review-photo-category":0,"review-photo-category-metadata":{` + meta + `}}`,
	}
}()

// eofCounter fails the test when a Reader keeps asking for more after the
// end: a Reader that loops at the end would otherwise hang the fuzzer.
type eofCounter struct {
	r    io.Reader
	eofs int
}

func (c *eofCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.eofs++
		if c.eofs > 100 {
			panic("Reader goes on reading after the end of its input")
		}
	}
	return n, err
}

// FuzzReader: any input gives records, line errors and an end, never a
// panic or a loop.
func FuzzReader(f *testing.F) {
	files, lines := fixtureSeeds(f)
	for _, data := range files {
		f.Add(data, false, uint16(0))
		f.Add(data, true, uint16(0))
		f.Add(data, true, uint16(300))
	}
	for _, line := range lines {
		f.Add(line, false, uint16(0))
	}
	for _, line := range nearMisses {
		f.Add([]byte(line+"\n"+line), false, uint16(0))
		f.Add([]byte(line), true, uint16(200))
	}
	f.Add([]byte(strings.Repeat("x", 70_000)+"\n"+nearMisses[0]), false, uint16(10))
	f.Fuzz(func(t *testing.T, data []byte, named bool, maxLine uint16) {
		var opts Options
		if named {
			opts.LabelAttribute = attrCategory
		}
		opts.MaxLineBytes = int(maxLine)
		r := NewReader(&eofCounter{r: bytes.NewReader(data)}, opts)
		maxCalls := bytes.Count(data, []byte("\n")) + 2
		last := 0
		for calls := 0; ; calls++ {
			if calls > maxCalls {
				t.Fatalf("more than %d Read calls for %d lines", maxCalls, maxCalls-1)
			}
			rec, err := r.Read()
			var lerr *LineError
			switch {
			case err == nil:
				if rec.Line <= last {
					t.Fatalf("record of line %d after line %d", rec.Line, last)
				}
				last = rec.Line
				checkRecord(t, rec)
			case errors.As(err, &lerr):
				if lerr.Line <= last {
					t.Fatalf("error on line %d after line %d: %v", lerr.Line, last, lerr)
				}
				last = lerr.Line
				if lerr.Reason == "" || lerr.Kind < Invalid || lerr.Kind > Filtered {
					t.Fatalf("line error %#v", lerr)
				}
			case err == io.EOF, errors.Is(err, ErrAmbiguousAttribute), errors.Is(err, ErrNoAttribute):
				if _, again := r.Read(); again != err {
					t.Fatalf("Read after %v = %v", err, again)
				}
				if errors.Is(err, ErrNoAttribute) && (named || r.Attribute() != "") {
					t.Fatalf("ErrNoAttribute with attribute %q", r.Attribute())
				}
				if m, err := r.Classes(); err == nil && m.Len() < 2 {
					t.Fatalf("Classes() gave %d classes", m.Len())
				}
				return
			default:
				t.Fatalf("Read: unexpected error %v", err)
			}
		}
	})
}

// checkRecord holds a record to what Read promises.
func checkRecord(tb testing.TB, rec Record) {
	tb.Helper()
	if reason := checkSourceRef(rec.SourceRef); reason != "" {
		tb.Fatalf("line %d: source-ref %s", rec.Line, reason)
	}
	if len(rec.Labels) == 0 || (!rec.MultiLabel && len(rec.Labels) != 1) {
		tb.Fatalf("line %d: %d labels, multi-label %v", rec.Line, len(rec.Labels), rec.MultiLabel)
	}
	if rec.Type != "" && rec.Type != TypeSingleLabel && rec.Type != TypeMultiLabel {
		tb.Fatalf("line %d: type %q", rec.Line, rec.Type)
	}
	if rec.Human && !rec.HumanKnown {
		tb.Fatalf("line %d: Human without HumanKnown", rec.Line)
	}
	seen := map[int]bool{}
	for _, l := range rec.Labels {
		if l.Index < 0 || l.Index >= maxClasses || seen[l.Index] {
			tb.Fatalf("line %d: label %+v in %+v", rec.Line, l, rec.Labels)
		}
		seen[l.Index] = true
		if l.HasConfidence() && !(l.Confidence >= 0 && l.Confidence <= 1) {
			tb.Fatalf("line %d: confidence %v", rec.Line, l.Confidence)
		}
	}
	if !rec.CreatedAt.IsZero() && (rec.CreatedAt.Location() != time.UTC || rec.Created == "") {
		tb.Fatalf("line %d: CreatedAt %v from %q", rec.Line, rec.CreatedAt, rec.Created)
	}
}

// FuzzFastGeneric is the differential test of the two line parsers: a line
// the fast parser reads, the generic parser reads the same way.
func FuzzFastGeneric(f *testing.F) {
	_, lines := fixtureSeeds(f)
	for _, line := range lines {
		f.Add(line)
	}
	for _, line := range nearMisses {
		f.Add([]byte(line))
	}
	attr, mattr := []byte(attrCategory), []byte(attrCategory+"-metadata")
	f.Fuzz(func(t *testing.T, line []byte) {
		var fe, ge entry
		if !parseFast(line, 7, attr, mattr, &fe) {
			return
		}
		if lerr := parseGeneric(line, 7, attrCategory, &ge); lerr != nil {
			t.Fatalf("the fast parser reads %q, the generic one refuses it: %v", line, lerr)
		}
		fast, generic := fe.record(nil), ge.record(nil)
		if diff := cmp.Diff(generic, fast, recordCmp...); diff != "" {
			t.Fatalf("line %q (-generic +fast):\n%s", line, diff)
		}
		if fe.lenientConfidence != ge.lenientConfidence {
			t.Fatalf("line %q: lenientConfidence fast %v, generic %v", line, fe.lenientConfidence, ge.lenientConfidence)
		}
		if fe.createdOK != ge.createdOK || fe.createdAt != ge.createdAt {
			t.Fatalf("line %q: creation-date fast %v %d, generic %v %d", line, fe.createdOK, fe.createdAt, ge.createdOK, ge.createdAt)
		}
		if fe.multi || len(fe.labels) != 1 {
			t.Fatalf("line %q: the fast parser read %d labels, multi %v", line, len(fe.labels), fe.multi)
		}
		if c := fe.labels[0].conf; !math.IsNaN(c) && (c < 0 || c > 1) {
			t.Fatalf("line %q: confidence %v", line, c)
		}
		if fe.plainSource && bytes.ContainsFunc(fe.sourceRef, func(r rune) bool { return r == '"' || r == '\\' || r < 0x20 }) {
			t.Fatalf("line %q: source-ref %q marked plain", line, fe.sourceRef)
		}
	})
}
