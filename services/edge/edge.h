/* The HTTP edge: REST calls in, RPC requests over AMQP out, replies back
 * as HTTP responses, all on one libevent loop. The edge owns the parts and
 * wires them: the listening socket, the connections (conn), the bus, the
 * audit trail of its own answers (trail), the calls in flight (call) and
 * the dispatcher every request goes through (dispatch). */
#ifndef EDGE_EDGE_H
#define EDGE_EDGE_H

#include <event2/event.h>

#include "warren/cfg.h"

typedef struct edge edge;

/* Binds HTTP_HOST:HTTP_PORT and starts connecting to the broker; cfg must
 * outlive the edge. NULL on error (logged). */
edge *edge_new(struct event_base *base, const struct wr_cfg *cfg);
/* Stops accepting; the loop ends once every request in flight is answered. */
void edge_drain(edge *e);
/* Answers what is still in flight (503) and frees everything. NULL-safe. */
void edge_free(edge *e);

#endif
