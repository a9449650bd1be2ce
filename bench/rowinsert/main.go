// Command rowinsert is the baseline of bench/publish.sh: it reads a
// decisions.parquet (credit.ReadDecisions) and inserts its rows into
// PostgreSQL one at a time, one INSERT statement a row, all in one
// transaction, through pgx. The table has the columns and the primary
// key of the ledger's decisions table (lists as JSON text, as the ledger
// stores them), and nothing else: no publications, no conflict checks, no
// index but the key.
//
//	go run ./bench/rowinsert -decisions decisions.parquet -db postgres://...
//
// It prints the rows inserted and the seconds taken (read excluded, commit
// included). Autocommit, a transaction a row, would be slower still: every
// row would wait for its own WAL flush.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/ledger"
)

const createTable = `CREATE TABLE IF NOT EXISTS decisions_rowbyrow (
	review_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	day         TEXT   NOT NULL,
	review_type TEXT   NOT NULL,
	decision    TEXT   NOT NULL,
	credit      BIGINT NOT NULL,
	publication BIGINT NOT NULL,
	classes     TEXT   NOT NULL,
	confidences TEXT   NOT NULL,
	reasons     TEXT   NOT NULL
)`

const insert = `INSERT INTO decisions_rowbyrow
	(review_id, day, review_type, decision, credit, publication, classes, confidences, reasons)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

func main() {
	path := flag.String("decisions", "decisions.parquet", "decisions table to insert")
	dsn := flag.String("db", "", "PostgreSQL URL (postgres://...)")
	flag.Parse()
	if *dsn == "" {
		log.Fatal("rowinsert: -db is required")
	}
	ctx := context.Background()
	f, err := os.Open(*path)
	if err != nil {
		log.Fatal(err)
	}
	readStart := time.Now()
	rows, err := credit.ReadDecisions(ctx, f, *path)
	f.Close()
	if err != nil {
		log.Fatal(err)
	}
	readSecs := time.Since(readStart).Seconds()

	conn, err := pgx.Connect(ctx, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, createTable); err != nil {
		log.Fatal(err)
	}

	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for i, r := range rows {
		classes, confs, reasons, err := ledger.EncodeLists(r.Decision)
		if err != nil {
			log.Fatalf("row %d: %v", i, err)
		}
		// pgx prepares the statement once (its statement cache) and then
		// sends one Bind/Execute a row, waiting for each answer.
		if _, err := tx.Exec(ctx, insert, r.ReviewID, r.Day, r.ReviewType, r.Decision.Decision, r.Credit,
			int64(1), classes, confs, reasons); err != nil {
			log.Fatalf("row %d: review %q: %v", i, r.ReviewID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		log.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("row-by-row INSERT: %d rows in %.2f s (%.0f rows/s), one INSERT a row in one transaction; read %.2f s not counted; autocommit (a transaction a row) would be slower still\n",
		len(rows), secs, float64(len(rows))/secs, readSecs)
}
