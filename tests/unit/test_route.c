/* Unit tests for the edge's routing: the paths it serves, percent-decoding
 * and the segments it refuses, and the page/results_per_page parameters. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "route.h"
#include "warren/err.h"
#include "warren/proto.h"
#include "run_suite.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct route r;
static struct wr_err err;

/* Parses into r (releasing what the last parse allocated). */
static int route(const char *path, const char *query)
{
    static bool parsed;
    if (parsed)
        route_release(&r);
    memset(&r, 0x5a, sizeof(r));
    memset(&err, 0, sizeof(err));
    parsed = true;
    return route_parse(path, query, NULL, &r, &err);
}

static void assert_not_found(const char *path)
{
    int rc = route(path, NULL);
    ck_assert_msg(rc == WR_ENOTFOUND, "%s: got %d, want WR_ENOTFOUND", path, rc);
    ck_assert_int_eq(err.code, WR_ENOTFOUND);
}

/* Asserts that query is refused with a message naming param (and, for
 * "page", not only as part of "results_per_page"). */
static void assert_bad_param(const char *query, const char *param)
{
    int rc = route("/api/Albums", query);
    ck_assert_msg(rc == WR_EINVAL, "%s: got %d, want WR_EINVAL", query, rc);
    ck_assert_int_eq(err.code, WR_EINVAL);
    ck_assert_msg(strstr(err.msg, param) != NULL, "%s: message \"%s\" does not name %s", query,
                  err.msg, param);
    if (strcmp(param, "page") == 0)
        ck_assert_msg(strstr(err.msg, "results_per_page") == NULL, "%s: message \"%s\"", query,
                      err.msg);
}

/* --- paths --- */

START_TEST(health_and_ready)
{
    ck_assert_int_eq(route("/healthz", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_HEALTH);
    ck_assert_int_eq(route("/readyz", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_READY);
    assert_not_found("/healthz/");
    assert_not_found("/readyz/x");
    assert_not_found("/health");
    ck_assert_int_eq(route("/metrics", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_METRICS);
    assert_not_found("/metrics/");
    assert_not_found("/metricsx");
}
END_TEST

START_TEST(list)
{
    ck_assert_int_eq(route("/api/Albums", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_API);
    ck_assert_str_eq(r.op, WR_OP_LIST);
    ck_assert_str_eq(r.collection, "Albums");
    ck_assert_str_eq(r.key, "");
    ck_assert_str_eq(r.relation, "");
    ck_assert_int_eq(r.page, 0);
    ck_assert_int_eq(r.per_page, 0);
}
END_TEST

START_TEST(get)
{
    ck_assert_int_eq(route("/api/Albums/1", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_API);
    ck_assert_str_eq(r.op, WR_OP_GET);
    ck_assert_str_eq(r.collection, "Albums");
    ck_assert_str_eq(r.key, "1");
    ck_assert_str_eq(r.relation, "");
    ck_assert_int_eq(route("/api/PlaylistTrack/1,2", NULL), 0);
    ck_assert_str_eq(r.key, "1,2");
}
END_TEST

START_TEST(related)
{
    ck_assert_int_eq(route("/api/Artists/1/albums", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_API);
    ck_assert_str_eq(r.op, WR_OP_RELATED);
    ck_assert_str_eq(r.collection, "Artists");
    ck_assert_str_eq(r.key, "1");
    ck_assert_str_eq(r.relation, "albums");
    ck_assert_str_eq(r.related_key, "");
    /* one related object */
    ck_assert_int_eq(route("/api/Artists/1/albums/4%2C5", NULL), 0);
    ck_assert_str_eq(r.op, WR_OP_RELATED);
    ck_assert_str_eq(r.relation, "albums");
    ck_assert_str_eq(r.related_key, "4,5");
}
END_TEST

START_TEST(segments_percent_decoded)
{
    ck_assert_int_eq(route("/api/My%20Albums/AC%20DC/the%5frel", NULL), 0);
    ck_assert_str_eq(r.collection, "My Albums");
    ck_assert_str_eq(r.key, "AC DC");
    ck_assert_str_eq(r.relation, "the_rel");
    ck_assert_int_eq(route("/api/Albums/%41%62", NULL), 0);
    ck_assert_str_eq(r.key, "Ab");
    /* '+' means itself in a path. */
    ck_assert_int_eq(route("/api/Albums/a+b", NULL), 0);
    ck_assert_str_eq(r.key, "a+b");
    /* Three dots are a name like any other. */
    ck_assert_int_eq(route("/api/Albums/...", NULL), 0);
    ck_assert_str_eq(r.key, "...");
}
END_TEST

START_TEST(refused_segments)
{
    static const char *const paths[] = {
        "/api/Albums/a%2Fb", "/api/Albums/%2f", "/api/Albums%2F1", "/api/Albums/%00",
        "/api/Albums/1%00",  "/api/..",         "/api/Albums/..",  "/api/Albums/.",
        "/api/Albums/1/..",  "/api/%2e%2e",     "/api/Albums/%2E", "/api/Albums/%zz",
        "/api/Albums/%4",    "/api/Albums%4",   "/api/Albums/%",   "/api/Albums/%g1",
    };
    for (size_t i = 0; i < N(paths); i++)
        assert_not_found(paths[i]);
}
END_TEST

START_TEST(refused_shapes)
{
    static const char *const paths[] = {
        "/api/Albums/",
        "/api/Albums/1/",
        "/api/Artists/1/albums/",
        "/api/Artists/1/albums/x/y",
        "/api/Artists/1/albums/x/",
        "/api/Artists/1/albums/%2E%2E",
        "/api/",
        "/api//1",
        "/api/Albums//albums",
        "//api/Albums",
        "/",
        "",
        "/apiAlbums",
        "/API/Albums",
        "/v1/api/Albums",
        "/static/x.js",
    };
    for (size_t i = 0; i < N(paths); i++)
        assert_not_found(paths[i]);
}
END_TEST

/* /api and /api/openapi.json: the catalog, no collection; parameters ignored. */
START_TEST(catalog_routes)
{
    ck_assert_int_eq(route("/api", "page=0&depth=7"), 0);
    ck_assert_str_eq(r.op, WR_OP_COLLECTIONS);
    ck_assert_str_eq(r.collection, "");
    ck_assert_int_eq(r.page, 0);
    ck_assert_int_eq(route("/api/openapi.json", NULL), 0);
    ck_assert_str_eq(r.op, WR_OP_OPENAPI);
    ck_assert_str_eq(r.collection, "");
}
END_TEST

START_TEST(segment_lengths)
{
    char path[2048];
    char name[ROUTE_NAME_MAX + 2];
    memset(name, 'a', sizeof(name));
    name[ROUTE_NAME_MAX] = '\0';
    ck_assert_int_lt(snprintf(path, sizeof(path), "/api/%s", name), (int)sizeof(path));
    ck_assert_int_eq(route(path, NULL), 0);
    ck_assert_uint_eq(strlen(r.collection), ROUTE_NAME_MAX);
    name[ROUTE_NAME_MAX] = 'a';
    name[ROUTE_NAME_MAX + 1] = '\0';
    ck_assert_int_lt(snprintf(path, sizeof(path), "/api/%s", name), (int)sizeof(path));
    assert_not_found(path);

    char key[ROUTE_KEY_MAX + 2];
    memset(key, '7', sizeof(key));
    key[ROUTE_KEY_MAX] = '\0';
    ck_assert_int_lt(snprintf(path, sizeof(path), "/api/Albums/%s", key), (int)sizeof(path));
    ck_assert_int_eq(route(path, NULL), 0);
    ck_assert_uint_eq(strlen(r.key), ROUTE_KEY_MAX);
    key[ROUTE_KEY_MAX] = '7';
    key[ROUTE_KEY_MAX + 1] = '\0';
    ck_assert_int_lt(snprintf(path, sizeof(path), "/api/Albums/%s", key), (int)sizeof(path));
    assert_not_found(path);
}
END_TEST

/* --- parameters --- */

START_TEST(page_parameters)
{
    ck_assert_int_eq(route("/api/Albums", "page=2&results_per_page=10"), 0);
    ck_assert_int_eq(r.page, 2);
    ck_assert_int_eq(r.per_page, 10);
    ck_assert_int_eq(route("/api/Albums", "results_per_page=1"), 0);
    ck_assert_int_eq(r.page, 0);
    ck_assert_int_eq(r.per_page, 1);
    ck_assert_int_eq(route("/api/Albums", "page=1000000000"), 0);
    ck_assert_int_eq(r.page, 1000000000L);
    ck_assert_int_eq(route("/api/Artists/1/albums", "page=3"), 0);
    ck_assert_str_eq(r.op, WR_OP_RELATED);
    ck_assert_int_eq(r.page, 3);
    ck_assert_int_eq(route("/api/Albums", ""), 0);
    ck_assert_int_eq(r.page, 0);
    ck_assert_int_eq(route("/api/Albums", "&&page=4&"), 0);
    ck_assert_int_eq(r.page, 4);
}
END_TEST

START_TEST(bad_page_values)
{
    static const char *const values[] = {"0",    "-1",   "abc", "1.5",         "0x10", "%2B5",
                                         "+5",   "%205", "01",  "99999999999", "",     "1000000001",
                                         "5%20", "1e3",  "%zz", "%00"};
    for (size_t i = 0; i < N(values); i++) {
        char q[64];
        ck_assert_int_lt(snprintf(q, sizeof(q), "page=%s", values[i]), (int)sizeof(q));
        assert_bad_param(q, "page");
        ck_assert_int_lt(snprintf(q, sizeof(q), "results_per_page=%s", values[i]), (int)sizeof(q));
        assert_bad_param(q, "results_per_page");
    }
    assert_bad_param("page", "page");
    assert_bad_param("results_per_page", "results_per_page");
}
END_TEST

START_TEST(given_twice)
{
    assert_bad_param("page=1&page=2", "page");
    assert_bad_param("page=2&results_per_page=5&page=2", "page");
    assert_bad_param("results_per_page=5&results_per_page=5", "results_per_page");
}
END_TEST

START_TEST(search_decoded_and_checked)
{
    ck_assert_int_eq(route("/api/Albums", "q=%7B%22filters%22:%5B%5D%7D&page=2"), 0);
    ck_assert_str_eq(r.q, "{\"filters\":[]}");
    ck_assert_int_eq(r.page, 2);
    ck_assert_int_eq(route("/api/Albums", "q={\"a\":+1}"), 0); /* '+' is a space */
    ck_assert_str_eq(r.q, "{\"a\": 1}");
    static const char *const bad[] = {
        "q=",    "q",     "q={bad", "q=[1]", "q={\"a\":1,\"a\":2}", "q=%7B%7D&q=%7B%7D",
        "q=%00", "q=%zz", "%71=1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(route("/api/Albums", bad[i]) == WR_EINVAL, "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "q"));
        ck_assert_ptr_null(r.q);
    }
    /* /api/eval/<collection> takes nothing after the collection (the
     * fuzzer found /api/eval/x/y taken as a related request without an id) */
    ck_assert_int_eq(route("/api/eval/Invoices", "q=%7B%7D"), 0);
    ck_assert_str_eq(r.op, "functions");
    ck_assert_int_eq(route("/api/eval/Invoices/1", "q=%7B%7D"), WR_ENOTFOUND);
    ck_assert_int_eq(route("/api/eval/Invoices/1/x", "q=%7B%7D"), WR_ENOTFOUND);
    ck_assert_int_eq(route("/api/eval/Invoices", NULL), WR_EINVAL);
    /* a search is of a collection, not of one object */
    ck_assert_int_eq(route("/api/Albums/1", "q=%7B%7D"), WR_EINVAL);
    ck_assert_ptr_null(r.q);
}
END_TEST

START_TEST(unknown_parameters_ignored)
{
    ck_assert_int_eq(route("/api/Albums", "foo=bar&page=2&x&=y&sort=%7A&pages=0"), 0);
    ck_assert_int_eq(r.page, 2);
    ck_assert_int_eq(r.per_page, 0);
    ck_assert_int_eq(route("/api/Albums", "Page=0&PAGE=x&qq=1"), 0);
    ck_assert_int_eq(r.page, 0);
}
END_TEST

/* depth, count and after: checked here, named in every refusal. */
START_TEST(depth_count_after)
{
    ck_assert_int_eq(route("/api/Albums", NULL), 0);
    ck_assert_int_eq(r.depth, -1);
    ck_assert_ptr_null(r.count);
    ck_assert(!r.has_after);
    ck_assert_int_eq(route("/api/Albums", "depth=0&count=none&after=eyJo_-"), 0);
    ck_assert_int_eq(r.depth, 0);
    ck_assert_str_eq(r.count, "none");
    ck_assert(r.has_after);
    ck_assert_str_eq(r.after, "eyJo_-");
    ck_assert_int_eq(route("/api/Albums", "after="), 0);
    ck_assert(r.has_after);
    ck_assert_str_eq(r.after, "");
    ck_assert_int_eq(route("/api/Albums/1", "depth=1"), 0);
    ck_assert_int_eq(r.depth, 1);
    ck_assert_int_eq(route("/api/Albums/1", "depth=2"), 0);
    ck_assert_int_eq(r.depth, 2);
    assert_bad_param("depth=3", "depth");
    assert_bad_param("depth=02", "depth");
    assert_bad_param("depth=", "depth");
    assert_bad_param("depth=-1", "depth");
    assert_bad_param("depth=0&depth=0", "depth");
    ck_assert_int_eq(route("/api/Albums", "count=estimated"), 0);
    ck_assert_str_eq(r.count, "estimated");
    assert_bad_param("count=some", "count");
    assert_bad_param("count=none&count=none", "count");
    assert_bad_param("after=a+b", "after");
    assert_bad_param("after=a%2Fb", "after");
    assert_bad_param("after=a&after=b", "after");
    char big[ROUTE_AFTER_MAX + 16];
    memset(big, 'a', sizeof(big));
    memcpy(big, "after=", 6);
    big[6 + ROUTE_AFTER_MAX + 1] = '\0';
    assert_bad_param(big, "after");
    big[6 + ROUTE_AFTER_MAX] = '\0';
    ck_assert_int_eq(route("/api/Albums", big), 0);
    /* a cursor pages a list, not an object */
    ck_assert_int_eq(route("/api/Albums/1", "after=abc"), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "after"));
    /* before: the same text, never empty, never with after */
    ck_assert_int_eq(route("/api/Albums", "before=eyJo_-"), 0);
    ck_assert(r.has_before && !r.has_after);
    ck_assert_str_eq(r.before, "eyJo_-");
    assert_bad_param("before=", "before");
    assert_bad_param("before=a+b", "before");
    assert_bad_param("before=a&before=b", "before");
    assert_bad_param("before=abc&after=abd", "after and before");
    ck_assert_int_eq(route("/api/Albums/1", "before=abc"), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "before"));
}
END_TEST

/* fields: decoded text the worker judges; empty, malformed, twice or on
 * /api/eval is a 400 naming it. */
START_TEST(fields_parameter)
{
    ck_assert_int_eq(route("/api/Albums", NULL), 0);
    ck_assert(!r.has_fields);
    ck_assert_int_eq(route("/api/Albums", "fields=title,Artists.name"), 0);
    ck_assert(r.has_fields);
    ck_assert_str_eq(r.fields, "title,Artists.name");
    ck_assert_int_eq(route("/api/Albums/1/tracks", "fields=name%2Cmilliseconds+"), 0);
    ck_assert_str_eq(r.fields, "name,milliseconds ");
    assert_bad_param("fields=", "fields");
    assert_bad_param("fields=,%20,", "fields");
    assert_bad_param("fields=a&fields=b", "fields");
    assert_bad_param("fields=a%00b", "fields");
    assert_bad_param("fields=%FF", "fields");
    char big[ROUTE_FIELDS_MAX + 16];
    memset(big, 'a', sizeof(big));
    memcpy(big, "fields=", 7);
    big[7 + ROUTE_FIELDS_MAX + 1] = '\0';
    assert_bad_param(big, "fields");
    big[7 + ROUTE_FIELDS_MAX] = '\0';
    ck_assert_int_eq(route("/api/Albums", big), 0);
    ck_assert_int_eq(route("/api/eval/Albums", "q=%7B%7D&fields=title"), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "fields"));
}
END_TEST

/* /api/_batch: its own op, no collection, parameters ignored; nothing
 * below it. */
START_TEST(batch_route)
{
    ck_assert_int_eq(route("/api/_batch", "page=0&x=1"), 0);
    ck_assert_int_eq(r.kind, ROUTE_API);
    ck_assert_str_eq(r.op, WR_OP_BATCH);
    ck_assert_str_eq(r.collection, "");
    assert_not_found("/api/_batch/1");
    assert_not_found("/api/_batch/");
    assert_not_found("/api/eval/_batch");
    ck_assert_int_eq(route("/api/%5Fbatch", NULL), 0); /* the same name, escaped */
    ck_assert_str_eq(r.op, WR_OP_BATCH);
    /* another name that starts with '_' is a collection's (none has one) */
    ck_assert_int_eq(route("/api/_batches", NULL), 0);
    ck_assert_str_eq(r.op, WR_OP_LIST);
}
END_TEST

static struct route_prefer prefer(const char *a, const char *b)
{
    struct route_prefer p = {0};
    route_prefer_parse(a, &p);
    route_prefer_parse(b, &p);
    return p;
}

/* Prefer (RFC 7240): the words PostgREST uses, any case and spacing,
 * parameters and unknown preferences ignored, the last one winning. */
START_TEST(prefer_header)
{
    struct route_prefer p = prefer(NULL, NULL);
    ck_assert_ptr_null(p.ret);
    ck_assert_ptr_null(p.resolution);
    p = prefer("return=minimal", NULL);
    ck_assert_str_eq(p.ret, "minimal");
    ck_assert_ptr_null(p.resolution);
    p = prefer("Resolution = \"Merge-Duplicates\" ; x=1, respond-async,RETURN=minimal", NULL);
    ck_assert_str_eq(p.ret, "minimal");
    ck_assert_str_eq(p.resolution, "merge-duplicates");
    p = prefer("return=minimal", "return=representation");
    ck_assert_str_eq(p.ret, "representation");
    static const char *const ignored[] = {"",
                                          ",,;",
                                          "return",
                                          "return=",
                                          "return=other",
                                          "returns=minimal",
                                          "minimal",
                                          "resolution=ignore-duplicates",
                                          "=minimal",
                                          "return;=minimal"};
    for (size_t i = 0; i < N(ignored); i++) {
        p = prefer(ignored[i], NULL);
        ck_assert_msg(p.ret == NULL && p.resolution == NULL, "%s", ignored[i]);
    }
}
END_TEST

/* Ignored, but not when they are not text: a bad escape, a NUL or invalid
 * UTF-8 anywhere in the query is a 400. */
START_TEST(malformed_parameters_refused)
{
    static const char *const bad[] = {"sort=%zz",    "sort=%00",    "sort=%FF",
                                      "x%00=1",      "%FF=1",       "sort=%C0%AF",
                                      "a=%ED%A0%80", "sort=%E2%82", "a=\xff"};
    for (size_t i = 0; i < N(bad); i++)
        ck_assert_msg(route("/api/Albums", bad[i]) == WR_EINVAL, "accepted %s", bad[i]);
    ck_assert_int_eq(route("/api/Albums", "sort=%E2%82%AC&name=%F0%9F%98%80"), 0);
}
END_TEST

START_TEST(paths_must_be_utf8)
{
    static const char *const bad[] = {"/api/Albums/%FF", "/api/Albums/\xff", "/api/%C0%AF",
                                      "/api/Albums/1/%ED%A0%80"};
    for (size_t i = 0; i < N(bad); i++) {
        assert_not_found(bad[i]);
        ck_assert_ptr_nonnull(strstr(err.msg, "UTF-8"));
    }
    ck_assert_int_eq(route("/api/Albums/%E2%82%AC", NULL), 0);
    ck_assert_str_eq(r.key, "\xE2\x82\xAC");
}
END_TEST

/* q's limits: nesting (default 16) and in / not_in lists (default 500). */
START_TEST(search_limits)
{
    char q[4096];
    size_t n = 0;
    n += (size_t)snprintf(q + n, sizeof(q) - n, "q={\"a\":");
    for (int i = 0; i < 15; i++)
        q[n++] = '[';
    for (int i = 0; i < 15; i++)
        q[n++] = ']';
    (void)snprintf(q + n, sizeof(q) - n, "}");
    ck_assert_int_eq(route("/api/Albums", q), 0); /* 16 deep */
    struct route_limits lim = {.max_depth = 15};
    route_release(&r);
    ck_assert_int_eq(route_parse("/api/Albums", q, &lim, &r, &err), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "deeper than 15"));
    /* brackets inside strings do not count */
    ck_assert_int_eq(route("/api/Albums", "q={\"a\":\"[[[[[[[[[[[[[[[[[[[[[[\"}"), 0);
    char in[4096];
    n = (size_t)snprintf(in, sizeof(in),
                         "q={\"filters\":[{\"or\":[{\"name\":\"a\",\"op\":"
                         "\"not_in\",\"val\":[");
    for (int i = 0; i < 501; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, i ? ",%d" : "%d", i % 10);
    (void)snprintf(in + n, sizeof(in) - n, "]}]}]}");
    ck_assert_int_eq(route("/api/Albums", in), WR_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "501 values"));
    struct route_limits big = {.max_in = 501};
    route_release(&r);
    ck_assert_int_eq(route_parse("/api/Albums", in, &big, &r, &err), 0);
}
END_TEST

START_TEST(json_depth)
{
    ck_assert_int_eq(route_json_depth("1", 1), 0);
    ck_assert_int_eq(route_json_depth("{}", 2), 1);
    ck_assert_int_eq(route_json_depth("[{},[[]]]", 9), 3);
    ck_assert_int_eq(route_json_depth("[\"\\\"[[\"]", 8), 1); /* ["\"[["] */
}
END_TEST

START_TEST(query_decoded)
{
    ck_assert_int_eq(route("/api/Albums", "page=%32&results_per_page=1%30"), 0);
    ck_assert_int_eq(r.page, 2);
    ck_assert_int_eq(r.per_page, 10);
    ck_assert_int_eq(route("/api/Albums", "p%61ge=3&results%5Fper%5fpage=7"), 0);
    ck_assert_int_eq(r.page, 3);
    ck_assert_int_eq(r.per_page, 7);
    /* '+' is a space in a query: a name with one is another parameter. */
    ck_assert_int_eq(route("/api/Albums", "page+=0&+page=0"), 0);
    ck_assert_int_eq(r.page, 0);
    assert_bad_param("page=+5", "page");
}
END_TEST

/* --- /svc/<service>/<op>[/<id>] --- */

START_TEST(service_routes)
{
    ck_assert_int_eq(route("/svc/auditlog/records/0123abcd", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_SVC);
    ck_assert_str_eq(r.service, "auditlog");
    ck_assert_str_eq(r.svc_op, "records");
    ck_assert_ptr_eq(r.op, r.svc_op);
    ck_assert_str_eq(r.key, "0123abcd");
    ck_assert_str_eq(r.collection, "");
    ck_assert_str_eq(r.relation, "");
    ck_assert_ptr_null(r.q);
    /* without an id; names at their longest; the id percent-decoded */
    ck_assert_int_eq(route("/svc/time-2/now", ""), 0);
    ck_assert_str_eq(r.service, "time-2");
    ck_assert_str_eq(r.op, "now");
    ck_assert_str_eq(r.key, "");
    ck_assert_int_eq(route("/svc/abcdefghijabcdefghijabcdefghijab/op_9_abcdefghijabcdefghijabcdefg/"
                           "a%20b%2Cc%C3%A9",
                           NULL),
                     0);
    ck_assert_uint_eq(strlen(r.service), ROUTE_SERVICE_MAX);
    ck_assert_uint_eq(strlen(r.op), ROUTE_OP_MAX);
    ck_assert_str_eq(r.key, "a b,c\xc3\xa9");
    /* an /api/ path of the same shape is the catalog's */
    ck_assert_int_eq(route("/api/svc/x", NULL), 0);
    ck_assert_int_eq(r.kind, ROUTE_API);
}
END_TEST

/* A service or op not of its form, a missing op, a segment too many, a
 * trailing slash, a bad id: 404, never another route. */
START_TEST(service_routes_refused)
{
    static const char *const paths[] = {
        "/svc",
        "/svc/",
        "/svc/auditlog",
        "/svc/auditlog/",
        "/svc/auditlog/records/",
        "/svc/auditlog/records/1/2",
        "/svc/Auditlog/records",
        "/svc/audit_log/records",
        "/svc/9x/records",
        "/svc/-x/records",
        "/svc/abcdefghijabcdefghijabcdefghijabc/records", /* 33 */
        "/svc/auditlog/Records",
        "/svc/auditlog/re-cords",
        "/svc/auditlog/9records",
        "/svc/auditlog/abcdefghijabcdefghijabcdefghijabc", /* 33 */
        "/svc/auditlog/records/..",
        "/svc/auditlog/records/%00",
        "/svc/auditlog/records/%ff",
        "/svc/auditlog/records/%zz",
        "/svc/auditlog/records/a%2Fb",
        "/svc//records",
    };
    for (size_t i = 0; i < N(paths); i++)
        assert_not_found(paths[i]);
    char path[2048], id[ROUTE_KEY_MAX + 2];
    memset(id, 'k', sizeof(id));
    id[ROUTE_KEY_MAX] = '\0';
    ck_assert_int_lt(snprintf(path, sizeof(path), "/svc/a/b/%s", id), (int)sizeof(path));
    ck_assert_int_eq(route(path, NULL), 0);
    id[ROUTE_KEY_MAX] = 'k';
    id[ROUTE_KEY_MAX + 1] = '\0';
    ck_assert_int_lt(snprintf(path, sizeof(path), "/svc/a/b/%s", id), (int)sizeof(path));
    assert_not_found(path);
}
END_TEST

/* Any query parameter is a 400 naming it; the route is still set, so the
 * method can be judged first. */
START_TEST(service_routes_take_no_parameters)
{
    static const struct {
        const char *query, *named;
    } cases[] = {
        {"page=1", "page:"}, {"&&x", "x:"},    {"q=%7B%7D", "q:"},
        {"p%61ge", "page:"}, {"=1", "query:"}, {"%ff=1", "query:"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        int rc = route("/svc/auditlog/records/1", cases[i].query);
        ck_assert_msg(rc == WR_EINVAL, "%s: got %d", cases[i].query, rc);
        ck_assert_msg(strncmp(err.msg, cases[i].named, strlen(cases[i].named)) == 0, "%s: %s",
                      cases[i].query, err.msg);
        ck_assert_int_eq(r.kind, ROUTE_SVC);
        ck_assert_str_eq(r.service, "auditlog");
        ck_assert_str_eq(r.op, "records");
        ck_assert_ptr_null(r.q);
    }
    ck_assert_int_eq(route("/svc/auditlog/records/1", "&"), 0); /* no parameter in it */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("route");
    TCase *paths = tcase_create("paths");
    tcase_add_test(paths, health_and_ready);
    tcase_add_test(paths, list);
    tcase_add_test(paths, get);
    tcase_add_test(paths, related);
    tcase_add_test(paths, segments_percent_decoded);
    tcase_add_test(paths, refused_segments);
    tcase_add_test(paths, refused_shapes);
    tcase_add_test(paths, segment_lengths);
    tcase_add_test(paths, catalog_routes);
    tcase_add_test(paths, service_routes);
    tcase_add_test(paths, service_routes_refused);
    tcase_add_test(paths, service_routes_take_no_parameters);
    suite_add_tcase(s, paths);

    TCase *params = tcase_create("parameters");
    tcase_add_test(params, page_parameters);
    tcase_add_test(params, bad_page_values);
    tcase_add_test(params, given_twice);
    tcase_add_test(params, search_decoded_and_checked);
    tcase_add_test(params, unknown_parameters_ignored);
    tcase_add_test(params, query_decoded);
    tcase_add_test(params, depth_count_after);
    tcase_add_test(params, fields_parameter);
    tcase_add_test(params, batch_route);
    tcase_add_test(params, prefer_header);
    tcase_add_test(params, malformed_parameters_refused);
    tcase_add_test(params, search_limits);
    tcase_add_test(params, json_depth);
    tcase_add_test(paths, paths_must_be_utf8);
    suite_add_tcase(s, params);

    return run_suite(s, true);
}
