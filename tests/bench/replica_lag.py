#!/usr/bin/env python3
"""Write-to-visible latency on replicas, for tests/bench/replicas.sh.

Sends N creates through the edge one after another; for each, the time
from sending the POST until every replica's file records a position at or
past the reply's X-Warren-Position (polling each file's warren_replica, a
WAL reader: it never blocks the applier). Prints p50, p99 and max per
replica (and from the reply on), and the write's own round trip.

Usage: replica_lag.py PORT API_KEY N REPLICA.db [REPLICA.db ...]
"""
import http.client
import sqlite3
import sys
import time


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    files = sys.argv[4:]
    dbs = [sqlite3.connect("file:%s?mode=ro" % f, uri=True, isolation_level=None) for f in files]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json",
               "Prefer": "return=minimal"}
    lags = [[] for _ in files]
    after = [[] for _ in files]  # from the write's reply
    rtts = []
    for i in range(n):
        t0 = time.monotonic()
        conn.request("POST", "/api/Albums", '{"title":"lag %d","artist_id":1}' % i, headers)
        r = conn.getresponse()
        r.read()
        t1 = time.monotonic()
        if r.status != 201:
            sys.exit("POST %d: %d" % (i, r.status))
        position = int(r.getheader("X-Warren-Position"))
        rtts.append(t1 - t0)
        pending = set(range(len(files)))
        deadline = t1 + 30
        while pending and time.monotonic() < deadline:
            for k in list(pending):
                (at,) = dbs[k].execute("SELECT position FROM warren_replica").fetchone()
                if at >= position:
                    now = time.monotonic()
                    lags[k].append(now - t0)
                    after[k].append(now - t1)
                    pending.discard(k)
            if pending:
                time.sleep(0.0005)
        if pending:
            sys.exit("position %d never reached replica(s) %s" % (position, sorted(pending)))
    ms = lambda v: "%7.2f ms" % (v * 1000)
    print("write round trip (POST through the edge), %d writes: p50 %s  p99 %s" %
          (n, ms(pct(rtts, 50)), ms(pct(rtts, 99))))
    for k, f in enumerate(files):
        print("write-to-visible on replica %d (send to its file at the position): "
              "p50 %s  p99 %s  max %s;  after the reply: p50 %s  p99 %s"
              % (k + 1, ms(pct(lags[k], 50)), ms(pct(lags[k], 99)), ms(max(lags[k])),
                 ms(pct(after[k], 50)), ms(pct(after[k], 99))))


if __name__ == "__main__":
    main()
