#!/usr/bin/env bash
# bench/h2-vs-nginx.sh — `scaleout lb` speaking HTTP/2 (ALPN h2 over TLS) to
# its clients, side by side with nginx doing the same, same certificate, same
# HTTP/1.1 backend, in one run.
#
# METHOD
#   A P-256 certificate is made for the run. One backend: nginx (1 worker)
#   answering a fixed `200 "ok\n"` with keep-alive. In front of it, in turn:
#     nginx     nginx 1.22 (Debian's), one process (master_process off),
#               `listen ... ssl http2`, proxy_pass to an upstream with
#               keepalive NGINX_KEEPALIVE (64) (HTTP/1.1 to the backend), no logging
#     scaleout  scaleout lb --threads 1 --tls-cert ... (h2 offered first by ALPN)
#   Load: `h2load -n REQUESTS -c 10 -m 10 https://...` (h2load from Debian's
#   nghttp2-client: 10 connections, 10 concurrent streams each). Figures:
#   req/s as h2load reports it, the mean and max time per request, p50 and
#   p99 computed from h2load's per-request log (--log-file: the time to the
#   end of each response), and CPU us per request: the proxy's utime+stime
#   from /proc/PID/stat over the run divided by the requests done.
#   Proxies alternate within a round, the order reversed every other round;
#   each figure is the median over ROUNDS.
#
#   NGINX_KEEPALIVE (default 64) is the front nginx's upstream `keepalive`:
#   at 100 concurrent streams a pool of 64 makes nginx connect and close
#   for about one request in five; 128 shows nginx without that churn
#   (the lb keeps a burst's surplus idle connections for 1 s, see lb.md).
#   With SCALEOUT_OLD_BIN set, a second scaleout binary (e.g. main's, built
#   in another clone) runs too, as "scaleout-old", in the same alternation:
#   old, new and nginx measured in one run. The load average (1 min) is
#   read before and after the runs.
#
# USAGE
#   bench/h2-vs-nginx.sh                     (ROUNDS=1 REQUESTS=200000)
#   SCALEOUT_OLD_BIN=../old/scaleout ROUNDS=5 bench/h2-vs-nginx.sh
#   Results go to stdout as a Markdown table (paste into docs/BENCHMARKS.md).
#
# Needs: nginx, h2load (nghttp2-client), openssl, curl (scripts/install-deps.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

ROUNDS=${ROUNDS:-1}
REQUESTS=${REQUESTS:-200000}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}
SCALEOUT_OLD=${SCALEOUT_OLD_BIN:-}
NGINX_KEEPALIVE=${NGINX_KEEPALIVE:-64}

for tool in nginx h2load openssl curl; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed (scripts/install-deps.sh)"
done
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
[ -z "$SCALEOUT_OLD" ] || [ -x "$SCALEOUT_OLD" ] || bench_die "SCALEOUT_OLD_BIN=$SCALEOUT_OLD is not an executable"
NGINX=$(command -v nginx)

bench_init h2-bench
start_s=$(date +%s)

C=$BENCH_TMP/cert
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/srv.key" -out "$C/srv.pem" \
    -days 2 -subj /CN=bench.test -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" 2>/dev/null

# nginx_conf DIR MASTER(on|off) SERVER_BLOCK...: a one-worker nginx config in DIR/nginx.conf
nginx_conf() {
    local d=$1 master=$2
    shift 2
    mkdir -p "$d"
    cat >"$d/nginx.conf" <<EOF
daemon off;
master_process $master;
worker_processes 1;
error_log $d/error.log error;
pid $d/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $d; proxy_temp_path $d; fastcgi_temp_path $d; uwsgi_temp_path $d; scgi_temp_path $d;
    $*
}
EOF
}

# ---- backend ------------------------------------------------------------------
bench_free_port B1
nginx_conf "$BENCH_TMP/backend" on "server { listen 127.0.0.1:$B1; location / { return 200 \"ok\\n\"; } }"
bench_start backend "$BENCH_TMP/backend/log" "$NGINX" -p "$BENCH_TMP/backend" -c "$BENCH_TMP/backend/nginx.conf"
BACKEND_PID=$BENCH_LAST_PID
bench_wait_port "$B1" "$BACKEND_PID" 10 || bench_die "backend nginx did not start: $(cat "$BENCH_TMP/backend/log")"

# ---- proxies ------------------------------------------------------------------
start_proxy() {
    local kind=$1 port=$2
    case $kind in
    nginx)
        nginx_conf "$BENCH_TMP/front" off "http2_max_requests 1000000;
    upstream be { server 127.0.0.1:$B1; keepalive $NGINX_KEEPALIVE; }
    server {
        listen 127.0.0.1:$port ssl http2;
        ssl_certificate $C/srv.pem;
        ssl_certificate_key $C/srv.key;
        location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
    }"
        bench_start nginx "$BENCH_TMP/nginx.log" "$NGINX" -p "$BENCH_TMP/front" -c "$BENCH_TMP/front/nginx.conf" ;;
    scaleout|scaleout-old)
        local bin=$SCALEOUT
        [ "$kind" = scaleout ] || bin=$SCALEOUT_OLD
        bench_start "$kind" "$BENCH_TMP/$kind.log" "$bin" lb --listen "127.0.0.1:$port" \
            --backend "127.0.0.1:$B1" --threads 1 --admin-port 0 --loglevel warning \
            --tls-cert "$C/srv.pem" "$C/srv.key" --tls-max-handshakes 0 ;;
    esac
    PROXY_PID=$BENCH_LAST_PID
    bench_wait_port "$port" "$PROXY_PID" 10 || bench_die "$kind did not start: $(tail -5 "$BENCH_TMP/$kind.log")"
}

RESULTS=$BENCH_TMP/results   # kind rps mean_ms max_ms cpu_us failed p50_ms p99_ms
: >"$RESULTS"

measure() {
    local kind=$1 port c0 c1 out body rps mean max done ok cpu p50 p99
    bench_free_port port
    start_proxy "$kind" "$port"
    body=$(curl -sk --http2 --max-time 5 "https://127.0.0.1:$port/") || true
    [ "$body" = ok ] || bench_die "$kind answered '$body' instead of ok"
    bench_run 60 h2load -n 20000 -c 10 -m 10 "https://127.0.0.1:$port/" >/dev/null 2>&1 || true   # warm-up
    c0=$(bench_cpu_ticks "$PROXY_PID")
    out=$(bench_run 600 h2load -n "$REQUESTS" -c 10 -m 10 --log-file="$BENCH_TMP/h2load.log" "https://127.0.0.1:$port/")
    c1=$(bench_cpu_ticks "$PROXY_PID")
    bench_stop "$PROXY_PID"
    grep -q "Application protocol: h2" <<<"$out" || bench_die "$kind did not speak h2: $out"
    rps=$(awk '/^finished in/ { print $4; exit }' <<<"$out")
    done=$(awk '/^requests:/ { print $6; exit }' <<<"$out")
    ok=$(awk '/^status codes:/ { print $3; exit }' <<<"$out")
    max=$(bench_to_ms "$(awk '/^time for request:/ { print $5; exit }' <<<"$out")")
    mean=$(bench_to_ms "$(awk '/^time for request:/ { print $6; exit }' <<<"$out")")
    cpu=$(bench_us_per "$c0" "$c1" "$done")
    # percentiles from h2load's per-request log (3rd column: microseconds to the end of the response)
    read -r p50 p99 < <(cut -f3 "$BENCH_TMP/h2load.log" | sort -n | awk '{ v[NR] = $1 }
        END { if (NR == 0) { print "0 0"; exit } i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
              printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
    rm -f "$BENCH_TMP/h2load.log"
    echo "$kind $rps $mean $max $cpu $(( REQUESTS - ok )) $p50 $p99" >>"$RESULTS"
    bench_log "$kind: $rps req/s, mean $mean ms, p50 $p50 ms, p99 $p99 ms, max $max ms, $cpu us CPU/req, failed or non-2xx $(( REQUESTS - ok ))"
}

ALL="nginx scaleout"
[ -z "$SCALEOUT_OLD" ] || ALL="nginx scaleout-old scaleout"
load0=$(cut -d' ' -f1 /proc/loadavg)
busy0=$(bench_sys_busy_ticks)
for r in $(seq 1 "$ROUNDS"); do
    kinds=$ALL
    if [ $(( r % 2 )) = 0 ]; then kinds=$(tr ' ' '\n' <<<"$ALL" | tac | tr '\n' ' '); fi
    for k in $kinds; do
        bench_log "round $r/$ROUNDS: $k"
        measure "$k"
    done
done
busy1=$(bench_sys_busy_ticks)
load1=$(cut -d' ' -f1 /proc/loadavg)
elapsed=$(( $(date +%s) - start_s ))

med() { bench_col_median "$RESULTS" "$2" "$1"; }
errsum() { bench_col_sum "$RESULTS" 6 "$1"; }

echo "### lb HTTP/2 (h2 over TLS) vs nginx, $(date +%Y-%m-%d)"
echo
echo "- Machine: $(bench_machine)"
echo "- Versions: $("$NGINX" -v 2>&1 | awk -F/ '{ print "nginx " $2 }'); $("$SCALEOUT" --version)${SCALEOUT_OLD:+ (scaleout-old: another build of it)}; $(h2load --version 2>&1 | head -1); $(openssl version | awk '{ print $1 " " $2 }')"
echo "- Run: \`${SCALEOUT_OLD:+SCALEOUT_OLD_BIN=<old build> }NGINX_KEEPALIVE=$NGINX_KEEPALIVE ROUNDS=$ROUNDS REQUESTS=$REQUESTS bench/h2-vs-nginx.sh\` (${elapsed} s); load average (1 min) $load0 before, $load1 after"
echo "- Method: one thread / one process each, same P-256 certificate, one nginx backend returning a fixed 200 over HTTP/1.1 keep-alive. Load: \`h2load -n $REQUESTS -c 10 -m 10 https://...\` (ALPN h2). CPU = proxy utime+stime per request. p50/p99 from h2load's per-request log (\`--log-file\`, time to the end of each response). Median of $ROUNDS round(s); ratio scaleout / nginx."
awk -v b0="$busy0" -v b1="$busy1" -v s="$elapsed" -v hz="$BENCH_CLK_TCK" 'BEGIN {
    if (s > 0) printf "- Whole machine busy during the runs (proxies, h2load and backend included): %.2f cores on average.\n", (b1 - b0) / hz / s }'
echo
echo "| proxy | req/s | mean ms | p50 ms | p99 ms | max ms | CPU us/req | failed or non-2xx |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|"
for k in $ALL; do
    printf '| %s | %.0f | %.3f | %.3f | %.3f | %.3f | %.2f | %s |\n' "$k" "$(med "$k" 2)" "$(med "$k" 3)" "$(med "$k" 7)" \
        "$(med "$k" 8)" "$(med "$k" 4)" "$(med "$k" 5)" "$(errsum "$k")"
done
printf '| ratio | %s | %s | %s | %s | %s | %s | |\n' \
    "$(bench_ratio "$(med scaleout 2)" "$(med nginx 2)")" "$(bench_ratio "$(med scaleout 3)" "$(med nginx 3)")" \
    "$(bench_ratio "$(med scaleout 7)" "$(med nginx 7)")" "$(bench_ratio "$(med scaleout 8)" "$(med nginx 8)")" \
    "$(bench_ratio "$(med scaleout 4)" "$(med nginx 4)")" "$(bench_ratio "$(med scaleout 5)" "$(med nginx 5)")"
if [ -n "$SCALEOUT_OLD" ]; then
    printf '| new / old | %s | %s | %s | %s | %s | %s | |\n' \
        "$(bench_ratio "$(med scaleout 2)" "$(med scaleout-old 2)")" "$(bench_ratio "$(med scaleout 3)" "$(med scaleout-old 3)")" \
        "$(bench_ratio "$(med scaleout 7)" "$(med scaleout-old 7)")" "$(bench_ratio "$(med scaleout 8)" "$(med scaleout-old 8)")" \
        "$(bench_ratio "$(med scaleout 4)" "$(med scaleout-old 4)")" "$(bench_ratio "$(med scaleout 5)" "$(med scaleout-old 5)")"
fi
echo
echo "CPU us/req per round (in run order):"
for k in $ALL; do
    echo "- $k: $(awk -v k="$k" '$1 == k { printf "%s ", $5 }' "$RESULTS")"
done
