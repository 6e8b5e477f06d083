"""failover_load.py — repeated primary kills under a WAIT-1 write load, shared
by tests/integration/test_kv_failover.py (3 kills) and
bench/sentinel-failover.py (N kills, against redis-sentinel).

Topology (one per FailoverCluster): a primary, two replicas, three sentinels
(quorum 2). `kind` chooses the pair:
  "scaleout": `scaleout kv` data nodes, `scaleout sentinel` monitors
  "redis":    Debian's redis-server data nodes, redis-sentinel monitors
  "mixed":    redis-server data nodes, `scaleout sentinel` monitors

Writers are plain clients that follow `SENTINEL get-master-addr-by-name`:
SET w<n>:<i> <i>, then WAIT 1 <timeout>; a write is acknowledged when WAIT
answers >= 1. Every SET answered OK is timed, with the port that answered it.

One round (kill_round): wait until the topology is stable (every sentinel
names the primary, both replicas linked, writes acknowledged), SIGKILL the
primary, wait for every sentinel to name a new primary, measure
  recover = kill -> first SET answered OK by the new primary
  acked   = kill -> first WAIT-1-acknowledged write on the new primary,
restart the killed node as a replica of the new primary, and check that every
write acknowledged so far is readable from the new primary.
"""
import os
import threading
import time

import redis

from proc_helpers import HOST, free_port, scaleout_bin, wait_until
from sentinel_helpers import (MASTER, REDIS_SERVER, Proc, master_addr, pairs, start_ours,
                              start_redis_sentinel, wait_replica_up, wait_topology)


def kv_argv(workdir, port, replicaof=None):
    d = os.path.join(str(workdir), f"kv-{port}")
    os.makedirs(d, exist_ok=True)
    argv = [str(scaleout_bin()), "kv", "--port", str(port), "--bind", HOST, "--admin-port", "0",
            "--dir", d, "--save", "", "--appendonly", "no"]
    if replicaof:
        argv += ["--replicaof", HOST, str(replicaof)]
    return argv


def redis_argv(workdir, port, replicaof=None):
    argv = [REDIS_SERVER, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--dbfilename", f"dump-{port}.rdb", "--repl-diskless-sync", "yes",
            "--repl-diskless-sync-delay", "0"]
    if replicaof:
        argv += ["--replicaof", HOST, str(replicaof)]
    return argv


class Writers:
    """n threads writing through the sentinels until stop()."""

    def __init__(self, sentinel_ports, n=2, wait_timeout_ms=1000):
        self.sentinel_ports = list(sentinel_ports)
        self.wait_timeout_ms = wait_timeout_ms
        self.lock = threading.Lock()
        self.acked = {}          # key -> value, WAIT-acknowledged
        self.set_ok = []         # (monotonic time, port) of every SET answered OK
        self.acked_at = []       # (monotonic time, port) of every WAIT-acknowledged write
        self.errors = 0
        self.unacked = 0         # SET OK but WAIT answered 0 (not acknowledged: may be lost)
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True) for w in range(n)]
        for t in self.threads:
            t.start()

    def _master(self, k):
        port = self.sentinel_ports[k % len(self.sentinel_ports)]
        try:
            s = redis.Redis(host=HOST, port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
            try:
                a = s.execute_command("SENTINEL", "get-master-addr-by-name", MASTER)
            finally:
                s.close()
        except redis.RedisError:
            return None
        return int(a[1]) if a else None

    def _run(self, w):
        i, k, conn, port = 0, w, None, None
        while not self._stop.is_set():
            if conn is None:
                k += 1
                port = self._master(k)
                if port is None:
                    time.sleep(0.02)
                    continue
                conn = redis.Redis(host=HOST, port=port, socket_timeout=self.wait_timeout_ms / 1000 + 1,
                                   socket_connect_timeout=0.5)
            key, val = f"w{w}:{i}", str(i)
            try:
                conn.set(key, val)
                t = time.monotonic()
                with self.lock:
                    self.set_ok.append((t, port))
                i += 1
                n = conn.execute_command("WAIT", 1, self.wait_timeout_ms)
                with self.lock:
                    if n >= 1:
                        self.acked[key] = val
                        self.acked_at.append((time.monotonic(), port))
                    else:
                        self.unacked += 1
            except redis.RedisError:
                with self.lock:
                    self.errors += 1
                try:
                    conn.close()
                except redis.RedisError:
                    pass
                conn = None
                time.sleep(0.02)
        if conn is not None:
            conn.close()

    def snapshot(self):
        with self.lock:
            return dict(self.acked)

    def first_after(self, series, t0, port):
        with self.lock:
            for t, p in getattr(self, series):
                if t > t0 and p == port:
                    return t
        return None

    def count_after(self, t0, port):
        with self.lock:
            return sum(1 for t, p in self.acked_at if t > t0 and p == port)

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join(10)


class FailoverCluster:
    def __init__(self, workdir, kind="scaleout", down_after=1000, failover_timeout=10000):
        assert kind in ("scaleout", "redis", "mixed"), kind
        self.workdir, self.kind = str(workdir), kind
        self.argv = kv_argv if kind == "scaleout" else redis_argv
        self.procs, self.nodes, self.sentinels = [], [], []
        self.down_after, self.failover_timeout = down_after, failover_timeout

    def _node(self, port=None, replicaof=None):
        port = port or free_port()
        p = Proc("kv" if self.kind == "scaleout" else "redis", self.argv(self.workdir, port, replicaof),
                 port, self.workdir)
        self.procs.append(p)
        return p

    def start(self):
        self.primary = self._node()
        self.nodes = [self.primary] + [self._node(replicaof=self.primary.port) for _ in range(2)]
        for r in self.nodes[1:]:
            wait_replica_up(r, self.primary.port)
        start = start_redis_sentinel if self.kind == "redis" else start_ours
        self.sentinels = [start(self.workdir, self.primary.port, quorum=2, down_after=self.down_after,
                                failover_timeout=self.failover_timeout) for _ in range(3)]
        self.procs += self.sentinels
        wait_topology(self.sentinels, 2, 2, timeout=30)
        return self

    def stop(self):
        for p in reversed(self.procs):
            p.stop()

    def replicas(self):
        return [n for n in self.nodes if n is not self.primary]

    def wait_stable(self, writers, timeout=60):
        """Every sentinel names the primary and sees both replicas usable; both
        replicas linked; writes acknowledged on the primary."""
        # the sentinels agree on a primary: normally self.primary, but on a
        # loaded machine a live primary may miss down-after and be failed
        # over (a spurious failover): follow it
        ports = {n.port for n in self.nodes}

        def agreed():
            addrs = {master_addr(s) for s in self.sentinels}
            if len(addrs) != 1:
                return None
            a = addrs.pop()
            if not a or a[1] not in ports:
                return None
            try:
                n = next(n for n in self.nodes if n.port == a[1])
                return a[1] if n.client().info("replication")["role"] == "master" else None
            except redis.RedisError:
                return None
        port = wait_until(agreed, timeout=timeout, interval=0.05, what="the sentinels to agree on a primary")
        if port != self.primary.port:
            print(f"note: the sentinels moved the primary to {port} without a kill (spurious failover)")
            self.primary = next(n for n in self.nodes if n.port == port)
        for r in self.replicas():
            wait_replica_up(r, port, timeout=timeout)
        want = sorted(r.port for r in self.replicas())

        def seen():
            for s in self.sentinels:
                try:
                    reps = [pairs(x) for x in s.client().execute_command("SENTINEL", "replicas", MASTER)]
                except redis.RedisError:
                    return False
                ok = sorted(int(r["port"]) for r in reps
                            if "s_down" not in r["flags"] and "disconnected" not in r["flags"]
                            and r.get("master-port") == str(port) and r.get("master-link-status") == "ok")
                if not set(want) <= set(ok):
                    return False
            return True
        wait_until(seen, timeout=timeout, interval=0.1, what="sentinels to see both replicas linked")
        t = time.monotonic()
        wait_until(lambda: writers.count_after(t, port) >= 20, timeout=timeout, interval=0.02,
                   what=f"acknowledged writes on {port}")

    def kill_round(self, writers, timeout=60):
        """SIGKILL the primary; returns (recover_s, acked_s, new primary port,
        missing acknowledged keys)."""
        self.wait_stable(writers, timeout)
        old = self.primary
        before = writers.snapshot()
        t0 = time.monotonic()
        old.kill9()
        newport = wait_until(lambda: self._agreed_new(old.port), timeout=timeout, interval=0.02,
                             what="the sentinels to name a new primary")
        new = next(n for n in self.nodes if n.port == newport)
        wait_until(lambda: new.client().info("replication")["role"] == "master", timeout=timeout,
                   what=f"{newport} to be a master")
        rec = wait_until(lambda: writers.first_after("set_ok", t0, newport), timeout=timeout, interval=0.01,
                         what="a write answered by the new primary")
        ack = wait_until(lambda: writers.first_after("acked_at", t0, newport), timeout=timeout, interval=0.01,
                         what="a WAIT-acknowledged write on the new primary")
        self.primary = new
        # the killed node comes back empty, as a replica of the new primary
        old.argv = self.argv(self.workdir, old.port, newport)
        old.start()
        acked = writers.snapshot()
        missing = self.missing(acked)
        return rec - t0, ack - t0, newport, missing, len(acked) - len(before)

    def _agreed_new(self, oldport):
        addrs = {master_addr(s) for s in self.sentinels}
        if len(addrs) == 1:
            a = addrs.pop()
            if a and a[1] != oldport:
                return a[1]
        return None

    def missing(self, acked):
        c = self.primary.client()
        keys = list(acked)
        out = []
        for i in range(0, len(keys), 1000):
            chunk = keys[i:i + 1000]
            vals = c.mget(chunk)
            out += [k for k, v in zip(chunk, vals) if v != acked[k]]
        return out
