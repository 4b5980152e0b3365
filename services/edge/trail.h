/* The edge's part of the audit trail: a record for every API request the
 * edge answers itself (a bad parameter, a method not allowed, an overload, a
 * request whose worker did not answer in time). Records are published to
 * the durable queue warren.audit, which the workers spool like their own
 * records. While the broker is down they wait in memory, the oldest dropped
 * (and counted) beyond the cap: the edge keeps no disk of its own. */
#ifndef EDGE_TRAIL_H
#define EDGE_TRAIL_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

#include "bus.h"
#include "warren/auditdoc.h"

typedef struct trail trail;

/* cap: records held while they cannot be published. together: records
 * leave together 10 ms after the first of them, or at once when
 * WR_AUDIT_BATCH_DOCS_MAX wait, up to that many and batch_bytes a message
 * (type "audit_batch", or "audit" for one alone): a flood of requests the
 * edge refuses itself costs the broker a message per 256, not one each.
 * Else each record leaves at once as a message of its own (type "audit"),
 * except for 10 s after a publish found the broker's socket full (it
 * pushes back): then they travel together as above, rather than outrun it
 * and be dropped past the cap. A full socket is tried again after 5 ms, an
 * outage after 500; what waited through an outage leaves a record a
 * message, as before, until the broker pushes back. NULL when out of
 * memory. */
trail *trail_new(struct event_base *base, bus *b, size_t cap, size_t batch_bytes, bool together);
/* Publishes what is held (bounded by the connection's send buffer) and frees. */
void trail_free(trail *t);
/* Formats r (an edge record, under a fresh audit id of its own: r->audit_id
 * is ignored) and publishes it, or holds it until the broker is back. */
void trail_add(trail *t, struct wr_audit_rec *r);
/* Records held until the broker takes them, and records dropped so far
 * (the cap reached, or one too large), for the metrics. */
size_t trail_held(const trail *t);
long long trail_dropped(const trail *t);
/* Records published so far, and the messages they left in. */
long long trail_published(const trail *t);
long long trail_messages(const trail *t);

#endif
