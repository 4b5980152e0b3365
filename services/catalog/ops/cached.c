/* Read-through caching of replies (see cached.h). Only 200 answers are
 * stored; a stored value is the row count, a newline, the Link header, a
 * newline, then the body. The in-process memo is asked first; only reads
 * the admission table (admit.h) finds costly enough go through Redis. */
#include "ops/cached.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/memo.h"
#include "ops/admit.h"
#include "store/store.h"
#include "warren/codec.h"
#include "warren/err.h"
#include "warren/json_scan.h"

struct cached {
    cache *cache;
    admit *admit;
    long long skips;
    struct reqkey_opts opts;
    struct reqkey key;
    struct cache_entry entry;
    struct wr_buf value;
    bool encoded; /* value holds this request's answer (encode succeeded) */
    replica *rep; /* a replica's: stores only what its file is current for */
    long long behinds;
    memo *memo; /* NULL: no in-process tier */
    /* the data version read for the memo, and in which delivery (0: none) */
    long long version;
    unsigned long long version_delivery;
};

int cached_use_memo(cached *x, size_t max_bytes)
{
    memo_free(x->memo);
    x->memo = memo_new(max_bytes);
    return max_bytes > 0 && x->memo == NULL ? WR_ENOMEM : 0;
}

void cached_on_replica(cached *x, replica *r)
{
    x->rep = r;
}

long long cached_behinds(const cached *x)
{
    return x->behinds;
}

/* Whether a replica's file, at position at before the answer was
 * computed, holds every write the generations read name: each is at or
 * past the position of its table's last write (cache.h; one Redis lost
 * has none, and the last write is unknown). Always true off a replica
 * (its file is the writer's: every bump follows its commit). */
static bool current_for(const cached *x, long long at, const struct cache_entry *e)
{
    for (size_t i = 0; x->rep != NULL && i < e->ndeps; i++)
        if (e->gens[i] < 0 || e->gens[i] > at) /* no counter: the last write is unknown */
            return false;
    return true;
}

cached *cached_new(cache *c, const struct reqkey_opts *opts, long min_cost_us)
{
    cached *x = calloc(1, sizeof(*x));
    if (x != NULL)
        x->admit = admit_new(min_cost_us);
    if (x == NULL || x->admit == NULL) {
        free(x);
        return NULL;
    }
    x->cache = c;
    x->opts = *opts;
    reqkey_init(&x->key);
    cache_entry_init(&x->entry);
    wr_buf_init(&x->value, 64u << 20);
    return x;
}

void cached_free(cached *x)
{
    if (x == NULL)
        return;
    admit_free(x->admit);
    memo_free(x->memo);
    reqkey_release(&x->key);
    cache_entry_release(&x->entry);
    wr_buf_release(&x->value);
    free(x);
}

/* Fills out from a stored value; false when it is malformed. */
static bool from_hit(const char *v, size_t len, struct wr_answer *out)
{
    const char *end = v != NULL ? memchr(v, '\n', len) : NULL;
    if (end == NULL || end == v)
        return false;
    /* strtoll stops at the newline found above, inside the value */
    char *stop = NULL;
    long long rows = strtoll(v, &stop, 10);
    if (stop != end)
        return false;
    const char *link = end + 1;
    const char *nl = memchr(link, '\n', len - (size_t)(link - v));
    if (nl == NULL)
        return false;
    wr_answer_reset(out);
    out->status = 200;
    out->rows = rows;
    wr_buf_append(&out->link, link, (size_t)(nl - link));
    wr_buf_append(&out->body, nl + 1, len - (size_t)(nl + 1 - v));
    return wr_buf_error(&out->link) == 0 && wr_buf_error(&out->body) == 0;
}

/* The stored form of a 200 answer into x->value; false when too big. */
static bool encode(cached *x, const struct wr_answer *out)
{
    wr_buf_reset(&x->value);
    char rows[24];
    int n = snprintf(rows, sizeof rows, "%lld\n", out->rows);
    wr_buf_append(&x->value, rows, (size_t)n);
    wr_buf_append(&x->value, out->link.data ? out->link.data : "", out->link.len);
    wr_buf_putc(&x->value, '\n');
    wr_buf_append(&x->value, out->body.data, out->body.len);
    x->encoded = wr_buf_error(&x->value) == 0;
    return x->encoded;
}

/* The data version the memo is at for a request of delivery: read once
 * a delivery (PRAGMA data_version was a tenth of a hit's instructions,
 * and a read transaction's locks). A later commit is seen by the next
 * delivery, as by a request that had come a moment earlier; every request
 * of this one was sent before it was taken. */
static long long version_for(cached *x, const struct handler_env *env, unsigned long long delivery)
{
    if (delivery == 0 || delivery != x->version_delivery) {
        x->version = store_data_version(env->store);
        x->version_delivery = delivery;
    }
    return x->version;
}

/* Answers from the memo, at the data version of this delivery. */
static bool from_memo(cached *x, const struct handler_env *env, uint64_t h,
                      unsigned long long delivery, struct wr_answer *out)
{
    if (x->memo == NULL)
        return false;
    memo_at(x->memo, version_for(x, env, delivery));
    size_t len = 0;
    bool json = false;
    const char *v = memo_get(x->memo, h, x->key.key.data, x->key.key.len, &len, &json);
    if (v == NULL || !from_hit(v, len, out))
        return false;
    out->cache = cache_outcome_name(CACHE_LOCAL);
    out->body_json = json; /* checked when it was kept */
    return true;
}

long long cached_skips(const cached *x)
{
    return x->skips;
}

/* This thread's CPU time in µs: what computing an answer cost, free of
 * the time other processes took the core meanwhile. */
static long long cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Computes an answer and, when it is a 200, learns what it cost. */
static void computed(cached *x, uint64_t h, const struct handler_env *env,
                     const struct wr_request *req, const char *base_url, struct wr_answer *out)
{
    long long t0 = cpu_us();
    handle_request(env, req, base_url, out);
    if (out->status == 200)
        admit_learn(x->admit, h, (long)(cpu_us() - t0));
}

/* The Redis tier: a hit, or the computed answer (stored on a miss). */
static void through_redis(cached *x, const struct handler_env *env, const struct wr_request *req,
                          const char *base_url, uint64_t h, struct wr_answer *out)
{
    struct cache_entry *e = &x->entry;
    bool cacheable = h != 0 && cache_enabled(x->cache);
    if (cacheable && admit_check(x->admit, h) != ADMIT_CACHE) {
        /* cheap, or not known yet: a Redis round trip would cost more */
        computed(x, h, env, req, base_url, out);
        out->cache = cache_outcome_name(CACHE_SKIP);
        x->skips++;
        return;
    }
    /* read before the lookup: the answer's data is at least this new */
    long long at = cacheable && x->rep != NULL ? replica_position(x->rep) : 0;
    if (cacheable)
        cache_lookup(x->cache, x->key.key.data, x->key.dep_names, x->key.ndeps, e);
    if (e->outcome == CACHE_HIT && from_hit(e->value.data, e->value.len, out)) {
        out->cache = cache_outcome_name(CACHE_HIT);
        return;
    }
    if (e->outcome == CACHE_HIT || e->outcome == CACHE_MISS)
        computed(x, h, env, req, base_url, out); /* a verdict kept up to date */
    else
        handle_request(env, req, base_url, out);
    out->cache = e->outcome == CACHE_OFF
                     ? NULL
                     : cache_outcome_name(e->outcome == CACHE_HIT ? CACHE_MISS : e->outcome);
    if (e->outcome != CACHE_MISS)
        return;
    bool behind = !current_for(x, at, e);
    if (behind) {
        out->cache = cache_outcome_name(CACHE_BEHIND);
        x->behinds++;
    }
    if (out->status == 200 && !behind && encode(x, out))
        cache_store(x->cache, x->key.key.data, e, x->value.data, x->value.len);
    else
        cache_abandon(x->cache, x->key.key.data, e);
}

void cached_answer(cached *x, const struct handler_env *env, const struct wr_request *req,
                   const char *base_url, unsigned long long delivery, struct wr_answer *out)
{
    x->entry.outcome = CACHE_OFF;
    x->encoded = false;
    /* an export's chunk is read once, and its cursor is not in a cached value */
    if (wr_op_is_write(req->op) || req->format != NULL) {
        handle_request(env, req, base_url, out);
        return;
    }
    /* With caching off the key is never used: building it (a dozen printfs)
     * cost a list request about 5% of the worker's instructions. */
    bool keyed = (cache_enabled(x->cache) || x->memo != NULL) &&
                 reqkey_build(&x->key, env->schema, req, base_url, &x->opts);
    /* 0 stands for "no key": a real key hashing to it is merely never cached.
     * The hash stays in this process (the memory cache, which compares the
     * key bytes too, and the cost table): eight bytes a round, where
     * FNV-1a's byte a round was ~700 instructions a read. */
    uint64_t h = keyed ? wr_hash64(x->key.key.data, x->key.key.len) : 0;
    if (h != 0 && from_memo(x, env, h, delivery, out))
        return;
    through_redis(x, env, req, base_url, h, out);
    if (h == 0 || x->memo == NULL || out->status != 200)
        return;
    /* Whether the body is JSON a reply batch can carry as it is: checked
     * once here, where it is kept, not on each of the hits that follow
     * (the check was a sixth of a batched hit's instructions). */
    out->body_json = wr_json_is_one_value(out->body.data, out->body.len);
    /* a Redis hit is kept as it came, anything computed in its stored form */
    if (out->cache == cache_outcome_name(CACHE_HIT))
        memo_put(x->memo, h, x->key.key.data, x->key.key.len, x->entry.value.data,
                 x->entry.value.len, out->body_json);
    else if (x->encoded || encode(x, out)) /* a Redis miss encoded it once */
        memo_put(x->memo, h, x->key.key.data, x->key.key.len, x->value.data, x->value.len,
                 out->body_json);
}
