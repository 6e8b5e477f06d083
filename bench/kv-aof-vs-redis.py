#!/usr/bin/env python3
"""
kv-aof-vs-redis.py — write throughput and server CPU per operation with the
append-only file on, scaleout kv vs redis-server, same settings:
appendfsync everysec and always, `redis-benchmark -t set`, servers in
alternation, median of ROUNDS. CPU = server utime+stime (/proc/PID/stat)
over the run / requests. Environment: ROUNDS (3), N (100000), C (50), P (1),
MODES (everysec,always), OLD (path of another scaleout binary, e.g. the
previous commit's: measured as "scaleout-old" in the same alternation),
IDLE (0: connections opened before the run, each sending one PING, then left
idle during it: the cost of a server's many quiet clients).

Run: bench/kv-aof-vs-redis.py   (prints a Markdown table)
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
N = int(os.environ.get("N", "100000"))
C = int(os.environ.get("C", "50"))
P = int(os.environ.get("P", "1"))
MODES = os.environ.get("MODES", "everysec,always").split(",")
OLD = os.environ.get("OLD")
IDLE = int(os.environ.get("IDLE", "0"))
TARGETS = ["redis", "scaleout"] + (["scaleout-old"] if OLD else [])
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def start(target, fsync, d):
    port = free_port()
    if target == "redis":
        argv = ["redis-server", "--port", str(port), "--save", "", "--dir", d, "--appendonly", "yes",
                "--appendfsync", fsync]
    else:
        binary = OLD if target == "scaleout-old" else os.path.join(ROOT, "scaleout")
        argv = [binary, "kv", "--port", str(port), "--admin-port", "0", "--dir", d,
                "--appendonly", "yes", "--appendfsync", fsync]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=d)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return p, port
        except OSError:
            time.sleep(0.01)
    raise SystemExit(f"{target} did not start")


def run(target, fsync):
    d = tempfile.mkdtemp(prefix="aofbench-")
    p, port = start(target, fsync, d)
    idle = []
    try:
        for _ in range(IDLE):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"PING\r\n")
            idle.append(s)
        for s in idle:
            s.recv(16)
        c0 = cpu(p.pid)
        t0 = time.monotonic()
        out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(N), "-c", str(C),
                              "-P", str(P), "-d", "64", "-r", "100000", "-q", "--csv"],
                             capture_output=True, text=True, timeout=600).stdout
        dt = time.monotonic() - t0
        c1 = cpu(p.pid)
        line = [l for l in out.splitlines() if l.startswith('"SET"')][0]
        rps = float(line.split(",")[1].strip('"'))
        return rps, (c1 - c0) * 1e6 / N, dt
    finally:
        for s in idle:
            s.close()
        p.terminate()
        p.wait(10)
        shutil.rmtree(d, ignore_errors=True)


def main():
    if IDLE:
        import resource
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, IDLE + 1024), hard))
    rows = []
    for fsync in MODES:
        res = {t: [] for t in TARGETS}
        for i in range(ROUNDS):
            order = TARGETS[i % len(TARGETS):] + TARGETS[:i % len(TARGETS)]
            for t in order:
                res[t].append(run(t, fsync))
                print(f"# {fsync} round {i + 1} {t}: {res[t][-1][0]:,.0f} ops/s, {res[t][-1][1]:.2f} us/op",
                      file=sys.stderr, flush=True)
        med = {t: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for t, v in res.items()}
        for t in TARGETS:
            rps, us = med[t]
            ratio = "" if t == "redis" else f"{rps / med['redis'][0]:.2f} | {us / med['redis'][1]:.2f}"
            rows.append(f"| SET | {fsync} | {t} | {rps:,.0f} | {us:.2f} | {ratio or ' | '} |")
    print("| test | appendfsync | server | ops/s | CPU us/op | ops/s ratio | CPU ratio |")
    print("|---|---|---|--:|--:|--:|--:|")
    print("\n".join(rows))


if __name__ == "__main__":
    sys.exit(main())
