#!/usr/bin/env bash
# Compare promscope with its peers on the same machine, in the same run:
#   promscope validate      strict parse + validation (streamed)
#   promtool check metrics  Prometheus' Go text parser (expfmt) + promlint
#   prometheus_client       the Python client's text and OpenMetrics parsers
# Inputs are realistic expositions written by gen_exposition.py.
#
# usage: bench/compare.sh [BUILD_DIR] [SIZE_MB]     (defaults: build, 100)
# Needs: promtool (Debian prometheus), python3-prometheus-client, GNU time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
size=${2:-100}
bin="$build/cli/promscope"
pysize=$(( size < 20 ? size : 20 ))   # the Python parsers are far slower: smaller input
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3

"$py" "$here/gen_exposition.py" "$size" text > "$tmp/in.prom"
"$py" "$here/gen_exposition.py" "$size" openmetrics > "$tmp/in.om"
"$py" "$here/gen_exposition.py" "$pysize" text > "$tmp/small.prom"
"$py" "$here/gen_exposition.py" "$pysize" openmetrics > "$tmp/small.om"

# run NAME INPUT CMD...: best wall time of 3 runs, its max RSS, and MB/s
run() {
    local name=$1 input=$2; shift 2
    local mb best=999999 rss=0
    mb=$(stat -c %s "$input")
    for _ in 1 2 3; do
        /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" < "$input" > /dev/null 2>&1 || true
        read -r t m < "$tmp/t"
        if awk -v a="$t" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$t; rss=$m; fi
    done
    awk -v n="$name" -v s="$mb" -v t="$best" -v r="$rss" \
        'BEGIN{ if (t <= 0) t = 0.001; printf "| %-44s | %7.1f MB | %8.2f s | %9.1f MB/s | %8.1f MB |\n", n, s/1e6, t, s/1e6/t, r/1024 }'
}

echo "| tool | input | wall time | throughput | max RSS |"
echo "|---|---|---|---|---|"
run "promscope validate (text)" "$tmp/in.prom" "$bin" validate --format text --max-samples 0 -
run "promscope validate (OpenMetrics)" "$tmp/in.om" "$bin" validate --format openmetrics --max-samples 0 -
if [ -x "$build/bench/bench_parse" ]; then
    # exact timings of the library alone (input mapped, best of 5), to stderr
    "$build/bench/bench_parse" "$tmp/in.prom" text 5 >&2
    "$build/bench/bench_parse" "$tmp/in.om" openmetrics 5 >&2
fi
if command -v promtool > /dev/null; then
    run "promtool check metrics (text)" "$tmp/in.prom" promtool check metrics
fi
if "$py" -c 'import prometheus_client' 2> /dev/null; then
    run "prometheus_client text parser (Python)" "$tmp/small.prom" "$py" -c \
        'import sys; from prometheus_client.parser import text_string_to_metric_families as p; [0 for f in p(sys.stdin.read()) for s in f.samples]'
    run "prometheus_client OpenMetrics parser (Python)" "$tmp/small.om" "$py" -c \
        'import sys; from prometheus_client.openmetrics.parser import text_string_to_metric_families as p; [0 for f in p(sys.stdin.read()) for s in f.samples]'
fi
