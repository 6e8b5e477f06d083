"""
scaleout lb retries, rate limiting and maxconn with its queue:
  - a failed connect is retried once on another backend;
  - an idempotent request whose connection dies before any response byte is
    retried once elsewhere; a POST is not (502);
  - per-client-address token buckets answer 429 with Retry-After;
  - maxconn per backend holds extra requests in a bounded queue: they wait
    (timeout-queue) and overflow gets 503.
"""
import socket
import threading
import time

from lb_helpers import (HOST, Client, backends, lb, raw, status_of, header_of,  # noqa: F401
                        _skip_without_binary, wait_until, free_port)


class Closer:
    """A backend that reads a request and closes without answering."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self.stop = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    @property
    def addr(self):
        return f"{HOST}:{self.port}"

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(2)
            try:
                if c.recv(65536):
                    self.hits += 1
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop = True
        self.t.join(2)
        self.sock.close()


def metric_sum(m, prefix):
    return sum(v for k, v in m.items() if k.startswith(prefix))


def test_connect_failure_retried_elsewhere(backends, lb):
    b = backends(1)
    dead = f"{HOST}:{free_port()}"
    x = lb("--backend", dead, "--backend", b[0].addr, "--passive-fails", "0")
    c = Client(x.port)
    for _ in range(20):
        assert c.get("/")[:1] == (200,)
    m = x.metrics()
    retried = m[f'scaleout_lb_backend_retries_total{{pool="default",backend="{dead}"}}']
    assert retried >= 10
    assert m[f'scaleout_lb_backend_errors_total{{pool="default",backend="{dead}"}}'] == retried
    assert b[0].stats()["requests"] == 20


def test_idempotent_retried_post_not(backends, lb):
    b = backends(1)
    closer = Closer()
    try:
        x = lb("--backend", closer.addr, "--backend", b[0].addr, "--passive-fails", "0")
        c = Client(x.port)
        for _ in range(10):
            st, _, body = c.get("/")
            assert (st, body) == (200, b"b1")
        assert closer.hits >= 5
        before = closer.hits
        posts = [c.request("POST", "/len", body=b"abc")[0] for _ in range(10)]
        failed = posts.count(502)
        assert failed > 0 and posts.count(200) == 10 - failed
        assert closer.hits - before == failed, "a POST went to two backends"
        assert b[0].stats()["requests"] == 10 + 10 - failed
    finally:
        closer.close()


def test_retried_only_once(lb):
    closers = [Closer() for _ in range(3)]
    try:
        flags = []
        for cl in closers:
            flags += ["--backend", cl.addr]
        x = lb(*flags, "--passive-fails", "0", "--retries", "1")
        resp = raw(x.port, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        assert status_of(resp) == 502
        assert sum(cl.hits for cl in closers) == 2
    finally:
        for cl in closers:
            cl.close()


def test_rate_limit_429_with_retry_after(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--rate-limit", "5", "3")
    c = Client(x.port)
    codes = [c.get("/")[0] for _ in range(3)]
    assert codes == [200, 200, 200]
    st, h, body = c.get("/")
    assert st == 429
    assert int(h["retry-after"]) >= 1
    assert c.connects == 1, "a 429 keeps the connection"
    # another address has its own bucket
    assert Client(x.port, source="127.0.0.9").get("/")[0] == 200
    # refills at 5/s
    wait_until(lambda: c.get("/")[0] == 200, 2, interval=0.05, what="a token")
    assert b[0].stats()["requests"] == 5
    m = x.metrics()
    assert m['scaleout_lb_listener_rejected_total{listener="default",reason="rate_limited"}'] >= 1


def _concurrent(port, n, path="/"):
    out = [None] * n

    def one(i):
        try:
            out[i] = Client(port, timeout=15).get(path)[0]
        except Exception as e:  # noqa: BLE001
            out[i] = repr(e)

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    return out, time.monotonic() - t0


def test_maxconn_queues_then_overflows(backends, lb):
    b = backends(1, delays=[300])
    x = lb("--backend", b[0].addr, "--maxconn", "2", "--queue-size", "3", "--timeout-queue", "5s")
    codes, took = _concurrent(x.port, 5)
    assert codes == [200] * 5, codes
    assert took >= 0.85, "more than maxconn requests ran at once"   # 3 waves of 300 ms
    codes, _ = _concurrent(x.port, 8)
    assert sorted(codes) == [200] * 5 + [503] * 3, codes


def test_queue_timeout(backends, lb):
    b = backends(1, delays=[1500])
    x = lb("--backend", b[0].addr, "--maxconn", "1", "--timeout-queue", "300ms")
    codes, took = _concurrent(x.port, 2)
    assert sorted(codes) == [200, 503], codes
    m = x.metrics()
    assert m['scaleout_lb_pool_queue_timeouts_total{pool="default"}'] == 1


def test_maxconn_per_backend_spills_to_others(backends, lb):
    b = backends(2, delays=[400, 0])
    x = lb("--backend", f"{b[0].addr} maxconn 1", "--backend", b[1].addr, "--balance", "roundrobin")
    codes, _ = _concurrent(x.port, 6)
    assert codes == [200] * 6
    assert b[0].stats()["requests"] == 1
