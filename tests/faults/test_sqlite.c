/* SQLite write-locked by another process (issue 5, fault 7): while the test
 * holds BEGIN EXCLUSIVE on the worker's copy of Chinook for 3 s, reads are
 * served as before (the worker runs the file in WAL mode); writes wait for
 * the lock no longer than their deadline allows, then answer 503, are
 * acknowledged (executed once, never requeued) and not applied; after the
 * lock is released writes apply again. */
#include <check.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "run_suite.h"

static struct fleet fleet;
static sqlite3 *locker;

static void teardown(void)
{
    f_fleet_stop(&fleet);
}

static void release_lock(void *arg)
{
    (void)arg;
    ck_assert_int_eq(sqlite3_exec(locker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
}

static int scalar(sqlite3 *db, const char *sql, const char *value)
{
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (value != NULL)
        sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return n;
}

START_TEST(write_locked_by_another_process)
{
    enum { N = 700, TIMEOUT = 1500, HOLD_MS = 3000 };
    char path[512], uri[600];
    f_copy_db("f_locked", path, sizeof(path), uri, sizeof(uri));
    const char *env[] = {uri, "WARREN_Artists__METHODS=GET, POST", "WARREN_REQUEST_TIMEOUT_MS=1500",
                         NULL};
    f_fleet_init(&fleet, "f_locked");
    fleet.worker_env = env;
    fleet.edge_env = env;
    f_worker(&fleet, 0);
    f_worker(&fleet, 1);
    f_edge(&fleet);
    struct http_resp r;
    ck_assert_int_eq(h_http(fleet.port, "GET", "/api/Albums/1", NULL, &r, 10000), 0);
    ck_assert_int_eq(r.status, 200);
    h_http_free(&r);

    ck_assert_int_eq(sqlite3_open(path, &locker), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(locker, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
    printf("sqlite-locked: the worker's database runs in journal mode %s\n",
           (const char *)sqlite3_column_text(st, 0));
    ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);

    checker *c = chk_new(N);
    chk_allow(c, 200);
    chk_allow(c, 201);
    chk_allow(c, 503);
    chk_allow(c, 504); /* a write whose deadline passed while writes ahead of it waited */
    struct load_req *reqs = f_album_reads(N);
    static char bodies[N][96], names[N][64];
    bool is_write[N] = {false};
    for (size_t i = 0; i < N; i += 3) { /* a third of the load writes */
        (void)snprintf(names[i], sizeof(names[i]), "locked-%zu-%.8s", i, chk_at(c, i)->id);
        (void)snprintf(bodies[i], sizeof(bodies[i]), "{\"name\":\"%s\"}", names[i]);
        reqs[i] = (struct load_req){.method = "POST", .body = bodies[i], .expect = names[i]};
        (void)snprintf(reqs[i].path, sizeof(reqs[i].path), "/api/Artists");
        is_write[i] = true;
    }
    ck_assert_int_eq(sqlite3_exec(locker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    struct f_step steps[] = {{HOLD_MS, release_lock, NULL, 0}};
    struct f_faults s = {.steps = steps, .n = 1};
    f_faults_start(&s);
    struct load_opts o = {
        .port = fleet.port, .concurrency = 64, .rate_per_s = 140, .give_up_ms = TIMEOUT + 2000};
    load_run(&o, reqs, N, c);
    f_faults_join(&s);
    f_fleet_stop(&fleet);
    f_collect(&fleet, c);
    struct chk_totals t;
    ck_assert_msg(chk_verdict(c, "sqlite-locked", &t), "see the checker's line");

    long long slowest_read = 0;
    size_t reads = 0, refused = 0, applied = 0, during = 0;
    for (size_t i = 0; i < N; i++) {
        const struct chk_call *k = chk_at(c, i);
        /* executed once at most: a refused write is acknowledged, not requeued */
        ck_assert_msg(k->executions <= 1, "call %zu (%d) executed %d times", i, k->status,
                      k->executions);
        if (!is_write[i]) {
            ck_assert_msg(k->status == 200, "read %zu answered %d", i, k->status);
            long long ms = k->answered_ms - k->sent_ms;
            slowest_read = ms > slowest_read ? ms : slowest_read;
            reads++;
            continue;
        }
        int rows = scalar(locker, "SELECT count(*) FROM artists WHERE Name = ?", names[i]);
        /* 201: applied; 503: not applied; 504: unknown, at most once */
        ck_assert_msg(k->status == 504 ? rows <= 1 : rows == (k->status == 201),
                      "write %zu: %d, %d rows", i, k->status, rows);
        refused += k->status == 503 || k->status == 504;
        applied += (size_t)rows;
        during += k->sent_ms < s.t0 + HOLD_MS - TIMEOUT;
    }
    printf("sqlite-locked: %zu reads (slowest %lld ms), writes: %zu refused with 503 while "
           "locked, %zu applied\n",
           reads, slowest_read, refused, applied);
    ck_assert_msg(refused >= during && refused > 0, "%zu writes sent during the lock, %zu refused",
                  during, refused);
    ck_assert_msg(applied > 0, "no write applied after the lock");
    /* Readers never fail for the lock (WAL). They may wait behind a write
     * that waits for it on the same worker (one thread serves both). */
    ck_assert_msg(slowest_read < TIMEOUT, "a read took %lld ms", slowest_read);
    sqlite3_close(locker);
    free(reqs);
    chk_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_sqlite");
    TCase *tc = tcase_create("sqlite");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, write_locked_by_another_process);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
