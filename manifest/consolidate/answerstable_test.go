package consolidate_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/go-cmp/cmp"

	"github.com/reviewlens/reviewlens/manifest/consolidate"
)

// allAnswers returns every answer of a, in the order added.
func allAnswers(a *consolidate.Answers) []consolidate.Answer {
	var out []consolidate.Answer
	for i := range a.Len() {
		out = append(out, consolidate.AnswerAt(a, i))
	}
	return out
}

const goodCSV = "\xef\xbb\xbfImage_URI, inspector_id ,label,answered_at,notes\r\n" +
	"s3://b/1.jpg,ana,product,2026-11-28T09:30:00Z,\r\n" +
	"s3://b/1.jpg,ben, Product ,2026-11-28 09:31:00.5,\"a note, quoted\"\r\n" +
	"s3://b/2.jpg,ana,full-length,,\r\n"

func TestReadAnswersCSV(t *testing.T) {
	a, err := consolidate.ReadAnswers(context.Background(), strings.NewReader(goodCSV), "answers.csv", testClasses(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []consolidate.Answer{
		{Photo: "s3://b/1.jpg", Inspector: "ana", Label: "product", At: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC), File: "answers.csv", Row: 1},
		{Photo: "s3://b/1.jpg", Inspector: "ben", Label: "product", At: time.Date(2026, 11, 28, 9, 31, 0, 5e8, time.UTC), File: "answers.csv", Row: 2},
		{Photo: "s3://b/2.jpg", Inspector: "ana", Label: "full-length", File: "answers.csv", Row: 3},
	}
	if diff := cmp.Diff(want, allAnswers(a)); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// writeParquet writes a plain Parquet file (no reviewlens metadata), as
// another labelling tool would, from a JSON fixture.
func writeParquet(tb testing.TB, schema *arrow.Schema, rows string) []byte {
	tb.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rows))
	if err != nil {
		tb.Fatal(err)
	}
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadAnswersParquet(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "label", Type: arrow.BinaryTypes.String},
		{Name: "image_uri", Type: arrow.BinaryTypes.LargeString},
		{Name: "inspector_id", Type: arrow.BinaryTypes.String},
		{Name: "answered_at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "tool", Type: arrow.BinaryTypes.String},
	}, nil)
	data := writeParquet(t, schema, `[
		{"label": "packaging", "image_uri": "s3://b/1.jpg", "inspector_id": "ana", "answered_at": "2026-11-28T09:30:00.250Z", "tool": "x"},
		{"label": "other", "image_uri": "s3://b/2.jpg", "inspector_id": "ben", "answered_at": null, "tool": "x"}
	]`)
	// Told from CSV by its first bytes, whatever its name.
	a, err := consolidate.ReadAnswers(context.Background(), bytes.NewReader(data), "answers.csv", testClasses(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []consolidate.Answer{
		{Photo: "s3://b/1.jpg", Inspector: "ana", Label: "packaging", At: time.Date(2026, 11, 28, 9, 30, 0, 250e6, time.UTC), File: "answers.csv", Row: 1},
		{Photo: "s3://b/2.jpg", Inspector: "ben", Label: "other", File: "answers.csv", Row: 2},
	}
	if diff := cmp.Diff(want, allAnswers(a)); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
}

// Parquet strings are not checked by the Parquet reader: invalid UTF-8 is
// refused here, with the row and column.
func TestReadAnswersParquetInvalidUTF8(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "image_uri", Type: arrow.BinaryTypes.String},
		{Name: "inspector_id", Type: arrow.BinaryTypes.String},
		{Name: "label", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range [][3]string{{"s3://b/1.jpg", "ana", "product"}, {"s3://b/\xff.jpg", "ana", "product"}} {
		for i, v := range row {
			b.Field(i).(*array.StringBuilder).Append(v)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = consolidate.ReadAnswers(context.Background(), bytes.NewReader(buf.Bytes()), "answers.parquet", testClasses(t))
	if want := "answers.parquet: row 2: image_uri: not valid UTF-8"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestReadAnswersParquetErrors(t *testing.T) {
	str := arrow.BinaryTypes.String
	tests := []struct {
		name   string
		fields []arrow.Field
		rows   string
		want   string
	}{
		{name: "missing column", fields: []arrow.Field{{Name: "image_uri", Type: str}, {Name: "label", Type: str}},
			rows: `[]`, want: "answers.parquet: no column inspector_id"},
		{name: "integer label", fields: []arrow.Field{{Name: "image_uri", Type: str}, {Name: "inspector_id", Type: str}, {Name: "label", Type: arrow.PrimitiveTypes.Int32}},
			rows: `[]`, want: "answers.parquet: label: type int32, want a string (utf8)"},
		{name: "null inspector", fields: []arrow.Field{{Name: "image_uri", Type: str}, {Name: "inspector_id", Type: str, Nullable: true}, {Name: "label", Type: str}},
			rows: `[{"image_uri": "s3://b/1.jpg", "inspector_id": "a", "label": "product"}, {"image_uri": "s3://b/1.jpg", "inspector_id": null, "label": "product"}]`,
			want: "answers.parquet: row 2: inspector_id: null, want a value"},
		{name: "bad time string", fields: []arrow.Field{{Name: "image_uri", Type: str}, {Name: "inspector_id", Type: str}, {Name: "label", Type: str}, {Name: "answered_at", Type: str}},
			rows: `[{"image_uri": "s3://b/1.jpg", "inspector_id": "a", "label": "product", "answered_at": "yesterday"}]`,
			want: `answers.parquet: row 1: answered_at: got "yesterday", want a time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := writeParquet(t, arrow.NewSchema(tt.fields, nil), tt.rows)
			_, err := consolidate.ReadAnswers(context.Background(), bytes.NewReader(data), "answers.parquet", testClasses(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// A bad row names the row, the column and what was expected.
func TestReadAnswersCSVErrors(t *testing.T) {
	const header = "image_uri,inspector_id,label,answered_at\n"
	tests := []struct {
		name, csv string
		row       int
		field     string
		want      string
		is        error
	}{
		{name: "empty file", csv: "", want: "empty file, want a header row naming the columns image_uri, inspector_id, label"},
		{name: "no label column", csv: "image_uri,inspector_id\n", want: "no column label"},
		{name: "column twice", csv: "image_uri,label,inspector_id,LABEL\n", field: "label", want: "column appears twice"},
		{name: "unknown class", csv: header + "s3://b/1.jpg,ana,product,\ns3://b/1.jpg,ben,dog,\n", row: 2, field: "label", want: `"dog" is not one of the classes ("product", "packaging", "full-length", "half-length", "other")`, is: consolidate.ErrUnknownClass},
		{name: "not s3", csv: header + "https://b/1.jpg,ana,product,\n", row: 1, field: "image_uri", want: `got "https://b/1.jpg", want an s3://bucket/key URI`},
		{name: "no key", csv: header + "s3://b/,ana,product,\n", row: 1, field: "image_uri", want: "want an s3://bucket/key URI"},
		{name: "empty inspector", csv: header + "s3://b/1.jpg, ,product,\n", row: 1, field: "inspector_id", want: "empty, want the inspector's id"},
		{name: "bad time", csv: header + "s3://b/1.jpg,ana,product,28/11/2026\n", row: 1, field: "answered_at", want: `got "28/11/2026", want a time in RFC 3339`},
		{name: "invalid UTF-8", csv: header + "s3://b/1.jpg,an\xe9,product,\n", row: 1, field: "inspector_id", want: "not valid UTF-8"},
		{name: "too few fields", csv: header + "s3://b/1.jpg,ana,product,\ns3://b/2.jpg,ana\n", row: 2, want: "2 fields, want 4 as in the header"},
		{name: "stray quote", csv: header + "s3://b/1.jpg,\"ana,product,\n", row: 1, want: "quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := consolidate.ReadAnswers(context.Background(), strings.NewReader(tt.csv), "answers.csv", testClasses(t))
			var ie *consolidate.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want an *InputError", err, err)
			}
			if ie.File != "answers.csv" || ie.Row != tt.row || ie.Field != tt.field {
				t.Errorf("error at %q row %d field %q, want %q row %d field %q (%v)", ie.File, ie.Row, ie.Field, "answers.csv", tt.row, tt.field, err)
			}
			if !strings.Contains(ie.Reason, tt.want) {
				t.Errorf("reason %q, want it to contain %q", ie.Reason, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}
}

func TestReadTrust(t *testing.T) {
	k := 4
	tests := []struct {
		name, csv string
		want      map[string]consolidate.Trust
		err       string
	}{
		{name: "accuracy", csv: "# who we trust\ninspector_id,accuracy,strength\nana,0.98,50\nben,0.9,\n",
			want: map[string]consolidate.Trust{"ana": {Accuracy: 0.98, Strength: 50}, "ben": {Accuracy: 0.9}}},
		{name: "weight", csv: "Inspector_ID,Weight\nana,0\n",
			want: map[string]consolidate.Trust{"ana": {Accuracy: 0.25}}},
		{name: "both", csv: "inspector_id,accuracy,weight\n", err: "want exactly one of the columns accuracy and weight"},
		{name: "no id", csv: "accuracy\n0.9\n", err: "no column inspector_id"},
		{name: "accuracy 1", csv: "inspector_id,accuracy\nana,1\n", err: `trust.csv: row 1: accuracy: got "1", want a number strictly between 0 and 1`},
		{name: "repeated", csv: "inspector_id,accuracy\nana,0.9\nana,0.8\n", err: `row 2: inspector_id: "ana" is on row 1 too`},
		{name: "bad strength", csv: "inspector_id,accuracy,strength\nana,0.9,-3\n", err: `row 1: strength: got "-3", want a positive number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := consolidate.ReadTrust(strings.NewReader(tt.csv), "trust.csv", k)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("trust (-want +got):\n%s", diff)
			}
		})
	}
	// A weight is the log-odds of an accuracy: they convert both ways.
	got, err := consolidate.ReadTrust(strings.NewReader("inspector_id,weight\nana,3.295836866004329\n"), "trust.csv", k)
	if err != nil {
		t.Fatal(err)
	}
	if acc := got["ana"].Accuracy; acc < 0.9-1e-12 || acc > 0.9+1e-12 {
		t.Errorf("weight ln(27) among 4 classes = accuracy %v, want 0.9", acc)
	}
	if w := consolidate.Weight(0.9, k); w < 3.2958 || w > 3.2959 {
		t.Errorf("Weight(0.9, 4) = %v, want ln(27)", w)
	}
}
