"""
The RESP wire protocol itself: pipelining, inline commands, requests split into
many small writes, protocol errors (exact text, then the connection is closed),
binary safety and large values.
"""
import os
import random

import pytest

from conftest import resp_encode


def expect_close(c, expected, timeout=5):
    data = c.read_until_closed(timeout=timeout)
    assert data == expected


# ---------------------------------------------------------------- pipelining

def test_pipeline_1000_commands_one_write(c):
    cmds = []
    for i in range(1000):
        if i % 3 == 0:
            cmds.append(("SET", f"k{i}", f"v{i}"))
        elif i % 3 == 1:
            cmds.append(("GET", f"k{i - 1}"))
        else:
            cmds.append(("INCR", "counter"))
    c.send(b"".join(resp_encode(*cmd) for cmd in cmds))
    replies = [c.read() for _ in cmds]
    for i, rep in enumerate(replies):
        if i % 3 == 0:
            assert rep == "OK", i
        elif i % 3 == 1:
            assert rep == f"v{i - 1}".encode(), i
        else:
            assert rep == (i + 1) // 3, i
    assert c.cmd("GET", "counter") == b"333"


def test_pipeline_with_errors_keeps_order(c):
    replies = c.pipeline([("SET", "a", "1"), ("INCR", "a"), ("GET",), ("HSET", "a", "f", "v"),
                          ("NOSUCH",), ("GET", "a")])
    assert replies[0] == "OK"
    assert replies[1] == 2
    assert replies[2].msg == "ERR wrong number of arguments for 'get' command"
    assert replies[3].msg == "WRONGTYPE Operation against a key holding the wrong kind of value"
    assert replies[4].msg == "ERR unknown command 'NOSUCH', with args beginning with: "
    assert replies[5] == b"2"


def test_pipeline_redis_py(r):
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"k{i}", i)
        for i in range(1000):
            p.get(f"k{i}")
        out = p.execute()
    assert out[:1000] == [True] * 1000
    assert out[1000:] == [str(i).encode() for i in range(1000)]


def test_byte_by_byte_request(c):
    req = resp_encode("SET", "slow", "value") + b"PING\r\n" + resp_encode("GET", "slow")
    for i in range(len(req)):
        c.send(req[i:i + 1])
    assert c.read() == "OK"
    assert c.read() == "PONG"
    assert c.read() == b"value"


def test_random_split_pipeline(c):
    rnd = random.Random(1234)
    cmds = [("SET", f"k{i}", "x" * rnd.randint(0, 3000)) for i in range(200)]
    cmds += [("STRLEN", f"k{i}") for i in range(200)]
    data = b"".join(resp_encode(*cmd) for cmd in cmds)
    pos = 0
    while pos < len(data):
        n = rnd.randint(1, 5000)
        c.send(data[pos:pos + n])
        pos += n
    replies = [c.read() for _ in cmds]
    assert replies[:200] == ["OK"] * 200
    assert replies[200:] == [len(cmd[2]) for cmd in cmds[:200]]


# ---------------------------------------------------------------- inline commands

def test_inline_commands(c):
    c.send(b"PING\r\n")
    assert c.read() == "PONG"
    c.send(b"SET a b\r\n")
    assert c.read() == "OK"
    c.send(b"GET a\r\n")
    assert c.read() == b"b"
    c.send(b"PING\n")               # bare LF
    assert c.read() == "PONG"
    c.send(b"  SET   spaced    out  \r\n")
    assert c.read() == "OK"
    c.send(b"GET spaced\r\n")
    assert c.read() == b"out"
    c.send(b"\r\n\r\n\nPING\r\n")    # empty lines are skipped
    assert c.read() == "PONG"


def test_inline_quoting(c):
    c.send(b'SET "a key" \'a value\'\r\n')
    assert c.read() == "OK"
    assert c.cmd("GET", "a key") == b"a value"
    c.send(b'ECHO "tab\\there \\"q\\" \\x41\\x42 nl\\n"\r\n')
    assert c.read() == b'tab\there "q" AB nl\n'
    c.send(b"ECHO 'single \\' quote'\r\n")
    assert c.read() == b"single ' quote"
    c.send(b'ECHO ""\r\n')
    assert c.read() == b""


def test_inline_errors(c):
    c.send(b"NOSUCH x y\r\n")
    assert c.read().msg == "ERR unknown command 'NOSUCH', with args beginning with: 'x' 'y' "
    c.send(b"GET\r\n")
    assert c.read().msg == "ERR wrong number of arguments for 'get' command"
    assert c.cmd("PING") == "PONG"


def test_inline_and_multibulk_mixed(c):
    c.send(b"SET x 1\r\n" + resp_encode("INCR", "x") + b"INCR x\r\n" + resp_encode("GET", "x"))
    assert [c.read() for _ in range(4)] == ["OK", 2, 3, b"3"]


# ---------------------------------------------------------------- protocol errors

@pytest.mark.parametrize("data,error", [
    (b"*1\r\n$abc\r\n", b"invalid bulk length"),
    (b"*1\r\n$-1\r\n", b"invalid bulk length"),
    (b"*2\r\n$3\r\nGET\r\n$536870913\r\n", b"invalid bulk length"),
    (b"*3\r\n$3\r\nSET\r\n$1\r\na\r\nXX\r\n", b"expected '$', got 'X'"),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", b"expected '$', got ':'"),
    (b"*abc\r\n", b"invalid multibulk length"),
    (b"*2147483648\r\n", b"invalid multibulk length"),
    (b'SET "a b\r\n', b"unbalanced quotes in request"),
    (b"ECHO \"a\"b\r\n", b"unbalanced quotes in request"),
    (b"ECHO 'a'b\r\n", b"unbalanced quotes in request"),
])
def test_protocol_error_closes_connection(server, data, error):
    c = server.conn()
    c.send(data)
    expect_close(c, b"-ERR Protocol error: " + error + b"\r\n")
    # the server is fine
    assert server.conn().cmd("PING") == "PONG"


def test_protocol_error_after_good_commands(server):
    c = server.conn()
    c.send(resp_encode("SET", "a", "1") + resp_encode("GET", "a") + b"*1\r\n$x\r\n" +
           resp_encode("SET", "a", "2"))
    expect_close(c, b"+OK\r\n$1\r\n1\r\n-ERR Protocol error: invalid bulk length\r\n")
    assert server.conn().cmd("GET", "a") == b"1"


def test_too_big_inline_request(server):
    c = server.conn()
    c.send(b"a" * 70000)
    expect_close(c, b"-ERR Protocol error: too big inline request\r\n")


def test_too_big_count_strings(server):
    c = server.conn()
    c.send(b"*" + b"1" * 70000)
    expect_close(c, b"-ERR Protocol error: too big mbulk count string\r\n")
    c = server.conn()
    c.send(b"*1\r\n$" + b"1" * 70000)
    expect_close(c, b"-ERR Protocol error: too big bulk count string\r\n")


def test_empty_and_negative_multibulk_are_ignored(server):
    c = server.conn()
    c.send(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")
    assert c.read() == "PONG"
    assert c.last_raw == b"+PONG\r\n"


def test_empty_command_name(c):
    c.send(b"*1\r\n$0\r\n\r\n")
    assert c.read().msg == "ERR unknown command '', with args beginning with: "


def test_many_arguments(c):
    n = 10000
    args = []
    for i in range(n):
        args += [f"f{i}", "v"]
    assert c.cmd("HSET", "h", *args) == n
    assert c.cmd("DEL", *[f"nokey{i}" for i in range(n)], "h") == 1


def test_client_disconnect_mid_command(server):
    c = server.conn()
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nonly-part")
    c.close()
    c2 = server.conn()
    assert c2.cmd("EXISTS", "k") == 0
    assert c2.cmd("PING") == "PONG"


# ---------------------------------------------------------------- binary safety, big values

def test_binary_safe_values(c, r):
    every_byte = bytes(range(256))
    assert c.cmd("SET", "bin", every_byte) == "OK"
    assert c.cmd("GET", "bin") == every_byte
    assert c.cmd("STRLEN", "bin") == 256
    assert c.cmd("APPEND", "bin", b"\r\n\x00") == 259
    assert c.cmd("GETRANGE", "bin", 0, 3) == b"\x00\x01\x02\x03"
    assert r.get("bin") == every_byte + b"\r\n\x00"
    # binary keys and hash fields
    key = b"k\x00\r\n\xff"
    assert c.cmd("SET", key, b"\x00") == "OK"
    assert c.cmd("GET", key) == b"\x00"
    assert c.cmd("EXISTS", b"k") == 0
    assert c.cmd("HSET", b"h\x00", b"f\r\n", every_byte) == 1
    assert c.cmd("HGET", b"h\x00", b"f\r\n") == every_byte
    assert set(c.cmd("KEYS", "*")) == {b"bin", key, b"h\x00"}


def test_random_binary_values_roundtrip(r):
    rnd = random.Random(99)
    values = {f"r{i}": bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 2000)))
              for i in range(100)}
    r.mset(values)
    assert r.mget(list(values)) == list(values.values())


def test_big_value_10mb(c, r):
    big = os.urandom(10 * 1024 * 1024)
    assert c.cmd("SET", "big", big) == "OK"
    assert c.cmd("STRLEN", "big") == len(big)
    assert c.cmd("GET", "big") == big
    assert r.get("big") == big
    assert c.cmd("GETRANGE", "big", -10, -1) == big[-10:]
    assert c.cmd("APPEND", "big", "tail") == len(big) + 4
    assert c.cmd("DEL", "big") == 1
    # through redis-py too
    assert r.set("big2", big) is True
    assert c.cmd("GET", "big2") == big
