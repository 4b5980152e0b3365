/* Change events (proto/README.md section 14): the writer's store hook that
 * renders, inside each write transaction and before its commit, one event
 * per changed row of a served collection, with the object as GET
 * /api/<Collection>/<id> renders it at that position; and the line format
 * the outbox keeps them in, which the publisher splits to send each one to
 * warren.events. */
#ifndef CATALOG_EVENTS_H
#define CATALOG_EVENTS_H

#include <stddef.h>

#include "ops/op.h"
#include "store/store.h"

/* What the hook renders with: env (its schema and plan; borrowed,
 * outliving the hook). */
struct events_ctx {
    const struct handler_env *env;
};

/* A store_events_fn (arg: a struct events_ctx): for each row the
 * changeset changed in a table a collection serves, in the changeset's
 * order, one line "<Collection>\t<op>\t<body>\n", body the event's JSON
 * (sorted keys, one line). Rows of other tables have none. 0, or a store
 * error of reading an object back (the write then fails). */
int events_render(void *arg, store *st, const struct store_tx_info *tx, const void *changeset,
                  size_t len, struct wr_buf *out, struct wr_err *err);

/* One line of an entry's events, borrowed from the entry. */
struct event_line {
    const char *collection;
    size_t collection_len;
    const char *op; /* created, updated or deleted */
    size_t op_len;
    const char *body;
    size_t body_len;
};
/* The line at *off of events (n bytes) into *line, *off moved past it.
 * true, or false at the end or at a line not of that form (the rest is
 * skipped). Pure. */
bool events_next(const char *events, size_t n, size_t *off, struct event_line *line);
/* The number of lines events_next yields from events. Pure. */
size_t events_count(const char *events, size_t n);

#endif
