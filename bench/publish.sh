#!/usr/bin/env bash
# Benchmark of the publish step into PostgreSQL (issue 7): a day of
# 1,000,000 generated decisions (bench/gendecisions) published by
# `reviewlens-publish` (the step's own binary, as a pod runs it) into a
# fresh database of a throwaway PostgreSQL server (initdb in a temp dir, on
# 127.0.0.1 and a free port, fsync on as a real ledger has it; stopped on
# exit). Prints wall time and peak RSS of each run (from /usr/bin/time -v)
# and their medians, then one republish of the same day into the last
# database (every decision unchanged), then the baseline: the same
# decisions inserted row by row (bench/rowinsert: one INSERT a row, in one
# transaction) into a plain table of the same columns on the same server.
# Target (issue 7): at most 5 s.
#
# Before the timed runs, one untimed publish warms the server up, as a
# server in service is: it then recycles its WAL segment files instead of
# creating and zero-filling new ones. Each timed run starts after a
# CHECKPOINT. WARMUP=0 skips the warm-up (a server just made by initdb).
#
#   bench/publish.sh [runs]              (default 3 runs)
#   DECISIONS=100000 bench/publish.sh    (a smaller day)
#   ROWINSERT=0 bench/publish.sh         (skip the row-by-row baseline)
#   PUBLISH_BIN=/path/to/reviewlens-publish bench/publish.sh
#   WARMUP=0 bench/publish.sh            (no warm-up publish first)
#   PGOPTIONS_SERVER="-c shared_buffers=1GB -c max_wal_size=4GB" bench/publish.sh
#                                        (server settings; default: PostgreSQL's own)
#   PG_LOG=/tmp/pg.log bench/publish.sh  (keep the server's log)
#
# As root, PostgreSQL runs as the postgres user (or a user made for it), as
# in scripts/test-services.sh. The server runs on the same cores as the step.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
n=${DECISIONS:-1000000}
rowinsert=${ROWINSERT:-1}
day=2026-11-28
work=${BENCH_DIR:-${TMPDIR:-/tmp}/reviewlens-bench}/publish
mkdir -p "$work"
[ -x /usr/bin/time ] || { echo "bench/publish.sh needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

for d in /usr/lib/postgresql/*/bin; do
  [ -x "$d/initdb" ] && PATH="$d:$PATH"
done
command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v createdb >/dev/null ||
  { echo "bench/publish.sh needs PostgreSQL (initdb, pg_ctl, createdb)" >&2; exit 1; }

decisions="$work/decisions-$n.parquet"
if [ ! -s "$decisions" ]; then
  echo "generating $n decisions of $day into $decisions" >&2
  go run ./bench/gendecisions -n "$n" -day "$day" -seed 1 -out "$decisions"
fi
bin=${PUBLISH_BIN:-$work/reviewlens-publish}
[ -n "${PUBLISH_BIN:-}" ] || go build -o "$bin" ./cmd/reviewlens-publish
go build -o "$work/rowinsert" ./bench/rowinsert
cat "$decisions" > /dev/null # warm the page cache, as a daily job's input would be

pgdir="" pg_data="" pg_user="" step_pid=""
as_pg() {
  if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}
# stop_step: SIGTERM to the step's process group, SIGKILL after 5 s.
stop_step() {
  local pid=$step_pid i
  step_pid=""
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  [ -z "$step_pid" ] || stop_step
  if [ -n "$pg_data" ]; then
    as_pg pg_ctl -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
    [ -z "${PG_LOG:-}" ] || cp "$pgdir/log" "$PG_LOG" || true
  fi
  [ -z "$pgdir" ] || rm -rf "$pgdir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pgdir=$(mktemp -d "${TMPDIR:-/tmp}/reviewlens-bench-pg.XXXXXX")
if [ "$(id -u)" = 0 ]; then
  pg_user=postgres
  if ! id "$pg_user" >/dev/null 2>&1; then
    pg_user=reviewlens-pg
    id "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$pg_user"
  fi
  chmod 755 "$pgdir"
  chown "$pg_user" "$pgdir"
fi
pg_data="$pgdir/data"
as_pg initdb -D "$pg_data" -U postgres --auth=trust > "$pgdir/initdb.log" 2>&1 ||
  { cat "$pgdir/initdb.log" >&2; pg_data=""; exit 1; }
port=$(free_port)
# fsync, synchronous_commit and full_page_writes stay on (the defaults).
as_pg pg_ctl -D "$pg_data" -w -t 60 -l "$pgdir/log" -o "-h 127.0.0.1 -p $port -k $pgdir ${PGOPTIONS_SERVER:-}" start > /dev/null ||
  { cat "$pgdir/log" >&2; exit 1; }
echo "PostgreSQL $(as_pg postgres --version | awk '{print $3}') on 127.0.0.1:$port (fsync $(psql -XAtq -h 127.0.0.1 -p "$port" -U postgres -c 'SHOW fsync' postgres), shared_buffers $(psql -XAtq -h 127.0.0.1 -p "$port" -U postgres -c 'SHOW shared_buffers' postgres), max_wal_size $(psql -XAtq -h 127.0.0.1 -p "$port" -U postgres -c 'SHOW max_wal_size' postgres)), $n decisions" >&2
url() { echo "postgres://postgres@127.0.0.1:$port/$1?sslmode=disable"; }

# run_step DB runs the step once into DB and sets wall (s), rss (MiB) and
# cpu (s). The step runs in its own process group, in the background, so
# that an interrupt reaches the traps at once and cleanup can stop it.
run_step() {
  setsid /usr/bin/time -v "$bin" --decisions "$decisions" --db "$(url "$1")" --log-level warn \
    > "$work/result.json" 2> "$work/time.txt" &
  step_pid=$!
  if ! wait "$step_pid"; then
    step_pid=""
    cat "$work/time.txt" >&2
    exit 1
  fi
  step_pid=""
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2, t, ":"); print (length(t) == 3 ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2])}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$work/time.txt")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' "$work/time.txt")
}
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/result.json" "$1"; }

checkpoint() { psql -XAtq -h 127.0.0.1 -p "$port" -U postgres -c CHECKPOINT postgres; }

# A server that has run for a while recycles its WAL segment files; a new
# one creates and zero-fills each first (16 MiB, fsynced). One untimed
# publish into a database of its own warms the server up, unless WARMUP=0.
if [ "${WARMUP:-1}" != 0 ]; then
  createdb -h 127.0.0.1 -p "$port" -U postgres bench_warmup
  run_step bench_warmup
  printf 'warm-up run (not counted): wall %.2f s\n' "$wall"
fi

walls=() rsss=()
for i in $(seq "$runs"); do
  createdb -h 127.0.0.1 -p "$port" -U postgres "bench_$i"
  checkpoint # each run starts with nothing left to write of the one before
  run_step "bench_$i"
  printf 'run %d: wall %.2f s, peak RSS %s MiB, CPU %s s (inserted %s, queued %s)\n' "$i" "$wall" "$rss" "$cpu" \
    "$(field inserted)" "$(field queued)"
  [ "$(field inserted)" = "$n" ] || { echo "run $i: inserted $(field inserted) of $n" >&2; cat "$work/result.json" >&2; exit 1; }
  walls+=("$wall") rsss+=("$rss")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
med=$(median "${walls[@]}")
printf 'median of %d runs, %d decisions: wall %s s, peak RSS %s MiB (target: at most 5 s)\n' "$runs" "$n" "$med" "$(median "${rsss[@]}")"

checkpoint
run_step "bench_$runs"
printf 'republish into bench_%d: wall %.2f s, peak RSS %s MiB, CPU %s s (unchanged %s, inserted %s, conflicts %s)\n' \
  "$runs" "$wall" "$rss" "$cpu" "$(field unchanged)" "$(field inserted)" "$(field conflicts)"
[ "$(field unchanged)" = "$n" ] || { echo "republish: $(field unchanged) of $n unchanged" >&2; cat "$work/result.json" >&2; exit 1; }

if [ "$rowinsert" != 0 ]; then
  echo "row-by-row baseline, $n INSERTs ..." >&2
  createdb -h 127.0.0.1 -p "$port" -U postgres bench_rowinsert
  checkpoint
  setsid "$work/rowinsert" -decisions "$decisions" -db "$(url bench_rowinsert)" > "$work/rowinsert.txt" &
  step_pid=$!
  wait "$step_pid" || { step_pid=""; exit 1; }
  step_pid=""
  cat "$work/rowinsert.txt"
  rsecs=$(sed -n 's/.* rows in \([0-9.]*\) s .*/\1/p' "$work/rowinsert.txt")
  printf 'row by row: %s s against the publish median %s s (%.1fx)\n' "$rsecs" "$med" \
    "$(awk -v r="$rsecs" -v m="$med" 'BEGIN {print (m > 0 ? r / m : 0)}')"
fi
