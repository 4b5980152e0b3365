/* Per-client limits (see ratelimit.h): a set-associative table (sets of
 * WAYS entries, the set chosen by FNV-1a of the key from a random seed, so
 * clients cannot aim at one set), one mutex for every event loop, each
 * entry a token bucket and a count of searches in flight. An entry with
 * searches in flight is never evicted: its count must meet its leave. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "warren/codec.h"

#define WAYS 4

struct entry {
    struct ratelimit_key key; /* len 0: free */
    double tokens;
    long long seen_ms; /* the last refill: also the eviction order */
    long searches;
};

struct ratelimit {
    pthread_mutex_t mu;
    double rps, burst;
    long cap;
    uint64_t seed;
    size_t nsets; /* a power of two */
    struct entry *e;
};

void ratelimit_key_name(struct ratelimit_key *k, const char *name)
{
    size_t n = strnlen(name, WR_API_KEY_NAME_MAX);
    k->bytes[0] = 'k';
    memcpy(k->bytes + 1, name, n);
    k->len = (uint8_t)(n + 1);
}

void ratelimit_key_addr(struct ratelimit_key *k, const struct peer_addr *a)
{
    size_t n = a->len == 16 ? 8 : a->len; /* IPv6: its /64 */
    k->bytes[0] = 'a';
    memcpy(k->bytes + 1, a->bytes, n);
    k->len = (uint8_t)(n + 1);
}

ratelimit *ratelimit_new(long rps, long burst, long cap, size_t slots)
{
    ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    rl->rps = (double)rps;
    rl->burst = (double)(burst > 0 ? burst : 2 * rps);
    rl->cap = cap;
    rl->nsets = 1;
    while (rl->nsets * WAYS < slots && rl->nsets < ((size_t)1 << 24))
        rl->nsets *= 2;
    rl->seed = WR_FNV1A64_INIT;
    uint64_t r = 0;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) == (ssize_t)sizeof(r))
        rl->seed ^= r;
    rl->e = calloc(rl->nsets * WAYS, sizeof(*rl->e));
    if (rl->e == NULL || pthread_mutex_init(&rl->mu, NULL) != 0) {
        free(rl->e);
        free(rl);
        return NULL;
    }
    return rl;
}

void ratelimit_free(ratelimit *rl)
{
    if (rl == NULL)
        return;
    (void)pthread_mutex_destroy(&rl->mu);
    free(rl->e);
    free(rl);
}

bool ratelimit_on(const ratelimit *rl)
{
    return rl != NULL && (rl->rps > 0 || rl->cap > 0);
}

static bool same(const struct ratelimit_key *a, const struct ratelimit_key *b)
{
    return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static struct entry *set_of(const ratelimit *rl, const struct ratelimit_key *k)
{
    uint64_t h = wr_fnv1a64(rl->seed, k->bytes, k->len);
    return &rl->e[(h & (rl->nsets - 1)) * WAYS];
}

/* k's entry, or NULL. */
static struct entry *find(const ratelimit *rl, const struct ratelimit_key *k)
{
    struct entry *set = set_of(rl, k);
    for (int i = 0; i < WAYS; i++)
        if (same(&set[i].key, k))
            return &set[i];
    return NULL;
}

/* k's entry, made with a full bucket in a free place or in place of the
 * least recently seen idle one; NULL when every entry of its set holds
 * searches in flight. */
static struct entry *find_or_make(ratelimit *rl, const struct ratelimit_key *k, long long now_ms)
{
    struct entry *set = set_of(rl, k), *victim = NULL;
    for (int i = 0; i < WAYS; i++) {
        if (same(&set[i].key, k))
            return &set[i];
        /* a free entry first, else the least recently seen idle one */
        bool free_slot = set[i].key.len == 0;
        bool older = victim == NULL || (victim->key.len != 0 && set[i].seen_ms < victim->seen_ms);
        if (free_slot || (set[i].searches == 0 && older))
            victim = &set[i];
    }
    if (victim != NULL)
        *victim = (struct entry){.key = *k, .tokens = rl->burst, .seen_ms = now_ms};
    return victim;
}

enum ratelimit_verdict ratelimit_admit(ratelimit *rl, const struct ratelimit_key *k, bool search,
                                       long long now_ms, long *retry_s)
{
    *retry_s = 0;
    if (!ratelimit_on(rl))
        return RATELIMIT_OK;
    enum ratelimit_verdict v = RATELIMIT_OK;
    (void)pthread_mutex_lock(&rl->mu);
    struct entry *e = find_or_make(rl, k, now_ms);
    if (e != NULL && rl->rps > 0) {
        if (now_ms > e->seen_ms)
            e->tokens += (double)(now_ms - e->seen_ms) * rl->rps / 1000.0;
        if (e->tokens > rl->burst)
            e->tokens = rl->burst;
        if (e->tokens >= 1.0) {
            e->tokens -= 1.0;
        } else {
            v = RATELIMIT_RATE;
            double wait = (1.0 - e->tokens) / rl->rps; /* seconds until a token */
            long s = (long)wait;
            *retry_s = (double)s < wait ? s + 1 : s;
        }
    }
    if (e != NULL && now_ms > e->seen_ms)
        e->seen_ms = now_ms;
    if (e != NULL && v == RATELIMIT_OK && search && rl->cap > 0) {
        if (e->searches >= rl->cap)
            v = RATELIMIT_SEARCHES;
        else
            e->searches++;
    }
    (void)pthread_mutex_unlock(&rl->mu);
    if (v != RATELIMIT_OK && *retry_s < 1)
        *retry_s = 1;
    return v;
}

void ratelimit_leave(ratelimit *rl, const struct ratelimit_key *k)
{
    if (rl == NULL)
        return;
    (void)pthread_mutex_lock(&rl->mu);
    struct entry *e = find(rl, k);
    if (e != NULL && e->searches > 0)
        e->searches--;
    (void)pthread_mutex_unlock(&rl->mu);
}

long ratelimit_searches(ratelimit *rl, const struct ratelimit_key *k)
{
    if (rl == NULL)
        return 0;
    (void)pthread_mutex_lock(&rl->mu);
    const struct entry *e = find(rl, k);
    long n = e != NULL ? e->searches : 0;
    (void)pthread_mutex_unlock(&rl->mu);
    return n;
}
