"""
test_sentinel.py — `scaleout sentinel` against real data nodes.

Three scaleout sentinels (quorum 2, down-after 1 s) monitor a Debian
redis-server primary with two redis-server replicas:
  - the Sentinel protocol answers clients (get-master-addr-by-name, masters,
    replicas, sentinels, ckquorum, ROLE, INFO, errors);
  - SIGKILL of the primary: odown, one leader, a replica promoted, the other
    follows it, +switch-master published, redis-py's Sentinel client keeps
    writing (bounded errors; every write acknowledged after the switch is on
    the new primary), the old primary restarted becomes a replica;
  - one sentinel SIGKILLed as well: the remaining two still fail over;
  - differential: Debian's redis-sentinel and ours give the same reply shapes;
  - the same failover with `scaleout kv` nodes, run only when kv speaks
    replication (ROLE); skipped with the reason otherwise.
Missing redis-server / redis-sentinel FAIL (scripts/install-deps.sh installs them).
"""
import signal
import threading
import time

import pytest
import redis
from redis.sentinel import Sentinel

from proc_helpers import HOST, free_port, scaleout_bin, wait_until
from sentinel_helpers import (MASTER, REDIS_SENTINEL, REDIS_SERVER, master_addr, pairs, start_kv,
                              start_ours, start_redis, start_redis_sentinel, wait_replica_up,
                              wait_topology)


@pytest.fixture(autouse=True)
def _deps():
    if not REDIS_SERVER or not REDIS_SENTINEL:
        pytest.fail("redis-server / redis-sentinel not installed (scripts/install-deps.sh installs them)")
    if not scaleout_bin().exists():
        pytest.fail(f"{scaleout_bin()} not built")


@pytest.fixture
def procs():
    started = []
    yield started
    for p in reversed(started):
        p.stop()


def cluster(tmp_path, procs, start_node=start_redis, nsentinels=3, start_sentinel=start_ours):
    primary = start_node(tmp_path)
    procs.append(primary)
    replicas = [start_node(tmp_path, replicaof=primary.port) for _ in range(2)]
    procs.extend(replicas)
    for r in replicas:
        wait_replica_up(r, primary.port)
    sentinels = [start_sentinel(tmp_path, primary.port) for _ in range(nsentinels)]
    procs.extend(sentinels)
    wait_topology(sentinels, 2, nsentinels - 1)
    return primary, replicas, sentinels


def test_protocol_replies(tmp_path, procs):
    primary, replicas, sentinels = cluster(tmp_path, procs)
    c = sentinels[0].client()
    assert c.execute_command("SENTINEL", "get-master-addr-by-name", MASTER) == [HOST, str(primary.port)]
    assert c.execute_command("SENTINEL", "get-master-addr-by-name", "nope") is None
    m = pairs(c.execute_command("SENTINEL", "master", MASTER))
    assert m["name"] == MASTER and m["flags"] == "master" and m["quorum"] == "2"
    assert m["num-slaves"] == "2" and m["num-other-sentinels"] == "2"
    assert len(m["runid"]) == 40
    reps = [pairs(x) for x in c.execute_command("SENTINEL", "replicas", MASTER)]
    assert sorted(int(r["port"]) for r in reps) == sorted(r.port for r in replicas)
    assert all(r["flags"] == "slave" and r["master-port"] == str(primary.port) for r in reps)
    assert c.execute_command("SENTINEL", "slaves", MASTER) is not None
    sents = [pairs(x) for x in c.execute_command("SENTINEL", "sentinels", MASTER)]
    assert sorted(int(s["port"]) for s in sents) == sorted(s.port for s in sentinels[1:])
    assert c.execute_command("SENTINEL", "ckquorum", MASTER).startswith("OK 3 usable Sentinels")
    with pytest.raises(redis.ResponseError, match="No such master with that name"):
        c.execute_command("SENTINEL", "master", "nope")
    with pytest.raises(redis.ResponseError, match="Unknown sentinel subcommand"):
        c.execute_command("SENTINEL", "bogus")
    assert c.execute_command("ROLE") == ["sentinel", [MASTER]]
    info = c.info("sentinel")
    assert info["sentinel_masters"] == 1 and info["master0"]["status"] == "ok"
    down = c.execute_command("SENTINEL", "is-master-down-by-addr", HOST, primary.port, 0, "*")
    assert down == [0, "*", 0]
    # redis-py's own helpers parse our replies
    assert c.sentinel_masters()[MASTER]["is_master"] is True
    assert Sentinel([(HOST, s.port) for s in sentinels]).discover_master(MASTER) == (HOST, primary.port)


def _writer(sentinels, stop, log):
    """redis-py's Sentinel client, unchanged: write k<i> until stop; record
    (key, time acked) and the number of errors."""
    s = Sentinel([(HOST, x.port) for x in sentinels], socket_timeout=0.5)
    m = s.master_for(MASTER, socket_timeout=0.5, socket_connect_timeout=0.5)
    i = 0
    while not stop.is_set():
        i += 1
        try:
            m.set(f"k{i}", i)
            log["acked"].append((f"k{i}", time.monotonic()))
        except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError, redis.ResponseError):
            log["errors"] += 1
            time.sleep(0.05)


def test_failover_redis_nodes(tmp_path, procs):
    primary, replicas, sentinels = cluster(tmp_path, procs)
    sub = sentinels[0].client().pubsub()
    sub.subscribe("+switch-master")
    psubs = [s.client().pubsub() for s in sentinels]
    for p in psubs:
        p.psubscribe("*")
    wait_until(lambda: sub.get_message(timeout=0.1) is not None, timeout=5, what="subscribe confirmation")

    stop, log = threading.Event(), {"acked": [], "errors": 0}
    t = threading.Thread(target=_writer, args=(sentinels, stop, log), daemon=True)
    t.start()
    wait_until(lambda: len(log["acked"]) > 50, timeout=10, what="writes before the kill")
    primary.kill9()

    msg = wait_until(lambda: sub.get_message(timeout=0.2), timeout=40, interval=0, what="+switch-master")
    switched_at = time.monotonic()
    assert msg["type"] == "message" and msg["channel"] == "+switch-master"
    name, oldip, oldport, newip, newport = msg["data"].split()
    assert (name, oldip, int(oldport)) == (MASTER, HOST, primary.port)
    new = next(r for r in replicas if r.port == int(newport))
    other = next(r for r in replicas if r is not new)
    assert new.client().info("replication")["role"] == "master"
    wait_replica_up(other, new.port)
    # the other sentinels agree
    for s in sentinels:
        wait_until(lambda s=s: master_addr(s) == (HOST, new.port), timeout=15, what=f"sentinel {s.port} switched")
    # the events: odown agreed, one leader elected
    chans = []   # per sentinel, the event channels it published
    for p in psubs:
        got = []
        while True:
            m = p.get_message(timeout=0.1)
            if m is None:
                break
            if m["type"] == "pmessage":
                got.append(m["channel"])
        chans.append(got)
    assert all("+sdown" in c and "+switch-master" in c for c in chans), chans
    # odown agreed (a follower may learn the switch before it counts odown itself)
    assert any("+odown" in c for c in chans), chans
    # exactly one leader for the epoch that failed over
    assert sum(c.count("+elected-leader") for c in chans) == 1, chans

    # the client keeps writing; every write acked after the switch is on the new primary
    wait_until(lambda: sum(1 for _, at in log["acked"] if at > switched_at + 0.5) > 50, timeout=20,
               what="writes after the switch")
    stop.set()
    t.join(10)
    print(f"writer: {len(log['acked'])} writes acked, {log['errors']} errors during the switch")
    assert log["errors"] < 400, log["errors"]
    after = [k for k, at in log["acked"] if at > switched_at + 0.5]
    nc = new.client()
    vals = nc.mget(after)
    missing = [k for k, v in zip(after, vals) if v is None]
    assert not missing, missing[:10]

    # the old primary comes back and is made a replica of the new one
    back = start_redis(tmp_path, port=primary.port)
    procs.append(back)
    wait_replica_up(back, new.port, timeout=30)
    # the new address and the epoch are written back into each sentinel's config file
    for s in sentinels:
        conf = open(s.argv[-1]).read()
        assert f"sentinel monitor {MASTER} {HOST} {new.port} 2" in conf, conf
        assert "sentinel current-epoch 0" not in conf and "sentinel current-epoch" in conf, conf
        assert f"sentinel config-epoch {MASTER} " in conf, conf


def test_failover_with_one_sentinel_killed(tmp_path, procs):
    primary, replicas, sentinels = cluster(tmp_path, procs)
    sentinels[2].kill9()
    primary.kill9()
    alive = sentinels[:2]
    for s in alive:
        wait_until(lambda s=s: master_addr(s) not in (None, (HOST, primary.port)), timeout=40, interval=0.1,
                   what=f"sentinel {s.port} to fail over")
    addr = master_addr(alive[0])
    assert addr == master_addr(alive[1])
    new = next(r for r in replicas if r.port == addr[1])
    other = next(r for r in replicas if r is not new)
    assert new.client().info("replication")["role"] == "master"
    wait_replica_up(other, new.port)
    # the killed sentinel restarts from its (old) file and learns the switch from the hellos
    sentinels[2].start()
    wait_until(lambda: master_addr(sentinels[2]) == addr, timeout=20, interval=0.1,
               what="the restarted sentinel to learn the new primary")


def test_forced_failover_and_bad_input(tmp_path, procs):
    primary, replicas, sentinels = cluster(tmp_path, procs)
    c = sentinels[0].client()
    sub = c.pubsub()
    sub.subscribe("+switch-master")
    wait_until(lambda: sub.get_message(timeout=0.1) is not None, timeout=5, what="subscribe confirmation")
    assert sentinels[1].client().execute_command("SENTINEL", "failover", MASTER) == "OK"
    msg = wait_until(lambda: sub.get_message(timeout=0.2), timeout=30, interval=0, what="+switch-master")
    newport = int(msg["data"].split()[4])
    new = next(r for r in replicas if r.port == newport)
    other = next(r for r in replicas if r is not new)
    assert new.client().info("replication")["role"] == "master"
    wait_replica_up(other, new.port)
    # the old primary, alive, is repointed too
    wait_replica_up(primary, new.port, timeout=30)
    with pytest.raises(redis.ResponseError, match="No such master"):
        c.execute_command("SENTINEL", "failover", "nope")
    # protocol garbage: Redis's error text, then the connection is closed; the sentinel lives on
    import socket
    with socket.create_connection((HOST, sentinels[0].port), timeout=5) as s:
        s.sendall(b"*1\r\n$-5\r\n")
        assert s.recv(200).startswith(b"-ERR Protocol error: invalid bulk length")
    assert c.ping()


def _shape(entry):
    return [k for k in entry[::2]]


def test_differential_shapes_against_redis_sentinel(tmp_path, procs):
    primary = start_redis(tmp_path)
    procs.append(primary)
    replica = start_redis(tmp_path, replicaof=primary.port)
    procs.append(replica)
    wait_replica_up(replica, primary.port)
    theirs = start_redis_sentinel(tmp_path, primary.port, quorum=1)
    ours = start_ours(tmp_path, primary.port, quorum=1)
    procs += [theirs, ours]
    wait_topology([theirs, ours], 1, 1)
    a, b = theirs.client(), ours.client()
    for cmd in (("SENTINEL", "get-master-addr-by-name", MASTER), ("SENTINEL", "get-master-addr-by-name", "nope"),
                ("ROLE",)):
        assert a.execute_command(*cmd) == b.execute_command(*cmd), cmd
    # field names of every entry kind, in order
    assert _shape(a.execute_command("SENTINEL", "masters")[0]) == _shape(b.execute_command("SENTINEL", "masters")[0])
    assert _shape(a.execute_command("SENTINEL", "master", MASTER)) == _shape(b.execute_command("SENTINEL", "master", MASTER))
    assert _shape(a.execute_command("SENTINEL", "replicas", MASTER)[0]) == \
        _shape(b.execute_command("SENTINEL", "replicas", MASTER)[0])
    assert _shape(a.execute_command("SENTINEL", "sentinels", MASTER)[0]) == \
        _shape(b.execute_command("SENTINEL", "sentinels", MASTER)[0])
    # names as Redis's Sentinel gives them: a replica's ip:port, another
    # sentinel's run id (scaleout named sentinels ip:port until 2026-11-30),
    # in the replies and in the +sentinel event clients subscribe to
    for c, log in ((a, theirs), (b, ours)):
        s0 = pairs(c.execute_command("SENTINEL", "sentinels", MASTER)[0])
        r0 = pairs(c.execute_command("SENTINEL", "replicas", MASTER)[0])
        assert s0["name"] == s0["runid"] and len(s0["runid"]) == 40, s0
        assert r0["name"] == f'{r0["ip"]}:{r0["port"]}', r0
        event = f'+sentinel sentinel {s0["runid"]} {s0["ip"]} {s0["port"]} @ {MASTER} '
        wait_until(lambda: event in log.tail(1 << 20), timeout=10, what=f"{event!r} in the log")
    for cmd in (("SENTINEL", "master", "nope"), ("SENTINEL", "replicas", "nope")):
        with pytest.raises(redis.ResponseError) as ea:
            a.execute_command(*cmd)
        with pytest.raises(redis.ResponseError) as eb:
            b.execute_command(*cmd)
        assert str(ea.value) == str(eb.value)
    def ckquorum(c):
        try:
            return c.execute_command("SENTINEL", "ckquorum", MASTER)
        except redis.ResponseError as e:
            return str(e)
    # both see the other sentinel as usable once its first PINGs are answered
    wait_until(lambda: ckquorum(a).startswith("OK") and ckquorum(b).startswith("OK"), timeout=10, interval=0.1,
               what="ckquorum OK on both")
    assert ckquorum(a) == ckquorum(b)
    # redis-py's parsed view has the same keys
    assert sorted(a.sentinel_masters()[MASTER]) == sorted(b.sentinel_masters()[MASTER])


def _kv_speaks_replication(tmp_path):
    try:
        kv = start_kv(tmp_path)
    except AssertionError as e:
        return False, f"scaleout kv did not start: {e}"
    try:
        kv.client().execute_command("ROLE")
        return True, ""
    except redis.ResponseError as e:
        return False, f"scaleout kv does not answer ROLE yet ({e}); kv replication lands in a parallel branch"
    finally:
        kv.stop()


def test_failover_kv_nodes(tmp_path, procs):
    ok, why = _kv_speaks_replication(tmp_path)
    if not ok:
        pytest.skip(why)
    primary, replicas, sentinels = cluster(tmp_path, procs, start_node=start_kv)
    primary.kill9()
    for s in sentinels:
        wait_until(lambda s=s: master_addr(s) not in (None, (HOST, primary.port)), timeout=40, interval=0.1,
                   what=f"sentinel {s.port} to fail over")
    addr = master_addr(sentinels[0])
    new = next(r for r in replicas if r.port == addr[1])
    other = next(r for r in replicas if r is not new)
    assert new.client().execute_command("ROLE")[0] == "master"
    wait_replica_up(other, new.port)


@pytest.mark.parametrize("kind", ["ours", "redis-sentinel"])
def test_failover_stopped_primary(tmp_path, procs, kind):
    """A primary that hangs (SIGSTOP) instead of dying: the kernel still
    accepts connections for it, so each reconnection looked healthy and our
    sentinels never failed over (they reset the unanswered PING's time on
    every reconnect). Like redis-sentinel, they fail over; after SIGCONT the
    old primary is turned into a replica of the new one."""
    ok, why = _kv_speaks_replication(tmp_path)
    if not ok:
        pytest.skip(why)
    start_sentinel = start_ours if kind == "ours" else start_redis_sentinel
    primary, replicas, sentinels = cluster(tmp_path, procs, start_node=start_kv, start_sentinel=start_sentinel)
    primary.proc.send_signal(signal.SIGSTOP)
    try:
        for s in sentinels:
            wait_until(lambda s=s: master_addr(s) not in (None, (HOST, primary.port)), timeout=40, interval=0.1,
                       what=f"sentinel {s.port} to fail over a stopped primary")
    finally:
        primary.proc.send_signal(signal.SIGCONT)
    addr = master_addr(sentinels[0])
    new = next(r for r in replicas if r.port == addr[1])
    assert new.client().execute_command("ROLE")[0] == "master"
    wait_replica_up(primary, new.port, timeout=30)
