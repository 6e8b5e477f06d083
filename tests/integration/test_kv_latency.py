"""
test_kv_latency.py — the latency monitor (LATENCY LATEST HISTORY RESET GRAPH
DOCTOR) and latency tracking (LATENCY HISTOGRAM, INFO latencystats), side by
side with Debian's redis-server (started with enable-debug-command for DEBUG
SLEEP):

  - the config directives: defaults, CONFIG SET values and errors;
  - with the monitor off, DEBUG SLEEP records nothing; with a threshold, a
    sleep over it is a "command" sample (LATEST, HISTORY), one a second,
    RESET forgets it; GRAPH's first line; errors and arities;
  - LATENCY HISTOGRAM of commands run a known number of times: the same
    calls, and bucket bounds that a duration range implies (DEBUG SLEEP's
    durations land in known buckets: the same reply as Redis's); containers
    name their subcommands; CONFIG RESETSTAT drops them;
  - INFO latencystats: one line per command, the configured percentiles.
"""
import re
import time

import pytest

from conftest import REDIS_SERVER


@pytest.fixture
def pair(launch_in_dir):
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    r = launch_in_dir("redis", "redis-lat", ["--enable-debug-command", "yes"])
    s = launch_in_dir("scaleout", "kv-lat")
    return {"redis": r.conn(), "scaleout": s.conn()}


def both(pair, *cmd):
    out = {}
    for k, c in pair.items():
        c.cmd(*cmd)
        out[k] = c.last_raw
    return out


def same(pair, *cmd):
    o = both(pair, *cmd)
    assert o["redis"] == o["scaleout"], (cmd, o)
    return o["redis"]


def test_config_like_redis(pair):
    for name in ("latency-monitor-threshold", "latency-tracking", "latency-tracking-info-percentiles"):
        same(pair, "CONFIG", "GET", name)
    for v in ("50 99 99.9", "", "101", "x", "-1", "0 100 12.5", "50 50", "99.99"):
        same(pair, "CONFIG", "SET", "latency-tracking-info-percentiles", v)
        same(pair, "CONFIG", "GET", "latency-tracking-info-percentiles")
    for v in ("-1", "x", "5", "0"):
        same(pair, "CONFIG", "SET", "latency-monitor-threshold", v)
        same(pair, "CONFIG", "GET", "latency-monitor-threshold")
    for v in ("no", "maybe", "yes"):
        same(pair, "CONFIG", "SET", "latency-tracking", v)


def test_monitor_like_redis(pair):
    # off: nothing recorded
    same(pair, "DEBUG", "SLEEP", "0.03")
    same(pair, "LATENCY", "LATEST")
    same(pair, "LATENCY", "HISTORY", "command")
    same(pair, "LATENCY", "GRAPH", "command")
    for bad in (["LATENCY"], ["LATENCY", "BOGUS"], ["LATENCY", "HISTORY"], ["LATENCY", "GRAPH"],
                ["LATENCY", "LATEST", "x"], ["LATENCY", "DOCTOR", "x"], ["LATENCY", "HELP", "x"],
                ["LATENCY", "HISTORY", "a", "b"]):
        same(pair, *bad)
    same(pair, "CONFIG", "SET", "latency-monitor-threshold", "100")
    same(pair, "DEBUG", "SLEEP", "0.001")  # well under the threshold
    same(pair, "LATENCY", "LATEST")
    # wait for the start of a second so that both sleeps fall in the same one
    time.sleep(1.0 - (time.time() % 1.0) + 0.01)
    t0 = int(time.time())
    for k in pair:
        pair[k].cmd("DEBUG", "SLEEP", "0.15")
    latest = {k: pair[k].cmd("LATENCY", "LATEST") for k in pair}
    for k, v in latest.items():
        assert len(v) == 1, (k, v)
        name, when, last, worst = v[0]
        assert name == b"command" and t0 <= when <= t0 + 1 and 150 <= last < 2000 and worst == last, (k, v)
    hist = {k: pair[k].cmd("LATENCY", "HISTORY", "command") for k in pair}
    for k, v in hist.items():
        assert len(v) == 1 and v[0][0] == latest[k][0][1] and v[0][1] == latest[k][0][2], (k, v)
    graph = {k: pair[k].cmd("LATENCY", "GRAPH", "command").decode() for k in pair}
    for k, g in graph.items():
        m = re.match(r"command - high (\d+) ms, low (\d+) ms \(all time high (\d+) ms\)\n-{80}\n", g)
        assert m and int(m.group(1)) == latest[k][0][2], (k, g)
    doc = pair["scaleout"].cmd("LATENCY", "DOCTOR").decode()
    assert "command" in doc and "100 ms" in doc
    same(pair, "LATENCY", "RESET", "nosuch")
    same(pair, "LATENCY", "RESET", "command", "command")
    same(pair, "LATENCY", "LATEST")
    same(pair, "LATENCY", "RESET")


def cdf_ok(h, calls):
    """A histogram_usec map: ascending bounds, cumulative counts ending at calls."""
    bounds = list(h.keys()) if isinstance(h, dict) else h[0::2]
    counts = list(h.values()) if isinstance(h, dict) else h[1::2]
    assert bounds == sorted(bounds) and counts == sorted(counts) and counts[-1] == calls, h
    return True


def test_histogram_like_redis(pair):
    # DEBUG SLEEP's duration is known to the bucket: 20 ms and 50 ms are in
    # the buckets up to 33816 and 67633 µs on both servers
    for k in pair:
        for _ in range(3):
            pair[k].cmd("DEBUG", "SLEEP", "0.02")
        pair[k].cmd("DEBUG", "SLEEP", "0.05")
        for i in range(50):
            pair[k].cmd("SET", f"k{i}", "v")
        pair[k].cmd("CONFIG", "GET", "maxmemory")
        pair[k].cmd("CONFIG", "GET", "maxmemory")
    same(pair, "LATENCY", "HISTOGRAM", "debug")
    same(pair, "LATENCY", "HISTOGRAM", "nosuch", "get")  # never run, unknown: left out
    got = {k: pair[k].cmd("LATENCY", "HISTOGRAM", "set", "config") for k in pair}
    for k, v in got.items():
        m = dict(zip(v[0::2], v[1::2]))
        assert set(m) == {b"set", b"config|get"}, (k, m.keys())
        s = dict(zip(m[b"set"][0::2], m[b"set"][1::2]))
        assert s[b"calls"] == 50 and cdf_ok(s[b"histogram_usec"], 50)
        g = dict(zip(m[b"config|get"][0::2], m[b"config|get"][1::2]))
        assert g[b"calls"] == 2
    # every bound a histogram names is a power of two's bucket top, in µs
    tops = {((1024 << k) + ((1024 << k) >> 7) - 1) // 1000 for k in range(24)}
    allh = pair["scaleout"].cmd("LATENCY", "HISTOGRAM")
    for name, h in zip(allh[0::2], allh[1::2]):
        d = dict(zip(h[0::2], h[1::2]))
        assert set(d[b"histogram_usec"][0::2]) <= tops, (name, d)
    # INFO latencystats: the percentiles configured, one line per command
    for k in pair:
        pair[k].cmd("CONFIG", "SET", "latency-tracking-info-percentiles", "0 50 100")
    info = {k: pair[k].cmd("INFO", "latencystats").decode() for k in pair}
    for k, text in info.items():
        line = next(x for x in text.split("\r\n") if x.startswith("latency_percentiles_usec_debug:"))
        m = re.fullmatch(r"latency_percentiles_usec_debug:p0=([\d.]+),p50=([\d.]+),p100=([\d.]+)", line)
        assert m, (k, line)
        # p0 and p50 in the bucket of the 20 ms sleeps, p100 in the one of the 50 ms sleep
        assert 20000 <= float(m.group(1)) <= float(m.group(2)) < 21000 and 50000 < float(m.group(3)) < 51000
        assert "latency_percentiles_usec_config|get:" in text
    same(pair, "CONFIG", "RESETSTAT")
    same(pair, "LATENCY", "HISTOGRAM", "set", "debug")
    # tracking off: nothing new
    same(pair, "CONFIG", "SET", "latency-tracking", "no")
    for k in pair:
        pair[k].cmd("SET", "x", "1")
    same(pair, "LATENCY", "HISTOGRAM", "set")
