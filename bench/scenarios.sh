#!/usr/bin/env bash
# End-to-end scenario benchmarks: runs bundled scenarios through sim-runner and prints, from each
# run's summary.json, wall time, steps and events per second, and peak memory. Everything runs in
# one sim-runner process (containers as threads; distributed.yaml: three container processes).
#
#   bench/scenarios.sh [BUILD_DIR]      (default: build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
runner="$build/tools/sim-runner/sim-runner"
[ -x "$runner" ] || { echo "no sim-runner in $build: build first (scripts/run)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

field() { sed -n "s/^  \"$2\": \\(.*\\),\\{0,1\\}$/\\1/p" "$1" | tr -d ','; }

printf '%-14s %8s %8s %10s %12s %12s %14s %10s\n' scenario agents steps wall_s steps/s msgs/s events/s peak_MiB
for s in gossip-100k smart-grid distributed; do
  "$runner" run "$root/scenarios/$s.yaml" --out "$out/$s" --quiet
  j="$out/$s/summary.json"
  printf '%-14s %8s %8s %10s %12s %12s %14s %10.1f\n' "$s" "$(field "$j" agents)" "$(field "$j" steps)" \
    "$(field "$j" wall_seconds)" "$(field "$j" steps_per_second)" "$(field "$j" messages_per_second)" \
    "$(field "$j" events_per_second)" "$(awk -v b="$(field "$j" peak_rss_bytes)" 'BEGIN { print b / 1048576 }')"
done
