#!/usr/bin/env bash
# warren as its users get it: installs a build folder into a fresh prefix,
# checks the layout, builds tests/install's programs (a client and a
# service) against the installed copy twice (pkg-config, then
# find_package), checks that find_package refuses another major version,
# then runs them on the test broker: both builds of the client against a
# warren-catalog from the prefix, and both builds of the service, each
# called with the prefix's warren, audited to the MongoDB peer (read back
# by the prefix's warren-auditlog) and stopped with SIGTERM.
#   tests/install/check.sh BUILD_DIR C_COMPILER
# ctest runs it (integration_install) with tests/run.sh's WRT_* settings.
set -euo pipefail
build=$1
cc=$2
src=$(cd "$(dirname "$0")" && pwd)
: "${WRT_MONGO_PORT:?run the tests through tests/run.sh or tests/dev.sh}"
# shellcheck source=tests/lib/stack.sh
. "$src/../lib/stack.sh"
stack_init install # no WARREN_* from here on: only what the check sets
tmp=$STACK_DIR
prefix=$tmp/prefix
fail() { stack_fail "$*"; }
step() { echo "== $*"; }
# Runs a command quietly, showing its output only when it fails.
quiet() {
  "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "failed: $*"; }
}
# The prefix's command-line client on the test broker.
cli() { env WARREN_AMQP_URL="$STACK_URL" "$prefix/bin/warren" "$@"; }

step "cmake --install $build --prefix <tmp>"
quiet cmake --install "$build" --prefix "$prefix"
libdir=$(dirname "$(find "$prefix" -name libwarren.a)")
for f in bin/warren-edge bin/warren-catalog bin/warren-auditlog bin/warren share/man/man1/warren.1 \
  share/doc/warren/LICENSE include/warren/rpc.h include/warren/proto.h \
  include/warren/answer.h include/warren/worker.h "${libdir#"$prefix"/}/libwarren_worker.a" \
  "${libdir#"$prefix"/}/pkgconfig/warren.pc" "${libdir#"$prefix"/}/pkgconfig/warren-worker.pc" \
  "${libdir#"$prefix"/}/cmake/warren/warrenConfig.cmake" \
  "${libdir#"$prefix"/}/cmake/warren/warrenConfigVersion.cmake"; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
# Headers of the source tree only: the build's private ones stay out.
for h in acks.h audit.h spool.h sink.h; do
  if [ -e "$prefix/include/warren/$h" ] || [ -e "$prefix/include/$h" ]; then
    fail "the private header $h is installed"
  fi
done
# The installed interface names neither the build's own flags (-Werror,
# warren_flags and friends) nor a path of the source or build tree.
root=$(cd "$src/../.." && pwd)
build_abs=$(cd "$build" && pwd)
if grep -rnE -e '-Werror|warren_(flags|warnings|hardening|sanitize)' -e "$root/" -e "$build_abs/" \
  "$libdir/cmake/warren" "$libdir/pkgconfig"; then
  fail "the installed package leaks build-only settings (above)"
fi

step "build with pkg-config --static"
export PKG_CONFIG_PATH=$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
strict=(-std=c11 -Wall -Wextra -Wpedantic -Werror)
# shellcheck disable=SC2046 # pkg-config's words are separate arguments
quiet "$cc" "${strict[@]}" -o "$tmp/example-pc" "$src/example.c" \
  $(pkg-config --cflags --static --libs warren)
# shellcheck disable=SC2046
quiet "$cc" "${strict[@]}" -o "$tmp/echo-pc" "$src/echo_service.c" \
  $(pkg-config --cflags --static --libs warren-worker)

step "build with find_package(warren 0.1 COMPONENTS worker)"
quiet cmake -S "$src" -B "$tmp/cmake" "-DCMAKE_PREFIX_PATH=$prefix" "-DCMAKE_C_COMPILER=$cc" \
  "-DCMAKE_C_FLAGS=${strict[*]}"
quiet cmake --build "$tmp/cmake"

step "find_package(warren 1.0) is refused (SameMajorVersion)"
if cmake -S "$src" -B "$tmp/cmake-1" "-DCMAKE_PREFIX_PATH=$prefix" -DWARREN_WANTED=1.0 \
  >"$tmp/out" 2>&1; then
  fail "find_package(warren 1.0) accepted version $(pkg-config --modversion warren)"
fi
grep -q 'considered but not accepted' "$tmp/out" ||
  { cat "$tmp/out" >&2; fail "refused, not for its version"; }

step "GET Albums/1 from a warren-catalog of the prefix"
stack_worker catalog "$prefix/bin/warren-catalog" WARREN_DATABASE_URI="sqlite:///$STACK_DB" \
  WARREN_SERVICE=t_install
stack_wait catalog warren.t_install
for prog in "$tmp/example-pc" "$tmp/cmake/example"; do
  out=$("$prog" "$STACK_URL" t_install) || fail "$prog exited $?: $out (catalog log: $(stack_log catalog))"
  echo "$out" | head -c 300
  echo
done

step "warren (the command-line client) of the prefix against the same catalog"
out=$(WARREN_SERVICE=t_install cli get Albums 1 --depth 0) || fail "bin/warren exited $?: $out"
[ "$out" = '{"album_id":1,"artist_id":1,"title":"For Those About To Rock We Salute You"}' ] ||
  fail "bin/warren printed $out"
echo "$out"

step "the catalog stops cleanly"
stack_stop catalog

mongo="mongodb://127.0.0.1:$WRT_MONGO_PORT/"
stack_worker auditlog "$prefix/bin/warren-auditlog" WARREN_MONGO_URI="$mongo" \
  WARREN_AUDIT_COLLECTION=audit_install
stack_wait auditlog warren.auditlog

# serve_echo NAME BIN RID: runs BIN, a build of echo_service.c, as NAME;
# asks it echo NAME with request id RID and an op it lacks; waits for the
# record of RID in MongoDB; stops it, which must exit 0. One build at a
# time, so the answer is this build's.
serve_echo() {
  local name=$1 bin=$2 rid=$3 out rc
  step "the service $name (built against the prefix) answers, is audited, stops"
  stack_worker "$name" "$bin" WARREN_MONGO_URI="$mongo" WARREN_AUDIT_COLLECTION=audit_install
  stack_wait "$name" warren.install-echo
  out=$(cli svc install-echo echo "$name" --request-id "$rid") ||
    fail "echo: bin/warren exited $?: $out (log: $(stack_log "$name"))"
  [ "$out" = "{\"hello\":\"$name\",\"principal\":\"guest\",\"request_id\":\"$rid\"}" ] ||
    fail "$name answered $out"
  echo "$out"
  rc=0
  out=$(cli svc install-echo nope 2>&1) || rc=$?
  [[ $rc -eq 4 && $out == *"400 bad_request: unknown operation"* ]] ||
    fail "an op $name lacks: exit $rc, $out"
  # the runtime ships the record to MongoDB after it spooled it: not at once
  for _ in $(seq 100); do
    rc=0
    out=$(cli svc auditlog records "$rid" 2>/dev/null) || rc=$?
    [ $rc -eq 0 ] && break
    sleep 0.2
  done
  [[ $rc -eq 0 && $out == *"\"id\":\"$name\""* && $out == *'"op":"echo"'* &&
    $out == *'"status":200'* ]] || fail "the record of $name's echo (exit $rc): $out"
  stack_stop "$name"
}
# Fresh request ids: the MongoDB peer keeps the records of earlier runs.
rid() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }
serve_echo echo-pc "$tmp/echo-pc" "$(rid)"
serve_echo echo-cmake "$tmp/cmake/echo_service" "$(rid)"
stack_stop auditlog
echo "install check: passed"
