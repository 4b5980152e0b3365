/* Redis and MongoDB outages under load (issue 5, fault 8): with the cache
 * stopped and started, then the audit database stopped and started, while
 * reads flow, every answer is a correct 200, every request is executed
 * once, and every audit record reaches MongoDB exactly once after it is
 * back (counted in the MongoDB test peer). */
#include <check.h>
#include <mongoc/mongoc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "run_suite.h"

static struct fleet fleet;

static void teardown(void)
{
    f_fleet_stop(&fleet);
    h_servers("start-redis");
    h_servers("start-mongo");
}

static void servers(void *arg)
{
    ck_assert_int_eq(h_servers(arg), 0);
}

static mongoc_collection_t *coll(mongoc_client_t **client)
{
    char uri[128];
    (void)snprintf(uri, sizeof(uri), "mongodb://127.0.0.1:%s/?serverSelectionTimeoutMS=2000",
                   h_env("WRT_MONGO_PORT"));
    *client = mongoc_client_new(uri);
    ck_assert_ptr_nonnull(*client);
    return mongoc_client_get_collection(*client, "warren", "audit_faults");
}

/* Resets every call's record count to what MongoDB holds; returns the
 * number of documents in the collection. */
static size_t count_in_mongo(checker *c)
{
    for (size_t i = 0; i < chk_count(c); i++)
        chk_at(c, i)->records = 0;
    mongoc_client_t *client;
    mongoc_collection_t *m = coll(&client);
    bson_t filter = BSON_INITIALIZER;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(m, &filter, NULL, NULL);
    const bson_t *doc;
    size_t total = 0;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        total++;
        if (bson_iter_init_find(&it, doc, "request_id") && BSON_ITER_HOLDS_UTF8(&it)) {
            struct chk_call *k = chk_find(c, bson_iter_utf8(&it, NULL));
            if (k != NULL)
                k->records++;
        }
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    mongoc_collection_destroy(m);
    mongoc_client_destroy(client);
    return total;
}

START_TEST(redis_and_mongo_outages_under_load)
{
    enum { N = 2400 };
    mongoc_init();
    mongoc_client_t *client;
    mongoc_collection_t *m = coll(&client);
    (void)mongoc_collection_drop(m, NULL);
    mongoc_collection_destroy(m);
    mongoc_client_destroy(client);
    /* edge records other test programs left behind would land here too
     * (faults_edge's refusals, when it ran just before) */
    (void)h_servers_ctl("purge_queue warren.audit");
    char redis[128], mongo[128];
    (void)snprintf(redis, sizeof(redis), "WARREN_REDIS_URL=redis://127.0.0.1:%s/0",
                   h_env("WRT_REDIS_PORT"));
    (void)snprintf(mongo, sizeof(mongo), "WARREN_MONGO_URI=mongodb://127.0.0.1:%s/",
                   h_env("WRT_MONGO_PORT"));
    /* every read through the cache, however cheap: the outage must be felt */
    const char *env[] = {redis, mongo, "WARREN_AUDIT_COLLECTION=audit_faults",
                         "WARREN_CACHE_MIN_COST_US=0", NULL};
    f_fleet_init(&fleet, "f_deps");
    fleet.worker_env = env;
    f_worker(&fleet, 0);
    f_worker(&fleet, 1);
    f_edge(&fleet);
    checker *c = chk_new(N);
    chk_allow(c, 200); /* nothing else: the cache and the audit trail are off the answer's path */
    struct load_req *reqs = f_album_reads(N);
    struct load_opts o = {
        .port = fleet.port, .concurrency = 32, .rate_per_s = 300, .give_up_ms = 5000 + 2000};
    struct f_step steps[] = {{1000, servers, "stop-redis", 0},
                             {2500, servers, "start-redis", 0},
                             {4000, servers, "stop-mongo", 0},
                             {6000, servers, "start-mongo", 0}};
    struct f_faults s = {.steps = steps, .n = 4};
    f_faults_start(&s);
    load_run(&o, reqs, N, c);
    f_faults_join(&s);
    /* every record in MongoDB once, shipped from the spools after it is back */
    long long end = h_now_ms() + 30000;
    size_t total = 0, missing = N;
    while (h_now_ms() < end && missing > 0) {
        total = count_in_mongo(c);
        missing = 0;
        for (size_t i = 0; i < N; i++)
            missing += chk_at(c, i)->records == 0;
        if (missing > 0)
            usleep(300000);
    }
    f_fleet_stop(&fleet);
    for (size_t i = 0; i < fleet.nlogs; i++)
        chk_scan_log(c, fleet.logs[i]);
    struct chk_totals t;
    ck_assert_msg(chk_verdict(c, "redis-mongo-outages", &t), "see the checker's line");
    size_t twice = 0;
    for (size_t i = 0; i < N; i++)
        twice += chk_at(c, i)->records > 1;
    printf("redis-mongo-outages: %zu documents in MongoDB for %d requests, %zu missing, %zu "
           "twice\n",
           total, N, missing, twice);
    ck_assert_msg(missing == 0 && twice == 0 && total == N, "audit records not exactly once");
    ck_assert_msg(t.executed == N, "%zu executions for %d requests", t.executed, N);
    free(reqs);
    chk_free(c);
    mongoc_cleanup();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fault_deps");
    TCase *tc = tcase_create("deps");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_set_timeout(tc, 150);
    tcase_add_test(tc, redis_and_mongo_outages_under_load);
    suite_add_tcase(s, tc);
    return h_verdict(run_suite(s, false));
}
