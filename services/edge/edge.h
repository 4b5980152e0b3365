/* One of the HTTP edge's loops: REST calls in, RPC requests over AMQP out,
 * replies back as HTTP responses, all on one libevent loop (loops.c runs
 * EDGE_THREADS of them). An edge owns the parts and wires them: its
 * listening socket on the shared port, the connections (conn), its bus (its
 * own broker connection), the audit trail of its own answers (trail), the
 * calls in flight (call) and the dispatcher every request goes through
 * (dispatch). */
#ifndef EDGE_EDGE_H
#define EDGE_EDGE_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"
#include "peers.h"
#include "ratelimit.h"
#include "warren/cfg.h"

/* What the loops share. The rule: nothing mutable is shared between loops
 * but these counters, only ever changed by atomic adds (and read by atomic
 * loads), and the metrics registry, whose values are atomics and whose
 * /metrics hook reads each loop's bus and trail through their atomic
 * fields; the config is read-only once loaded. Everything else
 * (connections, calls, the pending and flight tables, the bus) belongs to
 * one loop. */
struct edge_shared {
    atomic_long conns_open;      /* client connections, against MAX_CONNECTIONS */
    atomic_long calls_in_flight; /* calls, against MAX_IN_FLIGHT */
    metrics *metrics;            /* one registry for the process */
    peers *peers;                /* connections by client address (peers.h, locked) */
    struct sse_feed *feed;       /* the change events' reader (sse_feed.h, locked) */
    atomic_long sse_clients;     /* event streams, against SSE_MAX_CLIENTS */
    ratelimit *ratelimit;        /* per-client limits (ratelimit.h, locked) */
};

typedef struct edge edge;

/* Binds HTTP_HOST:HTTP_PORT with SO_REUSEPORT (every loop binds its own
 * socket to the one port; the kernel spreads new connections over them) and
 * starts connecting to the broker; its bus and trail join sh->metrics (call
 * it before any loop runs). cfg and sh must outlive the edge;
 * audit_backlog is this loop's share of the records held while the broker
 * is down. NULL on error (logged). */
edge *edge_new(struct event_base *base, const struct wr_cfg *cfg, struct edge_shared *sh,
               size_t audit_backlog);
/* Stops accepting; the loop ends once every request in flight is answered. */
void edge_drain(edge *e);
/* Whether an answer is still being sent on one of its connections: a
 * drained loop runs on while one is (loops.c). */
bool edge_sending(const edge *e);
/* Answers what is still in flight (503) and frees everything. NULL-safe. */
void edge_free(edge *e);

#endif
