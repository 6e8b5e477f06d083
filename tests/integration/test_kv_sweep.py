"""
test_kv_sweep.py — issue 7 item 3: a generated argument sweep of every kv command.

For every command that `COMMAND` lists (src/proto/commands.h; a command added
later joins automatically), every argument position 1..max(|arity|-1, 1) (+1
for variadic commands) gets each extreme value of EXTREMES while the other
positions hold an ordinary filler (an existing key of each type at key
positions, "1" elsewhere). Each invocation goes to scaleout kv and to
redis-server. Requirements:
  - scaleout answers every one (no hang, no close), and is alive at the end;
  - its memory stays bounded (used_memory and RSS, checked after the sweep);
  - where redis-server answers with an error, scaleout answers with an error
    of the same type (the first word: ERR, WRONGTYPE, NOPROTO, ...).
Differences where Redis answers OK and scaleout an error (a feature scaleout
lacks, e.g. SELECT 1) are counted and printed, not failed.

Run standalone for the figures:  /usr/bin/python3 tests/integration/test_kv_sweep.py
Under `make asan` the scaleout side is the ASan+UBSan binary (SCALEOUT_BIN).
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import REDIS_SERVER, RespConn, RespError, ConnectionClosed, start_server  # noqa: E402

MB_STRING = "x" * (1024 * 1024)
EXTREMES = ["0", "-1", "1", "-9223372036854775808", "9223372036854775807", "2147483647",
            "2147483648", "2147483646", "-2147483649", "4294967296", "9223372036854775808",
            "-9223372036854775809", "-9223372036854775807", "18446744073709551615", "18446744073709551616", "nan", "inf", "-inf", "+inf",
            "1.5", "0x10", " 1", "", "*", "h", "s", MB_STRING]

# Commands that are not swept, with the reason. Everything else in the table is.
SKIP = {
    "quit": "closes the connection by design (tested in test_kv_server.py)",
    "shutdown": "stops the server",
    "debug": "crashes/sleeps the server on purpose (Redis DEBUG SEGFAULT/SLEEP)",
    "monitor": "turns the connection into a feed",
    "subscribe": "turns the connection into a feed",
    "psubscribe": "turns the connection into a feed",
    "ssubscribe": "turns the connection into a feed",
    # one reply per channel argument (or one for none), not one per command:
    # the sweep reads one reply per invocation; covered by test_kv_pubsub.py
    "unsubscribe": "a reply per channel argument (test_kv_pubsub.py)",
    "punsubscribe": "a reply per pattern argument (test_kv_pubsub.py)",
    "sunsubscribe": "a reply per shard channel argument (test_kv_pubsub.py)",
    "sync": "replication stream",
    "psync": "replication stream",
    "replicaof": "changes the server's role",
    "slaveof": "changes the server's role",
    "failover": "changes the server's role",
    "save": "writes a dump file",
    "bgsave": "writes a dump file",
    "bgrewriteaof": "writes an append-only file",
    "wait": "blocks until replicas acknowledge, forever with timeout 0 (test_kv_repl.py)",
    "replconf": "replication handshake: ACK never answers (test_kv_repl.py)",
}

# Invocations redis-server 7.0 itself cannot answer in bounded time or memory:
# sent to scaleout only (scaleout stops them at the output limit).
def redis_unbounded(cmd, args):
    if cmd == "hrandfield" and len(args) >= 2:
        try:
            return int(args[1]) < -10_000_000
        except ValueError:
            return False
    return False

# Connection state some commands change on both servers, restored after each.
# CLIENT UNPAUSE first: the templates pause only WRITE (UNPAUSE is no write,
# so it runs at once on both servers); a PAUSE ALL would hold UNPAUSE too, for
# as long as its timeout says (Redis), so ALL is only swept with 1 ms.
RESTORE = [("CLIENT", "UNPAUSE"), ("SELECT", "0"), ("HELLO", "2"), ("CLIENT", "SETNAME", "sweep")]

FILL_KEYS = {"s": ("SET", "s", "hello"), "n": ("SET", "n", "10"),
             "x": ("XADD", "x", "1-1", "f", "v"), "xg": ("XGROUP", "CREATE", "x", "g", "0"),
             "h": ("HSET", "h", "f", "v", "g", "1"), "l": ("RPUSH", "l", "3", "1", "2")}


# Commands with the "blocking" flag (filled from COMMAND): their non-key
# arguments default to a 1 ms timeout instead of "1", so that an invocation
# whose keys are missing waits 1 ms, not a second on each server.
BLOCKING = set()


def command_table(conn):
    """[(name, arity, first, last, step)] from COMMAND, sorted by name."""
    out = []
    for e in conn.cmd("COMMAND"):
        name = e[0].decode()
        if any((f.decode() if isinstance(f, bytes) else str(f)) == "blocking" for f in e[2]):
            BLOCKING.add(name)
        out.append((name, e[1], e[3], e[4], e[5]))
    return sorted(out)


# Option values the positional sweep cannot reach: "?" is the swept position.
TEMPLATES = [
    "SET s v EX ?", "SET s v PX ?", "SET s v EXAT ?", "SET s v PXAT ?", "SET s v KEEPTTL ?",
    "GETEX s EX ?", "GETEX s PX ?", "GETEX s EXAT ?", "GETEX s PXAT ?",
    "SCAN ? COUNT 10", "SCAN 0 COUNT ?", "SCAN 0 MATCH ?", "SCAN 0 TYPE ?",
    "HSCAN h 0 COUNT ?", "HSCAN h 0 MATCH ?", "HSCAN h ? COUNT 1",
    "EXPIRE s ? NX", "EXPIRE s ? GT", "PEXPIRE s ? LT", "EXPIREAT s ? XX", "EXPIRE s 10 ?",
    "HRANDFIELD h ? WITHVALUES", "HRANDFIELD h 1 ?",
    "SETRANGE s ? x", "SETRANGE n ? xyz", "GETRANGE s ? -1", "GETRANGE s 0 ?", "SUBSTR s ? ?",
    "INCRBY n ?", "DECRBY n ?", "INCRBYFLOAT n ?", "HINCRBY h g ?", "HINCRBYFLOAT h g ?",
    "CLIENT KILL ID ?", "CLIENT LIST ID ?", "CLIENT SETNAME ?", "CLIENT KILL ADDR ?",
    "CLIENT KILL ? 1", "CLIENT ? ",
    "CONFIG GET ?", "CONFIG SET hz ?", "CONFIG SET maxmemory-samples ?", "CONFIG SET lfu-log-factor ?",
    "CONFIG SET lfu-decay-time ?", "CONFIG SET active-expire-effort ?",
    "OBJECT ENCODING ?", "OBJECT FREQ ?", "OBJECT IDLETIME ?", "MEMORY USAGE s SAMPLES ?",
    "MEMORY USAGE ?", "MEMORY ?", "HELLO ?", "HELLO 2 SETNAME ?", "HELLO 2 AUTH default ?",
    "COMMAND INFO ?", "COMMAND DOCS ?", "COMMAND ? ", "INFO ?", "ECHO ?", "PING ?",
    "SET ? ? NX GET", "MSET s ? n ?", "MGET ? s ?", "HMGET h ? g", "HSET h ? ?",
    "CLIENT PAUSE ? WRITE", "CLIENT PAUSE 1 ?", "CLIENT NO-EVICT ?", "CLIENT UNPAUSE ?",
    "SLOWLOG GET ?", "SLOWLOG ? 1", "CONFIG SET slowlog-log-slower-than ?", "CONFIG SET slowlog-max-len ?",
    "SORT l LIMIT ? 1", "SORT l LIMIT 0 ?", "SORT l BY ?", "SORT l GET ?", "SORT l BY ? ALPHA",
    "SORT l STORE ?", "SORT_RO l GET ? DESC", "SORT ? BY nosort",
    "BITFIELD s GET ? 0", "BITFIELD s GET u8 ?", "BITFIELD s INCRBY u8 0 ?", "BITFIELD s SET i64 0 ?",
    "BITFIELD s OVERFLOW ? INCRBY i8 0 100", "BITFIELD_RO s GET ? ?",
    "COPY s t DB ?", "MOVE s ?", "SWAPDB ? 1", "SWAPDB 0 ?", "SELECT ?",
    # streams: x holds 1-1 and group g (FILL_KEYS); no template can block for
    # long: XREAD/XREADGROUP BLOCK read history that exists
    "XADD x ? f v", "XADD x ? * f v", "XADD x MAXLEN ? * f v", "XADD x MAXLEN ~ ? * f v",
    "XADD x MINID ? * f v", "XADD x MINID = ? * f v", "XADD x MAXLEN ~ 1 LIMIT ? * f v",
    "XADD x NOMKSTREAM ? f v", "XADD x 99999999-1 ? v", "XADD ? 99999999-1 f v",
    "XRANGE x ? +", "XRANGE x - ?", "XRANGE x - + COUNT ?", "XREVRANGE x ? -", "XREVRANGE x + ?",
    "XREAD COUNT ? STREAMS x 0", "XREAD BLOCK ? STREAMS x 0", "XREAD STREAMS x ?", "XREAD STREAMS ? 0",
    "XREAD ? STREAMS x 0", "XTRIM x MAXLEN ?", "XTRIM x MAXLEN ~ ?", "XTRIM x MINID ?",
    "XTRIM x MAXLEN ~ 1 LIMIT ?", "XTRIM x ? 1", "XDEL x ?", "XLEN ?", "XSETID x ?",
    "XSETID x 99999999-0 ENTRIESADDED ?", "XSETID x 99999999-0 MAXDELETEDID ?",
    "XGROUP CREATE x ? 0", "XGROUP CREATE x g2 ?", "XGROUP CREATE x g2 0 ENTRIESREAD ?",
    "XGROUP CREATE ? g2 0 MKSTREAM", "XGROUP SETID x g ?", "XGROUP SETID x g 0 ENTRIESREAD ?",
    "XGROUP ? x g", "XGROUP DESTROY x ?", "XGROUP CREATECONSUMER x g ?", "XGROUP DELCONSUMER x g ?",
    "XREADGROUP GROUP g ? COUNT 1 STREAMS x >", "XREADGROUP GROUP g c COUNT ? STREAMS x >",
    "XREADGROUP GROUP g c BLOCK ? STREAMS x 0", "XREADGROUP GROUP g c STREAMS x ?",
    "XREADGROUP GROUP ? c STREAMS x >", "XREADGROUP GROUP g c ? STREAMS x 0",
    "XACK x g ?", "XACK x ? 1-1", "XPENDING x g ?", "XPENDING x g - + ?", "XPENDING x g ? + 10",
    "XPENDING x g IDLE ? - + 10", "XPENDING x g - + 10 ?", "XCLAIM x g c ? 1-1",
    "XCLAIM x g c 0 ?", "XCLAIM x g c 0 1-1 IDLE ?", "XCLAIM x g c 0 1-1 TIME ?",
    "XCLAIM x g c 0 1-1 RETRYCOUNT ?", "XCLAIM x g c 0 1-1 LASTID ?", "XCLAIM x g c 0 1-1 ?",
    "XAUTOCLAIM x g c ? 0", "XAUTOCLAIM x g c 0 ?", "XAUTOCLAIM x g c 0 0 COUNT ?",
    "XAUTOCLAIM x g c 0 0 ?", "XINFO STREAM ?", "XINFO STREAM x FULL COUNT ?", "XINFO STREAM x ?",
    "XINFO GROUPS ?", "XINFO CONSUMERS x ?", "XINFO ? x",
]
CONFIG_DEFAULTS = {"hz": "10", "maxmemory-samples": "5", "lfu-log-factor": "10", "lfu-decay-time": "1",
                   "active-expire-effort": "1", "slowlog-log-slower-than": "10000", "slowlog-max-len": "128"}


def invocations(table):
    """Yields (name, args) for every command, position and extreme value,
    then for every template."""
    yield from _positional(table)
    for t in TEMPLATES:
        words = t.split()
        for v in EXTREMES:
            yield words[0].lower(), [v if w == "?" else w for w in words[1:]]


def _positional(table):
    for name, arity, first, last, step in table:
        if name in SKIP:
            continue
        n = max(abs(arity) - 1, 1) + (1 if arity < 0 else 0)
        for fill in ("s", "h", "n"):
            base = []
            for pos in range(1, n + 1):
                is_key = first > 0 and pos >= first and (last < 0 or pos <= last) and \
                    (pos - first) % max(step, 1) == 0
                base.append(fill if is_key else ("0.001" if name in BLOCKING else "1"))
            for pos in range(n):
                for v in EXTREMES:
                    if v is MB_STRING and fill != "s":
                        continue
                    args = list(base)
                    args[pos] = v
                    yield name, args


def error_type(r):
    return r.msg.split(" ", 1)[0] if isinstance(r, RespError) else None


class Side:
    def __init__(self, server, timeout):
        self.server = server
        self.timeout = timeout
        self.conn = None
        self.reconnects = 0
        self.connect()

    def connect(self):
        if self.conn:
            self.conn.close()
        self.conn = RespConn(self.server.port, timeout=self.timeout)

    def call(self, *args):
        """The reply, or the string 'CLOSED' when the server closed the
        connection (the side reconnects)."""
        try:
            r = self.conn.cmd(*args)
            if isinstance(r, RespError) and "output buffer limit; closing" in r.msg:
                self.conn.read_until_closed(timeout=10)
                self.reconnects += 1
                self.connect()
            return r
        except (ConnectionClosed, ConnectionResetError, BrokenPipeError):
            self.reconnects += 1
            self.connect()
            return "CLOSED"

    def reset(self):
        self.call("FLUSHALL")
        for c in FILL_KEYS.values():
            self.call(*c)


def run_sweep(scaleout, redis, log=print):
    """Runs the sweep; returns a dict of figures and the failures found."""
    so = Side(scaleout, timeout=60)
    rd = Side(redis, timeout=10) if redis else None
    # a small output limit keeps the client-sized replies quick to stop
    assert so.call("CONFIG", "SET", "client-output-buffer-limit", "normal 32mb 0 0") == "OK"
    table = command_table(so.conn)
    figures = {"commands": 0, "invocations": 0, "scaleout_errors": 0, "same_error_type": 0,
               "redis_ok_scaleout_error": 0, "redis_skipped": 0, "closed": 0}
    failures, soft = [], []
    max_used = 0
    t0 = time.monotonic()
    last = None
    names = set()
    for name, args in invocations(table):
        if name != last:
            names.add(name)
        if name != last or name in ("set", "getex", "setrange", "expire", "pexpire", "expireat"):
            last = name
            so.reset()
            if rd:
                rd.reset()
        figures["invocations"] += 1
        a = so.call(name, *args)
        if a == "CLOSED" or (isinstance(a, RespError) and "output buffer limit; closing" in a.msg):
            figures["closed"] += 1
            soft.append(f"{name} {args[:3]!r:.80}: scaleout closed the connection ({a!r:.80})")
        if isinstance(a, RespError):
            figures["scaleout_errors"] += 1
        b = None
        if rd and not redis_unbounded(name, args):
            b = rd.call(name, *args)
        elif rd:
            figures["redis_skipped"] += 1
        if name == "config" and args[0] == "SET" and args[1] in CONFIG_DEFAULTS:
            so.call("CONFIG", "SET", args[1], CONFIG_DEFAULTS[args[1]])
            if rd:
                rd.call("CONFIG", "SET", args[1], CONFIG_DEFAULTS[args[1]])
        if name == "multi":   # never leave a connection queueing the rest of the sweep
            so.call("DISCARD")
            if rd:
                rd.call("DISCARD")
        if name in ("select", "hello", "client", "reset", "auth"):
            for r in RESTORE:
                so.call(*r)
                if rd:
                    rd.call(*r)
        if name in ("flushall", "flushdb", "del", "unlink", "getdel", "rename", "renamenx", "hdel", "move",
                    "swapdb", "sort", "copy", "bitfield",
                    "expire", "pexpire", "expireat", "pexpireat", "getex", "set", "setex",
                    "psetex", "setrange", "setbit", "append", "hset", "hmset", "mset", "msetnx",
                    "xadd", "xtrim", "xdel", "xsetid", "xgroup", "xreadgroup", "xack", "xclaim", "xautoclaim"):
            so.reset()
            if rd:
                rd.reset()
        short = [x if len(x) <= 24 else f"<{len(x)} bytes>" for x in args]
        et_b = error_type(b)
        if et_b is not None and b != "CLOSED":
            if error_type(a) == et_b:
                figures["same_error_type"] += 1
            else:
                failures.append(f"{name} {short}: redis {b!r:.120} / scaleout {a!r:.120}")
        elif rd and b is not None and isinstance(a, RespError):
            figures["redis_ok_scaleout_error"] += 1
            soft.append(f"{name} {short}: redis {b!r:.80} / scaleout {a!r:.120}")
        if figures["invocations"] % 500 == 0:
            used = scaleout.info("memory")["used_memory"]
            max_used = max(max_used, used)
    figures["commands"] = len(names)
    figures["seconds"] = round(time.monotonic() - t0, 1)
    figures["max_used_memory"] = max_used
    figures["scaleout_reconnects"] = so.reconnects
    so.call("FLUSHALL")
    figures["used_memory_after"] = scaleout.info("memory")["used_memory"]
    figures["rss_kb_after"] = scaleout.rss_kb()
    so.call("CONFIG", "SET", "client-output-buffer-limit", "normal 256mb 64mb 60")
    so.conn.close()
    if rd:
        rd.conn.close()
    return figures, failures, soft


def test_kv_argument_sweep(tmp_path):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: the sweep compares against it (scripts/install-deps.sh)")
    so = start_server("scaleout", tmp_path / "scaleout")
    rd = start_server("redis", tmp_path / "redis")
    try:
        figures, failures, soft = run_sweep(so, rd)
        print("sweep figures:", figures)
        for s in soft[:50]:
            print("redis OK, scaleout error:", s)
        assert so.alive(), so.log_tail()
        c = RespConn(so.port)
        assert c.cmd("PING") == "PONG"
        c.close()
        assert figures["closed"] == figures["scaleout_reconnects"]
        # bounded memory: the keyspace is empty again and the process small
        assert figures["used_memory_after"] < 64 * 1024 * 1024, figures
        assert figures["max_used_memory"] < 512 * 1024 * 1024, figures
        assert not failures, "\n".join(failures[:60]) + f"\n({len(failures)} differences)"
    finally:
        so.stop()
        rd.stop()


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        so = start_server("scaleout", Path(d) / "scaleout")
        rd = start_server("redis", Path(d) / "redis") if REDIS_SERVER else None
        try:
            figures, failures, soft = run_sweep(so, rd)
        finally:
            alive = so.alive()
            so.stop()
            if rd:
                rd.stop()
        print(figures)
        print("scaleout alive at the end:", alive)
        for f in failures:
            print("DIFF", f)
        for s in soft:
            print("SOFT", s)
        sys.exit(1 if failures or not alive else 0)
