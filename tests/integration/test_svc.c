/* The edge's /svc/<service>/<op>[/<id>] route against a service of the
 * test's own: an echo consumer on warren.t-svc-echo, written here with the
 * project's AMQP adapter (common/amqp.h), which answers each request with
 * what it received (the envelope's bytes, the AMQP type, correlation id,
 * x-principal, x-base-url, deadline and expiration) and a header of its own.
 * Checked: the forwarding and the reply copied into HTTP; 404 for a service
 * SERVICES does not list or an op not of its form; 401/403 as for writes;
 * 405 with Allow: GET, HEAD; 400 for a query parameter; 504 when a listed
 * service has no consumer. (503 for a broker that is down is the same code
 * path as /api/'s, tested by test_outage.c.) */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/proto.h"

#define ECHO "t-svc-echo" /* consumed by the echo below */
#define IDLE "t-svc-idle" /* listed, never consumed: its requests time out */
#define TIMEOUT_MS 1500   /* the edge's REQUEST_TIMEOUT_MS */
#define RID "0123456789abcdef0123456789abcdef"

static struct proc edge;
static int port; /* the edge's, from h_spawn_edge */
static wr_amqp *echo_amqp;
static pthread_t echo_thread;
static atomic_bool echo_stop;
static atomic_int echo_served;

/* --- the echo service --- */

static const char *header(const struct wr_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++)
        if (strcmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    return NULL;
}

/* Replies to m: 200 with what arrived, or for op "missing" a 404 of the
 * service's own, as a service's worker would. */
static void echo_reply(const struct wr_msg *m)
{
    json_t *env = json_loadb(m->body, m->len, 0, NULL);
    const char *op = json_string_value(json_object_get(env, "op"));
    bool missing = op != NULL && strcmp(op, "missing") == 0;
    json_t *out =
        json_pack("{s:s%, s:s?, s:s?, s:s?, s:s?, s:b, s:I}", "envelope", m->body, m->len, "type",
                  m->type, "correlation_id", m->correlation_id, "principal",
                  header(m, WR_HDR_PRINCIPAL), "base_url", header(m, WR_HDR_BASE_URL), "deadline",
                  m->deadline_ms > 0, "expiration", (json_int_t)m->expiration_ms);
    char *body = missing ? strdup("{\"code\":\"not_found\",\"message\":\"echo: none\"}")
                         : json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
    struct wr_msg reply = {
        .correlation_id = m->correlation_id,
        .expiration_ms = -1,
        .status = missing ? 404 : 200,
        .hdrs = {{"x-echo", op != NULL ? op : "?"}, {"link", "<x>; rel=\"next\""}},
        .nhdrs = 2,
        .body = body,
        .len = body != NULL ? strlen(body) : 0};
    struct wr_err err = {0};
    /* counted before the reply leaves: a test that reads the count once
     * its answer arrived must see this request in it */
    atomic_fetch_add(&echo_served, 1);
    if (m->reply_to != NULL)
        (void)wr_amqp_publish(echo_amqp, m->reply_to, &reply, false, &err);
    (void)wr_amqp_ack(echo_amqp, m->delivery_tag, false, &err);
    free(body);
    json_decref(out);
    json_decref(env);
}

static void *echo_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&echo_stop)) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        struct wr_err err = {0};
        if (wr_amqp_poll(echo_amqp, 100, &ev, &m, &err) != 0)
            break;
        if (ev == WR_AMQP_DELIVERY)
            echo_reply(&m);
    }
    return NULL;
}

static void echo_start(void)
{
    struct wr_amqp_opts o = {
        .url = h_amqp_url(), .heartbeat_s = 0, .connect_timeout_ms = 5000, .name = "test-echo"};
    struct wr_err err = {0};
    echo_amqp = wr_amqp_new(&o);
    ck_assert_ptr_nonnull(echo_amqp);
    ck_assert_msg(wr_amqp_connect(echo_amqp, &err) == 0, "echo: %s", err.msg);
    ck_assert_msg(wr_amqp_declare_service(echo_amqp, ECHO, &err) == 0, "echo: %s", err.msg);
    ck_assert_msg(wr_amqp_consume(echo_amqp, WR_QUEUE_PREFIX ECHO, false, 16, &err) == 0,
                  "echo: %s", err.msg);
    atomic_store(&echo_stop, false);
    ck_assert_int_eq(pthread_create(&echo_thread, NULL, echo_main, NULL), 0);
}

/* --- fixture --- */

static void setup(void)
{
    echo_start();
    static char timeout[64];
    (void)snprintf(timeout, sizeof(timeout), "WARREN_REQUEST_TIMEOUT_MS=%d", TIMEOUT_MS);
    const char *extra[] = {"WARREN_SERVICES=" ECHO ", " IDLE, timeout, NULL};
    port = h_spawn_edge(&edge, "edge-svc", "t_svc", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    int edge_rc = h_stop(&edge, SIGTERM);
    atomic_store(&echo_stop, true);
    pthread_join(echo_thread, NULL);
    wr_amqp_free(echo_amqp);
    static const char *const queues[] = {ECHO, IDLE, "t_svc"};
    for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
        char cmd[128];
        (void)snprintf(cmd, sizeof(cmd), "delete_queue " WR_QUEUE_PREFIX "%s", queues[i]);
        (void)h_servers_ctl(cmd);
        (void)snprintf(cmd, sizeof(cmd), "delete_queue " WR_QUEUE_PREFIX "%s.write", queues[i]);
        (void)h_servers_ctl(cmd);
    }
    ck_assert_int_eq(edge_rc, 0);
}

/* --- helpers --- */

static void get(const char *method, const char *path, const char *headers, struct http_resp *r)
{
    ck_assert_msg(h_http(port, method, path, headers, r, 15000) == 0, "%s %s: no answer", method,
                  path);
}

/* Asserts r is the JSON error status/code; returns nothing to free. */
static void assert_error(struct http_resp *r, int status, const char *code)
{
    ck_assert_msg(r->status == status, "got %d, want %d: %s", r->status, status, r->body);
    json_t *j = json_loads(r->body, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", r->body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "code")), code);
    json_decref(j);
    h_http_free(r);
}

/* --- tests --- */

/* The request reaches the service as proto v1 with op as type and the id
 * in the envelope, the principal and base URL in headers, the deadline
 * set; the reply's status, body and headers come back as HTTP. */
START_TEST(forwards_and_copies_the_reply)
{
    struct http_resp r;
    get("GET", "/svc/" ECHO "/echo/abc%20d%C3%A9f", H_AUTH "X-Request-Id: " RID "\r\n", &r);
    ck_assert_msg(r.status == 200, "%d: %s", r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    ck_assert_msg(j != NULL, "not JSON: %s", r.body);
    ck_assert_str_eq(json_string_value(json_object_get(j, "envelope")),
                     "{\"id\":\"abc d\\u00e9f\",\"op\":\"echo\",\"v\":1}");
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "echo");
    ck_assert_str_eq(json_string_value(json_object_get(j, "correlation_id")), RID);
    ck_assert_str_eq(json_string_value(json_object_get(j, "principal")), "tests");
    char base[64];
    (void)snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
    ck_assert_str_eq(json_string_value(json_object_get(j, "base_url")), base);
    ck_assert(json_is_true(json_object_get(j, "deadline")));
    json_int_t exp = json_integer_value(json_object_get(j, "expiration"));
    ck_assert_msg(exp > 0 && exp <= TIMEOUT_MS, "expiration %lld", (long long)exp);
    json_decref(j);
    char v[128];
    ck_assert(h_header(&r, "X-Echo", v, sizeof(v)) && strcmp(v, "echo") == 0);
    ck_assert(h_header(&r, "Link", v, sizeof(v)) && strcmp(v, "<x>; rel=\"next\"") == 0);
    ck_assert(h_header(&r, "X-Request-Id", v, sizeof(v)) && strcmp(v, RID) == 0);
    ck_assert(h_header(&r, "Content-Type", v, sizeof(v)) && strcmp(v, "application/json") == 0);
    ck_assert(h_header(&r, "ETag", v, sizeof(v)));
    h_http_free(&r);

    /* no id: none in the envelope; HEAD: the headers and length, no body */
    get("GET", "/svc/" ECHO "/now", H_AUTH, &r);
    ck_assert_int_eq(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "envelope")), "{\"op\":\"now\",\"v\":1}");
    json_decref(j);
    size_t len = r.len;
    h_http_free(&r);
    get("HEAD", "/svc/" ECHO "/now", H_AUTH, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.len, 0);
    ck_assert(h_header(&r, "Content-Length", v, sizeof(v)));
    ck_assert_int_eq(strtol(v, NULL, 10), (long)len);
    h_http_free(&r);
}
END_TEST

/* A service's own status and error body pass through unchanged. */
START_TEST(reply_status_and_body_copied)
{
    struct http_resp r;
    get("GET", "/svc/" ECHO "/missing/42", H_AUTH, &r);
    ck_assert_int_eq(r.status, 404);
    ck_assert_str_eq(r.body, "{\"code\":\"not_found\",\"message\":\"echo: none\"}");
    char v[64];
    ck_assert(h_header(&r, "X-Echo", v, sizeof(v)) && strcmp(v, "missing") == 0);
    h_http_free(&r);
}
END_TEST

/* Only listed services, only ops and ids of their forms: 404, and nothing
 * reaches the echo. */
START_TEST(unlisted_or_malformed_is_404)
{
    int served = atomic_load(&echo_served);
    static const char *const paths[] = {
        "/svc/nope/echo",
        "/svc/t_svc/echo",
        "/svc/catalog/echo",
        "/svc/" ECHO "/Echo",
        "/svc/" ECHO "/echo/1/2",
        "/svc/" ECHO "/echo/",
        "/svc/" ECHO,
        "/svc/" ECHO "/echo/a%2Fb",
        "/svc/" ECHO "/echo/%ff",
        "/svc/nope/echo?page=1",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct http_resp r;
        get("GET", paths[i], H_AUTH, &r);
        assert_error(&r, 404, WR_CODE_NOT_FOUND);
    }
    struct http_resp r;
    get("POST", "/svc/nope/echo", H_AUTH, &r); /* no such route: whatever the method */
    assert_error(&r, 404, WR_CODE_NOT_FOUND);
    ck_assert_int_eq(atomic_load(&echo_served), served);
}
END_TEST

/* A key as for writes: 401 (with WWW-Authenticate) without one, 403 with
 * a wrong one. */
START_TEST(needs_an_api_key)
{
    struct http_resp r;
    get("GET", "/svc/" ECHO "/echo/1", NULL, &r);
    char v[128];
    ck_assert(h_header(&r, "WWW-Authenticate", v, sizeof(v)));
    ck_assert_str_eq(v, "Bearer realm=\"warren\"");
    assert_error(&r, 401, WR_CODE_UNAUTHORIZED);
    get("GET", "/svc/" ECHO "/echo/1", "Authorization: Bearer not-the-key-0123456789\r\n", &r);
    assert_error(&r, 403, WR_CODE_FORBIDDEN);
}
END_TEST

/* GET and HEAD only: 405 with Allow: GET, HEAD, before the key is looked
 * at; OPTIONS answers the methods. */
START_TEST(other_methods_are_405)
{
    static const char *const methods[] = {"POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct http_resp r;
        get(methods[i], "/svc/" ECHO "/echo/1", NULL, &r);
        char v[64];
        ck_assert(h_header(&r, "Allow", v, sizeof(v)));
        ck_assert_str_eq(v, "GET, HEAD");
        assert_error(&r, 405, WR_CODE_METHOD_NOT_ALLOWED);
    }
    struct http_resp r;
    get("OPTIONS", "/svc/" ECHO "/echo/1", NULL, &r);
    ck_assert_int_eq(r.status, 204);
    char v[64];
    ck_assert(h_header(&r, "Allow", v, sizeof(v)));
    ck_assert_str_eq(v, "GET, HEAD");
    h_http_free(&r);
}
END_TEST

/* Any query parameter is a 400 that names it, known elsewhere or not. */
START_TEST(query_parameters_are_400)
{
    static const char *const queries[] = {"page=1", "q=%7B%7D", "x", "id=3"};
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        char path[128], name[16];
        (void)snprintf(path, sizeof(path), "/svc/" ECHO "/echo/1?%s", queries[i]);
        (void)snprintf(name, sizeof(name), "%.*s", (int)strcspn(queries[i], "="), queries[i]);
        struct http_resp r;
        get("GET", path, H_AUTH, &r);
        ck_assert_msg(strstr(r.body, name) != NULL, "%s: %s", path, r.body);
        assert_error(&r, 400, WR_CODE_BAD_PARAMETER);
    }
}
END_TEST

/* A listed service nobody consumes: the request waits in its queue (the
 * edge declared it) and times out. */
START_TEST(no_consumer_is_504)
{
    long long t0 = h_now_ms();
    struct http_resp r;
    get("GET", "/svc/" IDLE "/echo/1", H_AUTH, &r);
    long long took = h_now_ms() - t0;
    assert_error(&r, 504, WR_CODE_TIMEOUT);
    ck_assert_msg(took >= TIMEOUT_MS - 100 && took < TIMEOUT_MS + 3000, "504 after %lld ms", took);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("svc");
    TCase *tc = tcase_create("svc");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, forwards_and_copies_the_reply);
    tcase_add_test(tc, reply_status_and_body_copied);
    tcase_add_test(tc, unlisted_or_malformed_is_404);
    tcase_add_test(tc, needs_an_api_key);
    tcase_add_test(tc, other_methods_are_405);
    tcase_add_test(tc, query_parameters_are_400);
    tcase_add_test(tc, no_consumer_is_504);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
