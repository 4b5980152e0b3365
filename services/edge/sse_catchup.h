/* A client's catch-up: when its Last-Event-ID is older than the feed's
 * ring, a thread of its own with its own broker connection reads the
 * events stream from an offset at or before that position (found from
 * the feed's index, and by bisecting the stream where the index cannot
 * say: sse_seek.h), holds what it read (at most
 * CATCHUP_BYTES, then it stops acknowledging and the broker stops sending)
 * until the client's loop takes it, and stops once it reaches what the
 * ring's reader covers: from there the client reads the ring. */
#ifndef EDGE_SSE_CATCHUP_H
#define EDGE_SSE_CATCHUP_H

#include <event2/buffer.h>
#include <stdint.h>

#include "metrics.h"
#include "sse_feed.h"
#include "sse_wire.h"

#define CATCHUP_BYTES (1u << 20)

typedef struct sse_catchup sse_catchup;

/* Starts reading for a client that has every event up to `after`, in the
 * place sse_feed_place kept for it (given back when it ends, or at once
 * when it cannot start); a byte goes to wake_fd (never blocking) whenever
 * there is something to read; what it reads is counted in m (may be NULL).
 * NULL when out of memory or no thread can start. */
sse_catchup *sse_catchup_new(sse_feed *f, const struct sse_mark *after, int wake_fd, metrics *m);
/* Appends to out the events read that come after *last and that flt lets
 * through, while out holds less than cap bytes (*last and *sent as
 * sse_feed_read). Returns 0 while more is to come; 1 when the catch-up is
 * over and the client reads the ring from *seq on (free the catch-up);
 * WR_EIO when it failed (the broker went away: close the client, which
 * reconnects). */
int sse_catchup_read(sse_catchup *c, struct sse_mark *last, const struct sse_filter *flt,
                     struct evbuffer *out, size_t cap, uint64_t *seq, long *sent);
/* Lets the catch-up go: its thread ends by itself (within 200 ms) and
 * frees it. NULL-safe. */
void sse_catchup_free(sse_catchup *c);

#endif
