/* The audit trail against the MongoDB test peer (tests/lib/mongo_peer.py,
 * a wire-protocol server the real mongo-c-driver talks to): every request
 * leaves exactly one record; with MongoDB stopped, answers are unaffected
 * and records wait in the spool; once it is back every record arrives once,
 * counted against the requests sent, also after the worker was killed. */
#include <check.h>
#include <mongoc/mongoc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/buf.h"
#include "warren/proto.h"
#include "warren/rpc.h"

#define N 40

static struct proc worker;
static struct proc edge, lonely; /* edge_answers_are_recorded's, stopped by teardown too */
static bool rabbit_stopped;      /* by a test: the teardown starts it again */
static char env_mongo[160], env_spool[512];
static char ids[3 * N][WR_REQUEST_ID_LEN + 1];
static size_t nids;
static size_t others; /* documents of requests not in ids */

static char env_db[600];

static void start_worker(void)
{
    /* writes to a copy of Chinook: a body's validation errors get recorded */
    const char *extra[] = {env_mongo,
                           env_spool,
                           env_db,
                           "WARREN_AUDIT_COLLECTION=audit_t",
                           "WARREN_Albums__METHODS=GET, POST",
                           NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-audit", 0, "t_audit", extra);
}

static mongoc_collection_t *coll(mongoc_client_t **client)
{
    char uri[128];
    (void)snprintf(uri, sizeof(uri), "mongodb://127.0.0.1:%s/?serverSelectionTimeoutMS=2000",
                   h_env("WRT_MONGO_PORT"));
    *client = mongoc_client_new(uri);
    ck_assert_ptr_nonnull(*client);
    return mongoc_client_get_collection(*client, "warren", "audit_t");
}

static void setup(void)
{
    mongoc_init();
    (void)snprintf(env_mongo, sizeof(env_mongo), "WARREN_MONGO_URI=mongodb://127.0.0.1:%s/",
                   h_env("WRT_MONGO_PORT"));
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s/spool-audit",
                   h_env("WRT_STATE_DIR"));
    h_empty_dir(env_spool + strlen("WARREN_AUDIT_SPOOL_DIR="));
    char db[512];
    h_copy_db("audit-chinook", db, sizeof(db));
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    mongoc_client_t *client;
    mongoc_collection_t *c = coll(&client);
    (void)mongoc_collection_drop(c, NULL);
    /* edge records other test programs left behind would land here too */
    (void)h_servers_ctl("purge_queue warren.audit");
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
    start_worker();
}

static void teardown(void)
{
    h_servers("start-mongo");
    if (rabbit_stopped) /* a test failed with the broker stopped */
        (void)h_servers("start-rabbit");
    rabbit_stopped = false;
    if (edge.pid > 0)
        h_stop(&edge, SIGTERM);
    if (lonely.pid > 0)
        h_stop(&lonely, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    mongoc_cleanup();
}

/* Sends n requests with known ids through the RPC client; all must be 200. */
static void send_requests(size_t n)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_audit", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
        wr_request_id_new(req.id);
        memcpy(ids[nids++], req.id, sizeof(req.id));
        struct wr_reply r;
        ck_assert_int_eq(wr_rpc_call(rpc, &req, &r, &err), 0);
        ck_assert_int_eq(r.status, 200);
        wr_reply_release(&r);
    }
    wr_rpc_free(rpc);
}

/* How many of our ids MongoDB holds, and how many documents in all. */
static size_t stored(size_t *total)
{
    mongoc_client_t *client;
    mongoc_collection_t *c = coll(&client);
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &filter, NULL, NULL);
    const bson_t *doc;
    size_t found = 0;
    *total = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        (*total)++;
        if (!bson_iter_init_find(&it, doc, "request_id") || !BSON_ITER_HOLDS_UTF8(&it))
            continue;
        const char *id = bson_iter_utf8(&it, NULL);
        for (size_t i = 0; i < nids; i++)
            if (strcmp(ids[i], id) == 0)
                found++;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
    return found;
}

/* Waits until MongoDB holds every id sent so far, exactly once. */
static void assert_all_stored(int timeout_ms)
{
    long long end = h_now_ms() + timeout_ms;
    size_t found = 0, total = 0;
    while (h_now_ms() < end) {
        found = stored(&total);
        if (found == nids)
            break;
        usleep(200000);
    }
    ck_assert_msg(found == nids, "%zu of %zu audit records stored (see %s)", found, nids,
                  worker.log);
    ck_assert_msg(total == nids + others, "%zu documents for %zu requests: duplicates", total,
                  nids + others);
}

START_TEST(every_request_recorded_once)
{
    send_requests(N);
    assert_all_stored(15000);
    mongoc_client_t *client;
    mongoc_collection_t *c = coll(&client);
    bson_t *filter = BCON_NEW("request_id", BCON_UTF8(ids[0]));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    ck_assert(mongoc_cursor_next(cur, &doc));
    bson_iter_t it;
    /* the record's own id, never the request's */
    ck_assert(bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it));
    ck_assert_uint_eq(strlen(bson_iter_utf8(&it, NULL)), WR_REQUEST_ID_LEN);
    ck_assert_str_ne(bson_iter_utf8(&it, NULL), ids[0]);
    ck_assert(bson_iter_init_find(&it, doc, "status") && bson_iter_as_int64(&it) == 200);
    ck_assert(bson_iter_init_find(&it, doc, "collection") &&
              strcmp(bson_iter_utf8(&it, NULL), "Albums") == 0);
    ck_assert(bson_iter_init_find(&it, doc, "op") && strcmp(bson_iter_utf8(&it, NULL), "get") == 0);
    ck_assert(bson_iter_init_find(&it, doc, "rows") && bson_iter_as_int64(&it) == 1);
    ck_assert(bson_iter_init_find(&it, doc, "time") && BSON_ITER_HOLDS_DATE_TIME(&it));
    ck_assert(bson_iter_init_find(&it, doc, "worker") && strchr(bson_iter_utf8(&it, NULL), ':'));
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
}
END_TEST

/* A client's X-Request-Id names no record: the same id sent twice is
 * executed twice and leaves two records, each with an _id of its own
 * (once the id named the record, and a second request with it was
 * silently dropped as a duplicate). */
START_TEST(one_client_id_two_records)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_audit", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = "2"};
    wr_request_id_new(req.id);
    for (int i = 0; i < 2; i++) {
        struct wr_reply r;
        ck_assert_int_eq(wr_rpc_call(rpc, &req, &r, &err), 0);
        ck_assert_int_eq(r.status, 200);
        wr_reply_release(&r);
    }
    wr_rpc_free(rpc);
    char got[2][WR_REQUEST_ID_LEN + 1] = {"", ""};
    int n = 0;
    for (long long end = h_now_ms() + 15000; n < 2 && h_now_ms() < end;) {
        mongoc_client_t *client;
        mongoc_collection_t *c = coll(&client);
        bson_t *filter = BCON_NEW("request_id", BCON_UTF8(req.id));
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
        const bson_t *doc;
        n = 0;
        while (mongoc_cursor_next(cur, &doc) && n < 2) {
            bson_iter_t it;
            ck_assert(bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it));
            (void)snprintf(got[n++], sizeof(got[0]), "%s", bson_iter_utf8(&it, NULL));
        }
        mongoc_cursor_destroy(cur);
        bson_destroy(filter);
        mongoc_collection_destroy(c);
        mongoc_client_destroy(client);
        if (n < 2)
            usleep(200000);
    }
    ck_assert_msg(n == 2, "%d records of a request id sent twice (see %s)", n, worker.log);
    ck_assert_str_ne(got[0], got[1]);
    ck_assert_str_ne(got[0], req.id);
    ck_assert_str_ne(got[1], req.id);
    others += 2;
}
END_TEST

/* The one document MongoDB holds of request id (NULL when none arrived
 * within timeout_ms); free it with bson_destroy. */
static bson_t *record_of(const char *id, int timeout_ms)
{
    bson_t *found = NULL;
    for (long long end = h_now_ms() + timeout_ms; found == NULL && h_now_ms() < end;) {
        mongoc_client_t *client;
        mongoc_collection_t *c = coll(&client);
        bson_t *filter = BCON_NEW("request_id", BCON_UTF8(id));
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
        const bson_t *doc;
        if (mongoc_cursor_next(cur, &doc))
            found = bson_copy(doc);
        mongoc_cursor_destroy(cur);
        bson_destroy(filter);
        mongoc_collection_destroy(c);
        mongoc_client_destroy(client);
        if (found == NULL)
            usleep(200000);
    }
    return found;
}

/* A body whose members are named `$date`, `$oid`, `a.b` and a control
 * character gets a 400 naming them; its record keeps those names as data
 * (the error body a string) and reaches MongoDB. Once, such a record was a
 * line libbson could not read, skipped by the shipper forever. */
START_TEST(hostile_member_names_reach_mongodb)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_audit", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {
        .op = WR_OP_CREATE,
        .collection = "Albums",
        .body = "{\"$date\":1,\"$oid\":\"x\",\"a.b\":2,\"\\u0001c\":3,\"title\":5}"};
    wr_request_id_new(req.id);
    struct wr_reply r;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &r, &err), 0);
    ck_assert_int_eq(r.status, 400);
    ck_assert_ptr_nonnull(strstr(r.body, "\"$date\":"));
    wr_reply_release(&r);
    wr_rpc_free(rpc);
    others++;
    bson_t *doc = record_of(req.id, 15000);
    ck_assert_msg(doc != NULL, "no record of the hostile request (see %s)", worker.log);
    bson_iter_t it;
    ck_assert(bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "error.code", &it));
    ck_assert_str_eq(bson_iter_utf8(&it, NULL), "validation_failed");
    ck_assert(bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "error.body", &it));
    const char *body = bson_iter_utf8(&it, NULL);
    ck_assert_msg(strstr(body, "\"$date\":") && strstr(body, "\"a.b\":") &&
                      strstr(body, "\"$oid\":"),
                  "%s", body);
    bson_destroy(doc);
}
END_TEST

/* A line MongoDB can never take (one no warren process writes: another
 * program's, or a disk's garbage) is kept in the spool's .dead file,
 * counted and logged, and the lines around it ship. */
START_TEST(unshippable_line_is_kept)
{
    char path[600], dead[620], rids[2][WR_REQUEST_ID_LEN + 1];
    (void)snprintf(path, sizeof(path), "%s/spool-audit/audit-08.spool", h_env("WRT_STATE_DIR"));
    (void)snprintf(dead, sizeof(dead), "%s.dead", path);
    static const char *const bad[] = {
        "{\"_id\":\"bad-date\",\"time\":{\"$date\":\"never\"}}",
        "{\"_id\":\"bad-key\",\"error\":{\"a.b\":1}}",
        "not json at all",
    };
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 2; i++) {
        wr_request_id_new(rids[i]);
        fprintf(f, "{\"_id\":\"ok-%d-%s\",\"request_id\":\"%s\",\"status\":298}\n", i, rids[i],
                rids[i]);
        if (i == 0)
            for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
                fprintf(f, "%s\n", bad[k]);
    }
    ck_assert_int_eq(fclose(f), 0);
    others += 2;
    for (int i = 0; i < 2; i++) {
        bson_t *doc = record_of(rids[i], 25000);
        ck_assert_msg(doc != NULL, "line %d around the bad ones not shipped (see %s)", i,
                      worker.log);
        bson_destroy(doc);
    }
    /* logged once they are kept, which may be a moment after the others
     * reached MongoDB */
    ck_assert_msg(h_log_has(worker.log, "3 records MongoDB cannot take kept in", 10000),
                  "the kept records not logged (see %s)", worker.log);
    char *kept = h_read_file(dead, NULL);
    ck_assert_msg(kept != NULL, "no %s (see %s)", dead, worker.log);
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        ck_assert_msg(strstr(kept, bad[k]) != NULL, "%s not kept: %s", bad[k], kept);
    free(kept);
}
END_TEST

START_TEST(mongo_outage_spools_then_delivers)
{
    ck_assert_int_eq(h_servers("stop-mongo"), 0);
    send_requests(N); /* answers are unaffected */
    ck_assert_int_eq(h_servers("start-mongo"), 0);
    assert_all_stored(30000);
}
END_TEST

START_TEST(killed_worker_replays_its_spool)
{
    ck_assert_int_eq(h_servers("stop-mongo"), 0);
    send_requests(N);
    usleep(300000); /* past the group commit: the records are on disk */
    ck_assert_int_eq(h_stop(&worker, SIGKILL), 128 + SIGKILL);
    ck_assert_int_eq(h_servers("start-mongo"), 0);
    start_worker();
    assert_all_stored(30000);
}
END_TEST

/* Documents MongoDB holds whose string member key is val. */
static size_t count_where(const char *key, const char *val)
{
    mongoc_client_t *client;
    mongoc_collection_t *c = coll(&client);
    bson_t *filter = BCON_NEW(key, BCON_UTF8(val));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    size_t n = 0;
    while (mongoc_cursor_next(cur, &doc))
        n++;
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
    return n;
}

/* The status MongoDB holds for request id's one record, or 0 when it holds
 * none (or several); -1 when that record is not the edge's. */
static long long stored_status(const char *id)
{
    mongoc_client_t *client;
    mongoc_collection_t *c = coll(&client);
    bson_t *filter = BCON_NEW("request_id", BCON_UTF8(id));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, filter, NULL, NULL);
    const bson_t *doc;
    long long status = 0;
    int n = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        n++;
        if (bson_iter_init_find(&it, doc, "status"))
            status = bson_iter_as_int64(&it);
        if (!bson_iter_init_find(&it, doc, "worker") ||
            strncmp(bson_iter_utf8(&it, NULL), "edge:", 5) != 0)
            status = -1;
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(filter);
    mongoc_collection_destroy(c);
    mongoc_client_destroy(client);
    return n == 1 ? status : 0;
}

/* Waits until MongoDB holds the edge's record of request rid with status. */
static void assert_edge_record(const char *rid, int want, int timeout_ms)
{
    long long status = 0;
    for (long long end = h_now_ms() + timeout_ms; status == 0 && h_now_ms() < end;) {
        status = stored_status(rid);
        if (status == 0)
            usleep(200000);
    }
    ck_assert_msg(status == want, "request %s: audit status %lld, want %d (see %s)", rid, status,
                  want, worker.log);
}

/* Sends method path to port with a new request id (into rid), which the
 * edge must answer with status. */
static void send_with_id(int port, const char *method, const char *path,
                         char rid[WR_REQUEST_ID_LEN + 1], int status)
{
    wr_request_id_new(rid);
    char hdr[200];
    (void)snprintf(hdr, sizeof(hdr), "X-Request-Id: %s\r\n", rid);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, method, path, hdr, &r, 10000), 0);
    ck_assert_msg(r.status == status, "%s %s: %d, want %d", method, path, r.status, status);
    h_http_free(&r);
}

/* Requests the edge answers itself (never reaching a worker, or timed out)
 * are audited too: the edge publishes its record to warren.audit and a
 * worker spools it; its request_id is the request's, its _id its own. */
START_TEST(edge_answers_are_recorded)
{
    const char *extra[] = {"WARREN_REQUEST_TIMEOUT_MS=300", NULL};
    int port = h_spawn_edge(&edge, "edge-audit", "t_audit", extra);
    int void_port = h_spawn_edge(&lonely, "edge-audit-void", "t_audit_void", extra);
    ck_assert(h_wait_ready(port, 15000));
    ck_assert(h_wait_ready(void_port, 15000));
    struct {
        int port;
        const char *method, *path;
        int status;
    } cases[] = {
        {port, "GET", "/api/Albums?page=x", 400},
        {port, "POST", "/api/Albums/1", 405},
        {port, "DELETE", "/api/Albums/1", 401}, /* no API key */
        {port, "GET", "/nowhere", 404},
        {void_port, "GET", "/api/Albums/1", 504}, /* nobody consumes t_audit_void */
    };
    enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
    /* Probes, OPTIONS (a preflight) and OPTIONS * are answered and never
     * recorded: sent first, they have no record once the cases have. */
    static const char *const quiet[][2] = {
        {"GET", "/healthz"}, {"GET", "/readyz"}, {"OPTIONS", "/api/Albums"}, {"OPTIONS", "*"}};
    enum { NQUIET = sizeof(quiet) / sizeof(quiet[0]) };
    char quiet_rids[NQUIET][WR_REQUEST_ID_LEN + 1];
    for (size_t i = 0; i < NQUIET; i++)
        send_with_id(port, quiet[i][0], quiet[i][1], quiet_rids[i],
                     quiet[i][0][0] == 'G' ? 200 : 204);
    char rids[NCASES][WR_REQUEST_ID_LEN + 1];
    for (size_t i = 0; i < NCASES; i++)
        send_with_id(cases[i].port, cases[i].method, cases[i].path, rids[i], cases[i].status);
    for (size_t i = 0; i < NCASES; i++)
        assert_edge_record(rids[i], cases[i].status, 15000);
    for (size_t i = 0; i < NQUIET; i++)
        ck_assert_msg(count_where("request_id", quiet_rids[i]) == 0, "%s %s was recorded",
                      quiet[i][0], quiet[i][1]);
    /* While the broker is down the edge holds its records, and publishes
     * them once it is back. */
    ck_assert_int_eq(h_servers("stop-rabbit"), 0);
    char held[WR_REQUEST_ID_LEN + 1];
    send_with_id(port, "GET", "/api/Albums?page=x", held, 400);
    ck_assert_int_eq(h_servers("start-rabbit"), 0);
    assert_edge_record(held, 400, 30000);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&lonely, SIGTERM), 0);
    edge.pid = lonely.pid = 0;
}
END_TEST

/* EDGE_AUDIT_BACKLOG bounds the records an edge holds while the broker is
 * away: past it the oldest go, counted, and the rest are published once
 * it is back. */
START_TEST(edge_backlog_keeps_the_newest)
{
    enum { SENT = 30, KEPT = 20 };
    const char *extra[] = {"WARREN_EDGE_AUDIT_BACKLOG=20", "WARREN_EDGE_THREADS=1", NULL};
    int port = h_spawn_edge(&edge, "edge-audit-backlog", "t_audit", extra);
    ck_assert(h_wait_ready(port, 15000));
    ck_assert_int_eq(h_servers("stop-rabbit"), 0);
    rabbit_stopped = true;
    char rids[SENT][WR_REQUEST_ID_LEN + 1];
    h_refusals(port, rids, SENT);
    ck_assert_int_eq(h_port_metric(port, "warren_edge_audit_dropped_records_total"), SENT - KEPT);
    ck_assert_int_eq(h_servers("start-rabbit"), 0);
    rabbit_stopped = false;
    for (int i = SENT - KEPT; i < SENT; i++)
        assert_edge_record(rids[i], 400, 30000);
    for (int i = 0; i < SENT - KEPT; i++)
        ck_assert_msg(count_where("request_id", rids[i]) == 0, "dropped record %d was published",
                      i);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    edge.pid = 0;
}
END_TEST

/* A spool left by a worker that stopped for good (no live worker claims
 * its number) is found and shipped by a running worker. */
START_TEST(stranded_spool_is_shipped)
{
    char path[600], rids[5][WR_REQUEST_ID_LEN + 1];
    (void)snprintf(path, sizeof(path), "%s/spool-audit/audit-07.spool", h_env("WRT_STATE_DIR"));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 5; i++) {
        wr_request_id_new(rids[i]);
        fprintf(f,
                "{\"_id\":\"%s/edge\",\"request_id\":\"%s\",\"status\":299,"
                "\"worker\":\"edge:gone:1\"}\n",
                rids[i], rids[i]);
    }
    ck_assert_int_eq(fclose(f), 0);
    for (int i = 0; i < 5; i++) {
        long long status = 0;
        for (long long end = h_now_ms() + 25000; status == 0 && h_now_ms() < end;) {
            status = stored_status(rids[i]);
            if (status == 0)
                usleep(300000);
        }
        ck_assert_msg(status == 299, "stranded record %d: status %lld (see %s)", i, status,
                      worker.log);
    }
}
END_TEST

/* Waits until count_where(key, val) reaches want (or the time is up); the count. */
static size_t await_count(const char *key, const char *val, size_t want, int timeout_ms)
{
    size_t n = 0;
    for (long long end = h_now_ms() + timeout_ms; h_now_ms() < end; usleep(200000))
        if ((n = count_where(key, val)) >= want)
            break;
    return n;
}

/* Publishes body to warren.audit as an audit batch, as a batching edge does. */
static void publish_audit_batch(const char *body, size_t len)
{
    struct wr_amqp_opts o = {.url = h_amqp_url(), .connect_timeout_ms = 2000};
    struct wr_err err = {0};
    wr_amqp *a = wr_amqp_new(&o);
    ck_assert_int_eq(wr_amqp_connect(a, &err), 0);
    struct wr_msg m = {
        .type = WR_MSG_TYPE_AUDIT_BATCH, .expiration_ms = -1, .body = body, .len = len};
    ck_assert_msg(wr_amqp_publish(a, WR_AUDIT_QUEUE, &m, true, &err) == 0, "%s", err.msg);
    wr_amqp_free(a);
}

/* Appends n audit documents of worker tag, one a line, to b. */
static void batch_docs(struct wr_buf *b, size_t n, const char *tag)
{
    for (size_t i = 0; i < n; i++) {
        char rid[WR_REQUEST_ID_LEN + 1];
        wr_request_id_new(rid);
        (void)wr_buf_printf(b, "%s{\"_id\":\"%s/edge\",\"request_id\":\"%s\",\"worker\":\"%s\"}",
                            b->len > 0 ? "\n" : "", rid, rid, tag);
    }
}

/* A worker spools each line of an audit batch as a document of its own; a
 * line that is no document is one failed record of op "audit", as a lone
 * bad document is; past WR_AUDIT_BATCH_DOCS_MAX lines the rest is one such
 * failure, not one a line. */
START_TEST(audit_batches_spool_each_document)
{
    struct wr_buf b;
    wr_buf_init(&b, 1 << 20);
    batch_docs(&b, 2, "edge:batch:1");
    (void)wr_buf_puts(&b, "\nnot a document");
    batch_docs(&b, 1, "edge:batch:1");
    ck_assert_int_eq(wr_buf_error(&b), 0);
    publish_audit_batch(b.data, b.len);
    ck_assert_uint_eq(await_count("worker", "edge:batch:1", 3, 15000), 3);
    ck_assert_uint_eq(await_count("op", WR_MSG_TYPE_AUDIT, 1, 15000), 1);
    wr_buf_reset(&b);
    batch_docs(&b, WR_AUDIT_BATCH_DOCS_MAX + 44, "edge:batch:2");
    publish_audit_batch(b.data, b.len);
    ck_assert_uint_eq(await_count("op", WR_MSG_TYPE_AUDIT, 2, 15000), 2);
    ck_assert_uint_eq(await_count("worker", "edge:batch:2", WR_AUDIT_BATCH_DOCS_MAX - 1, 15000),
                      WR_AUDIT_BATCH_DOCS_MAX - 1);
    usleep(500000); /* none more arrives */
    ck_assert_uint_eq(count_where("worker", "edge:batch:2"), WR_AUDIT_BATCH_DOCS_MAX - 1);
    ck_assert_uint_eq(count_where("op", WR_MSG_TYPE_AUDIT), 2);
    others += 3 + WR_AUDIT_BATCH_DOCS_MAX + 1;
    wr_buf_release(&b);
}
END_TEST

/* The edge's audit counters: records published, and the messages they took. */
static void audit_counters(int port, long long *records, long long *messages)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/metrics", NULL, &r, 5000), 0);
    *records = h_metric(r.body, "warren_edge_audit_records_total");
    *messages = h_metric(r.body, "warren_edge_audit_messages_total");
    h_http_free(&r);
}

enum { BURST = 30 };

/* Sends BURST requests the edge on port refuses itself, checks that each
 * reached MongoDB once with its 400 and that the edge published them all,
 * and gives the messages they took. */
static long long refusals_in_messages(int port)
{
    char rids[BURST][WR_REQUEST_ID_LEN + 1];
    h_refusals(port, rids, BURST);
    for (size_t i = 0; i < BURST; i++)
        assert_edge_record(rids[i], 400, 15000);
    long long records, messages;
    audit_counters(port, &records, &messages);
    ck_assert_int_eq(records, BURST);
    return messages;
}

/* With EDGE_BATCH, the records of requests the edge answers itself travel
 * together: 30 refused in a burst reach MongoDB, each once, in fewer
 * messages than records; without it, a message each. */
START_TEST(edge_records_travel_together)
{
    const char *batched[] = {"WARREN_EDGE_BATCH=True", NULL};
    const char *single[] = {"WARREN_EDGE_BATCH=False", NULL};
    int port = h_spawn_edge(&edge, "edge-audit-batch", "t_audit", batched);
    int single_port = h_spawn_edge(&lonely, "edge-audit-single", "t_audit", single);
    ck_assert(h_wait_ready(port, 15000));
    ck_assert(h_wait_ready(single_port, 15000));
    long long messages = refusals_in_messages(port);
    ck_assert_msg(messages >= 1 && messages < BURST, "%lld messages for %d records", messages,
                  BURST);
    ck_assert_int_eq(refusals_in_messages(single_port), BURST);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&lonely, SIGTERM), 0);
    edge.pid = lonely.pid = 0;
}
END_TEST

/* A message of records stays within EDGE_BATCH_BYTES: at its least (4096),
 * 30 refused in a burst (each record several hundred bytes: two ids, the
 * error body, the edge's name) cannot travel in fewer than three messages,
 * and each still reaches MongoDB once. */
START_TEST(edge_record_batches_keep_to_batch_bytes)
{
    const char *tight[] = {"WARREN_EDGE_BATCH=True", "WARREN_EDGE_BATCH_BYTES=4096", NULL};
    int port = h_spawn_edge(&edge, "edge-audit-tight", "t_audit", tight);
    ck_assert(h_wait_ready(port, 15000));
    long long messages = refusals_in_messages(port);
    ck_assert_msg(messages >= 3 && messages < BURST, "%lld messages for %d records", messages,
                  BURST);
    ck_assert_int_eq(h_stop(&edge, SIGTERM), 0);
    edge.pid = 0;
}
END_TEST

int main(void)
{
    Suite *s = suite_create("audit");
    TCase *tc = tcase_create("audit");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, every_request_recorded_once);
    tcase_add_test(tc, one_client_id_two_records);
    tcase_add_test(tc, hostile_member_names_reach_mongodb);
    tcase_add_test(tc, unshippable_line_is_kept);
    tcase_add_test(tc, mongo_outage_spools_then_delivers);
    tcase_add_test(tc, killed_worker_replays_its_spool);
    tcase_add_test(tc, edge_answers_are_recorded);
    tcase_add_test(tc, edge_backlog_keeps_the_newest);
    tcase_add_test(tc, stranded_spool_is_shipped);
    tcase_add_test(tc, audit_batches_spool_each_document);
    tcase_add_test(tc, edge_records_travel_together);
    tcase_add_test(tc, edge_record_batches_keep_to_batch_bytes);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
