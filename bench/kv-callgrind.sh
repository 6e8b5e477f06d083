#!/bin/sh
# kv-callgrind.sh — user-space instructions and syscalls per request, scaleout kv
# vs redis-server, counted (not timed): callgrind counts the instructions each
# server executes for N unpipelined GETs and SETs (kernel time excluded; both
# servers make one read and one write syscall per unpipelined request, which
# /proc/PID/io shows outside valgrind). Repeatable on a busy machine, where
# timings are not.
# Loopback only; stops only the servers it started.
#
#   bench/kv-callgrind.sh            (SCALEOUT_BIN=./scaleout N=20000 TESTS="set get")
#   TESTS="zadd zpopmin" bench/kv-callgrind.sh   (any redis-benchmark -t names)
set -eu
SCALEOUT_BIN=${SCALEOUT_BIN:-./scaleout}
N=${N:-20000}
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is needed" >&2; exit 1; }
tmp=$(mktemp -d)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { i=0; until redis-cli -p "$1" ping >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 300 ] && { echo "server on $1 did not start" >&2; exit 1; }; sleep 0.1; done; }

ps_=$(free_port); pr=$(free_port)
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.scaleout" "$SCALEOUT_BIN" kv --port "$ps_" --admin-port 0 >"$tmp/s.log" 2>&1 &
vs=$!; pids="$pids $vs"
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.redis" redis-server --port "$pr" --save '' --appendonly no >"$tmp/r.log" 2>&1 &
vr=$!; pids="$pids $vr"
wait_ready "$ps_"; wait_ready "$pr"

printf '%-6s %-9s %14s %10s\n' test server instructions instr/req
for t in ${TESTS:-set get}; do
  for s in scaleout redis; do
    if [ $s = scaleout ]; then p=$ps_; pid=$vs; else p=$pr; pid=$vr; fi
    redis-benchmark -p "$p" -t set -n 2000 -r 1000 -d 64 -c 10 -q >/dev/null 2>&1
    callgrind_control -z "$pid" >/dev/null 2>&1
    redis-benchmark -p "$p" -t "$t" -n "$N" -r 1000 -d 64 -c 10 -q >/dev/null 2>&1
    rm -f "$tmp/cg.$s".*
    callgrind_control -d "$pid" >/dev/null 2>&1
    f=$(ls "$tmp/cg.$s".* | tail -1)
    ir=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
    printf '%-6s %-9s %14s %10s\n' "$t" "$s" "$ir" "$((ir / N))"
  done
done
