"""
scaleout router: the sharding proxy in front of real `scaleout kv` shards,
driven by redis-py and redis-cli.

  - MGET/MSET/DEL/EXISTS across shards, replies in the client's order, and the
    keys really spread over the shards (checked on direct connections);
  - a pipeline that spans shards comes back in order;
  - hash tags keep keys together; RENAME/MULTI across shards are refused with
    a clear error, on one shard they work;
  - keyless commands: PING/ECHO locally, DBSIZE/KEYS/FLUSHALL fanned out, SCAN
    refused, unknown commands answered with an error;
  - a shard killed (SIGKILL) under load: errors only for its keys, never a hang,
    and its keys work again once it is back on the same port;
  - twemproxy compatibility: the same 10,000 keys SET through Debian's
    nutcracker and through the router (same servers, same config) land on the
    same shard, for `hash: fnv1a_64` with weights and for `hash: md5` with
    named servers;
  - a shard's primary found through 3 `scaleout sentinel`s (master names):
    SIGKILL of shard A's primary under a redis-py write load gives errors
    only for A's keys and only until the router follows +switch-master, none
    after; every write acknowledged after the switch is readable;
  - replicas (read-replicas prefer, read-your-writes), the directory and range
    distributions, prefix pools from a config file, the admin endpoint
    (status, metrics, runtime shard add/remove with the token), limits.

Every process is started here on free ports and stopped by PID; every wait is
bounded polling. A missing nutcracker or redis-cli fails the tests.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest
import redis

from proc_helpers import free_port, scaleout_bin, wait_until
from router_helpers import FakeShard

HOST = "127.0.0.1"


def _ready(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False


class Proc:
    """One process on a port we chose; stopped by PID."""

    def __init__(self, argv, port, workdir, name):
        self.argv = [str(a) for a in argv]
        self.port = port
        self.workdir = workdir
        self.name = name
        self.proc = None

    def start(self, ready=_ready):
        log = open(os.path.join(self.workdir, f"{self.name}.log"), "ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir)
        log.close()
        wait_until(lambda: self.proc.poll() is not None or ready(self.port), 10, what=f"{self.name} ready")
        assert self.proc.poll() is None, f"{self.name} exited:\n{self.log()}"
        return self

    def log(self):
        try:
            with open(os.path.join(self.workdir, f"{self.name}.log"), "rb") as f:
                return f.read()[-4000:].decode(errors="replace")
        except OSError:
            return ""

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def stop(self):
        self.kill(signal.SIGTERM)


@pytest.fixture
def procs(tmp_path):
    started = []

    class Factory:
        def kv(self, port=None):
            port = port or free_port()
            p = Proc([scaleout_bin(), "kv", "--port", port, "--bind", HOST, "--admin-port", "0"], port, tmp_path,
                     f"kv{port}").start()
            started.append(p)
            return p

        def router(self, *flags, config=None):
            port = free_port()
            admin = free_port()
            argv = [scaleout_bin(), "router"]
            if config is not None:
                path = tmp_path / f"router{port}.conf"
                path.write_text(config)
                argv += ["--config", path]
            argv += ["--listen", f"{HOST}:{port}", "--admin-port", admin] + list(flags)
            p = Proc(argv, port, tmp_path, f"router{port}").start()
            p.admin = admin
            started.append(p)
            return p

        def redis(self):
            port = free_port()
            exe = shutil.which("redis-server")
            assert exe, "redis-server is required (scripts/install-deps.sh)"
            p = Proc([exe, "--port", port, "--bind", HOST, "--save", "", "--appendonly", "no"], port, tmp_path,
                     f"redis{port}").start()
            started.append(p)
            return p

        def nutcracker(self, yml):
            port = free_port()
            stats = free_port()
            path = tmp_path / f"nc{port}.yml"
            path.write_text(yml.replace("LISTEN", f"{HOST}:{port}"))
            nc = shutil.which("nutcracker")
            assert nc, "nutcracker is not installed (scripts/install-deps.sh installs it)"
            p = Proc([nc, "-c", path, "-s", stats, "-a", HOST], port, tmp_path, f"nc{port}")
            p.start(ready=lambda prt: _connectable(prt))
            started.append(p)
            return p

    yield Factory()
    for p in reversed(started):
        p.stop()


def _connectable(port):
    try:
        socket.create_connection((HOST, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def client(port, **kw):
    return redis.Redis(host=HOST, port=port, socket_timeout=10, **kw)


def owners(shards):
    """key -> index of the shard holding it (direct connections)."""
    out = {}
    for i, s in enumerate(shards):
        for k in client(s.port).keys("*"):
            assert k.decode() not in out, f"{k} on two shards"
            out[k.decode()] = i
    return out


def admin_get(r, path):
    with urllib.request.urlopen(f"http://{HOST}:{r.admin}{path}", timeout=5) as f:
        return f.read().decode()


def admin_call(r, method, path, token=None, data=None):
    req = urllib.request.Request(f"http://{HOST}:{r.admin}{path}", method=method,
                                 data=data.encode() if data else None)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as f:
            return f.status, json.loads(f.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def reshard_done(r, runs):
    """Wait until the router finished its runs-th resharding."""
    def done():
        rs = json.loads(admin_get(r, "/status"))["reshard"]
        return rs["runs"] >= runs and rs["state"] == "done"
    wait_until(done, 60, what=f"resharding #{runs} done")
    return json.loads(admin_get(r, "/status"))["reshard"]


def shard_flags(shards):
    out = []
    for s in shards:
        out += ["--shard", f"{HOST}:{s.port}"]
    return out


@pytest.fixture
def three(procs):
    shards = [procs.kv() for _ in range(3)]
    r = procs.router(*shard_flags(shards))
    return shards, r


# ---------------------------------------------------------------------------


def test_mget_mset_across_shards_in_order(three):
    shards, r = three
    c = client(r.port)
    keys = [f"k:{i}" for i in range(200)]
    assert c.mset({k: f"v{i}" for i, k in enumerate(keys)}) is True
    own = owners(shards)
    assert set(own) == set(keys)
    assert len(set(own.values())) == 3, "200 keys should reach all 3 shards"
    want = [f"v{i}".encode() for i in range(200)]
    assert c.mget(keys) == want
    mixed = ["k:5", "missing:1", "k:199", "k:0", "missing:2", "k:77"]
    assert c.mget(mixed) == [b"v5", None, b"v199", b"v0", None, b"v77"]
    assert c.exists(*keys[:50], "missing:1", keys[0]) == 51
    assert c.touch(*keys[:10]) == 10
    assert c.delete(*keys[:100], "missing:3") == 100
    assert c.unlink(*keys[100:150]) == 50
    assert c.mget(keys[95:105]) == [None] * 10
    assert sum(len(client(s.port).keys("*")) for s in shards) == 50


def test_pipeline_spanning_shards_keeps_order(three):
    shards, r = three
    c = client(r.port)
    p = c.pipeline(transaction=False)
    for i in range(500):
        p.set(f"p:{i}", i)
        p.incr(f"p:{i}")
        p.get(f"p:{i}")
        if i % 50 == 0:
            p.mget([f"p:{j}" for j in range(i + 1)])
    res = p.execute()
    k = 0
    for i in range(500):
        assert res[k] is True and res[k + 1] == i + 1 and res[k + 2] == str(i + 1).encode()
        k += 3
        if i % 50 == 0:
            assert res[k] == [str(j + 1).encode() for j in range(i + 1)]
            k += 1
    assert len(set(owners(shards).values())) == 3


def test_long_pipeline_over_shards_gets_every_reply_in_order(three):
    # replies ready while a client has commands in flight wait for the rest
    # (one write per pipeline), but only while fewer than 16 KB are ready: a
    # pipeline whose replies are a megabyte streams back, in order
    shards, r = three
    c = client(r.port)
    val = "x" * 100
    p = c.pipeline(transaction=False)
    for i in range(3000):
        p.set(f"lp:{i}", f"{i}:{val}")
    assert all(x is True for x in p.execute())
    p = c.pipeline(transaction=False)
    for rep in range(3):  # 9,000: under max-pipeline (10,000)
        for i in range(3000):
            p.get(f"lp:{i}")
    res = p.execute()
    assert len(res) == 9000
    assert res == [f"{i}:{val}".encode() for _ in range(3) for i in range(3000)]
    assert len(set(owners(shards).values())) == 3


def test_ready_reply_is_not_held_behind_a_shard_that_does_not_answer(procs):
    """A pipeline GET (kv shard) + GET (fake shard that holds its reply until
    told): the first reply reaches the client while the second is still
    owed (ready replies wait for the rest of the pipeline only briefly)."""
    kv = procs.kv()
    seen, hold, release = set(), threading.Event(), threading.Event()

    def consume(conn, buf):
        while True:  # whole commands only: *N, then N bulk strings
            parts = buf.split(b"\r\n")
            if len(parts) < 2 or not parts[0].startswith(b"*"):
                break
            n = int(parts[0][1:])
            if len(parts) < 1 + 2 * n + 1:
                break
            args = [parts[2 + 2 * i] for i in range(n)]
            buf = b"\r\n".join(parts[1 + 2 * n:])
            if args[0].upper() == b"GET":
                seen.add(args[1].decode())
                if hold.is_set():
                    release.wait(10)
                conn.sendall(b"$-1\r\n")
            else:
                conn.sendall(b"+PONG\r\n")
        return buf

    fake = FakeShard(consume)
    port = fake.port
    try:
        r = procs.router("--shard", f"{HOST}:{kv.port}", "--shard", f"{HOST}:{port}")
        c = client(r.port)
        keys = [f"h:{i}" for i in range(40)]
        for k in keys:
            c.get(k)
        on_fake = [k for k in keys if k in seen]
        on_kv = [k for k in keys if k not in seen]
        assert on_fake and on_kv
        c.set(on_kv[0], "fast")
        hold.set()
        s = socket.create_connection((HOST, r.port), timeout=10)
        a, b = on_kv[0].encode(), on_fake[0].encode()
        s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(a), a, len(b), b))
        got = b""
        while len(got) < len(b"$4\r\nfast\r\n"):
            got += s.recv(4096)  # times out (fails) if the ready reply waits for the fake shard
        assert got == b"$4\r\nfast\r\n" and not release.is_set()
        release.set()
        while len(got) < len(b"$4\r\nfast\r\n$-1\r\n"):
            got += s.recv(4096)
        assert got == b"$4\r\nfast\r\n$-1\r\n"
        s.close()
    finally:
        release.set()
        fake.close()


def test_hash_tags_and_cross_shard_refusal(three):
    shards, r = three
    c = client(r.port)
    for i in range(30):
        c.set(f"{{user:7}}:f{i}", i)
    own = owners(shards)
    assert len({own[f"{{user:7}}:f{i}"] for i in range(30)}) == 1
    assert c.rename("{user:7}:f0", "{user:7}:renamed") is True
    c.sadd("{s}a", 1, 2, 3)
    c.sadd("{s}b", 2, 3, 4)
    assert c.sinterstore("{s}c", ["{s}a", "{s}b"]) == 2
    # find two keys on different shards
    c.mset({f"x:{i}": i for i in range(20)})
    own = owners(shards)
    a = "x:0"
    b = next(k for k in (f"x:{i}" for i in range(20)) if own[k] != own[a])
    with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
        c.rename(a, b)
    with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
        c.sinterstore("x:dest", [a, b])
    with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
        c.smove(a, b, "m")
    # a destination named by an option (SORT/GEORADIUS ... STORE dst) is a
    # key too: on another shard it is refused, not written to the source's
    c.rpush("{g}list", 3, 1, 2)
    c.geoadd("{g}idx", (13.361389, 38.115556, "Palermo"))
    c.mset({f"y:{i}": i for i in range(40)})
    own = owners(shards)
    far = next(f"y:{i}" for i in range(40) if own[f"y:{i}"] != own["{g}list"])
    with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
        c.execute_command("SORT", "{g}list", "STORE", far)
    with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
        c.georadius("{g}idx", 15, 37, 200, unit="km", store=far)
    with pytest.raises(redis.ResponseError, match="CROSSSLOT"):
        c.georadiusbymember("{g}idx", "Palermo", 1, unit="km", store_dist=far)
    assert c.get(far) is not None  # untouched
    assert c.execute_command("SORT", "{g}list", "STORE", "{g}sorted") == 3
    assert c.georadius("{g}idx", 15, 37, 200, unit="km", store_dist="{g}near") == 1
    assert c.zrange("{g}near", 0, -1) == [b"Palermo"]
    assert owners(shards)["{g}near"] == owners(shards)["{g}sorted"] == own["{g}list"]
    # transactions: one shard works, two shards are refused at EXEC
    p = c.pipeline(transaction=True)
    p.set("{t}a", 1).incr("{t}a").get("{t}a")
    assert p.execute() == [True, 2, b"2"]
    p = c.pipeline(transaction=True)
    p.set(a, 1).set(b, 2)
    with pytest.raises(redis.ResponseError, match="more than one shard"):
        p.execute()
    assert c.get(a) == b"0"  # nothing ran
    with pytest.raises(redis.ResponseError, match="not supported"):
        c.execute_command("WATCH", a)


def test_keyless_commands(three):
    shards, r = three
    c = client(r.port)
    assert c.ping() is True
    assert c.echo("hi") == b"hi"
    c.mset({f"d:{i}": i for i in range(60)})
    assert c.dbsize() == 60
    assert sorted(c.keys("d:*")) == sorted(f"d:{i}".encode() for i in range(60))
    assert sorted(c.scan_iter(match="d:*", count=7)) == sorted(f"d:{i}".encode() for i in range(60))
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        c.scan(255)  # no shard 255
    with pytest.raises(redis.ResponseError, match="not supported by the router"):
        c.randomkey()
    with pytest.raises(redis.ResponseError, match="unknown command 'NOPE'"):
        c.execute_command("NOPE", "x")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        c.execute_command("GET")
    with pytest.raises(redis.ResponseError, match="database 0 only"):
        c.execute_command("SELECT", "2")
    with pytest.raises(redis.ResponseError, match="blocking commands"):
        c.blpop("q:1", 1)
    assert c.flushall() is True
    assert c.dbsize() == 0


def test_redis_cli_through_the_router(three):
    shards, r = three
    cli = shutil.which("redis-cli")
    assert cli, "redis-cli is not installed"

    def run(*args, stdin=None):
        return subprocess.run([cli, "-p", str(r.port), *args], capture_output=True, text=True, timeout=10,
                              input=stdin).stdout

    assert run("set", "cli:1", "one").strip() == "OK"
    assert run("mset", "cli:2", "two", "cli:3", "three").strip() == "OK"
    assert run("mget", "cli:3", "cli:1", "cli:nope", "cli:2").split("\n")[:4] == ["three", "one", "", "two"]
    out = run(stdin="PING\nGET cli:1\nDEL cli:1 cli:2 cli:3\n")
    assert out.split() == ["PONG", "one", "3"]


def test_shard_killed_under_load_errors_only_for_its_keys(procs):
    shards = [procs.kv() for _ in range(3)]
    r = procs.router(*shard_flags(shards), "--health-interval", "200ms", "--server-timeout", "2s")
    c = client(r.port)
    keys = [f"load:{i}" for i in range(600)]
    c.mset({k: "v" for k in keys})
    own = owners(shards)
    victim = 1
    stop = threading.Event()
    results = {"ok": 0, "bad_ok": 0, "errors": {}}

    def load():
        cl = client(r.port)
        i = 0
        while not stop.is_set():
            k = keys[i % len(keys)]
            i += 1
            try:
                cl.set(k, "v")
                results["ok"] += 1
            except redis.ResponseError as e:
                results["errors"].setdefault(own[k], []).append(str(e))
            except redis.ConnectionError as e:  # the router must not drop the client
                results["errors"].setdefault("conn", []).append(str(e))

    t = threading.Thread(target=load)
    t.start()
    wait_until(lambda: results["ok"] > 300, 10, what="load running")
    shards[victim].kill()
    wait_until(lambda: len(results["errors"].get(victim, [])) > 50, 10, what="errors for the dead shard's keys")
    stop.set()
    t.join(15)
    assert not t.is_alive(), "a client hung"
    assert set(results["errors"]) == {victim}, {k: v[:2] for k, v in results["errors"].items()}
    assert all("unavailable" in e for e in results["errors"][victim])
    # other shards' keys still work, the dead one's fail fast
    mine = [k for k in keys if own[k] == victim]
    others = [k for k in keys if own[k] != victim]
    assert all(c.get(k) == b"v" for k in others[:100])
    with pytest.raises(redis.ResponseError, match="unavailable"):  # an error, not a hang (socket timeout 10 s)
        c.get(mine[0])
    st = json.loads(admin_get(r, "/status"))
    states = {s["addr"]: s["state"] for s in st["pools"][0]["shards"]}
    assert states[f"{HOST}:{shards[victim].port}"] != "up"
    # back on the same port: its keys work again
    procs.kv(port=shards[victim].port)

    def recovered():
        try:
            return all(c.set(k, "w") for k in mine[:20])
        except redis.ResponseError:
            return False

    wait_until(recovered, 10, interval=0.1, what="keys of the restarted shard")
    assert c.mget(mine[:5]) == [b"w"] * 5


TWEMPROXY_CASES = {
    "fnv1a_64_weights": ("fnv1a_64", [("1", None), ("1", None), ("2", None)]),
    "md5_named": ("md5", [("1", "alpha"), ("1", "beta"), ("1", "gamma")]),
}


@pytest.mark.parametrize("case", sorted(TWEMPROXY_CASES))
def test_twemproxy_placement_identity(procs, case):
    hash_name, servers = TWEMPROXY_CASES[case]
    shards = [procs.kv() for _ in range(3)]
    lines = []
    for s, (w, name) in zip(shards, servers):
        lines.append(f"   - {HOST}:{s.port}:{w}" + (f" {name}" if name else ""))
    yml = ("alpha:\n  listen: LISTEN\n  hash: %s\n  distribution: ketama\n  redis: true\n"
           "  auto_eject_hosts: false\n  servers:\n%s\n" % (hash_name, "\n".join(lines)))
    nc = procs.nutcracker(yml)
    keys = [f"tw:{i}:{i * 7919 % 10007}" for i in range(10000)]
    p = client(nc.port).pipeline(transaction=False)
    for k in keys:
        p.set(k, "1")
    assert all(p.execute())
    theirs = owners(shards)
    assert len(theirs) == 10000
    assert len(set(theirs.values())) == 3
    for s in shards:
        client(s.port).flushall()
    flags = ["--distribution", "ketama", "--ketama-compat", "twemproxy", "--hash", hash_name]
    for s, (w, name) in zip(shards, servers):
        flags += ["--shard", f"{HOST}:{s.port}", "weight", w] + (["name", name] if name else [])
    r = procs.router(*flags)
    p = client(r.port).pipeline(transaction=False)
    for k in keys:
        p.set(k, "1")
    assert all(p.execute())
    ours = owners(shards)
    diff = [k for k in keys if theirs[k] != ours.get(k)]
    assert diff == [], f"{len(diff)} of 10000 keys placed differently, e.g. {diff[:5]}"


def test_replica_reads_and_read_your_writes(procs):
    primary, replica = procs.kv(), procs.kv()
    client(primary.port).set("who", "primary")
    client(replica.port).set("who", "replica")
    r = procs.router("--shard", f"{HOST}:{primary.port}", "replica", f"{HOST}:{replica.port}",
                     "--read-replicas", "prefer", "--read-your-writes", "60s")
    c = client(r.port)
    assert c.get("who") == b"replica"
    c.set("other", 1)                    # a write on this connection...
    assert c.get("who") == b"primary"    # ...pins its reads to the primary for the window
    assert client(r.port).get("who") == b"replica"  # other connections still read the replica
    st = json.loads(admin_get(r, "/status"))
    assert st["pools"][0]["read_replicas"] == "prefer"
    assert st["pools"][0]["shards"][0]["replica"]["reads"] >= 2


def test_replica_when_primary_down(procs):
    primary, replica = procs.kv(), procs.kv()
    client(replica.port).set("who", "replica")
    r = procs.router("--shard", f"{HOST}:{primary.port}", "replica", f"{HOST}:{replica.port}",
                     "--read-replicas", "when-primary-down", "--health-interval", "100ms")
    c = client(r.port)
    assert c.get("who") is None  # the primary answers while it is up
    primary.kill()

    def from_replica():
        try:
            return c.get("who") == b"replica"
        except redis.ResponseError as e:  # until the health check marks the primary down
            assert "unavailable" in str(e)
            return False

    wait_until(from_replica, 10, interval=0.05, what="reads served by the replica")
    with pytest.raises(redis.ResponseError, match="unavailable"):
        c.set("who", "x")  # writes never go to a replica


def test_directory_distribution_changes_at_run_time(procs):
    a, b, d = procs.kv(), procs.kv(), procs.kv()
    dc = client(d.port)
    dc.hset("dir", mapping={"alice": "A", "bob": "B"})
    conf = (f"role router\ndistribution directory\ndirectory {HOST}:{d.port} dir\ndirectory-ttl 100ms\n"
            f"directory-default A\nshard {HOST}:{a.port} name A\nshard {HOST}:{b.port} name B\n")
    r = procs.router(config=conf)
    c = client(r.port)
    c.set("alice", 1)
    c.set("bob", 2)
    c.set("carol", 3)  # not in the table: the default
    assert sorted(client(a.port).keys("*")) == [b"alice", b"carol"]
    assert client(b.port).keys("*") == [b"bob"]
    dc.hset("dir", "carol", "B")
    wait_until(lambda: c.get("carol") is None, 5, what="carol looked up on B")
    c.set("carol", 4)
    assert client(b.port).get("carol") == b"4"
    st = json.loads(admin_get(r, "/status"))
    assert st["pools"][0]["directory"]["entries"] == 3


def test_config_file_pools_prefix_and_range(procs, tmp_path):
    s = [procs.kv() for _ in range(4)]
    conf = (f"role router\nshard {HOST}:{s[0].port}\n"
            f"pool users\nprefix user:\ndistribution range\nrange-numeric yes\nrange-pattern user:\n"
            f"shard {HOST}:{s[1].port} range 0\nshard {HOST}:{s[2].port} range 1000\n"
            f"pool eu\nprefix eu:\nshard {HOST}:{s[3].port}\n")
    path = tmp_path / "check.conf"
    path.write_text(conf)
    out = subprocess.run([str(scaleout_bin()), "check", str(path)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    r = procs.router(config=conf)
    c = client(r.port)
    c.mset({"user:5": 1, "user:999": 2, "user:1000": 3, "user:123456": 4, "eu:x": 5, "other": 6})
    assert sorted(client(s[1].port).keys("*")) == [b"user:5", b"user:999"]
    assert sorted(client(s[2].port).keys("*")) == [b"user:1000", b"user:123456"]
    assert client(s[3].port).keys("*") == [b"eu:x"]
    assert client(s[0].port).keys("*") == [b"other"]
    with pytest.raises(redis.ResponseError, match="no shard for key"):
        c.set("user:", 1)
    bad = tmp_path / "bad.conf"
    bad.write_text("role router\nshard nowhere\ndistribution spiral\n")
    out = subprocess.run([str(scaleout_bin()), "check", str(bad)], capture_output=True, text=True, timeout=10)
    assert out.returncode != 0
    assert "bad.conf:2" in out.stderr and "bad.conf:3" in out.stderr


def test_admin_status_metrics_and_runtime_shards(procs):
    s = [procs.kv() for _ in range(3)]
    r = procs.router(*shard_flags(s[:2]), "--admin-token", "sekret")
    c = client(r.port)
    c.mset({f"m:{i}": i for i in range(100)})
    st = json.loads(admin_get(r, "/status"))
    assert [x["state"] for x in st["pools"][0]["shards"]] == ["up", "up"]
    m = admin_get(r, "/metrics")
    assert "scaleout_router_commands_total" in m and "scaleout_router_shard_up{" in m
    code, body = admin_call(r, "POST", f"/shards?addr={HOST}:{s[2].port}")
    assert code == 401
    code, body = admin_call(r, "POST", f"/shards?addr={HOST}:{s[2].port}", token="sekret")
    assert code == 201, body
    wait_until(lambda: len([x for x in json.loads(admin_get(r, "/status"))["pools"][0]["shards"]
                            if x["state"] == "up"]) == 3, 10, what="new shard up")
    reshard_done(r, 1)
    c.mset({f"n:{i}": i for i in range(300)})
    assert len(client(s[2].port).keys("n:*")) > 30  # about a third of new keys go to the new shard
    code, body = admin_call(r, "POST", f"/shards/{HOST}:{s[0].port}/weight?value=3", token="sekret")
    assert code == 200, body
    reshard_done(r, 2)
    code, body = admin_call(r, "DELETE", f"/shards/{HOST}:{s[2].port}", token="sekret")
    assert code == 200, body
    reshard_done(r, 3)
    assert sorted(int(v) for v in c.mget([f"m:{i}" for i in range(100)])) == list(range(100))
    c.mset({f"o:{i}": i for i in range(100)})
    assert client(s[2].port).keys("o:*") == []
    st = json.loads(admin_get(r, "/status"))
    assert [x["weight"] for x in st["pools"][0]["shards"]] == [3, 1]


def test_limits_pipeline_depth_and_garbage_shard(procs, tmp_path):
    s = procs.kv()
    r = procs.router("--shard", f"{HOST}:{s.port}", "--max-pipeline", "100")
    # 1,000 commands in one write: those past 100 in flight get an error, the connection lives
    with socket.create_connection((HOST, r.port), timeout=10) as sock:
        sock.sendall(b"SET k v\r\n" * 1000 + b"PING\r\n")
        data = b""
        while data.count(b"\r\n") < 1001:
            chunk = sock.recv(65536)
            assert chunk, "connection closed"
            data += chunk
        lines = data.split(b"\r\n")[:1001]
        assert lines[:100] == [b"+OK"] * 100
        assert all(x in (b"+OK", b"+PONG") or b"max-pipeline" in x for x in lines)
        assert any(b"max-pipeline" in x for x in lines)
        sock.sendall(b"PING\r\n")
        data = b""
        while not data.endswith(b"\r\n"):
            data += sock.recv(100)
        assert data == b"+PONG\r\n"
    # a shard that answers garbage: its keys get an error, the router stays up
    def garbage(conn):
        try:
            conn.settimeout(2)
            conn.recv(4096)
            conn.sendall(b"?garbage\r\n")
        except OSError:
            pass
        conn.close()

    fake = FakeShard(handle=garbage)
    gport = fake.port
    r2 = procs.router("--shard", f"{HOST}:{gport}", "--health-interval", "10s")
    c = client(r2.port)
    with pytest.raises(redis.ResponseError, match="unavailable"):
        c.get("x")
    assert c.ping() is True
    fake.close()


def test_threads_and_many_clients(procs):
    shards = [procs.kv() for _ in range(2)]
    r = procs.router(*shard_flags(shards), "--threads", "2", "--conns-per-shard", "2")
    errors = []

    def worker(n):
        try:
            c = client(r.port)
            for i in range(100):
                k = f"t{n}:{i}"
                p = c.pipeline(transaction=False)
                p.set(k, i).incr(k).mget([k, f"t{n}:{i - 1}"])
                assert p.execute() == [True, i + 1, [str(i + 1).encode(), str(i).encode() if i else None]]
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert errors == []
    assert client(r.port).dbsize() == 1600
    st = json.loads(admin_get(r, "/status"))
    assert st["threads"] == 2


def test_auto_eject_rehashes_keys_of_a_dead_shard(procs):
    shards = [procs.kv() for _ in range(3)]
    r = procs.router(*shard_flags(shards), "--auto-eject", "yes", "--health-interval", "100ms")
    c = client(r.port)
    keys = [f"ae:{i}" for i in range(300)]
    c.mset({k: 1 for k in keys})
    own = owners(shards)
    shards[2].kill()

    def all_served():
        try:
            return all(c.set(k, 2) for k in keys)
        except redis.ResponseError:
            return False

    wait_until(all_served, 10, interval=0.1, what="every key served by the 2 live shards")
    # keys of the live shards stayed where they were; the dead shard's moved
    now = owners(shards[:2])
    assert all(now[k] == own[k] for k in keys if own[k] != 2)
    st = json.loads(admin_get(r, "/status"))
    assert st["pools"][0]["in_distribution"] == 2


def test_manual_failover_keeps_placement(procs):
    a, a2, b = procs.kv(), procs.kv(), procs.kv()
    r = procs.router("--shard", f"{HOST}:{a.port}", "name", "A", "replica", f"{HOST}:{a2.port}",
                     "--shard", f"{HOST}:{b.port}", "name", "B", "--admin-token", "t")
    c = client(r.port)
    keys = [f"f:{i}" for i in range(200)]
    c.mset({k: "old" for k in keys})
    on_a = set(k.decode() for k in client(a.port).keys("*"))
    assert on_a and len(on_a) < 200
    # the operator copies A to A2 (a stand-in for replication), then promotes A2
    client(a2.port).mset({k: "copied" for k in on_a})
    # refused, and nothing changes: a primary that does not answer, another shard's primary
    code, body = admin_call(r, "POST", f"/shards/A/primary?addr={HOST}:{free_port()}", token="t")
    assert code == 409 and "PING" in body["error"], body
    code, body = admin_call(r, "POST", f"/shards/A/primary?addr={HOST}:{b.port}", token="t")
    assert code == 409 and "share" in body["error"], body
    assert c.mget(keys) == [b"old"] * 200
    a.kill()
    code, body = admin_call(r, "POST", f"/shards/A/primary?addr={HOST}:{a2.port}", token="t")
    assert code == 200, body
    assert c.mget(keys) == [b"copied" if k in on_a else b"old" for k in keys]
    c.set(next(iter(on_a)), "new")
    assert client(a2.port).get(next(iter(on_a))) == b"new"
    st = json.loads(admin_get(r, "/status"))
    sa = st["pools"][0]["shards"][0]
    assert sa["name"] == "A" and sa["addr"] == f"{HOST}:{a2.port}" and "replica" not in sa


def test_sigterm_answers_commands_in_flight_then_exits_0(procs):
    """A fake shard answers GET after 0.5 s; SIGTERM arrives while the GET is
    at the shard: the client still gets its reply, new clients are refused,
    and the router exits 0."""
    got_get = threading.Event()

    def consume(conn, buf):
        while b"\r\n" in buf:
            if buf.startswith(b"*1\r\n$4\r\nPING\r\n"):
                buf = buf[14:]
                conn.sendall(b"+PONG\r\n")
            elif buf.startswith(b"*2\r\n$3\r\nGET\r\n") and buf.count(b"\r\n") >= 5:
                buf = b""
                got_get.set()
                time.sleep(0.5)
                conn.sendall(b"$4\r\nslow\r\n")
            else:
                break
        return buf

    fake = FakeShard(consume)
    port = fake.port
    r = procs.router("--shard", f"{HOST}:{port}")
    c = client(r.port)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("v", c.get("k")))
    t.start()
    assert got_get.wait(5)
    r.proc.send_signal(signal.SIGTERM)
    t.join(10)
    assert result.get("v") == b"slow"
    assert r.proc.wait(10) == 0
    with pytest.raises(OSError):
        socket.create_connection((HOST, r.port), timeout=1).close()
    fake.close()


@pytest.mark.parametrize("shard", ["kv", "redis"])
def test_online_resharding_under_write_load_loses_no_acked_write(procs, shard):
    """A 3rd shard joins, then the 1st leaves, while writers SET, INCR and
    APPEND through the router: every acked write is readable afterwards with
    its last acked value, every key lives on exactly one shard (direct
    connections), and nothing is left on the removed shard. Shards: scaleout
    kv, and redis-server (the anchor: the same DUMP/RESTORE/WATCH protocol)."""
    s = [getattr(procs, shard)() for _ in range(3)]
    r = procs.router(*shard_flags(s[:2]), "--threads", "2", "--admin-token", "t", "--reshard-batch", "25", "--reshard-pause", "2ms")
    c = client(r.port)
    pre = {f"pre:{i}": str(i) for i in range(3000)}
    for i in range(0, 3000, 500):
        c.mset({k: pre[k] for k in list(pre)[i:i + 500]})
    c.set("ttl:key", "x", px=600000)
    stop = threading.Event()
    acked = {}        # key -> last acked value (each key has one writer)
    errors = []
    ops = [0]
    nwriters = 4

    def writer(t):
        wc = client(r.port)
        seq = 0
        while not stop.is_set():
            seq += 1
            k = f"w{t}:{seq % 200}"
            try:
                wc.set(k, seq)
                acked[k] = str(seq)
                got = wc.get(k)
                if got is None or got.decode() != str(seq):
                    errors.append(f"read-your-write {k}: {got} != {seq}")
                ck = f"cnt{t}:{seq % 50}"
                acked[ck] = str(wc.incr(ck))
                pk = f"pre:{(seq * 7 + t) % 3000}"
                v = wc.append(pk, "+")
                pre[pk] += "+"
                if v != len(pre[pk]):
                    errors.append(f"APPEND {pk}: length {v} != {len(pre[pk])}")
                ops[0] += 1
            except redis.RedisError as e:  # any error is a failure of the scheme
                errors.append(f"{k}: {e!r}")
                return

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(nwriters)]
    for th in threads:
        th.start()
    try:
        wait_until(lambda: ops[0] > 200, 20, what="writers running")
        code, body = admin_call(r, "POST", f"/shards?addr={HOST}:{s[2].port}", token="t")
        assert code == 201 and body["moved_data"] is True, body
        code, _ = admin_call(r, "DELETE", f"/shards/{HOST}:{s[0].port}", token="t")
        assert code == 409  # one resharding at a time
        rs1 = reshard_done(r, 1)
        assert rs1["keys_moved"] > 500 and rs1["keys_failed"] == 0, rs1
        code, body = admin_call(r, "DELETE", f"/shards/{HOST}:{s[0].port}", token="t")
        assert code == 200 and body["moved_data"] is True, body
        rs2 = reshard_done(r, 2)
        assert rs2["keys_moved"] > 500 and rs2["keys_failed"] == 0, rs2
        n = ops[0]
        wait_until(lambda: ops[0] > n + 100, 20, what="writers still running after the resharding")
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert not errors, errors[:5]
    assert rs1["commands_parked"] > 0 and rs2["commands_parked"] > 0, (rs1, rs2)  # the writers met moving keys
    where = owners(s)  # asserts that no key is on two shards
    assert not [k for k, i in where.items() if i == 0], "keys left on the removed shard"
    expect = dict(pre)
    expect.update(acked)
    expect["ttl:key"] = "x"
    assert set(where) == set(expect)
    keys = sorted(expect)
    for i in range(0, len(keys), 500):
        got = c.mget(keys[i:i + 500])
        bad = [(k, g, expect[k]) for k, g in zip(keys[i:i + 500], got) if g is None or g.decode() != expect[k]]
        assert not bad, bad[:5]
    assert 0 < c.pttl("ttl:key") <= 600000  # the TTL moved with the key
    m = admin_get(r, "/metrics")
    assert "scaleout_router_reshard_keys_moved_total" in m and "scaleout_router_reshard_state 4" in m


def test_sighup_reload_reshards_to_the_new_shard_list(procs, tmp_path):
    """SIGHUP reads the file again: a new shard list and weights become a new
    distribution and the keys move (every key readable, on exactly one shard)."""
    s = [procs.kv() for _ in range(3)]

    def conf(shards):
        return "".join(f"shard {HOST}:{x.port} weight {w}\n" for x, w in shards)

    r = procs.router(config=conf([(s[0], 1), (s[1], 1)]))
    path = tmp_path / f"router{r.port}.conf"
    c = client(r.port)
    data = {f"h:{i}": str(i) for i in range(2000)}
    c.mset(data)
    path.write_text(conf([(s[0], 1), (s[1], 2), (s[2], 1)]))
    r.proc.send_signal(signal.SIGHUP)
    rs = reshard_done(r, 1)
    assert rs["keys_moved"] > 300 and rs["keys_failed"] == 0, rs
    st = json.loads(admin_get(r, "/status"))
    assert [x["weight"] for x in st["pools"][0]["shards"]] == [1, 2, 1]
    assert len(client(s[2].port).keys("h:*")) > 200
    path.write_text(conf([(s[1], 2), (s[2], 1)]))
    r.proc.send_signal(signal.SIGHUP)
    reshard_done(r, 2)
    where = owners(s)
    assert set(where) == set(data) and 0 not in where.values()
    assert [v.decode() for v in c.mget(list(data))] == list(data.values())
    path.write_text("shard nonsense\n")
    r.proc.send_signal(signal.SIGHUP)  # a bad file: logged, nothing changes
    wait_until(lambda: "configuration not reloaded" in r.log(), 10, what="reload refused")
    assert c.get("h:7") == b"7" and len(json.loads(admin_get(r, "/status"))["pools"][0]["shards"]) == 2


def _pubsub_session(port, publisher_port):
    """Subscribe to channels and a pattern, publish, unsubscribe; what a
    client sees (confirmations in any order across channels)."""
    c = client(publisher_port)
    p = client(port).pubsub()
    chans = [f"ch{i}" for i in range(8)]
    p.subscribe(*chans)
    p.psubscribe("news.*")

    def drain(n):
        out = []
        deadline = time.monotonic() + 10
        while len(out) < n and time.monotonic() < deadline:
            m = p.get_message(timeout=0.2)
            if m:
                out.append(m)
        return out

    conf = drain(9)
    counts = sorted(m["data"] for m in conf)
    pubs = [c.publish("ch3", "hi"), c.publish("news.x", "n"), c.publish("nobody", "x"), c.publish("ch7", "b")]
    msgs = sorted((m["type"], m["pattern"], m["channel"], m["data"]) for m in drain(3))
    channels = sorted(c.pubsub_channels())
    numpat = c.pubsub_numpat()
    p.unsubscribe()
    p.punsubscribe()
    unsub = drain(9)
    last = max(unsub, key=lambda m: -m["data"])
    p.close()
    return counts, pubs, msgs, channels, numpat, sorted(m["channel"] for m in unsub), last["data"]


def test_pubsub_through_the_router_as_redis(procs):
    """SUBSCRIBE/PSUBSCRIBE through the router over 3 shards (each channel on
    the shard its name hashes to, PUBLISH to every shard) give what the same
    session gives on one redis-server: confirmations counted over all
    shards, each message once, PUBLISH's receiver count, PUBSUB CHANNELS."""
    shards = [procs.kv() for _ in range(3)]
    r = procs.router(*shard_flags(shards))
    anchor = procs.redis()
    got = _pubsub_session(r.port, r.port)
    want = _pubsub_session(anchor.port, anchor.port)
    assert got == want
    assert want[1] == [1, 1, 0, 1] and want[0] == list(range(1, 10))
    spread = [len(client(s.port).pubsub_channels()) for s in shards]
    # subscribe mode on a raw connection: other commands refused, PING answered, normal again after UNSUBSCRIBE
    with socket.create_connection((HOST, r.port), timeout=5) as s:
        s.sendall(b"SUBSCRIBE a\r\nGET x\r\nPING\r\nUNSUBSCRIBE\r\nSET x 1\r\n")
        want_bytes = (b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n-ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
                      b"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
                      b"*2\r\n$4\r\npong\r\n$0\r\n\r\n*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n+OK\r\n")
        buf = b""
        deadline = time.monotonic() + 5
        while len(buf) < len(want_bytes) and time.monotonic() < deadline:
            buf += s.recv(4096)
        assert buf == want_bytes
    assert spread == [0, 0, 0]


def test_resharding_moves_only_the_changed_pool(procs):
    """A shard added to a prefix pool: its keys spread over the pool's two
    shards; the default pool's keys do not move."""
    a, b, d = procs.kv(), procs.kv(), procs.kv()
    conf = f"shard {HOST}:{d.port}\npool users\n    prefix user:\n    shard {HOST}:{a.port}\n"
    r = procs.router("--admin-token", "t", config=conf)
    c = client(r.port)
    data = {f"user:{i}": str(i) for i in range(1000)}
    data.update({f"other:{i}": str(i) for i in range(300)})
    c.mset(data)
    code, body = admin_call(r, "POST", f"/shards?pool=users&addr={HOST}:{b.port}", token="t")
    assert code == 201 and body["moved_data"] is True, body
    rs = reshard_done(r, 1)
    assert rs["keys_failed"] == 0 and 300 < rs["keys_moved"] < 700, rs
    assert sorted(k.decode() for k in client(d.port).keys("*")) == sorted(k for k in data if k.startswith("other:"))
    on_b = client(b.port).keys("*")
    assert on_b and all(k.startswith(b"user:") for k in on_b)
    owners([a, b, d])
    assert [v.decode() for v in c.mget(list(data))] == list(data.values())


def _sentinels_for(tmp_path, masters, n=3):
    """n `scaleout sentinel`s (quorum 2, down-after 1 s) monitoring every master in masters {name: port}."""
    from sentinel_helpers import Proc as SProc
    out = []
    for _ in range(n):
        port = free_port()
        conf = tmp_path / f"sent-{port}.conf"
        lines = ["role sentinel", f"port {port}", f"bind {HOST}"]
        for name, mport in masters.items():
            lines += [f"sentinel monitor {name} {HOST} {mport} 2", f"sentinel down-after-milliseconds {name} 1000",
                      f"sentinel failover-timeout {name} 10000", f"sentinel parallel-syncs {name} 1"]
        conf.write_text("\n".join(lines) + "\n")
        out.append(SProc("scaleout-sentinel", [str(scaleout_bin()), "sentinel", "--config", str(conf)], port,
                         str(tmp_path)))
    return out


def test_sentinel_failover_errors_only_for_the_shard_then_none(procs, tmp_path):
    from sentinel_helpers import pairs, start_kv, wait_replica_up
    nodes = []
    try:
        a1 = start_kv(tmp_path)
        nodes.append(a1)
        a2 = start_kv(tmp_path, replicaof=a1.port)
        nodes.append(a2)
        b1 = start_kv(tmp_path)
        nodes.append(b1)
        b2 = start_kv(tmp_path, replicaof=b1.port)
        nodes.append(b2)
        wait_replica_up(a2, a1.port)
        wait_replica_up(b2, b1.port)
        sents = _sentinels_for(tmp_path, {"shard-a": a1.port, "shard-b": b1.port})
        nodes.extend(sents)

        def topology():
            for s in sents:
                for m in ("shard-a", "shard-b"):
                    e = pairs(s.client().execute_command("SENTINEL", "master", m))
                    if int(e["num-slaves"]) < 1 or int(e["num-other-sentinels"]) < 2:
                        return False
            return True

        wait_until(topology, 20, interval=0.1, what="sentinels to discover the replicas and each other")
        flags = []
        for s in sents:
            flags += ["--sentinel", f"{HOST}:{s.port}"]
        # the configured addresses are the fallbacks (and, with name, not the identity): the sentinels decide
        r = procs.router(*flags, "--shard", f"{HOST}:{a1.port}", "name", "A", "master", "shard-a",
                         "--shard", f"{HOST}:{b1.port}", "name", "B", "master", "shard-b",
                         "--health-interval", "200ms", "--server-timeout", "2s", "--sentinel-check-interval", "1s")

        def shard_status():
            st = json.loads(admin_get(r, "/status"))
            return {s["name"]: s for s in st["pools"][0]["shards"]}

        sh = shard_status()
        assert sh["A"]["addr"] == f"{HOST}:{a1.port}" and sh["A"]["sentinel_master"] == "shard-a"
        assert sh["B"]["addr"] == f"{HOST}:{b1.port}" and sh["B"]["sentinel_master"] == "shard-b"
        c = client(r.port)
        keys = [f"sf:{i}" for i in range(400)]
        c.mset({k: "0" for k in keys})
        on_a = set(k.decode() for k in client(a1.port).keys("*"))
        assert 0 < len(on_a) < len(keys)
        stop = threading.Event()
        res = {"acked": {}, "errors": [], "conn": [], "a_ok": 0}  # acked: key -> (value, start time)

        def load():
            cl = client(r.port)
            i = 0
            while not stop.is_set():
                k = keys[i % len(keys)]
                i += 1
                t0 = time.monotonic()
                try:
                    cl.set(k, str(i))
                    res["acked"][k] = (str(i), t0)
                    if k in on_a:
                        res["a_ok"] += 1
                except redis.ResponseError as e:
                    res["errors"].append((k, t0, str(e)))
                except redis.ConnectionError as e:  # the router must not drop the client
                    res["conn"].append(str(e))

        t = threading.Thread(target=load)
        t.start()
        wait_until(lambda: res["a_ok"] > 200, 10, what="load running")
        killed = time.monotonic()
        a1.kill9()
        wait_until(lambda: shard_status()["A"]["addr"] == f"{HOST}:{a2.port}", 40, interval=0.1,
                   what="the router to follow the sentinels' failover of shard A")
        switched = time.monotonic()
        base = res["a_ok"]
        wait_until(lambda: res["a_ok"] > base + 300, 15, what="writes to shard A after the failover")
        stop.set()
        t.join(15)
        assert not t.is_alive(), "a client hung"
        assert not res["conn"], res["conn"][:3]
        print(f"failover followed in {switched - killed:.1f} s; {len(res['errors'])} errors for shard A's keys "
              f"({res['errors'][:1]}), {len(res['acked'])} keys acked")
        # errors only for shard A's keys, only between the kill and the switch
        assert all(k in on_a for k, _, _ in res["errors"]), [e for e in res["errors"] if e[0] not in on_a][:3]
        # (one writer: at most one command, the one in flight at the kill, started before it)
        assert all(t0 <= switched for _, t0, _ in res["errors"]), [e for e in res["errors"] if e[1] > switched][:3]
        assert sum(t0 < killed for _, t0, _ in res["errors"]) <= 1
        # every write acknowledged after the switch is readable through the router
        after = {k: v for k, (v, t0) in res["acked"].items() if t0 > switched}
        assert any(k in on_a for k in after) and any(k not in on_a for k in after)
        got = c.mget(list(after))
        assert [g.decode() if g else None for g in got] == list(after.values())
        assert client(a2.port).execute_command("ROLE")[0] in ("master", b"master")
        sh = shard_status()
        assert sh["A"]["addr"] == f"{HOST}:{a2.port}" and sh["B"]["addr"] == f"{HOST}:{b1.port}"
        # a router started later with the old (dead) address configured asks the sentinels: same keys, same values
        r2 = procs.router(*flags, "--shard", f"{HOST}:{a1.port}", "name", "A", "master", "shard-a",
                          "--shard", f"{HOST}:{b1.port}", "name", "B", "master", "shard-b")
        assert [g.decode() if g else None for g in client(r2.port).mget(list(after))] == list(after.values())
    finally:
        for n in reversed(nodes):
            n.stop()


class _FakeSentinel:
    """Answers SENTINEL get-master-addr-by-name from self.masters and accepts
    SUBSCRIBE without ever publishing: a router must find a failover by asking again."""

    def __init__(self):
        self.masters = {}
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.subscribers = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        f = conn.makefile("rb")
        try:
            while True:
                line = f.readline()
                if not line.startswith(b"*"):
                    return
                args = []
                for _ in range(int(line[1:])):
                    n = int(f.readline()[1:])
                    args.append(f.read(n + 2)[:n].decode())
                if args[0].upper() == "SUBSCRIBE":
                    self.subscribers += 1
                    conn.sendall(b"*3\r\n$9\r\nsubscribe\r\n$14\r\n+switch-master\r\n:1\r\n")
                elif args[0].upper() == "SENTINEL" and len(args) == 3:
                    a = self.masters.get(args[2])
                    if a:
                        conn.sendall(f"*2\r\n${len(a[0])}\r\n{a[0]}\r\n${len(str(a[1]))}\r\n{a[1]}\r\n".encode())
                    else:
                        conn.sendall(b"*-1\r\n")
                else:
                    conn.sendall(b"-ERR unknown command\r\n")
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def test_sentinel_missed_message_found_by_the_periodic_check(procs):
    from sentinel_helpers import start_kv, wait_replica_up
    fake = _FakeSentinel()
    nodes = []
    try:
        a1 = procs.kv()
        a2 = start_kv(a1.workdir, replicaof=a1.port)
        nodes.append(a2)
        b = procs.kv()
        wait_replica_up(a2, a1.port)
        fake.masters["ma"] = (HOST, a1.port)
        r = procs.router("--sentinel", f"{HOST}:{fake.port}", "--shard", f"{HOST}:{a1.port}", "name", "A", "master",
                         "ma", "--shard", f"{HOST}:{b.port}", "name", "B", "--sentinel-check-interval", "200ms")
        wait_until(lambda: fake.subscribers >= 1, 10, what="the router to subscribe")
        c = client(r.port)
        keys = [f"pc:{i}" for i in range(100)]
        c.mset({k: "1" for k in keys})
        on_a = [k.decode() for k in client(a1.port).keys("*")]
        assert on_a
        wait_until(lambda: client(a2.port).dbsize() == len(on_a), 10, what="the replica to catch up")
        # the operator's failover; no +switch-master ever comes
        client(a2.port).execute_command("REPLICAOF", "NO", "ONE")
        fake.masters["ma"] = (HOST, a2.port)

        def status_a():
            st = json.loads(admin_get(r, "/status"))
            return next(s for s in st["pools"][0]["shards"] if s["name"] == "A")

        wait_until(lambda: status_a()["addr"] == f"{HOST}:{a2.port}", 10, interval=0.1,
                   what="the periodic check to find the new primary")
        c.set(on_a[0], "2")
        assert client(a2.port).get(on_a[0]) == b"2"
        assert c.mget(keys) == [b"2" if k == on_a[0] else b"1" for k in keys]
        # a sentinel naming an address that does not answer: the primary stays
        fake.masters["ma"] = (HOST, free_port())
        wait_until(lambda: "does not answer ROLE master" in r.log(), 10, interval=0.1,
                   what="the router to refuse a primary that does not answer PING")
        assert status_a()["addr"] == f"{HOST}:{a2.port}"
        c.set(on_a[0], "3")
        assert client(a2.port).get(on_a[0]) == b"3"
    finally:
        for n in nodes:
            n.stop()
        fake.close()


@pytest.mark.parametrize("flags,msg", [
    (["--shard", f"{HOST}:1", "master", "m"], "no 'sentinel HOST:PORT' is given"),
    (["--sentinel", "nohostport", "--shard", f"{HOST}:1"], "sentinel HOST:PORT"),
    (["--sentinel", f"{HOST}:1", "--shard", f"{HOST}:1", "master", ""], "bad sentinel master name"),
])
def test_sentinel_configuration_errors(flags, msg):
    p = subprocess.run([str(scaleout_bin()), "router", "--listen", f"{HOST}:{free_port()}"] + flags,
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and msg in p.stderr, p.stderr
