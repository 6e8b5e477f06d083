#!/usr/bin/env bash
# bench/kv-cpu-split.sh — where a kv request's server CPU goes without
# pipelining: user time and kernel time per request, scaleout kv beside
# redis-server, and the system calls each makes per request.
#
# Both servers run at once (--save '' --appendonly no, or with AOF=mode the
# append-only file on with that appendfsync, in a temporary dir); for ROUNDS rounds,
# in alternation, `redis-benchmark -c 50 -d 64 -r 100000 -n N -t set|get`
# runs against each, and utime and stime (fields 14 and 15 of /proc/PID/stat,
# all threads) are read around the run: their differences over N are the user
# and the kernel microseconds per request. With STRACE=1, one more GET run per
# server under `strace -c -f` counts the system calls (strace slows the
# server: its counts, not its times, are the figure).
#
#   bench/kv-cpu-split.sh                  # ROUNDS=2 N=300000
#   STRACE=1 bench/kv-cpu-split.sh
#   AOF=everysec TESTS=set bench/kv-cpu-split.sh   # both with appendonly yes, that appendfsync
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SCALEOUT_BIN:-./build/scaleout}
ROUNDS=${ROUNDS:-2}
N=${N:-300000}
RPORT=${RPORT:-7401}
KPORT=${KPORT:-7402}
TCK=$(getconf CLK_TCK)
TESTS=${TESTS:-set get}
PERSIST=(--save '' --appendonly no)
if [ -n "${AOF:-}" ]; then
    PERSIST=(--save '' --appendonly yes --appendfsync "$AOF")
fi
WORK=$(mktemp -d)
mkdir -p "$WORK/redis" "$WORK/kv"

redis-server --port "$RPORT" --bind 127.0.0.1 "${PERSIST[@]}" --dir "$WORK/redis" >/dev/null 2>&1 &
RPID=$!
"$BIN" kv --port "$KPORT" --bind 127.0.0.1 "${PERSIST[@]}" --dir "$WORK/kv" >/dev/null 2>&1 &
KPID=$!
trap 'kill $RPID $KPID 2>/dev/null || true; sleep 0.2; rm -rf "$WORK"' EXIT
for p in "$RPORT" "$KPORT"; do
    for _ in $(seq 50); do redis-cli -p "$p" PING >/dev/null 2>&1 && break; sleep 0.1; done
done

measure() { # name pid port test
    local u0 s0 u1 s1
    read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$2/stat")
    redis-benchmark -p "$3" -c 50 -d 64 -r 100000 -n "$N" -t "$4" -q >/dev/null
    read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$2/stat")
    awk -v n="$1" -v t="$4" -v du=$((u1 - u0)) -v ds=$((s1 - s0)) -v tck="$TCK" -v req="$N" \
        'BEGIN { printf "| %s | %s | %.2f | %.2f | %.2f |\n", t, n, du / tck / req * 1e6, ds / tck / req * 1e6,
                 (du + ds) / tck / req * 1e6 }'
}

echo "| test | server | user µs/req | kernel µs/req | total µs/req |"
echo "|---|---|--:|--:|--:|"
for _ in $(seq "$ROUNDS"); do
    for t in $TESTS; do
        measure redis "$RPID" "$RPORT" "$t"
        measure scaleout "$KPID" "$KPORT" "$t"
    done
done

if [ "${STRACE:-0}" = 1 ]; then
    for s in "redis:$RPID:$RPORT" "scaleout:$KPID:$KPORT"; do
        IFS=: read -r name pid port <<<"$s"
        out=$(mktemp)
        strace -qq -c -f -p "$pid" -o "$out" 2>/dev/null &
        spid=$!
        sleep 0.5
        redis-benchmark -p "$port" -c 50 -n 100000 -t get -q >/dev/null
        kill -INT "$spid"
        wait "$spid" 2>/dev/null || true
        echo "$name, 100000 GETs: $(awk '$NF ~ /^(read|write|epoll_wait|epoll_ctl)$/ { printf "%s %s  ", $NF, $(NF-1) ~ /^[0-9]+$/ && NF == 6 ? $(NF-2) : $(NF-1) }' "$out")"
        rm -f "$out"
    done
fi
