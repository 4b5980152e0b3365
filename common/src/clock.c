/* The clocks of warren/clock.h: the real-time clock for people, a steady
 * (monotonic, epoch-anchored at first use) clock for deadlines and
 * durations, a thread's CPU clock for work done, and condition variables
 * that wait on the monotonic clock. */
#include "warren/clock.h"

/* The monotonic clock in ms. */
static long long mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long wr_thread_cpu_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long wr_now_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long wr_now_ms(void)
{
    return wr_now_us() / 1000;
}

/* real-time minus monotonic at the first call: fixed for the process's life */
static long long steady_offset;
static pthread_once_t steady_once = PTHREAD_ONCE_INIT;

static void steady_init(void)
{
    steady_offset = wr_now_ms() - mono_ms();
}

long long wr_steady_ms(void)
{
    (void)pthread_once(&steady_once, steady_init);
    return mono_ms() + steady_offset;
}

int wr_cond_init_steady(pthread_cond_t *c)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc != 0)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(c, &attr);
    (void)pthread_condattr_destroy(&attr);
    return rc;
}

struct timespec wr_steady_timespec(long long ms)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    if (ms > 0) {
        long long ns = ts.tv_nsec + (ms % 1000) * 1000000LL;
        ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
    }
    return ts;
}
