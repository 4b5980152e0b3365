/* The read side of issue 3 end to end (an edge and a worker over RabbitMQ,
 * Redis and a copy of Chinook): column control (INCLUDE, dotted EXCLUDE),
 * depth, count, Link first/prev, keyset cursors, GET /api and
 * /api/openapi.json, each through HTTP and, where it matters, through the
 * RPC client API, which must get the same bytes. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "warren/rpc.h"
#include "run_suite.h"

static int port; /* the edge's, from h_spawn_edge */
#define SERVICE "t_columns"

static struct proc edge, worker;
static char db[512];

/* The config of this suite's processes, then more (up to 3 entries). */
static const char *const *config(const char *more0, const char *more1, const char *more2)
{
    static char env_db[600], redis[128];
    static const char *extra[16];
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    (void)snprintf(redis, sizeof(redis), "WARREN_REDIS_URL=redis://127.0.0.1:%s/0",
                   h_env("WRT_REDIS_PORT"));
    const char *base[] = {env_db,
                          redis,
                          "WARREN_CACHE_MIN_COST_US=0",     /* every read cached */
                          "WARREN_LOCAL_CACHE_MAX_BYTES=0", /* in Redis, not memory */
                          "WARREN_Albums__EXCLUDE=tracks.Composer",
                          "WARREN_Artists__INCLUDE=name, albums, albums.title",
                          "WARREN_Tracks__DEPTH=0",
                          "WARREN_InvoiceItems__COUNT=none",
                          "WARREN_Genres__METHODS=GET, POST, PATCH, PUT, DELETE, PATCH_MANY",
                          more0,
                          more1,
                          more2,
                          NULL};
    memcpy(extra, base, sizeof(base));
    return extra;
}

static void setup(void)
{
    h_copy_db("columns-chinook", db, sizeof(db));
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-columns", 0, SERVICE,
                   config(NULL, NULL, NULL));
    port = h_spawn_edge(&edge, "edge-columns", SERVICE, config(NULL, NULL, NULL));
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* --- helpers --- */

static void get(const char *path, int want, struct http_resp *r)
{
    ck_assert_int_eq(h_http(port, "GET", path, NULL, r, 10000), 0);
    ck_assert_msg(r->status == want, "GET %s: %d, want %d: %s", path, r->status, want, r->body);
}

static json_t *get_json(const char *path)
{
    struct http_resp r;
    get(path, 200, &r);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_msg(j != NULL, "GET %s: not JSON: %s", path, r.body);
    h_http_free(&r);
    return j;
}

/* GET path answers 200 with exactly want (plus the newline). */
static void assert_body(const char *path, const char *want)
{
    struct http_resp r;
    get(path, 200, &r);
    ck_assert_uint_eq(r.len, strlen(want) + 1);
    ck_assert_msg(memcmp(r.body, want, strlen(want)) == 0 && r.body[r.len - 1] == '\n',
                  "GET %s: %s", path, r.body);
    h_http_free(&r);
}

/* GET path answers 400 bad_parameter whose message names what. */
static void assert_400(const char *path, const char *what)
{
    struct http_resp r;
    get(path, 400, &r);
    ck_assert_msg(strstr(r.body, "\"bad_parameter\"") != NULL && strstr(r.body, what) != NULL,
                  "GET %s: %s does not name %s", path, r.body, what);
    h_http_free(&r);
}

static wr_rpc *client(void)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = SERVICE, .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "wr_rpc_new: %s", err.msg);
    return rpc;
}

/* The RPC client's answer to req is the HTTP answer to path, byte for byte. */
static void assert_same_by_rpc(wr_rpc *rpc, const struct wr_request *req, const char *path)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 10000), 0);
    struct wr_reply reply;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, r.status);
    ck_assert_uint_eq(reply.len, r.len);
    ck_assert_msg(memcmp(reply.body, r.body, r.len) == 0, "%s: rpc %s, http %s", path, reply.body,
                  r.body);
    wr_reply_release(&reply);
    h_http_free(&r);
}

/* --- column control --- */

START_TEST(dotted_exclude_and_include)
{
    json_t *album = get_json("/api/Albums/1");
    json_t *track = json_array_get(json_object_get(album, "tracks"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(track, "name")),
                     "For Those About To Rock (We Salute You)");
    ck_assert_ptr_null(json_object_get(track, "composer")); /* Albums.EXCLUDE = 'tracks.Composer' */
    ck_assert_ptr_nonnull(json_object_get(track, "milliseconds"));
    /* Artists.INCLUDE hides artist_id in Artists, inside Albums too */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(album, "Artists"), "name")),
                     "AC/DC");
    ck_assert_ptr_null(json_object_get(json_object_get(album, "Artists"), "artist_id"));
    json_decref(album);
    json_t *t = get_json("/api/Tracks/1");
    ck_assert_ptr_nonnull(json_object_get(t, "composer")); /* only inside Albums */
    json_decref(t);
    /* INCLUDE: the listed fields only; albums keeps only title */
    assert_body("/api/Artists/1", "{\"albums\":[{\"title\":\"For Those About To Rock We Salute "
                                  "You\"},{\"title\":\"Let There Be Rock\"}],\"name\":\"AC/DC\"}");
    /* hidden names are unknown to searches, orderings and functions */
    assert_400("/api/Albums?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22tracks__composer%22%2C%22op%"
               "22%3A%22is_null%22%7D%5D%7D",
               "tracks__composer");
    assert_400("/api/Albums?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22tracks%22%2C%22op%22%3A%"
               "22any%22%2C%22val%22%3A%7B%22name%22%3A%22composer%22%2C%22op%22%3A%22is_null%22%"
               "7D%7D%5D%7D",
               "composer");
    assert_400("/api/Albums?q=%7B%22order_by%22%3A%5B%7B%22field%22%3A%22Artists__artist_id%22%7D%"
               "5D%7D",
               "Artists__artist_id");
    assert_400("/api/Artists?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22artist_id%22%2C%22op%22%"
               "3A%22%3D%3D%22%2C%22val%22%3A1%7D%5D%7D",
               "artist_id");
    assert_400("/api/eval/Artists?q=%7B%22functions%22%3A%5B%7B%22name%22%3A%22count%22%2C%"
               "22field%22%3A%22artist_id%22%7D%5D%7D",
               "artist_id");
    /* what stays visible stays searchable */
    json_t *j = get_json("/api/Albums?q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22Artists__name%"
                         "22%2C%22op%22%3A%22%3D%3D%22%2C%22val%22%3A%22AC%2FDC%22%7D%5D%7D");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 2);
    json_decref(j);
}
END_TEST

/* --- depth --- */

START_TEST(depth_per_request_and_collection)
{
    assert_body(
        "/api/Albums/1?depth=0",
        "{\"album_id\":1,\"artist_id\":1,\"title\":\"For Those About To Rock We Salute You\"}");
    /* Tracks.DEPTH = 0, and depth=1 does not lift it */
    json_t *t = get_json("/api/Tracks/1?depth=1");
    ck_assert_ptr_null(json_object_get(t, "Albums"));
    ck_assert_ptr_null(json_object_get(t, "playlist_track"));
    ck_assert_str_eq(json_string_value(json_object_get(t, "name")),
                     "For Those About To Rock (We Salute You)");
    json_decref(t);
    /* related objects at depth 0 */
    json_t *page = get_json("/api/Artists/1/albums?depth=0");
    json_t *first = json_array_get(json_object_get(page, "objects"), 0);
    ck_assert_ptr_null(json_object_get(first, "Artists"));
    ck_assert_ptr_null(json_object_get(first, "tracks"));
    ck_assert_int_eq(json_integer_value(json_object_get(first, "album_id")), 1);
    json_decref(page);
    /* links keep depth */
    struct http_resp r;
    get("/api/Albums?depth=0", 200, &r);
    char link[2048], next[1024];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(h_link_rel(link, "next", next, sizeof(next)));
    ck_assert_str_eq(next, "/api/Albums?depth=0&page=2&results_per_page=10");
    h_http_free(&r);
    assert_400("/api/Albums?depth=3", "depth");
    assert_400("/api/Albums/1?depth=x", "depth");

    wr_rpc *rpc = client();
    struct wr_request get0 = {
        .op = WR_OP_GET, .collection = "Albums", .key = "1", .depth_given = true, .depth = 0};
    assert_same_by_rpc(rpc, &get0, "/api/Albums/1?depth=0");
    struct wr_request rel0 = {.op = WR_OP_RELATED,
                              .collection = "Artists",
                              .key = "1",
                              .relation = "albums",
                              .depth_given = true,
                              .depth = 0};
    assert_same_by_rpc(rpc, &rel0, "/api/Artists/1/albums?depth=0");
    wr_rpc_free(rpc);
}
END_TEST

/* --- count --- */

START_TEST(count_none)
{
    struct http_resp r;
    get("/api/InvoiceItems", 200, &r); /* InvoiceItems.COUNT = 'none' */
    ck_assert_ptr_nonnull(strstr(r.body, "{\"num_results\":null,\"objects\":[{"));
    ck_assert_ptr_nonnull(strstr(r.body, "],\"page\":1,\"total_pages\":null}\n"));
    char link[2048], path[1024];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(h_link_rel(link, "next", path, sizeof(path)));
    ck_assert_str_eq(path, "/api/InvoiceItems?page=2&results_per_page=10");
    ck_assert(!h_link_rel(link, "last", path, sizeof(path)));
    h_http_free(&r);
    /* 2,240 items: page 224 is the last, full; no next */
    get("/api/InvoiceItems?page=224", 200, &r);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 10);
    json_decref(j);
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(!h_link_rel(link, "next", path, sizeof(path)));
    ck_assert(h_link_rel(link, "prev", path, sizeof(path)));
    ck_assert_str_eq(path, "/api/InvoiceItems?page=223&results_per_page=10");
    h_http_free(&r);
    /* per request, kept in links, also on searches; exact does not lift none */
    get("/api/Albums?count=none&page=2", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"num_results\":null"));
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(h_link_rel(link, "next", path, sizeof(path)));
    ck_assert_str_eq(path, "/api/Albums?count=none&page=3&results_per_page=10");
    h_http_free(&r);
    get("/api/Albums?count=none&q=%7B%22filters%22%3A%5B%5D%7D&page=35", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"num_results\":null"));
    j = json_loads(r.body, 0, NULL);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 7);
    json_decref(j);
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(!h_link_rel(link, "next", path, sizeof(path)));
    h_http_free(&r);
    get("/api/InvoiceItems?count=exact", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"num_results\":null"));
    h_http_free(&r);
    assert_400("/api/Albums?count=some", "count");
}
END_TEST

/* --- Link --- */

START_TEST(link_first_prev_next_last)
{
    struct http_resp r;
    get("/api/Albums?page=3", 200, &r);
    char link[2048], want[2048];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    (void)snprintf(want, sizeof(want),
                   "<http://127.0.0.1:%d/api/Albums?page=1&results_per_page=10>; rel=\"first\", "
                   "<http://127.0.0.1:%d/api/Albums?page=2&results_per_page=10>; rel=\"prev\", "
                   "<http://127.0.0.1:%d/api/Albums?page=4&results_per_page=10>; rel=\"next\", "
                   "<http://127.0.0.1:%d/api/Albums?page=35&results_per_page=10>; rel=\"last\"",
                   port, port, port, port);
    ck_assert_str_eq(link, want);
    h_http_free(&r);
    /* page 1 keeps Flask-Restless's two links */
    get("/api/Albums", 200, &r);
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert_ptr_null(strstr(link, "rel=\"first\""));
    ck_assert_ptr_null(strstr(link, "rel=\"prev\""));
    h_http_free(&r);
    /* every link keeps q */
    get("/api/Albums?q=%7B%22filters%22%3A%5B%5D%7D&page=2", 200, &r);
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    static const char *const rels[] = {"first", "prev", "next", "last"};
    for (size_t i = 0; i < 4; i++) {
        char path[1024];
        ck_assert(h_link_rel(link, rels[i], path, sizeof(path)));
        static const char prefix[] = "/api/Albums?q=%7B%22filters%22%3A%5B%5D%7D&page=";
        ck_assert_msg(strncmp(path, prefix, strlen(prefix)) == 0, "%s: %s", rels[i], path);
    }
    h_http_free(&r);
}
END_TEST

/* --- keyset cursors --- */

/* Walks path (which asks after=) by Link next; fills ids with album_id
 * values in order and returns how many. */
static size_t walk(const char *path, long long *ids, size_t cap, const char *q_prefix)
{
    char next[4096];
    (void)snprintf(next, sizeof(next), "%s", path);
    size_t n = 0;
    for (int page = 1;; page++) {
        struct http_resp r;
        get(next, 200, &r);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "page")), page);
        json_t *o;
        size_t i;
        json_array_foreach(json_object_get(j, "objects"), i, o) {
            ck_assert_uint_lt(n, cap);
            ids[n++] = json_integer_value(json_object_get(o, "album_id"));
        }
        json_decref(j);
        char link[8192];
        bool more = h_header(&r, "Link", link, sizeof(link)) &&
                    h_link_rel(link, "next", next, sizeof(next));
        h_http_free(&r);
        if (!more)
            return n;
        ck_assert_msg(strstr(next, "after=") != NULL, "next is no cursor: %s", next);
        if (q_prefix)
            ck_assert_msg(strncmp(next, q_prefix, strlen(q_prefix)) == 0, "%s", next);
        ck_assert_int_lt(page, 1000);
    }
}

START_TEST(cursor_walk_matches_pages)
{
    static long long by_cursor[400], by_page[400];
    size_t n = walk("/api/Albums?after=&results_per_page=10", by_cursor, 400, NULL);
    ck_assert_uint_eq(n, 347);
    size_t m = 0;
    for (int page = 1; page <= 35; page++) {
        char path[128];
        (void)snprintf(path, sizeof(path), "/api/Albums?page=%d&depth=0", page);
        json_t *j = get_json(path);
        json_t *o;
        size_t i;
        json_array_foreach(json_object_get(j, "objects"), i, o)
            by_page[m++] = json_integer_value(json_object_get(o, "album_id"));
        json_decref(j);
    }
    ck_assert_uint_eq(m, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(by_cursor[i], by_page[i]);
    /* with a filter: the walk keeps q and finds what the count says */
    const char *q = "%7B%22filters%22%3A%5B%7B%22name%22%3A%22title%22%2C%22op%22%3A%22like%22%"
                    "2C%22val%22%3A%22%25the%25%22%7D%5D%7D";
    char path[512], prefix[512];
    (void)snprintf(path, sizeof(path), "/api/Albums?q=%s&after=&results_per_page=7", q);
    /* links leave ',' unescaped */
    (void)snprintf(prefix, sizeof(prefix), "/api/Albums?q=%s&after=",
                   "%7B%22filters%22%3A%5B%7B%22name%22%3A%22title%22,%22op%22%3A%22like%22,%22val%"
                   "22%3A%22%25the%25%22%7D%5D%7D");
    n = walk(path, by_cursor, 400, prefix);
    (void)snprintf(path, sizeof(path), "/api/Albums?q=%s", q);
    json_t *j = get_json(path);
    ck_assert_int_eq((long long)n, json_integer_value(json_object_get(j, "num_results")));
    ck_assert_uint_gt(n, 7);
    json_decref(j);
    for (size_t i = 1; i < n; i++)
        ck_assert_int_lt(by_cursor[i - 1], by_cursor[i]);
}
END_TEST

/* A q ordering by the collection's own columns, descending, over a column
 * with NULLs (tracks.composer), walked by cursor: the same rows in the same
 * order as its offset pages. */
START_TEST(cursor_walk_with_order_by)
{
    static long long by_cursor[4000], by_page[4000];
    /* {"order_by":[{"field":"composer","direction":"desc"},{"field":"name"}]} */
    const char *q = "%7B%22order_by%22%3A%5B%7B%22field%22%3A%22composer%22%2C%22direction%22%3A%"
                    "22desc%22%7D%2C%7B%22field%22%3A%22name%22%7D%5D%7D";
    char path[512];
    (void)snprintf(path, sizeof(path), "/api/Tracks?q=%s&after=&results_per_page=100", q);
    size_t n = 0;
    char next[4096];
    (void)snprintf(next, sizeof(next), "%s", path);
    for (int page = 1;; page++) {
        struct http_resp r;
        get(next, 200, &r);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "page")), page);
        json_t *o;
        size_t i;
        json_array_foreach(json_object_get(j, "objects"), i, o) {
            ck_assert_uint_lt(n, 4000);
            by_cursor[n++] = json_integer_value(json_object_get(o, "track_id"));
        }
        json_decref(j);
        char link[8192];
        bool more = h_header(&r, "Link", link, sizeof(link)) &&
                    h_link_rel(link, "next", next, sizeof(next));
        h_http_free(&r);
        if (!more)
            break;
        ck_assert_ptr_nonnull(strstr(next, "after="));
        ck_assert_int_lt(page, 100);
    }
    ck_assert_uint_eq(n, 3503);
    size_t m = 0;
    for (int page = 1; page <= 36; page++) {
        (void)snprintf(path, sizeof(path), "/api/Tracks?q=%s&page=%d&results_per_page=100", q,
                       page);
        json_t *j = get_json(path);
        json_t *o;
        size_t i;
        json_array_foreach(json_object_get(j, "objects"), i, o) {
            ck_assert_uint_lt(m, 4000);
            by_page[m++] = json_integer_value(json_object_get(o, "track_id"));
        }
        json_decref(j);
    }
    ck_assert_uint_eq(m, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(by_cursor[i] == by_page[i], "row %zu: %lld by cursor, %lld by page", i,
                      by_cursor[i], by_page[i]);
}
END_TEST

START_TEST(cursor_refused_when_not_ours)
{
    struct http_resp r;
    get("/api/Albums?after=", 200, &r);
    char link[4096], next[2048], bad[2048];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(h_link_rel(link, "next", next, sizeof(next)));
    h_http_free(&r);
    get(next, 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"page\":2,"));
    h_http_free(&r);
    /* one character changed */
    (void)snprintf(bad, sizeof(bad), "%s", next);
    char *c = strstr(bad, "after=") + 8;
    *c = *c == 'A' ? 'B' : 'A';
    assert_400(bad, "after");
    /* another page size, another collection, a search with an order */
    (void)snprintf(bad, sizeof(bad), "%s", next);
    char *rpp = strstr(bad, "results_per_page=10");
    ck_assert_ptr_nonnull(rpp);
    memcpy(rpp, "results_per_page=11", 19);
    assert_400(bad, "after");
    const char *cursor = strstr(next, "after=") + 6;
    char other[2048];
    (void)snprintf(other, sizeof(other), "/api/Genres?%.*s", (int)strcspn(cursor, "&") + 6,
                   cursor - 6);
    assert_400(other, "after");
    assert_400("/api/Albums?after=&q=%7B%22order_by%22%3A%5B%7B%22field%22%3A%22Artists__name%22%"
               "7D%5D%7D",
               "after");
    assert_400("/api/Albums?after=&q=%7B%22limit%22%3A5%7D", "after");
    assert_400("/api/Albums?after=a%2Bb", "after");
    assert_400("/api/Albums/1?after=abc", "after");
}
END_TEST

/* The first page's Link next cursor (the path to follow) into next. */
static void first_cursor(const char *path, char *next, size_t cap)
{
    struct http_resp r;
    get(path, 200, &r);
    char link[4096];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(h_link_rel(link, "next", next, cap));
    h_http_free(&r);
}

static void start_worker(const char *tag, const char *secret)
{
    static char env_secret[200];
    (void)snprintf(env_secret, sizeof(env_secret), "WARREN_CURSOR_SECRET=%s", secret);
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, tag, 0, SERVICE, config(env_secret, NULL, NULL));
}

/* Cursors are an HMAC under CURSOR_SECRET: a worker started later with
 * the same secret reads a cursor another one made; one with another
 * secret refuses it (400). Without a secret a worker refuses to start
 * (exit 2), unless DEBUG, which signs with the public development one. */
START_TEST(cursor_secret_shared_and_required)
{
    char next[2048];
    first_cursor("/api/Albums?after=&results_per_page=13", next, sizeof(next));
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    start_worker("catalog-columns-2", H_CURSOR_SECRET);
    struct http_resp r;
    get(next, 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"album_id\":14,"));
    h_http_free(&r);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    start_worker("catalog-columns-3", "another-deployment-secret-0123456789");
    assert_400(next, "after");
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    struct proc p;
    static const char *const refused[] = {"", "too-short-0123456789"};
    for (size_t i = 0; i < 2; i++) {
        char env_secret[100];
        (void)snprintf(env_secret, sizeof(env_secret), "WARREN_CURSOR_SECRET=%s", refused[i]);
        const char *extra[] = {env_secret, NULL};
        h_spawn_warren(&p, WARREN_CATALOG_BIN, "catalog-columns-nosecret", 0, SERVICE, extra);
        ck_assert_int_eq(h_stop(&p, 0), 2);
        char *log = h_read_file(p.log, NULL);
        ck_assert_msg(log != NULL && strstr(log, "CURSOR_SECRET") != NULL, "%s", log);
        free(log);
    }
    /* DEBUG: the development secret, so cursors still work (and say so) */
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-columns-debug", 0, SERVICE,
                   config("WARREN_CURSOR_SECRET=", "WARREN_DEBUG=True", NULL));
    first_cursor("/api/Albums?after=&results_per_page=13", next, sizeof(next));
    get(next, 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"album_id\":14,"));
    h_http_free(&r);
    char *log = h_read_file(worker.log, NULL);
    ck_assert_msg(log != NULL && strstr(log, "development secret") != NULL, "%s", log);
    free(log);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    start_worker("catalog-columns", H_CURSOR_SECRET); /* for the tests after this one */
}
END_TEST

/* The RPC client pages by cursor too, with the same bytes as HTTP. */
START_TEST(cursor_by_rpc)
{
    wr_rpc *rpc = client();
    struct wr_request req = {.op = WR_OP_LIST, .collection = "Albums", .after = ""};
    struct wr_reply reply;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    char next[2048];
    ck_assert(h_link_rel(reply.link, "next", next, sizeof(next)));
    wr_reply_release(&reply);
    char cursor[2048];
    const char *a = strstr(next, "after=") + 6;
    (void)snprintf(cursor, sizeof(cursor), "%.*s", (int)strcspn(a, "&"), a);
    req.after = cursor;
    assert_same_by_rpc(rpc, &req, next);
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_ptr_nonnull(strstr(reply.body, "\"album_id\":11,"));
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
}
END_TEST

/* --- the cache keeps the new parameters apart --- */

START_TEST(cache_keys_apart)
{
    static const char *const paths[] = {"/api/Albums/2", "/api/Albums/2?depth=0", "/api/Albums",
                                        "/api/Albums?count=none", "/api/Albums?after="};
    enum { NPATHS = sizeof(paths) / sizeof(paths[0]) };
    char *body[NPATHS], link[NPATHS][4096];
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < NPATHS; i++) {
            struct http_resp r;
            get(paths[i], 200, &r);
            char cache[32] = "", l[4096] = "";
            ck_assert(h_header(&r, "X-Cache", cache, sizeof(cache)));
            (void)h_header(&r, "Link", l, sizeof(l));
            if (round == 0) {
                body[i] = strdup(r.body);
                memcpy(link[i], l, sizeof(l));
            } else {
                ck_assert_msg(strcmp(cache, "hit") == 0, "%s: X-Cache %s", paths[i], cache);
                ck_assert_str_eq(r.body, body[i]);
                ck_assert_str_eq(l, link[i]);
            }
            h_http_free(&r);
        }
    ck_assert_str_ne(body[0], body[1]);            /* depth */
    ck_assert_str_ne(body[2], body[3]);            /* count */
    ck_assert_ptr_null(strstr(link[2], "after=")); /* the cursor walk's links are its own */
    ck_assert_ptr_nonnull(strstr(link[4], "after="));
    for (size_t i = 0; i < NPATHS; i++)
        free(body[i]);
}
END_TEST

/* --- /api and /api/openapi.json --- */

/* A real id of collection name: its first object's key, per x-primary-key;
 * "1" when the key is hidden. */
static void real_id(const char *name, json_t *pk, char *out, size_t cap)
{
    char path[256];
    (void)snprintf(path, sizeof(path), "/api/%s?results_per_page=1&depth=0", name);
    json_t *page = get_json(path);
    json_t *o = json_array_get(json_object_get(page, "objects"), 0);
    ck_assert_ptr_nonnull(o);
    size_t len = 0;
    out[0] = '\0';
    json_t *attr;
    size_t i;
    json_array_foreach(pk, i, attr) {
        json_t *v = json_object_get(o, json_string_value(attr));
        char part[128];
        if (v == NULL)
            (void)snprintf(part, sizeof(part), "1");
        else if (json_is_integer(v))
            (void)snprintf(part, sizeof(part), "%lld", (long long)json_integer_value(v));
        else
            (void)snprintf(part, sizeof(part), "%s", json_string_value(v));
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i > 0 ? "," : "", part);
        ck_assert_uint_lt(len, cap);
    }
    json_decref(page);
}

/* The request for method on a documented path, with {id} filled in. */
static int call(const char *method, const char *path, const char *body, struct http_resp *r)
{
    int rc = body ? h_http_body(port, method, path, body, r, 10000)
                  : h_http(port, method, path, H_AUTH, r, 10000);
    ck_assert_int_eq(rc, 0);
    return r->status;
}

/* The related object of name's object id by relation rel ("/<relation>")
 * for /api/<name>/{id}/<relation>/{related_id}: its key (by the get's
 * schema's x-primary-key) into out; false when the relation is empty or
 * the key hidden (out is then "1", a guess). */
static bool related_id(const char *name, const char *id, const char *rel, json_t *item,
                       json_t *schemas, char *out, size_t cap)
{
    static const char *const at[] = {"get",    "responses", "200", "content", "application/json",
                                     "schema", "$ref"};
    json_t *v = item;
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++)
        v = json_object_get(v, at[k]);
    const char *ref = json_string_value(v);
    ck_assert_ptr_nonnull(ref);
    json_t *pk = json_object_get(json_object_get(schemas, strrchr(ref, '/') + 1), "x-primary-key");
    char path[600];
    (void)snprintf(path, sizeof(path), "/api/%s/%s%s?depth=0", name, id, rel);
    struct http_resp r;
    get(path, 200, &r);
    json_t *j = json_loads(r.body, JSON_DECODE_ANY, NULL); /* a to-one may be null */
    h_http_free(&r);
    ck_assert_ptr_nonnull(j);
    json_t *o = json_object_get(j, "objects") ? json_array_get(json_object_get(j, "objects"), 0)
                                              : (json_is_object(j) ? j : NULL);
    (void)snprintf(out, cap, "1");
    size_t len = 0;
    json_t *attr;
    size_t i;
    json_array_foreach(pk, i, attr) {
        v = o ? json_object_get(o, json_string_value(attr)) : NULL;
        if (v == NULL)
            break;
        if (json_is_integer(v))
            len += (size_t)snprintf(out + len, cap - len, "%s%lld", i > 0 ? "," : "",
                                    (long long)json_integer_value(v));
        else
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i > 0 ? "," : "",
                                    json_string_value(v));
        ck_assert_uint_lt(len, cap);
    }
    bool found = o != NULL && len > 0;
    json_decref(j);
    return found;
}

/* HEAD where GET is documented (its status, no body) and OPTIONS on every
 * path (204, Allow naming each documented method). */
static void check_head_options(const char *path, json_t *item, bool get_ok)
{
    struct http_resp r;
    bool get = json_object_get(item, "get") != NULL;
    ck_assert_int_eq(json_object_get(item, "head") != NULL, get);
    if (get) {
        ck_assert_int_eq(h_http(port, "HEAD", path, H_AUTH, &r, 10000), 0);
        ck_assert_msg((r.status == 200 || (!get_ok && r.status == 404)) && r.len == 0,
                      "HEAD %s: %d", path, r.status);
        h_http_free(&r);
    }
    ck_assert_ptr_nonnull(json_object_get(item, "options"));
    ck_assert_int_eq(h_http(port, "OPTIONS", path, H_AUTH, &r, 10000), 0);
    char allow[256] = "";
    ck_assert_msg(r.status == 204 && h_header(&r, "Allow", allow, sizeof(allow)), "OPTIONS %s: %d",
                  path, r.status);
    h_http_free(&r);
    static const char *const methods[][2] = {
        {"get", "GET"}, {"head", "HEAD"},     {"post", "POST"},      {"patch", "PATCH"},
        {"put", "PUT"}, {"delete", "DELETE"}, {"options", "OPTIONS"}};
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
        if (json_object_get(item, methods[m][0]) != NULL)
            ck_assert_msg(strstr(allow, methods[m][1]) != NULL, "OPTIONS %s: Allow %s lacks %s",
                          path, allow, methods[m][1]);
}

/* Every documented path and method is routed to a worker that serves it;
 * every other of GET, POST, PATCH, PUT, DELETE answers 405. */
static void check_path(const char *templ, json_t *item, json_t *schemas)
{
    char name[256] = "", path[2048], id[512] = "";
    if (strcmp(templ, "/api") == 0 || strcmp(templ, "/api/openapi.json") == 0) {
        struct http_resp r;
        ck_assert_int_eq(call("GET", templ, NULL, &r), 200);
        h_http_free(&r);
        return;
    }
    if (strcmp(templ, "/api/_batch") == 0) { /* POST only, its operations judged one by one */
        static const char *const others[][2] = {
            {"GET", "get"}, {"PATCH", "patch"}, {"PUT", "put"}, {"DELETE", "delete"}};
        ck_assert_ptr_nonnull(json_object_get(item, "post"));
        struct http_resp r;
        int status = call("POST", templ,
                          "[{\"method\":\"POST\",\"path\":\"/api/Genres\","
                          "\"body\":{\"no_such_attribute\":1}}]",
                          &r);
        ck_assert_msg(status == 400 && strstr(r.body, "no_such_attribute") != NULL &&
                          strstr(r.body, "\"operation\":0") != NULL,
                      "POST /api/_batch: %d %s", status, r.body);
        h_http_free(&r);
        for (size_t m = 0; m < 4; m++) {
            ck_assert_ptr_null(json_object_get(item, others[m][1]));
            ck_assert_int_eq(call(others[m][0], templ, m == 1 || m == 2 ? "[]" : NULL, &r), 405);
            h_http_free(&r);
        }
        return;
    }
    const char *p = templ + 5; /* after "/api/" */
    bool eval = strncmp(p, "eval/", 5) == 0;
    if (eval)
        p += 5;
    (void)snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, "/"), p);
    const char *rest = p + strlen(name);
    char tail[512] = "";    /* the path after the id, {related_id} filled in */
    bool related_ok = true; /* one related object: false when the relation is empty */
    if (strncmp(rest, "/{id}", 5) == 0) {
        real_id(name, json_object_get(json_object_get(schemas, name), "x-primary-key"), id,
                sizeof(id));
        (void)snprintf(tail, sizeof(tail), "%s", rest + 5);
        char *rel_id = strstr(tail, "/{related_id}");
        if (rel_id != NULL) {
            *rel_id = '\0';
            related_ok = related_id(name, id, tail, item, schemas, rel_id + 1,
                                    sizeof(tail) - (size_t)(rel_id + 1 - tail));
            rel_id[0] = '/';
        }
        (void)snprintf(path, sizeof(path), "/api/%s/%s%s", name, id, tail);
    } else if (eval) {
        /* count of the first visible column */
        char flat[300];
        (void)snprintf(flat, sizeof(flat), "%s_flat", name);
        void *it = json_object_iter(json_object_get(json_object_get(schemas, flat), "properties"));
        ck_assert_ptr_nonnull(it);
        (void)snprintf(path, sizeof(path),
                       "%s?q=%%7B%%22functions%%22%%3A%%5B%%7B%%22name%%22%%3A%%22count%%22%%2C%%"
                       "22field%%22%%3A%%22%s%%22%%7D%%5D%%7D",
                       templ, json_object_iter_key(it));
    } else {
        (void)snprintf(path, sizeof(path), "%s", templ);
    }
    static const char *const methods[] = {"get", "post", "patch", "put", "delete"};
    for (size_t m = 0; m < 5; m++) {
        char upper[8];
        for (size_t k = 0; k <= strlen(methods[m]); k++)
            upper[k] = (char)(methods[m][k] >= 'a' ? methods[m][k] - 32 : methods[m][k]);
        bool documented = json_object_get(item, methods[m]) != NULL;
        /* this test never deletes many: DELETE_MANY is off in its config */
        ck_assert_msg(!(documented && m == 4 && id[0] == '\0'), "DELETE on %s documented", path);
        bool body = m == 1 || m == 2 || m == 3;
        char target[2048];
        /* a delete names an absent row: nothing is removed */
        if (m == 4 && id[0] != '\0')
            (void)snprintf(target, sizeof(target), "/api/%s/999999%s", name, tail);
        else
            (void)snprintf(target, sizeof(target), "%s", path);
        struct http_resp r;
        int status = call(upper, target, body ? "{\"no_such_attribute\":1}" : NULL, &r);
        if (!documented) {
            ck_assert_msg(status == 405, "%s %s (not documented): %d %s", upper, target, status,
                          r.body);
        } else if (m == 0) {
            /* no related object found (or its key hidden): a guess, 200 or 404 */
            ck_assert_msg(status == 200 || (!related_ok && status == 404), "GET %s: %d %s", path,
                          status, r.body);
        } else {
            /* a write the worker took and judged: the body's unknown
             * attribute is a 400 naming it, the absent row a 404 */
            bool judged = (status == 400 && strstr(r.body, "no_such_attribute") != NULL) ||
                          (m == 4 && status == 404 && strstr(r.body, "no such object") != NULL);
            ck_assert_msg(judged, "%s %s: %d %s", upper, target, status, r.body);
        }
        h_http_free(&r);
    }
    check_head_options(path, item, related_ok);
}

START_TEST(api_index_and_openapi)
{
    json_t *index = get_json("/api");
    json_t *colls = json_object_get(index, "collections");
    ck_assert_uint_eq(json_array_size(colls), 11);
    json_t *doc = get_json("/api/openapi.json");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    json_t *c;
    size_t i;
    json_array_foreach(colls, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        char path[300], url[300];
        (void)snprintf(path, sizeof(path), "/api/%s", name);
        (void)snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/%s", port, name);
        ck_assert_str_eq(json_string_value(json_object_get(c, "url")), url);
        json_t *item = json_object_get(paths, path);
        ck_assert_msg(item != NULL, "%s is not in the OpenAPI document", path);
        bool post = json_object_get(item, "post") != NULL;
        bool listed = false;
        json_t *m;
        size_t k;
        json_array_foreach(json_object_get(c, "methods"), k, m)
            listed |= strcmp(json_string_value(m), "POST") == 0;
        ck_assert_int_eq(post, listed);
        ck_assert_int_eq(post, strcmp(name, "Genres") == 0);
        /* writes of many: PATCH and PUT on the collection where METHODS opts in */
        ck_assert_int_eq(json_object_get(item, "patch") != NULL, strcmp(name, "Genres") == 0);
        ck_assert_ptr_nonnull(json_object_get(schemas, name));
    }
    /* hidden fields are not documented */
    json_t *artist = json_object_get(json_object_get(schemas, "Artists"), "properties");
    ck_assert_ptr_null(json_object_get(artist, "artist_id"));
    ck_assert_ptr_nonnull(json_object_get(artist, "name"));
    const char *templ;
    json_t *item;
    size_t npaths = 0;
    json_object_foreach(paths, templ, item) {
        check_path(templ, item, schemas);
        npaths++;
    }
    ck_assert_uint_gt(npaths, 11 * 3);
    json_decref(doc);
    json_decref(index);
    /* the same documents through the RPC client */
    wr_rpc *rpc = client();
    struct wr_request req = {.op = WR_OP_COLLECTIONS};
    struct wr_reply reply;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(strstr(reply.body, "\"url\":\"/api/Albums\""));
    wr_reply_release(&reply);
    req.op = WR_OP_OPENAPI;
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(strstr(reply.body, "\"openapi\":\"3.1.0\""));
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
    /* the catalog takes GET (and HEAD, OPTIONS) only */
    struct http_resp r;
    ck_assert_int_eq(call("POST", "/api", "{}", &r), 405);
    h_http_free(&r);
    ck_assert_int_eq(call("DELETE", "/api/openapi.json", NULL, &r), 405);
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("columns");
    TCase *tc = tcase_create("columns");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, dotted_exclude_and_include);
    tcase_add_test(tc, depth_per_request_and_collection);
    tcase_add_test(tc, count_none);
    tcase_add_test(tc, link_first_prev_next_last);
    tcase_add_test(tc, cursor_walk_matches_pages);
    tcase_add_test(tc, cursor_walk_with_order_by);
    tcase_add_test(tc, cursor_refused_when_not_ours);
    tcase_add_test(tc, cursor_by_rpc);
    tcase_add_test(tc, cursor_secret_shared_and_required);
    tcase_add_test(tc, cache_keys_apart);
    tcase_add_test(tc, api_index_and_openapi);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
