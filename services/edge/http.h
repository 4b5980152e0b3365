/* The edge's HTTP side: routes REST calls to RPC requests, parks each one in
 * the pending table with its deadline, and turns replies (or timeouts,
 * returns, outages) into HTTP responses. Nothing here blocks. */
#ifndef EDGE_HTTP_H
#define EDGE_HTTP_H

#include <event2/event.h>
#include <stdbool.h>

#include "warren/cfg.h"

typedef struct edge edge;

/* Binds HTTP_HOST:HTTP_PORT and connects the bus. NULL on error (logged). */
edge *edge_new(struct event_base *base, const struct wr_cfg *cfg);
/* Stops accepting; the loop ends once every request in flight is answered. */
void edge_drain(edge *e);
void edge_free(edge *e);

#endif
