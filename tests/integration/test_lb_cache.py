"""
scaleout lb edge cache (docs/lb.md, "Edge cache") against an origin that
counts its requests (cache_origin.py): every freshness rule, revalidation
304s counted at the origin, stale-while-revalidate, stale-if-error with the
origin killed, 100 concurrent misses -> exactly 1 origin request, purge by
URL and prefix, LRU eviction under the memory limit, Vary, Set-Cookie not
stored, HEAD and Range from the cache, the Age header growing, metrics.

Each test uses its own URLs (id=...), so one lb and one origin serve the
module; tests that kill the origin or need other settings start their own.
"""
import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from email.utils import formatdate

import pytest

from lb_helpers import HOST, HERE, Client, Lb, free_port, raw, wait_until  # noqa: F401
from lb_helpers import _skip_without_binary  # noqa: F401

TOKEN = "purge-token"


class Origin:
    def __init__(self):
        self.port = None
        self.proc = None

    def start(self):
        for _ in range(3):
            self.port = free_port()
            self.proc = subprocess.Popen([sys.executable, str(HERE / "cache_origin.py"), "--port", str(self.port)],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            ok = wait_until(lambda: self._up(), timeout=10)
            if ok:
                return self
            self.stop()
        raise AssertionError("origin did not start")

    def _up(self):
        if self.proc.poll() is not None:
            return True
        try:
            self.ctl("/_ctl/total")
            return True
        except OSError:
            return False

    def ctl(self, path):
        c = Client(self.port, timeout=5)
        try:
            st, _, body = c.get(path)
            assert st == 200
            return json.loads(body)
        finally:
            c.close()

    def count(self, ident):
        return self.ctl("/_ctl/count?key=" + urllib.parse.quote(ident))

    def last(self, ident):
        return self.ctl("/_ctl/last?key=" + urllib.parse.quote(ident))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def url(ident, *fields, path="/c", **params):
    q = [("id", ident)] + [("h", f) for f in fields] + [(k, str(v)) for k, v in params.items()]
    return path + "?" + urllib.parse.urlencode(q)


def start_lb(tmp, origin, *flags):
    x = Lb(tmp, "--backend", f"{HOST}:{origin.port}", "--admin-token", TOKEN, *flags)
    return x.start()


def stop_lb(x):
    """SIGTERM; the lb must exit 0 with no sanitizer report (make asan)."""
    rc = x.stop()
    log = x.log_tail(200000)
    assert rc == 0 and "runtime error" not in log and "Sanitizer" not in log, log[-4000:]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    o = Origin().start()
    x = start_lb(tmp_path_factory.mktemp("lbcache"), o, "--cache", "16mb", "--cache-ttl", "text/", "60",
                 "--timeout-server", "5s")
    yield x, o
    o.stop()
    stop_lb(x)


def get(port, path, headers=None, method="GET"):
    c = Client(port)
    try:
        return c.request(method, path, headers=headers)
    finally:
        c.close()


def xc(h):
    return h.get("x-cache")


# ---- freshness rules, case by case --------------------------------------------

def test_max_age_hit_then_expiry_refetch(env):
    x, o = env
    u = url("maxage", "Cache-Control:max-age=1")
    st, h, b1 = get(x.port, u)
    assert st == 200 and xc(h) == "MISS"
    st, h, b2 = get(x.port, u)
    assert st == 200 and xc(h) == "HIT" and b2 == b1 and "age" in h
    assert o.count("maxage")["count"] == 1
    # once past max-age the object is stale and fetched again (no validator: a full GET)
    assert wait_until(lambda: xc(get(x.port, u)[1]) == "MISS", timeout=5)
    assert o.count("maxage")["count"] == 2


def test_s_maxage_wins_over_max_age(env):
    x, o = env
    u = url("smaxage", "Cache-Control:max-age=0, s-maxage=60")
    get(x.port, u)
    st, h, _ = get(x.port, u)
    assert xc(h) == "HIT"
    assert o.count("smaxage")["count"] == 1


@pytest.mark.parametrize("ident,fields,extra", [
    ("nostore", ["Cache-Control:no-store, max-age=60"], {}),
    ("private", ["Cache-Control:private, max-age=60"], {}),
    ("setcookie", ["Cache-Control:max-age=60", "Set-Cookie:sid=secret"], {}),
    ("varystar", ["Cache-Control:max-age=60", "Vary:*"], {}),
    ("status500", ["Cache-Control:max-age=60"], {"status": 500}),
    ("status302", ["Cache-Control:max-age=60", "Location:/x"], {"status": 302}),
    ("nofresh", ["Content-Type:application/octet-stream"], {}),
    ("expired", ["Expires:Thu, 01 Jan 1970 00:00:00 GMT"], {}),
    ("badexpires", ["Expires:0"], {}),
    ("maxage0", ["Cache-Control:max-age=0"], {}),
    ("nocache-noval", ["Cache-Control:no-cache, max-age=60"], {}),
])
def test_not_stored(env, ident, fields, extra):
    x, o = env
    u = url(ident, *fields, **extra)
    for _ in range(2):
        st, h, _ = get(x.port, u)
        assert xc(h) == "MISS"
    assert o.count(ident)["count"] == 2


def test_set_cookie_never_served_to_another_client(env):
    x, o = env
    u = url("cookie2", "Cache-Control:public, max-age=60", "Set-Cookie:sid=alice")
    get(x.port, u)
    st, h, _ = get(x.port, u)
    assert "set-cookie" in h and h["set-cookie"] == "sid=alice"  # from the origin again, not the cache
    assert o.count("cookie2")["count"] == 2


def test_set_cookie_stored_when_configured_without_the_cookie(tmp_path):
    o = Origin().start()
    try:
        x = start_lb(tmp_path, o, "--cache", "1mb", "--cache-set-cookie", "yes")
        u = url("cookie3", "Cache-Control:max-age=60", "Set-Cookie:sid=alice")
        st, h, _ = get(x.port, u)
        assert h.get("set-cookie") == "sid=alice" and xc(h) == "MISS"
        st, h, _ = get(x.port, u)
        assert xc(h) == "HIT" and "set-cookie" not in h
        assert o.count("cookie3")["count"] == 1
        stop_lb(x)
    finally:
        o.stop()


def test_expires_relative_to_date(env):
    x, o = env
    now = time.time()
    u = url("expires", "Date:" + formatdate(now, usegmt=True), "Expires:" + formatdate(now + 120, usegmt=True))
    get(x.port, u)
    st, h, _ = get(x.port, u)
    assert xc(h) == "HIT"
    assert o.count("expires")["count"] == 1


def test_default_ttl_per_content_type(env):
    x, o = env
    u = url("ttltext", "Content-Type:text/plain; charset=utf-8")
    get(x.port, u)
    assert xc(get(x.port, u)[1]) == "HIT"  # cache-ttl text/ 60
    u2 = url("ttlimage", "Content-Type:image/png")
    get(x.port, u2)
    assert xc(get(x.port, u2)[1]) == "MISS"  # no rule for image/
    assert o.count("ttlimage")["count"] == 2


def test_explicit_freshness_beats_default_ttl(env):
    x, o = env
    u = url("ttlexplicit", "Content-Type:text/plain", "Cache-Control:max-age=0")
    get(x.port, u)
    assert xc(get(x.port, u)[1]) == "MISS"
    assert o.count("ttlexplicit")["count"] == 2


def test_request_no_cache_is_ignored_like_nginx(env):
    x, o = env
    u = url("reqnocache", "Cache-Control:max-age=60")
    get(x.port, u)
    for hv in ("no-cache", "max-age=0"):
        st, h, _ = get(x.port, u, headers={"Cache-Control": hv, "Pragma": "no-cache"})
        assert xc(h) == "HIT"
    assert o.count("reqnocache")["count"] == 1


def test_authorization_requests(env):
    x, o = env
    u = url("auth", "Cache-Control:max-age=60")
    get(x.port, u, headers={"Authorization": "Bearer a"})
    get(x.port, u, headers={"Authorization": "Bearer a"})
    assert o.count("auth")["count"] == 2  # not stored: the origin did not say it may be shared
    u = url("authpublic", "Cache-Control:public, max-age=60")
    get(x.port, u, headers={"Authorization": "Bearer a"})
    assert xc(get(x.port, u)[1]) == "HIT"
    assert o.count("authpublic")["count"] == 1


# ---- revalidation -----------------------------------------------------------------

def test_no_cache_revalidates_every_use_with_etag(env):
    x, o = env
    u = url("nocache", "Cache-Control:no-cache", 'ETag:"e1"')
    st, h, b1 = get(x.port, u)
    assert xc(h) == "MISS"
    for i in range(2):
        st, h, b = get(x.port, u)
        assert st == 200 and xc(h) == "REVALIDATED" and b == b1
    c = o.count("nocache")
    assert c == {"count": 3, "conditional": 2, "304": 2}
    assert o.last("nocache").get("If-None-Match") == '"e1"'


def test_stale_revalidated_with_last_modified(env):
    x, o = env
    u = url("lastmod", "Cache-Control:max-age=1", "Last-Modified:Mon, 02 Jan 2023 03:04:05 GMT")
    _, _, b1 = get(x.port, u)
    assert wait_until(lambda: xc(get(x.port, u)[1]) == "REVALIDATED", timeout=5)
    c = o.count("lastmod")
    assert c["304"] >= 1 and c["conditional"] == c["304"]
    assert o.last("lastmod").get("If-Modified-Since") == "Mon, 02 Jan 2023 03:04:05 GMT"
    # refreshed: fresh again for a second
    st, h, b = get(x.port, u)
    assert b == b1 and xc(h) in ("HIT", "REVALIDATED")


def test_changed_object_replaced_on_revalidation(env):
    x, o = env
    u = url("changed", "Cache-Control:max-age=1", 'ETag:"v{n}"')
    _, _, b1 = get(x.port, u)
    assert wait_until(lambda: get(x.port, u)[2] != b1, timeout=5)  # new ETag: a full 200, stored
    _, h, b2 = get(x.port, u)
    assert xc(h) == "HIT" and b2 != b1


def test_client_conditionals_answered_304_from_cache(env):
    x, o = env
    u = url("clientcond", "Cache-Control:max-age=60", 'ETag:"abc"', "Last-Modified:Mon, 02 Jan 2023 03:04:05 GMT")
    get(x.port, u)
    st, h, b = get(x.port, u, headers={"If-None-Match": 'W/"zzz", "abc"'})
    assert st == 304 and b == b"" and xc(h) == "HIT" and h.get("etag") == '"abc"'
    st, h, b = get(x.port, u, headers={"If-None-Match": '"other"'})
    assert st == 200 and b
    st, h, b = get(x.port, u, headers={"If-Modified-Since": "Tue, 03 Jan 2023 00:00:00 GMT"})
    assert st == 304
    st, h, b = get(x.port, u, headers={"If-Modified-Since": "Sun, 01 Jan 2023 00:00:00 GMT"})
    assert st == 200
    assert o.count("clientcond")["count"] == 1


def test_must_revalidate_never_serves_stale(env):
    x, o = env
    u = url("mustreval", "Cache-Control:max-age=1, must-revalidate, stale-while-revalidate=60", 'ETag:"m"')
    get(x.port, u)
    assert wait_until(lambda: xc(get(x.port, u)[1]) != "HIT", timeout=5)
    st, h, _ = get(x.port, u)
    assert xc(h) in ("HIT", "REVALIDATED")
    assert o.count("mustreval")["304"] >= 1


# ---- stale-while-revalidate, stale-if-error -----------------------------------

def test_stale_while_revalidate(env):
    x, o = env
    u = url("swr", "Cache-Control:max-age=1, stale-while-revalidate=60")
    c = Client(x.port)
    _, _, b1 = c.get(u)
    assert wait_until(lambda: xc(c.get(u)[1]) == "STALE", timeout=5)
    # the refresh ran in the background (on that keep-alive connection)
    assert wait_until(lambda: o.count("swr")["count"] == 2, timeout=5)
    st, h, b = c.get(u)
    assert xc(h) == "HIT" and b != b1 and b.endswith(b"#2")
    c.close()


def test_stale_if_error_origin_killed(tmp_path):
    o = Origin().start()
    x = start_lb(tmp_path, o, "--cache", "1mb", "--timeout-connect", "500ms", "--retries", "0",
                 "--passive-fails", "0")
    try:
        u = url("sie", "Cache-Control:max-age=1, stale-if-error=60")
        _, _, b1 = get(x.port, u)
        u2 = url("nosie", "Cache-Control:max-age=1")
        get(x.port, u2)
        o.stop()
        time.sleep(0)  # the origin is gone; wait for the objects to go stale by polling:
        assert wait_until(lambda: get(x.port, u)[1].get("x-cache") == "STALE", timeout=5)
        st, h, b = get(x.port, u)
        assert st == 200 and b == b1 and xc(h) == "STALE"
        st, h, b = get(x.port, u2)
        assert st in (502, 503)  # no stale-if-error: the error
        # many at once: one tries the origin, the others wait and get the stale object too
        out, errs = _burst(x.port, u, 30)
        assert not errs and len(out) == 30
        assert all(st == 200 and b == b1 and xc(h) == "STALE" for st, h, b in out)
        out, errs = _burst(x.port, u2, 30)
        assert not errs and all(st in (502, 503) for st, _, _ in out)
    finally:
        o.stop()
        stop_lb(x)


def test_stale_if_error_on_5xx(env):
    x, o = env
    u = url("sie5xx", "Cache-Control:max-age=1, stale-if-error=60", fail_after=1)
    _, _, b1 = get(x.port, u)
    assert wait_until(lambda: xc(get(x.port, u)[1]) == "STALE", timeout=5)
    st, h, b = get(x.port, u)
    assert st == 200 and b == b1
    assert o.count("sie5xx")["count"] >= 2  # the origin was asked and answered 503


# ---- coalescing -----------------------------------------------------------------

def _burst(port, u, n):
    out, errs = [], []
    lock = threading.Lock()
    go = threading.Barrier(n)

    def one():
        try:
            go.wait(10)
            r = get(port, u)
            with lock:
                out.append(r)
        except Exception as e:  # noqa: BLE001
            with lock:
                errs.append(repr(e))

    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    return out, errs


def test_100_concurrent_misses_one_origin_request(env):
    x, o = env
    u = url("coalesce", "Cache-Control:max-age=60", delay=700)
    out, errs = _burst(x.port, u, 100)
    assert not errs and len(out) == 100
    assert all(st == 200 for st, _, _ in out)
    assert len({b for _, _, b in out}) == 1
    assert o.count("coalesce")["count"] == 1


def test_coalescing_across_threads(tmp_path):
    o = Origin().start()
    x = start_lb(tmp_path, o, "--cache", "1mb", "--threads", "2")
    try:
        for i in range(3):
            u = url(f"coalesce-t2-{i}", "Cache-Control:max-age=60", delay=500)
            out, errs = _burst(x.port, u, 60)
            assert not errs and len(out) == 60 and all(st == 200 for st, _, _ in out)
            assert len({b for _, _, b in out}) == 1
            assert o.count(f"coalesce-t2-{i}")["count"] == 1
    finally:
        o.stop()
        stop_lb(x)


def test_coalescing_race_many_urls(tmp_path):
    """Many URLs, each asked by 16 connections at once over 4 threads: every
    URL reaches the origin once. The first misses on two threads used to
    find no fill and both fetch (a find, then a separate start), and a miss
    during a fill's end could find neither fill nor object: before the fix,
    2 to 9 of these 1,200 URLs were fetched twice in each of five runs."""
    o = Origin().start()
    x = start_lb(tmp_path, o, "--cache", "16mb", "--threads", "4")
    try:
        twice = []
        for i in range(1200):
            u = url(f"race-{i}", "Cache-Control:max-age=60")
            req = f"GET {u} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
            ss = [socket.create_connection((HOST, x.port), timeout=10) for _ in range(16)]
            for s in ss:
                s.sendall(req)
            for s in ss:
                d = b""
                while b"\r\n\r\n" not in d:
                    chunk = s.recv(65536)
                    assert chunk, "closed before an answer"
                    d += chunk
                assert d.startswith(b"HTTP/1.1 200"), d[:200]
                s.close()
            if o.count(f"race-{i}")["count"] != 1:
                twice.append(i)
        assert not twice, f"fetched more than once: {twice}"
    finally:
        o.stop()
        stop_lb(x)


def test_uncacheable_fetch_releases_waiters_to_origin(env):
    x, o = env
    u = url("coalesce-nostore", "Cache-Control:no-store", delay=300)
    out, errs = _burst(x.port, u, 10)
    assert not errs and len(out) == 10 and all(st == 200 for st, _, _ in out)
    assert o.count("coalesce-nostore")["count"] == 10
    # the URL is now marked uncacheable (hit-for-miss): the next ones do not
    # wait for each other at all, and still all reach the origin
    out, errs = _burst(x.port, u, 10)
    assert not errs and all(st == 200 and xc(h) == "MISS" for st, h, _ in out)
    assert o.count("coalesce-nostore")["count"] == 20


def test_uncacheable_marker_replaced_once_cacheable(env):
    x, o = env
    u = url("hfm", "Cache-Control:max-age=60", nostore_until=1)
    assert xc(get(x.port, u)[1]) == "MISS"  # no-store: a marker is left
    assert xc(get(x.port, u)[1]) == "MISS"  # marker: fetched, now cacheable: stored
    st, h, b = get(x.port, u)
    assert xc(h) == "HIT" and b.endswith(b"#2")
    assert o.count("hfm")["count"] == 2


# ---- purge ------------------------------------------------------------------------

def test_purge_by_url_and_prefix(env):
    x, o = env
    a = url("purge-a", "Cache-Control:max-age=60", path="/p/a")
    b = url("purge-b", "Cache-Control:max-age=60", path="/p/b")
    q = url("purge-q", "Cache-Control:max-age=60", path="/q")
    for u in (a, b, q):
        get(x.port, u)
        assert xc(get(x.port, u)[1]) == "HIT"
    # token-protected like every admin change
    st, _ = x.admin("POST", "/cache/purge?url=" + urllib.parse.quote(a, safe=""))
    assert st == 401
    st, body = x.admin("POST", "/cache/purge?url=" + urllib.parse.quote(a, safe=""), token=TOKEN)
    assert st == 200 and json.loads(body)["purged"] == 1
    assert xc(get(x.port, a)[1]) == "MISS"
    assert xc(get(x.port, b)[1]) == "HIT"
    st, body = x.admin("POST", "/cache/purge", token=TOKEN, body="prefix=/p/")
    assert st == 200 and json.loads(body)["purged"] == 2
    assert xc(get(x.port, a)[1]) == "MISS" and xc(get(x.port, b)[1]) == "MISS"
    assert xc(get(x.port, q)[1]) == "HIT"
    # a full URL names the host
    st, body = x.admin("POST", "/cache/purge?url=" + urllib.parse.quote(f"http://{HOST}:{x.port}{q}", safe=""),
                       token=TOKEN)
    assert st == 200 and json.loads(body)["purged"] == 1
    st, _ = x.admin("POST", "/cache/purge", token=TOKEN)
    assert st == 400


# ---- memory limit ------------------------------------------------------------------

def test_lru_eviction_under_memory_limit(tmp_path):
    o = Origin().start()
    x = start_lb(tmp_path, o, "--cache", "64kb")
    try:
        us = [url(f"lru{i}", "Cache-Control:max-age=60", size=10000) for i in range(10)]
        for u in us[:5]:
            get(x.port, u)
        assert xc(get(x.port, us[0])[1]) == "HIT"  # us[0] is now the most recently used
        for u in us[5:]:
            get(x.port, u)
        m = x.metrics()
        assert m["scaleout_lb_cache_evictions_total"] >= 4
        assert m["scaleout_lb_cache_bytes"] <= 64 * 1024
        assert xc(get(x.port, us[9])[1]) == "HIT"
        assert xc(get(x.port, us[0])[1]) == "HIT"  # kept: used recently
        assert xc(get(x.port, us[1])[1]) == "MISS"  # the least recently used went first
    finally:
        o.stop()
        stop_lb(x)


def test_large_object_streamed_not_stored(tmp_path):
    o = Origin().start()
    x = start_lb(tmp_path, o, "--cache", "1mb", "--cache-max-object", "8kb")
    try:
        for chunked in (0, 1):
            u = url(f"big{chunked}", "Cache-Control:max-age=60", size=50000, chunked=chunked)
            for _ in range(2):
                st, h, b = get(x.port, u)
                assert st == 200 and len(b) == 50000 and xc(h) == "MISS"
            assert o.count(f"big{chunked}")["count"] == 2
    finally:
        o.stop()
        stop_lb(x)


def test_chunked_response_stored_dechunked(env):
    x, o = env
    u = url("chunked", "Cache-Control:max-age=60", size=5000, chunked=1)
    st, h, b1 = get(x.port, u)
    assert h.get("transfer-encoding") == "chunked" and len(b1) == 5000
    st, h, b2 = get(x.port, u)
    assert xc(h) == "HIT" and h.get("content-length") == "5000" and b2 == b1
    # HTTP/1.0 client, keep-alive: framing by Content-Length
    r = raw(x.port, ("GET %s HTTP/1.0\r\nHost: %s:%d\r\nConnection: keep-alive\r\n\r\n" % (u, HOST, x.port)).encode())
    assert b"X-Cache: HIT" in r and b"Content-Length: 5000" in r and b"Connection: keep-alive" in r


# ---- Vary, HEAD, Range, Age --------------------------------------------------------

def test_vary_secondary_key(env):
    x, o = env
    u = url("vary", "Cache-Control:max-age=60", "Vary:Accept-Encoding")
    assert xc(get(x.port, u, {"Accept-Encoding": "gzip"})[1]) == "MISS"
    assert xc(get(x.port, u, {"Accept-Encoding": "gzip"})[1]) == "HIT"
    assert xc(get(x.port, u, {"Accept-Encoding": "br"})[1]) == "MISS"
    assert xc(get(x.port, u, {"Accept-Encoding": "br"})[1]) == "HIT"
    assert xc(get(x.port, u)[1]) == "MISS"  # absent is a value of its own
    assert xc(get(x.port, u)[1]) == "HIT"
    assert xc(get(x.port, u, {"Accept-Encoding": "gzip"})[1]) == "HIT"
    assert o.count("vary")["count"] == 3


def test_unkeyed_header_does_not_poison(env):
    x, o = env
    u = url("poison", "Cache-Control:max-age=60")
    get(x.port, u, {"X-Forwarded-Host": "evil.example"})
    st, h, b = get(x.port, u)
    assert xc(h) == "HIT" and b"evil" not in b
    # another Host is another key
    st, h, b = get(x.port, u, {"Host": "other.example"})
    assert xc(h) == "MISS"


def test_head_served_from_cached_get(env):
    x, o = env
    u = url("head", "Cache-Control:max-age=60", size=300)
    get(x.port, u)
    st, h, b = get(x.port, u, method="HEAD")
    assert st == 200 and xc(h) == "HIT" and h["content-length"] == "300" and b == b""
    assert o.count("head")["count"] == 1
    # a HEAD miss goes through and stores nothing
    u2 = url("head2", "Cache-Control:max-age=60", size=300)
    st, h, b = get(x.port, u2, method="HEAD")
    assert st == 200 and b == b"" and xc(h) == "MISS"
    st, h, b = get(x.port, u2)
    assert xc(h) == "MISS" and len(b) == 300


def test_range_from_cache(env):
    x, o = env
    u = url("range", "Cache-Control:max-age=60", 'ETag:"r"', size=1000)
    _, _, full = get(x.port, u)
    st, h, b = get(x.port, u, {"Range": "bytes=10-19"})
    assert st == 206 and b == full[10:20] and h["content-range"] == "bytes 10-19/1000" and xc(h) == "HIT"
    st, h, b = get(x.port, u, {"Range": "bytes=-5"})
    assert st == 206 and b == full[-5:]
    st, h, b = get(x.port, u, {"Range": "bytes=990-"})
    assert st == 206 and b == full[990:]
    st, h, b = get(x.port, u, {"Range": "bytes=5000-"})
    assert st == 416 and h["content-range"] == "bytes */1000"
    st, h, b = get(x.port, u, {"Range": "bytes=0-1,5-6"})
    assert st == 200 and b == full
    st, h, b = get(x.port, u, {"Range": "bytes=0-1", "If-Range": '"other"'})
    assert st == 200 and b == full
    # a Range miss fetches the whole object (Range not sent up) and stores it
    u2 = url("range2", "Cache-Control:max-age=60", size=1000)
    st, h, b = get(x.port, u2, {"Range": "bytes=0-9"})
    assert "Range" not in o.last("range2")
    st, h, b = get(x.port, u2, {"Range": "bytes=0-9"})
    assert st == 206 and len(b) == 10
    assert o.count("range")["count"] == 1 and o.count("range2")["count"] == 1


def test_age_grows(env):
    x, o = env
    u = url("age", "Cache-Control:max-age=60", "Age:5")
    get(x.port, u)
    st, h, _ = get(x.port, u)
    a0 = int(h["age"])
    assert a0 >= 5
    assert wait_until(lambda: int(get(x.port, u)[1]["age"]) > a0, timeout=5)


def test_metrics(env):
    x, o = env
    u = url("metrics", "Cache-Control:max-age=60")
    get(x.port, u)
    before = x.metrics()
    get(x.port, u)
    m = x.metrics()
    assert m["scaleout_lb_cache_hits_total"] == before["scaleout_lb_cache_hits_total"] + 1
    for k in ("misses_total", "stale_total", "evictions_total", "bytes", "objects", "hit_ratio"):
        assert "scaleout_lb_cache_" + k in m
    assert 0 < m["scaleout_lb_cache_hit_ratio"] <= 1 and m["scaleout_lb_cache_objects"] >= 1


def test_pool_without_caching(tmp_path):
    o = Origin().start()
    x = start_lb(tmp_path, o, "--cache", "1mb", "--caching", "no")
    try:
        u = url("off", "Cache-Control:max-age=60")
        for _ in range(2):
            st, h, _ = get(x.port, u)
            assert st == 200 and "x-cache" not in h
        assert o.count("off")["count"] == 2
    finally:
        o.stop()
        stop_lb(x)


def test_bad_cache_config_refused(tmp_path):
    for flags in (["--cache", "lots"], ["--cache-ttl", "text/"], ["--cache-ttl", "text/", "-1"]):
        r = subprocess.run([str(Lb(tmp_path).argv()[0]), "lb", "--listen", f"{HOST}:0", "--backend",
                            f"{HOST}:1", *flags], capture_output=True, timeout=10)
        assert r.returncode == 2, (flags, r.stderr)


def test_reload_turns_the_cache_on_and_off(tmp_path):
    o = Origin().start()
    conf = "admin-token " + TOKEN + "\ncache {size}\nbackend 127.0.0.1:{origin}\n"
    x = Lb(tmp_path, config=conf, fmt={"size": "0", "origin": o.port})
    x.start()
    try:
        u = url("reload", "Cache-Control:max-age=60")
        get(x.port, u)
        assert "x-cache" not in get(x.port, u)[1]
        x.fmt["size"] = "1mb"
        x.write_config()
        x.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: xc(get(x.port, u)[1]) == "HIT", timeout=10)
        assert x.metrics()["scaleout_lb_cache_max_bytes"] == 1024 * 1024
        x.fmt["size"] = "0"
        x.write_config()
        x.proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "x-cache" not in get(x.port, u)[1], timeout=10)
        assert "scaleout_lb_cache_hits_total" not in x.metrics()
    finally:
        o.stop()
        stop_lb(x)
