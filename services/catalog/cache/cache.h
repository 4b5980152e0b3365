/* The result cache (Redis, through hiredis): cache-aside of whole replies.
 * Every cached value carries the generation counters of the tables it was
 * read from; a write bumps its table's counter, so a value read before the
 * write no longer matches and is never served again. A lookup is one round
 * trip (MGET of the value and the counters). On a miss one worker computes
 * while others wait briefly for its result (a lock with a short expiry), so
 * a hot key does not become N identical queries. When Redis is down, slow
 * (REDIS_TIMEOUT_MS) or full, requests bypass the cache and are served from
 * SQLite; reconnects back off with jitter. Only this file's .c includes
 * hiredis. */
#ifndef CATALOG_CACHE_H
#define CATALOG_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "warren/buf.h"
#include "warren/err.h"

#define CACHE_MAX_DEPS 16

typedef struct cache cache;

struct cache_opts {
    const char *url; /* redis://[:password@]host[:port][/db]; "" or NULL: no cache */
    long timeout_ms; /* connect and per-command bound */
    long ttl_s;      /* a value's life; each SET takes 90-100% of it, at random */
    long wait_ms;    /* how long a miss waits for another worker's result */
};

/* CACHE_SKIP and CACHE_BEHIND are the caller's (ops/cached.c): a read too
 * cheap for the cache, and a replica's miss computed from a file older
 * than the generations it read (answered, never stored). */
/* CACHE_LOCAL is the in-process memo's (cache/memo.h): a hit without Redis. */
enum cache_outcome {
    CACHE_OFF,
    CACHE_HIT,
    CACHE_MISS,
    CACHE_BYPASS,
    CACHE_SKIP,
    CACHE_BEHIND,
    CACHE_LOCAL
};

/* What a lookup found, and what cache_store needs to store the answer. */
struct cache_entry {
    enum cache_outcome outcome;
    struct wr_buf value;            /* a hit's payload */
    long long gens[CACHE_MAX_DEPS]; /* -1: no counter in Redis (never bumped, or lost) */
    size_t ndeps;
    bool locked; /* this worker holds the key's compute lock */
};

struct cache_stats {
    long long hits, misses, bypasses, waits, errors;
};

/* A cache for opts; never NULL but on out-of-memory. With no URL every
 * lookup answers CACHE_OFF. Connects lazily. */
cache *cache_new(const struct cache_opts *opts);
void cache_free(cache *c);

void cache_entry_init(struct cache_entry *e);
void cache_entry_release(struct cache_entry *e);

/* Looks key up, checking the generation counters named in deps (at most
 * CACHE_MAX_DEPS). Fills e: CACHE_HIT with e->value, or CACHE_MISS (the
 * caller computes and calls cache_store), CACHE_BYPASS (Redis unusable:
 * compute, do not store) or CACHE_OFF. */
void cache_lookup(cache *c, const char *key, const char *const *deps, size_t ndeps,
                  struct cache_entry *e);
/* Stores value for a CACHE_MISS entry and releases its lock. Does nothing
 * for other outcomes. */
void cache_store(cache *c, const char *key, const struct cache_entry *e, const char *value,
                 size_t len);
/* Releases a miss's lock without storing (the answer was not cacheable). */
void cache_abandon(cache *c, const char *key, const struct cache_entry *e);

/* After a write to table commits: moves its generation counter, so no
 * cached answer holding its data is served again. position is the write's
 * place in the change log (store_position), or 0 without one. With a
 * position the counter becomes it when that is higher, else goes up by
 * one (one Lua script, atomic): it only ever rises, and is always at or
 * past the position of the last write to the table, which is what lets a
 * replica tell whether its file holds that write (ops/cached.c). Without
 * one it goes up by one. Best effort: when Redis is unusable the bump is
 * lost (counted, logged) and such answers live until their TTL. */
void cache_bump(cache *c, const char *table, long long position);

/* At a writer's start: sets table's generation counter to position (the
 * writer file's newest, read before the seeding: later writes bump) when Redis
 * holds none, so that replicas can store answers of tables not written
 * since Redis started. A counter present is left alone. Best effort. */
void cache_seed(cache *c, const char *table, long long position);

const struct cache_stats *cache_stats(const cache *c);
/* Whether REDIS_URL configured caching (fixed for the cache's life). */
bool cache_enabled(const cache *c);
/* "hit", "miss", "bypass", "skip", "behind", "local" or "off": static
 * strings, so one outcome's name is always the same pointer. */
const char *cache_outcome_name(enum cache_outcome o);

#endif
