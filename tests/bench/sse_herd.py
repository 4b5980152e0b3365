#!/usr/bin/env python3
"""A herd of event streams resuming at once (tests/bench/sse_resume.sh).

Usage: sse_herd.py PORT STREAMS LAST WANT
Waits for the edge's /readyz, then opens STREAMS raw HTTP/1.0 streams on
/api/events, each with Last-Event-ID LAST - WANT, and times until each has
WANT events (ids LAST - WANT + 1 .. LAST), for at most a minute. Prints one
line: how many had them, the median and the slowest, and the edge's
catch-up counters from /metrics."""
import selectors
import socket
import sys
import time
import urllib.request

port, streams, last, want = (int(a) for a in sys.argv[1:5])
base = f"http://127.0.0.1:{port}"
while True:
    try:
        urllib.request.urlopen(base + "/readyz", timeout=1).read()
        break
    except OSError:
        time.sleep(0.01)
sel = selectors.DefaultSelector()
got = {}
start = time.monotonic()
for _ in range(streams):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /api/events HTTP/1.0\r\nHost: x\r\nLast-Event-ID: {last - want}\r\n\r\n".encode())
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    got[s] = b""
times = []
open_ = streams
deadline = start + 60
while open_ > 0 and time.monotonic() < deadline:
    for key, _ in sel.select(1):
        s = key.fileobj
        data = s.recv(65536)
        got[s] += data
        done = f"\nid: {last}\n".encode() in got[s]
        if done:
            times.append(time.monotonic() - start)
        if done or not data:
            sel.unregister(s)
            s.close()
            open_ -= 1
times.sort()
metrics = urllib.request.urlopen(base + "/metrics").read().decode().splitlines()
counters = {l.split()[0]: l.split()[1] for l in metrics if l.startswith("warren_edge_sse_catchup")}
line = f"{len(times)}/{streams} had their {want} events"
if times:
    line += f", median {times[len(times) // 2] * 1000:.0f} ms, slowest {times[-1] * 1000:.0f} ms"
line += f"; catch-ups {counters.get('warren_edge_sse_catchups_total', '?')}"
line += f", events they read {counters.get('warren_edge_sse_catchup_events_read_total', '?')}"
print(line)
