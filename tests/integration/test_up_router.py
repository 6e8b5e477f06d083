"""
test_up_router.py — `scaleout up` with the router group (router-shards 3):
three kv shards, each a primary + a replica watched by three sentinels,
behind `scaleout router`. The apps reach kv through the router; the queue's
keys live on shard 1 (a prefix pool), where the worker reaches them directly
through the sentinels; sessions and cache spread over shards 2 and 3.

A login + profile + post + upload round trip through the lb; the keys are
where the topology says; then kill -9 of the primary of the shard holding
sessions under login/profile load: the sentinels promote its replica, the
router follows them, the apps retry "shard unavailable" answers, and no
request fails.
"""
import os
import signal
import threading

import redis
import requests

from up_helpers import HOST, Http, Proc, free_port, rmtree, sanitizer_reports, scaleout_bin, tcp_open, wait_until, \
    world_dir


def status(port):
    return requests.get(f"http://{HOST}:{port}/status", timeout=5).json()


def keys_of(port):
    return set(redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=2).keys("*"))


def test_router_topology_round_trip_and_a_shard_failover_under_load():
    base = world_dir("scaleout-up-router-")
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
router-shards 3
router-port 0
pg-port 0
pg-replicas 0
pg-proxy no
app-port 0
app-min 2
app-max 2
autoscale no
workers 1
worker-args "--job-time 5ms"
ready-timeout 60s
""")
    p = Proc("up", [scaleout_bin(), "up", conf], port=lb_port, logdir=base)
    try:
        p.start(timeout=90, ready=lambda: tcp_open(status_port) and tcp_open(lb_port) and
                status(status_port)["ready"])
        st = status(status_port)
        kinds = {q["kind"] for q in st["procs"]}
        assert {"kv", "kv-replica", "sentinel", "router", "app", "worker", "lb"} <= kinds, kinds
        # ready means every kv replica has synced: a failover before its first
        # sync would promote an empty node (the sessions of the failover below
        # were lost that way once primaries synced diskless after a delay)
        for q in st["procs"]:
            if q["kind"] == "kv-replica":
                info = redis.Redis(host=HOST, port=q["port"], socket_timeout=2).info("replication")
                assert info["master_link_status"] == "up", (q["name"], info)
        shards = {s["shard"]: s for s in st["kv_shards"]}
        assert sorted(shards) == ["s1", "s2", "s3"]
        assert all(s["primary"] in ("kv", "kv-s2", "kv-s3") for s in shards.values()), shards
        # the round trip through the lb
        h = Http(lb_port)
        h.login("ann")
        assert h.put("/me", json={"bio": "sharded"}).status_code == 200
        me = h.get("/me")
        assert me.status_code == 200 and me.json()["bio"] == "sharded", me.text
        assert h.post("/posts", json={"body": "through the router"}).status_code in (200, 201)
        r = h.post("/upload", data=b"a sharded upload")
        assert r.status_code == 202, r.text
        job = wait_until(lambda: (lambda j: j if j.get("status") == "done" else None)(h.get(r.headers["Location"]).json()),
                         timeout=30, what="the upload's job done by the worker")
        assert job["worker"] == "worker-1"
        # the queue's keys on shard 1, the sessions elsewhere
        s1 = keys_of(shards["s1"]["primary_port"])
        assert {"jobs:seq", "queue:workers"} <= s1 and not any(k.startswith("sess:") for k in s1), s1
        sess_shards = [n for n in ("s2", "s3") if any(k.startswith("sess:") for k in keys_of(shards[n]["primary_port"]))]
        assert sess_shards, "no session on shards 2 and 3"
        victim = shards[sess_shards[0]]
        # kill -9 of that shard's primary under login + profile load
        by_name = {q["name"]: q for q in st["procs"]}
        lock = threading.Lock()
        results, stop, phase = [], threading.Event(), ["before"]

        def load(tid):
            s = requests.Session()
            i = 0
            while not stop.is_set():
                i += 1
                ph = phase[0]
                try:
                    s.cookies.clear()
                    r = s.post(f"http://{HOST}:{lb_port}/login", json={"user": f"r{tid}x{i}"}, timeout=15)
                    with lock:
                        results.append((ph, r.status_code))
                    if r.status_code == 200:
                        r = s.get(f"http://{HOST}:{lb_port}/me", timeout=15)
                        with lock:
                            results.append((ph, r.status_code))
                except requests.RequestException as e:
                    with lock:
                        results.append((ph, repr(e)))
        ts = [threading.Thread(target=load, args=(t,)) for t in range(2)]
        for t in ts:
            t.start()
        wait_until(lambda: len(results) > 40, timeout=30, what="load flowing")
        phase[0] = "switch"
        os.kill(by_name[victim["primary"]]["pid"], signal.SIGKILL)
        wait_until(lambda: [s for s in status(status_port)["kv_shards"] if s["shard"] == victim["shard"]][0]
                   ["primary_port"] not in (victim["primary_port"], -1), timeout=30, interval=0.2,
                   what="the sentinels promote the shard's replica")
        wait_until(lambda: sum(1 for q, x in results if q == "switch" and x == 200) >= 20, timeout=30,
                   what="requests answered after the kill")
        stop.set()
        for t in ts:
            t.join(20)
        bad = [(q, x) for q, x in results if not (isinstance(x, int) and x < 300)]
        print(f"shard {victim['shard']} failover under load: {len(results)} requests "
              f"({sum(1 for q, _ in results if q == 'switch')} started after the kill), failed: {bad[:10]}")
        assert not bad
        assert p.stop(signal.SIGTERM, timeout=40) == 0
    finally:
        p.stop(timeout=30)
        bad = sanitizer_reports(base)
        rmtree(base)
    assert not bad, bad


def test_router_group_settings_are_checked(tmp_path):
    import subprocess
    from up_helpers import REPO_ROOT
    for body in ("router-shards 1\n", "router-shards 2\nkv-replicas 0\n", "router-shards 3\nsentinels 0\n",
                 "router-shards 9\n"):
        f = tmp_path / "r.conf"
        f.write_text("role up\n" + body)
        out = subprocess.run([str(scaleout_bin()), "check", str(f)], capture_output=True, text=True, timeout=10)
        assert out.returncode == 1 and f"{f}" in out.stderr, (body, out.stderr)
        assert "router-shards" in out.stderr, (body, out.stderr)
    out = subprocess.run([str(scaleout_bin()), "check", str(REPO_ROOT / "examples/up-sharded.conf")],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
