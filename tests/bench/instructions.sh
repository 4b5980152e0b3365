#!/usr/bin/env bash
# Instructions per request of one catalog worker and the edge, counted by
# callgrind: deterministic where wall-clock figures on a shared machine are
# not. Both processes run under callgrind while wrk loads the edge, twice
# (a short and a long run); the difference of the two totals over the
# difference of the two request counts leaves out start-up and shutdown.
# Usage: tests/bench/instructions.sh [PATH] [short s] [long s]
#   (default /api/Albums 4 16; Release build in build/release; EDGE_THREADS,
#   SINGLE_FLIGHT and EDGE_BATCH from the environment go to the edge;
#   CACHE=1 gives the worker the private Redis, as the shipped config does;
#   COLLECTIONS (default 'Albums, Artists') and LOCAL_CACHE_MAX_BYTES go to
#   both; SCRIPT is a wrk script to load it with, PATH then its first path)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tests/lib/deps.sh
warren_install_deps
path=${1:-/api/Albums}
short=${2:-4}
long=${3:-16}
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null

state=$(mktemp -d /tmp/warren-instr.XXXXXX)
# The private servers' ports: WRT_* from the environment win, so two
# checkouts can count at once.
export WRT_AMQP_PORT=${WRT_AMQP_PORT:-5675} WRT_DIST_PORT=${WRT_DIST_PORT:-25675}
export WRT_REDIS_PORT=${WRT_REDIS_PORT:-6382} WRT_NODE=${WRT_NODE:-warren-instr}
export WRT_MONGO_PORT=${WRT_MONGO_PORT:-27019}
cleanup() {
  pkill -f "callgrind.*$root/build/release/services/" 2>/dev/null || true
  bash tests/lib/servers.sh stop "$state" >/dev/null || true
  rm -rf "$state"
}
trap cleanup EXIT
bash tests/lib/servers.sh start "$state" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# One run of secs seconds; prints "requests worker_Ir edge_Ir".
run() {
  local secs=$1 out=$state/run-$1 wp ep
  mkdir -p "$out"
  local env=(env -i PATH="$PATH" WARREN_HTTP_PORT="$port"
    WARREN_AMQP_URL="amqp://guest:guest@127.0.0.1:$WRT_AMQP_PORT/%2f"
    WARREN_DATABASE_URI="sqlite:///$root/../shared/data/chinook.db"
    WARREN_COLLECTIONS="${COLLECTIONS:-Albums, Artists}" WARREN_LOG_LEVEL=warn
    ${LOCAL_CACHE_MAX_BYTES:+WARREN_LOCAL_CACHE_MAX_BYTES=$LOCAL_CACHE_MAX_BYTES}
    WARREN_AUDIT_SPOOL_DIR="$out/spool" WARREN_PREFETCH=256
    WARREN_CURSOR_SECRET=bench-cursor-secret-0123456789abcdef
    ${EDGE_THREADS:+WARREN_EDGE_THREADS=$EDGE_THREADS} ${SINGLE_FLIGHT:+WARREN_SINGLE_FLIGHT=$SINGLE_FLIGHT}
    ${EDGE_BATCH:+WARREN_EDGE_BATCH=$EDGE_BATCH}
    ${CACHE:+WARREN_REDIS_URL=redis://127.0.0.1:$WRT_REDIS_PORT/0})
  "${env[@]}" valgrind --tool=callgrind --callgrind-out-file="$out/worker.cg" \
    "$root/build/release/services/catalog/warren-catalog" 2>"$out/worker.log" &
  wp=$!
  "${env[@]}" valgrind --tool=callgrind --callgrind-out-file="$out/edge.cg" \
    "$root/build/release/services/edge/warren-edge" 2>"$out/edge.log" &
  ep=$!
  for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  wrk -t1 -c16 -d"${secs}s" ${SCRIPT:+-s "$SCRIPT"} "http://127.0.0.1:$port$path" >"$out/wrk.txt"
  kill -TERM "$ep" "$wp"
  wait "$ep" "$wp" || true
  printf '%s %s %s\n' "$(awk '/requests in/ {print $1}' "$out/wrk.txt")" \
    "$(awk '/^summary:/ {print $2; exit}' "$out/worker.cg")" \
    "$(awk '/^summary:/ {print $2; exit}' "$out/edge.cg")"
}
read -r n1 w1 e1 < <(run "$short")
read -r n2 w2 e2 < <(run "$long")
awk -v p="$path" -v n1="$n1" -v n2="$n2" -v w1="$w1" -v w2="$w2" -v e1="$e1" -v e2="$e2" 'BEGIN {
  printf "GET %s: %d and %d requests; per request: worker %.1fk instructions, edge %.1fk\n",
    p, n1, n2, (w2 - w1) / (n2 - n1) / 1000, (e2 - e1) / (n2 - n1) / 1000 }'
