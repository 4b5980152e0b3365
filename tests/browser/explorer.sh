#!/usr/bin/env bash
# The explorer in a real browser: an edge and a catalog worker on a copy of
# Chinook (tests/lib/stack.sh), Debian's Chromium headless driven by npm's
# playwright-core (installed from this folder's lock file into the build's
# npm cache), explorer.test.js doing what a person does. The screenshot is
# kept as a test artifact in ARTIFACTS.
#   tests/browser/explorer.sh EDGE CATALOG NPM_CACHE ARTIFACTS   (ctest: browser_explorer)
set -euo pipefail
edge=$1 catalog=$2 cache=$3 artifacts=$4
here=$(cd "$(dirname "$0")" && pwd)
chromium=${WRT_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "browser_explorer: no $chromium (tests/lib/deps.sh installs chromium)" >&2; exit 1; }
# shellcheck source=tests/lib/npm.sh
. "$here/../lib/npm.sh"
npm_install "$here" "$cache/browser"
# shellcheck source=tests/lib/stack.sh
. "$here/../lib/stack.sh"
stack_init browser
svc=t_browser
key=browser-test-key-0123456789abcdef
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stack_worker catalog "$catalog" WARREN_DATABASE_URI="sqlite:///$STACK_DB" WARREN_SERVICE=$svc \
  "WARREN_Albums__METHODS=GET, POST, PATCH, DELETE"
stack_worker edge "$edge" WARREN_SERVICE=$svc WARREN_HTTP_PORT="$port" WARREN_API_KEYS="tests:$key"
stack_wait catalog "warren.$svc"
url=http://127.0.0.1:$port
for _ in $(seq 150); do
  curl -sf "$url/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf "$url/readyz" >/dev/null || stack_fail "the edge is not ready within 15 s (log: $(stack_log edge))"

mkdir -p "$artifacts"
rm -f "$artifacts"/explorer*.png # a failure shot is only ever this run's
NODE_PATH=$cache/browser/node_modules WRT_EXPLORER_URL=$url WRT_EXPLORER_KEY=$key \
  WRT_CHROMIUM=$chromium WRT_ARTIFACTS=$artifacts node "$here/explorer.test.js"
stack_stop
