# shellcheck shell=bash disable=SC2034
# bench/lib/bench.sh — helpers shared by the side-by-side benchmarks under bench/.
# (Kept in bench/lib/ because `make bench` runs every bench/*.sh as a benchmark.)
#
# Source it from a bash script that runs with `set -eu`:
#
#   here=$(cd "$(dirname "$0")" && pwd); . "$here/lib/bench.sh"
#   bench_init                      # tmp dir in $BENCH_TMP, traps, cleanup on exit
#   bench_free_port port            # sets $port
#   bench_start redis "$BENCH_TMP/redis.log" redis-server --port "$port" ...
#   pid=$BENCH_LAST_PID             # (not $(...): the PID list lives in this shell)
#   bench_wait_port "$port" "$pid" 10 || bench_die "redis did not start"
#   t0=$(bench_cpu_ticks "$pid") ... t1=$(bench_cpu_ticks "$pid")
#   bench_run 60 redis-benchmark ... >out      # bounded, interruptible
#   bench_stop "$pid"
#
# Rules kept here: only processes this script started are ever signalled, by PID;
# every wait is bounded; everything listens on 127.0.0.1; the tmp dir is removed
# on exit (also on error or Ctrl-C). Messages go to stderr, results to stdout.
#
# Needs: bash >= 4, coreutils (timeout, sort, mktemp), awk (mawk is enough).

BENCH_PIDS=()          # servers started by bench_start and not yet stopped
BENCH_CHILD=""         # the foreground command of bench_run while it runs
BENCH_LAST_PID=""
BENCH_TMP=""
BENCH_PORTS_USED=" "   # ports handed out by bench_free_port (no duplicates)
BENCH_CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

bench_log() { printf '%s\n' "$*" >&2; }
bench_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# bench_init [NAME]: make the tmp dir and install the traps.
bench_init() {
    export LC_ALL=C
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/${1:-bench}.XXXXXX")
    trap bench_cleanup EXIT
    trap 'bench_log "interrupted"; exit 130' INT
    trap 'bench_log "terminated"; exit 143' TERM
}

# Kill what we started (by PID only), remove the tmp dir. Runs on EXIT.
bench_cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    if [ -n "$BENCH_CHILD" ] && kill -0 "$BENCH_CHILD" 2>/dev/null; then
        kill -TERM "$BENCH_CHILD" 2>/dev/null || true
        wait "$BENCH_CHILD" 2>/dev/null || true
    fi
    for pid in "${BENCH_PIDS[@]}"; do
        bench_stop "$pid" 5 || true
    done
    if [ -n "$BENCH_TMP" ] && [ -d "$BENCH_TMP" ]; then
        rm -rf -- "$BENCH_TMP"
    fi
    exit "$rc"
}

# bench_port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
bench_port_open() {
    timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# bench_free_port VAR: set VAR to a port in BENCH_PORT_MIN..BENCH_PORT_MAX
# (default 20000..59999) that nothing listens on
# (checked with ss when present, and by connecting) and that this script has not
# already handed out. (It sets a variable rather than printing, so that the list
# of ports handed out lives in the calling shell.) There is an unavoidable race
# with other programs; bench_wait_port then reports the server's failure to bind.
bench_free_port() {
    local i p lo=${BENCH_PORT_MIN:-20000} hi=${BENCH_PORT_MAX:-59999}
    for i in $(seq 1 200); do
        p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo + 1) ))
        case "$BENCH_PORTS_USED" in *" $p "*) continue ;; esac
        if command -v ss >/dev/null 2>&1; then
            [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] || continue
        fi
        bench_port_open "$p" && continue
        BENCH_PORTS_USED="$BENCH_PORTS_USED$p "
        printf -v "$1" '%s' "$p"
        return 0
    done
    bench_die "no free port found"
}

# bench_start NAME LOGFILE CMD ARGS...: start CMD in the background with cwd =
# $BENCH_TMP, stdin from /dev/null, stdout+stderr to LOGFILE, in a session and
# process group of its own (setsid), so that bench_stop also reaches processes
# CMD forks and Ctrl-C on the terminal goes to this script, not to the server.
# The PID (of CMD itself: the subshell execs setsid, which execs CMD) is put in
# BENCH_LAST_PID and in BENCH_PIDS. A wrapper script given as CMD must `exec`
# the real server, or the PID (and its CPU time) would be the wrapper's.
bench_start() {
    local name=$1 log=$2
    shift 2
    ( cd "$BENCH_TMP" && exec setsid "$@" ) </dev/null >"$log" 2>&1 &
    BENCH_LAST_PID=$!
    BENCH_PIDS+=("$BENCH_LAST_PID")
    bench_log "started $name (pid $BENCH_LAST_PID):$(printf ' %q' "$@")"
}

# bench_wait_port PORT PID SECONDS: wait until PORT accepts connections. Fails
# (status 1) as soon as PID has exited, or after SECONDS.
bench_wait_port() {
    local port=$1 pid=$2 secs=$3 i
    for i in $(seq 1 $(( secs * 20 ))); do
        kill -0 "$pid" 2>/dev/null || return 1
        bench_port_open "$port" && return 0
        sleep 0.05
    done
    return 1
}

# bench_stop PID [SECONDS]: SIGTERM, wait up to SECONDS (default 10), then
# SIGKILL. Only PIDs in BENCH_PIDS (started by bench_start) are signalled, with
# the process group bench_start gave them (PGID = PID), so whatever they forked
# is stopped too.
bench_stop() {
    local pid=$1 secs=${2:-10} i keep=() p mine=0 target
    for p in "${BENCH_PIDS[@]}"; do
        if [ "$p" = "$pid" ]; then mine=1; else keep+=("$p"); fi
    done
    [ "$mine" = 1 ] || { bench_log "bench_stop: $pid was not started here"; return 1; }
    BENCH_PIDS=("${keep[@]}")
    target=$pid
    # signal the group only if it is the one setsid made (it may not exist yet
    # if we are called right after the fork)
    if [ "$(bench_stat_field "$pid" 5 2>/dev/null)" = "$pid" ]; then target=-$pid; fi
    if kill -0 -- "$target" 2>/dev/null; then
        kill -TERM -- "$target" 2>/dev/null || true
        for i in $(seq 1 $(( secs * 20 ))); do
            kill -0 -- "$target" 2>/dev/null || break
            # a zombie main process still "exists": reap it, then look at the group
            bench_alive "$pid" || { wait "$pid" 2>/dev/null || true; }
            sleep 0.05
        done
        if kill -0 -- "$target" 2>/dev/null; then
            bench_log "pid $pid ignored SIGTERM for ${secs}s; SIGKILL"
            kill -KILL -- "$target" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# bench_alive PID: true while the process runs (and is not a zombie).
bench_alive() {
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state=$(bench_stat_field "$1" 3 2>/dev/null) || return 1
    [ "$state" != Z ]
}

# bench_stat_field PID N: field N (1-based, as in proc(5)) of /proc/PID/stat.
# Field 2 (comm) may contain spaces and parentheses, so split after the last ')'.
bench_stat_field() {
    local line f
    read -r line <"/proc/$1/stat" || return 1
    read -ra f <<<"${line##*) }"   # f[0] is field 3
    echo "${f[$(( $2 - 3 ))]}"
}

# bench_cpu_ticks PID: utime+stime of the process (all its threads), in clock
# ticks (1/BENCH_CLK_TCK s; usually 100 per second).
bench_cpu_ticks() {
    local line f
    read -r line <"/proc/$1/stat" || return 1
    read -ra f <<<"${line##*) }"   # f[0] is field 3: utime f[11], stime f[12]
    echo $(( f[11] + f[12] ))
}

# bench_group_ticks PGID: utime+stime of every process in the process group
# (nginx or varnish: master + workers; bench_start makes each server a group).
bench_group_ticks() {
    local total=0 f line p
    for f in /proc/[0-9]*/stat; do
        { read -r line <"$f"; } 2>/dev/null || continue
        read -ra p <<<"${line##*) }"
        [ "${p[2]}" = "$1" ] && total=$(( total + p[11] + p[12] ))
    done
    echo "$total"
}

# bench_us_per T0 T1 N [FORMAT]: CPU microseconds per operation from two tick
# readings and N operations (default format %.2f); "nan" when N is not positive.
bench_us_per() {
    awk -v a="$1" -v b="$2" -v n="$3" -v hz="$BENCH_CLK_TCK" -v f="${4:-%.2f}" \
        'BEGIN { if (n > 0) printf f "\n", (b - a) / hz * 1e6 / n; else print "nan" }'
}

# bench_sys_busy_ticks: CPU time the whole machine spent busy (user, nice,
# system, irq, softirq, steal; all CPUs) since boot, in clock ticks.
bench_sys_busy_ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# bench_children_ticks VAR: set VAR to the user+sys CPU of this shell's reaped
# children (e.g. a finished bench_run and what it waited for), in clock ticks.
# It sets a variable because `times` must run in this shell: in a $(...)
# subshell it would count the subshell's children (none).
bench_children_ticks() {
    times >"$BENCH_TMP/.times"
    printf -v "$1" '%s' "$(awk -v hz="$BENCH_CLK_TCK" 'NR == 2 {
        t = 0
        for (f = 1; f <= 2; f++) { split($f, a, /[ms]/); t += a[1] * 60 + a[2] }
        printf "%d\n", t * hz + 0.5 }' "$BENCH_TMP/.times")"
}

# bench_rss_kb PID: VmRSS of the process in kB.
bench_rss_kb() {
    awk '$1 == "VmRSS:" { print $2; found = 1 } END { if (!found) exit 1 }' "/proc/$1/status"
}

# bench_run SECONDS CMD ARGS...: run CMD with a time limit (SIGTERM, then SIGKILL
# 5 s later). It runs in the background and is waited for, so Ctrl-C / SIGTERM of
# the script act at once (the cleanup trap stops it). Returns CMD's status
# (124 on timeout).
bench_run() {
    local secs=$1 rc=0
    shift
    timeout -k 5 "$secs" "$@" <&0 &     # <&0: keep stdin (else /dev/null)
    BENCH_CHILD=$!
    wait "$BENCH_CHILD" || rc=$?
    BENCH_CHILD=""
    return "$rc"
}

# bench_to_ms VALUE: a latency as wrk or h2load print it ("812.00us", "1.23ms",
# "1.01s", "2.00m") in ms, with 3 decimals.
bench_to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
        printf "%.3f\n", n }'
}

# bench_wrk_parse OUTPUT: from the text of `wrk --latency`, one line
# "REQUESTS REQ/S P50_MS P99_MS ERRORS" (errors: non-2xx answers + socket errors).
bench_wrk_parse() {
    local reqs rps p50 p99 errs
    reqs=$(awk '/requests in/ { print $1; exit }' <<<"$1")
    rps=$(awk '/^Requests\/sec:/ { print $2; exit }' <<<"$1")
    p50=$(bench_to_ms "$(awk '$1 == "50%" { print $2; exit }' <<<"$1")")
    p99=$(bench_to_ms "$(awk '$1 == "99%" { print $2; exit }' <<<"$1")")
    errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' <<<"$1")
    echo "${reqs:-0} ${rps:-0} $p50 $p99 $errs"
}

# bench_wrk_cpu TICKS PID CONNS SECONDS URL: a 1 s wrk warm-up, then
# `wrk -t 2 -c CONNS -d SECONDS --latency URL` with the server's CPU read by
# TICKS PID (bench_cpu_ticks: one process; bench_group_ticks: its group) around
# it. Prints "REQ/S P50_MS P99_MS CPU_US_PER_REQ ERRORS".
bench_wrk_cpu() {
    local ticks=$1 pid=$2 conns=$3 secs=$4 url=$5 c0 c1 out reqs rps p50 p99 errs
    bench_run 30 wrk -t 2 -c "$conns" -d 1s "$url" >/dev/null 2>&1 || true
    c0=$("$ticks" "$pid")
    out=$(bench_run $(( secs + 30 )) wrk -t 2 -c "$conns" -d "${secs}s" --latency "$url")
    c1=$("$ticks" "$pid")
    read -r reqs rps p50 p99 errs <<<"$(bench_wrk_parse "$out")"
    echo "$rps $p50 $p99 $(bench_us_per "$c0" "$c1" "$reqs") $errs"
}

# bench_col_median FILE COL KEY...: median of column COL of the lines of FILE
# (space-separated) whose first fields are KEY... ("nan" if none).
bench_col_median() {
    local file=$1 col=$2
    shift 2
    awk -v c="$col" -v k="$*" '{ n = split(k, w, " "); for (i = 1; i <= n; i++) if ($i != w[i]) next; print $c }' \
        "$file" | bench_median
}

# bench_col_sum FILE COL KEY...: sum of column COL over the same lines (0 if none).
bench_col_sum() {
    local file=$1 col=$2
    shift 2
    awk -v c="$col" -v k="$*" '{ n = split(k, w, " "); for (i = 1; i <= n; i++) if ($i != w[i]) next; s += $c }
        END { print s + 0 }' "$file"
}

# bench_median: median of the numbers on stdin (one per line); "nan" if none.
bench_median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_spread_pct: (max - min) / median * 100 of the numbers on stdin.
bench_spread_pct() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        if (m == 0) { print "nan"; exit }
        printf "%.1f\n", (v[NR] - v[1]) / m * 100 }'
}

# bench_ratio A B [FORMAT]: A / B, or "n/a" when either is not a positive number.
bench_ratio() {
    awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {
        if (a !~ /^[0-9.eE+-]+$/ || b !~ /^[0-9.eE+-]+$/ || b + 0 <= 0) { print "n/a"; exit }
        printf f "\n", a / b }'
}

# bench_machine: one line describing the machine (nproc, CPU model, RAM, kernel).
bench_machine() {
    local model mem
    model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
    mem=$(awk '/^MemTotal:/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
    echo "nproc $(nproc), ${model:-unknown CPU}, ${mem:-? GiB} RAM, Linux $(uname -r)"
}
