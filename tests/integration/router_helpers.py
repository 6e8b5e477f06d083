"""
router_helpers.py — what the `scaleout router` tests share.

  FakeShard(consume)         a shard stand-in on a free port of 127.0.0.1: each
                             connection is read on a thread of its own, and
                             consume(conn, buf) answers what it can of the
                             bytes read so far and returns the rest
  FakeShard(handle=fn)       the same, but fn(conn) serves each accepted
                             connection in the accept loop (and closes it)

Every socket wait is 0.2 s at most, so close() (by the test, in a finally)
ends the accept loop and every reader within that; nothing outlives the test.
"""
import socket
import threading

HOST = "127.0.0.1"


class FakeShard:
    def __init__(self, consume=None, handle=None):
        self.consume = consume
        self.handle = handle
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            if self.handle is not None:
                self.handle(conn)
            else:
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(0.2)
        buf = b""
        while not self.stop.is_set():
            try:
                d = conn.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not d:
                break
            buf = self.consume(conn, buf + d)
        conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()
