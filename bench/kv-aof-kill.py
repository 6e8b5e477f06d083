#!/usr/bin/python3
"""
kv-aof-kill.py — the AOF checker at benchmark scale (issue 13): a server with
`appendonly yes --appendfsync always` is SIGKILLed under a write load KILLS
times (default 100) and restarted on the same directory each time; every
write acknowledged before a kill must be there after the restart.

Two writers per round, as tests/integration/test_kv_aof.py (20 kills):
SET k v; MULTI SET k v, INCR cnt EXEC; RPUSH list v then SET k v; a key is
recorded only once its reply arrived. The kill comes after a random 0.05-0.3 s
of writing. After every restart the last 500 acknowledged keys are checked
(and the key count), at the end all of them.

usage: bench/kv-aof-kill.py [KILLS] [TARGET]   TARGET scaleout (default) or redis
Run from the repository root after `make`.
"""
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(target, d, fsync="always"):
    port = free_port()
    if target == "redis":
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", d,
                "--appendonly", "yes", "--appendfsync", fsync]
    else:
        argv = [os.path.join(ROOT, "scaleout"), "kv", "--port", str(port), "--admin-port", "0", "--dir", d,
                "--save", "", "--appendonly", "yes", "--appendfsync", fsync]
    log = open(os.path.join(d, "server.log"), "ab")
    p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=d)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60:
        if p.poll() is not None:
            raise SystemExit(f"{target} exited {p.returncode}; see {d}/server.log")
        try:
            r = redis.Redis(port=port, socket_timeout=2)
            if r.info("persistence").get("loading", 0) == 0:
                return p, port, time.monotonic() - t0
        except redis.RedisError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{target} did not start")


def main():
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    target = sys.argv[2] if len(sys.argv) > 2 else "scaleout"
    rnd = random.Random(5)
    d = tempfile.mkdtemp(prefix="aofkill-")
    acked, lost_rounds, starts = {}, 0, []
    t_begin = time.monotonic()
    try:
        for k in range(kills):
            p, port, st = start(target, d)
            starts.append(st)
            r = redis.Redis(port=port, socket_timeout=10)
            tail = list(acked.items())[-500:]
            bad = [key for key, v in tail if r.get(key) != v]
            if bad or r.dbsize() < len(acked):
                lost_rounds += 1
                print(f"kill {k}: {len(bad)} of the last {len(tail)} acked keys missing", flush=True)
            stop = threading.Event()
            mine = [{} for _ in range(2)]

            def writer(w, k=k):
                cl = redis.Redis(port=port, socket_timeout=5)
                i = 0
                try:
                    while not stop.is_set():
                        key, v = f"r{k}:w{w}:{i}", f"{i}".encode()
                        if i % 3 == 0:
                            cl.set(key, v)
                        elif i % 3 == 1:
                            pl = cl.pipeline(transaction=True)
                            pl.set(key, v).incr(f"cnt{w}")
                            pl.execute()
                        else:
                            cl.rpush(f"list{w}", v)
                            cl.set(key, v)
                        mine[w][key] = v
                        i += 1
                except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
                    pass
            ts = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
            for t in ts:
                t.start()
            t0 = time.monotonic()
            while not all(len(m) > 5 for m in mine) and time.monotonic() - t0 < 10:
                time.sleep(0.005)
            time.sleep(0.05 + rnd.random() * 0.25)
            os.kill(p.pid, signal.SIGKILL)
            stop.set()
            for t in ts:
                t.join(10)
            p.wait(5)
            for m in mine:
                acked.update(m)
            if (k + 1) % 10 == 0:
                print(f"{k + 1} kills, {len(acked)} acked writes so far", flush=True)
        p, port, st = start(target, d)
        r = redis.Redis(port=port, socket_timeout=30)
        keys = list(acked)
        missing = 0
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            missing += sum(1 for key, v in zip(chunk, r.mget(chunk)) if v != acked[key])
        aof = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(d) for f in fs
                  if "appendonly" in f)
        p.terminate()
        p.wait(10)
        print(f"\n{target}: appendfsync always, {kills} SIGKILLs in {time.monotonic() - t_begin:.0f} s, "
              f"{len(acked):,} acknowledged writes, {missing} missing after the last restart, "
              f"{lost_rounds} restarts with a missing key; restart (load) median {statistics.median(starts) * 1000:.0f} ms, "
              f"max {max(starts) * 1000:.0f} ms, AOF {aof / 1e6:.1f} MB at the end")
        return 1 if missing or lost_rounds else 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
