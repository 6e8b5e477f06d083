#!/usr/bin/env bash
# bench/slow-clients.sh — what 1,000 slow clients cost the normal ones
# (issue 7, item 8). A benchmark, not a test: it measures and prints.
#
# METHOD
#   lb: scaleout lb (1 thread, defaults: timeout-header 10s) in front of one
#       nginx backend answering `return 200 "ok\n"`. Normal clients:
#       `scaleout bench http://... --rate LB_RATE -c CONNS -d DURATION` (open
#       loop: latency counts from the scheduled send time, so a stall shows).
#       Slow clients: SLOW connections that send "GET / HTTP/1.1 ... X-Slow: "
#       and then one byte a second (`scaleout bench --slow SLOW URL`); the lb
#       cuts each at timeout-header with 408 and it connects again.
#   kv: scaleout kv (1 thread, defaults). Normal clients: `scaleout bench
#       redis://... --rate KV_RATE -c CONNS -d DURATION` (9:1 GET:SET).
#       Slow clients: SLOW connections that send "*3 $3 SET $8 slow:key
#       $1000000" and then one byte of the value a second
#       (`scaleout bench --slow SLOW redis://...`): partial commands that
#       never end. The slow-client generator is C (src/bench/slow.c: one epoll
#       loop, one timer spreading the bytes over each second); the Python
#       asyncio one it replaced cost 6-7x its CPU (1,000 clients for 20 s,
#       utime+stime: 0.25-0.36 s against 1.72-2.26 s, resp and http).
#   Anchors (ANCHORS=1, the default), in the same run and the same way:
#   HAProxy (mode http, 1 thread, `timeout http-request 10s`, the same nginx
#   backend) under the lb's slow-header clients and load, and redis-server
#   (--save '' --appendonly no) under kv's partial-RESP clients and load, so
#   each server's ratio reads side by side with its anchor's.
#   PIN=1: every server under test (lb, kv, haproxy, redis-server) runs on
#   CPU 0 (taskset -c 0); the load generator, the slow-client generator and
#   the nginx backend on CPU 1, so the generators do not preempt the server.
#   PIN=0 (default): nothing pinned (the scheduler mixes them on all CPUs).
#   Each round measures the normal clients alone ("base") and with the SLOW
#   slow clients connected ("slow"), the order reversed every other round;
#   the slow clients are all connected (and have sent their first bytes)
#   before the measured run starts. Figures are medians over ROUNDS of the
#   bench's p99 (spread: (max - min) / median); the ratio is slow / base
#   (goal: at most 1.2). "server CPU" is the lb's or kv's utime+stime over the
#   measured run, in % of one core: the steadier figure of what the slow
#   clients cost the server itself when the machine is shared. The two
#   generator columns are the same for the load generator (`scaleout bench`,
#   alone / with the slow clients) and the slow-client generator:
#   what competes with the server for the CPUs.
#
# USAGE
#   bench/slow-clients.sh                 (ROUNDS=3 DURATION=8 SLOW=1000 LB_RATE=1000 KV_RATE=2000 CONNS=20 PIN=0 ANCHORS=1 SLOW_TICK=1ms)
#   SLOW_TICK=10ms bench/slow-clients.sh  (the slow clients due in 10 ms send together: bursts of 10,
#                                          the only pacing before 2026-11-30)
#   PIN=1 bench/slow-clients.sh           (servers on CPU 0, generators and backend on CPU 1; needs 2+ CPUs)
#   ANCHORS=0 bench/slow-clients.sh       (lb and kv only, as before)
#   PORT_BASE=22100 bench/slow-clients.sh (use PORT_BASE..PORT_BASE+6 instead of random free ports)
#   Results go to stdout as a Markdown table (docs/BENCHMARKS.md), followed by
#   the machine's load (uptime before and after, and the CPU the whole machine
#   was busy over the run, in cores).
#
# Needs: nginx, python3; with ANCHORS=1 haproxy and redis-server; with PIN=1
# taskset (scripts/install-deps.sh installs them).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
SLOW=${SLOW:-1000}
LB_RATE=${LB_RATE:-1000}
KV_RATE=${KV_RATE:-2000}
CONNS=${CONNS:-20}
SLOW_TICK=${SLOW_TICK:-1ms}
PIN=${PIN:-0}
ANCHORS=${ANCHORS:-1}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}

tools="nginx python3"
[ "$ANCHORS" = 1 ] && tools="$tools haproxy redis-server"
[ "$PIN" = 1 ] && tools="$tools taskset"
for tool in $tools; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed (scripts/install-deps.sh)"
done
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
ulimit -n 16384 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((SLOW * 2 + 256)) ] || bench_die "open-file limit $(ulimit -n) too low for SLOW=$SLOW"

if [ "$PIN" = 1 ]; then
    [ "$(nproc)" -ge 2 ] || bench_die "PIN=1 needs 2 CPUs"
    PIN_SRV=(taskset -c 0); PIN_GEN=(taskset -c 1)
    PIN_DESC="servers CPU 0, generators CPU 1"
else
    PIN_SRV=(); PIN_GEN=(); PIN_DESC="none"
fi

bench_init slow-clients
UPTIME0=$(uptime)
BUSY0=$(bench_sys_busy_ticks); WALL0=$(date +%s)
next_port() {   # next_port VAR
    if [ -n "${PORT_BASE:-}" ]; then
        printf -v "$1" '%s' "$PORT_BASE"
        PORT_BASE=$((PORT_BASE + 1))
    else
        bench_free_port "$1"
    fi
}
next_port B; next_port L; next_port LA; next_port K; next_port KA; next_port H; next_port R

mkdir -p "$BENCH_TMP/backend"
cat >"$BENCH_TMP/backend/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $BENCH_TMP/backend/nginx.pid;
error_log $BENCH_TMP/backend/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $BENCH_TMP/backend;
    proxy_temp_path $BENCH_TMP/backend;
    fastcgi_temp_path $BENCH_TMP/backend;
    uwsgi_temp_path $BENCH_TMP/backend;
    scgi_temp_path $BENCH_TMP/backend;
    server { listen 127.0.0.1:$B; location / { return 200 "ok\n"; } }
}
EOF
bench_start backend "$BENCH_TMP/backend/log" "${PIN_GEN[@]}" "$(command -v nginx)" -p "$BENCH_TMP/backend" -c "$BENCH_TMP/backend/nginx.conf"
bench_wait_port "$B" "$BENCH_LAST_PID" 10 || bench_die "nginx did not start"
bench_start lb "$BENCH_TMP/lb.log" "${PIN_SRV[@]}" "$SCALEOUT" lb --listen "127.0.0.1:$L" --admin-port "$LA" --backend "127.0.0.1:$B"
bench_wait_port "$L" "$BENCH_LAST_PID" 10 || bench_die "lb did not start: $(cat "$BENCH_TMP/lb.log")"
LB_PID=$BENCH_LAST_PID
bench_start kv "$BENCH_TMP/kv.log" "${PIN_SRV[@]}" "$SCALEOUT" kv --port "$K" --bind 127.0.0.1 --admin-port "$KA"
bench_wait_port "$K" "$BENCH_LAST_PID" 10 || bench_die "kv did not start: $(cat "$BENCH_TMP/kv.log")"
KV_PID=$BENCH_LAST_PID
TARGETS="lb kv"
if [ "$ANCHORS" = 1 ]; then
    # HAProxy as the lb's anchor: one thread, one backend, the lb's header timeout
    cat >"$BENCH_TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    timeout connect 3s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    timeout http-request 10s
frontend fe
    bind 127.0.0.1:$H
    default_backend be
backend be
    server b1 127.0.0.1:$B
EOF
    bench_start haproxy "$BENCH_TMP/haproxy.log" "${PIN_SRV[@]}" "$(command -v haproxy)" -db -f "$BENCH_TMP/haproxy.cfg"
    bench_wait_port "$H" "$BENCH_LAST_PID" 10 || bench_die "haproxy did not start: $(cat "$BENCH_TMP/haproxy.log")"
    HA_PID=$BENCH_LAST_PID
    bench_start redis "$BENCH_TMP/redis.log" "${PIN_SRV[@]}" "$(command -v redis-server)" --port "$R" --bind 127.0.0.1 \
        --save '' --appendonly no --maxclients 10000
    bench_wait_port "$R" "$BENCH_LAST_PID" 10 || bench_die "redis-server did not start: $(cat "$BENCH_TMP/redis.log")"
    RD_PID=$BENCH_LAST_PID
    TARGETS="lb haproxy kv redis"
fi

declare -A URL=([lb]="http://127.0.0.1:$L/" [kv]="redis://127.0.0.1:$K")
declare -A RATE=([lb]=$LB_RATE [kv]=$KV_RATE)
declare -A PORT=([lb]=$L [kv]=$K)
declare -A ADMIN=([lb]=$LA [kv]=$KA)
declare -A SPID=([lb]=$LB_PID [kv]=$KV_PID)
declare -A WHAT=([lb]="lb (slow headers)" [kv]="kv (partial RESP)")
if [ "$ANCHORS" = 1 ]; then
    URL[haproxy]="http://127.0.0.1:$H/"; RATE[haproxy]=$LB_RATE; PORT[haproxy]=$H
    SPID[haproxy]=$HA_PID; WHAT[haproxy]="haproxy (slow headers, anchor)"
    URL[redis]="redis://127.0.0.1:$R"; RATE[redis]=$KV_RATE; PORT[redis]=$R
    SPID[redis]=$RD_PID; WHAT[redis]="redis-server (partial RESP, anchor)"
fi

# measure WHO OUT [SLOWPID]: one open-loop run; prints "p99_us requests errors
# server_cpu_pct loadgen_cpu_pct slowgen_cpu_pct" (the generators' CPU: the
# bench, and the slow-client generator SLOWPID or "-" without one)
measure() {
    local who=$1 out=$2 spid=${3:-} t0 t1 g0 g1 s0=0 s1=0
    t0=$(bench_cpu_ticks "${SPID[$who]}")
    [ -n "$spid" ] && s0=$(bench_cpu_ticks "$spid")
    bench_children_ticks g0
    bench_run $((DURATION + 30)) "${PIN_GEN[@]}" "$SCALEOUT" bench "${URL[$who]}" --rate "${RATE[$who]}" -c "$CONNS" \
        -d "${DURATION}s" --progress off --json "$out" >/dev/null
    t1=$(bench_cpu_ticks "${SPID[$who]}")
    bench_children_ticks g1
    [ -n "$spid" ] && s1=$(bench_cpu_ticks "$spid")
    python3 - "$out" "$(( (t1 - t0) * 100 / BENCH_CLK_TCK ))" "$DURATION" "$(( (g1 - g0) * 100 / BENCH_CLK_TCK ))" \
        "${spid:+$(( (s1 - s0) * 100 / BENCH_CLK_TCK ))}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def find(o):
    if isinstance(o, dict):
        if "latency_us" in o and "errors" in o:
            return o
        o = list(o.values())
    if isinstance(o, list):
        for v in o:
            r = find(v)
            if r:
                return r
    return None
s = find(d)
secs = float(sys.argv[3])
print(s["latency_us"]["p99"], s["requests"], s["errors"]["total"], "%.1f" % (float(sys.argv[2]) / secs),
      "%.1f" % (float(sys.argv[4]) / secs), "%.1f" % (float(sys.argv[5]) / secs) if sys.argv[5] else "-")
PY
}

# with_slow WHO ROUND: start SLOW slow clients, wait until all are connected
with_slow() {
    local who=$1 log=$BENCH_TMP/slow-$1-$2.log i
    bench_start "slow $who" "$log" "${PIN_GEN[@]}" "$SCALEOUT" bench --slow "$SLOW" "${URL[$who]}" \
        --slow-tick "$SLOW_TICK" -d "$((DURATION + 15))s"
    SLOW_PID=$BENCH_LAST_PID
    for i in $(seq 1 600); do
        grep -q '^ready' "$log" 2>/dev/null && return 0
        grep -q '^only' "$log" 2>/dev/null && bench_die "slow clients: $(cat "$log")"
        kill -0 "$SLOW_PID" 2>/dev/null || bench_die "slow clients died: $(cat "$log")"
        sleep 0.05
    done
    bench_die "slow clients not connected after 30 s"
}

# clients WHO: connected clients the server reports on its admin /status
clients() {
    if [ "$1" = redis ]; then
        redis-cli -p "$R" info clients 2>/dev/null | awk -F: '/^connected_clients:/ { sub(/\r/, "", $2); print $2; f = 1 }
            END { if (!f) print "?" }'
        return
    fi
    [ -n "${ADMIN[$1]:-}" ] || { echo "?"; return; }
    curl -s "http://127.0.0.1:${ADMIN[$1]}/status" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("clients", d.get("connected_clients", "?")))' \
        2>/dev/null || echo "?"
}

declare -A RES CPU GEN SGEN
for who in $TARGETS; do
    bench_log "warm-up $who"
    measure "$who" "$BENCH_TMP/warm-$who.json" >/dev/null
done
for r in $(seq 1 "$ROUNDS"); do
    for who in $TARGETS; do
        order="base slow"
        [ $((r % 2)) -eq 0 ] && order="slow base"
        for kind in $order; do
            if [ "$kind" = slow ]; then
                with_slow "$who" "$r"
                bench_log "round $r $who: $(clients "$who") clients connected before the run"
            fi
            if [ "$kind" = slow ]; then
                res=$(measure "$who" "$BENCH_TMP/$who-$kind-$r.json" "$SLOW_PID")
            else
                res=$(measure "$who" "$BENCH_TMP/$who-$kind-$r.json")
            fi
            read -r p99 _ _ cpu gcpu scpu <<<"$res"
            if [ "$kind" = slow ]; then
                bench_log "round $r $who slow: p99_us requests errors cpu% loadgen% slowgen% = $res ($(clients "$who") clients at the end)"
                bench_stop "$SLOW_PID" 5 || true
            else
                bench_log "round $r $who base: p99_us requests errors cpu% loadgen% slowgen% = $res"
            fi
            RES[$who-$kind]="${RES[$who-$kind]:-} $p99"
            CPU[$who-$kind]="${CPU[$who-$kind]:-} $cpu"
            GEN[$who-$kind]="${GEN[$who-$kind]:-} $gcpu"
            [ "$kind" = slow ] && SGEN[$who]="${SGEN[$who]:-} $scpu"
        done
    done
done

med() { tr ' ' '\n' | grep -v '^$' | bench_median; }
spread() { tr ' ' '\n' | grep -v '^$' | bench_spread_pct; }
echo "| target | normal load | p99 alone (spread) | p99 with $SLOW slow clients, tick $SLOW_TICK (spread) | ratio | server CPU alone / with | CPU pinning | load generator CPU alone / with | slow-client generator CPU |"
echo "|---|---|---|---|---|---|---|---|---|"
for who in $TARGETS; do
    b=$(echo "${RES[$who-base]}" | med); s=$(echo "${RES[$who-slow]}" | med)
    bs=$(echo "${RES[$who-base]}" | spread); ss=$(echo "${RES[$who-slow]}" | spread)
    cb=$(echo "${CPU[$who-base]}" | med); cs=$(echo "${CPU[$who-slow]}" | med)
    desc="${RATE[$who]} req/s open loop, $CONNS conns, ${DURATION}s x $ROUNDS"
    gb=$(echo "${GEN[$who-base]}" | med); gs=$(echo "${GEN[$who-slow]}" | med); sg=$(echo "${SGEN[$who]}" | med)
    printf '| %s | %s | %.0f us (%s%%) | %.0f us (%s%%) | %sx | %s%% / %s%% | %s | %s%% / %s%% | %s%% |\n' "${WHAT[$who]}" "$desc" \
        "$b" "$bs" "$s" "$ss" "$(bench_ratio "$s" "$b")" "$cb" "$cs" "$PIN_DESC" "$gb" "$gs" "$sg"
done
BUSY1=$(bench_sys_busy_ticks); WALL1=$(date +%s)
echo
echo "Machine load: before \`$(echo "$UPTIME0" | sed 's/^ *//')\`; after \`$(uptime | sed 's/^ *//')\`;" \
    "all CPUs busy $(awk -v a="$BUSY0" -v b="$BUSY1" -v t=$((WALL1 - WALL0)) -v hz="$BENCH_CLK_TCK" \
        'BEGIN { printf "%.2f", (t > 0) ? (b - a) / hz / t : 0 }') cores on average over the $((WALL1 - WALL0)) s run ($(nproc) CPUs)."
