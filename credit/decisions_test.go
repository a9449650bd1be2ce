package credit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/table"
)

// decisionRows makes n rows of a day, more than one record batch's worth
// when n is large, with a photo without a prediction now and then.
func decisionRows(n int, day string) []DecisionRow {
	rows := make([]DecisionRow, n)
	for i := range rows {
		d := Decision{
			ReviewID: fmt.Sprintf("r%07d", i), ReviewType: "product", Decision: []string{Grant, Reject, Manual}[i%3],
			Credit: int64(i % 500), Classes: []string{"product"}, Confidences: []float64{float64(i%100) / 100},
			Reasons: []string{fmt.Sprintf("photo 0: product %.2f", float64(i%100)/100), "conclusion " + fmt.Sprint(i)},
		}
		if i%7 == 0 {
			d.Classes = append(d.Classes, "")
			d.Confidences = append(d.Confidences, math.NaN())
		}
		if i%11 == 0 {
			d.Classes, d.Confidences, d.Reasons = nil, nil, nil
		}
		rows[i] = DecisionRow{Decision: d, PolicyVersion: "p1", Model: "m1", Day: day}
		if i%5 == 0 {
			rows[i].Model, rows[i].TransformJob = "", "job-1"
		}
	}
	return rows
}

func TestDecisionsReader(t *testing.T) {
	const n = 40000 // more than two record batches
	want := decisionRows(n, "2026-11-28")
	var buf bytes.Buffer
	if err := WriteDecisions(&buf, want); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dr, err := OpenDecisions(bytes.NewReader(buf.Bytes()), "decisions.parquet")
	if err != nil {
		t.Fatal(err)
	}
	defer dr.Close()
	if got := dr.NumRows(); got != n {
		t.Errorf("NumRows = %d, want %d", got, n)
	}
	if day, err := dr.Day(ctx); err != nil || day != "2026-11-28" {
		t.Errorf("Day = %q, %v; want 2026-11-28", day, err)
	}
	// Rows are kept after the read: they must not share memory that a
	// later batch reuses. And All runs twice alike.
	for run := range 2 {
		var got []DecisionRow
		for r, err := range dr.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateNaNs(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("run %d: rows (-want +got):\n%s", run, diff)
		}
	}
	// Stopping early is fine.
	seen := 0
	for _, err := range dr.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if seen++; seen == 3 {
			break
		}
	}
	if seen != 3 {
		t.Errorf("read %d rows before stopping, want 3", seen)
	}
}

func TestDecisionsReaderEmptyAndWrongTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDecisions(&buf, nil); err != nil {
		t.Fatal(err)
	}
	dr, err := OpenDecisions(bytes.NewReader(buf.Bytes()), "empty.parquet")
	if err != nil {
		t.Fatal(err)
	}
	defer dr.Close()
	if day, err := dr.Day(context.Background()); err != nil || day != "" {
		t.Errorf("Day of an empty table = %q, %v; want \"\", nil", day, err)
	}
	for r, err := range dr.All(context.Background()) {
		t.Errorf("All of an empty table yields %+v, %v", r, err)
	}

	var other bytes.Buffer
	w, err := table.NewWriter(&other, table.Def{Name: "labels", Version: 1, Schema: DecisionsTable.Schema}, table.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = OpenDecisions(bytes.NewReader(other.Bytes()), "labels.parquet")
	var mm *table.MismatchError
	if !errors.As(err, &mm) {
		t.Errorf("OpenDecisions of a labels table: err = %v, want a *table.MismatchError", err)
	}
}
