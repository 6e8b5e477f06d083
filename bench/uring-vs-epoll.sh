#!/usr/bin/env bash
# bench/uring-vs-epoll.sh — would io_uring cut the kernel's cost per request?
#
# WHY
#   Without pipelining, 80-90% of the CPU time of scaleout kv, router and pg
#   (and of redis-server, nutcracker and PgBouncer) is spent in the kernel:
#   one read and one write per request per socket, plus a share of an
#   epoll_wait. io_uring can take every socket's reads and writes of a loop
#   turn in one system call. This measures what that is worth before any
#   role is rebuilt on it.
#
# METHOD
#   bench/lib/pingpong.c answers +PONG per line with either loop (see its
#   header). For ROUNDS rounds, alternating which goes first, each mode is
#   started on its own port and driven by
#       redis-benchmark -t ping_inline -c CONNS -n N [-P P]
#   (10 x N requests when P > 1). The server's utime+stime (/proc/PID/stat)
#   over the run divided by the requests is the
#   CPU time per request; the figure is the median over the rounds.
#   Needs liburing-dev (scripts/install-deps.sh installs it).
#
# USAGE  bench/uring-vs-epoll.sh        ROUNDS=5 N=300000 CONNS=50 PIPES="1 16" PORT=29100
set -euo pipefail
ROUNDS=${ROUNDS:-5}
N=${N:-300000}
CONNS=${CONNS:-50}
PIPES=${PIPES:-"1 16"}
PORT=${PORT:-29100}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -Wextra -o "$tmp/pingpong" "$here/lib/pingpong.c" -luring
tck=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# one_run MODE PIPE PORT -> "cpu_us_per_req req_per_s"
# (pipelined runs send 10 x N requests, so that the CPU time is many clock ticks)
one_run() {
    local mode=$1 pipe=$2 port=$3 pid t0 t1 rps n=$N
    (( pipe > 1 )) && n=$((N * 10))
    "$tmp/pingpong" "$mode" "$port" &
    pid=$!
    for _ in $(seq 100); do
        redis-cli -p "$port" ping >/dev/null 2>&1 && break
        sleep 0.05
    done
    t0=$(cpu_ticks "$pid")
    rps=$(redis-benchmark -p "$port" -t ping_inline -c "$CONNS" -n "$n" -P "$pipe" --csv 2>/dev/null |
          awk -F, '/PING_INLINE/ {gsub(/"/, "", $2); print $2}')
    t1=$(cpu_ticks "$pid")
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo "$(echo "($t1 - $t0) * 1000000 / $tck / $n" | bc -l) $rps"
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)  rounds=$ROUNDS n=$N conns=$CONNS"
printf '%-5s %-6s %12s %12s\n' "-P" mode "cpu us/req" "req/s"
# every run gets a port of its own: an io_uring server's listening socket is
# released by the kernel's ring teardown, shortly after the process is gone
port=$PORT
for pipe in $PIPES; do
    : > "$tmp/epoll"; : > "$tmp/uring"
    for r in $(seq "$ROUNDS"); do
        if (( r % 2 )); then order="epoll uring"; else order="uring epoll"; fi
        for m in $order; do
            port=$((port + 1))
            one_run "$m" "$pipe" "$port" >> "$tmp/$m"
        done
    done
    for m in epoll uring; do
        c=$(cut -d' ' -f1 "$tmp/$m" | median); q=$(cut -d' ' -f2 "$tmp/$m" | median)
        printf '%-5s %-6s %12.3f %12.0f\n' "$pipe" "$m" "$c" "$q"
        eval "c_$m=$c"
    done
    printf '%-5s %-6s %12.3f\n' "$pipe" "ratio" "$(echo "$c_uring / $c_epoll" | bc -l)"
done
