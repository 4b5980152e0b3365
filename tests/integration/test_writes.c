/* Writes end to end over a copy of Chinook (the shared file is never
 * written): create, update, delete, their errors, a read after a write that
 * sees it through the cache (relations too), a write delivered twice
 * applied once, and a request id bound to its write (another write under
 * it refused), also for a ledger from before that binding. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <sqlite3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

static int port; /* the edge's, from h_spawn_edge */

static struct proc edge, worker;
static char db[512];

/* A fresh copy of the database must not meet answers cached from the last
 * run's copy (same requests, same keys). */
static void flush_cache(void)
{
    redisContext *c = redisConnect("127.0.0.1", (int)strtol(h_env("WRT_REDIS_PORT"), NULL, 10));
    ck_assert(c != NULL && !c->err);
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
}

#define OTHER_KEY "warren-tests-other-key-0123456789"
/* The request id a ledger from before fingerprints holds (legacy_row). */
#define LEGACY_ID "0000000000000000000000000000beef"

/* warren_applied as workers made it before fingerprints, with one row:
 * the worker adds the column and keeps answering that row as before. */
static void legacy_ledger(void)
{
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(db, &s), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(s,
                     "CREATE TABLE warren_applied (message_id TEXT PRIMARY KEY, status INTEGER "
                     "NOT NULL, object_key TEXT, location TEXT, at INTEGER NOT NULL);"
                     "INSERT INTO warren_applied VALUES ('" LEGACY_ID "', 201, '1', "
                     "'http://x/api/Albums/1', 0)",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(s);
}

static void setup(void)
{
    static char env_db[600], redis[128];
    h_copy_db("writes-chinook", db, sizeof(db));
    legacy_ledger();
    flush_cache();
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    (void)snprintf(redis, sizeof(redis), "WARREN_REDIS_URL=redis://127.0.0.1:%s/0",
                   h_env("WRT_REDIS_PORT"));
    const char *extra[] = {env_db,
                           redis,
                           "WARREN_CACHE_MIN_COST_US=0",     /* every read cached */
                           "WARREN_LOCAL_CACHE_MAX_BYTES=0", /* in Redis, not memory */
                           "WARREN_COLLECTIONS=Albums, Artists, Employees",
                           "WARREN_Albums__METHODS=GET, POST, PATCH, PUT, DELETE",
                           "WARREN_Employees__METHODS=GET, POST, PATCH",
                           "WARREN_Employees__EXCLUDE=last_name",
                           "WARREN_API_KEYS=tests:" H_API_KEY ", other:" OTHER_KEY,
                           NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-writes", 0, "t_writes", extra);
    port = h_spawn_edge(&edge, "edge-writes", "t_writes", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

static json_t *call(const char *method, const char *path, const char *body, int status,
                    struct http_resp *r)
{
    ck_assert_int_eq(h_http_body(port, method, path, body, r, 10000), 0);
    ck_assert_msg(r->status == status, "%s %s: %d, want %d: %s", method, path, r->status, status,
                  r->body);
    return r->len > 0 ? json_loads(r->body, 0, NULL) : NULL;
}

static long long albums(void)
{
    struct http_resp r;
    json_t *j = call("GET", "/api/Albums", NULL, 200, &r);
    long long n = json_integer_value(json_object_get(j, "num_results"));
    json_decref(j);
    h_http_free(&r);
    return n;
}

START_TEST(create_update_delete)
{
    long long before = albums();
    struct http_resp r;
    json_t *j = call("POST", "/api/Albums", "{\"title\":\"Warren Live\",\"artist_id\":1}", 201, &r);
    long long id = json_integer_value(json_object_get(j, "album_id"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "Artists"), "name")),
                     "AC/DC");
    char location[256], want[256];
    ck_assert(h_header(&r, "Location", location, sizeof(location)));
    (void)snprintf(want, sizeof(want), "http://127.0.0.1:%d/api/Albums/%lld", port, id);
    ck_assert_str_eq(location, want);
    json_decref(j);
    h_http_free(&r);
    ck_assert_int_eq(albums(), before + 1);

    char path[64];
    (void)snprintf(path, sizeof(path), "/api/Albums/%lld", id);
    j = call("PATCH", path, "{\"title\":\"Warren Live (remastered)\"}", 200, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "title")), "Warren Live (remastered)");
    json_decref(j);
    h_http_free(&r);
    j = call("GET", path, NULL, 200, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "title")), "Warren Live (remastered)");
    json_decref(j);
    h_http_free(&r);

    call("DELETE", path, NULL, 204, &r);
    ck_assert_uint_eq(r.len, 0);
    h_http_free(&r);
    json_decref(call("DELETE", path, NULL, 404, &r));
    h_http_free(&r);
    json_decref(call("GET", path, NULL, 404, &r));
    h_http_free(&r);
    ck_assert_int_eq(albums(), before);
}
END_TEST

START_TEST(read_after_write_through_the_cache)
{
    struct http_resp r;
    char cache[16];
    json_decref(call("GET", "/api/Artists/2", NULL, 200, &r));
    h_http_free(&r);
    json_t *j = call("GET", "/api/Artists/2", NULL, 200, &r);
    ck_assert(h_header(&r, "X-Cache", cache, sizeof(cache)));
    ck_assert_str_eq(cache, "hit");
    size_t n = json_array_size(json_object_get(j, "albums"));
    json_decref(j);
    h_http_free(&r);
    /* a new album of artist 2: the artist's cached answer embeds albums */
    json_decref(call("POST", "/api/Albums", "{\"title\":\"Fresh\",\"artist_id\":2}", 201, &r));
    h_http_free(&r);
    j = call("GET", "/api/Artists/2", NULL, 200, &r);
    ck_assert(h_header(&r, "X-Cache", cache, sizeof(cache)));
    ck_assert_str_eq(cache, "miss");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "albums")), n + 1);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(write_errors)
{
    struct http_resp r;
    json_t *j = call("POST", "/api/Albums", "{\"title\":\"x\",\"artist_id\":99999}", 409, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "conflict");
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
                     "FOREIGN KEY constraint failed");
    json_decref(j);
    h_http_free(&r);
    /* a 409 names columns by the API's names */
    j = call("POST", "/api/Albums", "{\"album_id\":1,\"title\":\"x\",\"artist_id\":1}", 409, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
                     "UNIQUE constraint failed: Albums.album_id");
    json_decref(j);
    h_http_free(&r);
    /* and never a hidden one (Employees.EXCLUDE = 'last_name', NOT NULL) */
    j = call("POST", "/api/Employees", "{\"first_name\":\"x\"}", 409, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
                     "a constraint refused the write");
    ck_assert_msg(strstr(r.body, "ast") == NULL, "%s", r.body);
    json_decref(j);
    h_http_free(&r);
    /* every problem of a body at once, by member */
    j = call("POST", "/api/Albums", "{\"nope\":1,\"title\":5,\"artist_id\":\"one\"}", 400, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_failed");
    json_t *ve = json_object_get(j, "validation_errors");
    ck_assert_uint_eq(json_object_size(ve), 3);
    ck_assert_str_eq(json_string_value(json_object_get(ve, "nope")),
                     "is not an attribute of this collection");
    ck_assert_str_eq(json_string_value(json_object_get(ve, "title")), "must be a string");
    ck_assert_str_eq(json_string_value(json_object_get(ve, "artist_id")), "must be an integer");
    json_decref(j);
    h_http_free(&r);
    json_decref(call("POST", "/api/Albums", "[1]", 400, &r));
    h_http_free(&r);
    json_decref(call("PATCH", "/api/Albums/1", "{\"album_id\":2}", 400, &r));
    h_http_free(&r);
    json_decref(call("PATCH", "/api/Albums/999999", "{\"title\":\"x\"}", 404, &r));
    h_http_free(&r);
    /* Artists takes no writes (METHODS defaults to GET) */
    j = call("POST", "/api/Artists", "{\"name\":\"x\"}", 405, &r);
    char allow[64];
    ck_assert(h_header(&r, "Allow", allow, sizeof(allow)));
    ck_assert_str_eq(allow, "GET");
    json_decref(j);
    h_http_free(&r);
    /* no JSON content type: 415, and nothing published */
    ck_assert_int_eq(
        h_http(port, "POST", "/api/Albums", H_AUTH "Content-Type: text/plain\r\n", &r, 10000), 0);
    ck_assert_int_eq(r.status, 415);
    h_http_free(&r);
    /* JSON's media type in any case, with parameters after spaces (RFC
     * 9110 8.3.1), gets past the edge to the worker's validation (400); no
     * other type that merely begins the same does (415) */
    static const char *const types[] = {"Application/JSON", "application/json ; charset=utf-8",
                                        "application/json-seq", "application/jsonx"};
    for (size_t i = 0; i < 4; i++) {
        char req[512];
        (void)snprintf(req, sizeof(req),
                       "POST /api/Albums HTTP/1.1\r\nHost: t\r\n" H_AUTH "Content-Type: %s\r\n"
                       "Content-Length: 10\r\nConnection: close\r\n\r\n{\"nope\":1}",
                       types[i]);
        ck_assert_int_eq(h_http_raw(port, req, &r, 10000), 0);
        ck_assert_msg(r.status == (i < 2 ? 400 : 415), "%s: %d %s", types[i], r.status, r.body);
        ck_assert_ptr_nonnull(strstr(r.body, i < 2 ? "validation_failed" : "unsupported_media"));
        h_http_free(&r);
    }
}
END_TEST

/* A date in a body follows the rule search filters follow
 * (model/values.c): an impossible one is a 400 naming the member; a valid
 * one is stored as SQLite stores dates, so a filter finds it, and read
 * back in ISO 8601. */
START_TEST(dates_checked_and_normalised)
{
    static const char *const bad[] = {"2009-02-30", "2009-13-01", "2009-02-28T25:00:00",
                                      "2009-02-29"};
    struct http_resp r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[128];
        (void)snprintf(body, sizeof(body), "{\"hire_date\":\"%s\"}", bad[i]);
        json_t *j = call("PATCH", "/api/Employees/1", body, 400, &r);
        ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "validation_failed");
        ck_assert_str_eq(json_string_value(
                             json_object_get(json_object_get(j, "validation_errors"), "hire_date")),
                         "is not a date (like 2009-01-01T00:00:00)");
        json_decref(j);
        h_http_free(&r);
    }
    json_t *j = call("PATCH", "/api/Employees/1", "{\"hire_date\":\"2008-02-29\"}", 200, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "hire_date")), "2008-02-29T00:00:00");
    json_decref(j);
    h_http_free(&r);
    /* q={"filters":[{"name":"hire_date","op":"==","val":"2008-02-29"}]} */
    j = call("GET",
             "/api/Employees?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22hire_date%22%2C%22op%22%3A"
             "%22%3D%3D%22%2C%22val%22%3A%222008-02-29%22%7D%5D%7D",
             NULL, 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 1);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

/* The same write message twice (a redelivery) is applied once. */
START_TEST(duplicate_write_applied_once)
{
    long long before = albums();
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_writes", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request req = {
        .op = WR_OP_CREATE, .collection = "Albums", .body = "{\"title\":\"Once\",\"artist_id\":3}"};
    wr_request_id_new(req.id);
    struct wr_reply a, b;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &a, &err), 0);
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &b, &err), 0);
    ck_assert_int_eq(a.status, 201);
    ck_assert_int_eq(b.status, 201);
    ck_assert_str_eq(a.body, b.body);
    wr_reply_release(&a);
    wr_reply_release(&b);
    wr_rpc_free(rpc);
    ck_assert_int_eq(albums(), before + 1);
}
END_TEST

/* A write under request id with headers auth, answering status. */
static json_t *write_as(const char *auth, const char *id, const char *method, const char *path,
                        const char *body, int status)
{
    char headers[300];
    (void)snprintf(headers, sizeof(headers), "Authorization: Bearer %s\r\nX-Request-Id: %s\r\n",
                   auth, id);
    struct http_resp r;
    ck_assert_int_eq(h_http_json(port, method, path, headers, body, &r, 10000), 0);
    ck_assert_msg(r.status == status, "%s %s (%s): %d, want %d: %s", method, path, body, r.status,
                  status, r.body);
    json_t *j = r.len > 0 ? json_loads(r.body, 0, NULL) : json_null();
    h_http_free(&r);
    return j;
}

static void assert_reused(json_t *j)
{
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "request_id_reused");
    json_decref(j);
}

/* A request id is bound to its write: the same write again (even with its
 * members in another order) gets the first answer and applies nothing;
 * another body, principal, method or path under that id is refused with
 * 409 request_id_reused, never answered with the first write's result. A
 * read's id is no write's: a write may use it. */
START_TEST(request_id_bound_to_its_write)
{
    char id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(id);
    long long before = albums();
    json_t *first = write_as(H_API_KEY, id, "POST", "/api/Albums",
                             "{\"title\":\"Bound\",\"artist_id\":4}", 201);
    json_t *again = write_as(H_API_KEY, id, "POST", "/api/Albums",
                             "{ \"artist_id\": 4, \"title\": \"Bound\" }", 201);
    ck_assert(json_equal(first, again));
    json_decref(again);
    assert_reused(write_as(H_API_KEY, id, "POST", "/api/Albums",
                           "{\"title\":\"Other\",\"artist_id\":4}", 409));
    assert_reused(write_as(OTHER_KEY, id, "POST", "/api/Albums",
                           "{\"title\":\"Bound\",\"artist_id\":4}", 409));
    char path[64];
    (void)snprintf(path, sizeof(path), "/api/Albums/%lld",
                   json_integer_value(json_object_get(first, "album_id")));
    assert_reused(write_as(H_API_KEY, id, "PATCH", path, "{\"title\":\"Bound\"}", 409));
    assert_reused(write_as(H_API_KEY, id, "DELETE", path, NULL, 409));
    json_decref(first);
    ck_assert_int_eq(albums(), before + 1);
    /* a read's id */
    char read_id[WR_REQUEST_ID_LEN + 1], hdr[100];
    wr_request_id_new(read_id);
    (void)snprintf(hdr, sizeof(hdr), "X-Request-Id: %s\r\n", read_id);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", hdr, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    json_decref(write_as(H_API_KEY, read_id, "POST", "/api/Albums",
                         "{\"title\":\"After a read\",\"artist_id\":4}", 201));
    ck_assert_int_eq(albums(), before + 2);
}
END_TEST

/* A ledger row from before fingerprints binds its id alone: the worker
 * added the column at start, and the id still gets its first answer
 * (a write redelivered across the upgrade is not refused). */
START_TEST(legacy_ledger_rows_answer_as_before)
{
    long long before = albums();
    json_t *j = write_as(H_API_KEY, LEGACY_ID, "POST", "/api/Albums",
                         "{\"title\":\"whatever\",\"artist_id\":4}", 201);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "album_id")), 1);
    json_decref(j);
    ck_assert_int_eq(albums(), before);
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(s, 10000);
    ck_assert_int_eq(sqlite3_exec(s, "SELECT fingerprint FROM warren_applied", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("writes");
    TCase *tc = tcase_create("writes");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, create_update_delete);
    tcase_add_test(tc, read_after_write_through_the_cache);
    tcase_add_test(tc, write_errors);
    tcase_add_test(tc, dates_checked_and_normalised);
    tcase_add_test(tc, duplicate_write_applied_once);
    tcase_add_test(tc, request_id_bound_to_its_write);
    tcase_add_test(tc, legacy_ledger_rows_answer_as_before);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
