/* Pooled random bytes (see random.h). */
#include "random.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Moves at every fork, in the child: a pool filled before it is stale. */
static atomic_uint forks;
static pthread_once_t watch_forks = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    atomic_fetch_add_explicit(&forks, 1, memory_order_relaxed);
}

static void watch(void)
{
    (void)pthread_atfork(NULL, NULL, on_fork_child);
}

struct pool {
    unsigned char bytes[WR__RANDOM_POOL];
    size_t left;       /* unused bytes, at the end of bytes */
    unsigned at_forks; /* forks when it was filled */
};
static _Thread_local struct pool pool;

/* When getrandom fails: distinct bytes from the clock, the pid and a
 * counter. */
static void fallback(unsigned char *out, size_t n)
{
    static atomic_ullong calls;
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long mix = (unsigned long long)ts.tv_nsec * 1000003u ^
                             (unsigned long long)ts.tv_sec ^ (unsigned long long)getpid() << 32 ^
                             atomic_fetch_add(&calls, 1) * 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)(mix >> (8 * (i % 8)) ^ (i / 8) * 0x3b);
}

void wr__random(void *out, size_t n)
{
    (void)pthread_once(&watch_forks, watch);
    unsigned now = atomic_load_explicit(&forks, memory_order_relaxed);
    if (pool.at_forks != now)
        pool.left = 0;
    if (pool.left < n) {
        if (getrandom(pool.bytes, sizeof(pool.bytes), 0) != (ssize_t)sizeof(pool.bytes)) {
            fallback(out, n);
            return;
        }
        pool.left = sizeof(pool.bytes);
        pool.at_forks = now;
    }
    unsigned char *from = pool.bytes + sizeof(pool.bytes) - pool.left;
    memcpy(out, from, n);
    memset(from, 0, n); /* handed out once: gone from the pool */
    pool.left -= n;
}
