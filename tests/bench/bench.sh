#!/usr/bin/env bash
# The benchmark: builds Release, starts a private RabbitMQ, catalog workers
# and the edge (the walkthrough's two collections, as the Flask-Restless
# figures were taken), and prints in one run, per round:
#   - the raw per-message RPC ceilings of the same broker (tests/bench/
#     rpc_ceiling.c: plain rabbitmq-c, classic and quorum queue, 64 in
#     flight, replies the size of each page, direct reply-to);
#   - wrk's req/s, p50 and p99 at 64 connections for each path, its ratio
#     to the quorum ceiling, and CPU µs per request of the edge, the broker
#     (beam.smp) and the workers, from /proc;
# then the spread of the ratios over the rounds, the RPC client's calls/s,
# the rows/s of a bulk insert (1,000 rows a POST), of its change events
# published and of a CSV export, and the first page against the last (by
# page number and by keyset cursor).
# Absolute figures on a shared machine move by ±50 %: only the ratios
# measured in one run count (tests/bench/instructions.sh gives the
# deterministic figure).
# Usage: tests/bench/bench.sh [seconds per run]
# Each path is measured on three edges of one stack, interleaved: batches
# off (EDGE_BATCH False), batches on, single-flight on.
# Then replicas (tests/bench/replicas.sh): changesets applied per second
# per replica, and write-to-visible latency p50/p99 on each.
# Settings: BENCH_RUNS (rounds, default 1), REPLICAS=0 (skip the replicas),
# DEPTH_ONLY=1 (only the first page against the last), CACHE_ONLY=1 (only
# the cache's modes), FLOOD_ONLY=1 (only a flood of refused requests),
# REPLICAS_ONLY=1 (only them), REPLICA_BACKLOG_S (tests/bench/replicas.sh),
# WORKERS (default 2), EDGE_THREADS (default: half the cores, as
# deploy/local/run.sh gives the edge: tests/lib/cores.sh), EDGE_BATCH
# (the first edge's and the later stacks', default False), CACHE=1 (the
# Redis cache on, as the shipped config), SCALING=1 (also a table over edge
# threads 1 2 4 and workers 1 2 4 8),
# WRT_AMQP_PORT/WRT_DIST_PORT/WRT_REDIS_PORT/WRT_MONGO_PORT/WRT_NODE (the
# private servers' ports, so two checkouts can run it at once).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tests/lib/deps.sh
. tests/lib/cores.sh
warren_install_deps
secs=${1:-10}
EDGE_THREADS=${EDGE_THREADS:-$(warren_half_cores)}
runs=${BENCH_RUNS:-1}
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build build/release -j"$(nproc)" >/dev/null

state=$(mktemp -d /tmp/warren-bench.XXXXXX)
export WRT_AMQP_PORT=${WRT_AMQP_PORT:-5674} WRT_DIST_PORT=${WRT_DIST_PORT:-25674}
export WRT_REDIS_PORT=${WRT_REDIS_PORT:-6381} WRT_MONGO_PORT=${WRT_MONGO_PORT:-27020}
export WRT_NODE=${WRT_NODE:-warren-bench}
pids=()
extra_env=()
collections=
worker_pids=()
edge_pid=
stop_stack() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  worker_pids=()
  edge_pid=
}
cleanup() {
  stop_stack
  bash tests/lib/servers.sh stop "$state" || true
  rm -rf "$state"
}
trap cleanup EXIT
bash tests/lib/servers.sh start "$state"
broker_pid=$(cat "$state/rabbit/beam.pid")
tck=$(getconf CLK_TCK)

amqp="amqp://guest:guest@127.0.0.1:$WRT_AMQP_PORT/%2f"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
port2=$(free_port) # a second edge beside the first, SINGLE_FLIGHT on
port3=$(free_port) # a third, EDGE_BATCH on (the others off)
base=http://127.0.0.1:$port
base2=http://127.0.0.1:$port2
base3=http://127.0.0.1:$port3
# No MongoDB here: each worker keeps the newest 256 MiB of its spool. Without
# that, a full run's records (a few million) filled the spools to
# AUDIT_SPOOL_MAX_BYTES and the workers stopped taking requests in the last
# runs (the cursor walk's 64 timeouts, 2026-12-07).
run() { # name, binary[, threads[, single-flight[, batch]]]: with the bench config in the environment
  env -i PATH="$PATH" WARREN_AMQP_URL="$amqp" WARREN_HTTP_PORT="${http_port:-$port}" \
    WARREN_DATABASE_URI="sqlite:///$root/../shared/data/chinook.db" \
    WARREN_COLLECTIONS="${collections:-Albums, Artists}" WARREN_LOG_LEVEL=warn \
    WARREN_AUDIT_SPOOL_DIR="$state/spool" WARREN_AUDIT_SPOOL_KEEP_BYTES=268435456 \
    WARREN_PREFETCH="${PREFETCH:-256}" \
    WARREN_CURSOR_SECRET=bench-cursor-secret-0123456789abcdef \
    ${CACHE:+WARREN_REDIS_URL=redis://127.0.0.1:$WRT_REDIS_PORT/0} \
    ${3:+WARREN_EDGE_THREADS=$3} ${4:+WARREN_SINGLE_FLIGHT=$4} WARREN_EDGE_BATCH="${5:-${EDGE_BATCH:-False}}" \
    ${extra_env[@]+"${extra_env[@]}"} \
    "$2" 2>>"$state/$1.log" &
  pids+=($!)
}
start_stack() { # workers[, edge threads (default EDGE_THREADS)[, "second": the other edges too]]
  for i in $(seq 1 "$1"); do
    run "catalog$i" build/release/services/catalog/warren-catalog
    worker_pids+=($!)
  done
  run edge build/release/services/edge/warren-edge "${2:-$EDGE_THREADS}"
  edge_pid=$!
  if [ -n "${3:-}" ]; then # and the second edge
    http_port=$port2 run edge2 build/release/services/edge/warren-edge "${2:-$EDGE_THREADS}" True False
    edge2_pid=$!
    http_port=$port3 run edge3 build/release/services/edge/warren-edge "${2:-$EDGE_THREADS}" "" True
    edge3_pid=$!
    for _ in $(seq 1 300); do curl -fs "$base2/readyz" >/dev/null && break; sleep 0.1; done
    for _ in $(seq 1 300); do curl -fs "$base3/readyz" >/dev/null && break; sleep 0.1; done
  fi
  for _ in $(seq 1 300); do curl -fs "$base/readyz" >/dev/null && break; sleep 0.1; done
  curl -fs "$base/readyz" >/dev/null || { echo "bench: the edge never got ready" >&2; exit 1; }
}

# CPU ticks (user + system, every thread) of the given processes, summed.
ticks() {
  local s=0 p
  for p in "$@"; do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$s"
}
us_per() { # ticks, count
  awk -v t="$1" -v n="$2" -v k="$tck" 'BEGIN { printf "%.0f", n ? t * 1e6 / k / n : 0 }'
}

# The raw ceiling for a reply of $2 bytes; sets ceiling_rps. $1: classic|quorum.
ceiling() {
  local b0 out
  b0=$(ticks "$broker_pid")
  out=$(build/release/tests/rpc_ceiling "$amqp" "$1" 64 "$2" "$secs" "${WORKERS:-2}")
  ceiling_rps=$(awk '{for (i = 1; i < NF; i++) if ($(i + 1) == "round") print $i}' <<<"$out")
  local n
  n=$(sed -n 's/.*(\([0-9]*\) in all).*/\1/p' <<<"$out")
  printf '%s  broker %s µs/rt\n' "${out% (*}" "$(us_per $(($(ticks "$broker_pid") - b0)) "$n")"
}

# wrk at 64 connections on $1 (of the second edge, single-flight on, when
# $2 is 2; of the third, batches on, when 3); prints the figures and sets
# warren_rps.
measure() {
  local path=$1 out e0 b0 w0 n base=$base edge_pid=$edge_pid
  if [ "${2:-}" = 2 ]; then
    base=$base2
    edge_pid=$edge2_pid
  elif [ "${2:-}" = 3 ]; then
    base=$base3
    edge_pid=$edge3_pid
  fi
  wrk -t2 -c64 -d2s ${script:+-s "$script"} "$base$path" >/dev/null # warm up
  e0=$(ticks "$edge_pid")
  b0=$(ticks "$broker_pid")
  w0=$(ticks "${worker_pids[@]}")
  out=$(wrk -t2 -c64 -d"${secs}s" --latency ${script:+-s "$script"} "$base$path")
  local e1 b1 w1
  e1=$(ticks "$edge_pid")
  b1=$(ticks "$broker_pid")
  w1=$(ticks "${worker_pids[@]}")
  n=$(awk '/requests in/ {print $1}' <<<"$out")
  warren_rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  local p50 p99 errors
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr -s ' \n' ' ' || true)
  printf 'warren%s GET %-15s 64 conn: %8.0f req/s  p50 %8s  p99 %8s  cpu µs/req: edge %s broker %s workers %s %s\n' \
    "${2:+$([ "$2" = 2 ] && echo ' sf-on' || echo ' batch')}" "$path" "$warren_rps" "$p50" "$p99" "$(us_per $((e1 - e0)) "$n")" \
    "$(us_per $((b1 - b0)) "$n")" "$(us_per $((w1 - w0)) "$n")" "$errors"
}

# Depth: the first and the last page of Tracks (3,503 rows, 10 a page),
# by page number and by keyset cursor (?after=, the last page reached by
# walking Link next), interleaved, with the workers' memory cache off so
# that every request runs its statement. The page-number walk by Link next
# comes first (the workers' page positions warm: the last page seeks from
# its own first row); then "walk" is every page in turn (tests/bench/
# page_walk.lua: each request the page after its thread's previous one),
# the cost of a whole walk by page number, and the same walk by keyset
# cursor (each request a different page's rows, as in the page walk).
bench_depth() {
  collections="Tracks"
  extra_env=("WARREN_LOCAL_CACHE_MAX_BYTES=0")
  start_stack 2
  last_page=$(curl -fs -o /dev/null -D - "$base/api/Tracks" | tr -d '\r' |
    sed -n 's/^[Ll]ink: .*[?&]page=\([0-9]*\)[^>]*>; rel="last".*/\1/p')
  walk="/api/Tracks?page=1"
  walked=0
  while :; do
    next=$(curl -fs -o /dev/null -D - "$base$walk" | tr -d '\r' |
      sed -n 's/^[Ll]ink: .*<[^>]*\(\/api\/Tracks?page=[0-9]*\)[^>]*>; rel="next".*/\1/p')
    walked=$((walked + 1))
    [ -n "$next" ] || break
    walk=$next
  done
  [ "$walk" = "/api/Tracks?page=$last_page" ] || { echo "bench: the page walk ended at $walk" >&2; exit 1; }
  keyset="/api/Tracks?after="
  echo "$keyset" >"$state/keyset_walk"
  while :; do
    next=$(curl -fs -o /dev/null -D - "$base$keyset" | tr -d '\r' |
      sed -n 's/^[Ll]ink: .*<[^>]*\(\/api\/Tracks?after=[^>]*\)>; rel="next".*/\1/p')
    [ -n "$next" ] || break
    keyset=$next
    echo "$keyset" >>"$state/keyset_walk"
  done
  echo "-- depth: the first and the last (page $last_page, reached by Link next: $walked pages) page of Tracks, memory cache off"
  for round in $(seq 1 "$runs"); do
    for path in "/api/Tracks?page=1" "/api/Tracks?page=$last_page" walk "/api/Tracks?after=" "$keyset" \
      keyset-walk; do
      if [ "$path" = walk ]; then
        WALK_LAST=$last_page script=tests/bench/page_walk.lua measure "/api/Tracks?page=1" |
          sed "s|GET /api/Tracks?page=1 |GET walk 1..$last_page     |"
        continue
      elif [ "$path" = keyset-walk ]; then
        WALK_FILE=$state/keyset_walk script=tests/bench/page_walk.lua measure "/api/Tracks?after=" |
          sed "s|GET /api/Tracks?after= |GET walk after= to <last>  |"
        continue
      fi
      measure "$path" | sed "s|$keyset|/api/Tracks?after=<last>|"
    done
  done
  stop_stack
  extra_env=()
  collections=
}

# What the result cache costs and saves: each mode on its own stack
# (2 workers), each path at 64 connections. none: no cache at all (no
# REDIS_URL, LOCAL_CACHE_MAX_BYTES 0); off: no REDIS_URL (each worker's
# memory cache still on, as in every mode below); on: the
# shipped admission (CACHE_MIN_COST_US 250: cheap reads skip Redis); all:
# CACHE_MIN_COST_US 0 (every read through Redis); down: REDIS_URL on a
# closed port (every read bypasses). The costly search repeats (a hit once
# cached); the unique one never does (a miss, or a skip).
bench_cache() {
  costly='/api/Tracks?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22name%22%2C%22op%22%3A%22like%22%2C%22val%22%3A%22%25e%25%22%7D%5D%2C%22order_by%22%3A%5B%7B%22field%22%3A%22name%22%7D%5D%7D'
  grouped='/api/Tracks?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22name%22%2C%22op%22%3A%22like%22%2C%22val%22%3A%22%25a%25%22%7D%5D%2C%22group_by%22%3A%5B%7B%22field%22%3A%22genre_id%22%7D%5D%7D'
  echo "-- the cache: req/s and worker CPU µs/request per mode (X-Cache as seen)"
  declare -A cache_rps cache_cpu
  for mode in none off on all down; do
    case $mode in
    none) cache_env=(WARREN_LOCAL_CACHE_MAX_BYTES=0) ;;
    off) cache_env=() ;;
    on) cache_env=("WARREN_REDIS_URL=redis://127.0.0.1:$WRT_REDIS_PORT/0") ;;
    all) cache_env=("WARREN_REDIS_URL=redis://127.0.0.1:$WRT_REDIS_PORT/0" WARREN_CACHE_MIN_COST_US=0) ;;
    down) cache_env=("WARREN_REDIS_URL=redis://127.0.0.1:1/0") ;;
    esac
    collections='Albums, Artists, Tracks'
    extra_env=(${cache_env[@]+"${cache_env[@]}"})
    start_stack 2
    for p in /api/Albums "$costly" "$grouped" unique; do
      label=$p
      [ "$p" = "$costly" ] && label='Tracks like+sort'
      [ "$p" = "$grouped" ] && label='Tracks like+group_by'
      # X-Cache as a request after the run sees it (the steady state)
      if [ "$p" = unique ]; then
        label='Tracks unique like'
        line=$(script=tests/bench/unique_q.lua measure /api/Tracks)
        seen=$(curl -fsi "${base}${costly/\%25e\%25/\%25e-probe\%25}" | awk -F': ' 'tolower($1) == "x-cache" {print $2}' | tr -d '\r')
      else
        line=$(measure "$p")
        seen=$(curl -fsi "$base$p" | awk -F': ' 'tolower($1) == "x-cache" {print $2}' | tr -d '\r')
      fi
      cache_rps[$mode $label]=$(awk '{print $6}' <<<"$line")
      cache_cpu[$mode $label]=$(awk '{print $NF}' <<<"$line")
      printf 'cache %-4s %-20s x-cache %-6s %s\n' "$mode" "$label" "${seen:--}" \
        "$(sed 's/^warren GET [^ ]* *64 conn: *//' <<<"$line")"
    done
    stop_stack
    collections=
    extra_env=()
    redis-cli -p "$WRT_REDIS_PORT" flushall >/dev/null 2>&1 || true
  done
  awk -v on="${cache_rps[on Tracks like+sort]}" -v none="${cache_rps[none Tracks like+sort]}" \
    -v g="${cache_rps[on Tracks like+group_by]}" -v gn="${cache_rps[none Tracks like+group_by]}" \
    -v a="${cache_rps[on /api/Albums]}" -v an="${cache_rps[none /api/Albums]}" \
    -v won="${cache_cpu[on Tracks like+sort]}" -v wnone="${cache_cpu[none Tracks like+sort]}" 'BEGIN {
    printf "cache on (shipped) / none: costly search %.1fx req/s, %.1fx less worker CPU; grouped search %.1fx req/s; GET /api/Albums %.2fx req/s\n",
      on / none, wnone / won, g / gn, a / an }'
}

# The edge's audit counters at $1: records published, the messages they
# left in, records dropped past the cap.
audit_counts() {
  curl -fs "$1/metrics" | awk '$1 == "warren_edge_audit_records_total" {r = $2}
    $1 == "warren_edge_audit_messages_total" {m = $2}
    $1 == "warren_edge_audit_dropped_records_total" {d = $2} END {print r + 0, m + 0, d + 0}'
}

# A flood of requests the edge refuses itself (a malformed page: 400, no
# worker asked) at 64 connections, each audited: what one costs, and what
# became of the records (the messages they left in, those dropped past the
# edge's cap), on the first edge (EDGE_BATCH from the environment, default
# off: a message a record) and the third (batches on: records together).
bench_flood() {
  local flood='/api/Albums?page=x' which at r0 m0 d0 r1 m1 d1 line
  echo "-- a flood of refused requests ($flood, 400 from the edge, each audited)"
  start_stack "${WORKERS:-2}" "" second
  for round in $(seq 1 "$runs"); do
    for which in "" 3; do
      at=$base
      [ "$which" = 3 ] && at=$base3
      read -r r0 m0 d0 < <(audit_counts "$at")
      line=$(measure "$flood" $which)
      sleep 0.5 # the last records' wait to travel together
      read -r r1 m1 d1 < <(audit_counts "$at")
      printf '%s\n    audit records published %d in %d messages, dropped %d\n' \
        "${line%%Non-2xx*}" $((r1 - r0)) $((m1 - m0)) $((d1 - d0))
    done
  done
  stop_stack
}

if [ -n "${FLOOD_ONLY:-}" ]; then # the flood's figures alone
  echo "warren on $(nproc) cores ($(uname -m)): edge ($EDGE_THREADS loops) + ${WORKERS:-2} catalog workers + RabbitMQ + wrk on one machine; ${secs}s a run, $runs round(s)"
  bench_flood
  exit 0
fi
if [ -n "${CACHE_ONLY:-}" ]; then # the cache's figures alone
  echo "warren on $(nproc) cores ($(uname -m)): edge + 2 catalog workers + RabbitMQ + wrk on one machine; ${secs}s a run"
  bench_cache
  exit 0
fi
if [ -n "${DEPTH_ONLY:-}" ]; then # the depth figures alone
  echo "warren on $(nproc) cores ($(uname -m)): edge + 2 catalog workers + RabbitMQ + wrk on one machine; ${secs}s a run, $runs round(s)"
  bench_depth
  exit 0
fi
if [ -n "${REPLICAS_ONLY:-}" ]; then # the replicas' figures alone
  . tests/bench/replicas.sh
  bench_replicas
  exit 0
fi
echo "warren on $(nproc) cores ($(uname -m)): edge ($EDGE_THREADS loops) + ${WORKERS:-2} catalog workers +" \
  "RabbitMQ + wrk on one machine; cache ${CACHE:+on}${CACHE:-off}; ${secs}s a run, $runs round(s)"
start_stack "${WORKERS:-2}" "" second
declare -A size
for path in /api/Albums /api/Albums/1; do
  size[$path]=$(curl -fs "$base$path" | wc -c)
done
ratios=()
for round in $(seq 1 "$runs"); do
  echo "-- round $round"
  ceiling classic "${size[/api/Albums]}"
  for path in /api/Albums /api/Albums/1; do
    ceiling quorum "${size[$path]}"
    q=$ceiling_rps
    measure "$path"
    r=$(awk -v w="$warren_rps" -v q="$q" 'BEGIN { printf "%.2f", q ? w / q : 0 }')
    measure "$path" 3
    r3=$(awk -v w="$warren_rps" -v q="$q" 'BEGIN { printf "%.2f", q ? w / q : 0 }')
    measure "$path" 2
    r2=$(awk -v w="$warren_rps" -v q="$q" 'BEGIN { printf "%.2f", q ? w / q : 0 }')
    ratios+=("$path $r" "$path(sf-on) $r2" "$path(batch) $r3")
    echo "        ratio to the quorum ceiling ($path, ${size[$path]}-byte replies): $r; batch on: $r3; single-flight on: $r2"
  done
done
echo "-- ratio warren / raw quorum RPC, min-median-max over $runs round(s):"
for path in /api/Albums /api/Albums/1 '/api/Albums(batch)' '/api/Albums/1(batch)' \
  '/api/Albums(sf-on)' '/api/Albums/1(sf-on)'; do
  printf '%s\n' "${ratios[@]}" | awk -v p="$path" '$1 == p {print $2}' | sort -n |
    awk -v p="$path" '{v[NR] = $1} END { printf "   GET %-22s %s-%s-%s\n", p, v[1], v[int((NR + 1) / 2)], v[NR] }'
done
build/release/tests/rpc_bench "$amqp" 2000 64
stop_stack

# Writes and exports, on a scratch copy of Chinook: a bulk insert of 1,000
# rows a request (POST of a JSON list, one transaction each) and the CSV
# export of every track, in rows per second.
ms_now() { date +%s%3N; }
cp "$root/../shared/data/chinook.db" "$state/scratch.db"
collections="Artists, Tracks"
extra_env=("WARREN_DATABASE_URI=sqlite:///$state/scratch.db" "WARREN_Artists__METHODS=GET, POST"
  "WARREN_API_KEYS=bench:bench-key-0123456789abcdef")
start_stack 1
python3 -c 'import json; print(json.dumps([{"name": "bench %d" % i} for i in range(1000)]))' \
  >"$state/bulk.json"
n=10
t0=$(ms_now)
for _ in $(seq 1 "$n"); do
  curl -fs -o /dev/null -H 'Authorization: Bearer bench-key-0123456789abcdef' \
    -H 'Content-Type: application/json' -H 'Prefer: return=minimal' \
    --data-binary @"$state/bulk.json" "$base/api/Artists"
done
t1=$(ms_now)
awk -v n="$n" -v ms="$((t1 - t0))" 'BEGIN { printf "bulk insert POST /api/Artists, 1,000 rows a request: %8.0f rows/s (%d requests, %d ms)\n", n * 1000 * 1000 / ms, n, ms }'
# Each row above is a change event too (rendered in the write's
# transaction): the publisher's rate, from the first write until the
# outbox holds nothing unpublished, and its lag after the last write.
for _ in $(seq 1 600); do
  [ "$(sqlite3 "$state/scratch.db" 'SELECT count(*) FROM warren_outbox WHERE published = 0')" = 0 ] && break
  sleep 0.05
done
t2=$(ms_now)
awk -v n="$n" -v ms="$((t2 - t0))" -v lag="$((t2 - t1))" 'BEGIN { printf "change events of those rows on warren.events: %8.0f events/s (%d events, all published %d ms after the last write)\n", n * 1000 * 1000 / ms, n * 1000, lag }'
rows=$(($(curl -fs -H 'Accept: text/csv' "$base/api/Tracks" | python3 -c 'import csv, sys; print(sum(1 for _ in csv.reader(sys.stdin)))') - 1))
t0=$(ms_now)
for _ in $(seq 1 "$n"); do
  curl -fs -o /dev/null -H 'Accept: text/csv' "$base/api/Tracks"
done
t1=$(ms_now)
awk -v n="$n" -v r="$rows" -v ms="$((t1 - t0))" 'BEGIN { printf "CSV export GET /api/Tracks (%d rows), one client: %8.0f rows/s (%d exports, %d ms)\n", r, n * r * 1000 / ms, n, ms }'
stop_stack
extra_env=()
collections=

bench_depth

if [ -n "${SCALING:-}" ]; then
  echo "-- scaling, GET /api/Albums at 64 connections (req/s; raw quorum ceiling alongside)"
  for t in 1 2 4; do
    start_stack 2 "$t"
    printf 'edge threads %s, 2 workers:  ' "$t"
    measure /api/Albums | sed 's/^warren GET [^ ]* *//'
    stop_stack
  done
  for w in 1 2 4 8; do
    start_stack "$w"
    printf 'workers %s, edge threads %s:  ' "$w" "$EDGE_THREADS"
    measure /api/Albums | sed 's/^warren GET [^ ]* *//'
    stop_stack
  done
fi
if [ "${CACHE_COSTS:-1}" != 0 ]; then
  bench_cache
fi

if [ "${REPLICAS:-1}" != 0 ]; then
  echo "-- replicas: a writer, two replicas (each its own file), the edge"
  . tests/bench/replicas.sh
  bench_replicas
fi

echo "For reference (measured elsewhere, same kind of machine): Flask-Restless 0.17 under" \
  "gunicorn, GET /api/Albums: ~440-457 req/s."
