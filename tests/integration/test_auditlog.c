/* The auditlog service (services/auditlog) against the test broker and the
 * MongoDB test peer: the catalog's requests, made through the RPC client,
 * are read back by op records (oldest first, canonical JSON), with 404 for
 * an unknown id, 400 for a malformed one or an unknown op, 503 without
 * MongoDB, and the lookup audited like any request; and through the edge
 * (GET /svc/auditlog/records/<id>, with an API key). */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/json.h"
#include "warren/rpc.h"

#define SERVICE "t_auditlog" /* the catalog's queue */

static struct proc catalog, auditlog, edge;
static char env_mongo[160], env_spool[512];

static void lookup(const char *op, const char *id, struct wr_reply *r, char *id_out);

static void start_auditlog(const char *mongo)
{
    const char *extra[] = {mongo, env_spool, "WARREN_AUDIT_COLLECTION=audit_l", NULL};
    h_spawn_warren(&auditlog, WARREN_AUDITLOG_BIN, "auditlog", 0, SERVICE, extra);
}

/* Waits until the auditlog worker answers (it installs its SIGTERM
 * handler before it consumes): a lookup of an id nobody used. */
static void wait_auditlog(void)
{
    char id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(id);
    struct wr_reply r;
    lookup(WR_OP_RECORDS, id, &r, NULL);
    ck_assert_msg(r.status == 404 || r.status == 503, "%d %s", r.status, r.body);
    wr_reply_release(&r);
}

static void setup(void)
{
    (void)snprintf(env_mongo, sizeof(env_mongo), "WARREN_MONGO_URI=mongodb://127.0.0.1:%s/",
                   h_env("WRT_MONGO_PORT"));
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s/spool-auditlog",
                   h_env("WRT_STATE_DIR"));
    h_empty_dir(env_spool + strlen("WARREN_AUDIT_SPOOL_DIR="));
    const char *extra[] = {env_mongo, env_spool, "WARREN_AUDIT_COLLECTION=audit_l", NULL};
    h_spawn_warren(&catalog, WARREN_CATALOG_BIN, "catalog-auditlog", 0, SERVICE, extra);
    start_auditlog(env_mongo);
    wait_auditlog();
}

static void teardown(void)
{
    h_servers("start-mongo");
    if (edge.pid > 0)
        ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&auditlog, SIGTERM), 0); /* 0: no leak under ASan either */
    ck_assert_int_eq(h_stop(&catalog, SIGTERM), 0);
}

static wr_rpc *client(const char *service)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = service, .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "wr_rpc_new: %s", err.msg);
    return rpc;
}

/* One call of op records for id (NULL: no id); id_out gets the lookup's
 * own request id when not NULL. */
static void lookup(const char *op, const char *id, struct wr_reply *r, char *id_out)
{
    wr_rpc *rpc = client(WR_SERVICE_AUDITLOG);
    struct wr_request req = {.op = op, .key = id};
    wr_request_id_new(req.id);
    if (id_out != NULL)
        memcpy(id_out, req.id, sizeof(req.id));
    struct wr_err err = {0};
    ck_assert_msg(wr_rpc_call(rpc, &req, r, &err) == 0, "records: %s", err.msg);
    wr_rpc_free(rpc);
}

/* Polls records for id until it answers 200 with at least n objects
 * (shipping is asynchronous); returns the parsed body. */
static json_t *records_of(const char *id, size_t n)
{
    struct wr_reply r = {0};
    for (long long end = h_now_ms() + 20000; h_now_ms() < end; usleep(200000)) {
        lookup(WR_OP_RECORDS, id, &r, NULL);
        json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
        if (j != NULL && json_array_size(json_object_get(j, "objects")) >= n) {
            /* canonical: the bytes are what the canonical writer makes of them */
            struct wr_buf b;
            wr_buf_init(&b, 1 << 20);
            wr_json_value(&b, j);
            wr_buf_putc(&b, '\n');
            ck_assert_str_eq(r.body, b.data);
            wr_buf_release(&b);
            wr_reply_release(&r);
            return j;
        }
        ck_assert_msg(r.status == 200 || r.status == 404, "records %s: %d %s", id, r.status,
                      r.body);
        json_decref(j);
        wr_reply_release(&r);
    }
    ck_abort_msg("no %zu records of %s (see %s and %s)", n, id, catalog.log, auditlog.log);
    return NULL;
}

static const char *str_of(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A catalog request through the RPC client; id gets its request id. */
static int catalog_call(const struct wr_request *proto, char id[WR_REQUEST_ID_LEN + 1])
{
    wr_rpc *rpc = client(SERVICE);
    struct wr_request req = *proto;
    wr_request_id_new(req.id);
    memcpy(id, req.id, sizeof(req.id));
    struct wr_reply r;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &r, &err), 0);
    int status = r.status;
    wr_reply_release(&r);
    wr_rpc_free(rpc);
    return status;
}

START_TEST(records_of_catalog_requests)
{
    char get[WR_REQUEST_ID_LEN + 1], missing[WR_REQUEST_ID_LEN + 1];
    ck_assert_int_eq(
        catalog_call(&(struct wr_request){.op = WR_OP_GET, .collection = "Albums", .key = "1"},
                     get),
        200);
    ck_assert_int_eq(
        catalog_call(&(struct wr_request){.op = WR_OP_GET, .collection = "Albums", .key = "100000"},
                     missing),
        404);
    json_t *j = records_of(get, 1);
    ck_assert_str_eq(str_of(j, "request_id"), get);
    json_t *doc = json_array_get(json_object_get(j, "objects"), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 1);
    ck_assert_str_ne(str_of(doc, "_id"), get); /* its own id */
    ck_assert_str_eq(str_of(doc, "request_id"), get);
    ck_assert_str_eq(str_of(doc, "op"), "get");
    ck_assert_str_eq(str_of(doc, "collection"), "Albums");
    ck_assert_str_eq(str_of(doc, "id"), "1");
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "status")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "rows")), 1);
    /* the client API publishes with user_id: the broker user, checked by RabbitMQ */
    ck_assert_str_eq(str_of(doc, "principal"), "guest");
    ck_assert_ptr_nonnull(str_of(json_object_get(doc, "time"), "$date"));
    json_decref(j);
    j = records_of(missing, 1);
    doc = json_array_get(json_object_get(j, "objects"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "status")), 404);
    ck_assert_str_eq(str_of(json_object_get(doc, "error"), "code"), "not_found");
    json_decref(j);
}
END_TEST

/* The edge's record of a request (published to warren.audit, as the edge
 * does) and the worker's come back together, oldest first. */
START_TEST(records_oldest_first)
{
    char id[WR_REQUEST_ID_LEN + 1];
    ck_assert_int_eq(
        catalog_call(&(struct wr_request){.op = WR_OP_LIST, .collection = "Artists"}, id), 200);
    char doc[512];
    int len = snprintf(doc, sizeof(doc),
                       "{\"_id\":\"edge-%s\",\"request_id\":\"%s\",\"status\":504,"
                       "\"time\":{\"$date\":{\"$numberLong\":\"%lld\"}},\"worker\":\"edge:t:1\"}",
                       id, id, wr_now_ms() - 60000);
    struct wr_amqp_opts o = {.url = h_amqp_url(), .connect_timeout_ms = 2000};
    struct wr_err err = {0};
    wr_amqp *a = wr_amqp_new(&o);
    ck_assert_int_eq(wr_amqp_connect(a, &err), 0);
    struct wr_msg m = {
        .type = WR_MSG_TYPE_AUDIT, .expiration_ms = -1, .body = doc, .len = (size_t)len};
    ck_assert_int_eq(wr_amqp_publish(a, WR_AUDIT_QUEUE, &m, true, &err), 0);
    wr_amqp_free(a);
    json_t *j = records_of(id, 2);
    json_t *objs = json_object_get(j, "objects");
    ck_assert_uint_eq(json_array_size(objs), 2);
    ck_assert_str_eq(str_of(json_array_get(objs, 0), "worker"), "edge:t:1");
    ck_assert_str_ne(str_of(json_array_get(objs, 1), "worker"), "edge:t:1");
    ck_assert_str_eq(str_of(json_array_get(objs, 1), "request_id"), id);
    ck_assert_str_ne(str_of(json_array_get(objs, 1), "_id"), id);
    json_decref(j);
}
END_TEST

START_TEST(unknown_and_malformed)
{
    char fresh[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(fresh);
    struct {
        const char *op, *id;
        int status;
        const char *code;
    } cases[] = {
        {WR_OP_RECORDS, fresh, 404, WR_CODE_NOT_FOUND},
        {WR_OP_RECORDS, "0123456789ABCDEF0123456789abcdef", 400, WR_CODE_BAD_PARAMETER},
        {WR_OP_RECORDS, "xyz", 400, WR_CODE_BAD_PARAMETER},
        {WR_OP_RECORDS, NULL, 400, WR_CODE_BAD_PARAMETER},
        {"recent", fresh, 400, WR_CODE_BAD_REQUEST}, /* an op auditlog does not know */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wr_reply r;
        lookup(cases[i].op, cases[i].id, &r, NULL);
        ck_assert_msg(r.status == cases[i].status, "%s %s: %d %s", cases[i].op,
                      cases[i].id ? cases[i].id : "-", r.status, r.body);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_str_eq(str_of(j, "code"), cases[i].code);
        if (strcmp(cases[i].op, WR_OP_RECORDS) != 0)
            ck_assert_str_eq(str_of(j, "message"), "unknown operation");
        json_decref(j);
        wr_reply_release(&r);
    }
}
END_TEST

/* The lookup is a request like any other: it leaves an audit record that
 * names the id it looked up. */
START_TEST(lookup_is_audited)
{
    char asked[WR_REQUEST_ID_LEN + 1], self[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(asked);
    struct wr_reply r;
    lookup(WR_OP_RECORDS, asked, &r, self);
    ck_assert_int_eq(r.status, 404);
    wr_reply_release(&r);
    json_t *j = records_of(self, 1);
    json_t *doc = json_array_get(json_object_get(j, "objects"), 0);
    ck_assert_str_eq(str_of(doc, "op"), WR_OP_RECORDS);
    ck_assert_str_eq(str_of(doc, "id"), asked);
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "status")), 404);
    ck_assert_ptr_nonnull(strchr(str_of(doc, "worker"), ':'));
    json_decref(j);
}
END_TEST

START_TEST(mongo_unreachable_is_503)
{
    char id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(id);
    ck_assert_int_eq(h_servers("stop-mongo"), 0);
    struct wr_reply r;
    lookup(WR_OP_RECORDS, id, &r, NULL);
    ck_assert_msg(r.status == 503, "%d %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "\"code\":\"unavailable\""));
    wr_reply_release(&r);
    ck_assert_int_eq(h_servers("start-mongo"), 0);
}
END_TEST

START_TEST(no_mongo_uri_is_503)
{
    ck_assert_int_eq(h_stop(&auditlog, SIGTERM), 0);
    start_auditlog("WARREN_MONGO_URI=");
    wait_auditlog();
    char id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(id);
    struct wr_reply r;
    lookup(WR_OP_RECORDS, id, &r, NULL);
    ck_assert_msg(r.status == 503, "%d %s", r.status, r.body);
    ck_assert_ptr_nonnull(strstr(r.body, "MONGO_URI is empty"));
    wr_reply_release(&r);
}
END_TEST

/* A service on the runtime that cannot start says so and exits 2, the
 * status a supervisor must not restart on (worker.h): an audit spool
 * folder it cannot make, a MONGO_URI that does not parse. */
START_TEST(unusable_settings_exit_2)
{
    ck_assert_int_eq(h_stop(&auditlog, SIGTERM), 0);
    const char *no_spool[] = {env_mongo, "WARREN_AUDIT_SPOOL_DIR=/proc/warren-no-such-place", NULL};
    h_spawn_warren(&auditlog, WARREN_AUDITLOG_BIN, "auditlog-no-spool", 0, SERVICE, no_spool);
    ck_assert_int_eq(h_exit_status(&auditlog, 10000), 2);
    const char *bad_mongo[] = {"WARREN_MONGO_URI=http://not-mongo/", env_spool, NULL};
    h_spawn_warren(&auditlog, WARREN_AUDITLOG_BIN, "auditlog-bad-mongo", 0, SERVICE, bad_mongo);
    ck_assert_int_eq(h_exit_status(&auditlog, 10000), 2);
    /* mongo-c-driver takes this one, as the host "[nope" it could never
     * reach: refused by the service's reader and by the runtime's audit
     * sink (a catalog worker), each naming the host */
    const char *bad_host[] = {"WARREN_MONGO_URI=mongodb://[nope", env_spool, NULL};
    h_spawn_warren(&auditlog, WARREN_AUDITLOG_BIN, "auditlog-bad-host", 0, SERVICE, bad_host);
    ck_assert_int_eq(h_exit_status(&auditlog, 10000), 2);
    ck_assert(h_log_has(auditlog.log, "MONGO_URI is not a valid MongoDB URI: host '[nope'", 0));
    struct proc worker = {0};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-bad-host", 0, SERVICE "_bad", bad_host);
    ck_assert_int_eq(h_exit_status(&worker, 10000), 2);
    ck_assert(h_log_has(worker.log, "MONGO_URI is not a valid MongoDB URI: host '[nope'", 0));
    start_auditlog(env_mongo); /* as the fixture left it, for its teardown */
    wait_auditlog();
}
END_TEST

START_TEST(through_the_edge)
{
    const char *extra[] = {"WARREN_SERVICES=auditlog", NULL};
    int port = h_spawn_edge(&edge, "edge-auditlog", SERVICE, extra);
    ck_assert(h_wait_ready(port, 15000));
    char id[WR_REQUEST_ID_LEN + 1];
    ck_assert_int_eq(
        catalog_call(&(struct wr_request){.op = WR_OP_GET, .collection = "Albums", .key = "2"}, id),
        200);
    json_decref(records_of(id, 1)); /* shipped */
    char path[128];
    (void)snprintf(path, sizeof(path), "/svc/auditlog/records/%s", id);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, H_AUTH, &r, 10000), 0);
    ck_assert_msg(r.status == 200, "%d %s", r.status, r.body);
    char want[80];
    (void)snprintf(want, sizeof(want), "],\"request_id\":\"%s\"}", id);
    ck_assert_msg(strncmp(r.body, "{\"objects\":[{", 13) == 0 && strstr(r.body, want) != NULL, "%s",
                  r.body);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 401); /* an API key, as for writes */
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/svc/auditlog/records/xyz", H_AUTH, &r, 10000), 0);
    ck_assert_int_eq(r.status, 400);
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("auditlog");
    TCase *tc = tcase_create("auditlog");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, records_of_catalog_requests);
    tcase_add_test(tc, records_oldest_first);
    tcase_add_test(tc, unknown_and_malformed);
    tcase_add_test(tc, lookup_is_audited);
    tcase_add_test(tc, mongo_unreachable_is_503);
    tcase_add_test(tc, no_mongo_uri_is_503);
    tcase_add_test(tc, unusable_settings_exit_2);
    tcase_add_test(tc, through_the_edge);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
