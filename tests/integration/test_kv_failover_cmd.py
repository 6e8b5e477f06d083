"""
test_kv_failover_cmd.py — the FAILOVER command (Redis 6.2's coordinated failover) on scaleout
kv, proven by difference against Debian's redis-server: the same script runs
on a pair of each kind, and on mixed pairs (a kv primary handing over to a
redis-server replica, and the other way round), and the answers are compared.

  - the replies to every malformed or misplaced FAILOVER;
  - a failover swaps the roles: the replica takes over by a partial resync of
    the old primary (no full sync), data written before and after is there;
  - while it waits for a replica to catch up, writes are held (the client
    gets no answer) and INFO shows waiting-for-sync; a TIMEOUT or an ABORT
    ends the wait, the primary stays primary and the held write runs.

The replica is stopped with SIGSTOP to keep a failover waiting: a positive
signal (INFO's state) is polled, never a fixed sleep before an assertion.
"""
import signal
import socket

import pytest
import redis

from conftest import REDIS_SERVER, wait_until

HOST = "127.0.0.1"


@pytest.fixture
def launch(launch_in_dir):
    return launch_in_dir


def require_redis():
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"


def info_repl(s):
    return s.client().info("replication")


def pair(launch, pkind, rkind, tag):
    p = launch(pkind, f"{tag}-p")
    r = launch(rkind, f"{tag}-r", ["--replicaof", HOST, str(p.port)])
    p.client().set("before", "1")
    want = int(info_repl(p)["master_repl_offset"])
    wait_until(lambda: info_repl(r).get("master_link_status") == "up" and
               int(info_repl(r)["master_repl_offset"]) >= want, timeout=20, what="the replica in sync")
    # and online in the primary's eyes (FAILOVER TO wants that)
    wait_until(lambda: isinstance(info_repl(p).get("slave0"), dict) and info_repl(p)["slave0"].get("state") == "online",
               timeout=20, what="the replica online at the primary")
    return p, r


def reply(c, *args):
    try:
        return c.execute_command(*args)
    except redis.ResponseError as e:
        return "ERR: " + str(e)


def test_failover_errors_like_redis(launch):
    require_redis()
    seen = {}
    for kind in ("redis", "scaleout"):
        lone = launch(kind, f"{kind}-lone")
        c = lone.client()
        out = [reply(c, "FAILOVER"), reply(c, "FAILOVER", "ABORT"), reply(c, "FAILOVER", "TIMEOUT", "0"),
               reply(c, "FAILOVER", "TIMEOUT", "-5"), reply(c, "FAILOVER", "TIMEOUT", "x"),
               reply(c, "FAILOVER", "TIMEOUT", "100", "TIMEOUT", "200"), reply(c, "FAILOVER", "FORCE"),
               reply(c, "FAILOVER", "FORCE", "FORCE"), reply(c, "FAILOVER", "TO", HOST),
               reply(c, "FAILOVER", "TO", HOST, "x"), reply(c, "FAILOVER", "BOGUS"),
               reply(c, "FAILOVER", "ABORT", "TIMEOUT", "10")]
        p, r = pair(launch, kind, kind, kind)
        pc = p.client()
        out += [reply(pc, "FAILOVER", "TO", HOST, "1"), reply(pc, "FAILOVER", "FORCE", "TIMEOUT", "100"),
                reply(pc, "FAILOVER", "TO", HOST, str(r.port), "FORCE"),
                reply(pc, "FAILOVER", "TO", "nosuchhost", str(r.port)),
                reply(r.client(), "FAILOVER"), reply(r.client(), "FAILOVER", "ABORT"),
                info_repl(p)["master_failover_state"], info_repl(r)["master_failover_state"]]
        seen[kind] = out
    assert seen["scaleout"] == seen["redis"], seen


@pytest.mark.parametrize("pkind,rkind", [("redis", "redis"), ("scaleout", "scaleout"), ("scaleout", "redis"),
                                         ("redis", "scaleout")])
def test_failover_swaps_roles(launch, pkind, rkind):
    """FAILOVER (to any replica, or TO the replica): the replica becomes the
    primary, the old primary its replica by a partial resync; both keep the
    data. redis/redis is the anchor: the same assertions hold for it."""
    require_redis()
    for how, tag in ((["FAILOVER"], "any"), (None, "to")):
        p, r = pair(launch, pkind, rkind, f"{pkind}-{rkind}-{tag}")
        args = how or ["FAILOVER", "TO", HOST, str(r.port)]
        partial0 = int(r.client().info("stats")["sync_partial_ok"])
        assert p.client().execute_command(*args) in (b"OK", "OK", True)
        wait_until(lambda: info_repl(r)["role"] == "master" and info_repl(p)["role"] == "slave" and
                   info_repl(p).get("master_link_status") == "up", timeout=20, what="the roles swapped")
        wait_until(lambda: info_repl(p)["master_failover_state"] == "no-failover", timeout=10,
                   what="the old primary's failover state cleared")
        assert int(info_repl(p)["master_port"]) == r.port
        # the old primary continued the new one's history (PSYNC, no full sync)
        assert int(r.client().info("stats")["sync_partial_ok"]) == partial0 + 1
        assert int(r.client().info("stats")["sync_full"]) == 0
        assert info_repl(r)["master_failover_state"] == "no-failover"
        r.client().set("after", "2")
        wait_until(lambda: p.client().get("after") == b"2", timeout=10, what="the write on the new primary replicated")
        assert p.client().get("before") == b"1" and r.client().get("before") == b"1"
        with pytest.raises(redis.ReadOnlyError):
            p.client().set("x", "1")


def held_write(port):
    """Sends SET held 1 on a new connection; returns the socket (the answer is read later)."""
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nheld\r\n$1\r\n1\r\n")
    return s


def answered(s, timeout):
    s.settimeout(timeout)
    try:
        return s.recv(100)
    except socket.timeout:
        return None


@pytest.mark.parametrize("kind", ["redis", "scaleout"])
@pytest.mark.parametrize("end", ["timeout", "abort"])
def test_failover_holds_writes_while_waiting(launch, kind, end):
    """With the replica stopped, FAILOVER waits (waiting-for-sync) and holds
    writes; reads still answer. TIMEOUT or ABORT ends it: the primary stays
    primary and the held write runs."""
    require_redis()
    p, r = pair(launch, kind, kind, f"{kind}-{end}")
    r.proc.send_signal(signal.SIGSTOP)
    try:
        pc = p.client()
        pc.set("moved", "1")  # the stopped replica cannot acknowledge this
        args = ["FAILOVER", "TIMEOUT", "1500"] if end == "timeout" else ["FAILOVER"]
        assert pc.execute_command(*args) in (b"OK", "OK", True)
        assert info_repl(p)["master_failover_state"] == "waiting-for-sync"
        s = held_write(p.port)
        try:
            assert pc.get("moved") == b"1"  # reads are not held
            assert answered(s, 0.3) is None  # the write is
            if end == "abort":
                assert pc.execute_command("FAILOVER", "ABORT") in (b"OK", "OK", True)
            wait_until(lambda: info_repl(p)["master_failover_state"] == "no-failover", timeout=20,
                       what="the failover to end")
            assert answered(s, 10) == b"+OK\r\n"
        finally:
            s.close()
        assert info_repl(p)["role"] == "master"
        assert pc.get("held") == b"1"
        assert reply(pc, "FAILOVER", "ABORT") == "ERR: No failover in progress."
    finally:
        r.proc.send_signal(signal.SIGCONT)


@pytest.mark.parametrize("kind", ["redis", "scaleout"])
def test_failover_force_after_timeout(launch, kind):
    """FAILOVER TO r FORCE TIMEOUT: the replica cannot acknowledge (stopped),
    so at the deadline the primary fails over anyway: it turns into r's
    replica (failover-in-progress while r is stopped) and, once r runs again
    and takes the PSYNC FAILOVER, the roles are swapped."""
    require_redis()
    p, r = pair(launch, kind, kind, f"{kind}-force")
    r.proc.send_signal(signal.SIGSTOP)
    try:
        p.client().set("moved", "1")
        assert p.client().execute_command("FAILOVER", "TO", HOST, str(r.port), "FORCE", "TIMEOUT", "300") in \
            (b"OK", "OK", True)
        wait_until(lambda: info_repl(p)["master_failover_state"] == "failover-in-progress", timeout=10,
                   what="the forced failover to begin")
    finally:
        r.proc.send_signal(signal.SIGCONT)
    # r has just been woken (and p may be taking a full sync from it): a
    # connection error or LOADING while it settles is "not yet"
    def swapped():
        try:
            return info_repl(r)["role"] == "master" and info_repl(p)["role"] == "slave" and \
                info_repl(p).get("master_link_status") == "up" and info_repl(p)["master_failover_state"] == "no-failover"
        except redis.RedisError:
            return False
    wait_until(swapped, timeout=30, what="the roles swapped")
    assert r.client().get("before") == b"1"
