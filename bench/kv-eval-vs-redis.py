#!/usr/bin/python3
"""
bench/kv-eval-vs-redis.py — Lua scripting in `scaleout kv` side by side with
redis-server: CPU per EVAL / EVALSHA / FCALL call.

METHOD
  Both servers run at the same time on 127.0.0.1 (redis: --save ''
  --appendonly no). For ROUNDS rounds, in alternation (the order flips every
  round), redis-benchmark -c 50 -n N runs each command below, unpipelined and
  with -P 16, against one server then the other:
    eval     EVAL "return redis.call('set',KEYS[1],ARGV[1])" 1 k v
    evalsha  EVALSHA <sha of the same script> 1 k v
    eval10   EVAL of a script doing 10 redis.call (INCR) per run
    fcall    FCALL setk 1 k v  (a library loaded with FUNCTION LOAD)
  Around each run the server's utime+stime (/proc/PID/stat) is read: the
  difference over the requests is its CPU time per call. ops/s comes from
  redis-benchmark's --csv output. Figures are medians; ratios scaleout / redis.

USAGE
  bench/kv-eval-vs-redis.py                  # ./scaleout, ROUNDS=3, N=100000
  ROUNDS=5 N=200000 bench/kv-eval-vs-redis.py
"""
import csv
import hashlib
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
TICK = os.sysconf("SC_CLK_TCK")

SET = "return redis.call('set',KEYS[1],ARGV[1])"
TEN = "for i = 1, 10 do redis.call('incr', KEYS[1]) end return 1"
LIB = "#!lua name=b\nredis.register_function('setk', function(k, a) return redis.call('set', k[1], a[1]) end)"
TESTS = {
    "eval": ["EVAL", SET, "1", "k", "v"],
    "evalsha": ["EVALSHA", hashlib.sha1(SET.encode()).hexdigest(), "1", "k", "v"],
    "eval10": ["EVAL", TEN, "1", "n"],
    "fcall": ["FCALL", "setk", "1", "k", "v"],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind):
    port = free_port()
    common = ["--port", str(port), "--bind", "127.0.0.1"]
    if kind == "redis":
        argv = [shutil.which("redis-server"), *common, "--save", "", "--appendonly", "no"]
    else:
        argv = [SCALEOUT, "kv", *common, "--admin-port", "0"]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            r = redis.Redis(port=port)
            if r.ping():
                r.script_load(SET)
                r.function_load(LIB, replace=True)
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


def bench(pid, port, args, pipe):
    c0 = cpu_ticks(pid)
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(N), "-P", str(pipe),
                          "--csv", *args], capture_output=True, text=True, check=True).stdout
    c1 = cpu_ticks(pid)
    rows = [r for r in csv.reader(out.splitlines()) if r and r[0] != "test"]
    rps = float(rows[0][1])
    return rps, (c1 - c0) / TICK * 1e6 / N


def main():
    t0 = time.time()
    servers = {k: start(k) for k in ("redis", "scaleout")}
    res = {}
    try:
        for rnd in range(ROUNDS):
            order = ["redis", "scaleout"] if rnd % 2 == 0 else ["scaleout", "redis"]
            for pipe in (1, 16):
                for kind in order:
                    p, port = servers[kind]
                    for test, args in TESTS.items():
                        res.setdefault((test, pipe, kind), []).append(bench(p.pid, port, args, pipe))
    finally:
        for p, _ in servers.values():
            p.terminate()
            p.wait()
    print(f"- Run: `ROUNDS={ROUNDS} N={N} bench/kv-eval-vs-redis.py` ({time.time() - t0:.0f} s)")
    print()
    print("| test | -P | redis ops/s | scaleout ops/s | ops/s ratio | redis CPU us/op | scaleout CPU us/op "
          "| CPU/op ratio |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for test in TESTS:
        for pipe in (1, 16):
            r = [statistics.median(x[i] for x in res[(test, pipe, "redis")]) for i in (0, 1)]
            s = [statistics.median(x[i] for x in res[(test, pipe, "scaleout")]) for i in (0, 1)]
            print(f"| {test} | {pipe} | {r[0]:.0f} | {s[0]:.0f} | {s[0] / r[0]:.2f} | {r[1]:.2f} | {s[1]:.2f} "
                  f"| {s[1] / r[1]:.2f} |")


if __name__ == "__main__":
    main()
