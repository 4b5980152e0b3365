/* The insides of calls and of one call, for the files that make calls
 * (call.c: a request's; call_pull.c: an export's chunks and holds). */
#ifndef EDGE_CALL_INT_H
#define EDGE_CALL_INT_H

#include "batcher.h"
#include "call.h"
#include "expiry.h"
#include "flights.h"
#include "pending.h"
#include "route.h"
#include "warren/proto.h"
#include "warren/trace.h"

#define OP_MAX 40 /* the longest op: a service's are [a-z][a-z0-9_]{0,31} */

struct calls {
    struct event_base *base;
    const struct wr_cfg *cfg;
    bus *bus;
    trail *trail;
    metrics *metrics;
    pending *pending;
    flights *flights;        /* the reads in flight, by what they ask */
    batcher *batcher;        /* EDGE_BATCH: reads leave batched; else NULL */
    long long shared;        /* reads answered from another's reply */
    struct expiry deadlines; /* the calls' REQUEST_TIMEOUT_MS, one timer */
    atomic_long *in_flight;  /* every loop's calls (edge.h: struct edge_shared) */
    bool draining;
    long long late_replies;
    long held; /* holds (calls_hold): the drain waits for them too */
};

struct call {
    calls *owner;
    char id[WR_REQUEST_ID_LEN + 1];
    signed char batch_slot;      /* its batcher slot (batcher_add) until done; -1: none */
    struct hreq *req;            /* NULL once answered or gone */
    struct hreq *parked;         /* the request it is parked on (hreq_park), NULL once gone */
    struct expiry_node deadline; /* in owner->deadlines while it waits */
    /* the call's audit context, for the answers the edge gives it itself:
     * the strings in text, at their lengths (a request in flight keeps
     * them: ~40 bytes where arrays of their caps took 235) */
    const char *op;
    const char *collection;
    long long t0_ms;
    const char *principal;
    /* single-flight */
    char *flight; /* a leader's key in cs->flights (owned), NULL when none */
    size_t flight_len;
    struct call *followers; /* a leader's */
    struct call *leader;    /* a follower's; NULL for a leader */
    struct call *next;      /* the next follower of the same leader */
    char trace_id[WR_TRACE_ID_LEN + 1];
    const char *route; /* its metrics label: a constant */
    uint64_t t0_ns;
    /* a pulled call's or a hold's owner (an export): told instead of an
     * HTTP answer; NULL for a call that answers its request */
    const struct call_hooks *hooks;
    void *hooks_arg;
    void (*ended)(void *arg); /* spec->ended, called by call__free */
    void *ended_arg;
    char text[]; /* op, collection, principal: each ended by a NUL */
};

/* A new call for a's request, counted in flight until call__free; NULL
 * when out of memory. */
struct call *call__alloc(calls *cs, const struct ask *a, const struct call_spec *spec);
/* Frees c once nobody can reach it (out of the pending table); the drain
 * ends the loop after the last one. NULL-safe. */
void call__free(struct call *c);
/* Publishes spec as request id for a's request (with x-min-position min
 * when not NULL). 0, or bus_publish's error (the bus is then down). */
int call__publish(calls *cs, const char *id, const struct ask *a, const struct call_spec *spec,
                  const char *min);
/* A call's deadline passed: 504 when it is still in the pending table. */
void call__on_deadline(struct expiry_node *n, void *arg);

#endif
