#!/usr/bin/env bash
# The Node example (examples/node) against a live catalog worker on the
# test broker, no edge: amqplib installed from its lock file into the
# build's npm cache, its demonstration, then its tests (node --test: a get,
# a list with q, a pipelined batch, 504 with no worker, a clear error with
# no broker, the broker refusing a forged user_id, the audit principal).
#   tests/examples/node.sh CATALOG NPM_CACHE   (ctest: examples_node)
set -euo pipefail
catalog=$1 cache=$2
here=$(cd "$(dirname "$0")" && pwd)
example=$here/../../examples/node
# shellcheck source=tests/lib/npm.sh
. "$here/../lib/npm.sh"
npm_install "$example" "$cache/examples-node"
export NODE_PATH=$cache/examples-node/node_modules
# shellcheck source=tests/lib/stack.sh
. "$here/../lib/stack.sh"
stack_init example-node
svc=t_node
stack_worker catalog "$catalog" WARREN_DATABASE_URI="sqlite:///$STACK_DB" WARREN_SERVICE=$svc
stack_wait catalog "warren.$svc"

echo "== warren_client.js (the demonstration)"
node "$example/warren_client.js" "$STACK_URL" "$svc"
echo "== its tests"
WARREN_EXAMPLE_URL=$STACK_URL WARREN_EXAMPLE_SERVICE=$svc WARREN_EXAMPLE_SPOOL="$STACK_DIR/spool-catalog" \
  node --test "$example/warren_client.test.js"
stack_stop
