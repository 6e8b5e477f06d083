"""
Transactions: MULTI EXEC DISCARD WATCH UNWATCH, against scaleout and
redis-server with the same assertions (exact wire bytes where it matters):
queue-time errors (unknown command, arity) give EXECABORT, runtime errors are
per-command replies, nesting and WATCH-inside-MULTI errors, RESET/DISCARD
state, RESP3, blocking commands inside EXEC, and WATCH broken by every kind
of change: writes by another client (also on another server thread), writes
by the same client, expiry, FLUSHALL, RENAME, DEL, and eviction; redis-py's
pipelines and its optimistic-locking retry loop.
"""
import threading

import pytest
import redis

from conftest import RespError, wait_until

EXECABORT = "EXECABORT Transaction discarded because of previous errors."


def test_basic_and_runtime_errors(c):
    assert c.cmd("SET", "k", "1") == "OK"
    assert c.pipeline([("MULTI",), ("INCR", "k"), ("LPUSH", "k", "a"), ("INCR", "k"), ("EXEC",)]) == [
        "OK", "QUEUED", "QUEUED", "QUEUED",
        [2, RespError("WRONGTYPE Operation against a key holding the wrong kind of value"), 3]]
    assert c.last_raw.startswith(b"*3\r\n:2\r\n-WRONGTYPE")
    assert c.cmd("MULTI") == "OK"
    assert c.cmd("EXEC") == []
    assert c.last_raw == b"*0\r\n"


def test_queue_time_errors_abort(c):
    assert c.pipeline([("MULTI",), ("SET", "a"), ("SET", "a", "b"), ("EXEC",)]) == [
        "OK", RespError("ERR wrong number of arguments for 'set' command"), "QUEUED", RespError(EXECABORT)]
    assert c.cmd("EXISTS", "a") == 0
    assert c.pipeline([("MULTI",), ("NOSUCH", "x"), ("PING",), ("EXEC",)])[1:] == [
        RespError("ERR unknown command 'NOSUCH', with args beginning with: 'x' "), "QUEUED", RespError(EXECABORT)]
    # an EXEC refused for its arity ends the transaction with the reason
    assert c.pipeline([("MULTI",), ("SET", "a", "1"), ("EXEC", "x"), ("EXEC",)]) == [
        "OK", "QUEUED",
        RespError("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command"),
        RespError("ERR EXEC without MULTI")]
    assert c.cmd("EXISTS", "a") == 0


def test_state_errors(c):
    assert c.err("EXEC") == "ERR EXEC without MULTI"
    assert c.err("DISCARD") == "ERR DISCARD without MULTI"
    assert c.err("MULTI", "x") == "ERR wrong number of arguments for 'multi' command"
    assert c.err("WATCH") == "ERR wrong number of arguments for 'watch' command"
    assert c.err("UNWATCH", "x") == "ERR wrong number of arguments for 'unwatch' command"
    # nested MULTI and WATCH inside MULTI are errors that do not abort
    assert c.pipeline([("MULTI",), ("MULTI",), ("WATCH", "x"), ("PING",), ("EXEC",)]) == [
        "OK", RespError("ERR MULTI calls can not be nested"), RespError("ERR WATCH inside MULTI is not allowed"),
        "QUEUED", ["PONG"]]
    # DISCARD and RESET leave MULTI and drop the queue
    assert c.pipeline([("MULTI",), ("SET", "d", "1"), ("DISCARD",), ("EXEC",)]) == [
        "OK", "QUEUED", "OK", RespError("ERR EXEC without MULTI")]
    assert c.pipeline([("MULTI",), ("SET", "d", "1"), ("RESET",), ("EXEC",)]) == [
        "OK", "QUEUED", "RESET", RespError("ERR EXEC without MULTI")]
    assert c.cmd("EXISTS", "d") == 0
    # UNWATCH inside MULTI is queued
    assert c.pipeline([("MULTI",), ("UNWATCH",), ("EXEC",)]) == ["OK", "QUEUED", ["OK"]]


def test_blocking_commands_inside_exec(c):
    replies = c.pipeline([("MULTI",), ("BLPOP", "l", "0"), ("BLMOVE", "l", "m", "LEFT", "LEFT", "0"),
                          ("BRPOPLPUSH", "l", "m", "0"), ("BLMPOP", "0", "1", "l", "LEFT"),
                          ("BZPOPMIN", "z", "0"), ("EXEC",)])
    assert replies[-1] == [None] * 5
    assert c.last_raw == b"*5\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n*-1\r\n"
    c.cmd("RPUSH", "l", "v")
    assert c.pipeline([("MULTI",), ("BLPOP", "l", "0"), ("EXEC",)])[-1] == [[b"l", b"v"]]


def test_resp3(c):
    c.cmd("HELLO", "3")
    assert c.pipeline([("MULTI",), ("SET", "k", "v"), ("GET", "k"), ("BLPOP", "none", "0"), ("EXEC",)])[-1] == [
        "OK", b"v", None]
    assert c.last_raw == b"*3\r\n+OK\r\n$1\r\nv\r\n_\r\n"
    c.cmd("WATCH", "k")
    c.cmd("SET", "k", "w")
    assert c.pipeline([("MULTI",), ("GET", "k"), ("EXEC",)])[-1] is None
    assert c.last_raw == b"_\r\n"


def watched_exec(c, key):
    return c.pipeline([("MULTI",), ("PING",), ("EXEC",)])[-1]


def test_watch_broken_by_other_client(server):
    a, b = server.conn(), server.conn()
    a.cmd("SET", "k", "1")
    a.cmd("WATCH", "k")
    b.cmd("SET", "k", "2")
    assert watched_exec(a, "k") is None
    assert a.last_raw == b"*-1\r\n"
    # after EXEC nothing is watched any more
    b.cmd("SET", "k", "3")
    assert watched_exec(a, "k") == ["PONG"]
    # an untouched watch and UNWATCH
    a.cmd("WATCH", "k")
    assert watched_exec(a, "k") == ["PONG"]
    a.cmd("WATCH", "k")
    a.cmd("UNWATCH")
    b.cmd("SET", "k", "4")
    assert watched_exec(a, "k") == ["PONG"]


@pytest.mark.parametrize("change,breaks", [
    (("SET", "k", "1"), True),         # same value still counts
    (("APPEND", "k", "x"), True),
    (("DEL", "k"), True),
    (("EXPIRE", "k", "100"), True),
    (("PERSIST", "k"), False),         # no TTL: no change
    (("RENAME", "k", "k2"), True),
    (("RENAME", "o", "k"), True),
    (("SETRANGE", "k", "0", "z"), True),
    (("GET", "k"), False),
    (("SET", "other", "1"), False),
    (("FLUSHALL",), True),
    (("FLUSHDB",), True),
])
def test_watch_string_changes(server, change, breaks):
    a, b = server.conn(), server.conn()
    a.cmd("SET", "k", "1")
    a.cmd("SET", "o", "1")
    a.cmd("WATCH", "k")
    b.cmd(*change)
    assert (watched_exec(a, "k") is None) == breaks


@pytest.mark.parametrize("setup,change,breaks", [
    (("RPUSH", "k", "a"), ("RPUSH", "k", "b"), True),
    (("RPUSH", "k", "a"), ("LPOP", "k"), True),
    (("RPUSH", "k", "a", "b"), ("LMOVE", "k", "k", "LEFT", "RIGHT"), True),
    (("RPUSH", "k", "a"), ("LREM", "k", "0", "zz"), False),
    (("RPUSH", "k", "a"), ("LSET", "k", "0", "a"), True),
    (("SADD", "k", "a"), ("SADD", "k", "a"), False),
    (("SADD", "k", "a"), ("SADD", "k", "b"), True),
    (("SADD", "k", "a"), ("SREM", "k", "zz"), False),
    (("SADD", "k", "a", "b"), ("SPOP", "k"), True),
    (("SADD", "k", "a"), ("SMOVE", "k", "d", "a"), True),
    (("HSET", "k", "f", "v"), ("HSET", "k", "f", "v"), True),
    (("HSET", "k", "f", "v"), ("HDEL", "k", "zz"), False),
    (("HSET", "k", "f", "1"), ("HINCRBY", "k", "f", "1"), True),
    (("ZADD", "k", "1", "a"), ("ZADD", "k", "1", "a"), False),
    (("ZADD", "k", "1", "a"), ("ZADD", "k", "2", "a"), True),
    (("ZADD", "k", "1", "a", "2", "b"), ("ZPOPMIN", "k"), True),
    (("ZADD", "k", "1", "a"), ("ZREMRANGEBYSCORE", "k", "5", "6"), False),
    (("ZADD", "k", "1", "a"), ("ZUNIONSTORE", "k", "1", "k"), True),
    (("SET", "n", "1"), ("INCR", "k"), True),
])
def test_watch_container_changes(server, setup, change, breaks):
    a, b = server.conn(), server.conn()
    a.cmd(*setup)
    a.cmd("WATCH", "k")
    b.cmd(*change)
    assert (watched_exec(a, "k") is None) == breaks


def test_watch_flush_of_absent_key_is_no_change(c):
    c.cmd("WATCH", "absent")
    c.cmd("FLUSHALL")
    assert watched_exec(c, "absent") == ["PONG"]


def test_watch_broken_by_own_write(c):
    c.cmd("SET", "k", "1")
    c.cmd("WATCH", "k")
    c.cmd("INCR", "k")
    assert watched_exec(c, "k") is None


def test_watch_broken_by_expiry(server):
    a = server.conn()
    a.cmd("SET", "k", "1", "PX", "30")
    a.cmd("WATCH", "k")
    wait_until(lambda: server.conn().cmd("PTTL", "k") == -2, timeout=5, what="expiry")
    assert watched_exec(a, "k") is None
    # a key already expired when WATCHed is no change when it goes
    a.cmd("SET", "k", "1", "PX", "1")
    wait_until(lambda: a.cmd("PTTL", "k") == -2, timeout=5, what="expiry")
    a.cmd("WATCH", "k")
    assert watched_exec(a, "k") == ["PONG"]


def test_watch_broken_by_expiry_not_yet_reclaimed(server):
    """The key's TTL passes between WATCH and EXEC; nobody touches it."""
    a = server.conn()
    a.cmd("SET", "k", "1", "PX", "50")
    a.cmd("WATCH", "k")
    b = server.conn()
    wait_until(lambda: b.cmd("EXISTS", "k") == 0, timeout=5, what="expiry")
    assert watched_exec(a, "k") is None


def test_watch_broken_by_eviction(server_factory):
    s = server_factory("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-random")
    a, b = s.conn(), s.conn()
    a.cmd("SET", "w", "x" * 1000)
    a.cmd("WATCH", "w")
    big = "y" * 10000
    i = 0
    while b.cmd("EXISTS", "w") == 1:
        b.pipeline([("SET", f"f{i + j}", big) for j in range(100)])
        i += 100
        assert i < 20000, "key never evicted"
    assert watched_exec(a, "w") is None


def test_client_list_and_close_mid_transaction(server):
    a, b = server.conn(), server.conn()
    a.cmd("CLIENT", "SETNAME", "tx")
    a.cmd("WATCH", "k")
    a.cmd("MULTI")
    a.cmd("SET", "k", "1")
    line = [ln for ln in b.cmd("CLIENT", "LIST").decode().splitlines() if "name=tx" in ln][0]
    assert " flags=x " in line and " multi=1 " in line
    a.close()
    wait_until(lambda: b"name=tx" not in b.cmd("CLIENT", "LIST"), timeout=5, what="client gone")
    b.cmd("SET", "k", "2")   # the closed client's watch is gone with it
    assert b.cmd("GET", "k") == b"2"


def test_redis_py_pipeline(r):
    with r.pipeline(transaction=True) as p:
        p.set("a", 1).incr("a").lpush("l", "x").get("a")
        assert p.execute() == [True, 2, 1, b"2"]
    with r.pipeline(transaction=True) as p:
        p.set("a", "x").incr("a").get("a")
        res = p.execute(raise_on_error=False)
        assert res[0] is True and isinstance(res[1], redis.ResponseError) and res[2] == b"x"


def optimistic_incr(r, key, n):
    for _ in range(n):
        while True:
            with r.pipeline() as p:
                try:
                    p.watch(key)
                    v = int(p.get(key) or 0)
                    p.multi()
                    p.set(key, v + 1)
                    p.execute()
                    break
                except redis.WatchError:
                    continue


@pytest.fixture
def threaded(server_factory, kv_target):
    extra = ("--threads", "2") if kv_target == "scaleout" else ()
    return server_factory(*extra)


def test_optimistic_locking_across_threads(threaded):
    """redis-py's WATCH/MULTI retry loop from 6 clients (spread over both server
    threads by the kernel): no increment is lost."""
    clients = [threaded.client() for _ in range(6)]
    ths = [threading.Thread(target=optimistic_incr, args=(cl, "counter", 40)) for cl in clients]
    for t in ths:
        t.start()
    for t in ths:
        t.join(60)
    assert int(clients[0].get("counter")) == 240


def test_watch_broken_from_every_connection(threaded):
    """With 8 writer connections over two threads, a WATCH is broken by each
    of them (so by one on the other thread unless the kernel put all on one)."""
    a = threaded.conn()
    writers = [threaded.conn() for _ in range(8)]
    for w in writers:
        a.cmd("WATCH", "k")
        w.cmd("INCR", "k")
        assert watched_exec(a, "k") is None
    assert a.cmd("GET", "k") == b"8"


def test_exec_is_atomic_across_threads(threaded):
    """Transactions of pairs from 4 clients in parallel: the pairs never
    interleave."""
    def worker(cl, tag):
        for i in range(50):
            with cl.pipeline(transaction=True) as p:
                p.rpush("log", f"{tag}a{i}").rpush("log", f"{tag}b{i}")
                p.execute()
    clients = [threaded.client() for _ in range(4)]
    ths = [threading.Thread(target=worker, args=(cl, str(t))) for t, cl in enumerate(clients)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(60)
    log = [x.decode() for x in clients[0].lrange("log", 0, -1)]
    assert len(log) == 400
    for j in range(0, 400, 2):
        first, second = log[j], log[j + 1]
        assert first[0] == second[0] and first[2:] == second[2:] and first[1] == "a" and second[1] == "b"
