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
#   transaction, SCRAM login each time) against:
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
#   TPS is pgbench's; proxy CPU per transaction is the proxy's utime+stime
#   (from /proc/PID/stat, ticks) over the run divided by the transactions;
#   for Pgpool-II (one process per client) the main process and all its
#   children, with the children's reaped time (cutime+cstime).
#   Figures are medians over the rounds.
# HOW TO READ
#   On 2 cores pgbench, the proxy and PostgreSQL share the CPU, so TPS is
#   bounded by all three; CPU us/txn of the proxy is the steadiest figure.
#   "other load" is the busy CPU of the rest of the machine (other users).
# USAGE
#   bench/pg-vs-pgbouncer.sh                 # defaults: ROUNDS=3 DURATION=10 CLIENTS=16 SCALE=1
#   QUICK=1 bench/pg-vs-pgbouncer.sh         # smoke test (~30 s)
set -euo pipefail
cd "$(dirname "$0")/.."
export SCALEOUT_BIN="${SCALEOUT_BIN:-$PWD/scaleout}"
if [ "${QUICK:-}" = 1 ]; then
    : "${ROUNDS:=1}" "${DURATION:=3}"
fi
export ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-10}" CLIENTS="${CLIENTS:-16}" SCALE="${SCALE:-1}" NEWCONN="${NEWCONN:-1}"
exec /usr/bin/python3 - <<'PY'
import os, re, statistics, subprocess, sys, time
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

LOAD0 = open("/proc/loadavg").read().strip()
with H.PgCluster(replicas=1, conf="max_connections = 250") as pg:
    wd = H.make_tempdir("scaleout-pgbench-")
    pgbench(pg.primary.port, "-i", "-q", "-s", str(SCALE))
    pg.wait_replicated()
    bouncer = H.start_pgbouncer(pg, wd, mode="transaction", pool_size=20)
    bpid = int(open(f"{wd}/pgbouncer-{bouncer.port}.pid").read())
    ours = H.start_scaleout_pg(pg, wd, replicas=False, extra=["--pool-size", "20"])
    ours_rw = H.start_scaleout_pg(pg, wd, replicas=True, extra=["--pool-size", "20"])
    pool = H.start_pgpool(pg, wd, replicas=False, children=20)
    pool_rw = H.start_pgpool(pg, wd, replicas=True, children=20)
    ppid = int(open(f"{wd}/pgpool-{pool.port}/pgpool.pid").read().replace("\x00", " ").split()[0])
    ppid_rw = int(open(f"{wd}/pgpool-{pool_rw.port}/pgpool.pid").read().replace("\x00", " ").split()[0])
    TREE = {ppid, ppid_rw}
    targets = [("direct", pg.primary.port, None), ("pgbouncer", bouncer.port, bpid),
               ("scaleout", ours.port, ours.proc.pid), ("scaleout-rw", ours_rw.port, ours_rw.proc.pid),
               ("pgpool", pool.port, ppid), ("pgpool-rw", pool_rw.port, ppid_rw)]
    modes = [("-S", [])] + ([("-S -C", ["-C"])] if os.environ["NEWCONN"] == "1" else [])
    res = {(m, t[0]): {"tps": [], "cpu": []} for m, _ in modes for t in targets}
    other = []
    try:
      for mode, extra in modes:
        for rnd in range(ROUNDS):
            order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
            for name, port, pid in order:
                cpu = cpu_ticks_tree if pid in TREE else cpu_ticks
                c0, m0, t0 = cpu(pid), machine_busy(), time.monotonic()
                out = pgbench(port, "-S", *extra, "-M", "simple", "-c", str(CLIENTS), "-j", "2", "-T", str(DURATION))
                c1, m1, t1 = cpu(pid), machine_busy(), time.monotonic()
                mn = re.search(r"number of transactions actually processed: (\d+)", out)
                mt = re.search(r"tps = ([\d.]+) \(", out)
                if not mn or (not mt and int(mn.group(1)) > 0):
                    raise SystemExit(f"pgbench against {name} printed no transaction count or tps:\n{out}")
                n = int(mn.group(1))
                tps = float(mt.group(1)) if n else 0.0  # none done (Pgpool-II forking on a busy machine): no tps line
                r = res[(mode, name)]
                r["tps"].append(tps)
                r["cpu"].append(((c1 - c0) / TICK * 1e6 / n if n else float("nan")) if pid else 0.0)
                other.append(((m1 - m0) / TICK) / (t1 - t0))
                print(f"{mode:6s} round {rnd + 1} {name:12s} tps {tps:10.1f}  proxy CPU {r['cpu'][-1]:6.2f} us/txn", file=sys.stderr)
    finally:
        ours.stop(); ours_rw.stop(); bouncer.stop(); pool.stop(); pool_rw.stop()
        import shutil
        shutil.rmtree(wd, ignore_errors=True)
    print(f"\nload average before: {LOAD0}; after: {open('/proc/loadavg').read().strip()}")
    print(f"pgbench -M simple -c {CLIENTS} -j 2 -T {DURATION}, scale {SCALE}, median of {ROUNDS} round(s); "
          f"machine busy (all processes, incl. these) {statistics.mean(other):.2f} cores on average\n")
    print("| pgbench | target | tps | tps / direct | proxy CPU us/txn | CPU / PgBouncer | CPU / Pgpool-II (same split) |")
    print("|---|---|--:|--:|--:|--:|--:|")
    for mode, _ in modes:
        d = statistics.median(res[(mode, "direct")]["tps"])
        b_cpu = statistics.median(res[(mode, "pgbouncer")]["cpu"])
        for name, _, pid in targets:
            tps = statistics.median(res[(mode, name)]["tps"])
            cpu = statistics.median(res[(mode, name)]["cpu"])
            pp = {"scaleout": "pgpool", "scaleout-rw": "pgpool-rw"}.get(name)
            p_cpu = statistics.median(res[(mode, pp)]["cpu"]) if pp else 0
            print(f"| {mode} | {name} | {tps:,.0f} | {tps / d:.2f} | " + (f"{cpu:.1f} |" if pid else " |")
                  + (f" {cpu / b_cpu:.2f} |" if pid and b_cpu else " |")
                  + (f" {cpu / p_cpu:.2f} |" if p_cpu else " |"))
PY
