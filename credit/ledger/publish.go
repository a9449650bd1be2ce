package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/reviewlens/reviewlens/credit"
)

// Result is what a Publish did. Inserted + Unchanged + Conflicts is the
// number of rows published.
type Result struct {
	Inserted  int `json:"inserted"`  // decisions new to the ledger, applied
	Unchanged int `json:"unchanged"` // decisions identical to the ones stored
	// Conflicts counts decisions not applied: the day's stored decision
	// differs, or the review was already granted. Each is recorded, once,
	// in the conflicts table.
	Conflicts      int   `json:"conflicts"`
	Queued         int   `json:"queued"`          // manual decisions added to the inspection queue
	CreditsGranted int64 `json:"credits_granted"` // the credits of the grants this publish made
}

// A QueueItem is a review waiting for a person in the inspection queue.
type QueueItem struct {
	ReviewID, ReviewType, Day string
	Reason                    string // why it went to a person: the decision's conclusion
	Classes                   []string
	Confidences               []float64 // NaN for a photo without a prediction
	Reasons                   []string
	QueuedAt                  time.Time
}

// batchRows is how many rows one INSERT stages. SQLite allows 32766
// parameters a statement, PostgreSQL 65535.
const batchRows = 500

// stagingColumns are the columns Publish stages, in order.
var stagingColumns = []string{
	"review_id", "day", "review_type", "decision", "credit", "policy_version",
	"model", "transform_job", "classes", "confidences", "reasons", "reason",
}

// Publish applies a day's decisions to the ledger, in one transaction.
//
// A decision new to the ledger is stored; a grant is recorded in grants
// and a manual decision queued for inspection. A decision identical to
// the one stored for its review and day changes nothing. A decision that
// differs from the one stored for its review and day, or any decision on a
// review granted on another day, is recorded in conflicts and not
// applied: a review is granted at most once.
//
// Every row's Day must be day (or ""); a review may appear once.
func (l *Ledger) Publish(ctx context.Context, day string, rows []credit.DecisionRow) (Result, error) {
	staged, err := stage(day, rows)
	if err != nil {
		return Result{}, fmt.Errorf("publish %s: %w", day, err)
	}
	res, err := l.publish(ctx, staged)
	if err != nil {
		return Result{}, fmt.Errorf("publish %s: %w", day, err)
	}
	return res, nil
}

// stage checks rows and turns them into staging table values.
func stage(day string, rows []credit.DecisionRow) ([][]any, error) {
	if day == "" {
		return nil, fmt.Errorf("no day")
	}
	seen := make(map[string]int, len(rows))
	out := make([][]any, len(rows))
	for i, r := range rows {
		if r.Day != "" && r.Day != day {
			return nil, fmt.Errorf("row %d: review %q: day %q, want %q", i, r.ReviewID, r.Day, day)
		}
		if r.ReviewID == "" {
			return nil, fmt.Errorf("row %d: no review_id", i)
		}
		if j, ok := seen[r.ReviewID]; ok {
			return nil, fmt.Errorf("row %d: review %q: already in row %d", i, r.ReviewID, j)
		}
		seen[r.ReviewID] = i
		switch r.Decision.Decision {
		case credit.Grant, credit.Reject, credit.Manual:
		default:
			return nil, fmt.Errorf("row %d: review %q: decision %q, want %s, %s or %s",
				i, r.ReviewID, r.Decision.Decision, credit.Grant, credit.Reject, credit.Manual)
		}
		classes, confs, reasons, err := EncodeLists(r.Decision)
		if err != nil {
			return nil, fmt.Errorf("row %d: review %q: %w", i, r.ReviewID, err)
		}
		var reason string
		if n := len(r.Reasons); n > 0 {
			reason = r.Reasons[n-1]
		}
		out[i] = []any{
			r.ReviewID, day, r.ReviewType, r.Decision.Decision, r.Credit, r.PolicyVersion,
			nullString(r.Model), nullString(r.TransformJob), classes, confs, reasons, reason,
		}
	}
	return out, nil
}

func (l *Ledger) publish(ctx context.Context, staged [][]any) (res Result, err error) {
	conn, tx, err := l.beginWrite(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	exec := func(what, query string, args ...any) (int, error) {
		r, err := tx.ExecContext(ctx, l.d.rebind(query), args...)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		return int(n), nil
	}
	now := l.now().UTC().Format(timeFormat)

	// The staging table lives in this transaction only: it is dropped
	// before the commit, and a rollback undoes its creation (on PostgreSQL
	// it is also ON COMMIT DROP).
	if _, err := exec("create staging table", `CREATE TEMP TABLE ledger_staging (
		review_id      TEXT   NOT NULL PRIMARY KEY,
		day            TEXT   NOT NULL,
		review_type    TEXT   NOT NULL,
		decision       TEXT   NOT NULL,
		credit         BIGINT NOT NULL,
		policy_version TEXT   NOT NULL,
		model          TEXT,
		transform_job  TEXT,
		classes        TEXT   NOT NULL,
		confidences    TEXT   NOT NULL,
		reasons        TEXT   NOT NULL,
		reason         TEXT   NOT NULL,
		status         TEXT
	)`+l.d.tempTableSuffix); err != nil {
		return Result{}, err
	}
	if l.d.copy != nil {
		if err := l.d.copy(ctx, conn, "ledger_staging", stagingColumns, staged); err != nil {
			return Result{}, fmt.Errorf("stage rows: %w", err)
		}
	} else if err := l.insertStaged(ctx, tx, staged); err != nil {
		return Result{}, err
	}

	// Sort the staged rows: the same as stored, changed for the day,
	// already granted on another day, or new. Order matters: a grant
	// published again unchanged is unchanged, not a second grant.
	steps := []struct{ what, query string }{
		{"find unchanged", `UPDATE ledger_staging SET status = 'unchanged' WHERE EXISTS (
			SELECT 1 FROM decisions d
			WHERE d.review_id = ledger_staging.review_id AND d.day = ledger_staging.day
			AND d.review_type = ledger_staging.review_type AND d.decision = ledger_staging.decision
			AND d.credit = ledger_staging.credit AND d.policy_version = ledger_staging.policy_version
			AND d.model IS NOT DISTINCT FROM ledger_staging.model
			AND d.transform_job IS NOT DISTINCT FROM ledger_staging.transform_job
			AND d.classes = ledger_staging.classes AND d.confidences = ledger_staging.confidences
			AND d.reasons = ledger_staging.reasons)`},
		{"find changed", `UPDATE ledger_staging SET status = 'changed' WHERE status IS NULL AND EXISTS (
			SELECT 1 FROM decisions d WHERE d.review_id = ledger_staging.review_id AND d.day = ledger_staging.day)`},
		{"find granted", `UPDATE ledger_staging SET status = 'granted' WHERE status IS NULL AND EXISTS (
			SELECT 1 FROM grants g WHERE g.review_id = ledger_staging.review_id)`},
		{"find new", `UPDATE ledger_staging SET status = 'new' WHERE status IS NULL`},
	}
	for _, s := range steps {
		if _, err := exec(s.what, s.query); err != nil {
			return Result{}, err
		}
	}

	if _, err := exec("record changed decisions", `INSERT INTO conflicts
		(review_id, day, previous_decision, new_decision, detail, recorded_at)
		SELECT s.review_id, s.day, d.decision, s.decision, 'published again with a different'
			|| CASE WHEN d.decision <> s.decision THEN ' decision (' || d.decision || ' → ' || s.decision || ')' ELSE '' END
			|| CASE WHEN d.credit <> s.credit THEN ' credit (' || CAST(d.credit AS TEXT) || ' → ' || CAST(s.credit AS TEXT) || ')' ELSE '' END
			|| CASE WHEN d.policy_version <> s.policy_version THEN ' policy (' || d.policy_version || ' → ' || s.policy_version || ')' ELSE '' END
			|| CASE WHEN d.review_type <> s.review_type THEN ' review type (' || d.review_type || ' → ' || s.review_type || ')' ELSE '' END
			|| CASE WHEN d.model IS DISTINCT FROM s.model OR d.transform_job IS DISTINCT FROM s.transform_job THEN ' model' ELSE '' END
			|| CASE WHEN d.classes <> s.classes OR d.confidences <> s.confidences THEN ' predictions' ELSE '' END
			|| CASE WHEN d.reasons <> s.reasons THEN ' reasons' ELSE '' END,
			?
		FROM ledger_staging s JOIN decisions d ON d.review_id = s.review_id AND d.day = s.day
		WHERE s.status = 'changed'
		ON CONFLICT (review_id, day, previous_decision, new_decision, detail) DO NOTHING`, now); err != nil {
		return Result{}, err
	}
	if _, err := exec("record decisions on granted reviews", `INSERT INTO conflicts
		(review_id, day, previous_decision, new_decision, detail, recorded_at)
		SELECT s.review_id, s.day, 'grant', s.decision,
			'already granted on ' || g.day || ' (credit ' || CAST(g.credit AS TEXT) || ', policy ' || g.policy_version || ')',
			?
		FROM ledger_staging s JOIN grants g ON g.review_id = s.review_id
		WHERE s.status = 'granted'
		ON CONFLICT (review_id, day, previous_decision, new_decision, detail) DO NOTHING`, now); err != nil {
		return Result{}, err
	}
	if _, err := exec("insert decisions", `INSERT INTO decisions
		(review_id, day, review_type, decision, credit, policy_version, model, transform_job,
		 classes, confidences, reasons, published_at)
		SELECT review_id, day, review_type, decision, credit, policy_version, model, transform_job,
		 classes, confidences, reasons, ?
		FROM ledger_staging WHERE status = 'new'`, now); err != nil {
		return Result{}, err
	}
	// The primary key of grants is the guarantee of one grant a review;
	// DO NOTHING keeps a grant that is already there.
	if _, err := exec("insert grants", `INSERT INTO grants (review_id, day, credit, policy_version, granted_at)
		SELECT review_id, day, credit, policy_version, ?
		FROM ledger_staging WHERE status = 'new' AND decision = 'grant'
		ON CONFLICT (review_id) DO NOTHING`, now); err != nil {
		return Result{}, err
	}
	if res.Queued, err = exec("queue manual decisions", `INSERT INTO inspection_queue
		(review_id, day, review_type, reason, classes, confidences, reasons, queued_at)
		SELECT review_id, day, review_type, reason, classes, confidences, reasons, ?
		FROM ledger_staging WHERE status = 'new' AND decision = 'manual'
		ON CONFLICT (review_id, day) DO NOTHING`, now); err != nil {
		return Result{}, err
	}

	if err := tx.QueryRowContext(ctx, l.d.rebind(`SELECT
		COALESCE(SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'unchanged' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status IN ('changed', 'granted') THEN 1 ELSE 0 END), 0)
		FROM ledger_staging`)).Scan(&res.Inserted, &res.Unchanged, &res.Conflicts); err != nil {
		return Result{}, fmt.Errorf("count: %w", err)
	}
	// The credits of the grants made now: those of this day's new rows.
	if err := tx.QueryRowContext(ctx, l.d.rebind(`SELECT CAST(COALESCE(SUM(g.credit), 0) AS BIGINT)
		FROM grants g JOIN ledger_staging s ON s.review_id = g.review_id AND s.day = g.day
		WHERE s.status = 'new'`)).Scan(&res.CreditsGranted); err != nil {
		return Result{}, fmt.Errorf("count credits: %w", err)
	}
	if _, err := exec("drop staging table", `DROP TABLE ledger_staging`); err != nil {
		return Result{}, err
	}
	if l.beforeCommit != nil {
		if err := l.beforeCommit(); err != nil {
			return Result{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return Result{}, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

// pgCopy fills a PostgreSQL table with COPY, through pgx's CopyFrom on the
// connection of the transaction that conn runs (the table is a temporary
// table of that transaction).
func pgCopy(ctx context.Context, conn *sql.Conn, table string, columns []string, rows [][]any) error {
	// pgx encodes plain values; no driver.Valuer.
	values := make([][]any, len(rows))
	for i, r := range rows {
		v := make([]any, len(r))
		for j, x := range r {
			if ns, ok := x.(sql.NullString); ok {
				if ns.Valid {
					x = ns.String
				} else {
					x = nil
				}
			}
			v[j] = x
		}
		values[i] = v
	}
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: driver connection is %T, want *stdlib.Conn", table, driverConn)
		}
		n, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(values))
		if err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		if n != int64(len(values)) {
			return fmt.Errorf("copy into %s: copied %d rows of %d", table, n, len(values))
		}
		return nil
	})
}

// insertStaged fills the staging table with batched multi-row INSERTs.
func (l *Ledger) insertStaged(ctx context.Context, tx *sql.Tx, staged [][]any) error {
	var full *sql.Stmt // the statement of a full batch, prepared once
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	for start := 0; start < len(staged); start += batchRows {
		batch := staged[start:min(start+batchRows, len(staged))]
		args := make([]any, 0, len(batch)*len(stagingColumns))
		for _, r := range batch {
			args = append(args, r...)
		}
		var err error
		if len(batch) == batchRows {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, l.stagingInsert(batchRows)); err != nil {
					return fmt.Errorf("stage rows: %w", err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, l.stagingInsert(len(batch)), args...)
		}
		if err != nil {
			return fmt.Errorf("stage rows %d to %d: %w", start, start+len(batch)-1, err)
		}
	}
	return nil
}

// stagingInsert is the INSERT of n rows into the staging table.
func (l *Ledger) stagingInsert(n int) string {
	row := "(" + strings.Repeat("?, ", len(stagingColumns)-1) + "?)"
	var b strings.Builder
	b.WriteString("INSERT INTO ledger_staging (" + strings.Join(stagingColumns, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return l.d.rebind(b.String())
}

// Queue returns the open inspection queue, oldest first.
func (l *Ledger) Queue(ctx context.Context) ([]QueueItem, error) {
	rows, err := l.db.QueryContext(ctx, l.d.rebind(`SELECT
		review_id, review_type, day, reason, classes, confidences, reasons, queued_at
		FROM inspection_queue WHERE closed_at IS NULL
		ORDER BY queued_at, day, review_id`))
	if err != nil {
		return nil, fmt.Errorf("read inspection queue: %w", err)
	}
	defer rows.Close()
	var items []QueueItem
	for rows.Next() {
		var (
			it                      QueueItem
			classes, confs, reasons string
			queuedAt                string
		)
		if err := rows.Scan(&it.ReviewID, &it.ReviewType, &it.Day, &it.Reason, &classes, &confs, &reasons, &queuedAt); err != nil {
			return nil, fmt.Errorf("read inspection queue: %w", err)
		}
		if err := decodeLists(&it, classes, confs, reasons); err != nil {
			return nil, fmt.Errorf("read inspection queue: review %q of %s: %w", it.ReviewID, it.Day, err)
		}
		if it.QueuedAt, err = time.Parse(timeFormat, queuedAt); err != nil {
			return nil, fmt.Errorf("read inspection queue: review %q of %s: queued_at: %w", it.ReviewID, it.Day, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read inspection queue: %w", err)
	}
	return items, nil
}

// EncodeLists writes a decision's lists as JSON arrays: a photo without a
// prediction has a null class and a null confidence (JSON has no NaN). The
// encoding is deterministic, so equal lists are equal text.
func EncodeLists(d credit.Decision) (classes, confs, reasons string, err error) {
	cs := make([]*string, len(d.Classes))
	for i := range d.Classes {
		if d.Classes[i] != "" {
			cs[i] = &d.Classes[i]
		}
	}
	fs := make([]*float64, len(d.Confidences))
	for i, c := range d.Confidences {
		switch {
		case math.IsNaN(c):
		case math.IsInf(c, 0):
			return "", "", "", fmt.Errorf("confidence %d is %v", i, c)
		default:
			fs[i] = &d.Confidences[i]
		}
	}
	rs := d.Reasons
	if rs == nil {
		rs = []string{}
	}
	var b [3][]byte
	for i, v := range []any{cs, fs, rs} {
		if b[i], err = json.Marshal(v); err != nil {
			return "", "", "", err
		}
	}
	return string(b[0]), string(b[1]), string(b[2]), nil
}

// decodeLists reads what EncodeLists wrote into it.
func decodeLists(it *QueueItem, classes, confs, reasons string) error {
	var (
		cs []*string
		fs []*float64
	)
	if err := json.Unmarshal([]byte(classes), &cs); err != nil {
		return fmt.Errorf("classes: %w", err)
	}
	if err := json.Unmarshal([]byte(confs), &fs); err != nil {
		return fmt.Errorf("confidences: %w", err)
	}
	if err := json.Unmarshal([]byte(reasons), &it.Reasons); err != nil {
		return fmt.Errorf("reasons: %w", err)
	}
	it.Classes = make([]string, len(cs))
	for i, c := range cs {
		if c != nil {
			it.Classes[i] = *c
		}
	}
	it.Confidences = make([]float64, len(fs))
	for i, f := range fs {
		it.Confidences[i] = math.NaN()
		if f != nil {
			it.Confidences[i] = *f
		}
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
