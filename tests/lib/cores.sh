# shellcheck shell=bash
# How many of this machine's cores a part of a stack that runs whole on it
# takes: half of them, at least one. Sourced by tests/lib/servers.sh (the
# broker's Erlang schedulers), deploy/local/run.sh and tests/bench/bench.sh
# (the edge's event loops). On two cores a second scheduler tripled p99, and
# a second edge loop halved the reads a batch carries, every process then
# spending more a request (README, Benchmark).
warren_half_cores() {
  echo $((($(nproc) + 1) / 2))
}
