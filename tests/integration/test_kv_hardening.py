"""
test_kv_hardening.py — issue 7, kv: no request may crash or exhaust the server.

Classes covered (each test failed before its fix, see the commit history):
  integer arguments     overflow-safe parsing and range checks (SETRANGE offset +
                        length, GETRANGE, EXPIRE family, SET EX, INCRBY family,
                        HRANDFIELD, SCAN/HSCAN COUNT), Redis's exact error texts;
  client-sized replies  the output limit applies while a command runs (HRANDFIELD
                        with a negative count, MGET/HMGET repeating one value):
                        the command stops, the client gets an error and is
                        closed, the server lives;
  announced bulks       input buffers grow with the bytes that arrived, not with
                        the length a bulk header announces.
Every test but the last two classes runs against redis-server too: the error
texts are Redis 7.0's.
"""
import os
import shutil
import socket
import subprocess

import pytest

from conftest import RespConn, RespError, scaleout_only, wait_until

LLONG_MAX = 9223372036854775807
LLONG_MIN = -9223372036854775808
BIG = "string exceeds maximum allowed size (proto-max-bulk-len)"
NOT_INT = "ERR value is not an integer or out of range"


def _alive(server):
    c = RespConn(server.port)
    try:
        return c.cmd("PING") == "PONG"
    finally:
        c.close()


# ---- integer arguments ------------------------------------------------------

@pytest.mark.parametrize("off", [LLONG_MAX, LLONG_MAX - 1, 2**62, 2**32, 536870912])
def test_setrange_offset_plus_length_overflow(server, c, off):
    assert c.cmd("SETRANGE", "k", str(off), "x") == RespError("ERR " + BIG)
    assert c.cmd("SET", "k", "abc") == "OK"
    assert c.cmd("SETRANGE", "k", str(off), "x") == RespError("ERR " + BIG)
    assert c.cmd("GET", "k") == b"abc"
    assert _alive(server)


def test_setrange_offset_errors(c):
    assert c.cmd("SETRANGE", "k", "-1", "x") == RespError("ERR offset is out of range")
    assert c.cmd("SETRANGE", "k", str(LLONG_MIN), "x") == RespError("ERR offset is out of range")
    assert c.cmd("SETRANGE", "k", "9223372036854775808", "x") == RespError(NOT_INT)
    assert c.cmd("SETRANGE", "k", "1e3", "x") == RespError(NOT_INT)
    # the largest string that fits is accepted when the key is empty and x is empty
    assert c.cmd("SETRANGE", "k", str(LLONG_MAX), "") == 0


def test_append_size_checked(c):
    assert c.cmd("CONFIG", "SET", "proto-max-bulk-len", "1mb") == "OK"
    try:
        assert c.cmd("SETRANGE", "k", str(1024 * 1024 - 1), "x") == 1024 * 1024
        assert c.cmd("APPEND", "k", "y") == RespError("ERR " + BIG)
        assert c.cmd("STRLEN", "k") == 1024 * 1024
    finally:
        c.cmd("CONFIG", "SET", "proto-max-bulk-len", "512mb")


@pytest.mark.parametrize("start,end,want", [
    (LLONG_MIN, LLONG_MAX, b"hello"),
    (LLONG_MAX, LLONG_MAX, b""),
    (LLONG_MIN, LLONG_MIN, b"h"),
    (0, LLONG_MIN, b"h"),
    (-1, LLONG_MAX, b"o"),
    (LLONG_MIN, 0, b"h"),
    (4, -9223372036854775807, b""),
])
def test_getrange_extremes(c, start, end, want):
    assert c.cmd("SET", "k", "hello") == "OK"
    assert c.cmd("GETRANGE", "k", str(start), str(end)) == want


def test_getrange_not_integer(c):
    assert c.cmd("GETRANGE", "k", "9223372036854775808", "1") == RespError(NOT_INT)
    assert c.cmd("GETRANGE", "k", "0", "-9223372036854775809") == RespError(NOT_INT)


@pytest.mark.parametrize("cmd,arg", [
    ("EXPIRE", LLONG_MAX), ("EXPIRE", LLONG_MIN), ("EXPIRE", LLONG_MAX // 1000 + 1),
    ("PEXPIRE", LLONG_MAX), ("EXPIREAT", LLONG_MAX), ("EXPIREAT", LLONG_MIN),
])
def test_expire_overflow(c, cmd, arg):
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd(cmd, "k", str(arg)) == RespError(f"ERR invalid expire time in '{cmd.lower()}' command")
    assert c.cmd("TTL", "k") == -1


def test_expire_extremes_that_fit(c):
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("PEXPIREAT", "k", str(LLONG_MAX)) == 1
    assert c.cmd("PEXPIRETIME", "k") == LLONG_MAX
    # seconds are rounded: t + 500 must not overflow (UBSan caught it)
    assert c.cmd("EXPIRETIME", "k") == LLONG_MAX // 1000 + 1
    assert c.cmd("TTL", "k") > 9223372036854775807 // 1000 - 2_000_000_000
    assert c.cmd("PEXPIRE", "k", str(LLONG_MIN)) == 1   # in the past: deleted
    assert c.cmd("EXISTS", "k") == 0


@pytest.mark.parametrize("args,cmd", [
    (("SET", "k", "v", "EX", str(LLONG_MAX)), "set"),
    (("SET", "k", "v", "PX", str(LLONG_MAX)), "set"),
    (("SET", "k", "v", "EX", "0"), "set"),
    (("SET", "k", "v", "EX", str(LLONG_MIN)), "set"),
    (("SETEX", "k", str(LLONG_MAX), "v"), "setex"),
    (("PSETEX", "k", str(LLONG_MAX), "v"), "psetex"),
    (("GETEX", "k", "EX", str(LLONG_MAX)), "getex"),
    (("GETEX", "k", "PX", "-1"), "getex"),
])
def test_set_expire_overflow(c, args, cmd):
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd(*args) == RespError(f"ERR invalid expire time in '{cmd}' command")
    assert c.cmd("GET", "k") == b"v"
    assert c.cmd("TTL", "k") == -1


def test_incr_family_overflow(c):
    assert c.cmd("SET", "k", str(LLONG_MAX)) == "OK"
    assert c.cmd("INCR", "k") == RespError("ERR increment or decrement would overflow")
    assert c.cmd("INCRBY", "k", "1") == RespError("ERR increment or decrement would overflow")
    assert c.cmd("DECRBY", "k", "-1") == RespError("ERR increment or decrement would overflow")
    assert c.cmd("SET", "k", str(LLONG_MIN)) == "OK"
    assert c.cmd("DECR", "k") == RespError("ERR increment or decrement would overflow")
    assert c.cmd("INCRBY", "k", str(LLONG_MIN)) == RespError("ERR increment or decrement would overflow")
    assert c.cmd("DECRBY", "k", str(LLONG_MIN)) == RespError("ERR decrement would overflow")
    assert c.cmd("INCRBY", "k", "9223372036854775808") == RespError(NOT_INT)
    assert c.cmd("GET", "k") == str(LLONG_MIN).encode()
    assert c.cmd("INCRBYFLOAT", "k", "inf") == RespError("ERR increment would produce NaN or Infinity")
    assert c.cmd("INCRBYFLOAT", "k", "nan") == RespError("ERR value is not a valid float")
    assert c.cmd("HINCRBY", "h", "f", str(LLONG_MAX)) == LLONG_MAX
    assert c.cmd("HINCRBY", "h", "f", "1") == RespError("ERR increment or decrement would overflow")
    assert c.cmd("HINCRBYFLOAT", "h", "g", "-inf") == RespError("ERR value is NaN or Infinity")


def test_hrandfield_count_range(c):
    assert c.cmd("HSET", "h", "a", "1", "b", "2") == 2
    assert c.cmd("HRANDFIELD", "h", str(LLONG_MIN)) == RespError(
        f"ERR value is out of range, value must between {-LLONG_MAX} and {LLONG_MAX}")
    assert c.cmd("HRANDFIELD", "h", str(-LLONG_MAX), "WITHVALUES") == RespError("ERR value is out of range")
    assert c.cmd("HRANDFIELD", "h", str(LLONG_MAX // 2 + 1), "WITHVALUES") == RespError(
        "ERR value is out of range")
    assert sorted(c.cmd("HRANDFIELD", "h", str(LLONG_MAX))) == [b"a", b"b"]
    assert len(c.cmd("HRANDFIELD", "h", "-5")) == 5
    assert c.cmd("HRANDFIELD", "h", "9223372036854775808") == RespError(NOT_INT)


@pytest.mark.parametrize("cmd", [("SCAN", "0"), ("HSCAN", "h", "0")])
def test_scan_count_extremes(c, cmd):
    assert c.cmd("HSET", "h", *[x for i in range(200) for x in (f"f{i}", "v")]) == 200
    r = c.cmd(*cmd, "COUNT", str(LLONG_MAX))
    assert r[0] == b"0"
    for bad in ("0", "-1", str(LLONG_MIN)):
        assert c.cmd(*cmd, "COUNT", bad) == RespError("ERR syntax error")
    assert c.cmd(*cmd, "COUNT", "9223372036854775808") == RespError(NOT_INT)


def test_select_and_cursor_extremes(c):
    assert c.cmd("SELECT", str(LLONG_MAX)) == RespError(
        "ERR value is out of range, value must between -2147483648 and 2147483647")
    assert c.cmd("SELECT", "2147483647") == RespError("ERR DB index is out of range")
    assert c.cmd("SELECT", "-1") == RespError("ERR DB index is out of range")
    assert c.cmd("SELECT", "9223372036854775808") == RespError(NOT_INT)
    assert c.cmd("SCAN", "18446744073709551616") == RespError("ERR invalid cursor")
    assert c.cmd("SCAN", "18446744073709551615")[0] == b"0"


# ---- replies whose size the client controls -----------------------------------

@scaleout_only
def test_hrandfield_negative_count_bounded_mid_command(server, c):
    """HRANDFIELD h -(2^63-1) would loop 9.2e18 times (Redis 7.0 does). The
    output limit stops it: the client gets an error and is closed, the server
    and its other clients go on."""
    other = server.conn()
    assert c.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0") == "OK"
    try:
        assert c.cmd("HSET", "h", "a", "1", "b", "2") == 2
        c.send_cmd("HRANDFIELD", "h", str(-LLONG_MAX))
        data = c.read_until_closed(timeout=30)
        assert data == b"-ERR reply exceeds the client output buffer limit; closing the connection\r\n"
        assert other.cmd("HLEN", "h") == 2
        info = server.info("stats", conn=other)
        assert info["client_output_buffer_limit_disconnections"] >= 1
    finally:
        other.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 256mb 64mb 60")


@scaleout_only
@pytest.mark.parametrize("cmd", ["MGET", "HMGET"])
def test_repeated_value_reply_bounded(server, c, cmd):
    other = server.conn()
    assert c.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0") == "OK"
    try:
        big = "x" * 100_000
        if cmd == "MGET":
            assert c.cmd("SET", "k", big) == "OK"
            args = ["MGET"] + ["k"] * 100
        else:
            assert c.cmd("HSET", "h", "f", big) == 1
            args = ["HMGET", "h"] + ["f"] * 100
        # replies of earlier commands in the same batch still arrive
        c.send_cmd("PING")
        c.send_cmd(*args)
        data = c.read_until_closed(timeout=30)
        assert data == b"+PONG\r\n-ERR reply exceeds the client output buffer limit; closing the connection\r\n"
        assert other.cmd("PING") == "PONG"
    finally:
        other.cmd("CONFIG", "SET", "client-output-buffer-limit", "normal 256mb 64mb 60")


def test_repeated_value_reply_under_limit_is_whole(c):
    assert c.cmd("SET", "k", "v" * 1000) == "OK"
    assert c.cmd("MGET", *(["k"] * 1000)) == [b"v" * 1000] * 1000


# ---- bulk buffers follow the bytes that arrived -------------------------------

@scaleout_only
def test_announced_bulk_does_not_reserve_memory(server):
    """Four clients announce a 512 MB bulk and send 100 kB each: used_memory
    grows by about what arrived (Redis 7.0 reserves the announced size: 2 GB)."""
    base = server.info("memory")["used_memory"]
    net0 = server.info("stats")["total_net_input_bytes"]
    socks = []
    try:
        for _ in range(4):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870912\r\n" + b"a" * 100_000)
            socks.append(s)
        wait_until(lambda: server.info("stats")["total_net_input_bytes"] - net0 >= 4 * 100_000,
                   timeout=10, what="400 kB read by the server")
        grown = server.info("memory")["used_memory"] - base
        assert grown < 8 * 1024 * 1024, f"used_memory grew by {grown} bytes"
    finally:
        for s in socks:
            s.close()


def test_large_bulk_in_small_pieces_completes(c):
    """The input buffer grows with what arrives and the value is whole."""
    n = 4 * 1024 * 1024
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % n)
    chunk = bytes(range(256)) * 256
    for _ in range(n // len(chunk)):
        c.send(chunk)
    c.send(b"\r\n")
    assert c.read() == "OK"
    assert c.cmd("GETRANGE", "k", str(n - 3), "-1") == bytes([253, 254, 255])
    assert c.cmd("STRLEN", "k") == n


# ---- found by the argument sweep (test_kv_sweep.py) ---------------------------

@pytest.mark.parametrize("bad", ["0", "-1", "x", "9223372036854775808", ""])
def test_client_kill_id_checked(c, bad):
    assert c.cmd("CLIENT", "KILL", "ID", bad) == RespError("ERR client-id should be greater than 0")
    assert c.cmd("CLIENT", "KILL", "ID", "999999", "ID", bad) == RespError(
        "ERR client-id should be greater than 0")
    assert c.cmd("PING") == "PONG"


def test_client_list_id_extremes(c):
    assert c.cmd("CLIENT", "LIST", "ID", "0", "-1", str(LLONG_MIN)) == b""
    assert c.cmd("CLIENT", "LIST", "ID", "x") == RespError("ERR Invalid client ID")


@pytest.mark.parametrize("val", [" 1", "1 ", "1 2", "+1x"])
def test_config_set_integer_taken_whole(c, val):
    r = c.cmd("CONFIG", "SET", "maxmemory-samples", val)
    assert isinstance(r, RespError) and "argument couldn't be parsed into an integer" in r.msg, r
    assert c.cmd("CONFIG", "GET", "maxmemory-samples") == [b"maxmemory-samples", b"5"]


def test_memory_usage_samples_checked(c):
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("MEMORY", "USAGE", "k", "SAMPLES", "-1") == RespError("ERR syntax error")
    assert c.cmd("MEMORY", "USAGE", "k", "SAMPLES", "x") == RespError(NOT_INT)
    assert isinstance(c.cmd("MEMORY", "USAGE", "k", "SAMPLES", "0"), int)


# ---- found by the differential fuzzer (fuzz/kv_diff.py) -----------------------

def test_getex_checks_time_after_the_key(c):
    """Redis getexCommand: nil for a missing key and WRONGTYPE come before the
    expire time is validated."""
    assert c.cmd("GETEX", "missing", "EX", "0") is None
    assert c.cmd("HSET", "h", "f", "v") == 1
    assert c.cmd("GETEX", "h", "EX", "0") == RespError(
        "WRONGTYPE Operation against a key holding the wrong kind of value")
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("GETEX", "k", "EX", "0") == RespError("ERR invalid expire time in 'getex' command")
    assert c.cmd("GETEX", "k", "EX", "x") == RespError(NOT_INT)
    assert c.cmd("GETEX", "k", "EX", "100") == b"v"
    assert c.cmd("TTL", "k") == 100


def test_object_refcount_shared_integers(c):
    assert c.cmd("SET", "a", "5") == "OK"
    assert c.cmd("SET", "b", "10000") == "OK"
    assert c.cmd("SET", "c", "abc") == "OK"
    assert c.cmd("OBJECT", "REFCOUNT", "a") == 2147483647
    assert c.cmd("OBJECT", "REFCOUNT", "b") == 1
    assert c.cmd("OBJECT", "REFCOUNT", "c") == 1


# ---- no abort() from a request: a huge allocation fails the command -----------

@scaleout_only
@pytest.mark.skipif(os.environ.get("SCALEOUT_SANITIZERS") == "1",
                    reason="ASan's allocator aborts on a failed allocation by design")
@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) missing")
def test_failed_string_allocation_is_an_error_not_an_abort(server_factory):
    """With the address space limited to 300 MB, SETRANGE/APPEND to 400 MB
    cannot be allocated: the command fails, nothing changes, the server lives
    (it used to abort in xrealloc)."""
    s = server_factory()
    c = s.conn()
    subprocess.run(["prlimit", "--pid", str(s.pid), "--as=300000000"], check=True, timeout=10)
    assert c.cmd("SETRANGE", "k", "400000000", "x") == RespError(
        "OOM cannot allocate a string of 400000001 bytes")
    assert c.cmd("EXISTS", "k") == 0
    assert c.cmd("SET", "k", "abc") == "OK"
    assert c.cmd("SETRANGE", "k", "400000000", "x") == RespError(
        "OOM cannot allocate a string of 400000001 bytes")
    assert c.cmd("GET", "k") == b"abc"
    assert c.cmd("SETRANGE", "k", "10", "x") == 11
    assert s.alive()


@scaleout_only
def test_argument_arrays_count_against_query_buffer_limit(server, c):
    """Empty arguments cost 6 bytes on the wire but 32 bytes of argument
    arrays each: 600 kB of them pass a 1 MB query buffer limit."""
    other = server.conn()
    assert other.cmd("CONFIG", "SET", "client-query-buffer-limit", "1mb") == "OK"
    try:
        c.send(b"*1000000\r\n" + b"$0\r\n\r\n" * 100_000)
        assert c.read_until_closed(timeout=10) == b""
        assert other.cmd("PING") == "PONG"
    finally:
        other.cmd("CONFIG", "SET", "client-query-buffer-limit", "1gb")


def test_set_repeated_expire_option_last_counts(c):
    """Redis parseExtendedStringArgumentsOrReply: the same expire form again
    replaces the time; a different form is a syntax error."""
    assert c.cmd("SET", "k", "v", "EX", "10", "EX", "20") == "OK"
    assert c.cmd("TTL", "k") == 20
    assert c.cmd("SET", "k", "v", "EX", "10", "EX", "GET") == RespError(NOT_INT)
    assert c.cmd("SET", "k", "v", "EX", "10", "PX", "20") == RespError("ERR syntax error")
    assert c.cmd("GETEX", "k", "PX", "1", "PX", "5000000") == b"v"
    assert c.cmd("TTL", "k") == 5000
    assert c.cmd("GETEX", "k", "EX", "1", "EXAT", "5") == RespError("ERR syntax error")
