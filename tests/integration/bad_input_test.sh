#!/usr/bin/env bash
# Bad input of every kind gets one clear message, and nothing changes or is lost.
source "$(dirname "$0")/lib.sh" "$@"
big=$(head -c 102400 /dev/zero | tr '\0' 'x')
{
    echo "alice: /postmortem start DB failover @bob"
    echo "alice: /postmortem launch"
    echo "bob: /postmortem finish"
    echo "this line has no speaker"
    echo "alice: a page"
    echo "alice: 25:99 restarted api-3"
    echo "bob: bob: $big"
    printf 'bob: bad \xc3\x28 bytes\n'
    echo "alice: /postmortem status"
} > "$T/in"
bot "$T/data" < "$T/in" > "$T/out" 2> "$T/err" || fail "exit code"
expect_has "$T/out" "[dm alice] I don't know the command \`launch\`."
expect_has "$T/out" "[dm bob] Only the lead of PM-1, alice, can finish it. Nothing was changed."
expect_has "$T/out" "[shell] I can't read that line: put a colon after the name: \`this: text\`"
expect_has "$T/out" "I couldn't place this line in time; please send it again:"
expect_has "$T/out" "“25:99 restarted api-3”"
expect_has "$T/out" "[dm bob] That message is 100 KB; an answer can hold 16 KB. Nothing was recorded"
expect_count "$T/out" "here is the summary" 0
expect_line "$T/out" "  - bob: partial — way_in; now at question 2 of 9"
expect_line "$T/out" "  - alice: partial — way_in; now at question 2 of 9"

# A corrupt config: every problem at once, with key and line; exit 2.
printf '[defaults]\ntimezone = "Mars/Base"\ninterviw = "dm"\n[summary]\ngap_minutes = "x"\n' > "$T/bad.toml"
set +e
"$BIN" --config "$T/bad.toml" --check-config > "$T/cfg.out" 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "--check-config exit $code"
expect_has "$T/cfg.out" "bad.toml:2: defaults.timezone: \`Mars/Base\` is not an IANA zone"
expect_has "$T/cfg.out" "bad.toml:3: defaults.interviw: unknown key; did you mean \`defaults.interview\`?"
expect_has "$T/cfg.out" "bad.toml:5: summary.gap_minutes: has the wrong type"
printf 'not toml [' > "$T/broken.toml"
set +e
"$BIN" --config "$T/broken.toml" < /dev/null > "$T/broken.out" 2>&1; code=$?
"$BIN" --config "$T/none.toml" < /dev/null > "$T/none.out" 2>&1; code2=$?
set -e
[ "$code" = 2 ] && [ "$code2" = 2 ] || fail "bad config exit codes $code $code2"
expect_has "$T/broken.out" "broken.toml:1:"
expect_has "$T/none.out" "none.toml:0: cannot read the config file"

# A data dir that cannot be created: a clear message, exit 1.
touch "$T/file"
set +e
echo "alice: hi" | "$BIN" --data-dir "$T/file/sub" > "$T/dd.out" 2>&1; code=$?
set -e
[ "$code" = 1 ] || fail "bad data dir exit $code"
expect_has "$T/dd.out" "cannot create the data directory $T/file/sub"

# The earlier state is intact after all that: a restart sees the same answers.
echo "alice: /postmortem status" | bot "$T/data" > "$T/out2" 2>/dev/null
expect_line "$T/out2" "  - bob: partial — way_in; now at question 2 of 9"

# lint: 1 when flagged, 0 when clean, 2 on a usage error.
set +e
echo "Bob should have checked the runbook." | "$BIN" lint > "$T/lint.out"; l1=$?
echo "The health check failed to fire." | "$BIN" lint > /dev/null; l0=$?
"$BIN" lint "$T/missing.txt" 2> /dev/null; l2=$?
set -e
[ "$l1$l0$l2" = "102" ] || fail "lint exit codes $l1 $l0 $l2"
expect_has "$T/lint.out" "<stdin>:1:5: should have checked — "
"$BIN" --version | grep -qE '^postmortem-bot [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
pass "bad input"
