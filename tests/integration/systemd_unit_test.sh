#!/usr/bin/env bash
# deploy/postmortem-bot.service passes `systemd-analyze verify` (binary path pointed at this build).
source "$(dirname "$0")/lib.sh" "$@"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (apt-get install systemd)"
mkdir -p "$T/unit"
sed "s|/usr/local/bin/postmortem-bot|$BIN|g" "$SRC/deploy/postmortem-bot.service" > "$T/unit/postmortem-bot.service"
systemd-analyze verify --man=no "$T/unit/postmortem-bot.service" > "$T/verify" 2>&1 || { cat "$T/verify"; fail "verify exit code"; }
if [ -s "$T/verify" ]; then cat "$T/verify"; fail "systemd-analyze verify reported problems"; fi
grep -q '^ProtectSystem=strict' "$T/unit/postmortem-bot.service" || fail "ProtectSystem=strict missing"
grep -q '^NoNewPrivileges=yes' "$T/unit/postmortem-bot.service" || fail "NoNewPrivileges missing"
pass "systemd unit"
