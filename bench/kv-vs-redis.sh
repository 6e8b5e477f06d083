#!/usr/bin/env bash
# bench/kv-vs-redis.sh — `scaleout kv` side by side with redis-server.
#
# METHOD
#   Both servers run at the same time on 127.0.0.1 with the same flags
#   (--port P --bind 127.0.0.1 --save '' --appendonly no --maxmemory 2gb; scaleout
#   also gets --threads T). Each first gets the 100,000 keys the benchmark uses
#   (key:000000000000 .. key:000000099999, 64-byte values), so every GET hits and
#   every SET overwrites from the first round on, and answers a short warm-up,
#   which also sizes the runs: N and NP are chosen so that one run lasts about
#   RUN_SECONDS at the slower server's warm-up rate (so the total time stays
#   bounded on a loaded machine or against a slow server; the figures do not
#   depend on N). Then, for ROUNDS rounds, redis-benchmark
#       -c 50 -d 64 -r 100000 -n N            (no pipelining)
#       -c 50 -d 64 -r 100000 -n NP -P 16     (16 requests in flight per client)
#   runs -t set and then -t get (what `-t set,get` does, but in two runs so the
#   CPU time can be attributed) against one server, then the other, in
#   alternation; every other round the order is reversed so neither side always
#   goes first. Each figure is the median over the rounds. ops/s, p50 and p99
#   come from redis-benchmark's --csv output (rps, p50_latency_ms,
#   p99_latency_ms); around each run the server's utime+stime is read from
#   /proc/PID/stat (all threads), and the difference divided by the number of
#   requests is the server CPU time per operation.
#   Memory: MEM_ROUNDS times, in alternation, each server is started fresh, its
#   VmRSS (/proc/PID/status) and INFO used_memory are read, keys key:0 ..
#   key:999999 with 64-byte values are loaded with `redis-cli --pipe`, every key
#   is checked to be there (DBSIZE, first and last key), and both are read again:
#   delta / keys = bytes per key. Load time and server CPU per key are shown too.
#   Before measuring, each server must answer PING and SET/GET/DEL correctly (a
#   server answering -ERR fast would otherwise look good: redis-benchmark counts
#   error replies as requests).
#
# HOW TO READ THE FIGURES
#   - Ratios are scaleout / redis. ops/s: above 1 is better; p50, p99, CPU/op,
#     bytes/key, load time: below 1 is better.
#   - On a 2-core machine redis-benchmark (single-threaded) needs a core of its
#     own; unpipelined it is the bottleneck for both servers, so ops/s and latency
#     there mostly measure the client: compare CPU us/op, the server's own cost.
#     With -P 16 the server does more per client wake-up and ops/s means more.
#   - "spread" is (max - min) / median of ops/s over the rounds, and "other
#     load" is the CPU the rest of the machine used meanwhile (busy time, steal
#     included, minus the server and redis-benchmark). Redis against itself
#     (validation, below) gave ratios within 0.97-1.03 for ops/s and CPU us/op
#     and 0.83-1.26 for p99 with little other load, but 0.73-1.35 with 1.2
#     cores of other load on this 2-core VM. A ratio closer to 1 than that is
#     no difference; run on a quiet machine, or with more ROUNDS.
#   - CPU time is counted in clock ticks (10 ms); runs last seconds, so the
#     rounding error is under 1%.
#   - RSS delta is what the OS sees (allocator overhead included);
#     used_memory is the server's own count (n/a if its INFO lacks it).
#   - Validate the method with SCALEOUT_BIN=bench/lib/redis-as-scaleout.sh (Redis on
#     both sides): every ratio should then be about 1.00.
#
# USAGE
#   bench/kv-vs-redis.sh                    # scaleout = ./scaleout (repo root)
#   THREADS=2 bench/kv-vs-redis.sh          # scaleout --threads 2
#   THREADS="1 2" bench/kv-vs-redis.sh      # both: 3 servers in alternation
#   SCALEOUT_BIN=bench/lib/redis-as-scaleout.sh bench/kv-vs-redis.sh   # validation
#   QUICK=1 bench/kv-vs-redis.sh            # smoke test, ~15 s: 1 round, short runs
# Environment (defaults in brackets):
#   SCALEOUT_BIN [<repo>/scaleout]   THREADS [1] (scaleout --threads; a list runs each)
#   ROUNDS [5]   RUN_SECONDS [2.5] target length of one benchmark run
#   N / NP [sized from the warm-up] requests per unpipelined / -P 16 run
#   KEYS [1000000] keys for the memory test   MEM_ROUNDS [3]
#   SERVER_ARGS ["--save '' --appendonly no --maxmemory 2gb"] flags for both
#   REDIS_ARGS [""] / SCALEOUT_ARGS [""] extra flags for one side only
#   REDIS_SERVER [redis-server]   RUN_TIMEOUT [120] s limit per benchmark run
#   SPEED [1] / MEMORY [1]: set to 0 to skip the throughput or the memory part
#   TESTS ["SET GET"] redis-benchmark tests, one run each; DEFAULT_LIST=1 means
#     redis-benchmark's default list: SET GET INCR LPUSH RPUSH LPOP RPOP SADD HSET
#     SPOP ZADD ZPOPMIN LRANGE_100 LRANGE_300 LRANGE_500 LRANGE_600 MSET (an
#     LRANGE_* run includes redis-benchmark's own LPUSH fill of the list, on both
#     servers alike)
# A default run takes 2-2.5 minutes (measured); THREADS="1 2" adds a third server,
# about 3.5 minutes (estimated).
# Output: progress on stderr; a table, then a markdown block for
# docs/BENCHMARKS.md, on stdout. Exit status 0 only if every step succeeded.
set -eu
set -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
. "$here/lib/bench.sh"

case "${1:-}" in
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    *) echo "usage: $0 [--help]   (options are environment variables)" >&2; exit 2 ;;
esac

# ---------------------------------------------------------------- settings
if [ "${QUICK:-0}" = 1 ]; then
    : "${ROUNDS:=1}" "${MEM_ROUNDS:=1}" "${RUN_SECONDS:=0.5}" "${KEYS:=100000}"
fi
ROUNDS=${ROUNDS:-5}
# N / NP empty: sized from the warm-up (see RUN_SECONDS)
N=${N:-}
NP=${NP:-}
RUN_SECONDS=${RUN_SECONDS:-2.5}
KEYS=${KEYS:-1000000}
THREADS=${THREADS:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
MEMORY=${MEMORY:-1}
MEM_ROUNDS=${MEM_ROUNDS:-3}
SPEED=${SPEED:-1}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
SCALEOUT_BIN=${SCALEOUT_BIN:-$root/scaleout}
SERVER_ARGS=${SERVER_ARGS-"--save '' --appendonly no --maxmemory 2gb"}
REDIS_ARGS=${REDIS_ARGS:-}
SCALEOUT_ARGS=${SCALEOUT_ARGS:-}
if [ "${DEFAULT_LIST:-0}" = 1 ]; then
    : "${TESTS:=SET GET INCR LPUSH RPUSH LPOP RPOP SADD HSET SPOP ZADD ZPOPMIN LRANGE_100 LRANGE_300 LRANGE_500 LRANGE_600 MSET}"
fi
TESTS=${TESTS:-SET GET}
CLIENTS=50
DSIZE=64
KEYSPACE=100000
PIPELINE=16

THREADS=${THREADS//,/ }
for v in ROUNDS MEM_ROUNDS ${N:+N} ${NP:+NP} KEYS RUN_TIMEOUT $(for t in $THREADS; do echo "THREADS:$t"; done); do
    case "$v" in THREADS:*) val=${v#THREADS:} ;; *) val=${!v} ;; esac
    case "$val" in ''|*[!0-9]*|0) bench_die "${v%%:*} must be a positive integer (got '$val')" ;; esac
done
[ -n "$THREADS" ] || bench_die "THREADS is empty"
case "$RUN_SECONDS" in ''|*[!0-9.]*|*.*.*) bench_die "RUN_SECONDS must be a number of seconds (got '$RUN_SECONDS')" ;; esac
eval "server_args=($SERVER_ARGS)"
eval "redis_args=($REDIS_ARGS)"
eval "scaleout_args=($SCALEOUT_ARGS)"

for tool in redis-benchmark redis-cli "$REDIS_SERVER" awk timeout; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool not found"
done
case "$SCALEOUT_BIN" in
    */*) d=$(cd "$(dirname "$SCALEOUT_BIN")" 2>/dev/null && pwd) &&
             SCALEOUT_BIN="$d/$(basename "$SCALEOUT_BIN")" ;;
    *)   SCALEOUT_BIN=$(command -v "$SCALEOUT_BIN") || bench_die "SCALEOUT_BIN not found" ;;
esac
[ -x "$SCALEOUT_BIN" ] || bench_die "$SCALEOUT_BIN is not an executable (build it with make, or set SCALEOUT_BIN)"

bench_init kv-vs-redis
start_time=$(date +%s)

# The servers: index 0 is redis, then one scaleout per THREADS entry.
names=(redis) threads=(0)
for t in $THREADS; do
    if [ "$THREADS" = 1 ]; then names+=(scaleout); else names+=("scaleout-t$t"); fi
    threads+=("$t")
done
nsrv=${#names[@]}
pids=() ports=() rate1=() rateP=()

value=$(printf 'x%.0s' $(seq 1 "$DSIZE"))

cli() {  # cli PORT ARGS...: one bounded redis-cli call
    local port=$1; shift
    timeout 10 redis-cli -h 127.0.0.1 -p "$port" "$@"
}

log_tail() {  # log_tail I: last lines of server I's log
    bench_log "--- last lines of ${names[$1]}'s log:"
    tail -n 15 "$BENCH_TMP/${names[$1]}.log" >&2 || true
}

start_server() {  # start_server I: start server I on a fresh port, wait until it answers
    local i=$1 port cmd
    bench_free_port port
    if [ "$i" = 0 ]; then
        cmd=("$REDIS_SERVER" --port "$port" --bind 127.0.0.1 "${server_args[@]}" "${redis_args[@]}")
    else
        cmd=("$SCALEOUT_BIN" kv --port "$port" --bind 127.0.0.1 --threads "${threads[$i]}"
             "${server_args[@]}" "${scaleout_args[@]}")
    fi
    bench_start "${names[$i]}" "$BENCH_TMP/${names[$i]}.log" "${cmd[@]}"
    pids[$i]=$BENCH_LAST_PID
    ports[$i]=$port
    if ! bench_wait_port "$port" "${pids[$i]}" 10; then
        log_tail "$i"
        bench_alive "${pids[$i]}" || bench_die "${names[$i]} exited at start-up (log above)"
        bench_die "${names[$i]} did not listen on 127.0.0.1:$port within 10 s"
    fi
    local pong="" k
    for k in $(seq 1 50); do
        pong=$(cli "$port" PING 2>/dev/null) || true
        [ "$pong" = PONG ] && break
        sleep 0.1
    done
    [ "$pong" = PONG ] || { log_tail "$i"; bench_die "${names[$i]} does not answer PING (got '$pong')"; }
    # correctness gate: a fast server that answers errors would look great
    if [ "$(cli "$port" SET bench:probe "$value")" != OK ] ||
       [ "$(cli "$port" GET bench:probe)" != "$value" ] ||
       [ "$(cli "$port" DEL bench:probe)" != 1 ]; then
        bench_die "${names[$i]} does not answer SET/GET/DEL correctly"
    fi
}

stop_server() { bench_stop "${pids[$1]}"; }

check_alive() {
    bench_alive "${pids[$1]}" || { log_tail "$1"; bench_die "${names[$1]} (pid ${pids[$1]}) died"; }
}

# gen_resp FILE COUNT FORMAT: SET commands for keys sprintf(FORMAT, 0..COUNT-1)
gen_resp() {
    awk -v n="$2" -v f="$3" -v v="$value" 'BEGIN {
        for (i = 0; i < n; i++) {
            k = sprintf(f, i)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
        }
    }' >"$1"
}

# pipe_load I FILE COUNT: send FILE with redis-cli --pipe, check COUNT replies, no errors
pipe_load() {
    local i=$1 out="$BENCH_TMP/pipe.out"
    if ! bench_run "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "${ports[$i]}" --pipe --pipe-timeout 30 \
            <"$2" >"$out" 2>&1; then
        cat "$out" >&2; check_alive "$i"
        bench_die "loading keys into ${names[$i]} failed"
    fi
    grep -q "errors: 0, replies: $3\$" "$out" || { cat "$out" >&2; bench_die "loading keys into ${names[$i]}: errors"; }
}

# csv_field_line TEST FILE: "rps p50 p99" from redis-benchmark --csv output
csv_fields() {
    awk -F, -v t="$1" '
        { gsub(/"/, ""); sub(/\r$/, "") }
        NR == 1 { for (c = 1; c <= NF; c++) col[$c] = c; next }
        ($1 == t || index($1, t " (") == 1) && ("rps" in col) && ("p50_latency_ms" in col) && ("p99_latency_ms" in col) {
            print $col["rps"], $col["p50_latency_ms"], $col["p99_latency_ms"]; found = 1 }
        END { if (!found) exit 1 }' "$2"
}

# bench_one I PIPE TEST REQUESTS: one redis-benchmark run; sets
# ONE="rps p50 p99 cpu_us_per_op other_cores" (a variable, not output: run in
# $(...), it could not be stopped by the traps). other_cores is the CPU the rest
# of the machine used during the run (busy time, steal included, minus this
# server and the client), in cores: above ~0.1 someone else was competing.
bench_one() {
    local i=$1 pipe=$2 test=$3 n=$4 c0 c1 s0 s1 k0 k1 w0 w1 fields
    local out="$BENCH_TMP/rb.out" err="$BENCH_TMP/rb.err" pargs=()
    [ "$pipe" = 1 ] || pargs=(-P "$pipe")
    bench_children_ticks k0; s0=$(bench_sys_busy_ticks); w0=$(date +%s.%N)
    c0=$(bench_cpu_ticks "${pids[$i]}")
    if ! bench_run "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "${ports[$i]}" \
            -t "$(echo "$test" | tr "[:upper:]" "[:lower:]")" -c "$CLIENTS" -d "$DSIZE" -r "$KEYSPACE" \
            -n "$n" "${pargs[@]}" --csv >"$out" 2>"$err"; then
        cat "$out" "$err" >&2; check_alive "$i"
        bench_die "redis-benchmark against ${names[$i]} failed or took over ${RUN_TIMEOUT}s"
    fi
    c1=$(bench_cpu_ticks "${pids[$i]}")
    w1=$(date +%s.%N); s1=$(bench_sys_busy_ticks); bench_children_ticks k1
    check_alive "$i"
    fields=$(csv_fields "$test" "$out") || {
        cat "$out" "$err" >&2; bench_die "unexpected redis-benchmark --csv output (above)"; }
    ONE="$fields $(awk -v d=$(( c1 - c0 )) -v hz="$BENCH_CLK_TCK" -v n="$n" \
        -v other=$(( (s1 - s0) - (c1 - c0) - (k1 - k0) )) -v w0="$w0" -v w1="$w1" 'BEGIN {
        o = other / hz / (w1 - w0); if (o < 0) o = 0
        printf "%.3f %.2f", d / hz * 1e6 / n, o }')"
}

# size_n RATE MIN MAX: RATE * RUN_SECONDS within [MIN, MAX], two significant digits
size_n() {
    awk -v r="$1" -v s="$RUN_SECONDS" -v lo="$2" -v hi="$3" 'BEGIN {
        n = r * s; if (n < lo) n = lo; if (n > hi) n = hi
        e = 1; while (n >= 100 * e) e *= 10
        printf "%d\n", int(n / e + 0.5) * e }'
}

fmt_int() {  # 1234567.8 -> 1,234,568
    printf '%.0f' "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'
}

redis_version=$("$REDIS_SERVER" --version | awk '{ for (f = 1; f <= NF; f++) { if ($f ~ /^v=/) v = substr($f, 3); if ($f ~ /^malloc=/) m = substr($f, 8) } } END { print v " (" m ")" }')
scaleout_version=$(timeout 5 "$SCALEOUT_BIN" --version 2>/dev/null | head -n 1) || true
scaleout_version=${scaleout_version:-unknown}
rb_version=$(redis-benchmark --version 2>/dev/null | awk '{ print $2; exit }')

results="$BENCH_TMP/results"   # name pipe test round rps p50 p99 cpu_us other_cores
: >"$results"

# ---------------------------------------------------------------- throughput
if [ "$SPEED" = 1 ]; then
    bench_log "== throughput: ${names[*]}; $ROUNDS round(s)"
    for i in $(seq 0 $(( nsrv - 1 ))); do start_server "$i"; done

    gen_resp "$BENCH_TMP/keyspace.resp" "$KEYSPACE" 'key:%012d'
    for i in $(seq 0 $(( nsrv - 1 ))); do
        pipe_load "$i" "$BENCH_TMP/keyspace.resp" "$KEYSPACE"
        # warm-up and calibration (not recorded); also checks that the PID we
        # measure is the one doing the work
        c0=$(bench_cpu_ticks "${pids[$i]}")
        bench_one "$i" 1 GET 20000
        rate1[$i]=${ONE%% *}
        bench_one "$i" "$PIPELINE" GET 200000
        rateP[$i]=${ONE%% *}
        c1=$(bench_cpu_ticks "${pids[$i]}")
        [ $(( c1 - c0 )) -gt 0 ] || bench_die "pid ${pids[$i]} (${names[$i]}) used no CPU during the warm-up: is it the server? (a wrapper must exec the server)"
        if [ -s "$BENCH_TMP/rb.err" ]; then
            bench_log "redis-benchmark said, against ${names[$i]}:"; cat "$BENCH_TMP/rb.err" >&2
        fi
    done
    # Requests per run: RUN_SECONDS at the slowest server's warm-up rate, two
    # significant digits, so that the run time stays bounded whatever the
    # machine's load or the servers' speed.
    [ -n "$N" ] || N=$(size_n "$(printf '%s\n' "${rate1[@]}" | sort -g | head -n 1)" 5000 2000000)
    [ -n "$NP" ] || NP=$(size_n "$(printf '%s\n' "${rateP[@]}" | sort -g | head -n 1)" 20000 20000000)
    bench_log "requests per run: N=$N unpipelined, NP=$NP with -P $PIPELINE (about ${RUN_SECONDS} s each at the slowest server's warm-up rate)"

    ntests=$(echo $TESTS | wc -w)
    total=$(( ROUNDS * 2 * nsrv * ntests )) k=0
    for r in $(seq 1 "$ROUNDS"); do
        if [ $(( r % 2 )) = 1 ]; then order=$(seq 0 $(( nsrv - 1 ))); else order=$(seq $(( nsrv - 1 )) -1 0); fi
        for pipe in 1 "$PIPELINE"; do
            if [ "$pipe" = 1 ]; then n=$N; else n=$NP; fi
            for i in $order; do
                for test in $TESTS; do
                    k=$(( k + 1 ))
                    bench_one "$i" "$pipe" "$test" "$n"
                    echo "${names[$i]} $pipe $test $r $ONE" >>"$results"
                    set -- $ONE
                    bench_log "$(printf '[%3d/%d] round %d  -P %-2s  %-10s %-12s %9s ops/s  p50 %6s  p99 %6s ms  cpu %7s us/op  other load %s cores' \
                        "$k" "$total" "$r" "$pipe" "$test" "${names[$i]}" "$(fmt_int "$1")" "$2" "$3" "$4" "$5")"
                done
            done
        done
    done
    for i in $(seq 0 $(( nsrv - 1 ))); do stop_server "$i"; done
    rm -f "$BENCH_TMP/keyspace.resp"
fi

# ---------------------------------------------------------------- memory
memres="$BENCH_TMP/memory"   # name rss_b_per_key used_b_per_key load_s cpu_us_per_key
: >"$memres"
used_memory() {
    cli "$1" INFO memory 2>/dev/null | tr -d '\r' | awk -F: '$1 == "used_memory" && $2 ~ /^[0-9]+$/ { print $2 }'
}
if [ "$MEMORY" = 1 ]; then
    bench_log "== memory: $KEYS keys key:N, ${DSIZE}-byte values; $MEM_ROUNDS round(s)"
    gen_resp "$BENCH_TMP/keys.resp" "$KEYS" 'key:%d'
    for r in $(seq 1 "$MEM_ROUNDS"); do
        if [ $(( r % 2 )) = 1 ]; then order=$(seq 0 $(( nsrv - 1 ))); else order=$(seq $(( nsrv - 1 )) -1 0); fi
        for i in $order; do
            start_server "$i"
            rss0=$(bench_rss_kb "${pids[$i]}")
            um0=$(used_memory "${ports[$i]}")
            c0=$(bench_cpu_ticks "${pids[$i]}")
            t0=$(date +%s.%N)
            pipe_load "$i" "$BENCH_TMP/keys.resp" "$KEYS"
            t1=$(date +%s.%N)
            c1=$(bench_cpu_ticks "${pids[$i]}")
            rss1=$(bench_rss_kb "${pids[$i]}")
            um1=$(used_memory "${ports[$i]}")
            check_alive "$i"
            # every key must be there (a maxmemory policy could have evicted some)
            dbsize=$(cli "${ports[$i]}" DBSIZE 2>/dev/null) || true
            case "$dbsize" in
                ''|*[!0-9]*) bench_log "${names[$i]}: DBSIZE not available ('$dbsize'); checking first and last key only" ;;
                "$KEYS") ;;
                *) bench_die "${names[$i]} holds $dbsize keys after loading $KEYS (eviction? raise --maxmemory)" ;;
            esac
            if [ "$(cli "${ports[$i]}" GET key:0)" != "$value" ] ||
               [ "$(cli "${ports[$i]}" GET "key:$(( KEYS - 1 ))")" != "$value" ]; then
                bench_die "${names[$i]}: key:0 or key:$(( KEYS - 1 )) missing or wrong after the load"
            fi
            awk -v r0="$rss0" -v r1="$rss1" -v u0="$um0" -v u1="$um1" -v n="$KEYS" -v name="${names[$i]}" \
                -v t0="$t0" -v t1="$t1" -v d=$(( c1 - c0 )) -v hz="$BENCH_CLK_TCK" -v r="$r" 'BEGIN {
                um = (u0 != "" && u1 != "") ? sprintf("%.1f", (u1 - u0) / n) : "n/a"
                printf "%s %.1f %s %.2f %.3f %d\n", name, (r1 - r0) * 1024 / n, um, t1 - t0, d / hz * 1e6 / n, r }' >>"$memres"
            read -r _ m_rss m_um m_load m_cpu _ < <(tail -n 1 "$memres")
            bench_log "$(printf 'round %d  %-12s RSS %4d -> %4d MiB: %6s B/key RSS, %6s B/key used_memory, load %5s s, cpu %6s us/key' \
                "$r" "${names[$i]}" $(( rss0 / 1024 )) $(( rss1 / 1024 )) "$m_rss" "$m_um" "$m_load" "$m_cpu")"
            stop_server "$i"
        done
    done
    rm -f "$BENCH_TMP/keys.resp"
fi

# ---------------------------------------------------------------- report
# Medians, spreads and ratios in one awk pass each (no process per figure).
# Awk helpers: median of v[1..n] (sorted in place), ratio a/b, thousands commas.
AWK_LIB='
function sortv(v, n,    i, j, x) { for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x } }
function median(v, n) { if (n == 0) return "n/a"; sortv(v, n); return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
function ratio(a, b) { return (a == "n/a" || b == "n/a" || b + 0 <= 0) ? "n/a" : sprintf("%.2f", a / b) }
function commas(x,    s) { s = sprintf("%.0f", x); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]([,]|$)/, ",&", s); return s }
'
# speed_tables TEXTFILE MDFILE: from $results
speed_tables() {
    awk -v names="${names[*]}" -v pipes="1 $PIPELINE" -v tests="$TESTS" -v text="$1" -v md="$2" "$AWK_LIB"'
    { k = $1 SUBSEP $2 SUBSEP $3; n[k]++; for (c = 5; c <= 8; c++) val[k, c, n[k]] = $c }
    END {
        ns = split(names, S, " "); np = split(pipes, P, " "); nt = split(tests, T, " ")
        printf "%-10s %-4s %-12s %10s %7s %8s %8s %10s | %6s %6s %6s %6s\n", "test", "-P", "server", "ops/s", "spread", "p50 ms", "p99 ms", "CPU us/op", "ops/s", "p50", "p99", "CPU" > text
        for (p = 1; p <= np; p++) for (t = 1; t <= nt; t++) for (s = 1; s <= ns; s++) {
            k = S[s] SUBSEP P[p] SUBSEP T[t]
            for (c = 5; c <= 8; c++) {
                m = 0; for (r = 1; r <= n[k]; r++) v[++m] = val[k, c, r]
                med[s, c] = median(v, m)
                if (c == 5) spread = (m && med[s, c] > 0) ? sprintf("%.1f%%", (v[m] - v[1]) / med[s, c] * 100) : "n/a"
            }
            if (s == 1) { r5 = r6 = r7 = r8 = "" }
            else { r5 = ratio(med[s, 5], med[1, 5]); r6 = ratio(med[s, 6], med[1, 6]); r7 = ratio(med[s, 7], med[1, 7]); r8 = ratio(med[s, 8], med[1, 8]) }
            printf "%-10s %-4s %-12s %10s %7s %8.3f %8.3f %10.2f | %6s %6s %6s %6s\n", T[t], P[p], S[s], commas(med[s, 5]), spread, med[s, 6], med[s, 7], med[s, 8], r5, r6, r7, r8 > text
            printf "| %s | %s | %s | %s | %.3f | %.3f | %.2f | %s | %s | %s | %s |\n", T[t], P[p], S[s], commas(med[s, 5]), med[s, 6], med[s, 7], med[s, 8], r5, r6, r7, r8 > md
        }
    }' "$results"
}
# memory_tables TEXTFILE MDFILE: from $memres
memory_tables() {
    awk -v names="${names[*]}" -v keys="$KEYS" -v text="$1" -v md="$2" "$AWK_LIB"'
    { n[$1]++; for (c = 2; c <= 5; c++) val[$1, c, n[$1]] = $c }
    END {
        ns = split(names, S, " ")
        L[2] = "RSS delta, bytes/key"; L[3] = "used_memory delta, bytes/key"; L[4] = "load time, s"; L[5] = "server CPU, us/key"
        printf "%-30s", "" > text; hdr = "| memory, " commas(keys) " keys"; sep = "|---"
        for (s = 1; s <= ns; s++) {
            printf " %12s", S[s] > text; hdr = hdr " | " S[s]; sep = sep "|--:"
            if (s > 1) { printf " %8s", "ratio" > text; hdr = hdr " | " S[s] "/redis"; sep = sep "|--:" }
        }
        printf "\n" > text; print hdr " |" > md; print sep "|" > md
        for (c = 2; c <= 5; c++) {
            printf "%-30s", L[c] > text; line = "| " L[c]
            for (s = 1; s <= ns; s++) {
                m = 0; for (r = 1; r <= n[S[s]]; r++) if (val[S[s], c, r] != "n/a") v[++m] = val[S[s], c, r]
                med[s] = median(v, m)
                printf " %12s", med[s] > text; line = line " | " med[s]
                if (s > 1) { printf " %8s", ratio(med[s], med[1]) > text; line = line " | " ratio(med[s], med[1]) }
            }
            printf "\n" > text; print line " |" > md
        }
    }' "$memres"
}

elapsed=$(( $(date +%s) - start_time ))
other_load=""
if [ "$SPEED" = 1 ]; then
    other_load=$(awk '{ s += $9; if ($9 > m) m = $9 } END {
        printf "other load on the machine during the runs (busy CPU time, steal included, minus the server and redis-benchmark): %.2f cores on average, %.2f at most", s / NR, m
        if (s / NR > 0.1) printf " (busy machine: expect more noise than usual)" }' "$results")
fi
today=$(date +%F)
machine=$(bench_machine)
rb_cmd="redis-benchmark -c $CLIENTS -d $DSIZE -r $KEYSPACE"

echo
echo "scaleout kv vs redis-server -- $today -- $machine"
echo "redis-server $redis_version; scaleout: $scaleout_version; redis-benchmark $rb_version"
echo "scaleout binary: $SCALEOUT_BIN (--threads: $THREADS)"
if [ "$SPEED" = 1 ]; then
    echo
    echo "$rb_cmd -t <test> for each of $TESTS, -n $N (no pipelining) / -n $NP -P $PIPELINE; $ROUNDS round(s) in alternation, medians"
    echo "ratios = scaleout / redis (ops/s: higher is better; latency and CPU: lower is better)"
    echo "$other_load"
    echo
    speed_tables "$BENCH_TMP/text_speed" "$BENCH_TMP/md_speed"
    cat "$BENCH_TMP/text_speed"
fi
if [ "$MEMORY" = 1 ]; then
    echo
    echo "memory: $(fmt_int "$KEYS") keys key:N with ${DSIZE}-byte values loaded with redis-cli --pipe into a fresh server;"
    echo "$MEM_ROUNDS round(s) in alternation, medians (ratios: lower is better)"
    memory_tables "$BENCH_TMP/text_mem" "$BENCH_TMP/md_mem"
    cat "$BENCH_TMP/text_mem"
fi
echo
echo "runtime: ${elapsed} s"

echo
echo "----- 8< ----- markdown for docs/BENCHMARKS.md -----"
echo
echo "### kv vs Redis, $today"
echo
echo "- Machine: $machine"
echo "- Versions: redis-server $redis_version; scaleout: $scaleout_version; redis-benchmark $rb_version"
echo "- Run: \`ROUNDS=$ROUNDS MEM_ROUNDS=$MEM_ROUNDS N=$N NP=$NP THREADS=\"$THREADS\" KEYS=$KEYS bench/kv-vs-redis.sh\` ($elapsed s); both servers with \`${SERVER_ARGS}\`${REDIS_ARGS:+, redis also \`$REDIS_ARGS\`}${SCALEOUT_ARGS:+, scaleout also \`$SCALEOUT_ARGS\`}"
if [ "$SPEED" = 1 ]; then
    echo "- Method: \`$rb_cmd -t <test>\` for each of $TESTS, \`-n $N\` unpipelined and \`-n $NP -P $PIPELINE\`, servers in alternation, median of $ROUNDS round(s); CPU = server utime+stime per request. Ratios are scaleout / redis: ops/s higher is better, the rest lower is better. Unpipelined, the client saturates a core, so there CPU us/op is the telling figure."
    echo "- O${other_load#o}."
    echo
    echo "| test | -P | server | ops/s | p50 ms | p99 ms | CPU us/op | ops/s ratio | p50 ratio | p99 ratio | CPU ratio |"
    echo "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    cat "$BENCH_TMP/md_speed"
fi
if [ "$MEMORY" = 1 ]; then
    echo
    echo "Memory: keys \`key:0\`..\`key:$(( KEYS - 1 ))\`, ${DSIZE}-byte values, loaded with \`redis-cli --pipe\` into a fresh server, median of $MEM_ROUNDS round(s) in alternation; RSS from /proc/PID/status, used_memory from INFO (n/a if not reported)."
    echo
    cat "$BENCH_TMP/md_mem"
fi
echo
echo "----- >8 -----"
