/* A poison message (issue 5, fault 3): a request that costs its worker the
 * broker connection every time it is answered. Its reply_to names a
 * direct reply-to address that does not decode
 * (amq.rabbitmq.reply-to.<garbage>, published with the raw AMQP adapter as
 * a broken client would): the broker closes the worker's channel when the
 * reply goes out, so the request is never acknowledged and comes back.
 * Executions stop at the queue's delivery limit, the message lands in
 * warren.dead, and other traffic is served throughout. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "run_suite.h"
#include "warren/amqp.h"
#include "warren/rpc.h"

static struct fleet fleet;

static void teardown(void)
{
    f_fleet_stop(&fleet);
}

static char poison_id[WR_REQUEST_ID_LEN + 1];

static void publish_poison(void *arg)
{
    (void)arg;
    struct wr_amqp_opts o = {.url = h_amqp_url(), .connect_timeout_ms = 2000};
    struct wr_err err = {0};
    wr_amqp *a = wr_amqp_new(&o);
    ck_assert_int_eq(wr_amqp_connect(a, &err), 0);
    static const char body[] = "{\"collection\":\"Albums\",\"id\":\"1\",\"op\":\"get\",\"v\":1}";
    struct wr_msg m = {.correlation_id = poison_id,
                       .message_id = poison_id,
                       .reply_to = "amq.rabbitmq.reply-to.g1h2AA==.bm90LWEtcGlk",
                       .expiration_ms = 60000,
                       .deadline_ms = wr_now_ms() + 60000,
                       .body = body,
                       .len = sizeof(body) - 1};
    ck_assert_int_eq(wr_amqp_publish(a, "warren.f_poison", &m, true, &err), 0);
    wr_amqp_free(a);
}

/* Whether warren.dead holds a message with this id (read without
 * acknowledging: the messages stay). */
static bool in_dead_letters(const char *id)
{
    struct wr_amqp_opts o = {.url = h_amqp_url(), .connect_timeout_ms = 2000};
    struct wr_err err = {0};
    wr_amqp *a = wr_amqp_new(&o);
    ck_assert_int_eq(wr_amqp_connect(a, &err), 0);
    ck_assert_int_eq(wr_amqp_consume(a, "warren.dead", false, 0, &err), 0);
    bool found = false;
    for (long long end = h_now_ms() + 3000; !found && h_now_ms() < end;) {
        enum wr_amqp_event ev;
        struct wr_msg m;
        if (wr_amqp_poll(a, 200, &ev, &m, &err) != 0)
            break;
        found = ev == WR_AMQP_DELIVERY && m.message_id != NULL && strcmp(m.message_id, id) == 0;
    }
    wr_amqp_free(a);
    return found;
}

START_TEST(poison_stops_at_the_delivery_limit)
{
    enum { N = 2000 };
    f_fleet_init(&fleet, "f_poison");
    f_worker(&fleet, 0);
    f_worker(&fleet, 1);
    f_edge(&fleet);
    (void)h_servers_ctl("purge_queue warren.dead");
    wr_request_id_new(poison_id);
    checker *c = chk_new(N);
    chk_allow(c, 200);
    /* Neighbours of the poison, unacknowledged on the same connection, go
     * back to the queue with it each time: redelivered, and a neighbour that
     * shares the poison's fate past the delivery limit answers 504. */
    chk_allow(c, 504);
    chk_allow_reexec(c, true);
    struct load_req *reqs = f_album_reads(N);
    struct load_opts o = {
        .port = fleet.port, .concurrency = 32, .rate_per_s = 400, .give_up_ms = 5000 + 2000};
    struct f_step steps[] = {{500, publish_poison, NULL, 0}};
    struct f_faults s = {.steps = steps, .n = 1};
    f_faults_start(&s);
    load_run(&o, reqs, N, c);
    f_faults_join(&s);
    usleep(1000000);
    f_fleet_stop(&fleet);
    f_collect(&fleet, c);
    struct chk_totals t;
    ck_assert_msg(chk_verdict(c, "poison", &t), "see the checker's line");
    size_t execs = 0;
    for (size_t i = 0; i < fleet.nlogs; i++) {
        char needle[64];
        (void)snprintf(needle, sizeof(needle), "[%s] executing", poison_id);
        execs += f_count_lines(fleet.logs[i], needle);
    }
    bool dead = in_dead_letters(poison_id);
    printf("poison: executed %zu times, then %s warren.dead; %zu neighbours re-executed, %zu "
           "answered 504\n",
           execs, dead ? "found in" : "NOT in", t.reexec, t.s504);
    /* x-delivery-limit 5: the first delivery and five returns */
    ck_assert_msg(execs >= 2 && execs <= 6, "the poison was executed %zu times", execs);
    ck_assert_msg(dead, "the poison is not in warren.dead");
    free(reqs);
    chk_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_poison");
    TCase *tc = tcase_create("poison");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, poison_stops_at_the_delivery_limit);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
