"""
test_app.py — `scaleout app` and `scaleout worker` against a real PostgreSQL
and a real `scaleout kv`, two app instances side by side (stateless: any
instance serves any request).
"""
import json
from unittest.mock import ANY
import signal
import socket
import threading

import pytest
import redis
import requests

from up_helpers import (HOST, Http, Postgres, Proc, app_status, free_port, rmtree, sanitizer_reports, scaleout_bin,
                        wait_until, world_dir)


@pytest.fixture(scope="module")
def world():
    base = world_dir("scaleout-app-")
    pg = Postgres(base).start()
    kv_port = free_port()
    kv = Proc("kv", [scaleout_bin(), "kv", "--port", kv_port, "--admin-port", "0"], port=kv_port, logdir=base).start()
    procs = [kv]

    def app(name, *flags):
        port, aport = free_port(), free_port()
        p = Proc(name, [scaleout_bin(), "app", "--port", port, "--admin-port", aport, "--kv", f"127.0.0.1:{kv_port}",
                        "--pg", pg.conninfo, *flags], port=port, logdir=base).start()
        p.admin = aport
        procs.append(p)
        return p

    w = {"base": base, "pg": pg, "kv_port": kv_port, "app": app,
         "a": app("app-a"), "b": app("app-b")}
    worker = Proc("worker", [scaleout_bin(), "worker", "--kv", f"127.0.0.1:{kv_port}", "--job-time", "5ms",
                             "--retry-backoff", "50ms", "--id", "w-main"], logdir=base).start()
    procs.append(worker)
    w["worker"] = worker
    yield w
    for p in reversed(procs):
        p.stop()
    pg.stop()
    bad = sanitizer_reports(base)
    rmtree(base)
    assert not bad, bad


def test_session_from_one_instance_is_valid_on_the_other(world):
    a, b = Http(world["a"].port), Http(world["b"].port)
    r = a.login("ann")
    assert "sid=" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    b.s.cookies.update(a.s.cookies)        # the same browser, now routed to the other instance
    r = b.get("/me")
    assert r.status_code == 200 and r.json()["user"] == "ann"
    assert b.post("/logout").status_code == 200
    a2 = Http(world["a"].port)
    a2.s.cookies.set("sid", a.s.cookies.get("sid"))
    assert a2.get("/me").status_code == 401          # logged out everywhere


def test_no_session_is_401(world):
    h = Http(world["a"].port)
    assert h.get("/me").status_code == 401
    h.s.cookies.set("sid", "0" * 32)
    assert h.get("/feed").status_code == 401


def test_profile_cache_hit_avoids_the_database(world):
    a, b = Http(world["a"].port), Http(world["b"].port)
    a.login("cat")
    r = a.put("/me", json={"bio": "hello \"world\" ü", "email": "cat@example.com"})
    assert r.status_code == 200 and r.json()["bio"] == "hello \"world\" ü"
    before = app_status(world["b"].admin)
    r1 = b.get("/profile/cat")                      # miss: loads from PostgreSQL, fills kv
    mid = app_status(world["b"].admin)
    r2 = b.get("/profile/cat")                      # hit: kv only
    r3 = b.get("/profile/cat")
    after = app_status(world["b"].admin)
    assert r1.json() == r2.json() == r3.json()
    assert r1.json()["email"] == "cat@example.com"
    assert mid["db_queries_total"] - before["db_queries_total"] == 1
    assert after["db_queries_total"] == mid["db_queries_total"]       # two reads, no query
    assert after["cache_hits_total"] - mid["cache_hits_total"] == 2
    # cache-aside invalidates on write: the other instance sees the new value at once
    assert a.put("/me", json={"bio": "changed"}).status_code == 200
    r = b.get("/profile/cat").json()
    assert r["bio"] == "changed" and r["email"] == "cat@example.com"


def test_cache_strategies_none_and_write_through(world):
    none = world["app"]("app-none", "--profile-cache", "none")
    wt = world["app"]("app-wt", "--profile-cache", "write-through")
    h = Http(none.port)
    h.login("dan")
    h.put("/me", json={"bio": "d"})
    s0 = app_status(none.admin)
    for _ in range(3):
        assert h.get("/profile/dan").json()["bio"] == "d"
    s1 = app_status(none.admin)
    assert s1["db_queries_total"] - s0["db_queries_total"] == 3 and s1["cache_hits_total"] == 0
    w = Http(wt.port)
    w.login("dan")
    assert w.put("/me", json={"bio": "through"}).status_code == 200
    s0 = app_status(wt.admin)
    assert w.get("/profile/dan").json()["bio"] == "through"      # written through: a hit at once
    s1 = app_status(wt.admin)
    assert s1["cache_hits_total"] - s0["cache_hits_total"] == 1
    assert s1["db_queries_total"] == s0["db_queries_total"]
    none.stop()
    wt.stop()


def pg_bio(world, name):
    import psycopg2
    c = psycopg2.connect(world["pg"].conninfo)
    try:
        with c.cursor() as cur:
            cur.execute("SELECT bio, email FROM users WHERE name = %s", (name,))
            row = cur.fetchone()
        return row
    finally:
        c.close()


def test_write_behind_answers_from_kv_at_once_and_lands_in_postgres(world):
    a = world["app"]("app-wb1", "--profile-cache", "write-behind", "--write-behind-interval", "50ms")
    b = world["app"]("app-wb2", "--profile-cache", "write-behind", "--write-behind-interval", "50ms")
    h, g = Http(a.port), Http(b.port)
    h.login("wbu")
    g.s.cookies.update(h.s.cookies)
    r = h.put("/me", json={"bio": "behind \"1\" \\ é", "email": "w@example.com"})
    assert r.status_code == 200 and r.json()["bio"] == "behind \"1\" \\ é"
    # readable at once, from kv, on any instance
    assert g.get("/me").json()["bio"] == "behind \"1\" \\ é"
    wait_until(lambda: pg_bio(world, "wbu") == ("behind \"1\" \\ é", "w@example.com"), timeout=15,
               what="the write-behind value in PostgreSQL")
    # a partial change is merged with the current profile
    assert g.put("/me", json={"email": "x@example.com"}).json() == {
        "user": "wbu", "bio": "behind \"1\" \\ é", "email": "x@example.com", "updated_at": ANY}
    wait_until(lambda: pg_bio(world, "wbu") == ("behind \"1\" \\ é", "x@example.com"), timeout=15,
               what="the merged change in PostgreSQL")
    # a burst of writes by many users, spread over both instances: all of them land
    users = [f"wb{i}" for i in range(30)]
    for i, u in enumerate(users):
        c = Http((a if i % 2 else b).port)
        c.login(u)
        assert c.put("/me", json={"bio": f"bio of {u}"}).status_code == 200
    wait_until(lambda: all(pg_bio(world, u) == (f"bio of {u}", "") for u in users), timeout=20,
               what="every write of the burst in PostgreSQL")
    rd = redis.Redis(port=world["kv_port"])
    wait_until(lambda: rd.scard("wb:dirty") == 0, timeout=10, what="nothing left dirty")
    flushed = app_status(a.admin)["writebehind_flushed_total"] + app_status(b.admin)["writebehind_flushed_total"]
    assert flushed >= 32 and app_status(a.admin)["writebehind_lost_total"] == 0
    a.stop()
    b.stop()


def test_write_behind_instance_restarted_flushes_what_it_held(world):
    # a previous life of the instance on this port died holding a value in its flushing set
    rd = redis.Redis(port=world["kv_port"])
    port, aport = free_port(), free_port()
    rd.set("profile:wbcrash", json.dumps({"user": "wbcrash", "bio": "held at the crash", "email": "", "updated_at": 1}))
    rd.sadd(f"wb:flushing:127.0.0.1:{port}", "profile:wbcrash")
    rd.sadd("wb:dirty", "not-a-profile")          # junk in the dirty set is dropped, not retried forever
    p = Proc("app-wbcrash", [scaleout_bin(), "app", "--port", port, "--admin-port", aport, "--kv",
                             f"127.0.0.1:{world['kv_port']}", "--pg", world["pg"].conninfo, "--profile-cache",
                             "write-behind", "--write-behind-interval", "50ms"], port=port, logdir=world["base"]).start()
    try:
        wait_until(lambda: pg_bio(world, "wbcrash") == ("held at the crash", ""), timeout=15,
                   what="the held value flushed by the restarted instance")
        # the set is emptied after the PostgreSQL commit the wait above saw:
        # wait for it too (under ASan the check could fall between the two)
        wait_until(lambda: rd.scard(f"wb:flushing:127.0.0.1:{port}") == 0, timeout=10,
                   what="the flushing set emptied")
        wait_until(lambda: not rd.sismember("wb:dirty", "not-a-profile"), timeout=10, what="junk dropped")
    finally:
        p.stop()


def test_read_through_loads_a_cold_key_once(world):
    app = world["app"]("app-rt", "--product-cache", "read-through", "--concurrency", "64", "--service-time", "0")
    s0 = app_status(app.admin)
    answers = []

    def one():
        answers.append(requests.get(f"http://{HOST}:{app.port}/products/777", timeout=10).json())
    ts = [threading.Thread(target=one) for _ in range(12)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    s1 = app_status(app.admin)
    assert len(answers) == 12 and all(a == answers[0] for a in answers) and answers[0]["id"] == 777
    # twelve readers, one database query: concurrent misses waited for the load in flight
    assert s1["db_queries_total"] - s0["db_queries_total"] == 1
    assert (s1["cache_hits_total"] + s1["cache_misses_total"]) - (s0["cache_hits_total"] + s0["cache_misses_total"]) == 12
    app.stop()


def test_product_read_time_waits_in_postgres(world):
    """--product-read-time: the product read itself waits in PostgreSQL
    (pg_sleep in the query, so a read replica can take it): seen while it
    runs in pg_stat_activity, and the answer is the same product."""
    import psycopg2
    app = world["app"]("app-prt", "--product-cache", "none", "--product-read-time", "3s",
                       "--concurrency", "8", "--service-time", "0")
    got = {}

    def one():
        got["r"] = requests.get(f"http://{HOST}:{app.port}/products/778", timeout=20)
    t = threading.Thread(target=one)
    t.start()
    c = psycopg2.connect(world["pg"].conninfo)
    c.autocommit = True

    def sleeping():
        with c.cursor() as cur:
            cur.execute("SELECT query FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                        " AND query LIKE '%FROM products, pg_sleep(%'")
            return cur.fetchall()
    try:
        wait_until(lambda: sleeping(), timeout=10, what="the product read waiting in pg_sleep")
    finally:
        t.join()
        c.close()
    assert got["r"].status_code == 200 and got["r"].json()["id"] == 778
    app.stop()


def test_refresh_ahead_reloads_a_hot_key_before_it_expires(world):
    app = world["app"]("app-ra", "--profile-cache", "refresh-ahead", "--cache-ttl", "2s", "--refresh-ahead", "10")
    h = Http(app.port)
    h.login("ria")
    assert h.put("/me", json={"bio": "ahead"}).json()["bio"] == "ahead"      # written with its refresh time
    s0 = app_status(app.admin)
    # keep reading: after 10% of the TTL a hit starts one background reload;
    # every read stays a hit (no reader waits on the database)
    def refreshed():
        assert h.get("/profile/ria").json()["bio"] == "ahead"
        s = app_status(app.admin)
        return s if s["db_queries_total"] > s0["db_queries_total"] else None
    s1 = wait_until(refreshed, timeout=10, interval=0.05, what="a background refresh")
    assert s1["cache_misses_total"] == s0["cache_misses_total"]
    assert s1["cache_hits_total"] > s0["cache_hits_total"]
    app.stop()


def test_profile_of_another_user_cannot_be_changed(world):
    h = Http(world["a"].port)
    h.login("eve")
    assert h.put("/profile/ann", json={"bio": "hacked"}).status_code == 403
    assert Http(world["a"].port).get("/profile/nobody-here").status_code == 404


def test_posts_follow_and_feed(world):
    f, g = Http(world["a"].port), Http(world["b"].port)
    f.login("fay")
    g.login("gus")
    r = f.post("/posts", json={"body": "first from fay"})
    assert r.status_code == 201 and r.json()["author"] == "fay"
    assert g.post("/follow/fay").status_code == 200
    g.post("/posts", json={"body": "gus here"})
    feed = g.get("/feed").json()
    bodies = [p["body"] for p in feed["posts"]]
    assert bodies[:2] == ["gus here", "first from fay"]            # newest first, own and followed
    assert [p["body"] for p in f.get("/feed").json()["posts"]][0] == "first from fay"
    assert f.post("/posts", json={"body": ""}).status_code == 400
    assert f.post("/follow/fay").status_code == 400


def test_feed_small_author_is_fanned_out_on_write(world):
    kv = redis.Redis(port=world["kv_port"], decode_responses=True)
    author, fol = Http(world["a"].port), Http(world["b"].port)
    author.login("small-au")
    fol.login("small-fol")
    old = author.post("/posts", json={"body": "before the follow"}).json()["id"]
    assert fol.post("/follow/small-au").status_code == 200
    assert not kv.exists("timeline:small-fol")                 # a follow invalidates; the first read builds it
    s0 = app_status(world["b"].admin)
    assert [p["body"] for p in fol.get("/feed").json()["posts"]] == ["before the follow"]
    assert app_status(world["b"].admin)["timeline_rebuilds_total"] == s0["timeline_rebuilds_total"] + 1
    assert str(old) in kv.lrange("timeline:small-fol", 0, -1)
    r = author.post("/posts", json={"body": "pushed"}).json()
    assert r["fanout"] == "write" and r["timelines"] >= 1
    assert kv.lrange("timeline:small-fol", 0, 0) == [str(r["id"])]    # on the follower's timeline, at the head
    s1 = app_status(world["b"].admin)
    feed = fol.get("/feed").json()["posts"]
    s2 = app_status(world["b"].admin)
    assert [p["body"] for p in feed] == ["pushed", "before the follow"]
    assert s2["timeline_hits_total"] == s1["timeline_hits_total"] + 1
    assert s2["timeline_rebuilds_total"] == s1["timeline_rebuilds_total"]


def test_feed_big_author_is_read_not_copied(world):
    app = world["app"]("app-fan", "--fanout-threshold", "2", "--timeline-length", "5", "--feed-limit", "4")
    kv = redis.Redis(port=world["kv_port"], decode_responses=True)
    h = {n: Http(app.port) for n in ("bigacct", "smallacct", "fan1", "fan2")}
    for n, c in h.items():
        c.login(n)
    for fan in ("fan1", "fan2"):
        assert h[fan].post("/follow/bigacct").status_code == 200   # two followers: big at threshold 2
    assert h["fan1"].post("/follow/smallacct").status_code == 200  # one follower: small
    h["fan1"].get("/feed")                                         # builds fan1's timeline
    ids = {}
    for author, body in (("smallacct", "one"), ("bigacct", "two"), ("smallacct", "three"), ("bigacct", "four")):
        r = h[author].post("/posts", json={"body": body}).json()
        assert r["fanout"] == ("read" if author == "bigacct" else "write")
        ids[body] = str(r["id"])
    tl = kv.lrange("timeline:fan1", 0, -1)
    assert ids["one"] in tl and ids["three"] in tl
    assert ids["two"] not in tl and ids["four"] not in tl          # the big account's posts are not copied
    assert [p["body"] for p in h["fan1"].get("/feed").json()["posts"]] == ["four", "three", "two", "one"]
    assert [p["body"] for p in h["fan2"].get("/feed").json()["posts"]] == ["four", "two"]
    # bounded: timeline-length 5 ids per timeline, feed-limit 4 posts per page
    for i in range(6):
        h["smallacct"].post("/posts", json={"body": f"more {i}"})
    assert kv.llen("timeline:fan1") == 5
    feed = [p["body"] for p in h["fan1"].get("/feed").json()["posts"]]
    assert feed == ["more 5", "more 4", "more 3", "more 2"]
    app.stop()


def test_upload_is_queued_202_and_done_by_the_worker(world):
    h = Http(world["a"].port)
    r = h.post("/upload", data=b"\x00binary\xffpayload")
    assert r.status_code == 202
    loc = r.headers["Location"]
    assert loc == r.json()["status_url"] and loc.startswith("/jobs/")
    job = wait_until(lambda: (lambda j: j if j.get("status") == "done" else None)(Http(world["b"].port).get(loc).json()),
                     timeout=15, what="job done")
    assert job["attempts"] == 1 and job["size"] == 15 and job["result"].startswith("bytes=15 ")


def test_upload_sync_does_the_same_work_in_the_request(world):
    h = Http(world["a"].port)
    body = b"same work either way"
    loc = h.post("/upload", data=body).headers["Location"]
    job = wait_until(lambda: (lambda j: j if j.get("status") == "done" else None)(h.get(loc).json()), timeout=15,
                     what="job done")
    r = h.post("/upload-sync", data=body)
    assert r.status_code == 200 and r.json() == {"status": "done", "result": job["result"]}


def test_failed_job_is_retried_then_marked_failed(world):
    h = Http(world["a"].port)
    once = h.post("/upload", data=b"fail:1").headers["Location"]
    always = h.post("/upload", data=b"fail").headers["Location"]
    j1 = wait_until(lambda: (lambda j: j if j.get("status") == "done" else None)(h.get(once).json()), timeout=15,
                    what="retried job done")
    assert j1["attempts"] == 2
    j2 = wait_until(lambda: (lambda j: j if j.get("status") == "failed" else None)(h.get(always).json()), timeout=15,
                    what="job failed for good")
    assert j2["attempts"] == 3 and "simulated failure" in j2["error"]
    assert h.get("/jobs/999999").status_code == 404
    # kv-list (the default): the dead letter is in queue:dead, nothing is left held or delayed
    kv = redis.Redis(port=world["kv_port"], decode_responses=True)
    assert always.split("/")[-1] in kv.lrange("queue:dead", 0, -1)
    assert once.split("/")[-1] not in kv.lrange("queue:dead", 0, -1)
    assert kv.zcard("queue:delayed") == 0 and kv.llen("queue:processing:w-main") == 0


def job_state(h, loc, want):
    return wait_until(lambda: (lambda j: j if j.get("status") == want else None)(h.get(loc).json()), timeout=20,
                      what=f"{loc} {want}")


@pytest.fixture
def queue_world(world):
    """A kv of its own (so the world's worker does not take the jobs), an app
    on it, and a way to start workers against it."""
    base = world["base"]
    kv_port = free_port()
    kv = Proc("kv-q", [scaleout_bin(), "kv", "--port", kv_port, "--admin-port", "0"], port=kv_port, logdir=base).start()
    procs = [kv]

    def worker(name, *flags):
        p = Proc(name, [scaleout_bin(), "worker", "--kv", f"127.0.0.1:{kv_port}", "--id", name, *flags],
                 logdir=base).start()
        procs.append(p)
        return p
    app = world["app"]("app-q", "--kv", f"127.0.0.1:{kv_port}")
    procs.append(app)
    yield {"kv": redis.Redis(port=kv_port, decode_responses=True), "kv_port": kv_port, "worker": worker,
           "http": Http(app.port), "app": app}
    for p in reversed(procs):
        p.stop(signal.SIGKILL if p.name.startswith("slow") else signal.SIGTERM)


def test_kv_list_queue_keys_and_blocking_worker(queue_world):
    q = queue_world
    h, kv = q["http"], q["kv"]
    r = h.post("/upload", data=b"list payload")          # no worker yet: the id waits on queue:jobs
    assert r.status_code == 202
    jid = str(r.json()["job"])
    assert kv.lrange("queue:jobs", 0, -1) == [jid]
    assert kv.hget(f"job:{jid}", "status") == "queued" and kv.hget(f"job:{jid}", "data") == "list payload"
    w = q["worker"]("wl-1", "--job-time", "1ms")
    job = job_state(h, f"/jobs/{jid}", "done")
    assert job["attempts"] == 1 and job["worker"] == "wl-1" and job["result"].startswith("bytes=12 ")
    assert kv.llen("queue:jobs") == 0 and kv.llen("queue:processing:wl-1") == 0
    assert "wl-1" in kv.smembers("queue:workers") and kv.pttl("worker:wl-1:alive") > 0
    # idle, it waits in BLMOVE (kv counts it as a blocked client), not polling
    wait_until(lambda: int(kv.info("clients")["blocked_clients"]) >= 1, timeout=10, what="the worker blocked in BLMOVE")
    r = h.post("/upload", data=b"second")                  # served at once by the blocked worker
    job_state(h, r.headers["Location"], "done")
    assert w.stop(signal.SIGTERM) == 0                     # SIGTERM while blocked: exits within `block`
    assert "wl-1" not in kv.smembers("queue:workers") and not kv.exists("worker:wl-1:alive")


def test_worker_killed_holding_a_job_is_reaped_and_the_job_done_elsewhere(queue_world):
    q = queue_world
    h, kv = q["http"], q["kv"]
    slow = q["worker"]("slow-1", "--job-time", "120s", "--lease", "1s")
    loc = h.post("/upload", data=b"slow job").headers["Location"]
    jid = loc.split("/")[-1]
    job = job_state(h, loc, "running")
    assert job["worker"] == "slow-1" and kv.lrange("queue:processing:slow-1", 0, -1) == [jid]
    # the lease is renewed while the long job runs
    assert kv.pttl("worker:slow-1:alive") > 0
    slow.p.kill()                                          # SIGKILL: the id stays in slow-1's processing list
    slow.p.wait(5)
    assert kv.lrange("queue:processing:slow-1", 0, -1) == [jid]
    q["worker"]("fast-1", "--job-time", "1ms", "--lease", "1s")
    job = job_state(h, loc, "done")                        # reaped once slow-1's lease expired, run again
    assert job["worker"] == "fast-1" and job["attempts"] == 2
    assert kv.llen("queue:processing:slow-1") == 0
    wait_until(lambda: "slow-1" not in kv.smembers("queue:workers"), timeout=10, what="slow-1 unregistered")


def test_restarted_worker_takes_its_own_list_back(queue_world):
    q = queue_world
    h, kv = q["http"], q["kv"]
    slow = q["worker"]("slow-2", "--job-time", "120s", "--lease", "60s")
    loc = h.post("/upload", data=b"held").headers["Location"]
    job_state(h, loc, "running")
    slow.p.kill()
    slow.p.wait(5)
    # the same name again (as `up` restarts it): no need to wait for the 60 s lease
    q["worker"]("slow-2", "--job-time", "1ms", "--lease", "60s")
    job = job_state(h, loc, "done")
    assert job["attempts"] == 2 and kv.llen("queue:processing:slow-2") == 0


def test_a_job_that_kills_its_workers_is_dead_lettered(queue_world):
    q = queue_world
    h, kv = q["http"], q["kv"]
    loc = h.post("/upload", data=b"slow:60000").headers["Location"]     # each attempt outlives its worker
    jid = loc.split("/")[-1]
    for n in (1, 2):
        w = q["worker"](f"slow-p{n}", "--lease", "1s", "--max-attempts", "2")
        job_state(h, loc, "running")
        wait_until(lambda: h.get(loc).json().get("worker") == f"slow-p{n}", timeout=20, what=f"attempt {n} running")
        w.p.kill()
        w.p.wait(5)
    # the next worker finds it has had its max-attempts: not run again, dead-lettered
    q["worker"]("wp-3", "--lease", "1s", "--max-attempts", "2")
    job = job_state(h, loc, "failed")
    assert job["attempts"] == 2 and "gave up after 2 attempts" in job["error"]
    assert kv.lrange("queue:dead", 0, -1) == [jid] and kv.llen("queue:jobs") == 0


def test_retries_back_off_then_dead_letter_kv_list(queue_world):
    q = queue_world
    h, kv = q["http"], q["kv"]
    q["worker"]("wr-1", "--job-time", "1ms", "--retry-backoff", "300ms", "--max-attempts", "2")
    loc = h.post("/upload", data=b"fail").headers["Location"]
    jid = loc.split("/")[-1]
    # after the first failure it waits in queue:delayed, status queued
    wait_until(lambda: kv.zscore("queue:delayed", jid) is not None, timeout=10, what="the retry delayed")
    assert h.get(loc).json()["status"] == "queued" and kv.llen("queue:jobs") == 0
    job = job_state(h, loc, "failed")
    assert job["attempts"] == 2 and kv.lrange("queue:dead", 0, -1) == [jid]
    assert kv.zcard("queue:delayed") == 0 and kv.llen("queue:processing:wr-1") == 0


def test_kv_hash_queue_still_works(world):
    base = world["base"]
    kv_port = free_port()
    kv = Proc("kv-h", [scaleout_bin(), "kv", "--port", kv_port, "--admin-port", "0"], port=kv_port, logdir=base).start()
    app = world["app"]("app-h", "--kv", f"127.0.0.1:{kv_port}", "--queue", "kv-hash")
    w = Proc("worker-h", [scaleout_bin(), "worker", "--kv", f"127.0.0.1:{kv_port}", "--queue", "kv-hash", "--job-time",
                          "1ms", "--poll", "10ms", "--retry-backoff", "50ms"], logdir=base).start()
    try:
        h = Http(app.port)
        r = redis.Redis(port=kv_port, decode_responses=True)
        once = h.post("/upload", data=b"fail:1").headers["Location"]
        assert r.llen("queue:jobs") == 0                   # no list: the worker scans the job hashes
        assert job_state(h, once, "done")["attempts"] == 2
    finally:
        assert w.stop() == 0
        app.stop()
        kv.stop()


def test_products_are_cacheable_at_the_edge(world):
    h = Http(world["a"].port)
    r = h.get("/products/42")
    assert r.status_code == 200 and r.json()["id"] == 42
    assert r.headers["Cache-Control"] == "public, max-age=60"
    assert h.get("/products/999999").status_code == 404
    assert h.get("/products/x").status_code == 404


def raw(port, data):
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if b"\r\n\r\n" in out and b"Connection: close" not in out and b"Content-Length" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
                if len(body) >= n:
                    break
        return out


def test_bad_input_gets_4xx(world):
    port = world["a"].port
    h = Http(port)
    assert h.post("/login", data=b"not json").status_code == 400
    assert h.post("/login", json={"user": "has space"}).status_code == 400
    assert h.post("/login", json={"user": "x" * 33}).status_code == 400
    assert h.get("/nope").status_code == 404
    assert h.s.delete(h.base + "/me", timeout=5).status_code == 405
    assert raw(port, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").startswith(
        b"HTTP/1.1 400")
    assert raw(port, b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").startswith(
        b"HTTP/1.1 411")
    assert raw(port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n").startswith(
        b"HTTP/1.1 413")
    assert h.get("/health").json() == {"status": "ok"}        # still serving


def test_capacity_queue_full_answers_503(world):
    app = world["app"]("app-slow", "--concurrency", "1", "--service-time", "300ms", "--max-queue", "1")
    codes = []
    lock = threading.Lock()

    def one():
        r = requests.get(f"http://{HOST}:{app.port}/health", timeout=20)
        with lock:
            codes.append((r.status_code, r.headers.get("Retry-After")))
    ts = [threading.Thread(target=one) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    ok = [c for c in codes if c[0] == 200]
    busy = [c for c in codes if c[0] == 503]
    assert len(ok) + len(busy) == 6 and len(ok) >= 2 and busy, codes
    assert all(c[1] == "1" for c in busy)
    assert app_status(app.admin)["rejected_total"] == len(busy)
    assert app.stop() == 0


def test_kv_down_is_503_not_a_hang(world):
    # an instance pointed at a closed port: sessions fail fast, /health still answers
    app = world["app"]("app-nokv", "--kv", f"127.0.0.1:{free_port()}")
    h = Http(app.port)
    assert h.post("/login", json={"user": "zed"}).status_code == 503
    assert h.get("/products/1").status_code == 200        # cache down: the database answers
    assert h.get("/health").status_code == 200
    assert app.stop() == 0


def test_a_hung_kv_is_cut_after_2s_and_the_command_retried(world):
    """With retries on (--kv-router yes: kv is a router whose shards fail
    over), a kv that stops answering (SIGSTOP) has its connection cut after
    2 s without a reply; the command is sent again on a new connection and
    the request is answered once kv answers again."""
    base = world["base"]
    kv_port = free_port()
    kv = Proc("kv-hang", [scaleout_bin(), "kv", "--port", kv_port, "--admin-port", "0"], port=kv_port,
              logdir=base).start()
    app = world["app"]("app-hang", "--kv", f"127.0.0.1:{kv_port}", "--kv-router", "yes", "--kv-retry", "20s")
    try:
        h = Http(app.port, timeout=30)
        h.login("before-hang")
        kv.p.send_signal(signal.SIGSTOP)
        got = []
        t = threading.Thread(target=lambda: got.append(h.get("/me").status_code))
        t.start()
        wait_until(lambda: "no reply in 2 s" in app.log_tail(), timeout=15, what="the app cuts the hung connection")
        kv.p.send_signal(signal.SIGCONT)
        t.join(30)
        assert got == [200]
        assert app_status(app.admin)["kv_retries_total"] >= 1
    finally:
        kv.p.send_signal(signal.SIGCONT)
        app.stop()
        kv.stop()


def test_sigterm_exits_0(world):
    app = world["app"]("app-term")
    Http(app.port).get("/health")
    assert app.stop(signal.SIGTERM) == 0
    assert "app stopped" in app.log_tail()


def test_metrics_follow_the_scaleout_role_scheme(world):
    """Every metric the app serves is named scaleout_app_... like every other
    role's (it served app_inflight, app_requests_total, ...), and counts."""
    a = world["a"]
    before = requests.get(f"http://{HOST}:{a.admin}/metrics", timeout=5).text
    requests.get(f"http://{HOST}:{a.port}/health", timeout=5)
    text = requests.get(f"http://{HOST}:{a.admin}/metrics", timeout=5).text
    names = {line.split()[0] for line in text.splitlines() if line and not line.startswith("#")}
    assert names and all(n.startswith("scaleout_app_") for n in names), names
    for want in ("scaleout_app_inflight", "scaleout_app_queued", "scaleout_app_requests_total",
                 "scaleout_app_kv_commands_total", "scaleout_app_kv_retries_total"):
        assert want in names

    def value(t, k):
        return int(next(line.split()[1] for line in t.splitlines() if line.startswith(k + " ")))
    assert value(text, "scaleout_app_requests_total") > value(before, "scaleout_app_requests_total")
