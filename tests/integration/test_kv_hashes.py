"""
Hash commands: HSET HSETNX HGET HMGET HMSET HGETALL HDEL HEXISTS HLEN HKEYS HVALS
HINCRBY HINCRBYFLOAT HSTRLEN HSCAN, small and large (1000 fields) hashes.
Field order of HGETALL/HKEYS/HVALS is not part of the contract (Redis changes
it when a hash grows), so those are compared as sets or dicts.
"""
import pytest

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"


def arity(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


def pairs_to_dict(flat):
    assert len(flat) % 2 == 0
    return dict(zip(flat[0::2], flat[1::2]))


def test_hset_hget(c):
    assert c.cmd("HSET", "h", "f1", "v1") == 1
    assert c.cmd("HSET", "h", "f1", "v1b", "f2", "v2", "f3", "v3") == 2
    assert c.cmd("HGET", "h", "f1") == b"v1b"
    assert c.cmd("HGET", "h", "nofield") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("HGET", "nokey", "f") is None
    assert c.cmd("HSET", "h", "empty", "") == 1
    assert c.cmd("HGET", "h", "empty") == b""
    assert c.err("HSET", "h", "f") == arity("hset")
    assert c.err("HSET", "h", "f", "v", "g") == arity("hset")
    assert c.err("HSET", "h") == arity("hset")
    assert c.err("HGET", "h") == arity("hget")


def test_hsetnx(c):
    assert c.cmd("HSETNX", "h", "f", "v1") == 1
    assert c.cmd("HSETNX", "h", "f", "v2") == 0
    assert c.cmd("HGET", "h", "f") == b"v1"
    assert c.err("HSETNX", "h", "f") == arity("hsetnx")


def test_hmset_hmget(c):
    assert c.cmd("HMSET", "h", "a", "1", "b", "2") == "OK"
    assert c.last_raw == b"+OK\r\n"
    assert c.cmd("HMGET", "h", "a", "nofield", "b", "a") == [b"1", None, b"2", b"1"]
    assert c.cmd("HMGET", "nokey", "a", "b") == [None, None]
    assert c.err("HMSET", "h", "a") == arity("hmset")
    assert c.err("HMGET", "h") == arity("hmget")


def test_hgetall_hkeys_hvals_hlen(c):
    assert c.cmd("HGETALL", "nokey") == []
    assert c.last_raw == b"*0\r\n"
    assert c.cmd("HKEYS", "nokey") == []
    assert c.cmd("HVALS", "nokey") == []
    assert c.cmd("HLEN", "nokey") == 0
    c.cmd("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert pairs_to_dict(c.cmd("HGETALL", "h")) == {b"a": b"1", b"b": b"2", b"c": b"3"}
    assert sorted(c.cmd("HKEYS", "h")) == [b"a", b"b", b"c"]
    assert sorted(c.cmd("HVALS", "h")) == [b"1", b"2", b"3"]
    assert c.cmd("HLEN", "h") == 3
    # HKEYS and HVALS come in the same order as HGETALL
    flat = c.cmd("HGETALL", "h")
    assert c.cmd("HKEYS", "h") == flat[0::2]
    assert c.cmd("HVALS", "h") == flat[1::2]


def test_hdel_hexists(c):
    c.cmd("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert c.cmd("HEXISTS", "h", "a") == 1
    assert c.cmd("HEXISTS", "h", "z") == 0
    assert c.cmd("HEXISTS", "nokey", "a") == 0
    assert c.cmd("HDEL", "h", "a", "z", "a") == 1
    assert c.cmd("HEXISTS", "h", "a") == 0
    assert c.cmd("HDEL", "nokey", "a") == 0
    # deleting the last field deletes the key
    assert c.cmd("HDEL", "h", "b", "c") == 2
    assert c.cmd("EXISTS", "h") == 0
    assert c.cmd("TYPE", "h") == "none"
    assert c.err("HDEL", "h") == arity("hdel")
    assert c.err("HEXISTS", "h") == arity("hexists")


def test_hincrby(c):
    assert c.cmd("HINCRBY", "h", "n", "5") == 5
    assert c.cmd("HINCRBY", "h", "n", "-7") == -2
    assert c.cmd("HGET", "h", "n") == b"-2"
    c.cmd("HSET", "h", "s", "abc", "big", "9223372036854775807")
    assert c.err("HINCRBY", "h", "s", "1") == "ERR hash value is not an integer"
    assert c.err("HINCRBY", "h", "n", "x") == NOT_INT
    assert c.err("HINCRBY", "h", "n", "1.5") == NOT_INT
    assert c.err("HINCRBY", "h", "big", "1") == OVERFLOW
    assert c.cmd("HINCRBY", "h", "big", "-1") == 9223372036854775806
    assert c.err("HINCRBY", "h", "n") == arity("hincrby")


def test_hincrbyfloat(c):
    assert c.cmd("HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert c.cmd("HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    assert c.cmd("HINCRBYFLOAT", "h", "f", "-0.6") == b"10"
    c.cmd("HSET", "h", "e", "5.0e3", "s", "abc")
    assert c.cmd("HINCRBYFLOAT", "h", "e", "0") == b"5000"
    assert c.cmd("HGET", "h", "e") == b"5000"
    assert c.err("HINCRBYFLOAT", "h", "s", "1") == "ERR hash value is not a float"
    assert c.err("HINCRBYFLOAT", "h", "f", "x") == NOT_FLOAT
    # not the same text as INCRBYFLOAT's ("increment would produce NaN or Infinity")
    assert c.err("HINCRBYFLOAT", "h", "f", "inf") == "ERR value is NaN or Infinity"
    assert c.err("HINCRBYFLOAT", "h", "f") == arity("hincrbyfloat")


def test_hstrlen(c):
    c.cmd("HSET", "h", "f", "hello", "n", "12345")
    assert c.cmd("HSTRLEN", "h", "f") == 5
    assert c.cmd("HSTRLEN", "h", "n") == 5
    assert c.cmd("HSTRLEN", "h", "nofield") == 0
    assert c.cmd("HSTRLEN", "nokey", "f") == 0
    assert c.err("HSTRLEN", "h") == arity("hstrlen")


@pytest.mark.parametrize("cmd", [
    ("HSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"), ("HGET", "s", "f"),
    ("HMGET", "s", "f"), ("HMSET", "s", "f", "v"), ("HGETALL", "s"), ("HDEL", "s", "f"),
    ("HEXISTS", "s", "f"), ("HLEN", "s"), ("HKEYS", "s"), ("HVALS", "s"),
    ("HINCRBY", "s", "f", "1"), ("HINCRBYFLOAT", "s", "f", "1"), ("HSTRLEN", "s", "f"),
    ("HSCAN", "s", "0"),
])
def test_hash_commands_wrongtype(c, cmd):
    c.cmd("SET", "s", "string")
    assert c.err(*cmd) == WRONGTYPE
    assert c.cmd("GET", "s") == b"string"


def test_string_commands_on_hash_wrongtype(c):
    c.cmd("HSET", "h", "f", "v")
    for cmd in [("GET", "h"), ("APPEND", "h", "x"), ("INCR", "h"), ("STRLEN", "h"),
                ("GETRANGE", "h", "0", "1"), ("SETRANGE", "h", "0", "x"), ("GETSET", "h", "x")]:
        assert c.err(*cmd) == WRONGTYPE, cmd


def test_large_hash(c):
    n = 1000
    args = []
    for i in range(n):
        args += [f"field:{i}", f"value:{i}" * 3]
    assert c.cmd("HSET", "big", *args) == n
    assert c.cmd("HLEN", "big") == n
    want = {f"field:{i}".encode(): (f"value:{i}" * 3).encode() for i in range(n)}
    assert pairs_to_dict(c.cmd("HGETALL", "big")) == want
    assert set(c.cmd("HKEYS", "big")) == set(want)
    assert sorted(c.cmd("HVALS", "big")) == sorted(want.values())
    assert c.cmd("HGET", "big", "field:777") == b"value:777" * 3
    assert c.cmd("HMGET", "big", "field:0", "field:999", "nope") == \
        [b"value:0" * 3, b"value:999" * 3, None]
    assert c.cmd("HDEL", "big", *[f"field:{i}" for i in range(0, n, 2)]) == n // 2
    assert c.cmd("HLEN", "big") == n // 2
    assert c.cmd("HEXISTS", "big", "field:2") == 0
    assert c.cmd("HEXISTS", "big", "field:3") == 1
    # a long value in a large hash
    assert c.cmd("HSET", "big", "long", "x" * 100000) == 1
    assert c.cmd("HSTRLEN", "big", "long") == 100000


def _full_hscan(c, key, *opts):
    cursor = b"0"
    fields = {}
    for _ in range(5000):
        reply = c.cmd("HSCAN", key, cursor, *opts)
        assert isinstance(reply, list) and len(reply) == 2, reply
        cursor, flat = reply
        fields.update(pairs_to_dict(flat))
        if cursor == b"0":
            return fields
    pytest.fail("HSCAN did not terminate")


def test_hscan(c):
    assert c.cmd("HSCAN", "nokey", "0") == [b"0", []]
    c.cmd("HSET", "small", "a", "1", "b", "2")
    assert _full_hscan(c, "small") == {b"a": b"1", b"b": b"2"}
    n = 1000
    args = []
    for i in range(n):
        args += [f"f{i}", str(i)]
    c.cmd("HSET", "big", *args)
    assert _full_hscan(c, "big") == {f"f{i}".encode(): str(i).encode() for i in range(n)}
    assert _full_hscan(c, "big", "COUNT", "100") == \
        {f"f{i}".encode(): str(i).encode() for i in range(n)}
    assert _full_hscan(c, "big", "MATCH", "f99*") == \
        {f"f{i}".encode(): str(i).encode() for i in [99] + list(range(990, 1000))}
    assert c.err("HSCAN", "big", "x") == "ERR invalid cursor"
    assert c.err("HSCAN", "big", "0", "COUNT", "0") == "ERR syntax error"
    assert c.err("HSCAN", "big") == arity("hscan")


def test_hashes_with_redis_py(r):
    assert r.hset("user:1", mapping={"name": "alice", "age": "30"}) == 2
    assert r.hget("user:1", "name") == b"alice"
    assert r.hgetall("user:1") == {b"name": b"alice", b"age": b"30"}
    assert r.hincrby("user:1", "age", 1) == 31
    assert r.hincrbyfloat("user:1", "score", 2.5) == 2.5
    assert r.hmget("user:1", ["name", "nope"]) == [b"alice", None]
    assert r.hexists("user:1", "name") is True
    assert r.hdel("user:1", "name") == 1
    assert r.hlen("user:1") == 2
    assert dict(r.hscan_iter("user:1")) == {b"age": b"31", b"score": b"2.5"}
