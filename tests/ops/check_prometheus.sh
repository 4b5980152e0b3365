#!/usr/bin/env bash
# Checks deploy/prometheus with Prometheus's own promtool (Debian's
# prometheus package): the scrape configuration and the alert rules parse,
# and tests/ops/alerts_test.yml's cases fire (or not) as they should.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v promtool >/dev/null || { echo "promtool missing: install Debian's prometheus" >&2; exit 1; }
promtool check config "$root/deploy/prometheus/prometheus.yml"
promtool check rules "$root/deploy/prometheus/alerts.yml"
cd "$root/tests/ops"
promtool test rules alerts_test.yml
