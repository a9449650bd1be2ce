#!/usr/bin/env bash
# Benchmark of the manifest step: a generated 1,000,000-line single-label
# Ground Truth manifest (about 330 MB) converted by `reviewlens-manifest` (the step's own binary, as a pod runs it) to
# labels.parquet, train/validation augmented manifests and the rest.
# Prints wall time and peak RSS of each run (from /usr/bin/time -v) and
# their medians. Target (issue 2): at most 0.5 s and 64 MiB on 2 cores.
#
#   bench/manifest.sh [runs]          (default 5 runs)
#   LINES=100000 bench/manifest.sh    (a smaller manifest)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
lines=${LINES:-1000000}
work=${BENCH_DIR:-${TMPDIR:-/tmp}/reviewlens-bench}
mkdir -p "$work"
manifest="$work/manifest-$lines.jsonl"
if [ ! -s "$manifest" ]; then
  echo "generating $lines lines into $manifest" >&2
  go run ./bench/genmanifest -lines "$lines" -out "$manifest"
fi
go build -o "$work/reviewlens-manifest" ./cmd/reviewlens-manifest
[ -x /usr/bin/time ] || { echo "bench/manifest.sh needs /usr/bin/time (Debian package: time)" >&2; exit 1; }
cat "$manifest" > /dev/null # warm the page cache, as a daily job's input would be

walls=() rsss=()
for i in $(seq "$runs"); do
  out="$work/out"
  rm -rf "$out"
  /usr/bin/time -v "$work/reviewlens-manifest" --in "$manifest" --out "$out" --log-level warn \
    > "$work/result.json" 2> "$work/time.txt" || { cat "$work/time.txt" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2, t, ":"); print (length(t) == 3 ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2])}' "$work/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$work/time.txt")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' "$work/time.txt")
  printf 'run %d: wall %.2f s, peak RSS %s MiB, CPU %s s\n' "$i" "$wall" "$rss" "$cpu"
  walls+=("$wall") rsss+=("$rss")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
printf 'median of %d runs, %d lines (%s MB): wall %s s, peak RSS %s MiB\n' "$runs" "$lines" \
  "$(( $(stat -c %s "$manifest") / 1000000 ))" "$(median "${walls[@]}")" "$(median "${rsss[@]}")"
ls -l "$out"
