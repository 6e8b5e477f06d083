#!/usr/bin/env bash
# bench/queue-vs-redis.sh — kv as an event bus and a job queue, side by side
# with redis-server: PUBLISH fan-out to 100 subscribers, XADD throughput, and
# XREADGROUP + XACK with 4 consumers (throughput, end-to-end latency p50/p99).
#
# METHOD
#   Both servers run at the same time on 127.0.0.1 (--save '' --appendonly no;
#   scaleout also --threads T). For ROUNDS rounds, alternating which server
#   goes first:
#   PUBLISH: bench/lib/queue_clients.py connects SUBS (100) subscribers of one
#     channel (one selector loop; it counts bytes, every frame has the same
#     size, so no parsing limits it) and says "ready"; the server must then
#     report PUBSUB NUMSUB = SUBS. redis-benchmark -c 4 -P 16 -n N sends
#     `PUBLISH bench:ch <PAYLOAD bytes>`; the helper waits until every
#     subscriber got all N messages. messages/s = N / (time from the start of
#     redis-benchmark to the last byte received); deliveries = N x SUBS,
#     checked; server CPU (utime+stime from /proc/PID/stat, all threads)
#     around the run / deliveries = CPU per delivered message.
#   XADD: redis-benchmark -c 50 -P 16 -n NX `XADD bench:x MAXLEN ~ 100000 * f
#     <PAYLOAD bytes>`: ops/s (--csv rps) and server CPU per XADD.
#   XREADGROUP+XACK: queue_clients.py stream: one producer XADDs NS entries
#     (field ts = send time) while 4 consumers of one group loop XREADGROUP
#     COUNT 50 BLOCK 100 >, XACK; acked/s over the run, and the latency from
#     XADD to the consumer's read (p50, p99); server CPU over the run per
#     entry (its XADD, XREADGROUP share and XACK).
#   The stream parts run only when both servers answer XADD; a server that
#   answers "ERR unknown command" (scaleout before its streams land) makes the
#   script print a note and skip them.
#   Every figure is the median over the rounds; ratios are scaleout / redis.
#
# HOW TO READ THE FIGURES
#   - messages/s and ops/s: above 1 is better; CPU per message/op and
#     latencies: below 1 is better.
#   - On a 2-core machine the publisher (redis-benchmark) and the Python
#     subscribers share the cores with the server: messages/s is as much the
#     clients' figure as the server's; CPU per delivered message is the
#     server's own cost and the figure to compare.
#
# USAGE
#   bench/queue-vs-redis.sh
#   QUICK=1 bench/queue-vs-redis.sh          # smoke test: 1 round, short runs
#   SCALEOUT_BIN=$PWD/bench/lib/redis-as-scaleout.sh bench/queue-vs-redis.sh
#                                            # validation: Redis on both sides
# Environment (defaults in brackets):
#   SCALEOUT_BIN [<repo>/scaleout]  THREADS [1]  ROUNDS [3]  SUBS [100]
#   N [50000] messages per PUBLISH run   PAYLOAD [64] message / field bytes
#   NX [200000] XADDs per run   NS [20000] entries through the consumer group
#   REDIS_SERVER [redis-server]  RUN_TIMEOUT [120] s per step
#   PUBSUB [1] / STREAMS [1]: set to 0 to skip a part
# Output: progress on stderr; a table, then a markdown block for
# docs/BENCHMARKS.md, on stdout.
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/lib/bench.sh"

SCALEOUT_BIN=${SCALEOUT_BIN:-$root/scaleout}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
THREADS=${THREADS:-1}
ROUNDS=${ROUNDS:-3}
SUBS=${SUBS:-100}
N=${N:-50000}
PAYLOAD=${PAYLOAD:-64}
NX=${NX:-200000}
NS=${NS:-20000}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
PUBSUB=${PUBSUB:-1}
STREAMS=${STREAMS:-1}
if [ "${QUICK:-0}" = 1 ]; then
    ROUNDS=1; N=2000; NX=20000; NS=2000
fi
CLIENTS="$here/lib/queue_clients.py"
PY=${PYTHON:-/usr/bin/python3}

command -v redis-benchmark >/dev/null || bench_die "redis-benchmark not found (redis-tools)"
command -v redis-cli >/dev/null || bench_die "redis-cli not found (redis-tools)"
command -v "$REDIS_SERVER" >/dev/null || bench_die "redis-server not found"
[ -x "$SCALEOUT_BIN" ] || bench_die "scaleout binary $SCALEOUT_BIN not built (make)"

bench_init queue-bench

declare -A PORT PID
start_servers() {
    bench_free_port PORT[redis]
    bench_start redis "$BENCH_TMP/redis.log" "$REDIS_SERVER" --port "${PORT[redis]}" --bind 127.0.0.1 \
        --save '' --appendonly no
    PID[redis]=$BENCH_LAST_PID
    bench_free_port PORT[scaleout]
    local admin=()
    # the admin endpoint on a free port (not for the Redis stand-in used to validate the method)
    if ! "$SCALEOUT_BIN" --version 2>/dev/null | grep -q stand-in; then
        local aport
        bench_free_port aport
        admin=(--admin-port "$aport")
    fi
    bench_start scaleout "$BENCH_TMP/scaleout.log" "$SCALEOUT_BIN" kv --port "${PORT[scaleout]}" \
        --bind 127.0.0.1 "${admin[@]}" --threads "$THREADS" --maxmemory 2gb
    PID[scaleout]=$BENCH_LAST_PID
    for s in redis scaleout; do
        bench_wait_port "${PORT[$s]}" "${PID[$s]}" 10 || bench_die "$s did not start: $(tail -5 "$BENCH_TMP/$s.log")"
        [ "$(redis-cli -p "${PORT[$s]}" PING)" = PONG ] || bench_die "$s does not answer PING"
    done
}

now() { date +%s.%N; }

# pubsub_run SERVER: one PUBLISH fan-out run; prints "msgs_per_s cpu_ns_per_delivery"
pubsub_run() {
    local s=$1 port=${PORT[$1]} out="$BENCH_TMP/subs.$1.out" payload t0 c0 c1 end delivered
    payload=$(head -c "$PAYLOAD" /dev/zero | tr '\0' p)
    "$PY" "$CLIENTS" subs "$port" "$SUBS" bench:ch "$PAYLOAD" "$N" "$RUN_TIMEOUT" >"$out" &
    local helper=$!
    for _ in $(seq 1 400); do
        grep -q ready "$out" 2>/dev/null && break
        kill -0 "$helper" 2>/dev/null || bench_die "subscriber helper died"
        sleep 0.05
    done
    grep -q ready "$out" || bench_die "subscribers not ready"
    [ "$(redis-cli -p "$port" PUBSUB NUMSUB bench:ch | tail -1)" = "$SUBS" ] || bench_die "$s: NUMSUB != $SUBS"
    c0=$(bench_cpu_ticks "${PID[$s]}")
    t0=$(now)
    bench_run "$RUN_TIMEOUT" redis-benchmark -p "$port" -c 4 -P 16 -n "$N" -q PUBLISH bench:ch "$payload" \
        >"$BENCH_TMP/rb.out" 2>&1 || bench_die "redis-benchmark PUBLISH failed on $s: $(tail -3 "$BENCH_TMP/rb.out")"
    wait "$helper" || bench_die "$s: not every message was delivered: $(cat "$out")"
    c1=$(bench_cpu_ticks "${PID[$s]}")
    delivered=$(awk '/^delivered/ { print $2 }' "$out")
    end=$(awk '/^delivered/ { print $4 }' "$out")
    [ "$delivered" = $(( N * SUBS )) ] || bench_die "$s: delivered $delivered, expected $(( N * SUBS ))"
    awk -v n="$N" -v t0="$t0" -v t1="$end" -v c="$((c1 - c0))" -v hz="$BENCH_CLK_TCK" -v d="$delivered" \
        'BEGIN { printf "%.0f %.1f\n", n / (t1 - t0), c / hz * 1e9 / d }'
}

# xadd_run SERVER: prints "ops_per_s cpu_ns_per_op"
xadd_run() {
    local s=$1 port=${PORT[$1]} payload c0 c1 rps
    payload=$(head -c "$PAYLOAD" /dev/zero | tr '\0' x)
    redis-cli -p "$port" DEL bench:x >/dev/null
    c0=$(bench_cpu_ticks "${PID[$s]}")
    bench_run "$RUN_TIMEOUT" redis-benchmark -p "$port" -c 50 -P 16 -n "$NX" --csv XADD bench:x MAXLEN '~' 100000 \
        '*' f "$payload" >"$BENCH_TMP/rbx.out" 2>&1 || bench_die "redis-benchmark XADD failed on $s"
    c1=$(bench_cpu_ticks "${PID[$s]}")
    rps=$(awk -F'"' 'NR == 2 { print $4 }' "$BENCH_TMP/rbx.out")
    awk -v r="$rps" -v c="$((c1 - c0))" -v hz="$BENCH_CLK_TCK" -v n="$NX" \
        'BEGIN { printf "%.0f %.1f\n", r, c / hz * 1e9 / n }'
}

# group_run SERVER: prints "acked_per_s p50_us p99_us cpu_ns_per_entry"
group_run() {
    local s=$1 out="$BENCH_TMP/stream.$1.out" c0 c1
    c0=$(bench_cpu_ticks "${PID[$s]}")
    bench_run "$RUN_TIMEOUT" "$PY" "$CLIENTS" stream "${PORT[$s]}" "$NS" 4 "$RUN_TIMEOUT" >"$out" \
        || bench_die "$s: consumer group run failed: $(cat "$out")"
    c1=$(bench_cpu_ticks "${PID[$s]}")
    awk -v c="$((c1 - c0))" -v hz="$BENCH_CLK_TCK" \
        '/^acked/ { printf "%.0f %s %s %.1f\n", $2 / $4, $6, $8, c / hz * 1e9 / $2 }' "$out"
}

streams_supported() {
    local s r
    for s in redis scaleout; do
        r=$(redis-cli -p "${PORT[$s]}" XADD bench:probe '*' f v 2>&1 || true)
        redis-cli -p "${PORT[$s]}" DEL bench:probe >/dev/null
        case "$r" in
            *"unknown command"*) bench_log "note: $s answers XADD with '$r': stream parts skipped"; return 1 ;;
        esac
    done
    return 0
}

start_servers
declare -A PUB_RATE PUB_CPU XADD_RATE XADD_CPU GRP_RATE GRP_P50 GRP_P99 GRP_CPU
for s in redis scaleout; do PUB_RATE[$s]=""; PUB_CPU[$s]=""; XADD_RATE[$s]=""; XADD_CPU[$s]=""; GRP_RATE[$s]=""; GRP_P50[$s]=""; GRP_P99[$s]=""; GRP_CPU[$s]=""; done
have_streams=0
if [ "$STREAMS" = 1 ] && streams_supported; then have_streams=1; fi

for round in $(seq 1 "$ROUNDS"); do
    order="redis scaleout"
    [ $(( round % 2 )) = 0 ] && order="scaleout redis"
    for s in $order; do
        if [ "$PUBSUB" = 1 ]; then
            bench_log "round $round: $s PUBLISH x $N to $SUBS subscribers"
            read -r rate cpu < <(pubsub_run "$s")
            PUB_RATE[$s]+="$rate "; PUB_CPU[$s]+="$cpu "
            bench_log "  $rate msg/s, $cpu ns CPU per delivered message"
        fi
        if [ "$have_streams" = 1 ]; then
            bench_log "round $round: $s XADD x $NX"
            read -r rate cpu < <(xadd_run "$s")
            XADD_RATE[$s]+="$rate "; XADD_CPU[$s]+="$cpu "
            bench_log "round $round: $s XREADGROUP+XACK, 4 consumers, $NS entries"
            read -r rate p50 p99 cpu < <(group_run "$s")
            GRP_RATE[$s]+="$rate "; GRP_P50[$s]+="$p50 "; GRP_P99[$s]+="$p99 "; GRP_CPU[$s]+="$cpu "
        fi
    done
done
for s in redis scaleout; do
    bench_alive "${PID[$s]}" || bench_die "$s died during the benchmark"
done

med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | bench_median; }
row() { # label redis scaleout [ratio-format]
    printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(bench_ratio "$3" "$2")"
}
{
    echo "### kv as event bus and queue vs Redis — $(date -u +%Y-%m-%d)"
    echo
    echo "\`bench/queue-vs-redis.sh\` (ROUNDS=$ROUNDS, THREADS=$THREADS, SUBS=$SUBS, N=$N, PAYLOAD=$PAYLOAD; $(bench_machine);"
    echo "$("$REDIS_SERVER" --version | awk '{ print $1, $2, $3 }'))."
    echo
    echo "| figure (median of $ROUNDS) | redis | scaleout | scaleout/redis |"
    echo "|---|---|---|---|"
    if [ "$PUBSUB" = 1 ]; then
        row "PUBLISH to $SUBS subscribers: messages/s" "$(med "${PUB_RATE[redis]}")" "$(med "${PUB_RATE[scaleout]}")"
        row "server CPU per delivered message (ns)" "$(med "${PUB_CPU[redis]}")" "$(med "${PUB_CPU[scaleout]}")"
    fi
    if [ "$have_streams" = 1 ]; then
        row "XADD ops/s (-c 50 -P 16)" "$(med "${XADD_RATE[redis]}")" "$(med "${XADD_RATE[scaleout]}")"
        row "server CPU per XADD (ns)" "$(med "${XADD_CPU[redis]}")" "$(med "${XADD_CPU[scaleout]}")"
        row "XREADGROUP+XACK, 4 consumers: entries/s" "$(med "${GRP_RATE[redis]}")" "$(med "${GRP_RATE[scaleout]}")"
        row "server CPU per entry through the group: XADD + XREADGROUP + XACK (ns)" "$(med "${GRP_CPU[redis]}")" "$(med "${GRP_CPU[scaleout]}")"
        row "XADD → consumer latency p50 (us)" "$(med "${GRP_P50[redis]}")" "$(med "${GRP_P50[scaleout]}")"
        row "XADD → consumer latency p99 (us)" "$(med "${GRP_P99[redis]}")" "$(med "${GRP_P99[scaleout]}")"
    else
        echo
        echo "Stream parts skipped: a server answered XADD with ERR unknown command."
    fi
}
