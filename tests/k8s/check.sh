#!/usr/bin/env bash
# deploy/k8s checked offline: `kubectl kustomize` renders the base and every
# overlay, and validate.mjs checks each rendered object (schemas, warren's
# pod rules, the topology against the code's). Then it shows the check can
# fail: copies of deploy/k8s with one mistake each (a queue argument, the
# stream's retention in the ConfigMap, a misspelt CRD field, a misspelt
# KEDA trigger key, a secret set as a plain value) must each be refused.
#   tests/k8s/check.sh TOPOLOGY_BIN NPM_CACHE   (ctest: deploy_k8s)
set -euo pipefail
topology=$1 cache=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib/npm.sh
. "$here/../lib/npm.sh"
command -v kubectl >/dev/null || { echo "k8s: kubectl is not installed (tests/lib/deps.sh)" >&2; exit 1; }
# patches: with a target and labels: need kustomize v4 or later.
kv=$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9]*\).*/\1/p')
if [ -z "$kv" ] || [ "$kv" -lt 4 ]; then
  echo "k8s: kubectl's kustomize is older than v4 (kubectl 1.21); deploy/k8s needs v4 or later" >&2
  exit 1
fi
npm_install "$here" "$cache/k8s"
cp "$here/validate.mjs" "$cache/k8s/validate.mjs"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

validate() { # validate K8S_DIR NAME: renders K8S_DIR/NAME and checks it
  kubectl kustomize "$1/$2" >"$work/rendered.yaml" &&
    node "$cache/k8s/validate.mjs" "$here/schemas" "$topology" "$work/rendered.yaml"
}

status=0
for dir in base $(cd "$root/deploy/k8s" && ls -d overlays/*); do
  validate "$root/deploy/k8s" "$dir" || status=1
done

# must_fail FILE SED_EXPR EXPECTED: one mistake in a copy, refused for the
# right reason.
must_fail() {
  rm -rf "$work/k8s" && cp -r "$root/deploy/k8s" "$work/k8s"
  sed -i "$2" "$work/k8s/$1"
  if cmp -s "$root/deploy/k8s/$1" "$work/k8s/$1"; then
    echo "k8s: self-test: '$2' changed nothing in $1" >&2
    status=1
  elif validate "$work/k8s" base >"$work/out" 2>&1; then
    echo "k8s: self-test: $1 with '$2' was accepted" >&2
    status=1
  elif ! grep -q -- "$3" "$work/out"; then
    echo "k8s: self-test: $1 with '$2' was refused, but not for '$3':" >&2
    cat "$work/out" >&2
    status=1
  else
    echo "k8s: self-test: refused as it should: $1 with '$2'"
  fi
}
must_fail base/topology.yaml 's/x-delivery-limit: 5/x-delivery-limit: 6/' 'topology: the code declares'
must_fail base/config/catalog.cfg "s/CHANGES_MAX_AGE = '7D'/CHANGES_MAX_AGE = '14D'/" \
  'warren.catalog.changes'
must_fail base/topology.yaml '0,/rabbitmqClusterReference/s//rabbitmqClusterRefrence/' \
  'must NOT have additional properties'
must_fail base/keda.yaml 's/queueName: warren.catalog$/queuName: warren.catalog/' 'rabbitmq trigger'
must_fail base/catalog.yaml 's/WARREN_CURSOR_SECRET_FILE/WARREN_CURSOR_SECRET/' 'set directly'
must_fail base/config/edge.cfg 's/HEARTBEAT_S = 10/HEARTBEAT_SS = 10/' 'unknown key'
must_fail base/config/catalog.cfg 's/ADMIN_PORT = 9470/ADMIN_PORT = 9471/' 'its config'"'"'s ADMIN_PORT 9471'
must_fail base/config/edge.cfg "s/HTTP_HOST = '0.0.0.0'/HTTP_HOST = '127.0.0.1'/" 'cannot reach it'
must_fail base/catalog.yaml 's|path: /readyz|path: /livez|' 'readinessProbe asks /livez'
must_fail base/edge.yaml '/^kind: PodDisruptionBudget/,$s/name: warren-edge$/name: warren-edgy/' \
  'no PodDisruptionBudget'
exit $status
