"""
test_bench_http.py — `scaleout bench http://...` against real HTTP servers on
127.0.0.1: Debian's nginx (counts checked against its access log) and the
small asyncio server of bench_helpers.py (status codes, chunked and
close-delimited bodies, a request that never answers, stalls by SIGSTOP and
death by SIGKILL of that server's own PID).
"""
import signal
import subprocess
import time

import pytest

from bench_helpers import (HOST, NginxServer, TestHttpServer, accounted, find_tool, finish_bench, free_port,
                           run_bench, scaleout_bin, start_bench, wait_until)

pytestmark = pytest.mark.skipif(not scaleout_bin().exists(), reason="scaleout binary not built")


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    if not find_tool("nginx"):
        pytest.fail("nginx not installed (scripts/install-deps.sh installs it)")
    s = NginxServer(tmp_path_factory.mktemp("nginx")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def httpd(tmp_path_factory):
    s = TestHttpServer(tmp_path_factory.mktemp("httpd")).start()
    yield s
    s.stop()


@pytest.fixture
def own_httpd(tmp_path):
    """A test server of this test alone (it will be stopped or killed)."""
    s = TestHttpServer(tmp_path / "own").start()
    yield s
    s.stop()


def url(server, path="/"):
    return f"http://{HOST}:{server.port}{path}"


def test_request_count_matches_nginx_access_log(nginx, tmp_path):
    before = nginx.requests_logged()
    rc, out, err, rep = run_bench(tmp_path, url(nginx, "/index.html"), "-c", 8, "-n", 3000, "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["requests"] == 3000 and s["sent"] == 3000
    assert s["errors"]["total"] == 0, s["errors"]
    assert s["status"]["2xx"] == 3000
    wait_until(lambda: nginx.requests_logged() - before == 3000, timeout=5,
               what="nginx to log 3000 requests")
    assert "3,000 in" in out


def test_duration_run_count_matches_nginx(nginx, tmp_path):
    before = nginx.requests_logged()
    rc, out, err, rep = run_bench(tmp_path, url(nginx), "-c", 4, "-d", "1500ms", "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["requests"] > 100
    assert accounted(s), s
    assert s["cancelled"] == 0
    wait_until(lambda: nginx.requests_logged() - before == s["sent"], timeout=5,
               what=f"nginx to log the {s['sent']} requests sent")
    assert 1.4 <= s["elapsed_s"] <= 1.7


def test_open_loop_holds_the_rate(nginx, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(nginx), "-c", 10, "--rate", 1000, "-d", "3s", "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["mode"] == "open"
    # the schedule: every request that fell due was sent or counted unsent
    # (all 10 connections busy when it fell due: a loaded machine can make a
    # few, and the report says so; the schedule must still hold)
    rate = (s["sent"] + s["unsent"]) / s["elapsed_s"]
    assert abs(rate - 1000) <= 20, f"due {s['sent']} + {s['unsent']} in {s['elapsed_s']} s = {rate}/s"
    assert s["unsent"] <= 30, s["unsent"]
    assert abs(s["requests"] - 3000) <= 60, s["requests"]
    assert s["errors"]["total"] == 0
    # whole seconds in the middle of the run hold the rate too
    full = [p for p in s["timeline"][1:-1] if p["dt"] > 0.9]
    assert full, s["timeline"]
    for p in full:  # (bucket edges move by up to a worker's loop turn: looser than the total)
        assert abs(p["sent"] / p["dt"] - 1000) <= 100, p


def test_stall_shows_in_p99_with_rate(own_httpd, tmp_path):
    """The server stops for 500 ms (SIGSTOP of its PID): in open loop the
    requests scheduled during the stall are charged for it."""
    proc, out = start_bench(tmp_path, url(own_httpd), "-c", 4, "--rate", 200, "-d", "3s", "--progress", "off")
    wait_until(lambda: own_httpd.count() >= 60, timeout=10, what="the bench to be under way")
    own_httpd.proc.send_signal(signal.SIGSTOP)
    time.sleep(0.5)  # the stall itself
    own_httpd.proc.send_signal(signal.SIGCONT)
    rc, stdout, stderr, rep = finish_bench(proc, out)
    assert rc == 0, stderr
    s = rep["steps"][0]
    assert s["errors"]["total"] == 0
    assert s["latency_us"]["p99"] >= 350_000, s["latency_us"]
    assert s["latency_us"]["max"] >= 450_000, s["latency_us"]
    assert abs(s["sent"] - 600) <= 12
    # the timeline shows it too: one second's p99 is the stall
    assert max(p["p99_us"] for p in s["timeline"]) >= 350_000


def test_server_dies_mid_run(own_httpd, tmp_path):
    proc, out = start_bench(tmp_path, url(own_httpd), "-c", 4, "-d", "2500ms", "--progress", "off")
    wait_until(lambda: own_httpd.count() >= 200, timeout=10, what="the bench to be under way")
    own_httpd.proc.send_signal(signal.SIGKILL)
    own_httpd.proc.wait(5)
    rc, stdout, stderr, rep = finish_bench(proc, out)
    assert rc == 0, stderr
    s = rep["steps"][0]
    assert s["requests"] >= 200
    assert s["errors"]["connect"] > 0, s["errors"]
    assert s["errors"]["total"] == sum(v for k, v in s["errors"].items() if k != "total")
    assert accounted(s), s
    assert s["first_error"]
    assert "connect" in stdout and "errors" in stdout


def test_http_status_classes(httpd, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(httpd, "/status/404"), "-c", 2, "-n", 200, "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["requests"] == 200
    assert s["status"]["4xx"] == 200 and s["errors"]["http_4xx"] == 200
    assert "404" in s["first_error"]
    rc, out, err, rep = run_bench(tmp_path, url(httpd, "/status/503"), "-c", 2, "-n", 100, "--progress", "off")
    s = rep["steps"][0]
    assert s["status"]["5xx"] == 100 and s["errors"]["http_5xx"] == 100
    rc, out, err, rep = run_bench(tmp_path, url(httpd, "/status/302"), "-c", 2, "-n", 100, "--progress", "off")
    s = rep["steps"][0]
    assert s["status"]["3xx"] == 100 and s["errors"]["total"] == 0


def test_post_body_and_headers(httpd, tmp_path):
    body = tmp_path / "body.txt"
    body.write_bytes(b"payload-123\n")
    rc, out, err, rep = run_bench(tmp_path, url(httpd, "/echo"), "-c", 2, "-n", 100, "--method", "POST",
                                  "--body-file", body, "-H", "X-Test: yes please", "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["status"]["2xx"] == 100, s  # the server answers 400 to anything else


def test_chunked_and_close_delimited_bodies(httpd, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(httpd, "/chunked"), "-c", 2, "-n", 300, "-P", 4, "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["requests"] == 300 and s["errors"]["total"] == 0, s["errors"]
    rc, out, err, rep = run_bench(tmp_path, url(httpd, "/close"), "-c", 2, "-n", 100, "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["requests"] == 100 and s["errors"]["total"] == 0, s["errors"]
    assert s["connects"] >= 100  # one connection per response


def test_timeouts_are_counted(httpd, tmp_path):
    t0 = time.monotonic()
    rc, out, err, rep = run_bench(tmp_path, url(httpd, "/hang"), "-c", 1, "-n", 4, "--timeout", "300ms",
                                  "--progress", "off")
    s = rep["steps"][0]
    assert s["errors"]["timeout"] == 4, s["errors"]
    assert s["requests"] == 0
    assert rc == 1  # nothing answered
    assert time.monotonic() - t0 < 10


def test_unreachable_target_gives_up(tmp_path):
    port = free_port()
    t0 = time.monotonic()
    rc, out, err, rep = run_bench(tmp_path, f"http://{HOST}:{port}/", "-c", 2, "-n", 10, "--timeout", "500ms",
                                  "--progress", "off")
    assert rc == 1
    s = rep["steps"][0]
    assert s["gave_up"] and s["errors"]["connect"] >= 2 and s["requests"] == 0
    assert "refused" in s["first_error"].lower()
    assert time.monotonic() - t0 < 10


def test_progress_lines_when_not_a_terminal(httpd, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(httpd), "-c", 2, "-d", "2200ms", "--name", "probe")
    assert rc == 0
    lines = [l for l in err.splitlines() if "req/s" in l]
    assert len(lines) >= 2, err
    assert all(l.startswith("probe") and "p99" in l and "errors" in l and "\r" not in l for l in lines)


def test_usage_errors():
    cases = [(["https://127.0.0.1/"], "https"), (["ftp://x/"], "http://"), (["--rate", "abc", "http://x/"], "integer"),
             (["-Q"], "unknown option"), (["http://127.0.0.1:99999/"], "bad port"), ([], "usage"),
             (["--progress", "off"], "no target"), (["http://x/", "http://y/"], "one target")]
    for args, msg in cases:
        p = subprocess.run([str(scaleout_bin()), "bench", *args], capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert msg in p.stderr, (args, p.stderr)


# --------------------------------------------------------------------------
# --retry-idempotent: a server that drops its first K connections
# --------------------------------------------------------------------------

class DroppingServer:
    """A tiny threaded HTTP/1.1 server (keep-alive, 200 "ok") whose first
    `drop` connections read one whole request and then close without an
    answer (mode "close"), or after the first bytes of one (mode "cut"), or
    stop listening for `refuse_s` seconds and then close (mode "refuse": the
    client's reconnects are refused meanwhile)."""

    def __init__(self, drop, mode="close", refuse_s=0.3):
        import threading
        self.drop, self.mode, self.refuse_s = drop, mode, refuse_s
        self.accepted = 0
        self.refused = threading.Event()
        self.lock = threading.Lock()
        self.port = 0
        self._listen()

    def _listen(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, self.port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, args=(self.sock,), daemon=True).start()

    def _unlisten(self):
        import socket
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.sock.close()

    def _accept(self, sock):
        import threading
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                dropper = self.accepted <= self.drop
            threading.Thread(target=self._serve, args=(conn, dropper), daemon=True).start()

    @staticmethod
    def _read_request(conn, buf):
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, rest
            rest += chunk
        return head, rest[length:]

    def _serve(self, conn, dropper):
        buf = b""
        try:
            while True:
                head, buf = self._read_request(conn, buf)
                if head is None:
                    return
                if dropper:
                    if self.mode == "cut":
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nok")
                    if self.mode == "refuse":
                        self._unlisten()
                        conn.close()
                        time.sleep(self.refuse_s)  # the client's reconnects are refused meanwhile
                        self.refused.set()
                        self._listen()
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self):
        self._unlisten()


@pytest.fixture
def dropping():
    servers = []

    def make(drop, mode="close"):
        s = DroppingServer(drop, mode)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.stop()


def test_retry_idempotent_resends_requests_of_dropped_connections(dropping, tmp_path):
    s = dropping(3)
    html = tmp_path / "report.html"
    rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 3, "-n", 60, "--retry-idempotent", 1, "--progress", "off",
                                  "--html", html)
    assert rc == 0, err
    st = rep["steps"][0]
    assert st["errors"]["total"] == 0, st["errors"]
    assert st["retried"] == 3, st
    assert st["requests"] == 60 and st["sent"] == 60, st
    assert accounted(st), st
    assert "retried     3" in out, out
    assert "3 retried" in html.read_text()


def test_retry_idempotent_counts_attempts(dropping, tmp_path):
    # one connection at a time: the request meets the 3 dropping connections in a row
    s = dropping(3)
    rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 1, "-n", 10, "--retry-idempotent", 3, "--progress", "off")
    st = rep["steps"][0]
    assert st["errors"]["total"] == 0 and st["retried"] == 3 and st["requests"] == 10, st
    s = dropping(3)
    rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 1, "-n", 10, "--retry-idempotent", 2, "--progress", "off")
    st = rep["steps"][0]
    assert st["retried"] == 2 and st["errors"]["closed"] == 1 and st["requests"] == 9, st


def test_retry_survives_refused_reconnects(dropping, tmp_path):
    """The reconnect that would resend the request is refused a few times
    (each costs an attempt; 50 last far longer than the 0.3 s): the request
    is still resent and answered."""
    s = dropping(1, mode="refuse")
    rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 1, "-n", 5, "--retry-idempotent", 50, "--progress", "off")
    assert s.refused.is_set()
    st = rep["steps"][0]
    assert st["errors"]["connect"] >= 1, st["errors"]
    assert st["errors"]["closed"] == 0 and st["retried"] == 1 and st["requests"] == 5, st
    assert accounted(st), st


def test_without_retry_dropped_requests_are_errors(dropping, tmp_path):
    s = dropping(3)
    rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 3, "-n", 60, "--progress", "off")
    st = rep["steps"][0]
    assert st["errors"]["closed"] == 3 and st["errors"]["total"] == 3, st["errors"]
    assert st["retried"] == 0 and st["requests"] == 57, st
    assert "retried" not in out


def test_post_is_never_retried(dropping, tmp_path):
    body = tmp_path / "body.txt"
    body.write_bytes(b"payload\n")
    s = dropping(3)
    rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 3, "-n", 60, "--method", "POST", "--body-file", body,
                                  "--retry-idempotent", 1, "--progress", "off")
    st = rep["steps"][0]
    assert st["errors"]["closed"] == 3 and st["errors"]["total"] == 3, st["errors"]
    assert st["retried"] == 0 and st["requests"] == 57, st


def test_response_cut_after_its_first_bytes_is_not_retried(dropping, tmp_path):
    s = dropping(3, mode="cut")
    rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 3, "-n", 60, "--retry-idempotent", 1, "--progress", "off")
    st = rep["steps"][0]
    assert st["errors"]["closed"] == 3 and st["errors"]["total"] == 3, st["errors"]
    assert st["retried"] == 0 and st["requests"] == 57, st
