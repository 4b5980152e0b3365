/* Searches (Flask-Restless `q`) end to end, every table served: filters of
 * each kind, nesting, relations, ordering, limit and offset under
 * pagination, `single`, dates, and the 400s of malformed searches. Counts
 * are checked against what sqlite3 answers for the same question on
 * Chinook (the query beside each). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"

static int port; /* the edge's, from h_spawn_edge */

static struct proc edge, worker;

static void setup(void)
{
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-search", 0, "t_search", NULL);
    port = h_spawn_edge(&edge, "edge-search", "t_search", NULL);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

static json_t *search(const char *collection, const char *q, const char *extra, int status,
                      struct http_resp *r)
{
    char path[8192];
    h_search_path(path, sizeof(path), collection, q, extra);
    ck_assert_int_eq(h_http(port, "GET", path, NULL, r, 10000), 0);
    ck_assert_msg(r->status == status, "q=%s: %d, want %d: %s", q, r->status, status, r->body);
    json_t *j = json_loads(r->body, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", r->body);
    return j;
}

static long long num_results(const char *collection, const char *q)
{
    struct http_resp r;
    json_t *j = search(collection, q, NULL, 200, &r);
    long long n = json_integer_value(json_object_get(j, "num_results"));
    json_decref(j);
    h_http_free(&r);
    return n;
}

START_TEST(operators_count_like_sqlite)
{
    /* SELECT COUNT(*) FROM albums WHERE Title LIKE '%Rock%' -> 7 */
    ck_assert_int_eq(num_results("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"like\","
                                           "\"val\":\"%Rock%\"}]}"),
                     7);
    /* ... WHERE ArtistId = 90 -> 21 (Iron Maiden) */
    ck_assert_int_eq(
        num_results("Albums", "{\"filters\":[{\"name\":\"artist_id\",\"op\":\"eq\",\"val\":90}]}"),
        21);
    /* tracks WHERE GenreId IN (1, 2) -> 1297 + 130 */
    ck_assert_int_eq(num_results("Tracks", "{\"filters\":[{\"name\":\"genre_id\",\"op\":\"in\","
                                           "\"val\":[1,2]}]}"),
                     1427);
    /* tracks WHERE Composer IS NULL -> 978 */
    ck_assert_int_eq(num_results("Tracks", "{\"filters\":[{\"name\":\"composer\","
                                           "\"op\":\"is_null\"}]}"),
                     978);
    /* tracks WHERE Milliseconds > 600000 OR Bytes < 100000 -> 261 */
    ck_assert_int_eq(
        num_results("Tracks",
                    "{\"filters\":[{\"or\":[{\"name\":\"milliseconds\",\"op\":\">\","
                    "\"val\":600000},{\"name\":\"bytes\",\"op\":\"lt\",\"val\":100000}]}]}"),
        261);
    /* not: albums WHERE NOT ArtistId = 90 -> 347 - 21 */
    ck_assert_int_eq(num_results("Albums", "{\"filters\":[{\"not\":{\"name\":\"artist_id\","
                                           "\"op\":\"==\",\"val\":90}}]}"),
                     326);
}
END_TEST

START_TEST(relations_and_dates)
{
    /* albums of the artist named AC/DC, through relation__field and has */
    ck_assert_int_eq(num_results("Albums",
                                 "{\"filters\":[{\"name\":\"Artists__name\",\"op\":\"==\","
                                 "\"val\":\"AC/DC\"}]}"),
                     2);
    ck_assert_int_eq(num_results("Albums", "{\"filters\":[{\"name\":\"Artists\",\"op\":\"has\","
                                           "\"val\":{\"name\":\"name\",\"op\":\"like\","
                                           "\"val\":\"Iron%\"}}]}"),
                     21);
    /* artists with any album titled like '%Live%':
     * SELECT COUNT(DISTINCT ArtistId) FROM albums WHERE Title LIKE '%Live%' -> 11 */
    long long n = num_results("Artists", "{\"filters\":[{\"name\":\"albums\",\"op\":\"any\","
                                         "\"val\":{\"name\":\"title\",\"op\":\"like\","
                                         "\"val\":\"%Live%\"}}]}");
    ck_assert_int_eq(n, 11);
    /* invoices WHERE InvoiceDate >= '2010-01-01' AND < '2011-01-01' -> 83 */
    ck_assert_int_eq(num_results("Invoices",
                                 "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\">=\","
                                 "\"val\":\"2010-01-01\"},{\"name\":\"invoice_date\",\"op\":\"<\","
                                 "\"val\":\"2011-01-01T00:00:00\"}]}"),
                     83);
}
END_TEST

START_TEST(order_limit_offset_and_pages)
{
    struct http_resp r;
    const char *q = "{\"order_by\":[{\"field\":\"title\",\"direction\":\"desc\"}],"
                    "\"limit\":25,\"offset\":5}";
    json_t *j = search("Albums", q, "page=3", 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 25);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total_pages")), 3);
    json_t *objects = json_object_get(j, "objects");
    ck_assert_uint_eq(json_array_size(objects), 5);
    char link[4096];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert_ptr_nonnull(strstr(link, "?q=%7B%22order_by"));
    ck_assert_ptr_nonnull(strstr(link, "&page=3&results_per_page=10>; rel=\"last\""));
    /* descending titles */
    const char *a = json_string_value(json_object_get(json_array_get(objects, 0), "title"));
    const char *b = json_string_value(json_object_get(json_array_get(objects, 1), "title"));
    ck_assert_int_ge(strcmp(a, b), 0);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(single_answers_one_object_or_an_error)
{
    struct http_resp r;
    json_t *j = search("Albums",
                       "{\"filters\":[{\"name\":\"album_id\",\"op\":\"==\",\"val\":5}],"
                       "\"single\":true}",
                       NULL, 200, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "title")), "Big Ones");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "Artists"), "name")),
                     "Aerosmith");
    json_decref(j);
    h_http_free(&r);
    j = search("Albums",
               "{\"filters\":[{\"name\":\"album_id\",\"op\":\"==\",\"val\":0}],"
               "\"single\":true}",
               NULL, 404, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "No result found");
    json_decref(j);
    h_http_free(&r);
    j = search("Albums", "{\"single\":true}", NULL, 400, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "message")), "Multiple results found");
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(malformed_searches_are_400)
{
    static const char *const bad[] = {
        "{bad",                                                            /* not JSON */
        "[1,2]",                                                           /* not an object */
        "{\"filters\":[],\"filters\":[]}",                                 /* duplicate key */
        "{\"filters\":[{\"name\":\"nope\",\"op\":\"==\",\"val\":1}]}",     /* unknown field */
        "{\"filters\":[{\"name\":\"title\",\"op\":\"~\",\"val\":1}]}",     /* unknown op */
        "{\"filters\":[{\"name\":\"title\",\"op\":\"==\",\"val\":null}]}", /* use is_null */
        "{\"limit\":-1}",                                                  /* negative */
        "{\"whatever\":1}",                                                /* unknown member */
        "{\"filters\":[{\"name\":\"title\\\"; DROP TABLE albums;--\",\"op\":\"==\",\"val\":1}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_resp r;
        json_t *j = search("Albums", bad[i], NULL, 400, &r);
        ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_parameter");
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")), "q"));
        json_decref(j);
        h_http_free(&r);
    }
    /* SQL metacharacters in a value are matched literally: nothing matches */
    ck_assert_int_eq(num_results("Albums", "{\"filters\":[{\"name\":\"title\",\"op\":\"==\","
                                           "\"val\":\"x' OR '1'='1\"}]}"),
                     0);
}
END_TEST

/* A date that does not exist is refused, as a write refuses it (one rule,
 * model/values.c); a leap day that exists is a date. */
/* A search's offset and a page's offset add up: numbers that would
 * overflow 64 bits are a 400 naming the member (they once wrapped round
 * to albums 1-10 as page 2); the largest accepted ones serve an empty
 * page, which the sanitizer build's worker computes without overflow. */
START_TEST(huge_offsets_never_overflow)
{
    struct http_resp r;
    json_t *j = search("Albums", "{\"offset\":9223372036854775807}", "count=none&page=2", 400, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_parameter");
    ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")), "offset") != NULL, "%s",
                  r.body);
    json_decref(j);
    h_http_free(&r);
    j = search("Albums", "{\"limit\":9223372036854775807,\"offset\":1}", NULL, 400, &r);
    ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")), "limit") != NULL, "%s",
                  r.body);
    json_decref(j);
    h_http_free(&r);
    static const char *const extras[] = {
        "count=none&page=1000000000&results_per_page=1000000000",
        "count=exact&page=1000000000&results_per_page=1000000000",
        "count=none&page=2",
    };
    for (size_t i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
        j = search("Albums", "{\"limit\":9007199254740991,\"offset\":9007199254740991}", extras[i],
                   200, &r);
        ck_assert_msg(json_array_size(json_object_get(j, "objects")) == 0, "%s: %s", extras[i],
                      r.body);
        json_decref(j);
        h_http_free(&r);
    }
    /* a page past 10^9 never reaches a worker */
    j = search("Albums", "{}", "page=1000000001", 400, &r);
    ck_assert_msg(strstr(r.body, "page") != NULL, "%s", r.body);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(impossible_dates_are_400)
{
    static const char *const bad[] = {"2009-02-30", "2009-13-01", "2009-02-28T25:00:00",
                                      "2009-02-29"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char q[256];
        (void)snprintf(q, sizeof(q),
                       "{\"filters\":[{\"name\":\"invoice_date\",\"op\":\">\",\"val\":\"%s\"}]}",
                       bad[i]);
        struct http_resp r;
        json_t *j = search("Invoices", q, NULL, 400, &r);
        ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "bad_parameter");
        ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(j, "message")),
                                     "is not a date (like 2009-01-01T00:00:00)"));
        json_decref(j);
        h_http_free(&r);
    }
    /* SELECT COUNT(*) FROM invoices WHERE InvoiceDate < '2012-02-29 00:00:00' -> 263 */
    ck_assert_int_eq(num_results("Invoices", "{\"filters\":[{\"name\":\"invoice_date\","
                                             "\"op\":\"<\",\"val\":\"2012-02-29\"}]}"),
                     263);
}
END_TEST

/* /api/eval: aggregates over the rows a search's filters leave.
 * SELECT sum(Total), count(InvoiceId) FROM invoices -> 2328.6, 412;
 * ... WHERE BillingCountry = 'USA' -> 523.06 */
START_TEST(functions_aggregate_filtered_rows)
{
    struct http_resp r;
    char path[2048];
    h_search_path(path, sizeof(path), "eval/Invoices",
                  "{\"functions\":[{\"name\":\"sum\",\"field\":\"total\"},{\"name\":"
                  "\"count\",\"field\":\"invoice_id\"}]}",
                  NULL);
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "count__invoice_id")), 412);
    ck_assert(fabs(json_real_value(json_object_get(j, "sum__total")) - 2328.6) < 1e-6);
    ck_assert_ptr_nonnull(strstr(r.body, "{\"count__invoice_id\":412,\"sum__total\":"));
    json_decref(j);
    h_http_free(&r);
    h_search_path(path, sizeof(path), "eval/Invoices",
                  "{\"functions\":[{\"name\":\"sum\",\"field\":\"total\"}],\"filters\":"
                  "[{\"name\":\"billing_country\",\"op\":\"==\",\"val\":\"USA\"}]}",
                  NULL);
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    ck_assert(fabs(json_real_value(json_object_get(j, "sum__total")) - 523.06) < 1e-6);
    json_decref(j);
    h_http_free(&r);
    /* no functions, or no q at all: 400 */
    h_search_path(path, sizeof(path), "eval/Invoices", "{\"filters\":[]}", NULL);
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 400);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/api/eval/Invoices", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 400);
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("search");
    TCase *tc = tcase_create("search");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, operators_count_like_sqlite);
    tcase_add_test(tc, relations_and_dates);
    tcase_add_test(tc, order_limit_offset_and_pages);
    tcase_add_test(tc, single_answers_one_object_or_an_error);
    tcase_add_test(tc, malformed_searches_are_400);
    tcase_add_test(tc, impossible_dates_are_400);
    tcase_add_test(tc, huge_offsets_never_overflow);
    tcase_add_test(tc, functions_aggregate_filtered_rows);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
