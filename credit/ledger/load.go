package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// pgLoad fills a PostgreSQL table with a binary COPY on the connection
// that runs the transaction, through pgx.Conn.CopyFrom: pgx encodes each
// row's values as the column types it reads from the server ask (TEXT
// from a string or the bytes of a list, BIGINT from an int64).
//
// It replaced a COPY stream encoded by hand (issue 12 item 6), which did
// not pay for its hundred lines. Measured 2026-12-04 with bench/publish.sh
// (1,000,000 generated decisions into PostgreSQL 15, fsync on, on 2 cores
// loaded by other work; one timed run a fresh server each, the two
// alternating). "test binary" is one build for both, the ledger test
// binary at commit bd7c117 (go test -c ./credit/ledger) as PUBLISH_BIN,
// REVIEWLENS_PUBLISH_CHILD_COPY=hand or pgx choosing; "reviewlens-publish"
// is the step's binary built at bd7c117 (by hand) and after it (pgx),
// later and under more load:
//
//	BENCH_DIR=/tmp/b ROWINSERT=0 PUBLISH_BIN=<binary> bash bench/publish.sh 1
//
//	medians                              runs   wall     peak RSS   CPU
//	test binary, by hand, new day          16   3.84 s   265 MiB    1.79 s
//	test binary, pgx, new day              16   3.11 s   269 MiB    2.25 s
//	test binary, by hand, republish        16   4.68 s   267 MiB    1.77 s
//	test binary, pgx, republish            16   4.59 s   279 MiB    2.20 s
//	reviewlens-publish, by hand, new day    8   4.97 s   268 MiB    1.61 s
//	reviewlens-publish, pgx, new day        8   5.37 s   267 MiB    2.01 s
//
// pgx costs about 0.4 s more CPU a million rows (7 allocations a row,
// against none); in wall time and memory neither won by more than the
// runs' noise, let alone the 15% that would have kept the hand-written
// stream. BenchmarkPublishCopy at bd7c117 (2^18 decisions, fsync off, 5 ×
// 3 runs, not alternated) did not favour it either: 1.14 s a publish by
// hand, 0.91 s pgx.
func pgLoad(ctx context.Context, conn *sql.Conn, _ *sql.Tx, table string, columns []string, n int, row func(int, rowEncoder)) error {
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
// copied: pgx encodes them before it asks for the row after.
type valuesEncoder struct{ values []any }

func (v *valuesEncoder) text(s string)  { v.values = append(v.values, s) }
func (v *valuesEncoder) bytes(b []byte) { v.values = append(v.values, b) }
func (v *valuesEncoder) int(i int64)    { v.values = append(v.values, i) }
func (v *valuesEncoder) null()          { v.values = append(v.values, nil) }

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
