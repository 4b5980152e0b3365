/* Issue 14, items 3 and 4, end to end over a copy of Chinook: fields=
 * narrows what the config shows (never widens it), depth=2 embeds one
 * level further (clamped by MAX_DEPTH), count=estimated takes
 * sqlite_stat1's estimate, and an exact count stops at COUNT_MAX; each
 * through HTTP and the RPC client alike, each its own cache key. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

static int port;
static struct proc edge, worker, shallow;
static char db[512];

/* The copy's sqlite_stat1 made to tell an estimate from a count: artists
 * "has" 9999 rows, media_types 50, and genres no entry at all. */
static void doctor_stats(void)
{
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(db, &s), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(s,
                                  "UPDATE sqlite_stat1 SET stat = '9999' WHERE tbl = 'artists';"
                                  "UPDATE sqlite_stat1 SET stat = '50' WHERE tbl = 'media_types';"
                                  "DELETE FROM sqlite_stat1 WHERE tbl = 'genres';",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(s);
}

static void setup(void)
{
    static char env_db[600], env_redis[128];
    h_copy_db("views-chinook", db, sizeof(db));
    doctor_stats();
    redisContext *r = redisConnect("127.0.0.1", (int)strtol(h_env("WRT_REDIS_PORT"), NULL, 10));
    ck_assert(r != NULL && !r->err);
    freeReplyObject(redisCommand(r, "FLUSHALL"));
    redisFree(r);
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    (void)snprintf(env_redis, sizeof(env_redis), "WARREN_REDIS_URL=redis://127.0.0.1:%s/0",
                   h_env("WRT_REDIS_PORT"));
    const char *extra[] = {env_db,
                           env_redis,
                           "WARREN_CACHE_MIN_COST_US=0",     /* every read cached */
                           "WARREN_LOCAL_CACHE_MAX_BYTES=0", /* in Redis, not memory */
                           "WARREN_COLLECTIONS=Albums, Artists, Tracks, Genres, MediaTypes",
                           "WARREN_Tracks__EXCLUDE=composer",
                           "WARREN_Albums__EXCLUDE=tracks.bytes",
                           "WARREN_MediaTypes__COUNT=estimated",
                           "WARREN_MAX_DEPTH=2",
                           "WARREN_COUNT_MAX=1000",
                           NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-views", 0, "t_views", extra);
    const char *extra1[] = {env_db, "WARREN_COLLECTIONS=Albums, Artists, Tracks", NULL};
    h_spawn_warren(&shallow, WARREN_CATALOG_BIN, "catalog-views1", 0, "t_views1", extra1);
    port = h_spawn_edge(&edge, "edge-views", "t_views", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&shallow, SIGTERM), 0);
}

static json_t *get(const char *path, int status, struct http_resp *r)
{
    ck_assert_int_eq(h_http(port, "GET", path, NULL, r, 10000), 0);
    ck_assert_msg(r->status == status, "GET %s: %d, want %d: %s", path, r->status, status, r->body);
    return json_loads(r->body, 0, NULL);
}

static void assert_body(const char *path, const char *want)
{
    struct http_resp r;
    json_decref(get(path, 200, &r));
    ck_assert_str_eq(r.body, want);
    h_http_free(&r);
}

static void assert_400(const char *path, const char *names)
{
    struct http_resp r;
    json_t *j = get(path, 400, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_parameter");
    ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")), names) != NULL,
                  "%s: %s does not name %s", path, r.body, names);
    json_decref(j);
    h_http_free(&r);
}

/* The RPC client gets the bytes HTTP gets (service: its queue). */
static void assert_same_by_rpc(const char *service, const struct wr_request *req, const char *path)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = service, .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_reply reply;
    ck_assert_int_eq(wr_rpc_call(rpc, req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    if (path != NULL) {
        struct http_resp r;
        json_decref(get(path, 200, &r));
        ck_assert_str_eq(reply.body, r.body);
        h_http_free(&r);
    }
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
}

static const char *header(struct http_resp *r, const char *name)
{
    static char value[4096];
    return h_header(r, name, value, sizeof(value)) ? value : "";
}

/* --- fields --- */

START_TEST(fields_narrow_objects)
{
    assert_body("/api/Albums/1?fields=title,Artists.name",
                "{\"Artists\":{\"name\":\"AC/DC\"},\"title\":\"For Those About To Rock We Salute "
                "You\"}\n");
    assert_body("/api/Albums?fields=title&results_per_page=2",
                "{\"num_results\":347,\"objects\":[{\"title\":\"For Those About To Rock We Salute "
                "You\"},{\"title\":\"Balls to the Wall\"}],\"page\":1,\"total_pages\":174}\n");
    assert_body("/api/Artists/1/albums?fields=album_id",
                "{\"num_results\":2,\"objects\":[{\"album_id\":1},{\"album_id\":4}],\"page\":1,"
                "\"total_pages\":1}\n");
    /* links repeat it */
    struct http_resp r;
    json_decref(get("/api/Albums?fields=title,Artists", 200, &r));
    ck_assert_ptr_nonnull(strstr(header(&r, "Link"), "fields=title,Artists&page=2"));
    h_http_free(&r);
    /* what the config hides stays hidden: a 400 naming it */
    assert_400("/api/Tracks/1?fields=name,composer", "composer");
    assert_400("/api/Albums/1?fields=tracks.bytes", "tracks.bytes");
    assert_400("/api/Albums/1?fields=nope", "nope");
    assert_400("/api/Albums/1?fields=Artists&depth=0", "depth 0");
    assert_400("/api/Albums/1?fields=", "fields");
    /* the RPC client: the same bytes */
    struct wr_request req = {
        .op = WR_OP_GET, .collection = "Albums", .key = "1", .fields = "title,Artists.name"};
    assert_same_by_rpc("t_views", &req, "/api/Albums/1?fields=title,Artists.name");
}
END_TEST

/* Each fields value its own cache entry: never another's answer. */
START_TEST(fields_cached_apart)
{
    static const char *const paths[] = {"/api/Albums/2?fields=title",
                                        "/api/Albums/2?fields=album_id", "/api/Albums/2"};
    char *first[3];
    for (size_t i = 0; i < 3; i++) {
        struct http_resp r;
        json_decref(get(paths[i], 200, &r));
        first[i] = strdup(r.body);
        h_http_free(&r);
    }
    for (size_t i = 0; i < 3; i++) {
        struct http_resp r;
        json_decref(get(paths[i], 200, &r));
        ck_assert_str_eq(header(&r, "X-Cache"), "hit");
        ck_assert_str_eq(r.body, first[i]);
        h_http_free(&r);
    }
    ck_assert_str_ne(first[0], first[1]);
    ck_assert_str_ne(first[1], first[2]);
    for (size_t i = 0; i < 3; i++)
        free(first[i]);
}
END_TEST

/* --- depth --- */

START_TEST(depth_two_embeds_one_level_further)
{
    struct http_resp r;
    json_t *a = get("/api/Albums/1?depth=2", 200, &r);
    h_http_free(&r);
    json_t *artist = json_object_get(a, "Artists");
    json_t *albums = json_object_get(artist, "albums");
    ck_assert_uint_eq(json_array_size(albums), 2);
    ck_assert_ptr_null(json_object_get(json_array_get(albums, 0), "tracks")); /* flat there */
    json_t *track = json_array_get(json_object_get(a, "tracks"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(track, "Genres"), "name")),
                     "Rock");
    ck_assert_ptr_nonnull(json_object_get(track, "MediaTypes"));
    /* the config still hides: Tracks.EXCLUDE composer, Albums' tracks.bytes */
    ck_assert_ptr_null(json_object_get(track, "composer"));
    ck_assert_ptr_null(json_object_get(track, "bytes"));
    ck_assert_ptr_nonnull(json_object_get(track, "milliseconds"));
    json_decref(a);
    /* fields at depth 2: a relation of the relation's objects */
    assert_body(
        "/api/Albums/1?depth=2&fields=tracks.name,tracks.Genres&results_per_page=1",
        "{\"tracks\":[{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},\"name\":\"For Those "
        "About To Rock (We Salute You)\"},{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},"
        "\"name\":\"Put The Finger On You\"},{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},"
        "\"name\":\"Let's Get It Up\"},{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},"
        "\"name\":\"Inject The Venom\"},{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},"
        "\"name\":\"Snowballed\"},{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},\"name\":"
        "\"Evil Walks\"},{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},\"name\":\"C.O.D.\"},"
        "{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},\"name\":\"Breaking The Rules\"},"
        "{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},\"name\":\"Night Of The Long "
        "Knives\"},{\"Genres\":{\"genre_id\":1,\"name\":\"Rock\"},\"name\":\"Spellbound\"}]}"
        "\n");
    assert_400("/api/Albums/1?depth=3", "depth");
    struct wr_request deep = {
        .op = WR_OP_GET, .collection = "Albums", .key = "1", .depth_given = true, .depth = 2};
    assert_same_by_rpc("t_views", &deep, "/api/Albums/1?depth=2");
}
END_TEST

/* A worker whose MAX_DEPTH is 1 (the default) answers depth 2 as depth 1. */
START_TEST(depth_clamped_by_max_depth)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_views1", .timeout_ms = 10000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct wr_request one = {
        .op = WR_OP_GET, .collection = "Albums", .key = "1", .depth_given = true, .depth = 1};
    struct wr_request two = one;
    two.depth = 2;
    struct wr_reply a, b;
    ck_assert_int_eq(wr_rpc_call(rpc, &one, &a, &err), 0);
    ck_assert_int_eq(wr_rpc_call(rpc, &two, &b, &err), 0);
    ck_assert_int_eq(b.status, 200);
    ck_assert_str_eq(a.body, b.body);
    ck_assert_ptr_null(strstr(b.body, "\"Genres\""));
    wr_reply_release(&a);
    wr_reply_release(&b);
    wr_rpc_free(rpc);
}
END_TEST

/* --- counts --- */

static json_t *page(const char *path, struct http_resp *r)
{
    return get(path, 200, r);
}

START_TEST(estimated_counts)
{
    struct http_resp r;
    json_t *j = page("/api/Artists?count=estimated", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 9999);
    ck_assert(json_is_true(json_object_get(j, "num_results_estimated")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total_pages")), 1000);
    ck_assert_ptr_null(strstr(header(&r, "Link"), "rel=\"last\""));
    ck_assert_ptr_nonnull(strstr(header(&r, "Link"), "count=estimated&page=2"));
    json_decref(j);
    h_http_free(&r);
    /* no sqlite_stat1 entry: the (capped) count, unflagged */
    j = page("/api/Genres?count=estimated", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 25);
    ck_assert_ptr_null(json_object_get(j, "num_results_estimated"));
    ck_assert_ptr_nonnull(strstr(header(&r, "Link"), "rel=\"last\""));
    json_decref(j);
    h_http_free(&r);
    /* COUNT = 'estimated' in config; count=exact counts */
    j = page("/api/MediaTypes", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 50);
    ck_assert(json_is_true(json_object_get(j, "num_results_estimated")));
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 5);
    json_decref(j);
    h_http_free(&r);
    assert_body("/api/MediaTypes?count=exact&fields=name&results_per_page=1",
                "{\"num_results\":5,\"objects\":[{\"name\":\"MPEG audio file\"}],\"page\":1,"
                "\"total_pages\":5}\n");
    /* an estimate is of a whole table: a search counts */
    j = page("/api/Artists?count=estimated&q=%7B%22filters%22%3A%5B%5D%7D", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 275);
    ck_assert_ptr_null(json_object_get(j, "num_results_estimated"));
    json_decref(j);
    h_http_free(&r);
    struct wr_request req = {.op = WR_OP_LIST, .collection = "Artists", .count = "estimated"};
    assert_same_by_rpc("t_views", &req, NULL);
}
END_TEST

START_TEST(counts_stop_at_count_max)
{
    struct http_resp r;
    json_t *j = page("/api/Tracks?fields=track_id", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 1000);
    ck_assert(json_is_true(json_object_get(j, "num_results_truncated")));
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total_pages")), 100);
    ck_assert_ptr_null(strstr(header(&r, "Link"), "rel=\"last\""));
    json_decref(j);
    h_http_free(&r);
    /* pages past the truncated count are real pages, with a next while rows remain */
    j = page("/api/Tracks?fields=track_id&page=101", &r);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_array_get(json_object_get(j, "objects"), 0), "track_id")),
                     1001);
    ck_assert_ptr_nonnull(strstr(header(&r, "Link"), "page=102"));
    json_decref(j);
    h_http_free(&r);
    j = page("/api/Tracks?fields=track_id&page=351", &r);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 3);
    ck_assert_ptr_null(strstr(header(&r, "Link"), "rel=\"next\""));
    json_decref(j);
    h_http_free(&r);
    /* a search too; a limit under COUNT_MAX counts exactly */
    j = page("/api/Tracks?fields=track_id&q=%7B%22filters%22%3A%5B%7B%22name%22%3A%22milliseconds%"
             "22%2C%22op%22%3A%22gt%22%2C%22val%22%3A0%7D%5D%7D",
             &r);
    ck_assert(json_is_true(json_object_get(j, "num_results_truncated")));
    json_decref(j);
    h_http_free(&r);
    j = page("/api/Tracks?fields=track_id&q=%7B%22limit%22%3A20%7D", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 20);
    ck_assert_ptr_null(json_object_get(j, "num_results_truncated"));
    json_decref(j);
    h_http_free(&r);
    /* under COUNT_MAX nothing changes */
    j = page("/api/Albums?fields=album_id", &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 347);
    ck_assert_ptr_null(json_object_get(j, "num_results_truncated"));
    json_decref(j);
    h_http_free(&r);
    struct wr_request req = {.op = WR_OP_LIST, .collection = "Tracks", .fields = "track_id"};
    assert_same_by_rpc("t_views", &req, "/api/Tracks?fields=track_id");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("views");
    TCase *tc = tcase_create("views");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fields_narrow_objects);
    tcase_add_test(tc, fields_cached_apart);
    tcase_add_test(tc, depth_two_embeds_one_level_further);
    tcase_add_test(tc, depth_clamped_by_max_depth);
    tcase_add_test(tc, estimated_counts);
    tcase_add_test(tc, counts_stop_at_count_max);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
