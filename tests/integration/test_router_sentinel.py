"""Router: replicas learned from `scaleout sentinel` (issue 14).

A shard followed through sentinels (`master NAME`) gets its read replica from
`SENTINEL replicas NAME` and the sentinels' events, with no `replica` in the
configuration:

  - reads (GET on a fresh connection) reach the replica: counted in the
    replica's INFO commandstats, not the primary's; a connection that just
    wrote reads from the primary (read-your-writes window);
  - the primary is SIGKILLed: the sentinels fail over, writes go to the
    promoted node, the shard has no replica meanwhile (reads on the primary);
  - the old primary comes back, the sentinels turn it into a replica of the
    new one, and the router reads from it again.

Real processes: two `scaleout kv` (primary + replica) for shard A, one kv for
shard B (configured by hand), three `scaleout sentinel` monitors (quorum 2,
down-after 1 s). Every wait is bounded polling.
"""
import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest
import redis

from proc_helpers import free_port, scaleout_bin, wait_until
from sentinel_helpers import Proc as SProc
from sentinel_helpers import pairs, start_kv, wait_replica_up

HOST = "127.0.0.1"


def _sentinels(tmp_path, name, mport, n=3):
    out = []
    for _ in range(n):
        port = free_port()
        conf = tmp_path / f"sent-{port}.conf"
        conf.write_text("\n".join([
            "role sentinel", f"port {port}", f"bind {HOST}",
            f"sentinel monitor {name} {HOST} {mport} 2", f"sentinel down-after-milliseconds {name} 1000",
            f"sentinel failover-timeout {name} 10000", f"sentinel parallel-syncs {name} 1"]) + "\n")
        out.append(SProc("scaleout-sentinel", [str(scaleout_bin()), "sentinel", "--config", str(conf)], port,
                         str(tmp_path)))
    return out


class Router:
    def __init__(self, tmp_path, flags):
        self.port, self.admin = free_port(), free_port()
        self.logpath = os.path.join(str(tmp_path), f"router{self.port}.log")
        argv = [str(scaleout_bin()), "router", "--listen", f"{HOST}:{self.port}", "--admin-port",
                str(self.admin)] + flags
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def up():
            assert self.proc.poll() is None, f"router exited:\n{self.log()}"
            try:
                return redis.Redis(host=HOST, port=self.port, socket_timeout=1).ping()
            except redis.RedisError:
                return False
        wait_until(up, 10, what="router ready")

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read()[-4000:].decode(errors="replace")

    def shard(self, name):
        with urllib.request.urlopen(f"http://{HOST}:{self.admin}/status", timeout=5) as f:
            st = json.loads(f.read())
        return next(s for s in st["pools"][0]["shards"] if s["name"] == name)

    def replica_of(self, name):
        rep = self.shard(name).get("replica")
        return rep["addr"] if rep else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def gets(node):
    """GET calls the node has served (INFO commandstats)."""
    stats = redis.Redis(host=HOST, port=node.port, socket_timeout=5).info("commandstats")
    for k, v in stats.items():
        if k.lower() == "cmdstat_get":
            return int(v["calls"])
    return 0


def fresh(port):
    """A new connection: it has written nothing, so no read-your-writes window applies."""
    return redis.Redis(host=HOST, port=port, socket_timeout=10, decode_responses=True)


def test_replicas_from_sentinels_reads_failover_and_return(tmp_path):
    nodes, router = [], None
    try:
        a1 = start_kv(tmp_path)
        nodes.append(a1)
        a2 = start_kv(tmp_path, replicaof=a1.port)
        nodes.append(a2)
        b = start_kv(tmp_path)
        nodes.append(b)
        wait_replica_up(a2, a1.port)
        sents = _sentinels(tmp_path, "shard-a", a1.port)
        nodes.extend(sents)

        def topology():
            for s in sents:
                e = pairs(s.client().execute_command("SENTINEL", "master", "shard-a"))
                if int(e["num-slaves"]) < 1 or int(e["num-other-sentinels"]) < 2:
                    return False
            return True
        wait_until(topology, 20, interval=0.1, what="sentinels to discover the replica and each other")

        flags = []
        for s in sents:
            flags += ["--sentinel", f"{HOST}:{s.port}"]
        # no `replica` anywhere: shard A's comes from the sentinels
        router = Router(tmp_path, flags + [
            "--shard", f"{HOST}:{a1.port}", "name", "A", "master", "shard-a",
            "--shard", f"{HOST}:{b.port}", "name", "B",
            "--read-replicas", "prefer", "--read-your-writes", "30s", "--health-interval", "200ms",
            "--server-timeout", "2s", "--sentinel-check-interval", "1s"])
        wait_until(lambda: router.replica_of("A") == f"{HOST}:{a2.port}", 15, interval=0.1,
                   what="the router to learn shard A's replica from the sentinels")
        assert router.replica_of("B") is None

        keys = [f"rs:{i}" for i in range(200)]
        w = fresh(router.port)
        w.mset({k: "v1" for k in keys})
        on_a = [k for k in keys if redis.Redis(host=HOST, port=a1.port).exists(k)]
        assert 0 < len(on_a) < len(keys)
        wait_until(lambda: redis.Redis(host=HOST, port=a2.port).dbsize() == len(on_a), 10,
                   what="the replica to catch up")

        # reads on a fresh connection reach the replica, not the primary
        p0, r0 = gets(a1), gets(a2)
        rd = fresh(router.port)
        assert [rd.get(k) for k in on_a] == ["v1"] * len(on_a)
        assert gets(a2) - r0 == len(on_a) and gets(a1) == p0

        # read-your-writes: the connection that wrote reads its keys on the primary
        p0, r0 = gets(a1), gets(a2)
        w.set(on_a[0], "v2")
        assert w.get(on_a[0]) == "v2"
        assert gets(a1) - p0 == 1 and gets(a2) == r0

        # failover: the primary dies, the sentinels promote a2, writes follow
        a1.kill9()
        wait_until(lambda: router.shard("A")["addr"] == f"{HOST}:{a2.port}", 40, interval=0.1,
                   what="the router to follow the failover of shard A")
        assert router.replica_of("A") is None  # the promoted node is no replica; the old one is down
        w2 = fresh(router.port)
        w2.mset({k: "v3" for k in on_a})
        assert redis.Redis(host=HOST, port=a2.port, decode_responses=True).get(on_a[1]) == "v3"
        p0 = gets(a2)
        assert fresh(router.port).get(on_a[1]) == "v3"  # no replica: read on the primary
        assert gets(a2) - p0 == 1

        # the old primary returns; the sentinels make it a replica of a2; the router reads from it
        a1.start()
        wait_until(lambda: router.replica_of("A") == f"{HOST}:{a1.port}", 40, interval=0.1,
                   what="the router to read from the old primary once it is a replica")
        assert redis.Redis(host=HOST, port=a1.port, decode_responses=True).execute_command("ROLE")[0] == "slave"
        wait_until(lambda: redis.Redis(host=HOST, port=a1.port, decode_responses=True).get(on_a[-1]) == "v3", 15,
                   what="the returned node to catch up")
        p0, r0 = gets(a2), gets(a1)
        rd = fresh(router.port)
        assert [rd.get(k) for k in on_a] == ["v3"] * len(on_a)
        assert gets(a1) - r0 == len(on_a) and gets(a2) == p0
        # writes still go to the new primary
        w2.set(on_a[0], "v4")
        assert redis.Redis(host=HOST, port=a2.port, decode_responses=True).get(on_a[0]) == "v4"
    finally:
        if router:
            router.stop()
        for n in reversed(nodes):
            n.stop()


def test_replica_from_sentinel_serves_reads_while_the_primary_is_down(tmp_path):
    """read-replicas primary-down with the replica learned from a sentinel that
    does not fail over (down-after 60 s): while the primary is down, reads go to
    the replica even though its link to the primary is broken (the only replica
    there is); with the primary up, reads stay on the primary."""
    nodes, router = [], None
    try:
        a1 = start_kv(tmp_path)
        nodes.append(a1)
        a2 = start_kv(tmp_path, replicaof=a1.port)
        nodes.append(a2)
        wait_replica_up(a2, a1.port)
        port = free_port()
        conf = tmp_path / f"sent-{port}.conf"
        conf.write_text("\n".join([
            "role sentinel", f"port {port}", f"bind {HOST}", f"sentinel monitor m {HOST} {a1.port} 1",
            "sentinel down-after-milliseconds m 60000", "sentinel failover-timeout m 120000"]) + "\n")
        sent = SProc("scaleout-sentinel", [str(scaleout_bin()), "sentinel", "--config", str(conf)], port,
                     str(tmp_path))
        nodes.append(sent)
        wait_until(lambda: int(pairs(sent.client().execute_command("SENTINEL", "master", "m"))["num-slaves"]) >= 1,
                   20, interval=0.1, what="the sentinel to discover the replica")
        router = Router(tmp_path, ["--sentinel", f"{HOST}:{port}", "--shard", f"{HOST}:{a1.port}", "name", "A",
                                   "master", "m", "--read-replicas", "primary-down", "--health-interval", "200ms",
                                   "--server-timeout", "2s", "--sentinel-check-interval", "300ms"])
        wait_until(lambda: router.replica_of("A") == f"{HOST}:{a2.port}", 15, interval=0.1,
                   what="the router to learn the replica from the sentinel")
        keys = [f"pd:{i}" for i in range(50)]
        fresh(router.port).mset({k: "x" for k in keys})
        wait_until(lambda: redis.Redis(host=HOST, port=a2.port).dbsize() == len(keys), 10,
                   what="the replica to catch up")
        p0, r0 = gets(a1), gets(a2)
        rd = fresh(router.port)
        assert [rd.get(k) for k in keys] == ["x"] * len(keys)
        assert gets(a1) - p0 == len(keys) and gets(a2) == r0  # primary up: reads on the primary

        a1.kill9()
        wait_until(lambda: router.shard("A")["state"] != "up", 10, interval=0.05,
                   what="the router to see the primary down")

        def link_err():
            reps = sent.client().execute_command("SENTINEL", "replicas", "m")
            return reps and pairs(reps[0]).get("master-link-status") == "err"
        wait_until(link_err, 20, interval=0.1, what="the sentinel to see the replica's link down")
        # the router keeps reading from it (the only replica there is) over several of its checks
        rd = fresh(router.port)
        until = time.monotonic() + 5 * 0.3
        while time.monotonic() < until:
            r0 = gets(a2)
            assert [rd.get(k) for k in keys] == ["x"] * len(keys)
            assert gets(a2) - r0 == len(keys)
        assert router.replica_of("A") == f"{HOST}:{a2.port}"
        # writes have nowhere to go: the shard's error, at once
        with pytest.raises(redis.ResponseError, match="unavailable"):
            fresh(router.port).set(keys[0], "y")
    finally:
        if router:
            router.stop()
        for n in reversed(nodes):
            n.stop()
