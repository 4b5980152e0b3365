/* Unit tests for bisecting the events stream (sse_seek.h). The probe reads
 * a stream laid out in an array as RabbitMQ's would answer a consumer: from
 * an offset, the first event at or past it; "first", the first kept; "last",
 * the first event of the last chunk. What must hold: no event at the
 * position sought or later lies before the offset returned (a resume loses
 * nothing), and the offsets read before the first such event stay few (a
 * resume reads little), in few probes. */
#include <check.h>
#include <stdint.h>

#include "run_suite.h"
#include "sse_seek.h"
#include "warren/err.h"

#define MAX_OFFSETS 200000

/* pos[i] is the position at offset first + i; -1: not an event. */
struct stream {
    long long first;
    long long n;
    long long chunk; /* chunks start at first + a multiple of it */
    long long pos[MAX_OFFSETS];
    int calls, fail_at; /* the fail_at-th probe fails (0: none) */
};

static struct stream st;

/* A fixed-seed generator (Knuth's MMIX constants), so a failure replays:
 * a number in [0, n). */
static uint64_t seed;
static long long rnd(long long n)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (long long)((seed >> 33) % (uint64_t)n);
}

static int probe(void *ctx, long long at, struct sse_probe *out)
{
    struct stream *s = ctx;
    if (++s->calls == s->fail_at)
        return WR_ECLOSED;
    long long i = 0;
    if (at == SSE_SEEK_LAST)
        i = (s->n - 1) / s->chunk * s->chunk;
    else if (at >= s->first)
        i = at - s->first;
    for (; i < s->n; i++)
        if (s->pos[i] >= 0) {
            *out = (struct sse_probe){s->first + i, s->pos[i]};
            return 0;
        }
    return 1;
}

/* The offset of the first event at position >= pos, or the stream's end. */
static long long first_at(const struct stream *s, long long pos)
{
    for (long long i = 0; i < s->n; i++)
        if (s->pos[i] >= pos)
            return s->first + i;
    return s->first + s->n;
}

/* A stream of n offsets from first, positions rising from 1 by 0 to
 * max_step (several events of one transaction share a position), one offset
 * in `hole` not an event (0: none) but the last. */
static void make_stream(long long first, long long n, long long chunk, int max_step, int hole)
{
    st = (struct stream){.first = first, .n = n, .chunk = chunk};
    long long p = 1;
    for (long long i = 0; i < n; i++) {
        p += rnd(max_step + 1);
        st.pos[i] = hole > 0 && rnd(hole) == 0 && i < n - 1 ? -1 : p;
    }
}

/* A stream of n offsets from 0 (generated from seed s), and the position
 * at offset i, with *f the first offset holding it. */
static long long stream_and_target(uint64_t s, long long n, long long i, long long *f)
{
    seed = s;
    make_stream(0, n, 100, 1, 0);
    *f = first_at(&st, st.pos[i]);
    return st.pos[i];
}

static long long seek(long long pos, long long lo, long long hi, int *probes)
{
    long long from = -2;
    st.calls = 0;
    ck_assert_int_eq(sse_seek(pos, lo, hi, probe, &st, &from, probes), 0);
    ck_assert_int_eq(*probes, st.calls);
    return from;
}

START_TEST(every_target_of_random_streams)
{
    seed = 7;
    for (int round = 0; round < 40; round++) {
        long long n = 1000 + rnd(MAX_OFFSETS - 1000);
        long long chunk = 1 + rnd(400);
        long long first = rnd(3) == 0 ? rnd(100000) : 0;
        int step = 1 + (int)rnd(3);
        make_stream(first, n, chunk, step, rnd(2) == 0 ? 0 : 50);
        long long top = st.pos[n - 1];
        for (int t = 0; t < 50; t++) {
            long long pos = rnd(top + 10);
            long long f = first_at(&st, pos);
            int probes;
            long long from = seek(pos, -1, -1, &probes);
            ck_assert_msg(from <= f, "from %lld past the first event at %lld, %lld", from, pos, f);
            ck_assert_msg(from >= st.first && f - from <= SSE_SEEK_SCAN + chunk + 8,
                          "from %lld, %lld before the event at %lld", from, f - from, pos);
            int most = 2; /* first, last, then a halving each */
            for (long long span = n; span > SSE_SEEK_SCAN; span = (span + 1) / 2)
                most++;
            ck_assert_msg(probes <= most, "%d probes over %lld offsets", probes, n);
        }
    }
}
END_TEST

/* One transaction of 20,000 events (one position): a probe landing inside
 * it must not start the read there. */
START_TEST(a_transaction_of_many_events)
{
    make_stream(0, 100000, 100, 1, 0);
    for (long long i = 0; i < 100000; i++)
        st.pos[i] = i < 40000 ? i : i < 60000 ? 40000 : i - 20000;
    int probes;
    ck_assert_int_le(seek(40000, -1, -1, &probes), 40000);
    ck_assert_int_ge(seek(40000, -1, -1, &probes), 40000 - SSE_SEEK_SCAN);
    ck_assert_int_le(seek(40001, -1, -1, &probes), 60001);
    ck_assert_int_ge(seek(40001, -1, -1, &probes), 60001 - SSE_SEEK_SCAN);
}
END_TEST

START_TEST(the_index_narrows_or_spares_probes)
{
    long long f, pos = stream_and_target(11, 100000, 60000, &f);
    int probes;
    /* bounds close enough: no probe */
    ck_assert_int_eq(seek(pos, f - 100, f + 100, &probes), f - 100);
    ck_assert_int_eq(probes, 0);
    /* no lower bound, an upper one near the stream's start: no probe either */
    ck_assert_int_lt(seek(st.pos[100], -1, 300, &probes), 0);
    ck_assert_int_eq(probes, 0);
    /* far apart: bisecting between them only */
    long long from = seek(pos, f - 40000, f + 40000, &probes);
    ck_assert(from <= f && f - from <= SSE_SEEK_SCAN);
    ck_assert_int_le(probes, 8);
    /* a lower bound only */
    from = seek(pos, f - 40000, -1, &probes);
    ck_assert(from <= f && f - from <= SSE_SEEK_SCAN);
}
END_TEST

START_TEST(ends_of_the_stream)
{
    int probes;
    make_stream(500, 10000, 64, 2, 0);
    /* before every event: the first, in one probe */
    ck_assert_int_eq(seek(0, -1, -1, &probes), 500);
    ck_assert_int_eq(probes, 1);
    /* past every event: the last chunk, in two */
    long long last = 500 + (10000 - 1) / 64 * 64;
    ck_assert_int_eq(seek(st.pos[9999] + 1, -1, -1, &probes), last);
    ck_assert_int_eq(probes, 2);
    /* a last chunk of no event: from the first (complete, if long) */
    for (long long i = last - 500; i < 10000; i++)
        st.pos[i] = -1;
    ck_assert_int_eq(seek(st.pos[5000], -1, -1, &probes), 500);
    ck_assert_int_eq(probes, 2);
    /* nothing kept: from the start (< 0), in one */
    st.n = 0;
    ck_assert_int_lt(seek(5, -1, -1, &probes), 0);
    ck_assert_int_eq(probes, 1);
}
END_TEST

START_TEST(a_failed_probe_leaves_a_complete_start)
{
    long long f, pos = stream_and_target(3, 150000, 120000, &f);
    for (int fail = 1; fail <= 6; fail++) {
        st.calls = 0;
        st.fail_at = fail;
        long long from = 0;
        int probes = 0;
        ck_assert_int_eq(sse_seek(pos, -1, -1, probe, &st, &from, &probes), WR_ECLOSED);
        ck_assert_int_eq(probes, fail);
        ck_assert_msg(from <= f, "probe %d failing: from %lld past %lld", fail, from, f);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sse_seek");
    TCase *tc = tcase_create("sse_seek");
    tcase_add_test(tc, every_target_of_random_streams);
    tcase_add_test(tc, a_transaction_of_many_events);
    tcase_add_test(tc, the_index_narrows_or_spares_probes);
    tcase_add_test(tc, ends_of_the_stream);
    tcase_add_test(tc, a_failed_probe_leaves_a_complete_start);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
