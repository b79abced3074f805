#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for SECONDS (default 600).
# New crashes land in tests/fuzz/crashes/; copy a fixed one into the target's corpus as a
# regression input. The whole libFuzzer log of each run is kept in build-fuzz/fuzz-TARGET.log.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}; shift || true
command -v clang++ >/dev/null || { echo "needs clang and libclang-rt-14-dev" >&2; exit 2; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls tests/fuzz/fuzz_*.cpp | sed 's/.*fuzz_\(.*\)\.cpp/\1/'))
# Only the fuzz binaries asked for, not the whole tree (the unit tests are not needed here).
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${targets[@]/#/fuzz_}" >/dev/null 2>&1 ||
    cmake --build --preset fuzz --target "${targets[@]/#/fuzz_}"
mkdir -p tests/fuzz/crashes
for t in "${targets[@]}"; do
    work=$(mktemp -d)
    cp -r "tests/fuzz/corpus/$t/." "$work/"
    echo "== $t: ${secs}s"
    build-fuzz/fuzz_"$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="tests/fuzz/crashes/$t-" -print_final_stats=1 "$work" 2>&1 | \
        tee "build-fuzz/fuzz-$t.log" | grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|==.*ERROR|SUMMARY)" || true
    rm -rf "$work"
done
