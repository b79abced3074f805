# Shared helpers for the end-to-end tests: each test runs the real binary on the shell adapter.
# Usage in a test: source "$(dirname "$0")/lib.sh" "$@"
set -euo pipefail
BIN=${1:?path to postmortem-bot}
SRC=${2:?source dir}
T=$(mktemp -d /tmp/pm-e2e.XXXXXX)
# A sanitizer report in any file the test wrote fails it, also from runs whose exit code the test
# does not look at (killed or background runs).
finish() {
    local rc=$? hit
    hit=$(grep -rlE "WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer|: runtime error: " "$T" 2>/dev/null || true)
    if [ -n "$hit" ]; then
        echo "FAIL: sanitizer report in:" $hit
        cat $hit | grep -A30 -E "Sanitizer|runtime error" | head -80 || true
        rc=1
    fi
    [ -n "${PM_KEEP:-}" ] || rm -rf "$T"
    exit $rc
}
trap finish EXIT
# A fixed wall clock so times read the same on every machine; it still ticks.
export POSTMORTEM_ADMIN_LISTEN=127.0.0.1:0
FAKE=${PM_FAKETIME:-2026-11-20 15:00:00}
# libfaketime directly (not the faketime wrapper, which forks and does not pass signals on), so
# `bot … &` leaves the bot's own pid in $! and kill reaches it.
FAKELIB=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -n1 || true)
[ -n "$FAKELIB" ] || { echo "FAIL: libfaketime is not installed (apt-get install faketime)"; exit 1; }

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

# bot DATA_DIR [args…] < input > output
FAKED=(env LD_PRELOAD="$FAKELIB" FAKETIME="@$FAKE")
bot() {
    local data=$1; shift
    "${FAKED[@]}" "$BIN" --data-dir "$data" "$@"
}
# In the background, start it as `"${FAKED[@]}" "$BIN" --data-dir DIR … &`: env execs the
# binary, so $! is the bot itself and signals reach it.

# count FILE FIXED-STRING
count() { grep -cF -- "$2" "$1" || true; }

expect_count() {
    local n
    n=$(count "$1" "$2")
    [ "$n" = "$3" ] || fail "expected $3 × '$2' in $1, found $n"
}

expect_line() { grep -qxF -- "$2" "$1" || fail "no line '$2' in $1"; }
expect_has() { grep -qF -- "$2" "$1" || fail "no '$2' in $1"; }
expect_not() { ! grep -qF -- "$2" "$1" || fail "unexpected '$2' in $1"; }
