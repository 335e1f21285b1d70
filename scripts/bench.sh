#!/usr/bin/env bash
# Whole-run figures, measured in one run on this machine and reported as ratios
# where the machine's noise would make absolute numbers meaningless:
#   - requests spent per ad against the minimum (ceil(rows/50) per shard);
#   - wall time and peak memory of a five-dataset demo harvest;
#   - the Go benchmarks: Parquet rows/s, crawl requests/s, and a group-by over
#     one million ads through the deduplicating view.
# Usage: bash scripts/bench.sh   (takes about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/adharvest" .
echo "== demo harvest (ads, ad-details, ad-reports, commercial-content, advertisers; EEA, January 2024)"
/usr/bin/time -f "%e s wall, %M KiB peak RSS" "$tmp/adharvest" demo --out "$tmp/demo" --progress none 2>&1 \
  | grep -E 'requests|s wall' || true

echo "== sql: group-by over the demo's ads, end to end (process start, views, query)"
/usr/bin/time -f "%e s wall, %M KiB peak RSS" "$tmp/adharvest" sql --out "$tmp/demo" --format csv \
  "SELECT country_code, date_trunc('week', first_shown_date) AS week, count(*) FROM ads GROUP BY ALL" 2>&1 >/dev/null | tail -1

echo "== Go benchmarks"
go test -run '^$' -bench . -benchtime 3x ./sink ./crawl ./queries | grep -E '^Benchmark'
