#!/usr/bin/env bash
# Validates the compose stack without a Docker engine: Debian's
# docker-compose must accept docker/compose.yml, and every WARREN_* variable
# that compose.yml or a Dockerfile sets must be a key of the binaries' key
# table (an unknown one makes them exit 2); every service has a
# healthcheck, the workers' on their admin port. Usage: check_compose.sh CFG_KEYS_BIN
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
keys_bin=$1
cd "$root"
# The password and the cursor secret are only interpolated by compose; any
# value will do here.
WARREN_AMQP_PASSWORD=check WARREN_CURSOR_SECRET=check docker-compose -f docker/compose.yml \
  config >"${TMPDIR:-/tmp}/warren-compose.$$.yml"
trap 'rm -f "${TMPDIR:-/tmp}/warren-compose.$$.yml"' EXIT
# Every service has a healthcheck; each warren worker's probes the admin
# port its Dockerfile sets (WARREN_ADMIN_PORT) at /readyz, and its image's
# own HEALTHCHECK probes that port's /livez. python3-yaml comes with
# docker-compose (Debian's /usr/bin/python3 has it).
/usr/bin/python3 - "${TMPDIR:-/tmp}/warren-compose.$$.yml" <<'PY' || exit 1
import re, sys, yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
bad = []
for name, svc in services.items():
    test = " ".join(svc.get("healthcheck", {}).get("test", []))
    if not test:
        bad.append(f"{name}: no healthcheck")
        continue
    dockerfile = svc.get("build", {}).get("dockerfile", "")
    if name in ("catalog", "auditlog"):
        text = open(dockerfile.replace("docker/", "docker/", 1)).read()
        port = re.search(r"WARREN_ADMIN_PORT=(\d+)", text)
        if port is None:
            bad.append(f"{name}: {dockerfile} sets no WARREN_ADMIN_PORT")
        elif f"/dev/tcp/127.0.0.1/{port.group(1)} " not in test or "GET /readyz" not in test:
            bad.append(f"{name}: healthcheck is not /readyz on the admin port {port.group(1)}")
        elif not re.search(rf"HEALTHCHECK[^\n]*\n[^\n]*/dev/tcp/127.0.0.1/{port.group(1)} .*GET /livez", text):
            bad.append(f"{name}: {dockerfile}'s HEALTHCHECK is not /livez on the admin port")
for b in bad:
    print(f"docker: {b}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
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
echo "docker: compose.yml valid, every service with a healthcheck; $(wc -w <<<"$used") WARREN_* variables checked against the key table"
exit $status
