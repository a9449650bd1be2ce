package inspect

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/internal/golden"
	"github.com/reviewlens/reviewlens/table"
)

func readCSVFile(tb testing.TB, path string) ([]Review, []*RowError) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	reviews, bad, err := ReadReviewsCSV(f, filepath.Base(path))
	if err != nil {
		tb.Fatalf("ReadReviewsCSV: %v", err)
	}
	return reviews, bad
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestReadReviewsCSV(t *testing.T) {
	reviews, bad := readCSVFile(t, "testdata/reviews.csv")
	for _, e := range bad {
		t.Errorf("unexpected bad row: %v", e)
	}
	want := []Review{
		{ReviewID: "r1", ReviewType: ProductReview, ImageURI: "s3://photos/2026/11/28/r1-0.jpg", ImageIndex: 0,
			UserID: "u1", ProductID: "p1", CreatedAt: utc("2026-11-28T09:30:00Z")},
		{ReviewID: "r1", ReviewType: ProductReview, ImageURI: "s3://photos/2026/11/28/r1-1.png", ImageIndex: 1,
			UserID: "u1", ProductID: "p1", CreatedAt: utc("2026-11-28T10:15:30.123456Z")}, // to the microsecond
		{ReviewID: "r2", ReviewType: StyleReview, ImageURI: "photos/r2.jpeg", ImageIndex: 0},
		{ReviewID: "r3", ReviewType: StyleReview, ImageURI: "/data/photos/r3.JPG", ImageIndex: 0,
			UserID: "u3", ProductID: "p9", CreatedAt: utc("2026-11-28T10:00:00Z")},
	}
	if diff := cmp.Diff(want, reviews); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
}

// TestReadReviewsCSVBadFile pins the messages people read: every bad row of
// the fixture, in file order, and the rows kept.
func TestReadReviewsCSVBadFile(t *testing.T) {
	reviews, bad := readCSVFile(t, "testdata/reviews-bad.csv")
	var got []string
	for _, e := range bad {
		got = append(got, e.Error())
	}
	want := []string{
		`reviews-bad.csv: row 2: review_type: got "video", want product or style`,
		`reviews-bad.csv: row 3: review_id: missing`,
		`reviews-bad.csv: row 4: image_uri: "https://cdn.example.com/r4-0.jpg": scheme "https://", want s3://bucket/key or a local path`,
		`reviews-bad.csv: row 5: image_uri: "s3://photos" has no key, want s3://bucket/key`,
		`reviews-bad.csv: row 6: image_index: got -1, want an integer from 0 to 2147483647`,
		`reviews-bad.csv: row 7: image_index: got "one", want an integer from 0`,
		`reviews-bad.csv: row 8: review "r1" photo 0 is also on row 1`,
		`reviews-bad.csv: row 9: created_at: got "yesterday", want RFC 3339 (2026-11-28T09:30:00Z) or 2006-01-02 15:04:05 in UTC`,
		`reviews-bad.csv: row 10: 5 fields, want 7 as in the header`,
		`reviews-bad.csv: row 11: review_id: got "a/b", want no '/' or '\'`,
		`reviews-bad.csv: row 12: image_uri: missing, want s3://bucket/key or a local path`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bad rows (-want +got):\n%s", diff)
	}
	var kept []string
	for _, r := range reviews {
		kept = append(kept, r.ImageURI)
	}
	if diff := cmp.Diff([]string{"s3://photos/r1-0.jpg", "s3://photos/r1-1.jpg"}, kept); diff != "" {
		t.Errorf("rows kept (-want +got):\n%s", diff)
	}
	// A rejected row keeps what could be read, for the rejected file.
	if got, want := bad[0].Review.ReviewID, "r2"; got != want {
		t.Errorf("bad row 2 review_id = %q, want %q", got, want)
	}
	if got, want := bad[5].Review.ImageIndex, -1; got != want {
		t.Errorf("bad row 7 image_index = %d, want %d (unreadable)", got, want)
	}
	if !bad[6].Duplicate || bad[0].Duplicate {
		t.Errorf("Duplicate: row 8 %v, row 2 %v; want true, false", bad[6].Duplicate, bad[0].Duplicate)
	}
}

// badRowsSchema is the Parquet file of TestBadRows: a plain file as another
// team might write it (int64 index, string created_at, nullable columns, an
// index column pandas adds).
var badRowsSchema = arrow.NewSchema([]arrow.Field{
	{Name: "__index_level_0__", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "review_id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "review_type", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "image_uri", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "image_index", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "product_id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "created_at", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// TestBadRows checks every kind of bad row in both formats: each case is
// the second row of a file whose first row is good.
type row struct{ id, typ, uri, idx, created string }

func (r row) csv() string {
	return strings.Join([]string{r.id, r.typ, r.uri, r.idx, "u", "p", r.created}, ",")
}

func (r row) json(i int) string {
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var idx any
	if r.idx != "" {
		idx = json.Number(r.idx)
	}
	b, err := json.Marshal(map[string]any{"__index_level_0__": i, "review_id": str(r.id), "review_type": str(r.typ),
		"image_uri": str(r.uri), "image_index": idx, "user_id": "u", "product_id": "p", "created_at": str(r.created)})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestBadRows(t *testing.T) {
	good := row{"r1", "product", "s3://photos/r1-0.jpg", "0", ""}
	tests := []struct {
		name    string
		row     row
		csvOnly bool // the value cannot be stored in the Parquet column
		column  string
		reason  string // a part of it
	}{
		{"unknown review type", row{"r2", "video", "s3://photos/r2.jpg", "0", ""}, false, "review_type", `got "video", want product or style`},
		{"missing review type", row{"r2", "", "s3://photos/r2.jpg", "0", ""}, false, "review_type", "missing"},
		{"missing review id", row{"", "style", "s3://photos/r2.jpg", "0", ""}, false, "review_id", "missing"},
		{"review id with slash", row{"a/b", "style", "s3://photos/r2.jpg", "0", ""}, false, "review_id", "want no '/'"},
		{"review id dot dot", row{"..", "style", "s3://photos/r2.jpg", "0", ""}, false, "review_id", "can name a folder"},
		{"https uri", row{"r2", "style", "https://cdn.example.com/r2.jpg", "0", ""}, false, "image_uri", `scheme "https://"`},
		{"file uri", row{"r2", "style", "file:///data/r2.jpg", "0", ""}, false, "image_uri", `scheme "file://"`},
		{"s3 without key", row{"r2", "style", "s3://photos/", "0", ""}, false, "image_uri", "has no key"},
		{"s3 without bucket", row{"r2", "style", "s3:///r2.jpg", "0", ""}, false, "image_uri", "has no bucket"},
		{"folder", row{"r2", "style", "/data/photos/", "0", ""}, false, "image_uri", "ends in '/'"},
		{"missing uri", row{"r2", "style", "", "0", ""}, false, "image_uri", "missing"},
		{"negative index", row{"r2", "style", "s3://photos/r2.jpg", "-1", ""}, false, "image_index", "got -1"},
		{"index too big", row{"r2", "style", "s3://photos/r2.jpg", "2147483648", ""}, false, "image_index", "got 2147483648"},
		{"missing index", row{"r2", "style", "s3://photos/r2.jpg", "", ""}, false, "image_index", "missing"},
		{"index not a number", row{"r2", "style", "s3://photos/r2.jpg", "1.5", ""}, true, "image_index", `got "1.5"`},
		{"bad created_at", row{"r2", "style", "s3://photos/r2.jpg", "0", "28/11/2026"}, false, "created_at", `got "28/11/2026"`},
		{"created_at without zone", row{"r2", "style", "s3://photos/r2.jpg", "0", "2026-11-28T09:30:00"}, false, "created_at", "want RFC 3339"},
		{"duplicate photo", row{"r1", "style", "s3://photos/other.jpg", "0", ""}, false, "", `review "r1" photo 0 is also on row 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := func(t *testing.T, name string, reviews []Review, bad []*RowError, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(reviews) != 1 || reviews[0].ReviewID != "r1" {
					t.Errorf("%s: reviews %+v, want the first row only", name, reviews)
				}
				if len(bad) != 1 {
					t.Fatalf("%s: bad rows %v, want one", name, bad)
				}
				e := bad[0]
				if e.Row != 2 || e.Column != tt.column || !strings.Contains(e.Reason, tt.reason) || e.Name != name {
					t.Errorf("%s: got %q (row %d, column %q), want row 2, column %q, reason with %q", name, e, e.Row, e.Column, tt.column, tt.reason)
				}
				if got, want := e.Duplicate, tt.column == "" && strings.Contains(tt.reason, "also on row"); got != want {
					t.Errorf("%s: Duplicate = %v, want %v", name, got, want)
				}
			}
			csvText := "review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n" + good.csv() + "\n" + tt.row.csv() + "\n"
			reviews, bad, err := ReadReviewsCSV(strings.NewReader(csvText), "reviews.csv")
			check(t, "reviews.csv", reviews, bad, err)

			if tt.csvOnly {
				return
			}
			data := plainParquet(t, badRowsSchema, "["+good.json(0)+","+tt.row.json(1)+"]")
			reviews, bad, err = ReadReviewsParquet(bytes.NewReader(data), "reviews.parquet")
			check(t, "reviews.parquet", reviews, bad, err)
		})
	}
}

// plainParquet writes rows (a JSON array) as a Parquet file without
// reviewlens metadata, as pandas or Spark would.
func plainParquet(tb testing.TB, sc *arrow.Schema, rows string) []byte {
	tb.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(tb, 0)
	rec, _, err := array.RecordFromJSON(mem, sc, strings.NewReader(rows))
	if err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(sc, &buf, nil, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		tb.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		tb.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestCSVByteOrderMarkAndCRLF(t *testing.T) {
	in := "\xef\xbb\xbfReview_ID,review_type,image_uri,image_index,user_id,product_id,created_at\r\n" +
		"r1,product,s3://photos/r1.jpg,0,,,2026-11-28 09:30:00\r\n" +
		"\r\n" +
		"r2,style,s3://photos/r2.jpg,3,u2,,\r\n"
	reviews, bad, err := ReadReviewsCSV(strings.NewReader(in), "reviews.csv")
	if err != nil || len(bad) > 0 {
		t.Fatalf("err %v, bad rows %v", err, bad)
	}
	want := []Review{
		{ReviewID: "r1", ReviewType: ProductReview, ImageURI: "s3://photos/r1.jpg", CreatedAt: utc("2026-11-28T09:30:00Z")},
		{ReviewID: "r2", ReviewType: StyleReview, ImageURI: "s3://photos/r2.jpg", ImageIndex: 3, UserID: "u2"},
	}
	if diff := cmp.Diff(want, reviews); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
}

func TestCSVUnreadable(t *testing.T) {
	const header = "review_id,review_type,image_uri,image_index,user_id,product_id,created_at\n"
	tests := []struct{ name, in, want string }{
		{"empty", "", "reviews.csv: empty file, want a header row"},
		{"missing columns", "review_id,type,image_uri,index,user_id,product_id,created_at\n",
			"reviews.csv: header: no column review_type, image_index (want review_id, review_type, image_uri, image_index, user_id, product_id, created_at, in any order; found review_id, type, image_uri, index"},
		{"column twice", "review_id,review_type,image_uri,image_index,user_id,product_id,created_at,Review_ID\n",
			"reviews.csv: header: column review_id appears twice (fields 1 and 8)"},
		{"stray quote", header + "r1,product,s3://b/\"x.jpg,0,,,\n", `reviews.csv: row 1: parse error on line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reviews, bad, err := ReadReviewsCSV(strings.NewReader(tt.in), "reviews.csv")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v, want one starting %q", err, tt.want)
			}
			if reviews != nil || bad != nil {
				t.Errorf("got rows with an error: %v, %v", reviews, bad)
			}
		})
	}
}

func TestReviewsRoundTrip(t *testing.T) {
	want := []Review{
		{ReviewID: "r1", ReviewType: ProductReview, ImageURI: "s3://photos/r1-0.jpg", ImageIndex: 0,
			UserID: "u1", ProductID: "p1", CreatedAt: utc("2026-11-28T09:30:00.123456Z")},
		{ReviewID: "r1", ReviewType: ProductReview, ImageURI: "s3://photos/r1-1.jpg", ImageIndex: 1, UserID: "u1"},
		{ReviewID: "r2", ReviewType: StyleReview, ImageURI: "/data/r2.png", ImageIndex: 0, ProductID: "p2"},
	}
	var buf bytes.Buffer
	if err := WriteReviews(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, bad, err := ReadReviewsParquet(bytes.NewReader(buf.Bytes()), "reviews.parquet")
	if err != nil || len(bad) > 0 {
		t.Fatalf("err %v, bad rows %v", err, bad)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	// An empty day is a valid table.
	buf.Reset()
	if err := WriteReviews(&buf, nil); err != nil {
		t.Fatal(err)
	}
	got, bad, err = ReadReviewsParquet(bytes.NewReader(buf.Bytes()), "reviews.parquet")
	if err != nil || len(bad) > 0 || len(got) > 0 {
		t.Errorf("empty table: %v, %v, %v; want nothing", got, bad, err)
	}
}

func TestWriteReviewsRefusesBadRows(t *testing.T) {
	err := WriteReviews(&bytes.Buffer{}, []Review{
		{ReviewID: "r1", ReviewType: ProductReview, ImageURI: "s3://b/1.jpg"},
		{ReviewID: "r1", ReviewType: "video", ImageURI: "s3://b/2.jpg", ImageIndex: 1},
	})
	if got, want := errString(err), `reviews: row 2: review_type: got "video", want product or style`; got != want {
		t.Errorf("err = %s, want %s", got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestPlainParquet reads a file another team might write: dictionary and
// large strings, unsigned indexes, naive nanosecond timestamps, columns in
// another order, and a column of its own.
func TestPlainParquet(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "created_at", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
		{Name: "image_index", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "review_type", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "review_id", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "image_uri", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "product_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "stars", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	data := plainParquet(t, sc, `[
		{"created_at": "2026-11-28T09:30:00.123456789", "image_index": 0, "review_type": "product", "review_id": "r1",
		 "image_uri": "s3://photos/r1.jpg", "user_id": "u1", "product_id": null, "stars": 4.5},
		{"created_at": null, "image_index": 2, "review_type": "style", "review_id": "r2",
		 "image_uri": "photos/r2.png", "user_id": null, "product_id": "p2", "stars": null}
	]`)
	got, bad, err := ReadReviewsParquet(bytes.NewReader(data), "upstream.parquet")
	if err != nil || len(bad) > 0 {
		t.Fatalf("err %v, bad rows %v", err, bad)
	}
	want := []Review{
		{ReviewID: "r1", ReviewType: ProductReview, ImageURI: "s3://photos/r1.jpg", ImageIndex: 0, UserID: "u1",
			CreatedAt: utc("2026-11-28T09:30:00.123456Z")},
		{ReviewID: "r2", ReviewType: StyleReview, ImageURI: "photos/r2.png", ImageIndex: 2, ProductID: "p2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reviews (-want +got):\n%s", diff)
	}
}

func TestParquetUnreadable(t *testing.T) {
	field := func(name string, typ arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: typ, Nullable: true}
	}
	str := arrow.BinaryTypes.String
	schemaWith := func(replace arrow.Field) *arrow.Schema {
		var fields []arrow.Field
		for _, f := range ReviewsTable.Schema.Fields() {
			switch {
			case f.Name == replace.Name && replace.Type == nil:
				continue // dropped
			case f.Name == replace.Name:
				f = replace
			}
			fields = append(fields, field(f.Name, f.Type))
		}
		return arrow.NewSchema(fields, nil)
	}
	var staged bytes.Buffer
	if err := WriteStaged(&staged, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not parquet", []byte("review_id,review_type\n"), "reviews.parquet: read parquet:"},
		{"missing column", plainParquet(t, schemaWith(arrow.Field{Name: "image_index"}), "[]"),
			"reviews.parquet: not a reviewlens reviews table, and no column image_index (want review_id, review_type, image_uri, image_index, user_id, product_id, created_at; found review_id, review_type, image_uri, user_id, product_id, created_at)"},
		{"index as text", plainParquet(t, schemaWith(field("image_index", str)), "[]"),
			"reviews.parquet: column image_index: type utf8, want an integer"},
		{"id as number", plainParquet(t, schemaWith(field("review_id", arrow.PrimitiveTypes.Int64)), "[]"),
			"reviews.parquet: column review_id: type int64, want a string (utf8)"},
		{"created_at as number", plainParquet(t, schemaWith(field("created_at", arrow.PrimitiveTypes.Float64)), "[]"),
			"reviews.parquet: column created_at: type float64, want a timestamp, or a string in RFC 3339"},
		{"another table", staged.Bytes(), `reviews.parquet: is a reviewlens "staged" table, want "reviews"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadReviewsParquet(bytes.NewReader(tt.data), "reviews.parquet")
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant one starting %q", err, tt.want)
			}
		})
	}
}

func TestStagedRoundTrip(t *testing.T) {
	want := []Staged{
		{ReviewID: "r1", ReviewType: ProductReview, ImageIndex: 0, ImageURI: "s3://photos/a/r1-0.jpg",
			InputURI: "s3://photos/a/r1-0.jpg", InputKey: "a/r1-0.jpg", OutputKey: "a/r1-0.jpg.out",
			SizeBytes: 123456, ContentType: "image/jpeg", UserID: "u1", ProductID: "p1",
			CreatedAt: utc("2026-11-28T09:30:00.000001Z"), Day: "2026-11-28"},
		{ReviewID: "r2", ReviewType: StyleReview, ImageIndex: 3, ImageURI: "s3://other/r2.png",
			InputURI: "s3://photos/in/dt=2026-11-28/r2/3.png", InputKey: "r2/3.png", OutputKey: "r2/3.png.out",
			SizeBytes: 99, ContentType: "image/png", Day: "2026-11-28"},
	}
	var buf bytes.Buffer
	if err := WriteStaged(&buf, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadStaged(bytes.NewReader(buf.Bytes()), "staged.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if r := got[1].Review(); r.ImageURI != "s3://other/r2.png" || r.ImageIndex != 3 {
		t.Errorf("Review() = %+v", r)
	}

	var reviews bytes.Buffer
	if err := WriteReviews(&reviews, nil); err != nil {
		t.Fatal(err)
	}
	_, err = ReadStaged(bytes.NewReader(reviews.Bytes()), "staged.parquet")
	if got, want := errString(err), `staged.parquet: is a reviewlens "reviews" table, want "staged"`; got != want {
		t.Errorf("reading a reviews table as staged: %s, want %s", got, want)
	}
}

// The tables' schemas are the contract other languages read (the transform
// step, DuckDB, Athena): refresh with go test ./inspect -update.
func TestTableSchemasGolden(t *testing.T) {
	var reviews, staged bytes.Buffer
	if err := WriteReviews(&reviews, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteStaged(&staged, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		def  table.Def
		file []byte
	}{{ReviewsTable, reviews.Bytes()}, {StagedTable, staged.Bytes()}} {
		golden.Check(t, tt.def.Name+".arrow.golden", tt.def.Schema.String()+"\n")

		pf, err := file.NewParquetReader(bytes.NewReader(tt.file))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		schema.PrintSchema(pf.MetaData().Schema.Root(), &buf, 2)
		golden.Check(t, tt.def.Name+".parquet-schema.golden", buf.String())
		kv := pf.MetaData().KeyValueMetadata()
		for key, want := range map[string]string{table.KeyTable: tt.def.Name, table.KeyVersion: "1"} {
			if v := kv.FindValue(key); v == nil || *v != want {
				t.Errorf("%s: %s metadata = %v, want %q", tt.def.Name, key, v, want)
			}
		}
		pf.Close()
	}
}
