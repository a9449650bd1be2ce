// The tune report: the HTML page of a grid search of SageMaker training
// jobs that Tune writes beside runs.parquet (TuneOptions.Report), for a
// person deciding which model to keep.
//
// One self-contained HTML file: inline CSS and SVG, no scripts, no fonts or
// stylesheets from elsewhere, so it can be mailed, archived in S3 and opened
// years later, printed, or read on a phone. It has three parts:
//
//   - a header: the title, when it was made (UTC), the objective and its
//     direction, how many jobs ended in each status, and the best job with
//     its grid point, billable seconds and model artifact;
//   - a heatmap of the objective over the grid's first two axes (one row for
//     a one-axis grid, none for a grid without axes). A cell shows the latest
//     attempt of its grid point that has a value of the objective; with more
//     than two axes, the best such value over the other axes. Darker is
//     better in either direction; cells without a value are hatched and say
//     why (Failed, InProgress, ...); the best job's cell is outlined;
//   - a table of every job, attempts included, best objective first.
//
// Every string is escaped (html/template): job names, failure reasons and
// metric names come from AWS, axis values from the user.

package sagemaker

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// reportData is what the report shows.
type reportData struct {
	// Title heads the page, e.g. "reviewlens tune: 9 training jobs".
	// Empty means "reviewlens tune".
	Title string
	// Objective is the objective metric, e.g. "validation:accuracy". Empty
	// means the first run's ObjectiveMetric.
	Objective string
	// Direction is Maximize or Minimize; empty means
	// Maximize, as for MarkBest.
	Direction string
	// Axes are the grid's axes in order; the heatmap uses the first two, in
	// the order of their values as given (numbers are not sorted).
	Axes []Axis
	// Runs are every training job, attempts included. The run with Best set
	// (MarkBest) is the one the page calls best.
	Runs []Run
	// GeneratedAt is shown in UTC; the zero time is left out.
	GeneratedAt time.Time
	// Notes are extra lines shown under the header (the strategy, the data).
	Notes []string
}

//go:embed report.tmpl
var pageText string

var pageTmpl = template.Must(template.New("report").Parse(pageText))

// Write writes the report of d as an HTML page. It does not change d.
func writeReport(w io.Writer, d reportData) error {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, newPage(d)); err != nil {
		return fmt.Errorf("render tune report: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write tune report: %w", err)
	}
	return nil
}

// page is what the template sees: every string already formatted.
type page struct {
	Title     string
	Generated string
	Objective string
	// ObjectiveParts are Objective cut after each colon, so the table's
	// header can wrap there.
	ObjectiveParts []string
	Direction      string
	Total          int
	Counts         []statusCount
	Best           *bestJob
	Notes          []string
	Heatmap        *heatmap
	NoHeatmap      string // said instead of the heatmap
	AxisNames      []string
	Rows           []row
}

type statusCount struct {
	Status string
	N      int
	Class  string
}

type bestJob struct {
	JobName   string
	Objective string
	Point     []Setting
	Billable  string
	Artifact  string
}

type row struct {
	JobName     string
	Attempt     int
	Values      []string // one per axis
	Status      string
	StatusClass string
	Secondary   string // shown when it says more than Status
	Objective   string
	Metrics     []metric
	Training    string
	Billable    string
	Instance    string
	Failure     string
	Best        bool
}

type metric struct{ Name, Value string }

// The statuses of a training job, counted always and in this order; others
// SageMaker may add are counted after them.
var statuses = []string{"Completed", "Failed", "Stopped", "InProgress"}

func newPage(d reportData) *page {
	p := &page{
		Title:     d.Title,
		Objective: d.Objective,
		Direction: Maximize,
		Total:     len(d.Runs),
		Notes:     d.Notes,
	}
	if p.Title == "" {
		p.Title = "reviewlens tune"
	}
	if p.Objective == "" && len(d.Runs) > 0 {
		p.Objective = d.Runs[0].ObjectiveMetric
	}
	if p.Objective == "" {
		p.Objective = "objective"
	}
	p.ObjectiveParts = strings.SplitAfter(p.Objective, ":")
	minimize := d.Direction == Minimize
	if minimize {
		p.Direction = Minimize
	}
	if !d.GeneratedAt.IsZero() {
		p.Generated = d.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}

	n := map[string]int{}
	for _, r := range d.Runs {
		n[r.Status]++
	}
	for _, s := range statuses {
		p.Counts = append(p.Counts, statusCount{s, n[s], statusClass(s)})
		delete(n, s)
	}
	for _, s := range slices.Sorted(maps.Keys(n)) {
		if s == "" {
			p.Counts = append(p.Counts, statusCount{"no status", n[s], "other"})
			continue
		}
		p.Counts = append(p.Counts, statusCount{s, n[s], statusClass(s)})
	}

	for i := range d.Runs {
		if r := &d.Runs[i]; r.Best {
			p.Best = &bestJob{
				JobName:   r.JobName,
				Objective: formatNum(r.Objective, 6),
				Point:     r.Point,
				Billable:  seconds(r.BillableSeconds),
				Artifact:  r.ModelArtifact,
			}
			break
		}
	}

	for _, a := range d.Axes {
		p.AxisNames = append(p.AxisNames, a.Name)
	}
	switch {
	case len(d.Axes) == 0:
		p.NoHeatmap = "The grid has no axes: every job ran with the same hyperparameters, so there is no heatmap."
	case len(d.Axes[0].Values) == 0 || len(d.Axes) > 1 && len(d.Axes[1].Values) == 0:
		p.NoHeatmap = "An axis of the grid has no values, so there is no heatmap."
	default:
		p.Heatmap = newHeatmap(d.Axes, d.Runs, p.Objective, minimize)
	}

	for _, i := range order(d.Runs, d.Direction) {
		p.Rows = append(p.Rows, newRow(&d.Runs[i], d.Axes, p.Objective))
	}
	return p
}

func newRow(r *Run, axes []Axis, objective string) row {
	rw := row{
		JobName:     r.JobName,
		Attempt:     r.Attempt,
		Status:      r.Status,
		StatusClass: statusClass(r.Status),
		Objective:   formatNum(r.Objective, 6),
		Training:    plainSeconds(r.TrainingSeconds),
		Billable:    plainSeconds(r.BillableSeconds),
		Failure:     r.FailureReason,
		Best:        r.Best,
	}
	if r.SecondaryStatus != r.Status {
		rw.Secondary = r.SecondaryStatus
	}
	for _, a := range axes {
		v, ok := pointValue(r.Point, a.Name)
		if !ok {
			v = "—"
		}
		rw.Values = append(rw.Values, v)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Metrics)) {
		if k == objective || k == r.ObjectiveMetric {
			continue
		}
		rw.Metrics = append(rw.Metrics, metric{k, formatNum(r.Metrics[k], 6)})
	}
	if r.InstanceType != "" {
		rw.Instance = fmt.Sprintf("%s × %d", r.InstanceType, r.InstanceCount)
	}
	return rw
}

// order returns the indexes of runs, best objective first, runs without an
// objective last. Ties go as MarkBest breaks them (better): fewer billable
// seconds, then the name; runs without an objective are in name order.
func order(runs []Run, direction string) []int {
	idx := make([]int, len(runs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		a, b := &runs[i], &runs[j]
		an, bn := math.IsNaN(a.Objective), math.IsNaN(b.Objective)
		switch {
		case an != bn:
			if an {
				return 1
			}
			return -1
		case an:
			return strings.Compare(a.JobName, b.JobName)
		case better(a, b, direction):
			return -1
		case better(b, a, direction):
			return 1
		}
		return 0
	})
	return idx
}

func betterValue(a, b float64, minimize bool) bool {
	if minimize {
		return a < b
	}
	return a > b
}

func pointValue(point []Setting, name string) (string, bool) {
	for _, s := range point {
		if s.Name == name {
			return s.Value, true
		}
	}
	return "", false
}

// statusClass maps a job status to a CSS class; the status itself comes
// from AWS and is not trusted as a class name.
func statusClass(s string) string {
	switch s {
	case "Completed":
		return "completed"
	case "Failed":
		return "failed"
	case "Stopped", "Stopping":
		return "stopped"
	case "InProgress":
		return "inprogress"
	}
	return "other"
}

// formatNum formats v with at most digits significant digits; NaN is a dash.
// Large numbers are written in full rather than as 1.2e+04.
func formatNum(v float64, digits int) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case math.Abs(v) >= 1e4 && math.Abs(v) < 1e15:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// seconds formats a duration in seconds, with minutes and hours for long
// ones; 0 (SageMaker gave none) is a dash.
func seconds(s int64) string {
	if s <= 0 {
		return "—"
	}
	if s < 60 {
		return fmt.Sprintf("%d s", s)
	}
	return fmt.Sprintf("%d s (%s)", s, time.Duration(s)*time.Second)
}

// plainSeconds formats seconds for a column headed "(s)"; 0 is a dash.
func plainSeconds(s int64) string {
	if s <= 0 {
		return "—"
	}
	return strconv.FormatInt(s, 10)
}
