"""
test_kv_rdb.py — RDB snapshots and DUMP/RESTORE, proven against redis-server 7.0.

  - a file written by scaleout (SAVE) passes Debian's redis-check-rdb and loads
    into redis-server with the same keys, types, values, TTLs and encodings;
  - a dump.rdb written by redis-server (every type, small and large encodings,
    integers, long strings that LZF compresses, TTLs) loads into scaleout with
    the same data;
  - DUMP payloads move both ways for every key of that data set, and RESTORE's
    options and errors answer as Redis's do;
  - BGSAVE forks: the child is stopped (SIGSTOP) while clients keep writing
    and get replies, and the snapshot is the state at the fork (an atomic MSET
    is never split), whatever was written after;
  - corrupt files (bit flips, truncation, wrong version) refuse the start with
    an error naming the offset, never a crash;
  - save schedules, SHUTDOWN [SAVE|NOSAVE], LASTSAVE, BGSAVE SCHEDULE, INFO
    persistence, and MISCONF after a failed BGSAVE (same text as Redis).
"""
import os
import random
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import (REDIS_SERVER, SCALEOUT_BIN, RespError, start_server, wait_until)

REDIS_CHECK_RDB = shutil.which("redis-check-rdb")


def require_redis():
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"


# -- the data set --------------------------------------------------------------

def fill(r):
    """Every type in both encodings, integers, LZF-sized strings, TTLs."""
    rnd = random.Random(7)
    r.set("str:small", "hello")
    r.set("str:int", 12345)
    r.set("str:negint", -987654321)
    r.set("str:bigint", 2 ** 62)
    r.set("str:float", "3.14159")
    r.set("str:empty", "")
    r.set("str:lzf", "abcdefgh" * 500)
    r.set("str:random", bytes(rnd.getrandbits(8) for _ in range(3000)))
    r.set("str:bin", b"\x00\xff\r\n" * 10)
    r.set("ttl:str", "v", px=3_600_000)
    r.rpush("list:small", "a", 1, -2, 300, 70000, 2 ** 40, "x" * 100)
    r.rpush("list:big", *[f"item-{i}" if i % 3 else i for i in range(3000)])
    r.rpush("list:longel", "y" * 20000, "z")
    r.sadd("set:int", 1, 2, 3, -5, 40000, 2 ** 33)
    r.sadd("set:str", "a", "b", "c")
    r.sadd("set:bigint", *range(1000))
    r.sadd("set:bigstr", *[f"m{i}" for i in range(700)])
    r.hset("hash:small", mapping={"f": "v", "n": 12, "neg": -1})
    r.hset("hash:big", mapping={f"field{i}": f"value{i}" for i in range(300)})
    r.hset("hash:longval", mapping={"f": "w" * 100})
    r.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3, "inf": float("inf"), "ninf": float("-inf")})
    r.zadd("zset:big", {f"m{i}": i / 7 for i in range(400)})
    r.zadd("zset:longmember", {"q" * 100: 1})
    r.expire("list:small", 7200)
    r.pexpireat("zset:big", int(time.time() * 1000) + 9_000_000)
    r.expire("hash:big", 100000)


def snapshot(r):
    """{key: (type, value, pexpiretime, encoding)} of every key."""
    out = {}
    for k in r.keys("*"):
        t = r.type(k).decode()
        if t == "string":
            v = r.get(k)
        elif t == "list":
            v = r.lrange(k, 0, -1)
        elif t == "set":
            v = sorted(r.smembers(k))
        elif t == "hash":
            v = sorted(r.hgetall(k).items())
        elif t == "zset":
            v = r.zrange(k, 0, -1, withscores=True)
        else:
            raise AssertionError(f"unexpected type {t}")
        out[k] = (t, v, r.execute_command("PEXPIRETIME", k), r.object("encoding", k))
    return out


def assert_same(a, b, encodings=True):
    assert sorted(a) == sorted(b)
    for k in a:
        ta, va, ea, enca = a[k]
        tb, vb, eb, encb = b[k]
        assert (ta, va, ea) == (tb, vb, eb), k
        if encodings:
            assert enca == encb, (k, enca, encb)


# redis-server's compiled-in default is 512 (redis.conf and scaleout: 128)
SAME_THRESHOLDS = {"redis": ["--hash-max-listpack-entries", "128"], "scaleout": []}


@pytest.fixture
def launch(tmp_path):
    """launch(target, name, extra) -> a server in tmp_path/name, stopped at the end."""
    started = []

    def start(target, name, extra=()):
        s = start_server(target, tmp_path / name, list(extra))
        started.append(s)
        return s
    yield start
    for s in started:
        s.stop()


def start_with_file(launch, target, name, d, fname="dump.rdb", extra=()):
    return launch(target, name, ["--dir", str(d), "--dbfilename", fname] + SAME_THRESHOLDS[target] + list(extra))


# -- files -----------------------------------------------------------------------

def test_scaleout_file_checks_and_loads_into_redis(tmp_path, launch):
    require_redis()
    assert REDIS_CHECK_RDB, "redis-check-rdb (redis-tools) is required"
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d)
    r = so.client()
    fill(r)
    want = snapshot(r)
    assert r.save() is True
    f = d / "dump.rdb"
    chk = subprocess.run([REDIS_CHECK_RDB, str(f)], capture_output=True, text=True, timeout=60)
    assert chk.returncode == 0, chk.stdout + chk.stderr
    assert "RDB looks OK" in chk.stdout
    assert f"{len(want)} keys read" in chk.stdout
    rd = start_with_file(launch, "redis", "rd", d)
    assert_same(want, snapshot(rd.client()))
    # the same without compression and checksum (rdbcompression / rdbchecksum no)
    r.config_set("rdbcompression", "no")
    r.config_set("rdbchecksum", "no")
    r.config_set("dbfilename", "plain.rdb")
    assert r.save() is True
    assert (d / "plain.rdb").stat().st_size > f.stat().st_size
    rd2 = start_with_file(launch, "redis", "rd2", d, "plain.rdb")
    assert_same(want, snapshot(rd2.client()))


def test_redis_file_loads_into_scaleout(tmp_path, launch):
    require_redis()
    d = tmp_path / "data"
    d.mkdir()
    rd = start_with_file(launch, "redis", "rd", d)
    r = rd.client()
    fill(r)
    want = snapshot(r)
    assert r.save() is True
    so = start_with_file(launch, "scaleout", "so", d)
    assert "DB loaded from disk" in so.log_tail()
    assert_same(want, snapshot(so.client()))
    # scaleout saves it again; redis loads that one back identical
    assert so.client().save() is True
    rd.stop()
    rd2 = start_with_file(launch, "redis", "rd2", d)
    assert_same(want, snapshot(rd2.client()))


def test_expired_keys_are_not_loaded(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d)
    r = so.client()
    r.set("gone", "x", px=300)
    r.set("kept", "y")
    assert r.save() is True
    wait_until(lambda: r.pttl("gone") == -2, what="key expiry")
    so.stop()
    so2 = start_with_file(launch, "scaleout", "so2", d)
    assert so2.client().keys("*") == [b"kept"]


# -- DUMP / RESTORE ------------------------------------------------------------------

def test_dump_restore_both_ways(tmp_path, launch):
    require_redis()
    rd = launch("redis", "rd", SAME_THRESHOLDS["redis"])
    so = launch("scaleout", "so")
    r, s = rd.client(), so.client()
    fill(r)
    fill(s)
    want = snapshot(r)
    mine = snapshot(s)
    assert {k: v[:2] for k, v in want.items()} == {k: v[:2] for k, v in mine.items()}
    for k in list(want):
        ttl = max(r.pttl(k), 0)
        p = r.dump(k)
        assert s.restore(k, ttl, p, replace=True) == b"OK"
        p2 = s.dump(k)
        assert r.restore(k + b":back", 0, p2) == b"OK"
        assert s.restore(k + b":self", 0, p2) == b"OK"
    got_s, got_r = snapshot(s), snapshot(r)
    for k in want:
        t, v, exp, enc = want[k]
        assert got_s[k][:2] == (t, v), k
        assert got_s[k][3] == enc, (k, got_s[k][3], enc)
        assert got_r[k + b":back"][:2] == (t, v), k
        assert got_r[k + b":back"][3] == enc, k
        assert got_s[k + b":self"][:2] == (t, v), k
        if exp > 0:  # relative TTL: within the time the test took
            assert abs(got_s[k][2] - exp) < 60_000, k


def test_restore_options_and_errors_like_redis(tmp_path, launch):
    require_redis()
    rd = launch("redis", "rd")
    so = launch("scaleout", "so")
    results = []
    for srv in (rd, so):
        c = srv.conn()
        c.cmd("SET", "src", "value")
        c.cmd("RPUSH", "lst", "a", "b")
        p = c.cmd("DUMP", "src")
        bad = bytearray(p)
        bad[1] ^= 1
        v11 = bytearray(p)
        v11[-10] = 11
        out = [
            c.cmd("DUMP", "nosuchkey"),
            c.cmd("RESTORE", "src", "0", p),
            c.cmd("RESTORE", "new", "0", bytes(bad)),
            c.cmd("RESTORE", "new", "0", bytes(v11)),
            c.cmd("RESTORE", "new", "0", b"short"),
            c.cmd("RESTORE", "new", "-1", p),
            c.cmd("RESTORE", "new", "abc", p),
            c.cmd("RESTORE", "new", "0", p, "IDLETIME", "-1"),
            c.cmd("RESTORE", "new", "0", p, "FREQ", "256"),
            c.cmd("RESTORE", "new", "0", p, "IDLETIME", "1", "FREQ", "1"),
            c.cmd("RESTORE", "new", "0", p, "BOGUS"),
            c.cmd("RESTORE", "new", "0", p, "IDLETIME"),
            c.cmd("RESTORE", "lst", "0", p, "REPLACE"),
            c.cmd("GET", "lst"),
            c.cmd("RESTORE", "abs", "1000", p, "ABSTTL"),   # already expired: OK, no key
            c.cmd("EXISTS", "abs"),
            c.cmd("RESTORE", "src", "1000", p, "ABSTTL", "REPLACE"),  # deletes src
            c.cmd("EXISTS", "src"),
            c.cmd("RESTORE", "idle", "0", c.cmd("DUMP", "lst"), "IDLETIME", "1000"),
            c.cmd("OBJECT", "IDLETIME", "idle") >= 1000,
            c.cmd("RESTORE", "t", "100000", c.cmd("DUMP", "lst")),
            0 < c.cmd("PTTL", "t") <= 100000,
            c.cmd("RESTORE", "new", "0", b"\x0f\x00" + p[-10:]),  # bad CRC
        ]
        results.append(out)
    for i, (a, b) in enumerate(zip(*results)):
        assert a == b, (i, a, b)
    assert results[1][2] == RespError("ERR DUMP payload version or checksum are wrong")
    assert results[1][1] == RespError("BUSYKEY Target key name already exists.")


def test_restore_bad_payload_with_good_crc(tmp_path, launch):
    """A payload whose CRC is right but whose body is not an object."""
    so = launch("scaleout", "so")
    c = so.conn()
    c.cmd("SET", "k", "v")
    p = c.cmd("DUMP", "k")
    # an empty set body (type 2, 0 members) with the checksum scaleout computes
    body = b"\x02\x00\x0a\x00"
    crc = crc64_jones(body)
    assert c.cmd("RESTORE", "x", "0", body + crc.to_bytes(8, "little")) == RespError("ERR Bad data format")
    assert crc64_jones(p[:-8]).to_bytes(8, "little") == p[-8:]


def crc64_jones(data):
    poly = 0x95AC9329AC4BC9B5
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


# -- BGSAVE --------------------------------------------------------------------------

def children_of(pid):
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def test_bgsave_consistent_point_while_clients_write(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    # rdb-key-save-delay (as Redis's): the child lives long enough to be stopped
    so = start_with_file(launch, "scaleout", "so", d, extra=["--threads", "2", "--rdb-key-save-delay", "50"])
    r = so.client()
    r.mset({f"base:{i}": i for i in range(20000)})
    stop = threading.Event()
    replies = [0, 0]
    errors = []

    def writer(n):
        c = so.client()
        v = 0
        try:
            while not stop.is_set():
                v += 1
                assert c.mset({f"w{n}:a": v, f"w{n}:b": v}) is True
                replies[n] += 1
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(2)]
    for t in threads:
        t.start()
    try:
        bgsave_under_writes(so, r, replies)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not errors, errors
    assert so.info("persistence")["rdb_last_bgsave_status"] == "ok"
    # the snapshot is the state at the fork: each atomic MSET whole, nothing written after
    so2 = start_with_file(launch, "scaleout", "so2", d)
    s2 = so2.client()
    for n in range(2):
        a, b = s2.get(f"w{n}:a"), s2.get(f"w{n}:b")
        assert a == b and a is not None
    assert s2.get("base:0") == b"0"
    assert s2.get("after:fork") is None
    assert s2.dbsize() == 20004


def bgsave_under_writes(so, r, replies):
    c = so.conn()
    wait_until(lambda: min(replies) > 10, what="writers running")
    assert c.cmd("BGSAVE") == "Background saving started"
    kids = children_of(so.pid)
    assert len(kids) == 1
    child = kids[0]
    os.kill(child, signal.SIGSTOP)   # the save cannot finish while we look
    try:
        assert so.info("persistence")["rdb_bgsave_in_progress"] == 1
        assert c.cmd("BGSAVE") == RespError("ERR Background save already in progress")
        before = list(replies)
        wait_until(lambda: all(replies[i] > before[i] + 20 for i in range(2)), what="writes served during the save")
        r.set("after:fork", "1")
        r.delete("base:0")
    finally:
        os.kill(child, signal.SIGCONT)
    wait_until(lambda: so.info("persistence")["rdb_saves"] >= 1, timeout=30, what="bgsave done")


def test_bgsave_snapshot_is_the_fork_state(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d, extra=["--rdb-key-save-delay", "20000"])
    r = so.client()
    c = so.conn()
    fill(r)
    want = snapshot(r)
    assert c.cmd("BGSAVE") == "Background saving started"
    child = children_of(so.pid)[0]
    os.kill(child, signal.SIGSTOP)
    try:
        r.flushall()
        r.set("later", "x")
        assert c.cmd("BGSAVE", "SCHEDULE") == "Background saving scheduled"
    finally:
        os.kill(child, signal.SIGCONT)
    wait_until(lambda: so.info("persistence")["rdb_saves"] == 1, timeout=30, what="bgsave done")
    assert so.info("persistence")["rdb_last_bgsave_status"] == "ok"
    snap1 = tmp_path / "snap1"
    snap1.mkdir()
    shutil.copy(d / "dump.rdb", snap1 / "dump.rdb")  # renamed into place whole: never half written
    # the scheduled one follows and saves the later state
    wait_until(lambda: so.info("persistence")["rdb_saves"] == 2 and
               so.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=30, what="scheduled bgsave")
    so2 = start_with_file(launch, "scaleout", "so2", snap1)
    got = snapshot(so2.client())
    if b"later" in got:   # the copy raced with the scheduled save's rename: that one is the later state
        assert list(got) == [b"later"]
    else:
        assert_same(want, got, encodings=True)
    so3 = start_with_file(launch, "scaleout", "so3", d)
    assert so3.client().keys("*") == [b"later"]


# -- corrupt files -------------------------------------------------------------------

def run_with_file(tmp_path, data, name):
    d = tmp_path / name
    d.mkdir()
    (d / "dump.rdb").write_bytes(data)
    p = subprocess.run([str(SCALEOUT_BIN), "kv", "--port", "0", "--admin-port", "0", "--dir", str(d)],
                       capture_output=True, text=True, timeout=30)
    return p


def test_corrupt_files_are_refused_with_the_offset(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d)
    r = so.client()
    fill(r)
    assert r.save() is True
    so.stop()
    good = (d / "dump.rdb").read_bytes()
    rnd = random.Random(3)
    cases = [("version", b"REDIS0011" + good[9:]), ("magic", b"RODIS" + good[5:]), ("empty", b"")]
    for i in range(12):
        b = bytearray(good)
        pos = rnd.randrange(9, len(b))
        b[pos] ^= 1 << rnd.randrange(8)
        cases.append((f"flip{pos}", bytes(b)))
    for n in (5, 9, 30, len(good) // 2, len(good) - 9, len(good) - 1):
        cases.append((f"trunc{n}", good[:n]))
    for name, data in cases:
        p = run_with_file(tmp_path, data, name)
        assert p.returncode > 0, (name, p.returncode, p.stderr[-500:])   # an error exit, not a signal
        assert "offset " in p.stderr, (name, p.stderr[-500:])
        assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, (name, p.stderr[-2000:])
    # the good file starts
    so2 = start_with_file(launch, "scaleout", "so2", d)
    assert so2.client().dbsize() > 0


# -- schedules, SHUTDOWN, MISCONF --------------------------------------------------------

def test_save_schedule_lastsave_and_info(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d, extra=["--save", "1 1"])
    r = so.client()
    assert r.config_get("save") == {"save": "1 1"}
    info = so.info("persistence")
    for f in ("rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
              "rdb_last_bgsave_status"):
        assert f in info
    first = r.lastsave()
    r.set("a", 1)
    assert so.info("persistence")["rdb_changes_since_last_save"] >= 1
    wait_until(lambda: so.info("persistence")["rdb_changes_since_last_save"] == 0 and (d / "dump.rdb").exists(),
               timeout=15, what="scheduled save")
    assert r.lastsave() >= first
    r.config_set("save", "3600 1 300 100 60 10000")
    assert r.config_get("save") == {"save": "3600 1 300 100 60 10000"}
    r.config_set("save", "")
    assert r.config_get("save") == {"save": ""}
    with pytest.raises(Exception):
        r.config_set("save", "10")


def test_shutdown_saves_when_a_schedule_exists(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d, extra=["--save", "3600 1"])
    c = so.conn()
    c.cmd("SET", "k1", "v1")
    c.send_cmd("SHUTDOWN")
    so.proc.wait(10)
    assert so.proc.returncode == 0
    so2 = start_with_file(launch, "scaleout", "so2", d)
    c2 = so2.conn()
    assert c2.cmd("GET", "k1") == b"v1"
    c2.cmd("SET", "k2", "v2")
    c2.send_cmd("SHUTDOWN", "NOSAVE")
    so2.proc.wait(10)
    so3 = start_with_file(launch, "scaleout", "so3", d)
    c3 = so3.conn()
    assert c3.cmd("GET", "k2") is None
    c3.cmd("SET", "k3", "v3")
    c3.send_cmd("SHUTDOWN", "SAVE")
    so3.proc.wait(10)
    so4 = start_with_file(launch, "scaleout", "so4", d)
    assert so4.conn().cmd("GET", "k3") == b"v3"
    assert so4.conn().cmd("SHUTDOWN", "ABORT") == RespError("ERR No shutdown in progress.")


def misconf_run(target, tmp_path, launch):
    d = tmp_path / f"{target}-data"
    d.mkdir()
    srv = start_with_file(launch, target, target, d, extra=["--save", "3600 1"])
    c = srv.conn()
    assert c.cmd("SET", "k", "v") == "OK"
    # the directory is replaced by a file: the child cannot create its temp file
    shutil.rmtree(d)
    d.write_text("not a directory")
    assert c.cmd("BGSAVE") == "Background saving started"
    wait_until(lambda: srv.info("persistence")["rdb_bgsave_in_progress"] == 0 and
               srv.info("persistence")["rdb_last_bgsave_status"] == "err", timeout=15, what="failed bgsave")
    out = [c.cmd("SET", "k", "w"), c.cmd("GET", "k"), c.cmd("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"),
           c.cmd("SET", "k", "w")]
    srv.expect_exit = True
    c.send_cmd("SHUTDOWN", "NOSAVE")
    srv.proc.wait(10)
    return out


def test_misconf_after_failed_bgsave_like_redis(tmp_path, launch):
    require_redis()
    a = misconf_run("redis", tmp_path, launch)
    b = misconf_run("scaleout", tmp_path, launch)
    assert a == b
    assert isinstance(b[0], RespError) and b[0].msg.startswith("MISCONF ")


# -- older encodings (RDB version 9 and before) ------------------------------------------

def rdb_len(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xFF])
    return b"\x80" + n.to_bytes(4, "big")


def rdb_str(b):
    b = b if isinstance(b, bytes) else str(b).encode()
    return rdb_len(len(b)) + b


def ziplist(values):
    """A ziplist as Redis <= 6.2 wrote them (strings and every integer encoding)."""
    body, prev, tail = b"", 0, 10
    for v in values:
        if isinstance(v, int):
            if 0 <= v <= 12:
                enc = bytes([0xF1 + v])
            elif -128 <= v <= 127:
                enc = b"\xfe" + v.to_bytes(1, "little", signed=True)
            elif -32768 <= v <= 32767:
                enc = b"\xc0" + v.to_bytes(2, "little", signed=True)
            elif -(1 << 23) <= v < (1 << 23):
                enc = b"\xf0" + v.to_bytes(3, "little", signed=True)
            elif -(1 << 31) <= v < (1 << 31):
                enc = b"\xd0" + v.to_bytes(4, "little", signed=True)
            else:
                enc = b"\xe0" + v.to_bytes(8, "little", signed=True)
        else:
            s = v.encode() if isinstance(v, str) else v
            if len(s) < 64:
                enc = bytes([len(s)]) + s
            elif len(s) < 16384:
                enc = bytes([0x40 | (len(s) >> 8), len(s) & 0xFF]) + s
            else:
                enc = b"\x80" + len(s).to_bytes(4, "big") + s
        pl = bytes([prev]) if prev < 254 else b"\xfe" + prev.to_bytes(4, "little")
        entry = pl + enc
        tail = 10 + len(body)
        body += entry
        prev = len(entry)
    total = 10 + len(body) + 1
    return total.to_bytes(4, "little") + tail.to_bytes(4, "little") + len(values).to_bytes(2, "little") + body + b"\xff"


def zipmap(pairs):
    out = bytes([len(pairs)])
    for k, v in pairs:
        out += bytes([len(k)]) + k + bytes([len(v)]) + b"\x00" + v
    return out + b"\xff"


def test_old_encodings_load_like_redis(tmp_path, launch):
    """A version-9 file with ziplist, zipmap and quicklist-of-ziplist values,
    plain LIST and text-score ZSET, EXPIRETIME in seconds: scaleout and
    redis-server 7.0 load the same data from it."""
    require_redis()
    far = int(time.time()) + 100000
    img = b"REDIS0009" + b"\xfa" + rdb_str("redis-ver") + rdb_str("5.0.0") + b"\xfe\x00"
    img += b"\x0a" + rdb_str("zl:list") + rdb_str(ziplist(["a", 1, -7, 300, 70000, 1 << 40, "b" * 100, 12]))
    img += b"\x0d" + rdb_str("zl:hash") + rdb_str(ziplist(["f1", "v1", "n", 42, "big", "x" * 70]))
    img += b"\x0c" + rdb_str("zl:zset") + rdb_str(ziplist(["c", "-inf", "d", -3, "a", 1, "b", "2.5"]))
    img += b"\x09" + rdb_str("zm:hash") + rdb_str(zipmap([(b"k1", b"v1"), (b"k2", b""), (b"k3", b"12")]))
    img += b"\x0e" + rdb_str("ql:list") + rdb_len(2) + rdb_str(ziplist(["x", 2])) + rdb_str(ziplist(["y" * 300, -1]))
    img += b"\x01" + rdb_str("plain:list") + rdb_len(3) + rdb_str("p") + rdb_str("q") + rdb_str("12")
    img += b"\x03" + rdb_str("text:zset") + rdb_len(3) + rdb_str("m1") + b"\x031.5" + rdb_str("m2") + b"\xfe" \
        + rdb_str("m3") + b"\x02-2"
    img += b"\x02" + rdb_str("plain:set") + rdb_len(2) + rdb_str("s1") + rdb_str("7")
    img += b"\xfd" + far.to_bytes(4, "little") + b"\x00" + rdb_str("secs:ttl") + rdb_str("v")
    img += b"\xff"
    img += crc64_jones(img).to_bytes(8, "little")
    for name in ("so-data", "rd-data"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "dump.rdb").write_bytes(img)
    rd = start_with_file(launch, "redis", "rd", tmp_path / "rd-data")
    so = start_with_file(launch, "scaleout", "so", tmp_path / "so-data")
    want = snapshot(rd.client())
    assert len(want) == 9
    assert want[b"secs:ttl"][2] == far * 1000
    got = snapshot(so.client())
    assert_same(want, got, encodings=False)
    # Redis 7.0 keeps a hash from a ziplist packed even with a value past
    # hash-max-listpack-value (it checks only the entry count there); kv converts
    assert want.pop(b"zl:hash")[3] == b"listpack" and got.pop(b"zl:hash")[3] == b"hashtable"
    assert_same(want, got)


def test_debug_reload_like_redis(tmp_path, launch):
    require_redis()
    out = {}
    for target in ("redis", "scaleout"):
        d = tmp_path / f"{target}-data"
        d.mkdir()
        extra = ["--enable-debug-command", "yes"] if target == "redis" else []
        srv = start_with_file(launch, target, target, d, extra=extra)
        r = srv.client()
        fill(r)
        want = snapshot(r)
        c = srv.conn()
        assert c.cmd("DEBUG", "RELOAD") == "OK"
        assert_same(want, snapshot(r))
        out[target] = [c.cmd("DEBUG", "RELOAD", "BOGUS"), c.cmd("DEBUG", "RELOAD", "NOSAVE"), r.dbsize()]
    assert out["redis"] == out["scaleout"]


def test_command_info_like_redis(tmp_path, launch):
    require_redis()
    names = ["dump", "restore", "save", "bgsave", "lastsave", "shutdown", "debug"]
    got = {}
    for target in ("redis", "scaleout"):
        c = launch(target, target).conn()
        infos = c.cmd("COMMAND", "INFO", *names)
        # name, arity, first key, last key, step
        got[target] = [(i[0], i[1], i[3], i[4], i[5]) for i in infos]
        flags = {i[0]: i[2] for i in infos}
        assert "write" in flags[b"restore"] and "denyoom" in flags[b"restore"]
        assert "readonly" in flags[b"dump"]
        assert "admin" in flags[b"save"] and "admin" in flags[b"bgsave"]
    assert got["redis"] == got["scaleout"]


def test_save_and_shutdown_refused_in_multi_like_redis(tmp_path, launch):
    require_redis()
    got = {}
    for target in ("redis", "scaleout"):
        c = launch(target, target).conn()
        got[target] = [c.cmd("MULTI"), c.cmd("SAVE"), c.cmd("SHUTDOWN"), c.cmd("DUMP", "x"), c.cmd("EXEC"),
                       c.cmd("MULTI"), c.cmd("DUMP", "x"), c.cmd("LASTSAVE"), c.cmd("EXEC")[0]]
    assert got["redis"] == got["scaleout"]


def test_dump_payloads_byte_identical_to_redis(tmp_path, launch):
    """Without LZF (rdbcompression no, which DUMP obeys in Redis too), the
    payload of every value not held in a hash table is Redis's byte for
    byte: same types, listpack and intset bytes, quicklist node cuts, ZSET_2
    order. With LZF, our compressor's output may differ (the data not)."""
    require_redis()
    rd = launch("redis", "rd", SAME_THRESHOLDS["redis"])
    so = launch("scaleout", "so")
    r, s = rd.client(), so.client()
    for c in (r, s):
        fill(c)
        c.config_set("rdbcompression", "no")
    checked = 0
    for k in sorted(r.keys("*")):
        if r.object("encoding", k) == b"hashtable":
            continue
        assert r.dump(k) == s.dump(k), k
        checked += 1
    assert checked >= 18
    assert r.dump(b"list:big") == s.dump(b"list:big")


def test_sigterm_saves_with_a_schedule(tmp_path, launch):
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d, extra=["--save", "3600 1"])
    so.client().set("k", "v")
    so.proc.send_signal(signal.SIGTERM)
    so.proc.wait(10)
    assert "Saving the final RDB snapshot" in so.log_tail()
    so2 = start_with_file(launch, "scaleout", "so2", d)
    assert so2.client().get("k") == b"v"


def test_info_persistence_fields_exist_in_redis(tmp_path, launch):
    require_redis()
    mine = launch("scaleout", "so").info("persistence")
    theirs = launch("redis", "rd").info("persistence")
    assert set(mine) <= set(theirs), set(mine) - set(theirs)
    for f in ("rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time",
              "rdb_last_bgsave_status", "rdb_saves"):
        assert f in mine


@pytest.mark.parametrize("policy,hint,value", [("allkeys-lfu", "FREQ", 100), ("allkeys-lru", "IDLETIME", 5000)])
def test_eviction_hints_travel_in_files_both_ways(tmp_path, launch, policy, hint, value):
    """With an LRU/LFU policy each key carries its IDLE/FREQ hint in the file
    (as Redis writes them) and the loader applies it, both directions."""
    require_redis()
    sub = "FREQ" if hint == "FREQ" else "IDLETIME"

    def ok(v):
        # the LFU counter may decay by one at a minute boundary; idle time only grows
        return value - 1 <= v <= value if hint == "FREQ" else value <= v < value + 60

    for src, dst in (("scaleout", "redis"), ("redis", "scaleout")):
        d = tmp_path / f"{src}-{policy}"
        d.mkdir()
        a = start_with_file(launch, src, f"{src}-a-{policy}", d, extra=["--maxmemory-policy", policy])
        ca = a.conn()
        ca.cmd("SET", "src", "v")
        p = ca.cmd("DUMP", "src")
        assert ca.cmd("RESTORE", "k", "0", p, hint, str(value)) == "OK"
        assert ok(ca.cmd("OBJECT", sub, "k"))
        assert ca.cmd("SAVE") == "OK"
        b = start_with_file(launch, dst, f"{dst}-b-{policy}", d, extra=["--maxmemory-policy", policy])
        got = b.conn().cmd("OBJECT", sub, "k")
        assert ok(got), (src, dst, got)


# -- databases -------------------------------------------------------------------

DBS = (0, 3, 15)


def fill_dbs(port):
    import redis
    for i in DBS:
        c = redis.Redis(port=port, db=i)
        c.set("same-name", f"db{i}")
        c.rpush(f"list{i}", *range(i + 1))
        c.hset("h", mapping={"db": i})
        c.set(f"ttl{i}", "v", ex=1000 + i)


def snapshot_dbs(port):
    import redis
    return {i: snapshot(redis.Redis(port=port, db=i)) for i in range(16)}


@pytest.mark.parametrize("how", ["save", "bgsave"])
def test_every_database_travels_both_ways(tmp_path, launch, how):
    """Keys of databases 0, 3 and 15 (the same names in each) are written
    with SELECTDB, pass redis-check-rdb, load into redis-server into the same
    databases, and come back into scaleout from redis-server's file."""
    require_redis()
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d)
    fill_dbs(so.port)
    want = snapshot_dbs(so.port)
    assert all(want[i] for i in DBS) and not want[1]
    r = so.client()
    if how == "save":
        assert r.save() is True
    else:
        r.bgsave()  # answered once the child runs: in progress until it is reaped
        wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0, what="bgsave end")
        assert r.info("persistence")["rdb_last_bgsave_status"] == "ok"
    if REDIS_CHECK_RDB:
        chk = subprocess.run([REDIS_CHECK_RDB, str(d / "dump.rdb")], capture_output=True, text=True, timeout=60)
        assert chk.returncode == 0, chk.stdout + chk.stderr
    rd = start_with_file(launch, "redis", "rd", d)
    assert snapshot_dbs(rd.port) == want
    so.stop()
    rd.client().save()
    rd.stop()
    so2 = start_with_file(launch, "scaleout", "so2", d)
    assert snapshot_dbs(so2.port) == want


# -- streams ---------------------------------------------------------------------

def fill_streams(r):
    """Streams with groups, consumers, pending entries, deletions, trims,
    entries of different field sets, several nodes, an empty stream."""
    for i in range(1, 251):
        fields = {"job": f"j{i}", "n": i} if i % 7 else {"other": "x" * (i % 50), "n": -i, "z": ""}
        r.xadd("st:big", fields, id=f"{1000 + i // 3}-{i % 3}")
    r.xdel("st:big", "1001-0", "1010-1", "1030-2")
    r.xtrim("st:big", maxlen=230, approximate=False)       # inside the first node
    r.xgroup_create("st:big", "g1", id="0")
    r.xgroup_create("st:big", "g2", id="1050-0")
    r.xgroup_create("st:big", "alpha", id="$")
    r.xreadgroup("g1", "c1", {"st:big": ">"}, count=20)
    r.xreadgroup("g1", "c2", {"st:big": ">"}, count=15)
    r.xreadgroup("g2", "c1", {"st:big": ">"}, count=5)
    r.xack("st:big", "g1", "1008-0", "1009-0", "1020-2")
    r.xclaim("st:big", "g1", "c3", 0, ["1010-0", "1011-0"])
    r.xgroup_createconsumer("st:big", "g2", "idle")
    r.xdel("st:big", "1012-0")                             # pending but deleted
    r.xadd("st:trim", {"a": 1}, id="5-1")
    for i in range(2, 400):
        r.xadd("st:trim", {"a": i}, id=f"5-{i}")
    r.xtrim("st:trim", maxlen=120, approximate=True)
    r.xgroup_create("st:empty", "g", id="$", mkstream=True)
    r.xadd("st:gone", {"f": "v"}, id="7-7")
    r.xdel("st:gone", "7-7")
    r.execute_command("XSETID", "st:gone", "9-9", "ENTRIESADDED", 3, "MAXDELETEDID", "8-0")
    r.xadd("st:ttl", {"k": "v"})
    r.pexpire("st:ttl", 3_600_000)


RUNTIME = {b"radix-tree-nodes"}


def _strip(x):
    """XINFO STREAM FULL without the fields that are not data."""
    if isinstance(x, list):
        out = []
        for i, v in enumerate(x):
            if i % 2 == 1 and isinstance(x[i - 1], bytes) and x[i - 1] in RUNTIME:
                out.pop()
                continue
            out.append(_strip(v))
        return out
    return x


def stream_snapshot(r):
    out = {}
    for k in sorted(r.keys("st:*")):
        assert r.type(k) == b"stream", k
        full = r.execute_command("XINFO", "STREAM", k, "FULL")
        out[k] = (r.xrange(k), _strip(full), r.execute_command("XINFO", "GROUPS", k),
                  r.execute_command("PEXPIRETIME", k) > 0)
    return out


def test_streams_files_both_ways(tmp_path, launch):
    require_redis()
    assert REDIS_CHECK_RDB, "redis-check-rdb (redis-tools) is required"
    d = tmp_path / "data"
    d.mkdir()
    so = start_with_file(launch, "scaleout", "so", d)
    r = so.client()
    fill_streams(r)
    want = stream_snapshot(r)
    assert len(want) == 5
    assert r.save() is True
    f = d / "dump.rdb"
    chk = subprocess.run([REDIS_CHECK_RDB, str(f)], capture_output=True, text=True, timeout=60)
    assert chk.returncode == 0, chk.stdout + chk.stderr
    assert "RDB looks OK" in chk.stdout
    so.stop()
    rd = start_with_file(launch, "redis", "rd", d, extra=["--sanitize-dump-payload", "yes"])
    assert stream_snapshot(rd.client()) == want
    # redis writes it again; scaleout loads redis's file identical
    rc = rd.client()
    rc.xadd("st:big", {"job": "after"}, id="2000-0")
    rc.xreadgroup("alpha", "new", {"st:big": ">"})
    want2 = stream_snapshot(rc)
    assert rc.save() is True
    rd.stop()
    so2 = start_with_file(launch, "scaleout", "so2", d)
    assert "DB loaded from disk" in so2.log_tail()
    assert stream_snapshot(so2.client()) == want2


def test_stream_dump_restore_both_ways(tmp_path, launch):
    require_redis()
    rd = launch("redis", "rd", ["--sanitize-dump-payload", "yes"])
    so = launch("scaleout", "so")
    r, s = rd.client(), so.client()
    fill_streams(r)
    fill_streams(s)
    for src, dst in ((r, s), (s, r)):
        want = stream_snapshot(src)
        for k in want:
            assert dst.restore(k + b":copy", 0, src.dump(k)) == b"OK"
        got = {k[:-5]: v for k, v in stream_snapshot(dst).items() if k.endswith(b":copy")}
        assert got == {k: v[:3] + (False,) for k, v in want.items()}
    # a payload made by scaleout, restored back into scaleout
    for k in (b"st:big", b"st:empty"):
        assert s.restore(k + b":self", 0, s.dump(k)) == b"OK"
        assert stream_snapshot(s)[k + b":self"][:3] == stream_snapshot(s)[k][:3]
