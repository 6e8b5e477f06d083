#!/usr/bin/env bash
# bench/edge-vs-varnish.sh — the lb's edge cache (`scaleout lb --cache`) side
# by side with nginx proxy_cache and Varnish, serving cache hits.
#
# METHOD
#   One origin: nginx (worker_processes 1) answering every path with a fixed
#   1 KiB body and `Cache-Control: max-age=3600`. In front of it, in turn:
#     nginx     nginx proxy_cache (worker_processes T, keys_zone 10m,
#               max_size 64m, proxy_cache_lock on, upstream keepalive), no log
#     varnish   varnishd -F -s malloc,64m, the built-in VCL (-b origin)
#     scaleout  scaleout lb --cache 64mb --threads T
#   Each proxy is started fresh and warmed (one request: the miss), must then
#   answer a hit (checked on its own header: X-Cache HIT for scaleout and
#   nginx, a second id in X-Varnish for Varnish) with the 1 KiB body; then a
#   1 s wrk warm-up and `wrk -t 2 -c CONNS -d DURATION --latency` on the same
#   URL (every request a hit, keep-alive). Proxies alternate within a round,
#   the order reversed every other round; figures are medians over ROUNDS.
#   CPU us/req = the proxy's utime+stime (/proc/PID/stat, summed over its
#   process group: nginx master + workers, varnish manager + child) during
#   the wrk run / requests wrk completed.
#
# USAGE
#   bench/edge-vs-varnish.sh                  (ROUNDS=3 DURATION=10 THREADS=1 CONNS=64)
#   ROUNDS=1 DURATION=5 bench/edge-vs-varnish.sh
#   Markdown table on stdout (paste into docs/BENCHMARKS.md).
#
# Needs: nginx, varnish (varnishd), wrk, curl (scripts/install-deps.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
THREADS=${THREADS:-1}
CONNS=${CONNS:-64}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}

for tool in nginx wrk curl; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed (scripts/install-deps.sh)"
done
VARNISHD=$(command -v varnishd || echo /usr/sbin/varnishd)
[ -x "$VARNISHD" ] || bench_die "varnishd is not installed (scripts/install-deps.sh installs varnish)"
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
NGINX=$(command -v nginx)

bench_init edge-bench
chmod 755 "$BENCH_TMP"   # varnishd's child runs as its own user and reads its -n dir
start_s=$(date +%s)
BODY=$(head -c 1024 /dev/zero | tr '\0' 'x')

# ---- origin -------------------------------------------------------------------
bench_free_port ORIGIN
mkdir -p "$BENCH_TMP/origin"
cat >"$BENCH_TMP/origin/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
pid $BENCH_TMP/origin/nginx.pid;
error_log $BENCH_TMP/origin/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $BENCH_TMP/origin;
    proxy_temp_path $BENCH_TMP/origin;
    fastcgi_temp_path $BENCH_TMP/origin;
    uwsgi_temp_path $BENCH_TMP/origin;
    scgi_temp_path $BENCH_TMP/origin;
    server {
        listen 127.0.0.1:$ORIGIN;
        location / { default_type text/plain; add_header Cache-Control "max-age=3600"; return 200 "$BODY"; }
    }
}
EOF
bench_start origin "$BENCH_TMP/origin/log" "$NGINX" -p "$BENCH_TMP/origin" -c "$BENCH_TMP/origin/nginx.conf"
ORIGIN_PID=$BENCH_LAST_PID
bench_wait_port "$ORIGIN" "$ORIGIN_PID" 10 || bench_die "origin nginx did not start: $(cat "$BENCH_TMP/origin/log")"

# ---- proxies --------------------------------------------------------------------
nginx_conf() {
    local t=$1 port=$2 dir=$BENCH_TMP/nginx-$1-$2
    mkdir -p "$dir/cache"
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
    proxy_cache_path $dir/cache levels=1:2 keys_zone=edge:10m max_size=64m inactive=1h use_temp_path=off;
    upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache edge;
            proxy_cache_lock on;
            add_header X-Cache \$upstream_cache_status;
        }
    }
}
EOF
    echo "$dir/nginx.conf"
}

start_proxy() {
    local kind=$1 t=$2 port=$3 cfg
    case $kind in
    nginx)
        cfg=$(nginx_conf "$t" "$port")
        bench_start "nginx-t$t" "$BENCH_TMP/nginx-$t.log" "$NGINX" -p "$(dirname "$cfg")" -c "$cfg" ;;
    varnish)
        # -t 3600 is only the default TTL; the origin's max-age decides
        bench_start "varnish" "$BENCH_TMP/varnish.log" "$VARNISHD" -F -a "127.0.0.1:$port" -b "127.0.0.1:$ORIGIN" \
            -s malloc,64m -n "$BENCH_TMP/varnish-$port" -T none ;;
    scaleout)
        bench_start "scaleout-t$t" "$BENCH_TMP/scaleout-$t.log" "$SCALEOUT" lb --listen "127.0.0.1:$port" \
            --backend "127.0.0.1:$ORIGIN" --cache 64mb --threads "$t" --admin-port 0 --loglevel warning ;;
    esac
    PROXY_PID=$BENCH_LAST_PID
    bench_wait_port "$port" "$PROXY_PID" 20 || bench_die "$kind did not start: $(tail -5 "$BENCH_TMP/$kind"*.log)"
}

# is_hit KIND HEADERS: the proxy's own sign of a cache hit
is_hit() {
    case $1 in
    scaleout | nginx) grep -qi '^x-cache: HIT' <<<"$2" ;;
    varnish) grep -qiE '^x-varnish: [0-9]+ [0-9]+' <<<"$2" ;;
    esac
}

RESULTS=$BENCH_TMP/results
: >"$RESULTS"

measure() {
    local kind=$1 t=$2 port rps p50 p99 cpu errs hdrs body i
    bench_free_port port
    start_proxy "$kind" "$t" "$port"
    local u="http://127.0.0.1:$port/object-1k"
    for i in $(seq 1 50); do   # varnish's child may take a moment after the port opens
        body=$(curl -s --max-time 5 "$u") && [ "$body" = "$BODY" ] && break
        sleep 0.1
    done
    [ "$body" = "$BODY" ] || bench_die "$kind did not answer the 1 KiB body"
    hdrs=$(curl -s --max-time 5 -D - -o /dev/null "$u" | tr -d '\r')
    is_hit "$kind" "$hdrs" || bench_die "$kind: second request is not a hit: $hdrs"
    read -r rps p50 p99 cpu errs <<<"$(bench_wrk_cpu bench_group_ticks "$PROXY_PID" "$CONNS" "$DURATION" "$u")"
    bench_stop "$PROXY_PID"
    echo "$kind $t $rps $p50 $p99 $cpu $errs" >>"$RESULTS"
    bench_log "$kind t$t: $rps req/s, p50 $p50 ms, p99 $p99 ms, $cpu us/req, errors $errs"
}

busy0=$(bench_sys_busy_ticks)
for r in $(seq 1 "$ROUNDS"); do
    for t in $THREADS; do
        kinds="varnish nginx scaleout"
        if [ $(( r % 2 )) = 0 ]; then kinds="scaleout nginx varnish"; fi
        for k in $kinds; do
            bench_log "round $r/$ROUNDS, threads $t: $k"
            measure "$k" "$t"
        done
    done
done
busy1=$(bench_sys_busy_ticks)
elapsed=$(( $(date +%s) - start_s ))

med() { bench_col_median "$RESULTS" "$3" "$1" "$2"; }
errsum() { bench_col_sum "$RESULTS" 7 "$1" "$2"; }

echo "### lb edge cache vs Varnish and nginx proxy_cache (1 KiB hits), $(date +%Y-%m-%d)"
echo
echo "- Machine: $(bench_machine)"
echo "- Versions: $("$VARNISHD" -V 2>&1 | head -1 | sed 's/^varnishd (\(varnish-[^ ]*\).*/\1/'); $("$NGINX" -v 2>&1 | sed 's/.*version: //'); $("$SCALEOUT" --version); $(wrk -v 2>&1 | head -1 | awk '{ print $1 " " $2 }')"
echo "- Run: \`ROUNDS=$ROUNDS DURATION=$DURATION THREADS=\"$THREADS\" CONNS=$CONNS bench/edge-vs-varnish.sh\` (${elapsed} s)"
echo "- Method: \`wrk -t 2 -c $CONNS -d ${DURATION}s --latency\` on one cached 1 KiB URL (every request a hit, checked per proxy), keep-alive; proxies in alternation, median of $ROUNDS round(s). CPU = proxy utime+stime per request (process group). Ratios are scaleout / other: req/s higher is better, the rest lower."
awk -v b0="$busy0" -v b1="$busy1" -v s="$elapsed" -v hz="$BENCH_CLK_TCK" 'BEGIN {
    if (s > 0) printf "- Whole machine busy during the runs (everything included): %.2f cores on average.\n", (b1 - b0) / hz / s }'
echo
echo "| threads | proxy | req/s | p50 ms | p99 ms | CPU us/req | errors | req/s ratio | p99 ratio | CPU ratio |"
echo "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|"
row() {
    local t=$1 k=$2 ref=$3 rps p50 p99 cpu
    rps=$(med "$k" "$t" 3); p50=$(med "$k" "$t" 4); p99=$(med "$k" "$t" 5); cpu=$(med "$k" "$t" 6)
    if [ -n "$ref" ]; then
        printf '| %s | %s | %.0f | %.3f | %.3f | %.2f | %s | %s | %s | %s |\n' "$t" "$k vs $ref" "$rps" "$p50" "$p99" "$cpu" \
            "$(errsum "$k" "$t")" "$(bench_ratio "$rps" "$(med "$ref" "$t" 3)")" \
            "$(bench_ratio "$p99" "$(med "$ref" "$t" 5)")" "$(bench_ratio "$cpu" "$(med "$ref" "$t" 6)")"
    else
        printf '| %s | %s | %.0f | %.3f | %.3f | %.2f | %s |  |  |  |\n' "$t" "$k" "$rps" "$p50" "$p99" "$cpu" "$(errsum "$k" "$t")"
    fi
}
for t in $THREADS; do
    row "$t" varnish ""
    row "$t" nginx ""
    row "$t" scaleout varnish
    row "$t" scaleout nginx
done
