"""
SORT and SORT_RO on lists, sets and sorted sets: numeric and ALPHA order,
ASC/DESC, LIMIT (clamped like Redis 7.0.8+), BY patterns (string keys, hash
fields, a constant pattern = no sorting), GET patterns (#, keys, hash fields,
missing ones), STORE, and Redis's error texts. Same assertions against
scaleout and redis-server.
"""
import pytest

from conftest import RespError

NOT_INT = "ERR value is not an integer or out of range"
NOT_DOUBLE = "ERR One or more scores can't be converted into double"
SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def fill(c):
    c.cmd("RPUSH", "l", "3", "1", "2", "10", "5.5", "-1")
    for el, w in [("3", 30), ("1", 10), ("2", 20), ("10", 5), ("5.5", 7), ("-1", 100)]:
        c.cmd("SET", f"w_{el}", str(w))
        c.cmd("HSET", f"h_{el}", "f", str(w), "name", f"n{el}")


def b(*xs):
    return [x.encode() if isinstance(x, str) else x for x in xs]


def test_numeric_order_desc_and_limit(c):
    fill(c)
    assert c.cmd("SORT", "l") == b("-1", "1", "2", "3", "5.5", "10")
    assert c.cmd("SORT", "l", "DESC") == b("10", "5.5", "3", "2", "1", "-1")
    assert c.cmd("SORT", "l", "ASC", "DESC", "ASC") == b("-1", "1", "2", "3", "5.5", "10")
    assert c.cmd("SORT", "l", "LIMIT", "1", "2") == b("1", "2")
    assert c.cmd("SORT", "l", "DESC", "LIMIT", "1", "2") == b("5.5", "3")
    assert c.cmd("SORT", "l", "LIMIT", "-5", "100") == b("-1", "1", "2", "3", "5.5", "10")
    assert c.cmd("SORT", "l", "LIMIT", "2", "-1") == b("2", "3", "5.5", "10")
    assert c.cmd("SORT", "l", "LIMIT", "10", "1") == []
    assert c.cmd("SORT", "l", "LIMIT", "0", "0") == []
    huge = "9223372036854775807"
    assert c.cmd("SORT", "l", "LIMIT", huge, huge) == []
    assert c.cmd("SORT", "l", "LIMIT", "5", huge) == b("10")
    assert c.cmd("SORT", "l", "LIMIT", "-9223372036854775808", "-9223372036854775808") == \
        b("-1", "1", "2", "3", "5.5", "10")
    assert c.cmd("SORT_RO", "l", "DESC", "LIMIT", "0", "1") == b("10")
    # numeric ties are broken by the element bytes
    c.cmd("RPUSH", "t", "1.0", "1", "01", "1e0")
    assert c.cmd("SORT", "t") == b("01", "1", "1.0", "1e0")
    assert c.cmd("SORT", "t", "DESC") == b("1e0", "1.0", "1", "01")


def test_alpha(c):
    c.cmd("RPUSH", "la", "b", "a", "c", "aa", "ab", "ba")
    assert c.cmd("SORT", "la", "ALPHA") == b("a", "aa", "ab", "b", "ba", "c")
    assert c.cmd("SORT", "la", "ALPHA", "DESC", "LIMIT", "0", "2") == b("c", "ba")
    assert c.err("SORT", "la") == NOT_DOUBLE
    c.cmd("SADD", "sa", "x", "y", "z", "w")
    assert c.cmd("SORT", "sa", "ALPHA") == b("w", "x", "y", "z")
    c.cmd("ZADD", "z", "1", "c", "3", "a", "2", "b", "0", "d")
    assert c.cmd("SORT", "z", "ALPHA") == b("a", "b", "c", "d")


def test_by_patterns(c):
    fill(c)
    assert c.cmd("SORT", "l", "BY", "w_*") == b("10", "5.5", "1", "2", "3", "-1")
    assert c.cmd("SORT", "l", "BY", "w_*", "DESC") == b("-1", "3", "2", "1", "5.5", "10")
    assert c.cmd("SORT", "l", "BY", "h_*->f") == b("10", "5.5", "1", "2", "3", "-1")
    assert c.cmd("SORT", "l", "BY", "w_*", "LIMIT", "1", "2") == b("5.5", "1")
    # a missing weight counts as 0 (ALPHA: sorts first)
    c.cmd("DEL", "w_2", "h_3")
    assert c.cmd("SORT", "l", "BY", "w_*") == b("2", "10", "5.5", "1", "3", "-1")
    assert c.cmd("SORT", "l", "BY", "h_*->name", "ALPHA") == b("3", "-1", "1", "10", "2", "5.5")
    # a weight that is no number
    c.cmd("SET", "w_1", "abc")
    assert c.err("SORT", "l", "BY", "w_*") == NOT_DOUBLE
    # a constant pattern: the list's own order, DESC reverses it, LIMIT slices it
    assert c.cmd("SORT", "l", "BY", "nosort") == b("3", "1", "2", "10", "5.5", "-1")
    assert c.cmd("SORT", "l", "BY", "nosort", "DESC") == b("-1", "5.5", "10", "2", "1", "3")
    assert c.cmd("SORT", "l", "BY", "nosort", "LIMIT", "1", "3") == b("1", "2", "10")
    assert c.cmd("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3") == b("5.5", "10", "2")


def test_get_patterns(c):
    fill(c)
    assert c.cmd("SORT", "l", "LIMIT", "0", "2", "GET", "#", "GET", "w_*", "GET", "h_*->name",
                 "GET", "nostar", "GET", "h_*->", "GET", "w_*->f") == [
        b"-1", b"100", b"n-1", None, None, None,
        b"1", b"10", b"n1", None, None, None]
    assert c.cmd("SORT", "l", "BY", "w_*", "GET", "h_*->name", "LIMIT", "0", "3") == b("n10", "n5.5", "n1")
    # keys of the wrong type give nil
    c.cmd("DEL", "w_3")
    c.cmd("RPUSH", "w_3", "x")
    assert c.cmd("SORT", "l", "GET", "w_*", "LIMIT", "3", "1") == [None]


def test_sets_and_sorted_sets(c):
    fill(c)
    c.cmd("SADD", "s", "5", "3", "9", "1")
    assert c.cmd("SORT", "s") == b("1", "3", "5", "9")
    assert c.cmd("SORT", "s", "DESC", "GET", "#") == b("9", "5", "3", "1")
    assert sorted(c.cmd("SORT", "s", "BY", "nosort")) == b("1", "3", "5", "9")
    # a sorted set sorts by its members; BY nosort keeps the score order
    c.cmd("ZADD", "zn", "1", "10", "3", "2", "2", "33")
    assert c.cmd("SORT", "zn") == b("2", "10", "33")
    assert c.cmd("SORT", "zn", "BY", "nosort") == b("10", "33", "2")
    assert c.cmd("SORT", "zn", "BY", "nosort", "DESC") == b("2", "33", "10")
    assert c.cmd("SORT", "zn", "BY", "nosort", "LIMIT", "1", "5") == b("33", "2")
    assert c.cmd("SORT", "zn", "BY", "nosort", "DESC", "LIMIT", "1", "1") == b("33")
    assert c.cmd("OBJECT", "ENCODING", "zn") == b"skiplist"   # SORT converts it, as Redis
    assert c.cmd("SORT", "missing") == []


def test_store(c):
    fill(c)
    assert c.cmd("SORT", "l", "STORE", "dst") == 6
    assert c.cmd("LRANGE", "dst", "0", "-1") == b("-1", "1", "2", "3", "5.5", "10")
    # GET with STORE: a missing value is stored as ""
    assert c.cmd("SORT", "l", "LIMIT", "0", "2", "GET", "#", "GET", "nope*", "STORE", "dst") == 4
    assert c.cmd("LRANGE", "dst", "0", "-1") == b("-1", "", "1", "")
    # STORE replaces any type and drops the TTL; an empty result deletes
    c.cmd("SET", "str", "x", "EX", "100")
    assert c.cmd("SORT", "l", "LIMIT", "0", "1", "STORE", "str") == 1
    assert c.cmd("TYPE", "str") == "list" and c.cmd("TTL", "str") == -1
    assert c.cmd("SORT", "missing", "STORE", "str") == 0
    assert c.cmd("EXISTS", "str") == 0
    # a set sorted BY a constant is sorted anyway when stored (ALPHA)
    c.cmd("SADD", "s", "b", "c", "a")
    assert c.cmd("SORT", "s", "BY", "nosort", "STORE", "dst") == 3
    assert c.cmd("LRANGE", "dst", "0", "-1") == b("a", "b", "c")
    # storing into the sorted key itself
    assert c.cmd("SORT", "l", "DESC", "STORE", "l") == 6
    assert c.cmd("LRANGE", "l", "0", "-1") == b("10", "5.5", "3", "2", "1", "-1")


def test_errors(c):
    c.cmd("SET", "str", "x")
    c.cmd("RPUSH", "l", "1")
    assert c.err("SORT", "str") == WRONGTYPE
    c.cmd("HSET", "h", "a", "1")
    assert c.err("SORT", "h") == WRONGTYPE
    assert c.err("SORT", "l", "LIMIT", "x", "1") == NOT_INT
    assert c.err("SORT", "l", "LIMIT", "1", "1.5") == NOT_INT
    assert c.err("SORT", "l", "LIMIT", "1") == SYNTAX
    assert c.err("SORT", "l", "GET") == SYNTAX
    assert c.err("SORT", "l", "BY") == SYNTAX
    assert c.err("SORT", "l", "STORE") == SYNTAX
    assert c.err("SORT", "l", "FOO") == SYNTAX
    assert c.err("SORT_RO", "l", "STORE", "x") == SYNTAX
    # option errors come before the type check
    assert c.err("SORT", "str", "FOO") == SYNTAX
    assert c.err("SORT") == "ERR wrong number of arguments for 'sort' command"
    assert c.err("SORT_RO") == "ERR wrong number of arguments for 'sort_ro' command"
    assert isinstance(c.cmd("SORT", "l"), list)


def test_command_info(c):
    info = c.cmd("COMMAND", "INFO", "sort", "sort_ro")
    assert info[0][:2] == [b"sort", -2] and info[0][3:6] == [1, 1, 1]
    assert {"write", "denyoom", "movablekeys"} <= {f.decode() if isinstance(f, bytes) else f for f in info[0][2]}
    assert info[1][:2] == [b"sort_ro", -2]
    assert not isinstance(info[1], RespError)


@pytest.mark.scaleout_only
def test_store_bounded_by_maxmemory(server_factory):
    # GET # repeated makes the stored list far larger than its source; with
    # maxmemory set, building it stops there (Redis would build it whole)
    c = server_factory("--maxmemory", "20mb").conn()
    for i in range(20):
        c.cmd("RPUSH", "big", *[str(j) for j in range(1000)])
    args = ["GET", "#"] * 300
    assert c.err("SORT", "big", "BY", "nosort", *args, "STORE", "dst") == \
        "OOM command not allowed when used memory > 'maxmemory'."
    assert c.cmd("EXISTS", "dst") == 0
    assert c.cmd("SORT", "big", "BY", "nosort", "LIMIT", "0", "2", *args[:4], "STORE", "dst") == 4
