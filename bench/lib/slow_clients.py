#!/usr/bin/env python3
"""
bench/lib/slow_clients.py — N clients that never finish a request, for
bench/slow-clients.sh (not a test).

    slow_clients.py http|resp HOST PORT N SECONDS [INTERVAL]

http: each connection sends "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " and then
      one more byte of that header every INTERVAL seconds (default 1): a
      slow-header (slowloris) client.
resp: each connection sends "*3\r\n$3\r\nSET\r\n$8\r\nslow:key\r\n$1000000\r\n"
      and then one byte of the announced 1 MB value every INTERVAL seconds: a
      partial RESP command that never completes.
A connection the server closes (408, timeout, reset) is opened again, so N
stay open. Prints "ready N" on stdout once N are connected, then runs for
SECONDS and prints a summary line (opened, reconnects, open at the end) on
stdout. Only 127.0.0.1-style local addresses are meant as targets.
"""
import asyncio
import random
import sys

HEADS = {
    "http": (b"GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", b"z"),
    "resp": (b"*3\r\n$3\r\nSET\r\n$8\r\nslow:key\r\n$1000000\r\n", b"v"),
}


async def main(mode, host, port, n, seconds, interval):
    head, byte = HEADS[mode]
    stats = {"opened": 0, "reconnects": 0, "open": 0}
    connected = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + seconds

    async def one(k):
        first = True
        while loop.time() < stop_at:
            try:
                r, w = await asyncio.open_connection(host, port)
            except OSError:
                await asyncio.sleep(0.2)
                continue
            stats["opened"] += 1
            if not first:
                stats["reconnects"] += 1
            first = False
            stats["open"] += 1
            if stats["open"] >= n:
                connected.set()
            try:
                w.write(head)
                await w.drain()
                await asyncio.sleep(random.random() * interval)  # spread the bytes over the interval
                while loop.time() < stop_at:
                    w.write(byte)
                    await w.drain()
                    try:
                        d = await asyncio.wait_for(r.read(4096), interval)
                        if not d:
                            break  # closed by the server: open again
                    except asyncio.TimeoutError:
                        pass
            except OSError:
                pass
            finally:
                stats["open"] -= 1
                w.close()

    tasks = []
    for k in range(n):
        tasks.append(asyncio.create_task(one(k)))
        if k % 50 == 49:
            await asyncio.sleep(0.01)  # do not flood the accept queue
    try:
        await asyncio.wait_for(connected.wait(), 30)
        print(f"ready {stats['open']}", flush=True)
    except asyncio.TimeoutError:
        print(f"only {stats['open']} of {n} connected", flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"slow {mode}: opened {stats['opened']}, reconnects {stats['reconnects']}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 6 or sys.argv[1] not in HEADS:
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]),
                     float(sys.argv[6]) if len(sys.argv) > 6 else 1.0))
