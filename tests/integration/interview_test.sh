#!/usr/bin/env bash
# Two participants in different zones answer interleaved; the merged timeline is in UTC order,
# the summary is posted once and the exports are written.
source "$(dirname "$0")/lib.sh" "$@"
bot "$T/data" < "$SRC/tests/data/interview.txt" > "$T/out" 2> "$T/err" || fail "exit code $?"
expect_count "$T/out" "Everyone has given their account, so here is the summary." 1
# Bob wrote in Berlin time: 15:02 and 15:32 are 14:02 and 14:32 UTC.
grep -E '^  - \*?[0-9]{2}:[0-9]{2}' "$T/out" > "$T/timeline" || true
cat > "$T/want" <<'W'
  - 13:58 alice: saw the error rate spike on the api dashboard
  - 14:02 bob: replication lag on db-2
  - 14:05 alice: restarted api-3
  - 14:20 alice: rolled back the deploy
  - 14:32 bob: rolled back the deploy
W
diff -u "$T/want" "$T/timeline" || fail "merged timeline order"
expect_line "$T/out" "  - bob: asked #db for help"
expect_line "$T/out" "  - alice and bob place “rolled back the deploy” 12 minutes apart (14:20 / 14:32)"
expect_not "$T/out" "on call for payments"   # private: never in the channel
[ -s "$T/data/exports/PM-1-db-failover.md" ] || fail "no Markdown export"
[ -s "$T/data/exports/PM-1-db-failover.json" ] || fail "no JSON export"
expect_has "$T/data/exports/PM-1-db-failover.md" "I was also on call for payments _(private)_"
expect_has "$T/data/exports/PM-1-db-failover.json" '"schema":"postmortem-bot/export","version":1'
expect_has "$T/data/exports/PM-1-db-failover.json" '"at":"2026-11-20T14:02:00Z"'
# Logs go to stderr, never stdout.
expect_not "$T/out" " info "
pass "interview"
