/* The feed's warm-up (sse_feed.h): at an edge's start, a thread with a
 * broker connection of its own finds the events stream's last event (a
 * probe), reads the `events` events up to it and on, and hands them to the
 * feed to put in front of its ring: once it reaches the offset where the
 * feed's own reading began (the ring's first event), or, the ring still
 * empty, once the stream has been quiet for a poll after that last event.
 * Either way the ring stays one run of the stream, with no gap: the feed
 * subscribed from "next" before the probe, so the probe's last event is at
 * or after the one before the feed's first. */
#ifndef EDGE_SSE_WARM_H
#define EDGE_SSE_WARM_H

#include "sse_feed.h"

/* Starts the warm-up of f's ring with `events` events (> 0); it ends by
 * itself (sse__feed_warmed), and sse_feed_stop waits for it. 0, or WR_ENOMEM
 * when it cannot start (the caller ends the warming). */
int sse_warm_start(sse_feed *f, long events);

#endif
