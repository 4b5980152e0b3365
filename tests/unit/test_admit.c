/* Unit tests for the cache's admission table: a read is cached only after
 * two costly measures in a row, one cheap measure makes it skip, 0 caches
 * everything, and a colliding key takes the slot and is learnt anew. */
#include <check.h>
#include <stdint.h>

#include "ops/admit.h"
#include "run_suite.h"

START_TEST(costly_twice_then_cached)
{
    admit *a = admit_new(250);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(admit_check(a, 42), ADMIT_UNKNOWN);
    admit_learn(a, 42, 900); /* once: may be warming up */
    ck_assert_int_eq(admit_check(a, 42), ADMIT_UNKNOWN);
    admit_learn(a, 42, 800);
    ck_assert_int_eq(admit_check(a, 42), ADMIT_CACHE);
    admit_learn(a, 42, 100); /* the data shrank: straight to SQLite */
    ck_assert_int_eq(admit_check(a, 42), ADMIT_SKIP);
    admit_learn(a, 42, 900); /* one costly measure after a cheap one is not enough */
    ck_assert_int_eq(admit_check(a, 42), ADMIT_SKIP);
    admit_learn(a, 42, 900);
    ck_assert_int_eq(admit_check(a, 42), ADMIT_CACHE);
    admit_free(a);
}
END_TEST

START_TEST(cheap_once_skips)
{
    admit *a = admit_new(250);
    admit_learn(a, 7, 249);
    ck_assert_int_eq(admit_check(a, 7), ADMIT_SKIP);
    ck_assert_int_eq(admit_check(a, 8), ADMIT_UNKNOWN);
    admit_free(a);
}
END_TEST

START_TEST(zero_caches_everything)
{
    admit *a = admit_new(0);
    ck_assert_int_eq(admit_check(a, 1), ADMIT_CACHE);
    admit_learn(a, 1, 0);
    ck_assert_int_eq(admit_check(a, 1), ADMIT_CACHE);
    admit_free(a);
}
END_TEST

START_TEST(collision_relearns)
{
    admit *a = admit_new(250);
    uint64_t k1 = 5, k2 = 5 + ((uint64_t)1 << 40); /* the same slot */
    admit_learn(a, k1, 900);
    admit_learn(a, k1, 900);
    ck_assert_int_eq(admit_check(a, k1), ADMIT_CACHE);
    admit_learn(a, k2, 900); /* takes the slot, measured once */
    ck_assert_int_eq(admit_check(a, k2), ADMIT_UNKNOWN);
    ck_assert_int_eq(admit_check(a, k1), ADMIT_UNKNOWN);
    admit_free(a);
    admit_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("admit");
    TCase *t = tcase_create("admit");
    tcase_add_test(t, costly_twice_then_cached);
    tcase_add_test(t, cheap_once_skips);
    tcase_add_test(t, zero_caches_everything);
    tcase_add_test(t, collision_relearns);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
