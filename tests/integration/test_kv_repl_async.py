"""
test_kv_repl_async.py — `repl-diskless-load swapdb` keeps serving the old
data while a full sync loads (Redis 7.0's "async loading"), proven by
difference: the same script runs with Debian's redis-server 7.0 as replica of
a redis-server primary, with scaleout kv as replica of a scaleout primary,
and with kv as replica of redis-server, and every observation must be the
one Redis gives.

A replica that already follows the primary's replication id is forced into a
second full sync (its offset pushed out of a 16 kB backlog while its link is
cut); the primary writes its RDB slowly (rdb-key-save-delay) so that the
load lasts seconds, and the values are large (Redis answers clients during a
load once per 2 MB read). During the load, polled, never slept for:

  - INFO persistence async_loading:1 and loading:0, INFO replication link
    down with master_sync_in_progress:1, ROLE state "sync";
  - reads answer from the old data (the old marker value, the old DBSIZE,
    the old FUNCTION library), writes get READONLY;
  - SAVE, BGSAVE, REPLICAOF, CONFIG SET appendonly get LOADING;
  - replica-serve-stale-data no turns reads into MASTERDOWN (INFO still works);
  - a load cut short (the primary drops the replica) keeps the old data;
  - the next sync's load ends with the new data (marker, library, DBSIZE),
    and serves a reader blocked (XREAD BLOCK) on a key only the new data has.
"""
import time

import pytest
import redis

from conftest import REDIS_SERVER, RespError, parse_info, wait_until

# Redis answers clients during a load once per 2 MB it read
# (loading-process-events-interval-bytes): large values, no compression
N_KEYS = 2000
VALUE_BYTES = 10000
SAVE_DELAY_US = 2000  # per key on the primary: a load of 4 s or more

LIB = ("#!lua name=verlib\n"
       "redis.register_function{function_name='ver', callback=function(keys, args) return '%s' end, "
       "flags={'no-writes'}}\n")


@pytest.fixture
def launch(launch_in_dir):  # conftest.py: servers with --dir in tmp_path/NAME
    return launch_in_dir


def info(c, section):
    return c.info(section)


def error_of(fn):
    try:
        fn()
    except redis.exceptions.ResponseError as e:
        return str(e)
    except redis.exceptions.BusyLoadingError as e:
        return "LOADING " + str(e)
    return None


def populate(c, n):
    pipe = c.pipeline(transaction=False)
    for i in range(0, n, 100):
        args = []
        for j in range(i, min(n, i + 100)):
            args += [f"key:{j}", f"value:{j}:".ljust(VALUE_BYTES, "v")]
        pipe.execute_command("MSET", *args)
    pipe.execute()


def synced(primary, replica):
    want = int(primary.info("replication")["master_repl_offset"])
    i = replica.info("replication")
    return i.get("master_link_status") == "up" and int(i["master_repl_offset"]) >= want


@pytest.mark.parametrize("pair", [("redis", "redis"), ("scaleout", "scaleout"), ("redis", "scaleout")],
                         ids=["redis-redis", "scaleout-scaleout", "redis-scaleout"])
def test_swapdb_serves_old_data_during_full_sync(pair, launch):
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    ptarget, rtarget = pair
    p = launch(ptarget, "primary", ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                                    "--rdbcompression", "no"])
    r = launch(rtarget, "replica", ["--repl-diskless-load", "swapdb"])
    pc, rc = p.client(), r.client()
    populate(pc, N_KEYS)
    pc.set("marker", "v1")
    pc.execute_command("FUNCTION", "LOAD", LIB % "v1")
    rc.replicaof("127.0.0.1", p.port)
    wait_until(lambda: synced(pc, rc), timeout=30, what="first sync")
    assert rc.get("marker") == b"v1" and rc.fcall("ver", 0) == b"v1"
    old_size = rc.dbsize()

    # a second full sync of the same history: the link cut, the backlog overrun
    pc.config_set("rdb-key-save-delay", SAVE_DELAY_US)
    pc.config_set("repl-backlog-size", "16384")
    tx = pc.pipeline(transaction=True)
    tx.execute_command("CLIENT", "KILL", "TYPE", "replica")
    for i in range(10):
        tx.set(f"fill:{i}", "A" * 16384)
    tx.execute()
    pc.set("marker", "v2")
    pc.execute_command("FUNCTION", "LOAD", "REPLACE", LIB % "v2")
    pc.xadd("stream", {"f": "v"}, id="1-1")

    t0 = time.monotonic()
    wait_until(lambda: info(rc, "persistence")["async_loading"] == 1, timeout=30, interval=0.01,
               what="async_loading:1")
    # the probes go in one pipeline: Redis answers clients during a load
    # once per 2 MB, and takes a client's whole pipeline at once
    probes = [
        ("INFO", "persistence"), ("INFO", "replication"), ("ROLE",), ("GET", "marker"), ("DBSIZE",),
        ("FCALL", "ver", "0"), ("SET", "x", "1"), ("SAVE",), ("BGSAVE",), ("REPLICAOF", "NO", "ONE"),
        ("CONFIG", "SET", "appendonly", "no"), ("CONFIG", "SET", "replica-serve-stale-data", "no"),
        ("GET", "marker"), ("INFO", "persistence"), ("CONFIG", "SET", "replica-serve-stale-data", "yes"),
        ("INFO", "persistence"),
    ]
    out = dict(zip(["pers", "repl", "role", "get", "dbsize", "fcall", "set", "save", "bgsave", "replicaof",
                    "appendonly", "stale_on", "stale_get", "stale_info", "stale_off", "pers_after"],
                   r.conn().pipeline(probes)))
    pers, repl = parse_info(out.pop("pers")), parse_info(out.pop("repl"))
    # every answer came during the load
    assert parse_info(out.pop("pers_after"))["async_loading"] == 1, (pair, out)
    seen = {k: (v.msg if isinstance(v, RespError) else v) for k, v in out.items()}
    seen["loading"] = (pers["loading"], pers["async_loading"])
    seen["link"] = (repl["master_link_status"], repl["master_sync_in_progress"])
    seen["role"] = seen["role"][3]
    seen["dbsize"] = seen["dbsize"] == old_size
    seen["stale_info"] = b"async_loading:1" in seen["stale_info"]
    assert seen == {
        "loading": (0, 1),
        "link": ("down", 1),
        "role": b"sync",
        "get": b"v1",
        "dbsize": True,
        "fcall": b"v1",
        "set": "READONLY You can't write against a read only replica.",
        "save": "LOADING Redis is loading the dataset in memory",
        "bgsave": "LOADING Redis is loading the dataset in memory",
        "replicaof": "LOADING Redis is loading the dataset in memory",
        "appendonly": "LOADING Redis is loading the dataset in memory",
        "stale_on": "OK",
        "stale_get": "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        "stale_info": True,
        "stale_off": "OK",
    }, (pair, seen)
    # a reader blocked on a key the old data lacks is served by the swap
    xc = r.conn()
    xc.send_cmd("XREAD", "BLOCK", "0", "STREAMS", "stream", "0-0")

    # a load cut short keeps the old data (the next sync waits 5 s to be seen between syncs)
    pc.config_set("repl-diskless-sync-delay", "5")
    assert pc.execute_command("CLIENT", "KILL", "TYPE", "replica") >= 1
    wait_until(lambda: info(rc, "persistence")["async_loading"] == 0, timeout=30, interval=0.01,
               what="the cut load stops")
    assert info(rc, "replication")["master_link_status"] == "down"
    assert rc.get("marker") == b"v1" and rc.dbsize() == old_size and rc.fcall("ver", 0) == b"v1"

    # the next one goes through: the new data replaces the old at once
    pc.config_set("rdb-key-save-delay", 0)
    pc.config_set("repl-diskless-sync-delay", "0")
    wait_until(lambda: rc.get("marker") == b"v2", timeout=60, interval=0.01, what="the new data")
    assert rc.fcall("ver", 0) == b"v2"
    assert xc.read() == [[b"stream", [[b"1-1", [b"f", b"v"]]]]]
    assert info(rc, "persistence")["async_loading"] == 0
    wait_until(lambda: synced(pc, rc), timeout=30, what="in sync after the swap")
    assert rc.dbsize() == pc.dbsize() == N_KEYS + 12  # + marker, 10 fill keys, the stream
    assert rc.get("key:1234") == b"value:1234:".ljust(VALUE_BYTES, b"v")
    assert error_of(lambda: rc.set("x", "1")) == "You can't write against a read only replica."
    print(f"{pair}: old data served for >= {time.monotonic() - t0:.2f} s in all")


@pytest.mark.parametrize("target", ["redis", "scaleout"])
def test_swapdb_async_load_of_a_disk_sync_payload_then_the_stream(target, launch):
    """The same with a primary that syncs by disk ($<len> framing): the
    writes made while its child saves reach the replica after the RDB, and
    are applied after the swap, on the new data."""
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    p = launch(target, "primary", ["--repl-diskless-sync", "no", "--rdbcompression", "no"])
    r = launch(target, "replica", ["--repl-diskless-load", "swapdb"])
    pc, rc = p.client(), r.client()
    populate(pc, N_KEYS)
    pc.set("marker", "v1")
    rc.replicaof("127.0.0.1", p.port)
    wait_until(lambda: synced(pc, rc), timeout=30, what="first sync")
    pc.config_set("rdb-key-save-delay", 500)
    pc.config_set("repl-backlog-size", "16384")
    tx = pc.pipeline(transaction=True)
    tx.execute_command("CLIENT", "KILL", "TYPE", "replica")
    for i in range(10):
        tx.set(f"fill:{i}", "A" * 16384)
    tx.execute()
    wait_until(lambda: pc.info("persistence")["rdb_bgsave_in_progress"] == 1, timeout=30, interval=0.01,
               what="the sync's child saving")
    for i in range(100):  # during the child's save: the stream after the RDB
        pc.incr("counter")
    pc.set("marker", "v2")
    wait_until(lambda: rc.get("marker") == b"v2", timeout=60, interval=0.01, what="the new data and the stream")
    assert rc.get("counter") == b"100"
    wait_until(lambda: synced(pc, rc), timeout=30, what="in sync")
    assert rc.dbsize() == pc.dbsize() == N_KEYS + 12
    assert info(rc, "persistence")["async_loading"] == 0
    if target == "scaleout":
        assert "Loading the DB asynchronously" in r.log_tail(200000)


@pytest.mark.parametrize("pair", [("redis", "redis"), ("scaleout", "scaleout")], ids=["redis-redis", "scaleout-scaleout"])
def test_swapdb_first_sync_answers_loading_and_keeps_the_old_data_if_cut(pair, launch):
    """A full sync of another history (the replica's first): as Redis, the
    replica does not serve its old data meanwhile (INFO loading:1, LOADING to
    all but INFO, ROLE, CONFIG...), keeps it when the load is cut, and has
    only the primary's data after the sync."""
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    ptarget, rtarget = pair
    p = launch(ptarget, "primary", ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                                    "--rdbcompression", "no"])
    r = launch(rtarget, "replica", ["--repl-diskless-load", "swapdb"])
    pc, rc = p.client(), r.client()
    populate(pc, N_KEYS)
    rc.set("mine", "old")
    pc.config_set("rdb-key-save-delay", SAVE_DELAY_US)
    rc.replicaof("127.0.0.1", p.port)
    wait_until(lambda: info(rc, "persistence")["loading"] == 1, timeout=30, interval=0.01, what="loading:1")
    probes = [("INFO", "persistence"), ("GET", "mine"), ("PING",), ("DBSIZE",), ("REPLICAOF", "NO", "ONE"),
              ("CONFIG", "GET", "repl-diskless-load"), ("ROLE",), ("INFO", "persistence")]
    out = r.conn().pipeline(probes)
    pers, after = parse_info(out[0]), parse_info(out[-1])
    assert after["loading"] == 1, out
    loading = "LOADING Redis is loading the dataset in memory"
    got = [(x.msg if isinstance(x, RespError) else x) for x in out[1:6]]
    assert (pers["loading"], pers["async_loading"]) == (1, 0)
    assert got == [loading, loading, loading, loading, [b"repl-diskless-load", b"swapdb"]], (pair, got)
    assert out[6][3] == b"sync"
    # cut: the old data comes back
    pc.config_set("repl-diskless-sync-delay", "5")
    assert pc.execute_command("CLIENT", "KILL", "TYPE", "replica") >= 1
    wait_until(lambda: info(rc, "persistence")["loading"] == 0, timeout=30, interval=0.01, what="the cut load stops")
    assert rc.get("mine") == b"old" and rc.dbsize() == 1
    pc.config_set("rdb-key-save-delay", 0)
    pc.config_set("repl-diskless-sync-delay", "0")
    wait_until(lambda: synced(pc, rc), timeout=60, what="the sync")
    assert rc.get("mine") is None and rc.dbsize() == N_KEYS


# ---- the other modes: disabled and on-empty-db load with LOADING, never a hang ---------------

@pytest.mark.parametrize("load", ["disabled", "on-empty-db-with-data", "on-empty-db-empty"])
@pytest.mark.parametrize("pair", [("redis", "redis"), ("scaleout", "scaleout")], ids=["redis-redis", "scaleout-scaleout"])
def test_disk_and_on_empty_db_loads_answer_loading(pair, load, tmp_path, launch):
    """repl-diskless-load disabled (the payload saved to disk, then loaded)
    and on-empty-db (from the socket on an empty replica, by disk on one with
    data, as Redis's useDisklessLoad()): while the full sync's data loads,
    clients get LOADING and INFO, ROLE, CONFIG still answer (scaleout kv used
    to hang them under the keyspace lock until the load ended). The load is
    slowed by key-load-delay, the same Redis config on both servers."""
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    ptarget, rtarget = pair
    mode = "disabled" if load == "disabled" else "on-empty-db"
    disk = load != "on-empty-db-empty"
    p = launch(ptarget, "primary", ["--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                                    "--rdbcompression", "no"])
    r = launch(rtarget, "replica", ["--repl-diskless-load", mode, "--key-load-delay", "2000"])
    pc, rc = p.client(), r.client()
    populate(pc, N_KEYS)
    if load != "on-empty-db-empty":
        rc.set("mine", "old")
    rc.replicaof("127.0.0.1", p.port)
    wait_until(lambda: info(rc, "persistence")["loading"] == 1, timeout=30, interval=0.01, what="loading:1")
    probes = [("INFO", "persistence"), ("GET", "mine"), ("PING",), ("DBSIZE",), ("SET", "x", "1"),
              ("REPLICAOF", "NO", "ONE"), ("CONFIG", "GET", "repl-diskless-load"), ("ROLE",), ("INFO", "replication"),
              ("INFO", "persistence")]
    out = r.conn().pipeline(probes)
    pers, repl, after = parse_info(out[0]), parse_info(out[8]), parse_info(out[-1])
    assert after["loading"] == 1, (pair, load, out)  # every answer came during the load
    loading = "LOADING Redis is loading the dataset in memory"
    seen = {
        "loading": (pers["loading"], pers["async_loading"]),
        "total_bytes_known": pers["loading_total_bytes"] > 0,
        "replies": [(x.msg if isinstance(x, RespError) else x) for x in out[1:7]],
        "role": out[7][3],
        "link": (repl["master_link_status"], repl["master_sync_in_progress"]),
    }
    assert seen == {
        "loading": (1, 0),
        "total_bytes_known": disk,
        # as Redis: a write meets the read-only check before the loading one
        "replies": [loading] * 3 + ["READONLY You can't write against a read only replica.", loading,
                                    [b"repl-diskless-load", mode.encode()]],
        "role": b"sync",
        "link": ("down", 1),
    }, (pair, load, seen)
    wait_until(lambda: synced(pc, rc), timeout=60, interval=0.05, what="loaded and in sync")
    assert info(rc, "persistence")["loading"] == 0
    assert rc.get("mine") is None and rc.dbsize() == pc.dbsize() == N_KEYS
    assert rc.get("key:1234") == b"value:1234:".ljust(VALUE_BYTES, b"v")
    # a disk load leaves the payload as dbfilename, a socket load writes nothing
    assert (tmp_path / "replica" / "dump.rdb").exists() == disk
    if rtarget == "scaleout":
        assert ("loading the DB from disk on the loader thread" if disk else
                "loading the DB from socket on the loader thread") in r.log_tail(200000)
