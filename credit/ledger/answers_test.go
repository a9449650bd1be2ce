package ledger

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/go-cmp/cmp"
)

func TestReadAnswersCSV(t *testing.T) {
	const file = "review_id,outcome,inspector,decided_at\n" +
		"r1,grant,alice,2026-11-29T14:03:00Z\n" +
		" r2 , Reject ,bob,2026-11-29 15:04:05\n" + // spaces, case, a naive time (UTC)
		"r3,grant,carol,2026-11-29T16:00:00+09:00\n"
	answers, bad, err := ReadAnswers([]byte("\xef\xbb\xbf"+file), "answers.csv", ReadAnswersOptions{})
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadAnswers: %v, bad %v", err, bad)
	}
	want := []Answer{
		{ReviewID: "r1", Outcome: "grant", Inspector: "alice", DecidedAt: time.Date(2026, 11, 29, 14, 3, 0, 0, time.UTC), Row: 1},
		{ReviewID: "r2", Outcome: "reject", Inspector: "bob", DecidedAt: time.Date(2026, 11, 29, 15, 4, 5, 0, time.UTC), Row: 2},
		{ReviewID: "r3", Outcome: "grant", Inspector: "carol", DecidedAt: time.Date(2026, 11, 29, 7, 0, 0, 0, time.UTC), Row: 3},
	}
	if diff := cmp.Diff(want, answers); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

func TestReadAnswersPhotos(t *testing.T) {
	const file = "Review_ID,outcome,inspector,decided_at,image_index,image_uri,class_name,note\n" +
		"r1,grant,alice,2026-11-29T14:03:00Z,1,s3://photos/r1/1.jpg,packaging,\n" +
		"r1,grant,alice,2026-11-29T14:03:00Z,0,s3://photos/r1/0.jpg,product,the box is open\n" +
		"r2,reject,alice,2026-11-29T14:04:00Z,,,,no photo classes\n"
	answers, bad, err := ReadAnswers([]byte(file), "answers.csv", ReadAnswersOptions{Classes: []string{"product", "packaging"}})
	if err != nil || len(bad) > 0 {
		t.Fatalf("ReadAnswers: %v, bad %v", err, bad)
	}
	want := []Answer{
		{ReviewID: "r1", Outcome: "grant", Inspector: "alice", DecidedAt: time.Date(2026, 11, 29, 14, 3, 0, 0, time.UTC), Row: 1,
			Photos: []PhotoLabel{{1, "s3://photos/r1/1.jpg", "packaging"}, {0, "s3://photos/r1/0.jpg", "product"}}},
		{ReviewID: "r2", Outcome: "reject", Inspector: "alice", DecidedAt: time.Date(2026, 11, 29, 14, 4, 0, 0, time.UTC), Row: 3},
	}
	if diff := cmp.Diff(want, answers); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// Each bad row is named by its row and column, with what was expected; a
// review with a bad row is left out whole.
func TestReadAnswersBadRows(t *testing.T) {
	const header = "review_id,outcome,inspector,decided_at,image_index,image_uri,class_name\n"
	const ok = "ok,grant,alice,2026-11-29T14:03:00Z,,,\n"
	for _, tc := range []struct {
		name, rows       string
		row              int
		column, contains string
		others           int // other rows of the review, refused with it
	}{
		{"outcome", "r1,maybe,alice,2026-11-29T14:03:00Z,,,\n", 2, "outcome", `"maybe", want grant or reject`, 0},
		{"no outcome", "r1,,alice,2026-11-29T14:03:00Z,,,\n", 2, "outcome", "missing", 0},
		{"no review", ",grant,alice,2026-11-29T14:03:00Z,,,\n", 2, "review_id", "missing", 0},
		{"long review id", strings.Repeat("x", 300) + ",grant,alice,2026-11-29T14:03:00Z,,,\n", 2, "review_id", "300 bytes, want at most 256", 0},
		{"not UTF-8", "r\xff,grant,alice,2026-11-29T14:03:00Z,,,\n", 2, "review_id", "not valid UTF-8", 0},
		{"no inspector", "r1,grant,,2026-11-29T14:03:00Z,,,\n", 2, "inspector", "missing, want who decided", 0},
		{"time", "r1,grant,alice,yesterday,,,\n", 2, "decided_at", `"yesterday", want a time such as 2026-11-29T14:03:00Z`, 0},
		{"short row", "r1,grant,alice\n", 2, "", "3 fields, want 7 as in the header", 0},
		{"index", "r1,grant,alice,2026-11-29T14:03:00Z,first,s3://b/r1/0.jpg,product\n", 2, "image_index", `"first", want an integer from 0`, 0},
		{"negative index", "r1,grant,alice,2026-11-29T14:03:00Z,-1,s3://b/r1/0.jpg,product\n", 2, "image_index", "want an integer from 0", 0},
		{"class without index", "r1,grant,alice,2026-11-29T14:03:00Z,,s3://b/r1/0.jpg,product\n", 2, "image_index", "missing", 0},
		{"class without photo", "r1,grant,alice,2026-11-29T14:03:00Z,0,,product\n", 2, "image_uri", "missing", 0},
		{"photo not in S3", "r1,grant,alice,2026-11-29T14:03:00Z,0,/tmp/x.jpg,product\n", 2, "image_uri", "want the photo's s3://bucket/key", 0},
		{"webp", "r1,grant,alice,2026-11-29T14:03:00Z,0,s3://b/r1/0.webp,product\n", 2, "image_uri", "JPEG or PNG", 0},
		{"unknown class", "r1,grant,alice,2026-11-29T14:03:00Z,0,s3://b/r1/0.jpg,produkt\n", 2, "class_name", `"produkt" is not a class of the model`, 0},
		{"rows disagree", "r1,grant,alice,2026-11-29T14:03:00Z,0,s3://b/r1/0.jpg,product\nr1,reject,alice,2026-11-29T14:03:00Z,1,s3://b/r1/1.jpg,product\n",
			3, "outcome", `"reject" differs from row 2's "grant": a review has one answer`, 1},
		{"photo twice", "r1,grant,alice,2026-11-29T14:03:00Z,0,s3://b/r1/0.jpg,product\nr1,grant,alice,2026-11-29T14:03:00Z,0,s3://b/r1/0.jpg,product\n",
			3, "image_index", "photo 0 of review \"r1\" is given in row 2 already", 1},
		{"answered twice", "r1,grant,alice,2026-11-29T14:03:00Z,,,\nr1,grant,alice,2026-11-29T14:03:00Z,,,\n",
			3, "", "answered in row 2 already", 1},
		{"a bad photo row spoils its review", "r1,grant,alice,2026-11-29T14:03:00Z,0,s3://b/r1/0.jpg,product\nr1,grant,alice,2026-11-29T14:03:00Z,1,s3://b/r1/1.gif,product\n",
			3, "image_uri", ".gif", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answers, bad, err := ReadAnswers([]byte(header+ok+tc.rows), "answers.csv", ReadAnswersOptions{Classes: []string{"product", "packaging"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(answers) != 1 || answers[0].ReviewID != "ok" {
				t.Errorf("answers %+v, want the good row's alone", answers)
			}
			if len(bad) != 1+tc.others {
				t.Fatalf("%d bad rows, want %d: %v", len(bad), 1+tc.others, bad)
			}
			var e *AnswerError
			for _, b := range bad {
				if b.Row == tc.row {
					e = b
				} else if !strings.Contains(b.Reason, "another row of review") {
					t.Errorf("other bad row %v: want it refused with its review", b)
				}
			}
			if e == nil {
				t.Fatalf("no bad row %d in %v", tc.row, bad)
			}
			if e.Column != tc.column || !strings.Contains(e.Error(), tc.contains) || !strings.HasPrefix(e.Error(), "answers.csv: row ") {
				t.Errorf("bad row %q (column %q), want column %q saying %q", e, e.Column, tc.column, tc.contains)
			}
		})
	}
}

func TestReadAnswersFileErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, contains string }{
		{"empty", "", "empty file, want a header row naming the columns review_id, outcome, inspector, decided_at"},
		{"no outcome column", "review_id,inspector,decided_at\nr1,alice,2026-11-29T14:03:00Z\n", "no column outcome"},
		{"photo columns in part", "review_id,outcome,inspector,decided_at,class_name\n", "column class_name without the others"},
		{"column twice", "review_id,outcome,inspector,decided_at,outcome\n", "column outcome appears twice"},
		{"stray quote", "review_id,outcome,inspector,decided_at\nr1,\"grant,alice,x\n", "row 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadAnswers([]byte(tc.file), "answers.csv", ReadAnswersOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("err = %v, want it to say %q", err, tc.contains)
			}
		})
	}
}

// A Parquet answers file, as a labelling tool writes it: a timestamp, a
// 64-bit index, a dictionary-encoded outcome and a null where a row gives
// no photo.
func TestReadAnswersParquet(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "review_id", Type: arrow.BinaryTypes.String},
		{Name: "outcome", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
		{Name: "inspector", Type: arrow.BinaryTypes.LargeString},
		{Name: "decided_at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: "image_index", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "image_uri", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "class_name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	at := arrow.Timestamp(time.Date(2026, 11, 29, 14, 3, 0, 0, time.UTC).UnixMilli())
	for _, r := range []struct {
		id, outcome string
		index       int64 // -1: null
		uri, class  string
	}{
		{"r1", "grant", 0, "s3://b/r1/0.jpg", "product"},
		{"r2", "reject", -1, "", ""},
		{"r3", "maybe", -1, "", ""},
	} {
		b.Field(0).(*array.StringBuilder).Append(r.id)
		if err := b.Field(1).(*array.BinaryDictionaryBuilder).AppendString(r.outcome); err != nil {
			t.Fatal(err)
		}
		b.Field(2).(*array.LargeStringBuilder).Append("alice")
		b.Field(3).(*array.TimestampBuilder).Append(at)
		if r.index < 0 {
			b.Field(4).AppendNull()
			b.Field(5).AppendNull()
			b.Field(6).AppendNull()
		} else {
			b.Field(4).(*array.Int64Builder).Append(r.index)
			b.Field(5).(*array.StringBuilder).Append(r.uri)
			b.Field(6).(*array.StringBuilder).Append(r.class)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	if err := pqarrow.WriteTable(tbl, &buf, 1024, nil, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	answers, bad, err := ReadAnswers(buf.Bytes(), "answers.parquet", ReadAnswersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 29, 14, 3, 0, 0, time.UTC)
	want := []Answer{
		{ReviewID: "r1", Outcome: "grant", Inspector: "alice", DecidedAt: when, Row: 1, Photos: []PhotoLabel{{0, "s3://b/r1/0.jpg", "product"}}},
		{ReviewID: "r2", Outcome: "reject", Inspector: "alice", DecidedAt: when, Row: 2},
	}
	if diff := cmp.Diff(want, answers); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	if len(bad) != 1 || bad[0].Row != 3 || bad[0].Column != "outcome" {
		t.Errorf("bad rows %v, want row 3's outcome", bad)
	}
}

func FuzzReadAnswersCSV(f *testing.F) {
	f.Add([]byte("review_id,outcome,inspector,decided_at\nr1,grant,alice,2026-11-29T14:03:00Z\n"))
	f.Add([]byte("review_id,outcome,inspector,decided_at,image_index,image_uri,class_name\nr1,grant,a,2026-11-29 14:03:00,0,s3://b/k.jpg,c\nr1,grant,a,2026-11-29 14:03:00,0,s3://b/k.jpg,c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		answers, bad, err := ReadAnswers(data, "fuzz.csv", ReadAnswersOptions{})
		if err != nil {
			return
		}
		// Whatever it reads is valid for Resolve.
		if err := checkAnswers(answers); err != nil {
			t.Fatalf("answers read are refused: %v", err)
		}
		for _, b := range bad {
			if b.Row <= 0 || b.Reason == "" {
				t.Fatalf("bad row without row or reason: %+v", b)
			}
		}
	})
}
