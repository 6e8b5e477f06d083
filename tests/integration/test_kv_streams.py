"""
Streams: XADD (NOMKSTREAM, MAXLEN/MINID with = and ~, LIMIT, explicit ids,
`*`, `<ms>-*`) XLEN XRANGE XREVRANGE XREAD (COUNT, BLOCK, `$`) XDEL XTRIM
XSETID XGROUP (CREATE MKSTREAM ENTRIESREAD, SETID, DESTROY, CREATECONSUMER,
DELCONSUMER, HELP) XREADGROUP (BLOCK, NOACK, `>` and history) XACK XPENDING
(summary, extended, IDLE, consumer) XCLAIM (IDLE TIME RETRYCOUNT FORCE JUSTID
LASTID) XAUTOCLAIM (COUNT, JUSTID, deleted ids) XINFO (STREAM [FULL],
GROUPS, CONSUMERS, HELP), and the generic commands on a stream key.

Every test runs against scaleout and redis-server 7.0 with the same
assertions (exact replies, RESP2 and RESP3, exact error texts). The worker
scenarios: 10 consumers of one group get distinct entries and all of them;
an XREADGROUP blocked in one connection is woken by an XADD from another;
a worker process killed with SIGKILL between XREADGROUP and XACK loses its
job to another consumer through XAUTOCLAIM after the idle time, acked once.
"""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import RespConn, RespError, scaleout_only, wait_until

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
SMALLER = "ERR The ID specified in XADD is equal or smaller than the target stream top item"


@pytest.fixture
def c3(server):
    c = server.conn()
    c.cmd("HELLO", "3")
    return c


def ids(entries):
    return [e[0] for e in entries]


def fill(c, key, n, start=1, fields=("f", "v")):
    c.pipeline([("XADD", key, f"{i}-1", *fields) for i in range(start, start + n)])


# ---------------------------------------------------------------------------
# XADD XLEN XRANGE XREVRANGE XDEL
# ---------------------------------------------------------------------------

def test_xadd_ids(c):
    assert c.cmd("XADD", "s", "1-1", "a", "1", "b", "2") == b"1-1"
    assert c.cmd("XADD", "s", "1-*", "a", "3") == b"1-2"
    assert c.cmd("XADD", "s", "2", "c", "4") == b"2-0"
    assert c.cmd("XADD", "s", "2-*", "c", "4") == b"2-1"
    assert c.cmd("XADD", "s", "3-*", "c", "4") == b"3-0"
    assert c.err("XADD", "s", "3-0", "a", "1") == SMALLER
    assert c.err("XADD", "s", "2-5", "a", "1") == SMALLER
    assert c.cmd("XLEN", "s") == 5
    assert c.cmd("XLEN", "nokey") == 0
    assert c.cmd("TYPE", "s") == "stream"
    assert c.cmd("OBJECT", "ENCODING", "s") == b"stream"
    # `*`: a time-based id greater than the last one
    auto = c.cmd("XADD", "s", "*", "x", "y").decode()
    ms, seq = auto.split("-")
    assert int(ms) > 3 and int(seq) >= 0
    # an id far in the future: `*` then continues its sequence
    c.cmd("DEL", "t")
    assert c.cmd("XADD", "t", "99999999999999-5", "a", "1") == b"99999999999999-5"
    assert c.cmd("XADD", "t", "*", "a", "1") == b"99999999999999-6"
    assert c.cmd("XADD", "t", "18446744073709551615-18446744073709551615", "a", "1") == \
        b"18446744073709551615-18446744073709551615"
    assert c.err("XADD", "t", "*", "a", "1") == \
        "ERR The stream has exhausted the last possible ID, unable to add more items"


def test_xadd_nomkstream_and_fields(c):
    assert c.cmd("XADD", "s", "NOMKSTREAM", "*", "a", "1") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("EXISTS", "s") == 0
    c.cmd("XADD", "s", "1-1", "a", "1", "b", "2")
    assert c.cmd("XADD", "s", "NOMKSTREAM", "2-1", "z", "") == b"2-1"
    # different field names than the first entry of the node, empty values, binary
    c.cmd("XADD", "s", "3-1", "b\x00in", "\r\n", "a", "1", "c", "x" * 5000)
    r = c.cmd("XRANGE", "s", "-", "+")
    assert r == [[b"1-1", [b"a", b"1", b"b", b"2"]], [b"2-1", [b"z", b""]],
                 [b"3-1", [b"b\x00in", b"\r\n", b"a", b"1", b"c", b"x" * 5000]]]


def test_xrange_xrevrange(c):
    fill(c, "s", 10)
    assert ids(c.cmd("XRANGE", "s", "-", "+")) == [f"{i}-1".encode() for i in range(1, 11)]
    assert ids(c.cmd("XRANGE", "s", "3", "5")) == [b"3-1", b"4-1", b"5-1"]
    assert ids(c.cmd("XRANGE", "s", "(3-1", "(5-1")) == [b"4-1"]
    assert ids(c.cmd("XRANGE", "s", "3-2", "5-0")) == [b"4-1"]
    assert ids(c.cmd("XRANGE", "s", "-", "+", "COUNT", "2")) == [b"1-1", b"2-1"]
    assert ids(c.cmd("XRANGE", "s", "-", "+", "COUNT", "2", "COUNT", "3")) == [b"1-1", b"2-1", b"3-1"]
    assert c.cmd("XRANGE", "s", "-", "+", "COUNT", "0") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.cmd("XRANGE", "s", "-", "+", "COUNT", "-5") is None
    assert c.cmd("XRANGE", "s", "5", "3") == []
    assert c.cmd("XRANGE", "nokey", "-", "+") == []
    assert ids(c.cmd("XREVRANGE", "s", "+", "-", "COUNT", "3")) == [b"10-1", b"9-1", b"8-1"]
    assert ids(c.cmd("XREVRANGE", "s", "(5", "(2")) == [b"5-1", b"4-1", b"3-1", b"2-1"]
    assert ids(c.cmd("XREVRANGE", "s", "(5-1", "(2-1")) == [b"4-1", b"3-1"]
    assert ids(c.cmd("XREVRANGE", "s", "5", "3")) == [b"5-1", b"4-1", b"3-1"]
    assert c.cmd("XREVRANGE", "s", "3", "5") == []


def test_xrange_many_nodes_and_xdel(c):
    fill(c, "s", 450, fields=("name", "job", "state", "new"))
    assert c.cmd("XLEN", "s") == 450
    r = c.cmd("XRANGE", "s", "150", "+", "COUNT", "101")
    assert ids(r)[0] == b"150-1" and ids(r)[-1] == b"250-1" and len(r) == 101
    assert r[0][1] == [b"name", b"job", b"state", b"new"]
    r = c.cmd("XREVRANGE", "s", "302", "-", "COUNT", "150")
    assert ids(r)[0] == b"302-1" and ids(r)[-1] == b"153-1"
    # XDEL: a whole node, entries at node edges, missing ids, duplicates
    assert c.cmd("XDEL", "s", *[f"{i}-1" for i in range(101, 201)]) == 100
    assert c.cmd("XDEL", "s", "1-1", "450-1", "450-1", "9999-1", "100-1") == 3
    assert c.cmd("XLEN", "s") == 347
    assert ids(c.cmd("XRANGE", "s", "99", "202")) == [b"99-1", b"201-1", b"202-1"]
    assert ids(c.cmd("XREVRANGE", "s", "202", "99")) == [b"202-1", b"201-1", b"99-1"]
    assert ids(c.cmd("XRANGE", "s", "-", "+", "COUNT", "1")) == [b"2-1"]
    assert ids(c.cmd("XREVRANGE", "s", "+", "-", "COUNT", "1")) == [b"449-1"]
    info = c.cmd("XINFO", "STREAM", "s")
    d = dict(zip(info[::2], info[1::2]))
    assert d[b"length"] == 347
    assert d[b"max-deleted-entry-id"] == b"450-1"
    assert d[b"last-generated-id"] == b"450-1"
    assert d[b"entries-added"] == 450
    assert d[b"recorded-first-entry-id"] == b"2-1"
    assert d[b"first-entry"][0] == b"2-1" and d[b"last-entry"][0] == b"449-1"
    # XADD after the top was deleted still compares with the last id
    assert c.err("XADD", "s", "450-1", "a", "1") == SMALLER
    assert c.cmd("XDEL", "nokey", "1-1") == 0


def test_xtrim_and_xadd_trim(c):
    fill(c, "s", 250)
    assert c.cmd("XTRIM", "s", "MAXLEN", "~", "120") == 100   # whole nodes only
    assert c.cmd("XLEN", "s") == 150
    assert c.cmd("XTRIM", "s", "MAXLEN", "=", "120") == 30
    assert ids(c.cmd("XRANGE", "s", "-", "+", "COUNT", "1")) == [b"131-1"]
    assert c.cmd("XTRIM", "s", "MAXLEN", "120") == 0
    assert c.cmd("XTRIM", "s", "MINID", "200") == 69
    assert ids(c.cmd("XRANGE", "s", "-", "+", "COUNT", "1")) == [b"200-1"]
    assert c.cmd("XTRIM", "s", "MINID", "~", "240") == 1      # the rest of its node
    assert c.cmd("XLEN", "s") == 50
    assert c.cmd("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "10") == 0
    assert c.cmd("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "0") == 50
    assert c.cmd("EXISTS", "s") == 1          # an empty stream stays
    assert c.cmd("XLEN", "s") == 0
    assert c.cmd("XTRIM", "nokey", "MAXLEN", "0") == 0
    c.cmd("DEL", "s")
    for i in range(1, 11):
        c.cmd("XADD", "s", "MAXLEN", "3", f"{i}-1", "a", "1")
    assert ids(c.cmd("XRANGE", "s", "-", "+")) == [b"8-1", b"9-1", b"10-1"]
    c.cmd("XADD", "s", "MINID", "=", "10", "11-1", "a", "1")
    assert ids(c.cmd("XRANGE", "s", "-", "+")) == [b"10-1", b"11-1"]
    c.cmd("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "100", "12-1", "a", "1")
    assert c.cmd("XLEN", "s") == 3             # one node: nothing whole to drop
    info = c.cmd("XINFO", "STREAM", "s")
    d = dict(zip(info[::2], info[1::2]))
    assert d[b"entries-added"] == 12 and d[b"recorded-first-entry-id"] == b"10-1"


def test_xsetid(c):
    c.cmd("XADD", "s", "5-1", "a", "1")
    assert c.cmd("XSETID", "s", "10-0") == "OK"
    assert c.err("XADD", "s", "9-0", "a", "1") == SMALLER
    assert c.cmd("XSETID", "s", "20-0", "ENTRIESADDED", "50", "MAXDELETEDID", "15-0") == "OK"
    info = c.cmd("XINFO", "STREAM", "s")
    d = dict(zip(info[::2], info[1::2]))
    assert d[b"last-generated-id"] == b"20-0" and d[b"entries-added"] == 50
    assert d[b"max-deleted-entry-id"] == b"15-0"
    assert c.cmd("XSETID", "s", "14-0") == "OK"     # 7.0 does not compare with the max deleted id
    assert c.err("XSETID", "s", "30-0", "ENTRIESADDED", "0") == \
        "ERR The entries_added specified in XSETID is smaller than the target stream length"


def test_xsetid_below_a_tombstone(c):
    """XSETID may go below a deleted id: later entries then follow a greater
    tombstone in the same node; ranges, deletes and claims still find them."""
    c.cmd("XADD", "s", "1-1", "a", "1")
    c.cmd("XADD", "s", "5-1", "a", "1")
    c.cmd("XDEL", "s", "5-1")
    assert c.cmd("XSETID", "s", "3-0") == "OK"
    assert c.cmd("XADD", "s", "4-1", "a", "1") == b"4-1"
    assert ids(c.cmd("XRANGE", "s", "4-1", "4-1")) == [b"4-1"]
    assert ids(c.cmd("XREVRANGE", "s", "+", "-")) == [b"4-1", b"1-1"]
    assert ids(c.cmd("XREVRANGE", "s", "4-1", "-")) == [b"4-1", b"1-1"]
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    assert c.cmd("XAUTOCLAIM", "s", "g", "b", "0", "0", "JUSTID") == [b"0-0", [b"1-1", b"4-1"], []]
    assert c.cmd("XDEL", "s", "4-1") == 1
    assert ids(c.cmd("XRANGE", "s", "-", "+")) == [b"1-1"]


# ---------------------------------------------------------------------------
# XREAD
# ---------------------------------------------------------------------------

def test_xread(c, c3):
    fill(c, "a", 3)
    fill(c, "b", 2, start=5)
    r = c.cmd("XREAD", "STREAMS", "a", "b", "0", "5-1")
    assert r == [[b"a", [[b"1-1", [b"f", b"v"]], [b"2-1", [b"f", b"v"]], [b"3-1", [b"f", b"v"]]]],
                 [b"b", [[b"6-1", [b"f", b"v"]]]]]
    assert c.cmd("XREAD", "COUNT", "1", "STREAMS", "a", "b", "1-1", "0") == \
        [[b"a", [[b"2-1", [b"f", b"v"]]]], [b"b", [[b"5-1", [b"f", b"v"]]]]]
    assert c.cmd("XREAD", "STREAMS", "a", "$") is None
    assert c.last_raw == b"*-1\r\n"
    assert c.cmd("XREAD", "STREAMS", "nokey", "0") is None
    r = c3.cmd("XREAD", "STREAMS", "a", "b", "2", "0")
    assert isinstance(r, dict) and list(r.keys()) == [b"a", b"b"]
    assert ids(r[b"a"]) == [b"2-1", b"3-1"] and ids(r[b"b"]) == [b"5-1", b"6-1"]
    assert c3.cmd("XREAD", "STREAMS", "a", "$") is None
    assert c3.last_raw == b"_\r\n"
    # BLOCK with data available answers at once; a timeout answers null
    assert ids(c.cmd("XREAD", "BLOCK", "0", "STREAMS", "a", "2-1")[0][1]) == [b"3-1"]
    assert c.cmd("XREAD", "BLOCK", "10", "STREAMS", "a", "$") is None
    assert c.last_raw == b"*-1\r\n"


def test_xread_block_woken_by_xadd(server, c):
    waiter = server.conn()
    waiter.send_cmd("XREAD", "BLOCK", "0", "STREAMS", "s", "t", "$", "$")
    wait_until(lambda: int(server.info("clients")["blocked_clients"]) == 1, what="XREAD blocked")
    c.cmd("SET", "other", "1")
    c.cmd("XADD", "t", "7-1", "k", "v")
    assert waiter.read() == [[b"t", [[b"7-1", [b"k", b"v"]]]]]
    # a waiter whose id is ahead of the stream does not hold up the next one
    ahead = server.conn()
    ahead.send_cmd("XREAD", "BLOCK", "0", "STREAMS", "t", "100-0")
    wait_until(lambda: int(server.info("clients")["blocked_clients"]) == 1, what="first XREAD blocked")
    waiter.send_cmd("XREAD", "BLOCK", "0", "STREAMS", "t", "$")
    wait_until(lambda: int(server.info("clients")["blocked_clients"]) == 2, what="second XREAD blocked")
    c.cmd("XADD", "t", "8-1", "k", "v")
    assert waiter.read() == [[b"t", [[b"8-1", [b"k", b"v"]]]]]
    assert int(server.info("clients")["blocked_clients"]) == 1
    c.cmd("XADD", "t", "100-1", "k", "v")
    assert ahead.read() == [[b"t", [[b"100-1", [b"k", b"v"]]]]]
    # inside MULTI, BLOCK does not block: the timeout's answer
    c.cmd("MULTI")
    assert c.cmd("XREAD", "BLOCK", "0", "STREAMS", "t", "$") == "QUEUED"
    assert c.cmd("EXEC") == [None]


# ---------------------------------------------------------------------------
# groups
# ---------------------------------------------------------------------------

def test_xgroup_subcommands(c):
    assert c.err("XGROUP", "CREATE", "s", "g", "$") == (
        "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use "
        "the MKSTREAM option to create an empty stream automatically.")
    assert c.cmd("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM") == "OK"
    assert c.cmd("XLEN", "s") == 0 and c.cmd("TYPE", "s") == "stream"
    assert c.err("XGROUP", "CREATE", "s", "g", "0") == "BUSYGROUP Consumer Group name already exists"
    assert c.cmd("XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "3") == "OK"
    assert c.cmd("XGROUP", "CREATECONSUMER", "s", "g", "alice") == 1
    assert c.cmd("XGROUP", "CREATECONSUMER", "s", "g", "alice") == 0
    assert c.cmd("XGROUP", "CREATECONSUMER", "s", "g", "bob") == 1
    groups = c.cmd("XINFO", "GROUPS", "s")
    assert [g[1] for g in groups] == [b"g", b"g2"]
    assert groups[0] == [b"name", b"g", b"consumers", 2, b"pending", 0, b"last-delivered-id", b"0-0",
                         b"entries-read", None, b"lag", 0]
    assert groups[1][9] == 3
    cons = c.cmd("XINFO", "CONSUMERS", "s", "g")
    assert [x[1] for x in cons] == [b"alice", b"bob"] and cons[0][3] == 0
    assert c.cmd("XGROUP", "SETID", "s", "g", "5-0", "ENTRIESREAD", "2") == "OK"
    assert c.cmd("XINFO", "GROUPS", "s")[0][7] == b"5-0"
    assert c.cmd("XGROUP", "SETID", "s", "g", "$") == "OK"
    assert c.cmd("XGROUP", "DELCONSUMER", "s", "g", "alice") == 0
    assert c.cmd("XGROUP", "DELCONSUMER", "s", "g", "nobody") == 0
    assert c.cmd("XGROUP", "DESTROY", "s", "g2") == 1
    assert c.cmd("XGROUP", "DESTROY", "s", "g2") == 0
    assert len(c.cmd("XINFO", "GROUPS", "s")) == 1
    assert len(c.cmd("XGROUP", "HELP")) == 17
    assert len(c.cmd("XINFO", "HELP")) == 9
    assert c.err("XGROUP", "FOO") == "ERR unknown subcommand 'FOO'. Try XGROUP HELP."
    assert c.err("XGROUP", "DESTROY", "s") == "ERR wrong number of arguments for 'xgroup|destroy' command"
    assert c.err("XINFO", "GROUPS") == "ERR wrong number of arguments for 'xinfo|groups' command"


def test_xreadgroup_ack_pending(c, c3):
    fill(c, "s", 5)
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    r = c.cmd("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">")
    assert r == [[b"s", [[b"1-1", [b"f", b"v"]], [b"2-1", [b"f", b"v"]]]]]
    assert ids(c.cmd("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", ">")[0][1]) == [b"3-1"]
    # history: only this consumer's pending entries
    assert ids(c.cmd("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0")[0][1]) == [b"1-1", b"2-1"]
    assert ids(c.cmd("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1-1")[0][1]) == [b"2-1"]
    assert c.cmd("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0") == [[b"s", []]]
    summary = c.cmd("XPENDING", "s", "g")
    assert summary == [3, b"1-1", b"3-1", [[b"alice", b"2"], [b"bob", b"1"]]]
    ext = c.cmd("XPENDING", "s", "g", "-", "+", "10")
    assert [(e[0], e[1], e[3]) for e in ext] == [(b"1-1", b"alice", 2), (b"2-1", b"alice", 3), (b"3-1", b"bob", 1)]
    assert all(isinstance(e[2], int) and e[2] >= 0 for e in ext)
    assert ids(c.cmd("XPENDING", "s", "g", "-", "+", "10", "bob")) == [b"3-1"]
    assert c.cmd("XPENDING", "s", "g", "-", "+", "10", "nobody") == []
    assert ids(c.cmd("XPENDING", "s", "g", "(1-1", "+", "1")) == [b"2-1"]
    assert c.cmd("XPENDING", "s", "g", "IDLE", "3600000", "-", "+", "10") == []
    assert len(c.cmd("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10")) == 3
    assert c.cmd("XACK", "s", "g", "1-1", "1-1", "9-9") == 1
    assert c.cmd("XACK", "s", "g", "2-1", "3-1") == 2
    assert c.cmd("XACK", "s", "nog", "4-1") == 0
    assert c.cmd("XPENDING", "s", "g") == [0, None, None, None]
    assert c3.cmd("XPENDING", "s", "g") == [0, None, None, None]
    assert c3.last_raw == b"*4\r\n:0\r\n_\r\n_\r\n_\r\n"
    # NOACK: delivered, not pending
    assert ids(c.cmd("XREADGROUP", "GROUP", "g", "alice", "NOACK", "STREAMS", "s", ">")[0][1]) == [b"4-1", b"5-1"]
    assert c.cmd("XPENDING", "s", "g")[0] == 0
    assert c.cmd("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">") is None
    groups = c.cmd("XINFO", "GROUPS", "s")
    assert groups[0][5:] == [0, b"last-delivered-id", b"5-1", b"entries-read", 5, b"lag", 0]
    # RESP3 shape
    c.cmd("XADD", "s", "6-1", "f", "v")
    r = c3.cmd("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">")
    assert isinstance(r, dict) and ids(r[b"s"]) == [b"6-1"]
    # a pending entry deleted from the stream: id with a null body in history
    c.cmd("XDEL", "s", "6-1")
    assert c.cmd("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0") == [[b"s", [[b"6-1", None]]]]
    ext = c.cmd("XPENDING", "s", "g", "-", "+", "1")
    assert ext[0][3] == 1       # a deleted entry's delivery is not counted


def test_xinfo_lag_and_entries_read(c):
    fill(c, "s", 5)
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "a", "COUNT", "2", "STREAMS", "s", ">")
    g = c.cmd("XINFO", "GROUPS", "s")[0]
    assert g[9] == 2 and g[11] == 3
    c.cmd("XDEL", "s", "4-1")
    g = c.cmd("XINFO", "GROUPS", "s")[0]
    assert g[9] == 2 and g[11] is None      # a tombstone ahead: lag unknown
    c.cmd("XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">")
    g = c.cmd("XINFO", "GROUPS", "s")[0]
    assert g[9] == 5 and g[11] == 0
    full = c.cmd("XINFO", "STREAM", "s", "FULL")
    d = dict(zip(full[::2], full[1::2]))
    assert d[b"length"] == 4 and len(d[b"entries"]) == 4
    grp = dict(zip(d[b"groups"][0][::2], d[b"groups"][0][1::2]))
    assert grp[b"name"] == b"g" and grp[b"pel-count"] == 4 and grp[b"entries-read"] == 5
    assert [p[0] for p in grp[b"pending"]] == [b"1-1", b"2-1", b"3-1", b"5-1"]
    cons = dict(zip(grp[b"consumers"][0][::2], grp[b"consumers"][0][1::2]))
    assert cons[b"name"] == b"a" and cons[b"pel-count"] == 4 and len(cons[b"pending"]) == 4
    full = c.cmd("XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    d = dict(zip(full[::2], full[1::2]))
    assert len(d[b"entries"]) == 1 and len(d[b"groups"][0][11]) == 1


def test_xclaim(c):
    fill(c, "s", 4)
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    # min-idle not reached: nothing
    assert c.cmd("XCLAIM", "s", "g", "bob", "3600000", "1-1") == []
    assert c.cmd("XCLAIM", "s", "g", "bob", "0", "1-1") == [[b"1-1", [b"f", b"v"]]]
    p = c.cmd("XPENDING", "s", "g", "-", "+", "10")
    assert (p[0][1], p[0][3]) == (b"bob", 2)
    assert c.cmd("XCLAIM", "s", "g", "bob", "0", "2-1", "JUSTID") == [b"2-1"]
    assert c.cmd("XPENDING", "s", "g", "2-1", "2-1", "1")[0][3] == 1   # JUSTID: no increment
    assert c.cmd("XCLAIM", "s", "g", "carol", "0", "3-1", "RETRYCOUNT", "7", "IDLE", "5000", "JUSTID") == [b"3-1"]
    p = c.cmd("XPENDING", "s", "g", "3-1", "3-1", "1")[0]
    assert p[1] == b"carol" and p[3] == 7 and p[2] >= 5000
    assert c.cmd("XCLAIM", "s", "g", "carol", "0", "4-1", "TIME", "1", "JUSTID") == [b"4-1"]
    assert c.cmd("XPENDING", "s", "g", "4-1", "4-1", "1")[0][2] >= 1000
    # FORCE: an entry nobody read gets a NACK; LASTID moves the group on
    c.cmd("XADD", "s", "5-1", "f", "v")
    assert c.cmd("XCLAIM", "s", "g", "dave", "0", "5-1", "JUSTID") == []
    assert c.cmd("XCLAIM", "s", "g", "dave", "0", "5-1", "FORCE", "JUSTID", "LASTID", "5-1") == [b"5-1"]
    assert c.cmd("XINFO", "GROUPS", "s")[0][7] == b"5-1"
    # an entry deleted meanwhile: dropped from the PEL, not returned
    c.cmd("XDEL", "s", "1-1")
    assert c.cmd("XCLAIM", "s", "g", "bob", "0", "1-1", "2-1") == [[b"2-1", [b"f", b"v"]]]
    assert c.cmd("XPENDING", "s", "g")[0] == 4
    assert c.err("XCLAIM", "s", "g", "bob", "0", "2-1", "IDLE") == "ERR Unrecognized XCLAIM option 'IDLE'"


def test_xautoclaim(c):
    fill(c, "s", 6)
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    c.cmd("XDEL", "s", "2-1", "4-1")
    r = c.cmd("XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "3")
    assert r == [b"4-1", [[b"1-1", [b"f", b"v"]], [b"3-1", [b"f", b"v"]]], [b"2-1"]]
    r = c.cmd("XAUTOCLAIM", "s", "g", "bob", "0", r[0], "COUNT", "10", "JUSTID")
    assert r == [b"0-0", [b"5-1", b"6-1"], [b"4-1"]]
    assert c.cmd("XAUTOCLAIM", "s", "g", "carol", "3600000", "0") == [b"0-0", [], []]
    assert c.cmd("XAUTOCLAIM", "s", "g", "carol", "0", "(5-1", "JUSTID") == [b"0-0", [b"6-1"], []]
    assert c.cmd("XPENDING", "s", "g") == [4, b"1-1", b"6-1", [[b"bob", b"3"], [b"carol", b"1"]]]


ERRORS = [
    ('XADD s 0-0 a 1', 'ERR The ID specified in XADD must be greater than 0-0'),
    ('XADD s 0 a 1', 'ERR The ID specified in XADD must be greater than 0-0'),
    ('XADD s abc a 1', 'ERR Invalid stream ID specified as stream command argument'),
    ('XADD s 1-1 a', "ERR wrong number of arguments for 'xadd' command"),
    ('XADD s MAXLEN -1 * a 1', 'ERR The MAXLEN argument must be >= 0.'),
    ('XADD s MAXLEN ~ -1 * a 1', 'ERR The MAXLEN argument must be >= 0.'),
    ('XADD s MAXLEN 1 MINID 1 * a 1', 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible'),
    ('XADD s LIMIT 10 * a 1', 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy'),
    ('XADD s MAXLEN 1 LIMIT 10 * a 1', 'ERR syntax error, LIMIT cannot be used without the special ~ option'),
    ('XADD s MAXLEN = 1 LIMIT 10 * a 1', 'ERR syntax error, LIMIT cannot be used without the special ~ option'),
    ('XADD s MAXLEN ~ 1 LIMIT -1 * a 1', 'ERR The LIMIT argument must be >= 0.'),
    ('XADD s 1-1 a 1', 'ERR The ID specified in XADD is equal or smaller than the target stream top item'),
    ('XADD s 1 a', "ERR wrong number of arguments for 'xadd' command"),
    ('XADD s MAXLEN', "ERR wrong number of arguments for 'xadd' command"),
    ('XADD s MAXLEN x * a 1', 'ERR value is not an integer or out of range'),
    ('XADD s MINID -1 * a 1', 'ERR Invalid stream ID specified as stream command argument'),
    ('XADD s 18446744073709551616 a 1', 'ERR Invalid stream ID specified as stream command argument'),
    ('XADD s -1 a 1', 'ERR Invalid stream ID specified as stream command argument'),
    ('XADD s 1-18446744073709551616 a 1', 'ERR Invalid stream ID specified as stream command argument'),
    ('XADD h 1-1 a 1', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XLEN h', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XRANGE s (18446744073709551615-18446744073709551615 +', 'ERR invalid start ID for the interval'),
    ('XRANGE s - (0-0', 'ERR invalid end ID for the interval'),
    ('XRANGE s - + COUNT', 'ERR syntax error'),
    ('XRANGE s - + COUNT x', 'ERR value is not an integer or out of range'),
    ('XRANGE s - + FOO 1', 'ERR syntax error'),
    ('XRANGE s x +', 'ERR Invalid stream ID specified as stream command argument'),
    ('XRANGE s ( +', 'ERR Invalid stream ID specified as stream command argument'),
    ('XRANGE s (- +', 'ERR Invalid stream ID specified as stream command argument'),
    ('XTRIM s', "ERR wrong number of arguments for 'xtrim' command"),
    ('XTRIM s FOO 1', 'ERR syntax error'),
    ('XTRIM s MAXLEN', "ERR wrong number of arguments for 'xtrim' command"),
    ('XTRIM s MAXLEN -1', 'ERR The MAXLEN argument must be >= 0.'),
    ('XTRIM s MAXLEN 1 LIMIT 1', 'ERR syntax error, LIMIT cannot be used without the special ~ option'),
    ('XTRIM h MAXLEN 1', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XDEL s x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XDEL h 1', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XSETID s 0-1', 'ERR The ID specified in XSETID is smaller than the target stream top item'),
    ('XSETID nokey 1-1', 'ERR no such key'),
    ('XSETID s 99-1 ENTRIESADDED -1', 'ERR entries_added must be positive'),
    ('XSETID s 99-1 ENTRIESADDED 0', 'ERR The entries_added specified in XSETID is smaller than the target stream length'),
    ('XSETID s 99-1 MAXDELETEDID 100-0', 'ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id'),
    ('XSETID s 99-1 FOO', 'ERR syntax error'),
    ('XSETID s x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XREAD', "ERR wrong number of arguments for 'xread' command"),
    ('XREAD STREAMS', "ERR wrong number of arguments for 'xread' command"),
    ('XREAD STREAMS s', "ERR wrong number of arguments for 'xread' command"),
    ('XREAD COUNT x STREAMS s 0', 'ERR value is not an integer or out of range'),
    ('XREAD BLOCK x STREAMS s 0', 'ERR timeout is not an integer or out of range'),
    ('XREAD BLOCK -1 STREAMS s 0', 'ERR timeout is negative'),
    ('XREAD GROUP g c STREAMS s 0', 'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.'),
    ('XREAD NOACK STREAMS s 0', 'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.'),
    ('XREAD STREAMS s >', 'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.'),
    ('XREAD STREAMS s x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XREAD STREAMS s +', 'ERR Invalid stream ID specified as stream command argument'),
    ('XREAD STREAMS s h 0 0', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XREAD FOO STREAMS s 0', 'ERR syntax error'),
    ('XREADGROUP GROUP g c STREAMS s', "ERR wrong number of arguments for 'xreadgroup' command"),
    ('XREADGROUP COUNT 1 STREAMS s 0 x y', 'ERR Missing GROUP option for XREADGROUP'),
    ('XREADGROUP GROUP g c STREAMS s $', 'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.'),
    ('XREADGROUP GROUP nog c STREAMS s >', "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"),
    ('XREADGROUP GROUP g c STREAMS nokey >', "NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"),
    ('XREADGROUP GROUP g c STREAMS h >', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XGROUP', "ERR wrong number of arguments for 'xgroup' command"),
    ('XGROUP FOO', "ERR unknown subcommand 'FOO'. Try XGROUP HELP."),
    ('XGROUP CREATE s', "ERR wrong number of arguments for 'xgroup|create' command"),
    ('XGROUP CREATE nokey g $', 'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.'),
    ('XGROUP CREATE s g $ FOO', "ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."),
    ('XGROUP CREATE s g $ ENTRIESREAD -2', 'ERR value for ENTRIESREAD must be positive or -1'),
    ('XGROUP CREATE s g $ ENTRIESREAD x', 'ERR value is not an integer or out of range'),
    ('XGROUP CREATE s g x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XGROUP CREATE h g $', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XGROUP CREATE s g $', 'BUSYGROUP Consumer Group name already exists'),
    ('XGROUP CREATE s g $', 'BUSYGROUP Consumer Group name already exists'),
    ('XGROUP SETID s nog $', "NOGROUP No such consumer group 'nog' for key name 's'"),
    ('XGROUP SETID s g $ FOO', "ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."),
    ('XGROUP SETID s g $ FOO 1', "ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."),
    ('XGROUP SETID s g $ ENTRIESREAD -5', 'ERR value for ENTRIESREAD must be positive or -1'),
    ('XGROUP SETID s g x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XGROUP DESTROY s g x', "ERR wrong number of arguments for 'xgroup|destroy' command"),
    ('XGROUP CREATECONSUMER s nog c', "NOGROUP No such consumer group 'nog' for key name 's'"),
    ('XGROUP DELCONSUMER s nog c', "NOGROUP No such consumer group 'nog' for key name 's'"),
    ('XGROUP HELP x', "ERR wrong number of arguments for 'xgroup|help' command"),
    ('XACK s g x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XACK h g 1-1', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XPENDING s g -', 'ERR syntax error'),
    ('XPENDING s g - +', 'ERR syntax error'),
    ('XPENDING s g - + x', 'ERR value is not an integer or out of range'),
    ('XPENDING s g x + 10', 'ERR Invalid stream ID specified as stream command argument'),
    ('XPENDING s g IDLE x - + 10', 'ERR value is not an integer or out of range'),
    ('XPENDING s g IDLE 10 - +', 'ERR syntax error'),
    ('XPENDING s nog', "NOGROUP No such key 's' or consumer group 'nog'"),
    ('XPENDING nokey g', "NOGROUP No such key 'nokey' or consumer group 'g'"),
    ('XPENDING h g', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XPENDING s g (18446744073709551615-18446744073709551615 + 10', 'ERR invalid start ID for the interval'),
    ('XCLAIM s g c x 1-1', 'ERR Invalid min-idle-time argument for XCLAIM'),
    ('XCLAIM s g c 0 1-1 IDLE x', 'ERR Invalid IDLE option argument for XCLAIM'),
    ('XCLAIM s g c 0 1-1 TIME x', 'ERR Invalid TIME option argument for XCLAIM'),
    ('XCLAIM s g c 0 1-1 RETRYCOUNT x', 'ERR Invalid RETRYCOUNT option argument for XCLAIM'),
    ('XCLAIM s g c 0 1-1 LASTID x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XCLAIM s g c 0 1-1 FOO', "ERR Unrecognized XCLAIM option 'FOO'"),
    ('XCLAIM s nog c 0 1-1', "NOGROUP No such key 's' or consumer group 'nog'"),
    ('XCLAIM nokey g c 0 1-1', "NOGROUP No such key 'nokey' or consumer group 'g'"),
    ('XCLAIM h g c 0 1-1', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XAUTOCLAIM s g c x 0', 'ERR Invalid min-idle-time argument for XAUTOCLAIM'),
    ('XAUTOCLAIM s g c 0 x', 'ERR Invalid stream ID specified as stream command argument'),
    ('XAUTOCLAIM s g c 0 0 COUNT 0', 'ERR COUNT must be > 0'),
    ('XAUTOCLAIM s g c 0 0 COUNT x', 'ERR COUNT must be > 0'),
    ('XAUTOCLAIM s g c 0 0 FOO', 'ERR syntax error'),
    ('XAUTOCLAIM s nog c 0 0', "NOGROUP No such key 's' or consumer group 'nog'"),
    ('XAUTOCLAIM s g c 0 (18446744073709551615-18446744073709551615', 'ERR invalid start ID for the interval'),
    ('XINFO', "ERR wrong number of arguments for 'xinfo' command"),
    ('XINFO FOO', "ERR unknown subcommand 'FOO'. Try XINFO HELP."),
    ('XINFO STREAM', "ERR wrong number of arguments for 'xinfo|stream' command"),
    ('XINFO STREAM nokey', 'ERR no such key'),
    ('XINFO STREAM h', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
    ('XINFO STREAM s FOO', "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."),
    ('XINFO STREAM s FULL COUNT', "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."),
    ('XINFO STREAM s FULL COUNT x', 'ERR value is not an integer or out of range'),
    ('XINFO STREAM s FULL FOO 1', "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."),
    ('XINFO GROUPS s x', "ERR wrong number of arguments for 'xinfo|groups' command"),
    ('XINFO CONSUMERS s nog', "NOGROUP No such consumer group 'nog' for key name 's'"),
    ('XINFO HELP x', "ERR wrong number of arguments for 'xinfo|help' command"),
    ('XINFO GROUPS nokey', 'ERR no such key'),
]


@pytest.mark.parametrize("cmd,msg", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors(c, cmd, msg):
    c.cmd("XADD", "s", "1-1", "a", "1")
    c.cmd("HSET", "h", "a", "1")
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    assert c.err(*cmd.split()) == msg


def test_bad_input_is_harmless(c):
    assert c.err("XADD", "s", "1-1", "a") == "ERR wrong number of arguments for 'xadd' command"
    assert c.cmd("EXISTS", "s") == 0     # no empty key left behind
    assert c.err("XADD", "s", "0-0", "a", "1") == "ERR The ID specified in XADD must be greater than 0-0"
    assert c.cmd("EXISTS", "s") == 0
    assert c.err("XADD", "s", "(1", "a", "1") == INVALID_ID
    assert c.err("XADD", "s", "1-" + "9" * 200, "a", "1") == INVALID_ID
    assert c.cmd("XADD", "s", "1-1", "a", "1") == b"1-1"
    assert c.err("XRANGE", "s", "(" , "+") == INVALID_ID
    assert c.err("XDEL", "s", "1-1", "bad") == INVALID_ID
    assert c.cmd("XLEN", "s") == 1       # all or nothing
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    assert c.err("XACK", "s", "g", "1-1", "bad") == INVALID_ID
    assert c.cmd("XREAD", "COUNT", "-5", "STREAMS", "s", "0")[0][0] == b"s"


@scaleout_only
def test_huge_range_stops_at_the_output_limit(server, c):
    """An XRANGE bigger than the output limit is stopped while it is built
    (written in place, so the limit sees it grow): error, close, server fine."""
    other = server.conn()
    assert c.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0") == "OK"
    try:
        for base in range(0, 20000, 1000):
            other.pipeline([("XADD", "s", f"{base + i + 1}-1", "f", "x" * 100) for i in range(1000)])
        c.send_cmd("XRANGE", "s", "-", "+")
        data = c.read_until_closed(timeout=30)
        assert data == b"-ERR reply exceeds the client output buffer limit; closing the connection\r\n"
        assert other.cmd("XLEN", "s") == 20000
    finally:
        other.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 256mb 64mb 60")


# ---------------------------------------------------------------------------
# generic commands on streams
# ---------------------------------------------------------------------------

def test_generic_commands(c):
    fill(c, "s", 120)
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "alice", "COUNT", "3", "STREAMS", "s", ">")
    assert c.cmd("COPY", "s", "s2") == 1
    assert c.cmd("XRANGE", "s2", "-", "+") == c.cmd("XRANGE", "s", "-", "+")
    assert c.cmd("XPENDING", "s2", "g") == [3, b"1-1", b"3-1", [[b"alice", b"3"]]]
    c.cmd("XACK", "s2", "g", "1-1")
    c.cmd("XADD", "s2", "500-1", "x", "y")
    assert c.cmd("XPENDING", "s", "g")[0] == 3 and c.cmd("XLEN", "s") == 120
    mem = c.cmd("MEMORY", "USAGE", "s")
    assert isinstance(mem, int) and mem > 120 * 4
    assert c.cmd("RENAME", "s2", "s3") == "OK"
    assert c.cmd("XLEN", "s3") == 121
    assert c.cmd("PEXPIRE", "s3", "1") == 1
    wait_until(lambda: c.cmd("EXISTS", "s3") == 0, what="s3 expired")
    assert c.cmd("SCAN", "0", "TYPE", "stream") == [b"0", [b"s"]]
    assert c.cmd("UNLINK", "s") == 1
    c.cmd("SET", "str", "x")
    assert c.err("XADD", "str", "*", "a", "1") == WRONGTYPE
    assert c.err("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">") == WRONGTYPE


def test_watch_sees_stream_changes(server, c):
    other = server.conn()
    c.cmd("XADD", "s", "1-1", "a", "1")
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    for change in (("XADD", "s", "2-1", "a", "1"), ("XDEL", "s", "1-1"), ("XTRIM", "s", "MAXLEN", "0")):
        assert c.cmd("WATCH", "s") == "OK"
        other.cmd(*change)
        c.cmd("MULTI")
        c.cmd("XLEN", "s")
        assert c.cmd("EXEC") is None, change
    c.cmd("WATCH", "s")
    # Redis 7.0: group state changes do not touch WATCH
    other.cmd("XGROUP", "CREATECONSUMER", "s", "g", "new")
    other.cmd("XGROUP", "SETID", "s", "g", "0")
    other.cmd("XREADGROUP", "GROUP", "g", "new", "STREAMS", "s", ">")
    other.cmd("XACK", "s", "g", "2-1")
    other.cmd("XSETID", "s", "9-9")
    other.cmd("XLEN", "s")
    other.cmd("XRANGE", "s", "-", "+")
    c.cmd("MULTI")
    c.cmd("XLEN", "s")
    assert c.cmd("EXEC") == [0]


def test_command_table(c):
    rows = {"xadd": [-5, 1, 1, 1], "xlen": [2, 1, 1, 1], "xrange": [-4, 1, 1, 1], "xrevrange": [-4, 1, 1, 1],
            "xread": [-4, 0, 0, 0], "xdel": [-3, 1, 1, 1], "xtrim": [-4, 1, 1, 1], "xsetid": [-3, 1, 1, 1],
            "xgroup": [-2, 0, 0, 0], "xreadgroup": [-7, 0, 0, 0], "xack": [-4, 1, 1, 1],
            "xpending": [-3, 1, 1, 1], "xclaim": [-6, 1, 1, 1], "xautoclaim": [-6, 1, 1, 1],
            "xinfo": [-2, 0, 0, 0]}
    infos = c.cmd("COMMAND", "INFO", *rows)
    for name, info in zip(rows, infos):
        assert info[0] == name.encode()
        assert [info[1], info[3], info[4], info[5]] == rows[name], name
    flags = {i[0]: set(f.decode() if isinstance(f, bytes) else f for f in i[2]) for i in infos}
    assert {"blocking", "movablekeys", "readonly"} <= flags[b"xread"]
    assert {"blocking", "movablekeys", "write"} <= flags[b"xreadgroup"]
    assert {"write", "denyoom", "fast"} <= flags[b"xadd"]
    docs = c.cmd("COMMAND", "DOCS", "xautoclaim")
    assert docs[0] == b"xautoclaim" and b"6.2.0" in docs[1]


# ---------------------------------------------------------------------------
# worker patterns
# ---------------------------------------------------------------------------

def test_ten_consumers_get_distinct_entries(server):
    r = server.client()
    n = 1000
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd("jobs", {"job": str(i)}, id=f"{i + 1}-0")
    pipe.execute()
    r.xgroup_create("jobs", "workers", id="0")
    clients = [server.client() for _ in range(10)]
    seen = {}
    progress = True
    while progress:
        progress = False
        for k, cl in enumerate(clients):
            got = cl.xreadgroup("workers", f"w{k}", {"jobs": ">"}, count=7)
            for _, entries in got or []:
                for eid, fields in entries:
                    assert eid not in seen, f"{eid} delivered twice"
                    seen[eid] = k
                    cl.xack("jobs", "workers", eid)
                    progress = True
    assert len(seen) == n
    assert len(set(seen.values())) == 10
    assert r.xpending("jobs", "workers")["pending"] == 0
    assert len(r.xinfo_consumers("jobs", "workers")) == 10


def test_blocked_xreadgroup_woken_by_xadd_from_another_thread(server):
    r = server.client()
    r.xgroup_create("q", "g", id="$", mkstream=True)
    result = {}

    def worker():
        cl = server.client()
        result["reply"] = cl.xreadgroup("g", "w1", {"q": ">"}, count=1, block=0)

    t = threading.Thread(target=worker)
    t.start()
    wait_until(lambda: r.info("clients")["blocked_clients"] == 1, what="XREADGROUP blocked")
    r.xadd("q", {"job": "transcode"}, id="10-1")
    t.join(10)
    assert not t.is_alive()
    assert result["reply"] == [[b"q", [(b"10-1", {b"job": b"transcode"})]]]
    assert r.xpending("q", "g")["consumers"] == [{"name": b"w1", "pending": 1}]


def test_blocked_xreadgroup_errors_when_stream_or_group_goes(server, c):
    c.cmd("XGROUP", "CREATE", "q", "g", "$", "MKSTREAM")
    w = server.conn()
    w.send_cmd("XREADGROUP", "GROUP", "g", "w", "BLOCK", "0", "STREAMS", "q", ">")
    wait_until(lambda: int(server.info("clients")["blocked_clients"]) == 1, what="blocked")
    c.cmd("DEL", "q")
    assert w.read() == RespError("UNBLOCKED the stream key no longer exists")
    c.cmd("XGROUP", "CREATE", "q", "g", "$", "MKSTREAM")
    w.send_cmd("XREADGROUP", "GROUP", "g", "w", "BLOCK", "0", "STREAMS", "q", ">")
    wait_until(lambda: int(server.info("clients")["blocked_clients"]) == 1, what="blocked")
    c.cmd("XGROUP", "DESTROY", "q", "g")
    assert w.read() == RespError("NOGROUP the consumer group this client was blocked on no longer exists")
    # a timeout answers null
    c.cmd("XGROUP", "CREATE", "q", "g", "$")
    assert w.cmd("XREADGROUP", "GROUP", "g", "w", "BLOCK", "20", "STREAMS", "q", ">") is None


WORKER = r"""
import sys, time, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
got = r.xreadgroup("workers", "doomed", {"jobs": ">"}, count=1)
print(got[0][1][0][0].decode(), flush=True)
time.sleep(120)   # the job "runs" here, killed before XACK
"""


def test_worker_killed_mid_job_is_claimed_and_acked_once(server, tmp_path):
    r = server.client()
    r.xgroup_create("jobs", "workers", id="0", mkstream=True)
    r.xadd("jobs", {"video": "cat.mp4"}, id="1-1")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    p = subprocess.Popen([sys.executable, str(script), str(server.port)], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        assert line == "1-1"
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert r.xpending("jobs", "workers")["consumers"] == [{"name": b"doomed", "pending": 1}]
    rescuer = server.client()

    def claim():
        nxt, claimed, deleted = rescuer.xautoclaim("jobs", "workers", "rescuer", min_idle_time=200,
                                                   start_id="0-0", count=10)[:3]
        return claimed

    claimed = wait_until(claim, timeout=10, interval=0.05, what="XAUTOCLAIM after the idle time")
    assert claimed == [(b"1-1", {b"video": b"cat.mp4"})]
    p2 = rescuer.xpending_range("jobs", "workers", "-", "+", 10)
    assert p2[0]["consumer"] == b"rescuer" and p2[0]["times_delivered"] == 2
    assert rescuer.xack("jobs", "workers", "1-1") == 1
    assert rescuer.xack("jobs", "workers", "1-1") == 0
    assert r.xpending("jobs", "workers")["pending"] == 0


def test_xclaim_extreme_idle_and_time(c):
    """IDLE and TIME at the ends of the 64-bit range: now - IDLE must not be
    a signed overflow (UBSan stopped the server on IDLE -2^63 in the argument
    sweep); the delivery time is clamped to now as Redis does, so the entry
    reads back with a small idle time on both servers."""
    fill(c, "s", 3)
    c.cmd("XGROUP", "CREATE", "s", "g", "0")
    c.cmd("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">")
    for opt, v, ident in (("IDLE", "-9223372036854775808", "1-1"), ("IDLE", "9223372036854775807", "2-1"),
                          ("TIME", "-9223372036854775808", "3-1")):
        assert c.cmd("XCLAIM", "s", "g", "bob", "0", ident, opt, v, "JUSTID") == [ident.encode()]
        p = c.cmd("XPENDING", "s", "g", ident, ident, "1")[0]
        assert p[1] == b"bob" and 0 <= p[2] < 60000, (opt, v, p)
    assert c.cmd("PING") == "PONG"
