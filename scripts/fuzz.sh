#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for SECONDS (default 600).
# New crashes land in tests/fuzz/crashes/; copy a fixed one into the target's corpus as a
# regression input. Usage: scripts/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}; shift || true
command -v clang++ >/dev/null || { echo "needs clang and libclang-rt-14-dev" >&2; exit 2; }
cmake --preset fuzz >/dev/null && cmake --build --preset fuzz >/dev/null 2>&1 || cmake --build build-fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls tests/fuzz/fuzz_*.cpp | sed 's/.*fuzz_\(.*\)\.cpp/\1/'))
mkdir -p tests/fuzz/crashes
for t in "${targets[@]}"; do
    work=$(mktemp -d)
    cp -r "tests/fuzz/corpus/$t/." "$work/"
    echo "== $t: ${secs}s"
    build-fuzz/tests/fuzz/fuzz_"$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="tests/fuzz/crashes/$t-" -print_final_stats=1 "$work" 2>&1 | \
        grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|==.*ERROR|SUMMARY)" || true
    rm -rf "$work"
done
