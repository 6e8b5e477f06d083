"""
Limits that keep a server healthy when clients misbehave: maxclients, the
client output buffer limit (a client that stops reading), the idle timeout,
proto-max-bulk-len. Each test runs its own server with the flags it needs (the
flag spelling is the same for scaleout and redis-server).
"""
import time

from conftest import ConnectionClosed, RespConn, resp_encode, wait_until


def test_maxclients(server_factory):
    s = server_factory("--maxclients", "3")
    conns = []
    # the readiness probe's connection may not be reaped yet: retry briefly
    deadline = time.monotonic() + 5
    while len(conns) < 3:
        c = RespConn(s.port)
        try:
            rep = c.cmd("PING")
        except ConnectionClosed:
            rep = None
        if rep == "PONG":
            conns.append(c)
            continue
        c.close()
        assert time.monotonic() < deadline, f"could not open 3 clients: {rep!r}"
        time.sleep(0.02)
    extra = RespConn(s.port)
    assert extra.read_until_closed(timeout=5) == b"-ERR max number of clients reached\r\n"
    # the others are unaffected
    for c in conns:
        assert c.cmd("PING") == "PONG"
    # a slot frees when a client leaves
    conns.pop().close()
    c = wait_until(lambda: _try_ping(s.port), timeout=5, what="a free client slot")
    assert c.cmd("SET", "k", "v") == "OK"
    for c in conns:
        c.close()


def _try_ping(port):
    c = RespConn(port)
    try:
        if c.cmd("PING") == "PONG":
            return c
    except (ConnectionClosed, ConnectionResetError):
        pass
    c.close()
    return None


def test_output_buffer_limit_closes_slow_reader(server_factory):
    s = server_factory("--client-output-buffer-limit", "normal 1mb 1mb 0")
    obs = s.conn()
    value = b"x" * (100 * 1024)
    assert obs.cmd("SET", "big", value) == "OK"
    rss_before = s.rss_kb()
    # a client that asks for 1000 x 100 KB (~100 MB) and reads nothing
    slow = s.conn(rcvbuf=4096)
    slow_id = slow.cmd("CLIENT", "ID")
    assert f"id={slow_id} ".encode() in obs.cmd("CLIENT", "LIST")
    slow.send(b"".join(resp_encode("GET", "big") for _ in range(1000)))
    wait_until(lambda: f"id={slow_id} ".encode() not in obs.cmd("CLIENT", "LIST"),
               timeout=10, interval=0.05, what="the server to drop the client that does not read")
    data = slow.read_until_closed(timeout=10, limit=200 * 1024 * 1024)
    assert len(data) < 50 * 1024 * 1024, "the server sent it everything: no output limit"
    # others are served as before
    assert obs.cmd("PING") == "PONG"
    assert obs.cmd("GET", "big") == value
    other = s.conn()
    assert other.cmd("STRLEN", "big") == len(value)
    # and the server did not buffer the 100 MB
    rss_after = s.rss_kb()
    assert rss_after - rss_before < 50 * 1024, f"RSS grew from {rss_before} kB to {rss_after} kB"


def test_output_buffer_normal_readers_unaffected(server_factory):
    s = server_factory("--client-output-buffer-limit", "normal 1mb 1mb 0")
    c = s.conn()
    value = b"y" * (100 * 1024)
    c.cmd("SET", "big", value)
    # a reader that keeps up may fetch far more than the limit in total
    for _ in range(5):
        c.send(b"".join(resp_encode("GET", "big") for _ in range(8)))
        for _ in range(8):
            assert c.read() == value


def test_idle_timeout(server_factory):
    s = server_factory("--timeout", "1")
    idle = s.conn()
    active = s.conn()
    assert idle.cmd("PING") == "PONG"
    # the active client keeps talking until the server closes the idle one (the
    # positive signal, instead of "talk for 3 s and see"): it is never dropped,
    # though it lived as long as the idle one did
    idle.sock.setblocking(False)
    deadline = time.monotonic() + 6
    closed = False
    while not closed:
        assert time.monotonic() < deadline, "the idle client was not closed within 6 s"
        assert active.cmd("PING") == "PONG"
        try:
            closed = idle.sock.recv(64) == b""   # EOF, no reply
        except BlockingIOError:
            time.sleep(0.05)
        except ConnectionResetError:
            closed = True
    assert active.cmd("SET", "k", "v") == "OK"


def test_default_idle_timeout(server_factory):
    """Redis never closes idle clients by default; scaleout closes them after an
    hour (safe defaults: timeouts on; docs/kv.md)."""
    s = server_factory()
    c = s.conn()
    want = {"redis": b"0", "scaleout": b"3600"}[s.target]
    assert c.cmd("CONFIG", "GET", "timeout") == [b"timeout", want]


def test_proto_max_bulk_len(server_factory):
    s = server_factory("--proto-max-bulk-len", "1mb")
    c = s.conn()
    exact = b"z" * (1024 * 1024)
    assert c.cmd("SET", "k", exact) == "OK"
    assert c.cmd("STRLEN", "k") == len(exact)
    # one byte more: refused at the header, before the bytes arrive
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n")
    assert c.read_until_closed(timeout=5) == b"-ERR Protocol error: invalid bulk length\r\n"
    # commands that would build a longer string refuse too
    c = s.conn()
    too_long = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert c.err("APPEND", "k", "x") == too_long
    assert c.err("SETRANGE", "k", 1024 * 1024, "x") == too_long
    assert c.cmd("SETRANGE", "k", 1024 * 1024 - 1, "x") == 1024 * 1024
    assert c.cmd("STRLEN", "k") == 1024 * 1024


def test_default_bulk_limit_is_512mb(server):
    c = server.conn()
    c.send(b"*2\r\n$4\r\nECHO\r\n$536870913\r\n")
    assert c.read_until_closed(timeout=5) == b"-ERR Protocol error: invalid bulk length\r\n"


def test_many_connections(server):
    conns = [server.conn() for _ in range(200)]
    for i, c in enumerate(conns):
        c.send_cmd("SET", f"c{i}", i)
    for c in conns:
        assert c.read() == "OK"
    assert server.conn().cmd("DBSIZE") == 200
    for c in conns:
        c.close()
