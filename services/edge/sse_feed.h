/* The edge's one reader of the change events (proto/README.md, "Change
 * events"): a thread with its own broker connection consuming the stream
 * warren.<SERVICE>.events from "next", keeping the recent events in a
 * bounded ring (SSE_RING_EVENTS events, SSE_RING_BYTES bytes) and an index
 * of stream offsets by position, and waking every event loop (a byte on
 * each loop's pipe) when the ring grows. Once subscribed, it warms the
 * ring: a reader of its own (sse_warm.h) reads the SSE_WARM_EVENTS events
 * before "next" and puts them in front of what the feed read since,
 * so that browsers reconnecting after a restart or deploy find their
 * position in memory. While it warms, a client resuming from an id the ring
 * does not cover yet waits (it would read the stream itself for what the
 * ring is about to hold); a client without an id does not (the warm-up's
 * events are older than it). The loops read the ring under its
 * lock; a client resuming from a Last-Event-ID older than the ring reads
 * the stream itself first (sse_catchup.h), then joins the ring. */
#ifndef EDGE_SSE_FEED_H
#define EDGE_SSE_FEED_H

#include <event2/buffer.h>
#include <stdint.h>

#include "sse_wire.h"
#include "warren/cfg.h"

#define SSE_RING_EVENTS 8192
#define SSE_RING_BYTES (32u << 20)
/* Resumes wait at most this long for the warm-up, then catch up alone. */
#define SSE_WARM_WAIT_MS 5000

typedef struct sse_feed sse_feed;

/* A feed for cfg's SERVICE (cfg outlives it), not yet running. NULL when
 * out of memory. */
sse_feed *sse_feed_new(const struct wr_cfg *cfg);
/* Stops (sse_feed_stop) and frees. NULL-safe. */
void sse_feed_free(sse_feed *f);
/* Adds a loop's wake-up: one byte is written (never blocking) to fd
 * whenever events arrive. Before sse_feed_start. 0, or WR_ETOOBIG. */
int sse_feed_watch(sse_feed *f, int fd);
/* Starts the reader thread. 0 or WR_EIO. */
int sse_feed_start(sse_feed *f);
/* Ends the reader thread and every catch-up, waiting for them. Safe to
 * repeat; safe when never started. */
void sse_feed_stop(sse_feed *f);

/* Where a new client starts in the ring: with after NULL, at its end
 * (events from now on; *last the newest mark known); else at its start when
 * the ring holds every event after `after` (*last = *after). 0, or
 * WR_ENOTFOUND when it does not: the client catches up first, in a place
 * among the SSE_CATCHUP_MAX kept for it (sse_catchup_new takes it over);
 * WR_EAGAIN instead while the feed warms or every place is taken: ask again
 * when woken (the end of a catch-up wakes every loop). */
int sse_feed_place(sse_feed *f, const struct sse_mark *after, uint64_t *seq, struct sse_mark *last);
/* Appends to out the events of the ring from *seq on that come after *last
 * and that flt lets through, while out holds less than cap bytes; *seq and
 * *last move past every event looked at, *sent counts those appended.
 * 0, or WR_ETOOBIG when *seq is older than the ring (the client fell too
 * far behind and must reconnect). */
int sse_feed_read(sse_feed *f, uint64_t *seq, struct sse_mark *last, const struct sse_filter *flt,
                  struct evbuffer *out, size_t cap, long *sent);

/* For sse_catchup.c: the feed's config, its stream's name, and the lock
 * that guards the ring and every catch-up's state. */
const struct wr_cfg *sse__feed_cfg(const sse_feed *f);
const char *sse__feed_stream(const sse_feed *f);
void sse__feed_lock(sse_feed *f);
void sse__feed_unlock(sse_feed *f);
/* Under the lock: whether the feed is stopping. */
bool sse__feed_stopping(sse_feed *f);
/* The same, taking the lock (for a thread between its steps). */
bool sse__feed_stopping_now(sse_feed *f);
/* Under the lock: what the index and the ring know of where the events
 * after `after` (older than the ring) begin in the stream: at or past *lo,
 * at or before *hi (either < 0 when they do not say: the stream's first,
 * its end). */
void sse__feed_bounds_for(sse_feed *f, const struct sse_mark *after, long long *lo, long long *hi);
/* Under the lock: where a catch-up that read the stream up to offset (not
 * yet handed to its client) joins the ring: true with *seq the ring's
 * first event at or past offset (or its end), when the ring's reader
 * already covers offset; false while the ring begins after it, or is empty
 * and offset is before where the feed is known to read from
 * (sse__feed_live_from; unknown: always). */
bool sse__feed_join(sse_feed *f, long long offset, uint64_t *seq);
/* Counting the catch-up threads alive, the warm-up's too (sse_feed_stop
 * waits for them; a place of SSE_CATCHUP_MAX each): +1 when one starts
 * (not for a client's: sse_feed_place counted it), -1 (under the lock) when
 * it ends, which wakes every loop. */
void sse__feed_catchups(sse_feed *f, int delta);
/* Starts fn(arg) on a detached thread holding a place counted already
 * (sse_feed_place's for a client's catch-up, sse__feed_catchups(+1) for the
 * warm-up). 0, or WR_ENOMEM with the place given back: no thread could
 * start, or arg is NULL (its allocation failed). */
int sse__feed_spawn(sse_feed *f, void *(*fn)(void *), void *arg);

/* One event parsed from a stream delivery: 0, or WR_EINVAL (logged by the
 * caller) when it lacks the contract's headers or body. text is malloc'd
 * (the formatted SSE event), owned by the caller. */
struct sse_item {
    struct sse_mark mark;
    long long offset;
    char collection[SSE_NAME_MAX + 1];
    char *text;
    size_t len;
};
struct wr_msg;
int sse__item_of(const struct wr_msg *m, struct sse_item *it);

/* Under the lock: the warm-up's n events (read from before the ring, in
 * stream order; their texts taken: NULL in its afterwards) go in front of
 * it: those before its first event, the newest while it has room. */
void sse__feed_prepend(sse_feed *f, struct sse_item *its, size_t n);
/* Under the lock: every event from offset on reaches the ring (or reached
 * it and left): the warm-up probed the stream's end after the feed's
 * first subscription and found the event before offset last (0: an empty
 * stream). An empty ring then lets catch-ups join it from offset on (they
 * no longer wait for the next event), and a feed that reconnects before
 * its first delivery reads on from offset, not from a later "next". */
void sse__feed_live_from(sse_feed *f, long long offset);
/* The warm-up ended, warmed or not (how, for the log): resumes stop waiting
 * for it (every loop is woken to place them). Not under the lock. */
void sse__feed_warmed(sse_feed *f, const char *how);

#endif
