"""
test_up.py — `scaleout up` running a whole small topology (PostgreSQL with a
streaming replica behind the pg proxy, kv, 2..3 apps, a worker, the lb) on
free ports: a round trip through the lb (and through the pg proxy),
the status page, kill -9 of an app under light load, autoscaling up under
load and down after, a clean stop, and bad configurations.
"""
import json
import os
import signal
import subprocess
import threading
import time

import pytest
import requests

from up_helpers import (HOST, REPO_ROOT, Http, Proc, free_port, rmtree, sanitizer_reports, scaleout_bin, tcp_open,
                        wait_until, world_dir)


def status(port):
    return requests.get(f"http://{HOST}:{port}/status", timeout=5).json()


def proc_named(st, name):
    return [p for p in st["procs"] if p["name"] == name][0]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive for us
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def up():
    base = world_dir("scaleout-up-")
    lb_port, status_port, lb_admin = free_port(), free_port(), free_port()
    conf = base / "up.conf"
    conf.write_text(f"""role up
dir {base}/data
status-port {status_port}
lb-port {lb_port}
lb-admin-port {lb_admin}
kv-port 0
kv-replicas 0
pg-port 0
pg-proxy-port 0
pg-replicas 1
app-port 0
app-min 2
app-max 3
app-concurrency 2
app-service-time 10ms
workers 1
worker-args "--job-time 5ms --poll 10ms"
scale-up-at 3
scale-down-at 1
scale-up-after 1s
scale-down-after 2s
cooldown 1s
scale-interval 200ms
drain-timeout 5s
ready-timeout 60s
""")
    # up runs in a directory holding someone else's (corrupt) dump.rdb: its kv
    # nodes keep their files under up's dir, never the working directory (a kv
    # started there refused to load it, and nodes sharing it loaded each other's)
    cwd = base / "cwd"
    cwd.mkdir()
    (cwd / "dump.rdb").write_bytes(b"hello")
    p = Proc("up", [scaleout_bin(), "up", conf], port=lb_port, logdir=base, cwd=cwd)
    p.start(timeout=90, ready=lambda: tcp_open(status_port) and tcp_open(lb_port) and
            requests.get(f"http://{HOST}:{status_port}/status", timeout=5).json()["ready"])
    yield {"proc": p, "lb": lb_port, "status": status_port, "base": base, "lb_admin": lb_admin}
    p.stop(timeout=30)
    bad = sanitizer_reports(base)
    rmtree(base)
    assert not bad, bad


def test_own_post_in_a_new_timeline_while_the_replica_lags(up):
    """A timeline (the feed's cache in kv) is built from PostgreSQL on the
    first /feed. Built on a replica that had not replayed the user's new post
    yet, it left that post out of the cached timeline for good: the author
    did not see it (test_round_trip_through_the_lb failed so under load). The
    build reads the primary: with the replica's replay paused, a new user's
    post is in their first feed, from every app instance."""
    import psycopg2
    rep = proc_named(status(up["status"]), "pg-replica-1")
    c = psycopg2.connect(host=HOST, port=rep["port"], user="postgres", dbname="postgres", connect_timeout=5)
    c.autocommit = True
    cur = c.cursor()
    cur.execute("SELECT pg_wal_replay_pause()")
    try:
        h = Http(up["lb"])
        assert h.login("lagged").json() == {"user": "lagged"}
        assert h.post("/posts", json={"body": "ahead of the replica"}).status_code == 201
        for _ in range(4):
            assert [p["body"] for p in h.get("/feed").json()["posts"]] == ["ahead of the replica"]
    finally:
        cur.execute("SELECT pg_wal_replay_resume()")
        c.close()


def test_kv_files_live_under_ups_dir(up):
    st = status(up["status"])
    assert proc_named(st, "kv")["state"] == "running"
    assert (up["base"] / "data" / "kv").is_dir()
    assert sorted(os.listdir(up["base"] / "cwd")) == ["dump.rdb"]


def test_round_trip_through_the_lb(up):
    h = Http(up["lb"])
    assert h.login("amy").json() == {"user": "amy"}
    assert h.put("/me", json={"bio": "via lb"}).json()["bio"] == "via lb"
    assert h.get("/me").json()["bio"] == "via lb"
    assert h.post("/posts", json={"body": "post via lb"}).status_code == 201
    assert h.get("/feed").json()["posts"][0]["body"] == "post via lb"
    r = h.post("/upload", data=b"upload via lb")
    assert r.status_code == 202
    job = wait_until(lambda: (lambda j: j if j.get("status") == "done" else None)(h.get(r.headers["Location"]).json()),
                     timeout=20, what="job done through up's worker")
    assert job["worker"] == "worker-1"
    st = wait_until(lambda: (lambda s: s if s["job_backlog"] == 0 else None)(status(up["status"])), timeout=10,
                    what="the job backlog back to 0")
    assert st["errors_per_s"] == 0 and "response_ms_avg_max" in st
    assert st["queue"] == "kv-list"   # the backlog is exact for a list queue (the page says so)
    assert h.get("/products/3").headers["Cache-Control"].startswith("public")


def pg_proxy_counters(admin_port):
    text = requests.get(f"http://{HOST}:{admin_port}/metrics", timeout=5).text
    c = {}
    for line in text.splitlines():
        for k in ("scaleout_pg_queries_primary_total", "scaleout_pg_queries_replica_total"):
            if line.startswith(k + " "):
                c[k.split("_")[3]] = int(line.split()[1])
    return c


def test_round_trip_through_the_lb_and_the_pg_proxy(up):
    st = status(up["status"])
    assert st["pg"].startswith(f"host=127.0.0.1 port={st['pg_proxy']['port']} ")   # the apps' conninfo: the proxy
    roles = sorted(b["role"] for b in st["pg_proxy"]["status"]["backends"])
    assert roles == ["primary", "replica"]
    admin = st["pg_proxy"]["admin_port"]
    before = pg_proxy_counters(admin)
    h = Http(up["lb"])
    h.login("pia")
    assert h.put("/me", json={"bio": "through the proxy"}).json()["bio"] == "through the proxy"
    assert h.get("/me").json()["bio"] == "through the proxy"       # read-your-writes: the profile load is primary
    wait_until(lambda: pg_proxy_counters(admin)["primary"] > before["primary"], timeout=10,
               what="writes counted on the primary by the pg proxy")
    # product reads are read-only statements: the proxy sends them to the replica (once it accepts connections)
    ids = iter(range(500, 1000))

    def replica_read():
        r = h.get(f"/products/{next(ids)}")
        assert r.status_code == 200, r.text
        return pg_proxy_counters(admin)["replica"] > before["replica"]
    wait_until(replica_read, timeout=30, interval=0.2, what="a product read served by the replica through the proxy")
    assert kinds_of(status(up["status"])) >= {"pg-proxy", "pg-replica", "postgres"}


def kinds_of(st):
    return {p["kind"] for p in st["procs"]}


def test_killed_kv_postgres_pg_proxy_and_replica_are_restarted_and_the_apps_reconnect(up):
    for name in ("kv", "postgres", "pg-proxy", "pg-replica-1"):
        before = proc_named(status(up["status"]), name)
        os.kill(before["pid"], signal.SIGKILL)
        wait_until(lambda: (lambda p: p["restarts"] > before["restarts"] and p["state"] == "running")(
            proc_named(status(up["status"]), name)), timeout=60, what=f"{name} restarted")
    h = Http(up["lb"])

    def works():
        try:
            h.s.cookies.clear()
            if h.post("/login", json={"user": "kim"}).status_code != 200:
                return None
            r = h.put("/me", json={"bio": "after restarts"})
            return r.status_code == 200 and h.get("/me").json()["bio"] == "after restarts"
        except requests.RequestException:
            return None
    # kv lost its sessions (in memory); logins, writes and reads work again
    wait_until(works, timeout=30, interval=0.2, what="login and profile through the restarted kv and PostgreSQL")
    # reads from the restarted replica through the restarted proxy
    wait_until(lambda: h.get("/products/901").status_code == 200, timeout=30, interval=0.2,
               what="product reads through the restarted pg proxy and replica")


def test_killed_worker_holding_a_job_is_restarted_and_the_job_done(up):
    h = Http(up["lb"])
    loc = h.post("/upload", data=b"slow:1500").headers["Location"]
    wait_until(lambda: (lambda j: j if j.get("status") == "running" else None)(h.get(loc).json()), timeout=20,
               what="the slow job running")
    w = proc_named(status(up["status"]), "worker-1")
    os.kill(w["pid"], signal.SIGKILL)                  # mid-job: the id stays in queue:processing:worker-1
    # restarted under the same name by up, the worker takes its list back and runs the job again
    job = wait_until(lambda: (lambda j: j if j.get("status") == "done" else None)(h.get(loc).json()), timeout=30,
                     what="the job done after the worker's restart")
    assert job["attempts"] == 2 and job["worker"] == "worker-1"
    assert proc_named(status(up["status"]), "worker-1")["pid"] != w["pid"]


def test_status_page_and_json(up):
    st = status(up["status"])
    kinds = sorted(p["kind"] for p in st["procs"])
    assert kinds.count("app") >= 2 and {"postgres", "kv", "worker", "lb"} <= set(kinds)
    assert all(p["state"] == "running" for p in st["procs"] if p["kind"] != "app")
    page = requests.get(f"http://{HOST}:{up['status']}/", timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "<svg" in page.text and "fetch('/status')" in page.text
    out = subprocess.run([str(scaleout_bin()), "up", "status", "--dir", str(up["base"] / "data")], capture_output=True,
                         timeout=10)
    assert out.returncode == 0 and json.loads(out.stdout)["role"] == "up"
    assert "scaleout_up_app_instances" in requests.get(f"http://{HOST}:{up['status']}/metrics", timeout=5).text


def test_killed_app_loses_no_request_and_is_restarted(up):
    st = status(up["status"])
    victim = proc_named(st, "app-1")
    results, stop = [], threading.Event()

    def load():
        s = requests.Session()
        i = 0
        while not stop.is_set():
            i += 1
            try:
                r = s.get(f"http://{HOST}:{up['lb']}/products/{1 + i % 50}", timeout=10)
                results.append(r.status_code)
            except requests.RequestException as e:
                results.append(repr(e))
    ts = [threading.Thread(target=load) for _ in range(2)]
    for t in ts:
        t.start()
    wait_until(lambda: len(results) > 20, timeout=20, what="load flowing")
    os.kill(victim["pid"], signal.SIGKILL)
    wait_until(lambda: (lambda p: p["restarts"] >= 1 and p["state"] == "running" and p["pid"] != victim["pid"])(
        proc_named(status(up["status"]), "app-1")), timeout=30, what="app-1 restarted by up")
    n = len(results)
    wait_until(lambda: len(results) > n + 20, timeout=20, what="load after the restart")
    stop.set()
    for t in ts:
        t.join(15)
    bad = [r for r in results if r != 200]
    assert not bad, f"{len(bad)} failed of {len(results)}: {bad[:5]}"


def test_autoscaling_up_under_load_and_down_after_and_lb_restart(up):
    st = status(up["status"])
    start_apps = st["apps"]
    ups0, downs0 = st["autoscale"]["scale_ups"], st["autoscale"]["scale_downs"]
    # capacity of one app: 2 slots x 10 ms; 24 connections keep ~12 in flight per instance
    bench = subprocess.Popen([str(scaleout_bin()), "bench", f"http://{HOST}:{up['lb']}/products/7", "-c", "24",
                              "-d", "60s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: status(up["status"])["autoscale"]["scale_ups"] > ups0, timeout=40, what="a scale-up")
        # under load the status shows the apps' response-time percentiles (lb histogram bounds)
        ms = wait_until(lambda: (lambda m: m if m["p50"] > 0 else None)(status(up["status"])["app_ms"]), timeout=10,
                        what="response-time percentiles")
        assert 0 < ms["p50"] <= ms["p95"] <= ms["p99"]
        wait_until(lambda: status(up["status"])["apps"] > start_apps or
                   status(up["status"])["apps"] == 3, timeout=30, what="a third instance serving")
        # the lb dies now: up restarts it with the apps of now, not those of the first start
        lb = proc_named(status(up["status"]), "lb")
        os.kill(lb["pid"], signal.SIGKILL)
        wait_until(lambda: (lambda p: p["restarts"] > lb["restarts"] and p["state"] == "running")(
            proc_named(status(up["status"]), "lb")), timeout=30, what="lb restarted")
        apps = sorted(p["port"] for p in status(up["status"])["procs"] if p["kind"] == "app" and p["state"] == "running")
        lb_status = requests.get(f"http://{HOST}:{up['lb_admin']}/status", timeout=5).json()
        backends = sorted(int(b["address"].rsplit(":", 1)[1]) for b in lb_status["pools"][0]["backends"])
        assert len(apps) == 3 and backends == apps
    finally:
        bench.send_signal(signal.SIGINT)
        try:
            bench.wait(15)
        except subprocess.TimeoutExpired:
            bench.kill()
            bench.wait(5)
    # back to app-min; the instance that left was drained, stopped and is gone
    st = wait_until(lambda: (lambda s: s if s["autoscale"]["scale_downs"] > downs0 and
                             [p["name"] for p in s["procs"] if p["kind"] == "app"] == ["app-1", "app-2"] else None)(
        status(up["status"])), timeout=60, what="scale-down back to app-min")
    assert st["apps"] == 2
    log = up["proc"].log_tail(200000)
    assert "autoscaler: scale up" in log and "autoscaler: scale down" in log and "removed from the lb" in log
    assert Http(up["lb"]).get("/health").status_code == 200


@pytest.mark.parametrize("metric,extra,up_at,down_at,conns", [
    # p99: 2 slots x 10 ms per instance; 16 connections queue in the apps, p99 well above 25 ms
    ("p99", "app-concurrency 2\napp-service-time 10ms\n", 25, 5, 16),
    # cpu: the service time burned on the CPU (service-spin): a loaded app is near 100 % of a core
    ("cpu", "app-concurrency 1\napp-service-time 5ms\napp-args \"--service-spin yes\"\n", 30, 5, 8),
])
def test_autoscaler_on_p99_and_cpu_adds_and_removes_an_instance(metric, extra, up_at, down_at, conns):
    base = world_dir(f"scaleout-up-{metric}-")
    lb_port, status_port = free_port(), free_port()
    conf = base / "up.conf"
    conf.write_text(f"""role up
dir {base}/data
status-port {status_port}
lb-port {lb_port}
lb-admin-port 0
kv-port 0
pg-port 0
pg-replicas 0
pg-proxy no
app-port 0
app-min 1
app-max 2
workers 0
{extra}scale-metric {metric}
scale-up-at {up_at}
scale-down-at {down_at}
scale-up-after 1s
scale-down-after 2s
cooldown 1s
scale-interval 200ms
drain-timeout 3s
""")
    p = Proc("up", [scaleout_bin(), "up", conf], port=lb_port, logdir=base)
    bench = None
    try:
        p.start(timeout=90, ready=lambda: tcp_open(status_port) and tcp_open(lb_port) and
                requests.get(f"http://{HOST}:{status_port}/status", timeout=5).json()["ready"])
        st = status(status_port)
        assert st["apps"] == 1 and st["autoscale"]["metric"] == metric
        bench = subprocess.Popen([str(scaleout_bin()), "bench", f"http://{HOST}:{lb_port}/products/7", "-c", str(conns),
                                  "-d", "60s", "--progress", "off"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        st = wait_until(lambda: (lambda s: s if s["autoscale"]["scale_ups"] >= 1 else None)(status(status_port)),
                        timeout=40, what=f"a scale-up on {metric}")
        assert st["autoscale"]["last_action"].startswith(f"scale up to 2: {metric} ")
        wait_until(lambda: status(status_port)["apps"] == 2, timeout=30, what="the second instance serving")
        bench.send_signal(signal.SIGINT)
        bench.wait(15)
        bench = None
        st = wait_until(lambda: (lambda s: s if s["autoscale"]["scale_downs"] >= 1 and s["apps"] == 1 else None)(
            status(status_port)), timeout=40, what=f"a scale-down on {metric} after the load")
        assert st["autoscale"]["last_action"].startswith(f"scale down to 1: {metric} ")
        assert "scaleout_up_scale_metric" in requests.get(f"http://{HOST}:{status_port}/metrics", timeout=5).text
    finally:
        if bench:
            bench.kill()
            bench.wait(5)
        rc = p.stop(timeout=30)
        bad = sanitizer_reports(base)
        rmtree(base)
    assert rc == 0 and not bad, bad


def test_workers_scale_on_the_job_backlog_and_back():
    base = world_dir("scaleout-up-workers-")
    lb_port, status_port = free_port(), free_port()
    conf = base / "up.conf"
    conf.write_text(f"""role up
dir {base}/data
status-port {status_port}
lb-port {lb_port}
lb-admin-port 0
kv-port 0
pg-port 0
pg-replicas 0
pg-proxy no
app-port 0
app-min 1
app-max 1
autoscale no
workers 1
worker-max 2
worker-scale-up-at 5
worker-scale-down-at 0
worker-args "--job-time 100ms"
scale-up-after 1s
scale-down-after 2s
cooldown 1s
scale-interval 200ms
""")
    p = Proc("up", [scaleout_bin(), "up", conf], port=lb_port, logdir=base)
    try:
        p.start(timeout=90, ready=lambda: tcp_open(status_port) and tcp_open(lb_port) and
                requests.get(f"http://{HOST}:{status_port}/status", timeout=5).json()["ready"])
        assert status(status_port)["workers"] == 1
        h = Http(lb_port)
        jobs = [h.post("/upload", data=b"job %d" % i).headers["Location"] for i in range(60)]
        st = wait_until(lambda: (lambda s: s if s["worker_autoscale"]["scale_ups"] >= 1 else None)(status(status_port)),
                        timeout=30, what="a second worker for the backlog")
        assert st["worker_autoscale"]["last_action"].startswith("workers up to 2")
        wait_until(lambda: all(h.get(j).json()["status"] == "done" for j in jobs), timeout=60, what="every job done")
        assert {h.get(j).json()["worker"] for j in jobs} == {"worker-1", "worker-2"}
        st = wait_until(lambda: (lambda s: s if s["worker_autoscale"]["scale_downs"] >= 1 and s["workers"] == 1 and
                                 [q["name"] for q in s["procs"] if q["kind"] == "worker"] == ["worker-1"] else None)(
            status(status_port)), timeout=30, what="back to one worker")
        assert st["worker_autoscale"]["last_action"].startswith("workers down to 1")
    finally:
        rc = p.stop(timeout=30)
        bad = sanitizer_reports(base)
        rmtree(base)
    assert rc == 0 and not bad, bad


def test_status_page_renders_in_headless_chromium(up, tmp_path):
    import shutil
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is not installed (scripts/install-deps.sh installs it)"
    profile = tmp_path / "profile"
    profile.mkdir()
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom",
                        f"http://{HOST}:{up['status']}/"], capture_output=True, text=True, timeout=90)
    assert p.returncode == 0, p.stderr[-2000:]
    dom = p.stdout
    # drawn by the page's script from /status: boxes per process and the plots
    for name in ("app-1", "app-2", "worker-1", "postgres", "pg-replica-1", "pg-proxy", "lb"):
        assert f">{name}<" in dom, name
    assert "(pg proxy)" in dom and "replica 127.0.0.1:" in dom and "in flight per instance" in dom
    assert "not yet done" in dom and "errors/s" in dom
    assert "not yet done</td>" in dom   # no "(upper bound)": only the kv-hash queue's backlog is an estimate
    assert "running" in dom and "<path d=" in dom and "cache" in dom


def test_sigterm_stops_everything_and_exits_0(up):
    st = status(up["status"])
    pids = [p["pid"] for p in st["procs"] if p["pid"]]
    assert up["proc"].stop(signal.SIGTERM, timeout=40) == 0
    wait_until(lambda: not any(pid_alive(p) for p in pids), timeout=15, what="no process left behind")
    assert not tcp_open(up["lb"]) and not tcp_open(up["status"])


@pytest.mark.parametrize("how", ["kill"])
def test_kv_primary_killed_under_load_sentinels_promote_the_replica_and_no_request_fails(how):
    """kv-replicas 1 + sentinels 3: SIGKILL of the kv primary under login + profile
    load through the lb. The sentinels promote the replica, the apps follow them,
    requests succeed again, every session whose login was answered 200 still
    works, and the old primary comes back as a replica of the new one.
    (A "hang" variant, SIGSTOP instead of SIGKILL, is not listed: the
    sentinels never mark a stopped primary down — their link to it is
    reconnected every down-after/2 and the kernel still accepts the
    connection, which resets the pending PING.)"""
    import redis
    base = world_dir("scaleout-up-sent-")
    lb_port, status_port = free_port(), free_port()
    conf = base / "up.conf"
    conf.write_text(f"""role up
dir {base}/data
status-port {status_port}
lb-port {lb_port}
lb-admin-port 0
kv-port 0
kv-replicas 1
sentinels 3
sentinel-down-after 500ms
pg-port 0
pg-replicas 0
pg-proxy no
app-port 0
app-min 2
app-max 2
autoscale no
workers 1
worker-args "--job-time 5ms --poll 10ms"
ready-timeout 60s
""")
    p = Proc("up", [scaleout_bin(), "up", conf], port=lb_port, logdir=base)
    try:
        p.start(timeout=90, ready=lambda: tcp_open(status_port) and tcp_open(lb_port) and
                requests.get(f"http://{HOST}:{status_port}/status", timeout=5).json()["ready"])
        st = status(status_port)
        assert kinds_of(st) >= {"kv", "kv-replica", "sentinel", "app", "lb"}, kinds_of(st)
        primary, replica = proc_named(st, "kv"), proc_named(st, "kv-replica-1")
        assert st["kv_primary"] == {"port": primary["port"], "name": "kv", "source": "sentinels"}, st["kv_primary"]
        sentinels = [q["port"] for q in st["procs"] if q["kind"] == "sentinel"]
        assert len(sentinels) == 3
        sc = [redis.Redis(host=HOST, port=sp, decode_responses=True, socket_timeout=2) for sp in sentinels]

        def sentinels_ready():
            for c in sc:
                m = c.execute_command("SENTINEL", "get-master-addr-by-name", "scaleout")
                if not m or int(m[1]) != primary["port"]:
                    return False
                if len(c.execute_command("SENTINEL", "replicas", "scaleout")) < 1:
                    return False
                if len(c.execute_command("SENTINEL", "sentinels", "scaleout")) < 2:
                    return False
            return True
        wait_until(sentinels_ready, timeout=30, interval=0.2, what="the sentinels know the replica and each other")

        lock = threading.Lock()
        acked = []            # (user, cookie) of logins answered 200
        results = []          # (phase, status or error)
        stop = threading.Event()
        phase = ["before"]

        def load(tid):
            # each answer is counted in the phase its request started in
            s = requests.Session()
            i = 0
            while not stop.is_set():
                i += 1
                user = f"u{tid}x{i}"
                ph = phase[0]
                try:
                    s.cookies.clear()
                    t0 = time.monotonic()
                    r = s.post(f"http://{HOST}:{lb_port}/login", json={"user": user}, timeout=10)
                    with lock:
                        results.append((ph, r.status_code))
                        longest[ph] = max(longest.get(ph, 0), time.monotonic() - t0)
                    if r.status_code != 200:
                        continue
                    with lock:
                        acked.append((user, r.cookies.get("sid")))
                    ph = phase[0]
                    r = s.get(f"http://{HOST}:{lb_port}/me", timeout=10)
                    with lock:
                        results.append((ph, r.status_code))
                except requests.RequestException as e:
                    with lock:
                        results.append((ph, repr(e)))
        longest = {}          # phase -> the slowest login's seconds
        ts = [threading.Thread(target=load, args=(t,)) for t in range(2)]
        for t in ts:
            t.start()
        wait_until(lambda: len(acked) > 30, timeout=30, what="load flowing")
        with lock:
            phase[0] = "switch"
        os.kill(primary["pid"], signal.SIGKILL if how == "kill" else signal.SIGSTOP)
        wait_until(lambda: all((lambda m: m and int(m[1]) == replica["port"])(
            c.execute_command("SENTINEL", "get-master-addr-by-name", "scaleout")) for c in sc),
            timeout=30, interval=0.2, what="the sentinels promote the replica")
        # up's status names the new primary
        assert status(status_port)["kv_primary"] == {"port": replica["port"], "name": "kv-replica-1",
                                                    "source": "sentinels"}
        # requests succeed again: 20 answers to requests started after the kill
        def recovered():
            with lock:
                tail = [x for q, x in results if q == "switch"][-20:]
            return len(tail) == 20 and all(isinstance(x, int) and x < 300 for x in tail)
        wait_until(recovered, timeout=30, interval=0.2, what="requests succeed again after the failover")
        with lock:
            phase[0] = "after"
        n = len(results)
        wait_until(lambda: len(results) > n + 20, timeout=20, what="load after the failover")
        stop.set()
        for t in ts:
            t.join(15)
        if how == "hang":
            os.kill(primary["pid"], signal.SIGCONT)
        errs = {ph: [x for q, x in results if q == ph and not (isinstance(x, int) and x < 300)]
                for ph in ("before", "switch", "after")}
        print(f"kv failover ({how}) under load: {len(results)} requests, errors before/switch/after: "
              f"{len(errs['before'])}/{len(errs['switch'])}/{len(errs['after'])}; {len(acked)} logins acknowledged; "
              f"slowest login before/switch: {longest.get('before', 0):.2f}/{longest.get('switch', 0):.2f} s")
        # the apps retry kv commands (following the sentinels) through the
        # failover: not one request failed, before, during or after it
        assert not errs["before"] and not errs["switch"] and not errs["after"], errs
        assert sum(1 for q, _ in results if q == "switch") >= 1, "no request during the failover"
        # no acknowledged login lost: every session answered 200 still works
        lost = []
        for user, sid in acked:
            r = requests.get(f"http://{HOST}:{lb_port}/me", cookies={"sid": sid}, timeout=10)
            if r.status_code != 200 or r.json().get("name", r.json().get("user")) != user:
                lost.append((user, r.status_code, r.text[:80]))
        assert not lost, f"{len(lost)} of {len(acked)} acknowledged sessions lost: {lost[:5]}"
        # the old primary is back, as a replica of the new one
        if how == "kill":
            wait_until(lambda: (lambda q: q["restarts"] >= 1 and q["state"] == "running")(
                proc_named(status(status_port), "kv")), timeout=60, what="kv restarted by up")
        old = redis.Redis(host=HOST, port=primary["port"], decode_responses=True, socket_timeout=2)
        role = wait_until(lambda: (lambda r: r if r[0] == "slave" else None)(old.execute_command("ROLE")),
                          timeout=20, what="the old primary back as a replica")
        assert int(role[2]) == replica["port"], role
        # the worker followed the sentinels to the new primary itself (up did
        # not restart it): an upload is done
        h = Http(lb_port)
        h.login("after-failover")
        r = h.post("/upload", data=b"after the failover")
        assert r.status_code == 202, r.text
        try:
            wait_until(lambda: h.get(r.headers["Location"]).json().get("status") == "done", timeout=30,
                       what="a job done by the worker after the failover")
            assert proc_named(status(status_port), "worker-1")["restarts"] == 0
            assert "kv primary scaleout is at" in (base / "data" / "logs" / "worker-1.log").read_text()
        except AssertionError:
            print([(q["name"], q["pid"], q["state"], q["restarts"]) for q in status(status_port)["procs"]])
            print((base / "data" / "logs" / "worker-1.log").read_text()[-3000:])
            raise
        pids = [q["pid"] for q in status(status_port)["procs"] if q["pid"]] + [primary["pid"]]
        assert p.stop(signal.SIGTERM, timeout=40) == 0
        wait_until(lambda: not any(pid_alive(x) for x in pids), timeout=15, what="no process left behind")
    finally:
        p.stop(timeout=30)
        bad = sanitizer_reports(base)
        rmtree(base)
    assert not bad, bad


def test_bad_config_is_named_by_line(tmp_path):
    f = tmp_path / "bad.conf"
    f.write_text("role up\napp-min 0\nnot-a-directive 1\nlb-port eighty\n")
    out = subprocess.run([str(scaleout_bin()), "check", str(f)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert f"{f}:2:" in out.stderr and f"{f}:3:" in out.stderr and f"{f}:4:" in out.stderr
    assert subprocess.run([str(scaleout_bin()), "check", str(REPO_ROOT / "examples/up.conf")], capture_output=True,
                          timeout=10).returncode == 0
    g = tmp_path / "range.conf"
    g.write_text("role up\napp-min 3\napp-max 2\n")
    out = subprocess.run([str(scaleout_bin()), "check", str(g)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1 and "app-max (2) is below app-min (3)" in out.stderr


def test_port_in_use_is_named(tmp_path):
    import socket
    s = socket.socket()
    s.bind((HOST, 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        out = subprocess.run([str(scaleout_bin()), "up", "--dir", str(tmp_path / "d"), "--lb-port", str(port),
                              "--status-port", str(free_port())], capture_output=True, text=True, timeout=20)
    finally:
        s.close()
    assert out.returncode == 1 and f"port {port} (lb-port) is in use" in out.stderr


def test_missing_postgres_binaries_are_named(tmp_path):
    out = subprocess.run([str(scaleout_bin()), "up", "--dir", str(tmp_path / "d"), "--lb-port", str(free_port()),
                          "--status-port", str(free_port()), "--kv-port", "0", "--pg-port", "0", "--app-port", "0",
                          "--lb-admin-port", "0", "--pg-bin", str(tmp_path / "nowhere")],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 1 and "PostgreSQL binaries not found" in out.stderr
