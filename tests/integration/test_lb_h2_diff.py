"""
scaleout lb: HTTP/2 streams and HTTP/1.1 requests, compared. The lb builds an
HTTP/2 stream's parsed request straight from its header list (src/lb/h2.c
lb_h2_req_build, proto/http1's http1_request_start/_field/_finish), not from
HTTP/1.1 text; these tests prove by difference that the two ways in agree:
each case below is sent once as HTTP/1.1 bytes on a raw socket and once as an
h2c stream (HPACK literals written here, so nothing is normalised on the
way), and

  - a request the HTTP/1.1 path refuses is refused on h2 too (the lb's own
    error answer with the same text, or a reset by nghttp2's own checks),
    and the backend never sees it;
  - a request both accept reaches the backend with the same request line and
    the same fields (X-Forwarded-For / -Proto / -Port included; X-Request-Id
    is random and left out).

Absolute-form targets are left out: nghttp2 resets a stream whose :path
is not "/..." or "*" (RFC 9113 8.3.1), where HTTP/1.1 takes them.

A few HTTP/2-only rules are checked after: a host field naming another
authority than :authority is refused (RFC 9113 8.3.1), cookie crumbs are
joined with "; ", and a POST body without content-length goes up chunked.
"""
import json
import shutil
import socket
import subprocess

import pytest

from lb_helpers import (HOST, H2_PREFACE, Backend, backends, free_port, h2_frame, h2_read_frames, lb,  # noqa: F401
                        wait_until, _skip_without_binary)

DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY = 0, 1, 3, 4, 7
END_STREAM, END_HEADERS = 0x1, 0x4


def hpack_int(v, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if v < limit:
        return bytes([first | v])
    out = [first | limit]
    v -= limit
    while v >= 128:
        out.append((v & 127) | 128)
        v >>= 7
    out.append(v)
    return bytes(out)


def hpack_literal(name, value):
    """Literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def stream_ends(f):
    """Whether frame f ends h2_exchange's stream 1 (an answer, a reset, a GOAWAY)."""
    t, fl, sid, _ = f
    return t == GOAWAY or (sid == 1 and (t == RST_STREAM or (t in (DATA, HEADERS) and fl & END_STREAM)))


def h2_exchange(port, fields, body=None, timeout=10):
    """One stream on a fresh h2c connection: ('answer', body bytes) or ('reset', code)."""
    block = b"".join(hpack_literal(n, v) for n, v in fields)
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.sendall(H2_PREFACE + h2_frame(SETTINGS, 0, 0) +
                  h2_frame(HEADERS, END_HEADERS | (0 if body is not None else END_STREAM), 1, block))
        if body is not None:
            s.sendall(h2_frame(DATA, END_STREAM, 1, body))
        data = b""
        for t, fl, sid, p in h2_read_frames(s, timeout=timeout, done=lambda fs: any(map(stream_ends, fs))):
            if sid == 1 and t == RST_STREAM:
                return ("reset", int.from_bytes(p[:4], "big"))
            if t == GOAWAY:
                return ("reset", int.from_bytes(p[4:8], "big"))
            if sid == 1 and t == DATA:
                data += p
            if sid == 1 and t in (DATA, HEADERS) and fl & END_STREAM:
                return ("answer", data)
        raise AssertionError("no end of stream 1")
    finally:
        s.close()


def h1_exchange(port, raw, timeout=10):
    """One request on a fresh connection; ('answer', body bytes) of the response."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.sendall(raw)
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                lines = head.split(b"\r\n")
                cl = [int(l.split(b":", 1)[1]) for l in lines[1:] if l.lower().startswith(b"content-length:")]
                if cl and len(rest) >= cl[0]:
                    return ("answer", rest[:cl[0]])
        head, _, rest = buf.partition(b"\r\n\r\n")
        return ("answer", rest)
    finally:
        s.close()


def h1_raw(method, path, fields, body=None):
    out = method + b" " + path + b" HTTP/1.1\r\n"
    for n, v in fields:
        out += n + b": " + v + b"\r\n"
    if body is not None and not any(n.lower() == b"content-length" for n, _ in fields):
        out += b"Content-Length: %d\r\n" % len(body)
    return out + b"\r\n" + (body or b"")


def h2_fields(method, path, authority, fields):
    out = [(b":method", method), (b":scheme", b"http"), (b":path", path)]
    if authority is not None:
        out.append((b":authority", authority))
    return out + [(n.lower(), v) for n, v in fields]


# (name, method, path, authority or None (then a host field, if any, is in fields), fields)
CASES = [
    ("plain", b"GET", b"/headers", b"a.example", []),
    ("fields kept", b"GET", b"/headers", b"a.example", [(b"x-a", b"1"), (b"accept", b"*/*"), (b"x-empty", b"")]),
    ("obs-text value", b"GET", b"/headers", b"a.example", [(b"x-obs", "café".encode())]),
    ("x-forwarded-for appended", b"GET", b"/headers", b"a.example", [(b"x-forwarded-for", b"1.2.3.4")]),
    ("x-forwarded-proto replaced", b"GET", b"/headers", b"a.example", [(b"x-forwarded-proto", b"https")]),
    ("path normalised", b"GET", b"/a/../headers", b"a.example", []),
    ("dot segments and slashes", b"GET", b"/x/.//..//headers", b"a.example", []),
    ("encoded unreserved", b"GET", b"/%68eaders", b"a.example", []),
    ("host with port", b"GET", b"/headers", b"a.example:8080", []),
    ("host field, no authority", b"GET", b"/headers", None, [(b"host", b"b.example")]),
    ("content-length body", b"POST", b"/headers", b"a.example", [(b"content-length", b"3")]),
    # refused by the HTTP/1.1 rules
    ("no host", b"GET", b"/headers", None, []),
    ("two hosts", b"GET", b"/headers", None, [(b"host", b"a"), (b"host", b"a")]),
    ("bad host characters", b"GET", b"/headers", None, [(b"host", b"a/b")]),
    ("path above the root", b"GET", b"/a/../../headers", b"a.example", []),
    ("encoded slash", b"GET", b"/a%2Fb", b"a.example", []),
    ("encoded NUL", b"GET", b"/a%00b", b"a.example", []),
    ("backslash", b"GET", b"/a\\b", b"a.example", []),
    ("bad percent triplet", b"GET", b"/a%zz", b"a.example", []),
    ("fragment", b"GET", b"/a#f", b"a.example", []),
    ("asterisk for GET", b"GET", b"*", b"a.example", []),
    ("method not a token", b"G(T", b"/headers", b"a.example", []),
    ("control character in value", b"GET", b"/headers", b"a.example", [(b"x-ctl", b"a\x01b")]),
    ("DEL in value", b"GET", b"/headers", b"a.example", [(b"x-del", b"a\x7fb")]),
    ("name not a token", b"GET", b"/headers", b"a.example", [(b"x(y)", b"1")]),
    ("content-length list", b"POST", b"/headers", b"a.example", [(b"content-length", b"3, 3")]),
    ("content-length sign", b"POST", b"/headers", b"a.example", [(b"content-length", b"+3")]),
    ("two content-lengths", b"POST", b"/headers", b"a.example", [(b"content-length", b"3"), (b"content-length", b"3")]),
    ("too many fields", b"GET", b"/headers", b"a.example", [(b"x-f%d" % i, b"1") for i in range(120)]),
    ("field too large", b"GET", b"/headers", b"a.example", [(b"x-big", b"a" * 9000)]),
]


def compare_backend_view(h1_body, h2_body, name):
    a, b = json.loads(h1_body), json.loads(h2_body)
    for d in (a, b):
        d.pop("x-request-id", None)
        d.pop("connection", None)
    assert a == b, f"{name}: the backend saw {a} over HTTP/1.1 and {b} over h2"


def test_h2_and_http1_agree_on_tricky_requests(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--max-header-size", "8kb")
    mismatches = []
    kinds = {"lb": 0, "reset": 0, "up": 0}
    for name, method, path, authority, fields in CASES:
        body = b"abc" if method == b"POST" else None
        h1_fields = ([(b"Host", authority)] if authority is not None else []) + fields
        before = b[0].stats()["requests"]
        r1 = h1_exchange(x.port, h1_raw(method, path, h1_fields, body))
        mid = b[0].stats()
        r2 = h2_exchange(x.port, h2_fields(method, path, authority, fields), body)
        after = b[0].stats()
        up1, up2 = mid["requests"] - before, after["requests"] - mid["requests"]
        if up1 != up2:
            mismatches.append(f"{name}: backend reached over HTTP/1.1 {up1}, over h2 {up2} ({r1}, {r2})")
            continue
        kinds["up" if up2 else "reset" if r2[0] == "reset" else "lb"] += 1
        if up1:
            # both accepted: the same request line and fields at the backend
            if mid["log"][-1] != after["log"][-1]:
                mismatches.append(f"{name}: request lines {mid['log'][-1]!r} and {after['log'][-1]!r}")
            assert r2[0] == "answer", (name, r2)
            compare_backend_view(r1[1], r2[1], name)
        elif r2[0] == "answer" and r2[1] != r1[1]:
            # both refused by the lb: the same error (its text is the body)
            mismatches.append(f"{name}: refused with {r1[1]!r} over HTTP/1.1 and {r2[1]!r} over h2")
    assert not mismatches, "\n".join(mismatches)
    print(f"h2: {kinds['lb']} refused by the lb, {kinds['reset']} reset by nghttp2, {kinds['up']} forwarded")
    # the lb still serves both ways after all of it
    assert h1_exchange(x.port, h1_raw(b"GET", b"/x", [(b"Host", b"a")]))[1] == b"b1"
    assert h2_exchange(x.port, h2_fields(b"GET", b"/x", b"a", []))[1] == b"b1"


def test_h2_only_rules(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    # a host field naming another authority than :authority: refused, the backend never asked
    n0 = b[0].stats()["requests"]
    r = h2_exchange(x.port, h2_fields(b"GET", b"/headers", b"a.example", [(b"host", b"b.example")]))
    assert r[0] == "answer" and r[1].strip() == b"Host does not match request target", r
    assert b[0].stats()["requests"] == n0
    # the same authority (any case): the host field is dropped, :authority is the Host
    r = h2_exchange(x.port, h2_fields(b"GET", b"/headers", b"a.example", [(b"host", b"A.Example")]))
    assert json.loads(r[1])["host"] == "a.example", r
    # cookie crumbs joined, in order
    r = h2_exchange(x.port, h2_fields(b"GET", b"/headers", b"a", [(b"cookie", b"a=1"), (b"x-a", b"1"),
                                                                   (b"cookie", b"b=2")]))
    assert json.loads(r[1])["cookie"] == "a=1; b=2", r
    # a body without content-length goes up chunked (the backend echoes it back)
    r = h2_exchange(x.port, h2_fields(b"POST", b"/echo", b"a", []), body=b"hello")
    assert r == ("answer", b"hello"), r
    # HEAD of a chunked answer: HEADERS without transfer-encoding (a connection-specific field in h2)
    block = [(b":method", b"HEAD"), (b":scheme", b"http"), (b":path", b"/big?n=1000"), (b":authority", b"a")]
    r = h2_exchange(x.port, block)
    assert r == ("answer", b""), r
    # a 204 with a Content-Length (the test backend sends one): relayed without it (curl
    # checks the length against the DATA received and fails the stream otherwise)
    curl = shutil.which("curl")
    assert curl, "curl is not installed (scripts/install-deps.sh)"
    r = subprocess.run([curl, "-s", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}",
                        f"http://{HOST}:{x.port}/status?code=204"], capture_output=True, timeout=30)
    assert (r.returncode, r.stdout) == (0, b"204"), r
    # field names go out lowercased (the backend sends "X-Backend", "Content-Type")
    r = subprocess.run([curl, "-s", "--http2-prior-knowledge", "-D", "-", "-o", "/dev/null",
                        f"http://{HOST}:{x.port}/x"], capture_output=True, timeout=30)
    lines = r.stdout.decode().split("\r\n")
    assert "x-backend: b1" in lines and "content-type: text/plain" in lines, lines
    # no :path (CONNECT) is a malformed request for the proxy
    r = h2_exchange(x.port, [(b":method", b"CONNECT"), (b":authority", b"a:443")])
    assert r[0] == "reset" or r[1].strip() == b"malformed request line", r
