/* Bisecting a stream's offsets (see sse_seek.h). The one rule that makes
 * it complete: `lo` only ever moves to an event whose position is below
 * pos, so every event at pos or after lies at or past it. `hi` only steers
 * where the next probe goes. */
#include "sse_seek.h"

static int probe_counted(sse_probe_fn probe, void *ctx, long long at, struct sse_probe *out,
                         int *probes)
{
    (*probes)++;
    return probe(ctx, at, out);
}

int sse_seek(long long pos, long long lo, long long hi, sse_probe_fn probe, void *ctx,
             long long *from, int *probes)
{
    struct sse_probe p;
    *probes = 0;
    *from = lo;
    if (hi >= 0 && hi - (lo > 0 ? lo : 0) <= SSE_SEEK_SCAN)
        return 0; /* close enough already (offsets start at 0): read */
    if (lo < 0) { /* the stream's first event: maybe already at pos */
        int rc = probe_counted(probe, ctx, SSE_SEEK_FIRST, &p, probes);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        *from = p.offset;
        if (p.pos >= pos)
            return 0;
        lo = p.offset;
    }
    if (hi < 0) { /* the last chunk: maybe everything before it is older */
        int rc = probe_counted(probe, ctx, SSE_SEEK_LAST, &p, probes);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        if (p.pos < pos) {
            *from = p.offset > lo ? p.offset : lo;
            return 0;
        }
        hi = p.offset;
    }
    while (hi - lo > SSE_SEEK_SCAN && *probes < SSE_SEEK_PROBES) {
        long long mid = lo + (hi - lo) / 2;
        int rc = probe_counted(probe, ctx, mid, &p, probes);
        if (rc < 0)
            return rc;
        if (rc == 0 && p.pos < pos && p.offset < hi)
            lo = *from = p.offset;
        else /* at or past pos from mid on (or nothing there before hi) */
            hi = mid;
    }
    return 0;
}
