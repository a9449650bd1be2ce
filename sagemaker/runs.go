package sagemaker

import (
	"cmp"
	"context"
	"io"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/reviewlens/reviewlens/table"
)

// A Run is one training job of a grid search: a row of runs.parquet.
type Run struct {
	JobName   string    // the SageMaker training job
	BaseName  string    // the grid point's name; attempts share it
	Attempt   int       // 1 for the first job of a grid point
	TuningJob string    // the hyperparameter tuning job, for --strategy sagemaker-grid
	Point     []Setting // the grid point: the varied hyperparameters
	// Hyperparameters are every hyperparameter sent.
	Hyperparameters map[string]string
	Status          string // Completed, Failed, Stopped, InProgress
	SecondaryStatus string
	FailureReason   string
	// Metrics are the job's final metrics (FinalMetricDataList).
	Metrics         map[string]float64
	ObjectiveMetric string
	Objective       float64 // NaN when the job has no value of the objective
	TrainingSeconds int64   // 0 when SageMaker gives none
	BillableSeconds int64
	InstanceType    string
	InstanceCount   int
	ModelArtifact   string // s3://.../model.tar.gz, when completed
	Best            bool
	CreatedAt       time.Time
	EndedAt         time.Time
}

// Objective directions.
const (
	Maximize = "Maximize"
	Minimize = "Minimize"
)

// MarkBest sets Best on the best completed run: the highest objective (the
// lowest with Minimize), then the fewest billable seconds, then the name.
// It returns the best run's index, or -1 when no run has an objective.
func MarkBest(runs []Run, direction string) int {
	best := -1
	for i := range runs {
		runs[i].Best = false
		r := &runs[i]
		if r.Status != "Completed" || math.IsNaN(r.Objective) {
			continue
		}
		if best < 0 || better(r, &runs[best], direction) {
			best = i
		}
	}
	if best >= 0 {
		runs[best].Best = true
	}
	return best
}

func better(a, b *Run, direction string) bool {
	if a.Objective != b.Objective {
		if direction == Minimize {
			return a.Objective < b.Objective
		}
		return a.Objective > b.Objective
	}
	billable := func(r *Run) int64 {
		if r.BillableSeconds == 0 {
			return math.MaxInt64
		}
		return r.BillableSeconds
	}
	if c := cmp.Compare(billable(a), billable(b)); c != 0 {
		return c < 0
	}
	return a.JobName < b.JobName
}

var (
	stringMap = arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)
	floatMap  = arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)
	utcMicros = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
)

// RunsTable is runs.parquet: one row per training job of a grid search.
var RunsTable = table.Def{
	Name:    "runs",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "job_name", Type: arrow.BinaryTypes.String},
		{Name: "base_name", Type: arrow.BinaryTypes.String},
		{Name: "attempt", Type: arrow.PrimitiveTypes.Int32},
		{Name: "tuning_job", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "grid_point", Type: stringMap},
		{Name: "hyperparameters", Type: stringMap},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "secondary_status", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "failure_reason", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "metrics", Type: floatMap},
		{Name: "objective_metric", Type: arrow.BinaryTypes.String},
		{Name: "objective", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "training_seconds", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "billable_seconds", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "instance_type", Type: arrow.BinaryTypes.String},
		{Name: "instance_count", Type: arrow.PrimitiveTypes.Int32},
		{Name: "model_artifact", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "best", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "created_at", Type: utcMicros, Nullable: true},
		{Name: "ended_at", Type: utcMicros, Nullable: true},
	}, nil),
}

// WriteRuns writes runs as a runs table.
func WriteRuns(w io.Writer, runs []Run) error {
	tw, err := table.NewWriter(w, RunsTable, table.WriterOptions{})
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, RunsTable.Schema)
	defer b.Release()
	str := func(i int, s string, null bool) {
		sb := b.Field(i).(*array.StringBuilder)
		if null {
			sb.AppendNull()
		} else {
			sb.Append(s)
		}
	}
	strMap := func(i int, m map[string]string, keys []string) {
		mb := b.Field(i).(*array.MapBuilder)
		mb.Append(true)
		for _, k := range keys {
			mb.KeyBuilder().(*array.StringBuilder).Append(k)
			mb.ItemBuilder().(*array.StringBuilder).Append(m[k])
		}
	}
	i64 := func(i int, v int64) {
		ib := b.Field(i).(*array.Int64Builder)
		if v == 0 {
			ib.AppendNull()
		} else {
			ib.Append(v)
		}
	}
	ts := func(i int, t time.Time) {
		tb := b.Field(i).(*array.TimestampBuilder)
		if t.IsZero() {
			tb.AppendNull()
		} else {
			tb.Append(arrow.Timestamp(t.UnixMicro()))
		}
	}
	for _, r := range runs {
		str(0, r.JobName, false)
		str(1, r.BaseName, false)
		b.Field(2).(*array.Int32Builder).Append(int32(r.Attempt))
		str(3, r.TuningJob, r.TuningJob == "")
		point := map[string]string{}
		var pointKeys []string
		for _, s := range r.Point {
			point[s.Name] = s.Value
			pointKeys = append(pointKeys, s.Name)
		}
		strMap(4, point, pointKeys)
		strMap(5, r.Hyperparameters, slices.Sorted(maps.Keys(r.Hyperparameters)))
		str(6, r.Status, false)
		str(7, r.SecondaryStatus, r.SecondaryStatus == "")
		str(8, r.FailureReason, r.FailureReason == "")
		mb := b.Field(9).(*array.MapBuilder)
		mb.Append(true)
		for _, k := range slices.Sorted(maps.Keys(r.Metrics)) {
			mb.KeyBuilder().(*array.StringBuilder).Append(k)
			mb.ItemBuilder().(*array.Float64Builder).Append(r.Metrics[k])
		}
		str(10, r.ObjectiveMetric, false)
		if fb := b.Field(11).(*array.Float64Builder); math.IsNaN(r.Objective) {
			fb.AppendNull()
		} else {
			fb.Append(r.Objective)
		}
		i64(12, r.TrainingSeconds)
		i64(13, r.BillableSeconds)
		str(14, r.InstanceType, false)
		b.Field(15).(*array.Int32Builder).Append(int32(r.InstanceCount))
		str(16, r.ModelArtifact, r.ModelArtifact == "")
		b.Field(17).(*array.BooleanBuilder).Append(r.Best)
		ts(18, r.CreatedAt)
		ts(19, r.EndedAt)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := tw.Write(rec); err != nil {
		return err
	}
	return tw.Close()
}

// ReadRuns reads a runs table; name is used in error messages.
func ReadRuns(ctx context.Context, r parquet.ReaderAtSeeker, name string) ([]Run, error) {
	tr, err := table.Open(r, name, RunsTable)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	var runs []Run
	err = tr.Each(ctx, func(rec arrow.RecordBatch) error {
		str := func(col, i int) string { return rec.Column(col).(*array.String).Value(i) }
		strMap := func(col, i int) ([]string, map[string]string) {
			m := rec.Column(col).(*array.Map)
			keys, items := m.Keys().(*array.String), m.Items().(*array.String)
			start, end := m.ValueOffsets(i)
			out := map[string]string{}
			var order []string
			for j := start; j < end; j++ {
				out[keys.Value(int(j))] = items.Value(int(j))
				order = append(order, keys.Value(int(j)))
			}
			return order, out
		}
		i64 := func(col, i int) int64 {
			a := rec.Column(col).(*array.Int64)
			if a.IsNull(i) {
				return 0
			}
			return a.Value(i)
		}
		ts := func(col, i int) time.Time {
			a := rec.Column(col).(*array.Timestamp)
			if a.IsNull(i) {
				return time.Time{}
			}
			return time.UnixMicro(int64(a.Value(i))).UTC()
		}
		for i := range int(rec.NumRows()) {
			r := Run{
				JobName: str(0, i), BaseName: str(1, i), Attempt: int(rec.Column(2).(*array.Int32).Value(i)),
				TuningJob: str(3, i), Status: str(6, i), SecondaryStatus: str(7, i), FailureReason: str(8, i),
				ObjectiveMetric: str(10, i), Objective: math.NaN(),
				TrainingSeconds: i64(12, i), BillableSeconds: i64(13, i),
				InstanceType: str(14, i), InstanceCount: int(rec.Column(15).(*array.Int32).Value(i)),
				ModelArtifact: str(16, i), Best: rec.Column(17).(*array.Boolean).Value(i),
				CreatedAt: ts(18, i), EndedAt: ts(19, i),
			}
			order, point := strMap(4, i)
			for _, k := range order {
				r.Point = append(r.Point, Setting{k, point[k]})
			}
			_, r.Hyperparameters = strMap(5, i)
			m := rec.Column(9).(*array.Map)
			keys, items := m.Keys().(*array.String), m.Items().(*array.Float64)
			start, end := m.ValueOffsets(i)
			r.Metrics = map[string]float64{}
			for j := start; j < end; j++ {
				r.Metrics[keys.Value(int(j))] = items.Value(int(j))
			}
			if o := rec.Column(11).(*array.Float64); o.IsValid(i) {
				r.Objective = o.Value(i)
			}
			runs = append(runs, r)
		}
		return nil
	})
	return runs, err
}
