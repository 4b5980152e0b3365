/* How a service's workers share its queue (YIELD_AFTER_MS, README "Adding
 * workers"), against the real broker and two real workers, watched on each
 * one's /metrics: the oldest takes every request while it keeps up and the
 * other waits as a spare; under a load one cannot carry, each falls behind,
 * yields its place and they take turns; with 0, they take turns always. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

#define SERVICE "t_ranks"
#define DELIVERIES "warren_worker_deliveries_total{queue=\"" WR_QUEUE_PREFIX SERVICE "\"}"
#define YIELDS "warren_worker_yields_total"

static struct proc workers[2];
static int admin[2];
static wr_rpc *rpc;

static void teardown(void)
{
    wr_rpc_free(rpc);
    rpc = NULL;
    for (int i = 0; i < 2; i++)
        if (workers[i].pid > 0)
            h_stop(&workers[i], SIGTERM);
}

/* Worker i with its own admin port and the extra setting (or NULL),
 * consuming before this returns: worker 0 is the older. */
static void start(int i, const char *setting)
{
    static char env_admin[2][64];
    admin[i] = h_free_port();
    (void)snprintf(env_admin[i], sizeof(env_admin[i]), "WARREN_ADMIN_PORT=%d", admin[i]);
    /* no memory cache: every search costs its query */
    const char *extra[] = {env_admin[i], "WARREN_COLLECTIONS=Albums, Tracks",
                           "WARREN_LOCAL_CACHE_MAX_BYTES=0", setting, NULL};
    char tag[32];
    (void)snprintf(tag, sizeof(tag), "catalog-ranks-%d", i);
    h_spawn_warren(&workers[i], WARREN_CATALOG_BIN, tag, 0, SERVICE, extra);
    ck_assert_msg(h_wait_ready(admin[i], 20000), "worker %d not ready (see %s)", i, workers[i].log);
}

/* Both workers, the queue empty, and an RPC client. */
static void start_both(const char *setting)
{
    (void)h_servers_ctl("purge_queue " WR_QUEUE_PREFIX SERVICE);
    start(0, setting);
    start(1, setting);
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = SERVICE, .timeout_ms = 60000};
    struct wr_err err = {0};
    rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
}

/* n GET /api/Albums/<k> one after another; asserts each 200. */
static void calls(int n)
{
    for (int i = 0; i < n; i++)
        h_rpc_get_album(rpc, 1 + i % 300);
}

/* rounds of 64 costly searches at once (a like over every track, sorted),
 * more than one worker answers in 20 ms of CPU; asserts each 200. */
static void costly_rounds(int rounds)
{
    enum { N = 64 };
    static const char q[] = "{\"filters\":[{\"name\":\"name\",\"op\":\"like\",\"val\":\"%e%\"}],"
                            "\"order_by\":[{\"field\":\"name\"}]}";
    struct wr_request reqs[N];
    struct wr_reply replies[N];
    for (int i = 0; i < N; i++)
        reqs[i] = (struct wr_request){
            .op = WR_OP_LIST, .collection = "Tracks", .q = q, .page = 1 + i % 8};
    for (int r = 0; r < rounds; r++) {
        struct wr_err err = {0};
        ck_assert_msg(wr_rpc_call_many(rpc, reqs, N, replies, &err) == 0, "%s", err.msg);
        for (int i = 0; i < N; i++) {
            ck_assert_int_eq(replies[i].status, 200);
            wr_reply_release(&replies[i]);
        }
    }
}

static long long deliveries(int i)
{
    return h_port_metric(admin[i], DELIVERIES);
}

/* While it keeps up, the older worker takes every request and the younger
 * one none; once the older stops, the younger takes them all. */
START_TEST(the_oldest_worker_takes_the_requests)
{
    start_both(NULL);
    calls(200);
    ck_assert_int_eq(deliveries(0), 200);
    ck_assert_int_eq(deliveries(1), 0);
    ck_assert_int_eq(h_port_metric(admin[0], YIELDS), 0);
    ck_assert_int_eq(h_stop(&workers[0], SIGTERM), 0);
    calls(50);
    ck_assert_int_eq(deliveries(1), 50);
}
END_TEST

/* Rounds of work one worker takes more than YIELD_AFTER_MS to answer: the
 * older falls behind and yields, then the younger, and from then on they
 * take turns, so the younger answers a fair share. */
START_TEST(a_worker_behind_yields_its_place)
{
    start_both(NULL);
    costly_rounds(8);
    long long first = deliveries(0), second = deliveries(1);
    ck_assert_int_eq(first + second, 8 * 64);
    ck_assert_int_ge(h_port_metric(admin[0], YIELDS), 1);
    ck_assert_int_ge(h_port_metric(admin[1], YIELDS), 1);
    ck_assert_msg(second >= 8 * 64 / 5, "the younger worker answered %lld of %d", second, 8 * 64);
}
END_TEST

/* YIELD_AFTER_MS=0: no ranks; the broker gives requests to each in turn. */
START_TEST(zero_takes_turns)
{
    start_both("WARREN_YIELD_AFTER_MS=0");
    calls(200);
    long long first = deliveries(0), second = deliveries(1);
    ck_assert_int_eq(first + second, 200);
    ck_assert_msg(first >= 60 && second >= 60, "turns: %lld and %lld", first, second);
    ck_assert_int_eq(h_port_metric(admin[0], YIELDS), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ranks");
    TCase *tc = tcase_create("ranks");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, the_oldest_worker_takes_the_requests);
    tcase_add_test(tc, a_worker_behind_yields_its_place);
    tcase_add_test(tc, zero_takes_turns);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
