"""
test_kv_aof.py — the propagation point and the append-only file, proven
against redis-server 7.0.

  - propagation: every change leaves once, in order, deterministic (relative
    TTLs absolute, SPOP as SREM, INCRBYFLOAT as SET, blocking pops as their
    non-blocking form, MULTI/EXEC wrapped, SELECT on a database change,
    expired keys as DEL); commands that changed nothing are not written;
  - the AOF directory scaleout writes (Redis 7.0 multi-part: manifest, base
    .rdb or .aof, incr .aof) passes redis-check-aof and loads into
    redis-server; redis-server's AOF directory loads into scaleout;
  - SIGKILL under a write load with appendfsync always, 20 times: every
    acknowledged write is there after the restart;
  - a truncated tail is cut (aof-load-truncated yes) or refused naming the
    offset; garbage in the middle is refused naming the offset;
  - BGREWRITEAOF while clients write, CONFIG SET appendonly yes at run time,
    INFO persistence aof_* fields as Redis's.
"""
import os
import random
import shutil
import signal
import subprocess
import threading
import time

import pytest
import redis

from conftest import REDIS_SERVER, SCALEOUT_BIN, start_server, wait_until
from test_kv_rdb import SAME_THRESHOLDS, assert_same, fill, snapshot

REDIS_CHECK_AOF = shutil.which("redis-check-aof")


def require_redis():
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"


@pytest.fixture
def launch(tmp_path):
    started = []

    def start(target, name, extra=()):
        s = start_server(target, tmp_path / name, list(extra))
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


def wait_loaded(s):
    """redis-server answers -LOADING while it reads the files (it counts as started)."""
    wait_until(lambda: s.info("persistence")["loading"] == 0, timeout=30, what="loaded")
    return s


def aof_args(target, d, *extra):
    return ["--dir", str(d), "--appendonly", "yes"] + SAME_THRESHOLDS[target] + list(extra)


def parse_commands(data):
    """The RESP commands of an AOF file, as lists of bytes."""
    out, i = [], 0
    while i < len(data):
        assert data[i:i + 1] == b"*", (i, data[i:i + 40])
        j = data.index(b"\r\n", i)
        n = int(data[i + 1:j])
        i = j + 2
        cmd = []
        for _ in range(n):
            j = data.index(b"\r\n", i)
            ln = int(data[i + 1:j])
            cmd.append(data[j + 2:j + 2 + ln])
            i = j + 2 + ln + 2
        out.append([cmd[0].upper()] + cmd[1:])
    return out


def manifest(d):
    return (d / "appendonlydir" / "appendonly.aof.manifest").read_text()


def incr_files(d):
    lines = [l.split() for l in manifest(d).splitlines() if l.strip()]
    return [d / "appendonlydir" / l[1] for l in lines if l[-1] == "i"]


def incr_commands(d):
    return [c for f in incr_files(d) if f.exists() for c in parse_commands(f.read_bytes())]


# -- propagation ---------------------------------------------------------------------

def test_propagation_is_deterministic_and_once(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", aof_args("scaleout", d, "--appendfsync", "always"))
    r = so.client()
    c = so.conn()
    r.set("a", "1", ex=100)
    r.setex("b", 50, "2")
    r.psetex("b2", 50000, "x")
    r.set("c", "3")
    r.expire("c", 30)
    r.getex("c", persist=True)
    r.getex("c", px=7000)
    r.incrbyfloat("f", 1.5)
    r.hincrbyfloat("h", "fld", 2.25)
    r.sadd("s", "x")
    r.spop("s")
    r.rpush("l", "1", "2", "3")
    r.blpop(["nothing", "l"], 1)
    r.blmove("l", "l2", 1, "LEFT", "RIGHT")
    r.zadd("z", {"m": 1})
    r.bzpopmin(["z"], 1)
    # no change: not written
    r.delete("missing")
    r.set("a", "other", nx=True)
    r.expire("missing", 10)
    r.get("a")
    # MULTI/EXEC wrapped, SELECT on a database change
    p = r.pipeline(transaction=True)
    p.set("t1", "v").incr("t2")
    p.execute()
    redis.Redis(port=so.port, db=5).set("in5", "v")
    # a blocked client served later: its pop goes out as LPOP, after the push
    got = []
    t = threading.Thread(target=lambda: got.append(redis.Redis(port=so.port).blpop(["bl"], 5)))
    t.start()
    wait_until(lambda: int(r.info("clients")["blocked_clients"]) == 1, what="client blocked")
    r.rpush("bl", "v")
    t.join(10)
    assert got == [(b"bl", b"v")]
    # an expired key: DEL
    r.set("e", "v", px=30)
    wait_until(lambda: c.cmd("EXISTS", "e") == 0, what="key expired")
    cmds = incr_commands(d)
    names = [x[0].upper() for x in cmds]
    ttl_a = r.pexpiretime("a")
    want_prefix = [
        [b"SELECT", b"0"],
        [b"SET", b"a", b"1", b"PXAT", str(ttl_a).encode()],
        [b"SET", b"b", b"2", b"PXAT", str(r.pexpiretime("b")).encode()],
        [b"SET", b"b2", b"x", b"PXAT", str(r.pexpiretime("b2")).encode()],
        [b"SET", b"c", b"3"],
    ]
    assert cmds[:5] == want_prefix, cmds[:6]
    assert cmds[5][0] == b"PEXPIREAT" and cmds[5][1] == b"c"
    assert cmds[6] == [b"PERSIST", b"c"]
    assert cmds[7] == [b"PEXPIREAT", b"c", str(r.pexpiretime("c")).encode()]
    assert cmds[8] == [b"SET", b"f", b"1.5", b"KEEPTTL"]
    assert cmds[9] == [b"HSET", b"h", b"fld", b"2.25"]
    assert cmds[11] == [b"SREM", b"s", b"x"]
    assert cmds[13] == [b"LPOP", b"l"]
    assert cmds[14] == [b"LMOVE", b"l", b"l2", b"LEFT", b"RIGHT"]
    assert cmds[16] == [b"ZPOPMIN", b"z"]
    rest = cmds[17:]
    assert rest[:4] == [[b"MULTI"], [b"SET", b"t1", b"v"], [b"INCRBY", b"t2", b"1"], [b"EXEC"]]
    assert rest[4:6] == [[b"SELECT", b"5"], [b"SET", b"in5", b"v"]]
    assert rest[6:9] == [[b"SELECT", b"0"], [b"RPUSH", b"bl", b"v"], [b"LPOP", b"bl"]]
    assert rest[9][0] == b"SET" and rest[9][1] == b"e" and rest[9][3] == b"PXAT"
    assert rest[10] == [b"DEL", b"e"]
    assert len(rest) == 11, rest
    # nothing that changed nothing
    assert b"GET" not in names and [b"DEL", b"missing"] not in cmds
    assert not any(x[0].upper() in (b"BLPOP", b"BLMOVE", b"BZPOPMIN", b"SPOP", b"INCRBYFLOAT",
                                    b"HINCRBYFLOAT", b"SETEX", b"PSETEX", b"EXPIRE", b"GETEX") for x in cmds)


def test_propagated_stream_replays_to_the_same_data(tmp_path, launch):
    """What the AOF says rebuilds the same keyspace: the restart equals the
    data before it (random mix of commands, TTLs included)."""
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", aof_args("scaleout", d))
    r = so.client()
    rnd = random.Random(11)
    for i in range(600):
        k = f"k{rnd.randrange(40)}"
        op = rnd.randrange(10)
        try:
            if op == 0:
                r.set(k, i, ex=rnd.randrange(100, 1000))
            elif op == 1:
                r.incrbyfloat(f"f{k}", 0.5)
            elif op == 2:
                r.sadd(f"s{k}", *range(rnd.randrange(1, 8)))
                r.spop(f"s{k}", rnd.randrange(1, 3))
            elif op == 3:
                r.rpush(f"l{k}", i, i + 1)
                r.lpop(f"l{k}")
            elif op == 4:
                r.hincrbyfloat(f"h{k}", "x", 1.25)
            elif op == 5:
                r.zadd(f"z{k}", {str(i): i})
                r.zpopmin(f"z{k}")
            elif op == 6:
                r.expire(k, rnd.randrange(100, 1000))
            elif op == 7:
                r.getex(k, ex=500)
            elif op == 8:
                r.delete(k)
            else:
                r.append(k, "x")
        except redis.ResponseError:
            pass
    want = snapshot(r)
    so.stop()
    so2 = launch("scaleout", "so2", aof_args("scaleout", d))
    assert "DB loaded from append only file" in so2.log_tail()
    assert_same(want, snapshot(so2.client()))


# -- compatibility with redis-server ----------------------------------------------------

@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_scaleout_aof_checks_and_loads_into_redis(tmp_path, launch, preamble):
    require_redis()
    assert REDIS_CHECK_AOF, "redis-check-aof (redis-tools) is required"
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", aof_args("scaleout", d, "--aof-use-rdb-preamble", preamble))
    r = so.client()
    fill(r)
    assert r.bgrewriteaof()
    wait_until(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=30, what="rewrite")
    assert r.info("persistence")["aof_last_bgrewrite_status"] == "ok"
    r.set("after", "rewrite")
    r.rpush("list:small", "more")
    redis.Redis(port=so.port, db=3).set("db3", "v")
    want = snapshot(r)
    so.stop()
    ext = "rdb" if preamble == "yes" else "aof"
    assert f"appendonly.aof.2.base.{ext} seq 2 type b" in manifest(d)
    chk = subprocess.run([REDIS_CHECK_AOF, str(d / "appendonlydir" / "appendonly.aof.manifest")],
                         capture_output=True, text=True, timeout=60)
    assert chk.returncode == 0, chk.stdout + chk.stderr
    assert "All AOF files and manifest are valid" in chk.stdout
    rd = wait_loaded(launch("redis", "rd", aof_args("redis", d)))
    assert_same(want, snapshot(rd.client()), encodings=False)
    assert redis.Redis(port=rd.port, db=3).get("db3") == b"v"


def test_redis_aof_loads_into_scaleout(tmp_path, launch):
    require_redis()
    d = tmp_path / "data"
    d.mkdir()
    rd = launch("redis", "rd", aof_args("redis", d))
    r = rd.client()
    fill(r)
    assert r.bgrewriteaof()
    wait_until(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=30, what="rewrite")
    r.set("after", "rewrite")
    r.incrbyfloat("fl", 2.5)
    r.set("ttl2", "v", ex=1000)
    redis.Redis(port=rd.port, db=3).set("db3", "v")
    want = snapshot(r)
    rd.stop()
    so = launch("scaleout", "so", aof_args("scaleout", d))
    assert "DB loaded from append only file" in so.log_tail()
    assert_same(want, snapshot(so.client()), encodings=False)
    assert redis.Redis(port=so.port, db=3).get("db3") == b"v"
    # and scaleout goes on appending to redis-server's files
    so.client().set("more", "1")
    so.stop()
    so2 = launch("scaleout", "so2", aof_args("scaleout", d))
    assert so2.client().get("more") == b"1"


# -- crash safety -------------------------------------------------------------------------

def test_sigkill_under_load_loses_no_acked_write(tmp_path, launch):
    """appendfsync always: 20 times, two clients write while the server is
    SIGKILLed; every write acknowledged before the kill is there after the
    restart (the checker records acked keys)."""
    d = tmp_path / "data"
    d.mkdir()
    acked = {}
    rnd = random.Random(5)
    for rnd_i in range(20):
        so = launch("scaleout", f"so{rnd_i}", aof_args("scaleout", d, "--appendfsync", "always"))
        r = so.client()
        for k, v in list(acked.items())[-200:]:
            assert r.get(k) == v, (rnd_i, k)
        assert r.dbsize() >= len(acked)
        stop = threading.Event()
        mine = [{} for _ in range(2)]

        def writer(w):
            cl = redis.Redis(port=so.port, socket_timeout=5)
            i = 0
            try:
                while not stop.is_set():
                    k = f"r{rnd_i}:w{w}:{i}"
                    v = f"{i}".encode()
                    if i % 3 == 0:
                        cl.set(k, v)
                    elif i % 3 == 1:
                        p = cl.pipeline(transaction=True)
                        p.set(k, v).incr(f"cnt{w}")
                        p.execute()
                    else:
                        cl.rpush(f"list{w}", v)
                        cl.set(k, v)
                    mine[w][k] = v
                    i += 1
            except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError):
                pass

        ts = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
        for t in ts:
            t.start()
        wait_until(lambda: all(len(m) > 20 for m in mine), timeout=10, what="writes")
        time.sleep(rnd.random() * 0.05)
        os.kill(so.pid, signal.SIGKILL)
        so.expect_exit = True
        stop.set()
        for t in ts:
            t.join(10)
        for m in mine:
            acked.update(m)
        so.proc.wait(5)
        so.stop()
    so = launch("scaleout", "final", aof_args("scaleout", d))
    r = so.client()
    p = r.pipeline(transaction=False)
    keys = list(acked)
    for k in keys:
        p.get(k)
    vals = p.execute()
    missing = [k for k, v in zip(keys, vals) if v != acked[k]]
    assert not missing, (len(missing), missing[:5])
    assert len(acked) > 20 * 40


def _kill_after_writes(launch, d, name, n=50):
    so = launch("scaleout", name, aof_args("scaleout", d, "--appendfsync", "always"))
    r = so.client()
    for i in range(n):
        r.set(f"k{i}", i)
    os.kill(so.pid, signal.SIGKILL)
    so.expect_exit = True
    so.proc.wait(5)
    so.stop()
    return incr_files(d)[-1]


def run_kv(d, *extra):
    return subprocess.run([str(SCALEOUT_BIN), "kv", "--port", "0", "--admin-port", "0", "--dir", str(d),
                           "--appendonly", "yes"] + list(extra), capture_output=True, text=True, timeout=30)


def test_truncated_tail_is_cut_or_refused_with_the_offset(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    f = _kill_after_writes(launch, d, "w")
    whole = f.read_bytes()
    cut = len(whole)
    f.write_bytes(whole + b"*3\r\n$3\r\nSET\r\n$3\r\nk99\r\n$2\r\n9")  # a crash mid-write
    p = run_kv(d, "--aof-load-truncated", "no")
    assert p.returncode == 1, p.stderr
    assert f"at offset {cut}" in p.stderr, p.stderr
    so = launch("scaleout", "t", aof_args("scaleout", d))
    log = so.log_tail()
    assert "aof-load-truncated" in log and f"cut at offset {cut}" in log, log
    r = so.client()
    assert r.dbsize() == 50 and r.get("k49") == b"49" and r.get("k99") is None
    assert f.stat().st_size > cut or f.read_bytes()[:cut] == whole  # cut, then appended to
    r.set("later", "1")
    so.stop()
    so2 = launch("scaleout", "t2", aof_args("scaleout", d))
    assert so2.client().get("later") == b"1"


def test_unfinished_multi_at_the_end_is_reverted(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    f = _kill_after_writes(launch, d, "w", 5)
    whole = f.read_bytes()
    f.write_bytes(whole + b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n")
    p = run_kv(d, "--aof-load-truncated", "no")
    assert p.returncode == 1 and f"at offset {len(whole)}" in p.stderr, p.stderr
    so = launch("scaleout", "t", aof_args("scaleout", d))
    assert so.client().get("x") is None and so.client().dbsize() == 5


def test_corrupt_middle_is_refused_with_the_offset(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    f = _kill_after_writes(launch, d, "w", 20)
    whole = f.read_bytes()
    cmds_end = [i for i in range(len(whole)) if whole.startswith(b"*3\r\n$3\r\nSET", i)]
    at = cmds_end[10]
    for bad in (b"garbage\r\n", b"*3\r\n$3\r\nSET\r\n$x\r\n", b"*1\r\n$7\r\nNOTACMD\r\n"):
        f.write_bytes(whole[:at] + bad + whole[at:])
        p = run_kv(d)  # aof-load-truncated yes does not excuse garbage
        assert p.returncode == 1, p.stderr
        assert f"offset {at}" in p.stderr, (bad, p.stderr)
        assert "Sanitizer" not in p.stderr
    f.write_bytes(whole)
    so = launch("scaleout", "ok", aof_args("scaleout", d))
    assert so.client().dbsize() == 20


def test_blocking_and_subscribe_commands_in_the_aof(tmp_path, launch):
    """Found by fuzz/fuzz_aof.c: BLPOP on an empty list in an AOF crashed the
    server at start (the loader's client has no worker to wait on), SUBSCRIBE
    left it registered after it was freed. As Redis, they answer at once."""
    d = tmp_path / "data"
    d.mkdir()
    f = _kill_after_writes(launch, d, "w", 20)
    f.write_bytes(f.read_bytes() + b"*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"
                  b"*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nc\r\n*2\r\n$10\r\nPSUBSCRIBE\r\n$1\r\n*\r\n"
                  b"*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\nx\r\n")
    so = launch("scaleout", "b", aof_args("scaleout", d))
    r = so.client()
    assert r.dbsize() == 21 and r.lrange("q", 0, -1) == [b"x"]
    assert r.publish("c", "m") == 0
    assert "Sanitizer" not in so.log_tail()


# -- rewrites and run-time switch -------------------------------------------------------

def test_bgrewriteaof_while_clients_write(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", aof_args("scaleout", d, "--rdb-key-save-delay", "2000"))
    r = so.client()
    for i in range(300):
        r.set(f"pre{i}", i)
    assert r.bgrewriteaof() is True
    assert r.info("persistence")["aof_rewrite_in_progress"] == 1
    # clients are served while the child writes (it sleeps 2 ms per key)
    for i in range(200):
        r.set(f"during{i}", i)
    assert r.info("persistence")["aof_rewrite_in_progress"] == 1
    with pytest.raises(redis.ResponseError, match="already in progress"):
        r.bgrewriteaof()
    wait_until(lambda: r.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=30, what="rewrite")
    info = r.info("persistence")
    assert info["aof_rewrites"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
    assert manifest(d).splitlines() == ["file appendonly.aof.2.base.rdb seq 2 type b",
                                        "file appendonly.aof.2.incr.aof seq 2 type i"]
    assert sorted(os.listdir(d / "appendonlydir")) == ["appendonly.aof.2.base.rdb", "appendonly.aof.2.incr.aof",
                                                      "appendonly.aof.manifest"]
    want = snapshot(r)
    so.stop()
    so2 = launch("scaleout", "so2", aof_args("scaleout", d))
    assert_same(want, snapshot(so2.client()))


def test_config_set_appendonly_at_run_time(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", ["--dir", str(d)])
    r = so.client()
    for i in range(100):
        r.set(f"k{i}", i)
    assert r.info("persistence")["aof_enabled"] == 0
    assert r.config_set("appendonly", "yes")
    assert r.config_get("appendonly") == {"appendonly": "yes"}
    wait_until(lambda: (d / "appendonlydir" / "appendonly.aof.manifest").exists() and
               r.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=30, what="first rewrite")
    assert r.info("persistence")["aof_enabled"] == 1
    r.set("after", "on")
    want = snapshot(r)
    so.stop()
    so2 = launch("scaleout", "so2", aof_args("scaleout", d))
    assert_same(want, snapshot(so2.client()))
    r2 = so2.client()
    assert r2.config_set("appendonly", "no")
    assert r2.info("persistence")["aof_enabled"] == 0
    r2.set("not-logged", "1")
    so2.stop()
    so3 = launch("scaleout", "so3", aof_args("scaleout", d))
    assert so3.client().get("not-logged") is None and so3.client().get("after") == b"on"


def test_info_and_command_like_redis(tmp_path, launch):
    require_redis()
    d1, d2 = tmp_path / "a", tmp_path / "b"
    d1.mkdir()
    d2.mkdir()
    mine = launch("scaleout", "so", aof_args("scaleout", d1))
    theirs = launch("redis", "rd", aof_args("redis", d2))
    im, it = mine.info("persistence"), theirs.info("persistence")
    aof_m = {k for k in im if k.startswith("aof_")}
    aof_t = {k for k in it if k.startswith("aof_")}
    # copy-on-write sizes are not measured (no rdb_last_cow_size either)
    assert aof_m == aof_t - {"aof_last_cow_size"}, (aof_m ^ aof_t)
    assert im["aof_enabled"] == it["aof_enabled"] == 1
    got = {}
    for s in (mine, theirs):
        c = s.conn()
        info = c.cmd("COMMAND", "INFO", "bgrewriteaof")[0]
        got[s.target] = (info[0], info[1], info[3], info[4], info[5], "admin" in info[2])
        got[s.target + "-conf"] = [c.cmd("CONFIG", "GET", n) for n in
                                   ("appendonly", "appendfsync", "appendfilename", "appenddirname",
                                    "aof-load-truncated", "aof-use-rdb-preamble", "auto-aof-rewrite-percentage",
                                    "auto-aof-rewrite-min-size", "repl-backlog-size", "min-replicas-to-write",
                                    "min-replicas-max-lag", "replica-read-only", "repl-ping-replica-period")]
    assert got["scaleout"] == got["redis"]
    assert got["scaleout-conf"] == got["redis-conf"]


def test_automatic_rewrite_on_growth(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    # off while the log grows (a rewrite started by the 100 ms cron in the
    # middle of the writes would keep what followed, so the size after it
    # would depend on timing), then on: the cron must start it by itself
    so = launch("scaleout", "so", aof_args("scaleout", d, "--auto-aof-rewrite-min-size", "4kb",
                                           "--auto-aof-rewrite-percentage", "0"))
    r = so.client()
    for i in range(300):
        r.set("same", "x" * 100)  # the keyspace stays small, the log grows
    assert r.info("persistence")["aof_current_size"] > 300 * 100
    r.config_set("auto-aof-rewrite-percentage", 100)
    assert r.config_get("auto-aof-rewrite-percentage") == {"auto-aof-rewrite-percentage": "100"}
    wait_until(lambda: r.info("persistence")["aof_rewrites"] >= 1 and
               r.info("persistence")["aof_rewrite_in_progress"] == 0, timeout=20, what="automatic rewrite")
    assert r.info("persistence")["aof_current_size"] < 4096
    assert "Starting automatic rewriting of AOF" in so.log_tail()
    so.stop()
    so2 = launch("scaleout", "so2", aof_args("scaleout", d))
    assert so2.client().get("same") == b"x" * 100


def test_stream_ids_and_approximate_trims_propagate_exactly(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", aof_args("scaleout", d))
    r = so.client()
    ids = [r.xadd("s", {"f": i}) for i in range(5)]
    last = r.xadd("s", {"f": "x"}, maxlen=3, approximate=True)
    r.xadd("s", {"f": "y"}, id="9999999999999-1")
    r.xtrim("s", minid=ids[2].decode(), approximate=True)
    cmds = [c for c in incr_commands(d) if c[0] == b"XADD" or c[0] == b"XTRIM"]
    assert [c[2] for c in cmds[:5]] == ids  # '*' became the ID given
    # MAXLEN ~ 3 trimmed nothing (whole nodes only): MAXLEN = <the length it left>
    assert cmds[5][2:5] == [b"MAXLEN", b"=", b"6"]
    assert cmds[5][5] == last and b"~" not in cmds[5] and b"*" not in cmds[5]
    assert cmds[6][2] == b"9999999999999-1"
    assert len(cmds) == 7  # the XTRIM ~ that removed nothing is not written
    want = r.xrange("s")
    so.stop()
    so2 = launch("scaleout", "so2", aof_args("scaleout", d))
    assert so2.client().xrange("s") == want


def test_disk_full_refuses_writes_with_misconf(tmp_path, launch):
    """The incr file is /dev/full (every write: ENOSPC). everysec: the write
    is kept in memory and later writes get Redis's MISCONF error; reads go on.
    always: the server exits rather than acknowledge a write it cannot sync."""
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", aof_args("scaleout", d))
    so.client().set("before", "1")
    so.stop()
    f = incr_files(d)[-1]
    saved = f.read_bytes()
    f.unlink()
    f.symlink_to("/dev/full")
    so2 = launch("scaleout", "so2", aof_args("scaleout", d, "--appendfsync", "everysec"))
    c = so2.conn()
    assert c.cmd("SET", "a", "1") == "OK"  # written to memory; the AOF write fails after it
    err = c.cmd("SET", "b", "1")
    assert str(err) == "MISCONF Errors writing to the AOF file: No space left on device", err
    assert so2.info("persistence")["aof_last_write_status"] == "err"
    assert c.cmd("GET", "a") == b"1"
    so2.stop()
    so3 = launch("scaleout", "so3", aof_args("scaleout", d, "--appendfsync", "always"))
    so3.expect_exit = True
    with pytest.raises((redis.ConnectionError, redis.ResponseError)):
        so3.client().set("x", "1")
    so3.proc.wait(10)
    assert so3.proc.returncode == 1
    assert "Exiting" in so3.log_tail()
    f.unlink()
    f.write_bytes(saved)


def test_scripts_propagate_their_effects_in_one_transaction(tmp_path, launch):
    """EVAL, EVALSHA and FCALL go out as the commands the script ran, each
    rewritten like a client's, wrapped in MULTI/EXEC; the script itself
    never (so a script using SPOP or a TTL replays the same); a script that
    wrote nothing leaves nothing. The restart rebuilds the same data."""
    d = tmp_path / "data"
    d.mkdir()
    so = launch("scaleout", "so", aof_args("scaleout", d, "--appendfsync", "always"))
    r = so.client()
    r.eval("redis.call('set', KEYS[1], 'v', 'EX', 100) redis.call('incr', KEYS[2]) "
           "redis.call('sadd', KEYS[3], 'a') redis.call('spop', KEYS[3])", 3, "a", "n", "s")
    sha = r.script_load("return redis.call('incrbyfloat', KEYS[1], ARGV[1])")
    r.evalsha(sha, 1, "f", "1.5")
    r.eval("return redis.call('get', KEYS[1])", 1, "a")            # reads only
    r.function_load("#!lua name=lib\nredis.register_function('put', function(k, a) "
                    "return redis.call('hset', k[1], 'x', a[1]) end)")
    r.fcall("put", 1, "h", "7")
    cmds = incr_commands(d)
    assert not any(x[0] in (b"EVAL", b"EVALSHA", b"FCALL", b"SPOP", b"INCRBYFLOAT", b"GET") for x in cmds), cmds
    assert cmds[0] == [b"SELECT", b"0"]
    assert cmds[1] == [b"MULTI"]
    assert cmds[2] == [b"SET", b"a", b"v", b"PXAT", str(r.pexpiretime("a")).encode()]
    assert cmds[3] == [b"INCRBY", b"n", b"1"] or cmds[3] == [b"INCR", b"n"]
    assert cmds[4] == [b"SADD", b"s", b"a"] and cmds[5] == [b"SREM", b"s", b"a"]
    assert cmds[6] == [b"EXEC"]
    assert cmds[7:10] == [[b"MULTI"], [b"SET", b"f", b"1.5", b"KEEPTTL"], [b"EXEC"]]
    rest = [x for x in cmds[10:] if x[0] != b"FUNCTION"]
    assert rest == [[b"MULTI"], [b"HSET", b"h", b"x", b"7"], [b"EXEC"]], cmds[10:]
    want = {k: r.dump(k) for k in (b"a", b"n", b"f", b"h")}
    so.stop()
    so2 = launch("scaleout", "so2", aof_args("scaleout", d))
    r2 = so2.client()
    assert {k: r2.dump(k) for k in want} == want
