#!/usr/bin/env bash
# Half a transcript, exit, restart on the same data dir with the rest: the summary is complete
# and no question is asked twice.
source "$(dirname "$0")/lib.sh" "$@"
head -n 13 "$SRC/tests/data/interview.txt" > "$T/first"
tail -n +14 "$SRC/tests/data/interview.txt" > "$T/second"
bot "$T/data" < "$T/first" > "$T/out1" 2> "$T/err1" || fail "first run exit code"
bot "$T/data" < "$T/second" > "$T/out2" 2> "$T/err2" || fail "second run exit code"
cat "$T/out1" "$T/out2" > "$T/all"
bot "$T/clean" < "$SRC/tests/data/interview.txt" > "$T/clean.out" 2>/dev/null
for who in alice bob; do
    for q in 1 2 3 4 5 6 7 8 9; do
        expect_count "$T/all" "[#incident thread $who] Question $q of 9 " 1
    done
done
expect_count "$T/all" "here is the summary." 1
expect_count "$T/out1" "here is the summary." 0
# The restarted run ends with the same record as one uninterrupted run.
diff <(grep -v "Incident window" "$T/clean/exports/PM-1-db-failover.md") \
     <(grep -v "Incident window" "$T/data/exports/PM-1-db-failover.md") || fail "export differs after restart"
expect_has "$T/err2" "state restored:"
pass "restart"
