# The replicas' part of the benchmark, sourced by tests/bench/bench.sh (its
# run, start_stack, stop_stack, $state, $base, $port, $secs): a writer and
# the edge take creates for REPLICA_BACKLOG_S s (default 20; wrk, 16
# connections) while no replica
# runs; then two replicas start from snapshots taken before and catch up,
# timed by polling their files: changesets applied per second per replica.
# Then, all running, write-to-visible latency on each replica
# (tests/bench/replica_lag.py): from sending a create through the edge to
# the replica's file holding its position, p50 and p99.
bench_replicas() {
  local key=bench-key-0123456789abcdef target i
  cp "$root/../shared/data/chinook.db" "$state/rw.db"
  for i in 1 2; do
    rm -f "$state/rep-$i.db"
    WARREN_DATABASE_URI="sqlite:///$state/rw.db" build/release/services/catalog/warren-catalog \
      --snapshot "$state/rep-$i.db" >>"$state/snapshot.log" 2>&1
  done
  collections="Albums, Artists"
  local common=("WARREN_Albums__METHODS=GET, POST" "WARREN_API_KEYS=bench:$key")
  extra_env=("WARREN_DATABASE_URI=sqlite:///$state/rw.db" "${common[@]}")
  start_stack 1
  wrk -t2 -c16 -d"${REPLICA_BACKLOG_S:-20}s" -s tests/bench/post_album.lua "$base/api/Albums" |
    awk '/Requests\/sec/ {printf "replicas: creates through the edge, 16 connections, no replica running: %.0f writes/s\n", $2}'
  # the writes wrk left queued are taken after it stops: wait for the last
  local prev=-1
  target=$(sqlite3 "$state/rw.db" 'SELECT max(position) FROM warren_outbox')
  while [ "$target" != "$prev" ]; do
    prev=$target
    sleep 1
    target=$(sqlite3 "$state/rw.db" 'SELECT max(position) FROM warren_outbox')
  done
  for i in 1 2; do
    extra_env=("WARREN_DATABASE_URI=sqlite:///$state/rep-$i.db" WARREN_REPLICA=True "${common[@]}")
    run "replica$i" build/release/services/catalog/warren-catalog
  done
  python3 - "$target" "$state/rep-1.db" "$state/rep-2.db" <<'PY'
import sqlite3, sys, time
target, files = int(sys.argv[1]), sys.argv[2:]
dbs = [sqlite3.connect("file:%s?mode=ro" % f, uri=True, isolation_level=None) for f in files]
start = [None] * len(files)  # (time, position) of the first change seen applied
done = [None] * len(files)
deadline = time.monotonic() + 300
while None in done and time.monotonic() < deadline:
    for k, db in enumerate(dbs):
        if done[k] is not None:
            continue
        (at,) = db.execute("SELECT position FROM warren_replica").fetchone()
        now = time.monotonic()
        if start[k] is None and at > 0:
            start[k] = (now, at)
        if at >= target:
            done[k] = now
    time.sleep(0.005)
for k in range(len(files)):
    if done[k] is None or start[k] is None:
        sys.exit("replica %d did not catch up to %d" % (k + 1, target))
    n, s = target - start[k][1], done[k] - start[k][0]
    print("replica %d: caught up %d changesets (one create each) in %.2f s: %.0f changesets/s"
          % (k + 1, n, s, n / s if s > 0 else float("inf")))
PY
  python3 tests/bench/replica_lag.py "$port" "$key" "${REPLICA_LAG_WRITES:-300}" \
    "$state/rep-1.db" "$state/rep-2.db"
  stop_stack
  extra_env=()
  collections=
}
