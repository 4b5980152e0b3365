/* End-to-end reads through the real stack: the edge and two catalog workers
 * over RabbitMQ and the Chinook database, checked against the bytes
 * Flask-Restless 0.17 sent for the same requests (shared/reference). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "run_suite.h"

static int port; /* the edge's, from h_spawn_edge */

static struct proc edge, worker1, worker2;

static void start_stack(const char *service, const char *collections)
{
    static char colls[128];
    (void)snprintf(colls, sizeof(colls), "WARREN_COLLECTIONS=%s", collections);
    const char *extra[] = {colls, "WARREN_CORS_ORIGINS=https://app.example",
                           "WARREN_CACHE_CONTROL=max-age=60", NULL};
    h_spawn_warren(&worker1, WARREN_CATALOG_BIN, "catalog1", 0, service, extra);
    h_spawn_warren(&worker2, WARREN_CATALOG_BIN, "catalog2", 0, service, extra);
    port = h_spawn_edge(&edge, "edge", service, extra);
    ck_assert_msg(h_wait_ready(port, 15000), "the edge did not become ready (see %s)", edge.log);
}

static void walkthrough_setup(void)
{
    start_stack("t_api", "Albums, Artists");
}

static void all_setup(void)
{
    start_stack("t_api_all", "");
}

static void stack_teardown(void)
{
    h_stop(&edge, SIGTERM);
    h_stop(&worker1, SIGTERM);
    h_stop(&worker2, SIGTERM);
}

static json_t *get_json(const char *path, int want_status, struct http_resp *r)
{
    ck_assert_int_eq(h_http(port, "GET", path, NULL, r, 10000), 0);
    ck_assert_msg(r->status == want_status, "GET %s: status %d, want %d: %s", path, r->status,
                  want_status, r->body);
    char ct[128];
    ck_assert(h_header(r, "Content-Type", ct, sizeof(ct)));
    ck_assert_str_eq(ct, "application/json");
    json_error_t err;
    json_t *j = json_loads(r->body, 0, &err);
    ck_assert_msg(j != NULL, "GET %s: not JSON: %s", path, r->body);
    return j;
}

static void assert_reference(const char *path, const char *file)
{
    char ref_path[512];
    (void)snprintf(ref_path, sizeof(ref_path), "%s/%s", h_env("WRT_REFERENCE_DIR"), file);
    size_t ref_len = 0;
    char *ref = h_read_file(ref_path, &ref_len);
    ck_assert_ptr_nonnull(ref);
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", path, NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, ref_len);
    ck_assert_msg(memcmp(r.body, ref, ref_len) == 0, "GET %s differs from %s", path, file);
    free(ref);
    h_http_free(&r);
}

START_TEST(albums_page1_is_flask_restless_bytes)
{
    assert_reference("/api/Albums", "albums_page1.json");
}
END_TEST

START_TEST(album_1_is_flask_restless_bytes)
{
    assert_reference("/api/Albums/1", "album_1.json");
}
END_TEST

START_TEST(albums_link_header)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums", NULL, &r, 10000), 0);
    char link[1024];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    char want[512];
    (void)snprintf(want, sizeof(want),
                   "<http://127.0.0.1:%d/api/Albums?page=2&results_per_page=10>; rel=\"next\", "
                   "<http://127.0.0.1:%d/api/Albums?page=35&results_per_page=10>; rel=\"last\"",
                   port, port);
    ck_assert_str_eq(link, want);
    h_http_free(&r);
}
END_TEST

START_TEST(albums_shape)
{
    struct http_resp r;
    json_t *j = get_json("/api/Albums", 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 347);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total_pages")), 35);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "page")), 1);
    json_t *first = json_array_get(json_object_get(j, "objects"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(first, "title")),
                     "For Those About To Rock We Salute You");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(first, "Artists"), "name")),
                     "AC/DC");
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(last_page_has_seven)
{
    struct http_resp r;
    json_t *j = get_json("/api/Albums?page=35", 200, &r);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 7);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "page")), 35);
    char link[1024];
    ck_assert(h_header(&r, "Link", link, sizeof(link)));
    ck_assert_ptr_null(strstr(link, "rel=\"next\""));
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(page_past_the_last_is_empty)
{
    struct http_resp r;
    json_t *j = get_json("/api/Albums?page=36", 200, &r);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 347);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(results_per_page_is_clamped)
{
    struct http_resp r;
    json_t *j = get_json("/api/Albums?results_per_page=1000", 200, &r);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "objects")), 100);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "total_pages")), 4);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(artist_carries_albums)
{
    struct http_resp r;
    json_t *j = get_json("/api/Artists/1", 200, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "AC/DC");
    json_t *albums = json_object_get(j, "albums");
    ck_assert_uint_eq(json_array_size(albums), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(albums, 1), "album_id")), 4);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

START_TEST(related_albums_paginated)
{
    struct http_resp r;
    json_t *j = get_json("/api/Artists/1/albums", 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "num_results")), 2);
    json_t *o = json_array_get(json_object_get(j, "objects"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "Artists"), "name")),
                     "AC/DC");
    json_decref(j);
    h_http_free(&r);
    j = get_json("/api/Albums/1/Artists", 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "artist_id")), 1);
    json_decref(j);
    h_http_free(&r);
}
END_TEST

/* With the API key: a write method gets past the edge to the worker. */
static void assert_error(const char *method, const char *path, int status, const char *code)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, method, path, H_AUTH, &r, 10000), 0);
    ck_assert_msg(r.status == status, "%s %s: %d, want %d", method, path, r.status, status);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_msg(j != NULL, "%s %s: body is not JSON: %s", method, path, r.body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
    ck_assert(json_string_length(json_object_get(j, "message")) > 0);
    json_decref(j);
    h_http_free(&r);
}

START_TEST(unknown_collection_and_id_are_404)
{
    assert_error("GET", "/api/Nope", 404, "not_found");
    assert_error("GET", "/api/Albums/9999", 404, "not_found");
    assert_error("GET", "/api/Albums/abc", 404, "not_found");
    assert_error("GET", "/api/Albums/1/nope", 404, "not_found");
    assert_error("GET", "/api/Tracks", 404, "not_found"); /* not in COLLECTIONS */
    assert_error("GET", "/nowhere", 404, "not_found");
}
END_TEST

START_TEST(bad_page_values_are_400)
{
    const char *bad[] = {"page=0",
                         "page=-1",
                         "page=abc",
                         "page=1.5",
                         "page=0x10",
                         "page=99999999999",
                         "page=",
                         "results_per_page=0",
                         "results_per_page=-5",
                         "results_per_page=ten",
                         "page=1&page=2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[128];
        (void)snprintf(path, sizeof(path), "/api/Albums?%s", bad[i]);
        assert_error("GET", path, 400, "bad_parameter");
    }
    /* a bad parameter on a method the route takes is a 400 for it too; a
     * method the route does not take is a 405 whatever the parameters */
    assert_error("POST", "/api/Albums?page=0", 400, "bad_parameter");
    assert_error("DELETE", "/api/Albums/1?page=x", 400, "bad_parameter");
    assert_error("POST", "/api/Albums/1?page=0", 405, "method_not_allowed");
}
END_TEST

START_TEST(other_methods_are_405_json)
{
    /* the walkthrough's collections take GET only (no METHODS): the worker
     * refuses a write with 405 and says what is allowed */
    struct http_resp r;
    ck_assert_int_eq(h_http_body(port, "POST", "/api/Albums", "{\"title\":\"x\"}", &r, 10000), 0);
    ck_assert_int_eq(r.status, 405);
    char allow[64];
    ck_assert(h_header(&r, "Allow", allow, sizeof(allow)));
    ck_assert_str_eq(allow, "GET");
    ck_assert_ptr_nonnull(strstr(r.body, "method_not_allowed"));
    h_http_free(&r);
    ck_assert_int_eq(h_http_body(port, "DELETE", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 405);
    ck_assert_ptr_nonnull(strstr(r.body, "method_not_allowed"));
    h_http_free(&r);
    /* methods no route takes: the edge answers, with Allow */
    assert_error("DELETE", "/api/Albums", 405, "method_not_allowed");
    assert_error("POST", "/api/Albums/1/Artists", 405, "method_not_allowed");
    assert_error("POST", "/healthz", 405, "method_not_allowed");
}
END_TEST

START_TEST(request_id_is_kept_or_replaced)
{
    struct http_resp r;
    char id[64];
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1",
                            "X-Request-Id: 0123456789abcdef0123456789abcdef\r\n", &r, 10000),
                     0);
    ck_assert(h_header(&r, "X-Request-Id", id, sizeof(id)));
    ck_assert_str_eq(id, "0123456789abcdef0123456789abcdef");
    h_http_free(&r);
    ck_assert_int_eq(
        h_http(port, "GET", "/api/Albums/1", "X-Request-Id: evil\"value\r\n", &r, 10000), 0);
    ck_assert(h_header(&r, "X-Request-Id", id, sizeof(id)));
    ck_assert_str_ne(id, "evil\"value");
    ck_assert_uint_eq(strlen(id), 32);
    h_http_free(&r);
}
END_TEST

START_TEST(health_and_ready)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(port, "GET", "/healthz", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/readyz", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}
END_TEST

/* With every table served: dates, numbers, composite keys, naming. */
START_TEST(all_tables_types_and_names)
{
    struct http_resp r;
    json_t *j = get_json("/api/Invoices/1", 200, &r);
    ck_assert_str_eq(json_string_value(json_object_get(j, "invoice_date")), "2009-01-01T00:00:00");
    ck_assert(json_real_value(json_object_get(j, "total")) == 1.98);
    ck_assert_ptr_nonnull(strstr(r.body, "\"total\":1.98"));
    ck_assert_ptr_nonnull(json_object_get(j, "Customers"));
    ck_assert_ptr_nonnull(json_object_get(j, "invoice_items"));
    json_decref(j);
    h_http_free(&r);

    j = get_json("/api/InvoiceItems/1", 200, &r);
    ck_assert_ptr_nonnull(strstr(r.body, "\"unit_price\":0.99"));
    json_decref(j);
    h_http_free(&r);

    j = get_json("/api/PlaylistTrack/1,3402", 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "track_id")), 3402);
    json_decref(j);
    h_http_free(&r);

    j = get_json("/api/Employees/2", 200, &r);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "Employees_reports_to"),
                                                        "employee_id")),
                     1);
    ck_assert(json_array_size(json_object_get(j, "employees_reports_to")) > 0);
    json_decref(j);
    h_http_free(&r);

    j = get_json("/api/Employees/1", 200, &r);
    ck_assert(json_is_null(json_object_get(j, "Employees_reports_to")));
    json_decref(j);
    h_http_free(&r);
}
END_TEST

/* HTTP niceties Flask-Restless lacked: HEAD, OPTIONS, ETag and 304,
 * Cache-Control, CORS for the configured origins only. */
START_TEST(head_options_etag_cors)
{
    struct http_resp r;
    char etag[64], value[256];
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert(h_header(&r, "ETag", etag, sizeof(etag)));
    ck_assert(h_header(&r, "Cache-Control", value, sizeof(value)));
    ck_assert_str_eq(value, "max-age=60");
    h_http_free(&r);
    char inm[128];
    (void)snprintf(inm, sizeof(inm), "If-None-Match: %s\r\n", etag);
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", inm, &r, 10000), 0);
    ck_assert_int_eq(r.status, 304);
    ck_assert_uint_eq(r.len, 0);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/2", inm, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200); /* another object, another tag */
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "HEAD", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 0);
    ck_assert(h_header(&r, "ETag", value, sizeof(value)));
    ck_assert_str_eq(value, etag);
    h_http_free(&r);
    ck_assert_int_eq(
        h_http(port, "OPTIONS", "/api/Albums", "Origin: https://app.example\r\n", &r, 10000), 0);
    ck_assert_int_eq(r.status, 204);
    ck_assert(h_header(&r, "Allow", value, sizeof(value)));
    ck_assert_str_eq(value, "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS");
    ck_assert(h_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)));
    ck_assert_str_eq(value, "https://app.example");
    ck_assert(h_header(&r, "Access-Control-Allow-Methods", value, sizeof(value)));
    h_http_free(&r);
    ck_assert_int_eq(
        h_http(port, "GET", "/api/Albums/1", "Origin: https://evil.example\r\n", &r, 10000), 0);
    ck_assert(!h_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)));
    h_http_free(&r);
}
END_TEST

/* How many times header name appears in r (its name, case-insensitive). */
static int header_count(const struct http_resp *r, const char *name)
{
    size_t n = strlen(name);
    int count = 0;
    for (const char *line = strstr(r->headers, "\r\n"); line; line = strstr(line + 2, "\r\n"))
        count += strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':';
    return count;
}

/* A page's script on an allowed origin reads the answers themselves, not
 * only the preflight: every answer to it (a page, an error, a 304) names
 * the origin, says it varies by Origin, and exposes the headers a client
 * of the API needs (Link to page, ETag to revalidate, X-Request-Id to
 * report). Without Expose-Headers a browser hides them from the script. */
START_TEST(cors_on_every_answer)
{
    static const char origin[] = "Origin: https://app.example\r\n";
    struct http_resp r;
    char value[256], etag[64];
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums?page=2", origin, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert(h_header(&r, "ETag", etag, sizeof(etag)));
    h_http_free(&r);
    char revalidate[160];
    (void)snprintf(revalidate, sizeof(revalidate), "%sIf-None-Match: %s\r\n", origin, etag);
    const struct {
        const char *path, *headers;
        int status;
    } asks[] = {{"/api/Albums?page=2", origin, 200},
                {"/api/Nothing", origin, 404},
                {"/api/Albums?page=2", revalidate, 304}};
    for (size_t i = 0; i < sizeof(asks) / sizeof(asks[0]); i++) {
        ck_assert_int_eq(h_http(port, "GET", asks[i].path, asks[i].headers, &r, 10000), 0);
        ck_assert_int_eq(r.status, asks[i].status);
        ck_assert_msg(h_header(&r, "Access-Control-Allow-Origin", value, sizeof(value)) &&
                          strcmp(value, "https://app.example") == 0,
                      "%d: no Access-Control-Allow-Origin", asks[i].status);
        ck_assert_msg(strstr(r.headers, "\r\nVary: Origin\r\n") != NULL, "%d: %s", asks[i].status,
                      r.headers);
        ck_assert(h_header(&r, "Access-Control-Expose-Headers", value, sizeof(value)));
        ck_assert_msg(strstr(value, "Link") && strstr(value, "ETag") &&
                          strstr(value, "X-Request-Id"),
                      "exposed: %s", value);
        h_http_free(&r);
    }
}
END_TEST

/* The edge writes Date and Content-Length itself (libevent would format
 * them per response): each once, the date an IMF-fixdate of now, the
 * length the body's (HEAD: the GET's), none on a 304. */
START_TEST(date_and_length_once)
{
    struct http_resp r;
    char value[128], etag[64], want[128];
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(header_count(&r, "Date"), 1);
    ck_assert_int_eq(header_count(&r, "Content-Length"), 1);
    ck_assert(h_header(&r, "Content-Length", value, sizeof(value)));
    ck_assert_int_eq(strtol(value, NULL, 10), (long)r.len);
    size_t len = r.len;
    ck_assert(h_header(&r, "Date", value, sizeof(value)));
    bool now = false; /* one of the last few seconds, as strftime writes it */
    for (time_t t = time(NULL) - 5; t <= time(NULL) + 1 && !now; t++) {
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
        ck_assert_uint_gt(strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm), 0);
        now = strcmp(value, want) == 0;
    }
    ck_assert_msg(now, "Date: %s", value);
    ck_assert(h_header(&r, "ETag", etag, sizeof(etag)));
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "HEAD", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 0);
    ck_assert_int_eq(header_count(&r, "Date"), 1);
    ck_assert_int_eq(header_count(&r, "Content-Length"), 1);
    ck_assert(h_header(&r, "Content-Length", value, sizeof(value)));
    ck_assert_int_eq(strtol(value, NULL, 10), (long)len);
    h_http_free(&r);
    (void)snprintf(want, sizeof(want), "If-None-Match: %s\r\n", etag);
    ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", want, &r, 10000), 0);
    ck_assert_int_eq(r.status, 304);
    ck_assert_int_eq(header_count(&r, "Date"), 1);
    ck_assert_int_eq(header_count(&r, "Content-Length"), 0);
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/api/Nothing", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(header_count(&r, "Date"), 1);
    ck_assert_int_eq(header_count(&r, "Content-Length"), 1);
    ck_assert(h_header(&r, "Content-Length", value, sizeof(value)));
    ck_assert_int_eq(strtol(value, NULL, 10), (long)r.len);
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *walk = tcase_create("walkthrough");
    tcase_add_unchecked_fixture(walk, walkthrough_setup, stack_teardown);
    tcase_set_timeout(walk, 60);
    tcase_add_test(walk, albums_page1_is_flask_restless_bytes);
    tcase_add_test(walk, album_1_is_flask_restless_bytes);
    tcase_add_test(walk, albums_link_header);
    tcase_add_test(walk, albums_shape);
    tcase_add_test(walk, last_page_has_seven);
    tcase_add_test(walk, page_past_the_last_is_empty);
    tcase_add_test(walk, results_per_page_is_clamped);
    tcase_add_test(walk, artist_carries_albums);
    tcase_add_test(walk, related_albums_paginated);
    tcase_add_test(walk, unknown_collection_and_id_are_404);
    tcase_add_test(walk, bad_page_values_are_400);
    tcase_add_test(walk, other_methods_are_405_json);
    tcase_add_test(walk, request_id_is_kept_or_replaced);
    tcase_add_test(walk, health_and_ready);
    tcase_add_test(walk, head_options_etag_cors);
    tcase_add_test(walk, cors_on_every_answer);
    tcase_add_test(walk, date_and_length_once);
    suite_add_tcase(s, walk);
    TCase *all = tcase_create("all_tables");
    tcase_add_unchecked_fixture(all, all_setup, stack_teardown);
    tcase_set_timeout(all, 60);
    tcase_add_test(all, all_tables_types_and_names);
    suite_add_tcase(s, all);
    return h_verdict(run_suite(s, false));
}
