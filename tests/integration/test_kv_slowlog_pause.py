"""
SLOWLOG GET/LEN/RESET/HELP with slowlog-log-slower-than and slowlog-max-len
(arguments cut at 32 and strings at 128 bytes as Redis, client address and
name), and CLIENT PAUSE [WRITE|ALL] / UNPAUSE / NO-EVICT. Same assertions
against scaleout and redis-server.
"""
from conftest import wait_until

COUNT_ERR = "ERR count should be greater than or equal to -1"


def slowlog_on(c, max_len=128):
    assert c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "0") == "OK"
    assert c.cmd("CONFIG", "SET", "slowlog-max-len", str(max_len)) == "OK"
    assert c.cmd("SLOWLOG", "RESET") == "OK"


def slowlog_off(c):
    c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    c.cmd("CONFIG", "SET", "slowlog-max-len", "128")
    c.cmd("SLOWLOG", "RESET")


def test_slowlog_entries(server):
    c = server.conn()
    try:
        slowlog_on(c)
        c.cmd("CLIENT", "SETNAME", "logger")
        c.cmd("SET", "k", "v")
        entries = c.cmd("SLOWLOG", "GET", "-1")
        # newest first; SLOWLOG RESET itself ran after the log was emptied
        assert [e[3] for e in entries] == [[b"SET", b"k", b"v"], [b"CLIENT", b"SETNAME", b"logger"],
                                           [b"SLOWLOG", b"RESET"]]
        newest = entries[0]
        assert len(newest) == 6
        assert newest[0] > entries[1][0] > entries[2][0]          # ids grow
        assert isinstance(newest[1], int) and newest[1] > 1_600_000_000   # unix time
        assert isinstance(newest[2], int) and newest[2] >= 0      # microseconds
        laddr = c.sock.getsockname()
        assert newest[4] == f"{laddr[0]}:{laddr[1]}".encode()
        assert newest[5] == b"logger"
        assert entries[2][5] == b""                                # no name yet then
        assert c.cmd("SLOWLOG", "LEN") == 4                        # + the GET above
        assert len(c.cmd("SLOWLOG", "GET")) == 5                   # default 10
        assert len(c.cmd("SLOWLOG", "GET", "2")) == 2
        assert c.cmd("SLOWLOG", "GET", "0") == []
    finally:
        slowlog_off(c)


def test_slowlog_truncation(server):
    c = server.conn()
    try:
        slowlog_on(c)
        c.cmd("DEL", *[f"k{i}" for i in range(40)])
        c.cmd("SET", "long", "x" * 300)
        entries = c.cmd("SLOWLOG", "GET", "3")
        by_cmd = {e[3][0]: e[3] for e in entries}
        dele = by_cmd[b"DEL"]
        assert len(dele) == 32
        assert dele[:31] == [b"DEL"] + [f"k{i}".encode() for i in range(30)]
        assert dele[31] == b"... (10 more arguments)"
        assert by_cmd[b"SET"] == [b"SET", b"long", b"x" * 128 + b"... (172 more bytes)"]
        # exactly 32 arguments, or 128 bytes: kept whole
        c.cmd("DEL", *[f"k{i}" for i in range(31)])
        c.cmd("SET", "edge", "y" * 128)
        entries = c.cmd("SLOWLOG", "GET", "2")
        assert entries[0][3] == [b"SET", b"edge", b"y" * 128]
        assert len(entries[1][3]) == 32 and entries[1][3][31] == b"k30"
    finally:
        slowlog_off(c)


def test_slowlog_settings_and_errors(server):
    c = server.conn()
    try:
        slowlog_on(c, max_len=3)
        for i in range(10):
            c.cmd("SET", f"k{i}", "v")
        assert [e[3][1] for e in c.cmd("SLOWLOG", "GET")] == [b"k9", b"k8", b"k7"]
        assert c.cmd("SLOWLOG", "LEN") == 3
        # max-len 0 and a negative threshold both turn logging off
        c.cmd("CONFIG", "SET", "slowlog-max-len", "0")
        c.cmd("SLOWLOG", "RESET")
        c.cmd("SET", "a", "1")
        c.cmd("CONFIG", "SET", "slowlog-max-len", "10")
        c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "-1")
        c.cmd("SET", "b", "1")
        # only the CONFIG SET that raised max-len again (it ran while logging was on)
        assert [e[3] for e in c.cmd("SLOWLOG", "GET")] == [[b"CONFIG", b"SET", b"slowlog-max-len", b"10"]]
        c.cmd("SLOWLOG", "RESET")
        # a high threshold: fast commands are not logged
        c.cmd("CONFIG", "SET", "slowlog-log-slower-than", "1000000000")
        c.cmd("SET", "c", "1")
        assert c.cmd("SLOWLOG", "LEN") == 0
        assert c.cmd("CONFIG", "GET", "slowlog-log-slower-than") == [b"slowlog-log-slower-than", b"1000000000"]
        assert c.err("CONFIG", "SET", "slowlog-log-slower-than", "-2").startswith("ERR CONFIG SET failed")
        assert c.err("CONFIG", "SET", "slowlog-max-len", "-1").startswith("ERR CONFIG SET failed")
        assert c.err("SLOWLOG", "GET", "x") == COUNT_ERR
        assert c.err("SLOWLOG", "GET", "-2") == COUNT_ERR
        assert c.err("SLOWLOG", "GET", "1", "2") == \
            "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."
        assert c.err("SLOWLOG", "LEN", "1") == "ERR wrong number of arguments for 'slowlog|len' command"
        assert c.err("SLOWLOG", "RESET", "1") == "ERR wrong number of arguments for 'slowlog|reset' command"
        assert c.err("SLOWLOG", "FOO") == "ERR unknown subcommand 'FOO'. Try SLOWLOG HELP."
        assert c.err("SLOWLOG") == "ERR wrong number of arguments for 'slowlog' command"
        help_ = c.cmd("SLOWLOG", "HELP")
        assert help_[0].startswith("SLOWLOG <subcommand>") and "RESET" in help_
    finally:
        slowlog_off(c)


def test_slowlog_skips_exec_and_redacts_passwords(server):
    c = server.conn()
    try:
        slowlog_on(c)
        c.pipeline([("MULTI",), ("SET", "m", "1"), ("EXEC",)])
        names = [e[3][0].upper() for e in c.cmd("SLOWLOG", "GET", "-1")]
        assert b"EXEC" not in names
        assert b"SET" in names and b"MULTI" in names
        c.cmd("SLOWLOG", "RESET")
        assert c.err("AUTH", "user", "secret").startswith("WRONGPASS")
        assert c.err("HELLO", "2", "AUTH", "user", "secret").startswith("WRONGPASS")
        logged = [e[3] for e in c.cmd("SLOWLOG", "GET", "2")]
        assert logged == [[b"HELLO", b"2", b"AUTH", b"(redacted)", b"(redacted)"],
                          [b"AUTH", b"(redacted)", b"(redacted)"]]
    finally:
        slowlog_off(c)


# ---------------------------------------------------------------- CLIENT PAUSE

def test_pause_write_holds_writes_only(server):
    admin, writer, reader = server.conn(), server.conn(), server.conn()
    try:
        assert admin.cmd("CLIENT", "PAUSE", "100000", "WRITE") == "OK"
        writer.send_cmd("SET", "k", "v")
        # reads go on, and see that the held write has not run
        assert reader.cmd("GET", "k") is None
        assert reader.pipeline([("MULTI",), ("GET", "k"), ("EXEC",)])[-1] == [None]
        assert reader.cmd("PING") == "PONG"
        assert admin.cmd("CLIENT", "UNPAUSE") == "OK"
        assert writer.read() == "OK"
        assert reader.cmd("GET", "k") == b"v"
    finally:
        admin.cmd("CLIENT", "UNPAUSE")


def test_pause_write_holds_exec_with_writes(server):
    admin, writer, reader = server.conn(), server.conn(), server.conn()
    try:
        assert admin.cmd("CLIENT", "PAUSE", "100000", "WRITE") == "OK"
        # a write queued in MULTI waits already (Redis 7.0), reads queue
        assert writer.pipeline([("MULTI",), ("GET", "x")]) == ["OK", "QUEUED"]
        writer.send_cmd("SET", "x", "1")
        writer.send_cmd("EXEC")
        assert reader.cmd("EXISTS", "x") == 0
        admin.cmd("CLIENT", "UNPAUSE")
        assert writer.read() == "QUEUED"
        assert writer.read() == [None, "OK"]
        # an EXEC whose queue writes waits too
        assert writer.pipeline([("MULTI",), ("GET", "x")]) == ["OK", "QUEUED"]
        admin.cmd("CLIENT", "UNPAUSE")
        admin.cmd("MULTI")
        admin.cmd("SET", "y", "2")
        assert admin.cmd("CLIENT", "PAUSE", "100000", "WRITE") == "QUEUED"
        assert admin.cmd("EXEC") == ["OK", "OK"]       # the pause begins inside the EXEC
        assert writer.cmd("EXEC") == [b"1"]             # reads only: runs
    finally:
        admin.cmd("CLIENT", "UNPAUSE")


def test_pause_all_ends_at_its_deadline(server):
    admin, other = server.conn(), server.conn()
    t0 = admin.cmd("TIME")
    start_us = int(t0[0]) * 1_000_000 + int(t0[1])
    assert admin.cmd("CLIENT", "PAUSE", "300", "ALL") == "OK"
    other.send_cmd("SET", "k", "v")
    other.send_cmd("TIME")
    assert other.read() == "OK"          # waits for the deadline, then runs
    t1 = other.read()
    elapsed_us = int(t1[0]) * 1_000_000 + int(t1[1]) - start_us
    assert elapsed_us >= 300_000, f"a command ran {elapsed_us} us into a 300 ms pause"
    assert admin.cmd("GET", "k") == b"v"


def test_pause_errors(c):
    assert c.err("CLIENT", "PAUSE", "x") == "ERR timeout is not an integer or out of range"
    assert c.err("CLIENT", "PAUSE", "-1") == "ERR timeout is negative"
    assert c.err("CLIENT", "PAUSE", "10", "foo") == "ERR CLIENT PAUSE mode must be WRITE or ALL"
    assert c.err("CLIENT", "PAUSE", "x", "foo") == "ERR CLIENT PAUSE mode must be WRITE or ALL"
    assert c.err("CLIENT", "PAUSE", "10", "all", "x") == \
        "ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP."
    assert c.err("CLIENT", "PAUSE") == "ERR wrong number of arguments for 'client|pause' command"
    assert c.err("CLIENT", "UNPAUSE", "x") == "ERR wrong number of arguments for 'client|unpause' command"
    # a deadline past the end of time wraps and ends the pause at once (as Redis)
    assert c.cmd("CLIENT", "PAUSE", "9223372036854775807") == "OK"
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("CLIENT", "PAUSE", "0", "WRITE") == "OK"
    assert c.cmd("SET", "k", "v") == "OK"
    assert c.cmd("CLIENT", "UNPAUSE") == "OK"


def test_no_evict(c):
    cid = c.cmd("CLIENT", "ID")

    def flags():
        line = c.cmd("CLIENT", "LIST", "ID", str(cid)).decode()
        return dict(f.split("=", 1) for f in line.split() if "=" in f)["flags"]

    assert "e" not in flags()
    assert c.cmd("CLIENT", "NO-EVICT", "on") == "OK"
    assert "e" in flags()
    assert c.cmd("CLIENT", "NO-EVICT", "OFF") == "OK"
    assert "e" not in flags()
    assert c.err("CLIENT", "NO-EVICT", "maybe") == "ERR syntax error"
    assert c.err("CLIENT", "NO-EVICT") == "ERR wrong number of arguments for 'client|no-evict' command"
    assert c.err("CLIENT", "NO-EVICT", "on", "off") == "ERR wrong number of arguments for 'client|no-evict' command"
