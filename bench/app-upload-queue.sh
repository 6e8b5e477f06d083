#!/usr/bin/env bash
# bench/app-upload-queue.sh — "a queue gives instant responses": upload
# latency with the job queued (POST /upload: 202, a worker does the work)
# against the same work done in the request (POST /upload-sync: 200 after it).
#
# METHOD
#   `scaleout up` runs PostgreSQL, kv, one app (CONC slots x SVC; the
#   synchronous path holds a slot for JOB more, the job's work) behind the lb,
#   and WORKERS workers with --job-time JOB. For each path, the same open-loop
#   load (below what the synchronous path can serve, so neither is overloaded):
#       scaleout bench http://LB/PATH --method POST --body-file 4KiB -c CONNS --rate RATE -d DURATION
#   Reported: req/s, p50/p99 as the client sees them (open loop: from the
#   scheduled send time). For the queued path also the backlog when the run
#   ends (up's job_backlog: ids waiting or held by the workers): answering at
#   once does not make the work go faster; the workers set the throughput.
#
# USAGE
#   bench/app-upload-queue.sh        (CONNS=32 RATE=200 DURATION=10 CONC=8 SVC=2ms JOB=20ms WORKERS=6)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib/bench.sh
. "$here/lib/bench.sh"

CONNS=${CONNS:-32}
RATE=${RATE:-200}
DURATION=${DURATION:-10}
CONC=${CONC:-8}
SVC=${SVC:-2ms}
JOB=${JOB:-20ms}
WORKERS=${WORKERS:-6}
SCALEOUT=${SCALEOUT_BIN:-$root/scaleout}
[ -x "$SCALEOUT" ] || bench_die "$SCALEOUT not built (make)"
[ -x /usr/lib/postgresql/15/bin/postgres ] || bench_die "PostgreSQL 15 is not installed (scripts/install-deps.sh)"

bench_init app-upload
chmod 755 "$BENCH_TMP"
head -c 4096 /dev/urandom >"$BENCH_TMP/body"

bench_free_port lb
bench_free_port st
bench_free_port la
bench_free_port kv
cat >"$BENCH_TMP/up.conf" <<CONF
role up
dir $BENCH_TMP/data
status-port $st
lb-port $lb
lb-admin-port $la
kv-port $kv
pg-port 0
app-port 0
app-min 1
app-max 1
autoscale no
workers $WORKERS
worker-args "--job-time $JOB"
app-concurrency $CONC
app-service-time $SVC
app-args "--sync-job-time $JOB"
CONF
bench_start up "$BENCH_TMP/up.log" "$SCALEOUT" up "$BENCH_TMP/up.conf"
pid=$BENCH_LAST_PID
for _ in $(seq 1 600); do
    curl -sf "127.0.0.1:$st/status" 2>/dev/null | grep -q '"ready":true' && break
    bench_alive "$pid" || bench_die "up exited: $(tail -20 "$BENCH_TMP/up.log")"
    sleep 0.1
done

backlog() {   # ids waiting in the queue or held by the workers (up's status)
    curl -sf "127.0.0.1:$st/status" | sed -n 's/.*"job_backlog":\([0-9]*\).*/\1/p'
}

run() {
    local path=$1 out rps p50 p99 errs
    out=$("$SCALEOUT" bench "http://127.0.0.1:$lb$path" --method POST --body-file "$BENCH_TMP/body" \
          -c "$CONNS" --rate "$RATE" -d "${DURATION}s" 2>/dev/null | tail -6)
    rps=$(echo "$out" | awk '/requests/ { for (i = 1; i <= NF; i++) if ($i == "req/s") print $(i-1) }' | tr -d ',')
    p50=$(echo "$out" | awk '/latency/ { print $3 }')
    p99=$(echo "$out" | awk '/latency/ { print $7 }')
    errs=$(echo "$out" | awk '/errors/ { $1 = ""; print }' | sed 's/^ *//')
    echo "$rps $p50 $p99 ${errs:-none}"
}

echo "## upload latency with and without the queue"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(bench_machine); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "One app ($CONC slots x $SVC), job work $JOB, $WORKERS workers; bench POST 4 KiB -c $CONNS --rate $RATE -d ${DURATION}s through the lb."
echo
echo "| path | req/s | p50 | p99 | errors | backlog at the end |"
echo "|---|--:|--:|--:|---|--:|"
read -r rps p50 p99 errs < <(run /upload-sync)
echo "| POST /upload-sync (work in the request) | $rps | $p50 | $p99 | $errs | 0 |"
read -r rps p50 p99 errs < <(run /upload)
sleep 1
echo "| POST /upload (202, queued) | $rps | $p50 | $p99 | $errs | $(backlog) |"
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 400); do bench_alive "$pid" || break; sleep 0.1; done
bench_stop "$pid" 5 2>/dev/null || true
