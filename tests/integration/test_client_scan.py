"""
test_client_scan.py — the periodic client scans visit every client of a
large set. kv's on_clients_timer and the lb's lb_http_sweep check a slice of
their clients per tick, resuming where the last tick stopped (64 a tick at
least, so small sets are checked whole every tick). These tests hold 300
clients, more than a slice, and fail if a client past the first slice is
never visited: each must be closed by its timeout, within a generous bound.
New clients go to the front of a worker's list, so 100 clients that must stay
open are connected last: a scan that always started at the front would see
only them.

  - kv `timeout 1`: 300 idle clients are all closed; 100 clients that keep
    sending are not;
  - lb `timeout-header 1s`: 300 clients with an unfinished request head all
    get 408 and a close; 100 idle keep-alive clients (30 s) stay open.
"""
import selectors
import socket
import time

import pytest

from conftest import KvServer, RespConn
from lb_helpers import HOST, backends, lb, _skip_without_binary, wait_until  # noqa: F401

N = 300
STAY = 100
BOUND = 15.0  # seconds: the timeouts are 1 s, a round of the scan 1 s at most


def wait_all_closed(socks, busy=None, what="closed"):
    """Read every socket until the server closes it; returns what each got.
    busy(): called between reads (a client that must stay open)."""
    sel = selectors.DefaultSelector()
    got = {}
    for s in socks:
        s.setblocking(False)
        got[s] = b""
        sel.register(s, selectors.EVENT_READ)
    deadline = time.monotonic() + BOUND
    open_ = set(socks)
    while open_ and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except ConnectionResetError:
                d = b""
            if d:
                got[s] += d
            else:
                sel.unregister(s)
                open_.discard(s)
        if busy:
            busy()
    sel.close()
    assert not open_, f"{len(open_)} of {len(socks)} clients never {what}"
    return got


@pytest.fixture
def kv(tmp_path):
    s = KvServer("scaleout", tmp_path / "kv", ["--timeout", "1"]).start()
    yield s
    alive = s.alive()
    s.stop()
    assert alive, f"kv died:\n{s.log_tail()}"


def test_kv_idle_timeout_reaches_every_client(kv):
    idle = []
    for _ in range(N):
        s = socket.create_connection((HOST, kv.port), timeout=5)
        s.sendall(b"PING\r\n")
        assert s.recv(64) == b"+PONG\r\n"
        idle.append(s)
    busy = [RespConn(kv.port) for _ in range(STAY)]  # at the front of the list, never idle
    last = [0.0]

    def keep_busy():
        if time.monotonic() - last[0] > 0.2:
            for c in busy:
                assert c.cmd("PING") == "PONG"
            last[0] = time.monotonic()

    try:
        keep_busy()
        wait_all_closed(idle, keep_busy, "closed at their idle timeout")
        keep_busy()
        # the busy clients and INFO's own
        assert int(kv.info("clients")["connected_clients"]) == STAY + 1
    finally:
        for s in idle:
            s.close()
        for c in busy:
            c.close()


def test_lb_header_timeout_reaches_every_client(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--timeout-header", "1s")
    socks = []
    for _ in range(N):
        s = socket.create_connection((HOST, x.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: z")
        socks.append(s)
    stay = []
    for _ in range(STAY):  # at the front of the list, idle between requests (keep-alive 30 s)
        s = socket.create_connection((HOST, x.port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        resp = b""
        while b"\r\n\r\n" not in resp:
            d = s.recv(4096)
            assert d, "closed before answering"
            resp += d
        assert resp.startswith(b"HTTP/1.1 200 ")
        stay.append(s)
    try:
        wait_until(lambda: x.status()["clients"] == N + STAY, timeout=10, what="the lb to hold them all")
        got = wait_all_closed(socks, what="cut at timeout-header")
        assert x.status()["clients"] == STAY
    finally:
        for s in socks + stay:
            s.close()
    assert all(v.startswith(b"HTTP/1.1 408 ") for v in got.values()), \
        {v[:20] for v in got.values() if not v.startswith(b"HTTP/1.1 408 ")}
