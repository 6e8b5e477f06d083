"""
test_kv_monitor.py — MONITOR on scaleout kv, proven by difference against
Debian's redis-server: the same commands run on each while a MONITOR client
listens, and the lines it got are compared (the time stamp and the client's
port, which differ by nature, are masked):

  - quoting as Redis's sdscatrepr (quotes, backslashes, control bytes);
  - AUTH's and HELLO AUTH's secrets shown as "(redacted)";
  - admin commands (CONFIG, DEBUG...), unknown commands and commands refused
    for their arity are not shown; a command that fails as it runs is;
  - a script's line comes before the commands it runs, shown as [db lua];
    EXEC's after its commands; SELECT moves the database number;
  - the monitor's own commands: the reply, then its line; a second MONITOR
    answers nothing; RESET leaves MONITOR; CLIENT LIST flags it O; admin subcommands (CLIENT
    LIST, SLOWLOG RESET) are not shown, others of the same command are.

The end of a run is a positive signal: an ECHO with a marker, whose line the
monitor waits for (no sleeps).
"""
import re
import socket

import pytest

from conftest import REDIS_SERVER, wait_until

HOST = "127.0.0.1"
STAMP = re.compile(rb"^\+\d+\.\d{6} \[(\d+) ([^\]]+)\]")


@pytest.fixture
def launch(launch_in_dir):
    return launch_in_dir


class Monitor:
    def __init__(self, port):
        self.s = socket.create_connection((HOST, port), timeout=10)
        self.buf = b""
        self.s.sendall(b"MONITOR\r\n")
        assert self.line() == b"+OK"

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            assert chunk, "monitor closed"
            self.buf += chunk
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def until(self, marker):
        """Lines up to the ECHO marker's, time and client port masked."""
        out = []
        while True:
            ln = self.line()
            m = STAMP.match(ln)
            if not m:
                out.append(ln)
                continue
            who = m.group(2) if m.group(2) == b"lua" else b"client"
            masked = b"[" + m.group(1) + b" " + who + b"]" + ln[m.end():]
            if marker in ln:
                return out
            out.append(masked)


def script(c):
    """The commands both servers run while monitored (a raw RESP connection)."""
    def cmd(*args):
        c.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return read_reply(c)
    cmd(b"SET", b"a", b'x y"z\\')
    cmd(b"GET", b"a")
    cmd(b"SET", b"bin", b"a\x01b\nc\r\t\x07\x08\xff")
    cmd(b"EVAL", b"redis.call('set', KEYS[1], ARGV[1]) return redis.call('get', KEYS[1])", b"1", b"k", b"v")
    cmd(b"MULTI")
    cmd(b"INCR", b"n")
    cmd(b"LPUSH", b"l", b"1")
    cmd(b"EXEC")
    cmd(b"AUTH", b"nosuchuser", b"secret")
    cmd(b"HELLO", b"2", b"AUTH", b"nosuchuser", b"secret")
    cmd(b"CONFIG", b"GET", b"maxmemory")
    cmd(b"NOSUCHCOMMAND", b"x")
    cmd(b"GET")
    cmd(b"INCR", b"a")  # fails as it runs (not an integer): shown
    cmd(b"SELECT", b"1")
    cmd(b"SET", b"db1", b"1")
    cmd(b"SELECT", b"0")


def read_reply(s):
    """One RESP2 reply from s (enough of the protocol for the script)."""
    data = b""

    def more():
        nonlocal data
        chunk = s.recv(65536)
        assert chunk
        data += chunk

    def parse(i):
        while b"\r\n" not in data[i:]:
            more()
        j = data.index(b"\r\n", i)
        kind, rest = data[i:i + 1], data[i + 1:j]
        if kind in (b"+", b"-", b":"):
            return j + 2
        n = int(rest)
        if kind == b"$":
            if n < 0:
                return j + 2
            while len(data) < j + 2 + n + 2:
                more()
            return j + 2 + n + 2
        k = j + 2
        for _ in range(max(n, 0)):
            k = parse(k)
        return k
    parse(0)
    return data


def test_monitor_lines_like_redis(launch):
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    seen = {}
    for kind in ("redis", "scaleout"):
        srv = launch(kind, f"{kind}-mon")
        mon = Monitor(srv.port)
        c = socket.create_connection((HOST, srv.port), timeout=10)
        script(c)
        c.sendall(b"ECHO end-of-script-1\r\n")
        read_reply(c)
        out = mon.until(b"end-of-script-1")
        # the monitor's own commands: the reply first, then the line; a
        # second MONITOR answers nothing (the PING after it answers)
        mon.s.sendall(b"MONITOR\r\nPING\r\n")
        own = [mon.line(), STAMP.sub(lambda m: b"[" + m.group(1) + b" client]", mon.line())]
        # SLOWLOG RESET is an admin command (not shown), CLIENT GETNAME is not
        mon.s.sendall(b"SLOWLOG RESET\r\nCLIENT GETNAME\r\n")
        own += mon.until(b'"GETNAME"')
        listed = srv.client().execute_command("CLIENT", "LIST").decode()
        c.sendall(b"ECHO end-of-script-2\r\n")
        read_reply(c)
        out2 = mon.until(b"end-of-script-2")
        # RESET leaves MONITOR: the next line the old monitor reads is its own PONG
        mon.s.sendall(b"RESET\r\n")
        assert mon.line() == b"+RESET"
        c.sendall(b"SET after-reset 1\r\n")
        read_reply(c)
        mon.s.sendall(b"PING\r\n")
        after_reset = mon.line()
        seen[kind] = {"lines": out, "own": own, "after": out2, "after_reset": after_reset,
                      "flag_O": any("flags=O" in ln and "cmd=ping" in ln for ln in listed.splitlines())}
        c.close()
        mon.s.close()
    assert seen["scaleout"] == seen["redis"], seen
    lines = seen["redis"]["lines"]
    assert b'[0 lua] "set" "k" "v"' in lines and b'[0 client] "AUTH" "(redacted)" "(redacted)"' in lines, lines
