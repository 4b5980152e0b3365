/* One call's life (see call.h). A call is freed exactly once, by whichever
 * comes first: the reply, the deadline, a basic.return, a broker outage,
 * the client going away, or the edge's end; whoever removes it from the
 * pending table owns it. A read identical to one in flight (flights.h)
 * joins it as a follower: never published, never in the pending table, it
 * shares its leader's fate (answered with the leader's reply or error, in
 * the same turn) unless its own client goes first. A leader whose client
 * went away stays in flight while it has followers. */
#include "call_int.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flights.h"
#include "pending.h"
#include "route.h"
#include "warren/buf.h"
#include "warren/clock.h"
#include "warren/codec.h"
#include "warren/log.h"
#include "warren/metrics.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/trace.h"

static void call_detach(struct call *c)
{
    if (c->parked != NULL)
        hreq_park(c->parked, NULL, NULL);
    c->parked = NULL;
}

/* No new read joins c's flight from now on. */
static void flight_end(struct call *c)
{
    if (c->flight == NULL)
        return;
    flights_remove(c->owner->flights, c->flight, c->flight_len, c);
    free(c->flight);
    c->flight = NULL;
}

/* Takes follower f off its leader's list. */
static void follower_unlink(struct call *f)
{
    struct call **p = &f->leader->followers;
    while (*p != NULL && *p != f)
        p = &(*p)->next;
    if (*p == f)
        *p = f->next;
    f->leader = NULL;
    f->next = NULL;
}

void call__free(struct call *c)
{
    if (c == NULL)
        return;
    call_detach(c);
    flight_end(c);
    calls *cs = c->owner;
    expiry_stop(&cs->deadlines, &c->deadline);
    if (c->ended != NULL)
        c->ended(c->ended_arg);
    batcher_done(cs->batcher, c->batch_slot);
    free(c);
    atomic_fetch_sub(cs->in_flight, 1);
    if (cs->draining && pending_count(cs->pending) == 0 && cs->held == 0)
        event_base_loopexit(cs->base, NULL);
}

/* Frees a pulled call (out of the pending table) and tells its owner,
 * once, of m or of the failure. */
static void pulled_done(struct call *c, const struct wr_msg *m, int status, const char *code,
                        const char *message)
{
    const struct call_hooks *h = c->hooks;
    void *arg = c->hooks_arg;
    call__free(c);
    h->done(arg, m, status, code, message);
}

/* Answers (and audits) a call that has been removed from the pending
 * table, and its followers the same, then frees them. */
static void call_error(struct call *c, int status, const char *code, const char *message)
{
    if (c->hooks != NULL) {
        pulled_done(c, NULL, status, code, message);
        return;
    }
    flight_end(c);
    struct call *f;
    while ((f = c->followers) != NULL) {
        c->followers = f->next;
        f->leader = NULL;
        call_error(f, status, code, message);
    }
    if (c->req != NULL) {
        struct ask a = {.req = c->req,
                        .rid = c->id,
                        .trail = c->owner->trail,
                        .audit = {.id = c->id,
                                  .time_ms = c->t0_ms,
                                  .principal = c->principal,
                                  .op = c->op,
                                  .collection = c->collection,
                                  .rows = -1,
                                  .trace_id = c->trace_id},
                        .metrics = c->owner->metrics,
                        .route = c->route,
                        .t0_ns = c->t0_ns};
        call_detach(c);
        c->req = NULL;
        if (status == 503)
            respond_header(a.req, "Retry-After", "1");
        wr_log_scope_begin(c->id, c->trace_id);
        respond_error(&a, status, code, message);
        wr_log_scope_end();
    }
    call__free(c);
}

void call__on_deadline(struct expiry_node *n, void *arg)
{
    (void)arg;
    struct call *c = (struct call *)(void *)((char *)n - offsetof(struct call, deadline));
    if (pending_remove(c->owner->pending, c->id) != c)
        return;
    metrics_count(c->owner->metrics, METRICS_DEADLINE_PASSED);
    call_error(c, 504, WR_CODE_TIMEOUT, "the service did not answer in time");
}

void calls_on_gone(calls *cs, void *call)
{
    struct call *c = call;
    if (c->hooks != NULL) { /* a hold: its owner lets it go */
        c->parked = NULL;
        c->hooks->gone(c->hooks_arg);
        return;
    }
    /* forget the request now; a reply that comes later finds no call and is
     * counted as late */
    c->req = NULL;
    c->parked = NULL;
    if (c->leader != NULL) { /* a follower: its leader goes on */
        follower_unlink(c);
        call__free(c);
    } else if (c->followers == NULL && pending_remove(cs->pending, c->id) == c) {
        call__free(c); /* else its followers still wait for the reply */
    }
}

/* A reply header's HTTP name: AMQP headers travel in lower case ("link"),
 * HTTP clients expect the usual capitals ("Link"). False for a name that is
 * not a plain token, which is dropped rather than copied into the response. */
static bool header_name(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        bool word_start = i == 0 || in[i - 1] == '-';
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return false;
        out[i] = (char)(word_start && c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    out[n] = '\0';
    return true;
}

/* The ETag of m's body: its wr_hash64 as 16 hex digits, quoted. */
static void etag_of(const struct wr_msg *m, char etag[19])
{
    uint64_t h = wr_hash64(m->body, m->len);
    etag[0] = '"';
    for (int i = 0; i < 16; i++)
        etag[1 + i] = wr_hex_lower[h >> (60 - 4 * i) & 15];
    etag[17] = '"';
    etag[18] = '\0';
}

/* A successful read's ETag (a hash of its bytes, so every worker gives the
 * same one) and Cache-Control; true when If-None-Match matched and a 304
 * went out instead of the body. */
static bool read_validated(const calls *cs, struct hreq *req, const struct wr_msg *m)
{
    enum evhttp_cmd_type method = hreq_method(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)
        return false;
    char etag[19];
    etag_of(m, etag);
    respond_header(req, "ETag", etag);
    if (cs->cfg->cache_control[0] != '\0')
        respond_header(req, "Cache-Control", cs->cfg->cache_control);
    const char *inm = request_header(req, "If-None-Match");
    if (inm == NULL || (strstr(inm, etag) == NULL && strcmp(inm, "*") != 0))
        return false;
    respond_send(req, 304);
    return true;
}

/* The edge's record of a follower answered with its leader's reply: the
 * worker recorded only the leader's request. */
static void audit_shared(const struct call *f, const struct wr_msg *m)
{
    struct wr_audit_rec r = {.id = f->id,
                             .time_ms = f->t0_ms,
                             .principal = f->principal,
                             .op = f->op,
                             .collection = f->collection,
                             .status = m->status > 0 ? m->status : 502,
                             .duration_ms = (double)(wr_metrics_now_ns() - f->t0_ns) / 1e6,
                             .cache = "shared",
                             .rows = -1};
    trail_add(f->owner->trail, &r);
}

/* Answers c's request (when its client is still there) with reply m. */
static void answer_reply(calls *cs, struct call *c, const struct wr_msg *m)
{
    struct hreq *req = c->req;
    call_detach(c);
    c->req = NULL;
    if (req == NULL)
        return;
    for (size_t i = 0; i < m->nhdrs; i++) {
        char name[64];
        if (header_name(m->hdrs[i].name, name, sizeof(name)))
            respond_header(req, name, m->hdrs[i].value);
    }
    respond_header(req, "Vary", "Accept");
    if (m->status == 503) /* a worker's "busy": clients should come back */
        respond_header(req, "Retry-After", "1");
    if (m->status == 200 && read_validated(cs, req, m)) {
        metrics_answered(cs->metrics, c->route, 304, c->t0_ns);
        return;
    }
    int status = m->status > 0 ? m->status : 502;
    respond_json(req, status, c->id, m->body, m->len);
    metrics_answered(cs->metrics, c->route, status, c->t0_ns);
}

static void on_reply_item(void *arg, const struct wr_msg *m)
{
    calls_on_reply(arg, m);
}

static void on_returned_item(void *arg, const struct wr_msg *m)
{
    calls_on_returned(arg, m);
}

void calls_on_reply(calls *cs, const struct wr_msg *m)
{
    if (batcher_unpack(m, true, on_reply_item, cs)) /* proto v2: each item as if alone */
        return;
    struct call *c = m->correlation_id ? pending_remove(cs->pending, m->correlation_id) : NULL;
    if (c == NULL) {
        cs->late_replies++;
        metrics_count(cs->metrics, METRICS_LATE_REPLY);
        wr_debug(m->correlation_id, "late reply dropped (%lld so far)", cs->late_replies);
        return;
    }
    if (c->hooks != NULL) {
        pulled_done(c, m, m->status > 0 ? m->status : 502, NULL, NULL);
        return;
    }
    flight_end(c);
    answer_reply(cs, c, m);
    struct call *f;
    while ((f = c->followers) != NULL) {
        c->followers = f->next;
        f->leader = NULL;
        bool answered = f->req != NULL;
        answer_reply(cs, f, m);
        if (answered)
            audit_shared(f, m);
        cs->shared++;
        call__free(f);
    }
    call__free(c);
}

void calls_on_returned(calls *cs, const struct wr_msg *m)
{
    if (batcher_unpack(m, false, on_returned_item, cs))
        return;
    struct call *c = m->correlation_id ? pending_remove(cs->pending, m->correlation_id) : NULL;
    if (c == NULL)
        return;
    metrics_count(cs->metrics, METRICS_RETURNED);
    call_error(c, 503, WR_CODE_UNAVAILABLE, "no queue serves this request");
}

void calls_on_down(calls *cs)
{
    struct call *c;
    /* Direct reply-to drops replies with the connection: nothing in flight
     * can be answered any more. */
    while ((c = pending_remove_any(cs->pending)) != NULL)
        call_error(c, 503, WR_CODE_UNAVAILABLE, "the broker connection was lost");
}

/* A new call for a's request, counted in flight until call_free; NULL
 * when out of memory. */
struct call *call__alloc(calls *cs, const struct ask *a, const struct call_spec *spec)
{
    /* the audit strings, at most their caps (as the audit record takes them) */
    const char *src[3] = {spec->op, a->audit.collection, a->audit.principal};
    const size_t cap[3] = {OP_MAX, ROUTE_NAME_MAX, WR_API_KEY_NAME_MAX};
    size_t len[3], text = 0;
    for (int i = 0; i < 3; i++)
        text += (len[i] = src[i] != NULL ? strnlen(src[i], cap[i]) : 0) + 1;
    struct call *c = calloc(1, sizeof(*c) + text);
    if (c == NULL)
        return NULL;
    const char **dst[3] = {&c->op, &c->collection, &c->principal};
    char *at = c->text;
    for (int i = 0; i < 3; at += len[i++] + 1) {
        *dst[i] = at;
        (void)wr_str_copy(at, len[i] + 1, src[i]);
    }
    atomic_fetch_add(cs->in_flight, 1); /* until call_free */
    c->owner = cs;
    c->batch_slot = -1;
    (void)wr_str_copy(c->id, sizeof(c->id), a->rid);
    c->t0_ms = a->audit.time_ms;
    (void)wr_str_copy(c->trace_id, sizeof(c->trace_id), a->audit.trace_id);
    c->route = a->route;
    c->t0_ns = a->t0_ns;
    c->req = a->req;
    c->ended = spec->ended;
    c->ended_arg = spec->ended_arg;
    return c;
}

static int call_new(calls *cs, const struct ask *a, const struct call_spec *spec, struct call **out)
{
    struct call *c = call__alloc(cs, a, spec);
    *out = c;
    if (c == NULL)
        return WR_ENOMEM;
    return pending_put(cs->pending, a->rid, c);
}

static void call_start(calls *cs, const struct ask *a, const struct call_spec *spec,
                       const struct wr_buf *key, const char *min);

/* Publishes spec as request id for a's request (with x-min-position min
 * when not NULL). 0, or bus_publish's error (the bus is then down). */
int call__publish(calls *cs, const char *id, const struct ask *a, const struct call_spec *spec,
                  const char *min)
{
    long long timeout = cs->cfg->request_timeout_ms;
    struct wr_msg m = {.correlation_id = id,
                       .message_id = id,
                       .reply_to = WR_REPLY_TO,
                       .type = spec->op,
                       .expiration_ms = timeout,
                       .deadline_ms = wr_steady_ms() + timeout,
                       .hdrs = {{WR_HDR_BASE_URL, spec->base_url},
                                {WR_HDR_PRINCIPAL, a->audit.principal},
                                {WR_HDR_TRACEPARENT, spec->traceparent},
                                {WR_HDR_TRACESTATE, spec->tracestate}},
                       .nhdrs = spec->tracestate != NULL && spec->tracestate[0] != '\0' ? 4 : 3,
                       .body = spec->envelope,
                       .len = spec->len};
    if (min != NULL)
        m.hdrs[m.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_MIN_POSITION, min};
    if (cs->batcher != NULL && !spec->write) { /* EDGE_BATCH: leaves in a batch */
        int slot;
        int rc = batcher_add(cs->batcher, spec->service, &m, &slot);
        if (rc != 0)
            return rc;
        /* a full batch sent to make room can take the bus down, which
         * answers (and frees) every call in flight: this one too */
        struct call *c = pending_get(cs->pending, id);
        if (c == NULL) {
            batcher_done(cs->batcher, slot);
            return WR_ECLOSED;
        }
        c->batch_slot = (signed char)slot;
        return 0;
    }
    struct wr_err err = {0};
    return bus_publish(cs->bus, spec->service, spec->write, &m, &err);
}

/* What decides a read's answer, for single-flight: service, op,
 * principal, base URL and envelope, each ended by a NUL. 0 or the
 * buffer's error. */
static int flight_key(const struct ask *a, const struct call_spec *spec, struct wr_buf *out)
{
    const char *parts[] = {spec->service ? spec->service : "", spec->op, a->audit.principal,
                           spec->base_url};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        wr_buf_append(out, parts[i], strlen(parts[i]) + 1);
    wr_buf_append(out, spec->envelope, spec->len);
    return wr_buf_error(out);
}

/* Joins a's read to leader's flight; false when out of memory (the
 * caller then starts a call of its own). */
static bool follow(calls *cs, struct call *leader, const struct ask *a,
                   const struct call_spec *spec)
{
    struct call *f = call__alloc(cs, a, spec);
    if (f == NULL)
        return false;
    f->leader = leader;
    f->next = leader->followers;
    leader->followers = f;
    hreq_park(a->req, f, &f->parked);
    return true;
}

/* Makes c the leader of key's flight; on failure c simply leads none. */
static void flight_start(calls *cs, struct call *c, const struct wr_buf *key)
{
    c->flight = malloc(key->len);
    if (c->flight == NULL)
        return;
    memcpy(c->flight, key->data, key->len);
    c->flight_len = key->len;
    if (flights_put(cs->flights, c->flight, c->flight_len, c) != 0) {
        free(c->flight);
        c->flight = NULL;
    }
}

void calls_start(calls *cs, const struct ask *a, const struct call_spec *spec)
{
    /* read your writes: the position travels to the worker as it is */
    const char *min = request_header(a->req, "X-Warren-Min-Position");
    size_t digits = min != NULL ? strspn(min, "0123456789") : 0;
    if (min != NULL && (digits == 0 || digits > WR_MIN_POSITION_DIGITS || min[digits] != '\0')) {
        respond_error(a, 400, WR_CODE_BAD_PARAMETER,
                      "X-Warren-Min-Position must be a position: 1 to 18 digits");
        if (spec->ended != NULL)
            spec->ended(spec->ended_arg);
        return;
    }
    /* a read that asks for a position is never shared: its answer may wait
     * for a replica another does not wait for */
    struct wr_buf key;
    wr_buf_init(&key, (size_t)cs->cfg->max_uri_bytes * 2 + 8192);
    bool shared = spec->shared && min == NULL && flight_key(a, spec, &key) == 0;
    struct call *leader = shared ? flights_find(cs->flights, key.data, key.len) : NULL;
    if (leader != NULL && follow(cs, leader, a, spec)) {
        wr_buf_release(&key);
        return;
    }
    call_start(cs, a, spec, shared ? &key : NULL, min);
    wr_buf_release(&key);
}

/* Publishes a's request as a call of its own (with x-min-position min when
 * not NULL), the leader of key's flight when key is not NULL. */
static void call_start(calls *cs, const struct ask *a, const struct call_spec *spec,
                       const struct wr_buf *key, const char *min)
{
    struct call *c = NULL;
    int rc = call_new(cs, a, spec, &c);
    bool in_flight = rc == WR_EINVAL; /* pending_put: the same X-Request-Id is in flight */
    if (rc == 0) {
        rc = call__publish(cs, a->rid, a, spec, min);
        /* A failed publish takes the bus down, and calls_on_down has
         * answered and freed every call in flight, this one too. */
        if (rc != 0 && pending_remove(cs->pending, a->rid) != c)
            return;
    }
    if (rc != 0) {
        if (c != NULL)
            c->req = NULL;            /* answered below */
        else if (spec->ended != NULL) /* no call to end */
            spec->ended(spec->ended_arg);
        call__free(c);
        if (in_flight) {
            respond_error(a, 409, WR_CODE_CONFLICT,
                          "a request with this X-Request-Id is in flight");
            return;
        }
        respond_header(a->req, "Retry-After", "1");
        respond_error(a, 503, WR_CODE_UNAVAILABLE,
                      rc == WR_ENOMEM ? "out of memory" : "the broker is unavailable");
        return;
    }
    expiry_start(&cs->deadlines, &c->deadline);
    hreq_park(a->req, c, &c->parked);
    if (key != NULL)
        flight_start(cs, c, key);
}

/* A batched request the bus did not take: answered as a failed publish. */
static void on_unsent(void *arg, const char *id)
{
    calls *cs = arg;
    struct call *c = pending_remove(cs->pending, id);
    if (c != NULL)
        call_error(c, 503, WR_CODE_UNAVAILABLE, "the broker is unavailable");
}

calls *calls_new(struct event_base *base, const struct wr_cfg *cfg, atomic_long *in_flight, bus *b,
                 trail *t, metrics *m)
{
    calls *cs = calloc(1, sizeof(*cs));
    if (cs == NULL)
        return NULL;
    *cs = (calls){
        .base = base, .cfg = cfg, .bus = b, .trail = t, .metrics = m, .in_flight = in_flight};
    int rc = expiry_init(&cs->deadlines, base, (int64_t)cfg->request_timeout_ms * 1000,
                         call__on_deadline, cs);
    cs->pending = pending_new();
    cs->flights = flights_new();
    if (cfg->edge_batch)
        cs->batcher = batcher_new(base, cfg, b, m, on_unsent, cs);
    if (rc != 0 || cs->pending == NULL || cs->flights == NULL ||
        (cfg->edge_batch && cs->batcher == NULL)) {
        calls_free(cs);
        return NULL;
    }
    return cs;
}

void calls_free(calls *cs)
{
    if (cs == NULL)
        return;
    struct call *c;
    while (cs->pending != NULL && (c = pending_remove_any(cs->pending)) != NULL)
        call_error(c, 503, WR_CODE_UNAVAILABLE, "shutting down");
    batcher_free(cs->batcher); /* after the calls: what it held was answered */
    pending_free(cs->pending);
    flights_free(cs->flights);
    expiry_release(&cs->deadlines);
    free(cs);
}

size_t calls_count(const calls *cs)
{
    return pending_count(cs->pending);
}

bool calls_draining(const calls *cs)
{
    return cs->draining;
}

bool calls_open(const calls *cs)
{
    return !cs->draining && atomic_load(cs->in_flight) < cs->cfg->max_in_flight;
}

void calls_drain(calls *cs)
{
    cs->draining = true;
    if (pending_count(cs->pending) == 0 && cs->held == 0)
        event_base_loopexit(cs->base, NULL);
}
