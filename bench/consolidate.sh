#!/usr/bin/env bash
# Benchmark of the consolidate step: a generated answers table of
# 1,000,000 answers (300,000 photos, 3 or 4 of 20 inspectors each; about
# 110 MB of CSV) consolidated with Dawid–Skene by `reviewlens-consolidate`
# (the step's own binary, as a pod runs it) into output.manifest,
# workers.parquet, disagreements.parquet and the rest.
# Prints wall time and peak RSS of each run (from /usr/bin/time -v) and
# their medians. Target (issue 17): at most 3 s on 2 cores.
#
#   bench/consolidate.sh [runs]              (default 5 runs)
#   PHOTOS=30000 bench/consolidate.sh        (a smaller table)
#   METHOD=majority bench/consolidate.sh     (another method)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
photos=${PHOTOS:-300000}
method=${METHOD:-dawid-skene}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/reviewlens-bench}
mkdir -p "$work"
answers="$work/answers-$photos.csv"
if [ ! -s "$answers" ]; then
  echo "generating answers for $photos photos into $answers" >&2
  go run ./bench/genanswers -photos "$photos" -out "$answers"
fi
printf '{"document-version":"2018-11-28","labels":[{"label":"product"},{"label":"packaging"},{"label":"full-length"},{"label":"half-length"},{"label":"other"}]}\n' > "$work/label-categories.json"
go build -o "$work/reviewlens-consolidate" ./cmd/reviewlens-consolidate
[ -x /usr/bin/time ] || { echo "bench/consolidate.sh needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
cat "$answers" > /dev/null # warm the page cache, as a daily job's input would be

walls=() rsss=()
for i in $(seq "$runs"); do
  out="$work/consolidated"
  rm -rf "$out"
  /usr/bin/time -v "$work/reviewlens-consolidate" --responses "$answers" --classes "$work/label-categories.json" \
    --method "$method" --out "$out" --log-level warn > "$work/result.json" 2> "$work/time.txt" || { cat "$work/time.txt" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2, t, ":"); print (length(t) == 3 ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2])}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$work/time.txt")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' "$work/time.txt")
  printf 'run %d: wall %.2f s, peak RSS %s MiB, CPU %s s\n' "$i" "$wall" "$rss" "$cpu"
  walls+=("$wall") rsss+=("$rss")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
answers_n=$(( $(wc -l < "$answers") - 1 ))
printf 'median of %d runs, %d answers for %d photos (%s MB), %s: wall %s s, peak RSS %s MiB\n' "$runs" "$answers_n" "$photos" \
  "$(( $(stat -c %s "$answers") / 1000000 ))" "$method" "$(median "${walls[@]}")" "$(median "${rsss[@]}")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("iterations", r["iterations"], "converged", r["converged"], "disagreements", r["disagreements"], "mean confidence %.4f" % r["mean_confidence"])' "$work/result.json" 2>/dev/null || true
ls -l "$out"
