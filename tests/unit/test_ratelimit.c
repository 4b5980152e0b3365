/* Unit tests for the edge's per-client limits: the bucket lets a burst
 * through, refuses the next with a whole-second Retry-After, refills at
 * the rate; clients are apart; a search cap counts searches in flight until
 * they leave; IPv6 clients are keyed by /64; the table stays bounded,
 * evicting idle clients, never one with searches in flight. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "ratelimit.h"
#include "run_suite.h"

static struct ratelimit_key addr4(uint8_t last)
{
    struct peer_addr a = {.bytes = {127, 0, 0, last}, .len = 4};
    struct ratelimit_key k;
    ratelimit_key_addr(&k, &a);
    return k;
}

START_TEST(burst_then_refused_then_refilled)
{
    ratelimit *rl = ratelimit_new(2, 5, 0, 64); /* 2 a second, bucket 5 */
    struct ratelimit_key k = addr4(1), other = addr4(2);
    long retry = -1;
    long long t = 1000000;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ratelimit_admit(rl, &k, false, t, &retry), RATELIMIT_OK);
    ck_assert_int_eq(retry, 0);
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, t, &retry), RATELIMIT_RATE);
    ck_assert_int_eq(retry, 1); /* 0.5 s to a token: rounded up to a whole second */
    /* another client has a bucket of its own */
    ck_assert_int_eq(ratelimit_admit(rl, &other, false, t, &retry), RATELIMIT_OK);
    /* 499 ms: still short of a token; 500 ms: one */
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, t + 499, &retry), RATELIMIT_RATE);
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, t + 500, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, t + 500, &retry), RATELIMIT_RATE);
    /* a long pause refills to the bucket's size, no more */
    t += 3600 * 1000;
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(ratelimit_admit(rl, &k, false, t, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, t, &retry), RATELIMIT_RATE);
    ratelimit_free(rl);
    ratelimit_free(NULL);
}
END_TEST

START_TEST(slow_rate_retry_after)
{
    ratelimit *rl = ratelimit_new(1, 1, 0, 64);
    struct ratelimit_key k;
    ratelimit_key_name(&k, "reporting");
    long retry = 0;
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, 50, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, 50, &retry), RATELIMIT_RATE);
    ck_assert_int_eq(retry, 1);
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, 1050, &retry), RATELIMIT_OK);
    /* a key's name and an address are different clients even with equal bytes */
    struct ratelimit_key a = addr4(9);
    ratelimit_key_name(&k, "\x7f");
    ck_assert_int_ne(k.len == a.len && memcmp(k.bytes, a.bytes, a.len) == 0, 1);
    ratelimit_free(rl);
}
END_TEST

START_TEST(burst_zero_is_twice_the_rate)
{
    ratelimit *rl = ratelimit_new(3, 0, 0, 64);
    struct ratelimit_key k = addr4(1);
    long retry = 0;
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(ratelimit_admit(rl, &k, false, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, 0, &retry), RATELIMIT_RATE);
    ratelimit_free(rl);
}
END_TEST

START_TEST(off_admits_everything)
{
    ratelimit *rl = ratelimit_new(0, 0, 0, 64);
    ck_assert(!ratelimit_on(rl));
    ck_assert(!ratelimit_on(NULL));
    struct ratelimit_key k = addr4(1);
    long retry = 7;
    for (int i = 0; i < 10000; i++)
        ck_assert_int_eq(ratelimit_admit(rl, &k, true, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(retry, 0);
    ck_assert_int_eq(ratelimit_searches(rl, &k), 0);
    ratelimit_free(rl);
}
END_TEST

START_TEST(search_cap)
{
    ratelimit *rl = ratelimit_new(0, 0, 2, 64); /* no rate; 2 searches each */
    struct ratelimit_key k = addr4(1), other = addr4(2);
    long retry = 0;
    ck_assert_int_eq(ratelimit_admit(rl, &k, true, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &k, true, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_searches(rl, &k), 2);
    ck_assert_int_eq(ratelimit_admit(rl, &k, true, 0, &retry), RATELIMIT_SEARCHES);
    ck_assert_int_eq(retry, 1);
    ck_assert_int_eq(ratelimit_searches(rl, &k), 2); /* the refused one is not counted */
    /* reads that are no searches, and other clients, pass */
    ck_assert_int_eq(ratelimit_admit(rl, &k, false, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &other, true, 0, &retry), RATELIMIT_OK);
    ratelimit_leave(rl, &k);
    ck_assert_int_eq(ratelimit_searches(rl, &k), 1);
    ck_assert_int_eq(ratelimit_admit(rl, &k, true, 0, &retry), RATELIMIT_OK);
    ratelimit_leave(rl, &k);
    ratelimit_leave(rl, &k);
    ratelimit_leave(rl, &k); /* one too many: stays at 0 */
    ck_assert_int_eq(ratelimit_searches(rl, &k), 0);
    ratelimit_free(rl);
}
END_TEST

START_TEST(ipv6_by_slash64)
{
    ratelimit *rl = ratelimit_new(1, 1, 0, 64);
    struct peer_addr a = {.bytes = {0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 1},
                          .len = 16};
    struct peer_addr b = a, c = a;
    b.bytes[15] = 2; /* the same /64 */
    c.bytes[7] = 5;  /* another /64 */
    struct ratelimit_key ka, kb, kc;
    ratelimit_key_addr(&ka, &a);
    ratelimit_key_addr(&kb, &b);
    ratelimit_key_addr(&kc, &c);
    long retry = 0;
    ck_assert_int_eq(ratelimit_admit(rl, &ka, false, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &kb, false, 0, &retry), RATELIMIT_RATE);
    ck_assert_int_eq(ratelimit_admit(rl, &kc, false, 0, &retry), RATELIMIT_OK);
    ratelimit_free(rl);
}
END_TEST

START_TEST(bounded_eviction)
{
    /* 4 entries: one set. Client 1 holds a search; 2..4 fill the rest;
     * client 5 evicts the least recently seen idle one (2), never 1. */
    ratelimit *rl = ratelimit_new(1, 1, 1, 4);
    long retry = 0;
    struct ratelimit_key k[6];
    for (int i = 1; i <= 5; i++)
        k[i] = addr4((uint8_t)i);
    ck_assert_int_eq(ratelimit_admit(rl, &k[1], true, 0, &retry), RATELIMIT_OK);
    for (int i = 2; i <= 4; i++)
        ck_assert_int_eq(ratelimit_admit(rl, &k[i], false, i, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &k[5], false, 10, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_searches(rl, &k[1]), 1); /* kept */
    /* 3 is still known (its bucket empty); 2 was evicted (comes back full) */
    ck_assert_int_eq(ratelimit_admit(rl, &k[3], false, 10, &retry), RATELIMIT_RATE);
    ck_assert_int_eq(ratelimit_admit(rl, &k[2], false, 10, &retry), RATELIMIT_OK);
    ratelimit_free(rl);
    /* every entry busy with a search: a new client is admitted uncounted */
    rl = ratelimit_new(0, 0, 1, 4);
    for (int i = 1; i <= 4; i++)
        ck_assert_int_eq(ratelimit_admit(rl, &k[i], true, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_admit(rl, &k[5], true, 0, &retry), RATELIMIT_OK);
    ck_assert_int_eq(ratelimit_searches(rl, &k[5]), 0);
    ratelimit_free(rl);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *t = tcase_create("ratelimit");
    tcase_add_test(t, burst_then_refused_then_refilled);
    tcase_add_test(t, slow_rate_retry_after);
    tcase_add_test(t, burst_zero_is_twice_the_rate);
    tcase_add_test(t, off_admits_everything);
    tcase_add_test(t, search_cap);
    tcase_add_test(t, ipv6_by_slash64);
    tcase_add_test(t, bounded_eviction);
    suite_add_tcase(s, t);
    return run_suite(s, true);
}
