"""
lb_helpers.py — harness of the `scaleout lb` integration tests.

Run as a script it is a small test backend (a real process, so a test can
kill it):

    python3 lb_helpers.py backend --port P --id NAME [--delay MS]

  ThreadingHTTPServer speaking HTTP/1.1 keep-alive. Every answer carries
  `X-Backend: NAME`; unless a path below says otherwise the body is NAME.
    GET  /health            200 "ok", or 503 after /_ctl/health?state=down
    GET  /slow?ms=N         answers after N ms
    GET  /headers           the request headers as JSON
    GET  /status?code=N     answers status N
    GET  /resp-header?Name=Value&...  answers "ok" with those extra header fields
    GET  /big?n=BYTES       a chunked body of BYTES bytes (pattern "0123456789...")
    POST /echo              reads the body (Content-Length or chunked, as it
                            arrives) and streams it back chunked
    GET  /_ctl/health?state=up|down
    GET  /_ctl/stats        {"requests": N, "connections": N, "closed": N, "log": [request lines]}
                            (closed: connections that carried a counted request
                            and that the backend read to their end)
  Requests to /_ctl/ and /health are not counted nor logged.

As a module it gives the tests:

  Backend(id)                one backend process on a free port: start, stop,
                             kill (SIGKILL), stats(), set_health()
  Lb(*flags, config=...)     one `scaleout lb` process on free ports (listener
                             and admin), started with --listen/--admin-port
                             unless a config file says otherwise; readiness by
                             polling; stop with SIGTERM then SIGKILL, by PID
  Client(port)               fast keep-alive client (http.client) that also
                             reconnects when the server closed
  raw(port, data)            send raw bytes, read until close or a full response
  h2_frame, h2_read_frames   raw HTTP/2 (h2c) frames: write one, read what comes
  wait_until(pred, timeout)  bounded polling, never a fixed sleep

Every socket has a timeout and every wait is bounded, so a hung process fails
a test instead of hanging the suite. Only PIDs started here are signalled.
"""
import http.client
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from proc_helpers import free_port, scaleout_bin, wait_until  # noqa: F401 (re-exported)

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]


# ---------------------------------------------------------------------------
# the backend (script mode)
# ---------------------------------------------------------------------------

def run_backend(port, ident, delay_ms=0):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"healthy": True, "requests": 0, "connections": 0, "closed": 0, "log": []}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lbtest"
        wbufsize = 65536   # head and body in one write (flushed after each request)

        def log_message(self, *a):
            pass

        def setup(self):
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with lock:
                state["connections"] += 1

        def finish(self):
            try:
                super().finish()
            finally:
                if getattr(self, "counted", False):
                    with lock:
                        state["closed"] += 1

        def handle_expect_100(self):
            ok = super().handle_expect_100()
            self.wfile.flush()
            return ok

        def send(self, code, body=b"", ctype="text/plain", extra=()):
            if isinstance(body, str):
                body = body.encode()
            self.send_response(code)
            self.send_header("X-Backend", ident)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def read_body(self):
            """Yields body pieces as they arrive (Content-Length or chunked)."""
            te = self.headers.get("Transfer-Encoding", "")
            if "chunked" in te.lower():
                while True:
                    line = self.rfile.readline()
                    size = int(line.split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return
                    left = size
                    while left:
                        piece = self.rfile.read(min(left, 65536))
                        if not piece:
                            return
                        left -= len(piece)
                        yield piece
                    self.rfile.readline()
            else:
                left = int(self.headers.get("Content-Length") or 0)
                while left:
                    piece = self.rfile.read(min(left, 65536))
                    if not piece:
                        return
                    left -= len(piece)
                    yield piece

        def handle_any(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            path = u.path
            if path.startswith("/_ctl/"):
                if path == "/_ctl/health":
                    state["healthy"] = q.get("state", "up") == "up"
                    return self.send(200, "ok")
                if path == "/_ctl/stats":
                    with lock:
                        body = json.dumps({"requests": state["requests"], "connections": state["connections"],
                                           "closed": state["closed"], "log": state["log"][-2000:]})
                    return self.send(200, body, "application/json")
                return self.send(404, "no")
            if path == "/health":
                return self.send(200 if state["healthy"] else 503, "ok" if state["healthy"] else "down")
            self.counted = True
            with lock:
                state["requests"] += 1
                state["log"].append(self.requestline)
            if path == "/echo":
                self.send_response(200)
                self.send_header("X-Backend", ident)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in self.read_body():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
                return
            body = b"".join(self.read_body())
            if path == "/slow":
                time.sleep(int(q.get("ms", "100")) / 1000)
                return self.send(200, ident)
            if path == "/headers":
                return self.send(200, json.dumps({k.lower(): v for k, v in self.headers.items()}),
                                 "application/json")
            if path == "/status":
                return self.send(int(q.get("code", "200")), ident)
            if path == "/resp-header":
                return self.send(200, "ok", extra=list(q.items()))
            if path == "/big":
                n = int(q.get("n", "1000000"))
                self.send_response(200)
                self.send_header("X-Backend", ident)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pat = (b"0123456789" * 6554)[:65536]
                left = n
                while left:
                    k = min(left, len(pat))
                    self.wfile.write(b"%x\r\n%s\r\n" % (k, pat[:k]))
                    left -= k
                self.wfile.write(b"0\r\n\r\n")
                return
            if path == "/close":
                self.close_connection = True
                return self.send(200, ident, extra=[("Connection", "close")])
            if path == "/len":
                return self.send(200, str(len(body)))
            if delay_ms:
                time.sleep(delay_ms / 1000)
            return self.send(200, ident)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256
        allow_reuse_address = True

    srv = Server((HOST, port), Handler)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    srv.serve_forever()


# ---------------------------------------------------------------------------
# processes
# ---------------------------------------------------------------------------

_live = []


def _stop_proc(proc, timeout=5.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


def stop_all():
    for p in list(_live):
        p.stop()


class Backend:
    def __init__(self, ident, port=None, delay_ms=0):
        self.id = ident
        self.port = port
        self.delay_ms = delay_ms
        self.proc = None

    @property
    def addr(self):
        return f"{HOST}:{self.port}"

    def start(self):
        for attempt in range(3):
            if self.port is None or attempt:
                self.port = free_port()
            self.proc = subprocess.Popen([sys.executable, str(HERE / "lb_helpers.py"), "backend", "--port",
                                          str(self.port), "--id", self.id, "--delay", str(self.delay_ms)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            if self not in _live:
                _live.append(self)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    self.stats()
                    return self
                except OSError:
                    time.sleep(0.02)
        raise AssertionError(f"backend {self.id} did not start")

    def request(self, path, timeout=5):
        c = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def stats(self):
        return json.loads(self.request("/_ctl/stats")[1])

    def set_health(self, up):
        self.request("/_ctl/health?state=" + ("up" if up else "down"))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self):
        _stop_proc(self.proc)
        if self in _live:
            _live.remove(self)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def start_backends(n, prefix="b"):
    return [Backend(f"{prefix}{i + 1}").start() for i in range(n)]


class Lb:
    """One scaleout lb process. flags: extra command-line words. config: text
    of a config file (written to workdir); its listener must use {port} and
    may use {b1}, {b2}... (filled by start()). """

    def __init__(self, workdir, *flags, config=None, listen=True, fmt=None, port=None, admin_port=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.flags = [str(f) for f in flags]
        self.config = config
        self.listen = listen
        self.fmt = dict(fmt or {})
        self.port = port
        self.admin_port = admin_port
        self.proc = None
        self.log_path = self.workdir / "lb.log"
        self.conf_path = self.workdir / "lb.conf"

    def argv(self):
        a = [str(scaleout_bin()), "lb"]
        if self.config is not None:
            a += ["--config", str(self.conf_path)]
        if self.listen:
            a += ["--listen", f"{HOST}:{self.port}"]
        a += ["--admin-port", str(self.admin_port)] + self.flags
        # LB_THREADS=N runs every lb with N threads (a stress setting for the
        # thread-shared paths; exact-order assertions assume one thread)
        if os.environ.get("LB_THREADS") and "--threads" not in self.flags:
            a += ["--threads", os.environ["LB_THREADS"]]
        return a

    def write_config(self, text=None):
        if text is not None:
            self.config = text
        self.conf_path.write_text(self.config.format(port=self.port, admin=self.admin_port, **self.fmt))

    def start(self, expect_fail=False):
        for attempt in range(3):
            if self.port is None or attempt:
                self.port = free_port()
            if self.admin_port is None or attempt:
                self.admin_port = free_port()
            if self.config is not None:
                self.write_config()
            log = open(self.log_path, "ab")
            log.write(("$ " + " ".join(self.argv()) + "\n").encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
            log.close()
            if self not in _live:
                _live.append(self)
            if expect_fail:
                self.proc.wait(10)
                return self
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    self.status()
                    return self
                except OSError:
                    time.sleep(0.02)
            if "in use" not in self.log_tail():
                break
        raise AssertionError(f"lb did not start:\n{self.log_tail()}")

    def stop(self):
        _stop_proc(self.proc)
        if self in _live:
            _live.remove(self)
        return self.proc.returncode if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid

    def log_tail(self, n=20000):
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return "(no log)"

    # -- admin ------------------------------------------------------------
    def admin(self, method, path, token=None, body=None, timeout=5):
        c = http.client.HTTPConnection(HOST, self.admin_port, timeout=timeout)
        try:
            hdrs = {}
            if token:
                hdrs["Authorization"] = "Bearer " + token
            if body is not None:
                hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            return r.status, data
        finally:
            c.close()

    def status(self):
        code, data = self.admin("GET", "/status")
        assert code == 200, data
        return json.loads(data)

    def metrics(self):
        code, data = self.admin("GET", "/metrics")
        assert code == 200
        out = {}
        for line in data.decode().splitlines():
            if not line or line.startswith("#"):
                continue
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
        return out

    def backend_state(self, pool="default"):
        """{backend name: state} of a pool, from /status."""
        for p in self.status()["pools"]:
            if p["name"] == pool:
                return {b["name"]: b["state"] for b in p["backends"]}
        return {}

    def url(self, path="/"):
        return f"http://{HOST}:{self.port}{path}"


# ---------------------------------------------------------------------------
# clients
# ---------------------------------------------------------------------------

class Client:
    """Keep-alive HTTP client on http.client; reconnects when the server closed."""

    def __init__(self, port, timeout=10, source=None):
        self.port = port
        self.timeout = timeout
        self.source = source
        self.conn = None
        self.connects = 0

    def request(self, method="GET", path="/", body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout,
                                                       source_address=(self.source, 0) if self.source else None)
                self.connects += 1
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                if r.will_close:
                    self.close()
                return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                # a keep-alive connection closed by the server between requests
                self.close()
                if attempt:
                    raise e

    def get(self, path="/", headers=None):
        return self.request("GET", path, headers=headers)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def raw(port, data, timeout=5.0, until_close=False, shut=False):
    """Sends data; returns what comes back: one complete response (by
    Content-Length) unless until_close, in which case everything until the
    server closes. Raises on timeout."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        buf = b""
        deadline = time.monotonic() + timeout
        while True:
            if not until_close and b"\r\n\r\n" in buf:
                head, _, rest = buf.partition(b"\r\n\r\n")
                cl = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        cl = int(v.strip())
                if len(rest) >= cl:
                    return buf
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout(f"no complete answer in {timeout}s; got {buf[:300]!r}")
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                return buf
            if not chunk:
                return buf
            buf += chunk
    finally:
        s.close()


# raw HTTP/2 frames (RFC 9113 4.1), for the h2c tests
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def h2_frame(ftype, flags, stream, payload=b""):
    """One frame: 24-bit length, type, flags, 31-bit stream id, payload."""
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def h2_read_frames(sock, until_type=None, timeout=10, done=None):
    """Frames (type, flags, stream, payload) the server sends on sock, in
    order, until a frame of until_type arrived, done(frames) is true (both
    checked after each read), the connection closes or timeout passes."""
    sock.settimeout(timeout)
    buf = b""
    frames = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9:
            n = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + n:
                break
            frames.append((buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + n]))
            buf = buf[9 + n:]
        if until_type is not None and any(f[0] == until_type for f in frames):
            break
        if done is not None and done(frames):
            break
    return frames


def status_of(resp):
    """Status code of a raw response, 0 if none."""
    if not resp.startswith(b"HTTP/1."):
        return 0
    return int(resp.split(b" ", 2)[1])


def header_of(resp, name):
    head = resp.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == name.lower().encode():
            return v.strip().decode()
    return None


def count_ids(port, n, path="/", headers_fn=None, threads=4):
    """n GETs through port on `threads` keep-alive clients; {body: count}."""
    counts = {}
    lock = threading.Lock()
    errors = []

    def work(k):
        c = Client(port)
        local = {}
        try:
            for i in range(k):
                hdrs = headers_fn(i) if headers_fn else None
                st, _, body = c.get(path, hdrs)
                key = body.decode() if st == 200 else f"status-{st}"
                local[key] = local.get(key, 0) + 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            c.close()
        with lock:
            for k2, v in local.items():
                counts[k2] = counts.get(k2, 0) + v

    per = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    ts = [threading.Thread(target=work, args=(k,)) for k in per]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    if errors:
        raise errors[0]
    return counts


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "backend":
        args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
        run_backend(int(args["--port"]), args["--id"], int(args.get("--delay", "0")))
    else:
        print(__doc__)


# ---------------------------------------------------------------------------
# pytest fixtures (import them into a test module: from lb_helpers import *)
# ---------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # script mode
    pytest = None

if pytest is not None:
    @pytest.fixture
    def backends():
        """backends(n, prefix="b") -> n started Backend processes; all stopped at the end."""
        started = []

        def start(n, prefix="b", delays=None):
            bs = [Backend(f"{prefix}{len(started) + i + 1}", delay_ms=(delays or [0] * n)[i]).start()
                  for i in range(n)]
            started.extend(bs)
            return bs

        yield start
        for b in started:
            b.stop()

    @pytest.fixture
    def lb(tmp_path, request):
        """lb(*flags, config=None, **kw) -> a started Lb; all stopped at the end. A
        test during which an lb died unexpectedly fails with its log."""
        started = []

        def start(*flags, config=None, expect_fail=False, **kw):
            x = Lb(tmp_path / f"lb{len(started)}", *flags, config=config, **kw)
            started.append(x)
            return x.start(expect_fail=expect_fail)

        yield start
        dead = [x for x in started if x.proc and x.proc.poll() not in (None, 0) and not getattr(x, "expect_exit", False)
                and x.proc.returncode != 2]
        for x in started:
            x.stop()
        if dead:
            pytest.fail(f"lb exited with {dead[0].proc.returncode}:\n{dead[0].log_tail()}")

    @pytest.fixture(autouse=True)
    def _skip_without_binary():
        if not scaleout_bin().exists():
            pytest.skip(f"scaleout binary {scaleout_bin()} not built")
