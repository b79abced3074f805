#!/bin/sh
# Installs the Debian 12 packages postmortem-bot needs to build and test. Idempotent: does
# nothing when everything is present. Runs apt-get as root, or through sudo.
set -eu
packages="build-essential cmake ninja-build pkg-config ccache ca-certificates openssl tzdata faketime
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev libspdlog-dev doctest-dev
  libsqlite3-dev libhowardhinnant-date-dev libtomlplusplus-dev sqlite3 systemd curl jq"
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
as_root=""
[ "$(id -u)" = 0 ] || as_root="sudo"
echo "installing:$missing" >&2
$as_root apt-get update -qq
# Never the unversioned libboost-dev: it is 1.74 and would remove the 1.81 packages.
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
