"""
test_kv_migrate.py — MIGRATE between scaleout kv and Debian's redis-server,
both ways, and proven by difference: the same sequence run with redis-server
as the source and with scaleout kv as the source (the target is a fresh
redis-server each time) gives the same replies and leaves the same data
(DUMP-independent: values, types and TTLs read back).

  - every type, a key with a TTL, COPY, REPLACE, BUSYKEY from the target,
    NOKEY, the KEYS form and its errors, SELECT of another database, AUTH and
    AUTH2 to a password-protected target (right and wrong), a closed port
    (IOERR), syntax errors;
  - redis-server migrating into scaleout kv (RESTORE on our side);
  - a migrated key is gone from the source's replica too (the DEL is
    propagated).
"""
import pytest

from conftest import HOST, REDIS_SERVER, free_port, wait_until


@pytest.fixture
def launch(launch_in_dir):
    return launch_in_dir


def fill(c):
    c.cmd("SET", "s", "hello")
    c.cmd("SET", "t", "ttl-value", "PX", "500000")
    c.cmd("RPUSH", "l", "a", "b", "c")
    c.cmd("HSET", "h", "f1", "v1", "f2", "v2")
    c.cmd("ZADD", "z", "1", "m1", "2.5", "m2")
    c.cmd("SADD", "st", "x", "y", "1")
    c.cmd("XADD", "x", "1-1", "k", "v")
    c.cmd("SET", "busy", "here")
    c.cmd("SET", "k1", "1")
    c.cmd("SET", "k2", "2")


def snapshot(c, keys):
    out = {}
    for k in keys:
        t = c.cmd("TYPE", k)
        v = {"string": ["GET", k], "list": ["LRANGE", k, "0", "-1"], "hash": ["HGETALL", k],
             "zset": ["ZRANGE", k, "0", "-1", "WITHSCORES"], "set": ["SMEMBERS", k],
             "stream": ["XRANGE", k, "-", "+"], "none": ["EXISTS", k]}[t]
        val = c.cmd(*v)
        if t in ("set", "hash"):
            val = sorted(val) if t == "set" else sorted(zip(val[0::2], val[1::2]))
        ttl = c.cmd("PTTL", k)
        out[k] = (t, val, ttl if ttl < 0 else ttl > 400000)
    return out


KEYS = ["s", "t", "l", "h", "z", "st", "x", "busy", "k1", "k2", "nokey"]


def sequence(src, tport, aport):
    tp, ap = str(tport), str(aport)
    cmds = [
        ["MIGRATE", HOST, tp, "s", "0", "5000"],
        ["MIGRATE", HOST, tp, "t", "0", "5000"],
        ["MIGRATE", HOST, tp, "l", "0", "5000", "COPY"],
        ["MIGRATE", HOST, tp, "l", "0", "5000", "COPY"],            # BUSYKEY
        ["MIGRATE", HOST, tp, "l", "0", "5000", "COPY", "REPLACE"],
        ["MIGRATE", HOST, tp, "h", "3", "5000"],                     # another database
        ["MIGRATE", HOST, tp, "busy", "0", "5000"],                  # the target has it
        ["MIGRATE", HOST, tp, "nokey", "0", "5000"],
        ["MIGRATE", HOST, tp, "", "0", "5000", "KEYS", "z", "st", "nokey"],
        ["MIGRATE", HOST, tp, "x", "0", "5000", "KEYS", "z"],
        ["MIGRATE", HOST, tp, "x", "0", "5000", "BOGUS"],
        ["MIGRATE", HOST, tp, "x", "0", "5000", "AUTH"],
        ["MIGRATE", HOST, tp, "x", "0", "5000", "AUTH2", "u"],
        ["MIGRATE", HOST, tp, "x", "0", "abc"],
        ["MIGRATE", HOST, tp, "x", "abc", "5000"],
        ["MIGRATE", HOST, tp, "x", "0", "-5"],                       # timeout <= 0: 1000
        ["MIGRATE", HOST, ap, "k1", "0", "5000"],                    # NOAUTH
        ["MIGRATE", HOST, ap, "k1", "0", "5000", "AUTH", "wrong"],
        ["MIGRATE", HOST, ap, "k1", "0", "5000", "AUTH", "secret"],
        ["MIGRATE", HOST, ap, "k2", "0", "5000", "AUTH2", "default", "secret"],
        ["MIGRATE", HOST, str(free_port()), "busy", "0", "300"],     # nothing listening
    ]
    out = []
    for c in cmds:
        src.cmd(*c)
        out.append(src.last_raw)
    return out, cmds


def test_migrate_like_redis(launch):
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    seen = {}
    for kind in ("redis", "scaleout"):
        src = launch(kind, f"src-{kind}").conn()
        target = launch("redis", f"target-{kind}")
        auth = launch("redis", f"auth-{kind}", ["--requirepass", "secret"])
        fill(src)
        t = target.conn()
        t.cmd("SET", "busy", "there")
        replies, cmds = sequence(src, target.port, auth.port)
        a = auth.conn()
        a.cmd("AUTH", "secret")
        t.cmd("SELECT", "3")
        h3 = snapshot(t, ["h"])
        t.cmd("SELECT", "0")
        seen[kind] = (replies, snapshot(src, KEYS), snapshot(t, KEYS), h3, snapshot(a, ["k1", "k2"]))
    for i, (r, s) in enumerate(zip(seen["redis"][0], seen["scaleout"][0])):
        assert r == s, (i, cmds[i], r, s)
    assert seen["redis"][1:] == seen["scaleout"][1:]
    # and it did move things
    assert seen["scaleout"][2]["s"][1] == b"hello" and seen["scaleout"][1]["s"][0] == "none"
    assert seen["scaleout"][2]["t"][2] is True  # the TTL went along
    assert seen["scaleout"][4]["k1"][1] == b"1" and seen["scaleout"][4]["k2"][1] == b"2"


def test_redis_migrates_into_scaleout(launch):
    assert REDIS_SERVER
    src = launch("redis", "rsrc").conn()
    dst = launch("scaleout", "kdst")
    fill(src)
    before = snapshot(src, KEYS)
    assert src.cmd("MIGRATE", HOST, str(dst.port), "", "0", "5000", "KEYS", *KEYS[:-1]) == "OK"
    got = snapshot(dst.conn(), KEYS)
    assert got == before
    assert snapshot(src, KEYS) == {k: ("none", 0, -2) for k in KEYS}


def test_migrated_keys_leave_the_replica(launch):
    p = launch("scaleout", "prim")
    r = launch("scaleout", "rep", ["--replicaof", HOST, str(p.port)])
    target = launch("scaleout", "tgt")
    c, rc = p.conn(), r.conn()
    c.cmd("SET", "moving", "v")
    c.cmd("SET", "copied", "v")
    wait_until(lambda: rc.cmd("EXISTS", "moving", "copied") == 2, 10, what="the replica has both keys")
    assert c.cmd("MIGRATE", HOST, str(target.port), "moving", "0", "5000") == "OK"
    assert c.cmd("MIGRATE", HOST, str(target.port), "copied", "0", "5000", "COPY") == "OK"
    wait_until(lambda: rc.cmd("EXISTS", "moving") == 0, 10, what="the DEL reached the replica")
    assert rc.cmd("GET", "copied") == b"v"
    assert target.conn().cmd("MGET", "moving", "copied") == [b"v", b"v"]
