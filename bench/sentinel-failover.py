#!/usr/bin/python3
"""
sentinel-failover.py — time to recover: SIGKILL of the primary -> +switch-master
published, for `scaleout sentinel` and Debian's redis-sentinel, same topology
and settings: one redis-server primary, two redis-server replicas, three
sentinels (quorum 2), down-after-milliseconds and failover-timeout as given.

usage: bench/sentinel-failover.py [ROUNDS] [DOWN_AFTER_MS]   (default 1 round, 1000 ms)
Run from the repository root after `make`. Implementations alternate per round.
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from sentinel_helpers import (MASTER, start_ours, start_redis, start_redis_sentinel,  # noqa: E402
                              wait_replica_up, wait_topology)


def one(kind, down_after):
    with tempfile.TemporaryDirectory() as d:
        procs = []
        try:
            primary = start_redis(d)
            procs.append(primary)
            reps = [start_redis(d, replicaof=primary.port) for _ in range(2)]
            procs += reps
            for r in reps:
                wait_replica_up(r, primary.port)
            start = start_ours if kind == "scaleout" else start_redis_sentinel
            sents = [start(d, primary.port, quorum=2, down_after=down_after, failover_timeout=10000) for _ in range(3)]
            procs += sents
            wait_topology(sents, 2, 2, timeout=30)
            subs = []
            for s in sents:
                p = s.client().pubsub()
                p.subscribe("+switch-master")
                p.get_message(timeout=1)
                subs.append(p)
            t0 = time.monotonic()
            primary.kill9()
            deadline = t0 + 60
            while time.monotonic() < deadline:
                for p in subs:
                    m = p.get_message(timeout=0.01)
                    if m and m["type"] == "message":
                        return time.monotonic() - t0
            raise RuntimeError(f"{kind}: no +switch-master within 60 s")
        finally:
            for p in reversed(procs):
                p.stop()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    down_after = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    res = {"scaleout": [], "redis-sentinel": []}
    for i in range(rounds):
        for kind in (("scaleout", "redis-sentinel") if i % 2 == 0 else ("redis-sentinel", "scaleout")):
            t = one(kind, down_after)
            res[kind].append(t)
            print(f"round {i + 1} {kind}: {t * 1000:.0f} ms", flush=True)
    print(f"\ndown-after-milliseconds {down_after}, failover-timeout 10000, 3 sentinels (quorum 2), "
          f"1 primary + 2 replicas (redis-server), {rounds} round(s)")
    print("| sentinel | kill -> +switch-master, median ms | min | max |")
    print("|---|--:|--:|--:|")
    for kind, ts in res.items():
        print(f"| {kind} | {statistics.median(ts) * 1000:.0f} | {min(ts) * 1000:.0f} | {max(ts) * 1000:.0f} |")
    a, b = statistics.median(res["scaleout"]), statistics.median(res["redis-sentinel"])
    print(f"\nratio scaleout / redis-sentinel: {a / b:.2f}")


if __name__ == "__main__":
    main()
