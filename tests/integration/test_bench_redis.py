"""
test_bench_redis.py — `scaleout bench redis://...` against Debian's
redis-server on 127.0.0.1 (counts checked against INFO commandstats, keys
against DBSIZE), and once against `scaleout kv`.
"""
import signal
import subprocess
import time

import pytest

from bench_helpers import (HOST, RedisServer, accounted, find_tool, finish_bench, free_port, run_bench,
                           scaleout_bin, start_bench, wait_until)

pytestmark = pytest.mark.skipif(not scaleout_bin().exists(), reason="scaleout binary not built")


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    if not find_tool("redis-server"):  # a missing peer fails: scripts/install-deps.sh installs it
        pytest.fail("redis-server not installed (scripts/install-deps.sh installs it)")
    s = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield s
    s.stop()


@pytest.fixture
def fresh(redis):
    redis.cmd("FLUSHALL")
    redis.cmd("CONFIG", "RESETSTAT")
    return redis


def url(server):
    return f"redis://{HOST}:{server.port}"


def calls(server, cmd):
    v = server.info("commandstats").get(f"cmdstat_{cmd}")
    if not v:
        return 0
    return int(dict(kv.split("=") for kv in v.split(","))["calls"])


def test_request_count_matches_commandstats(fresh, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(fresh), "-c", 10, "-P", 8, "-n", 20000, "--ratio", "3:1",
                                  "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["protocol"] == "resp"
    assert s["requests"] == 20000 and s["sent"] == 20000 and s["errors"]["total"] == 0
    gets, sets = calls(fresh, "get"), calls(fresh, "set")
    assert gets + sets == 20000, (gets, sets)
    assert abs(gets / 20000 - 0.75) < 0.03, gets


def test_keyspace_and_value_size(fresh, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(fresh), "-c", 4, "-n", 5000, "--ratio", "0:1", "--keys", 300,
                                  "--value-size", 100, "--key-prefix", "bk:", "--progress", "off")
    assert rc == 0, err
    assert calls(fresh, "set") == 5000 and calls(fresh, "get") == 0
    assert fresh.dbsize() == 300  # 5000 uniform draws over 300 keys hit them all
    assert fresh.cmd("STRLEN", "bk:000000000000") == 100
    assert fresh.cmd("EXISTS", "bk:000000000299") == 1
    assert fresh.cmd("EXISTS", "bk:000000000300") == 0


def test_zipf_concentrates_on_few_keys(fresh, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(fresh), "-c", 4, "-n", 3000, "--ratio", "0:1", "--keys", 10000,
                                  "--dist", "zipf:1.2", "--progress", "off")
    assert rc == 0, err
    # uniform draws would touch about 2,600 keys; Zipf 1.2 a few hundred
    assert fresh.dbsize() < 1200, fresh.dbsize()
    assert fresh.cmd("EXISTS", "key:000000000000") == 1


def test_resp_errors_are_counted(tmp_path):
    s = RedisServer(tmp_path / "auth", extra=["--requirepass", "secret"]).start()
    try:
        rc, out, err, rep = run_bench(tmp_path, url(s), "-c", 2, "-n", 500, "--progress", "off")
    finally:
        s.stop()
    st = rep["steps"][0]
    assert st["requests"] == 500
    assert st["errors"]["resp"] == 500, st["errors"]
    assert "NOAUTH" in st["first_error"]
    assert "resp 500" in out


def test_server_dies_mid_run(tmp_path):
    s = RedisServer(tmp_path / "dies").start()
    try:
        proc, out = start_bench(tmp_path, url(s), "-c", 4, "-d", "2500ms", "--progress", "off")
        wait_until(lambda: calls(s, "get") + calls(s, "set") >= 2000, timeout=10, what="the bench to be under way")
        s.proc.send_signal(signal.SIGKILL)
        s.proc.wait(5)
        rc, stdout, stderr, rep = finish_bench(proc, out)
    finally:
        s.stop()
    assert rc == 0, stderr
    st = rep["steps"][0]
    assert st["requests"] >= 2000
    assert st["errors"]["connect"] > 0, st["errors"]
    assert accounted(st), st
    # errors are spread over the timeline after the death
    assert sum(p["errors"] for p in st["timeline"]) == st["errors"]["total"]


def test_open_loop_rate_and_pipeline(fresh, tmp_path):
    rc, out, err, rep = run_bench(tmp_path, url(fresh), "-c", 4, "--rate", 5000, "-d", "2s", "-P", 4,
                                  "--progress", "off")
    assert rc == 0, err
    s = rep["steps"][0]
    assert abs(s["sent"] / s["elapsed_s"] - 5000) <= 100, s
    assert calls(fresh, "get") + calls(fresh, "set") == s["sent"]


def test_against_scaleout_kv(tmp_path):
    port = free_port()
    kv = subprocess.Popen([str(scaleout_bin()), "kv", "--port", str(port), "--bind", HOST, "--admin-port", "0"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        def up():
            import socket
            try:
                with socket.create_connection((HOST, port), timeout=0.5) as c:
                    c.sendall(b"PING\r\n")
                    return c.recv(16).startswith(b"+PONG")
            except OSError:
                return False
        wait_until(up, timeout=10, what="scaleout kv to answer PING")
        rc, out, err, rep = run_bench(tmp_path, f"redis://{HOST}:{port}", "-c", 8, "-P", 4, "-n", 10000,
                                      "--progress", "off")
    finally:
        kv.send_signal(signal.SIGTERM)
        try:
            kv.wait(5)
        except subprocess.TimeoutExpired:
            kv.kill()
            kv.wait(5)
    assert rc == 0, err
    s = rep["steps"][0]
    assert s["requests"] == 10000 and s["errors"]["total"] == 0
