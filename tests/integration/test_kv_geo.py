"""
test_kv_geo.py — the GEO commands (GEOADD GEODIST GEOHASH GEOPOS GEORADIUS
GEORADIUS_RO GEORADIUSBYMEMBER GEORADIUSBYMEMBER_RO GEOSEARCH
GEOSEARCHSTORE) proven by difference against Debian's redis-server: the same
random command sequences on both, every reply compared byte for byte (RESP2
and RESP3), and the stored sorted sets compared with ZRANGE ... WITHSCORES
and OBJECT ENCODING.

  - points spread over the world, clustered around a few centres, and on
    the edges (longitude +-180, the Mercator latitude limits, the poles'
    neighbourhood, the equator and the antimeridian);
  - searches from the metre to the half-earth scale (the cell precision
    changes with the radius, the coarser step near edges, neighbours
    dropped or coinciding), circles and boxes, every WITH* option, COUNT
    with and without ANY, ASC/DESC, STORE/STOREDIST, GEOSEARCHSTORE;
  - errors: bad coordinates, units, negative or non-numeric sizes, option
    conflicts, a missing FROM/BY, another type (WRONGTYPE), a missing member
    or key (including the options Redis checks before the missing key);
  - scores that no GEOADD gives (ZADD of negative, huge and fractional
    scores) read back by GEOPOS/GEOHASH/GEODIST as Redis reads them.
"""
import random

import pytest

from conftest import REDIS_SERVER, raw_replies


@pytest.fixture
def launch(launch_in_dir):
    return launch_in_dir


CENTRES = [(13.361389, 38.115556), (-122.42, 37.77), (151.2, -33.86), (179.9, 0.1), (-179.95, -10.0),
           (0.0, 0.0), (10.0, 84.9), (-45.0, -84.9), (2.35, 48.85), (139.69, 35.69)]
UNITS = ["m", "km", "ft", "mi", "M", "KM", "Mi"]


def point(rng):
    r = rng.random()
    if r < 0.6:
        lon, lat = rng.choice(CENTRES)
        spread = rng.choice([0.0001, 0.01, 0.5, 3.0])
        lon = max(-180.0, min(180.0, lon + rng.uniform(-spread, spread)))
        lat = max(-85.05112878, min(85.05112878, lat + rng.uniform(-spread, spread)))
        return f"{lon:.6f}", f"{lat:.6f}"
    if r < 0.9:
        return f"{rng.uniform(-180, 180):.7f}", f"{rng.uniform(-85.05, 85.05):.7f}"
    return rng.choice([("180", "85.05112878"), ("-180", "-85.05112878"), ("0", "0"), ("180", "0"),
                       ("-180", "0"), ("179.9999999", "85.05"), ("0", "-85.05112878"), ("90", "45")])


def size(rng):
    return rng.choice(["0", "1", "50", "500", "5000", "50000", "500000", "3000000", "10000000", "20000000",
                       f"{rng.uniform(0, 400):.3f}", f"{rng.uniform(0, 3000):.1f}"])


def options(rng, store_ok, search_store=False):
    out = []
    for w in ("WITHDIST", "WITHHASH", "WITHCOORD"):
        if rng.random() < 0.35:
            out.append(w)
    r = rng.random()
    if r < 0.3:
        out += ["COUNT", str(rng.choice([1, 2, 3, 5, 20, 1000]))]
        if rng.random() < 0.3:
            out.append("ANY")
    if rng.random() < 0.5:
        out.append(rng.choice(["ASC", "DESC"]))
    if store_ok and rng.random() < 0.25:
        out = [w for w in out if not w.startswith("WITH")]
        out += [rng.choice(["STORE", "STOREDIST"]), rng.choice(["dst", "g1", "str"])]
    if search_store and rng.random() < 0.4:
        out.append("STOREDIST")
    rng.shuffle(out) if rng.random() < 0.2 else None
    return out


def from_by(rng, members):
    out = []
    if rng.random() < 0.5:
        out += ["FROMMEMBER", rng.choice(members)]
    else:
        out += ["FROMLONLAT", *point(rng)]
    if rng.random() < 0.5:
        out += ["BYRADIUS", size(rng), rng.choice(UNITS)]
    else:
        out += ["BYBOX", size(rng), size(rng), rng.choice(UNITS)]
    return out


def script(seed, n=260):
    rng = random.Random(seed)
    members = [f"m{i}" for i in range(60)] + ["missing"]
    keys = ["g1", "g2"]
    cmds = [["SET", "str", "x"]]
    for _ in range(n):
        k = rng.choice(keys)
        r = rng.random()
        if r < 0.3:
            args = []
            for _ in range(rng.choice([1, 1, 3, 8])):
                args += [*point(rng), rng.choice(members[:-1])]
            opts = rng.choice([[], [], ["NX"], ["XX"], ["CH"], ["NX", "CH"], ["XX", "CH"]])
            cmds.append(["GEOADD", k, *opts, *args])
        elif r < 0.38:
            cmds.append(["GEOPOS", k, *rng.sample(members, 3)])
        elif r < 0.44:
            cmds.append(["GEOHASH", k, *rng.sample(members, 3)])
        elif r < 0.52:
            c = ["GEODIST", k, rng.choice(members), rng.choice(members)]
            if rng.random() < 0.6:
                c.append(rng.choice(UNITS))
            cmds.append(c)
        elif r < 0.64:
            name = rng.choice(["GEORADIUS", "GEORADIUS_RO"])
            cmds.append([name, k, *point(rng), size(rng), rng.choice(UNITS),
                         *options(rng, name == "GEORADIUS")])
        elif r < 0.74:
            name = rng.choice(["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"])
            cmds.append([name, k, rng.choice(members), size(rng), rng.choice(UNITS),
                         *options(rng, name == "GEORADIUSBYMEMBER")])
        elif r < 0.86:
            cmds.append(["GEOSEARCH", k, *from_by(rng, members), *options(rng, False)])
        elif r < 0.93:
            opts = [w for w in options(rng, False, True) if not w.startswith("WITH")]
            cmds.append(["GEOSEARCHSTORE", rng.choice(["dst", "g2", "str"]), k, *from_by(rng, members), *opts])
            cmds.append(["ZRANGE", "dst", "0", "-1", "WITHSCORES"])
            cmds.append(["OBJECT", "ENCODING", "dst"])
        elif r < 0.96:
            cmds.append(["ZREM", k, rng.choice(members)])
        else:
            cmds.append(["ZRANGE", k, "0", "-1", "WITHSCORES"])
    cmds.append(["ZRANGE", "g1", "0", "-1", "WITHSCORES"])
    cmds.append(["ZRANGE", "g2", "0", "-1", "WITHSCORES"])
    return cmds


ERRORS = [
    ["GEOADD", "g", "200", "10", "a"],
    ["GEOADD", "g", "10", "86", "a"],
    ["GEOADD", "g", "10", "-85.06", "a"],
    ["GEOADD", "g", "x", "10", "a"],
    ["GEOADD", "g", "10", "nan", "a"],
    ["GEOADD", "g", "10", "10"],
    ["GEOADD", "g", "NX", "XX", "10", "10", "a"],
    ["GEOADD", "g", "NX", "CH", "XX", "10", "10", "a"],
    ["GEOADD", "g", "CH", "NX"],
    ["GEOADD", "g", "10", "10", "a", "1"],
    ["GEOADD", "g", "inf", "10", "a"],
    ["GEOADD", "str", "10", "10", "a"],
    ["GEOADD", "g", "XX", "1", "1", "new"],
    ["GEOADD", "nokey", "XX", "1", "1", "new"],
    ["EXISTS", "nokey"],
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
    ["GEODIST", "g", "Palermo", "Catania", "km", "x"],
    ["GEODIST", "g", "Palermo", "Catania", "yd"],
    ["GEODIST", "nokey", "a", "b", "yd"],
    ["GEODIST", "nokey", "a", "b"],
    ["GEODIST", "str", "a", "b"],
    ["GEOPOS", "str", "a"],
    ["GEOHASH", "str", "a"],
    ["GEOPOS", "nokey", "a", "b"],
    ["GEOHASH", "nokey", "a"],
    ["GEORADIUS", "g", "15", "37", "-1", "km"],
    ["GEORADIUS", "g", "15", "37", "x", "km"],
    ["GEORADIUS", "g", "15", "37", "inf", "km", "ASC"],
    ["GEORADIUS", "g", "15", "37", "1e308", "km", "COUNT", "1"],
    ["GEORADIUS", "g", "15", "37", "100", "parsec"],
    ["GEORADIUS", "g", "15", "95", "100", "km"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "0"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "-3"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "COUNT", "x"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "COUNT"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "ANY"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "ANY", "COUNT", "1"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "STORE"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d", "WITHDIST"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "d"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["GEORADIUS", "g", "15", "37", "1", "m", "STORE", "d"],
    ["EXISTS", "d"],
    ["GEORADIUS", "nokey", "15", "37", "200", "km", "STORE", "g"],
    ["EXISTS", "g"],
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
    ["GEORADIUS_RO", "g", "15", "37", "200", "km", "STORE", "d"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "FROMMEMBER", "Palermo"],
    ["GEORADIUS", "g", "15", "37", "200", "km", "wrong"],
    ["GEORADIUS", "str", "15", "37", "200", "km"],
    ["GEORADIUSBYMEMBER", "g", "nobody", "200", "km"],
    ["GEORADIUSBYMEMBER", "nokey", "nobody", "-5", "parsec"],
    ["GEORADIUSBYMEMBER", "nokey", "nobody", "5", "km", "bogus"],
    ["GEORADIUSBYMEMBER", "nokey", "nobody", "5", "km", "STORE", "g"],
    ["EXISTS", "g"],
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
    ["GEORADIUSBYMEMBER", "g", "Palermo", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
    ["GEOSEARCH", "g", "BYRADIUS", "200", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "COUNT", "1"],
    ["GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "BYBOX", "1", "1", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "1", "-1", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "x", "1", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "1", "x", "km"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHDIST"],
    ["GEOSEARCH", "g", "FROMMEMBER", "nobody", "BYRADIUS", "200", "km"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "nobody", "BYRADIUS", "200", "km"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "nobody", "BYRADIUS", "200", "km", "ANY"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "nobody"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "d"],
    ["GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"],
    ["GEOSEARCH", "str", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
    ["geosearch", "g", "BYRADIUS", "200", "km", "FROMLONLAT", "15"],
    ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "WITHDIST"],
    ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST", "COUNT", "1"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["OBJECT", "ENCODING", "d"],
    ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STORE", "x"],
    ["GEOSEARCHSTORE", "d", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
    ["EXISTS", "d"],
    ["GEOSEARCHSTORE", "g", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "m"],
    ["ZRANGE", "g", "0", "-1", "WITHSCORES"],
    # scores no GEOADD writes
    ["ZADD", "z", "-5", "neg", "1e300", "huge", "4503599627370496", "top", "2.5", "frac", "-inf", "ninf",
     "9223372036854775808", "two63", "1e19", "big", "inf", "pinf", "0", "zero"],
    ["GEOPOS", "z", "neg", "huge", "top", "frac", "ninf", "two63", "big", "pinf", "zero"],
    ["GEOHASH", "z", "neg", "huge", "top", "frac", "ninf", "two63", "big", "pinf", "zero"],
    ["GEODIST", "z", "neg", "huge"],
    ["GEODIST", "z", "zero", "top", "mi"],
    ["GEOSEARCH", "z", "FROMMEMBER", "neg", "BYRADIUS", "20000", "km", "WITHCOORD", "WITHHASH", "ASC"],
    ["GEORADIUSBYMEMBER", "z", "zero", "1", "km", "WITHCOORD"],
]


def compare(launch, name, cmds, resp3=False):
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    seen = {}
    for kind in ("redis", "scaleout"):
        conn = launch(kind, f"{kind}-{name}").conn()
        if resp3:
            conn.cmd("HELLO", "3")
        seen[kind] = raw_replies(conn, cmds)
    for i, (a, b) in enumerate(zip(seen["redis"], seen["scaleout"])):
        assert a == b, (i, cmds[i], a[:600], b[:600])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_geo_random_like_redis(launch, seed):
    compare(launch, f"r{seed}", script(seed))


@pytest.mark.parametrize("seed", [7, 8])
def test_geo_random_like_redis_resp3(launch, seed):
    compare(launch, f"r3-{seed}", script(seed), resp3=True)


@pytest.mark.parametrize("resp3", [False, True])
def test_geo_errors_and_edges_like_redis(launch, resp3):
    compare(launch, f"e{int(resp3)}", [["SET", "str", "x"]] + ERRORS, resp3)


def test_geo_large_set_like_redis(launch):
    """A skiplist-encoded index of 3,000 points: every precision of search."""
    rng = random.Random(11)
    cmds = []
    for chunk in range(30):
        args = []
        for i in range(100):
            args += [*point(rng), f"p{chunk * 100 + i}"]
        cmds.append(["GEOADD", "big", *args])
    for _ in range(150):
        cmds.append(["GEOSEARCH", "big", *from_by(rng, ["p1", "p2", "p2999", "x"]), "WITHDIST", "WITHHASH"])
        cmds.append(["GEORADIUS", "big", *point(rng), size(rng), "km", "COUNT", "7"])
    cmds.append(["OBJECT", "ENCODING", "big"])
    compare(launch, "big", cmds)


def test_geo_keyspace_events(launch):
    """GEOADD announces itself as zadd (Redis runs ZADD for it); the STORE
    forms as georadiusstore / geosearchstore, or del when nothing matched."""
    assert REDIS_SERVER
    seen = {}
    for kind in ("redis", "scaleout"):
        s = launch(kind, f"{kind}-ev")
        c = s.conn()
        c.cmd("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub = s.conn()
        sub.cmd("PSUBSCRIBE", "__keyevent@0__:*")
        c.cmd("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
        c.cmd("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d1")
        c.cmd("GEOSEARCHSTORE", "d2", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km")
        c.cmd("GEOSEARCHSTORE", "d2", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")
        c.cmd("GEOADD", "g", "XX", "13.361389", "38.115556", "nobody")
        c.cmd("PUBLISH", "__keyevent@0__:end", "x")
        events = []
        while True:
            m = sub.read()
            events.append((m[2], m[3]))
            if m[2].endswith(b":end"):
                break
        seen[kind] = events
    assert seen["scaleout"] == seen["redis"]
    assert (b"__keyevent@0__:zadd", b"g") in seen["redis"]
    assert (b"__keyevent@0__:georadiusstore", b"d1") in seen["redis"]
    assert (b"__keyevent@0__:geosearchstore", b"d2") in seen["redis"]
    assert (b"__keyevent@0__:del", b"d2") in seen["redis"]
