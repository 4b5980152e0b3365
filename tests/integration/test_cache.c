/* The result cache against real Redis: a miss then hits, keys that ignore
 * parameter order and defaults, generation counters that invalidate every
 * answer holding a table's data, and Redis stopped mid-run: every answer
 * still right (bypass), then hits again once it is back. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "run_suite.h"

#define PORT h_port(3)

static struct proc edge, worker;

static void setup(void)
{
    static char redis[128];
    (void)snprintf(redis, sizeof(redis), "WARREN_REDIS_URL=redis://127.0.0.1:%s/0",
                   h_env("WRT_REDIS_PORT"));
    const char *extra[] = {redis, "WARREN_COLLECTIONS=Albums, Artists", NULL};
    h_spawn_warren(&worker, WARREN_CATALOG_BIN, "catalog-cache", PORT, "t_cache", extra);
    h_spawn_warren(&edge, WARREN_EDGE_BIN, "edge-cache", PORT, "t_cache", extra);
    ck_assert_msg(h_wait_ready(PORT, 15000), "edge not ready (see %s)", edge.log);
}

static void teardown(void)
{
    h_servers("start-redis");
    h_stop(&edge, SIGTERM);
    ck_assert_int_eq(h_stop(&worker, SIGTERM), 0);
}

/* Runs one Redis command on the test server (the writers of a later issue
 * bump counters the same way). */
static void redis_do(const char *cmd)
{
    redisContext *c = redisConnect("127.0.0.1", (int)strtol(h_env("WRT_REDIS_PORT"), NULL, 10));
    ck_assert(c != NULL && !c->err);
    redisReply *r = redisCommand(c, cmd);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    redisFree(c);
}

/* GETs path; returns the X-Cache header's value in out and the body. */
static char *get(const char *path, char *cache, size_t cap)
{
    struct http_resp r;
    ck_assert_int_eq(h_http(PORT, "GET", path, NULL, &r, 10000), 0);
    ck_assert_msg(r.status == 200, "GET %s: %d %s", path, r.status, r.body);
    if (!h_header(&r, "X-Cache", cache, cap))
        cache[0] = '\0';
    return r.body; /* the caller frees */
}

static void assert_cache(const char *path, const char *want, const char *body_want)
{
    char cache[32];
    char *body = get(path, cache, sizeof(cache));
    ck_assert_msg(strcmp(cache, want) == 0, "GET %s: X-Cache %s, want %s", path, cache, want);
    if (body_want != NULL)
        ck_assert_str_eq(body, body_want);
    free(body);
}

START_TEST(miss_then_hit_same_bytes)
{
    redis_do("FLUSHALL");
    char cache[32];
    char *first = get("/api/Albums?page=4", cache, sizeof(cache));
    ck_assert_str_eq(cache, "miss");
    assert_cache("/api/Albums?page=4", "hit", first);
    /* order and defaults of parameters make no new key */
    assert_cache("/api/Albums?results_per_page=10&page=4", "hit", first);
    assert_cache("/api/Albums?page=4&results_per_page=500", "miss", NULL); /* 100 a page */
    free(first);
}
END_TEST

START_TEST(generation_bump_invalidates_dependents)
{
    redis_do("FLUSHALL");
    assert_cache("/api/Albums/5", "miss", NULL);
    assert_cache("/api/Albums/5", "hit", NULL);
    assert_cache("/api/Artists/3", "miss", NULL);
    assert_cache("/api/Artists/3", "hit", NULL);
    /* Albums embed their artist: a change to artists invalidates both. */
    redis_do("INCR warren:gen:artists");
    assert_cache("/api/Albums/5", "miss", NULL);
    assert_cache("/api/Artists/3", "miss", NULL);
    assert_cache("/api/Albums/5", "hit", NULL);
}
END_TEST

START_TEST(redis_down_bypasses_then_recovers)
{
    redis_do("FLUSHALL");
    char cache[32];
    char *want = get("/api/Albums?page=7", cache, sizeof(cache));
    ck_assert_int_eq(h_servers("stop-redis"), 0);
    for (int i = 0; i < 20; i++)
        assert_cache("/api/Albums?page=7", "bypass", want);
    ck_assert_int_eq(h_servers("start-redis"), 0);
    /* Back within the reconnect backoff (at most 5 s): a miss, then hits. */
    long long end = h_now_ms() + 15000;
    bool hit = false;
    while (!hit && h_now_ms() < end) {
        char *body = get("/api/Albums?page=7", cache, sizeof(cache));
        ck_assert_str_eq(body, want);
        free(body);
        hit = strcmp(cache, "hit") == 0;
        usleep(100000);
    }
    ck_assert_msg(hit, "no cache hit after Redis came back (see %s)", worker.log);
    free(want);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("cache");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, miss_then_hit_same_bytes);
    tcase_add_test(tc, generation_bump_invalidates_dependents);
    tcase_add_test(tc, redis_down_bypasses_then_recovers);
    suite_add_tcase(s, tc);
    return run_suite(s, false);
}
