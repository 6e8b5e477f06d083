"""
test_kv_zset_large.py — large sorted sets (the skiplist encoding) against
redis-server, by difference: the same commands go to scaleout kv and to
redis-server, every reply must be equal (errors included).

A set of thousands of members with many equal scores (member order decides
between them) gets ZADD updates that keep a member's place (the in-place
path), that move it across the set or onto a tie, with NX/XX/GT/LT/CH/INCR,
ZINCRBY, ZREM, new members; after every batch both servers answer ZRANK,
ZREVRANK, ZSCORE, ZMSCORE, ZRANGE windows (by rank, score, lex, REV, LIMIT,
WITHSCORES), ZCOUNT, ZLEXCOUNT, and at the end the whole set and OBJECT
ENCODING. Plus the packed -> skiplist conversion at the 129th member and a
whole redis-benchmark-like ZADD run (__rand_int__ members and scores).
"""
import random

import pytest
import redis

from conftest import REDIS_SERVER, start_server


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: the differential test needs it (scripts/install-deps.sh)")
    so = start_server("scaleout", tmp_path_factory.mktemp("scaleout"))
    rd = start_server("redis", tmp_path_factory.mktemp("redis"))
    clients = (redis.Redis(port=so.port), redis.Redis(port=rd.port))
    for c in clients:
        c.response_callbacks.clear()  # compare the replies as sent, not as redis-py converts them
    yield clients
    for c in clients:
        c.close()
    so.stop()
    rd.stop()


def run_both(pair, cmds):
    """Send cmds (lists of arguments) pipelined to both servers; assert equal replies."""
    out = []
    for c in pair:
        p = c.pipeline(transaction=False)
        for cmd in cmds:
            p.execute_command(*cmd)
        res = p.execute(raise_on_error=False)
        out.append([("ERR", str(r)) if isinstance(r, Exception) else r for r in res])
    for cmd, a, b in zip(cmds, out[0], out[1]):
        assert a == b, f"{cmd}: scaleout {a!r}, redis {b!r}"
    return out[0]


def score_text(rng, ties):
    k = rng.random()
    if k < 0.6:
        return str(rng.randrange(ties))          # integers: several members each
    if k < 0.8:
        return repr(rng.uniform(-ties, ties))    # floats
    if k < 0.85:
        return rng.choice(["inf", "-inf", "0", "-0", "1e3", "(1"])  # "(1" is not a score: an error
    return str(rng.randrange(-5, 5))


def reads(rng, key, members, n):
    """Read commands over the set: ranks, scores, windows of every kind."""
    cmds = []
    for _ in range(n):
        m = rng.choice(members)
        a, b = sorted(rng.randrange(-n - 10, n + 10) for _ in range(2))
        lo, hi = sorted(rng.uniform(-50, 250) for _ in range(2))
        cmds += [
            ["ZRANK", key, m], ["ZREVRANK", key, m], ["ZSCORE", key, m],
            ["ZMSCORE", key, m, rng.choice(members), "nope"],
            ["ZRANGE", key, a, b, "WITHSCORES"],
            ["ZRANGE", key, a, b, "REV"],
            ["ZRANGE", key, lo, hi, "BYSCORE", "LIMIT", rng.randrange(5), rng.randrange(-1, 20)],
            ["ZRANGE", key, "(%r" % hi, lo, "BYSCORE", "REV", "WITHSCORES", "LIMIT", 0, 7],
            ["ZRANGEBYSCORE", key, "-inf", lo, "LIMIT", rng.randrange(100), 3],
            ["ZCOUNT", key, lo, "(%r" % hi],
        ]
    return cmds


def test_large_set_updates_and_reads(pair):
    rng = random.Random(9)
    key = "big"
    members = ["m:%d" % i for i in range(3000)] + ["x" * rng.randrange(1, 90) + str(i) for i in range(200)]
    rng.shuffle(members)
    # fill in batches of multi-member ZADDs: mostly integer scores 0..199
    for i in range(0, len(members), 100):
        cmd = ["ZADD", key]
        for m in members[i:i + 100]:
            cmd += [str(rng.randrange(200)), m]
        run_both(pair, [cmd])
    run_both(pair, [["ZCARD", key], ["OBJECT", "ENCODING", key]])
    for batch in range(40):
        cmds = []
        for _ in range(100):
            m = rng.choice(members)
            k = rng.random()
            if k < 0.25:
                cmds.append(["ZADD", key, score_text(rng, 200), m])
            elif k < 0.35:
                # a tiny step: almost always keeps the member's place
                cmds.append(["ZADD", key, "INCR", rng.choice(["0.001", "-0.001", "1e-9"]), m])
            elif k < 0.55:
                opts = rng.sample(["NX", "XX", "GT", "LT", "CH"], rng.randrange(3))
                cmds.append(["ZADD", key] + opts + [score_text(rng, 200), m])
            elif k < 0.7:
                cmds.append(["ZINCRBY", key, rng.choice(["1", "-1", "0.5", "100", "-3.25"]), m])
            elif k < 0.78:
                cmds.append(["ZREM", key, m, rng.choice(members)])
            elif k < 0.83:
                cmds.append(["ZADD", key, "CH", score_text(rng, 200), m, score_text(rng, 200), rng.choice(members)])
            else:
                new = "new:%d:%d" % (batch, rng.randrange(10**6))
                members.append(new)
                cmds.append(["ZADD", key, score_text(rng, 200), new])
        run_both(pair, cmds)
        run_both(pair, reads(rng, key, members, 20))
    run_both(pair, [["ZCARD", key], ["OBJECT", "ENCODING", key], ["ZRANGE", key, 0, -1, "WITHSCORES"]])
    # every member's rank and score, both directions
    run_both(pair, [["ZRANK", key, m] for m in members] + [["ZREVRANK", key, m] for m in members[:500]])
    # removals by rank and score, pops, then the rest compared again
    run_both(pair, [["ZREMRANGEBYRANK", key, 100, 150], ["ZREMRANGEBYSCORE", key, "(10", 20],
                    ["ZPOPMIN", key, 5], ["ZPOPMAX", key, 3], ["ZCARD", key],
                    ["ZRANGE", key, 0, -1, "WITHSCORES"]])


def test_in_place_updates_then_probes(pair):
    """A new score strictly between the neighbours' keeps the member's place
    (updated in place); members added afterwards with scores between the old
    and the new one must still land on the right side of it."""
    rng = random.Random(17)
    key = "inplace"
    cmd = ["ZADD", key]
    for i in range(4000):
        cmd += [str(i * 10), "p:%d" % i]
    run_both(pair, [cmd])
    for round_ in range(5):
        flat = pair[0].execute_command("ZRANGE", key, 0, -1, "WITHSCORES")
        elems = [(flat[i].decode(), float(flat[i + 1])) for i in range(0, len(flat), 2)]
        cmds = []
        for r in rng.sample(range(1, len(elems) - 1), 200):
            (_, lo), (m, s), (_, hi) = elems[r - 1], elems[r], elems[r + 1]
            new = rng.uniform(lo, hi)
            if not lo < new < hi or new == s:
                continue
            probe = "probe:%d:%d" % (round_, r)
            mid = (s + new) / 2  # between the old and the new score
            cmds += [["ZADD", key, repr(new), m], ["ZADD", key, repr(mid), probe],
                     ["ZRANK", key, probe], ["ZRANK", key, m], ["ZREM", key, probe]]
        run_both(pair, cmds)
    run_both(pair, [["ZRANGE", key, 0, -1, "WITHSCORES"], ["ZCOUNT", key, "-inf", "+inf"]])


def test_large_set_lex_ranges(pair):
    """All scores equal: member order alone decides; lex windows over thousands."""
    rng = random.Random(5)
    key = "lex"
    words = sorted({"".join(rng.choice("abcxyz") for _ in range(rng.randrange(1, 7))) for _ in range(3000)})
    for i in range(0, len(words), 200):
        cmd = ["ZADD", key]
        for w in words[i:i + 200]:
            cmd += ["0", w]
        run_both(pair, [cmd])
    cmds = []
    for _ in range(200):
        a, b = sorted(rng.sample(words, 2))
        cmds += [["ZRANGEBYLEX", key, "[" + a, "(" + b, "LIMIT", rng.randrange(10), 10],
                 ["ZREVRANGEBYLEX", key, "[" + b, "-", "LIMIT", 0, 5],
                 ["ZLEXCOUNT", key, "(" + a, "+"],
                 ["ZRANK", key, rng.choice(words)]]
    run_both(pair, cmds)
    # a member moves off the common score and back: order and ranks follow
    w = words[len(words) // 2]
    run_both(pair, [["ZADD", key, "1", w], ["ZRANK", key, w], ["ZADD", key, "0", w], ["ZRANK", key, w],
                    ["ZADD", key, "-0", w], ["ZRANK", key, w], ["ZSCORE", key, w],
                    ["ZRANGE", key, 0, -1]])


def test_conversion_at_the_limit(pair):
    """The packed set becomes a skiplist at the 129th member (and at a 65-byte member)."""
    for key, extra in (("conv1", "m:128"), ("conv2", "y" * 65)):
        cmd = ["ZADD", key]
        for i in range(128):
            cmd += [str(i % 7), "m:%d" % i]
        run_both(pair, [cmd, ["OBJECT", "ENCODING", key], ["ZADD", key, "3", extra],
                        ["OBJECT", "ENCODING", key], ["ZRANGE", key, 0, -1, "WITHSCORES"],
                        ["ZRANK", key, extra]])


def test_benchmark_shaped_run(pair):
    """What redis-benchmark -t zadd sends: ZADD myzset <rand> element:<rand>."""
    rng = random.Random(3)
    for _ in range(10):
        run_both(pair, [["ZADD", "myzset", str(rng.randrange(5000)), "element:%012d" % rng.randrange(3000)]
                        for _ in range(1000)])
    run_both(pair, [["ZCARD", "myzset"], ["ZRANGE", "myzset", 0, -1, "WITHSCORES"]]
             + [["ZRANK", "myzset", "element:%012d" % i] for i in range(0, 3000, 7)])
