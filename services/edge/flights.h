/* Single-flight: the reads in flight by what they ask, so that an identical
 * read arriving while one is in flight joins it instead of publishing a
 * second message. A key is the bytes that decide a read's answer (service,
 * op, principal, base URL and the envelope: what the worker's cache key is
 * built from); each maps to the call leading that flight. Pure: no I/O. */
#ifndef EDGE_FLIGHTS_H
#define EDGE_FLIGHTS_H

#include <stddef.h>

typedef struct flights flights;

/* NULL when out of memory. */
flights *flights_new(void);
/* Frees the table and its copies of the keys, not the leaders. NULL-safe. */
void flights_free(flights *f);

/* The leader of key's flight, or NULL. */
void *flights_find(const flights *f, const char *key, size_t len);
/* Makes leader the leader of key (copied), which must have none. 0 or
 * WR_ENOMEM. */
int flights_put(flights *f, const char *key, size_t len, void *leader);
/* Ends key's flight if leader leads it (else nothing). */
void flights_remove(flights *f, const char *key, size_t len, const void *leader);
size_t flights_count(const flights *f);

#endif
