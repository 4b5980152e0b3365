#!/usr/bin/env bash
# Event streams resuming after an edge restart (the README's "Events for
# browsers"): a writer takes creates through the edge for WRITE_S s (default
# 10; wrk, 16 connections), each one change event; then, ROUNDS times
# (default 3), interleaved, three fresh edges each get STREAMS (default 200)
# streams at once, opened as soon as it is ready, each resuming 10 events
# before the last (tests/bench/sse_herd.py): one with its ring warmed at
# start (the defaults), one without (SSE_WARM_EVENTS=0: every resume reads
# the stream itself, SSE_CATCHUP_MAX at a time) and one without either
# (as before both: every resume at once). Prints a line a run and the
# edge's warnings by kind; asserts nothing.
# Usage: tests/bench/sse_resume.sh   Settings: WRITE_S, ROUNDS, STREAMS,
# WRT_AMQP_PORT/WRT_DIST_PORT/WRT_REDIS_PORT/WRT_MONGO_PORT/WRT_NODE.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=tests/lib/deps.sh
. tests/lib/deps.sh
warren_install_deps
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
streams=${STREAMS:-200}
ulimit -n $((streams * 4 + 1024))

state=$(mktemp -d /tmp/warren-sse-resume.XXXXXX)
export WRT_AMQP_PORT=${WRT_AMQP_PORT:-5686} WRT_DIST_PORT=${WRT_DIST_PORT:-25686}
export WRT_REDIS_PORT=${WRT_REDIS_PORT:-6393} WRT_MONGO_PORT=${WRT_MONGO_PORT:-27032}
export WRT_NODE=${WRT_NODE:-warren-sse-resume}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash tests/lib/servers.sh stop "$state" || true
  rm -rf "$state"
}
trap cleanup EXIT
bash tests/lib/servers.sh start "$state" >/dev/null
cp "$root/../shared/data/chinook.db" "$state/rw.db"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=bench-key-0123456789abcdef
run() { # name, binary, extra settings...
  local name=$1 bin=$2
  shift 2
  env -i PATH="$PATH" WARREN_AMQP_URL="amqp://guest:guest@127.0.0.1:$WRT_AMQP_PORT/%2f" \
    WARREN_HTTP_PORT="$port" WARREN_DATABASE_URI="sqlite:///$state/rw.db" \
    WARREN_COLLECTIONS="Albums, Artists" WARREN_LOG_LEVEL=warn \
    "WARREN_Albums__METHODS=GET, POST" WARREN_API_KEYS="bench:$key" \
    WARREN_AUDIT_SPOOL_DIR="$state/spool" WARREN_CURSOR_SECRET=bench-cursor-secret-0123456789abcdef \
    WARREN_SSE_MAX_CLIENTS=$((streams + 10)) WARREN_MAX_CONNECTIONS=$((streams * 2 + 100)) \
    WARREN_MAX_CONNECTIONS_PER_ADDRESS=$((streams * 2 + 100)) "$@" "$bin" 2>>"$state/$name.log" &
  pids+=($!)
}
ready() {
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "sse_resume: the edge never got ready (see $state/$1.log)" >&2
  exit 1
}
run catalog build/release/services/catalog/warren-catalog
run edge build/release/services/edge/warren-edge
edge=$!
ready edge
wrk -t2 -c16 -d"${WRITE_S:-10}s" -s tests/bench/post_album.lua "http://127.0.0.1:$port/api/Albums" |
  awk '/Requests\/sec/ {printf "sse_resume: creates through the edge: %.0f writes/s\n", $2}'
last=-1 # the writes wrk left queued are taken after it stops: the last one's
while :; do
  sleep 1
  now=$(sqlite3 "$state/rw.db" 'SELECT max(position) FROM warren_outbox')
  [ "$now" = "$last" ] && break
  last=$now
done
kill "$edge"
wait "$edge" || true
echo "sse_resume: $(nproc) cores; the stream ends at position $last; $streams streams resume 10 before it"
for round in $(seq 1 "${ROUNDS:-3}"); do
  for variant in "4096 16" "0 16" "0 10000"; do
    read -r warm cap <<<"$variant"
    python3 tests/bench/sse_herd.py "$port" "$streams" "$last" 10 >"$state/herd.out" &
    herd=$!
    run "edge-$warm-$cap-$round" build/release/services/edge/warren-edge \
      WARREN_SSE_WARM_EVENTS="$warm" WARREN_SSE_CATCHUP_MAX="$cap"
    edge=$!
    wait "$herd"
    printf '  round %d, SSE_WARM_EVENTS=%-4s SSE_CATCHUP_MAX=%-5s %s\n' "$round" "$warm" "$cap" \
      "$(cat "$state/herd.out")"
    kill "$edge"
    wait "$edge" || true
    # why streams ended without their events: the edge's warnings, by kind
    sed -n 's/.* warn edge \[[^]]*\] \([^:]*: [^:]*: [^:]*: [^:]*\).*/\1/p' "$state/edge-$warm-$cap-$round.log" |
      sort | uniq -c | sort -rn | head -3 | sed 's/^ */      edge warnings: /'
  done
done
