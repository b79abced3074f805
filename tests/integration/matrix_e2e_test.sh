#!/usr/bin/env bash
# The real binary with `--adapter matrix` against the fake homeserver, through its SQLite store:
#  1. invite → join; two people set their zones with `!postmortem tz`, `!postmortem start`, one
#     thread each, interleaved answers, an edit (m.replace); the merged timeline in UTC order;
#  2. a sync batch delivered again after a restart is recorded once;
#  3. kill -9 after the summary reached the homeserver but before the bot recorded it: the
#     restart sends it again with the same txnId, and the room holds one summary;
#  4. an encrypted room gets one plain notice, also across a restart; a burst of 429s on sends
#     (each message lands once, one txnId each); a limited timeline's gap filled from /messages;
#  5. an expired token (M_UNKNOWN_TOKEN) ends the process with a clear error and exit 1.
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/fakes.sh"
[ -x "$FAKE_MATRIX" ] || fail "no fake-matrix next to the binary"
command -v sqlite3 > /dev/null || fail "sqlite3 is not installed (apt-get install sqlite3)"

ROOM='!inc:example.org'
ALICE=@alice:example.org
BOB=@bob:example.org
D="$T/m1"

# Event timestamps go up by a second each; counted in a file since events are built in $(…).
next_ev_ts() {
    local n
    n=$(($(cat "$T/ev_no" 2> /dev/null || echo 0) + 1))
    echo "$n" > "$T/ev_no"
    echo $(((NOW + 60 + n) * 1000))
}
# mev ID SENDER BODY [THREAD_ROOT]: a text event as /sync carries it
mev() {
    jq -cn --arg id "$1" --arg s "$2" --arg b "$3" --arg root "${4:-}" --argjson ts "$(next_ev_ts)" \
        '{event_id: $id, type: "m.room.message", sender: $s, origin_server_ts: $ts,
          content: ({msgtype: "m.text", body: $b} + (if $root == "" then {} else
            {"m.relates_to": {rel_type: "m.thread", event_id: $root, is_falling_back: true,
                              "m.in_reply_to": {event_id: $root}}} end))}'
}
# medit ID SENDER TARGET BODY: an m.replace edit of TARGET
medit() {
    jq -cn --arg id "$1" --arg s "$2" --arg t "$3" --arg b "$4" --argjson ts "$(next_ev_ts)" \
        '{event_id: $id, type: "m.room.message", sender: $s, origin_server_ts: $ts,
          content: {msgtype: "m.text", body: ("* " + $b), "m.new_content": {msgtype: "m.text", body: $b},
                    "m.relates_to": {rel_type: "m.replace", event_id: $t}}}'
}
# wait_since TOKEN [N]: the bot asked (N times) for the batch after TOKEN, so it committed
# everything before it
wait_since() {
    for _ in $(seq 1 1500); do
        mx_state "$T/state.json"
        jq -e --arg nb "$1" --argjson n "${2:-1}" '[.sync_sinces[] | select(. == $nb)] | length >= $n' \
            "$T/state.json" > /dev/null && return 0
        sleep 0.02
    done
    fail "the bot never synced past $1"
}
# batch ROOM EVENT… : one /sync batch with these timeline events, waited for until committed
batch() {
    local room=$1 evs nb; shift
    evs=$(printf '%s\n' "$@" | jq -cs .)
    nb=$(mx sync "$(jq -cn --arg r "$room" --argjson e "$evs" '{rooms: {join: {($r): {timeline: {events: $e, limited: false}}}}}')" |
        jq -r .next_batch)
    LAST_BATCH=$nb
    wait_since "$nb"
}
# in_room ROOM JQ-FILTER: how many events the bot sent to ROOM match
in_room() {
    mx_state "$T/state.json"
    jq --arg r "$1" "[.events[] | select(.room == \$r) | select($2)] | length" "$T/state.json"
}
wait_room() { # wait_room ROOM JQ-FILTER N
    for _ in $(seq 1 1500); do
        [ "$(in_room "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.02
    done
    fail "timed out waiting for $3 event(s) matching $2 in $1"
}
root_of() { # root_of MXID: the event that opens MXID's interview thread
    mx_state "$T/state.json"
    jq -r --arg r "$ROOM" --arg u "$1" '.events[] | select(.room == $r and (.content.body | contains("your account")) and
        ((.content["m.mentions"].user_ids // []) | index($u))) | .event_id' "$T/state.json"
}
Q() { echo "(.content[\"m.relates_to\"].event_id == \"$1\") and (.content.body | contains(\"Question $2 of 9\"))"; }
SUMMARY='.content.body | contains("here is the summary")'
expect_prompts() { # expect_prompts ROOT: each of the nine questions asked exactly once
    local n c
    for n in 1 2 3 4 5 6 7 8 9; do
        c=$(in_room "$ROOM" "$(Q "$1" "$n")")
        [ "$c" = 1 ] || fail "question $n of 9 asked $c times in thread $1"
    done
}
restart() { # restart NAME: a new process on the same data dir, syncing again
    local before
    mx_state "$T/state.json"
    before=$(jq '.sync_sinces | length' "$T/state.json")
    start_bot "$1" "$D" --adapter matrix
    for _ in $(seq 1 1500); do
        mx_state "$T/state.json"
        [ "$(jq '.sync_sinces | length' "$T/state.json")" -gt "$before" ] && return 0
        sleep 0.02
    done
    fail "the restarted bot never synced"
}

# ---------------------------------------------------------------------------------------------
# 1. Invite, zones, start, threads, answers, an edit.
start_matrix
mx names "{\"$ALICE\": \"alice\", \"$BOB\": \"bob\"}" > /dev/null
start_bot r1 "$D" --adapter matrix
nb=$(mx invite "{\"room\": \"$ROOM\", \"inviter\": \"$ALICE\"}" | jq -r .next_batch)
wait_since "$nb"
jq -e --arg r "$ROOM" '[.joins[] | select(.room == $r)] | length == 1' "$T/state.json" > /dev/null ||
    fail "the bot did not join on the invite"
jq -e --arg r "$ROOM" '.joins[] | select(.room == $r) | .via == "example.org"' "$T/state.json" > /dev/null ||
    fail "the join names no server to go through"
pass "matrix: invite → join"

batch "$ROOM" "$(mev '$tz1' "$ALICE" '!postmortem tz Europe/Berlin')" "$(mev '$tz2' "$BOB" '!postmortem tz America/New_York')"
batch "$ROOM" "$(mev '$start' "$ALICE" "!postmortem start DB failover $BOB")"
wait_room "$ROOM" '.content.body | contains("Question 1 of 9")' 2
A=$(root_of "$ALICE")
B=$(root_of "$BOB")
[ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ] || fail "no interview threads for alice and bob"
ans() { batch "$ROOM" "$(mev "$1" "$2" "$4" "$3")"; } # ans ID SENDER ROOT TEXT

ans '$a1' "$ALICE" "$A" 'A PagerDuty alert, a few minutes before 15:00 my time'
ans '$b1' "$BOB" "$B" 'A message in #ops, around 09:00 my time'
# Two people in one batch, as a homeserver delivers them.
batch "$ROOM" "$(mev '$a2' "$ALICE" '14:58 saw the error rate spike on the api dashboard' "$A")" \
    "$(mev '$b2' "$BOB" '09:02 replication lag on db-2' "$B")"
ans '$a3' "$ALICE" "$A" '15:05 restarted api-3'
ans '$b3' "$BOB" "$B" '09:32 rolled back the deploy'
ans '$a4' "$ALICE" "$A" '15:20 rolled back the deploy'
ans '$b4' "$BOB" "$B" '? asked #db for help'
ans '$a5' "$ALICE" "$A" 'done'
ans '$b5' "$BOB" "$B" 'done'
ans '$a6' "$ALICE" "$A" 'The api dashbaord'
ans '$b6' "$BOB" "$B" 'The Grafana replication panel'
ans '$a7' "$ALICE" "$A" 'I expected the restart to clear the errors'
BEFORE_REDELIVERY=$LAST_BATCH
ans '$b7' "$BOB" "$B" 'skip'
ans '$a8' "$ALICE" "$A" 'That the deploy was unrelated'
batch "$ROOM" "$(medit '$a6e' "$ALICE" '$a6' 'The api dashboard and the pager alert')"

# ---------------------------------------------------------------------------------------------
# 2. A crash after the commit but before the sync token was stored: the same batches again.
kill9_bot
sqlite3 "$D/postmortem.db" "UPDATE kv SET value = '$BEFORE_REDELIVERY' WHERE key = 'matrix.next_batch'"
restart r2
wait_since "$LAST_BATCH" 2
# And a homeserver that sends an event it already sent, in a new batch.
batch "$ROOM" "$(mev '$b7' "$BOB" 'skip' "$B")" "$(mev '$b8' "$BOB" 'private: I was also on call for payments' "$B")"
ans '$a9' "$ALICE" "$A" 'Two other pages at once'
ans '$b9' "$BOB" "$B" 'A shift handover'
ans '$a10' "$ALICE" "$A" 'skip'
ans '$b10' "$BOB" "$B" '@room <b>bold</b> <a href="https://evil.example">click</a> @bob:example.org'
ans '$a11' "$ALICE" "$A" "Carol's runbook"
ans '$b11' "$BOB" "$B" 'The runbook'
ans '$a12' "$ALICE" "$A" 'Alert on replication lag'

# ---------------------------------------------------------------------------------------------
# 3. The last answer: the summary reaches the room, its response is lost, the bot is killed.
mx inject '{"method": "PUT", "path_contains": "/send/", "body_contains": "here is the summary", "count": 1000, "process_then_drop": true}' > /dev/null
ans '$b12' "$BOB" "$B" 'A dashboard link in the page'
wait_room "$ROOM" "$SUMMARY" 1
kill9_bot
mx clear_injections '{}' > /dev/null
mx_state "$T/state.json"
TXN=$(jq -r --arg r "$ROOM" ".events[] | select(.room == \$r) | select($SUMMARY) | .txn" "$T/state.json")
EVID=$(jq -r --arg r "$ROOM" ".events[] | select(.room == \$r) | select($SUMMARY) | .event_id" "$T/state.json")
restart r3
wait_for "$BLOG" "sent as \\$EVID\$" 1000
stop_bot
mx_state "$T/state.json"
[ "$(in_room "$ROOM" "$SUMMARY")" = 1 ] || fail "the summary is in the room $(in_room "$ROOM" "$SUMMARY") times"
n=$(jq --arg t "$TXN" '[.send_txns[] | select(. == $t)] | length' "$T/state.json")
[ "$n" -ge 2 ] || fail "the summary was not sent again after the restart (txn $TXN sent $n times)"
pass "matrix: kill -9 between send and commit: sent again with its txnId, one summary in the room"

expect_prompts "$A"
expect_prompts "$B"
[ "$(in_room "$ROOM" '.content.body | contains("your account")')" = 2 ] || fail "an interview thread was opened twice"
jq -r --arg r "$ROOM" ".events[] | select(.room == \$r) | select($SUMMARY) | .content.body" "$T/state.json" > "$T/summary.txt"
jq -r --arg r "$ROOM" ".events[] | select(.room == \$r) | select($SUMMARY) | .content.formatted_body" "$T/state.json" > "$T/summary.html"
grep '^- 2026-' "$T/summary.txt" > "$T/timeline"
cat > "$T/want" << 'W'
- 2026-11-20 13:58 alice: saw the error rate spike on the api dashboard
- 2026-11-20 14:02 bob: replication lag on db-2
- 2026-11-20 14:05 alice: restarted api-3
- 2026-11-20 14:20 alice: rolled back the deploy
- 2026-11-20 14:32 bob: rolled back the deploy
W
diff -u "$T/want" "$T/timeline" || fail "merged timeline order in the summary"
expect_count "$T/summary.txt" "replication lag on db-2" 1
expect_count "$T/summary.txt" "That the deploy was unrelated" 1
expect_line "$T/summary.txt" "- bob: asked #db for help"
expect_line "$T/summary.txt" "What was pulling at them: A shift handover"
expect_has "$T/summary.txt" "The api dashboard and the pager alert"
expect_not "$T/summary.txt" "dashbaord"
expect_not "$T/summary.txt" "on call for payments"
# User text cannot ping the room, mention anyone or inject HTML.
expect_not "$T/summary.txt" "@room"
expect_not "$T/summary.html" "<b>bold</b>"
expect_not "$T/summary.html" 'href="https://evil.example"'
jq -e --arg r "$ROOM" ".events[] | select(.room == \$r) | select($SUMMARY) | .content[\"m.mentions\"] | (.room != true) and ((.user_ids // []) | length == 0)" \
    "$T/state.json" > /dev/null || fail "the summary mentions someone"
js="$D/exports/PM-1-db-failover.json"
[ -s "$js" ] && [ -s "$D/exports/PM-1-db-failover.md" ] || fail "no export files"
for at in 2026-11-20T13:58:00Z 2026-11-20T14:02:00Z 2026-11-20T14:05:00Z 2026-11-20T14:20:00Z 2026-11-20T14:32:00Z; do
    expect_count "$js" "\"at\":\"$at\"" 1
done
pass "matrix: zones from !postmortem tz, threads, an edit, redelivered batches recorded once, summary in order"

# ---------------------------------------------------------------------------------------------
# 4. An encrypted room: one plain notice, never again, also after a restart.
SECRET='!secret:example.org'
start_bot r4 "$D" --adapter matrix
nb=$(mx invite "{\"room\": \"$SECRET\", \"inviter\": \"$ALICE\"}" | jq -r .next_batch)
wait_since "$nb"
enc() {
    jq -cn --arg id "$1" --argjson ts "$(next_ev_ts)" \
        '{event_id: $id, type: "m.room.encrypted", sender: "@alice:example.org", origin_server_ts: $ts,
          content: {algorithm: "m.megolm.v1.aes-sha2", ciphertext: "AwgA", session_id: "X3lU"}}'
}
encryption=$(jq -cn '{event_id: "$crypt", type: "m.room.encryption", state_key: "", sender: "@alice:example.org",
    origin_server_ts: 1, content: {algorithm: "m.megolm.v1.aes-sha2"}}')
batch "$SECRET" "$encryption" "$(enc '$e1')"
wait_room "$SECRET" 'true' 1
batch "$SECRET" "$(enc '$e2')"
kill9_bot
start_bot r5 "$D" --adapter matrix
batch "$SECRET" "$(enc '$e3')"
stop_bot
[ "$(in_room "$SECRET" 'true')" = 1 ] || fail "the encrypted room got $(in_room "$SECRET" 'true') events"
m=$(jq '[.send_txns[] | select(startswith("pm-e2ee-"))] | length' "$T/state.json")
[ "$m" = 1 ] || fail "the encryption notice was sent $m times"
[ "$(in_room "$SECRET" '.content.msgtype == "m.notice" and (.content.body | contains("encrypted"))')" = 1 ] ||
    fail "the encrypted room's one event is not the plain notice"
pass "matrix: an encrypted room gets one plain notice"

# ---------------------------------------------------------------------------------------------
# 4b. A burst of 429s on sends: every message lands once; then a limited timeline whose gap is
#     filled from /messages, so the answers in the gap are not missed.
OPS='!ops:example.org'
start_bot r5b "$D" --adapter matrix
nb=$(mx invite "{\"room\": \"$OPS\", \"inviter\": \"$ALICE\"}" | jq -r .next_batch)
wait_since "$nb"
mx inject '{"method": "PUT", "path_contains": "/send/", "count": 4, "status": 429, "body": "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Too Many Requests\",\"retry_after_ms\":300}"}' > /dev/null
batch "$OPS" "$(mev '$o1' "$ALICE" "!postmortem start Queue stall $BOB")"
wait_room "$OPS" '.content.body | contains("Question 1 of 9")' 2
[ "$(in_room "$OPS" '.content.body | contains("your account")')" = 2 ] || fail "429 burst: thread roots not posted once each"
[ "$(in_room "$OPS" '.content.body | contains("Question 1 of 9")')" = 2 ] || fail "429 burst: first questions not posted once each"
[ "$(in_room "$OPS" '.content.body | contains("a blameless postmortem")')" = 1 ] || fail "429 burst: the announcement not posted once"
mx_state "$T/state.json"
[ "$(jq --arg r "$OPS" '[.events[] | select(.room == $r) | .txn] | unique | length' "$T/state.json")" = 5 ] ||
    fail "429 burst: the room's events do not have one txnId each"
expect_has "$BLOG" "rate limited"
pass "matrix: a 429 burst on sends: retried, every message in the room once"

AO=$(jq -r --arg r "$OPS" --arg u "$ALICE" '.events[] | select(.room == $r and (.content.body | contains("your account")) and
    ((.content["m.mentions"].user_ids // []) | index($u))) | .event_id' "$T/state.json")
[ -n "$AO" ] || fail "no interview thread for alice in $OPS"
gap=$(printf '%s\n' "$(mev '$g1' "$ALICE" 'A page from the queue monitor' "$AO")" "$(mev '$g2' "$ALICE" 'done' "$AO")" | jq -cs .)
mx messages "$(jq -cn --arg r "$OPS" --arg from "$LAST_BATCH" --argjson c "$gap" '{room: $r, from: $from, chunk: $c, end: ""}')" > /dev/null
late=$(mev '$g3' "$ALICE" 'The queue depth graph' "$AO")
nb=$(mx sync "$(jq -cn --arg r "$OPS" --argjson e "[$late]" '{rooms: {join: {($r): {timeline: {events: $e, limited: true, prev_batch: "t-gap"}}}}}')" |
    jq -r .next_batch)
wait_since "$nb"
wait_room "$OPS" "$(Q "$AO" 4)" 1
stop_bot
for n in 2 3 4; do
    [ "$(in_room "$OPS" "$(Q "$AO" "$n")")" = 1 ] || fail "limited timeline: question $n asked $(in_room "$OPS" "$(Q "$AO" "$n")") times"
done
pass "matrix: a limited timeline's gap is filled from /messages, nothing missed"

# ---------------------------------------------------------------------------------------------
# 5. The token expires: a clear error, exit 1, no loop.
start_bot r6 "$D" --adapter matrix
mx expire_token '{}' > /dev/null
code=''
for _ in $(seq 1 1500); do
    if ! kill -0 "$bot_pid" 2> /dev/null; then
        code=0
        wait "$bot_pid" || code=$?
        bot_pid=''
        break
    fi
    sleep 0.02
done
[ -n "$code" ] || fail "the bot kept running with a refused token"
[ "$code" = 1 ] || fail "exit code $code with a refused token"
expect_has "$BLOG" "M_UNKNOWN_TOKEN"
expect_has "$BLOG" "set a new MATRIX_ACCESS_TOKEN and restart"
mx_state "$T/state.json"
n=$(jq .syncs_after_expiry "$T/state.json")
[ "$n" -le 1 ] || fail "the bot synced $n times with a refused token"
expect_not "$BLOG" "syt_cG1ib3Q_good"
stop_matrix
pass "matrix: an expired token ends the process with exit 1 and a clear error"
