#!/usr/bin/env bash
# warren as its users get it: installs a build folder into a fresh prefix,
# checks the layout, builds tests/install's programs against the installed
# copy twice (pkg-config, then find_package), checks that find_package
# refuses another major version, then runs both builds of the example
# against a warren-catalog from the prefix on the test broker.
#   tests/install/check.sh BUILD_DIR C_COMPILER
# ctest runs it (integration_install) with tests/run.sh's WRT_* settings.
set -euo pipefail
build=$1
cc=$2
src=$(cd "$(dirname "$0")" && pwd)
: "${WRT_AMQP_PORT:?run the tests through tests/run.sh or tests/dev.sh}"
: "${WRT_DB:?run the tests through tests/run.sh or tests/dev.sh}"
tmp=$(mktemp -d "${WRT_STATE_DIR:-/tmp}/install.XXXXXX")
prefix=$tmp/prefix
catalog=
cleanup() {
  if [ -n "$catalog" ]; then kill -KILL "$catalog" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "install check: $*" >&2; exit 1; }
step() { echo "== $*"; }
# Runs a command quietly, showing its output only when it fails.
quiet() {
  "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "failed: $*"; }
}

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
quiet "$cc" "${strict[@]}" -o "$tmp/worker-pc" "$src/worker_link.c" \
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

step "the worker link programs run"
"$tmp/worker-pc" || fail "worker_link (pkg-config build) exited $?"
"$tmp/cmake/worker_link" || fail "worker_link (find_package build) exited $?"

step "GET Albums/1 from a warren-catalog of the prefix"
cp "$WRT_DB" "$tmp/chinook.db"
mkdir -p "$tmp/spool"
log=${WRT_LOG_DIR:-$tmp}/install-catalog-$$.log
url="amqp://guest:guest@127.0.0.1:$WRT_AMQP_PORT/%2f"
# Only what this check sets configures the catalog (as the harness does).
while read -r v; do unset "$v"; done < <(compgen -e | grep '^WARREN_' || true)
(
  cd "$tmp" # no config.cfg here: environment only
  WARREN_AMQP_URL=$url WARREN_DATABASE_URI="sqlite:///$tmp/chinook.db" WARREN_SERVICE=t_install \
    WARREN_AUDIT_SPOOL_DIR="$tmp/spool" WARREN_CURSOR_SECRET=install-check-cursor-secret-0123456789 \
    exec "$prefix/bin/warren-catalog"
) 2>"$log" &
catalog=$!
for prog in "$tmp/example-pc" "$tmp/cmake/example"; do
  out=$("$prog" "$url" t_install) || fail "$prog exited $?: $out (catalog log: $log)"
  echo "$out" | head -c 300
  echo
done

step "warren (the command-line client) of the prefix against the same catalog"
out=$(WARREN_AMQP_URL=$url WARREN_SERVICE=t_install "$prefix/bin/warren" get Albums 1 --depth 0) ||
  fail "bin/warren exited $?: $out"
[ "$out" = '{"album_id":1,"artist_id":1,"title":"For Those About To Rock We Salute You"}' ] ||
  fail "bin/warren printed $out"
echo "$out"

step "the catalog stops cleanly"
kill -TERM "$catalog"
rc=0
wait "$catalog" || rc=$?
catalog=
[ $rc -eq 0 ] || fail "warren-catalog exited $rc (97: ASan or valgrind found errors; see $log)"
echo "install check: passed"
