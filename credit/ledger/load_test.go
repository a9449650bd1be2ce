package ledger

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/reviewlens/reviewlens/credit"
)

// benchDay is a day of n decisions shaped like bench/gendecisions': 1 to
// 3 photos each, a reason a photo and a conclusion, a few photos without
// a prediction.
func benchDay(n int, day string) []credit.DecisionRow {
	rows := make([]credit.DecisionRow, n)
	kinds := []string{credit.Grant, credit.Grant, credit.Reject, credit.Manual}
	for i := range rows {
		photos := 1 + i%3
		d := credit.Decision{ReviewID: fmt.Sprintf("rv-%s-%08d", day, i), ReviewType: "product", Decision: kinds[i%len(kinds)]}
		for j := range photos {
			c, conf := "product_in_use", 0.9+float64(i%997)/1e4
			if i%41 == 0 && j == 0 {
				c, conf = "", math.NaN()
			}
			d.Classes = append(d.Classes, c)
			d.Confidences = append(d.Confidences, conf)
			d.Reasons = append(d.Reasons, fmt.Sprintf("photo %d: %s %.4f ≥ 0.90 (grant threshold): qualifies", j, c, conf))
		}
		d.Reasons = append(d.Reasons, "any qualifying photo earns the credit: "+d.Decision)
		if d.Decision == credit.Grant {
			d.Credit = 50
		}
		rows[i] = credit.DecisionRow{Decision: d, PolicyVersion: "2026-11-01.3", Model: "photo-classifier-2026-11-20",
			TransformJob: "transform-" + day + "-0001", Day: day}
	}
	return rows
}

// BenchmarkPublishPostgres publishes a new day of 2^18 decisions into a
// fresh PostgreSQL ledger, the test server (scripts/test-services.sh):
//
//	scripts/test-services.sh go test -run '^$' -bench PublishPostgres -benchtime 3x ./credit/ledger
//
// bench/publish.sh is the step's own benchmark, end to end.
func BenchmarkPublishPostgres(b *testing.B) {
	const day = "2026-11-28"
	rows := benchDay(1<<18, day)
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		l := open(b, postgresDSN(b))
		b.StartTimer()
		if _, err := l.Publish(context.Background(), day, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows)), "decisions/op")
}
