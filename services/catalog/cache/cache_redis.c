/* The result cache over hiredis (see cache.h). hiredis's error model (a
 * NULL reply with c->err, or an error reply) is translated here: any
 * connection error marks Redis down until a backoff passes; an error reply
 * (OOM on SET, say) only counts. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/cache.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/rpc.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define POLL_MS 2

struct cache {
    char *host;
    int port;
    char *password;
    int db;
    bool enabled;
    long timeout_ms;
    long ttl_s;
    long wait_ms;
    redisContext *ctx;
    long long retry_at_ms; /* while down: when to try again */
    long backoff_ms;
    struct cache_stats stats;
};

/* redis://[:password@]host[:port][/db] */
static bool parse_url(cache *c, const char *url)
{
    static const char scheme[] = "redis://";
    if (strncmp(url, scheme, sizeof(scheme) - 1) != 0)
        return false;
    const char *p = url + sizeof(scheme) - 1;
    const char *at = strchr(p, '@');
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL)
            return false;
        c->password = strndup(colon + 1, (size_t)(at - colon - 1));
        p = at + 1;
    }
    size_t host_len = strcspn(p, ":/");
    c->host = strndup(p, host_len);
    p += host_len;
    c->port = 6379;
    if (*p == ':') {
        char *end = NULL;
        long port = strtol(p + 1, &end, 10);
        if (end == p + 1 || port < 1 || port > 65535)
            return false;
        c->port = (int)port;
        p = end;
    }
    if (*p == '/' && p[1] != '\0') {
        char *end = NULL;
        long db = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != '\0' || db < 0 || db > 1000)
            return false;
        c->db = (int)db;
    }
    return c->host != NULL && c->host[0] != '\0';
}

cache *cache_new(const struct cache_opts *opts)
{
    cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 50;
    c->ttl_s = opts->ttl_s > 0 ? opts->ttl_s : 300;
    c->wait_ms = opts->wait_ms >= 0 ? opts->wait_ms : 50;
    c->backoff_ms = BACKOFF_MIN_MS;
    if (opts->url != NULL && opts->url[0] != '\0') {
        c->enabled = parse_url(c, opts->url);
        if (!c->enabled)
            wr_error(NULL, "REDIS_URL is not redis://[:password@]host[:port][/db]: caching off");
    }
    return c;
}

bool cache_enabled(const cache *c)
{
    return c != NULL && c->enabled;
}

void cache_free(cache *c)
{
    if (c == NULL)
        return;
    if (c->ctx != NULL)
        redisFree(c->ctx);
    free(c->host);
    free(c->password);
    free(c);
}

void cache_entry_init(struct cache_entry *e)
{
    *e = (struct cache_entry){.outcome = CACHE_OFF};
    wr_buf_init(&e->value, 64u << 20);
}

void cache_entry_release(struct cache_entry *e)
{
    wr_buf_release(&e->value);
}

const struct cache_stats *cache_stats(const cache *c)
{
    return &c->stats;
}

const char *cache_outcome_name(enum cache_outcome o)
{
    switch (o) {
    case CACHE_HIT:
        return "hit";
    case CACHE_MISS:
        return "miss";
    case CACHE_BYPASS:
        return "bypass";
    case CACHE_SKIP:
        return "skip";
    case CACHE_BEHIND:
        return "behind";
    case CACHE_LOCAL:
        return "local";
    case CACHE_OFF:
        break;
    }
    return "off";
}

static struct timeval ms_tv(long ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

static void go_down(cache *c, const char *why)
{
    if (c->ctx != NULL) {
        wr_warn(NULL, "cache: Redis unusable, bypassing it: %s", why);
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    c->stats.errors++;
    /* Flawfinder: ignore - random() only jitters the reconnect backoff, no secret */
    long jitter = (long)((unsigned long)random() % (unsigned long)(c->backoff_ms / 2 + 1));
    c->retry_at_ms = wr_steady_ms() + c->backoff_ms / 2 + jitter;
    c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : c->backoff_ms * 2;
}

/* Runs one command; NULL (and Redis marked down) on a connection error. */
static redisReply *command(cache *c, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv(c->ctx, argc, argv, lens);
    if (r == NULL)
        go_down(c, c->ctx->errstr);
    return r;
}

static bool authenticate(cache *c)
{
    char db[16];
    (void)snprintf(db, sizeof(db), "%d", c->db);
    const char *auth[] = {"AUTH", c->password};
    const char *select[] = {"SELECT", db};
    redisReply *r = c->password ? command(c, 2, auth, NULL) : NULL;
    bool ok = c->password == NULL || (r != NULL && r->type != REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = ok && c->db != 0 ? command(c, 2, select, NULL) : NULL;
    ok = ok && (c->db == 0 || (r != NULL && r->type != REDIS_REPLY_ERROR));
    freeReplyObject(r);
    return ok;
}

/* A usable connection, or false while Redis is down (retried after the
 * backoff). */
static bool connected(cache *c)
{
    if (c->ctx != NULL)
        return true;
    if (wr_steady_ms() < c->retry_at_ms)
        return false;
    c->ctx = redisConnectWithTimeout(c->host, c->port, ms_tv(c->timeout_ms));
    if (c->ctx == NULL || c->ctx->err) {
        const char *why = c->ctx ? c->ctx->errstr : "out of memory";
        wr_warn(NULL, "cache: cannot reach Redis at %s:%d: %s", c->host, c->port, why);
        if (c->ctx != NULL)
            redisFree(c->ctx);
        c->ctx = NULL;
        go_down(c, why);
        return false;
    }
    /* hiredis bounds only the connect: every command needs its own bound. */
    if (redisSetTimeout(c->ctx, ms_tv(c->timeout_ms)) != REDIS_OK || !authenticate(c)) {
        go_down(c, "setup failed");
        return false;
    }
    wr_info(NULL, "cache: connected to Redis at %s:%d", c->host, c->port);
    c->backoff_ms = BACKOFF_MIN_MS;
    return true;
}

static long long reply_int(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

/* Checks a stored value's counters against the current ones and keeps its
 * payload. Stored values are "<gen>,<gen>,...\n<payload>". */
static bool fresh(const redisReply *value, struct cache_entry *e)
{
    if (value->type != REDIS_REPLY_STRING)
        return false;
    const char *p = value->str;
    const char *end = value->str + value->len;
    for (size_t i = 0; i < e->ndeps; i++) {
        char *next = NULL;
        long long g = strtoll(p, &next, 10);
        if (next == p || g != e->gens[i] || next >= end || *next != (i + 1 < e->ndeps ? ',' : '\n'))
            return false;
        p = next + 1;
    }
    if (e->ndeps == 0) {
        if (p >= end || *p != '\n')
            return false;
        p++;
    }
    wr_buf_reset(&e->value);
    return wr_buf_append(&e->value, p, (size_t)(end - p)) == 0;
}

/* One MGET of the value and its counters. 1 hit, 0 miss, -1 error. */
static int probe(cache *c, const char *key, const char *const *deps, struct cache_entry *e)
{
    const char *argv[CACHE_MAX_DEPS + 2] = {"MGET", key};
    for (size_t i = 0; i < e->ndeps; i++)
        argv[i + 2] = deps[i];
    redisReply *r = command(c, (int)e->ndeps + 2, argv, NULL);
    if (r == NULL)
        return -1;
    int rc = -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == e->ndeps + 1) {
        for (size_t i = 0; i < e->ndeps; i++) /* -1: Redis holds no counter */
            e->gens[i] =
                r->element[i + 1]->type == REDIS_REPLY_NIL ? -1 : reply_int(r->element[i + 1]);
        rc = fresh(r->element[0], e) ? 1 : 0;
    } else {
        c->stats.errors++;
    }
    freeReplyObject(r);
    return rc;
}

static bool take_lock(cache *c, const char *lock)
{
    char px[24];
    (void)snprintf(px, sizeof(px), "%ld", c->wait_ms * 4 + 100);
    const char *argv[] = {"SET", lock, "1", "NX", "PX", px};
    redisReply *r = command(c, 6, argv, NULL);
    bool ok = r != NULL && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return ok;
}

static void lock_name(char *out, size_t cap, const char *key)
{
    (void)snprintf(out, cap, "%s:lock", key);
}

static void unlock(cache *c, const char *key)
{
    char lock[1200];
    lock_name(lock, sizeof(lock), key);
    const char *argv[] = {"DEL", lock};
    freeReplyObject(command(c, 2, argv, NULL));
}

void cache_lookup(cache *c, const char *key, const char *const *deps, size_t ndeps,
                  struct cache_entry *e)
{
    e->outcome = CACHE_OFF;
    e->locked = false;
    e->ndeps = ndeps < CACHE_MAX_DEPS ? ndeps : CACHE_MAX_DEPS;
    if (!c->enabled)
        return;
    e->outcome = CACHE_BYPASS;
    if (!connected(c)) {
        c->stats.bypasses++;
        return;
    }
    int found = probe(c, key, deps, e);
    char lock[1200];
    lock_name(lock, sizeof(lock), key);
    /* A miss: compute if we get the lock, else wait a moment for whoever
     * holds it, then compute anyway rather than fail. The lock is free
     * again once its holder stored the value, maybe between our probe and
     * our taking it: look once more before computing what is there. */
    if (found == 0)
        e->locked = take_lock(c, lock);
    if (e->locked && (found = probe(c, key, deps, e)) != 0) {
        if (c->ctx != NULL) /* else Redis went down: the lock expires */
            unlock(c, key);
        e->locked = false;
    }
    if (found == 0 && !e->locked && c->ctx != NULL) {
        c->stats.waits++;
        for (long waited = 0; found == 0 && waited < c->wait_ms; waited += POLL_MS) {
            struct timespec ts = {0, POLL_MS * 1000000L};
            (void)nanosleep(&ts, NULL);
            found = probe(c, key, deps, e);
        }
    }
    if (found < 0 || c->ctx == NULL) {
        e->outcome = CACHE_BYPASS;
        c->stats.bypasses++;
        return;
    }
    e->outcome = found == 1 ? CACHE_HIT : CACHE_MISS;
    if (found == 1)
        c->stats.hits++;
    else
        c->stats.misses++;
}

void cache_store(cache *c, const char *key, const struct cache_entry *e, const char *value,
                 size_t len)
{
    if (e->outcome != CACHE_MISS || c->ctx == NULL)
        return;
    struct wr_buf v;
    wr_buf_init(&v, (64u << 20) + 4096);
    for (size_t i = 0; i < e->ndeps; i++)
        wr_buf_printf(&v, "%s%lld", i ? "," : "", e->gens[i]);
    wr_buf_putc(&v, '\n');
    wr_buf_append(&v, value, len);
    /* Expiries spread over 90-100% of the TTL, so keys cached together do
     * not all expire together. */
    /* Flawfinder: ignore - random() only spreads expiries, no secret */
    long ttl = c->ttl_s - (long)((unsigned long)random() % (unsigned long)(c->ttl_s / 10 + 1));
    char ex[24];
    (void)snprintf(ex, sizeof(ex), "%ld", ttl < 1 ? 1 : ttl);
    const char *argv[] = {"SET", key, v.data, "EX", ex};
    size_t lens[] = {3, strlen(key), v.len, 2, strlen(ex)};
    redisReply *r = wr_buf_error(&v) == 0 ? command(c, 5, argv, lens) : NULL;
    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        c->stats.errors++; /* full (OOM) or refused: the next read computes again */
        wr_debug(NULL, "cache: SET refused: %s", r->str);
    }
    freeReplyObject(r);
    wr_buf_release(&v);
    if (e->locked && c->ctx != NULL)
        unlock(c, key);
}

void cache_abandon(cache *c, const char *key, const struct cache_entry *e)
{
    if (e->outcome == CACHE_MISS && e->locked && c->ctx != NULL)
        unlock(c, key);
}

/* The counter moves to the position when that is higher, else up by one:
 * strictly up on every bump either way (a value stored under the old
 * counter never matches again), and never below the position of the last
 * write, even when positions started again (another writer file) or a
 * stack without a change log had counted higher. */
static const char bump_script[] =
    "local cur = tonumber(redis.call('GET', KEYS[1])) or 0\n"
    "local pos = tonumber(ARGV[1]) or 0\n"
    "if pos > cur then redis.call('SET', KEYS[1], ARGV[1]) return pos end\n"
    "return redis.call('INCR', KEYS[1])\n";

void cache_bump(cache *c, const char *table, long long position)
{
    if (!c->enabled)
        return;
    char name[256], pos[24];
    (void)snprintf(name, sizeof(name), "warren:gen:%s", table);
    (void)snprintf(pos, sizeof(pos), "%lld", position);
    const char *incr[] = {"INCR", name};
    const char *eval[] = {"EVAL", bump_script, "1", name, pos};
    redisReply *r = !connected(c)  ? NULL
                    : position > 0 ? command(c, 5, eval, NULL)
                                   : command(c, 2, incr, NULL);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
        c->stats.errors++;
        wr_warn(NULL, "cache: could not invalidate %s: cached answers may be stale until their TTL",
                table);
    }
    freeReplyObject(r);
}

void cache_seed(cache *c, const char *table, long long position)
{
    if (!c->enabled || position < 0)
        return;
    char name[256], pos[24];
    (void)snprintf(name, sizeof(name), "warren:gen:%s", table);
    (void)snprintf(pos, sizeof(pos), "%lld", position);
    const char *argv[] = {"SET", name, pos, "NX"};
    freeReplyObject(connected(c) ? command(c, 4, argv, NULL) : NULL);
}
