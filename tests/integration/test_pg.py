"""
scaleout pg against a real PostgreSQL 15 primary + streaming replica (started
by pg_helpers in a temp dir), with psql, psycopg2 and pgbench as clients, and
Debian's PgBouncer as the anchor for the differential tests.

Where each statement ran is checked on the servers themselves
(pg_is_in_recovery(), inet_server_port(), pg_backend_pid(), pg_stat_activity).
"""
import json
import os
import shutil
import signal
import re
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

import pg_helpers as H
from proc_helpers import HOST, free_port, scaleout_bin, wait_until


@pytest.fixture(scope="module")
def cluster():
    assert scaleout_bin().exists(), f"{scaleout_bin()} is not built"
    with H.PgCluster(replicas=1) as pg:
        pg.primary.sql("CREATE TABLE kv(k int PRIMARY KEY, v text)", dbname="appdb")
        pg.primary.sql("CREATE SEQUENCE seq", dbname="appdb")
        pg.wait_replicated()
        yield pg


@pytest.fixture(scope="module")
def workdir(cluster):
    d = H.make_tempdir("scaleout-pgw-")
    yield d
    import shutil
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def proxy(cluster, workdir):
    """proxy(**kw) starts a scaleout pg (stopped at the end of the test)."""
    procs = []

    def start(cluster=cluster, **kw):
        p = H.start_scaleout_pg(cluster, workdir, **kw)
        procs.append(p)
        return p

    yield start
    for p in procs:
        rc = p.stop()
        assert rc == 0, f"scaleout pg exited {rc}:\n{p.log()}"


@pytest.fixture(scope="module")
def txproxy(cluster, workdir):
    """The default proxy of the module: SCRAM, transaction mode, the replica behind it."""
    p = H.start_scaleout_pg(cluster, workdir, extra=["--pool-size", "4"])
    yield p
    assert p.stop() == 0, p.log()


def connect(port, user=H.APP_USER, password=H.APP_PASSWORD, dbname="appdb", autocommit=True, **kw):
    c = psycopg2.connect(host=HOST, port=port, user=user, password=password, dbname=dbname, connect_timeout=10, **kw)
    c.autocommit = autocommit
    return c


def one(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def metrics(admin_port):
    with urllib.request.urlopen(f"http://{HOST}:{admin_port}/metrics", timeout=5) as r:
        out = {}
        for line in r.read().decode().splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                out[k] = float(v)
        return out


def status(admin_port):
    with urllib.request.urlopen(f"http://{HOST}:{admin_port}/status", timeout=5) as r:
        return json.loads(r.read())


# ---- authentication ------------------------------------------------------------------

def test_scram_login_and_query(txproxy):
    c = connect(txproxy.port)
    assert one(c, "SELECT 1 + 1") == (2,)
    assert c.get_parameter_status("server_version").startswith("15")
    assert c.get_parameter_status("client_encoding") == "UTF8"
    assert c.info.backend_pid > 0
    c.close()


def test_wrong_password_is_28P01(txproxy, proxy):
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(txproxy.port, password="wrong")
    assert 'password authentication failed for user "app"' in str(e.value)
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(txproxy.port, user="nobody_here", password="x")
    assert 'password authentication failed for user "nobody_here"' in str(e.value)
    m = proxy(auth="md5")
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(m.port, password="wrong")
    assert 'password authentication failed for user "app"' in str(e.value)
    assert metrics(txproxy.admin_port)["scaleout_pg_auth_failures_total"] >= 2


def test_wrong_password_error_code(txproxy):
    """The SQLSTATE itself, read off the wire (libpq does not expose it for login errors)."""
    s = socket.create_connection((HOST, txproxy.port), timeout=5)
    body = struct.pack("!I", 196608) + b"user\0app\0database\0appdb\0\0"
    s.sendall(struct.pack("!I", len(body) + 4) + body)
    msg = s.recv(1024)
    assert msg[:1] == b"R" and struct.unpack("!I", msg[5:9])[0] == 10  # AuthenticationSASL
    # a malformed SASL answer is a protocol error; the wrong password case is checked above
    s.sendall(b"p" + struct.pack("!I", 4 + 14 + 4 + 3) + b"SCRAM-SHA-256\0" + struct.pack("!I", 3) + b"x,,")
    data = s.recv(1024)
    assert data[:1] == b"E" and b"C08P01\0" in data
    s.close()


def test_md5_client_auth_and_md5_server_auth(cluster, proxy):
    m = proxy(auth="md5")
    for user, pw in ((H.APP_USER, H.APP_PASSWORD), (H.MD5_USER, H.MD5_PASSWORD)):
        c = connect(m.port, user=user, password=pw)
        assert one(c, "SELECT current_user") == (user,)
        c.close()


def test_trust_and_psql(cluster, proxy):
    t = proxy(auth="trust")
    out = subprocess.run(["psql", "-X", "-At", "-h", HOST, "-p", str(t.port), "-U", H.APP_USER, "-d", "appdb",
                          "-c", "SELECT 'hello ' || current_user"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello app"


def test_unknown_database(cluster, proxy):
    t = proxy(auth="trust", extra=["--database", "appdb", "--database", "alias", "appdb"])
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(t.port, dbname="nosuchdb")
    assert 'database "nosuchdb" does not exist' in str(e.value)
    c = connect(t.port, dbname="alias")
    assert one(c, "SELECT current_database()") == ("appdb",)
    c.close()


# ---- protocol edge cases -----------------------------------------------------------------

_leftover = {}  # socket -> bytes read past the last message returned


def read_msgs(s, want_type, timeout=5):
    """Read until a message of want_type arrives; returns the list of (type, body).
    Bytes after it are kept for the next call on the same socket."""
    s.settimeout(timeout)
    buf = _leftover.pop(s, b"")
    out = []
    while True:
        while len(buf) >= 5:
            t, n = buf[:1], struct.unpack("!I", buf[1:5])[0]
            if len(buf) < n + 1:
                break
            out.append((t, buf[5:n + 1]))
            buf = buf[n + 1:]
            if t == want_type:
                if buf:
                    _leftover[s] = buf
                return out
        d = s.recv(65536)
        if not d:
            return out
        buf += d


def test_ssl_request_answered_n_and_bad_startups(txproxy):
    s = socket.create_connection((HOST, txproxy.port), timeout=5)
    s.sendall(struct.pack("!II", 8, 80877103))
    assert s.recv(1) == b"N"
    s.sendall(struct.pack("!II", 8, 80877104))  # GSSENCRequest after SSL: also 'N'
    assert s.recv(1) == b"N"
    s.close()
    cases = [
        (struct.pack("!II", 9, 0x20000) + b"\0", b"C0A000\0", b"unsupported frontend protocol 2.0"),
        (struct.pack("!II", 4, 196608), b"C08P01\0", b"invalid length of startup packet"),
        (struct.pack("!II", 100000, 196608), b"C08P01\0", b"invalid length of startup packet"),
        (struct.pack("!II", 14, 196608) + b"user\0x", b"C08P01\0", b"invalid startup packet layout"),
        (struct.pack("!II", 9, 196608) + b"\0", b"C28000\0", b"no PostgreSQL user name"),
    ]
    for pkt, code, text in cases:
        s = socket.create_connection((HOST, txproxy.port), timeout=5)
        s.sendall(pkt)
        msgs = read_msgs(s, b"E")
        assert msgs and msgs[-1][0] == b"E", pkt
        assert code in msgs[-1][1] and text in msgs[-1][1], msgs
        s.close()


def test_raw_simple_query_and_oversized_message(cluster, proxy):
    t = proxy(auth="trust", extra=["--max-message-size", "4kb"])
    s = socket.create_connection((HOST, t.port), timeout=5)
    body = struct.pack("!I", 196608) + b"user\0app\0database\0appdb\0\0"
    s.sendall(struct.pack("!I", len(body) + 4) + body)
    msgs = read_msgs(s, b"Z")
    types = [m[0] for m in msgs]
    assert types[0] == b"R" and b"S" in types and b"K" in types and types[-1] == b"Z"
    s.sendall(b"Q" + struct.pack("!I", 4 + 9) + b"SELECT 1\0")
    msgs = read_msgs(s, b"Z")
    assert [m[0] for m in msgs] == [b"T", b"D", b"C", b"Z"]
    q = b"SELECT '" + b"x" * 5000 + b"'\0"
    s.sendall(b"Q" + struct.pack("!I", 4 + len(q)) + q)
    msgs = read_msgs(s, b"E")
    assert b"C54000\0" in msgs[-1][1]
    s.close()


# ---- errors and notices pass through ------------------------------------------------------

def test_errors_pass_through_and_connection_survives(txproxy):
    c = connect(txproxy.port)
    with pytest.raises(psycopg2.errors.DivisionByZero) as e:
        one(c, "SELECT 1/0")
    assert e.value.pgcode == "22012"
    assert e.value.diag.message_primary == "division by zero"
    with pytest.raises(psycopg2.errors.SyntaxError) as e:
        one(c, "SELEC 1")
    assert e.value.diag.statement_position == "1"
    with pytest.raises(psycopg2.errors.UndefinedTable):
        one(c, "SELECT * FROM no_such_table")
    assert one(c, "SELECT 42") == (42,)
    with c.cursor() as cur:
        cur.execute("DO $$ BEGIN RAISE NOTICE 'hello from plpgsql'; END $$")
    assert any("hello from plpgsql" in n for n in c.notices)
    c.close()


def test_error_inside_transaction(txproxy):
    c = connect(txproxy.port, autocommit=False)
    with pytest.raises(psycopg2.errors.DivisionByZero):
        one(c, "SELECT 1/0")
    with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
        one(c, "SELECT 1")
    c.rollback()
    assert one(c, "SELECT 2") == (2,)
    c.commit()
    c.close()


# ---- read/write split ----------------------------------------------------------------------

def test_reads_go_to_the_replica_writes_to_the_primary(cluster, txproxy):
    rport, pport = cluster.replicas[0].port, cluster.primary.port
    c = connect(txproxy.port)
    assert one(c, "SELECT pg_is_in_recovery(), inet_server_port()") == (True, rport)
    assert one(c, "SHOW transaction_read_only") == ("on",)
    with c.cursor() as cur:
        cur.execute("INSERT INTO kv VALUES (1, 'one') ON CONFLICT (k) DO UPDATE SET v = 'one' "
                    "RETURNING pg_is_in_recovery(), inet_server_port()")
        assert cur.fetchone() == (False, pport)
    # statements that look like reads but are not, or may not be
    assert one(c, "SELECT nextval('seq') > 0, pg_is_in_recovery()") == (True, False)
    assert one(c, "SELECT v, pg_is_in_recovery() FROM kv WHERE k = 1 FOR UPDATE") == ("one", False)
    assert one(c, "/*+ primary */ SELECT pg_is_in_recovery()") == (False,)
    assert one(c, "WITH x AS (SELECT 1) SELECT pg_is_in_recovery() FROM x") == (False,)
    assert one(c, "SELECT 'insert into t' AS s, pg_is_in_recovery()") == ("insert into t", True)
    c.close()


def test_transactions_stay_on_the_primary(cluster, txproxy):
    c = connect(txproxy.port, autocommit=False)
    pid = one(c, "SELECT pg_backend_pid()")[0]
    for _ in range(3):
        assert one(c, "SELECT pg_is_in_recovery(), pg_backend_pid()") == (False, pid)
    with c.cursor() as cur:
        cur.execute("INSERT INTO kv VALUES (2, 'two') ON CONFLICT (k) DO UPDATE SET v = 'two'")
    assert one(c, "SELECT v FROM kv WHERE k = 2") == ("two",)
    c.commit()
    c.autocommit = True
    cluster.wait_replicated()
    assert one(c, "SELECT v, pg_is_in_recovery() FROM kv WHERE k = 2") == ("two", True)
    c.close()
    m = metrics(txproxy.admin_port)
    assert m["scaleout_pg_queries_replica_total"] >= 1 and m["scaleout_pg_queries_primary_total"] >= 1


# ---- pooling -----------------------------------------------------------------------------

def server_conns(cluster, server=None, user=H.APP_USER):
    server = server or cluster.primary
    return server.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND datname = 'appdb'", (user,))[0][0]


def test_transaction_pooling_more_clients_than_servers(cluster, proxy):
    p = proxy(extra=["--pool-size", "2"], replicas=False)
    before = server_conns(cluster)  # the module's other proxy may hold some
    clients = [connect(p.port, autocommit=False) for _ in range(10)]
    errors = []

    def work(c, i):
        try:
            for j in range(10):
                with c.cursor() as cur:
                    cur.execute("INSERT INTO kv VALUES (%s, 'x') ON CONFLICT (k) DO UPDATE SET v = 'y'", (1000 + i * 100 + j,))
                c.commit()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(c, i)) for i, c in enumerate(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors, errors
    assert server_conns(cluster) - before <= 2
    st = status(p.admin_port)
    assert st["backends"][0]["idle"] + st["backends"][0]["active"] <= 2
    assert cluster.primary.sql("SELECT count(*) FROM kv WHERE k >= 1000", dbname="appdb")[0][0] == 100
    for c in clients:
        c.close()


def test_session_pooling_keeps_the_server_and_resets_it(cluster, proxy):
    p = proxy(mode="session", extra=["--pool-size", "1"])
    a = connect(p.port)
    with a.cursor() as cur:
        cur.execute("SET search_path TO pg_catalog")
        cur.execute("PREPARE q AS SELECT 7")
    pid = one(a, "SELECT pg_backend_pid()")[0]
    assert one(a, "EXECUTE q") == (7,)
    assert one(a, "SHOW search_path") == ("pg_catalog",)
    assert one(a, "SELECT pg_is_in_recovery()") == (False,)  # session mode: all on the primary
    a.close()
    b = connect(p.port)
    assert one(b, "SELECT pg_backend_pid()")[0] == pid       # the same server connection...
    assert one(b, "SHOW search_path") == ('"$user", public',)  # ...reset by DISCARD ALL
    with pytest.raises(psycopg2.errors.InvalidSqlStatementName):
        one(b, "EXECUTE q")
    b.close()


def test_client_gone_inside_a_transaction_is_not_reused(cluster, proxy):
    p = proxy(extra=["--pool-size", "1"], replicas=False)
    a = connect(p.port, autocommit=False)
    pid = one(a, "SELECT pg_backend_pid()")[0]
    with a.cursor() as cur:
        cur.execute("INSERT INTO kv VALUES (5000, 'dirty') ON CONFLICT (k) DO NOTHING")
    a.close()  # the socket closes mid-transaction
    b = connect(p.port)
    assert one(b, "SELECT pg_backend_pid()")[0] != pid
    assert one(b, "SELECT count(*) FROM kv WHERE k = 5000") == (0,)
    b.close()


def test_queue_timeout_gives_53300(cluster, proxy):
    p = proxy(extra=["--pool-size", "1", "--query-wait-timeout", "1"], replicas=False)
    a = connect(p.port, autocommit=False)
    one(a, "SELECT 1")  # a is inside a transaction: it holds the only server connection
    b = connect(p.port)
    t0 = time.monotonic()
    with pytest.raises(psycopg2.errors.TooManyConnections) as e:
        one(b, "SELECT 1")
    assert e.value.pgcode == "53300"
    assert "query_wait_timeout" in str(e.value)
    assert time.monotonic() - t0 >= 0.9
    a.rollback()  # a leaves its transaction: the server is free again
    assert one(b, "SELECT 4") == (4,)  # the client that timed out goes on
    a.close()
    b.close()
    assert metrics(p.admin_port)["scaleout_pg_wait_timeouts_total"] == 1


def test_queue_timeout_sqlstate_on_the_wire(cluster, proxy):
    p = proxy(auth="trust", extra=["--pool-size", "1", "--query-wait-timeout", "300ms"], replicas=False)
    a = connect(p.port, autocommit=False)
    one(a, "SELECT 1")
    s = socket.create_connection((HOST, p.port), timeout=5)
    body = struct.pack("!I", 196608) + b"user\0app\0database\0appdb\0\0"
    s.sendall(struct.pack("!I", len(body) + 4) + body)
    read_msgs(s, b"Z")
    s.sendall(b"Q" + struct.pack("!I", 4 + 9) + b"SELECT 1\0")
    msgs = read_msgs(s, b"Z")
    assert [m[0] for m in msgs] == [b"E", b"Z"]
    assert b"C53300\0" in msgs[0][1] and b"SERROR\0" in msgs[0][1]
    # an extended-protocol batch that times out: the error, then ReadyForQuery for its Sync
    parse = b"P" + struct.pack("!I", 4 + 1 + 9 + 2) + b"\0SELECT 1\0" + struct.pack("!h", 0)
    bind = b"B" + struct.pack("!I", 4 + 1 + 1 + 2 + 2 + 2) + b"\0\0" + struct.pack("!hhh", 0, 0, 0)
    execute = b"E" + struct.pack("!I", 4 + 1 + 4) + b"\0" + struct.pack("!I", 0)
    sync = b"S" + struct.pack("!I", 4)
    s.sendall(parse + bind + execute + sync)
    msgs = read_msgs(s, b"Z")
    assert [m[0] for m in msgs] == [b"E", b"Z"] and b"C53300\0" in msgs[0][1]
    a.rollback()
    s.sendall(parse + bind + execute + sync)
    msgs = read_msgs(s, b"Z")
    assert [m[0] for m in msgs] == [b"1", b"2", b"D", b"C", b"Z"]
    s.close()
    a.close()


def test_idle_timeouts(cluster, proxy):
    p = proxy(extra=["--client-idle-timeout", "300ms", "--server-idle-timeout", "300ms"], replicas=False)
    c = connect(p.port)
    assert one(c, "SELECT 1") == (1,)
    wait_until(lambda: status(p.admin_port)["backends"][0]["idle"] == 0, timeout=10, what="server idle timeout")
    wait_until(lambda: status(p.admin_port)["clients"] == 0, timeout=10, what="client idle timeout")
    with pytest.raises(psycopg2.OperationalError):
        one(c, "SELECT 1")


# ---- cancel -----------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["replica", "primary"])
def test_cancel_reaches_the_right_server(cluster, txproxy, where):
    c = connect(txproxy.port, autocommit=(where == "replica"))
    sql = "SELECT pg_sleep(30)"
    if where == "primary":
        one(c, "SELECT 1")  # inside a transaction: the primary
    timer = threading.Timer(0.5, c.cancel)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(psycopg2.errors.QueryCanceled):
        one(c, sql)
    assert time.monotonic() - t0 < 20
    timer.join()
    if where == "primary":
        c.rollback()
    assert one(c, "SELECT 5") == (5,)
    c.close()


def test_pg_cancel_backend_error_passes_through(cluster, txproxy):
    c = connect(txproxy.port, autocommit=False)
    pid = one(c, "SELECT pg_backend_pid()")[0]
    killer = threading.Timer(0.5, lambda: cluster.primary.sql("SELECT pg_cancel_backend(%s)", (pid,)))
    killer.start()
    with pytest.raises(psycopg2.errors.QueryCanceled) as e:
        one(c, "SELECT pg_sleep(30)")
    killer.join()
    assert e.value.pgcode == "57014"
    c.rollback()
    c.close()


# ---- pgbench and the differential with PgBouncer ------------------------------------------------

def pgbench(port, *args, user=H.APP_USER, password=H.APP_PASSWORD, dbname="appdb"):
    env = {"PGPASSWORD": password, "PATH": "/usr/bin:/bin"}
    r = subprocess.run(["pgbench", "-h", HOST, "-p", str(port), "-U", user, *args, dbname],
                       capture_output=True, text=True, timeout=120, env=env)
    return r


@pytest.fixture(scope="module")
def pgbench_db(cluster):
    r = pgbench(cluster.primary.port, "-i", "-s", "1", "-q")
    assert r.returncode == 0, r.stderr
    cluster.wait_replicated()


def test_pgbench_through_the_proxy(cluster, txproxy, pgbench_db):
    r = pgbench(txproxy.port, "-S", "-c", "8", "-j", "2", "-t", "200")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "number of transactions actually processed: 1600/1600" in r.stdout
    assert "number of failed transactions: 0" in r.stdout
    r = pgbench(txproxy.port, "-c", "4", "-j", "2", "-t", "50")  # TPC-B: writes in transactions
    assert r.returncode == 0, r.stdout + r.stderr
    assert "number of transactions actually processed: 200/200" in r.stdout
    r = pgbench(txproxy.port, "-S", "-C", "-c", "4", "-t", "25")  # a new connection per transaction
    assert r.returncode == 0, r.stdout + r.stderr
    assert "number of transactions actually processed: 100/100" in r.stdout


PSQL_SCRIPT = r"""
\set ON_ERROR_STOP off
SELECT 1 AS one, 'two' AS two, NULL AS three;
SELECT generate_series(1, 5) AS n;
SELECT 1/0;
SELEC broken;
BEGIN;
INSERT INTO kv VALUES (9001, 'diff') ON CONFLICT (k) DO UPDATE SET v = 'diff';
SELECT v FROM kv WHERE k = 9001;
ROLLBACK;
SELECT count(*) FROM kv WHERE k = 9001;
DO $$ BEGIN RAISE NOTICE 'notice %', 42; END $$;
SELECT current_user, current_database();
SHOW client_encoding;
SELECT repeat('x', 100000) = repeat('x', 100000) AS big;
CREATE TEMP TABLE tt AS SELECT 1 AS a;
DROP TABLE tt;
SELECT 'done';
"""


def run_psql(port, script):
    env = {"PGPASSWORD": H.APP_PASSWORD, "PATH": "/usr/bin:/bin"}
    r = subprocess.run(["psql", "-X", "-h", HOST, "-p", str(port), "-U", H.APP_USER, "-d", "appdb", "-e"],
                       input=script, capture_output=True, text=True, timeout=60, env=env)
    return r.returncode, r.stdout, r.stderr


def test_differential_with_pgbouncer(cluster, workdir, proxy, pgbench_db):
    bouncer = H.start_pgbouncer(cluster, workdir, mode="transaction")
    try:
        ours = proxy(replicas=False)
        a = run_psql(bouncer.port, PSQL_SCRIPT)
        b = run_psql(ours.port, PSQL_SCRIPT)
        assert a == b
        assert "division by zero" in a[2] and "notice 42" in a[2] and "done" in a[1]
        # pgbench: same statements, same results (select-only: no failed transactions either way)
        ra = pgbench(bouncer.port, "-S", "-c", "4", "-t", "100", "-M", "simple")
        rb = pgbench(ours.port, "-S", "-c", "4", "-t", "100", "-M", "simple")
        for r in (ra, rb):
            assert r.returncode == 0, r.stdout + r.stderr
            assert "number of transactions actually processed: 400/400" in r.stdout
            assert "number of failed transactions: 0" in r.stdout
        # wrong password: ours says what PostgreSQL says (PgBouncer says "SASL authentication failed")
        errs = []
        for port in (cluster.primary.port, ours.port):
            with pytest.raises(psycopg2.OperationalError) as e:
                connect(port, password="nope")
            errs.append(re.sub(r'port \d+', 'port P', str(e.value)))
        assert errs[0] == errs[1]
    finally:
        bouncer.stop()


# ---- admin and shutdown ---------------------------------------------------------------------------

def test_admin_metrics_and_status(cluster, txproxy):
    c = connect(txproxy.port)
    one(c, "SELECT 1")
    st = status(txproxy.admin_port)
    assert st["role"] == "pg" and st["pool_mode"] == "transaction"
    assert [b["role"] for b in st["backends"]] == ["primary", "replica"]
    assert st["clients"] >= 1
    m = metrics(txproxy.admin_port)
    assert m["scaleout_pg_clients_accepted_total"] >= 1
    assert m["scaleout_pg_server_connects_total"] >= 1
    c.close()


def test_sigterm_drains(cluster, proxy):
    p = proxy(replicas=False)
    c = connect(p.port, autocommit=False)
    one(c, "SELECT 1")  # inside a transaction
    idle = connect(p.port)
    p.proc.send_signal(15)
    wait_until(lambda: status(p.admin_port)["draining"], timeout=5, what="draining")
    # the transaction in flight finishes; new connections are refused
    assert one(c, "SELECT 2") == (2,)
    c.commit()
    assert p.proc.wait(15) == 0
    with pytest.raises(psycopg2.OperationalError):
        one(idle, "SELECT 1")


# ---- prepared statements in transaction mode -------------------------------------------------

def _m(t, b):
    return t + struct.pack("!I", len(b) + 4) + b


def _parse(name, q):
    return _m(b"P", name + b"\0" + q + b"\0" + struct.pack("!h", 0))


def _bind(name, *params):
    body = b"\0" + name + b"\0" + struct.pack("!hh", 0, len(params))
    for p in params:
        body += struct.pack("!I", len(p)) + p
    return _m(b"B", body + struct.pack("!h", 0))


_DESC_P = _m(b"D", b"P\0")
_EXEC = _m(b"E", b"\0" + struct.pack("!I", 0))
_SYNC = _m(b"S", b"")


def _login(port, extra=b""):
    s = socket.create_connection((HOST, port), timeout=5)
    body = struct.pack("!I", 196608) + b"user\0app\0database\0appdb\0" + extra + b"\0"
    s.sendall(struct.pack("!I", len(body) + 4) + body)
    read_msgs(s, b"Z")
    return s


def _rows(msgs):
    out = []
    for t, b in msgs:
        if t == b"D":
            n = struct.unpack("!I", b[2:6])[0]
            out.append(b[6:6 + n].decode())
    return out


def test_named_statements_follow_the_client_across_servers(cluster, proxy):
    p = proxy(auth="trust", extra=["--pool-size", "2"], replicas=False)
    a, b, holder = _login(p.port), _login(p.port), connect(p.port, autocommit=False)
    a.sendall(_parse(b"s1", b"SELECT $1::int + 1, pg_backend_pid()") + _SYNC)
    assert [t for t, _ in read_msgs(a, b"Z")] == [b"1", b"Z"]
    b.sendall(_parse(b"s1", b"SELECT $1::text || '!'") + _SYNC)  # same name, other SQL, other client
    assert [t for t, _ in read_msgs(b, b"Z")] == [b"1", b"Z"]
    for i in range(6):
        # the holder takes a server for a transaction now and then, so that a's
        # Bind lands on a server connection its Parse never went to
        if i % 2 == 0:
            one(holder, "SELECT 1")
        a.sendall(_bind(b"s1", b"41") + _DESC_P + _EXEC + _SYNC)
        msgs = read_msgs(a, b"Z")
        assert [t for t, _ in msgs] == [b"2", b"T", b"D", b"C", b"Z"], msgs
        assert _rows(msgs) == ["42"]
        b.sendall(_bind(b"s1", b"hi") + _DESC_P + _EXEC + _SYNC)
        assert _rows(read_msgs(b, b"Z")) == ["hi!"]
        if i % 2 == 0:
            holder.rollback()
    # a Parse of a statement the server already has is answered in place, in a pipeline
    a.sendall(_parse(b"s2", b"SELECT $1::int + 1, pg_backend_pid()") + _bind(b"s2", b"1") + _DESC_P + _EXEC + _SYNC)
    msgs = read_msgs(a, b"Z")
    assert [t for t, _ in msgs] == [b"1", b"2", b"T", b"D", b"C", b"Z"]
    # Close, then the name is gone (the server's own error)
    a.sendall(_m(b"C", b"Ss1\0") + _SYNC)
    assert [t for t, _ in read_msgs(a, b"Z")] == [b"3", b"Z"]
    a.sendall(_bind(b"s1", b"1") + _EXEC + _SYNC)
    msgs = read_msgs(a, b"Z")
    assert msgs[0][0] == b"E" and b"C26000\0" in msgs[0][1] and b'prepared statement "s1" does not exist' in msgs[0][1]
    # an error in a batch: the rest up to Sync is skipped, and the next batch works
    a.sendall(_parse(b"bad", b"SELEC 1") + _bind(b"s2", b"5") + _EXEC + _SYNC + _bind(b"s2", b"6") + _DESC_P + _EXEC + _SYNC)
    msgs = read_msgs(a, b"Z")
    assert [t for t, _ in msgs] == [b"E", b"Z"]
    msgs = read_msgs(a, b"Z")
    assert _rows(msgs) == ["7"]
    for s in (a, b):
        s.close()
    holder.close()


def test_pgbench_prepared_in_transaction_mode(cluster, proxy, pgbench_db):
    p = proxy(extra=["--pool-size", "2"])
    for args in (["-S"], []):
        # -j = -c: pgbench prepares synchronously, so one thread per client
        r = pgbench(p.port, "-M", "prepared", "-c", "4", "-j", "4", "-t", "50", *args)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "number of transactions actually processed: 200/200" in r.stdout
        assert "number of failed transactions: 0" in r.stdout


# ---- replica lag ---------------------------------------------------------------------------------

def test_lagging_replica_gets_no_reads_until_it_catches_up(cluster, proxy):
    p = proxy(extra=["--replica-max-lag", "300ms", "--replica-check-interval", "100ms"])
    c = connect(p.port)
    assert one(c, "SELECT pg_is_in_recovery()") == (True,)
    replica = cluster.replicas[0]
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        cluster.primary.sql("INSERT INTO kv VALUES (7001, 'lag') ON CONFLICT (k) DO UPDATE SET v = 'lag2'", dbname="appdb")
        wait_until(lambda: one(c, "SELECT pg_is_in_recovery()") == (False,), timeout=15, what="reads moved to the primary")
        st = status(p.admin_port)["backends"][1]
        assert st["lagging"] is True and st["lag_ms"] > 300
        # the fresh row is visible: the read ran on the primary
        assert one(c, "SELECT v FROM kv WHERE k = 7001")[0] in ("lag", "lag2")
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
    wait_until(lambda: one(c, "SELECT pg_is_in_recovery()") == (True,), timeout=15, what="reads back on the replica")
    assert status(p.admin_port)["backends"][1]["lagging"] is False
    c.close()


def test_read_your_writes_window(cluster, proxy):
    p = proxy(extra=["--read-your-writes", "2s"])
    c, other = connect(p.port), connect(p.port)
    assert one(c, "SELECT pg_is_in_recovery()") == (True,)
    with c.cursor() as cur:
        cur.execute("INSERT INTO kv VALUES (8001, 'ryw') ON CONFLICT (k) DO UPDATE SET v = 'ryw'")
    # right after its write, this client reads from the primary; another client still from the replica
    assert one(c, "SELECT pg_is_in_recovery(), (SELECT v FROM kv WHERE k = 8001)") == (False, "ryw")
    assert one(other, "SELECT pg_is_in_recovery()") == (True,)
    wait_until(lambda: one(c, "SELECT pg_is_in_recovery()") == (True,), timeout=10, what="window over")
    c.close()
    other.close()


def test_scaleout_check_reports_every_error(workdir):
    bad = H.write_file(workdir / "bad.conf", "role pg\nprimary nowhere\npool-mode bogus\npool-size 0\nauth-type md5\n")
    r = subprocess.run([str(scaleout_bin()), "check", str(bad)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "bad.conf:3: 'pool-mode' must be one of session transaction" in r.stderr
    assert "bad.conf:4: 'pool-size' must be between 1 and 10000" in r.stderr
    assert "primary: 'nowhere' is not host:port" in r.stderr
    assert "need an auth-file" in r.stderr
    good = H.write_file(workdir / "good.conf", "role pg\nlisten 127.0.0.1:6432\nreplica 127.0.0.1:5433\nauth-type trust\n")
    r = subprocess.run([str(scaleout_bin()), "check", str(good)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "ok (role pg)" in r.stdout


def test_named_read_statement_routed_by_its_sql(cluster, proxy):
    p = proxy(auth="trust")
    a = _login(p.port)
    a.sendall(_parse(b"r", b"SELECT pg_is_in_recovery()::text") + _SYNC)
    read_msgs(a, b"Z")
    a.sendall(_parse(b"w", b"SELECT nextval('seq') > 0, pg_is_in_recovery()::text") + _SYNC)
    read_msgs(a, b"Z")
    for _ in range(2):
        a.sendall(_bind(b"r") + _DESC_P + _EXEC + _SYNC)
        assert _rows(read_msgs(a, b"Z")) == ["true"]
        a.sendall(_bind(b"w") + _DESC_P + _EXEC + _SYNC)
        msgs = read_msgs(a, b"Z")
        assert [t for t, _ in msgs] == [b"2", b"T", b"D", b"C", b"Z"]
        assert b"false" in msgs[2][1]
    a.close()


def test_copy_in_and_out(cluster, txproxy):
    import io
    c = connect(txproxy.port, autocommit=False)
    with c.cursor() as cur:
        cur.execute("CREATE TEMP TABLE cp(a int, b text)")
        cur.copy_expert("COPY cp FROM STDIN", io.StringIO("".join(f"{i}\tline {i}\n" for i in range(5000))))
        out = io.StringIO()
        cur.copy_expert("COPY (SELECT * FROM cp ORDER BY a) TO STDOUT", out)
        assert out.getvalue().count("\n") == 5000 and out.getvalue().startswith("0\tline 0\n")
        with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
            cur.copy_expert("COPY cp FROM STDIN", io.StringIO("x\ty\n"))
    c.rollback()
    assert one(c, "SELECT 1") == (1,)
    c.rollback()
    c.close()


# ---- session settings follow the client across pooled servers ------------------------------------

def test_session_settings_follow_each_client(cluster, proxy):
    p = proxy(extra=["--pool-size", "1"], replicas=False)
    a = connect(p.port, application_name="app_a")
    b = connect(p.port, application_name="app_b")
    for _ in range(2):
        assert one(a, "SELECT current_setting('application_name'), pg_backend_pid()")[0] == "app_a"
        assert one(b, "SELECT current_setting('application_name')") == ("app_b",)
    # a SET by one client stays with that client, not with the server connection
    with a.cursor() as cur:
        cur.execute("SET DateStyle TO 'German'")
    assert a.get_parameter_status("DateStyle") == "German, DMY"
    assert one(b, "SHOW DateStyle") == ("ISO, MDY",)
    assert one(a, "SHOW DateStyle") == ("German, DMY",)
    assert one(b, "SELECT '2024-01-31'::date::text") == ("2024-01-31",)
    assert one(a, "SELECT '2024-01-31'::date::text") == ("31.01.2024",)
    a.close()
    b.close()


def test_client_encoding_from_the_startup_packet(cluster, proxy):
    p = proxy(auth="trust", extra=["--pool-size", "1"], replicas=False)
    env = {"PATH": "/usr/bin:/bin", "PGCLIENTENCODING": "LATIN1"}
    sql = "SHOW client_encoding; SELECT convert_to(chr(233), 'LATIN1') = '\\xe9'::bytea"
    r = subprocess.run(["psql", "-X", "-At", "-h", HOST, "-p", str(p.port), "-U", H.APP_USER, "-d", "appdb", "-c", sql],
                       capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["LATIN1", "t"]
    c = connect(p.port)  # UTF8, on the same (only) server connection
    assert one(c, "SHOW client_encoding") == ("UTF8",)
    c.close()


# ---- faults -------------------------------------------------------------------------------------------

def test_server_killed_mid_query(cluster, proxy):
    """pg_terminate_backend on the server under a client: the client sees what it
    would see connected directly, and the proxy goes on."""
    p = proxy(replicas=False, extra=["--pool-size", "2"])
    seen = []
    for port in (cluster.primary.port, p.port):
        c = connect(port, autocommit=False)
        pid = one(c, "SELECT pg_backend_pid()")[0]
        killer = threading.Timer(0.5, lambda: cluster.primary.sql("SELECT pg_terminate_backend(%s)", (pid,)))
        killer.start()
        with pytest.raises(psycopg2.OperationalError) as e:
            one(c, "SELECT pg_sleep(30)")
        killer.join()
        seen.append((type(e.value), str(e.value)))
        c.close()
    assert seen[0] == seen[1]
    d = connect(p.port)
    assert one(d, "SELECT 1") == (1,)
    assert status(p.admin_port)["servers"] >= 1
    d.close()


def test_malformed_messages_after_login(cluster, proxy):
    p = proxy(auth="trust", replicas=False)
    for bad in (b"Q\0\0\0\x02", b"Q\xff\xff\xff\xff"):
        s = _login(p.port)
        s.sendall(bad)
        msgs = read_msgs(s, b"E")
        assert msgs and msgs[-1][0] == b"E" and b"C08P01\0" in msgs[-1][1] or b"C54000\0" in msgs[-1][1], msgs
        s.close()
    # a client that vanishes in the middle of a message leaves the proxy healthy
    s = _login(p.port)
    s.sendall(b"Q\0\0\0\x20SELECT")
    s.close()
    c = connect(p.port)
    assert one(c, "SELECT 1") == (1,)
    c.close()


# ---- admin console ------------------------------------------------------------------------------------

def console_psql(port, sql, user=H.APP_USER, db="pgbouncer"):
    env = {"PGPASSWORD": H.APP_PASSWORD, "PATH": "/usr/bin:/bin"}
    return subprocess.run(["psql", "-X", "-A", "-F", "|", "-h", HOST, "-p", str(port), "-U", user, "-d", db, "-c", sql],
                          capture_output=True, text=True, timeout=30, env=env)


def test_admin_console(cluster, proxy):
    p = proxy(extra=["--admin-users", f"{H.APP_USER}", "--query-wait-timeout", "1"])
    c = connect(p.port)
    assert one(c, "SELECT 1") == (1,)
    r = console_psql(p.port, "SHOW POOLS")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("database|user|cl_active|cl_waiting|")  # PgBouncer's (below)
    r = console_psql(p.port, "SHOW BACKENDS")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "database|user|backend|role|cl_waiting|sv_active|sv_idle|sv_connecting|pool_mode"
    assert any(l.startswith(f"appdb|app|{HOST}:{cluster.primary.port}|primary|0|") for l in lines)
    r = console_psql(p.port, "show totals;", db="scaleout")
    assert r.returncode == 0 and "clients_accepted|" in r.stdout
    for cmd in ("SHOW SERVERS", "SHOW CLIENTS", "SHOW DATABASES", "SHOW VERSION"):
        r = console_psql(p.port, cmd)
        assert r.returncode == 0, (cmd, r.stderr)
    r = console_psql(p.port, "SHOW NONSENSE")
    assert r.returncode != 0 and "unknown admin console command" in r.stderr
    # PAUSE: no server is handed out; RESUME: they are again
    assert console_psql(p.port, "PAUSE").returncode == 0
    with pytest.raises(psycopg2.errors.TooManyConnections):
        one(c, "SELECT 2")
    assert console_psql(p.port, "RESUME").returncode == 0
    assert one(c, "SELECT 3") == (3,)
    c.close()
    # a user not in admin-users, and a wrong password
    r = console_psql(p.port, "SHOW POOLS", user=H.MD5_USER)
    assert r.returncode != 0 and "not in admin-users" in r.stderr


def console_rows(r):
    """psql -A output as a list of dicts (header line, then rows; the row count line dropped)."""
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l and not (l.startswith("(") and l.endswith(")"))]
    cols = lines[0].split("|")
    return cols, [dict(zip(cols, l.split("|"))) for l in lines[1:]]


def test_admin_console_speaks_pgbouncers_columns(cluster, workdir, proxy):
    """SHOW POOLS, STATS, STATS_TOTALS, STATS_AVERAGES, USERS have Debian's
    PgBouncer 1.18's columns in its order, and SHOW TOTALS and LISTS its row
    names (monitoring such as pgbouncer_exporter reads them by name); and the
    figures count what ran: transactions, queries, bytes both ways, times,
    and (stats-period 1s) the per-second averages while a client works."""
    bouncer = H.start_pgbouncer(cluster, workdir, mode="transaction", admin_users=H.APP_USER)
    try:
        ours = proxy(replicas=False, extra=["--admin-users", H.APP_USER, "--stats-period", "1"])
        for port in (bouncer.port, ours.port):
            c = connect(port)
            for i in range(50):
                assert one(c, f"SELECT {i}") == (i,)
            c.close()
        for cmd in ("SHOW POOLS", "SHOW STATS", "SHOW STATS_TOTALS", "SHOW STATS_AVERAGES", "SHOW USERS",
                    "SHOW DATABASES", "SHOW CONFIG"):
            a, _ = console_rows(console_psql(bouncer.port, cmd))
            b, _ = console_rows(console_psql(ours.port, cmd))
            assert a == b, (cmd, a, b)
        for cmd in ("SHOW CLIENTS", "SHOW SERVERS"):  # PgBouncer's columns first, then scaleout's
            a, _ = console_rows(console_psql(bouncer.port, cmd))
            b, _ = console_rows(console_psql(ours.port, cmd))
            assert b[:len(a)] == a, (cmd, a, b)
        for cmd in ("SHOW TOTALS", "SHOW LISTS"):
            _, a = console_rows(console_psql(bouncer.port, cmd))
            _, b = console_rows(console_psql(ours.port, cmd))
            na, nb = [r[next(iter(r))] for r in a], [r[next(iter(r))] for r in b]
            assert nb[:len(na)] == na, (cmd, na, nb)  # PgBouncer's rows first, in its order
    finally:
        bouncer.stop()
    _, rows = console_rows(console_psql(ours.port, "SHOW STATS"))
    st = {r["database"]: r for r in rows}["appdb"]
    assert int(st["total_xact_count"]) >= 50 and int(st["total_query_count"]) >= 50, st
    assert int(st["total_received"]) > 50 * len("SELECT 1") and int(st["total_sent"]) > 0, st
    assert int(st["total_query_time"]) > 0 and int(st["total_xact_time"]) >= int(st["total_query_time"]) // 2, st
    _, pools = console_rows(console_psql(ours.port, "SHOW POOLS"))
    pool = {(r["database"], r["user"]): r for r in pools}[("appdb", H.APP_USER)]
    assert pool["pool_mode"] == "transaction" and int(pool["sv_idle"]) + int(pool["sv_active"]) >= 1, pool
    _, lists = console_rows(console_psql(ours.port, "SHOW LISTS"))
    assert {r["list"]: int(r["items"]) for r in lists}["pools"] >= 1
    _, dbs = console_rows(console_psql(ours.port, "SHOW DATABASES"))
    db = {r["name"]: r for r in dbs}["appdb"]
    assert (db["host"], db["port"], db["database"]) == (HOST, str(cluster.primary.port), "appdb"), db
    assert int(db["current_connections"]) >= 1 and db["paused"] == "0", db
    _, clients = console_rows(console_psql(ours.port, "SHOW CLIENTS"))
    me = [r for r in clients if r["database"] == "pgbouncer"]
    assert me and me[0]["type"] == "C" and me[0]["addr"] == HOST and me[0]["local_port"] == str(ours.port), clients
    assert me[0]["application_name"] == "psql" and me[0]["state"] == "active", me[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", me[0]["connect_time"]), me[0]
    _, servers = console_rows(console_psql(ours.port, "SHOW SERVERS"))
    srv = [r for r in servers if r["database"] == "appdb"]
    assert srv and srv[0]["type"] == "S" and (srv[0]["addr"], srv[0]["port"]) == (HOST, str(cluster.primary.port)), servers
    assert int(srv[0]["remote_pid"]) > 0 and srv[0]["state"] in ("idle", "active"), srv[0]
    _, conf = console_rows(console_psql(ours.port, "SHOW CONFIG"))
    conf = {r["key"]: r for r in conf}
    assert conf["stats-period"]["value"] == "1" and conf["stats-period"]["changeable"] == "yes", conf["stats-period"]
    assert conf["listen"]["changeable"] == "no" and conf["pool-mode"]["changeable"] == "no"
    # averages over the last whole second, while a client keeps working
    c = connect(ours.port)

    def busy_average():
        for i in range(20):
            one(c, "SELECT 1")
        _, rows = console_rows(console_psql(ours.port, "SHOW STATS_AVERAGES"))
        a = {r["database"]: r for r in rows}["appdb"]
        return int(a["query_count"]) > 0 and int(a["query_time"]) > 0 and int(a["bytes_received"]) > 0
    wait_until(busy_average, timeout=20, what="a period's averages")
    c.close()


def test_reserve_pool(cluster, proxy):
    p = proxy(replicas=False, extra=["--pool-size", "1", "--reserve-pool-size", "1", "--reserve-pool-timeout", "300ms",
                                     "--query-wait-timeout", "20"])
    a = connect(p.port, autocommit=False)
    one(a, "SELECT 1")  # holds the pool's only regular connection
    b = connect(p.port)
    assert one(b, "SELECT 2") == (2,)  # served by the reserve (without it: 53300 after 20 s)
    st = status(p.admin_port)["backends"][0]
    assert st["idle"] + st["active"] == 2
    a.rollback()
    a.close()
    b.close()


# ---- failover (own cluster: it loses its primary) ---------------------------------------------------

def test_failover_promotes_the_replica(workdir):
    with H.PgCluster(replicas=1) as pg:
        pg.primary.sql("CREATE TABLE f(x int)", dbname="appdb")
        pg.wait_replicated()
        p = H.start_scaleout_pg(pg, workdir, extra=["--failover-timeout", "500ms", "--replica-check-interval", "100ms",
                                                     "--server-connect-timeout", "2"])
        try:
            c = connect(p.port)
            assert one(c, "SELECT pg_is_in_recovery()") == (True,)  # a pooled replica connection
            with c.cursor() as cur:
                cur.execute("INSERT INTO f VALUES (1)")
            pg.primary.stop("immediate")

            def write_works():
                try:
                    with c.cursor() as cur:
                        cur.execute("INSERT INTO f VALUES (2) RETURNING inet_server_port()")
                        return cur.fetchone()[0]
                except psycopg2.Error:
                    return None

            # writes fail while the primary is down, then land on the promoted replica
            port = wait_until(write_works, timeout=30, interval=0.2, what="a write after failover")
            assert port == pg.replicas[0].port
            assert one(c, "SELECT count(*) FROM f") == (2,)
            st = status(p.admin_port)
            assert [b["role"] for b in st["backends"]] == ["fenced", "primary"]
            assert metrics(p.admin_port)["scaleout_pg_failovers_total"] == 1
            # the old primary comes back as a primary: it stays fenced, writes go on to the new one
            pg.primary.start()
            wait_until(lambda: status(p.admin_port)["backends"][0]["in_recovery"] is False, timeout=30,
                       what="the proxy saw the old primary back")
            for i in range(5):
                assert one(c, f"INSERT INTO f VALUES ({10 + i}) RETURNING inet_server_port()") == (pg.replicas[0].port,)
                assert one(c, "SELECT inet_server_port()") == (pg.replicas[0].port,)
            assert status(p.admin_port)["backends"][0]["role"] == "fenced"
            assert pg.primary.sql("SELECT count(*) FROM f", dbname="appdb") == [(1,)]
            # it rejoins as a standby of the new primary: then it serves reads again
            pg.primary.stop("fast")
            shutil.rmtree(pg.primary.datadir)
            H._check(H.as_user([H.PG_BIN / "pg_basebackup", "-h", HOST, "-p", str(pg.replicas[0].port), "-U", "postgres",
                                "-D", pg.primary.datadir, "-R", "-X", "stream", "--no-sync", "-c", "fast"]))
            pg.primary.start()
            wait_until(lambda: status(p.admin_port)["backends"][0]["role"] == "replica", timeout=30,
                       what="the old primary rejoined as a replica")
            wait_until(lambda: one(c, "SELECT inet_server_port()") == (pg.primary.port,), timeout=15,
                       what="a read on the rejoined replica")
            c.close()
        finally:
            assert p.stop() == 0, p.log()


def test_failover_repoints_the_other_replica_and_persists_fencing(workdir):
    """Primary + 2 replicas: the primary dies, the proxy promotes one replica
    and repoints the other to it (ALTER SYSTEM SET primary_conninfo as
    failover-user); the state file keeps the fencing across a restart."""
    with H.PgCluster(replicas=2) as pg:
        pg.primary.sql("CREATE TABLE f(x int)", dbname="appdb")
        pg.wait_replicated()
        state = Path(workdir) / "pg-failover.state"
        extra = ["--failover-timeout", "500ms", "--replica-check-interval", "100ms", "--server-connect-timeout", "2",
                 "--failover-user", "postgres", "--state-file", str(state), "--replica-retry", "1"]
        p = H.start_scaleout_pg(pg, workdir, extra=extra)
        port, admin = p.port, p.admin_port
        try:
            c = connect(port)
            with c.cursor() as cur:
                cur.execute("INSERT INTO f VALUES (1)")
            assert {one(c, "SELECT inet_server_port()")[0] for _ in range(4)} == {r.port for r in pg.replicas}
            wait_until(lambda: all(b["replay_lsn"] > 0 for b in status(admin)["backends"][1:]), timeout=15,
                       what="replay positions measured")
            pg.primary.stop("immediate")

            def write_works():
                try:
                    with c.cursor() as cur:
                        cur.execute("INSERT INTO f VALUES (2) RETURNING inet_server_port()")
                        return cur.fetchone()[0]
                except psycopg2.Error:
                    return None

            new = wait_until(write_works, timeout=30, interval=0.2, what="a write after failover")
            rports = [r.port for r in pg.replicas]
            assert new in rports
            newp = pg.replicas[rports.index(new)]
            other = pg.replicas[1 - rports.index(new)]
            # the other replica streams from the new primary and gets rows written after the failover
            wait_until(lambda: newp.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")[0][0] == 1,
                       timeout=30, what="the other replica streaming from the new primary")
            assert "port=%d" % new in other.sql("SHOW primary_conninfo")[0][0]
            with c.cursor() as cur:
                cur.execute("INSERT INTO f VALUES (3)")
            wait_until(lambda: other.sql("SELECT count(*) FROM f WHERE x = 3", dbname="appdb")[0][0] == 1,
                       timeout=30, what="a row written after failover on the other replica")
            st = status(admin)
            assert [b["role"] for b in st["backends"]].count("fenced") == 1
            assert st["backends"][0]["role"] == "fenced"
            assert not any(b["repoint_pending"] for b in st["backends"])
            m = metrics(admin)
            assert m["scaleout_pg_failovers_total"] == 1 and m["scaleout_pg_repoints_total"] == 1
            text = state.read_text()
            assert f"primary {HOST}:{new}" in text and f"fenced {HOST}:{pg.primary.port}" in text
            c.close()
        finally:
            assert p.stop() == 0, p.log()
        # a restarted proxy keeps the new primary and the fencing (same config: the old primary first)
        p = H.start_scaleout_pg(pg, workdir, extra=extra, port=port, admin_port=admin)
        try:
            c = connect(port)
            assert one(c, "INSERT INTO f VALUES (4) RETURNING inet_server_port()") == (new,)
            roles = [b["role"] for b in status(admin)["backends"]]
            assert roles[0] == "fenced" and roles[1 + rports.index(new)] == "primary"
            c.close()
        finally:
            assert p.stop() == 0, p.log()


def test_scram_secret_in_the_auth_file_logs_in_to_the_servers(cluster, workdir):
    """The auth file holds pg_authid's SCRAM secret, not the password: the proxy
    checks the client with it and logs in to the servers with the ClientKey
    the client's proof revealed."""
    secret = cluster.primary.sql("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (H.APP_USER,))[0][0]
    assert secret.startswith("SCRAM-SHA-256$")
    p = H.start_scaleout_pg(cluster, workdir, users={H.APP_USER: secret})
    try:
        with pytest.raises(psycopg2.OperationalError) as e:
            connect(p.port, password="wrong")
        assert 'password authentication failed for user "app"' in str(e.value)
        c = connect(p.port)
        assert one(c, "SELECT pg_is_in_recovery()") == (True,)  # a replica login
        with c.cursor() as cur:
            cur.execute("INSERT INTO kv VALUES (9100, 'secret') ON CONFLICT (k) DO UPDATE SET v = 'secret' "
                        "RETURNING pg_is_in_recovery()")  # a primary login
            assert cur.fetchone() == (False,)
        c.close()
    finally:
        assert p.stop() == 0, p.log()


# ---- read-your-writes by LSN -------------------------------------------------------------------

def test_read_your_writes_lsn(cluster, proxy):
    """After a write, the client reads from the primary until a replica has replayed
    past the primary's WAL position sampled after its commit; other clients are not affected."""
    p = proxy(extra=["--read-your-writes", "lsn", "--replica-check-interval", "100ms", "--replica-max-lag", "0"])
    c, other = connect(p.port), connect(p.port)
    assert one(c, "SELECT pg_is_in_recovery()") == (True,)
    replica = cluster.replicas[0]
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        with c.cursor() as cur:
            cur.execute("INSERT INTO kv VALUES (8101, 'lsn') ON CONFLICT (k) DO UPDATE SET v = 'lsn'")
        assert one(c, "SELECT pg_is_in_recovery(), (SELECT v FROM kv WHERE k = 8101)") == (False, "lsn")
        # the sample after the commit is known, the replica is behind it: still the primary
        samples = status(p.admin_port)["lsn_samples"]
        wait_until(lambda: status(p.admin_port)["lsn_samples"] > samples, timeout=10, what="an LSN sample")
        st = status(p.admin_port)
        assert st["backends"][1]["replay_lsn"] < st["primary_lsn"]
        for _ in range(5):
            assert one(c, "SELECT pg_is_in_recovery()") == (False,)
        assert one(other, "SELECT pg_is_in_recovery()") == (True,)
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
    wait_until(lambda: one(c, "SELECT pg_is_in_recovery()") == (True,), timeout=15, what="reads back on the replica")
    assert one(c, "SELECT v FROM kv WHERE k = 8101") == ("lsn",)
    assert one(c, "SELECT pg_is_in_recovery()") == (True,)
    c.close()
    other.close()


# ---- several replicas: the balancer of src/net, lag exclusion per replica, hints ----------------

@pytest.fixture(scope="module")
def cluster2():
    """A second cluster: a primary and two replicas (also the second shard of the shard tests)."""
    with H.PgCluster(replicas=2) as pg:
        pg.primary.sql("CREATE TABLE kv(k int PRIMARY KEY, v text)", dbname="appdb")
        pg.wait_replicated()
        yield pg


def ports_of(conn, n, sql="SELECT inet_server_port()"):
    counts = {}
    for _ in range(n):
        port = one(conn, sql)[0]
        counts[port] = counts.get(port, 0) + 1
    return counts


def test_weighted_balance_over_two_replicas(cluster2, workdir, proxy):
    a, b = cluster2.replicas
    p = proxy(cluster=cluster2, replicas=False,
              extra=["--replica", f"{HOST}:{a.port} weight=3", "--replica", f"{HOST}:{b.port}", "--balance", "wrr"])
    c = connect(p.port)
    assert ports_of(c, 40) == {a.port: 30, b.port: 10}
    # a write still goes to the primary
    assert one(c, "INSERT INTO kv VALUES (1, 'x') ON CONFLICT (k) DO UPDATE SET v = 'x' RETURNING inet_server_port()") \
        == (cluster2.primary.port,)
    c.close()


def test_primary_read_weight_puts_the_primary_among_the_readers(cluster2, workdir, proxy):
    """--primary-read-weight N: reads spread over the primary and the replicas
    by weight (Pgpool-II's load balancing with the primary in it); without it
    (the default, tested above) the primary takes no reads."""
    a, b = cluster2.replicas
    p = proxy(cluster=cluster2, replicas=False,
              extra=["--replica", f"{HOST}:{a.port}", "--balance", "wrr", "--primary-read-weight", "2"])
    c = connect(p.port)
    assert ports_of(c, 30) == {cluster2.primary.port: 20, a.port: 10}
    # the replica lags: its reads go to the primary, which is never behind itself
    a.sql("SELECT pg_wal_replay_pause()")
    c.close()
    p2 = proxy(cluster=cluster2, replicas=False,
               extra=["--replica", f"{HOST}:{a.port}", "--primary-read-weight", "1", "--replica-max-lag", "300ms",
                      "--replica-check-interval", "100ms"])
    c = connect(p2.port)
    try:
        cluster2.primary.sql("INSERT INTO kv VALUES (3, 'lag') ON CONFLICT (k) DO UPDATE SET v = kv.v || '+'",
                             dbname="appdb")
        wait_until(lambda: set(ports_of(c, 6)) == {cluster2.primary.port}, timeout=15,
                   what="reads only on the primary while the replica lags")
    finally:
        a.sql("SELECT pg_wal_replay_resume()")
    wait_until(lambda: set(ports_of(c, 6)) == {cluster2.primary.port, a.port}, timeout=15,
               what="the replica reads again")
    c.close()


def test_lag_excludes_one_replica_and_hints(cluster2, workdir, proxy):
    a, b = cluster2.replicas
    p = proxy(cluster=cluster2, extra=["--replica-max-lag", "300ms", "--replica-check-interval", "100ms"])
    c = connect(p.port)
    assert set(ports_of(c, 10)) == {a.port, b.port}
    a.sql("SELECT pg_wal_replay_pause()")
    try:
        cluster2.primary.sql("INSERT INTO kv VALUES (2, 'lag') ON CONFLICT (k) DO UPDATE SET v = kv.v || '+'", dbname="appdb")
        wait_until(lambda: set(ports_of(c, 6)) == {b.port}, timeout=15, what="reads only on the replica not lagging")
        st = status(p.admin_port)["backends"]
        assert (st[1]["lagging"], st[2]["lagging"]) == (True, False)
    finally:
        a.sql("SELECT pg_wal_replay_resume()")
    wait_until(lambda: set(ports_of(c, 6)) == {a.port, b.port}, timeout=15, what="both replicas read again")
    # WITH is uncertain: the primary; /*+ replica */ sends it to a replica; /*+ primary */ a plain read to the primary
    with_q = "WITH x AS (SELECT 1) SELECT inet_server_port() FROM x"
    assert one(c, with_q) == (cluster2.primary.port,)
    assert one(c, "/*+ replica */ " + with_q)[0] in (a.port, b.port)
    assert one(c, "/*+ primary */ SELECT inet_server_port()") == (cluster2.primary.port,)
    c.close()


# ---- shard routing: two PostgreSQL primaries (the two clusters' primaries) ------------------------

def fnv1a64(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


@pytest.fixture
def shards(cluster, cluster2):
    """Two shards of appdb: the first cluster's primary (shard 0) and the second's (shard 1)."""
    servers = [cluster.primary, cluster2.primary]
    for s in servers:
        s.sql("DROP TABLE IF EXISTS sharded", dbname="appdb")
        s.sql("CREATE TABLE sharded(k text PRIMARY KEY, v text)", dbname="appdb")
    return servers


def keys_on(server):
    return sorted(r[0] for r in server.sql("SELECT k FROM sharded", dbname="appdb"))


def test_shard_hash_by_hint_and_session_key(shards, proxy):
    s0, s1 = shards
    p = proxy(replicas=False, extra=["--shard-map", f"appdb hash {HOST}:{s0.port} {HOST}:{s1.port}"])
    c = connect(p.port)
    keys = [str(i) for i in range(20)]
    for k in keys[:10]:
        with c.cursor() as cur:
            cur.execute(f"/*+ shard_key={k} */ INSERT INTO sharded VALUES (%s, 'hint')", (k,))
    with c.cursor() as cur:
        for k in keys[10:]:
            cur.execute("SET scaleout.shard_key = %s", (k,))
            cur.execute("INSERT INTO sharded VALUES (%s, 'set')", (k,))
        # the key stays for the session: the same shard reads the row back
        assert one(c, "SELECT v FROM sharded WHERE k = '19'") == ("set",)
        cur.execute("RESET scaleout.shard_key")
    want0 = sorted(k for k in keys if fnv1a64(k.encode()) % 2 == 0)
    want1 = sorted(k for k in keys if fnv1a64(k.encode()) % 2 == 1)
    assert want0 and want1
    assert keys_on(s0) == want0 and keys_on(s1) == want1
    # no key: refused with 0A000, the connection goes on
    with pytest.raises(psycopg2.Error) as e:
        one(c, "SELECT * FROM sharded")
    assert e.value.pgcode == "0A000" and "no shard key" in str(e.value)
    with c.cursor() as cur:
        cur.execute("SET scaleout.shard_key TO '3'")
        cur.execute("DISCARD ALL")  # clears the key, as RESET ALL does
    with pytest.raises(psycopg2.Error) as e:
        one(c, "SELECT * FROM sharded")
    assert e.value.pgcode == "0A000"
    # a transaction (psycopg2's BEGIN) runs on the shard of the session's key
    with c.cursor() as cur:
        cur.execute("SET scaleout.shard_key = 'tx'")
    c.autocommit = False
    with c.cursor() as cur:
        cur.execute("INSERT INTO sharded VALUES ('tx', 'in a transaction')")
    c.commit()
    c.close()
    assert "tx" in (keys_on(s0) if fnv1a64(b"tx") % 2 == 0 else keys_on(s1))


def test_shard_fanout_reads(shards, proxy):
    s0, s1 = shards
    for i in range(7):
        (s0 if i % 2 else s1).sql("INSERT INTO sharded VALUES (%s, 'x')", (str(i),), dbname="appdb")
    p = proxy(replicas=False, extra=["--shard-map", f"appdb hash {HOST}:{s0.port} {HOST}:{s1.port}",
                                     "--fanout-reads", "yes"])
    c = connect(p.port)
    with c.cursor() as cur:
        cur.execute("SELECT k, v FROM sharded")
        rows = cur.fetchall()
        assert sorted(r[0] for r in rows) == [str(i) for i in range(7)]
        assert cur.rowcount == 7  # the SELECT n tags summed
        assert [d.name for d in cur.description] == ["k", "v"]
        cur.execute("SELECT count(*) FROM sharded")
        assert sorted(r[0] for r in cur.fetchall()) == [3, 4]  # one row per shard
        # writes without a key are never fanned out
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("DELETE FROM sharded")
        assert e.value.pgcode == "0A000"
        # an error on a shard ends the fan-out; the connection goes on
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("SELECT nosuchcolumn FROM sharded")
        assert e.value.pgcode == "42703"
        cur.execute("/*+ shard_key=1 */ SELECT count(*) FROM sharded")
        assert cur.fetchone()[0] in (3, 4)
        # shards with an idle pooled connection run the read at the same time
        for _ in range(2):
            cur.execute("SELECT count(*) FROM sharded")  # leaves a pooled connection on each shard
        res = {}

        def slow():
            with c.cursor() as cur2:
                cur2.execute("SELECT pg_sleep(2), k FROM sharded WHERE k IN ('0', '1')")
                res["rows"] = sorted(r[1] for r in cur2.fetchall())

        t = threading.Thread(target=slow)
        t.start()
        active = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(2)%'"
        wait_until(lambda: s0.sql(active)[0][0] == 1 and s1.sql(active)[0][0] == 1, timeout=10,
                   what="the fanned-out read running on both shards at once")
        t.join(30)
        assert res["rows"] == ["0", "1"]
        cur.execute("SELECT k FROM sharded WHERE k = '6'")
        assert cur.fetchall() == [("6",)]
    # a client that vanishes mid fan-out: the shards' connections are dropped, the proxy goes on
    c2 = connect(p.port)
    for _ in range(2):
        one(c2, "SELECT count(*) FROM sharded")
    t = threading.Thread(target=lambda: pytest.raises(psycopg2.Error, one, c2, "SELECT pg_sleep(2), k FROM sharded"))
    t.start()
    wait_until(lambda: s0.sql(active)[0][0] >= 1 and s1.sql(active)[0][0] >= 1, timeout=10, what="a second fan-out")
    socket.socket(fileno=os.dup(c2.fileno())).shutdown(socket.SHUT_RDWR)
    t.join(30)
    with c.cursor() as cur:
        cur.execute("SELECT count(*) FROM sharded")
        assert sorted(r[0] for r in cur.fetchall()) == [3, 4]
    c.close()


def test_shard_range_and_directory(shards, proxy):
    s0, s1 = shards
    p = proxy(replicas=False, extra=["--shard-map", f"appdb range {HOST}:{s0.port} 100 {HOST}:{s1.port}"])
    c = connect(p.port)
    for k in ("5", "99", "100", "12345", "-3"):
        one(c, f"/*+ shard_key={k} */ INSERT INTO sharded VALUES ('{k}', 'r') RETURNING k")
    assert keys_on(s0) == sorted(["5", "99", "-3"]) and keys_on(s1) == sorted(["100", "12345"])
    with pytest.raises(psycopg2.Error) as e:
        one(c, "/*+ shard_key=abc */ SELECT 1")
    assert e.value.pgcode == "22023"
    c.close()
    d = proxy(replicas=False, extra=["--shard-map", f"appdb directory eu={HOST}:{s0.port} us={HOST}:{s1.port}"])
    c = connect(d.port)
    assert one(c, "/*+ shard_key='us' */ SELECT inet_server_port()") == (s1.port,)
    assert one(c, "/*+ shard_key=eu */ SELECT inet_server_port()") == (s0.port,)
    with pytest.raises(psycopg2.Error) as e:
        one(c, "/*+ shard_key=asia */ SELECT 1")
    assert e.value.pgcode == "22023" and "maps to no shard" in str(e.value)
    c.close()


# ---- reload (SIGHUP, console RELOAD) ------------------------------------------------------------

def test_reload_changes_pools_users_timeouts_and_keeps_clients(cluster, workdir, proxy):
    cluster.primary.sql("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'latecomer') THEN "
                        "CREATE ROLE latecomer LOGIN PASSWORD 'late'; END IF; END$$")
    conf = H.write_file(workdir / "reload.conf", f"role pg\npool-size 1\nquery-wait-timeout 1\nadmin-users {H.APP_USER}\n")
    p = proxy(replicas=False, extra=["--config", str(conf)])
    c1 = connect(p.port, autocommit=False)
    assert one(c1, "SELECT 1") == (1,)  # inside a transaction: it holds the pool's only server
    c2 = connect(p.port)
    with pytest.raises(psycopg2.Error) as e:
        one(c2, "SELECT 2")
    assert e.value.pgcode == "53300"
    with pytest.raises(psycopg2.OperationalError):
        connect(p.port, user="latecomer", password="late")
    # SIGHUP: pool-size 2, query-wait-timeout 10 s, one more user
    H.write_file(conf, f"role pg\npool-size 2\nquery-wait-timeout 10\nadmin-users {H.APP_USER}\n")
    userlist = workdir / f"userlist-{p.port}.txt"
    userlist.write_text(userlist.read_text() + '"latecomer" "late"\n')
    p.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload: configuration" in p.log(), timeout=10, what="the reload")
    assert one(c2, "SELECT 2") == (2,)
    c3 = connect(p.port, user="latecomer", password="late")
    assert one(c3, "SELECT current_user") == ("latecomer",)
    # the client in its transaction kept it
    assert one(c1, "SELECT 3") == (3,)
    c1.commit()
    # console RELOAD: a broken file changes nothing; a good one applies
    H.write_file(conf, f"role pg\npool-size 0\nadmin-users {H.APP_USER}\n")
    r = console_psql(p.port, "RELOAD")
    assert r.returncode != 0 and "reload failed" in r.stderr and "pool-size" in r.stderr
    H.write_file(conf, f"role pg\npool-size 1\nquery-wait-timeout 1\nadmin-users {H.APP_USER}\n")
    r = console_psql(p.port, "RELOAD")
    assert r.returncode == 0, r.stderr
    assert one(c1, "SELECT 4") == (4,)  # c1 in a new transaction holds a server
    with c2.cursor() as cur:  # c2 uses the other pooled one (pool-size is a limit for new connections)
        cur.execute("SELECT 5")
    c1.rollback()
    for c in (c1, c2, c3):
        c.close()


# ---- auth-query (PgBouncer's auth_user + auth_query) ---------------------------------------------

def test_auth_query_fetches_secrets_from_the_server(cluster, workdir, proxy):
    cluster.primary.sql("DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'aq_scram') THEN "
                        "CREATE ROLE aq_scram LOGIN PASSWORD 'aqpass'; END IF; END$$")
    # the auth file knows only the auth user
    p = proxy(replicas=False, users={H.APP_USER: H.APP_PASSWORD}, extra=["--auth-user", H.APP_USER])
    c = connect(p.port, user="aq_scram", password="aqpass")
    assert one(c, "SELECT current_user") == ("aq_scram",)
    c.close()
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(p.port, user="aq_scram", password="wrong")
    assert 'password authentication failed for user "aq_scram"' in str(e.value)
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(p.port, user="nobody_here", password="x")
    assert 'password authentication failed for user "nobody_here"' in str(e.value)
    # a changed password is fetched again at the next login
    cluster.primary.sql("ALTER ROLE aq_scram PASSWORD 'newpass'")
    c = connect(p.port, user="aq_scram", password="newpass")
    assert one(c, "SELECT 1") == (1,)
    c.close()
    # md5: the md5 user's hash from pg_shadow, md5 towards the server too
    m = proxy(replicas=False, auth="md5", users={H.APP_USER: H.APP_PASSWORD}, extra=["--auth-user", H.APP_USER])
    c = connect(m.port, user=H.MD5_USER, password=H.MD5_PASSWORD)
    assert one(c, "SELECT current_user") == (H.MD5_USER,)
    c.close()
    # without auth-user the same login fails
    n = proxy(replicas=False, users={H.APP_USER: H.APP_PASSWORD})
    with pytest.raises(psycopg2.OperationalError):
        connect(n.port, user="aq_scram", password="newpass")


# ---- startup parameters beyond the six tracked ones ------------------------------------------------

def test_startup_parameters_follow_the_client_in_transaction_mode(cluster, proxy):
    cluster.primary.sql("CREATE SCHEMA IF NOT EXISTS s1", dbname="appdb")
    p = proxy(replicas=False, extra=["--pool-size", "1"])
    a = connect(p.port, options="-c search_path=s1,public -c extra_float_digits=0 --statement-timeout=1234",
                application_name="client-a")
    b = connect(p.port)
    want_a = ("s1,public", "0", "1234ms", "client-a")
    q = ("SELECT current_setting('search_path'), current_setting('extra_float_digits'), "
         "current_setting('statement_timeout'), current_setting('application_name'), pg_backend_pid()")
    pids = set()
    for _ in range(3):  # one server connection, taken in turn
        ra, rb = one(a, q), one(b, q)
        assert ra[:4] == want_a
        assert rb[:4] == ('"$user", public', "1", "0", "")
        pids |= {ra[4], rb[4]}
    assert len(pids) == 1
    assert one(a, "SELECT current_schemas(false)") == (["s1", "public"],)
    a.close()
    b.close()
    # a parameter sent as itself in the startup packet (as JDBC sends extra_float_digits)
    t = proxy(replicas=False, auth="trust", extra=["--pool-size", "1", "--ignore-startup-parameters", "geqo"])
    s = _login(t.port, b"extra_float_digits\x002\x00geqo\x00off\x00")
    s.sendall(_m(b"Q", b"SELECT current_setting('extra_float_digits') || current_setting('geqo')\0"))
    assert _rows(read_msgs(s, b"Z")) == ["2on"]  # geqo ignored, as listed
    s.close()
    # a name that is no setting's name: FATAL 42704 at login
    bad = socket.create_connection((HOST, t.port), timeout=5)
    body = struct.pack("!I", 196608) + b"user\0app\0database\0appdb\0bad;name\0x\0\0"
    bad.sendall(struct.pack("!I", len(body) + 4) + body)
    msgs = read_msgs(bad, b"E")
    assert any(t == b"E" and b"42704" in m for t, m in msgs)
    bad.close()


# ---- client TLS ----------------------------------------------------------------------------------

def test_client_tls_with_psql_and_psycopg2(cluster, workdir, proxy):
    cert, key = workdir / "tls-cert.pem", workdir / "tls-key.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    p = proxy(extra=["--client-tls-cert", str(cert), "--client-tls-key", str(key), "--client-tls-required", "yes"])
    c = connect(p.port, sslmode="require")
    assert c.info.ssl_in_use
    assert one(c, "SELECT pg_is_in_recovery()") == (True,)  # the split works under TLS
    big = one(c, "SELECT repeat('x', 300000)")[0]  # larger than a TLS record
    assert len(big) == 300000
    c.close()
    env = dict(os.environ, PGPASSWORD=H.APP_PASSWORD, PGSSLMODE="require")
    r = subprocess.run(["psql", "-X", "-h", HOST, "-p", str(p.port), "-U", H.APP_USER, "-d", "appdb", "-tAc",
                        "SELECT 41 + 1"], env=env, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "42", r.stderr
    # required: a client without TLS is refused
    with pytest.raises(psycopg2.OperationalError) as e:
        connect(p.port, sslmode="disable")
    assert "SSL required" in str(e.value)


def test_leastconn_avoids_the_busy_replica(cluster2, proxy):
    a, b = cluster2.replicas
    p = proxy(cluster=cluster2, extra=["--balance", "leastconn", "--replica-max-lag", "0"])
    slow, c = connect(p.port), connect(p.port)
    started = threading.Event()
    got = {}

    def long_read():
        started.set()
        got["port"] = one(slow, "SELECT inet_server_port() FROM pg_sleep(3)")[0]

    t = threading.Thread(target=long_read)
    t.start()
    started.wait()
    busy = wait_until(lambda: next((x["address"] for x in status(p.admin_port)["backends"] if x["active"] == 1), None),
                      timeout=5, what="the long read running")
    other = b.port if busy.endswith(f":{a.port}") else a.port
    assert ports_of(c, 6) == {other: 6}  # while one replica runs the long read, reads go to the other
    t.join()
    assert f":{got['port']}" in busy
    slow.close()
    c.close()


# ---- Unix-domain socket to the servers ----------------------------------------------------

def test_primary_over_a_unix_socket(cluster, workdir, proxy):
    """--primary /socket-dir:port reaches PostgreSQL's own socket file
    (dir/.s.PGSQL.port, libpq's host=/dir): the server sees a local session."""
    p = proxy(replicas=False, primary=f"{cluster.primary.sockdir}:{cluster.primary.port}")
    c = connect(p.port)
    assert one(c, "SELECT inet_server_addr() IS NULL, current_user") == (True, H.APP_USER)
    assert one(c, "SELECT %s::int + 1", (41,)) == (42,)  # psycopg2: simple protocol
    with pytest.raises(psycopg2.errors.DivisionByZero):
        one(c, "SELECT 1 / 0")
    c.autocommit = False
    one(c, "INSERT INTO kv VALUES (9101, 'unix') RETURNING k")
    c.commit()
    assert one(c, "SELECT v FROM kv WHERE k = 9101") == ("unix",)
    c.rollback()
    # a CancelRequest goes to the server over the socket too
    c.autocommit = True
    errs = []

    def sleeper():
        try:
            one(c, "SELECT pg_sleep(60)")
        except psycopg2.Error as e:
            errs.append(e)

    t = threading.Thread(target=sleeper)
    t.start()
    wait_until(lambda: cluster.primary.sql("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' "
                                           "AND state = 'active'")[0][0] == 1, timeout=20, what="pg_sleep running")
    c.cancel()
    t.join(30)
    assert not t.is_alive() and len(errs) == 1 and isinstance(errs[0], psycopg2.errors.QueryCanceled), errs
    assert one(c, "SELECT 5") == (5,)
    c.close()
    r = subprocess.run(["pgbench", "-h", HOST, "-p", str(p.port), "-U", H.APP_USER, "-n", "-M", "extended",
                        "-c", "4", "-t", "50", "-f", "-", "appdb"], input="SELECT 1;\n", capture_output=True, text=True,
                       env={"PGPASSWORD": H.APP_PASSWORD, "PATH": "/usr/bin:/bin"}, timeout=60)
    assert r.returncode == 0 and "number of transactions actually processed: 200/200" in r.stdout, r.stdout + r.stderr
    # no server behind the socket path: the client gets the connect error, the proxy stays up
    q = proxy(replicas=False, primary=f"{workdir}:1", extra=["--server-connect-timeout", "2s"])
    with pytest.raises(psycopg2.OperationalError, match="could not connect to server"):
        connect(q.port)
    assert one(connect(p.port), "SELECT 1") == (1,)


def test_unix_socket_path_too_long_is_refused(cluster, workdir):
    long_dir = "/" + "d" * 120
    r = subprocess.run([str(scaleout_bin()), "pg", "--listen", f"{HOST}:{free_port()}",
                        "--admin-port", str(free_port()), "--primary", f"{long_dir}:5432", "--auth-type", "trust"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "/socket-dir:port" in r.stdout + r.stderr
