#!/usr/bin/env bash
# The benchmark: postmortem-bot and a minimal Bolt for JavaScript app, side by side, driven by the
# same load generator (tests/bench/loadgen.cpp) on 127.0.0.1, then the summary of a 50 × 40
# postmortem. Prints a table with both and their ratios.
#
#   scripts/bench.sh [--events N]          (default 5000 envelopes per run)
#
# Builds what is missing (build/, or $BUILD_DIR), installs the Bolt app's locked dependencies
# (npm ci in tests/bench/bolt) when they are missing or stale, then runs: the generator's ceiling
# (a client that only acks) at W=1 and W=64, the bot at W=1 and W=64, Bolt at W=1 and W=64, and
# the summary bench. Raw figures (JSON lines) and logs are kept in $BENCH_OUT (default a fresh
# directory under /tmp, printed at the end).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
EVENTS=5000
while [ $# -gt 0 ]; do
    case $1 in
    --events) EVENTS=${2:?}; shift 2 ;;
    *) echo "usage: scripts/bench.sh [--events N]" >&2; exit 2 ;;
    esac
done
OUT=${BENCH_OUT:-$(mktemp -d /tmp/pm-bench.XXXXXX)}
mkdir -p "$OUT"
# What the build and the table need (jq among them), and Node for the Bolt app (Debian's is 18).
"$ROOT/scripts/install-deps.sh"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    as_root=""
    [ "$(id -u)" = 0 ] || as_root="sudo"
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# ---- build and install ---------------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja >"$OUT/cmake.log"
fi
cmake --build "$BUILD" --target postmortem-bot pm_loadgen pm_summary_bench >"$OUT/build.log" ||
    { tail -n 30 "$OUT/build.log"; exit 1; }
BOLT=$ROOT/tests/bench/bolt
if ! cmp -s "$BOLT/package-lock.json" "$BOLT/node_modules/.bench-lock" 2>/dev/null; then
    (cd "$BOLT" && npm ci --no-audit --no-fund >"$OUT/npm.log" 2>&1) || { tail -n 20 "$OUT/npm.log"; exit 1; }
    cp "$BOLT/package-lock.json" "$BOLT/node_modules/.bench-lock"
fi
LOADGEN=$BUILD/pm_loadgen
BIN=$BUILD/postmortem-bot

# ---- runs ----------------------------------------------------------------------------------
run() { # name window loadgen-args…
    local name=$1 window=$2; shift 2
    echo "bench: $name (W=$window, $EVENTS events)…" >&2
    if ! "$LOADGEN" --events "$EVENTS" --window "$window" --label "$name" --timeout 600 "$@" \
        >"$OUT/$name.json" 2>"$OUT/$name.log"; then
        echo "bench: $name did not complete: $(cat "$OUT/$name.json")" >&2
        tail -n 5 "$OUT/$name.log" >&2
    fi
}
for w in 1 64; do run "ceiling-w$w" "$w" --null-client; done
for w in 1 64; do
    data=$(mktemp -d "$OUT/bot-data-w$w.XXXXXX")
    run "bot-w$w" "$w" -- "$BIN" --adapter slack --config "$ROOT/tests/bench/bench.toml" --data-dir "$data"
done
for w in 1 64; do run "bolt-w$w" "$w" -- node "$BOLT/app.js"; done
echo "bench: summary 50 × 40…" >&2
"$BUILD/pm_summary_bench" --participants 50 --steps 40 --reps 30 >"$OUT/summary.json"

# ---- table ---------------------------------------------------------------------------------
f() { jq -r ".$2 // 0" "$OUT/$1.json" 2>/dev/null || echo 0; }
fmt() { LC_ALL=C printf "%.${2:-1}f" "$1"; }
div() { LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.1f×", a / b }'; }

echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"\
     "load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u '+%Y-%m-%d %H:%M UTC'); $EVENTS events per run"
echo
printf '| %-11s | %9s | %9s | %9s | %8s | %11s | %8s | %10s | %9s | %11s |\n' \
    run "events/s" "ack p50" "ack p99" "ack max" "CPU/event" "peak RSS" "cold start" "API calls" "posts"
printf '|%s|\n' "-------------|-----------|-----------|-----------|----------|-------------|----------|------------|-----------|-------------"
for r in ceiling-w1 ceiling-w64 bot-w1 bot-w64 bolt-w1 bolt-w64; do
    [ -s "$OUT/$r.json" ] || continue
    printf '| %-11s | %9s | %6s ms | %6s ms | %5s ms | %8s µs | %5s MB | %7s ms | %9s | %11s |\n' "$r" \
        "$(fmt "$(f $r events_per_s)" 0)" "$(fmt "$(f $r ack_p50_ms)" 2)" "$(fmt "$(f $r ack_p99_ms)" 2)" \
        "$(fmt "$(f $r ack_max_ms)" 1)" "$(fmt "$(f $r cpu_us_per_event)" 1)" "$(fmt "$(f $r peak_rss_mb)" 1)" \
        "$(fmt "$(f $r cold_start_ms)" 0)" "$(f $r api_calls)" "$(f $r posts)/$(f $r posts_expected)"
done
echo
echo "Bot against Bolt (higher is better for the bot):"
for w in 1 64; do
    b=bot-w$w j=bolt-w$w
    [ -s "$OUT/$b.json" ] && [ -s "$OUT/$j.json" ] || continue
    echo "  W=$w: events/s $(div "$(f $b events_per_s)" "$(f $j events_per_s)")," \
        "ack p99 $(div "$(f $j ack_p99_ms)" "$(f $b ack_p99_ms)") lower," \
        "CPU/event $(div "$(f $j cpu_us_per_event)" "$(f $b cpu_us_per_event)") less," \
        "peak RSS $(div "$(f $j peak_rss_mb)" "$(f $b peak_rss_mb)") less," \
        "cold start $(div "$(f $j cold_start_ms)" "$(f $b cold_start_ms)") faster"
done
echo
echo "Summary of $(jq -r .participants "$OUT/summary.json") participants × $(( $(jq -r .timeline_entries "$OUT/summary.json") / $(jq -r .participants "$OUT/summary.json") )) timeline entries" \
    "(median of $(jq -r .reps "$OUT/summary.json")): compile $(fmt "$(jq -r .compile_ms "$OUT/summary.json")" 2) ms," \
    "compile + render the channel summary $(fmt "$(jq -r .summary_ms "$OUT/summary.json")" 2) ms," \
    "everything finish builds (summary, Markdown, JSON) $(fmt "$(jq -r .finish_ms "$OUT/summary.json")" 2) ms"
echo
echo "Raw figures and logs: $OUT"
