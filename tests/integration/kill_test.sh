#!/usr/bin/env bash
# SIGKILL at several points, restart each time with the lines not yet committed: nothing
# accepted is lost, no question is asked twice, the summary is posted once.
source "$(dirname "$0")/lib.sh" "$@"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (apt-get install sqlite3)"
cfg="$T/debug.toml"
printf '[log]\nlevel = "debug"\n' > "$cfg"
mapfile -t lines < "$SRC/tests/data/interview.txt"
total=${#lines[@]}

outbox_depth() { # outbox_depth PORT -> the number from /metrics
    exec 5<>"/dev/tcp/127.0.0.1/$1" || { echo 99; return; }
    printf 'GET /metrics HTTP/1.0\r\n\r\n' >&5
    timeout 5 cat <&5 | sed -n 's/^postmortem_outbox_depth \([0-9]*\).*/\1/p'
    exec 5<&-
}

# run_with_kills DATA PREFIX MODE KILL_AFTER…
#   MODE=idle: kill once the bot has committed the line and sent everything it caused;
#   MODE=busy: kill a few milliseconds after writing the line, while the bot is still at work.
run_with_kills() {
    local data=$1 prefix=$2 mode=$3; shift 3
    local kill_after=("$@") next=0 run=0
    while [ "$next" -lt "$total" ] && [ "$run" -lt 12 ]; do
        run=$((run + 1))
        local fifo="$T/$prefix.in.$run" out="$T/$prefix.out.$run" err="$T/$prefix.err.$run"
        mkfifo "$fifo"
        "${FAKED[@]}" "$BIN" --data-dir "$data" --config "$cfg" < "$fifo" > "$out" 2> "$err" &
        local pid=$!
        exec 3> "$fifo"
        local stop=${kill_after[$((run - 1))]:-$total} sent=0
        while [ "$next" -lt "$total" ] && [ "$next" -lt "$stop" ]; do
            printf '%s\n' "${lines[$next]}" >&3
            sent=$((sent + 1))
            next=$((next + 1))
            [ "$mode" = busy ] && [ "$next" -ge "$stop" ] && break
            for _ in $(seq 1 500); do # bounded wait, as a person would
                grep -q "committed shell-[0-9a-f]*-$sent from shell" "$err" && break
                sleep 0.01
            done
        done
        if [ "$next" -lt "$total" ]; then
            if [ "$mode" = idle ]; then
                local port
                port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$err" | sed 's/.*://')
                for _ in $(seq 1 500); do
                    [ "$(outbox_depth "$port")" = 0 ] && break
                    sleep 0.01
                done
            else
                sleep "0.00$((RANDOM % 9 + 1))"
            fi
            kill -9 "$pid"
            wait "$pid" 2>/dev/null || true
            exec 3>&-
            # What this run committed is in the store's inbox (lines of one run commit in order);
            # the rest are sent again.
            local run_id done_here
            run_id=$(sed -n 's/.*shell: session \([0-9a-f]*\) reading stdin.*/\1/p' "$err")
            done_here=0
            if [ -n "$run_id" ]; then
                done_here=$(sqlite3 "$data/postmortem.db" \
                    "SELECT max(CAST(substr(event_id, length('shell-$run_id-') + 1) AS INTEGER)) FROM inbox
                     WHERE event_id LIKE 'shell-$run_id-%'")
            fi
            next=$((next - sent + ${done_here:-0}))
        else
            exec 3>&-
            wait "$pid" || fail "last run exit code"
        fi
    done
    [ "$next" -ge "$total" ] || fail "did not finish the transcript in $run runs"
    cat "$T/$prefix".out.* > "$T/$prefix.all"
}

bot "$T/clean" < "$SRC/tests/data/interview.txt" > "$T/clean.out" 2>/dev/null
want() { grep -v "Incident window" "$T/clean/exports/PM-1-db-failover.md"; }

# Killed between inputs: every question exactly once, the summary once, the same record.
run_with_kills "$T/idle" idle idle 3 8 13 19
for who in alice bob; do
    for q in 1 2 3 4 5 6 7 8 9; do
        expect_count "$T/idle.all" "[#incident thread $who] Question $q of 9 " 1
    done
done
expect_count "$T/idle.all" "here is the summary." 1
diff <(want) <(grep -v "Incident window" "$T/idle/exports/PM-1-db-failover.md") || fail "export differs (idle kills)"

# Killed while writing: nothing accepted is lost and the record is the same. (A message being
# printed at the instant of the kill may be printed again: a terminal cannot be asked what it
# already showed. Slack and Matrix rows are looked up or de-duplicated instead.)
run_with_kills "$T/busy" busy busy 2 5 9 12 16 20 23
expect_count "$T/busy.all" "here is the summary." 1
diff <(want) <(grep -v "Incident window" "$T/busy/exports/PM-1-db-failover.md") || fail "export differs (busy kills)"
pass "kill -9 between inputs and while writing"
