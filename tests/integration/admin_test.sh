#!/usr/bin/env bash
# The admin endpoint: /healthz, /readyz and /metrics after a scripted postmortem.
source "$(dirname "$0")/lib.sh" "$@"
get() { # get PORT PATH -> response on stdout (plain bash, no curl needed)
    exec 5<>"/dev/tcp/127.0.0.1/$1"
    printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&5
    timeout 5 cat <&5
    exec 5<&-
}
mkfifo "$T/in"
"${FAKED[@]}" "$BIN" --data-dir "$T/data" < "$T/in" > "$T/out" 2> "$T/err" &
pid=$!
exec 3> "$T/in"
head -n 13 "$SRC/tests/data/interview.txt" >&3
port=""
for _ in $(seq 1 300); do
    port=$(grep -o 'admin HTTP listening on 127.0.0.1:[0-9]*' "$T/err" | sed 's/.*://' || true)
    [ -n "$port" ] && grep -q "Question 4 of 9" "$T/out" && break
    sleep 0.02
done
[ -n "$port" ] || fail "no admin port in the log"
get "$port" /healthz > "$T/health"
expect_has "$T/health" "HTTP/1.0 200 OK"
get "$port" /readyz > "$T/ready"
expect_has "$T/ready" '{"ready":true,"reason":""}'
get "$port" /metrics > "$T/metrics"
expect_has "$T/metrics" "Content-Type: text/plain; version=0.0.4"
expect_has "$T/metrics" 'postmortem_events_acked_total{adapter="shell"} 13'
expect_has "$T/metrics" 'postmortem_ack_latency_seconds_count{adapter="shell"} 13'
expect_has "$T/metrics" 'postmortem_open_postmortems 1'
expect_has "$T/metrics" 'postmortem_interviews_in_progress 2'
expect_has "$T/metrics" 'postmortem_outbox_depth 0'
expect_has "$T/metrics" 'postmortem_build_info{version="'
get "$port" /nope > "$T/nf"
expect_has "$T/nf" "404 Not Found"
exec 3>&-
wait "$pid" || fail "exit code"
pass "admin"
