#!/usr/bin/env bash
# npm packages for the tests, installed from a committed package.json and
# package-lock.json into a cache folder of the build (never into the source
# tree): `npm ci` runs again only when the lock file changed. Sourced:
#   npm_install SRC_DIR CACHE_DIR   prints nothing; CACHE_DIR/node_modules is ready
npm_install() {
  local src=$1 dest=$2 stamp
  command -v npm >/dev/null || { echo "npm is not installed (tests/lib/deps.sh)" >&2; return 1; }
  mkdir -p "$dest"
  stamp=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
  if [ -d "$dest/node_modules" ] && [ "$(cat "$dest/.stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  cp "$src/package.json" "$src/package-lock.json" "$dest/"
  # The lock records no download addresses; npm asks the registry it is set to.
  (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$dest/npm.log" 2>&1) ||
    { cat "$dest/npm.log" >&2; echo "npm ci failed in $dest" >&2; return 1; }
  echo "$stamp" >"$dest/.stamp"
}
