#!/usr/bin/python3
"""
sentinel-failover.py — time to recover: SIGKILL of the primary -> +switch-master
published, for `scaleout sentinel` and Debian's redis-sentinel, same topology
and settings: one redis-server primary, two redis-server replicas, three
sentinels (quorum 2), down-after-milliseconds and failover-timeout as given.

usage: bench/sentinel-failover.py [ROUNDS] [DOWN_AFTER_MS]   (default 1 round, 1000 ms)
Run from the repository root after `make`. Implementations alternate per round.

Under a write load (issue 13):
usage: bench/sentinel-failover.py load KILLS [DOWN_AFTER_MS] [BATCH] [KINDS]
  per kind a fresh cluster (primary, two replicas, three sentinels, quorum 2)
  with two writers following get-master-addr-by-name doing SET + WAIT 1; the
  primary is SIGKILLed KILLS times in all (BATCH kills per cluster, kinds
  alternating per batch; default BATCH 10), each killed node restarted as a
  replica of the new one. Per kill: recover = kill -> first SET answered by
  the new primary, and kill -> first WAIT-1-acknowledged write on it; after
  each failover every WAIT-acknowledged write is checked on the new primary.
  KINDS (comma list, default scaleout,redis):
    scaleout  `scaleout kv` nodes + `scaleout sentinel`
    redis     redis-server nodes + Debian's redis-sentinel
    mixed     redis-server nodes + `scaleout sentinel`
"""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from failover_load import FailoverCluster, Writers  # noqa: E402
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


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def load(kills, down_after, batch, kinds):
    res = {k: {"rec": [], "ack": [], "lost": set(), "acked": 0, "errors": 0} for k in kinds}
    done, b = {k: 0 for k in kinds}, 0
    while any(done[k] < kills for k in kinds):
        order = kinds if b % 2 == 0 else list(reversed(kinds))
        b += 1
        for kind in order:
            n = min(batch, kills - done[kind])
            if n <= 0:
                continue
            with tempfile.TemporaryDirectory() as d:
                cl = FailoverCluster(d, kind, down_after=down_after, failover_timeout=10000).start()
                w = Writers([s.port for s in cl.sentinels], n=2)
                try:
                    for _ in range(n):
                        rec, ack, newport, missing, _ = cl.kill_round(w)
                        done[kind] += 1
                        r = res[kind]
                        r["rec"].append(rec)
                        r["ack"].append(ack)
                        new_lost = set(missing) - r["lost"]
                        r["lost"] |= set(missing)
                        print(f"{kind} kill {done[kind]}: recover {rec * 1000:.0f} ms, first WAIT-1 ack "
                              f"{ack * 1000:.0f} ms, WAIT-acknowledged writes lost in this failover: "
                              f"{len(new_lost)}", flush=True)
                    cl.wait_stable(w)
                    w.stop()
                    acked = w.snapshot()
                    res[kind]["lost"] |= set(cl.missing(acked))
                    res[kind]["acked"] += len(acked)
                    res[kind]["errors"] += w.errors
                finally:
                    w.stop()
                    cl.stop()
    print(f"\ndown-after-milliseconds {down_after}, failover-timeout 10000, 3 sentinels (quorum 2), "
          f"1 primary + 2 replicas, 2 writers SET + WAIT 1 1000, {kills} kills per kind, {batch} per cluster")
    print("| nodes + sentinels | kills | recover median ms | p90 | max | first WAIT-1 ack median ms | p90 "
          "| acked writes | lost |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    names = {"scaleout": "scaleout kv + scaleout sentinel", "redis": "redis-server + redis-sentinel",
             "mixed": "redis-server + scaleout sentinel"}
    for kind in kinds:
        r = res[kind]
        print(f"| {names[kind]} | {len(r['rec'])} | {statistics.median(r['rec']) * 1000:.0f} | "
              f"{pct(r['rec'], 0.9) * 1000:.0f} | {max(r['rec']) * 1000:.0f} | "
              f"{statistics.median(r['ack']) * 1000:.0f} | {pct(r['ack'], 0.9) * 1000:.0f} | "
              f"{r['acked']:,} | {len(r['lost'])} |")
    if "scaleout" in res and "redis" in res:
        a, b2 = statistics.median(res["scaleout"]["rec"]), statistics.median(res["redis"]["rec"])
        print(f"\nratio of recover medians scaleout / redis: {a / b2:.2f}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "load":
        kills = int(sys.argv[2]) if len(sys.argv) > 2 else 10
        down_after = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
        batch = int(sys.argv[4]) if len(sys.argv) > 4 else 10
        kinds = sys.argv[5].split(",") if len(sys.argv) > 5 else ["scaleout", "redis"]
        return load(kills, down_after, batch, kinds)
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
