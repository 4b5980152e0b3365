#!/usr/bin/env bash
# A quick loop for development: the servers tests/run.sh would start, kept
# running between runs, and ctest on a subset of the tests.
#
#   tests/dev.sh start            start RabbitMQ, Redis, the MongoDB peer (state in build/dev-state)
#   tests/dev.sh test [REGEX]     build build/dev (Debug, ASan+UBSan) and run the ctest names matching REGEX
#   tests/dev.sh stop             stop the servers
#
# The WRT_* settings of tests/run.sh apply (the servers' ports), so two
# checkouts can run at once with different ones. tests/run.sh stays the
# command that decides: it also builds Release, runs the gate and the fuzzers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
state=$root/build/dev-state
export WRT_AMQP_PORT=${WRT_AMQP_PORT:-5673}
export WRT_AMQPS_PORT=${WRT_AMQPS_PORT:-$((WRT_AMQP_PORT + 1))}
export WRT_DIST_PORT=${WRT_DIST_PORT:-25673}
export WRT_REDIS_PORT=${WRT_REDIS_PORT:-6380}
export WRT_NODE=${WRT_NODE:-warren-test}
export WRT_MONGO_PORT=${WRT_MONGO_PORT:-27018}
export WRT_SERVERS_SH=$root/tests/lib/servers.sh
export WRT_STATE_DIR=$state
export WRT_DB=$root/../shared/data/chinook.db
export WRT_REFERENCE_DIR=$root/../shared/reference
export WRT_LOG_DIR=$state
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=97
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

case ${1:-} in
start) mkdir -p "$state" && bash tests/lib/servers.sh start "$state" ;;
stop)
  pkill -f "$root/build/dev/services/" 2>/dev/null || true
  bash tests/lib/servers.sh stop "$state"
  ;;
test)
  cmake -S . -B build/dev -DWARREN_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
    "-DWARREN_SANITIZE=address;undefined" >/dev/null
  cmake --build build/dev -j"$(nproc)"
  pkill -f "$root/build/dev/services/" 2>/dev/null || true # left by a crashed test
  cd build/dev && ctest --output-on-failure ${2:+-R "$2"}
  ;;
*) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
