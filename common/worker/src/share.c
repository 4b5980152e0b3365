/* Ranks and yielding (see share.h). */
#include "share.h"

void wr__share_init(struct wr__share *s, long yield_ms, long long started_us)
{
    *s = (struct wr__share){.yield_ms = yield_ms};
    if (yield_ms > 0)
        s->rank = -started_us;
}

long long wr__share_priority(const struct wr__share *s)
{
    if (s->yield_ms <= 0)
        return 0;
    return s->yielded ? WR__SHARE_YIELDED : s->rank;
}

void wr__share_started(struct wr__share *s, long long cpu_us)
{
    s->base_us = cpu_us;
}

bool wr__share_check(struct wr__share *s, bool more, long long cpu_us, long long now_ms)
{
    if (s->yield_ms <= 0)
        return false;
    bool behind = cpu_us - s->base_us >= (long long)s->yield_ms * 1000;
    if (!more)
        s->base_us = cpu_us;
    if (behind && !s->yielded) {
        s->yielded = true;
        s->yielded_at = now_ms;
        s->base_us = cpu_us;
        return true;
    }
    if (more || !s->yielded || now_ms - s->yielded_at < WR__SHARE_RETRY_MS)
        return false;
    s->yielded = false;
    return true;
}
