"""
Key expiry: keys vanish when their time comes, whether they are read (lazy
expiry) or left alone (active expiry), and the expired_keys stat counts them.
Waits are bounded polls on the server's answers; where wall time must pass (a
key's deadline), the test waits for the deadline itself, never a guess.
"""
import time

from conftest import parse_info, wait_until


def wait_past(deadline):
    """Waits until time.monotonic() >= deadline (bounded: deadline is near)."""
    assert deadline - time.monotonic() < 5
    wait_until(lambda: time.monotonic() >= deadline, timeout=6, interval=0.005,
               what="wall clock")


def expired_keys(c):
    return parse_info(c.cmd("INFO", "stats"))["expired_keys"]


def test_px_key_disappears(c):
    t0 = time.monotonic()
    assert c.cmd("SET", "k", "v", "PX", "100") == "OK"
    assert 0 < c.cmd("PTTL", "k") <= 100
    wait_until(lambda: c.cmd("GET", "k") is None, timeout=3, interval=0.01, what="key expiry")
    assert time.monotonic() - t0 >= 0.095, "key expired before its time"
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("TTL", "k") == -2
    assert c.cmd("PTTL", "k") == -2


def test_lazy_expiry_on_access(c):
    before = expired_keys(c)
    c.cmd("SET", "s", "v", "PX", "50")
    c.cmd("HSET", "h", "f", "v")
    c.cmd("PEXPIRE", "h", "50")
    c.cmd("SET", "n", "5", "PX", "50")
    wait_past(time.monotonic() + 0.06)
    # whatever removed them (a read or the active cycle), none is visible
    assert c.cmd("GET", "s") is None
    assert c.cmd("EXISTS", "s", "h") == 0
    assert c.cmd("TYPE", "h") == "none"
    assert c.cmd("HGETALL", "h") == []
    assert c.cmd("HLEN", "h") == 0
    assert c.cmd("MGET", "s", "n") == [None, None]
    assert c.cmd("KEYS", "*") == []
    assert c.cmd("SCAN", "0", "COUNT", "100") == [b"0", []]
    assert c.cmd("RANDOMKEY") is None
    # a write on an expired key starts from nothing, without a TTL
    assert c.cmd("INCR", "n") == 1
    assert c.cmd("TTL", "n") == -1
    assert c.cmd("HSET", "h", "g", "w") == 1
    assert c.cmd("HGETALL", "h") == [b"g", b"w"]
    assert c.cmd("TTL", "h") == -1
    assert expired_keys(c) - before >= 3


def test_ttl_counts_down(c):
    c.cmd("SET", "k", "v", "PX", "10000")
    t0 = time.monotonic()
    first = c.cmd("PTTL", "k")
    wait_past(t0 + 0.2)
    second = c.cmd("PTTL", "k")
    assert 9000 < second <= first - 190


def test_persist_cancels_expiry(c):
    c.cmd("SET", "k", "v", "PX", "100")
    c.cmd("SET", "keep", "v", "PX", "100")
    assert c.cmd("PERSIST", "k") == 1
    assert c.cmd("SET", "keep", "v2", "KEEPTTL") == "OK"
    c.cmd("SET", "reset", "v", "PX", "100")
    c.cmd("SET", "reset", "v2")   # plain SET drops the TTL
    wait_past(time.monotonic() + 0.12)
    assert c.cmd("GET", "k") == b"v"
    assert c.cmd("GET", "keep") is None
    assert c.cmd("GET", "reset") == b"v2"


def test_active_expiry_removes_untouched_keys(server, c):
    before = expired_keys(c)
    c.pipeline([("SET", f"exp:{i}", "v", "PX", "50") for i in range(1000)])
    c.pipeline([("SET", f"keep:{i}", "v") for i in range(10)])
    c.cmd("HSET", "keephash", "f", "v")
    c.pipeline([("HSET", f"exphash:{i}", "f", "v") for i in range(100)])
    c.pipeline([("PEXPIRE", f"exphash:{i}", "50") for i in range(100)])
    # no key is read from here on: only the server's own cycle can remove them
    wait_until(lambda: c.cmd("DBSIZE") == 11, timeout=3, interval=0.05,
               what="active expiry to remove 1100 keys")
    ks = parse_info(c.cmd("INFO", "keyspace"))
    assert ks["db0"]["keys"] == 11
    assert ks["db0"]["expires"] == 0
    assert expired_keys(c) - before >= 1100


def test_expired_keys_stat_via_info_keyspace(server, c):
    c.pipeline([("SET", f"e{i}", "v", "PX", "300") for i in range(200)])
    ks = parse_info(c.cmd("INFO", "keyspace"))
    assert ks["db0"]["expires"] == 200
    wait_until(lambda: "db0" not in parse_info(c.cmd("INFO", "keyspace")), timeout=3,
               interval=0.05, what="keyspace to empty")
    assert c.cmd("INFO", "keyspace") == b"# Keyspace\r\n"


def test_expire_and_setex_with_redis_py(r):
    r.set("session:1", "data", px=100)
    r.setex("session:2", 100, "data")
    assert r.ttl("session:2") > 90
    wait_until(lambda: r.get("session:1") is None, timeout=3, interval=0.01, what="expiry")
    assert r.exists("session:1", "session:2") == 1
