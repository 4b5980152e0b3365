/* The RPC client API against a real worker, without the edge: one blocking
 * call, a pipelined batch whose replies come back matched to their
 * requests, and the 504 a call gets when nothing serves its queue. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "warren/rpc.h"
#include "run_suite.h"

static struct proc worker;

static void setup(void)
{
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-rpc", 0, "t_rpc", NULL);
}

static void teardown(void)
{
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0); /* 0: no leak under ASan either */
}

static wr_rpc *client(const char *service, long timeout_ms)
{
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = service, .timeout_ms = timeout_ms};
    struct wr_err err = {0};
    wr_rpc *rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "wr_rpc_new: %s", err.msg);
    return rpc;
}

START_TEST(blocking_call)
{
    wr_rpc *rpc = client("t_rpc", 10000);
    struct wr_request req = {.op = WR_OP_GET, .collection = "Artists", .key = "1"};
    struct wr_reply reply;
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    json_t *j = json_loads(reply.body, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "AC/DC");
    json_decref(j);
    wr_reply_release(&reply);

    struct wr_request list = {.op = WR_OP_LIST, .collection = "Albums", .page = 2};
    ck_assert_int_eq(wr_rpc_call(rpc, &list, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 200);
    ck_assert_ptr_nonnull(reply.link);
    ck_assert_ptr_nonnull(
        strstr(reply.link, "/api/Albums?page=3&results_per_page=10>; rel=\"next\""));
    wr_reply_release(&reply);

    struct wr_request missing = {.op = WR_OP_GET, .collection = "Albums", .key = "100000"};
    ck_assert_int_eq(wr_rpc_call(rpc, &missing, &reply, &err), 0);
    ck_assert_int_eq(reply.status, 404);
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
}
END_TEST

START_TEST(pipelined_calls_are_matched)
{
    enum { N = 300 };
    wr_rpc *rpc = client("t_rpc", 20000);
    static struct wr_request reqs[N];
    static struct wr_reply replies[N];
    static char keys[N][16];
    for (int i = 0; i < N; i++) {
        (void)snprintf(keys[i], sizeof(keys[i]), "%d", i % 347 + 1);
        reqs[i] = (struct wr_request){.op = WR_OP_GET, .collection = "Albums", .key = keys[i]};
    }
    struct wr_err err = {0};
    ck_assert_int_eq(wr_rpc_call_many(rpc, reqs, N, replies, &err), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(replies[i].status, 200);
        json_t *j = json_loads(replies[i].body, 0, NULL);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "album_id")), i % 347 + 1);
        json_decref(j);
        wr_reply_release(&replies[i]);
    }
    wr_rpc_free(rpc);
}
END_TEST

START_TEST(no_worker_times_out)
{
    wr_rpc *rpc = client("t_rpc_nobody", 500);
    struct wr_request req = {.op = WR_OP_GET, .collection = "Albums", .key = "1"};
    struct wr_reply reply;
    struct wr_err err = {0};
    long long t0 = h_now_ms();
    ck_assert_int_eq(wr_rpc_call(rpc, &req, &reply, &err), WR_ETIMEDOUT);
    ck_assert_int_eq(reply.status, 504);
    ck_assert(h_now_ms() - t0 >= 450);
    wr_reply_release(&reply);
    wr_rpc_free(rpc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rpc");
    TCase *tc = tcase_create("rpc");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, blocking_call);
    tcase_add_test(tc, pipelined_calls_are_matched);
    tcase_add_test(tc, no_worker_times_out);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
