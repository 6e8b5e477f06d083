"""
scaleout lb as a process: --threads N, several lb processes sharing one port
(SO_REUSEPORT) so that one can die with no outage, SIGHUP reloading the file
without dropping established connections or in-flight requests, and SIGTERM
letting in-flight requests finish.
"""
import signal
import socket
import threading
import time

import pytest

from lb_helpers import (HOST, Client, Lb, backends, count_ids, lb, raw, status_of,  # noqa: F401
                        _skip_without_binary, wait_until, free_port)


def test_threads_share_the_work(backends, lb):
    b = backends(2)
    x = lb("--backend", f"{b[0].addr} weight 3", "--backend", b[1].addr, "--balance", "wrr", "--threads", "2")
    counts = count_ids(x.port, 4000, threads=8)
    assert abs(counts.get("b1", 0) / 4000 - 0.75) <= 0.03, counts
    m = x.metrics()
    assert sum(v for k, v in m.items() if k.startswith("scaleout_lb_backend_requests_total")) == 4000
    assert x.status()["threads"] == 2


def test_two_processes_share_a_port_and_one_dies(backends, lb):
    b = backends(2)
    port = free_port()
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--reuseport", "yes", port=port)
    y = lb("--backend", b[0].addr, "--backend", b[1].addr, "--reuseport", "yes", port=port)
    for _ in range(100):
        assert raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", until_close=True)
    ax = x.status()["listeners"][0]["connections"]
    ay = y.status()["listeners"][0]["connections"]
    assert ax + ay == 100 and ax > 10 and ay > 10, (ax, ay)
    # kill one under load: new connections go to the survivor
    stop = time.monotonic() + 2.0
    res = {"ok": 0, "failed": 0}

    def client():
        while time.monotonic() < stop:
            try:
                r = raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", until_close=True, timeout=3)
                res["ok" if status_of(r) == 200 else "failed"] += 1
            except OSError:
                res["failed"] += 1

    ts = [threading.Thread(target=client) for _ in range(4)]
    for t in ts:
        t.start()
    wait_until(lambda: res["ok"] >= 20, 5, what="traffic through both processes")
    x.proc.kill()
    x.expect_exit = True
    for t in ts:
        t.join(10)
    total = res["ok"] + res["failed"]
    # only connections already queued on the killed process can fail
    assert res["failed"] <= max(4, total * 0.01), res
    for _ in range(50):
        assert status_of(raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", until_close=True)) == 200


@pytest.mark.parametrize("threads", ["1", "2"])
def test_second_lb_on_a_held_port_is_refused(backends, lb, threads):
    """Without `reuseport yes` a second lb on a port a running lb holds exits
    with an error (as kv does) instead of silently sharing its traffic; with
    the flag on both they share it; one that asks to join an lb that did not
    is refused too."""
    b = backends(2)
    port = free_port()
    x = lb("--backend", b[0].addr, "--threads", threads, port=port)
    y = lb("--backend", b[1].addr, "--threads", threads, port=port, expect_fail=True)
    y.expect_exit = True
    assert y.proc.returncode not in (0, None)
    assert "Address already in use" in y.log_tail() and "reuseport" in y.log_tail()
    z = lb("--backend", b[1].addr, "--threads", threads, "--reuseport", "yes", port=port, expect_fail=True)
    z.expect_exit = True
    assert z.proc.returncode not in (0, None), "joined a port whose owner did not ask to share it"
    # every connection still reaches the first lb's backend
    for _ in range(20):
        assert raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", until_close=True).endswith(b"b1")
    assert x.status()["listeners"][0]["connections"] == 20
    x.stop()
    # both asking: they share
    p = lb("--backend", b[0].addr, "--threads", threads, "--reuseport", "yes", port=port)
    q = lb("--backend", b[1].addr, "--threads", threads, "--reuseport", "yes", port=port)
    seen = set()
    for _ in range(100):
        seen.add(raw(port, b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", until_close=True)[-2:])
        if len(seen) == 2:
            break
    assert seen == {b"b1", b"b2"}
    p.stop()
    q.stop()


CONF = """
role lb
admin-token t
pool app
    balance {balance}
    {backends}
listener web 127.0.0.1:{port}
    default-pool app
{extra}
"""


def test_sighup_reload_keeps_connections(backends, lb):
    b = backends(3, delays=[0, 0, 0])
    slow = backends(1, prefix="slow", delays=[1200])[0]
    fmt = {"balance": "roundrobin", "backends": f"backend {b[0].addr}\n    backend {slow.addr}", "extra": ""}
    x = lb(config=CONF, listen=False, fmt=fmt)
    held = Client(x.port)
    while held.get("/")[2] != b"b1":
        pass
    # a slow request in flight on the backend that the new file removes
    inflight = {}

    def slow_get():
        c = Client(x.port)
        while True:
            st, _, body = c.get("/")
            if body != b"b1":
                inflight["r"] = (st, body)
                return

    t = threading.Thread(target=slow_get)
    t.start()
    wait_until(lambda: any(p["active"] for p in x.status()["pools"][0]["backends"]), 3)
    port2 = free_port()
    fmt.update(balance="wrr", backends=f"backend {b[0].addr} weight 1\n    backend {b[1].addr} weight 3",
               extra=f"listener second 127.0.0.1:{port2}\n    default-pool app\n")
    x.fmt = fmt
    x.write_config()
    x.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: x.status()["reloads"] == 1, 3, what="reload")
    t.join(5)
    assert inflight["r"] == (200, b"slow4"), "the in-flight request was cut by the reload"
    # the established connection still works, and sees the new pool
    got = [held.get("/")[2].decode() for _ in range(8)]
    assert held.connects == 1
    assert got.count("b2") == 6 and got.count("b1") == 2, got
    assert Client(port2).get("/")[0] == 200
    assert {p["name"] for p in x.status()["pools"][0]["backends"]} == {b[0].addr, b[1].addr}
    # a broken file is not applied
    x.conf_path.write_text("role lb\npool app\n  balance nonsense\n")
    x.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "configuration not reloaded" in x.log_tail(), 3)
    assert x.status()["reloads"] == 1
    assert held.get("/")[0] == 200


def test_sigterm_lets_inflight_requests_finish(backends, lb):
    b = backends(1, delays=[800])
    x = lb("--backend", b[0].addr)
    out = {}

    def one():
        out["r"] = Client(x.port).get("/")[:3:2]

    t = threading.Thread(target=one)
    t.start()
    wait_until(lambda: x.status()["pools"][0]["backends"][0]["active"] == 1, 3)
    x.proc.send_signal(signal.SIGTERM)
    t.join(5)
    assert out["r"] == (200, b"b1")
    assert x.proc.wait(5) == 0
    # it stopped accepting at once
    try:
        socket.create_connection((HOST, x.port), timeout=1).close()
        refused = False
    except OSError:
        refused = True
    assert refused
