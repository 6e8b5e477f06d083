#!/usr/bin/env bash
# bench/router-vs-twemproxy.sh — `scaleout router` over 2 kv shards, side by
# side with direct access to one kv shard and with nutcracker (twemproxy)
# over the same 2 shards.
#
# METHOD
#   Two `scaleout kv` shards, a router (--shard both, ketama twemproxy-compat,
#   fnv1a_64, THREADS worker threads) and nutcracker (distribution ketama,
#   hash fnv1a_64, the same two servers) run at the same time on 127.0.0.1.
#   For ROUNDS rounds, for each target in alternation (direct, router,
#   nutcracker; the order rotates every round), redis-benchmark runs
#       -c CLIENTS -d 64 -r 100000 -n N  -t set, then -t get        (no pipelining)
#       -c CLIENTS -d 64 -r 100000 -n NP -P 16 -t set, then -t get  (16 in flight per client)
#   (TESTS=mget: `mget key:__rand_int__` with 10 keys instead of -t: the
#   proxies split it over both shards and merge the replies)
#   and `scaleout bench redis://... -c CLIENTS --ratio 1:1 --value-size 64
#   --keys 100000` (test "sob": GET and SET mixed 1:1) without and with -P 16,
#   its ops/s and p99 read from its --json file.
#   ops/s and p99 come from redis-benchmark's --csv output; around each run the utime+stime
#   of the process that serves the port (the proxy; for "direct", the kv shard
#   itself) is read from /proc/PID/stat, and divided by the requests: CPU per
#   operation. Figures are medians over the rounds. Before measuring, each
#   target must answer SET/GET correctly.
#
# HOW TO READ
#   On a small shared machine redis-benchmark itself needs a core: without
#   pipelining it is often the bottleneck, so compare CPU us/op (the proxy's own
#   cost) more than ops/s. "direct" CPU/op is the kv shard's, shown for scale.
#
#   OLD_BIN=path/to/an/older/scaleout adds a fourth target, "router_old": the
#   same router flags with that binary (before/after a change, side by side
#   and in alternation on the same shards).
#   TESTS="set get" runs only those tests (default: set get sob; also: mget).
#   SIDE=1 measures the proxies at the same time (see run_side): use it to
#   compare CPU per operation on a machine whose load moves; TESTS=set/get only.
#
# USAGE
#   bench/router-vs-twemproxy.sh            # ROUNDS=3 N=100000 NP=400000 CLIENTS=50 THREADS=1
#   QUICK=1 bench/router-vs-twemproxy.sh    # 1 round, short runs
#   OLD_BIN=/tmp/scaleout-main bench/router-vs-twemproxy.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"
cd "$here/.."
BIN=${SCALEOUT_BIN:-$PWD/scaleout}
ROUNDS=${ROUNDS:-3}
N=${N:-100000}
NP=${NP:-400000}
CLIENTS=${CLIENTS:-50}
THREADS=${THREADS:-1}
TESTS=${TESTS:-set get sob}
OLD_BIN=${OLD_BIN:-}
if [ -n "${QUICK:-}" ]; then ROUNDS=1; N=20000; NP=100000; fi
command -v nutcracker >/dev/null || { echo "nutcracker is not installed (scripts/install-deps.sh)" >&2; exit 1; }
command -v redis-benchmark >/dev/null || { echo "redis-benchmark is not installed" >&2; exit 1; }

bench_init router-bench
TMP=$BENCH_TMP

bench_free_port K1; bench_free_port K2; bench_free_port RP; bench_free_port NCP; bench_free_port NCS
bench_start kv1 "$TMP/k1.log" "$BIN" kv --port "$K1" --admin-port 0; PK1=$BENCH_LAST_PID
bench_start kv2 "$TMP/k2.log" "$BIN" kv --port "$K2" --admin-port 0; PK2=$BENCH_LAST_PID
bench_wait_port "$K1" "$PK1" 10 && bench_wait_port "$K2" "$PK2" 10 || bench_die "kv did not start: $(tail -3 "$TMP"/k*.log)"
bench_start router "$TMP/router.log" "$BIN" router --listen "127.0.0.1:$RP" --admin-port 0 --threads "$THREADS" \
    --distribution ketama --ketama-compat twemproxy --hash fnv1a_64 --shard "127.0.0.1:$K1" --shard "127.0.0.1:$K2"
PR=$BENCH_LAST_PID
if [ -n "$OLD_BIN" ]; then
    bench_free_port RPO
    bench_start router_old "$TMP/router_old.log" "$OLD_BIN" router --listen "127.0.0.1:$RPO" --admin-port 0 \
        --threads "$THREADS" --distribution ketama --ketama-compat twemproxy --hash fnv1a_64 \
        --shard "127.0.0.1:$K1" --shard "127.0.0.1:$K2"
    PRO=$BENCH_LAST_PID
    bench_wait_port "$RPO" "$PRO" 10 || bench_die "the old router did not start: $(tail -3 "$TMP/router_old.log")"
fi
cat >"$TMP/nc.yml" <<YML
alpha:
  listen: 127.0.0.1:$NCP
  hash: fnv1a_64
  distribution: ketama
  redis: true
  servers:
   - 127.0.0.1:$K1:1
   - 127.0.0.1:$K2:1
YML
bench_start nutcracker "$TMP/nc.log" nutcracker -c "$TMP/nc.yml" -s "$NCS" -a 127.0.0.1; PNC=$BENCH_LAST_PID
bench_wait_port "$RP" "$PR" 10 || bench_die "router did not start: $(tail -3 "$TMP/router.log")"
bench_wait_port "$NCP" "$PNC" 10 || bench_die "nutcracker did not start: $(tail -3 "$TMP/nc.log")"

for p in $K1 $RP $NCP ${RPO:-}; do
    [ "$(redis-cli -p "$p" set bench:check ok)" = OK ] && [ "$(redis-cli -p "$p" get bench:check)" = ok ] ||
        bench_die "port $p does not answer SET/GET correctly"
done

declare -A PORT=([direct]=$K1 [router]=$RP [nutcracker]=$NCP)
declare -A PID=([direct]=$PK1 [router]=$PR [nutcracker]=$PNC)
TARGETS=(direct router nutcracker)
if [ -n "$OLD_BIN" ]; then PORT[router_old]=$RPO; PID[router_old]=$PRO; TARGETS+=(router_old); fi
NT=${#TARGETS[@]}
RES="$TMP/results"
: >"$RES"

# redis-benchmark's arguments for a test: -t NAME, or for mget the command
# itself (MGET of 10 random keys: split over both shards by the proxies; the
# keys are the ones -t set writes, key:__rand_int__)
rb_test() {
    if [ "$1" = mget ]; then
        echo mget key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ \
            key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__ key:__rand_int__
    else
        echo -t "$1"
    fi
}

run() { # target mode test
    local t=$1 mode=$2 test=$3 n=$N extra=()
    if [ "$mode" = P16 ]; then n=$NP; extra=(-P 16); fi
    local c0 c1 csv rps p99
    c0=$(bench_cpu_ticks "${PID[$t]}")
    if [ "$test" = sob ]; then
        "$BIN" bench "redis://127.0.0.1:${PORT[$t]}" -c "$CLIENTS" -n "$n" -P "${extra[1]:-1}" --ratio 1:1 \
            --value-size 64 --keys 100000 --progress off --json "$TMP/sob.json" >/dev/null 2>&1
        c1=$(bench_cpu_ticks "${PID[$t]}")
        read -r rps p99 < <(/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["steps"][0]; print(s["requests_per_s"], s["latency_us"]["p99"] / 1000)' "$TMP/sob.json")
    else
    csv=$(redis-benchmark -p "${PORT[$t]}" -c "$CLIENTS" -d 64 -r 100000 -n "$n" "${extra[@]}" --csv $(rb_test "$test") 2>/dev/null | tail -1)
    c1=$(bench_cpu_ticks "${PID[$t]}")
    rps=$(echo "$csv" | awk -F'","' '{print $2}')
    p99=$(echo "$csv" | awk -F'","' '{print $7}')
    fi
    local us
    us=$(bench_us_per "$c0" "$c1" "$n")
    echo "$t $mode $test $rps $p99 $us" >>"$RES"
}

# SIDE=1: the proxies (router, nutcracker, router_old) are measured at the same
# time, one redis-benchmark each, so that all of them see the same machine
# load (on a shared machine the load moves more between runs than the
# proxies differ); direct runs alone. Only redis-benchmark tests (set, get).
run_side() { # mode test
    local mode=$1 test=$2 n=$N extra=() t
    if [ "$mode" = P16 ]; then n=$NP; extra=(-P 16); fi
    declare -A c0 bp
    for t in "${TARGETS[@]}"; do
        [ "$t" = direct ] && continue
        c0[$t]=$(bench_cpu_ticks "${PID[$t]}")
        redis-benchmark -p "${PORT[$t]}" -c "$CLIENTS" -d 64 -r 100000 -n "$n" "${extra[@]}" --csv $(rb_test "$test") \
            >"$TMP/side.$t" 2>/dev/null & bp[$t]=$!
    done
    for t in "${!bp[@]}"; do
        wait "${bp[$t]}"
        local c1 csv rps p99 us
        c1=$(bench_cpu_ticks "${PID[$t]}")
        csv=$(tail -1 "$TMP/side.$t")
        rps=$(echo "$csv" | awk -F'","' '{print $2}')
        p99=$(echo "$csv" | awk -F'","' '{print $7}')
        us=$(bench_us_per "${c0[$t]}" "$c1" "$n")
        echo "$t $mode $test $rps $p99 $us" >>"$RES"
    done
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
if [ -n "${SIDE:-}" ]; then
    for r in $(seq 1 "$ROUNDS"); do
        for mode in noP P16; do
            for test in $TESTS; do
                [ "$test" = sob ] && continue
                run direct "$mode" "$test"
                run_side "$mode" "$test"
            done
        done
        echo "round $r of $ROUNDS done (side by side)" >&2
    done
else
for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((NT - 1))); do
        t=${TARGETS[$(( (i + r) % NT ))]}
        for mode in noP P16; do
            for test in $TESTS; do
                run "$t" "$mode" "$test"
            done
        done
    done
    echo "round $r of $ROUNDS done" >&2
done
fi

median() { bench_col_median "$RES" "$4" "$1" "$2" "$3"; }
echo
echo "$(date -u +%Y-%m-%d) router-vs-twemproxy${SIDE:+ (SIDE=1: proxies side by side)}: ROUNDS=$ROUNDS N=$N NP=$NP CLIENTS=$CLIENTS THREADS=$THREADS, $(nproc) cores, $(( $(date +%s) - T0 )) s"
echo "load average (1/5/15 min) before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$BIN" --version)${OLD_BIN:+ (router_old: $OLD_BIN)}, $(nutcracker --version 2>&1 | head -1), $(redis-benchmark --version)"
printf "%-11s %-4s %-4s %12s %9s %12s %10s %10s\n" target mode test "ops/s" "p99 ms" "CPU us/op" "x direct" "CPU x nc"
for mode in noP P16; do
    for test in $TESTS; do
        [ -n "${SIDE:-}" ] && [ "$test" = sob ] && continue
        d=$(median direct "$mode" "$test" 4)
        ncc=$(median nutcracker "$mode" "$test" 6)
        for t in "${TARGETS[@]}"; do
            rps=$(median "$t" "$mode" "$test" 4)
            p99=$(median "$t" "$mode" "$test" 5)
            cpu=$(median "$t" "$mode" "$test" 6)
            printf "%-11s %-4s %-4s %12.0f %9.3f %12.2f %10s %10s\n" "$t" "$mode" "$test" "$rps" "$p99" "$cpu" \
                "$(bench_ratio "$rps" "$d")" "$([ "$t" = direct ] && echo - || bench_ratio "$cpu" "$ncc")"
        done
    done
done
