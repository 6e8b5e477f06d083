"""
scaleout lb, HTTP mode: the one-line form, keep-alive on both sides with a
pool of upstream connections, forwarded headers, bodies streamed both ways
(Content-Length and chunked) with bounded memory, HEAD, HTTP/1.0, pipelining,
and the answers the lb gives itself: 503 (no backend), 502, 504, 408.
"""
import hashlib
import http.client
import json
import os
import re
import socket
import threading
import time

from lb_helpers import (HOST, Client, backends, lb, raw, header_of, status_of, wait_until,  # noqa: F401
                        _skip_without_binary)


def test_one_line_form_round_robin(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr)
    c = Client(x.port)
    got = [c.get("/")[2] for _ in range(10)]
    assert got == [b"b1", b"b2"] * 5


def test_keepalive_both_sides_and_upstream_pool(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr)
    c = Client(x.port)
    for _ in range(300):
        st, h, body = c.get("/")
        assert st == 200
    assert c.connects == 1, "the lb closed a keep-alive client connection"
    m = x.metrics()
    connects = sum(v for k, v in m.items() if k.startswith("scaleout_lb_backend_connects_total"))
    reqs = sum(v for k, v in m.items() if k.startswith("scaleout_lb_backend_requests_total"))
    assert reqs == 300
    assert connects <= 2, f"{connects} upstream connections for 300 sequential requests"
    idle = sum(v for k, v in m.items() if k.startswith("scaleout_lb_backend_idle_connections"))
    assert idle == 2


def test_idle_pool_surplus_kept_for_the_next_burst_then_trimmed(backends, lb):
    """idle-conns 2 and bursts of 6 concurrent requests: the surplus idle
    connections are not closed at once (the next burst takes them, nothing
    connects again), and once idle for a second they close down to 2."""
    b = backends(1)
    x = lb("--backend", b[0].addr, "--idle-conns", "2")

    def total(prefix):
        return sum(v for k, v in x.metrics().items() if k.startswith(prefix))

    def burst():
        got = []
        ts = [threading.Thread(target=lambda: got.append(Client(x.port).get("/slow?ms=300")[0])) for _ in range(6)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(10)
        assert got == [200] * 6

    burst()
    assert total("scaleout_lb_backend_connects_total") == 6
    burst()
    assert total("scaleout_lb_backend_connects_total") == 6, "the second burst connected again"
    wait_until(lambda: total("scaleout_lb_backend_idle_connections") == 2, 10,
               what="the idle surplus over idle-conns to close")
    assert total("scaleout_lb_backend_idle_connections") == 2


def test_forwarded_headers_and_request_id(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    c = Client(x.port)
    st, _, body = c.get("/headers")
    h = json.loads(body)
    assert h["x-forwarded-for"] == "127.0.0.1"
    assert h["x-forwarded-proto"] == "http"
    assert re.fullmatch(r"[0-9a-f]{32}", h["x-request-id"])
    st, _, body2 = c.get("/headers")
    assert json.loads(body2)["x-request-id"] != h["x-request-id"]
    # appended to an existing chain; a client's own request id is kept; spoofed proto replaced
    st, _, body = c.get("/headers", {"X-Forwarded-For": "10.1.2.3", "X-Request-Id": "abc-123",
                                     "X-Forwarded-Proto": "https"})
    h = json.loads(body)
    assert h["x-forwarded-for"] == "10.1.2.3, 127.0.0.1"
    assert h["x-request-id"] == "abc-123"
    assert h["x-forwarded-proto"] == "http"


def test_hop_by_hop_headers_removed(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    resp = raw(x.port, b"GET /headers HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\n"
                       b"X-Secret: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: x\r\n"
                       b"X-Kept: yes\r\n\r\n")
    assert status_of(resp) == 200
    h = json.loads(resp.split(b"\r\n\r\n", 1)[1])
    for gone in ("x-secret", "keep-alive", "te", "proxy-connection"):
        assert gone not in h, gone
    assert h["x-kept"] == "yes"
    assert h.get("connection") in (None, "keep-alive")


def test_content_length_body(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    c = Client(x.port)
    for size in (0, 1, 1000, 300_000):
        st, _, body = c.request("POST", "/len", body=b"x" * size, headers={"Content-Length": str(size)})
        assert (st, body) == (200, str(size).encode())


def _watch_memory(x, stop, peak):
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], x.status()["memory_bytes"])
        except OSError:
            pass
        time.sleep(0.05)


def test_chunked_upload_and_download_streamed(backends, lb):
    """32 MB up, chunked, echoed back chunked: same bytes, and the lb never
    holds more than a few buffers of it."""
    b = backends(1)
    x = lb("--backend", b[0].addr)
    base = x.status()["memory_bytes"]
    stop, peak = threading.Event(), [0]
    t = threading.Thread(target=_watch_memory, args=(x, stop, peak))
    t.start()
    try:
        block = os.urandom(1 << 16)
        total = 32 << 20
        sent = hashlib.sha256()
        sock = socket.create_connection((HOST, x.port), timeout=60)
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")

        def send():
            # chunks of varied sizes, as a streaming client would send them
            off, i = 0, 0
            while off < total:
                k = min(total - off, (i % 7 + 1) * 9000)
                piece = (block * 2)[off % len(block):off % len(block) + k]
                sent.update(piece)
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                off += k
                i += 1
            sock.sendall(b"0\r\n\r\n")

        st = threading.Thread(target=send)
        st.start()
        f = sock.makefile("rb")
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 200")
        headers = {}
        while True:
            line = f.readline()
            if line == b"\r\n":
                break
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        assert headers.get("transfer-encoding") == "chunked"
        got = hashlib.sha256()
        n = 0
        while True:
            size = int(f.readline().split(b";")[0], 16)
            if size == 0:
                f.readline()
                break
            piece = f.read(size)
            f.readline()
            got.update(piece)
            n += len(piece)
        st.join(60)
        sock.close()
        assert n == total
        assert got.hexdigest() == sent.hexdigest()
    finally:
        stop.set()
        t.join()
    assert peak[0] - base < 4 << 20, f"lb memory grew by {peak[0] - base} bytes"


def test_large_response_with_slow_reader_is_backpressured(backends, lb):
    """A 40 MB answer to a client that reads slowly: the lb stops reading the
    backend instead of buffering."""
    b = backends(1)
    x = lb("--backend", b[0].addr)
    base = x.status()["memory_bytes"]
    s = socket.create_connection((HOST, x.port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big?n=41943040 HTTP/1.1\r\nHost: a\r\n\r\n")
    time.sleep(1.0)  # the client does not read: everything piles up before it
    held = x.status()["memory_bytes"] - base
    got = 0
    while True:
        d = s.recv(1 << 20)
        if not d:
            break
        got += len(d)
        if d.endswith(b"0\r\n\r\n"):
            break
    s.close()
    assert got > 40 << 20
    assert held < 4 << 20, f"lb held {held} bytes of an unread response"


def test_head_and_http10(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    resp = raw(x.port, b"HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", until_close=True)
    assert status_of(resp) == 200 and resp.endswith(b"\r\n\r\n")
    assert header_of(resp, "Content-Length") == "2"
    # an HTTP/1.0 client gets a chunked answer as plain bytes, then close
    resp = raw(x.port, b"GET /big?n=100000 HTTP/1.0\r\n\r\n", until_close=True)
    head, _, body = resp.partition(b"\r\n\r\n")
    assert status_of(resp) == 200
    assert header_of(resp, "Transfer-Encoding") is None
    assert header_of(resp, "Connection") == "close"
    assert len(body) == 100000 and body.startswith(b"0123456789")
    # HTTP/1.0 keep-alive
    s = socket.create_connection((HOST, x.port), timeout=5)
    for _ in range(2):
        s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        data = b""
        while not data.endswith(b"b1"):
            data += s.recv(4096)
        assert b"Connection: keep-alive" in data
    s.close()


def test_pipelined_requests_answered_in_order(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr)
    req = b"".join(b"GET /status?code=%d HTTP/1.1\r\nHost: a\r\n\r\n" % c for c in (200, 404, 201, 500))
    req += b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    resp = raw(x.port, req, until_close=True)
    codes = [int(m) for m in re.findall(rb"HTTP/1.1 (\d{3}) ", resp)]
    assert codes == [200, 404, 201, 500, 200]


def test_no_backend_answers_503_with_retry_after_at_once(backends, lb):
    b = backends(1)
    dead = f"{HOST}:{b[0].port}"
    b[0].stop()
    x = lb("--backend", dead, "--health", "/health", "--health-interval", "1s")
    wait_until(lambda: x.backend_state()[dead] == "down", 5, what="backend down")
    t0 = time.monotonic()
    resp = raw(x.port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert time.monotonic() - t0 < 0.5
    assert status_of(resp) == 503
    assert int(header_of(resp, "Retry-After")) >= 1


def test_refused_backend_is_502(backends, lb):
    b = backends(1)
    dead = f"{HOST}:{b[0].port}"
    b[0].stop()
    x = lb("--backend", dead, "--passive-fails", "0")
    resp = raw(x.port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert status_of(resp) == 502


def test_slow_backend_is_504(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--timeout-server", "300ms", "--passive-fails", "0")
    t0 = time.monotonic()
    resp = raw(x.port, b"GET /slow?ms=3000 HTTP/1.1\r\nHost: a\r\n\r\n")
    assert status_of(resp) == 504
    assert 0.25 < time.monotonic() - t0 < 2.0


def test_connect_timeout_is_504(backends, lb):
    # a listening socket that never accepts, its backlog full: SYNs are dropped
    blackhole = socket.socket()
    blackhole.bind((HOST, 0))
    blackhole.listen(0)
    port = blackhole.getsockname()[1]
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect((HOST, port))
        except BlockingIOError:
            pass
        fillers.append(f)
    try:
        x = lb("--backend", f"{HOST}:{port}", "--timeout-connect", "300ms", "--retries", "0",
               "--passive-fails", "0")
        t0 = time.monotonic()
        resp = raw(x.port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert status_of(resp) == 504
        assert time.monotonic() - t0 < 2.0
    finally:
        for f in fillers:
            f.close()
        blackhole.close()


def test_header_timeout_is_408(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--timeout-header", "500ms")
    t0 = time.monotonic()
    resp = raw(x.port, b"GET / HTTP/1.1\r\nHost:", until_close=True)
    assert status_of(resp) == 408
    assert 0.4 < time.monotonic() - t0 < 2.0
    assert b[0].stats()["requests"] == 0


def test_idle_keepalive_connection_closed(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--timeout-keepalive", "300ms")
    s = socket.create_connection((HOST, x.port), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    data = b""
    while not data.endswith(b"b1"):
        data += s.recv(4096)
    t0 = time.monotonic()
    assert s.recv(4096) == b""   # closed by the lb, no bytes
    assert 0.2 < time.monotonic() - t0 < 2.0
    s.close()


def test_backend_connection_close_is_not_reused(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    c = Client(x.port)
    for _ in range(5):
        assert c.get("/close")[2] == b"b1"
    assert c.connects == 1
    m = x.metrics()
    assert sum(v for k, v in m.items() if k.startswith("scaleout_lb_backend_connects_total")) == 5


def test_interim_100_continue_relayed(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    s = socket.create_connection((HOST, x.port), timeout=5)
    s.sendall(b"POST /len HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    first = s.recv(4096)
    assert first.startswith(b"HTTP/1.1 100 Continue\r\n")
    s.sendall(b"hello")
    data = b""
    while not data.endswith(b"5"):
        data += s.recv(4096)
    assert b"HTTP/1.1 200 OK" in data
    s.close()
