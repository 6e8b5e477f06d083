"""
Set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SRANDMEMBER SPOP
SMOVE SINTER SINTERCARD SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE SSCAN;
the intset -> hashtable conversion (OBJECT ENCODING, set-max-intset-entries),
TYPE, RENAME, SCAN TYPE, expiry, WRONGTYPE, extreme counts. An intset answers
in ascending order in Redis, so those replies are compared exactly; a
hashtable's order is unspecified and compared sorted.
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


def test_sadd_srem_card_ismember(c):
    assert c.cmd("SADD", "s", "a", "b", "a") == 2
    assert c.cmd("SADD", "s", "b", "c") == 1
    assert c.cmd("SCARD", "s") == 3
    assert c.cmd("SCARD", "nokey") == 0
    assert c.cmd("SISMEMBER", "s", "a") == 1
    assert c.cmd("SISMEMBER", "s", "z") == 0
    assert c.cmd("SISMEMBER", "nokey", "a") == 0
    assert c.cmd("SMISMEMBER", "s", "a", "z", "c") == [1, 0, 1]
    assert c.cmd("SMISMEMBER", "nokey", "a") == [0]
    assert c.cmd("SREM", "s", "a", "z", "a") == 1
    assert c.cmd("SREM", "nokey", "a") == 0
    assert c.cmd("SREM", "s", "b", "c") == 2
    assert c.cmd("EXISTS", "s") == 0
    assert c.err("SADD", "s") == arity("sadd")
    assert c.err("SMISMEMBER", "s") == arity("smismember")
    assert c.err("SISMEMBER", "s") == arity("sismember")


def test_intset_order_and_widths(c):
    # intset replies come sorted in Redis; widths grow 16 -> 32 -> 64 bits
    assert c.cmd("SADD", "i", "5", "-3", "100") == 3
    assert c.cmd("OBJECT", "ENCODING", "i") == b"intset"
    assert c.cmd("SMEMBERS", "i") == [b"-3", b"5", b"100"]
    c.cmd("SADD", "i", "70000", "-70000")
    assert c.cmd("SMEMBERS", "i") == [b"-70000", b"-3", b"5", b"100", b"70000"]
    c.cmd("SADD", "i", LLMAX, LLMIN)
    assert c.cmd("SMEMBERS", "i") == [LLMIN.encode(), b"-70000", b"-3", b"5", b"100", b"70000", LLMAX.encode()]
    assert c.cmd("SREM", "i", "70000", "-3") == 2
    assert c.cmd("SMEMBERS", "i") == [LLMIN.encode(), b"-70000", b"5", b"100", LLMAX.encode()]
    assert c.cmd("SISMEMBER", "i", "100") == 1
    assert c.cmd("SISMEMBER", "i", "0100") == 0
    assert c.cmd("OBJECT", "ENCODING", "i") == b"intset"
    # not canonical integers: the set converts
    assert c.cmd("SADD", "i", "007") == 1
    assert c.cmd("OBJECT", "ENCODING", "i") == b"hashtable"
    assert sorted(c.cmd("SMEMBERS", "i")) == sorted([LLMIN.encode(), b"-70000", b"5", b"100", LLMAX.encode(), b"007"])
    assert c.cmd("SREM", "i", "007") == 1
    assert c.cmd("OBJECT", "ENCODING", "i") == b"hashtable"  # never converts back
    c.cmd("SADD", "j", "-0")
    assert c.cmd("OBJECT", "ENCODING", "j") == b"hashtable"
    c.cmd("SADD", "k", "x")
    assert c.cmd("OBJECT", "ENCODING", "k") == b"hashtable"


def test_intset_entries_limit(c):
    assert c.cmd("CONFIG", "GET", "set-max-intset-entries") == [b"set-max-intset-entries", b"512"]
    c.cmd("SADD", "big", *[str(i) for i in range(512)])
    assert c.cmd("OBJECT", "ENCODING", "big") == b"intset"
    c.cmd("SADD", "big", "512")
    assert c.cmd("OBJECT", "ENCODING", "big") == b"hashtable"
    assert c.cmd("CONFIG", "SET", "set-max-intset-entries", "3") == "OK"
    try:
        c.cmd("SADD", "small", "1", "2", "3")
        assert c.cmd("OBJECT", "ENCODING", "small") == b"intset"
        c.cmd("SADD", "small", "4")
        assert c.cmd("OBJECT", "ENCODING", "small") == b"hashtable"
    finally:
        c.cmd("CONFIG", "SET", "set-max-intset-entries", "512")


def test_smove(c):
    c.cmd("SADD", "a", "1", "2")
    assert c.cmd("SMOVE", "a", "b", "1") == 1
    assert c.cmd("SMOVE", "a", "b", "9") == 0
    assert c.cmd("SMOVE", "nokey", "b", "1") == 0
    assert c.cmd("SMOVE", "a", "a", "2") == 1
    assert c.cmd("SMOVE", "a", "a", "9") == 0
    assert c.cmd("SMOVE", "a", "b", "2") == 1
    assert c.cmd("EXISTS", "a") == 0
    assert c.cmd("SMEMBERS", "b") == [b"1", b"2"]
    assert c.cmd("TYPE", "b") == "set"
    c.cmd("SET", "str", "v")
    assert c.err("SMOVE", "b", "str", "1") == WRONGTYPE
    assert c.err("SMOVE", "str", "b", "1") == WRONGTYPE
    assert c.cmd("SMOVE", "nokey", "str", "1") == 0


def test_srandmember(c):
    c.cmd("SADD", "s", "1", "2", "3")
    assert c.cmd("SRANDMEMBER", "s") in (b"1", b"2", b"3")
    assert c.cmd("SRANDMEMBER", "nokey") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("SRANDMEMBER", "s", "0") == []
    assert c.cmd("SRANDMEMBER", "nokey", "3") == []
    assert c.cmd("SRANDMEMBER", "s", LLMAX) == [b"1", b"2", b"3"]
    assert c.cmd("SRANDMEMBER", "s", "3") == [b"1", b"2", b"3"]
    two = c.cmd("SRANDMEMBER", "s", "2")
    assert len(set(two)) == 2 and set(two) <= {b"1", b"2", b"3"}
    rep = c.cmd("SRANDMEMBER", "s", "-10")
    assert len(rep) == 10 and set(rep) <= {b"1", b"2", b"3"}
    assert c.err("SRANDMEMBER", "s", LLMIN) == (
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    assert c.err("SRANDMEMBER", "s", "x") == NOT_INT
    assert c.err("SRANDMEMBER", "s", "1", "2") == SYNTAX
    c.cmd("SADD", "h", *[f"m{i}" for i in range(100)])
    some = c.cmd("SRANDMEMBER", "h", "30")
    assert len(set(some)) == 30


def test_spop(c):
    c.cmd("SADD", "s", "1", "2", "3", "4", "5")
    v = c.cmd("SPOP", "s")
    assert v in (b"1", b"2", b"3", b"4", b"5")
    assert c.cmd("SCARD", "s") == 4
    two = c.cmd("SPOP", "s", "2")
    assert len(set(two)) == 2 and v not in two
    assert c.cmd("SCARD", "s") == 2
    assert c.cmd("SPOP", "s", "0") == []
    rest = c.cmd("SPOP", "s", LLMAX)
    assert len(rest) == 2 and rest == sorted(rest, key=int)
    assert c.cmd("EXISTS", "s") == 0
    assert c.cmd("SPOP", "s") is None
    assert c.cmd("SPOP", "s", "3") == []
    assert c.err("SPOP", "s", "-1") == POSITIVE
    assert c.err("SPOP", "s", "x") == POSITIVE
    assert c.err("SPOP", "s", "1", "2") == SYNTAX
    c.cmd("SADD", "h", *[f"m{i}" for i in range(50)])
    got = c.cmd("SPOP", "h", "20")
    assert len(set(got)) == 20
    assert c.cmd("SCARD", "h") == 30
    assert c.cmd("SMISMEMBER", "h", *got) == [0] * 20


def test_sinter_sunion_sdiff_intsets(c):
    c.cmd("SADD", "a", "1", "2", "3", "4")
    c.cmd("SADD", "b", "3", "4", "5")
    c.cmd("SADD", "c", "4", "6")
    assert c.cmd("SINTER", "a", "b") == [b"3", b"4"]
    assert c.cmd("SINTER", "a", "b", "c") == [b"4"]
    assert c.cmd("SINTER", "a", "nokey") == []
    assert c.cmd("SUNION", "a", "b", "nokey") == [b"1", b"2", b"3", b"4", b"5"]
    assert c.cmd("SDIFF", "a", "b", "c") == [b"1", b"2"]
    assert c.cmd("SDIFF", "a", "a") == []
    assert c.cmd("SDIFF", "nokey", "a") == []
    assert c.cmd("SINTERCARD", "2", "a", "b") == 2
    assert c.cmd("SINTERCARD", "2", "a", "b", "LIMIT", "1") == 1
    assert c.cmd("SINTERCARD", "2", "a", "b", "LIMIT", "0") == 2
    assert c.cmd("SINTERCARD", "1", "nokey") == 0
    assert c.err("SINTERCARD", "0", "a") == "ERR numkeys should be greater than 0"
    assert c.err("SINTERCARD", "x", "a") == "ERR numkeys should be greater than 0"
    assert c.err("SINTERCARD", "2", "a") == "ERR Number of keys can't be greater than number of args"
    assert c.err("SINTERCARD", LLMAX, "a") == "ERR Number of keys can't be greater than number of args"
    assert c.err("SINTERCARD", "1", "a", "LIMIT", "-1") == "ERR LIMIT can't be negative"
    assert c.err("SINTERCARD", "1", "a", "FOO") == SYNTAX


def test_store_variants(c):
    c.cmd("SADD", "a", "1", "2", "x")
    c.cmd("SADD", "b", "2", "3")
    assert c.cmd("SINTERSTORE", "d", "a", "b") == 1
    assert c.cmd("SMEMBERS", "d") == [b"2"]
    assert c.cmd("OBJECT", "ENCODING", "d") == b"intset"
    assert c.cmd("SUNIONSTORE", "d", "a", "b") == 4
    assert sorted(c.cmd("SMEMBERS", "d")) == [b"1", b"2", b"3", b"x"]
    assert c.cmd("SDIFFSTORE", "d", "a", "b") == 2
    assert sorted(c.cmd("SMEMBERS", "d")) == [b"1", b"x"]
    assert c.cmd("OBJECT", "ENCODING", "d") == b"hashtable"
    # the destination may be a source; its TTL and type are replaced
    c.cmd("EXPIRE", "a", "100")
    assert c.cmd("SINTERSTORE", "a", "a", "b") == 1
    assert c.cmd("TTL", "a") == -1
    c.cmd("SET", "str", "v")
    assert c.cmd("SUNIONSTORE", "str", "b") == 2
    assert c.cmd("TYPE", "str") == "set"
    # an empty result deletes the destination
    assert c.cmd("SINTERSTORE", "str", "b", "nokey") == 0
    assert c.cmd("EXISTS", "str") == 0
    assert c.cmd("SDIFFSTORE", "d", "b", "b") == 0
    assert c.cmd("EXISTS", "d") == 0
    assert c.err("SINTERSTORE", "d") == arity("sinterstore")


def test_wrongtype_and_generic(c):
    c.cmd("SET", "str", "v")
    c.cmd("SADD", "s", "a")
    for args in (("SADD", "str", "a"), ("SREM", "str", "a"), ("SCARD", "str"), ("SISMEMBER", "str", "a"),
                 ("SMISMEMBER", "str", "a"), ("SMEMBERS", "str"), ("SRANDMEMBER", "str"),
                 ("SRANDMEMBER", "str", "2"), ("SPOP", "str"), ("SPOP", "str", "1"), ("SINTER", "s", "str"),
                 ("SINTER", "nokey", "str"), ("SUNION", "s", "str"), ("SDIFF", "s", "str"),
                 ("SINTERSTORE", "d", "s", "str"), ("SINTERCARD", "2", "s", "str"), ("SSCAN", "str", "0")):
        assert c.err(*args) == WRONGTYPE, args
    assert c.err("GET", "s") == WRONGTYPE
    assert c.err("LPUSH", "s", "x") == WRONGTYPE
    assert c.cmd("TYPE", "s") == "set"
    assert c.cmd("RENAME", "s", "s2") == "OK"
    assert c.cmd("SMEMBERS", "s2") == [b"a"]
    assert c.cmd("SCAN", "0", "TYPE", "set", "COUNT", "100") == [b"0", [b"s2"]]
    assert c.cmd("PEXPIRE", "s2", "1") == 1
    wait_until(lambda: c.cmd("EXISTS", "s2") == 0, what="set expiry")


def test_sscan(c):
    c.cmd("SADD", "i", "3", "1", "2")
    assert c.cmd("SSCAN", "i", "0") == [b"0", [b"1", b"2", b"3"]]
    assert c.cmd("SSCAN", "i", "0", "MATCH", "[12]") == [b"0", [b"1", b"2"]]
    assert c.cmd("SSCAN", "nokey", "0") == [b"0", []]
    assert c.err("SSCAN", "i", "abc") == "ERR invalid cursor"
    assert c.err("SSCAN", "i", "0", "COUNT", "0") == SYNTAX
    assert c.err("SSCAN", "i", "0", "COUNT", "x") == NOT_INT
    assert c.err("SSCAN", "i", "0", "FOO", "1") == SYNTAX
    members = {f"m{i}".encode() for i in range(1000)}
    c.cmd("SADD", "h", *members)
    seen, cursor = set(), b"0"
    for _ in range(10000):
        cursor, batch = c.cmd("SSCAN", "h", cursor, "COUNT", "50")
        seen.update(batch)
        if cursor == b"0":
            break
    assert seen == members


def test_redis_py_set_api(r):
    assert r.sadd("tags", "a", "b", "c") == 3
    assert r.smembers("tags") == {b"a", b"b", b"c"}
    assert r.sismember("tags", "a")
    assert r.smismember("tags", ["a", "z"]) == [1, 0]
    r.sadd("other", "b", "c", "d")
    assert r.sinter("tags", "other") == {b"b", b"c"}
    assert r.sunion("tags", "other") == {b"a", b"b", b"c", b"d"}
    assert r.sdiff("tags", "other") == {b"a"}
    assert r.sintercard(2, ["tags", "other"]) == 2
    assert r.smove("tags", "other", "a")
    assert r.scard("other") == 4
    assert set(r.sscan_iter("other")) == {b"a", b"b", b"c", b"d"}


def test_random_ops_against_model(server):
    c = server.conn()
    c.cmd("CONFIG", "SET", "set-max-intset-entries", "16")
    try:
        rnd = random.Random(99)
        model = {"x": set(), "y": set()}
        for _ in range(2000):
            k = rnd.choice("xy")
            op = rnd.randrange(5)
            m = str(rnd.randrange(-40, 40)) if rnd.random() < 0.9 else f"s{rnd.randrange(10)}"
            if op <= 1:
                assert c.cmd("SADD", k, m) == (m not in model[k])
                model[k].add(m)
            elif op == 2:
                assert c.cmd("SREM", k, m) == (m in model[k])
                model[k].discard(m)
            elif op == 3:
                assert c.cmd("SISMEMBER", k, m) == (m in model[k])
            else:
                assert c.cmd("SCARD", k) == len(model[k])
            if rnd.random() < 0.05:
                o = "y" if k == "x" else "x"
                assert {v.decode() for v in c.cmd("SINTER", k, o)} == model[k] & model[o]
                assert {v.decode() for v in c.cmd("SUNION", k, o)} == model[k] | model[o]
                assert {v.decode() for v in c.cmd("SDIFF", k, o)} == model[k] - model[o]
        for k in model:
            assert {v.decode() for v in c.cmd("SMEMBERS", k)} == model[k]
    finally:
        c.cmd("CONFIG", "SET", "set-max-intset-entries", "512")


@pytest.mark.scaleout_only
def test_huge_negative_srandmember_is_bounded(server_factory):
    """Redis would loop for 2^63 picks; kv stops at the output limit and
    drops the client (as past client-output-buffer-limit), and stays up."""
    s = server_factory("--client-output-buffer-limit", "normal 4mb 0 0")
    c = s.conn()
    c.cmd("SADD", "s", "a")
    c.send_cmd("SRANDMEMBER", "s", "-9223372036854775807")
    c.read_until_closed(timeout=10)
    assert s.conn().cmd("SCARD", "s") == 1
