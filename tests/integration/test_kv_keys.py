"""
Generic key commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX, the EXPIRE family
(with Redis 7's NX XX GT LT), TTL PTTL PERSIST KEYS SCAN RANDOMKEY TOUCH.
"""
import time

import pytest

NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"


def arity(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


def test_del_unlink(c):
    c.cmd("MSET", "a", "1", "b", "2", "c", "3")
    c.cmd("HSET", "h", "f", "v")
    assert c.cmd("DEL", "a", "nokey", "h") == 2
    assert c.cmd("DEL", "b", "b") == 1
    assert c.cmd("UNLINK", "c", "nokey") == 1
    assert c.cmd("UNLINK", "c") == 0
    assert c.cmd("DBSIZE") == 0
    assert c.err("DEL") == arity("del")
    assert c.err("UNLINK") == arity("unlink")


def test_exists_counts_duplicates(c):
    c.cmd("SET", "a", "1")
    c.cmd("HSET", "h", "f", "v")
    assert c.cmd("EXISTS", "a") == 1
    assert c.cmd("EXISTS", "nokey") == 0
    assert c.cmd("EXISTS", "a", "a", "a") == 3
    assert c.cmd("EXISTS", "a", "h", "nokey", "h") == 3
    assert c.err("EXISTS") == arity("exists")


def test_type(c):
    c.cmd("SET", "s", "1")
    c.cmd("HSET", "h", "f", "v")
    assert c.cmd("TYPE", "s") == "string"
    assert c.last_raw == b"+string\r\n"
    assert c.cmd("TYPE", "h") == "hash"
    assert c.cmd("TYPE", "nokey") == "none"
    assert c.err("TYPE") == arity("type")


def test_rename(c):
    c.cmd("SET", "a", "1", "EX", "100")
    assert c.cmd("RENAME", "a", "b") == "OK"
    assert c.cmd("EXISTS", "a") == 0
    assert c.cmd("GET", "b") == b"1"
    assert 0 < c.cmd("TTL", "b") <= 100  # the TTL travels with the value
    # overwrites a destination of any type, and its TTL
    c.cmd("HSET", "h", "f", "v")
    c.cmd("EXPIRE", "h", "500")
    c.cmd("PERSIST", "b")
    assert c.cmd("RENAME", "b", "h") == "OK"
    assert c.cmd("TYPE", "h") == "string"
    assert c.cmd("TTL", "h") == -1
    # to itself: OK, unchanged
    assert c.cmd("RENAME", "h", "h") == "OK"
    assert c.cmd("GET", "h") == b"1"
    assert c.err("RENAME", "nokey", "x") == "ERR no such key"
    assert c.err("RENAME", "nokey", "nokey") == "ERR no such key"
    assert c.err("RENAME", "h") == arity("rename")


def test_renamenx(c):
    c.cmd("SET", "a", "1")
    c.cmd("SET", "b", "2")
    assert c.cmd("RENAMENX", "a", "b") == 0
    assert c.cmd("GET", "a") == b"1"
    assert c.cmd("RENAMENX", "a", "c") == 1
    assert c.cmd("GET", "c") == b"1"
    assert c.cmd("EXISTS", "a") == 0
    assert c.cmd("RENAMENX", "c", "c") == 0
    assert c.err("RENAMENX", "nokey", "x") == "ERR no such key"


def test_expire_ttl_persist(c):
    assert c.cmd("TTL", "nokey") == -2
    assert c.cmd("PTTL", "nokey") == -2
    c.cmd("SET", "k", "v")
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("PTTL", "k") == -1
    assert c.cmd("EXPIRE", "k", "100") == 1
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert 98000 <= c.cmd("PTTL", "k") <= 100000
    assert c.cmd("PEXPIRE", "k", "50000") == 1
    assert 48 <= c.cmd("TTL", "k") <= 50
    assert c.cmd("PERSIST", "k") == 1
    assert c.cmd("PERSIST", "k") == 0
    assert c.cmd("PERSIST", "nokey") == 0
    assert c.cmd("TTL", "k") == -1
    assert c.cmd("EXPIRE", "nokey", "100") == 0
    assert c.cmd("PEXPIRE", "nokey", "100") == 0


def test_expireat_pexpireat(c):
    c.cmd("SET", "k", "v")
    now = int(time.time())
    assert c.cmd("EXPIREAT", "k", now + 100) == 1
    assert 97 <= c.cmd("TTL", "k") <= 100
    assert c.cmd("PEXPIREAT", "k", (now + 200) * 1000) == 1
    assert 197 <= c.cmd("TTL", "k") <= 200
    assert c.cmd("EXPIREAT", "nokey", now + 100) == 0
    # a time in the past deletes the key at once
    assert c.cmd("EXPIREAT", "k", now - 10) == 1
    assert c.cmd("EXISTS", "k") == 0
    c.cmd("SET", "k", "v")
    assert c.cmd("PEXPIREAT", "k", 1) == 1
    assert c.cmd("GET", "k") is None


def test_expire_zero_or_negative_deletes(c):
    c.cmd("SET", "a", "1")
    c.cmd("SET", "b", "1")
    c.cmd("HSET", "h", "f", "v")
    assert c.cmd("EXPIRE", "a", "0") == 1
    assert c.cmd("PEXPIRE", "b", "-1") == 1
    assert c.cmd("EXPIRE", "h", "-100") == 1
    assert c.cmd("EXISTS", "a", "b", "h") == 0


def test_expire_errors(c):
    c.cmd("SET", "k", "v")
    assert c.err("EXPIRE", "k", "abc") == NOT_INT
    assert c.err("EXPIRE", "k", "1.5") == NOT_INT
    assert c.err("PEXPIRE", "k", "") == NOT_INT
    assert c.err("EXPIREAT", "k", "x") == NOT_INT
    assert c.err("EXPIRE", "k", "9999999999999999") == "ERR invalid expire time in 'expire' command"
    assert c.err("PEXPIRE", "k", "9223372036854775807") == \
        "ERR invalid expire time in 'pexpire' command"
    assert c.err("EXPIRE", "k") == arity("expire")
    assert c.err("TTL") == arity("ttl")
    assert c.err("PERSIST") == arity("persist")
    assert c.err("EXPIRE", "k", "10", "FOO") == "ERR Unsupported option FOO"
    assert c.err("EXPIRE", "k", "10", "nx", "xx") == \
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    assert c.err("EXPIRE", "k", "10", "NX", "GT") == \
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    assert c.err("PEXPIRE", "k", "10", "GT", "LT") == \
        "ERR GT and LT options at the same time are not compatible"
    assert c.cmd("TTL", "k") == -1


@pytest.mark.parametrize("cmd,unit", [("EXPIRE", 1), ("PEXPIRE", 1000)])
def test_expire_options_nx_xx_gt_lt(c, cmd, unit):
    c.cmd("SET", "k", "v")
    # no TTL yet: XX and GT fail, NX and LT succeed (no TTL = infinite)
    assert c.cmd(cmd, "k", 100 * unit, "XX") == 0
    assert c.cmd(cmd, "k", 100 * unit, "GT") == 0
    assert c.cmd("TTL", "k") == -1
    assert c.cmd(cmd, "k", 100 * unit, "NX") == 1
    assert c.cmd(cmd, "k", 200 * unit, "NX") == 0
    assert 98 <= c.cmd("TTL", "k") <= 100
    assert c.cmd(cmd, "k", 200 * unit, "XX") == 1
    assert 198 <= c.cmd("TTL", "k") <= 200
    assert c.cmd(cmd, "k", 100 * unit, "GT") == 0
    assert c.cmd(cmd, "k", 300 * unit, "GT") == 1
    assert 298 <= c.cmd("TTL", "k") <= 300
    assert c.cmd(cmd, "k", 400 * unit, "LT") == 0
    assert c.cmd(cmd, "k", 50 * unit, "lt") == 1
    assert 48 <= c.cmd("TTL", "k") <= 50
    assert c.cmd(cmd, "k", 10 * unit, "XX", "LT") == 1
    assert 8 <= c.cmd("TTL", "k") <= 10
    c.cmd("SET", "p", "v")
    assert c.cmd(cmd, "p", 100 * unit, "LT") == 1
    assert c.cmd(cmd, "nokey", 100 * unit, "NX") == 0


def test_expireat_options(c):
    c.cmd("SET", "k", "v")
    now = int(time.time())
    assert c.cmd("EXPIREAT", "k", now + 100, "XX") == 0
    assert c.cmd("EXPIREAT", "k", now + 100, "NX") == 1
    assert c.cmd("EXPIREAT", "k", now + 50, "GT") == 0
    assert c.cmd("PEXPIREAT", "k", (now + 50) * 1000, "LT") == 1
    assert 47 <= c.cmd("TTL", "k") <= 50


def test_keys_glob(c):
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "foo", "foo:1", "foo:22", "bar"]
    c.cmd("MSET", *[x for n in names for x in (n, "v")])
    c.cmd("HSET", "hash", "f", "v")

    def keys(p):
        return sorted(c.cmd("KEYS", p))

    assert keys("*") == sorted([n.encode() for n in names] + [b"hash"])
    assert keys("h?llo") == [b"h*llo", b"hallo", b"hello", b"hxllo"]
    assert keys("h*llo") == [b"h*llo", b"hallo", b"heeeello", b"hello", b"hllo", b"hxllo"]
    assert keys("h[ae]llo") == [b"hallo", b"hello"]
    assert keys("h[^e]llo") == [b"h*llo", b"hallo", b"hxllo"]
    assert keys("h[a-b]llo") == [b"hallo"]
    assert keys(r"h\*llo") == [b"h*llo"]
    assert keys("foo:*") == [b"foo:1", b"foo:22"]
    assert keys("foo:?") == [b"foo:1"]
    assert keys("nomatch*") == []
    assert keys("bar") == [b"bar"]
    assert c.err("KEYS") == arity("keys")


def test_keys_skips_expired(c):
    c.cmd("SET", "live", "v")
    c.cmd("SET", "dead", "v", "PXAT", "1")
    assert c.cmd("KEYS", "*") == [b"live"]


def _full_scan(c, *opts, limit=5000):
    """Iterates SCAN to the end; returns (list of keys in order seen, calls)."""
    cursor = b"0"
    seen = []
    calls = 0
    while True:
        reply = c.cmd("SCAN", cursor, *opts)
        assert isinstance(reply, list) and len(reply) == 2, reply
        cursor, keys = reply
        assert isinstance(cursor, bytes)
        seen += keys
        calls += 1
        assert calls < limit, "SCAN did not terminate"
        if cursor == b"0":
            return seen, calls


def test_scan_full_iteration(c):
    n = 1000
    c.pipeline([("SET", f"key:{i}", i) for i in range(n)])
    c.pipeline([("HSET", f"hash:{i}", "f", i) for i in range(100)])
    seen, calls = _full_scan(c)
    assert set(seen) == {f"key:{i}".encode() for i in range(n)} | \
        {f"hash:{i}".encode() for i in range(100)}
    assert calls > 1  # default COUNT 10 needs many calls

    seen, _ = _full_scan(c, "COUNT", "100")
    assert len(set(seen)) == n + 100
    seen, _ = _full_scan(c, "MATCH", "key:1*", "COUNT", "50")
    assert set(seen) == {f"key:{i}".encode() for i in range(n) if str(i).startswith("1")}
    seen, _ = _full_scan(c, "TYPE", "hash", "COUNT", "1000")
    assert set(seen) == {f"hash:{i}".encode() for i in range(100)}
    seen, _ = _full_scan(c, "TYPE", "string", "MATCH", "key:99*")
    assert set(seen) == {b"key:99", b"key:990", b"key:991", b"key:992", b"key:993", b"key:994",
                         b"key:995", b"key:996", b"key:997", b"key:998", b"key:999"}
    seen, _ = _full_scan(c, "MATCH", "nothing*")
    assert seen == []


def test_scan_with_redis_py(r):
    with r.pipeline(transaction=False) as p:
        for i in range(500):
            p.set(f"u:{i}", i)
        p.execute()
    assert set(r.scan_iter(match="u:*", count=37)) == {f"u:{i}".encode() for i in range(500)}


def test_scan_errors(c):
    assert c.cmd("SCAN", "0") == [b"0", []]
    assert c.err("SCAN", "abc") == "ERR invalid cursor"
    assert c.err("SCAN", "12x") == "ERR invalid cursor"
    assert c.err("SCAN", "0", "COUNT", "0") == SYNTAX
    assert c.err("SCAN", "0", "COUNT", "abc") == NOT_INT
    assert c.err("SCAN", "0", "COUNT") == SYNTAX
    assert c.err("SCAN", "0", "FOO", "1") == SYNTAX
    assert c.err("SCAN") == arity("scan")


def test_randomkey(c):
    assert c.cmd("RANDOMKEY") is None
    assert c.last_raw == b"$-1\r\n"
    c.cmd("MSET", "a", "1", "b", "2", "c", "3")
    got = {c.cmd("RANDOMKEY") for _ in range(100)}
    assert got <= {b"a", b"b", b"c"}
    assert len(got) >= 2  # it is random, not always the same key
    assert c.err("RANDOMKEY", "x") == arity("randomkey")


def test_touch(c):
    c.cmd("MSET", "a", "1", "b", "2")
    assert c.cmd("TOUCH", "a", "b", "nokey") == 2
    assert c.cmd("TOUCH", "a", "a") == 2
    assert c.cmd("TOUCH", "nokey") == 0
    assert c.err("TOUCH") == arity("touch")


def test_dbsize_flushdb(c):
    assert c.cmd("DBSIZE") == 0
    c.cmd("MSET", "a", "1", "b", "2")
    c.cmd("HSET", "h", "f", "v")
    assert c.cmd("DBSIZE") == 3
    assert c.cmd("FLUSHDB") == "OK"
    assert c.cmd("DBSIZE") == 0
