#!/usr/bin/python3
"""
bench/lib/queue_clients.py — the client side of bench/queue-vs-redis.sh that
redis-benchmark cannot play (kept in bench/lib/: `make bench` runs bench/*.sh).

  subs PORT N CHANNEL PAYLOAD_LEN MESSAGES TIMEOUT
      N subscribers of CHANNEL on one selector loop. Prints "ready" once all N
      subscriptions are confirmed, then counts the bytes each receives: every
      message frame has the same size (*3 message CHANNEL payload), so
      bytes / frame = messages, with no parsing in Python. Ends when every
      subscriber got MESSAGES messages (or after TIMEOUT seconds) and prints
      "delivered D end_time T" (T: time.time() of the last byte).

  stream PORT ENTRIES CONSUMERS TIMEOUT
      Streams: one producer XADDs ENTRIES entries (field ts = send time in ns)
      to bench:stream while CONSUMERS consumers of group g (own connections,
      own threads) loop XREADGROUP COUNT 50 BLOCK 100 ... > then XACK the ids.
      Prints "acked A seconds S p50_us P p99_us Q": handler latency = receive
      time - ts. Prints "unsupported" if XADD is an unknown command.

Exit status 0 when everything was delivered / acked.
"""
import selectors
import socket
import sys
import threading
import time


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def subs(port, n, channel, plen, messages, timeout):
    ch = channel.encode()
    # subscribe confirmation: *3 $9 subscribe $len ch :1
    confirm = len(b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(ch), ch))
    frame = len(b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n" % (len(ch), ch, plen)) + plen + 2
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = connect(port)
        s.sendall(enc("SUBSCRIBE", ch))
        socks.append(s)
    got = {}
    for s in socks:
        buf = b""
        while len(buf) < confirm:
            buf += s.recv(4096)
        got[s] = len(buf) - confirm
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    print("ready", flush=True)
    want = messages * frame
    left = sum(1 for s in socks if got[s] < want)
    deadline = time.monotonic() + timeout
    end = time.time()
    while left and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            try:
                data = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(s)
                left -= 1
                continue
            before = got[s]
            got[s] += len(data)
            end = time.time()
            if before < want <= got[s]:
                left -= 1
    delivered = sum(min(v, want) // frame for v in got.values())
    print("delivered %d end_time %.6f" % (delivered, end), flush=True)
    for s in socks:
        s.close()
    return 0 if delivered == n * messages else 1


class Conn:
    """A tiny blocking RESP2 client (enough for XADD/XREADGROUP/XACK)."""

    def __init__(self, port):
        self.s = connect(port)
        self.f = self.s.makefile("rb")

    def cmd(self, *args):
        self.s.sendall(enc(*args))
        return self.read()

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return Exception(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError("bad reply %r" % line)


def stream(port, entries, consumers, timeout):
    c = Conn(port)
    c.cmd("DEL", "bench:stream")
    r = c.cmd("XADD", "bench:stream", "*", "probe", "1")
    if isinstance(r, Exception) and "unknown command" in str(r):
        print("unsupported", flush=True)
        return 0
    c.cmd("DEL", "bench:stream")
    r = c.cmd("XGROUP", "CREATE", "bench:stream", "g", "$", "MKSTREAM")
    if isinstance(r, Exception):
        print("error XGROUP CREATE: %s" % r, flush=True)
        return 1
    lat = []
    acked = [0]
    lock = threading.Lock()
    done = threading.Event()

    def consume(i):
        cc = Conn(port)
        name = "c%d" % i
        mine = []
        while not done.is_set():
            r = cc.cmd("XREADGROUP", "GROUP", "g", name, "COUNT", "50", "BLOCK", "100",
                       "STREAMS", "bench:stream", ">")
            if not r:
                continue
            now = time.time_ns()
            ids = []
            for _key, items in r:
                for eid, fields in items:
                    ids.append(eid)
                    mine.append((now - int(fields[1])) / 1000.0)
            if ids:
                cc.cmd("XACK", "bench:stream", "g", *ids)
                with lock:
                    acked[0] += len(ids)
                    if acked[0] >= entries:
                        done.set()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(consumers)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    for i in range(entries):
        c.s.sendall(enc("XADD", "bench:stream", "*", "ts", str(time.time_ns())))
        c.read()
    done.wait(timeout)
    done.set()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    lat.sort()
    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else 0)
    print("acked %d seconds %.3f p50_us %.0f p99_us %.0f" % (acked[0], secs, p(0.50), p(0.99)), flush=True)
    return 0 if acked[0] >= entries else 1


def main(argv):
    if len(argv) >= 7 and argv[0] == "subs":
        return subs(int(argv[1]), int(argv[2]), argv[3], int(argv[4]), int(argv[5]), float(argv[6]))
    if len(argv) >= 5 and argv[0] == "stream":
        return stream(int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
