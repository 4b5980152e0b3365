#!/usr/bin/env bash
# deploy/systemd checked: each unit, rendered with ExecStart pointing at the
# built binaries (systemd-analyze needs them to exist; the template as
# instance @9471), passes `systemd-analyze verify` with no complaint at all
# (an unknown directive is only a warning there, so any output fails
# here); every unit keeps the sandboxing and restart directives below,
# feeds each WARREN_<KEY>_FILE from a LoadCredential, and stays at an
# exposure of 2.0 or less (`systemd-analyze security --offline`); the
# example configs parse as the binaries parse them. Then copies with one
# mistake each must be refused.
#   tests/systemd/check.sh BIN_DIR TOPOLOGY_BIN   (ctest: deploy_systemd)
#   BIN_DIR holds edge/warren-edge, catalog/warren-catalog, auditlog/warren-auditlog
set -euo pipefail
bindir=$1 topology=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
src=$root/deploy/systemd
command -v systemd-analyze >/dev/null || { echo "systemd: systemd-analyze is not installed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# RestartPreventExitStatus=2: a bad configuration (exit 2) is not retried
# in a loop (README, "Running under systemd").
required=(Restart=on-failure RestartPreventExitStatus=2 NoNewPrivileges=yes ProtectSystem=strict
  ProtectHome=yes PrivateTmp=yes PrivateDevices=yes CapabilityBoundingSet=
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service
  MemoryDenyWriteExecute=yes User=warren)

# check DIR: 0 when every unit in DIR passes, else 1 with the reasons.
check() {
  local dir=$1 out=$work/out rc=0 units=() u name bin
  rm -rf "$work/r" && mkdir "$work/r"
  for u in "$dir"/*.service; do
    name=$(basename "$u")
    bin=${name%%[@.]*}
    bin=${bin#warren-}
    [ "${name%@.service}" != "$name" ] && name=${name%@.service}@9471.service
    sed "s|/usr/local/bin/warren-$bin|$bindir/$bin/warren-$bin|" "$u" >"$work/r/$name"
    units+=("$work/r/$name")
    for d in "${required[@]}"; do
      grep -qx -- "$d" "$u" || { echo "systemd: $name lacks $d" >&2; rc=1; }
    done
    for cred in $(sed -n 's|^Environment=WARREN_[A-Z_]*_FILE=%d/\(.*\)$|\1|p' "$u"); do
      grep -q "^LoadCredential=$cred:" "$u" || { echo "systemd: $name: no LoadCredential for $cred" >&2; rc=1; }
    done
  done
  if ! systemd-analyze verify "${units[@]}" >"$out" 2>&1 || [ -s "$out" ]; then
    echo "systemd: systemd-analyze verify:" >&2
    cat "$out" >&2
    rc=1
  fi
  for u in "${units[@]}"; do
    local level
    level=$(systemd-analyze security --offline=true "$u" 2>/dev/null |
      sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
    if [ -z "$level" ] || ! awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'; then
      echo "systemd: $(basename "$u"): exposure ${level:-unknown}, above 2.0" >&2
      rc=1
    else
      echo "systemd: $(basename "$u"): verified, exposure $level"
    fi
  done
  return $rc
}

status=0
check "$src" || status=1
for svc in edge catalog auditlog; do
  "$topology" "$src/config/$svc.cfg" "$svc" >/dev/null || { echo "systemd: config/$svc.cfg does not parse" >&2; status=1; }
done

must_fail() { # must_fail UNIT SED_EXPR: one mistake in a copy, refused
  rm -rf "$work/copy" && cp -r "$src" "$work/copy"
  sed -i "$2" "$work/copy/$1"
  if cmp -s "$src/$1" "$work/copy/$1"; then
    echo "systemd: self-test: '$2' changed nothing in $1" >&2
    status=1
  elif check "$work/copy" >/dev/null 2>&1; then
    echo "systemd: self-test: $1 with '$2' was accepted" >&2
    status=1
  else
    echo "systemd: self-test: refused as it should: $1 with '$2'"
  fi
}
must_fail warren-edge.service 's/^ProtectHome=yes/ProtectHom=yes/'
must_fail 'warren-catalog@.service' 's/^ProtectSystem=strict/ProtectSystem=full/'
must_fail warren-auditlog.service 's|^LoadCredential=amqp-url:.*||'
must_fail warren-edge.service 's|/usr/local/bin/warren-edge|/usr/local/bin/warren-edgy|'
must_fail 'warren-catalog@.service' 's/^Type=exec/Type=exek/'
exit $status
