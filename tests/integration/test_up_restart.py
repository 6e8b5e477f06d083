"""
test_up_restart.py — a second `scaleout up` on the same state dir, after a
clean stop, gets healthy within the same bound as the first.

The topology has every stateful piece (PostgreSQL with a streaming replica
behind the pg proxy, a kv replica and three sentinels) and free ports, so the
second start gets other ports than the first: the replica made by
pg_basebackup on the first start must stream from the primary's new port
(it used to keep the first start's port from postgresql.auto.conf and never
got ready). The bound is the polling loop's, not a timing assertion.
"""
import re

import requests

from up_helpers import HOST, Http, Proc, free_port, rmtree, sanitizer_reports, scaleout_bin, tcp_open, world_dir

BOUND_S = 90


def start_and_stop(base, n):
    lb_port, status_port = free_port(), free_port()
    conf = base / f"up-{n}.conf"
    conf.write_text(f"""role up
dir {base}/data
status-port {status_port}
lb-port {lb_port}
lb-admin-port 0
kv-port 0
kv-replicas 1
sentinels 3
pg-port 0
pg-replicas 1
pg-proxy-port 0
app-port 0
app-min 2
app-max 2
autoscale no
workers 1
ready-timeout 60s
""")
    p = Proc(f"up-{n}", [scaleout_bin(), "up", conf], port=lb_port, logdir=base)
    try:
        p.start(timeout=BOUND_S, ready=lambda: tcp_open(status_port) and tcp_open(lb_port) and
                requests.get(f"http://{HOST}:{status_port}/status", timeout=5).json()["ready"])
        h = Http(lb_port)
        h.login(f"restart{n}")
        assert h.put("/me", json={"bio": f"start {n}"}).status_code == 200
        me = h.get("/me")
        assert me.status_code == 200 and me.json()["bio"] == f"start {n}", me.text
        assert p.stop(timeout=40) == 0
    finally:
        p.stop(timeout=30)
    return p.log_tail(200000)


def test_second_start_on_the_same_dir_is_healthy_within_the_first_starts_bound():
    base = world_dir("scaleout-up-restart-")
    try:
        first = start_and_stop(base, 1)
        assert "pg_basebackup of the primary" in first
        second = start_and_stop(base, 2)
        assert "pg_basebackup" not in second, "the second start reuses the replica's data"
        ready = re.findall(r"(\S+): ready on 127\.0\.0\.1:\d+ \((\d+) ms after its start\)", second)
        print("second start, spawn to ready:", ", ".join(f"{n} {ms} ms" for n, ms in ready))
        assert {"postgres", "pg-replica-1", "kv-replica-1", "sentinel-3", "app-2", "lb"} <= {n for n, _ in ready}
        bad = sanitizer_reports(base)
        assert not bad, bad
    finally:
        rmtree(base)
