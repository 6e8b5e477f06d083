"""
test_kv_repl.py — replication with Redis's protocol, proven both ways against
redis-server 7.0:

  - Debian's redis-server replicates from scaleout kv (full sync by RDB, then
    the stream; several databases, every type, TTLs): data equal;
  - scaleout kv replicates from redis-server: data equal;
  - chained replicas (redis-server → scaleout → scaleout) with the primary's
    replid and offsets;
  - a 1-second disconnect is healed by a partial resync (sync_partial_ok on
    the primary, no second full sync), with a redis-server replica and with a
    scaleout replica;
  - read-only replicas (-READONLY), ROLE, INFO replication fields, WAIT,
    min-replicas-to-write (-NOREPLICAS), REPLICAOF NO ONE, COMMAND INFO as Redis.
"""
import os
import signal
import time

import pytest
import redis

from conftest import REDIS_SERVER, start_server, wait_until
from test_kv_rdb import SAME_THRESHOLDS, assert_same, fill, snapshot


def require_redis():
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"


@pytest.fixture
def launch(tmp_path):
    started = []

    def start(target, name, extra=()):
        # these tests cover the disk sync ($<len> framing): kv's default is diskless
        # now, as Redis 7.0's (test_kv_repl_more.py and test_kv_repl_async.py cover that)
        disk = ["--repl-diskless-sync", "no"] if target == "scaleout" else []
        s = start_server(target, tmp_path / name, list(SAME_THRESHOLDS[target]) + disk + list(extra))
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


def offset(s):
    return int(s.info("replication")["master_repl_offset"])


def wait_synced(primary, *replicas, timeout=20):
    """Every replica's link is up and its offset reached the primary's."""
    def ok():
        want = offset(primary)
        for r in replicas:
            i = r.info("replication")
            if i.get("master_link_status") != "up" or int(i["master_repl_offset"]) < want:
                return False
        return True
    wait_until(ok, timeout=timeout, what="replicas in sync")


def snap_dbs(s, dbs=(0, 3)):
    return {i: snapshot(redis.Redis(port=s.port, db=i)) for i in dbs}


def write_more(port):
    r = redis.Redis(port=port)
    r.set("after", "sync")
    r.set("ttl:after", "v", ex=500)
    r.incrbyfloat("float", 1.25)
    r.sadd("spop", *range(10))
    r.spop("spop", 3)
    r.rpush("blist", "a", "b")
    r.blpop(["blist"], 1)
    p = r.pipeline(transaction=True)
    p.set("tx1", "1").lpush("tx2", "x")
    p.execute()
    r3 = redis.Redis(port=port, db=3)
    r3.set("db3", "v")
    r3.hset("db3h", mapping={"a": 1, "b": 2})
    r.delete("str:small")


def test_redis_replicates_from_scaleout(tmp_path, launch):
    require_redis()
    so = launch("scaleout", "so", ["--dir", str(tmp_path / "so")])
    fill(so.client())
    rd = launch("redis", "rd", ["--replicaof", "127.0.0.1", str(so.port)])
    wait_synced(so, rd)
    write_more(so.port)
    wait_synced(so, rd)
    assert_same(snap_dbs(so)[0], snap_dbs(rd)[0], encodings=False)
    assert snap_dbs(so)[3] == snap_dbs(rd)[3]
    assert rd.client().get("after") == b"sync"
    info = so.info("replication")
    assert info["connected_slaves"] == 1 and "state=online" in str(info["slave0"])
    assert int(so.info("stats")["sync_full"]) == 1


def test_scaleout_replicates_from_redis(tmp_path, launch):
    require_redis()
    rd = launch("redis", "rd", [])
    fill(rd.client())
    so = launch("scaleout", "so", ["--dir", str(tmp_path / "so"), "--replicaof", "127.0.0.1", str(rd.port)])
    wait_synced(rd, so)
    write_more(rd.port)
    wait_synced(rd, so)
    assert_same(snap_dbs(rd)[0], snap_dbs(so)[0], encodings=False)
    assert snap_dbs(rd)[3] == snap_dbs(so)[3]
    # the replica's history is the primary's
    ir, iso = rd.info("replication"), so.info("replication")
    assert ir["master_replid"] == iso["master_replid"]
    assert ir["master_repl_offset"] == iso["master_repl_offset"]


def test_chained_replicas(tmp_path, launch):
    require_redis()
    rd = launch("redis", "rd", [])
    r = rd.client()
    r.set("before", "1")
    mid = launch("scaleout", "mid", ["--dir", str(tmp_path / "mid"), "--replicaof", "127.0.0.1", str(rd.port)])
    wait_synced(rd, mid)
    leaf = launch("scaleout", "leaf", ["--dir", str(tmp_path / "leaf"), "--replicaof", "127.0.0.1", str(mid.port)])
    wait_synced(mid, leaf)
    for i in range(200):
        r.set(f"k{i}", i)
    r.rpush("l", *range(50))
    wait_synced(rd, mid)
    wait_synced(mid, leaf)
    assert snapshot(leaf.client()) == snapshot(mid.client())
    assert_same(snapshot(r), snapshot(leaf.client()), encodings=False)
    assert leaf.info("replication")["master_replid"] == rd.info("replication")["master_replid"]


def _kill_link_on_primary(primary):
    """CLIENT KILL the replica's connection on the primary."""
    c = primary.client()
    for cl in c.client_list():
        if cl.get("cmd") in ("replconf", "psync"):
            c.client_kill_filter(_id=cl["id"])
            return
    raise AssertionError("no replica connection found")


@pytest.mark.parametrize("replica_target", ["redis", "scaleout"])
def test_short_disconnect_healed_by_partial_resync(tmp_path, launch, replica_target):
    require_redis()
    so = launch("scaleout", "so", ["--dir", str(tmp_path / "so")])
    r = so.client()
    r.set("a", "1")
    rep = launch(replica_target, "rep", ["--dir", str(tmp_path / "rep"), "--replicaof", "127.0.0.1", str(so.port)])
    wait_synced(so, rep)
    # a 1-second disconnect, with writes meanwhile
    if replica_target == "redis":
        rep.client().client_kill_filter(_type="master")
    else:
        _kill_link_on_primary(so)
    t_end = time.monotonic() + 1.0
    i = 0
    while time.monotonic() < t_end:
        r.set(f"gap{i}", i)
        i += 1
        time.sleep(0.01)
    wait_synced(so, rep)
    st = so.info("stats")
    assert int(st["sync_partial_ok"]) >= 1, st
    assert int(st["sync_full"]) == 1, st
    assert rep.client().get(f"gap{i - 1}") == str(i - 1).encode()
    assert snapshot(rep.client()) == snapshot(r) or replica_target == "redis"
    assert_same(snapshot(r), snapshot(rep.client()), encodings=False)


def test_readonly_role_and_info_like_redis(tmp_path, launch):
    require_redis()
    got = {}
    for target in ("redis", "scaleout"):
        p = launch(target, f"p-{target}", ["--dir", str(tmp_path / f"p-{target}")])
        rep = launch(target, f"r-{target}", ["--dir", str(tmp_path / f"r-{target}"),
                                              "--replicaof", "127.0.0.1", str(p.port)])
        wait_synced(p, rep)
        pc = p.conn()
        wait_until(lambda: len(pc.cmd("ROLE")[2]) == 1, timeout=10, what="replica listed by ROLE")
        c = rep.conn()
        role_p, role_r = pc.cmd("ROLE"), c.cmd("ROLE")
        got[target] = {
            "set": c.cmd("SET", "x", "1"),
            "multi": [c.cmd("MULTI"), c.cmd("SET", "x", "1"), c.cmd("EXEC")],
            "get": c.cmd("GET", "x"),
            # a script's write is refused the same way, with the script named
            "eval_w": c.cmd("EVAL", "return redis.call('SET', 'x', '1')", "0"),
            "eval_r": c.cmd("EVAL", "return redis.call('GET', 'x')", "0"),
            "eval_ro": c.cmd("EVAL_RO", "return redis.call('GET', 'x')", "0"),
            "role_p": [role_p[0], len(role_p[2]), role_p[2][0][1]],
            "role_r": [role_r[0], role_r[1], role_r[3]],
            "info_p": sorted(k for k in p.info("replication") if k not in ("min_slaves_good_slaves",)),
            "info_r": sorted(rep.info("replication")),
            "stats": sorted(k for k in p.info("stats") if k.startswith("sync_")),
            "psync_port": f"port={rep.port}," in str(p.info("replication")["slave0"]),
        }
    r_, s_ = got["redis"], got["scaleout"]
    for k in ("set", "multi", "get", "eval_w", "eval_r", "eval_ro", "role_r", "stats", "psync_port"):
        assert r_[k] == s_[k], (k, r_[k], s_[k])
    assert r_["role_p"][:2] == s_["role_p"][:2]
    assert set(s_["info_p"]) <= set(r_["info_p"]), set(s_["info_p"]) - set(r_["info_p"])
    assert set(s_["info_r"]) <= set(r_["info_r"]), set(s_["info_r"]) - set(r_["info_r"])
    for f in ("role", "connected_slaves", "slave0", "master_replid", "master_replid2", "master_repl_offset",
              "second_repl_offset", "repl_backlog_active", "repl_backlog_size", "repl_backlog_first_byte_offset",
              "repl_backlog_histlen"):
        assert f in s_["info_p"], f
    for f in ("master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
              "master_sync_in_progress", "slave_repl_offset", "slave_read_only"):
        assert f in s_["info_r"], f


def test_wait_and_min_replicas(tmp_path, launch):
    require_redis()
    so = launch("scaleout", "so", ["--dir", str(tmp_path / "so")])
    rd = launch("redis", "rd", ["--replicaof", "127.0.0.1", str(so.port)])
    wait_synced(so, rd)
    c = so.conn()
    assert c.cmd("SET", "a", "1") == "OK"
    assert c.cmd("WAIT", "1", "5000") == 1
    assert c.cmd("WAIT", "0", "0") == 1
    assert rd.client().get("a") == b"1"
    assert c.cmd("CONFIG", "SET", "min-replicas-to-write", "1") == "OK"
    assert c.cmd("CONFIG", "SET", "min-replicas-max-lag", "2") == "OK"
    assert c.cmd("SET", "b", "1") == "OK"
    # the replica stops answering: WAIT times out with 0, then writes are refused
    os.kill(rd.pid, signal.SIGSTOP)
    try:
        assert c.cmd("SET", "c", "1") == "OK"
        t0 = time.monotonic()
        assert c.cmd("WAIT", "1", "300") == 0
        assert time.monotonic() - t0 >= 0.25
        wait_until(lambda: c.cmd("SET", "d", "1") != "OK", timeout=10, what="NOREPLICAS")
        err = c.cmd("SET", "d", "1")
        assert str(err) == "NOREPLICAS Not enough good replicas to write.", err
        assert c.cmd("GET", "a") == b"1"  # reads go on
    finally:
        os.kill(rd.pid, signal.SIGCONT)
    wait_until(lambda: c.cmd("SET", "d", "1") == "OK", timeout=10, what="writes accepted again")
    # the same answer as redis-server's
    rp = launch("redis", "rp", ["--min-replicas-to-write", "1"])
    assert str(rp.conn().cmd("SET", "x", "1")) == "NOREPLICAS Not enough good replicas to write."


def test_replicaof_no_one_promotes(tmp_path, launch):
    require_redis()
    rd = launch("redis", "rd", [])
    rd.client().set("k", "v")
    so = launch("scaleout", "so", ["--dir", str(tmp_path / "so"), "--replicaof", "127.0.0.1", str(rd.port)])
    wait_synced(rd, so)
    old = so.info("replication")
    c = so.conn()
    assert c.cmd("REPLICAOF", "NO", "ONE") == "OK"
    info = so.info("replication")
    assert info["role"] == "master"
    assert info["master_replid2"] == old["master_replid"]
    assert int(info["second_repl_offset"]) == int(old["master_repl_offset"]) + 1
    assert c.cmd("SET", "new", "1") == "OK"
    assert c.cmd("GET", "k") == b"v"
    # and back: a replica of redis-server again
    assert c.cmd("REPLICAOF", "127.0.0.1", str(rd.port)) == "OK"
    wait_synced(rd, so)
    assert c.cmd("GET", "new") is None


def test_command_info_like_redis(tmp_path, launch):
    require_redis()
    names = ["replicaof", "slaveof", "psync", "replconf", "role", "wait", "sync", "bgrewriteaof"]
    got = {}
    for target in ("redis", "scaleout"):
        c = launch(target, target, ["--dir", str(tmp_path / target)]).conn()
        infos = c.cmd("COMMAND", "INFO", *names)
        got[target] = [(i[0], i[1], i[3], i[4], i[5]) for i in infos]
        got[target + "-err"] = [c.cmd("REPLICAOF", "127.0.0.1", "notaport"), c.cmd("WAIT", "x", "0"),
                                c.cmd("WAIT", "0", "-1")]
    assert got["redis"] == got["scaleout"]
    assert [str(e) for e in got["redis-err"]] == [str(e) for e in got["scaleout-err"]]


def test_replica_fed_garbage_drops_the_link_and_resyncs(tmp_path, launch):
    """A fake primary answers the handshake, sends a valid RDB (taken from a
    real redis-server), then garbage: the replica drops the link, reconnects,
    asks PSYNC again and takes the next full sync; it never crashes."""
    import socket
    import threading
    require_redis()
    src = launch("redis", "src", ["--dir", str(tmp_path / "src")])
    src.client().set("from", "rdb")
    assert src.client().save()
    rdb = (tmp_path / "src" / "src" / "dump.rdb") if (tmp_path / "src" / "src" / "dump.rdb").exists() \
        else (tmp_path / "src" / "dump.rdb")
    payload = rdb.read_bytes()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    port = lsock.getsockname()[1]
    psyncs = []

    def serve():
        lsock.settimeout(20)
        for n in range(2):
            try:
                conn, _ = lsock.accept()
            except OSError:
                return
            conn.settimeout(10)
            rd = conn.makefile("rb")

            def read_cmd():
                n_args = int(rd.readline()[1:])
                args = []
                for _ in range(n_args):
                    ln = int(rd.readline()[1:])
                    args.append(rd.read(ln + 2)[:-2])
                return args
            try:
                while True:
                    cmd = read_cmd()
                    if cmd[0].upper() == b"PSYNC":
                        buf = b" ".join(cmd)
                        break
                    conn.sendall(b"+PONG\r\n" if cmd[0].upper() == b"PING" else b"+OK\r\n")
                psyncs.append(buf)
                rid = b"a" * 40
                conn.sendall(b"+FULLRESYNC " + rid + b" 0\r\n$%d\r\n" % len(payload) + payload)
                if n == 0:
                    conn.sendall(b"*1\r\n$4\r\nPING\r\n" + b"*x\r\ngarbage\r\n")
                    time.sleep(0.5)
                else:
                    conn.sendall(b"*3\r\n$3\r\nSET\r\n$5\r\nafter\r\n$1\r\n1\r\n")
                    time.sleep(3)
            finally:
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    so = launch("scaleout", "so", ["--dir", str(tmp_path / "so"), "--replicaof", "127.0.0.1", str(port)])
    wait_until(lambda: so.client().get("after") == b"1", timeout=20, what="second sync applied")
    assert so.client().get("from") == b"rdb"
    assert len(psyncs) == 2 and all(b"PSYNC" in p for p in psyncs)
    assert b"a" * 40 in psyncs[1]  # it tried to continue the history it had
    assert "Protocol error from master" in so.log_tail()
    lsock.close()
    t.join(10)
