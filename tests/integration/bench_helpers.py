"""
bench_helpers.py — harness of the `scaleout bench` integration tests.

Real servers on 127.0.0.1, free ports, bounded readiness polls, and stops by
PID (SIGTERM, then SIGKILL) of processes started here only:

  NginxServer    Debian's nginx with a temporary config (one worker, static
                 files, an access log whose lines count the requests served)
  RedisServer    Debian's redis-server (--save '' --appendonly no)
  TestHttpServer this file run as a script: a small asyncio HTTP/1.1 server
                 (keep-alive) with paths for status codes, chunked bodies,
                 close-delimited bodies, a request that never answers, a body
                 check, and /__count (requests served so far, not counted)
  run_bench()    runs `scaleout bench ... --json FILE` with a time limit and
                 returns the exit status, stdout, stderr and the parsed JSON

Nothing sleeps to wait for a server: readiness is polled with a deadline.
"""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from proc_helpers import free_port, scaleout_bin, wait_until  # noqa: F401 (re-exported)

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def find_tool(name):
    """A program on PATH or in /usr/sbin (nginx lives there), or None."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")


def port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def stop_pid(proc, timeout=5.0):
    """SIGTERM a process we started, then SIGKILL after `timeout` s."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout)


class _Server:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = None
        self.proc = None
        self.log = self.workdir / "server.log"

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        stop_pid(self.proc)

    def log_tail(self):
        try:
            return self.log.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    def _start(self, argv, ready):
        for attempt in range(3):
            self.port = free_port()
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(argv(), stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, cwd=self.workdir)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if ready():
                    return self
                time.sleep(0.02)
            self.stop()
            if attempt == 2:
                raise AssertionError(f"server did not start:\n{self.log_tail()}")
        return self


class NginxServer(_Server):
    """nginx serving `files` (name -> bytes) from a fresh root."""

    def __init__(self, workdir, files=None):
        super().__init__(workdir)
        self.root = self.workdir / "www"
        self.root.mkdir(exist_ok=True)
        for name, data in (files or {"index.html": b"hello from nginx\n"}).items():
            (self.root / name).write_bytes(data)
        self.access_log = self.workdir / "access.log"

    def start(self):
        nginx = find_tool("nginx")

        def argv():
            conf = self.workdir / "nginx.conf"
            # as root, workers would switch to `nobody`, who cannot read pytest's
            # private tmp dirs: keep them as the invoking user
            user = "user root;" if os.geteuid() == 0 else ""
            conf.write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {self.workdir}/nginx.pid;
error_log {self.workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {self.access_log};
    keepalive_requests 100000;
    server {{
        listen {HOST}:{self.port};
        location / {{ root {self.root}; }}
    }}
}}
""")
            return [nginx, "-p", str(self.workdir), "-c", str(conf)]

        return self._start(argv, lambda: port_open(self.port))

    def requests_logged(self):
        try:
            with open(self.access_log, "rb") as f:
                return sum(1 for _ in f)
        except OSError:
            return 0


class RedisServer(_Server):
    def __init__(self, workdir, extra=()):
        super().__init__(workdir)
        self.extra = [str(a) for a in extra]

    def start(self):
        def argv():
            return [find_tool("redis-server"), "--port", str(self.port), "--bind", HOST, "--save", "",
                    "--appendonly", "no"] + self.extra

        def ready():
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    return s.recv(64)[:1] in (b"+", b"-")
            except OSError:
                return False

        return self._start(argv, ready)

    def cmd(self, *args):
        """One command over a fresh connection; returns the reply: bytes for
        a bulk, int for an integer, str for a status, None for a null."""
        with socket.create_connection((HOST, self.port), timeout=5) as s:
            parts = [a.encode() if isinstance(a, str) else a for a in args]
            s.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in parts))
            data = b""
            while True:
                end = data.find(b"\r\n")
                if end >= 0:
                    kind, line = data[:1], data[1:end]
                    if kind == b"$":
                        n = int(line)
                        if n < 0:
                            return None
                        if len(data) >= end + 2 + n + 2:
                            return data[end + 2:end + 2 + n]
                    elif kind == b":":
                        return int(line)
                    elif kind == b"-":
                        raise AssertionError(f"error reply: {line.decode()}")
                    else:
                        return line.decode()
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise AssertionError("connection closed")
                data += chunk

    def info(self, section):
        raw = self.cmd("INFO", section).decode()
        out = {}
        for line in raw.split("\r\n")[1:]:
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out

    def dbsize(self):
        return self.cmd("DBSIZE")


class TestHttpServer(_Server):
    """This file as a script: `python3 bench_helpers.py serve PORT`."""

    __test__ = False  # not a pytest class

    def start(self):
        return self._start(lambda: [sys.executable, str(Path(__file__).resolve()), "serve", str(self.port)],
                           lambda: port_open(self.port))

    def count(self):
        with socket.create_connection((HOST, self.port), timeout=5) as s:
            s.sendall(b"GET /__count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return int(data.split(b"\r\n\r\n", 1)[1])


def run_bench(tmp_path, *args, timeout=60, json_name="out.json"):
    """Runs scaleout bench with --json; returns (returncode, stdout, stderr, report or None)."""
    out = Path(tmp_path) / json_name
    if out.exists():
        out.unlink()
    argv = [str(scaleout_bin()), "bench", *[str(a) for a in args], "--json", str(out)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    report = json.loads(out.read_text()) if out.exists() else None
    return p.returncode, p.stdout, p.stderr, report


def start_bench(tmp_path, *args, json_name="out.json"):
    """Starts scaleout bench in the background; finish with finish_bench()."""
    out = Path(tmp_path) / json_name
    argv = [str(scaleout_bin()), "bench", *[str(a) for a in args], "--json", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    return proc, out


def finish_bench(proc, out, timeout=60):
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    report = json.loads(Path(out).read_text()) if Path(out).exists() else None
    return proc.returncode, stdout, stderr, report


def accounted(step):
    """Requests sent are all accounted for: answered, lost or cancelled."""
    e = step["errors"]
    return step["sent"] == step["requests"] + e["timeout"] + e["closed"] + e["protocol"] + step["cancelled"]


# --------------------------------------------------------------------------
# the test HTTP server (run as a script)
# --------------------------------------------------------------------------

_served = 0


async def _handle(reader, writer):
    global _served
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            method, path, _ = lines[0].split(b" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    k, v = line.split(b":", 1)
                    headers[k.strip().lower()] = v.strip()
            n = int(headers.get(b"content-length", b"0"))
            body = await reader.readexactly(n) if n else b""
            p = path.decode()
            if p == "/__count":
                data = str(_served).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (len(data), data))
                await writer.drain()
                break
            _served += 1
            if p.startswith("/status/"):
                code = int(p[8:])
                writer.write(b"HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nno" % code)
            elif p == "/hang":
                await asyncio.sleep(3600)
            elif p == "/chunked":
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
            elif p == "/close":
                writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close")
                await writer.drain()
                break
            elif p == "/echo":
                good = (method == b"POST" and headers.get(b"x-test") == b"yes please"
                        and body == b"payload-123\n" and headers.get(b"host", b"").startswith(b"127.0.0.1:"))
                writer.write(b"HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n" % (200 if good else 400))
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def _serve(port):
    server = await asyncio.start_server(_handle, HOST, port, backlog=512)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        asyncio.run(_serve(int(sys.argv[2])))
