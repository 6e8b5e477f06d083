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
#               keepalive 64 (HTTP/1.1 to the backend), no logging
#     scaleout  scaleout lb --threads 1 --tls-cert ... (h2 offered first by ALPN)
#   Load: `h2load -n REQUESTS -c 10 -m 10 https://...` (h2load from Debian's
#   nghttp2-client: 10 connections, 10 concurrent streams each). Figures:
#   req/s as h2load reports it, the mean and max time per request (h2load
#   gives no percentiles), and CPU us per request: the proxy's utime+stime
#   from /proc/PID/stat over the run divided by the requests done.
#   Proxies alternate within a round, the order reversed every other round;
#   each figure is the median over ROUNDS.
#
# USAGE
#   bench/h2-vs-nginx.sh                     (ROUNDS=1 REQUESTS=200000)
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

for tool in nginx h2load openssl curl; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed (scripts/install-deps.sh)"
done
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
NGINX=$(command -v nginx)

bench_init h2-bench
start_s=$(date +%s)

C=$BENCH_TMP/cert
mkdir -p "$C"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/srv.key" -out "$C/srv.pem" \
    -days 2 -subj /CN=bench.test -addext "subjectAltName=DNS:bench.test,IP:127.0.0.1" 2>/dev/null

nginx_common() {
    cat <<EOF
error_log $1/error.log error;
pid $1/nginx.pid;
events { worker_connections 4096; }
