/* The edge itself (see edge.h): creates its parts in dependency order,
 * relays the bus's and the connections' events to the calls in flight, and
 * hands every request to the dispatcher. Nothing here looks at a request. */
#include "edge.h"

#include <errno.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "accept.h"
#include "bus.h"
#include "call.h"
#include "conn.h"
#include "dispatch.h"
#include "metrics.h"
#include "sse.h"
#include "trail.h"
#include "warren/log.h"

struct edge {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *socket;
    accepter *accepter; /* the listener's guard (accept.h) */
    bus *bus;
    trail *trail;
    calls *calls;
    conns *conns;
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

static void on_request(struct evhttp_request *req, void *arg)
{
    edge *e = arg;
    dispatch_request(&e->dispatcher, req);
}

/* libevent's limits and callbacks, then the listening socket. 0, or -1
 * when it cannot listen (logged). */
static int listen_http(edge *e, const struct wr_cfg *cfg)
{
    /* Every method reaches on_request, which answers 405 in JSON (libevent
     * would answer 501 in HTML). */
    evhttp_set_allowed_methods(e->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    /* libevent's cap on the request line and headers together is a
     * backstop; the dispatcher applies the two limits exactly, with 414 and
     * 431. Past the backstop libevent refuses, and conn.c says so in JSON. */
    evhttp_set_max_headers_size(e->http, cfg->max_uri_bytes + cfg->max_header_bytes + 1024);
    evhttp_set_max_body_size(e->http, cfg->max_body_bytes);
    evhttp_set_timeout(e->http, (int)cfg->http_timeout_s);
    evhttp_set_gencb(e->http, on_request, e);
    e->accepter = accept_new(e->base, cfg);
    e->socket = e->accepter ? evhttp_bind_listener(e->http, accept_listener(e->accepter)) : NULL;
    if (e->socket == NULL) {
        wr_error(NULL, "cannot listen on %s:%ld: %s", cfg->http_host, cfg->http_port,
                 strerror(errno));
        accept_free(e->accepter, true);
        e->accepter = NULL;
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
    e->http = evhttp_new(base);
    if (e->http != NULL) /* every answer names its type (headers.c folds it) */
        evhttp_set_default_content_type(e->http, NULL);
    e->metrics = sh->metrics;
    struct bus_handlers h = {on_reply, on_returned, on_down, e};
    e->bus = bus_new(base, cfg, &h);
    e->trail = e->bus ? trail_new(base, e->bus, audit_backlog) : NULL;
    e->calls =
        e->trail ? calls_new(base, cfg, &sh->calls_in_flight, e->bus, e->trail, sh->metrics) : NULL;
    e->conns =
        e->http ? conns_new(base, e->http, cfg, &sh->conns_open, sh->peers, on_gone, e) : NULL;
    e->sse =
        e->calls ? sse_new(base, cfg, sh->feed, e->calls, sh->metrics, &sh->sse_clients) : NULL;
    if (e->http == NULL || e->bus == NULL || e->trail == NULL || e->calls == NULL ||
        e->conns == NULL || e->sse == NULL) {
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
        .conns = e->conns,
        .sse = e->sse,
        .trail = e->trail,
        .metrics = e->metrics,
        .ratelimit = sh->ratelimit,
    };
    (void)snprintf(d->default_base, sizeof(d->default_base), "http://%s:%ld", cfg->http_host,
                   cfg->http_port);
    if (listen_http(e, cfg) != 0) {
        edge_free(e);
        return NULL;
    }
    return e;
}

void edge_drain(edge *e)
{
    if (calls_draining(e->calls))
        return;
    accept_forget(e->accepter); /* evhttp frees the listener */
    if (e->socket != NULL)
        evhttp_del_accept_socket(e->http, e->socket);
    e->socket = NULL;
    sse_drain(e->sse); /* its streams would hold the drain forever */
    wr_info(NULL, "draining %zu requests in flight", calls_count(e->calls));
    calls_drain(e->calls);
}

bool edge_sending(const edge *e)
{
    return conns_sending(e->conns);
}

void edge_free(edge *e)
{
    if (e == NULL)
        return;
    sse_free(e->sse); /* its streams hold calls: before them */
    e->sse = NULL;
    calls_free(e->calls); /* answers what is in flight: before its requests go */
    e->calls = NULL;
    accept_forget(e->accepter);
    if (e->http)
        evhttp_free(e->http); /* closes every connection: conns hear of it */
    accept_free(e->accepter, false);
    trail_free(e->trail);
    bus_free(e->bus);
    conns_free(e->conns);
    free(e);
}
