#!/usr/bin/env bash
# SIGKILL at several points, restart each time with the lines not yet committed: nothing
# accepted is lost, no question is asked twice, the summary is posted once.
source "$(dirname "$0")/lib.sh" "$@"
cfg="$T/debug.toml"
printf '[log]\nlevel = "debug"\n' > "$cfg"
mapfile -t lines < "$SRC/tests/data/interview.txt"
total=${#lines[@]}
next=0     # index of the first line not yet committed
run=0
kill_after=(3 8 13 19)
while [ "$next" -lt "$total" ] && [ "$run" -lt 10 ]; do
    run=$((run + 1))
    fifo="$T/in.$run"
    mkfifo "$fifo"
    "${FAKED[@]}" "$BIN" --data-dir "$T/data" --config "$cfg" < "$fifo" > "$T/out.$run" 2> "$T/err.$run" &
    pid=$!
    exec 3> "$fifo"
    stop=${kill_after[$((run - 1))]:-$total}
    sent=0
    while [ "$next" -lt "$total" ] && [ "$next" -lt "$stop" ]; do
        printf '%s\n' "${lines[$next]}" >&3
        sent=$((sent + 1))
        next=$((next + 1))
        # Wait (bounded) until this line is committed before the next, as a person would.
        for _ in $(seq 1 200); do
            grep -q "committed shell-[0-9a-f]*-$sent from shell" "$T/err.$run" && break
            sleep 0.01
        done
    done
    if [ "$next" -lt "$total" ]; then
        # Kill while the bot may still be writing the outbox of the last line.
        kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
        exec 3>&-
        # Lines committed in this run are known from the log; the rest are sent again.
        done_here=$(grep -o "committed shell-[0-9a-f]*-[0-9]* from shell" "$T/err.$run" | sed 's/.*-\([0-9]*\) from.*/\1/' | sort -n | tail -1)
        next=$((next - sent + ${done_here:-0}))
    else
        exec 3>&-
        wait "$pid" || fail "last run exit code"
    fi
done
cat "$T"/out.* > "$T/all"
bot "$T/clean" < "$SRC/tests/data/interview.txt" > "$T/clean.out" 2>/dev/null
for who in alice bob; do
    for q in 1 2 3 4 5 6 7 8 9; do
        expect_count "$T/all" "[#incident thread $who] Question $q of 9 " 1
    done
done
expect_count "$T/all" "here is the summary." 1
diff <(grep -v "Incident window" "$T/clean/exports/PM-1-db-failover.md") \
     <(grep -v "Incident window" "$T/data/exports/PM-1-db-failover.md") || fail "export differs after kills"
pass "kill -9 at ${kill_after[*]} over $run runs"
