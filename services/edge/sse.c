/* Change events for browsers, one loop's side (see sse.h): the checks of
 * a request, its client's life (waiting for the collections it names to
 * be known, catching up, reading the ring), the writes, the heartbeat and
 * the one audit record of each stream. A client ends exactly once
 * (client_end): its client gone, cut (too slow, a failed catch-up) or the
 * drain. */
#include "sse.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cors.h"
#include "sse_catchup.h"
#include "warren/buf.h"
#include "warren/log.h"
#include "warren/metrics.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/trace.h"

struct client {
    sse *owner;
    struct client *prev, *next;
    struct hreq *req;     /* NULL once ended or gone */
    struct call *hold;    /* hears of the client going away */
    struct call *pull;    /* the collections asked of the catalog, or NULL */
    sse_catchup *catchup; /* reading the stream before the ring, or NULL */
    struct sse_filter filter;
    bool resume; /* Last-Event-ID given: after */
    struct sse_mark after, last;
    uint64_t seq;     /* the next event of the ring to look at */
    bool placed;      /* seq (or the catch-up) is where its events begin */
    bool started;     /* the status line went out */
    bool writing;     /* a chunk is on its way: the next waits for it */
    int cut;          /* 1 + the enum end it is to be cut with, from the reap event */
    long long events; /* sent */
    struct ask a;     /* its audit context; strings below */
    char rid[WR_REQUEST_ID_LEN + 1];
    char trace_id[WR_TRACE_ID_LEN + 1];
    char traceparent[WR_TRACEPARENT_LEN + 1]; /* the edge's span: its collections call's */
    char collection[SSE_NAME_MAX + 1];
};

struct sse {
    struct event_base *base;
    const struct wr_cfg *cfg;
    sse_feed *feed;
    calls *cs;
    metrics *metrics;
    atomic_long *clients;
    int wake[2]; /* the feed and the catch-ups write a byte to wake[1] */
    struct event *wake_ev;
    struct event *beat;
    struct event *reap; /* cuts run outside the server's write callback */
    struct client *first;
    struct sse_known known;
    bool draining;
};

static void on_done(void *arg, const struct wr_msg *m, int status, const char *code,
                    const char *message);
static void on_gone(void *arg);
static const struct call_hooks hooks = {.done = on_done, .gone = on_gone};

static long long now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void client_free(struct client *c)
{
    sse *s = c->owner;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->first = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    calls_cancel(s->cs, c->pull);
    calls_unhold(c->hold);
    sse_catchup_free(c->catchup);
    atomic_fetch_sub(s->clients, 1);
    if (c->started)
        metrics_sse(s->metrics, -1, 0);
    free(c);
}

enum end { END_GONE, END_SLOW, END_FAILED, END_DRAIN };
static const char *const end_names[] = {"gone", "too_slow", "failed", "shutdown"};

/* The stream's one audit record (an error before it started is
 * respond_error's); then c is freed. */
static void client_end(struct client *c, enum end how)
{
    struct hreq *req = c->req;
    c->req = NULL; /* on_gone then does nothing */
    if (req != NULL && how == END_SLOW)
        hreq_abort(req); /* what it holds is dropped */
    else if (req != NULL)
        hreq_end(req);
    char detail[96];
    (void)snprintf(detail, sizeof(detail), "{\"end\":\"%s\",\"events\":%lld}", end_names[how],
                   c->events);
    struct wr_audit_rec r = c->a.audit;
    r.status = 200;
    r.duration_ms = (double)(wr_metrics_now_ns() - c->a.t0_ns) / 1e6;
    r.rows = c->events;
    r.detail = detail;
    r.detail_len = strlen(detail);
    trail_add(c->a.trail, &r);
    if (how != END_GONE)
        wr_debug(c->rid, "event stream ended: %s after %lld events", end_names[how], c->events);
    client_free(c);
}

static void on_flushed(void *arg);

/* Sends out as the next chunk (c not writing). */
static void send_chunk(struct client *c, struct evbuffer *out)
{
    c->writing = true;
    hreq_chunk(c->req, out, on_flushed, c);
}

/* Where c's events begin: in the ring, or (a Last-Event-ID older than the
 * ring) a catch-up first. 0, WR_EAGAIN while the feed warms or every
 * catch-up's place is taken (a wake-up comes when that changes), or
 * WR_ENOMEM. */
static int place(struct client *c)
{
    sse *s = c->owner;
    int rc = sse_feed_place(s->feed, c->resume ? &c->after : NULL, &c->seq, &c->last);
    if (rc == WR_ENOTFOUND) {
        c->last = c->after;
        c->catchup = sse_catchup_new(s->feed, &c->after, s->wake[1], s->metrics);
        rc = c->catchup != NULL ? 0 : WR_ENOMEM;
    }
    c->placed = rc == 0;
    return rc;
}

/* c is to end for rc (a failed read or catch-up), outside the server's
 * write callback: from the reap event. */
static void cut(struct client *c, int rc)
{
    if (c->cut != 0)
        return;
    c->cut = 1 + (rc == WR_ETOOBIG ? END_SLOW : END_FAILED);
    event_active(c->owner->reap, 0, 0);
}

/* Sends what c has not had yet, a chunk at a time. */
static void pump(struct client *c)
{
    if (c->req == NULL || !c->started || c->writing || c->cut != 0)
        return;
    sse *s = c->owner;
    int rc = c->placed ? 0 : place(c);
    if (rc != 0) {
        if (rc != WR_EAGAIN)
            cut(c, rc);
        return;
    }
    struct evbuffer *out = evbuffer_new();
    if (out == NULL)
        return; /* the next wake-up tries again */
    long sent = 0;
    if (c->catchup != NULL) {
        rc = sse_catchup_read(c->catchup, &c->last, &c->filter, out, SSE_CHUNK_BYTES, &c->seq,
                              &sent);
        if (rc == 1) { /* caught up: the ring from here on */
            sse_catchup_free(c->catchup);
            c->catchup = NULL;
            rc = 0;
        }
    }
    if (rc == 0 && c->catchup == NULL)
        rc = sse_feed_read(s->feed, &c->seq, &c->last, &c->filter, out, SSE_CHUNK_BYTES, &sent);
    c->events += sent;
    metrics_sse(s->metrics, 0, sent);
    if (evbuffer_get_length(out) > 0)
        send_chunk(c, out);
    evbuffer_free(out);
    if (rc != 0)
        cut(c, rc);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sse *s = arg;
    struct client *c = s->first;
    while (c != NULL) {
        struct client *next = c->next;
        if (c->cut != 0)
            client_end(c, (enum end)(c->cut - 1));
        c = next;
    }
}

static void on_flushed(void *arg)
{
    struct client *c = arg;
    c->writing = false;
    pump(c);
}

/* The feed or a catch-up has news: every client looks. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    sse *s = arg;
    char b[256];
    while (read(fd, b, sizeof(b)) > 0)
        ;
    struct client *c = s->first;
    while (c != NULL) {
        struct client *next = c->next; /* pump may end c */
        pump(c);
        c = next;
    }
}

/* A comment to every idle stream: proxies and browsers see it alive, and
 * a client gone is found out by the write. */
static void on_beat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sse *s = arg;
    for (struct client *c = s->first; c != NULL; c = c->next) {
        if (c->req == NULL || !c->started || c->writing || c->cut != 0)
            continue;
        struct evbuffer *out = evbuffer_new();
        if (out != NULL && evbuffer_add(out, ": heartbeat\n\n", 13) == 0)
            send_chunk(c, out);
        evbuffer_free(out);
    }
}

/* The status line, the headers, and the stream's start. c is placed
 * before the headers leave, so that a stream without a Last-Event-ID has
 * every event published after its client saw them; a resume the feed
 * cannot place yet is placed by pump when woken. */
static void client_begin(struct client *c)
{
    sse *s = c->owner;
    if (place(c) == WR_ENOMEM) {
        struct ask a = c->a;
        c->req = NULL;
        respond_header(a.req, "Retry-After", "1");
        respond_error(&a, 503, WR_CODE_UNAVAILABLE, "out of memory");
        client_free(c);
        return;
    }
    respond_header(c->req, "Content-Type", "text/event-stream");
    respond_header(c->req, "Cache-Control", "no-store");
    respond_header(c->req, "X-Accel-Buffering", "no"); /* proxies: pass each event on */
    respond_header(c->req, "X-Request-Id", c->rid);
    hreq_start(c->req, 200);
    c->started = true;
    /* A stream's client sends nothing (the server reads on only to learn
     * of a close). A write that makes no progress for HTTP_TIMEOUT_S still
     * ends it: a client that stopped reading. */
    struct timeval wtv = {s->cfg->http_timeout_s, 0};
    hreq_write_timeout(c->req, &wtv);
    metrics_sse(s->metrics, 1, 0);
    metrics_answered(s->metrics, METRICS_ROUTE_EVENTS, 200, c->a.t0_ns);
    struct evbuffer *out = evbuffer_new(); /* the headers leave now, with the reconnect delay */
    if (out != NULL && evbuffer_add(out, "retry: 1000\n\n", 13) == 0)
        send_chunk(c, out);
    evbuffer_free(out);
}

/* Answers c's request with an error instead of a stream; c is freed. */
static void client_refuse(struct client *c, int status, const char *code, const char *message)
{
    struct ask a = c->a;
    c->req = NULL;
    if (status == 503)
        respond_header(a.req, "Retry-After", "1");
    respond_error(&a, status, code, message);
    client_free(c);
}

/* Begins c's stream if every collection it names is known, else 404. */
static void client_check(struct client *c)
{
    const char *missing = sse_known_missing(&c->owner->known, &c->filter);
    if (missing == NULL) {
        client_begin(c);
        return;
    }
    char msg[SSE_NAME_MAX + 48];
    (void)snprintf(msg, sizeof(msg), "no such collection: %s", missing);
    client_refuse(c, 404, WR_CODE_NOT_FOUND, msg);
}

/* The catalog's GET /api, for the collections it has. */
static void on_done(void *arg, const struct wr_msg *m, int status, const char *code,
                    const char *message)
{
    struct client *c = arg;
    sse *s = c->owner;
    c->pull = NULL;
    if (m != NULL && status == 200 && sse_known_parse(&s->known, m->body, m->len) == 0) {
        s->known.at_ms = now_ms();
        client_check(c);
        return;
    }
    if (m != NULL) {
        status = 502;
        code = WR_CODE_INTERNAL;
        message = "the catalog's list of collections could not be read";
    }
    client_refuse(c, status, code, message);
}

static void on_gone(void *arg)
{
    struct client *c = arg;
    if (c->req == NULL) /* ended by us: the close is ours */
        return;
    c->req = NULL; /* the server frees it */
    if (c->started)
        client_end(c, END_GONE);
    else
        client_free(c);
}

/* Asks the catalog which collections it has (c waits for the answer).
 * 0 or WR_E*. */
static int ask_collections(struct client *c)
{
    struct wr_request rq = {.op = WR_OP_COLLECTIONS};
    struct wr_buf env;
    wr_buf_init(&env, 4096);
    char id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(id);
    int rc = wr_request_encode(&rq, &env);
    if (rc == 0) {
        struct call_spec spec = {.op = WR_OP_COLLECTIONS,
                                 .envelope = env.data,
                                 .len = env.len,
                                 .base_url = "http://edge",
                                 .traceparent = c->traceparent,
                                 .tracestate = ""};
        rc = calls_pull(c->owner->cs, &c->a, &spec, id, &hooks, c, &c->pull);
    }
    wr_buf_release(&env);
    return rc;
}

bool sse_claims(const char *path)
{
    static const char api[] = "/api/", tail[] = "/events";
    size_t n = strlen(path), a = sizeof(api) - 1, t = sizeof(tail) - 1;
    if (strcmp(path, "/api/events") == 0)
        return true;
    if (n <= a + t || strncmp(path, api, a) != 0 || strcmp(path + n - t, tail) != 0)
        return false;
    return memchr(path + a, '/', n - a - t) == NULL;
}

/* The request's filter and Last-Event-ID into c; false when an error was
 * sent (400, or 404 for a collection name no collection can have). */
static bool read_request(sse *s, struct ask *a, struct client *c, const char *path)
{
    (void)s;
    char msg[160];
    const char *query = hreq_query(a->req);
    struct evkeyvalq params = {0};
    bool all = strcmp(path, "/api/events") == 0;
    bool ok = query == NULL || evhttp_parse_query_str(query, &params) == 0;
    const char *list = NULL;
    const char *bad = ok ? NULL : "the query does not parse";
    for (struct evkeyval *p = params.tqh_first; bad == NULL && p != NULL; p = p->next.tqe_next) {
        if (all && strcmp(p->key, "collections") == 0 && list == NULL)
            list = p->value;
        else
            bad = p->key;
    }
    if (bad == NULL && all && sse_filter_parse(list, &c->filter, msg, sizeof(msg)) != 0)
        bad = "";
    else if (bad != NULL) /* before the names are freed */
        (void)snprintf(msg, sizeof(msg), "%.64s: not a parameter of an event stream%s", bad,
                       all ? " (collections= is)" : "");
    evhttp_clear_headers(&params);
    if (bad != NULL) {
        respond_error(a, 400, WR_CODE_BAD_PARAMETER, msg);
        return false;
    }
    if (!all) {
        size_t n = strlen(path) - strlen("/api/") - strlen("/events");
        char name[SSE_NAME_MAX + 2];
        (void)snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1),
                       path + strlen("/api/"));
        if (n > SSE_NAME_MAX || sse_filter_parse(name, &c->filter, msg, sizeof(msg)) != 0) {
            respond_error(a, 404, WR_CODE_NOT_FOUND, "no such collection");
            return false;
        }
        memcpy(c->collection, name, n + 1);
    }
    const char *id = request_header(a->req, "Last-Event-ID");
    c->resume = id != NULL;
    if (id != NULL && sse_mark_parse(id, &c->after) != 0) {
        respond_error(a, 400, WR_CODE_BAD_PARAMETER,
                      "Last-Event-ID: an id this stream sent: <position> or <position>:<index>");
        return false;
    }
    return true;
}

/* The method's verdict: true to go on; OPTIONS and others answered. */
static bool method_ok(sse *s, struct ask *a)
{
    enum evhttp_cmd_type m = hreq_method(a->req);
    if (m == EVHTTP_REQ_GET)
        return true;
    if (m == EVHTTP_REQ_OPTIONS) {
        a->audit.id = NULL; /* preflights are not audited */
        cors_preflight(s->cfg, a->req, a->rid, "GET, OPTIONS");
        metrics_answered(a->metrics, METRICS_ROUTE_PREFLIGHT, 204, a->t0_ns);
        return false;
    }
    respond_header(a->req, "Allow", "GET, OPTIONS");
    respond_error(a, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
    return false;
}

void sse_serve(sse *s, struct ask *a, const char *path)
{
    a->route = METRICS_ROUTE_EVENTS;
    a->audit.op = "events";
    if (!method_ok(s, a))
        return;
    struct client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        respond_error(a, 500, WR_CODE_INTERNAL, "out of memory");
        return;
    }
    bool ok = read_request(s, a, c, path) && auth_check(s->cfg, a, NULL);
    if (!ok) {
        free(c);
        return;
    }
    if (s->draining || calls_draining(s->cs)) {
        free(c);
        respond_header(a->req, "Retry-After", "1");
        respond_error(a, 503, WR_CODE_OVERLOADED, "shutting down");
        return;
    }
    if (atomic_fetch_add(s->clients, 1) >= s->cfg->sse_max_clients) {
        atomic_fetch_sub(s->clients, 1);
        free(c);
        respond_header(a->req, "Retry-After", "1");
        respond_error(a, 503, WR_CODE_OVERLOADED, "too many event streams (SSE_MAX_CLIENTS)");
        return;
    }
    /* from here on, c's own copy of the ask and its strings */
    c->owner = s;
    c->a = *a;
    (void)snprintf(c->rid, sizeof(c->rid), "%s", a->rid);
    (void)snprintf(c->trace_id, sizeof(c->trace_id), "%s",
                   a->audit.trace_id ? a->audit.trace_id : "");
    c->a.rid = c->a.audit.id = c->rid;
    c->a.audit.trace_id = c->trace_id;
    c->a.audit.principal = a->audit.principal == a->principal ? c->a.principal : "anonymous";
    c->a.audit.collection = c->collection[0] ? c->collection : NULL;
    wr_traceparent_format(a->trace, c->traceparent);
    c->a.trace = NULL;
    c->req = a->req;
    c->next = s->first;
    if (c->next != NULL)
        c->next->prev = c;
    s->first = c;
    c->hold = calls_hold(s->cs, &c->a, &hooks, c);
    bool fresh = s->known.have && now_ms() - s->known.at_ms < SSE_KNOWN_TTL_S * 1000LL;
    int rc = c->hold == NULL ? WR_ENOMEM : 0;
    if (rc == 0 && c->filter.n > 0 && !fresh)
        rc = ask_collections(c);
    if (rc != 0) {
        client_refuse(c, 503, WR_CODE_UNAVAILABLE,
                      rc == WR_ENOMEM ? "out of memory" : "the broker is unavailable");
        return;
    }
    if (c->pull == NULL)
        client_check(c);
}

sse *sse_new(struct event_base *base, const struct wr_cfg *cfg, sse_feed *feed, calls *cs,
             metrics *m, atomic_long *clients)
{
    sse *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    *s = (sse){.base = base,
               .cfg = cfg,
               .feed = feed,
               .cs = cs,
               .metrics = m,
               .clients = clients,
               .wake = {-1, -1}};
    struct timeval beat = {(time_t)cfg->sse_heartbeat_s, 0};
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0 || sse_feed_watch(feed, s->wake[1]) != 0)
        goto fail;
    s->wake_ev = event_new(base, s->wake[0], EV_READ | EV_PERSIST, on_wake, s);
    s->beat = event_new(base, -1, EV_PERSIST, on_beat, s);
    s->reap = event_new(base, -1, 0, on_reap, s);
    if (s->wake_ev == NULL || s->beat == NULL || s->reap == NULL ||
        event_add(s->wake_ev, NULL) != 0 || event_add(s->beat, &beat) != 0)
        goto fail;
    return s;
fail:
    sse_free(s);
    return NULL;
}

void sse_drain(sse *s)
{
    s->draining = true;
    struct client *c = s->first;
    while (c != NULL) {
        struct client *next = c->next;
        if (c->started)
            client_end(c, END_DRAIN);
        else
            client_refuse(c, 503, WR_CODE_OVERLOADED, "shutting down");
        c = next;
    }
}

void sse_free(sse *s)
{
    if (s == NULL)
        return;
    sse_drain(s);
    if (s->wake_ev != NULL)
        event_free(s->wake_ev);
    if (s->beat != NULL)
        event_free(s->beat);
    if (s->reap != NULL)
        event_free(s->reap);
    /* the feed's thread and catch-ups still write to wake[1]: loops.c
     * stops the feed before any loop is freed */
    if (s->wake[0] >= 0)
        (void)close(s->wake[0]);
    if (s->wake[1] >= 0)
        (void)close(s->wake[1]);
    sse_known_release(&s->known);
    free(s);
}
