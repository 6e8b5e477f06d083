"""Helpers of the sentinel tests and benchmark: start redis-server data nodes,
`scaleout sentinel` and Debian's redis-sentinel on free loopback ports, stop
them by PID, and poll with deadlines (no fixed sleeps)."""
import os
import shutil
import signal
import subprocess
import time

import redis

from proc_helpers import HOST, free_port, scaleout_bin, wait_until

REDIS_SERVER = shutil.which("redis-server")
REDIS_SENTINEL = shutil.which("redis-sentinel")
MASTER = "mymaster"


class Proc:
    def __init__(self, name, argv, port, workdir):
        self.name, self.argv, self.port, self.workdir = name, argv, port, workdir
        self.log = os.path.join(workdir, f"{name}-{port}.log")
        self.proc = None
        self.start()

    def start(self):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.logf, stderr=subprocess.STDOUT, cwd=self.workdir)
        wait_until(self._ready, timeout=10, what=f"{self.name} on port {self.port}")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.proc.returncode}:\n{self.tail()}")
        try:
            return redis.Redis(host=HOST, port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def client(self, **kw):
        return redis.Redis(host=HOST, port=self.port, socket_timeout=5, decode_responses=True, **kw)

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)
        self.logf.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self.logf.closed:
            self.logf.close()

    def tail(self, n=4000):
        try:
            with open(self.log, "rb") as f:
                return f.read()[-n:].decode(errors="replace")
        except OSError:
            return ""


def start_redis(workdir, port=None, replicaof=None):
    port = port or free_port()
    argv = [REDIS_SERVER, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--dbfilename", f"dump-{port}.rdb", "--repl-diskless-sync", "yes",
            "--repl-diskless-sync-delay", "0"]
    if replicaof:
        argv += ["--replicaof", HOST, str(replicaof)]
    return Proc("redis", argv, port, str(workdir))


def start_kv(workdir, port=None, replicaof=None):
    port = port or free_port()
    # diskless full syncs (the default, as Redis) start at once, not after 5 s
    argv = [str(scaleout_bin()), "kv", "--port", str(port), "--bind", HOST, "--repl-diskless-sync-delay", "0"]
    if replicaof:
        argv += ["--replicaof", HOST, str(replicaof)]
    return Proc("kv", argv, port, str(workdir))


def sentinel_lines(mport, quorum, down_after, failover_timeout):
    return [f"sentinel monitor {MASTER} {HOST} {mport} {quorum}",
            f"sentinel down-after-milliseconds {MASTER} {down_after}",
            f"sentinel failover-timeout {MASTER} {failover_timeout}",
            f"sentinel parallel-syncs {MASTER} 1"]


def start_ours(workdir, mport, quorum=2, down_after=1000, failover_timeout=10000, port=None):
    port = port or free_port()
    conf = os.path.join(str(workdir), f"ours-{port}.conf")
    with open(conf, "w") as f:
        f.write("role sentinel\n")
        f.write(f"port {port}\nbind {HOST}\n")
        f.write("\n".join(sentinel_lines(mport, quorum, down_after, failover_timeout)) + "\n")
    return Proc("scaleout-sentinel", [str(scaleout_bin()), "sentinel", "--config", conf], port, str(workdir))


def start_redis_sentinel(workdir, mport, quorum=2, down_after=1000, failover_timeout=10000, port=None):
    port = port or free_port()
    conf = os.path.join(str(workdir), f"redis-sentinel-{port}.conf")
    with open(conf, "w") as f:
        f.write(f"port {port}\nbind {HOST}\ndaemonize no\nprotected-mode no\ndir {workdir}\n")
        f.write("\n".join(sentinel_lines(mport, quorum, down_after, failover_timeout)) + "\n")
    return Proc("redis-sentinel", [REDIS_SENTINEL, conf], port, str(workdir))


def pairs(flat):
    """A SENTINEL masters/replicas entry (flat field/value list) as a dict."""
    return dict(zip(flat[::2], flat[1::2]))


def master_addr(sentinel):
    try:
        a = sentinel.client().execute_command("SENTINEL", "get-master-addr-by-name", MASTER)
    except redis.RedisError:
        return None
    return (a[0], int(a[1])) if a else None


def wait_topology(sentinels, nreplicas, nsentinels, timeout=20):
    """Every sentinel knows nreplicas replicas and nsentinels other sentinels."""
    def ok():
        for s in sentinels:
            m = pairs(s.client().execute_command("SENTINEL", "master", MASTER))
            if int(m["num-slaves"]) < nreplicas or int(m["num-other-sentinels"]) < nsentinels:
                return False
        return True
    wait_until(ok, timeout=timeout, interval=0.1, what="sentinels to discover replicas and each other")


def wait_replica_up(replica, master_port, timeout=15):
    def ok():
        try:
            info = replica.client().info("replication")
        except redis.RedisError:
            return False
        return info.get("role") == "slave" and int(info.get("master_port", 0)) == master_port and \
            info.get("master_link_status") == "up"
    wait_until(ok, timeout=timeout, interval=0.05, what=f"replica {replica.port} linked to {master_port}")
