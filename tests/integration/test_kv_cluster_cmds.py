"""
test_kv_cluster_cmds.py — the Redis Cluster commands on scaleout kv (which
is no cluster node: the router shards it) answer as a redis-server with
cluster-enabled no does, the error cluster-aware clients probe for; the same
commands on both servers, replies compared.
"""
import pytest
import redis

from conftest import REDIS_SERVER


@pytest.fixture
def launch(launch_in_dir):
    return launch_in_dir


def test_cluster_commands_like_redis_without_cluster(launch):
    assert REDIS_SERVER, "redis-server is required (scripts/install-deps.sh installs it)"
    cmds = [("CLUSTER", "INFO"), ("CLUSTER", "SLOTS"), ("CLUSTER", "NODES"), ("CLUSTER", "KEYSLOT", "a"),
            ("CLUSTER",), ("CLUSTER", "FOO"), ("CLUSTER", "KEYSLOT"), ("CLUSTER", "HELP"), ("READONLY",),
            ("READWRITE",), ("ASKING",), ("READONLY", "x")]
    seen = {}
    for kind in ("redis", "scaleout"):
        c = launch(kind, f"{kind}-cl").client()
        out = []
        for cmd in cmds:
            try:
                out.append(c.execute_command(*cmd))
            except redis.ResponseError as e:
                out.append("ERR: " + str(e))
        seen[kind] = out
    assert seen["scaleout"] == seen["redis"], seen
    assert seen["redis"][0] == "ERR: This instance has cluster support disabled"
