/* Exports (see export.h): the Accept rule, and one export's life. An
 * export ends exactly once (export_end): the last chunk sent, a cut (row
 * cap, deadline, a failed chunk, the edge's drain), an error before the
 * first byte, or its client gone. */
#include "export.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "warren/buf.h"
#include "warren/json.h"
#include "warren/log.h"
#include "warren/metrics.h"
#include "warren/proto.h"
#include "warren/rpc.h"
#include "warren/trace.h"

#define CHUNK_ROWS 5000 /* asked of each chunk: the worker's most (ops/export.h) */

/* One media range's verdict for a route. */
static enum export_want media_of(const char *type, size_t n, bool list, bool *ok)
{
    static const struct {
        const char *type;
        enum export_want want;
        bool list_only;
    } known[] = {{"application/json", EXPORT_NONE, false},
                 {"application/*", EXPORT_NONE, false},
                 {"*/*", EXPORT_NONE, false},
                 {WR_MEDIA_CSV, EXPORT_CSV, true},
                 {"text/*", EXPORT_CSV, true},
                 {WR_MEDIA_NDJSON, EXPORT_NDJSON, true}};
    *ok = false;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].type) == n && strncasecmp(type, known[i].type, n) == 0 &&
            (list || !known[i].list_only)) {
            *ok = true;
            return known[i].want;
        }
    return EXPORT_NONE;
}

/* The q parameter of one media range's parameters (";q=0.5"): 0 to 1000. */
static int q_of(const char *params, size_t n)
{
    for (const char *p = params; p < params + n;) {
        while (p < params + n && (*p == ';' || *p == ' ' || *p == '\t'))
            p++;
        if (p + 1 < params + n && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            double v = strtod(p + 2, NULL);
            return v <= 0 ? 0 : v >= 1 ? 1000 : (int)(v * 1000);
        }
        const char *semi = memchr(p, ';', (size_t)(params + n - p));
        p = semi != NULL ? semi : params + n;
    }
    return 1000;
}

/* Accept's choice: the acceptable media range of the highest q, the first of
 * those; false when none is acceptable. */
static bool accept_choice(const char *accept, bool list, enum export_want *want)
{
    int best = 0;
    for (const char *p = accept; *p;) {
        size_t n = strcspn(p, ",");
        size_t lead = strspn(p, " \t");
        size_t tlen = strcspn(p + lead, ";, \t");
        const char *params = p + lead + tlen;
        int q = q_of(params, n - lead - tlen);
        bool ok;
        enum export_want w = media_of(p + lead, tlen, list, &ok);
        if (ok && q > best) {
            best = q;
            *want = w;
        }
        p += n + (p[n] == ',' ? 1 : 0);
    }
    return best > 0;
}

int export_wanted(const struct hreq *req, const struct route *r, enum export_want *want, char *msg,
                  size_t cap)
{
    *want = EXPORT_NONE;
    enum evhttp_cmd_type m = hreq_method(req);
    bool list = r->kind == ROUTE_API && r->op != NULL && strcmp(r->op, WR_OP_LIST) == 0 &&
                r->collection[0] != '\0' && r->relation[0] == '\0' &&
                (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD);
    const char *query = hreq_query(req);
    struct evkeyvalq params = {0};
    const char *format = NULL;
    if (query != NULL && evhttp_parse_query_str(query, &params) == 0)
        format = evhttp_find_header(&params, "format");
    int status = 0;
    if (format != NULL && list && strcmp(format, WR_FORMAT_CSV) == 0)
        *want = EXPORT_CSV;
    else if (format != NULL && list && strcmp(format, WR_FORMAT_NDJSON) == 0)
        *want = EXPORT_NDJSON;
    else if (format != NULL) {
        status = 400;
        (void)snprintf(msg, cap, "format: csv or ndjson, on a list only");
    }
    evhttp_clear_headers(&params);
    const char *accept = request_header(req, "Accept");
    if (status == 0 && format == NULL && accept != NULL && accept[0] != '\0' &&
        !accept_choice(accept, list, want)) {
        status = 406;
        (void)snprintf(msg, cap, "Accept: this URL serves application/json%s",
                       list ? ", text/csv and application/x-ndjson" : "");
    }
    if (status == 0 && *want != EXPORT_NONE && (r->page || r->per_page || r->has_after)) {
        status = 400;
        (void)snprintf(msg, cap,
                       "an export streams every row: page, results_per_page and after do not "
                       "apply");
    }
    return status;
}

/* How an export ended, for its audit record. */
enum end { END_COMPLETE, END_ROW_CAP, END_DEADLINE, END_FAILED, END_DRAIN, END_GONE };
static const char *const end_names[] = {"complete", "row_cap",  "deadline",
                                        "failed",   "shutdown", "gone"};

struct export
{
    calls *cs;
    trail *trail;
    metrics *metrics;
    struct hreq *req;       /* NULL once answered, cut or gone */
    struct call *hold;      /* hears of the client going away */
    struct call *pull;      /* the chunk in flight, or NULL */
    struct event *deadline; /* EXPORT_TIMEOUT_MS */
    struct event *cut;      /* a cut, run outside the server's write callback */
    enum export_want format;
    bool head;    /* HEAD: the headers of the first chunk, no body */
    bool started; /* the status line went out */
    bool last;    /* the chunk being flushed is the last one */
    enum end end; /* what the cut ends with */
    char *q;      /* owned copies of the list's parameters */
    char *fields;
    char collection[ROUTE_NAME_MAX + 1];
    char after[ROUTE_AFTER_MAX + 1]; /* the next chunk's cursor; "" for the first */
    long long rows, max_rows;
    long chunks;
    /* what each chunk's call goes out with (struct ask, call_spec) */
    char rid[WR_REQUEST_ID_LEN + 1];
    char principal[WR_API_KEY_NAME_MAX + 1];
    char trace_id[WR_TRACE_ID_LEN + 1];
    char base_url[300];
    char traceparent[WR_TRACEPARENT_LEN + 1];
    char tracestate[WR_TRACESTATE_MAX + 1];
    long long t0_ms;
    const char *route;
    uint64_t t0_ns;
};

static void on_done(void *arg, const struct wr_msg *m, int status, const char *code,
                    const char *message);
static void on_gone(void *arg);
static const struct call_hooks hooks = {.done = on_done, .gone = on_gone};

/* The ask of x's request (for its calls and its own answers). */
static struct ask ask_of(struct export *x)
{
    return (struct ask){.req = x->req,
                        .rid = x->rid,
                        .trail = x->trail,
                        .audit = {.id = x->rid,
                                  .time_ms = x->t0_ms,
                                  .principal = x->principal,
                                  .op = WR_OP_LIST,
                                  .collection = x->collection,
                                  .rows = -1,
                                  .trace_id = x->trace_id},
                        .metrics = x->metrics,
                        .route = x->route,
                        .t0_ns = x->t0_ns};
}

static void export_free(struct export *x)
{
    calls_cancel(x->cs, x->pull);
    calls_unhold(x->hold);
    if (x->deadline != NULL)
        event_free(x->deadline);
    if (x->cut != NULL)
        event_free(x->cut);
    free(x->q);
    free(x->fields);
    free(x);
}

/* The one audit record of a streamed export (an error before the first
 * byte is respond_error's), counted in the metrics; then x is freed. */
static void export_end(struct export *x, enum end how, const char *note)
{
    char detail[160];
    (void)snprintf(detail, sizeof(detail), "{\"chunks\":%ld,\"end\":\"%s\",\"format\":\"%s\"}",
                   x->chunks, end_names[how],
                   x->format == EXPORT_CSV ? WR_FORMAT_CSV : WR_FORMAT_NDJSON);
    struct ask a = ask_of(x);
    struct wr_audit_rec r = a.audit;
    r.status = 200;
    r.duration_ms = (double)(wr_metrics_now_ns() - x->t0_ns) / 1e6; /* never a clock step */
    r.rows = x->rows;
    r.detail = detail;
    r.detail_len = strlen(detail);
    r.error = note;
    r.error_len = note != NULL ? strlen(note) : 0;
    trail_add(x->trail, &r);
    metrics_answered(x->metrics, x->route, 200, x->t0_ns);
    export_free(x);
}

/* Ends a started export short, as export.h says: NDJSON with an error
 * line and the chunked encoding's end, CSV by closing the connection
 * before that end. */
static void cut_now(struct export *x, enum end how, const char *code, const char *message)
{
    char note[256];
    (void)snprintf(note, sizeof(note), "%s: %s", code, message);
    wr_warn(x->rid, "export of %s cut after %lld rows: %s", x->collection, x->rows, note);
    struct hreq *req = x->req;
    x->req = NULL; /* on_gone then does nothing */
    if (x->format == EXPORT_NDJSON) {
        struct wr_buf b;
        wr_buf_init(&b, 1024);
        wr_buf_puts(&b, "{\"error\":");
        wr_json_error(&b, code, message);
        wr_buf_puts(&b, "}\n");
        struct evbuffer *out = evbuffer_new();
        if (out != NULL && wr_buf_error(&b) == 0 && evbuffer_add(out, b.data, b.len) == 0)
            hreq_chunk(req, out, NULL, NULL);
        evbuffer_free(out);
        wr_buf_release(&b);
        hreq_end(req);
    } else {
        hreq_abort(req);
    }
    export_end(x, how, note);
}

static const char *cut_code(enum end how)
{
    return how == END_ROW_CAP    ? WR_CODE_ROW_CAP
           : how == END_DEADLINE ? WR_CODE_TIMEOUT
                                 : WR_CODE_SHUTTING_DOWN;
}

static const char *cut_message(enum end how)
{
    return how == END_ROW_CAP    ? "the export reached EXPORT_MAX_ROWS; narrow it with q"
           : how == END_DEADLINE ? "the export ran past EXPORT_TIMEOUT_MS"
                                 : "the edge is shutting down";
}

static void on_cut(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct export *x = arg;
    cut_now(x, x->end, cut_code(x->end), cut_message(x->end));
}

/* Asks for the next chunk: at most CHUNK_ROWS, and no more than the cap
 * leaves. */
static void pull_next(struct export *x)
{
    long long left = x->max_rows - x->rows;
    struct wr_request rq = {.op = WR_OP_LIST,
                            .collection = x->collection,
                            .q = x->q,
                            .fields = x->fields,
                            .format = x->format == EXPORT_CSV ? WR_FORMAT_CSV : WR_FORMAT_NDJSON,
                            .after = x->after,
                            .results_per_page = left < CHUNK_ROWS ? (long)left : CHUNK_ROWS};
    struct wr_buf env;
    wr_buf_init(&env, (size_t)1 << 20);
    char id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(id); /* each chunk its own message; the trace ties them */
    int rc = wr_request_encode(&rq, &env);
    if (rc == 0) {
        struct call_spec spec = {.op = WR_OP_LIST,
                                 .envelope = env.data,
                                 .len = env.len,
                                 .base_url = x->base_url,
                                 .traceparent = x->traceparent,
                                 .tracestate = x->tracestate};
        struct ask a = ask_of(x);
        rc = calls_pull(x->cs, &a, &spec, id, &hooks, x, &x->pull);
    }
    wr_buf_release(&env);
    if (rc != 0)
        on_done(x, NULL, 503, WR_CODE_UNAVAILABLE,
                rc == WR_ENOMEM ? "out of memory" : "the broker is unavailable");
}

/* A chunk left for the client (the server's write callback): the next
 * one, the end, or a cut, which runs from the loop rather than in here. */
static void on_flushed(void *arg)
{
    struct export *x = arg;
    if (x->req == NULL)
        return;
    if (x->last) {
        struct hreq *req = x->req;
        x->req = NULL;
        hreq_end(req);
        export_end(x, END_COMPLETE, NULL);
        return;
    }
    if (x->rows >= x->max_rows)
        x->end = END_ROW_CAP;
    else if (calls_draining(x->cs))
        x->end = END_DRAIN;
    if (x->end != END_COMPLETE) {
        event_active(x->cut, 0, 0);
        return;
    }
    pull_next(x);
}

/* The status line and headers of a started export. */
static void start_reply(struct export *x)
{
    char disposition[ROUTE_NAME_MAX + 64], cap[24];
    size_t n = strlen(x->collection);
    char name[ROUTE_NAME_MAX + 1];
    for (size_t i = 0; i <= n; i++) { /* a file name of plain characters */
        char c = x->collection[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '_' || c == '-' || c == '\0';
        name[i] = c;
        if (!plain)
            name[i] = '_';
    }
    bool csv = x->format == EXPORT_CSV;
    (void)snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s.%s\"", name,
                   csv ? "csv" : "ndjson");
    (void)snprintf(cap, sizeof(cap), "%lld", x->max_rows);
    respond_header(x->req, "Content-Type",
                   csv ? WR_MEDIA_CSV "; charset=utf-8; header=present" : WR_MEDIA_NDJSON);
    respond_header(x->req, "Content-Disposition", disposition);
    respond_header(x->req, "X-Request-Id", x->rid);
    respond_header(x->req, "Vary", "Accept");
    respond_header(x->req, "X-Warren-Export-Max-Rows", cap);
    respond_header(x->req, "Cache-Control", "no-store");
    hreq_start(x->req, 200);
    x->started = true;
}

/* The header value of m called name, or NULL. */
static const char *reply_header(const struct wr_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++)
        if (strcmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    return NULL;
}

/* A chunk that failed: before the first byte, its JSON error as the
 * answer; after it, a cut. */
static void chunk_failed(struct export *x, const struct wr_msg *m, int status, const char *code,
                         const char *message)
{
    if (x->started) {
        cut_now(x, END_FAILED, code != NULL ? code : WR_CODE_CHUNK_FAILED,
                message != NULL ? message : "a chunk of the export failed");
        return;
    }
    struct ask a = ask_of(x);
    x->req = NULL;
    if (m == NULL) {
        if (status == 503)
            respond_header(a.req, "Retry-After", "1");
        respond_error(&a, status, code, message);
    } else { /* the worker's error, audited by it; the edge's record says so too */
        respond_header(a.req, "Vary", "Accept");
        respond_json(a.req, status, a.rid, m->body, m->len);
        metrics_answered(a.metrics, a.route, status, a.t0_ns);
    }
    export_free(x);
}

static void on_done(void *arg, const struct wr_msg *m, int status, const char *code,
                    const char *message)
{
    struct export *x = arg;
    x->pull = NULL;
    if (m == NULL || status != 200) {
        chunk_failed(x, m, status, code, message);
        return;
    }
    const char *rows = reply_header(m, WR_HDR_ROWS);
    const char *next = reply_header(m, WR_HDR_NEXT);
    if (rows == NULL || (next != NULL && strlen(next) > ROUTE_AFTER_MAX)) {
        chunk_failed(x, NULL, 502, WR_CODE_INTERNAL, "the worker's chunk is not an export's");
        return;
    }
    x->chunks++;
    x->rows += strtoll(rows, NULL, 10);
    x->last = next == NULL;
    if (next != NULL)
        (void)snprintf(x->after, sizeof(x->after), "%s", next);
    if (!x->started)
        start_reply(x);
    if (x->head) { /* the headers say it all */
        x->last = true;
        on_flushed(x);
        return;
    }
    struct evbuffer *out = evbuffer_new();
    if (out == NULL || evbuffer_add(out, m->body, m->len) != 0) {
        evbuffer_free(out);
        cut_now(x, END_FAILED, WR_CODE_INTERNAL, "out of memory");
        return;
    }
    if (m->len == 0) /* nothing to write: no write callback will come */
        on_flushed(x);
    else
        hreq_chunk(x->req, out, on_flushed, x);
    evbuffer_free(out);
}

static void on_gone(void *arg)
{
    struct export *x = arg;
    if (x->req == NULL) /* a cut closed the connection itself */
        return;
    x->req = NULL; /* the server frees it */
    if (x->started) {
        export_end(x, END_GONE, "the client went away");
    } else {
        export_free(x);
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct export *x = arg;
    if (x->req == NULL)
        return;
    calls_cancel(x->cs, x->pull);
    x->pull = NULL;
    if (x->started) {
        cut_now(x, END_DEADLINE, WR_CODE_TIMEOUT, cut_message(END_DEADLINE));
        return;
    }
    chunk_failed(x, NULL, 504, WR_CODE_TIMEOUT, "the export did not start in time");
}

void export_start(calls *cs, const struct ask *a, const struct route *r,
                  const struct export_spec *spec)
{
    const struct wr_cfg *cfg = calls_cfg(cs);
    struct export *x = calloc(1, sizeof(*x));
    if (x == NULL)
        goto out_of_memory;
    *x = (struct export){.cs = cs,
                         .trail = a->trail,
                         .metrics = a->metrics,
                         .req = a->req,
                         .format = spec->format,
                         .head = hreq_method(a->req) == EVHTTP_REQ_HEAD,
                         .max_rows = cfg->export_max_rows,
                         .t0_ms = a->audit.time_ms,
                         .route = a->route,
                         .t0_ns = a->t0_ns};
    (void)snprintf(x->rid, sizeof(x->rid), "%s", a->rid);
    (void)snprintf(x->principal, sizeof(x->principal), "%s", a->audit.principal);
    (void)snprintf(x->trace_id, sizeof(x->trace_id), "%s",
                   a->audit.trace_id ? a->audit.trace_id : "");
    (void)snprintf(x->collection, sizeof(x->collection), "%s", r->collection);
    (void)snprintf(x->base_url, sizeof(x->base_url), "%s", spec->base_url);
    (void)snprintf(x->traceparent, sizeof(x->traceparent), "%s", spec->traceparent);
    (void)snprintf(x->tracestate, sizeof(x->tracestate), "%s",
                   spec->tracestate ? spec->tracestate : "");
    x->q = r->q != NULL ? strdup(r->q) : NULL;
    x->fields = r->has_fields ? strdup(r->fields) : NULL;
    struct event_base *base = calls_base(cs);
    x->deadline = evtimer_new(base, on_deadline, x);
    x->cut = event_new(base, -1, 0, on_cut, x);
    if ((r->q != NULL && x->q == NULL) || (r->has_fields && x->fields == NULL) ||
        x->deadline == NULL || x->cut == NULL)
        goto out_of_memory;
    x->hold = calls_hold(cs, a, &hooks, x);
    if (x->hold == NULL)
        goto out_of_memory;
    long ms = cfg->export_timeout_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(x->deadline, &tv);
    pull_next(x);
    return;
out_of_memory:
    if (x != NULL) {
        x->req = NULL;
        export_free(x);
    }
    respond_header(a->req, "Retry-After", "1");
    respond_error(a, 503, WR_CODE_UNAVAILABLE, "out of memory");
}
