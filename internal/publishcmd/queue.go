package publishcmd

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/reviewlens/reviewlens/credit/ledger"
	"github.com/reviewlens/reviewlens/internal/storage"
)

// QueueResult is the queue step's result JSON.
type QueueResult struct {
	DB    string `json:"db"`
	Out   string `json:"out"`
	Items int    `json:"items"`
}

// ExportQueue writes the open inspection queue to out: CSV when out ends in
// .csv, else JSON Lines.
func ExportQueue(ctx context.Context, store *storage.Storage, dsn, out string) (*QueueResult, error) {
	l, err := ledger.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", ledger.Redact(dsn), err)
	}
	defer l.Close()
	items, err := l.Queue(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if strings.HasSuffix(strings.ToLower(out), ".csv") {
		err = writeCSV(&buf, items)
	} else {
		err = writeJSONL(&buf, items)
	}
	if err != nil {
		return nil, err
	}
	if err := store.WriteFile(ctx, out, buf.Bytes()); err != nil {
		return nil, err
	}
	return &QueueResult{DB: ledger.Redact(dsn), Out: out, Items: len(items)}, nil
}

func writeCSV(w io.Writer, items []ledger.QueueItem) error {
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

func writeJSONL(w io.Writer, items []ledger.QueueItem) error {
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
