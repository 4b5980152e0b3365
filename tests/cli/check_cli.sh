#!/usr/bin/env bash
# One warren binary's command line: --version prints "<name> <version>",
# --help prints the usage and the keys the binary reads, both exit 0 before
# any config is read; an unknown option exits 2 with the problem on stderr.
# Usage: check_cli.sh BINARY NAME VERSION (tests/CMakeLists.txt passes
# each binary's target file, target name and project(VERSION)).
set -euo pipefail
bin=$1 name=$2 version=$3
fail() { echo "$name: $*" >&2; exit 1; }
# An empty folder: a config.cfg where the test runs must not matter.
dir=$(mktemp -d /tmp/warren-cli.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
# A config that would refuse to load: --help and --version never read it.
export WARREN_NO_SUCH_KEY=1

out=$("$bin" --version) || fail "--version exited $?"
[ "$out" = "$name $version" ] || fail "--version printed '$out', expected '$name $version'"

out=$("$bin" --help --config /nonexistent.cfg) || fail "--help exited $?"
grep -q "^$name $version: ." <<<"$out" || fail "--help does not open with '$name $version: <purpose>'"
grep -q "^Usage: $name \[--config PATH\]" <<<"$out" || fail "--help has no usage line"
grep -q -- "--config PATH" <<<"$out" || fail "--help does not explain --config"
grep -qE "^  AMQP_URL \(str, default '[^']*'\)$" <<<"$out" || fail "--help does not list AMQP_URL"
grep -qE "^  LOG_LEVEL \(str, default 'info'\)$" <<<"$out" || fail "--help does not list LOG_LEVEL"

set +e
err=$("$bin" --no-such-option 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -eq 2 ] || fail "an unknown option exited $rc, expected 2"
grep -q -- "--no-such-option: unknown argument" <<<"$err" || fail "no problem line for an unknown option"
echo "$name: --version, --help and an unknown option answered as expected"
