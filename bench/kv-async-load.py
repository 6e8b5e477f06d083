#!/usr/bin/python3
"""
kv-async-load.py — `repl-diskless-load swapdb` with async loading, scaleout kv
against Debian's redis-server 7.0, same script: a primary with N small keys
(redis: DEBUG POPULATE; kv: MSET batches), a replica that synced once, then
a second full sync of the same history (the replica's link cut and a 16 kB
backlog overrun, repl-diskless-sync yes, delay 0). During the load one
client polls INFO persistence + GET marker, 10 ms apart.

Reported per server: the replica's RSS before the resync and its peak during
and after the load (old + new data), how long the old data was served
(async_loading:1 first seen -> the new marker read), how many polls were
answered during the load and their latency (Redis answers clients once per
2 MB of RDB it parsed; kv's loader runs on its own thread).

usage: bench/kv-async-load.py [N] [KINDS]   (default 2000000, "redis,scaleout")
Run from the repository root after `make`.
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(kind, port, d, extra):
    if kind == "redis":
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", d, "--enable-debug-command", "yes"] + extra
    else:
        argv = [os.path.join(ROOT, "scaleout"), "kv", "--port", str(port), "--bind", "127.0.0.1",
                "--admin-port", str(free_port()), "--dir", d, "--maxmemory", "8gb"] + extra
    p = subprocess.Popen(argv, stdout=open(os.path.join(d, "log"), "w"), stderr=subprocess.STDOUT)
    c = redis.Redis(port=port)
    for _ in range(200):
        try:
            c.ping()
            return p, c
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    raise SystemExit(f"{kind} did not start")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def run(kind, n):
    pport, rport = free_port(), free_port()
    pp, pc = start(kind, pport, tempfile.mkdtemp(), ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
    rp, rc = start(kind, rport, tempfile.mkdtemp(), ["--repl-diskless-load", "swapdb"])
    try:
        if kind == "redis":
            pc.execute_command("DEBUG", "POPULATE", n, "key", 10)
        else:
            pipe = pc.pipeline(transaction=False)
            for i in range(0, n, 1000):
                args = []
                for j in range(i, min(n, i + 1000)):
                    args += [f"key:{j}", f"value:{j}"]
                pipe.execute_command("MSET", *args)
                if i % 50000 == 0:
                    pipe.execute()
            pipe.execute()
        pc.set("marker", "v1")
        rc.replicaof("127.0.0.1", pport)
        while rc.info("replication")["master_link_status"] != "up" or rc.get("marker") != b"v1":
            time.sleep(0.05)
        base = rss_mb(rp.pid)
        pc.config_set("repl-backlog-size", "16384")
        tx = pc.pipeline(transaction=True)
        tx.execute_command("CLIENT", "KILL", "TYPE", "replica")
        for i in range(10):
            tx.set(f"fill{i}", "A" * 16384)
        tx.execute()
        pc.set("marker", "v2")
        t0 = time.monotonic()
        first = end = None
        peak = base
        lat = []
        while time.monotonic() - t0 < 300:
            a = time.monotonic()
            loading = rc.info("persistence")["async_loading"]
            got = rc.get("marker")
            b = time.monotonic()
            peak = max(peak, rss_mb(rp.pid))
            if loading:
                first = first or a
                lat.append((b - a) / 2)
            if got == b"v2":
                end = b
                break
            time.sleep(0.01)
        time.sleep(2)
        after = rss_mb(rp.pid)
        lat.sort()
        served = f"{end - first:.2f} s" if first and end else "never seen"
        med = f"{lat[len(lat) // 2] * 1000:.1f}" if lat else "-"
        mx = f"{lat[-1] * 1000:.0f}" if lat else "-"
        print(f"{kind:8} N={n}: replica RSS {base} MB before, peak {peak} MB, {after} MB 2 s after the swap; "
              f"old data served {served}; {len(lat)} polls answered during the load, "
              f"median {med} ms, max {mx} ms per command")
    finally:
        for p in (pp, rp):
            p.terminate()
            p.wait()


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000000
    kinds = (sys.argv[2] if len(sys.argv) > 2 else "redis,scaleout").split(",")
    for k in kinds:
        run(k, n)
