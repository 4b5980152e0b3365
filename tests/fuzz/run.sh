#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build/fuzz and runs each for
# [seconds-per-target] (default 30) on a scratch copy of its seed corpus
# (corpus/<target>/; the repository is not modified). Exits non-zero when
# any target crashes, leaks, hangs or breaks a property, after printing the
# saved input (build/fuzz/artifacts/<target>/) and how to replay it.
set -euo pipefail
secs=${1:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=tests/lib/deps.sh
. tests/lib/deps.sh
warren_install_deps

targets=(fuzz_route fuzz_envelope fuzz_batch fuzz_config fuzz_json fuzz_query fuzz_head fuzz_sse)
build=build/fuzz
CC=clang cmake -S . -B "$build" -DWARREN_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzzers >/dev/null

work=$(mktemp -d /tmp/warren-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Runs target $1 for $secs seconds; its verdict (and, when it failed, the
# report) goes to $work/$1.verdict; exits non-zero when it failed.
fuzz_one() {
  local t=$1 bin=$root/$build/tests/fuzz/$1 artifacts=$root/$build/artifacts/$1
  local log=$work/$1.log out=$work/$1.verdict dict=()
  mkdir -p "$artifacts"
  cp -r "tests/fuzz/corpus/$t" "$work/$t"
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=("-dict=tests/fuzz/dict/$t.dict")
  if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "${dict[@]}" "$work/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    echo "$t: ok, ${secs}s, $execs runs, $speed/s, $cov, corpus $(find "$work/$t" -type f | wc -l) inputs" >"$out"
    return 0
  fi
  {
    echo "$t: FAILED; its log from the first error:"
    # libFuzzer's progress lines come first; the report starts at the error.
    report=$(awk '/property violated|runtime error:|ERROR: |^==[0-9]+==/ {p = 1} p' "$log" |
      head -n 80)
    echo "${report:-$(tail -n 40 "$log")}"
    input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "$t: crashing input: ${input:-(none saved)}"
    if [ -n "$input" ]; then echo "$t: replay with: $bin $input"; fi
  } >"$out"
  return 1
}

# One target a core at a time (each fuzzer runs one process): every target
# still gets its whole $secs of a core. Verdicts print in the targets' order.
jobs=$(nproc)
rc=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || rc=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || rc=1
  running=$((running - 1))
done
for t in "${targets[@]}"; do
  cat "$work/$t.verdict" 2>/dev/null || { echo "$t: FAILED: no verdict"; rc=1; }
done
exit $rc
