#!/usr/bin/env bash
# Runs warren on this machine: installs what is missing, builds (Release),
# starts RabbitMQ and Redis on 127.0.0.1 unless they already run, then two
# catalog workers, an auditlog worker (the audit trail read back; 503 while
# MONGO_URI is empty) and the edge on http://127.0.0.1:8080 over the Chinook
# database (or DATABASE_URI). The workers' admin ports (/livez, /readyz,
# /metrics) are 9471 and 9472 (catalog) and 9473 (auditlog), as
# deploy/prometheus/prometheus.yml expects. Ctrl-C stops everything it started.
#
# REPLICAS=N (default 0): the two catalog workers write to a copy of the
# database (.run/writer.db, made afresh each run, so the shared file is never
# written), and N replica workers follow the writer's change stream, each
# from its own snapshot (.run/replica-<i>.db), admin ports 9474, 9475, ...;
# reads go to all of them, writes to the writer (README, "Replicas").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tests/lib/deps.sh
. tests/lib/cores.sh
warren_install_deps run

echo "== building (Release)"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target warren-edge warren-catalog \
  warren-auditlog >/dev/null

config=${WARREN_CONFIG:-$root/deploy/local/config.cfg}
unset WARREN_CONFIG # ours: the binaries refuse WARREN_* keys they do not know
export WARREN_DATABASE_URI=${DATABASE_URI:-${WARREN_DATABASE_URI:-sqlite:///$root/../shared/data/chinook.db}}
state=$root/.run
mkdir -p "$state"
export WRT_AMQP_PORT=5672 WRT_DIST_PORT=25672 WRT_REDIS_PORT=6379 WRT_NODE=warren-local

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=() # the servers this script started, and so stops
for server in rabbit:5672:RabbitMQ redis:6379:Redis; do
  IFS=: read -r name port label <<<"$server"
  if listening "$port"; then
    echo "== using the $label already listening on 127.0.0.1:$port"
  else
    echo "== starting $label on 127.0.0.1:$port"
    bash tests/lib/servers.sh "start-$name" "$state/servers"
    started+=("$name")
  fi
done

replicas=${REPLICAS:-0}
[[ $replicas =~ ^[0-9]$ ]] || { echo "REPLICAS: 0 to 9, not '$replicas'" >&2; exit 2; }
if [ "$replicas" -gt 0 ]; then
  # The writer's file: a copy (its outbox and positions are its own).
  src=${WARREN_DATABASE_URI#sqlite:///}
  rm -f "$state"/writer.db* "$state"/replica-*.db*
  cp "$src" "$state/writer.db"
  export WARREN_DATABASE_URI=sqlite:///$state/writer.db
fi

pids=()
stop() {
  trap - INT TERM EXIT
  echo "== stopping"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  for name in "${started[@]}"; do bash tests/lib/servers.sh "stop-$name" "$state/servers"; done
  exit 0
}
trap stop INT TERM EXIT

# Catalog workers sign keyset cursors with CURSOR_SECRET, the same for
# every worker: made once for this checkout, kept in .run (never committed).
if [ -z "${WARREN_CURSOR_SECRET:-}${WARREN_CURSOR_SECRET_FILE:-}" ]; then
  [ -s "$state/cursor-secret" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$state/cursor-secret")
  export WARREN_CURSOR_SECRET_FILE=$state/cursor-secret
fi

# WRT_* were for servers.sh only; the binaries read WARREN_* and refuse
# variables they do not know.
unset WRT_AMQP_PORT WRT_DIST_PORT WRT_REDIS_PORT WRT_NODE
for admin in 9471 9472; do
  WARREN_ADMIN_PORT=$admin build/release/services/catalog/warren-catalog --config "$config" &
  pids+=($!)
done
WARREN_ADMIN_PORT=9473 build/release/services/auditlog/warren-auditlog --config "$config" &
pids+=($!)
ready() { curl -fs -o /dev/null "http://127.0.0.1:$1/readyz"; }
for i in $(seq 1 "$replicas"); do
  # A snapshot of the writer's file once a writer runs (it made the file's
  # log id), then a replica on it.
  [ "$i" -gt 1 ] || for _ in $(seq 100); do ready 9471 && break; sleep 0.1; done
  snap=$state/replica-$i.db
  build/release/services/catalog/warren-catalog --config "$config" --snapshot "$snap"
  WARREN_ADMIN_PORT=$((9473 + i)) WARREN_REPLICA=True WARREN_DATABASE_URI=sqlite:///$snap \
    build/release/services/catalog/warren-catalog --config "$config" &
  pids+=($!)
done
# The edge shares these cores with the broker, Redis and the workers: half
# of them for its loops, as the broker gets half for its schedulers, unless
# EDGE_THREADS is set (environment or config). On two cores one loop packs
# twice the reads a batch and every process spends less a request than
# with two (README, Benchmark).
edge_env=()
if [ -z "${WARREN_EDGE_THREADS:-}" ] && ! grep -Eq '^[[:space:]]*EDGE_THREADS[[:space:]]*=' "$config"; then
  edge_env=("WARREN_EDGE_THREADS=$(warren_half_cores)")
fi
env ${edge_env[@]+"${edge_env[@]}"} build/release/services/edge/warren-edge --config "$config" &
pids+=($!)
[ "$replicas" -eq 0 ] || echo "== $replicas replica(s) of $state/writer.db: admin ports 9474-$((9473 + replicas))"
echo "== warren: http://127.0.0.1:8080/api/Albums (Ctrl-C stops)"
echo "== the explorer: open http://127.0.0.1:8080/ in a browser"
wait -n "${pids[@]}" || true
echo "== a process exited; stopping the rest"
stop
