"""
test_kv_rq.py — RQ (Debian's python3-rq 1.13), an unchanged job library, runs
jobs through kv with its own worker: it enqueues with MULTI/EXEC pipelines,
tracks job state in hashes, sets and sorted sets (registries), blocks on
BLPOP for work, keeps results in a stream (XADD ... MAXLEN, XREVRANGE), and
its worker registers and heartbeats with TTLs. The same run against
redis-server gives the same outcome.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from rq import Queue, SimpleWorker  # noqa: E402
from rq.job import JobStatus  # noqa: E402

import rq_jobs  # noqa: E402  (python3-rq missing fails: scripts/install-deps.sh installs it)


@pytest.fixture
def conn(shared_server):
    c = shared_server.client()
    c.flushall()
    yield c
    c.close()


def test_jobs_run_and_results_come_back(conn):
    q = Queue("default", connection=conn)
    jobs = [q.enqueue(rq_jobs.add, i, 10 * i) for i in range(20)]
    assert q.count == 20
    w = SimpleWorker([q], connection=conn)
    assert w.work(burst=True) is True
    for i, j in enumerate(jobs):
        j.refresh()
        assert j.get_status() == JobStatus.FINISHED
        assert j.return_value() == 11 * i          # read back from the results stream
        assert j.latest_result().type.name == "SUCCESSFUL"
    assert q.count == 0
    assert len(q.finished_job_registry) == 20


def test_failed_job_lands_in_the_failed_registry(conn):
    q = Queue("default", connection=conn)
    j = q.enqueue(rq_jobs.fail, "boom")
    SimpleWorker([q], connection=conn).work(burst=True)
    j.refresh()
    assert j.get_status() == JobStatus.FAILED
    assert "ValueError: boom" in j.latest_result().exc_string
    assert j.id in q.failed_job_registry.get_job_ids()


def test_dependencies_and_scheduled_registry(conn):
    q = Queue("default", connection=conn)
    a = q.enqueue(rq_jobs.add, 1, 2)
    b = q.enqueue(rq_jobs.add, 3, 4, depends_on=a)
    assert b.get_status() == JobStatus.DEFERRED
    SimpleWorker([q], connection=conn).work(burst=True)
    a.refresh()
    b.refresh()
    assert (a.return_value(), b.return_value()) == (3, 7)
