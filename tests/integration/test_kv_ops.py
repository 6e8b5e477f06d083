"""Operational behaviour of scaleout kv: memory stays within maxmemory while
far more is written, several threads, signals (SIGTERM drains and exits 0,
SIGHUP reloads), `scaleout check`, --help. The memory test also runs on Redis
for comparison; the rest are scaleout features."""
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import SCALEOUT_BIN, RespError, parse_info, resp_encode

pytestmark = []


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def pipeline_sets(c, prefix, start, count, value):
    """SET prefix:i value for i in [start, start+count), pipelined in chunks."""
    chunk = 500
    for base in range(start, start + count, chunk):
        n = min(chunk, start + count - base)
        payload = b"".join(
            b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(value), value)
            for k in (f"{prefix}:{i}".encode() for i in range(base, base + n)))
        c.send(payload)
        for _ in range(n):
            c.read()


@pytest.mark.skipif(os.environ.get("SCALEOUT_SANITIZERS") == "1",
                    reason="ASan's allocator keeps freed memory in quarantine: RSS says nothing there")
def test_rss_stays_within_maxmemory_while_writing_far_more(server_factory):
    """Issue: RSS within 10% of maxmemory plus a fixed base while writing far more
    than the limit. 32 MB limit, 320 MB written (10x), 1 KB values."""
    limit = 32 * 1024 * 1024
    s = server_factory("--maxmemory", str(limit), "--maxmemory-policy", "allkeys-lru")
    c = s.conn()
    base = rss_bytes(s.pid)
    value = b"v" * 1024
    written = 0
    peak = 0
    for round_ in range(10):
        pipeline_sets(c, "k", round_ * 34000, 34000, value)
        written += 34000 * len(value)
        peak = max(peak, rss_bytes(s.pid))
    info = parse_info(c.cmd("INFO"))
    assert written >= 10 * limit
    assert info["evicted_keys"] > 0
    assert info["used_memory"] <= limit * 1.02, info["used_memory"]
    # fixed base: the process at start plus 8 MB for client buffers and allocator slack
    bound = 1.10 * limit + base + 8 * 1024 * 1024
    print(f"{s.target}: peak RSS {peak / 1e6:.1f} MB, base {base / 1e6:.1f} MB, limit {limit / 1e6:.1f} MB")
    assert peak <= bound, f"peak RSS {peak / 1e6:.1f} MB > {bound / 1e6:.1f} MB (base {base / 1e6:.1f} MB)"


@pytest.mark.scaleout_only
def test_threads_concurrent_clients_see_one_keyspace(server_factory):
    s = server_factory("--threads", "2")
    errors = []

    def worker(n):
        try:
            c = s.conn()
            for _ in range(500):
                c.cmd("INCR", "counter")
            c.cmd("SET", f"own:{n}", str(n))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors
    c = s.conn()
    assert c.cmd("GET", "counter") == b"4000"
    assert c.cmd("DBSIZE") == 9
    info = parse_info(c.cmd("INFO"))
    assert info["io_threads_active"] == 1


@pytest.mark.scaleout_only
def test_sigterm_drains_and_exits_zero(server_factory):
    s = server_factory()
    c = s.conn()
    c.cmd("SET", "a", "b")
    idle = s.conn()   # an idle connection must not keep the server alive
    idle.cmd("PING")
    s.expect_exit = True
    os.kill(s.pid, signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert "shutting down" in s.log_tail()


@pytest.mark.scaleout_only
def test_sighup_reloads_runtime_directives(server_factory, tmp_path):
    conf = tmp_path / "kv.conf"
    conf.write_text("role kv\nmaxmemory 10mb\nmaxmemory-policy allkeys-lru\n")
    s = server_factory("--config", str(conf))
    c = s.conn()
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"10485760"]
    conf.write_text("role kv\nmaxmemory 20mb\nmaxmemory-policy allkeys-lfu\n")
    os.kill(s.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"20971520"]:
            break
        time.sleep(0.02)
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"20971520"]
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"allkeys-lfu"]
    # a broken file is refused as a whole and the running values stay
    conf.write_text("role kv\nmaxmemory 30mb\nmaxmemory-policy nonsense\n")
    os.kill(s.pid, signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "not reloaded" not in s.log_tail():
        time.sleep(0.02)
    assert "not reloaded" in s.log_tail()
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"20971520"]


def run(*args):
    return subprocess.run([str(SCALEOUT_BIN), *args], capture_output=True, text=True, timeout=30)


@pytest.fixture
def scaleout_bin():
    if not SCALEOUT_BIN.exists():
        pytest.skip("scaleout binary not built")


def test_check_valid_file(scaleout_bin, tmp_path):
    f = tmp_path / "ok.conf"
    f.write_text("role kv\n# a comment\nport 7000\nmaxmemory 100mb\nmaxmemory-policy allkeys-fifo\n"
                 "client-output-buffer-limit normal 1mb 512kb 10\n")
    r = run("check", str(f))
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


def test_check_reports_every_error_with_file_and_line(scaleout_bin, tmp_path):
    f = tmp_path / "bad.conf"
    f.write_text("role kv\nport 70000\nmaxmemory lots\nnosuch 1\nmaxmemory-policy sometimes\nthreads 2\n")
    r = run("check", str(f))
    assert r.returncode == 1
    for line in (2, 3, 4, 5):
        assert f"{f}:{line}: " in r.stderr, r.stderr
    assert f"{f}:6:" not in r.stderr
    assert "4 errors" in r.stderr


def test_check_needs_a_role(scaleout_bin, tmp_path):
    f = tmp_path / "norole.conf"
    f.write_text("port 7000\n")
    r = run("check", str(f))
    assert r.returncode == 2 and "role" in r.stderr
    r = run("check", "--role", "kv", str(f))
    assert r.returncode == 0, r.stderr


def test_bad_flag_is_refused_with_a_reason(scaleout_bin):
    r = run("kv", "--maxmemory-policy", "sometimes")
    assert r.returncode == 2
    assert "maxmemory-policy" in r.stderr and "allkeys-lru" in r.stderr


def test_help_lists_every_directive(scaleout_bin):
    r = run("kv", "--help")
    assert r.returncode == 0
    for d in ("--port", "--maxmemory", "--maxmemory-policy", "--requirepass", "--threads", "--timeout",
              "--client-output-buffer-limit", "--admin-port"):
        assert d in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("scaleout ")


@pytest.mark.scaleout_only
def test_second_server_on_a_taken_port_fails(server_factory, tmp_path):
    """Workers share their port with SO_REUSEPORT; a second kv started on the
    same port must fail as Redis does, not silently split the keyspace."""
    s = server_factory("--threads", "2")
    r = subprocess.run([str(SCALEOUT_BIN), "kv", "--port", str(s.port), "--admin-port", "0"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "Address already in use" in r.stderr
    c = s.conn()
    assert c.cmd("PING") == "PONG"


def test_port_zero_with_threads_shares_one_port(scaleout_bin, tmp_path):
    # not marked scaleout_only: the marker skips tests without a kv_target
    # parameter, so it made this test skip on every run
    p = subprocess.Popen([str(SCALEOUT_BIN), "kv", "--port", "0", "--threads", "3", "--admin-port", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 10
        while "ready" not in line and time.monotonic() < deadline:
            line = p.stdout.readline()
        assert "ready" in line, line
        out = subprocess.run(["ss", "-ltnp"], capture_output=True, text=True, timeout=10).stdout
        ports = {ln.split()[3].rsplit(":", 1)[1] for ln in out.splitlines() if f"pid={p.pid}," in ln}
        assert len(ports) == 1, out
    finally:
        p.terminate()
        p.wait(10)


@pytest.mark.scaleout_only
def test_client_kill_across_threads(server_factory):
    """CLIENT KILL of clients owned by other worker threads closes exactly them."""
    s = server_factory("--threads", "2")
    victims = [s.conn() for _ in range(8)]
    ids = [v.cmd("CLIENT", "ID") for v in victims]
    killer = s.conn()
    for i in ids[:4]:
        assert killer.cmd("CLIENT", "KILL", "ID", str(i)) == 1
    for v in victims[:4]:
        assert v.read_until_closed(timeout=5) == b""
    for v in victims[4:]:
        assert v.cmd("PING") == "PONG"
    assert killer.cmd("CLIENT", "KILL", "ID", "999999") == 0
    assert killer.cmd("DBSIZE") == 0


def _client_fields(conn):
    line = conn.cmd("CLIENT", "INFO")
    line = line.decode() if isinstance(line, bytes) else str(line)
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def test_client_kill_filters_all_must_match(server_factory):
    """CLIENT KILL with several filters kills the clients matching all of them
    (before the fix: any one of them, and a client could be counted twice),
    and SKIPME yes (the default) spares the caller; the same on both servers."""
    s = server_factory()
    a, b = s.conn(), s.conn()
    sub = s.conn()
    sub.send_cmd("SUBSCRIBE", "ch")
    sub.read()
    killer = s.conn()
    fa, fb, fk = _client_fields(a), _client_fields(b), _client_fields(killer)
    # a's address with a type it does not have: nobody
    assert killer.cmd("CLIENT", "KILL", "ADDR", fa["addr"], "TYPE", "pubsub") == 0
    # b's id with a's address: nobody (an OR would kill both)
    assert killer.cmd("CLIENT", "KILL", "ID", fb["id"], "ADDR", fa["addr"]) == 0
    # the caller's own id: spared unless SKIPME no
    assert killer.cmd("CLIENT", "KILL", "ID", fk["id"], "TYPE", "normal") == 0
    # a filter without its value, after a valid one: a syntax error
    assert killer.cmd("CLIENT", "KILL", "TYPE", "normal", "ID") == RespError("ERR syntax error")
    assert killer.cmd("CLIENT", "KILL", "SKIPME", "maybe") == RespError("ERR syntax error")
    # the local address and the type together: exactly a
    assert killer.cmd("CLIENT", "KILL", "ID", fa["id"], "LADDR", fa["laddr"], "TYPE", "normal") == 1
    assert a.read_until_closed(timeout=5) == b""
    # every normal client but the caller: b only (the subscriber is pubsub)
    assert killer.cmd("CLIENT", "KILL", "TYPE", "normal") == 1
    assert b.read_until_closed(timeout=5) == b""
    assert killer.cmd("CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes") == 1
    assert sub.read_until_closed(timeout=5) == b""
    # now the caller itself: answered, then closed
    assert killer.cmd("CLIENT", "KILL", "ID", fk["id"], "SKIPME", "no") == 1
    assert killer.read_until_closed(timeout=5) == b""


def test_killed_client_is_gone_at_once(server_factory):
    """A client CLIENT KILL closed is gone for the commands that follow in the
    same pipeline (its server side closes a moment later): a second KILL
    does not count it again and CLIENT LIST does not show it, as in Redis,
    where it is freed at once. (kv counted it twice: test_client_kill_filters_
    all_must_match failed now and then on that race.)"""
    s = server_factory()
    a = s.conn()
    killer = s.conn()
    fa = _client_fields(a)
    killer.send(resp_encode("CLIENT", "KILL", "ID", fa["id"]) + resp_encode("CLIENT", "KILL", "ID", fa["id"])
                + resp_encode("CLIENT", "LIST", "ID", fa["id"]) + resp_encode("CLIENT", "KILL", "ADDR", fa["addr"]))
    assert killer.read() == 1
    assert killer.read() == 0
    assert killer.read() in (b"", "")
    assert killer.read() == 0
    assert a.read_until_closed(timeout=5) == b""


def test_client_kill_user_filter(server_factory):
    """CLIENT KILL USER: every client is the default user (no ACL users), so
    USER default narrows nothing and another name is Redis's error; the same
    on both servers."""
    s = server_factory()
    a, b = s.conn(), s.conn()
    killer = s.conn()
    fa = _client_fields(a)
    assert killer.cmd("CLIENT", "KILL", "USER", "nobody") == RespError("ERR No such user 'nobody'")
    assert killer.cmd("CLIENT", "KILL", "ID", fa["id"], "USER", "nobody") == RespError("ERR No such user 'nobody'")
    assert killer.cmd("CLIENT", "KILL", "TYPE", "normal", "USER") == RespError("ERR syntax error")
    assert killer.cmd("CLIENT", "KILL", "USER") == RespError("ERR No such client")
    assert a.cmd("PING") == "PONG"
    assert killer.cmd("CLIENT", "KILL", "ID", fa["id"], "USER", "default") == 1
    assert a.read_until_closed(timeout=5) == b""
    assert killer.cmd("CLIENT", "KILL", "USER", "default", "TYPE", "pubsub") == 0
    assert killer.cmd("CLIENT", "KILL", "USER", "DEFAULT") == RespError("ERR No such user 'DEFAULT'")
    assert killer.cmd("CLIENT", "KILL", "USER", "default") == 1
    assert b.read_until_closed(timeout=5) == b""
    assert killer.cmd("PING") == "PONG"


@pytest.mark.scaleout_only
def test_sigterm_with_open_admin_connections(server_factory):
    """Admin connections open at shutdown are closed after the listener; their
    close callbacks must not use freed endpoint state (ASan caught this)."""
    import socket
    s = server_factory()
    conns = []
    for _ in range(3):
        a = socket.create_connection(("127.0.0.1", s.admin_port), timeout=5)
        a.sendall(b"GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert a.recv(65536).startswith(b"HTTP/1.1 200")
        conns.append(a)   # keep-alive: left open
    s.expect_exit = True
    os.kill(s.pid, signal.SIGTERM)
    assert s.proc.wait(10) == 0
    assert "ERROR: AddressSanitizer" not in s.log_tail()
    for a in conns:
        a.close()
