#!/usr/bin/env bash
# bench/app-cache-strategies.sh — the app's caching strategies measured
# against each other on the running system (`scaleout up`: PostgreSQL, kv,
# one app, the lb).
#
# METHOD
#   One hot key with a short TTL, so the run crosses many expiries: for each
#   strategy S in STRATEGIES, `scaleout up` runs one app with
#       --product-cache S --cache-ttl TTL --refresh-ahead 50
#   (capacity CONC slots x SVC), then
#       scaleout bench http://LB/products/1 -c CONNS -d DURATION
#   Reported: req/s, p50/p99, and from the app's counters (up's status JSON)
#   cache misses and PostgreSQL queries per 1,000 requests. cache-aside lets
#   every concurrent miss query the database when the key expires; read-through
#   loads it once per expiry; refresh-ahead reloads it before it expires, so
#   readers should see (almost) no misses.
#
# USAGE
#   bench/app-cache-strategies.sh      (STRATEGIES="none cache-aside read-through refresh-ahead" CONNS=64 DURATION=10 TTL=1s)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

STRATEGIES=${STRATEGIES:-"none cache-aside read-through refresh-ahead"}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10}
TTL=${TTL:-1s}
CONC=${CONC:-64}
SVC=${SVC:-1ms}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
[ -x /usr/lib/postgresql/15/bin/postgres ] || bench_die "PostgreSQL 15 is not installed (scripts/install-deps.sh)"

bench_init app-cache
chmod 755 "$BENCH_TMP"

field() { sed "s/.*\"$1\":\([0-9]*\).*/\1/"; }

run() {
    local s=$1 lb st la conf pid out rps p50 p99 j0 j1 m q r
    bench_free_port lb
    bench_free_port st
    bench_free_port la
    conf=$BENCH_TMP/up-$s.conf
    cat >"$conf" <<CONF
role up
dir $BENCH_TMP/data-$s
status-port $st
lb-port $lb
lb-admin-port $la
kv-port 0
pg-port 0
app-port 0
app-min 1
app-max 1
autoscale no
workers 0
app-concurrency $CONC
app-service-time $SVC
app-args "--product-cache $s --cache-ttl $TTL --refresh-ahead 50"
CONF
    bench_start "up ($s)" "$BENCH_TMP/up-$s.log" "$SCALEOUT" up "$conf"
    pid=$BENCH_LAST_PID
    for _ in $(seq 1 600); do
        curl -sf "127.0.0.1:$st/status" 2>/dev/null | grep -q '"ready":true' && break
        bench_alive "$pid" || bench_die "up exited: $(tail -20 "$BENCH_TMP/up-$s.log")"
        sleep 0.1
    done
    j0=$(curl -sf "127.0.0.1:$st/status")
    out=$("$SCALEOUT" bench "http://127.0.0.1:$lb/products/1" -c "$CONNS" -d "${DURATION}s" 2>/dev/null | tail -6)
    j1=$(curl -sf "127.0.0.1:$st/status")
    rps=$(echo "$out" | awk '/requests/ { for (i = 1; i <= NF; i++) if ($i == "req/s") print $(i-1) }' | tr -d ',')
    p50=$(echo "$out" | awk '/latency/ { print $3 }')
    p99=$(echo "$out" | awk '/latency/ { print $7 }')
    r=$(( $(echo "$j1" | field requests) - $(echo "$j0" | field requests) ))
    m=$(( $(echo "$j1" | field cache_misses) - $(echo "$j0" | field cache_misses) ))
    q=$(( $(echo "$j1" | field db_queries) - $(echo "$j0" | field db_queries) ))
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 400); do bench_alive "$pid" || break; sleep 0.1; done
    bench_stop "$pid" 5 2>/dev/null || true
    awk -v s="$s" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v r="$r" -v m="$m" -v q="$q" \
        'BEGIN { d = r > 0 ? r : 1; printf "| %s | %s | %s | %s | %d | %.2f | %d | %.2f |\n", s, rps, p50, p99, m, m * 1000 / d, q, q * 1000 / d }'
}

echo "## app caching strategies against each other"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(bench_machine); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "One app ($CONC slots x $SVC), product cache TTL $TTL (refresh-ahead at 50%); bench -c $CONNS -d ${DURATION}s on GET /products/1 through the lb."
echo
echo "| strategy | req/s | p50 | p99 | cache misses | misses / 1k req | DB queries | DB queries / 1k req |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|"
for s in $STRATEGIES; do run "$s"; done
