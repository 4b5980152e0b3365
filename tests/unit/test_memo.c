/* Unit tests for the in-process reply memo (services/catalog/cache/memo.c):
 * a value is served only at the data version it was stored at, a new
 * version empties it, its bytes stay under the bound, a value too big is
 * not kept, a colliding key replaces, never answers for, another, and
 * the caller's mark comes back with its value. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "cache/memo.h"
#include "run_suite.h"

static const char *get(memo *m, uint64_t h, const char *key, size_t *len)
{
    return memo_get(m, h, key, strlen(key), len, NULL);
}

static void put(memo *m, uint64_t h, const char *key, const char *value)
{
    memo_put(m, h, key, strlen(key), value, strlen(value), false);
}

START_TEST(served_only_at_its_version)
{
    memo *m = memo_new(4096);
    ck_assert_ptr_nonnull(m);
    size_t len = 0;
    put(m, 7, "k", "v1"); /* no version declared yet: nothing kept */
    ck_assert_ptr_null(get(m, 7, "k", &len));
    memo_at(m, 10);
    put(m, 7, "k", "v1");
    const char *v = get(m, 7, "k", &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(len, 2);
    ck_assert_int_eq(memcmp(v, "v1", 2), 0);
    memo_at(m, 10); /* the same version keeps it */
    ck_assert_ptr_nonnull(get(m, 7, "k", &len));
    memo_at(m, 11); /* a write happened */
    ck_assert_ptr_null(get(m, 7, "k", &len));
    ck_assert_uint_eq(memo_stats(m)->bytes, 0);
    memo_at(m, 10); /* an older version is another version, not the old data */
    ck_assert_ptr_null(get(m, 7, "k", &len));
    memo_at(m, -1); /* unknown: nothing is served or kept */
    put(m, 7, "k", "v2");
    ck_assert_ptr_null(get(m, 7, "k", &len));
    memo_free(m);
}
END_TEST

START_TEST(bounded_in_bytes)
{
    memo *m = memo_new(1600); /* a value may take 100 bytes at most */
    memo_at(m, 1);
    char big[101];
    memset(big, 'x', 100);
    big[100] = '\0';
    put(m, 1, "k", big); /* 101 bytes with its key: too big */
    size_t len = 0;
    ck_assert_ptr_null(get(m, 1, "k", &len));
    char value[91];
    memset(value, 'y', 90);
    value[90] = '\0';
    for (uint64_t h = 0; h < 100; h++) {
        char key[8];
        key[0] = (char)('a' + h % 26);
        key[1] = (char)('a' + h / 26);
        key[2] = '\0';
        put(m, h, key, value);
        ck_assert_uint_le(memo_stats(m)->bytes, 1600);
        ck_assert_ptr_nonnull(get(m, h, key, &len)); /* the newest is always kept */
    }
    ck_assert_int_gt(memo_stats(m)->flushes, 0);
    memo_free(m);
}
END_TEST

START_TEST(colliding_keys_never_answer_for_each_other)
{
    memo *m = memo_new(4096);
    memo_at(m, 3);
    size_t len = 0;
    put(m, 5, "first", "1");
    ck_assert_ptr_null(get(m, 5, "other", &len)); /* same hash, another key */
    put(m, 5 + 1024, "second", "2");              /* same slot */
    ck_assert_ptr_null(get(m, 5, "first", &len));
    const char *v = get(m, 5 + 1024, "second", &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(v[0], '2');
    memo_free(m);
}
END_TEST

START_TEST(mark_comes_back_with_its_value)
{
    memo *m = memo_new(4096);
    memo_at(m, 1);
    memo_put(m, 3, "a", 1, "{}", 2, true);
    memo_put(m, 4, "b", 1, "x", 1, false);
    size_t len = 0;
    bool mark = false;
    ck_assert_ptr_nonnull(memo_get(m, 3, "a", 1, &len, &mark));
    ck_assert(mark);
    ck_assert_ptr_nonnull(memo_get(m, 4, "b", 1, &len, &mark));
    ck_assert(!mark);
    memo_put(m, 3, "a", 1, "{}", 2, false); /* replaced: its mark too */
    ck_assert_ptr_nonnull(memo_get(m, 3, "a", 1, &len, &mark));
    ck_assert(!mark);
    memo_free(m);
}
END_TEST

START_TEST(zero_bytes_is_no_memo)
{
    ck_assert_ptr_null(memo_new(0));
    size_t len = 0;
    memo_at(NULL, 1);
    memo_put(NULL, 1, "k", 1, "v", 1, true);
    ck_assert_ptr_null(memo_get(NULL, 1, "k", 1, &len, NULL));
    memo_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("memo");
    TCase *t = tcase_create("memo");
    tcase_add_test(t, served_only_at_its_version);
    tcase_add_test(t, bounded_in_bytes);
    tcase_add_test(t, colliding_keys_never_answer_for_each_other);
    tcase_add_test(t, zero_bytes_is_no_memo);
    tcase_add_test(t, mark_comes_back_with_its_value);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
