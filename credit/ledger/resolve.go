package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reviewlens/reviewlens/credit"
)

// An Answer is what a person decided on a review of the inspection queue.
type Answer struct {
	ReviewID  string
	Outcome   string // credit.Grant or credit.Reject
	Inspector string
	DecidedAt time.Time
	// Photos are the classes the person gave the review's photos, if any,
	// by image index.
	Photos []PhotoLabel
	// Row is the answer's first row in its file (1-based), for messages; 0
	// when it comes from no file.
	Row int
}

// A PhotoLabel is the class a person gave one photo of a review.
type PhotoLabel struct {
	Index    int    // the photo's image_index in its review
	ImageURI string // the photo, s3://bucket/key
	Class    string // its class, a name of the model's class map
}

// ResolveResult is what Resolve did. Applied + Unchanged + Conflicts is the
// number of answers.
type ResolveResult struct {
	Answers int `json:"answers"`
	// Applied counts answers that closed an open item of the queue.
	Applied int `json:"applied"`
	// Unchanged counts answers already recorded: the review was closed
	// with the same outcome and the same photo classes.
	Unchanged int `json:"unchanged"`
	// Conflicts counts answers not applied: the review is unknown to the
	// ledger, was decided automatically, or was closed with another
	// answer. Each is recorded, once, in answer_conflicts.
	Conflicts int `json:"conflicts"`
	// Grants and Rejects count the applied answers by outcome;
	// CreditsGranted is what the grants pay.
	Grants         int   `json:"grants"`
	Rejects        int   `json:"rejects"`
	CreditsGranted int64 `json:"credits_granted"`
	// Audits counts the applied answers that closed an audit, and
	// Overturned those where the person decided otherwise than the policy.
	Audits     int `json:"audits"`
	Overturned int `json:"audits_overturned"`
	// PhotoLabels counts the photo classes recorded with applied answers.
	PhotoLabels int `json:"photo_labels"`
}

// An AnswerError is an answer, or a row of an answers file, that cannot be
// used: it names the row and the column at fault and what was expected.
type AnswerError struct {
	Name     string // the file, as the caller named it; "" for none
	Row      int    // 1-based data row (a CSV header is not counted); 0 for none
	Column   string // the column at fault; "" for the whole row
	Reason   string // what was wrong and what was expected
	ReviewID string // the row's review, when it could be read
}

func (e *AnswerError) Error() string {
	var b strings.Builder
	if e.Name != "" {
		b.WriteString(e.Name + ": ")
	}
	if e.Row > 0 {
		fmt.Fprintf(&b, "row %d: ", e.Row)
	}
	if e.Column != "" {
		b.WriteString(e.Column + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// reviewState is a review as the ledger holds it, for Resolve.
type reviewState struct {
	day, decision, autoDecision string
	credit                      int64
	grantCredit                 sql.NullInt64
	closed                      bool
	outcome, inspector          sql.NullString
	closedAt                    string
	photos                      []PhotoLabel // of a closed review, by index
}

// Resolve records people's answers on the inspection queue, in one
// transaction: all of them or none.
//
// An answer on a review open in the queue (a manual decision no answer
// closed) closes it: a grant grants the review's credit (what its rule
// pays, the decision's grant_credit) in the grants view, once, ever; a
// reject grants nothing. The photo classes it gives are kept for training.
// On an audit, the person's decision is the one that counts; the policy's
// is kept beside it for monitoring.
//
// An answer identical to the one recorded (same outcome, same photo
// classes) changes nothing, so resolving a file again is harmless. Any
// other answer on a review that is not open — unknown to the ledger (or
// its day not published yet), decided automatically, or closed with
// another answer — is a conflict: recorded once in answer_conflicts, for a
// person, and not applied. So is a grant of a review whose grant credit
// the ledger does not know (a day published before decisions carried it).
//
// A review may be answered once in answers; an answer that breaks the
// rules of an Answer (an outcome other than grant or reject, no review or
// inspector, a photo twice) fails the whole call with an *AnswerError.
// source names where the answers come from (the answers file), recorded
// with them.
func (l *Ledger) Resolve(ctx context.Context, source string, answers []Answer) (ResolveResult, error) {
	res := ResolveResult{Answers: len(answers)}
	if err := checkAnswers(answers); err != nil {
		return res, err
	}
	if len(answers) == 0 {
		return res, nil
	}
	conn, tx, err := l.beginWrite(ctx)
	if err != nil {
		return res, fmt.Errorf("resolve: %w", err)
	}
	defer conn.Close()
	defer tx.Rollback()

	ids := make([]string, len(answers))
	for i, a := range answers {
		ids[i] = a.ReviewID
	}
	states, err := l.reviewStates(ctx, tx, ids)
	if err != nil {
		return res, fmt.Errorf("resolve: read the reviews answered: %w", err)
	}
	now := l.now().UTC().Format(timeFormat)
	type conflict struct {
		a              *Answer
		ledger, detail string
	}
	var (
		apply     []*Answer
		conflicts []conflict
	)
	for i := range answers {
		a := &answers[i]
		st, ok := states[a.ReviewID]
		switch {
		case !ok:
			conflicts = append(conflicts, conflict{a, "unknown", "no decision of this review in the ledger: an unknown review, or its day is not published yet"})
		case st.decision != credit.Manual:
			detail := fmt.Sprintf("decided automatically on %s: %s", st.day, st.decision)
			if st.decision == credit.Grant {
				detail += fmt.Sprintf(" (credit %d)", st.credit)
			}
			conflicts = append(conflicts, conflict{a, st.decision, detail})
		case st.closed && !st.outcome.Valid:
			conflicts = append(conflicts, conflict{a, "closed", "already closed, before answers were recorded"})
		case st.closed && st.outcome.String != a.Outcome:
			conflicts = append(conflicts, conflict{a, "closed: " + st.outcome.String, fmt.Sprintf("already closed on %s by %s: %s",
				dayOf(st.closedAt), st.inspector.String, st.outcome.String)})
		case st.closed && !slices.Equal(st.photos, sortedPhotos(a.Photos)):
			conflicts = append(conflicts, conflict{a, "closed: " + st.outcome.String, fmt.Sprintf("already closed on %s by %s with the same outcome and other photo classes",
				dayOf(st.closedAt), st.inspector.String)})
		case st.closed:
			res.Unchanged++
		case a.Outcome == credit.Grant && !st.grantCredit.Valid:
			conflicts = append(conflicts, conflict{a, credit.Manual,
				"the ledger does not know what a grant of this review pays (its day was published without grant credits): grant it by hand"})
		default:
			apply = append(apply, a)
			res.Applied++
			if a.Outcome == credit.Grant {
				res.Grants++
				res.CreditsGranted += st.grantCredit.Int64
			} else {
				res.Rejects++
			}
			if st.autoDecision != "" {
				res.Audits++
				if st.autoDecision != a.Outcome {
					res.Overturned++
				}
			}
			res.PhotoLabels += len(a.Photos)
		}
	}
	res.Conflicts = len(conflicts)

	if len(apply) > 0 {
		err := l.d.load(ctx, conn, tx, "inspections", inspectionColumns, len(apply), func(i int, e rowEncoder) {
			a := apply[i]
			e.text(a.ReviewID)
			e.text(a.Outcome)
			if a.Outcome == credit.Grant {
				e.int(states[a.ReviewID].grantCredit.Int64)
			} else {
				e.int(0)
			}
			e.text(a.Inspector)
			e.text(a.DecidedAt.UTC().Format(timeFormat))
			e.text(now)
			nullable(e, source)
		})
		if err != nil {
			return res, fmt.Errorf("resolve: record inspections: %w", err)
		}
		type photo struct {
			id string
			p  PhotoLabel
		}
		var photos []photo
		for _, a := range apply {
			for _, p := range a.Photos {
				photos = append(photos, photo{a.ReviewID, p})
			}
		}
		if len(photos) > 0 {
			err := l.d.load(ctx, conn, tx, "inspection_photos", inspectionPhotoColumns, len(photos), func(i int, e rowEncoder) {
				e.text(photos[i].id)
				e.int(int64(photos[i].p.Index))
				e.text(photos[i].p.ImageURI)
				e.text(photos[i].p.Class)
			})
			if err != nil {
				return res, fmt.Errorf("resolve: record photo classes: %w", err)
			}
		}
	}
	if len(conflicts) > 0 {
		stmt, err := tx.PrepareContext(ctx, l.d.rebind(`INSERT INTO answer_conflicts
			(review_id, outcome, inspector, decided_at, ledger, detail, source, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (review_id, outcome, inspector, decided_at, detail) DO NOTHING`))
		if err != nil {
			return res, fmt.Errorf("resolve: record conflicts: %w", err)
		}
		defer stmt.Close()
		for _, c := range conflicts {
			if _, err := stmt.ExecContext(ctx, c.a.ReviewID, c.a.Outcome, c.a.Inspector, c.a.DecidedAt.UTC().Format(timeFormat),
				c.ledger, c.detail, nullString(source), now); err != nil {
				return res, fmt.Errorf("resolve: record the conflict of review %q: %w", c.a.ReviewID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("resolve: commit: %w", err)
	}
	return res, nil
}

// inspectionColumns are the columns of inspections Resolve writes.
var inspectionColumns = []string{"review_id", "outcome", "credit", "inspector", "decided_at", "closed_at", "source"}

// inspectionPhotoColumns are the columns of inspection_photos.
var inspectionPhotoColumns = []string{"review_id", "image_index", "image_uri", "class_name"}

// dayOf is the day of a time the ledger wrote.
func dayOf(t string) string {
	if len(t) >= 10 {
		return t[:10]
	}
	return t
}

// sortedPhotos returns photos in index order (a copy).
func sortedPhotos(photos []PhotoLabel) []PhotoLabel {
	s := slices.Clone(photos)
	slices.SortFunc(s, func(a, b PhotoLabel) int { return a.Index - b.Index })
	return s
}

// Limits of an answer's values (see the package doc's answers files).
const (
	MaxIDBytes       = 256  // a review id, an inspector, a class name
	MaxImageURIBytes = 1024 // an S3 key's limit
)

// checkAnswers reports the first answer that breaks the rules of an
// Answer, or that answers a review answered before in answers.
func checkAnswers(answers []Answer) error {
	seen := make(map[string]int, len(answers))
	for i, a := range answers {
		bad := func(column, format string, args ...any) error {
			row := a.Row
			if row == 0 {
				row = i + 1
			}
			return &AnswerError{Row: row, Column: column, Reason: fmt.Sprintf(format, args...), ReviewID: a.ReviewID}
		}
		switch {
		case a.ReviewID == "" || !utf8.ValidString(a.ReviewID) || len(a.ReviewID) > MaxIDBytes:
			return bad(colReviewID, "want a review id of 1 to %d bytes of UTF-8", MaxIDBytes)
		case a.Outcome != credit.Grant && a.Outcome != credit.Reject:
			return bad(colOutcome, "%q, want %s or %s", a.Outcome, credit.Grant, credit.Reject)
		case a.Inspector == "" || !utf8.ValidString(a.Inspector) || len(a.Inspector) > MaxIDBytes:
			return bad(colInspector, "want who decided, 1 to %d bytes of UTF-8", MaxIDBytes)
		case a.DecidedAt.IsZero():
			return bad(colDecidedAt, "missing, want when the person decided")
		}
		if j, ok := seen[a.ReviewID]; ok {
			return bad(colReviewID, "review %q answered again (answer %d): a review is answered once", a.ReviewID, j+1)
		}
		seen[a.ReviewID] = i
		indices := map[int]bool{}
		for _, p := range a.Photos {
			switch {
			case p.Index < 0:
				return bad(colImageIndex, "%d, want an integer from 0", p.Index)
			case indices[p.Index]:
				return bad(colImageIndex, "photo %d of review %q given twice", p.Index, a.ReviewID)
			case p.ImageURI == "" || !utf8.ValidString(p.ImageURI) || len(p.ImageURI) > MaxImageURIBytes:
				return bad(colImageURI, "want the photo's URI, 1 to %d bytes of UTF-8", MaxImageURIBytes)
			case p.Class == "" || !utf8.ValidString(p.Class) || len(p.Class) > MaxIDBytes:
				return bad(colClassName, "want a class name of 1 to %d bytes of UTF-8", MaxIDBytes)
			}
			indices[p.Index] = true
		}
	}
	return nil
}

// reviewStates reads the decisions and inspections of reviews ids, and
// the photo classes of those closed.
func (l *Ledger) reviewStates(ctx context.Context, tx *sql.Tx, ids []string) (map[string]*reviewState, error) {
	states := make(map[string]*reviewState, len(ids))
	var closed []string
	err := l.eachByID(ctx, tx, `SELECT d.review_id, d.day, d.decision, d.auto_decision, d.credit, d.grant_credit,
			i.review_id, i.outcome, i.inspector, i.closed_at
		FROM decisions d LEFT JOIN inspections i ON i.review_id = d.review_id
		WHERE d.review_id {ids}`, ids, func(rows *sql.Rows) error {
		var (
			id               string
			st               reviewState
			auto, inspection sql.NullString
			closedAt         sql.NullString
		)
		if err := rows.Scan(&id, &st.day, &st.decision, &auto, &st.credit, &st.grantCredit,
			&inspection, &st.outcome, &st.inspector, &closedAt); err != nil {
			return err
		}
		st.autoDecision, st.closed, st.closedAt = auto.String, inspection.Valid, closedAt.String
		states[id] = &st
		if st.closed {
			closed = append(closed, id)
		}
		return nil
	})
	if err != nil || len(closed) == 0 {
		return states, err
	}
	err = l.eachByID(ctx, tx, `SELECT review_id, image_index, image_uri, class_name FROM inspection_photos
		WHERE review_id {ids} ORDER BY review_id, image_index`, closed, func(rows *sql.Rows) error {
		var (
			id string
			p  PhotoLabel
		)
		if err := rows.Scan(&id, &p.Index, &p.ImageURI, &p.Class); err != nil {
			return err
		}
		states[id].photos = append(states[id].photos, p)
		return nil
	})
	return states, err
}

// A querier runs queries: a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// eachByID runs query for the reviews ids and calls scan with each row.
// {ids} in query stands for the test of a review_id column: "= ANY($1)"
// on PostgreSQL (the ids go as one array), "IN (?, …)" on SQLite, in
// batches of batchParams ids.
func (l *Ledger) eachByID(ctx context.Context, q querier, query string, ids []string, scan func(*sql.Rows) error) error {
	run := func(query string, args ...any) error {
		rows, err := q.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Close()
	}
	if l.d.tag == "postgres" {
		return run(strings.Replace(query, "{ids}", "= ANY($1)", 1), ids)
	}
	args := make([]any, 0, batchParams)
	for start := 0; start < len(ids); start += batchParams {
		part := ids[start:min(start+batchParams, len(ids))]
		args = args[:0]
		for _, id := range part {
			args = append(args, id)
		}
		if err := run(strings.Replace(query, "{ids}", "IN (?"+strings.Repeat(", ?", len(part)-1)+")", 1), args...); err != nil {
			return err
		}
	}
	return nil
}
