/* The edge's Prometheus metrics, served at GET /metrics on its own port:
 * requests by route and status and their durations, calls in flight,
 * deadlines passed, late replies, unroutable returns, the broker
 * connection, the edge's audit backlog and the build. The names are in
 * the README ("Running in production"). One registry serves every event
 * loop: events are counted in atomics from whichever loop they happen on,
 * and the loops' state (calls in flight, each bus and trail) is read, through
 * atomics, when /metrics is written, on whichever loop serves it. */
#ifndef EDGE_METRICS_H
#define EDGE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "warren/buf.h"

struct bus;
struct trail;
struct calls;

typedef struct metrics metrics;

/* The edge's registry; in_flight is every loop's count of calls (borrowed).
 * NULL when out of memory. */
metrics *metrics_new(const atomic_long *in_flight);
void metrics_free(metrics *m);
/* Adds one loop's bus and trail to what /metrics reports (borrowed; they
 * outlive m's last write): connected when every loop is, blocked when one
 * is, the rest summed. Before any loop runs. 0, or WR_ETOOBIG past
 * METRICS_MAX_LOOPS. */
#define METRICS_MAX_LOOPS 64
int metrics_watch(metrics *m, const struct bus *b, const struct trail *t);

/* route labels besides the catalog's ops (list, get, ..., create, update,
 * delete): a fixed set, never a client's string */
#define METRICS_ROUTE_SVC "svc"
#define METRICS_ROUTE_HEALTHZ "healthz"
#define METRICS_ROUTE_READYZ "readyz"
#define METRICS_ROUTE_METRICS "metrics"
#define METRICS_ROUTE_PREFLIGHT "preflight"
#define METRICS_ROUTE_EXPLORER "explorer" /* the browser explorer's files */
#define METRICS_ROUTE_SERVER "server"     /* OPTIONS * */
#define METRICS_ROUTE_UNROUTED "unrouted" /* a 404 path, or a URL that did not parse */

/* One request answered: its route label (one of the above or a WR_OP_*;
 * NULL: not counted), status, and start (wr_metrics_now_ns). m may be
 * NULL. */
void metrics_answered(metrics *m, const char *route, int status, uint64_t t0_ns);

enum metrics_event {
    METRICS_DEADLINE_PASSED,  /* a call answered 504 at its deadline */
    METRICS_LATE_REPLY,       /* a reply for a call no longer waiting */
    METRICS_RETURNED,         /* a request the broker could not route */
    METRICS_RATE_LIMITED,     /* a 429: the client over RATE_LIMIT_RPS */
    METRICS_SEARCHES_LIMITED, /* a 429: the client over SEARCH_CONCURRENCY */
};
void metrics_count(metrics *m, enum metrics_event ev);

/* EDGE_BATCH: one message published by the batcher, carrying reads (1:
 * a read alone). m may be NULL. */
void metrics_batch(metrics *m, size_t reads);

/* Event streams (sse.h): clients_delta streams opened (+1) or ended (-1),
 * events sent to them. m may be NULL. */
void metrics_sse(metrics *m, long clients_delta, long events);
/* Events a catch-up (sse_catchup.h) read from the stream, its probes'
 * included: what a resume older than the ring cost the edge and the
 * broker. From any thread. m may be NULL. */
void metrics_sse_read(metrics *m, long events);
/* A catch-up started: a resume the ring did not cover. From any thread. m
 * may be NULL. */
void metrics_sse_catchup(metrics *m);

/* The text format 0.0.4 of every metric, appended to out. 0 or the
 * buffer's error. */
int metrics_write(metrics *m, struct wr_buf *out);

#endif
