#!/usr/bin/env bash
# bench/tls-vs-haproxy.sh — `scaleout lb` terminating TLS, side by side with
# HAProxy terminating TLS, same certificate, same backend, in one run.
#
# METHOD
#   A certificate is made for the run (openssl CLI: a P-256 ECDSA key signed by
#   a throw-away CA; KEY=rsa for RSA-2048). One backend: nginx (1 worker)
#   answering a fixed `200 "ok\n"` with keep-alive. In front of it, in turn:
#     haproxy   HAProxy (Debian's 2.6), mode http, `bind ... ssl crt ... alpn
#               http/1.1`, nbthread 1, http-reuse safe, no logging
#     scaleout  scaleout lb --threads 1 --tls-cert ... (its defaults: TLS 1.2
#               and 1.3, tickets, session cache)
#   Two figures per proxy:
#   1. handshakes/s: PAR `openssl s_time -new` clients in parallel for
#      DURATION s: each opens a connection, makes a full TLS 1.3 handshake
#      (no resumption: -new), closes it, again. wrk cannot do this (it keeps
#      connections) and `scaleout bench` does not speak HTTPS. The figure is
#      the connections completed (sum of the clients) / DURATION; CPU us per
#      handshake is the proxy's utime+stime (/proc/PID/stat) over the run
#      divided by those connections. s_time's client-side handshake costs as
#      much CPU as the server's, so on a 2-core machine the rate is bounded by
#      the clients; the CPU per handshake is the proxy's own cost.
#   2. keep-alive HTTPS: `wrk -t 2 -c CONNS -d DURATION --latency https://...`
#      (wrk uses OpenSSL, keeps its connections): req/s, p50, p99, and CPU us
#      per request as above.
#   Proxies alternate within a round, the order is reversed every other round;
#   each figure is the median over ROUNDS.
#
# USAGE
#   bench/tls-vs-haproxy.sh                  (ROUNDS=3 DURATION=10 CONNS=64 PAR=2 KEY=ec)
#   ROUNDS=1 DURATION=5 bench/tls-vs-haproxy.sh
#   Results go to stdout as a Markdown table (paste into docs/BENCHMARKS.md).
#
# Needs: haproxy, nginx, wrk, openssl, curl (scripts/install-deps.sh installs them).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
PAR=${PAR:-2}
KEY=${KEY:-ec}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}

for tool in haproxy nginx wrk openssl curl; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed (scripts/install-deps.sh)"
done
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
NGINX=$(command -v nginx)
HAPROXY=$(command -v haproxy)

bench_init tls-bench
start_s=$(date +%s)

# ---- certificate ---------------------------------------------------------------
C=$BENCH_TMP/cert
mkdir -p "$C"
if [ "$KEY" = rsa ]; then newkey=(-newkey rsa:2048); else newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); fi
openssl req -x509 "${newkey[@]}" -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req "${newkey[@]}" -nodes -keyout "$C/srv.key" -out "$C/srv.csr" -subj /CN=bench.test 2>/dev/null
printf 'subjectAltName=DNS:bench.test,IP:127.0.0.1\n' >"$C/ext"
openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -out "$C/srv.pem" \
    -days 2 -extfile "$C/ext" 2>/dev/null
cat "$C/srv.pem" "$C/srv.key" >"$C/combined.pem"   # HAProxy wants both in one file

# ---- backend ------------------------------------------------------------------
bench_free_port B1
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
}
EOF
bench_start backend "$BENCH_TMP/backend/log" "$NGINX" -p "$BENCH_TMP/backend" -c "$BENCH_TMP/backend/nginx.conf"
BACKEND_PID=$BENCH_LAST_PID
bench_wait_port "$B1" "$BACKEND_PID" 10 || bench_die "backend nginx did not start: $(cat "$BENCH_TMP/backend/log")"

# ---- proxies ------------------------------------------------------------------
start_proxy() {
    local kind=$1 port=$2
    case $kind in
    haproxy)
        cat >"$BENCH_TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn 4096
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode http
    timeout connect 3s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    option http-keep-alive
    http-reuse safe
frontend fe
    bind 127.0.0.1:$port ssl crt $C/combined.pem alpn http/1.1
    default_backend be
backend be
    server b1 127.0.0.1:$B1
EOF
        bench_start haproxy "$BENCH_TMP/haproxy.log" "$HAPROXY" -db -f "$BENCH_TMP/haproxy.cfg" ;;
    scaleout)
        bench_start scaleout "$BENCH_TMP/scaleout.log" "$SCALEOUT" lb --listen "127.0.0.1:$port" \
            --backend "127.0.0.1:$B1" --threads 1 --admin-port 0 --loglevel warning \
            --tls-cert "$C/srv.pem" "$C/srv.key" --tls-max-handshakes 0 ;;
    esac
    PROXY_PID=$BENCH_LAST_PID
    bench_wait_port "$port" "$PROXY_PID" 10 || bench_die "$kind did not start: $(tail -5 "$BENCH_TMP/$kind.log")"
}

RESULTS=$BENCH_TMP/results   # kind hs_per_s hs_cpu_us rps p50 p99 req_cpu_us errors
: >"$RESULTS"

measure() {
    local kind=$1 port c0 c1 conns i out body rps p50 p99 errs reqs hs hscpu reqcpu
    bench_free_port port
    start_proxy "$kind" "$port"
    body=$(curl -s --max-time 5 --cacert "$C/ca.pem" "https://127.0.0.1:$port/") || true
    [ "$body" = ok ] || bench_die "$kind answered '$body' instead of ok"
    # 1. full handshakes
    c0=$(bench_cpu_ticks "$PROXY_PID")
    local pids=()
    for i in $(seq 1 "$PAR"); do
        timeout -k 5 $(( DURATION + 30 )) openssl s_time -connect "127.0.0.1:$port" -new -time "$DURATION" \
            >"$BENCH_TMP/stime.$i" 2>&1 </dev/null &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    c1=$(bench_cpu_ticks "$PROXY_PID")
    conns=$(cat "$BENCH_TMP"/stime.* | awk '/connections in .* real seconds/ { n += $1 } END { print n + 0 }')
    hs=$(awk -v n="$conns" -v d="$DURATION" 'BEGIN { printf "%.0f\n", n / d }')
    hscpu=$(bench_us_per "$c0" "$c1" "$conns" %.1f)
    # 2. keep-alive HTTPS
    read -r rps p50 p99 reqcpu errs <<<"$(bench_wrk_cpu bench_cpu_ticks "$PROXY_PID" "$CONNS" "$DURATION" "https://127.0.0.1:$port/")"
    bench_stop "$PROXY_PID"
    echo "$kind $hs $hscpu $rps $p50 $p99 $reqcpu $errs" >>"$RESULTS"
    bench_log "$kind: $hs handshakes/s ($hscpu us CPU each); keep-alive $rps req/s, p50 $p50 ms, p99 $p99 ms, $reqcpu us/req, errors $errs"
}

busy0=$(bench_sys_busy_ticks)
for r in $(seq 1 "$ROUNDS"); do
    kinds="haproxy scaleout"
    if [ $(( r % 2 )) = 0 ]; then kinds="scaleout haproxy"; fi
    for k in $kinds; do
        bench_log "round $r/$ROUNDS: $k"
        measure "$k"
    done
done
busy1=$(bench_sys_busy_ticks)
elapsed=$(( $(date +%s) - start_s ))

# ---- report -----------------------------------------------------------------
med() { bench_col_median "$RESULTS" "$2" "$1"; }
errsum() { bench_col_sum "$RESULTS" 8 "$1"; }

echo "### lb TLS termination vs HAProxy, $(date +%Y-%m-%d)"
echo
echo "- Machine: $(bench_machine)"
echo "- Versions: $("$HAPROXY" -v | head -1 | awk '{ print "HAProxy " $3 }'); $("$SCALEOUT" --version); $(openssl version | awk '{ print $1 " " $2 }'); $(wrk -v 2>&1 | head -1 | awk '{ print $1 " " $2 }')"
echo "- Run: \`ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS PAR=$PAR KEY=$KEY bench/tls-vs-haproxy.sh\` (${elapsed} s)"
echo "- Method: one thread each, same $KEY certificate, one nginx backend returning a fixed 200. Handshakes: $PAR × \`openssl s_time -new -time $DURATION\` (a full TLS 1.3 handshake per connection, no request). Keep-alive: \`wrk -t 2 -c $CONNS -d ${DURATION}s --latency https://...\`. CPU = proxy utime+stime per handshake / per request. Median of $ROUNDS round(s); ratios scaleout / haproxy (handshakes/s and req/s: higher is better; CPU and latency: lower)."
awk -v b0="$busy0" -v b1="$busy1" -v s="$elapsed" -v hz="$BENCH_CLK_TCK" 'BEGIN {
    if (s > 0) printf "- Whole machine busy during the runs (proxies, clients and backend included): %.2f cores on average.\n", (b1 - b0) / hz / s }'
echo
echo "| proxy | handshakes/s | CPU us/handshake | keep-alive req/s | p50 ms | p99 ms | CPU us/req | errors |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|"
for k in haproxy scaleout; do
    printf '| %s | %.0f | %.1f | %.0f | %.3f | %.3f | %.2f | %s |\n' "$k" "$(med "$k" 2)" "$(med "$k" 3)" "$(med "$k" 4)" \
        "$(med "$k" 5)" "$(med "$k" 6)" "$(med "$k" 7)" "$(errsum "$k")"
done
printf '| ratio | %s | %s | %s | %s | %s | %s | |\n' \
    "$(bench_ratio "$(med scaleout 2)" "$(med haproxy 2)")" "$(bench_ratio "$(med scaleout 3)" "$(med haproxy 3)")" \
    "$(bench_ratio "$(med scaleout 4)" "$(med haproxy 4)")" "$(bench_ratio "$(med scaleout 5)" "$(med haproxy 5)")" \
    "$(bench_ratio "$(med scaleout 6)" "$(med haproxy 6)")" "$(bench_ratio "$(med scaleout 7)" "$(med haproxy 7)")"
