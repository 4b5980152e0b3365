/* One delivery, start to finish: an edge's audit document is spooled; a
 * request past its deadline is recorded as not executed; any other is
 * dispatched to its op by the AMQP type, its reply published and its
 * audit record spooled. The envelope's bytes go to the op unparsed. Its
 * trace (traceparent) goes into the record, the op's call and every log
 * line written meanwhile; its op, status and duration into the metrics.
 * A proto v2 batch goes to batch.c, which hands each item back here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "call.h"
#include "runtime.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/rpc.h"
#include "warren/trace.h"

static const char *header(const struct wr_msg *m, const char *name)
{
    for (size_t i = 0; i < m->nhdrs; i++)
        if (strcmp(m->hdrs[i].name, name) == 0)
            return m->hdrs[i].value;
    return NULL;
}

/* The trace a request carries, or a new one; this worker's span in it. */
struct trace_ctx {
    struct wr_trace t;
    char traceparent[WR_TRACEPARENT_LEN + 1];
};

/* x-min-position: 1 to WR_MIN_POSITION_DIGITS digits, else 0 (none). */
static long long min_position(const char *s)
{
    size_t n = s != NULL ? strspn(s, "0123456789") : 0;
    if (n == 0 || n > WR_MIN_POSITION_DIGITS || s[n] != '\0')
        return 0;
    return strtoll(s, NULL, 10);
}

/* Calls op for m into w->reply. */
static void run_op(struct wr__worker *w, const struct wr_op *op, const struct wr_msg *m,
                   const char *principal, long long now, const struct trace_ctx *tc)
{
    struct wr_call call = {.id = m->message_id,
                           .op = op == w->svc->fallback ? m->type : op->name,
                           .principal = principal,
                           .base_url = header(m, WR_HDR_BASE_URL),
                           .deadline_ms = wr__deadline(m->deadline_ms, m->expiration_ms, now),
                           .body = m->body,
                           .len = m->len,
                           .trace_id = tc->t.trace_id,
                           .traceparent = tc->traceparent,
                           .tracestate = tc->t.tracestate,
                           .min_position = min_position(header(m, WR_HDR_MIN_POSITION)),
                           .delivery = w->delivery};
    w->reply.about.op = call.op; /* until the op describes the request itself */
    /* an op may take until its deadline: the loop is alive meanwhile */
    wr__health_alive(&w->health, call.deadline_ms - now);
    /* One line per execution (debug only): the fault suite counts them to
     * tell a request executed twice from one recorded twice. */
    wr_debug(call.id, "executing %s", call.op != NULL ? call.op : "-");
    /* An op that may wait (a write, for the database lock, up to its
     * deadline) must not hold the burst's replies so far corked with it
     * (the kernel holds a corked segment up to 200 ms). The burst goes on
     * uncorked. */
    if (op->writes || op->waits)
        wr_amqp_cork(w->amqp, false);
    int rc = op->fn(w->svc->ctx, &call, &w->reply);
    if (rc == 0 && w->reply.status != 0)
        return;
    wr_error(call.id, "op %s: %s", call.op != NULL ? call.op : "-",
             rc != 0 ? wr_err_str(rc) : "no answer");
    struct wr_http_error e = wr_err_http(rc != 0 ? rc : WR_EIO);
    wr_answer_error(&w->reply, e.status, e.code, e.message);
}

/* Answers m into w->reply and fills what the audit record says of it;
 * *label gets the op's name in the table (NULL for the fallback or none:
 * the metrics' "other"). Returns false when no reply is due: the
 * requester's deadline has passed, so it has already answered 504. */
static bool answer(struct wr__worker *w, const struct wr_msg *m, struct wr_audit_rec *rec,
                   const struct trace_ctx *tc, const char **label)
{
    wr_answer_reset(&w->reply);
    long long now = wr_steady_ms(); /* a step of the system clock moves no deadline */
    *label = NULL;
    if (wr__deadline_passed(m->deadline_ms, now)) {
        static const char note[] = "deadline passed while queued: not executed";
        rec->error = note;
        rec->error_len = sizeof(note) - 1;
        wr_series_add(w->metrics.deadlines, 1);
        return false;
    }
    const struct wr_op *op = wr__op_find(w->svc, m->type);
    if (op != NULL && op != w->svc->fallback)
        *label = op->name;
    if (m->message_id == NULL || !wr_request_id_valid(m->message_id)) {
        /* the id makes writes idempotent and names the audit record */
        wr_answer_error(&w->reply, 400, WR_CODE_BAD_REQUEST,
                        "message_id: a request id is required");
    } else if (op == NULL) {
        w->reply.about.op = m->type;
        wr_answer_error(&w->reply, 400, WR_CODE_BAD_REQUEST, "unknown operation");
    } else {
        run_op(w, op, m, rec->principal, now, tc);
    }
    const struct wr_answer *a = &w->reply;
    *rec = (struct wr_audit_rec){.id = rec->id,
                                 .time_ms = rec->time_ms,
                                 .principal = rec->principal,
                                 .trace_id = rec->trace_id,
                                 .op = a->about.op,
                                 .collection = a->about.collection,
                                 .key = a->about.key,
                                 .relation = a->about.relation,
                                 .page = a->about.page,
                                 .per_page = a->about.per_page,
                                 .status = a->status,
                                 .cache = a->cache != NULL ? a->cache : "off",
                                 .rows = a->status < 400 ? a->rows : -1};
    if (a->detail.len > 0) {
        static const char cut[] = "{\"truncated\":true}";
        bool whole = wr_buf_error(&a->detail) == 0;
        rec->detail = whole ? a->detail.data : cut;
        rec->detail_len = whole ? a->detail.len : sizeof(cut) - 1;
    }
    if (a->status >= 400) {
        rec->error = a->body.data;
        rec->error_len = a->body.len > 0 ? a->body.len - 1 : 0; /* no '\n' */
        rec->error_is_json = true;
    }
    return true;
}

static int publish_reply(struct wr__worker *w, const struct wr_msg *m, struct wr_err *err)
{
    const struct wr_answer *a = &w->reply;
    struct wr_msg out = {.correlation_id = m->correlation_id,
                         .expiration_ms = -1,
                         .status = a->status,
                         .body = a->body.data,
                         .len = a->body.len,
                         .body_json = a->body_json};
    if (a->link.len > 0)
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_LINK, a->link.data};
    if (a->location[0] != '\0')
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){"location", a->location};
    if (a->allow[0] != '\0')
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){"allow", a->allow};
    if (a->cache != NULL)
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_CACHE, a->cache};
    // cppcheck-suppress variableScope ; out.hdrs points into it until the publish below
    char position[24];
    if (a->position > 0) {
        (void)snprintf(position, sizeof(position), "%lld", a->position);
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_REPLY_POSITION, position};
    }
    // cppcheck-suppress variableScope ; out.hdrs points into it until the publish below
    char rows[24];
    if (a->chunk) {
        (void)snprintf(rows, sizeof(rows), "%lld", a->rows);
        out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_ROWS, rows};
        if (a->next[0] != '\0')
            out.hdrs[out.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_NEXT, a->next};
    }
    if (w->collect) /* an item of a batch: its reply leaves with the others' */
        return wr__batch_reply(w, m, &out, err);
    return wr_amqp_publish(w->amqp, m->reply_to, &out, false, err);
}

/* Spools one of an edge's audit documents from warren.audit. One that is
 * not a valid document is recorded as a failed request of op "audit"
 * instead, so that every delivery is acknowledged the same way (after its
 * records). */
static void take_audit_doc(struct wr__worker *w, const char *doc, size_t len,
                           unsigned long long *recno)
{
    struct wr_err err = {0};
    int rc = wr_audit_record_doc(w->audit, doc, len, recno, &err);
    if (rc == WR_EINVAL) {
        char id[WR_REQUEST_ID_LEN + 1];
        wr_request_id_new(id);
        wr_warn(id, "%s", err.msg);
        struct wr_audit_rec rec = {.id = id,
                                   .time_ms = wr_now_ms(),
                                   .op = WR_MSG_TYPE_AUDIT,
                                   .status = 400,
                                   .rows = -1,
                                   .error = err.msg,
                                   .error_len = strlen(err.msg)};
        rc = wr_audit_record(w->audit, &rec, recno, &err);
    }
    if (rc != 0) {
        wr_error(NULL, "stopping: %s", err.msg);
        w->fatal = true;
        *recno = UINT64_MAX;
    }
}

/* Spools the documents of a delivery from warren.audit: the body of an
 * "audit" message is one, an "audit_batch" holds up to
 * WR_AUDIT_BATCH_DOCS_MAX, one a line, spooled in order; *recno is the last
 * one's. The last document taken is the rest of the body, so past the
 * limit (or a line break in a lone "audit" body) it fails the one-line
 * check: a hostile message costs one record, never one per line. */
static void take_audit_docs(struct wr__worker *w, const struct wr_msg *m, unsigned long long *recno)
{
    int max = strcmp(m->type, WR_MSG_TYPE_AUDIT_BATCH) == 0 ? WR_AUDIT_BATCH_DOCS_MAX : 1;
    const char *p = m->body != NULL ? m->body : "", *end = p + m->len;
    for (int n = 1; !w->fatal; n++) {
        const char *nl = n < max ? memchr(p, '\n', (size_t)(end - p)) : NULL;
        const char *stop = nl != NULL ? nl : end;
        take_audit_doc(w, p, (size_t)(stop - p), recno);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
}

bool wr__is_audit(const struct wr_msg *m)
{
    return m->type != NULL && (strcmp(m->type, WR_MSG_TYPE_AUDIT) == 0 ||
                               strcmp(m->type, WR_MSG_TYPE_AUDIT_BATCH) == 0);
}

int wr__dispatch(struct wr__worker *w, const struct wr_msg *m, unsigned long long *recno,
                 struct wr_err *err)
{
    if (!w->collect) /* a batch's items (collected) share the batch's */
        w->delivery++;
    if (wr__is_batch(m)) /* proto v2: each item comes back here alone */
        return wr__batch_dispatch(w, m, recno, err);
    wr__wmetrics_delivery(&w->metrics, m->routing_key, m->redelivered);
    if (wr__is_audit(m)) {
        take_audit_docs(w, m, recno);
        return 0;
    }
    uint64_t t0 = wr_metrics_now_ns();
    /* the caller's trace, or (none, or not valid) a new one from here */
    struct trace_ctx tc;
    (void)wr_trace_accept(&tc.t, header(m, WR_HDR_TRACEPARENT), header(m, WR_HDR_TRACESTATE));
    wr_traceparent_format(&tc.t, tc.traceparent);
    wr_log_scope_begin(m->message_id, tc.t.trace_id);
    struct wr_audit_rec rec = {.id = m->message_id,
                               .time_ms = wr_now_ms(),
                               .principal =
                                   wr__principal_of(header(m, WR_HDR_PRINCIPAL), m->user_id),
                               .trace_id = tc.t.trace_id};
    w->served++;
    int rc = 0;
    const char *label = NULL;
    bool answered = answer(w, m, &rec, &tc, &label);
    if (answered && m->reply_to != NULL)
        rc = publish_reply(w, m, err);
    uint64_t ns = wr_metrics_now_ns() - t0;
    rec.duration_ms = (double)ns / 1e6;
    if (answered)
        wr__wmetrics_request(&w->metrics, label, w->reply.status, ns);
    struct wr_err aerr = {0};
    if (wr_audit_record(w->audit, &rec, recno, &aerr) != 0) {
        wr_error(m->message_id, "stopping: %s", aerr.msg);
        w->fatal = true;
        *recno = UINT64_MAX; /* never durable: nothing from here on is acknowledged */
    }
    wr_log_scope_end();
    return rc;
}
