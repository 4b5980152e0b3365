/* The edge's audit records (see trail.h): a ring of formatted documents,
 * emptied into warren.audit whenever the bus is ready (at once, and from a
 * timer after an outage). */
#include "trail.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warren/buf.h"
#include "warren/log.h"
#include "warren/rpc.h"

#define RETRY_US 500000L

struct doc {
    char *data;
    size_t len;
};

struct trail {
    bus *bus;
    struct event *retry;
    struct doc *ring;
    size_t cap, head;
    /* atomics: the loop that writes /metrics may be another (metrics.c) */
    atomic_size_t count;
    atomic_llong dropped;
    char name[300]; /* "edge:host:pid" */
};

static void flush(trail *t)
{
    while (t->count > 0) {
        struct doc *d = &t->ring[t->head];
        struct wr_err err = {0};
        if (bus_publish_audit(t->bus, d->data, d->len, &err) != 0)
            break; /* kept; the timer tries again */
        free(d->data);
        d->data = NULL;
        t->head = (t->head + 1) % t->cap;
        t->count--;
    }
    if (t->count > 0 && !evtimer_pending(t->retry, NULL)) {
        struct timeval tv = {0, RETRY_US};
        evtimer_add(t->retry, &tv);
    }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    flush(arg);
}

trail *trail_new(struct event_base *base, bus *b, size_t cap)
{
    trail *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->bus = b;
    t->cap = cap > 0 ? cap : 1;
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
        free(t->ring[t->head].data);
        t->ring[t->head].data = NULL;
        t->head = (t->head + 1) % t->cap;
        t->count--;
        if (t->dropped++ % 1000 == 0)
            wr_warn(NULL, "audit: edge backlog full, %lld records dropped", t->dropped);
    }
    struct doc *d = &t->ring[(t->head + t->count) % t->cap];
    d->data = b.data; /* taken over from the buffer */
    d->len = b.len;
    t->count++;
    flush(t);
}

size_t trail_held(const trail *t)
{
    return t->count;
}

long long trail_dropped(const trail *t)
{
    return t->dropped;
}
