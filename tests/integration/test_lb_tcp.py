"""
scaleout lb, L4 mode (--mode tcp): connections tunnelled to backends with the
algorithms that need no HTTP, health checks, connect retries, bytes both ways
with backpressure and half-close, idle timeout.
"""
import hashlib
import os
import socket
import threading
import time

from lb_helpers import (HOST, Backend, Client, backends, lb, raw, status_of, header_of,  # noqa: F401
                        _skip_without_binary, wait_until, free_port)


class Echo:
    """TCP echo server (in-process threads): sends back what it gets; shuts its
    write side after the client shut its own."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = 0
        threading.Thread(target=self.run, daemon=True).start()

    @property
    def addr(self):
        return f"{HOST}:{self.port}"

    def run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns += 1
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def serve(c):
        try:
            while True:
                d = c.recv(1 << 16)
                if not d:
                    c.shutdown(socket.SHUT_WR)
                    break
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


def fresh_get(port, source=None):
    c = Client(port, source=source)
    try:
        return c.get("/")[2].decode()
    finally:
        c.close()


def test_tcp_round_robin_per_connection(backends, lb):
    b = backends(2)
    x = lb("--mode", "tcp", "--backend", b[0].addr, "--backend", b[1].addr)
    got = [fresh_get(x.port) for _ in range(6)]
    assert got == ["b1", "b2"] * 3
    # one connection stays on its backend for all its requests
    c = Client(x.port)
    assert len({c.get("/")[2] for _ in range(5)}) == 1


def test_tcp_wrr_weights(backends, lb):
    b = backends(2)
    x = lb("--mode", "tcp", "--backend", f"{b[0].addr} weight 3", "--backend", b[1].addr, "--balance", "wrr")
    got = [fresh_get(x.port) for _ in range(400)]
    assert got.count("b1") == 300


def test_tcp_iphash(backends, lb):
    b = backends(2)
    x = lb("--mode", "tcp", "--backend", b[0].addr, "--backend", b[1].addr, "--balance", "iphash")
    per = {}
    for i in range(2, 32):
        ip = f"127.0.0.{i}"
        got = {fresh_get(x.port, ip) for _ in range(3)}
        assert len(got) == 1
        w = got.pop()
        per[w] = per.get(w, 0) + 1
    assert len(per) == 2


def test_tcp_leastconn_counts_open_tunnels(backends, lb):
    b = backends(2)
    x = lb("--mode", "tcp", "--backend", b[0].addr, "--backend", b[1].addr, "--balance", "leastconn")
    held = [Client(x.port) for _ in range(4)]
    first = [c.get("/")[2].decode() for c in held]
    assert sorted(first) == ["b1", "b1", "b2", "b2"]
    # close both tunnels to b1: the next one goes to b1, which has none
    for c, who in zip(held, first):
        if who == "b1":
            c.close()
    wait_until(lambda: x.status()["pools"][0]["backends"][0]["active"] == 0, 3)
    assert fresh_get(x.port) == "b1"
    for c in held:
        c.close()


def test_tcp_stream_both_ways_and_half_close(lb):
    e = Echo()
    try:
        x = lb("--mode", "tcp", "--backend", e.addr)
        base = x.status()["memory_bytes"]
        s = socket.create_connection((HOST, x.port), timeout=30)
        total = 24 << 20
        block = os.urandom(1 << 16)
        sent = hashlib.sha256()
        peak = [0]

        def send():
            for _ in range(total // len(block)):
                s.sendall(block)
                sent.update(block)
            s.shutdown(socket.SHUT_WR)   # half-close: the echo still comes back

        t = threading.Thread(target=send)
        t.start()
        got = hashlib.sha256()
        n = 0
        while True:
            d = s.recv(1 << 16)
            if not d:
                break
            got.update(d)
            n += len(d)
            if n % (4 << 20) < len(d):
                peak[0] = max(peak[0], x.status()["memory_bytes"] - base)
        t.join(30)
        s.close()
        assert n == total
        assert got.hexdigest() == sent.hexdigest()
        assert peak[0] < 4 << 20
    finally:
        e.close()


def test_tcp_health_and_connect_retry(backends, lb):
    b = backends(2)
    dead = f"{HOST}:{free_port()}"
    x = lb("--mode", "tcp", "--backend", dead, "--backend", b[0].addr, "--backend", b[1].addr,
           "--passive-fails", "0")
    # a refused connect is retried on another backend: every client gets through
    got = [fresh_get(x.port) for _ in range(9)]
    assert sorted(set(got)) == ["b1", "b2"] and len(got) == 9
    x.stop()
    y = lb("--mode", "tcp", "--backend", b[0].addr, "--backend", b[1].addr, "--health", "tcp",
           "--health-interval", "200ms", "--health-fall", "1", "--passive-fails", "0")
    b[0].kill()
    wait_until(lambda: y.backend_state()[b[0].addr] == "down", 3)
    assert {fresh_get(y.port) for _ in range(6)} == {"b2"}


def test_tcp_idle_timeout(lb):
    e = Echo()
    try:
        x = lb("--mode", "tcp", "--backend", e.addr, "--timeout-client", "300ms")
        s = socket.create_connection((HOST, x.port), timeout=5)
        s.sendall(b"ping")
        assert s.recv(10) == b"ping"
        t0 = time.monotonic()
        assert s.recv(10) == b""
        assert 0.25 < time.monotonic() - t0 < 2
        s.close()
    finally:
        e.close()


def test_tcp_rejects_http_only_settings(lb):
    x = lb("--mode", "tcp", "--backend", "127.0.0.1:9", "--balance", "lrt", expect_fail=True)
    assert x.proc.returncode == 2
    assert "needs HTTP" in x.log_tail()
