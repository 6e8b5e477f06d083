"""
scaleout lb health: active HTTP and TCP checks (interval, timeout, rise,
fall) take a backend out and bring it back; passive checks eject a backend
after consecutive errors for a growing back-off and return it automatically;
a backend killed (SIGKILL) in the middle of a bounded load costs at most 0.1%
of the requests.
"""
import threading
import time

from lb_helpers import (Backend, Client, backends, count_ids, lb, _skip_without_binary,  # noqa: F401
                        wait_until)


def traffic(port, n=40):
    return count_ids(port, n, threads=2)


def test_active_http_check_down_and_up(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--health", "/health", "--health-interval", "200ms",
           "--health-timeout", "100ms", "--health-rise", "2", "--health-fall", "2")
    wait_until(lambda: x.backend_state() == {b[0].addr: "up", b[1].addr: "up"}, 5)
    b[0].set_health(False)
    t0 = time.monotonic()
    wait_until(lambda: x.backend_state()[b[0].addr] == "down", 3, what="b1 down")
    assert time.monotonic() - t0 < 2 * 0.2 + 0.6   # fall 2 x interval, plus slack
    assert traffic(x.port) == {"b2": 40}
    b[0].set_health(True)
    t0 = time.monotonic()
    wait_until(lambda: x.backend_state()[b[0].addr] == "up", 3, what="b1 up")
    assert time.monotonic() - t0 < 2 * 0.2 + 0.6
    assert traffic(x.port) == {"b1": 20, "b2": 20}
    m = x.metrics()
    key = f'scaleout_lb_backend_health_checks_total{{pool="default",backend="{b[0].addr}",result="failed"}}'
    assert m[key] >= 2


def test_active_check_expects_status(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--health", "http", "/health", "expect", "204", "--health-interval", "200ms",
           "--health-timeout", "100ms")
    wait_until(lambda: x.backend_state()[b[0].addr] == "down", 3)
    st = x.status()["pools"][0]["backends"][0]
    assert st["check"] == "status 200"


def test_active_tcp_check(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--health", "tcp", "--health-interval", "200ms",
           "--health-timeout", "100ms", "--health-rise", "1", "--health-fall", "1", "--passive-fails", "0")
    wait_until(lambda: x.backend_state() == {b[0].addr: "up", b[1].addr: "up"}, 3)
    port = b[0].port
    b[0].kill()
    wait_until(lambda: x.backend_state()[b[0].addr] == "down", 3)
    assert traffic(x.port) == {"b2": 40}
    b0 = Backend("b1", port=port).start()
    try:
        wait_until(lambda: x.backend_state()[b[0].addr] == "up", 3)
        assert traffic(x.port) == {"b1": 20, "b2": 20}
    finally:
        b0.stop()


def test_passive_ejection_backoff_and_return(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--passive-fails", "2", "--eject-time", "600ms",
           "--eject-max", "5s")
    port = b[0].port
    b[0].kill()
    # failures are retried on b2: clients see no error while b1 gets ejected
    assert traffic(x.port, 20) == {"b2": 20}
    assert x.backend_state()[b[0].addr] == "ejected"
    first = x.status()["pools"][0]["backends"][0]["ejected_for_ms"]
    assert 0 < first <= 600
    # still dead when the ejection ends: ejected again, for twice as long
    wait_until(lambda: x.backend_state()[b[0].addr] == "up", 2, what="ejection over")
    wait_until(lambda: traffic(x.port, 10) and x.backend_state()[b[0].addr] == "ejected", 3)
    second = x.status()["pools"][0]["backends"][0]["ejected_for_ms"]
    assert 600 < second <= 1200, second
    # back alive: it returns when the ejection ends, and takes traffic
    b0 = Backend("b1", port=port).start()
    try:
        wait_until(lambda: x.backend_state()[b[0].addr] == "up", 3)
        assert traffic(x.port) == {"b1": 20, "b2": 20}
    finally:
        b0.stop()


def test_backend_killed_under_load(backends, lb):
    """8 keep-alive clients for ~3 s; b1 gets SIGKILL after 1 s. At most 0.1%
    of the requests may fail (connect failures and idempotent requests cut
    before any response byte are retried on b2)."""
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--health", "/health", "--health-interval", "500ms",
           "--health-fall", "1", "--passive-fails", "1", "--eject-time", "2s")
    stop = time.monotonic() + 3.0
    results = {"ok": 0, "failed": 0}
    lock = threading.Lock()

    def client():
        c = Client(x.port, timeout=10)
        ok = failed = 0
        while time.monotonic() < stop:
            try:
                st, _, _ = c.get("/")
                if st == 200:
                    ok += 1
                else:
                    failed += 1
            except Exception:  # noqa: BLE001 - a failed request is what we count
                failed += 1
                c.close()
        c.close()
        with lock:
            results["ok"] += ok
            results["failed"] += failed

    ts = [threading.Thread(target=client) for _ in range(8)]
    for t in ts:
        t.start()
    time.sleep(1.0)
    b[0].kill()
    for t in ts:
        t.join(30)
    total = results["ok"] + results["failed"]
    print("killed-under-load:", results)
    assert total >= 1000, results
    assert results["failed"] <= total * 0.001, results
    assert x.backend_state()[b[0].addr] in ("down", "ejected")
