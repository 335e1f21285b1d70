#!/usr/bin/env bash
# adharvest's own cost, measured side by side in one run on this machine and
# reported as ratios, since the machine's noise makes absolute numbers move:
#   - a year of every EEA country's ads at zero latency (--rps 0,
#     --concurrency 8), harvested by adharvest and paged by the minimal client
#     in scripts/bench (one slice per country, decode only: the true minimum of
#     requests and of work), alternately, against the same fake: records/s of
#     each and their ratio, adharvest's peak RSS, Parquet files per 100k rows,
#     and a group-by over the harvest through the sql command;
#   - the Go benchmarks: crawl requests/s, the detail fan-out's utilisation at
#     50 ms latency, Parquet rows/s, a group-by over one million ads.
# Usage: bash scripts/bench.sh [ADS_PER_YEAR ...]   (default: 200000 1000000;
# about ten minutes). BENCHMARKS.md records its figures.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$tmp"' EXIT

go build -o "$tmp/adharvest" .
go build -o "$tmp/bench" ./scripts/bench
export TIKTOK_CLIENT_KEY=demo-client-key TIKTOK_CLIENT_SECRET=demo-client-secret

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
now() { date +%s.%N; }

printf '%-9s %-7s %10s %12s %12s %7s %10s %14s %9s\n' ads/year round "ads rows" "client/s" "adharvest/s" ratio "peak RSS" "files/100k rows" "group-by"
for n in ${@:-200000 1000000}; do
  "$tmp/bench" serve --ads-per-year "$n" >"$tmp/url" &
  srv=$!
  for _ in $(seq 100); do [ -s "$tmp/url" ] && break; sleep 0.1; done
  url=$(head -1 "$tmp/url")
  export ADHARVEST_API_URL=$url
  # The fake builds its ads on first use: warm it, so both sides meet the same server.
  "$tmp/bench" client --api-url "$url" >/dev/null
  for round in 1 2; do
    t0=$(now)
    client=$("$tmp/bench" client --api-url "$url")
    t1=$(now)
    out="$tmp/out-$n"
    rm -rf "$out"
    /usr/bin/time -o "$tmp/time" -f "%e %M" "$tmp/adharvest" harvest --out "$out" --countries EEA \
      --from 2023-01-01 --to 2023-12-31 --rps 0 --concurrency 8 --progress none >/dev/null 2>"$tmp/harvest.err" \
      || { cat "$tmp/harvest.err"; exit 1; }
    read -r wall rss <"$tmp/time"
    ads=$(echo "$client" | awk '{print $3}')
    rows=$("$tmp/adharvest" sql --out "$out" --format csv "SELECT count(*) FROM ads_all" | tail -1)
    files=$(find "$out" -name '*.parquet' -not -path "$out/coverage/*" | wc -l)
    g0=$(now)
    "$tmp/adharvest" sql --out "$out" --format csv \
      "SELECT country_code, date_trunc('week', first_shown_date) AS week, count(*) FROM ads GROUP BY ALL" >/dev/null
    g1=$(now)
    awk -v n="$n" -v r="$round" -v ads="$ads" -v rows="$rows" -v cs="$(secs "$t0" "$t1")" -v hs="$wall" \
        -v rss="$rss" -v files="$files" -v g="$(secs "$g0" "$g1")" 'BEGIN {
      c = ads / cs; h = rows / hs
      printf "%-9s %-7s %10d %12.0f %12.0f %7.2f %7.0f MiB %14.1f %8.2fs\n", n, r, rows, c, h, h / c, rss / 1024, files * 100000 / rows, g
    }'
  done
  kill "$srv"
  wait "$srv" 2>/dev/null || true
  srv=
done

echo
echo "== Go benchmarks"
go test -run '^$' -bench 'Crawl$|DetailsAt50ms' -benchtime 1x ./crawl | grep -E '^Benchmark'
go test -run '^$' -bench . -benchtime 3x ./sink ./queries | grep -E '^Benchmark'
