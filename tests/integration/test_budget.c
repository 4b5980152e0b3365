/* Issue 12's search budget and per-client limits on the real stack: a q
 * whose has / any nest 9 deep is refused at parse (400 search_too_complex),
 * as are more relation filters than SEARCH_MAX_SUBQUERIES; a search within
 * those but over SEARCH_MAX_STEPS is cut (422 search_too_costly); while
 * costly searches run, a plain read is answered 200 (its time printed, not
 * asserted); a client over SEARCH_CONCURRENCY or RATE_LIMIT_RPS gets 429
 * with Retry-After, another client does not, and after the wait it passes. */
#include <check.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"

static int port; /* the edge's, from h_spawn_edge */

static struct proc edge, worker1, worker2;

/* Two workers, as the report had; extra goes to the edge. */
static void start_stack(const char *const *edge_extra)
{
    h_spawn_warren(&worker1, WARREN_CATALOG_BIN, "catalog-budget1", 0, "t_budget", NULL);
    h_spawn_warren(&worker2, WARREN_CATALOG_BIN, "catalog-budget2", 0, "t_budget", NULL);
    port = h_spawn_edge(&edge, "edge-budget", "t_budget", edge_extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void setup(void)
{
    static const char *const extra[] = {"WARREN_SEARCH_CONCURRENCY=2", NULL};
    start_stack(extra);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker1, SIGTERM), 0);
    ck_assert_int_eq(h_stop(&worker2, SIGTERM), 0);
}

/* Albums' filter nesting depth relation filters: tracks any -> Albums has
 * -> tracks any ..., the innermost on a track's name or an album's title
 * (leaf). Into out. */
static void nested_q(char *out, size_t cap, int depth, const char *leaf)
{
    size_t n = (size_t)snprintf(out, cap, "{\"filters\":[");
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(out + n, cap - n, "{\"name\":\"%s\",\"op\":\"%s\",\"val\":",
                              i % 2 == 0 ? "tracks" : "Albums", i % 2 == 0 ? "any" : "has");
    n += (size_t)snprintf(out + n, cap - n, "{\"name\":\"%s\",\"op\":\"==\",\"val\":\"%s\"}",
                          depth % 2 == 1 ? "name" : "title", leaf);
    for (int i = 0; i < depth; i++)
        n += (size_t)snprintf(out + n, cap - n, "}");
    (void)snprintf(out + n, cap - n, "]}");
}

/* GET collection?q=q: the answer's status must be status; its JSON body. */
static json_t *search(const char *collection, const char *q, int status)
{
    char path[8192];
    h_search_path(path, sizeof(path), collection, q, NULL);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 20000), 0);
    ck_assert_msg(r.status == status, "q=%s: %d, want %d: %s", q, r.status, status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", r.body);
    h_http_free(&r);
    return j;
}

static void assert_error(json_t *j, const char *code, const char *names)
{
    const char *c = json_string_value(json_object_get(j, "code"));
    const char *m = json_string_value(json_object_get(j, "message"));
    ck_assert_msg(c != NULL && strcmp(c, code) == 0, "code %s, want %s", c ? c : "-", code);
    ck_assert_msg(m != NULL && strstr(m, names) != NULL, "message \"%s\" does not name %s",
                  m ? m : "-", names);
    json_decref(j);
}

/* A search on Tracks within the relation limits (depth 4, 2 subqueries)
 * whose work explodes: every playlist of every track, every track of those
 * playlists (up to 3,290 each), about 10^8 VM steps. */
static const char costly_q[] =
    "{\"filters\":[{\"name\":\"playlist_track\",\"op\":\"any\",\"val\":{\"name\":\"Playlists\","
    "\"op\":\"has\",\"val\":{\"name\":\"playlist_track\",\"op\":\"any\",\"val\":{\"name\":"
    "\"Tracks\",\"op\":\"has\",\"val\":{\"name\":\"name\",\"op\":\"==\",\"val\":\"zzz\"}}}}}]}";

START_TEST(nine_deep_refused_at_parse)
{
    char q[4096];
    /* the search: 9 deep, refused at once */
    nested_q(q, sizeof(q), 9, "zzz");
    long long t0 = h_now_ms();
    assert_error(search("Albums", q, 400), "search_too_complex", "SEARCH_MAX_RELATION_DEPTH (4)");
    printf("budget: the 9-deep search refused in %lld ms\n", h_now_ms() - t0);
    nested_q(q, sizeof(q), 5, "zzz");
    assert_error(search("Albums", q, 400), "search_too_complex", "SEARCH_MAX_RELATION_DEPTH");
    /* 4 deep is served: albums with a track on an album with a track named
     * so: album 1 (SELECT AlbumId FROM tracks WHERE Name = 'Put The Finger
     * On You' -> 1) */
    nested_q(q, sizeof(q), 3, "Put The Finger On You");
    json_t *j = search("Albums", q, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 1);
    json_decref(j);
    nested_q(q, sizeof(q), 4, "For Those About To Rock We Salute You");
    j = search("Albums", q, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 1);
    json_decref(j);
    /* 17 relation filters side by side: over SEARCH_MAX_SUBQUERIES (16) */
    size_t n = (size_t)snprintf(q, sizeof(q), "{\"filters\":[");
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(q + n, sizeof(q) - n,
                              "%s{\"name\":\"tracks__name\",\"op\":\"!=\",\"val\":\"x%d\"}",
                              i ? "," : "", i);
    (void)snprintf(q + n, sizeof(q) - n, "]}");
    assert_error(search("Albums", q, 400), "search_too_complex", "SEARCH_MAX_SUBQUERIES (16)");
    /* 16 pass: every album with tracks (SELECT COUNT(DISTINCT AlbumId)
     * FROM tracks -> 347) */
    char *cut = strstr(q, ",{\"name\":\"tracks__name\",\"op\":\"!=\",\"val\":\"x16\"}");
    ck_assert_ptr_nonnull(cut);
    (void)snprintf(cut, sizeof(q) - (size_t)(cut - q), "]}");
    j = search("Albums", q, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 347);
    json_decref(j);
}
END_TEST

START_TEST(costly_search_cut_by_steps)
{
    long long t0 = h_now_ms();
    assert_error(search("Tracks", costly_q, 422), "search_too_costly", "SEARCH_MAX_STEPS");
    printf("budget: the costly search cut after %lld ms\n", h_now_ms() - t0);
    /* functions over the same rows: the same budget */
    char path[8192];
    h_search_path(path, sizeof(path), "eval/Tracks",
                  "{\"functions\":[{\"name\":\"count\",\"field\":\"track_id\"}],\"filters\":"
                  "[{\"name\":\"playlist_track\",\"op\":\"any\",\"val\":{\"name\":\"Playlists\","
                  "\"op\":\"has\",\"val\":{\"name\":\"playlist_track\",\"op\":\"any\",\"val\":"
                  "{\"name\":\"Tracks\",\"op\":\"has\",\"val\":{\"name\":\"name\",\"op\":\"==\","
                  "\"val\":\"zzz\"}}}}}]}",
                  NULL);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 20000), 0);
    ck_assert_msg(r.status == 422 && strstr(r.body, "search_too_costly"), "%d %s", r.status,
                  r.body);
    h_http_free(&r);
    /* the worker is sound afterwards, and the budget was the request's */
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    json_t *j = search(
        "Tracks", "{\"filters\":[{\"name\":\"name\",\"op\":\"like\",\"val\":\"%Rock%\"}]}", 200);
    ck_assert_int_gt(json_integer_value(json_object_get(j, "num_results")), 0);
    json_decref(j);
}
END_TEST

/* The decimal number s starts with (0 when none). */
static int number(const char *s)
{
    long v = strtol(s, NULL, 10);
    return v > 0 && v < 1000000 ? (int)v : 0;
}

static int connect_edge(void)
{
    int fd = h_connect(port, 0);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The status of a raw answer ("HTTP/1.1 429 ..."), or 0. */
static int raw_status(const char *all)
{
    return all != NULL && strncmp(all, "HTTP/1.1 ", 9) == 0 ? number(all + 9) : 0;
}

START_TEST(cheap_read_not_starved)
{
    /* four costly searches at once from one client (the four
     * anonymous requests), then a plain read */
    enum { N = 4 };
    char path[8192], req[8400];
    h_search_path(path, sizeof(path), "Tracks", costly_q, NULL);
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = connect_edge();
        ck_assert_int_eq(write(fds[i], req, (size_t)n), n);
    }
    usleep(100 * 1000); /* the searches reach the workers */
    long long t0 = h_now_ms();
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    long long took = h_now_ms() - t0;
    ck_assert_msg(r.status == 200, "the plain read: %d %s", r.status, r.body);
    h_http_free(&r);
    printf("budget: GET /api/Albums/1 during %d costly searches: %d in %lld ms\n", N, 200, took);
    int refused = 0, cut = 0;
    for (int i = 0; i < N; i++) {
        bool closed = false;
        char *all = h_read_until_close(fds[i], 20000, &closed);
        int status = raw_status(all);
        ck_assert_msg(status == 422 || status == 429, "search %d: %s", i, all ? all : "-");
        /* RFC 9110's and RFC 6585's phrases (libevent's: "Client Error") */
        if (status == 429) {
            ck_assert_msg(strstr(all, "rate_limited") && strstr(all, "SEARCH_CONCURRENCY") &&
                              strstr(all, "Retry-After: 1") &&
                              starts(all, "HTTP/1.1 429 Too Many Requests\r\n"),
                          "%s", all);
            refused++;
        } else {
            ck_assert_msg(strstr(all, "search_too_costly") != NULL &&
                              starts(all, "HTTP/1.1 422 Unprocessable Content\r\n"),
                          "%s", all);
            cut++;
        }
        free(all);
        (void)close(fds[i]);
    }
    /* SEARCH_CONCURRENCY 2: two ran (and were cut), two were refused */
    printf("budget: %d searches cut (422), %d refused (429)\n", cut, refused);
    ck_assert_int_ge(refused, 1);
    ck_assert_int_ge(cut, 1);
    ck_assert_int_le(cut, 2);
    /* their places were given back: one more search runs */
    json_t *j = search(
        "Tracks", "{\"filters\":[{\"name\":\"name\",\"op\":\"like\",\"val\":\"%Rock%\"}]}", 200);
    json_decref(j);
    ck_assert_int_eq(h_http(port, "GET", "/metrics", NULL, &r, 10000), 0);
    char want[96];
    (void)snprintf(want, sizeof(want), "warren_edge_rate_limited_total{reason=\"searches\"} %d",
                   refused);
    ck_assert_msg(strstr(r.body, want) != NULL, "no \"%s\" in /metrics", want);
    h_http_free(&r);
}
END_TEST

static void setup_rate(void)
{
    static const char *const extra[] = {"WARREN_RATE_LIMIT_RPS=1", "WARREN_RATE_LIMIT_BURST=3",
                                        "WARREN_SEARCH_CONCURRENCY=2", NULL};
    start_stack(extra);
}

START_TEST(rate_limit_per_client)
{
    /* anonymous, by address: the burst passes, the next is refused; how
     * many pass beyond the burst depends on the time the requests took
     * (one a second), never more */
    struct http_resp r;
    int passed = 0;
    long long t0 = h_now_ms();
    for (;;) {
        ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
        if (r.status != 200)
            break;
        h_http_free(&r);
        passed++;
        ck_assert_int_lt(passed, 100);
    }
    long long took = h_now_ms() - t0;
    ck_assert_msg(r.status == 429, "%d %s", r.status, r.body);
    ck_assert_int_ge(passed, 3);
    ck_assert_int_le(passed, 3 + (int)(took / 1000) + 1);
    char retry[16];
    ck_assert(h_header(&r, "Retry-After", retry, sizeof(retry)));
    int secs = number(retry);
    ck_assert_int_ge(secs, 1);
    ck_assert_msg(strspn(retry, "0123456789") == strlen(retry), "Retry-After: %s", retry);
    ck_assert(strstr(r.body, "\"rate_limited\"") && strstr(r.body, "RATE_LIMIT_RPS"));
    h_http_free(&r);
    printf("budget: %d passed in %lld ms, then 429 with Retry-After: %s\n", passed, took, retry);
    /* X-Forwarded-For is never read: another forwarded address is the same
     * client (trusted, each would be a new client with a whole burst). At
     * most one token can come back meanwhile. */
    int refused = 0;
    static const char *const forwarded[] = {"X-Forwarded-For: 203.0.113.7\r\n",
                                            "X-Forwarded-For: 203.0.113.8\r\n",
                                            "X-Forwarded-For: 198.51.100.9\r\n"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", forwarded[i], &r, 10000), 0);
        refused += r.status == 429;
        h_http_free(&r);
    }
    ck_assert_msg(refused >= 2, "X-Forwarded-For made %d of 3 requests a new client", 3 - refused);
    /* another client (an API key) is apart */
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", H_AUTH, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    /* after the wait it passes again */
    usleep((useconds_t)secs * 1000 * 1000 + 100 * 1000);
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    /* probes and /metrics are never limited */
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(h_http(port, "GET", "/readyz", NULL, &r, 10000), 0);
        ck_assert_int_eq(r.status, 200);
        h_http_free(&r);
    }
    ck_assert_int_eq(h_http(port, "GET", "/metrics", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "warren_edge_rate_limited_total{reason=\"rate\"}") != NULL,
                  "no rate counter in /metrics");
    ck_assert_msg(strstr(r.body, "warren_edge_rate_limited_total{reason=\"rate\"} 0") == NULL,
                  "the 429 was not counted");
    h_http_free(&r);
}
END_TEST

/* One worker with no step budget, so that only the deadline can stop a
 * costly search, behind an edge whose requests have 1.5 s. */
static void setup_deadline(void)
{
    static const char *const worker_extra[] = {"WARREN_SEARCH_MAX_STEPS=0", NULL};
    static const char *const edge_extra[] = {"WARREN_REQUEST_TIMEOUT_MS=1500", NULL};
    h_spawn_warren(&worker1, WARREN_CATALOG_BIN, "catalog-budget-deadline", 0, "t_budget_dl",
                   worker_extra);
    port = h_spawn_edge(&edge, "edge-budget-deadline", "t_budget_dl", edge_extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown_deadline(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker1, SIGTERM), 0);
}

/* No statement outlives its request: the costly search (~10^8 VM steps,
 * many seconds) is answered 504 at the deadline, and the worker's
 * progress handler stops it there, so the one worker serves the next
 * read. Were the statement left running, that read would wait behind it
 * and be a 504 too. */
START_TEST(deadline_cuts_a_running_statement)
{
    json_t *j = search("Tracks", costly_q, 504);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "timeout");
    json_decref(j);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_msg(r.status == 200, "the read after: %d %s", r.status, r.body);
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("budget");
    TCase *t = tcase_create("budget");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, nine_deep_refused_at_parse);
    tcase_add_test(t, costly_search_cut_by_steps);
    tcase_add_test(t, cheap_read_not_starved);
    suite_add_tcase(s, t);
    TCase *rate = tcase_create("rate");
    tcase_add_checked_fixture(rate, setup_rate, teardown);
    tcase_set_timeout(rate, 120);
    tcase_add_test(rate, rate_limit_per_client);
    suite_add_tcase(s, rate);
    TCase *deadline = tcase_create("deadline");
    tcase_add_checked_fixture(deadline, setup_deadline, teardown_deadline);
    tcase_set_timeout(deadline, 120);
    tcase_add_test(deadline, deadline_cuts_a_running_statement);
    suite_add_tcase(s, deadline);
    return h_verdict(run_suite(s, false));
}
