"""
List commands: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP (with count) LLEN LRANGE
LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP, the blocking
BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP with several waiting clients (arrival
order, timeouts, BLMOVE chains, keys deleted or changing type while clients
wait, disconnects), also with two server threads; TYPE, OBJECT ENCODING,
RENAME, SCAN TYPE, expiry and the WRONGTYPE errors; extreme integer
arguments; a randomized sequence checked against a Python model with small
nodes (list-max-listpack-size 4) so node splits and merges are exercised.
Every reply is compared with Redis 7.0 byte for byte (the suite runs against
both servers).
"""
import random

import pytest

from conftest import RespError, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
POSITIVE = "ERR value is out of range, must be positive"
LLMIN = "-9223372036854775808"
LLMAX = "9223372036854775807"


def arity(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


def blocked(server):
    return server.info("clients")["blocked_clients"]


def wait_blocked(server, n):
    wait_until(lambda: blocked(server) == n, timeout=5, what=f"{n} blocked clients")


# ---- basic commands --------------------------------------------------------

def test_push_pop_len(c):
    assert c.cmd("LPUSH", "l", "a", "b") == 2
    assert c.cmd("RPUSH", "l", "c", "d") == 4
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"b", b"a", b"c", b"d"]
    assert c.cmd("LLEN", "l") == 4
    assert c.cmd("LLEN", "nokey") == 0
    assert c.cmd("LPOP", "l") == b"b"
    assert c.cmd("RPOP", "l") == b"d"
    assert c.cmd("LPUSHX", "nokey", "x") == 0
    assert c.cmd("RPUSHX", "nokey", "x", "y") == 0
    assert c.cmd("EXISTS", "nokey") == 0
    assert c.cmd("LPUSHX", "l", "x") == 3
    assert c.cmd("RPUSHX", "l", "y", "z") == 5
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"x", b"a", b"c", b"y", b"z"]
    assert c.cmd("LPUSH", "l", "") == 6
    assert c.cmd("LPOP", "l") == b""
    assert c.err("LPUSH", "l") == arity("lpush")
    assert c.err("LLEN") == arity("llen")


def test_pop_count(c):
    c.cmd("RPUSH", "l", "a", "b", "c", "d")
    assert c.cmd("LPOP", "l", "2") == [b"a", b"b"]
    assert c.cmd("LPOP", "l", "0") == []
    assert c.last_raw == b"*0\r\n"
    assert c.cmd("RPOP", "l", LLMAX) == [b"d", b"c"]
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("LPOP", "l") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("LPOP", "l", "0") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.cmd("RPOP", "l", "3") is None
    assert c.last_raw == b"*-1\r\n"
    for bad in ("-1", "abc", LLMIN, "9223372036854775808", ""):
        assert c.err("LPOP", "l", bad) == POSITIVE
    assert c.err("RPOP", "l", "1", "2") == arity("rpop")


def test_lrange_extremes(c):
    c.cmd("RPUSH", "l", *[str(i) for i in range(10)])
    assert c.cmd("LRANGE", "l", LLMIN, LLMAX) == [str(i).encode() for i in range(10)]
    assert c.cmd("LRANGE", "l", "-3", "-1") == [b"7", b"8", b"9"]
    assert c.cmd("LRANGE", "l", "5", "2") == []
    assert c.cmd("LRANGE", "l", LLMAX, LLMAX) == []
    assert c.cmd("LRANGE", "l", LLMIN, LLMIN) == []
    assert c.cmd("LRANGE", "l", "-100", "0") == [b"0"]
    assert c.cmd("LRANGE", "nokey", "0", "-1") == []
    assert c.err("LRANGE", "l", "0", "abc") == NOT_INT
    assert c.err("LRANGE", "l", "0", "9223372036854775808") == NOT_INT
    assert c.err("LRANGE", "nokey", "x", "1") == NOT_INT


def test_lindex_lset(c):
    c.cmd("RPUSH", "l", "a", "b", "c")
    assert c.cmd("LINDEX", "l", "0") == b"a"
    assert c.cmd("LINDEX", "l", "-1") == b"c"
    assert c.cmd("LINDEX", "l", "3") is None
    assert c.cmd("LINDEX", "l", LLMIN) is None
    assert c.cmd("LINDEX", "l", LLMAX) is None
    assert c.cmd("LINDEX", "nokey", "abc") is None  # the key is looked up first
    assert c.err("LINDEX", "l", "abc") == NOT_INT
    assert c.cmd("LSET", "l", "1", "B") == "OK"
    assert c.cmd("LSET", "l", "-1", "C" * 1000) == "OK"
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"a", b"B", b"C" * 1000]
    assert c.err("LSET", "l", "3", "x") == "ERR index out of range"
    assert c.err("LSET", "l", LLMIN, "x") == "ERR index out of range"
    assert c.err("LSET", "l", "x", "x") == NOT_INT
    assert c.err("LSET", "nokey", "0", "x") == "ERR no such key"
    assert c.err("LSET", "nokey", "abc", "x") == "ERR no such key"


def test_linsert(c):
    c.cmd("RPUSH", "l", "a", "b", "c")
    assert c.cmd("LINSERT", "l", "BEFORE", "b", "x") == 4
    assert c.cmd("LINSERT", "l", "after", "c", "y") == 5
    assert c.cmd("LINSERT", "l", "after", "zz", "y") == -1
    assert c.cmd("LINSERT", "nokey", "after", "a", "y") == 0
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"a", b"x", b"b", b"c", b"y"]
    assert c.err("LINSERT", "l", "middle", "a", "b") == SYNTAX
    assert c.err("LINSERT", "nokey", "middle", "a", "b") == SYNTAX


def test_lrem(c):
    c.cmd("RPUSH", "l", "a", "b", "a", "c", "a", "b")
    assert c.cmd("LREM", "l", "-1", "a") == 1
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"a", b"b", b"a", b"c", b"b"]
    assert c.cmd("LREM", "l", "1", "b") == 1
    assert c.cmd("LREM", "l", LLMIN, "a") == 2
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"c", b"b"]
    assert c.cmd("LREM", "l", "0", "zz") == 0
    assert c.cmd("LREM", "l", LLMAX, "c") == 1
    assert c.cmd("LREM", "l", "0", "b") == 1
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("LREM", "nokey", "0", "a") == 0
    assert c.err("LREM", "l", "x", "a") == NOT_INT


def test_ltrim(c):
    c.cmd("RPUSH", "l", *[str(i) for i in range(10)])
    assert c.cmd("LTRIM", "l", "1", "-2") == "OK"
    assert c.cmd("LRANGE", "l", "0", "-1") == [str(i).encode() for i in range(1, 9)]
    assert c.cmd("LTRIM", "l", LLMIN, LLMAX) == "OK"
    assert c.cmd("LLEN", "l") == 8
    assert c.cmd("LTRIM", "l", LLMAX, LLMIN) == "OK"
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("LTRIM", "nokey", "0", "1") == "OK"
    assert c.err("LTRIM", "l", "0", "x") == NOT_INT


def test_lpos(c):
    c.cmd("RPUSH", "l", "a", "b", "c", "b", "a", "b")
    assert c.cmd("LPOS", "l", "b") == 1
    assert c.cmd("LPOS", "l", "b", "RANK", "2") == 3
    assert c.cmd("LPOS", "l", "b", "RANK", "-1") == 5
    assert c.cmd("LPOS", "l", "b", "RANK", LLMIN) == 5
    assert c.cmd("LPOS", "l", "b", "RANK", LLMAX) is None
    assert c.cmd("LPOS", "l", "b", "COUNT", "0") == [1, 3, 5]
    assert c.cmd("LPOS", "l", "b", "COUNT", "2", "RANK", "-1") == [5, 3]
    assert c.cmd("LPOS", "l", "b", "COUNT", LLMAX, "MAXLEN", "4") == [1, 3]
    assert c.cmd("LPOS", "l", "b", "MAXLEN", "1") is None
    assert c.cmd("LPOS", "l", "zz", "COUNT", "1") == []
    assert c.cmd("LPOS", "nokey", "a") is None
    assert c.cmd("LPOS", "nokey", "a", "COUNT", "1") == []
    assert c.err("LPOS", "l", "a", "RANK", "0").startswith("ERR RANK can't be zero")
    assert c.err("LPOS", "l", "a", "RANK", "x") == NOT_INT
    assert c.err("LPOS", "l", "a", "COUNT", "-1") == "ERR COUNT can't be negative"
    assert c.err("LPOS", "l", "a", "COUNT", "x") == "ERR COUNT can't be negative"
    assert c.err("LPOS", "l", "a", "MAXLEN", "-1") == "ERR MAXLEN can't be negative"
    assert c.err("LPOS", "l", "a", "RANK") == SYNTAX
    assert c.err("LPOS", "l", "a", "FOO", "1") == SYNTAX


def test_lmove_rpoplpush(c):
    c.cmd("RPUSH", "src", "a", "b", "c")
    assert c.cmd("LMOVE", "src", "dst", "LEFT", "RIGHT") == b"a"
    assert c.cmd("LMOVE", "src", "dst", "right", "left") == b"c"
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"c", b"a"]
    assert c.cmd("RPOPLPUSH", "src", "dst") == b"b"
    assert c.cmd("EXISTS", "src") == 0
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"b", b"c", b"a"]
    # rotation on one key
    assert c.cmd("LMOVE", "dst", "dst", "LEFT", "RIGHT") == b"b"
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"c", b"a", b"b"]
    c.cmd("RPUSH", "one", "x")
    assert c.cmd("RPOPLPUSH", "one", "one") == b"x"
    assert c.cmd("LRANGE", "one", "0", "-1") == [b"x"]
    assert c.cmd("LMOVE", "nokey", "dst", "LEFT", "LEFT") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.err("LMOVE", "dst", "x", "UP", "LEFT") == SYNTAX
    c.cmd("SET", "str", "v")
    assert c.err("LMOVE", "dst", "str", "LEFT", "LEFT") == WRONGTYPE
    assert c.err("LMOVE", "str", "dst", "LEFT", "LEFT") == WRONGTYPE
    assert c.cmd("LRANGE", "dst", "0", "-1") == [b"c", b"a", b"b"]


def test_lmpop(c):
    c.cmd("RPUSH", "l2", "a", "b", "c")
    assert c.cmd("LMPOP", "2", "nokey", "l2", "LEFT") == [b"l2", [b"a"]]
    assert c.cmd("LMPOP", "2", "nokey", "l2", "RIGHT", "COUNT", LLMAX) == [b"l2", [b"c", b"b"]]
    assert c.cmd("LMPOP", "1", "l2", "LEFT") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.err("LMPOP", "0", "l", "LEFT") == "ERR numkeys should be greater than 0"
    assert c.err("LMPOP", "-1", "l", "LEFT") == "ERR numkeys should be greater than 0"
    assert c.err("LMPOP", LLMAX, "l", "LEFT") == SYNTAX
    assert c.err("LMPOP", "3", "l", "LEFT") == SYNTAX
    assert c.err("LMPOP", "1", "l", "MIDDLE") == SYNTAX
    assert c.err("LMPOP", "1", "l", "LEFT", "COUNT", "0") == "ERR count should be greater than 0"
    assert c.err("LMPOP", "1", "l", "LEFT", "COUNT", "x") == "ERR count should be greater than 0"
    assert c.err("LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2") == SYNTAX
    assert c.err("LMPOP", "1", "l") == arity("lmpop")
    c.cmd("SET", "str", "v")
    assert c.err("LMPOP", "2", "str", "l", "LEFT") == WRONGTYPE


def test_wrongtype_and_generic(c):
    c.cmd("SET", "str", "v")
    for args in (("LPUSH", "str", "a"), ("RPUSHX", "str", "a"), ("LPOP", "str"), ("LLEN", "str"),
                 ("LRANGE", "str", "0", "1"), ("LINDEX", "str", "0"), ("LSET", "str", "0", "a"),
                 ("LINSERT", "str", "BEFORE", "a", "b"), ("LREM", "str", "0", "a"),
                 ("LTRIM", "str", "0", "1"), ("LPOS", "str", "a"), ("BLPOP", "str", "0"),
                 ("BLMPOP", "0", "1", "str", "LEFT")):
        assert c.err(*args) == WRONGTYPE, args
    c.cmd("RPUSH", "l", "a", "b")
    assert c.err("GET", "l") == WRONGTYPE
    assert c.err("HGET", "l", "f") == WRONGTYPE
    assert c.cmd("TYPE", "l") == "list"
    assert c.cmd("OBJECT", "ENCODING", "l") == b"quicklist"
    assert c.cmd("RENAME", "l", "l2") == "OK"
    assert c.cmd("LRANGE", "l2", "0", "-1") == [b"a", b"b"]
    assert c.cmd("SCAN", "0", "TYPE", "list", "COUNT", "100") == [b"0", [b"l2"]]
    assert c.cmd("PEXPIRE", "l2", "1") == 1
    wait_until(lambda: c.cmd("EXISTS", "l2") == 0, what="list expiry")
    assert isinstance(c.cmd("MEMORY", "USAGE", "str"), int)


def test_memory_usage_large_list(c):
    c.cmd("RPUSH", "l", *["x" * 10] * 1000)
    n = c.cmd("MEMORY", "USAGE", "l")
    assert 10000 < n < 40000


def test_config_aliases(r):
    assert r.config_get("list-max-listpack-size") == {"list-max-listpack-size": "-2"}
    assert r.config_get("list-max-ziplist-size") == {"list-max-ziplist-size": "-2"}
    r.config_set("list-max-ziplist-size", "5")
    assert r.config_get("list-max-listpack-size") == {"list-max-listpack-size": "5"}
    r.config_set("list-max-listpack-size", "-2")


def test_redis_py_list_api(r):
    assert r.rpush("q", 1, 2, 3) == 3
    assert r.lpush("q", 0) == 4
    assert r.lrange("q", 0, -1) == [b"0", b"1", b"2", b"3"]
    assert r.lpop("q", 2) == [b"0", b"1"]
    assert r.linsert("q", "BEFORE", "3", "x") == 3
    assert r.lpos("q", "x") == 1
    assert r.lmove("q", "p", "LEFT", "RIGHT") == b"2"
    assert r.rpoplpush("q", "p") == b"3"
    assert r.blpop(["nokey", "p"], timeout=1) == (b"p", b"3")
    assert r.brpop(["p"], timeout=1) == (b"p", b"2")
    assert r.blpop(["p"], timeout=0.05) is None
    assert r.llen("q") == 1


# ---- randomized model check with small nodes --------------------------------

def test_random_ops_against_model(server):
    c = server.conn()
    assert c.cmd("CONFIG", "SET", "list-max-listpack-size", "4") == "OK"
    try:
        rnd = random.Random(1234)
        model = []
        for step in range(3000):
            op = rnd.randrange(9)
            v = str(rnd.randrange(20)).encode() * rnd.choice((1, 1, 1, 30))
            if op <= 1:
                args = [v] * rnd.randrange(1, 4)
                cmd = "LPUSH" if op == 0 else "RPUSH"
                assert c.cmd(cmd, "m", *args) == len(model) + len(args)
                model = (list(reversed(args)) + model) if op == 0 else model + args
            elif op == 2 and model:
                k = rnd.randrange(1, 4)
                exp = model[:k] if rnd.random() < 0.5 else None
                if exp is not None:
                    assert c.cmd("LPOP", "m", str(k)) == exp
                    model = model[k:]
                else:
                    assert c.cmd("RPOP", "m", str(k)) == list(reversed(model[-k:]))
                    model = model[:-k]
            elif op == 3 and model:
                i = rnd.randrange(-len(model), len(model))
                assert c.cmd("LSET", "m", str(i), v) == "OK"
                model[i] = v
            elif op == 4 and model:
                pivot = rnd.choice(model)
                after = rnd.random() < 0.5
                assert c.cmd("LINSERT", "m", "AFTER" if after else "BEFORE", pivot, v) == len(model) + 1
                j = model.index(pivot)
                model.insert(j + 1 if after else j, v)
            elif op == 5 and model:
                cnt = rnd.randrange(-2, 3)
                ele = rnd.choice(model)
                idx = [i for i, x in enumerate(model) if x == ele]
                if cnt < 0:
                    idx = idx[::-1][:-cnt]
                elif cnt > 0:
                    idx = idx[:cnt]
                assert c.cmd("LREM", "m", str(cnt), ele) == len(idx)
                for i in sorted(idx, reverse=True):
                    del model[i]
            elif op == 6 and model:
                a, b = rnd.randrange(-len(model) - 2, len(model) + 2), rnd.randrange(-len(model) - 2, len(model) + 2)
                assert c.cmd("LRANGE", "m", str(a), str(b)) == _py_range(model, a, b)
            elif op == 7 and len(model) > 40:
                a, b = rnd.randrange(0, 5), rnd.randrange(-5, 0)
                assert c.cmd("LTRIM", "m", str(a), str(b)) == "OK"
                model = _py_range(model, a, b)
            elif op == 8 and model:
                i = rnd.randrange(-len(model) - 1, len(model) + 1)
                exp = model[i] if -len(model) <= i < len(model) else None
                assert c.cmd("LINDEX", "m", str(i)) == exp
            assert c.cmd("LLEN", "m") == len(model)
        assert c.cmd("LRANGE", "m", "0", "-1") == model
    finally:
        c.cmd("CONFIG", "SET", "list-max-listpack-size", "-2")


def _py_range(model, a, b):
    n = len(model)
    if a < 0:
        a += n
    if b < 0:
        b += n
    a = max(a, 0)
    if a > b or a >= n:
        return []
    return model[a:min(b, n - 1) + 1]


def test_large_list_pipeline(c):
    n = 20000
    c.pipeline([("RPUSH", "big", *[str(i) for i in range(j, j + 1000)]) for j in range(0, n, 1000)])
    assert c.cmd("LLEN", "big") == n
    assert c.cmd("LINDEX", "big", "12345") == b"12345"
    assert c.cmd("LINDEX", "big", "-1") == str(n - 1).encode()
    assert c.cmd("LRANGE", "big", "9998", "10001") == [b"9998", b"9999", b"10000", b"10001"]
    assert c.cmd("LINSERT", "big", "BEFORE", "10000", "mid") == n + 1
    assert c.cmd("LINDEX", "big", "10000") == b"mid"
    assert c.cmd("LREM", "big", "0", "mid") == 1
    assert c.cmd("LTRIM", "big", "5000", "-5001") == "OK"
    assert c.cmd("LLEN", "big") == n - 10000
    assert c.cmd("LPOS", "big", "14999") == n - 10000 - 1


# ---- blocking ----------------------------------------------------------------

def test_blpop_immediate_and_timeout(server):
    c = server.conn()
    c.cmd("RPUSH", "l", "a", "b")
    assert c.cmd("BLPOP", "nokey", "l", "0") == [b"l", b"a"]
    assert c.cmd("BRPOP", "l", "0") == [b"l", b"b"]
    assert c.cmd("EXISTS", "l") == 0
    assert c.cmd("BLPOP", "l", "0.05") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.cmd("BRPOPLPUSH", "l", "d", "0.01") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.cmd("BLMOVE", "l", "d", "LEFT", "RIGHT", "0.01") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.cmd("BLMPOP", "0.01", "2", "l", "m", "LEFT") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.err("BLPOP", "l", "-1") == "ERR timeout is negative"
    assert c.err("BLPOP", "l", "inf") == "ERR timeout is negative"
    assert c.err("BLPOP", "l", "1e400") == "ERR timeout is negative"
    assert c.err("BLPOP", "l", LLMAX) == "ERR timeout is negative"
    assert c.err("BLPOP", "l", "abc") == "ERR timeout is not a float or out of range"
    assert c.err("BLPOP", "l", "nan") == "ERR timeout is not a float or out of range"
    assert c.err("BLMOVE", "l", "d", "UP", "RIGHT", "0") == SYNTAX
    assert c.err("BLMPOP", "0", "1", "l", "LEFT", "COUNT", "-1") == "ERR count should be greater than 0"
    assert c.err("BLMPOP", "x", "1", "l", "LEFT") == "ERR timeout is not a float or out of range"
    assert c.err("BLPOP", "l") == arity("blpop")
    assert blocked(server) == 0


def test_blocked_clients_served_in_arrival_order(server):
    waiters = []
    for i in range(4):
        w = server.conn()
        w.send_cmd("BLPOP", "q", "other", "0")
        waiters.append(w)
        wait_blocked(server, i + 1)
    p = server.conn()
    assert p.cmd("RPUSH", "q", "1", "2", "3") == 3
    assert [w.read() for w in waiters[:3]] == [[b"q", b"1"], [b"q", b"2"], [b"q", b"3"]]
    assert p.cmd("EXISTS", "q") == 0
    assert blocked(server) == 1
    assert p.cmd("LPUSH", "other", "x") == 1
    assert waiters[3].read() == [b"other", b"x"]
    assert blocked(server) == 0


def test_blpop_timeout_while_others_wait(server):
    a, b = server.conn(), server.conn()
    a.send_cmd("BLPOP", "q", "0.1")
    b.send_cmd("BLPOP", "q", "0")
    assert a.read() is None
    assert a.last_raw == b"*-1\r\n"
    wait_blocked(server, 1)
    p = server.conn()
    p.cmd("RPUSH", "q", "v")
    assert b.read() == [b"q", b"v"]


def test_blocked_client_survives_delete_and_type_change(server):
    w = server.conn()
    w.send_cmd("BRPOP", "k", "0")
    wait_blocked(server, 1)
    p = server.conn()
    assert p.cmd("SET", "k", "string") == "OK"
    assert p.cmd("DEL", "k") == 1
    p.cmd("HSET", "k", "f", "v")
    assert p.cmd("DEL", "k") == 1
    assert blocked(server) == 1
    # a list arriving by RENAME wakes the waiter too
    p.cmd("RPUSH", "tmp", "a", "b")
    assert p.cmd("RENAME", "tmp", "k") == "OK"
    assert w.read() == [b"k", b"b"]
    assert p.cmd("LRANGE", "k", "0", "-1") == [b"a"]
    # the connection keeps working after the wait, pipelined input included
    w.send_cmd("BLPOP", "k2", "0")
    w.send_cmd("PING")
    wait_blocked(server, 1)
    p.cmd("LPUSH", "k2", "z")
    assert w.read() == [b"k2", b"z"]
    assert w.read() == "PONG"


def test_blmove_chain(server):
    a, b = server.conn(), server.conn()
    a.send_cmd("BLMOVE", "c1", "c2", "LEFT", "RIGHT", "0")
    wait_blocked(server, 1)
    b.send_cmd("BRPOPLPUSH", "c2", "c3", "0")
    wait_blocked(server, 2)
    p = server.conn()
    assert p.cmd("LPUSH", "c1", "v") == 1
    assert a.read() == b"v"
    assert b.read() == b"v"
    assert p.cmd("EXISTS", "c1", "c2") == 0
    assert p.cmd("LRANGE", "c3", "0", "-1") == [b"v"]


def test_blmove_wrong_destination_type(server):
    a = server.conn()
    a.send_cmd("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
    wait_blocked(server, 1)
    p = server.conn()
    p.cmd("SET", "dst", "string")
    p.cmd("RPUSH", "src", "x")
    assert a.read() == RespError(WRONGTYPE)
    assert p.cmd("LRANGE", "src", "0", "-1") == [b"x"]
    assert blocked(server) == 0


def test_blmpop_served_with_count(server):
    a = server.conn()
    a.send_cmd("BLMPOP", "0", "2", "x", "y", "RIGHT", "COUNT", "2")
    wait_blocked(server, 1)
    p = server.conn()
    p.cmd("RPUSH", "y", "1", "2", "3")
    assert a.read() == [b"y", [b"3", b"2"]]
    assert p.cmd("LRANGE", "y", "0", "-1") == [b"1"]


def test_blmpop_checks_arguments_before_the_timeout(c):
    # Redis parses numkeys, keys and the direction before the timeout (found
    # by fuzz/kv_diff.py: scaleout answered "timeout is negative" first)
    assert c.cmd("BLMPOP", "-1", "0", "x", "LEFT") == RespError("ERR numkeys should be greater than 0")
    assert c.cmd("BLMPOP", "abc", "0", "x", "LEFT") == RespError("ERR numkeys should be greater than 0")
    assert c.cmd("BLMPOP", "-1", "2", "x", "LEFT") == RespError("ERR syntax error")
    assert c.cmd("BLMPOP", "-1", "1", "x", "BAD") == RespError("ERR syntax error")
    assert c.cmd("BLMPOP", "-1", "1", "x", "LEFT") == RespError("ERR timeout is negative")


def test_disconnect_while_blocked(server):
    a = server.conn()
    a.send_cmd("BLPOP", "q", "0")
    wait_blocked(server, 1)
    a.close()
    wait_blocked(server, 0)
    p = server.conn()
    p.cmd("RPUSH", "q", "kept")
    assert p.cmd("LRANGE", "q", "0", "-1") == [b"kept"]


def test_same_key_twice_and_flush(server):
    a = server.conn()
    a.send_cmd("BLPOP", "q", "q", "0")
    wait_blocked(server, 1)
    p = server.conn()
    assert p.cmd("FLUSHALL") == "OK"
    assert blocked(server) == 1
    p.cmd("RPUSH", "q", "1", "2")
    assert a.read() == [b"q", b"1"]
    assert p.cmd("LRANGE", "q", "0", "-1") == [b"2"]


@pytest.fixture
def threaded(server_factory, kv_target):
    extra = ("--threads", "2") if kv_target == "scaleout" else ()
    return server_factory(*extra)


def test_blocking_across_threads(threaded):
    """Many waiters and pushers on separate connections (spread over both
    threads by the kernel): every pushed element reaches exactly one waiter."""
    n = 12
    waiters = []
    for i in range(n):
        w = threaded.conn()
        w.send_cmd("BLPOP", "tq", "0")
        waiters.append(w)
    wait_blocked(threaded, n)
    pushers = [threaded.conn() for _ in range(4)]
    for i in range(n):
        assert pushers[i % 4].cmd("RPUSH", "tq", str(i)) >= 1
    got = sorted(int(w.read()[1]) for w in waiters)
    assert got == list(range(n))
    assert pushers[0].cmd("EXISTS", "tq") == 0
    # timeouts on every thread
    for w in waiters:
        w.send_cmd("BRPOP", "none", "0.05")
    for w in waiters:
        assert w.read() is None
    assert blocked(threaded) == 0


def test_blmove_ping_pong_across_threads(threaded):
    a, b = threaded.conn(), threaded.conn()
    p = threaded.conn()
    rounds = 50
    for i in range(rounds):
        a.send_cmd("BLMOVE", "ping", "pong", "LEFT", "RIGHT", "5")
        b.send_cmd("BLMOVE", "pong", "ping", "LEFT", "RIGHT", "5")
        if i == 0:
            wait_blocked(threaded, 2)
            p.cmd("RPUSH", "ping", "ball")
        assert a.read() == b"ball"
        assert b.read() == b"ball"
    assert p.cmd("LRANGE", "ping", "0", "-1") == [b"ball"]


def test_eviction_removes_lists_and_sets(server_factory):
    s = server_factory("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
    c = s.conn()
    val = "v" * 100
    for i in range(1000):
        c.pipeline([("RPUSH", f"l:{i}", *[val] * 50), ("SADD", f"s:{i}", *[f"{val}{j}" for j in range(50)])])
    st = s.info("stats")
    assert st["evicted_keys"] > 0
    assert c.cmd("DBSIZE") < 2000
    assert s.info("memory")["used_memory"] < 8 * 1024 * 1024
    # what is left is intact
    keys = c.cmd("SCAN", "0", "TYPE", "list", "COUNT", "1000")[1]
    assert keys and c.cmd("LLEN", keys[0]) == 50


COMMAND_INFO = {
    # name: (arity, first key, last key, step) as Redis 7.0's COMMAND INFO
    "lpush": (-3, 1, 1, 1), "rpush": (-3, 1, 1, 1), "lpushx": (-3, 1, 1, 1), "rpushx": (-3, 1, 1, 1),
    "lpop": (-2, 1, 1, 1), "rpop": (-2, 1, 1, 1), "llen": (2, 1, 1, 1), "lrange": (4, 1, 1, 1),
    "lindex": (3, 1, 1, 1), "lset": (4, 1, 1, 1), "linsert": (5, 1, 1, 1), "lrem": (4, 1, 1, 1),
    "ltrim": (4, 1, 1, 1), "lpos": (-3, 1, 1, 1), "lmove": (5, 1, 2, 1), "rpoplpush": (3, 1, 2, 1),
    "lmpop": (-4, 0, 0, 0), "blpop": (-3, 1, -2, 1), "brpop": (-3, 1, -2, 1), "blmove": (6, 1, 2, 1),
    "brpoplpush": (4, 1, 2, 1), "blmpop": (-5, 0, 0, 0),
    "sadd": (-3, 1, 1, 1), "srem": (-3, 1, 1, 1), "scard": (2, 1, 1, 1), "sismember": (3, 1, 1, 1),
    "smismember": (-3, 1, 1, 1), "smembers": (2, 1, 1, 1), "srandmember": (-2, 1, 1, 1),
    "spop": (-2, 1, 1, 1), "smove": (4, 1, 2, 1), "sinter": (-2, 1, -1, 1), "sintercard": (-3, 0, 0, 0),
    "sunion": (-2, 1, -1, 1), "sdiff": (-2, 1, -1, 1), "sinterstore": (-3, 1, -1, 1),
    "sunionstore": (-3, 1, -1, 1), "sdiffstore": (-3, 1, -1, 1), "sscan": (-3, 1, 1, 1),
}


def test_command_info_and_docs(c):
    names = list(COMMAND_INFO)
    infos = c.cmd("COMMAND", "INFO", *names)
    for name, info in zip(names, infos):
        assert info[0] == name.encode()
        assert (info[1], info[3], info[4], info[5]) == COMMAND_INFO[name], name
        flags = {f if isinstance(f, str) else f.decode() for f in info[2]}
        assert ("blocking" in flags) == name.startswith("b"), name
        assert ("write" in flags) != ("readonly" in flags), name
    docs = c.cmd("COMMAND", "DOCS", "lpush", "sintercard")
    d = dict(zip(docs[0::2], docs[1::2]))
    lp = dict(zip(d[b"lpush"][0::2], d[b"lpush"][1::2]))
    assert lp[b"summary"] == b"Prepend one or multiple elements to a list"
    assert lp[b"since"] == b"1.0.0" and lp[b"group"] == b"list"
    sc = dict(zip(d[b"sintercard"][0::2], d[b"sintercard"][1::2]))
    assert sc[b"since"] == b"7.0.0" and sc[b"group"] == b"set"


def test_resp3_reply_types(server):
    c = server.conn()
    assert isinstance(c.cmd("HELLO", "3"), dict)
    c.cmd("SADD", "s", "1", "2")
    c.cmd("RPUSH", "l", "a")
    assert c.cmd("SMEMBERS", "s") == [b"1", b"2"]
    assert c.last_raw == b"~2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert c.cmd("SUNION", "s", "nokey") == [b"1", b"2"]
    assert c.last_raw.startswith(b"~2\r\n")
    assert c.cmd("SINTER", "s", "nokey") == []
    assert c.last_raw == b"~0\r\n"
    assert c.cmd("SPOP", "s", "5") is not None
    assert c.last_raw.startswith(b"~2\r\n")
    assert c.cmd("LPOP", "nokey", "2") is None
    assert c.last_raw == b"_\r\n"
    assert c.cmd("BLPOP", "nokey", "0.01") is None
    assert c.last_raw == b"_\r\n"
    assert c.cmd("LMPOP", "1", "l", "LEFT") == [b"l", [b"a"]]
    assert c.last_raw == b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"


def test_idle_timeout_spares_blocked_clients(server_factory):
    s = server_factory("--timeout", "1")
    a, idle = s.conn(), s.conn()
    assert idle.cmd("PING") == "PONG"
    a.send_cmd("BLPOP", "q", "0")
    wait_blocked(s, 1)
    idle.read_until_closed(timeout=10)  # the idle client goes after 1 s (and a cron tick)
    assert blocked(s) == 1
    p = s.conn()
    p.cmd("RPUSH", "q", "v")
    assert a.read() == [b"q", b"v"]


def test_client_list_shows_blocked_flag(server):
    a = server.conn()
    assert a.cmd("CLIENT", "SETNAME", "waiter") == "OK"
    a.send_cmd("BLPOP", "q", "0")
    wait_blocked(server, 1)
    p = server.conn()
    line = [l for l in p.cmd("CLIENT", "LIST").decode().splitlines() if "name=waiter" in l][0]
    assert " flags=b " in line and " cmd=blpop " in line
    p.cmd("RPUSH", "q", "x")
    assert a.read() == [b"q", b"x"]
    line = [l for l in p.cmd("CLIENT", "LIST").decode().splitlines() if "name=waiter" in l][0]
    assert " flags=N " in line


def test_client_unblock(server):
    a = server.conn()
    aid = a.cmd("CLIENT", "ID")
    p = server.conn()
    assert p.cmd("CLIENT", "UNBLOCK", str(aid)) == 0
    a.send_cmd("BLPOP", "q", "0")
    wait_blocked(server, 1)
    assert p.cmd("CLIENT", "UNBLOCK", str(aid)) == 1
    assert a.read() is None
    assert a.last_raw == b"*-1\r\n"
    a.send_cmd("BLMOVE", "q", "d", "LEFT", "LEFT", "0")
    wait_blocked(server, 1)
    assert p.cmd("CLIENT", "UNBLOCK", str(aid), "ERROR") == 1
    assert a.read() == RespError("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    assert blocked(server) == 0
    assert a.cmd("PING") == "PONG"
    assert p.err("CLIENT", "UNBLOCK", "abc") == NOT_INT
    assert p.err("CLIENT", "UNBLOCK", "1", "foo") == "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    assert p.err("CLIENT", "UNBLOCK", "1", "timeout", "x") == (
        "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.")
    # nothing is left behind in the key queues: a later push is not lost
    p.cmd("RPUSH", "q", "v")
    assert p.cmd("LRANGE", "q", "0", "-1") == [b"v"]
