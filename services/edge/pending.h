/* The edge's table of requests in flight, by request id (which is also the
 * AMQP correlation id). Open addressing over the id's first 64 bits, which
 * are random, so no hashing is needed. Pure: no I/O. */
#ifndef EDGE_PENDING_H
#define EDGE_PENDING_H

#include <stddef.h>

typedef struct pending pending;

/* NULL when out of memory. */
pending *pending_new(void);
/* Frees the table, not the values. NULL-safe. */
void pending_free(pending *p);

/* Adds value under id (a valid 32-hex request id). 0, WR_ENOMEM, or
 * WR_EINVAL when id is already present. */
int pending_put(pending *p, const char *id, void *value);
/* Removes the value under id from the table and returns it, or NULL when
 * id is absent. The table never owns its values: the caller frees them. */
void *pending_remove(pending *p, const char *id);
/* The value under id, left in the table; NULL when absent. */
void *pending_get(pending *p, const char *id);
/* Removes any one value and returns it, or NULL when empty (for draining). */
void *pending_remove_any(pending *p);
size_t pending_count(const pending *p);

#endif
