#!/usr/bin/env bash
# bench/bench-vs-wrk.sh — `scaleout bench` side by side with wrk (HTTP) and
# redis-benchmark (RESP): the load generator must not be the bottleneck.
#
# METHOD
#   HTTP: one nginx (Debian's, 1 worker, access log off, keep-alive without a
#   request limit) serves a 612-byte static page on 127.0.0.1. For ROUNDS
#   rounds and each connection count in CONNS, wrk and scaleout bench each
#   drive it for DURATION seconds with one thread:
#       wrk -t1 -cC -dDs URL
#       scaleout bench URL -t 1 -c C -d Ds
#   in alternation (the order flips every round). Figures are medians over the
#   rounds: requests/s as each tool reports it, the tool's own CPU time per
#   request (utime+stime of the finished process, all threads) and nginx's CPU
#   time per request (the same for both tools if they send the same work).
#   RESP: one redis-server (--save '' --appendonly no), keys key:000000000000
#   .. key:000000099999 loaded first with 64-byte values, then for each
#   pipeline depth in PIPES:
#       redis-benchmark -t get -c 50 -n N -P P -r 100000 -d 64 --csv
#       scaleout bench redis://... -t 1 -c 50 -n N -P P --ratio 1:0 --keys 100000 --value-size 64
#   (both send GET key:%012d with uniformly drawn keys, one thread each).
#
# HOW TO READ THE FIGURES
#   - ratio = scaleout / other. req/s: 1.00 means as fast; the goal is >= 0.90
#     (the generator is not the bottleneck). CPU us/req of the tool: below 1 is
#     cheaper than the other tool. Server CPU us/req should be ~1.00: if not,
#     the two tools do not send the same work.
#   - On a 2-core machine the server and the generator take a core each, so
#     req/s is bounded by the slower of the two; when the server saturates its
#     core both tools show the same req/s and the tool CPU per request is the
#     telling figure (what is left for the server on a shared machine).
#   - "spread" is (max - min) / median of req/s over the rounds; on a shared VM
#     10-30% is common, so run more ROUNDS before reading a 5% difference.
#   - "other load" is busy CPU of the rest of the machine during the runs.
#
# USAGE
#   bench/bench-vs-wrk.sh                  # scaleout = ./scaleout (repo root)
#   QUICK=1 bench/bench-vs-wrk.sh          # smoke test, ~20 s
# Environment (defaults in brackets):
#   SCALEOUT_BIN [<repo>/scaleout]  ROUNDS [3]  DURATION [5] seconds per HTTP run
#   CONNS ["10 50"] HTTP connection counts   PIPES ["1 16"] RESP pipeline depths
#   N [200000] requests per RESP run (x8 with a pipeline)  RUN_TIMEOUT [120] s per run
#   HTTP [1] / RESP [1]: 0 skips that part
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

if [ "${QUICK:-0}" = 1 ]; then
    : "${ROUNDS:=1}" "${DURATION:=2}" "${N:=50000}"
fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5}
CONNS=${CONNS:-10 50}
PIPES=${PIPES:-1 16}
N=${N:-200000}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
HTTP=${HTTP:-1}
RESP=${RESP:-1}
SCALEOUT_BIN=${SCALEOUT_BIN:-$root/scaleout}
for v in ROUNDS DURATION N RUN_TIMEOUT; do
    case "${!v}" in ''|*[!0-9]*|0) bench_die "$v must be a positive integer (got '${!v}')" ;; esac
done
case "$SCALEOUT_BIN" in
    */*) d=$(cd "$(dirname "$SCALEOUT_BIN")" 2>/dev/null && pwd) && SCALEOUT_BIN="$d/$(basename "$SCALEOUT_BIN")" ;;
    *)   SCALEOUT_BIN=$(command -v "$SCALEOUT_BIN") || bench_die "SCALEOUT_BIN not found" ;;
esac
[ -x "$SCALEOUT_BIN" ] || bench_die "$SCALEOUT_BIN is not an executable (build it with make, or set SCALEOUT_BIN)"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in awk timeout; do command -v "$tool" >/dev/null 2>&1 || bench_die "$tool not found"; done
if [ "$HTTP" = 1 ]; then
    command -v wrk >/dev/null 2>&1 || bench_die "wrk not found (apt-get install wrk)"
    [ -x "$NGINX" ] || bench_die "nginx not found (apt-get install nginx)"
fi
if [ "$RESP" = 1 ]; then
    for tool in redis-server redis-benchmark redis-cli; do
        command -v "$tool" >/dev/null 2>&1 || bench_die "$tool not found (apt-get install redis-server redis-tools)"
    done
fi

bench_init bench-vs-wrk
start_time=$(date +%s)
results="$BENCH_TMP/results"   # kind tool param round rps tool_cpu_us server_cpu_us other_cores
: >"$results"

# measure KIND TOOL PARAM ROUND SERVER_PID OUT CMD...: one bounded run of CMD
# (output in OUT), parsed by parse_<TOOL> (sets REQS, RPS); appends a result line.
measure() {
    local kind=$1 tool=$2 param=$3 round=$4 spid=$5 out=$6 k0 k1 s0 s1 c0 c1 w0 w1
    shift 6
    bench_children_ticks k0; s0=$(bench_sys_busy_ticks); c0=$(bench_cpu_ticks "$spid"); w0=$(date +%s.%N)
    if ! bench_run "$RUN_TIMEOUT" "$@" >"$out" 2>"$out.err"; then
        cat "$out" "$out.err" >&2
        bench_die "$tool failed or took over ${RUN_TIMEOUT}s"
    fi
    w1=$(date +%s.%N); c1=$(bench_cpu_ticks "$spid"); s1=$(bench_sys_busy_ticks); bench_children_ticks k1
    bench_alive "$spid" || bench_die "the server (pid $spid) died during $tool"
    "parse_$tool" "$out" || { cat "$out" "$out.err" >&2; bench_die "unexpected $tool output (above)"; }
    [ "${REQS:-0}" -gt 0 ] || bench_die "$tool reported no requests"
    awk -v kind="$kind" -v tool="$tool" -v p="$param" -v r="$round" -v rps="$RPS" -v n="$REQS" \
        -v k=$(( k1 - k0 )) -v c=$(( c1 - c0 )) -v s=$(( s1 - s0 )) -v hz="$BENCH_CLK_TCK" \
        -v w0="$w0" -v w1="$w1" 'BEGIN {
        other = (s - k - c) / hz / (w1 - w0); if (other < 0) other = 0
        printf "%s %s %s %s %.1f %.3f %.3f %.2f\n", kind, tool, p, r, rps, k / hz * 1e6 / n, c / hz * 1e6 / n, other
    }' >>"$results"
    set -- $(tail -n 1 "$results")
    bench_log "$(printf '  %-4s %-8s %-16s round %s: %10s req/s  tool %6s us/req  server %6s us/req  other load %s' \
        "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8")"
}

parse_wrk() {  # "N requests in Xs" and "Requests/sec: R"
    REQS=$(awk '/requests in/ { print $1; exit }' "$1")
    RPS=$(awk '/^Requests\/sec:/ { print $2; exit }' "$1")
    [ -n "$REQS" ] && [ -n "$RPS" ]
}

parse_scaleout() {  # the --json file written next to the output
    REQS=$(grep -o '"requests": [0-9]*' "$1.json" | head -n 1 | awk '{ print $2 }')
    RPS=$(grep -o '"requests_per_s": [0-9.]*' "$1.json" | head -n 1 | awk '{ print $2 }')
    local errs
    errs=$(grep -o '"errors": {"total": [0-9]*' "$1.json" | head -n 1 | awk '{ print $3 }')
    [ "${errs:-1}" = 0 ] || { bench_log "scaleout bench reported $errs errors"; return 1; }
    [ -n "$REQS" ] && [ -n "$RPS" ]
}

parse_redis-benchmark() {  # --csv: "test","rps",...
    RPS=$(awk -F, '{ gsub(/"/, "") } $1 == "GET" { print $2; exit }' "$1")
    REQS=$CUR_N
    [ -n "$RPS" ]
}

# ---------------------------------------------------------------- HTTP
if [ "$HTTP" = 1 ]; then
    bench_free_port hport
    mkdir -p "$BENCH_TMP/www"
    awk 'BEGIN { for (i = 0; i < 611; i++) printf "x"; printf "\n" }' >"$BENCH_TMP/www/index.html"
    user=""; [ "$(id -u)" = 0 ] && user="user root;"
    cat >"$BENCH_TMP/nginx.conf" <<EOF
$user
worker_processes 1;
daemon off;
pid $BENCH_TMP/nginx.pid;
error_log $BENCH_TMP/nginx.err warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$hport;
        location / { root $BENCH_TMP/www; }
    }
}
EOF
    bench_start nginx "$BENCH_TMP/nginx.log" "$NGINX" -p "$BENCH_TMP" -c "$BENCH_TMP/nginx.conf"
    npid=$BENCH_LAST_PID
    bench_wait_port "$hport" "$npid" 10 || { cat "$BENCH_TMP/nginx.log" "$BENCH_TMP/nginx.err" >&2; bench_die "nginx did not start"; }
    # the worker does the work: measure the whole group's CPU through the master? No:
    # nginx's master only waits, so take the worker (the master's only child).
    wpid=""
    for k in $(seq 1 50); do
        wpid=$(awk -v m="$npid" '{ if ($4 == m) print $1 }' /proc/[0-9]*/stat 2>/dev/null | head -n 1) || true
        [ -n "$wpid" ] && break
        sleep 0.1
    done
    [ -n "$wpid" ] || bench_die "cannot find nginx's worker process"
    url="http://127.0.0.1:$hport/index.html"
    curl_ok=$(timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$hport; printf 'GET /index.html HTTP/1.0\r\n\r\n' >&3; head -c 12 <&3")
    [ "$curl_ok" = "HTTP/1.1 200" ] || bench_die "nginx does not serve $url (got '$curl_ok')"
    bench_log "== HTTP: nginx pid $npid (worker $wpid) on $url; $ROUNDS round(s) of ${DURATION}s, connections: $CONNS"
    # warm-up
    bench_run 30 wrk -t1 -c10 -d1s "$url" >/dev/null
    for r in $(seq 1 "$ROUNDS"); do
        for c in $CONNS; do
            tools="wrk scaleout"; [ $(( r % 2 )) = 0 ] && tools="scaleout wrk"
            for t in $tools; do
                out="$BENCH_TMP/run.out"
                if [ "$t" = wrk ]; then
                    measure http wrk "c=$c" "$r" "$wpid" "$out" wrk -t1 -c"$c" -d"${DURATION}s" "$url"
                else
                    measure http scaleout "c=$c" "$r" "$wpid" "$out" "$SCALEOUT_BIN" bench "$url" -t 1 -c "$c" \
                        -d "${DURATION}s" --progress off --json "$out.json"
                fi
            done
        done
    done
    bench_stop "$npid"
fi

# ---------------------------------------------------------------- RESP
if [ "$RESP" = 1 ]; then
    bench_free_port rport
    bench_start redis "$BENCH_TMP/redis.log" redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no
    rpid=$BENCH_LAST_PID
    bench_wait_port "$rport" "$rpid" 10 || { cat "$BENCH_TMP/redis.log" >&2; bench_die "redis-server did not start"; }
    for k in $(seq 1 50); do
        [ "$(timeout 5 redis-cli -p "$rport" PING 2>/dev/null)" = PONG ] && break
        sleep 0.1
    done
    # every key exists: GETs hit, for both tools
    awk 'BEGIN { v = sprintf("%064d", 0); gsub(/0/, "x", v)
        for (i = 0; i < 100000; i++) { k = sprintf("key:%012d", i)
            printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n", length(k), k, v } }' >"$BENCH_TMP/keys.resp"
    bench_run "$RUN_TIMEOUT" redis-cli -p "$rport" --pipe <"$BENCH_TMP/keys.resp" >"$BENCH_TMP/pipe.out" 2>&1 ||
        { cat "$BENCH_TMP/pipe.out" >&2; bench_die "loading keys failed"; }
    [ "$(timeout 5 redis-cli -p "$rport" DBSIZE)" = 100000 ] || bench_die "redis-server does not hold the 100000 keys"
    bench_log "== RESP: redis-server pid $rpid on 127.0.0.1:$rport; $ROUNDS round(s); pipelines: $PIPES"
    for r in $(seq 1 "$ROUNDS"); do
        for p in $PIPES; do
            n=$N; [ "$p" = 1 ] || n=$(( N * 8 ))
            CUR_N=$n
            tools="redis-benchmark scaleout"; [ $(( r % 2 )) = 0 ] && tools="scaleout redis-benchmark"
            for t in $tools; do
                out="$BENCH_TMP/run.out"
                if [ "$t" = redis-benchmark ]; then
                    measure resp redis-benchmark "P=$p" "$r" "$rpid" "$out" redis-benchmark -h 127.0.0.1 -p "$rport" \
                        -t get -c 50 -n "$n" -P "$p" -r 100000 -d 64 --csv
                else
                    measure resp scaleout "P=$p" "$r" "$rpid" "$out" "$SCALEOUT_BIN" bench "redis://127.0.0.1:$rport" \
                        -t 1 -c 50 -n "$n" -P "$p" --ratio 1:0 --keys 100000 --value-size 64 --progress off \
                        --json "$out.json"
                fi
            done
        done
    done
    bench_stop "$rpid"
fi

# ---------------------------------------------------------------- report
med() {  # med KIND TOOL PARAM COLUMN(5=rps 6=tool_cpu 7=server_cpu 8=other)
    awk -v k="$1" -v t="$2" -v p="$3" -v c="$4" '$1 == k && $2 == t && $3 == p { print $c }' "$results" | bench_median
}
spread() {
    awk -v k="$1" -v t="$2" -v p="$3" '$1 == k && $2 == t && $3 == p { print $5 }' "$results" | bench_spread_pct
}
elapsed=$(( $(date +%s) - start_time ))
today=$(date +%F)
machine=$(bench_machine)
other_load=$(awk '{ s += $8; if ($8 > m) m = $8 } END { if (NR) printf "%.2f cores on average, %.2f at most", s / NR, m }' "$results")
versions="scaleout: $(timeout 5 "$SCALEOUT_BIN" --version 2>/dev/null | head -n 1)"
[ "$HTTP" = 1 ] && versions="$versions; wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }'); nginx $("$NGINX" -v 2>&1 | awk -F/ '{ print $2 }')"
[ "$RESP" = 1 ] && versions="$versions; redis-benchmark $(redis-benchmark --version | awk '{ print $2 }'); redis-server $(redis-server --version | awk '{ for (f = 1; f <= NF; f++) if ($f ~ /^v=/) print substr($f, 3) }')"

md="$BENCH_TMP/md"
: >"$md"
echo
echo "scaleout bench vs wrk / redis-benchmark -- $today -- $machine"
echo "$versions"
echo "other load on the machine during the runs: $other_load"
echo
printf '%-5s %-7s %-16s %12s %7s %12s %12s | %6s %6s %6s\n' kind param tool "req/s" spread "tool us/req" "server us/req" "req/s" "tool" "server"
for kind in http resp; do
    if [ "$kind" = http ]; then [ "$HTTP" = 1 ] || continue; params=""; for c in $CONNS; do params="$params c=$c"; done; base=wrk
    else [ "$RESP" = 1 ] || continue; params=""; for p in $PIPES; do params="$params P=$p"; done; base=redis-benchmark; fi
    for p in $params; do
        b_rps=$(med "$kind" "$base" "$p" 5) b_cpu=$(med "$kind" "$base" "$p" 6) b_srv=$(med "$kind" "$base" "$p" 7)
        for t in "$base" scaleout; do
            rps=$(med "$kind" "$t" "$p" 5) cpu=$(med "$kind" "$t" "$p" 6) srv=$(med "$kind" "$t" "$p" 7)
            if [ "$t" = scaleout ]; then
                ratios=("$(bench_ratio "$rps" "$b_rps")" "$(bench_ratio "$cpu" "$b_cpu")" "$(bench_ratio "$srv" "$b_srv")")
            else ratios=("" "" ""); fi
            printf '%-5s %-7s %-16s %12.0f %6s%% %12.2f %12.2f | %6s %6s %6s\n' "$kind" "$p" "$t" "$rps" \
                "$(spread "$kind" "$t" "$p")" "$cpu" "$srv" "${ratios[@]}"
            echo "| $kind | $p | $t | $(printf '%.0f' "$rps") | $(spread "$kind" "$t" "$p")% | $(printf '%.2f' "$cpu") | $(printf '%.2f' "$srv") | ${ratios[0]} | ${ratios[1]} | ${ratios[2]} |" >>"$md"
        done
    done
done
echo
echo "runtime: ${elapsed} s"
echo
echo "----- 8< ----- markdown for docs/BENCHMARKS.md -----"
echo
echo "### bench vs wrk and redis-benchmark, $today"
echo
echo "- Machine: $machine"
echo "- Versions: $versions"
echo "- Run: \`ROUNDS=$ROUNDS DURATION=$DURATION CONNS=\"$CONNS\" PIPES=\"$PIPES\" N=$N bench/bench-vs-wrk.sh\` ($elapsed s); other load during the runs: $other_load"
echo "- Method: one thread per tool, same connections; HTTP: \`wrk -t1 -cC -d${DURATION}s\` vs \`scaleout bench URL -t 1 -c C -d ${DURATION}s\` on nginx (1 worker, 612-byte static page); RESP: \`redis-benchmark -t get -c 50 -P P -r 100000 -d 64\` vs \`scaleout bench redis://... -t 1 -c 50 -P P --ratio 1:0 --keys 100000\` on redis-server with the 100,000 keys loaded. Tools in alternation, medians of $ROUNDS round(s). Ratios are scaleout / the other tool: req/s higher is better (goal >= 0.90), tool CPU per request lower is better, server CPU per request ~1.00 means both sent the same work."
echo
echo "| kind | param | tool | req/s | spread | tool CPU us/req | server CPU us/req | req/s ratio | tool CPU ratio | server CPU ratio |"
echo "|---|---|---|--:|--:|--:|--:|--:|--:|--:|"
cat "$md"
echo
echo "----- >8 -----"
