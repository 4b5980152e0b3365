/* The edge's HTTP side (see http.h). One call struct per request in flight;
 * it is freed exactly once, by whichever comes first: the reply, the
 * deadline, a basic.return, a broker outage, or the client going away. */
#include "http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <jansson.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "bus.h"
#include "conn.h"
#include "pending.h"
#include "route.h"
#include "trail.h"
#include "warren/buf.h"
#include "warren/codec.h"
#include "warren/json.h"
#include "warren/log.h"
#include "warren/rpc.h"

/* Edge audit records held while the broker is down (about 1 KiB each). */
#define AUDIT_BACKLOG 10000

struct edge {
    struct event_base *base;
    const struct wr_cfg *cfg;
    struct evhttp *http;
    struct evhttp_bound_socket *socket;
    bus *bus;
    pending *pending;
    const struct timeval *deadline_tv; /* a common timeout: O(1) timers */
    conns *conns;
    struct route_limits limits;
    char default_base[300];
    bool draining;
    long long late_replies;
    trail *trail;
    /* The request being answered now (in on_request, or as a call ends):
     * what the audit record of an answer the edge gives itself says.
     * id NULL: nothing to record (probes, preflights). */
    struct wr_audit_rec asked;
};

struct call {
    char id[WR_REQUEST_ID_LEN + 1];
    struct evhttp_request *req;
    struct conn *conn; /* its client's connection, NULL once gone */
    struct event *timer;
    edge *edge;
    /* for the audit record when the edge ends the call itself */
    const char *op;
    char collection[ROUTE_NAME_MAX + 1];
    long long t0_ms;
    char principal[WR_API_KEY_NAME_MAX + 1];
};

/* --- responses --- */

static void send_json(struct evhttp_request *req, int status, const char *rid, const char *body,
                      size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (rid != NULL)
        evhttp_add_header(h, "X-Request-Id", rid);
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        /* HEAD: the GET's headers, its length, no body (libevent would send it) */
        char n[24];
        (void)snprintf(n, sizeof(n), "%zu", len);
        evhttp_add_header(h, "Content-Length", n);
    } else {
        evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    }
    /* libevent knows no reason phrase for 431 */
    evhttp_send_reply(req, status, status == 431 ? "Request Header Fields Too Large" : NULL, NULL);
}

/* An error the edge answers itself; audited when e->asked names a request. */
static void send_error(edge *e, struct evhttp_request *req, int status, const char *rid,
                       const char *code, const char *message)
{
    struct wr_buf b;
    wr_buf_init(&b, 4096);
    wr_json_error(&b, code, message);
    wr_buf_putc(&b, '\n');
    bool ok = wr_buf_error(&b) == 0;
    send_json(req, status, rid, ok ? b.data : "{}\n", ok ? b.len : 3);
    if (e->asked.id != NULL) {
        struct wr_audit_rec r = e->asked;
        r.status = status;
        r.duration_ms = (double)(wr_now_ms() - r.time_ms);
        r.error = ok ? b.data : "{}";
        r.error_len = ok ? b.len - 1 : 2; /* no newline */
        r.error_is_json = true;
        trail_add(e->trail, &r);
    }
    wr_buf_release(&b);
}

/* --- the life of a call --- */

static void call_detach(struct call *c)
{
    conn_park(c->conn, NULL);
    c->conn = NULL;
}

static void call_free(struct call *c)
{
    if (c == NULL)
        return;
    call_detach(c);
    if (c->timer != NULL)
        event_free(c->timer);
    edge *e = c->edge;
    free(c);
    if (e->draining && pending_count(e->pending) == 0)
        event_base_loopexit(e->base, NULL);
}

/* Answers a call that has been taken out of the pending table. */
static void call_error(struct call *c, int status, const char *code, const char *message)
{
    if (c->req != NULL) {
        struct evhttp_request *req = c->req;
        call_detach(c);
        c->req = NULL;
        if (status == 503)
            evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        edge *e = c->edge;
        struct wr_audit_rec outer = e->asked; /* calls can end inside on_request */
        e->asked = (struct wr_audit_rec){.id = c->id,
                                         .time_ms = c->t0_ms,
                                         .principal = c->principal,
                                         .op = c->op,
                                         .collection = c->collection,
                                         .rows = -1};
        send_error(e, req, status, c->id, code, message);
        e->asked = outer;
    }
    call_free(c);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct call *c = arg;
    if (pending_remove(c->edge->pending, c->id) != c)
        return;
    call_error(c, 504, WR_CODE_TIMEOUT, "the service did not answer in time");
}

/* The client of a call went away. */
static void call_gone(void *call, void *arg)
{
    (void)arg;
    struct call *c = call;
    /* libevent frees the request after this returns: forget it now. A reply
     * that comes later finds no call and is counted as late. */
    c->req = NULL;
    c->conn = NULL;
    if (pending_remove(c->edge->pending, c->id) == c)
        call_free(c);
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

/* A successful read's ETag (a hash of its bytes, so every worker gives the
 * same one) and Cache-Control; true when If-None-Match matched and a 304
 * went out instead of the body. */
static bool read_validated(const edge *e, struct evhttp_request *req, const struct wr_msg *m)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req);
    if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)
        return false;
    uint64_t h = wr_fnv1a64(WR_FNV1A64_INIT, m->body, m->len);
    char etag[24];
    (void)snprintf(etag, sizeof(etag), "\"%016llx\"", (unsigned long long)h);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "ETag", etag);
    if (e->cfg->cache_control[0] != '\0')
        evhttp_add_header(out, "Cache-Control", e->cfg->cache_control);
    const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req), "If-None-Match");
    if (inm == NULL || (strstr(inm, etag) == NULL && strcmp(inm, "*") != 0))
        return false;
    evhttp_send_reply(req, 304, NULL, NULL);
    return true;
}

static void on_reply(void *arg, const struct wr_msg *m)
{
    edge *e = arg;
    struct call *c = m->correlation_id ? pending_remove(e->pending, m->correlation_id) : NULL;
    if (c == NULL) {
        e->late_replies++;
        wr_debug(m->correlation_id, "late reply dropped (%lld so far)", e->late_replies);
        return;
    }
    struct evhttp_request *req = c->req;
    call_detach(c);
    c->req = NULL;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    for (size_t i = 0; i < m->nhdrs; i++) {
        char name[64];
        if (header_name(m->hdrs[i].name, name, sizeof(name)))
            evhttp_add_header(h, name, m->hdrs[i].value);
    }
    evhttp_add_header(h, "Vary", "Accept");
    if (m->status == 503) /* a worker's "busy": clients should come back */
        evhttp_add_header(h, "Retry-After", "1");
    if (m->status == 200 && read_validated(e, req, m)) {
        call_free(c);
        return;
    }
    send_json(req, m->status > 0 ? m->status : 502, c->id, m->body, m->len);
    call_free(c);
}

static void on_returned(void *arg, const struct wr_msg *m)
{
    edge *e = arg;
    struct call *c = m->correlation_id ? pending_remove(e->pending, m->correlation_id) : NULL;
    if (c != NULL)
        call_error(c, 503, WR_CODE_UNAVAILABLE, "no queue serves this request");
}

static void on_down(void *arg)
{
    edge *e = arg;
    struct call *c;
    /* Direct reply-to drops replies with the connection: nothing in flight
     * can be answered any more. */
    while ((c = pending_remove_any(e->pending)) != NULL)
        call_error(c, 503, WR_CODE_UNAVAILABLE, "the broker connection was lost");
}

/* --- requests --- */

/* scheme://host as the client used it, for the Link header; the Host header
 * is used only when it looks like a host name, else the configured one. */
static void base_url(const edge *e, struct evhttp_request *req, char *out, size_t cap)
{
    const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
    bool ok = host != NULL && host[0] != '\0' && strlen(host) < 256;
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr(".-:[]_", *p) != NULL;
    if (ok)
        (void)snprintf(out, cap, "http://%s", host);
    else
        (void)snprintf(out, cap, "%s", e->default_base);
}

static void request_id(struct evhttp_request *req, char id[WR_REQUEST_ID_LEN + 1])
{
    const char *given = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Request-Id");
    if (given != NULL && wr_request_id_valid(given))
        (void)snprintf(id, WR_REQUEST_ID_LEN + 1, "%s", given);
    else
        wr_request_id_new(id);
}

/* Publishes the request and parks the call until its reply. */
static void forward(edge *e, struct evhttp_request *req, const struct route *r, const char *rid,
                    const char *op, const char *json, const char *principal)
{
    bool write = wr_op_is_write(op);
    struct wr_request rq = {.op = op,
                            .body = json,
                            .collection = r->collection[0] ? r->collection : NULL,
                            .key = r->key[0] ? r->key : NULL,
                            .relation = r->relation[0] ? r->relation : NULL,
                            .related_id = r->related_key[0] ? r->related_key : NULL,
                            .page = r->page,
                            .results_per_page = r->per_page,
                            .q = r->q,
                            .depth_given = r->depth >= 0,
                            .depth = r->depth,
                            .after = r->has_after ? r->after : NULL,
                            .count = r->count};
    struct conn *conn = conns_of(e->conns, req);
    if (conn == NULL) { /* unwatched: a reply could find the request freed */
        send_error(e, req, 500, rid, WR_CODE_INTERNAL, "out of memory");
        return;
    }
    char base[300];
    base_url(e, req, base, sizeof(base));
    struct wr_buf body;
    wr_buf_init(&body, (size_t)e->cfg->max_body_bytes * 2 + 8192);
    wr_request_encode(&rq, &body);
    struct call *c = calloc(1, sizeof(*c));
    if (c != NULL)
        c->edge = e;
    struct wr_err err = {0};
    int rc = c && wr_buf_error(&body) == 0 ? 0 : WR_ENOMEM;
    if (rc == 0) {
        memcpy(c->id, rid, sizeof(c->id));
        c->op = op;
        (void)snprintf(c->collection, sizeof(c->collection), "%s", r->collection);
        c->t0_ms = e->asked.time_ms;
        (void)snprintf(c->principal, sizeof(c->principal), "%s", principal);
        c->req = req;
        c->timer = evtimer_new(e->base, on_deadline, c);
        rc = c->timer ? pending_put(e->pending, rid, c) : WR_ENOMEM;
    }
    if (rc == 0) {
        struct wr_msg m = {.correlation_id = rid,
                           .message_id = rid,
                           .reply_to = WR_REPLY_TO,
                           .type = op,
                           .expiration_ms = e->cfg->request_timeout_ms,
                           .deadline_ms = wr_now_ms() + e->cfg->request_timeout_ms,
                           .hdrs = {{WR_HDR_BASE_URL, base}, {WR_HDR_PRINCIPAL, principal}},
                           .nhdrs = 2,
                           .body = body.data,
                           .len = body.len};
        rc = bus_publish(e->bus, &m, write, &err);
        /* A failed publish takes the bus down, and on_down has answered
         * and freed every pending call, this one too. */
        if (rc != 0 && pending_remove(e->pending, rid) != c) {
            wr_buf_release(&body);
            return;
        }
    }
    wr_buf_release(&body);
    if (rc != 0) {
        if (c != NULL)
            c->req = NULL; /* answered below */
        call_free(c);
        if (rc == WR_EINVAL) { /* pending_put: the same X-Request-Id is in flight */
            send_error(e, req, 409, rid, WR_CODE_CONFLICT,
                       "a request with this X-Request-Id is in flight");
            return;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        send_error(e, req, 503, rid, WR_CODE_UNAVAILABLE,
                   rc == WR_ENOMEM ? "out of memory" : "the broker is unavailable");
        return;
    }
    evtimer_add(c->timer, e->deadline_tv);
    c->conn = conn;
    conn_park(conn, c);
}

/* The operation a method asks of a route: r->op for GET, a write op for
 * POST (on a collection), PATCH or PUT and DELETE (on an object, or on a
 * collection: every object q finds, where the collection opts in); NULL
 * when the method does not apply (405). */
static const char *write_op(struct evhttp_request *req, const struct route *r)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) /* libevent sends HEAD no body */
        return r->op;
    if (r->kind != ROUTE_API || r->op == NULL)
        return NULL;
    bool collection = strcmp(r->op, WR_OP_LIST) == 0;
    bool object = strcmp(r->op, WR_OP_GET) == 0 && r->q == NULL;
    if (m == EVHTTP_REQ_POST && collection && r->q == NULL)
        return WR_OP_CREATE;
    if ((m == EVHTTP_REQ_PATCH || m == EVHTTP_REQ_PUT) && (object || collection))
        return WR_OP_UPDATE;
    bool related_one = strcmp(r->op, WR_OP_RELATED) == 0 && r->related_key[0] != '\0';
    if (m == EVHTTP_REQ_DELETE && (object || collection || related_one))
        return WR_OP_DELETE;
    return NULL;
}

static const char *allowed(const struct route *r)
{
    if (r->op == NULL)
        return "GET";
    if (r->kind == ROUTE_API && strcmp(r->op, WR_OP_LIST) == 0)
        return "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS";
    if (r->kind == ROUTE_API && strcmp(r->op, WR_OP_GET) == 0)
        return "GET, HEAD, PATCH, PUT, DELETE, OPTIONS";
    if (r->kind == ROUTE_API && r->related_key[0] != '\0')
        return "GET, HEAD, DELETE, OPTIONS";
    return "GET, HEAD, OPTIONS";
}

/* A write's body: JSON (415 otherwise), one object (400 otherwise), copied
 * NUL-terminated into *json. False when an error was sent. */
static bool read_body(edge *e, struct evhttp_request *req, const char *rid, char **json)
{
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    size_t n = strlen(WR_CONTENT_TYPE);
    if (ct == NULL || strncasecmp(ct, WR_CONTENT_TYPE, n) != 0 || (ct[n] != '\0' && ct[n] != ';')) {
        send_error(e, req, 415, rid, WR_CODE_UNSUPPORTED_MEDIA_TYPE,
                   "the body must be JSON: Content-Type: application/json");
        return false;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    *json = malloc(len + 1);
    if (*json == NULL || evbuffer_copyout(in, *json, len) != (ev_ssize_t)len) {
        send_error(e, req, 500, rid, WR_CODE_INTERNAL, "out of memory");
        return false;
    }
    (*json)[len] = '\0';
    if (route_json_depth(*json, len) > e->limits.max_depth) {
        char msg[96];
        (void)snprintf(msg, sizeof(msg), "body: nested deeper than %d arrays and objects",
                       e->limits.max_depth);
        send_error(e, req, 400, rid, WR_CODE_BAD_REQUEST, msg);
        free(*json);
        *json = NULL;
        return false;
    }
    json_error_t jerr;
    json_t *j = json_loadb(*json, len, JSON_REJECT_DUPLICATES, &jerr);
    bool object = json_is_object(j);
    json_decref(j);
    if (!object || strlen(*json) != len) {
        char msg[256];
        (void)snprintf(msg, sizeof(msg), "body: %s",
                       j == NULL ? jerr.text : "must be one JSON object");
        send_error(e, req, 400, rid, WR_CODE_BAD_REQUEST, msg);
        free(*json);
        *json = NULL;
        return false;
    }
    return true;
}

/* Whether origin may call: CORS_ORIGINS is '*' or lists it. */
static bool origin_allowed(const edge *e, const char *origin)
{
    const char *list = e->cfg->cors_origins;
    if (origin == NULL || list == NULL || list[0] == '\0')
        return false;
    size_t n = strlen(origin);
    for (const char *p = list; *p;) {
        p += strspn(p, ", ");
        size_t len = strcspn(p, ", ");
        if ((len == 1 && *p == '*') || (len == n && len > 0 && strncmp(p, origin, n) == 0))
            return true;
        p += len;
    }
    return false;
}

/* CORS headers on every answer to an allowed origin. */
static void cors(const edge *e, struct evhttp_request *req)
{
    const char *origin = evhttp_find_header(evhttp_request_get_input_headers(req), "Origin");
    if (!origin_allowed(e, origin))
        return;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Access-Control-Allow-Origin", origin);
    evhttp_add_header(h, "Vary", "Origin");
    evhttp_add_header(h, "Access-Control-Expose-Headers",
                      "Link, Location, ETag, X-Request-Id, X-Cache, Retry-After");
}

/* OPTIONS: the methods a route takes (and a CORS preflight's answer). */
static void preflight(edge *e, struct evhttp_request *req, const char *rid, const char *methods)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Allow", methods);
    if (origin_allowed(e, evhttp_find_header(evhttp_request_get_input_headers(req), "Origin"))) {
        evhttp_add_header(h, "Access-Control-Allow-Methods", methods);
        evhttp_add_header(h, "Access-Control-Allow-Headers",
                          "Authorization, Content-Type, X-Request-Id, If-None-Match");
        evhttp_add_header(h, "Access-Control-Max-Age", "600");
    }
    evhttp_add_header(h, "X-Request-Id", rid);
    evhttp_send_reply(req, 204, NULL, NULL);
}

/* /healthz (the process lives) and /readyz (it can take requests). */
static void probe(edge *e, struct evhttp_request *req, const char *rid, const struct route *r)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        send_error(e, req, 405, rid, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
    } else if (r->kind == ROUTE_HEALTH) {
        send_json(req, 200, rid, "{\"status\":\"ok\"}\n", 16);
    } else if (bus_ready(e->bus) && !e->draining) {
        send_json(req, 200, rid, "{\"status\":\"ready\"}\n", 19);
    } else {
        send_error(e, req, 503, rid, WR_CODE_UNAVAILABLE, "not connected to the broker");
    }
}

/* Whether a and b (a from the client) are equal, in time that depends on
 * neither's content: every byte up to the longest key is compared. */
static bool same_key(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < WR_API_KEY_MAX; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

/* The API key's name in out (cap bytes), when token is one of API_KEYS.
 * Every key is compared, so the time says nothing of which one matched. */
static bool find_key(const edge *e, const char *token, char *out, size_t cap)
{
    size_t n = strlen(token);
    bool found = false;
    struct wr_api_key k;
    for (const char *p = wr_cfg_api_key_next(e->cfg->api_keys, &k); p != NULL;
         p = wr_cfg_api_key_next(p, &k)) {
        bool same = n <= WR_API_KEY_MAX && same_key(token, n, k.key, k.key_len);
        if (same && !found)
            (void)snprintf(out, cap, "%.*s", (int)k.name_len, k.name);
        found |= same;
    }
    return found;
}

/* Who the caller is, for writes and for the audit trail's principal. A
 * request with `Authorization: Bearer <key>` must carry one of API_KEYS
 * (403 otherwise); a write must carry one (401 without, with
 * WWW-Authenticate). With no API_KEYS configured, writes are refused (403)
 * unless DEBUG is on (which only a loopback edge may be). Reads without a
 * key are "anonymous". False when an error was sent. */
static bool authorized(edge *e, struct evhttp_request *req, const char *rid, bool write,
                       const char **principal)
{
    static char name[WR_API_KEY_NAME_MAX + 1]; /* one request at a time on this loop */
    *principal = "anonymous";
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    bool keys = e->cfg->api_keys[0] != '\0';
    if (auth == NULL && (!write || (!keys && e->cfg->debug)))
        return true;
    if (auth == NULL && !keys) {
        send_error(e, req, 403, rid, WR_CODE_FORBIDDEN,
                   "writes are turned off: the edge has no API_KEYS configured");
        return false;
    }
    bool bearer = auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0;
    if (!bearer) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                          "Bearer realm=\"warren\"");
        send_error(e, req, 401, rid, WR_CODE_UNAUTHORIZED,
                   auth == NULL ? "writes need an API key: Authorization: Bearer <key>"
                                : "Authorization: only Bearer <key> is understood");
        return false;
    }
    const char *token = auth + 7 + strspn(auth + 7, " ");
    if (!find_key(e, token, name, sizeof(name))) {
        send_error(e, req, 403, rid, WR_CODE_FORBIDDEN, "the API key is not valid");
        return false;
    }
    *principal = name;
    return true;
}

/* The checks libevent leaves to us, before routing: the request target's
 * length (414), the header block's size (431), and framing that could be
 * read two ways (request smuggling: Content-Length given twice, or with
 * Transfer-Encoding), refused with the connection closed. False when an
 * error was sent. */
static bool request_sane(edge *e, struct evhttp_request *req, const char *rid)
{
    const char *uri = evhttp_request_get_uri(req);
    if (uri != NULL && strlen(uri) > (size_t)e->cfg->max_uri_bytes) {
        char msg[96];
        (void)snprintf(msg, sizeof(msg), "the request target is longer than %ld bytes",
                       e->cfg->max_uri_bytes);
        send_error(e, req, 414, rid, WR_CODE_URI_TOO_LONG, msg);
        return false;
    }
    size_t bytes = 0;
    int lengths = 0, encodings = 0, chunked = 0;
    const struct evkeyval *h;
    for (h = evhttp_request_get_input_headers(req)->tqh_first; h != NULL; h = h->next.tqe_next) {
        bytes += strlen(h->key) + strlen(h->value) + 4; /* ": " and CRLF */
        lengths += strcasecmp(h->key, "Content-Length") == 0;
        bool te = strcasecmp(h->key, "Transfer-Encoding") == 0;
        encodings += te;
        chunked += te && strcasecmp(h->value, "chunked") == 0;
    }
    if (bytes > (size_t)e->cfg->max_header_bytes) {
        char msg[96];
        (void)snprintf(msg, sizeof(msg), "the request headers are larger than %ld bytes",
                       e->cfg->max_header_bytes);
        send_error(e, req, 431, rid, WR_CODE_HEADERS_TOO_LARGE, msg);
        return false;
    }
    /* libevent reads "chunked" alone; any other coding would be read as
     * the connection's end, which a proxy in front may see otherwise */
    if (lengths > 1 || encodings > 1 || (lengths > 0 && encodings > 0) || encodings > chunked) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
        send_error(e, req, 400, rid, WR_CODE_BAD_REQUEST,
                   "ambiguous framing: Content-Length given twice or with Transfer-Encoding, or a "
                   "Transfer-Encoding other than chunked");
        return false;
    }
    return true;
}

/* Answers or forwards one parsed request. */
static void dispatch(edge *e, struct evhttp_request *req, const char *rid, int rc,
                     const struct route *r, const struct wr_err *err)
{
    if (rc == WR_ENOTFOUND) {
        send_error(e, req, 404, rid, WR_CODE_NOT_FOUND, err->msg);
        return;
    }
    if (rc == 0 && r->kind != ROUTE_API) {
        e->asked.id = NULL; /* probes are not audited */
        probe(e, req, rid, r);
        return;
    }
    if (rc == 0 && evhttp_request_get_command(req) == EVHTTP_REQ_OPTIONS) {
        e->asked.id = NULL;
        preflight(e, req, rid, allowed(r));
        return;
    }
    /* A method that does not apply is a 405 whatever else is wrong; a bad
     * parameter (WR_EINVAL) leaves the path's route to judge it by. */
    bool routed = (rc == 0 || rc == WR_EINVAL) && r->op != NULL;
    const char *op = routed ? write_op(req, r) : NULL;
    if (op == NULL && (routed || rc == 0)) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allowed(r));
        send_error(e, req, 405, rid, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
        return;
    }
    if (rc != 0) {
        send_error(e, req, 400, rid, WR_CODE_BAD_PARAMETER, err->msg);
        return;
    }
    const char *principal = NULL;
    if (!authorized(e, req, rid, wr_op_is_write(op), &principal))
        return;
    e->asked.principal = principal;
    if (e->draining || pending_count(e->pending) >= (size_t)e->cfg->max_in_flight) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        send_error(e, req, 503, rid, WR_CODE_OVERLOADED,
                   e->draining ? "shutting down" : "too many requests in flight");
        return;
    }
    char *json = NULL;
    bool body = wr_op_is_write(op) && strcmp(op, WR_OP_DELETE) != 0;
    if (body && !read_body(e, req, rid, &json))
        return;
    forward(e, req, r, rid, op, json, principal);
    free(json);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    edge *e = arg;
    char rid[WR_REQUEST_ID_LEN + 1];
    request_id(req, rid);
    conn_request(conns_of(e->conns, req)); /* the next request's deadline starts */
    cors(e, req);
    e->asked = (struct wr_audit_rec){
        .id = rid, .time_ms = wr_now_ms(), .principal = "anonymous", .rows = -1};
    if (!request_sane(e, req, rid)) {
        e->asked.id = NULL;
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    struct route r = {0}; /* its path is set when rc is 0 or WR_EINVAL */
    struct wr_err err = {0};
    int rc = path ? route_parse(path, evhttp_uri_get_query(uri), &e->limits, &r, &err)
                  : wr_err_set(&err, WR_EINVAL, "malformed URL");
    e->asked.op = rc == 0 ? r.op : NULL;
    e->asked.collection = rc == 0 && r.collection[0] ? r.collection : NULL;
    e->asked.key = rc == 0 && r.key[0] ? r.key : NULL;
    e->asked.relation = rc == 0 && r.relation[0] ? r.relation : NULL;
    dispatch(e, req, rid, rc, &r, &err);
    e->asked.id = NULL;
    route_release(&r);
}

edge *edge_new(struct event_base *base, const struct wr_cfg *cfg)
{
    edge *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    e->base = base;
    e->cfg = cfg;
    (void)snprintf(e->default_base, sizeof(e->default_base), "http://%s:%ld", cfg->http_host,
                   cfg->http_port);
    struct timeval tv = {cfg->request_timeout_ms / 1000, (cfg->request_timeout_ms % 1000) * 1000};
    e->deadline_tv = event_base_init_common_timeout(base, &tv);
    e->limits = (struct route_limits){(int)cfg->max_json_depth, (size_t)cfg->max_in_values};
    e->pending = pending_new();
    e->http = evhttp_new(base);
    struct bus_handlers h = {on_reply, on_returned, on_down, e};
    e->bus = bus_new(base, cfg, &h);
    e->trail = e->bus ? trail_new(base, e->bus, AUDIT_BACKLOG) : NULL;
    e->conns = e->http ? conns_new(base, e->http, cfg, call_gone, e) : NULL;
    if (e->deadline_tv == NULL || e->pending == NULL || e->http == NULL || e->bus == NULL ||
        e->trail == NULL || e->conns == NULL) {
        wr_error(NULL, "edge: out of memory");
        edge_free(e);
        return NULL;
    }
    /* Every method reaches on_request, which answers 405 in JSON (libevent
     * would answer 501 in HTML). */
    evhttp_set_allowed_methods(e->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    /* libevent's cap on the request line and headers together is a
     * backstop; request_sane applies the two limits exactly, with 414 and
     * 431. Past the backstop libevent refuses, and fix_html_error says so
     * in JSON. */
    evhttp_set_max_headers_size(e->http, cfg->max_uri_bytes + cfg->max_header_bytes + 1024);
    evhttp_set_max_body_size(e->http, cfg->max_body_bytes);
    evhttp_set_timeout(e->http, (int)cfg->http_timeout_s);
    evhttp_set_gencb(e->http, on_request, e);
    e->socket = evhttp_bind_socket_with_handle(e->http, cfg->http_host, (uint16_t)cfg->http_port);
    if (e->socket == NULL) {
        wr_error(NULL, "cannot listen on %s:%ld: %s", cfg->http_host, cfg->http_port,
                 strerror(errno));
        edge_free(e);
        return NULL;
    }
    /* libevent listens with a backlog of 128: a burst of new connections
     * beyond it has its SYNs dropped and waits a second for the retry, so
     * an overload answer (503 at once) would take a second. Linux lets a
     * second listen() raise the backlog of a listening socket. */
    (void)listen(evhttp_bound_socket_get_fd(e->socket), 4096);
    wr_info(NULL, "listening on http://%s:%ld", cfg->http_host, cfg->http_port);
    return e;
}

void edge_drain(edge *e)
{
    if (e->draining)
        return;
    e->draining = true;
    if (e->socket != NULL)
        evhttp_del_accept_socket(e->http, e->socket);
    e->socket = NULL;
    wr_info(NULL, "draining %zu requests in flight", pending_count(e->pending));
    if (pending_count(e->pending) == 0)
        event_base_loopexit(e->base, NULL);
}

void edge_free(edge *e)
{
    if (e == NULL)
        return;
    struct call *c;
    while (e->pending && (c = pending_remove_any(e->pending)) != NULL)
        call_error(c, 503, WR_CODE_UNAVAILABLE, "shutting down");
    if (e->http)
        evhttp_free(e->http); /* closes every connection: on_conn_close */
    trail_free(e->trail);
    bus_free(e->bus);
    pending_free(e->pending);
    conns_free(e->conns);
    free(e);
}
