#!/usr/bin/env python3
"""
bench/kv-ab-cpu.py — server CPU time per operation of two scaleout kv binaries
(old and new) and redis-server, side by side in one run.

METHOD
  The servers run at the same time on 127.0.0.1 (free ports; scaleout with
  --threads 1, redis-server with --save '' --appendonly no). Each is first
  loaded by the same redis-benchmark SET run (-r KEYS), so GET/INCR/... hit
  a keyspace of about KEYS keys. Then, ROUNDS times, for each test of TESTS and
  each server in turn (the order rotates every round so no server always goes
  first), redis-benchmark -t TEST -n N -r KEYS -c 50 -d 64 [-P PIPE] runs and
  the server's utime+stime (/proc/PID/stat, all threads, clock ticks) is read
  around it: CPU us/op = delta / N. Figures are medians over the rounds;
  ratios are to redis-server and new/old. Counting CPU time rather than
  ops/s keeps the figure about the server's own work on a shared machine
  (other load still adds cache and scheduling noise: alternate and take
  medians, as here).

USAGE
  OLD=path/to/old/scaleout NEW=build/scaleout bench/kv-ab-cpu.py
  env: ROUNDS (5) N (400000) KEYS (100000) PIPE (16; 1 = no pipelining)
       TESTS ("set get incr lpush rpush lpop sadd hset zadd"; also eval, evalsha,
       eval10: EVAL of a SET, EVALSHA of it, EVAL of 10 INCR; zincrby, zrank,
       zscore, zrange10 (ZRANGE 0 10 WITHSCORES), zrangebyscore (LIMIT 0 10) on
       the set -t zadd grew, so list them after zadd; zadd_small: ZADD to KEYS
       small sets; zpopmin, last, as it empties the set)
Stops only the servers it started.
"""
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROUNDS = int(os.environ.get("ROUNDS", "5"))
N = int(os.environ.get("N", "400000"))
KEYS = int(os.environ.get("KEYS", "100000"))
PIPE = int(os.environ.get("PIPE", "16"))
TESTS = os.environ.get("TESTS", "set get incr lpush rpush lpop sadd hset zadd").split()
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return int(parts[11]) + int(parts[12])


def wait_ready(port):
    for _ in range(300):
        try:
            out = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True,
                                 timeout=2).stdout
            if "PONG" in out:
                return
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.05)
    sys.exit(f"server on port {port} did not answer PING")


SET_LUA = "return redis.call('set',KEYS[1],ARGV[1])"
TEN_LUA = "for i = 1, 10 do redis.call('incr', KEYS[1]) end return 1"
# tests that are not redis-benchmark -t names: a command line of their own
CUSTOM = {
    "eval": ["EVAL", SET_LUA, "1", "key:__rand_int__", "v"],
    "evalsha": ["EVALSHA", hashlib.sha1(SET_LUA.encode()).hexdigest(), "1", "key:__rand_int__", "v"],
    "eval10": ["EVAL", TEN_LUA, "1", "counter:__rand_int__"],
    # sorted sets: after -t zadd, myzset holds about KEYS members element:<n>
    "zincrby": ["ZINCRBY", "myzset", "1", "element:__rand_int__"],
    "zrank": ["ZRANK", "myzset", "element:__rand_int__"],
    "zscore": ["ZSCORE", "myzset", "element:__rand_int__"],
    "zrange10": ["ZRANGE", "myzset", "0", "10", "WITHSCORES"],
    "zrangebyscore": ["ZRANGEBYSCORE", "myzset", "__rand_int__", "+inf", "LIMIT", "0", "10"],
    # KEYS small sets (listpack encoding), a few members each
    "zadd_small": ["ZADD", "zsmall:__rand_int__", "__rand_int__", "m:__rand_int__"],
}


def bench(port, test, n):
    args = ["redis-benchmark", "-p", str(port), "-n", str(n), "-r", str(KEYS), "-c", "50", "-d", "64", "-q"]
    if PIPE > 1:
        args += ["-P", str(PIPE)]
    if test in CUSTOM:
        if test == "evalsha":
            subprocess.run(["redis-cli", "-p", str(port), "SCRIPT", "LOAD", SET_LUA], capture_output=True, check=True)
        args += CUSTOM[test]
    else:
        args += ["-t", test]
    subprocess.run(args, capture_output=True, timeout=600, check=True)


def main():
    servers = []
    tmp = tempfile.mkdtemp(prefix="kv-ab-")
    for name, argv in [("old", [os.environ.get("OLD", "./scaleout-old"), "kv", "--threads", "1"]),
                       ("new", [os.environ.get("NEW", "build/scaleout"), "kv", "--threads", "1"]),
                       ("redis", ["redis-server", "--save", "", "--appendonly", "no"])]:
        port = free_port()
        if name == "redis":
            full = argv + ["--port", str(port), "--bind", "127.0.0.1", "--dir", tmp]
        else:
            full = argv + ["--port", str(port), "--bind", "127.0.0.1", "--admin-port", "0"]
        log = open(os.path.join(tmp, name + ".log"), "w")
        full[0] = os.path.abspath(full[0]) if os.path.exists(full[0]) else full[0]
        p = subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
        servers.append((name, port, p))
    try:
        for _, port, _ in servers:
            wait_ready(port)
        for _, port, _ in servers:
            bench(port, "set", KEYS * 2)
        res = {(t, s[0]): [] for t in TESTS for s in servers}
        for r in range(ROUNDS):
            order = servers[r % len(servers):] + servers[:r % len(servers)]
            for t in TESTS:
                for name, port, p in order:
                    c0 = cpu_ticks(p.pid)
                    bench(port, t, N)
                    c1 = cpu_ticks(p.pid)
                    res[(t, name)].append((c1 - c0) / TICK * 1e6 / N)
            print(f"round {r + 1}/{ROUNDS} done", file=sys.stderr)
        load = os.getloadavg()[0]
        print(f"CPU us/op, median of {ROUNDS} rounds; redis-benchmark -n {N} -r {KEYS} -c 50 -d 64"
              f"{' -P ' + str(PIPE) if PIPE > 1 else ''}; load average at the end {load:.1f}")
        print(f"{'test':8} {'old':>7} {'new':>7} {'redis':>7} {'old/redis':>10} {'new/redis':>10} {'new/old':>8}")
        for t in TESTS:
            o, n, rd = (statistics.median(res[(t, s)]) for s in ("old", "new", "redis"))
            print(f"{t:8} {o:7.3f} {n:7.3f} {rd:7.3f} {o / rd:10.2f} {n / rd:10.2f} {n / o:8.2f}")
    finally:
        for _, _, p in servers:
            p.terminate()
        for _, _, p in servers:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
