"""
Databases: the `databases` setting (16 by default), SELECT, MOVE, SWAPDB,
COPY ... DB, FLUSHDB/FLUSHALL, DBSIZE, INFO keyspace, CLIENT LIST db=, RESET,
WATCH per (database, key), MULTI with SELECT inside, blocked clients woken
only by their own database, active expiry and eviction in every database.
Every test runs against scaleout and redis-server with the same assertions.
"""
import pytest

from conftest import RespError, parse_info, wait_until

RANGE = "ERR DB index is out of range"
NOT_INT = "ERR value is not an integer or out of range"
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
SAME = "ERR source and destination objects are the same"


def keyspace(server):
    return {k: v for k, v in server.info("keyspace").items() if k.startswith("db")}


def blocked(server):
    return server.info("clients")["blocked_clients"]


# ---------------------------------------------------------------- SELECT

def test_select_range_and_errors(c):
    for db in (0, 1, 15):
        assert c.cmd("SELECT", str(db)) == "OK"
    assert c.err("SELECT", "16") == RANGE
    assert c.err("SELECT", "-1") == RANGE
    assert c.err("SELECT", "x") == NOT_INT
    assert c.err("SELECT", "1.5") == NOT_INT
    assert c.err("SELECT", "") == NOT_INT
    assert c.err("SELECT", "99999999999") == INT_RANGE
    assert c.err("SELECT") == "ERR wrong number of arguments for 'select' command"
    # a failed SELECT keeps the database selected before
    c.cmd("SELECT", "3")
    c.cmd("SET", "k", "3")
    assert c.err("SELECT", "16") == RANGE
    assert c.cmd("GET", "k") == b"3"


def test_databases_setting(server_factory):
    s = server_factory("--databases", "4")
    c = s.conn()
    assert c.cmd("CONFIG", "GET", "databases") == [b"databases", b"4"]
    assert c.cmd("SELECT", "3") == "OK"
    assert c.err("SELECT", "4") == RANGE
    assert c.err("MOVE", "k", "4") == RANGE
    assert c.err("SWAPDB", "0", "4") == RANGE
    one = server_factory("--databases", "1").conn()
    assert one.cmd("SELECT", "0") == "OK"
    assert one.err("SELECT", "1") == RANGE


def test_keys_are_per_database(server):
    a, b = server.conn(), server.conn()
    b.cmd("SELECT", "1")
    a.cmd("SET", "k", "zero")
    b.cmd("SET", "k", "one")
    b.cmd("SET", "only1", "x")
    b.cmd("HSET", "h", "f", "v")
    assert a.cmd("GET", "k") == b"zero"
    assert b.cmd("GET", "k") == b"one"
    assert a.cmd("DBSIZE") == 1
    assert b.cmd("DBSIZE") == 3
    assert a.cmd("EXISTS", "only1", "h") == 0
    assert sorted(b.cmd("KEYS", "*")) == [b"h", b"k", b"only1"]
    assert a.cmd("KEYS", "*") == [b"k"]
    assert b.cmd("SCAN", "0", "COUNT", "100")[1] and a.cmd("RANDOMKEY") == b"k"
    assert a.cmd("DEL", "only1") == 0 and b.cmd("EXISTS", "only1") == 1
    # FLUSHDB empties only the selected database, FLUSHALL every one
    assert b.cmd("FLUSHDB") == "OK"
    assert b.cmd("DBSIZE") == 0 and a.cmd("DBSIZE") == 1
    b.cmd("SET", "again", "1")
    b.cmd("SELECT", "15")
    b.cmd("SET", "x", "1")
    assert a.cmd("FLUSHALL") == "OK"
    assert keyspace(server) == {}
    for db in (0, 1, 15):
        b.cmd("SELECT", str(db))
        assert b.cmd("DBSIZE") == 0


# ---------------------------------------------------------------- INFO, CLIENT, RESET

def test_info_keyspace_lines(server):
    c = server.conn()
    c.cmd("SET", "a", "1")
    c.cmd("SELECT", "2")
    c.cmd("SET", "b", "1")
    c.cmd("SET", "t", "1", "EX", "1000")
    c.cmd("SELECT", "11")
    c.cmd("RPUSH", "l", "x")
    ks = keyspace(server)
    assert set(ks) == {"db0", "db2", "db11"}
    assert (ks["db0"]["keys"], ks["db0"]["expires"]) == (1, 0)
    assert (ks["db2"]["keys"], ks["db2"]["expires"]) == (2, 1)
    assert (ks["db11"]["keys"], ks["db11"]["expires"]) == (1, 0)
    for v in ks.values():
        assert isinstance(v["avg_ttl"], int) and v["avg_ttl"] >= 0
    assert ks["db0"]["avg_ttl"] == 0
    raw = c.cmd("INFO", "keyspace").decode()
    lines = [l for l in raw.split("\r\n") if l.startswith("db")]
    assert [l.split(":")[0] for l in lines] == ["db0", "db2", "db11"]
    # the estimate of the mean TTL left appears once the expiry cycle sampled db2
    wait_until(lambda: keyspace(server)["db2"]["avg_ttl"] > 0, timeout=5, what="avg_ttl of db2")
    assert keyspace(server)["db2"]["avg_ttl"] <= 1000 * 1000


def test_client_list_db_and_reset(server):
    c = server.conn()
    cid = c.cmd("CLIENT", "ID")

    def my_db():
        for line in c.cmd("CLIENT", "LIST").decode().splitlines():
            fields = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
            if fields["id"] == str(cid):
                return fields["db"]

    assert my_db() == "0"
    c.cmd("SELECT", "7")
    assert my_db() == "7"
    assert "db=7" in c.cmd("CLIENT", "INFO").decode()
    # HELLO and AUTH leave the database alone; RESET goes back to 0
    assert isinstance(c.cmd("HELLO", "2"), list)
    assert my_db() == "7"
    c.cmd("SET", "in7", "x")
    assert c.cmd("RESET") == "RESET"
    assert my_db() == "0"
    assert c.cmd("EXISTS", "in7") == 0


# ---------------------------------------------------------------- MOVE

def test_move(server):
    c = server.conn()
    c.cmd("SET", "k", "v")
    c.cmd("PEXPIRE", "k", "100000")
    assert c.cmd("MOVE", "k", "1") == 1
    assert c.cmd("EXISTS", "k") == 0
    c.cmd("SELECT", "1")
    assert c.cmd("GET", "k") == b"v"
    assert 0 < c.cmd("PTTL", "k") <= 100000
    # absent here, or present there: 0 and nothing changes
    assert c.cmd("MOVE", "nosuch", "0") == 0
    c.cmd("SELECT", "0")
    c.cmd("SET", "k", "zero")
    assert c.cmd("MOVE", "k", "1") == 0
    assert c.cmd("GET", "k") == b"zero"
    # every type moves
    c.cmd("ZADD", "z", "1", "m")
    c.cmd("SADD", "s", "m")
    c.cmd("RPUSH", "l", "m")
    c.cmd("HSET", "h", "f", "v")
    for k in ("z", "s", "l", "h"):
        assert c.cmd("MOVE", k, "5") == 1
    c.cmd("SELECT", "5")
    assert [c.cmd("TYPE", k) for k in ("z", "s", "l", "h")] == ["zset", "set", "list", "hash"]
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"m"]
    # errors
    assert c.err("MOVE", "z", "5") == SAME
    assert c.err("MOVE", "z", "16") == RANGE
    assert c.err("MOVE", "z", "-1") == RANGE
    assert c.err("MOVE", "z", "x") == NOT_INT
    assert c.err("MOVE", "z") == "ERR wrong number of arguments for 'move' command"


# ---------------------------------------------------------------- SWAPDB

def test_swapdb(server):
    a, b = server.conn(), server.conn()
    b.cmd("SELECT", "1")
    a.cmd("SET", "k", "zero")
    a.cmd("SET", "t", "x", "EX", "1000")
    b.cmd("SET", "k", "one")
    assert a.cmd("SWAPDB", "0", "1") == "OK"
    # clients keep their numbers and see the other data
    assert a.cmd("GET", "k") == b"one"
    assert b.cmd("GET", "k") == b"zero"
    assert b.cmd("TTL", "t") > 0 and a.cmd("EXISTS", "t") == 0
    ks = keyspace(server)
    assert (ks["db0"]["keys"], ks["db0"]["expires"]) == (1, 0)
    assert (ks["db1"]["keys"], ks["db1"]["expires"]) == (2, 1)
    # with an empty database, and with itself
    assert a.cmd("SWAPDB", "1", "9") == "OK"
    assert b.cmd("DBSIZE") == 0
    assert a.cmd("SWAPDB", "9", "9") == "OK"
    b.cmd("SELECT", "9")
    assert b.cmd("GET", "k") == b"zero"
    # errors
    assert a.err("SWAPDB", "x", "1") == "ERR invalid first DB index"
    assert a.err("SWAPDB", "1", "y") == "ERR invalid second DB index"
    assert a.err("SWAPDB", "99999999999", "1") == "ERR invalid first DB index"
    assert a.err("SWAPDB", "0", "16") == RANGE
    assert a.err("SWAPDB", "-1", "0") == RANGE
    assert a.err("SWAPDB", "0") == "ERR wrong number of arguments for 'swapdb' command"


# ---------------------------------------------------------------- COPY ... DB

def test_copy_db(server):
    c = server.conn()
    c.cmd("SET", "k", "v", "EX", "1000")
    c.cmd("RPUSH", "l", "a", "b")
    assert c.cmd("COPY", "k", "k", "DB", "3") == 1
    assert c.cmd("COPY", "l", "l2", "DB", "3") == 1
    assert c.cmd("COPY", "k", "k", "DB", "3") == 0
    c.cmd("SET", "k", "new")
    assert c.cmd("COPY", "k", "k", "DB", "3", "REPLACE") == 1
    assert c.cmd("GET", "k") == b"new"
    c.cmd("SELECT", "3")
    assert c.cmd("GET", "k") == b"new"
    assert c.cmd("LRANGE", "l2", "0", "-1") == [b"a", b"b"]
    assert c.cmd("EXISTS", "l") == 0
    # back in db 0: the original survives, the copy is independent
    c.cmd("RPUSH", "l2", "c")
    c.cmd("SELECT", "0")
    assert c.cmd("LRANGE", "l", "0", "-1") == [b"a", b"b"]
    assert c.err("COPY", "k", "k") == SAME
    assert c.err("COPY", "k", "k", "DB", "0") == SAME
    assert c.err("COPY", "k", "x", "DB", "16") == RANGE
    assert c.err("COPY", "k", "x", "DB", "z") == NOT_INT
    assert c.err("COPY", "k", "x", "DB") == "ERR syntax error"
    assert c.cmd("COPY", "nosuch", "x", "DB", "1") == 0


# ---------------------------------------------------------------- WATCH

def test_watch_is_per_database(server):
    a, b = server.conn(), server.conn()
    a.cmd("WATCH", "k")
    b.cmd("SELECT", "1")
    b.cmd("SET", "k", "other db")
    assert a.pipeline([("MULTI",), ("SET", "r", "1"), ("EXEC",)])[-1] == ["OK"]
    a.cmd("WATCH", "k")
    b.cmd("SELECT", "0")
    b.cmd("SET", "k", "same db")
    assert a.pipeline([("MULTI",), ("SET", "r", "2"), ("EXEC",)])[-1] is None
    # a key watched in db 2 by a client now in db 0
    a.cmd("SELECT", "2")
    a.cmd("WATCH", "w")
    a.cmd("SELECT", "0")
    b.cmd("SELECT", "2")
    b.cmd("SET", "w", "1")
    assert a.pipeline([("MULTI",), ("PING",), ("EXEC",)])[-1] is None


def test_flushdb_swapdb_move_touch_watched_keys(server):
    a, b = server.conn(), server.conn()

    def exec_ok():
        return a.pipeline([("MULTI",), ("PING",), ("EXEC",)])[-1] == ["PONG"]

    a.cmd("SET", "k", "1")
    # FLUSHDB of another database: untouched
    a.cmd("WATCH", "k")
    b.cmd("SELECT", "1")
    b.cmd("SET", "x", "1")
    b.cmd("FLUSHDB")
    assert exec_ok()
    # FLUSHDB of its own database
    a.cmd("WATCH", "k")
    b.cmd("SELECT", "0")
    b.cmd("FLUSHDB")
    assert not exec_ok()
    # SWAPDB with a database where the key exists
    a.cmd("WATCH", "k")
    b.cmd("SELECT", "4")
    b.cmd("SET", "k", "in4")
    b.cmd("SWAPDB", "0", "4")
    assert not exec_ok()
    # SWAPDB of two databases where the key is absent: untouched
    a.cmd("WATCH", "nope")
    b.cmd("SWAPDB", "0", "5")
    assert exec_ok()
    # MOVE touches the key in both databases
    a.cmd("SELECT", "5")   # holds k now (swapped twice)
    a.cmd("WATCH", "k")
    b.cmd("SELECT", "5")
    assert b.cmd("MOVE", "k", "6") == 1
    assert not exec_ok()
    a.cmd("SELECT", "7")
    a.cmd("WATCH", "k")
    b.cmd("SELECT", "6")
    assert b.cmd("MOVE", "k", "7") == 1
    assert not exec_ok()


def test_multi_with_select_inside(server):
    c = server.conn()
    replies = c.pipeline([("MULTI",), ("SET", "k", "zero"), ("SELECT", "1"), ("SET", "k", "one"),
                          ("SELECT", "99"), ("GET", "k"), ("EXEC",)])
    assert replies[:-1] == ["OK"] + ["QUEUED"] * 5
    assert replies[-1] == ["OK", "OK", "OK", RespError(RANGE), b"one"]
    # the client stays in the database selected inside the transaction
    assert c.cmd("GET", "k") == b"one"
    c.cmd("SELECT", "0")
    assert c.cmd("GET", "k") == b"zero"
    # MOVE and SWAPDB inside EXEC
    assert c.pipeline([("MULTI",), ("MOVE", "k", "2"), ("SWAPDB", "2", "3"), ("SELECT", "3"),
                       ("GET", "k"), ("EXEC",)])[-1] == [1, "OK", "OK", b"zero"]


# ---------------------------------------------------------------- blocking

def test_blocked_clients_wake_only_on_their_database(server):
    waiter, pusher = server.conn(), server.conn()
    waiter.cmd("SELECT", "1")
    waiter.send_cmd("BLPOP", "q", "0")
    wait_until(lambda: blocked(server) == 1, what="the waiter to block")
    pusher.cmd("RPUSH", "q", "db0")          # another database: no wake-up
    pusher.cmd("SELECT", "2")
    pusher.cmd("RPUSH", "q", "db2")
    assert blocked(server) == 1
    pusher.cmd("SELECT", "1")
    pusher.cmd("RPUSH", "q", "db1")
    assert waiter.read() == [b"q", b"db1"]
    assert blocked(server) == 0
    pusher.cmd("SELECT", "0")
    assert pusher.cmd("LRANGE", "q", "0", "-1") == [b"db0"]
    # two waiters on the same key name in two databases: each gets its own
    w0 = server.conn()
    w0.send_cmd("BRPOP", "q2", "0")
    waiter.send_cmd("BRPOP", "q2", "0")
    wait_until(lambda: blocked(server) == 2, what="two waiters")
    pusher.cmd("SELECT", "1")
    pusher.cmd("RPUSH", "q2", "for1")
    assert waiter.read() == [b"q2", b"for1"]
    pusher.cmd("SELECT", "0")
    pusher.cmd("RPUSH", "q2", "for0")
    assert w0.read() == [b"q2", b"for0"]


def test_move_and_swapdb_wake_blocked_clients(server):
    waiter, other = server.conn(), server.conn()
    waiter.cmd("SELECT", "1")
    waiter.send_cmd("BLPOP", "q", "0")
    wait_until(lambda: blocked(server) == 1, what="the waiter to block")
    other.cmd("RPUSH", "q", "moved")
    assert other.cmd("MOVE", "q", "1") == 1
    assert waiter.read() == [b"q", b"moved"]
    waiter.send_cmd("BLPOP", "q", "0")
    wait_until(lambda: blocked(server) == 1, what="the waiter to block again")
    other.cmd("SELECT", "5")
    other.cmd("RPUSH", "q", "swapped")
    assert other.cmd("SWAPDB", "1", "5") == "OK"
    assert waiter.read() == [b"q", b"swapped"]
    assert blocked(server) == 0


# ---------------------------------------------------------------- expiry, eviction

def test_active_expiry_in_every_database(server):
    c = server.conn()
    for db in (0, 3, 15):
        c.cmd("SELECT", str(db))
        for i in range(20):
            c.cmd("SET", f"k{i}", "v", "PX", "30")
        c.cmd("SET", "keep", "v")
    # nobody reads the keys: only the expiry cycle can remove them
    wait_until(lambda: all(v["keys"] == 1 for v in keyspace(server).values()) and len(keyspace(server)) == 3,
               timeout=10, what="expired keys removed in every database")
    assert server.info("stats")["expired_keys"] >= 60


def test_eviction_picks_across_databases(server_factory):
    s = server_factory("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
    c = s.conn()
    value = b"v" * 1000
    old = [f"old:{i}" for i in range(600)]
    c.cmd("SELECT", "1")
    for i in range(0, len(old), 100):
        assert c.pipeline([("SET", k, value) for k in old[i:i + 100]]) == ["OK"] * 100
    assert parse_info(c.cmd("INFO"))["evicted_keys"] == 0
    # the LRU clock ticks once a second in Redis: let the old keys age
    wait_until(lambda: c.cmd("OBJECT", "IDLETIME", old[-1]) >= 1, timeout=5, what="the old keys to age")
    c.cmd("SELECT", "0")
    for n in range(0, 6000, 100):
        replies = c.pipeline([("SET", f"new:{i}", value) for i in range(n, n + 100)])
        assert all(r == "OK" for r in replies), replies
    info = parse_info(c.cmd("INFO"))
    assert info["evicted_keys"] > 0
    assert info["used_memory"] <= 4 * 1024 * 1024 + 256 * 1024
    c.cmd("SELECT", "1")
    left = sum(c.cmd("EXISTS", *old[i:i + 100]) for i in range(0, len(old), 100))
    # the old keys of db 1 went first, though every write was in db 0
    assert left < len(old) // 4, f"{left}/{len(old)} old keys of db 1 survived"


def test_concurrent_clients_on_different_databases(server_factory, kv_target):
    # several connections (on several server threads for scaleout), each in
    # its own database, pipelining writes: every write lands in its database
    import threading
    extra = ("--threads", "3") if kv_target == "scaleout" else ()
    s = server_factory(*extra)
    errors = []

    def worker(db):
        try:
            c = s.conn()
            assert c.cmd("SELECT", str(db)) == "OK"
            for _ in range(10):
                replies = c.pipeline([("INCR", "ctr"), ("RPUSH", "l", str(db)), ("SET", f"own{db}", "x")] * 50)
                assert all(not isinstance(r, RespError) for r in replies)
        except Exception as e:  # reported below, in the test's thread
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(db,)) for db in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    c = s.conn()
    for db in range(8):
        c.cmd("SELECT", str(db))
        assert c.cmd("GET", "ctr") == b"500"
        assert set(c.cmd("LRANGE", "l", "0", "-1")) == {str(db).encode()}
        assert c.cmd("KEYS", "own*") == [f"own{db}".encode()]
    ks = keyspace(s)
    assert sorted(ks) == [f"db{i}" for i in range(8)] and all(v["keys"] == 3 for v in ks.values())
