/* One HTTP request, from its arrival to its answer or its call: its trace
 * (W3C traceparent, or a new one; X-Trace-Id on every answer), the checks
 * the server leaves to us (414, 431, ambiguous framing), the route, what the
 * method asks of it (405 with Allow when nothing), OPTIONS, the probes and
 * /metrics, the API key, the overload guard, a write's body, and the
 * envelope that goes out as a call. Each request's audit context lives on its own stack
 * (struct ask), never in the long-lived dispatcher. */
#ifndef EDGE_DISPATCH_H
#define EDGE_DISPATCH_H

#include "bus.h"
#include "call.h"
#include "metrics.h"
#include "ratelimit.h"
#include "route.h"
#include "trail.h"
#include "warren/cfg.h"

/* What dispatching needs, for the edge's life; filled once by the edge. */
struct dispatcher {
    const struct wr_cfg *cfg;
    struct route_limits limits;
    calls *calls;
    bus *bus;               /* /readyz asks it */
    struct sse *sse;        /* the loop's event streams (sse.h) */
    trail *trail;           /* the records of the answers the edge gives itself */
    metrics *metrics;       /* answers counted, /metrics written */
    ratelimit *ratelimit;   /* per-client limits, shared by every loop (NULL: none) */
    char default_base[300]; /* http://HTTP_HOST:HTTP_PORT, when Host looks wrong */
};

/* Answers req, or starts its call. */
void dispatch_request(const struct dispatcher *d, struct hreq *req);

#endif
