/* The edge's audit records (see trail.h): a ring of formatted documents,
 * emptied into warren.audit whenever the bus is ready (at once, or from a
 * timer when they travel together, and from a timer after an outage or
 * while the broker pushes back). */
#include "trail.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warren/buf.h"
#include "warren/clock.h"
#include "warren/log.h"
#include "warren/proto.h"
#include "warren/rpc.h"

#define RETRY_US 500000L
/* The retry while the broker is up but its socket full: it pushes back,
 * reading more within milliseconds, and at a flood's rate (70k records a
 * second on two cores) half a second would be three times a loop's cap. */
#define RETRY_FULL_US 5000L
/* How long records travel together after the broker last pushed back,
 * whether or not EDGE_BATCH asks for it: one message each is what it could
 * not keep up with. */
#define PUSHED_BACK_MS 10000LL
/* How long a record waits for others to travel with: a flood of refused
 * requests (36k a second on two cores) then fills messages of
 * WR_AUDIT_BATCH_DOCS_MAX, where a loop turn's ~20 left the broker pushing
 * back and records dropped past the cap. Nobody waits for a record. */
#define BATCH_WAIT_US 10000L

struct doc {
    char *data;
    size_t len;
};

struct trail {
    bus *bus;
    struct event *retry; /* after an outage or a full socket; together, also BATCH_WAIT_US */
    struct doc *ring;
    size_t cap, head;
    size_t batch_bytes;     /* a message's most */
    bool together;          /* records wait BATCH_WAIT_US for others */
    long long pushed_until; /* wr_steady_ms: together until then */
    struct wr_buf joined;   /* a batch's body */
    /* atomics: the loop that writes /metrics may be another (metrics.c) */
    atomic_size_t count;
    atomic_llong dropped, published, messages;
    char name[300]; /* "edge:host:pid" */
};

static struct doc *nth(trail *t, size_t i)
{
    return &t->ring[(t->head + i) % t->cap];
}

/* Frees the n records at the ring's head. */
static void pop(trail *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(nth(t, 0)->data);
        nth(t, 0)->data = NULL;
        t->head = (t->head + 1) % t->cap;
        t->count--;
    }
}

/* Whether records travel together now: with EDGE_BATCH, or for a while
 * after the broker pushed back (it takes 256 in one message as easily as
 * one; a flood it could not take a message at a time lost 59-73 % of its
 * records, and 3-8 % when they travelled together only until the ring was
 * empty again). */
static bool together(const trail *t)
{
    return t->together || wr_steady_ms() < t->pushed_until;
}

/* How many records from the ring's head the next message takes: as many
 * as fit batch_bytes, at least one; one at a time when they do not travel
 * together. */
static size_t next_run(trail *t)
{
    size_t n = 1, len = nth(t, 0)->len;
    size_t max = together(t) ? WR_AUDIT_BATCH_DOCS_MAX : 1;
    while (n < t->count && n < max && len + 1 + nth(t, n)->len <= t->batch_bytes)
        len += 1 + nth(t, n++)->len;
    return n;
}

/* Publishes the first n records in one message (one alone when they
 * cannot be joined); the records published, 0 when none (err says why). */
static size_t publish_run(trail *t, size_t n, struct wr_err *err)
{
    if (n > 1) {
        wr_buf_reset(&t->joined);
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                (void)wr_buf_putc(&t->joined, '\n');
            (void)wr_buf_append(&t->joined, nth(t, i)->data, nth(t, i)->len);
        }
        if (wr_buf_error(&t->joined) == 0)
            return bus_publish_audit(t->bus, WR_MSG_TYPE_AUDIT_BATCH, t->joined.data, t->joined.len,
                                     err) == 0
                       ? n
                       : 0;
    }
    const struct doc *d = nth(t, 0);
    return bus_publish_audit(t->bus, WR_MSG_TYPE_AUDIT, d->data, d->len, err) == 0;
}

static void flush(trail *t)
{
    struct wr_err err = {0};
    while (t->count > 0) {
        size_t n = publish_run(t, next_run(t), &err);
        if (n == 0)
            break; /* kept; the timer tries again */
        pop(t, n);
        t->published += (long long)n;
        t->messages++;
    }
    if (err.code == WR_EAGAIN)
        t->pushed_until = wr_steady_ms() + PUSHED_BACK_MS;
    if (t->count > 0 && !evtimer_pending(t->retry, NULL)) {
        struct timeval tv = {0, err.code == WR_EAGAIN ? RETRY_FULL_US : RETRY_US};
        evtimer_add(t->retry, &tv);
    }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    flush(arg);
}

trail *trail_new(struct event_base *base, bus *b, size_t cap, size_t batch_bytes, bool together)
{
    trail *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->bus = b;
    t->cap = cap > 0 ? cap : 1;
    t->batch_bytes = batch_bytes;
    t->together = together;
    wr_buf_init(&t->joined, batch_bytes + WR_AUDIT_DOC_MAX);
    t->ring = calloc(t->cap, sizeof(*t->ring));
    t->retry = evtimer_new(base, on_retry, t);
    if (t->ring == NULL || t->retry == NULL) {
        trail_free(t);
        return NULL;
    }
    char host[256] = "";
    (void)gethostname(host, sizeof(host) - 1);
    (void)snprintf(t->name, sizeof(t->name), "edge:%s:%ld", host, (long)getpid());
    return t;
}

void trail_free(trail *t)
{
    if (t == NULL)
        return;
    if (t->ring != NULL) {
        flush(t);
        if (t->count > 0)
            wr_warn(NULL, "audit: %zu edge records not published (broker unavailable)", t->count);
        for (size_t i = 0; i < t->cap; i++)
            free(t->ring[i].data);
    }
    if (t->retry != NULL)
        event_free(t->retry);
    wr_buf_release(&t->joined);
    free(t->ring);
    free(t);
}

void trail_add(trail *t, struct wr_audit_rec *r)
{
    char audit_id[WR_REQUEST_ID_LEN + 1];
    wr_request_id_new(audit_id); /* the record's own _id, never the client's id */
    r->audit_id = audit_id;
    struct wr_buf b;
    wr_buf_init(&b, WR_AUDIT_DOC_MAX);
    wr_audit_format(&b, r, t->name);
    r->audit_id = NULL; /* it pointed here */
    if (wr_buf_error(&b) != 0 || b.len == 0) {
        wr_buf_release(&b);
        t->dropped++;
        wr_warn(r->id, "audit: edge record dropped (too large or out of memory)");
        return;
    }
    if (t->count == t->cap) { /* full: the oldest goes */
        pop(t, 1);
        if (t->dropped++ % 1000 == 0)
            wr_warn(NULL, "audit: edge backlog full, %lld records dropped", t->dropped);
    }
    struct doc *d = nth(t, t->count);
    d->data = b.data; /* taken over from the buffer */
    d->len = b.len;
    t->count++;
    if (!together(t) || t->count >= WR_AUDIT_BATCH_DOCS_MAX) {
        flush(t);
    } else if (!evtimer_pending(t->retry, NULL)) { /* with the others of the wait */
        struct timeval tv = {0, BATCH_WAIT_US};
        evtimer_add(t->retry, &tv);
    }
}

size_t trail_held(const trail *t)
{
    return t->count;
}

long long trail_dropped(const trail *t)
{
    return t->dropped;
}

long long trail_published(const trail *t)
{
    return t->published;
}

long long trail_messages(const trail *t)
{
    return t->messages;
}
