#!/usr/bin/env bash
# proto/asyncapi.yaml validated: npm's @asyncapi/parser, installed from
# tests/asyncapi's lock file into the build's npm cache, parses the
# document (AsyncAPI 3.0 and its rules, every $ref to proto/*.schema.json
# resolved) and validate.js checks its names against proto/warren/proto.h.
#   tests/asyncapi/check.sh PROTO_DIR NPM_CACHE   (ctest: asyncapi)
set -euo pipefail
proto=$1 cache=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/npm.sh
. "$here/../lib/npm.sh"
npm_install "$here" "$cache/asyncapi"
NODE_PATH=$cache/asyncapi/node_modules node "$here/validate.js" "$proto"
