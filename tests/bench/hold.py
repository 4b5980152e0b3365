#!/usr/bin/env python3
"""Holds N requests in flight at the edge, for tests/bench/memory.sh.

Usage: hold.py PORT N READY_FILE GO_FILE
Opens N connections to 127.0.0.1:PORT, sends one GET /api/Albums/<k> on
each (k cycles over 1..347 so that no two neighbours share a key), writes
READY_FILE once every request is sent, waits for GO_FILE to appear, then
reads every answer and prints "answered A of N, statuses {...}". Exits 1
when an answer is missing.
"""
import os
import selectors
import socket
import sys
import time


def main() -> int:
    port, n, ready, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /api/Albums/%d HTTP/1.1\r\nHost: bench\r\n\r\n" % (i % 347 + 1))
        socks.append(s)
    with open(ready, "w", encoding="ascii") as f:
        f.write("%d\n" % n)
    while not os.path.exists(go):
        time.sleep(0.05)
    sel = selectors.DefaultSelector()
    bufs = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    statuses, done = {}, 0
    deadline = time.monotonic() + 120
    while done < n and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            chunk = s.recv(65536)
            bufs[s] += chunk
            head, sep, body = bufs[s].partition(b"\r\n\r\n")
            if not sep:
                if not chunk:
                    sel.unregister(s)
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(body) >= length or not chunk:
                status = int(head.split(b" ")[1])
                statuses[status] = statuses.get(status, 0) + 1
                done += 1
                sel.unregister(s)
    print("answered %d of %d, statuses %s" % (done, n, dict(sorted(statuses.items()))))
    return 0 if done == n else 1


if __name__ == "__main__":
    sys.exit(main())
