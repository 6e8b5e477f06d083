"""
up_helpers.py — harness of the app, worker and up integration tests.

  Proc(name, argv, port)   one process with its log in a file; started with
                           bounded readiness polling (TCP connect, or the
                           process's own check), stopped with SIGTERM then
                           SIGKILL, by PID only
  Postgres(dir)            a PostgreSQL 15 server from a fresh data directory
                           (initdb), as user postgres when the tests run as
                           root (postgres refuses root); fails, never skips,
                           when the binaries are missing
  Http(port)               keep-alive JSON client (requests.Session) with a
                           cookie jar and a timeout on every call
  world_dir()              a temporary directory the postgres user can reach
                           (pytest's tmp_path is 0700 under root)

Every wait is bounded polling; nothing sleeps a fixed time before an assert.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from proc_helpers import HOST, REPO_ROOT, free_port, scaleout_bin, wait_until  # noqa: F401

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def tcp_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def world_dir(prefix):
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return Path(d)


class Proc:
    def __init__(self, name, argv, port=None, logdir=None, user=None, cwd=None):
        self.name, self.argv, self.port, self.cwd = name, [str(a) for a in argv], port, cwd
        self.logdir = Path(logdir or tempfile.gettempdir())
        self.log_path = self.logdir / f"{name}.log"
        self.user = user
        self.p = None

    def start(self, timeout=30.0, ready=None):
        log = open(self.log_path, "ab")
        kw = {}
        if self.user is not None:
            pw = pwd.getpwnam(self.user)
            kw = {"user": pw.pw_uid, "group": pw.pw_gid}
        self.p = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.cwd,
                                  **kw)
        log.close()
        check = ready or (lambda: tcp_open(self.port) if self.port else True)

        def ok():
            if self.p.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.p.returncode}:\n{self.log_tail()}")
            return check()
        wait_until(ok, timeout=timeout, what=f"{self.name} ready")
        return self

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if not self.alive():
            return self.p.returncode if self.p else None
        self.p.send_signal(sig)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(5)
            return None

    def log_tail(self, n=4000):
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


class Postgres:
    """PostgreSQL from a fresh data directory on a free port (trust auth, user postgres)."""

    def __init__(self, base):
        self.base = Path(base)
        self.port = free_port()
        self.data = self.base / "pgdata"
        self.user = "postgres" if os.geteuid() == 0 else None
        self.proc = None

    def start(self):
        assert (PG_BIN / "initdb").exists(), "PostgreSQL 15 is not installed (scripts/install-deps.sh installs postgresql-15)"
        self.data.mkdir(mode=0o700)
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.data, pw.pw_uid, pw.pw_gid)
        init = Proc("initdb", [PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                               "--no-sync"], logdir=self.base, user=self.user)
        init.start(ready=lambda: True)
        assert init.p.wait(60) == 0, init.log_tail()
        self.proc = Proc("postgres", [PG_BIN / "postgres", "-D", self.data, "-p", self.port, "-c",
                                      "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "fsync=off"],
                         port=self.port, logdir=self.base, user=self.user)
        self.proc.start()
        return self

    @property
    def conninfo(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=5"

    def stop(self):
        if self.proc:
            self.proc.stop(signal.SIGINT)


class Http:
    def __init__(self, port, timeout=10):
        self.base = f"http://{HOST}:{port}"
        self.s = requests.Session()
        self.timeout = timeout

    def get(self, path, **kw):
        return self.s.get(self.base + path, timeout=self.timeout, **kw)

    def post(self, path, json=None, data=None, **kw):
        return self.s.post(self.base + path, json=json, data=data, timeout=self.timeout, **kw)

    def put(self, path, json=None, **kw):
        return self.s.put(self.base + path, json=json, timeout=self.timeout, **kw)

    def login(self, user):
        r = self.post("/login", json={"user": user})
        assert r.status_code == 200, r.text
        return r


def app_status(admin_port):
    return requests.get(f"http://{HOST}:{admin_port}/status", timeout=5).json()


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_reports(base):
    """Log files under base that hold an ASan/LSan/UBSan report (make asan)."""
    bad = []
    for f in Path(base).rglob("*.log"):
        try:
            text = f.read_text(errors="replace")
        except OSError:
            continue
        if any(m in text for m in SANITIZER_MARKS):
            bad.append(f"{f.name}: {text[-3000:]}")
    return bad


def rmtree(p):
    shutil.rmtree(p, ignore_errors=True)
