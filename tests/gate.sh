#!/usr/bin/env bash
# The static-analysis gate (tests/run.sh calls it after the builds, so CI
# fails early): clang-format, banned calls, cppcheck, flawfinder, clang-tidy
# and gcc -fanalyzer. Each tool's findings are printed; any finding fails.
# The analysers read the product code (common/, services/, proto/, tools/); the
# format check and the banned calls cover tests/ too.
#   tests/gate.sh [BUILD_DIR]   BUILD_DIR's compile_commands.json feeds
#                               clang-tidy (default build/ci-release)
# Rules turned off are listed with their reasons in .clang-tidy, below for
# flawfinder, and beside each inline suppression.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=tests/lib/deps.sh
. tests/lib/deps.sh
warren_install_deps || exit 1

build=${1:-build/ci-release}
analyzer_build=build/ci-analyzer
jobs=$(nproc)
out=$(mktemp -d /tmp/warren-gate.XXXXXX)
trap 'rm -rf "$out"' EXIT
product=(common services proto tools)
c_files() { find "$@" -name '*.[ch]' -type f | sort; }

failed=()
# Prints a tool's findings (a file of one finding a line, or the optional
# detail file instead) and its verdict.
verdict() { # tool, findings file, seconds it took[, detail file]
  local n
  [ -f "$2" ] || echo "$1 did not run" >"$2"
  n=$(grep -c . "$2")
  if [ "$n" -gt 0 ]; then
    cat "${4:-$2}"
    failed+=("$1")
    echo "-- $1: $n finding(s) (${3}s)"
  else
    echo "-- $1: clean (${3}s)"
  fi
}

echo "== gate: clang-format (against .clang-format)"
t=$SECONDS
mapfile -t all < <(c_files "${product[@]}" tests)
clang-format --dry-run --Werror "${all[@]}" >"$out/format.raw" 2>&1
format_rc=$?
# One line a file: clang-format reports every place that differs.
sed -n 's/^\([^ :]*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' \
  "$out/format.raw" | sort | uniq -c |
  awk '{print $2 ": " $1 " place(s) differ from .clang-format (clang-format -i " $2 ")"}' \
    >"$out/format"
[ $format_rc -ne 0 ] && [ ! -s "$out/format" ] && cp "$out/format.raw" "$out/format"
verdict clang-format "$out/format" $((SECONDS - t))

echo "== gate: banned calls"
# Never called: system, popen, sprintf, vsprintf, strcpy, strcat, gets, atoi,
# strtok (snprintf, strtol, strtok_r and friends instead). Comments and
# string literals are blanked first, so prose may name them.
t=$SECONDS
perl -e '
  my $banned = qr/\b(system|popen|sprintf|vsprintf|strcpy|strcat|gets|atoi|strtok)\s*\(/;
  for my $f (@ARGV) {
    open(my $fh, "<", $f) or die "$f: $!";
    local $/; my $src = <$fh>; close $fh;
    $src =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\x27(?:\\.|[^\x27\\\n])*\x27)}
             { (my $k = $1) =~ s/[^\n]/ /g; $k }gse;
    my $n = 0;
    for my $line (split /\n/, $src, -1) {
      $n++;
      print "$f:$n: banned call $1()\n" while $line =~ /$banned/g;
    }
  }' "${all[@]}" >"$out/banned"
verdict banned-calls "$out/banned" $((SECONDS - t))

echo "== gate: cppcheck"
t=$SECONDS
cppcheck --std=c11 --library=posix --enable=warning,style,performance,portability \
  --inline-suppr --quiet -j"$jobs" --suppress=missingIncludeSystem \
  -I common/include -I common/worker/include -I services/catalog -I tools/cli -I proto -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]' --error-exitcode=1 \
  "${product[@]}" >"$out/cppcheck.raw" 2>&1
cppcheck_rc=$?
grep -E '^[^ ]+:[0-9]+:' "$out/cppcheck.raw" >"$out/cppcheck"
[ $cppcheck_rc -ne 0 ] && [ ! -s "$out/cppcheck" ] && cp "$out/cppcheck.raw" "$out/cppcheck"
verdict cppcheck "$out/cppcheck" $((SECONDS - t))

echo "== gate: flawfinder (level 2 and up)"
# -F (--falsepositive) drops declarations of fixed-size char arrays, which
# flawfinder flags one and all, and names not followed by "(" (a variable
# called open, format(printf, ...) attributes). Rules off, by flawfinder's
# "(category) name", each with its reason (an inline "/* Flawfinder: ignore
# - reason */" silences its own line and the next one only):
flawfinder_off=(
  # every memcpy is flagged, bounded or not; each copies a length checked
  # against its destination just before (reviewed), and clang-analyzer,
  # -D_FORTIFY_SOURCE=3 and ASan check the bounds
  '(buffer) memcpy'
  # a format that is not a literal: gcc's -Wformat=2 -Werror (CMakeLists.txt)
  # already rejects every non-literal format that does not come through a
  # format(printf) attribute, and checks the literals' arguments too
  '(format) '
)
t=$SECONDS
flawfinder --minlevel=2 --falsepositive --quiet --dataonly --singleline --columns \
  "${product[@]}" >"$out/flawfinder.raw" 2>&1
flawfinder_rc=$?
grep -E '^[^ ]+:[0-9]+:' "$out/flawfinder.raw" |
  grep -vF "${flawfinder_off[@]/#/-e}" >"$out/flawfinder"
[ $flawfinder_rc -ne 0 ] && cat "$out/flawfinder.raw" >>"$out/flawfinder"
verdict flawfinder "$out/flawfinder" $((SECONDS - t))

echo "== gate: clang-tidy ($build/compile_commands.json, checks in .clang-tidy)"
t=$SECONDS
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S . -B "$build" -DWARREN_WERROR=ON >/dev/null || exit 1
fi
sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$build/compile_commands.json" | sort -u |
  grep -E "^$root/(common|services|proto|tools)/" >"$out/tidy.files"
mkdir -p "$out/tidy.d" "$out/tidy.err"
# One report a file, so parallel runs do not interleave. A run that fails
# without a diagnostic (a crash) is a finding too.
xargs -P "$jobs" -I{} sh -c '
  name=$(echo "$2" | tr / _)
  clang-tidy -p "$1" --quiet "$2" >"$3/tidy.d/$name" 2>"$3/tidy.err/$name" ||
    grep -q ": error:" "$3/tidy.d/$name" ||
    echo "$2:1:1: error: clang-tidy failed: $(tail -n 1 "$3/tidy.err/$name")" >>"$3/tidy.d/$name"
' _ "$build" {} "$out" <"$out/tidy.files"
cat "$out"/tidy.d/* >"$out/tidy.raw" 2>/dev/null
[ -s "$out/tidy.files" ] || echo "no product file in $build/compile_commands.json" >"$out/tidy.raw"
grep -E '^(/[^ ]+:[0-9]+:[0-9]+: (warning|error):|no product file)' "$out/tidy.raw" |
  sed "s|^$root/||" | sort -u >"$out/tidy"
sed "s|$root/||" "$out/tidy.raw" >"$out/tidy.detail"
verdict clang-tidy "$out/tidy" $((SECONDS - t)) "$out/tidy.detail"

echo "== gate: gcc -fanalyzer ($analyzer_build, warnings as errors)"
# A throwaway build: only the product (no tests), every warning an error.
t=$SECONDS
rm -rf "$analyzer_build"
mkdir -p "$analyzer_build"
log=$analyzer_build/gate.log
{
  cmake -S . -B "$analyzer_build" -G "Unix Makefiles" -DWARREN_WERROR=ON \
    -DCMAKE_C_FLAGS=-fanalyzer -DBUILD_TESTING=OFF >/dev/null &&
    cmake --build "$analyzer_build" -j"$jobs" -- -k # -k: every file's findings
} >"$log" 2>&1
analyzer_rc=$?
grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$log" | sed "s|^$root/||" | sort -u \
  >"$out/analyzer"
if [ $analyzer_rc -ne 0 ] && [ ! -s "$out/analyzer" ]; then
  tail -n 20 "$log" >"$out/analyzer" # the build failed for another reason: show why
fi
[ -s "$out/analyzer" ] && echo "(each finding's path of events: $log)"
verdict gcc-fanalyzer "$out/analyzer" $((SECONDS - t))

if [ ${#failed[@]} -gt 0 ]; then
  echo "== gate: FAILED: ${failed[*]}"
  exit 1
fi
echo "== gate: passed"
