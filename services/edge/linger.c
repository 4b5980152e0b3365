/* Lingering closes (see linger.h): each one an event of its own on a
 * duplicate descriptor, freed by itself when it ends. */
#include "linger.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINGER_MS 1000L
#define LINGER_BYTES (256UL * 1024UL)

struct lingering {
    struct lingers *owner;
    struct lingering *prev, *next;
    int fd;
    struct event *ev;
    size_t dropped;
    struct timespec end;
};

static long ms_left(const struct timespec *end)
{
    struct timespec now;
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    return (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
}

static void linger_end(struct lingering *l)
{
    if (l->prev != NULL)
        l->prev->next = l->next;
    else
        l->owner->first = l->next;
    if (l->next != NULL)
        l->next->prev = l->prev;
    event_free(l->ev);
    (void)close(l->fd);
    free(l);
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    struct lingering *l = arg;
    char drop[4096];
    ssize_t r = (what & EV_READ) ? recv(fd, drop, sizeof(drop), MSG_DONTWAIT) : 0;
    if (r > 0)
        l->dropped += (size_t)r;
    long left = ms_left(&l->end);
    if (r <= 0 || left <= 0 || l->dropped >= LINGER_BYTES) {
        linger_end(l);
        return;
    }
    struct timeval tv = {left / 1000, (left % 1000) * 1000};
    if (event_add(l->ev, &tv) != 0)
        linger_end(l);
}

void linger_close(struct lingers *ls, int fd)
{
    struct lingering *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return;
    l->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    l->ev = l->fd >= 0 ? event_new(ls->base, l->fd, EV_READ, on_linger, l) : NULL;
    struct timeval tv = {LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
    if (l->ev == NULL || event_add(l->ev, &tv) != 0) {
        if (l->ev != NULL)
            event_free(l->ev);
        if (l->fd >= 0)
            (void)close(l->fd);
        free(l);
        return;
    }
    (void)clock_gettime(CLOCK_MONOTONIC, &l->end);
    l->end.tv_sec += LINGER_MS / 1000;
    (void)shutdown(l->fd, SHUT_WR);
    l->owner = ls;
    l->next = ls->first;
    if (l->next != NULL)
        l->next->prev = l;
    ls->first = l;
}

void linger_release(struct lingers *ls)
{
    if (ls == NULL)
        return;
    struct lingering *l = ls->first;
    ls->first = NULL;
    while (l != NULL) {
        struct lingering *next = l->next;
        event_free(l->ev);
        (void)close(l->fd);
        free(l);
        l = next;
    }
}
