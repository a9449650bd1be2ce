package ledger

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"

	"github.com/reviewlens/reviewlens/fault"
	"github.com/reviewlens/reviewlens/storage"
	"github.com/reviewlens/reviewlens/table"
)

// QueueTable is inspection_queue.parquet: the open inspection queue, one
// row per review waiting for a person, oldest first. A photo without a
// prediction has a null class and a null confidence.
var QueueTable = table.Def{
	Name:    "inspection_queue",
	Version: 1,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "review_id", Type: arrow.BinaryTypes.String},
		{Name: "review_type", Type: arrow.BinaryTypes.String},
		{Name: "day", Type: arrow.BinaryTypes.String},
		{Name: "reason", Type: arrow.BinaryTypes.String},
		{Name: "photo_classes", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "photo_confidences", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
		{Name: "reasons", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "queued_at", Type: arrow.FixedWidthTypes.Timestamp_us},
	}, nil),
}

// QueueOptions are the queue step's input.
type QueueOptions struct {
	// DB is the ledger's DSN; "" means DefaultDSN. The ledger must exist.
	DB string
	// Out is where the queue goes: a path or an s3:// URI.
	Out string
	// Format is "parquet" (a QueueTable), "csv" or "jsonl" (JSON Lines),
	// in any case; "" means the one Out's extension names: .parquet, .csv,
	// or .jsonl, .ndjson or .json, in any case.
	Format string
}

// QueueFileResult is the queue step's result JSON.
type QueueFileResult struct {
	DB     string `json:"db"` // redacted
	Out    string `json:"out"`
	Format string `json:"format"` // parquet, csv or jsonl
	Items  int    `json:"items"`
}

// The formats the queue is exported in, the values of --format.
const (
	formatParquet = "parquet"
	formatCSV     = "csv"
	formatJSONL   = "jsonl"
)

// formatByExt is the format of an --out extension, lower case.
var formatByExt = map[string]string{
	".parquet": formatParquet,
	".csv":     formatCSV,
	".jsonl":   formatJSONL,
	".ndjson":  formatJSONL,
	".json":    formatJSONL,
}

// queueFormat is the format the queue is written to out in: format when
// given, else the one out's extension names. Either failing is bad input.
func queueFormat(out, format string) (string, error) {
	if format != "" {
		switch f := strings.ToLower(format); f {
		case formatParquet, formatCSV, formatJSONL:
			return f, nil
		}
		return "", fault.BadInputf("--format %q: want parquet, csv or jsonl", format)
	}
	ext := filepath.Ext(out)
	if f, ok := formatByExt[strings.ToLower(ext)]; ok {
		return f, nil
	}
	return "", fault.BadInputf("--out %s: no format for extension %q: give --format parquet, csv or jsonl, or end --out in .parquet, .csv, .jsonl, .ndjson or .json", out, ext)
}

// ExportQueue is the queue step: it writes the open inspection queue of
// the ledger at opts.DB (Ledger.Queue), oldest first, to opts.Out in
// opts.Format. An audit is shown blind, as Ledger.Queue gives it. An
// unknown format, an extension that names none when Format is "", an Out
// that is a directory, and no ledger at opts.DB are fault.BadInput, and
// nothing is written; a database that does not answer in time is
// fault.Transient. The step never creates a ledger.
func ExportQueue(ctx context.Context, store *storage.Storage, opts QueueOptions) (*QueueFileResult, error) {
	dsn := opts.DB
	if dsn == "" {
		dsn = DefaultDSN
	}
	format, err := queueFormat(opts.Out, opts.Format)
	if err != nil {
		return nil, err
	}
	if err := storage.CheckOutFile("--out", opts.Out); err != nil {
		return nil, err
	}
	l, err := OpenStep(ctx, dsn, OpenExisting)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	items, err := l.Queue(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	switch format {
	case formatParquet:
		err = writeQueueParquet(&buf, items, memory.DefaultAllocator)
	case formatCSV:
		err = writeQueueCSV(&buf, items)
	default:
		err = writeQueueJSONL(&buf, items)
	}
	if err != nil {
		return nil, fmt.Errorf("write queue %s: %w", opts.Out, err)
	}
	if err := store.WriteFile(ctx, opts.Out, buf.Bytes()); err != nil {
		return nil, err
	}
	return &QueueFileResult{DB: Redact(dsn), Out: opts.Out, Format: format, Items: len(items)}, nil
}

// queueBatchRows is the most rows one record batch of a Parquet queue
// holds, to bound the memory the builders take.
const queueBatchRows = 16384

// writeQueueParquet writes items as a QueueTable, with Arrow buffers from mem.
func writeQueueParquet(w io.Writer, items []QueueItem, mem memory.Allocator) error {
	tw, err := table.NewWriter(w, QueueTable, table.WriterOptions{Allocator: mem})
	if err != nil {
		return err
	}
	b := array.NewRecordBuilder(mem, QueueTable.Schema)
	defer b.Release()
	var (
		reviewID    = b.Field(0).(*array.StringBuilder)
		reviewType  = b.Field(1).(*array.StringBuilder)
		day         = b.Field(2).(*array.StringBuilder)
		reason      = b.Field(3).(*array.StringBuilder)
		classes     = b.Field(4).(*array.ListBuilder)
		confidences = b.Field(5).(*array.ListBuilder)
		reasons     = b.Field(6).(*array.ListBuilder)
		queuedAt    = b.Field(7).(*array.TimestampBuilder)
	)
	flush := func() error {
		rec := b.NewRecordBatch()
		defer rec.Release()
		if rec.NumRows() == 0 {
			return nil
		}
		return tw.Write(rec)
	}
	for i, it := range items {
		reviewID.Append(it.ReviewID)
		reviewType.Append(it.ReviewType)
		day.Append(it.Day)
		reason.Append(it.Reason)
		table.AppendStrings(classes, it.Classes, true)
		table.AppendFloats(confidences, it.Confidences)
		table.AppendStrings(reasons, it.Reasons, false)
		queuedAt.Append(arrow.Timestamp(it.QueuedAt.UnixMicro()))
		if (i+1)%queueBatchRows == 0 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return tw.Close()
}

// ReadQueue reads a QueueTable, as ExportQueue writes it in Parquet; name
// is used in error messages. A null class reads as "" and a null
// confidence as NaN; queued_at is in UTC, to the microsecond. Audit is
// left false: the table tells an audit only by its reason, which starts
// "audit:".
func ReadQueue(ctx context.Context, r parquet.ReaderAtSeeker, name string) ([]QueueItem, error) {
	tr, err := table.Open(r, name, QueueTable)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	var items []QueueItem
	err = tr.Each(ctx, func(rec arrow.RecordBatch) error {
		str := func(col, i int) string { return rec.Column(col).(*array.String).Value(i) }
		classes := rec.Column(4).(*array.List)
		confidences := rec.Column(5).(*array.List)
		reasons := rec.Column(6).(*array.List)
		queuedAt := rec.Column(7).(*array.Timestamp)
		for i := range int(rec.NumRows()) {
			it := QueueItem{
				ReviewID: str(0, i), ReviewType: str(1, i), Day: str(2, i), Reason: str(3, i),
				QueuedAt: queuedAt.Value(i).ToTime(arrow.Microsecond),
			}
			it.Classes = table.StringsAt(classes, i)
			it.Confidences = table.FloatsAt(confidences, i)
			it.Reasons = table.StringsAt(reasons, i)
			items = append(items, it)
		}
		return nil
	})
	return items, err
}

// writeQueueCSV writes items as CSV with a header: a list's items joined
// by "|" (the reasons by " | "), a photo without a prediction an empty
// class and confidence, queued_at in RFC 3339, UTC.
func writeQueueCSV(w io.Writer, items []QueueItem) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"review_id", "review_type", "day", "reason", "photo_classes", "photo_confidences", "reasons", "queued_at"})
	for _, it := range items {
		confs := make([]string, len(it.Confidences))
		for i, c := range it.Confidences {
			if math.IsNaN(c) {
				confs[i] = ""
			} else {
				confs[i] = strconv.FormatFloat(c, 'f', 4, 64)
			}
		}
		cw.Write([]string{it.ReviewID, it.ReviewType, it.Day, it.Reason, strings.Join(it.Classes, "|"), strings.Join(confs, "|"),
			strings.Join(it.Reasons, " | "), it.QueuedAt.UTC().Format(time.RFC3339)})
	}
	cw.Flush()
	return cw.Error()
}

// writeQueueJSONL writes items as JSON Lines, one object a review: a
// photo without a prediction has a null confidence.
func writeQueueJSONL(w io.Writer, items []QueueItem) error {
	enc := json.NewEncoder(w)
	for _, it := range items {
		confs := make([]any, len(it.Confidences))
		for i, c := range it.Confidences {
			if !math.IsNaN(c) {
				confs[i] = c
			}
		}
		if err := enc.Encode(map[string]any{
			"review_id": it.ReviewID, "review_type": it.ReviewType, "day": it.Day, "reason": it.Reason,
			"photo_classes": it.Classes, "photo_confidences": confs, "reasons": it.Reasons, "queued_at": it.QueuedAt.UTC(),
		}); err != nil {
			return err
		}
	}
	return nil
}
