"""
test_kv_command_keys.py — COMMAND GETKEYS and COMMAND LIST, proven by
difference against Debian's redis-server.

  - GETKEYS of every command both servers know, with 0 to 7 arguments, and
    of the shapes whose keys move: numkeys forms (good, zero, negative, too
    many, not a number), XREAD/XREADGROUP STREAMS (even and odd counts),
    SORT/GEORADIUS ... STORE, container subcommands (OBJECT ENCODING, XINFO
    STREAM, MEMORY USAGE, unknown ones), unknown commands;
  - COMMAND LIST names the subcommands as container|sub, as Redis.
"""
import pytest

from conftest import REDIS_SERVER


@pytest.fixture
def launch(launch_in_dir):
    return launch_in_dir


SHAPES = [
    ["ZUNION", "2", "a", "b"], ["ZUNION", "0", "a"], ["ZUNION", "-1", "a"], ["ZUNION", "5", "a"],
    ["ZUNION", "x", "a"], ["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
    ["ZINTERSTORE", "d", "0", "a"], ["ZDIFFSTORE", "d", "1", "a"], ["ZMPOP", "1", "a", "MIN"],
    ["BZMPOP", "0", "2", "a", "b", "MAX"], ["LMPOP", "2", "a", "b", "LEFT"], ["BLMPOP", "1", "1", "a", "RIGHT"],
    ["SINTERCARD", "2", "a", "b", "LIMIT", "1"], ["ZINTERCARD", "1", "a"],
    ["EVAL", "return 1", "0"], ["EVAL", "return 1", "2", "a", "b", "c"], ["EVAL", "return 1", "3", "a"],
    ["EVAL", "return 1", "x"], ["EVALSHA", "abc", "1", "k"], ["EVAL_RO", "return 1", "1", "k"],
    ["FCALL", "f", "0"], ["FCALL", "f", "2", "a", "b"], ["FCALL_RO", "f", "1", "a", "x"],
    ["XREAD", "STREAMS", "a", "b", "0", "0"], ["XREAD", "COUNT", "2", "BLOCK", "0", "STREAMS", "a", "0"],
    ["XREAD", "STREAMS", "a", "b", "0"], ["XREAD", "STREAMS", "a"], ["XREAD", "BOGUS", "STREAMS", "a", "0"],
    ["XREAD", "COUNT", "STREAMS", "STREAMS", "a", "0"], ["XREADGROUP", "GROUP", "streams", "c", "STREAMS", "a", "0"],
    ["ZUNIONSTORE", "d", "0"], ["PFMERGE", "d"], ["PFMERGE", "d", "s"],
    ["GEORADIUS", "k", "1", "2", "3", "km", "STORE"], ["GEORADIUS", "k", "1", "2", "3", "km", "STORE", "a", "STORE", "b"],
    ["XREADGROUP", "GROUP", "g", "c", "NOACK", "STREAMS", "a", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", "b", ">", ">"],
    ["SORT", "k", "BY", "store", "STORE", "d"], ["SORT", "k", "LIMIT", "0", "1", "GET", "#", "STORE", "d1", "STORE", "d2"],
    ["SORT", "k", "STORE"], ["SORT_RO", "k", "STORE", "d"],
    ["GEORADIUS", "k", "1", "2", "3", "km", "STORE", "d"], ["GEORADIUS", "k", "1", "2", "3", "km", "STOREDIST", "d", "STORE", "e"],
    ["GEORADIUSBYMEMBER", "k", "m", "3", "km", "store", "d"], ["GEORADIUS_RO", "k", "1", "2", "3", "km"],
    ["GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
    ["OBJECT", "ENCODING", "k"], ["OBJECT", "HELP"], ["OBJECT"], ["OBJECT", "BOGUS", "k"], ["OBJECT", "FREQ"],
    ["XINFO", "STREAM", "k", "FULL"], ["XINFO", "GROUPS", "k"], ["XINFO", "CONSUMERS", "k", "g"], ["XINFO", "HELP"],
    ["XGROUP", "CREATE", "k", "g", "$"], ["XGROUP", "DESTROY", "k", "g"], ["XGROUP", "SETID", "k", "g", "0"],
    ["MEMORY", "USAGE", "k"], ["MEMORY", "USAGE", "k", "SAMPLES", "5"], ["MEMORY", "STATS"],
    ["CONFIG", "GET", "x"], ["CLIENT", "LIST"], ["NOSUCHCOMMAND", "a"], ["MSET", "a", "1", "b", "2"],
    ["MSET", "a", "1", "b"], ["BITOP", "AND", "d", "a", "b"], ["BLPOP", "a", "b", "0"], ["LCS", "a", "b"],
    ["SET", "k", "v", "EX", "1"], ["GET"], ["GET", "a", "b"], ["PING"], ["PUBLISH", "ch", "m"],
    ["SPUBLISH", "ch", "m"], ["MIGRATE", "h", "1", "k", "0", "1"], ["MIGRATE", "h", "1", "", "0", "1", "KEYS", "a", "b"],
    ["MIGRATE", "h", "1", "k", "0", "1", "KEYS", "a"], ["MIGRATE", "h", "1", "", "0", "1", "AUTH", "keys", "KEYS", "a"],
    ["MIGRATE", "h", "1", "", "0", "1", "AUTH2", "u", "keys", "COPY", "KEYS", "a", "b", "c"], ["SSUBSCRIBE", "ch"], ["RENAME", "a", "b"], ["SMOVE", "a", "b", "m"],
]


def replies(conn, lines, sub="GETKEYS"):
    out = []
    for line in lines:
        conn.cmd("COMMAND", sub, *line)
        out.append(conn.last_raw)
    return out


@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
def test_getkeys_like_redis(launch, sub):
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    conns = {k: launch(k, f"{k}-gk").conn() for k in ("redis", "scaleout")}
    if sub == "GETKEYSANDFLAGS":  # the flags are a set in RESP3
        for c in conns.values():
            c.cmd("HELLO", "3")
    names = {k: {n.decode() for n in conns[k].cmd("COMMAND", "LIST") if b"|" not in n} for k in conns}
    common = sorted(names["redis"] & names["scaleout"])
    assert len(common) > 200
    lines = []
    args = ["k1", "k2", "3", "k4", "k5", "k6", "k7"]
    for name in common:
        for n in range(0, 8):
            lines.append([name] + args[:n])
    lines += SHAPES + [["SET", "k", "v", "GET"], ["SET", "k", "v", "get", "EX", "1"], ["BITFIELD", "k", "GET", "u8", "0"],
                       ["BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1"], ["BITFIELD", "k", "OVERFLOW", "SAT"],
                       ["BITFIELD", "k", "GET", "u8"], ["BITFIELD", "k"], ["LMOVE", "a", "b", "LEFT", "RIGHT"],
                       ["COPY", "a", "b"], ["RENAMENX", "a", "b"], ["ZRANGESTORE", "d", "s", "0", "1"]]
    got = {k: replies(conns[k], lines, sub) for k in conns}
    diffs = [(lines[i], a, b) for i, (a, b) in enumerate(zip(got["redis"], got["scaleout"])) if a != b]
    assert not diffs, (f"{len(diffs)} of {len(lines)} differ, in {sorted({d[0][0] for d in diffs})}; "
                       f"first: {diffs[:8]}")


def test_command_list_names_subcommands_like_redis(launch):
    assert REDIS_SERVER
    lists = {}
    for k in ("redis", "scaleout"):
        c = launch(k, f"{k}-list").conn()
        lists[k] = {n.decode() for n in c.cmd("COMMAND", "LIST")}
    ours = lists["scaleout"]
    assert {"config|get", "object|encoding", "xinfo|stream", "client|kill", "command|getkeys"} <= ours
    # every subcommand we name exists in Redis under the same name
    subs = {n for n in ours if "|" in n}
    assert subs <= lists["redis"], sorted(subs - lists["redis"])
    # and for every container both have, the same subcommands
    for parent in {n.split("|")[0] for n in subs}:
        theirs = {n for n in lists["redis"] if n.startswith(parent + "|")}
        mine = {n for n in subs if n.startswith(parent + "|")}
        assert mine == theirs, (parent, sorted(theirs - mine), sorted(mine - theirs))


def test_subcommand_arities_and_keys_like_redis(launch):
    """COMMAND INFO container|sub: the arity and key position of every
    subcommand kv knows are Redis's (they decide the arity errors, MULTI's
    refusals and GETKEYS)."""
    assert REDIS_SERVER
    conns = {k: launch(k, f"{k}-sub").conn() for k in ("redis", "scaleout")}
    subs = sorted(n.decode() for n in conns["scaleout"].cmd("COMMAND", "LIST") if b"|" in n)
    info = {k: conns[k].cmd("COMMAND", "INFO", *subs) for k in conns}
    for name, r, s in zip(subs, info["redis"], info["scaleout"]):
        assert r is not None and s is not None, name
        assert s[0].decode() == name
        assert s[1] == r[1], (name, "arity", r[1], s[1])
        assert s[3:6] == r[3:6], (name, "keys", r[3:6], s[3:6])
        assert set(s[6]) == set(r[6]), (name, "ACL categories", r[6], s[6])


def test_acl_categories_like_redis(launch):
    """COMMAND INFO's ACL categories of every command are Redis's: ACL's
    +@category rules, ACL CAT and the descriptions of ACL LIST follow them."""
    assert REDIS_SERVER
    conns = {k: launch(k, f"{k}-cats").conn() for k in ("redis", "scaleout")}
    names = sorted(n.decode() for n in conns["scaleout"].cmd("COMMAND", "LIST") if b"|" not in n)
    info = {k: conns[k].cmd("COMMAND", "INFO", *names) for k in conns}
    for name, r, s in zip(names, info["redis"], info["scaleout"]):
        assert set(s[6]) == set(r[6]), (name, r[6], s[6])
    assert conns["scaleout"].cmd("COMMAND", "INFO", "config|nosuch", "nosuch|get") == [None, None]


@pytest.mark.parametrize("proto", [2, 3], ids=["resp2", "resp3"])
def test_command_info_like_redis(launch, proto):
    """COMMAND INFO of every command is Redis 7.0's, byte for byte: flags,
    key range, ACL categories, tips, key specs (maps in RESP3) and the
    subcommand entries; only the order of a container's subcommands is
    Redis's hash-table order, so containers are compared with it sorted.
    COMMAND and COMMAND COUNT list the same commands."""
    assert REDIS_SERVER
    conns = {k: launch(k, f"{k}-info{proto}").conn() for k in ("redis", "scaleout")}
    for c in conns.values():
        c.cmd("HELLO", str(proto))
    names = sorted(n.decode() for n in conns["redis"].cmd("COMMAND", "LIST") if b"|" not in n)
    diffs = []
    for name in names:
        got = {}
        for k, c in conns.items():
            v = c.cmd("COMMAND", "INFO", name)
            got[k] = (c.last_raw, v)
        if got["redis"][0] == got["scaleout"][0]:
            continue
        r, s = got["redis"][1][0], got["scaleout"][1][0]
        if r[9] and s[9] and r[:9] == s[:9] and sorted(r[9], key=repr) == sorted(s[9], key=repr):
            continue
        diffs.append((name, got["redis"][0][:300], got["scaleout"][0][:300]))
    assert not diffs, f"{len(diffs)} of {len(names)} differ: {diffs[:4]}"
    counts = {k: c.cmd("COMMAND", "COUNT") for k, c in conns.items()}
    assert counts["redis"] == counts["scaleout"]
    alls = {k: sorted(e[0] for e in c.cmd("COMMAND")) for k, c in conns.items()}
    assert alls["redis"] == alls["scaleout"]
