/* The page-position memo: where in a list, read by page number, a key
 * was seen, and how many rows the list counted. A list is a statement ordered by its table's
 * primary key and its binds; a position says that the list's rows from offset start on are exactly
 * those whose key is >= (inclusive) or > (exclusive) a key. A deeper page of the same list then
 * seeks from the nearest position at or below its offset (WHERE key > ?) instead of stepping over
 * every row before it (OFFSET). Exact or nothing: positions hold for the data version they were
 * seen at (store_data_version), and any other version forgets them all. Bounded in entries, the
 * oldest evicted first; one worker thread's (not thread-safe). Pure: no I/O. */
#ifndef CATALOG_PAGEPOS_H
#define CATALOG_PAGEPOS_H

#include <stdbool.h>
#include <stddef.h>

#include "model/schema.h"
#include "model/value.h"

typedef struct pagepos pagepos;

/* Longest encoded list (statement and binds) or key kept, in bytes:
 * lists and keys beyond it are not remembered. */
#define PAGEPOS_BYTES_MAX 512

/* A key in its stored form, filled by pagepos_key_set from the key
 * columns' values of a row (which live only during the row's callback). */
struct pagepos_key {
    unsigned char bytes[PAGEPOS_BYTES_MAX];
    size_t len;
    bool ok; /* false: a NULL or BLOB value, or too long; not remembered */
};

/* What a lookup found: the list's rows from offset start on are those
 * whose key is >= key (inclusive) or > key. key's text values point into
 * the memo: borrowed until the next pagepos_put, pagepos_at or
 * pagepos_free. */
struct pagepos_hit {
    long long start;
    bool inclusive;
    struct value key[SCHEMA_MAX_KEY_COLS];
    size_t nkey;
};

struct pagepos_stats {
    long long hits, misses, stores, evictions, flushes;
    long long count_hits, count_misses;
    size_t entries; /* held now */
};

/* A memo of at most max_entries positions. NULL when max_entries is 0 (no
 * memo) or out of memory. */
pagepos *pagepos_new(size_t max_entries);
/* Frees p and every position; NULL-safe. */
void pagepos_free(pagepos *p);

/* Declares the data version the next lookups and stores are for; any
 * other version than the memo's (or a negative one: unknown) forgets
 * every position. NULL-safe. */
void pagepos_at(pagepos *p, long long version);

/* Stores the values of n key columns (n <= SCHEMA_MAX_KEY_COLS) into k;
 * k->ok is false when one is NULL or a BLOB (no order to seek by that is
 * sure to be the statement's) or they take more than PAGEPOS_BYTES_MAX. */
void pagepos_key_set(struct pagepos_key *k, const struct value *vals, size_t n);

/* The position of list (stmt, compared by address, with its nbinds binds)
 * with the greatest start at or below offset, into hit; false when there
 * is none (or no version is declared, or p is NULL). */
bool pagepos_find(pagepos *p, const void *stmt, const struct value *binds, size_t nbinds,
                  long long offset, struct pagepos_hit *hit);

/* Remembers that list (stmt, binds)'s rows from offset start on are those
 * >= key (inclusive) or > key, at the declared version. Keeps nothing when
 * no version is declared, k is not ok, the binds hold a NULL or BLOB or
 * are too long, or out of memory; a position the list already has at
 * start is kept as it is. When full, the oldest position goes. NULL-safe. */
void pagepos_put(pagepos *p, const void *stmt, const struct value *binds, size_t nbinds,
                 long long start, bool inclusive, const struct pagepos_key *k);

/* A count as a page read found it: its capped COUNT(*) (truncated when
 * the cap was reached). Kept like a position (the same version, the same
 * bound on entries) under the count statement's text and binds, so a walk
 * by page number or by cursor counts once, not once a page. */
struct pagepos_count {
    long long total;
    bool truncated;
};

/* The count remembered for statement sql with its nbinds binds at the
 * declared version, into *c; false when there is none. */
bool pagepos_count_find(pagepos *p, const char *sql, const struct value *binds, size_t nbinds,
                        struct pagepos_count *c);

/* Remembers sql's count at the declared version; nothing when no version
 * is declared, or the statement and binds take more than
 * PAGEPOS_BYTES_MAX or hold a NULL or BLOB; a count sql has already is
 * kept as it is. NULL-safe. */
void pagepos_count_put(pagepos *p, const char *sql, const struct value *binds, size_t nbinds,
                       const struct pagepos_count *c);

const struct pagepos_stats *pagepos_stats(const pagepos *p);

#endif
