#!/usr/bin/env bash
# Validates the compose stack without a Docker engine: Debian's
# docker-compose must accept docker/compose.yml, and every WARREN_* variable
# that compose.yml or a Dockerfile sets must be a key of the binaries' key
# table (an unknown one makes them exit 2). Usage: check_compose.sh CFG_KEYS_BIN
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
keys_bin=$1
cd "$root"
# The password and the cursor secret are only interpolated by compose; any
# value will do here.
WARREN_AMQP_PASSWORD=check WARREN_CURSOR_SECRET=check docker-compose -f docker/compose.yml \
  config >/dev/null
known=$("$keys_bin" | sed 's/^/WARREN_/')
status=0
used=$(grep -ohE 'WARREN_[A-Za-z0-9_]+' docker/compose.yml docker/Dockerfile.* | sort -u)
for var in $used; do
  [ "$var" = WARREN_AMQP_PASSWORD ] && continue # compose's own, never passed in
  if ! grep -qx "$var" <<<"$known"; then
    echo "docker: $var is set but is no configuration key" >&2
    status=1
  fi
done
[ -n "$used" ] || { echo "docker: no WARREN_* variable found: the check reads nothing" >&2; exit 1; }
echo "docker: compose.yml valid; $(wc -w <<<"$used") WARREN_* variables checked against the key table"
exit $status
