/* One probe of the events stream (see sse_probe.h). */
#include "sse_probe.h"

#include <stdlib.h>

#include "sse_feed.h"
#include "warren/clock.h"

#define END_PREFETCH 256

/* Cancels the probe's consumer (when rc, the read's outcome, is 0) and
 * drops what was sent before the cancel: rc, or the cancel's error. */
static int stop(wr_amqp *a, int rc, struct wr_err *err)
{
    if (rc == 0)
        rc = wr_amqp_cancel(a, err);
    enum wr_amqp_event ev = WR_AMQP_DELIVERY;
    while (rc == 0 && ev != WR_AMQP_NONE) {
        struct wr_msg msg;
        rc = wr_amqp_poll(a, 0, &ev, &msg, err);
    }
    return rc;
}

int sse_probe_at(wr_amqp *a, const char *stream, long long at, metrics *m, struct sse_probe *out,
                 struct wr_err *err)
{
    long long spec = at == SSE_SEEK_LAST ? WR_AMQP_STREAM_LAST : at; /* FIRST: "first" */
    int rc = wr_amqp_consume_stream(a, stream, 1, spec, err);
    int found = 1;
    for (long long end = wr_steady_ms() + SSE_PROBE_WAIT_MS;
         rc == 0 && found == 1 && wr_steady_ms() < end;) {
        enum wr_amqp_event ev = WR_AMQP_NONE;
        struct wr_msg msg;
        rc = wr_amqp_poll(a, 100, &ev, &msg, err);
        if (rc != 0 || ev != WR_AMQP_DELIVERY)
            continue;
        metrics_sse_read(m, 1);
        struct sse_item it;
        bool event = sse__item_of(&msg, &it) == 0;
        if (event)
            free(it.text);
        if (event && it.offset >= at) {
            *out = (struct sse_probe){it.offset, it.mark.pos};
            found = 0;
        } else { /* before at (a chunk's start), or no event: the next one */
            rc = wr_amqp_ack(a, msg.delivery_tag, false, err);
        }
    }
    rc = stop(a, rc, err);
    return rc != 0 ? rc : found;
}

int sse_probe_end(wr_amqp *a, sse_feed *f, long long *end, struct wr_err *err)
{
    int rc = wr_amqp_consume_stream(a, sse__feed_stream(f), END_PREFETCH, WR_AMQP_STREAM_LAST, err);
    int found = 1;
    long long now = wr_steady_ms(), stop_at = now + SSE_PROBE_END_MS;
    long long quiet_at = now + SSE_PROBE_WAIT_MS; /* the first may take longer */
    while (rc == 0 && (now = wr_steady_ms()) < stop_at && now < quiet_at &&
           !sse__feed_stopping_now(f)) {
        enum wr_amqp_event ev = WR_AMQP_NONE;
        struct wr_msg msg;
        long wait = quiet_at - now < SSE_PROBE_GAP_MS ? (long)(quiet_at - now) : SSE_PROBE_GAP_MS;
        rc = wr_amqp_poll(a, wait, &ev, &msg, err);
        if (rc != 0 || ev != WR_AMQP_DELIVERY)
            continue;
        struct sse_item it;
        if (sse__item_of(&msg, &it) == 0) {
            free(it.text);
            *end = it.offset; /* one consumer's deliveries rise */
            found = 0;
        }
        quiet_at = wr_steady_ms() + SSE_PROBE_GAP_MS;
        rc = wr_amqp_ack(a, msg.delivery_tag, false, err);
    }
    rc = stop(a, rc, err);
    return rc != 0 ? rc : found;
}
