#!/usr/bin/env bash
# A small benchmark run under ctest: checks that it completes and that the counts match (every
# envelope acked once, every DM command answered with a post). No figure is asserted on.
set -euo pipefail
LOADGEN=${1:?pm_loadgen} BIN=${2:?postmortem-bot} SUMMARY=${3:?pm_summary_bench} DIR=${4:?tests/bench}
T=$(mktemp -d /tmp/pm-bench-smoke.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$LOADGEN" --events 100 --window 1 --label ceiling --timeout 60 --null-client >"$T/null.json" 2>"$T/null.log" ||
    fail "null client run: $(cat "$T/null.json" "$T/null.log")"
"$LOADGEN" --events 200 --window 8 --label bot --timeout 90 -- \
    "$BIN" --adapter slack --config "$DIR/bench.toml" --data-dir "$T/data" >"$T/bot.json" 2>"$T/bot.log" ||
    fail "bot run: $(cat "$T/bot.json"; tail -n 20 "$T/bot.log")"
grep -q '"acked":200,' "$T/bot.json" || fail "not every envelope acked: $(cat "$T/bot.json")"
grep -q '"duplicate_acks":0,' "$T/bot.json" || fail "duplicate acks: $(cat "$T/bot.json")"
grep -q '"posts_expected":20,"posts":20,' "$T/bot.json" || fail "posts: $(cat "$T/bot.json")"
"$SUMMARY" --participants 5 --steps 6 --reps 1 >"$T/summary.json" || fail "summary: $(cat "$T/summary.json")"
echo "ok: $(cat "$T/bot.json")"
