/* Unit tests for the page-position memo (services/catalog/cache/pagepos.c):
 * a lookup finds the nearest position at or below an offset of the same
 * list (statement and binds) and gives its key back as it was stored; a
 * new data version forgets everything; it holds at most its entries,
 * evicting the oldest; keys it cannot seek by are never kept; a list's
 * count is kept beside its positions. */
#include <check.h>
#include <string.h>

#include "cache/pagepos.h"
#include "run_suite.h"

static const char list_a[] = "SELECT a", list_b[] = "SELECT b";

static void put_int(pagepos *p, const void *stmt, long long start, bool inclusive, long long key)
{
    struct value v = {.kind = V_INT, .i = key};
    struct pagepos_key k;
    pagepos_key_set(&k, &v, 1);
    ck_assert(k.ok);
    pagepos_put(p, stmt, NULL, 0, start, inclusive, &k);
}

/* The key found for stmt at offset, or -1 when none. */
static long long find_int(pagepos *p, const void *stmt, long long offset, long long *start)
{
    struct pagepos_hit hit;
    if (!pagepos_find(p, stmt, NULL, 0, offset, &hit))
        return -1;
    ck_assert_uint_eq(hit.nkey, 1);
    ck_assert_int_eq(hit.key[0].kind, V_INT);
    *start = hit.start;
    return hit.key[0].i;
}

START_TEST(nearest_at_or_below)
{
    pagepos *p = pagepos_new(16);
    ck_assert_ptr_nonnull(p);
    pagepos_at(p, 5);
    put_int(p, list_a, 0, true, 1);
    put_int(p, list_a, 10, false, 10);
    put_int(p, list_a, 30, true, 31);
    put_int(p, list_b, 20, true, 99); /* another list */
    long long start = -1;
    ck_assert_int_eq(find_int(p, list_a, 10, &start), 10); /* exact */
    ck_assert_int_eq(start, 10);
    ck_assert_int_eq(find_int(p, list_a, 25, &start), 10); /* below, not list_b's 20 */
    ck_assert_int_eq(start, 10);
    ck_assert_int_eq(find_int(p, list_a, 29, &start), 10);
    ck_assert_int_eq(find_int(p, list_a, 1000, &start), 31);
    ck_assert_int_eq(start, 30);
    ck_assert_int_eq(find_int(p, list_a, 9, &start), 1);
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(find_int(p, list_b, 19, &start), -1); /* nothing at or below */
    ck_assert_int_eq(find_int(p, list_b, 20, &start), 99);
    struct pagepos_hit hit;
    ck_assert(pagepos_find(p, list_a, NULL, 0, 30, &hit));
    ck_assert(hit.inclusive);
    ck_assert(pagepos_find(p, list_a, NULL, 0, 12, &hit));
    ck_assert(!hit.inclusive);
    /* a second position at a start it has is not kept: the first stays */
    put_int(p, list_a, 10, true, 11);
    ck_assert_int_eq(find_int(p, list_a, 10, &start), 10);
    ck_assert_uint_eq(pagepos_stats(p)->entries, 4);
    pagepos_free(p);
}
END_TEST

START_TEST(binds_and_text_keys)
{
    pagepos *p = pagepos_new(16);
    pagepos_at(p, 1);
    /* a relation's page: the same statement, two owners */
    struct value owner1 = {.kind = V_TEXT, .s = "ab", .n = 2};
    struct value owner2 = {.kind = V_TEXT, .s = "abc", .n = 3};
    struct value key[2] = {{.kind = V_TEXT, .s = "x\0y", .n = 3}, {.kind = V_REAL, .d = 2.5}};
    struct pagepos_key k;
    pagepos_key_set(&k, key, 2);
    ck_assert(k.ok);
    pagepos_put(p, list_a, &owner1, 1, 7, false, &k);
    struct pagepos_hit hit;
    ck_assert(!pagepos_find(p, list_a, &owner2, 1, 7, &hit));
    ck_assert(!pagepos_find(p, list_a, NULL, 0, 7, &hit));
    ck_assert(pagepos_find(p, list_a, &owner1, 1, 8, &hit));
    ck_assert_uint_eq(hit.nkey, 2);
    ck_assert_int_eq(hit.key[0].kind, V_TEXT);
    ck_assert_uint_eq(hit.key[0].n, 3);
    ck_assert_int_eq(memcmp(hit.key[0].s, "x\0y", 4), 0); /* and NUL-terminated */
    ck_assert_int_eq(hit.key[1].kind, V_REAL);
    ck_assert(hit.key[1].d == 2.5);
    ck_assert_int_eq(hit.start, 7);
    pagepos_free(p);
}
END_TEST

START_TEST(a_new_version_forgets)
{
    pagepos *p = pagepos_new(16);
    long long start = 0;
    put_int(p, list_a, 0, true, 1); /* no version declared: nothing kept */
    ck_assert_uint_eq(pagepos_stats(p)->entries, 0);
    pagepos_at(p, 7);
    put_int(p, list_a, 10, true, 11);
    pagepos_at(p, 7);
    ck_assert_int_eq(find_int(p, list_a, 10, &start), 11);
    pagepos_at(p, 8); /* a commit: anything may have moved */
    ck_assert_int_eq(find_int(p, list_a, 10, &start), -1);
    ck_assert_uint_eq(pagepos_stats(p)->entries, 0);
    ck_assert_int_eq(pagepos_stats(p)->flushes, 1);
    put_int(p, list_a, 10, true, 11);
    pagepos_at(p, 7); /* an older version is another one too */
    ck_assert_int_eq(find_int(p, list_a, 10, &start), -1);
    put_int(p, list_a, 10, true, 11);
    pagepos_at(p, -1); /* unknown: nothing found or kept */
    ck_assert_int_eq(find_int(p, list_a, 10, &start), -1);
    put_int(p, list_a, 10, true, 11);
    ck_assert_uint_eq(pagepos_stats(p)->entries, 0);
    pagepos_free(p);
}
END_TEST

START_TEST(bounded_oldest_evicted)
{
    pagepos *p = pagepos_new(4);
    pagepos_at(p, 1);
    long long start = 0;
    for (long long i = 0; i < 6; i++)
        put_int(p, list_a, i * 10, true, i);
    ck_assert_uint_eq(pagepos_stats(p)->entries, 4);
    ck_assert_int_eq(pagepos_stats(p)->evictions, 2);
    ck_assert_int_eq(find_int(p, list_a, 15, &start), -1); /* 0 and 10 went first */
    ck_assert_int_eq(find_int(p, list_a, 25, &start), 2);
    ck_assert_int_eq(find_int(p, list_a, 55, &start), 5);
    put_int(p, list_a, 60, true, 6); /* now 20 goes */
    ck_assert_int_eq(find_int(p, list_a, 25, &start), -1);
    ck_assert_int_eq(find_int(p, list_a, 35, &start), 3);
    /* an evicted start is gone from the index too: it can be kept again */
    put_int(p, list_a, 0, true, 100);
    ck_assert_int_eq(find_int(p, list_a, 0, &start), 100);
    ck_assert_int_eq(find_int(p, list_a, 35, &start), 100); /* 30 went for it */
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(find_int(p, list_a, 45, &start), 4);
    ck_assert_int_eq(pagepos_stats(p)->stores, 8);
    pagepos_free(p);
}
END_TEST

START_TEST(keys_it_cannot_seek_by)
{
    pagepos *p = pagepos_new(4);
    pagepos_at(p, 1);
    struct pagepos_key k;
    struct value null = {.kind = V_NULL};
    pagepos_key_set(&k, &null, 1);
    ck_assert(!k.ok);
    struct value blob = {.kind = V_BLOB, .s = "b", .n = 1};
    pagepos_key_set(&k, &blob, 1);
    ck_assert(!k.ok);
    static char big[PAGEPOS_BYTES_MAX];
    memset(big, 'x', sizeof(big));
    struct value text = {.kind = V_TEXT, .s = big, .n = sizeof(big)};
    pagepos_key_set(&k, &text, 1);
    ck_assert(!k.ok);
    pagepos_put(p, list_a, NULL, 0, 10, true, &k);
    /* a list whose binds hold a NULL (a relation of a NULL key) */
    struct value one = {.kind = V_INT, .i = 1};
    pagepos_key_set(&k, &one, 1);
    ck_assert(k.ok);
    pagepos_put(p, list_a, &null, 1, 10, true, &k);
    ck_assert_uint_eq(pagepos_stats(p)->entries, 0);
    pagepos_free(p);
}
END_TEST

/* A list's count: kept per list and binds, at the version, never taken
 * for a position, forgotten with the rest. */
START_TEST(counts_per_list)
{
    pagepos *p = pagepos_new(16);
    struct pagepos_count c = {0};
    struct value artist = {.kind = V_INT, .i = 7};
    ck_assert(!pagepos_count_find(p, list_a, NULL, 0, &c)); /* no version yet */
    pagepos_count_put(p, list_a, NULL, 0, &(struct pagepos_count){.total = 3503});
    ck_assert(!pagepos_count_find(p, list_a, NULL, 0, &c));
    pagepos_at(p, 9);
    pagepos_count_put(p, list_a, NULL, 0, &(struct pagepos_count){.total = 3503});
    pagepos_count_put(p, list_a, &artist, 1,
                      &(struct pagepos_count){.total = 1000, .truncated = true});
    ck_assert(pagepos_count_find(p, list_a, NULL, 0, &c));
    ck_assert(c.total == 3503 && !c.truncated);
    ck_assert(pagepos_count_find(p, list_a, &artist, 1, &c));
    ck_assert(c.total == 1000 && c.truncated);
    ck_assert(!pagepos_count_find(p, list_b, NULL, 0, &c));
    /* the first count stays: a second one at the same version is the same */
    pagepos_count_put(p, list_a, NULL, 0, &(struct pagepos_count){.total = 1});
    ck_assert(pagepos_count_find(p, list_a, NULL, 0, &c) && c.total == 3503);
    long long start = -1;
    ck_assert_int_eq(find_int(p, list_a, 0, &start), -1); /* a count is no position */
    ck_assert_int_eq(find_int(p, list_a, 1000, &start), -1);
    put_int(p, list_a, 0, true, 1);
    ck_assert_int_eq(find_int(p, list_a, 1000, &start), 1);
    ck_assert_int_eq(start, 0);
    ck_assert_int_eq(pagepos_stats(p)->count_hits, 3);
    pagepos_at(p, 10);
    ck_assert(!pagepos_count_find(p, list_a, NULL, 0, &c));
    pagepos_free(p);
}
END_TEST

START_TEST(zero_entries_is_no_memo)
{
    ck_assert_ptr_null(pagepos_new(0));
    struct pagepos_hit hit;
    struct pagepos_key k;
    struct value one = {.kind = V_INT, .i = 1};
    pagepos_key_set(&k, &one, 1);
    pagepos_at(NULL, 1);
    pagepos_put(NULL, list_a, NULL, 0, 1, true, &k);
    ck_assert(!pagepos_find(NULL, list_a, NULL, 0, 1, &hit));
    pagepos_free(NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pagepos");
    TCase *t = tcase_create("pagepos");
    tcase_add_test(t, nearest_at_or_below);
    tcase_add_test(t, binds_and_text_keys);
    tcase_add_test(t, a_new_version_forgets);
    tcase_add_test(t, bounded_oldest_evicted);
    tcase_add_test(t, keys_it_cannot_seek_by);
    tcase_add_test(t, counts_per_list);
    tcase_add_test(t, zero_entries_is_no_memo);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
