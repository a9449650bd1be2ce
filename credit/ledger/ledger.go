// Package ledger stores the credit decisions of each day and the credits
// they grant, once: a review is decided once and granted at most once,
// ever, however often a day is published and whoever grants it, the
// policy or a person. It is the system of record that package credit's
// decisions tables feed, and it closes the loop: what inspectors decide,
// the live accuracy of the automatic decisions, and new labels.
//
// A ledger lives in a SQL database named by a DSN: SQLite
// ("sqlite:reviewlens.db", "sqlite::memory:") or PostgreSQL
// ("postgres://user:password@host/db", "postgresql://…", through pgx). The
// SQL is kept portable and what differs between the two is held in one
// place, the dialect. [Open] creates a ledger where there is none (only the
// publish step does); [OpenExisting] fails with [ErrNoLedger] instead, so
// that a typo in a DSN is not an empty ledger. [OpenStep] opens with either
// for a step, its errors as fault kinds. The steps default to
// [DefaultDSN].
//
// # Steps
//
// Each step of the workflow that deals with the ledger is a function here,
// options in and its result JSON out; the commands only turn flags into
// options: [PublishFile] (publish), [ExportQueue] (queue), [ResolveFile]
// (resolve), [Monitor] (monitor) and [ExportLabels] (labels).
//
// # Tables
//
// Open creates and migrates the schema (versioned migrations, embedded,
// recorded in schema_migrations):
//
//   - decisions: every decision applied, one per review: review_id is the
//     primary key, so the database itself refuses a second decision, and
//     so a second automatic grant, of a review. Its lists (classes,
//     confidences, reasons) are JSON arrays. auto_decision is set on an
//     audit (a manual decision the policy would have taken alone: grant
//     or reject); grant_credit is what a grant of the review pays, whoever
//     grants it.
//   - publications: what the decisions of one publish share: day, policy
//     version, model, transform job, time, and how many it stored.
//   - conflicts: published decisions that were not applied, for a person:
//     the day's decision changed, or the review was decided on another day.
//   - inspections: the items of the inspection queue a person closed, one
//     per review (its primary key): the outcome (grant or reject), the
//     credit a grant pays, the inspector, when they decided (decided_at)
//     and when the ledger recorded it (closed_at), and the answers file. A
//     trigger refuses an inspection of a review that is not a manual
//     decision, and another a change of a decision a person closed.
//   - inspection_photos: the class a person gave each photo of a review
//     closed, with the photo's URI.
//   - answer_conflicts: answers that were not applied, each once: the
//     review was unknown, decided automatically, or closed otherwise.
//   - grants (a view): the credits granted, one row a review: the
//     automatic grants (granted_by policy) and the inspectors' grants of
//     manual decisions (granted_by inspector, with the inspector). A
//     review has one decision and at most one inspection, and only a
//     manual decision can be inspected, so no review is in it twice.
//     granted_at is when the ledger recorded the grant: a payout job that
//     reads the grants since its last run misses none.
//   - inspection_queue (a view): the manual decisions no inspection has
//     closed. An audit is shown blind (no classes, confidences or reasons
//     of the model; audit is true), so that the person's answer measures
//     the model instead of agreeing with it.
//
// # Publishing
//
// [Ledger.Publish] and [Ledger.PublishSeq] apply a day's decisions in one
// transaction: all of it or, when it fails or the process dies, none of
// it. Publishing a day again changes nothing. A day new to the ledger is
// bulk loaded straight into decisions (COPY on PostgreSQL); a day
// published before is staged and merged. [PublishFile] is the publish
// step: a decisions.parquet of package credit into the ledger.
//
// # The queue
//
// [Ledger.Queue] is the open inspection queue, oldest first. [ExportQueue]
// writes it as a file: Parquet (the [QueueTable], inspection_queue.parquet,
// which [ReadQueue] reads), CSV with a header (a list's items joined by
// "|", the reasons by " | "), or JSON Lines (one object a review, with the
// columns of the table as keys). A photo without a prediction has an empty
// or null class and confidence.
//
// # Answers
//
// [Ledger.Resolve] records what people decided on the queue, in one
// transaction; [ReadAnswers] reads an answers file and [ResolveFile] is the
// resolve step. An answers file is CSV or Parquet (told by its bytes), with
// the columns review_id, outcome (grant or reject), inspector and
// decided_at (RFC 3339; without a zone, UTC), and optionally, all three
// together, image_index, image_uri (s3://…, JPEG or PNG) and class_name:
// then a review has one row per photo it classifies, every row giving the
// same outcome, inspector and decided_at, or one row with the three empty.
// Other columns are ignored. A bad row is an [*AnswerError] naming its row
// and column; a review with a bad row is refused whole.
//
// # Monitoring and labels
//
// [Monitor] measures the live accuracy of the automatic decisions from the
// closed audits (credit.LiveAccuracy), the automation rate of each day
// ([Ledger.DayCounts]) and the open queue ([Ledger.QueueStats]).
// [ExportLabels] writes the photos people classified: the queue's as a
// Ground Truth output manifest for training ([WriteOutputManifest]), the
// audits' as a calibration set flagged as a random sample
// ([WriteCalibrationLabels], credit.SampleMarker).
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	sqlitedriver "modernc.org/sqlite"  // the "sqlite" database/sql driver
)

// A Ledger is an open credit ledger. It is safe for concurrent use, also
// with other Ledgers (and processes) on the same database.
type Ledger struct {
	db *sql.DB
	d  dialect
	// Now tells the time recorded in the ledger (published_at, granted_at,
	// queued_at…); nil means time.Now. Set it before use.
	Now func() time.Time

	// beforeCommit, when set, runs just before Publish commits; an error
	// fails the publish. Tests use it to fail a publish at its last step.
	beforeCommit func() error
}

// A dialect holds what differs between the databases a ledger can live in.
type dialect struct {
	name   string // the database/sql driver name
	tag    string // the name in migration file names
	rebind func(query string) string
	// writeLock is run first in every write transaction to serialize
	// writers; "" when BeginTx already takes the write lock (SQLite with
	// _txlock=immediate runs BEGIN IMMEDIATE).
	writeLock string
	// load bulk loads n rows into table: COPY on PostgreSQL, batched
	// INSERTs on SQLite. row(i, e) gives row i's values to e.
	load func(ctx context.Context, conn *sql.Conn, tx *sql.Tx, table string, columns []string, n int, row func(i int, e rowEncoder)) error
	// uniqueViolation tells whether err is a row refused by a unique
	// index or primary key, and names the index as PostgreSQL does
	// ("decisions_pkey", "ledger_staging_pkey").
	uniqueViolation func(err error) (index string, ok bool)
}

var sqlite = dialect{
	name:            "sqlite",
	tag:             "sqlite",
	rebind:          func(q string) string { return q }, // SQLite takes ? as is
	load:            sqliteLoad,
	uniqueViolation: sqliteUniqueViolation,
}

// writeLockKey is the key of the PostgreSQL transaction-level advisory
// lock that every writer of a ledger (migrate, publish) takes first:
// "revledgr" in ASCII. It is database-wide, so ledgers in different
// schemas of one database serialize too, which is harmless.
const writeLockKey = 0x7265766c65646772

var postgres = dialect{
	name:            "pgx",
	tag:             "postgres",
	rebind:          dollarPlaceholders,
	writeLock:       fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", writeLockKey),
	load:            pgLoad,
	uniqueViolation: pgUniqueViolation,
}

// dollarPlaceholders rewrites the ? placeholders of query as $1, $2, …,
// leaving ? inside quoted strings and identifiers alone.
func dollarPlaceholders(query string) string {
	var (
		b     strings.Builder
		n     int
		quote byte // the quote we are inside, or 0
	)
	b.Grow(len(query) + 16)
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// sqlitePragmas are the connection settings of a SQLite ledger: wait for
// other writers instead of failing, write-ahead logging so readers do not
// block the writer, foreign keys on, and every transaction takes the write
// lock when it begins (BEGIN IMMEDIATE), so two writers never deadlock
// upgrading a read lock.
const sqlitePragmas = "_busy_timeout=300000&_journal_mode=WAL&_foreign_keys=1&_txlock=immediate"

// Errors to branch on.
var (
	// ErrDSN: the DSN names no database this package knows (its message
	// lists the ones it does).
	ErrDSN = errors.New("not a ledger DSN: want sqlite:PATH or postgres://user:password@host/db (postgresql:// too)")
	// ErrNoLedger: OpenExisting found no ledger where the DSN points.
	ErrNoLedger = errors.New("no ledger")
)

// DefaultConnectTimeout bounds connecting to PostgreSQL (the TCP dial and
// the server's first answers), when the DSN sets no connect_timeout: a
// server that accepts the connection and never answers fails the open
// after this long instead of hanging.
const DefaultConnectTimeout = 15 * time.Second

// Open opens the ledger at dsn and brings its schema up to date, creating
// it when the database holds none (and, for SQLite, the file when there is
// none). Only a step that writes a new day's decisions should create a
// ledger; one that reads uses OpenExisting, so that a typo in a DSN is not
// a new, empty ledger.
//
// A dsn is "sqlite:PATH" (sqlite::memory: for a ledger in memory), or a
// postgres:// or postgresql:// URL, passed to pgx (so its query may hold
// pgx and server settings, such as sslmode or search_path); without a
// connect_timeout it gets DefaultConnectTimeout. Anything else is an
// error wrapping ErrDSN.
func Open(ctx context.Context, dsn string) (*Ledger, error) {
	return openTo(ctx, dsn, 0, false)
}

// OpenExisting opens the ledger at dsn like Open, but fails with an error
// wrapping ErrNoLedger when there is none: a SQLite path that does not
// exist or is not a ledger (an empty file, another database), a
// PostgreSQL database without the ledger's tables. It still brings an
// existing ledger's schema up to date.
func OpenExisting(ctx context.Context, dsn string) (*Ledger, error) {
	return openTo(ctx, dsn, 0, true)
}

// openTo is Open, migrating up to version last (0: all).
func openTo(ctx context.Context, dsn string, last int, existing bool) (*Ledger, error) {
	var (
		d      dialect
		source string
		memory bool
	)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("open ledger %q: no database path after sqlite: (%w)", dsn, ErrDSN)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		d, source = sqlite, path+sep+sqlitePragmas
		memory = strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory")
		if existing && !memory {
			file, _, _ := strings.Cut(strings.TrimPrefix(path, "file:"), "?")
			fi, err := os.Stat(file)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("%w at %s: no such file (only publish creates a ledger)", ErrNoLedger, file)
			case err != nil:
				return nil, fmt.Errorf("open ledger %s: %w", dsn, err)
			case fi.IsDir():
				return nil, fmt.Errorf("%w at %s: is a directory", ErrNoLedger, file)
			case fi.Size() == 0:
				return nil, fmt.Errorf("%w at %s: an empty file (only publish creates a ledger)", ErrNoLedger, file)
			}
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		d, source = postgres, withConnectTimeout(dsn)
	default:
		scheme, _, ok := strings.Cut(dsn, ":")
		if !ok {
			scheme = dsn
		}
		return nil, fmt.Errorf("open ledger %s: %q: %w", Redact(dsn), scheme, ErrDSN)
	}
	db, err := sql.Open(d.name, source)
	if err != nil {
		return nil, fmt.Errorf("open ledger %s: %w", Redact(dsn), err)
	}
	if memory {
		// Every connection to :memory: is a database of its own.
		db.SetMaxOpenConns(1)
	}
	l := &Ledger{db: db, d: d}
	if existing && !memory {
		ok, err := l.hasSchema(ctx)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("open ledger %s: %w", Redact(dsn), err)
		}
		if !ok {
			db.Close()
			return nil, fmt.Errorf("%w in %s: the database has no ledger tables (only publish creates a ledger)", ErrNoLedger, Redact(dsn))
		}
	}
	if err := l.migrateRetry(ctx, last); err != nil {
		db.Close()
		return nil, fmt.Errorf("open ledger %s: %w", Redact(dsn), err)
	}
	return l, nil
}

// hasSchema reports whether the database holds a ledger: its
// schema_migrations table. A file that is not SQLite is an error.
func (l *Ledger) hasSchema(ctx context.Context) (bool, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if l.d.tag == "postgres" {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = ANY (current_schemas(false))`
	}
	var n int
	if err := l.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		if l.d.tag == "sqlite" {
			return false, fmt.Errorf("%w: not a SQLite database (%v)", ErrNoLedger, err)
		}
		return false, err
	}
	return n > 0, nil
}

// withConnectTimeout adds connect_timeout to a PostgreSQL URL that has
// none.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgx will say what is wrong with it
	}
	q := u.Query()
	if q.Has("connect_timeout") {
		return dsn
	}
	q.Set("connect_timeout", strconv.Itoa(int(DefaultConnectTimeout/time.Second)))
	u.RawQuery = q.Encode()
	return u.String()
}

// migrateRetry is migrate, tried again while a new SQLite database is
// busy: turning a new database to write-ahead logging takes a lock that
// SQLite does not wait for, so processes opening a new ledger at once may
// find it taken.
func (l *Ledger) migrateRetry(ctx context.Context, last int) error {
	const patience = 30 * time.Second
	start := time.Now()
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := l.migrateTo(ctx, last)
		var se *sqlitedriver.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Since(start) > patience {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a lock not had.
const sqliteBusy = 5

// Close closes the ledger.
func (l *Ledger) Close() error { return l.db.Close() }

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// timeFormat is how the ledger writes times: UTC, fixed width, so that
// text order is time order.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// beginWrite begins a transaction that holds the database's write lock, on
// a connection of its own (for bulk loads that need the driver's
// connection). Close the connection once the transaction is over.
func (l *Ledger) beginWrite(ctx context.Context) (*sql.Conn, *sql.Tx, error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	if l.d.writeLock != "" {
		if _, err := tx.ExecContext(ctx, l.d.writeLock); err != nil {
			tx.Rollback()
			conn.Close()
			return nil, nil, fmt.Errorf("take write lock: %w", err)
		}
	}
	return conn, tx, nil
}

var keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// Redact returns dsn with any password replaced by "xxxxx", for logs and
// results: postgres://user:secret@host/db becomes
// postgres://user:xxxxx@host/db. A password in the query
// (?password=secret) or in a keyword DSN (password=secret) is hidden too.
// SQLite DSNs are returned unchanged.
func Redact(dsn string) string {
	if strings.HasPrefix(dsn, "sqlite:") {
		return dsn
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		u, err := url.Parse(dsn)
		if err != nil {
			// Hide everything between the scheme and the host.
			if at := strings.LastIndex(dsn, "@"); at > i {
				return dsn[:i+3] + "xxxxx" + dsn[at:]
			}
			return dsn
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return keywordPassword.ReplaceAllString(dsn, "${1}xxxxx")
}
