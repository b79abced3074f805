#!/usr/bin/env bash
# Against the fake Slack: /readyz turns 503 when Slack goes away and 200 when it returns; SIGTERM
# with a rate-limited outbox exits 0, keeps the rows, and the next start sends each exactly once.
source "$(dirname "$0")/lib.sh" "$@"
FAKE_SLACK="$(dirname "$BIN")/fake_slack"
[ -x "$FAKE_SLACK" ] || fail "no fake_slack next to the binary"
export SLACK_BOT_TOKEN=xoxb-1-2-bot SLACK_APP_TOKEN=xapp-1-A1-3-app

start_fake() { # start_fake NAME [--port N]
    local name=$1; shift
    mkfifo "$T/$name.in"
    "$FAKE_SLACK" "$@" < "$T/$name.in" > "$T/$name.out" 2>&1 &
    fake_pid=$!
    exec 4> "$T/$name.in"
    for _ in $(seq 1 250); do grep -q '^api_url ' "$T/$name.out" && break; sleep 0.02; done
    api=$(sed -n 's/^api_url //p' "$T/$name.out")
    port=$(sed -n 's/^port //p' "$T/$name.out")
    [ -n "$api" ] || fail "fake_slack did not start"
}
stop_fake() { echo quit >&4; exec 4>&-; wait "$fake_pid" || true; }
wait_for() { # wait_for FILE PATTERN [tries]
    for _ in $(seq 1 "${3:-500}"); do grep -q -- "$2" "$1" && return 0; sleep 0.02; done
    fail "timed out waiting for '$2' in $1"
}
start_bot() { # start_bot NAME
    SLACK_API_URL=$api "${FAKED[@]}" "$BIN" --adapter slack --data-dir "$T/data" > "$T/$1.out" 2> "$T/$1.err" &
    bot_pid=$!
    wait_for "$T/$1.err" "admin HTTP listening"
    admin=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$T/$1.err" | sed 's/.*://')
}
status_of() { # status_of PATH -> HTTP status code
    exec 5<>"/dev/tcp/127.0.0.1/$admin" || { echo 000; return; }
    printf 'GET %s HTTP/1.0\r\n\r\n' "$1" >&5
    timeout 5 head -n1 <&5 | awk '{print $2}'
    exec 5<&-
}
wait_status() { # wait_status PATH CODE tries
    for _ in $(seq 1 "$3"); do [ "$(status_of "$1")" = "$2" ] && return 0; sleep 0.1; done
    fail "$1 never answered $2"
}

# 1. Ready while connected, 503 while Slack is gone, ready again when it is back.
start_fake a
start_bot run1
wait_for "$T/a.out" "^open 1"
wait_status /readyz 200 100
stop_fake
wait_status /readyz 503 100
start_fake b --port "$port"
wait_status /readyz 200 300
exec 5<>"/dev/tcp/127.0.0.1/$admin"
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&5
timeout 5 cat <&5 > "$T/metrics"
exec 5<&-
expect_has "$T/metrics" 'postmortem_reconnects_total{adapter="slack"} 1'
expect_has "$T/metrics" 'postmortem_adapter_up{adapter="slack"} 1'
pass "readyz follows the connection"

# 2. SIGTERM while the outbox waits out a 429: exit 0, rows kept, then sent once.
echo "ratelimit 1 14" >&4
echo "slash E1 C1 U1 start Busy outbox" >&4
wait_for "$T/b.out" "^ack E1"
sleep 0.5
kill -TERM "$bot_pid"
set +e
wait "$bot_pid"; code=$?
set -e
[ "$code" = 0 ] || fail "SIGTERM exit code $code"
wait_for "$T/run1.err" "outbound messages stay queued for the next start" 1
start_bot run2
wait_for "$T/b.out" "^post C1 " 1500
sleep 1
echo messages >&4
wait_for "$T/b.out" "^end"
n=$(grep -c 'Busy outbox — a blameless postmortem' "$T/b.out" || true)
[ "$n" = 1 ] || fail "the announcement was posted $n times"
kill -TERM "$bot_pid"; wait "$bot_pid" || true
stop_fake
pass "SIGTERM keeps a busy outbox and nothing is sent twice"
