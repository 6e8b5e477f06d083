"""
Bit commands on strings (SETBIT GETBIT BITCOUNT BITPOS BITOP): replies, wire
types and exact error texts as Redis 7.0 gives them. Every test runs against
scaleout kv and redis-server (conftest.py). `c` is a raw RESP connection.
"""
import pytest

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"
SYNTAX = "ERR syntax error"
BAD_OFFSET = "ERR bit offset is not an integer or out of range"
BAD_BIT = "ERR bit is not an integer or out of range"
BITPOS_BIT = "ERR The bit argument must be 1 or 0."
NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."


def arity(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


def test_setbit_getbit(c):
    assert c.cmd("SETBIT", "k", "7", "1") == 0
    assert c.last_raw == b":0\r\n"
    assert c.cmd("GET", "k") == b"\x01"
    assert c.cmd("SETBIT", "k", "7", "1") == 1
    assert c.cmd("SETBIT", "k", "0", "1") == 0
    assert c.cmd("GET", "k") == b"\x81"
    assert c.cmd("SETBIT", "k", "20", "0") == 0       # grows with zero bytes
    assert c.cmd("GET", "k") == b"\x81\x00\x00"
    assert c.cmd("SETBIT", "k", "7", "0") == 1
    assert c.cmd("GET", "k") == b"\x80\x00\x00"
    assert [c.cmd("GETBIT", "k", str(i)) for i in (0, 1, 7, 23, 24, 100000)] == [1, 0, 0, 0, 0, 0]
    assert c.cmd("GETBIT", "nokey", "5") == 0
    assert c.cmd("GETBIT", "k", "4294967295") == 0    # largest valid offset, reads only
    assert c.cmd("SETBIT", "empty", "0", "0") == 0    # creates "\0"
    assert c.cmd("GET", "empty") == b"\x00"


def test_setbit_errors(c):
    c.cmd("SET", "k", "a")
    for off in ("-1", "4294967296", "9223372036854775808", "x", "1.5", ""):
        assert c.err("SETBIT", "k", off, "1") == BAD_OFFSET, off
        assert c.err("GETBIT", "k", off) == BAD_OFFSET, off
    for v in ("2", "-1", "x", ""):
        assert c.err("SETBIT", "k", "1", v) == BAD_BIT, v
    # the offset is checked before the bit, both before the type
    assert c.err("SETBIT", "k", "-1", "2") == BAD_OFFSET
    c.cmd("RPUSH", "l", "a")
    assert c.err("SETBIT", "l", "1", "2") == BAD_BIT
    assert c.err("SETBIT", "l", "1", "1") == WRONGTYPE
    assert c.err("GETBIT", "l", "1") == WRONGTYPE
    assert c.err("GETBIT", "l", "-1") == BAD_OFFSET
    assert c.err("SETBIT", "k", "1") == arity("setbit")
    assert c.err("GETBIT", "k") == arity("getbit")
    assert c.cmd("GET", "k") == b"a"
    assert c.cmd("EXISTS", "nokey") == 0


def test_setbit_offset_follows_proto_max_bulk_len(c):
    assert c.cmd("CONFIG", "SET", "proto-max-bulk-len", "1mb") == "OK"
    try:
        limit = 1024 * 1024 * 8
        assert c.err("SETBIT", "k", str(limit), "1") == BAD_OFFSET
        assert c.err("GETBIT", "k", str(limit)) == BAD_OFFSET
        assert c.cmd("EXISTS", "k") == 0
        assert c.cmd("SETBIT", "k", str(limit - 1), "1") == 0
        assert c.cmd("STRLEN", "k") == 1024 * 1024
        assert c.cmd("BITCOUNT", "k") == 1
        assert c.cmd("BITPOS", "k", "1") == limit - 1
    finally:
        c.cmd("CONFIG", "SET", "proto-max-bulk-len", "512mb")


def test_bitcount(c):
    c.cmd("SET", "f", "foobar")
    assert c.cmd("BITCOUNT", "f") == 26
    assert c.cmd("BITCOUNT", "f", "0", "0") == 4
    assert c.cmd("BITCOUNT", "f", "1", "1") == 6
    assert c.cmd("BITCOUNT", "f", "1", "1", "BYTE") == 6
    assert c.cmd("BITCOUNT", "f", "5", "30", "BIT") == 17
    assert c.cmd("BITCOUNT", "f", "5", "30", "bit") == 17
    assert c.cmd("BITCOUNT", "f", "-2", "-1") == 7
    assert c.cmd("BITCOUNT", "f", "-1", "-2") == 0
    assert c.cmd("BITCOUNT", "f", "-1", "-2", "BAD") == 0   # the empty range wins over the syntax
    assert c.cmd("BITCOUNT", "f", "3", "2") == 0
    assert c.cmd("BITCOUNT", "f", "-100", "100") == 26
    assert c.cmd("BITCOUNT", "f", "7", "7", "BIT") == 0
    assert c.cmd("BITCOUNT", "f", "1", "1", "BIT") == 1
    assert c.cmd("BITCOUNT", "f", "-3", "-1", "BIT") == 1
    assert c.err("BITCOUNT", "f", "0", "1", "BAD") == SYNTAX
    assert c.err("BITCOUNT", "f", "1") == SYNTAX              # only start
    assert c.err("BITCOUNT", "f", "0", "1", "BIT", "x") == SYNTAX
    assert c.err("BITCOUNT", "f", "a", "1") == NOT_INT
    assert c.err("BITCOUNT", "f", "0", "b") == NOT_INT
    # a missing key counts 0 before any argument is read (Redis 7.0)
    assert c.cmd("BITCOUNT", "nokey") == 0
    assert c.cmd("BITCOUNT", "nokey", "1") == 0
    assert c.cmd("BITCOUNT", "nokey", "a", "b", "c") == 0
    c.cmd("SET", "e", "")
    assert c.cmd("BITCOUNT", "e") == 0
    assert c.cmd("BITCOUNT", "e", "0", "-1", "BIT") == 0
    c.cmd("HSET", "h", "a", "b")
    assert c.err("BITCOUNT", "h") == WRONGTYPE
    assert c.err("BITCOUNT", "h", "1") == WRONGTYPE
    assert c.err("BITCOUNT") == arity("bitcount")


def test_bitpos(c):
    c.cmd("SET", "s", b"\xff\xf0\x00")
    assert c.cmd("BITPOS", "s", "0") == 12
    assert c.cmd("BITPOS", "s", "1") == 0
    assert c.cmd("BITPOS", "s", "1", "2") == -1
    assert c.cmd("BITPOS", "s", "0", "1", "-1") == 12
    assert c.cmd("BITPOS", "s", "1", "7", "15", "BIT") == 7
    assert c.cmd("BITPOS", "s", "0", "7", "15", "BIT") == 12
    assert c.cmd("BITPOS", "s", "0", "3", "11", "BIT") == -1
    assert c.cmd("BITPOS", "s", "1", "12", "-1", "BIT") == -1
    assert c.cmd("BITPOS", "s", "1", "-100", "100", "BYTE") == 0
    c.cmd("SET", "ones", b"\xff\xff\xff")
    # all ones: without an end the string counts as zero padded, with one not
    assert c.cmd("BITPOS", "ones", "0") == 24
    assert c.cmd("BITPOS", "ones", "0", "0") == 24
    assert c.cmd("BITPOS", "ones", "0", "1") == 24
    assert c.cmd("BITPOS", "ones", "0", "0", "-1") == -1
    assert c.cmd("BITPOS", "ones", "0", "0", "-1", "BIT") == -1
    assert c.err("BITPOS", "ones", "0", "3", "BIT") == NOT_INT  # a unit needs an end
    assert c.cmd("BITPOS", "ones", "0", "5", "9", "BIT") == -1
    assert c.cmd("BITPOS", "ones", "0", "2", "1") == -1       # empty range
    # a missing key is an infinite run of zeros
    assert c.cmd("BITPOS", "nokey", "0") == 0
    assert c.cmd("BITPOS", "nokey", "1") == -1
    assert c.cmd("BITPOS", "nokey", "1", "a", "b", "c") == -1
    c.cmd("SET", "e", "")
    assert c.cmd("BITPOS", "e", "0") == -1               # an empty string: empty range
    assert c.cmd("BITPOS", "e", "1") == -1
    assert c.cmd("BITPOS", "e", "0", "0", "-1") == -1
    for b in ("2", "-1"):
        assert c.err("BITPOS", "s", b) == BITPOS_BIT
        assert c.err("BITPOS", "nokey", b) == BITPOS_BIT
    assert c.err("BITPOS", "s", "x") == NOT_INT
    assert c.err("BITPOS", "s", "1", "x") == NOT_INT
    assert c.err("BITPOS", "s", "1", "0", "x") == NOT_INT
    assert c.err("BITPOS", "s", "1", "0", "1", "BAD") == SYNTAX
    assert c.err("BITPOS", "s", "1", "0", "x", "BAD") == SYNTAX  # the unit before the end
    assert c.err("BITPOS", "s", "1", "0", "1", "BIT", "x") == SYNTAX
    c.cmd("SADD", "set", "a")
    assert c.err("BITPOS", "set", "1") == WRONGTYPE
    assert c.err("BITPOS", "s") == arity("bitpos")


def test_bitop(c):
    c.cmd("SET", "a", b"\x0f\xf0")
    c.cmd("SET", "b", b"\xff")
    assert c.cmd("BITOP", "AND", "d", "a", "b") == 2
    assert c.cmd("GET", "d") == b"\x0f\x00"
    assert c.cmd("BITOP", "or", "d", "a", "b", "nokey") == 2
    assert c.cmd("GET", "d") == b"\xff\xf0"
    assert c.cmd("BITOP", "XOR", "d", "a", "b") == 2
    assert c.cmd("GET", "d") == b"\xf0\xf0"
    assert c.cmd("BITOP", "NOT", "d", "a") == 2
    assert c.cmd("GET", "d") == b"\xf0\x0f"
    # the destination among the sources
    assert c.cmd("BITOP", "XOR", "a", "a", "b") == 2
    assert c.cmd("GET", "a") == b"\xf0\xf0"
    # the result replaces any type and drops the TTL
    c.cmd("RPUSH", "l", "x")
    c.cmd("SET", "t", "x", "EX", "100")
    assert c.cmd("BITOP", "OR", "l", "b") == 1
    assert c.cmd("TYPE", "l") == "string"
    assert c.cmd("BITOP", "OR", "t", "b") == 1
    assert c.cmd("TTL", "t") == -1
    # all sources missing or empty: the destination is deleted
    c.cmd("SET", "e", "")
    assert c.cmd("BITOP", "AND", "d", "nokey", "e") == 0
    assert c.cmd("EXISTS", "d") == 0
    assert c.err("BITOP", "NOT", "d", "a", "b") == NOT_ONE_KEY
    assert c.err("BITOP", "NAND", "d", "a") == SYNTAX
    c.cmd("HSET", "h", "f", "v")
    assert c.err("BITOP", "AND", "d", "a", "h") == WRONGTYPE
    assert c.cmd("EXISTS", "d") == 0
    assert c.err("BITOP", "AND", "d") == arity("bitop")


def test_setbit_watch(server):
    """A SETBIT that changes the string aborts a WATCHing EXEC."""
    a, b = server.conn(), server.conn()
    a.cmd("SET", "k", "a")
    assert a.cmd("WATCH", "k") == "OK"
    assert b.cmd("SETBIT", "k", "0", "1") == 0
    assert a.cmd("MULTI") == "OK"
    assert a.cmd("GET", "k") == "QUEUED"
    assert a.cmd("EXEC") is None
    assert a.cmd("WATCH", "k") == "OK"
    assert b.cmd("BITOP", "NOT", "k", "k") == 1
    assert a.cmd("MULTI") == "OK"
    assert a.cmd("GET", "k") == "QUEUED"
    assert a.cmd("EXEC") is None


@pytest.mark.parametrize("cmd", ["SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP"])
def test_command_info(c, cmd):
    info = c.cmd("COMMAND", "INFO", cmd)[0]
    assert info[0] == cmd.lower().encode()
    flags = {"SETBIT": {"write", "denyoom"}, "GETBIT": {"readonly", "fast"},
             "BITCOUNT": {"readonly"}, "BITPOS": {"readonly"}, "BITOP": {"write", "denyoom"}}[cmd]
    assert set(info[2]) == flags
    assert info[1] == {"SETBIT": 4, "GETBIT": 3, "BITCOUNT": -2, "BITPOS": -3, "BITOP": -4}[cmd]
    assert info[3:6] == ([2, -1, 1] if cmd == "BITOP" else [1, 1, 1])


# ---------------------------------------------------------------- COPY

SAME = "ERR source and destination objects are the same"
BAD_DB = "ERR DB index is out of range"


def _fill(c, small):
    n = 3 if small else 300
    c.cmd("SET", "str", "hello")
    c.cmd("RPUSH", "list", *[f"e{i}" for i in range(n)])
    c.cmd("HSET", "hash", *[x for i in range(n) for x in (f"f{i}", f"v{i}")])
    c.cmd("SADD", "iset", *[str(i) for i in range(n)])
    c.cmd("SADD", "set", *[f"m{i}" for i in range(n)])
    c.cmd("ZADD", "zset", *[x for i in range(n) for x in (str(i % 7 - 3.5), f"z{i}")])


def _dump(c, key):
    t = c.cmd("TYPE", key)
    if t == "string":
        return c.cmd("GET", key)
    if t == "list":
        return c.cmd("LRANGE", key, "0", "-1")
    if t == "hash":
        return sorted(c.cmd("HGETALL", key))
    if t == "set":
        return sorted(c.cmd("SMEMBERS", key))
    if t == "zset":
        return c.cmd("ZRANGE", key, "0", "-1", "WITHSCORES")
    return t


@pytest.mark.parametrize("small", [True, False], ids=["small", "large"])
def test_copy_every_type(c, small):
    _fill(c, small)
    for key in ("str", "list", "hash", "iset", "set", "zset"):
        assert c.cmd("COPY", key, key + ":c") == 1, key
        assert c.cmd("TYPE", key + ":c") == c.cmd("TYPE", key)
        assert _dump(c, key + ":c") == _dump(c, key), key
        assert c.cmd("OBJECT", "ENCODING", key + ":c") == c.cmd("OBJECT", "ENCODING", key), key
    # the copies are independent of their sources
    c.cmd("RPUSH", "list:c", "more")
    c.cmd("HSET", "hash:c", "new", "x")
    c.cmd("SADD", "iset:c", "-5")
    c.cmd("SREM", "set:c", "m1")
    c.cmd("ZADD", "zset:c", "100", "z1")
    c.cmd("APPEND", "str:c", "!")
    assert c.cmd("LINDEX", "list", "-1") != b"more"
    assert c.cmd("HEXISTS", "hash", "new") == 0
    assert c.cmd("SISMEMBER", "iset", "-5") == 0
    assert c.cmd("SISMEMBER", "set", "m1") == 1
    assert c.cmd("ZSCORE", "zset", "z1") != b"100"
    assert c.cmd("GET", "str") == b"hello"
    # and the sources can go without harming the copies
    c.cmd("DEL", "list", "hash", "iset", "set", "zset", "str")
    assert c.cmd("GET", "str:c") == b"hello!"
    assert c.cmd("HGET", "hash:c", "new") == b"x"


def test_copy_replace_and_ttl(c):
    c.cmd("SET", "a", "1", "EX", "1000")
    c.cmd("RPUSH", "b", "x")
    assert c.cmd("COPY", "a", "b") == 0
    assert c.cmd("TYPE", "b") == "list"
    assert c.cmd("COPY", "a", "b", "REPLACE") == 1
    assert c.cmd("GET", "b") == b"1"
    assert 0 < c.cmd("TTL", "b") <= 1000
    c.cmd("PERSIST", "a")
    c.cmd("EXPIRE", "b", "50")
    assert c.cmd("COPY", "a", "b", "replace", "db", "0") == 1
    assert c.cmd("TTL", "b") == -1                  # the source's TTL, here none
    assert c.cmd("COPY", "nokey", "b") == 0
    assert c.cmd("COPY", "nokey", "b", "REPLACE") == 0
    assert c.cmd("GET", "b") == b"1"


def test_copy_errors(c):
    c.cmd("SET", "a", "1")
    assert c.err("COPY", "a", "a") == SAME
    assert c.err("COPY", "nokey", "nokey") == SAME
    assert c.err("COPY", "a", "a", "DB", "0") == SAME
    assert c.err("COPY", "a", "b", "DB", "x") == NOT_INT
    assert c.err("COPY", "a", "b", "DB", "-1") == BAD_DB
    assert c.err("COPY", "a", "b", "DB", "4294967296") == \
        "ERR value is out of range, value must between -2147483648 and 2147483647"
    assert c.err("COPY", "a", "b", "DB") == SYNTAX
    assert c.err("COPY", "a", "b", "BAD") == SYNTAX
    assert c.err("COPY", "a", "b", "DB", "x", "BAD") == NOT_INT    # options in order
    assert c.err("COPY", "a", "b", "BAD", "DB", "x") == SYNTAX
    assert c.err("COPY", "a") == arity("copy")
    assert c.cmd("EXISTS", "b") == 0


def test_copy_watch(server):
    a, b = server.conn(), server.conn()
    a.cmd("SET", "src", "v")
    assert a.cmd("WATCH", "dst") == "OK"
    assert b.cmd("COPY", "src", "dst") == 1
    assert a.cmd("MULTI") == "OK"
    assert a.cmd("GET", "dst") == "QUEUED"
    assert a.cmd("EXEC") is None


def test_copy_command_info(c):
    info = c.cmd("COMMAND", "INFO", "COPY")[0]
    assert info[:6] == [b"copy", -3, info[2], 1, 2, 1]
    assert set(info[2]) == {"write", "denyoom"}


# ---------------------------------------------------------------- LCS

LCS_TYPE = "ERR The specified keys must contain string values"


def lcs_model(a, b, minmatchlen=0):
    """Redis 7.0's lcsCommand walk in Python: (string, ranges, len). Run on
    both targets, so the model itself is checked against redis-server."""
    dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            dp[i][j] = dp[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(dp[i - 1][j], dp[i][j - 1])
    alen, out, ranges = len(a), [], []
    as_, ae, bs, be = alen, 0, 0, 0
    i, j = len(a), len(b)
    while i > 0 and j > 0:
        emit = False
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            if as_ == alen:
                as_, ae, bs, be = i - 1, i - 1, j - 1, j - 1
            elif as_ == i and bs == j:
                as_, bs = as_ - 1, bs - 1
            else:
                emit = True
            if as_ == 0 or bs == 0:
                emit = True
            i, j = i - 1, j - 1
        else:
            if dp[i - 1][j] > dp[i][j - 1]:
                i -= 1
            else:
                j -= 1
            if as_ != alen:
                emit = True
        if emit:
            if minmatchlen == 0 or ae - as_ + 1 >= minmatchlen:
                ranges.append([[as_, ae], [bs, be], ae - as_ + 1])
            as_ = alen
    return bytes(reversed(out)), ranges, dp[len(a)][len(b)]


def test_lcs_example(c):
    c.cmd("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert c.cmd("LCS", "key1", "key2") == b"mytext"
    assert c.cmd("LCS", "key1", "key2", "LEN") == 6
    assert c.cmd("LCS", "key1", "key2", "IDX") == \
        [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert c.cmd("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == \
        [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert c.cmd("LCS", "key1", "nokey") == b""
    assert c.cmd("LCS", "nokey", "nokey", "IDX") == [b"matches", [], b"len", 0]
    assert c.cmd("LCS", "nokey", "key1", "LEN") == 0


def test_lcs_errors(c):
    c.cmd("SET", "a", "abc")
    c.cmd("RPUSH", "l", "x")
    assert c.err("LCS", "a", "b", "IDX", "LEN") == "ERR If you want both the length and indexes, please just use IDX."
    assert c.err("LCS", "a", "b", "MINMATCHLEN") == SYNTAX
    assert c.err("LCS", "a", "b", "MINMATCHLEN", "x") == NOT_INT
    assert c.err("LCS", "a", "b", "BAD") == SYNTAX
    assert c.err("LCS", "l", "a") == LCS_TYPE
    assert c.err("LCS", "a", "l", "BAD") == LCS_TYPE          # the type before the options
    assert c.err("LCS", "a") == arity("lcs")
    # a negative MINMATCHLEN counts as 0
    assert c.cmd("LCS", "a", "a", "IDX", "MINMATCHLEN", "-3") == [b"matches", [[[0, 2], [0, 2]]], b"len", 3]


def test_lcs_random_against_model(c):
    import random
    rnd = random.Random(9)
    for _ in range(150):
        a = bytes(rnd.choice(b"abc ") for _ in range(rnd.randint(0, 25)))
        b = bytes(rnd.choice(b"abc ") for _ in range(rnd.randint(0, 25)))
        c.cmd("MSET", "a", a, "b", b)
        s, ranges, n = lcs_model(a, b)
        assert c.cmd("LCS", "a", "b") == s
        assert c.cmd("LCS", "a", "b", "LEN") == n
        assert c.cmd("LCS", "a", "b", "IDX", "WITHMATCHLEN") == [b"matches", ranges, b"len", n]
        _, ranges2, _ = lcs_model(a, b, 2)
        assert c.cmd("LCS", "a", "b", "IDX", "MINMATCHLEN", "2") == \
            [b"matches", [r[:2] for r in ranges2], b"len", n]


def test_lcs_resp3(server):
    c = server.conn()
    assert c.cmd("HELLO", "3") is not None
    c.cmd("MSET", "key1", "ohmytext", "key2", "mynewtext")
    reply = c.cmd("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4")
    assert c.last_raw == (b"%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
                          b"$3\r\nlen\r\n:6\r\n")
    assert reply is not None


@pytest.mark.scaleout_only
def test_lcs_table_is_bounded(c):
    """20,000 x 20,000 bytes would need a 1.6 GB table: scaleout answers
    Redis's allocation error instead (Redis tries to allocate it)."""
    c.cmd("MSET", "a", "a" * 20000, "b", "b" * 20000)
    assert c.err("LCS", "a", "b") == "ERR Insufficient memory, failed allocating transient memory for LCS"
    assert c.cmd("PING") == "PONG"
    c.cmd("MSET", "a", "ab" * 4000, "b", "ba" * 4000)      # 256 MB: computed
    assert c.cmd("LCS", "a", "b", "LEN") == 7999


def test_setbit_same_value_is_no_change_for_watch(server):
    a, b = server.conn(), server.conn()
    a.cmd("SET", "k", "a")                           # 0x61: bit 1 is set
    assert a.cmd("WATCH", "k") == "OK"
    assert b.cmd("SETBIT", "k", "1", "1") == 1
    assert a.cmd("MULTI") == "OK"
    assert a.cmd("GET", "k") == "QUEUED"
    assert a.cmd("EXEC") == [b"a"]
