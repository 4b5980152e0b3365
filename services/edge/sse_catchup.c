/* A client's catch-up (see sse_catchup.h). Its state is guarded by the
 * feed's lock, so that the hand-over to the ring (sse__feed_join) and the
 * ring's own growth are seen in one order. The thread frees the catch-up
 * when both it has ended and the client let it go. */
#include "sse_catchup.h"

#include <stdlib.h>
#include <unistd.h>

#include "metrics.h"
#include "sse_probe.h"
#include "sse_seek.h"
#include "warren/amqp.h"
#include "warren/err.h"
#include "warren/log.h"

#define PREFETCH 64

struct sse_catchup {
    sse_feed *feed;
    metrics *metrics;
    struct sse_mark after; /* the client has every event up to it */
    int wake;
    struct sse_item *items; /* read, not yet taken: [head, n) */
    size_t head, n, cap;
    size_t bytes;
    long long read_to; /* the offset of the last event read (from - 1 before one) */
    bool joined;       /* over: the client reads the ring from seq */
    uint64_t seq;      /* with joined */
    bool failed;       /* over: the broker went away */
    bool released;     /* the client let go */
    bool ended;        /* the thread ended */
};

/* Under the lock: frees what c holds, and c. */
static void catchup_free_locked(sse_catchup *c)
{
    for (size_t i = c->head; i < c->n; i++)
        free(c->items[i].text);
    free(c->items);
    free(c);
}

static void wake(sse_catchup *c)
{
    ssize_t w = write(c->wake, "c", 1);
    (void)w;
}

/* Under the lock: it (owned from now on) queued for the client. */
static int queue(sse_catchup *c, struct sse_item *it)
{
    if (c->head > 0 && c->head == c->n)
        c->head = c->n = 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct sse_item *more = realloc(c->items, cap * sizeof(*more));
        if (more == NULL) {
            free(it->text);
            return WR_ENOMEM;
        }
        c->items = more;
        c->cap = cap;
    }
    c->items[c->n++] = *it;
    c->bytes += it->len;
    return 0;
}

/* One delivery: the end of the catch-up when the ring covers its offset,
 * else an event for the client. 1 when over, 0 to go on, or WR_E*. */
static int take(sse_catchup *c, const struct wr_msg *m)
{
    struct sse_item it;
    if (sse__item_of(m, &it) != 0) {
        wr_warn(NULL, "sse: skipping a change event without the contract's headers or body");
        return 0;
    }
    sse_feed *f = c->feed;
    sse__feed_lock(f);
    int rc = 0;
    c->read_to = it.offset;
    if (sse__feed_join(f, it.offset, &c->seq)) {
        c->joined = true;
        free(it.text);
        rc = 1;
    } else if (sse_mark_after(&it.mark, &c->after)) {
        rc = queue(c, &it);
    } else {
        free(it.text);
    }
    sse__feed_unlock(f);
    return rc;
}

/* Nothing more to read for now: over (1) when the ring holds the events
 * after the last one read (the feed read it first, or an event came since),
 * else 0. A catch-up that met the end of the stream would otherwise hold
 * its place and connection until the next event. */
static int caught_up(sse_catchup *c)
{
    sse__feed_lock(c->feed);
    c->joined = sse__feed_join(c->feed, c->read_to + 1, &c->seq);
    sse__feed_unlock(c->feed);
    return c->joined;
}

static bool go_on(sse_catchup *c)
{
    sse__feed_lock(c->feed);
    bool on = !c->released && !sse__feed_stopping(c->feed);
    sse__feed_unlock(c->feed);
    return on;
}

/* A connection of the catch-up's, connected. NULL (err says why) if not. */
static wr_amqp *connect_for(sse_catchup *c, const char *name, struct wr_err *err)
{
    struct wr_amqp_opts o = wr_amqp_opts_from_cfg(sse__feed_cfg(c->feed), name);
    wr_amqp *a = wr_amqp_new(&o);
    if (a == NULL) {
        (void)wr_err_set(err, WR_ENOMEM, "out of memory");
        return NULL;
    }
    if (wr_amqp_connect(a, err) != 0) {
        wr_amqp_free(a);
        return NULL;
    }
    return a;
}

struct prober {
    sse_catchup *c;
    wr_amqp *a; /* made by the first probe */
    struct wr_err *err;
};

/* An sse_probe_fn: sse_probe_at on the prober's connection, made by the
 * first probe; none once the client left or the edge stops. */
static int probe(void *ctx, long long at, struct sse_probe *out)
{
    struct prober *p = ctx;
    if (!go_on(p->c)) /* the client left, or the edge stops */
        return wr_err_set(p->err, WR_ECLOSED, "stopped");
    if (p->a == NULL && (p->a = connect_for(p->c, "warren-edge-events-seek", p->err)) == NULL)
        return WR_EIO;
    return sse_probe_at(p->a, sse__feed_stream(p->c->feed), at, p->c->metrics, out, p->err);
}

/* The offset c reads from (< 0: the stream's first): the feed's index and
 * ring bound it, and when the bounds are far apart (or unknown: a position
 * from before the edge started), probes on a connection of their own
 * narrow it. */
static long long start_offset(sse_catchup *c)
{
    long long lo, hi;
    sse__feed_lock(c->feed);
    sse__feed_bounds_for(c->feed, &c->after, &lo, &hi);
    sse__feed_unlock(c->feed);
    struct wr_err err = {0};
    struct prober p = {c, NULL, &err};
    long long from;
    int probes;
    int rc = sse_seek(c->after.pos, lo, hi, probe, &p, &from, &probes);
    if (rc != 0 && go_on(c)) /* reading from `from` is still complete, only longer */
        wr_warn(NULL, "sse: seeking %s for position %lld failed: %s", sse__feed_stream(c->feed),
                c->after.pos, err.msg);
    if (probes > 0)
        wr_debug(NULL, "sse: position %lld: reading %s from offset %lld after %d probes",
                 c->after.pos, sse__feed_stream(c->feed), from, probes);
    wr_amqp_free(p.a);
    return from;
}

static void *catchup_main(void *arg)
{
    sse_catchup *c = arg;
    sse_feed *f = c->feed;
    long long from = start_offset(c);
    sse__feed_lock(f);
    c->read_to = (from > 0 ? from : 0) - 1; /* nothing before from is the client's */
    sse__feed_unlock(f);
    struct wr_err err = {0};
    wr_amqp *a = NULL;
    int rc = 0;
    if (go_on(c)) {
        a = connect_for(c, "warren-edge-events-catchup", &err);
        rc = a != NULL ? wr_amqp_consume_stream(a, sse__feed_stream(f), PREFETCH, from, &err)
                       : WR_EIO;
    }
    uint64_t unacked = 0; /* the newest delivery not yet acknowledged */
    while (rc == 0 && go_on(c)) {
        sse__feed_lock(f);
        bool room = c->bytes < CATCHUP_BYTES;
        sse__feed_unlock(f);
        if (room && unacked != 0) { /* the broker sends more as the client takes */
            rc = wr_amqp_ack(a, unacked, true, &err);
            unacked = 0;
        }
        enum wr_amqp_event ev = WR_AMQP_NONE;
        struct wr_msg m;
        if (rc == 0)
            rc = wr_amqp_poll(a, 200, &ev, &m, &err);
        if (rc == 0 && ev == WR_AMQP_NONE)
            rc = caught_up(c);
        if (rc != 0 || ev != WR_AMQP_DELIVERY)
            continue;
        unacked = m.delivery_tag;
        metrics_sse_read(c->metrics, 1);
        rc = take(c, &m);
        wake(c);
    }
    if (rc < 0)
        wr_warn(NULL, "sse: a catch-up read of %s failed: %s", sse__feed_stream(f), err.msg);
    wr_amqp_free(a);
    sse__feed_lock(f);
    c->failed = rc < 0 || (rc == 0 && !c->joined);
    c->ended = true;
    bool release = c->released;
    if (release)
        catchup_free_locked(c);
    else
        wake(c);
    sse__feed_catchups(f, -1);
    sse__feed_unlock(f);
    return NULL;
}

sse_catchup *sse_catchup_new(sse_feed *f, const struct sse_mark *after, int wake_fd, metrics *m)
{
    sse_catchup *c = calloc(1, sizeof(*c));
    if (c != NULL)
        *c =
            (sse_catchup){.feed = f, .metrics = m, .after = *after, .wake = wake_fd, .read_to = -1};
    if (sse__feed_spawn(f, catchup_main, c) != 0) {
        free(c);
        return NULL;
    }
    metrics_sse_catchup(m);
    return c;
}

int sse_catchup_read(sse_catchup *c, struct sse_mark *last, const struct sse_filter *flt,
                     struct evbuffer *out, size_t cap, uint64_t *seq, long *sent)
{
    int rc = 0;
    sse__feed_lock(c->feed);
    while (c->head < c->n && evbuffer_get_length(out) < cap && rc == 0) {
        struct sse_item *it = &c->items[c->head++];
        c->bytes -= it->len;
        if (sse_mark_after(&it->mark, last)) {
            *last = it->mark;
            if (sse_filter_has(flt, it->collection)) {
                rc = evbuffer_add(out, it->text, it->len) == 0 ? 0 : WR_ENOMEM;
                (*sent)++;
            }
        }
        free(it->text);
        it->text = NULL;
    }
    if (rc == 0 && c->head == c->n && c->joined) {
        *seq = c->seq;
        rc = 1;
    } else if (rc == 0 && c->head == c->n && c->ended && c->failed) {
        rc = WR_EIO;
    }
    sse__feed_unlock(c->feed);
    return rc;
}

void sse_catchup_free(sse_catchup *c)
{
    if (c == NULL)
        return;
    sse_feed *f = c->feed;
    sse__feed_lock(f);
    c->released = true;
    if (c->ended)
        catchup_free_locked(c);
    sse__feed_unlock(f);
}
