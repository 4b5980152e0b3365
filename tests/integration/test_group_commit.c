/* The audit spool's group commit (AUDIT_SYNC_MS), against the real broker
 * and a real worker: a request is acknowledged only once its audit record
 * is durable, and the fsync that makes it so waits AUDIT_SYNC_MS after the
 * last one for more records (the first after a quiet spell goes at once);
 * it goes at once too when half of PREFETCH waits for it, or the broker,
 * which delivers no more at PREFETCH, would stall the worker; with 0 every
 * burst commits at once. Watched on the worker's own /metrics:
 * warren_worker_unacked_deliveries and warren_audit_syncs_total. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"
#include "warren/rpc.h"

#define SERVICE "t_group_commit"
#define UNACKED "warren_worker_unacked_deliveries"
#define SYNCS "warren_audit_syncs_total"

static struct proc worker;
static int admin;
static wr_rpc *rpc;

static void teardown(void)
{
    wr_rpc_free(rpc);
    rpc = NULL;
    if (worker.pid > 0)
        h_stop(&worker, SIGTERM);
    worker.pid = 0;
}

/* A worker of its own spool, admin port and queue, with prefetch and the
 * commit's wait as given; and an RPC client for it. */
static void start(const char *prefetch, const char *sync_ms)
{
    static char env_admin[64], env_spool[600];
    char dir[512];
    (void)snprintf(dir, sizeof(dir), "%s/spool-group-commit", h_env("WRT_STATE_DIR"));
    h_empty_dir(dir);
    (void)h_servers_ctl("purge_queue " WR_QUEUE_PREFIX SERVICE);
    /* the worker takes the edges' records too: other programs' would count */
    (void)h_servers_ctl("purge_queue " WR_AUDIT_QUEUE);
    admin = h_free_port();
    (void)snprintf(env_admin, sizeof(env_admin), "WARREN_ADMIN_PORT=%d", admin);
    (void)snprintf(env_spool, sizeof(env_spool), "WARREN_AUDIT_SPOOL_DIR=%s", dir);
    const char *extra[] = {env_admin, env_spool, prefetch, sync_ms, NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-group-commit", 0, SERVICE, extra);
    ck_assert(h_wait_ready(admin, 20000));
    struct wr_rpc_opts o = {.amqp_url = h_amqp_url(), .service = SERVICE, .timeout_ms = 10000};
    struct wr_err err = {0};
    rpc = wr_rpc_new(&o, &err);
    ck_assert_msg(rpc != NULL, "%s", err.msg);
}

/* One series of the worker's /metrics. */
static long long metric(const char *series)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(admin, "GET", "/metrics", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200);
    long long v = h_metric(r.body, series);
    h_http_free(&r);
    return v;
}

/* Polls series until it reads want, up to timeout_ms; the last value. */
static long long metric_until(const char *series, long long want, int timeout_ms)
{
    long long v = metric(series);
    for (long long end = h_now_ms() + timeout_ms; v != want && h_now_ms() < end; v = metric(series))
        usleep(20000);
    return v;
}

/* The first request after a quiet spell is synced and acknowledged at
 * once; the second, right behind it, waits for the next commit, 1 s
 * after the first, and is acknowledged then. */
START_TEST(an_ack_waits_for_the_group_commit)
{
    start("WARREN_PREFETCH=256", "WARREN_AUDIT_SYNC_MS=1000");
    h_rpc_get_album(rpc, 1);
    long long t0 = h_now_ms();
    h_rpc_get_album(rpc, 2);
    usleep(300000);
    ck_assert_int_eq(metric(UNACKED), 1); /* the second's record is not durable yet */
    long long syncs = metric(SYNCS);
    ck_assert_int_eq(metric_until(UNACKED, 0, 5000), 0);
    long long waited = h_now_ms() - t0;
    ck_assert_int_eq(metric(SYNCS), syncs + 1);
    ck_assert_msg(waited >= 500, "acknowledged after %lld ms, before its commit was due", waited);
}
END_TEST

/* With PREFETCH 4 and a second between commits, a caller's sequential
 * requests would stall at every fourth (the broker delivers no more) for
 * the rest of the second; the commit goes at once when two wait for it. */
START_TEST(a_filling_prefetch_commits_at_once)
{
    start("WARREN_PREFETCH=4", "WARREN_AUDIT_SYNC_MS=1000");
    long long t0 = h_now_ms();
    for (int i = 1; i <= 40; i++)
        h_rpc_get_album(rpc, i);
    long long took = h_now_ms() - t0;
    /* ten stalls of up to a second each without it */
    ck_assert_msg(took < 5000, "40 calls took %lld ms", took);
    ck_assert_int_eq(metric_until(UNACKED, 0, 3000), 0);
    ck_assert_int_ge(metric(SYNCS), 10);
}
END_TEST

/* AUDIT_SYNC_MS 0: no commit waits for more records, so the second of two
 * back-to-back requests is acknowledged well before the 1 s above; and a
 * zero wait never turns the syncer into a spin once all is durable. */
START_TEST(sync_ms_zero_commits_at_once)
{
    start("WARREN_PREFETCH=256", "WARREN_AUDIT_SYNC_MS=0");
    h_rpc_get_album(rpc, 1);
    long long t0 = h_now_ms();
    h_rpc_get_album(rpc, 2);
    ck_assert_int_eq(metric_until(UNACKED, 0, 5000), 0);
    long long waited = h_now_ms() - t0;
    ck_assert_msg(waited < 500, "acknowledged after %lld ms", waited);
    long long before = h_cpu_ticks(worker.pid);
    usleep(1000000);
    long long idle = h_cpu_ticks(worker.pid) - before, hz = sysconf(_SC_CLK_TCK);
    ck_assert_msg(idle < hz / 10, "an idle worker used %lld ticks of CPU in 1 s (%lld a second)",
                  idle, hz);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("group_commit");
    TCase *tc = tcase_create("group_commit");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, an_ack_waits_for_the_group_commit);
    tcase_add_test(tc, a_filling_prefetch_commits_at_once);
    tcase_add_test(tc, sync_ms_zero_commits_at_once);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
