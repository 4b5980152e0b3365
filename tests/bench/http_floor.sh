#!/usr/bin/env bash
# What evhttp costs a request, against a bare loop answering the same bytes
# (tests/bench/http_floor.c), in instructions counted by callgrind, as
# tests/bench/instructions.sh counts the edge's: each server runs under
# callgrind while wrk loads it twice (a short and a long run), and the
# difference of the totals over the difference of the request counts
# leaves out start-up and shutdown. Then each holds N requests unanswered
# (tests/bench/hold.py: N connections, a GET on each) and its resident set
# is read, as tests/bench/memory.sh reads the edge's. Prints a line per
# server and figure, and their differences: the most an HTTP layer of the
# edge's own could save a request. No broker, no worker: the HTTP layer
# alone.
# Usage: tests/bench/http_floor.sh [short s] [long s] [N]   (default 3 12 10000)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tests/lib/deps.sh
warren_install_deps
short=${1:-3}
long=${2:-12}
n=${3:-10000}
ulimit -n $((n + 1024)) # the client's sockets and the server's
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build build/release -j"$(nproc)" --target http_floor >/dev/null

state=$(mktemp -d /tmp/warren-http-floor.XXXXXX)
trap 'pkill -f "callgrind.*http_floor" 2>/dev/null || true; rm -rf "$state"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# One run of server $1 for $2 seconds; prints "requests Ir".
run() {
  local out=$state/$1-$2 pid
  valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
    "$root/build/release/tests/http_floor" "$1" "$port" 2>"$out.log" &
  pid=$!
  for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/api/Albums" && break; sleep 0.1; done
  wrk -t1 -c16 -d"$2s" "http://127.0.0.1:$port/api/Albums" >"$out.wrk"
  kill -TERM "$pid"
  wait "$pid" || true
  printf '%s %s\n' "$(awk '/requests in/ {print $1}' "$out.wrk")" \
    "$(awk '/^summary:/ {print $2; exit}' "$out.cg")"
}
per_request() { # server: instructions a request, in thousands
  local n1 i1 n2 i2
  read -r n1 i1 < <(run "$1" "$short")
  read -r n2 i2 < <(run "$1" "$long")
  awk -v n1="$n1" -v n2="$n2" -v i1="$i1" -v i2="$i2" 'BEGIN { printf "%.1f", (i2 - i1) / (n2 - n1) / 1000 }'
}
# Server $1 holding $n requests: prints its resident kB idle and held.
held_kb() {
  local pid hp
  "$root/build/release/tests/http_floor" "$1" "$port" hold 2>"$state/$1-hold.log" &
  pid=$!
  for _ in $(seq 1 100); do
    python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' \
      "$port" 2>/dev/null && break
    sleep 0.1
  done
  local idle
  idle=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
  python3 tests/bench/hold.py "$port" "$n" "$state/ready" "$state/go" >"$state/hold.out" &
  hp=$!
  for _ in $(seq 1 1200); do [ -f "$state/ready" ] && break; sleep 0.1; done
  sleep 2 # the last heads read
  local held
  held=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
  kill -USR1 "$pid"
  touch "$state/go"
  wait "$hp" || { echo "http_floor: $1 did not answer all $n: $(cat "$state/hold.out")" >&2; exit 1; }
  kill -TERM "$pid"
  wait "$pid" || true
  rm -f "$state/ready" "$state/go"
  echo "$idle $held"
}
ev=$(per_request evhttp)
bare=$(per_request bare)
read -r ev_idle ev_held < <(held_kb evhttp)
read -r bare_idle bare_held < <(held_kb bare)
echo "GET /api/Albums, 1,105-byte answer, 16 connections, instructions a request:"
echo "  evhttp (as the edge uses it) ${ev}k"
echo "  bare loop                    ${bare}k"
awk -v e="$ev" -v b="$bare" 'BEGIN { printf "  difference                   %.1fk (%.0f%% of evhttp'"'"'s)\n", e - b, 100 * (e - b) / e }'
echo "$n requests held, one a connection: resident set (idle -> held), bytes a request:"
awk -v n="$n" -v ei="$ev_idle" -v eh="$ev_held" -v bi="$bare_idle" -v bh="$bare_held" 'BEGIN {
  printf "  evhttp    %.1f -> %.1f MB, %.0f\n", ei / 1024, eh / 1024, (eh - ei) * 1024 / n
  printf "  bare loop %.1f -> %.1f MB, %.0f\n", bi / 1024, bh / 1024, (bh - bi) * 1024 / n
  printf "  difference %.0f bytes a request\n", ((eh - ei) - (bh - bi)) * 1024 / n }'
