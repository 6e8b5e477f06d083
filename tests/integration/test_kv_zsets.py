"""
Sorted-set commands: ZADD (NX XX GT LT CH INCR) ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZRANGE (BYSCORE BYLEX REV LIMIT) ZRANGESTORE
ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX
ZREMRANGEBY* ZPOPMIN ZPOPMAX ZMPOP ZRANDMEMBER ZUNION ZINTER ZDIFF (+STORE,
WEIGHTS, AGGREGATE) ZINTERCARD ZSCAN, in both encodings (listpack / skiplist)
and across the conversion thresholds.

Every test runs against scaleout and redis-server with the same assertions,
most of them on the exact reply bytes (c.last_raw), RESP2 and RESP3. The last
test starts one server of each kind itself and compares the raw replies of
thousands of random commands byte for byte.
"""
import random

import pytest

from conftest import REDIS_SERVER, SCALEOUT_BIN, RespConn, start_server, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
RANGE_ERR = "ERR min or max is not a float"
LEX_ERR = "ERR min or max not valid string range item"
SYNTAX = "ERR syntax error"
NAN_ERR = "ERR resulting score is not a number (NaN)"
LLONG_MIN = "-9223372036854775808"
LLONG_MAX = "9223372036854775807"


def arity(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


def set_thresholds(c, entries, value):
    assert c.cmd("CONFIG", "SET", "zset-max-listpack-entries", str(entries)) == "OK"
    assert c.cmd("CONFIG", "SET", "zset-max-listpack-value", str(value)) == "OK"


@pytest.fixture
def c3(server):
    """A raw connection switched to RESP3."""
    c = server.conn()
    c.cmd("HELLO", "3")
    return c


# ---------------------------------------------------------------------------
# ZADD ZINCRBY ZSCORE ZMSCORE ZCARD ZREM
# ---------------------------------------------------------------------------

def test_zadd_basic(c):
    assert c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c") == 3
    assert c.cmd("ZADD", "z", "10", "a", "4", "d") == 1
    assert c.cmd("ZCARD", "z") == 4
    assert c.cmd("ZCARD", "nokey") == 0
    assert c.cmd("ZSCORE", "z", "a") == b"10"
    assert c.cmd("ZSCORE", "z", "nope") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("ZMSCORE", "z", "a", "nope", "b") == [b"10", None, b"2"]
    assert c.cmd("ZMSCORE", "nokey", "a") == [None]
    assert c.cmd("TYPE", "z") == "zset"
    assert c.err("ZADD", "z", "1") == arity("zadd")
    assert c.err("ZADD", "z", "1", "a", "2") == SYNTAX
    assert c.err("ZADD", "z", "x", "a") == NOT_FLOAT
    assert c.err("ZADD", "z", "nan", "a") == NOT_FLOAT
    assert c.err("ZADD", "z", " 1", "a") == NOT_FLOAT
    assert c.err("ZADD", "z", "1e400", "a") == NOT_FLOAT
    # a bad score anywhere: nothing is added
    assert c.err("ZADD", "z", "5", "new", "bad", "x") == NOT_FLOAT
    assert c.cmd("ZSCORE", "z", "new") is None


def test_zadd_options(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b")
    assert c.cmd("ZADD", "z", "NX", "5", "a", "3", "c") == 1
    assert c.cmd("ZSCORE", "z", "a") == b"1"
    assert c.cmd("ZADD", "z", "XX", "5", "a", "9", "new") == 0
    assert c.cmd("ZSCORE", "z", "a") == b"5"
    assert c.cmd("ZSCORE", "z", "new") is None
    assert c.cmd("ZADD", "z", "XX", "CH", "6", "a", "2", "b") == 1
    assert c.cmd("ZADD", "z", "GT", "CH", "1", "a", "7", "b") == 1
    assert c.cmd("ZMSCORE", "z", "a", "b") == [b"6", b"7"]
    assert c.cmd("ZADD", "z", "LT", "CH", "8", "a", "0", "b", "1", "d") == 2
    assert c.cmd("ZMSCORE", "z", "a", "b", "d") == [b"6", b"0", b"1"]
    assert c.cmd("ZADD", "nokey", "XX", "1", "a") == 0
    assert c.cmd("EXISTS", "nokey") == 0
    assert c.err("ZADD", "z", "NX", "XX", "1", "a") == \
        "ERR XX and NX options at the same time are not compatible"
    for opts in (("GT", "LT"), ("NX", "GT"), ("NX", "LT")):
        assert c.err("ZADD", "z", *opts, "1", "a") == \
            "ERR GT, LT, and/or NX options at the same time are not compatible"
    assert c.err("ZADD", "z", "INCR", "1", "a", "2", "b") == \
        "ERR INCR option supports a single increment-element pair"


def test_zadd_incr_zincrby(c, c3):
    assert c.cmd("ZINCRBY", "z", "2.5", "a") == b"2.5"
    assert c.cmd("ZADD", "z", "INCR", "1", "a") == b"3.5"
    assert c.cmd("ZADD", "z", "INCR", "NX", "1", "a") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("ZADD", "z", "INCR", "XX", "1", "nope") is None
    assert c.cmd("ZADD", "z", "INCR", "GT", "-1", "a") is None
    assert c3.cmd("ZADD", "z", "INCR", "NX", "1", "a") is None
    assert c3.last_raw == b"_\r\n"
    assert c3.cmd("ZINCRBY", "z", "0.1", "a") == 3.6
    assert c3.last_raw == b",3.6000000000000001\r\n"
    assert c.cmd("ZADD", "z", "inf", "i") == 1
    assert c.err("ZINCRBY", "z", "-inf", "i") == NAN_ERR
    assert c.err("ZADD", "z", "INCR", "-inf", "i") == NAN_ERR
    assert c.cmd("ZSCORE", "z", "i") == b"inf"
    assert c.err("ZINCRBY", "z", "x", "a") == NOT_FLOAT
    assert c.err("ZINCRBY", "z", "nan", "a") == NOT_FLOAT
    assert c.err("ZINCRBY", "z", "1") == arity("zincrby")


def test_score_formatting(c, c3):
    scores = ["0.1", "1.5", "-0.75", "1e20", "123456789.123", "3", "-inf", "+inf",
              "0x10", "1e-310", "4503599627370497", "-2.5e-5"]
    for i, s in enumerate(scores):
        assert c.cmd("ZADD", "z", s, f"m{i}") == 1
    expect = [b"0.10000000000000001", b"1.5", b"-0.75", b"1e+20", b"123456789.123", b"3",
              b"-inf", b"inf", b"16", b"9.9999999999999694e-311", b"4503599627370497",
              b"-2.5000000000000001e-05"]
    for i, e in enumerate(expect):
        assert c.cmd("ZSCORE", "z", f"m{i}") == e, scores[i]
        c3.cmd("ZSCORE", "z", f"m{i}")
        assert c3.last_raw == b"," + e + b"\r\n"
    # the same in a skiplist
    set_thresholds(c, 0, 64)
    try:
        for i, s in enumerate(scores):
            c.cmd("ZADD", "big", s, f"m{i}")
        assert c.cmd("OBJECT", "ENCODING", "big") == b"skiplist"
        for i, e in enumerate(expect):
            assert c.cmd("ZSCORE", "big", f"m{i}") == e
    finally:
        set_thresholds(c, 128, 64)


def test_negative_zero(c):
    # a listpack keeps -0 as the integer 0; a skiplist keeps the sign
    c.cmd("ZADD", "small", "-0", "a")
    assert c.cmd("ZSCORE", "small", "a") == b"0"
    long_member = "x" * 65
    c.cmd("ZADD", "big", "-0", long_member)
    assert c.cmd("OBJECT", "ENCODING", "big") == b"skiplist"
    assert c.cmd("ZSCORE", "big", long_member) == b"-0"
    assert c.cmd("ZUNION", "1", "small", "WEIGHTS", "-1", "WITHSCORES") == [b"a", b"-0"]
    assert c.cmd("ZUNIONSTORE", "d", "1", "small", "WEIGHTS", "-1") == 1
    assert c.cmd("ZSCORE", "d", "a") == b"0"


def test_zrem(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c.cmd("ZREM", "z", "a", "nope", "a") == 1
    assert c.cmd("ZREM", "nokey", "a") == 0
    assert c.cmd("ZREM", "z", "b", "c") == 2
    assert c.cmd("EXISTS", "z") == 0
    assert c.err("ZREM", "z") == arity("zrem")


# ---------------------------------------------------------------------------
# ranks, counts, ranges
# ---------------------------------------------------------------------------

def fill(c, key="z", n=6):
    args = []
    for i in range(n):
        args += [str(i + 1), chr(ord("a") + i)]
    c.cmd("ZADD", key, *args)


def test_zrank_zcount_zlexcount(c, c3):
    fill(c)
    assert c.cmd("ZRANK", "z", "a") == 0
    assert c.cmd("ZREVRANK", "z", "a") == 5
    assert c.cmd("ZRANK", "z", "nope") is None
    assert c3.cmd("ZRANK", "nokey", "a") is None
    assert c3.last_raw == b"_\r\n"
    assert c.cmd("ZCOUNT", "z", "-inf", "+inf") == 6
    assert c.cmd("ZCOUNT", "z", "(1", "3") == 2
    assert c.cmd("ZCOUNT", "z", "(1", "(2") == 0
    assert c.cmd("ZCOUNT", "z", "5", "1") == 0
    assert c.cmd("ZCOUNT", "nokey", "0", "1") == 0
    assert c.err("ZCOUNT", "z", "x", "1") == RANGE_ERR
    assert c.err("ZCOUNT", "z", "(nan", "1") == RANGE_ERR
    c.cmd("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d")
    assert c.cmd("ZLEXCOUNT", "l", "-", "+") == 4
    assert c.cmd("ZLEXCOUNT", "l", "[b", "(d") == 2
    assert c.cmd("ZLEXCOUNT", "l", "+", "-") == 0
    assert c.err("ZLEXCOUNT", "l", "b", "[c") == LEX_ERR
    assert c.err("ZLEXCOUNT", "l", "[a", "+x") == LEX_ERR
    assert c.err("ZLEXCOUNT", "l", "", "+") == LEX_ERR


def test_zrange_by_rank(c, c3):
    fill(c)
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"a", b"b", b"c", b"d", b"e", b"f"]
    assert c.cmd("ZRANGE", "z", "-2", "-1", "WITHSCORES") == [b"e", b"5", b"f", b"6"]
    assert c.last_raw == b"*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n"
    assert c.cmd("ZRANGE", "z", "0", "1", "REV") == [b"f", b"e"]
    assert c.cmd("ZREVRANGE", "z", "0", "1", "WITHSCORES") == [b"f", b"6", b"e", b"5"]
    assert c.cmd("ZRANGE", "z", "4", "2") == []
    assert c.cmd("ZRANGE", "z", "10", "20") == []
    assert c.cmd("ZRANGE", "nokey", "0", "-1") == []
    assert c.cmd("ZRANGE", "z", LLONG_MIN, LLONG_MAX) == [b"a", b"b", b"c", b"d", b"e", b"f"]
    assert c.cmd("ZRANGE", "z", LLONG_MAX, LLONG_MIN) == []
    c3.cmd("ZRANGE", "z", "0", "0", "WITHSCORES")
    assert c3.last_raw == b"*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    assert c.err("ZRANGE", "z", "0", "x") == NOT_INT
    assert c.err("ZRANGE", "z", "0", "9223372036854775808") == NOT_INT
    assert c.err("ZRANGE", "z", "0", "1", "LIMIT", "0", "1") == \
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert c.err("ZRANGE", "z", "0", "1", "LIMIT", "0") == SYNTAX
    assert c.err("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX") == SYNTAX
    assert c.err("ZRANGE", "z", "0", "1", "FOO") == SYNTAX
    assert c.err("ZREVRANGE", "z", "0", "1", "REV") == SYNTAX
    assert c.err("ZRANGE", "z", "0") == arity("zrange")


def test_zrange_by_score(c, c3):
    fill(c)
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf") == [b"a", b"b", b"c", b"d", b"e", b"f"]
    assert c.cmd("ZRANGEBYSCORE", "z", "(1", "3", "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2") == [b"b", b"c"]
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1") == \
        [b"b", b"c", b"d", b"e", b"f"]
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2") == []
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", LLONG_MAX, LLONG_MAX) == []
    assert c.cmd("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", LLONG_MIN) == \
        [b"a", b"b", b"c", b"d", b"e", b"f"]
    assert c.cmd("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2") == [b"e", b"d"]
    assert c.cmd("ZREVRANGEBYSCORE", "z", "(5", "(2", "WITHSCORES") == [b"d", b"4", b"c", b"3"]
    assert c.cmd("ZRANGE", "z", "(2", "4", "BYSCORE", "WITHSCORES") == [b"c", b"3", b"d", b"4"]
    assert c.cmd("ZRANGE", "z", "4", "(2", "BYSCORE", "REV", "LIMIT", "0", "1") == [b"d"]
    # Redis's strtod rules for range ends: leading space and "(" alone are accepted
    assert c.cmd("ZRANGEBYSCORE", "z", " 2", "(", "WITHSCORES") == []
    assert c.cmd("ZRANGEBYSCORE", "z", "(", " 2") == [b"a", b"b"]
    c3.cmd("ZRANGEBYSCORE", "z", "6", "6", "WITHSCORES")
    assert c3.last_raw == b"*1\r\n*2\r\n$1\r\nf\r\n,6\r\n"
    assert c.err("ZRANGEBYSCORE", "z", "a", "1") == RANGE_ERR
    assert c.err("ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "x", "1") == NOT_INT
    assert c.err("ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "1") == SYNTAX
    assert c.err("ZRANGEBYSCORE", "z", "0", "1", "REV") == SYNTAX


def test_zrange_by_lex(c):
    c.cmd("ZADD", "l", *sum([["0", m] for m in ["a", "b", "c", "d", "e", "f", "g"]], []))
    assert c.cmd("ZRANGEBYLEX", "l", "-", "+") == [b"a", b"b", b"c", b"d", b"e", b"f", b"g"]
    assert c.cmd("ZRANGEBYLEX", "l", "[b", "(e") == [b"b", b"c", b"d"]
    assert c.cmd("ZRANGEBYLEX", "l", "(b", "[e", "LIMIT", "1", "2") == [b"d", b"e"]
    assert c.cmd("ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "0", "3") == [b"g", b"f", b"e"]
    assert c.cmd("ZREVRANGEBYLEX", "l", "[e", "(b") == [b"e", b"d", b"c"]
    assert c.cmd("ZRANGE", "l", "[e", "(b", "BYLEX", "REV") == [b"e", b"d", b"c"]
    assert c.cmd("ZRANGE", "l", "-", "[b", "BYLEX") == [b"a", b"b"]
    assert c.err("ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES") == \
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    assert c.err("ZRANGEBYLEX", "l", "-", "+", "WITHSCORES") == \
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
    assert c.err("ZRANGEBYLEX", "l", "b", "c") == LEX_ERR
    assert c.err("ZRANGEBYLEX", "l", "-a", "+") == LEX_ERR


def test_zremrange(c):
    fill(c, n=10)
    assert c.cmd("ZREMRANGEBYRANK", "z", "0", "1") == 2
    assert c.cmd("ZREMRANGEBYRANK", "z", "-1", "-1") == 1
    assert c.cmd("ZREMRANGEBYRANK", "z", "5", "1") == 0
    assert c.cmd("ZREMRANGEBYRANK", "z", LLONG_MIN, "0") == 1
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"d", b"e", b"f", b"g", b"h", b"i"]
    assert c.cmd("ZREMRANGEBYSCORE", "z", "(4", "6") == 2
    assert c.cmd("ZREMRANGEBYSCORE", "z", "100", "200") == 0
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"d", b"g", b"h", b"i"]
    assert c.cmd("ZREMRANGEBYLEX", "z", "[g", "[h") == 2
    assert c.cmd("ZREMRANGEBYSCORE", "z", "-inf", "+inf") == 2
    assert c.cmd("EXISTS", "z") == 0
    assert c.cmd("ZREMRANGEBYRANK", "nokey", "0", "-1") == 0
    assert c.err("ZREMRANGEBYSCORE", "z", "x", "1") == RANGE_ERR
    assert c.err("ZREMRANGEBYLEX", "z", "x", "+") == LEX_ERR
    assert c.err("ZREMRANGEBYRANK", "z", "0", "x") == NOT_INT


# ---------------------------------------------------------------------------
# pops
# ---------------------------------------------------------------------------

def test_zpopmin_zpopmax(c, c3):
    fill(c)
    assert c.cmd("ZPOPMIN", "z") == [b"a", b"1"]
    assert c.cmd("ZPOPMAX", "z", "2") == [b"f", b"6", b"e", b"5"]
    assert c.cmd("ZPOPMIN", "z", "0") == []
    assert c.cmd("ZPOPMIN", "nokey") == []
    assert c.err("ZPOPMIN", "z", "-1") == "ERR value is out of range, must be positive"
    assert c.err("ZPOPMIN", "z", "x") == "ERR value is out of range, must be positive"
    assert c.err("ZPOPMIN", "z", "1", "2") == SYNTAX
    c3.cmd("ZPOPMIN", "z")
    assert c3.last_raw == b"*2\r\n$1\r\nb\r\n,2\r\n"
    c3.cmd("ZPOPMIN", "z", "1")
    assert c3.last_raw == b"*1\r\n*2\r\n$1\r\nc\r\n,3\r\n"
    assert c.cmd("ZPOPMAX", "z", LLONG_MAX) == [b"d", b"4"]
    assert c.cmd("EXISTS", "z") == 0
    c.cmd("SET", "s", "x")
    assert c.err("ZPOPMIN", "s") == WRONGTYPE
    assert c.err("ZPOPMIN", "s", "0") == WRONGTYPE


def test_zmpop(c, c3):
    fill(c, "z2", 3)
    assert c.cmd("ZMPOP", "2", "nokey", "z2", "MIN") == [b"z2", [[b"a", b"1"]]]
    assert c.last_raw == b"*2\r\n$2\r\nz2\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    c3.cmd("ZMPOP", "1", "z2", "MAX", "COUNT", "10")
    assert c3.last_raw == b"*2\r\n$2\r\nz2\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"
    assert c.cmd("EXISTS", "z2") == 0
    assert c.cmd("ZMPOP", "1", "z2", "MIN") is None
    assert c.last_raw == b"*-1\r\n"
    c3.cmd("ZMPOP", "1", "z2", "MIN")
    assert c3.last_raw == b"_\r\n"
    numkeys_err = "ERR numkeys should be greater than 0"
    assert c.err("ZMPOP", "0", "z", "MIN") == numkeys_err
    assert c.err("ZMPOP", "x", "z", "MIN") == numkeys_err
    assert c.err("ZMPOP", "-1", "z", "MIN") == numkeys_err
    assert c.err("ZMPOP", LLONG_MAX, "z", "MIN") == SYNTAX
    assert c.err("ZMPOP", "2", "z", "MIN") == SYNTAX
    assert c.err("ZMPOP", "1", "z", "MIDDLE") == SYNTAX
    assert c.err("ZMPOP", "1", "z", "MIN", "COUNT", "0") == "ERR count should be greater than 0"
    assert c.err("ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1") == SYNTAX
    assert c.err("ZMPOP", "1", "z", "MIN", "COUNT") == SYNTAX
    c.cmd("SET", "s", "x")
    fill(c, "z3", 2)
    assert c.err("ZMPOP", "2", "s", "z3", "MIN") == WRONGTYPE
    assert c.cmd("ZMPOP", "2", "z3", "s", "MIN") == [b"z3", [[b"a", b"1"]]]


# ---------------------------------------------------------------------------
# ZRANDMEMBER
# ---------------------------------------------------------------------------

def test_zrandmember(c, c3):
    fill(c)
    members = {b"a", b"b", b"c", b"d", b"e", b"f"}
    assert c.cmd("ZRANDMEMBER", "z") in members
    assert c.cmd("ZRANDMEMBER", "nokey") is None
    assert c.cmd("ZRANDMEMBER", "nokey", "5") == []
    assert c.cmd("ZRANDMEMBER", "z", "0") == []
    # the whole set, highest first, when the count covers it
    assert c.cmd("ZRANDMEMBER", "z", "6") == [b"f", b"e", b"d", b"c", b"b", b"a"]
    assert c.cmd("ZRANDMEMBER", "z", LLONG_MAX) == [b"f", b"e", b"d", b"c", b"b", b"a"]
    three = c.cmd("ZRANDMEMBER", "z", "3")
    assert len(three) == 3 and len(set(three)) == 3 and set(three) <= members
    rep = c.cmd("ZRANDMEMBER", "z", "-20")
    assert len(rep) == 20 and set(rep) <= members
    ws = c.cmd("ZRANDMEMBER", "z", "-4", "WITHSCORES")
    assert len(ws) == 8
    for m, s in zip(ws[0::2], ws[1::2]):
        assert int(s) == ord(m) - ord("a") + 1
    c3.cmd("ZRANDMEMBER", "z", "1", "WITHSCORES")
    assert c3.last_raw.startswith(b"*1\r\n*2\r\n$1\r\n")
    assert c.err("ZRANDMEMBER", "z", LLONG_MIN) == \
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    assert c.err("ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES") == "ERR value is out of range"
    assert c.err("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES") == "ERR value is out of range"
    assert c.err("ZRANDMEMBER", "z", "1", "WITHSCORES", "x") == SYNTAX
    assert c.err("ZRANDMEMBER", "z", "1", "x") == SYNTAX
    assert c.err("ZRANDMEMBER", "z", "x") == NOT_INT


# ---------------------------------------------------------------------------
# ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD
# ---------------------------------------------------------------------------

def test_set_operations(c, c3):
    c.cmd("ZADD", "u1", "1", "a", "2", "b", "3", "c")
    c.cmd("ZADD", "u2", "4", "b", "5", "c", "6", "d")
    assert c.cmd("ZUNION", "2", "u1", "u2", "WITHSCORES") == \
        [b"a", b"1", b"b", b"6", b"d", b"6", b"c", b"8"]
    assert c.cmd("ZUNION", "2", "u1", "u2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MAX", "WITHSCORES") == \
        [b"a", b"2", b"d", b"3", b"b", b"4", b"c", b"6"]
    assert c.cmd("ZUNION", "3", "u1", "u2", "nokey") == [b"a", b"b", b"d", b"c"]
    assert c.cmd("ZINTER", "2", "u1", "u2", "WITHSCORES") == [b"b", b"6", b"c", b"8"]
    assert c.cmd("ZINTER", "2", "u1", "u2", "AGGREGATE", "MIN", "WITHSCORES") == [b"b", b"2", b"c", b"3"]
    assert c.cmd("ZINTER", "2", "u1", "nokey") == []
    assert c.cmd("ZDIFF", "2", "u1", "u2", "WITHSCORES") == [b"a", b"1"]
    assert c.cmd("ZDIFF", "1", "u2") == [b"b", b"c", b"d"]
    c3.cmd("ZINTER", "2", "u1", "u2", "WITHSCORES")
    assert c3.last_raw == b"*2\r\n*2\r\n$1\r\nb\r\n,6\r\n*2\r\n$1\r\nc\r\n,8\r\n"
    # inf * 0 and inf - inf give 0, as in Redis
    c.cmd("ZADD", "inf", "inf", "a", "-inf", "b")
    assert c.cmd("ZUNION", "2", "inf", "inf", "WEIGHTS", "1", "-1", "WITHSCORES") == [b"a", b"0", b"b", b"0"]
    assert c.cmd("ZUNION", "1", "inf", "WEIGHTS", "0", "WITHSCORES") == [b"a", b"0", b"b", b"0"]

    assert c.cmd("ZUNIONSTORE", "dst", "2", "u1", "u2") == 4
    assert c.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"6", b"d", b"6", b"c", b"8"]
    assert c.cmd("EXPIRE", "dst", "100") == 1
    assert c.cmd("ZINTERSTORE", "dst", "2", "u1", "u2", "WEIGHTS", "1", "2") == 2
    assert c.cmd("TTL", "dst") == -1
    assert c.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES") == [b"b", b"10", b"c", b"13"]
    assert c.cmd("ZDIFFSTORE", "dst", "2", "u1", "u2") == 1
    assert c.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES") == [b"a", b"1"]
    assert c.cmd("ZINTERSTORE", "dst", "2", "u1", "nokey") == 0
    assert c.cmd("EXISTS", "dst") == 0
    assert c.cmd("ZUNIONSTORE", "u1", "2", "u1", "u2") == 4  # destination among the sources
    assert c.cmd("ZCARD", "u1") == 4

    assert c.cmd("ZINTERCARD", "2", "u1", "u2") == 3
    assert c.cmd("ZINTERCARD", "2", "u1", "u2", "LIMIT", "2") == 2
    assert c.cmd("ZINTERCARD", "2", "u1", "u2", "LIMIT", "0") == 3
    assert c.err("ZINTERCARD", "2", "u1", "u2", "LIMIT", "-1") == "ERR LIMIT can't be negative"
    assert c.err("ZINTERCARD", "2", "u1", "u2", "LIMIT", "x") == "ERR LIMIT can't be negative"
    assert c.err("ZINTERCARD", "0", "u1") == "ERR at least 1 input key is needed for 'zintercard' command"


def test_set_operations_read_plain_sets(c):
    # Redis reads a plain set as members of score 1 (intset and hashtable alike)
    c.cmd("ZADD", "z", "1", "a", "2", "b", "5", "7")
    c.cmd("SADD", "ints", "7", "8")
    c.cmd("SADD", "strs", "a", "x", "y")
    assert c.cmd("ZUNION", "3", "z", "ints", "strs", "WITHSCORES") == [
        b"8", b"1", b"x", b"1", b"y", b"1", b"a", b"2", b"b", b"2", b"7", b"6"]
    assert c.cmd("ZINTER", "2", "z", "strs", "WEIGHTS", "1", "10", "WITHSCORES") == [b"a", b"11"]
    assert c.cmd("ZDIFF", "2", "strs", "z", "WITHSCORES") == [b"x", b"1", b"y", b"1"]
    assert c.cmd("ZINTERCARD", "2", "ints", "z") == 1
    assert c.cmd("ZUNIONSTORE", "dst", "2", "ints", "strs") == 5
    assert c.cmd("TYPE", "dst") == "zset"
    assert c.cmd("ZDIFFSTORE", "dst", "2", "strs", "ints") == 3
    # options are parsed after the type check of every key (found by fuzz/kv_diff.py)
    assert c.err("ZDIFFSTORE", "dst", "1", "strs", "WEIGHTS", "2") == "ERR syntax error"
    c.cmd("RPUSH", "list", "a")
    assert c.err("ZUNION", "2", "z", "list").startswith("WRONGTYPE")


def test_set_operation_errors(c):
    c.cmd("ZADD", "z", "1", "a")
    c.cmd("SET", "s", "x")
    for cmd, pre in (("ZUNION", []), ("ZINTER", []), ("ZDIFF", []),
                     ("ZUNIONSTORE", ["d"]), ("ZINTERSTORE", ["d"]), ("ZDIFFSTORE", ["d"])):
        name = cmd.lower()
        assert c.err(cmd, *pre, "0", "z") == f"ERR at least 1 input key is needed for '{name}' command"
        assert c.err(cmd, *pre, "-1", "z") == f"ERR at least 1 input key is needed for '{name}' command"
        assert c.err(cmd, *pre, "x", "z") == NOT_INT
        assert c.err(cmd, *pre, "2", "z") == SYNTAX
        assert c.err(cmd, *pre, LLONG_MAX, "z") == SYNTAX
        assert c.err(cmd, *pre, "1", "s") == WRONGTYPE
        # the type check comes before the options
        assert c.err(cmd, *pre, "1", "s", "BOGUS") == WRONGTYPE
        assert c.err(cmd, *pre, "1", "z", "BOGUS") == SYNTAX
    assert c.err("ZUNION", "1", "z", "WEIGHTS", "x") == "ERR weight value is not a float"
    assert c.err("ZUNION", "2", "z", "z", "WEIGHTS", "1") == SYNTAX
    assert c.err("ZUNION", "1", "z", "AGGREGATE", "AVG") == SYNTAX
    assert c.err("ZDIFF", "1", "z", "WEIGHTS", "1") == SYNTAX
    assert c.err("ZDIFF", "1", "z", "AGGREGATE", "SUM") == SYNTAX
    assert c.err("ZUNIONSTORE", "d", "1", "z", "WITHSCORES") == SYNTAX
    assert c.err("ZINTERCARD", "1", "z", "WITHSCORES") == SYNTAX


def test_zrangestore(c):
    fill(c)
    assert c.cmd("ZRANGESTORE", "dst", "z", "0", "1") == 2
    assert c.cmd("ZRANGE", "dst", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert c.cmd("ZRANGESTORE", "dst", "z", "(2", "+inf", "BYSCORE", "LIMIT", "1", "2") == 2
    assert c.cmd("ZRANGE", "dst", "0", "-1") == [b"d", b"e"]
    assert c.cmd("ZRANGESTORE", "dst", "z", "[e", "-", "BYLEX", "REV") == 5
    assert c.cmd("ZRANGESTORE", "dst", "z", "0", "-1", "REV") == 6
    assert c.cmd("ZRANGESTORE", "dst", "nokey", "0", "-1") == 0
    assert c.cmd("EXISTS", "dst") == 0
    assert c.cmd("ZRANGESTORE", "z", "z", "0", "2") == 3  # in place
    assert c.cmd("ZRANGE", "z", "0", "-1") == [b"a", b"b", b"c"]
    assert c.err("ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES") == SYNTAX
    c.cmd("SET", "s", "x")
    assert c.err("ZRANGESTORE", "dst", "s", "0", "-1") == WRONGTYPE


# ---------------------------------------------------------------------------
# ZSCAN
# ---------------------------------------------------------------------------

def zscan_all(c, key, *opts):
    cursor, seen, rounds = b"0", {}, 0
    while True:
        cursor, items = c.cmd("ZSCAN", key, cursor, *opts)
        for m, s in zip(items[0::2], items[1::2]):
            seen[m] = s
        rounds += 1
        assert rounds < 10000
        if cursor == b"0":
            return seen, rounds


def test_zscan(c):
    c.cmd("ZADD", "small", "1.5", "a", "2", "b", "-0", "c")
    assert c.cmd("ZSCAN", "small", "0") == [b"0", [b"c", b"0", b"a", b"1.5", b"b", b"2"]]
    assert c.cmd("ZSCAN", "small", "0", "MATCH", "a*") == [b"0", [b"a", b"1.5"]]
    assert c.cmd("ZSCAN", "nokey", "0") == [b"0", []]
    args = []
    for i in range(1000):
        args += [str(i / 4), f"m{i}"]
    c.cmd("ZADD", "big", *args)
    seen, rounds = zscan_all(c, "big", "COUNT", "50")
    assert rounds > 1
    assert seen == {f"m{i}".encode(): repr(i / 4).encode().removesuffix(b".0") for i in range(1000)}
    seen, _ = zscan_all(c, "big", "MATCH", "m99*")
    assert set(seen) == {b"m99", b"m990", b"m991", b"m992", b"m993", b"m994", b"m995", b"m996",
                         b"m997", b"m998", b"m999"}
    assert c.err("ZSCAN", "big", "x") == "ERR invalid cursor"
    assert c.err("ZSCAN", "big", "0", "COUNT", "0") == SYNTAX
    assert c.err("ZSCAN", "big", "0", "TYPE", "zset") == SYNTAX
    c.cmd("SET", "s", "x")
    assert c.err("ZSCAN", "s", "0") == WRONGTYPE


# ---------------------------------------------------------------------------
# encodings, config, generic key commands, WRONGTYPE, COMMAND
# ---------------------------------------------------------------------------

def test_encoding_thresholds(c):
    args = []
    for i in range(128):
        args += [str(i), f"m{i}"]
    c.cmd("ZADD", "z", *args)
    assert c.cmd("OBJECT", "ENCODING", "z") == b"listpack"
    c.cmd("ZADD", "z", "5", "m5")  # an update does not grow it
    assert c.cmd("OBJECT", "ENCODING", "z") == b"listpack"
    c.cmd("ZADD", "z", "128", "m128")
    assert c.cmd("OBJECT", "ENCODING", "z") == b"skiplist"
    c.cmd("ZREMRANGEBYRANK", "z", "0", "100")
    assert c.cmd("OBJECT", "ENCODING", "z") == b"skiplist"  # never converts back by itself
    # a result that fits is stored packed
    c.cmd("ZUNIONSTORE", "u", "1", "z")
    assert c.cmd("OBJECT", "ENCODING", "u") == b"listpack"
    c.cmd("ZADD", "v", "1", "x" * 64)
    assert c.cmd("OBJECT", "ENCODING", "v") == b"listpack"
    c.cmd("ZADD", "v", "2", "y" * 65)
    assert c.cmd("OBJECT", "ENCODING", "v") == b"skiplist"
    # ZRANGESTORE sizes its result by the rank window
    c.cmd("ZADD", "w", *args)
    c.cmd("ZADD", "w", "1000", "extra")
    assert c.cmd("ZRANGESTORE", "d", "w", "0", "127") == 128
    assert c.cmd("OBJECT", "ENCODING", "d") == b"listpack"
    assert c.cmd("ZRANGESTORE", "d", "w", "0", "128") == 129
    assert c.cmd("OBJECT", "ENCODING", "d") == b"skiplist"


def test_config_thresholds_and_aliases(c):
    try:
        assert c.cmd("CONFIG", "SET", "zset-max-ziplist-entries", "4") == "OK"
        assert c.cmd("CONFIG", "GET", "zset-max-listpack-entries") == [b"zset-max-listpack-entries", b"4"]
        assert c.cmd("CONFIG", "GET", "zset-max-ziplist-entries") == [b"zset-max-ziplist-entries", b"4"]
        assert c.cmd("CONFIG", "SET", "zset-max-listpack-value", "3") == "OK"
        assert c.cmd("CONFIG", "GET", "zset-max-ziplist-value") == [b"zset-max-ziplist-value", b"3"]
        got = c.cmd("CONFIG", "GET", "zset-max-*")
        assert dict(zip(got[0::2], got[1::2])) == {
            b"zset-max-listpack-entries": b"4", b"zset-max-ziplist-entries": b"4",
            b"zset-max-listpack-value": b"3", b"zset-max-ziplist-value": b"3"}
        c.cmd("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
        assert c.cmd("OBJECT", "ENCODING", "z") == b"listpack"
        c.cmd("ZADD", "z", "5", "e")
        assert c.cmd("OBJECT", "ENCODING", "z") == b"skiplist"
        c.cmd("ZADD", "y", "1", "abcd")
        assert c.cmd("OBJECT", "ENCODING", "y") == b"skiplist"
        assert c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "0") == "OK"
        c.cmd("ZADD", "x", "1", "a")
        assert c.cmd("OBJECT", "ENCODING", "x") == b"skiplist"
        assert isinstance(c.cmd("CONFIG", "SET", "zset-max-listpack-entries", "-1"), Exception)
    finally:
        set_thresholds(c, 128, 64)


def test_generic_key_commands(c):
    c.cmd("ZADD", "z", "1", "a", "2", "b")
    assert c.cmd("TYPE", "z") == "zset"
    assert isinstance(c.cmd("MEMORY", "USAGE", "z"), int) and c.cmd("MEMORY", "USAGE", "z") > 0
    assert c.cmd("RENAME", "z", "z2") == "OK"
    assert c.cmd("ZRANGE", "z2", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert c.cmd("EXISTS", "z") == 0
    c.cmd("SET", "str", "x")
    cursor, keys = c.cmd("SCAN", "0", "TYPE", "zset", "COUNT", "100")
    assert keys == [b"z2"]
    assert c.cmd("PEXPIRE", "z2", "50") == 1
    wait_until(lambda: c.cmd("EXISTS", "z2") == 0, timeout=5, what="zset key expiry")
    c.cmd("ZADD", "d", "1", "a")
    assert c.cmd("DEL", "d") == 1
    big = []
    for i in range(300):
        big += [str(i), f"m{i}"]
    c.cmd("ZADD", "big", *big)
    assert c.cmd("RENAME", "big", "big2") == "OK"
    assert c.cmd("ZCARD", "big2") == 300
    assert c.cmd("OBJECT", "ENCODING", "big2") == b"skiplist"
    assert c.cmd("DEL", "big2") == 1


def test_memory_usage(c):
    args = []
    for i in range(1000):
        args += [str(i), f"member:{i}"]
    c.cmd("ZADD", "big", *args)
    c.cmd("ZADD", "small", "1", "a")
    big, small = c.cmd("MEMORY", "USAGE", "big"), c.cmd("MEMORY", "USAGE", "small")
    assert 1000 * 40 < big < 1000 * 400
    assert 0 < small < 1000


def test_eviction_of_sorted_sets(server_factory):
    """Sorted sets count against maxmemory and are evicted whole."""
    s = server_factory("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-random")
    c = s.conn()
    members = []
    for i in range(200):
        members += [str(i), f"member-{i:05d}"]
    written = 0
    for k in range(400):  # ~400 x 200 members: several times 4 MB
        assert c.cmd("ZADD", f"z:{k}", *members) == 200
        written += 1
    info = s.info()
    assert info["evicted_keys"] > 0
    assert info["used_memory"] <= 4 * 1024 * 1024 + 64 * 1024
    assert info["db0"]["keys"] + info["evicted_keys"] == written  # one INFO: one moment
    cursor, keys = c.cmd("SCAN", "0", "COUNT", "1000")
    # survivors are intact (a key may still be evicted between SCAN and ZCARD)
    cards = [c.cmd("ZCARD", key) for key in keys[:20]]
    assert set(cards) <= {0, 200} and 200 in cards


def test_wrongtype(c):
    c.cmd("SET", "s", "x")
    c.cmd("ZADD", "z", "1", "a")
    calls = [("ZADD", "s", "1", "a"), ("ZINCRBY", "s", "1", "a"), ("ZREM", "s", "a"), ("ZCARD", "s"),
             ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"), ("ZRANK", "s", "a"), ("ZREVRANK", "s", "a"),
             ("ZCOUNT", "s", "0", "1"), ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGE", "s", "0", "1"),
             ("ZREVRANGE", "s", "0", "1"), ("ZRANGEBYSCORE", "s", "0", "1"),
             ("ZREVRANGEBYSCORE", "s", "1", "0"), ("ZRANGEBYLEX", "s", "-", "+"),
             ("ZREVRANGEBYLEX", "s", "+", "-"), ("ZREMRANGEBYRANK", "s", "0", "1"),
             ("ZREMRANGEBYSCORE", "s", "0", "1"), ("ZREMRANGEBYLEX", "s", "-", "+"),
             ("ZPOPMIN", "s"), ("ZPOPMAX", "s"), ("ZRANDMEMBER", "s"), ("ZRANDMEMBER", "s", "2"),
             ("ZSCAN", "s", "0"), ("ZMPOP", "1", "s", "MIN"), ("ZINTERCARD", "1", "s")]
    for call in calls:
        assert c.err(*call) == WRONGTYPE, call
    for call in (("GET", "z"), ("HGET", "z", "f"), ("APPEND", "z", "x"), ("HSET", "z", "f", "v")):
        assert c.err(*call) == WRONGTYPE, call


def test_command_table(c):
    info = c.cmd("COMMAND", "INFO", "zadd", "zrange", "zunionstore", "zmpop", "zintercard", "zrangestore")
    rows = {r[0]: r for r in info}
    assert rows[b"zadd"][1:3] == [-4, ["write", "denyoom", "fast"]]
    assert rows[b"zadd"][3:6] == [1, 1, 1]
    assert rows[b"zrange"][1:6] == [-4, ["readonly"], 1, 1, 1]
    assert rows[b"zunionstore"][1:6] == [-4, ["write", "denyoom", "movablekeys"], 1, 1, 1]
    assert rows[b"zmpop"][1:6] == [-4, ["write", "movablekeys"], 0, 0, 0]
    assert rows[b"zintercard"][1:6] == [-3, ["readonly", "movablekeys"], 0, 0, 0]
    assert rows[b"zrangestore"][1:6] == [-5, ["write", "denyoom"], 1, 2, 1]
    docs = c.cmd("COMMAND", "DOCS", "zadd", "zintercard")
    d = dict(zip(docs[0::2], docs[1::2]))
    zadd = dict(zip(d[b"zadd"][0::2], d[b"zadd"][1::2]))
    assert zadd[b"summary"] == b"Add one or more members to a sorted set, or update its score if it already exists"
    assert zadd[b"since"] == b"1.2.0"
    card = dict(zip(d[b"zintercard"][0::2], d[b"zintercard"][1::2]))
    assert card[b"since"] == b"7.0.0"


def test_arity(c):
    for cmd, args in (("zcard", []), ("zscore", ["k"]), ("zrank", ["k"]), ("zcount", ["k", "0"]),
                      ("zpopmin", []), ("zmpop", ["1", "k"]), ("zunion", ["1"]),
                      ("zunionstore", ["d", "1"]), ("zrangestore", ["d", "s", "0"]),
                      ("zintercard", ["1"]), ("zscan", ["k"]), ("zrandmember", [])):
        assert c.err(cmd, *args) == arity(cmd)


# ---------------------------------------------------------------------------
# as applications use them (redis-py)
# ---------------------------------------------------------------------------

def test_leaderboard(r):
    rnd = random.Random(42)
    players = {f"player:{i}": rnd.randint(0, 10000) for i in range(500)}
    pipe = r.pipeline(transaction=False)
    for p, s in players.items():
        pipe.zadd("board", {p: s})
    pipe.execute()
    for _ in range(200):  # score updates as games finish
        p = rnd.choice(list(players))
        d = rnd.randint(1, 50)
        players[p] += d
        assert r.zincrby("board", d, p) == players[p]
    expect = sorted(players.items(), key=lambda kv: (-kv[1], tuple(-b for b in kv[0].encode())))
    top = r.zrevrange("board", 0, 9, withscores=True)
    assert [(m.decode(), int(s)) for m, s in top] == [(m, s) for m, s in expect[:10]]
    me = expect[137][0]
    assert r.zrevrank("board", me) == 137
    assert r.zscore("board", me) == players[me]
    lo, hi = 2000, 4000
    assert r.zcount("board", lo, hi) == sum(1 for s in players.values() if lo <= s <= hi)
    around = r.zrevrange("board", 135, 139)
    assert [m.decode() for m in around] == [m for m, _ in expect[135:140]]
    page = r.zrevrangebyscore("board", "+inf", "-inf", start=20, num=10, withscores=True)
    assert [(m.decode(), int(s)) for m, s in page] == [(m, s) for m, s in expect[20:30]]
    assert r.zcard("board") == 500
    assert r.object("encoding", "board") == b"skiplist"
    r.zremrangebyrank("board", 0, -101)  # keep the top 100
    assert r.zcard("board") == 100
    assert r.zrevrange("board", 0, 0) == [expect[0][0].encode()]


def test_sliding_window_rate_limiter(r):
    """The usual sorted-set limiter: one member per request, scored by its
    time; drop what left the window, count what is left."""
    limit, window_ms = 10, 1000

    def allow(user, now_ms, req_id):
        key = f"rate:{user}"
        pipe = r.pipeline(transaction=False)
        pipe.zremrangebyscore(key, 0, now_ms - window_ms)
        pipe.zadd(key, {f"{now_ms}-{req_id}": now_ms})
        pipe.zcard(key)
        pipe.pexpire(key, window_ms)
        _, _, count, _ = pipe.execute()
        if count > limit:
            r.zrem(key, f"{now_ms}-{req_id}")
            return False
        return True

    t0 = 1_700_000_000_000
    results = [allow("alice", t0 + i * 10, i) for i in range(15)]
    assert results == [True] * 10 + [False] * 5
    assert r.zcard("rate:alice") == 10
    # 1 s later the first requests have left the window
    assert allow("alice", t0 + 1005, 100) is True
    assert r.zcard("rate:alice") == 10
    assert allow("bob", t0, 0) is True
    assert r.zrangebyscore("rate:alice", t0 + 1000, "+inf") == [f"{t0 + 1005}-100".encode()]
    assert 0 < r.pttl("rate:alice") <= window_ms
    assert r.object("encoding", "rate:alice") == b"listpack"


def test_redis_py_api(r):
    assert r.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
    assert r.zadd("z", {"a": 5}, gt=True, ch=True) == 1
    assert r.zadd("z", {"a": 1}, lt=True, ch=True) == 1
    assert r.zrange("z", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.0), (b"c", 3.0)]
    assert r.zrange("z", "(1", "+inf", byscore=True, offset=0, num=1) == [b"b"]
    assert r.zpopmin("z") == [(b"a", 1.0)]
    assert r.zmscore("z", ["b", "x"]) == [2.0, None]
    assert r.zunion(["z", "z"], withscores=True) == [(b"b", 4.0), (b"c", 6.0)]
    assert r.zinterstore("d", {"z": 2}) == 2
    assert r.zrange("d", 0, -1, withscores=True) == [(b"b", 4.0), (b"c", 6.0)]
    assert r.zmpop(1, ["z"], max=True) == [b"z", [[b"c", b"3"]]]
    assert r.zintercard(1, ["d"]) == 2
    assert sorted(dict(r.zscan_iter("d"))) == [b"b", b"c"]


# ---------------------------------------------------------------------------
# differential: random commands against both servers, byte for byte
# ---------------------------------------------------------------------------

def _random_commands(rnd, n):
    members = [f"m{i}" for i in range(60)] + ["", "a" * 70, "b" * 65, "x\x00y"]
    keys = ["z1", "z2", "z3"]

    def mem():
        return rnd.choice(members)

    def score():
        x = rnd.random()
        if x < 0.5:
            return str(rnd.randint(-50, 300))
        if x < 0.6:
            return rnd.choice(["inf", "-inf", "+inf", "-0", "0.1", "1e20", "-1.5", "1e-310",
                               "123456789012", "-9007199254740993"])
        return repr(rnd.uniform(-1000, 1000))

    def rng():
        if rnd.random() < 0.2:
            return rnd.choice(["-inf", "+inf", "(0", "(10", "5", "(-inf"])
        return ("(" if rnd.random() < 0.3 else "") + str(rnd.randint(-60, 320))

    def lex():
        return rnd.choice(["-", "+", "[m1", "(m1", "[m3", "(m5", "[m", "[", "(", "[zz", "[m10"])

    def idx():
        return str(rnd.choice([0, 1, 2, -1, -2, 5, -100, 100, rnd.randint(-80, 80),
                               9223372036854775807, -9223372036854775808]))

    def k():
        return rnd.choice(keys)

    for _ in range(n):
        op = rnd.randrange(29)
        if op < 6:
            opts = [o for o in ["NX", "XX", "GT", "LT", "CH"] if rnd.random() < 0.12]
            pairs = []
            for _ in range(rnd.randint(1, 8 if rnd.random() < 0.8 else 60)):
                pairs += [score(), mem()]
            if rnd.random() < 0.1:
                opts.append("INCR")
                pairs = pairs[:2]
            yield ["ZADD", k()] + opts + pairs
        elif op == 6:
            yield ["ZINCRBY", k(), score(), mem()]
        elif op == 7:
            yield ["ZREM", k()] + [mem() for _ in range(rnd.randint(1, 4))]
        elif op == 8:
            yield [rnd.choice(["ZCARD", "ZSCORE", "ZRANK", "ZREVRANK"]), k()] + ([mem()] if rnd.random() < 0.8 else [])
        elif op == 9:
            yield ["ZMSCORE", k(), mem(), mem()]
        elif op == 10:
            yield ["ZCOUNT", k(), rng(), rng()]
        elif op == 11:
            cmd = ["ZRANGE", k(), idx(), idx()]
            cmd += ["REV"] if rnd.random() < 0.3 else []
            yield cmd + (["WITHSCORES"] if rnd.random() < 0.5 else [])
        elif op == 12:
            cmd = [rnd.choice(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]), k(), rng(), rng()]
            cmd += ["WITHSCORES"] if rnd.random() < 0.5 else []
            yield cmd + (["LIMIT", idx(), idx()] if rnd.random() < 0.4 else [])
        elif op == 13:
            cmd = ["ZRANGE", k(), rng(), rng(), "BYSCORE"]
            cmd += ["REV"] if rnd.random() < 0.5 else []
            cmd += ["LIMIT", idx(), idx()] if rnd.random() < 0.4 else []
            yield cmd + (["WITHSCORES"] if rnd.random() < 0.5 else [])
        elif op == 14:
            yield ["ZREVRANGE", k(), idx(), idx()] + (["WITHSCORES"] if rnd.random() < 0.5 else [])
        elif op == 15:
            yield ["ZREMRANGEBYRANK", k(), idx(), idx()]
        elif op == 16:
            yield ["ZREMRANGEBYSCORE", k(), rng(), rng()]
        elif op == 17:
            yield [rnd.choice(["ZPOPMIN", "ZPOPMAX"]), k()] + ([str(rnd.randint(0, 5))] if rnd.random() < 0.6 else [])
        elif op == 18:
            yield ["ZMPOP", "2", k(), k(), rnd.choice(["MIN", "MAX"])] + \
                (["COUNT", str(rnd.randint(1, 5))] if rnd.random() < 0.5 else [])
        elif op in (19, 20):
            store = op == 20
            base = rnd.choice(["ZUNION", "ZINTER", "ZDIFF"])
            ks = [k() for _ in range(rnd.randint(1, 3))]
            cmd = [base + ("STORE" if store else "")] + ([k()] if store else []) + [str(len(ks))] + ks
            if base != "ZDIFF" and rnd.random() < 0.4:
                cmd += ["WEIGHTS"] + [rnd.choice(["1", "2", "-1", "0", "0.5", "inf"]) for _ in ks]
            if base != "ZDIFF" and rnd.random() < 0.4:
                cmd += ["AGGREGATE", rnd.choice(["SUM", "MIN", "MAX"])]
            yield cmd + (["WITHSCORES"] if not store and rnd.random() < 0.6 else [])
        elif op == 21:
            yield ["ZINTERCARD", "2", k(), k()] + (["LIMIT", str(rnd.randint(0, 5))] if rnd.random() < 0.5 else [])
        elif op == 22:
            if rnd.random() < 0.3:
                yield ["ZRANGESTORE", k(), k(), rng(), rng(), "BYSCORE"]
            else:
                yield ["ZRANGESTORE", k(), k(), idx(), idx()]
        elif op == 23:
            yield ["OBJECT", "ENCODING", k()]
        elif op == 24:
            cmd = [rnd.choice(["ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"]), "lx", lex(), lex()]
            yield cmd + (["LIMIT", idx(), idx()] if cmd[0].startswith("ZR") and "REM" not in cmd[0]
                         and rnd.random() < 0.4 else [])
        elif op == 25:
            yield ["ZADD", "lx"] + sum([["0", mem()] for _ in range(rnd.randint(1, 6))], [])
        elif op == 26:
            # count 0 or >= the set: deterministic replies
            yield ["ZRANDMEMBER", k(), rnd.choice(["0", "1000"])] + (["WITHSCORES"] if rnd.random() < 0.5 else [])
        elif op == 27:
            yield ["HELLO", rnd.choice(["2", "3"])]
        else:
            yield ["ZRANGE", "lx", "0", "-1"]


def test_differential_random_commands(tmp_path):
    """Thousands of random sorted-set commands, each sent to a scaleout and a
    redis-server; every reply must be the same bytes. Three threshold settings
    put the sets in the listpack encoding, the skiplist, and across conversions."""
    assert SCALEOUT_BIN.exists(), f"{SCALEOUT_BIN} not built"
    assert REDIS_SERVER, "redis-server is needed for this comparison"
    ours = start_server("scaleout", tmp_path / "scaleout")
    theirs = start_server("redis", tmp_path / "redis")
    try:
        a, b = RespConn(theirs.port), RespConn(ours.port)
        rnd = random.Random(20261129)
        mismatches = []
        total = 0
        for entries, value in (("128", "64"), ("8", "8"), ("0", "64")):
            for conn in (a, b):
                conn.cmd("HELLO", "2")
                conn.cmd("FLUSHALL")
                set_thresholds(conn, entries, value)
            for cmd in _random_commands(rnd, 1500):
                ra, rb = a.cmd(*cmd), b.cmd(*cmd)
                total += 1
                if cmd[0] != "HELLO" and a.last_raw != b.last_raw:  # HELLO names the server
                    mismatches.append((entries, cmd, a.last_raw[:300], b.last_raw[:300]))
            # the final states too
            for key in ("z1", "z2", "z3", "lx"):
                a.cmd("ZRANGE", key, "0", "-1", "WITHSCORES")
                b.cmd("ZRANGE", key, "0", "-1", "WITHSCORES")
                assert a.last_raw == b.last_raw, key
        assert not mismatches, f"{len(mismatches)} of {total} replies differ, first: {mismatches[:3]}"
        a.close()
        b.close()
    finally:
        ours.stop()
        theirs.stop()
