package ledger

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/storage"
	"github.com/reviewlens/reviewlens/table"
)

// The -update flag rewrites golden files:
// go test ./credit/ledger -run QueueTableGolden -update.
var update = flag.Bool("update", false, "rewrite golden files in testdata")

// cmpQueue compares queues: a NaN confidence equals a NaN, and a nil list
// an empty one.
var cmpQueue = []cmp.Option{cmpopts.EquateNaNs(), cmpopts.EquateEmpty()}

// queueDay is the day the test decisions are published for.
const queueDay = "2026-11-28"

// queuedAt is when the test ledger queues reviews: with nanoseconds, which
// Parquet (microseconds) does not keep.
var queuedAt = time.Date(2026, 11, 29, 6, 30, 15, 123456789, time.UTC)

// queueRows are a day's decisions: two manual ones (r-2 has a photo
// without a prediction) to queue, a grant and a reject not to.
var queueRows = []credit.DecisionRow{
	{Decision: credit.Decision{ReviewID: "r-1", ReviewType: "style", Decision: credit.Grant, Credit: 1000,
		Reasons: []string{"photo 0: full-length 0.99 ≥ 0.95 (grant threshold): qualifies"}, Classes: []string{"full-length"}, Confidences: []float64{0.99}},
		PolicyVersion: "v1", Day: queueDay},
	{Decision: credit.Decision{ReviewID: "r-2", ReviewType: "product", Decision: credit.Manual,
		Reasons:     []string{"photo 0: no prediction (missing)", "photo 1: product 0.42 < 0.90: uncertain", "a person must look"},
		Classes:     []string{"", "product"},
		Confidences: []float64{math.NaN(), 0.42}},
		PolicyVersion: "v1", Day: queueDay},
	{Decision: credit.Decision{ReviewID: "r-3", ReviewType: "style", Decision: credit.Manual,
		Reasons: []string{"photo 0: packaging 0.61 < 0.90: uncertain", "a person must look"}, Classes: []string{"packaging"}, Confidences: []float64{0.61}},
		PolicyVersion: "v1", Day: queueDay},
	{Decision: credit.Decision{ReviewID: "r-4", ReviewType: "product", Decision: credit.Reject,
		Reasons: []string{"photo 0: packaging 0.97 ≥ 0.90 (reject threshold): does not qualify"}, Classes: []string{"packaging"}, Confidences: []float64{0.97}},
		PolicyVersion: "v1", Day: queueDay},
}

// queueLedger makes a SQLite ledger in a temporary folder, publishes rows
// into it (none: an empty ledger) and returns its DSN and its queue.
func queueLedger(tb testing.TB, rows []credit.DecisionRow) (dsn string, queue []QueueItem) {
	tb.Helper()
	ctx := context.Background()
	dsn = "sqlite:" + filepath.Join(tb.TempDir(), "ledger.db")
	l, err := Open(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	l.Now = func() time.Time { return queuedAt }
	if len(rows) > 0 {
		if _, err := l.Publish(ctx, queueDay, rows); err != nil {
			tb.Fatal(err)
		}
	}
	if queue, err = l.Queue(ctx); err != nil {
		tb.Fatal(err)
	}
	return dsn, queue
}

// toMicros returns items with QueuedAt truncated to the microsecond, as
// the Parquet queue keeps it.
func toMicros(items []QueueItem) []QueueItem {
	out := make([]QueueItem, len(items))
	for i, it := range items {
		it.QueuedAt = it.QueuedAt.Truncate(time.Microsecond)
		out[i] = it
	}
	return out
}

// readQueueFile reads the Parquet queue at path with ReadQueue.
func readQueueFile(tb testing.TB, path string) []QueueItem {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	items, err := ReadQueue(context.Background(), f, path)
	if err != nil {
		tb.Fatalf("ReadQueue: %v", err)
	}
	return items
}

// queueIDs reads the review ids of the queue at path, written in format.
func queueIDs(tb testing.TB, path, format string) []string {
	tb.Helper()
	var ids []string
	switch format {
	case formatParquet:
		for _, it := range readQueueFile(tb, path) {
			ids = append(ids, it.ReviewID)
		}
	case formatCSV:
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		defer f.Close()
		records, err := csv.NewReader(f).ReadAll()
		if err != nil {
			tb.Fatalf("%s is not CSV: %v", path, err)
		}
		if len(records) == 0 || records[0][0] != "review_id" {
			tb.Fatalf("%s: no CSV header: %q", path, records)
		}
		for _, r := range records[1:] {
			ids = append(ids, r[0])
		}
	case formatJSONL:
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			var item struct {
				ReviewID string `json:"review_id"`
			}
			if err := json.Unmarshal([]byte(line), &item); err != nil {
				tb.Fatalf("%s line %d is not JSON: %v", path, i+1, err)
			}
			ids = append(ids, item.ReviewID)
		}
	default:
		tb.Fatalf("unknown format %q", format)
	}
	return ids
}

// The inspection_queue table's schemas are the contract other languages
// read: the Arrow schema and the Parquet schema in the file.
func TestQueueTableGolden(t *testing.T) {
	queueGolden(t, "inspection_queue.arrow.golden", QueueTable.Schema.String()+"\n")

	var buf bytes.Buffer
	if err := writeQueueParquet(&buf, nil, memory.DefaultAllocator); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	var ps bytes.Buffer
	schema.PrintSchema(pf.MetaData().Schema.Root(), &ps, 2)
	queueGolden(t, "inspection_queue.parquet-schema.golden", ps.String())

	kv := pf.MetaData().KeyValueMetadata()
	for key, want := range map[string]string{
		table.KeyTable:   "inspection_queue",
		table.KeyVersion: fmt.Sprint(QueueTable.Version),
	} {
		if v := kv.FindValue(key); v == nil || *v != want {
			t.Errorf("%s metadata = %v, want %q", key, v, want)
		}
	}
}

func queueGolden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		tb.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func TestQueueParquetRoundTrip(t *testing.T) {
	paris := time.FixedZone("CET", 60*60)
	many := make([]QueueItem, queueBatchRows+1)
	for i := range many {
		many[i] = QueueItem{
			ReviewID: fmt.Sprintf("r-%06d", i), ReviewType: "product", Day: queueDay, Reason: "a person must look",
			Classes: []string{"product", ""}, Confidences: []float64{float64(i) / float64(len(many)), math.NaN()},
			Reasons:  []string{"photo 0", "photo 1", "a person must look"},
			QueuedAt: queuedAt.Add(time.Duration(i) * time.Microsecond),
		}
	}
	tests := []struct {
		name  string
		items []QueueItem
	}{
		{name: "no items"},
		{
			name: "photos without predictions, no photo, no reasons",
			items: []QueueItem{
				{ReviewID: "a", ReviewType: "style", Day: queueDay, Reason: "no usable photo",
					Classes: []string{"", ""}, Confidences: []float64{math.NaN(), math.NaN()}, Reasons: []string{"x"}, QueuedAt: queuedAt},
				{ReviewID: "b", ReviewType: "style", Day: queueDay, QueuedAt: queuedAt.In(paris)},
				{ReviewID: "ünï/cødé 🐈", ReviewType: "", Day: "", Reason: "", Classes: []string{"product"}, Confidences: []float64{0},
					Reasons: []string{"", "|"}, QueuedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)},
			},
		},
		{name: "more than a record batch", items: many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			var buf bytes.Buffer
			if err := writeQueueParquet(&buf, tt.items, mem); err != nil {
				t.Fatalf("writeQueueParquet: %v", err)
			}
			got, err := ReadQueue(context.Background(), bytes.NewReader(buf.Bytes()), "queue.parquet")
			if err != nil {
				t.Fatalf("ReadQueue: %v", err)
			}
			if diff := cmp.Diff(toMicros(tt.items), got, cmpQueue...); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExportQueueParquet(t *testing.T) {
	ctx := context.Background()
	dsn, want := queueLedger(t, queueRows)
	out := filepath.Join(t.TempDir(), "queue.parquet")
	res, err := ExportQueue(ctx, storage.New(storage.Options{}), QueueOptions{DB: dsn, Out: out})
	if err != nil {
		t.Fatalf("ExportQueue: %v", err)
	}
	if diff := cmp.Diff(&QueueFileResult{DB: dsn, Out: out, Format: "parquet", Items: 2}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	got := readQueueFile(t, out)
	if diff := cmp.Diff(toMicros(want), got, cmpQueue...); diff != "" {
		t.Errorf("ReadQueue differs from the ledger's queue (-ledger +parquet):\n%s", diff)
	}
	// The grant and the reject are not queued; r-2's photo without a
	// prediction is a null class and a null confidence.
	if diff := cmp.Diff([]QueueItem{
		{ReviewID: "r-2", ReviewType: "product", Day: queueDay, Reason: "a person must look",
			Classes: []string{"", "product"}, Confidences: []float64{math.NaN(), 0.42},
			Reasons:  []string{"photo 0: no prediction (missing)", "photo 1: product 0.42 < 0.90: uncertain", "a person must look"},
			QueuedAt: queuedAt.Truncate(time.Microsecond)},
		{ReviewID: "r-3", ReviewType: "style", Day: queueDay, Reason: "a person must look",
			Classes: []string{"packaging"}, Confidences: []float64{0.61},
			Reasons:  []string{"photo 0: packaging 0.61 < 0.90: uncertain", "a person must look"},
			QueuedAt: queuedAt.Truncate(time.Microsecond)},
	}, got, cmpQueue...); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := table.Open(f, out, QueueTable)
	if err != nil {
		t.Fatalf("table.Open with QueueTable: %v", err)
	}
	defer tr.Close()
	if got, want := tr.NumRows(), int64(2); got != want {
		t.Errorf("rows = %d, want %d", got, want)
	}
}

func TestExportQueueEmpty(t *testing.T) {
	// A grant alone: the ledger has decisions, its queue none.
	dsn, want := queueLedger(t, queueRows[:1])
	if len(want) != 0 {
		t.Fatalf("ledger queue = %+v, want none", want)
	}
	out := filepath.Join(t.TempDir(), "queue.parquet")
	res, err := ExportQueue(context.Background(), storage.New(storage.Options{}), QueueOptions{DB: dsn, Out: out})
	if err != nil {
		t.Fatalf("ExportQueue: %v", err)
	}
	if res.Items != 0 || res.Format != "parquet" {
		t.Errorf("result %+v: want 0 parquet items", res)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := table.Open(f, out, QueueTable)
	if err != nil {
		t.Fatalf("table.Open with QueueTable: %v", err)
	}
	defer tr.Close()
	if got := tr.NumRows(); got != 0 {
		t.Errorf("rows = %d, want 0", got)
	}
	if got := readQueueFile(t, out); len(got) != 0 {
		t.Errorf("ReadQueue = %+v, want none", got)
	}
}

func TestExportQueueFormats(t *testing.T) {
	dsn, _ := queueLedger(t, queueRows)
	tests := []struct {
		name       string
		out        string
		format     string
		wantFormat string
	}{
		{name: "parquet by extension", out: "queue.parquet", wantFormat: "parquet"},
		{name: "csv by extension", out: "queue.csv", wantFormat: "csv"},
		{name: "jsonl by extension", out: "queue.jsonl", wantFormat: "jsonl"},
		{name: "ndjson is jsonl", out: "queue.ndjson", wantFormat: "jsonl"},
		{name: "json is jsonl", out: "queue.json", wantFormat: "jsonl"},
		{name: "extension in upper case", out: "QUEUE.PARQUET", wantFormat: "parquet"},
		{name: "format parquet, extension .out", out: "queue.out", format: "parquet", wantFormat: "parquet"},
		{name: "format csv, no extension", out: "queue", format: "csv", wantFormat: "csv"},
		{name: "format wins over the extension", out: "queue.csv", format: "jsonl", wantFormat: "jsonl"},
		{name: "format in upper case", out: "queue.out", format: "CSV", wantFormat: "csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tt.out)
			res, err := ExportQueue(context.Background(), storage.New(storage.Options{}), QueueOptions{DB: dsn, Out: out, Format: tt.format})
			if err != nil {
				t.Fatalf("ExportQueue: %v", err)
			}
			if got, want := res.Format, tt.wantFormat; got != want {
				t.Errorf("format = %q, want %q", got, want)
			}
			if diff := cmp.Diff([]string{"r-2", "r-3"}, queueIDs(t, out, tt.wantFormat)); diff != "" {
				t.Errorf("review ids in %s (-want +got):\n%s", tt.out, diff)
			}
		})
	}
}

func TestExportQueueBadFormat(t *testing.T) {
	tests := []struct {
		name     string
		out      string
		format   string
		wantText []string // in the message
	}{
		{name: "unknown extension", out: "queue.txt", wantText: []string{`".txt"`, "--format parquet, csv or jsonl", ".parquet, .csv, .jsonl, .ndjson or .json"}},
		{name: "no extension", out: "queue", wantText: []string{"--format parquet, csv or jsonl", ".parquet, .csv, .jsonl, .ndjson or .json"}},
		{name: "unknown format", out: "queue.parquet", format: "xlsx", wantText: []string{`--format "xlsx"`, "parquet, csv or jsonl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "ledger.db")
			out := filepath.Join(dir, tt.out)
			_, err := ExportQueue(context.Background(), storage.New(storage.Options{}), QueueOptions{DB: "sqlite:" + db, Out: out, Format: tt.format})
			if got := fault.KindOf(err); got != fault.BadInput {
				t.Fatalf("ExportQueue error %v: %v, want %v", err, got, fault.BadInput)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			// Refused before anything was opened or written.
			for _, path := range []string{out, db} {
				if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s exists (%v), want no file", path, err)
				}
			}
		})
	}
}
