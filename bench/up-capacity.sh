#!/usr/bin/env bash
# bench/up-capacity.sh — two of the seeds' claims measured on the running
# system that `scaleout up` starts (PostgreSQL, kv, app x N, lb):
#
#   1. N servers ≈ N× capacity. For each N in APPS, `scaleout up` runs N app
#      instances (autoscale off) with a capacity of CONC slots x SVC each
#      (ideal: N x CONC / SVC req/s), and
#          scaleout bench http://LB/products/K -c CONNS -d DURATION
#      drives GET /products/1 through the lb (cache-aside: served from kv).
#      Reported: req/s, p50/p99, errors, and req/s ÷ (N × req/s at N=1).
#   2. A cache cuts database load. With N=1, the same load runs with
#      `--product-cache none` and with `cache-aside`; reported: PostgreSQL
#      queries per 1,000 requests (the apps' db_queries_total from up's
#      status JSON) and req/s.
#
# USAGE
#   bench/up-capacity.sh                  (APPS="1 2 4" CONNS=64 DURATION=10 CONC=4 SVC=5ms)
#   APPS="1 2" DURATION=5 bench/up-capacity.sh
# Results go to stdout as Markdown (paste into docs/BENCHMARKS.md). On a busy
# or 2-core machine the lb, bench, kv and PostgreSQL share the cores with the
# apps: keep CONC/SVC low enough that the apps, not the machine, are the limit.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

APPS=${APPS:-"1 2 4"}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10}
CONC=${CONC:-4}
SVC=${SVC:-5ms}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
[ -x /usr/lib/postgresql/15/bin/postgres ] || bench_die "PostgreSQL 15 is not installed (scripts/install-deps.sh)"

bench_init up-capacity
chmod 755 "$BENCH_TMP"   # PostgreSQL runs as user postgres when we are root

# run_up N CACHE -> prints "rps p50 p99 errors dbq_per_1000"
run_up() {
    local n=$1 cache=$2 lb st la conf pid out rps p50 p99 errs q0 q1 r0 r1
    bench_free_port lb
    bench_free_port st
    bench_free_port la
    conf=$BENCH_TMP/up-$n-$cache.conf
    cat >"$conf" <<CONF
role up
dir $BENCH_TMP/data-$n-$cache
status-port $st
lb-port $lb
lb-admin-port $la
kv-port 0
pg-port 0
app-port 0
app-min $n
app-max $n
autoscale no
workers 0
app-concurrency $CONC
app-service-time $SVC
app-args "--product-cache $cache"
CONF
    bench_start "up ($n apps, $cache)" "$BENCH_TMP/up-$n-$cache.log" "$SCALEOUT" up "$conf"
    pid=$BENCH_LAST_PID
    for _ in $(seq 1 600); do
        curl -sf "127.0.0.1:$st/status" 2>/dev/null | grep -q '"ready":true' && break
        bench_alive "$pid" || bench_die "up exited: $(tail -20 "$BENCH_TMP/up-$n-$cache.log")"
        sleep 0.1
    done
    curl -sf "127.0.0.1:$st/status" | grep -q '"ready":true' || bench_die "up not ready"
    "$SCALEOUT" bench "http://127.0.0.1:$lb/products/1" -c 8 -d 1s >/dev/null 2>&1 || true   # warm: connections, cache
    q0=$(curl -sf "127.0.0.1:$st/status" | sed 's/.*"db_queries":\([0-9]*\).*/\1/')
    r0=$(curl -sf "127.0.0.1:$st/status" | sed 's/.*"app_totals":{"requests":\([0-9]*\).*/\1/')
    out=$("$SCALEOUT" bench "http://127.0.0.1:$lb/products/1" -c "$CONNS" -d "${DURATION}s" 2>/dev/null | tail -6)
    q1=$(curl -sf "127.0.0.1:$st/status" | sed 's/.*"db_queries":\([0-9]*\).*/\1/')
    r1=$(curl -sf "127.0.0.1:$st/status" | sed 's/.*"app_totals":{"requests":\([0-9]*\).*/\1/')
    rps=$(echo "$out" | awk '/requests/ { for (i = 1; i <= NF; i++) if ($i == "req/s") print $(i-1) }' | tr -d ',')
    p50=$(echo "$out" | awk '/latency/ { print $3 }')
    p99=$(echo "$out" | awk '/latency/ { print $7 }')
    errs=$(echo "$out" | awk '/errors/ { $1 = ""; print }' | sed 's/^ *//')
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 400); do bench_alive "$pid" || break; sleep 0.1; done
    bench_stop "$pid" 5 2>/dev/null || true
    echo "$rps $p50 $p99 $(( (q1 - q0) * 1000 / ((r1 - r0) > 0 ? (r1 - r0) : 1) )) ${errs:-none}"
}

echo "## up: capacity with N app instances, and the cache's effect on the database"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(bench_machine); busy: $(cat /proc/loadavg | cut -d' ' -f1-3) load average at start"
echo
echo "Each app: $CONC slots x $SVC (ideal $(awk -v c="$CONC" -v s="${SVC%ms}" 'BEGIN { printf "%d", c * 1000 / s }') req/s); bench -c $CONNS -d ${DURATION}s on GET /products/1 through the lb."
echo
echo "| apps | req/s | p50 | p99 | errors | req/s ÷ (N × 1-app) |"
echo "|--:|--:|--:|--:|---|--:|"
base=""
for n in $APPS; do
    read -r rps p50 p99 _ errs < <(run_up "$n" cache-aside)
    [ -z "$base" ] && base=$rps
    echo "| $n | $rps | $p50 | $p99 | $errs | $(awk -v r="$rps" -v b="$base" -v n="$n" 'BEGIN { printf "%.2f", r / (b * n) }') |"
done
echo
echo "| product cache (1 app) | req/s | p99 | PostgreSQL queries per 1,000 requests |"
echo "|---|--:|--:|--:|"
for c in none cache-aside; do
    read -r rps _ p99 dbq _ < <(run_up 1 "$c")
    echo "| $c | $rps | $p99 | $dbq |"
done
