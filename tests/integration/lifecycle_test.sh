#!/usr/bin/env bash
# SIGTERM exits 0 after sending what is queued; export answers with a path; DMs and channels.
source "$(dirname "$0")/lib.sh" "$@"
mkfifo "$T/in"
"${FAKED[@]}" "$BIN" --data-dir "$T/data" < "$T/in" > "$T/out" 2> "$T/err" &
pid=$!
exec 3> "$T/in"
{
    echo "alice: /postmortem start Cache storm @bob"
    echo "bob: private: a page"
    echo "/channel #other"
    echo "carol: /postmortem list"
    echo "alice -> bot: /postmortem export PM-1"
    echo "/channel #incident"
    echo "carol: /postmortem export"
} >&3
for _ in $(seq 1 300); do
    [ "$(count "$T/out" "exports/PM-1-cache-storm")" = 2 ] && break
    sleep 0.02
done
kill -TERM "$pid"
set +e
wait "$pid"; code=$?
set -e
exec 3>&-
[ "$code" = 0 ] || fail "SIGTERM exit code $code"
expect_has "$T/err" "SIGTERM: sending what is queued, then stopping"
expect_has "$T/out" "[dm carol] No postmortem is open in this channel."
expect_has "$T/out" "[dm alice] The full record of PM-1, private answers included and marked."
expect_has "$T/out" "  $T/data/exports/PM-1-cache-storm.md"
expect_has "$T/out" "[#incident] The summary document of PM-1."
expect_has "$T/out" "  $T/data/exports/PM-1-cache-storm.channel.md"
expect_has "$T/data/exports/PM-1-cache-storm.md" "a page _(private)_"
expect_not "$T/data/exports/PM-1-cache-storm.channel.md" "a page"
pass "lifecycle"
