/* The RPC client API (see rpc.h): requests published on one connection,
 * replies taken from direct reply-to and matched by correlation id. A
 * pipelined call publishes every request before it reads any reply, so n
 * calls cost about one round trip plus the broker's per-message work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warren/clock.h"
#include "warren/rpc.h"
#include "warren/trace.h"

struct wr_rpc {
    wr_amqp *amqp;
    char queue[160];
    char write_queue[200];
    long timeout_ms;
};

/* Pairs a correlation id with its slot in the caller's arrays. */
struct slot {
    char id[WR_REQUEST_ID_LEN + 1];
    size_t index;
    char trace_id[WR_TRACE_ID_LEN + 1];
};

static int open_conn(wr_rpc *rpc, struct wr_err *err)
{
    int rc = wr_amqp_connect(rpc->amqp, err);
    /* The service's queue is declared here too, so a request sent before any
     * worker started waits for one instead of coming back unroutable. */
    if (rc == 0)
        rc = wr_amqp_declare_service(rpc->amqp, rpc->queue + strlen(WR_QUEUE_PREFIX), err);
    if (rc == 0)
        rc = wr_amqp_consume(rpc->amqp, WR_REPLY_TO, true, 0, err);
    if (rc != 0)
        wr_amqp_close(rpc->amqp);
    return rc;
}

wr_rpc *wr_rpc_new(const struct wr_rpc_opts *opts, struct wr_err *err)
{
    wr_rpc *rpc = calloc(1, sizeof(*rpc));
    if (rpc == NULL) {
        wr_err_set(err, WR_ENOMEM, "rpc: out of memory");
        return NULL;
    }
    rpc->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 5000;
    int n = snprintf(rpc->queue, sizeof(rpc->queue), WR_QUEUE_PREFIX "%s",
                     opts->service ? opts->service : "catalog");
    (void)snprintf(rpc->write_queue, sizeof(rpc->write_queue), "%s" WR_QUEUE_WRITE_SUFFIX,
                   rpc->queue);
    struct wr_amqp_opts ao = {.url = opts->amqp_url,
                              .heartbeat_s = opts->heartbeat_s,
                              .connect_timeout_ms = opts->connect_timeout_ms,
                              .name = "warren-rpc-client"};
    if (n < 0 || (size_t)n >= sizeof(rpc->queue)) {
        wr_err_set(err, WR_EINVAL, "rpc: service name too long");
        goto fail;
    }
    rpc->amqp = wr_amqp_new(&ao);
    if (rpc->amqp == NULL) {
        wr_err_set(err, WR_ENOMEM, "rpc: out of memory");
        goto fail;
    }
    if (open_conn(rpc, err) != 0)
        goto fail;
    return rpc;
fail:
    wr_rpc_free(rpc);
    return NULL;
}

void wr_rpc_free(wr_rpc *rpc)
{
    if (rpc == NULL)
        return;
    wr_amqp_free(rpc->amqp);
    free(rpc);
}

void wr_reply_release(struct wr_reply *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free(r->link);
    *r = (struct wr_reply){0};
}

/* A reply the client makes up when the service did not answer; code and
 * message are constants that need no escaping. */
static void make_reply(struct wr_reply *r, int status, const char *code, const char *message)
{
    char body[256];
    int n = snprintf(body, sizeof(body), "{\"code\":\"%s\",\"message\":\"%s\"}\n", code, message);
    *r = (struct wr_reply){.status = status, .body = strdup(body), .len = (size_t)n};
}

static void copy_reply(struct wr_reply *r, const struct wr_msg *m)
{
    *r = (struct wr_reply){.status = m->status ? m->status : 502, .len = m->len};
    r->body = malloc(m->len + 1);
    if (r->body != NULL) {
        if (m->len > 0) /* a 204 has no body at all */
            memcpy(r->body, m->body, m->len);
        r->body[m->len] = '\0';
    }
    for (size_t i = 0; i < m->nhdrs; i++)
        if (strcmp(m->hdrs[i].name, WR_HDR_LINK) == 0)
            r->link = strdup(m->hdrs[i].value);
        else if (strcmp(m->hdrs[i].name, WR_HDR_CACHE) == 0)
            (void)snprintf(r->cache, sizeof(r->cache), "%s", m->hdrs[i].value);
        else if (strcmp(m->hdrs[i].name, WR_HDR_REPLY_POSITION) == 0)
            r->position = strtoll(m->hdrs[i].value, NULL, 10);
}

static int slot_cmp(const void *a, const void *b)
{
    return strcmp(((const struct slot *)a)->id, ((const struct slot *)b)->id);
}

/* The request's trace: the caller's span as the parent, or a new trace. */
static void trace_of(const struct wr_request *req, struct wr_trace *t,
                     char traceparent[WR_TRACEPARENT_LEN + 1])
{
    if (wr_traceparent_parse(req->traceparent, t)) {
        t->tracestate[0] = '\0';
        if (req->tracestate != NULL && wr_tracestate_valid(req->tracestate))
            (void)snprintf(t->tracestate, sizeof(t->tracestate), "%s", req->tracestate);
    } else {
        wr_trace_new(t);
    }
    wr_traceparent_format(t, traceparent);
}

static int publish(wr_rpc *rpc, const struct wr_request *req, struct slot *slot, long long deadline,
                   struct wr_err *err)
{
    struct wr_buf body;
    wr_buf_init(&body, 1 << 20);
    int rc = wr_request_encode(req, &body);
    if (rc == 0) {
        struct wr_trace t;
        char traceparent[WR_TRACEPARENT_LEN + 1];
        trace_of(req, &t, traceparent);
        (void)snprintf(slot->trace_id, sizeof(slot->trace_id), "%s", t.trace_id);
        const char *id = slot->id;
        struct wr_msg m = {
            .correlation_id = id,
            .message_id = id,
            .reply_to = WR_REPLY_TO,
            .type = req->op,
            /* the broker checks it: the audit trail's principal */
            .user_id = wr_amqp_user(rpc->amqp),
            .expiration_ms = rpc->timeout_ms,
            .deadline_ms = deadline,
            .hdrs = {{WR_HDR_TRACEPARENT, traceparent}, {WR_HDR_TRACESTATE, t.tracestate}},
            .nhdrs = t.tracestate[0] != '\0' ? 2 : 1,
            .body = body.data,
            .len = body.len};
        // cppcheck-suppress variableScope ; m.hdrs points into it until the publish below
        char min[24];
        if (req->min_position > 0) {
            (void)snprintf(min, sizeof(min), "%lld", req->min_position);
            m.hdrs[m.nhdrs++] = (struct wr_amqp_hdr){WR_HDR_MIN_POSITION, min};
        }
        /* Writes go to the service's write queue (one writer, in order). */
        bool write = wr_op_is_write(req->op);
        rc = wr_amqp_publish(rpc->amqp, write ? rpc->write_queue : rpc->queue, &m, true, err);
    } else {
        wr_err_set(err, rc, "rpc: request too large");
    }
    wr_buf_release(&body);
    return rc;
}

/* Reads replies until every slot is answered or the deadline passes. */
static int collect(wr_rpc *rpc, struct slot *slots, size_t n, struct wr_reply *replies,
                   long long deadline, struct wr_err *err)
{
    size_t open = n;
    while (open > 0) {
        long long left = deadline - wr_steady_ms();
        if (left <= 0)
            return wr_err_set(err, WR_ETIMEDOUT, "rpc: %zu of %zu replies missing", open, n);
        enum wr_amqp_event ev;
        struct wr_msg m;
        int rc = wr_amqp_poll(rpc->amqp, (long)left, &ev, &m, err);
        if (rc != 0)
            return rc;
        if ((ev != WR_AMQP_DELIVERY && ev != WR_AMQP_RETURNED) || m.correlation_id == NULL)
            continue;
        struct slot key = {0};
        (void)snprintf(key.id, sizeof(key.id), "%s", m.correlation_id);
        struct slot *s = bsearch(&key, slots, n, sizeof(*slots), slot_cmp);
        if (s == NULL || replies[s->index].status != 0)
            continue; /* a late reply to an earlier call: drop it */
        if (ev == WR_AMQP_RETURNED)
            make_reply(&replies[s->index], 503, WR_CODE_UNAVAILABLE, "no queue for the service");
        else
            copy_reply(&replies[s->index], &m);
        open--;
    }
    return 0;
}

/* Marks every unanswered reply with the status the failure calls for. */
static void fill_missing(struct wr_reply *replies, size_t n, int rc)
{
    for (size_t i = 0; i < n; i++) {
        if (replies[i].status != 0)
            continue;
        if (rc == WR_ETIMEDOUT)
            make_reply(&replies[i], 504, WR_CODE_TIMEOUT, "the service did not answer in time");
        else
            make_reply(&replies[i], 503, WR_CODE_UNAVAILABLE, "the broker is unavailable");
    }
}

int wr_rpc_call_many(wr_rpc *rpc, const struct wr_request *reqs, size_t n, struct wr_reply *replies,
                     struct wr_err *err)
{
    for (size_t i = 0; i < n; i++)
        replies[i] = (struct wr_reply){0};
    struct slot *slots = calloc(n ? n : 1, sizeof(*slots));
    if (slots == NULL)
        return wr_err_set(err, WR_ENOMEM, "rpc: out of memory");
    int rc = wr_amqp_is_open(rpc->amqp) ? 0 : open_conn(rpc, err);
    long long deadline = wr_steady_ms() + rpc->timeout_ms;
    for (size_t i = 0; i < n && rc == 0; i++) {
        slots[i].index = i;
        if (reqs[i].id[0] != '\0')
            (void)snprintf(slots[i].id, sizeof(slots[i].id), "%s", reqs[i].id);
        else
            wr_request_id_new(slots[i].id);
        rc = publish(rpc, &reqs[i], &slots[i], deadline, err);
    }
    if (rc == 0) {
        qsort(slots, n, sizeof(*slots), slot_cmp);
        rc = collect(rpc, slots, n, replies, deadline, err);
    }
    /* After a timeout the connection stays: late replies carry ids no
     * later call uses, and collect() drops them. */
    if (rc == WR_ECLOSED || rc == WR_EIO)
        wr_amqp_close(rpc->amqp);
    fill_missing(replies, n, rc);
    for (size_t i = 0; i < n; i++) /* a slot never published has no trace */
        if (slots[i].trace_id[0] != '\0')
            (void)snprintf(replies[slots[i].index].trace_id, sizeof(replies[0].trace_id), "%s",
                           slots[i].trace_id);
    free(slots);
    return rc;
}

int wr_rpc_call(wr_rpc *rpc, const struct wr_request *req, struct wr_reply *reply,
                struct wr_err *err)
{
    return wr_rpc_call_many(rpc, req, 1, reply, err);
}
