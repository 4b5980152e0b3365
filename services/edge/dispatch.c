/* One request's way through the edge (see dispatch.h). The order of the
 * checks is the contract: a malformed request or route first (414, 431,
 * 400, 404; a /svc/ service SERVICES does not list is a 404), then the
 * method (405: a method that does not apply is a 405 whatever else is
 * wrong), then the parameters (400), the API key (401, 403: writes and
 * /svc/ need one), the overload guard (503), a write's body (415, 400),
 * the call. The explorer's paths (/, /explorer/...) are no route of the
 * API: past the 414, 431 and framing checks, explorer.c answers them. */
#include "dispatch.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "cors.h"
#include "explorer.h"
#include "export.h"
#include "limits.h"
#include "respond.h"
#include "sse.h"
#include "warren/buf.h"
#include "warren/log.h"
#include "warren/metrics.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/trace.h"

/* The checks the server leaves to us, before routing: the request target's
 * length (414) and the header block's size (431), exactly against the
 * config (the server applies only its backstop). False when an error was
 * sent. */
static bool request_sane(const struct dispatcher *d, const struct ask *a)
{
    const struct wr_cfg *cfg = d->cfg;
    const char *uri = hreq_target(a->req);
    if (uri != NULL && strlen(uri) > (size_t)cfg->max_uri_bytes) {
        char msg[96];
        (void)snprintf(msg, sizeof(msg), "the request target is longer than %ld bytes",
                       cfg->max_uri_bytes);
        respond_error(a, 414, WR_CODE_URI_TOO_LONG, msg);
        return false;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < hreq_header_count(a->req); i++) {
        const char *name, *value;
        hreq_header_at(a->req, i, &name, &value);
        bytes += strlen(name) + strlen(value) + 4; /* ": " and CRLF */
    }
    if (bytes > (size_t)cfg->max_header_bytes) {
        char msg[96];
        (void)snprintf(msg, sizeof(msg), "the request headers are larger than %ld bytes",
                       cfg->max_header_bytes);
        respond_error(a, 431, WR_CODE_HEADERS_TOO_LARGE, msg);
        return false;
    }
    /* ambiguous framing (two lengths, both framings, a coding other than
     * chunked) never gets here: head.c refuses it before a body is read */
    return true;
}

/* scheme://host as the client used it, for the Link header; the Host header
 * is used only when it looks like a host name, else the configured one. */
static void base_url(const struct dispatcher *d, const struct hreq *req, char *out, size_t cap)
{
    const char *host = request_header(req, "Host");
    bool ok = host != NULL && host[0] != '\0' && strlen(host) < 256;
    for (const char *p = host; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             strchr(".-:[]_", *p) != NULL;
    /* copied, not printed: this runs for every call (cap > 7) */
    static const char scheme[] = "http://";
    if (ok) {
        (void)wr_str_copy(out, cap, scheme);
        (void)wr_str_copy(out + sizeof(scheme) - 1, cap - (sizeof(scheme) - 1), host);
    } else {
        (void)wr_str_copy(out, cap, d->default_base);
    }
}

static void request_id(const struct hreq *req, char id[WR_REQUEST_ID_LEN + 1])
{
    const char *given = request_header(req, "X-Request-Id");
    if (given != NULL && wr_request_id_valid(given))
        (void)wr_str_copy(id, WR_REQUEST_ID_LEN + 1, given);
    else
        wr_request_id_new(id);
}

/* The operation a method asks of a route: r->op for GET, a write op for
 * POST (on a collection), PATCH or PUT and DELETE (on an object, or on a
 * collection: every object q finds, where the collection opts in); NULL
 * when the method does not apply (405). */
static const char *method_op(const struct hreq *req, const struct route *r)
{
    enum evhttp_cmd_type m = hreq_method(req);
    bool batch = r->kind == ROUTE_API && r->op != NULL && strcmp(r->op, WR_OP_BATCH) == 0;
    if (batch) /* writes only: POST */
        return m == EVHTTP_REQ_POST ? WR_OP_BATCH : NULL;
    if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) /* the server sends HEAD no body */
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

/* Every method the edge serves: a collection's, and the server's (OPTIONS *). */
#define EVERY_METHOD "GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS"

/* The methods a route takes: Allow of a 405 and of OPTIONS. */
static const char *allowed(const struct route *r)
{
    if (r->kind == ROUTE_SVC) /* reads only, and OPTIONS as CORS answers it */
        return "GET, HEAD";
    if (r->op == NULL)
        return "GET";
    if (r->kind == ROUTE_API && strcmp(r->op, WR_OP_BATCH) == 0)
        return "POST, OPTIONS";
    if (r->kind == ROUTE_API && strcmp(r->op, WR_OP_LIST) == 0)
        return EVERY_METHOD;
    if (r->kind == ROUTE_API && strcmp(r->op, WR_OP_GET) == 0)
        return "GET, HEAD, PATCH, PUT, DELETE, OPTIONS";
    if (r->kind == ROUTE_API && r->related_key[0] != '\0')
        return "GET, HEAD, DELETE, OPTIONS";
    return "GET, HEAD, OPTIONS";
}

/* The shape a write's body must have, given as text into msg (empty when
 * it has it) with the status of its refusal: one JSON object, or for a
 * create also a list of at most MAX_BULK, for a batch a list of 1 to
 * WR_BATCH_MAX (413 for a longer list). */
static int body_shape(const struct dispatcher *d, const char *op, const char *json, size_t len,
                      char *msg, size_t cap)
{
    json_error_t jerr;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    bool batch = strcmp(op, WR_OP_BATCH) == 0;
    bool list_ok = batch || strcmp(op, WR_OP_CREATE) == 0;
    size_t max = batch ? WR_BATCH_MAX : (size_t)d->cfg->max_bulk;
    size_t n = json_is_array(j) ? json_array_size(j) : 0;
    int status = 400;
    if (j == NULL)
        (void)snprintf(msg, cap, "body: %s", jerr.text);
    else if (strlen(json) != len)
        (void)snprintf(msg, cap, "body: a NUL byte");
    else if (batch && !json_is_array(j))
        (void)snprintf(msg, cap, "body: must be a list of operations");
    else if (!json_is_object(j) && !(list_ok && json_is_array(j)))
        (void)snprintf(msg, cap, "body: must be one JSON object%s",
                       list_ok ? " or a list of objects" : "");
    else if (batch && n == 0)
        (void)snprintf(msg, cap, "body: a batch needs at least one operation");
    else if (json_is_array(j) && n > max)
        status = 413;
    if (status == 413)
        (void)snprintf(msg, cap, "body: a list of %zu, more than %zu (%s)", n, max,
                       batch ? "operations in a batch" : "MAX_BULK");
    json_decref(j);
    return status;
}

/* Whether Content-Type value ct names JSON: application/json in any case,
 * then the end or parameters, which may follow spaces (RFC 9110 8.3.1:
 * "application/json ; charset=utf-8"). */
static bool json_media_type(const char *ct)
{
    size_t n = strlen(WR_CONTENT_TYPE);
    if (ct == NULL || strncasecmp(ct, WR_CONTENT_TYPE, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* A write's body: JSON (415 otherwise) of the shape body_shape says (400
 * or 413 otherwise), copied NUL-terminated into *json (malloc'd). False
 * when an error was sent. */
static bool read_body(const struct dispatcher *d, const struct ask *a, const char *op, char **json)
{
    if (!json_media_type(request_header(a->req, "Content-Type"))) {
        respond_error(a, 415, WR_CODE_UNSUPPORTED_MEDIA_TYPE,
                      "the body must be JSON: Content-Type: application/json");
        return false;
    }
    size_t len;
    const char *in = hreq_body(a->req, &len);
    *json = malloc(len + 1);
    if (*json == NULL) {
        respond_error(a, 500, WR_CODE_INTERNAL, "out of memory");
        return false;
    }
    memcpy(*json, in, len);
    (*json)[len] = '\0';
    char msg[256];
    msg[0] = '\0';
    int status = 400;
    if (route_json_depth(*json, len) > d->limits.max_depth)
        (void)snprintf(msg, sizeof(msg), "body: nested deeper than %d arrays and objects",
                       d->limits.max_depth);
    else
        status = body_shape(d, op, *json, len, msg, sizeof(msg));
    if (msg[0] == '\0')
        return true;
    respond_error(a, status, status == 413 ? WR_CODE_PAYLOAD_TOO_LARGE : WR_CODE_BAD_REQUEST, msg);
    free(*json);
    *json = NULL;
    return false;
}

/* The request's trace: a traceparent sent once and valid by the W3C
 * grammar continues its trace (with its tracestate, the header lines
 * joined, when valid); anything else starts a new one. Either way the
 * edge's own span is new. */
static void trace_of(const struct hreq *req, struct wr_trace *t)
{
    const char *parent = NULL;
    int parents = 0;
    char state[WR_TRACESTATE_MAX + 2] = "";
    size_t len = 0;
    bool state_ok = true;
    for (size_t i = 0; i < hreq_header_count(req); i++) {
        const char *name, *value;
        hreq_header_at(req, i, &name, &value);
        if (strcasecmp(name, WR_HDR_TRACEPARENT) == 0) {
            parent = value;
            parents++;
        } else if (strcasecmp(name, WR_HDR_TRACESTATE) == 0 && state_ok) {
            int n = snprintf(state + len, sizeof(state) - len, "%s%s", len ? "," : "", value);
            state_ok = n >= 0 && (size_t)n < sizeof(state) - len;
            len += state_ok ? (size_t)n : 0;
        }
    }
    (void)wr_trace_accept(t, parents == 1 ? parent : NULL, state_ok && len ? state : NULL);
}

/* /healthz (the process lives) and /readyz (it can take requests). */
static void probe(const struct dispatcher *d, const struct ask *a, const struct route *r)
{
    enum evhttp_cmd_type m = hreq_method(a->req);
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        respond_header(a->req, "Allow", "GET, HEAD");
        respond_error(a, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
    } else if (r->kind == ROUTE_HEALTH) {
        respond_json(a->req, 200, a->rid, "{\"status\":\"ok\"}\n", 16);
        metrics_answered(a->metrics, a->route, 200, a->t0_ns);
    } else if (bus_all_ready() && !calls_draining(d->calls)) {
        respond_json(a->req, 200, a->rid, "{\"status\":\"ready\"}\n", 19);
        metrics_answered(a->metrics, a->route, 200, a->t0_ns);
    } else {
        respond_error(a, 503, WR_CODE_UNAVAILABLE, "not connected to the broker");
    }
}

/* The asterisk-form target (RFC 9112 3.2.4): OPTIONS about the server as a
 * whole (a proxy's or a load balancer's ping) is answered as any OPTIONS,
 * with every method, not audited; any other method with it is malformed. */
static void server_wide(const struct dispatcher *d, struct ask *a)
{
    if (hreq_method(a->req) != EVHTTP_REQ_OPTIONS) {
        respond_error(a, 400, WR_CODE_BAD_REQUEST, "the target * is for OPTIONS only");
        return;
    }
    a->audit.id = NULL;
    cors_preflight(d->cfg, a->req, a->rid, EVERY_METHOD);
    metrics_answered(a->metrics, METRICS_ROUTE_SERVER, 204, a->t0_ns);
}

/* The Prefer headers of a create, in order. */
static struct route_prefer prefer_of(const struct hreq *req, const char *op)
{
    struct route_prefer p = {0};
    if (strcmp(op, WR_OP_CREATE) != 0)
        return p;
    for (size_t i = 0; i < hreq_header_count(req); i++) {
        const char *name, *value;
        hreq_header_at(req, i, &name, &value);
        if (strcasecmp(name, "Prefer") == 0)
            route_prefer_parse(value, &p);
    }
    return p;
}

/* /metrics: the edge's metrics in Prometheus's text format. */
static void serve_metrics(const struct dispatcher *d, const struct ask *a)
{
    enum evhttp_cmd_type m = hreq_method(a->req);
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        respond_header(a->req, "Allow", "GET, HEAD");
        respond_error(a, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
        return;
    }
    /* counted first, so a scrape sees itself: the counters move with it */
    metrics_answered(a->metrics, a->route, 200, a->t0_ns);
    struct wr_buf b;
    wr_buf_init(&b, 8u << 20);
    if (metrics_write(d->metrics, &b) == 0)
        respond_body(a->req, 200, a->rid, WR_METRICS_CONTENT_TYPE, b.data, b.len);
    else
        respond_error(a, 500, WR_CODE_INTERNAL, "the metrics do not fit the answer");
    wr_buf_release(&b);
}

/* The request's envelope goes out as a call: for /svc/ routes only op and
 * id (every other member is empty), to the service's queue. fields goes
 * with the reads of objects, the Prefer header's words with a create. */
static void forward(const struct dispatcher *d, const struct ask *a, const struct route *r,
                    const char *op, const char *json, enum export_want want, struct call_spec *held)
{
    bool reads =
        r->kind == ROUTE_API && (strcmp(op, WR_OP_LIST) == 0 || strcmp(op, WR_OP_GET) == 0 ||
                                 strcmp(op, WR_OP_RELATED) == 0);
    struct route_prefer prefer = prefer_of(a->req, op);
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
                            .before = r->has_before ? r->before : NULL,
                            .count = r->count,
                            .fields = reads && r->has_fields ? r->fields : NULL,
                            .prefer_return = prefer.ret,
                            .resolution = prefer.resolution};
    char base[300];
    base_url(d, a->req, base, sizeof(base));
    struct wr_buf body;
    wr_buf_init(&body, (size_t)d->cfg->max_body_bytes * 2 + 8192);
    if (wr_request_encode(&rq, &body) != 0) {
        limits_release(held);
        respond_header(a->req, "Retry-After", "1");
        respond_error(a, 503, WR_CODE_UNAVAILABLE, "out of memory");
    } else {
        char traceparent[WR_TRACEPARENT_LEN + 1];
        wr_traceparent_format(a->trace, traceparent);
        struct export_spec xs = {.format = want,
                                 .base_url = base,
                                 .traceparent = traceparent,
                                 .tracestate = a->trace->tracestate};
        if (want != EXPORT_NONE) { /* a list streamed: export.h */
            limits_release(held);  /* none: an export is no search here */
            export_start(d->calls, a, r, &xs);
            wr_buf_release(&body);
            return;
        }
        struct call_spec spec = {.service = r->kind == ROUTE_SVC ? r->service : NULL,
                                 .write = r->kind == ROUTE_API && wr_op_is_write(op),
                                 .op = op,
                                 .envelope = body.data,
                                 .len = body.len,
                                 .base_url = base,
                                 .traceparent = traceparent,
                                 .tracestate = a->trace->tracestate,
                                 .shared = d->cfg->single_flight && r->kind == ROUTE_API &&
                                           !wr_op_is_write(op),
                                 .ended = held->ended,
                                 .ended_arg = held->ended_arg};
        calls_start(d->calls, a, &spec);
    }
    wr_buf_release(&body);
}

/* Answers or forwards one parsed request (rc and err: route_parse's). */
static void dispatch(const struct dispatcher *d, struct ask *a, int rc, const struct route *r,
                     const struct wr_err *err)
{
    if (rc == WR_ENOTFOUND) {
        respond_error(a, 404, WR_CODE_NOT_FOUND, err->msg);
        return;
    }
    bool svc = (rc == 0 || rc == WR_EINVAL) && r->kind == ROUTE_SVC;
    if (svc && !wr_cfg_service_listed(d->cfg, r->service, strlen(r->service))) {
        respond_error(a, 404, WR_CODE_NOT_FOUND, "no such service");
        return;
    }
    if (rc == 0 && (r->kind == ROUTE_HEALTH || r->kind == ROUTE_READY)) {
        a->audit.id = NULL; /* probes are not audited */
        a->route = r->kind == ROUTE_HEALTH ? METRICS_ROUTE_HEALTHZ : METRICS_ROUTE_READYZ;
        probe(d, a, r);
        return;
    }
    if (rc == 0 && r->kind == ROUTE_METRICS) {
        a->audit.id = NULL; /* like the probes: not audited */
        a->route = METRICS_ROUTE_METRICS;
        serve_metrics(d, a);
        return;
    }
    if (rc == 0 && hreq_method(a->req) == EVHTTP_REQ_OPTIONS) {
        cors_preflight(d->cfg, a->req, a->rid, allowed(r)); /* not audited */
        metrics_answered(a->metrics, METRICS_ROUTE_PREFLIGHT, 204, a->t0_ns);
        return;
    }
    /* A method that does not apply is a 405 whatever else is wrong; a bad
     * parameter (WR_EINVAL) leaves the path's route to judge it by. */
    bool routed = (rc == 0 || rc == WR_EINVAL) && r->op != NULL;
    const char *op = routed ? method_op(a->req, r) : NULL;
    if (routed) /* a fixed word: the catalog's op, or "svc" for any service's */
        a->route = svc ? METRICS_ROUTE_SVC : op != NULL ? op : r->op;
    if (op == NULL && (routed || rc == 0)) {
        respond_header(a->req, "Allow", allowed(r));
        respond_error(a, 405, WR_CODE_METHOD_NOT_ALLOWED, "this method is not allowed here");
        return;
    }
    if (rc != 0) {
        respond_error(a, 400, WR_CODE_BAD_PARAMETER, err->msg);
        return;
    }
    /* what the client accepts: JSON, or a list's export (406 otherwise) */
    enum export_want want = EXPORT_NONE;
    char msg[160];
    int refused = svc ? 0 : export_wanted(a->req, r, &want, msg, sizeof(msg));
    if (refused != 0) {
        respond_error(a, refused, refused == 406 ? WR_CODE_NOT_ACCEPTABLE : WR_CODE_BAD_PARAMETER,
                      msg);
        return;
    }
    /* a service's op is its own word: "delete" there is no catalog write */
    bool write = !svc && wr_op_is_write(op);
    if (!auth_check(d->cfg, a, write ? "writes" : svc ? "service requests" : NULL))
        return;
    if (!calls_open(d->calls)) {
        respond_header(a->req, "Retry-After", "1");
        respond_error(a, 503, WR_CODE_OVERLOADED,
                      calls_draining(d->calls) ? "shutting down" : "too many requests in flight");
        return;
    }
    /* per-client limits (limits.h): a search is a read with q */
    bool search = !svc && want == EXPORT_NONE && r->q != NULL &&
                  (strcmp(op, WR_OP_LIST) == 0 || strcmp(op, WR_OP_FUNCTIONS) == 0);
    struct call_spec held = {0};
    if (!limits_admit(d->ratelimit, a, search, &held))
        return;
    char *json = NULL;
    bool body = write && strcmp(op, WR_OP_DELETE) != 0;
    if (body && !read_body(d, a, op, &json))
        return; /* a write: no search held */
    forward(d, a, r, op, json, want, &held);
    free(json);
}

void dispatch_request(const struct dispatcher *d, struct hreq *req)
{
    uint64_t t0 = wr_metrics_now_ns();
    char rid[WR_REQUEST_ID_LEN + 1];
    request_id(req, rid);
    struct wr_trace trace;
    trace_of(req, &trace);
    wr_log_scope_begin(rid, trace.trace_id); /* lines logged for it carry its trace */
    respond_header(req, "X-Trace-Id", trace.trace_id);
    cors_headers(d->cfg, req);
    struct ask a = {.req = req,
                    .rid = rid,
                    .trail = d->trail,
                    .audit = {.id = rid,
                              .time_ms = wr_now_ms(),
                              .principal = "anonymous",
                              .rows = -1,
                              .trace_id = trace.trace_id},
                    .trace = &trace,
                    .metrics = d->metrics,
                    .route = METRICS_ROUTE_UNROUTED,
                    .t0_ns = t0};
    if (!request_sane(d, &a)) {
        wr_log_scope_end();
        return;
    }
    const char *path = hreq_path(req);
    if (path != NULL && strcmp(path, "*") == 0) {
        server_wide(d, &a);
        wr_log_scope_end();
        return;
    }
    if (path != NULL && explorer_claims(path)) { /* static files: not audited */
        a.audit.id = NULL;
        a.route = METRICS_ROUTE_EXPLORER;
        explorer_serve(&a, path);
        wr_log_scope_end();
        return;
    }
    if (path != NULL && sse_claims(path)) { /* event streams: sse.h */
        sse_serve(d->sse, &a, path);
        wr_log_scope_end();
        return;
    }
    struct route r; /* its path is set when rc is 0 or WR_EINVAL */
    route_init(&r);
    struct wr_err err = {0};
    int rc = path ? route_parse(path, hreq_query(req), &d->limits, &r, &err)
                  : wr_err_set(&err, WR_EINVAL, "malformed URL");
    a.audit.op = rc == 0 ? r.op : NULL;
    a.audit.collection = rc == 0 && r.collection[0] ? r.collection : NULL;
    a.audit.key = rc == 0 && r.key[0] ? r.key : NULL;
    a.audit.relation = rc == 0 && r.relation[0] ? r.relation : NULL;
    dispatch(d, &a, rc, &r, &err);
    route_release(&r);
    wr_log_scope_end();
}
