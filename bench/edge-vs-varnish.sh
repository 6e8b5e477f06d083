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
#   OPEN LOOP (after all closed-loop rounds): in a closed loop the faster
#   proxy is driven harder (2 wrk threads + the proxy busy on 2 cores), so its
#   tail is partly the scheduler's. Every proxy is then also driven at one
#   fixed rate that all of them sustain: `scaleout bench URL --rate RATE -c CONNS
#   -d DURATION` (latency counted from each request's scheduled send time, so
#   a stall is charged to every request that should have gone out during it),
#   after a 1 s warm-up at the same rate; proxies alternate as above, ROUNDS
#   rounds. RATE defaults to 70% of the slowest proxy's median closed-loop
#   req/s of this run (RATE=N fixes it; RATE=0 skips the open-loop phase).
#   Reported: p50/p99/p99.9, CPU us/req (same counting), the achieved rate,
#   per-proxy p99 spread (min-max over rounds), errors and unsent requests
#   (due but not sent at the end: all connections were waiting on the proxy).
#
# USAGE
#   bench/edge-vs-varnish.sh                  (ROUNDS=3 DURATION=10 THREADS=1 CONNS=64)
#   ROUNDS=1 DURATION=5 bench/edge-vs-varnish.sh
#   RATE=30000 bench/edge-vs-varnish.sh       (fixed open-loop rate)
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
RATE=${RATE:-}

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
OPEN=$BENCH_TMP/open
: >"$RESULTS"
: >"$OPEN"

# start_checked KIND T: start the proxy on a free port, warm it (the miss)
# and check that the next request is a hit with the 1 KiB body; sets $u.
start_checked() {
    local kind=$1 t=$2 port hdrs body
    bench_free_port port
    start_proxy "$kind" "$t" "$port"
    u="http://127.0.0.1:$port/object-1k"
    for _ in $(seq 1 50); do   # varnish's child may take a moment after the port opens
        body=$(curl -s --max-time 5 "$u") && [ "$body" = "$BODY" ] && break
        sleep 0.1
    done
    [ "$body" = "$BODY" ] || bench_die "$kind did not answer the 1 KiB body"
    hdrs=$(curl -s --max-time 5 -D - -o /dev/null "$u" | tr -d '\r')
    is_hit "$kind" "$hdrs" || bench_die "$kind: second request is not a hit: $hdrs"
}

measure() {
    local kind=$1 t=$2 u rps p50 p99 cpu errs
    start_checked "$kind" "$t"
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
# bench_open_parse JSON: "REQUESTS REQ/S P50_MS P99_MS P999_MS ERRORS UNSENT" of step 0
# (unsent: due but never sent by the end because every connection was waiting:
# a stall in the last moments of the run, not an error answer)
bench_open_parse() {
    python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["steps"][0]
l = s["latency_us"]
e = {k: v for k, v in s["errors"].items() if k != "total" and v}
if e or s.get("unsent"):
    print("errors by kind:", e, "unsent:", s.get("unsent"), "first:", s.get("first_error"), file=sys.stderr)
print(s["requests"], "%.1f" % s["requests_per_s"], "%.3f" % (l["p50"] / 1000), "%.3f" % (l["p99"] / 1000),
      "%.3f" % (l["p99.9"] / 1000), s["errors"]["total"], s.get("unsent", 0))
PY
}

# measure_open KIND T: the open-loop run at $RATE on a fresh proxy
measure_open() {
    local kind=$1 t=$2 u c0 c1 reqs rps p50 p99 p999 errs unsent cpu j=$BENCH_TMP/open.json
    start_checked "$kind" "$t"
    bench_run 30 "$SCALEOUT" bench "$u" --rate "$RATE" -c "$CONNS" -d 1s --progress off >/dev/null 2>&1 || true
    rm -f "$j"
    c0=$(bench_group_ticks "$PROXY_PID")
    bench_run $(( DURATION + 30 )) "$SCALEOUT" bench "$u" --rate "$RATE" -c "$CONNS" -d "${DURATION}s" \
        --progress off --json "$j" >"$BENCH_TMP/open.out" 2>&1 || bench_die "scaleout bench failed: $(tail -3 "$BENCH_TMP/open.out")"
    c1=$(bench_group_ticks "$PROXY_PID")
    bench_stop "$PROXY_PID"
    read -r reqs rps p50 p99 p999 errs unsent <<<"$(bench_open_parse "$j")"
    cpu=$(bench_us_per "$c0" "$c1" "$reqs")
    echo "$kind $t $rps $p50 $p99 $p999 $cpu $errs $unsent" >>"$OPEN"
    bench_log "open $kind t$t @ $RATE/s: $rps req/s, p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms, $cpu us/req, errors $errs, unsent $unsent"
}

if [ -z "$RATE" ]; then
    slow=""
    for t in $THREADS; do
        for k in varnish nginx scaleout; do
            v=$(bench_col_median "$RESULTS" 3 "$k" "$t")
            slow=$(awk -v a="$slow" -v b="$v" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }')
        done
    done
    RATE=$(awk -v s="$slow" 'BEGIN { printf "%d\n", int(s * 0.7 / 1000) * 1000 }')
    [ "$RATE" -gt 0 ] || RATE=1000
    RATE_HOW="70% of the slowest proxy's closed-loop req/s, rounded down to 1000"
else
    RATE_HOW="fixed by RATE"
fi
open_s=$(date +%s)
if [ "$RATE" != 0 ]; then
    for r in $(seq 1 "$ROUNDS"); do
        for t in $THREADS; do
            kinds="varnish nginx scaleout"
            if [ $(( r % 2 )) = 0 ]; then kinds="scaleout nginx varnish"; fi
            for k in $kinds; do
                bench_log "open loop round $r/$ROUNDS, threads $t: $k at $RATE req/s"
                measure_open "$k" "$t"
            done
        done
    done
fi
open_elapsed=$(( $(date +%s) - open_s ))

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

[ "$RATE" != 0 ] || exit 0
omed() { bench_col_median "$OPEN" "$3" "$1" "$2"; }
orange() {
    awk -v c="$3" -v k="$1" -v t="$2" '$1 == k && $2 == t { print $c }' "$OPEN" | sort -g |
        awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s\n", lo, hi }'
}
echo
echo "Open loop at $RATE req/s ($RATE_HOW): \`scaleout bench URL --rate $RATE -c $CONNS -d ${DURATION}s\`, latency from the scheduled send times; same proxies, alternation and CPU counting; medians of $ROUNDS round(s), p99 range = min-max over the rounds; ${open_elapsed} s."
echo
echo "| threads | proxy | req/s | p50 ms | p99 ms | p99.9 ms | p99 range ms | CPU us/req | errors / unsent | p99 ratio | p99.9 ratio | CPU ratio |"
echo "|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
orow() {
    local t=$1 k=$2 ref=$3 rps p50 p99 p999 cpu
    rps=$(omed "$k" "$t" 3); p50=$(omed "$k" "$t" 4); p99=$(omed "$k" "$t" 5); p999=$(omed "$k" "$t" 6); cpu=$(omed "$k" "$t" 7)
    printf '| %s | %s | %.0f | %.3f | %.3f | %.3f | %s | %.2f | %s / %s |' "$t" "$k${ref:+ vs $ref}" "$rps" "$p50" "$p99" "$p999" \
        "$(orange "$k" "$t" 5)" "$cpu" "$(bench_col_sum "$OPEN" 8 "$k" "$t")" "$(bench_col_sum "$OPEN" 9 "$k" "$t")"
    if [ -n "$ref" ]; then
        printf ' %s | %s | %s |\n' "$(bench_ratio "$p99" "$(omed "$ref" "$t" 5)")" \
            "$(bench_ratio "$p999" "$(omed "$ref" "$t" 6)")" "$(bench_ratio "$cpu" "$(omed "$ref" "$t" 7)")"
    else
        printf '  |  |  |\n'
    fi
}
for t in $THREADS; do
    orow "$t" varnish ""
    orow "$t" nginx ""
    orow "$t" scaleout varnish
    orow "$t" scaleout nginx
done
