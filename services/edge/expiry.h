/* Deadlines of one fixed duration for many things, in one list and one
 * timer. Every deadline is the same time after its start, so the list kept
 * in start order is in deadline order too: starting and stopping one are
 * O(1), and a loop holds one event for all of them where an event each
 * cost ~150 bytes (10,000 calls in flight: 1.5 MB). Nodes live inside
 * their owners. One loop's, not thread-safe. */
#ifndef EDGE_EXPIRY_H
#define EDGE_EXPIRY_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct expiry_node {
    struct expiry_node *prev, *next;
    int64_t due_us; /* 0: not started (or stopped, or fired) */
};

/* Called for a node whose deadline passed, out of the list already: the
 * callback may free its owner and start or stop any node. */
typedef void (*expiry_fn)(struct expiry_node *n, void *arg);

struct expiry {
    struct event *ev;
    struct expiry_node *first, *last;
    int64_t duration_us;
    expiry_fn fire;
    void *arg;
};

/* 0, or WR_ENOMEM (e is then safe to release). */
int expiry_init(struct expiry *e, struct event_base *base, int64_t duration_us, expiry_fn fire,
                void *arg);
/* Frees the timer; nodes still started are forgotten, never fired. */
void expiry_release(struct expiry *e);

/* Starts n's deadline now: it fires duration_us from now unless stopped.
 * n must not be started. */
void expiry_start(struct expiry *e, struct expiry_node *n);
/* Stops n's deadline; a no-op for a node not started. */
void expiry_stop(struct expiry *e, struct expiry_node *n);
/* Whether n's deadline runs. */
static inline bool expiry_started(const struct expiry_node *n)
{
    return n->due_us != 0;
}

#endif
