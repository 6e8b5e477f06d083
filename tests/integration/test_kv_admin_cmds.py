"""
test_kv_admin_cmds.py — MODULE and LOLWUT, side by side with Debian's
redis-server where the replies are data:

  - MODULE LIST is empty on both (kv loads no modules); LOAD, LOADEX and
    UNLOAD fail with Redis's texts; arities and unknown subcommands;
  - LOLWUT draws a picture (its own: a Truchet maze) and names the version;
    VERSION is parsed as Redis parses it; the size is bounded.
"""
import pytest

from conftest import REDIS_SERVER, assert_same_raw, raw_replies


@pytest.fixture
def launch(launch_in_dir):
    return launch_in_dir


def test_module_like_redis(launch):
    assert REDIS_SERVER
    cmds = [["MODULE", "LIST"], ["MODULE", "LOAD", "/nonexistent/x.so"], ["MODULE", "LOADEX", "/nonexistent/x.so"],
            ["MODULE", "UNLOAD", "nosuch"], ["MODULE", "LIST", "x"], ["MODULE", "BOGUS"], ["MODULE"],
            ["MODULE", "UNLOAD"]]
    seen = {}
    for kind in ("redis", "scaleout"):
        # Redis 7 refuses MODULE unless enabled; kv has nothing to refuse
        c = launch(kind, f"{kind}-mod", ["--enable-module-command", "yes"] if kind == "redis" else []).conn()
        seen[kind] = raw_replies(c, cmds)
    assert_same_raw(cmds, seen["redis"], seen["scaleout"])


def test_lolwut(launch):
    assert REDIS_SERVER
    conns = {k: launch(k, f"{k}-lol").conn() for k in ("redis", "scaleout")}
    for bad in (["LOLWUT", "VERSION", "x"], ["LOLWUT", "VERSION", "99999999999999999999"]):
        for c in conns.values():
            c.cmd(*bad)
        assert conns["redis"].last_raw == conns["scaleout"].last_raw
    c = conns["scaleout"]
    art = c.cmd("LOLWUT", "12", "4").decode()
    lines = art.split("\n")
    assert all(len(x) == 12 and set(x) <= {"\u2571", "\u2572"} for x in lines[:4])
    assert "scaleout kv ver." in lines[-2]
    assert c.cmd("LOLWUT", "12", "4") == art.encode()          # the same size draws the same maze
    assert c.cmd("LOLWUT", "VERSION", "5", "12", "4") == art.encode()
    big = c.cmd("LOLWUT", "100000", "100000").decode()
    assert len(big.split("\n")) < 110 and len(big) < 200 * 100 * 3 + 300
    assert "ver." in c.cmd("LOLWUT").decode()
