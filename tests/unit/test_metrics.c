/* The metrics registry and its text format 0.0.4: naming rules enforced at
 * registration, one series per set of label values (capped), exact text
 * for counters, gauges and histograms (cumulative buckets, le inclusive,
 * sum in seconds), escaping of hostile label values, hooks, and exact
 * counts under concurrent updates and series creation. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "run_suite.h"
#include "warren/err.h"
#include "warren/metrics.h"

static const char *const one[] = {"op", NULL};
static const char *const two[] = {"op", "status", NULL};

START_TEST(names_follow_the_rules)
{
    wr_metrics *m = wr_metrics_new();
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_null(wr_metrics_counter(m, "warren_requests", "no _total", NULL));
    ck_assert_ptr_null(wr_metrics_histogram(m, "warren_latency", "no _seconds", NULL));
    ck_assert_ptr_null(wr_metrics_gauge(m, "9lives", "starts with a digit", NULL));
    ck_assert_ptr_null(wr_metrics_gauge(m, "a-b", "a dash", NULL));
    ck_assert_ptr_null(wr_metrics_gauge(m, "", "empty", NULL));
    ck_assert_ptr_null(wr_metrics_gauge(m, "warren_x", "two\nlines", NULL));
    static const char *const reserved[] = {"__name", NULL};
    ck_assert_ptr_null(wr_metrics_gauge(m, "warren_x", "reserved label", reserved));
    static const char *const colon[] = {"a:b", NULL};
    ck_assert_ptr_null(wr_metrics_gauge(m, "warren_x", "colon in a label", colon));
    static const char *const le[] = {"le", NULL};
    ck_assert_ptr_null(wr_metrics_histogram(m, "warren_x_seconds", "le is the buckets'", le));
    ck_assert_ptr_nonnull(wr_metrics_gauge(m, "warren_x", "le is fine on a gauge", le));
    static const char *const four[] = {"a", "b", "c", "d", NULL};
    ck_assert_ptr_null(wr_metrics_gauge(m, "warren_y", "four labels", four));
    ck_assert_ptr_null(wr_metrics_gauge(m, "warren_x", "taken", NULL));
    ck_assert_ptr_nonnull(wr_metrics_counter(m, "warren:rule_total", "colons in names", two));
    ck_assert_ptr_null(wr_metrics_counter(NULL, "warren_z_total", "no registry", NULL));
    wr_metrics_free(m);
    wr_metrics_free(NULL);
}
END_TEST

/* The registry's text, NUL-terminated, in a static buffer. */
static const char *text(wr_metrics *m)
{
    static char out[65536];
    struct wr_buf b;
    wr_buf_init(&b, sizeof(out) - 1);
    ck_assert_int_eq(wr_metrics_write(m, &b), 0);
    ck_assert_uint_lt(b.len, sizeof(out));
    memcpy(out, b.data ? b.data : "", b.len);
    out[b.len] = '\0';
    wr_buf_release(&b);
    return out;
}

START_TEST(counters_and_gauges_in_text)
{
    wr_metrics *m = wr_metrics_new();
    wr_metric *req = wr_metrics_counter(m, "warren_requests_total", "Requests \\ answered", two);
    wr_metric *up = wr_metrics_gauge(m, "warren_up", "Up", NULL);
    wr_metrics_counter(m, "warren_unused_total", "Never used", one);
    wr_series *ok = wr_metric_series(req, (const char *const[]){"get", "200"});
    wr_series_add(ok, 2);
    wr_series_add(wr_metric_series(req, (const char *const[]){"get", "200"}), 1);
    ck_assert_ptr_eq(wr_metric_series(req, (const char *const[]){"get", "200"}), ok);
    wr_series_add(wr_metric_series(req, (const char *const[]){"list", "404"}), 1);
    wr_series *u = wr_metric_series(up, NULL);
    wr_series_set(u, 5);
    wr_series_move(u, -7);
    ck_assert_int_eq(wr_series_value(ok), 3);
    ck_assert_int_eq(wr_series_value(u), -2);
    ck_assert_str_eq(text(m), "# HELP warren_requests_total Requests \\\\ answered\n"
                              "# TYPE warren_requests_total counter\n"
                              "warren_requests_total{op=\"get\",status=\"200\"} 3\n"
                              "warren_requests_total{op=\"list\",status=\"404\"} 1\n"
                              "# HELP warren_up Up\n"
                              "# TYPE warren_up gauge\n"
                              "warren_up -2\n"
                              "# HELP warren_unused_total Never used\n"
                              "# TYPE warren_unused_total counter\n");
    wr_metrics_free(m);
}
END_TEST

START_TEST(histogram_buckets_are_cumulative)
{
    wr_metrics *m = wr_metrics_new();
    wr_metric *h = wr_metrics_histogram(m, "warren_d_seconds", "Durations", one);
    wr_series *s = wr_metric_series(h, (const char *const[]){"get"});
    wr_series_observe_ns(s, 50000);        /* 50 us: the first bucket */
    wr_series_observe_ns(s, 1000000);      /* 1 ms: le="0.001" takes it (le is <=) */
    wr_series_observe_ns(s, 1000001);      /* just past: the next one */
    wr_series_observe_ns(s, 20000000000u); /* 20 s: +Inf only */
    const char *t = text(m);
    ck_assert_ptr_nonnull(strstr(t, "# TYPE warren_d_seconds histogram\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"0.0001\"} 1\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"0.00025\"} 1\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"0.0005\"} 1\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"0.001\"} 2\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"0.0025\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(t, "warren_d_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"2.5\"} 3\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"5\"} 3\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"10\"} 3\n"
                                    "warren_d_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
                                    "warren_d_seconds_sum{op=\"get\"} 20.002050001\n"
                                    "warren_d_seconds_count{op=\"get\"} 4\n"));
    /* observing a counter's series does nothing */
    wr_metric *c = wr_metrics_counter(m, "warren_c_total", "C", NULL);
    wr_series_observe_ns(wr_metric_series(c, NULL), 5);
    ck_assert_int_eq(wr_series_value(wr_metric_series(c, NULL)), 0);
    /* without labels: only le */
    wr_metric *bare = wr_metrics_histogram(m, "warren_e_seconds", "E", NULL);
    wr_series_observe_ns(wr_metric_series(bare, NULL), 1);
    ck_assert_ptr_nonnull(strstr(text(m), "warren_e_seconds_bucket{le=\"0.0001\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(text(m), "warren_e_seconds_sum 0.000000001\n"));
    wr_metrics_free(m);
}
END_TEST

START_TEST(hostile_label_values_are_escaped)
{
    wr_metrics *m = wr_metrics_new();
    wr_metric *g = wr_metrics_gauge(m, "warren_g", "G", one);
    wr_series_set(wr_metric_series(g, (const char *const[]){"a\"b\\c\nd\xff"}), 1);
    ck_assert_ptr_nonnull(strstr(text(m), "warren_g{op=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\"} 1\n"));
    /* a value is cut at WR_METRIC_LABEL_MAX bytes, so two long values that
     * agree that far are one series */
    char a[200], b[200];
    memset(a, 'x', sizeof(a) - 1);
    a[sizeof(a) - 1] = '\0';
    memcpy(b, a, sizeof(b));
    b[150] = 'y';
    wr_series *sa = wr_metric_series(g, (const char *const[]){a});
    ck_assert_ptr_eq(wr_metric_series(g, (const char *const[]){b}), sa);
    /* a missing value is the empty string */
    wr_series_set(wr_metric_series(g, NULL), 3);
    ck_assert_ptr_nonnull(strstr(text(m), "warren_g{op=\"\"} 3\n"));
    wr_metrics_free(m);
}
END_TEST

START_TEST(series_are_capped)
{
    wr_metrics *m = wr_metrics_new();
    wr_metric *c = wr_metrics_counter(m, "warren_c_total", "C", one);
    for (int i = 0; i < WR_METRIC_MAX_SERIES; i++) {
        char v[16];
        (void)snprintf(v, sizeof(v), "%d", i);
        ck_assert_ptr_nonnull(wr_metric_series(c, (const char *const[]){v}));
    }
    ck_assert_ptr_null(wr_metric_series(c, (const char *const[]){"one more"}));
    ck_assert_ptr_nonnull(wr_metric_series(c, (const char *const[]){"7"})); /* an old one */
    wr_series_add(NULL, 1); /* updates of no series do nothing */
    wr_series_set(NULL, 1);
    wr_series_move(NULL, 1);
    wr_series_observe_ns(NULL, 1);
    ck_assert_int_eq(wr_series_value(NULL), 0);
    ck_assert_ptr_null(wr_metric_series(NULL, NULL));
    wr_metrics_free(m);
}
END_TEST

static int hook_calls;
static void hook(void *arg)
{
    hook_calls++;
    wr_series_set(arg, hook_calls * 10);
}

START_TEST(hooks_run_before_writing)
{
    wr_metrics *m = wr_metrics_new();
    wr_series *g = wr_metric_series(wr_metrics_gauge(m, "warren_g", "G", NULL), NULL);
    ck_assert_int_eq(wr_metrics_on_write(m, hook, g), 0);
    ck_assert_ptr_nonnull(strstr(text(m), "warren_g 10\n"));
    ck_assert_ptr_nonnull(strstr(text(m), "warren_g 20\n"));
    wr_metrics_hook_remove(m, hook, g);
    ck_assert_ptr_nonnull(strstr(text(m), "warren_g 20\n"));
    ck_assert_int_eq(hook_calls, 2);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(wr_metrics_on_write(m, hook, NULL), 0);
    ck_assert_int_eq(wr_metrics_on_write(m, hook, NULL), WR_ETOOBIG);
    wr_metrics_free(m);
}
END_TEST

#define THREADS 4
#define ROUNDS 20000

static void *hammer(void *arg)
{
    wr_metric *c = arg;
    for (int i = 0; i < ROUNDS; i++) {
        char v[8];
        (void)snprintf(v, sizeof(v), "%d", i % 50); /* every thread makes the same 50 */
        wr_series_add(wr_metric_series(c, (const char *const[]){v}), 1);
    }
    return NULL;
}

static void *scrape(void *arg)
{
    for (int i = 0; i < 50; i++) {
        struct wr_buf b;
        wr_buf_init(&b, 1 << 20);
        ck_assert_int_eq(wr_metrics_write(arg, &b), 0);
        wr_buf_release(&b);
    }
    return NULL;
}

START_TEST(concurrent_updates_are_exact)
{
    wr_metrics *m = wr_metrics_new();
    wr_metric *c = wr_metrics_counter(m, "warren_c_total", "C", one);
    pthread_t t[THREADS + 1];
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, c), 0);
    ck_assert_int_eq(pthread_create(&t[THREADS], NULL, scrape, m), 0);
    for (int i = 0; i <= THREADS; i++)
        pthread_join(t[i], NULL);
    long long total = 0;
    for (int i = 0; i < 50; i++) {
        char v[8];
        (void)snprintf(v, sizeof(v), "%d", i);
        total += wr_series_value(wr_metric_series(c, (const char *const[]){v}));
    }
    ck_assert_int_eq(total, (long long)THREADS * ROUNDS);
    /* 50 series, never one twice */
    const char *t50 = text(m);
    int lines = 0;
    for (const char *p = t50; (p = strstr(p, "warren_c_total{")) != NULL; p++)
        lines++;
    ck_assert_int_eq(lines, 50);
    wr_metrics_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, names_follow_the_rules);
    tcase_add_test(tc, counters_and_gauges_in_text);
    tcase_add_test(tc, histogram_buckets_are_cumulative);
    tcase_add_test(tc, hostile_label_values_are_escaped);
    tcase_add_test(tc, series_are_capped);
    tcase_add_test(tc, hooks_run_before_writing);
    tcase_add_test(tc, concurrent_updates_are_exact);
    suite_add_tcase(s, tc);
    return run_suite(s, true);
}
