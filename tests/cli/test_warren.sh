#!/usr/bin/env bash
# warren, the command-line client, as a user runs it: the built binary
# against a live catalog worker (no edge) on the test broker, and the
# auditlog service for `svc` and the audit principal. Checks the bytes it
# prints, the tables, the exit status of each class, the config it reads
# and the broker user it is recorded as.
#   tests/cli/test_warren.sh WARREN CATALOG AUDITLOG   (ctest: integration_cli)
set -euo pipefail
warren=$1 catalog=$2 auditlog=$3
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/stack.sh
. "$here/../lib/stack.sh"
stack_init cli
t=$STACK_DIR
fail() { stack_fail "$*"; }
svc=t_cli
mongo="mongodb://127.0.0.1:${WRT_MONGO_PORT:?}/"
stack_worker catalog "$catalog" WARREN_DATABASE_URI="sqlite:///$STACK_DB" WARREN_SERVICE=$svc \
  WARREN_MONGO_URI="$mongo" WARREN_AUDIT_COLLECTION=audit_cli \
  "WARREN_Albums__METHODS=GET, POST, PATCH, DELETE, DELETE_MANY"
stack_worker auditlog "$auditlog" WARREN_MONGO_URI="$mongo" WARREN_AUDIT_COLLECTION=audit_cli
stack_wait catalog "warren.$svc"
stack_wait auditlog warren.auditlog
export WARREN_AMQP_URL=$STACK_URL WARREN_SERVICE=$svc

# run ARGS...: warren's stdout, stderr and exit status in $t/out, $t/err, $rc.
run() {
  rc=0
  "$warren" "$@" >"$t/out" 2>"$t/err" </dev/null || rc=$?
}
# run_in INPUT ARGS...: the same with INPUT on stdin.
run_in() {
  local input=$1
  shift
  rc=0
  "$warren" "$@" >"$t/out" 2>"$t/err" <<<"$input" || rc=$?
}
expect() { # STATUS [STDOUT]
  [ "$rc" -eq "$1" ] || fail "warren exited $rc, expected $1; stdout: $(head -c 300 "$t/out"); stderr: $(cat "$t/err")"
  if [ $# -gt 1 ]; then
    [ "$(cat "$t/out")" = "$2" ] || fail "stdout was:
$(cat "$t/out")
expected:
$2"
  fi
}
expect_err() { grep -qF -- "$1" "$t/err" || fail "stderr lacks '$1': $(cat "$t/err")"; }
step() { echo "== $*"; }

step "--version, --help, a bad option"
run --version
expect 0 "warren $(sed -n 's/^project(warren VERSION \([0-9.]*\).*/\1/p' "$here/../../CMakeLists.txt")"
run --help
expect 0
grep -q '^Usage: warren \[--config PATH\]' "$t/out" || fail "--help has no usage line"
grep -qE "^  AMQP_URL \(str, default '[^']*'\)$" "$t/out" || fail "--help does not list AMQP_URL"
grep -qE "^  REQUEST_TIMEOUT_MS \(int, default 5000\)$" "$t/out" || fail "--help lacks REQUEST_TIMEOUT_MS"
if grep -q 'DATABASE_URI' "$t/out"; then fail "--help lists a key warren does not read"; fi
run get Albums 1 --no-such-option
expect 2 ""
expect_err "arguments: --no-such-option: unknown argument"

step "get: the reply's bytes, exit 0"
run get Albums 1 --depth 0
expect 0 '{"album_id":1,"artist_id":1,"title":"For Those About To Rock We Salute You"}'
run get Albums 1
expect 0
head -c 70 "$t/out" | grep -qF '{"Artists":{"artist_id":1,"name":"AC/DC"},"album_id":1,' ||
  fail "get Albums 1: $(head -c 200 "$t/out")"
[ "$(tail -c 1 "$t/out" | od -An -c | tr -d ' ')" = '\n' ] || fail "the body's newline is lost"

step "list with a filter, an order and a page, as a table"
run --table list Albums --filter 'title like %Rock%' --order -title --page 2 --per-page 2 --depth 0
# (a title longer than 60 characters is cut, with an ellipsis)
expect 0 "album_id  artist_id  title
--------  ---------  ------------------------------------------------------------
     213        139  Pure Cult: The Best Of The Cult (For Rockers, Ravers, Lover…
       4          1  Let There Be Rock
num_results: 7
page: 2
total_pages: 4
next: --page 3"
run list Albums --filter 'title like %Rock%' --filter 'artist_id > 50' --depth 0 --json
expect 0
grep -qF '"num_results":5,' "$t/out" || fail "two filters are not and-ed: $(cat "$t/out")"
run --table list Albums --after '' --per-page 1 --depth 0 --count none
expect 0
grep -qE '^next: --after [A-Za-z0-9_-]+$' "$t/out" || fail "no cursor hint: $(cat "$t/out")"
cursor=$(sed -n 's/^next: --after //p' "$t/out")
run --table list Albums --after "$cursor" --per-page 1 --depth 0
expect 0
grep -qE '^ +2 +2  Balls to the Wall$' "$t/out" || fail "the cursor's page: $(cat "$t/out")"

step "eval, collections, related"
run eval Invoices sum:total count:invoice_id
expect 0 '{"count__invoice_id":412,"sum__total":2328.600000000004}'
run eval Invoices sum:total --filter 'billing_country == Brazil' --table
expect 0 "sum__total  190.09999999999997"
run --table collections
expect 0
grep -qE '^GET, POST, PATCH, DELETE, DELETE_MANY +Albums +/api/Albums$' "$t/out" ||
  fail "collections: $(cat "$t/out")"
run related Artists 1 albums --depth 0 --json
expect 0
grep -qF '"num_results":2,' "$t/out" || fail "related: $(cat "$t/out")"

step "errors by class: 4 for 4xx, 5 for 5xx, 2 for usage"
run get Albums 100000
expect 4 '{"code":"not_found","message":"no such object"}'
expect_err "warren: 404 not_found: no such object"
run --table get Albums 100000
expect 4 ""
run list Albums --filter 'no_such_field == 1'
expect 4
expect_err "warren: 400 bad_parameter:"
run list Albums --page 0
expect 2 ""
expect_err "--page: an integer, 1 to 1000000000"
run list Albums --filter 'title likes x'
expect 2 ""
expect_err "unknown operator 'likes'"
run get Albums 1 --amqp-url "amqp://guest:guest@127.0.0.1:1/%2f"
expect 5
grep -qF '"code":"unavailable"' "$t/out" || fail "no 503 body: $(cat "$t/out")"
expect_err "warren: 503 unavailable: amqp: cannot reach 127.0.0.1:1"
t0=$(date +%s%N)
run get Albums 1 --service t_cli_nobody --timeout 400
t1=$(date +%s%N)
expect 5 '{"code":"timeout","message":"the service did not answer in time"}'
[ $(((t1 - t0) / 1000000)) -ge 390 ] || fail "a 504 before its deadline"
expect_err "warren: 504 timeout"

step "writes: post from stdin, patch from an argument, delete"
run_in '{"title":"CLI album","artist_id":1}' post Albums --depth 0
expect 2 ""
expect_err "--depth does not apply to post"
run_in '{"title":"CLI album","artist_id":1}' post Albums
expect 0
id=$(sed -n 's/.*"album_id":\([0-9]*\),.*/\1/p' "$t/out")
[ -n "$id" ] || fail "post: $(cat "$t/out")"
run patch Albums "$id" '{"title":"CLI album, renamed"}'
expect 0
grep -qF '"title":"CLI album, renamed"' "$t/out" || fail "patch: $(cat "$t/out")"
run post Albums '{"title":"x","nope":1}'
expect 4
expect_err "warren: 400 validation_failed:"
expect_err "  nope  is not an attribute"
run post Albums '{"title":'
expect 2 ""
expect_err "body: "
run delete Albums "$id"
expect 0 ""
run get Albums "$id"
expect 4
run_in '{"title":"gone soon","artist_id":1}' post Albums
run delete Albums --filter 'title == gone soon'
expect 0
grep -qF '{"num_deleted":1}' "$t/out" || fail "delete many: $(cat "$t/out")"

step "--request-id: a write retried is applied once, the first answer again"
wid=0123456789abcdef0123456789abcd02
run post Albums '{"title":"CLI retried","artist_id":1}' --request-id "$wid"
expect 0
first=$(cat "$t/out")
run post Albums '{"title":"CLI retried","artist_id":1}' --request-id "$wid"
expect 0 "$first"
run list Albums --filter 'title == CLI retried'
expect 0
grep -qF '"num_results":1' "$t/out" || fail "a retried post was applied twice: $(cat "$t/out")"

step "exit 1 for anything else: stdout that cannot be written"
if [ -w /dev/full ]; then
  rc=0
  "$warren" get Albums 1 >/dev/full 2>"$t/err" </dev/null || rc=$?
  [ "$rc" -eq 1 ] || fail "warren exited $rc writing to a full device, expected 1"
  expect_err "warren: cannot write the answer: No space left on device"
  rc=0
  "$warren" --version >/dev/full 2>/dev/null || rc=$?
  [ "$rc" -eq 1 ] || fail "--version exited $rc writing to a full device, expected 1"
fi

step "the config: a file, the environment, the options, in that order"
printf "AMQP_URL = 'amqp://guest:guest@127.0.0.1:1/%%2f'\nSERVICE = 't_cli_nobody'\n" >"$t/w.cfg"
(
  unset WARREN_AMQP_URL WARREN_SERVICE
  run --config "$t/w.cfg" get Albums 1
  expect 5
  expect_err "cannot reach 127.0.0.1:1"
  run --config "$t/w.cfg" --amqp-url "$STACK_URL" --service "$svc" get Albums 1 --depth 0
  expect 0
  WARREN_AMQP_URL=$STACK_URL WARREN_SERVICE=$svc run --config "$t/w.cfg" get Albums 1 --depth 0
  expect 0
)
run --config "$t/none.cfg" get Albums 1
expect 2
expect_err "none.cfg: cannot read"
WARREN_NO_SUCH_KEY=1 run get Albums 1
expect 2
expect_err "unknown key"

step "a terminal gets a table, a pipe the bytes"
out=$(script -qec "$warren get Albums 1 --depth 0" /dev/null | tr -d '\r')
[ "$out" = "album_id   1
artist_id  1
title      For Those About To Rock We Salute You" ] || fail "on a terminal: $out"
out=$(script -qec "$warren --json get Albums 1 --depth 0" /dev/null | tr -d '\r')
[ "$out" = '{"album_id":1,"artist_id":1,"title":"For Those About To Rock We Salute You"}' ] ||
  fail "--json on a terminal: $out"

step "svc: the auditlog's record of a warren request names the broker user"
rid=0123456789abcdef0123456789abcd01
run get Albums 2 --request-id "$rid"
expect 0
for _ in $(seq 100); do
  run svc auditlog records "$rid"
  [ "$rc" -eq 0 ] && break
  sleep 0.2
done
expect 0
grep -qF "\"request_id\":\"$rid\"" "$t/out" || fail "records: $(cat "$t/out")"
grep -qF '"principal":"guest"' "$t/out" || fail "the principal is not the broker user: $(cat "$t/out")"
run svc auditlog records nothex
expect 4
expect_err "warren: 400 bad_parameter"

step "the workers stop cleanly"
stack_stop
echo "integration_cli: passed"
