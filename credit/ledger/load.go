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

// pgLoad fills a PostgreSQL table with COPY (binary), through pgx's
// CopyFrom on the connection that runs tx.
func pgLoad(ctx context.Context, conn *sql.Conn, _ *sql.Tx, table string, columns []string, n int, row func(int, []any) []any) error {
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: driver connection is %T, want *stdlib.Conn", table, driverConn)
		}
		values := make([]any, 0, len(columns))
		copied, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			values = row(i, values)
			return values, nil
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

// sqliteLoad fills a table with multi-row INSERTs, the statement of a full
// batch prepared once.
func sqliteLoad(ctx context.Context, _ *sql.Conn, tx *sql.Tx, table string, columns []string, n int, row func(int, []any) []any) error {
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
	args := make([]any, 0, insertRows*len(columns))
	for start := 0; start < n; start += insertRows {
		end := min(start+insertRows, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = append(args, row(i, nil)...)
		}
		var err error
		if end-start == insertRows {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, insert(insertRows)); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(end-start), args...)
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
	"decisions.day, decisions.review_id": "decisions_pkey",
	"decisions.review_id":                "decisions_one_grant",
	"ledger_staging.review_id":           "ledger_staging_pkey",
	"ledger_merge.review_id":             "ledger_merge_pkey",
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
