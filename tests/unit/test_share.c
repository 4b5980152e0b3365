/* Unit tests for how a worker shares its queues (share.c): the oldest
 * ranks first, a worker yields after YIELD_AFTER_MS of CPU without
 * catching up (and only then), takes its rank back WR__SHARE_RETRY_MS
 * later once caught up, and 0 turns it all off. */
#include <check.h>

#include "run_suite.h"
#include "share.h"

#define MS 1000LL /* µs of CPU */

/* A worker ranking with YIELD_AFTER_MS 20 whose consumers started when its
 * thread had used cpu_us. */
static struct wr__share ranked(long long cpu_us)
{
    struct wr__share s;
    wr__share_init(&s, 20, 1700000000000000LL);
    wr__share_started(&s, cpu_us);
    return s;
}

START_TEST(the_oldest_ranks_first)
{
    struct wr__share older, newer, off;
    wr__share_init(&older, 20, 1700000000000000LL);
    wr__share_init(&newer, 20, 1700000000000001LL);
    wr__share_init(&off, 0, 1700000000000000LL);
    ck_assert(wr__share_priority(&older) > wr__share_priority(&newer));
    ck_assert(wr__share_priority(&newer) > WR__SHARE_YIELDED);
    ck_assert(wr__share_priority(&newer) != 0);
    ck_assert(wr__share_priority(&off) == 0);
}
END_TEST

/* CPU spent while input kept waiting adds up over bursts; the yield comes
 * when it reaches YIELD_AFTER_MS, once. */
START_TEST(yields_after_its_cpu_behind)
{
    struct wr__share s = ranked(500 * MS);
    ck_assert(!wr__share_check(&s, true, 510 * MS, 1000));
    ck_assert(!wr__share_check(&s, true, 519 * MS, 1001));
    ck_assert(wr__share_check(&s, true, 520 * MS, 1002));
    ck_assert(s.yielded);
    ck_assert(wr__share_priority(&s) == WR__SHARE_YIELDED);
    /* behind again while yielded: no move */
    ck_assert(!wr__share_check(&s, true, 600 * MS, 1003));
    ck_assert(!wr__share_check(&s, false, 700 * MS, 1004));
}
END_TEST

/* Catching up starts the count again: many short stretches never yield,
 * however much CPU they add up to. */
START_TEST(catching_up_starts_again)
{
    struct wr__share s = ranked(0);
    long long cpu = 0;
    for (int i = 0; i < 1000; i++) {
        cpu += 15 * MS;
        ck_assert(!wr__share_check(&s, true, cpu, i));
        cpu += 4 * MS;
        ck_assert(!wr__share_check(&s, false, cpu, i));
    }
    ck_assert(!s.yielded);
}
END_TEST

/* One long burst behind which nothing waits still yields: its requests
 * waited while it ran. The work before the consumers started does not
 * count. */
START_TEST(one_long_burst_yields)
{
    struct wr__share s = ranked(100 * MS);
    ck_assert(!wr__share_check(&s, false, 110 * MS, 5));
    ck_assert(wr__share_check(&s, false, 131 * MS, 6));
}
END_TEST

/* A worker that yielded takes its rank back once caught up, not before
 * WR__SHARE_RETRY_MS has passed, and not while input waits. */
START_TEST(takes_its_rank_back_later)
{
    struct wr__share s = ranked(0);
    long long rank = wr__share_priority(&s);
    ck_assert(wr__share_check(&s, true, 25 * MS, 1000));
    long long back = 1000 + WR__SHARE_RETRY_MS;
    ck_assert(!wr__share_check(&s, false, 26 * MS, back - 1));
    ck_assert(!wr__share_check(&s, true, 27 * MS, back));
    ck_assert(wr__share_check(&s, false, 28 * MS, back));
    ck_assert(!s.yielded);
    ck_assert(wr__share_priority(&s) == rank);
    /* and counts from there: 20 ms more behind yields again */
    ck_assert(!wr__share_check(&s, true, 47 * MS, back + 1));
    ck_assert(wr__share_check(&s, true, 48 * MS, back + 2));
}
END_TEST

START_TEST(zero_turns_it_off)
{
    struct wr__share s;
    wr__share_init(&s, 0, 1);
    wr__share_started(&s, 0);
    ck_assert(!wr__share_check(&s, true, 1000000 * MS, 1));
    ck_assert(!s.yielded);
    ck_assert(wr__share_priority(&s) == 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("share");
    TCase *tc = tcase_create("share");
    tcase_add_test(tc, the_oldest_ranks_first);
    tcase_add_test(tc, yields_after_its_cpu_behind);
    tcase_add_test(tc, catching_up_starts_again);
    tcase_add_test(tc, one_long_burst_yields);
    tcase_add_test(tc, takes_its_rank_back_later);
    tcase_add_test(tc, zero_turns_it_off);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
