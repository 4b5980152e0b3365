/* One process's clock stepped backwards and forwards under load (issue 12,
 * item 11), with libfaketime (Debian's faketime) preloaded into that
 * process only, never the machine's clock. Its monotonic clock is left
 * alone, as an NTP step or an operator's `date -s` would. Deadlines are
 * judged on the steady clock (warren/clock.h), so a step moves none:
 * nothing is dropped as expired, nothing waits an hour, a request that
 * really outlived its deadline is still not executed; the audit record's
 * time is the wall clock the worker read. */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "run_suite.h"
#include "warren/clock.h"

#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
#define HOUR_MS (3600LL * 1000)

static struct fleet fleet;
static char step_file[512];

/* Sets the faked offset ("+0", "+1h", "-1h"); the preloaded library reads
 * the file at every clock call (FAKETIME_NO_CACHE). Written whole, then
 * renamed, so it never reads half a line. */
static void set_offset(const char *offset)
{
    char tmp[600];
    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", step_file);
    FILE *f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    (void)fprintf(f, "%s\n", offset);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(rename(tmp, step_file), 0);
}

static void step_forward(void *arg)
{
    (void)arg;
    set_offset("+1h");
}

static void step_back(void *arg)
{
    (void)arg;
    set_offset("-1h");
}

/* The environment that preloads libfaketime into one process. */
static char preload[64] = "LD_PRELOAD=" FAKETIME_LIB;
static char timestamp_file[600];
static const char *faked[] = {preload,
                              timestamp_file,
                              "FAKETIME_NO_CACHE=1",
                              "FAKETIME_DONT_FAKE_MONOTONIC=1",
                              "WARREN_REQUEST_TIMEOUT_MS=3000",
                              NULL};
static const char *plain[] = {"WARREN_REQUEST_TIMEOUT_MS=3000", NULL};

static void setup(void)
{
    ck_assert_msg(access(FAKETIME_LIB, R_OK) == 0, "no %s (Debian's faketime)", FAKETIME_LIB);
    (void)snprintf(step_file, sizeof(step_file), "%s/faketime-%d", h_env("WRT_STATE_DIR"),
                   getpid());
    (void)snprintf(timestamp_file, sizeof(timestamp_file), "FAKETIME_TIMESTAMP_FILE=%s", step_file);
    set_offset("+0");
    /* ASan wants its runtime first among the libraries; libfaketime is
     * preloaded before it in the processes under test. And ASan's
     * allocator, when it may give memory back to the kernel (every 5 s at
     * most), reads the monotonic clock inside free(): with
     * FAKETIME_NO_CACHE, libfaketime rereads its file inside its own
     * clock call, holding its lock, and the fclose() there frees; a free
     * that reads the clock then waits on that lock for ever (the trace in
     * wolfcw/libfaketime#365; its fix is not in Debian's 0.9.10). A
     * worker hung so at random: every request 504. Without the release
     * the allocator reads no clock: a loop of mallocs and clock calls
     * under ASan and libfaketime hangs at once with quarantine_size_mb=0
     * and runs 20 s through with the release off. */
    const char *asan = getenv("ASAN_OPTIONS");
    if (asan != NULL && strstr(asan, "verify_asan_link_order") == NULL) {
        char opts[512];
        (void)snprintf(opts, sizeof(opts),
                       "%s:verify_asan_link_order=0:allocator_release_to_os_interval_ms=-1", asan);
        setenv("ASAN_OPTIONS", opts, 1);
    }
}

static void teardown(void)
{
    f_fleet_stop(&fleet);
    (void)unlink(step_file);
}

/* Runs 1,800 reads at 200/s (9 s) while the steps run at 2 s (+1h) and
 * 5 s (-1h); every one must be answered 200. */
static void stepped_load(const char *name)
{
    struct load_opts o = {
        .port = fleet.port, .concurrency = 32, .rate_per_s = 200, .give_up_ms = 3000 + 2000};
    struct f_step steps[] = {{2000, step_forward, NULL, 0}, {5000, step_back, NULL, 0}};
    struct f_faults s = {.steps = steps, .n = 2};
    checker *c = chk_new(1800);
    chk_allow(c, 200);
    struct load_req *reqs = f_album_reads(1800);
    f_faults_start(&s);
    load_run(&o, reqs, 1800, c);
    f_faults_join(&s);
    free(reqs);
    f_collect(&fleet, c);
    struct chk_totals t;
    bool ok = chk_verdict(c, name, &t);
    ck_assert_msg(ok, "%s: a request was lost, hung, failed or answered twice (see above)", name);
    ck_assert_int_eq(t.ok, 1800);
    chk_free(c);
}

/* Counts the audit records in the fleet's spools whose time is more than
 * 50 minutes ahead of (*ahead) or behind (*behind) the machine's clock. */
static void audit_times(size_t *ahead, size_t *behind)
{
    static const char key[] = "\"time\":{\"$date\":{\"$numberLong\":\"";
    long long now = wr_now_ms();
    *ahead = *behind = 0;
    DIR *d = opendir(fleet.spool_dir);
    ck_assert_ptr_nonnull(d);
    const struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, ".spool") == NULL)
            continue;
        char path[1024];
        (void)snprintf(path, sizeof(path), "%s/%s", fleet.spool_dir, e->d_name);
        char *text = h_read_file(path, NULL);
        for (const char *p = text; p != NULL && (p = strstr(p, key)) != NULL; p++) {
            long long t = strtoll(p + sizeof(key) - 1, NULL, 10);
            *ahead += t > now + 50 * 60 * 1000;
            *behind += t < now - 50 * 60 * 1000;
        }
        free(text);
    }
    closedir(d);
}

START_TEST(worker_clock_steps)
{
    f_fleet_init(&fleet, "f_clock_w");
    fleet.edge_env = plain;
    fleet.worker_env = faked;
    f_worker(&fleet, 0);
    f_edge(&fleet);
    stepped_load("worker-clock-steps");
    f_fleet_stop(&fleet); /* the spool is complete once the worker stopped */
    size_t ahead, behind;
    audit_times(&ahead, &behind);
    printf("worker-clock-steps: %zu audit records an hour ahead, %zu an hour behind\n", ahead,
           behind);
    ck_assert_msg(ahead > 0 && behind > 0, "the audit time does not follow the wall clock");
}
END_TEST

START_TEST(edge_clock_steps)
{
    f_fleet_init(&fleet, "f_clock_e");
    fleet.edge_env = faked;
    f_worker(&fleet, 0);
    f_edge(&fleet);
    stepped_load("edge-clock-steps");
}
END_TEST

static void freeze(void *arg)
{
    (void)arg;
    ck_assert_int_eq(kill(fleet.workers[0].pid, SIGSTOP), 0);
}

/* A request that outlives its deadline while its worker, whose wall clock
 * went an hour back, is frozen: never executed (judged by the wall clock,
 * it would have an hour left). */
START_TEST(expired_behind_stepped_clock)
{
    enum { N = 50 };
    static const char *env[] = {preload, timestamp_file, "FAKETIME_NO_CACHE=1",
                                "FAKETIME_DONT_FAKE_MONOTONIC=1", NULL};
    static const char *short_deadline[] = {"WARREN_REQUEST_TIMEOUT_MS=600", NULL};
    f_fleet_init(&fleet, "f_clock_x");
    fleet.worker_env = env;
    fleet.edge_env = short_deadline;
    f_worker(&fleet, 0);
    f_edge(&fleet);
    struct http_resp r;
    ck_assert_int_eq(h_http(fleet.port, "GET", "/api/Albums/1", NULL, &r, 5000), 0);
    ck_assert_int_eq(r.status, 200); /* warm: the worker consumes */
    h_http_free(&r);
    step_back(NULL);
    freeze(NULL);
    checker *c = chk_new(N);
    chk_allow(c, 504);
    struct load_req *reqs = f_album_reads(N);
    struct load_opts o = {.port = fleet.port, .concurrency = N, .give_up_ms = 600 + 2000};
    load_run(&o, reqs, N, c);
    ck_assert_int_eq(kill(fleet.workers[0].pid, SIGCONT), 0);
    usleep(1500000); /* time to go through what it held */
    f_fleet_stop(&fleet);
    f_collect(&fleet, c);
    struct chk_totals t;
    ck_assert_msg(chk_verdict(c, "expired-behind-stepped-clock", &t), "see the checker's line");
    ck_assert_msg(t.executed == 0, "%zu expired requests were executed", t.executed);
    free(reqs);
    chk_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_clock");
    TCase *tc = tcase_create("clock");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, worker_clock_steps);
    tcase_add_test(tc, edge_clock_steps);
    tcase_add_test(tc, expired_behind_stepped_clock);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
