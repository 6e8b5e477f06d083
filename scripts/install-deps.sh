#!/bin/sh
# Installs the Debian packages scaleout needs to build and test, when missing.
# Runs apt-get update once, only if something is missing. Idempotent.
set -e
PKGS="build-essential pkg-config clang libuv1-dev libxxhash-dev libcriterion-dev libpq-dev libssl-dev
      postgresql-15 pgbouncer python3 python3-pytest python3-redis python3-requests python3-yaml
      python3-psycopg2 redis-server redis-sentinel redis-tools curl procps nginx wrk chromium haproxy
      varnish openssl nutcracker libnghttp2-dev nghttp2-client liblua5.1-0-dev lua-cjson lua-bitop
      pgpool2 python3-rq liburing-dev"
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
# Debian starts some servers as services on install; the tests and benchmarks
# start their own on free loopback ports. Stop only the services this run
# installed, never one the user already had.
for svc in redis-server redis-sentinel nginx haproxy varnish nutcracker; do
    case " $missing " in
    *" $svc "*)
        if [ -d /run/systemd/system ]; then
            $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
        elif command -v service >/dev/null 2>&1; then
            $SUDO service "$svc" stop >/dev/null 2>&1 || true
        fi
        ;;
    esac
done
# postgresql-15, pgbouncer and pgpool2 start their own services on 5432 / 6432 / 5433 when
# installed: the tests start their own servers, so stop those too.
for pkg in postgresql-15:postgresql pgbouncer:pgbouncer pgpool2:pgpool2; do
    case " $missing " in
    *" ${pkg%%:*} "*)
        if [ -d /run/systemd/system ]; then
            $SUDO systemctl disable --now "${pkg#*:}" >/dev/null 2>&1 || true
        elif command -v service >/dev/null 2>&1; then
            $SUDO service "${pkg#*:}" stop >/dev/null 2>&1 || true
        fi
        ;;
    esac
done
