#!/usr/bin/env bash
# bench/lib/redis-as-scaleout.sh — a stand-in for `scaleout` that runs redis-server.
#
# It exists to validate the benchmark scripts before (or independently of) the
# real `scaleout kv`: with SCALEOUT_BIN=bench/lib/redis-as-scaleout.sh both sides of
# bench/kv-vs-redis.sh are Redis, so every ratio should come out near 1.00 and
# the spread between them shows the noise of the method on this machine.
#
#   redis-as-scaleout.sh kv --port P --bind 127.0.0.1 [--threads N] [--flag value ...]
#   redis-as-scaleout.sh --version
#
# --threads N becomes --io-threads N; every other flag is passed to redis-server
# unchanged (scaleout uses redis-server's flag spelling). It execs redis-server,
# so the PID the benchmark measures is the server's own.
set -eu
REDIS_SERVER=${REDIS_SERVER:-redis-server}

case "${1:-}" in
    --version)
        echo "redis-as-scaleout (stand-in): $("$REDIS_SERVER" --version)"
        exit 0 ;;
    kv) shift ;;
    *)  echo "usage: $0 kv --port P [--flag value ...] | --version" >&2; exit 2 ;;
esac

args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --threads)
            [ $# -ge 2 ] || { echo "$0: --threads needs a value" >&2; exit 2; }
            args+=(--io-threads "$2"); shift 2 ;;
        --threads=*)
            args+=(--io-threads "${1#--threads=}"); shift ;;
        *)
            args+=("$1"); shift ;;
    esac
done
exec "$REDIS_SERVER" "${args[@]}"
