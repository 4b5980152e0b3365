#!/usr/bin/env bash
# Installs the Debian packages warren needs, when any is missing. Sourced by
# tests/run.sh (everything) and deploy/local/run.sh (what running takes).
# What builds and runs warren, and the servers it talks to:
warren_run_packages=(build-essential cmake pkg-config librabbitmq-dev libhiredis-dev libmongoc-dev
  libjansson-dev libsqlite3-dev libevent-dev check rabbitmq-server redis-server curl)
# What the tests add: the MongoDB test peer, the Python example's AMQP client,
# the benchmark, the fuzzers, the static-analysis gate, and promtool
# (prometheus) for /metrics and the alert rules, libfaketime (faketime) to
# step one process's clock.
warren_test_packages=(python3-mockupdb python3-pymongo python3-pika wrk clang libclang-rt-14-dev
  clang-tidy cppcheck flawfinder clang-format docker-compose prometheus faketime)

# warren_install_deps [run]: everything, or with "run" only what running takes.
warren_install_deps() {
  local missing=() wanted=("${warren_run_packages[@]}")
  [ "${1:-}" = run ] || wanted+=("${warren_test_packages[@]}")
  # Node.js and npm (the Node example, the AsyncAPI check): the machine's
  # own when it has them (they may not come from Debian), else Debian's.
  if [ "${1:-}" != run ] && ! command -v npm >/dev/null; then wanted+=(nodejs npm); fi
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  # policy-rc.d keeps the packaged servers from starting system-wide: warren
  # starts private ones on loopback.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
}
