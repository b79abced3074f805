#!/usr/bin/env bash
# The real binary with `--adapter slack` against the fake Slack, through its SQLite store:
#  1. a postmortem from the slash command to the summary: two people in different zones
#     (users.info), answers interleaved in their threads, one event delivered twice, an edited
#     answer, hostile text, a socket refresh and an abrupt drop on the way; the merged timeline in
#     UTC order, nothing escaping from user text, the export files;
#  2. DM interviews (`--dm`, conversations.open);
#  3. kill -9 mid-interview (after an ack, and before one) and restarts: no answer lost, no
#     question asked twice, one summary;
#  4. a post whose response is lost, then kill -9 and a restart while the lookup still fails:
#     the post is found by its metadata and is never posted twice.
source "$(dirname "$0")/lib.sh" "$@"
source "$(dirname "$0")/fakes.sh"
[ -x "$FAKE_SLACK" ] || fail "no fake_slack next to the binary"

C=C0INC
IS_SUMMARY='.channel == "C0INC" and .thread_ts == "" and (.args.text | test("^Postmortem PM-[0-9]+: "))'
# question N asked in the thread ROOT: q ROOT N
q() { echo ".thread_ts == \"$1\" and (.args.text | contains(\"Question $2 of 9\"))"; }

# expect_prompts FILE ROOT: each of the nine questions asked exactly once in the thread
expect_prompts() {
    local n c
    for n in 1 2 3 4 5 6 7 8 9; do
        c=$(posts_where "$1" "$(q "$2" "$n")")
        [ "$c" = 1 ] || fail "question $n of 9 asked $c times in thread $2"
    done
}

# ---------------------------------------------------------------------------------------------
# 1. The whole story in threads.
start_slack a
fs user U0ALICE alice Europe/Berlin
fs user U0BOB bob America/New_York
start_bot run1 "$T/d1" --adapter slack
wait_sockets 1
slash S1 "$C" U0ALICE 'start DB failover <@U0BOB|bob>'
wait_posts roots '.thread_ts != "" and (.args.text | contains("Question 1 of 9"))' 2
A=$(thread_root "$T/roots.posts" "$C" U0ALICE)
B=$(thread_root "$T/roots.posts" "$C" U0BOB)
[ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ] || fail "no interview threads for alice and bob"

reply a1 "$C" "$A" U0ALICE 'A PagerDuty alert, a few minutes before 15:00 my time'
reply b1 "$C" "$B" U0BOB 'A message in #ops, around 09:00 my time'
reply a2 "$C" "$A" U0ALICE '14:58 saw the error rate spike on the api dashboard'
reply b2 "$C" "$B" U0BOB '09:02 replication lag on db-2'
# Slack delivers the same event again in another envelope: acked, recorded once.
fs reply b2-again Evb2 "$C" "$B" U0BOB "$TS" '09:02 replication lag on db-2'
acked b2-again
reply a3 "$C" "$A" U0ALICE '15:05 restarted api-3'
# Slack retires the socket while an answer is on its way; what was not acked when the old
# socket closed, Slack delivers again on the new one.
fs disconnect refresh_requested
next_ts
fs reply b3 Evb3 "$C" "$B" U0BOB "$TS" '09:32 rolled back the deploy'
wait_for "$FO" '^open 2$'
wait_for "$FO" '^close 1$'
if ! grep -q '^ack b3$' "$FO"; then
    fs reply b3-again Evb3 "$C" "$B" U0BOB "$TS" '09:32 rolled back the deploy'
    acked b3-again
fi
reply a4 "$C" "$A" U0ALICE '15:20 rolled back the deploy'
reply b4 "$C" "$B" U0BOB '? asked #db for help'
reply a5 "$C" "$A" U0ALICE 'done'
reply b5 "$C" "$B" U0BOB 'done'
reply a6 "$C" "$A" U0ALICE 'The api dashbaord'
A6_TS=$TS
reply b6 "$C" "$B" U0BOB 'The Grafana replication panel'
reply a7 "$C" "$A" U0ALICE 'I expected the restart to clear the errors'
reply b7 "$C" "$B" U0BOB 'skip'
# The socket dies without a frame right after an answer was sent: the bot reconnects by
# itself, and Slack delivers the answer again there.
next_ts
fs reply a8 Eva8 "$C" "$A" U0ALICE "$TS" 'That the deploy was unrelated'
fs drop
wait_for "$FO" '^open 3$'
wait_sockets 1
fs reply a8-again Eva8 "$C" "$A" U0ALICE "$TS" 'That the deploy was unrelated'
acked a8-again
reply b8 "$C" "$B" U0BOB 'private: I was also on call for payments'
# Alice corrects an earlier answer.
next_ts
fs edit a6-edit Eva6edit "$C" "$A" U0ALICE "$A6_TS" "$TS" 'The api dashboard and the pager alert'
acked a6-edit
reply a9 "$C" "$A" U0ALICE 'Two other pages at once'
reply b9 "$C" "$B" U0BOB 'A shift handover'
reply a10 "$C" "$A" U0ALICE 'skip'
# Hostile text, as Slack delivers it (entities encoded, tokens in <…>).
reply b10 "$C" "$B" U0BOB '<!channel> <!here> @here @channel <https://evil.example/x|click> <@U999> *bold* _it_ ~st~ &lt;b&gt;html&lt;/b&gt; &amp;lt; <!subteam^S0SRE> <#C0OTHER|general> <!date^1795186800^{time}|15:00>'
reply a11 "$C" "$A" U0ALICE "Carol's runbook"
reply b11 "$C" "$B" U0BOB 'The runbook'
reply a12 "$C" "$A" U0ALICE 'Alert on replication lag'
reply b12 "$C" "$B" U0BOB 'A dashboard link in the page'
wait_posts s1 "$IS_SUMMARY" 1
stop_bot
dump s1final
P="$T/s1final.posts"
[ "$(posts_where "$P" "$IS_SUMMARY")" = 1 ] || fail "the summary was posted $(posts_where "$P" "$IS_SUMMARY") times"
expect_prompts "$P" "$A"
expect_prompts "$P" "$B"
jq -c "select($IS_SUMMARY)" "$P" > "$T/summary.json"
post_texts "$T/summary.json" | LC_ALL=C sed 's/\xe2\x80\x8b//g; s/\xe2\x80\x8d//g' > "$T/summary.txt"

# The merged timeline, in UTC: alice wrote Berlin time (UTC+1), bob New York time (UTC-5).
grep '^• \*2026-' "$T/summary.txt" | sed 's/^• //; s/\*//g' > "$T/timeline"
cat > "$T/want" << 'W'
2026-11-20 13:58 alice: saw the error rate spike on the api dashboard
2026-11-20 14:02 bob: replication lag on db-2
2026-11-20 14:05 alice: restarted api-3
2026-11-20 14:20 alice: rolled back the deploy
2026-11-20 14:32 bob: rolled back the deploy
W
diff -u "$T/want" "$T/timeline" || fail "merged timeline order in the summary post"
expect_count "$T/summary.txt" "replication lag on db-2" 1
expect_line "$T/summary.txt" "• bob: asked #db for help"
expect_has "$T/summary.txt" "here is the summary"
# The edit replaced the answer.
expect_has "$T/summary.txt" "The api dashboard and the pager alert"
expect_not "$T/summary.txt" "dashbaord"
expect_line "$T/summary.txt" "*Assumptions:* That the deploy was unrelated"
expect_line "$T/summary.txt" "*What was pulling at them:* Two other pages at once"
expect_not "$T/summary.txt" "on call for payments"
pass "slack: summary from the slash command, zones, threads, duplicate, edit, refresh and drop"

# Nothing from user text escapes into Slack markup (checked on the JSON as posted).
jq -r '[.args.text, (.args.blocks // [] | .. | strings)] | .[]' "$T/summary.json" > "$T/summary.raw"
expect_has "$T/summary.raw" "evil.example"
for bad in '<!' '<http' '|click>' '<@U999' '<#C0OTHER' '<b>' '&lt;!' '@here' '@channel' '<@'; do
    expect_not "$T/summary.raw" "$bad"
done
# A marker the renderer made inert has a zero-width space before it; none may be left active.
# Only mrkdwn (and the top-level text) renders markers; plain_text shows them as they are.
inert() {
    jq -r '[.args.text, (.args.blocks // [] | .. | objects | select(.type? == "mrkdwn") | .text)] | .[]' "$1" |
        LC_ALL=C sed 's/\xe2\x80\x8b[*_~`]//g'
}
inert "$T/summary.json" > "$T/summary.active"
expect_not "$T/summary.active" '*bold*'
expect_not "$T/summary.active" '_it_'
expect_not "$T/summary.active" '~st~'
jq -e '[.args.blocks[] | .. | objects | select(.type == "mrkdwn") | .verbatim == true] | all' "$T/summary.json" > /dev/null ||
    fail "a mrkdwn text object holding user text is not verbatim"
pass "slack: hostile text stays inert in the summary"

# The export files hold the same record as plain text, instants in UTC.
md="$T/d1/exports/PM-1-db-failover.md"
js="$T/d1/exports/PM-1-db-failover.json"
[ -s "$md" ] && [ -s "$js" ] || fail "no export files in $T/d1/exports"
expect_has "$md" "The api dashboard and the pager alert"
expect_has "$md" "I was also on call for payments _(private)_"
expect_not "$md" "dashbaord"
expect_not "$md" "&lt;"
jq -e '.schema == "postmortem-bot/export"' "$js" > /dev/null || fail "export schema"
for at in 2026-11-20T13:58:00Z 2026-11-20T14:02:00Z 2026-11-20T14:05:00Z 2026-11-20T14:20:00Z 2026-11-20T14:32:00Z; do
    expect_count "$js" "\"at\":\"$at\"" 1
done
pass "slack: export files"
stop_slack

# ---------------------------------------------------------------------------------------------
# 2. DM interviews.
start_slack b
fs user U0ALICE alice Europe/Berlin
fs user U0BOB bob America/New_York
start_bot run2 "$T/d2" --adapter slack
wait_sockets 1
# A title is user text too, echoed in the announcement, the DMs and the summary.
slash S2 "$C" U0ALICE 'start Cache <!here> outage *now* <https://evil.example|x> <@U0BOB|bob> --dm'
wait_posts dm1 '(.channel == "D0ALICE" or .channel == "D0BOB") and (.args.text | contains("Question 1 of 9"))' 2
say da1 D0ALICE U0ALICE 'A page from the cache cluster'
say db1 D0BOB U0BOB 'A message in #ops about the cache'
say da2 D0ALICE U0ALICE '15:10 flushed the cache on node-4'
say db2 D0BOB U0BOB '09:12 saw the hit ratio drop'
say da3 D0ALICE U0ALICE 'done'
slash S3 "$C" U0ALICE 'finish'
wait_posts dm2 "$IS_SUMMARY" 1
dump_calls dm
grep -q '^conversations.open .*"users":"U0ALICE"' "$T/dm.calls" || fail "no conversations.open for alice"
grep -q '^conversations.open .*"users":"U0BOB"' "$T/dm.calls" || fail "no conversations.open for bob"
P="$T/dm2.posts"
[ "$(posts_where "$P" '.channel == "C0INC" and .thread_ts != ""')" = 0 ] || fail "--dm opened threads in the channel"
[ "$(posts_where "$P" '.channel == "D0BOB" and (.args.text | contains("Question 3 of 9"))')" = 0 ] ||
    fail "bob was asked question 3 without finishing the timeline"
[ "$(posts_where "$P" '.channel == "D0ALICE" and (.args.text | contains("Question 3 of 9"))')" = 1 ] ||
    fail "alice was not asked question 3 in her DM"
jq -c "select($IS_SUMMARY)" "$P" | post_texts /dev/stdin > "$T/dm-summary.txt"
expect_has "$T/dm-summary.txt" "A page from the cache cluster"
expect_has "$T/dm-summary.txt" "flushed the cache on node-4"
expect_has "$T/dm-summary.txt" "saw the hit ratio drop"
jq -r '[.args.text, (.args.blocks // [] | .. | strings)] | .[]' "$P" > "$T/dm.raw"
expect_has "$T/dm.raw" "outage"
for bad in '<!' '@here' '<http' '|x>'; do
    expect_not "$T/dm.raw" "$bad"
done
inert "$P" > "$T/dm.active"
expect_not "$T/dm.active" '*now*'
stop_bot
stop_slack
pass "slack: --dm interviews in direct messages"

# ---------------------------------------------------------------------------------------------
# 3. kill -9 mid-interview, restart: nothing lost, nothing asked twice, one summary.
start_slack c
fs user U0ALICE alice Europe/Berlin
fs user U0BOB bob America/New_York
# restart NAME: a new process on the same data dir, connected again
restart() {
    local opened
    opened=$(grep -c '^open ' "$FO" || true)
    start_bot "$1" "$T/d3" --adapter slack
    wait_for "$FO" "^open $((opened + 1))\$"
    wait_sockets 1
}
restart k1
slash S4 "$C" U0ALICE 'start API latency <@U0BOB|bob>'
wait_posts k '.thread_ts != "" and (.args.text | contains("Question 1 of 9"))' 2
A=$(thread_root "$T/k.posts" "$C" U0ALICE)
B=$(thread_root "$T/k.posts" "$C" U0BOB)
reply ka1 "$C" "$A" U0ALICE 'An alert on p99 latency'
reply kb1 "$C" "$B" U0BOB 'A customer ticket'
reply ka2 "$C" "$A" U0ALICE '14:40 saw p99 at 3 seconds'
kill9_bot # right after an ack: the next question may or may not be out
restart k2
reply kb2 "$C" "$B" U0BOB '09:45 scaled the api pool'
reply ka3 "$C" "$A" U0ALICE 'done'
# Killed with a message in flight: Slack delivers the unacked envelope again after the restart.
next_ts
fs reply kb3 Evkb3 "$C" "$B" U0BOB "$TS" '09:50 saw p99 recover'
kill9_bot
restart k3
fs reply kb3 Evkb3 "$C" "$B" U0BOB "$TS" '09:50 saw p99 recover'
acked kb3
reply kb3d "$C" "$B" U0BOB 'done'
for n in 3 4 5 6 7 8; do
    reply "ka$((n + 1))" "$C" "$A" U0ALICE 'skip'
    reply "kb$((n + 1))" "$C" "$B" U0BOB "bob answer $n"
    if [ "$n" = 5 ]; then
        kill9_bot
        restart "k$n"
    fi
done
reply ka10 "$C" "$A" U0ALICE 'Cache the auth lookups'
reply kb10 "$C" "$B" U0BOB 'A latency budget per endpoint'
kill9_bot # the summary may or may not be out
restart k9
wait_posts kend "$IS_SUMMARY" 1
stop_bot
dump kfinal
P="$T/kfinal.posts"
[ "$(posts_where "$P" "$IS_SUMMARY")" = 1 ] || fail "summary posted $(posts_where "$P" "$IS_SUMMARY") times after kills"
expect_prompts "$P" "$A"
expect_prompts "$P" "$B"
[ "$(posts_where "$P" ".channel == \"C0INC\" and .thread_ts == \"\" and (.args.text | contains(\"your account\"))")" = 2 ] ||
    fail "an interview thread was opened twice"
jq -c "select($IS_SUMMARY)" "$P" | post_texts /dev/stdin > "$T/k-summary.txt"
for t in 'saw p99 at 3 seconds' 'scaled the api pool' 'saw p99 recover' 'bob answer 3' 'bob answer 5' 'bob answer 6' 'bob answer 8' \
    'Cache the auth lookups' 'A latency budget per endpoint' 'An alert on p99 latency' 'A customer ticket'; do
    expect_count "$T/k-summary.txt" "$t" 1
done
stop_slack
pass "slack: kill -9 mid-interview loses nothing, repeats nothing, posts one summary"

# ---------------------------------------------------------------------------------------------
# 4. The summary's HTTP response is lost, the lookup fails, the process is killed; after the
#    restart the post is found by its metadata and not posted again.
start_slack d
fs user U0ALICE alice Europe/Berlin
fs user U0BOB bob America/New_York
start_bot l1 "$T/d4" --adapter slack
wait_sockets 1
slash S5 "$C" U0ALICE 'start Disk full <@U0BOB|bob>'
wait_posts l '.thread_ts != "" and (.args.text | contains("Question 1 of 9"))' 2
fs methoderror conversations.history internal_error
fs losepost 1
slash S6 "$C" U0ALICE 'finish'
wait_posts l2 "$IS_SUMMARY" 1
ROW=$(jq -r "select($IS_SUMMARY) | .args.metadata.event_payload.row" "$T/l2.posts")
[ -n "$ROW" ] && [ "$ROW" != null ] || fail "the summary post carries no outbox metadata"
# The bot could not find out whether it landed, and did not post it again.
wait_for "$BLOG" "cannot check whether row $ROW was posted" 3000
kill9_bot
# The next process starts while Slack still cannot answer the lookup: it must wait, not repost.
start_bot l2 "$T/d4" --adapter slack
wait_for "$BLOG" "cannot check whether row $ROW was posted" 3000
wait_for "$BLOG" "outbox row $ROW for slack: an earlier attempt may have been posted and the check failed" 3000
fs methoderror conversations.history -
wait_for "$BLOG" "outbox row $ROW was already posted" 6000
stop_bot
dump lfinal
n=$(posts_where "$T/lfinal.posts" ".args.metadata.event_payload.row == \"$ROW\"")
[ "$n" = 1 ] || fail "outbox row $ROW was posted $n times"
[ "$(posts_where "$T/lfinal.posts" "$IS_SUMMARY")" = 1 ] || fail "the summary was posted twice"
stop_slack
pass "slack: a post with a lost response is posted exactly once across kill -9"
