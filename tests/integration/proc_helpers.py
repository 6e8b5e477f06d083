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


def wait_until(pred, timeout=5.0, interval=0.02, what="condition"):
    """Polls pred until it returns something true (returned), at most timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)
