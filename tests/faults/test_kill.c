/* Workers killed with SIGKILL mid-request under load (issue 5, fault 1).
 * Reads: every request is answered exactly once, 200 (or 504 at its
 * deadline), redelivered to a surviving worker and executed again there.
 * Writes (on a copy of Chinook): every write is applied exactly once,
 * whatever its first answer said, and a retry with the same X-Request-Id
 * gets the first answer without applying it again. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "fault.h"
#include "run_suite.h"

static struct fleet fleet;

static void sigkill_w(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    ck_assert_int_eq(h_stop(&fleet.workers[i], SIGKILL), 128 + SIGKILL);
}

static void start_w(void *arg)
{
    f_worker(&fleet, (size_t)(uintptr_t)arg);
}

static void teardown(void)
{
    f_fleet_stop(&fleet);
}

/* Kill worker 0, start worker 2, kill worker 1, all while the load runs. */
static struct f_step kills[] = {
    {700, sigkill_w, (void *)0, 0},
    {900, start_w, (void *)2, 0},
    {1900, sigkill_w, (void *)1, 0},
};

START_TEST(sigkill_reads_answered_once)
{
    enum { N = 3000 };
    f_fleet_init(&fleet, "f_kill");
    f_worker(&fleet, 0);
    f_worker(&fleet, 1);
    f_edge(&fleet);
    checker *c = chk_new(N);
    chk_allow(c, 200);
    chk_allow(c, 504);
    chk_allow_reexec(c, true); /* reads: redelivered after a kill */
    struct load_req *reqs = f_album_reads(N);
    struct load_opts o = {
        .port = fleet.port, .concurrency = 48, .rate_per_s = 1000, .give_up_ms = 5000 + 3000};
    struct f_faults s = {.steps = kills, .n = sizeof(kills) / sizeof(kills[0])};
    f_faults_start(&s);
    load_run(&o, reqs, N, c);
    f_faults_join(&s);
    f_fleet_stop(&fleet);
    f_collect(&fleet, c);
    struct chk_totals t;
    bool good = chk_verdict(c, "sigkill-reads", &t);
    ck_assert_msg(good, "lost, unexpected, hung or doubly answered requests (see above)");
    size_t unexecuted = 0;
    for (size_t i = 0; i < N; i++)
        unexecuted += chk_at(c, i)->status == 200 && chk_at(c, i)->executions == 0;
    ck_assert_msg(unexecuted == 0, "%zu answers without an execution", unexecuted);
    /* the kills hit requests in flight: some were executed twice */
    ck_assert_msg(t.reexec > 0, "no request was redelivered: the kills missed the load");
    free(reqs);
    chk_free(c);
}
END_TEST

START_TEST(sigkill_writes_applied_once)
{
    enum { N = 600 };
    char path[512], uri[600];
    f_copy_db("f_kill_writes", path, sizeof(path), uri, sizeof(uri));
    const char *env[] = {uri, "WARREN_Artists__METHODS=GET, POST", NULL};
    f_fleet_init(&fleet, "f_killw");
    fleet.worker_env = env;
    fleet.edge_env = env;
    f_worker(&fleet, 0);
    f_worker(&fleet, 1);
    f_edge(&fleet);
    checker *c = chk_new(N);
    chk_allow(c, 201);
    chk_allow(c, 503); /* the broker connection of a killed writer */
    chk_allow(c, 504);
    chk_allow_reexec(c, true); /* executed again, applied once: checked below */
    struct load_req *reqs = calloc(N, sizeof(*reqs));
    static char bodies[N][96], names[N][64];
    for (size_t i = 0; i < N; i++) {
        (void)snprintf(names[i], sizeof(names[i]), "fault-%zu-%.8s", i, chk_at(c, i)->id);
        (void)snprintf(bodies[i], sizeof(bodies[i]), "{\"name\":\"%s\"}", names[i]);
        reqs[i] = (struct load_req){.method = "POST", .body = bodies[i], .expect = names[i]};
        (void)snprintf(reqs[i].path, sizeof(reqs[i].path), "/api/Artists");
    }
    struct load_opts o = {
        .port = fleet.port, .concurrency = 16, .rate_per_s = 250, .give_up_ms = 5000 + 3000};
    struct f_faults s = {.steps = kills, .n = sizeof(kills) / sizeof(kills[0])};
    f_faults_start(&s);
    load_run(&o, reqs, N, c);
    f_faults_join(&s);

    /* Applied exactly once: a 201 has its row, any other answer at most
     * one; then every write that did not answer 201 is sent again with
     * its X-Request-Id: it answers 201 and leaves exactly one row. */
    sqlite3 *db = f_open_db(path);
    struct load_req *again = calloc(N, sizeof(*again));
    static char retry_ids[N][WR_REQUEST_ID_LEN + 1];
    size_t m = 0;
    for (size_t i = 0; i < N; i++) {
        const struct chk_call *k = chk_at(c, i);
        int rows = f_count_rows(db, "SELECT count(*) FROM artists WHERE Name = ?", names[i]);
        ck_assert_msg(rows <= 1, "write %zu applied %d times", i, rows);
        ck_assert_msg(k->status != 201 || rows == 1, "write %zu answered 201, %d rows", i, rows);
        if (k->status == 201)
            continue;
        memcpy(retry_ids[m], k->id, sizeof(k->id));
        again[m++] = reqs[i];
    }
    struct chk_totals t2;
    if (m > 0) {
        checker *retry = chk_new(m);
        for (size_t j = 0; j < m; j++)
            memcpy(chk_at(retry, j)->id, retry_ids[j], sizeof(retry_ids[j]));
        chk_rekey(retry);
        chk_allow(retry, 201);
        o.rate_per_s = 0;
        load_run(&o, again, m, retry);
        ck_assert_msg(chk_verdict(retry, "sigkill-writes-retried", &t2) && t2.ok == m,
                      "a retried write did not answer 201");
        chk_free(retry);
    }
    size_t applied = 0;
    for (size_t i = 0; i < N; i++) {
        int rows = f_count_rows(db, "SELECT count(*) FROM artists WHERE Name = ?", names[i]);
        int ids = f_count_rows(db, "SELECT count(*) FROM warren_applied WHERE message_id = ?",
                               chk_at(c, i)->id);
        ck_assert_msg(rows == 1 && ids == 1, "write %zu: %d rows, %d applied ids", i, rows, ids);
        applied += (size_t)rows;
    }
    printf("sigkill-writes: %zu writes, %zu applied exactly once, %zu retried with their id\n",
           (size_t)N, applied, m);
    sqlite3_close(db);
    f_fleet_stop(&fleet);
    f_collect(&fleet, c);
    struct chk_totals t;
    bool good = chk_verdict(c, "sigkill-writes", &t);
    ck_assert_msg(good, "lost, unexpected, hung or doubly answered writes (see above)");
    free(again);
    free(reqs);
    chk_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_kill");
    TCase *tc = tcase_create("kill");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sigkill_reads_answered_once);
    tcase_add_test(tc, sigkill_writes_applied_once);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
