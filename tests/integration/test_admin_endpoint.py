"""
The admin endpoint every role serves (net/admin.c), tried on the lb and on
kv: the Host check that stops DNS rebinding (loopback names and addresses,
the bind address, or admin-allow-host; anything else 403), bounded input
while answers are not read (a client that pipelines without reading is
closed, memory stays flat), and the lb's admin token taken from a file or
the environment so that it is not in the process list.
"""
import os
import socket
import subprocess
import time

import pytest

from lb_helpers import (HOST, Backend, backends, lb, raw, status_of,  # noqa: F401
                        _skip_without_binary, wait_until)
from proc_helpers import free_port, scaleout_bin

TOKEN = "tok-" + "x" * 20


@pytest.fixture
def kv(tmp_path):
    """A scaleout kv with its admin endpoint on a free port."""
    procs = []

    def start(*extra):
        port, aport = free_port(), free_port()
        log = open(tmp_path / f"kv{len(procs)}.log", "wb")
        p = subprocess.Popen([str(scaleout_bin()), "kv", "--port", str(port), "--bind", HOST,
                              "--admin-port", str(aport), *extra], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, cwd=tmp_path)
        log.close()
        procs.append(p)
        wait_until(lambda: p.poll() is not None or _get(aport, b"localhost")[0] == 200, 10, what="kv admin")
        assert p.poll() is None, (tmp_path / f"kv{len(procs) - 1}.log").read_text()
        return p, aport

    yield start
    for p in procs:
        if p.poll() is None:
            p.terminate()
            p.wait(10)


def _get(port, host, path=b"/status", version=b"HTTP/1.1"):
    try:
        hdr = b"Host: " + host + b"\r\n" if host is not None else b""
        r = raw(port, b"GET " + path + b" " + version + b"\r\n" + hdr + b"\r\n", timeout=5)
        return status_of(r), r
    except OSError:
        return 0, b""


ALLOWED = [b"localhost", b"LOCALHOST:9", b"localhost.", b"127.0.0.1", b"127.0.0.1:18080", b"127.9.8.7:1",
           b"[::1]", b"[::1]:80", b"[::ffff:127.0.0.1]"]
REFUSED = [b"evil.example", b"evil.example:18080", b"localhost.evil.example", b"127.0.0.1.evil.example",
           b"10.0.0.1", b"[::2]", b"", b"0x7f.1"]


def _check_hosts(port):
    for h in ALLOWED:
        st, r = _get(port, h)
        assert st == 200, (h, r[:200])
    for h in REFUSED:
        st, r = _get(port, h)
        assert st == 403, (h, r[:200])
        assert b"Connection: close" in r
    # HTTP/1.0 without Host: nothing to rebind
    assert _get(port, None, version=b"HTTP/1.0")[0] == 200


def test_lb_admin_host_check(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    _check_hosts(x.admin_port)
    # the metrics too, and changes: a rebinding page cannot even try the token
    assert _get(x.admin_port, b"evil.example", b"/metrics")[0] == 403
    y = lb("--backend", b[0].addr, "--admin-allow-host", "lb.internal, ops.example")
    assert _get(y.admin_port, b"lb.internal:8080")[0] == 200
    assert _get(y.admin_port, b"OPS.example")[0] == 200
    assert _get(y.admin_port, b"evil.example")[0] == 403
    z = lb("--backend", b[0].addr, "--admin-allow-host", "*")
    assert _get(z.admin_port, b"evil.example")[0] == 200


def test_kv_admin_host_check(kv):
    _, aport = kv()
    _check_hosts(aport)


def _pipeline_without_reading(port, total=32 << 20):
    """Sends up to `total` bytes of pipelined GETs without reading a byte of
    the answers. Returns the bytes sent before the server closed (None if it
    never did)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect((HOST, port))
    one = b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n" * 1000
    sent = 0
    try:
        while sent < total:
            s.sendall(one)
            sent += len(one)
        return None
    except (BrokenPipeError, ConnectionResetError):
        return sent
    except socket.timeout:
        return None
    finally:
        s.close()


def test_lb_admin_pipelining_is_bounded(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    base = x.status()["memory_bytes"]
    sent = _pipeline_without_reading(x.admin_port)
    assert sent is not None, "the lb took 32 MB of pipelined requests it could not answer"
    st = x.status()
    assert st["memory_bytes"] - base < 4 << 20, st["memory_bytes"] - base
    # and a well-behaved pipelining client is still served in full
    s = socket.create_connection((HOST, x.admin_port), timeout=5)
    s.sendall(b"GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n" * 50)
    data = b""
    while data.count(b"HTTP/1.1 200") < 50:
        d = s.recv(1 << 20)
        assert d, f"closed after {data.count(b'HTTP/1.1 200')} answers"
        data += d
    s.close()


def test_kv_admin_pipelining_is_bounded(kv):
    p, aport = kv()
    sent = _pipeline_without_reading(aport)
    assert sent is not None, "kv took 32 MB of pipelined requests it could not answer"
    assert p.poll() is None
    assert _get(aport, b"localhost")[0] == 200


def _cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read()


def test_lb_admin_token_from_file(backends, lb, tmp_path):
    b = backends(1)
    tf = tmp_path / "token"
    tf.write_text(TOKEN + "\n")
    x = lb("--backend", b[0].addr, "--admin-token-file", str(tf))
    assert TOKEN.encode() not in _cmdline(x.pid)
    assert x.admin("POST", f"/pools/default/backends/{b[0].addr}/drain", token="wrong")[0] == 401
    code, body = x.admin("POST", f"/pools/default/backends/{b[0].addr}/drain", token=TOKEN)
    assert code == 200, body
    # both set: refused at start
    y = lb("--backend", b[0].addr, "--admin-token-file", str(tf), "--admin-token", "other", expect_fail=True)
    y.expect_exit = True
    assert y.proc.returncode not in (0, None) and "admin-token-file" in y.log_tail()
    z = lb("--backend", b[0].addr, "--admin-token-file", str(tmp_path / "missing"), expect_fail=True)
    z.expect_exit = True
    assert z.proc.returncode not in (0, None) and "missing" in z.log_tail()


def test_lb_admin_token_from_environment(backends, lb, monkeypatch):
    b = backends(1)
    monkeypatch.setenv("SCALEOUT_ADMIN_TOKEN", TOKEN)
    x = lb("--backend", b[0].addr)
    assert TOKEN.encode() not in _cmdline(x.pid)
    assert x.admin("POST", f"/pools/default/backends/{b[0].addr}/drain")[0] == 401
    code, body = x.admin("POST", f"/pools/default/backends/{b[0].addr}/drain", token=TOKEN)
    assert code == 200, body
