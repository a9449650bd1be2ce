package daily_test

import (
	"os"
	"testing"
	"time"

	"github.com/reviewlens/reviewlens/daily"
)

// TestExampleConfig: examples/run/daily.yaml, which has every key, reads.
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("../examples/run/daily.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := daily.ParseConfig(data, "s3://configs/daily.yaml", "2026-11-28")
	if err != nil {
		t.Fatal(err)
	}
	if c.Reviews != "s3://shop-exports/reviews/dt=2026-11-28/reviews.parquet" || c.Transform.PollInterval != 30*time.Second ||
		c.Transform.Tags["team"] != "reviews" || c.Credit.Report != "s3://reviewlens-data/reports/day-2026-11-28.html" {
		t.Errorf("config %+v: the example's values, {day} replaced", c)
	}
}
