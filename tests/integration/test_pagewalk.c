/* Page-number walks over the workers' page-position memo (cache/pagepos.c
 * used by ops/rows.c), end to end on a copy of Chinook and two workers
 * taking turns, their reply memo off so every page runs its statement:
 * a walk by Link next (whose pages seek from the keys the previous pages
 * left) answers byte for byte what the same pages read backwards answer
 * (a walk that can find no position below it: every page an OFFSET), for
 * a list, an uncounted list and a to-many relation; the workers did seek;
 * and a change to the file between two pages (through the edge, or by
 * another process) is in the next page and its count, as SQLite itself
 * pages and counts it. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"

#define MAX_PAGES 128

static int port;
static struct proc edge, w1, w2;
static char db[512];

static void setup(void)
{
    static char env_db[600];
    h_copy_db("pagewalk-chinook", db, sizeof(db));
    (void)snprintf(env_db, sizeof(env_db), "WARREN_DATABASE_URI=sqlite:///%s", db);
    const char *extra[] = {env_db, "WARREN_COLLECTIONS=Tracks, Genres, Artists, Albums",
                           "WARREN_Artists__METHODS=GET, DELETE", "WARREN_LOCAL_CACHE_MAX_BYTES=0",
                           "WARREN_LOG_LEVEL=info",
                           /* both workers read pages in turn: each one's
                              remembered positions are put to the test */
                           "WARREN_YIELD_AFTER_MS=0", NULL};
    h_spawn_warren(&w1, WARREN_CATALOG_BIN, "catalog-pagewalk-1", 0, "t_pagewalk", extra);
    h_spawn_warren(&w2, WARREN_CATALOG_BIN, "catalog-pagewalk-2", 0, "t_pagewalk", extra);
    port = h_spawn_edge(&edge, "edge-pagewalk", "t_pagewalk", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    h_stop(&w1, SIGTERM); /* -1 when the test stopped it already */
    h_stop(&w2, SIGTERM);
}

/* GET path: 200, its body (malloc'd) and its Link into link. */
static char *get(const char *path, char *link, size_t cap)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 20000), 0);
    ck_assert_msg(r.status == 200, "GET %s: %d %s", path, r.status, r.body);
    link[0] = '\0';
    (void)h_header(&r, "Link", link, cap);
    char *body = r.body;
    r.body = NULL;
    h_http_free(&r);
    return body;
}

/* A change by another process: the workers' data version moves. */
static void by_hand(const char *sql)
{
    sqlite3 *s = NULL;
    ck_assert_int_eq(sqlite3_open(db, &s), SQLITE_OK);
    sqlite3_busy_timeout(s, 5000);
    ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
}

/* A real change by another process, to a table none of the pages show
 * (a commit that changes nothing leaves the data version as it was). */
static void touch(void)
{
    static int n;
    char sql[128];
    (void)snprintf(sql, sizeof(sql), "UPDATE employees SET Title = 'touch %d' WHERE EmployeeId = 1",
                   ++n);
    by_hand(sql);
}

/* Stops both workers and adds up the seeks from a remembered position
 * their last log lines count. */
static long long seeks_of_workers(void)
{
    long long total = 0;
    struct proc *w[] = {&w1, &w2};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(h_stop(w[i], SIGTERM), 0);
        char *log = h_read_file(w[i]->log, NULL);
        ck_assert_ptr_nonnull(log);
        const char *at = strstr(log, "page positions: ");
        ck_assert_msg(at != NULL, "no page positions line in %s", w[i]->log);
        total += strtoll(at + strlen("page positions: "), NULL, 10);
        free(log);
    }
    return total;
}

/* Walks base (a list's path with its query, no page) from page 1 by Link
 * next, then reads every page again from the last to the first, the
 * workers' positions forgotten in between (every backward page is one
 * no position is at or below: an OFFSET read), and compares both. The
 * number of pages. */
static int walk_equals_backward(const char *base)
{
    static char *fwd[MAX_PAGES], *back[MAX_PAGES];
    static char fwd_link[MAX_PAGES][2048], back_link[MAX_PAGES][2048];
    char path[2048];
    char sep = strchr(base, '?') != NULL ? '&' : '?';
    /* backwards first: the number of pages from page 1's Link last */
    char link[2048];
    free(get(base, link, sizeof(link)));
    int n = 0;
    ck_assert(h_link_rel(link, "last", path, sizeof(path)));
    const char *p = strstr(path, "page=");
    ck_assert_ptr_nonnull(p);
    n = (int)strtol(p + 5, NULL, 10);
    ck_assert_int_gt(n, 2);
    ck_assert_int_le(n, MAX_PAGES);
    touch(); /* forget page 1's */
    for (int i = n; i >= 1; i--) {
        (void)snprintf(path, sizeof(path), "%s%cpage=%d", base, sep, i);
        back[i - 1] = get(path, back_link[i - 1], sizeof(back_link[0]));
    }
    touch(); /* and the walk's */
    (void)snprintf(path, sizeof(path), "%s%cpage=1", base, sep);
    int pages = 0;
    for (;;) {
        ck_assert_int_lt(pages, n);
        fwd[pages] = get(path, fwd_link[pages], sizeof(fwd_link[0]));
        pages++;
        if (!h_link_rel(fwd_link[pages - 1], "next", path, sizeof(path)))
            break;
    }
    ck_assert_int_eq(pages, n);
    for (int i = 0; i < n; i++) {
        ck_assert_msg(strcmp(fwd[i], back[i]) == 0, "%s page %d differs from its OFFSET read", base,
                      i + 1);
        ck_assert_str_eq(fwd_link[i], back_link[i]);
        free(fwd[i]);
        free(back[i]);
    }
    return n;
}

START_TEST(walk_by_link_next_is_exact)
{
    int pages = walk_equals_backward("/api/Tracks?results_per_page=50");
    pages += walk_equals_backward("/api/Genres/1/tracks?results_per_page=100&depth=0");
    pages += walk_equals_backward("/api/Artists?results_per_page=10");
    /* each worker's first page after the change finds nothing, and page 1
     * needs nothing; every other page of the walks seeks (the backward
     * reads never can) */
    long long seeks = seeks_of_workers();
    ck_assert_msg(seeks >= pages - 3 * 3 && seeks <= pages, "%lld seeks over %d pages", seeks,
                  pages);
}
END_TEST

START_TEST(uncounted_walk_is_exact)
{
    /* count=none: no last link; the walk ends where no row follows */
    char path[256] = "/api/Tracks?count=none&results_per_page=100&depth=0&page=1";
    char link[2048];
    char *bodies[MAX_PAGES];
    int n = 0;
    for (;;) {
        ck_assert_int_lt(n, MAX_PAGES);
        bodies[n++] = get(path, link, sizeof(link));
        if (!h_link_rel(link, "next", path, sizeof(path)))
            break;
    }
    ck_assert_int_eq(n, 36); /* 3,503 tracks */
    touch();
    for (int i = n; i >= 1; i--) {
        (void)snprintf(path, sizeof(path),
                       "/api/Tracks?count=none&results_per_page=100&depth=0&page=%d", i);
        char *b = get(path, link, sizeof(link));
        ck_assert_msg(strcmp(b, bodies[i - 1]) == 0, "uncounted page %d differs", i);
        free(b);
        free(bodies[i - 1]);
    }
    ck_assert_int_ge(seeks_of_workers(), n - 3);
}
END_TEST

/* The ArtistIds SQLite gives for `ORDER BY ArtistId LIMIT 10 OFFSET
 * offset` of the file now, into ids; their number. *count gets the
 * artists' COUNT(*). */
static int sqlite_page(long long offset, long long ids[10], long long *count)
{
    sqlite3 *s = NULL;
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_open_v2(db, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(s,
                                        "SELECT ArtistId, (SELECT COUNT(*) FROM artists) "
                                        "FROM artists ORDER BY ArtistId LIMIT 10 OFFSET ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, offset);
    int n = 0;
    while (n < 10 && sqlite3_step(st) == SQLITE_ROW) {
        *count = sqlite3_column_int64(st, 1);
        ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(s);
    return n;
}

/* Page `page` of Artists (10 a page) holds the artists SQLite pages there,
 * and counts them as SQLite does (a count the workers remember per data
 * version: a stale one fails here). */
static void page_is_sqlites(int page)
{
    char path[128], link[2048];
    (void)snprintf(path, sizeof(path), "/api/Artists?depth=0&page=%d", page);
    char *body = get(path, link, sizeof(link));
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    ck_assert_ptr_nonnull(j);
    json_t *objects = json_object_get(j, "objects");
    long long ids[10], count = -1;
    int n = sqlite_page((long long)(page - 1) * 10, ids, &count);
    ck_assert_uint_eq(json_array_size(objects), (size_t)n);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), count);
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(
            json_integer_value(json_object_get(json_array_get(objects, (size_t)i), "artist_id")),
            ids[i]);
    json_decref(j);
}

/* A search's pages (Artists with an id above 20, walked by page number)
 * count what SQLite counts now: the count a worker remembers for the
 * search's statement is forgotten with any commit. */
static void search_counts_sqlites(int page)
{
    char path[256], link[2048];
    (void)snprintf(path, sizeof(path),
                   "/api/Artists?depth=0&page=%d&q=%%7B%%22filters%%22:%%5B%%7B%%22name%%22:"
                   "%%22artist_id%%22,%%22op%%22:%%22gt%%22,%%22val%%22:20%%7D%%5D%%7D",
                   page);
    char *body = get(path, link, sizeof(link));
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    ck_assert_ptr_nonnull(j);
    long long ids[10], all = -1;
    (void)sqlite_page(0, ids, &all);
    /* the artists up to 20 are never touched here: all of them exist */
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), all - 20);
    json_decref(j);
}

START_TEST(a_change_between_pages_is_in_the_next)
{
    /* both workers remember pages 1 to 6 (each reads some) */
    for (int page = 1; page <= 6; page++) {
        page_is_sqlites(page);
        search_counts_sqlites(page);
    }
    /* artist 25 has no albums: deleting it moves every later artist up one */
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, "DELETE", "/api/Artists/25", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 204);
    h_http_free(&r);
    for (int page = 7; page <= 9; page++) {
        page_is_sqlites(page);
        search_counts_sqlites(page);
    }
    page_is_sqlites(3); /* a page read before: the same place, the rows after 25 */
    page_is_sqlites(4);
    /* another process inserts before the walk's position */
    by_hand("INSERT INTO artists (ArtistId, Name) VALUES (25, 'Back again')");
    for (int page = 10; page <= 12; page++) {
        page_is_sqlites(page);
        search_counts_sqlites(page);
    }
    page_is_sqlites(3);
    page_is_sqlites(4);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pagewalk");
    TCase *tc = tcase_create("pagewalk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, walk_by_link_next_is_exact);
    tcase_add_test(tc, uncounted_walk_is_exact);
    tcase_add_test(tc, a_change_between_pages_is_in_the_next);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
