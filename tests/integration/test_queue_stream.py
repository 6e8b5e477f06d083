"""
test_queue_stream.py — the job queue on a kv stream (`queue kv-stream`): the
app XADDs uploads to queue:stream, workers read them through the consumer
group `workers` (src/worker/queue_stream.c). Jobs complete and are acked;
a worker killed with SIGKILL in the middle of a job loses it to another
worker after the idle time (XAUTOCLAIM) and the job is done once; failures
are retried after the back-off, then dead-lettered to queue:dead-letter.
"""
import signal

import pytest
import redis

from up_helpers import Http, Postgres, Proc, free_port, rmtree, sanitizer_reports, scaleout_bin, wait_until, world_dir


@pytest.fixture
def sq():
    base = world_dir("scaleout-sq-")
    pg = Postgres(base).start()
    kv_port = free_port()
    procs = [Proc("kv", [scaleout_bin(), "kv", "--port", kv_port, "--admin-port", "0"], port=kv_port,
                  logdir=base).start()]
    port, aport = free_port(), free_port()
    app = Proc("app", [scaleout_bin(), "app", "--port", port, "--admin-port", aport, "--kv", f"127.0.0.1:{kv_port}",
                       "--pg", pg.conninfo, "--queue", "kv-stream"], port=port, logdir=base).start()
    procs.append(app)

    def worker(name, *flags):
        p = Proc(name, [scaleout_bin(), "worker", "--kv", f"127.0.0.1:{kv_port}", "--queue", "kv-stream", "--id", name,
                        "--block", "200ms", *flags], logdir=base).start()
        procs.append(p)
        return p
    yield {"kv": redis.Redis(port=kv_port, decode_responses=True), "http": Http(app.port), "worker": worker,
           "base": base}
    for p in reversed(procs):
        p.stop(signal.SIGKILL if p.name.startswith("slow") else signal.SIGTERM)
    pg.stop()
    bad = sanitizer_reports(base)
    rmtree(base)
    assert not bad, bad


def job_state(h, loc, want, timeout=20):
    return wait_until(lambda: (lambda j: j if j.get("status") == want else None)(h.get(loc).json()), timeout=timeout,
                      what=f"{loc} {want}")


def pending(kv):
    return kv.xpending("queue:stream", "workers")["pending"]


def test_stream_queue_jobs_complete(sq):
    h, kv = sq["http"], sq["kv"]
    first = h.post("/upload", data=b"queued before any worker")
    assert first.status_code == 202
    jid = str(first.json()["job"])
    assert [e[1] for e in kv.xrange("queue:stream")] == [{"job": jid}]
    sq["worker"]("ws-1", "--job-time", "1ms")
    sq["worker"]("ws-2", "--job-time", "1ms")
    locs = [first.headers["Location"]] + [h.post("/upload", data=b"job %d" % i).headers["Location"] for i in range(20)]
    workers = set()
    for loc in locs:
        job = job_state(h, loc, "done")
        assert job["attempts"] == 1 and job["result"].startswith("bytes=")
        workers.add(job["worker"])
    assert workers <= {"ws-1", "ws-2"}
    wait_until(lambda: pending(kv) == 0 and kv.xlen("queue:stream") == 0, timeout=10, what="all acked and deleted")
    info = kv.xinfo_groups("queue:stream")
    assert [g["name"] for g in info] == ["workers"]
    # idle workers wait in XREADGROUP BLOCK, not polling
    wait_until(lambda: int(kv.info("clients")["blocked_clients"]) >= 1, timeout=10, what="a worker blocked")


def test_worker_killed_mid_job_is_reclaimed_and_done_once(sq):
    h, kv = sq["http"], sq["kv"]
    slow = sq["worker"]("slow-1", "--job-time", "120s", "--lease", "1s")
    loc = h.post("/upload", data=b"slow job").headers["Location"]
    job = job_state(h, loc, "running")
    assert job["worker"] == "slow-1"
    [p] = kv.xpending_range("queue:stream", "workers", "-", "+", 10)
    assert p["consumer"] == "slow-1" and p["times_delivered"] == 1
    # another worker is idle meanwhile; slow-1's job outlives the 1 s lease several times over, but a live
    # worker renews it (XCLAIM JUSTID every lease/3): it is not taken
    sq["worker"]("fast-1", "--job-time", "1ms", "--lease", "1s")
    started = int(kv.hget(loc.replace("/jobs/", "job:"), "started_ms"))
    wait_until(lambda: int(kv.time()[0]) * 1000 - started > 3000, timeout=10, what="3 leases")
    job = h.get(loc).json()
    assert job["status"] == "running" and job["worker"] == "slow-1" and job["attempts"] == 1
    slow.p.kill()                                          # SIGKILL: the entry stays pending under slow-1
    slow.p.wait(5)
    job = job_state(h, loc, "done")                        # XAUTOCLAIMed once idle over the lease, run again
    assert job["worker"] == "fast-1" and job["attempts"] == 2
    wait_until(lambda: pending(kv) == 0 and kv.xlen("queue:stream") == 0, timeout=10, what="acked")
    assert kv.xlen("queue:dead-letter") == 0
    assert h.get(loc).json()["status"] == "done"


def test_retry_after_backoff_then_dead_letter(sq):
    h, kv = sq["http"], sq["kv"]
    sq["worker"]("wr-1", "--job-time", "1ms", "--retry-backoff", "300ms", "--max-attempts", "2", "--lease", "5s")
    once = h.post("/upload", data=b"fail:1").headers["Location"]
    assert job_state(h, once, "done")["attempts"] == 2
    loc = h.post("/upload", data=b"fail").headers["Location"]
    jid = loc.split("/")[-1]
    job = job_state(h, loc, "failed")
    assert job["attempts"] == 2 and "simulated failure" in job["error"]
    dead = kv.xrange("queue:dead-letter")
    assert [(e[1]["job"], e[1]["deliveries"]) for e in dead] == [(jid, "2")]
    wait_until(lambda: pending(kv) == 0 and kv.xlen("queue:stream") == 0, timeout=10, what="acked")


def test_a_job_that_kills_its_workers_is_dead_lettered(sq):
    h, kv = sq["http"], sq["kv"]
    loc = h.post("/upload", data=b"slow:60000").headers["Location"]
    jid = loc.split("/")[-1]
    for n in (1, 2):
        w = sq["worker"](f"slow-p{n}", "--lease", "1s", "--max-attempts", "2")
        wait_until(lambda: h.get(loc).json().get("worker") == f"slow-p{n}", timeout=20, what=f"attempt {n} running")
        w.p.kill()
        w.p.wait(5)
    sq["worker"]("wp-3", "--lease", "1s", "--max-attempts", "2")
    job = job_state(h, loc, "failed")
    assert "gave up after 2 deliveries" in job["error"]
    assert [e[1]["job"] for e in kv.xrange("queue:dead-letter")] == [jid]
    wait_until(lambda: pending(kv) == 0, timeout=10, what="acked")
