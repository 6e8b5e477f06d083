#!/usr/bin/env bash
# bench/tls-handshake-count.sh — instructions per full TLS 1.3 handshake,
# scaleout lb against HAProxy, counted (not timed): where a handshake's CPU
# goes, repeatable on a busy machine where bench/tls-vs-haproxy.sh's CPU
# figures move by ±10 % between rounds.
#
# METHOD
#   The same P-256 ECDSA certificate as bench/tls-vs-haproxy.sh. Each server
#   runs under `valgrind --tool=callgrind --toggle-collect=SSL_do_handshake`
#   (only the work done inside OpenSSL's handshake is counted: accept, the
#   event loop, SSL_new/SSL_free and the kernel are not) while one
#   `openssl s_time -new -time DURATION` makes full handshakes against it.
#   Figures are instructions per handshake (counted / connections), inclusive,
#   by the exported OpenSSL function that does the work:
#     X25519 key share     EVP_PKEY_generate (the server's ephemeral key)
#     X25519 secret        EVP_PKEY_derive
#     ECDSA signature      EVP_DigestSignInit_ex + EVP_DigestSign (CertificateVerify)
#     key schedule         EVP_KDF_derive + EVP_KDF_fetch + EVP_KDF_CTX_new (HKDF)
#                          + EVP_Q_mac (the two Finished MACs)
#     ticket encoding      i2d_SSL_SESSION + ASN1_item_d2i (the session in a ticket)
#     rest                 the state machine, extensions, transcript hash,
#                          ticket encryption, allocation, provider look-ups
#   Valgrind does not emulate SHA-NI or ADX, so OpenSSL takes its generic
#   SHA-256 path under it: the counts compare the two servers (same library,
#   same paths) and show shares, not native cycles.
#
# USAGE
#   bench/tls-handshake-count.sh             (DURATION=10)
#   SCALEOUT_BIN=old/scaleout bench/tls-handshake-count.sh
#
# Needs: valgrind, haproxy, openssl.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

DURATION=${DURATION:-10}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}
for tool in valgrind callgrind_annotate haproxy openssl; do
    command -v "$tool" >/dev/null 2>&1 || bench_die "$tool is not installed"
done
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
HAPROXY=$(command -v haproxy)

bench_init tls-count
C=$BENCH_TMP/cert
mkdir -p "$C"
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
openssl req -x509 "${newkey[@]}" -nodes -keyout "$C/ca.key" -out "$C/ca.pem" -days 2 -subj /CN=bench-ca 2>/dev/null
openssl req "${newkey[@]}" -nodes -keyout "$C/srv.key" -out "$C/srv.csr" -subj /CN=bench.test 2>/dev/null
printf 'subjectAltName=DNS:bench.test,IP:127.0.0.1\n' >"$C/ext"
openssl x509 -req -in "$C/srv.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial -out "$C/srv.pem" \
    -days 2 -extfile "$C/ext" 2>/dev/null
cat "$C/srv.pem" "$C/srv.key" >"$C/combined.pem"
bench_free_port NOBACKEND   # handshakes only: no request reaches a backend

# groups: name|functions (inclusive counts summed)
GROUPS_=(
    "X25519 key share|EVP_PKEY_generate"
    "X25519 secret|EVP_PKEY_derive"
    "ECDSA signature|EVP_DigestSignInit_ex EVP_DigestSign"
    "key schedule (HKDF, Finished)|EVP_KDF_derive EVP_KDF_fetch EVP_KDF_CTX_new EVP_Q_mac"
    "ticket encoding|i2d_SSL_SESSION ASN1_item_d2i"
)

count() {
    local kind=$1 port out pid conns
    bench_free_port port
    out=$BENCH_TMP/cg.$kind
    local vg=(valgrind --tool=callgrind --toggle-collect=SSL_do_handshake --callgrind-out-file="$out")
    case $kind in
    haproxy)
        cat >"$BENCH_TMP/haproxy.cfg" <<EOF
global
    nbthread 1
    ssl-default-bind-options ssl-min-ver TLSv1.2
defaults
    mode http
    timeout connect 3s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$port ssl crt $C/combined.pem alpn http/1.1
    default_backend be
backend be
    server b1 127.0.0.1:$NOBACKEND
EOF
        bench_start haproxy "$BENCH_TMP/haproxy.log" "${vg[@]}" "$HAPROXY" -db -f "$BENCH_TMP/haproxy.cfg" ;;
    scaleout)
        bench_start scaleout "$BENCH_TMP/scaleout.log" "${vg[@]}" "$SCALEOUT" lb --listen "127.0.0.1:$port" \
            --backend "127.0.0.1:$NOBACKEND" --threads 1 --admin-port 0 --loglevel warning \
            --tls-cert "$C/srv.pem" "$C/srv.key" --tls-max-handshakes 0 ;;
    esac
    pid=$BENCH_LAST_PID
    bench_wait_port "$port" "$pid" 120 || bench_die "$kind did not start: $(tail -5 "$BENCH_TMP/$kind.log")"
    timeout -k 5 $(( DURATION + 60 )) openssl s_time -connect "127.0.0.1:$port" -new -time "$DURATION" \
        >"$BENCH_TMP/stime.$kind" 2>&1 </dev/null || true
    conns=$(awk '/connections in .* real seconds/ { print $1; exit }' "$BENCH_TMP/stime.$kind")
    bench_stop "$pid" 60
    [ "${conns:-0}" -gt 0 ] || bench_die "$kind: no handshake completed: $(cat "$BENCH_TMP/stime.$kind")"
    callgrind_annotate --inclusive=yes --threshold=100 "$out" 2>/dev/null >"$out.txt"
    echo "$conns" >"$out.n"
    bench_log "$kind: $conns handshakes counted"
}

# inclusive count of FUNCTION (exported name) in a callgrind_annotate listing
incl() { awk -v f="$2" '$0 ~ ("\\?\\?\\?:" f " \\[") { gsub(",", "", $1); print $1; exit }' "$1"; }
total() { awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' "$1"; }

count scaleout
count haproxy

echo "### TLS 1.3 full handshake, instructions per handshake (callgrind), scaleout lb vs HAProxy, $(date +%Y-%m-%d)"
echo
echo "- Versions: $("$HAPROXY" -v | head -1 | awk '{ print "HAProxy " $3 }'); $("$SCALEOUT" --version); $(openssl version | awk '{ print $1 " " $2 }'); $(valgrind --version)"
echo "- Run: \`DURATION=$DURATION bench/tls-handshake-count.sh\`: one \`openssl s_time -new\` per server, P-256 ECDSA certificate, counted inside SSL_do_handshake ($(cat "$BENCH_TMP/cg.scaleout.n") and $(cat "$BENCH_TMP/cg.haproxy.n") handshakes)"
echo
echo "| work | scaleout | haproxy | ratio |"
echo "|---|--:|--:|--:|"
declare -A sum=([scaleout]=0 [haproxy]=0)
for g in "${GROUPS_[@]}"; do
    name=${g%%|*}
    row="| $name"
    declare -A v=()
    for k in scaleout haproxy; do
        s=0
        for f in ${g#*|}; do
            c=$(incl "$BENCH_TMP/cg.$k.txt" "$f"); s=$(( s + ${c:-0} ))
        done
        v[$k]=$(( s / $(cat "$BENCH_TMP/cg.$k.n") ))
        sum[$k]=$(( ${sum[$k]} + ${v[$k]} ))
        row="$row | ${v[$k]}"
    done
    echo "$row | $(bench_ratio "${v[scaleout]}" "${v[haproxy]}") |"
done
declare -A tot=()
for k in scaleout haproxy; do tot[$k]=$(( $(total "$BENCH_TMP/cg.$k.txt") / $(cat "$BENCH_TMP/cg.$k.n") )); done
echo "| rest | $(( tot[scaleout] - sum[scaleout] )) | $(( tot[haproxy] - sum[haproxy] )) | $(bench_ratio $(( tot[scaleout] - sum[scaleout] )) $(( tot[haproxy] - sum[haproxy] ))) |"
echo "| **all of SSL_do_handshake** | ${tot[scaleout]} | ${tot[haproxy]} | $(bench_ratio "${tot[scaleout]}" "${tot[haproxy]}") |"
