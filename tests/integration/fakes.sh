# Helpers for the end-to-end scripts that run the real binary against the fake Slack
# (fake_slack, driven through a fifo) and the fake Matrix homeserver (fake-matrix, driven through
# its /_fake/ HTTP API). Source after lib.sh. Everything binds to 127.0.0.1; every wait is
# bounded by a number of tries; the EXIT trap ends what was started here.
command -v jq > /dev/null || fail "jq is not installed (apt-get install jq)"
command -v curl > /dev/null || fail "curl is not installed (apt-get install curl)"
FAKE_SLACK="$(dirname "$BIN")/fake_slack"
FAKE_MATRIX="$(dirname "$BIN")/fake-matrix"
# The fixed clock of lib.sh as Unix seconds: timestamps of the messages people send.
NOW=$(date -u -d "$FAKE UTC" +%s)
# The bot's clock starts at that instant and keeps running across restarts (lib.sh's starts over
# with every process, which would move times a restarted bot stored into its future).
FAKED=(env LD_PRELOAD="$FAKELIB" FAKETIME="$(printf '%+d' $((NOW - $(date -u +%s))))")
export SLACK_BOT_TOKEN=xoxb-1-2-bot SLACK_APP_TOKEN=xapp-1-A1-3-app
export MATRIX_USER_ID=@pmbot:example.org MATRIX_ACCESS_TOKEN=syt_cG1ib3Q_good
unset SLACK_API_URL MATRIX_HOMESERVER
printf '[log]\nlevel = "debug"\n' > "$T/debug.toml"

bot_pid='' fake_pid='' mx_pid=''
cleanup() {
    [ -z "$bot_pid" ] || kill -9 "$bot_pid" 2> /dev/null || true
    [ -z "$fake_pid" ] || kill "$fake_pid" 2> /dev/null || true
    [ -z "$mx_pid" ] || kill "$mx_pid" 2> /dev/null || true
    wait 2> /dev/null || true
    [ -n "${PM_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT

# wait_for FILE REGEX [tries of 20 ms]. The limits are generous: they only end a run that is
# stuck; a slow machine (or a sanitizer build) must not fail them.
wait_for() {
    for _ in $(seq 1 "${3:-1500}"); do grep -q -- "$2" "$1" 2> /dev/null && return 0; sleep 0.02; done
    fail "timed out waiting for '$2' in $1"
}
# wait_n FILE FIXED-STRING N [tries]: until at least N lines hold the string
wait_n() {
    for _ in $(seq 1 "${4:-1500}"); do
        [ "$(grep -cF -- "$2" "$1" 2> /dev/null || true)" -ge "$3" ] && return 0
        sleep 0.02
    done
    fail "timed out waiting for $3 × '$2' in $1"
}

# ---- the bot ---------------------------------------------------------------------------------
# start_bot NAME DATA ARGS… : in the background, log in $T/NAME.err; waits for the admin port.
start_bot() {
    local name=$1 data=$2; shift 2
    "${FAKED[@]}" "$BIN" --config "$T/debug.toml" --data-dir "$data" "$@" > "$T/$name.out" 2> "$T/$name.err" &
    bot_pid=$!
    BLOG="$T/$name.err"
    wait_for "$BLOG" "admin HTTP listening" 3000
}
kill9_bot() {
    kill -9 "$bot_pid"
    wait "$bot_pid" 2> /dev/null || true
    bot_pid=''
}
stop_bot() { # SIGTERM; fails on a non-zero exit
    kill -TERM "$bot_pid"
    local code=0
    wait "$bot_pid" || code=$?
    bot_pid=''
    [ "$code" = 0 ] || fail "the bot exited with $code on SIGTERM"
}

# ---- fake Slack ------------------------------------------------------------------------------
# start_slack NAME: a fresh fake on a free port; FO is its log, api its Web API URL.
start_slack() {
    local name=$1
    mkfifo "$T/$name.in"
    "$FAKE_SLACK" < "$T/$name.in" > "$T/$name.out" 2>&1 &
    fake_pid=$!
    exec 4> "$T/$name.in"
    FO="$T/$name.out"
    wait_for "$FO" '^api_url '
    api=$(sed -n 's/^api_url //p' "$FO")
    export SLACK_API_URL=$api
}
stop_slack() {
    echo quit >&4
    exec 4>&-
    wait "$fake_pid" || true
    fake_pid=''
}
fs() { echo "$*" >&4; } # a command to the fake
# Sockets the bot has open now (the fake's "open N" / "close N" lines).
sockets_open() { echo $(($(grep -c '^open ' "$FO" || true) - $(grep -c '^close ' "$FO" || true))); }
wait_sockets() { # wait_sockets N: the bot has N sockets and said hello on the newest
    for _ in $(seq 1 1500); do [ "$(sockets_open)" = "$1" ] && return 0; sleep 0.02; done
    fail "the bot never had $1 socket(s) open"
}

seq_no=0
next_ts() { seq_no=$((seq_no + 1)); TS="$((NOW + 60 + seq_no)).000100"; }
# acked ENVELOPE: the bot committed what the envelope carried and acked it.
acked() { wait_for "$FO" "^ack $1\$" "${2:-1500}"; }
# say ENV CHANNEL USER TEXT… — a message in a channel or DM, waited for until acked.
say() {
    local env=$1 ch=$2 user=$3; shift 3
    next_ts
    fs message "$env" "Ev$env" "$ch" "$user" "$TS" "$*"
    acked "$env"
}
# reply ENV CHANNEL THREAD USER TEXT… — a reply in a thread, waited for until acked.
reply() {
    local env=$1 ch=$2 thread=$3 user=$4; shift 4
    next_ts
    fs reply "$env" "Ev$env" "$ch" "$thread" "$user" "$TS" "$*"
    acked "$env"
}
slash() { # slash ENV CHANNEL USER TEXT…
    local env=$1 ch=$2 user=$3; shift 3
    fs slash "$env" "$ch" "$user" "$*"
    acked "$env"
}
# dump TAG: every post so far, one JSON object a line, into $T/TAG.posts
dump() {
    fs posts "$1"
    wait_for "$FO" "^end $1\$"
    sed -n "/^begin $1\$/,/^end $1\$/p" "$FO" | sed -n 's/^posted //p' > "$T/$1.posts"
}
dump_calls() { # dump_calls TAG: every Web API call so far into $T/TAG.calls ("method args")
    fs calls "$1"
    wait_for "$FO" "^end $1\$"
    sed -n "/^begin $1\$/,/^end $1\$/p" "$FO" | sed -n 's/^call //p' > "$T/$1.calls"
}
# posts_where FILE JQ-FILTER: how many posts match
posts_where() {
    local out
    out=$(jq -c "select($2)" "$1") || { echo "jq failed on: $2" >&2; echo -1; return; }
    [ -z "$out" ] && echo 0 || echo "$out" | wc -l
}
# Every text a post carries (fallback and blocks), one string a line.
post_texts() { jq -r '[.args.text, (.args.blocks // [] | .. | objects | .text? | strings)] | .[]' "$@"; }
# wait_posts TAG JQ-FILTER N: dump until N posts match (a bounded number of dumps); the last
# dump is left in $T/TAG.posts
wait_posts() {
    local i
    for i in $(seq 1 300); do
        dump "$1.$i"
        mv "$T/$1.$i.posts" "$T/$1.posts"
        [ "$(posts_where "$T/$1.posts" "$2")" -ge "$3" ] && return 0
        sleep 0.05
    done
    fail "timed out waiting for $3 post(s) matching $2"
}
# thread_root FILE CHANNEL USER: the ts of the post that opens USER's interview thread
thread_root() {
    jq -r --arg c "$2" --arg u "<@$3>" \
        'select(.channel == $c and .thread_ts == "" and (.args.text | contains($u)) and (.args.text | contains("your account"))) | .ts' "$1"
}

# ---- fake Matrix -----------------------------------------------------------------------------
start_matrix() {
    "$FAKE_MATRIX" > "$T/mx.out" 2> "$T/mx.err" &
    mx_pid=$!
    wait_for "$T/mx.out" '^http://127.0.0.1:'
    hs=$(head -n1 "$T/mx.out")
    export MATRIX_HOMESERVER=$hs
}
stop_matrix() {
    kill "$mx_pid"
    wait "$mx_pid" || true
    mx_pid=''
}
mx() { # mx PATH JSON: a control request; prints the answer
    curl -sS --max-time 5 -X POST -H 'Content-Type: application/json' --data-binary "$2" "$hs/_fake/$1"
}
mx_state() { curl -sS --max-time 5 "$hs/_fake/state" > "$1"; }
