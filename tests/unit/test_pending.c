/* Unit tests for the edge's pending table: put/take, duplicates, growth,
 * draining, and deletion when many ids share a probe run (ids that agree in
 * their first 16 hex digits land on the same home slot). */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pending.h"
#include "warren/err.h"
#include "warren/proto.h"
#include "run_suite.h"

typedef char request_id[WR_REQUEST_ID_LEN + 1];

static pending *table;

static void setup(void)
{
    table = pending_new();
    ck_assert_ptr_nonnull(table);
}

static void teardown(void)
{
    pending_free(table);
    table = NULL;
}

/* A fixed-seed generator, so a failure replays. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static void make_id(request_id out, uint64_t hi, uint64_t lo)
{
    int n = snprintf(out, sizeof(request_id), "%016llx%016llx", (unsigned long long)hi,
                     (unsigned long long)lo);
    ck_assert_int_eq(n, WR_REQUEST_ID_LEN);
}

static void shuffle(size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng() % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* --- basics --- */

START_TEST(put_then_take)
{
    request_id a, b;
    int va = 1, vb = 2;
    make_id(a, 0x0123456789abcdefULL, 1);
    make_id(b, 0xfedcba9876543210ULL, 2);
    ck_assert_uint_eq(pending_count(table), 0);
    ck_assert_int_eq(pending_put(table, a, &va), 0);
    ck_assert_int_eq(pending_put(table, b, &vb), 0);
    ck_assert_uint_eq(pending_count(table), 2);
    ck_assert_ptr_eq(pending_remove(table, b), &vb);
    ck_assert_uint_eq(pending_count(table), 1);
    ck_assert_ptr_null(pending_remove(table, b));
    ck_assert_ptr_eq(pending_remove(table, a), &va);
    ck_assert_uint_eq(pending_count(table), 0);
    ck_assert_ptr_null(pending_remove(table, a));
    /* An id may be used again once taken. */
    ck_assert_int_eq(pending_put(table, a, &vb), 0);
    ck_assert_ptr_eq(pending_remove(table, a), &vb);
}
END_TEST

START_TEST(take_unknown)
{
    request_id a, b;
    int v = 1;
    make_id(a, 1, 1);
    make_id(b, 1, 2);
    ck_assert_ptr_null(pending_remove(table, a));
    ck_assert_int_eq(pending_put(table, a, &v), 0);
    ck_assert_ptr_null(pending_remove(table, b));
    ck_assert_ptr_null(pending_remove(table, ""));
    ck_assert_ptr_null(pending_remove(table, "0000000000000001"));
    ck_assert_ptr_null(pending_remove(table, "000000000000000100000000000000010"));
    ck_assert_uint_eq(pending_count(table), 1);
    ck_assert_ptr_eq(pending_remove(table, a), &v);
}
END_TEST

START_TEST(duplicate_put)
{
    request_id a;
    int v1 = 1, v2 = 2;
    make_id(a, 42, 42);
    ck_assert_int_eq(pending_put(table, a, &v1), 0);
    ck_assert_int_eq(pending_put(table, a, &v2), WR_EINVAL);
    ck_assert_uint_eq(pending_count(table), 1);
    ck_assert_ptr_eq(pending_remove(table, a), &v1);
    ck_assert_ptr_null(pending_remove(table, a));
}
END_TEST

START_TEST(free_null)
{
    pending_free(NULL);
}
END_TEST

/* --- many entries --- */

#define MANY 5000

START_TEST(growth_past_initial_size)
{
    static request_id ids[MANY];
    static int values[MANY];
    static size_t order[MANY];
    for (size_t i = 0; i < MANY; i++) {
        make_id(ids[i], rng(), rng());
        ck_assert_int_eq(pending_put(table, ids[i], &values[i]), 0);
    }
    ck_assert_uint_eq(pending_count(table), MANY);
    /* Every entry survives the growths. */
    shuffle(order, MANY);
    for (size_t k = 0; k < MANY; k++) {
        size_t i = order[k];
        ck_assert_ptr_eq(pending_remove(table, ids[i]), &values[i]);
        ck_assert_uint_eq(pending_count(table), MANY - k - 1);
    }
    ck_assert_uint_eq(pending_count(table), 0);
    ck_assert_ptr_null(pending_remove_any(table));
}
END_TEST

START_TEST(take_any_drains)
{
    enum { COUNT = 700 };
    static request_id ids[COUNT];
    static int values[COUNT];
    bool seen[COUNT] = {false};
    for (size_t i = 0; i < COUNT; i++) {
        make_id(ids[i], rng(), rng());
        ck_assert_int_eq(pending_put(table, ids[i], &values[i]), 0);
    }
    for (size_t k = 0; k < COUNT; k++) {
        int *v = pending_remove_any(table);
        ck_assert_ptr_nonnull(v);
        ck_assert(v >= values && v < values + COUNT);
        size_t i = (size_t)(v - values);
        ck_assert_msg(!seen[i], "value %zu returned twice", i);
        seen[i] = true;
        ck_assert_uint_eq(pending_count(table), COUNT - k - 1);
    }
    ck_assert_ptr_null(pending_remove_any(table));
    for (size_t i = 0; i < COUNT; i++)
        ck_assert_ptr_null(pending_remove(table, ids[i]));
    ck_assert_int_eq(pending_put(table, ids[0], &values[0]), 0);
    ck_assert_ptr_eq(pending_remove_any(table), &values[0]);
}
END_TEST

/* --- collisions --- */

/* After each removal, every id still present must still be found: take it
 * and put it back. */
static void check_reachable(request_id *ids, int *values, const bool *present, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!present[i])
            continue;
        ck_assert_msg(pending_remove(table, ids[i]) == &values[i], "lost %s", ids[i]);
        ck_assert_int_eq(pending_put(table, ids[i], &values[i]), 0);
    }
}

/* Puts n ids, then removes them in random order, checking the rest each time. */
static void remove_all_checking(request_id *ids, int *values, size_t n)
{
    bool present[512];
    size_t order[512];
    ck_assert_uint_le(n, 512);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(pending_put(table, ids[i], &values[i]), 0);
        present[i] = true;
    }
    ck_assert_uint_eq(pending_count(table), n);
    shuffle(order, n);
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        ck_assert_ptr_eq(pending_remove(table, ids[i]), &values[i]);
        present[i] = false;
        ck_assert_ptr_null(pending_remove(table, ids[i]));
        check_reachable(ids, values, present, n);
        ck_assert_uint_eq(pending_count(table), n - k - 1);
    }
}

START_TEST(shared_prefix_one_run)
{
    enum { COUNT = 64 };
    static request_id ids[COUNT];
    static int values[COUNT];
    for (size_t i = 0; i < COUNT; i++)
        make_id(ids[i], 0x0123456789abcdefULL, rng());
    remove_all_checking(ids, values, COUNT);
}
END_TEST

/* pending.c's home slot for a prefix at the table's first size, copied here
 * only to choose prefixes whose runs wrap past the table's end. Should the
 * hash change, the test still checks correctness, with other runs. */
static size_t home(uint64_t prefix, size_t cap)
{
    uint64_t h = prefix;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h & (cap - 1);
}

static uint64_t prefix_homed_in(size_t lo, size_t hi)
{
    for (uint64_t p = 1; p < 1000000; p++) {
        size_t h = home(p, 1024);
        if (h >= lo && h <= hi)
            return p;
    }
    ck_abort_msg("no prefix homes in [%zu, %zu]", lo, hi);
    return 0;
}

START_TEST(shared_prefixes_interleaved)
{
    /* Several groups, each on one home slot ten apart, so that their runs
     * of forty run into each other. */
    enum { GROUPS = 8, PER = 40, COUNT = GROUPS * PER };
    static request_id ids[COUNT];
    static int values[COUNT];
    uint64_t prefix[GROUPS];
    for (size_t g = 0; g < GROUPS; g++)
        prefix[g] = prefix_homed_in(100 + 10 * g, 105 + 10 * g);
    for (size_t i = 0; i < COUNT; i++)
        make_id(ids[i], prefix[i % GROUPS], rng());
    remove_all_checking(ids, values, COUNT);
}
END_TEST

START_TEST(runs_wrap_around)
{
    enum { PER = 30, COUNT = 3 * PER };
    static request_id ids[COUNT];
    static int values[COUNT];
    uint64_t end = prefix_homed_in(1020, 1023);
    uint64_t start = prefix_homed_in(0, 2);
    uint64_t near = prefix_homed_in(1010, 1015);
    for (size_t i = 0; i < PER; i++) {
        make_id(ids[i], end, rng());
        make_id(ids[PER + i], start, rng());
        make_id(ids[2 * PER + i], near, rng());
    }
    remove_all_checking(ids, values, COUNT);
}
END_TEST

START_TEST(random_churn_against_model)
{
    /* Random puts and takes over a pool of colliding ids, compared with a
     * plain array; the pool is large enough to make the table grow. */
    enum { POOL = 1500, OPS = 60000 };
    static request_id ids[POOL];
    static int values[POOL];
    static bool present[POOL];
    size_t count = 0;
    for (size_t i = 0; i < POOL; i++)
        make_id(ids[i], 0x77 + i % 16, rng());
    for (size_t op = 0; op < OPS; op++) {
        size_t i = (size_t)(rng() % POOL);
        if (rng() % 3 != 0) {
            int want = present[i] ? WR_EINVAL : 0;
            ck_assert_int_eq(pending_put(table, ids[i], &values[i]), want);
            count += present[i] ? 0 : 1;
            present[i] = true;
        } else {
            void *want = present[i] ? &values[i] : NULL;
            ck_assert_ptr_eq(pending_remove(table, ids[i]), want);
            count -= present[i] ? 1 : 0;
            present[i] = false;
        }
        ck_assert_uint_eq(pending_count(table), count);
    }
    for (size_t i = 0; i < POOL; i++)
        ck_assert_ptr_eq(pending_remove(table, ids[i]), present[i] ? &values[i] : NULL);
    ck_assert_uint_eq(pending_count(table), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pending");
    TCase *basic = tcase_create("basic");
    tcase_add_checked_fixture(basic, setup, teardown);
    tcase_add_test(basic, put_then_take);
    tcase_add_test(basic, take_unknown);
    tcase_add_test(basic, duplicate_put);
    tcase_add_test(basic, free_null);
    suite_add_tcase(s, basic);

    TCase *many = tcase_create("many");
    tcase_add_checked_fixture(many, setup, teardown);
    tcase_set_timeout(many, 60);
    tcase_add_test(many, growth_past_initial_size);
    tcase_add_test(many, take_any_drains);
    tcase_add_test(many, shared_prefix_one_run);
    tcase_add_test(many, shared_prefixes_interleaved);
    tcase_add_test(many, runs_wrap_around);
    tcase_add_test(many, random_churn_against_model);
    suite_add_tcase(s, many);

    return run_suite(s, true);
}
