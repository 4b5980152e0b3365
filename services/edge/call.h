/* One call's life: a request forwarded to a service, from its publish to
 * its one HTTP answer, whichever comes first: the reply (its status, body
 * and headers copied; an ETag, and 304 for a matching If-None-Match, on a
 * successful read), 504 at the deadline, 503 when the broker returns the
 * request or the connection drops, or nothing when the client went away.
 * Each call holds its own audit context for the answers the edge gives it.
 * calls is the set in flight: the pending table by request id. */
#ifndef EDGE_CALL_H
#define EDGE_CALL_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "bus.h"
#include "metrics.h"
#include "respond.h"
#include "trail.h"
#include "warren/amqp.h"
#include "warren/cfg.h"

typedef struct calls calls;

/* The set of calls in flight: they publish on b, audit through t and
 * count their answers in m (all three outlive it), and are counted in
 * *in_flight (shared by every loop's set, changed only atomically) against
 * MAX_IN_FLIGHT. NULL when out of memory. */
calls *calls_new(struct event_base *base, const struct wr_cfg *cfg, atomic_long *in_flight, bus *b,
                 trail *t, metrics *m);
/* Answers every call still in flight (503, "shutting down") and frees the
 * set. NULL-safe. */
void calls_free(calls *cs);

/* What one call sends. Strings are borrowed for the duration of calls_start. */
struct call_spec {
    const char *service;  /* the queue warren.<service>; NULL: SERVICE's */
    bool write;           /* to the write queue, warren.<SERVICE>.write */
    const char *op;       /* the operation: the AMQP type */
    const char *envelope; /* the request's envelope (proto v1 JSON) */
    size_t len;
    const char *base_url;    /* x-base-url */
    const char *traceparent; /* the edge's span of the request's trace */
    const char *tracestate;  /* "" when none */
    bool shared;             /* a read: an identical one in flight may answer it too */
    /* Called once when what calls_start was given ends: the call's end
     * (answered, timed out, failed, its client gone), or calls_start's own
     * answer when it makes no call. NULL: none. */
    void (*ended)(void *arg);
    void *ended_arg;
};

/* Starts a call for a's request (a->audit says what its records say; its
 * principal goes out as x-principal; a->route and a->t0_ns are what its
 * answer is counted as): publishes spec and parks the call on
 * a->req (hreq_park) until its answer. A shared read identical
 * to one in flight (same service, op, principal, base URL and envelope)
 * publishes nothing: it is answered with that one's reply or error, and
 * audited by the edge (cache "shared"). When that fails the
 * request is answered at once, and audited: 409 for a request id already in
 * flight, 503 (with Retry-After) when the broker is unavailable or memory
 * short. Either way req belongs to the call set or is answered. */
void calls_start(calls *cs, const struct ask *a, const struct call_spec *spec);

/* Calls in flight on this loop. */
size_t calls_count(const calls *cs);
/* Whether a new call may start: not draining, and the calls of every loop
 * below MAX_IN_FLIGHT. */
bool calls_open(const calls *cs);
bool calls_draining(const calls *cs);
/* No new calls; the loop ends once the last call in flight is answered. */
void calls_drain(calls *cs);

/* The bus's events (struct bus_handlers): a reply, a returned request,
 * the connection lost (every call in flight answered 503). */
void calls_on_reply(calls *cs, const struct wr_msg *m);
void calls_on_returned(calls *cs, const struct wr_msg *m);
void calls_on_down(calls *cs);
/* The client of call (as parked on its request) went away: the server
 * frees the request after this returns; the call is dropped and its reply, if it
 * comes, counted as late. */
void calls_on_gone(calls *cs, void *call);

/* An export's calls (export.h): it answers its request itself, chunk by
 * chunk, and pulls each chunk as a call of its own. */
struct call;
struct call_hooks {
    /* A pulled call's outcome: the reply m (status its x-status), or with
     * m NULL the failure the edge would answer (503 broker, 504 deadline),
     * with its code and message. The call is freed before. */
    void (*done)(void *arg, const struct wr_msg *m, int status, const char *code,
                 const char *message);
    /* A hold's client went away (the server frees the request after this
     * returns). The hold stays until calls_unhold. */
    void (*gone)(void *arg);
};
/* Parks a hold on a's request: a call that publishes nothing but
 * hears (h->gone) of its client going away, counted in flight, and waited
 * for by the drain, until calls_unhold. NULL when out of memory. */
struct call *calls_hold(calls *cs, const struct ask *a, const struct call_hooks *h, void *arg);
/* Ends a hold. NULL-safe. */
void calls_unhold(struct call *c);
/* Publishes spec (for a's request, its principal and trace) as request id
 * and parks it in the pending table with REQUEST_TIMEOUT_MS: h->done hears
 * its outcome exactly once, unless calls_cancel comes first. 0 with *out
 * the call; or WR_ENOMEM, WR_EINVAL (id in flight) or a publish's error,
 * and h->done is never called. */
int calls_pull(calls *cs, const struct ask *a, const struct call_spec *spec, const char *id,
               const struct call_hooks *h, void *arg, struct call **out);
/* Forgets a pulled call still in flight (its reply will be late). */
void calls_cancel(calls *cs, struct call *c);
/* The loop the set runs in, and its config. */
struct event_base *calls_base(const calls *cs);
const struct wr_cfg *calls_cfg(const calls *cs);

#endif
