#!/usr/bin/env bash
# The certificates test_tls needs besides the broker's (tests/lib/servers.sh
# makes the test CA and the broker's certificate in CA_DIR): a client
# certificate with an encrypted key, one already expired, and an unrelated
# CA (the wrong-CA case). EC keys: quick to make.
# Usage: tls_certs.sh OUT_DIR CA_DIR
set -euo pipefail
out=$1 ca=$2
mkdir -p "$out"
cd "$out"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
printf 'extendedKeyUsage=clientAuth\n' >client.ext
printf 'warren test key\n' >password
{
  # the client's key is encrypted: its password reaches warren through
  # WARREN_AMQP_TLS_KEY_PASSWORD_FILE
  openssl req "${ec[@]}" -passout file:password -keyout client.key -out client.csr \
    -subj "/CN=warren-test-client"
  openssl x509 -req -in client.csr -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
    -CAserial serial -days 30 -extfile client.ext -out client.pem
  # valid from now until now: expired a second later
  openssl req "${ec[@]}" -nodes -keyout expired.key -out expired.csr -subj "/CN=warren-expired"
  openssl x509 -req -in expired.csr -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
    -CAserial serial -days 0 -extfile client.ext -out expired.pem
  openssl req -x509 "${ec[@]}" -nodes -keyout other-ca.key -out other-ca.pem -days 30 \
    -subj "/CN=another CA" -addext "basicConstraints=critical,CA:TRUE"
} >openssl.log 2>&1 || { cat openssl.log >&2; exit 1; }
