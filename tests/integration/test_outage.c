/* What clients get when parts are missing: 504 at the deadline when no
 * worker serves the queue, 503 at once (with Retry-After) while the broker
 * is down, and service again once it is back. Stops and restarts the test
 * broker, so ctest runs it after the other integration tests. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

static int port; /* the edge's, from h_spawn_edge */

static struct proc edge, worker;

static void start_edge(void)
{
    const char *extra[] = {"WARREN_REQUEST_TIMEOUT_MS=800", "WARREN_RECONNECT_MAX_MS=500",
                           "WARREN_HEARTBEAT_S=2", NULL};
    port = h_spawn_edge(&edge, "edge-outage", "t_outage", extra);
    ck_assert_msg(h_wait_ready(port, 15000), "edge not ready (see %s)", edge.log);
}

static void start_worker(void)
{
    const char *extra[] = {"WARREN_RECONNECT_MAX_MS=500", "WARREN_HEARTBEAT_S=2", NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-outage", 0, "t_outage", extra);
}

static void teardown(void)
{
    int edge_status = h_stop(&edge, SIGTERM);
    h_stop(&worker, SIGTERM);
    h_servers("start-rabbit"); /* leave the broker as we found it */
    /* a clean exit: under the sanitizers, nothing left behind (no request
     * of a client that left, no call) */
    ck_assert_msg(edge_status == 0, "edge exited %d (see %s)", edge_status, edge.log);
}

static int get_status(const char *path, struct http_resp *r, long long *took_ms)
{
    long long t0 = h_now_ms();
    ck_assert_int_eq(h_http(port, "GET", path, NULL, r, 15000), 0);
    *took_ms = h_now_ms() - t0;
    json_t *j = json_loads(r->body, 0, NULL);
    ck_assert_msg(j != NULL && json_is_string(json_object_get(j, "code")),
                  "error body is not JSON with a code: %s", r->body);
    json_decref(j);
    return r->status;
}

START_TEST(no_worker_answers_504_at_the_deadline)
{
    start_edge();
    struct http_resp r;
    long long took;
    ck_assert_int_eq(get_status("/api/Albums", &r, &took), 504);
    ck_assert_msg(took >= 700 && took < 5000, "504 after %lld ms, deadline 800", took);
    h_http_free(&r);
    /* A worker that starts later does not run the expired request, and
     * serves new ones. */
    start_worker();
    long long end = h_now_ms() + 15000;
    int status = 0;
    while (status != 200 && h_now_ms() < end) {
        ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 5000), 0);
        status = r.status;
        h_http_free(&r);
    }
    ck_assert_int_eq(status, 200);
}
END_TEST

/* One call of the RPC client API for Albums/1: its return, the status in
 * *status. */
static int rpc_call(wr_rpc *rpc, int *status)
{
    struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
    struct wr_reply reply;
    struct wr_err err = {0};
    int rc = wr_rpc_call(rpc, &req, &reply, &err);
    *status = reply.status;
    wr_reply_release(&reply);
    return rc;
}

START_TEST(broker_down_answers_503_then_recovers)
{
    start_edge();
    start_worker();
    /* a C service's long-lived client, made while the broker is up */
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = "t_outage", .timeout_ms = 3000};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
    struct http_resp r;
    long long took = 0;
    ck_assert_int_eq(h_servers("stop-rabbit"), 0);
    /* The edge notices the lost connection at its next read or heartbeat. */
    long long end = h_now_ms() + 10000;
    int status = 0;
    while (status != 503 && h_now_ms() < end) {
        status = get_status("/api/Albums", &r, &took);
        if (status != 503)
            h_http_free(&r);
    }
    ck_assert_int_eq(status, 503);
    ck_assert_msg(took < 1000, "503 took %lld ms", took);
    char retry[16];
    ck_assert(h_header(&r, "Retry-After", retry, sizeof(retry)));
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/readyz", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 503);
    h_http_free(&r);

    int rpc_status = 0;
    int rc = rpc_call(rpc, &rpc_status);
    ck_assert_msg(rc == WR_ECLOSED && rpc_status == 503, "a call with the broker down: %d, %d", rc,
                  rpc_status);

    ck_assert_int_eq(h_servers("start-rabbit"), 0);
    ck_assert_msg(h_wait_ready(port, 20000), "edge did not reconnect (see %s)", edge.log);
    end = h_now_ms() + 20000;
    status = 0;
    while (status != 200 && h_now_ms() < end) {
        ck_assert_int_eq(h_http(port, "GET", "/api/Albums/1", NULL, &r, 5000), 0);
        status = r.status;
        h_http_free(&r);
    }
    ck_assert_msg(status == 200, "no 200 after the broker came back (see %s)", worker.log);
    /* the same client: its next call reopens the connection (rpc.h) */
    rc = rpc_call(rpc, &rpc_status);
    ck_assert_msg(rc == 0 && rpc_status == 200, "the client after the broker came back: %d, %d", rc,
                  rpc_status);
    wr_rpc_free(rpc);
}
END_TEST

/* A request nobody can route (its queue deleted under the edge) comes back
 * through basic.return and answers 503 at once, not at the deadline. */
START_TEST(unroutable_answers_503_at_once)
{
    start_edge();
    ck_assert_int_eq(h_servers_ctl("delete_queue warren.t_outage"), 0);
    struct http_resp r;
    long long took;
    ck_assert_int_eq(get_status("/api/Albums", &r, &took), 503);
    ck_assert_msg(took < 500, "503 took %lld ms", took);
    h_http_free(&r);
}
END_TEST

/* A client that leaves while its request waits costs the edge nothing: the
 * call is forgotten, and the edge keeps serving. */
START_TEST(client_gone_while_waiting)
{
    start_edge();
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(h_http_abandon(port, "/api/Albums"), 0);
    struct http_resp r;
    long long took;
    ck_assert_int_eq(get_status("/api/Albums", &r, &took), 504); /* still no worker */
    h_http_free(&r);
    ck_assert_int_eq(h_http(port, "GET", "/healthz", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("outage");
    TCase *tc = tcase_create("outage");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, no_worker_answers_504_at_the_deadline);
    tcase_add_test(tc, broker_down_answers_503_then_recovers);
    tcase_add_test(tc, unroutable_answers_503_at_once);
    tcase_add_test(tc, client_gone_while_waiting);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
