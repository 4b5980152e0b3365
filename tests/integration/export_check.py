#!/usr/bin/python3
"""The client side of tests/integration/test_export.c: prepares the copy of
Chinook, reads exports over HTTP with the standard library (http.client
decodes the chunked encoding and raises IncompleteRead on a stream cut
short; the csv module is the RFC 4180 reader the issue names), and checks
them against direct sqlite3 queries of the same file. Exits non-zero, with
the reason on stderr, when a check fails; prints its figures on stdout."""
import csv
import http.client
import io
import json
import os
import signal
import sqlite3
import sys
import time

BIG_ROWS = 200000
TRICKY = 'Comma, "quote"\nnewline\r\ncrlf'


def fail(msg):
    sys.stderr.write("export_check: " + msg + "\n")
    sys.exit(1)


def prepare(db):
    """A big table, and a track whose name needs every CSV quoting rule."""
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT NOT NULL, amount REAL)")
    con.execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
        "INSERT INTO big SELECT x, printf('row %07d, padded to make the export large: "
        "abcdefghijklmnopqrstuvwxyz0123456789', x), x * 0.5 FROM c", (BIG_ROWS,))
    con.execute(
        "INSERT INTO tracks (Name, AlbumId, MediaTypeId, GenreId, Composer, Milliseconds, "
        "Bytes, UnitPrice) VALUES (?, 1, 1, 1, '', 1, 1, 0.99)", (TRICKY,))
    con.commit()
    con.close()


def get(port, path, accept):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers={"Accept": accept})
    return conn, conn.getresponse()


def expected_cell(v):
    if v is None:
        return ""
    return str(v)  # ints, and floats in Python's shortest repr, as warren writes them


def check_csv(port, db):
    conn, r = get(port, "/api/Tracks", "text/csv")
    if r.status != 200:
        fail("csv: status %d: %s" % (r.status, r.read()))
    if not r.getheader("Content-Type", "").startswith("text/csv"):
        fail("csv: Content-Type %s" % r.getheader("Content-Type"))
    if r.getheader("Content-Disposition") != 'attachment; filename="Tracks.csv"':
        fail("csv: Content-Disposition %s" % r.getheader("Content-Disposition"))
    if r.getheader("Transfer-Encoding") != "chunked":
        fail("csv: not chunked")
    body = r.read().decode("utf-8")
    conn.close()
    rows = list(csv.reader(io.StringIO(body, newline=""), strict=True))
    header, rows = rows[0], rows[1:]
    con = sqlite3.connect(db)
    cur = con.execute("SELECT * FROM tracks ORDER BY TrackId")
    want = [[expected_cell(v) for v in row] for row in cur.fetchall()]
    con.close()
    if header != ["track_id", "name", "album_id", "media_type_id", "genre_id", "composer",
                  "milliseconds", "bytes", "unit_price"]:
        fail("csv: header %r" % header)
    if rows != want:
        for i, (a, b) in enumerate(zip(rows, want)):
            if a != b:
                fail("csv: row %d is %r, the database has %r" % (i, a, b))
        fail("csv: %d rows, the database has %d" % (len(rows), len(want)))
    if not any(row[1] == TRICKY for row in rows):
        fail("csv: the tricky name did not round-trip")
    if body.count("\r\n") < len(rows) + 1:
        fail("csv: records not ended by CRLF")
    print("csv %d rows %d bytes" % (len(rows), len(body)))


def check_ndjson(port, db, genre):
    q = json.dumps({"filters": [{"name": "genre_id", "op": "eq", "val": int(genre)}]})
    path = "/api/Tracks?q=" + q.replace(" ", "%20").replace('"', "%22")
    conn, r = get(port, path, "application/x-ndjson")
    if r.status != 200 or r.getheader("Content-Type") != "application/x-ndjson":
        fail("ndjson: %d %s" % (r.status, r.getheader("Content-Type")))
    lines = r.read().decode("utf-8").split("\n")
    conn.close()
    if lines[-1] != "":
        fail("ndjson: the last line is not ended")
    objs = [json.loads(line) for line in lines[:-1]]
    con = sqlite3.connect(db)
    want = [row[0] for row in con.execute(
        "SELECT TrackId FROM tracks WHERE GenreId = ? ORDER BY TrackId", (int(genre),))]
    con.close()
    if [o["track_id"] for o in objs] != want:
        fail("ndjson: ids %r, want %r" % ([o["track_id"] for o in objs][:5], want[:5]))
    if any(o["genre_id"] != int(genre) or "error" in o for o in objs):
        fail("ndjson: a line the filter should have left out")
    print("ndjson %d rows" % len(objs))


def read_slowly(r, pause_s, step, on_progress=None):
    """Reads r in steps with pauses; (bytes, cut): cut when the stream ended
    without its last chunk."""
    parts, n = [], 0
    try:
        while True:
            b = r.read(step)
            if not b:
                return b"".join(parts), False
            parts.append(b)
            n += len(b)
            if on_progress:
                on_progress(n)
            time.sleep(pause_s)
    except http.client.IncompleteRead as e:
        parts.append(e.partial)
        return b"".join(parts), True


def csv_ids(data):
    """The ids of the complete records of a CSV body (a cut may end mid-record)."""
    text = data.decode("utf-8", errors="replace")
    end = text.rfind("\r\n")
    rows = list(csv.reader(io.StringIO(text[:end + 2], newline="")))
    return [int(row[0]) for row in rows[1:]]


def check_cap(port, fmt, cap):
    cap = int(cap)
    accept = "text/csv" if fmt == "csv" else "application/x-ndjson"
    conn, r = get(port, "/api/Big", accept)
    if r.getheader("X-Warren-Export-Max-Rows") != str(cap):
        fail("cap: X-Warren-Export-Max-Rows %s" % r.getheader("X-Warren-Export-Max-Rows"))
    data, cut = read_slowly(r, 0, 1 << 20)
    conn.close()
    if fmt == "csv":
        ids = csv_ids(data)
        if not cut or ids != list(range(1, cap + 1)):
            fail("cap csv: cut %s, %d rows" % (cut, len(ids)))
    else:
        lines = data.decode("utf-8").split("\n")
        last = json.loads(lines[-2])
        ids = [json.loads(line)["id"] for line in lines[:-2]]
        if cut or last.get("error", {}).get("code") != "row_cap" or ids != list(range(1, cap + 1)):
            fail("cap ndjson: cut %s, last %r, %d rows" % (cut, last, len(ids)))
    print("cap %s %d rows, then %s" % (fmt, len(ids), "cut" if cut else "an error line"))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def check_slow(port, edge_pid, max_growth_kb):
    """A slow reader of a large export: the edge's RSS must not grow with it."""
    edge_pid, max_growth_kb = int(edge_pid), int(max_growth_kb)
    conn, r = get(port, "/api/Tracks", "text/csv")  # warm up: the first chunk's buffers
    r.read()
    conn.close()
    before = rss_kb(edge_pid)
    peak = [before]
    conn, r = get(port, "/api/Big", "text/csv")
    t0 = time.time()
    data, cut = read_slowly(r, 0.002, 64 * 1024,
                            lambda n: peak.__setitem__(0, max(peak[0], rss_kb(edge_pid))))
    conn.close()
    ids = csv_ids(data)
    print("slow: %d bytes in %.1f s; edge VmRSS %d kB before, %d kB at most (+%d kB)"
          % (len(data), time.time() - t0, before, peak[0], peak[0] - before))
    if cut or ids != list(range(1, BIG_ROWS + 1)):
        fail("slow: cut %s, %d rows" % (cut, len(ids)))
    if peak[0] - before > max_growth_kb or len(data) < 4 * max_growth_kb * 1024:
        fail("slow: the edge grew %d kB over a %d-byte export" % (peak[0] - before, len(data)))


def check_kill(port, worker_pid):
    """A worker killed mid-export: the export completes whole, or fails
    detectably (a cut CSV); never silently short."""
    worker_pid = int(worker_pid)
    conn, r = get(port, "/api/Big", "text/csv")
    killed = [False]

    def kill(n):
        if not killed[0] and n > 4 * 1024 * 1024:
            os.kill(worker_pid, signal.SIGKILL)
            killed[0] = True
    data, cut = read_slowly(r, 0.001, 256 * 1024, kill)
    conn.close()
    ids = csv_ids(data)
    if not killed[0]:
        fail("kill: the export ended before the kill")
    if not cut and ids != list(range(1, BIG_ROWS + 1)):
        fail("kill: a whole-looking export of %d rows, not %d" % (len(ids), BIG_ROWS))
    if ids != list(range(1, len(ids) + 1)):
        fail("kill: rows repeated or missing")
    print("kill: %s, %d rows" % ("cut, detectably" if cut else "complete", len(ids)))


def check_deadline(port):
    conn, r = get(port, "/api/Big", "application/x-ndjson")
    data, cut = read_slowly(r, 0.05, 64 * 1024)
    conn.close()
    lines = data.decode("utf-8").split("\n")
    last = json.loads(lines[-2])
    if cut or last.get("error", {}).get("code") != "timeout":
        fail("deadline: cut %s, last line %r" % (cut, lines[-2][:200]))
    print("deadline: %d rows, then %s" % (len(lines) - 2, lines[-2]))


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "prepare":
        prepare(*args)
        return
    port, rest = int(args[0]), args[1:]
    {"csv": check_csv, "ndjson": check_ndjson, "cap": check_cap, "slow": check_slow,
     "kill": check_kill, "deadline": check_deadline}[mode](port, *rest)


if __name__ == "__main__":
    main()
