/* Reads through the result cache: a hit is copied into the reply, a miss is
 * computed by the handlers and stored. Knows nothing of Redis itself (that
 * is cache_redis.c) nor of SQL (handlers.c). */
#ifndef CATALOG_CACHED_H
#define CATALOG_CACHED_H

#include "cache/cache.h"
#include "changes/replica.h"
#include "ops/handlers.h"
#include "ops/reqkey.h"

typedef struct cached cached;

/* Borrows c (which may be disabled). Reads whose computing was measured
 * below min_cost_us of CPU skip the cache (0: every read goes through it).
 * NULL when out of memory. */
cached *cached_new(cache *c, const struct reqkey_opts *opts, long min_cost_us);
void cached_free(cached *x);
/* Reads answered without the cache as too cheap for it (or not yet measured). */
long long cached_skips(const cached *x);
/* Makes x a replica's: a miss is stored only when r's file is at or past
 * every generation the lookup read (a table's generation is at or past
 * the position of its last write, cache.h), else answered without storing
 * (outcome "behind"): a reply computed from data older than a write is
 * never stored under the generation that write set. r is borrowed. */
void cached_on_replica(cached *x, replica *r);
/* Misses answered without storing because the replica was behind. */
long long cached_behinds(const cached *x);

/* Puts an in-process memo of max_bytes (cache/memo.h) in front of the
 * cache; 0 takes it away. 0, or WR_ENOMEM. */
int cached_use_memo(cached *x, size_t max_bytes);

/* Answers req like handle_request, through the memo and the cache;
 * out->cache tells the outcome (local, hit, miss, bypass, skip, behind or
 * NULL: neither tier asked). delivery (struct wr_call's; 0: none) lets
 * the requests of one delivery share one read of the data version the
 * memo is kept at. */
void cached_answer(cached *x, const struct handler_env *env, const struct wr_request *req,
                   const char *base_url, unsigned long long delivery, struct wr_answer *out);

#endif
