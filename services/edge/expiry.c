/* One list and one timer for deadlines of one duration (see expiry.h). The
 * timer is set for the first node's deadline; a node stopped before it
 * leaves the timer as it is: it fires early, finds nothing due and is set
 * again, which costs less than setting it at every stop. */
#include "expiry.h"

#include <time.h>

#include "warren/err.h"

static int64_t now_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sets the timer for the first node's deadline (at least 1 µs on). */
static void arm(struct expiry *e, int64_t now)
{
    int64_t wait = e->first->due_us - now;
    if (wait < 1)
        wait = 1;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    (void)event_add(e->ev, &tv);
}

static void unlink_node(struct expiry *e, struct expiry_node *n)
{
    if (n->prev != NULL)
        n->prev->next = n->next;
    else
        e->first = n->next;
    if (n->next != NULL)
        n->next->prev = n->prev;
    else
        e->last = n->prev;
    n->prev = n->next = NULL;
    n->due_us = 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct expiry *e = arg;
    int64_t now = now_us();
    struct expiry_node *n;
    while ((n = e->first) != NULL && n->due_us <= now) {
        unlink_node(e, n);
        e->fire(n, e->arg);
    }
    if (e->first != NULL && !event_pending(e->ev, EV_TIMEOUT, NULL))
        arm(e, now);
}

int expiry_init(struct expiry *e, struct event_base *base, int64_t duration_us, expiry_fn fire,
                void *arg)
{
    *e = (struct expiry){.duration_us = duration_us, .fire = fire, .arg = arg};
    e->ev = evtimer_new(base, on_timer, e);
    return e->ev != NULL ? 0 : WR_ENOMEM;
}

void expiry_release(struct expiry *e)
{
    if (e->ev != NULL)
        event_free(e->ev);
    e->ev = NULL;
    e->first = e->last = NULL;
}

void expiry_start(struct expiry *e, struct expiry_node *n)
{
    int64_t now = now_us();
    n->due_us = now + (e->duration_us > 0 ? e->duration_us : 1);
    n->next = NULL;
    n->prev = e->last;
    if (e->last != NULL)
        e->last->next = n;
    else
        e->first = n;
    e->last = n;
    if (e->first == n && !event_pending(e->ev, EV_TIMEOUT, NULL))
        arm(e, now);
}

void expiry_stop(struct expiry *e, struct expiry_node *n)
{
    if (expiry_started(n))
        unlink_node(e, n);
}
