"""
Blocking sorted-set pops: BZPOPMIN BZPOPMAX BZMPOP on the generic blocking
layer (src/kv/blocking.c), against scaleout and redis-server with the same
assertions: immediate pops, timeouts (null array), argument and error order
(BZMPOP checks numkeys, keys and options before its timeout), waiters served
in arrival order, waits that survive other types at the key, RESP3 forms,
inside MULTI (no blocking: the timeout's answer), and across two server
threads.
"""
import pytest

from conftest import wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NUMKEYS = "ERR numkeys should be greater than 0"
COUNT = "ERR count should be greater than 0"
NOT_FLOAT = "ERR timeout is not a float or out of range"
NEGATIVE = "ERR timeout is negative"


def blocked(server):
    return server.info("clients")["blocked_clients"]


def wait_blocked(server, n):
    wait_until(lambda: blocked(server) == n, timeout=5, what=f"{n} blocked clients")


def test_immediate_pops_and_timeouts(server):
    c = server.conn()
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c.cmd("BZPOPMIN", "none", "z", "0") == [b"z", b"a", b"1"]
    assert c.cmd("BZPOPMAX", "z", "0") == [b"z", b"c", b"3"]
    assert c.cmd("BZMPOP", "0", "2", "none", "z", "MIN", "COUNT", "5") == [b"z", [[b"b", b"2"]]]
    assert c.cmd("EXISTS", "z") == 0
    for args in (("BZPOPMIN", "z", "0.01"), ("BZPOPMAX", "z", "y", "0.01"), ("BZMPOP", "0.01", "1", "z", "MAX")):
        assert c.cmd(*args) is None
        assert c.last_raw == b"*-1\r\n"
    assert blocked(server) == 0


def test_argument_errors_in_redis_order(server):
    c = server.conn()
    c.cmd("SET", "s", "x")
    assert c.err("BZMPOP", "x", "0", "z", "MIN") == NUMKEYS
    assert c.err("BZMPOP", "x", "-1", "z", "MIN") == NUMKEYS
    assert c.err("BZMPOP", "x", "1", "z", "FOO") == SYNTAX
    assert c.err("BZMPOP", "x", "2", "z", "MIN") == SYNTAX
    assert c.err("BZMPOP", "x", "9223372036854775807", "z", "MIN") == SYNTAX
    assert c.err("BZMPOP", "x", "1", "z", "MIN", "COUNT", "0") == COUNT
    assert c.err("BZMPOP", "x", "1", "z", "MIN", "COUNT", "1", "COUNT", "1") == SYNTAX
    assert c.err("BZMPOP", "x", "1", "s", "MIN") == NOT_FLOAT   # timeout before the key's type
    assert c.err("BZMPOP", "-1", "1", "z", "MIN") == NEGATIVE
    assert c.err("BZPOPMIN", "z", "-1") == NEGATIVE
    assert c.err("BZPOPMIN", "z", "nan") == NOT_FLOAT
    assert c.err("BZPOPMAX", "s", "x") == NOT_FLOAT
    assert c.err("BZPOPMIN", "none", "s", "0") == WRONGTYPE
    assert c.err("BZMPOP", "0", "2", "none", "s", "MIN") == WRONGTYPE
    assert c.err("BZPOPMIN", "z") == "ERR wrong number of arguments for 'bzpopmin' command"
    assert c.err("BZMPOP", "0", "1", "z") == "ERR wrong number of arguments for 'bzmpop' command"
    assert blocked(server) == 0


def test_waiters_served_in_arrival_order(server):
    waiters = []
    for i, cmd in enumerate([("BZPOPMIN", "z", "0"), ("BZPOPMAX", "other", "z", "0"),
                             ("BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"), ("BZPOPMIN", "z", "0")]):
        w = server.conn()
        w.send_cmd(*cmd)
        waiters.append(w)
        wait_blocked(server, i + 1)
    p = server.conn()
    assert p.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e") == 5
    assert waiters[0].read() == [b"z", b"a", b"1"]
    assert waiters[1].read() == [b"z", b"e", b"5"]
    assert waiters[2].read() == [b"z", [[b"b", b"2"], [b"c", b"3"]]]
    assert waiters[3].read() == [b"z", b"d", b"4"]
    assert p.cmd("EXISTS", "z") == 0
    assert blocked(server) == 0


def test_wait_survives_other_types_and_times_out(server):
    w = server.conn()
    w.send_cmd("BZPOPMIN", "k", "0")
    wait_blocked(server, 1)
    p = server.conn()
    p.cmd("SET", "k", "v")
    p.cmd("DEL", "k")
    p.cmd("RPUSH", "k", "x")
    assert blocked(server) == 1
    p.cmd("DEL", "k")
    p.cmd("ZADD", "k", "7", "m")
    assert w.read() == [b"k", b"m", b"7"]
    t = server.conn()
    t.send_cmd("BZMPOP", "0.05", "1", "k", "MIN")
    assert t.read() is None
    assert t.last_raw == b"*-1\r\n"
    assert blocked(server) == 0


def test_resp3_forms(server):
    c = server.conn()
    c.cmd("HELLO", "3")
    c.cmd("ZADD", "z", "1.5", "a", "2", "b")
    assert c.cmd("BZPOPMIN", "z", "0") == [b"z", b"a", 1.5]
    assert c.last_raw == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n"
    assert c.cmd("BZMPOP", "0", "1", "z", "MAX") == [b"z", [[b"b", 2.0]]]
    assert c.cmd("BZPOPMAX", "z", "0.01") is None
    assert c.last_raw == b"_\r\n"
    w = server.conn()
    w.cmd("HELLO", "3")
    w.send_cmd("BZPOPMAX", "z", "0")
    wait_blocked(server, 1)
    c.cmd("ZADD", "z", "3", "c")
    assert w.read() == [b"z", b"c", 3.0]


def test_in_multi_does_not_block(server):
    c = server.conn()
    assert c.pipeline([("MULTI",), ("BZPOPMIN", "z", "0"), ("BZMPOP", "0", "1", "z", "MIN"), ("EXEC",)]) == \
        ["OK", "QUEUED", "QUEUED", [None, None]]
    assert c.last_raw == b"*2\r\n*-1\r\n*-1\r\n"
    assert blocked(server) == 0


def test_disconnect_while_blocked(server):
    w = server.conn()
    w.send_cmd("BZPOPMIN", "z", "0")
    wait_blocked(server, 1)
    w.close()
    wait_blocked(server, 0)
    p = server.conn()
    p.cmd("ZADD", "z", "1", "a")
    assert p.cmd("ZCARD", "z") == 1


def test_command_table(server):
    c = server.conn()
    info = c.cmd("COMMAND", "INFO", "bzpopmin", "bzmpop")
    assert info[0][1] == -3 and "blocking" in info[0][2] and info[0][3:6] == [1, -2, 1]
    assert info[1][1] == -5 and "blocking" in info[1][2] and "movablekeys" in info[1][2]


@pytest.fixture
def threaded(server_factory, kv_target):
    extra = ("--threads", "2") if kv_target == "scaleout" else ()
    return server_factory(*extra)


def test_across_threads(threaded):
    """Waiters and pushers on separate connections (spread over both threads by
    the kernel): every member added reaches exactly one waiter."""
    n = 10
    waiters = []
    for i in range(n):
        w = threaded.conn()
        if i % 2:
            w.send_cmd("BZPOPMIN", "tz", "0")
        else:
            w.send_cmd("BZMPOP", "0", "1", "tz", "MAX")
        waiters.append(w)
    wait_blocked(threaded, n)
    pushers = [threaded.conn() for _ in range(4)]
    for i in range(n):
        pushers[i % 4].cmd("ZADD", "tz", str(i), f"m{i}")
    got = []
    for i, w in enumerate(waiters):
        r = w.read()
        got.append(r[1] if i % 2 else r[1][0][0])
    assert sorted(got) == sorted(f"m{i}".encode() for i in range(n))
    assert pushers[0].cmd("EXISTS", "tz") == 0
    for w in waiters:
        w.send_cmd("BZPOPMAX", "none", "0.05")
    for w in waiters:
        assert w.read() is None
    assert blocked(threaded) == 0
