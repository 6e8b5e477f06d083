#!/usr/bin/python3
"""
bench/kv-zset-vs-redis.py — sorted sets in `scaleout kv` side by side with
redis-server: redis-benchmark's zadd and zpopmin tests, and bytes per element.

METHOD
  Both servers run at the same time on 127.0.0.1 (--save '' --appendonly no
  --maxmemory 2gb). For ROUNDS rounds, in alternation (the order flips every
  round), redis-benchmark -c 50 -r 100000 runs `-t zadd` then `-t zpopmin`,
  unpipelined (-n N) and with -P 16 (-n NP), against one server then the
  other. zadd adds element:<rand> members to one key; zpopmin then pops them.
  Around each run the server's utime+stime (/proc/PID/stat) is read: the
  difference over the requests is its CPU time per operation. ops/s comes from
  redis-benchmark's --csv output. Figures are medians over the rounds; ratios
  are scaleout / redis (CPU us/op: lower is better).
  Memory: fresh keyspaces are filled (redis-py pipeline) with (a) 10,000 keys
  of 10 members `user:N` with integer scores (a leaderboard shard), (b) 2,000
  keys of 50 members with millisecond-timestamp scores (rate-limiter windows),
  (c) one key of 500,000 members with float scores; INFO used_memory delta /
  members = bytes per element.

USAGE
  bench/kv-zset-vs-redis.py                 # ./scaleout, ROUNDS=3
  ROUNDS=5 N=100000 NP=1000000 bench/kv-zset-vs-redis.py
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALEOUT = os.environ.get("SCALEOUT_BIN", os.path.join(ROOT, "scaleout"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
N = int(os.environ.get("N", "100000"))
NP = int(os.environ.get("NP", "1000000"))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind):
    port = free_port()
    common = ["--port", str(port), "--bind", "127.0.0.1", "--maxmemory", "2gb"]
    if kind == "redis":
        argv = [shutil.which("redis-server"), *common, "--save", "", "--appendonly", "no"]
    else:
        argv = [SCALEOUT, "kv", *common, "--admin-port", "0"]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            if redis.Redis(port=port).ping():
                return p, port
        except redis.ConnectionError:
            pass
        if time.monotonic() > deadline:
            sys.exit(f"{kind} did not start")
        time.sleep(0.05)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def bench(pid, port, test, n, pipe):
    c0 = cpu_ticks(pid)
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-r", "100000", "-n", str(n),
                          "-P", str(pipe), "-t", test, "--csv"], capture_output=True, text=True, check=True).stdout
    c1 = cpu_ticks(pid)
    row = [line for line in out.splitlines() if line.startswith('"') and not line.startswith('"test"')][0]
    rps = float(row.split(",")[1].strip('"'))
    return rps, (c1 - c0) / TICK * 1e6 / n


def memory(port):
    r = redis.Redis(port=port)
    out = {}
    for kind in ("leaderboard 10 x 10,000 keys", "rate windows 50 x 2,000 keys", "one key, 500,000 members"):
        r.flushall()
        base = r.info("memory")["used_memory"]
        p = r.pipeline(transaction=False)
        if kind.startswith("leaderboard"):
            n = 100000
            for k in range(10000):
                p.zadd(f"lb:{k}", {f"user:{k * 10 + i}": 1000 + i for i in range(10)})
                if k % 500 == 499:
                    p.execute()
        elif kind.startswith("rate"):
            n = 100000
            for k in range(2000):
                p.zadd(f"rate:{k}", {f"req-{i}": 1700000000000 + i * 7 for i in range(50)})
                if k % 100 == 99:
                    p.execute()
        else:
            n = 500000
            for i in range(0, n, 5000):
                p.zadd("big", {f"member:{j}": j * 1.5 for j in range(i, i + 5000)})
                p.execute()
        p.execute()
        out[kind] = (r.info("memory")["used_memory"] - base) / n
    r.flushall()
    return out


def main():
    t0 = time.time()
    servers = {k: start(k) for k in ("redis", "scaleout")}
    res = {}
    try:
        for rnd in range(ROUNDS):
            order = ["redis", "scaleout"] if rnd % 2 == 0 else ["scaleout", "redis"]
            for pipe, n in ((1, N), (16, NP)):
                for kind in order:
                    p, port = servers[kind]
                    redis.Redis(port=port).flushall()
                    for test in ("zadd", "zpopmin"):
                        res.setdefault((test, pipe, kind), []).append(bench(p.pid, port, test, n, pipe))
        mem = {k: memory(servers[k][1]) for k in ("redis", "scaleout")}
    finally:
        for p, _ in servers.values():
            p.terminate()
            p.wait()
    print(f"- Run: `ROUNDS={ROUNDS} N={N} NP={NP} bench/kv-zset-vs-redis.py` ({time.time() - t0:.0f} s)")
    print("- Method: `redis-benchmark -c 50 -r 100000 -t zadd|zpopmin`, unpipelined and -P 16, servers in "
          "alternation, medians; CPU = server utime+stime per request")
    print()
    print("| test | -P | server | ops/s | CPU us/op | ops/s ratio | CPU ratio |")
    print("|---|--:|---|--:|--:|--:|--:|")
    for test in ("zadd", "zpopmin"):
        for pipe in (1, 16):
            base = None
            for kind in ("redis", "scaleout"):
                rows = res[(test, pipe, kind)]
                rps = statistics.median(r[0] for r in rows)
                cpu = statistics.median(r[1] for r in rows)
                if base is None:
                    base = (rps, cpu)
                    print(f"| {test.upper()} | {pipe} | {kind} | {rps:,.0f} | {cpu:.2f} |  |  |")
                else:
                    print(f"| {test.upper()} | {pipe} | {kind} | {rps:,.0f} | {cpu:.2f} | "
                          f"{rps / base[0]:.2f} | {cpu / base[1]:.2f} |")
    print()
    print("| memory (used_memory delta) | redis B/elem | scaleout B/elem | ratio |")
    print("|---|--:|--:|--:|")
    for kind in mem["redis"]:
        a, b = mem["redis"][kind], mem["scaleout"][kind]
        print(f"| {kind} | {a:.1f} | {b:.1f} | {b / a:.2f} |")


if __name__ == "__main__":
    main()
