/* Issue 14, items 1 and 2, end to end over a copy of Chinook (the shared
 * file is never written): bulk creates (a list in one transaction, each
 * object as GET renders it, Prefer: return=minimal, MAX_BULK, every
 * problem by index, nothing written on any), upserts (Prefer:
 * resolution=merge-duplicates), atomic batches (all or nothing, METHODS,
 * reads refused), each applied once by request id, one cache bump per
 * table and transaction, the same through the RPC client, and their audit
 * records. */
#include <check.h>
#include <dirent.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

static int port;
static struct proc edge, worker;
static char db[512], spool[512];

static redisContext *redis(void)
{
    redisContext *c = redisConnect("127.0.0.1", (int)strtol(h_env("WRT_REDIS_PORT"), NULL, 10));
    ck_assert(c != NULL && !c->err);
    return c;
}

static void setup(void)
{
    static char env_db[600], env_redis[128], env_spool[600];
    h_copy_db("bulk-chinook", db, sizeof(db));
    redisContext *r = redis();
    freeReplyObject(redisCommand(r, "FLUSHALL"));
    redisFree(r);
    (void)snprintf(spool, sizeof(spool), "%s/spool-bulk", h_env("WRT_STATE_DIR"));
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    (void)snprintf(env_redis, sizeof(env_redis), "WARREN_REDIS_URL=redis://127.0.0.1:%s/0",
                   h_env("WRT_REDIS_PORT"));
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s", spool);
    const char *extra[] = {env_db,
                           env_redis,
                           "WARREN_CACHE_MIN_COST_US=0",     /* every read cached */
                           "WARREN_LOCAL_CACHE_MAX_BYTES=0", /* in Redis, not memory */
                           env_spool,
                           "WARREN_COLLECTIONS=Albums, Artists, Genres, Tracks, Playlists, "
                           "PlaylistTrack, MediaTypes",
                           "WARREN_Albums__METHODS=GET, POST, PATCH, PUT, DELETE, PATCH_MANY",
                           "WARREN_Artists__METHODS=GET, POST, PATCH",
                           "WARREN_Genres__METHODS=GET, POST",
                           "WARREN_PlaylistTrack__METHODS=GET, POST, PATCH, DELETE",
                           "WARREN_MAX_BULK=50",
                           NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-bulk", 0, "t_bulk", extra);
    port = h_spawn_edge(&edge, "edge-bulk", "t_bulk", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* method path with headers and body; asserts status; the parsed body. */
static json_t *call(const char *method, const char *path, const char *headers, const char *body,
                    int status, struct http_resp *r)
{
    ck_assert_int_eq(h_http_body_headers(port, method, path, headers, body, r, 10000), 0);
    ck_assert_msg(r->status == status, "%s %s: %d, want %d: %s", method, path, r->status, status,
                  r->body);
    return r->len > 0 ? json_loads(r->body, 0, NULL) : NULL;
}

/* The code of an error answer, and that its message has want. */
static void assert_error(const char *method, const char *path, const char *headers,
                         const char *body, int status, const char *code, const char *want)
{
    struct http_resp r;
    json_t *j = call(method, path, headers, body, status, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
    ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")), want) != NULL, "%s: %s",
                  path, r.body);
    json_decref(j);
    h_http_free(&r);
}

static long long count_of(const char *collection)
{
    char path[128];
    (void)snprintf(path, sizeof(path), "/api/%s?results_per_page=1", collection);
    struct http_resp r;
    json_t *j = call("GET", path, "", NULL, 200, &r);
    long long n = json_integer_value(json_object_get(j, "num_results"));
    json_decref(j);
    h_http_free(&r);
    return n;
}

/* GET path's body, malloc'd, without its newline. */
static char *get_text(const char *path)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 10000), 0);
    ck_assert_msg(r.status == 200, "GET %s: %d", path, r.status);
    ck_assert(r.len > 0 && r.body[r.len - 1] == '\n');
    r.body[r.len - 1] = '\0';
    return r.body; /* h_http_free would free it: the caller does */
}

/* --- bulk creates --- */

/* A list of objects: 201 with each as GET renders it, in order, one
 * transaction; no Location (there are several). */
START_TEST(bulk_create_renders_each_object)
{
    long long before = count_of("Albums");
    struct http_resp r;
    json_t *j =
        call("POST", "/api/Albums", "",
             "[{\"title\":\"Bulk A\",\"artist_id\":1},{\"title\":\"Bulk B\",\"artist_id\":2},"
             "{\"title\":\"Bulk C\",\"artist_id\":3}]",
             201, &r);
    ck_assert_uint_eq(json_array_size(j), 3);
    char location[256];
    ck_assert(!h_header(&r, "Location", location, sizeof(location)));
    char want[16384] = "[";
    for (size_t i = 0; i < 3; i++) {
        char path[64];
        (void)snprintf(
            path, sizeof(path), "/api/Albums/%lld",
            (long long)json_integer_value(json_object_get(json_array_get(j, i), "album_id")));
        char *one = get_text(path);
        (void)snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? "," : "", one);
        free(one);
    }
    (void)snprintf(want + strlen(want), sizeof(want) - strlen(want), "]\n");
    ck_assert_str_eq(r.body, want);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 2), "title")), "Bulk C");
    json_decref(j);
    h_http_free(&r);
    ck_assert_int_eq(count_of("Albums"), before + 3);
}
END_TEST

START_TEST(bulk_minimal_and_refusals)
{
    long long before = count_of("Albums");
    struct http_resp r;
    json_decref(call(
        "POST", "/api/Albums", "Prefer: return=minimal\r\n",
        "[{\"title\":\"Min A\",\"artist_id\":1},{\"title\":\"Min B\",\"artist_id\":1}]", 201, &r));
    ck_assert_str_eq(r.body, "{\"num_created\":2}\n");
    h_http_free(&r);
    ck_assert_int_eq(count_of("Albums"), before + 2);
    before += 2;
    /* more than MAX_BULK (50): refused at the edge, nothing published */
    char big[4096] = "[";
    for (int i = 0; i < 51; i++)
        (void)snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s{\"title\":\"x\"}",
                       i ? "," : "");
    (void)snprintf(big + strlen(big), sizeof(big) - strlen(big), "]");
    assert_error("POST", "/api/Albums", "", big, 413, "payload_too_large", "MAX_BULK");
    /* every problem by index and member; nothing written */
    json_t *j = call("POST", "/api/Albums", "",
                     "[{\"title\":\"ok\",\"artist_id\":1},{\"title\":5,\"nope\":1},7]", 400, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_failed");
    json_t *ve = json_object_get(j, "validation_errors");
    ck_assert_uint_eq(json_object_size(ve), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ve, "1"), "title")),
                     "must be a string");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ve, "1"), "nope")),
                     "is not an attribute of this collection");
    ck_assert_str_eq(json_string_value(json_object_get(ve, "2")), "must be an object");
    json_decref(j);
    h_http_free(&r);
    /* a constraint on the second object: the first is not written either */
    assert_error("POST", "/api/Albums", "",
                 "[{\"title\":\"Lost\",\"artist_id\":1},{\"title\":\"Bad\",\"artist_id\":99999}]",
                 409, "conflict", "object 1:");
    ck_assert_int_eq(count_of("Albums"), before);
    /* Artists takes POST: a list; Tracks does not (405, nothing written) */
    assert_error("POST", "/api/Tracks", "", "[{\"name\":\"x\"}]", 405, "method_not_allowed",
                 "not allowed");
    json_decref(call("POST", "/api/Artists", "Prefer: return=minimal\r\n", "[]", 201, &r));
    ck_assert_str_eq(r.body, "{\"num_created\":0}\n");
    h_http_free(&r);
}
END_TEST

/* --- upserts --- */

START_TEST(upsert_by_primary_key)
{
    long long before = count_of("Albums");
    struct http_resp r;
    json_decref(call("POST", "/api/Albums",
                     "Prefer: resolution=merge-duplicates, return=minimal\r\n",
                     "[{\"album_id\":1,\"title\":\"Upserted\",\"artist_id\":1},"
                     "{\"album_id\":5000,\"title\":\"Brand New\",\"artist_id\":2}]",
                     201, &r));
    ck_assert_str_eq(r.body, "{\"num_created\":1,\"num_updated\":1}\n");
    h_http_free(&r);
    ck_assert_int_eq(count_of("Albums"), before + 1);
    char *one = get_text("/api/Albums/1?depth=0");
    ck_assert_str_eq(one, "{\"album_id\":1,\"artist_id\":1,\"title\":\"Upserted\"}");
    free(one);
    one = get_text("/api/Albums/5000?depth=0");
    ck_assert_str_eq(one, "{\"album_id\":5000,\"artist_id\":2,\"title\":\"Brand New\"}");
    free(one);
    /* one object: 200 when it existed, 201 when not; Location either way */
    json_t *j = call("POST", "/api/Albums", "Prefer: resolution=merge-duplicates\r\n",
                     "{\"album_id\":2,\"title\":\"Again\",\"artist_id\":1}", 200, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "title")), "Again");
    char location[256], want[256];
    ck_assert(h_header(&r, "Location", location, sizeof(location)));
    (void)snprintf(want, sizeof(want), "http://127.0.0.1:%d/api/Albums/2", port);
    ck_assert_str_eq(location, want);
    json_decref(j);
    h_http_free(&r);
    json_decref(call("POST", "/api/Albums", "Prefer: resolution=merge-duplicates\r\n",
                     "{\"album_id\":5001,\"title\":\"Fresh\",\"artist_id\":1}", 201, &r));
    h_http_free(&r);
    /* a composite key: the second time a conflict, unless upserted */
    json_decref(
        call("POST", "/api/PlaylistTrack", "", "[{\"playlist_id\":2,\"track_id\":1}]", 201, &r));
    h_http_free(&r);
    assert_error("POST", "/api/PlaylistTrack", "", "[{\"playlist_id\":2,\"track_id\":1}]", 409,
                 "conflict", "UNIQUE");
    json_decref(
        call("POST", "/api/PlaylistTrack", "Prefer: return=minimal,resolution=merge-duplicates\r\n",
             "[{\"playlist_id\":2,\"track_id\":1},{\"playlist_id\":2,\"track_id\":2}]", 201, &r));
    ck_assert_str_eq(r.body, "{\"num_created\":1,\"num_updated\":1}\n");
    h_http_free(&r);
    /* an upsert changes objects: Genres takes POST but not PATCH */
    assert_error("POST", "/api/Genres", "Prefer: resolution=merge-duplicates\r\n",
                 "[{\"genre_id\":1,\"name\":\"Rock!\"}]", 405, "method_not_allowed", "PATCH");
    one = get_text("/api/Genres/1?depth=0");
    ck_assert_str_eq(one, "{\"genre_id\":1,\"name\":\"Rock\"}");
    free(one);
}
END_TEST

/* The same bulk create delivered twice (a client retry, a redelivery):
 * applied once, answered alike, over HTTP and the RPC client. */
START_TEST(bulk_applied_once)
{
    long long before = count_of("Artists");
    static const char body[] = "[{\"name\":\"Once A\"},{\"name\":\"Once B\"}]";
    struct http_resp a, b;
    json_decref(call("POST", "/api/Artists", "X-Request-Id: 0123456789abcdef0123456789ab1401\r\n",
                     body, 201, &a));
    json_decref(call("POST", "/api/Artists", "X-Request-Id: 0123456789abcdef0123456789ab1401\r\n",
                     body, 201, &b));
    ck_assert_str_eq(a.body, b.body);
    h_http_free(&a);
    h_http_free(&b);
    ck_assert_int_eq(count_of("Artists"), before + 2);
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_bulk", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {.op = WR_OP_CREATE,
                             .collection = "Artists",
                             .body = "[{\"name\":\"Rpc A\"}]",
                             .prefer_return = "minimal"};
    wr_request_id_new(req.id);
    struct wr_reply x, y;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &x, &err), 0);
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &y, &err), 0);
    ck_assert_int_eq(x.status, 201);
    ck_assert_str_eq(x.body, "{\"num_created\":1}\n");
    ck_assert_str_eq(x.body, y.body);
    wr_reply_release(&x);
    wr_reply_release(&y);
    wr_rpc_free(rpc);
    ck_assert_int_eq(count_of("Artists"), before + 3);
}
END_TEST

/* --- batches --- */

START_TEST(batch_applies_all)
{
    struct http_resp r;
    json_t *made =
        call("POST", "/api/Albums", "", "{\"title\":\"To Delete\",\"artist_id\":1}", 201, &r);
    long long doomed = json_integer_value(json_object_get(made, "album_id"));
    json_decref(made);
    h_http_free(&r);
    long long before = count_of("Albums");
    char body[1024];
    (void)snprintf(
        body, sizeof(body),
        "[{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":{\"title\":\"In Batch\","
        "\"artist_id\":4}},{\"method\":\"PATCH\",\"path\":\"/api/Artists/4\",\"body\":"
        "{\"name\":\"Alanis (batched)\"}},{\"method\":\"DELETE\",\"path\":"
        "\"/api/Albums/%lld\"}]",
        doomed);
    json_t *j = call("POST", "/api/_batch", "", body, 200, &r);
    json_t *res = json_object_get(j, "results");
    ck_assert_uint_eq(json_array_size(res), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(res, 0), "status")), 201);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(res, 1), "status")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(res, 2), "status")), 204);
    ck_assert(json_is_null(json_object_get(json_array_get(res, 2), "body")));
    /* objects read after the commit: the new album's artist has the new name */
    json_t *album = json_object_get(json_array_get(res, 0), "body");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(album, "Artists"), "name")),
                     "Alanis (batched)");
    char path[64];
    (void)snprintf(path, sizeof(path), "/api/Albums/%lld",
                   (long long)json_integer_value(json_object_get(album, "album_id")));
    char *now = get_text(path);
    char *sent = json_dumps(album, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *a = json_loads(now, 0, NULL), *b = json_loads(sent, 0, NULL);
    ck_assert(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    free(sent);
    free(now);
    json_decref(j);
    h_http_free(&r);
    ck_assert_int_eq(count_of("Albums"), before); /* one made, one deleted */
}
END_TEST

START_TEST(batch_all_or_nothing)
{
    long long albums = count_of("Albums");
    /* the second fails: the first is not applied either */
    struct http_resp r;
    json_t *j = call("POST", "/api/_batch", "",
                     "[{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":{\"title\":\"Ghost\","
                     "\"artist_id\":1}},{\"method\":\"PATCH\",\"path\":\"/api/Albums/999999\","
                     "\"body\":{\"title\":\"x\"}}]",
                     404, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "not_found");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "operation")), 1);
    ck_assert_ptr_nonnull(
        strstr(json_string_value(json_object_get(j, "message")), "no operation was applied"));
    json_decref(j);
    h_http_free(&r);
    ck_assert_int_eq(count_of("Albums"), albums);
    /* a body the collection refuses names the operation and its member */
    j = call("POST", "/api/_batch", "",
             "[{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":{\"title\":\"Ghost\","
             "\"artist_id\":1}},{\"method\":\"POST\",\"path\":\"/api/Artists\",\"body\":"
             "{\"name\":7}}]",
             400, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_failed");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "operation")), 1);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(j, "validation_errors"), "name")),
        "must be a string");
    json_decref(j);
    h_http_free(&r);
    /* METHODS of each collection: Genres takes no PATCH (403: /api/_batch takes the POST) */
    assert_error("POST", "/api/_batch", "",
                 "[{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":{\"title\":\"Ghost\","
                 "\"artist_id\":1}},{\"method\":\"PATCH\",\"path\":\"/api/Genres/1\",\"body\":"
                 "{\"name\":\"x\"}}]",
                 403, "forbidden", "operation 1: the collection does not take this method");
    ck_assert_int_eq(count_of("Albums"), albums);
    /* what a batch does not take, each named by its index */
    assert_error("POST", "/api/_batch", "", "[{\"method\":\"GET\",\"path\":\"/api/Albums/1\"}]",
                 400, "bad_request", "operation 0: a batch writes");
    assert_error("POST", "/api/_batch", "",
                 "[{\"method\":\"DELETE\",\"path\":\"/api/Albums/1\"},{\"method\":\"DELETE\","
                 "\"path\":\"/api/Albums?q=%7B%7D\"}]",
                 400, "bad_request", "operation 1: path");
    assert_error("POST", "/api/_batch", "", "[{\"method\":\"DELETE\",\"path\":\"/api/Nope/1\"}]",
                 400, "bad_request", "no such collection");
    assert_error("POST", "/api/_batch", "",
                 "[{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":[{}]}]", 400,
                 "bad_request", "one JSON object");
    assert_error("POST", "/api/_batch", "", "[]", 400, "bad_request", "at least one");
    assert_error("POST", "/api/_batch", "", "{}", 400, "bad_request", "list of operations");
    char big[8192] = "[";
    for (int i = 0; i < 101; i++)
        (void)snprintf(big + strlen(big), sizeof(big) - strlen(big),
                       "%s{\"method\":\"DELETE\",\"path\":\"/api/Albums/1\"}", i ? "," : "");
    (void)snprintf(big + strlen(big), sizeof(big) - strlen(big), "]");
    assert_error("POST", "/api/_batch", "", big, 413, "payload_too_large", "100");
    assert_error("GET", "/api/_batch", "", NULL, 405, "method_not_allowed", "not allowed");
    ck_assert_int_eq(
        h_http(port, "POST", "/api/_batch", "Content-Type: application/json\r\n", &r, 10000), 0);
    ck_assert_int_eq(r.status, 401); /* writes need a key */
    h_http_free(&r);
    ck_assert_int_eq(count_of("Albums"), albums);
}
END_TEST

static long long gen_of(const char *table)
{
    redisContext *c = redis();
    redisReply *x = redisCommand(c, "GET warren:gen:%s", table);
    long long n = x != NULL && x->type == REDIS_REPLY_STRING ? strtoll(x->str, NULL, 10) : 0;
    freeReplyObject(x);
    redisFree(c);
    return n;
}

/* A batch bumps each table's generation once, after its commit: the next
 * read of a cached answer misses and sees the batch. */
START_TEST(batch_bumps_each_table_once)
{
    struct http_resp r;
    char cache[16];
    json_decref(call("GET", "/api/Artists/5", "", NULL, 200, &r));
    h_http_free(&r);
    json_decref(call("GET", "/api/Artists/5", "", NULL, 200, &r));
    ck_assert(h_header(&r, "X-Cache", cache, sizeof(cache)));
    ck_assert_str_eq(cache, "hit");
    h_http_free(&r);
    long long albums = gen_of("albums"), artists = gen_of("artists");
    json_decref(call("POST", "/api/_batch", "",
                     "[{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":{\"title\":\"G1\","
                     "\"artist_id\":5}},{\"method\":\"POST\",\"path\":\"/api/Albums\",\"body\":"
                     "{\"title\":\"G2\",\"artist_id\":5}},{\"method\":\"PATCH\",\"path\":"
                     "\"/api/Artists/5\",\"body\":{\"name\":\"Alice (batched)\"}}]",
                     200, &r));
    h_http_free(&r);
    ck_assert_int_eq(gen_of("albums"), albums + 1);
    ck_assert_int_eq(gen_of("artists"), artists + 1);
    json_t *j = call("GET", "/api/Artists/5", "", NULL, 200, &r);
    ck_assert(h_header(&r, "X-Cache", cache, sizeof(cache)));
    ck_assert_str_eq(cache, "miss");
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "Alice (batched)");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "albums")), 3);
    json_decref(j);
    h_http_free(&r);
    /* a bulk create bumps once too */
    albums = gen_of("albums");
    json_decref(call("POST", "/api/Albums", "Prefer: return=minimal\r\n",
                     "[{\"title\":\"G3\",\"artist_id\":5},{\"title\":\"G4\",\"artist_id\":5}]", 201,
                     &r));
    h_http_free(&r);
    ck_assert_int_eq(gen_of("albums"), albums + 1);
}
END_TEST

/* A batch through the RPC client: the same answer as HTTP's shape,
 * applied once when delivered twice. */
START_TEST(batch_by_rpc_applied_once)
{
    long long before = count_of("Artists");
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_bulk", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {.op = WR_OP_BATCH,
                             .body = "[{\"method\":\"POST\",\"path\":\"/api/Artists\",\"body\":"
                                     "{\"name\":\"By RPC\"}}]"};
    wr_request_id_new(req.id);
    struct wr_reply x, y;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &x, &err), 0);
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &y, &err), 0);
    ck_assert_int_eq(x.status, 200);
    ck_assert_str_eq(x.body, y.body);
    json_t *j = json_loads(x.body, 0, NULL);
    json_t *one = json_object_get(json_array_get(json_object_get(j, "results"), 0), "body");
    ck_assert_str_eq(json_string_value(json_object_get(one, "name")), "By RPC");
    json_decref(j);
    wr_reply_release(&x);
    wr_reply_release(&y);
    wr_rpc_free(rpc);
    ck_assert_int_eq(count_of("Artists"), before + 1);
}
END_TEST

/* The audit trail says what a batch did, operation by operation, and what
 * a bulk create made. */
START_TEST(audited)
{
    struct http_resp r;
    json_decref(
        call("POST", "/api/_batch", "X-Request-Id: 0123456789abcdef0123456789ab1402\r\n",
             "[{\"method\":\"POST\",\"path\":\"/api/Artists\",\"body\":{\"name\":\"Aud\"}},"
             "{\"method\":\"PATCH\",\"path\":\"/api/Albums/3\",\"body\":{\"title\":\"T\"}}]",
             200, &r));
    h_http_free(&r);
    char *line = h_audit_line(spool, "0123456789abcdef0123456789ab1402");
    json_t *doc = json_loads(line, 0, NULL);
    ck_assert_msg(doc != NULL, "%s", line);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "op")), "batch");
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "rows")), 2);
    json_t *detail = json_object_get(doc, "detail");
    ck_assert(json_is_true(json_object_get(detail, "applied")));
    json_t *ops = json_object_get(detail, "operations");
    ck_assert_uint_eq(json_array_size(ops), 2);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ops, 1), "method")), "PATCH");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ops, 1), "id")), "3");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ops, 1), "collection")),
                     "Albums");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(ops, 0), "status")), 201);
    json_decref(doc);
    free(line);
    json_decref(call("POST", "/api/Artists",
                     "X-Request-Id: 0123456789abcdef0123456789ab1403\r\nPrefer: return=minimal\r\n",
                     "[{\"name\":\"Aud 1\"},{\"name\":\"Aud 2\"}]", 201, &r));
    h_http_free(&r);
    line = h_audit_line(spool, "0123456789abcdef0123456789ab1403");
    doc = json_loads(line, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "op")), "create");
    ck_assert_int_eq(json_integer_value(json_object_get(doc, "rows")), 2);
    detail = json_object_get(doc, "detail");
    ck_assert_int_eq(json_integer_value(json_object_get(detail, "num_created")), 2);
    ck_assert_str_eq(json_string_value(json_object_get(detail, "return")), "minimal");
    json_decref(doc);
    free(line);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bulk");
    TCase *tc = tcase_create("bulk");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bulk_create_renders_each_object);
    tcase_add_test(tc, bulk_minimal_and_refusals);
    tcase_add_test(tc, upsert_by_primary_key);
    tcase_add_test(tc, bulk_applied_once);
    tcase_add_test(tc, batch_applies_all);
    tcase_add_test(tc, batch_all_or_nothing);
    tcase_add_test(tc, batch_bumps_each_table_once);
    tcase_add_test(tc, batch_by_rpc_applied_once);
    tcase_add_test(tc, audited);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
