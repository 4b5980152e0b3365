#!/usr/bin/env bash
# What evhttp costs a request, against a bare loop answering the same bytes
# (tests/bench/http_floor.c), in instructions counted by callgrind, as
# tests/bench/instructions.sh counts the edge's: each server runs under
# callgrind while wrk loads it twice (a short and a long run), and the
# difference of the totals over the difference of the request counts
# leaves out start-up and shutdown. Prints one line per server and their
# difference: the most an HTTP layer of the edge's own could save a
# request. No broker, no worker: the HTTP layer alone.
# Usage: tests/bench/http_floor.sh [short s] [long s]   (default 3 12)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
. tests/lib/deps.sh
warren_install_deps
short=${1:-3}
long=${2:-12}
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
ev=$(per_request evhttp)
bare=$(per_request bare)
echo "GET /api/Albums, 1,105-byte answer, 16 connections, instructions a request:"
echo "  evhttp (as the edge uses it) ${ev}k"
echo "  bare loop                    ${bare}k"
awk -v e="$ev" -v b="$bare" 'BEGIN { printf "  difference                   %.1fk (%.0f%% of evhttp'"'"'s)\n", e - b, 100 * (e - b) / e }'
