/* The broker's resource alarm under load (issue 12, item 10): a disk free
 * limit above the disk's free space makes RabbitMQ block every publishing
 * connection. The edge hears connection.blocked, answers new requests 503
 * with Retry-After at once instead of publishing into a connection that
 * will not move (and instead of letting them wait for their deadline),
 * says so on /readyz and /metrics, and serves again once the alarm clears.
 * Every request is counted by the checker: lost 0, hung 0, twice 0. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "run_suite.h"

#define TIMEOUT_MS 3000
/* An answer that waited for its deadline takes TIMEOUT_MS; "at once" is
 * anything well short of it, with room for a loaded 2-core machine. */
#define AT_ONCE_MS 1000

static struct fleet fleet;

/* The limit the servers start with (tests/lib/servers.sh: 50MB). */
static void clear_alarm(void *arg)
{
    (void)arg;
    ck_assert_int_eq(h_servers_ctl("set_disk_free_limit 50MB"), 0);
}

/* No disk has a petabyte free: the alarm goes off at the next check, which
 * set_disk_free_limit runs at once. */
static void raise_alarm(void *arg)
{
    (void)arg;
    ck_assert_int_eq(h_servers_ctl("set_disk_free_limit 1000000GB"), 0);
}

static void teardown(void)
{
    f_fleet_stop(&fleet);
    (void)h_servers_ctl("set_disk_free_limit 50MB"); /* leave the broker as we found it */
}

static const char *const timeouts[] = {"WARREN_REQUEST_TIMEOUT_MS=3000", NULL};

/* GETs path on the edge; returns the status, the time taken in *took_ms,
 * and in *has whether the body contains needle (when both are given). */
static int get(const char *path, long long *took_ms, const char *needle, bool *has)
{
    struct http_resp r;
    long long t0 = h_now_ms();
    ck_assert_int_eq(h_http(fleet.port, "GET", path, NULL, &r, 10000), 0);
    *took_ms = h_now_ms() - t0;
    int status = r.status;
    if (needle != NULL)
        *has = r.body != NULL && strstr(r.body, needle) != NULL;
    h_http_free(&r);
    return status;
}

/* Polls until GET path answers want (or 20 s pass); returns whether it did. */
static bool wait_status(const char *path, int want)
{
    long long took;
    for (long long end = h_now_ms() + 20000; h_now_ms() < end; usleep(100000))
        if (get(path, &took, NULL, 0) == want)
            return true;
    return false;
}

START_TEST(alarm_blocks_then_clears)
{
    f_fleet_init(&fleet, "f_alarm");
    fleet.edge_env = timeouts;
    f_worker(&fleet, 0);
    f_edge(&fleet);

    raise_alarm(NULL);
    /* RabbitMQ blocks a connection, and says so, at its first publish under
     * the alarm: an idle edge stays ready until a request arrives. That
     * first request waits for its deadline (504) or, had it been routed
     * before the block, is served. */
    long long took;
    int first = get("/api/Albums/1", &took, NULL, NULL);
    ck_assert_msg(first == 504 || first == 200 || first == 503, "first request: %d", first);
    ck_assert_msg(wait_status("/readyz", 503), "/readyz stayed ready under the alarm (%s)",
                  fleet.edge.log);
    bool blocked = false;
    ck_assert_int_eq(get("/metrics", &took, "\nwarren_amqp_blocked 1\n", &blocked), 200);
    ck_assert_msg(blocked, "/metrics does not say warren_amqp_blocked 1");
    long long worst = 0;
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(get("/api/Albums/1", &took, NULL, 0), 503);
        worst = took > worst ? took : worst;
    }
    printf("broker-alarm: slowest 503 %lld ms (deadline %d ms)\n", worst, TIMEOUT_MS);
    ck_assert_msg(worst < AT_ONCE_MS, "a 503 under the alarm took %lld ms", worst);

    clear_alarm(NULL);
    long long cleared = h_now_ms();
    ck_assert_msg(wait_status("/api/Albums/1", 200), "not served after the alarm cleared");
    printf("broker-alarm: served %lld ms after the alarm cleared\n", h_now_ms() - cleared);
    ck_assert_int_eq(get("/readyz", &took, NULL, 0), 200);
}
END_TEST

START_TEST(alarm_under_load)
{
    f_fleet_init(&fleet, "f_alarm_load");
    fleet.edge_env = timeouts;
    f_worker(&fleet, 0);
    f_worker(&fleet, 1);
    f_edge(&fleet);
    struct load_opts o = {
        .port = fleet.port, .concurrency = 32, .rate_per_s = 200, .give_up_ms = TIMEOUT_MS + 2000};
    struct f_step steps[] = {{1500, raise_alarm, NULL, 0}, {5000, clear_alarm, NULL, 0}};
    struct f_faults s = {.steps = steps, .n = 2};
    checker *c = chk_new(2000);
    chk_allow(c, 200);
    chk_allow(c, 503);
    chk_allow(c, 504); /* published just before the block reached the edge */
    struct load_req *reqs = f_album_reads(2000);
    f_faults_start(&s);
    load_run(&o, reqs, 2000, c); /* 10 s at 200/s */
    f_faults_join(&s);
    free(reqs);
    f_collect(&fleet, c);
    struct chk_totals t;
    bool ok = chk_verdict(c, "broker-alarm", &t);
    /* answered after the alarm cleared: the service came back */
    size_t after = 0;
    for (size_t i = 0; i < chk_count(c); i++) {
        const struct chk_call *k = chk_at(c, i);
        after += k->status == 200 && k->sent_ms >= steps[1].done_ms + 1000;
    }
    printf("broker-alarm: %zu served, %zu 503 (slowest %lld ms), %zu 504, %zu served after "
           "the alarm cleared\n",
           t.ok, t.s503, t.max503_ms, t.s504, after);
    ck_assert_msg(ok, "lost, unexpected, hung or doubly answered requests (see above)");
    ck_assert_msg(t.s503 > 0, "the alarm was not seen: no 503");
    ck_assert_msg(after > 0, "nothing served after the alarm cleared");
    chk_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_alarm");
    TCase *tc = tcase_create("alarm");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, alarm_blocks_then_clears);
    tcase_add_test(tc, alarm_under_load);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
