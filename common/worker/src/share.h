/* How a worker shares its service's queues with the service's other
 * workers (README "Adding workers"). Each consumes with a consumer priority
 * (x-priority), the oldest worker highest, so the broker gives a request to
 * the longest-running worker with room and wakes no other: where workers
 * outnumber cores, one answers what eight would each wake for, on warm
 * caches, and a worker started later waits as a spare. A worker that spent
 * YIELD_AFTER_MS of CPU without catching up (since input last ran out)
 * yields its place: it consumes at the lowest priority, in turn with the
 * others that did, which take requests only while every ranked worker is
 * full. Under a load one worker cannot carry, all end up there and share
 * it as without priorities; WR__SHARE_RETRY_MS later, caught up, a worker
 * takes its rank back. CPU, not wall time: a worker the machine's other
 * processes kept off its core is not behind in a way another would mend.
 * Pure: the loop reads the clocks and makes the moves (worker.c). */
#ifndef WARREN_WORKER_SHARE_H
#define WARREN_WORKER_SHARE_H

#include <stdbool.h>

/* How long a worker that yielded waits before it tries its rank again. */
#define WR__SHARE_RETRY_MS 30000
/* The priority of the workers that yielded: below every rank. */
#define WR__SHARE_YIELDED (-(1LL << 62))

struct wr__share {
    long yield_ms;        /* YIELD_AFTER_MS; 0: no priorities, every worker in turn */
    long long rank;       /* x-priority while it keeps its place: -(its start, ms) */
    bool yielded;         /* consuming at WR__SHARE_YIELDED */
    long long base_us;    /* the thread's CPU when it last caught up */
    long long yielded_at; /* ms, the steady clock */
};

/* yield_ms 0 turns it off; started_us: when the worker started, on the
 * real-time clock (two started in the same µs take turns). */
void wr__share_init(struct wr__share *s, long yield_ms, long long started_us);
/* Whether workers rank at all (YIELD_AFTER_MS > 0): when not, the loop
 * need not read the clocks or look for waiting input for wr__share_check. */
static inline bool wr__share_on(const struct wr__share *s)
{
    return s->yield_ms > 0;
}
/* The x-priority to consume the shared queues with now (0: none). */
long long wr__share_priority(const struct wr__share *s);
/* The consumers (re)started when the thread had used cpu_us: the work
 * before is not work behind. */
void wr__share_started(struct wr__share *s, long long cpu_us);
/* A burst of deliveries ended, or a wait for one ran out (more false);
 * more: input already waits. cpu_us: the thread's CPU now; now_ms: the
 * steady clock. True when the priority changed: the loop consumes the
 * shared queues again with wr__share_priority. */
bool wr__share_check(struct wr__share *s, bool more, long long cpu_us, long long now_ms);

#endif
