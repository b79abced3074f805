#!/usr/bin/env bash
# Tokens and Authorization headers never reach the logs, even at trace level, in text and JSON.
source "$(dirname "$0")/lib.sh" "$@"
FAKE_SLACK="$(dirname "$BIN")/fake_slack"
[ -x "$FAKE_SLACK" ] || fail "no fake_slack next to the binary"
BOT_TOKEN="xoxb-1111-2222-SECRETBOTTOKEN"
APP_TOKEN="xapp-1-A111-3333-SECRETAPPTOKEN"
for format in text json; do
    mkfifo "$T/fake.in.$format"
    "$FAKE_SLACK" < "$T/fake.in.$format" > "$T/fake.out.$format" 2>&1 &
    fake=$!
    exec 4> "$T/fake.in.$format"
    for _ in $(seq 1 200); do grep -q '^api_url ' "$T/fake.out.$format" && break; sleep 0.02; done
    api=$(sed -n 's/^api_url //p' "$T/fake.out.$format")
    [ -n "$api" ] || fail "fake_slack did not start"
    printf '[log]\nlevel = "trace"\nformat = "%s"\n' "$format" > "$T/log.toml"
    SLACK_BOT_TOKEN=$BOT_TOKEN SLACK_APP_TOKEN=$APP_TOKEN SLACK_API_URL=$api \
        "${FAKED[@]}" "$BIN" --adapter slack --config "$T/log.toml" --data-dir "$T/data.$format" \
        > "$T/out.$format" 2> "$T/err.$format" &
    pid=$!
    for _ in $(seq 1 500); do grep -q '^open ' "$T/fake.out.$format" && break; sleep 0.02; done
    echo "slash E1 C1 U1 start Token test" >&4
    for _ in $(seq 1 500); do grep -q '^ack E1' "$T/fake.out.$format" && break; sleep 0.02; done
    grep -q '^ack E1' "$T/fake.out.$format" || fail "the slash command was not acknowledged ($format)"
    kill -TERM "$pid"
    wait "$pid" || true
    echo quit >&4
    exec 4>&-
    wait "$fake" || true
    for secret in SECRETBOTTOKEN SECRETAPPTOKEN "Bearer xox" "Bearer xapp"; do
        expect_not "$T/err.$format" "$secret"
        expect_not "$T/out.$format" "$secret"
    done
    [ "$(wc -l < "$T/err.$format")" -gt 3 ] || fail "suspiciously few log lines ($format)"
done
pass "no secrets in the logs"
