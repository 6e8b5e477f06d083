"""
test_kv_failover.py — failover under a write load with WAIT 1 (issue 13).

A `scaleout kv` primary with two kv replicas, three `scaleout sentinel`
monitors (quorum 2, down-after 1 s). Two writers follow
`SENTINEL get-master-addr-by-name` and do SET + WAIT 1; a write is
acknowledged when WAIT answers >= 1. The primary is SIGKILLed three times,
each killed node restarted (empty) as a replica of the new primary. After
every failover every WAIT-acknowledged write so far is readable from the new
primary, and again at the end. The time to recover (kill -> first SET
answered by the new primary) is printed, not asserted.
"""
import statistics

import pytest

from failover_load import FailoverCluster, Writers
from proc_helpers import scaleout_bin
from sentinel_helpers import REDIS_SERVER

KILLS = 3


def test_wait1_writes_survive_repeated_primary_kills(tmp_path):
    if not scaleout_bin().exists():
        pytest.fail(f"{scaleout_bin()} not built")
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    cl = FailoverCluster(tmp_path, "scaleout").start()
    w = None
    try:
        w = Writers([s.port for s in cl.sentinels], n=2)
        recs = []
        for k in range(KILLS):
            rec, ack, newport, missing, nacked = cl.kill_round(w)
            recs.append(rec)
            print(f"kill {k + 1}: new primary {newport}, recover (kill -> first write on it) {rec * 1000:.0f} ms, "
                  f"first WAIT-1 ack {ack * 1000:.0f} ms, {nacked} writes acknowledged in the round")
            assert not missing, (k, len(missing), missing[:5])
        cl.wait_stable(w)
        w.stop()
        acked = w.snapshot()
        missing = cl.missing(acked)
        print(f"{len(acked)} writes acknowledged, {w.unacked} answered WAIT 0, {w.errors} errors; "
              f"recover median {statistics.median(recs) * 1000:.0f} ms, max {max(recs) * 1000:.0f} ms")
        assert not missing, (len(missing), missing[:5])
        assert len(acked) > KILLS * 20
    finally:
        if w:
            w.stop()
        cl.stop()
