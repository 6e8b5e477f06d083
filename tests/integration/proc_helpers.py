"""Small helpers shared by the lb and bench integration suites: where the
scaleout binary is, a free loopback port, and bounded polling."""
import os
import socket
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def scaleout_bin():
    p = Path(os.environ.get("SCALEOUT_BIN", "./scaleout"))
    if not p.is_absolute():
        p = REPO_ROOT / p
    return p


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _loading_error():
    """redis-py's LOADING error class, or None without redis-py."""
    try:
        import redis
    except ImportError:
        return None
    return redis.exceptions.BusyLoadingError


def wait_until(pred, timeout=5.0, interval=0.02, what="condition"):
    """Polls pred() until it returns a truthy value; returns that value.
    Fails (AssertionError) after `timeout` seconds; never waits longer.
    A server answering -LOADING (a replica taking a full sync, a restart
    loading its data) counts as "not yet", not as a failure: a replica
    polled while it syncs answers LOADING, as Redis does."""
    loading = _loading_error()
    deadline = time.monotonic() + timeout
    last = shown = None
    while True:
        try:
            last = shown = pred()
        except Exception as e:  # noqa: BLE001
            if loading is None or not isinstance(e, loading):
                raise
            last, shown = None, e
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {shown!r})")
        time.sleep(interval)
