/* Unit tests for held-back acknowledgements: only what is durable is
 * acknowledged, newest first, and a full ring never acknowledges early. */
#include <check.h>

#include "acks.h"
#include "run_suite.h"

START_TEST(takes_newest_durable)
{
    struct wr_acks a;
    ck_assert(wr_acks_init(&a, 8));
    ck_assert(wr_acks_empty(&a));
    wr_acks_push(&a, 3, 10);
    wr_acks_push(&a, 7, 20);
    wr_acks_push(&a, 9, 30);
    ck_assert_uint_eq(wr_acks_take(&a, 5), 0);
    ck_assert_uint_eq(wr_acks_take(&a, 25), 7);
    ck_assert(!wr_acks_empty(&a));
    ck_assert_uint_eq(wr_acks_take(&a, 25), 0);
    ck_assert_uint_eq(wr_acks_take(&a, 30), 9);
    ck_assert(wr_acks_empty(&a));
    wr_acks_release(&a);
}
END_TEST

START_TEST(full_ring_replaces_newest)
{
    struct wr_acks a;
    ck_assert(wr_acks_init(&a, 2));
    wr_acks_push(&a, 1, 1);
    wr_acks_push(&a, 2, 2);
    wr_acks_push(&a, 3, 3); /* replaces (2,2): tag 2 is covered by 3 later */
    ck_assert_uint_eq(wr_acks_take(&a, 2), 1);
    ck_assert_uint_eq(wr_acks_take(&a, 2), 0);
    ck_assert_uint_eq(wr_acks_take(&a, 3), 3);
    wr_acks_release(&a);
}
END_TEST

START_TEST(wraps_around)
{
    struct wr_acks a;
    ck_assert(wr_acks_init(&a, 3));
    for (uint64_t i = 1; i <= 100; i++) {
        wr_acks_push(&a, i, i * 10);
        ck_assert_uint_eq(wr_acks_take(&a, i * 10 - 1), 0);
        ck_assert_uint_eq(wr_acks_take(&a, i * 10), i);
    }
    wr_acks_push(&a, 5, 5);
    wr_acks_clear(&a);
    ck_assert(wr_acks_empty(&a));
    ck_assert_uint_eq(wr_acks_take(&a, 1000), 0);
    wr_acks_release(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acks");
    TCase *tc = tcase_create("acks");
    tcase_add_test(tc, takes_newest_durable);
    tcase_add_test(tc, full_ring_replaces_newest);
    tcase_add_test(tc, wraps_around);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
