/* The edge itself (see edge.h): creates its parts in dependency order,
 * relays the bus's and the connections' events to the calls in flight, and
 * hands every request to the dispatcher. Nothing here looks at a request. */
#include "edge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "bus.h"
#include "call.h"
#include "dispatch.h"
#include "httpd.h"
#include "metrics.h"
#include "sse.h"
#include "trail.h"
#include "warren/log.h"

struct edge {
    struct event_base *base;
    httpd *http;        /* its client connections */
    accepter *accepter; /* the listener and its guard (accept.h) */
    bus *bus;
    trail *trail;
    calls *calls;
    sse *sse;         /* its event streams */
    metrics *metrics; /* the process's, shared with the other loops */
    struct dispatcher dispatcher;
};

/* The bus and the connections are created before the calls they report to
 * (the calls publish on the bus): their events reach the calls through
 * the edge, which has them all. */
static void on_reply(void *arg, const struct wr_msg *m)
{
    edge *e = arg;
    if (e->calls != NULL)
        calls_on_reply(e->calls, m);
}

static void on_returned(void *arg, const struct wr_msg *m)
{
    edge *e = arg;
    if (e->calls != NULL)
        calls_on_returned(e->calls, m);
}

static void on_down(void *arg)
{
    edge *e = arg;
    if (e->calls != NULL)
        calls_on_down(e->calls);
}

static void on_gone(void *call, void *arg)
{
    edge *e = arg;
    if (e->calls != NULL)
        calls_on_gone(e->calls, call);
}

static void on_request(struct hreq *req, void *arg)
{
    edge *e = arg;
    dispatch_request(&e->dispatcher, req);
}

/* The listening socket and the server on it. 0, or -1 when it cannot
 * listen (logged). */
static int listen_http(edge *e, const struct wr_cfg *cfg, struct edge_shared *sh)
{
    e->accepter = accept_new(e->base, cfg);
    if (e->accepter == NULL) {
        wr_error(NULL, "cannot listen on %s:%ld: %s", cfg->http_host, cfg->http_port,
                 strerror(errno));
        return -1;
    }
    struct httpd_handlers h = {on_request, on_gone, e};
    e->http = httpd_new(e->base, cfg, accept_listener(e->accepter), &sh->conns_open, sh->peers, &h);
    if (e->http == NULL) {
        wr_error(NULL, "edge: out of memory");
        return -1;
    }
    return 0;
}

edge *edge_new(struct event_base *base, const struct wr_cfg *cfg, struct edge_shared *sh,
               size_t audit_backlog)
{
    edge *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->base = base;
    e->metrics = sh->metrics;
    struct bus_handlers h = {on_reply, on_returned, on_down, e};
    e->bus = bus_new(base, cfg, &h);
    /* EDGE_BATCH: its records travel together (its workers read batches) */
    e->trail = e->bus ? trail_new(base, e->bus, audit_backlog, (size_t)cfg->edge_batch_bytes,
                                  cfg->edge_batch)
                      : NULL;
    e->calls =
        e->trail ? calls_new(base, cfg, &sh->calls_in_flight, e->bus, e->trail, sh->metrics) : NULL;
    e->sse =
        e->calls ? sse_new(base, cfg, sh->feed, e->calls, sh->metrics, &sh->sse_clients) : NULL;
    if (e->bus == NULL || e->trail == NULL || e->calls == NULL || e->sse == NULL) {
        wr_error(NULL, "edge: out of memory");
        edge_free(e);
        return NULL;
    }
    if (metrics_watch(e->metrics, e->bus, e->trail) != 0) {
        wr_error(NULL, "edge: too many event loops for the metrics");
        edge_free(e);
        return NULL;
    }
    struct dispatcher *d = &e->dispatcher;
    *d = (struct dispatcher){
        .cfg = cfg,
        .limits = {(int)cfg->max_json_depth, (size_t)cfg->max_in_values},
        .calls = e->calls,
        .bus = e->bus,
        .sse = e->sse,
        .trail = e->trail,
        .metrics = e->metrics,
        .ratelimit = sh->ratelimit,
    };
    (void)snprintf(d->default_base, sizeof(d->default_base), "http://%s:%ld", cfg->http_host,
                   cfg->http_port);
    if (listen_http(e, cfg, sh) != 0) {
        edge_free(e);
        return NULL;
    }
    return e;
}

void edge_drain(edge *e)
{
    if (calls_draining(e->calls))
        return;
    httpd_stop_accepting(e->http);
    accept_free(e->accepter); /* closes the listening socket */
    e->accepter = NULL;
    sse_drain(e->sse); /* its streams would hold the drain forever */
    wr_info(NULL, "draining %zu requests in flight", calls_count(e->calls));
    calls_drain(e->calls);
}

bool edge_sending(const edge *e)
{
    return httpd_sending(e->http);
}

void edge_free(edge *e)
{
    if (e == NULL)
        return;
    sse_free(e->sse); /* its streams hold calls: before them */
    e->sse = NULL;
    calls_free(e->calls); /* answers what is in flight: before its requests go */
    e->calls = NULL;
    httpd_free(e->http); /* closes every connection */
    accept_free(e->accepter);
    trail_free(e->trail);
    bus_free(e->bus);
    free(e);
}
