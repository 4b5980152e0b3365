/* The cache's admission table (see admit.h): 4096 slots of a key's hash
 * and its verdict, 48 KiB a worker. */
#include "ops/admit.h"

#include <stdbool.h>
#include <stdlib.h>

#define SLOTS 4096 /* a power of two */

struct slot {
    uint64_t hash; /* 0: empty (a hash of 0 is never remembered) */
    long last_us;  /* the latest measure */
    enum admit_verdict verdict;
};

struct admit {
    long min_cost_us;
    struct slot slots[SLOTS];
};

admit *admit_new(long min_cost_us)
{
    admit *a = calloc(1, sizeof(*a));
    if (a != NULL)
        a->min_cost_us = min_cost_us < 0 ? 0 : min_cost_us;
    return a;
}

void admit_free(admit *a)
{
    free(a);
}

enum admit_verdict admit_check(const admit *a, uint64_t key_hash)
{
    if (a->min_cost_us == 0)
        return ADMIT_CACHE;
    const struct slot *s = &a->slots[key_hash & (SLOTS - 1)];
    return key_hash != 0 && s->hash == key_hash ? s->verdict : ADMIT_UNKNOWN;
}

void admit_learn(admit *a, uint64_t key_hash, long cost_us)
{
    if (a->min_cost_us == 0 || key_hash == 0)
        return;
    struct slot *s = &a->slots[key_hash & (SLOTS - 1)];
    bool known = s->hash == key_hash;
    long low = known && s->last_us < cost_us ? s->last_us : cost_us;
    if (low < a->min_cost_us)
        s->verdict = ADMIT_SKIP;
    else
        s->verdict = known ? ADMIT_CACHE : ADMIT_UNKNOWN; /* costly twice, or once */
    s->hash = key_hash;
    s->last_us = cost_us;
}
