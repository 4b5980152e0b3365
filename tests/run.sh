#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, builds twice
# (warnings as errors, optimised; and with ASan+UBSan), runs the static
# analysis gate, starts a private RabbitMQ, Redis and the MongoDB test peer
# on 127.0.0.1, runs every test through ctest, then the fuzzers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=tests/lib/deps.sh
. tests/lib/deps.sh
warren_install_deps

jobs=$(nproc)
build() { # dir, then cmake options
  local dir=$1; shift
  cmake -S . -B "$dir" -DWARREN_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}
echo "== build: warnings as errors, release"
build build/ci-release -DCMAKE_BUILD_TYPE=Release
echo "== build: ASan + UBSan"
build build/ci-asan -DCMAKE_BUILD_TYPE=Debug "-DWARREN_SANITIZE=address;undefined"
echo "== static analysis (tests/gate.sh): fails on any finding"
bash tests/gate.sh build/ci-release

state=$(mktemp -d /tmp/warren-tests.XXXXXX)
# Test settings are WRT_*: a WARREN_* variable would be read (and, when
# unknown, refused) by every warren binary as configuration.
export WRT_AMQP_PORT=${WRT_AMQP_PORT:-5673}
export WRT_AMQPS_PORT=${WRT_AMQPS_PORT:-$((WRT_AMQP_PORT + 1))}
export WRT_DIST_PORT=${WRT_DIST_PORT:-25673}
export WRT_REDIS_PORT=${WRT_REDIS_PORT:-6380}
export WRT_NODE=${WRT_NODE:-warren-test}
export WRT_MONGO_PORT=${WRT_MONGO_PORT:-27018}
cleanup() {
  # a test program that crashed leaves the processes it started behind
  pkill -f "$root/build/ci-(release|asan)/services/" 2>/dev/null || true
  bash tests/lib/servers.sh stop "$state" || true
  rm -rf "$state"
}
trap cleanup EXIT
echo "== servers: RabbitMQ :$WRT_AMQP_PORT, Redis :$WRT_REDIS_PORT, MongoDB test peer :$WRT_MONGO_PORT"
bash tests/lib/servers.sh start "$state"

export WRT_SERVERS_SH=$root/tests/lib/servers.sh
export WRT_STATE_DIR=$state
export WRT_DB=$root/../shared/data/chinook.db
export WRT_REFERENCE_DIR=$root/../shared/reference
export WRT_LOG_DIR=$state
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=97
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Each ctest run below ends with its wall time and the CPU time it used
# (user + sys of the tests and the processes they waited for; the servers
# are not counted): CPU well under twice the wall time on these 2 cores is
# a phase that mostly waits.
TIMEFORMAT='-- took %0Rs; CPU %0Us user + %0Ss sys'
rc=0
failed=()
# fail STEP [BUILD]: note a red step, the ctest tests it failed in BUILD
# and the lines that say why (check's failed assertions, the harness's
# sanitizer and valgrind verdicts), for the summary that ends the output:
# CI shows only the output's last lines, far below each test's own output.
fail() {
  rc=1
  local tmp="${2:-}/Testing/Temporary" tests="" why=""
  [ -n "${2:-}" ] && [ -f "$tmp/LastTestsFailed.log" ] &&
    tests=$(cut -d: -f2 "$tmp/LastTestsFailed.log" | tr '\n' ' ')
  # (|| true: a grep that finds nothing must not end the run under set -e)
  if [ -n "${2:-}" ] && [ -f "$tmp/LastTest.log" ]; then
    why=$({ grep -E ':[0-9]+:[FE]:' "$tmp/LastTest.log" | head -n 6
      grep -E '^harness: ' "$tmp/LastTest.log" | head -n 8; } | cut -c1-300 | sed 's/^/      /') ||
      true
  fi
  failed+=("$1${tests:+: $tests}${why:+$'\n'$why}")
}
echo "== unit tests (release build)"
(cd build/ci-release && time ctest -L unit --output-on-failure) ||
  fail "unit tests" build/ci-release
echo "== all tests (ASan + UBSan build)"
(cd build/ci-asan && time ctest --output-on-failure -LE cluster) ||
  fail "all tests (ASan)" build/ci-asan
# Three RabbitMQ nodes of its own beside the test servers: on its own, after
# the rest (label "cluster", tests/faults/test_cluster.c; a few minutes).
echo "== a three-node RabbitMQ cluster under faults (ASan + UBSan build)"
(cd build/ci-asan && time ctest --output-on-failure -L cluster) ||
  fail "cluster" build/ci-asan
# The shipped stacks turn EDGE_BATCH on (deploy/local/config.cfg,
# docker/compose.yml); the harness's default edge does not. The fault tests
# of redelivery and deadlines run again with every edge batching reads:
# kills and a poison message under batches, the broker restarted under
# them, expiry and late replies of batched calls (~2 min); and the memory
# cache's freshness, which a worker checks once a batch.
echo "== fault tests of redelivery and deadlines with EDGE_BATCH on (release build)"
(cd build/ci-release && time WRT_EDGE_BATCH=1 ctest --output-on-failure \
  -R '^(faults_(kill|poison|broker|edge)|integration_local_cache)$') ||
  fail "EDGE_BATCH reruns" build/ci-release
echo "== integration tests under valgrind (release build): no errors, no leaks"
(cd build/ci-release && time WRT_VALGRIND=1 ctest --output-on-failure \
  -R 'integration_(api|rpc|search|writes|relations|columns|cache|audit)$') ||
  fail valgrind build/ci-release
echo "== fuzzers (clang, libFuzzer + ASan + UBSan), 15 s each"
bash tests/fuzz/run.sh 15 || fail fuzzers
if [ $rc -ne 0 ]; then
  echo "== logs of the processes the tests started:"
  for f in "$state"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
  echo "== FAILED:"
  printf '  %s\n' "${failed[@]}"
fi
exit $rc
