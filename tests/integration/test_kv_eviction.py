"""
Eviction under maxmemory, one fresh server per policy.

Sizes are relative to what the server reports, so the same test fits Redis
(used_memory starts near 1 MB) and scaleout (its own baseline): each test reads
INFO used_memory at start, writes a probe batch to measure the cost of one key,
and derives the capacity C (keys that fit) from it. Then it writes well past C
and checks:

  - used_memory stays <= maxmemory (+ a small slack: a server evicts before each
    command, so one value may be over for a moment);
  - evicted_keys counts exactly the keys that disappeared (dbsize + evicted ==
    keys written: all keys are distinct and none expires during the test);
  - the right class of keys went: noeviction refuses writes; volatile-* never
    touch keys without a TTL; allkeys-lru / allkeys-lfu keep keys that are read;
    volatile-ttl removes the shortest TTLs first; allkeys-fifo (scaleout only)
    removes the oldest insertions first.

Policies are approximate (sampling), so class checks are fractions, not
absolutes — but each one fails if the policy picks victims at random.
"""

import pytest

from conftest import RespError, parse_info, wait_until

MAXMEMORY = 4 * 1024 * 1024
VALUE = b"v" * 1000
BATCH = 100
PROBE = 200
OOM = "OOM command not allowed when used memory > 'maxmemory'."


class Evict:
    """One eviction scenario on its own server."""

    def __init__(self, server_factory, policy, maxmemory=MAXMEMORY):
        self.server = server_factory("--maxmemory", f"{maxmemory // (1024 * 1024)}mb",
                                     "--maxmemory-policy", policy)
        self.maxmemory = maxmemory
        self.c = self.server.conn()
        self.written = 0
        info = self.info()
        assert info["maxmemory"] == maxmemory
        self.baseline = info["used_memory"]
        room = maxmemory - self.baseline
        assert room > maxmemory // 4, (
            f"baseline used_memory {self.baseline} leaves too little room under maxmemory "
            f"{maxmemory} for this test")
        self.per_key = None
        self.capacity = None

    def info(self):
        return parse_info(self.c.cmd("INFO"))

    def write(self, keys, ttl=None, between=None):
        """SETs each key to VALUE (with EX ttl), pipelined in batches; calls
        between() after each batch. Returns the error texts, in order."""
        errors = []
        extra = ("EX", str(ttl)) if ttl else ()
        for i in range(0, len(keys), BATCH):
            chunk = keys[i:i + BATCH]
            for rep in self.c.pipeline([("SET", k, VALUE) + extra for k in chunk]):
                if isinstance(rep, RespError):
                    errors.append(rep.msg)
                else:
                    assert rep == "OK", rep
                    self.written += 1
            if between is not None:
                between()
        return errors

    def probe(self, prefix, ttl=None):
        """Writes PROBE keys and derives the per-key cost and capacity C."""
        keys = [f"{prefix}:{i}" for i in range(PROBE)]
        assert self.write(keys, ttl) == []
        info = self.info()
        assert info["evicted_keys"] == 0, "evicted during the probe: maxmemory too small"
        self.per_key = max(1, (info["used_memory"] - self.baseline) / PROBE)
        assert self.per_key >= len(VALUE), f"a {len(VALUE)}-byte value costs {self.per_key}?"
        self.capacity = int((self.maxmemory - self.baseline) / self.per_key)
        assert self.capacity > 4 * PROBE
        return keys

    def count(self, keys):
        """How many of keys exist (EXISTS does not touch LRU/LFU data)."""
        n = 0
        for i in range(0, len(keys), 200):
            n += self.c.cmd("EXISTS", *keys[i:i + 200])
        return n

    def read(self, keys):
        for rep in self.c.pipeline([("GET", k) for k in keys]):
            assert not isinstance(rep, RespError), rep

    def check_bounded(self, expect_evictions=True):
        info = self.info()
        slack = self.maxmemory // 20 + 4 * len(VALUE)
        assert info["used_memory"] <= self.maxmemory + slack, (
            f"used_memory {info['used_memory']} > maxmemory {self.maxmemory} + {slack}")
        if expect_evictions:
            assert info["evicted_keys"] > 0
            # both numbers from the same INFO: any later command may evict more
            assert keys_in(info) + info["evicted_keys"] == self.written, (
                "evicted_keys does not count the keys that disappeared")
        return info


def keys_in(info):
    return info.get("db0", {}).get("keys", 0)


def keys_of(prefix, n, start=0):
    return [f"{prefix}:{i}" for i in range(start, start + n)]


# ---------------------------------------------------------------- noeviction

def test_noeviction_refuses_writes(server_factory):
    e = Evict(server_factory, "noeviction")
    e.probe("p")
    errors = []
    i = 0
    while not errors:
        assert i < 3 * e.capacity, "writes never failed although far past maxmemory"
        errors = e.write(keys_of("k", BATCH, i))
        i += BATCH
    assert set(errors) == {OOM}
    c = e.c
    info = e.check_bounded(expect_evictions=False)
    assert info["evicted_keys"] == 0
    assert keys_in(info) == e.written
    # Right at the limit, memory hovers around maxmemory (a consumed query buffer
    # frees room for the next small write). Move the limit well below the usage
    # to check every class of command deterministically.
    lower = info["used_memory"] - 512 * 1024
    assert c.cmd("CONFIG", "SET", "maxmemory", str(lower)) == "OK"
    assert c.err("SET", "new", "v") == OOM
    assert c.err("SETNX", "new", "v") == OOM
    assert c.err("HSET", "newh", "f", "v") == OOM
    assert c.err("APPEND", "p:0", "x") == OOM
    assert c.err("INCR", "counter") == OOM
    assert c.err("MSET", "a", "1", "b", "2") == OOM
    # reads, deletes and other writes that cannot grow memory work
    assert c.cmd("GET", "p:0") == VALUE
    assert c.cmd("EXISTS", "p:1") == 1
    assert c.cmd("EXPIRE", "p:1", "100") == 1
    assert c.cmd("PING") == "PONG"
    assert parse_info(c.cmd("INFO", "stats"))["evicted_keys"] == 0
    assert c.cmd("DEL", *keys_of("p", PROBE)) == PROBE
    assert c.cmd("DEL", *keys_of("k", 1000)) > 0
    # memory was freed: writes work again
    assert c.cmd("SET", "new", "v") == "OK"
    assert c.cmd("GET", "new") == b"v"


# ---------------------------------------------------------------- allkeys-*

def test_allkeys_random_evicts_from_everywhere(server_factory):
    e = Evict(server_factory, "allkeys-random")
    first = e.probe("k")
    total = 4 * e.capacity
    rest = keys_of("k", total - PROBE, PROBE)
    assert e.write(rest) == []
    e.check_bounded()
    assert e.count(first + rest) < total * 0.5
    # random, not oldest-first: some of the first quarter are still there
    assert e.count((first + rest)[:total // 4]) > 0
    # and the newest are not all kept either
    assert e.count(rest[-e.capacity // 4:]) < e.capacity // 4


def test_allkeys_lru_keeps_recently_read_keys(server_factory):
    e = Evict(server_factory, "allkeys-lru")
    cold = e.probe("cold")
    hot = keys_of("hot", 100)
    assert e.write(hot) == []
    more_cold = keys_of("cold", int(0.55 * e.capacity) - PROBE - 100, PROBE)
    assert e.write(more_cold) == []
    cold += more_cold
    assert e.info()["evicted_keys"] == 0
    # Redis's LRU clock ticks once a second: wait until the newest cold key
    # shows an idle second (a positive signal, not a fixed sleep), so that
    # what is read from now on is younger than the cold keys.
    wait_until(lambda: e.c.cmd("OBJECT", "IDLETIME", cold[-1]) >= 1, timeout=5,
               what="the LRU clock to tick past the cold keys")
    e.read(hot)
    new = keys_of("new", int(0.9 * e.capacity))
    assert e.write(new, between=lambda: e.read(hot)) == []
    info = e.check_bounded()
    evicted = info["evicted_keys"]
    hot_left = e.count(hot)
    cold_gone = len(cold) - e.count(cold)
    assert hot_left >= 95, f"only {hot_left}/100 hot keys survived allkeys-lru"
    assert cold_gone >= 0.8 * evicted, (
        f"{evicted} evicted but only {cold_gone} of them were the cold (least recently used) keys")


def test_allkeys_lfu_keeps_frequently_read_keys(server_factory):
    e = Evict(server_factory, "allkeys-lfu")
    e.probe("cold")
    hot = keys_of("hot", 100)
    assert e.write(hot) == []
    for _ in range(10):
        e.read(hot)
    cold = keys_of("cold", 3 * e.capacity, PROBE)
    assert e.write(cold, between=lambda: e.read(hot)) == []
    e.check_bounded()
    hot_left = e.count(hot)
    assert hot_left >= 90, f"only {hot_left}/100 frequently read keys survived allkeys-lfu"
    assert e.count(cold) < 0.5 * len(cold)


@pytest.mark.scaleout_only
def test_allkeys_fifo_evicts_oldest_first(server_factory):
    e = Evict(server_factory, "allkeys-fifo")
    keys = e.probe("k")
    total = 3 * e.capacity
    keys += keys_of("k", total - PROBE, PROBE)
    assert e.write(keys[PROBE:]) == []
    e.check_bounded()
    tenth = total // 10
    first_left = e.count(keys[:tenth])
    last_left = e.count(keys[-tenth:])
    assert first_left <= 0.1 * tenth, f"{first_left}/{tenth} of the first inserted survived"
    assert last_left >= 0.9 * tenth, f"only {last_left}/{tenth} of the last inserted survived"


# ---------------------------------------------------------------- volatile-*

@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random",
                                    "volatile-ttl"])
def test_volatile_policies_keep_persistent_keys(server_factory, policy):
    e = Evict(server_factory, policy)
    persistent = e.probe("p")
    more = keys_of("p", int(0.3 * e.capacity) - PROBE, PROBE)
    assert e.write(more) == []
    persistent += more
    volatile = keys_of("v", 3 * e.capacity)
    assert e.write(volatile, ttl=3600) == []
    e.check_bounded()
    assert e.count(persistent) == len(persistent), f"{policy} evicted a key without a TTL"
    assert e.count(volatile) < len(volatile)


def test_volatile_ttl_evicts_shortest_ttl_first(server_factory):
    e = Evict(server_factory, "volatile-ttl")
    persistent = e.probe("p")
    long_ttl = keys_of("long", int(0.3 * e.capacity))
    # sized so evictions take about half of the short class, whatever the
    # server's bytes per key: sampling (5 keys a step, as Redis) finds the
    # shortest TTLs reliably until a class is nearly exhausted, in any server
    short_ttl = keys_of("short", int(0.5 * e.capacity))
    assert e.write(long_ttl, ttl=100000) == []
    assert e.write(short_ttl, ttl=1000) == []     # written later: LRU/FIFO would spare these
    flood = keys_of("mid", int(0.6 * e.capacity))
    assert e.write(flood, ttl=50000) == []
    info = e.check_bounded()
    evicted = info["evicted_keys"]
    short_gone = len(short_ttl) - e.count(short_ttl)
    assert e.count(persistent) == len(persistent)
    assert e.count(long_ttl) >= 0.95 * len(long_ttl)
    assert short_gone >= 0.9 * evicted, (
        f"{evicted} evicted but only {short_gone} of them had the shortest TTL")


def test_volatile_policy_with_no_volatile_keys_is_oom(server_factory):
    e = Evict(server_factory, "volatile-lru")
    e.probe("p")
    errors = []
    i = 0
    while not errors:
        assert i < 3 * e.capacity, "writes never failed although nothing can be evicted"
        errors = e.write(keys_of("k", BATCH, i))
        i += BATCH
    assert set(errors) == {OOM}
    assert e.info()["evicted_keys"] == 0


# ---------------------------------------------------------------- CONFIG SET at run time

def test_lowering_maxmemory_at_runtime_evicts(server_factory):
    s = server_factory("--maxmemory-policy", "allkeys-random")
    c = s.conn()
    for i in range(0, 3000, BATCH):
        c.pipeline([("SET", f"k{j}", VALUE) for j in range(i, i + BATCH)])
    used = parse_info(c.cmd("INFO", "memory"))["used_memory"]
    target = used - 1024 * 1024
    assert c.cmd("CONFIG", "SET", "maxmemory", str(target)) == "OK"
    c.cmd("SET", "trigger", "x")  # evictions happen before commands
    info = parse_info(c.cmd("INFO"))
    assert info["evicted_keys"] > 0
    assert info["used_memory"] <= target + target // 20
    assert keys_in(info) + info["evicted_keys"] == 3001
