"""
scaleout lb, HTTP/2 on the client side: curl --http2 over TLS (ALPN h2) and
--http2-prior-knowledge on plain listeners (h2c), h2load from Debian's
nghttp2-client for many concurrent streams on few connections (balanced over
two backends), 5 MB bodies both ways under flow control, the edge cache and
rate limiting over h2, a dead backend answered on the stream only, and raw
frames written from Python for the floods: rapid reset (CVE-2023-44487) →
GOAWAY ENHANCE_YOUR_CALM, a PING or SETTINGS flood from a client that never reads → the
connection is cut with memory bounded, garbage after the preface → GOAWAY
PROTOCOL_ERROR, an oversized frame → FRAME_SIZE_ERROR, empty DATA frames →
ENHANCE_YOUR_CALM; a closed client window pausing the backend read (the lb
holds ~256 KiB of a 50 MB answer); a window opened on four waiting answers
at once, the client then only reading (all of them arrive); the SETTINGS advertised; an idle
connection and SIGTERM → a graceful GOAWAY (NO_ERROR).
"""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess

import pytest

from lb_helpers import (HOST, H2_PREFACE, Backend, backends, free_port, h2_frame, h2_read_frames, lb,  # noqa: F401
                        wait_until, _skip_without_binary)

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY = 0, 1, 3, 4, 6, 7
NO_ERROR, PROTOCOL_ERROR, FRAME_SIZE_ERROR, ENHANCE_YOUR_CALM = 0, 1, 6, 0xB


def need(tool):
    path = shutil.which(tool)
    assert path, f"{tool} is not installed (scripts/install-deps.sh installs nghttp2-client and curl)"
    return path


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("h2cert")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", "k.pem", "-out", "c.pem", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1"], cwd=d, check=True, capture_output=True, timeout=30)
    return d


def tls(cert):
    return ["--tls-cert", cert / "c.pem", cert / "k.pem"]


def curl(*args, timeout=60):
    r = subprocess.run([need("curl"), "-s", "-k", *args], capture_output=True, timeout=timeout)
    return r


def h2load(*args, timeout=120):
    r = subprocess.run([need("h2load"), *args], capture_output=True, timeout=timeout)
    out = r.stdout.decode(errors="replace")
    m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    assert m and codes, out + r.stderr.decode(errors="replace")
    return {"done": int(m.group(2)), "ok": int(m.group(3)), "2xx": int(codes.group(1)), "4xx": int(codes.group(3)),
            "5xx": int(codes.group(4)), "out": out}


# ---- raw frames -------------------------------------------------------------

def get_headers(path=b"/", authority=b"127.0.0.1"):
    """HPACK: :method GET, :scheme http, :path, :authority (literals without indexing)."""
    return (b"\x82\x86" + b"\x04" + bytes([len(path)]) + path + b"\x01" + bytes([len(authority)]) + authority)


def goaway_code(frames):
    for t, _, _, p in frames:
        if t == GOAWAY:
            return int.from_bytes(p[4:8], "big")
    return None


def h2c_sock(port):
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(H2_PREFACE + h2_frame(SETTINGS, 0, 0))
    return s


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# ---- protocol selection --------------------------------------------------------

def test_alpn_h2_over_tls(backends, lb, cert):
    b = backends(1)
    x = lb("--backend", b[0].addr, *tls(cert))
    r = curl("--http2", "-w", "\n%{http_version}", f"https://{HOST}:{x.port}/hello")
    assert r.returncode == 0 and r.stdout.decode().split("\n") == ["b1", "2"], r
    # HTTP/1.1 clients still get HTTP/1.1 on the same listener
    r = curl("--http1.1", "-w", "\n%{http_version}", f"https://{HOST}:{x.port}/hello")
    assert r.stdout.decode().split("\n") == ["b1", "1.1"]
    # requests over h2+TLS are https to the backend
    r = curl("--http2", f"https://{HOST}:{x.port}/headers")
    assert json.loads(r.stdout)["x-forwarded-proto"] == "https", r.stdout
    m = x.metrics()
    assert m['scaleout_lb_listener_h2_connections_total{listener="default"}'] >= 2
    assert m['scaleout_lb_listener_h2_streams_total{listener="default"}'] >= 2


def test_alpn_h2_off(backends, lb, cert):
    b = backends(1)
    x = lb("--backend", b[0].addr, *tls(cert), "--h2", "no")
    r = curl("--http2", "-w", "\n%{http_version}", f"https://{HOST}:{x.port}/")
    assert r.stdout.decode().split("\n") == ["b1", "1.1"]


def test_h2c_prior_knowledge(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    r = curl("--http2-prior-knowledge", "-w", "\n%{http_version}", f"http://{HOST}:{x.port}/a")
    assert r.stdout.decode().split("\n") == ["b1", "2"], r
    r = curl("--http2-prior-knowledge", f"http://{HOST}:{x.port}/headers", "-H", "Cookie: a=1", "-H", "Cookie: b=2")
    h = json.loads(r.stdout)
    assert h["x-forwarded-proto"] == "http" and h["cookie"] == "a=1; b=2", h
    # Upgrade: h2c stays refused (answered as HTTP/1.1)
    r = curl("--http2", "-w", "\n%{http_version}", f"http://{HOST}:{x.port}/a")
    assert r.stdout.decode().split("\n") == ["b1", "1.1"]


def test_h2c_off(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--h2c", "no")
    s = socket.create_connection((HOST, x.port), timeout=10)
    s.sendall(H2_PREFACE + h2_frame(SETTINGS, 0, 0))
    answer = s.recv(4096)
    s.close()
    assert re.match(rb"HTTP/1\.1 (400|505) ", answer), answer  # read as a bad HTTP/1.1 request
    r = curl("--http2-prior-knowledge", "-w", "%{http_version}", f"http://{HOST}:{x.port}/a")
    assert r.stdout.decode() != "2"
    assert x.alive()


# ---- streams -------------------------------------------------------------------

def test_many_streams_balanced(backends, lb, cert):
    b = backends(2)
    x = lb("--backend", b[0].addr, "--backend", b[1].addr, *tls(cert))
    r = h2load("-n", "1000", "-c", "4", "-m", "50", f"https://{HOST}:{x.port}/x")
    assert r["ok"] == 1000 and r["2xx"] == 1000, r["out"]
    assert "Application protocol: h2" in r["out"]
    n1, n2 = b[0].stats()["requests"], b[1].stats()["requests"]
    assert n1 + n2 == 1000 and n1 >= 400 and n2 >= 400, (n1, n2)
    # and on a plain listener, h2c
    y = lb("--backend", b[0].addr, "--backend", b[1].addr)
    r = h2load("-n", "1000", "-c", "2", "-m", "100", f"http://{HOST}:{y.port}/x")
    assert r["ok"] == 1000 and r["2xx"] == 1000, r["out"]


def curl_many(urls, tmp_path, *args):
    """One curl, many URLs (each body to /dev/null): [(code, num_connects, url)].
    TLS only: curl 7.88 does not reuse an h2c prior-knowledge connection for a
    second sequential URL (the same against nginx)."""
    cfg = tmp_path / "curl.cfg"
    cfg.write_text("".join(f'url = "{u}"\noutput = "/dev/null"\n' for u in urls))
    r = curl("--http2", "-K", cfg, "-w", "%{http_code} %{num_connects} %{url_effective}\n", *args)
    return [tuple(line.split()) for line in r.stdout.decode().splitlines()]


def test_parallel_streams_answer_their_own_request(backends, lb, cert, tmp_path):
    b = backends(1)
    x = lb("--backend", b[0].addr, *tls(cert))
    codes = [c for c in range(200, 240) if c not in (204, 205)]
    urls = [f"https://{HOST}:{x.port}/status?code={c}" for c in codes]
    got = curl_many(urls, tmp_path, "--parallel", "--parallel-max", "50")
    assert len(got) == len(urls)
    for code, _, u in got:
        assert u.endswith("code=" + code), (u, code)
    assert sum(int(n) for _, n, _ in got) == 1, "all streams on one connection"


def test_large_bodies_flow_controlled(backends, lb, cert, tmp_path):
    b = backends(1)
    x = lb("--backend", b[0].addr, *tls(cert))
    data = os.urandom(5_000_000)
    (tmp_path / "up.bin").write_bytes(data)
    out = tmp_path / "echo.bin"
    r = curl("--http2", "--data-binary", f"@{tmp_path / 'up.bin'}", "-o", out, "-w", "%{http_version} %{http_code}",
             f"https://{HOST}:{x.port}/echo")
    assert r.stdout.decode() == "2 200", r
    assert out.read_bytes() == data
    # without Content-Length the body goes up chunked
    out2 = tmp_path / "echo2.bin"
    r = curl("--http2", "-H", "Transfer-Encoding: chunked", "-T", tmp_path / "up.bin", "-X", "POST", "-o", out2,
             "-w", "%{http_version} %{http_code}", f"https://{HOST}:{x.port}/echo")
    assert r.stdout.decode() == "2 200", r
    assert out2.read_bytes() == data
    r = curl("--http2", "-o", tmp_path / "big.bin", "-w", "%{http_version} %{http_code} %{size_download}",
             f"https://{HOST}:{x.port}/big?n=5000000")
    assert r.stdout.decode() == "2 200 5000000"
    chunk = (b"0123456789" * 6554)[:65536]  # the backend's pattern, per 64 KiB chunk
    assert (tmp_path / "big.bin").read_bytes() == (chunk * 77)[:5_000_000]


def test_edge_cache_hit_over_h2(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--cache", "16mb")
    u = f"http://{HOST}:{x.port}/resp-header?Cache-Control=max-age%3D60"
    hs = []
    for _ in range(3):
        r = curl("--http2-prior-knowledge", "-D", "-", "-o", "/dev/null", u)
        hs.append(r.stdout.decode().lower())
    assert hs[0].startswith("http/2 200")
    assert "x-cache: hit" in hs[2], hs[2]
    assert b[0].stats()["requests"] == 1


def test_rate_limit_over_h2(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--rate-limit", "5", "5")
    r = h2load("-n", "60", "-c", "1", "-m", "10", f"http://{HOST}:{x.port}/x")
    assert r["done"] == 60 and r["4xx"] >= 40 and r["2xx"] >= 5, r["out"]
    assert b[0].stats()["requests"] == r["2xx"]


def test_backend_down_fails_the_stream_only(backends, lb, cert, tmp_path):
    b = backends(1)
    dead = f"{HOST}:{free_port()}"
    x = lb("--backend", dead, "--passive-fails", "0", *tls(cert))
    got = curl_many([f"https://{HOST}:{x.port}/a", f"https://{HOST}:{x.port}/b"], tmp_path)
    assert [g[0] in ("502", "503") for g in got] == [True, True], got
    assert got[1][1] == "0", "the second stream reused the connection"
    assert x.alive()


# ---- floods and bad input --------------------------------------------------------

def test_rapid_reset_flood_goaway(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--h2-max-resets", "50")
    s = h2c_sock(x.port)
    out = b""
    for i in range(2000):
        sid = 1 + 2 * i
        out += h2_frame(HEADERS, 0x4 | 0x1, sid, get_headers(b"/slow?ms=200")) + h2_frame(RST_STREAM, 0, sid, b"\x00\x00\x00\x08")
    try:
        s.sendall(out)
    except OSError:
        pass
    frames = h2_read_frames(s, GOAWAY)
    s.close()
    assert goaway_code(frames) == ENHANCE_YOUR_CALM, frames[-3:]
    assert x.alive()
    r = curl("--http2-prior-knowledge", f"http://{HOST}:{x.port}/after")
    assert r.stdout == b"b1"
    m = x.metrics()
    assert m['scaleout_lb_listener_h2_resets_total{listener="default"}'] >= 500
    assert m['scaleout_lb_listener_h2_goaways_total{listener="default"}'] >= 1


@pytest.mark.parametrize("kind", ["ping", "settings"])
def test_control_flood_without_reading_is_cut(backends, lb, kind):
    """PING or SETTINGS frames (each wants an ACK) from a client that never reads."""
    b = backends(1)
    x = lb("--backend", b[0].addr)
    before = rss_kb(x.pid)
    s = h2c_sock(x.port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    one = h2_frame(PING, 0, 0, b"12345678") if kind == "ping" else h2_frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 65535))
    ping = one * 4096
    cut = False
    for _ in range(2000):  # up to ~140 MB, never reading the ACKs
        try:
            s.sendall(ping)
        except (OSError, socket.timeout):
            cut = True
            break
    s.close()
    assert cut, f"the lb kept taking {kind} frames from a client that does not read"
    assert x.alive()
    grown = rss_kb(x.pid) - before
    assert grown < 100 * 1024  # the flood is up to 140 MB; ASan builds keep freed memory in quarantine
    assert curl("--http2-prior-knowledge", f"http://{HOST}:{x.port}/").stdout == b"b1"


def test_garbage_after_preface_protocol_error(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    s = socket.create_connection((HOST, x.port), timeout=10)
    s.sendall(H2_PREFACE + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"\xff" * 64)
    assert goaway_code(h2_read_frames(s, GOAWAY)) == PROTOCOL_ERROR
    s.close()
    # an oversized frame (over SETTINGS_MAX_FRAME_SIZE 16384)
    s = h2c_sock(x.port)
    s.sendall(h2_frame(HEADERS, 0x4, 1, get_headers()) + h2_frame(DATA, 0, 1, b"x" * 20000))
    assert goaway_code(h2_read_frames(s, GOAWAY)) == FRAME_SIZE_ERROR
    s.close()
    # empty DATA frames, endlessly
    s = h2c_sock(x.port)
    try:
        s.sendall(h2_frame(HEADERS, 0x4, 1, get_headers(b"/slow?ms=3000")) + h2_frame(DATA, 0, 1) * 5000)
    except OSError:
        pass
    assert goaway_code(h2_read_frames(s, GOAWAY)) == ENHANCE_YOUR_CALM
    s.close()
    assert x.alive()
    assert curl("--http2-prior-knowledge", f"http://{HOST}:{x.port}/").stdout == b"b1"


def test_header_list_too_large_431(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--max-header-size", "4kb")
    r = curl("--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: " + "a" * 8000,
             f"http://{HOST}:{x.port}/")
    assert r.stdout.decode() in ("431", "000"), r
    assert b[0].stats()["requests"] == 0
    assert curl("--http2-prior-knowledge", f"http://{HOST}:{x.port}/").stdout == b"b1"


def test_sigterm_graceful_goaway(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr)
    s = h2c_sock(x.port)
    h2_read_frames(s, SETTINGS, timeout=5)
    s.sendall(h2_frame(HEADERS, 0x4 | 0x1, 1, get_headers(b"/slow?ms=500")))
    assert wait_until(lambda: x.metrics()['scaleout_lb_listener_h2_streams_total{listener="default"}'] >= 1, timeout=5)
    os.kill(x.pid, signal.SIGTERM)
    frames = h2_read_frames(s, None, timeout=10)
    s.close()
    assert goaway_code(frames) == NO_ERROR, frames
    x.expect_exit = True


def received_from_backends(x):
    return sum(v for k, v in x.metrics().items() if k.startswith("scaleout_lb_backend_received_bytes_total"))


def test_backend_read_paused_while_client_window_closed(backends, lb):
    """A client with a zero stream window asks for 50 MB: the lb holds a
    bounded amount and stops reading the backend (no DATA is sent at all)."""
    b = backends(1)
    x = lb("--backend", b[0].addr)
    s = socket.create_connection((HOST, x.port), timeout=10)
    # SETTINGS_INITIAL_WINDOW_SIZE = 0
    s.sendall(H2_PREFACE + h2_frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0)) +
              h2_frame(HEADERS, 0x4 | 0x1, 1, get_headers(b"/big?n=50000000")))
    assert wait_until(lambda: received_from_backends(x) > 0, timeout=10)
    last = [-1]

    def settled():
        n = received_from_backends(x)
        done = n == last[0]
        last[0] = n
        return done

    assert wait_until(settled, timeout=20, interval=0.5)
    assert last[0] < 10_000_000, last[0]
    frames = h2_read_frames(s, None, timeout=1)
    assert not any(t == DATA for t, _, _, _ in frames)
    # the window opens: the whole body arrives
    s.sendall(h2_frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 1 << 20)) + h2_frame(8, 0, 0, struct.pack(">I", 1 << 30)))
    got = 0
    s.settimeout(30)
    buf = b""
    while got < 50_000_000:
        chunk = s.recv(1 << 20)
        assert chunk, "closed before the end of the body"
        buf += chunk
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n = int.from_bytes(buf[:3], "big")
            if buf[3] == DATA:
                got += n
                if n:  # give the stream window back as we go
                    s.sendall(h2_frame(8, 0, 1, struct.pack(">I", n)) + h2_frame(8, 0, 0, struct.pack(">I", n)))
            buf = buf[9 + n:]
    s.close()
    assert got == 50_000_000


def test_settings_advertised(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--h2-max-streams", "7", "--max-header-size", "8kb")
    s = h2c_sock(x.port)
    frames = h2_read_frames(s, SETTINGS, timeout=5)
    s.close()
    payload = next(p for t, f, _, p in frames if t == SETTINGS and not f & 1)
    got = {int.from_bytes(payload[i:i + 2], "big"): int.from_bytes(payload[i + 2:i + 6], "big")
           for i in range(0, len(payload), 6)}
    assert got[3] == 7 and got[6] == 8192 and got[2] == 0, got  # MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE, ENABLE_PUSH


def test_idle_connection_goaway(backends, lb):
    b = backends(1)
    x = lb("--backend", b[0].addr, "--timeout-keepalive", "1s")
    s = h2c_sock(x.port)
    frames = h2_read_frames(s, None, timeout=10)  # until the lb closes it
    s.close()
    assert goaway_code(frames) == NO_ERROR, frames


def test_answer_before_body_end_then_rst_no_error(backends, lb):
    """A 429 to a POST whose body is still coming: the whole answer goes out
    (HEADERS, DATA with END_STREAM), then RST_STREAM NO_ERROR tells the client
    to stop sending (RFC 9113 8.1; curl 7.88 reports that as an error, nghttp
    and browsers take the answer)."""
    b = backends(1)
    x = lb("--backend", b[0].addr, "--rate-limit", "1", "1")
    assert curl("--http2-prior-knowledge", f"http://{HOST}:{x.port}/").stdout == b"b1"
    s = h2c_sock(x.port)
    hdrs = b"\x83\x86" + b"\x04\x05/echo" + b"\x01\x09127.0.0.1" + b"\x0f\x0d\x071000000"  # POST, content-length
    s.sendall(h2_frame(HEADERS, 0x4, 1, hdrs) + h2_frame(DATA, 0, 1, b"x" * 1000))
    frames = h2_read_frames(s, RST_STREAM, timeout=10)
    s.close()
    kinds = [(t, f & 1) for t, f, sid, _ in frames if sid == 1]
    assert kinds[0] == (HEADERS, 0) and (DATA, 1) in kinds and kinds[-1][0] == RST_STREAM, kinds
    assert kinds.index((DATA, 1)) < len(kinds) - 1
    rst = [p for t, _, sid, p in frames if t == RST_STREAM and sid == 1][0]
    assert int.from_bytes(rst, "big") == NO_ERROR
    assert b[0].stats()["requests"] == 1


def test_frames_past_the_high_mark_go_out_when_the_socket_took_all(backends, lb):
    """Four answers wait, each ~256 KiB with its backend read paused, behind
    a zero stream window. The window opens in one SETTINGS: one flush turn
    frames 256 KiB (a quarter of each stream: no stream drops under the low
    mark, so no backend read resumes), the socket takes it all at once, and
    the client then only reads. What nghttp2 still holds must go out without
    a further event (it used to wait forever: no write completion, no read)."""
    b = backends(1)
    x = lb("--backend", b[0].addr)
    nstreams, size = 4, 1_000_000
    s = socket.create_connection((HOST, x.port), timeout=10)
    out = H2_PREFACE + h2_frame(SETTINGS, 0, 0, struct.pack(">HI", 4, 0))  # INITIAL_WINDOW_SIZE 0
    out += h2_frame(8, 0, 0, struct.pack(">I", (1 << 31) - 1 - 65535))  # the connection window: all of it
    for i in range(nstreams):
        out += h2_frame(HEADERS, 0x4 | 0x1, 1 + 2 * i, get_headers(f"/big?n={size}".encode()))
    s.sendall(out)
    assert wait_until(lambda: received_from_backends(x) > 0, timeout=10)
    last = [-1]

    def settled():
        n = received_from_backends(x)
        done = n == last[0]
        last[0] = n
        return done

    assert wait_until(settled, timeout=20, interval=0.5)  # every backend read paused
    s.sendall(h2_frame(SETTINGS, 0, 0, struct.pack(">HI", 4, (1 << 31) - 1)))
    got, ended = {}, set()
    buf = b""
    s.settimeout(10)
    while len(ended) < nstreams:
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            break
        assert chunk, "closed before the end of the answers"
        buf += chunk
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n = int.from_bytes(buf[:3], "big")
            sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
            if buf[3] == DATA:
                got[sid] = got.get(sid, 0) + n
                if buf[4] & 1:
                    ended.add(sid)
            buf = buf[9 + n:]
    s.close()
    assert got == {1 + 2 * i: size for i in range(nstreams)} and len(ended) == nstreams, got
