#!/usr/bin/env bash
# Benchmark of the demo (issue 14): `reviewlens demo` at its default size
# (4,000 labelled photos, a 2x2 grid of 15-epoch training jobs on the local
# backend, a day of 2,000 reviews), each run in a fresh folder. Prints, for
# each run and as medians: wall time and peak RSS (from /usr/bin/time -v),
# the model's accuracy on the day's held-out photos, the share of reviews
# decided automatically and the share of those right against the truth the
# generator kept aside; then the wall time of a second run on the last
# folder, which reuses everything. Targets: at most 120 s, at least 95%
# held-out accuracy, at least 98% of automatic decisions right while
# deciding at least 75% of reviews.
#
# Then the training and inference benchmarks of the local backend's
# network on both cores (go test -bench, internal/convnet): photos per
# second of an epoch, and photos classified per second.
#
#   bench/demo.sh [runs]              (default 3 runs)
#   SEED=7 bench/demo.sh              (other photos)
#   GOBENCH=0 bench/demo.sh           (skip the go test benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
seed=${SEED:-1}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/reviewlens-bench}/demo
mkdir -p "$work"
[ -x /usr/bin/time ] || { echo "bench/demo.sh needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
command -v jq > /dev/null || { echo "bench/demo.sh needs jq" >&2; exit 1; }
go build -o "$work/reviewlens" ./cmd/reviewlens

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

walls=() rsss=() accs=() autos=() rights=()
printf '%-4s %9s %9s %9s %9s %9s\n' run wall_s rss_MiB heldout automated right
for i in $(seq "$runs"); do
  dir="$work/run"
  rm -rf "$dir"
  /usr/bin/time -v "$work/reviewlens" demo --dir "$dir" --seed "$seed" --log-level warn \
    > "$work/result.json" 2> "$work/time.txt" || { tail -20 "$work/time.txt" >&2; exit 1; }
  wall=$(jq .elapsed_seconds "$work/result.json")
  rss=$(awk '/Maximum resident set size/ { printf "%.1f", $NF / 1024 }' "$work/time.txt")
  acc=$(jq .held_out_accuracy "$work/result.json")
  auto=$(jq .automation_rate "$work/result.json")
  right=$(jq .automatic_accuracy "$work/result.json")
  walls+=("$wall") rsss+=("$rss") accs+=("$acc") autos+=("$auto") rights+=("$right")
  printf '%-4s %9.1f %9s %9.4f %9.4f %9.4f\n' "$i" "$wall" "$rss" "$acc" "$auto" "$right"
done
printf '%-4s %9.1f %9s %9.4f %9.4f %9.4f\n' median \
  "$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${rsss[@]}" | median)" \
  "$(printf '%s\n' "${accs[@]}" | median)" "$(printf '%s\n' "${autos[@]}" | median)" "$(printf '%s\n' "${rights[@]}" | median)"
jq -r '.steps[] | "  \(.step): \(.seconds | . * 10 | round / 10) s"' "$work/result.json"

/usr/bin/time -f '%e' "$work/reviewlens" demo --dir "$work/run" --seed "$seed" --log-level warn > /dev/null 2> "$work/again.txt"
echo "second run on the same folder (everything reused): $(tail -1 "$work/again.txt") s"

if [ "${GOBENCH:-1}" != 0 ]; then
  go test -run '^$' -bench 'BenchmarkTrain/num_layers=18|BenchmarkPredict' -benchtime 3x ./internal/convnet/
fi
