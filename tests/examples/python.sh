#!/usr/bin/env bash
# The Python example (examples/python) against a live catalog worker on the
# test broker, no edge: its demonstration, then its tests (a get, a list
# with q, a pipelined batch, 504 with no worker, a clear error with no
# broker, the broker refusing a forged user_id, the audit principal).
#   tests/examples/python.sh CATALOG   (ctest: examples_python)
set -euo pipefail
catalog=$1
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/stack.sh
. "$here/../lib/stack.sh"
stack_init example-python
svc=t_python
stack_worker catalog "$catalog" WARREN_DATABASE_URI="sqlite:///$STACK_DB" WARREN_SERVICE=$svc
stack_wait catalog "warren.$svc"

cd "$here/../../examples/python"
export PYTHONDONTWRITEBYTECODE=1 # nothing written into the source tree
# Debian's python3 has python3-pika; the python3 first on PATH may not.
echo "== warren_client.py (the demonstration)"
/usr/bin/python3 warren_client.py "$STACK_URL" "$svc"
echo "== its tests"
WARREN_EXAMPLE_URL=$STACK_URL WARREN_EXAMPLE_SERVICE=$svc WARREN_EXAMPLE_SPOOL="$STACK_DIR/spool-catalog" \
  /usr/bin/python3 -m unittest -v test_warren_client
stack_stop
