#!/bin/sh
# Installs the Debian packages scaleout needs to build and test, when missing.
# Runs apt-get update once, only if something is missing. Idempotent.
set -e
PKGS="build-essential pkg-config clang libuv1-dev libxxhash-dev libcriterion-dev
      python3 python3-pytest python3-redis python3-requests
      redis-server redis-tools curl procps nginx wrk chromium"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install:$missing" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
# Debian starts redis-server as a service on install; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true; fi
