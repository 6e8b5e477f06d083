#!/usr/bin/env bash
# bench/kv-lists-sets.sh — `scaleout kv` lists and sets side by side with redis-server.
#
# METHOD
#   Both servers run at the same time on 127.0.0.1 with the same flags
#   (--save '' --appendonly no --maxmemory 2gb). For ROUNDS rounds, in
#   alternation (the order reversed every other round), redis-benchmark runs
#   each of   lpush rpush lpop rpop sadd spop   (-t NAME) and lrange_100 (the
#   command `LRANGE mylist:100 0 99` on a list of 100 elements loaded
#   beforehand, so the run measures LRANGE alone), with -c 50 -r 100000 -d 3,
#   N requests unpipelined and NP with -P 16, against one server, then the
#   other. Around each run the server's utime+stime (/proc/PID/stat, all
#   threads) is read: CPU per operation = difference / requests. Figures are
#   medians over the rounds; ratios are scaleout / redis (CPU: below 1 is
#   better; ops/s: above 1 is better).
#   Memory: each server is started fresh, INFO used_memory read, the data set
#   loaded with redis-cli --pipe, checked (LLEN / SCARD of the first and last
#   key), used_memory read again: delta / elements = bytes per element, for
#     small lists   KEYS_SMALL keys x 10 elements of 8 bytes (RPUSH)
#     a large list  1 key x BIG elements of 8 bytes
#     small intsets KEYS_SMALL keys x 10 integers (SADD)
#     small sets    KEYS_SMALL keys x 10 members "member:N" (hashtables in both)
#     a large set   1 key x BIG members "member:N" (a hashtable in both)
#     small hashes  KEYS_SMALL keys x 10 fields "field:N" with 8-byte values (HSET)
#     a large hash  1 key x BIG fields "field:N" with 8-byte values
#     small zsets   KEYS_SMALL keys x 10 members "member:N", integer scores (ZADD)
#     a large zset  1 key x BIG members "member:N", integer scores
#   The key and its entry in the keyspace are included, as in the
#   issue's "bytes per element".
#
# USAGE
#   bench/kv-lists-sets.sh             QUICK=1 bench/kv-lists-sets.sh (smoke, ~20 s)
# Environment [defaults]: SCALEOUT_BIN [<repo>/scaleout] THREADS [1] ROUNDS [3]
#   N [100000] NP [500000] KEYS_SMALL [100000] BIG [1000000] RUN_TIMEOUT [120]
#   SPEED [1] MEMORY [1] (0 skips that part)   KINDS [all the memory data sets above]
# Output: progress on stderr; a markdown block for docs/BENCHMARKS.md on stdout.
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

if [ "${QUICK:-0}" = 1 ]; then
    : "${ROUNDS:=1}" "${N:=20000}" "${NP:=100000}" "${KEYS_SMALL:=10000}" "${BIG:=100000}"
fi
ROUNDS=${ROUNDS:-3}
N=${N:-100000}
NP=${NP:-500000}
KEYS_SMALL=${KEYS_SMALL:-100000}
BIG=${BIG:-1000000}
THREADS=${THREADS:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
SPEED=${SPEED:-1}
MEMORY=${MEMORY:-1}
KINDS=${KINDS:-small_lists big_list small_intsets small_sets big_set small_hashes big_hash small_zsets big_zset}
SCALEOUT_BIN=${SCALEOUT_BIN:-$root/scaleout}
for v in ROUNDS N NP KEYS_SMALL BIG THREADS RUN_TIMEOUT; do
    case "${!v}" in ''|*[!0-9]*|0) bench_die "$v must be a positive integer (got '${!v}')" ;; esac
done
for tool in redis-benchmark redis-cli redis-server awk timeout; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool not found"
done
[ -x "$SCALEOUT_BIN" ] || bench_die "$SCALEOUT_BIN is not an executable (build it with make)"

bench_init kv-lists-sets
start_time=$(date +%s)
names=(redis scaleout)
pids=() ports=()
TESTS="lpush rpush lpop rpop sadd spop lrange_100"

cli() { local port=$1; shift; timeout 30 redis-cli -h 127.0.0.1 -p "$port" "$@"; }

start_server() {  # start_server I
    local i=$1 port cmd
    bench_free_port port
    if [ "$i" = 0 ]; then
        cmd=(redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --maxmemory 2gb)
    else
        cmd=("$SCALEOUT_BIN" kv --port "$port" --bind 127.0.0.1 --admin-port 0 --threads "$THREADS"
             --save '' --appendonly no --maxmemory 2gb)
    fi
    bench_start "${names[$i]}" "$BENCH_TMP/${names[$i]}.log" "${cmd[@]}"
    pids[$i]=$BENCH_LAST_PID
    ports[$i]=$port
    bench_wait_port "$port" "${pids[$i]}" 10 || { tail -n 20 "$BENCH_TMP/${names[$i]}.log" >&2; bench_die "${names[$i]} did not start"; }
    local k pong=""
    for k in $(seq 1 50); do
        pong=$(cli "$port" PING 2>/dev/null) || true
        [ "$pong" = PONG ] && break
        sleep 0.1
    done
    [ "$pong" = PONG ] || bench_die "${names[$i]} does not answer PING"
    # correctness gate: list and set replies must be right before anything is timed
    [ "$(cli "$port" RPUSH bench:l a b c)" = 3 ] && [ "$(cli "$port" LRANGE bench:l 1 1)" = b ] &&
        [ "$(cli "$port" SADD bench:s 1 2)" = 2 ] && [ "$(cli "$port" SCARD bench:s)" = 2 ] &&
        [ "$(cli "$port" DEL bench:l bench:s)" = 2 ] || bench_die "${names[$i]} answers list/set commands wrongly"
}

check_alive() { bench_alive "${pids[$1]}" || bench_die "${names[$1]} (pid ${pids[$1]}) died"; }

# one I PIPE TEST REQUESTS: sets ONE="rps cpu_us_per_op"
one() {
    local i=$1 pipe=$2 test=$3 n=$4 c0 c1 out="$BENCH_TMP/rb.out" pargs=() what
    [ "$pipe" = 1 ] || pargs=(-P "$pipe")
    if [ "$test" = lrange_100 ]; then
        what=(LRANGE mylist:100 0 99)
    else
        what=(-t "$test")
    fi
    c0=$(bench_cpu_ticks "${pids[$i]}")
    bench_run "$RUN_TIMEOUT" redis-benchmark -h 127.0.0.1 -p "${ports[$i]}" -c 50 -r 100000 -d 3 \
        -n "$n" "${pargs[@]}" --csv "${what[@]}" >"$out" 2>&1 || { cat "$out" >&2; check_alive "$i"; bench_die "redis-benchmark failed"; }
    c1=$(bench_cpu_ticks "${pids[$i]}")
    check_alive "$i"
    ONE=$(awk -F, -v d=$(( c1 - c0 )) -v hz="$BENCH_CLK_TCK" -v n="$n" '
        { gsub(/"/, "") } NR == 2 { rps = $2 }
        END { if (rps == "") exit 1; printf "%s %.3f\n", rps, d / hz * 1e6 / n }' "$out") ||
        { cat "$out" >&2; bench_die "unexpected redis-benchmark output"; }
}

results="$BENCH_TMP/results"
: >"$results"
if [ "$SPEED" = 1 ]; then
    for i in 0 1; do
        start_server "$i"
        cli "${ports[$i]}" RPUSH mylist:100 $(seq 1 100) >/dev/null
    done
    k=0 total=$(( ROUNDS * 2 * 2 * 7 ))
    for r in $(seq 1 "$ROUNDS"); do
        if [ $(( r % 2 )) = 1 ]; then order="0 1"; else order="1 0"; fi
        for pipe in 1 16; do
            if [ "$pipe" = 1 ]; then n=$N; else n=$NP; fi
            for i in $order; do
                for t in $TESTS; do
                    k=$(( k + 1 ))
                    one "$i" "$pipe" "$t" "$n"
                    echo "${names[$i]} $pipe $t $ONE" >>"$results"
                    bench_log "$(printf '[%3d/%d] round %d -P %-2s %-10s %-8s %s' "$k" "$total" "$r" "$pipe" "$t" "${names[$i]}" "$ONE")"
                done
            done
        done
    done
    for i in 0 1; do bench_stop "${pids[$i]}"; done
fi

med() {  # med NAME PIPE TEST FIELD
    awk -v s="$1" -v p="$2" -v t="$3" -v f="$4" '$1 == s && $2 == p && $3 == t { print $(f + 3) }' "$results" | bench_median
}

# ---- memory
memres="$BENCH_TMP/memory"
: >"$memres"
used_memory() { cli "$1" INFO memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }
gen() {  # gen KIND FILE
    case "$1" in
        small_lists) awk -v n="$KEYS_SMALL" 'BEGIN { for (i = 0; i < n; i++) { k = "list:" i; printf "*12\r\n$5\r\nRPUSH\r\n$%d\r\n%s\r\n", length(k), k; for (j = 0; j < 10; j++) printf "$8\r\n%08d\r\n", j } }' ;;
        big_list) awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i += 100) { printf "*102\r\n$5\r\nRPUSH\r\n$3\r\nbig\r\n"; for (j = 0; j < 100; j++) printf "$8\r\n%08d\r\n", i + j } }' ;;
        small_intsets) awk -v n="$KEYS_SMALL" 'BEGIN { for (i = 0; i < n; i++) { k = "set:" i; printf "*12\r\n$4\r\nSADD\r\n$%d\r\n%s\r\n", length(k), k; for (j = 0; j < 10; j++) { v = j * 1000; printf "$%d\r\n%d\r\n", length(v ""), v } } }' ;;
        small_sets) awk -v n="$KEYS_SMALL" 'BEGIN { for (i = 0; i < n; i++) { k = "set:" i; printf "*12\r\n$4\r\nSADD\r\n$%d\r\n%s\r\n", length(k), k; for (j = 0; j < 10; j++) { v = "member:" j; printf "$%d\r\n%s\r\n", length(v), v } } }' ;;
        big_set) awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i += 100) { printf "*102\r\n$4\r\nSADD\r\n$3\r\nbig\r\n"; for (j = 0; j < 100; j++) { v = "member:" (i + j); printf "$%d\r\n%s\r\n", length(v), v } } }' ;;
        small_hashes) awk -v n="$KEYS_SMALL" 'BEGIN { for (i = 0; i < n; i++) { k = "hash:" i; printf "*22\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n", length(k), k; for (j = 0; j < 10; j++) { f = "field:" j; printf "$%d\r\n%s\r\n$8\r\n%08d\r\n", length(f), f, j } } }' ;;
        big_hash) awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i += 100) { printf "*202\r\n$4\r\nHSET\r\n$3\r\nbig\r\n"; for (j = 0; j < 100; j++) { f = "field:" (i + j); printf "$%d\r\n%s\r\n$8\r\n%08d\r\n", length(f), f, i + j } } }' ;;
        small_zsets) awk -v n="$KEYS_SMALL" 'BEGIN { for (i = 0; i < n; i++) { k = "zset:" i; printf "*22\r\n$4\r\nZADD\r\n$%d\r\n%s\r\n", length(k), k; for (j = 0; j < 10; j++) { v = "member:" j; sc = j * 7 ""; printf "$%d\r\n%s\r\n$%d\r\n%s\r\n", length(sc), sc, length(v), v } } }' ;;
        big_zset) awk -v n="$BIG" 'BEGIN { for (i = 0; i < n; i += 100) { printf "*202\r\n$4\r\nZADD\r\n$3\r\nbig\r\n"; for (j = 0; j < 100; j++) { v = "member:" (i + j); sc = (i + j) ""; printf "$%d\r\n%s\r\n$%d\r\n%s\r\n", length(sc), sc, length(v), v } } }' ;;
    esac >"$2"
}
elements() {  # elements KIND
    case "$1" in small_*) echo $(( KEYS_SMALL * 10 )) ;; *) echo "$BIG" ;; esac
}
check_loaded() {  # check_loaded I KIND
    local p=${ports[$1]} got
    case "$2" in
        small_lists) got="$(cli "$p" LLEN list:0) $(cli "$p" LLEN "list:$(( KEYS_SMALL - 1 ))")"; [ "$got" = "10 10" ] ;;
        big_list) [ "$(cli "$p" LLEN big)" = "$BIG" ] && [ "$(cli "$p" LINDEX big -1)" = "$(printf '%08d' $(( BIG - 1 )))" ] ;;
        small_intsets) got="$(cli "$p" SCARD set:0) $(cli "$p" OBJECT ENCODING "set:$(( KEYS_SMALL - 1 ))")"; [ "$got" = "10 intset" ] ;;
        small_sets) got="$(cli "$p" SCARD set:0) $(cli "$p" OBJECT ENCODING "set:$(( KEYS_SMALL - 1 ))")"; [ "$got" = "10 hashtable" ] ;;
        big_set) [ "$(cli "$p" SCARD big)" = "$BIG" ] ;;
        small_hashes) got="$(cli "$p" HLEN hash:0) $(cli "$p" HLEN "hash:$(( KEYS_SMALL - 1 ))")"; [ "$got" = "10 10" ] ;;
        big_hash) [ "$(cli "$p" HLEN big)" = "$BIG" ] ;;
        small_zsets) got="$(cli "$p" ZCARD zset:0) $(cli "$p" ZCARD "zset:$(( KEYS_SMALL - 1 ))")"; [ "$got" = "10 10" ] ;;
        big_zset) [ "$(cli "$p" ZCARD big)" = "$BIG" ] ;;
    esac
}
if [ "$MEMORY" = 1 ]; then
    for kind in $KINDS; do
        gen "$kind" "$BENCH_TMP/load.resp"
        cmds=$(grep -c $'^\*' "$BENCH_TMP/load.resp" || true)
        for i in 0 1; do
            start_server "$i"
            u0=$(used_memory "${ports[$i]}")
            bench_run "$RUN_TIMEOUT" redis-cli -h 127.0.0.1 -p "${ports[$i]}" --pipe <"$BENCH_TMP/load.resp" >"$BENCH_TMP/pipe.out" 2>&1 ||
                { cat "$BENCH_TMP/pipe.out" >&2; bench_die "loading $kind into ${names[$i]} failed"; }
            grep -q "errors: 0, replies: $cmds\$" "$BENCH_TMP/pipe.out" || { cat "$BENCH_TMP/pipe.out" >&2; bench_die "loading $kind: errors"; }
            check_loaded "$i" "$kind" || bench_die "$kind not loaded correctly into ${names[$i]}"
            u1=$(used_memory "${ports[$i]}")
            echo "${names[$i]} $kind $(awk -v a="$u0" -v b="$u1" -v e="$(elements "$kind")" 'BEGIN { printf "%.1f", (b - a) / e }')" >>"$memres"
            bench_log "memory $kind ${names[$i]}: $(tail -n 1 "$memres")"
            bench_stop "${pids[$i]}"
        done
    done
fi

# ---- report
redis_version=$(redis-server --version | awk '{ for (f = 1; f <= NF; f++) if ($f ~ /^v=/) print substr($f, 3) }')
echo "### kv lists and sets vs Redis, $(date -u +%Y-%m-%d)"
echo
echo "- Machine: $(bench_machine); other engineers' jobs may have shared it"
echo "- Run: \`ROUNDS=$ROUNDS N=$N NP=$NP KEYS_SMALL=$KEYS_SMALL BIG=$BIG THREADS=$THREADS bench/kv-lists-sets.sh\` ($(( $(date +%s) - start_time )) s); redis-server $redis_version"
echo
if [ "$SPEED" = 1 ]; then
    echo "| test | -P | redis ops/s | scaleout ops/s | ops/s ratio | redis CPU us/op | scaleout CPU us/op | CPU/op ratio |"
    echo "|---|---|---|---|---|---|---|---|"
    for pipe in 1 16; do
        for t in $TESTS; do
            ro=$(med redis "$pipe" "$t" 1); so=$(med scaleout "$pipe" "$t" 1)
            rc=$(med redis "$pipe" "$t" 2); sc=$(med scaleout "$pipe" "$t" 2)
            printf '| %s | %s | %.0f | %.0f | %s | %.2f | %.2f | %s |\n' "$t" "$pipe" "$ro" "$so" \
                "$(bench_ratio "$so" "$ro")" "$rc" "$sc" "$(bench_ratio "$sc" "$rc")"
        done
    done
    echo
fi
if [ "$MEMORY" = 1 ]; then
    echo "| data set | redis bytes/element | scaleout bytes/element | ratio |"
    echo "|---|---|---|---|"
    for kind in $KINDS; do
        rb=$(awk -v k="$kind" '$1 == "redis" && $2 == k { print $3 }' "$memres")
        sb=$(awk -v k="$kind" '$1 == "scaleout" && $2 == k { print $3 }' "$memres")
        echo "| $kind | $rb | $sb | $(bench_ratio "$sb" "$rb") |"
    done
fi
