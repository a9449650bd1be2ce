package ledger

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	sqlitedriver "modernc.org/sqlite"
)

// A rowEncoder takes the values of one row, in column order.
type rowEncoder interface {
	text(s string)
	bytes(b []byte) // text
	int(v int64)    // BIGINT
	null()
}

// pgCopyImpl selects how pgLoad encodes its COPY: "hand" (copyReader) or
// "pgx" (pgx.Conn.CopyFrom). Only the A/B runs of issue 12 item 6 set it
// (SetCopy, for the test binary that doubles as the publish binary).
var pgCopyImpl = "hand"

// pgLoad fills a PostgreSQL table with a binary COPY on the connection
// that runs the transaction.
func pgLoad(ctx context.Context, conn *sql.Conn, tx *sql.Tx, table string, columns []string, n int, row func(int, rowEncoder)) error {
	if pgCopyImpl == "pgx" {
		return pgCopyFrom(ctx, conn, tx, table, columns, n, row)
	}
	return pgCopyHand(ctx, conn, tx, table, columns, n, row)
}

// pgCopyFrom is pgLoad through pgx.Conn.CopyFrom: pgx encodes each row's
// values, as the column types it reads from the server ask.
func pgCopyFrom(ctx context.Context, conn *sql.Conn, _ *sql.Tx, table string, columns []string, n int, row func(int, rowEncoder)) error {
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: driver connection is %T, want *stdlib.Conn", table, driverConn)
		}
		v := &valuesEncoder{values: make([]any, 0, len(columns))}
		i := 0
		copied, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			// pgx encodes a row before it asks for the next: the slice
			// can be used again.
			v.values = v.values[:0]
			row(i, v)
			i++
			return v.values, nil
		}))
		if err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		if copied != int64(n) {
			return fmt.Errorf("copy into %s: copied %d rows of %d", table, copied, n)
		}
		return nil
	})
}

// valuesEncoder collects a row's values for pgx. A list's bytes are not
// copied: they are encoded before the row after is asked for.
type valuesEncoder struct{ values []any }

func (v *valuesEncoder) text(s string)  { v.values = append(v.values, s) }
func (v *valuesEncoder) bytes(b []byte) { v.values = append(v.values, b) }
func (v *valuesEncoder) int(i int64)    { v.values = append(v.values, i) }
func (v *valuesEncoder) null()          { v.values = append(v.values, nil) }

// pgCopyHand is pgLoad with the rows encoded as PostgreSQL reads them,
// straight into the stream: TEXT as its UTF-8 bytes, BIGINT as 8 bytes
// big-endian.
func pgCopyHand(ctx context.Context, conn *sql.Conn, _ *sql.Tx, table string, columns []string, n int, row func(int, rowEncoder)) error {
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: driver connection is %T, want *stdlib.Conn", table, driverConn)
		}
		quoted := make([]string, len(columns))
		for i, col := range columns {
			quoted[i] = pgx.Identifier{col}.Sanitize()
		}
		r := newCopyReader(len(columns), n, row)
		tag, err := c.Conn().PgConn().CopyFrom(ctx, r, "COPY "+pgx.Identifier{table}.Sanitize()+
			" ("+strings.Join(quoted, ", ")+") FROM STDIN (FORMAT binary)")
		if r.err != nil {
			err = r.err
		}
		if err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		if tag.RowsAffected() != int64(n) {
			return fmt.Errorf("copy into %s: copied %d rows of %d", table, tag.RowsAffected(), n)
		}
		return nil
	})
}

// copyReader is the stream of a binary COPY of n rows, encoded as it is
// read.
type copyReader struct {
	buf     []byte
	off     int // buf[:off] has been read
	cols    int
	fields  int // the fields of the row being encoded
	n, next int
	row     func(int, rowEncoder)
	ended   bool
	err     error
}

// copySignature begins a binary COPY stream.
const copySignature = "PGCOPY\n\xff\r\n\x00"

func newCopyReader(cols, n int, row func(int, rowEncoder)) *copyReader {
	r := &copyReader{buf: make([]byte, 0, 256<<10), cols: cols, n: n, row: row}
	r.buf = append(r.buf, copySignature...)
	r.buf = binary.BigEndian.AppendUint32(r.buf, 0) // flags
	r.buf = binary.BigEndian.AppendUint32(r.buf, 0) // no header extension
	return r
}

func (r *copyReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		if r.ended || r.err != nil {
			return 0, io.EOF
		}
		r.buf, r.off = r.buf[:0], 0
		for len(r.buf) < 224<<10 && r.next < r.n {
			r.buf = binary.BigEndian.AppendUint16(r.buf, uint16(r.cols))
			r.fields = 0
			r.row(r.next, r)
			if r.fields != r.cols {
				r.err = fmt.Errorf("row %d has %d values, want %d", r.next+1, r.fields, r.cols)
				return 0, r.err
			}
			r.next++
		}
		if r.next == r.n {
			r.buf = binary.BigEndian.AppendUint16(r.buf, 0xffff) // the end
			r.ended = true
		}
	}
	k := copy(p, r.buf[r.off:])
	r.off += k
	return k, nil
}

func (r *copyReader) text(s string) {
	r.fields++
	r.buf = binary.BigEndian.AppendUint32(r.buf, uint32(len(s)))
	r.buf = append(r.buf, s...)
}

func (r *copyReader) bytes(b []byte) {
	r.fields++
	r.buf = binary.BigEndian.AppendUint32(r.buf, uint32(len(b)))
	r.buf = append(r.buf, b...)
}

func (r *copyReader) int(v int64) {
	r.fields++
	r.buf = binary.BigEndian.AppendUint32(r.buf, 8)
	r.buf = binary.BigEndian.AppendUint64(r.buf, uint64(v))
}

func (r *copyReader) null() {
	r.fields++
	r.buf = binary.BigEndian.AppendUint32(r.buf, 0xffffffff) // -1: NULL
}

func pgUniqueViolation(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName, true
	}
	return "", false
}

// insertRows is how many rows one INSERT of sqliteLoad writes: SQLite
// allows 32766 parameters a statement.
const insertRows = 500

// argsEncoder collects a row's values as statement arguments.
type argsEncoder struct{ args []any }

func (a *argsEncoder) text(s string)  { a.args = append(a.args, s) }
func (a *argsEncoder) bytes(b []byte) { a.args = append(a.args, string(b)) }
func (a *argsEncoder) int(v int64)    { a.args = append(a.args, v) }
func (a *argsEncoder) null()          { a.args = append(a.args, nil) }

// sqliteLoad fills a table with multi-row INSERTs, the statement of a full
// batch prepared once.
func sqliteLoad(ctx context.Context, _ *sql.Conn, tx *sql.Tx, table string, columns []string, n int, row func(int, rowEncoder)) error {
	insert := func(rows int) string {
		one := "(" + strings.Repeat("?, ", len(columns)-1) + "?)"
		return "INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES " +
			strings.Repeat(one+", ", rows-1) + one
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	a := &argsEncoder{args: make([]any, 0, insertRows*len(columns))}
	for start := 0; start < n; start += insertRows {
		end := min(start+insertRows, n)
		a.args = a.args[:0]
		for i := start; i < end; i++ {
			row(i, a)
		}
		if len(a.args) != (end-start)*len(columns) {
			return fmt.Errorf("insert into %s: rows %d to %d have %d values, want %d", table, start+1, end, len(a.args), (end-start)*len(columns))
		}
		var err error
		if end-start == insertRows {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insert(insertRows)); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(ctx, a.args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(end-start), a.args...)
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

// sqliteIndexes names SQLite's unique indexes as PostgreSQL does, by the
// columns its error message gives.
var sqliteIndexes = map[string]string{
	"decisions.review_id":      "decisions_pkey",
	"ledger_staging.review_id": "ledger_staging_pkey",
	"ledger_merge.review_id":   "ledger_merge_pkey",
}

func sqliteUniqueViolation(err error) (string, bool) {
	var se *sqlitedriver.Error
	if !errors.As(err, &se) {
		return "", false
	}
	const (
		constraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
		constraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE
	)
	if se.Code() != constraintPrimaryKey && se.Code() != constraintUnique {
		return "", false
	}
	// "constraint failed: UNIQUE constraint failed: t.a, t.b (2067)"
	msg := se.Error()
	const prefix = "constraint failed: "
	i := strings.LastIndex(msg, prefix)
	if i < 0 {
		return "", true
	}
	cols, _, _ := strings.Cut(msg[i+len(prefix):], " (")
	return sqliteIndexes[cols], true
}
