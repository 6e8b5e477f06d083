#!/usr/bin/env bash
# bench/lb-vs-haproxy-nginx.sh — `scaleout lb` side by side with HAProxy and
# nginx as reverse proxies (L7), and with HAProxy's mode tcp (L4).
#
# METHOD
#   Two backends: one nginx (worker_processes 1) listening on two ports, each
#   answering `return 200 "ok\n"` (a fixed small 200) with keep-alive. In front
#   of them, in turn, with the same round-robin over the two:
#     haproxy   HAProxy (Debian's 2.6), mode http, nbthread T, http-reuse safe
#               (server-side keep-alive), no logging
#     nginx     nginx reverse proxy, worker_processes T, upstream keepalive 64,
#               proxy_http_version 1.1, no access log
#     scaleout  scaleout lb --threads T (keep-alive pool to the backends)
#   and for L4 haproxy mode tcp against scaleout lb --mode tcp.
#   Each proxy is started fresh, must answer 200 with the backends' body, gets a
#   1 s warm-up, then `wrk -t 2 -c 64 -d DURATION --latency` runs against it.
#   Proxies run in alternation within a round, and the order is reversed every
#   other round; each figure is the median over ROUNDS. req/s, p50 and p99 are
#   wrk's; CPU us/req is the proxy's utime+stime (/proc/PID/stat, summed over
#   its process group: nginx's master and workers) over the wrk run, divided by
#   the requests wrk completed. A run with socket errors or non-2xx answers is
#   reported (a proxy answering errors fast would otherwise look good).
#
# HOW TO READ
#   Ratios are scaleout / haproxy (and scaleout / nginx): req/s above 1 is
#   better, p50, p99 and CPU below 1. On a 2-core machine wrk, the backends and
#   the proxy share the cores, so req/s and latency mostly show how much CPU
#   the proxy leaves to the others; CPU us/req is the proxy's own cost and the
#   steadiest figure. "other load" is what the rest of the machine used.
#
# USAGE
#   bench/lb-vs-haproxy-nginx.sh                 (ROUNDS=3 DURATION=10 THREADS="1 2")
#   ROUNDS=1 DURATION=5 THREADS=1 L4=0 bench/lb-vs-haproxy-nginx.sh
#   Results go to stdout as a Markdown table (paste into docs/BENCHMARKS.md).
#
# Needs: haproxy, nginx, wrk, curl (scripts/install-deps.sh installs them).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
THREADS=${THREADS:-"1 2"}
CONNS=${CONNS:-64}
L4=${L4:-1}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}

for tool in haproxy nginx wrk curl; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed (scripts/install-deps.sh)"
done
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
NGINX=$(command -v nginx)
HAPROXY=$(command -v haproxy)

bench_init lb-bench
start_s=$(date +%s)

# ---- backends ---------------------------------------------------------------
bench_free_port B1
bench_free_port B2
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
    keepalive_timeout 75s;
    client_body_temp_path $BENCH_TMP/backend;
    proxy_temp_path $BENCH_TMP/backend;
    fastcgi_temp_path $BENCH_TMP/backend;
    uwsgi_temp_path $BENCH_TMP/backend;
    scgi_temp_path $BENCH_TMP/backend;
    server { listen 127.0.0.1:$B1; location / { return 200 "ok\n"; } }
    server { listen 127.0.0.1:$B2; location / { return 200 "ok\n"; } }
}
EOF
bench_start backends "$BENCH_TMP/backend/log" "$NGINX" -p "$BENCH_TMP/backend" -c "$BENCH_TMP/backend/nginx.conf"
BACKEND_PID=$BENCH_LAST_PID
bench_wait_port "$B1" "$BACKEND_PID" 10 && bench_wait_port "$B2" "$BACKEND_PID" 10 ||
    bench_die "backend nginx did not start: $(cat "$BENCH_TMP/backend/log")"

# ---- proxies ------------------------------------------------------------------
# write_config KIND THREADS PORT: config file of a proxy, path on stdout
write_config() {
    local kind=$1 t=$2 port=$3 dir=$BENCH_TMP/$1-$2
    mkdir -p "$dir"
    case $kind in
    haproxy | haproxy-tcp)
        local mode=http extra="    option http-keep-alive
    http-reuse safe"
        if [ "$kind" = haproxy-tcp ]; then mode=tcp; extra=""; fi
        cat >"$dir/haproxy.cfg" <<EOF
global
    nbthread $t
    maxconn 4096
defaults
    mode $mode
    timeout connect 3s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
$extra
frontend fe
    bind 127.0.0.1:$port
    default_backend be
backend be
    balance roundrobin
    server b1 127.0.0.1:$B1
    server b2 127.0.0.1:$B2
EOF
        echo "$dir/haproxy.cfg" ;;
    nginx)
        cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes $t;
pid $dir/nginx.pid;
error_log $dir/error.log error;
events { worker_connections 8192; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir;
    proxy_temp_path $dir;
    fastcgi_temp_path $dir;
    uwsgi_temp_path $dir;
    scgi_temp_path $dir;
    upstream be {
        server 127.0.0.1:$B1;
        server 127.0.0.1:$B2;
        keepalive 64;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
        echo "$dir/nginx.conf" ;;
    esac
}

# start_proxy KIND THREADS PORT: starts it, sets PROXY_PID
start_proxy() {
    local kind=$1 t=$2 port=$3 cfg
    case $kind in
    haproxy | haproxy-tcp)
        cfg=$(write_config "$kind" "$t" "$port")
        bench_start "$kind-t$t" "$BENCH_TMP/$kind-$t.log" "$HAPROXY" -db -f "$cfg" ;;
    nginx)
        cfg=$(write_config nginx "$t" "$port")
        bench_start "nginx-t$t" "$BENCH_TMP/nginx-$t.log" "$NGINX" -p "$(dirname "$cfg")" -c "$cfg" ;;
    scaleout)
        bench_start "scaleout-t$t" "$BENCH_TMP/scaleout-$t.log" "$SCALEOUT" lb --listen "127.0.0.1:$port" \
            --backend "127.0.0.1:$B1" --backend "127.0.0.1:$B2" --threads "$t" --admin-port 0 --loglevel warning ;;
    scaleout-tcp)
        bench_start "scaleout-tcp-t$t" "$BENCH_TMP/scaleout-tcp-$t.log" "$SCALEOUT" lb --listen "127.0.0.1:$port" \
            --mode tcp --backend "127.0.0.1:$B1" --backend "127.0.0.1:$B2" --threads "$t" --admin-port 0 \
            --loglevel warning ;;
    esac
    PROXY_PID=$BENCH_LAST_PID
    bench_wait_port "$port" "$PROXY_PID" 10 || bench_die "$kind did not start: $(tail -5 "$BENCH_TMP/$kind-$t.log")"
}

RESULTS=$BENCH_TMP/results   # lines: kind threads rps p50 p99 cpu_us errors
: >"$RESULTS"

# measure KIND THREADS
measure() {
    local kind=$1 t=$2 port rps p50 p99 cpu errs
    bench_free_port port
    start_proxy "$kind" "$t" "$port"
    body=$(curl -s --max-time 5 "http://127.0.0.1:$port/") || true
    [ "$body" = ok ] || bench_die "$kind answered '$body' instead of ok"
    read -r rps p50 p99 cpu errs <<<"$(bench_wrk_cpu bench_group_ticks "$PROXY_PID" "$CONNS" "$DURATION" "http://127.0.0.1:$port/")"
    bench_stop "$PROXY_PID"
    echo "$kind $t $rps $p50 $p99 $cpu $errs" >>"$RESULTS"
    bench_log "$kind t$t: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu us/req, errors $errs"
}

busy0=$(bench_sys_busy_ticks)
for r in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        kinds="haproxy nginx scaleout"
        [ "$L4" = 1 ] && kinds="$kinds haproxy-tcp scaleout-tcp"
        if [ $(( r % 2 )) = 0 ]; then kinds=$(echo "$kinds" | tr ' ' '\n' | tac | tr '\n' ' '); fi
        for k in $kinds; do
            bench_log "round $r/$ROUNDS, threads $t: $k"
            measure "$k" "$t"
        done
    done
done
busy1=$(bench_sys_busy_ticks)
elapsed=$(( $(date +%s) - start_s ))

# ---- report -----------------------------------------------------------------
med() { bench_col_median "$RESULTS" "$3" "$1" "$2"; }
errsum() { bench_col_sum "$RESULTS" 7 "$1" "$2"; }

echo "### lb vs HAProxy and nginx, $(date +%Y-%m-%d)"
echo
echo "- Machine: $(bench_machine)"
echo "- Versions: $("$HAPROXY" -v | head -1 | awk '{ print "HAProxy " $3 }'); $("$NGINX" -v 2>&1 | sed 's/.*version: //'); $("$SCALEOUT" --version); $(wrk -v 2>&1 | head -1 | awk '{ print $1 " " $2 }')"
echo "- Run: \`ROUNDS=$ROUNDS DURATION=$DURATION THREADS=\"$THREADS\" CONNS=$CONNS L4=$L4 bench/lb-vs-haproxy-nginx.sh\` (${elapsed} s)"
echo "- Method: \`wrk -t 2 -c $CONNS -d ${DURATION}s --latency\` through each proxy to two nginx backends returning a fixed 200 (\"ok\\n\"), round robin, keep-alive both sides; proxies in alternation, median of $ROUNDS round(s). CPU = proxy utime+stime per request. Ratios are scaleout / other: req/s higher is better, the rest lower is better."
awk -v b0="$busy0" -v b1="$busy1" -v s="$elapsed" -v hz="$BENCH_CLK_TCK" 'BEGIN {
    if (s > 0) printf "- Whole machine busy during the runs (proxies, wrk and backends included): %.2f cores on average.\n", (b1 - b0) / hz / s }'
echo
echo "| mode | threads | proxy | req/s | p50 ms | p99 ms | CPU us/req | errors | req/s ratio | p50 ratio | p99 ratio | CPU ratio |"
echo "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
row() {
    local mode=$1 t=$2 k=$3 ref=$4 rps p50 p99 cpu
    rps=$(med "$k" "$t" 3); p50=$(med "$k" "$t" 4); p99=$(med "$k" "$t" 5); cpu=$(med "$k" "$t" 6)
    if [ -n "$ref" ]; then
        printf '| %s | %s | %s | %.0f | %.3f | %.3f | %.2f | %s | %s | %s | %s | %s |\n' "$mode" "$t" "$k vs ${ref%%-*}" \
            "$rps" "$p50" "$p99" "$cpu" "$(errsum "$k" "$t")" \
            "$(bench_ratio "$rps" "$(med "$ref" "$t" 3)")" "$(bench_ratio "$p50" "$(med "$ref" "$t" 4)")" \
            "$(bench_ratio "$p99" "$(med "$ref" "$t" 5)")" "$(bench_ratio "$cpu" "$(med "$ref" "$t" 6)")"
    else
        printf '| %s | %s | %s | %.0f | %.3f | %.3f | %.2f | %s |  |  |  |  |\n' "$mode" "$t" "$k" \
            "$rps" "$p50" "$p99" "$cpu" "$(errsum "$k" "$t")"
    fi
}
for t in $THREADS; do
    row L7 "$t" haproxy ""
    row L7 "$t" nginx ""
    row L7 "$t" scaleout haproxy
    row L7 "$t" scaleout nginx
    if [ "$L4" = 1 ]; then
        row L4 "$t" haproxy-tcp ""
        row L4 "$t" scaleout-tcp haproxy-tcp
    fi
done
