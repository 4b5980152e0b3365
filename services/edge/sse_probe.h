/* Probes of the events stream, each on a connection the caller owns: the
 * first event at or after an offset (or of the stream's first message, or
 * of its last chunk), by a consume of one message and a cancel, with which
 * the catch-ups bisect the stream (sse_seek.h); and the stream's last
 * event, with which the feed finds where to warm its ring from and where
 * the warming ends (sse_feed.h). */
#ifndef EDGE_SSE_PROBE_H
#define EDGE_SSE_PROBE_H

#include "metrics.h"
#include "sse_feed.h"
#include "sse_seek.h"
#include "warren/amqp.h"

/* No delivery within this long: nothing there (an empty stream). */
#define SSE_PROBE_WAIT_MS 1000
/* The end's probe: a chunk's messages come together; after this long with
 * none, the last one read was the stream's last. It reads for at most
 * SSE_PROBE_END_MS (a stream written to all the time has no such pause). */
#define SSE_PROBE_GAP_MS 100
#define SSE_PROBE_END_MS 2000

/* Reads stream from `at` (an offset >= 0, SSE_SEEK_FIRST or SSE_SEEK_LAST)
 * on a, connected, until the first event at or past it, and leaves nothing
 * of that consumer to read. Deliveries read are counted in m (may be NULL).
 * 0 with *out filled, 1 when no event came (an empty stream), or WR_E*
 * (err says why). */
int sse_probe_at(wr_amqp *a, const char *stream, long long at, metrics *m, struct sse_probe *out,
                 struct wr_err *err);
/* The offset of the feed's stream's last event (the last one read from its
 * last chunk on, as above) into *end: 0, 1 when there is none (an empty
 * stream), or WR_E*. It stops reading within 100 ms of the feed stopping
 * (then *end is the last event read, if any). */
int sse_probe_end(wr_amqp *a, sse_feed *f, long long *end, struct wr_err *err);

#endif
