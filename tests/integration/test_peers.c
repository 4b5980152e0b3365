/* What the peers' users asked for (issue 14), end to end over an edge and a
 * worker on RabbitMQ, Redis and a copy of Chinook given an FTS5 index over
 * tracks: full-text search (match, "_rank") checked against sqlite3 on the
 * copy, backward keyset walks (before, rel="prev") against the forward
 * walk, Flask-Restless's leniency, each through HTTP and the RPC client,
 * and what the audit trail says of them. */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

#define SERVICE "t_peers"

static int port; /* the edge's */
static struct proc edge, worker;
static char db[512], spool[512];

/* The copy's FTS5 index over tracks: external content keyed by TrackId,
 * kept by triggers (writes through warren reach it), filled by 'rebuild'. */
static const char fts_sql[] =
    "CREATE VIRTUAL TABLE tracks_fts USING fts5(Name, Composer, content='tracks', "
    "content_rowid='TrackId');"
    "CREATE TRIGGER tracks_fts_ai AFTER INSERT ON tracks BEGIN INSERT INTO tracks_fts(rowid, "
    "Name, Composer) VALUES (new.TrackId, new.Name, new.Composer); END;"
    "CREATE TRIGGER tracks_fts_ad AFTER DELETE ON tracks BEGIN INSERT INTO tracks_fts(tracks_fts, "
    "rowid, Name, Composer) VALUES ('delete', old.TrackId, old.Name, old.Composer); END;"
    "CREATE TRIGGER tracks_fts_au AFTER UPDATE ON tracks BEGIN INSERT INTO tracks_fts(tracks_fts, "
    "rowid, Name, Composer) VALUES ('delete', old.TrackId, old.Name, old.Composer); INSERT INTO "
    "tracks_fts(rowid, Name, Composer) VALUES (new.TrackId, new.Name, new.Composer); END;"
    "INSERT INTO tracks_fts(tracks_fts) VALUES ('rebuild');";

static void setup(void)
{
    static char env_db[600], env_redis[128], env_spool[600];
    h_copy_db("peers-chinook", db, sizeof(db));
    sqlite3 *w = NULL;
    ck_assert_int_eq(sqlite3_open(db, &w), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(w, fts_sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(w));
    sqlite3_close(w);
    (void)snprintf(spool, sizeof(spool), "%s/spool-peers", h_env("WRT_STATE_DIR"));
    h_empty_dir(spool);
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    (void)snprintf(env_redis, sizeof(env_redis), "WARREN_REDIS_URL=redis://127.0.0.1:%s/0",
                   h_env("WRT_REDIS_PORT"));
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s", spool);
    const char *extra[] = {env_db,
                           env_redis,
                           "WARREN_CACHE_MIN_COST_US=0",
                           "WARREN_LOCAL_CACHE_MAX_BYTES=0", /* in Redis, not memory */
                           env_spool,
                           "WARREN_Tracks__METHODS=GET, POST",
                           NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-peers", 0, SERVICE, extra);
    port = h_spawn_edge(&edge, "edge-peers", SERVICE, extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* --- helpers --- */

static void get(const char *path, const char *headers, int want, struct http_resp *r)
{
    ck_assert_int_eq(h_http(port, "GET", path, headers, r, 20000), 0);
    ck_assert_msg(r->status == want, "GET %s: %d, want %d: %s", path, r->status, want, r->body);
}

static json_t *get_json(const char *path)
{
    struct http_resp r;
    get(path, NULL, 200, &r);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_msg(j != NULL, "GET %s: not JSON: %s", path, r.body);
    h_http_free(&r);
    return j;
}

/* GET path answers 400 bad_parameter whose message names each of what
 * (NULL-terminated). */
static void assert_400(const char *path, const char *const *what)
{
    struct http_resp r;
    get(path, NULL, 400, &r);
    ck_assert_msg(strstr(r.body, "\"bad_parameter\"") != NULL, "GET %s: %s", path, r.body);
    for (size_t i = 0; what[i] != NULL; i++)
        ck_assert_msg(strstr(r.body, what[i]) != NULL, "GET %s: %s does not name %s", path, r.body,
                      what[i]);
    h_http_free(&r);
}

/* The values of member id of the page's objects into ids (cap), how many. */
static size_t page_ids(const json_t *page, const char *id, long long *ids, size_t cap)
{
    size_t n = 0, i;
    json_t *o;
    json_array_foreach(json_object_get(page, "objects"), i, o) {
        ck_assert_uint_lt(n, cap);
        ids[n++] = json_integer_value(json_object_get(o, id));
    }
    return n;
}

static wr_rpc *client(void)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = SERVICE, .timeout_ms = 20000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "wr_rpc_new: %s", err.msg);
    return rpc;
}

/* The RPC client's answer to req is the HTTP answer to path, byte for byte. */
static void assert_same_by_rpc(const struct wr_request *req, const char *path)
{
    wr_rpc *rpc = client();
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 20000), 0);
    struct wr_reply reply;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, r.status);
    ck_assert_msg(reply.len == r.len && memcmp(reply.body, r.body, r.len) == 0,
                  "%s: rpc %s, http %s", path, reply.body, r.body);
    wr_reply_release(&reply);
    h_http_free(&r);
    wr_rpc_free(rpc);
}

/* Rows of one column sqlite3 gives for sql with text bound to its ?, on
 * the copy (read-only), into out; how many. */
static size_t sqlite_ids(const char *sql, const char *text, long long *out, size_t cap)
{
    sqlite3 *r = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db, &r, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(r, 10000); /* the worker may still be setting up its file */
    sqlite3_stmt *st = NULL;
    ck_assert_msg(sqlite3_prepare_v2(r, sql, -1, &st, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(r));
    if (text != NULL)
        ck_assert_int_eq(sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC), SQLITE_OK);
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        ck_assert_uint_lt(n, cap);
        out[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(r);
    return n;
}

/* --- full-text search --- */

/* match on a column, on every indexed column ("*"), and ranked: the rows
 * sqlite3 finds in the index, in its order; the same through RPC. */
START_TEST(match_finds_what_sqlite_finds)
{
    static long long want[4000], got[4000];
    char path[8192];
    const char *q = "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"rock OR roll\"}]}";
    size_t n = sqlite_ids("SELECT rowid FROM tracks_fts WHERE Name MATCH ? ORDER BY rowid",
                          "rock OR roll", want, 4000);
    ck_assert_uint_gt(n, 10);
    h_search_path(path, sizeof(path), "Tracks", q, "results_per_page=1000&depth=0");
    json_t *j = get_json(path);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), (long long)n);
    ck_assert_uint_eq(page_ids(j, "track_id", got, 4000), n);
    json_decref(j);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(got[i], want[i]);
    struct wr_request req = {.op = WR_OP_LIST,
                             .collection = "Tracks",
                             .q = q,
                             .results_per_page = 1000,
                             .depth_given = true,
                             .depth = 0};
    assert_same_by_rpc(&req, path);

    /* every indexed column: composers too */
    n = sqlite_ids("SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ? ORDER BY rowid",
                   "bach OR mozart", want, 4000);
    ck_assert_uint_gt(n, 0);
    h_search_path(path, sizeof(path), "Tracks",
                  "{\"filters\":[{\"name\":\"*\",\"op\":\"match\",\"val\":\"bach OR mozart\"}]}",
                  "depth=0&results_per_page=1000");
    j = get_json(path);
    ck_assert_uint_eq(page_ids(j, "track_id", got, 4000), n);
    json_decref(j);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(got[i], want[i]);

    /* ranked, best first, paged: FTS5's own order (rank, then the key) */
    n = sqlite_ids("SELECT rowid FROM tracks_fts WHERE Name MATCH ? ORDER BY rank, rowid", "love",
                   want, 4000);
    ck_assert_uint_gt(n, 20);
    size_t m = 0;
    for (int page = 1; m < n; page++) {
        char extra[96];
        (void)snprintf(extra, sizeof(extra), "depth=0&results_per_page=10&page=%d", page);
        h_search_path(path, sizeof(path), "Tracks",
                      "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"love\"}],"
                      "\"order_by\":[{\"field\":\"_rank\"}]}",
                      extra);
        j = get_json(path);
        size_t k = page_ids(j, "track_id", got + m, 4000 - m);
        json_decref(j);
        ck_assert_uint_gt(k, 0);
        m += k;
    }
    ck_assert_uint_eq(m, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "rank %zu: %lld, sqlite3 %lld", i, got[i], want[i]);

    /* through a relation: albums with a track matching; and the count */
    n = sqlite_ids("SELECT DISTINCT t.AlbumId FROM tracks AS t JOIN tracks_fts AS f ON f.rowid = "
                   "t.TrackId WHERE f.Name MATCH ? ORDER BY t.AlbumId",
                   "love", want, 4000);
    h_search_path(path, sizeof(path), "Albums",
                  "{\"filters\":[{\"name\":\"tracks__name\",\"op\":\"match\",\"val\":\"love\"}]}",
                  "depth=0&results_per_page=1000");
    j = get_json(path);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), (long long)n);
    json_decref(j);
}
END_TEST

/* FTS5 refusing the text, a column the index does not cover, a collection
 * without one: 400s that name it, never a 500; the same through RPC. */
START_TEST(match_errors_are_400)
{
    char path[8192];
    const char *bad = "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"rock AND\"}]}";
    h_search_path(path, sizeof(path), "Tracks", bad, NULL);
    assert_400(path, (const char *const[]){"rock AND", "fts5: syntax error", NULL});
    struct wr_request req = {.op = WR_OP_LIST, .collection = "Tracks", .q = bad};
    assert_same_by_rpc(&req, path);
    /* the count is not taken, the rows are: still a 400 */
    h_search_path(path, sizeof(path), "Tracks",
                  "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"nosuch: x\"}]}",
                  "count=none");
    assert_400(path, (const char *const[]){"nosuch: x", "no such column", NULL});
    h_search_path(path, sizeof(path), "Tracks",
                  "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"\\\"open\"}]}",
                  NULL);
    assert_400(path, (const char *const[]){"match", NULL});
    h_search_path(path, sizeof(path), "Tracks",
                  "{\"filters\":[{\"name\":\"milliseconds\",\"op\":\"match\",\"val\":\"1\"}]}",
                  NULL);
    assert_400(path, (const char *const[]){"does not cover milliseconds", NULL});
    h_search_path(path, sizeof(path), "Albums",
                  "{\"filters\":[{\"name\":\"title\",\"op\":\"match\",\"val\":\"x\"}]}", NULL);
    assert_400(path, (const char *const[]){"Albums has none", NULL});
    h_search_path(path, sizeof(path), "Tracks", "{\"order_by\":[{\"field\":\"_rank\"}]}", NULL);
    assert_400(path, (const char *const[]){"_rank", NULL});
    /* functions over matching rows: the same refusal */
    h_search_path(path, sizeof(path), "eval/Tracks",
                  "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"rock AND\"}],"
                  "\"functions\":[{\"name\":\"count\",\"field\":\"track_id\"}]}",
                  NULL);
    assert_400(path, (const char *const[]){"rock AND", NULL});
}
END_TEST

/* A track written through warren is found at once (the copy's triggers
 * keep the index); a repeated search is a cache hit with the same bytes;
 * the audit record says what was searched. */
START_TEST(match_sees_writes_cache_and_audit)
{
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, "POST", "/api/Tracks",
                                 "{\"name\":\"Zyzzyva Boogie\",\"media_type_id\":1,"
                                 "\"milliseconds\":1000,\"unit_price\":0.99}",
                                 &r, 20000),
                     0);
    ck_assert_msg(r.status == 201, "%d %s", r.status, r.body);
    h_http_free(&r);
    char path[8192];
    const char *q = "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"zyzzyva\"}]}";
    h_search_path(path, sizeof(path), "Tracks", q, NULL);
    json_t *j = get_json(path);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 1);
    json_decref(j);
    struct http_resp a, b;
    get(path, "X-Request-Id: 0123456789abcdef0123456789ab1405\r\n", 200, &a);
    get(path, NULL, 200, &b);
    char cache[32];
    ck_assert(h_header(&b, "X-Cache", cache, sizeof(cache)));
    ck_assert_str_eq(cache, "hit");
    ck_assert_str_eq(a.body, b.body);
    h_http_free(&a);
    h_http_free(&b);
    char *line = h_audit_line(spool, "0123456789abcdef0123456789ab1405");
    json_t *doc = json_loads(line, 0, NULL);
    ck_assert_msg(doc != NULL, "%s", line);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "detail"), "q")), q);
    json_decref(doc);
    free(line);
}
END_TEST

/* --- backward keyset walks --- */

/* Walks path by Link next, keeping each page's ids (id member) and the
 * path it came from; returns the number of pages. */
static int walk_forward(const char *path, const char *id, long long pages[][600], size_t *sizes,
                        int cap)
{
    char next[8192];
    (void)snprintf(next, sizeof(next), "%s", path);
    for (int p = 0; p < cap; p++) {
        struct http_resp r;
        get(next, NULL, 200, &r);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "page")), p + 1);
        sizes[p] = page_ids(j, id, pages[p], 600);
        json_decref(j);
        char link[16384];
        bool more = h_header(&r, "Link", link, sizeof(link)) &&
                    h_link_rel(link, "next", next, sizeof(next));
        h_http_free(&r);
        if (!more)
            return p + 1;
    }
    ck_abort_msg("more than %d pages", cap);
    return cap;
}

/* From the last page of a forward walk (reached again by its after=
 * cursor), follows rel="prev" back to page 1: the same pages, reversed;
 * every prev is a before= cursor, page 1 has none. */
static void walk_back(const char *path, const char *id, int npages)
{
    static long long pages[64][600], back[600];
    static size_t sizes[64];
    ck_assert_int_eq(walk_forward(path, id, pages, sizes, 64), npages);
    /* the last page again, by its cursor */
    char here[8192];
    (void)snprintf(here, sizeof(here), "%s", path);
    for (int p = 1; p < npages; p++) {
        struct http_resp r;
        get(here, NULL, 200, &r);
        char link[16384];
        ck_assert(h_header(&r, "Link", link, sizeof(link)));
        ck_assert(h_link_rel(link, "next", here, sizeof(here)));
        h_http_free(&r);
    }
    for (int p = npages - 1; p >= 0; p--) {
        struct http_resp r;
        get(here, NULL, 200, &r);
        json_t *j = json_loads(r.body, 0, NULL);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "page")), p + 1);
        size_t n = page_ids(j, id, back, 600);
        json_decref(j);
        ck_assert_uint_eq(n, sizes[p]);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(back[i] == pages[p][i], "page %d row %zu: %lld back, %lld forward", p + 1,
                          i, back[i], pages[p][i]);
        char link[16384] = "";
        (void)h_header(&r, "Link", link, sizeof(link));
        h_http_free(&r);
        char prev[8192];
        bool has_prev = h_link_rel(link, "prev", prev, sizeof(prev));
        ck_assert_msg(has_prev == (p > 0), "page %d: %s", p + 1, link);
        /* a page walked back to still leads forward by cursor */
        if (p < npages - 1) {
            char next[8192];
            ck_assert(h_link_rel(link, "next", next, sizeof(next)));
            ck_assert_ptr_nonnull(strstr(next, "after="));
        }
        if (has_prev) {
            ck_assert_msg(strstr(prev, "before=") != NULL, "prev is no cursor: %s", prev);
            (void)snprintf(here, sizeof(here), "%s", prev);
        }
    }
}

START_TEST(before_walks_back_the_same_pages)
{
    walk_back("/api/Albums?after=&results_per_page=50&depth=0", "album_id", 7);
    /* a multi-column order over a column with NULLs, descending */
    char path[8192];
    h_search_path(
        path, sizeof(path), "Tracks",
        "{\"order_by\":[{\"field\":\"composer\",\"direction\":\"desc\"},{\"field\":\"name\"}]}",
        "after=&results_per_page=100&depth=0");
    walk_back(path, "track_id", 36); /* 3,503 tracks (and one written), 100 a page */
}
END_TEST

START_TEST(before_refusals)
{
    struct http_resp r;
    get("/api/Albums?after=&results_per_page=10", NULL, 200, &r);
    char link[16384], next[8192], prev[8192];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(h_link_rel(link, "next", next, sizeof(next)));
    h_http_free(&r);
    get(next, NULL, 200, &r);
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert(h_link_rel(link, "prev", prev, sizeof(prev)));
    h_http_free(&r);
    ck_assert_ptr_nonnull(strstr(prev, "before="));
    /* page 2's prev is page 1 */
    json_t *j = get_json(prev);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "page")), 1);
    json_decref(j);
    /* tampered: one character of the cursor changed */
    char bad[8192];
    (void)snprintf(bad, sizeof(bad), "%s", prev);
    char *c = strstr(bad, "before=") + 9;
    *c = *c == 'A' ? 'B' : 'A';
    assert_400(bad, (const char *const[]){"before", NULL});
    /* a forward cursor is no backward one, nor the other way round */
    const char *a = strstr(next, "after=") + 6;
    char path[8192];
    (void)snprintf(path, sizeof(path), "/api/Albums?before=%.*s&results_per_page=10",
                   (int)strcspn(a, "&"), a);
    assert_400(path, (const char *const[]){"before", NULL});
    const char *b = strstr(prev, "before=") + 7;
    (void)snprintf(path, sizeof(path), "/api/Albums?after=%.*s&results_per_page=10",
                   (int)strcspn(b, "&"), b);
    assert_400(path, (const char *const[]){"after", NULL});
    /* another list's (Artists), another page size */
    (void)snprintf(path, sizeof(path), "/api/Artists?before=%.*s&results_per_page=10",
                   (int)strcspn(b, "&"), b);
    assert_400(path, (const char *const[]){"before", NULL});
    (void)snprintf(path, sizeof(path), "/api/Albums?before=%.*s&results_per_page=11",
                   (int)strcspn(b, "&"), b);
    assert_400(path, (const char *const[]){"before", NULL});
    /* both: the edge refuses, and the worker too (through RPC) */
    (void)snprintf(path, sizeof(path), "/api/Albums?after=&before=%.*s", (int)strcspn(b, "&"), b);
    assert_400(path, (const char *const[]){"after and before", NULL});
    char cursor[4096];
    (void)snprintf(cursor, sizeof(cursor), "%.*s", (int)strcspn(b, "&"), b);
    wr_rpc *rpc = client();
    struct wr_request req = {
        .op = WR_OP_LIST, .collection = "Albums", .after = "", .before = cursor};
    struct wr_reply reply;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 400);
    ck_assert_ptr_nonnull(strstr(reply.body, "after and before"));
    wr_reply_release(&reply);
    /* by RPC, the same page as by HTTP */
    req = (struct wr_request){
        .op = WR_OP_LIST, .collection = "Albums", .before = cursor, .results_per_page = 10};
    (void)snprintf(path, sizeof(path), "/api/Albums?before=%s&results_per_page=10", cursor);
    wr_rpc_free(rpc);
    assert_same_by_rpc(&req, path);
    /* a rank order has no keyset */
    h_search_path(path, sizeof(path), "Tracks",
                  "{\"filters\":[{\"name\":\"name\",\"op\":\"match\",\"val\":\"love\"}],"
                  "\"order_by\":[{\"field\":\"_rank\"}]}",
                  "after=");
    assert_400(path, (const char *const[]){"after", "_rank", NULL});
}
END_TEST

/* --- Flask-Restless's leniency --- */

/* num_results of a search of collection by HTTP, the RPC client agreeing. */
static long long found(const char *collection, const char *q)
{
    char path[8192];
    h_search_path(path, sizeof(path), collection, q, NULL);
    json_t *j = get_json(path);
    long long n = json_integer_value(json_object_get(j, "num_results"));
    json_decref(j);
    struct wr_request req = {.op = WR_OP_LIST, .collection = collection, .q = q};
    assert_same_by_rpc(&req, path);
    return n;
}

/* What Flask-Restless 0.17 accepts, warren answers as it does (counts from
 * sqlite3 on the copy). */
START_TEST(flask_restless_leniency)
{
    long long want[1];
    /* val null and field: the field (SELECT count(*) FROM tracks WHERE
     * AlbumId = GenreId) */
    ck_assert_uint_eq(
        sqlite_ids("SELECT count(*) FROM tracks WHERE AlbumId = GenreId", NULL, want, 1), 1);
    ck_assert_int_eq(found("Tracks", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"eq\","
                                     "\"val\":null,\"field\":\"genre_id\"}]}"),
                     want[0]);
    /* a val beside the field is ignored too */
    ck_assert_int_eq(found("Tracks", "{\"filters\":[{\"name\":\"album_id\",\"op\":\"eq\","
                                     "\"val\":5,\"field\":\"genre_id\"}]}"),
                     want[0]);
    /* is_null with a val: the val ignored */
    ck_assert_uint_eq(
        sqlite_ids("SELECT count(*) FROM tracks WHERE Composer IS NULL", NULL, want, 1), 1);
    ck_assert_int_eq(found("Tracks", "{\"filters\":[{\"name\":\"composer\",\"op\":\"is_null\","
                                     "\"val\":\"x\"}]}"),
                     want[0]);
    /* like with a number */
    ck_assert_uint_eq(
        sqlite_ids("SELECT count(*) FROM albums WHERE Title LIKE 1984", NULL, want, 1), 1);
    ck_assert_int_eq(
        found("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"like\",\"val\":1984}]}"),
        want[0]);
    /* limit and offset null: absent */
    ck_assert_int_eq(found("Albums", "{\"limit\":null,\"offset\":null}"), 347);
    /* single: Python's truth of any value */
    char path[8192];
    h_search_path(path, sizeof(path), "Albums",
                  "{\"filters\":[{\"name\":\"album_id\",\"op\":\"eq\",\"val\":1}],\"single\":1}",
                  NULL);
    json_t *j = get_json(path);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "album_id")), 1);
    json_decref(j);
    /* what stays refused: an unknown member (a typo would widen a write
     * of many), an empty or */
    h_search_path(path, sizeof(path), "Albums", "{\"filter\":[]}", NULL);
    assert_400(path, (const char *const[]){"unknown member", NULL});
    h_search_path(path, sizeof(path), "Albums", "{\"filters\":[{\"or\":[]}]}", NULL);
    assert_400(path, (const char *const[]){"or", NULL});
}
END_TEST

int main(void)
{
    Suite *s = suite_create("peers");
    TCase *tc = tcase_create("peers");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, match_finds_what_sqlite_finds);
    tcase_add_test(tc, match_errors_are_400);
    tcase_add_test(tc, match_sees_writes_cache_and_audit);
    tcase_add_test(tc, before_walks_back_the_same_pages);
    tcase_add_test(tc, before_refusals);
    tcase_add_test(tc, flask_restless_leniency);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
