"""
String commands: replies, wire types and exact error texts as Redis 7.0 gives
them. `c` is a raw RESP connection (simple string -> str, bulk -> bytes,
integer -> int, null -> None); `r` is redis-py, the client applications use.
"""
import time

import pytest

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
SYNTAX = "ERR syntax error"
OVERFLOW = "ERR increment or decrement would overflow"


def arity(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


def expire_err(cmd):
    return f"ERR invalid expire time in '{cmd}' command"


# ---------------------------------------------------------------- GET / SET

def test_get_set_basic(c):
    assert c.cmd("GET", "k") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.last_raw == b"+OK\r\n"
    assert c.cmd("GET", "k") == b"v"
    assert c.last_raw == b"$1\r\nv\r\n"
    assert c.cmd("SET", "k", "") == "OK"
    assert c.cmd("GET", "k") == b""
    assert c.last_raw == b"$0\r\n\r\n"
    assert c.cmd("SET", "k", "overwritten") == "OK"
    assert c.cmd("GET", "k") == b"overwritten"


def test_get_set_arity(c):
    assert c.err("GET") == arity("get")
    assert c.err("GET", "a", "b") == arity("get")
    assert c.err("SET", "k") == arity("set")
    assert c.err("SET") == arity("set")


def test_command_names_are_case_insensitive(c):
    assert c.cmd("set", "k", "v") == "OK"
    assert c.cmd("GeT", "k") == b"v"
    assert c.cmd("SET", "k2", "v", "ex", "100", "nx") == "OK"
    assert 0 < c.cmd("ttl", "k2") <= 100


def test_get_wrongtype(c):
    c.cmd("HSET", "h", "f", "v")
    assert c.err("GET", "h") == WRONGTYPE
    # SET overwrites whatever type was there
    assert c.cmd("SET", "h", "v") == "OK"
    assert c.cmd("GET", "h") == b"v"


def test_set_ex_px(c):
    assert c.cmd("SET", "k", "v", "EX", "100") == "OK"
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("SET", "k", "v", "PX", "100000") == "OK"
    assert 98000 <= c.cmd("PTTL", "k") <= 100000
    # plain SET drops the TTL
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("TTL", "k") == -1


def test_set_exat_pxat(c):
    now = int(time.time())
    assert c.cmd("SET", "k", "v", "EXAT", now + 100) == "OK"
    assert 97 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("SET", "k", "v", "PXAT", (now + 200) * 1000) == "OK"
    assert 197 <= c.cmd("TTL", "k") <= 200
    # a time in the past is accepted and the key is gone at once
    assert c.cmd("SET", "past", "v", "EXAT", "1") == "OK"
    assert c.cmd("GET", "past") is None
    assert c.cmd("EXISTS", "past") == 0
    assert c.cmd("SET", "past", "v", "PXAT", "1") == "OK"
    assert c.cmd("GET", "past") is None


def test_set_nx_xx(c):
    assert c.cmd("SET", "k", "v1", "XX") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("SET", "k", "v1", "NX") == "OK"
    assert c.cmd("SET", "k", "v2", "NX") is None
    assert c.cmd("GET", "k") == b"v1"
    assert c.cmd("SET", "k", "v3", "XX") == "OK"
    assert c.cmd("GET", "k") == b"v3"
    # options are case-insensitive
    assert c.cmd("SET", "k", "v4", "xx", "ex", "50") == "OK"
    assert 0 < c.cmd("TTL", "k") <= 50


def test_set_get_option(c):
    assert c.cmd("SET", "k", "v1", "GET") is None
    assert c.cmd("SET", "k", "v2", "GET") == b"v1"
    assert c.cmd("GET", "k") == b"v2"
    # GET combines with NX (Redis 7): returns the old value, does not set
    assert c.cmd("SET", "k", "v3", "NX", "GET") == b"v2"
    assert c.cmd("GET", "k") == b"v2"
    assert c.cmd("SET", "k", "v3", "XX", "GET", "EX", "100") == b"v2"
    assert c.cmd("GET", "k") == b"v3"
    assert 0 < c.cmd("TTL", "k") <= 100
    # against the wrong type: error and nothing written
    c.cmd("HSET", "h", "f", "v")
    assert c.err("SET", "h", "v", "GET") == WRONGTYPE
    assert c.cmd("TYPE", "h") == "hash"


def test_set_keepttl(c):
    c.cmd("SET", "k", "v", "EX", "100")
    assert c.cmd("SET", "k", "v2", "KEEPTTL") == "OK"
    assert c.cmd("GET", "k") == b"v2"
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("SET", "nottl", "v", "KEEPTTL") == "OK"
    assert c.cmd("TTL", "nottl") == -1


@pytest.mark.parametrize("args", [
    ("NX", "XX"),
    ("XX", "NX"),
    ("EX", "10", "PX", "100"),
    ("PX", "100", "EX", "10"),
    ("EX", "10", "EXAT", "99999999999"),
    ("PXAT", "99999999999999", "PX", "1"),
    ("KEEPTTL", "EX", "10"),
    ("EX", "10", "KEEPTTL"),
    ("PERSIST",),
    ("EX",),
    ("PX",),
    ("FOO",),
    ("EX", "10", "EX", "10", "PX"),
])
def test_set_syntax_errors(c, args):
    assert c.err("SET", "k", "v", *args) == SYNTAX
    assert c.cmd("EXISTS", "k") == 0


@pytest.mark.parametrize("args,msg", [
    (("EX", "0"), expire_err("set")),
    (("EX", "-1"), expire_err("set")),
    (("PX", "0"), expire_err("set")),
    (("PX", "-100"), expire_err("set")),
    (("EXAT", "0"), expire_err("set")),
    (("PXAT", "-5"), expire_err("set")),
    (("EX", "9999999999999999"), expire_err("set")),
    (("EX", "abc"), NOT_INT),
    (("PX", "1.5"), NOT_INT),
    (("EX", ""), NOT_INT),
    (("EX", "99999999999999999999"), NOT_INT),
])
def test_set_expire_errors(c, args, msg):
    assert c.err("SET", "k", "v", *args) == msg
    assert c.cmd("EXISTS", "k") == 0


# ---------------------------------------------------------------- SETNX SETEX PSETEX

def test_setnx(c):
    assert c.cmd("SETNX", "k", "v1") == 1
    assert c.cmd("SETNX", "k", "v2") == 0
    assert c.cmd("GET", "k") == b"v1"
    c.cmd("HSET", "h", "f", "v")
    assert c.cmd("SETNX", "h", "x") == 0
    assert c.err("SETNX", "k") == arity("setnx")


def test_setex_psetex(c):
    assert c.cmd("SETEX", "k", "100", "v") == "OK"
    assert c.cmd("GET", "k") == b"v"
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("PSETEX", "p", "100000", "v") == "OK"
    assert 98000 <= c.cmd("PTTL", "p") <= 100000
    assert c.err("SETEX", "k", "0", "v") == expire_err("setex")
    assert c.err("SETEX", "k", "-10", "v") == expire_err("setex")
    assert c.err("PSETEX", "k", "0", "v") == expire_err("psetex")
    assert c.err("SETEX", "k", "abc", "v") == NOT_INT
    assert c.err("SETEX", "k", "10") == arity("setex")


# ---------------------------------------------------------------- GETSET GETDEL GETEX

def test_getset(c):
    assert c.cmd("GETSET", "k", "v1") is None
    assert c.cmd("GETSET", "k", "v2") == b"v1"
    assert c.cmd("GET", "k") == b"v2"
    c.cmd("EXPIRE", "k", "100")
    c.cmd("GETSET", "k", "v3")
    assert c.cmd("TTL", "k") == -1  # GETSET drops the TTL
    c.cmd("HSET", "h", "f", "v")
    assert c.err("GETSET", "h", "v") == WRONGTYPE


def test_getdel(c):
    c.cmd("SET", "k", "v")
    assert c.cmd("GETDEL", "k") == b"v"
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("GETDEL", "k") is None
    c.cmd("HSET", "h", "f", "v")
    assert c.err("GETDEL", "h") == WRONGTYPE
    assert c.cmd("EXISTS", "h") == 1
    assert c.err("GETDEL") == arity("getdel")


def test_getex(c):
    assert c.cmd("GETEX", "missing") is None
    assert c.cmd("GETEX", "missing", "EX", "10") is None
    assert c.cmd("EXISTS", "missing") == 0
    c.cmd("SET", "k", "v")
    assert c.cmd("GETEX", "k") == b"v"
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("GETEX", "k", "EX", "100") == b"v"
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("GETEX", "k", "PX", "200000") == b"v"
    assert 198 <= c.cmd("TTL", "k") <= 200
    now = int(time.time())
    assert c.cmd("GETEX", "k", "EXAT", now + 300) == b"v"
    assert 297 <= c.cmd("TTL", "k") <= 300
    assert c.cmd("GETEX", "k", "PXAT", (now + 400) * 1000) == b"v"
    assert 397 <= c.cmd("TTL", "k") <= 400
    assert c.cmd("GETEX", "k", "PERSIST") == b"v"
    assert c.cmd("TTL", "k") == -1
    # errors
    assert c.err("GETEX", "k", "EX", "0") == expire_err("getex")
    assert c.err("GETEX", "k", "PX", "-1") == expire_err("getex")
    assert c.err("GETEX", "k", "EX", "abc") == NOT_INT
    assert c.err("GETEX", "k", "EX", "10", "PX", "100") == SYNTAX
    assert c.err("GETEX", "k", "EX", "10", "PERSIST") == SYNTAX
    assert c.err("GETEX", "k", "EX") == SYNTAX
    assert c.err("GETEX", "k", "KEEPTTL") == SYNTAX
    assert c.cmd("TTL", "k") == -1
    c.cmd("HSET", "h", "f", "v")
    assert c.err("GETEX", "h") == WRONGTYPE


# ---------------------------------------------------------------- MGET MSET MSETNX

def test_mget_mset(c):
    assert c.cmd("MSET", "a", "1", "b", "2", "c", "3") == "OK"
    c.cmd("HSET", "h", "f", "v")
    # a key of another type is a nil in MGET, not an error
    assert c.cmd("MGET", "a", "b", "nokey", "h", "c", "a") == [b"1", b"2", None, None, b"3", b"1"]
    assert c.last_raw.startswith(b"*6\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$-1\r\n")
    assert c.err("MSET", "a", "1", "b") == arity("mset")
    assert c.err("MSET") == arity("mset")
    assert c.err("MGET") == arity("mget")
    # MSET overwrites and drops TTLs; the last value for a repeated key wins
    c.cmd("EXPIRE", "a", "100")
    assert c.cmd("MSET", "a", "x", "a", "y") == "OK"
    assert c.cmd("GET", "a") == b"y"
    assert c.cmd("TTL", "a") == -1


def test_msetnx(c):
    assert c.cmd("MSETNX", "a", "1", "b", "2") == 1
    assert c.cmd("MSETNX", "b", "x", "c", "3") == 0
    assert c.cmd("MGET", "a", "b", "c") == [b"1", b"2", None]
    assert c.err("MSETNX", "a") == arity("msetnx")
    assert c.err("MSETNX", "a", "1", "b") == arity("msetnx")


# ---------------------------------------------------------------- APPEND STRLEN

def test_append_strlen(c):
    assert c.cmd("STRLEN", "k") == 0
    assert c.cmd("APPEND", "k", "Hello") == 5
    assert c.cmd("APPEND", "k", " World") == 11
    assert c.cmd("GET", "k") == b"Hello World"
    assert c.cmd("STRLEN", "k") == 11
    assert c.cmd("APPEND", "k", "") == 11
    # APPEND keeps the TTL
    c.cmd("EXPIRE", "k", "100")
    c.cmd("APPEND", "k", "!")
    assert 0 < c.cmd("TTL", "k") <= 100
    # on integers it appends to the decimal text
    c.cmd("SET", "n", "10")
    assert c.cmd("APPEND", "n", "5") == 3
    assert c.cmd("INCR", "n") == 106
    c.cmd("HSET", "h", "f", "v")
    assert c.err("APPEND", "h", "x") == WRONGTYPE
    assert c.err("STRLEN", "h") == WRONGTYPE
    assert c.err("STRLEN") == arity("strlen")


# ---------------------------------------------------------------- INCR family

def test_incr_decr(c):
    assert c.cmd("INCR", "n") == 1
    assert c.last_raw == b":1\r\n"
    assert c.cmd("INCR", "n") == 2
    assert c.cmd("DECR", "n") == 1
    assert c.cmd("DECR", "m") == -1
    assert c.cmd("INCRBY", "n", "10") == 11
    assert c.cmd("INCRBY", "n", "-20") == -9
    assert c.cmd("DECRBY", "n", "1") == -10
    assert c.cmd("DECRBY", "n", "-15") == 5
    assert c.cmd("GET", "n") == b"5"
    c.cmd("SET", "neg", "-5")
    assert c.cmd("INCR", "neg") == -4
    # INCR keeps the TTL
    c.cmd("SET", "t", "1", "EX", "100")
    assert c.cmd("INCR", "t") == 2
    assert 0 < c.cmd("TTL", "t") <= 100


@pytest.mark.parametrize("value", ["abc", "1.5", " 1", "1 ", "", "01x", "9223372036854775808",
                                   "1e3", "+"])
def test_incr_not_integer(c, value):
    c.cmd("SET", "k", value)
    assert c.err("INCR", "k") == NOT_INT
    assert c.err("DECR", "k") == NOT_INT
    assert c.err("INCRBY", "k", "1") == NOT_INT
    assert c.cmd("GET", "k") == value.encode()


def test_incr_argument_errors(c):
    assert c.err("INCRBY", "k", "abc") == NOT_INT
    assert c.err("INCRBY", "k", "1.0") == NOT_INT
    assert c.err("DECRBY", "k", "") == NOT_INT
    assert c.err("INCRBY", "k", "9223372036854775808") == NOT_INT
    assert c.err("INCR") == arity("incr")
    assert c.err("INCR", "a", "b") == arity("incr")
    assert c.err("INCRBY", "k") == arity("incrby")
    c.cmd("HSET", "h", "f", "v")
    assert c.err("INCR", "h") == WRONGTYPE
    assert c.err("INCRBYFLOAT", "h", "1") == WRONGTYPE
    assert c.cmd("EXISTS", "k") == 0


def test_incr_overflow(c):
    c.cmd("SET", "n", "9223372036854775807")
    assert c.err("INCR", "n") == OVERFLOW
    assert c.err("INCRBY", "n", "1") == OVERFLOW
    assert c.cmd("DECR", "n") == 9223372036854775806
    c.cmd("SET", "n", "-9223372036854775808")
    assert c.err("DECR", "n") == OVERFLOW
    assert c.err("DECRBY", "n", "1") == OVERFLOW
    assert c.cmd("INCR", "n") == -9223372036854775807
    assert c.cmd("GET", "n") == b"-9223372036854775807"
    # DECRBY cannot negate LLONG_MIN: its own message
    assert c.err("DECRBY", "x", "-9223372036854775808") == "ERR decrement would overflow"
    assert c.cmd("INCRBY", "x", "-9223372036854775808") == -9223372036854775808


@pytest.mark.parametrize("start,cmd,expect", [
    ("9", ("INCR",), b"10"),                      # one digit more
    ("99999", ("INCR",), b"100000"),
    ("-10", ("INCR",), b"-9"),                    # one character less
    ("-1", ("INCR",), b"0"),
    ("0", ("DECR",), b"-1"),
    ("10", ("DECRBY", "20"), b"-10"),
    ("999999999999999999", ("INCR",), b"1000000000000000000"),
    ("9223372036854775806", ("INCR",), b"9223372036854775807"),
    ("-9223372036854775807", ("DECR",), b"-9223372036854775808"),
    ("9223372036854775807", ("INCRBY", "-9223372036854775808"), b"-1"),
    ("9999", ("INCR",), b"10000"),                # past Redis's shared integers
    ("100", ("INCR",), b"101"),                   # a shared integer in Redis
    ("5", ("INCRBY", "0"), b"5"),
])
def test_incr_in_place_values_and_encoding(c, start, cmd, expect):
    """The new number is written over the old one (longer, shorter, at the
    limits); the reply, the value, its length and OBJECT ENCODING are Redis's."""
    c.cmd("SET", "n", start)
    assert c.cmd(cmd[0], "n", *cmd[1:]) == int(expect)
    assert c.cmd("GET", "n") == expect
    assert c.cmd("STRLEN", "n") == len(expect)
    assert c.cmd("OBJECT", "ENCODING", "n") == b"int"
    # and again from there (the record the first write left)
    if int(expect) < 2**63 - 1:
        assert c.cmd("INCR", "n") == int(expect) + 1
    else:
        assert c.err("INCR", "n") == OVERFLOW


@pytest.mark.parametrize("writes", [
    [("SET", "k", "1"), ("APPEND", "k", "2")],            # raw in Redis
    [("SET", "k", "10"), ("SETRANGE", "k", 0, "4")],      # raw in Redis
    [("SET", "k", "1.5"), ("INCRBYFLOAT", "k", "1.5")],   # "3", embstr in Redis
    [("SET", "k", "x"), ("SET", "k", "41")],              # int over embstr
    [("SET", "k", "x" * 50), ("SET", "k", "41")],         # int over raw
    [("SET", "k", "7", "EX", "100")],                     # with a TTL
    [("SET", "k", "0"), ("GETSET", "k", "41")],
])
def test_incr_over_every_string_kind(c, writes):
    """INCR of an integer value however it was written: Redis makes it an int."""
    for w in writes:
        c.cmd(*w)
    before = int(c.cmd("GET", "k"))
    assert c.cmd("INCR", "k") == before + 1
    assert c.cmd("GET", "k") == str(before + 1).encode()
    assert c.cmd("OBJECT", "ENCODING", "k") == b"int"
    assert c.cmd("INCRBY", "k", "-1000") == before - 999
    assert c.cmd("OBJECT", "ENCODING", "k") == b"int"
    if writes[-1][-2:] == ("EX", "100"):
        assert 0 < c.cmd("TTL", "k") <= 100


def test_incr_failures_leave_the_value(c):
    """Errors change nothing: the value, its length and its encoding stay."""
    for value, enc in (("9223372036854775807", b"int"), ("12345678901234567890", b"embstr"),
                       ("1" * 45, b"raw"), ("-0", b"embstr"), ("0x10", b"embstr")):
        c.cmd("SET", "k", value)
        c.err("INCR", "k")
        c.err("INCRBY", "k", "1")
        assert c.cmd("GET", "k") == value.encode()
        assert c.cmd("OBJECT", "ENCODING", "k") == enc
    c.cmd("SET", "k", "-9223372036854775808")
    assert c.err("DECR", "k") == OVERFLOW
    assert c.cmd("OBJECT", "ENCODING", "k") == b"int"


def test_incrbyfloat_encoding(c):
    """A fractional result is a string (embstr) in both."""
    c.cmd("SET", "f", "10")
    assert c.cmd("INCRBYFLOAT", "f", "0.5") == b"10.5"
    assert c.cmd("OBJECT", "ENCODING", "f") == b"embstr"
    assert c.err("INCR", "f") == NOT_INT


@pytest.mark.parametrize("start,incr,expect", [
    (None, "1.5", b"1.5"),
    ("10.5", "0.1", b"10.6"),
    ("5.0e3", "0", b"5000"),
    ("3", "1.5", b"4.5"),
    ("1", "-1", b"0"),
    ("0.1", "0.2", b"0.3"),
    ("0", "1e20", b"100000000000000000000"),
    ("1.5", "1.5e-5", b"1.500015"),
    ("-1.5", "-1", b"-2.5"),
    ("5", "0", b"5"),
    ("1.0", "2", b"3"),
])
def test_incrbyfloat_formatting(c, start, incr, expect):
    if start is not None:
        c.cmd("SET", "f", start)
    assert c.cmd("INCRBYFLOAT", "f", incr) == expect
    assert c.last_raw == b"$%d\r\n%s\r\n" % (len(expect), expect)
    assert c.cmd("GET", "f") == expect


def test_incrbyfloat_errors(c):
    c.cmd("SET", "s", "abc")
    assert c.err("INCRBYFLOAT", "s", "1") == NOT_FLOAT
    assert c.err("INCRBYFLOAT", "f", "abc") == NOT_FLOAT
    assert c.err("INCRBYFLOAT", "f", "") == NOT_FLOAT
    assert c.err("INCRBYFLOAT", "f", "1.5x") == NOT_FLOAT
    c.cmd("SET", "f", "1")
    assert c.err("INCRBYFLOAT", "f", "inf") == "ERR increment would produce NaN or Infinity"
    assert c.err("INCRBYFLOAT", "f", "nan") == NOT_FLOAT
    assert c.cmd("GET", "f") == b"1"
    assert c.err("INCRBYFLOAT", "f") == arity("incrbyfloat")


# ---------------------------------------------------------------- GETRANGE SETRANGE

def test_getrange(c):
    c.cmd("SET", "k", "Hello World")
    cases = [
        ((0, 4), b"Hello"), ((0, -1), b"Hello World"), ((-5, -1), b"World"),
        ((6, 100), b"World"), ((-100, 4), b"Hello"), ((5, 3), b""), ((100, 200), b""),
        ((-1, -5), b""), ((0, 0), b"H"), ((-1, -1), b"d"), ((10, 10), b"d"),
    ]
    for (s, e), want in cases:
        assert c.cmd("GETRANGE", "k", s, e) == want, (s, e)
    assert c.cmd("GETRANGE", "missing", 0, -1) == b""
    assert c.err("GETRANGE", "k", "a", "1") == NOT_INT
    assert c.err("GETRANGE", "k", "0") == arity("getrange")
    c.cmd("HSET", "h", "f", "v")
    assert c.err("GETRANGE", "h", 0, 1) == WRONGTYPE


def test_setrange(c):
    c.cmd("SET", "k", "Hello World")
    assert c.cmd("SETRANGE", "k", 6, "Redis") == 11
    assert c.cmd("GET", "k") == b"Hello Redis"
    assert c.cmd("SETRANGE", "k", 11, "!!") == 13
    assert c.cmd("GET", "k") == b"Hello Redis!!"
    # padding with zero bytes, on a new key too
    assert c.cmd("SETRANGE", "p", 5, "x") == 6
    assert c.cmd("GET", "p") == b"\x00\x00\x00\x00\x00x"
    assert c.cmd("SETRANGE", "k", 15, "end") == 18
    assert c.cmd("GET", "k") == b"Hello Redis!!\x00\x00end"
    # an empty value changes nothing and does not create the key
    assert c.cmd("SETRANGE", "k", 100, "") == 18
    assert c.cmd("SETRANGE", "new", 0, "") == 0
    assert c.cmd("EXISTS", "new") == 0
    # limits
    assert c.err("SETRANGE", "k", -1, "x") == "ERR offset is out of range"
    assert c.err("SETRANGE", "k", 536870912, "x") == \
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert c.err("SETRANGE", "k", "abc", "x") == NOT_INT
    assert c.err("SETRANGE", "k", 0) == arity("setrange")
    c.cmd("HSET", "h", "f", "v")
    assert c.err("SETRANGE", "h", 0, "x") == WRONGTYPE


# ---------------------------------------------------------------- through redis-py

def test_strings_with_redis_py(r):
    assert r.set("user:1", "alice") is True
    assert r.get("user:1") == b"alice"
    assert r.set("user:1", "bob", nx=True) is None
    assert r.set("user:1", "bob", xx=True, ex=60) is True
    assert 0 < r.ttl("user:1") <= 60
    assert r.incr("visits") == 1
    assert r.incrby("visits", 9) == 10
    assert r.incrbyfloat("price", 1.25) == 1.25
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget(["a", "b", "zz"]) == [b"1", b"2", None]
    assert r.getdel("a") == b"1"
    assert r.getex("b", ex=100) == b"2"
    assert r.append("b", "3") == 2
    assert r.strlen("b") == 2
    with pytest.raises(Exception) as ei:
        r.incr("user:1")
    assert "not an integer" in str(ei.value)
