#!/usr/bin/env bash
# bench/pg-vs-pgbouncer.sh — `scaleout pg` side by side with PgBouncer and a
# direct connection to PostgreSQL 15.
#
# METHOD
#   A PostgreSQL 15 primary and one streaming replica are started in a temp
#   dir (tests/integration/pg_helpers.py: fsync off, run as the postgres user
#   when root), pgbench -i -s SCALE loads the tables. Then for ROUNDS rounds,
#   targets in alternation (the order rotates every round), each run is
#       pgbench -S -M simple -c CLIENTS -j 2 -T DURATION
#   and, with NEWCONN=1 (default), the same with -C (a new connection per
#   transaction, SCRAM login each time); with TPCB=1 (default) the same two
#   again with pgbench's TPC-B-like script (no -S: BEGIN, 3 UPDATEs, a
#   SELECT, an INSERT, END; 7 round trips per transaction) against:
#       direct        the primary itself
#       pgbouncer     Debian's PgBouncer, pool_mode=transaction, SCRAM, pool 20
#       scaleout      scaleout pg, transaction mode, SCRAM, pool 20, primary only
#       scaleout-rw   the same with the replica behind it (reads go there)
#       pgpool        Debian's Pgpool-II 4.3, streaming_replication mode,
#                     connection_cache, SCRAM (pool_hba + pool_passwd),
#                     num_init_children 20 (its pool: one process per
#                     client), max_pool 4, primary only
#       pgpool-rw     the same with the replica and load_balance_mode on
#                     (primary weight 0: every read to the replica)
#     and, only when TARGETS names them (both reach the primary over its
#     Unix-domain socket instead of TCP; their "CPU / PgBouncer" is against
#     pgbouncer-unix when it runs):
#       pgbouncer-unix  PgBouncer with host=SOCKET-DIR
#       scaleout-unix   scaleout pg with --primary SOCKET-DIR:PORT
#   TPS is pgbench's; proxy CPU per transaction is the proxy's utime+stime
#   (from /proc/PID/stat, ticks) over the run divided by the transactions;
#   for Pgpool-II (one process per client) the main process and all its
#   children, with the children's reaped time (cutime+cstime).
#   syscalls/txn: the proxy's system calls (perf stat -e raw_syscalls:sys_enter
#   -p PID over the run) per transaction, when perf can count them (not for
#   Pgpool-II's forked children; SYSCALLS=0 turns the count off: counting
#   costs each system call of every proxy a little).
#   Figures are medians over the rounds.
#   TARGETS=a,b,... runs only those targets (direct and pgbouncer are always
#   kept: the ratios need them); MODES=S,SC,B,BC picks the pgbench modes
#   (S: -S, SC: -S -C, B: TPC-B, BC: TPC-B -C); SCALEOUT_OLD_BIN=path adds
#   "scaleout-old", another scaleout binary with scaleout's flags (a before /
#   after comparison in one run, on the same machine state).
# HOW TO READ
#   On 2 cores pgbench, the proxy and PostgreSQL share the CPU, so TPS is
#   bounded by all three; CPU us/txn of the proxy is the steadiest figure.
#   "other load" is the busy CPU of the rest of the machine (other users).
# USAGE
#   bench/pg-vs-pgbouncer.sh                 # defaults: ROUNDS=3 DURATION=10 CLIENTS=16 SCALE=1
#   QUICK=1 bench/pg-vs-pgbouncer.sh         # smoke test (~30 s)
#   TARGETS=scaleout MODES=S,B ROUNDS=3 DURATION=5 bench/pg-vs-pgbouncer.sh   # pooling only
set -euo pipefail
cd "$(dirname "$0")/.."
export SCALEOUT_BIN="${SCALEOUT_BIN:-$PWD/scaleout}"
if [ "${QUICK:-}" = 1 ]; then
    : "${ROUNDS:=1}" "${DURATION:=3}"
fi
export ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-10}" CLIENTS="${CLIENTS:-16}" SCALE="${SCALE:-1}" NEWCONN="${NEWCONN:-1}"
export SYSCALLS="${SYSCALLS:-1}" TPCB="${TPCB:-1}" TARGETS="${TARGETS:-}" MODES="${MODES:-}" SCALEOUT_OLD_BIN="${SCALEOUT_OLD_BIN:-}"
exec /usr/bin/python3 - <<'PY'
import os, re, signal, statistics, subprocess, sys, time
sys.path.insert(0, "tests/integration")
sys.path.insert(0, "bench/lib")
import pg_helpers as H
from procstat import TICK, cpu_ticks, cpu_ticks_tree, machine_busy

ROUNDS, DURATION = int(os.environ["ROUNDS"]), int(os.environ["DURATION"])
CLIENTS, SCALE = int(os.environ["CLIENTS"]), int(os.environ["SCALE"])

def pgbench(port, *args):
    env = {"PGPASSWORD": H.APP_PASSWORD, "PATH": "/usr/bin:/bin"}
    r = subprocess.run(["pgbench", "-h", H.HOST, "-p", str(port), "-U", H.APP_USER, *args, "appdb"],
                       capture_output=True, text=True, env=env, timeout=DURATION + 120)
    if r.returncode != 0:
        raise SystemExit(f"pgbench failed on {port}:\n{r.stdout}{r.stderr}")
    return r.stdout

ALL_MODES = {"S": ("-S", ["-S"]), "SC": ("-S -C", ["-S", "-C"]), "B": ("tpcb", []), "BC": ("tpcb -C", ["-C"])}
if os.environ["MODES"]:
    MODES = [ALL_MODES[m.strip()] for m in os.environ["MODES"].split(",")]
else:
    MODES = [ALL_MODES[m] for m in ["S"] + (["SC"] if os.environ["NEWCONN"] == "1" else [])
             + (["B"] + (["BC"] if os.environ["NEWCONN"] == "1" else []) if os.environ["TPCB"] == "1" else [])]
WANT = {t.strip() for t in os.environ["TARGETS"].split(",") if t.strip()} | {"direct", "pgbouncer"}
OLD_BIN = os.environ["SCALEOUT_OLD_BIN"]
if OLD_BIN:
    WANT.add("scaleout-old")

def want(name):
    return not os.environ["TARGETS"] or name in WANT

def perf_ok():
    try:
        r = subprocess.run(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", str(os.getpid()), "--", "sleep", "0.01"],
                           capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    # "<not counted>" is fine here: the probe only checks that the event exists and may be read
    return r.returncode == 0 and re.search(r"^(\d+|<not counted>),+raw_syscalls:sys_enter", r.stderr, re.M) is not None

PERF = os.environ["SYSCALLS"] == "1" and perf_ok()

def syscalls_start(pid):
    if not PERF or pid is None:
        return None
    return subprocess.Popen(["perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

def syscalls_stop(p):
    if p is None:
        return None
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=30)[1]
    m = re.search(r"^(\d+),", err, re.M)
    return int(m.group(1)) if m else None

LOAD0 = open("/proc/loadavg").read().strip()
with H.PgCluster(replicas=1, conf="max_connections = 250") as pg:
    wd = H.make_tempdir("scaleout-pgbench-")
    pgbench(pg.primary.port, "-i", "-q", "-s", str(SCALE))
    pg.wait_replicated()
    bouncer = H.start_pgbouncer(pg, wd, mode="transaction", pool_size=20)
    bpid = int(open(f"{wd}/pgbouncer-{bouncer.port}.pid").read())
    procs = [bouncer]
    targets = [("direct", pg.primary.port, None), ("pgbouncer", bouncer.port, bpid)]
    TREE = set()
    if want("scaleout"):
        ours = H.start_scaleout_pg(pg, wd, replicas=False, extra=["--pool-size", "20"])
        procs.append(ours)
        targets.append(("scaleout", ours.port, ours.proc.pid))
    if OLD_BIN:
        os.environ["SCALEOUT_BIN"], new_bin = OLD_BIN, os.environ["SCALEOUT_BIN"]
        old = H.start_scaleout_pg(pg, wd, replicas=False, extra=["--pool-size", "20"])
        os.environ["SCALEOUT_BIN"] = new_bin
        procs.append(old)
        targets.append(("scaleout-old", old.port, old.proc.pid))
    if "pgbouncer-unix" in WANT:
        b_unix = H.start_pgbouncer(pg, wd, mode="transaction", pool_size=20, server_host=pg.primary.sockdir)
        procs.append(b_unix)
        targets.append(("pgbouncer-unix", b_unix.port, int(open(f"{wd}/pgbouncer-{b_unix.port}.pid").read())))
    if "scaleout-unix" in WANT:
        ours_unix = H.start_scaleout_pg(pg, wd, replicas=False, extra=["--pool-size", "20"],
                                        primary=f"{pg.primary.sockdir}:{pg.primary.port}")
        procs.append(ours_unix)
        targets.append(("scaleout-unix", ours_unix.port, ours_unix.proc.pid))
    if want("scaleout-rw"):
        ours_rw = H.start_scaleout_pg(pg, wd, replicas=True, extra=["--pool-size", "20"])
        procs.append(ours_rw)
        targets.append(("scaleout-rw", ours_rw.port, ours_rw.proc.pid))
    for name, rw in (("pgpool", False), ("pgpool-rw", True)):
        if want(name):
            pool = H.start_pgpool(pg, wd, replicas=rw, children=20)
            procs.append(pool)
            ppid = int(open(f"{wd}/pgpool-{pool.port}/pgpool.pid").read().replace("\x00", " ").split()[0])
            TREE.add(ppid)
            targets.append((name, pool.port, ppid))
    modes = MODES
    res = {(m, t[0]): {"tps": [], "cpu": [], "sys": []} for m, _ in modes for t in targets}
    other = []
    try:
      for mode, extra in modes:
        for rnd in range(ROUNDS):
            order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
            for name, port, pid in order:
                cpu = cpu_ticks_tree if pid in TREE else cpu_ticks
                sp = syscalls_start(pid if pid not in TREE else None)
                c0, m0, t0 = cpu(pid), machine_busy(), time.monotonic()
                out = pgbench(port, *extra, "-M", "simple", "-c", str(CLIENTS), "-j", "2", "-T", str(DURATION))
                c1, m1, t1 = cpu(pid), machine_busy(), time.monotonic()
                nsys = syscalls_stop(sp)
                mn = re.search(r"number of transactions actually processed: (\d+)", out)
                mt = re.search(r"tps = ([\d.]+) \(", out)
                if not mn or (not mt and int(mn.group(1)) > 0):
                    raise SystemExit(f"pgbench against {name} printed no transaction count or tps:\n{out}")
                n = int(mn.group(1))
                tps = float(mt.group(1)) if n else 0.0  # none done (Pgpool-II forking on a busy machine): no tps line
                r = res[(mode, name)]
                r["tps"].append(tps)
                r["cpu"].append(((c1 - c0) / TICK * 1e6 / n if n else float("nan")) if pid else 0.0)
                if nsys is not None and n:
                    r["sys"].append(nsys / n)
                other.append(((m1 - m0) / TICK) / (t1 - t0))
                print(f"{mode:8s} round {rnd + 1} {name:12s} tps {tps:10.1f}  proxy CPU {r['cpu'][-1]:6.2f} us/txn"
                      + (f"  {r['sys'][-1]:5.2f} syscalls/txn" if nsys is not None and n else ""), file=sys.stderr)
    finally:
        for p in procs:
            p.stop()
        import shutil
        shutil.rmtree(wd, ignore_errors=True)
    print(f"\nload average before: {LOAD0}; after: {open('/proc/loadavg').read().strip()}")
    print(f"pgbench -M simple -c {CLIENTS} -j 2 -T {DURATION}, scale {SCALE}, median of {ROUNDS} round(s); "
          f"machine busy (all processes, incl. these) {statistics.mean(other):.2f} cores on average\n")
    print("| pgbench | target | tps | tps / direct | proxy CPU us/txn | CPU / PgBouncer | CPU / Pgpool-II (same split) | syscalls/txn |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    for mode, _ in modes:
        d = statistics.median(res[(mode, "direct")]["tps"])
        b_cpu = statistics.median(res[(mode, "pgbouncer")]["cpu"])
        b_unix_cpu = statistics.median(res[(mode, "pgbouncer-unix")]["cpu"]) if (mode, "pgbouncer-unix") in res else 0
        for name, _, pid in targets:
            b_ref = b_unix_cpu if name.endswith("-unix") and b_unix_cpu else b_cpu
            tps = statistics.median(res[(mode, name)]["tps"])
            cpu = statistics.median(res[(mode, name)]["cpu"])
            pp = {"scaleout": "pgpool", "scaleout-rw": "pgpool-rw"}.get(name)
            p_cpu = statistics.median(res[(mode, pp)]["cpu"]) if (mode, pp) in res else 0
            ns = res[(mode, name)]["sys"]
            print(f"| {mode} | {name} | {tps:,.0f} | {tps / d:.2f} | " + (f"{cpu:.1f} |" if pid else " |")
                  + (f" {cpu / b_ref:.2f} |" if pid and b_ref else " |")
                  + (f" {cpu / p_cpu:.2f} |" if p_cpu else " |")
                  + (f" {statistics.median(ns):.2f} |" if ns else " |"))
PY
