/* The workers' in-process reply cache end to end, over a copy of Chinook
 * and two workers without Redis: repeated reads are answered from memory
 * (X-Cache: local), and no read after a change ever gets the old answer,
 * whether the change came through the edge or from another process
 * writing the file by hand. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"

static int port;
static struct proc edge, w1, w2;
static char db[512];

static void setup(void)
{
    static char env_db[600];
    h_copy_db("memo-chinook", db, sizeof(db));
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    /* YIELD_AFTER_MS=0: both workers answer reads in turn, so each one's
     * memory is put to the test, not only the older one's */
    const char *extra[] = {env_db, "WARREN_COLLECTIONS=Albums, Artists",
                           "WARREN_Albums__METHODS=GET, POST", "WARREN_YIELD_AFTER_MS=0", NULL};
    h_spawn_warren(&w1, WARREN_CATALOG_BIN, "catalog-memo-1", 0, "t_memo", extra);
    h_spawn_warren(&w2, WARREN_CATALOG_BIN, "catalog-memo-2", 0, "t_memo", extra);
    port = h_spawn_edge(&edge, "edge-memo", "t_memo", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&w1, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&w2, SIGTERM), 0);
}

/* GET path: its body, and its X-Cache into cache. */
static json_t *get(const char *path, char cache[16])
{
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, "GET", path, NULL, &r, 10000), 0);
    ck_assert_msg(r.status == 200, "GET %s: %d %s", path, r.status, r.body);
    cache[0] = '\0';
    (void)h_header(&r, "X-Cache", cache, 16);
    json_t *j = json_loads(r.body, 0, NULL);
    h_http_free(&r);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Reads path until an answer comes from a worker's memory; both workers
 * have computed it by then. */
static void warm(const char *path)
{
    char cache[16];
    bool local = false;
    for (int i = 0; i < 20 && !local; i++) {
        json_decref(get(path, cache));
        local = strcmp(cache, "local") == 0;
    }
    ck_assert_msg(local, "%s never answered from memory (X-Cache %s)", path, cache);
}

START_TEST(write_through_the_edge_is_seen)
{
    char cache[16];
    warm("/api/Artists/2");
    json_t *j = get("/api/Artists/2", cache);
    size_t n = json_array_size(json_object_get(j, "albums"));
    json_decref(j);
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, "POST", "/api/Albums",
                                 "{\"title\":\"Remembered\",\"artist_id\":2}", &r, 10000),
                     0);
    ck_assert_int_eq(r.status, 201);
    h_http_free(&r);
    /* each worker answers some of these: none may answer from before */
    for (int i = 0; i < 8; i++) {
        j = get("/api/Artists/2", cache);
        ck_assert_uint_eq(json_array_size(json_object_get(j, "albums")), n + 1);
        json_decref(j);
    }
}
END_TEST

START_TEST(change_by_another_process_is_seen)
{
    char cache[16];
    warm("/api/Artists/3");
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(db, &s), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    ck_assert_int_eq(
        sqlite3_exec(s, "UPDATE artists SET Name = 'By Hand' WHERE ArtistId = 3", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(s);
    for (int i = 0; i < 8; i++) {
        json_t *j = get("/api/Artists/3", cache);
        ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "By Hand");
        json_decref(j);
    }
    /* and the memo fills again at the new version */
    warm("/api/Artists/3");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("local_cache");
    TCase *tc = tcase_create("local_cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, write_through_the_edge_is_seen);
    tcase_add_test(tc, change_by_another_process_is_seen);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
