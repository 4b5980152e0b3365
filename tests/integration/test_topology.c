/* The topology against a real RabbitMQ: declaring it twice is harmless, and
 * a queue that an operator declared with other arguments is refused with a
 * message naming the queue, what warren declares and the broker's
 * PRECONDITION_FAILED reason (every process would otherwise retry it
 * forever, unexplained). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/proto.h"

#define SVC "t_topology"
#define OTHER "t_topology_other"

static wr_amqp *connect_broker(void)
{
    struct wr_amqp_opts o = {
        .url = h_amqp_url(), .heartbeat_s = 0, .connect_timeout_ms = 5000, .name = "test-topo"};
    struct wr_err err = {0};
    wr_amqp *a = wr_amqp_new(&o);
    ck_assert_ptr_nonnull(a);
    ck_assert_msg(wr_amqp_connect(a, &err) == 0, "connect: %s", err.msg);
    return a;
}

static void teardown(void)
{
    (void)h_servers_ctl("delete_queue " WR_QUEUE_PREFIX SVC);
    (void)h_servers_ctl("delete_queue " WR_QUEUE_PREFIX SVC WR_QUEUE_WRITE_SUFFIX);
    (void)h_servers_ctl("delete_queue " WR_QUEUE_PREFIX OTHER);
    (void)h_servers_ctl("delete_queue " WR_QUEUE_PREFIX OTHER WR_QUEUE_WRITE_SUFFIX);
}

START_TEST(declared_twice_alike)
{
    wr_amqp *a = connect_broker();
    struct wr_err err = {0};
    ck_assert_msg(wr_amqp_declare_service(a, SVC, &err) == 0, "%s", err.msg);
    ck_assert_msg(wr_amqp_declare_service(a, SVC, &err) == 0, "%s", err.msg);
    wr_amqp_free(a);
}
END_TEST

START_TEST(other_arguments_are_named)
{
    /* What an operator might do: the service's queue declared first, as
     * something else (a stream here: another x-queue-type). */
    wr_amqp *a = connect_broker();
    struct wr_err err = {0};
    ck_assert_msg(wr_amqp_declare_stream(a, WR_QUEUE_PREFIX OTHER, 1 << 20, "", &err) == 0, "%s",
                  err.msg);
    int rc = wr_amqp_declare_service(a, OTHER, &err);
    ck_assert_int_eq(rc, WR_ECLOSED);
    ck_assert_msg(strstr(err.msg, "queue " WR_QUEUE_PREFIX OTHER " exists with other arguments") !=
                      NULL,
                  "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "x-queue-type=quorum x-delivery-limit=5") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "PRECONDITION_FAILED") != NULL, "%s", err.msg);
    (void)fprintf(stderr, "the message: %s\n", err.msg);
    ck_assert_msg(strstr(err.msg, "x-queue-type") != NULL, "%s", err.msg);
    wr_amqp_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("topology");
    TCase *tc = tcase_create("topology");
    tcase_add_unchecked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, declared_twice_alike);
    tcase_add_test(tc, other_arguments_are_named);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
