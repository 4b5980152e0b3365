/* The in-process tier of the result cache: replies this worker computed
 * (or fetched from Redis), kept in its memory under their cache key and
 * the data version they were read at (store_data_version). Any change to
 * the database file moves the version and empties the memo, so a value is
 * only ever served for the exact data it was computed from: exact without
 * Redis's generation counters, at the cost of forgetting everything on
 * each write. A lookup is a hash and a compare, far cheaper than a Redis
 * round trip, so it pays for replies too cheap for Redis. Bounded in bytes;
 * one worker thread's (not thread-safe). */
#ifndef CATALOG_MEMO_H
#define CATALOG_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct memo memo;

struct memo_stats {
    long long hits, misses, stores, flushes;
    size_t bytes; /* keys and values held now */
};

/* A memo holding at most max_bytes of keys and values (a value over a
 * sixteenth of that is never kept). NULL when max_bytes is 0 (no memo) or
 * out of memory. */
memo *memo_new(size_t max_bytes);
void memo_free(memo *m);

/* Declares the data version the next lookups and stores are for; a version
 * other than the memo's (or a negative one: unknown) empties it. NULL-safe. */
void memo_at(memo *m, long long version);
/* The value stored under key (hash: its wr_fnv1a64), borrowed until the
 * next memo_put, memo_at or memo_free, and the mark stored with it (mark
 * may be NULL); NULL when absent or m is NULL. */
const char *memo_get(memo *m, uint64_t hash, const char *key, size_t key_len, size_t *len,
                     bool *mark);
/* Keeps a copy of value under key for the current version, with a mark
 * of the caller's (cached.c: the reply body is checked JSON), replacing
 * what shared its slot. Does nothing when no version is declared, when the
 * value is too big, or out of memory. NULL-safe. */
void memo_put(memo *m, uint64_t hash, const char *key, size_t key_len, const char *value,
              size_t len, bool mark);

const struct memo_stats *memo_stats(const memo *m);

#endif
