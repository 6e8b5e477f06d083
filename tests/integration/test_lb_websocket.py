"""
scaleout lb, WebSocket / Upgrade through L7 routes: the upgrade request goes
to the backend with Connection: Upgrade and Upgrade kept, a 101 turns the
client connection into a byte tunnel both ways (plain and TLS), a non-101
answer keeps HTTP semantics on the connection, an idle tunnel is closed after
timeout-tunnel, h2c is not forwarded as an upgrade.

The backend is a small in-process WebSocket echo server written here (the
RFC 6455 handshake with hashlib/base64, frames unmasked both ways).
"""
import base64
import hashlib
import json
import os
import socket
import ssl
import struct
import subprocess
import threading

import pytest

from lb_helpers import HOST, lb, wait_until, _skip_without_binary  # noqa: F401

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        d = sock.recv(n - len(out))
        if not d:
            raise ConnectionError("closed")
        out += d
    return out


def read_head(sock, rest=b""):
    """(head bytes, bytes after it)."""
    buf = rest
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed in a head")
        buf += d
    i = buf.index(b"\r\n\r\n") + 4
    return buf[:i], buf[i:]


def parse_head(head):
    lines = head.decode().split("\r\n")
    first = lines[0]
    hdrs = {}
    for ln in lines[1:]:
        if ln:
            k, v = ln.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return first, hdrs


def frame(opcode, payload, mask):
    b0 = 0x80 | opcode
    n = len(payload)
    if n < 126:
        h = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        h = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return h + payload
    m = os.urandom(4)
    return h + m + bytes(c ^ m[i % 4] for i, c in enumerate(payload))


def read_frame(sock):
    b0, b1 = recv_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(sock, 8))[0]
    m = recv_exact(sock, 4) if b1 & 0x80 else None
    p = recv_exact(sock, n)
    if m:
        p = bytes(c ^ m[i % 4] for i, c in enumerate(p))
    return b0 & 0x0F, p


class WsBackend:
    """Keep-alive HTTP/1.1 server: /ws upgrades to a WebSocket echo; /nows answers
    an upgrade with 400 and stays open; /headers returns the request headers; /bye
    upgrades then closes the tunnel after one echo; anything else 200 "plain"."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.seen = []
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
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def send(self, c, status, body, extra=""):
        c.sendall(f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body)

    def serve(self, c):
        rest = b""
        try:
            while True:
                head, rest = read_head(c, rest)
                first, hdrs = parse_head(head)
                self.seen.append((first, hdrs))
                path = first.split()[1]
                up = hdrs.get("upgrade", "").lower() == "websocket" and "upgrade" in hdrs.get("connection", "").lower()
                if path == "/headers":
                    self.send(c, "200 OK", json.dumps(hdrs).encode(), "Content-Type: application/json\r\n")
                elif path in ("/ws", "/bye") and up:
                    c.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               f"Sec-WebSocket-Accept: {accept_key(hdrs['sec-websocket-key'])}\r\n\r\n").encode())
                    if rest:
                        raise AssertionError("client bytes before the 101")
                    while True:
                        op, p = read_frame(c)
                        if op == 8:
                            c.sendall(frame(8, p, False))
                            return
                        c.sendall(frame(op, p, False))
                        if path == "/bye":
                            return
                elif path == "/nows" and up:
                    self.send(c, "400 Bad Request", b"no upgrade here")
                else:
                    self.send(c, "200 OK", b"plain")
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()


@pytest.fixture
def wsb():
    b = WsBackend()
    yield b
    b.close()


def upgrade(sock, path="/ws", host="a.test"):
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head, rest = read_head(sock)
    first, hdrs = parse_head(head)
    return first, hdrs, key, rest


def exchange(sock):
    for msg in (b"hello", b"x" * 300, os.urandom(200000)):
        sock.sendall(frame(2, msg, True))
        op, p = read_frame(sock)
        assert op == 2 and p == msg
    sock.sendall(frame(8, b"\x03\xe8", True))
    op, p = read_frame(sock)
    assert op == 8


def check_upgrade(sock, wsb):
    first, hdrs, key, rest = upgrade(sock)
    assert first.startswith("HTTP/1.1 101"), first
    assert hdrs["upgrade"] == "websocket"
    assert hdrs["connection"].lower() == "upgrade"
    assert hdrs["sec-websocket-accept"] == accept_key(key)
    assert rest == b""
    # the backend saw the upgrade fields (hop-by-hop, but kept for an upgrade)
    seen = [h for f, h in wsb.seen if f.startswith("GET /ws ")][-1]
    assert seen["upgrade"] == "websocket" and seen["connection"].lower() == "upgrade"
    assert seen["sec-websocket-key"] == key
    exchange(sock)


def test_websocket_plain(wsb, lb):
    x = lb("--backend", wsb.addr)
    with socket.create_connection((HOST, x.port), timeout=10) as s:
        check_upgrade(s, wsb)


def test_websocket_over_tls(wsb, lb, tmp_path):
    d = tmp_path
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(d / "k.pem"), "-out", str(d / "c.pem"), "-days", "2", "-subj", "/CN=a.test",
                    "-addext", "subjectAltName=DNS:a.test"], check=True, capture_output=True, timeout=30)
    x = lb("--backend", wsb.addr, "--tls-cert", d / "c.pem", d / "k.pem")
    ctx = ssl.create_default_context(cafile=str(d / "c.pem"))
    with socket.create_connection((HOST, x.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="a.test") as s:
            check_upgrade(s, wsb)


def test_non_101_keeps_http(wsb, lb):
    x = lb("--backend", wsb.addr)
    with socket.create_connection((HOST, x.port), timeout=10) as s:
        first, hdrs, _, rest = upgrade(s, "/nows")
        assert first.startswith("HTTP/1.1 400"), first
        body = rest
        while len(body) < int(hdrs["content-length"]):
            body += s.recv(4096)
        assert body == b"no upgrade here"
        # the same connection carries the next request as HTTP
        s.sendall(b"GET /other HTTP/1.1\r\nHost: a.test\r\n\r\n")
        head, rest = read_head(s)
        assert head.startswith(b"HTTP/1.1 200"), head
        while len(rest) < 5:
            rest += s.recv(4096)
        assert rest == b"plain"


def test_plain_request_has_no_upgrade_fields(wsb, lb):
    """h2c is not an upgrade the lb forwards; Connection/Upgrade of a normal request stay hop-by-hop."""
    x = lb("--backend", wsb.addr)
    with socket.create_connection((HOST, x.port), timeout=10) as s:
        s.sendall(b"GET /headers HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                  b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
        head, rest = read_head(s)
        first, hdrs = parse_head(head)
        assert first.startswith("HTTP/1.1 200"), first
        while len(rest) < int(hdrs["content-length"]):
            rest += s.recv(4096)
        seen = json.loads(rest)
        assert "upgrade" not in seen and "http2-settings" not in seen
        assert seen.get("connection", "").lower() != "upgrade"


def test_backend_closing_ends_tunnel(wsb, lb):
    x = lb("--backend", wsb.addr)
    with socket.create_connection((HOST, x.port), timeout=10) as s:
        first, _, _, _ = upgrade(s, "/bye")
        assert first.startswith("HTTP/1.1 101")
        s.sendall(frame(1, b"last", True))
        assert read_frame(s) == (1, b"last")
        assert s.recv(10) == b""


def test_idle_tunnel_times_out(wsb, lb):
    x = lb("--backend", wsb.addr, "--timeout-tunnel", "1s")
    with socket.create_connection((HOST, x.port), timeout=10) as s:
        first, _, _, _ = upgrade(s)
        assert first.startswith("HTTP/1.1 101")
        s.sendall(frame(1, b"ping", True))
        assert read_frame(s) == (1, b"ping")
        s.settimeout(10)
        try:
            got = s.recv(10)
        except ConnectionResetError:
            got = b""
        assert got == b"", "idle tunnel not closed"
    # while a busy tunnel is not cut: frames keep it alive past the timeout
    with socket.create_connection((HOST, x.port), timeout=10) as s:
        upgrade(s)
        for i in range(15):
            s.sendall(frame(1, b"m%d" % i, True))
            assert read_frame(s) == (1, b"m%d" % i)
            threading.Event().wait(0.15)
