"""
scaleout lb, TLS termination: certificates made at test time with the openssl
CLI (a self-signed CA, two server certificates for SNI, an OCSP response),
checked with curl, openssl s_client and Python's ssl module: versions offered,
SNI, resumption (tickets and the session cache), ALPN, the OCSP staple,
X-Forwarded-Proto, reload on SIGHUP without dropping an established
connection, garbage and slow handshakes cut, the handshake bound, TLS in tcp
mode.
"""
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time

import pytest

from lb_helpers import HOST, Backend, backends, lb, wait_until, _skip_without_binary  # noqa: F401


def sh(*args, cwd=None, input=None):
    r = subprocess.run(list(args), cwd=cwd, input=input, capture_output=True, timeout=30)
    assert r.returncode == 0, (args, r.stderr.decode(errors="replace"))
    return r


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA, server certs for a.test and b.test (and a second a.test), an OCSP response for a.test."""
    d = tmp_path_factory.mktemp("certs")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    sh("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test-ca",
       cwd=d)
    for name, out in (("a.test", "a"), ("b.test", "b"), ("a.test", "a2")):
        (d / f"{out}.ext").write_text(f"subjectAltName=DNS:{name},IP:127.0.0.1\n")
        sh("openssl", "req", *ec, "-keyout", f"{out}.key", "-out", f"{out}.csr", "-subj", f"/CN={name}", cwd=d)
        sh("openssl", "x509", "-req", "-in", f"{out}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
           "-out", f"{out}.pem", "-days", "2", "-extfile", f"{out}.ext", cwd=d)
    # OCSP: a one-line CA index saying a.test is valid, a request, the CA's signed answer
    serial = sh("openssl", "x509", "-in", "a.pem", "-noout", "-serial", cwd=d).stdout.decode().strip().split("=")[1]
    (d / "index.txt").write_text(f"V\t301231235959Z\t\t{serial}\tunknown\t/CN=a.test\n")
    sh("openssl", "ocsp", "-issuer", "ca.pem", "-cert", "a.pem", "-reqout", "req.der", cwd=d)
    sh("openssl", "ocsp", "-index", "index.txt", "-rsigner", "ca.pem", "-rkey", "ca.key", "-CA", "ca.pem",
       "-reqin", "req.der", "-respout", "a.ocsp", "-ndays", "1", cwd=d)
    return d


def tls_flags(d, *extra):
    return ["--tls-cert", d / "a.pem", "--tls-key", d / "a.key", "--tls-cert", d / "b.pem", d / "b.key", *extra]


def s_client(port, *args, send=b"", servername="a.test", ign_eof=True):
    """openssl s_client output (stdout+stderr); send: bytes written after the handshake."""
    argv = ["openssl", "s_client", "-connect", f"{HOST}:{port}"]
    if servername:
        argv += ["-servername", servername]
    argv += [str(a) for a in args]
    if send and ign_eof:
        argv.append("-ign_eof")
    r = subprocess.run(argv, input=send, capture_output=True, timeout=20)
    return (r.stdout + r.stderr).decode(errors="replace")


GET_CLOSE = b"GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"


def ctx_for(d):
    c = ssl.create_default_context(cafile=str(d / "ca.pem"))
    return c


def https(port, d, path="/", name="a.test"):
    c = http.client.HTTPSConnection(HOST, port, timeout=10, context=ctx_for(d))
    c._tunnel_host = None
    # connect with SNI name and verify that name: wrap by hand
    sock = socket.create_connection((HOST, port), timeout=10)
    c.sock = ctx_for(d).wrap_socket(sock, server_hostname=name)
    c.request("GET", path, headers={"Host": name})
    r = c.getresponse()
    return r.status, r.read(), c


def peer_serial(port, d, name="a.test"):
    with socket.create_connection((HOST, port), timeout=10) as sock:
        with ctx_for(d).wrap_socket(sock, server_hostname=name) as t:
            return t.getpeercert()["serialNumber"]


def cert_serial(path):
    out = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-serial"], capture_output=True).stdout
    return out.decode().strip().split("=")[1].upper()


def test_curl_https_and_forwarded_proto(certs, backends, lb):
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    out = subprocess.run(["curl", "-s", "--cacert", str(certs / "ca.pem"), "--resolve", f"a.test:{x.port}:127.0.0.1",
                          f"https://a.test:{x.port}/headers"], capture_output=True, timeout=20)
    assert out.returncode == 0, out.stderr
    h = json.loads(out.stdout)
    assert h["x-forwarded-proto"] == "https"
    assert h["x-forwarded-port"] == str(x.port)
    # plain curl without the CA fails verification: the lb really speaks TLS with our cert
    bad = subprocess.run(["curl", "-s", f"https://127.0.0.1:{x.port}/"], capture_output=True, timeout=20)
    assert bad.returncode != 0


def test_versions_offered(certs, backends, lb):
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    # SECLEVEL=0 so that the client really offers TLS 1.1 (Debian's default config would not)
    old = s_client(x.port, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert "Cipher is (NONE)" in old and "alert protocol version" in old, old
    t12 = s_client(x.port, "-tls1_2")
    assert re.search(r"New, TLSv1\.2, Cipher is ECDHE-", t12), t12
    t13 = s_client(x.port, "-tls1_3")
    assert "New, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256" in t13, t13
    # tls-min-version 1.3 refuses 1.2
    y = lb("--backend", b.addr, *tls_flags(certs, "--tls-min-version", "1.3"))
    assert "Cipher is (NONE)" in s_client(y.port, "-tls1_2")
    # the cipher list is configurable: a TLS 1.2 client without any of ours gets no handshake
    assert "Cipher is (NONE)" in s_client(x.port, "-tls1_2", "-cipher", "AES128-SHA")


def test_sni_picks_certificate(certs, backends, lb):
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    assert "subject=CN = b.test" in s_client(x.port, servername="b.test")
    assert "subject=CN = a.test" in s_client(x.port, servername="a.test")
    assert "subject=CN = a.test" in s_client(x.port, servername="unknown.test")  # the first is the default
    assert "subject=CN = a.test" in s_client(x.port, "-noservername", servername=None)
    # and a verifying client is happy with both names
    assert peer_serial(x.port, certs, "b.test") == cert_serial(certs / "b.pem")


@pytest.mark.parametrize("args", [["-tls1_3"], ["-tls1_2"], ["-tls1_2", "-no_ticket"]],
                         ids=["tls13-ticket", "tls12-ticket", "tls12-session-cache"])
def test_resumption(certs, backends, lb, tmp_path, args):
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    sess = tmp_path / "sess.pem"
    first = s_client(x.port, *args, "-sess_out", sess, send=GET_CLOSE)
    assert "New, TLSv1." in first and "X-Backend: b1" in first, first
    second = s_client(x.port, *args, "-sess_in", sess, send=GET_CLOSE)
    assert "Reused, TLSv1." in second and "X-Backend: b1" in second, second
    m = x.metrics()
    assert m['scaleout_lb_listener_tls_handshakes_total{listener="default",kind="full"}'] == 1
    assert m['scaleout_lb_listener_tls_handshakes_total{listener="default",kind="resumed"}'] == 1


def tickets_received(out):
    """NewSessionTicket messages the server sent, from s_client -msg output."""
    return len(re.findall(r"<<< TLS 1\.3, Handshake \[length [0-9a-f]+\], NewSessionTicket", out))


def test_one_ticket_per_handshake(certs, backends, lb, tmp_path):
    """A full TLS 1.3 handshake gets one session ticket (OpenSSL's default is
    two: each costs the server a session encoding and an encryption), and that
    one resumes; a resumption with the current key gets none (the ticket stays
    good: only one made with the previous key is renewed)."""
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    sess = tmp_path / "sess.pem"
    first = s_client(x.port, "-tls1_3", "-msg", "-sess_out", sess, send=GET_CLOSE)
    assert "New, TLSv1.3" in first and "X-Backend: b1" in first, first
    assert tickets_received(first) == 1, first
    second = s_client(x.port, "-tls1_3", "-msg", "-sess_in", sess, send=GET_CLOSE)
    assert "Reused, TLSv1.3" in second and "X-Backend: b1" in second, second
    assert tickets_received(second) == 0, second
    third = s_client(x.port, "-tls1_3", "-sess_in", sess, send=GET_CLOSE)
    assert "Reused, TLSv1.3" in third, third


def test_certificate_chain_as_in_file(certs, backends, lb, tmp_path):
    """The chain sent is the tls-cert file's: the leaf alone when the file holds
    the leaf only (nothing is built per handshake), leaf and CA when the file
    holds both; a client that trusts the CA verifies either."""
    (b,) = backends(1)
    chain = tmp_path / "a-chain.pem"
    chain.write_text((certs / "a.pem").read_text() + (certs / "ca.pem").read_text())
    for cert, n in ((certs / "a.pem", 1), (chain, 2)):
        x = lb("--backend", b.addr, "--tls-cert", cert, certs / "a.key")
        out = s_client(x.port, "-showcerts", "-CAfile", certs / "ca.pem", "-verify_return_error")
        assert out.count("-----BEGIN CERTIFICATE-----") == n, out
        assert "Verify return code: 0 (ok)" in out, out
        assert peer_serial(x.port, certs) == cert_serial(certs / "a.pem")


def test_ticket_key_rotation(certs, backends, lb, tmp_path):
    """tls-ticket-rotate: a ticket made with the key before the current one is still
    accepted; once that key is gone too, the handshake is a full one."""
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs, "--tls-ticket-rotate", "1s", "--tls-session-cache", "0"))
    sess = tmp_path / "sess.pem"
    assert "New, TLSv1.3" in s_client(x.port, "-tls1_3", "-sess_out", sess, send=GET_CLOSE)
    assert "Reused, TLSv1.3" in s_client(x.port, "-tls1_3", "-sess_in", sess, send=GET_CLOSE)
    # after two periods the key that made the ticket is gone (keys rotate lazily, on use)
    wait_until(lambda: "New, TLSv1.3" in s_client(x.port, "-tls1_3", "-sess_in", sess, send=GET_CLOSE),
               timeout=10, interval=0.5, what="ticket refused after two rotations")


def test_alpn(certs, backends, lb):
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    assert "ALPN protocol: h2" in s_client(x.port, "-alpn", "h2,http/1.1")  # h2 first (lb/h2.c)
    assert "ALPN protocol: http/1.1" in s_client(x.port, "-alpn", "http/1.1")
    y = lb("--backend", b.addr, *tls_flags(certs), "--h2", "no")
    assert "ALPN protocol: http/1.1" in s_client(y.port, "-alpn", "h2,http/1.1")
    assert "No ALPN negotiated" in s_client(y.port, "-alpn", "h2")


def test_ocsp_staple(certs, backends, lb):
    (b,) = backends(1)
    x = lb("--backend", b.addr, "--tls-cert", certs / "a.pem", certs / "a.key", "--tls-ocsp", certs / "a.ocsp",
           "--tls-cert", certs / "b.pem", certs / "b.key")
    out = s_client(x.port, "-status")
    assert "OCSP Response Status: successful" in out, out
    assert "Cert Status: good" in out, out
    # b.test has no staple configured
    assert "OCSP response: no response sent" in s_client(x.port, "-status", servername="b.test")


def test_sighup_reload_switches_cert_keeps_connections(certs, backends, lb, tmp_path):
    (b,) = backends(1)
    live = tmp_path / "live"
    live.mkdir()
    (live / "a.pem").write_bytes((certs / "a.pem").read_bytes())
    (live / "a.key").write_bytes((certs / "a.key").read_bytes())
    conf = ("listen 127.0.0.1:{port}\n"
            f"backend {b.addr}\n"
            f"tls-cert {live / 'a.pem'} {live / 'a.key'}\n")
    x = lb(config=conf, listen=False)
    assert peer_serial(x.port, certs) == cert_serial(certs / "a.pem")
    st, body, conn = https(x.port, certs)
    assert st == 200 and body == b"b1"
    (live / "a.pem").write_bytes((certs / "a2.pem").read_bytes())
    (live / "a.key").write_bytes((certs / "a2.key").read_bytes())
    os.kill(x.pid, signal.SIGHUP)
    wait_until(lambda: peer_serial(x.port, certs) == cert_serial(certs / "a2.pem"), timeout=10,
               what="new certificate served after SIGHUP")
    # the connection made before the reload still works (its own context)
    for _ in range(3):
        conn.request("GET", "/", headers={"Host": "a.test"})
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"b1"
    conn.close()
    # a broken certificate on reload: refused, the current one stays
    (live / "a.pem").write_text("not a certificate\n")
    os.kill(x.pid, signal.SIGHUP)
    wait_until(lambda: "not reloaded" in x.log_tail(), timeout=10, what="reload refused")
    assert peer_serial(x.port, certs) == cert_serial(certs / "a2.pem")


def read_until_closed(sock, timeout):
    """Bytes the server sent until it closed (or reset) the connection; None on timeout."""
    sock.settimeout(timeout)
    got = b""
    try:
        while True:
            d = sock.recv(4096)
            if not d:
                return got
            got += d
    except (ConnectionResetError, BrokenPipeError):
        return got
    except socket.timeout:
        return None


def test_garbage_is_cut(certs, backends, lb):
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    with socket.create_connection((HOST, x.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")  # plaintext HTTP to a TLS port
        got = read_until_closed(s, 5)
        assert got is not None, "connection not closed"
        assert b"HTTP/1.1" not in got
    with socket.create_connection((HOST, x.port), timeout=5) as s:
        s.sendall(os.urandom(3000))
        assert read_until_closed(s, 5) is not None
    # a renegotiating TLS 1.2 client is cut
    out = s_client(x.port, "-tls1_2", send=b"R\n", ign_eof=False)  # "R": renegotiate (commands need no -ign_eof)
    assert "RENEGOTIATING" in out and "no renegotiation" in out, out
    assert x.alive()
    assert peer_serial(x.port, certs)  # still serving
    assert x.metrics()['scaleout_lb_listener_tls_errors_total{listener="default"}'] == 3


def test_slow_handshake_timed_out_and_bounded(certs, backends, lb):
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs, "--tls-handshake-timeout", "1s", "--tls-max-handshakes", "2"))
    hello = socket.create_connection((HOST, x.port), timeout=5)
    hello.sendall(b"\x16\x03\x01\x00\x80\x01")  # the start of a ClientHello, then nothing
    idle = socket.create_connection((HOST, x.port), timeout=5)
    wait_until(lambda: x.status() is not None, timeout=2)
    # two handshakes in progress: a third connection is shed at once
    third = socket.create_connection((HOST, x.port), timeout=5)
    assert read_until_closed(third, 3) == b""
    third.close()
    # the slow ones are cut by the handshake timeout
    assert read_until_closed(hello, 8) is not None
    assert read_until_closed(idle, 8) is not None
    hello.close()
    idle.close()
    # room again (the slots are given back when the closed connections are freed, a moment after the close)
    def serves():
        try:
            return peer_serial(x.port, certs) == cert_serial(certs / "a.pem")
        except OSError:
            return False
    wait_until(serves, timeout=5, what="handshakes accepted again")


class Echo:
    def __init__(self):
        import threading
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        import threading
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    @staticmethod
    def serve(c):
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    return
                c.sendall(d)


def test_tcp_mode_tls(certs, lb):
    e = Echo()
    x = lb("--mode", "tcp", "--backend", f"{HOST}:{e.port}", *tls_flags(certs))
    with socket.create_connection((HOST, x.port), timeout=10) as sock:
        with ctx_for(certs).wrap_socket(sock, server_hostname="b.test") as t:
            assert t.getpeercert()["serialNumber"] == cert_serial(certs / "b.pem")
            assert t.selected_alpn_protocol() is None
            payload = os.urandom(300000)
            t.sendall(payload)
            got = b""
            while len(got) < len(payload):
                d = t.recv(65536)
                assert d
                got += d
            assert got == payload
    e.sock.close()


def test_config_errors(certs, tmp_path):
    from lb_helpers import scaleout_bin
    conf = tmp_path / "bad.conf"
    conf.write_text("role lb\nlisten 127.0.0.1:1\nbackend 127.0.0.1:2\n"
                    f"tls-key {certs / 'a.key'}\n")
    r = subprocess.run([str(scaleout_bin()), "check", str(conf)], capture_output=True, timeout=10)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode != 0
    assert "bad.conf:4" in out and "give tls-cert first" in out, out
    conf.write_text("role lb\nlisten 127.0.0.1:1\nbackend 127.0.0.1:2\n"
                    f"tls-cert {tmp_path / 'missing.pem'}\n")
    r = subprocess.run([str(scaleout_bin()), "check", str(conf)], capture_output=True, timeout=10)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode != 0 and "missing.pem" in out, out


def test_backend_tls_verified(certs, backends, lb, tmp_path):
    """lb (plain) --backend-tls--> lb (TLS with a.test's cert, IP SAN 127.0.0.1) --> backend."""
    (b,) = backends(1)
    inner = lb("--backend", b.addr, *tls_flags(certs))
    outer = lb("--backend", f"127.0.0.1:{inner.port}", "--backend-tls", "yes", "--backend-ca", certs / "ca.pem")
    c = http.client.HTTPConnection(HOST, outer.port, timeout=10)
    for _ in range(3):  # keep-alive on both hops
        c.request("GET", "/headers")
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, body
        assert json.loads(body)["x-forwarded-proto"] == "https"  # set by the inner lb: it arrived over TLS
    c.close()
    # a CA that did not sign the backend's certificate: 502, not a silent plaintext fallback
    other = tmp_path / "other"
    other.mkdir()
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem",
       "-out", "ca.pem", "-days", "2", "-subj", "/CN=other-ca", cwd=other)
    wrong = lb("--backend", f"127.0.0.1:{inner.port}", "--backend-tls", "yes", "--backend-ca", other / "ca.pem",
               "--retries", "0")
    c = http.client.HTTPConnection(HOST, wrong.port, timeout=10)
    c.request("GET", "/")
    r = c.getresponse()
    r.read()
    assert r.status == 502
    c.close()
    # backend-verify no: encrypted, not verified
    loose = lb("--backend", f"127.0.0.1:{inner.port}", "--backend-tls", "yes", "--backend-ca", other / "ca.pem",
               "--backend-verify", "no")
    c = http.client.HTTPConnection(HOST, loose.port, timeout=10)
    c.request("GET", "/")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"b1"
    c.close()


def test_backend_tls_config_errors(certs, tmp_path):
    from lb_helpers import scaleout_bin
    conf = tmp_path / "bad.conf"
    conf.write_text("role lb\nlisten 127.0.0.1:1\nbackend 127.0.0.1:2\nbackend-tls yes\nhealth /health\n"
                    f"backend-ca {tmp_path / 'missing-ca.pem'}\n")
    r = subprocess.run([str(scaleout_bin()), "lb", "--config", str(conf)], capture_output=True, timeout=10)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode != 0
    assert "use health tcp" in out, out
    assert "missing-ca.pem" in out, out


def test_large_bodies_and_pipelining_over_tls(certs, backends, lb):
    """Bodies both ways past the backpressure marks, and pipelined requests, through TLS."""
    (b,) = backends(1)
    x = lb("--backend", b.addr, *tls_flags(certs))
    with socket.create_connection((HOST, x.port), timeout=20) as sock:
        with ctx_for(certs).wrap_socket(sock, server_hostname="a.test") as t:
            body = os.urandom(3 * 1024 * 1024)
            t.sendall(b"POST /len HTTP/1.1\r\nHost: a.test\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            head = b""
            while b"\r\n\r\n" not in head:
                d = t.recv(65536)
                assert d
                head += d
            assert head.startswith(b"HTTP/1.1 200"), head
            while not head.endswith(b"\r\n\r\n%d" % len(body)):
                d = t.recv(65536)
                assert d
                head += d
            assert b"Connection: close" not in head
            # three pipelined requests in one TLS record, answers in order
            t.sendall(b"GET /a HTTP/1.1\r\nHost: a.test\r\n\r\nGET /headers HTTP/1.1\r\nHost: a.test\r\n\r\n"
                      b"GET /big?n=2000000 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n")
            rest = b""
            while True:
                d = t.recv(65536)
                if not d:
                    break
                rest += d
            assert rest.count(b"HTTP/1.1 200 OK") == 3
            assert b'"x-forwarded-proto": "https"' in rest
            assert rest.count(b"0123456789") >= 199000
