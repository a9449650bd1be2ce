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
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	attrCategory = "review-photo-category"
	attrAngle    = "review-photo-angle"
	attrTags     = "review-photo-tags"
	jobCategory  = "labeling-job/review-photo-category"
	jobAngle     = "labeling-job/review-photo-angle"
	jobTags      = "labeling-job/review-photo-tags"
)

var noConf = math.NaN()

// wantErr is what a test expects of a *LineError: Reason only has to
// contain the given text.
type wantErr struct {
	Line   int
	Kind   Kind
	Field  string
	Reason string
}

func (w wantErr) String() string {
	return fmt.Sprintf("line %d %v %q %q", w.Line, w.Kind, w.Field, w.Reason)
}

// readResult is everything one pass of a Reader gave.
type readResult struct {
	records []Record
	errs    []*LineError
	end     error // the error that ended the reading: io.EOF or fatal
}

// readAll reads r to the end, keeping going after every *LineError. It
// fails the test if Read returns anything else than a Record, a
// *LineError, or a final error that Read then repeats.
func readAll(tb testing.TB, r *Reader) readResult {
	tb.Helper()
	var res readResult
	for range 1_000_000 {
		rec, err := r.Read()
		var lerr *LineError
		switch {
		case err == nil:
			res.records = append(res.records, rec)
		case errors.As(err, &lerr):
			if !cmp.Equal(rec, Record{}) {
				tb.Errorf("line %d: Read returned a record with a LineError: %+v", lerr.Line, rec)
			}
			res.errs = append(res.errs, lerr)
		default:
			res.end = err
			if _, again := r.Read(); again != err {
				tb.Errorf("Read after %v = %v, want the same error again", err, again)
			}
			return res
		}
	}
	tb.Fatal("Read did not come to an end")
	return res
}

// openFixture opens a file under testdata.
func openFixture(tb testing.TB, name string) *os.File {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// readFixture reads a fixture with opts and ends in io.EOF.
func readFixture(tb testing.TB, name string, opts Options) (readResult, *Reader) {
	tb.Helper()
	r := NewReader(openFixture(tb, name), opts)
	res := readAll(tb, r)
	if res.end != io.EOF {
		tb.Fatalf("reading %s ended with %v, want io.EOF", name, res.end)
	}
	return res, r
}

// fixtureLines returns the lines of a fixture, without line endings.
func fixtureLines(tb testing.TB, name string) []string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func checkLineErrors(tb testing.TB, got []*LineError, want []wantErr) {
	tb.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			tb.Errorf("missing line error %v", want[i])
		case i >= len(want):
			tb.Errorf("unexpected line error %v (kind %v)", got[i], got[i].Kind)
		default:
			g, w := got[i], want[i]
			if g.Line != w.Line || g.Kind != w.Kind || g.Field != w.Field || !strings.Contains(g.Reason, w.Reason) {
				tb.Errorf("line error %d:\n got line %d %v %q %q\nwant %v", i, g.Line, g.Kind, g.Field, g.Reason, w)
			}
		}
	}
}

var recordCmp = []cmp.Option{cmpopts.EquateNaNs(), cmpopts.EquateEmpty()}

func diffRecords(tb testing.TB, got, want []Record) {
	tb.Helper()
	if diff := cmp.Diff(want, got, recordCmp...); diff != "" {
		tb.Errorf("records (-want +got):\n%s", diff)
	}
}

// at is a UTC time with microseconds.
func at(y int, mo time.Month, d, h, mi, s, us int) time.Time {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
}

// rec builds the usual single-label record: human-annotated, typed.
func rec(line int, src string, idx int, name string, conf float64, job, created string, createdAt time.Time) Record {
	return Record{
		Line: line, SourceRef: src,
		Labels: []Label{{Index: idx, Name: name, Confidence: conf}},
		Human:  true, HumanKnown: true,
		JobName: job, Created: created, CreatedAt: createdAt, Type: TypeSingleLabel,
	}
}

func human(r Record, known, yes bool) Record {
	r.HumanKnown, r.Human = known, yes
	return r
}

func multi(line int, src string, created string, createdAt time.Time, labels ...Label) Record {
	return Record{
		Line: line, SourceRef: src, Labels: labels, MultiLabel: true,
		Human: true, HumanKnown: true,
		JobName: jobTags, Created: created, CreatedAt: createdAt, Type: TypeMultiLabel,
	}
}

const (
	s28  = "s3://reviewlens-photos/2026/11/28/"
	s26  = "s3://reviewlens-photos/2026/11/26/"
	s25  = "s3://reviewlens-photos/2026/11/25/"
	s24  = "s3://reviewlens-photos/2026/11/24/"
	s23  = "s3://reviewlens-photos/2026/11/23/"
	sBad = "s3://reviewlens-photos/bad/"
)

// The expected records of each fixture, written out by hand.
var (
	singleLabelRecords = []Record{
		rec(1, s28+"r-1001/front.jpg", 0, "product", 0.94, jobCategory, "2026-11-28T09:14:07.518331", at(2026, 11, 28, 9, 14, 7, 518331)),
		rec(2, s28+"r-1002/full.jpg", 2, "full-length", 0.51, "review-photo-category", "2026-11-28T09:15:42.176", at(2026, 11, 28, 9, 15, 42, 176000)),
		rec(3, s28+"r-1003/box.jpg", 1, "packaging", 1, jobCategory, "2026-11-28T09:16:03.456Z", at(2026, 11, 28, 9, 16, 3, 456000)),
		rec(4, s28+"r-1004/half.jpg", 3, "half-length", 0, jobCategory, "2026-11-28T09:17:11+0000", at(2026, 11, 28, 9, 17, 11, 0)),
		rec(5, s28+"r-1005/detail.jpg", 0, "product", 0.94, jobCategory, "2026-11-28 09:18:27", at(2026, 11, 28, 9, 18, 27, 0)),
		rec(6, s28+"r-1006/box-open.jpg", 1, "packaging", 0.51, jobCategory, "not a date", time.Time{}),
		rec(7, s28+"r-1007/legacy.jpg", 2, "full-length", 0.77, jobCategory, "2024-04-10T21:39:51", at(2024, 4, 10, 21, 39, 51, 0)),
		rec(8, s28+"r-1008/worn.jpg", 3, "half-length", 0.88, jobCategory, "2026-11-28T09:11:05.123456", at(2026, 11, 28, 9, 11, 5, 123456)),
		rec(9, s28+"r-1009/Front view +1 100%.JPG", 0, "product", 0.9, jobCategory, "2026-11-28T09:19:00.000001", at(2026, 11, 28, 9, 19, 0, 1)),
		rec(10, s28+"r-1010/münchen.png", 0, "product", 0.7, jobCategory, "2026-11-28T09:20:30.25", at(2026, 11, 28, 9, 20, 30, 250000)),
		rec(11, s28+"r-1011/tape.jpg", 1, "packaging", noConf, jobCategory, "2026-11-28T10:00:00.5+01:00", at(2026, 11, 28, 9, 0, 0, 500000)),
		// No class-name on the line: the name comes from the class list.
		rec(12, s28+"r-1012/mirror.jpg", 2, "full-length", 0.63, jobCategory, "2026-11-28T09:21:00.000000", at(2026, 11, 28, 9, 21, 0, 0)),
	}

	multiLabelRecords = []Record{
		multi(1, s28+"r-2001/a.jpg", "2026-11-27T21:36:25.000201", at(2026, 11, 27, 21, 36, 25, 201),
			Label{1, "packaging", 0.95}, Label{0, "product", 0.77}, Label{8, "size-label", 0.2}),
		multi(2, s28+"r-2002/b.jpg", "2026-11-27T21:37:02.114", at(2026, 11, 27, 21, 37, 2, 114000),
			Label{6, "blur", 0}, Label{0, "product", 0}),
		multi(3, s28+"r-2003/c.jpg", "2026-11-27T21:38:10.5Z", at(2026, 11, 27, 21, 38, 10, 500000),
			Label{2, "person", 0.66}),
		multi(4, s28+"r-2004/d.jpg", "2026-11-27T21:39:44.000201", at(2026, 11, 27, 21, 39, 44, 201),
			Label{5, "stain", 0.81}, Label{3, "price-tag", 0.34}, Label{4, "damage", 0.9}, Label{7, "watermark", 0.12}),
		multi(5, s28+"r-2005/e.jpg", "2026-11-27 21:40:00", at(2026, 11, 27, 21, 40, 0, 0),
			Label{4, "damage", noConf}, Label{1, "packaging", noConf}),
		multi(6, s28+"r-2006/f.jpg", "2026-11-27T21:41:13.9", at(2026, 11, 27, 21, 41, 13, 900000),
			Label{0, "product", 1}, Label{2, "person", 0.5}),
	}

	chainedCategoryRecords = []Record{
		rec(1, s26+"r-0901/a.jpg", 1, "packaging", 0.93, jobCategory, "2026-11-26T11:58:02.412905", at(2026, 11, 26, 11, 58, 2, 412905)),
		rec(2, s26+"r-0902/b.jpg", 0, "product", 0.86, jobCategory, "2026-11-26T11:58:40.000017", at(2026, 11, 26, 11, 58, 40, 17)),
		rec(3, s26+"r-0903/c.jpg", 2, "full-length", 0.99, jobCategory, "2026-11-26T11:59:13.3", at(2026, 11, 26, 11, 59, 13, 300000)),
		rec(4, s26+"r-0904/d.jpg", 3, "half-length", 0.67, "labeling-job/review-photo-category-chain-2", "2026-11-27T14:30:00.000001", at(2026, 11, 27, 14, 30, 0, 1)),
		rec(6, s26+"r-0906/f.jpg", 0, "product", 0.72, jobCategory, "2026-11-26T12:00:00.000000", at(2026, 11, 26, 12, 0, 0, 0)),
	}

	chainedAngleRecords = []Record{
		rec(2, s26+"r-0902/b.jpg", 0, "front", 0.74, jobAngle, "2026-11-27T08:02:11.731000", at(2026, 11, 27, 8, 2, 11, 731000)),
		human(rec(3, s26+"r-0903/c.jpg", 2, "side", 0.58, jobAngle, "2026-11-27T08:03:00.000000", at(2026, 11, 27, 8, 3, 0, 0)), true, false),
		rec(5, s26+"r-0905/e.jpg", 1, "back", 0.81, jobAngle, "2026-11-27T08:04:27.5", at(2026, 11, 27, 8, 4, 27, 500000)),
		rec(6, s26+"r-0906/f.jpg", 1, "back", 0.9, jobAngle, "2026-11-27T08:05:00.25", at(2026, 11, 27, 8, 5, 0, 250000)),
	}

	autoLabeledRecords = []Record{
		rec(1, s25+"r-0801.jpg", 0, "product", 0.92, jobCategory, "2026-11-25T10:00:01.000100", at(2026, 11, 25, 10, 0, 1, 100)),
		human(rec(2, s25+"r-0802.jpg", 1, "packaging", 0.97, "review-photo-category", "2026-11-25T10:20:00.000200", at(2026, 11, 25, 10, 20, 0, 200)), true, false),
		human(rec(3, s25+"r-0803.jpg", 2, "full-length", 0.99, jobCategory, "2026-11-25T10:20:00.000300", at(2026, 11, 25, 10, 20, 0, 300)), true, false),
		rec(4, s25+"r-0804.jpg", 3, "half-length", 0, "labeling-job/review-photo-category-v2", "2026-11-25T11:00:00.000400", at(2026, 11, 25, 11, 0, 0, 400)),
		human(rec(5, s25+"r-0805.jpg", 0, "product", 0.96, jobCategory, "2026-11-25T10:20:00.000500", at(2026, 11, 25, 10, 20, 0, 500)), true, false),
		human(rec(6, s25+"r-0806.jpg", 1, "packaging", 0.8, jobCategory, "2026-11-25T12:00:00.000600", at(2026, 11, 25, 12, 0, 0, 600)), false, false),
	}

	crlfRecords = []Record{
		rec(1, s24+"r-0701.jpg", 0, "product", 0.9, jobCategory, "2026-11-24T08:00:00.000001", at(2026, 11, 24, 8, 0, 0, 1)),
		rec(3, s24+"r-0703.jpg", 1, "packaging", 0.8, jobCategory, "2026-11-24T08:00:00.000003", at(2026, 11, 24, 8, 0, 0, 3)),
		rec(6, s24+"r-0706.jpg", 2, "full-length", 0.7, jobCategory, "2026-11-24T08:00:00.000006", at(2026, 11, 24, 8, 0, 0, 6)),
		rec(8, s24+"r-0708.jpg", 3, "half-length", 0.6, jobCategory, "2026-11-24T08:00:00.000008", at(2026, 11, 24, 8, 0, 0, 8)),
	}

	unlabelledRecords = []Record{
		rec(2, s23+"r-0602.jpg", 2, "full-length", 0.88, jobCategory, "2026-11-23T16:42:09.000002", at(2026, 11, 23, 16, 42, 9, 2)),
		rec(4, s23+"r-0604.jpg", 0, "product", 0.95, jobCategory, "2026-11-23T16:42:10.000004", at(2026, 11, 23, 16, 42, 10, 4)),
	}
)

// pick returns the records of the given lines.
func pick(recs []Record, lines ...int) []Record {
	var out []Record
	for _, r := range recs {
		for _, l := range lines {
			if r.Line == l {
				out = append(out, r)
			}
		}
	}
	return out
}

func categoryClasses(tb testing.TB) *ClassMap {
	tb.Helper()
	m, err := NewClassMap("product", "packaging", "full-length", "half-length")
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func TestReaderFixtures(t *testing.T) {
	unlabelled := func(line int) wantErr { return wantErr{line, Unlabelled, attrCategory, "no label"} }
	tests := []struct {
		name      string
		file      string
		opts      Options
		want      []Record
		wantErrs  []wantErr
		wantAttr  string
		wantLines int
		wantBlank int
		wantBOM   bool
	}{
		{
			name:      "single-label, attribute found",
			file:      "single-label.manifest",
			want:      singleLabelRecords,
			wantAttr:  attrCategory,
			wantLines: 12,
		},
		{
			name:      "single-label, attribute named",
			file:      "single-label.manifest",
			opts:      Options{LabelAttribute: attrCategory},
			want:      singleLabelRecords,
			wantAttr:  attrCategory,
			wantLines: 12,
		},
		{
			name:      "multi-label",
			file:      "multi-label.manifest",
			want:      multiLabelRecords,
			wantAttr:  attrTags,
			wantLines: 6,
		},
		{
			name:      "chained, attribute found: object detection is not a candidate",
			file:      "chained.manifest",
			want:      chainedCategoryRecords,
			wantErrs:  []wantErr{unlabelled(5)},
			wantAttr:  attrCategory,
			wantLines: 6,
		},
		{
			name:      "chained, category named",
			file:      "chained.manifest",
			opts:      Options{LabelAttribute: attrCategory},
			want:      chainedCategoryRecords,
			wantErrs:  []wantErr{unlabelled(5)},
			wantAttr:  attrCategory,
			wantLines: 6,
		},
		{
			name:     "chained, angle named",
			file:     "chained.manifest",
			opts:     Options{LabelAttribute: attrAngle},
			want:     chainedAngleRecords,
			wantAttr: attrAngle,
			wantErrs: []wantErr{
				{1, Unlabelled, attrAngle, "no label"},
				{4, Unlabelled, attrAngle, "no label"},
			},
			wantLines: 6,
		},
		{
			name:     "chained, object-detection attribute named",
			file:     "chained.manifest",
			opts:     Options{LabelAttribute: "review-photo-boxes"},
			wantAttr: "review-photo-boxes",
			wantErrs: []wantErr{
				{1, Invalid, "review-photo-boxes-metadata.type", `got "groundtruth/object-detection"`},
				{2, Unlabelled, "review-photo-boxes", "no label"},
				{3, Invalid, "review-photo-boxes-metadata.type", `got "groundtruth/object-detection"`},
				{4, Unlabelled, "review-photo-boxes", "no label"},
				{5, Unlabelled, "review-photo-boxes", "no label"},
				{6, Unlabelled, "review-photo-boxes", "no label"},
			},
			wantLines: 6,
		},
		{
			name:      "auto-labelled",
			file:      "auto-labeled.manifest",
			want:      autoLabeledRecords,
			wantAttr:  attrCategory,
			wantLines: 6,
		},
		{
			name:      "CRLF, BOM and blank lines",
			file:      "crlf-bom-blank.manifest",
			want:      crlfRecords,
			wantAttr:  attrCategory,
			wantLines: 4,
			wantBlank: 4,
			wantBOM:   true,
		},
		{
			name:     "unlabelled lines of a stopped job",
			file:     "unlabelled.manifest",
			want:     unlabelledRecords,
			wantAttr: attrCategory,
			wantErrs: []wantErr{
				// Before the attribute is known, a line without one says so.
				{1, Unlabelled, "", "no image-classification label attribute"},
				unlabelled(3), unlabelled(5), unlabelled(6),
			},
			wantLines: 6,
		},
		{
			name:      "given classes name a label with no class-name",
			file:      "single-label.manifest",
			opts:      Options{Classes: categoryClasses(t)},
			want:      singleLabelRecords,
			wantAttr:  attrCategory,
			wantLines: 12,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, r := readFixture(t, tt.file, tt.opts)
			diffRecords(t, res.records, tt.want)
			checkLineErrors(t, res.errs, tt.wantErrs)
			if got, want := r.Attribute(), tt.wantAttr; got != want {
				t.Errorf("Attribute() = %q, want %q", got, want)
			}
			lines, blank, bom := r.Stats()
			if got, want := [3]any{lines, blank, bom}, [3]any{tt.wantLines, tt.wantBlank, tt.wantBOM}; got != want {
				t.Errorf("Stats() = %v, want %v (lines, blank, bom)", got, want)
			}
		})
	}
}

func TestReaderFilters(t *testing.T) {
	filtered := func(line int, reason string) wantErr {
		return wantErr{line, Filtered, attrCategory + "-metadata", reason}
	}
	tagsFiltered := func(line int, reason string) wantErr {
		return wantErr{line, Filtered, attrTags + "-metadata", reason}
	}
	tests := []struct {
		name     string
		file     string
		opts     Options
		want     []Record
		wantErrs []wantErr
	}{
		{
			name: "human only",
			file: "auto-labeled.manifest",
			opts: Options{HumanOnly: true},
			want: pick(autoLabeledRecords, 1, 4),
			wantErrs: []wantErr{
				filtered(2, `human-annotated is "no"`),
				filtered(3, `human-annotated is "no"`),
				filtered(5, `human-annotated is "no"`),
				filtered(6, "no human-annotated field"),
			},
		},
		{
			name:     "job name without prefix matches both spellings",
			file:     "auto-labeled.manifest",
			opts:     Options{JobNames: []string{"review-photo-category"}},
			want:     pick(autoLabeledRecords, 1, 2, 3, 5, 6),
			wantErrs: []wantErr{filtered(4, `job-name "labeling-job/review-photo-category-v2" is not one of the jobs kept`)},
		},
		{
			name: "job name with prefix",
			file: "auto-labeled.manifest",
			opts: Options{JobNames: []string{"labeling-job/review-photo-category-v2"}},
			want: pick(autoLabeledRecords, 4),
			wantErrs: []wantErr{
				filtered(1, "job-name"), filtered(2, "job-name"), filtered(3, "job-name"),
				filtered(5, "job-name"), filtered(6, "job-name"),
			},
		},
		{
			name: "several job names",
			file: "chained.manifest",
			opts: Options{JobNames: []string{"review-photo-category-chain-2", "labeling-job/review-photo-category"}},
			want: chainedCategoryRecords,
			wantErrs: []wantErr{
				{5, Unlabelled, attrCategory, "no label"},
			},
		},
		{
			name: "minimum confidence",
			file: "auto-labeled.manifest",
			opts: Options{MinConfidence: 0.95},
			want: pick(autoLabeledRecords, 2, 3, 5),
			wantErrs: []wantErr{
				filtered(1, "confidence 0.92 is below the minimum 0.95"),
				filtered(4, "confidence 0 is below the minimum 0.95"),
				filtered(6, "confidence 0.8 is below the minimum 0.95"),
			},
		},
		{
			name: "minimum confidence drops labels with none",
			file: "single-label.manifest",
			opts: Options{MinConfidence: 0.5},
			want: pick(singleLabelRecords, 1, 2, 3, 5, 6, 7, 8, 9, 10, 12),
			wantErrs: []wantErr{
				filtered(4, "confidence 0 is below the minimum 0.5"),
				filtered(11, "no confidence, and the minimum is 0.5"),
			},
		},
		{
			name: "minimum confidence is inclusive",
			file: "single-label.manifest",
			opts: Options{MinConfidence: 0.51},
			want: pick(singleLabelRecords, 1, 2, 3, 5, 6, 7, 8, 9, 10, 12),
			wantErrs: []wantErr{
				filtered(4, "below"),
				filtered(11, "no confidence"),
			},
		},
		{
			name: "human only and minimum confidence",
			file: "auto-labeled.manifest",
			opts: Options{HumanOnly: true, MinConfidence: 0.5},
			want: pick(autoLabeledRecords, 1),
			wantErrs: []wantErr{
				filtered(2, "human-annotated"), filtered(3, "human-annotated"),
				filtered(4, "confidence 0 is below"),
				filtered(5, "human-annotated"), filtered(6, "human-annotated"),
			},
		},
		{
			name: "multi-label keeps the labels at or above the minimum",
			file: "multi-label.manifest",
			opts: Options{MinConfidence: 0.5},
			want: []Record{
				multi(1, s28+"r-2001/a.jpg", "2026-11-27T21:36:25.000201", at(2026, 11, 27, 21, 36, 25, 201),
					Label{1, "packaging", 0.95}, Label{0, "product", 0.77}),
				multiLabelRecords[2],
				multi(4, s28+"r-2004/d.jpg", "2026-11-27T21:39:44.000201", at(2026, 11, 27, 21, 39, 44, 201),
					Label{5, "stain", 0.81}, Label{4, "damage", 0.9}),
				multiLabelRecords[5],
			},
			wantErrs: []wantErr{
				tagsFiltered(2, "confidence 0 is below the minimum 0.5"),
				tagsFiltered(5, "no confidence, and the minimum is 0.5"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := readFixture(t, tt.file, tt.opts)
			diffRecords(t, res.records, tt.want)
			checkLineErrors(t, res.errs, tt.wantErrs)
		})
	}
}

// badLine is one line of testdata/bad-lines.manifest and what reading it
// gives, with the classes learned and with the classes given. A zero
// wantErr means the line is a record.
var badLines = []struct {
	line           int
	what           string
	learned, given wantErr
}{
	{1, "valid", wantErr{}, wantErr{}},
	{2, "valid", wantErr{}, wantErr{}},
	{3, "invalid JSON", bad(3, "", "invalid JSON"), same},
	{4, "data after the object", bad(4, "", "data after the object"), same},
	{5, "array", bad(5, "", "want a JSON object, got an array"), same},
	{6, "number", bad(6, "", "want a JSON object, got a number 42"), same},
	{7, "invalid UTF-8", bad(7, "", "not valid UTF-8"), same},
	{8, "duplicate key", bad(8, "", `key "source-ref" appears twice`), same},
	{9, "duplicate key in metadata", bad(9, "", `key "confidence" appears twice`), same},
	{10, "no source-ref", bad(10, "source-ref", "missing"), same},
	{11, "source-ref a number", bad(11, "source-ref", "got a number 17, want a string"), same},
	{12, "https source-ref", bad(12, "source-ref", `got "https://reviewlens-photos.s3.amazonaws.com/bad/012.jpg", want an s3://bucket/key URI`), same},
	{13, "source-ref without scheme", bad(13, "source-ref", `got "reviewlens-photos/bad/013.jpg", want an s3://bucket/key URI`), same},
	{14, "source-ref without key", bad(14, "source-ref", `got "s3://reviewlens-photos", want an s3://bucket/key URI`), same},
	{15, "label 2.5", bad(15, attrCategory, "got a number 2.5, want a class index"), same},
	{16, "label -1", bad(16, attrCategory, "got a number -1, want a class index"), same},
	{17, `label "01"`, bad(17, attrCategory, `got a string "01", want a class index`), same},
	{18, "label true", bad(18, attrCategory, "got a boolean true, want a class index"), same},
	{19, "label array, single-label type", bad(19, attrCategory, "got an array, want one class index (type is groundtruth/image-classification)"), same},
	{20, "no metadata", bad(20, attrCategory+"-metadata", "missing"), same},
	{21, "metadata a string", bad(21, attrCategory+"-metadata", `got a string "product", want an object`), same},
	{22, "confidence 1.5", bad(22, attrCategory+"-metadata.confidence", "got 1.5, want a number in [0, 1]"), same},
	{23, "confidence -0.1", bad(23, attrCategory+"-metadata.confidence", "got -0.1, want a number in [0, 1]"), same},
	{24, `confidence "abc"`, bad(24, attrCategory+"-metadata.confidence", `got "abc", want a number in [0, 1]`), same},
	{25, "confidence NaN", bad(25, "", "invalid JSON"), same},
	{26, `human-annotated "maybe"`, bad(26, attrCategory+"-metadata.human-annotated", `got "maybe", want "yes" or "no"`), same},
	{27, "object-detection type", bad(27, attrCategory+"-metadata.type", `got "groundtruth/object-detection", want`), same},
	{28, "class name taken by another class",
		bad(28, attrCategory, `class name "packaging" is class 1 since line 2, not class 2`),
		bad(28, attrCategory, `class 2 is "full-length" in the class list, but the line names it "packaging"`)},
	{29, "class renamed",
		bad(29, attrCategory, `class 1 is "packaging" since line 2, not "product"`),
		bad(29, attrCategory, `class 1 is "packaging" in the class list, but the line names it "product"`)},
	{30, "class index past the class list", wantErr{}, bad(30, attrCategory, "class index 4, want 0..3 (4 classes)")},
	{31, "class name not in the class list", wantErr{}, bad(31, attrCategory, `class 3 is "half-length" in the class list, but the line names it "half length"`)},
	{32, "duplicate source-ref", wantErr{32, Duplicate, "source-ref", `"s3://reviewlens-photos/bad/001.jpg" is on line 1 too, with the same label`}, same},
	{33, "unlabelled", wantErr{33, Unlabelled, attrCategory, "no label"}, same},
	{34, "longer than MaxLineBytes", bad(34, "", "longer than 4096 bytes"), same},
	{35, "null", bad(35, "", "want a JSON object, got null"), same},
	{36, "valid after all that", wantErr{}, wantErr{}},
}

// same in a badLines row means: as with the classes learned.
var same = wantErr{Line: -1}

func bad(line int, field, reason string) wantErr {
	return wantErr{Line: line, Kind: Invalid, Field: field, Reason: reason}
}

func badLineRecord(line, idx int, name string) Record {
	return rec(line, fmt.Sprintf("%s%03d.jpg", sBad, line), idx, name, 0.9, jobCategory,
		fmt.Sprintf("2026-11-22T07:00:00.%06d", line), at(2026, 11, 22, 7, 0, 0, line))
}

func TestReaderBadLines(t *testing.T) {
	if got, want := len(fixtureLines(t, "bad-lines.manifest")), len(badLines); got != want {
		t.Fatalf("bad-lines.manifest has %d lines, the table %d", got, want)
	}
	tests := []struct {
		name    string
		classes *ClassMap
		want    []Record
	}{
		{
			name: "classes learned",
			want: []Record{
				badLineRecord(1, 0, "product"),
				badLineRecord(2, 1, "packaging"),
				badLineRecord(30, 4, "close-up"),
				badLineRecord(31, 3, "half length"),
				badLineRecord(36, 0, "product"),
			},
		},
		{
			name:    "classes given",
			classes: categoryClasses(t),
			want: []Record{
				badLineRecord(1, 0, "product"),
				badLineRecord(2, 1, "packaging"),
				badLineRecord(36, 0, "product"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wantErrs []wantErr
			for _, b := range badLines {
				w := b.learned
				if tt.classes != nil && b.given != same {
					w = b.given
				}
				if w != (wantErr{}) {
					wantErrs = append(wantErrs, w)
				}
			}
			res, r := readFixture(t, "bad-lines.manifest", Options{
				LabelAttribute: attrCategory,
				Classes:        tt.classes,
				MaxLineBytes:   4096,
			})
			diffRecords(t, res.records, tt.want)
			checkLineErrors(t, res.errs, wantErrs)
			for _, e := range res.errs {
				if !strings.HasPrefix(e.Error(), fmt.Sprintf("line %d: ", e.Line)) {
					t.Errorf("Error() = %q, want it to start with the line number", e.Error())
				}
			}
			if lines, blank, bom := r.Stats(); lines != 36 || blank != 0 || bom {
				t.Errorf("Stats() = %d, %d, %v, want 36, 0, false", lines, blank, bom)
			}
		})
	}
}

// The bad lines come out the same when the attribute is found rather
// than named: line 1 names it.
func TestReaderBadLinesAttributeFound(t *testing.T) {
	res, r := readFixture(t, "bad-lines.manifest", Options{MaxLineBytes: 4096})
	if got, want := r.Attribute(), attrCategory; got != want {
		t.Errorf("Attribute() = %q, want %q", got, want)
	}
	if got, want := len(res.records), 5; got != want {
		t.Errorf("%d records, want %d", got, want)
	}
	if got, want := len(res.errs), 31; got != want {
		t.Errorf("%d line errors, want %d", got, want)
	}
}

func TestReaderClasses(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		opts    Options
		want    []string
		wantErr string // substring; the error wraps ErrClassList
	}{
		{
			name: "learned",
			file: "single-label.manifest",
			want: []string{"product", "packaging", "full-length", "half-length"},
		},
		{
			name: "learned, multi-label",
			file: "multi-label.manifest",
			want: []string{"product", "packaging", "person", "price-tag", "damage", "stain", "blur", "watermark", "size-label"},
		},
		{
			name: "learned, second attribute",
			file: "chained.manifest",
			opts: Options{LabelAttribute: attrAngle},
			want: []string{"front", "back", "side"},
		},
		{
			name: "given",
			file: "unlabelled.manifest",
			opts: Options{Classes: categoryClasses(t)},
			want: []string{"product", "packaging", "full-length", "half-length"},
		},
		{
			name:    "an index never named",
			file:    "unlabelled.manifest",
			wantErr: "class index 1 never appears with a class-name",
		},
		{
			name:    "learned from bad lines: a conflicting name teaches nothing",
			file:    "bad-lines.manifest",
			opts:    Options{MaxLineBytes: 4096},
			wantErr: "class index 2 never appears",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, r := readFixture(t, tt.file, tt.opts)
			m, err := r.Classes()
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrClassList) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Classes() error = %v, want ErrClassList containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Classes(): %v", err)
			}
			if diff := cmp.Diff(tt.want, m.Names()); diff != "" {
				t.Errorf("Classes() names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderClassesTooFew(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"nothing read", "", "only 0 class seen"},
		{"one class", fixtureLines(t, "single-label.manifest")[0] + "\n", "only 1 class seen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.input), Options{})
			readAll(t, r)
			_, err := r.Classes()
			if err == nil || !errors.Is(err, ErrClassList) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Classes() error = %v, want ErrClassList containing %q", err, tt.want)
			}
		})
	}
}

func TestReaderAttributeDetection(t *testing.T) {
	chained := fixtureLines(t, "chained.manifest")
	unlabelled := fixtureLines(t, "unlabelled.manifest")
	tests := []struct {
		name     string
		input    string
		wantEnd  error // errors.Is
		wantMsg  string
		wantAttr string
		records  int
		errs     int
	}{
		{
			name:     "one attribute",
			input:    chained[0] + "\n" + chained[3] + "\n",
			wantEnd:  io.EOF,
			wantAttr: attrCategory,
			records:  2,
		},
		{
			name:    "two classification attributes on the first labelled line",
			input:   unlabelled[0] + "\n" + chained[1] + "\n" + chained[0] + "\n",
			wantEnd: ErrAmbiguousAttribute,
			wantMsg: `line 2: several image-classification label attributes ("review-photo-angle", "review-photo-category")`,
			errs:    1,
		},
		{
			name:     "two attributes after the first labelled line are fine",
			input:    chained[0] + "\n" + chained[1] + "\n",
			wantEnd:  io.EOF,
			wantAttr: attrCategory,
			records:  2,
		},
		{
			name:    "no attribute on any line",
			input:   unlabelled[0] + "\n" + unlabelled[2] + "\n\n",
			wantEnd: ErrNoAttribute,
			wantMsg: "on any of 2 lines",
			errs:    2,
		},
		{
			name:    "only blank lines",
			input:   "\n \r\n\t\n",
			wantEnd: io.EOF,
		},
		{
			name:    "empty",
			wantEnd: io.EOF,
		},
		{
			name: "a metadata key spelled Type does not count",
			input: `{"source-ref":"s3://b/k.jpg","c":0,"c-metadata":{"Type":"groundtruth/image-classification","class-name":"x"}}` + "\n" +
				`{"source-ref":"s3://b/l.jpg","c":0,"c-metadata":{"TYPE":"groundtruth/image-classification","class-name":"x"}}`,
			wantEnd: ErrNoAttribute,
			errs:    2,
		},
		{
			name: "an orphan metadata key does not count",
			input: `{"source-ref":"s3://b/k.jpg","cl-metadata":{"type":"groundtruth/image-classification"}}` + "\n" +
				chained[0],
			wantEnd:  io.EOF,
			wantAttr: attrCategory,
			records:  1,
			errs:     1,
		},
		{
			name:     "a broken first line, then the attribute",
			input:    "{\"source-ref\":\n" + chained[0],
			wantEnd:  io.EOF,
			wantAttr: attrCategory,
			records:  1,
			errs:     1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.input), Options{})
			res := readAll(t, r)
			if !errors.Is(res.end, tt.wantEnd) {
				t.Fatalf("reading ended with %v, want %v", res.end, tt.wantEnd)
			}
			if !strings.Contains(fmt.Sprint(res.end), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", res.end, tt.wantMsg)
			}
			if got, want := r.Attribute(), tt.wantAttr; got != want {
				t.Errorf("Attribute() = %q, want %q", got, want)
			}
			if got, want := len(res.records), tt.records; got != want {
				t.Errorf("%d records, want %d", got, want)
			}
			if got, want := len(res.errs), tt.errs; got != want {
				t.Errorf("%d line errors, want %d: %v", got, want, res.errs)
			}
		})
	}
}

func TestReaderFirstLineBroken(t *testing.T) {
	// Before the attribute is known, a broken line is Invalid with the
	// generic parser's reason, not "unlabelled".
	input := `{"source-ref":"https://b/k.jpg"}` + "\n" + `{"source-ref":"s3://b/k.jpg","source-ref":"s3://b/l.jpg"}` + "\n"
	res := readAll(t, NewReader(strings.NewReader(input), Options{}))
	checkLineErrors(t, res.errs, []wantErr{
		bad(1, "source-ref", "want an s3://bucket/key URI"),
		bad(2, "", `key "source-ref" appears twice`),
	})
	if !errors.Is(res.end, ErrNoAttribute) {
		t.Errorf("reading ended with %v, want ErrNoAttribute", res.end)
	}
}

func TestReaderLongLines(t *testing.T) {
	valid := fixtureLines(t, "single-label.manifest")[0]
	// padded returns valid with a pass-through field making it n bytes.
	padded := func(n int) string {
		const head = `{"notes":"`
		pad := n - len(valid) - len(head) - len(`",`) + 1
		return head + strings.Repeat("n", pad) + `",` + valid[1:]
	}
	longRef := func(n int) string {
		const ref = `"s3://reviewlens-photos/2026/11/28/r-1001/front.jpg"`
		pad := n - len(valid) - 1
		return strings.Replace(valid, ref, `"s3://reviewlens-photos/`+strings.Repeat("k", pad)+`/2026/11/28/r-1001/front.jpg"`, 1)
	}
	if got := len(padded(150_000)); got != 150_000 {
		t.Fatalf("padded line is %d bytes", got)
	}
	if got := len(longRef(150_000)); got != 150_000 {
		t.Fatalf("long source-ref line is %d bytes", got)
	}
	second := fixtureLines(t, "single-label.manifest")[1]
	tests := []struct {
		name     string
		input    string
		max      int
		records  []int // lines
		wantErrs []wantErr
	}{
		{
			name:    "150,000 bytes of pass-through field, default limit",
			input:   padded(150_000) + "\n" + second + "\n",
			records: []int{1, 2},
		},
		{
			name:    "150,000-byte source-ref, default limit, CRLF",
			input:   longRef(150_000) + "\r\n" + second + "\r\n",
			records: []int{1, 2},
		},
		{
			name:    "exactly the limit",
			input:   padded(1000) + "\n" + second,
			max:     1000,
			records: []int{1, 2},
		},
		{
			name:    "exactly the limit, CRLF",
			input:   padded(1000) + "\r\n",
			max:     1000,
			records: []int{1},
		},
		{
			name:     "one byte over the limit",
			input:    padded(1001) + "\n" + valid + "\n",
			max:      1000,
			records:  []int{2},
			wantErrs: []wantErr{bad(1, "", "longer than 1000 bytes")},
		},
		{
			name:     "two bytes over the limit, no line ending",
			input:    valid + "\n" + padded(1002),
			max:      1000,
			records:  []int{1},
			wantErrs: []wantErr{bad(2, "", "longer than 1000 bytes")},
		},
		{
			name:     "first line far over the limit",
			input:    strings.Repeat("x", 1000) + "\n" + valid + "\n",
			max:      len(valid),
			records:  []int{2},
			wantErrs: []wantErr{bad(1, "", fmt.Sprintf("longer than %d bytes", len(valid)))},
		},
		{
			name:     "only line far over the limit, no line ending",
			input:    strings.Repeat("x", 300),
			max:      100,
			wantErrs: []wantErr{bad(1, "", "longer than 100 bytes")},
		},
		{
			name:     "over the buffer and the limit",
			input:    valid + "\n" + padded(200_000) + "\n" + longRef(100_001) + "\n" + second + "\n",
			max:      100_000,
			records:  []int{1, 4},
			wantErrs: []wantErr{bad(2, "", "longer than 100000 bytes"), bad(3, "", "longer than 100000 bytes")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.input), Options{MaxLineBytes: tt.max, LabelAttribute: attrCategory})
			res := readAll(t, r)
			if res.end != io.EOF {
				t.Fatalf("reading ended with %v", res.end)
			}
			var lines []int
			for _, rec := range res.records {
				lines = append(lines, rec.Line)
			}
			if diff := cmp.Diff(tt.records, lines, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("record lines (-want +got):\n%s", diff)
			}
			checkLineErrors(t, res.errs, tt.wantErrs)
		})
	}
}

func TestReaderReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	lines := fixtureLines(t, "single-label.manifest")
	r := NewReader(io.MultiReader(strings.NewReader(lines[0]+"\n"+lines[1][:40]), iotest.ErrReader(errDisk)), Options{})
	res := readAll(t, r)
	if got, want := len(res.records), 1; got != want {
		t.Errorf("%d records, want %d", got, want)
	}
	if !errors.Is(res.end, errDisk) {
		t.Errorf("reading ended with %v, want %v", res.end, errDisk)
	}
}

func TestReaderOneByteAtATime(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "crlf-bom-blank.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	res := readAll(t, NewReader(iotest.OneByteReader(bytes.NewReader(data)), Options{}))
	if res.end != io.EOF {
		t.Fatalf("reading ended with %v", res.end)
	}
	diffRecords(t, res.records, crlfRecords)
}

func TestReaderBOMOnlyAtStart(t *testing.T) {
	line := fixtureLines(t, "single-label.manifest")[0]
	res := readAll(t, NewReader(strings.NewReader("\n\xef\xbb\xbf"+line+"\n"), Options{LabelAttribute: attrCategory}))
	checkLineErrors(t, res.errs, []wantErr{bad(2, "", "invalid JSON")})
}

func TestReaderDuplicates(t *testing.T) {
	lines := fixtureLines(t, "auto-labeled.manifest")
	tests := []struct {
		name     string
		opts     Options
		input    []string
		records  []int
		wantErrs []wantErr
	}{
		{
			name:    "first kept",
			input:   []string{lines[0], lines[1], lines[0], lines[0]},
			records: []int{1, 2},
			wantErrs: []wantErr{
				{3, Duplicate, "source-ref", "is on line 1 too, with the same label"},
				{4, Duplicate, "source-ref", "is on line 1 too, with the same label"},
			},
		},
		{
			name:     "a filtered line does not count",
			opts:     Options{HumanOnly: true},
			input:    []string{lines[1], strings.Replace(lines[1], `"human-annotated":"no"`, `"human-annotated":"yes"`, 1)},
			records:  []int{2},
			wantErrs: []wantErr{{1, Filtered, attrCategory + "-metadata", "human-annotated"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, NewReader(strings.NewReader(strings.Join(tt.input, "\n")), tt.opts))
			var got []int
			for _, r := range res.records {
				got = append(got, r.Line)
			}
			if diff := cmp.Diff(tt.records, got); diff != "" {
				t.Errorf("record lines (-want +got):\n%s", diff)
			}
			checkLineErrors(t, res.errs, tt.wantErrs)
		})
	}
}

func TestKindString(t *testing.T) {
	tests := []struct {
		kind Kind
		want string
	}{
		{Invalid, "invalid"},
		{Unlabelled, "unlabelled"},
		{Duplicate, "duplicate"},
		{Filtered, "filtered"},
		{Kind(9), "Kind(9)"},
	}
	for _, tt := range tests {
		if got := tt.kind.String(); got != tt.want {
			t.Errorf("Kind(%d).String() = %q, want %q", int(tt.kind), got, tt.want)
		}
	}
}

func TestLineErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *LineError
		want string
	}{
		{"whole line", &LineError{Line: 3, Reason: "not valid UTF-8"}, "line 3: not valid UTF-8"},
		{"field", &LineError{Line: 7, Field: "source-ref", Reason: "missing"}, "line 7: source-ref: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
