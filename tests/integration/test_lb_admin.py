"""
scaleout lb admin endpoint: pools and backends with their state and figures
(/status), Prometheus /metrics, and runtime control (add, drain, enable,
weight, remove) under load without a single failed request; the token.
"""
import json
import threading

from lb_helpers import (Client, backends, lb, _skip_without_binary, wait_until)  # noqa: F401

TOKEN = "s3cret"


class Load:
    """Keep-alive clients looping GET until stopped; counts answers by body."""

    def __init__(self, port, n=4, path="/"):
        self.port, self.path = port, path
        self.counts, self.failed, self.errors = {}, 0, []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ts = [threading.Thread(target=self.run) for _ in range(n)]
        for t in self.ts:
            t.start()

    def run(self):
        c = Client(self.port)
        while not self.stop.is_set():
            try:
                st, _, body = c.get(self.path)
                key = body.decode() if st == 200 else f"status-{st}"
                with self.lock:
                    self.counts[key] = self.counts.get(key, 0) + 1
                    if st != 200:
                        self.failed += 1
            except Exception as e:  # noqa: BLE001 - counted as a failure
                with self.lock:
                    self.failed += 1
                    self.errors.append(repr(e))
                c.close()
        c.close()

    def snapshot(self):
        with self.lock:
            return dict(self.counts)

    def finish(self):
        self.stop.set()
        for t in self.ts:
            t.join(30)
        return self.counts


def test_token_required(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    code, body = x.admin("POST", f"/pools/default/backends/{b[0].addr}/drain")
    assert code == 403 and b"admin-token" in body
    y = lb("--backend", b[0].addr, "--admin-token", TOKEN)
    assert y.admin("POST", f"/pools/default/backends/{b[0].addr}/drain")[0] == 401
    assert y.admin("POST", f"/pools/default/backends/{b[0].addr}/drain", token="wrong")[0] == 401
    assert y.admin("POST", f"/pools/default/backends/{b[0].addr}/drain", token=TOKEN)[0] == 200
    # reads need no token
    assert y.admin("GET", "/status")[0] == 200


def test_errors_of_the_api(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--admin-token", TOKEN)
    assert x.admin("POST", "/pools/nope/backends?addr=127.0.0.1:1", token=TOKEN)[0] == 404
    assert x.admin("POST", "/pools/default/backends", token=TOKEN)[0] == 400
    assert x.admin("POST", "/pools/default/backends?addr=nonsense", token=TOKEN)[0] == 400
    assert x.admin("POST", f"/pools/default/backends?addr={b[0].addr}", token=TOKEN)[0] == 409
    assert x.admin("POST", "/pools/default/backends/127.0.0.1:1/drain", token=TOKEN)[0] == 404
    assert x.admin("POST", f"/pools/default/backends/{b[0].addr}/explode", token=TOKEN)[0] == 404
    assert x.admin("GET", "/nothing")[0] == 404


def test_add_drain_remove_under_load_without_failures(backends, lb):
    b = backends(3)
    x = lb("--backend", b[0].addr, "--admin-token", TOKEN, "--balance", "roundrobin")
    load = Load(x.port)
    try:
        wait_until(lambda: load.snapshot().get("b1", 0) > 50, 5)
        # add two backends: they take traffic at once
        for bk in b[1:]:
            code, body = x.admin("POST", f"/pools/default/backends?addr={bk.addr}&weight=1&name={bk.id}", token=TOKEN)
            assert code == 201, body
        base = load.snapshot()
        wait_until(lambda: load.snapshot().get("b2", 0) > 50 and load.snapshot().get("b3", 0) > 50, 5)
        assert x.backend_state() == {b[0].addr: "up", "b2": "up", "b3": "up"}
        # drain b1: it gets nothing new
        code, body = x.admin("POST", f"/pools/default/backends/{b[0].addr}/drain", token=TOKEN)
        assert code == 200 and json.loads(body)["state"] == "draining"
        # requests b1 had in flight finish; once b2 has served 50 more, none is left
        at_drain = load.snapshot().get("b2", 0)
        wait_until(lambda: load.snapshot().get("b2", 0) > at_drain + 50, 5)
        drained_at = load.snapshot().get("b1", 0)
        wait_until(lambda: load.snapshot().get("b2", 0) > at_drain + 350, 5)
        assert load.snapshot().get("b1", 0) == drained_at
        assert x.backend_state()[b[0].addr] == "draining"
        # and comes back when enabled
        assert x.admin("POST", f"/pools/default/backends/{b[0].addr}/enable", token=TOKEN)[0] == 200
        wait_until(lambda: load.snapshot().get("b1", 0) > drained_at + 50, 5)
        # remove b2 outright, then b1
        assert x.admin("DELETE", "/pools/default/backends/b2", token=TOKEN)[0] == 200
        assert x.admin("DELETE", f"/pools/default/backends/{b[0].addr}", token=TOKEN)[0] == 200
        assert x.backend_state() == {"b3": "up"}
        at_delete = load.snapshot().get("b3", 0)
        wait_until(lambda: load.snapshot().get("b3", 0) > at_delete + 50, 5)  # in-flight ones are done
        after = load.snapshot()
        wait_until(lambda: load.snapshot().get("b3", 0) > after.get("b3", 0) + 200, 5)
        assert load.snapshot().get("b2", 0) == after.get("b2", 0)
    finally:
        counts = load.finish()
    assert load.failed == 0, (load.failed, load.errors[:3], counts)


def test_remove_with_requests_in_flight(backends, lb):
    """Requests already on a backend finish normally when it is removed."""
    b = backends(2, delays=[600, 0])
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--admin-token", TOKEN, "--balance", "roundrobin")
    results = []

    def one():
        results.append(Client(x.port).get("/")[:3:2])

    ts = [threading.Thread(target=one) for _ in range(6)]
    for t in ts:
        t.start()
    wait_until(lambda: x.status()["pools"][0]["backends"][0]["active"] >= 3, 3, what="requests in flight on b1")
    assert x.admin("DELETE", f"/pools/default/backends/{b[0].addr}", token=TOKEN)[0] == 200
    for t in ts:
        t.join(10)
    assert sorted(results) == [(200, b"b1")] * 3 + [(200, b"b2")] * 3
    assert Client(x.port).get("/")[2] == b"b2"


def test_weight_change(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--admin-token", TOKEN, "--balance", "wrr")
    assert x.admin("POST", f"/pools/default/backends/{b[0].addr}/weight?value=3", token=TOKEN)[0] == 200
    c = Client(x.port)
    got = [c.get("/")[2] for _ in range(400)]
    assert got.count(b"b1") == 300


def test_status_and_metrics(backends, lb):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, "--health", "/health", "--health-interval", "200ms")
    c = Client(x.port)
    for i in range(10):
        c.get("/")
        c.get("/status?code=503")
        c.get("/status?code=404")
    wait_until(lambda: x.status()["pools"][0]["backends"][0]["check"] == "ok", 3)
    st = x.status()
    pool = st["pools"][0]
    assert pool["name"] == "default" and pool["balance"] == "roundrobin" and pool["usable"] == 2
    be = {p["name"]: p for p in pool["backends"]}[b[0].addr]
    assert be["state"] == "up" and be["requests"] == 15
    assert be["responses"] == {"1xx": 0, "2xx": 5, "3xx": 0, "4xx": 5, "5xx": 5}
    assert be["response_ms_avg"] > 0
    m = x.metrics()
    lab = f'pool="default",backend="{b[0].addr}"'
    assert m[f"scaleout_lb_backend_requests_total{{{lab}}}"] == 15
    assert m[f'scaleout_lb_backend_responses_total{{{lab},code="5xx"}}'] == 5
    assert m[f"scaleout_lb_backend_errors_total{{{lab}}}"] == 0
    assert m[f"scaleout_lb_backend_retries_total{{{lab}}}"] == 0
    assert m[f"scaleout_lb_backend_active{{{lab}}}"] == 0
    assert m[f"scaleout_lb_backend_up{{{lab}}}"] == 1
    assert m[f'scaleout_lb_backend_state{{{lab},state="up"}}'] == 1
    assert m[f'scaleout_lb_backend_response_seconds_bucket{{{lab},le="+Inf"}}'] == 15
    assert m[f"scaleout_lb_backend_response_seconds_count{{{lab}}}"] == 15
    assert m[f'scaleout_lb_backend_health_checks_total{{{lab},result="ok"}}'] >= 1
    assert m['scaleout_lb_listener_requests_total{listener="default"}'] == 30
    assert m["scaleout_lb_clients"] >= 1


def test_added_backend_waits_for_its_first_health_check(backends, lb):
    """With active checks, a backend added at run time takes traffic only once
    a probe passed (it may still be booting); a sick one never does."""
    b = backends(3)
    b[2].set_health(False)
    x = lb("--backend", b[0].addr, "--admin-token", TOKEN, "--health", "/health", "--health-interval", "300ms")
    code, body = x.admin("POST", f"/pools/default/backends?addr={b[1].addr}", token=TOKEN)
    assert code == 201 and json.loads(body)["state"] == "down"
    wait_until(lambda: x.backend_state()[b[1].addr] == "up", 3)
    code, body = x.admin("POST", f"/pools/default/backends?addr={b[2].addr}", token=TOKEN)
    assert code == 201
    wait_until(lambda: x.status()["pools"][0]["backends"][2]["check"] == "status 503", 3)
    assert x.backend_state()[b[2].addr] == "down"
    c = Client(x.port)
    assert sorted(c.get("/")[2] for _ in range(6)) == [b"b1"] * 3 + [b"b2"] * 3
