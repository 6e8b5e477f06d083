"""
test_kv_pubsub.py — publish/subscribe (issue 10 item 2), run against scaleout
kv and redis-server alike (conftest's target parametrisation): every command
and its errors, the RESP2 subscribed-mode rules, the RESP3 push form, counts
and unsubscribe-all replies, 1,000 subscribers and pattern subscriptions that
each receive every message, 100,000 patterns on one connection (bounded, no
crash), and a subscriber that never reads while 100 MB are published: it is
dropped by the pubsub output-buffer class, used_memory stays bounded, the
server lives. Keyspace notifications are in test_kv_notify.py.
"""
import resource
import socket

import pytest

from conftest import RespConn, RespError, RespPush, parse_info, scaleout_only, wait_until

RESTRICTED = ("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
              "are allowed in this context")


def sub_conn(server, *channels, cmd="SUBSCRIBE", **kw):
    s = server.conn(**kw)
    s.send_cmd(cmd, *channels)
    for _ in channels:
        assert s.read()[0] == cmd.lower().encode()
    return s


def test_subscribe_counts_and_unsubscribe_all(server, c):
    assert c.cmd("UNSUBSCRIBE") == [b"unsubscribe", None, 0]
    assert c.cmd("PUNSUBSCRIBE") == [b"punsubscribe", None, 0]
    assert c.cmd("SUNSUBSCRIBE") == [b"sunsubscribe", None, 0]
    c.send_cmd("SUBSCRIBE", "a", "b", "a")
    assert [c.read() for _ in range(3)] == [[b"subscribe", b"a", 1], [b"subscribe", b"b", 2],
                                            [b"subscribe", b"a", 2]]
    assert c.cmd("PSUBSCRIBE", "p*") == [b"psubscribe", b"p*", 3]
    assert c.cmd("SSUBSCRIBE", "s1") == [b"ssubscribe", b"s1", 1]
    assert c.cmd("UNSUBSCRIBE", "zz") == [b"unsubscribe", b"zz", 3]
    c.send_cmd("UNSUBSCRIBE")
    got = sorted([c.read(), c.read()])
    assert got in ([[b"unsubscribe", b"a", 1], [b"unsubscribe", b"b", 2]],
                   [[b"unsubscribe", b"a", 2], [b"unsubscribe", b"b", 1]])
    assert c.cmd("PUNSUBSCRIBE") == [b"punsubscribe", b"p*", 0]
    # the shard subscription still holds the connection in subscribed mode
    assert c.cmd("PING") == [b"pong", b""]
    assert c.cmd("SUNSUBSCRIBE") == [b"sunsubscribe", b"s1", 0]
    assert c.cmd("PING") == "PONG"


def test_subscribed_resp2_restrictions(server, c):
    c.cmd("SUBSCRIBE", "ch")
    assert c.cmd("GET", "x") == RespError(RESTRICTED % "get")
    assert c.cmd("client", "LIST") == RespError(RESTRICTED % "client|list")
    assert c.cmd("PUBLISH", "ch", "m") == RespError(RESTRICTED % "publish")
    assert c.cmd("PING") == [b"pong", b""]
    assert c.cmd("PING", "hi") == [b"pong", b"hi"]
    assert c.cmd("PSUBSCRIBE", "x*") == [b"psubscribe", b"x*", 2]
    assert c.cmd("QUIT") == "OK"


def test_arity_and_pubsub_errors(server, c):
    assert c.cmd("SUBSCRIBE") == RespError("ERR wrong number of arguments for 'subscribe' command")
    assert c.cmd("PSUBSCRIBE") == RespError("ERR wrong number of arguments for 'psubscribe' command")
    assert c.cmd("SSUBSCRIBE") == RespError("ERR wrong number of arguments for 'ssubscribe' command")
    assert c.cmd("PUBLISH", "a") == RespError("ERR wrong number of arguments for 'publish' command")
    assert c.cmd("SPUBLISH", "a") == RespError("ERR wrong number of arguments for 'spublish' command")
    assert c.cmd("PUBSUB") == RespError("ERR wrong number of arguments for 'pubsub' command")
    assert c.cmd("PUBSUB", "foo") == RespError("ERR unknown subcommand 'foo'. Try PUBSUB HELP.")
    assert c.cmd("PUBSUB", "NUMPAT", "x") == RespError(
        "ERR wrong number of arguments for 'pubsub|numpat' command")
    assert c.cmd("PUBSUB", "channels", "a", "b") == RespError(
        "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.")
    h = c.cmd("PUBSUB", "HELP")
    assert h[0].startswith("PUBSUB <subcommand>") and len(h) == 14
    # in MULTI the subcommand's arity is checked when queueing (Redis 7.0)
    assert c.cmd("MULTI") == "OK"
    assert c.cmd("PUBSUB", "NUMPAT", "x") == RespError(
        "ERR wrong number of arguments for 'pubsub|numpat' command")
    assert c.cmd("PUBLISH", "ch", "m") == "QUEUED"
    assert c.cmd("EXEC") == RespError("EXECABORT Transaction discarded because of previous errors.")


def test_publish_delivery_and_introspection(server, c):
    a = sub_conn(server, "news", "sport")
    p = sub_conn(server, "n*", "ne?s", cmd="PSUBSCRIBE")
    s = sub_conn(server, "news", cmd="SSUBSCRIBE")
    assert c.cmd("PUBLISH", "news", "hello") == 3
    assert a.read() == [b"message", b"news", b"hello"]
    got = sorted([p.read(), p.read()])
    assert got == [[b"pmessage", b"n*", b"news", b"hello"], [b"pmessage", b"ne?s", b"news", b"hello"]]
    assert c.cmd("PUBLISH", "nobody", "x") == 1  # n*
    assert p.read() == [b"pmessage", b"n*", b"nobody", b"x"]
    assert c.cmd("PUBLISH", "zzz", "x") == 0
    assert c.cmd("SPUBLISH", "news", "shard") == 1
    assert s.read() == [b"smessage", b"news", b"shard"]
    assert sorted(c.cmd("PUBSUB", "CHANNELS")) == [b"news", b"sport"]
    assert c.cmd("PUBSUB", "CHANNELS", "s*") == [b"sport"]
    assert c.cmd("PUBSUB", "NUMSUB", "news", "none") == [b"news", 1, b"none", 0]
    assert c.cmd("PUBSUB", "NUMSUB") == []
    assert c.cmd("PUBSUB", "NUMPAT") == 2
    assert c.cmd("PUBSUB", "SHARDCHANNELS") == [b"news"]
    assert c.cmd("PUBSUB", "SHARDCHANNELS", "x*") == []
    assert c.cmd("PUBSUB", "SHARDNUMSUB", "news", "sport") == [b"news", 1, b"sport", 0]
    # binary-safe channel and payload
    b = sub_conn(server, b"bin\x00\r\nch")
    assert c.cmd("PUBLISH", b"bin\x00\r\nch", b"\x00\xff\r\n") == 1
    assert b.read() == [b"message", b"bin\x00\r\nch", b"\x00\xff\r\n"]
    info = parse_info(c.cmd("INFO", "stats"))
    assert info["pubsub_channels"] == 3 and info["pubsub_patterns"] == 2


def test_client_list_fields(server, c):
    s = server.conn()
    s.cmd("CLIENT", "SETNAME", "subber")
    s.send_cmd("SUBSCRIBE", "a", "b")
    s.read(), s.read()
    s.send_cmd("PSUBSCRIBE", "x*")
    s.read()
    line = [l for l in c.cmd("CLIENT", "LIST").decode().splitlines() if "name=subber" in l][0]
    fields = dict(f.split("=", 1) for f in line.split())
    assert (fields["flags"], fields["sub"], fields["psub"], fields["ssub"]) == ("P", "2", "1", "0")


def test_resp3_push_form(server, c):
    c.cmd("HELLO", "3")
    r = c.cmd("SUBSCRIBE", "ch")
    assert isinstance(r, RespPush) and r == [b"subscribe", b"ch", 1]
    # RESP3: no restrictions
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("GET", "k") == b"v"
    assert c.cmd("PING") == "PONG"
    other = server.conn()
    assert other.cmd("PUBLISH", "ch", "m") == 1
    m = c.read()
    assert isinstance(m, RespPush) and m == [b"message", b"ch", b"m"]
    # publishing to itself: the message comes before the PUBLISH reply
    c.send_cmd("PUBLISH", "ch", "self")
    m = c.read()
    assert isinstance(m, RespPush) and m == [b"message", b"ch", b"self"]
    assert c.read() == 1
    r = c.cmd("UNSUBSCRIBE")
    assert isinstance(r, RespPush) and r == [b"unsubscribe", b"ch", 0]
    r = c.cmd("PUNSUBSCRIBE")
    assert isinstance(r, RespPush) and r[0] == b"punsubscribe" and r[2] == 0


def test_reset_and_disconnect_free_subscriptions(server, c):
    s = sub_conn(server, "a", "b")
    s.send_cmd("PSUBSCRIBE", "p*")
    s.read()
    assert s.cmd("RESET") == "RESET"
    assert s.cmd("GET", "x") is None  # no longer in subscribed mode
    assert c.cmd("PUBSUB", "NUMSUB", "a", "b") == [b"a", 0, b"b", 0]
    assert c.cmd("PUBSUB", "NUMPAT") == 0
    gone = sub_conn(server, "c", "d")
    gone.send_cmd("PSUBSCRIBE", "q*")
    gone.read()
    gone.close()
    wait_until(lambda: c.cmd("PUBSUB", "NUMSUB", "c", "d") == [b"c", 0, b"d", 0], what="subscriptions freed")
    wait_until(lambda: c.cmd("PUBSUB", "NUMPAT") == 0, what="pattern freed")
    assert c.cmd("PUBLISH", "c", "x") == 0


def _raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


def test_1000_subscribers_and_patterns_receive_every_message(server, c):
    _raise_fd_limit(3000)
    subs = []
    for i in range(1000):
        s = RespConn(server.port)
        if i % 2:
            s.send_cmd("SUBSCRIBE", "feed")
        else:
            s.send_cmd("PSUBSCRIBE", "fe*")
        subs.append(s)
    for i, s in enumerate(subs):
        assert s.read()[0] in (b"subscribe", b"psubscribe")
    assert c.cmd("PUBSUB", "NUMSUB", "feed") == [b"feed", 500]
    msgs = [b"msg-%d" % i for i in range(20)]
    for m in msgs:
        assert c.cmd("PUBLISH", "feed", m) == 1000
    for i, s in enumerate(subs):
        got = [s.read() for _ in msgs]
        if i % 2:
            assert got == [[b"message", b"feed", m] for m in msgs]
        else:
            assert got == [[b"pmessage", b"fe*", b"feed", m] for m in msgs]
    for s in subs:
        s.close()
    wait_until(lambda: c.cmd("PUBSUB", "NUMSUB", "feed") == [b"feed", 0], timeout=10, what="all unsubscribed")


def test_100000_patterns_bounded(server, c):
    """scaleout: 100,000 patterns. Redis 7.0 searches a client's pattern list
    linearly on every PSUBSCRIBE (quadratic), so the anchor gets 10,000."""
    base = parse_info(c.cmd("INFO", "memory"))["used_memory"]
    s = server.conn(timeout=60)
    n = 100000 if server.target == "scaleout" else 10000
    for start in range(0, n, 10000):
        s.send_cmd("PSUBSCRIBE", *["pat:%d:*" % i for i in range(start, start + 10000)])
        for i in range(start, start + 10000):
            r = s.read()
            assert r[0] == b"psubscribe" and r[2] == i + 1
    assert c.cmd("PUBSUB", "NUMPAT") == n
    used = parse_info(c.cmd("INFO", "memory"))["used_memory"]
    assert used - base < 200 * 1024 * 1024, used - base
    assert c.cmd("PUBLISH", "pat:77:x", "m") == 1
    assert s.read() == [b"pmessage", b"pat:77:*", b"pat:77:x", b"m"]
    assert c.cmd("PUBLISH", "other", "m") == 0
    s.close()
    wait_until(lambda: c.cmd("PUBSUB", "NUMPAT") == 0, timeout=20, what="patterns freed")
    assert server.alive()


def test_slow_subscriber_dropped_memory_bounded(server_factory):
    """A subscriber that never reads while a publisher sends 100 MB: the
    pubsub class (default 32mb 8mb 60) drops it, the server stays up and its
    used_memory bounded (well under the 100 MB sent)."""
    srv = server_factory()
    c = srv.conn(timeout=30)
    base = parse_info(c.cmd("INFO", "memory"))["used_memory"]
    slow = RespConn(srv.port, rcvbuf=4096)
    slow.send_cmd("SUBSCRIBE", "firehose")
    wait_until(lambda: c.cmd("PUBSUB", "NUMSUB", "firehose") == [b"firehose", 1], what="subscribed")
    payload = b"x" * (100 * 1024)
    peak = 0
    for batch in range(10):
        c.pipeline([("PUBLISH", "firehose", payload)] * 100)
        peak = max(peak, parse_info(c.cmd("INFO", "memory"))["used_memory"])
    wait_until(lambda: c.cmd("PUBSUB", "NUMSUB", "firehose") == [b"firehose", 0], timeout=10,
               what="slow subscriber dropped")
    assert peak - base < 64 * 1024 * 1024, peak - base
    assert c.cmd("PING") == "PONG"
    # the dropped connection is closed (what it had received so far is discarded)
    slow.read_until_closed(timeout=10, limit=1 << 20)
    assert srv.alive()


def test_pubsub_output_limit_config(server, c):
    assert c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 5") == "OK"
    v = c.cmd("CONFIG", "GET", "client-output-buffer-limit")[1].decode()
    assert "pubsub 1048576 524288 5" in v
    c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60")
    v = c.cmd("CONFIG", "GET", "client-output-buffer-limit")[1].decode()
    assert "pubsub 33554432 8388608 60" in v
    assert isinstance(c.cmd("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb"), RespError)


def test_slow_subscriber_soft_limit(server_factory):
    """Over the soft limit for longer than soft-seconds: dropped too."""
    srv = server_factory("--client-output-buffer-limit", "pubsub 512mb 256kb 1")
    c = srv.conn(timeout=30)
    slow = RespConn(srv.port, rcvbuf=4096)
    slow.send_cmd("SUBSCRIBE", "ch")
    wait_until(lambda: c.cmd("PUBSUB", "NUMSUB", "ch") == [b"ch", 1], what="subscribed")

    def publish_and_check():
        # Redis checks the limits when output is added: keep publishing
        # (64 KB each poll, far under the hard limit over the wait)
        c.cmd("PUBLISH", "ch", b"y" * 65536)
        return c.cmd("PUBSUB", "NUMSUB", "ch") == [b"ch", 0]

    wait_until(publish_and_check, timeout=20, what="subscriber over the soft limit dropped")
    assert srv.alive()


@scaleout_only
def test_publish_across_threads(server_factory):
    """With 4 worker threads, subscribers and publishers sit on different
    threads: every message arrives once, in publish order per publisher."""
    srv = server_factory("--threads", "4")
    subs = [sub_conn(srv, "t", "u") for _ in range(40)]
    pubs = [srv.conn() for _ in range(8)]
    for round_ in range(25):
        for i, p in enumerate(pubs):
            assert p.cmd("PUBLISH", "t", b"%d:%d" % (i, round_)) == 40
    for s in subs:
        got = [s.read() for _ in range(25 * 8)]
        assert all(m[0] == b"message" and m[1] == b"t" for m in got)
        per = {}
        for m in got:
            i, r = m[2].split(b":")
            per.setdefault(i, []).append(int(r))
        assert all(v == list(range(25)) for v in per.values()) and len(per) == 8
    # keyspace events cross threads too
    pubs[0].cmd("CONFIG", "SET", "notify-keyspace-events", "E$")
    ev = sub_conn(srv, "__keyevent@0__:set")
    pubs[1].cmd("SET", "k", "v")
    assert ev.read() == [b"message", b"__keyevent@0__:set", b"k"]


@scaleout_only
def test_slow_subscriber_counted_in_info(server_factory):
    srv = server_factory("--client-output-buffer-limit", "pubsub 1mb 0 0")
    c = srv.conn(timeout=30)
    slow = RespConn(srv.port, rcvbuf=4096)
    slow.send_cmd("SUBSCRIBE", "ch")
    wait_until(lambda: c.cmd("PUBSUB", "NUMSUB", "ch") == [b"ch", 1], what="subscribed")
    c.pipeline([("PUBLISH", "ch", b"z" * 65536)] * 64)
    wait_until(lambda: parse_info(c.cmd("INFO", "stats"))["client_output_buffer_limit_disconnections"] == 1,
               timeout=10, what="disconnection counted")


def test_subscriber_not_closed_as_idle(server_factory):
    """`timeout` closes idle clients, not subscribers waiting for messages (Redis)."""
    srv = server_factory("--timeout", "1")
    s = sub_conn(srv, "ch")
    idle = srv.conn()
    idle.cmd("CLIENT", "SETNAME", "idler")
    c = srv.conn()

    def idler_gone():
        c.cmd("PING")  # c itself stays active
        return b"name=idler" not in c.cmd("CLIENT", "LIST")

    wait_until(idler_gone, timeout=15, what="the idle normal client closed")
    assert c.cmd("PUBLISH", "ch", "still here") == 1
    assert s.read() == [b"message", b"ch", b"still here"]
