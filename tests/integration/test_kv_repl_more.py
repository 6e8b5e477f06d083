"""
test_kv_repl_more.py — what replication and persistence add beyond keys,
each proven against Debian's redis-server 7.0 in both directions:

  - FUNCTION libraries: saved in RDB files (opcode FUNCTION2) and loaded from
    them (a dump.rdb of redis-server into kv and back), sent in a full sync,
    FUNCTION LOAD / DELETE / FLUSH / RESTORE propagated to replicas and the
    AOF (and kept by AOF rewrites, RDB preamble or not);
  - masterauth / masteruser: a replica AUTHs to a primary with requirepass;
    a wrong password is logged, shown in INFO and retried;
  - diskless sync: repl-diskless-sync (RDB sent with $EOF:<mark> framing, no
    file) and repl-diskless-load disabled / on-empty-db / swapdb;
  - the repl-stream-db aux field: a chained replica that syncs while the
    stream is in database 3 applies the following commands in database 3;
  - expired keys on a replica: answered as missing, kept (DBSIZE) until the
    primary's DEL arrives.
"""
import os
import shutil

import pytest
import redis

from conftest import REDIS_SERVER, wait_until

LIB = ("#!lua name=mylib\n"
       "redis.register_function{function_name='myget', callback=function(keys, args) "
       "return redis.call('GET', keys[1]) end, flags={'no-writes'}}\n"
       "redis.register_function('myset', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n")
LIB2 = ("#!lua name=lib2\n"
        "redis.register_function{function_name='hello', callback=function(keys, args) "
        "return 'hi ' .. args[1] end, flags={'no-writes'}}\n")


def require_redis():
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"


@pytest.fixture
def launch(launch_in_dir):  # conftest.py: servers with --dir in tmp_path/NAME
    return launch_in_dir


def offset(s, **kw):
    return int(s.client(**kw).info("replication")["master_repl_offset"])


def wait_synced(primary, *replicas, timeout=20, pkw=None):
    pkw = pkw or {}

    def ok():
        want = offset(primary, **pkw)
        for r in replicas:
            i = r.client().info("replication")
            if i.get("master_link_status") != "up" or int(i["master_repl_offset"]) < want:
                return False
        return True
    wait_until(ok, timeout=timeout, what="replicas in sync")


def libs(s, **kw):
    """FUNCTION LIST WITHCODE as a comparable dict name -> (code, sorted function names)."""
    out = {}
    for lib in s.client(**kw).function_list(withcode=True):
        d = {k.decode() if isinstance(k, bytes) else k: v for k, v in lib.items()} if isinstance(lib, dict) else \
            dict(zip([x.decode() for x in lib[0::2]], lib[1::2]))
        fns = []
        for f in d["functions"]:
            fd = f if isinstance(f, dict) else dict(zip([x.decode() for x in f[0::2]], f[1::2]))
            fns.append(fd.get("name", fd.get(b"name")))
        out[d["library_name"]] = (d["library_code"], sorted(fns))
    return out


# ---- functions --------------------------------------------------------------------

def test_functions_in_rdb_both_ways(tmp_path, launch):
    require_redis()
    # redis-server's dump.rdb (a library, compressed code) loads into kv
    rd = launch("redis", "rd", ["--dbfilename", "dump.rdb"])
    r = rd.client()
    r.function_load(LIB)
    r.set("k", "v")
    r.save()
    want = libs(rd)
    so_dir = tmp_path / "so"
    so_dir.mkdir()
    shutil.copy(tmp_path / "rd" / "dump.rdb", so_dir / "dump.rdb")
    so = launch("scaleout", "so", [])
    c = so.client()
    assert c.fcall("myget", 1, "k") == b"v"
    assert libs(so) == want
    # and kv's file (its own library added) loads into redis-server
    c.function_load(LIB2)
    c.save()
    rd_dir = tmp_path / "rd2"
    rd_dir.mkdir()
    shutil.copy(so_dir / "dump.rdb", rd_dir / "dump.rdb")
    rd2 = launch("redis", "rd2", ["--dbfilename", "dump.rdb"])
    r2 = rd2.client()
    wait_until(lambda: int(r2.info("persistence")["loading"]) == 0, timeout=20, what="loaded")
    assert r2.fcall("hello", 0, "there") == b"hi there"
    assert r2.fcall("myget", 1, "k") == b"v"
    assert libs(rd2) == libs(so)


def check_fn_replication(primary, replicas):
    p = primary.client()
    p.function_load(LIB2)
    p.function_load(LIB2.replace("lib2", "lib3").replace("'hello'", "'hello3'"))
    wait_synced(primary, *replicas)
    for rep in replicas:
        assert libs(rep) == libs(primary)
        assert rep.client().fcall_ro("hello3", 0, "x") == b"hi x"
    p.function_delete("lib3")
    dump = p.function_dump()
    p.function_flush()
    p.function_restore(dump)
    p.function_load(LIB.replace("mylib", "mylib"), replace=True)
    p.fcall("myset", 1, "fk", "fv")
    wait_synced(primary, *replicas)
    for rep in replicas:
        assert libs(rep) == libs(primary)
        assert rep.client().get("fk") == b"fv"
        with pytest.raises(redis.ResponseError, match="read only replica"):
            rep.client().function_load(LIB2.replace("lib2", "nope").replace("'hello'", "'nope'"))


@pytest.mark.parametrize("diskless", ["no", "yes"])
def test_functions_full_sync_and_stream_from_scaleout(diskless, launch):
    require_redis()
    so = launch("scaleout", "so", ["--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0"])
    so.client().function_load(LIB)
    so.client().set("k", "v")
    rd = launch("redis", "rd", ["--replicaof", "127.0.0.1", str(so.port)])
    kv = launch("scaleout", "kvr", ["--replicaof", "127.0.0.1", str(so.port)])
    wait_synced(so, rd, kv)
    for rep in (rd, kv):
        assert rep.client().fcall_ro("myget", 1, "k") == b"v"  # FCALL on a replica after a full sync
    check_fn_replication(so, [rd, kv])


def test_functions_full_sync_and_stream_from_redis(launch):
    require_redis()
    rd = launch("redis", "rd", ["--repl-diskless-sync", "no"])
    rd.client().function_load(LIB)
    rd.client().set("k", "v")
    kv = launch("scaleout", "kvr", ["--replicaof", "127.0.0.1", str(rd.port)])
    wait_synced(rd, kv)
    assert kv.client().fcall_ro("myget", 1, "k") == b"v"
    assert libs(kv) == libs(rd)
    check_fn_replication(rd, [kv])


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_functions_in_aof_and_rewrite(preamble, tmp_path, launch):
    so = launch("scaleout", "so", ["--appendonly", "yes", "--aof-use-rdb-preamble", preamble])
    c = so.client()
    c.function_load(LIB)
    c.function_load(LIB2)
    c.function_delete("lib2")
    c.fcall("myset", 1, "a", "1")
    want = libs(so)
    so.restart()
    assert libs(so) == want  # replayed from the incr file
    assert so.client().fcall("myget", 1, "a") == b"1"
    so.client().bgrewriteaof()
    wait_until(lambda: so.client().info("persistence")["aof_rewrite_in_progress"] == 0 and
               so.client().info("persistence")["aof_rewrite_scheduled"] == 0, timeout=20, what="rewrite")
    wait_until(lambda: int(so.client().info("persistence").get("aof_rewrites", 1)) >= 1, timeout=20,
               what="rewrite done")
    so.restart()
    assert libs(so) == want  # from the rewritten base
    assert so.client().fcall("myget", 1, "a") == b"1"


# ---- masterauth / masteruser --------------------------------------------------------

def test_masterauth_redis_replica_of_scaleout(launch):
    require_redis()
    so = launch("scaleout", "so", ["--requirepass", "s3cret"])
    so.client(password="s3cret").set("k", "v")
    rd = launch("redis", "rd", ["--replicaof", "127.0.0.1", str(so.port), "--masterauth", "s3cret"])
    wait_synced(so, rd, pkw={"password": "s3cret"})
    assert rd.client().get("k") == b"v"


def test_masterauth_scaleout_replica_of_redis_wrong_then_right(launch):
    require_redis()
    rd = launch("redis", "rd", ["--requirepass", "s3cret"])
    rd.client(password="s3cret").set("k", "v")
    kv = launch("scaleout", "kvr", ["--replicaof", "127.0.0.1", str(rd.port), "--masterauth", "wrong"])
    # refused: reported in the log and INFO, retried, never a crash
    wait_until(lambda: "Unable to AUTH to MASTER" in kv.log_tail(), timeout=10, what="AUTH error logged")
    info = kv.client().info("replication")
    assert info["master_link_status"] == "down"
    assert "WRONGPASS" in str(info.get("master_link_last_error", "")) or "invalid" in str(
        info.get("master_link_last_error", ""))
    n0 = kv.log_tail().count("Unable to AUTH to MASTER")
    wait_until(lambda: kv.log_tail().count("Unable to AUTH to MASTER") > n0, timeout=10, what="retried")
    assert kv.alive()
    kv.client().config_set("masterauth", "s3cret")
    kv.client().config_set("masteruser", "default")
    wait_synced(rd, kv, pkw={"password": "s3cret"})
    assert kv.client().get("k") == b"v"


def test_masterauth_scaleout_to_scaleout(launch):
    so = launch("scaleout", "so", ["--requirepass", "pw"])
    so.client(password="pw").set("k", "v")
    kv = launch("scaleout", "kvr", ["--replicaof", "127.0.0.1", str(so.port), "--masterauth", "pw"])
    kv2 = launch("scaleout", "kvr2", ["--replicaof", "127.0.0.1", str(so.port), "--masteruser", "default",
                                      "--masterauth", "pw"])
    wait_synced(so, kv, kv2, pkw={"password": "pw"})
    assert kv.client().get("k") == b"v" and kv2.client().get("k") == b"v"
    assert kv.client().config_get("masterauth") == {"masterauth": "pw"}


# ---- diskless sync ---------------------------------------------------------------------

@pytest.mark.parametrize("load", ["disabled", "on-empty-db", "swapdb"])
def test_diskless_scaleout_primary(load, tmp_path, launch):
    require_redis()
    so = launch("scaleout", "so", ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
    c = so.client()
    for i in range(200):
        c.set(f"k{i}", "x" * i)
    c.hset("h", mapping={"a": 1})
    c.config_set("rdb-key-save-delay", 2000)  # the child takes ~0.4 s: writes arrive while it streams
    kv = launch("scaleout", "kvr", ["--repl-diskless-load", load])
    kv.client().set("old", "gone after the sync")
    kv.client().replicaof("127.0.0.1", so.port)
    rd = launch("redis", "rd", ["--repl-diskless-load", load, "--replicaof", "127.0.0.1", str(so.port)])
    wait_until(lambda: "target: replicas sockets" in so.log_tail(), timeout=10, what="diskless child")
    for i in range(50):
        c.set(f"during{i}", i)
    c.config_set("rdb-key-save-delay", 0)
    wait_synced(so, kv, rd)
    c.set("after", "1")
    wait_synced(so, kv, rd)
    for rep in (kv, rd):
        rc = rep.client()
        assert rc.dbsize() == c.dbsize()
        assert rc.get("k199") == b"x" * 199 and rc.get("after") == b"1" and rc.get("old") is None
        assert rc.get("during49") == b"49"
    assert "target: replicas sockets" in so.log_tail()
    assert not any(n.startswith("temp-repl") for n in os.listdir(tmp_path / "so"))
    # disabled, and on-empty-db on a replica with data (kv had "old"; Redis's
    # useDisklessLoad()): the payload went through a file that became dump.rdb
    assert (tmp_path / "kvr" / "dump.rdb").exists() == (load != "swapdb")


@pytest.mark.parametrize("load", ["disabled", "swapdb"])
def test_diskless_redis_primary(load, tmp_path, launch):
    require_redis()
    rd = launch("redis", "rd", ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"])
    r = rd.client()
    for i in range(200):
        r.set(f"k{i}", "x" * i)
    kv = launch("scaleout", "kvr", ["--repl-diskless-load", load, "--replicaof", "127.0.0.1", str(rd.port)])
    wait_synced(rd, kv)
    r.set("after", "1")
    wait_synced(rd, kv)
    assert kv.client().dbsize() == r.dbsize()
    assert kv.client().get("after") == b"1"
    assert "replicas sockets" in rd.log_tail()


def test_diskless_sync_delay_serves_two_replicas_with_one_child(launch):
    so = launch("scaleout", "so", ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "3"])
    so.client().set("k", "v")
    a = launch("scaleout", "a", [])
    b = launch("scaleout", "b", [])
    a.client().replicaof("127.0.0.1", so.port)
    b.client().replicaof("127.0.0.1", so.port)
    wait_synced(so, a, b)
    assert so.log_tail().count("target: replicas sockets") == 1
    assert int(so.client().info("stats")["sync_full"]) == 2


# ---- repl-stream-db ----------------------------------------------------------------------

@pytest.mark.parametrize("top", ["redis", "scaleout"])
def test_chained_sync_keeps_stream_db(top, launch):
    require_redis()
    p = launch(top, "p", ["--repl-ping-replica-period", "3600"] if top == "scaleout" else [])
    mid = launch("scaleout", "mid", ["--replicaof", "127.0.0.1", str(p.port)])
    wait_synced(p, mid)
    p3 = p.client(db=3)
    p3.set("before", "1")  # the stream is now in database 3
    wait_synced(p, mid)
    leaf = launch("scaleout", "leaf", ["--replicaof", "127.0.0.1", str(mid.port)])
    wait_synced(p, mid, leaf)
    p3.set("after", "2")  # no SELECT: the stream stays in database 3
    wait_synced(p, mid, leaf)
    l3 = leaf.client(db=3)
    assert l3.get("before") == b"1" and l3.get("after") == b"2"
    assert leaf.client(db=0).get("after") is None


# ---- expired keys on replicas -------------------------------------------------------------

@pytest.mark.parametrize("replica", ["scaleout", "redis"])
def test_replica_waits_for_primary_del(replica, launch):
    require_redis()
    rd = launch("redis", "rd", ["--enable-debug-command", "yes", "--repl-diskless-sync-delay", "0"])
    r = rd.client()
    r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")  # the primary deletes only when asked
    rep = launch(replica, "rep", ["--replicaof", "127.0.0.1", str(rd.port)])
    wait_synced(rd, rep)
    r.set("keep", "1")
    r.set("k", "v", px=1000)
    wait_synced(rd, rep)
    c = rep.client()
    wait_until(lambda: c.dbsize() == 2, timeout=10, what="both keys on the replica")
    wait_until(lambda: c.get("k") is None, timeout=5, what="key seen as expired")
    assert c.exists("k") == 0 and c.pttl("k") == -2
    assert c.dbsize() == 2  # still there: the replica does not delete it itself
    assert r.get("k") is None  # the primary's lazy expiry sends DEL
    wait_until(lambda: c.dbsize() == 1, timeout=5, what="DEL from the primary applied")
    assert c.get("keep") == b"1"


# ---- a base .aof with an RDB preamble ---------------------------------------------------

def test_base_aof_with_rdb_preamble_loads_like_redis(tmp_path, launch):
    """An appendonly.aof of Redis 6 (RDB preamble, then commands) becomes a
    7.0 base `.aof` file: redis-server and kv load the same directory to the
    same data (libraries included)."""
    require_redis()
    src = launch("redis", "src", ["--dbfilename", "dump.rdb"])
    r = src.client()
    r.function_load(LIB)
    r.set("pre", "1")
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.set("ttl", "v", px=3_600_000)
    r.save()
    rdb = (tmp_path / "src" / "dump.rdb").read_bytes()
    cmds = (b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n2\r\n"
            b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\nDEL\r\n$3\r\npre\r\n")
    snaps = {}
    for target in ("redis", "scaleout"):
        d = tmp_path / f"aof_{target}"
        (d / "appendonlydir").mkdir(parents=True)
        (d / "appendonlydir" / "appendonly.aof.1.base.aof").write_bytes(rdb + cmds)
        (d / "appendonlydir" / "appendonly.aof.1.incr.aof").write_bytes(b"")
        (d / "appendonlydir" / "appendonly.aof.manifest").write_text(
            "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
        s = launch(target, f"aof_{target}", ["--appendonly", "yes"])
        c = s.client()
        wait_until(lambda: int(c.info("persistence")["loading"]) == 0, timeout=20, what="loaded")
        snaps[target] = (sorted(c.keys("*")), c.hgetall("h"), c.get("after"), c.get("pre"), c.pttl("ttl") > 0,
                         c.fcall_ro("myget", 1, "after"))
    assert snaps["scaleout"] == snaps["redis"]
    assert snaps["scaleout"][2] == b"2" and snaps["scaleout"][3] is None


def test_new_directives_config_get_set_like_redis(launch):
    require_redis()
    so, rd = launch("scaleout", "so", []), launch("redis", "rd", [])
    for name, value in [("masterauth", "x y"), ("masteruser", "u1"), ("repl-diskless-sync", "yes"),
                        ("repl-diskless-sync-delay", "7"), ("repl-diskless-load", "swapdb"), ("repl-timeout", "30"),
                        ("repl-diskless-load", "on-empty-db")]:
        got = {}
        for s in (so, rd):
            c = s.client()
            c.config_set(name, value)
            got[s.target] = c.config_get(name)
        assert got["scaleout"] == got["redis"] == {name: value}
    for s in (so, rd):
        with pytest.raises(redis.ResponseError):
            s.client().config_set("repl-diskless-load", "sometimes")
    # the defaults are Redis 7.0's (diskless sync on, 5 s delay, disk load; stale data served)
    so2, rd2 = launch("scaleout", "so2", []), launch("redis", "rd2", [])
    names = ["repl-diskless-sync", "repl-diskless-sync-delay", "repl-diskless-load", "replica-serve-stale-data"]
    for n in names:
        assert so2.client().config_get(n) == rd2.client().config_get(n)


# ---- a bad diskless payload ---------------------------------------------------------------

class FakePrimary:
    """Answers the replica's handshake and sends a corrupt RDB with the
    diskless framing; counts the connections (the replica retries)."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        mark = b"m" * 40
        rdb = b"REDIS0010\xfa\x09redis-ver\x057.0.0\xfe\x00\x00\x01k\x01v\x07garbage"
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            c.settimeout(5)
            try:
                while True:
                    data = c.recv(65536)
                    if not data:
                        break
                    if b"PING" in data:
                        c.sendall(b"+PONG\r\n")
                    elif b"PSYNC" in data:
                        c.sendall(b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n$EOF:" + mark + b"\r\n" + rdb + mark)
                    elif b"REPLCONF" in data and b"ACK" not in data:
                        c.sendall(b"+OK\r\n")
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.mark.parametrize("load", ["swapdb", "on-empty-db"])
def test_bad_diskless_payload_drops_link_and_retries(load, launch):
    fake = FakePrimary()
    try:
        kv = launch("scaleout", "kvr", ["--repl-diskless-load", load])
        c = kv.client()
        c.set("mine", "1")
        c.replicaof("127.0.0.1", fake.port)
        wait_until(lambda: "Failed trying to load the MASTER synchronization DB" in kv.log_tail(), timeout=10,
                   what="load failure logged")
        wait_until(lambda: fake.conns >= 2, timeout=10, what="the replica retries")
        assert kv.alive()
        assert c.info("replication")["master_link_status"] == "down"
        # swapdb keeps the old data when the payload is bad; on-empty-db flushed it first
        assert c.get("mine") == (b"1" if load == "swapdb" else None)
        assert c.get("k") is None  # nothing of the bad payload stays
        c.replicaof("no", "one")
    finally:
        fake.close()


# ---- scripts on a read-only replica -------------------------------------------------------

@pytest.mark.parametrize("target", ["scaleout", "redis"])
def test_script_write_refused_on_read_only_replica(target, launch):
    """EVAL and FCALL that write are refused on a read-only replica with
    Redis's READONLY error (scaleout let them write before), and a read-only
    script still runs; the same on redis-server."""
    if target == "redis":
        require_redis()
    p = launch(target, "p")
    p.client().set("x", "1")
    rep = launch(target, "rep", ["--replicaof", "127.0.0.1", str(p.port)])
    wait_synced(p, rep)
    c = rep.client()
    with pytest.raises(redis.exceptions.ReadOnlyError) as e:  # -READONLY ...
        c.eval("return redis.call('set', 'k', 'v')", 0)
    assert str(e.value).startswith("You can't write against a read only replica. script: ")
    r = c.eval("local r = redis.pcall('incr', 'x'); return type(r) == 'table' and r.err or 'ran'", 0)
    assert r == b"READONLY You can't write against a read only replica."
    assert c.eval("return redis.call('get', 'x')", 0) == b"1"
    assert c.exists("k") == 0 and c.get("x") == b"1"


# ---- diskless back-pressure ---------------------------------------------------------------

def _rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _stalled_diskless_replica(port):
    """A replica that asks for a diskless full sync, reads the header, then
    stops reading. Returns the socket and the EOF mark."""
    import socket
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.connect(("127.0.0.1", port))
    s.settimeout(10)
    s.sendall(b"*5\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n$4\r\ncapa\r\n$6\r\npsync2\r\n")
    assert s.recv(5) == b"+OK\r\n"
    s.sendall(b"*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n")
    head = b""
    while head.count(b"\r\n") < 2:
        head += s.recv(1)
    assert head.startswith(b"+FULLRESYNC "), head
    mark = head.split(b"$EOF:")[1].strip()
    assert len(mark) == 40
    return s, mark


def test_diskless_sync_to_a_stalled_replica_keeps_memory_bounded(launch):
    """A replica that stops reading during a diskless full sync holds the
    child at the pipe (back-pressure, as Redis's rdb pipe), not the whole
    RDB in the primary's memory; when it reads again it gets the full
    payload; one that never reads is dropped after repl-timeout and the
    primary goes on."""
    so = launch("scaleout", "so", ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                                   "--rdbcompression", "no", "--repl-timeout", "2"])
    c = so.client()
    p = c.pipeline(transaction=False)
    for i in range(60000):                        # ~60 MB that LZF could not shrink anyway
        p.set(f"k{i}", os.urandom(1000))
        if i % 2000 == 1999:
            p.execute()
    p.execute()
    pid = so.proc.pid
    base = _rss_kb(pid)
    used0 = int(c.info("memory")["used_memory"])
    s, mark = _stalled_diskless_replica(so.port)
    wait_until(lambda: int(c.info("stats")["repl_diskless_pipe_pauses"]) >= 1, timeout=20,
               what="the primary pausing the pipe for the stalled replica")
    grown = _rss_kb(pid) - base
    assert grown < 30 * 1024, f"primary RSS grew by {grown} kB while the replica did not read"
    assert int(c.info("memory")["used_memory"]) - used0 < 30 << 20
    # it reads again: the whole RDB arrives, ended by the mark
    got = 0
    tail = b""
    while True:
        d = s.recv(1 << 20)
        assert d, "the primary closed the link"
        got += len(d)
        tail = (tail + d)[-64:]
        if tail.endswith(mark):
            break
    assert got > 60 * 1000 * 1000
    # (used_memory, not RSS, from here: under ASan freed buffers stay in its quarantine)
    assert int(c.info("memory")["used_memory"]) - used0 < 30 << 20
    s.close()
    # a replica that never reads again: dropped after repl-timeout, the primary serves on
    s2, _ = _stalled_diskless_replica(so.port)
    wait_until(lambda: "Disconnecting timedout replica" in so.log_tail(), timeout=30,
               what="the stalled replica dropped after repl-timeout")
    s2.settimeout(10)
    try:
        while s2.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    s2.close()
    assert c.set("after", "1") and c.get("after") == b"1"
    assert int(c.info("memory")["used_memory"]) - used0 < 30 << 20


def synced_pair(launch, target):
    """A primary holding one key and a replica of it, synced."""
    p = launch(target, target + "-p")
    r = launch(target, target + "-r", ["--replicaof", "127.0.0.1", str(p.port)])
    p.client().set("k", "v")
    wait_synced(p, r)
    return p, r


# ---- CLIENT KILL TYPE master -----------------------------------------------------------------

def test_client_kill_type_master_drops_the_link_like_redis(launch):
    """CLIENT KILL TYPE master on a replica drops its link to the primary,
    which it re-establishes by PSYNC (a partial resync), and answers 1; on a
    primary, or a replica whose link is not up, it kills nothing. The same
    script against redis-server and scaleout kv, the answers compared."""
    require_redis()
    from conftest import free_port
    seen = {}
    for target in ("redis", "scaleout"):
        p, r = synced_pair(launch, target)
        pc, rc = p.client(), r.client()
        before = pc.info("stats")
        killed = rc.execute_command("CLIENT", "KILL", "TYPE", "master")
        wait_until(lambda: pc.info("stats")["sync_partial_ok"] == before["sync_partial_ok"] + 1, timeout=20,
                   what="the replica reconnected by PSYNC")
        pc.set("after", "1")
        wait_synced(p, r)
        down = launch(target, target + "-down", ["--replicaof", "127.0.0.1", str(free_port())])
        seen[target] = {
            "killed": killed,
            "full_syncs": pc.info("stats")["sync_full"] - before["sync_full"],
            "after": rc.get("after"),
            "on_primary": pc.execute_command("CLIENT", "KILL", "TYPE", "master"),
            "link_down": down.client().execute_command("CLIENT", "KILL", "TYPE", "master"),
        }
    assert seen["scaleout"] == seen["redis"] == {"killed": 1, "full_syncs": 0, "after": b"1", "on_primary": 0,
                                                 "link_down": 0}, seen


def test_client_kill_id_and_addr_reach_the_master_link_like_redis(launch):
    """On a replica, CLIENT LIST shows the link to the primary (TYPE master,
    flags=M, addr = the primary's, fd = its socket), and CLIENT KILL's ID, ADDR and LADDR
    filters and the old `CLIENT KILL ip:port` form drop that link (it comes
    back by PSYNC); a filter it does not match (TYPE normal, USER) spares it.
    The same script against redis-server and scaleout kv, answers compared."""
    require_redis()
    seen = {}
    for target in ("redis", "scaleout"):
        p, r = synced_pair(launch, target)
        pc, rc = p.client(), r.client()
        out = {}

        def master_line():
            lines = [ln for ln in rc.execute_command("CLIENT", "LIST", "TYPE", "master").decode().splitlines() if ln]
            assert len(lines) == 1, lines
            return dict(kv.split("=", 1) for kv in lines[0].split() if "=" in kv)

        def killed_then_back(*args):
            before = pc.info("stats")["sync_partial_ok"]
            answer = rc.execute_command("CLIENT", "KILL", *args)
            wait_until(lambda: pc.info("stats")["sync_partial_ok"] == before + 1, timeout=20,
                       what=f"the replica reconnected by PSYNC after CLIENT KILL {args}")
            wait_synced(p, r)
            return answer

        m = master_line()
        out["flags"], out["addr_is_primary"] = m["flags"], m["addr"] == f"127.0.0.1:{p.port}"
        everyone = rc.execute_command("CLIENT", "LIST").decode()
        out["in_list"] = f"id={m['id']} " in everyone
        out["spared"] = [rc.execute_command("CLIENT", "KILL", "ID", m["id"], "TYPE", "normal"),
                         rc.execute_command("CLIENT", "KILL", "ADDR", m["addr"], "USER", "default"),
                         rc.execute_command("CLIENT", "KILL", "ADDR", m["addr"], "ID", str(int(m["id"]) + 1000))]
        out["fd_open"] = [int(m["fd"]) >= 0]  # the link's socket (scaleout showed -1 until 2026-11-30)
        out["by_id"] = killed_then_back("ID", m["id"])
        m = master_line()
        out["fd_open"].append(int(m["fd"]) >= 0)  # the new link's
        out["by_addr"] = killed_then_back("ADDR", m["addr"], "TYPE", "master")
        m = master_line()
        out["by_laddr"] = killed_then_back("LADDR", m["laddr"], "SKIPME", "yes")
        m = master_line()
        out["old_form"] = killed_then_back(m["addr"])
        pc.set("after", "1")
        wait_synced(p, r)
        out["after"] = rc.get("after")
        out["full_syncs"] = pc.info("stats")["sync_full"]
        seen[target] = out
    assert seen["scaleout"] == seen["redis"], seen
    assert seen["redis"]["by_id"] == 1 and seen["redis"]["addr_is_primary"], seen
    assert seen["redis"]["fd_open"] == [True, True], seen
