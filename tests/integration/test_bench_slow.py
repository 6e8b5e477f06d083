"""
test_bench_slow.py — `scaleout bench --slow N URL`, the slow-client generator
of bench/slow-clients.sh, against real servers on 127.0.0.1:

  - resp against `scaleout kv`: INFO clients shows the N connections, the
    partial SET never completes (no SET call, no key), and the summary counts
    N opened and no reconnect;
  - http against `scaleout lb` with a short timeout-header: the lb cuts each
    slow head with 408 and the generator connects again (reconnects counted);
  - --slow-tick: the clients due in one tick send together, one per tick by
    default (1 ms) and ten per tick with 10 ms (visits per tick, from the
    generator's own count).

Readiness is the generator's own "ready N" line and bounded polls; nothing
sleeps a fixed time before an assertion.
"""
import re
import signal
import subprocess
import threading

import pytest

from conftest import KvServer, RespConn
from lb_helpers import HOST, backends, lb, _skip_without_binary, wait_until  # noqa: F401
from proc_helpers import scaleout_bin

SUMMARY = re.compile(rb"slow (\w+): (\d+) clients, opened (\d+), reconnects (\d+), connect failures (\d+), "
                     rb"closed by the server (\d+), open at the end (\d+), bytes sent (\d+), "
                     rb"visits (\d+) in (\d+) ticks")


class Slow:
    """A running `scaleout bench --slow N URL ...`; its stdout lines collected."""

    def __init__(self, n, url, *extra):
        self.proc = subprocess.Popen([str(scaleout_bin()), "bench", "--slow", str(n), url] + [str(a) for a in extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip(b"\n"))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise
        self.t.join(5)
        return self.proc.returncode

    def summary(self):
        for line in self.lines:
            m = SUMMARY.fullmatch(line)
            if m:
                g = m.groups()
                return {"proto": g[0].decode(), "clients": int(g[1]), "opened": int(g[2]), "reconnects": int(g[3]),
                        "connect_failures": int(g[4]), "closed": int(g[5]), "open_end": int(g[6]), "bytes": int(g[7]),
                        "visits": int(g[8]), "ticks": int(g[9])}
        raise AssertionError(f"no summary line in {self.lines!r}; stderr {self.proc.stderr.read()!r}")


@pytest.fixture
def kv(tmp_path):
    s = KvServer("scaleout", tmp_path / "kv").start()
    yield s
    alive = s.alive()
    s.stop()
    assert alive, f"kv died:\n{s.log_tail()}"


OPENING = b"*3\r\n$3\r\nSET\r\n$8\r\nslow:key\r\n$1000000\r\n"


def net_in(server):
    return int(server.info("stats")["total_net_input_bytes"])


def timeouts_408(x):
    return sum(v for k, v in x.metrics().items()
               if k.startswith("scaleout_lb_listener_rejected_total") and 'reason="timeout"' in k)


def connected(server):
    return int(server.info("clients")["connected_clients"])


def test_slow_resp_clients_hold_partial_sets(kv):
    n = 60
    in0 = net_in(kv)
    g = Slow(n, f"redis://{HOST}:{kv.port}", "--slow-interval", "100ms", "-d", "60s")
    try:
        wait_until(lambda: f"ready {n}".encode() in g.lines or g.proc.poll() is not None, timeout=20,
                   what="the slow clients to connect")
        assert f"ready {n}".encode() in g.lines, (g.lines, g.proc.poll())
        # the n slow clients, and the INFO connection itself
        assert connected(kv) == n + 1
        # the server reads slow bytes of the value: 5 a client past the opening
        # (total_net_input_bytes counts since start, as Redis's: the growth
        # since before the generator, less what each INFO poll sent)
        polls = [1]

        def slow_bytes():
            polls[0] += 1
            return net_in(kv) - in0 - polls[0] * len(b"*2\r\n$4\r\nINFO\r\n$5\r\nstats\r\n")
        wait_until(lambda: slow_bytes() > n * (len(OPENING) + 5), timeout=20, interval=0.1,
                   what="slow bytes to arrive")
        assert "cmdstat_set" not in kv.info("commandstats")
    finally:
        rc = g.stop()
    assert rc == 0
    s = g.summary()
    assert s["proto"] == "resp" and s["clients"] == n
    assert s["opened"] == n and s["reconnects"] == 0 and s["connect_failures"] == 0
    assert s["open_end"] == n
    assert s["bytes"] >= n * (len(OPENING) + 5), s
    wait_until(lambda: connected(kv) == 1, timeout=10, what="the slow clients to be gone")
    # the server never ran the SET: the command stayed partial
    c = RespConn(kv.port)
    try:
        assert c.cmd("EXISTS", "slow:key") == 0
    finally:
        c.close()
    assert "cmdstat_set" not in kv.info("commandstats")


def test_slow_http_clients_reconnect_after_408(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--timeout-header", "300ms")
    n = 20
    g = Slow(n, f"http://{HOST}:{x.port}/", "--slow-interval", "100ms", "-d", "60s")
    try:
        wait_until(lambda: f"ready {n}".encode() in g.lines or g.proc.poll() is not None, timeout=20,
                   what="the slow clients to connect")
        assert f"ready {n}".encode() in g.lines, (g.lines, g.proc.poll())
        # each head is cut at 300 ms with a 408: wait for the lb to have cut 3n
        wait_until(lambda: timeouts_408(x) >= 3 * n, timeout=20,
                   what="408s at timeout-header")
    finally:
        rc = g.stop()
    assert rc == 0
    s = g.summary()
    assert s["proto"] == "http" and s["clients"] == n
    assert s["reconnects"] >= 2 * n, s
    assert s["closed"] >= 2 * n, s
    assert s["opened"] == n + s["reconnects"], s


def test_slow_needs_a_target_and_no_scenario(tmp_path):
    r = subprocess.run([str(scaleout_bin()), "bench", "--slow", "3"], capture_output=True, timeout=10)
    assert r.returncode == 2 and b"no target" in r.stderr
    r = subprocess.run([str(scaleout_bin()), "bench", "--slow", "-1", "redis://127.0.0.1:1"], capture_output=True,
                       timeout=10)
    assert r.returncode == 2 and b"slow" in r.stderr


@pytest.mark.parametrize("tick,lo,hi", [("10ms", 8.0, None), (None, None, 5.0)])
def test_slow_tick_sets_how_many_send_together(kv, tick, lo, hi):
    # 100 clients, a byte each per 100 ms: one due every 1 ms. With a 10 ms
    # tick ten send together (at least: a late tick takes all that are due);
    # with the default 1 ms tick about one, at most a few when a tick is late.
    n = 100
    extra = ["--slow-interval", "100ms", "-d", "2s"] + (["--slow-tick", tick] if tick else [])
    g = Slow(n, f"redis://{HOST}:{kv.port}", *extra)
    try:
        g.proc.wait(30)
    finally:
        rc = g.stop()
    assert rc == 0
    s = g.summary()
    assert s["opened"] == n and s["visits"] >= 10 * n, s
    per_tick = s["visits"] / s["ticks"]
    if lo is not None:
        assert per_tick >= lo, s
    if hi is not None:
        assert per_tick <= hi, s


@pytest.mark.parametrize("bad", ["0", "1001ms", "2s", "x"])
def test_slow_tick_out_of_range_is_refused(bad):
    r = subprocess.run([str(scaleout_bin()), "bench", "--slow", "1", "redis://127.0.0.1:1/", "--slow-tick", bad],
                       capture_output=True, timeout=10)
    assert r.returncode == 2 and b"slow-tick" in r.stderr, r
