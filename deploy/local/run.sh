#!/usr/bin/env bash
# Runs warren on this machine: installs what is missing, builds (Release),
# starts RabbitMQ and Redis on 127.0.0.1 unless they already run, then two
# catalog workers and the edge on http://127.0.0.1:8080 over the Chinook
# database (or DATABASE_URI). Ctrl-C stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tests/lib/deps.sh
warren_install_deps

echo "== building (Release)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target warren-edge warren-catalog >/dev/null

config=${WARREN_CONFIG:-$root/deploy/local/config.cfg}
export WARREN_DATABASE_URI=${DATABASE_URI:-${WARREN_DATABASE_URI:-sqlite:///$root/../shared/data/chinook.db}}
state=$root/.run
mkdir -p "$state"
export WRT_AMQP_PORT=5672 WRT_DIST_PORT=25672 WRT_REDIS_PORT=6379 WRT_NODE=warren-local

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started_servers=no
if listening 5672; then
  echo "== using the RabbitMQ already listening on 127.0.0.1:5672"
else
  echo "== starting RabbitMQ (127.0.0.1:5672) and Redis (127.0.0.1:6379)"
  listening 6379 && echo "   (a Redis already listens on 6379: starting RabbitMQ only)"
  if listening 6379; then
    bash tests/lib/servers.sh start-rabbit "$state/servers"
  else
    bash tests/lib/servers.sh start "$state/servers"
  fi
  started_servers=yes
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo "== stopping"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  [ $started_servers = yes ] && bash tests/lib/servers.sh stop "$state/servers"
  exit 0
}
trap stop INT TERM EXIT

# WRT_* were for servers.sh only; the binaries read WARREN_* and refuse
# variables they do not know.
unset WRT_AMQP_PORT WRT_DIST_PORT WRT_REDIS_PORT WRT_NODE
for i in 1 2; do
  build/release/services/catalog/warren-catalog --config "$config" &
  pids+=($!)
done
build/release/services/edge/warren-edge --config "$config" &
pids+=($!)
echo "== warren: http://127.0.0.1:8080/api/Albums (Ctrl-C stops)"
wait -n "${pids[@]}" || true
echo "== a process exited; stopping the rest"
stop
