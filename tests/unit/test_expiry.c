/* Unit tests for one list of deadlines of one duration (expiry.h), on a
 * real libevent loop: deadlines fire in the order they started, a stopped
 * one never fires, a callback may stop or start others, and a node may
 * start again once it fired. */
#include <check.h>
#include <event2/event.h>
#include <stddef.h>
#include <time.h>

#include "expiry.h"
#include "run_suite.h"

enum { N = 4 };

struct thing {
    struct expiry_node node;
    int fired;    /* times it fired */
    int order;    /* when it fired last, from 1 */
    int stop;     /* the index of a thing its firing stops, or -1 */
    bool restart; /* it starts itself again on its first firing */
};

struct fixture {
    struct event_base *base;
    struct expiry e;
    struct thing t[N];
    int fired;
};

static struct fixture fx;

static void on_fire(struct expiry_node *n, void *arg)
{
    struct fixture *f = arg;
    struct thing *t = (struct thing *)(void *)((char *)n - offsetof(struct thing, node));
    ck_assert(!expiry_started(n)); /* out of the list before its callback */
    t->fired++;
    t->order = ++f->fired;
    if (t->stop >= 0)
        expiry_stop(&f->e, &f->t[t->stop].node);
    if (t->restart && t->fired == 1)
        expiry_start(&f->e, n);
}

static void setup(long duration_ms)
{
    fx = (struct fixture){.base = event_base_new()};
    ck_assert_ptr_nonnull(fx.base);
    ck_assert_int_eq(expiry_init(&fx.e, fx.base, duration_ms * 1000, on_fire, &fx), 0);
    for (int i = 0; i < N; i++)
        fx.t[i].stop = -1;
}

static void teardown(void)
{
    expiry_release(&fx.e);
    event_base_free(fx.base);
}

static long long ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(fire_in_start_order_once_each)
{
    setup(20);
    long long t0 = ms_now();
    for (int i = 0; i < N; i++)
        expiry_start(&fx.e, &fx.t[i].node);
    ck_assert_int_eq(event_base_dispatch(fx.base), 1); /* 1: once nothing is pending */
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(fx.t[i].fired, 1);
        ck_assert_int_eq(fx.t[i].order, i + 1);
        ck_assert(!expiry_started(&fx.t[i].node));
    }
    ck_assert_int_ge(ms_now() - t0, 20); /* not before its duration */
    teardown();
}
END_TEST

START_TEST(stopped_never_fires)
{
    setup(10);
    for (int i = 0; i < N; i++)
        expiry_start(&fx.e, &fx.t[i].node);
    expiry_stop(&fx.e, &fx.t[0].node); /* the first: the timer was set for it */
    expiry_stop(&fx.e, &fx.t[2].node);
    expiry_stop(&fx.e, &fx.t[2].node); /* twice: a no-op */
    ck_assert_int_eq(event_base_dispatch(fx.base), 1);
    ck_assert_int_eq(fx.t[0].fired + fx.t[2].fired, 0);
    ck_assert_int_eq(fx.t[1].order, 1);
    ck_assert_int_eq(fx.t[3].order, 2);
    teardown();
}
END_TEST

START_TEST(a_callback_stops_and_starts)
{
    setup(10);
    fx.t[0].stop = 1;       /* the next one, due at about the same time */
    fx.t[2].restart = true; /* fires again one duration later, last */
    for (int i = 0; i < N; i++)
        expiry_start(&fx.e, &fx.t[i].node);
    ck_assert_int_eq(event_base_dispatch(fx.base), 1);
    ck_assert_int_eq(fx.t[1].fired, 0);
    ck_assert_int_eq(fx.t[0].order, 1);
    ck_assert_int_eq(fx.t[3].order, 3);
    ck_assert_int_eq(fx.t[2].fired, 2);
    ck_assert_int_eq(fx.t[2].order, 4);
    teardown();
}
END_TEST

START_TEST(started_after_the_list_emptied)
{
    setup(5);
    expiry_start(&fx.e, &fx.t[0].node);
    ck_assert_int_eq(event_base_dispatch(fx.base), 1);
    expiry_start(&fx.e, &fx.t[1].node); /* the timer set again for a new first */
    ck_assert_int_eq(event_base_dispatch(fx.base), 1);
    ck_assert_int_eq(fx.t[1].fired, 1);
    teardown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("expiry");
    TCase *tc = tcase_create("expiry");
    tcase_add_test(tc, fire_in_start_order_once_each);
    tcase_add_test(tc, stopped_never_fires);
    tcase_add_test(tc, a_callback_stops_and_starts);
    tcase_add_test(tc, started_after_the_list_emptied);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
