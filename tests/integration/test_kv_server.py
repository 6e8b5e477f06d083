"""
Connection and server commands: PING ECHO QUIT HELLO (RESP3 on a raw socket)
AUTH SELECT DBSIZE FLUSHDB FLUSHALL INFO CONFIG COMMAND CLIENT, unknown commands
and arity errors; and scaleout's admin endpoint (/metrics, /status).
"""
import json

import pytest

from conftest import DEFAULT_MAXMEMORY, EXTRA_POLICIES, HOST, RespMap, parse_info, wait_until

SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
HELLO_NOAUTH = ("NOAUTH HELLO must be called with the client already authenticated, otherwise "
                "the HELLO AUTH <user> <pass> option can be used to authenticate the "
                "client and select the RESP protocol version at the same time")


def arity(cmd):
    return f"ERR wrong number of arguments for '{cmd}' command"


# ---------------------------------------------------------------- PING ECHO QUIT

def test_ping(c):
    assert c.cmd("PING") == "PONG"
    assert c.last_raw == b"+PONG\r\n"
    assert c.cmd("PING", "hello world") == b"hello world"
    assert c.last_raw == b"$11\r\nhello world\r\n"
    assert c.cmd("PING", "") == b""
    assert c.err("PING", "a", "b") == arity("ping")


def test_echo(c):
    assert c.cmd("ECHO", "hi") == b"hi"
    assert c.last_raw == b"$2\r\nhi\r\n"
    assert c.cmd("ECHO", b"\x00\xff\r\n") == b"\x00\xff\r\n"
    assert c.err("ECHO") == arity("echo")
    assert c.err("ECHO", "a", "b") == arity("echo")


def test_quit_replies_ok_then_closes(server):
    c = server.conn()
    c.cmd("SET", "k", "v")
    c.send_cmd("QUIT")
    assert c.read_until_closed(timeout=5) == b"+OK\r\n"
    # commands pipelined after QUIT are not executed
    c = server.conn()
    c.send(b"*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nafter\r\n")
    assert c.read_until_closed(timeout=5) == b"+OK\r\n"
    assert server.conn().cmd("GET", "k") == b"v"


def test_unknown_command(c):
    assert c.err("foo", "bar") == "ERR unknown command 'foo', with args beginning with: 'bar' "
    assert c.err("FOO") == "ERR unknown command 'FOO', with args beginning with: "
    assert c.err("foo", "a", "b c") == \
        "ERR unknown command 'foo', with args beginning with: 'a' 'b c' "
    # the connection stays usable
    assert c.cmd("PING") == "PONG"


# ---------------------------------------------------------------- HELLO / RESP3

HELLO_KEYS = {b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"}


def test_hello_resp2(c):
    reply = c.cmd("HELLO")
    assert isinstance(reply, list) and len(reply) == 14
    m = dict(zip(reply[0::2], reply[1::2]))
    assert set(m) == HELLO_KEYS
    assert m[b"proto"] == 2
    assert isinstance(m[b"id"], int)
    assert m[b"mode"] == b"standalone"
    assert m[b"role"] == b"master"
    assert m[b"modules"] == []
    assert c.cmd("HELLO", "2")[5] == 2


def test_hello3_switches_to_resp3(c, kv_target):
    c.cmd("HSET", "h", "f", "v")
    c.cmd("SET", "s", "1")
    reply = c.cmd("HELLO", "3")
    assert isinstance(reply, RespMap), c.last_raw
    assert c.last_raw.startswith(b"%7\r\n")
    assert set(reply) == HELLO_KEYS
    assert reply[b"proto"] == 3
    assert reply[b"id"] == c.cmd("CLIENT", "ID")
    # maps, nulls
    assert c.cmd("HGETALL", "h") == {b"f": b"v"}
    assert c.last_raw == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert c.cmd("HGETALL", "nokey") == {}
    assert c.last_raw == b"%0\r\n"
    assert c.cmd("GET", "nokey") is None
    assert c.last_raw == b"_\r\n"
    assert c.cmd("HGET", "h", "nofield") is None
    assert c.last_raw == b"_\r\n"
    assert c.cmd("MGET", "s", "nokey") == [b"1", None]
    assert c.last_raw == b"*2\r\n$1\r\n1\r\n_\r\n"
    assert c.cmd("SET", "s", "2", "XX") == "OK"
    assert c.cmd("SET", "nokey", "2", "XX") is None
    assert c.last_raw == b"_\r\n"
    mm = DEFAULT_MAXMEMORY[kv_target]
    assert c.cmd("CONFIG", "GET", "maxmemory") == {b"maxmemory": mm}
    assert c.last_raw == b"%%1\r\n$9\r\nmaxmemory\r\n$%d\r\n%s\r\n" % (len(mm), mm)
    # types that stay the same
    assert c.cmd("EXISTS", "s") == 1
    assert c.last_raw == b":1\r\n"
    assert c.cmd("INCRBYFLOAT", "f", "1.5") == b"1.5"
    assert c.last_raw == b"$3\r\n1.5\r\n"
    assert c.cmd("PING") == "PONG"
    assert c.cmd("SCAN", "0", "COUNT", "100")[0] == b"0"
    assert c.err("GET") == arity("get")
    # and back
    assert c.cmd("HELLO", "2")[5] == 2
    assert c.cmd("GET", "nokey") is None
    assert c.last_raw == b"$-1\r\n"
    assert c.cmd("HGETALL", "h") == [b"f", b"v"]


def test_hello_errors(c):
    assert c.err("HELLO", "4") == "NOPROTO unsupported protocol version"
    assert c.err("HELLO", "1") == "NOPROTO unsupported protocol version"
    assert c.err("HELLO", "abc") == "ERR Protocol version is not an integer or out of range"
    assert c.err("HELLO", "3", "foo") == "ERR Syntax error in HELLO option 'foo'"
    assert c.err("HELLO", "3", "AUTH", "default") == "ERR Syntax error in HELLO option 'AUTH'"
    # a failed HELLO leaves the protocol unchanged
    assert c.cmd("GET", "nokey") is None
    assert c.last_raw == b"$-1\r\n"


def test_hello_setname(c):
    reply = c.cmd("HELLO", "3", "SETNAME", "myconn")
    assert reply[b"proto"] == 3
    assert c.cmd("CLIENT", "GETNAME") == b"myconn"


def test_redis_py_resp2_roundtrip(r):
    assert r.ping() is True
    assert r.echo("x") == b"x"
    assert r.dbsize() == 0


# ---------------------------------------------------------------- AUTH

def test_auth_requirepass(server_factory):
    s = server_factory("--requirepass", "s3cret")
    c = s.conn()
    assert c.err("GET", "a") == NOAUTH
    assert c.err("SET", "a", "b") == NOAUTH
    assert c.err("PING") == NOAUTH
    assert c.err("AUTH", "wrong") == WRONGPASS
    assert c.err("AUTH", "default", "wrong") == WRONGPASS
    assert c.err("AUTH", "nouser", "s3cret") == WRONGPASS
    assert c.err("GET", "a") == NOAUTH
    assert c.cmd("AUTH", "s3cret") == "OK"
    assert c.cmd("SET", "a", "b") == "OK"
    assert c.cmd("GET", "a") == b"b"
    c2 = s.conn()
    assert c2.cmd("AUTH", "default", "s3cret") == "OK"
    assert c2.cmd("GET", "a") == b"b"
    # a later failed AUTH does not log an authenticated client out
    assert c2.err("AUTH", "wrong") == WRONGPASS
    assert c2.cmd("GET", "a") == b"b"
    assert c.err("AUTH") == arity("auth")
    # redis-py with a password
    r = s.client(password="s3cret")
    assert r.get("a") == b"b"


def test_auth_unauthenticated_may_quit(server_factory):
    s = server_factory("--requirepass", "s3cret")
    c = s.conn()
    c.send_cmd("QUIT")
    assert c.read_until_closed(timeout=5) == b"+OK\r\n"


def test_hello_auth(server_factory):
    s = server_factory("--requirepass", "s3cret")
    c = s.conn()
    assert c.err("HELLO", "3") == HELLO_NOAUTH
    assert c.err("HELLO") == HELLO_NOAUTH
    assert c.err("HELLO", "3", "AUTH", "default", "wrong") == WRONGPASS
    assert c.err("GET", "a") == NOAUTH
    reply = c.cmd("HELLO", "3", "AUTH", "default", "s3cret")
    assert isinstance(reply, RespMap) and reply[b"proto"] == 3
    assert c.cmd("GET", "a") is None
    assert c.last_raw == b"_\r\n"
    c2 = s.conn()
    reply = c2.cmd("HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "n2")
    assert isinstance(reply, list)
    assert c2.cmd("CLIENT", "GETNAME") == b"n2"


def test_auth_without_password_configured(c):
    assert c.err("AUTH", "x") == ("ERR AUTH <password> called without any password configured "
                                  "for the default user. Are you sure your configuration is correct?")


def test_unauthenticated_request_limits(server_factory):
    """Redis 7 refuses big requests before AUTH (multibulk > 10, bulk > 16 KB)."""
    s = server_factory("--requirepass", "s3cret")
    c = s.conn()
    c.send(b"*20\r\n")
    assert c.read_until_closed(timeout=5) == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
    c = s.conn()
    c.send(b"*2\r\n$3\r\nGET\r\n$20000\r\n")
    assert c.read_until_closed(timeout=5) == b"-ERR Protocol error: unauthenticated bulk length\r\n"


# ---------------------------------------------------------------- SELECT DBSIZE FLUSH*

def test_select(c):
    assert c.cmd("SELECT", "0") == "OK"
    assert c.err("SELECT", "16") == "ERR DB index is out of range"
    assert c.err("SELECT", "-1") == "ERR DB index is out of range"
    assert c.err("SELECT", "abc") == NOT_INT
    assert c.err("SELECT") == arity("select")
    c.cmd("SET", "k", "v")
    assert c.cmd("SELECT", "0") == "OK"
    assert c.cmd("GET", "k") == b"v"


def test_dbsize_flush(c):
    assert c.cmd("DBSIZE") == 0
    c.pipeline([("SET", f"k{i}", i) for i in range(100)])
    assert c.cmd("DBSIZE") == 100
    assert c.cmd("FLUSHDB") == "OK"
    assert c.cmd("DBSIZE") == 0
    for cmd in [("FLUSHALL",), ("FLUSHALL", "SYNC"), ("FLUSHALL", "ASYNC"), ("FLUSHDB", "SYNC"),
                ("FLUSHDB", "async"), ("FLUSHDB",)]:
        c.pipeline([("SET", f"k{i}", i) for i in range(100)])
        assert c.cmd(*cmd) == "OK", cmd
        assert c.cmd("DBSIZE") == 0, cmd
    assert c.err("FLUSHALL", "bogus") == SYNTAX
    assert c.err("FLUSHDB", "bogus") == SYNTAX
    assert c.err("DBSIZE", "x") == arity("dbsize")


# ---------------------------------------------------------------- INFO

def test_info(server, c):
    text = c.cmd("INFO")
    assert isinstance(text, bytes)
    assert text.startswith(b"# ")
    assert b"\r\n" in text
    info = parse_info(text)
    for field in ["used_memory", "keyspace_hits", "keyspace_misses", "evicted_keys",
                  "expired_keys", "connected_clients", "maxmemory"]:
        assert isinstance(info.get(field), int), field
    for section in [b"# Server", b"# Clients", b"# Memory", b"# Stats", b"# Keyspace"]:
        assert section in text, section
    stats = parse_info(c.cmd("INFO", "stats"))
    assert "keyspace_hits" in stats and "used_memory" not in stats
    mem = parse_info(c.cmd("INFO", "memory"))
    assert mem["used_memory"] > 0
    assert c.cmd("INFO", "nosuchsection") == b""


def test_info_hits_misses(c):
    before = parse_info(c.cmd("INFO", "stats"))
    c.cmd("SET", "a", "1")
    c.cmd("GET", "a")
    c.cmd("GET", "a")
    c.cmd("GET", "missing1")
    c.cmd("GET", "missing2")
    c.cmd("GET", "missing3")
    after = parse_info(c.cmd("INFO", "stats"))
    assert after["keyspace_hits"] - before["keyspace_hits"] == 2
    assert after["keyspace_misses"] - before["keyspace_misses"] == 3


def test_info_net_totals_keep_the_bytes_of_closed_clients(server, c):
    """total_net_input/output_bytes count since start, as Redis: the bytes of
    a client that has gone stay in them (they were summed over the clients
    still connected, so they went down when one closed)."""
    import socket
    n0 = parse_info(c.cmd("INFO", "clients"))["connected_clients"]
    before = parse_info(c.cmd("INFO", "stats"))
    s = socket.create_connection((HOST, server.port), timeout=5)
    s.sendall(b"*3\r\n$3\r\nSET\r\n$4\r\nbulk\r\n$20000\r\n" + b"x" * 20000 + b"\r\n")
    assert s.recv(5) == b"+OK\r\n"
    s.close()
    wait_until(lambda: parse_info(c.cmd("INFO", "clients"))["connected_clients"] == n0, what="the client gone")
    after = parse_info(c.cmd("INFO", "stats"))
    assert after["total_net_input_bytes"] - before["total_net_input_bytes"] >= 20000
    assert after["total_net_output_bytes"] >= before["total_net_output_bytes"]


def test_info_keyspace(c):
    assert c.cmd("INFO", "keyspace") == b"# Keyspace\r\n"
    c.cmd("SET", "a", "1")
    c.cmd("SET", "b", "1", "EX", "100")
    c.cmd("HSET", "h", "f", "v")
    ks = c.cmd("INFO", "keyspace")
    lines = ks.decode().split("\r\n")
    assert lines[0] == "# Keyspace"
    assert lines[1].startswith("db0:keys=3,expires=1,avg_ttl="), lines
    assert int(lines[1].rsplit("=", 1)[1]) >= 0


def test_info_used_memory_grows(c):
    before = parse_info(c.cmd("INFO", "memory"))["used_memory"]
    c.pipeline([("SET", f"k{i}", "x" * 1000) for i in range(1000)])
    after = parse_info(c.cmd("INFO", "memory"))["used_memory"]
    assert after - before > 1000 * 1000
    c.cmd("FLUSHALL")
    freed = parse_info(c.cmd("INFO", "memory"))["used_memory"]
    assert freed < after - 900 * 1000


# ---------------------------------------------------------------- CONFIG

def test_config_get_set_maxmemory(server_factory):
    s = server_factory()
    c = s.conn()
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", DEFAULT_MAXMEMORY[s.target]]
    assert c.cmd("CONFIG", "SET", "maxmemory", "10mb") == "OK"
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"10485760"]
    assert parse_info(c.cmd("INFO", "memory"))["maxmemory"] == 10485760
    assert c.cmd("CONFIG", "SET", "maxmemory", "1gb") == "OK"
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"1073741824"]
    assert c.cmd("CONFIG", "SET", "maxmemory", "123456") == "OK"
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"123456"]
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"noeviction"]
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == "OK"
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"allkeys-lru"]
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", "VOLATILE-TTL") == "OK"
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"volatile-ttl"]
    assert c.cmd("CONFIG", "GET", "no-such-directive") == []


def test_config_flags_show_in_config_get(server_factory):
    s = server_factory("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lfu")
    c = s.conn()
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"2097152"]
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"allkeys-lfu"]


def test_config_errors(server_factory):
    s = server_factory()
    c = s.conn()
    assert c.err("CONFIG", "SET", "maxmemory", "abc") == \
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    assert c.err("CONFIG", "SET", "maxmemory", "-1") == \
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    assert c.err("CONFIG", "SET", "maxmemory-policy", "bogus") == (
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) "
        "must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, "
        "allkeys-lru, allkeys-lfu, allkeys-random, noeviction" + EXTRA_POLICIES[s.target])
    assert c.err("CONFIG", "SET", "no-such-directive", "1") == \
        "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-directive'"
    assert c.err("CONFIG", "SET", "maxmemory") == arity("config|set")
    assert c.err("CONFIG", "GET") == arity("config|get")
    assert c.err("CONFIG", "FOO") == "ERR unknown subcommand 'FOO'. Try CONFIG HELP."
    assert c.err("CONFIG") == arity("config")
    # nothing changed
    assert c.cmd("CONFIG", "GET", "maxmemory") == [b"maxmemory", DEFAULT_MAXMEMORY[s.target]]
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"noeviction"]


# ---------------------------------------------------------------- COMMAND

def test_command_count_and_info(c):
    n = c.cmd("COMMAND", "COUNT")
    assert isinstance(n, int) and n >= 50
    info = c.cmd("COMMAND", "INFO", "get")
    assert len(info) == 1
    get = info[0]
    assert get[0] == b"get"
    assert get[1] == 2                       # arity
    assert "readonly" in get[2] and "fast" in get[2]
    assert get[3:6] == [1, 1, 1]             # first key, last key, step
    info = c.cmd("COMMAND", "INFO", "set", "mset", "nosuchcommand", "HSET")
    assert info[0][0] == b"set" and info[0][1] == -3 and "write" in info[0][2]
    assert info[1][0] == b"mset" and info[1][1] == -3 and info[1][3:6] == [1, -1, 2]
    assert info[2] is None
    assert info[3][0] == b"hset" and info[3][1] == -4
    assert c.err("COMMAND", "FOO") == "ERR unknown subcommand 'FOO'. Try COMMAND HELP."


def test_command_docs(c):
    docs = c.cmd("COMMAND", "DOCS", "get")
    assert isinstance(docs, list) and len(docs) == 2
    assert docs[0] == b"get"
    d = dict(zip(docs[1][0::2], docs[1][1::2]))
    assert d[b"summary"] == b"Get the value of a key"
    assert d[b"group"] == b"string"
    assert b"since" in d and b"arguments" in d
    assert c.cmd("COMMAND", "DOCS", "nosuchcommand") == []


def test_command_list_contains_the_basics(c):
    allcmds = c.cmd("COMMAND")
    names = {entry[0] for entry in allcmds}
    for name in [b"get", b"set", b"del", b"hset", b"scan", b"ping", b"info", b"config"]:
        assert name in names


# ---------------------------------------------------------------- CLIENT

def _client_fields(line):
    return dict(part.split("=", 1) for part in line.split(" ") if "=" in part)


def test_client_name_id(c, server):
    assert c.cmd("CLIENT", "GETNAME") is None
    assert c.cmd("CLIENT", "SETNAME", "worker-1") == "OK"
    assert c.cmd("CLIENT", "GETNAME") == b"worker-1"
    assert c.err("CLIENT", "SETNAME", "a b") == \
        "ERR Client names cannot contain spaces, newlines or special characters."
    assert c.cmd("CLIENT", "GETNAME") == b"worker-1"
    assert c.cmd("CLIENT", "SETNAME", "") == "OK"
    assert c.cmd("CLIENT", "GETNAME") is None
    my_id = c.cmd("CLIENT", "ID")
    assert isinstance(my_id, int) and my_id > 0
    other = server.conn()
    assert other.cmd("CLIENT", "ID") > my_id
    assert c.err("CLIENT", "SETNAME") == arity("client|setname")
    assert c.err("CLIENT", "FOO") == "ERR unknown subcommand 'FOO'. Try CLIENT HELP."
    assert c.err("CLIENT") == arity("client")


def test_client_list_info(c, server):
    c.cmd("CLIENT", "SETNAME", "lister")
    other = server.conn()
    other.cmd("CLIENT", "SETNAME", "other")
    my_id = c.cmd("CLIENT", "ID")
    other_id = other.cmd("CLIENT", "ID")
    text = c.cmd("CLIENT", "LIST")
    assert isinstance(text, bytes) and text.endswith(b"\n")
    rows = [_client_fields(line) for line in text.decode().strip("\n").split("\n")]
    by_id = {int(row["id"]): row for row in rows}
    assert by_id[my_id]["name"] == "lister"
    assert by_id[other_id]["name"] == "other"
    assert by_id[my_id]["cmd"] == "client|list"
    for key in ["addr", "laddr", "fd", "age", "idle", "db"]:
        assert key in by_id[my_id], key
    info = c.cmd("CLIENT", "INFO")
    assert info.endswith(b"\n") and info.count(b"\n") == 1
    fields = _client_fields(info.decode().strip())
    assert int(fields["id"]) == my_id
    assert fields["name"] == "lister"
    assert fields["cmd"] == "client|info"


# ---------------------------------------------------------------- admin endpoint (scaleout)

def _http_get(server, path):
    import requests
    return requests.get(server.admin_url + path, timeout=5)


def _metric(text, name, labels):
    for line in text.splitlines():
        if line.startswith(f"{name}{{{labels}}} ") or line.startswith(f"{name}{{{labels},"):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.mark.scaleout_only
def test_admin_metrics(server_factory):
    s = server_factory()
    c = s.conn()
    for i in range(3):
        c.cmd("GET", f"k{i}")
    c.cmd("SET", "a", "1")
    c.cmd("SET", "b", "2")
    c.cmd("HSET", "h", "f", "v")
    resp = _http_get(s, "/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = resp.text
    assert "# TYPE scaleout_kv_commands_total counter" in text
    assert _metric(text, "scaleout_kv_commands_total", 'cmd="get"') == 3
    assert _metric(text, "scaleout_kv_commands_total", 'cmd="set"') == 2
    assert _metric(text, "scaleout_kv_commands_total", 'cmd="hset"') == 1
    # counts move
    c.cmd("GET", "a")
    text = _http_get(s, "/metrics").text
    assert _metric(text, "scaleout_kv_commands_total", 'cmd="get"') == 4
    # every sample line is "name{labels} value" or "name value"
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name_part, value = line.rsplit(" ", 1)
            float(value)
            assert name_part.startswith("scaleout_"), line


@pytest.mark.scaleout_only
def test_admin_status_json(server_factory):
    s = server_factory()
    s.conn().cmd("SET", "a", "1")
    resp = _http_get(s, "/status")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    doc = json.loads(resp.text)
    assert isinstance(doc, dict) and doc


@pytest.mark.scaleout_only
def test_admin_unknown_path_404(server_factory):
    s = server_factory()
    assert _http_get(s, "/no-such-page").status_code == 404


@pytest.mark.scaleout_only
def test_policy_allkeys_fifo_is_accepted(server_factory):
    s = server_factory("--maxmemory", "10mb", "--maxmemory-policy", "allkeys-fifo")
    c = s.conn()
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"allkeys-fifo"]
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-lru") == "OK"
    assert c.cmd("CONFIG", "SET", "maxmemory-policy", "allkeys-fifo") == "OK"
    assert c.cmd("CONFIG", "GET", "maxmemory-policy") == [b"maxmemory-policy", b"allkeys-fifo"]


def test_sigterm_exits_zero(server_factory):
    """SIGTERM stops the server with exit status 0 (DESIGN: drains and exits 0)."""
    s = server_factory()
    s.conn().cmd("SET", "a", "1")
    s.close_clients()
    s.expect_exit = True
    s.proc.terminate()
    try:
        rc = s.proc.wait(5)
    except Exception:
        pytest.fail("server did not exit within 5 s of SIGTERM")
    assert rc == 0, s.log_tail()
