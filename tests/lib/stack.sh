#!/usr/bin/env bash
# A live stack for the tests that drive warren from outside its C test
# programs (the command-line client, the Python and Node examples): warren
# workers on the test broker, configured through the environment only,
# with the settings tests/run.sh and tests/dev.sh export (WRT_*). Sourced:
#   stack_init TAG               a state folder, a copy of Chinook, no WARREN_* inherited
#   stack_worker NAME BIN VAR=value...   starts BIN (a warren worker) in the folder
#   stack_wait NAME QUEUE        waits until it consumes QUEUE (its log says so)
#   stack_stop [NAME]            SIGTERM to NAME, or to each in reverse; fails unless each exits 0
# Variables: STACK_DIR, STACK_URL (the broker, guest on loopback), STACK_DB.

: "${WRT_AMQP_PORT:?run the tests through tests/run.sh or tests/dev.sh}"
: "${WRT_DB:?run the tests through tests/run.sh or tests/dev.sh}"

STACK_NAMES=()
STACK_PIDS=()

stack_fail() {
  echo "$STACK_TAG: $*" >&2
  exit 1
}

stack_cleanup() {
  for pid in "${STACK_PIDS[@]}"; do
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$STACK_DIR"
}

stack_init() {
  STACK_TAG=$1
  STACK_DIR=$(mktemp -d "${WRT_STATE_DIR:-/tmp}/$1.XXXXXX")
  STACK_URL="amqp://guest:guest@127.0.0.1:$WRT_AMQP_PORT/%2f"
  STACK_DB=$STACK_DIR/chinook.db
  cp "$WRT_DB" "$STACK_DB"
  # Only what a test sets configures the workers (as the C harness does).
  while read -r v; do unset "$v"; done < <(compgen -e | grep '^WARREN_' || true)
  trap stack_cleanup EXIT
}

stack_log() {
  echo "${WRT_LOG_DIR:-$STACK_DIR}/$STACK_TAG-$1-$$.log"
}

stack_worker() {
  local name=$1 bin=$2
  shift 2
  (
    cd "$STACK_DIR" # no config.cfg here: environment only
    # a catalog worker needs a cursor secret (the C harness gives one too)
    exec env WARREN_AMQP_URL="$STACK_URL" WARREN_AUDIT_SPOOL_DIR="$STACK_DIR/spool-$name" \
      WARREN_CURSOR_SECRET=stack-test-cursor-secret-0123456789abcdef "$@" "$bin"
  ) 2>"$(stack_log "$name")" &
  STACK_NAMES+=("$name")
  STACK_PIDS+=($!)
}

stack_wait() {
  local name=$1 queue=$2 log
  log=$(stack_log "$name")
  for _ in $(seq 150); do
    grep -q "consuming $queue\$" "$log" 2>/dev/null && return 0
    sleep 0.1
  done
  stack_fail "$name does not consume $queue within 15 s (log: $log)"
}

stack_stop() {
  local i rc
  for ((i = ${#STACK_PIDS[@]} - 1; i >= 0; i--)); do
    [ -n "${STACK_PIDS[$i]}" ] || continue
    [ $# -eq 0 ] || [ "${STACK_NAMES[$i]}" = "$1" ] || continue
    kill -TERM "${STACK_PIDS[$i]}" 2>/dev/null || true
    rc=0
    wait "${STACK_PIDS[$i]}" || rc=$?
    STACK_PIDS[$i]=
    # 97: ASan or valgrind found errors (tests/run.sh's ASAN_OPTIONS)
    [ $rc -eq 0 ] || stack_fail "${STACK_NAMES[$i]} exited $rc (log: $(stack_log "${STACK_NAMES[$i]}"))"
  done
}
