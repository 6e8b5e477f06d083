"""
test_kv_notify.py — keyspace notifications (notify-keyspace-events), proven
by difference: for every write command in CASES, a subscriber with
PSUBSCRIBE '__key*__:*' on scaleout kv and on redis-server (both with
notify-keyspace-events KEA) sees the same messages, in the same order, for
the same command sequence. Also: the flag letters and their normalised
CONFIG GET form, "expired" from expiry, "evicted" from eviction.
"""
import time

import pytest

from conftest import REDIS_SERVER, RespConn, RespError, start_server, wait_until

# (name, setup commands, commands whose events are compared)
CASES = [
    ("set", [], [["SET", "k", "v"], ["SET", "k", "v2", "EX", "100"], ["SET", "k", "v3", "KEEPTTL"],
                 ["SET", "k", "v4", "GET"], ["SET", "k", "x", "NX"], ["SET", "n", "x", "XX"],
                 ["SET", "k", "v5", "PX", "100000"]]),
    ("setnx-setex", [], [["SETNX", "a", "1"], ["SETNX", "a", "2"], ["SETEX", "b", "100", "v"],
                         ["PSETEX", "c", "100000", "v"]]),
    ("getset-getdel", [["SET", "k", "v"]], [["GETSET", "k", "w"], ["GETSET", "new", "w"], ["GETDEL", "k"],
                                           ["GETDEL", "missing"]]),
    ("getex", [["SET", "k", "v"]], [["GETEX", "k", "EX", "100"], ["GETEX", "k", "PERSIST"], ["GETEX", "k"],
                                   ["GETEX", "k", "PXAT", "1"]]),
    ("mset", [], [["MSET", "a", "1", "b", "2"], ["MSETNX", "c", "1", "d", "2"], ["MSETNX", "c", "1", "e", "2"]]),
    ("append-incr", [], [["APPEND", "s", "x"], ["APPEND", "s", "y"], ["INCR", "n"], ["DECR", "n"],
                         ["INCRBY", "n", "5"], ["DECRBY", "n", "2"], ["INCRBYFLOAT", "n", "1.5"],
                         ["INCR", "s"]]),
    ("setrange-bits", [["SET", "s", "hello"]], [["SETRANGE", "s", "2", "abc"], ["SETRANGE", "s", "0", ""],
                                               ["SETRANGE", "m", "0", ""], ["SETRANGE", "m", "3", "x"],
                                               ["SETBIT", "b", "7", "1"], ["SETBIT", "b", "7", "1"],
                                               ["BITOP", "AND", "d", "b", "s"], ["BITOP", "OR", "d", "no1", "no2"]]),
    ("del-rename", [["MSET", "a", "1", "b", "2", "c", "3"]],
     [["DEL", "a", "missing"], ["UNLINK", "b"], ["RENAME", "c", "d"], ["SET", "e", "1"], ["RENAMENX", "e", "d"],
      ["RENAMENX", "e", "f"], ["RENAME", "f", "f"], ["RENAME", "f", "d"]]),
    ("copy", [["SET", "a", "1"], ["SET", "b", "2"]], [["COPY", "a", "c"], ["COPY", "a", "b"],
                                                     ["COPY", "a", "b", "REPLACE"]]),
    ("expire", [["MSET", "a", "1", "b", "2", "c", "3"]],
     [["EXPIRE", "a", "100"], ["PEXPIRE", "a", "100000"], ["EXPIREAT", "a", "99999999999"],
      ["PEXPIREAT", "a", "99999999999000"], ["EXPIRE", "a", "100", "NX"], ["EXPIRE", "b", "100", "XX"],
      ["EXPIRE", "b", "-1"], ["PEXPIREAT", "c", "1"], ["PERSIST", "a"], ["PERSIST", "a"], ["EXPIRE", "no", "1"]]),
    ("hash", [], [["HSET", "h", "a", "1", "b", "2"], ["HSETNX", "h", "a", "1"], ["HSETNX", "h", "c", "3"],
                  ["HMSET", "h", "d", "4"], ["HDEL", "h", "a", "zz"], ["HDEL", "h", "zz"], ["HINCRBY", "h", "n", "1"],
                  ["HINCRBYFLOAT", "h", "f", "1.5"], ["HDEL", "h", "b", "c", "d", "n", "f"]]),
    ("list-push-pop", [], [["LPUSH", "l", "a", "b"], ["RPUSH", "l", "c"], ["LPUSHX", "l", "d"],
                           ["LPUSHX", "nol", "d"], ["RPUSHX", "l", "e"], ["LPOP", "l"], ["RPOP", "l", "2"],
                           ["LPOP", "l", "0"], ["LPOP", "l", "5"], ["LPOP", "l"]]),
    ("list-edit", [["RPUSH", "l", "a", "b", "a", "c"]],
     [["LSET", "l", "0", "x"], ["LINSERT", "l", "BEFORE", "b", "y"], ["LINSERT", "l", "AFTER", "zz", "y"],
      ["LREM", "l", "0", "a"], ["LREM", "l", "0", "zz"], ["LTRIM", "l", "0", "1"], ["LTRIM", "l", "5", "6"]]),
    ("list-move", [["RPUSH", "a", "1", "2"]],
     [["LMOVE", "a", "b", "LEFT", "RIGHT"], ["RPOPLPUSH", "a", "b"], ["RPOPLPUSH", "b", "b"],
      ["LMPOP", "1", "b", "LEFT", "COUNT", "5"], ["RPUSH", "c", "1", "2", "3"], ["BLPOP", "c", "0"],
      ["BRPOP", "c", "0"], ["BLMOVE", "c", "d", "LEFT", "LEFT", "0"], ["RPUSH", "e", "1"],
      ["BLMPOP", "0", "1", "e", "RIGHT"], ["BRPOPLPUSH", "d", "f", "0"]]),
    ("set", [], [["SADD", "s", "a", "b", "c"], ["SADD", "s", "a"], ["SREM", "s", "a", "zz"], ["SREM", "s", "zz"],
                 ["SPOP", "s"], ["SADD", "t", "1", "2", "3", "4"], ["SPOP", "t", "2"], ["SPOP", "t", "0"],
                 ["SPOP", "t", "10"], ["SREM", "s", "a", "b", "c"]]),
    ("set-move-store", [["SADD", "a", "1", "2"], ["SADD", "b", "2", "3"]],
     [["SMOVE", "a", "b", "1"], ["SMOVE", "a", "b", "2"], ["SMOVE", "b", "b", "3"], ["SMOVE", "b", "c", "9"],
      ["SINTERSTORE", "d", "b", "c"], ["SUNIONSTORE", "e", "b", "c"], ["SDIFFSTORE", "f", "b", "c"],
      ["SINTERSTORE", "d", "b", "nos"], ["SUNIONSTORE", "e", "nos"], ["SDIFFSTORE", "f", "nos", "b"]]),
    ("zset", [], [["ZADD", "z", "1", "a", "2", "b", "3", "c"], ["ZADD", "z", "1", "a"], ["ZADD", "z", "5", "a"],
                  ["ZADD", "z", "INCR", "1", "a"], ["ZINCRBY", "z", "2", "b"], ["ZADD", "z", "NX", "9", "a"],
                  ["ZREM", "z", "a", "zz"], ["ZREM", "z", "zz"], ["ZADD", "z", "4", "d", "5", "e", "6", "f"],
                  ["ZREMRANGEBYRANK", "z", "0", "0"], ["ZREMRANGEBYSCORE", "z", "4", "4"],
                  ["ZREMRANGEBYLEX", "z", "[z", "[zz"], ["ZPOPMIN", "z"], ["ZPOPMAX", "z", "5"]]),
    ("zset-pop-store", [["ZADD", "a", "1", "x", "2", "y"], ["ZADD", "b", "2", "y", "3", "z"]],
     [["ZMPOP", "1", "a", "MIN"], ["BZPOPMIN", "a", "0"], ["ZADD", "a", "1", "x"], ["BZPOPMAX", "a", "0"],
      ["ZADD", "a", "1", "x"], ["BZMPOP", "0", "1", "a", "MIN", "COUNT", "3"],
      ["ZUNIONSTORE", "u", "2", "a", "b"], ["ZINTERSTORE", "i", "2", "b", "b"], ["ZDIFFSTORE", "d", "1", "b"],
      ["ZRANGESTORE", "r", "b", "0", "-1"], ["ZINTERSTORE", "i", "2", "b", "noz"], ["ZRANGESTORE", "r", "noz", "0", "-1"],
      ["ZDIFFSTORE", "d", "1", "noz"], ["ZREMRANGEBYSCORE", "b", "-inf", "+inf"]]),
    # databases: each event names the database it happened in
    ("databases", [["SET", "a", "1"], ["SET", "b", "2"]],
     [["MOVE", "a", "3"], ["MOVE", "b", "3"], ["COPY", "b", "c", "DB", "5"], ["SELECT", "3"], ["SET", "x", "1"],
      ["EXPIRE", "x", "100"], ["DEL", "a"], ["SWAPDB", "0", "3"], ["SELECT", "0"], ["DEL", "x"]]),
    ("stream", [],
     [["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "NOMKSTREAM", "2-1", "f", "v"],
      ["XADD", "nos", "NOMKSTREAM", "*", "f", "v"], ["XADD", "s", "MAXLEN", "1", "3-1", "f", "v"],
      ["XADD", "s", "MAXLEN", "5", "4-1", "f", "v"], ["XADD", "s", "MINID", "4-0", "5-1", "f", "v"],
      ["XADD", "s", "1-1", "f", "v"], ["XTRIM", "s", "MAXLEN", "10"], ["XTRIM", "s", "MAXLEN", "1"],
      ["XDEL", "s", "1-1"], ["XDEL", "s", "5-1"], ["XSETID", "s", "9-9"], ["XSETID", "s", "1-1"]]),
    ("stream-groups", [["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "2-1", "f", "v"]],
     [["XGROUP", "CREATE", "s", "g", "0"], ["XGROUP", "CREATE", "s", "g", "0"],
      ["XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"], ["XGROUP", "CREATE", "nokey", "g", "$"],
      ["XGROUP", "SETID", "s", "g", "1-1"], ["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
      ["XGROUP", "CREATECONSUMER", "s", "g", "c1"], ["XREADGROUP", "GROUP", "g", "c2", "COUNT", "1", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", "c2", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"],
      ["XCLAIM", "s", "g", "c4", "0", "2-1"], ["XCLAIM", "s", "g", "c4", "0", "2-1"],
      ["XAUTOCLAIM", "s", "g", "c5", "0", "0"], ["XACK", "s", "g", "2-1"],
      ["XGROUP", "DELCONSUMER", "s", "g", "c1"], ["XGROUP", "DELCONSUMER", "s", "g", "nobody"],
      ["XGROUP", "DESTROY", "s", "g"], ["XGROUP", "DESTROY", "s", "g"], ["XGROUP", "DESTROY", "m", "g"]]),
    ("stream-new-events", [],
     [["CONFIG", "SET", "notify-keyspace-events", "KEAn"], ["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "2-1", "f", "v"],
      ["XGROUP", "CREATE", "m", "g", "$", "MKSTREAM"], ["XADD", "t", "MAXLEN", "0", "1-1", "f", "v"]]),
    ("errors-no-events", [["SET", "s", "x"], ["LPUSH", "l", "a"]],
     [["LPUSH", "s", "a"], ["INCR", "l"], ["HSET", "s", "a", "b"], ["SADD", "l", "a"], ["ZADD", "s", "1", "a"],
      ["RENAME", "nokey", "x"], ["LSET", "l", "5", "x"], ["FLUSHALL"]]),
]


def _messages(sub, sentinel):
    """Messages read by sub until the sentinel message on channel 'sentinel'."""
    out = []
    while True:
        m = sub.read()
        assert isinstance(m, list), m
        if m[0] == b"message" and m[1] == b"sentinel":
            assert m[2] == sentinel
            return out
        out.append(tuple(m))


def _run_case(port, setup, cmds, n):
    c = RespConn(port)
    sub = RespConn(port)
    try:
        assert c.cmd("FLUSHALL") == "OK"
        for s in setup:
            r = c.cmd(*s)
            assert not isinstance(r, RespError), (s, r)
        assert c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
        sub.send_cmd("PSUBSCRIBE", "__key*__:*")
        assert sub.read()[0] == b"psubscribe"
        sub.send_cmd("SUBSCRIBE", "sentinel")
        assert sub.read()[0] == b"subscribe"
        replies = [c.cmd(*cmd) for cmd in cmds]
        token = b"end-%d" % n
        c.cmd("PUBLISH", "sentinel", token)
        msgs = _messages(sub, token)
        assert c.cmd("CONFIG", "SET", "notify-keyspace-events", "") == "OK"
        return replies, msgs
    finally:
        c.close()
        sub.close()


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: the differential test needs it (scripts/install-deps.sh)")
    d = tmp_path_factory.mktemp("notify")
    so = start_server("scaleout", d / "scaleout")
    rd = start_server("redis", d / "redis")
    yield so, rd
    so.stop()
    rd.stop()


@pytest.mark.parametrize("name,setup,cmds", CASES, ids=[c[0] for c in CASES])
def test_notifications_match_redis(both, name, setup, cmds):
    so, rd = both
    n = CASES.index((name, setup, cmds))
    got_so = _run_case(so.port, setup, cmds, n)
    got_rd = _run_case(rd.port, setup, cmds, n)
    # SPOP picks at random: its replies are not compared, its events are
    keep = [i for i, cmd in enumerate(cmds) if cmd[0] != "SPOP"]
    assert [got_so[0][i] for i in keep] == [got_rd[0][i] for i in keep], "replies differ"
    assert got_so[1] == got_rd[1]
    if name not in ("errors-no-events",):
        assert got_rd[1], "the case must raise events"


def test_blocked_pop_served_by_push_events(both):
    """A client blocked in BLMOVE/BLPOP, served by another client's push: the
    push's event, then the pop's (and the move's push and del), as Redis."""
    results = []
    for srv in both:
        c = RespConn(srv.port)
        blocked = RespConn(srv.port)
        sub = RespConn(srv.port)
        c.cmd("FLUSHALL")
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub.send_cmd("PSUBSCRIBE", "__keyspace@*")
        sub.read()
        sub.send_cmd("SUBSCRIBE", "sentinel")
        sub.read()
        blocked.send_cmd("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
        wait_until(lambda: b"blocked_clients:1" in c.cmd("INFO", "clients"), what="client blocked")
        assert c.cmd("LPUSH", "src", "x") == 1
        assert blocked.read() == b"x"
        blocked.send_cmd("BLPOP", "q", "0")
        wait_until(lambda: b"blocked_clients:1" in c.cmd("INFO", "clients"), what="client blocked")
        assert c.cmd("RPUSH", "q", "1", "2") == 2
        assert blocked.read() == [b"q", b"1"]
        c.cmd("PUBLISH", "sentinel", "end")
        results.append(_messages(sub, b"end"))
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        for x in (c, blocked, sub):
            x.close()
    assert results[0] == results[1]
    assert results[0][0] == (b"pmessage", b"__keyspace@*", b"__keyspace@0__:src", b"lpush")


def test_blocked_xreadgroup_served_by_xadd_events(both):
    """A new consumer blocked in XREADGROUP, served by XADD: xadd, then the
    consumer's xgroup-createconsumer, as Redis 7.0."""
    results = []
    for srv in both:
        c = RespConn(srv.port)
        blocked = RespConn(srv.port)
        sub = RespConn(srv.port)
        c.cmd("FLUSHALL")
        c.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub.send_cmd("PSUBSCRIBE", "__key*__:*")
        sub.read()
        sub.send_cmd("SUBSCRIBE", "sentinel")
        sub.read()
        blocked.send_cmd("XREADGROUP", "GROUP", "g", "newc", "BLOCK", "0", "STREAMS", "s", ">")
        wait_until(lambda: b"blocked_clients:1" in c.cmd("INFO", "clients"), what="client blocked")
        c.cmd("XADD", "s", "1-1", "f", "v")
        assert blocked.read()[0][0] == b"s"
        c.cmd("PUBLISH", "sentinel", "end")
        results.append(_messages(sub, b"end"))
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        for x in (c, blocked, sub):
            x.close()
    assert results[0] == results[1]
    assert [m[3] for m in results[0] if m[2].startswith(b"__keyspace")] == [b"xadd", b"xgroup-createconsumer"]


@pytest.mark.parametrize("flags", ["KEA", "Kgx$lshzetdnm", "nE", "AnKm", "", "gK", "A", "Ex", "KElg$"])
def test_flag_letters_normalised_as_redis(both, flags):
    got = []
    for srv in both:
        c = RespConn(srv.port)
        assert c.cmd("CONFIG", "SET", "notify-keyspace-events", flags) == "OK"
        got.append(c.cmd("CONFIG", "GET", "notify-keyspace-events"))
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
    assert got[0] == got[1]


def test_bad_flag_letter_error_as_redis(both):
    got = []
    for srv in both:
        c = RespConn(srv.port)
        got.append(c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEQ"))
        got.append(c.cmd("CONFIG", "GET", "notify-keyspace-events"))
        c.close()
    assert got[0] == got[2] and isinstance(got[0], RespError)
    assert got[1] == got[3]


def test_only_asked_classes_and_channels(both):
    """'Kl': keyspace channel only, list events only."""
    for srv in both:
        c = RespConn(srv.port)
        sub = RespConn(srv.port)
        c.cmd("FLUSHALL")
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "Kl")
        sub.send_cmd("PSUBSCRIBE", "__key*__:*")
        sub.read()
        sub.send_cmd("SUBSCRIBE", "sentinel")
        sub.read()
        c.cmd("SET", "s", "1")
        c.cmd("LPUSH", "l", "a")
        c.cmd("DEL", "l")
        c.cmd("PUBLISH", "sentinel", "end")
        assert _messages(sub, b"end") == [(b"pmessage", b"__key*__:*", b"__keyspace@0__:l", b"lpush")]
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
        sub.close()


def test_expired_event(both):
    """Expiry (active or lazy) raises "expired" on both servers."""
    for srv in both:
        c = RespConn(srv.port)
        sub = RespConn(srv.port)
        c.cmd("FLUSHALL")
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "Ex")
        sub.send_cmd("SUBSCRIBE", "__keyevent@0__:expired")
        sub.read()
        c.cmd("SET", "k", "v", "PX", "30")
        wait_until(lambda: c.cmd("EXISTS", "k") == 0, what="key expired")
        assert sub.read() == [b"message", b"__keyevent@0__:expired", b"k"]
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
        sub.close()


def test_evicted_event(tmp_path):
    """A key evicted by maxmemory raises "evicted" (scaleout; Redis's eviction
    needs its own memory figures, the event name is the same)."""
    s = start_server("scaleout", tmp_path / "so", extra=["--maxmemory", "0", "--maxmemory-policy", "allkeys-random"])
    try:
        c = RespConn(s.port)
        sub = RespConn(s.port)
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "Ee")
        sub.send_cmd("SUBSCRIBE", "__keyevent@0__:evicted")
        sub.read()
        for i in range(200):
            c.cmd("SET", "key%d" % i, "x" * 1000)
        used = int(dict(line.split(":", 1) for line in c.cmd("INFO", "memory").decode().split("\r\n")
                        if ":" in line)["used_memory"])
        assert c.cmd("CONFIG", "SET", "maxmemory", str(used - 50000)) == "OK"
        c.cmd("SET", "trigger", "1")
        m = sub.read()
        assert m[0] == b"message" and m[1] == b"__keyevent@0__:evicted" and m[2].startswith(b"key")
        assert s.alive()
    finally:
        s.stop()


READS = [["GET", "nokey"], ["MGET", "a", "nokey", "n2"], ["STRLEN", "nokey"], ["GETRANGE", "nokey", "0", "1"],
         ["EXISTS", "nokey", "a"], ["TYPE", "nokey"], ["TTL", "nokey"], ["PTTL", "nokey"], ["HGET", "nokey", "f"],
         ["HGETALL", "nokey"], ["HLEN", "nokey"], ["LRANGE", "nokey", "0", "-1"], ["LLEN", "nokey"],
         ["SMEMBERS", "nokey"], ["SISMEMBER", "nokey", "x"], ["SCARD", "nokey"], ["ZSCORE", "nokey", "m"],
         ["ZRANGE", "nokey", "0", "-1"], ["ZCARD", "nokey"], ["SUNION", "nokey", "n2"], ["GETBIT", "nokey", "1"],
         ["BITCOUNT", "nokey"], ["OBJECT", "ENCODING", "nokey"], ["SET", "nokey", "v", "GET"], ["GETDEL", "n2"],
         ["INCR", "counter"], ["LPOP", "nokey"], ["APPEND", "nokey2", "x"], ["TOUCH", "nokey", "a"],
         ["ZRANK", "nokey", "m"], ["LINDEX", "nokey", "0"], ["HEXISTS", "nokey", "f"], ["EXPIRE", "n3", "10"]]


def test_keymiss_events_match_redis(both):
    """Class m: "keymiss" for read lookups of absent keys, as Redis 7.0."""
    got = []
    for srv in both:
        c = RespConn(srv.port)
        sub = RespConn(srv.port)
        c.cmd("FLUSHALL")
        c.cmd("SET", "a", "1")
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "Em")
        sub.send_cmd("SUBSCRIBE", "__keyevent@0__:keymiss", "sentinel")
        sub.read(), sub.read()
        per = []
        for cmd in READS:
            c.cmd(*cmd)
            c.cmd("PUBLISH", "sentinel", cmd[0])
            per.append((cmd[0], _messages(sub, cmd[0].encode())))
        got.append(per)
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
        sub.close()
    assert got[0] == got[1]


NEWS = [["SET", "a", "1"], ["SET", "a", "2"], ["LPUSH", "l", "x"], ["LPUSH", "l", "y"], ["RENAME", "a", "b"],
        ["COPY", "b", "c"], ["SETRANGE", "r", "2", "x"], ["SADD", "s", "m"], ["ZADD", "z", "1", "m"],
        ["HSET", "h", "f", "v"], ["INCR", "n"], ["INCRBYFLOAT", "f", "1.5"], ["APPEND", "ap", "x"],
        ["SETBIT", "bits", "3", "1"], ["MSET", "m1", "1", "m2", "2", "a", "3"], ["SMOVE", "s", "s2", "m"],
        ["LMOVE", "l", "l2", "LEFT", "RIGHT"], ["BITOP", "OR", "bo", "bits"], ["SUNIONSTORE", "su", "s2"],
        ["ZUNIONSTORE", "zu", "1", "z"], ["ZRANGESTORE", "zr", "z", "0", "-1"], ["GETSET", "gs", "v"],
        ["SETNX", "sn", "v"], ["HINCRBY", "hi", "f", "1"], ["ZINCRBY", "zi", "1", "m"], ["RPUSH", "rp", "1"],
        ["LINSERT", "l2", "BEFORE", "x", "w"], ["SINTERSTORE", "si", "s2", "s2"], ["PSETEX", "px", "100000", "v"]]


def test_new_key_events_match_redis(both):
    """Class n: "new" when a command creates a key, as Redis 7.0."""
    got = []
    for srv in both:
        c = RespConn(srv.port)
        sub = RespConn(srv.port)
        c.cmd("FLUSHALL")
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "En")
        sub.send_cmd("SUBSCRIBE", "__keyevent@0__:new", "sentinel")
        sub.read(), sub.read()
        per = []
        for cmd in NEWS:
            c.cmd(*cmd)
            c.cmd("PUBLISH", "sentinel", cmd[0])
            per.append((cmd[0], _messages(sub, cmd[0].encode())))
        got.append(per)
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
        sub.close()
    assert got[0] == got[1]


def test_set_with_past_time_events(both):
    """SET k v PXAT <past>: Redis 7.0 stores the key and its expiry removes it
    (set, expire, then expired when the cron or an access gets to it); kv
    deletes at once and raises the same three. Compared once both are gone,
    "expired" by content (its moment differs)."""
    got = []
    for srv in both:
        c = RespConn(srv.port)
        sub = RespConn(srv.port)
        c.cmd("FLUSHALL")
        c.cmd("SET", "k", "old")
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub.send_cmd("PSUBSCRIBE", "__keyevent@0__:*")
        sub.read()
        sub.send_cmd("SUBSCRIBE", "sentinel")
        sub.read()
        assert c.cmd("SET", "k", "v", "PXAT", "1") == "OK"
        assert c.cmd("SET", "n", "v", "EXAT", "1") == "OK"
        wait_until(lambda: c.cmd("EXISTS", "k", "n") == 0, what="keys expired")
        c.cmd("PUBLISH", "sentinel", "end")
        msgs = _messages(sub, b"end")
        got.append(([m for m in msgs if not m[2].endswith(b"expired")],
                    sorted(m for m in msgs if m[2].endswith(b"expired"))))
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
        sub.close()
    assert got[0] == got[1]
    assert len(got[0][1]) == 2
