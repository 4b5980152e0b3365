#!/usr/bin/env bash
# Installs the Debian packages warren builds, tests and runs with, when any
# is missing. Sourced by tests/run.sh and deploy/local/run.sh.
warren_packages=(build-essential cmake pkg-config librabbitmq-dev libhiredis-dev libmongoc-dev
  libjansson-dev libsqlite3-dev libevent-dev check rabbitmq-server redis-server
  python3-mockupdb python3-pymongo wrk curl clang libclang-rt-14-dev
  clang-tidy cppcheck flawfinder clang-format)

warren_install_deps() {
  local missing=()
  for p in "${warren_packages[@]}"; do
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
