package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
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
	Audits         int   `json:"audits"`          // of those, audits of automatic decisions
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
	// Audit marks an audit of an automatic decision. It is shown blind:
	// no classes, confidences or reasons of the model, so that the
	// person's answer measures the model instead of agreeing with it.
	Audit bool
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

// A publish loads its rows in chunks, each read while the one before
// loads. The first is small, so the load starts at once; they double up
// to maxChunkRows. Each chunk of a new day loads under a savepoint of its
// own; PostgreSQL keeps 64 subtransactions a transaction cheap: 2 million
// rows. Chunks of 32Ki rows load as fast as larger ones (bench/publish.sh)
// and hold less memory.
const (
	firstChunkRows = 1 << 12
	maxChunkRows   = 1 << 15
)

// Publish applies a day's decisions to the ledger, in one transaction.
//
// A review is decided once. A decision on a review new to the ledger is
// stored: a grant grants its credit, a manual decision joins the
// inspection queue. A decision identical to the one stored for its review
// and day changes nothing. A decision that differs from the one stored for
// its review and day, or any decision on a review decided on another day,
// is recorded in conflicts, for a person, and not applied: so a review is
// granted at most once, ever.
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

// A staged row is a decision as the ledger stores it. Its lists are
// JSON text in its chunk's arena: classes, confidences and reasons at
// lists[0:1], [1:2] and [2:3].
type staged struct {
	reviewID, reviewType, decision string
	autoDecision                   string // an audit's automatic decision, else ""
	credit                         int64
	grantCredit                    int64 // negative: null
	pub                            int   // index in the publish's pubs
	lists                          [4]int32
}

// A pubKey is what the decisions of a publication share.
type pubKey struct{ policy, model, transformJob string }

// A chunk is up to maxChunkRows staged rows.
type chunk struct {
	first int // the 0-based row number of rows[0]
	rows  []staged
	arena []byte
	pubs  []pubKey // the publish's pubs when the chunk was made; append only
}

func (c *chunk) list(s *staged, i int) []byte { return c.arena[s.lists[i]:s.lists[i+1]] }

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
	// Every publish that stores decisions records its publications in the
	// same transaction, so they tell, cheaply, whether the day has any.
	var stored bool
	if err := tx.QueryRowContext(ctx, l.d.rebind(`SELECT EXISTS (SELECT 1 FROM publications WHERE day = ? AND decisions > 0)`),
		day).Scan(&stored); err != nil {
		return Result{}, fmt.Errorf("read publications: %w", err)
	}

	// A day new to the ledger loads straight into decisions; a day
	// published before is staged and merged.
	if stored {
		err = p.run(ctx, rows, p.loadMerge)
	} else {
		err = p.run(ctx, rows, p.loadNew)
	}
	if err != nil {
		if dup := p.findDuplicate(ctx, rows, err); dup != nil {
			return Result{}, dup
		}
		return Result{}, err
	}
	if stored {
		if err := p.merge(ctx); err != nil {
			return Result{}, err
		}
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
// each, in order, so that reading a chunk overlaps loading the one before.
func (p *publishing) run(ctx context.Context, rows iter.Seq2[credit.DecisionRow, error], load func(context.Context, *chunk) error) error {
	g, gctx := errgroup.WithContext(ctx)
	free := make(chan *chunk, 2) // loaded chunks, to fill again
	read := make(chan *chunk, 1)
	g.Go(func() error {
		defer close(read)
		var c *chunk
		size := firstChunkRows
		send := func() error {
			c.pubs = p.pubs
			select {
			case read <- c:
			case <-gctx.Done():
				return gctx.Err()
			}
			c, size = nil, min(2*size, maxChunkRows)
			return nil
		}
		for r, err := range rows {
			if err != nil {
				return err
			}
			if c == nil {
				select {
				case c = <-free:
					c.rows, c.arena = c.rows[:0], c.arena[:0]
				default:
					c = &chunk{rows: make([]staged, 0, size)}
				}
				c.first = p.n
			}
			if err := p.stage(c, r); err != nil {
				return err
			}
			if len(c.rows) == size {
				if err := send(); err != nil {
					return err
				}
			}
		}
		if c != nil {
			return send()
		}
		return nil
	})
	g.Go(func() error {
		for c := range read {
			if err := load(gctx, c); err != nil {
				return err // the reader stops: gctx is canceled
			}
			select {
			case free <- c:
			default:
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

// stage checks the next row and adds it to c as the ledger stores it.
func (p *publishing) stage(c *chunk, r credit.DecisionRow) error {
	p.n++
	bad := func(format string, args ...any) error {
		return &RowError{Row: p.n, ReviewID: r.ReviewID, Reason: fmt.Sprintf(format, args...)}
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
	switch {
	case r.Audit && r.Decision.Decision != credit.Manual:
		return bad("an audit decided %s, want %s: a person decides an audit", r.Decision.Decision, credit.Manual)
	case r.Audit && r.AutoDecision != credit.Grant && r.AutoDecision != credit.Reject:
		return bad("an audit's automatic decision %q, want %s or %s", r.AutoDecision, credit.Grant, credit.Reject)
	case !r.Audit && r.AutoDecision != "":
		return bad("automatic decision %q on a review that is not an audit", r.AutoDecision)
	}
	grantCredit := r.GrantCredit
	if r.Decision.Decision == credit.Grant {
		grantCredit = r.Credit
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
	at := len(c.arena)
	arena, confsAt, reasonsAt, err := appendLists(c.arena, r.Decision)
	if err != nil {
		return bad("%v", err)
	}
	if len(arena) > math.MaxInt32 {
		return bad("the lists of rows %d to %d take more than 2 GiB", c.first+1, p.n)
	}
	c.arena = arena
	c.rows = append(c.rows, staged{
		reviewID: r.ReviewID, reviewType: r.ReviewType, decision: r.Decision.Decision, autoDecision: r.AutoDecision,
		credit: r.Credit, grantCredit: grantCredit, pub: pub,
		lists: [4]int32{int32(at), int32(at + confsAt), int32(at + reasonsAt), int32(len(arena))},
	})
	return nil
}

// decisionColumns are the columns of decisions that a publish writes, in
// the order of decisionValues.
var decisionColumns = []string{
	"day", "review_id", "review_type", "decision", "credit", "publication", "classes", "confidences", "reasons",
	"auto_decision", "grant_credit",
}

func (p *publishing) decisionValues(c *chunk, s *staged, e rowEncoder) {
	e.text(p.day)
	e.text(s.reviewID)
	e.text(s.reviewType)
	e.text(s.decision)
	e.int(s.credit)
	e.int(p.base + 1 + int64(s.pub))
	e.bytes(c.list(s, 0))
	e.bytes(c.list(s, 1))
	e.bytes(c.list(s, 2))
	nullable(e, s.autoDecision)
	nullableInt(e, s.grantCredit)
}

// nullableInt gives e the BIGINT v, or NULL for a negative v.
func nullableInt(e rowEncoder, v int64) {
	if v < 0 {
		e.null()
	} else {
		e.int(v)
	}
}

// loadNew loads a chunk of a day new to the ledger straight into
// decisions, under a savepoint. A review already in the ledger breaks the
// primary key: the chunk is rolled back, those reviews found, recorded as
// conflicts and left out, and the chunk loaded again. A review that this
// publish itself stored, given twice, fails the load.
func (p *publishing) loadNew(ctx context.Context, c *chunk) error {
	if _, err := p.tx.ExecContext(ctx, `SAVEPOINT ledger_chunk`); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	for attempt := 0; ; attempt++ {
		err := p.l.d.load(ctx, p.conn, p.tx, "decisions", decisionColumns, len(c.rows),
			func(i int, e rowEncoder) { p.decisionValues(c, &c.rows[i], e) })
		if err == nil {
			break
		}
		if index, ok := p.l.d.uniqueViolation(err); !ok || index != "decisions_pkey" || attempt > 0 {
			return fmt.Errorf("load rows %d to %d: %w", c.first+1, c.first+len(c.rows), err)
		}
		if _, err := p.tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT ledger_chunk`); err != nil {
			return fmt.Errorf("rollback to savepoint: %w", err)
		}
		if err := p.dropDecided(ctx, c); err != nil {
			return err
		}
	}
	if _, err := p.tx.ExecContext(ctx, `RELEASE SAVEPOINT ledger_chunk`); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	for i := range c.rows {
		s := &c.rows[i]
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
			if s.autoDecision != "" {
				p.res.Audits++
			}
		}
	}
	return nil
}

// A decided review is a review's decision in the ledger.
type decided struct {
	day, decision, policy string
	credit                int64
}

// conflictDetail says why a decision on a review decided on another day is
// not applied.
func (d decided) conflictDetail() string {
	if d.decision == credit.Grant {
		return fmt.Sprintf("already granted on %s (credit %d, policy %s)", d.day, d.credit, d.policy)
	}
	return fmt.Sprintf("already decided on %s: %s (policy %s)", d.day, d.decision, d.policy)
}

// dropDecided records c's rows on reviews already in the ledger as
// conflicts and leaves them out of c.
func (p *publishing) dropDecided(ctx context.Context, c *chunk) error {
	ids := make([]string, len(c.rows))
	for i := range c.rows {
		ids[i] = c.rows[i].reviewID
	}
	found, err := p.l.decided(ctx, p.tx, ids)
	if err != nil {
		return fmt.Errorf("read the ledger's decisions of rows %d to %d: %w", c.first+1, c.first+len(c.rows), err)
	}
	kept := c.rows[:0]
	for _, s := range c.rows {
		d, ok := found[s.reviewID]
		switch {
		case !ok:
			kept = append(kept, s)
		case d.day == p.day:
			// Stored by an earlier chunk of this publish.
			return fmt.Errorf("review %q: %w", s.reviewID, errDuplicate)
		default:
			if err := p.conflict(ctx, s.reviewID, d.decision, s.decision, d.conflictDetail()); err != nil {
				return err
			}
		}
	}
	c.rows = kept
	return nil
}

// decidedQuery reads the decisions in the ledger of a list of reviews.
const decidedQuery = `SELECT d.review_id, d.day, d.decision, d.credit, p.policy_version
	FROM decisions d JOIN publications p ON p.id = d.publication
	WHERE d.review_id `

// decided reads the ledger's decisions of the reviews ids (see eachByID).
func (l *Ledger) decided(ctx context.Context, tx *sql.Tx, ids []string) (map[string]decided, error) {
	var out map[string]decided
	err := l.eachByID(ctx, tx, decidedQuery+"{ids}", ids, func(rows *sql.Rows) error {
		var (
			id string
			d  decided
		)
		if err := rows.Scan(&id, &d.day, &d.decision, &d.credit, &d.policy); err != nil {
			return err
		}
		if out == nil {
			out = map[string]decided{}
		}
		out[id] = d
		return nil
	})
	return out, err
}

// batchParams is how many parameters a statement of a list of values
// takes at most: SQLite allows 32766.
const batchParams = 4096

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

// stagingColumns are the columns of the staging table of a day published
// before, in the order of stagingValues.
var stagingColumns = []string{
	"review_id", "review_type", "decision", "credit", "publication", "policy_version", "model", "transform_job",
	"classes", "confidences", "reasons", "auto_decision", "grant_credit",
}

func (p *publishing) stagingValues(c *chunk, s *staged, e rowEncoder) {
	k := c.pubs[s.pub]
	e.text(s.reviewID)
	e.text(s.reviewType)
	e.text(s.decision)
	e.int(s.credit)
	e.int(p.base + 1 + int64(s.pub))
	e.text(k.policy)
	nullable(e, k.model)
	nullable(e, k.transformJob)
	e.bytes(c.list(s, 0))
	e.bytes(c.list(s, 1))
	e.bytes(c.list(s, 2))
	nullable(e, s.autoDecision)
	nullableInt(e, s.grantCredit)
}

// nullable gives e the text s, or NULL for "".
func nullable(e rowEncoder, s string) {
	if s == "" {
		e.null()
	} else {
		e.text(s)
	}
}

// loadMerge loads a chunk of a day published before into the staging
// table, created by the first chunk. Its primary key refuses a review
// twice.
func (p *publishing) loadMerge(ctx context.Context, c *chunk) error {
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
			reasons        TEXT   NOT NULL,
			auto_decision  TEXT,
			grant_credit   BIGINT
		)`); err != nil {
			return fmt.Errorf("create staging table: %w", err)
		}
	}
	err := p.l.d.load(ctx, p.conn, p.tx, "ledger_staging", stagingColumns, len(c.rows),
		func(i int, e rowEncoder) { p.stagingValues(c, &c.rows[i], e) })
	if err != nil {
		return fmt.Errorf("stage rows %d to %d: %w", c.first+1, c.first+len(c.rows), err)
	}
	return nil
}

// merge applies the staged rows of a day published before. Each is sorted
// into one of: the same as the day's stored decision (unchanged),
// different from it (changed), on a review decided on another day
// (decided), or new. Changed and decided rows are conflicts.
func (p *publishing) merge(ctx context.Context) error {
	exec := func(what, query string, args ...any) error {
		if _, err := p.tx.ExecContext(ctx, p.l.d.rebind(query), args...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	// ledger_merge holds the rows that are not unchanged.
	if err := exec("create merge table", `CREATE TEMP TABLE ledger_merge (
		review_id         TEXT   NOT NULL PRIMARY KEY,
		review_type       TEXT   NOT NULL,
		decision          TEXT   NOT NULL,
		credit            BIGINT NOT NULL,
		publication       BIGINT NOT NULL,
		classes           TEXT   NOT NULL,
		confidences       TEXT   NOT NULL,
		reasons           TEXT   NOT NULL,
		auto_decision     TEXT,
		grant_credit      BIGINT,
		status            TEXT   NOT NULL,
		previous_decision TEXT,
		detail            TEXT
	)`); err != nil {
		return err
	}
	if err := exec("compare with the stored decisions", `INSERT INTO ledger_merge
		SELECT s.review_id, s.review_type, s.decision, s.credit, s.publication, s.classes, s.confidences, s.reasons,
			s.auto_decision, s.grant_credit,
			CASE WHEN d.review_id IS NULL THEN 'new' WHEN d.day = ? THEN 'changed' ELSE 'decided' END AS status,
			d.decision AS previous_decision,
			CASE WHEN d.review_id IS NULL THEN NULL
			WHEN d.day = ? THEN 'published again with a different'
				|| CASE WHEN d.decision <> s.decision THEN ' decision (' || d.decision || ' → ' || s.decision || ')' ELSE '' END
				|| CASE WHEN d.credit <> s.credit THEN ' credit (' || CAST(d.credit AS TEXT) || ' → ' || CAST(s.credit AS TEXT) || ')' ELSE '' END
				|| CASE WHEN p.policy_version <> s.policy_version THEN ' policy (' || p.policy_version || ' → ' || s.policy_version || ')' ELSE '' END
				|| CASE WHEN d.review_type <> s.review_type THEN ' review type (' || d.review_type || ' → ' || s.review_type || ')' ELSE '' END
				|| CASE WHEN p.model IS DISTINCT FROM s.model OR p.transform_job IS DISTINCT FROM s.transform_job THEN ' model' ELSE '' END
				|| CASE WHEN d.classes <> s.classes OR d.confidences <> s.confidences THEN ' predictions' ELSE '' END
				|| CASE WHEN d.reasons <> s.reasons THEN ' reasons' ELSE '' END
				|| CASE WHEN d.auto_decision IS DISTINCT FROM s.auto_decision THEN ' audit' ELSE '' END
				|| CASE WHEN s.grant_credit IS NOT NULL AND d.grant_credit IS DISTINCT FROM s.grant_credit
					AND d.decision <> 'grant' AND s.decision <> 'grant' THEN ' grant credit' ELSE '' END
			WHEN d.decision = 'grant' THEN 'already granted on ' || d.day || ' (credit ' || CAST(d.credit AS TEXT)
				|| ', policy ' || p.policy_version || ')'
			ELSE 'already decided on ' || d.day || ': ' || d.decision || ' (policy ' || p.policy_version || ')'
			END AS detail
		FROM ledger_staging s
		LEFT JOIN decisions d ON d.review_id = s.review_id
		LEFT JOIN publications p ON p.id = d.publication
		WHERE d.review_id IS NULL OR d.day <> ? OR NOT (d.review_type = s.review_type AND d.decision = s.decision
			AND d.credit = s.credit AND p.policy_version = s.policy_version
			AND p.model IS NOT DISTINCT FROM s.model AND p.transform_job IS NOT DISTINCT FROM s.transform_job
			AND d.classes = s.classes AND d.confidences = s.confidences AND d.reasons = s.reasons
			AND d.auto_decision IS NOT DISTINCT FROM s.auto_decision
			-- a row that does not know what a grant pays (a decisions file of
			-- version 1) does not contradict the ledger
			AND (s.grant_credit IS NULL OR d.grant_credit IS NOT DISTINCT FROM s.grant_credit))`,
		p.day, p.day, p.day); err != nil {
		return err
	}
	if err := exec("record conflicts", `INSERT INTO conflicts
		(review_id, day, previous_decision, new_decision, detail, recorded_at)
		SELECT review_id, ?, previous_decision, decision, detail, ? FROM ledger_merge WHERE status <> 'new'
		ON CONFLICT (review_id, day, previous_decision, new_decision, detail) DO NOTHING`, p.day, p.now); err != nil {
		return err
	}
	if err := exec("insert decisions", `INSERT INTO decisions (`+strings.Join(decisionColumns, ", ")+`)
		SELECT ?, review_id, review_type, decision, credit, publication, classes, confidences, reasons, auto_decision, grant_credit
		FROM ledger_merge WHERE status = 'new'`, p.day); err != nil {
		return err
	}

	rows, err := p.tx.QueryContext(ctx, `SELECT status, publication, COUNT(*),
			CAST(COALESCE(SUM(CASE WHEN decision = 'grant' THEN credit ELSE 0 END), 0) AS BIGINT),
			CAST(COALESCE(SUM(CASE WHEN decision = 'manual' THEN 1 ELSE 0 END), 0) AS BIGINT),
			CAST(COALESCE(SUM(CASE WHEN auto_decision IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT)
		FROM ledger_merge GROUP BY status, publication`)
	if err != nil {
		return fmt.Errorf("count: %w", err)
	}
	p.stored = make([]int64, len(p.pubs))
	notUnchanged := 0
	for rows.Next() {
		var (
			status         string
			pub, n, creds  int64
			manual, audits int
		)
		if err := rows.Scan(&status, &pub, &n, &creds, &manual, &audits); err != nil {
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
		p.res.Audits += audits
		p.stored[pub-p.base-1] += n
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("count: %w", err)
	}
	p.res.Unchanged = p.n - notUnchanged
	for _, t := range []string{"ledger_merge", "ledger_staging"} {
		if err := exec("drop "+t, `DROP TABLE `+t); err != nil {
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
			p.base+1+int64(i), p.day, k.policy, nullString(k.model), nullString(k.transformJob), p.now, p.stored[i]); err != nil {
			return fmt.Errorf("record publication: %w", err)
		}
	}
	return nil
}

// nullString is s as a statement argument, nil for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// errDuplicate marks a load that met a review given twice.
var errDuplicate = errors.New("given twice")

// findDuplicate returns a *RowError naming a review that rows give twice
// when loadErr is a load refused for a review given twice (it breaks the
// primary key of decisions or of the staging table), else nil. It reads
// rows again, with every review id in memory: a failing publish only.
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
		review_id, review_type, day, classes, confidences, reasons, queued_at, audit
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
		if err := rows.Scan(&it.ReviewID, &it.ReviewType, &it.Day, &classes, &confs, &reasons, &queuedAt, &it.Audit); err != nil {
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
