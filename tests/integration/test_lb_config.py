"""
scaleout lb configuration files: sections (pools, listeners), routes by
host, path prefix and header, several listeners in one process, and
`scaleout check` naming file:line for every error.
"""
import subprocess

from lb_helpers import (HOST, REPO_ROOT, Client, backends, lb, raw, status_of, scaleout_bin,  # noqa: F401
                        _skip_without_binary, free_port)

ROUTED = """
role lb
pool api
    balance roundrobin
    backend {b1}
pool static
    backend {b2}
pool canary
    backend {b3}
listener web 127.0.0.1:{port}
    route header X-Canary yes pool canary
    route host api.example.com pool api
    route host *.api.example.com pool api
    route path /static/ pool static
    route host www.example.com path /v1/ pool api
    default-pool static
listener bare 127.0.0.1:{port2}
    route path /api/ pool api
"""


def test_routes(backends, lb, tmp_path):
    b = backends(3)
    port2 = free_port()
    x = lb(config=ROUTED, listen=False, fmt={"b1": b[0].addr, "b2": b[1].addr, "b3": b[2].addr, "port2": port2})
    c = Client(x.port)

    def who(path="/", **hdrs):
        return c.get(path, hdrs)[2].decode()

    assert who(Host="api.example.com") == "b1"
    assert who(Host="API.example.com:8080") == "b1"
    assert who(Host="eu.api.example.com") == "b1"
    assert who("/static/app.js", Host="www.example.com") == "b2"
    assert who("/v1/users", Host="www.example.com") == "b1"
    assert who("/v2/users", Host="www.example.com") == "b2"          # default pool
    assert who("/static/x", Host="api.example.com", **{"X-Canary": "yes"}) == "b3"   # first match wins
    assert who("/", **{"X-Canary": "no"}) == "b2"
    # the second listener: no default pool, so unrouted requests get 404
    c2 = Client(port2)
    assert c2.get("/api/x")[2] == b"b1"
    st, _, body = c2.get("/other")
    assert st == 404
    assert c2.connects == 1, "a 404 keeps the connection"
    names = {l["name"] for l in x.status()["listeners"]}
    assert names == {"web", "bare"}


def check(text, tmp_path):
    p = tmp_path / "t.conf"
    p.write_text(text)
    r = subprocess.run([str(scaleout_bin()), "check", str(p)], capture_output=True, text=True, timeout=10)
    return r.returncode, r.stdout + r.stderr, str(p)


def test_check_accepts_example_and_names_error_lines(tmp_path):
    r = subprocess.run([str(scaleout_bin()), "check", str(REPO_ROOT / "examples/lb.conf")],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    assert "ok (role lb)" in r.stdout
    rc, out, p = check("role lb\n"
                       "listen 127.0.0.1:1\n"
                       "pool a\n"
                       "  balance chash\n"
                       "  backend 127.0.0.1:80 weight 2000\n"
                       "  health-interval soon\n"
                       "listener l 127.0.0.1:2\n"
                       "  route nowhere pool a\n"
                       "  rate-limit many\n", tmp_path)
    assert rc == 1
    for line in (f"{p}:4: 'balance chash' needs a key", f"{p}:5: backend weight must be 1..1000",
                 f"{p}:6: 'health-interval' must be a duration", f"{p}:8: route conditions",
                 f"{p}:9: 'rate-limit' takes"):
        assert line in out, out
    assert f"{p}: 5 errors" in out


def test_startup_reports_cross_section_errors(lb, tmp_path):
    x = lb(config="role lb\npool a\n  backend 127.0.0.1:9\nlistener l 127.0.0.1:{port}\n  route path /x pool b\n"
                  "  default-pool a\n", listen=False, expect_fail=True)
    assert x.proc.returncode == 2
    assert f"{x.conf_path}:5: listener 'l': route to pool 'b', which is not defined" in x.log_tail()


def test_help_lists_every_directive():
    r = subprocess.run([str(scaleout_bin()), "lb", "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0
    for d in ("--listen", "--backend", "--balance", "--health", "--mode", "--threads", "--route", "--rate-limit",
              "--maxconn", "--sticky-cookie", "--timeout-header", "--admin-token"):
        assert d in r.stdout, d


def test_check_reports_cross_section_errors(tmp_path):
    """`scaleout check` runs the whole-file validation too, not only per-line checks."""
    f = tmp_path / "lb.conf"
    f.write_text("role lb\nlistener web 127.0.0.1:8080\n    mode http\n    route path /api/ pool nosuch\n"
                 "    default-pool alsono\npool p\n    balance roundrobin\n    backend 127.0.0.1:1\n")
    r = subprocess.run([str(scaleout_bin()), "check", str(f)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert f"{f}:2: listener 'web': default-pool 'alsono' is not defined" in r.stderr
    assert f"{f}:4: listener 'web': route to pool 'nosuch', which is not defined" in r.stderr
