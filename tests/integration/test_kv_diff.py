"""
test_kv_diff.py — issue 7 item 4: the differential fuzzer (fuzz/kv_diff.py)
with a fixed seed, 20,000 random commands sent to scaleout kv and to
redis-server, replies compared. A difference prints the command history.
Longer runs: fuzz/kv_diff.py --duration SECONDS (see docs/kv.md).
"""
import importlib.util
from pathlib import Path

import pytest

from conftest import REDIS_SERVER, start_server

_spec = importlib.util.spec_from_file_location(
    "kv_diff", Path(__file__).resolve().parents[2] / "fuzz" / "kv_diff.py")
kv_diff = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kv_diff)


@pytest.mark.parametrize("seed", [1])
def test_kv_differential_fixed_seed(tmp_path, seed):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: the differential run needs it (scripts/install-deps.sh)")
    so = start_server("scaleout", tmp_path / "scaleout")
    rd = start_server("redis", tmp_path / "redis")
    try:
        f = kv_diff.Fuzzer(so.port, rd.port, seed, log=print)
        diff = f.run(count=20000)
        assert diff is None, f.report(diff)
        assert f.sent == 20000
        # the run reached every command of the table but the excluded ones
        assert set(f.per_cmd) == set(f.names), sorted(set(f.names) - set(f.per_cmd))
        assert so.alive() and rd.alive()
    finally:
        so.stop()
        rd.stop()
