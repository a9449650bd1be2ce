package manifest

import (
	"github.com/reviewlens/reviewlens/internal/golden"

	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/table"
)

func labelsBool(b bool) *bool { return &b }

// writeLabelsFile writes rows with WriteLabels and returns the file.
func writeLabelsFile(tb testing.TB, rows []LabelRow) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteLabels(&buf, rows); err != nil {
		tb.Fatalf("WriteLabels: %v", err)
	}
	return buf.Bytes()
}

var cmpLabels = []cmp.Option{cmpopts.EquateNaNs(), cmpopts.EquateEmpty()}

// The labels table's schemas are the contract other languages read: the
// Arrow schema the Go code writes and the Parquet schema in the file.
func TestLabelsTableGolden(t *testing.T) {
	if got, want := LabelsTable.Name, "labels"; got != want {
		t.Errorf("LabelsTable.Name = %q, want %q", got, want)
	}
	golden.Check(t, "labels.arrow.golden", []byte(LabelsTable.Schema.String()+"\n"))

	data := writeLabelsFile(t, []LabelRow{{SourceRef: "s3://b/a.jpg", Label: 1, Confidence: math.NaN(), Split: SplitTrain}})
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	var buf bytes.Buffer
	schema.PrintSchema(pf.MetaData().Schema.Root(), &buf, 2)
	golden.Check(t, "labels.parquet-schema.golden", buf.Bytes())

	kv := pf.MetaData().KeyValueMetadata()
	for key, want := range map[string]string{
		table.KeyTable:   LabelsTable.Name,
		table.KeyVersion: fmt.Sprint(LabelsTable.Version),
	} {
		if v := kv.FindValue(key); v == nil || *v != want {
			t.Errorf("%s metadata = %v, want %q", key, v, want)
		}
	}
}

func TestLabelsRoundTrip(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 30, 45, 123456000, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CEST", 2*60*60)
	}
	tests := []struct {
		name string
		rows []LabelRow
		want []LabelRow // nil: rows
	}{
		{name: "no rows"},
		{
			name: "every value set",
			rows: []LabelRow{
				{SourceRef: "s3://bucket/a.jpg", Label: 3, ClassName: "product", Confidence: 0.97, Human: labelsBool(true), JobName: "job-1", AnnotatedAt: at, Split: SplitTrain},
				{SourceRef: "s3://bucket/b.jpg", Label: 0, ClassName: "packaging", Confidence: 0, Human: labelsBool(false), JobName: "job-2", AnnotatedAt: at.Add(time.Microsecond), Split: SplitValidation},
			},
		},
		{
			name: "every nullable value null",
			rows: []LabelRow{
				{SourceRef: "s3://bucket/c.jpg", Label: 1, Confidence: math.NaN(), Split: SplitTrain},
				{SourceRef: "s3://bucket/d.jpg", Label: 2, Confidence: math.NaN(), Split: SplitValidation},
			},
		},
		{
			name: "each column null alone",
			rows: []LabelRow{
				{SourceRef: "s3://b/class", Label: 1, Confidence: 1, Human: labelsBool(true), JobName: "j", AnnotatedAt: at, Split: SplitTrain},
				{SourceRef: "s3://b/conf", Label: 1, ClassName: "c", Confidence: math.NaN(), Human: labelsBool(true), JobName: "j", AnnotatedAt: at, Split: SplitTrain},
				{SourceRef: "s3://b/human", Label: 1, ClassName: "c", Confidence: 1, JobName: "j", AnnotatedAt: at, Split: SplitValidation},
				{SourceRef: "s3://b/job", Label: 1, ClassName: "c", Confidence: 1, Human: labelsBool(false), AnnotatedAt: at, Split: SplitTrain},
				{SourceRef: "s3://b/at", Label: 1, ClassName: "c", Confidence: 1, Human: labelsBool(false), JobName: "j", Split: SplitValidation},
			},
		},
		{
			name: "unicode and odd source refs",
			rows: []LabelRow{
				{SourceRef: "s3://bücket/фото/猫 1.jpg", Label: 7, ClassName: "full-length", Confidence: 0.5, Split: SplitTrain},
				{SourceRef: "s3://b/emoji-🐈‍⬛.png", Label: 8, ClassName: "half-length 👗", Confidence: math.NaN(), Split: SplitValidation},
				{SourceRef: "s3://b/quote\"tab\tnewline\n.jpg", Label: 9, Confidence: -0.25, JobName: "jöb", Split: SplitTrain},
				{SourceRef: "", Label: math.MaxInt32, Confidence: math.Inf(1), Split: SplitTrain},
			},
		},
		{
			name: "a photo with several classes",
			rows: []LabelRow{
				{SourceRef: "s3://b/multi.jpg", Label: 0, ClassName: "product", Confidence: 0.9, Human: labelsBool(true), JobName: "j", AnnotatedAt: at, Split: SplitValidation},
				{SourceRef: "s3://b/multi.jpg", Label: 2, ClassName: "full-length", Confidence: 0.8, Human: labelsBool(true), JobName: "j", AnnotatedAt: at, Split: SplitValidation},
			},
		},
		{
			name: "times",
			rows: []LabelRow{
				{SourceRef: "s3://b/epoch", Label: 1, Confidence: math.NaN(), AnnotatedAt: time.Unix(0, 0), Split: SplitTrain},
				{SourceRef: "s3://b/before-epoch", Label: 1, Confidence: math.NaN(), AnnotatedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), Split: SplitTrain},
				{SourceRef: "s3://b/zone", Label: 1, Confidence: math.NaN(), AnnotatedAt: at.In(paris), Split: SplitTrain},
				{SourceRef: "s3://b/nanos", Label: 1, Confidence: math.NaN(), AnnotatedAt: at.Add(999), Split: SplitTrain},
			},
			// Times are read back in UTC (cmp compares them with
			// time.Time.Equal) and to the microsecond.
			want: []LabelRow{
				{SourceRef: "s3://b/epoch", Label: 1, Confidence: math.NaN(), AnnotatedAt: time.Unix(0, 0), Split: SplitTrain},
				{SourceRef: "s3://b/before-epoch", Label: 1, Confidence: math.NaN(), AnnotatedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC), Split: SplitTrain},
				{SourceRef: "s3://b/zone", Label: 1, Confidence: math.NaN(), AnnotatedAt: at, Split: SplitTrain},
				{SourceRef: "s3://b/nanos", Label: 1, Confidence: math.NaN(), AnnotatedAt: at, Split: SplitTrain},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := writeLabelsFile(t, tt.rows)
			got, err := ReadLabels(context.Background(), bytes.NewReader(data), "labels.parquet")
			if err != nil {
				t.Fatalf("ReadLabels: %v", err)
			}
			want := tt.want
			if want == nil {
				want = tt.rows
			}
			if diff := cmp.Diff(want, got, cmpLabels...); diff != "" {
				t.Errorf("rows read back (-want +got):\n%s", diff)
			}
			for i, r := range got {
				if !r.AnnotatedAt.IsZero() && r.AnnotatedAt.Location() != time.UTC {
					t.Errorf("row %d: AnnotatedAt in %s, want UTC", i, r.AnnotatedAt.Location())
				}
			}
		})
	}
}

// A table of more rows than a record batch holds is read whole.
func TestLabelsRoundTripLarge(t *testing.T) {
	const n = 70000 // more than the 64Ki rows of one record batch
	rows := make([]LabelRow, n)
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range rows {
		r := LabelRow{
			SourceRef:  fmt.Sprintf("s3://bucket/photos/%06d.jpg", i),
			Label:      i % 5,
			Confidence: math.NaN(),
			Split:      SplitTrain,
		}
		if i%3 == 0 {
			r.ClassName = fmt.Sprintf("class-%d", i%5)
			r.Confidence = float64(i%100) / 100
		}
		if i%7 == 0 {
			r.Human = labelsBool(i%2 == 0)
			r.JobName = "job"
			r.AnnotatedAt = base.Add(time.Duration(i) * time.Second)
		}
		if i%10 == 0 {
			r.Split = SplitValidation
		}
		rows[i] = r
	}
	data := writeLabelsFile(t, rows)
	got, err := ReadLabels(context.Background(), bytes.NewReader(data), "labels.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(got), len(rows); got != want {
		t.Fatalf("read %d rows, want %d", got, want)
	}
	// cmp.Diff of 70000 rows is slow under -race; diff the first
	// differing row only.
	for i := range rows {
		if !sameLabelRow(rows[i], got[i]) {
			t.Fatalf("row %d (-want +got):\n%s", i, cmp.Diff(rows[i], got[i], cmpLabels...))
		}
	}
}

func sameLabelRow(a, b LabelRow) bool {
	sameConf := a.Confidence == b.Confidence || math.IsNaN(a.Confidence) && math.IsNaN(b.Confidence)
	sameHuman := (a.Human == nil) == (b.Human == nil) && (a.Human == nil || *a.Human == *b.Human)
	return a.SourceRef == b.SourceRef && a.Label == b.Label && a.ClassName == b.ClassName &&
		sameConf && sameHuman && a.JobName == b.JobName && a.AnnotatedAt.Equal(b.AnnotatedAt) && a.Split == b.Split
}

func TestReadLabelsOtherFile(t *testing.T) {
	other := func(def table.Def) []byte {
		var buf bytes.Buffer
		w, err := table.NewWriter(&buf, def, table.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name         string
		data         []byte
		mismatch     bool
		wantContains []string
	}{
		{
			name:         "another table",
			data:         other(table.Def{Name: "predictions", Version: 1, Schema: LabelsTable.Schema}),
			mismatch:     true,
			wantContains: []string{"out/predictions.parquet", `"predictions"`, `"labels"`},
		},
		{
			name:         "newer labels version",
			data:         other(table.Def{Name: "labels", Version: LabelsTable.Version + 1, Schema: LabelsTable.Schema}),
			mismatch:     true,
			wantContains: []string{"out/predictions.parquet", "labels table schema version 2", "reads version 1"},
		},
		{
			name:         "not parquet",
			data:         []byte("source-ref,class\n"),
			wantContains: []string{"out/predictions.parquet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ReadLabels(context.Background(), bytes.NewReader(tt.data), "out/predictions.parquet")
			if err == nil {
				t.Fatalf("ReadLabels succeeded with %d rows", len(rows))
			}
			var mm *table.MismatchError
			if got, want := errors.As(err, &mm), tt.mismatch; got != want {
				t.Errorf("error %v: *table.MismatchError %t, want %t", err, got, want)
			}
			for _, s := range tt.wantContains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}
