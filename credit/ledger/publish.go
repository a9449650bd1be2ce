package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

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

// A RowError is a decision that Publish refuses, and with it the whole
// publish: the rows are not the day's decisions as package credit writes
// them.
type RowError struct {
	Row      int    // 1-based, in the order given
	ReviewID string // "" when the row has none
	Reason   string // what was wrong and what was expected
}

func (e *RowError) Error() string {
	if e.ReviewID == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
	}
	return fmt.Sprintf("row %d: review %q: %s", e.Row, e.ReviewID, e.Reason)
}

// chunkRows is how many rows one bulk load sends. A chunk is loaded under
// a savepoint of its own, so a grant that meets an earlier grant of its
// review costs a reload of its chunk only. PostgreSQL keeps 64
// subtransactions a transaction cheap: 4 million rows.
const chunkRows = 1 << 16

// Publish applies a day's decisions to the ledger, in one transaction.
//
// A decision new to the ledger is stored: a grant grants its credit, a
// manual decision joins the inspection queue. A decision identical to the
// one stored for its review and day changes nothing. A decision that
// differs from the one stored for its review and day, or any decision on a
// review granted on another day, is recorded in conflicts and not
// applied: a review is granted at most once.
//
// Every row's Day must be day (or ""); a review may appear once. A bad row
// fails the publish with a *RowError.
func (l *Ledger) Publish(ctx context.Context, day string, rows []credit.DecisionRow) (Result, error) {
	return l.PublishSeq(ctx, day, func(yield func(credit.DecisionRow, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	})
}

// PublishSeq is Publish of rows read as they are loaded, so that a day of
// a million decisions is never held in memory. rows may be run more than
// once (to find a duplicate review for its error); an error it yields
// fails the publish, wrapped. day "" means the day of the first row.
func (l *Ledger) PublishSeq(ctx context.Context, day string, rows iter.Seq2[credit.DecisionRow, error]) (Result, error) {
	if day == "" {
		for r, err := range rows {
			if err != nil {
				return Result{}, fmt.Errorf("publish: %w", err)
			}
			day = r.Day
			break
		}
		if day == "" {
			return Result{}, fmt.Errorf("publish: no day: the first row has none")
		}
	}
	res, err := l.publish(ctx, day, rows)
	if err != nil {
		return Result{}, fmt.Errorf("publish %s: %w", day, err)
	}
	return res, nil
}

// A staged row is a decision as the ledger stores it.
type staged struct {
	reviewID, reviewType, decision string
	credit                         int64
	pub                            int // index in the publish's pubs
	classes, confs, reasons        string
}

// A pubKey is what the decisions of a publication share.
type pubKey struct{ policy, model, transformJob string }

// A chunk is up to chunkRows staged rows.
type chunk struct {
	first int // the 0-based row number of rows[0]
	rows  []staged
	pubs  []pubKey // the publish's pubs when the chunk was made; append only
}

// A publishing is one run of Publish.
type publishing struct {
	l    *Ledger
	day  string
	now  string
	tx   *sql.Tx
	conn *sql.Conn
	base int64 // the publications of this publish have ids base+1, base+2, …

	// Written by the reader goroutine until it has sent its last chunk.
	pubs     []pubKey
	pubIndex map[pubKey]int
	n        int
	buf      []byte

	res    Result
	stored []int64 // decisions stored, by pub
}

func (l *Ledger) publish(ctx context.Context, day string, rows iter.Seq2[credit.DecisionRow, error]) (res Result, err error) {
	conn, tx, err := l.beginWrite(ctx)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	p := &publishing{l: l, day: day, now: l.now().UTC().Format(timeFormat), tx: tx, conn: conn, pubIndex: map[pubKey]int{}}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM publications`).Scan(&p.base); err != nil {
		return Result{}, fmt.Errorf("read publications: %w", err)
	}
	var stored bool
	if err := tx.QueryRowContext(ctx, l.d.rebind(`SELECT EXISTS (SELECT 1 FROM decisions WHERE day = ?)`), day).Scan(&stored); err != nil {
		return Result{}, fmt.Errorf("read decisions: %w", err)
	}

	// A day new to the ledger loads straight into decisions; a day
	// published before is staged and merged.
	load := p.loadNew
	if stored {
		load = p.loadMerge
	}
	if err := p.run(ctx, rows, load); err != nil {
		if dup := p.findDuplicate(ctx, rows, err); dup != nil {
			return Result{}, dup
		}
		return Result{}, err
	}
	if stored {
		err = p.merge(ctx)
	} else {
		err = p.settleNew(ctx)
	}
	if err != nil {
		return Result{}, err
	}
	if err := p.recordPublications(ctx); err != nil {
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
	return p.res, nil
}

// run reads rows into chunks on a goroutine of its own and calls load with
// each, in order, so that reading the next chunk overlaps loading this one.
func (p *publishing) run(ctx context.Context, rows iter.Seq2[credit.DecisionRow, error], load func(context.Context, chunk) error) error {
	g, gctx := errgroup.WithContext(ctx)
	chunks := make(chan chunk, 1)
	g.Go(func() error {
		defer close(chunks)
		c := chunk{rows: make([]staged, 0, chunkRows)}
		for r, err := range rows {
			if err != nil {
				return err
			}
			s, err := p.stage(r)
			if err != nil {
				return err
			}
			c.rows = append(c.rows, s)
			if len(c.rows) == chunkRows {
				c.pubs = p.pubs
				select {
				case chunks <- c:
				case <-gctx.Done():
					return gctx.Err()
				}
				c = chunk{first: p.n, rows: make([]staged, 0, chunkRows)}
			}
		}
		if len(c.rows) > 0 {
			c.pubs = p.pubs
			select {
			case chunks <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	g.Go(func() error {
		for c := range chunks {
			if err := load(gctx, c); err != nil {
				return err // the reader stops: gctx is canceled
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if p.n == 0 {
		return fmt.Errorf("no decision to publish")
	}
	return nil
}

// stage checks the next row and turns it into what the ledger stores.
func (p *publishing) stage(r credit.DecisionRow) (staged, error) {
	p.n++
	bad := func(format string, args ...any) (staged, error) {
		return staged{}, &RowError{Row: p.n, ReviewID: r.ReviewID, Reason: fmt.Sprintf(format, args...)}
	}
	if r.Day != "" && r.Day != p.day {
		return bad("day %q, want %q", r.Day, p.day)
	}
	if r.ReviewID == "" {
		return bad("no review_id")
	}
	switch r.Decision.Decision {
	case credit.Grant, credit.Reject, credit.Manual:
	default:
		return bad("decision %q, want %s, %s or %s", r.Decision.Decision, credit.Grant, credit.Reject, credit.Manual)
	}
	if r.PolicyVersion == "" {
		return bad("no policy_version")
	}
	k := pubKey{r.PolicyVersion, r.Model, r.TransformJob}
	pub, ok := p.pubIndex[k]
	if !ok {
		pub = len(p.pubs)
		p.pubs = append(p.pubs, k)
		p.pubIndex[k] = pub
	}
	// The three lists share one string: one allocation a row.
	b, confsAt, reasonsAt, err := appendLists(p.buf[:0], r.Decision)
	if err != nil {
		return bad("%v", err)
	}
	p.buf = b
	lists := string(b)
	return staged{
		reviewID: r.ReviewID, reviewType: r.ReviewType, decision: r.Decision.Decision, credit: r.Credit, pub: pub,
		classes: lists[:confsAt], confs: lists[confsAt:reasonsAt], reasons: lists[reasonsAt:],
	}, nil
}

// decisionColumns are the columns of decisions that a publish writes, in
// the order of decisionValues.
var decisionColumns = []string{
	"day", "review_id", "review_type", "decision", "credit", "publication", "classes", "confidences", "reasons",
}

func (p *publishing) decisionValues(s *staged, dst []any) []any {
	return append(dst[:0], p.day, s.reviewID, s.reviewType, s.decision, s.credit, p.base+1+int64(s.pub),
		s.classes, s.confs, s.reasons)
}

// loadNew loads a chunk of a day new to the ledger straight into
// decisions, under a savepoint. A grant of a review granted on another day
// breaks the unique index of grants: the chunk is rolled back, those
// reviews found, recorded as conflicts and left out, and the chunk loaded
// again. Other decisions on reviews granted on other days are found once
// all is loaded (settleNew).
func (p *publishing) loadNew(ctx context.Context, c chunk) error {
	if _, err := p.tx.ExecContext(ctx, `SAVEPOINT ledger_chunk`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	rows := c.rows
	for attempt := 0; ; attempt++ {
		err := p.l.d.load(ctx, p.conn, p.tx, "decisions", decisionColumns, len(rows),
			func(i int, dst []any) []any { return p.decisionValues(&rows[i], dst) })
		if err == nil {
			break
		}
		if index, ok := p.l.d.uniqueViolation(err); !ok || index != "decisions_one_grant" || attempt > 0 {
			return fmt.Errorf("load rows %d to %d: %w", c.first+1, c.first+len(c.rows), err)
		}
		if _, err := p.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT ledger_chunk`); err != nil {
			return fmt.Errorf("rollback to savepoint: %w", err)
		}
		if rows, err = p.dropGrantedElsewhere(ctx, rows); err != nil {
			return err
		}
	}
	if _, err := p.tx.ExecContext(ctx, `RELEASE SAVEPOINT ledger_chunk`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	p.count(rows)
	return nil
}

// count adds rows, stored, to the result.
func (p *publishing) count(rows []staged) {
	for i := range rows {
		s := &rows[i]
		for len(p.stored) <= s.pub {
			p.stored = append(p.stored, 0)
		}
		p.stored[s.pub]++
		p.res.Inserted++
		switch s.decision {
		case credit.Grant:
			p.res.CreditsGranted += s.credit
		case credit.Manual:
			p.res.Queued++
		}
	}
}

// A grant is a review's grant in the ledger.
type grant struct {
	day, policy string
	credit      int64
}

func (g grant) detail() string {
	return fmt.Sprintf("already granted on %s (credit %d, policy %s)", g.day, g.credit, g.policy)
}

// dropGrantedElsewhere records the grants of rows whose review was granted
// on another day as conflicts, and returns rows without them.
func (p *publishing) dropGrantedElsewhere(ctx context.Context, rows []staged) ([]staged, error) {
	var ids []string
	for i := range rows {
		if rows[i].decision == credit.Grant {
			ids = append(ids, rows[i].reviewID)
		}
	}
	granted, err := p.grants(ctx, ids)
	if err != nil {
		return nil, err
	}
	kept := make([]staged, 0, len(rows))
	for _, s := range rows {
		g, ok := granted[s.reviewID]
		if !ok || s.decision != credit.Grant {
			kept = append(kept, s)
			continue
		}
		if g.day == p.day {
			// Granted by an earlier row of this publish.
			return nil, fmt.Errorf("review %q: granted twice in the day: %w", s.reviewID, errDuplicate)
		}
		if err := p.conflict(ctx, s.reviewID, credit.Grant, s.decision, g.detail()); err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// grants returns the grants in the ledger of the reviews ids.
func (p *publishing) grants(ctx context.Context, ids []string) (map[string]grant, error) {
	out := map[string]grant{}
	for start := 0; start < len(ids); start += batchParams {
		part := ids[start:min(start+batchParams, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := p.tx.QueryContext(ctx, p.l.d.rebind(`SELECT g.review_id, g.day, g.credit, gp.policy_version
			FROM decisions g JOIN publications gp ON gp.id = g.publication
			WHERE g.decision = 'grant' AND g.review_id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("read grants: %w", err)
		}
		for rows.Next() {
			var (
				id string
				g  grant
			)
			if err := rows.Scan(&id, &g.day, &g.credit, &g.policy); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read grants: %w", err)
			}
			out[id] = g
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("read grants: %w", err)
		}
	}
	return out, nil
}

// batchParams is how many parameters a statement of a list of values
// takes at most: SQLite allows 32766, PostgreSQL 65535.
const batchParams = 500 * 9

// conflict records a decision not applied, once, and counts it.
func (p *publishing) conflict(ctx context.Context, reviewID, previous, decision, detail string) error {
	if _, err := p.tx.ExecContext(ctx, p.l.d.rebind(`INSERT INTO conflicts
		(review_id, day, previous_decision, new_decision, detail, recorded_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (review_id, day, previous_decision, new_decision, detail) DO NOTHING`),
		reviewID, p.day, previous, decision, detail, p.now); err != nil {
		return fmt.Errorf("record conflict of review %q: %w", reviewID, err)
	}
	p.res.Conflicts++
	return nil
}

// settleNew finishes the load of a new day: the day's decisions other than
// grants on reviews granted on another day are recorded as conflicts and
// taken out again.
func (p *publishing) settleNew(ctx context.Context) error {
	rows, err := p.tx.QueryContext(ctx, p.l.d.rebind(`SELECT d.review_id, d.decision, d.publication,
			g.day, g.credit, gp.policy_version
		FROM decisions d
		JOIN decisions g ON g.review_id = d.review_id AND g.decision = 'grant' AND g.day <> d.day
		JOIN publications gp ON gp.id = g.publication
		WHERE d.day = ? AND d.decision <> 'grant'`), p.day)
	if err != nil {
		return fmt.Errorf("find decisions on granted reviews: %w", err)
	}
	type found struct {
		id, decision string
		pub          int64
		g            grant
	}
	var all []found
	for rows.Next() {
		var f found
		if err := rows.Scan(&f.id, &f.decision, &f.pub, &f.g.day, &f.g.credit, &f.g.policy); err != nil {
			rows.Close()
			return fmt.Errorf("find decisions on granted reviews: %w", err)
		}
		all = append(all, f)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("find decisions on granted reviews: %w", err)
	}
	for _, f := range all {
		if err := p.conflict(ctx, f.id, credit.Grant, f.decision, f.g.detail()); err != nil {
			return err
		}
		if _, err := p.tx.ExecContext(ctx, p.l.d.rebind(`DELETE FROM decisions WHERE day = ? AND review_id = ?`), p.day, f.id); err != nil {
			return fmt.Errorf("take out the decision on granted review %q: %w", f.id, err)
		}
		p.stored[f.pub-p.base-1]--
		p.res.Inserted--
		if f.decision == credit.Manual {
			p.res.Queued--
		}
	}
	return nil
}

// stagingColumns are the columns of the staging table of a day published
// before, in the order of stagingValues.
var stagingColumns = []string{
	"review_id", "review_type", "decision", "credit", "publication", "policy_version", "model", "transform_job",
	"classes", "confidences", "reasons",
}

func (p *publishing) stagingValues(s *staged, pubs []pubKey, dst []any) []any {
	k := pubs[s.pub]
	return append(dst[:0], s.reviewID, s.reviewType, s.decision, s.credit, p.base+1+int64(s.pub),
		k.policy, nullable(k.model), nullable(k.transformJob), s.classes, s.confs, s.reasons)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// loadMerge loads a chunk of a day published before into the staging
// table, created by the first chunk. Its primary key refuses a review
// twice.
func (p *publishing) loadMerge(ctx context.Context, c chunk) error {
	if c.first == 0 {
		// The staging table lives in this transaction only: merge drops
		// it, and a rollback undoes its creation.
		if _, err := p.tx.ExecContext(ctx, `CREATE TEMP TABLE ledger_staging (
			review_id      TEXT   NOT NULL PRIMARY KEY,
			review_type    TEXT   NOT NULL,
			decision       TEXT   NOT NULL,
			credit         BIGINT NOT NULL,
			publication    BIGINT NOT NULL,
			policy_version TEXT   NOT NULL,
			model          TEXT,
			transform_job  TEXT,
			classes        TEXT   NOT NULL,
			confidences    TEXT   NOT NULL,
			reasons        TEXT   NOT NULL
		)`); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
	}
	err := p.l.d.load(ctx, p.conn, p.tx, "ledger_staging", stagingColumns, len(c.rows),
		func(i int, dst []any) []any { return p.stagingValues(&c.rows[i], c.pubs, dst) })
	if err != nil {
		return fmt.Errorf("stage rows %d to %d: %w", c.first+1, c.first+len(c.rows), err)
	}
	return nil
}

// merge applies the staged rows of a day published before. Each is sorted
// into one of: the same as stored (unchanged), different from the day's
// stored decision (changed), on a review granted on another day
// (granted), or new. Order matters: a grant published again unchanged is
// unchanged, not a second grant.
func (p *publishing) merge(ctx context.Context) error {
	exec := func(what, query string, args ...any) (int, error) {
		r, err := p.tx.ExecContext(ctx, p.l.d.rebind(query), args...)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		return int(n), nil
	}
	// ledger_merge holds the rows that are not unchanged.
	if _, err := exec("create merge table", `CREATE TEMP TABLE ledger_merge (
		review_id         TEXT   NOT NULL PRIMARY KEY,
		review_type       TEXT   NOT NULL,
		decision          TEXT   NOT NULL,
		credit            BIGINT NOT NULL,
		publication       BIGINT NOT NULL,
		classes           TEXT   NOT NULL,
		confidences       TEXT   NOT NULL,
		reasons           TEXT   NOT NULL,
		status            TEXT   NOT NULL,
		previous_decision TEXT,
		detail            TEXT
	)`); err != nil {
		return err
	}
	if _, err := exec("compare with the stored decisions", `INSERT INTO ledger_merge
		SELECT s.review_id, s.review_type, s.decision, s.credit, s.publication, s.classes, s.confidences, s.reasons,
			CASE WHEN d.review_id IS NULL THEN 'new' ELSE 'changed' END AS status,
			d.decision AS previous_decision,
			CASE WHEN d.review_id IS NOT NULL THEN 'published again with a different'
				|| CASE WHEN d.decision <> s.decision THEN ' decision (' || d.decision || ' → ' || s.decision || ')' ELSE '' END
				|| CASE WHEN d.credit <> s.credit THEN ' credit (' || CAST(d.credit AS TEXT) || ' → ' || CAST(s.credit AS TEXT) || ')' ELSE '' END
				|| CASE WHEN p.policy_version <> s.policy_version THEN ' policy (' || p.policy_version || ' → ' || s.policy_version || ')' ELSE '' END
				|| CASE WHEN d.review_type <> s.review_type THEN ' review type (' || d.review_type || ' → ' || s.review_type || ')' ELSE '' END
				|| CASE WHEN p.model IS DISTINCT FROM s.model OR p.transform_job IS DISTINCT FROM s.transform_job THEN ' model' ELSE '' END
				|| CASE WHEN d.classes <> s.classes OR d.confidences <> s.confidences THEN ' predictions' ELSE '' END
				|| CASE WHEN d.reasons <> s.reasons THEN ' reasons' ELSE '' END
			END AS detail
		FROM ledger_staging s
		LEFT JOIN decisions d ON d.day = ? AND d.review_id = s.review_id
		LEFT JOIN publications p ON p.id = d.publication
		WHERE d.review_id IS NULL OR NOT (d.review_type = s.review_type AND d.decision = s.decision
			AND d.credit = s.credit AND p.policy_version = s.policy_version
			AND p.model IS NOT DISTINCT FROM s.model AND p.transform_job IS NOT DISTINCT FROM s.transform_job
			AND d.classes = s.classes AND d.confidences = s.confidences AND d.reasons = s.reasons)`, p.day); err != nil {
		return err
	}
	if _, err := exec("record changed decisions", `INSERT INTO conflicts
		(review_id, day, previous_decision, new_decision, detail, recorded_at)
		SELECT review_id, ?, previous_decision, decision, detail, ? FROM ledger_merge WHERE status = 'changed'
		ON CONFLICT (review_id, day, previous_decision, new_decision, detail) DO NOTHING`, p.day, p.now); err != nil {
		return err
	}
	if _, err := exec("find granted reviews", `UPDATE ledger_merge SET status = 'granted' WHERE status = 'new'
		AND EXISTS (SELECT 1 FROM decisions g WHERE g.review_id = ledger_merge.review_id AND g.decision = 'grant')`); err != nil {
		return err
	}
	if _, err := exec("record decisions on granted reviews", `INSERT INTO conflicts
		(review_id, day, previous_decision, new_decision, detail, recorded_at)
		SELECT m.review_id, ?, 'grant', m.decision,
			'already granted on ' || g.day || ' (credit ' || CAST(g.credit AS TEXT) || ', policy ' || gp.policy_version || ')', ?
		FROM ledger_merge m
		JOIN decisions g ON g.review_id = m.review_id AND g.decision = 'grant'
		JOIN publications gp ON gp.id = g.publication
		WHERE m.status = 'granted'
		ON CONFLICT (review_id, day, previous_decision, new_decision, detail) DO NOTHING`, p.day, p.now); err != nil {
		return err
	}
	if _, err := exec("insert decisions", `INSERT INTO decisions (`+strings.Join(decisionColumns, ", ")+`)
		SELECT ?, review_id, review_type, decision, credit, publication, classes, confidences, reasons
		FROM ledger_merge WHERE status = 'new'`, p.day); err != nil {
		return err
	}

	rows, err := p.tx.QueryContext(ctx, `SELECT status, publication, COUNT(*),
			CAST(COALESCE(SUM(CASE WHEN decision = 'grant' THEN credit ELSE 0 END), 0) AS BIGINT),
			CAST(COALESCE(SUM(CASE WHEN decision = 'manual' THEN 1 ELSE 0 END), 0) AS BIGINT)
		FROM ledger_merge GROUP BY status, publication`)
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	p.stored = make([]int64, len(p.pubs))
	notUnchanged := 0
	for rows.Next() {
		var (
			status        string
			pub, n, creds int64
			manual        int
		)
		if err := rows.Scan(&status, &pub, &n, &creds, &manual); err != nil {
			rows.Close()
			return fmt.Errorf("count: %w", err)
		}
		notUnchanged += int(n)
		if status != "new" {
			p.res.Conflicts += int(n)
			continue
		}
		p.res.Inserted += int(n)
		p.res.CreditsGranted += creds
		p.res.Queued += manual
		p.stored[pub-p.base-1] += n
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	p.res.Unchanged = p.n - notUnchanged
	for _, t := range []string{"ledger_merge", "ledger_staging"} {
		if _, err := exec("drop "+t, `DROP TABLE `+t); err != nil {
			return err
		}
	}
	return nil
}

// recordPublications records the publications of the decisions stored.
func (p *publishing) recordPublications(ctx context.Context) error {
	for i, k := range p.pubs {
		if i >= len(p.stored) || p.stored[i] == 0 {
			continue
		}
		if _, err := p.tx.ExecContext(ctx, p.l.d.rebind(`INSERT INTO publications
			(id, day, policy_version, model, transform_job, published_at, decisions) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			p.base+1+int64(i), p.day, k.policy, nullable(k.model), nullable(k.transformJob), p.now, p.stored[i]); err != nil {
			return fmt.Errorf("record publication: %w", err)
		}
	}
	return nil
}

// errDuplicate marks a load that failed on a review given twice.
var errDuplicate = errors.New("a review appears twice")

// findDuplicate returns a *RowError naming a review that rows give twice
// when loadErr is a load refused by a unique index (a review given twice
// breaks the primary key of decisions or of the staging table, or the one
// grant a review), else nil. It reads rows
// again, with every review id in memory: a failing publish only.
func (p *publishing) findDuplicate(ctx context.Context, rows iter.Seq2[credit.DecisionRow, error], loadErr error) error {
	if _, ok := p.l.d.uniqueViolation(loadErr); !ok && !errors.Is(loadErr, errDuplicate) {
		return nil
	}
	seen := map[string]int{}
	i := 0
	for r, err := range rows {
		if err != nil || ctx.Err() != nil {
			return nil
		}
		i++
		if j, ok := seen[r.ReviewID]; ok {
			return &RowError{Row: i, ReviewID: r.ReviewID, Reason: fmt.Sprintf("already in row %d: a review is decided once a day", j)}
		}
		seen[r.ReviewID] = i
	}
	return nil
}

// Queue returns the open inspection queue, oldest first.
func (l *Ledger) Queue(ctx context.Context) ([]QueueItem, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT
		review_id, review_type, day, classes, confidences, reasons, queued_at
		FROM inspection_queue ORDER BY queued_at, day, review_id`)
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
		if err := rows.Scan(&it.ReviewID, &it.ReviewType, &it.Day, &classes, &confs, &reasons, &queuedAt); err != nil {
			return nil, fmt.Errorf("read inspection queue: %w", err)
		}
		if err := decodeLists(&it, classes, confs, reasons); err != nil {
			return nil, fmt.Errorf("read inspection queue: review %q of %s: %w", it.ReviewID, it.Day, err)
		}
		if n := len(it.Reasons); n > 0 {
			it.Reason = it.Reasons[n-1]
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
