#!/usr/bin/python3
"""
kv_diff.py — differential fuzzer: scaleout kv against redis-server.

Random command sequences drawn from the command table (`COMMAND` of the
scaleout server, so every command added later joins automatically) over a
small key pool (strings, integers, hashes, keys with TTLs, wrong types) are
sent to both servers; replies are compared after normalisation:

  - order-insensitive where Redis's order is unspecified (HGETALL, HKEYS,
    HVALS, KEYS, SCAN/HSCAN pages, HRANDFIELD with a count >= the hash size);
  - random replies compared by shape (RANDOMKEY, HRANDFIELD subsets);
  - time-dependent integers (TTL, PTTL, EXPIRETIME ...) compared by sign;
  - server-specific replies (INFO, CLIENT LIST, COMMAND, MEMORY USAGE, TIME,
    OBJECT IDLETIME ...) compared by reply type only (NORMALISE below, each
    with its reason; docs/kv.md lists them).

Every command has an argument grammar in GRAMMAR; a command of the table with
no grammar gets a generic generator (arity and key positions from COMMAND)
and is printed as "no grammar: NAME" so that it gets one.

Expiries are either long (>= 100 s) or already past, so the two servers never
disagree because of the few microseconds between them.

  fuzz/kv_diff.py --seed 1 --count 20000          # what `make test` runs
  fuzz/kv_diff.py --seed 7 --duration 600         # as long as asked
  fuzz/kv_diff.py --scaleout-port P --redis-port Q ...   # against running servers
Exit status 1 and the command history on the first difference.
"""
import argparse
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
from conftest import REDIS_SERVER, RespConn, RespError, RespMap, RespSet, start_server  # noqa: E402

KEYS = ["s0", "s1", "n0", "n1", "h0", "h1", "x0", "x1", "z0", "z1", "z2"]
FIELDS = ["f0", "f1", "f2", "f3", "f4"]
VALUES = ["", "0", "1", "-1", "10", "3.5", "-2.25", "abc", "hello world", "9223372036854775807",
          "-9223372036854775808", "1e3", "0x10", " 7", "\x00bin\xff", "x" * 100, "1" * 30]
INTS = ["0", "1", "-1", "2", "5", "-5", "100", "-100", "9223372036854775807", "-9223372036854775808",
        "9223372036854775806", "abc", "", "1.5", "2147483648", "-2147483649"]
FLOATS = ["0", "1", "-1", "0.1", "1.5", "-2.25", "1e3", "1e-5", "3.0e2", "inf", "-inf", "nan", "abc",
          "", "5.0e3000", "17179869184", "0.0001"]
PATTERNS = ["*", "s*", "?0", "h[01]", "[a-z]1", "x\\*", "*1", "nomatch", "f*", "f[0-2]", "*[^0]", "b1*", "b?"]
LONG_TTL_S = ["100", "1000", "86400", "0", "-1", "-100", "abc", "9223372036854775807"]
# database numbers: mostly 0 and 1 so that keys meet again, the edges, errors
DBS = ["0", "0", "1", "1", "2", "15", "16", "-1", "abc", "2147483648"]


def key(r):
    return r.choice(KEYS)


def val(r):
    return r.choice(VALUES)


def intv(r):
    return r.choice(INTS)


def fields(r, n=None):
    return [r.choice(FIELDS) for _ in range(n if n is not None else r.randint(1, 4))]


BIG_FIELDS = [f"b{i}" for i in range(200)]


def pairs(r):
    out = []
    if r.random() < 0.03:
        # enough fields to pass hash-max-listpack-entries (128): the dict encoding
        for f in r.sample(BIG_FIELDS, r.randint(40, 140)):
            out += [f, r.choice(VALUES + INTS)]
        return out
    for _ in range(r.randint(1, 3)):
        out += [r.choice(FIELDS + BIG_FIELDS[:3]), r.choice(VALUES + INTS)]
    return out


def set_opts(r):
    opts = []
    if r.random() < 0.3:
        opts.append(r.choice(["NX", "XX"]))
    if r.random() < 0.3:
        opts.append("GET")
    if r.random() < 0.3:
        t = r.choice(["EX", "PX", "EXAT", "PXAT", "KEEPTTL"])
        opts.append(t)
        if t == "EX":
            opts.append(r.choice(LONG_TTL_S))
        elif t == "PX":
            opts.append(r.choice(["100000", "1000000", "0", "-5"]))
        # no past times here: SET .. EXAT <past> deletes the key in scaleout,
        # Redis 7.0 stores it already expired (docs/kv.md, known differences)
        elif t == "EXAT":
            opts.append(r.choice(["4102444800", "0", "-1"]))
        elif t == "PXAT":
            opts.append(r.choice(["4102444800000", "0"]))
    if r.random() < 0.05:
        opts.append(r.choice(["BOGUS", "EX", "NX"]))
    r.shuffle(opts) if r.random() < 0.1 else None
    return opts


def expire_args(r, unit):
    if unit == "s":
        when = r.choice(LONG_TTL_S)
    elif unit == "ms":
        when = r.choice(["100000", "1000000", "0", "-1", "abc", "9223372036854775807"])
    elif unit == "at":
        when = r.choice(["1", "4102444800", "0", "-1", "9223372036854775807"])
    else:
        when = r.choice(["1", "4102444800000", "0", "9223372036854775807"])
    opts = [r.choice(["NX", "XX", "GT", "LT", "nx", "BAD"]) for _ in range(r.choice([0, 0, 1, 1, 2]))]
    return [key(r), when] + opts


def scan_opts(r, keys=True):
    opts = []
    if r.random() < 0.5:
        opts += ["MATCH", r.choice(PATTERNS)]
    if r.random() < 0.7:
        opts += ["COUNT", r.choice(["1000", "100000"])]
    else:
        opts += ["COUNT", "1000"]
    if keys and r.random() < 0.3:
        opts += ["TYPE", r.choice(["string", "hash", "list", "none", "STRING"])]
    if r.random() < 0.03:
        opts += [r.choice(["COUNT", "MATCH", "BAD"])]
    return opts


# name -> (weight, generator(r) -> argument list)
GRAMMAR = {
    "get": (6, lambda r: [key(r)]),
    "set": (8, lambda r: [key(r), r.choice(VALUES + INTS)] + set_opts(r)),
    "setnx": (2, lambda r: [key(r), val(r)]),
    "setex": (2, lambda r: [key(r), r.choice(LONG_TTL_S), val(r)]),
    "psetex": (2, lambda r: [key(r), r.choice(["100000", "0", "-1", "abc"]), val(r)]),
    "getset": (2, lambda r: [key(r), val(r)]),
    "getdel": (2, lambda r: [key(r)]),
    "getex": (3, lambda r: [key(r)] + r.choice([[], ["PERSIST"], ["EX", r.choice(LONG_TTL_S)],
                                                 ["PX", "100000"], ["EXAT", "4102444800"],
                                                 ["PXAT", "1"], ["BAD"], ["EX"], ["PERSIST", "EX", "10"]])),
    "mget": (3, lambda r: [key(r) for _ in range(r.randint(1, 5))]),
    "mset": (2, lambda r: [x for _ in range(r.randint(1, 3)) for x in (key(r), val(r))] +
             ([key(r)] if r.random() < 0.05 else [])),
    "msetnx": (2, lambda r: [x for _ in range(r.randint(1, 3)) for x in (key(r), val(r))]),
    "append": (3, lambda r: [key(r), val(r)]),
    "strlen": (2, lambda r: [key(r)]),
    "incr": (3, lambda r: [key(r)]),
    "decr": (2, lambda r: [key(r)]),
    "incrby": (3, lambda r: [key(r), intv(r)]),
    "decrby": (2, lambda r: [key(r), intv(r)]),
    "incrbyfloat": (3, lambda r: [key(r), r.choice(FLOATS)]),
    "getrange": (3, lambda r: [key(r), intv(r), intv(r)]),
    "substr": (1, lambda r: [key(r), intv(r), intv(r)]),
    "setrange": (3, lambda r: [key(r), r.choice(["0", "1", "5", "100", "-1", "abc", "9223372036854775807",
                                                "536870912"]), val(r)]),
    "del": (3, lambda r: [key(r) for _ in range(r.randint(1, 3))]),
    "unlink": (1, lambda r: [key(r) for _ in range(r.randint(1, 3))]),
    "exists": (2, lambda r: [key(r) for _ in range(r.randint(1, 4))]),
    "type": (2, lambda r: [key(r)]),
    "rename": (2, lambda r: [key(r), key(r)]),
    "renamenx": (2, lambda r: [key(r), key(r)]),
    "expire": (3, lambda r: expire_args(r, "s")),
    "pexpire": (2, lambda r: expire_args(r, "ms")),
    "expireat": (2, lambda r: expire_args(r, "at")),
    "pexpireat": (2, lambda r: expire_args(r, "pat")),
    "ttl": (2, lambda r: [key(r)]),
    "pttl": (2, lambda r: [key(r)]),
    "expiretime": (1, lambda r: [key(r)]),
    "pexpiretime": (1, lambda r: [key(r)]),
    "persist": (2, lambda r: [key(r)]),
    "keys": (2, lambda r: [r.choice(PATTERNS)]),
    "scan": (2, lambda r: [r.choice(["0", "0", "0", "abc", "-1x"])] + scan_opts(r)),
    "randomkey": (1, lambda r: []),
    "touch": (1, lambda r: [key(r) for _ in range(r.randint(1, 3))]),
    "object": (2, lambda r: [r.choice(["ENCODING", "REFCOUNT", "FREQ", "IDLETIME", "HELP", "BAD"])] +
               ([key(r)] if r.random() < 0.9 else [])),
    "hset": (6, lambda r: [key(r)] + pairs(r) + ([r.choice(FIELDS)] if r.random() < 0.05 else [])),
    "hsetnx": (2, lambda r: [key(r), r.choice(FIELDS), val(r)]),
    "hget": (4, lambda r: [key(r), r.choice(FIELDS)]),
    "hmget": (3, lambda r: [key(r)] + fields(r)),
    "hmset": (2, lambda r: [key(r)] + pairs(r)),
    "hgetall": (3, lambda r: [key(r)]),
    "hdel": (3, lambda r: [key(r)] + fields(r) + (r.sample(BIG_FIELDS, 60) if r.random() < 0.1 else [])),
    "hexists": (2, lambda r: [key(r), r.choice(FIELDS)]),
    "hlen": (2, lambda r: [key(r)]),
    "hkeys": (2, lambda r: [key(r)]),
    "hvals": (2, lambda r: [key(r)]),
    "hincrby": (3, lambda r: [key(r), r.choice(FIELDS), intv(r)]),
    "hincrbyfloat": (3, lambda r: [key(r), r.choice(FIELDS), r.choice(FLOATS)]),
    "hstrlen": (2, lambda r: [key(r), r.choice(FIELDS)]),
    "hscan": (2, lambda r: [key(r), r.choice(["0", "0", "abc"])] + scan_opts(r, keys=False)),
    "hrandfield": (3, lambda r: [key(r)] + r.choice([[], [r.choice(["1", "2", "3", "10", "-1", "-3", "-10",
                                                                    "0", "abc"])],
                                                      [r.choice(["1", "10", "-3", "0"]), "WITHVALUES"],
                                                      ["2", "BAD"]])),
    "ping": (1, lambda r: r.choice([[], ["hi"], ["a", "b"]])),
    "echo": (1, lambda r: [val(r)]),
    "hello": (1, lambda r: r.choice([[], ["2"], ["3"], ["4"], ["abc"], ["2", "SETNAME", "fz"]])),
    "auth": (1, lambda r: r.choice([["pw"], ["default", "pw"], ["a", "b", "c"]])),
    "select": (3, lambda r: [r.choice(DBS)]),
    "client": (1, lambda r: r.choice([["GETNAME"], ["SETNAME", r.choice(["fz", "a b", ""])], ["ID"],
                                      ["INFO"], ["LIST"], ["KILL", "ID", "999999"], ["BAD"],
                                      ["LIST", "TYPE", "normal"], ["NO-EVICT", r.choice(["on", "off", "x"])],
                                      ["UNPAUSE"], ["PAUSE", r.choice(["0", "-1", "x"]), r.choice(["WRITE", "ALL", "x"])],
                                      # 1 ms of pause: short, but it holds commands on both servers
                                      ["PAUSE", "1", "WRITE"]])),
    "reset": (1, lambda r: []),
    "dbsize": (1, lambda r: []),
    "flushdb": (1, lambda r: r.choice([[], ["ASYNC"], ["SYNC"], ["BAD"]])),
    "flushall": (1, lambda r: r.choice([[], ["ASYNC"], ["SYNC"]])),
    "info": (1, lambda r: r.choice([[], ["keyspace"], ["server"], ["bogus"]])),
    "config": (1, lambda r: r.choice([["GET", "maxmemory-policy"], ["GET", "nonexistent"],
                                      ["GET", "hash-max-*"], ["BAD"], ["SET", "nonexistent", "1"]])),
    "command": (1, lambda r: r.choice([["COUNT"], ["INFO", "get", "nope"], ["DOCS", "ping"], ["BAD"]])),
    "time": (1, lambda r: []),
    "memory": (1, lambda r: r.choice([["USAGE", key(r)], ["USAGE", key(r), "SAMPLES", "0"], ["BAD"]])),
    "lastsave": (1, lambda r: []),
}

# sorted sets
MEMBERS = ["m0", "m1", "m2", "m3", "a", "b", "c", "", "x" * 70]
BIG_MEMBERS = [f"e{i}" for i in range(200)]
SCORES = ["0", "1", "-1", "2.5", "-0", "1e3", "inf", "-inf", "+inf", "3", "10", "nan", "abc", "",
          "9223372036854775807", "1.7976931348623157e308", "0.1", "5e-324", "(1"]
SCORE_MIN = ["-inf", "(-inf", "0", "(0", "1", "(1", "2.5", "10", "+inf", "abc", "(", "nan"]
LEX = ["-", "+", "[a", "(a", "[m1", "(m2", "[", "(", "a", "[x", "(zz"]


# Lex ranges are defined only over members of one score (Redis leaves the
# order of ZRANGEBYLEX & co over mixed scores unspecified): they run on "zl",
# which only ZADD with score 0 (zadd_args) and the lex commands themselves touch.
LEXKEY = "zl"


def lexkey(r):
    return LEXKEY if r.random() < 0.9 else "nokey"


def member(r):
    return r.choice(MEMBERS)


def zadd_args(r):
    if r.random() < 0.2:
        return [LEXKEY] + [a for m in r.sample(MEMBERS, r.randint(1, 4)) for a in ("0", m)]
    opts = [o for o in ("NX", "XX", "GT", "LT", "CH", "INCR") if r.random() < 0.12]
    n = 1 if "INCR" in opts and r.random() < 0.8 else r.randint(1, 4)
    pool = BIG_MEMBERS if r.random() < 0.03 else MEMBERS
    if pool is BIG_MEMBERS:
        n = r.randint(100, 160)
    out = []
    for _ in range(n):
        out += [r.choice(SCORES[:11]) if r.random() < 0.9 else r.choice(SCORES), r.choice(pool)]
    if r.random() < 0.03:
        out = out[:-1]
    return [key(r)] + opts + out


def ranks(r):
    return [r.choice(["0", "1", "-1", "2", "-2", "10", "-100", "9223372036854775807", "-9223372036854775808",
                      "abc"]) for _ in range(2)]


def limit(r):
    if r.random() < 0.3:
        return ["LIMIT", r.choice(["0", "1", "-1", "5", "9223372036854775807"]),
                r.choice(["1", "2", "-1", "0", "9223372036854775807", "abc"])]
    return []


def zrange_args(r):
    k = key(r)
    kind = r.choice(["rank", "rank", "score", "lex"])
    rev = ["REV"] if r.random() < 0.3 else []
    if kind == "rank":
        return [k] + ranks(r) + rev + (["WITHSCORES"] if r.random() < 0.4 else []) + (limit(r) if r.random() < 0.1 else [])
    if kind == "score":
        return [k, r.choice(SCORE_MIN), r.choice(SCORE_MIN), "BYSCORE"] + rev + limit(r) + (["WITHSCORES"] if r.random() < 0.4 else [])
    return [lexkey(r), r.choice(LEX), r.choice(LEX), "BYLEX"] + rev + limit(r)


def zsetop_args(r, store=False, withscores=True):
    n = r.choice(["1", "2", "3", "2", "0", "-1", "abc", "9223372036854775807"])
    try:
        cnt = int(n) if 0 < int(n) < 10 else 2
    except ValueError:
        cnt = 2
    out = ([key(r)] if store else []) + [n] + [key(r) for _ in range(cnt)]
    if r.random() < 0.3:
        out += ["WEIGHTS"] + [r.choice(["1", "2", "-1", "0.5", "inf", "abc"]) for _ in range(cnt)]
    if r.random() < 0.3:
        out += ["AGGREGATE", r.choice(["SUM", "MIN", "MAX", "BAD"])]
    if withscores and not store and r.random() < 0.4:
        out += ["WITHSCORES"]
    return out


ZGRAMMAR = {
    "zadd": (8, zadd_args),
    "zincrby": (3, lambda r: [key(r), r.choice(SCORES), member(r)]),
    "zrem": (3, lambda r: [key(r)] + [member(r) for _ in range(r.randint(1, 3))]),
    "zcard": (2, lambda r: [key(r)]),
    "zscore": (3, lambda r: [key(r), member(r)]),
    "zmscore": (2, lambda r: [key(r)] + [member(r) for _ in range(r.randint(1, 3))]),
    "zrank": (2, lambda r: [key(r), member(r)]),
    "zrevrank": (2, lambda r: [key(r), member(r)]),
    "zcount": (2, lambda r: [key(r), r.choice(SCORE_MIN), r.choice(SCORE_MIN)]),
    "zlexcount": (2, lambda r: [lexkey(r), r.choice(LEX), r.choice(LEX)]),
    "zrange": (6, zrange_args),
    "zrangestore": (2, lambda r: [key(r)] + [a for a in zrange_args(r) if a != "WITHSCORES"]),
    "zrevrange": (2, lambda r: [key(r)] + ranks(r) + (["WITHSCORES"] if r.random() < 0.4 else [])),
    "zrangebyscore": (2, lambda r: [key(r), r.choice(SCORE_MIN), r.choice(SCORE_MIN)] + (["WITHSCORES"] if r.random() < 0.4 else []) + limit(r)),
    "zrevrangebyscore": (2, lambda r: [key(r), r.choice(SCORE_MIN), r.choice(SCORE_MIN)] + (["WITHSCORES"] if r.random() < 0.4 else []) + limit(r)),
    "zrangebylex": (2, lambda r: [lexkey(r), r.choice(LEX), r.choice(LEX)] + limit(r)),
    "zrevrangebylex": (2, lambda r: [lexkey(r), r.choice(LEX), r.choice(LEX)] + limit(r)),
    "zremrangebyrank": (2, lambda r: [key(r)] + ranks(r)),
    "zremrangebyscore": (2, lambda r: [key(r), r.choice(SCORE_MIN), r.choice(SCORE_MIN)]),
    "zremrangebylex": (2, lambda r: [lexkey(r), r.choice(LEX), r.choice(LEX)]),
    "zpopmin": (2, lambda r: [key(r)] + r.choice([[], [r.choice(["1", "2", "0", "-1", "10", "abc"])]])),
    "zpopmax": (2, lambda r: [key(r)] + r.choice([[], [r.choice(["1", "2", "0", "-1", "10", "abc"])]])),
    "zmpop": (2, lambda r: [r.choice(["1", "2", "0", "abc"]), key(r), key(r), r.choice(["MIN", "MAX", "BAD"])]
              + r.choice([[], ["COUNT", r.choice(["1", "3", "0", "-1", "abc"])]])),
    "zrandmember": (2, lambda r: [key(r)] + r.choice([[], [r.choice(["1", "2", "-2", "0", "100", "-100", "abc"])],
                                                      [r.choice(["1", "100", "-3"]), "WITHSCORES"]])),
    "zunion": (2, lambda r: zsetop_args(r)),
    "zinter": (2, lambda r: zsetop_args(r)),
    "zdiff": (2, lambda r: [r.choice(["1", "2", "0", "abc"]), key(r), key(r)] + (["WITHSCORES"] if r.random() < 0.4 else [])),
    "zunionstore": (2, lambda r: zsetop_args(r, store=True)),
    "zinterstore": (2, lambda r: zsetop_args(r, store=True)),
    "zdiffstore": (2, lambda r: zsetop_args(r, store=True, withscores=False)),
    "zintercard": (2, lambda r: [r.choice(["1", "2", "0", "abc"]), key(r), key(r)]
                   + r.choice([[], ["LIMIT", r.choice(["0", "1", "-1", "abc"])]])),
    "zscan": (2, lambda r: [key(r), r.choice(["0", "0", "abc"])] + scan_opts(r, keys=False)),
}
GRAMMAR.update(ZGRAMMAR)

# lists and sets
ELEMS = ["a", "b", "c", "1", "2", "10", "-1", "", "x" * 70, "3.5"]
BTIMEOUT = ["0.01", "0.01", "0.001", "-1", "abc", "1e400", "inf"]   # never 0: a block would never end


def elems(r, lo=1, hi=4):
    return [r.choice(ELEMS) for _ in range(r.randint(lo, hi))]


def lindex_arg(r):
    return r.choice(["0", "1", "-1", "2", "-3", "100", "-100", "9223372036854775807", "-9223372036854775808", "abc"])


def where(r):
    return r.choice(["LEFT", "RIGHT", "left", "BAD"])


def mpop_args(r):
    n = r.choice(["1", "2", "2", "0", "-1", "abc"])
    k = [key(r) for _ in range(int(n) if n in ("1", "2") else 1)]
    return [n] + k + [where(r)] + r.choice([[], ["COUNT", r.choice(["1", "2", "10", "0", "-1", "abc"])]])


def set_big(r):
    if r.random() < 0.03:
        return [str(i) for i in range(r.randint(500, 530))]   # crosses set-max-intset-entries
    return elems(r)


LGRAMMAR = {
    "lpush": (5, lambda r: [key(r)] + elems(r)),
    "rpush": (5, lambda r: [key(r)] + elems(r)),
    "lpushx": (2, lambda r: [key(r)] + elems(r)),
    "rpushx": (2, lambda r: [key(r)] + elems(r)),
    "lpop": (3, lambda r: [key(r)] + r.choice([[], [r.choice(["1", "2", "0", "-1", "10", "abc"])]])),
    "rpop": (3, lambda r: [key(r)] + r.choice([[], [r.choice(["1", "2", "0", "-1", "10", "abc"])]])),
    "llen": (2, lambda r: [key(r)]),
    "lrange": (4, lambda r: [key(r), lindex_arg(r), lindex_arg(r)]),
    "lindex": (2, lambda r: [key(r), lindex_arg(r)]),
    "lset": (2, lambda r: [key(r), lindex_arg(r), r.choice(ELEMS)]),
    "linsert": (2, lambda r: [key(r), r.choice(["BEFORE", "AFTER", "bad"]), r.choice(ELEMS), r.choice(ELEMS)]),
    "lrem": (2, lambda r: [key(r), r.choice(["0", "1", "-1", "2", "-9223372036854775808", "abc"]), r.choice(ELEMS)]),
    "ltrim": (2, lambda r: [key(r), lindex_arg(r), lindex_arg(r)]),
    "lpos": (2, lambda r: [key(r), r.choice(ELEMS)] + r.choice([[], ["RANK", r.choice(["1", "-1", "2", "0", "-9223372036854775808"])],
                                                                 ["COUNT", r.choice(["0", "1", "-1"])],
                                                                 ["MAXLEN", r.choice(["0", "1", "-1"])], ["BAD"]])),
    "lmove": (2, lambda r: [key(r), key(r), where(r), where(r)]),
    "rpoplpush": (2, lambda r: [key(r), key(r)]),
    "lmpop": (2, mpop_args),
    "blpop": (1, lambda r: [key(r) for _ in range(r.randint(1, 2))] + [r.choice(BTIMEOUT)]),
    "brpop": (1, lambda r: [key(r) for _ in range(r.randint(1, 2))] + [r.choice(BTIMEOUT)]),
    "blmove": (1, lambda r: [key(r), key(r), where(r), where(r), r.choice(BTIMEOUT)]),
    "brpoplpush": (1, lambda r: [key(r), key(r), r.choice(BTIMEOUT)]),
    "blmpop": (1, lambda r: [r.choice(BTIMEOUT)] + mpop_args(r)),
    "sadd": (5, lambda r: [key(r)] + set_big(r)),
    "srem": (2, lambda r: [key(r)] + elems(r)),
    "scard": (2, lambda r: [key(r)]),
    "sismember": (2, lambda r: [key(r), r.choice(ELEMS)]),
    "smismember": (2, lambda r: [key(r)] + elems(r)),
    "smembers": (2, lambda r: [key(r)]),
    "srandmember": (2, lambda r: [key(r)] + r.choice([[], [r.choice(["1", "2", "-2", "0", "1000", "-5", "abc"])]])),
    # SPOP takes random members: only forms whose effect is the same on both servers
    "spop": (2, lambda r: [key(r)] + [r.choice(["1000", "0", "-1", "abc"])]),
    "smove": (2, lambda r: [key(r), key(r), r.choice(ELEMS)]),
    "sinter": (2, lambda r: [key(r) for _ in range(r.randint(1, 3))]),
    "sintercard": (2, lambda r: [r.choice(["1", "2", "0", "abc"]), key(r), key(r)]
                   + r.choice([[], ["LIMIT", r.choice(["0", "1", "-1", "abc"])]])),
    "sunion": (2, lambda r: [key(r) for _ in range(r.randint(1, 3))]),
    "sdiff": (2, lambda r: [key(r) for _ in range(r.randint(1, 3))]),
    "sinterstore": (2, lambda r: [key(r) for _ in range(r.randint(2, 3))]),
    "sunionstore": (2, lambda r: [key(r) for _ in range(r.randint(2, 3))]),
    "sdiffstore": (2, lambda r: [key(r) for _ in range(r.randint(2, 3))]),
    "sscan": (2, lambda r: [key(r), r.choice(["0", "0", "abc"])] + scan_opts(r, keys=False)),
}
GRAMMAR.update(LGRAMMAR)


def zmpop_args(r):
    return GRAMMAR["zmpop"][1](r)


# blocking sorted-set pops: short non-zero timeouts only (a 0 would block forever)
GRAMMAR.update({
    "bzpopmin": (1, lambda r: [key(r) for _ in range(r.randint(1, 2))] + [r.choice(BTIMEOUT)]),
    "bzpopmax": (1, lambda r: [key(r) for _ in range(r.randint(1, 2))] + [r.choice(BTIMEOUT)]),
    "bzmpop": (1, lambda r: [r.choice(BTIMEOUT)] + zmpop_args(r)),
})

# Bit commands. SETBIT offsets stay small (a valid 2^32-1 would allocate 512 MB
# on both servers each time); the limits are tested in test_kv_bits.py.
BITOFF = ["0", "1", "7", "8", "15", "63", "100", "1000", "-1", "abc", "4294967296", "9223372036854775807"]
BITIDX = ["0", "1", "2", "-1", "-2", "-3", "5", "7", "8", "100", "-100", "x", "9223372036854775807",
          "-9223372036854775808"]


def bit_range(r, n_max):
    """[start [end [BYTE|BIT]]] with up to n_max of the three."""
    out = []
    n = r.randint(0, n_max)
    if n >= 1:
        out.append(r.choice(BITIDX))
    if n >= 2:
        out.append(r.choice(BITIDX))
    if n >= 3:
        out.append(r.choice(["BYTE", "BIT", "bit", "byte", "BAD"]))
    return out


GRAMMAR.update({
    "setbit": (4, lambda r: [key(r), r.choice(BITOFF), r.choice(["0", "1", "1", "0", "2", "-1", "x"])]),
    "getbit": (3, lambda r: [key(r), r.choice(BITOFF + ["4294967295"])]),
    "bitcount": (3, lambda r: [key(r)] + bit_range(r, 4 if r.random() < 0.05 else 3)),
    "bitpos": (3, lambda r: [key(r), r.choice(["0", "1", "1", "0", "2", "x"])] +
               bit_range(r, 4 if r.random() < 0.05 else 3)),
    "copy": (3, lambda r: [key(r), key(r)] + r.choice([[], [], ["REPLACE"], ["replace"], ["DB", "0"],
                                                         ["DB", "0", "REPLACE"], ["REPLACE", "DB", "0"],
                                                         ["DB", "x"], ["DB"], ["BAD"], ["DB", "-1"],
                                                         ["DB", r.choice(DBS)], ["DB", r.choice(DBS), "REPLACE"]])),
    "lcs": (2, lambda r: [key(r), key(r)] + r.sample(["IDX", "LEN", "WITHMATCHLEN", "MINMATCHLEN",
                                                       r.choice(["0", "1", "2", "4", "-1", "x"]), "idx", "BAD"],
                                                      r.choice([0, 0, 1, 1, 2, 3]))),
    "bitop": (3, lambda r: [r.choice(["AND", "OR", "XOR", "NOT", "not", "and", "BAD"])] +
              [key(r) for _ in range(r.choice([2, 2, 3, 4]))]),
})

# Databases: MOVE and SWAPDB between the few databases SELECT visits.
GRAMMAR.update({
    "move": (3, lambda r: [key(r), r.choice(DBS)]),
    "swapdb": (2, lambda r: [r.choice(DBS), r.choice(DBS)]),
})

# SORT / SORT_RO. BY and GET patterns build key names from the elements
# ("*" is the element itself, "s*" ... point into the key pool, "->" reads a
# hash field); a constant BY means "do not sort".
SORT_BY = ["nosort", "*", "s*", "n*", "h*->f0", "*->f1", "x*", "z*", "noexist*"]
SORT_GET = ["#", "*", "s*", "h*->f0", "*->f2", "nostar", "n*"]


def sort_args(r, ro):
    out = [key(r)]
    opts = [["ASC"], ["DESC"], ["ALPHA"], ["alpha"], ["BY", r.choice(SORT_BY)], ["GET", r.choice(SORT_GET)],
            ["LIMIT", r.choice(["0", "1", "-1", "2", "100"]), r.choice(["0", "1", "2", "-1", "5", "x"])],
            ["GET", r.choice(SORT_GET)]]
    if not ro or r.random() < 0.05:
        opts.append(["STORE", key(r)])
    for _ in range(r.choice([0, 1, 1, 2, 2, 3, 4])):
        out += r.choice(opts)
    if r.random() < 0.03:
        out += r.choice([["LIMIT", "1"], ["BY"], ["GET"], ["BAD"]])
    return out


# BITFIELD. Offsets small, or refused (a valid offset near 2^32 would
# allocate 512 MB on both servers); the limits are tested in test_kv_bitfield.py.
BF_TYPES = ["i1", "i5", "i8", "i16", "i32", "i63", "i64", "u1", "u4", "u8", "u15", "u32", "u63"]
BF_BAD_TYPES = ["u64", "i65", "i0", "x8", "I8", ""]
BF_OFFS = ["0", "1", "3", "7", "8", "13", "64", "100", "#0", "#1", "#3", "#-1", "-1", "x", "34359738368",
           "#9223372036854775807", "#288230376151711745"]
BF_VALS = ["0", "1", "-1", "7", "127", "128", "-129", "255", "256", "65535", "4294967297",
           "9223372036854775807", "-9223372036854775808", "x", "1.5"]


def bitfield_args(r, ro):
    out = [key(r)]
    for _ in range(r.randint(0, 4)):
        op = r.choice(["GET", "GET", "SET", "INCRBY", "OVERFLOW", "get", "incrby"] if not ro or r.random() < 0.1
                      else ["GET", "get", "OVERFLOW"])
        t = r.choice(BF_TYPES if r.random() < 0.93 else BF_BAD_TYPES)
        if op.upper() == "OVERFLOW":
            out += [op, r.choice(["WRAP", "SAT", "FAIL", "fail", "BAD"])]
        elif op.upper() == "GET":
            out += [op, t, r.choice(BF_OFFS)]
        else:
            out += [op, t, r.choice(BF_OFFS), r.choice(BF_VALS)]
    if r.random() < 0.03:
        out += r.choice([["GET", "u8"], ["BAD"], ["OVERFLOW"]])
    return out


GRAMMAR.update({
    "sort": (4, lambda r: sort_args(r, False)),
    "sort_ro": (2, lambda r: sort_args(r, True)),
    "bitfield": (4, lambda r: bitfield_args(r, False)),
    "bitfield_ro": (2, lambda r: bitfield_args(r, True)),
    "slowlog": (1, lambda r: r.choice([["GET"], ["GET", "2"], ["GET", "-2"], ["GET", "x"], ["LEN"], ["HELP"],
                                       ["RESET"], ["BAD"], ["LEN", "1"]])),
})

# Transactions. "multi" is drawn like any command but always sent as one unit
# MULTI, 0-4 commands, EXEC or DISCARD (Fuzzer.batch), so a batch never ends
# inside a transaction; inside it, blocking commands do not block (any
# timeout, even 0, is safe), and a queue-time error (unknown command, wrong
# arity) makes EXEC answer EXECABORT. WATCH comes alone: the writes that the
# same connection sends before the next unit decide whether its EXEC runs,
# which compares the precision of "modified key" between the servers.
TX_INNER_EXCLUDED = {"multi", "exec", "discard", "hello", "reset", "quit"}
GRAMMAR.update({
    "multi": (3, lambda r: []),
    "exec": (1, lambda r: [] if r.random() < 0.9 else ["x"]),
    "discard": (1, lambda r: []),
    "watch": (3, lambda r: [key(r) for _ in range(r.randint(1, 3))]),
    "unwatch": (1, lambda r: []),
})

# Pub/sub where replies are deterministic: the fuzzer's connections never
# subscribe (SUBSCRIBE is excluded), so PUBLISH reaches nobody and the
# introspection replies are the same on both servers; UNSUBSCRIBE with at
# most one argument answers exactly one reply (several arguments answer one
# each). Not inside MULTI (RESP3 push replies in EXEC differ in shape).
def channel(r):
    return r.choice(["ch", "news", "a*", "", "__keyspace@0__:k0"])


GRAMMAR.update({
    "publish": (2, lambda r: [channel(r), val(r)]),
    "spublish": (1, lambda r: [channel(r), val(r)]),
    "pubsub": (2, lambda r: r.choice([["NUMSUB"], ["NUMSUB", channel(r), channel(r)], ["NUMPAT"],
                                      ["CHANNELS"], ["CHANNELS", channel(r)], ["SHARDCHANNELS"],
                                      ["SHARDNUMSUB", channel(r)], ["HELP"], ["BAD"], ["NUMPAT", "x"],
                                      ["CHANNELS", "a", "b"]])),
    "unsubscribe": (1, lambda r: r.choice([[], [channel(r)]])),
    "punsubscribe": (1, lambda r: r.choice([[], [channel(r)]])),
    "sunsubscribe": (1, lambda r: r.choice([[], [channel(r)]])),
})
TX_INNER_EXCLUDED |= {"unsubscribe", "punsubscribe", "sunsubscribe"}
# Streams. Ids are explicit (never `*`, whose milliseconds differ between
# the servers): small ms and seq so that both see the same sequence, plus
# `<ms>-*`, partial, special and invalid ids. Values stay short so that a node
# fills by entry count (100) on both servers, never by bytes. Idle times and
# min-idle arguments are 0 or huge so that no comparison depends on the clock.
SIDS = ["1-0", "1-1", "2-0", "2-5", "3-0", "5-1", "5-2", "7-0", "10-0", "10-3", "20-0", "30-1", "0-1"]
XIDS = SIDS + ["0-0", "5", "12", "18446744073709551615-18446744073709551615", "abc", "1-x", "-1", " 3",
               "18446744073709551616"]
XVALS = ["", "0", "1", "abc", "-1", "v"]
XFIELDS = ["f0", "f1", "f2"]
XGROUPS = ["g0", "g1", "g2"]
XCONS = ["c0", "c1", "c2"]
IDLES = ["0", "0", "100000000", "-5", "x"]


def skey(r):
    """Mostly the two keys only stream commands use (the shared pool changes
    type too often for a stream to grow), sometimes any key."""
    return r.choice(["st0", "st1"]) if r.random() < 0.8 else key(r)


def xid(r):
    x = r.random()
    if x < 0.5:
        return f"{r.randint(1, 40)}-{r.randint(0, 3)}"   # the ids XADD makes
    return r.choice(SIDS) if x < 0.9 else r.choice(XIDS)


def xrange_id(r, end=False):
    x = r.random()
    if x < 0.25:
        return "+" if end else "-"
    if x < 0.45:
        return "(" + r.choice(SIDS)
    if x < 0.55:
        return str(r.randint(0, 31))
    return xid(r)


def xadd_args(r):
    out = [skey(r)]
    if r.random() < 0.1:
        out.append("NOMKSTREAM")
    if r.random() < 0.25:
        how = r.choice([[], ["~"], ["="]])
        if r.random() < 0.6:
            out += ["MAXLEN"] + how + [r.choice(["0", "1", "3", "5", "10", "120", "-1", "x"])]
        else:
            out += ["MINID"] + how + [xid(r)]
        if r.random() < 0.2:
            out += ["LIMIT", r.choice(["0", "1", "10", "100", "-1"])]
    x = r.random()
    if x < 0.2:
        out.append(f"{r.randint(1, 40)}-*")
    elif x < 0.3:
        out.append(str(r.randint(1, 40)))
    else:
        out.append(f"{r.randint(1, 40)}-{r.randint(0, 3)}" if r.random() < 0.9 else r.choice(XIDS))
    n = r.choice([1, 1, 2, 3])
    for i in range(n):
        out += [XFIELDS[i] if r.random() < 0.8 else r.choice(XFIELDS), r.choice(XVALS)]
    if r.random() < 0.03:
        out.pop()   # odd field list
    return out


def xtrim_args(r):
    how = r.choice([[], ["~"], ["="]])
    if r.random() < 0.6:
        out = [skey(r), "MAXLEN"] + how + [r.choice(["0", "1", "2", "5", "10", "120", "-1", "x"])]
    else:
        out = [skey(r), "MINID"] + how + [xid(r)]
    if r.random() < 0.2:
        out += ["LIMIT", r.choice(["0", "1", "10", "-1"])]
    if r.random() < 0.03:
        out = [skey(r), r.choice(["BAD", "LIMIT"]), "1"]
    return out


def xread_args(r, group):
    out = []
    if group:
        out += ["GROUP", r.choice(XGROUPS), r.choice(XCONS)]
    if r.random() < 0.4:
        out += ["COUNT", r.choice(["1", "2", "0", "-1", "x"])]
    if r.random() < 0.15:
        out += ["BLOCK", r.choice(["1", "2", "-1", "x"])]
    if group and r.random() < 0.2:
        out.append("NOACK")
    ks = [skey(r) for _ in range(r.choice([1, 1, 2]))]
    if group:
        idl = [">" if r.random() < 0.7 else r.choice(["0", "0-0", "5-1", "$", xid(r)]) for _ in ks]
    else:
        idl = [r.choice(["0", "0-0", "$", "5", xid(r), ">"]) for _ in ks]
    out += ["STREAMS"] + ks + idl
    if r.random() < 0.03:
        out.pop()
    return out


def xgroup_args(r):
    sub = r.choice(["CREATE", "CREATE", "CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER", "HELP",
                    "BAD"])
    k, g = skey(r), r.choice(XGROUPS)
    if sub == "CREATE":
        out = [sub, k, g, r.choice(["$", "0", "0-0", xid(r)])]
        if r.random() < 0.5:
            out.append("MKSTREAM")
        if r.random() < 0.2:
            out += ["ENTRIESREAD", r.choice(["0", "3", "-1", "-2", "x"])]
        return out
    if sub == "SETID":
        out = [sub, k, g, r.choice(["$", "0", xid(r)])]
        if r.random() < 0.2:
            out += [r.choice(["ENTRIESREAD", "BAD"]), r.choice(["0", "2", "-1", "-3"])]
        return out
    if sub == "DESTROY":
        return [sub, k, g]
    if sub in ("CREATECONSUMER", "DELCONSUMER"):
        return [sub, k, g, r.choice(XCONS)]
    if sub == "HELP":
        return [sub]
    return [sub, k, g]


def xpending_args(r):
    out = [skey(r), r.choice(XGROUPS)]
    if r.random() < 0.3:
        return out
    if r.random() < 0.3:
        out += ["IDLE", r.choice(IDLES)]
    out += [xrange_id(r), xrange_id(r, True), r.choice(["10", "1", "0", "-1", "x"])]
    if r.random() < 0.3:
        out.append(r.choice(XCONS))
    return out


def xclaim_args(r):
    out = [skey(r), r.choice(XGROUPS), r.choice(XCONS), r.choice(IDLES)]
    out += [xid(r) for _ in range(r.randint(1, 3))]
    for _ in range(r.choice([0, 0, 1, 2])):
        o = r.choice(["IDLE", "TIME", "RETRYCOUNT", "FORCE", "JUSTID", "LASTID", "BAD"])
        if o == "IDLE":
            out += [o, r.choice(["0", "200000000", "x"])]
        elif o == "TIME":
            out += [o, r.choice(["0", "99999999999999", "x"])]
        elif o == "RETRYCOUNT":
            out += [o, r.choice(["0", "5", "-1", "x"])]
        elif o == "LASTID":
            out += [o, xid(r)]
        else:
            out.append(o)
    return out


def xautoclaim_args(r):
    out = [skey(r), r.choice(XGROUPS), r.choice(XCONS), r.choice(IDLES), xrange_id(r)]
    if r.random() < 0.4:
        out += ["COUNT", r.choice(["1", "2", "10", "0", "-1", "x"])]
    if r.random() < 0.3:
        out.append("JUSTID")
    return out


def xinfo_args(r):
    sub = r.choice(["STREAM", "STREAM", "GROUPS", "CONSUMERS", "HELP", "BAD"])
    if sub == "STREAM":
        return [sub, skey(r)] + r.choice([[], [], ["FULL"], ["FULL", "COUNT", r.choice(["0", "1", "2", "-1"])],
                                          ["BAD"]])
    if sub == "CONSUMERS":
        return [sub, skey(r), r.choice(XGROUPS)]
    if sub == "HELP":
        return [sub]
    return [sub, skey(r)]


def failover_args(r):
    """FAILOVER's options in any order and number (the servers have no
    replica: after the option checks both answer "requires connected replicas")."""
    opts = [["TO", r.choice(["127.0.0.1", "localhost", ""]), r.choice(["6379", "0", "-1", "x", "99999"])],
            ["FORCE"], ["ABORT"], ["TIMEOUT", r.choice(["100", "0", "-5", "x", "9223372036854775807"])], ["TO"],
            ["TIMEOUT"], ["BAD"]]
    return [w for _ in range(r.randint(0, 3)) for w in r.choice(opts)]


GEO_LONS = ["13.361389", "15.087269", "-122.42", "180", "-180", "0", "179.99", "200", "x", "-0.5", "2.5"]
GEO_LATS = ["38.115556", "37.502669", "37.77", "85.05112878", "-85.05112878", "0", "-33.9", "86", "nan", "10"]
GEO_UNITS = ["m", "km", "ft", "mi", "KM", "yd"]
GEO_SIZES = ["0", "1", "100", "5000", "200000", "5000000", "20000000", "-1", "x", "1e400", "inf"]


def geo_point(r):
    if r.random() < 0.8:
        return [f"{r.uniform(-180, 180):.5f}", f"{r.uniform(-85, 85):.5f}"]
    return [r.choice(GEO_LONS), r.choice(GEO_LATS)]


def geo_opts(r, store=None):
    out = []
    for _ in range(r.choice([0, 1, 2, 3])):
        w = r.choice(["WITHDIST", "WITHHASH", "WITHCOORD", "ASC", "DESC", "ANY", "COUNT", "BAD"])
        out.append(w)
        if w == "COUNT" and r.random() < 0.9:
            out.append(r.choice(["1", "2", "3", "10", "0", "-1", "x"]))
    if store and r.random() < 0.3:
        out += [r.choice(store)] + ([key(r)] if "STORE" in store else [])
    r.shuffle(out) if r.random() < 0.2 else None
    return out


def geo_from_by(r):
    out = []
    for _ in range(r.choice([1, 2, 2, 2, 3])):
        k = r.random()
        if k < 0.25:
            out += ["FROMMEMBER", member(r)]
        elif k < 0.5:
            out += ["FROMLONLAT"] + geo_point(r)
        elif k < 0.75:
            out += ["BYRADIUS", r.choice(GEO_SIZES), r.choice(GEO_UNITS)]
        else:
            out += ["BYBOX", r.choice(GEO_SIZES), r.choice(GEO_SIZES), r.choice(GEO_UNITS)]
    return out


ACL_USERS = ["u1", "u2", "u3"]   # never "default": the fuzzing connection runs as it
ACL_RULES = ["on", "off", "nopass", "resetpass", ">pw", "<pw", "#" + "a" * 64, "!" + "a" * 64, "~k*", "%R~k*",
             "%W~*", "%RW~x", "allkeys", "resetkeys", "&ch*", "allchannels", "resetchannels", "+get", "-get",
             "+@read", "-@write", "+@all", "-@all", "+@hash", "-@dangerous", "+config|get", "-config|set",
             "+select|0", "allcommands", "nocommands", "reset", "(+set ~s*)", "clearselectors", "bogus",
             "+nosuch", "+@nosuch", "sanitize-payload", "skip-sanitize-payload"]
ACL_LINES = [["get", "k1"], ["set", "k1", "v"], ["set", "x", "v"], ["config", "get", "x"], ["config", "set", "a", "b"],
             ["select", "0"], ["select", "1"], ["publish", "ch1", "m"], ["psubscribe", "ch*"], ["hset", "k", "f", "v"],
             ["flushall"], ["lmove", "k1", "x", "left", "left"], ["nosuch"], ["get"]]
GRAMMAR.update({
    # ACL on users of its own (the connection stays the default user's)
    "acl": (3, lambda r: r.choice([
        lambda: ["SETUSER", r.choice(ACL_USERS)] + [r.choice(ACL_RULES) for _ in range(r.randint(0, 5))],
        lambda: ["GETUSER", r.choice(ACL_USERS + ["default", "nosuch"])],
        lambda: ["DELUSER"] + [r.choice(ACL_USERS + ["nosuch"]) for _ in range(r.randint(1, 2))],
        lambda: ["DRYRUN", r.choice(ACL_USERS + ["default", "nosuch"])] + r.choice(ACL_LINES),
        lambda: [r.choice(["USERS", "LIST", "WHOAMI", "CAT", "HELP", "LOG", "GENPASS"])],
        lambda: ["CAT", r.choice(["read", "hash", "dangerous", "nosuch", "ALL"])],
        lambda: ["GENPASS", r.choice(["1", "4096", "0", "x"])],
        lambda: [r.choice(["BOGUS", "LOAD", "SAVE"])],
    ])()),
})

GRAMMAR.update({
    # MIGRATE to a closed port: both answer the IOERR of a refused connection
    "migrate": (1, lambda r: ["127.0.0.1", "1", r.choice([key(r), ""]), r.choice(["0", "1", "x"]),
                              r.choice(["100", "0", "x"])]
                + [w for _ in range(r.randint(0, 2)) for w in r.choice([["COPY"], ["REPLACE"], ["AUTH", "pw"],
                                                                       ["KEYS", key(r)], ["BAD"]])]),
})

GRAMMAR.update({
    # geo indexes are sorted sets: the same keys as the z* commands, so the
    # searches also meet scores that GEOADD never writes
    "geoadd": (4, lambda r: [key(r)] + r.choice([[], [], ["NX"], ["XX"], ["CH"], ["XX", "CH"]])
               + [a for _ in range(r.choice([1, 1, 2, 4])) for a in geo_point(r) + [member(r)]]),
    "geodist": (2, lambda r: [key(r), member(r), member(r)] + r.choice([[], [r.choice(GEO_UNITS)]])),
    "geohash": (2, lambda r: [key(r)] + [member(r) for _ in range(r.randint(1, 3))]),
    "geopos": (2, lambda r: [key(r)] + [member(r) for _ in range(r.randint(1, 3))]),
    "georadius": (2, lambda r: [key(r)] + geo_point(r) + [r.choice(GEO_SIZES), r.choice(GEO_UNITS)]
                  + geo_opts(r, ["STORE", "STOREDIST"])),
    "georadius_ro": (2, lambda r: [key(r)] + geo_point(r) + [r.choice(GEO_SIZES), r.choice(GEO_UNITS)]
                     + geo_opts(r, ["STORE"])),
    "georadiusbymember": (2, lambda r: [key(r), member(r), r.choice(GEO_SIZES), r.choice(GEO_UNITS)]
                          + geo_opts(r, ["STORE", "STOREDIST"])),
    "georadiusbymember_ro": (2, lambda r: [key(r), member(r), r.choice(GEO_SIZES), r.choice(GEO_UNITS)]
                             + geo_opts(r)),
    "geosearch": (3, lambda r: [key(r)] + geo_from_by(r) + geo_opts(r)),
    "geosearchstore": (2, lambda r: [key(r), key(r)] + geo_from_by(r) + geo_opts(r, ["STOREDIST"])),
})


GRAMMAR.update({
    # HyperLogLogs on keys of their own: other string commands (APPEND,
    # SETRANGE...) damage a value, and PFADD on a damaged sparse value differs
    # on purpose (kv refuses it whole, Redis edits it up to the damage:
    # docs/kv.md); tests/integration/test_kv_hll.py covers the wrong types
    "pfadd": (4, lambda r: [r.choice(["hll1", "hll2"])] + [f"e{r.randrange(0, 3000)}" for _ in
                                                          range(r.choice([0, 1, 5, 50, 400]))]),
    "pfcount": (3, lambda r: [r.choice(["hll1", "hll2", "hll3"]) for _ in range(r.randint(1, 3))]),
    "pfmerge": (2, lambda r: [r.choice(["hll1", "hll2", "hll3"]) for _ in range(r.randint(1, 3))]),
    "failover": (2, failover_args),
    "xadd": (10, xadd_args),
    "xlen": (2, lambda r: [skey(r)]),
    "xrange": (3, lambda r: [skey(r), xrange_id(r), xrange_id(r, True)]
               + r.choice([[], [], ["COUNT", r.choice(["1", "2", "0", "-1", "x"])], ["BAD", "1"]])),
    "xrevrange": (3, lambda r: [skey(r), xrange_id(r, True), xrange_id(r)]
                  + r.choice([[], [], ["COUNT", r.choice(["1", "2", "0", "-1", "x"])]])),
    "xread": (3, lambda r: xread_args(r, False)),
    "xdel": (3, lambda r: [skey(r)] + [xid(r) for _ in range(r.randint(1, 3))]),
    "xtrim": (2, xtrim_args),
    "xsetid": (1, lambda r: [skey(r), xid(r)] + r.choice([[], [], ["ENTRIESADDED", r.choice(["0", "5", "100", "-1"])],
                                                          ["MAXDELETEDID", xid(r)], ["BAD"]])),
    "xgroup": (5, xgroup_args),
    "xreadgroup": (6, lambda r: xread_args(r, True)),
    "xack": (3, lambda r: [skey(r), r.choice(XGROUPS)] + [xid(r) for _ in range(r.randint(1, 3))]),
    "xpending": (3, xpending_args),
    "xclaim": (3, xclaim_args),
    "xautoclaim": (3, xautoclaim_args),
    "xinfo": (3, xinfo_args),
})


# Scripting: a fixed set of deterministic, bounded scripts (no loop longer than
# 50 rounds, so nothing ever becomes a busy script) with random keys and
# arguments; EVALSHA of their shas (cached by an earlier EVAL or SCRIPT LOAD,
# or NOSCRIPT after SCRIPT FLUSH on both); one function library.
SCRIPTS = [
    "return redis.call('get', KEYS[1])",
    "return redis.call('set', KEYS[1], ARGV[1])",
    "return redis.call('incrby', KEYS[1], ARGV[1])",
    "return redis.pcall('hincrby', KEYS[1], 'f0', ARGV[1])",
    "return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
    "return redis.call('lrange', KEYS[1], 0, -1)",
    "return tonumber(ARGV[1])",
    "return redis.call('exists', KEYS[1]) == 1",
    "redis.call('del', KEYS[1]) return redis.status_reply('DONE')",
    "return redis.error_reply('MYERR ' .. tostring(ARGV[1]))",
    "error('fuzz')",
    "return redis.call('type', KEYS[1])",
    "redis.setresp(3) return redis.call('zscore', KEYS[1], 'm0')",
    "return redis.call('zrange', KEYS[1], 0, -1, 'withscores')",
    "local n = math.min(tonumber(ARGV[1]) or 0, 50) for i = 1, n do redis.call('rpush', KEYS[1], i) end "
    "return redis.call('llen', KEYS[1])",
    "return {1, 2.5, 'x', false, true, nil, 7}",
    "return {err='ERR custom'}",
    "return cjson.encode({ARGV[1]})",
    "retur",
]
FN_LIB = ("#!lua name=fz\n"
          "redis.register_function('fz_get', function(keys, args) return redis.call('get', keys[1]) end)\n"
          "redis.register_function{function_name='fz_echo', callback=function(keys, args) return args end, "
          "flags={'no-writes'}}\n"
          "redis.register_function('fz_set', function(keys, args) return redis.call('set', keys[1], args[1]) end)\n")


def script_numkeys(r):
    return r.choice(["1", "1", "1", "1", "0", "2", "-1", "x", "5"])


def script_args(r, by_sha):
    body = r.choice(SCRIPTS)
    if by_sha:
        import hashlib
        body = hashlib.sha1(body.encode()).hexdigest() if r.random() < 0.9 else "f" * 40
    return [body, script_numkeys(r)] + [key(r) for _ in range(r.randint(0, 2))] + \
        [r.choice(VALUES + INTS) for _ in range(r.randint(0, 2))]


GRAMMAR.update({
    "eval": (4, lambda r: script_args(r, False)),
    "evalsha": (3, lambda r: script_args(r, True)),
    "eval_ro": (2, lambda r: script_args(r, False)),
    "evalsha_ro": (1, lambda r: script_args(r, True)),
    "script": (1, lambda r: r.choice([["LOAD", r.choice(SCRIPTS)], ["EXISTS", script_args(r, True)[0]],
                                      ["FLUSH"], ["FLUSH", "ASYNC"], ["KILL"], ["BAD"]])),
    "function": (1, lambda r: r.choice([["LOAD", "REPLACE", FN_LIB], ["LOAD", FN_LIB], ["DELETE", "fz"],
                                        ["LIST"], ["LIST", "WITHCODE"], ["STATS"], ["FLUSH"], ["KILL"],
                                        ["LOAD", "#!lua name=bad\nreturn 1"]])),
    "fcall": (3, lambda r: [r.choice(["fz_get", "fz_set", "fz_echo", "nofn"]), script_numkeys(r)] +
              [key(r) for _ in range(r.randint(0, 2))] + [val(r) for _ in range(r.randint(0, 2))]),
    "fcall_ro": (1, lambda r: [r.choice(["fz_get", "fz_echo"]), script_numkeys(r)] +
                 [key(r) for _ in range(r.randint(0, 2))] + [val(r) for _ in range(r.randint(0, 2))]),
})

# Commands never sent, with the reason.
EXCLUDED = {
    "quit": "closes the connection",
    "shutdown": "stops the server",
    "debug": "crashes or stalls the server on purpose",
    "monitor": "turns the connection into a feed",
    "subscribe": "turns the connection into a feed",
    "psubscribe": "turns the connection into a feed",
    "ssubscribe": "turns the connection into a feed",
    "sync": "replication stream",
    "psync": "replication stream",
    "save": "writes a dump file (test_kv_rdb.py)",
    "bgsave": "forks a child that writes a dump file; its replies depend on timing (test_kv_rdb.py)",
    "bgrewriteaof": "forks a child that writes AOF files; its replies depend on timing (test_kv_aof.py)",
    "replicaof": "turns the server into a replica (test_kv_repl.py)",
    "slaveof": "turns the server into a replica (test_kv_repl.py)",
    "replconf": "replication handshake (test_kv_repl.py)",
    "wait": "blocks until replicas acknowledge, forever with timeout 0 (test_kv_repl.py)",
}

# How replies of a command are compared when not exactly (reason in the comment).
SORTED = {"hkeys", "hvals", "keys", "smembers", "sunion", "sinter", "sdiff", "spop"}  # order unspecified
PAIRS_SORTED = {"hgetall"}                                # map order unspecified
SHAPE = {
    "randomkey": "random key",
    "time": "the clock",
    "lastsave": "start time of each server",
    "info": "server-specific text",
    "dump": "payloads of hash tables list members in each server's own order, LZF output differs; "
            "the data they carry is compared by test_kv_rdb.py",
    "memory": "allocator-specific sizes",
    "command": "COMMAND DOCS differs (summaries only); COMMAND INFO is compared by test_kv_command_keys.py",
    "client": "ids, addresses and ages differ",
    "hello": "server name, version and client id differ",
    "config": "directive sets differ (scaleout lists its own)",
    "slowlog": "ids, times, durations and addresses differ; what is slow differs",
    "latency": "histograms hold each server's own durations",
    "lolwut": "each server draws its own picture",
    "dbsize": "counts keys whose TTL passed but are not reclaimed yet; SET .. EXAT <past> "
              "deletes at once in scaleout, Redis 7.0 stores the key already expired",
}
TIMES = {"ttl", "pttl", "expiretime", "pexpiretime"}      # clock-dependent integers


SORT_SCORES_ERR = "ERR One or more scores can't be converted into double"


def redis_sort_errno(name, x, y):
    """Redis 7.0's SORT tests errno == ERANGE after strtod without clearing
    errno first, so a number that overflowed or underflowed in an earlier
    command (ZINCRBY 5e-324, INCRBYFLOAT 5.0e3000...) can make a later SORT
    of clean numbers fail. Our SORT parsed every weight (it answered), so
    when Redis answers this error instead, the error is that stale errno."""
    return (name in ("sort", "sort_ro") and isinstance(y, RespError) and y.msg == SORT_SCORES_ERR
            and not isinstance(x, RespError))


def shape(v):
    """A reply reduced to its type (errors keep their first word)."""
    if isinstance(v, RespError):
        return ("error", v.msg.split(" ", 1)[0])
    if isinstance(v, (list, RespMap)):
        return (type(v).__name__,)
    return (type(v).__name__,)


def norm_items(v):
    return sorted(v, key=repr) if isinstance(v, list) else v


STREAM_CLOCK_KEYS = {b"idle", b"seen-time", b"radix-tree-nodes"}


def xnorm(v):
    """XINFO/XPENDING replies without clocks: ms timestamps and idle times
    (the servers run a few ms apart) and radix-tree-nodes (Redis's rax
    internals; scaleout has none)."""
    if isinstance(v, RespMap):
        return [(k, "clock" if k in STREAM_CLOCK_KEYS else xnorm(x)) for k, x in v.items()]
    if isinstance(v, list):
        out = []
        for i, x in enumerate(v):
            if i > 0 and isinstance(v[i - 1], bytes) and v[i - 1] in STREAM_CLOCK_KEYS:
                out.append("clock")
            elif isinstance(x, int) and x >= 10 ** 12:
                out.append("clock")
            else:
                out.append(xnorm(x))
        return out
    return v


def acl_rules_sorted(line):
    """An ACL description with its single-command tail sorted: the tail
    follows each server's command table order (Redis's: a hash table)."""
    words = line.split(b" ")
    last = max([i for i, w in enumerate(words) if w.startswith((b"+@", b"-@"))], default=-1)
    return b" ".join(words[:last + 1] + sorted(words[last + 1:]))


def acl_norm(args, v):
    sub = args[0].upper() if args else ""
    if sub in ("GENPASS", "LOG"):
        return shape(v)
    if sub == "CAT" and len(args) > 1 and isinstance(v, list):
        return sorted(v)
    if sub == "LIST" and isinstance(v, list):
        return [acl_rules_sorted(x) if b"(" not in x else x for x in v]
    if sub == "GETUSER" and isinstance(v, (list, RespMap)):
        items = list(v.items()) if isinstance(v, RespMap) else list(zip(v[0::2], v[1::2]))
        return [(k, acl_rules_sorted(x) if k == b"commands" else x) for k, x in items]
    return v


def normalise(name, args, v):
    if isinstance(v, RespError):
        return v
    if name == "acl":
        return acl_norm(args, v)
    if name == "xinfo":
        return xnorm(v)
    if name == "xpending" and isinstance(v, list) and v and all(isinstance(e, list) and len(e) == 4 for e in v):
        return [[e[0], e[1], "idle", e[3]] for e in v]
    if name == "memory":
        # sizes are the allocator's; and a key SET with a past EXAT/PXAT is
        # gone at once in scaleout while Redis 7.0 still reports its size
        return ("memory reply",)
    if name in SHAPE:
        return shape(v)
    if name == "object" and args and args[0].upper() in ("IDLETIME", "FREQ", "REFCOUNT") and isinstance(v, int):
        # idle time and frequency are clocks; REFCOUNT follows the encoding (below)
        return ("int",)
    if name == "object" and args and args[0].upper() == "ENCODING" and v in (b"embstr", b"raw", b"int"):
        # scaleout derives a string's encoding from its value; Redis's depends
        # on the command that wrote it (APPEND/SETRANGE: raw, INCRBYFLOAT:
        # embstr even for "10") (docs/kv.md, known differences)
        return b"string encoding"
    if name in ("expire", "pexpire") and any(a.upper() in ("GT", "LT") for a in args[2:]):
        # relative time compared with a TTL set a few ms earlier: which is
        # greater depends on when each server ran the two commands
        return shape(v)
    if name == "function" and args and args[0].upper() == "LIST" and isinstance(v, list):
        # functions of a library come in Redis's dict order (unspecified)
        return [[sorted(x, key=repr) if isinstance(x, list) else x for x in lib] for lib in v]
    if name in ("sort", "sort_ro") and isinstance(v, list):
        up = [a.upper() for a in args]
        by = args[up.index("BY") + 1] if "BY" in up[:-1] else None
        constant = by is not None and "*" not in by
        if (constant or (by is not None and "ALPHA" in up)) and "STORE" not in up:
            # a set BY a constant keeps its own (unspecified) order; ALPHA
            # weights that tie (missing keys) keep the input order, which for
            # a set is unspecified too: compare the elements, or with LIMIT
            # only how many came back
            return ("array", len(v)) if "LIMIT" in up else sorted(v, key=repr)
    if name in TIMES and isinstance(v, int):
        return v if v < 0 else ("positive", name)
    if name in SORTED and isinstance(v, list):
        return sorted(v)
    if name in PAIRS_SORTED:
        if isinstance(v, RespMap):
            return sorted(v.items())
        if isinstance(v, list):
            return sorted(zip(v[0::2], v[1::2]))
    if name == "srandmember":
        # random picks: compare how many came back
        if isinstance(v, list):
            return ("array", len(v))
        return shape(v) if v is not None else None
    if name in ("scan", "hscan", "zscan", "sscan") and isinstance(v, list) and len(v) == 2 and isinstance(v[1], list):
        items = v[1]
        if name in ("hscan", "zscan"):
            items = sorted(zip(items[0::2], items[1::2]))
        else:
            items = sorted(items)
        return [v[0], items]
    if name == "zrandmember":
        # random picks, as HRANDFIELD below (the whole-set order is tested in test_kv_zsets.py)
        if isinstance(v, list):
            return ("array", len(v))
        return shape(v) if v is not None else None
    if name == "hrandfield":
        if isinstance(v, list):
            # with a count >= size the set is the whole hash: compare as a set;
            # otherwise random picks: compare how many came back
            return ("array", len(v))
        return shape(v) if v is not None else None
    if isinstance(v, RespSet):
        return sorted(v, key=repr)
    return v


class Fuzzer:
    def __init__(self, so_port, rd_port, seed, log=print):
        self.r = random.Random(seed)
        self.seed = seed
        self.log = log
        self.so = RespConn(so_port, timeout=30)
        self.rd = RespConn(rd_port, timeout=30)
        self.so_port, self.rd_port = so_port, rd_port
        self.history = []
        self.sent = 0
        self.errno_quirks = 0
        self.per_cmd = {}
        table = self.so.cmd("COMMAND")
        self.table = {e[0].decode(): (e[1], e[3], e[4], e[5]) for e in table}
        self.no_grammar = sorted(n for n in self.table if n not in GRAMMAR and n not in EXCLUDED)
        for n in self.no_grammar:
            self.log(f"no grammar: {n} (generic arguments)")
        names = [n for n in self.table if n not in EXCLUDED]
        self.names = names
        self.weights = [GRAMMAR[n][0] if n in GRAMMAR else 1 for n in names]
        # both start from the same state
        for c in (self.so, self.rd):
            assert c.cmd("FLUSHALL") == "OK"
            c.cmd("HELLO", "2")
            c.cmd("SCRIPT", "FLUSH")
            c.cmd("FUNCTION", "FLUSH")

    def generic(self, name):
        arity, first, last, step = self.table[name]
        argc = abs(arity) - 1 + (self.r.randint(0, 2) if arity < 0 else 0)
        args = []
        for pos in range(1, argc + 1):
            is_key = first > 0 and pos >= first and (last < 0 or pos <= last) and (pos - first) % max(step, 1) == 0
            args.append(key(self.r) if is_key else self.r.choice(VALUES + INTS + FIELDS))
        return args

    def next_command(self):
        name = self.r.choices(self.names, self.weights)[0]
        args = GRAMMAR[name][1](self.r) if name in GRAMMAR else self.generic(name)
        return name, [a for a in args]

    def tx_unit(self):
        """MULTI, up to 4 commands (some of them refused at queue time), then
        EXEC (rarely with a wrong arity) or DISCARD."""
        unit = [("multi", [])]
        for _ in range(self.r.randint(0, 4)):
            x = self.r.random()
            if x < 0.03:
                unit.append(("nosuchcmd", ["a"]))
            elif x < 0.06:
                unit.append(("set", ["k"]))                     # wrong arity
            else:
                name, args = self.next_command()
                while name in TX_INNER_EXCLUDED:
                    name, args = self.next_command()
                if name in ("blpop", "brpop", "bzpopmin", "bzpopmax") and self.r.random() < 0.3:
                    args = args[:-1] + ["0"]                    # never blocks inside EXEC
                if name in ("xread", "xreadgroup") and "BLOCK" in args and self.r.random() < 0.3:
                    args[args.index("BLOCK") + 1] = "0"
                unit.append((name, args))
        unit.append(("discard", []) if self.r.random() < 0.15 else ("exec", GRAMMAR["exec"][1](self.r)))
        return unit

    def batch(self, n):
        # a command that changes the protocol or resets ends the batch: its
        # replies are parsed in the new protocol
        out = []
        while len(out) < n:
            name, args = self.next_command()
            if name == "multi":
                unit = self.tx_unit()
                if len(out) + len(unit) <= n:
                    out.extend(unit)
                continue
            out.append((name, args))
            if name in ("hello", "reset"):
                break
            if name == "sort" and "STORE" in [a.upper() for a in args]:
                break   # see redis_sort_errno below: the state may need a repair
        return out

    def run_batch(self, cmds):
        a = self.so.pipeline([(n, *args) for n, args in cmds])
        b = self.rd.pipeline([(n, *args) for n, args in cmds])
        queued = None   # commands QUEUED since MULTI: EXEC's elements are compared as theirs
        for (name, args), x, y in zip(cmds, a, b):
            self.sent += 1
            if name in self.table:   # not the unknown command of a transaction unit
                self.per_cmd[name] = self.per_cmd.get(name, 0) + 1
            self.history.append((name, args))
            if len(self.history) > 40:
                self.history.pop(0)
            if name == "exec" and queued is not None and isinstance(x, list) and isinstance(y, list) \
                    and len(x) == len(y) == len(queued):
                nx = [normalise(n, a_, v) for (n, a_), v in zip(queued, x)]
                ny = [normalise(n, a_, v) for (n, a_), v in zip(queued, y)]
            else:
                nx, ny = normalise(name, args, x), normalise(name, args, y)
            if nx != ny and redis_sort_errno(name, x, y):
                # accepted: Redis's stale errno (see redis_sort_errno); what
                # STORE wrote on our side only is deleted on both
                up = [a.upper() for a in args]
                if "STORE" in up[:-1] and not queued:
                    store = args[up.index("STORE") + 1]
                    self.so.cmd("DEL", store)
                    self.rd.cmd("DEL", store)
                self.errno_quirks += 1
                continue
            if nx != ny:
                return (name, args, x, y)
            if name == "multi" and x == "OK":
                queued = []
            elif queued is not None and x == "QUEUED":
                queued.append((name, args))
            elif name in ("exec", "discard"):
                queued = None
        return None

    def run(self, count=None, duration=None):
        t0 = time.monotonic()
        while True:
            if count is not None and self.sent >= count:
                break
            if duration is not None and time.monotonic() - t0 >= duration:
                break
            n = 100 if count is None else min(100, count - self.sent)
            diff = self.run_batch(self.batch(n))
            if diff:
                return diff
        return None

    def report(self, diff):
        name, args, x, y = diff
        lines = [f"DIFFERENCE after {self.sent} commands (seed {self.seed}):",
                 f"  command:  {name} {' '.join(repr(a) for a in args)}",
                 f"  scaleout: {x!r:.400}", f"  redis:    {y!r:.400}", "  last commands:"]
        lines += [f"    {n} {' '.join(repr(a) for a in a_)}" for n, a_ in self.history[-20:]]
        try:
            for label, c in (("scaleout", self.so), ("redis", self.rd)):
                c.cmd("HELLO", "2")
                ks = sorted(c.cmd("KEYS", "*"))
                lines.append(f"  {label} keys now: " + " ".join(
                    f"{k.decode()}:{c.cmd('TYPE', k)}:{c.cmd('PTTL', k)}" for k in ks))
        except Exception as e:  # the state dump is best effort
            lines.append(f"  (no key dump: {e!r})")
        return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--count", type=int, default=None, help="commands to send (default 20000 without --duration)")
    ap.add_argument("--duration", type=float, default=None, help="seconds to run (new seed every 20000)")
    ap.add_argument("--scaleout-port", type=int, help="use a running scaleout kv instead of starting one")
    ap.add_argument("--redis-port", type=int, help="use a running redis-server instead of starting one")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    count = a.count if a.count is not None or a.duration is not None else 20000
    servers = []
    import tempfile
    tmp = tempfile.TemporaryDirectory()
    try:
        so_port, rd_port = a.scaleout_port, a.redis_port
        if so_port is None:
            s = start_server("scaleout", Path(tmp.name) / "scaleout")
            servers.append(s)
            so_port = s.port
        if rd_port is None:
            if REDIS_SERVER is None:
                print("redis-server is not installed", file=sys.stderr)
                return 2
            s = start_server("redis", Path(tmp.name) / "redis")
            servers.append(s)
            rd_port = s.port
        t0 = time.monotonic()
        total = 0
        while True:
            f = Fuzzer(so_port, rd_port, seed)
            left = None if a.duration is None else a.duration - (time.monotonic() - t0)
            diff = f.run(count=count if a.duration is None else 20000, duration=left)
            total += f.sent
            if diff:
                print(f.report(diff))
                return 1
            print(f"seed {seed}: {f.sent} commands, no difference "
                  f"({len(f.per_cmd)} commands used, {len(f.no_grammar)} without grammar, "
                  f"{f.errno_quirks} SORT replies excused by Redis's stale errno)")
            if a.duration is None or time.monotonic() - t0 >= a.duration:
                break
            seed += 1
        print(f"total: {total} commands in {time.monotonic() - t0:.1f} s")
        for s in servers:
            if not s.alive():
                print(f"{s.target} died", file=sys.stderr)
                return 1
        return 0
    finally:
        for s in servers:
            s.stop()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
