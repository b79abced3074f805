#!/usr/bin/env bash
# One process serving Slack and Matrix at once (`--adapter slack --adapter matrix`): a postmortem
# on each, answers interleaved between the platforms; each summary is posted on its own platform,
# once, and each export is written.
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/fakes.sh"
[ -x "$FAKE_SLACK" ] || fail "no fake_slack next to the binary"
[ -x "$FAKE_MATRIX" ] || fail "no fake-matrix next to the binary"

ROOM='!ops:example.org'
CAROL=@carol:example.org
# Event timestamps go up by a second each; counted in a file since events are built in $(…).
next_ev_ts() {
    local n
    n=$(($(cat "$T/ev_no" 2> /dev/null || echo 0) + 1))
    echo "$n" > "$T/ev_no"
    echo $(((NOW + 60 + n) * 1000))
}
mev() { # mev ID SENDER BODY [THREAD_ROOT]
    jq -cn --arg id "$1" --arg s "$2" --arg b "$3" --arg root "${4:-}" --argjson ts "$(next_ev_ts)" \
        '{event_id: $id, type: "m.room.message", sender: $s, origin_server_ts: $ts,
          content: ({msgtype: "m.text", body: $b} + (if $root == "" then {} else
            {"m.relates_to": {rel_type: "m.thread", event_id: $root, is_falling_back: true,
                              "m.in_reply_to": {event_id: $root}}} end))}'
}
wait_since() {
    for _ in $(seq 1 1500); do
        mx_state "$T/state.json"
        jq -e --arg nb "$1" '.sync_sinces | index($nb)' "$T/state.json" > /dev/null && return 0
        sleep 0.02
    done
    fail "the bot never synced past $1"
}
mx_say() { # mx_say ID TEXT [THREAD_ROOT]: one event in its own batch, waited for until committed
    local nb
    nb=$(mx sync "$(jq -cn --arg r "$ROOM" --argjson e "[$(mev "$1" "$CAROL" "$2" "${3:-}")]" \
        '{rooms: {join: {($r): {timeline: {events: $e}}}}}')" | jq -r .next_batch)
    wait_since "$nb"
}
mx_count() { # mx_count JQ-FILTER: events the bot sent to the room that match
    mx_state "$T/state.json"
    jq --arg r "$ROOM" "[.events[] | select(.room == \$r) | select($1)] | length" "$T/state.json"
}

start_slack s
fs user U0ALICE alice Europe/Berlin
start_matrix
mx names "{\"$CAROL\": \"carol\"}" > /dev/null
start_bot both "$T/data" --adapter slack --adapter matrix
wait_sockets 1
nb=$(mx invite "{\"room\": \"$ROOM\", \"inviter\": \"$CAROL\"}" | jq -r .next_batch)
wait_since "$nb"

slash S1 C0INC U0ALICE 'start Slack side'
mx_say '$m0' '!postmortem start Matrix side'
wait_posts sroot '.thread_ts != "" and (.args.text | contains("Question 1 of 9"))' 1
SA=$(thread_root "$T/sroot.posts" C0INC U0ALICE)
[ -n "$SA" ] || fail "no Slack interview thread"
for _ in $(seq 1 1500); do [ "$(mx_count '.content.body | contains("Question 1 of 9")')" -ge 1 ] && break; sleep 0.02; done
MA=$(jq -r --arg r "$ROOM" '.events[] | select(.room == $r and (.content.body | contains("your account"))) | .event_id' "$T/state.json")
[ -n "$MA" ] || fail "no Matrix interview thread"

# Way in, one timeline step, done, then the other seven questions skipped.
slack_answers=('A page' '15:10 restarted web-1' done skip skip skip skip skip skip skip)
matrix_answers=('A page' '14:20 restarted db-1' done skip skip skip skip skip skip skip)
for i in "${!slack_answers[@]}"; do
    reply "s$i" C0INC "$SA" U0ALICE "${slack_answers[$i]}"
    mx_say "\$m$((i + 1))" "${matrix_answers[$i]}" "$MA"
done
IS_SUMMARY='.channel == "C0INC" and .thread_ts == "" and (.args.text | test("^Postmortem PM-[0-9]+: "))'
wait_posts ssum "$IS_SUMMARY" 1
for _ in $(seq 1 1500); do [ "$(mx_count '.content.body | contains("here is the summary")')" -ge 1 ] && break; sleep 0.02; done
stop_bot
dump final
[ "$(posts_where "$T/final.posts" "$IS_SUMMARY")" = 1 ] || fail "the Slack summary was not posted exactly once"
[ "$(mx_count '.content.body | contains("here is the summary")')" = 1 ] || fail "the Matrix summary was not posted exactly once"
jq -c "select($IS_SUMMARY)" "$T/final.posts" | post_texts /dev/stdin > "$T/slack-summary.txt"
jq -r --arg r "$ROOM" '.events[] | select(.room == $r and (.content.body | contains("here is the summary"))) | .content.body' \
    "$T/state.json" > "$T/matrix-summary.txt"
expect_has "$T/slack-summary.txt" "Slack side"
expect_not "$T/slack-summary.txt" "Matrix side"
expect_has "$T/matrix-summary.txt" "Matrix side"
expect_not "$T/matrix-summary.txt" "Slack side"
expect_line "$T/matrix-summary.txt" "- 2026-11-20 14:20 carol: restarted db-1"
expect_line "$T/slack-summary.txt" "• *2026-11-20 14:10* alice: restarted web-1"
expect_not "$T/matrix-summary.txt" "restarted web-1"
[ "$(mx_count '.content.body | contains("Slack side")')" = 0 ] || fail "Slack's postmortem showed up on Matrix"
ls "$T/data/exports" | grep -q -- '-slack-side\.md$' || fail "no export of the Slack postmortem"
ls "$T/data/exports" | grep -q -- '-matrix-side\.md$' || fail "no export of the Matrix postmortem"
stop_slack
stop_matrix
pass "one process, Slack and Matrix: both summaries posted on their own platform"
