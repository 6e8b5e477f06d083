"""
scaleout lb request-smuggling defence and slow clients: every ambiguous or
malformed request head is answered 400 (or 414/431/501/505) by the lb and
never reaches a backend; a Connection header cannot make the framing fields
(Content-Length, Transfer-Encoding, Host) hop-by-hop; absolute-form targets
go up in origin form and paths are normalised before routing (or refused
when ambiguous); a client that sends its head slowly is cut at
timeout-header and holds little memory meanwhile.
"""
import socket
import threading
import time

import pytest

from lb_helpers import (HOST, Client, backends, lb, raw, status_of, header_of,  # noqa: F401
                        _skip_without_binary, wait_until)

H = b"Host: a\r\n"

VECTORS = [
    # (name, request bytes, expected status)
    ("cl-and-te", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te-and-cl", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400),
    ("two-cl", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
    ("same-cl-twice", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
    ("cl-list", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello", 400),
    ("cl-plus", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello", 400),
    ("cl-negative", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n", 400),
    ("cl-hex", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x5\r\n\r\nhello", 400),
    ("cl-empty", b"POST / HTTP/1.1\r\n" + H + b"Content-Length:\r\n\r\n", 400),
    ("cl-overflow", b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999\r\n\r\n", 400),
    ("te-not-last", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
    ("te-chunked-twice", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te-gzip", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip\r\n\r\n", 501),
    ("te-xchunked", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: xchunked\r\n\r\n", 501),
    ("te-space-before-colon", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400),
    ("te-vtab", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n", 400),
    ("te-http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te-empty-element", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 400),
    ("chunk-size-junk", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-negative", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-0x", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-size-overflow", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nx\r\n0\r\n\r\n", 400),
    ("chunk-data-too-long", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk-bare-lf", b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),
    ("obs-fold", b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\r\n b\r\n\r\n", 400),
    ("ctl-in-value", b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\x01b\r\n\r\n", 400),
    ("nul-in-value", b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\x00b\r\n\r\n", 400),
    ("del-in-value", b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\x7fb\r\n\r\n", 400),
    ("bare-lf", b"GET / HTTP/1.1\n" + b"Host: a\n\n", 400),
    ("bare-cr", b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
    ("space-in-name", b"GET / HTTP/1.1\r\n" + H + b"X Foo: b\r\n\r\n", 400),
    ("no-host", b"GET / HTTP/1.1\r\n\r\n", 400),
    ("two-hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    ("host-mismatch", b"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", 400),
    ("space-in-target", b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("fragment", b"GET /a#b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("bad-method", b"G(T / HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("bad-version", b"GET / HTTP/1.2\r\n" + H + b"\r\n", 505),
    ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),
    ("long-request-line", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    ("huge-header", b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"b" * 40000 + b"\r\n\r\n", 431),
    ("too-many-headers", b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(120)) + b"\r\n", 431),
    # targets two servers could read differently (issue 7)
    ("path-encoded-slash", b"GET /a%2Fb HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path-encoded-slash-lower", b"GET /a%2fb HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path-above-root", b"GET /../etc/passwd HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path-above-root-encoded", b"GET /a/%2e%2e/%2E%2E/b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path-nul", b"GET /a%00.html HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path-backslash", b"GET /a\\..\\b HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("path-bad-escape", b"GET /a%zz HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-ftp", b"GET ftp://a/x HTTP/1.1\r\n" + H + b"\r\n", 400),
    ("absolute-userinfo", b"GET http://u@a/x HTTP/1.0\r\n\r\n", 400),
    ("absolute-no-authority", b"GET http:/x HTTP/1.1\r\n" + H + b"\r\n", 400),
]


@pytest.fixture(scope="module")
def setup_once(tmp_path_factory):
    from lb_helpers import Backend, Lb
    b = Backend("b1").start()
    x = Lb(tmp_path_factory.mktemp("smuggle"), "--backend", b.addr).start()
    yield b, x
    x.stop()
    b.stop()


@pytest.mark.parametrize("name,req,status", VECTORS, ids=[v[0] for v in VECTORS])
def test_smuggling_vector_rejected_not_forwarded(setup_once, name, req, status):
    b, x = setup_once
    before = b.stats()["requests"]
    # followed by a request that would be smuggled if the lb misread the framing
    resp = raw(x.port, req + b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n", until_close=True)
    assert status_of(resp) == status, resp[:200]
    assert header_of(resp, "Connection") == "close"
    assert resp.count(b"HTTP/1.1 ") == 1, "the lb answered something after the error"
    assert b.stats()["requests"] == before, "the bad request (or what follows it) reached the backend"


def test_split_vectors_byte_by_byte(setup_once):
    """The same answer when the head arrives one byte at a time."""
    b, x = setup_once
    before = b.stats()["requests"]
    for name, req, status in [v for v in VECTORS if not v[0].startswith("chunk")]:
        s = socket.create_connection((HOST, x.port), timeout=5)
        try:
            for i in range(len(req)):
                s.sendall(req[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
        except ConnectionResetError:
            pass
        s.close()
        assert status_of(data) == status, (name, data[:100])
    assert b.stats()["requests"] == before


def test_bad_chunk_after_streaming_began(setup_once):
    """A bad chunk size in the middle of a streamed body: the valid part went
    up, the bad bytes and what follows never do; the client gets 400 and the
    backend connection is closed, so it cannot take the rest as a request."""
    b, x = setup_once
    s = socket.create_connection((HOST, x.port), timeout=5)
    s.sendall(b"POST /len HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    wait_until(lambda: any("/len" in line for line in b.stats()["log"]), 3, what="head forwarded")
    closed = b.stats()["closed"]
    s.sendall(b"zz\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
    s.close()
    assert status_of(data) == 400
    # positive signal: the backend read the cut upstream connection to its end
    wait_until(lambda: b.stats()["closed"] >= closed + 1, 5, what="the backend to see the upstream connection end")
    assert not any("smuggled" in line for line in b.stats()["log"])


def test_valid_requests_still_pass(setup_once):
    b, x = setup_once
    resp = raw(x.port, b"POST /len HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
                       b"5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n")
    assert status_of(resp) == 200 and resp.endswith(b"\r\n\r\n5")
    resp = raw(x.port, b"POST /len HTTP/1.1\r\n" + H + b"Content-Length: 005\r\n\r\nhello")
    assert status_of(resp) == 200 and resp.endswith(b"5")


def test_slow_headers_cut_at_timeout(backends, lb):
    """60 clients send a head one byte every 150 ms: each is answered 408 and
    closed at timeout-header (1 s), holds a few KiB meanwhile, and a normal
    client is served at once all along."""
    b = backends(1)
    x = lb("--backend", b[0].addr, "--timeout-header", "1s")
    base = x.status()["memory_bytes"]
    slow = [socket.create_connection((HOST, x.port), timeout=5) for _ in range(60)]
    head = b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"z" * 200
    t0 = time.monotonic()
    cut = [None] * len(slow)
    peak = 0
    i = 0
    while time.monotonic() - t0 < 2.5 and None in cut:
        for k, s in enumerate(slow):
            if cut[k] is not None:
                continue
            try:
                s.sendall(head[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut[k] = (time.monotonic() - t0, b"")
                continue
            s.setblocking(False)
            try:
                d = s.recv(4096)
                cut[k] = (time.monotonic() - t0, d)
            except BlockingIOError:
                pass
            except ConnectionResetError:
                cut[k] = (time.monotonic() - t0, b"")
            s.setblocking(True)
        if i == 3:
            peak = x.status()["memory_bytes"] - base
            c = Client(x.port, timeout=1)
            t1 = time.monotonic()
            assert c.get("/")[2] == b"b1"
            assert time.monotonic() - t1 < 0.5
            c.close()
        i += 1
        time.sleep(0.15)
    for s in slow:
        s.close()
    assert None not in cut, "a slow client was not cut"
    for t, data in cut:
        assert 0.9 < t < 2.0, t
        assert data == b"" or status_of(data) == 408
    assert peak / len(slow) < 16 * 1024, f"{peak / len(slow):.0f} bytes per slow client"
    assert b[0].stats()["requests"] == 1


CHAOS = [b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"GET /big?n=300000 HTTP/1.1\r\nHost: a\r\n\r\n",
         b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
         b"POST /len HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789",
         b"GET /slow?ms=200 HTTP/1.1\r\nHost: a\r\n\r\n", b"HEAD / HTTP/1.0\r\n\r\n",
         b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
         b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd",
         b"GET /close HTTP/1.1\r\nHost: a\r\n\r\n", b"\x00\xff garbage\r\n\r\n"]


def test_random_truncated_traffic_and_resets(backends, lb):
    """6 s of 8 clients sending random mixes of good, bad and truncated
    requests in random pieces, reading some or none of the answer, closing or
    resetting at random, while a backend is killed and restarted: the lb keeps
    serving, and every session and buffer is released afterwards."""
    import random
    from lb_helpers import Backend
    rnd = random.Random(7)
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--timeout-header", "1s", "--timeout-client", "2s",
           "--timeout-server", "2s", "--maxconn", "20")
    base = x.status()["memory_bytes"]
    stop = time.monotonic() + 6

    def worker(seed):
        r = random.Random(seed)
        while time.monotonic() < stop:
            try:
                s = socket.create_connection((HOST, x.port), timeout=3)
                data = b"".join(r.choice(CHAOS) for _ in range(r.randint(1, 4)))
                if r.random() < 0.3:
                    data = data[:r.randint(0, len(data))]
                for i in range(0, len(data), 150):
                    s.sendall(data[i:i + 150])
                if r.random() < 0.3:
                    s.shutdown(socket.SHUT_WR)
                want, got = r.choice([0, 100, 5000, 10 ** 7]), 0
                while got < want:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += len(d)
                if r.random() < 0.5:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            except OSError:
                pass

    ts = [threading.Thread(target=worker, args=(rnd.random(),)) for _ in range(8)]
    for t in ts:
        t.start()
    time.sleep(2)
    port = b[0].port
    b[0].kill()
    time.sleep(1.5)
    back = Backend("b1", port=port).start()
    try:
        for t in ts:
            t.join(30)
        assert x.alive()
        assert Client(x.port).get("/")[0] == 200
        wait_until(lambda: x.status()["clients"] == 0, 5, what="every client session released")
        wait_until(lambda: x.status()["memory_bytes"] - base < 256 * 1024, 5, what="buffers released")
    finally:
        back.stop()


# ---------------------------------------------------------------------------
# Connection naming the framing fields (issue 7): the token is ignored, as
# HAProxy 2.6 and nginx 1.22 do (docs/lb.md, "Headers"); the backend gets the
# body framed as the lb framed it, and nothing else.
# ---------------------------------------------------------------------------

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"      # hidden in the body
CL_BODY = b"POST /len HTTP/1.1\r\nHost: a\r\n%sContent-Length: %d\r\n\r\n" % (b"%s", len(SMUGGLED))
CHUNKED = b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n"

CONNECTION_VARIANTS = [
    # (name, Connection field lines, chunked?, client asked to close?)
    ("cl", b"Connection: content-length\r\n", False, False),
    ("cl-mixed-case", b"Connection: Content-Length\r\n", False, False),
    ("cl-upper", b"Connection: CONTENT-LENGTH\r\n", False, False),
    ("cl-close", b"Connection: close, content-length\r\n", False, True),
    ("cl-then-close", b"Connection: content-length,close\r\n", False, True),
    ("cl-keep-alive", b"Connection: keep-alive, Content-Length\r\n", False, False),
    ("cl-list-junk", b"Connection: ,, content-length\t ,x-foo ,\r\n", False, False),
    ("cl-second-field", b"Connection: keep-alive\r\nConnection: content-length\r\n", False, False),
    ("cl-dup-token", b"Connection: content-length, content-length\r\n", False, False),
    ("te", b"Connection: transfer-encoding\r\n", True, False),
    ("te-mixed-case", b"Connection: Transfer-Encoding\r\n", True, False),
    ("te-close", b"Connection: close, transfer-encoding\r\n", True, True),
    ("te-keep-alive", b"Connection: Keep-Alive, TRANSFER-ENCODING\r\n", True, False),
    ("te-second-field", b"Connection: close\r\nConnection: transfer-encoding\r\n", True, True),
    ("all-three", b"Connection: host, content-length, transfer-encoding\r\n", False, False),
    ("all-three-chunked", b"Connection: host, content-length, transfer-encoding\r\n", True, False),
]


def _framed(conn_lines, chunked):
    if chunked:
        return (b"POST /len HTTP/1.1\r\nHost: a\r\n" + conn_lines + b"Transfer-Encoding: chunked\r\n\r\n" + CHUNKED)
    return CL_BODY % conn_lines + SMUGGLED


def _read_response(sock, buf=b""):
    """One response by Content-Length from sock; returns (status, headers, body, rest)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise AssertionError(f"closed before a full head: {buf!r}")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    hdrs = {}
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode()
    n = int(hdrs.get("content-length", "-1"))
    assert n >= 0, f"no Content-Length in {head!r}"
    while len(rest) < n:
        d = sock.recv(65536)
        if not d:
            raise AssertionError("closed in the body")
        rest += d
    return status_of(head), hdrs, rest[:n], rest[n:]


@pytest.mark.parametrize("name,conn,chunked,close", CONNECTION_VARIANTS, ids=[v[0] for v in CONNECTION_VARIANTS])
def test_connection_cannot_unframe_the_body(setup_once, name, conn, chunked, close):
    """The body hides a second request; the backend must read it as a body
    (its answer to /len gives the length) and never see /smuggled. On a
    keep-alive connection a follow-up request gets its own answer."""
    b, x = setup_once
    s = socket.create_connection((HOST, x.port), timeout=5)
    try:
        s.sendall(_framed(conn, chunked))
        st, hdrs, body, rest = _read_response(s)
        assert st == 200 and body == str(len(SMUGGLED)).encode(), (st, body)
        if close:
            assert hdrs.get("connection") == "close"
        else:
            s.sendall(b"GET /len HTTP/1.1\r\nHost: a\r\n\r\n")
            st2, _, body2, _ = _read_response(s, rest)
            assert (st2, body2) == (200, b"0"), "the follow-up request got someone else's answer"
    finally:
        s.close()
    # the positive signal: the backend logged our request(s) and no smuggled one
    log = b.stats()["log"]
    assert not any("smuggled" in line for line in log), log[-5:]


def test_connection_host_keeps_host(setup_once):
    """Connection: host, x-forwarded-for: the backend still gets the client's
    Host and the lb's X-Forwarded-For (both are the lb's to set, not hop-by-hop)."""
    b, x = setup_once
    resp = raw(x.port, b"GET /headers HTTP/1.1\r\nHost: www.example\r\nConnection: host, x-forwarded-for, "
                       b"x-forwarded-proto, x-private\r\nX-Private: 1\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n")
    import json
    h = json.loads(resp.split(b"\r\n\r\n", 1)[1])
    assert h["host"] == "www.example"
    assert h["x-forwarded-for"] == "9.9.9.9, 127.0.0.1"
    assert h["x-forwarded-proto"] == "http"
    assert "x-private" not in h and "connection" not in h


def test_response_connection_cannot_unframe(setup_once):
    """A backend answer whose Connection names Content-Length keeps its
    Content-Length on the way to the client, so a keep-alive client reads it
    and its next request on the same connection gets its own answer."""
    b, x = setup_once
    for token in ("content-length", "Content-Length, close", "transfer-encoding"):
        s = socket.create_connection((HOST, x.port), timeout=5)
        try:
            q = token.replace(" ", "%20").replace(",", "%2C")
            s.sendall(b"GET /resp-header?Connection=%s HTTP/1.1\r\nHost: a\r\n\r\n" % q.encode())
            st, hdrs, body, rest = _read_response(s)
            assert (st, body) == (200, b"ok") and hdrs["content-length"] == "2", hdrs
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            st2, _, body2, _ = _read_response(s, rest)
            assert (st2, body2) == (200, b"b1")
        finally:
            s.close()


def test_absolute_form_forwarded_in_origin_form(setup_once):
    b, x = setup_once
    before = len(b.stats()["log"])
    for target, host, want in [(b"http://a/x/../len?q=1", b"Host: a\r\n", "GET /len?q=1 HTTP/1.1"),
                               (b"HTTP://A:80", b"Host: a:80\r\n", "GET / HTTP/1.1"),
                               (b"http://other?z", b"", "GET /?z HTTP/1.1")]:
        version = b"HTTP/1.1" if host else b"HTTP/1.0"
        resp = raw(x.port, b"GET " + target + b" " + version + b"\r\n" + host + b"\r\n")
        assert status_of(resp) == 200, resp[:200]
        assert b.stats()["log"][-1] == want
    assert len(b.stats()["log"]) == before + 3


def test_path_routes_match_the_normalised_path(backends, lb):
    """route path /api/ → pool api: dot-segments, encoded unreserved
    characters and doubled slashes cannot reach it from the default pool or
    leave it, and the backend gets the path that was routed."""
    api, web = backends(2, prefix="r")
    x = lb(config=f"""
pool api
    backend {api.addr}
pool web
    backend {web.addr}
listener main 127.0.0.1:{{port}}
    route path /api/ pool api
    default-pool web
""", listen=False)
    c = Client(x.port)
    for path, want, logged in [("/api/v1", "r1", "GET /api/v1 HTTP/1.1"),
                               ("/static/../api/v1", "r1", "GET /api/v1 HTTP/1.1"),
                               ("/%61%70%69/v1", "r1", "GET /api/v1 HTTP/1.1"),
                               ("//api//v1", "r1", "GET /api/v1 HTTP/1.1"),
                               ("/./api/v1?x=/../", "r1", "GET /api/v1?x=/../ HTTP/1.1"),
                               ("/api/../admin", "r2", "GET /admin HTTP/1.1"),
                               ("/api%2fv1", None, None)]:
        st, _, body = c.get(path)
        if want is None:
            assert st == 400
            c.close()
            continue
        assert (st, body.decode()) == (200, want), path
        assert (api if want == "r1" else web).stats()["log"][-1] == logged
    c.close()


# ---------------------------------------------------------------------------
# The same inputs against HAProxy and nginx: the decision above ("ignore the
# token") is what both anchors do; all three must frame every variant alike.
# ---------------------------------------------------------------------------

def _find(tool):
    import shutil
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")


class _Anchor:
    def __init__(self, argv, port, workdir):
        import subprocess
        self.port = port
        self.log = open(workdir / "anchor.log", "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def up():
            assert self.proc.poll() is None, (workdir / "anchor.log").read_text()
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                return True
            except OSError:
                return False
        wait_until(up, 10, what=f"{argv[0]} to listen")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except Exception:  # noqa: BLE001 - then kill it
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@pytest.fixture(scope="module")
def anchors(tmp_path_factory, setup_once):
    from lb_helpers import free_port
    b, x = setup_once
    hap, ngx = _find("haproxy"), _find("nginx")
    if not hap or not ngx:  # a missing peer fails: scripts/install-deps.sh installs both
        pytest.fail("haproxy and nginx are needed (scripts/install-deps.sh installs them)")
    d = tmp_path_factory.mktemp("anchors")
    hp, np_ = free_port(), free_port()
    (d / "haproxy.cfg").write_text(f"""
global
    maxconn 100
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend f
    bind {HOST}:{hp}
    default_backend b
backend b
    server s1 {b.addr}
""")
    (d / "nginx.conf").write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/nginx.err;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/cb; proxy_temp_path {d}/pt; fastcgi_temp_path {d}/ft;
  uwsgi_temp_path {d}/ut; scgi_temp_path {d}/st;
  upstream u {{ server {b.addr}; keepalive 4; }}
  server {{ listen {HOST}:{np_};
           location / {{ proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; }} }}
}}
""")
    started = []
    try:
        started.append(_Anchor([hap, "-db", "-f", str(d / "haproxy.cfg")], hp, d))
        started.append(_Anchor([ngx, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "nginx.err")], np_, d))
        yield {"haproxy": hp, "nginx": np_, "scaleout": x.port}
    finally:
        for a in started:
            a.stop()


@pytest.mark.parametrize("name,conn,chunked,close", CONNECTION_VARIANTS, ids=[v[0] for v in CONNECTION_VARIANTS])
def test_connection_variants_framed_like_haproxy_and_nginx(setup_once, anchors, name, conn, chunked, close):
    b, _ = setup_once
    got = {}
    for who, port in anchors.items():
        s = socket.create_connection((HOST, port), timeout=5)
        try:
            s.sendall(_framed(conn, chunked))
            st, _, body, _ = _read_response(s)
            got[who] = (st, body)
        finally:
            s.close()
    assert got["scaleout"] == got["haproxy"] == got["nginx"] == (200, str(len(SMUGGLED)).encode()), got
    assert not any("smuggled" in line for line in b.stats()["log"])
