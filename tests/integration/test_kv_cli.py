"""
The real redis-cli binary against the server: one-shot commands in raw and
--no-raw (and RESP3, -3) formatting, commands from stdin, -x, --scan, AUTH, and
--pipe mass insertion (which relies on ECHO to find the last reply).
"""
import subprocess

import pytest

from conftest import REDIS_CLI


@pytest.fixture(autouse=True)
def _redis_cli_installed():
    # a missing redis-cli fails instead of skipping (issue 7)
    if REDIS_CLI is None:
        pytest.fail("redis-cli not installed (scripts/install-deps.sh installs redis-tools)")


def cli(server, *args, stdin=None, rc=0):
    """Runs redis-cli -p PORT args...; returns (stdout bytes, stderr bytes)."""
    p = subprocess.run([REDIS_CLI, "-p", str(server.port), *args], input=stdin,
                       capture_output=True, timeout=30)
    assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
    return p.stdout, p.stderr


def out(server, *args, **kw):
    return cli(server, *args, **kw)[0]


def test_cli_set_get_raw(server):
    assert out(server, "SET", "a", "b") == b"OK\n"
    assert out(server, "GET", "a") == b"b\n"
    assert out(server, "GET", "missing") == b"\n"
    assert out(server, "INCR", "n") == b"1\n"
    assert out(server, "HSET", "h", "f", "v", "g", "w") == b"2\n"
    assert sorted(out(server, "HKEYS", "h").split()) == [b"f", b"g"]
    assert out(server, "GET") == b"ERR wrong number of arguments for 'get' command\n\n"


def test_cli_no_raw_formatting(server):
    assert out(server, "--no-raw", "SET", "a", "b") == b"OK\n"
    assert out(server, "--no-raw", "GET", "a") == b'"b"\n'
    assert out(server, "--no-raw", "GET", "missing") == b"(nil)\n"
    assert out(server, "--no-raw", "INCR", "n") == b"(integer) 1\n"
    assert out(server, "--no-raw", "SET", "bin", "x\ty") == b"OK\n"
    assert out(server, "--no-raw", "GET", "bin") == b'"x\\ty"\n'
    assert out(server, "--no-raw", "HSET", "h", "f", "v") == b"(integer) 1\n"
    assert out(server, "--no-raw", "HGETALL", "h") == b'1) "f"\n2) "v"\n'
    assert out(server, "--no-raw", "HGETALL", "nokey") == b"(empty array)\n"
    assert out(server, "--no-raw", "GET") == \
        b"(error) ERR wrong number of arguments for 'get' command\n"
    assert out(server, "--no-raw", "TYPE", "h") == b"hash\n"


def test_cli_resp3(server):
    out(server, "HSET", "h", "f", "v")
    assert out(server, "-3", "--no-raw", "HGETALL", "h") == b'1# "f" => "v"\n'
    assert out(server, "-3", "--no-raw", "GET", "missing") == b"(nil)\n"


def test_cli_commands_from_stdin(server):
    stdout = out(server, stdin=b"SET x 1\nINCR x\nGET x\nSET \"a b\" 'c d'\nGET \"a b\"\n")
    assert stdout == b"OK\n2\n2\nOK\nc d\n"


def test_cli_x_reads_last_arg_from_stdin(server):
    assert out(server, "-x", "SET", "blob", stdin=b"line1\nline2\n") == b"OK\n"
    assert server.conn().cmd("GET", "blob") == b"line1\nline2\n"


def test_cli_scan(server):
    c = server.conn()
    c.pipeline([("SET", f"user:{i}", i) for i in range(300)] + [("SET", "other", "x")])
    keys = out(server, "--scan", "--pattern", "user:*").split()
    assert sorted(keys) == sorted(f"user:{i}".encode() for i in range(300))
    assert len(out(server, "--scan").split()) == 301


def test_cli_info_and_dbsize(server):
    out(server, "SET", "a", "1")
    assert out(server, "DBSIZE") == b"1\n"
    text = out(server, "INFO", "keyspace")
    assert text.startswith(b"# Keyspace\r\n") and b"db0:keys=1," in text


def test_cli_auth(server_factory):
    s = server_factory("--requirepass", "s3cret")
    assert out(s, "GET", "a") == b"NOAUTH Authentication required.\n\n"
    assert out(s, "--no-auth-warning", "-a", "s3cret", "SET", "a", "b") == b"OK\n"
    assert out(s, "--user", "default", "--pass", "s3cret", "--no-auth-warning", "GET", "a") == b"b\n"
    stdout = out(s, "--no-auth-warning", "-a", "wrong", "GET", "a")
    assert b"WRONGPASS" in stdout or b"NOAUTH" in stdout


def test_cli_pipe_mass_insertion(server):
    n = 10000
    data = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" %
                    (len(b"key:%d" % i), b"key:%d" % i, len(b"val:%d" % i), b"val:%d" % i)
                    for i in range(n))
    stdout, _ = cli(server, "--pipe", stdin=data)
    assert b"errors: 0, replies: %d" % n in stdout, stdout
    c = server.conn()
    assert c.cmd("DBSIZE") == n
    assert c.cmd("GET", "key:0") == b"val:0"
    assert c.cmd("GET", "key:9999") == b"val:9999"


def test_cli_pipe_counts_errors(server):
    data = (b"SET a 1\r\nINCR a\r\nHSET a f v\r\nGET\r\n")
    stdout, stderr = cli(server, "--pipe", stdin=data, rc=1)
    assert b"errors: 2, replies: 4" in stdout, stdout
    assert stderr == (b"WRONGTYPE Operation against a key holding the wrong kind of value\n"
                      b"ERR wrong number of arguments for 'get' command\n")
