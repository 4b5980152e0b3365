/* Unit tests for the edge's Date and Content-Length writers (httpdate.h):
 * the IMF-fixdate of known instants (as gmtime and strftime in the C
 * locale write them) and a cached date that moves with each second. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "httpdate.h"
#include "run_suite.h"

static void date_is(time_t t, const char *want)
{
    char out[HTTPDATE_LEN + 1];
    memset(out, 'x', sizeof(out));
    httpdate_format(t, out);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(strlen(out), HTTPDATE_LEN);
}

START_TEST(known_dates)
{
    date_is(0, "Thu, 01 Jan 1970 00:00:00 GMT");
    date_is(784111777, "Sun, 06 Nov 1994 08:49:37 GMT"); /* RFC 9110's example */
    date_is(951782400, "Tue, 29 Feb 2000 00:00:00 GMT");
    date_is(1798761599, "Thu, 31 Dec 2026 23:59:59 GMT");
    date_is(4107542400, "Mon, 01 Mar 2100 00:00:00 GMT"); /* 2100 is no leap year */
    date_is(-1, "Wed, 31 Dec 1969 23:59:59 GMT");
}
END_TEST

/* Every day of 1900-2200 at a varying time, against gmtime_r and
 * strftime (the C locale's names are RFC 9110's). */
START_TEST(matches_gmtime)
{
    for (int64_t t = -2208988800LL; t < 7258118400LL; t += 3 * 86400 + 3607) {
        struct tm tm;
        time_t tt = (time_t)t;
        ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
        char want[64];
        ck_assert_uint_eq(strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm),
                          HTTPDATE_LEN);
        char got[HTTPDATE_LEN + 1];
        httpdate_format(tt, got);
        ck_assert_str_eq(got, want);
    }
}
END_TEST

START_TEST(cache_moves_each_second)
{
    struct httpdate c = {0};
    const char *a = httpdate_get(&c, 784111777);
    ck_assert_str_eq(a, "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_str_eq(httpdate_get(&c, 784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_str_eq(httpdate_get(&c, 784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
    ck_assert_str_eq(httpdate_get(&c, 784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    /* a zeroed cache at the epoch itself is formatted, not taken as held */
    struct httpdate z = {0};
    ck_assert_str_eq(httpdate_get(&z, 0), "Thu, 01 Jan 1970 00:00:00 GMT");
    /* now: today's date, the same as time(NULL) formatted (unless the
     * second turned in between: then the next one) */
    time_t before = time(NULL);
    char now[HTTPDATE_LEN + 1];
    snprintf(now, sizeof(now), "%s", httpdate_now());
    char b[HTTPDATE_LEN + 1], n[HTTPDATE_LEN + 1];
    httpdate_format(before, b);
    httpdate_format(before + 1, n);
    ck_assert_msg(strcmp(now, b) == 0 || strcmp(now, n) == 0, "%s", now);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("httpdate");
    TCase *tc = tcase_create("httpdate");
    tcase_add_test(tc, known_dates);
    tcase_add_test(tc, matches_gmtime);
    tcase_add_test(tc, cache_moves_each_second);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
