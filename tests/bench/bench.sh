#!/usr/bin/env bash
# The benchmark: builds Release, starts a private RabbitMQ, two catalog
# workers and the edge (the walkthrough's two collections, as the
# Flask-Restless figures were taken), then prints wrk's requests/s and
# p50/p99 latency at 64 connections, and the RPC client's blocking and
# pipelined calls/s. Usage: tests/bench/bench.sh [seconds per run]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tests/lib/deps.sh
warren_install_deps
secs=${1:-10}
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null

state=$(mktemp -d /tmp/warren-bench.XXXXXX)
export WRT_AMQP_PORT=5674 WRT_DIST_PORT=25674 WRT_REDIS_PORT=6381 WRT_NODE=warren-bench
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash tests/lib/servers.sh stop "$state" || true
  rm -rf "$state"
}
trap cleanup EXIT
bash tests/lib/servers.sh start "$state"

amqp="amqp://guest:guest@127.0.0.1:$WRT_AMQP_PORT/%2f"
run() { # name, binary: started with the bench config in the environment
  env -i PATH="$PATH" WARREN_AMQP_URL="$amqp" WARREN_HTTP_PORT=18280 \
    WARREN_DATABASE_URI="sqlite:///$root/../shared/data/chinook.db" \
    WARREN_COLLECTIONS='Albums, Artists' WARREN_LOG_LEVEL=warn WARREN_AUDIT_SPOOL_DIR="$state/spool" WARREN_PREFETCH=${PREFETCH:-256} \
    WARREN_CURSOR_SECRET=bench-cursor-secret-0123456789abcdef \
    "$2" 2>"$state/$1.log" &
  pids+=($!)
}
run catalog1 build/release/services/catalog/warren-catalog
run catalog2 build/release/services/catalog/warren-catalog
run edge build/release/services/edge/warren-edge
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18280/readyz >/dev/null && break; sleep 0.1; done

echo "warren on $(nproc) cores: edge + 2 catalog workers + RabbitMQ on one machine"
for path in /api/Albums /api/Albums/1; do
  wrk -t2 -c64 -d2s "http://127.0.0.1:18280$path" >/dev/null # warm up
  out=$(wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:18280$path")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" || true)
  printf 'GET %-15s 64 connections: %8s req/s  p50 %8s  p99 %8s %s\n' "$path" "$rps" "$p50" "$p99" "$errors"
done
build/release/tests/rpc_bench "$amqp" 5000 64
