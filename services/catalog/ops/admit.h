/* Which reads are worth the result cache: a Redis round trip costs more
 * than many a query it would save, so a read is cached only when computing
 * it was measured to cost at least CACHE_MIN_COST_US of CPU twice in a row
 * (a process's first statements pay for warming up; one cheap measure is
 * enough to skip). The verdicts live in a fixed table by the request key's
 * hash (direct-mapped: a colliding key takes the slot and is learnt anew);
 * every computed answer refreshes its key's verdict. Pure: no I/O. */
#ifndef CATALOG_ADMIT_H
#define CATALOG_ADMIT_H

#include <stdint.h>

enum admit_verdict {
    ADMIT_UNKNOWN, /* not measured costly twice yet (or forgotten): compute, measure */
    ADMIT_CACHE,   /* costly enough: through the cache */
    ADMIT_SKIP,    /* cheaper than the threshold: straight to SQLite */
};

typedef struct admit admit;

/* A table for reads costing at least min_cost_us to be cached; 0 caches
 * every read (admit_check answers ADMIT_CACHE always). NULL when out of
 * memory. */
admit *admit_new(long min_cost_us);
void admit_free(admit *a);

enum admit_verdict admit_check(const admit *a, uint64_t key_hash);
/* What computing key_hash's answer cost, in µs of CPU. */
void admit_learn(admit *a, uint64_t key_hash, long cost_us);

#endif
