"""
cache_origin.py — the origin of the edge-cache tests (tests/integration/test_lb_cache.py):
a real process (so a test can kill it) that counts its requests and answers
with the fields the query asks for.

    python3 cache_origin.py --port P

  GET|HEAD /ANY?h=Name:Value&h=...&status=N&delay=MS&size=N&chunked=1&body=TEXT
      status N (default 200) after MS ms, with those fields; the body is TEXT,
      else N bytes of a pattern, else "PATH#COUNT" where COUNT is how many
      requests this id (else path+query) got so far (so a refetch shows);
      fail_after=N: 503 from the (N+1)th request on; nostore_until=N: the first
      N answers also carry Cache-Control: no-store.
      An ETag among the fields makes a matching If-None-Match answer 304; a
      Last-Modified makes If-Modified-Since at or after it answer 304.
  GET /_ctl/count?key=ID            {"count": N, "conditional": N, "304": N}
  GET /_ctl/total                  {"count": N}
  GET /_ctl/last?key=...           the request fields of the last request, JSON
"""
import argparse
import json
import socket
import threading
import time
import urllib.parse
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"total": 0, "per": {}, "last": {}}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "origin"

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def ctl(self, u):
        q = urllib.parse.parse_qs(u.query)
        with lock:
            if u.path == "/_ctl/count":
                per = state["per"].get(q["key"][0], {"count": 0, "conditional": 0, "304": 0})
                body = json.dumps(per)
            elif u.path == "/_ctl/last":
                body = json.dumps(state["last"].get(q["key"][0], {}))
            else:
                body = json.dumps({"count": state["total"]})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.answer(head=False)

    def do_HEAD(self):
        self.answer(head=True)

    def answer(self, head):
        u = urllib.parse.urlsplit(self.path)
        if u.path.startswith("/_ctl/"):
            return self.ctl(u)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        key = q["id"][0] if "id" in q else u.path + ("?" + u.query if u.query else "")
        cond = self.headers.get("If-None-Match") is not None or self.headers.get("If-Modified-Since") is not None
        with lock:
            state["total"] += 1
            per = state["per"].setdefault(key, {"count": 0, "conditional": 0, "304": 0})
            per["count"] += 1
            if cond:
                per["conditional"] += 1
            n = per["count"]
            state["last"][key] = dict(self.headers.items())
        delay = int(q.get("delay", ["0"])[0])
        if delay:
            time.sleep(delay / 1000.0)
        fields = []
        for h in q.get("h", []):
            name, _, value = h.partition(":")
            fields.append((name, value.replace("{n}", str(n))))
        if "nostore_until" in q and n <= int(q["nostore_until"][0]):
            fields.append(("Cache-Control", "no-store"))
        names = {k.lower(): v for k, v in fields}
        status = int(q.get("status", ["200"])[0])
        if "fail_after" in q and n > int(q["fail_after"][0]):
            status = 503
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        not_mod = False
        if inm is not None and "etag" in names:
            not_mod = names["etag"] in [t.strip() for t in inm.split(",")]
        elif ims is not None and "last-modified" in names:
            try:
                not_mod = parsedate_to_datetime(names["last-modified"]) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                not_mod = False
        if not_mod and status == 200:
            with lock:
                per["304"] += 1
            self.send_response(304)
            for k, v in fields:
                self.send_header(k, v)
            self.end_headers()
            return
        if "body" in q:
            body = q["body"][0].encode()
        elif "size" in q:
            size = int(q["size"][0])
            body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
        else:
            body = f"{u.path}#{n}".encode()
        self.send_response(status)
        for k, v in fields:
            self.send_header(k, v)
        chunked = q.get("chunked", ["0"])[0] == "1"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head:
            return
        if chunked:
            for i in range(0, len(body), 1000):
                part = body[i:i + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    a = ap.parse_args()
    Server(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
