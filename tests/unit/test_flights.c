/* Unit tests for the edge's single-flight table: a key finds its leader
 * (the bytes, not a prefix or a NUL-ended string, decide), a second put of
 * a key is refused, only the leader ends its flight, and the table grows. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "flights.h"
#include "run_suite.h"
#include "warren/err.h"

START_TEST(find_put_remove)
{
    flights *f = flights_new();
    ck_assert_ptr_nonnull(f);
    int a = 1, b = 2;
    static const char k1[] = "catalog\0get\0anonymous\0x", k2[] = "catalog\0get\0anonymous\0y";
    ck_assert_ptr_null(flights_find(f, k1, sizeof(k1)));
    ck_assert_int_eq(flights_put(f, k1, sizeof(k1), &a), 0);
    ck_assert_int_eq(flights_put(f, k1, sizeof(k1), &b), WR_EINVAL);
    ck_assert_ptr_eq(flights_find(f, k1, sizeof(k1)), &a);
    ck_assert_ptr_null(flights_find(f, k2, sizeof(k2)));     /* differs after a NUL */
    ck_assert_ptr_null(flights_find(f, k1, sizeof(k1) - 1)); /* a prefix */
    flights_remove(f, k1, sizeof(k1), &b);                   /* not its leader: nothing */
    ck_assert_ptr_eq(flights_find(f, k1, sizeof(k1)), &a);
    flights_remove(f, k1, sizeof(k1), &a);
    ck_assert_ptr_null(flights_find(f, k1, sizeof(k1)));
    ck_assert_uint_eq(flights_count(f), 0);
    flights_free(f);
    flights_free(NULL);
}
END_TEST

START_TEST(grows)
{
    enum { N = 5000 };
    flights *f = flights_new();
    static int leaders[N];
    char key[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "/api/Albums/%d", i);
        ck_assert_int_eq(flights_put(f, key, (size_t)n, &leaders[i]), 0);
    }
    ck_assert_uint_eq(flights_count(f), N);
    for (int i = 0; i < N; i++) {
        int n = snprintf(key, sizeof(key), "/api/Albums/%d", i);
        ck_assert_ptr_eq(flights_find(f, key, (size_t)n), &leaders[i]);
        if (i % 2 == 0)
            flights_remove(f, key, (size_t)n, &leaders[i]);
    }
    ck_assert_uint_eq(flights_count(f), N / 2);
    flights_free(f); /* frees the rest */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("flights");
    TCase *t = tcase_create("flights");
    tcase_add_test(t, find_put_remove);
    tcase_add_test(t, grows);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
