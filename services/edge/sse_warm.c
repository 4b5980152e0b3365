/* The feed's warm-up (see sse_warm.h). */
#include "sse_warm.h"

#include <stdlib.h>

#include "sse_probe.h"
#include "warren/amqp.h"
#include "warren/err.h"
#include "warren/log.h"

#define PREFETCH 256
#define QUIET_MS 200 /* a poll this long with no delivery: the stream is quiet */

struct warm {
    sse_feed *feed;
    long events;
    struct sse_item *items; /* read, in stream order: n from head on, circular */
    size_t head, n;
    long long end;   /* the stream's last event when the warm-up began */
    bool reached;    /* read up to it */
    const char *how; /* how it ended, for the log */
};

/* The i-th event kept, oldest first. */
static struct sse_item *kept(struct warm *w, size_t i)
{
    return &w->items[(w->head + i) % SSE_RING_EVENTS];
}

/* Keeps it (owned from now on), the oldest going when the ring could not
 * hold them all anyway. */
static void keep(struct warm *w, struct sse_item *it)
{
    if (w->n == SSE_RING_EVENTS) {
        free(kept(w, 0)->text);
        w->head = (w->head + 1) % SSE_RING_EVENTS;
        w->n--;
    }
    *kept(w, w->n++) = *it;
    w->reached = w->reached || it->offset >= w->end;
}

/* Under the feed's lock: what was read goes in front of the ring, the
 * part that wrapped round first (it is the newer). */
static void hand_over(struct warm *w)
{
    size_t older = SSE_RING_EVENTS - w->head < w->n ? SSE_RING_EVENTS - w->head : w->n;
    sse__feed_prepend(w->feed, w->items, w->n - older);
    sse__feed_prepend(w->feed, w->items + w->head, older);
    w->head = w->n = 0;
}

/* One poll's outcome: 1 when handed over, 0 to go on, or WR_E*. */
static int step(struct warm *w, wr_amqp *a, struct wr_err *err)
{
    enum wr_amqp_event ev = WR_AMQP_NONE;
    struct wr_msg m;
    int rc = wr_amqp_poll(a, QUIET_MS, &ev, &m, err);
    if (rc != 0 || (ev != WR_AMQP_NONE && ev != WR_AMQP_DELIVERY))
        return rc;
    struct sse_item it;
    bool event = ev == WR_AMQP_DELIVERY && sse__item_of(&m, &it) == 0;
    uint64_t seq;
    sse__feed_lock(w->feed);
    bool over = sse__feed_stopping(w->feed);
    if (!over && event && sse__feed_join(w->feed, it.offset, &seq)) { /* where the feed began */
        free(it.text);
        hand_over(w);
        w->how = "warmed: met the feed's first event";
        over = true;
    } else if (!over && event) {
        keep(w, &it);
    } else if (!over && ev == WR_AMQP_NONE && w->reached) { /* quiet, the feed read nothing */
        hand_over(w);
        w->how = "warmed: the stream quiet";
        over = true;
    } else if (event) {
        free(it.text);
    }
    sse__feed_unlock(w->feed);
    if (!over && ev == WR_AMQP_DELIVERY)
        rc = wr_amqp_ack(a, m.delivery_tag, false, err);
    return rc != 0 ? rc : over;
}

/* Probes for the stream's last event, then reads until handed over. 0, or
 * WR_E* (err says why). */
static int warm_up(struct warm *w, wr_amqp *a, struct wr_err *err)
{
    const char *stream = sse__feed_stream(w->feed);
    int rc = wr_amqp_connect(a, err);
    if (rc == 0)
        rc = sse_probe_end(a, w->feed, &w->end, err);
    if (rc >= 0 && sse__feed_stopping_now(w->feed)) { /* SIGTERM while it probed */
        w->how = "stopping";
        return 0;
    }
    if (rc >= 0) { /* probed after the feed subscribed: it reads whatever follows */
        sse__feed_lock(w->feed);
        sse__feed_live_from(w->feed, rc == 1 ? 0 : w->end + 1);
        sse__feed_unlock(w->feed);
    }
    if (rc == 1) { /* an empty stream: nothing to warm with */
        w->how = "the stream is empty";
        return 0;
    }
    long long from = w->end >= w->events ? w->end - w->events + 1 : 0;
    if (rc == 0)
        rc = wr_amqp_consume_stream(a, stream, PREFETCH, from, err);
    while (rc == 0)
        rc = step(w, a, err);
    return rc < 0 ? rc : 0;
}

static void *warm_main(void *arg)
{
    struct warm *w = arg;
    sse_feed *f = w->feed;
    struct wr_amqp_opts o = wr_amqp_opts_from_cfg(sse__feed_cfg(f), "warren-edge-events-warm");
    wr_amqp *a = wr_amqp_new(&o);
    struct wr_err err = {0};
    int rc = a != NULL ? warm_up(w, a, &err) : wr_err_set(&err, WR_ENOMEM, "out of memory");
    if (rc != 0)
        wr_warn(NULL, "sse: warming the ring from %s failed: %s (resumes read the stream)",
                sse__feed_stream(f), err.msg);
    wr_amqp_free(a);
    for (size_t i = 0; i < w->n; i++)
        free(kept(w, i)->text);
    free(w->items);
    sse__feed_warmed(f, w->how);
    free(w);
    sse__feed_lock(f);
    sse__feed_catchups(f, -1); /* last: the feed may go once none is left */
    sse__feed_unlock(f);
    return NULL;
}

int sse_warm_start(sse_feed *f, long events)
{
    struct warm *w = calloc(1, sizeof(*w));
    struct sse_item *items = calloc(SSE_RING_EVENTS, sizeof(*items));
    if (w == NULL || items == NULL) {
        free(w);
        free(items);
        return WR_ENOMEM;
    }
    *w = (struct warm){.feed = f, .events = events, .items = items, .how = "not warmed"};
    sse__feed_catchups(f, +1);
    if (sse__feed_spawn(f, warm_main, w) != 0) {
        free(items);
        free(w);
        return WR_ENOMEM;
    }
    return 0;
}
