/* Where a catch-up starts reading the events stream (sse_catchup.h) when
 * the feed's index cannot say closely: by bisecting the stream's offsets,
 * a probe at each step reading the first event at or after one offset.
 * Positions rise along the stream (proto/README.md, "Change events"), so
 * about log2(events / SSE_SEEK_SCAN) probes bound a resume's reading by the
 * events the client lacks plus SSE_SEEK_SCAN, where reading from the
 * stream's first event costs the whole stream (gigabytes, with the default
 * retention). Pure: the probe is the caller's (a broker read in the edge, an
 * array in the unit test). */
#ifndef EDGE_SSE_SEEK_H
#define EDGE_SSE_SEEK_H

/* Bisecting stops once the span left is this many offsets: reading them is
 * cheaper than more probes (each is a consume, a delivery and a cancel). */
#define SSE_SEEK_SCAN 512
#define SSE_SEEK_PROBES 64 /* a bound, never reached on a stream of < 2^63 offsets */

/* Probe targets besides offsets >= 0. */
#define SSE_SEEK_FIRST (-1LL) /* the first event the stream keeps */
#define SSE_SEEK_LAST (-3LL)  /* the first event of the stream's last chunk */

/* What a probe found: the offset and position of the first event at or
 * after the offset asked (or of the stream's first event, or of the last
 * chunk's first). */
struct sse_probe {
    long long offset, pos;
};
/* 0 with *out filled, 1 when there is no event there (an empty stream), or
 * WR_E* (the broker went away). */
typedef int (*sse_probe_fn)(void *ctx, long long at, struct sse_probe *out);

/* The offset to read from so that every event at position >= pos is read:
 * lo an offset known to be at or before the first such event (the feed's
 * index; < 0: unknown, the stream's start), hi one known to be at or after
 * it (< 0: unknown, the stream's last chunk); no probe when they are within
 * SSE_SEEK_SCAN (lo < 0 counting as offset 0). *from is set even on an error
 * (the best bound found: reading from it is still complete, only longer).
 * *probes counts the probes made. 0, or the first probe's error. */
int sse_seek(long long pos, long long lo, long long hi, sse_probe_fn probe, void *ctx,
             long long *from, int *probes);

#endif
