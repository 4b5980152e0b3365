#!/usr/bin/env bash
# Memory under load (issue "beyond one broker message per request", target
# 4): the edge's resident set with N requests in flight (default 10,000,
# the edge's MAX_IN_FLIGHT), and a worker's while it answers them all.
# Starts a private RabbitMQ, one catalog worker and the edge (Release
# build, the walkthrough's two collections); stops the worker (SIGSTOP) so
# that every request stays in flight, opens N connections each with one
# GET (tests/bench/hold.py), reads the edge's VmRSS once the edge counts
# them all in warren_http_requests_in_flight, lets the worker go and
# reads its VmHWM when every answer is in. Prints one table; asserts
# nothing (a benchmark: the figures are for the README and the issue).
# Usage: tests/bench/memory.sh [N]   Settings: EDGE_THREADS, EDGE_BATCH,
# EDGE_WRAP (a command the edge runs under, e.g. "heaptrack -o FILE": its
# RSS figures are then the wrapper's),
# WRT_AMQP_PORT/WRT_DIST_PORT/WRT_REDIS_PORT/WRT_MONGO_PORT/WRT_NODE.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
n=${1:-10000}
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null
ulimit -n $((n + 1024)) # the client's sockets; the edge raises its own limit

state=$(mktemp -d /tmp/warren-memory.XXXXXX)
export WRT_AMQP_PORT=${WRT_AMQP_PORT:-5684} WRT_DIST_PORT=${WRT_DIST_PORT:-25684}
export WRT_REDIS_PORT=${WRT_REDIS_PORT:-6391} WRT_MONGO_PORT=${WRT_MONGO_PORT:-27030}
export WRT_NODE=${WRT_NODE:-warren-memory}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash tests/lib/servers.sh stop "$state" || true
  rm -rf "$state"
}
trap cleanup EXIT
bash tests/lib/servers.sh start "$state" >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run() { # name, binary
  env -i PATH="$PATH" WARREN_AMQP_URL="amqp://guest:guest@127.0.0.1:$WRT_AMQP_PORT/%2f" \
    WARREN_HTTP_PORT="$port" WARREN_DATABASE_URI="sqlite:///$root/../shared/data/chinook.db" \
    WARREN_COLLECTIONS="Albums, Artists" WARREN_LOG_LEVEL=warn \
    WARREN_AUDIT_SPOOL_DIR="$state/spool" WARREN_REDIS_URL="redis://127.0.0.1:$WRT_REDIS_PORT/0" \
    WARREN_CURSOR_SECRET=bench-cursor-secret-0123456789abcdef \
    WARREN_MAX_IN_FLIGHT="$n" WARREN_MAX_CONNECTIONS=$((n + 100)) \
    WARREN_MAX_CONNECTIONS_PER_ADDRESS=$((n + 100)) WARREN_REQUEST_TIMEOUT_MS=300000 \
    ${EDGE_THREADS:+WARREN_EDGE_THREADS=$EDGE_THREADS} WARREN_EDGE_BATCH="${EDGE_BATCH:-False}" \
    ${wrap:-} "$2" 2>>"$state/$1.log" &
  pids+=($!)
}
run catalog build/release/services/catalog/warren-catalog
worker=$!
wrap=${EDGE_WRAP:-} run edge build/release/services/edge/warren-edge
edge=$!
base=http://127.0.0.1:$port
for _ in $(seq 1 600); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "$base/readyz" >/dev/null || { echo "memory: the edge never got ready" >&2; exit 1; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
in_flight() { curl -fs "$base/metrics" | awk '$1 == "warren_http_requests_in_flight" { s += $2 } END { print s + 0 }'; }

# warm: every album once (the worker's statements, caches and audit ring fill)
for i in $(seq 1 347); do printf 'url = "%s"\noutput = "/dev/null"\n' "$base/api/Albums/$i"; done >"$state/warm.curl"
curl -fs --parallel --parallel-max 32 -K "$state/warm.curl" 2>/dev/null
edge_idle=$(kb "$edge" VmRSS)
worker_idle=$(kb "$worker" VmRSS)

kill -STOP "$worker"
python3 tests/bench/hold.py "$port" "$n" "$state/ready" "$state/go" >"$state/hold.out" &
hold=$!
for _ in $(seq 1 1200); do [ -f "$state/ready" ] && break; sleep 0.1; done
held=0
for _ in $(seq 1 600); do
  held=$(in_flight)
  [ "$held" -ge "$n" ] && break
  sleep 0.1
done
edge_held=$(kb "$edge" VmRSS)
kill -CONT "$worker"
touch "$state/go"
wait "$hold" || true
edge_peak=$(kb "$edge" VmHWM)
worker_peak=$(kb "$worker" VmHWM)

echo "memory: $(nproc) cores, $(awk '{print $1}' /proc/loadavg) load, edge threads ${EDGE_THREADS:-default}, batches ${EDGE_BATCH:-False}"
echo "  $(cat "$state/hold.out")"
printf '  %-36s %8s MB\n' "edge RSS idle (after warm-up)" "$(mb "$edge_idle")"
printf '  %-36s %8s MB\n' "edge RSS with $held in flight" "$(mb "$edge_held")"
printf '  %-36s %8s MB\n' "edge peak RSS (VmHWM)" "$(mb "$edge_peak")"
printf '  %-36s %8s MB\n' "worker RSS idle (after warm-up)" "$(mb "$worker_idle")"
printf '  %-36s %8s MB\n' "worker peak RSS answering them" "$(mb "$worker_peak")"
