/* Change events for browsers: `GET /api/<Collection>/events` and
 * `GET /api/events?collections=A,B` (absent: every collection) answered as
 * Server-Sent Events (text/event-stream) from the process's one feed
 * (sse_feed.h). Per loop: its clients, woken through a pipe by the feed.
 * A request is judged like a GET of its collections: CORS and API keys as
 * any read, an unknown collection 404 (the catalog's GET /api, asked once
 * and kept SSE_KNOWN_TTL_S), a bad Last-Event-ID or parameter 400, past
 * SSE_MAX_CLIENTS (every loop) 503. A client is sent every event after its
 * Last-Event-ID once (none: from now on), a comment every
 * SSE_HEARTBEAT_S (the key); one that reads too slowly for the ring is closed (it
 * resumes with Last-Event-ID). The drain closes every stream. */
#ifndef EDGE_SSE_H
#define EDGE_SSE_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "call.h"
#include "metrics.h"
#include "respond.h"
#include "sse_feed.h"
#include "warren/cfg.h"

#define SSE_CHUNK_BYTES (64u << 10) /* a client's output holds at most one chunk */
#define METRICS_ROUTE_EVENTS "events"

typedef struct sse sse;

/* One loop's SSE side: its clients are counted in *clients (every loop's,
 * changed atomically) against SSE_MAX_CLIENTS. feed, cs and m outlive it.
 * Registers the loop's wake-up with feed (before the feed starts). NULL
 * when out of memory. */
sse *sse_new(struct event_base *base, const struct wr_cfg *cfg, sse_feed *feed, calls *cs,
             metrics *m, atomic_long *clients);
/* Closes every stream (as sse_drain) and frees. NULL-safe. */
void sse_free(sse *s);
/* Ends every stream (the client reconnects, to another edge) and refuses
 * new ones (503): the edge is shutting down. */
void sse_drain(sse *s);

/* Whether path is an events route: /api/events or /api/<c>/events. */
bool sse_claims(const char *path);
/* Answers a's request for path (sse_claims): an error, or a stream. */
void sse_serve(sse *s, struct ask *a, const char *path);

#endif
