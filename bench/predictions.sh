#!/usr/bin/env bash
# Benchmark of the predictions step: `reviewlens-predictions` (the step's own
# binary, as a pod runs it) reads a day of 20,000 Batch Transform outputs
# (`.out` objects of about 65 bytes) from S3 and writes predictions.parquet.
# S3 is bench/s3latency, an in-memory S3 on 127.0.0.1 that answers every
# request 20 ms late, as S3 answers a GET in tens of milliseconds; it is
# filled by bench/genoutputs (10 photos without an output and 5 with a
# malformed one, hence --allow-incomplete). --out is on local disk.
# Prints wall time and peak RSS of each run (from /usr/bin/time -v) and their
# medians, then one run with --concurrency 1 over the same day: the
# sequential figure. Target (issue 5): at most 10 s and 128 MiB; sequential
# reads take over 400 s (20,000 x 20 ms).
#
#   bench/predictions.sh [runs]          (default 3 runs)
#   SEQUENTIAL=0 bench/predictions.sh    (skip the sequential run, ~7 minutes)
#   PHOTOS=2000 DELAY=50ms bench/predictions.sh
#   CLASSES=1000 bench/predictions.sh    (probabilities in each output; default 5)
#   CONCURRENCY=128 bench/predictions.sh (pass --concurrency; default: the step's own)
#   PREDICTIONS_BIN=/path/to/reviewlens-predictions bench/predictions.sh
#                                        (benchmark that build instead of ./cmd/reviewlens-predictions)
#
# The fake S3 runs on the same cores as the step and takes some of their
# CPU (about 0.15 ms a GET): a little pessimistic for the step.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
photos=${PHOTOS:-20000}
delay=${DELAY:-20ms}
classes=${CLASSES:-5}
sequential=${SEQUENTIAL:-1}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/reviewlens-bench}/predictions
bucket=bench
day=2026-11-28
mkdir -p "$work"
[ -x /usr/bin/time ] || { echo "bench/predictions.sh needs /usr/bin/time (Debian package: time)" >&2; exit 1; }

# Fake credentials for the fake S3; nothing from a profile or instance role.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE

go build -o "$work/s3latency" ./bench/s3latency
go build -o "$work/genoutputs" ./bench/genoutputs
bin=${PREDICTIONS_BIN:-$work/reviewlens-predictions}
if [ -z "${PREDICTIONS_BIN:-}" ]; then
  go build -o "$bin" ./cmd/reviewlens-predictions
fi

s3_pid="" step_pid=""
# stop PID [GROUP]: SIGTERM, SIGKILL after 5 s; GROUP=1 signals the process
# group that PID leads (the step under /usr/bin/time, started with setsid).
stop() {
  local pid=$1 target=$1 i
  [ "${2:-0}" = 1 ] && target=-$1
  kill -TERM -- "$target" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "$target" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$?
  [ -z "$step_pid" ] || stop "$step_pid" 1
  if [ -n "$s3_pid" ]; then
    stop "$s3_pid"
    # Its last line counts the requests it served.
    tail -n 1 "$work/s3latency.log" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$work/s3latency" -addr 127.0.0.1:0 -delay "$delay" > "$work/s3latency.url" 2> "$work/s3latency.log" &
s3_pid=$!
endpoint=""
for _ in $(seq 100); do
  endpoint=$(head -n 1 "$work/s3latency.url")
  [ -n "$endpoint" ] && break
  kill -0 "$s3_pid" 2>/dev/null || { cat "$work/s3latency.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "s3latency did not start in 10 s" >&2; exit 1; }
echo "fake S3 at $endpoint, $delay a request; filling it with $photos photos of $classes classes" >&2
"$work/genoutputs" -endpoint "$endpoint" -bucket "$bucket" -day "$day" -n "$photos" -classes "$classes" -seed 1 \
  2> "$work/genoutputs.log" || { cat "$work/genoutputs.log" >&2; exit 1; }
tail -n 1 "$work/genoutputs.log" >&2

out="$work/out"
# run_step [ARG...] runs the step once with ARGs added and sets wall (s),
# rss (MiB) and cpu (s). The step runs in its own process group, in the
# background, so that an interrupt reaches the traps at once and cleanup
# can stop it (and not only /usr/bin/time).
run_step() {
  rm -rf "$out"
  setsid /usr/bin/time -v "$bin" \
    --staged "s3://$bucket/staged/dt=$day/" \
    --outputs "s3://$bucket/transform/dt=$day/" \
    --classes "s3://$bucket/labels/classes.json" \
    --out "$out" --allow-incomplete \
    --endpoint-url "$endpoint" --region us-east-1 --log-level warn "$@" \
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

concurrency=()
[ -z "${CONCURRENCY:-}" ] || concurrency=(--concurrency "$CONCURRENCY")
walls=() rsss=() cpus=()
for i in $(seq "$runs"); do
  run_step "${concurrency[@]}"
  printf 'run %d: wall %.2f s, peak RSS %s MiB, CPU %s s\n' "$i" "$wall" "$rss" "$cpu"
  walls+=("$wall") rsss+=("$rss") cpus+=("$cpu")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
printf 'median of %d runs, %d photos of %d classes, %s a request, concurrency %s: wall %s s, CPU %s s, peak RSS %s MiB\n' \
  "$runs" "$photos" "$classes" "$delay" "${CONCURRENCY:-default}" "$(median "${walls[@]}")" "$(median "${cpus[@]}")" "$(median "${rsss[@]}")"
ls -l "$out"

if [ "$sequential" != 0 ]; then
  echo "sequential run (--concurrency 1), about $photos x $delay ..." >&2
  run_step --concurrency 1
  printf 'sequential: wall %.2f s, peak RSS %s MiB, CPU %s s (%.0fx the median)\n' "$wall" "$rss" "$cpu" \
    "$(awk -v s="$wall" -v m="$(median "${walls[@]}")" 'BEGIN {print (m > 0 ? s / m : 0)}')"
fi
