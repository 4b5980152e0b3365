/* The stall guard of an edge loop's broker connection (see busguard.h): a
 * thread that wakes four times per stall bound and shuts down the socket
 * of a call that has lasted longer. One mutex orders the loop's enter and
 * leave against the thread's look, so the thread never touches a socket
 * the loop has left (and may have closed, its number reused). */
#include "busguard.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "warren/clock.h"

struct busguard {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* signalled only to stop */
    pthread_t thread;
    long stall_ms;
    int fd;             /* the socket of the call in progress, or -1 */
    long long since_ms; /* when that call began (steady clock) */
    bool cut;           /* the thread shut fd down during this call */
    bool stop;
};

static void *watch(void *arg)
{
    busguard *g = arg;
    long tick_ms = g->stall_ms / 4 > 0 ? g->stall_ms / 4 : 1;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        if (g->fd >= 0 && !g->cut && wr_steady_ms() - g->since_ms >= g->stall_ms) {
            /* the call wakes with an error at once: poll sees a hang-up */
            (void)shutdown(g->fd, SHUT_RDWR);
            g->cut = true;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += tick_ms / 1000;
        until.tv_nsec += (tick_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&g->wake, &g->mu, &until);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

busguard *busguard_new(long stall_ms)
{
    busguard *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->stall_ms = stall_ms;
    g->fd = -1;
    pthread_condattr_t ca;
    bool cond_ok = false;
    if (pthread_condattr_init(&ca) == 0) {
        cond_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                  pthread_cond_init(&g->wake, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!cond_ok) {
        free(g);
        return NULL;
    }
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        pthread_cond_destroy(&g->wake);
        free(g);
        return NULL;
    }
    if (pthread_create(&g->thread, NULL, watch, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->wake);
        free(g);
        return NULL;
    }
    return g;
}

void busguard_free(busguard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->wake);
    free(g);
}

void busguard_enter(busguard *g, int fd)
{
    long long now = wr_steady_ms();
    pthread_mutex_lock(&g->mu);
    g->fd = fd;
    g->since_ms = now;
    g->cut = false;
    pthread_mutex_unlock(&g->mu);
}

bool busguard_leave(busguard *g)
{
    pthread_mutex_lock(&g->mu);
    bool cut = g->cut;
    g->fd = -1;
    g->cut = false;
    pthread_mutex_unlock(&g->mu);
    return cut;
}
